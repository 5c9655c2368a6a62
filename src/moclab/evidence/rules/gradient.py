"""Gradient: more support goes with more of the mechanism, and more mechanism with more outcome.

What the criterion claims (associational): among the recipients who received the strategy, more support
received goes with more of the mechanism, and more of the mechanism goes with more of the outcome holding
the strategy, the baselines and the measured competing mechanisms fixed, both in the hypothesised direction.
"""

from __future__ import annotations

from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.rules._common import (
    POWER_CHANGE,
    direction,
    effect_numbers,
    fmt_p,
    judged,
    not_testable,
    significant,
    with_interval,
)
from moclab.evidence.verdicts import Status, Verdict

__all__ = ["DOSE_CHANGE", "judge_gradient", "rule_gradient"]


def rule_gradient(level: float) -> str:
    alpha = 1 - level
    return (
        "two dose-response links, each tested for a monotone trend across ordered dose groups (linear "
        f"contrast of the group means, α = {alpha:.2g}) with the linear slope reported: support received → "
        "mechanism (among recipients of the strategy), and mechanism → outcome (holding the strategy, the "
        "baselines and the measured competing mechanisms fixed). A link holds when its trend is significant "
        "in the hypothesised direction. Met when both hold; partly met when one holds; not met when neither "
        "holds; not testable when neither could be estimated"
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
    holds = significant(trend, alpha) and direction(trend.estimate) == sign
    text = f"{name}: trend {with_interval(trend)} ({fmt_p(trend.p)})"
    if slope is not None:
        text += f", slope {with_interval(slope)}"
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
    return judged("gradient", status, rule, reason, change, extra, headline, statistic)
