"""The vocabulary of the scorecard: the seven criteria, the four statuses and the `Verdict` record.

The criteria are Kazdin's (2007) as tabulated by Lewis et al. (2020, Table 2); their ids match the entries of
the bundled ``kazdin-criteria`` catalog framework (``kazdin-criteria:strong-association``), so a report can
cite them. A verdict is plain data: it carries the rule that was applied (with its thresholds), the numbers
it read, the reason in words and, when a criterion is not met or cannot be tested, the design change that
would let the next study meet or test it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from moclab.plain import plain

__all__ = [
    "CRITERIA",
    "NO_QUALITATIVE_EVIDENCE",
    "Criterion",
    "QualitativeEvidence",
    "QualitativeQuote",
    "Status",
    "Verdict",
]


class Status(StrEnum):
    """How far the evidence meets a criterion."""

    MET = "met"
    PARTLY_MET = "partly met"
    NOT_MET = "not met"
    NOT_TESTABLE = "not testable"

    @property
    def symbol(self) -> str:
        """A one-character mark for tables: ✓ met, ◐ partly met, ✗ not met, ? not testable."""
        return {"met": "✓", "partly met": "◐", "not met": "✗", "not testable": "?"}[self.value]


@dataclass(frozen=True)
class Criterion:
    """One of the seven criteria: its id (a Python name), the catalog reference, the name and short name."""

    id: str
    ref: str
    name: str
    short: str
    question: str


#: The seven criteria in the order of Lewis et al. (2020, Table 2).
CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "strong_association",
        "kazdin-criteria:strong-association",
        "Strong association",
        "assoc",
        "Is the strategy associated with the mechanism, and the mechanism with the outcome?",
    ),
    Criterion(
        "specificity",
        "kazdin-criteria:specificity",
        "Specificity",
        "specif",
        "Does this mechanism, rather than a competing one, carry the effect, and only to the target outcome?",
    ),
    Criterion(
        "consistency",
        "kazdin-criteria:consistency",
        "Consistency",
        "consist",
        "Does the indirect effect hold across sites, subgroups or studies?",
    ),
    Criterion(
        "experimental_manipulation",
        "kazdin-criteria:experimental-manipulation",
        "Experimental manipulation",
        "experim",
        "Was the strategy (or the mechanism) manipulated on purpose, and did that move the mechanism?",
    ),
    Criterion(
        "timeline",
        "kazdin-criteria:timeline",
        "Timeline",
        "timing",
        "Does the mechanism change after the strategy begins and before the outcome?",
    ),
    Criterion(
        "gradient",
        "kazdin-criteria:gradient",
        "Gradient",
        "gradient",
        "Does more support go with more of the mechanism, and more of the mechanism with more outcome?",
    ),
    Criterion(
        "plausibility",
        "kazdin-criteria:plausibility-or-coherence",
        "Plausibility or coherence",
        "plausib",
        "Is each link backed by theory or prior research, and do the estimates point the expected way?",
    ),
)

_BY_ID = {criterion.id: criterion for criterion in CRITERIA}


def criterion(criterion_id: str) -> Criterion:
    """The criterion with this id (``"timeline"``); KeyError listing the ids otherwise."""
    try:
        return _BY_ID[criterion_id]
    except KeyError:
        raise KeyError(f"no criterion '{criterion_id}'; criteria: {', '.join(_BY_ID)}") from None


@dataclass(frozen=True)
class Verdict:
    """The judgement of one criterion for one pathway.

    Attributes
    ----------
    criterion : str
        The criterion id (see `CRITERIA`).
    status : Status
        met, partly met, not met or not testable.
    statistic : str or None
        What the headline number is ("indirect effect a·b through trust").
    estimate : float or None
        The headline number.
    interval : tuple of float or None
        Its confidence interval (at the study's level).
    rule : str
        The rule applied, with its thresholds, in words.
    reason : str
        Why this status: the numbers measured against the rule.
    design_change : str or None
        For "not met" and "not testable": what would make the criterion testable, or meetable.
    evidence : dict
        The key numbers the rule read (paths, p-values, τ², I², prediction interval, ...), JSON-ready.
    """

    criterion: str
    status: Status
    rule: str
    reason: str
    statistic: str | None = None
    estimate: float | None = None
    interval: tuple[float, float] | None = None
    design_change: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The criterion's name ("Strong association")."""
        return criterion(self.criterion).name

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready values (NaN becomes null)."""
        return plain(
            {
                "criterion": self.criterion,
                "name": self.name,
                "status": self.status.value,
                "statistic": self.statistic,
                "estimate": self.estimate,
                "interval": list(self.interval) if self.interval is not None else None,
                "rule": self.rule,
                "reason": self.reason,
                "design_change": self.design_change,
                "evidence": self.evidence,
            }
        )

    def headline(self, digits: int = 3) -> str:
        """The statistic, estimate and interval as one short text ("indirect 0.210 [0.105, 0.330]")."""
        if self.estimate is None or not math.isfinite(self.estimate):
            return ""
        text = f"{self.statistic or 'estimate'} {self.estimate:.{digits}f}"
        if self.interval is not None and all(math.isfinite(v) for v in self.interval):
            text += f" [{self.interval[0]:.{digits}f}, {self.interval[1]:.{digits}f}]"
        return text

    def __str__(self) -> str:
        text = f"{self.name}: {self.status.value}. {self.reason}"
        if self.design_change:
            text += f" Design change: {self.design_change}"
        return text

    def _repr_html_(self) -> str:
        parts = [
            f"<strong>{html.escape(self.name)}</strong>: {html.escape(self.status.value)}",
            f"<br>{html.escape(self.headline())}" if self.headline() else "",
            f"<br>{html.escape(self.reason)}",
            f"<br><em>rule:</em> {html.escape(self.rule)}",
            f"<br><em>design change:</em> {html.escape(self.design_change)}" if self.design_change else "",
        ]
        return "<div>" + "".join(parts) + "</div>"


@dataclass(frozen=True)
class QualitativeQuote:
    """A short passage from one interview that tells a pathway's mechanism leading to its outcome.

    Attributes
    ----------
    interview : str
        The interview (a case, or a source in no case).
    text : str
        The passage about the mechanism and the later passage about the outcome, shortened and joined by
        " […] " (one passage when a single selection was coded with both).
    source : str
        The source (transcript) the outcome passage is in.
    codes : tuple of str
        The codes of the passages (mechanism's, outcome's), as paths.
    """

    interview: str
    text: str
    source: str = ""
    codes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "interview": self.interview,
            "text": self.text,
            "source": self.source,
            "codes": list(self.codes),
        }


@dataclass(frozen=True)
class QualitativeEvidence:
    """What qualitative research says about a pathway, for the plausibility criterion.

    `moclab.evidence.qualitative` fills this in from a study's coded interviews (the ``qualitative:`` section
    of moclab.yaml); without one every pathway gets `NO_QUALITATIVE_EVIDENCE`.

    Attributes
    ----------
    status : {"supports", "contradicts", "none"}
        Whether the qualitative evidence supports the pathway, contradicts it, or was not given (or is too
        thin to say).
    summary : str
        One or two sentences a report can print (no final full stop).
    sources : tuple of str
        Where the evidence comes from (a project file, a publication).
    counts : dict of str to int
        The numbers behind the status, for coded interviews: ``interviews`` (all), ``mechanism`` and
        ``outcome`` (interviews telling each), ``both``, ``mechanism_first`` (the mechanism told before the
        outcome: the supporting interviews), ``outcome_first``, ``contradicting`` and ``min_interviews``.
    quotes : tuple of QualitativeQuote
        Up to a few short passages from supporting interviews.
    interviews : tuple of str
        The supporting interviews.
    """

    status: str = "none"
    summary: str = "no qualitative evidence given"
    sources: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    quotes: tuple[QualitativeQuote, ...] = ()
    interviews: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in ("supports", "contradicts", "none"):
            raise ValueError(f"status must be 'supports', 'contradicts' or 'none', not {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "summary": self.summary,
            "sources": list(self.sources),
            "counts": plain(dict(self.counts)),
            "quotes": [quote.to_dict() for quote in self.quotes],
            "interviews": list(self.interviews),
        }


NO_QUALITATIVE_EVIDENCE = QualitativeEvidence()
