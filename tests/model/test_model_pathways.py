"""Pathways: declared ones checked and spelt out, derived ones found from the graph; the networkx view."""

from __future__ import annotations

import pytest
from model_helpers import VALID, line_of, only_error, problems_of

from moclab.errors import ModelError
from moclab.model import (
    EdgeType,
    NodeType,
    PathwayModel,
    loads_model,
    model_from_dict,
    to_lavaan,
    validate_model,
)

DECLARED = (
    VALID
    + """\
pathways:
  - id: via_trust
    label: Coaching works through trust
    nodes: [coaching, trust, acceptability, capacity]
    alternatives: [knowledge]
"""
)


def test_derived_pathways_run_from_strategy_through_a_mechanism_to_the_final_outcome():
    model = loads_model(VALID, catalog=None)
    pathways = model.pathways_resolved()
    assert [p.nodes for p in pathways] == [
        ("coaching", "readiness", "trust", "acceptability", "capacity"),
        ("coaching", "trust", "acceptability", "capacity"),
        ("coaching", "knowledge", "acceptability", "capacity"),
    ]
    first, second, third = pathways
    assert [p.id for p in pathways] == [
        "coaching__trust__acceptability",
        "coaching__trust__acceptability_2",
        "coaching__knowledge__acceptability",
    ]
    assert not first.declared
    assert first.determinants == ("readiness",) and first.mechanisms == ("trust",)
    assert first.outcomes == ("acceptability", "capacity") and first.outcome == "capacity"
    # competing mechanisms: the others through which the same strategy reaches the same outcome
    assert first.alternatives == ("knowledge",) and third.alternatives == ("trust",)
    # the moderator of coaching -> trust qualifies only the pathway that uses that edge
    assert second.moderators == ("engagement",) and first.moderators == () and third.moderators == ()
    assert first.preconditions == ("leadership",) and third.preconditions == ()
    assert second.edges() == [
        ("coaching", "trust"),
        ("trust", "acceptability"),
        ("acceptability", "capacity"),
    ]


def test_declared_pathways_replace_the_derived_ones():
    model = loads_model(DECLARED, catalog=None)
    (pathway,) = model.pathways_resolved()
    assert pathway.declared and pathway.id == "via_trust" and pathway.label == "Coaching works through trust"
    assert pathway.alternatives == ("knowledge",) and pathway.moderators == ("engagement",)
    assert str(pathway) == "coaching → trust → acceptability → capacity"


def test_moderator_of_a_node_moderates_every_edge_into_it():
    text = VALID.replace("to: coaching->trust, type: moderates", "to: acceptability, type: moderates")
    model = loads_model(text, catalog=None)
    assert model.moderators_of("knowledge", "acceptability") == ["engagement"]
    assert all(p.moderators == ("engagement",) for p in model.pathways_resolved())


def test_graph_carries_types_and_edge_moderators():
    model = loads_model(VALID, catalog=None)
    graph = model.graph()
    assert graph.nodes["trust"]["type"] is NodeType.MECHANISM
    assert graph.edges["coaching", "trust"]["type"] is EdgeType.ACTS_THROUGH
    assert graph.edges["coaching", "trust"]["moderators"] == ["engagement"]
    assert graph.edges["leadership", "trust"]["type"] is EdgeType.REQUIRES
    causal = model.graph(causal_only=True)
    assert not causal.has_edge("leadership", "trust") and causal.has_node("leadership")
    assert causal.number_of_edges() == 7


def test_pathway_without_mechanism_is_an_error():
    text = VALID.replace(
        "  - {from: leadership, to: trust, type: requires}\n",
        "  - {from: leadership, to: trust, type: requires}\n  - {from: readiness, to: acceptability}\n",
    )
    text += "pathways:\n  - id: shortcut\n    nodes: [coaching, readiness, acceptability]\n"
    problem = only_error(text)
    assert problem.message == "pathway 'shortcut' has no mechanism"
    assert problem.hint.startswith("a pathway runs strategy → mechanism → outcome")
    assert problem.line == line_of(text, "nodes: [coaching, readiness, acceptability]")


def test_pathway_must_start_at_a_strategy_end_at_an_outcome_and_follow_edges():
    text = VALID + "pathways:\n  - id: bad\n    nodes: [readiness, trust, capacity, knowledge]\n"
    messages = [p.message for p in problems_of(text) if p.severity == "error"]
    assert messages == [
        "pathway 'bad' starts at 'readiness', a determinant; a pathway starts at a strategy",
        "pathway 'bad' ends at 'knowledge', a mechanism; a pathway ends at an outcome",
        "pathway 'bad': no causal edge from trust to capacity",
        "pathway 'bad': no causal edge from capacity to knowledge",
    ]


def test_pathway_step_against_the_arrow_says_so():
    text = (
        VALID + "pathways:\n  - id: back\n    nodes: [coaching, trust, acceptability, knowledge, capacity]\n"
    )
    errors = [p for p in problems_of(text) if p.severity == "error"]
    reverse = next(p for p in errors if "from acceptability to knowledge" in p.message)
    assert reverse.hint == "the edge runs the other way, from knowledge to acceptability"


def test_pathway_unknown_node_modifier_step_and_bad_alternatives():
    text = (
        VALID
        + """\
pathways:
  - id: p
    nodes: [coaching, engagement, trust, acceptability, capacity, capacty]
    alternatives: [trust, leadership, knowlege]
"""
    )
    errors = [p for p in problems_of(text) if p.severity == "error"]
    messages = [p.message for p in errors]
    assert "pathway 'p': unknown node 'capacty'" in messages
    assert (
        "pathway 'p': 'engagement' is a moderator; it qualifies a pathway but is not a step on it" in messages
    )
    assert "pathway 'p' alternatives: unknown node 'knowlege'" in messages
    # with an unknown step the pathway's shape is not judged further (it would only repeat the problem)
    assert not any("no causal edge" in m for m in messages)
    text = (
        text.replace(", capacty]", "]")
        .replace(", knowlege]", "]")
        .replace("[coaching, engagement, ", "[coaching, ")
    )
    messages = [p.message for p in problems_of(text) if p.severity == "error"]
    assert messages == [
        "pathway 'p': alternative 'trust' is on the pathway itself",
        "pathway 'p': alternative 'leadership' is a precondition, not a mechanism",
    ]


def test_duplicate_pathway_id():
    text = DECLARED + "  - id: via_trust\n    nodes: [coaching, knowledge, acceptability]\n"
    problem = only_error(text)
    assert (
        problem.message
        == f"pathway 'via_trust' is declared twice (first on line {line_of(text, '- id: via_trust')})"
    )


def test_very_many_derived_pathways_are_capped_with_a_warning():
    mechanisms = [{"id": f"m{i}", "type": "mechanism"} for i in range(25)]
    outcomes = [{"id": f"p{i}", "type": "proximal outcome"} for i in range(25)]
    data = {
        "model": "wide",
        "nodes": [{"id": "s", "type": "strategy"}, *mechanisms, *outcomes, {"id": "d", "type": "distal"}],
        "edges": [{"from": "s", "to": m["id"]} for m in mechanisms]
        + [{"from": m["id"], "to": p["id"]} for m in mechanisms for p in outcomes]
        + [{"from": p["id"], "to": "d"} for p in outcomes],
    }
    model = model_from_dict(data, "wide", catalog=None)
    assert len(model.pathways_resolved()) == 500  # 625 routes exist
    (warning,) = validate_model(model, catalog=None)
    assert warning.message.startswith("the graph has more than 500 strategy-to-outcome paths")
    assert warning.hint == "declare the pathways you mean to test under 'pathways:'"


def test_exporting_a_model_whose_pathway_skips_an_edge_asks_to_validate_first():
    model = PathwayModel(
        id="py",
        nodes=[
            {"id": "s", "type": "strategy"},
            {"id": "m", "type": "mechanism"},
            {"id": "o", "type": "distal"},
        ],
        edges=[{"source": "s", "target": "m"}, {"source": "m", "target": "o"}],
        pathways=[{"id": "skip", "nodes": ["s", "o"]}],
    )
    assert [p.message for p in validate_model(model, catalog=None)][
        -1
    ] == "pathway 'skip': no causal edge from s to o"
    with pytest.raises(ModelError, match="pathway 'skip' has no causal edge s -> o"):
        to_lavaan(model)
