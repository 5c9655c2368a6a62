"""The analysis frames of a pathway: one row per recipient (and one per recipient and wave for the panel).

`pathway_data` turns a `PathwayPlan` and the study's tables into a `PathwayData`: the strategy coded as X,
the mechanism(s) at the mechanism wave, the outcome, competing mechanisms and non-target outcomes at their
waves, the baseline values to adjust for, covariates, subgroups, the cluster, and the dose of support
received from the activities log. It computes no statistic beyond sums and counts of the log; the analyses
run on these frames in `moclab.evidence.analyze`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from moclab.evidence.plan import PathwayPlan
from moclab.evidence.rules import TimelineFacts
from moclab.study.evidence_settings import DoseSpec, EvidenceSettings

if TYPE_CHECKING:
    from moclab.study import Study

__all__ = ["DAYS_PER_MONTH", "PathwayData", "StudyTables", "pathway_data", "timeline_facts"]

#: Average length of a month (365.25 / 12 days), to put dates and months on one axis.
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class StudyTables:
    """The study's measures in the shapes the frames are cut from, computed once per analysis.

    ``by_wave[wave]`` is a frame indexed by recipient id with one column per measure (and the recipients'
    columns); ``wave_dates`` gives each wave's date (declared, or the median measurement date).
    """

    recipients: pd.DataFrame
    by_wave: dict[str, pd.DataFrame]
    wave_dates: dict[str, datetime.date | None]
    wave_months: dict[str, float | None]
    recipient_id: str


def study_tables(study: Study) -> StudyTables:
    """Cut the study's wide table into one frame per wave, and date the waves."""
    rid = study.config.tables.recipients.id
    spec = study.config.tables.measures
    wide = study.wide()
    recipients = study.recipients.drop_duplicates(rid).set_index(rid, drop=False)
    wave_column = spec.wave
    by_wave = {
        wave: wide.loc[(wide[wave_column] == wave).to_numpy()].drop_duplicates(rid).set_index(rid, drop=False)
        for wave in study.wave_ids
    }
    dates: dict[str, datetime.date | None] = {}
    measured_dates = None
    if spec.date is not None and spec.date in study.measures.columns:
        measured = study.measures[[spec.wave, spec.date]].dropna()
        if len(measured):
            stamps = pd.to_datetime(measured[spec.date], errors="coerce")
            measured_dates = stamps.groupby(measured[spec.wave].astype(str).to_numpy()).median()
    for wave in study.waves:
        date = wave.date
        if date is None and measured_dates is not None and wave.id in measured_dates.index:
            stamp = measured_dates[wave.id]
            date = None if pd.isna(stamp) else stamp.date()
        dates[wave.id] = date
    months = {wave.id: wave.month for wave in study.waves}
    return StudyTables(recipients, by_wave, dates, months, rid)


@dataclass(frozen=True)
class PathwayData:
    """The per-recipient frame of one pathway and the names of its columns by role.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per recipient: the strategy ``x``, mechanisms, outcome, competing mechanisms and non-target
        outcomes (named by node id or measure), baseline columns (``name@wave``), covariates, subgroups, the
        cluster and the dose.
    x : str
        The strategy column; ``x_type`` is "arm" (coded 0/1) or "dose".
    baselines : dict
        For each variable with enough baseline values, the name of its baseline column.
    dose : str or None
        The column of support received, or None (``dose_failure`` says why).
    panel : pandas.DataFrame or None
        Long frame (recipient, wave order, cluster, strategy, the last mechanism, the outcome and the
        competing mechanisms) over every wave at which the mechanism and the outcome were measured, for the
        cross-lagged model.
    manipulation : str or None
        The column of the randomized factor that targets the mechanism, coded 1 (given) and 0 (control).
    """

    frame: pd.DataFrame
    x: str
    x_type: str
    mechanisms: tuple[str, ...]
    outcome: str
    alternatives: tuple[str, ...]
    non_targets: tuple[str, ...]
    baselines: dict[str, str]
    covariates: tuple[str, ...]
    subgroups: tuple[str, ...]
    cluster: str | None
    recipient_id: str
    dose: str | None = None
    dose_level: str | None = None
    dose_failure: str | None = None
    panel: pd.DataFrame | None = None
    panel_failure: str | None = None
    manipulation: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def baseline_for(self, *names: str) -> list[str]:
        """The baseline columns of these variables (those that have one), in order, without repeats."""
        return list(dict.fromkeys(self.baselines[name] for name in names if name in self.baselines))

    @property
    def numeric_covariates(self) -> list[str]:
        """The covariates that are numeric (per-site regressions and trend tests take only those)."""
        return [
            name
            for name in self.covariates
            if pd.api.types.is_numeric_dtype(self.frame[name])
            and not isinstance(self.frame[name].dtype, pd.CategoricalDtype)
        ]


def _code_strategy(plan: PathwayPlan, tables: StudyTables, index: pd.Index) -> tuple[pd.Series, str]:
    coding = plan.coding
    column = coding.column
    assert column is not None
    if column in tables.recipients.columns:
        values = tables.recipients.loc[index, column]
    else:
        values = tables.by_wave[plan.mechanism_wave].loc[index, column]
    if coding.kind != "arm":
        return pd.to_numeric(values, errors="coerce").astype("float64"), "dose"
    text = values.astype("string")
    if coding.control is not None:
        coded = (text != coding.control).astype("float64")
    else:
        levels = sorted(str(v) for v in pd.unique(text.dropna()))
        coded = (text == levels[-1]).astype("float64")
    coded[text.isna().to_numpy()] = np.nan
    return coded, "arm"


def _activity_dose(
    study: Study,
    tables: StudyTables,
    dose: DoseSpec,
    index: pd.Index,
    until: datetime.date | None,
) -> tuple[pd.Series | None, str | None, str | None, list[str]]:
    """Support received per recipient from the activities log: (values, level, failure, notes)."""
    notes: list[str] = []
    if study.activities is None or study.config.tables.activities is None:
        return None, None, "the study has no activities table (support log)", notes
    spec = study.config.tables.activities
    log = study.activities
    if dose.components:
        log = log.loc[log[spec.component].isin(dose.components).to_numpy()]
    if dose.window == "before_mechanism":
        if until is not None and spec.date in log.columns:
            dates = pd.to_datetime(log[spec.date], errors="coerce")
            log = log.loc[(dates <= pd.Timestamp(until)).to_numpy()]
            notes.append(f"dose counts activities up to {until.isoformat()} (the mechanism wave)")
        else:
            notes.append("the mechanism wave has no date, so the dose counts the whole activities log")
    if not len(log):
        return None, None, "no logged activity falls in the dose window", notes
    amount = (
        pd.to_numeric(log[spec.minutes], errors="coerce").fillna(0.0)
        if dose.measure == "minutes"
        else pd.Series(1.0, index=log.index)
    )
    has_recipient = spec.recipient is not None and spec.recipient in log.columns
    share_named = float(log[spec.recipient].notna().mean()) if has_recipient else 0.0
    level = dose.level
    if level == "auto":
        level = "recipient" if share_named >= 0.5 else "site"
    rid = tables.recipient_id
    cluster_column = study.config.tables.recipients.cluster
    if level == "recipient":
        if not has_recipient:
            return None, None, "the activities table names no recipient column (dose level: recipient)", notes
        totals = amount.groupby(log[spec.recipient].astype("string").to_numpy()).sum()
        values = pd.Series(
            index.astype("string").map(totals).to_numpy(), index=index, dtype="float64"
        ).fillna(0.0)
        return values, "recipient", None, notes
    if spec.cluster is not None and spec.cluster in log.columns:
        sites = log[spec.cluster].astype("string")
    elif has_recipient:
        lookup = tables.recipients.set_index(rid, drop=False)[cluster_column].astype("string")
        sites = log[spec.recipient].astype("string").map(lookup)
    else:
        return None, None, "the activities table names neither a cluster nor a recipient column", notes
    totals = amount.groupby(sites.to_numpy()).sum()
    recipient_sites = tables.recipients.loc[index, cluster_column].astype("string")
    sizes = recipient_sites.value_counts()
    per_recipient = recipient_sites.map(totals).fillna(0.0) / recipient_sites.map(sizes)
    notes.append(f"dose per {cluster_column}: its {dose.measure} divided by its number of recipients")
    return per_recipient.astype("float64"), "site", None, notes


def pathway_data(
    study: Study, plan: PathwayPlan, settings: EvidenceSettings, tables: StudyTables
) -> PathwayData:
    """Build the per-recipient frame (and the panel frame) of one pathway.

    Raises nothing for thin data: a role without values shows up as missing values, which the analyses
    report (and the verdicts turn into "not testable").
    """
    notes = list(plan.notes)
    rid = tables.recipient_id
    index = tables.recipients.index
    frame = pd.DataFrame({rid: tables.recipients[rid].to_numpy()}, index=index)
    mechanism_frame = tables.by_wave[plan.mechanism_wave]
    outcome_frame = tables.by_wave[plan.outcome_wave]

    def values(name: str, wave_frame: pd.DataFrame) -> pd.Series:
        variable = plan.measures[name]
        source = tables.recipients if variable in tables.recipients.columns else wave_frame
        if variable not in source.columns:
            return pd.Series(np.nan, index=index, dtype="float64")
        return pd.to_numeric(source[variable].reindex(index), errors="coerce").astype("float64")

    # Strategy
    dose_values, dose_level, dose_failure, dose_notes = _activity_dose(
        study, tables, settings.dose, index, tables.wave_dates.get(plan.mechanism_wave)
    )
    x_name = plan.strategy
    if plan.coding.kind == "activity_dose":
        if dose_values is None:
            frame[x_name] = np.nan
        else:
            frame[x_name] = dose_values
        x_type = "dose"
    else:
        frame[x_name], x_type = _code_strategy(plan, tables, index)
    # Roles at their waves
    for name in (*plan.mechanisms, *plan.alternatives):
        frame[name] = values(name, mechanism_frame)
    for name in (plan.outcome, *plan.non_targets):
        frame[name] = values(name, outcome_frame)
    # Baselines of the time-varying variables, when enough recipients have one
    baselines: dict[str, str] = {}
    if plan.baseline_wave is not None:
        baseline_frame = tables.by_wave[plan.baseline_wave]
        threshold = settings.thresholds.baseline_coverage
        for name in (*plan.mechanisms, *plan.alternatives, plan.outcome, *plan.non_targets):
            variable = plan.measures[name]
            if variable in tables.recipients.columns or variable not in baseline_frame.columns:
                continue
            baseline = pd.to_numeric(baseline_frame[variable].reindex(index), errors="coerce")
            measured = frame[name].notna()
            coverage = float(baseline[measured].notna().mean()) if measured.any() else 0.0
            if coverage >= threshold:
                column = f"{name}@{plan.baseline_wave}"
                frame[column] = baseline.astype("float64")
                baselines[name] = column
            elif measured.any() and coverage > 0:
                notes.append(
                    f"'{name}' is not adjusted for its baseline: only {coverage:.0%} of recipients have one "
                    f"(threshold {threshold:.0%})"
                )
    # Covariates (recipients columns as they are; measures at the baseline wave, or the first wave)
    covariates = []
    covariate_wave = plan.baseline_wave or study.wave_ids[0]
    for name in plan.covariates:
        if name in tables.recipients.columns:
            column = tables.recipients[name]
            if isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(column):
                frame[name] = column.astype("string").astype("category")
            else:
                frame[name] = pd.to_numeric(column, errors="coerce").astype("float64")
            covariates.append(name)
        else:
            column_name = f"{name}@{covariate_wave}"
            frame[column_name] = pd.to_numeric(
                tables.by_wave[covariate_wave][name].reindex(index), errors="coerce"
            ).astype("float64")
            covariates.append(column_name)
    for name in plan.subgroups:
        if name not in frame.columns:
            frame[name] = tables.recipients[name].astype("string")
    cluster = None
    if plan.cluster is not None:
        cluster = "__cluster__"
        frame[cluster] = tables.recipients[plan.cluster].astype("string")
    dose_column = None
    if dose_values is not None:
        dose_column = f"support_{settings.dose.measure}"
        frame[dose_column] = dose_values
    notes += dose_notes
    manipulation = None
    if plan.manipulation is not None:
        manipulation = "__manipulation__"
        given = tables.recipients[plan.manipulation.column].astype("string")
        coded = (given != plan.manipulation.control).astype("float64")
        coded[given.isna().to_numpy()] = np.nan
        frame[manipulation] = coded
    panel, panel_failure = _panel(study, plan, tables, frame, x_name, cluster)
    return PathwayData(
        frame=frame.reset_index(drop=True),
        x=x_name,
        x_type=x_type,
        mechanisms=plan.mechanisms,
        outcome=plan.outcome,
        alternatives=plan.alternatives,
        non_targets=plan.non_targets,
        baselines=baselines,
        covariates=tuple(covariates),
        subgroups=plan.subgroups,
        cluster=cluster,
        recipient_id=rid,
        dose=dose_column,
        dose_level=dose_level,
        dose_failure=dose_failure,
        panel=panel,
        panel_failure=panel_failure,
        manipulation=manipulation,
        notes=tuple(notes),
    )


def _panel(
    study: Study,
    plan: PathwayPlan,
    tables: StudyTables,
    frame: pd.DataFrame,
    x_name: str,
    cluster: str | None,
) -> tuple[pd.DataFrame | None, str | None]:
    """Recipient × wave frame of the last mechanism and the outcome at every wave both were measured, with the
    competing mechanisms at the same waves (NaN where one was not measured)."""
    mechanism, outcome = plan.mechanisms[-1], plan.outcome
    m_var, y_var = plan.measures[mechanism], plan.measures[outcome]
    if m_var in tables.recipients.columns or y_var in tables.recipients.columns:
        return None, "the mechanism or the outcome is a recipients column, measured once"
    competitors = [name for name in plan.alternatives if plan.measures[name] not in tables.recipients.columns]
    parts = []
    for order, wave in enumerate(study.wave_ids):
        wave_frame = tables.by_wave[wave]
        if m_var not in wave_frame.columns or y_var not in wave_frame.columns:
            continue
        m_values = pd.to_numeric(wave_frame[m_var].reindex(frame.index), errors="coerce")
        y_values = pd.to_numeric(wave_frame[y_var].reindex(frame.index), errors="coerce")
        if m_values.notna().sum() == 0 or y_values.notna().sum() == 0:
            continue
        part = pd.DataFrame(
            {
                "recipient": frame[tables.recipient_id].to_numpy(),
                "wave": order,
                mechanism: m_values.to_numpy(dtype="float64"),
                outcome: y_values.to_numpy(dtype="float64"),
                x_name: frame[x_name].to_numpy(),
            }
        )
        for name in competitors:
            variable = plan.measures[name]
            values = (
                pd.to_numeric(wave_frame[variable].reindex(frame.index), errors="coerce")
                if variable in wave_frame.columns
                else pd.Series(np.nan, index=frame.index)
            )
            part[name] = values.to_numpy(dtype="float64")
        if cluster is not None:
            part[cluster] = frame[cluster].to_numpy()
        parts.append(part)
    if len(parts) < 2:
        return None, f"'{mechanism}' and '{outcome}' were measured together at fewer than two waves"
    return pd.concat(parts, ignore_index=True), None


def _months(date: datetime.date | None, origin: datetime.date | None) -> float | None:
    if date is None or origin is None:
        return None
    return (date - origin).days / DAYS_PER_MONTH


def timeline_facts(
    study: Study, plan: PathwayPlan, settings: EvidenceSettings, tables: StudyTables
) -> TimelineFacts:
    """When the strategy began and the mechanism and outcome were measured, in months (when known).

    Wave times are the declared months when every wave has one, else dates (declared, or the median
    measurement date) counted from the first wave's date. The strategy start is ``evidence.strategy_start``
    when given, else the first logged activity.
    """
    ids = study.wave_ids
    months = tables.wave_months
    dates = tables.wave_dates
    origin = dates.get(ids[0])
    if all(months.get(w) is not None for w in ids):
        times = {w: months[w] for w in ids}
    elif all(dates.get(w) is not None for w in ids):
        times = {w: _months(dates[w], origin) for w in ids}
    else:
        times = dict.fromkeys(ids)
    start: float | None = None
    source = None
    given = settings.strategy_start
    if isinstance(given, datetime.date):
        if months.get(ids[0]) is not None and origin is not None:
            start = (months[ids[0]] or 0.0) + _months(given, origin)  # type: ignore[operator]
        elif origin is not None:
            start = _months(given, origin)
        source = f"evidence.strategy_start {given.isoformat()}"
    elif isinstance(given, int | float):
        start = float(given)
        source = f"evidence.strategy_start month {given:g}"
    elif study.activities is not None and study.config.tables.activities is not None and origin is not None:
        spec = study.config.tables.activities
        stamps = pd.to_datetime(study.activities[spec.date], errors="coerce").dropna()
        if len(stamps):
            first = stamps.min().date()
            start = _months(first, origin)
            if start is not None and months.get(ids[0]) is not None:
                start += months[ids[0]] or 0.0
            source = f"first logged activity, {first.isoformat()}"
    return TimelineFacts(
        n_waves=len(ids),
        mechanism_wave=plan.mechanism_wave,
        outcome_wave=plan.outcome_wave,
        mechanism_order=ids.index(plan.mechanism_wave),
        outcome_order=ids.index(plan.outcome_wave),
        mechanism_time=times.get(plan.mechanism_wave),
        outcome_time=times.get(plan.outcome_wave),
        strategy_start=start,
        start_source=source,
    )
