"""The words of a pathway model: node types, edge types, levels, and which edge may join which nodes.

The vocabulary follows Lewis et al. 2018 (Front Public Health 6:136) and the causal pathway diagrams of
Klasnja et al. 2024: a *strategy* targets a *determinant* and acts through a *mechanism*, which leads to
*proximal* and then *distal outcomes*; *preconditions* must hold for a mechanism to be activated and
*moderators* change the strength of a link. Users may write the human spelling of a type ("proximal
outcome", "acts through"); `normalise_*` turns it into the canonical value and suggests the closest one when
it is not a known word.

`EDGE_RULES` is the one table of which edge type may join which node types. Validation, edge-type inference,
the documentation and the error hints all read it, so the rule is written once.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

from moclab.errors import close_matches, suggestion_hint

E = TypeVar("E", bound=StrEnum)


class NodeType(StrEnum):
    """What a node is in the causal pathway."""

    STRATEGY = "strategy"
    DETERMINANT = "determinant"
    MECHANISM = "mechanism"
    PROXIMAL_OUTCOME = "proximal_outcome"
    DISTAL_OUTCOME = "distal_outcome"
    PRECONDITION = "precondition"
    MODERATOR = "moderator"

    @property
    def words(self) -> str:
        """The type as a reader would say it ("proximal outcome")."""
        return self.value.replace("_", " ")

    @property
    def is_outcome(self) -> bool:
        return self in OUTCOME_TYPES

    @property
    def is_modifier(self) -> bool:
        """Preconditions and moderators qualify links instead of lying on the causal path."""
        return self in (NodeType.PRECONDITION, NodeType.MODERATOR)


class EdgeType(StrEnum):
    """How two nodes are related."""

    TARGETS = "targets"
    ACTS_THROUGH = "acts_through"
    LEADS_TO = "leads_to"
    MODERATES = "moderates"
    REQUIRES = "requires"

    @property
    def words(self) -> str:
        return self.value.replace("_", " ")

    @property
    def is_causal(self) -> bool:
        """Causal edges carry the effect along a pathway; they must form a directed acyclic graph."""
        return self in CAUSAL_EDGE_TYPES


class Level(StrEnum):
    """The level of the system a node lives at (multilevel implementation models)."""

    INDIVIDUAL = "individual"
    TEAM = "team"
    ORGANIZATION = "organization"
    SYSTEM = "system"


OUTCOME_TYPES = frozenset({NodeType.PROXIMAL_OUTCOME, NodeType.DISTAL_OUTCOME})
CAUSAL_EDGE_TYPES = frozenset({EdgeType.TARGETS, EdgeType.ACTS_THROUGH, EdgeType.LEADS_TO})

#: Marker for "the target of a moderates edge is another edge", used in `EDGE_RULES`.
EDGE_TARGET = "edge"

_S, _D, _M = NodeType.STRATEGY, NodeType.DETERMINANT, NodeType.MECHANISM
_P, _O = NodeType.PROXIMAL_OUTCOME, NodeType.DISTAL_OUTCOME

#: Which (source type, target type) pairs each edge type may join. A determinant may lead directly to an
#: outcome (barriers act on outcomes whatever the strategy does); a strategy may not, because a link that
#: skips the mechanism is exactly what a pathway model exists to open up.
EDGE_RULES: dict[EdgeType, frozenset[tuple[NodeType, NodeType | str]]] = {
    EdgeType.TARGETS: frozenset({(_S, _D)}),
    EdgeType.ACTS_THROUGH: frozenset({(_S, _M), (_D, _M)}),
    EdgeType.LEADS_TO: frozenset(
        {(_M, _M), (_M, _P), (_M, _O), (_P, _P), (_P, _O), (_O, _O), (_D, _P), (_D, _O)}
    ),
    EdgeType.MODERATES: frozenset(
        {(NodeType.MODERATOR, target) for target in (_S, _D, _M, _P, _O)}
        | {(NodeType.MODERATOR, EDGE_TARGET)}
    ),
    EdgeType.REQUIRES: frozenset({(NodeType.PRECONDITION, _M), (NodeType.PRECONDITION, _S)}),
}


def edge_types_for(source: NodeType, target: NodeType | str) -> list[EdgeType]:
    """The edge types allowed from a node of type `source` to a node of type `target` (or to an edge)."""
    return [edge_type for edge_type, pairs in EDGE_RULES.items() if (source, target) in pairs]


def targets_allowed(edge_type: EdgeType, source: NodeType) -> list[str]:
    """What an edge of `edge_type` may point at from a `source` node, in words, for error hints."""
    found = [target for (src, target) in EDGE_RULES[edge_type] if src == source]
    order = [*NodeType, EDGE_TARGET]
    return [t.words if isinstance(t, NodeType) else "an edge" for t in sorted(found, key=order.index)]


def rules_table() -> list[tuple[str, str, str]]:
    """`EDGE_RULES` as rows (edge type, from, to) in words, for documentation and `moclab model` help."""
    order = [*NodeType, EDGE_TARGET]
    rows = []
    for edge_type, pairs in EDGE_RULES.items():
        for source, target in sorted(pairs, key=lambda p: (order.index(p[0]), order.index(p[1]))):
            target_words = target.words if isinstance(target, NodeType) else "an edge (`from->to`)"
            rows.append((edge_type.words, source.words, target_words))
    return rows


# Other ways people write the same thing. Kept small and unambiguous: "outcome" alone is not an alias,
# because it could be proximal or distal and the difference matters for every pathway.
_NODE_ALIASES = {
    "implementation_strategy": NodeType.STRATEGY,
    "barrier": NodeType.DETERMINANT,
    "facilitator": NodeType.DETERMINANT,
    "proximal": NodeType.PROXIMAL_OUTCOME,
    "distal": NodeType.DISTAL_OUTCOME,
    "effect_modifier": NodeType.MODERATOR,
}
_EDGE_ALIASES = {"target": EdgeType.TARGETS, "acts_via": EdgeType.ACTS_THROUGH, "lead_to": EdgeType.LEADS_TO}
_LEVEL_ALIASES = {
    "individuals": Level.INDIVIDUAL,
    "teams": Level.TEAM,
    "organisation": Level.ORGANIZATION,
    "organizational": Level.ORGANIZATION,
    "organisational": Level.ORGANIZATION,
    "organizations": Level.ORGANIZATION,
    "organisations": Level.ORGANIZATION,
    "systems": Level.SYSTEM,
}


def canonical_word(text: str) -> str:
    """Lower case, words joined by underscores: "Proximal Outcome" -> "proximal_outcome"."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


class UnknownWordError(ValueError):
    """A type or level that is not in the vocabulary; `suggestion` is the closest known word, if any."""

    def __init__(self, kind: str, given: str, allowed: list[str], suggestion: str | None) -> None:
        self.kind = kind
        self.given = given
        self.allowed = allowed
        self.suggestion = suggestion
        text = f"unknown {kind} '{given}'"
        text += f"; {suggestion_hint([suggestion])}" if suggestion else f"; use one of: {', '.join(allowed)}"
        super().__init__(text)


def _normalise(kind: str, value: str, enum: type[E], aliases: dict[str, E]) -> E:
    word = canonical_word(value)
    if word in enum._value2member_map_:
        return enum(word)
    if word in aliases:
        return aliases[word]
    allowed = [member.value for member in enum]
    close = close_matches(word, allowed + list(aliases), limit=1)
    suggestion = None
    if close:
        hit = close[0]
        suggestion = hit if hit in allowed else aliases[hit].value
    raise UnknownWordError(kind, value, allowed, suggestion)


def normalise_node_type(value: str) -> NodeType:
    """Canonical node type for a human spelling; raises `UnknownWordError` with a suggestion."""
    return _normalise("node type", value, NodeType, _NODE_ALIASES)


def normalise_edge_type(value: str) -> EdgeType:
    """Canonical edge type for a human spelling; raises `UnknownWordError` with a suggestion."""
    return _normalise("edge type", value, EdgeType, _EDGE_ALIASES)


def normalise_level(value: str) -> Level:
    """Canonical level for a spelling such as "organisational"; `UnknownWordError` with a suggestion."""
    return _normalise("level", value, Level, _LEVEL_ALIASES)


#: Left-to-right order of roles in a diagram (lower comes first); modifiers are placed next to what they
#: modify.
ROLE_ORDER: dict[NodeType, int] = {
    NodeType.PRECONDITION: 0,
    NodeType.MODERATOR: 0,
    NodeType.STRATEGY: 0,
    NodeType.DETERMINANT: 1,
    NodeType.MECHANISM: 2,
    NodeType.PROXIMAL_OUTCOME: 3,
    NodeType.DISTAL_OUTCOME: 4,
}
