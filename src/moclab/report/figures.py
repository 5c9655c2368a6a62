"""The report's figures: the pathway model coloured by verdict, and each pathway's analysis plots.

A figure illustrates numbers the report also prints in tables, so a figure that cannot be drawn (Graphviz
missing, an odd label that matplotlib's text engine rejects) becomes a `Figure` with its error, shown in its
place; it never stops the report. Figures with identical content (the support → mechanism dose-response is the
same for every pathway through that mechanism) are drawn once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moclab.evidence.verdicts import Status
from moclab.report.page import format_number
from moclab.report.svg import axes_svg, graph_svg, inline_svg, scale_svg

if TYPE_CHECKING:
    from moclab.analysis import AnalysisResult
    from moclab.evidence import PathwayEvidence, StudyEvidence

__all__ = [
    "STATUS_COLOURS",
    "Figure",
    "FigureMaker",
    "labels_at_middles",
    "model_diagram_annotations",
    "pathway_plots",
]

#: Colours of the statuses (the same as the scorecard's HTML), and their order from best to worst.
STATUS_COLOURS = {
    Status.MET: "#1a7f37",
    Status.PARTLY_MET: "#bf8700",
    Status.NOT_MET: "#cf222e",
    Status.NOT_TESTABLE: "#6e7781",
}
#: Displayed size of the pathway-model diagram relative to Graphviz's natural size.
MODEL_DIAGRAM_SCALE = 0.8
_RANK = {Status.MET: 0, Status.PARTLY_MET: 1, Status.NOT_MET: 2, Status.NOT_TESTABLE: 3}


@dataclass(frozen=True)
class Figure:
    """One figure of the report: inline SVG, or the reason it could not be drawn."""

    id: str
    kind: str
    caption: str
    label: str
    svg: str | None = None
    error: str | None = None
    pathway: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """What report.json records of a figure (not the drawing itself)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "pathway": self.pathway,
            "caption": self.caption,
            "drawn": self.svg is not None,
            "error": self.error,
        }


def _best(statuses: list[Status]) -> Status:
    return min(statuses, key=lambda status: _RANK[status])


def model_diagram_annotations(evidence: StudyEvidence) -> dict[str, dict[str, str]]:
    """Highlights, edge labels and node notes that colour the pathway model by the verdicts.

    * every link of an analysed pathway is drawn in the colour of the pathway's strong-association verdict
      (the best one when several pathways share the link);
    * the link is labelled with its estimated path (a, b or d) or, when pathways estimate it on different
      rows, the range of their estimates;
    * each analysed mechanism gets a note: how many of the seven criteria each of its pathways meets.
    """
    statuses: dict[tuple[str, str], list[Status]] = {}
    estimates: dict[tuple[str, str], list[float]] = {}
    notes: dict[str, list[str]] = {}
    for pathway in evidence.pathways:
        plan = pathway.plan
        status = pathway.verdict("strong_association").status
        for link in plan.links:
            statuses.setdefault(link, []).append(status)
        mediation = pathway.results.get("mediation")
        for effect in mediation.effects if mediation is not None else ():
            if effect.kind not in ("a", "b", "d"):
                continue
            # the analysis frame names every variable by its model node id (the strategy too)
            source, target = effect.extra.get("from"), effect.extra.get("to")
            if (source, target) in statuses:
                estimates.setdefault((source, target), []).append(float(effect.estimate))
        met = sum(verdict.status is Status.MET for verdict in pathway.verdicts)
        notes.setdefault(plan.mechanisms[0], []).append(f"{plan.outcome} {met}/7 met")
    highlight = {f"{s}->{t}": STATUS_COLOURS[_best(found)] for (s, t), found in statuses.items()}
    labels = {}
    for (source, target), values in estimates.items():
        low, high = (format_number(value) for value in (min(values), max(values)))
        labels[f"{source}->{target}"] = low if low == high else f"{low} to {high}"
    node_notes = {node: "; ".join(lines) for node, lines in notes.items()}
    return {"highlight": highlight, "edge_labels": labels, "node_notes": node_notes}


#: An edge statement of the DOT the graphviz package writes, with its label (always its first attribute).
_LABELLED_EDGE = re.compile(r"^(\t.+? -> .+? \[)label=")


def labels_at_middles(graph: Any) -> Any:
    """Lay a pathway diagram out for labelled links: straight edges, each label beside its edge's middle.

    Graphviz gives an edge's ``label`` a node of its own in the rank between the edge's ends: with many
    labelled links between two columns (every mechanism to every outcome) the edges bend around those
    nodes and tangle, and the labels end up near the edges' starts. An ``xlabel`` is placed after the
    layout, next to the middle of its edge; straight edges (``splines=line``) cross cleanly; a labelled
    edge spans more ranks (``minlen``) so the column gap it crosses has room for its label.
    """
    graph.body = [_LABELLED_EDGE.sub(r"\1minlen=4 xlabel=", line) for line in graph.body]
    graph.attr(splines="line", forcelabels="true", ranksep="0.45", nodesep="0.35")
    return graph


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


class FigureMaker:
    """Draws figures, numbering their ids, reusing identical drawings, and catching failures."""

    def __init__(self) -> None:
        self.count = 0
        self._drawn: dict[str, str] = {}

    def _next_id(self, kind: str) -> str:
        self.count += 1
        return f"fig{self.count}-{_slug(kind)}"

    def make(
        self,
        kind: str,
        caption: str,
        label: str,
        draw: Callable[[], str],
        *,
        key: str | None = None,
        pathway: str | None = None,
    ) -> Figure:
        """Draw one figure: `draw` returns SVG text; `key` identifies identical content to draw once."""
        figure_id = self._next_id(kind)
        try:
            document = self._drawn.get(key) if key is not None else None
            if document is None:
                document = draw()
                if key is not None:
                    self._drawn[key] = document
            svg = inline_svg(document, figure_id, label)
        # A figure only illustrates numbers that the tables print; whatever stops one (Graphviz missing or
        # failing, a label matplotlib cannot typeset, a degenerate result) is reported in its place.
        except Exception as error:
            message = " ".join(str(error).split()) or type(error).__name__
            return Figure(figure_id, kind, caption, label, error=message[:300], pathway=pathway)
        return Figure(figure_id, kind, caption, label, svg=svg, pathway=pathway)

    def model_diagram(self, model: Any, evidence: StudyEvidence) -> Figure:
        """The study's pathway model, its analysed pathways coloured by verdict (Graphviz)."""
        from moclab.model.export import build_diagram

        def draw() -> str:
            notes = model_diagram_annotations(evidence)
            graph = build_diagram(model, notes["highlight"], notes["edge_labels"], notes["node_notes"])
            # The report's heading names the model; a title inside the drawing would repeat it (and a title
            # that looks like markup would be read by Graphviz as an HTML-like label).
            graph.attr(label="")
            # Graphviz sizes text at 1 pt = 1 px; at 80 % a small model stays small. A large one is fitted
            # to the page's column (the viewBox keeps the drawing) and opens at this size on request.
            return scale_svg(graph_svg(labels_at_middles(graph)), MODEL_DIAGRAM_SCALE)

        caption = (
            "The pathway model. Links of the analysed pathways are drawn thick, in the colour of the "
            "pathway's strong-association verdict (green met, amber partly met, red not met, grey not "
            "testable; the best when pathways share a link), labelled with the estimated path coefficient "
            "(or the range of the "
            "estimates). Under each analysed mechanism: how many of the seven criteria each of its pathways "
            "meets, by outcome."
        )
        return self.make("pathway-model", caption, "Pathway model coloured by verdict", draw)

    def pathway_figure(
        self, pathway: PathwayEvidence, kind: str, name: str, caption: str, label: str
    ) -> Figure:
        """One plot of a pathway: the ``plot()`` of its result `name` (see `pathway_plots`)."""
        result = pathway.results[name]
        return self.make(
            kind, caption, label, lambda: axes_svg(result.plot), key=_result_key(result), pathway=pathway.id
        )


def pathway_plots(pathway: PathwayEvidence) -> list[tuple[str, str, str, str]]:
    """The plots a pathway gets, as (kind, result name, caption, accessible label), for the results it has:
    path diagram, forest plot, dose-response plots, cross-lagged diagram."""
    plan = pathway.plan
    results = pathway.results
    chain = " → ".join((plan.strategy, *plan.mechanisms, plan.outcome))
    found: list[tuple[str, str, str, str]] = []
    if "mediation" in results:
        found.append(
            (
                "path-diagram",
                "mediation",
                f"The mediation model {chain} with its estimated paths (* p < .05, ** p < .01, "
                "*** p < .001); c′ is the direct effect, c the total effect.",
                f"Path diagram: {chain}",
            )
        )
    if "consistency" in results:
        meta = results["consistency"]
        found.append(
            (
                "forest-plot",
                "consistency",
                f"Forest plot of the {meta.effect_label} (squares sized by their random-effects weight, "  # type: ignore[attr-defined]
                "lines their intervals); the diamond is the pooled estimate with its interval and the line "
                "through it the prediction interval.",
                f"Forest plot: {chain}",
            )
        )
    if "dose_mechanism" in results:
        found.append(
            (
                "dose-response",
                "dose_mechanism",
                f"Dose-response: {plan.mechanisms[0]} by the support received (group means with their "
                "intervals, the fitted line with its band, and a quadratic curve).",
                f"Dose-response of {plan.mechanisms[0]} on support received",
            )
        )
    if "mechanism_outcome" in results:
        found.append(
            (
                "dose-response",
                "mechanism_outcome",
                f"Gradient from mechanism to outcome: {plan.outcome} by {plan.mechanisms[-1]}, adjusted "
                "for the strategy and the baselines.",
                f"{plan.outcome} by {plan.mechanisms[-1]}",
            )
        )
    if "panel" in results:
        found.append(
            (
                "cross-lagged",
                "panel",
                f"Cross-lagged panel model: {plan.mechanisms[-1]} and {plan.outcome} from one wave to the "
                "next; the diagonal arrows are the cross-lagged effects, the horizontal ones stability.",
                f"Cross-lagged panel: {plan.mechanisms[-1]} and {plan.outcome}",
            )
        )
    return found


def _result_key(result: AnalysisResult) -> str:
    """Identical results draw identical figures: their type and JSON content identify them."""
    return type(result).__name__ + json.dumps(result.to_dict(), sort_keys=True, default=str)
