"""Where each node goes from left to right: a column by role, pushed right by its causes.

Diagrams read left to right in causal order: strategies, then determinants, mechanisms, proximal and distal
outcomes. Roles absent from a model take no column. A node also sits at least one column to the right of each
of its causes, so a chain of mechanisms (trust → learning) or outcomes (adoption → fidelity) spreads out
instead of stacking. Preconditions and moderators are not on the causal path; they are placed one column
before what they qualify (a moderator of an edge: in the column of the edge's source), so their dashed and
dotted lines stay short.
"""

from __future__ import annotations

import networkx as nx

from moclab.model.pathway_model import PathwayModel
from moclab.model.pathways import causal_graph
from moclab.model.vocabulary import ROLE_ORDER, EdgeType, NodeType


def columns(model: PathwayModel) -> dict[str, int]:
    """Column index (0 = leftmost) of every node of the model."""
    model = model.with_inferred_edge_types()
    types = {node.id: node.type for node in model.nodes}
    path_roles = sorted({ROLE_ORDER[t] for t in types.values() if not t.is_modifier} | {0})
    base = {role: position for position, role in enumerate(path_roles)}
    graph = causal_graph(model)
    column: dict[str, int] = {}
    # A cyclic model is invalid and reported elsewhere; draw it with role columns only so the user can see it.
    order = list(nx.topological_sort(graph)) if nx.is_directed_acyclic_graph(graph) else list(graph.nodes)
    acyclic = nx.is_directed_acyclic_graph(graph)
    for node_id in order:
        node_type = types[node_id]
        if node_type.is_modifier:
            continue
        after_causes = [column[p] + 1 for p in graph.predecessors(node_id) if p in column] if acyclic else []
        column[node_id] = max([base[ROLE_ORDER[node_type]], *after_causes])
    for node in model.nodes:
        if node.type.is_modifier:
            column[node.id] = _modifier_column(model, node.id, column)
    return column


def _modifier_column(model: PathwayModel, node_id: str, column: dict[str, int]) -> int:
    places = []
    for edge in model.edges:
        if edge.source != node_id or edge.type not in (EdgeType.MODERATES, EdgeType.REQUIRES):
            continue
        pair = edge.target_edge
        if pair and pair[0] in column:
            places.append(column[pair[0]])
        elif edge.target in column:
            places.append(column[edge.target] - 1)
    return max(0, min(places)) if places else 0


def rows(model: PathwayModel, column: dict[str, int]) -> dict[str, int]:
    """Row of every node within its column, in file order (for formats with coordinates, like DAGitty)."""
    seen: dict[int, int] = {}
    row = {}
    for node in model.nodes:
        col = column[node.id]
        row[node.id] = seen.get(col, 0)
        seen[col] = row[node.id] + 1
    return row


#: Types in the left-to-right order used by legends.
LEGEND_ORDER = [
    NodeType.STRATEGY,
    NodeType.DETERMINANT,
    NodeType.MECHANISM,
    NodeType.PROXIMAL_OUTCOME,
    NodeType.DISTAL_OUTCOME,
    NodeType.PRECONDITION,
    NodeType.MODERATOR,
]
