"""`moclab instruments list | show ID` and `moclab score STUDY`.

`instruments` prints the instrument registry (bundled files plus ``--path`` files): items, keys, subscales,
scoring rule, citation, licence, and which facts are not verified. `score` loads a study and prints its
score report (`moclab.study.score_report`): per measure and wave the scale scores, the reliability and, for
team- and organization-level measures, whether aggregation is justified. This module only parses arguments
and prints.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from moclab.catalog.entries import VERIFICATION_LEVELS
from moclab.catalog.instruments import Instrument, InstrumentRegistry
from moclab.cli.conventions import check_output_file, replacing_file
from moclab.cli.output import errors_exit
from moclab.errors import StudyError, display_path

if TYPE_CHECKING:
    from moclab.study.score_report import ScoreReport

instruments_app = typer.Typer(
    name="instruments",
    help="Validated questionnaires (AIM, IAM, FIM, ORIC, ICS, ILS, psychological safety): list, show.",
    no_args_is_help=True,
)

PathOption = Annotated[
    list[Path] | None,
    typer.Option("--path", "-p", help="Your own instrument file or folder of them (repeatable)."),
]

NOT_VERIFIED = "yellow"


def _console() -> Console:
    # Piped or captured output would otherwise be cut at 80 columns; 120 keeps tables readable in files.
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 120
    return Console(highlight=False, width=width)


def _unverified(instrument: Instrument) -> Text:
    facts = instrument.unverified_facts
    if not facts:
        return Text("verified")
    return Text("not verified: " + ", ".join(facts), style=NOT_VERIFIED)


@instruments_app.command("list")
def list_command(path: PathOption = None) -> None:
    """List the instruments: items, scale, scoring, level, and which facts are not verified."""
    registry = InstrumentRegistry.load(path or ())
    table = Table(title="Instruments", show_lines=False)
    table.add_column("id", no_wrap=True)
    for column in ("name", "items", "scale", "scoring", "level", "subscales", "verification"):
        table.add_column(column)
    for instrument in registry:
        name = instrument.name + (f" ({instrument.short_name})" if instrument.short_name else "")
        table.add_row(
            instrument.id,
            name,
            str(len(instrument.items)),
            f"{instrument.scale.minimum}-{instrument.scale.maximum}",
            instrument.scoring,
            instrument.level,
            str(len(instrument.subscales)) if instrument.subscales else "-",
            _unverified(instrument),
        )
    console = _console()
    console.print(table)
    console.print("Show one with `moclab instruments show ID`; facts marked 'not verified' need checking.")


@instruments_app.command("show")
def show_command(
    instrument_id: Annotated[
        str, typer.Argument(metavar="ID", help="An instrument id or short name (aim, ORIC).")
    ],
    path: PathOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the instrument as JSON.")] = False,
) -> None:
    """Show one instrument: items with keys and subscales, scale, scoring, citation, licence, verification."""
    instrument = InstrumentRegistry.load(path or ()).get(instrument_id)
    if as_json:
        typer.echo(json.dumps(instrument.to_dict(), indent=2, ensure_ascii=False))
        return
    console = _console()
    title = instrument.name + (f" ({instrument.short_name})" if instrument.short_name else "")
    console.print(f"[bold]{escape(title)}[/]  id: {instrument.id}")
    scale = instrument.scale
    labels = ", ".join(f"{value} = {text}" for value, text in sorted(scale.labels.items()))
    scoring = (
        f"{instrument.scoring} of the answered items (prorated), at least {instrument.min_items} of "
        f"{len(instrument.items)} answered"
    )
    facts = [
        ("level", instrument.level),
        ("measures", instrument.construct or "-"),
        ("response scale", f"{scale.minimum}-{scale.maximum}" + (f" ({labels})" if labels else "")),
        ("scoring", scoring),
        ("reverse keyed", ", ".join(instrument.reverse_items) or "none"),
        ("citation", instrument.citation),
        ("doi", instrument.doi or "-"),
        ("url", instrument.url or "-"),
        ("licence", instrument.licence),
        ("defined in", instrument.defined_in),
    ]
    header = Table.grid(padding=(0, 2))
    header.add_column(style="bold")
    header.add_column()
    for key, value in facts:
        header.add_row(key, escape(value))
    console.print(header)

    items = Table(title="Items" + ("" if instrument.has_wording else " (labels only; wording not shipped)"))
    for column in ("#", "id", "wording" if instrument.has_wording else "label", "reverse", "subscale"):
        items.add_column(column)
    for item in instrument.items:
        items.add_row(
            str(item.number),
            item.id,
            escape(item.text or item.label),
            Text("reverse", style="bold") if item.reverse else Text(""),
            item.subscale or "",
        )
    console.print(items)
    if instrument.placeholder:
        console.print(
            f"{instrument.placeholder} stands for what is rated; substitute its name when you collect."
        )
    if instrument.subscales:
        subscales = Table(title="Subscales")
        for column in ("id", "name", "items", "min_items"):
            subscales.add_column(column)
        for sid, members in instrument.subscales.items():
            subscales.add_row(
                sid,
                escape(instrument.subscale_names.get(sid, sid)),
                ", ".join(members),
                str(instrument.subscale_min_items[sid]),
            )
        console.print(subscales)
    verification = Table(title="Verification against the sources")
    verification.add_column("fact")
    verification.add_column("level")
    for fact, level in instrument.verification.items():
        style = "" if level in ("verified", "verified_secondary") else NOT_VERIFIED
        verification.add_row(fact, Text(VERIFICATION_LEVELS[level], style=style))
    console.print(verification)
    if instrument.verification_note:
        console.print(escape(instrument.verification_note))
    if instrument.notes:
        console.print(f"\n[bold]Notes[/]: {escape(instrument.notes)}")


# --------------------------------------------------------------------------------------------------------
# moclab score
# --------------------------------------------------------------------------------------------------------


def _number(value: Any, digits: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "-" if math.isnan(number) else f"{number:.{digits}f}"


def _print_report(console: Console, report: ScoreReport) -> None:
    summary = Table(title="Scale scores (mean of the answered items, prorated)")
    for column in ("measure", "scale", "wave", "n", "mean", "sd", "prorated", "missing"):
        summary.add_column(
            column, justify="right" if column in ("n", "mean", "sd", "prorated", "missing") else "left"
        )
    for row in report.summary.itertuples():
        summary.add_row(
            row.measure, row.scale, str(row.wave), str(row.n), _number(row.mean), _number(row.sd),
            str(row.prorated), str(row.missing),
        )  # fmt: skip
    console.print(summary)
    if len(report.reliability):
        table = Table(
            title="Reliability per scale and wave (alpha: Feldt CI; omega: bootstrap percentile CI)"
        )
        for column in ("scale", "wave", "coefficient", "estimate", "95% CI", "n", "k"):
            table.add_column(column)
        for row in report.reliability.itertuples():
            table.add_row(
                row.scale, str(row.wave), row.coefficient, _number(row.estimate, 3),
                f"[{_number(row.ci_low, 3)}, {_number(row.ci_high, 3)}]", str(row.n), str(row.k),
            )  # fmt: skip
        console.print(table)
        for note in report.reliability_warnings:
            console.print(Text(f"warning: {note}", style=NOT_VERIFIED))
    if len(report.aggregation):
        table = Table(
            title="Aggregation to the group: agreement rwg(j) and ICCs", caption=report.icc_estimator
        )
        for column in (
            "scale",
            "level",
            "wave",
            "groups",
            "median rwg",
            "ICC(1)",
            "ICC(2)",
            "F p",
            "justified",
        ):
            table.add_column(column)
        for row in report.aggregation.itertuples():
            table.add_row(
                row.measure, row.level, str(row.wave), str(row.groups), _number(row.median_rwg),
                _number(row.icc1, 3), _number(row.icc2, 3), _number(row.p, 3),
                Text("yes", style="green") if row.justified else Text("no", style=NOT_VERIFIED),
            )  # fmt: skip
        console.print(table)
        for note in report.aggregation_warnings:
            console.print(Text(f"warning: {note}", style=NOT_VERIFIED))
    if report.issues:
        console.print(f"{len(report.issues)} item responses were left out of scoring:")
        for issue in report.issues[:10]:
            console.print(
                f"  {issue['measure']}: respondent {issue['respondent']}, wave {issue['wave']}, "
                f"{issue['field']} = {issue['value']!r} {issue['problem']}",
                markup=False,
            )
        if len(report.issues) > 10:
            console.print(f"  and {len(report.issues) - 10} more (see --json)")


def score(
    study: Annotated[Path, typer.Argument(help="The study folder (or its moclab.yaml).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the scale scores (long CSV) to this file.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --output file if it exists.")] = False,
    n_boot: Annotated[
        int, typer.Option("--n-boot", min=0, help="Bootstrap resamples for omega's interval.")
    ] = 1000,
    seed: Annotated[
        int | None,
        typer.Option("--seed", min=0, help="Seed of the bootstrap (default: drawn, and printed)."),
    ] = None,
) -> None:
    """Score a study's instruments; print scale scores, reliability and aggregation checks per wave."""
    from moclab.study import load_study
    from moclab.study.score_report import score_report

    with errors_exit():
        if output is not None:
            check_output_file(output, force=force, inputs=[study])
        loaded = load_study(study, show_progress=not as_json)
        if loaded.scores is None or not loaded.scores.results:
            raise StudyError(
                f"{display_path(study)}: no measure is scored from instrument items",
                hint="declare `instrument: <id>` for a measure in moclab.yaml (`moclab instruments list`)",
            )
        report = score_report(loaded, n_boot=n_boot, seed=seed)
        if output is not None and report.scores is not None:
            with replacing_file(output) as temporary:
                report.scores.to_frame().to_csv(temporary, index=False, lineterminator="\n")
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    console = _console()
    console.print(
        f"[bold]{escape(loaded.title)}[/]"
        + (" (synthetic data)" if loaded.synthetic else "")
        + f"; {report.n_boot} bootstrap resamples, seed {report.seed}"
    )
    _print_report(console, report)
    if output is not None:
        console.print(f"Wrote the scale scores to {display_path(output)}.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.add_typer(instruments_app)
    app.command("score")(score)
