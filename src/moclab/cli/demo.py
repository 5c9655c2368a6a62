"""`moclab demo`: the main job on an embedded default, end to end, with nothing to prepare.

The demo simulates a realistic multi-site study of the recipients' experience pathway (Metz et al. 2024:
implementation support → affective response → acceptability, appropriateness, feasibility → knowledge and
application → sustained capacity), with the default simulation spec shipped for that template, coded
interviews included. It checks the study and prints its summary, judges every pathway on the seven criteria
for a mechanism, writes the offline HTML report, and analyses the interviews. Everything goes to one output
folder, checked before any work by the rules of docs/cli.md (an earlier demo's folder is replaced only with
``--force``, a folder of other files never); the demo ends with the report's path.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from moclab.cli.conventions import check_output_folder, mark_output_folder
from moclab.cli.evidence import print_scorecard
from moclab.cli.output import errors_exit
from moclab.errors import MissingExtraError, display_path, require

DEMO_TEMPLATE = "recipient-pathway"
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


def _clear_earlier_demo(folder: Path) -> None:
    """Remove the subfolders an earlier demo wrote into `folder`, which is replaced as a whole; other files
    the user put there are left alone."""
    for name in ("study", "report", "interviews"):
        shutil.rmtree(folder / name, ignore_errors=True)


def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the demo's files.")] = Path(
        "demo-output"
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Replace the files of an earlier `moclab demo` in -o.")
    ] = False,
    n_boot: Annotated[int, typer.Option("--n-boot", min=1, help="Bootstrap resamples per analysis.")] = 5000,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the simulation and of every analysis.")
    ] = 2024,
    sites: Annotated[
        int | None,
        typer.Option("--sites", min=1, help="Number of sites (default: the template's spec, 40)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Print every verdict's reason and design change.")
    ] = False,
) -> None:
    """Simulate a multi-site study of the recipient pathway, judge its mechanisms, write the report."""
    from moclab.evidence import analyze
    from moclab.qual import read_project
    from moclab.qual.analyses import analyze_project
    from moclab.report import write_report
    from moclab.simulate import default_spec, simulate_study
    from moclab.simulate.plan import coerce_model
    from moclab.study import validate_study

    console = Console(highlight=False)
    with errors_exit():
        folder = check_output_folder(output, force=force, command="demo")
        _check_extras()
        mark_output_folder(folder, "demo")
    _clear_earlier_demo(folder)
    output = folder

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
    print_scorecard(console, evidence, verbose=verbose)

    console.rule("3. The coded interviews")
    interviews = study_folder / "qual" / "project.qdpx"
    if interviews.exists():
        run = analyze_project(read_project(interviews), output / "interviews")
        console.print(f"Episode profiles, the experience-pathway diagram and agreement tables: {run.folder}")

    console.rule("4. The report")
    page = write_report(evidence, output / "report", study=report.study)
    console.print("Open it in a browser (it works offline):")
    console.print(str(Path(page).resolve()), soft_wrap=True)  # a path is never broken over lines


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("demo")(demo)
