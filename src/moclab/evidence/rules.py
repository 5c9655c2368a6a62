"""The verdict rules: one function per criterion, from estimated effects and design facts to a `Verdict`.

The rules never compute a statistic: they read `moclab.analysis.Effect` records (estimate, interval,
p-value) and plain facts about the design, compare them with the thresholds, and say in words what they
found. Keeping them apart from the orchestration (`moclab.evidence.analyze`) lets each rule be tested on
constructed cases, and lets a reader check each rule against docs/criteria.md, which documents the same rules
with their sources.

Conventions: ``alpha`` is 1 - the confidence level; an interval "excludes 0" when both ends lie on the same
side of zero; ``sign`` is the hypothesised direction, +1 or -1 (see `EvidenceSettings.links`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.verdicts import QualitativeEvidence, Status, Verdict

__all__ = [
    "LinkBacking",
    "PathSign",
    "TimelineFacts",
    "excludes_zero",
    "judge_consistency",
    "judge_experimental_manipulation",
    "judge_gradient",
    "judge_plausibility",
    "judge_specificity",
    "judge_strong_association",
    "judge_timeline",
    "not_testable",
]


# --------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------


def excludes_zero(effect: Effect | None) -> bool:
    """True when the effect's interval lies entirely on one side of 0 (False without an interval)."""
    if effect is None or effect.ci_low is None or effect.ci_high is None:
        return False
    if not (math.isfinite(effect.ci_low) and math.isfinite(effect.ci_high)):
        return False
    return effect.ci_low > 0 or effect.ci_high < 0


def _significant(effect: Effect | None, alpha: float) -> bool:
    """p < alpha when the effect has a p-value, else its interval excludes 0."""
    if effect is None:
        return False
    if effect.p is not None and math.isfinite(effect.p):
        return effect.p < alpha
    return excludes_zero(effect)


def _direction(value: float | None) -> int:
    if value is None or not math.isfinite(value) or value == 0:
        return 0
    return 1 if value > 0 else -1


def _interval(effect: Effect | None) -> tuple[float, float] | None:
    if effect is None or effect.ci_low is None or effect.ci_high is None:
        return None
    return (float(effect.ci_low), float(effect.ci_high))


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "NA"
    return f"{value:.{digits}f}"


def _fmt_p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "p NA"
    return "p < .001" if p < 0.001 else f"p = {p:.3f}"


def _with_interval(effect: Effect) -> str:
    text = _fmt(effect.estimate)
    if effect.ci_low is not None and effect.ci_high is not None:
        text += f" [{_fmt(effect.ci_low)}, {_fmt(effect.ci_high)}]"
    return text


def effect_numbers(effect: Effect | None) -> dict[str, Any] | None:
    """estimate, se, ci_low, ci_high, p and the interval method of an effect, for a verdict's evidence."""
    if effect is None:
        return None
    return {
        "estimate": effect.estimate,
        "se": effect.se,
        "ci_low": effect.ci_low,
        "ci_high": effect.ci_high,
        "p": effect.p,
        "ci_method": effect.ci_method,
    }


def _sign_word(sign: int) -> str:
    return "positive" if sign >= 0 else "negative"


def not_testable(
    criterion: str, rule: str, reason: str, design_change: str, evidence: dict[str, Any] | None = None
) -> Verdict:
    """A "not testable" verdict: what was missing, and what the next study would need."""
    return Verdict(
        criterion=criterion,
        status=Status.NOT_TESTABLE,
        rule=rule,
        reason=reason,
        design_change=design_change,
        evidence=evidence or {},
    )


# --------------------------------------------------------------------------------------------------------
# Strong association
# --------------------------------------------------------------------------------------------------------

POWER_CHANGE = (
    "more power: more sites (when the design is clustered) or recipients, a more reliable measure of the "
    "mechanism, or a stronger contrast in the strategy; `moclab power` estimates how many are needed"
)


#: What the a and b paths of a multilevel mediation model are, by design (docs/multilevel.md).
MULTILEVEL_PATHS = {
    "2-1-1": "between-cluster a and b paths (the strategy moves a site's mean mechanism, which moves the "
    "outcome), indirect effect a·b",
    "1-1-1": "within-cluster a and b paths (fixed parts of random slopes), average indirect effect "
    "a·b + σ_ab",
}


def rule_strong_association(level: float, multilevel: str | None = None) -> str:
    """The rule text; `multilevel` is the design ("2-1-1", "1-1-1") when a multilevel model was used."""
    alpha = 1 - level
    rule = (
        f"met when the {level:.0%} interval of the indirect effect excludes 0 and every path along it (a, "
        f"and b; d for serial mechanisms) is significant at α = {alpha:.2g} (joint significance, MacKinnon "
        "et "
        "al. 2002); not met when the interval includes 0 and no path is significant; partly met otherwise "
        "(one path only, or the interval and the joint test disagree)"
    )
    if multilevel is not None:
        rule += (
            f"; judged on a multilevel mediation model ({multilevel} design: {MULTILEVEL_PATHS[multilevel]}; "
            "Wald tests of the paths, Monte Carlo interval of the indirect effect; Bauer, Preacher & Gil "
            "2006; Zhang, Zyphur & Preacher 2009)"
        )
    return rule


def judge_strong_association(
    indirect: Effect | None,
    paths: Sequence[Effect],
    *,
    level: float,
    failure: str | None = None,
    evidence: dict[str, Any] | None = None,
    multilevel: str | None = None,
) -> Verdict:
    """Strong association: the a and b paths and the indirect effect (Kazdin 2007; Lewis et al. 2020).

    Parameters
    ----------
    indirect : Effect or None
        The indirect effect through the pathway's mechanism(s), with its interval; None when the mediation
        model could not be estimated (then `failure` says why).
    paths : sequence of Effect
        Every path along the indirect effect (a, d..., b), each with its p-value.
    level : float
        Confidence level; alpha = 1 - level.
    failure : str, optional
        Why the mediation model could not be estimated.
    evidence : dict, optional
        Further numbers to keep with the verdict (n, clusters, ICCs).
    multilevel : {"2-1-1", "1-1-1"}, optional
        The design of the multilevel mediation model `indirect` and `paths` come from (the rule and the
        reason then say so, and whether the paths are between or within clusters); None for single-level.
    """
    rule = rule_strong_association(level, multilevel)
    alpha = 1 - level
    extra = dict(evidence or {})
    if indirect is None or not paths:
        return not_testable(
            "strong_association",
            rule,
            f"the mediation model could not be estimated: {failure or 'no data'}",
            "measure the mechanism and the outcome on the same recipients after the strategy has begun, with "
            "a "
            "comparison (a control arm, or recipients who receive different doses of the strategy)",
            extra,
        )
    significant = {path.name: _significant(path, alpha) for path in paths}
    interval_ok = excludes_zero(indirect)
    joint = all(significant.values())
    extra.update(
        {
            "indirect": effect_numbers(indirect),
            "paths": {path.name: effect_numbers(path) for path in paths},
            "joint_significant": joint,
            "joint_p": max((path.p for path in paths if path.p is not None), default=None),
        }
    )
    path_text = ", ".join(f"{p.name} = {_fmt(p.estimate)} ({_fmt_p(p.p)})" for p in paths)
    indirect_text = f"indirect effect {_with_interval(indirect)}"
    if multilevel is not None:
        where = "between" if multilevel == "2-1-1" else "within"
        extra["mediation_model"] = f"multilevel {multilevel}"
        extra["path_level"] = where
        path_text = f"{where}-cluster paths of the {multilevel} multilevel model: {path_text}"
        indirect_text = f"{where}-cluster {indirect_text} (Monte Carlo interval)"
    if interval_ok and joint:
        status, design_change = Status.MET, None
        reason = f"the {indirect_text} excludes 0 and every path is significant ({path_text})"
    elif not interval_ok and not any(significant.values()):
        status, design_change = Status.NOT_MET, POWER_CHANGE
        reason = f"no path is significant ({path_text}) and the {indirect_text} includes 0"
    else:
        status = Status.PARTLY_MET
        holding = [name for name, ok in significant.items() if ok]
        missing = [name for name, ok in significant.items() if not ok]
        parts = []
        parts.append(f"the {indirect_text} {'excludes' if interval_ok else 'includes'} 0")
        if holding:
            parts.append(f"significant: {', '.join(holding)}")
        if missing:
            parts.append(f"not significant: {', '.join(missing)}")
        reason = "; ".join(parts) + f" ({path_text})"
        design_change = POWER_CHANGE
    return Verdict(
        criterion="strong_association",
        status=status,
        rule=rule,
        reason=reason,
        statistic="indirect effect",
        estimate=indirect.estimate,
        interval=_interval(indirect),
        design_change=design_change,
        evidence=extra,
    )


# --------------------------------------------------------------------------------------------------------
# Specificity
# --------------------------------------------------------------------------------------------------------


def rule_specificity(level: float) -> str:
    return (
        "with the competing mechanisms entered as parallel mediators, met when the mechanism's own indirect "
        f"effect excludes 0 ({level:.0%} interval) and every comparison favours it: each contrast (this "
        "indirect effect minus a competitor's) excludes 0 in the hypothesised direction, and the indirect "
        "effect on each declared non-target outcome includes 0; partly met when the own indirect effect "
        "excludes 0 and some but not all comparisons favour it; not met when it includes 0 or no comparison "
        "favours it"
    )


SPECIFICITY_CHANGE = (
    "measure at least one competing mechanism named in the model (its alternatives) at the same wave as this "
    "one, or declare a non-target outcome the mechanism should not change (evidence.non_target_outcomes in "
    "moclab.yaml)"
)


def judge_specificity(
    target: Effect | None,
    contrasts: Sequence[tuple[str, Effect]],
    non_targets: Sequence[tuple[str, Effect]],
    *,
    level: float,
    sign: int = 1,
    unmeasured: Sequence[str] = (),
    failures: Sequence[str] = (),
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Specificity: this mechanism, not a competing one, carries the effect, and only to the target outcome.

    Parameters
    ----------
    target : Effect or None
        The mechanism's specific indirect effect in the model with the competitors (or, without
        competitors, in the model of the pathway alone).
    contrasts : sequence of (str, Effect)
        Per competing mechanism, the contrast ``indirect[this] - indirect[competitor]``.
    non_targets : sequence of (str, Effect)
        Per non-target outcome, the indirect effect of the strategy on it through this mechanism.
    level : float
        Confidence level.
    sign : {1, -1}
        The hypothesised direction of the indirect effect.
    unmeasured : sequence of str
        Competing mechanisms the model names but the data lack (reported).
    failures : sequence of str
        Models that could not be estimated, with why (reported).
    """
    rule = rule_specificity(level)
    extra = dict(evidence or {})
    extra.update(
        {
            "target": effect_numbers(target),
            "contrasts": {name: effect_numbers(effect) for name, effect in contrasts},
            "non_target_indirect": {name: effect_numbers(effect) for name, effect in non_targets},
            "unmeasured_alternatives": list(unmeasured),
            "failures": list(failures),
        }
    )
    notes = []
    if unmeasured:
        notes.append(f"competing mechanisms without data: {', '.join(unmeasured)}")
    if failures:
        notes.append("; ".join(failures))
    note_text = (" (" + "; ".join(notes) + ")") if notes else ""
    if target is None:
        reason = "the mechanism's indirect effect could not be estimated" + note_text
        change = (
            "measure the mechanism and the outcome on the same recipients, with a comparison in the strategy"
        )
        return not_testable("specificity", rule, reason, change, extra)
    if not contrasts and not non_targets:
        reason = "there is nothing to compare the mechanism with: no competing mechanism was measured and no"
        reason += " non-target outcome was declared" + note_text
        return not_testable("specificity", rule, reason, SPECIFICITY_CHANGE, extra)
    passed, failed = [], []
    for name, effect in contrasts:
        favours = excludes_zero(effect) and _direction(effect.estimate) == sign
        (passed if favours else failed).append(f"contrast with {name} {_with_interval(effect)}")
    for name, effect in non_targets:
        clean = not excludes_zero(effect)
        (passed if clean else failed).append(f"indirect effect on non-target {name} {_with_interval(effect)}")
    own = excludes_zero(target) and _direction(target.estimate) == sign
    own_text = f"own indirect effect {_with_interval(target)}"
    if own and not failed:
        status, design_change = Status.MET, None
        reason = f"{own_text} excludes 0 and every comparison favours this mechanism: {'; '.join(passed)}"
    elif own and passed:
        status = Status.PARTLY_MET
        reason = (
            f"{own_text} excludes 0; favouring this mechanism: {'; '.join(passed)}; not favouring it: "
            f"{'; '.join(failed)}"
        )
        design_change = (
            "a sharper test: measures that separate this mechanism from its competitors (discriminant "
            "validity), or an arm that targets this mechanism alone"
        )
    else:
        status = Status.NOT_MET
        if not own:
            reason = (
                f"{own_text} does not exclude 0 in the hypothesised ({_sign_word(sign)}) direction once "
                "the competitors are in the model"
            )
        else:
            reason = f"{own_text}, but no comparison favours this mechanism: {'; '.join(failed)}"
        design_change = (
            "a sharper test: measures that separate this mechanism from its competitors (discriminant "
            f"validity), or an arm that targets this mechanism alone; or {POWER_CHANGE}"
        )
    return Verdict(
        criterion="specificity",
        status=status,
        rule=rule,
        reason=reason + note_text,
        statistic="indirect effect with competitors in the model",
        estimate=target.estimate,
        interval=_interval(target),
        design_change=design_change,
        evidence=extra,
    )


# --------------------------------------------------------------------------------------------------------
# Consistency
# --------------------------------------------------------------------------------------------------------


def rule_consistency(level: float) -> str:
    return (
        "per-unit (site, subgroup or study) indirect effects pooled by random-effects meta-analysis (REML "
        "τ², "
        "Knapp-Hartung interval with few units). With three or more units: met when the pooled interval "
        f"excludes 0 and the {level:.0%} prediction interval for a new unit excludes 0 too (the effect keeps "
        "its direction across units); partly met when only the pooled interval excludes 0; not met when it "
        "includes 0. With two units (too few for τ² or a prediction interval): met when each unit's own "
        "interval excludes 0 in the same direction; partly met when one does and the other points the same "
        "way; not met otherwise"
    )


def judge_consistency(
    pooled: Effect | None,
    units: Sequence[Effect],
    prediction: tuple[float, float] | None,
    *,
    level: float,
    unit_name: str = "sites",
    failure: str | None = None,
    design_change: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Consistency: the indirect effect replicates across sites, subgroups or studies.

    Parameters
    ----------
    pooled : Effect or None
        The random-effects pooled indirect effect; None when no meta-analysis could be run.
    units : sequence of Effect
        The per-unit effects with their intervals.
    prediction : tuple of float or None
        The prediction interval for a new unit (NaN with fewer than three units).
    unit_name : str
        What the units are ("sites", "subgroups of engagement", "studies").
    failure, design_change : str, optional
        When `pooled` is None: why, and what would make the criterion testable.
    """
    rule = rule_consistency(level)
    extra = dict(evidence or {})
    if pooled is None:
        return not_testable(
            "consistency",
            rule,
            failure or "no per-unit effects to pool",
            design_change
            or (
                "replicate in other sites or studies: randomize within sites, or analyse several studies "
                "together"
            ),
            extra,
        )
    k = len(units)
    extra.update(
        {
            "units": unit_name,
            "k": k,
            "pooled": effect_numbers(pooled),
            "prediction": list(prediction) if prediction is not None else None,
            "per_unit": {effect.name: effect_numbers(effect) for effect in units},
        }
    )
    pooled_text = f"pooled indirect effect over {k} {unit_name} {_with_interval(pooled)}"
    heterogeneous = (
        "more units (sites or studies) to narrow the prediction interval, or a look at what differs in the "
        "units where the effect is weak (moderators)"
    )
    if k >= 3:
        prediction_ok = (
            prediction is not None
            and all(math.isfinite(v) for v in prediction)
            and (prediction[0] > 0 or prediction[1] < 0)
        )
        kept_text = (
            f"prediction interval [{_fmt(prediction[0])}, {_fmt(prediction[1])}]"
            if prediction is not None
            else "no prediction interval"
        )
        if excludes_zero(pooled) and prediction_ok:
            status, change = Status.MET, None
            reason = f"{pooled_text} excludes 0 and so does the {kept_text}: the effect keeps its direction"
        elif excludes_zero(pooled):
            status, change = Status.PARTLY_MET, heterogeneous
            reason = (
                f"{pooled_text} excludes 0, but the {kept_text} includes 0: the effect may differ in other "
                "units"
            )
        else:
            status, change = Status.NOT_MET, POWER_CHANGE
            reason = f"{pooled_text} includes 0"
    else:
        units_text = "; ".join(f"{u.name} {_with_interval(u)}" for u in units)
        clear = [u for u in units if excludes_zero(u)]
        directions = {_direction(u.estimate) for u in units}
        if len(clear) == k and len({_direction(u.estimate) for u in clear}) == 1:
            status, change = Status.MET, None
            reason = f"every one of the {k} {unit_name} has an interval excluding 0 in the same direction"
        elif clear and len(directions) == 1:
            status, change = Status.PARTLY_MET, heterogeneous
            reason = (
                f"the effect points the same way in the {k} {unit_name}, but not every interval excludes 0"
            )
        else:
            status, change = Status.NOT_MET, POWER_CHANGE
            reason = f"no {unit_name} interval excludes 0, or the {unit_name} disagree in direction"
        reason += f" ({units_text}; {pooled_text})"
    tau2 = extra.get("tau2")
    i2 = extra.get("i2")
    if tau2 is not None and i2 is not None:
        reason += f"; τ² = {_fmt(tau2, 4)}, I² = {_fmt(i2, 1)}%"
    return Verdict(
        criterion="consistency",
        status=status,
        rule=rule,
        reason=reason,
        statistic=f"pooled indirect effect ({k} {unit_name})",
        estimate=pooled.estimate,
        interval=_interval(pooled),
        design_change=change,
        evidence=extra,
    )


# --------------------------------------------------------------------------------------------------------
# Experimental manipulation
# --------------------------------------------------------------------------------------------------------


def rule_experimental_manipulation(level: float) -> str:
    alpha = 1 - level
    return (
        "met when the strategy was randomized (design.randomization) and the randomized contrast moved the "
        f"mechanism (a path significant at α = {alpha:.2g}) and the outcome through it (indirect effect's "
        f"{level:.0%} interval excludes 0); partly met when only one of the two holds; not met when neither "
        "holds, or when the strategy was not randomized (an observational design)"
    )


OBSERVATIONAL_CHANGE = (
    "randomize the strategy: at the site level when it is delivered to whole sites (a cluster-randomized or "
    "stepped-wedge trial), at the recipient level otherwise; or manipulate the mechanism itself (an arm that "
    "targets it alone), which is the only way to make the mechanism → outcome link experimental"
)


def judge_experimental_manipulation(
    randomization_level: str,
    strategy_randomized: bool,
    a_path: Effect | None,
    indirect: Effect | None,
    *,
    level: float,
    strategy_text: str = "the strategy",
    failure: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Experimental manipulation: was the strategy assigned at random, and did that move the mechanism?

    Parameters
    ----------
    randomization_level : str
        ``design.randomization.level`` ("none", "recipient", "site", "team", ...).
    strategy_randomized : bool
        Whether this pathway's strategy variable is the randomized arm (a support dose is not, even in a
        randomized study).
    a_path, indirect : Effect or None
        The strategy → mechanism path and the indirect effect from the pathway's mediation model.
    strategy_text : str
        How the strategy was coded, for the reason ("arm: 1 = intensive, 0 = usual").
    failure : str, optional
        Why the mediation model could not be estimated.
    """
    rule = rule_experimental_manipulation(level)
    alpha = 1 - level
    extra = dict(evidence or {})
    extra.update({"randomization_level": randomization_level, "strategy_randomized": strategy_randomized})
    if randomization_level in ("none", "", None):
        return Verdict(
            criterion="experimental_manipulation",
            status=Status.NOT_MET,
            rule=rule,
            reason="the strategy was not randomized (observational design): differences between recipients "
            "who received more or less of it may reflect who chose, or was chosen, to receive it",
            design_change=OBSERVATIONAL_CHANGE,
            evidence=extra,
        )
    if not strategy_randomized:
        return not_testable(
            "experimental_manipulation",
            rule,
            f"the study randomized at the {randomization_level} level, but this pathway's strategy is "
            f"{strategy_text}, which was not assigned at random",
            "analyse the randomized arm as the strategy (evidence.strategy: auto in moclab.yaml), or "
            "randomize "
            "the dose itself",
            extra,
        )
    if a_path is None or indirect is None:
        return not_testable(
            "experimental_manipulation",
            rule,
            f"the strategy was randomized at the {randomization_level} level, but the mediation model could "
            "not "
            f"be estimated: {failure or 'no data'}",
            "measure the mechanism and the outcome in both arms after the strategy has begun",
            extra,
        )
    extra.update({"a": effect_numbers(a_path), "indirect": effect_numbers(indirect)})
    moved = _significant(a_path, alpha)
    through = excludes_zero(indirect)
    head = f"randomized at the {randomization_level} level ({strategy_text}); "
    a_text = f"a = {_with_interval(a_path)} ({_fmt_p(a_path.p)})"
    indirect_text = f"indirect effect {_with_interval(indirect)}"
    if moved and through:
        status, change = Status.MET, None
        reason = head + f"the randomized contrast moved the mechanism ({a_text}) and the outcome through it "
        reason += (
            f"({indirect_text}); the mechanism → outcome link itself stays observational unless the "
            "mechanism "
            "is manipulated (see the sensitivity analysis)"
        )
    elif moved or through:
        status = Status.PARTLY_MET
        reason = head + (
            f"the randomized contrast moved the mechanism ({a_text}) but the {indirect_text} includes 0"
            if moved
            else f"the {indirect_text} excludes 0 but the a path is not significant ({a_text})"
        )
        change = POWER_CHANGE
    else:
        status = Status.NOT_MET
        reason = head + f"the randomized contrast did not move the mechanism ({a_text}; {indirect_text})"
        change = POWER_CHANGE
    return Verdict(
        criterion="experimental_manipulation",
        status=status,
        rule=rule,
        reason=reason,
        statistic="a path (randomized strategy → mechanism)",
        estimate=a_path.estimate,
        interval=_interval(a_path),
        design_change=change,
        evidence=extra,
    )


# --------------------------------------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineFacts:
    """When the strategy began and the mechanism and outcome were measured (months since the study start).

    ``n_waves`` is the number of design waves; times are None when unknown (only the order of waves is).
    """

    n_waves: int
    mechanism_wave: str
    outcome_wave: str
    mechanism_order: int
    outcome_order: int
    mechanism_time: float | None = None
    outcome_time: float | None = None
    strategy_start: float | None = None
    start_source: str | None = None
    unit: str = "months"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def rule_timeline(level: float) -> str:
    alpha = 1 - level
    return (
        "two pieces of evidence: (A) by design, the mechanism was measured after the strategy began and at "
        "an "
        "earlier wave than the outcome; (B) in the cross-lagged panel model (two or more waves), the "
        f"mechanism → later outcome path is significant at α = {alpha:.2g} in the hypothesised direction, "
        "and "
        "the reverse path (outcome → later mechanism) is either not significant or significantly smaller "
        "(standardized difference). "
        "Met when A and B hold; partly met when one holds and nothing points the other way; not met when "
        "neither holds, or only the reverse path is significant; not testable with a single wave"
    )


def judge_timeline(
    facts: TimelineFacts,
    m_to_y: Effect | None,
    y_to_m: Effect | None,
    difference_std: Effect | None,
    *,
    level: float,
    sign: int = 1,
    panel_failure: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Timeline (temporal precedence): the mechanism changes after the strategy begins and before the outcome.

    Parameters
    ----------
    facts : TimelineFacts
        Waves and times of the strategy start, the mechanism and the outcome.
    m_to_y, y_to_m, difference_std : Effect or None
        Cross-lagged effects (mechanism at t → outcome at t+1 and the reverse) and the standardized
        difference m_to_y_std - y_to_m_std; None when no panel model was fitted (`panel_failure` says why).
    sign : {1, -1}
        Hypothesised direction of the mechanism → outcome effect.
    """
    rule = rule_timeline(level)
    alpha = 1 - level
    extra = dict(evidence or {})
    extra["timeline"] = facts.to_dict()
    if facts.n_waves < 2:
        return not_testable(
            "timeline",
            rule,
            "the study has a single wave, so the mechanism and the outcome were measured at the same time",
            "measure at three waves at least: before the strategy begins (baseline), while it acts (the "
            "mechanism) and afterwards (the outcome)",
            extra,
        )
    # (A) order by design
    before_outcome = facts.mechanism_order < facts.outcome_order
    if facts.mechanism_time is not None and facts.outcome_time is not None:
        before_outcome = before_outcome and facts.mechanism_time < facts.outcome_time
    after_start: bool | None = None
    if facts.strategy_start is not None and facts.mechanism_time is not None:
        after_start = facts.mechanism_time > facts.strategy_start
    order_ok = before_outcome and after_start is not False
    order_parts = [
        f"mechanism at wave {facts.mechanism_wave}"
        + (f" ({_fmt(facts.mechanism_time, 1)} {facts.unit})" if facts.mechanism_time is not None else ""),
        f"outcome at wave {facts.outcome_wave}"
        + (f" ({_fmt(facts.outcome_time, 1)} {facts.unit})" if facts.outcome_time is not None else ""),
    ]
    if facts.strategy_start is not None:
        order_parts.append(
            f"strategy began at {_fmt(facts.strategy_start, 1)} {facts.unit} ({facts.start_source})"
        )
    order_text = ", ".join(order_parts)
    if not before_outcome:
        order_reason = f"the mechanism was not measured before the outcome ({order_text})"
    elif after_start is False:
        order_reason = f"the mechanism was measured before the strategy began ({order_text})"
    else:
        order_reason = f"the mechanism was measured before the outcome ({order_text})"
        if after_start is None:
            order_reason += (
                "; when the strategy began is unknown (set evidence.strategy_start or log activities)"
            )
    extra["order_by_design"] = order_ok
    # (B) cross-lagged panel
    panel_ok = reverse_only = False
    panel_reason = f"no cross-lagged panel estimate ({panel_failure})" if panel_failure else ""
    if m_to_y is not None and y_to_m is not None:
        extra.update(
            {
                "m_to_y": effect_numbers(m_to_y),
                "y_to_m": effect_numbers(y_to_m),
                "difference_std": effect_numbers(difference_std),
            }
        )
        forward = _significant(m_to_y, alpha) and _direction(m_to_y.estimate) == sign
        # With reciprocal effects, the mechanism leads only if the forward path is clearly the larger one.
        forward_larger = (
            difference_std is not None
            and excludes_zero(difference_std)
            and _direction(difference_std.estimate) == sign
        )
        panel_ok = forward and (not _significant(y_to_m, alpha) or forward_larger)
        reverse_only = _significant(y_to_m, alpha) and not _significant(m_to_y, alpha)
        panel_reason = (
            f"cross-lagged mechanism → outcome {_with_interval(m_to_y)} ({_fmt_p(m_to_y.p)}), outcome → "
            f"mechanism {_with_interval(y_to_m)} ({_fmt_p(y_to_m.p)})"
        )
        if difference_std is not None:
            panel_reason += f", standardized difference {_with_interval(difference_std)}"
    extra["panel_supports"] = panel_ok
    reason = "; ".join(part for part in (order_reason, panel_reason) if part)
    if reverse_only:
        status = Status.NOT_MET
        reason += "; only the reverse path (outcome → later mechanism) is significant"
    elif order_ok and panel_ok:
        status = Status.MET
    elif order_ok or panel_ok:
        status = Status.PARTLY_MET
    else:
        status = Status.NOT_MET
    change = None
    if status is not Status.MET:
        if not order_ok:
            change = (
                "measure the mechanism at a wave after the strategy has begun and before the wave at which "
                "the "
                "outcome is measured (evidence.waves in moclab.yaml chooses the waves)"
            )
        else:
            change = (
                "measure both the mechanism and the outcome at three or more waves, spaced at the lag at "
                "which "
                "the mechanism is expected to act, so a cross-lagged model can show which leads; or "
                f"{POWER_CHANGE}"
            )
    headline = m_to_y if m_to_y is not None else None
    return Verdict(
        criterion="timeline",
        status=status,
        rule=rule,
        reason=reason,
        statistic="cross-lagged mechanism → outcome" if headline is not None else None,
        estimate=headline.estimate if headline is not None else None,
        interval=_interval(headline),
        design_change=change,
        evidence=extra,
    )


# --------------------------------------------------------------------------------------------------------
# Gradient
# --------------------------------------------------------------------------------------------------------


def rule_gradient(level: float) -> str:
    alpha = 1 - level
    return (
        "two dose-response links, each tested for a monotone trend across ordered dose groups (linear "
        f"contrast of the group means, α = {alpha:.2g}) with the linear slope reported: support received → "
        "mechanism, and mechanism → outcome. A link holds when its trend is significant in the hypothesised "
        "direction. Met when both hold; partly met when one holds; not met when neither holds; not testable "
        "when neither could be estimated"
    )


DOSE_CHANGE = (
    "log the support each recipient (or site) receives (date, minutes or contacts per activity; the "
    "activities table) and let it vary, so the dose-mechanism gradient can be tested"
)


def _gradient_link(
    name: str, slope: Effect | None, trend: Effect | None, sign: int, alpha: float
) -> tuple[bool, str]:
    if trend is None:
        return False, ""
    holds = _significant(trend, alpha) and _direction(trend.estimate) == sign
    text = f"{name}: trend {_with_interval(trend)} ({_fmt_p(trend.p)})"
    if slope is not None:
        text += f", slope {_with_interval(slope)}"
    return holds, text


def judge_gradient(
    dose_slope: Effect | None,
    dose_trend: Effect | None,
    mechanism_slope: Effect | None,
    mechanism_trend: Effect | None,
    *,
    level: float,
    dose_sign: int = 1,
    mechanism_sign: int = 1,
    dose_failure: str | None = None,
    mechanism_failure: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Gradient (dose-response): more support, more mechanism; more mechanism, more outcome.

    Parameters
    ----------
    dose_slope, dose_trend : Effect or None
        Slope and trend test of the mechanism on the support received; None when not estimated
        (`dose_failure` says why).
    mechanism_slope, mechanism_trend : Effect or None
        Slope and trend test of the outcome on the mechanism.
    dose_sign, mechanism_sign : {1, -1}
        Hypothesised directions of the two links.
    """
    rule = rule_gradient(level)
    alpha = 1 - level
    extra = dict(evidence or {})
    extra.update(
        {
            "dose_slope": effect_numbers(dose_slope),
            "dose_trend": effect_numbers(dose_trend),
            "mechanism_slope": effect_numbers(mechanism_slope),
            "mechanism_trend": effect_numbers(mechanism_trend),
        }
    )
    dose_holds, dose_text = _gradient_link("support → mechanism", dose_slope, dose_trend, dose_sign, alpha)
    mech_holds, mech_text = _gradient_link(
        "mechanism → outcome", mechanism_slope, mechanism_trend, mechanism_sign, alpha
    )
    if not dose_text:
        dose_text = f"support → mechanism not estimated ({dose_failure or 'no dose data'})"
    if not mech_text:
        mech_text = f"mechanism → outcome not estimated ({mechanism_failure or 'no data'})"
    reason = f"{dose_text}; {mech_text}"
    extra.update({"dose_link_holds": dose_holds, "mechanism_link_holds": mech_holds})
    if dose_trend is None and mechanism_trend is None:
        return not_testable("gradient", rule, reason, DOSE_CHANGE, extra)
    if dose_holds and mech_holds:
        status, change = Status.MET, None
    elif dose_holds or mech_holds:
        status = Status.PARTLY_MET
        change = DOSE_CHANGE if dose_trend is None else POWER_CHANGE
    else:
        status = Status.NOT_MET
        change = DOSE_CHANGE if dose_trend is None else POWER_CHANGE
    headline = mechanism_slope if mechanism_slope is not None else dose_slope
    statistic = (
        "slope of the outcome on the mechanism" if mechanism_slope is not None else "slope on the dose"
    )
    return Verdict(
        criterion="gradient",
        status=status,
        rule=rule,
        reason=reason,
        statistic=statistic if headline is not None else None,
        estimate=headline.estimate if headline is not None else None,
        interval=_interval(headline),
        design_change=change,
        evidence=extra,
    )


# --------------------------------------------------------------------------------------------------------
# Plausibility or coherence
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkBacking:
    """One link of the pathway (``source -> target``) and what backs it: templates, catalog, citations."""

    source: str
    target: str
    sign: int = 1
    sources: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.source} → {self.target}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "sign": _sign_word(self.sign),
            "backed_by": list(self.sources),
        }


@dataclass(frozen=True)
class PathSign:
    """An estimated path (a, d or b) with the sign its links predict (the product of their signs)."""

    name: str
    expected: int
    effect: Effect | None = None
    links: tuple[str, ...] = field(default_factory=tuple)


def rule_plausibility(level: float) -> str:
    return (
        "met when every link of the pathway is backed (a template, a catalog framework that orders the two "
        "steps, the model's citation or a citation given for the link in moclab.yaml) or the qualitative "
        "evidence supports the pathway (coded interviews: enough of them tell the mechanism before the "
        "outcome), and every estimated path points in the hypothesised direction, with no qualitative "
        "evidence against it; not met when no link is backed and no qualitative evidence supports the "
        f"pathway, a path's {level:.0%} interval excludes 0 on the wrong side, or the qualitative evidence "
        "contradicts the pathway; partly met otherwise"
    )


def _interviews_told(qualitative: QualitativeEvidence) -> str:
    """ "; 6 of 12 interviews tell it" when the qualitative evidence comes from coded interviews."""
    counts = qualitative.counts
    if "mechanism_first" not in counts or "interviews" not in counts:
        return ""
    return f"; {counts['mechanism_first']} of {counts['interviews']} interviews tell it"


def judge_plausibility(
    links: Sequence[LinkBacking],
    paths: Sequence[PathSign],
    qualitative: QualitativeEvidence,
    *,
    level: float,
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Plausibility or coherence: the links are backed by what else is known and point the expected way.

    Parameters
    ----------
    links : sequence of LinkBacking
        Every link of the analysed part of the pathway with its backing sources.
    paths : sequence of PathSign
        The estimated paths with their expected sign (``effect`` None when not estimated).
    qualitative : QualitativeEvidence
        What qualitative research says about the pathway (supports, contradicts, none).
    """
    rule = rule_plausibility(level)
    extra = dict(evidence or {})
    extra.update(
        {
            "links": [link.to_dict() for link in links],
            "paths": {
                path.name: {"expected": _sign_word(path.expected), **(effect_numbers(path.effect) or {})}
                for path in paths
            },
            "qualitative": qualitative.to_dict(),
        }
    )
    qualitative_backs = qualitative.status == "supports"
    unbacked = [link.label for link in links if not link.sources]
    backed = [link for link in links if link.sources]
    estimated = [path for path in paths if path.effect is not None]
    against = [
        path
        for path in estimated
        if excludes_zero(path.effect) and _direction(path.effect.estimate) == -path.expected  # type: ignore[union-attr]
    ]
    mismatched = [
        path
        for path in estimated
        if _direction(path.effect.estimate) != path.expected  # type: ignore[union-attr]
    ]
    parts = []
    if backed:
        parts.append("backed: " + "; ".join(f"{link.label} by {', '.join(link.sources)}" for link in backed))
    if unbacked:
        parts.append("no backing found for " + ", ".join(unbacked))
    if estimated:
        directions = ", ".join(
            f"{p.name} = {_fmt(p.effect.estimate)} (expected {_sign_word(p.expected)})"  # type: ignore[union-attr]
            for p in estimated
        )
        parts.append("estimated directions: " + directions)
    else:
        parts.append("the directions could not be estimated")
    parts.append(f"qualitative evidence: {qualitative.summary}")
    if qualitative_backs and unbacked:
        parts.append(
            "the qualitative support stands in for the unbacked link" + ("s" if len(unbacked) > 1 else "")
        )
    reason = "; ".join(parts)
    cite_change = (
        "cite the theory or study that predicts each unbacked link (evidence.links in moclab.yaml), or build "
        "the "
        "model from a published template; qualitative interviews with recipients can add coherence"
    )
    if against or qualitative.status == "contradicts" or (not backed and not qualitative_backs):
        status = Status.NOT_MET
        if qualitative.status == "contradicts":
            reason = "the qualitative evidence contradicts the pathway; " + reason
        if against:
            reason = (
                "estimated against the hypothesis: "
                + ", ".join(f"{p.name} {_with_interval(p.effect)}" for p in against)  # type: ignore[arg-type]
                + "; "
                + reason
            )
        if against:
            change = "revisit the hypothesised direction of the link(s), or the measures"
        elif qualitative.status == "contradicts":
            change = (
                "re-read the interviews that contradict the pathway: the mechanism may work for some "
                "recipients only (a moderator), or another mechanism may carry the effect"
            )
        else:
            change = cite_change
    elif (not unbacked or qualitative_backs) and estimated and not mismatched:
        status, change = Status.MET, None
    else:
        status = Status.PARTLY_MET
        change = cite_change if unbacked else "a study with more power to pin down the directions"
    return Verdict(
        criterion="plausibility",
        status=status,
        rule=rule,
        reason=reason,
        statistic=f"{len(backed)} of {len(links)} links backed" + _interviews_told(qualitative),
        design_change=change,
        evidence=extra,
    )
