"""Who was lost, where and from which arm: the participant flow and the tests of differential attrition.

`participant_flow` counts, per arm (one group "all" when the study has no arm column), the recipients
randomized (or enrolled), those measured at each wave, those with the pathway's mechanism and outcome at
each wave, those analysed, and those lost by the last wave with their reasons when the recipients table
has a ``dropout_reason`` column: the numbers of a CONSORT flow diagram (Schulz, Altman & Moher 2010, item
13 and Figure 1; for cluster trials Campbell et al. 2012).

`differential_attrition` asks whether those lost differ from those retained: by arm (a chi-square test of
the arm × retained table, Fisher's exact test for a 2 × 2 table with an expected count below 5) and by their
baseline values of the mechanism and the outcome (a logistic regression of retention on the arm and the
standardized baseline values). A finding is flagged when a test is significant or the retention of two arms
differs by more than 10 percentage points; docs/missing-data.md gives the rule and why.

Definitions used throughout:

* **measured at a wave**: at least one value (any measure, instrument items scored) at that wave;
* **retained**: measured at the retention wave (the last wave unless another is named); **lost**: not;
* **analysed**: the recipients the caller says its models used. The evidence layer passes the rows of the
  strong-association model of a pathway: complete on the strategy, the mechanism(s), the competing
  mechanisms in the model, the outcome, the covariates and the baselines adjusted for (the listwise
  deletion of `moclab.analysis.mediate`).
"""

from __future__ import annotations

import html
import io
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from moclab.errors import StudyError, UsageError, did_you_mean
from moclab.plain import plain
from moclab.study.study import Study

__all__ = [
    "DROPOUT_REASON",
    "AttritionTests",
    "ParticipantFlow",
    "differential_attrition",
    "participant_flow",
]

#: The optional recipients column giving why a recipient left the study (empty for those who stayed).
DROPOUT_REASON = "dropout_reason"
#: The group of a study without an arm column.
ALL = "all"
#: The group of recipients whose arm cell is empty.
NO_ARM = "(no arm)"
#: Below this expected count in a 2 × 2 table the arm test is Fisher's exact test (Cochran's rule).
MIN_EXPECTED = 5.0


def _key(values: Any) -> pd.Index:
    """Recipient ids as text, the one form every table shares (measures are read as text), unique.

    An object index, not an Arrow string one: lookups between two of them hash in C, where Arrow strings
    take a Python loop (seconds for a million-row study).
    """
    given = values if isinstance(values, pd.Series | pd.Index | np.ndarray) else list(values)
    array = np.asarray(given, dtype=object)
    array = array[~pd.isna(array)]
    return pd.Index(pd.unique(array.astype(str).astype(object)), dtype=object)


def _groups(study: Study) -> tuple[pd.Series, tuple[str, ...], str | None]:
    """Each recipient's group (indexed by id as text), the groups in order, and the arm column (or None)."""
    spec = study.config.tables.recipients
    people = study.recipients.dropna(subset=[spec.id]).drop_duplicates(spec.id)
    ids = _key(people[spec.id])
    if spec.arm is None or spec.arm not in people.columns:
        return pd.Series(ALL, index=ids, dtype="object"), (ALL,), None
    arms = people[spec.arm].astype("string").fillna(NO_ARM).to_numpy()
    group_of = pd.Series(arms, index=ids, dtype="object")
    declared = [str(arm) for arm in study.config.design.randomization.arms]
    found = set(group_of)
    order = [arm for arm in declared if arm in found]
    order += sorted(arm for arm in found - set(order) - {NO_ARM})
    if NO_ARM in found:
        order.append(NO_ARM)
    return group_of, tuple(order), spec.arm


def _values(study: Study) -> dict[str, np.ndarray]:
    """The measured values as (recipient, wave, measure) arrays, one entry per value present; the wave as
    text (a category's text is computed once per category, so a million rows stay fast). Plain object
    arrays, not a DataFrame: pandas would turn them into Arrow strings, slow to compare in bulk."""
    spec = study.config.tables.measures
    table = study.scored_measures
    given = table.loc[table[spec.value].notna().to_numpy(), [spec.recipient, spec.wave, spec.measure]]
    wave = given[spec.wave]
    wave = (
        wave.cat.rename_categories(str) if isinstance(wave.dtype, pd.CategoricalDtype) else wave.astype(str)
    )
    return {
        "recipient": given[spec.recipient].to_numpy(dtype=object),
        "wave": wave.to_numpy(dtype=object),
        "measure": given[spec.measure].to_numpy(dtype=object),
    }


def _present(values: dict[str, np.ndarray], wave: str, measure: str | None = None) -> pd.Index:
    """Recipients (ids as text) with a value at `wave` (of `measure`, or of any measure)."""
    rows = values["wave"] == wave
    if measure is not None:
        rows = rows & (values["measure"] == measure)
    return _key(pd.unique(values["recipient"][rows]))


def _check_measure(study: Study, name: str, role: str) -> bool:
    """True when `name` is a measure; False when it is a recipients column (measured once); else an error."""
    if name in study.measure_names:
        return True
    if name in study.recipients.columns:
        return False
    raise StudyError(
        f"the {role} '{name}' is neither a measure nor a recipients column of the study",
        hint=did_you_mean(name, [*study.measure_names, *study.recipients.columns])
        or "measures: " + ", ".join(study.measure_names),
    )


def _check_wave(study: Study, wave: str, role: str) -> str:
    if wave not in study.wave_ids:
        raise StudyError(
            f"the {role} '{wave}' is not a wave of the study",
            hint=did_you_mean(wave, study.wave_ids) or "waves: " + ", ".join(study.wave_ids),
        )
    return wave


# --------------------------------------------------------------------------------------------------------
# The participant flow
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ParticipantFlow:
    """The participant flow of a study, per arm and wave (see the module docstring for the definitions).

    Attributes
    ----------
    unit : str
        The name of who is counted ("recipient").
    arm : str or None
        The recipients column whose values are the groups (None: one group, "all").
    randomized : bool
        Whether the design randomized the arms (the first stage reads "randomized", else "enrolled").
    groups : tuple of str
        The groups in order (the declared arms first).
    counts : pandas.DataFrame
        One row per stage: ``stage`` (randomized, enrolled, measured, mechanism, outcome, analysed, lost,
        reason), ``wave`` (or None), ``label`` (as printed), one column per group and ``total``.
    notes : tuple of str
        What could not be counted and why.
    """

    unit: str
    arm: str | None
    randomized: bool
    groups: tuple[str, ...]
    counts: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def enrolled(self) -> dict[str, int]:
        """Recipients per group at the start (randomized or enrolled), and the total."""
        first = self.counts.iloc[0]
        return {name: int(first[name]) for name in (*self.groups, "total")}

    def retention(self, wave: str | None = None) -> dict[str, float]:
        """Share of each group measured at `wave` (default: the last wave); NaN for an empty group."""
        measured = self.counts[self.counts["stage"] == "measured"]
        if not len(measured):
            return {}
        if wave is not None and wave not in set(measured["wave"]):
            waves = measured["wave"].tolist()
            raise StudyError(
                f"'{wave}' is not a wave of the study",
                hint=did_you_mean(wave, waves) or "waves: " + ", ".join(waves),
            )
        row = measured.iloc[-1] if wave is None else measured[measured["wave"] == wave].iloc[0]
        start = self.enrolled
        return {
            name: int(row[name]) / start[name] if start[name] else math.nan
            for name in (*self.groups, "total")
        }

    def to_frame(self) -> pd.DataFrame:
        """The counts: one row per stage, one column per group and the total."""
        return self.counts.copy()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "unit": self.unit,
                "arm": self.arm,
                "randomized": self.randomized,
                "groups": list(self.groups),
                "counts": self.counts,
                "notes": list(self.notes),
            }
        )

    def rich_table(self, title: str | None = None) -> Table:
        """The flow as a compact table: stages down, groups across (with the share of the group)."""
        table = Table(
            title=title or f"Participant flow ({self.unit}s per {'arm' if self.arm else 'group'})",
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        table.add_column("stage", no_wrap=True)
        columns = self.groups if len(self.groups) > 1 else ()
        for name in (*columns, "total"):
            table.add_column(name, justify="right", no_wrap=True)
        start = self.enrolled
        for number, row in enumerate(self.counts.to_dict("records")):
            cells = [str(row["label"])]
            for name in (*columns, "total"):
                count = int(row[name])
                share = f" ({100 * count / start[name]:.0f}%)" if number and start[name] else ""
                cells.append(f"{count}{share}")
            table.add_row(*cells)
        return table

    def __rich__(self) -> RenderableType:
        parts: list[RenderableType] = [self.rich_table()]
        parts.extend(Text(note, style="yellow") for note in self.notes)
        return Group(*parts)

    def summary(self) -> str:
        """The flow as plain text."""
        from rich.console import Console

        console = Console(width=110, record=True, file=io.StringIO(), color_system=None)
        console.print(self)
        return console.export_text().rstrip()

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        start = self.enrolled
        kept = self.retention()
        share = f", {100 * kept['total']:.0f}% at the last wave" if kept and start["total"] else ""
        return f"ParticipantFlow({start['total']} {self.unit}s in {len(self.groups)} group(s){share})"

    def _repr_html_(self) -> str:
        frame = self.counts.drop(columns=["stage", "wave"]).set_index("label")
        return f"<div>{frame.to_html(border=0)}</div>" + "".join(
            f"<p>{html.escape(note)}</p>" for note in self.notes
        )


def participant_flow(
    study: Study,
    *,
    mechanism: str | None = None,
    outcome: str | None = None,
    analysed: Iterable[Any] | None = None,
    reason_column: str = DROPOUT_REASON,
) -> ParticipantFlow:
    """Count the recipients of each arm at each stage of the study (a CONSORT participant flow).

    Parameters
    ----------
    study : Study
        A loaded study.
    mechanism, outcome : str, optional
        Measures whose presence is counted at each wave (a recipients column is measured once: skipped,
        with a note).
    analysed : iterable of recipient ids, optional
        The recipients the models used; counted per arm as the "analysed" stage.
    reason_column : str
        The recipients column giving why a recipient left; counted among those lost by the last wave when
        the table has it.

    Returns
    -------
    ParticipantFlow

    Raises
    ------
    StudyError
        `mechanism` or `outcome` is neither a measure nor a recipients column.

    Notes
    -----
    The stages follow item 13 of CONSORT 2010 (Schulz, Altman & Moher 2010): for each group the numbers
    randomly assigned, measured at each wave and analysed, and the losses with their reasons.

    Examples
    --------
    >>> from moclab.study import example_path, load_study
    >>> study = load_study(example_path(), show_progress=False)
    >>> flow = participant_flow(study)
    >>> flow.groups, flow.enrolled["total"]
    (('intensive', 'usual'), 151)
    """
    design = study.config.design
    group_of, groups, arm = _groups(study)
    randomized = arm is not None and design.randomization.level != "none"
    notes: list[str] = []
    rows: list[dict[str, Any]] = []

    def add(stage: str, wave: str | None, label: str, ids: pd.Index) -> None:
        members = group_of.reindex(ids).dropna()
        counts = members.value_counts()
        row: dict[str, Any] = {"stage": stage, "wave": wave, "label": label}
        row.update({name: int(counts.get(name, 0)) for name in groups})
        row["total"] = len(members)
        rows.append(row)

    start = "randomized" if randomized else "enrolled"
    add(start, None, start, group_of.index)
    tracked: list[tuple[str, str]] = []
    for role, name in (("mechanism", mechanism), ("outcome", outcome)):
        if name is None:
            continue
        if _check_measure(study, name, role):
            tracked.append((role, name))
        else:
            notes.append(f"the {role} '{name}' is a recipients column, measured once: not counted per wave")
    values = _values(study)
    measured: pd.Index = group_of.index
    for wave in study.wave_ids:
        measured = _present(values, wave)
        add("measured", wave, f"measured at {wave}", measured)
        for role, name in tracked:
            add(role, wave, f"  with {name}", _present(values, wave, name))
    if analysed is not None:
        add("analysed", None, "analysed", _key(analysed))
    if study.wave_ids:
        last = study.wave_ids[-1]
        lost = group_of.index.difference(measured)
        add("lost", last, f"lost by {last}", lost)
        _add_reasons(study, reason_column, lost, add, last, notes)
    frame = pd.DataFrame(rows, columns=["stage", "wave", "label", *groups, "total"])
    return ParticipantFlow(
        unit=design.unit, arm=arm, randomized=randomized, groups=groups, counts=frame, notes=tuple(notes)
    )


def _add_reasons(study: Study, column: str, lost: pd.Index, add: Any, last: str, notes: list[str]) -> None:
    """One row per reason given for the lost recipients (and one for those without a reason)."""
    if column not in study.recipients.columns:
        return
    spec = study.config.tables.recipients
    people = study.recipients.dropna(subset=[spec.id]).drop_duplicates(spec.id)
    reasons = pd.Series(
        people[column].astype("string").to_numpy(), index=_key(people[spec.id]), dtype="string"
    )
    reasons = reasons.str.strip().replace("", pd.NA)
    given = reasons[reasons.index.isin(lost)]
    for reason in sorted(given.dropna().unique()):
        add(
            "reason",
            last,
            f"  reason: {reason}",
            given.index[(given == reason).fillna(False).to_numpy(dtype=bool)],
        )
    without = given.index[given.isna().to_numpy(dtype=bool)]
    if len(without):
        add("reason", last, "  reason: not given", without)
    stayed = reasons[~reasons.index.isin(lost)].dropna()
    if len(stayed):
        notes.append(
            f"{len(stayed)} recipient(s) measured at {last} have a {column}: counted as retained (a reason "
            "is read for those not measured at the last wave only)"
        )


# --------------------------------------------------------------------------------------------------------
# Differential attrition
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AttritionTests:
    """Whether the recipients lost by a wave differ from those retained, by arm and by baseline values.

    Attributes
    ----------
    wave : str
        The retention wave: retained = measured at this wave.
    baseline_wave : str or None
        The wave the baseline values were taken at.
    retention : pandas.DataFrame
        One row per group: ``group``, ``enrolled`` (randomized or enrolled), ``retained``, ``lost``,
        ``retention``.
    arm_test : dict or None
        ``method`` ("chi-square" or "Fisher exact"), ``statistic``, ``df``, ``p_value``, ``cramers_v``,
        ``difference`` (largest minus smallest retention, as a share), ``min_expected``; None with one group
        or when nobody (or everybody) was lost.
    baseline_test : pandas.DataFrame or None
        One row per baseline value: ``variable``, ``odds_ratio`` (of being retained, per SD of the baseline
        value, adjusted for the arm and the other baseline values), ``ci_low``, ``ci_high``, ``p_value``,
        ``smd`` (retained minus lost, in pooled SDs), ``n``.
    flagged : bool
        Whether differential attrition was found (see `findings`).
    findings : tuple of str
        One sentence per flagged result.
    notes : tuple of str
        What could not be tested and why.
    alpha, max_difference : float
        The rule's significance level and largest tolerated difference in retention between arms.
    """

    wave: str
    baseline_wave: str | None
    retention: pd.DataFrame
    arm_test: dict[str, Any] | None = None
    baseline_test: pd.DataFrame | None = None
    flagged: bool = False
    findings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    alpha: float = 0.05
    max_difference: float = 0.10

    @property
    def n_lost(self) -> int:
        return int(self.retention["lost"].sum())

    @property
    def statement(self) -> str:
        """The findings in one sentence ("" when nothing was flagged)."""
        if not self.flagged:
            return ""
        return "differential attrition: " + "; ".join(self.findings)

    def to_frame(self) -> pd.DataFrame:
        """The retention per group."""
        return self.retention.copy()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "wave": self.wave,
                "baseline_wave": self.baseline_wave,
                "retention": self.retention,
                "arm_test": self.arm_test,
                "baseline_test": self.baseline_test,
                "flagged": self.flagged,
                "findings": list(self.findings),
                "notes": list(self.notes),
                "alpha": self.alpha,
                "max_difference": self.max_difference,
            }
        )

    def summary(self) -> str:
        """The retention, the tests and the verdict as plain text."""
        lines = [
            f"retention at {self.wave}: "
            + ", ".join(
                f"{row.group} {row.retained}/{row.enrolled} ({_percent(row.retention)})"
                for row in self.retention.itertuples()
            )
        ]
        if self.arm_test is not None:
            test = self.arm_test
            lines.append(
                f"by arm: {test['method']}, {_p(test['p_value'])}, difference "
                f"{100 * test['difference']:.1f} percentage points, Cramér's V {test['cramers_v']:.2f}"
            )
        if self.baseline_test is not None:
            for row in self.baseline_test.itertuples():
                lines.append(
                    f"by baseline {row.variable}: odds ratio of retention per SD {row.odds_ratio:.2f} "
                    f"[{row.ci_low:.2f}, {row.ci_high:.2f}], {_p(row.p_value)}, SMD {row.smd:.2f}"
                )
        lines.append(self.statement or "no differential attrition found")
        lines.extend(self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        state = "flagged" if self.flagged else "not flagged"
        return f"AttritionTests(wave={self.wave!r}, {self.n_lost} lost, {state})"

    def __rich__(self) -> RenderableType:
        return Text(self.summary(), style="yellow" if self.flagged else "")

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>"


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isfinite(value) else "-"


def _p(value: float) -> str:
    """A p-value as text, APA style: "p < .001", "p = .023"."""
    if not math.isfinite(value):
        return "p = NA"
    return "p < .001" if value < 0.001 else "p = " + f"{value:.3f}".lstrip("0")


def differential_attrition(
    study: Study,
    *,
    baseline: Sequence[str] = (),
    baseline_wave: str | None = None,
    wave: str | None = None,
    alpha: float = 0.05,
    max_difference: float = 0.10,
) -> AttritionTests:
    """Test whether the recipients lost by `wave` differ from those retained, by arm and by baseline values.

    Parameters
    ----------
    study : Study
        A loaded study.
    baseline : sequence of str
        Measures (the pathway's mechanism and outcome) whose baseline values may predict retention.
    baseline_wave : str, optional
        The wave of the baseline values (default: the first wave).
    wave : str, optional
        The retention wave (default: the last wave): retained = measured at it.
    alpha : float
        Significance level of the tests.
    max_difference : float
        The largest tolerated difference in retention between two arms (a share: 0.10 is 10 points).

    Returns
    -------
    AttritionTests

    Raises
    ------
    StudyError
        A baseline measure or a wave the study does not have.
    UsageError
        `alpha` or `max_difference` outside (0, 1).

    Notes
    -----
    **By arm.** Pearson's chi-square test of the group × (retained, lost) table (`scipy.stats.
    chi2_contingency`, no continuity correction); with two groups and an expected count below 5, Fisher's
    exact test (`scipy.stats.fisher_exact`). Effect sizes: the difference in retention between the arms
    (largest minus smallest) and Cramér's V (`scipy.stats.contingency.association`).

    **By baseline values.** A logistic regression of retained (1) vs lost (0) on the arm (indicators, the
    first group as reference) and the baseline values standardized to SD 1 (`statsmodels` Logit, maximum
    likelihood, Wald tests): one model gives each baseline value's association with retention adjusted for
    the arm and the other values, and takes any number of arms, where a t test per arm would multiply the
    tests. Recipients without a baseline value are left out of this model (their count is in ``n``). The
    standardized mean difference (retained minus lost, pooled SD) is reported beside it as an effect size.

    **Flag.** Differential attrition is flagged when the arm test or a baseline term has p < `alpha`, or the
    retention of two arms differs by more than `max_difference`. Clustering is ignored: in a cluster
    design the tests are liberal, so the flag errs toward naming attrition.

    Examples
    --------
    The example study loses 10 of 73 recipients of the intensive arm and 6 of 78 of the usual arm by its
    last wave; neither the arm nor the baseline trust and acceptability tell them apart:

    >>> from moclab.study import example_path, load_study
    >>> study = load_study(example_path(), show_progress=False)
    >>> tests = differential_attrition(study, baseline=["trust", "acceptability"])
    >>> tests.retention[["enrolled", "retained", "lost"]].to_numpy().tolist()
    [[73, 63, 10], [78, 72, 6]]
    >>> tests.arm_test["method"], round(tests.arm_test["difference"], 3), tests.flagged
    ('chi-square', 0.06, False)
    """
    for name, value in (("alpha", alpha), ("max_difference", max_difference)):
        if not 0 < value < 1:
            raise UsageError(f"{name} must be between 0 and 1, not {value}")
    if not study.wave_ids:
        raise StudyError("the study declares no waves, so nobody can be lost between them")
    wave = _check_wave(study, wave, "retention wave") if wave is not None else study.wave_ids[-1]
    if baseline_wave is None:
        baseline_wave = study.wave_ids[0]
    else:
        _check_wave(study, baseline_wave, "baseline wave")
    measures = [name for name in baseline if _check_measure(study, name, "baseline measure")]
    group_of, groups, _ = _groups(study)
    retained = group_of.index.isin(_present(_values(study), wave))
    kept = pd.Series(retained, index=group_of.index)
    retention = pd.DataFrame(
        {
            "group": list(groups),
            "enrolled": [int((group_of == g).sum()) for g in groups],
            "retained": [int(kept[group_of == g].sum()) for g in groups],
        }
    )
    retention["lost"] = retention["enrolled"] - retention["retained"]
    retention["retention"] = retention["retained"] / retention["enrolled"].where(retention["enrolled"] > 0)
    notes: list[str] = []
    findings: list[str] = []
    arm_test = None
    baseline_test = None
    lost, total = int(retention["lost"].sum()), int(retention["enrolled"].sum())
    if lost == 0 or lost == total:
        notes.append(
            f"nobody was lost by {wave}"
            if lost == 0
            else f"nobody was measured at {wave}: nothing to compare"
        )
    else:
        tested = retention[(retention["group"] != NO_ARM) & (retention["enrolled"] > 0)]
        if len(tested) >= 2:
            arm_test = _arm_test(tested)
            arm_findings = _arm_findings(tested, arm_test, alpha, max_difference, wave)
            findings += arm_findings
        if measures and wave != baseline_wave:
            baseline_test, failure, note = _baseline_test(
                study, measures, baseline_wave, group_of, kept, groups
            )
            if note:
                notes.append(note)
            if failure:
                notes.append(f"the baseline values were not tested: {failure}")
            elif baseline_test is not None:
                for row in baseline_test.itertuples():
                    if row.p_value < alpha:
                        direction = "more" if row.odds_ratio > 1 else "less"
                        findings.append(
                            f"recipients with a higher baseline {row.variable} were {direction} likely to be "
                            f"measured at {wave} (odds ratio per SD {row.odds_ratio:.2f}, "
                            f"{_p(row.p_value)})"
                        )
    return AttritionTests(
        wave=wave,
        baseline_wave=baseline_wave if measures else None,
        retention=retention,
        arm_test=arm_test,
        baseline_test=baseline_test,
        flagged=bool(findings),
        findings=tuple(findings),
        notes=tuple(notes),
        alpha=alpha,
        max_difference=max_difference,
    )


def _arm_test(retention: pd.DataFrame) -> dict[str, Any]:
    from scipy import stats
    from scipy.stats.contingency import association

    table = retention[["retained", "lost"]].to_numpy(dtype=np.int64)
    chi2, p_value, df, expected = stats.chi2_contingency(table, correction=False)
    method = "chi-square"
    statistic = float(chi2)
    if table.shape == (2, 2) and expected.min() < MIN_EXPECTED:
        method = "Fisher exact"
        result = stats.fisher_exact(table)
        statistic, p_value = float(result.statistic), float(result.pvalue)
    shares = retention["retention"]
    return {
        "method": method,
        "statistic": statistic,
        "df": int(df),
        "p_value": float(p_value),
        "cramers_v": float(association(table, method="cramer", correction=False)),
        "difference": float(shares.max() - shares.min()),
        "min_expected": float(expected.min()),
    }


def _arm_findings(
    retention: pd.DataFrame, test: dict[str, Any], alpha: float, max_difference: float, wave: str
) -> list[str]:
    shares = ", ".join(f"{row.group} {_percent(row.retention)}" for row in retention.itertuples())
    reasons = []
    if test["p_value"] < alpha:
        reasons.append(f"{test['method']} {_p(test['p_value'])}")
    if test["difference"] > max_difference:
        reasons.append(
            f"a difference of {100 * test['difference']:.1f} points, more than {100 * max_difference:g}"
        )
    if not reasons:
        return []
    return [f"retention at {wave} differs by arm ({shares}; {', '.join(reasons)})"]


def _baseline_test(
    study: Study,
    measures: list[str],
    baseline_wave: str,
    group_of: pd.Series,
    kept: pd.Series,
    groups: tuple[str, ...],
) -> tuple[pd.DataFrame | None, str | None, str | None]:
    """The logistic regression of retention on the arm and the standardized baseline values: (the table, why
    it could not be fitted, a note on the arms left out)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    wide = study.wide(measures, attributes=False)
    wave_column = study.config.tables.measures.wave
    rid = study.config.tables.recipients.id
    at_baseline = wide[(wide[wave_column] == baseline_wave).to_numpy()]
    values = pd.DataFrame(at_baseline[measures].to_numpy(), index=_key(at_baseline[rid]), columns=measures)
    frame = values.reindex(group_of.index)
    frame["__retained__"] = kept.astype(float)
    frame["__group__"] = group_of
    frame = frame[frame["__group__"] != NO_ARM].dropna()
    note = None
    shares = frame.groupby("__group__")["__retained__"].mean()
    separated = [str(group) for group, share in shares.items() if share in (0.0, 1.0)]
    if separated and len(separated) < len(shares):
        # An arm that lost nobody (or everybody) makes its indicator infinite (quasi-complete separation);
        # its rows then add nothing to the likelihood of the baseline slopes, so they are left out.
        frame = frame[~frame["__group__"].isin(separated)]
        note = (
            f"arm {', '.join(separated)} lost nobody (or everybody): the arm alone explains its retention, "
            "so the baseline values are tested within the other arm(s)"
        )
    usable = [name for name in measures if frame[name].std() > 0]
    if not usable:
        return None, f"no baseline value varies among the recipients measured at {baseline_wave}", note
    if frame["__retained__"].nunique() < 2:
        return None, f"among the recipients measured at {baseline_wave}, nobody (or everybody) was lost", note
    design = (frame[usable] - frame[usable].mean()) / frame[usable].std()
    present = [g for g in groups if g in set(frame["__group__"])]
    for group in present[1:]:
        design[f"arm={group}"] = (frame["__group__"] == group).astype(float)
    design = sm.add_constant(design, has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)  # overflow: the fitted odds run off to infinity
        try:
            fit = sm.Logit(frame["__retained__"], design).fit(disp=0)
        except (PerfectSeparationError, PerfectSeparationWarning, RuntimeWarning):
            return None, "the baseline values (nearly) separate the retained from the lost", note
        except (ConvergenceWarning, np.linalg.LinAlgError):
            return None, "the logistic regression did not converge", note
    interval = fit.conf_int()
    rows = []
    for name in usable:
        stay, left = frame.loc[frame["__retained__"] == 1, name], frame.loc[frame["__retained__"] == 0, name]
        # Cohen's d with the pooled SD: a descriptive effect size beside the adjusted odds ratio.
        pooled = math.sqrt(
            ((len(stay) - 1) * stay.var() + (len(left) - 1) * left.var()) / max(len(stay) + len(left) - 2, 1)
        )
        rows.append(
            {
                "variable": name,
                "odds_ratio": float(np.exp(fit.params[name])),
                "ci_low": float(np.exp(interval.loc[name, 0])),
                "ci_high": float(np.exp(interval.loc[name, 1])),
                "p_value": float(fit.pvalues[name]),
                "smd": float((stay.mean() - left.mean()) / pooled) if pooled > 0 else math.nan,
                "n": len(frame),
            }
        )
    return pd.DataFrame(rows), None, note
