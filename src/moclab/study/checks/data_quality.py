"""Data that would make `moclab analyze` fail or mislead, found before it runs: numbers no measure takes
(not finite, absurd magnitudes; a value far outside the others of a measure without a declared range),
measures missing for most recipients of a wave or an arm, and measures that do not vary.

A value outside a declared range is an error of `long_tables` and `column_rules` already; the checks here
cover what no range was declared for. Missingness is counted as the summary counts it, against the design:
every recipient of an arm at every wave the measure was collected at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from moclab.study.rows import MAX_LISTED, row_problem

if TYPE_CHECKING:
    from moclab.study.checks.checker import StudyChecker

#: No rating, count, duration or share measured in a study of people reaches this magnitude (the message
#: writes it as 1e12): such a value is a slip (an exponent, a pasted id) that would overflow the squares and
#: sums of the analyses.
ABSURD_MAGNITUDE = 1e12
#: A value this many interquartile ranges beyond the quartiles of its measure is flagged (Tukey's "far out"
#: fences use 3; 10 leaves skewed counts and durations alone and still finds a 55 typed for a 5).
FAR_OUT_IQRS = 10.0
#: A measure missing for more than this share of an arm's recipients at a wave is reported.
HEAVY_MISSING = 0.5


def check_data_quality(checker: StudyChecker) -> None:
    """Absurd and far-out numbers (every table), heavy missingness and constant measures (measures table)."""
    config = checker.config
    assert config is not None
    for name, spec in config.tables.items():
        frame = checker.tables.get(name)
        if frame is None or frame.empty or name not in checker.sources:
            continue
        unchecked = {
            column
            for column, declared in spec.columns.items()
            if declared.min is not None or declared.max is not None
        }
        for column in frame.columns:
            values = frame[column]
            if column in unchecked or not pd.api.types.is_numeric_dtype(values):
                continue
            if name in ("measures", "outcomes") and column == spec.value:
                values = values.where(~frame[spec.measure].isin(_ranged_measures(checker)))
            _check_magnitudes(checker, name, column, values)
    frame = checker.tables.get("measures")
    if frame is None or frame.empty:
        return
    _check_far_out(checker, frame)
    if checker.problems.errors:
        return  # missing and constant values are counted on tables that are otherwise right
    scored = _scored(checker, frame)
    _check_missingness(checker, scored)
    _check_constant(checker, scored)


def _ranged_measures(checker: StudyChecker) -> set[str]:
    """Measures whose values a declared (or instrument) range checks already."""
    config = checker.config
    assert config is not None
    ranged = {name for name, spec in config.measures.items() if spec.range is not None}
    if checker.plan is not None:
        ranged |= set(checker.plan.ranges()) | checker.item_fields
    return ranged


def _check_magnitudes(checker: StudyChecker, table: str, column: str, values: pd.Series) -> None:
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(numbers) | (np.abs(numbers) >= ABSURD_MAGNITUDE)
    if not bad.any():
        return
    positions = np.flatnonzero(bad)
    checker.report(
        row_problem(
            checker.sources[table],
            positions,
            "not a plausible value (infinite, or 1e12 or more in size): no analysis can use it",
            column=column,
            details=[f"{value:g}" for value in numbers[positions[:MAX_LISTED]]],
            hint="correct the value (a slip of the exponent, a pasted id?), or leave the cell empty when "
            "there is no value",
        )
    )


def _check_far_out(checker: StudyChecker, frame: pd.DataFrame) -> None:
    """Values far outside the others of a measure that declares no range (warnings, per measure)."""
    config = checker.config
    assert config is not None
    spec = config.tables.measures
    values = frame[spec.value].astype("float64")
    names = frame[spec.measure]
    plausible = np.isfinite(values) & (values.abs() < ABSURD_MAGNITUDE)  # the others are errors already
    open_ended = plausible & ~names.isin(_ranged_measures(checker)) & names.notna()
    if not open_ended.any():
        return
    grouped = values[open_ended].groupby(names[open_ended], observed=True)
    quartiles = grouped.quantile([0.25, 0.75]).unstack()
    for measure, (low, high) in quartiles.iterrows():
        spread = high - low
        if not spread > 0:
            continue
        floor, ceiling = low - FAR_OUT_IQRS * spread, high + FAR_OUT_IQRS * spread
        mask = (open_ended & (names == measure) & ((values < floor) | (values > ceiling))).to_numpy()
        if not mask.any():
            continue
        positions = np.flatnonzero(mask)
        checker.report(
            row_problem(
                checker.sources["measures"],
                positions,
                f"far outside the other values of measure '{measure}' (half of them lie in {low:g}–{high:g})",
                column=spec.value,
                details=[f"{value:g}" for value in values.iloc[positions[:MAX_LISTED]]],
                hint=f"correct the value if it is a slip; declare the measure's range (measures.{measure}."
                "range in moclab.yaml) so that values outside it are errors",
                severity="warning",
            )
        )


def _scored(checker: StudyChecker, frame: pd.DataFrame) -> pd.DataFrame:
    """The measures as the analyses see them: recipient, wave, measure, value, with instrument items replaced
    by their scores (as `Study.scored_measures`)."""
    config = checker.config
    assert config is not None
    spec = config.tables.measures
    columns = [spec.recipient, spec.wave, spec.measure, spec.value]
    given = frame.loc[~frame[spec.measure].isin(checker.item_fields), columns]
    given = given.assign(
        **{spec.wave: given[spec.wave].astype(str), spec.value: given[spec.value].astype("float64")}
    )
    if checker.scores is None or not len(checker.scores.table):
        return given
    scores = checker.scores.table[columns]
    scores = scores.assign(**{spec.wave: scores[spec.wave].astype(str)})
    return pd.concat([given, scores], ignore_index=True)


def _check_missingness(checker: StudyChecker, scored: pd.DataFrame) -> None:
    """A measure missing for most recipients of an arm at a wave it was collected at (one warning per
    measure, listing the waves and arms)."""
    config = checker.config
    recipients = checker.tables.get("recipients")
    assert config is not None
    if recipients is None or recipients.empty:
        return
    spec, people = config.tables.measures, config.tables.recipients
    arm = people.arm if people.arm in recipients.columns else None
    groups = (
        recipients[arm].astype(str).where(recipients[arm].notna(), "(no arm)")
        if arm is not None
        else pd.Series("", index=recipients.index)
    )
    group_of = pd.Series(groups.to_numpy(), index=recipients[people.id].to_numpy())
    group_of = group_of[~group_of.index.duplicated()]
    order = {name: index for index, name in enumerate(config.design.randomization.arms)}
    expected = group_of.value_counts()
    expected = expected.reindex(
        sorted(expected.index, key=lambda group: (order.get(group, len(order)), group))
    )
    observed = scored[scored[spec.value].notna() & scored[spec.recipient].isin(group_of.index)]
    observed = observed.drop_duplicates([spec.recipient, spec.wave, spec.measure])
    observed = observed.assign(_group=group_of.reindex(observed[spec.recipient]).to_numpy())
    have = observed.groupby([spec.measure, spec.wave, "_group"], observed=True).size()
    collected = observed.groupby([spec.measure, spec.wave], observed=True).size().index
    wave_order = {wave: index for index, wave in enumerate(config.design.wave_ids)}
    measures = list(dict.fromkeys(collected.get_level_values(0)))
    for measure in measures:
        cells = []
        waves = sorted(
            (w for m, w in collected if m == measure), key=lambda wave: wave_order.get(wave, len(wave_order))
        )
        for wave in waves:
            for group, total in expected.items():
                missing = int(total - have.get((measure, wave, group), 0))
                if missing > HEAVY_MISSING * total:
                    where = f"{wave}, arm {group}" if arm is not None else wave
                    cells.append(f"{where}: {missing} of {total} missing")
        if not cells:
            continue
        shown = "; ".join(cells[:6]) + (f"; and {len(cells) - 6} more" if len(cells) > 6 else "")
        checker.warn(
            f"measure '{measure}' has no value for most recipients ({shown}); the analyses leave these "
            "recipients out, so estimates may be biased and criteria not testable",
            file=checker.sources["measures"].shown,
            field=spec.value,
            hint="check the export (a filter, a failed join, a renamed item?); if the values are really "
            "missing, collect them, or judge the pathway at waves with data (evidence.waves)",
        )


def _check_constant(checker: StudyChecker, scored: pd.DataFrame) -> None:
    """A measure with the same value for every recipient at a wave (one warning per measure)."""
    config = checker.config
    assert config is not None
    spec = config.tables.measures
    values = scored[scored[spec.value].notna()]
    grouped = values.groupby([spec.measure, spec.wave], observed=True)[spec.value]
    summary = pd.DataFrame({"n": grouped.size(), "distinct": grouped.nunique(), "value": grouped.first()})
    constant = summary[(summary["n"] >= 2) & (summary["distinct"] == 1)]
    wave_order = {wave: index for index, wave in enumerate(config.design.wave_ids)}
    for measure, rows in constant.groupby(level=0, sort=False):
        waves = sorted(rows.index.get_level_values(1), key=lambda wave: wave_order.get(wave, len(wave_order)))
        collected = summary.loc[measure].index
        same = rows["value"].nunique() == 1
        if len(waves) == len(collected) and same:
            what = f"is {rows['value'].iloc[0]:g} for every recipient at every wave"
        else:
            what = "does not vary between recipients at " + ", ".join(
                f"{wave} (all {rows.loc[(measure, wave), 'value']:g})" for wave in waves
            )
        checker.warn(
            f"measure '{measure}' {what}: a constant cannot go with anything, so analyses that use it "
            "cannot estimate its effects",
            file=checker.sources["measures"].shown,
            field=spec.value,
            hint="check the export (a default filled in, a formula copied down, the wrong column?)",
        )
