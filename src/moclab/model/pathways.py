"""Pathways of a model: the declared ones spelt out, or all of them derived from the graph.

A pathway is a chain strategy → (determinant →) mechanism (→ mechanism …) → outcome (→ outcome …) joined by
causal edges. When a model file declares no pathways, moclab derives every simple path from a strategy to a
*final* outcome (an outcome with no causal edge leaving it) that passes through at least one mechanism.
Ending at final outcomes keeps one pathway per route instead of one per prefix of it (strategy → trust →
acceptability is part of strategy → trust → acceptability → sustained capacity). Derived pathways get the
other mechanisms through which the same strategy reaches the same final outcome as their alternatives, which
is what a specificity check needs.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

import networkx as nx

from moclab.model.pathway_model import ResolvedPathway
from moclab.model.vocabulary import NodeType

if TYPE_CHECKING:
    from moclab.model.pathway_model import PathwayModel

#: More derived pathways than this means the model should declare the ones that matter.
DERIVED_LIMIT = 500


def causal_graph(model: PathwayModel) -> nx.DiGraph:
    """Known nodes and the causal edges between them (edges with unknown ends or no type are left out)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(model.node_ids)
    for edge in model.causal_edges():
        if graph.has_node(edge.source) and graph.has_node(edge.target):
            graph.add_edge(edge.source, edge.target)
    return graph


def derive_pathways(model: PathwayModel, limit: int = DERIVED_LIMIT) -> tuple[list[tuple[str, ...]], bool]:
    """Every simple strategy → … → final outcome path through at least one mechanism.

    Parameters
    ----------
    model : PathwayModel
        Edge types should be known (see `PathwayModel.with_inferred_edge_types`).
    limit : int
        Stop after this many paths.

    Returns
    -------
    paths : list of tuple of str
        Node-id sequences, ordered by strategy, then final outcome, then the file order of edges.
    truncated : bool
        True when the limit was reached.
    """
    graph = causal_graph(model)
    types = {node.id: node.type for node in model.nodes}
    finals = [n.id for n in model.nodes if n.type.is_outcome and graph.out_degree(n.id) == 0]
    paths: list[tuple[str, ...]] = []
    for strategy in (n.id for n in model.nodes_of(NodeType.STRATEGY)):
        for final in finals:
            for path in nx.all_simple_paths(graph, strategy, final):
                if any(types[step] is NodeType.MECHANISM for step in path):
                    paths.append(tuple(path))
                    if len(paths) >= limit:
                        return paths, True
    return paths, False


def _derived_id(nodes: tuple[str, ...], types: dict[str, NodeType], taken: set[str]) -> str:
    """An id naming the strategy, its mechanisms and the first outcome, e.g.
    ``isp_support__trust__acceptability``."""
    mechanisms = [n for n in nodes if types[n] is NodeType.MECHANISM]
    first_outcome = next(n for n in nodes if types[n].is_outcome)
    base = "__".join([nodes[0], *mechanisms, first_outcome])
    candidate, counter = base, 2
    while candidate in taken:
        candidate, counter = f"{base}_{counter}", counter + 1
    taken.add(candidate)
    return candidate


def _resolve(
    model: PathwayModel,
    pathway_id: str,
    nodes: tuple[str, ...],
    declared: bool,
    alternatives: tuple[str, ...],
    label: str | None,
) -> ResolvedPathway:
    types = {node.id: node.type for node in model.nodes}

    def role(*wanted: NodeType) -> tuple[str, ...]:
        return tuple(n for n in nodes if types.get(n) in wanted)

    moderators: list[str] = []
    for source, target in pairwise(nodes):
        moderators += model.moderators_of(source, target)
    moderators += model.moderators_of_node(nodes[0])
    preconditions = [p for n in nodes for p in model.preconditions_of(n)]
    return ResolvedPathway(
        id=pathway_id,
        nodes=nodes,
        declared=declared,
        strategy=nodes[0],
        determinants=role(NodeType.DETERMINANT),
        mechanisms=role(NodeType.MECHANISM),
        outcomes=role(NodeType.PROXIMAL_OUTCOME, NodeType.DISTAL_OUTCOME),
        alternatives=alternatives,
        moderators=tuple(dict.fromkeys(moderators)),
        preconditions=tuple(dict.fromkeys(preconditions)),
        label=label,
    )


def resolve_pathways(model: PathwayModel) -> list[ResolvedPathway]:
    """Declared pathways with their roles, or the derived ones when the model declares none."""
    model = model.with_inferred_edge_types()
    if model.pathways:
        return [
            _resolve(model, p.id, p.nodes, True, p.alternatives, p.label or p.description)
            for p in model.pathways
        ]
    types = {node.id: node.type for node in model.nodes}
    paths, _ = derive_pathways(model)
    resolved = []
    taken: set[str] = set()
    for path in paths:
        own = {n for n in path if types[n] is NodeType.MECHANISM}
        rivals = [
            n
            for other in paths
            if other[0] == path[0] and other[-1] == path[-1]
            for n in other
            if types[n] is NodeType.MECHANISM and n not in own
        ]
        resolved.append(
            _resolve(model, _derived_id(path, types, taken), path, False, tuple(dict.fromkeys(rivals)), None)
        )
    return resolved
