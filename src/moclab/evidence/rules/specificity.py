"""Specificity: this mechanism, not a competing one, carries the effect, and only to the target outcome.

What the criterion claims (associational): among the measured mechanisms, this one's indirect effect (with
the competitors in the model) exceeds each competitor's in the hypothesised direction, and the mechanism
carries no effect to a declared non-target outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.rules._common import (
    POWER_CHANGE,
    direction,
    effect_numbers,
    excludes_zero,
    judged,
    not_testable,
    sign_word,
    with_interval,
)
from moclab.evidence.verdicts import Status, Verdict

__all__ = ["SPECIFICITY_CHANGE", "judge_specificity", "rule_specificity"]


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
    left_out: Mapping[str, str] | None = None,
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
    left_out : mapping of str to str, optional
        Competing mechanisms that were measured but left out of the models, with why (constant, measured
        for too few recipients); reported, so a constant competitor is not read as an unmeasured one.
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
            "left_out_alternatives": dict(left_out or {}),
            "sign": sign,
            "failures": list(failures),
        }
    )
    # A competitor left out of the models (constant, sparse) was measured: say why, never "not measured".
    left_out_text = [
        f"the competing mechanism {name} is left out: {why}" for name, why in (left_out or {}).items()
    ]
    notes = []
    if unmeasured:
        notes.append(f"competing mechanisms without data: {', '.join(unmeasured)}")
    if failures:
        notes.append("; ".join(failures))
    note_text = (" (" + "; ".join(left_out_text + notes) + ")") if left_out_text or notes else ""
    if target is None:
        reason = "the mechanism's indirect effect could not be estimated" + note_text
        change = (
            "measure the mechanism and the outcome on the same recipients, with a comparison in the strategy"
        )
        return not_testable("specificity", rule, reason, change, extra)
    if not contrasts and not non_targets:
        if left_out_text:
            reason = f"there is nothing to compare the mechanism with: {'; '.join(left_out_text)}; and no "
            reason += "non-target outcome was declared" + ((" (" + "; ".join(notes) + ")") if notes else "")
            change = (
                "check the data of the left-out competing mechanisms (a constant is often an export error)"
            )
            return not_testable("specificity", rule, reason, f"{change}, or {SPECIFICITY_CHANGE}", extra)
        reason = "there is nothing to compare the mechanism with: no competing mechanism was measured and no"
        reason += " non-target outcome was declared" + note_text
        return not_testable("specificity", rule, reason, SPECIFICITY_CHANGE, extra)
    passed, failed = [], []
    for name, effect in contrasts:
        favours = excludes_zero(effect) and direction(effect.estimate) == sign
        (passed if favours else failed).append(f"contrast with {name} {with_interval(effect)}")
    for name, effect in non_targets:
        clean = not excludes_zero(effect)
        (passed if clean else failed).append(f"indirect effect on non-target {name} {with_interval(effect)}")
    own = excludes_zero(target) and direction(target.estimate) == sign
    own_text = f"own indirect effect {with_interval(target)}"
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
                f"{own_text} does not exclude 0 in the hypothesised ({sign_word(sign)}) direction once "
                "the competitors are in the model"
            )
        else:
            reason = f"{own_text}, but no comparison favours this mechanism: {'; '.join(failed)}"
        design_change = (
            "a sharper test: measures that separate this mechanism from its competitors (discriminant "
            f"validity), or an arm that targets this mechanism alone; or {POWER_CHANGE}"
        )
    statistic = "indirect effect with competitors in the model"
    return judged("specificity", status, rule, reason + note_text, design_change, extra, target, statistic)
