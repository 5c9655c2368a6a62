"""`moclab demo`: the main job on the embedded example, end to end, with nothing to prepare.

The demo works on the bundled synthetic example study: it validates the study and prints its summary, draws
the study's pathway model (SVG and PNG) and exports it to lavaan syntax, then tests one hypothesised mechanism
(support arm → trust in the ISPs → acceptability) with a cluster bootstrap, and writes that result as a table
and a path diagram. Everything goes to one output folder; the demo never writes over a file it did not write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from moclab.errors import MoclabError, display_path

#: The mechanism the demo tests in the example study: arm → trust (at 6 months) → acceptability (6 months).
DEMO_PATHWAY = {"mechanism": "trust", "outcome": "acceptability", "wave": "m6"}
DEMO_MARKER = ".moclab-demo"


def _prepare_folder(folder: Path) -> None:
    """Create the output folder; refuse a non-empty folder the demo did not create earlier."""
    if folder.exists() and not folder.is_dir():
        raise MoclabError(f"{display_path(folder)} is a file", hint="give a folder name, e.g. -o demo-output")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / DEMO_MARKER).exists():
        raise MoclabError(
            f"{display_path(folder)} is not empty and was not written by `moclab demo`;"
            " refusing to write into it",
            hint="give another folder with -o, or move its contents away first",
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).write_text("written by `moclab demo`; the demo may replace files in this folder\n")


def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the demo's files.")] = Path(
        "demo-output"
    ),
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 2024,
) -> None:
    """Run moclab on the bundled example study: validate, summarise, draw, export, test a mechanism."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from moclab.analysis import mediate
    from moclab.model import render, to_lavaan
    from moclab.model.export import write_output
    from moclab.study import example_path, validate_study

    console = Console(highlight=False, soft_wrap=True)
    _prepare_folder(output)
    written: list[Path] = []

    console.rule("1. The example study (synthetic data, not real people)")
    report = validate_study(example_path(), show_progress=False)
    console.print(report.summary)
    study = report.study

    console.rule("2. Its pathway model")
    model = study.model
    written.append(render(model, output / "pathway.svg"))
    written.append(render(model, output / "pathway.png"))
    written.append(write_output(output / "pathway.lavaan", to_lavaan(model), "lavaan"))
    console.print(
        f"{model.title_or_id}: {len(model.nodes)} nodes, {len(model.edges)} edges, "
        f"{len(model.pathways_resolved())} pathways to test"
    )

    console.rule("3. Testing one mechanism: support → trust → acceptability")
    design = study.config.design
    wide = study.wide()
    data = wide[wide["wave"] == DEMO_PATHWAY["wave"]].copy()
    arm_column = study.config.tables.recipients.arm
    control = design.randomization.control
    # Code the randomized arm 1 = support, 0 = control, so a positive path means "support helps".
    data["intensive_support"] = (data[arm_column] != control).astype(float)
    result = mediate(
        data,
        x="intensive_support",
        m=DEMO_PATHWAY["mechanism"],
        y=DEMO_PATHWAY["outcome"],
        covariates=["years_experience"],
        cluster=design.cluster,
        ci="bca",
        n_boot=n_boot,
        seed=seed,
    )
    console.print(result.summary(digits=3), markup=False)
    result_table = output / "mediation-trust.csv"
    result.to_frame().to_csv(result_table)
    written.append(result_table)
    result_json = output / "mediation-trust.json"
    result_json.write_text(json.dumps(result.to_dict(), indent=2, default=str))
    written.append(result_json)
    ax = result.plot()
    figure_path = output / "mediation-trust.png"
    ax.figure.savefig(figure_path, dpi=150, bbox_inches="tight")
    plt.close(ax.figure)
    written.append(figure_path)

    console.rule("Files written")
    for path in written:
        console.print(f"  {display_path(path)}")
    console.rule("Next")
    console.print("  moclab example my-study                 # copy the example study to edit")
    console.print("  moclab validate my-study                # check it: every problem at once")
    console.print("  moclab draw my-study -o pathway.svg     # draw its pathway model")
    console.print("  docs/getting-started.md walks through it all.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("demo")(demo)
