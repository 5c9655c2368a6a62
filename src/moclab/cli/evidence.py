"""`moclab analyze STUDY`: judge every pathway of a study on the seven criteria and print the scorecard.

Everything the command was given is checked before the analysis starts: the report folder (``-o``, by the
rules of docs/cli.md), the `report` extra it needs, the study and every replication. It then prints a summary
that fits one screen (`print_summary`: the scorecard with one line per pathway, the pathways grouped by
their conclusion, and where the details are); ``--verbose`` prints the whole matrix and, per pathway, every
verdict with its number, reason and design change; ``--json`` prints the whole analysis as JSON. ``-o
REPORT/`` also writes the report (`moclab.report.write_report`: the HTML page and report.json) and one
evidence record per pathway in ``REPORT/records/`` (`moclab.evidence.records`, for `moclab map`).
"""

from __future__ import annotations

import json
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from moclab.cli.conventions import check_output_folder, mark_output_folder
from moclab.cli.output import errors_exit

if TYPE_CHECKING:
    from moclab.evidence import StudyEvidence


class MissingData(StrEnum):
    """How `moclab analyze --missing` treats recipients with missing values (the setting evidence.missing)."""

    listwise = "listwise"
    imputation = "imputation"
    weights = "weights"


def print_key(console: Console, *, compact: bool) -> None:
    """The key of the scorecard's symbols and, for the compact table, of its one-letter headers."""
    from moclab.evidence.verdicts import CRITERIA

    key = "✓ met  ◐ partly met  ✗ not met  ? not testable"
    if compact:
        key += "; " + ", ".join(f"{c.short[0].upper()} {c.name.lower()}" for c in CRITERIA)
    console.print(f"{key} (rules: docs/criteria.md)", style="dim")


def print_scorecard(console: Console, evidence: StudyEvidence, *, verbose: bool) -> None:
    """The scorecard as `moclab analyze` prints it: `print_summary`, or with `verbose` the whole matrix and
    every verdict's number, reason and design change."""
    if not verbose:
        print_summary(console, evidence)
        return
    compact = console.width < 150
    console.print(evidence.scorecard.rich_table(compact=compact))
    print_key(console, compact=compact)
    console.print(evidence.scorecard.details())


def print_summary(console: Console, evidence: StudyEvidence) -> None:
    """The scorecard on one screen: a line per pathway in the matrix, then the pathways grouped by conclusion.

    Every line fits the console's width (labels are cut with an ellipsis, groups wrap under their grade);
    the reasons behind each conclusion and verdict are in the report and in ``--verbose``.
    """
    from moclab.evidence.conclusion import GRADES

    table = evidence.scorecard.rich_table(compact=True)
    # As wide as the longest label needs (the other columns take 46 characters), at most the terminal.
    longest = max((len(cell) for cell in table.columns[0].cells), default=0)
    console.print(table, width=min(console.width, max(longest, len(table.columns[0].header)) + 46))
    print_key(console, compact=True)
    console.print("\n[bold]Conclusions[/] (the reasons: --verbose, or the report)")
    groups: dict[str, list[str]] = {}
    for pathway in evidence.pathways:
        grade = pathway.conclusion.grade if pathway.conclusion is not None else "not testable"
        groups.setdefault(grade, []).append(pathway.plan.plan_label(without_strategy=True))
    width = max(console.width, 40)
    for grade in (g for g in GRADES if g in groups):
        head = f"  {grade} ({len(groups[grade])}): "
        lines = textwrap.wrap(head + "; ".join(groups[grade]), width, subsequent_indent=" " * 4)
        text = Text("\n".join(lines))
        text.stylize("bold", 0, len(head))
        console.print(text, no_wrap=True, overflow="fold")
    if "supported under stated assumptions" in groups:
        note = (
            "supported* = supported under stated assumptions: the mechanism → outcome link is read causally "
            "only if nothing unmeasured drives both; each conclusion names its assumptions."
        )
        wrapped = textwrap.wrap(note, width, initial_indent="  ", subsequent_indent="    ")
        console.print("\n".join(wrapped), style="dim", no_wrap=True, overflow="fold")


def analyze(
    study: Annotated[Path, typer.Argument(help="The study folder (or its moclab.yaml).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report (HTML and report.json) into this folder."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the report of an earlier `moclab analyze` in -o.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole analysis as JSON.")] = False,
    n_boot: Annotated[
        int | None,
        typer.Option("--n-boot", min=1, help="Bootstrap resamples (default: the study's, or 5000)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed of every random draw (reproducible).")
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
    missing: Annotated[
        MissingData | None,
        typer.Option(
            "--missing",
            help="Recipients with missing values in the mediation models: listwise (drop), imputation "
            "(multiple imputation) or weights (retention weights); the setting evidence.missing.",
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", help="Print the whole matrix, every verdict's reason and design change."),
    ] = False,
) -> None:
    """Judge every pathway of a study on the seven criteria for a mechanism; print the scorecard."""
    from moclab.evidence import analyze as run_analysis
    from moclab.study import load_study

    console = Console(highlight=False)
    chosen = list(pathway) if pathway else None
    options: dict[str, str] = {"mediation": "multilevel"} if multilevel else {}
    if missing is not None:
        options["missing"] = missing.value
    others = list(replication or [])
    with errors_exit():
        if output is not None:  # the folder and the `report` extra are checked before the analysis runs
            from moclab.report import environment, write_report

            check_output_folder(output, force=force, command="analyze", inputs=[study, *others])
            environment()
        loaded = load_study(study)
        replications = [load_study(other) for other in others]
        evidence = run_analysis(
            loaded,
            options,
            pathways=chosen,
            n_boot=n_boot,
            seed=seed,
            replications=[
                run_analysis(other, options, pathways=chosen, n_boot=n_boot, seed=seed)
                for other in replications
            ],
        )
        if output is not None:
            from moclab.evidence.records import RECORDS_FOLDER, records_from_evidence, write_records

            mark_output_folder(output, "analyze")
            page = write_report(evidence, output, study=loaded)
            write_records(records_from_evidence(evidence, loaded), output / RECORDS_FOLDER)
    if as_json:
        typer.echo(json.dumps(evidence.to_dict(), indent=2, ensure_ascii=False, allow_nan=False))
        return
    settings = evidence.settings
    count = len(evidence.pathways)
    console.print(
        f"[bold]{evidence.study['title']}[/]: {count} pathway{'s' if count != 1 else ''}; "
        f"{settings.n_boot} resamples, seed {settings.seed}, {settings.level:.0%} intervals"
    )
    print_scorecard(console, evidence, verbose=verbose)
    if output is not None:  # a path is never broken over lines
        console.print(f"\nReport (every number, reason and design change): {page}", soft_wrap=True)
    elif not verbose:
        console.print("\nEvery verdict's reason and design change: --verbose; the HTML report: -o REPORT/")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("analyze")(analyze)
