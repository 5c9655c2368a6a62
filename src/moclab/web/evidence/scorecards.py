"""A run's scorecard in compact plain data, and what changed from one run to the next.

`compact_scorecard(evidence)` keeps, per pathway, what the pages list and compare: the conclusion, the
number of recipients analysed and each criterion's status with its headline number. `scorecard_changes`
compares two of them pathway by pathway and criterion by criterion (a rerun after new data: which verdicts,
conclusions and n changed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from moclab.evidence import CRITERIA, StudyEvidence

#: The criteria in the scorecard's order, as (id, name).
CRITERION_NAMES: tuple[tuple[str, str], ...] = tuple((criterion.id, criterion.name) for criterion in CRITERIA)


def _number(value: Any) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def compact_scorecard(evidence: StudyEvidence) -> dict[str, Any]:
    """Per pathway (in the scorecard's order): id, label, n, conclusion, and per criterion its status,
    statistic, estimate and interval; with the seed and resamples the analysis ran with."""
    pathways = []
    for pathway in evidence.pathways:
        criteria = {}
        for verdict in pathway.verdicts:
            interval = verdict.interval
            criteria[verdict.criterion] = {
                "status": verdict.status.value,
                "statistic": verdict.statistic,
                "estimate": _number(verdict.estimate),
                "interval": [_number(interval[0]), _number(interval[1])] if interval is not None else None,
            }
        pathways.append(
            {
                "id": pathway.id,
                "label": pathway.label,
                "n": int(pathway.n),
                "conclusion": pathway.conclusion.grade if pathway.conclusion is not None else None,
                "criteria": criteria,
            }
        )
    return {
        "seed": evidence.settings.seed,
        "n_boot": evidence.settings.n_boot,
        "pathways": pathways,
    }


@dataclass(frozen=True)
class CriterionChange:
    """One criterion of one pathway, before and after (None: the run did not judge it)."""

    criterion: str
    name: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class PathwayChange:
    """One pathway before and after: its conclusion, n and every criterion (None where a run lacks it)."""

    pathway: str
    label: str
    conclusion_before: str | None
    conclusion_after: str | None
    n_before: int | None
    n_after: int | None
    criteria: tuple[CriterionChange, ...]

    @property
    def changed(self) -> bool:
        return (
            self.conclusion_before != self.conclusion_after
            or self.n_before != self.n_after
            or any(change.changed for change in self.criteria)
        )

    @property
    def changed_criteria(self) -> int:
        return sum(change.changed for change in self.criteria)


def scorecard_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[PathwayChange]:
    """Compare two compact scorecards: one `PathwayChange` per pathway of either, `after`'s order first,
    then pathways only `before` judged."""
    earlier = {pathway["id"]: pathway for pathway in (before or {}).get("pathways", [])}
    later = {pathway["id"]: pathway for pathway in after.get("pathways", [])}
    order = list(later) + [pathway_id for pathway_id in earlier if pathway_id not in later]
    changes = []
    for pathway_id in order:
        old, new = earlier.get(pathway_id), later.get(pathway_id)
        criteria = tuple(
            CriterionChange(
                criterion=criterion,
                name=name,
                before=old["criteria"].get(criterion, {}).get("status") if old else None,
                after=new["criteria"].get(criterion, {}).get("status") if new else None,
            )
            for criterion, name in CRITERION_NAMES
        )
        shown = new or old
        assert shown is not None
        changes.append(
            PathwayChange(
                pathway=pathway_id,
                label=shown["label"],
                conclusion_before=old["conclusion"] if old else None,
                conclusion_after=new["conclusion"] if new else None,
                n_before=old["n"] if old else None,
                n_after=new["n"] if new else None,
                criteria=criteria,
            )
        )
    return changes
