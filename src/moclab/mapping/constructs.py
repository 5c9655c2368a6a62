"""Which nodes of different studies' records stand for the same construct.

Teams name their nodes differently (``trust``, ``trust_in_isps``) but may point them at the same catalog
entry (``recipient-pathway:trust``). Within each role (strategy, mechanism, outcome) two nodes are the same
construct when they share a catalog reference or have the same id (compared without case); the relation is
closed transitively, as the connected components of the graph that joins every node to its references and
its id (networkx). A construct is named by its most widely shared catalog reference (``ref:...``), or by its
id when no node of it has one (``id:...``), and labelled by its most frequent label.

A node that lists several catalog entries joins every construct that shares one of them: list as a node's
references only the entries that say what the node *is* (its ERIC strategy, its CFIR construct, its Proctor
outcome), not everything it touches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from moclab.evidence.records import EvidenceRecord

__all__ = ["ROLES", "Construct", "construct_keys"]

#: The roles whose nodes are merged across records: the strategy, each mechanism, the outcome.
ROLES = ("strategy", "mechanism", "outcome")


@dataclass(frozen=True)
class Construct:
    """One construct of the map: the nodes of every record that stand for it.

    Attributes
    ----------
    key : str
        ``ref:FRAMEWORK:ENTRY`` (its most widely shared catalog reference) or ``id:NODE-ID``.
    role : str
        strategy, mechanism or outcome.
    label : str
        The most frequent label of its nodes (their id when they have none).
    refs : tuple of str
        Every catalog reference of its nodes.
    ids : tuple of str
        Every node id merged into it.
    levels : tuple of str
        The levels its nodes are placed at.
    """

    key: str
    role: str
    label: str
    refs: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "role": self.role,
            "label": self.label,
            "refs": list(self.refs),
            "ids": list(self.ids),
            "levels": list(self.levels),
        }


def _role_nodes(record: EvidenceRecord, role: str) -> list[Mapping[str, Any]]:
    if role == "strategy":
        return [record.strategy]
    if role == "outcome":
        return [record.outcome]
    return record.mechanisms


def _merge(
    nodes: Sequence[tuple[tuple[int, int], Mapping[str, Any]]], role: str
) -> dict[tuple[int, int], Construct]:
    graph = nx.Graph()
    for place, node in nodes:
        graph.add_node(("node", place))
        graph.add_edge(("node", place), ("id", str(node["id"]).casefold()))
        for ref in node.get("refs") or ():
            graph.add_edge(("node", place), ("ref", ref))
    found: dict[tuple[int, int], Construct] = {}
    by_place = dict(nodes)
    for component in nx.connected_components(graph):
        places = sorted(item[1] for item in component if item[0] == "node")
        members = [by_place[place] for place in places]
        ref_counts = Counter(ref for node in members for ref in dict.fromkeys(node.get("refs") or ()))
        if ref_counts:
            top = max(ref_counts.values())
            key = "ref:" + min(ref for ref, count in ref_counts.items() if count == top)
        else:
            key = "id:" + min(str(node["id"]).casefold() for node in members)
        labels = Counter(str(node.get("label") or node["id"]) for node in members)
        top_label = max(labels.values())
        label = next(text for text in labels if labels[text] == top_label)
        construct = Construct(
            key=key,
            role=role,
            label=label,
            refs=tuple(sorted(ref_counts)),
            ids=tuple(sorted({str(node["id"]) for node in members})),
            levels=tuple(sorted({str(node["level"]) for node in members if node.get("level")})),
        )
        found.update(dict.fromkeys(places, construct))
    return found


def construct_keys(records: Iterable[EvidenceRecord]) -> list[dict[str, list[Construct]]]:
    """The constructs of every record's strategy, mechanisms and outcome, merged across the records.

    Returns
    -------
    list of dict
        Per record, in order: ``{"strategy": [Construct], "mechanism": [Construct, ...], "outcome":
        [Construct]}`` (the mechanisms in the record's causal order).

    Examples
    --------
    Two teams name trust differently but point it at the same catalog entry:

    >>> from moclab.evidence.records import record_from_data
    >>> def record(study, mechanism):
    ...     return record_from_data({
    ...         "kind": "moclab-evidence-record", "format": 1,
    ...         "study": {"id": study, "title": study, "synthetic": True, "illustrative": True},
    ...         "pathway": {"strategy": {"id": "coaching"}, "mechanisms": [mechanism],
    ...                     "outcome": {"id": "adoption"}},
    ...         "criteria": {"timeline": {"status": "met"}}, "provenance": {"source": "hand-entered"}})
    >>> ours = record("a", {"id": "trust", "refs": ["recipient-pathway:trust"]})
    >>> theirs = record("b", {"id": "trust_in_isps", "label": "Trust in ISPs",
    ...                       "refs": ["recipient-pathway:trust"]})
    >>> keys = construct_keys([ours, theirs])
    >>> keys[0]["mechanism"][0] == keys[1]["mechanism"][0]
    True
    >>> keys[1]["mechanism"][0].key, keys[1]["mechanism"][0].ids
    ('ref:recipient-pathway:trust', ('trust', 'trust_in_isps'))
    """
    records = list(records)
    merged: dict[str, dict[tuple[int, int], Construct]] = {}
    for role in ROLES:
        nodes = [
            ((index, position), node)
            for index, record in enumerate(records)
            for position, node in enumerate(_role_nodes(record, role))
        ]
        merged[role] = _merge(nodes, role)
    return [
        {
            role: [merged[role][(index, position)] for position in range(len(_role_nodes(record, role)))]
            for role in ROLES
        }
        for index, record in enumerate(records)
    ]
