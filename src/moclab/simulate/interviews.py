"""Coded interviews generated from the truth of a simulated study (``qualitative: simulated``).

Each simulated interview tells the pathway in causal order, one short made-up sentence per node, each
sentence a selection coded with its node's code (one coder):

1. the strategy (every interview);
2. each mechanism with a true effect, with probability
   ``p = MAX_TOLD * (1 - exp(-effect / EFFECT_SCALE))``, where ``effect`` is the largest absolute effect the
   truth transmits through the mechanism from a strategy to an outcome (`Truth.mechanisms` ``through``);
   so a mechanism with a true effect is told before the outcomes in most interviews, more often the larger
   the effect;
3. each outcome with probability `OUTCOME_TOLD`, the first one as a consequence of what came before;
4. each null mechanism (no effect transmitted), with probability `NULL_MENTIONED`, only **after** the
   outcomes and as not having changed things, so the reading of `moclab.evidence.qualitative` (mechanism
   told before the outcome) never counts it.

The codebook has one code per told node, named by the node's label, with the node id and its catalog
references in the description, so `moclab.evidence.qualitative` matches codes to nodes automatically. The
sentences are generic templates; they stand in for real interviews only to exercise the plausibility
criterion with a known answer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from moclab.model import NodeType, PathwayModel

if TYPE_CHECKING:
    from moclab.qual import Project
    from moclab.simulate.truth import Truth

__all__ = ["mechanism_told_probability", "simulate_interviews"]

#: Highest probability that a mechanism with a true effect is told before the outcomes.
MAX_TOLD = 0.9
#: Effect (standardized, transmitted through the mechanism) at which the probability reaches 63% of MAX_TOLD.
EFFECT_SCALE = 0.05
#: Probability that an interview tells an outcome.
OUTCOME_TOLD = 0.9
#: Probability that an interview mentions a null mechanism (after the outcomes).
NULL_MENTIONED = 0.25
CODER = "Simulated coder"

_STRATEGY = (
    "We started receiving {x} early in the year, mostly at our monthly team meetings.",
    "{X} came to us through regular meetings and some coaching in between.",
    "For about a year we had {x}; someone came to most of our team meetings.",
)
_MECHANISM = (
    "Looking back, the first thing that shifted was {x}.",
    "What made the difference early on was {x}; it grew over the first months.",
    "I noticed {x} quite soon, and it changed how we approached the work.",
)
_CONSEQUENCE = (
    "Because of that, {x} followed for our team.",
    "That is what led to {x} for us.",
    "After that came {x}, which we had not expected.",
)
_OUTCOME = (
    "Over the year we also saw {x}.",
    "Later on there was {x} as well.",
    "By the end, {x} was something people talked about.",
)
_NULL = (
    "{X} was there from the start, but honestly it was not what changed things for us.",
    "People mentioned {x}, though I would not say it made a difference.",
)


def mechanism_told_probability(effect: float) -> float:
    """Probability that an interview tells a mechanism before the outcomes, given its true effect.

    ``MAX_TOLD * (1 - exp(-|effect| / EFFECT_SCALE))``: 0 for a null mechanism, rising with the effect.
    """
    return MAX_TOLD * (1.0 - math.exp(-abs(float(effect)) / EFFECT_SCALE))


def _transmitted(truth: Truth, mechanism: str) -> float:
    """The largest absolute effect the truth transmits through `mechanism` (any strategy, outcome, wave)."""
    entry = truth.mechanisms.get(mechanism, {})
    values = [
        abs(float(value))
        for outcomes in entry.get("through", {}).values()
        for waves in outcomes.values()
        for value in waves.values()
    ]
    return max(values, default=0.0)


def simulate_interviews(
    model: PathwayModel,
    truth: Truth,
    seed: int | np.random.SeedSequence | np.random.Generator,
    *,
    interviews: int = 12,
) -> Project:
    """A synthetic coded interview project whose narratives follow the truth of a simulated study.

    Parameters
    ----------
    model : PathwayModel
        The simulated model (its strategies, mechanisms and outcomes are told).
    truth : Truth
        The study's truth; the effect transmitted through each mechanism sets how often it is told first.
    seed : int, SeedSequence or Generator
        The same seed (and truth) gives the same project.
    interviews : int
        How many interviews (one case and one text source each).

    Returns
    -------
    moclab.qual.Project
        Codes, one coder, cases ``R01``... with one source each; see the module documentation for the rule.
    """
    from moclab.qual import Case, Code, Coding, Project, Selection, TextSource, User, stable_guid

    rng = np.random.default_rng(seed)
    ordered = [model.node(node_id) for node_id in _causal_order(model)]
    strategies = [n for n in ordered if n.type is NodeType.STRATEGY]
    mechanisms = [n for n in ordered if n.type is NodeType.MECHANISM]
    outcomes = [n for n in ordered if n.type.is_outcome]
    told = {n.id: mechanism_told_probability(_transmitted(truth, n.id)) for n in mechanisms}
    codes = {
        node.id: Code(
            guid=stable_guid("simulated-interviews", model.id, node.id),
            name=node.display_label,
            description="\n".join(
                [f"Model node: {node.id} ({node.type.words}).", *(f"Catalog: {ref}" for ref in node.all_refs)]
            ),
        )
        for node in (*strategies, *mechanisms, *outcomes)
    }
    coder = User(guid=stable_guid("simulated-interviews", "coder"), name=CODER)
    width = len(str(interviews))
    sources: list[TextSource] = []
    cases: list[Case] = []
    for number in range(1, interviews + 1):
        unit = f"R{number:0{max(width, 2)}d}"
        sentences: list[tuple[str, str]] = []  # (node, sentence)
        for node in strategies:
            sentences.append((node.id, _say(_STRATEGY, node.display_label, rng)))
        leading = [n for n in mechanisms if rng.random() < told[n.id]]
        sentences += [(n.id, _say(_MECHANISM, n.display_label, rng)) for n in leading]
        first = True
        for node in outcomes:
            if rng.random() < OUTCOME_TOLD:
                templates = _CONSEQUENCE if first and (leading or strategies) else _OUTCOME
                sentences.append((node.id, _say(templates, node.display_label, rng)))
                first = False
        for node in mechanisms:
            if told[node.id] == 0.0 and rng.random() < NULL_MENTIONED:
                sentences.append((node.id, _say(_NULL, node.display_label, rng)))
        text = f"Interview {unit} (simulated)\nI: Can you tell me how the support went for you?\n"
        selections = []
        for index, (node_id, sentence) in enumerate(sentences):
            start = len(text) + 3
            text += f"R: {sentence}\n"
            guid = stable_guid("simulated-interviews", unit, str(index))
            selections.append(
                Selection(
                    guid=guid,
                    start=start,
                    end=start + len(sentence),
                    creator=coder.guid,
                    codings=[
                        Coding(guid=stable_guid(guid, "coding"), code=codes[node_id].guid, creator=coder.guid)
                    ],
                )
            )
        source = TextSource(
            guid=stable_guid("simulated-interviews", unit, "source"), name=f"Interview {unit}", text=text
        )
        source.selections = selections
        sources.append(source)
        cases.append(
            Case(guid=stable_guid("simulated-interviews", unit, "case"), name=unit, sources=[source.guid])
        )
    return Project(
        name="Simulated interviews",
        origin="moclab simulate",
        description=(
            f"SYNTHETIC: {interviews} interviews generated by moclab from the truth of a simulated study of "
            f"'{model.id}'; no real person is described."
        ),
        users=[coder],
        codes=list(codes.values()),
        sources=sources,
        cases=cases,
    )


def _say(templates: tuple[str, ...], label: str, rng: np.random.Generator) -> str:
    template = templates[int(rng.integers(len(templates)))]
    phrase = label[:1].lower() + label[1:]
    return template.format(x=phrase, X=label[:1].upper() + label[1:])


def _causal_order(model: PathwayModel) -> list[str]:
    """The nodes in causal order (topological, ties in file order); file order for a cycle."""
    import networkx as nx

    index = {node_id: i for i, node_id in enumerate(model.node_ids)}
    graph = model.with_inferred_edge_types().graph(causal_only=True)
    graph.add_nodes_from(model.node_ids)
    try:
        return list(nx.lexicographical_topological_sort(graph, key=index.__getitem__))
    except nx.NetworkXUnfeasible:
        return list(model.node_ids)
