"""The pathway model itself: nodes, edges and pathways as frozen pydantic records.

A `PathwayModel` is what a model YAML file describes (see docs/pathway-models.md). Constructing one checks the
shape of each record (identifiers, known types and levels); the checks that need the whole graph (unknown node
ids, edge types that do not fit the node types, cycles, pathways without a mechanism, catalog references)
live in `moclab.model.validation`, so that they can all be reported together with their YAML lines. Build
models with `load_model` or `model_from_dict` to get both.

A model read from YAML keeps its source name and the loaded data privately, so later checks can still name the
line of any node, edge or pathway (`PathwayModel.where`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import networkx as nx
import pydantic
from pydantic_core import PydanticCustomError

from moclab.errors import ModelError, did_you_mean
from moclab.model.vocabulary import (
    EdgeType,
    Level,
    NodeType,
    UnknownWordError,
    edge_types_for,
    normalise_edge_type,
    normalise_level,
    normalise_node_type,
)
from moclab.yamlio import locate

#: Node and pathway ids become column names in data and variable names in lavaan and R, so they must be valid
#: names in all three: a letter, then letters, digits or underscores (R rejects a leading underscore).
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: A model id is a file-name-like slug ("coaching-trust"); hyphens are allowed because it never becomes a
#: variable.
MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_EDGE_REF = re.compile(r"^\s*([^\s\->]+)\s*->\s*([^\s\->]+)\s*$")


def _identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value):
        raise PydanticCustomError(
            "identifier",
            "'{value}' is not a valid {what} id: start with a letter and use only letters, digits and "
            "underscores (it becomes a variable name in data, lavaan and R)",
            {"value": value, "what": what},
        )
    return value


def _vocabulary(value: Any, normalise: Any) -> Any:
    """Run a vocabulary normaliser in a pydantic validator; its error becomes a readable pydantic error."""
    if not isinstance(value, str):
        return value  # pydantic reports the wrong type itself
    try:
        return normalise(value)
    except UnknownWordError as exc:
        raise PydanticCustomError("vocabulary", str(exc)) from None


class _Record(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, str_strip_whitespace=True
    )


class Node(_Record):
    """One element of the pathway: a strategy, determinant, mechanism, outcome, precondition or moderator.

    Attributes
    ----------
    id : str
        Identifier, used as the variable name in data, lavaan and DAGitty.
    type : NodeType
        Role in the pathway; human spellings ("proximal outcome") are accepted.
    label : str or None
        Text shown in diagrams; defaults to the id with spaces.
    level : Level or None
        Individual, team, organization or system.
    ref, refs : str, tuple of str
        Catalog references (``"eric:facilitation"``); use `all_refs` to read both.
    description : str or None
        What the node means in this model.
    """

    id: str
    type: NodeType
    label: str | None = None
    level: Level | None = None
    ref: str | None = None
    refs: tuple[str, ...] = ()
    description: str | None = None

    @pydantic.field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        return _identifier(value, "node")

    @pydantic.field_validator("type", mode="before")
    @classmethod
    def _normalise_type(cls, value: Any) -> Any:
        return _vocabulary(value, normalise_node_type)

    @pydantic.field_validator("level", mode="before")
    @classmethod
    def _normalise_level(cls, value: Any) -> Any:
        return _vocabulary(value, normalise_level)

    @property
    def display_label(self) -> str:
        """The label, or the id made readable ("psych_safety" -> "psych safety")."""
        return self.label or self.id.replace("_", " ")

    @property
    def all_refs(self) -> tuple[str, ...]:
        """`ref` and `refs` together, in order, without repeats."""
        combined = ((self.ref,) if self.ref else ()) + self.refs
        return tuple(dict.fromkeys(combined))


class Edge(_Record):
    """A typed link between two nodes, or from a moderator to another edge.

    In YAML the ends are written ``from`` and ``to``; in Python they are `source` and `target`. A moderator
    may point at an edge by writing ``to: "coaching->trust"``. When `type` is left out it is inferred from the
    node types, which is always possible because `EDGE_RULES` allows at most one edge type per pair of node
    types.
    """

    source: str = pydantic.Field(alias="from")
    target: str = pydantic.Field(alias="to")
    type: EdgeType | None = None
    label: str | None = None
    description: str | None = None

    @pydantic.field_validator("type", mode="before")
    @classmethod
    def _normalise_type(cls, value: Any) -> Any:
        return _vocabulary(value, normalise_edge_type)

    @property
    def target_edge(self) -> tuple[str, str] | None:
        """The (from, to) pair when the edge points at another edge (``to: "a->b"``), else None."""
        match = _EDGE_REF.match(self.target)
        return (match.group(1), match.group(2)) if match else None

    @property
    def is_causal(self) -> bool:
        return self.type is not None and self.type.is_causal

    @property
    def key(self) -> tuple[str, str]:
        """(source, target) with the target normalised to ``a->b`` when it is an edge."""
        pair = self.target_edge
        return (self.source, f"{pair[0]}->{pair[1]}" if pair else self.target)

    def __str__(self) -> str:
        kind = self.type.words if self.type else "edge"
        return f"{self.source} -[{kind}]-> {self.target}"


class Pathway(_Record):
    """A named pathway: a sequence of nodes joined by causal edges, strategy first and an outcome last.

    `alternatives` names competing mechanisms that could explain the same change (used to examine
    specificity).
    """

    id: str
    nodes: tuple[str, ...] = pydantic.Field(min_length=2)
    alternatives: tuple[str, ...] = ()
    label: str | None = None
    description: str | None = None

    @pydantic.field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        return _identifier(value, "pathway")


@dataclass(frozen=True)
class ResolvedPathway:
    """A pathway with its roles spelt out, whether declared in the file or derived from the graph.

    Attributes
    ----------
    id : str
        Pathway id (declared, or built from the node ids for derived pathways).
    nodes : tuple of str
        The node ids in causal order.
    declared : bool
        True when the pathway was written in the model file.
    strategy : str
        The first node.
    determinants, mechanisms, outcomes : tuple of str
        Nodes of each role on the pathway, in order.
    alternatives : tuple of str
        Competing mechanisms (declared, or for derived pathways the other mechanisms through which the same
        strategy reaches the same final outcome).
    moderators : tuple of str
        Moderators of any node or edge on the pathway.
    preconditions : tuple of str
        Preconditions required by any node on the pathway.
    label : str or None
        Declared label, if any.
    """

    id: str
    nodes: tuple[str, ...]
    declared: bool
    strategy: str
    determinants: tuple[str, ...]
    mechanisms: tuple[str, ...]
    outcomes: tuple[str, ...]
    alternatives: tuple[str, ...] = ()
    moderators: tuple[str, ...] = ()
    preconditions: tuple[str, ...] = ()
    label: str | None = None

    @property
    def outcome(self) -> str:
        """The final outcome of the pathway."""
        return self.nodes[-1]

    def edges(self) -> list[tuple[str, str]]:
        """Consecutive (from, to) pairs along the pathway."""
        return list(pairwise(self.nodes))

    def __str__(self) -> str:
        return " → ".join(self.nodes)


class PathwayModel(_Record):
    """A causal pathway model: typed nodes at levels, typed edges, and (optionally) named pathways.

    Attributes
    ----------
    id : str
        Model id, written ``model:`` in YAML.
    title, citation, description : str or None
        Metadata; templates always carry a citation.
    nodes, edges, pathways : tuple
        The records, in file order.

    Examples
    --------
    >>> from moclab.model import model_from_dict
    >>> model = model_from_dict({
    ...     "model": "tiny",
    ...     "nodes": [
    ...         {"id": "training", "type": "strategy"},
    ...         {"id": "knowledge", "type": "mechanism"},
    ...         {"id": "adoption", "type": "proximal outcome"},
    ...     ],
    ...     "edges": [{"from": "training", "to": "knowledge"}, {"from": "knowledge", "to": "adoption"}],
    ... }, catalog=None)
    >>> [str(p) for p in model.pathways_resolved()]
    ['training → knowledge → adoption']
    """

    id: str = pydantic.Field(alias="model")
    title: str | None = None
    citation: str | None = None
    description: str | None = None
    nodes: tuple[Node, ...] = pydantic.Field(min_length=1)
    edges: tuple[Edge, ...] = ()
    pathways: tuple[Pathway, ...] = ()

    _source: str | None = pydantic.PrivateAttr(default=None)
    _data: Any = pydantic.PrivateAttr(default=None)
    # When records that failed validation were left out, the position in the file of each kept record.
    _file_index: dict[str, tuple[int, ...]] = pydantic.PrivateAttr(default_factory=dict)

    @pydantic.field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not MODEL_ID.match(value):
            raise PydanticCustomError(
                "model_id",
                "'{value}' is not a valid model id: use letters, digits, '-', '_' or '.', no spaces",
                {"value": value},
            )
        return value

    # -- where things were written -------------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        """The file (or other source name) the model was read from, if any."""
        return self._source

    def where(self, *loc: str | int) -> dict[str, Any]:
        """Location keywords for a `Problem` about the element at key path `loc` (``"edges", 3, "to"``)."""
        found: dict[str, Any] = {"file": self._source}
        path = list(loc)
        if len(path) >= 2 and isinstance(path[1], int) and path[0] in self._file_index:
            path[1] = self._file_index[str(path[0])][path[1]]
        position = locate(self._data, path) if self._data is not None else None
        if position:
            found["line"], found["column"] = position
        return found

    def located(
        self, source: str | None, data: Any, file_index: dict[str, tuple[int, ...]] | None = None
    ) -> PathwayModel:
        """This model, remembering that it was read from `source` with the loaded YAML `data` (positions).

        Called once by the loader; the public fields stay frozen, only the private source record is set.
        `file_index` maps a record's position in `nodes`/`edges`/`pathways` to its position in the file when
        records that failed validation were left out.
        """
        self._source = source
        self._data = data
        self._file_index = dict(file_index or {})
        return self

    # -- lookups ---------------------------------------------------------------------------------------------

    @property
    def title_or_id(self) -> str:
        return self.title or self.id

    @property
    def node_ids(self) -> list[str]:
        return [node.id for node in self.nodes]

    def node(self, node_id: str) -> Node:
        """The node with id `node_id`; a ModelError with the closest ids when there is none."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise ModelError(
            f"model '{self.id}' has no node '{node_id}'", hint=did_you_mean(node_id, self.node_ids)
        )

    def has_node(self, node_id: str) -> bool:
        return any(node.id == node_id for node in self.nodes)

    def nodes_of(self, *types: NodeType) -> list[Node]:
        """Nodes of the given types, in file order."""
        return [node for node in self.nodes if node.type in types]

    def edges_of(self, *types: EdgeType) -> list[Edge]:
        return [edge for edge in self.edges if edge.type in types]

    def causal_edges(self) -> list[Edge]:
        """Edges that carry the effect along a pathway: targets, acts through, leads to."""
        return [edge for edge in self.edges if edge.is_causal]

    def moderators_of_node(self, node_id: str) -> list[str]:
        """Moderators pointing at the node itself (they moderate every causal edge into it)."""
        return [
            e.source
            for e in self.edges_of(EdgeType.MODERATES)
            if e.target_edge is None and e.target == node_id
        ]

    def moderators_of(self, source: str, target: str) -> list[str]:
        """Moderators of the edge `source -> target`: those at the edge, then those at its target node."""
        on_edge = [e.source for e in self.edges_of(EdgeType.MODERATES) if e.target_edge == (source, target)]
        return list(dict.fromkeys(on_edge + self.moderators_of_node(target)))

    def preconditions_of(self, node_id: str) -> list[str]:
        return [edge.source for edge in self.edges_of(EdgeType.REQUIRES) if edge.target == node_id]

    # -- derived views ---------------------------------------------------------------------------------------

    def with_inferred_edge_types(self) -> PathwayModel:
        """A copy in which every edge without a type gets the one type its node types allow.

        Edges whose ends are unknown, or whose node types no edge type fits, keep ``type=None``;
        `validate_model` reports them.
        """
        types = {node.id: node.type for node in self.nodes}
        changed = False
        edges = []
        for edge in self.edges:
            if edge.type is None:
                target_type = "edge" if edge.target_edge else types.get(edge.target)
                options = edge_types_for(types[edge.source], target_type) if edge.source in types else []
                if target_type is not None and len(options) == 1:
                    edge = edge.model_copy(update={"type": options[0]})
                    changed = True
            edges.append(edge)
        if not changed:
            return self
        copy = self.model_copy(update={"edges": tuple(edges)})
        return copy.located(self._source, self._data, self._file_index)

    def graph(self, causal_only: bool = False) -> nx.DiGraph:
        """The model as a networkx DiGraph.

        Nodes carry ``type``, ``level`` and ``label``; edges carry ``type``. Causal and `requires` edges
        become graph edges, as do `moderates` edges that point at a node; a moderator of an edge is recorded
        in that edge's ``moderators`` attribute instead (a graph edge cannot point at another edge).

        Parameters
        ----------
        causal_only : bool
            Keep only the causal edges (targets, acts through, leads to). Every node is kept either way, so
            isolated nodes stay visible.
        """
        graph = nx.DiGraph(model=self.id)
        for node in self.nodes:
            graph.add_node(node.id, type=node.type, level=node.level, label=node.display_label)
        for edge in self.edges:
            if edge.type is None or (causal_only and not edge.is_causal):
                continue
            if edge.target_edge is None:
                graph.add_edge(edge.source, edge.target, type=edge.type, moderators=[])
        for edge in self.edges_of(EdgeType.MODERATES):
            pair = edge.target_edge
            if pair and graph.has_edge(*pair):
                graph.edges[pair]["moderators"].append(edge.source)
        return graph

    def pathways_resolved(self) -> list[ResolvedPathway]:
        """The declared pathways, or if none, every strategy → … → outcome path through a mechanism.

        See `moclab.model.pathways.derive_pathways` for how pathways are derived.
        """
        from moclab.model.pathways import resolve_pathways  # the algorithms live with their documentation

        return resolve_pathways(self)
