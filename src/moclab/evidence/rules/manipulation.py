"""Experimental manipulation: manipulating the strategy (or the mechanism) changed mechanism and outcome.

What the criterion claims (causal, for the randomized contrast): the strategy was assigned at random, and
the randomized contrast changed the mechanism and the outcome, both in the hypothesised direction, with the
change in the outcome going with the change in the mechanism (the indirect effect, read with the measured
competing mechanisms). A significant indirect effect with no effect of the strategy on the outcome is not
enough: when the strategy moves the mechanism, the mechanism and the outcome are correlated and yet the
outcome does not move, the likeliest reading is a confounded mechanism → outcome link (the estimated direct
effect then points against the indirect one), and the verdict names it.

Randomizing the strategy leaves the mechanism → outcome link observational (Imai, Keele & Tingley 2010).
Where the study also randomized a factor that targets the mechanism itself (an encouragement design; Imai,
Tingley & Yamamoto 2013), that link is judged experimentally too, by two-stage least squares with the
factor as the instrument, and the verdict says whether it is experimental.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.rules._common import (
    POWER_CHANGE,
    against,
    direction,
    effect_numbers,
    fmt,
    fmt_p,
    holds,
    interval_against,
    interval_holds,
    judged,
    not_testable,
    sign_word,
    with_interval,
)
from moclab.evidence.verdicts import Status, Verdict

__all__ = [
    "MIN_FIRST_STAGE_F",
    "OBSERVATIONAL_CHANGE",
    "MechanismManipulation",
    "judge_experimental_manipulation",
    "rule_experimental_manipulation",
]

#: Below this first-stage F the instrument is weak and the two-stage estimate unreliable (Staiger & Stock
#: 1997; the usual rule of thumb).
MIN_FIRST_STAGE_F = 10.0

OBSERVATIONAL_CHANGE = (
    "randomize the strategy: at the site level when it is delivered to whole sites (a cluster-randomized or "
    "stepped-wedge trial), at the recipient level otherwise; or manipulate the mechanism itself (an arm that "
    "targets it alone), which is the only way to make the mechanism → outcome link experimental"
)

MANIPULATE_MECHANISM = (
    "randomize a component that targets the mechanism alone (an encouragement design: declare it under "
    "design.manipulations), so the mechanism → outcome link is tested experimentally"
)


@dataclass(frozen=True)
class MechanismManipulation:
    """A randomized factor that targets the mechanism directly, and what two-stage least squares found.

    Attributes
    ----------
    column : str
        The recipients-table column of the factor (``trust_module``).
    level : str
        The level it was randomized at.
    first_stage : Effect or None
        The factor → mechanism effect; ``f_stat`` its first-stage F.
    iv : Effect or None
        The two-stage least-squares effect of the mechanism on the outcome.
    sign : {1, -1}
        The hypothesised direction of the mechanism → outcome link.
    failure : str, optional
        Why the two-stage model could not be estimated.
    """

    column: str
    level: str
    first_stage: Effect | None = None
    iv: Effect | None = None
    f_stat: float | None = None
    sign: int = 1
    failure: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def strong(self, alpha: float) -> bool:
        """The factor moved the mechanism: first stage significant at `alpha`, positive, F at least 10."""
        return (
            holds(self.first_stage, alpha, 1) and self.f_stat is not None and self.f_stat >= MIN_FIRST_STAGE_F
        )


def rule_experimental_manipulation(level: float) -> str:
    alpha = 1 - level
    return (
        "for a randomized strategy: met when the randomized contrast moved the mechanism (a path "
        f"significant at α = {alpha:.2g} in the hypothesised direction), moved the outcome (total effect "
        f"significant in the hypothesised direction) and the outcome's change goes with the mechanism's "
        f"(the {level:.0%} interval of the indirect effect, read with the competing mechanisms, excludes 0 "
        "in the hypothesised direction); partly met when the mechanism moved but not all of the rest holds; "
        "not met when the mechanism did not move, an effect points against the hypothesis, or the indirect "
        "effect holds while the outcome did not move and the direct effect points against it (the "
        "signature of a confounded mechanism → outcome link); not met for an observational design. Where a "
        "factor targeting the mechanism was randomized, two-stage least squares (the factor as instrument, "
        f"first-stage F ≥ {MIN_FIRST_STAGE_F:g}) tests the mechanism → outcome link: met needs it to hold "
        "(then the link is experimental), a null result keeps the verdict at partly met at most"
    )


def _strategy_part(
    a_path: Effect,
    indirect: Effect,
    total: Effect | None,
    direct: Effect | None,
    sign_a: int,
    sign: int,
    alpha: float,
) -> tuple[Status, str, dict[str, Any]]:
    """The verdict of the randomized strategy contrast, its reason and flags."""
    moved = holds(a_path, alpha, sign_a)
    outcome_moved = holds(total, alpha, sign)
    through = interval_holds(indirect, sign)
    wrong = [
        name
        for name, bad in (
            ("the a path", against(a_path, alpha, sign_a)),
            ("the total effect", against(total, alpha, sign)),
            ("the indirect effect", interval_against(indirect, sign)),
        )
        if bad
    ]
    signature = (
        through
        and not outcome_moved
        and direct is not None
        and against(direct, alpha, sign)
        and direction(direct.estimate) == -direction(indirect.estimate)
    )
    flags = {
        "mechanism_moved": moved,
        "outcome_moved": outcome_moved,
        "indirect_holds": through,
        "confounding_signature": bool(signature),
        "against_hypothesis": bool(wrong),
    }
    a_text = f"a = {with_interval(a_path)} ({fmt_p(a_path.p)})"
    total_text = (
        f"total effect {with_interval(total)} ({fmt_p(total.p)})" if total is not None else "no total effect"
    )
    indirect_text = f"indirect effect {with_interval(indirect)}"
    if wrong:
        return (
            Status.NOT_MET,
            f"against the hypothesised direction: {', '.join(wrong)} "
            f"({a_text}; {total_text}; {indirect_text})",
            flags,
        )
    if signature:
        assert direct is not None
        return (
            Status.NOT_MET,
            f"the strategy moved the mechanism ({a_text}) and the {indirect_text} excludes 0, but the "
            f"outcome did not move ({total_text}) and the direct effect {with_interval(direct)} points "
            "against the indirect one: the signature of a confounded mechanism → outcome link (a common "
            "cause of the mechanism and the outcome), not of a mechanism that carries the strategy's effect",
            flags,
        )
    if moved and outcome_moved and through:
        return (
            Status.MET,
            f"the randomized contrast moved the mechanism ({a_text}) and the outcome ({total_text}), and the "
            f"outcome's change goes with the mechanism's ({indirect_text})",
            flags,
        )
    if moved:
        missing = []
        if not outcome_moved:
            missing.append(f"the outcome did not move significantly ({total_text})")
        if not through:
            missing.append(f"the {indirect_text} does not exclude 0 as hypothesised")
        return (
            Status.PARTLY_MET,
            f"the randomized contrast moved the mechanism ({a_text}), but " + " and ".join(missing),
            flags,
        )
    return (
        Status.NOT_MET,
        f"the randomized contrast did not move the mechanism ({a_text}; {total_text}; {indirect_text})",
        flags,
    )


def judge_experimental_manipulation(
    randomization_level: str,
    strategy_randomized: bool,
    a_path: Effect | None,
    indirect: Effect | None,
    *,
    total: Effect | None = None,
    direct: Effect | None = None,
    level: float,
    sign_a: int = 1,
    sign: int = 1,
    manipulation: MechanismManipulation | None = None,
    strategy_text: str = "the strategy",
    failure: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> Verdict:
    """Experimental manipulation: did the randomized contrast move the mechanism and the outcome?

    Parameters
    ----------
    randomization_level : str
        ``design.randomization.level`` ("none", "recipient", "site", "team", ...).
    strategy_randomized : bool
        Whether this pathway's strategy variable is the randomized arm (a support dose is not, even in a
        randomized study).
    a_path, indirect : Effect or None
        The strategy → mechanism path and the indirect effect (read with the competing mechanisms).
    total, direct : Effect or None
        The total and direct effects of the strategy on the outcome, from the same model.
    sign_a, sign : {1, -1}
        Hypothesised directions of the a path and of the strategy's effect on the outcome.
    manipulation : MechanismManipulation, optional
        A randomized factor targeting the mechanism, with its two-stage least-squares result.
    strategy_text : str
        How the strategy was coded, for the reason ("arm: 1 = intensive, 0 = usual").
    failure : str, optional
        Why the mediation model could not be estimated.
    """
    rule = rule_experimental_manipulation(level)
    alpha = 1 - level
    extra = dict(evidence or {})
    extra.update(
        {
            "randomization_level": randomization_level,
            "strategy_randomized": strategy_randomized,
            "mechanism_link_experimental": False,
        }
    )
    mechanism_status: Status | None = None
    mechanism_text = ""
    if manipulation is not None:
        mechanism_status, mechanism_text = _mechanism_part(manipulation, alpha, extra)
    observational = randomization_level in ("none", "", None)
    if (observational or not strategy_randomized) and mechanism_status is not None:
        status = Status.MET if mechanism_status is Status.MET else mechanism_status
        reason = mechanism_text + (
            "; the strategy itself was not randomized, so its link to the mechanism stays observational"
        )
        change = None if status is Status.MET else POWER_CHANGE
        return judged(
            "experimental_manipulation",
            status,
            rule,
            reason,
            change,
            extra,
            manipulation.first_stage if manipulation else None,
            "manipulation → mechanism (first stage)",
        )
    if observational:
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
            "randomize the dose itself",
            extra,
        )
    if a_path is None or indirect is None:
        return not_testable(
            "experimental_manipulation",
            rule,
            f"the strategy was randomized at the {randomization_level} level, but the mediation model could "
            f"not be estimated: {failure or 'no data'}",
            "measure the mechanism and the outcome in both arms after the strategy has begun",
            extra,
        )
    extra.update(
        {
            "a": effect_numbers(a_path),
            "indirect": effect_numbers(indirect),
            "total": effect_numbers(total),
            "direct": effect_numbers(direct),
            "expected_signs": {"a": sign_word(sign_a), "total": sign_word(sign)},
        }
    )
    status, reason, flags = _strategy_part(a_path, indirect, total, direct, sign_a, sign, alpha)
    extra.update(flags)
    reason = f"randomized at the {randomization_level} level ({strategy_text}); " + reason
    change: str | None
    if mechanism_text:
        reason += "; " + mechanism_text
    if mechanism_status is not None:
        if mechanism_status is Status.NOT_MET:
            status = Status.NOT_MET
        elif mechanism_status is Status.PARTLY_MET and status is Status.MET:
            status = Status.PARTLY_MET
    elif status is Status.MET:
        reason += (
            "; the mechanism → outcome link itself stays observational (randomizing the strategy does not "
            "remove confounding of the mechanism and the outcome; see the conclusion's robustness figures)"
        )
    if status is Status.MET:
        change = None if extra["mechanism_link_experimental"] else MANIPULATE_MECHANISM
    elif flags["confounding_signature"]:
        change = (
            "measure the suspected common causes of the mechanism and the outcome (adjust for them), add a "
            f"negative-control outcome, or {MANIPULATE_MECHANISM}"
        )
    elif flags["against_hypothesis"]:
        change = "revisit the hypothesised direction of the link(s), or the measures"
    else:
        change = POWER_CHANGE
    statistic = "a path (randomized strategy → mechanism)"
    return judged("experimental_manipulation", status, rule, reason, change, extra, a_path, statistic)


def _mechanism_part(
    manipulation: MechanismManipulation, alpha: float, extra: dict[str, Any]
) -> tuple[Status, str]:
    """The verdict of the factor that targets the mechanism: strong first stage, and the 2SLS effect. A
    study that manipulated the mechanism claims an experimental test of its link to the outcome: when the
    two-stage model fails or the instrument is weak, that test was not made, and the criterion is at most
    partly met."""
    head = (
        f"the mechanism was manipulated ({manipulation.column}, randomized at the {manipulation.level} level)"
    )
    extra["mechanism_manipulation"] = {
        "column": manipulation.column,
        "level": manipulation.level,
        "first_stage": effect_numbers(manipulation.first_stage),
        "f_stat": manipulation.f_stat,
        "iv": effect_numbers(manipulation.iv),
        "failure": manipulation.failure,
    }
    if manipulation.iv is None or manipulation.first_stage is None:
        return (
            Status.PARTLY_MET,
            f"{head}, but the two-stage model could not be estimated: {manipulation.failure}",
        )
    first = f"first stage {with_interval(manipulation.first_stage)}, F = {fmt(manipulation.f_stat, 1)}"
    iv_text = (
        f"two-stage effect of the mechanism on the outcome {with_interval(manipulation.iv)} "
        f"({fmt_p(manipulation.iv.p)})"
    )
    if not manipulation.strong(alpha):
        return (
            Status.PARTLY_MET,
            f"{head}, but it barely moved the mechanism ({first}; a weak instrument, "
            f"F < {MIN_FIRST_STAGE_F:g}), so the mechanism → outcome link could not be tested experimentally",
        )
    if holds(manipulation.iv, alpha, manipulation.sign):
        extra["mechanism_link_experimental"] = True
        return (
            Status.MET,
            f"{head}: it moved the mechanism ({first}) and, through it, the outcome ({iv_text}): the "
            "mechanism → outcome link is experimental",
        )
    if against(manipulation.iv, alpha, manipulation.sign):
        extra["mechanism_manipulation"]["against_hypothesis"] = True
        return (
            Status.NOT_MET,
            f"{head}: it moved the mechanism ({first}), and the outcome moved against the hypothesis "
            f"({iv_text})",
        )
    return (
        Status.PARTLY_MET,
        f"{head}: it moved the mechanism ({first}), but the outcome did not follow ({iv_text}): manipulating "
        "the mechanism did not show that it changes the outcome",
    )
