"""At which level each verdict of a pathway was judged, and what the model declares (issue 17, item 3).

A mechanism can live above the recipient: a team's psychological safety, a site's implementation climate.
The pathway model says so with the node's ``level`` (individual, team, organization, system), and
``--multilevel`` asks for multilevel models. The scorecard analyses every criterion on recipients (the
strong association on a multilevel model when asked), so each verdict states the level its analysis read,
and, where the model declares the mechanism above the recipient or a multilevel model was asked for and a
criterion does not use one, why. Analysing every criterion at the declared level is ROADMAP work; until then
the verdicts must not be read as judged at a level they were not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moclab.evidence.verdicts import Verdict

__all__ = ["declared_level", "judged_at", "level_note"]

#: The analysis of each criterion when the recipients are the unit (and when no multilevel model is used).
_RECIPIENTS = {
    "strong_association": "recipients: the single-level mediation model",
    "specificity": "recipients: the mechanisms side by side in the single-level mediation model",
    "experimental_manipulation": "recipients: the strategy's effects in the single-level mediation model",
    "timeline": "recipients over the waves: the cross-lagged panel",
    "gradient": "recipients: dose-response of the support received",
    "plausibility": "none: the backing of the links and the coded interviews",
}

#: Why a criterion has no multilevel version when ``--multilevel`` is asked for.
_NO_MULTILEVEL = {
    "specificity": "the multilevel model takes one mechanism, so the competitors are compared in the "
    "single-level model",
    "consistency": "consistency is itself the comparison across sites or subgroups",
    "timeline": "moclab has no multilevel cross-lagged panel yet; its errors are clustered instead",
    "gradient": "moclab has no multilevel dose-response yet; its errors are clustered instead",
}


def declared_level(model: Any, mechanisms: Sequence[str]) -> str | None:
    """The level the model declares for the pathway's mechanism(s) when above the recipient (the highest
    one for a chain), else None."""
    order = ("team", "organization", "system")
    found = []
    for name in mechanisms:
        level = getattr(model.node(name), "level", None)
        value = getattr(level, "value", level)
        if value in order:
            found.append(value)
    return max(found, key=order.index) if found else None


def judged_at(
    verdict: Verdict,
    *,
    multilevel: str | None,
    multilevel_requested: bool,
    cluster: str | None,
    dose_level: str | None,
) -> str:
    """The level (and analysis) a verdict was judged at, in words; with ``--multilevel``, why a criterion
    without a multilevel model was judged as it was."""
    criterion = verdict.criterion
    clustered = f", errors clustered by {cluster}" if cluster else ""
    if criterion == "consistency":
        units = verdict.evidence.get("units") or "sites"
        text = f"across {units}: each one's paths, pooled by meta-analysis"
    elif multilevel is not None and criterion in ("strong_association", "experimental_manipulation"):
        where = "between sites" if multilevel == "2-1-1" else "within sites"
        text = f"{where}: the {multilevel} multilevel mediation model"
    elif criterion == "gradient" and dose_level == "site":
        text = f"sites: dose-response of the support each site received{clustered}"
    else:
        text = _RECIPIENTS[criterion] + ("" if criterion == "plausibility" else clustered)
    if multilevel_requested and criterion in _NO_MULTILEVEL:
        text += f" (not multilevel: {_NO_MULTILEVEL[criterion]})"
    return text


def level_note(level: str | None, mechanism: str) -> str | None:
    """The pathway note when the model declares the mechanism above the recipient, else None."""
    if level is None:
        return None
    unit = {"team": "team", "organization": "site", "system": "system"}[level]
    return (
        f"the model declares {mechanism} at the {level} level, but no criterion analyses it as a "
        f"{unit}-level measure (see the level of each verdict): read the verdicts as evidence about the "
        f"recipients' own scores, not about {unit}s; analysing a mechanism at its declared level is not "
        "built yet"
    )
