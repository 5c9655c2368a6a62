"""Consistency: the indirect effect keeps its direction across sites, subgroups or studies.

What the criterion claims (associational): the indirect effect has the hypothesised direction in every unit
the design lets the rule examine: in every site (when the strategy varies within sites, each site's a and b
paths; when it is assigned per site, each site's b path and the spread of the strategy's effect on the
mechanism across sites), in every declared subgroup, or in every study analysed together.

The rule never pools per-unit products a·b by inverse-variance weights: the delta-method variance of a
product grows with the product itself, so such weights pull the pooled value towards zero. It reads the
whole study's indirect effect for the pooled value, and the per-unit paths (each pooled by random-effects
meta-analysis, with a prediction interval for a new unit) for the spread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.rules._common import (
    POWER_CHANGE,
    bounds_hold,
    bounds_text,
    direction,
    effect_numbers,
    fmt,
    fmt_p,
    interval_against,
    interval_holds,
    judged,
    not_testable,
    significant,
    with_interval,
)
from moclab.evidence.verdicts import Status, Verdict

__all__ = ["judge_consistency", "rule_consistency"]


def rule_consistency(level: float) -> str:
    alpha = 1 - level
    return (
        "the indirect effect of the whole study must exclude 0 in the hypothesised direction, and keep that "
        "direction across units: across sites, each path's per-site estimates are pooled by random-effects "
        f"meta-analysis (REML τ², Knapp-Hartung with few sites) and the {level:.0%} prediction interval for "
        "a new site must exclude 0 on the hypothesised side (a and b when the strategy varies within sites; "
        "b when it is assigned per site, with the strategy's effect on the mechanism checked for spread "
        "across sites by comparing the variance of site means between arms, one-sided F test at "
        f"α = {alpha:.2g}); across subgroups or studies, the prediction interval of the pooled indirect "
        "effect must exclude 0 (with two units: each unit's interval). Met when every check holds; partly "
        "met when the study's indirect effect holds but a check does not; not met when it does not hold"
    )


def judge_consistency(
    pooled: Effect | None,
    units: Sequence[Effect],
    *,
    level: float,
    sign: int = 1,
    unit_name: str = "sites",
    prediction: tuple[float, float] | None = None,
    path_predictions: Mapping[str, tuple[tuple[float, float], int]] | None = None,
    heterogeneity: Effect | None = None,
    limits: str | None = None,
    failure: str | None = None,
    design_change: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Consistency: the indirect effect replicates across sites, subgroups or studies.

    Parameters
    ----------
    pooled : Effect or None
        The indirect effect over all units (the whole study's model, or the meta-analysis of studies or
        subgroups); None when nothing could be examined (`failure` says why).
    units : sequence of Effect
        The per-unit effects with their intervals (shown, and read when there are two units).
    level : float
        Confidence level.
    sign : {1, -1}
        The hypothesised direction of the indirect effect.
    unit_name : str
        What the units are ("sites", "subgroups of engagement", "studies").
    prediction : tuple of float, optional
        The prediction interval of the pooled indirect effect for a new unit (subgroups, studies).
    path_predictions : mapping, optional
        Per path ("a", "b"): its prediction interval for a new site and its hypothesised sign.
    heterogeneity : Effect, optional
        A test of spread of the strategy's effect across units (the variance ratio of site means between
        arms); significant means the effect differs across units.
    limits : str, optional
        What the design does not let the rule examine (said in the reason).
    failure, design_change : str, optional
        When `pooled` is None: why, and what would make the criterion testable.
    """
    rule = rule_consistency(level)
    alpha = 1 - level
    extra = dict(evidence or {})
    if pooled is None:
        return not_testable(
            "consistency",
            rule,
            failure or "no per-unit effects to examine",
            design_change
            or (
                "replicate in other sites or studies: randomize within sites, or analyse several studies "
                "together"
            ),
            extra,
        )
    k = len(units)
    paths = dict(path_predictions or {})
    extra.update(
        {
            "units": unit_name,
            "k": k,
            "pooled": effect_numbers(pooled),
            "prediction": list(prediction) if prediction is not None else None,
            "path_predictions": {name: list(bounds) for name, (bounds, _) in paths.items()},
            "heterogeneity": effect_numbers(heterogeneity),
            "per_unit": {effect.name: effect_numbers(effect) for effect in units},
            "limits": limits,
        }
    )
    pooled_text = f"indirect effect over {k} {unit_name} {with_interval(pooled)}"
    heterogeneous = (
        "more units (sites or studies) to narrow the prediction interval, or a look at what differs in the "
        "units where the effect is weak (moderators)"
    )
    limit_text = f" ({limits})" if limits else ""
    if interval_against(pooled, sign):
        status, change = Status.NOT_MET, "revisit the hypothesised direction of the link(s), or the measures"
        reason = f"the {pooled_text} excludes 0 against the hypothesised direction"
    elif not interval_holds(pooled, sign):
        status, change = Status.NOT_MET, POWER_CHANGE
        reason = f"the {pooled_text} does not exclude 0 in the hypothesised direction"
    elif k == 2 and not paths and heterogeneity is None:
        clear = [u for u in units if interval_holds(u, sign)]
        pointing = [u for u in units if direction(u.estimate) == sign]
        units_text = "; ".join(f"{u.name} {with_interval(u)}" for u in units)
        if len(clear) == 2:
            status, change = Status.MET, None
            reason = f"each of the 2 {unit_name} has an interval excluding 0 in the hypothesised direction"
        elif clear and len(pointing) == 2:
            status, change = Status.PARTLY_MET, heterogeneous
            reason = f"both {unit_name} point the hypothesised way, but only one interval excludes 0"
        else:
            status, change = Status.NOT_MET, POWER_CHANGE
            reason = f"the 2 {unit_name} do not both point the hypothesised way with one interval clear of 0"
        reason += f" ({units_text}; {pooled_text})"
    else:
        checks: list[tuple[bool, str]] = []
        if prediction is not None:
            checks.append(
                (
                    bounds_hold(prediction, sign),
                    f"prediction interval for a new unit {bounds_text(prediction)}",
                )
            )
        for name, (bounds, path_sign) in paths.items():
            checks.append(
                (
                    bounds_hold(bounds, path_sign),
                    f"{name} path's prediction interval for a new site {bounds_text(bounds)}",
                )
            )
        if heterogeneity is not None:
            spread = significant(heterogeneity, alpha) and heterogeneity.estimate > 1
            checks.append(
                (
                    not spread,
                    f"variance of site means, strategy arm over control arm {fmt(heterogeneity.estimate, 2)} "
                    f"({fmt_p(heterogeneity.p)})",
                )
            )
        failed = [text for ok, text in checks if not ok]
        passed = [text for ok, text in checks if ok]
        if not checks:
            status, change = Status.PARTLY_MET, heterogeneous
            reason = f"the {pooled_text} excludes 0, but its spread across {unit_name} could not be examined"
        elif not failed:
            status, change = Status.MET, None
            reason = f"the {pooled_text} excludes 0 and keeps its direction: {'; '.join(passed)}"
        else:
            status, change = Status.PARTLY_MET, heterogeneous
            reason = (
                f"the {pooled_text} excludes 0, but the effect may differ across {unit_name}: "
                f"{'; '.join(failed)} (include 0 or show spread)"
            )
            if passed:
                reason += f"; holding: {'; '.join(passed)}"
    tau2 = extra.get("tau2")
    i2 = extra.get("i2")
    if tau2 is not None and i2 is not None and math.isfinite(float(tau2)):
        reason += f"; τ² = {fmt(tau2, 4)}, I² = {fmt(i2, 1)}%"
    statistic = f"indirect effect ({k} {unit_name})"
    return judged("consistency", status, rule, reason + limit_text, change, extra, pooled, statistic)
