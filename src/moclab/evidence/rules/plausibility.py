"""Plausibility or coherence: each link is backed by what else is known, and the data cohere with it.

What the criterion claims: every link of the pathway is predicted by a source specific to that link (a
published model with the same edge, a framework that orders the two stages, a citation given for the link),
and the data cohere with the explanation: every estimated path is non-zero in its hypothesised direction.
Theory alone (the model's general citation) gives at most partly met: it says the model was proposed, not
that anything backs this link, and a verdict that rested on it would reduce to the signs of two point
estimates. Coded interviews that tell the mechanism before the outcome can stand in for a missing
link-specific source, never for the estimates: a link the data do not show is not met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.rules._common import (
    against,
    effect_numbers,
    fmt,
    holds,
    sign_word,
    with_interval,
)
from moclab.evidence.verdicts import QualitativeEvidence, Status, Verdict

__all__ = ["LinkBacking", "PathSign", "judge_plausibility", "rule_plausibility"]


@dataclass(frozen=True)
class LinkBacking:
    """One link of the pathway (``source -> target``) and what backs it.

    ``sources`` are specific to the link (a template with the same edge, a catalog framework ordering the
    two stages, a citation for the link in moclab.yaml); ``theory`` are general (the model's own citation).
    """

    source: str
    target: str
    sign: int = 1
    sources: tuple[str, ...] = ()
    theory: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.source} → {self.target}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "sign": sign_word(self.sign),
            "backed_by": list(self.sources),
            "theory": list(self.theory),
        }


@dataclass(frozen=True)
class PathSign:
    """An estimated path (a, d or b) with the sign its links predict (the product of their signs)."""

    name: str
    expected: int
    effect: Effect | None = None
    links: tuple[str, ...] = field(default_factory=tuple)


def rule_plausibility(level: float) -> str:
    alpha = 1 - level
    return (
        "met when every link of the pathway has a source specific to it (a template with the same edge, a "
        "catalog framework that orders the two steps, a citation given for the link in moclab.yaml), or the "
        "qualitative evidence supports the pathway (coded interviews: enough of them tell the mechanism "
        f"before the outcome), and every estimated path is significant at α = {alpha:.2g} in its "
        "hypothesised direction, with no qualitative evidence against it; not met when a path is "
        "significant against the hypothesised direction, the qualitative evidence contradicts the pathway, "
        "or nothing backs it (no source, no theory, no qualitative support); partly met otherwise (theory "
        "alone, or a link the data do not show)"
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
    """Plausibility or coherence: the links are backed and the data cohere with them.

    Parameters
    ----------
    links : sequence of LinkBacking
        Every link of the analysed part of the pathway with its backing.
    paths : sequence of PathSign
        The estimated paths with their expected sign (``effect`` None when not estimated).
    qualitative : QualitativeEvidence
        What qualitative research says about the pathway (supports, contradicts, none).
    """
    rule = rule_plausibility(level)
    alpha = 1 - level
    extra = dict(evidence or {})
    extra.update(
        {
            "links": [link.to_dict() for link in links],
            "paths": {
                path.name: {"expected": sign_word(path.expected), **(effect_numbers(path.effect) or {})}
                for path in paths
            },
            "qualitative": qualitative.to_dict(),
        }
    )
    qualitative_backs = qualitative.status == "supports"
    unbacked = [link.label for link in links if not link.sources]
    backed = [link for link in links if link.sources]
    theory = list(dict.fromkeys(item for link in links for item in link.theory))
    estimated = [path for path in paths if path.effect is not None]
    wrong = [path for path in estimated if against(path.effect, alpha, path.expected)]
    unshown = [path for path in estimated if not holds(path.effect, alpha, path.expected)]
    parts = []
    if backed:
        parts.append("backed: " + "; ".join(f"{link.label} by {', '.join(link.sources)}" for link in backed))
    if unbacked:
        parts.append("no link-specific source for " + ", ".join(unbacked))
        if theory:
            parts.append(f"theory only: {'; '.join(theory)}")
    if estimated:
        parts.append(
            "estimated: "
            + ", ".join(
                f"{p.name} = {fmt(p.effect.estimate)} (expected {sign_word(p.expected)})"  # type: ignore[union-attr]
                for p in estimated
            )
        )
    else:
        parts.append("the paths could not be estimated")
    parts.append(f"qualitative evidence: {qualitative.summary}")
    if qualitative_backs and unbacked:
        parts.append(
            "the qualitative support stands in for the link-specific source"
            + ("s" if len(unbacked) > 1 else "")
        )
    reason = "; ".join(parts)
    cite_change = (
        "cite the theory or study that predicts each link without a source (evidence.links in moclab.yaml), "
        "or build the model from a published template; qualitative interviews with recipients can add "
        "coherence"
    )
    nothing = not backed and not theory and not qualitative_backs
    if wrong or qualitative.status == "contradicts" or nothing:
        status = Status.NOT_MET
        if qualitative.status == "contradicts":
            reason = "the qualitative evidence contradicts the pathway; " + reason
        if wrong:
            reason = (
                "estimated against the hypothesis: "
                + ", ".join(f"{p.name} {with_interval(p.effect)}" for p in wrong)  # type: ignore[arg-type]
                + "; "
                + reason
            )
            change = "revisit the hypothesised direction of the link(s), or the measures"
        elif qualitative.status == "contradicts":
            change = (
                "re-read the interviews that contradict the pathway: the mechanism may work for some "
                "recipients only (a moderator), or another mechanism may carry the effect"
            )
        else:
            change = cite_change
    elif (not unbacked or qualitative_backs) and estimated and not unshown:
        status, change = Status.MET, None
    else:
        status = Status.PARTLY_MET
        if unshown:
            reason = (
                "the data do not show "
                + ", ".join(f"{p.name} {with_interval(p.effect)}" for p in unshown)  # type: ignore[arg-type]
                + " as hypothesised; "
                + reason
            )
        change = cite_change if unbacked else "a study with more power to show every link"
    return Verdict(
        criterion="plausibility",
        status=status,
        rule=rule,
        reason=reason,
        statistic=f"{len(backed)} of {len(links)} links backed" + _interviews_told(qualitative),
        design_change=change,
        evidence=extra,
    )
