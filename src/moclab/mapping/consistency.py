"""Consistency across studies: random-effects meta-analysis of one pathway's standardized indirect effects.

"Results replicate across studies, samples and conditions" (Lewis et al. 2020) is a property of a body of
evidence. For every pathway (the same strategy, mechanism(s) and outcome constructs) reported by two or more
studies, the studies' indirect effects are put on one standardized scale and pooled by moclab's meta engine
(`moclab.analysis.meta_analysis`: REML τ², Knapp-Hartung interval with fewer than 20 studies, τ², I²,
Cochran's Q and the prediction interval for a new study), and the pooled result is judged by the rule of the
consistency criterion across studies (`moclab.evidence.rules.judge_consistency`, the rule `moclab analyze
--replication` applies): met when the pooled indirect effect and its prediction interval exclude 0 in the
hypothesised direction.

The scale. An arm contrast's indirect effect is standardized by the outcome's SD (partially standardized:
SDs of the outcome per arm contrast); a dose's by both SDs (completely standardized: SDs of the outcome per
SD of the dose), as `moclab.analysis.mediate` reports them (MacKinnon 2008, ch. 4; Preacher & Kelley 2011).
A record's effect is used as reported when it is on that scale, converted when the record gives the SDs that
convert it (raw → partially standardized: divided by SD(outcome); raw → completely standardized: times
SD(strategy)/SD(outcome); between the two standardized scales: times or divided by SD(strategy); the SE and
the interval scale alike, the SDs being treated as fixed, as `mediate` does), and refused with the reason
otherwise. A record with an interval but no SE gets the SE of a normal interval of its width, noted as such.

Moderators. The meta engine pools one set of estimates; it has no meta-regression. Design and setting are
examined as subgroups instead: each level with at least two studies is pooled on its own (its own τ²), and
the difference between the levels is tested by Cochran's Q across their pooled estimates with their usual
(inverse-variance) standard errors, χ² with (levels − 1) df: the test of subgroup differences of
Borenstein et al. (2009, ch. 19) with separate τ² per subgroup, the test RevMan reports.

References: Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009). *Introduction to
Meta-Analysis*. Wiley. MacKinnon, D. P. (2008). *Introduction to Statistical Mediation Analysis*. Erlbaum.
Preacher, K. J., & Kelley, K. (2011). Effect size measures for mediation models. *Psychological Methods*,
16(2), 93–115.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import special

from moclab.analysis import meta_analysis
from moclab.analysis.meta import MetaAnalysisResult
from moclab.errors import DataError
from moclab.evidence.records import EvidenceRecord
from moclab.evidence.rules import judge_consistency
from moclab.evidence.verdicts import Verdict
from moclab.plain import plain

__all__ = [
    "ModeratorTest",
    "PathwayConsistency",
    "StudyEffect",
    "consistency_across_studies",
    "standardized_effect",
    "target_scale",
]

#: The standardized scale of each strategy coding.
SCALES = {"arm": "partially standardized", "dose": "completely standardized"}
_FIELDS = {
    "partially standardized": "indirect_partially_standardized",
    "completely standardized": "indirect_completely_standardized",
}
#: With fewer studies than this, the pooled interval is Knapp-Hartung's (as `evidence.thresholds`).
KNAPP_HARTUNG_BELOW = 20
#: The moderators examined by subgroups: what they are called, and how a record's value is read.
MODERATORS: dict[str, Callable[[EvidenceRecord], str]] = {
    "design": lambda record: record.design_type or "not stated",
    "setting": lambda record: record.setting or "not stated",
}


@dataclass(frozen=True)
class StudyEffect:
    """One study's indirect effect on the pathway's standardized scale, and how it got there."""

    record: EvidenceRecord
    estimate: float
    se: float
    how: str

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {"record": self.record.id, "study": self.record.title, "estimate": self.estimate, "se": self.se,
             "how": self.how}
        )  # fmt: skip


def target_scale(records: Sequence[EvidenceRecord]) -> tuple[str, str]:
    """The strategy coding most of the records use (arm on a tie) and its standardized scale."""
    codings = Counter(record.estimates.get("strategy_coding") for record in records)
    coding = "dose" if codings["dose"] > codings["arm"] else "arm"
    return coding, SCALES[coding]


def _se_of(effect: Mapping[str, Any], level: float) -> tuple[float | None, str]:
    se = effect.get("se")
    if isinstance(se, int | float) and se > 0:
        return float(se), ""
    interval = effect.get("interval")
    if interval and all(isinstance(v, int | float) for v in interval) and interval[1] > interval[0]:
        z = float(special.ndtri(0.5 + level / 2))
        return (interval[1] - interval[0]) / (2 * z), (
            f"; SE from the width of the {level:.0%} interval (taken as a normal interval)"
        )
    return None, ""


def standardized_effect(record: EvidenceRecord, coding: str) -> tuple[StudyEffect | None, str | None]:
    """A record's indirect effect on the standardized scale of `coding` ("arm" or "dose"), or why not.

    Returns
    -------
    effect, refusal
        One of them is None: the effect with how it was obtained, or the reason it cannot be put on the
        scale.

    Examples
    --------
    A raw indirect effect with the SD of the outcome is divided by it (its SE too):

    >>> from moclab.evidence.records import record_from_data
    >>> record = record_from_data({
    ...     "kind": "moclab-evidence-record", "format": 1,
    ...     "study": {"id": "s", "title": "Illustration, not a real study", "synthetic": True},
    ...     "pathway": {"strategy": {"id": "coaching"}, "mechanisms": [{"id": "trust"}],
    ...                 "outcome": {"id": "adoption"}},
    ...     "estimates": {"strategy_coding": "arm", "indirect": {"estimate": 0.3, "se": 0.1, "scale": "raw"},
    ...                   "sd": {"outcome": 1.5}},
    ...     "criteria": {"strong_association": {"status": "met"}}, "provenance": {"source": "moclab report",
    ...     "moclab_version": "0.1.0"}})
    >>> effect, refusal = standardized_effect(record, "arm")
    >>> round(effect.estimate, 3), round(effect.se, 4), refusal
    (0.2, 0.0667, None)
    >>> print(standardized_effect(record, "dose")[1])
    the strategy is an arm contrast here but a dose in most studies of this pathway: an effect per arm
    contrast and one per unit of dose are not on one scale
    """
    estimates = record.estimates
    target = SCALES[coding]
    own = estimates.get("strategy_coding")
    if not estimates.get("indirect") and not any(estimates.get(name) for name in _FIELDS.values()):
        return None, "the record reports no indirect effect"
    if own is None:
        return None, (
            "the record does not say whether the strategy is an arm contrast or a dose "
            "(estimates.strategy_coding), so its effect cannot be put on the others' scale"
        )
    if own != coding:
        words = {"arm": "an arm contrast", "dose": "a dose"}
        return None, (
            f"the strategy is {words[own]} here but {words[coding]} in most studies of this pathway: an "
            "effect per arm contrast and one per unit of dose are not on one scale"
        )
    level = float(estimates.get("level", 0.95))
    sd = estimates.get("sd") or {}
    sd_x, sd_y = sd.get("strategy"), sd.get("outcome")
    other = "completely standardized" if target == "partially standardized" else "partially standardized"
    indirect = estimates.get("indirect") or {}
    candidates: list[tuple[Mapping[str, Any] | None, float | None, str]] = [
        (estimates.get(_FIELDS[target]), 1.0, f"reported {target}"),
        (indirect if indirect.get("scale") == target else None, 1.0, f"reported {target}"),
    ]
    if indirect.get("scale") == "raw":
        if target == "partially standardized":
            factor = 1 / sd_y if sd_y else None
            how = f"raw effect divided by SD(outcome) = {sd_y:.4g}" if sd_y else ""
        else:
            factor = sd_x / sd_y if sd_x and sd_y else None
            how = f"raw effect times SD(strategy)/SD(outcome) = {sd_x:.4g}/{sd_y:.4g}" if factor else ""
        candidates.append((indirect, factor, how))
    for source in (estimates.get(_FIELDS[other]), indirect if indirect.get("scale") == other else None):
        if target == "completely standardized":
            candidates.append(
                (source, sd_x, f"{other} effect times SD(strategy) = {sd_x:.4g}" if sd_x else "")
            )
        else:
            candidates.append((source, 1 / sd_x if sd_x else None, f"{other} effect divided by SD(strategy)"))
    usable = [(effect, factor, how) for effect, factor, how in candidates if effect and factor]
    without_se = False
    for effect, factor, how in usable:
        se, note = _se_of(effect, level)
        if se is None:
            without_se = True
            continue
        assert factor is not None
        return StudyEffect(record, float(effect["estimate"]) * factor, se * abs(factor), how + note), None
    if without_se:
        return None, "the indirect effect comes with no standard error or interval, so it cannot be weighted"
    return None, _why_not(record, target, indirect, sd_x, sd_y)


def _why_not(record: EvidenceRecord, target: str, indirect: Mapping[str, Any], sd_x: Any, sd_y: Any) -> str:
    scale = indirect.get("scale")
    if scale == "log odds":
        return (
            "the indirect effect is on the log-odds scale of a binary outcome; moclab does not convert log "
            f"odds to the {target} scale of a continuous outcome (the conversion assumes a logistic latent "
            "outcome the record cannot confirm)"
        )
    if scale == "other":
        return (
            "the indirect effect is on a scale the record does not name, so it cannot be put on the "
            f"{target} scale"
        )
    if scale == "raw":
        units = record.estimates.get("outcome_scale") or "the outcome's units"
        missing = "SD of the outcome" if not sd_y else "SD of the strategy"
        return (
            f"the indirect effect is in raw units ({units}) and the record gives no {missing} "
            f"(estimates.sd) to put it on the {target} scale"
        )
    return (
        f"the indirect effect is {scale}, and the record gives no SD of the strategy (estimates.sd.strategy) "
        f"to put it on the {target} scale"
    )


@dataclass(frozen=True)
class ModeratorTest:
    """A moderator examined by subgroups: each level's pooled effect and the test of their difference."""

    moderator: str
    subgroups: tuple[tuple[str, MetaAnalysisResult], ...] = ()
    q: float | None = None
    df: int | None = None
    p: float | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "moderator": self.moderator,
                "subgroups": [
                    {
                        "value": value,
                        "k": meta.k,
                        "pooled": meta.pooled.estimate,
                        "interval": [meta.pooled.ci_low, meta.pooled.ci_high],
                        "tau2": meta.tau2,
                        "i2": meta.i2,
                    }
                    for value, meta in self.subgroups
                ],
                "q_between": self.q,
                "df": self.df,
                "p": self.p,
                "note": self.note,
            }
        )


@dataclass(frozen=True)
class PathwayConsistency:
    """Consistency across studies of one pathway: the effects pooled, those refused, the verdict.

    Attributes
    ----------
    key : tuple of str
        The pathway as construct keys (strategy, mechanism(s), outcome).
    label : str
        strategy → mechanism(s) → outcome, in the constructs' labels.
    records : tuple of EvidenceRecord
        Every record of the pathway (one per study).
    coding, scale : str
        The strategy coding the effects share and their standardized scale.
    effects : tuple of StudyEffect
        The effects on that scale, as pooled.
    refused : tuple of (EvidenceRecord, str)
        The records whose effect could not be put on the scale, with the reason.
    meta : MetaAnalysisResult or None
        The random-effects meta-analysis (None with fewer than two effects).
    verdict : Verdict
        Consistency across studies, by the consistency rule (docs/criteria.md).
    moderators : tuple of ModeratorTest
        Design and setting, examined by subgroups.
    """

    key: tuple[str, ...]
    label: str
    records: tuple[EvidenceRecord, ...]
    coding: str
    scale: str
    effects: tuple[StudyEffect, ...]
    refused: tuple[tuple[EvidenceRecord, str], ...]
    meta: MetaAnalysisResult | None
    verdict: Verdict
    moderators: tuple[ModeratorTest, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "pathway": list(self.key),
                "label": self.label,
                "records": [record.id for record in self.records],
                "strategy_coding": self.coding,
                "scale": self.scale,
                "effects": [effect.to_dict() for effect in self.effects],
                "refused": [
                    {"record": record.id, "study": record.title, "reason": reason}
                    for record, reason in self.refused
                ],
                "meta_analysis": self.meta.to_dict() if self.meta is not None else None,
                "verdict": self.verdict.to_dict(),
                "moderators": [test.to_dict() for test in self.moderators],
            }
        )


def _unique_labels(effects: Sequence[StudyEffect]) -> list[str]:
    titles = [effect.record.title for effect in effects]
    return [
        title if titles.count(title) == 1 else f"{title} ({effect.record.study_id})"
        for title, effect in zip(titles, effects, strict=True)
    ]


def _pool(
    effects: Sequence[StudyEffect], *, level: float, method: str, knapp_hartung: bool | None, label: str
) -> MetaAnalysisResult:
    k = len(effects)
    return meta_analysis(
        estimate=[effect.estimate for effect in effects],
        se=[effect.se for effect in effects],
        label=_unique_labels(effects),
        method=method,  # type: ignore[arg-type]
        knapp_hartung=k < KNAPP_HARTUNG_BELOW if knapp_hartung is None else knapp_hartung,
        level=level,
        effect_label=label,
    )


def _moderator(
    name: str,
    effects: Sequence[StudyEffect],
    *,
    level: float,
    method: str,
    knapp_hartung: bool | None,
    label: str,
) -> ModeratorTest:
    value_of = MODERATORS[name]
    groups: dict[str, list[StudyEffect]] = {}
    for effect in effects:
        groups.setdefault(value_of(effect.record), []).append(effect)
    usable = {value: members for value, members in groups.items() if len(members) >= 2}
    if len(groups) < 2:
        return ModeratorTest(name, note=f"every study shares one {name} ({next(iter(groups), 'none')})")
    if len(usable) < 2:
        return ModeratorTest(
            name,
            note=f"fewer than two {name}s have two studies or more, so no subgroup can be pooled against "
            "another",
        )
    pooled = tuple(
        (value, _pool(members, level=level, method=method, knapp_hartung=knapp_hartung, label=label))
        for value, members in sorted(usable.items())
    )
    # the test of subgroup differences reads each subgroup's pooled estimate with its usual variance 1/Σw
    plain_fits = [
        _pool(members, level=level, method=method, knapp_hartung=False, label=label).pooled
        for _, members in sorted(usable.items())
    ]
    between = meta_analysis(
        estimate=[fit.estimate for fit in plain_fits],
        se=[fit.se for fit in plain_fits],
        label=[value for value, _ in pooled],
        knapp_hartung=False,
        level=level,
    )
    left_out = sorted(set(groups) - set(usable))
    note = f"left out (one study each): {', '.join(left_out)}" if left_out else None
    return ModeratorTest(name, pooled, between.q, between.q_df, between.q_p, note)


def consistency_across_studies(
    records: Sequence[EvidenceRecord],
    *,
    key: tuple[str, ...] = (),
    label: str = "",
    level: float = 0.95,
    method: str = "reml",
    knapp_hartung: bool | None = None,
) -> PathwayConsistency:
    """Pool one pathway's indirect effects across studies and judge consistency across studies.

    Parameters
    ----------
    records : sequence of EvidenceRecord
        One record per study, all of the same pathway (duplicates already left out).
    key, label : optional
        The pathway's construct keys and its readable name, carried into the result.
    level : float
        Confidence level of the pooled interval and of the prediction interval.
    method : {"reml", "dl", "pm"}
        The τ² estimator of `meta_analysis`.
    knapp_hartung : bool, optional
        The Knapp-Hartung interval; default: with fewer than 20 studies (as the scorecard).

    Returns
    -------
    PathwayConsistency
        With the meta-analysis (when two or more studies have an effect on the scale), the refusals, the
        verdict and the subgroup analyses of design and setting.

    Examples
    --------
    The trust pathway of the example's simulated studies (the support-dose study is refused: its effect is
    per unit of dose, the others' per arm contrast):

    >>> from moclab.mapping import build_map, example_path
    >>> records = [
    ...     entry.record for entry in build_map([example_path() / "simulated"]).entries
    ...     if entry.record.pathway_id == "isp_support__trust__acceptability"
    ... ]
    >>> result = consistency_across_studies(records)
    >>> result.meta.k, len(result.refused), result.scale
    (5, 1, 'partially standardized')
    >>> result.verdict.status.value
    'partly met'
    """
    coding, scale = target_scale(records)
    effects: list[StudyEffect] = []
    refused: list[tuple[EvidenceRecord, str]] = []
    for record in records:
        effect, reason = standardized_effect(record, coding)
        if effect is not None:
            effects.append(effect)
        else:
            refused.append((record, str(reason)))
    signs = {record.direction for record in records}
    sign = signs.pop() if len(signs) == 1 else 1
    effect_label = f"{scale} indirect effect"
    meta = None
    failure = None
    if len(effects) >= 2:
        try:
            meta = _pool(effects, level=level, method=method, knapp_hartung=knapp_hartung, label=effect_label)
        except DataError as error:
            failure = f"the meta-analysis across studies failed: {error.message}"
    else:
        failure = (
            f"{len(effects)} stud{'y has' if len(effects) == 1 else 'ies have'} an indirect effect on the "
            f"{scale} scale; pooling needs two or more"
            + (f" ({len(refused)} refused: see the reasons)" if refused else "")
        )
    moderators: tuple[ModeratorTest, ...] = ()
    if meta is not None:
        verdict = judge_consistency(
            meta.pooled,
            [effect for effect in meta.effects if effect.kind == "study"],
            level=level,
            sign=sign,
            unit_name="studies",
            prediction=tuple(meta.prediction),
            evidence={
                "tau2": meta.tau2,
                "i2": meta.i2,
                "q": meta.q,
                "q_p": meta.q_p,
                "scale": scale,
                "k": meta.k,
            },
        )
        moderators = tuple(
            _moderator(
                name, effects, level=level, method=method, knapp_hartung=knapp_hartung, label=effect_label
            )
            for name in MODERATORS
        )
    else:
        verdict = judge_consistency(
            None,
            [],
            level=level,
            sign=sign,
            unit_name="studies",
            failure=failure,
            design_change=(
                "replicate the study, or add the records of other studies of this pathway with an indirect "
                "effect, its SE (or interval) and the SDs that standardize it"
            ),
        )
    return PathwayConsistency(
        key=key,
        label=label,
        records=tuple(records),
        coding=coding,
        scale=scale,
        effects=tuple(effects),
        refused=tuple(refused),
        meta=meta,
        verdict=verdict,
        moderators=moderators,
    )
