"""What every rule shares: reading an interval and a test in the hypothesised direction, and wording.

Conventions: ``alpha`` is 1 - the confidence level; an interval "excludes 0" when both ends lie on the same
side of zero; ``sign`` is the hypothesised direction, +1 or -1 (see `EvidenceSettings.links`). An effect
"holds" when it is significant (interval, else p-value) *in the hypothesised direction*; it is "against"
the hypothesis when it is significant in the other direction. A rule never says met on an effect that
points the wrong way.
"""

from __future__ import annotations

import math
from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.verdicts import Status, Verdict

POWER_CHANGE = (
    "more power: more sites (when the design is clustered) or recipients, a more reliable measure of the "
    "mechanism, or a stronger contrast in the strategy; `moclab power` estimates how many are needed"
)


def excludes_zero(effect: Effect | None) -> bool:
    """True when the effect's interval lies entirely on one side of 0 (False without an interval)."""
    if effect is None or effect.ci_low is None or effect.ci_high is None:
        return False
    if not (math.isfinite(effect.ci_low) and math.isfinite(effect.ci_high)):
        return False
    return effect.ci_low > 0 or effect.ci_high < 0


def significant(effect: Effect | None, alpha: float) -> bool:
    """p < alpha when the effect has a p-value, else its interval excludes 0."""
    if effect is None:
        return False
    if effect.p is not None and math.isfinite(effect.p):
        return effect.p < alpha
    return excludes_zero(effect)


def direction(value: float | None) -> int:
    """+1, -1, or 0 for zero, missing and non-finite values."""
    if value is None or not math.isfinite(value) or value == 0:
        return 0
    return 1 if value > 0 else -1


def holds(effect: Effect | None, alpha: float, sign: int) -> bool:
    """Significant at `alpha` and pointing in the hypothesised direction `sign`."""
    return effect is not None and significant(effect, alpha) and direction(effect.estimate) == sign


def against(effect: Effect | None, alpha: float, sign: int) -> bool:
    """Significant at `alpha` and pointing against the hypothesised direction `sign`."""
    return effect is not None and significant(effect, alpha) and direction(effect.estimate) == -sign


def interval_holds(effect: Effect | None, sign: int) -> bool:
    """The interval excludes 0 on the hypothesised side."""
    return excludes_zero(effect) and direction(effect.estimate) == sign  # type: ignore[union-attr]


def interval_against(effect: Effect | None, sign: int) -> bool:
    """The interval excludes 0 on the other side."""
    return excludes_zero(effect) and direction(effect.estimate) == -sign  # type: ignore[union-attr]


def bounds_hold(bounds: tuple[float, float] | None, sign: int) -> bool:
    """A plain (low, high) interval, such as a prediction interval, lies on the hypothesised side of 0."""
    if bounds is None or not all(math.isfinite(v) for v in bounds):
        return False
    low, high = bounds
    return low > 0 if sign > 0 else high < 0


def interval_of(effect: Effect | None) -> tuple[float, float] | None:
    if effect is None or effect.ci_low is None or effect.ci_high is None:
        return None
    return (float(effect.ci_low), float(effect.ci_high))


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "NA"
    return f"{value:.{digits}f}"


def fmt_p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "p NA"
    return "p < .001" if p < 0.001 else f"p = {p:.3f}"


def with_interval(effect: Effect) -> str:
    text = fmt(effect.estimate)
    if effect.ci_low is not None and effect.ci_high is not None:
        text += f" [{fmt(effect.ci_low)}, {fmt(effect.ci_high)}]"
    return text


def bounds_text(bounds: tuple[float, float] | None) -> str:
    if bounds is None:
        return "[NA]"
    return f"[{fmt(bounds[0])}, {fmt(bounds[1])}]"


def sign_word(sign: int) -> str:
    return "positive" if sign >= 0 else "negative"


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


def judged(
    criterion: str,
    status: Status,
    rule: str,
    reason: str,
    design_change: str | None,
    evidence: dict[str, Any],
    headline: Effect | None = None,
    statistic: str | None = None,
) -> Verdict:
    """A verdict whose headline number is `headline` (its estimate and interval), named `statistic`."""
    return Verdict(
        criterion=criterion,
        status=status,
        rule=rule,
        reason=reason,
        statistic=statistic if headline is not None else None,
        estimate=headline.estimate if headline is not None else None,
        interval=interval_of(headline),
        design_change=design_change,
        evidence=evidence,
    )


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
