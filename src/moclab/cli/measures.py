"""`moclab instruments list | show ID` and `moclab score STUDY`.

`instruments` prints the instrument registry (bundled files plus ``--path`` files): items, keys, subscales,
scoring rule, citation, licence, and which facts are not verified. `score` loads a study, scores its
instrument measures (`moclab.study.scoring`), and prints per measure and wave the scale scores, the
reliability (`moclab.analysis.reliability`) and, for team- and organization-level measures, whether
aggregation is justified (`moclab.analysis.aggregation`). This module only joins those layers and prints.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from moclab.catalog.entries import VERIFICATION_LEVELS
from moclab.catalog.instruments import Instrument, InstrumentRegistry
from moclab.errors import MoclabError, StudyError, display_path

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
#: Levels whose measures are aggregated to a group, and the design level that group is.
GROUP_LEVELS = {"team": "team", "site": "cluster", "organization": "cluster"}


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


@dataclass(frozen=True)
class ScoreReport:
    """What `moclab score` prints: score summaries, reliability and aggregation per measure and wave."""

    study: str
    summary: pd.DataFrame
    reliability: pd.DataFrame
    aggregation: pd.DataFrame
    issues: list[dict[str, Any]]
    aggregation_warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            clean = frame.astype(object).where(frame.notna(), None)
            return [
                {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                for row in clean.to_dict(orient="records")
            ]

        return {
            "study": self.study,
            "scores": records(self.summary),
            "reliability": records(self.reliability),
            "aggregation": records(self.aggregation),
            "aggregation_warnings": self.aggregation_warnings,
            "issues": self.issues,
        }


def _group_column(study: Any, level: str) -> str | None:
    role = GROUP_LEVELS.get(level)
    if role is None:
        return None
    recipients = study.config.tables.recipients
    return recipients.team if role == "team" else recipients.cluster


def _level(study: Any, measure: str, instrument: Instrument) -> str:
    spec = study.config.measures[measure]
    return spec.level if "level" in spec.model_fields_set else instrument.level


def build_score_report(study: Any, *, n_boot: int = 1000, seed: int = 20240619) -> ScoreReport:
    """Scores, reliability (alpha, omega) and aggregation checks of every instrument measure of a study."""
    from moclab.analysis.aggregation import aggregation_check
    from moclab.analysis.reliability import scale_reliability
    from moclab.study.scoring import score_study

    scores = score_study(study)
    recipients = study.recipients
    recipient_id = study.config.tables.recipients.id
    rng = np.random.default_rng(seed)
    summary_rows, reliability_frames, aggregation_rows, notes = [], [], [], []
    for measure, result in scores.results.items():
        detail = result.to_frame()
        wave_column = result.wave
        for (scale, wave), block in detail.groupby(["scale", wave_column], sort=False):
            summary_rows.append(
                {
                    "measure": measure,
                    "scale": scale,
                    "wave": wave,
                    "n": int(block["score"].notna().sum()),
                    "mean": float(block["score"].mean()),
                    "sd": float(block["score"].std()),
                    "prorated": int(block["prorated"].sum()),
                    "missing": int(block["score"].isna().sum()),
                }
            )
        level = _level(study, measure, result.instrument)
        group_column = _group_column(study, level)
        for scale in result.scales:
            items = result.items_of(scale)
            table = scale_reliability(
                items[result.scale_items(scale)], scale=scale, by=items[wave_column], n_boot=n_boot, seed=rng
            ).to_frame()
            reliability_frames.append(table.assign(measure=measure))
            if group_column is None or group_column not in recipients.columns:
                continue
            groups = items[[result.respondent]].merge(
                recipients[[recipient_id, group_column]].drop_duplicates(recipient_id),
                left_on=result.respondent,
                right_on=recipient_id,
                how="left",
            )[group_column]
            scale_scores = result.scores[scale]
            options = result.instrument.scale.maximum - result.instrument.scale.minimum + 1
            for wave in pd.unique(items[wave_column]):
                rows = (items[wave_column] == wave).to_numpy() & groups.notna().to_numpy()
                if rows.sum() < 3:
                    continue
                try:
                    check = aggregation_check(
                        items.loc[rows, result.scale_items(scale)],
                        groups[rows].to_numpy(),
                        scores=scale_scores[rows].to_numpy(),
                        options=options,
                        measure=scale,
                        level=level,
                    )
                except MoclabError as exc:
                    notes.append(f"{scale} at {wave}: {exc.message}")
                    continue
                aggregation_rows.append(check.to_frame().assign(wave=wave, measure_of=measure))
                notes += [f"{scale} at {wave}: {warning}" for warning in check.warnings]
    reliability = (
        pd.concat(reliability_frames, ignore_index=True).rename(columns={"group": "wave"})
        if reliability_frames
        else pd.DataFrame()
    )
    aggregation = pd.concat(aggregation_rows, ignore_index=True) if aggregation_rows else pd.DataFrame()
    issues = [
        {"measure": measure, **issue.to_dict()} for measure, found in scores.issues.items() for issue in found
    ]
    return ScoreReport(
        study=str(study.path),
        summary=pd.DataFrame(summary_rows),
        reliability=reliability,
        aggregation=aggregation,
        issues=issues,
        aggregation_warnings=notes,
    )


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
    if len(report.aggregation):
        table = Table(title="Aggregation to the group: agreement rwg(j) and ICCs (one-way ANOVA)")
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
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --output file if it exists.")] = False,
    n_boot: Annotated[
        int, typer.Option("--n-boot", min=0, help="Bootstrap resamples for omega's interval.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 20240619,
) -> None:
    """Score a study's instruments; print scale scores, reliability and aggregation checks per wave."""
    from moclab.study import load_study
    from moclab.study.scoring import score_study

    if output is not None and output.exists() and not force:
        raise StudyError(
            f"{display_path(output)} exists", hint="choose another file, or add --force to replace it"
        )
    loaded = load_study(study, show_progress=not as_json)
    if loaded.scores is None or not loaded.scores.results:
        raise StudyError(
            f"{display_path(study)}: no measure is scored from instrument items",
            hint="declare `instrument: <id>` for a measure in moclab.yaml (see `moclab instruments list`)",
        )
    report = build_score_report(loaded, n_boot=n_boot, seed=seed)
    if output is not None:
        score_study(loaded).to_frame().to_csv(output, index=False, lineterminator="\n")
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    console = _console()
    console.print(f"[bold]{escape(loaded.title)}[/]" + (" (synthetic data)" if loaded.synthetic else ""))
    _print_report(console, report)
    if output is not None:
        console.print(f"Wrote the scale scores to {display_path(output)}.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.add_typer(instruments_app)
    app.command("score")(score)
