"""Path diagrams of fitted models: boxes for variables, arrows labelled with the estimates.

Every mediation result (`MediationResult`, `MultilevelMediationResult`, `CausalMediationResult`) draws its
fitted model through this module, so the diagrams look alike and are built in one place. A `PathDiagram` is
plain data (nodes with positions, labelled edges, optional panels such as "within clusters" and "between
clusters"); it renders as Graphviz DOT text (`PathDiagram.to_dot`) or on a matplotlib Axes
(`PathDiagram.plot`). `mediation_parts` lays out the usual triangle of a mediation model: the strategy X at
the bottom left, the outcome Y at the bottom right and the mediators above (stacked when parallel, left to
right when serial).

Why not the model layer's diagrams: `moclab.model` draws hypothesized pathway models (no estimates) and the
analysis layer must not depend on layers above it; Graphviz itself is not needed to write DOT text, and the
matplotlib drawing works without the Graphviz binaries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DiagramEdge",
    "DiagramNode",
    "PathDiagram",
    "PathEstimate",
    "dot_escape",
    "mediation_parts",
    "significance_stars",
]


def significance_stars(p: float | None) -> str:
    """``***`` for p < .001, ``**`` for p < .01, ``*`` for p < .05, else an empty string.

    Examples
    --------
    >>> significance_stars(0.003), significance_stars(0.2), significance_stars(None)
    ('**', '', '')
    """
    if p is None or not math.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def dot_escape(text: object) -> str:
    """Escape backslashes and double quotes for a quoted Graphviz DOT string.

    Examples
    --------
    >>> dot_escape('say "hi"')
    'say \\\\"hi\\\\"'
    """
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class DiagramNode:
    """A variable box: a unique ``id``, the text shown (``label``, default the id), its (x, y) position
    on the plot and, optionally, the panel (``group``) it belongs to."""

    id: str
    position: tuple[float, float]
    label: str | None = None
    group: str | None = None

    @property
    def text(self) -> str:
        return self.id if self.label is None else self.label


@dataclass(frozen=True)
class DiagramEdge:
    """An arrow from ``source`` to ``target`` (node ids) with its label.

    ``label`` is the full text (used in DOT, e.g. ``"a = 0.43***"``); ``plot_label`` the shorter text drawn
    on the plot (default: ``label``), placed at fraction ``label_at`` along the arrow and shifted up by
    ``label_shift`` (plot units); ``bend`` curves the arrow (matplotlib ``arc3`` radius, positive bends to
    the left of the direction of travel).
    """

    source: str
    target: str
    label: str
    plot_label: str | None = None
    label_at: float = 0.5
    label_shift: float = 0.0
    bend: float = 0.0


@dataclass(frozen=True)
class PathDiagram:
    """Nodes and labelled edges of a fitted path model, renderable as DOT text or a matplotlib figure.

    Nodes sharing a ``group`` are drawn as one panel with the group as its heading (a DOT ``cluster``
    subgraph); ``same_rank`` lists sets of node ids that DOT should place side by side.

    Examples
    --------
    >>> paths = [
    ...     PathEstimate("coaching", "trust", "a", 0.5, 0.001),
    ...     PathEstimate("trust", "adoption", "b", 0.4, 0.02),
    ... ]
    >>> nodes, edges = mediation_parts(
    ...     "coaching", ["trust"], "adoption", paths, direct="c' = 0.10 (c = 0.30)"
    ... )
    >>> diagram = PathDiagram(tuple(nodes), tuple(edges), same_rank=(("coaching", "adoption"),))
    >>> print(diagram.to_dot())
    digraph mediation {
      rankdir=LR;
      node [shape=box, fontname="Helvetica"];
      "coaching";
      "trust";
      "adoption";
      { rank=same; "coaching"; "adoption"; }
      "coaching" -> "trust" [label="a = 0.50**"];
      "trust" -> "adoption" [label="b = 0.40*"];
      "coaching" -> "adoption" [label="c' = 0.10 (c = 0.30)"];
    }
    """

    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    title: str = ""
    name: str = "mediation"
    same_rank: tuple[tuple[str, ...], ...] = ()
    figsize: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        ids = [node.id for node in self.nodes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"diagram node ids must be unique, got {ids}")
        unknown = {e.source for e in self.edges} | {e.target for e in self.edges}
        unknown -= set(ids)
        if unknown:
            raise ValueError(f"edges refer to unknown nodes: {sorted(unknown)}")

    def _groups(self) -> list[str | None]:
        return list(dict.fromkeys(node.group for node in self.nodes))

    def to_dot(self) -> str:
        """Graphviz DOT text: one box per node (grouped panels as ``cluster`` subgraphs), labelled arrows."""

        def node_line(node: DiagramNode, indent: str) -> str:
            if node.label is None or node.label == node.id:
                return f'{indent}"{dot_escape(node.id)}";'
            return f'{indent}"{dot_escape(node.id)}" [label="{dot_escape(node.label)}"];'

        def rank_lines(members: set[str], indent: str) -> list[str]:
            out = []
            for rank in self.same_rank:
                if set(rank) <= members:
                    joined = "; ".join(f'"{dot_escape(i)}"' for i in rank)
                    out.append(f"{indent}{{ rank=same; {joined}; }}")
            return out

        lines = [f"digraph {self.name} {{", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
        groups = self._groups()
        for number, group in enumerate(groups):
            members = [node for node in self.nodes if node.group == group]
            ids = {node.id for node in members}
            if group is None:
                lines.extend(node_line(node, "  ") for node in members)
                lines.extend(rank_lines(ids, "  "))
                continue
            lines.append(f"  subgraph cluster_{number} {{")
            lines.append(f'    label="{dot_escape(group)}";')
            lines.extend(node_line(node, "    ") for node in members)
            lines.extend(rank_lines(ids, "    "))
            lines.append("  }")
        for edge in self.edges:
            lines.append(
                f'  "{dot_escape(edge.source)}" -> "{dot_escape(edge.target)}" '
                f'[label="{dot_escape(edge.label)}"];'
            )
        lines.append("}")
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Draw the diagram on a matplotlib Axes (a new figure when ``ax`` is None) and return the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=self.figsize or (7.5, 3.5))
        positions = {node.id: node.position for node in self.nodes}
        box = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "0.2"}
        for node in self.nodes:
            px, py = node.position
            ax.text(px, py, node.text, ha="center", va="center", bbox=box, zorder=3, fontsize=10)
        for edge in self.edges:
            (x0, y0), (x1, y1) = positions[edge.source], positions[edge.target]
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "0.25",
                    "shrinkA": 22,
                    "shrinkB": 22,
                    "connectionstyle": f"arc3,rad={-edge.bend}",
                },
                zorder=2,
            )
            ax.text(
                x0 + edge.label_at * (x1 - x0),
                y0 + edge.label_at * (y1 - y0) + edge.label_shift,
                edge.label if edge.plot_label is None else edge.plot_label,
                ha="center",
                va="center",
                fontsize=8.5,
                color="0.1",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9},
                zorder=4,
            )
        xs = [p[0] for p in positions.values()]
        ys = [p[1] for p in positions.values()]
        top = max(ys)
        for group in self._groups():
            if group is None:
                continue
            members = [node.position for node in self.nodes if node.group == group]
            center = (min(p[0] for p in members) + max(p[0] for p in members)) / 2
            ax.text(center, top + 0.42, group, ha="center", va="bottom", fontsize=10, fontweight="bold")
        has_groups = any(group is not None for group in self._groups())
        ax.set_xlim(min(xs) - 0.15, max(xs) + 0.15)
        ax.set_ylim(min(ys) - 0.45, top + (0.75 if has_groups else 0.45))
        ax.axis("off")
        if self.title:
            ax.set_title(self.title, fontsize=10)
        return ax


@dataclass(frozen=True)
class PathEstimate:
    """One estimated path for `mediation_parts`: variable names, the path's name ("a", "b", "d", ...), the
    estimate and its p-value (for the stars; None for none)."""

    source: str
    target: str
    name: str
    estimate: float
    p: float | None = None


def mediation_parts(
    x: str,
    mediators: Sequence[str],
    y: str,
    paths: Sequence[PathEstimate],
    *,
    direct: str | None = None,
    serial: bool = False,
    digits: int = 2,
    group: str | None = None,
    id_suffix: str = "",
    x_offset: float = 0.0,
) -> tuple[list[DiagramNode], list[DiagramEdge]]:
    """Nodes and edges of a mediation triangle: X bottom left, Y bottom right, mediators above.

    Parameters
    ----------
    x, mediators, y : str
        Variable names (shown in the boxes).
    paths : sequence of PathEstimate
        The paths to draw between those variables; the plot shows the estimate with its stars, DOT the
        full ``name = estimate`` text. Variables that no path touches are still drawn.
    direct : str, optional
        Full label of the X → Y arrow (e.g. ``"c' = 0.10 (c = 0.30)"``), drawn below the arrow; no arrow
        when None.
    serial : bool
        Mediators left to right in a chain (arrows that skip a mediator curve above it) instead of stacked.
    digits : int
        Decimals of the estimates.
    group : str, optional
        Panel heading (e.g. "Between clusters") for every node.
    id_suffix : str
        Appended to every node id (not to the text shown) so two panels may show the same variables.
    x_offset : float
        Horizontal shift of the whole triangle (panels side by side are 1.6 apart).
    """
    k = len(mediators)
    positions: dict[str, tuple[float, float]] = {x: (0.0, 0.0)}
    for j, name in enumerate(mediators):
        if serial:  # an arch, so arrows that skip a mediator pass above or below it
            lift = 0.5 * math.sin(math.pi * (j + 1) / (k + 1)) if k > 2 else 0.0
            positions[name] = ((j + 1) / (k + 1), 1.0 + lift)
        else:
            positions[name] = (0.5, 1.0 + (k - 1 - j) * 0.8)
    positions[y] = (1.0, 0.0)

    def node_id(name: str) -> str:
        return f"{name}{id_suffix}"

    nodes = [
        DiagramNode(node_id(name), (px + x_offset, py), name if id_suffix else None, group)
        for name, (px, py) in positions.items()
    ]
    edges = []
    for path in paths:
        (x0, _), (x1, _) = positions[path.source], positions[path.target]
        skips = serial and path.source in mediators and path.target in mediators
        bend = 0.3 if skips and abs(x1 - x0) > 1.5 / (k + 1) else 0.0
        # Labels sit where arrows fan out (near the mediator end), so labels of neighbouring arrows do not
        # collide.
        where = 0.72 if path.source == x else 0.28 if path.target == y else 0.5
        value = f"{path.estimate:.{digits}f}{significance_stars(path.p)}"
        edges.append(
            DiagramEdge(
                node_id(path.source),
                node_id(path.target),
                f"{path.name} = {value}",
                plot_label=value,
                label_at=where,
                label_shift=0.3 if bend else 0.0,
                bend=bend,
            )
        )
    if direct is not None:  # the direct path's label goes below its arrow
        edges.append(DiagramEdge(node_id(x), node_id(y), direct, label_at=0.5, label_shift=-0.13))
    return nodes, edges
