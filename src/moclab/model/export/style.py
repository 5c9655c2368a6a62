"""How each node and edge type looks in a diagram: one table used by the Graphviz and Mermaid outputs.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), chosen to stay distinguishable
for readers with the common forms of colour blindness; every type also has its own shape or line style, so a
diagram still reads in black and white.
"""

from __future__ import annotations

from dataclasses import dataclass

from moclab.model.vocabulary import EdgeType, Level, NodeType


@dataclass(frozen=True)
class NodeStyle:
    """Graphviz shape and style, fill and text colour, and the Mermaid shape brackets of a node type."""

    shape: str
    fill: str
    font: str
    style: str = "filled"
    peripheries: int = 1
    mermaid: tuple[str, str] = ("[", "]")


@dataclass(frozen=True)
class EdgeStyle:
    """Graphviz line style, arrowhead, colour and width, and the Mermaid arrow of an edge type."""

    style: str
    arrowhead: str
    color: str
    penwidth: float
    mermaid: str


NODE_STYLES: dict[NodeType, NodeStyle] = {
    NodeType.STRATEGY: NodeStyle("box", "#E69F00", "#000000", mermaid=("[", "]")),
    NodeType.DETERMINANT: NodeStyle("hexagon", "#F0E442", "#000000", mermaid=("{{", "}}")),
    NodeType.MECHANISM: NodeStyle("ellipse", "#56B4E9", "#000000", mermaid=("([", "])")),
    NodeType.PROXIMAL_OUTCOME: NodeStyle(
        "box", "#009E73", "#000000", style="filled,rounded", mermaid=("(", ")")
    ),
    NodeType.DISTAL_OUTCOME: NodeStyle(
        "box", "#0072B2", "#FFFFFF", style="filled,rounded", peripheries=2, mermaid=("[[", "]]")
    ),
    # A box with cut corners: Graphviz's parallelogram grows very wide around a wrapped label.
    NodeType.PRECONDITION: NodeStyle(
        "box", "#CC79A7", "#000000", style="filled,diagonals", mermaid=("[/", "/]")
    ),
    NodeType.MODERATOR: NodeStyle("octagon", "#D55E00", "#000000", mermaid=("{", "}")),
}

EDGE_STYLES: dict[EdgeType, EdgeStyle] = {
    EdgeType.TARGETS: EdgeStyle("solid", "empty", "#555555", 1.2, "--o"),
    EdgeType.ACTS_THROUGH: EdgeStyle("solid", "normal", "#000000", 1.2, "-->"),
    EdgeType.LEADS_TO: EdgeStyle("bold", "vee", "#000000", 1.6, "==>"),
    EdgeType.MODERATES: EdgeStyle("dashed", "normal", "#D55E00", 1.2, "-.->"),
    EdgeType.REQUIRES: EdgeStyle("dotted", "normal", "#CC79A7", 1.6, "-.->"),
}

LEVEL_LABELS: dict[Level, str] = {
    Level.SYSTEM: "System level",
    Level.ORGANIZATION: "Organization level",
    Level.TEAM: "Team level",
    Level.INDIVIDUAL: "Individual level",
}

#: Colour of highlighted nodes and edges when the caller gives none.
HIGHLIGHT = "#000000"


def wrap_label(text: str, width: int = 22) -> list[str]:
    """Break a label into lines of about `width` characters at spaces (long labels make wide columns)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines or [""]
