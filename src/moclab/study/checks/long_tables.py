"""The long tables, measures and outcomes: values of known units and declared waves, one value per unit,
wave and measure, declared ranges, dates in wave order, undeclared measures; then the instrument measures are
scored from their item rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moclab.errors import close_matches, suggestion_hint
from moclab.study.checks.column_rules import bounds_text, prepare
from moclab.study.rows import MAX_LISTED, quoted, row_problem
from moclab.study.scoring import score_measures
from moclab.study.sources.study_sources import add_source_rows
from moclab.study.tables import TableSource

if TYPE_CHECKING:
    from moclab.study.checks.checker import StudyChecker


def check_measures(checker: StudyChecker) -> None:
    """Long-format values: known recipients and waves, one value per cell, ranges, dates in wave order;
    then the instrument measures are scored from their item rows."""
    _check_long(checker, "measures")
    add_source_rows(checker)  # item responses from the exports under `sources:` (docs/sources.md)
    score_instruments(checker)


def score_instruments(checker: StudyChecker) -> None:
    """Score the instrument measures; responses left out are reported by line, as warnings."""
    frame = checker.tables.get("measures")
    config = checker.config
    assert config is not None
    spec = config.tables.measures
    if frame is None or checker.plan is None or not checker.plan.uses:
        return
    if any(column not in frame.columns for column in (spec.recipient, spec.wave, spec.measure, spec.value)):
        return
    checker.scores = score_measures(frame, config, checker.plan)
    source = checker.sources["measures"]
    for measure, result in checker.scores.results.items():
        by_problem: dict[str, list[Any]] = {}
        for issue in result.issues:
            by_problem.setdefault(issue.problem, []).append(issue)
        for problem, issues in by_problem.items():
            instrument = result.instrument
            checker.report(
                row_problem(
                    source,
                    [issue.row for issue in issues],
                    f"item response {problem} of instrument '{instrument.id}' (measure '{measure}'); "
                    "left out of scoring, the other items are still scored",
                    column=spec.value,
                    details=[f"{i.respondent} / {i.wave} / {i.field} = {i.value}" for i in issues],
                    hint=issues[0].hint,
                    severity="warning",
                )
            )
    disagreements = checker.scores.disagreements
    if len(disagreements):
        first = disagreements.iloc[0]
        checker.warn(
            f"{len(disagreements)} scale scores written in the data differ from the score of their items "
            f"(first: {first[spec.recipient]} / {first[spec.wave]} / {first[spec.measure]}: given "
            f"{first['given']:g}, items give {first['scored']:g}); the score of the items is used",
            file=source.shown,
            field=spec.measure,
            hint="remove the written scale scores, or check the items and their reverse keys",
        )


def check_outcomes(checker: StudyChecker) -> None:
    """Like measures, for units of the outcomes table's level."""
    _check_long(checker, "outcomes")


def _check_long(checker: StudyChecker, name: str) -> None:
    frame = prepare(checker, name)
    checker.tables[name] = frame
    if frame is None or frame.empty:
        return
    config = checker.config
    assert config is not None
    source = checker.sources[name]
    spec = getattr(config.tables, name)
    level = config.design.unit if name == "measures" else (spec.level or config.design.cluster)
    unit = spec.recipient if name == "measures" else spec.id
    known = checker.units(level)
    if known is not None:
        orphan = (frame[unit].notna() & ~frame[unit].isin(known)).to_numpy()
        if orphan.any():
            positions = np.flatnonzero(orphan)
            recipients = checker.sources.get("recipients")
            where = recipients.shown if recipients else config.tables.recipients.path
            checker.report(
                row_problem(
                    source,
                    positions,
                    f"no such {level} in {where}",
                    column=unit,
                    details=quoted(frame[unit].iloc[positions[:MAX_LISTED]].tolist()),
                    hint=f"correct the id, or add the {level} to {where}",
                )
            )
    keys = [unit, spec.wave, spec.measure]
    complete = frame[keys].notna().all(axis=1).to_numpy()
    duplicated = complete & frame.duplicated(keys, keep="first").to_numpy()
    if duplicated.any():
        positions = np.flatnonzero(duplicated)
        details = []
        for position in positions[:MAX_LISTED]:
            row = frame.iloc[position]
            same = (frame[keys] == row[keys]).all(axis=1).to_numpy()
            details.append(
                f"{row[unit]} / {row[spec.wave]} / {row[spec.measure]} "
                f"(also on {source.where(int(np.argmax(same)) + 1)})"
            )
        checker.report(
            row_problem(
                source,
                positions,
                f"more than one value for the same {level}, wave and measure",
                column=spec.measure,
                details=details,
                hint="keep one row per combination; if these are items of a scale, score them first",
            )
        )
    _check_ranges(checker, name, frame, source)
    if spec.date is not None and spec.date in frame.columns:
        _check_wave_dates(checker, frame, source, unit, spec.wave, spec.date, level)
    _check_undeclared(checker, frame, source, spec.measure)


def _check_ranges(checker: StudyChecker, name: str, frame: pd.DataFrame, source: TableSource) -> None:
    config = checker.config
    assert config is not None
    spec = getattr(config.tables, name)
    ranges = {measure: s.range for measure, s in config.measures.items() if s.range is not None}
    if name == "measures" and checker.plan is not None:
        ranges = {**checker.plan.ranges(), **ranges}
    if not ranges or spec.value not in frame.columns:
        return
    names = frame[spec.measure]
    codes, distinct = pd.factorize(names)
    bounds = np.array([ranges.get(name, (np.nan, np.nan)) for name in distinct] + [(np.nan, np.nan)])
    low, high = bounds[codes, 0], bounds[codes, 1]  # code -1 (no measure name) picks the NaN row
    values = frame[spec.value].astype("float64")
    numbers = values.to_numpy()
    with np.errstate(invalid="ignore"):
        outside = ~np.isnan(numbers) & ((numbers < low) | (numbers > high))
    if not outside.any():
        return
    for measure in pd.unique(names[outside]):
        positions = np.flatnonzero(outside & (names == measure).to_numpy())
        lo, hi = ranges[measure]
        line = checker.at("measures", measure, "range")["line"] or checker.at("measures", measure)["line"]
        checker.report(
            row_problem(
                source,
                positions,
                f"outside the range {bounds_text(lo, hi)} declared for measure '{measure}'",
                column=spec.value,
                details=[f"{value:g}" for value in values.iloc[positions[:MAX_LISTED]]],
                hint="correct the value (a typing slip, or a different scale?), or the range under "
                f"measures.{measure} in moclab.yaml" + (f" (line {line})" if line else ""),
            )
        )


def _check_wave_dates(
    checker: StudyChecker,
    frame: pd.DataFrame,
    source: TableSource,
    unit: str,
    wave: str,
    date: str,
    level: str,
) -> None:
    """Per unit, the dates of a later wave may not fall before those of an earlier wave."""
    dated = frame[[unit, wave, date]].dropna()
    if dated.empty:
        return
    grouped = dated.groupby([unit, wave], observed=True, sort=True)[date]
    firsts = pd.DataFrame({"date": grouped.min(), "position": grouped.idxmin()}).reset_index()
    previous_date = firsts.groupby(unit)["date"].shift()
    previous_wave = firsts.groupby(unit)[wave].shift()
    early = (firsts["date"] < previous_date).to_numpy()
    if not early.any():
        return
    bad = firsts[early].assign(previous_date=previous_date[early], previous_wave=previous_wave[early])
    bad = bad.sort_values("position")
    details = [
        f"{row[unit]}: '{row[wave]}' on {row['date']:%Y-%m-%d} is before '{row['previous_wave']}' on "
        f"{row['previous_date']:%Y-%m-%d}"
        for _, row in bad.head(MAX_LISTED).iterrows()
    ]
    checker.report(
        row_problem(
            source,
            bad["position"].to_numpy(),
            f"a later wave is dated before an earlier wave of the same {level}",
            column=date,
            details=details,
            hint="check the date and the wave of these rows; waves are in the order of design.waves",
        )
    )


def _check_undeclared(checker: StudyChecker, frame: pd.DataFrame, source: TableSource, column: str) -> None:
    config = checker.config
    assert config is not None
    names = frame[column]
    present = pd.unique(names.dropna())
    known = set(config.measures) | checker.item_fields
    if checker.plan is not None:
        known |= set(checker.plan.score_owner)
    undeclared = [name for name in present if name not in known]
    declared = list(config.measures)
    items = sorted(checker.item_fields)
    for name in undeclared[:10]:
        close = close_matches(name, [*declared, *items], limit=1)
        if close and close[0] in checker.item_fields:
            owner, _item = checker.plan.field_owner[close[0]]
            message = (
                f"'{name}' is neither a declared measure nor an item of a declared instrument, so these "
                f"rows are not scored"
            )
            hint = f"{suggestion_hint(close)} ('{close[0]}' is an item of measure '{owner}')"
        else:
            message = f"measure '{name}' is not declared in moclab.yaml, so its values are not checked"
            advice = "declare it under measures: in moclab.yaml (label, range, node)"
            if close and close[0].casefold() == str(name).casefold():
                advice = "measure names are case-sensitive: write the name as declared"
            hint = f"{suggestion_hint(close)} {advice}" if close else advice
        checker.report(
            row_problem(
                source,
                np.flatnonzero((names == name).to_numpy()),
                message,
                column=column,
                hint=hint,
                severity="warning",
            )
        )
    if len(undeclared) > 10:
        checker.warn(
            f"and {len(undeclared) - 10} more undeclared measures: " + ", ".join(undeclared[10:20]),
            file=source.shown,
            field=column,
        )
