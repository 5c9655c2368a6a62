"""The causal pathway diagram as a Graphviz graph (DOT), with an optional layer of annotations.

Layout: left to right by role (`layout.columns`), levels as labelled clusters, shape and colour by node type
(`style`), a legend of the node and edge types the model uses. A moderator of an edge points at a small dot in
the middle of that edge, so the diagram shows *which link* it moderates. Graphviz has no rank constraint that
spans clusters unless ``newrank`` is set; with it, one ``rank=same`` group per column plus an invisible chain
of column anchors keeps the columns in order whatever the clusters do.

The annotation hook (`highlight`, `edge_labels`, `node_notes`) lets later layers colour the diagram by
verdict or write estimates on edges without knowing anything about Graphviz.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import graphviz

from moclab.errors import ModelError
from moclab.model.export.layout import LEGEND_ORDER, columns
from moclab.model.export.style import EDGE_STYLES, HIGHLIGHT, LEVEL_LABELS, NODE_STYLES, wrap_label
from moclab.model.pathway_model import Node, PathwayModel
from moclab.model.vocabulary import EdgeType

#: A node id, or an edge as ("from", "to") or "from->to".
AnnotationKey = str | tuple[str, str]
#: Nodes and edges to emphasise, optionally with a colour each.
Highlight = Mapping[AnnotationKey, str] | Iterable[AnnotationKey]

FONT = "Helvetica"


def _edge_key(key: AnnotationKey) -> tuple[str, str] | None:
    if isinstance(key, tuple):
        return (str(key[0]), str(key[1]))
    if "->" in key:
        source, target = key.split("->", 1)
        return (source.strip(), target.strip())
    return None


class _Annotations:
    """The caller's annotations, checked against the model so that a typo fails loudly instead of silently."""

    def __init__(
        self,
        model: PathwayModel,
        highlight: Highlight | None,
        edge_labels: Mapping[AnnotationKey, str] | None,
        node_notes: Mapping[str, str] | None,
    ) -> None:
        node_ids = set(model.node_ids)
        edge_pairs = {(e.source, e.target) for e in model.causal_edges() if e.target_edge is None}
        self.node_colour: dict[str, str] = {}
        self.edge_colour: dict[tuple[str, str], str] = {}
        self.edge_label: dict[tuple[str, str], str] = {}
        self.node_note: dict[str, str] = {}

        def place(key: AnnotationKey, what: str) -> tuple[str, str] | str:
            pair = _edge_key(key)
            if pair is not None:
                if pair not in edge_pairs:
                    raise ModelError(f"{what}: the model has no causal edge {pair[0]} -> {pair[1]}")
                return pair
            if key not in node_ids:
                raise ModelError(f"{what}: the model has no node '{key}'")
            return key  # type: ignore[return-value]

        items = (
            highlight.items() if isinstance(highlight, Mapping) else ((k, HIGHLIGHT) for k in highlight or ())
        )
        for key, colour in items:
            spot = place(key, "highlight")
            (self.edge_colour if isinstance(spot, tuple) else self.node_colour)[spot] = colour  # type: ignore[index]
        for key, text in (edge_labels or {}).items():
            spot = place(key, "edge_labels")
            if not isinstance(spot, tuple):
                raise ModelError(f"edge_labels: '{key}' is a node; use node_notes for nodes")
            self.edge_label[spot] = text
        for key, text in (node_notes or {}).items():
            spot = place(key, "node_notes")
            if isinstance(spot, tuple):
                raise ModelError(f"node_notes: '{key}' is an edge; use edge_labels for edges")
            self.node_note[spot] = text


def _node_attributes(node: Node, notes: _Annotations) -> dict[str, str]:
    look = NODE_STYLES[node.type]
    lines = wrap_label(node.display_label)
    if node.id in notes.node_note:
        lines += wrap_label(notes.node_note[node.id], 28)
    attributes = {
        "label": "\\n".join(line.replace("\\", "\\\\") for line in lines),
        "shape": look.shape,
        "style": look.style,
        "fillcolor": look.fill,
        "fontcolor": look.font,
        "color": "#333333",
        "peripheries": str(look.peripheries),
        "tooltip": f"{node.type.words}: {node.description or node.display_label}",
    }
    if node.id in notes.node_colour:
        attributes.update(color=notes.node_colour[node.id], penwidth="3")
    return attributes


def _edge_attributes(edge_type: EdgeType, **extra: str) -> dict[str, str]:
    look = EDGE_STYLES[edge_type]
    attributes = {
        "style": look.style,
        "arrowhead": look.arrowhead,
        "color": look.color,
        "penwidth": str(look.penwidth),
    }
    attributes.update(extra)
    return attributes


def build_diagram(
    model: PathwayModel,
    highlight: Highlight | None = None,
    edge_labels: Mapping[AnnotationKey, str] | None = None,
    node_notes: Mapping[str, str] | None = None,
    legend: bool = True,
) -> graphviz.Digraph:
    """The causal pathway diagram of `model` as a `graphviz.Digraph` (render it with `render` or `.pipe`).

    Parameters
    ----------
    model : PathwayModel
        The model to draw.
    highlight : mapping or iterable, optional
        Nodes (``"trust"``) and causal edges (``("isp_support", "trust")`` or ``"isp_support->trust"``) to
        emphasise with a thick outline; a mapping gives each its colour (for example a verdict colour).
    edge_labels : mapping, optional
        Text written on causal edges, for example estimates (``{"isp_support->trust": "a = 0.42"}``).
    node_notes : mapping, optional
        A line added under a node's label (``{"trust": "criteria met: 4/7"}``).
    legend : bool
        Draw the legend of node and edge types.

    Returns
    -------
    graphviz.Digraph
    """
    model = model.with_inferred_edge_types()
    notes = _Annotations(model, highlight, edge_labels, node_notes)
    column = columns(model)
    causal = [e for e in model.causal_edges() if e.target_edge is None]
    moderated = {
        e.target_edge for e in model.edges_of(EdgeType.MODERATES) if e.target_edge in {c.key for c in causal}
    }

    # Ranks: nodes on even ranks, the midpoints of moderated edges on the odd rank after their source.
    rank = {node_id: 2 * col for node_id, col in column.items()}
    midpoint = {pair: f"_mid_{pair[0]}_{pair[1]}" for pair in moderated}
    levels = {node.id: node.level for node in model.nodes}
    midpoint_look = {"shape": "point", "width": "0.07", "color": "#000000"}
    for pair, mid in midpoint.items():
        rank[mid] = 2 * column[pair[0]] + 1

    graph = graphviz.Digraph(name=model.id, comment=f"pathway model '{model.id}' drawn by moclab")
    graph.attr(rankdir="LR", newrank="true", nodesep="0.3", ranksep="0.35", fontname=FONT)
    graph.attr(label=model.title_or_id, labelloc="t", fontsize="16")
    graph.attr("node", fontname=FONT, fontsize="11", margin="0.12,0.06")
    graph.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.8")

    for level, level_label in LEVEL_LABELS.items():
        members = [node for node in model.nodes if node.level is level]
        if not members:
            continue
        with graph.subgraph(name=f"cluster_{level.value}") as cluster:
            cluster.attr(label=level_label, style="rounded,dashed", color="#888888", fontcolor="#444444")
            cluster.attr(labeljust="l", fontsize="12")
            for node in members:
                cluster.node(node.id, **_node_attributes(node, notes))
            for pair, mid in midpoint.items():  # a moderated edge within one level keeps its dot inside it
                if level is levels[pair[0]] is levels[pair[1]]:
                    cluster.node(mid, **midpoint_look)
    for node in model.nodes:
        if node.level is None:
            graph.node(node.id, **_node_attributes(node, notes))
    for pair, mid in midpoint.items():
        if levels[pair[0]] is None or levels[pair[0]] is not levels[pair[1]]:
            graph.node(mid, **midpoint_look)

    for edge in causal:
        pair = (edge.source, edge.target)
        label = "\\n".join(text for text in (edge.label, notes.edge_label.get(pair)) if text)
        extra = {"color": notes.edge_colour[pair], "penwidth": "3"} if pair in notes.edge_colour else {}
        if pair in midpoint:
            mid = midpoint[pair]
            graph.edge(edge.source, mid, **_edge_attributes(edge.type, arrowhead="none", **extra))  # type: ignore[arg-type]
            graph.edge(mid, edge.target, **_edge_attributes(edge.type, label=label, **extra))  # type: ignore[arg-type]
        else:
            graph.edge(edge.source, edge.target, **_edge_attributes(edge.type, label=label, **extra))  # type: ignore[arg-type]
    for edge in model.edges_of(EdgeType.MODERATES, EdgeType.REQUIRES):
        if edge.target_edge in midpoint:
            graph.edge(edge.source, midpoint[edge.target_edge], **_edge_attributes(edge.type))  # type: ignore[arg-type, index]
        elif edge.target_edge is None:
            graph.edge(edge.source, edge.target, **_edge_attributes(edge.type))  # type: ignore[arg-type]

    if legend:
        _add_legend(graph, model, rank)
    _add_rank_groups(graph, rank)
    return graph


def _add_legend(graph: graphviz.Digraph, model: PathwayModel, rank: dict[str, int]) -> None:
    """A cluster right of the diagram: a sample of each node type and each edge type the model uses."""
    first = max(rank.values(), default=0) + 2
    node_types = [t for t in LEGEND_ORDER if any(n.type is t for n in model.nodes)]
    edge_types = [t for t in EdgeType if any(e.type is t for e in model.edges)]
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(label="Legend", style="rounded", color="#888888", fontcolor="#444444", fontsize="12")
        for node_type in node_types:
            look = NODE_STYLES[node_type]
            sample = f"_legend_{node_type.value}"
            legend.node(
                sample,
                label=node_type.words,
                shape=look.shape,
                style=look.style,
                fillcolor=look.fill,
                fontcolor=look.font,
                color="#333333",
                peripheries=str(look.peripheries),
                fontsize="10",
            )
            rank[sample] = first
        for edge_type in edge_types:
            tail, head = f"_legend_{edge_type.value}_from", f"_legend_{edge_type.value}_to"
            legend.node(tail, label="", shape="point", width="0.01", color="#FFFFFF")
            legend.node(head, label=edge_type.words, shape="plaintext", fontsize="10")
            legend.edge(tail, head, **_edge_attributes(edge_type))
            # tails and heads get columns of their own, so the sample lines run straight instead of
            # curving past the node samples
            rank[tail], rank[head] = first + 1, first + 2


def _add_rank_groups(graph: graphviz.Digraph, rank: dict[str, int]) -> None:
    """One ``rank=same`` group per used rank, each with an invisible anchor; anchors are chained in order."""
    used = sorted(set(rank.values()))
    previous = None
    for value in used:
        anchor = f"_rank_{value}"
        with graph.subgraph() as group:
            group.attr(rank="same")
            group.node(anchor, style="invis", shape="point", width="0", label="")
            for node_id, node_rank in rank.items():
                if node_rank == value:
                    group.node(node_id)
        if previous is not None:
            graph.edge(previous, anchor, style="invis")
        previous = anchor


def to_dot(
    model: PathwayModel,
    highlight: Highlight | None = None,
    edge_labels: Mapping[AnnotationKey, str] | None = None,
    node_notes: Mapping[str, str] | None = None,
    legend: bool = True,
) -> str:
    """The causal pathway diagram as DOT text (see `build_diagram` for the parameters).

    Examples
    --------
    >>> from moclab.model import load_template, to_dot
    >>> model = load_template("mechanism-criteria", catalog=None)
    >>> text = to_dot(model, edge_labels={"adoption->fidelity": "b = 0.21"})
    >>> text.splitlines()[0]
    "// pathway model 'mechanism-criteria' drawn by moclab"
    >>> [line.strip().split(" [")[0] for line in text.splitlines() if 'label="b = 0.21"' in line]
    ['adoption -> fidelity']
    """
    return build_diagram(model, highlight, edge_labels, node_notes, legend).source
