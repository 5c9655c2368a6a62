"""The causal pathway diagram as Mermaid flowchart text (renders in GitHub, GitLab, Notion and many wikis).

Mermaid has no layout control beyond the direction and cannot point a line at another line, so the Mermaid
diagram keeps the essentials: left to right, levels as subgraphs, one shape and colour per node type (the same
palette as the Graphviz diagram) and one arrow per edge type; a moderator of an edge points at the edge's
target with the label "moderates source→target".
"""

from __future__ import annotations

from moclab.model.export.style import EDGE_STYLES, LEVEL_LABELS, NODE_STYLES
from moclab.model.pathway_model import Node, PathwayModel
from moclab.model.vocabulary import EdgeType

# Words Mermaid's flowchart grammar reads as keywords; a node with such an id would break the diagram.
_KEYWORDS = {
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "style",
    "class",
    "classdef",
    "click",
    "linkstyle",
    "direction",
}


def _mermaid_id(node_id: str) -> str:
    return f"n_{node_id}" if node_id.lower() in _KEYWORDS else node_id


def _text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (Mermaid uses HTML entities, written with '#')."""
    return text.replace('"', "#quot;").replace("\n", " ")


def _node_line(node: Node) -> str:
    left, right = NODE_STYLES[node.type].mermaid
    return f'{_mermaid_id(node.id)}{left}"{_text(node.display_label)}"{right}'


def to_mermaid(model: PathwayModel) -> str:
    """Mermaid ``flowchart LR`` text of the model.

    Examples
    --------
    >>> from moclab.model import load_template, to_mermaid
    >>> print(to_mermaid(load_template("mechanism-criteria", catalog=None)).splitlines()[0])
    %% pathway model 'mechanism-criteria' drawn by moclab
    """
    model = model.with_inferred_edge_types()
    lines = [f"%% pathway model '{model.id}' drawn by moclab", "flowchart LR"]
    if model.title:
        lines.insert(1, f"%% {model.title}")
    for level, label in LEVEL_LABELS.items():
        members = [node for node in model.nodes if node.level is level]
        if members:
            lines.append(f'  subgraph level_{level.value}["{label}"]')
            lines += [f"    {_node_line(node)}" for node in members]
            lines.append("  end")
    lines += [f"  {_node_line(node)}" for node in model.nodes if node.level is None]
    for edge in model.edges:
        if edge.type is None:
            continue
        arrow = EDGE_STYLES[edge.type].mermaid
        source = _mermaid_id(edge.source)
        if edge.target_edge:
            first, second = edge.target_edge
            lines.append(f'  {source} {arrow}|"moderates {first}→{second}"| {_mermaid_id(second)}')
        elif edge.type in (EdgeType.MODERATES, EdgeType.REQUIRES):
            lines.append(f'  {source} {arrow}|"{edge.type.words}"| {_mermaid_id(edge.target)}')
        else:
            label = f'|"{_text(edge.label)}"|' if edge.label else ""
            lines.append(f"  {source} {arrow}{label} {_mermaid_id(edge.target)}")
    for node_type, look in NODE_STYLES.items():
        members = [_mermaid_id(node.id) for node in model.nodes if node.type is node_type]
        if members:
            lines.append(f"  classDef {node_type.value} fill:{look.fill},color:{look.font},stroke:#333333")
            lines.append(f"  class {','.join(members)} {node_type.value}")
    return "\n".join(lines) + "\n"
