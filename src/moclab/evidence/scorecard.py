"""The scorecard objects: `PathwayEvidence`, `EvidenceScorecard` (pathway × criterion) and `StudyEvidence`.

They hold verdicts and the analysis result objects the verdicts were read from, and render the same content
as a DataFrame (`to_frame`), JSON-ready data (`to_dict`, every number included), HTML for notebooks
(`_repr_html_`) and a rich table for the terminal (`rich_table`). The HTML report (`moclab.report`) is built
from `StudyEvidence.to_dict()` and the result objects.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from moclab.analysis.results import AnalysisResult
from moclab.evidence.conclusion import Conclusion
from moclab.evidence.plan import PathwayPlan
from moclab.evidence.verdicts import (
    CRITERIA,
    NO_QUALITATIVE_EVIDENCE,
    QualitativeEvidence,
    Status,
    Verdict,
)
from moclab.plain import plain
from moclab.study.evidence_settings import EvidenceSettings
from moclab.study.flow import AttritionTests, ParticipantFlow

__all__ = ["EvidenceScorecard", "PathwayEvidence", "StudyEvidence"]

#: Colours of the statuses in terminal tables and HTML.
STATUS_STYLE = {
    Status.MET: "bold green",
    Status.PARTLY_MET: "yellow",
    Status.NOT_MET: "red",
    Status.NOT_TESTABLE: "dim",
}
#: Colours and short forms of the conclusion's grades.
GRADE_STYLE = {
    "established": "bold green",
    "supported under stated assumptions": "green",
    "suggestive": "yellow",
    "not supported": "red",
    "not testable": "dim",
}
GRADE_SHORT = {
    "established": "established",
    "supported under stated assumptions": "supported*",
    "suggestive": "suggestive",
    "not supported": "not supp.",
    "not testable": "untestable",
}
_HTML_COLOURS = {
    Status.MET: "#1a7f37",
    Status.PARTLY_MET: "#9a6700",
    Status.NOT_MET: "#cf222e",
    Status.NOT_TESTABLE: "#6e7781",
}


@dataclass(frozen=True, repr=False)
class PathwayEvidence:
    """The verdicts of one pathway, with the analyses behind them.

    Attributes
    ----------
    plan : PathwayPlan
        Which columns and waves stood for the strategy, mechanism(s) and outcome, and how X was coded.
    verdicts : tuple of Verdict
        One per criterion, in the order of `CRITERIA`.
    results : dict of str to AnalysisResult
        The result objects: ``mediation`` (strong association), ``specificity`` (competing mechanisms in
        parallel), ``non_target[NAME]``, ``site_effects`` and ``consistency`` (per-site effects and their
        meta-analysis; ``subgroup[COLUMN=LEVEL]`` for subgroups), ``panel`` (cross-lagged model),
        ``dose_mechanism`` and ``mechanism_outcome`` (dose-response), ``sensitivity``.
    n : int
        Recipients with a value of the strategy, the mechanism(s) and the outcome.
    assumptions : tuple of str
        What the analysis assumed or chose (waves, coding, adjustments), for the methods section.
    notes : tuple of str
        What was left out and why (missing data, thin subgroups, failed models).
    qualitative : QualitativeEvidence
        What qualitative research says about the pathway.
    conclusion : Conclusion or None
        The overall conclusion: its grade, the assumptions its causal reading rests on, the robustness of
        the mechanism → outcome link, and the design changes that would identify it.
    flow : ParticipantFlow or None
        The participant flow per arm and wave, with the mechanism, the outcome and the analysed recipients
        of this pathway (`moclab.study.flow`).
    attrition : AttritionTests or None
        The tests of differential attrition by arm and by baseline mechanism and outcome (None with one
        wave).
    """

    plan: PathwayPlan
    verdicts: tuple[Verdict, ...]
    results: dict[str, AnalysisResult] = field(default_factory=dict)
    n: int = 0
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    qualitative: QualitativeEvidence = NO_QUALITATIVE_EVIDENCE
    conclusion: Conclusion | None = None
    flow: ParticipantFlow | None = None
    attrition: AttritionTests | None = None

    @property
    def id(self) -> str:
        return self.plan.id

    @property
    def label(self) -> str:
        return self.plan.label

    def verdict(self, criterion_id: str) -> Verdict:
        """The verdict of one criterion (``"timeline"``)."""
        for verdict in self.verdicts:
            if verdict.criterion == criterion_id:
                return verdict
        raise KeyError(f"no verdict for '{criterion_id}'; criteria: {', '.join(c.id for c in CRITERIA)}")

    @property
    def statuses(self) -> dict[str, Status]:
        return {verdict.criterion: verdict.status for verdict in self.verdicts}

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion: status, statistic, estimate, interval, reason, rule, design change."""
        rows = []
        for verdict in self.verdicts:
            low, high = verdict.interval if verdict.interval is not None else (None, None)
            rows.append(
                {
                    "criterion": verdict.name,
                    "status": verdict.status.value,
                    "statistic": verdict.statistic,
                    "estimate": verdict.estimate,
                    "ci_low": low,
                    "ci_high": high,
                    "reason": verdict.reason,
                    "design_change": verdict.design_change,
                    "rule": verdict.rule,
                }
            )
        return pd.DataFrame(rows).set_index("criterion")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "plan": plain(self.plan.to_dict()),
            "n": self.n,
            "conclusion": self.conclusion.to_dict() if self.conclusion is not None else None,
            "verdicts": [verdict.to_dict() for verdict in self.verdicts],
            "results": {name: result.to_dict() for name, result in self.results.items()},
            "assumptions": list(self.assumptions),
            "notes": list(self.notes),
            "qualitative": self.qualitative.to_dict(),
            "flow": self.flow.to_dict() if self.flow is not None else None,
            "attrition": self.attrition.to_dict() if self.attrition is not None else None,
        }

    def summary(self) -> str:
        """Readable report: the conclusion, then each verdict with its headline number and reason."""
        lines = [f"{self.label} [{self.id}, n = {self.n}]"]
        if self.conclusion is not None:
            lines.append(str(self.conclusion))
        for verdict in self.verdicts:
            headline = f"{verdict.headline()}. " if verdict.headline() else ""
            lines.append(f"  {verdict.status.symbol} {verdict.name}: {headline}{verdict.reason}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        grade = self.conclusion.grade if self.conclusion is not None else "no conclusion"
        met = sum(verdict.status is Status.MET for verdict in self.verdicts)
        return (
            f"PathwayEvidence({self.id!r}, {grade}, {met} of {len(self.verdicts)} criteria met, n={self.n})"
        )

    def _repr_html_(self) -> str:
        frame = self.to_frame()[["status", "statistic", "estimate", "ci_low", "ci_high", "reason"]]
        body = frame.to_html(float_format=lambda v: f"{v:.3g}", na_rep="", border=0)
        conclusion = (
            f"<p><strong>{html.escape(self.conclusion.grade)}</strong>: "
            f"{html.escape(self.conclusion.statement)}</p>"
            if self.conclusion is not None
            else ""
        )
        return f"<div><strong>{html.escape(self.label)}</strong> (n = {self.n}){conclusion}{body}</div>"


@dataclass(frozen=True, repr=False)
class EvidenceScorecard:
    """The pathway × criterion matrix of verdicts, with every pathway's evidence.

    Examples
    --------
    ``scorecard.to_frame()`` has one row per pathway and one column per criterion (the status);
    ``scorecard.verdict("pathway_id", "timeline")`` gives one verdict with its numbers.
    """

    pathways: tuple[PathwayEvidence, ...]

    @property
    def pathway_ids(self) -> list[str]:
        return [pathway.id for pathway in self.pathways]

    def pathway(self, pathway_id: str) -> PathwayEvidence:
        for pathway in self.pathways:
            if pathway.id == pathway_id:
                return pathway
        raise KeyError(f"no pathway '{pathway_id}'; pathways: {', '.join(self.pathway_ids)}")

    def verdict(self, pathway_id: str, criterion_id: str) -> Verdict:
        """One verdict: pathway id × criterion id."""
        return self.pathway(pathway_id).verdict(criterion_id)

    def to_frame(self) -> pd.DataFrame:
        """One row per pathway: the conclusion's grade, then one column per criterion with its status (names
        as in Lewis et al. 2020)."""
        data = {
            "Conclusion": [
                pathway.conclusion.grade if pathway.conclusion is not None else None
                for pathway in self.pathways
            ],
            **{
                criterion.name: [pathway.verdict(criterion.id).status.value for pathway in self.pathways]
                for criterion in CRITERIA
            },
        }
        frame = pd.DataFrame(data, index=pd.Index(self.pathway_ids, name="pathway"))
        return frame

    def counts(self) -> pd.DataFrame:
        """How many pathways have each status, per criterion."""
        frame = self.to_frame().drop(columns="Conclusion")
        statuses = [status.value for status in Status]
        return frame.apply(lambda column: column.value_counts().reindex(statuses, fill_value=0)).T

    def to_dict(self) -> dict[str, Any]:
        return {
            "criteria": [
                {"id": c.id, "ref": c.ref, "name": c.name, "question": c.question} for c in CRITERIA
            ],
            "matrix": {
                pathway.id: {verdict.criterion: verdict.status.value for verdict in pathway.verdicts}
                for pathway in self.pathways
            },
            "conclusions": {
                pathway.id: pathway.conclusion.grade if pathway.conclusion is not None else None
                for pathway in self.pathways
            },
            "pathways": [pathway.to_dict() for pathway in self.pathways],
        }

    def _repr_html_(self) -> str:
        head = "<th>conclusion</th>" + "".join(f"<th>{html.escape(c.name)}</th>" for c in CRITERIA)
        rows = []
        for pathway in self.pathways:
            grade = pathway.conclusion.grade if pathway.conclusion is not None else ""
            title = html.escape(
                pathway.conclusion.statement if pathway.conclusion is not None else "", quote=True
            )
            cells = [f'<td title="{title}"><strong>{html.escape(grade)}</strong></td>']
            for criterion in CRITERIA:
                verdict = pathway.verdict(criterion.id)
                colour = _HTML_COLOURS[verdict.status]
                title = html.escape(verdict.reason, quote=True)
                cells.append(
                    f'<td style="color:{colour}" title="{title}">{verdict.status.symbol} '
                    f"{html.escape(verdict.status.value)}</td>"
                )
            rows.append(f"<tr><th>{html.escape(pathway.label)}</th>{''.join(cells)}</tr>")
        return (
            '<table border="0"><thead><tr><th>pathway</th>'
            + head
            + "</tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )

    def rich_table(self, *, compact: bool = False) -> Table:
        """The matrix as a rich Table: ✓ met, ◐ partly met, ✗ not met, ? not testable.

        ``compact`` keeps one terminal line per pathway: the symbols only under one-letter headers (the
        first letter of each criterion's short name: A association, S specificity, C consistency, E
        experimental manipulation, T timeline, G gradient, P plausibility), the short form of the
        conclusion, and the pathway's label cut with an ellipsis when the width is too narrow; the table
        fills the width it is printed in (``console.print(table, width=...)`` narrows it).
        """
        table = Table(
            box=box.SIMPLE_HEAVY, title="Mechanism evidence scorecard", title_justify="left", expand=compact
        )
        # A strategy every pathway starts from moves into the compact header, so a cut label keeps the
        # mechanism and the outcome that tell the rows apart.
        shared = _shared_strategy(self.pathways) if compact else None
        if compact:  # the pathway column takes what the others leave: the table fills the width it is given
            header = f"{shared} → pathway" if shared else "pathway"
            table.add_column(header, no_wrap=True, overflow="ellipsis", ratio=1)
            table.add_column("conclusion", no_wrap=True)
        else:
            table.add_column("pathway", overflow="fold", min_width=16)
            table.add_column("conclusion", overflow="fold", min_width=10)
        for criterion in CRITERIA:
            header = criterion.short[0].upper() if compact else criterion.short
            table.add_column(header, justify="center", no_wrap=True)
        for pathway in self.pathways:
            grade = pathway.conclusion.grade if pathway.conclusion is not None else ""
            cells = [
                Text(GRADE_SHORT.get(grade, grade) if compact else grade, style=GRADE_STYLE.get(grade, ""))
            ]
            for criterion in CRITERIA:
                status = pathway.verdict(criterion.id).status
                text = status.symbol if compact else f"{status.symbol} {status.value}"
                cells.append(Text(text, style=STATUS_STYLE[status]))
            label = pathway.plan.plan_label(without_strategy=True) if shared else pathway.label
            table.add_row(label, *cells)
        return table

    def details(self) -> RenderableType:
        """Per pathway, every verdict with its headline number, reason and design change (for the CLI)."""
        parts: list[RenderableType] = []
        for pathway in self.pathways:
            parts.append(Text(f"\n{pathway.label}  [{pathway.id}, n = {pathway.n}]", style="bold"))
            if pathway.conclusion is not None:
                conclusion = pathway.conclusion
                line = Text("  ")
                line.append(f"{conclusion.grade}: ", style=GRADE_STYLE.get(conclusion.grade, "bold"))
                line.append(conclusion.statement)
                parts.append(line)
                for assumption in conclusion.assumptions:
                    if assumption.status in ("assumed", "questioned"):
                        parts.append(
                            Text(f"      {assumption.status}: {assumption.statement}", style="italic")
                        )
            for verdict in pathway.verdicts:
                line = Text("  ")
                line.append(f"{verdict.status.symbol} {verdict.name}: ", style=STATUS_STYLE[verdict.status])
                if verdict.headline():
                    line.append(verdict.headline() + ". ")
                line.append(verdict.reason)
                parts.append(line)
                if verdict.design_change and verdict.status is not Status.MET:
                    parts.append(Text(f"      design change: {verdict.design_change}", style="italic"))
        return Group(*parts)

    def __rich__(self) -> Table:
        return self.rich_table()

    def summary(self) -> str:
        """Readable report: the pathway × criterion matrix led by the conclusions."""
        return self.to_frame().to_string()

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        grades = ", ".join(
            f"{grade} {count}"
            for grade, count in self.to_frame()["Conclusion"].value_counts(sort=False).items()
        )
        return f"EvidenceScorecard({len(self.pathways)} pathways: {grades})"


@dataclass(frozen=True, repr=False)
class StudyEvidence:
    """Everything `moclab.evidence.analyze` found for one study: the scorecard, the settings and the design.

    Attributes
    ----------
    study : dict
        Title, folder, whether synthetic, counts of recipients and clusters, waves, randomization.
    settings : EvidenceSettings
        The settings the analysis ran with (the seed filled in).
    scorecard : EvidenceScorecard
        Verdicts and result objects per pathway.
    warnings : tuple of str
        Warnings of the analyses, prefixed with their pathway.
    elapsed : float
        Seconds the analysis took.
    """

    study: dict[str, Any]
    settings: EvidenceSettings
    scorecard: EvidenceScorecard
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0

    @property
    def pathways(self) -> tuple[PathwayEvidence, ...]:
        return self.scorecard.pathways

    def to_frame(self) -> pd.DataFrame:
        """The pathway × criterion matrix of statuses (see `EvidenceScorecard.to_frame`)."""
        return self.scorecard.to_frame()

    def to_dict(self) -> dict[str, Any]:
        """Every number and text of the analysis as JSON-ready data (the content of report.json)."""
        from moclab import __version__

        return plain(
            {
                "moclab": __version__,
                "study": self.study,
                "settings": self.settings.model_dump(mode="json"),
                "scorecard": self.scorecard.to_dict(),
                "warnings": list(self.warnings),
                "elapsed_seconds": self.elapsed,
            }
        )

    def _repr_html_(self) -> str:
        title = html.escape(str(self.study.get("title", "")))
        head = (
            f"<p><strong>{title}</strong>: {len(self.pathways)} pathway(s), seed {self.settings.seed}, "
            f"{self.settings.n_boot} resamples</p>"
        )
        return "<div>" + head + self.scorecard._repr_html_() + "</div>"

    def __rich__(self) -> Table:
        return self.scorecard.rich_table()

    def summary(self) -> str:
        """Readable report: the study, the settings, then every pathway's conclusion and verdicts."""
        head = (
            f"{self.study.get('title', '')}: {len(self.pathways)} pathway(s), {self.settings.level:.0%} "
            f"intervals ({self.settings.ci}), {self.settings.n_boot} resamples, seed {self.settings.seed}"
        )
        return "\n\n".join([head, *(pathway.summary() for pathway in self.pathways)])

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"StudyEvidence({self.study.get('title', '')!r}, {self.scorecard!r}, seed={self.settings.seed})"
        )


def _shared_strategy(pathways: Sequence[PathwayEvidence]) -> str | None:
    """The strategy of every pathway when they share one and their labels are the default ones, else None."""
    strategies = {pathway.plan.strategy for pathway in pathways}
    if len(strategies) != 1 or any(pathway.plan.pathway.label for pathway in pathways):
        return None
    return strategies.pop()
