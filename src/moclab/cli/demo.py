"""`moclab demo`: the main job on an embedded default, end to end, with nothing to prepare.

The demo simulates a realistic multi-site study of the recipients' experience pathway (Metz et al. 2024:
implementation support → affective response → acceptability, appropriateness, feasibility → knowledge and
application → sustained capacity), with the default simulation spec shipped for that template, coded
interviews included. It checks the study and prints its summary, judges every pathway on the seven criteria
for a mechanism, writes the offline HTML report, and analyses the interviews. Everything goes to one output
folder; the demo never writes into a folder it did not create itself, and ends with the report's path.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from moclab.errors import MissingExtraError, MoclabError, display_path, require

DEMO_TEMPLATE = "recipient-pathway"
DEMO_MARKER = ".moclab-demo"
#: The extras the demo needs beyond the core, each with a module it brings: the coded interviews, the report.
DEMO_EXTRAS = (("qual", "defusedxml"), ("report", "jinja2"))


def _check_extras() -> None:
    """Name every missing extra at once, before the simulation rather than after it."""
    missing = []
    for extra, module in DEMO_EXTRAS:
        try:
            require(module, extra, "the demo")
        except MissingExtraError:
            missing.append(extra)
    if missing:
        raise MissingExtraError("the demo", ",".join(missing))


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
    (folder / DEMO_MARKER).write_text("written by `moclab demo`; the demo replaces its files here\n")
    # A folder the demo wrote earlier: its own subfolders are replaced as a whole.
    for name in ("study", "report", "interviews"):
        shutil.rmtree(folder / name, ignore_errors=True)


def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the demo's files.")] = Path(
        "demo-output"
    ),
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples per analysis.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation and of every analysis.")] = 2024,
    sites: Annotated[
        int | None, typer.Option("--sites", help="Number of sites (default: the template's spec, 40).")
    ] = None,
) -> None:
    """Simulate a multi-site study of the recipient pathway, judge its mechanisms, write the report."""
    from moclab.evidence import analyze
    from moclab.qual import read_project
    from moclab.qual.analyses import analyze_project
    from moclab.report import write_report
    from moclab.simulate import default_spec, simulate_study
    from moclab.simulate.plan import coerce_model
    from moclab.study import validate_study

    _check_extras()
    console = Console(highlight=False, soft_wrap=True)
    _prepare_folder(output)

    console.rule("1. A simulated study of the recipients' experience pathway (synthetic data)")
    model = coerce_model(DEMO_TEMPLATE)
    spec = default_spec(model)
    if sites is not None:
        spec = spec.with_design(sites=sites)
    simulated = simulate_study(model, spec, seed=seed)
    study_folder = simulated.write(output / "study")
    report = validate_study(study_folder, show_progress=False)
    console.print(report.summary)
    console.print(f"The known truth of the simulation is in {display_path(study_folder / 'truth.json')}.")

    console.rule("2. The seven criteria for each hypothesised mechanism")
    evidence = analyze(report.study, n_boot=n_boot, seed=seed)
    console.print(evidence.scorecard.rich_table(compact=console.width < 150))
    console.print("✓ met  ◐ partly met  ✗ not met  ? not testable   (rules: docs/criteria.md)")

    console.rule("3. The coded interviews")
    interviews = study_folder / "qual" / "project.qdpx"
    if interviews.exists():
        run = analyze_project(read_project(interviews), output / "interviews")
        console.print(f"Episode profiles, the experience-pathway diagram and agreement tables: {run.folder}")

    console.rule("4. The report")
    page = write_report(evidence, output / "report", study=report.study)
    console.print("Open it in a browser (it works offline):")
    console.print(str(Path(page).resolve()))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("demo")(demo)
