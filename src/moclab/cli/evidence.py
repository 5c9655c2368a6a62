"""`moclab analyze STUDY`: judge every pathway of a study on the seven criteria and print the scorecard.

Prints the pathway × criterion matrix and, per pathway, every verdict with its number, reason and (when a
criterion is not met or cannot be tested) the design change; ``--json`` prints the whole analysis as JSON
instead; ``-o REPORT/`` also writes the report (`moclab.report.write_report`: the HTML page and report.json).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from moclab.cli.output import errors_exit


def analyze(
    study: Annotated[Path, typer.Argument(help="The study folder (or its moclab.yaml).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report (HTML and report.json) into this folder."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole analysis as JSON.")] = False,
    n_boot: Annotated[
        int | None, typer.Option("--n-boot", help="Bootstrap resamples (default: the study's, or 5000).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of every random draw (reproducible).")
    ] = None,
    pathway: Annotated[
        list[str] | None, typer.Option("--pathway", "-p", help="Judge only this pathway (repeatable).")
    ] = None,
    replication: Annotated[
        list[Path] | None,
        typer.Option(
            "--replication", help="Another study of the same pathways, for consistency (repeatable)."
        ),
    ] = None,
    multilevel: Annotated[
        bool,
        typer.Option(
            "--multilevel",
            help="Judge strong association on a multilevel mediation model (2-1-1 or 1-1-1) in clustered "
            "designs (the setting evidence.mediation: multilevel).",
        ),
    ] = False,
    details: Annotated[
        bool, typer.Option("--details/--no-details", help="Print every verdict's reason below the matrix.")
    ] = True,
) -> None:
    """Judge every pathway of a study on the seven criteria for a mechanism; print the scorecard."""
    from moclab.evidence import analyze as run_analysis
    from moclab.study import load_study

    console = Console(highlight=False, soft_wrap=True)
    chosen = list(pathway) if pathway else None
    options = {"mediation": "multilevel"} if multilevel else None
    with errors_exit():
        if output is not None:  # the report needs the `report` extra: say so before the analysis runs
            from moclab.report import environment, write_report

            environment()
        replications = [
            run_analysis(other, options, pathways=chosen, n_boot=n_boot, seed=seed)
            for other in (replication or [])
        ]
        loaded = load_study(study)
        evidence = run_analysis(
            loaded, options, pathways=chosen, n_boot=n_boot, seed=seed, replications=replications
        )
        report = write_report(evidence, output, study=loaded) if output is not None else None
    if as_json:
        typer.echo(json.dumps(evidence.to_dict(), indent=2, ensure_ascii=False, allow_nan=False))
        return
    settings = evidence.settings
    console.print(
        f"[bold]{evidence.study['title']}[/]: {len(evidence.pathways)} pathway(s); {settings.n_boot} "
        "resamples, "
        f"seed {settings.seed}, {settings.level:.0%} intervals"
    )
    console.print(evidence.scorecard.rich_table(compact=console.width < 150))
    console.print("✓ met  ◐ partly met  ✗ not met  ? not testable   (rules: docs/criteria.md)")
    console.print(
        "assoc = strong association, specif = specificity, consist = consistency, experim = experimental "
        "manipulation, timing = timeline, plausib = plausibility or coherence",
        style="dim",
    )
    if details:
        console.print(evidence.scorecard.details())
    if report is not None:
        console.print(f"\nReport written to {report}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("analyze")(analyze)
