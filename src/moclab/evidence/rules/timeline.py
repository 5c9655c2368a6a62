"""Timeline: the mechanism changes after the strategy begins, and its changes lead the outcome's.

What the criterion claims (causal-temporal): changes in the mechanism precede and predict later changes in
the outcome, more than the outcome's changes predict later changes in the mechanism. Measuring the mechanism
after the strategy began and before the outcome is a precondition (without it the data cannot speak to
order), not evidence: the evidence is the cross-lagged panel, read with the measured competing mechanisms'
earlier values in both equations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.rules._common import (
    POWER_CHANGE,
    direction,
    effect_numbers,
    fmt,
    fmt_p,
    holds,
    interval_holds,
    judged,
    not_testable,
    significant,
    with_interval,
)
from moclab.evidence.verdicts import Status, Verdict

__all__ = ["TimelineFacts", "judge_timeline", "rule_timeline"]

ORDER_CHANGE = (
    "measure the mechanism at a wave after the strategy has begun and before the wave at which the outcome "
    "is measured (evidence.waves in moclab.yaml chooses the waves)"
)
PANEL_CHANGE = (
    "measure both the mechanism and the outcome at three or more waves, spaced at the lag at which the "
    "mechanism is expected to act, so a cross-lagged model can show which leads"
)


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
        "precondition: the mechanism was measured after the strategy began and at an earlier wave than the "
        "outcome (else not met). Evidence: the cross-lagged panel model over the waves, with the competing "
        "mechanisms' earlier values in both equations: met when the mechanism → later outcome path is "
        f"significant at α = {alpha:.2g} in the hypothesised direction and the reverse path (outcome → later "
        "mechanism) is not significant; partly met when both are significant and the forward one is the "
        "larger (standardized; reciprocal effects, or a common cause that drives both over time, which the "
        "panel cannot tell apart); not met when the forward path is absent or points the other way, or the "
        "reverse path is as large as or larger than the forward one; not testable with a single wave or "
        "without a panel estimate"
    )


def _order(facts: TimelineFacts) -> tuple[bool, str]:
    """Whether the design measured the mechanism after the start and before the outcome, in words."""
    before_outcome = facts.mechanism_order < facts.outcome_order
    if facts.mechanism_time is not None and facts.outcome_time is not None:
        before_outcome = before_outcome and facts.mechanism_time < facts.outcome_time
    after_start: bool | None = None
    if facts.strategy_start is not None and facts.mechanism_time is not None:
        after_start = facts.mechanism_time > facts.strategy_start
    parts = [
        f"mechanism at wave {facts.mechanism_wave}"
        + (f" ({fmt(facts.mechanism_time, 1)} {facts.unit})" if facts.mechanism_time is not None else ""),
        f"outcome at wave {facts.outcome_wave}"
        + (f" ({fmt(facts.outcome_time, 1)} {facts.unit})" if facts.outcome_time is not None else ""),
    ]
    if facts.strategy_start is not None:
        parts.append(f"strategy began at {fmt(facts.strategy_start, 1)} {facts.unit} ({facts.start_source})")
    text = ", ".join(parts)
    if not before_outcome:
        return False, f"the mechanism was not measured before the outcome ({text})"
    if after_start is False:
        return False, f"the mechanism was measured before the strategy began ({text})"
    reason = f"the mechanism was measured before the outcome ({text})"
    if after_start is None:
        reason += "; when the strategy began is unknown (set evidence.strategy_start or log activities)"
    return True, reason


def judge_timeline(
    facts: TimelineFacts,
    m_to_y: Effect | None,
    y_to_m: Effect | None,
    difference_std: Effect | None,
    *,
    level: float,
    sign: int = 1,
    m_to_y_std: Effect | None = None,
    y_to_m_std: Effect | None = None,
    competitors: tuple[str, ...] = (),
    panel_failure: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Timeline (temporal precedence): the mechanism's changes lead the outcome's.

    Parameters
    ----------
    facts : TimelineFacts
        Waves and times of the strategy start, the mechanism and the outcome.
    m_to_y, y_to_m : Effect or None
        Cross-lagged effects (mechanism at t → outcome at t+1 and the reverse); None when no panel model
        was fitted (`panel_failure` says why).
    difference_std : Effect or None
        The standardized difference m_to_y_std - y_to_m_std with its interval.
    sign : {1, -1}
        Hypothesised direction of the mechanism → outcome effect.
    m_to_y_std, y_to_m_std : Effect or None
        The standardized cross-lagged effects (their sizes are compared).
    competitors : tuple of str
        The competing mechanisms whose earlier values were in the panel model.
    """
    rule = rule_timeline(level)
    alpha = 1 - level
    extra = dict(evidence or {})
    extra["timeline"] = facts.to_dict()
    extra["competitors_in_model"] = list(competitors)
    if facts.n_waves < 2:
        return not_testable(
            "timeline",
            rule,
            "the study has a single wave, so the mechanism and the outcome were measured at the same time",
            "measure at three waves at least: before the strategy begins (baseline), while it acts (the "
            "mechanism) and afterwards (the outcome)",
            extra,
        )
    order_ok, order_reason = _order(facts)
    extra["order_by_design"] = order_ok
    if not order_ok:
        return Verdict(
            criterion="timeline",
            status=Status.NOT_MET,
            rule=rule,
            reason=order_reason,
            design_change=ORDER_CHANGE,
            evidence=extra,
        )
    if m_to_y is None or y_to_m is None:
        return not_testable(
            "timeline",
            rule,
            f"{order_reason}, which is a precondition, not evidence of precedence; no cross-lagged panel "
            f"estimate ({panel_failure or 'no panel'})",
            PANEL_CHANGE,
            extra,
        )
    extra.update(
        {
            "m_to_y": effect_numbers(m_to_y),
            "y_to_m": effect_numbers(y_to_m),
            "m_to_y_std": effect_numbers(m_to_y_std),
            "y_to_m_std": effect_numbers(y_to_m_std),
            "difference_std": effect_numbers(difference_std),
        }
    )
    forward = holds(m_to_y, alpha, sign)
    reverse = significant(y_to_m, alpha)
    forward_size = abs(m_to_y_std.estimate) if m_to_y_std is not None else None
    reverse_size = abs(y_to_m_std.estimate) if y_to_m_std is not None else None
    reverse_as_large = (
        reverse and forward_size is not None and reverse_size is not None and reverse_size >= forward_size
    )
    # The signed difference compares sizes only when both paths point the same way.
    same_way = direction(m_to_y.estimate) == direction(y_to_m.estimate)
    clearly_larger = same_way and interval_holds(difference_std, direction(m_to_y.estimate) or sign)
    panel_text = (
        f"cross-lagged mechanism → outcome {with_interval(m_to_y)} ({fmt_p(m_to_y.p)}), outcome → mechanism "
        f"{with_interval(y_to_m)} ({fmt_p(y_to_m.p)})"
    )
    if m_to_y_std is not None and y_to_m_std is not None:
        panel_text += f", standardized {fmt(m_to_y_std.estimate)} vs {fmt(y_to_m_std.estimate)}"
    if difference_std is not None:
        panel_text += f", standardized difference {with_interval(difference_std)}"
    if competitors:
        panel_text += f"; earlier {', '.join(competitors)} in both equations"
    extra.update(
        {
            "forward_holds": forward,
            "reverse_significant": reverse,
            "reverse_as_large": bool(reverse_as_large),
            "forward_clearly_larger": bool(clearly_larger),
        }
    )
    change: str | None
    if not forward:
        status = Status.NOT_MET
        why = (
            "the outcome → mechanism path is significant and the mechanism → outcome path is not: the "
            "outcome leads"
            if reverse
            else "the mechanism at one wave does not predict the outcome at the next as hypothesised"
        )
        change = f"{PANEL_CHANGE}; or {POWER_CHANGE}"
    elif reverse_as_large:
        status = Status.NOT_MET
        why = "the reverse path (outcome → later mechanism) is as large as or larger than the forward one"
        change = (
            "the outcome may drive the mechanism, or a common cause may drive both: measure at more waves "
            "and model stable differences (a random-intercept cross-lagged model), or manipulate the "
            "mechanism"
        )
    elif reverse:
        status = Status.PARTLY_MET
        why = (
            "both paths are significant and the forward one is the larger"
            + (" (significantly)" if clearly_larger else " (not significantly)")
            + ": reciprocal effects, or a common cause that drives both over time, which the panel cannot "
            "tell apart"
        )
        change = (
            "measure the suspected common causes of the mechanism and the outcome, model stable differences "
            "(a random-intercept cross-lagged model with more waves), or manipulate the mechanism"
        )
    else:
        status, change = Status.MET, None
        why = "the forward path holds and the reverse path is not significant"
    statistic = "cross-lagged mechanism → outcome"
    return judged(
        "timeline", status, rule, f"{why} ({panel_text}); {order_reason}", change, extra, m_to_y, statistic
    )
