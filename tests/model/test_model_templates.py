"""The five seed-system templates: each validates against the bundled catalog, cites its source, draws, and
exports lavaan and DAGitty syntax that parse under grammars of those languages written here."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from lark import Lark, Token, Tree

from moclab.errors import ModelError
from moclab.model import (
    EdgeType,
    NodeType,
    list_templates,
    load_template,
    render,
    template_path,
    to_dagitty,
    to_lavaan,
    validate_model,
)
from moclab.model.templates import TEMPLATE_DIR, TEMPLATES

# lavaan model syntax (lavaan.ugent.be/tutorial/syntax1.html): one formula per line with the operators
# =~ (measured by), ~ (regressed on), ~~ (covaries with), := (defined parameter); terms joined by "+", each
# optionally pre-multiplied by a label or number ("a1*x"); "x:w" is the product of two observed variables;
# comments start with # or !.
LAVAAN_GRAMMAR = r"""
start: _NL* (statement _NL+)* statement?
?statement: formula | definition
formula: NAME OPERATOR term ("+" term)*
OPERATOR: "=~" | "~~" | "~"
term: (modifier "*")? variable
modifier: NAME | SIGNED_NUMBER
variable: NAME (":" NAME)*
definition: NAME ":=" expression
?expression: product (("+" | "-") product)*
?product: atom ("*" atom)*
?atom: NAME | SIGNED_NUMBER | "(" expression ")"
NAME: /[A-Za-z.][A-Za-z0-9._]*/
COMMENT: /[#!][^\n]*/
_NL: /\r?\n/
%import common.SIGNED_NUMBER
%ignore COMMENT
%ignore /[ \t]+/
"""

# DAGitty's graph syntax (dagitty.net, R package dagitty): `dag { ... }` with node statements carrying
# attributes in brackets and chains of arrows.
DAGITTY_GRAMMAR = r"""
start: "dag" "{" statement* "}"
?statement: chain | node
node: NAME attributes?
attributes: "[" attribute ("," attribute)* "]"
attribute: NAME ("=" ESCAPED_STRING)?
chain: NAME (ARROW NAME)+
ARROW: "->" | "<-" | "<->" | "--"
NAME: /[A-Za-z_][A-Za-z0-9_.]*/
%import common.ESCAPED_STRING
%import common.WS
%ignore WS
"""

lavaan_parser = Lark(LAVAAN_GRAMMAR, parser="lalr")
dagitty_parser = Lark(DAGITTY_GRAMMAR, parser="lalr")


def _names(tree: Tree) -> list[str]:
    return [str(token) for token in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "NAME")]


def parse_lavaan(
    text: str,
) -> tuple[dict[str, list[tuple[str | None, tuple[str, ...]]]], dict[str, list[str]]]:
    """Regressions {dependent: [(label, variables)]} and definitions {name: [labels]} of lavaan syntax."""
    tree = lavaan_parser.parse(text)
    regressions: dict[str, list[tuple[str | None, tuple[str, ...]]]] = {}
    definitions: dict[str, list[str]] = {}
    for statement in tree.children:
        if statement.data == "formula":
            dependent, operator, *terms = statement.children
            assert str(operator) == "~", f"unexpected operator {operator}"
            assert str(dependent) not in regressions, f"{dependent} regressed twice"
            parsed = []
            for term in terms:
                modifier = next((c for c in term.children if c.data == "modifier"), None)
                variable = next(c for c in term.children if c.data == "variable")
                parsed.append((str(modifier.children[0]) if modifier else None, tuple(_names(variable))))
            regressions[str(dependent)] = parsed
        else:
            name, expression = statement.children
            definitions[str(name)] = _names(expression) if isinstance(expression, Tree) else [str(expression)]
    return regressions, definitions


def test_the_templates_are_the_five_seed_systems_in_order():
    assert (
        list_templates()
        == list(TEMPLATES)
        == [
            "mechanism-criteria",
            "isp-mechanisms",
            "eis",
            "support-modes",
            "recipient-pathway",
        ]
    )
    assert sorted(p.stem for p in TEMPLATE_DIR.glob("*.yaml")) == sorted(TEMPLATES)


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_validates_against_the_bundled_catalog_without_warnings(name: str):
    model = load_template(name)  # the bundled catalog resolves every reference
    assert model.id == name
    assert model.citation and "doi:10." in model.citation
    assert validate_model(model) == []
    assert model.pathways_resolved(), "a template must have at least one pathway"
    first_comment = template_path(name).read_text(encoding="utf-8").splitlines()[0]
    assert first_comment.startswith("# Template:")


def test_template_citations_name_the_seed_papers():
    expected = {
        "mechanism-criteria": "Front Public Health. 2018;6:136",
        "isp-mechanisms": "Res Soc Work Pract. 2022;32(3):259-280",
        "eis": "Implement Res Pract. 2023;4:26334895231179761",
        "support-modes": "Implement Res Pract.\n  2022;3:26334895221105585",
        "recipient-pathway": "Front Health Serv. 2024;4:1323807",
    }
    for name, fragment in expected.items():
        citation = load_template(name, catalog=None).citation
        assert " ".join(fragment.split()) in citation, name


def test_recipient_pathway_has_the_papers_nodes_as_data_columns():
    model = load_template("recipient-pathway")
    ids = set(model.node_ids)
    expected = {"isp_support", "positive_emotion", "psych_safety", "trust", "credibility", "acceptability"}
    expected |= {"appropriateness", "feasibility", "knowledge", "application", "sustained_capacity"}
    assert expected <= ids
    assert {n.id for n in model.nodes_of(NodeType.MECHANISM)} == {
        "positive_emotion",
        "psych_safety",
        "trust",
        "credibility",
    }
    assert model.node("engagement_length").type is NodeType.MODERATOR
    pathways = model.pathways_resolved()
    assert len(pathways) == 12  # 4 affective responses x 3 perceptions
    assert all(p.moderators == ("engagement_length",) for p in pathways)


def test_eis_template_does_not_invent_the_core_practice_component_names():
    model = load_template("eis")
    (mechanism,) = model.nodes_of(NodeType.MECHANISM)
    assert "names supplied in your framework file" in mechanism.display_label
    assert "not verified" in mechanism.description
    assert {n.level.value for n in model.nodes_of(NodeType.PROXIMAL_OUTCOME)} == {
        "individual",
        "team",
        "organization",
        "system",
    }


def test_support_modes_are_alternative_strategies():
    model = load_template("support-modes")
    assert [n.id for n in model.nodes_of(NodeType.STRATEGY)] == ["push", "push_pull", "co_creation"]
    pathways = {p.id: p for p in model.pathways_resolved()}
    assert pathways["co_creation"].alternatives == ("knowledge_transfer", "fit_to_need")


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_lavaan_export_parses_and_matches_the_causal_edges(name: str):
    model = load_template(name, catalog=None)
    regressions, definitions = parse_lavaan(to_lavaan(model))
    moderators = {n.id for n in model.nodes_of(NodeType.MODERATOR)}
    plain = {
        (variables[0], dependent)
        for dependent, terms in regressions.items()
        for _, variables in terms
        if len(variables) == 1 and variables[0] not in moderators
    }
    causal = {(e.source, e.target) for e in model.causal_edges()}
    assert plain == causal
    # every term is labelled, labels are unique, and every defined effect multiplies known labels
    labels = [label for terms in regressions.values() for label, _ in terms]
    assert None not in labels and len(labels) == len(set(labels))
    pathways = model.pathways_resolved()
    assert set(definitions) == {f"ind_{p.id}" for p in pathways}
    label_of = {
        (variables[0], dep): label
        for dep, terms in regressions.items()
        for label, variables in terms
        if len(variables) == 1
    }
    for pathway in pathways:
        assert definitions[f"ind_{pathway.id}"] == [label_of[step] for step in pathway.edges()]


def test_recipient_pathway_lavaan_has_the_moderation_as_interactions():
    regressions, _ = parse_lavaan(to_lavaan(load_template("recipient-pathway", catalog=None)))
    assert regressions["trust"] == [
        ("a3", ("isp_support",)),
        ("w3", ("engagement_length",)),
        ("i3", ("isp_support", "engagement_length")),
    ]
    assert regressions["knowledge"] == [
        ("o1", ("acceptability",)),
        ("o2", ("appropriateness",)),
        ("o3", ("feasibility",)),
    ]


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_dagitty_export_parses_with_exposures_and_outcomes(name: str):
    model = load_template(name, catalog=None)
    tree = dagitty_parser.parse(to_dagitty(model))
    arrows, marks = set(), {}
    for statement in tree.children:
        if statement.data == "chain":
            source, arrow, target = statement.children
            assert str(arrow) == "->"
            arrows.add((str(source), str(target)))
        else:
            attributes = statement.children[1].children if len(statement.children) > 1 else []
            marks[str(statement.children[0])] = {str(a.children[0]) for a in attributes}
    assert set(marks) == set(model.node_ids)
    assert {(e.source, e.target) for e in model.causal_edges()} <= arrows
    pathways = model.pathways_resolved()
    assert {n for n, m in marks.items() if "exposure" in m} == {p.strategy for p in pathways}
    assert {n for n, m in marks.items() if "outcome" in m} == {p.outcome for p in pathways}
    for edge in model.edges_of(EdgeType.MODERATES):
        target = edge.target_edge[1] if edge.target_edge else edge.target
        assert (edge.source, target) in arrows


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_draws_as_svg_with_every_label_and_the_legend(name: str, tmp_path: Path):
    model = load_template(name, catalog=None)
    path = render(model, tmp_path / f"{name}.svg")
    root = ET.parse(path).getroot()
    texts = " ".join(
        (element.text or "").strip()
        for element in root.iter()
        if element.tag.endswith("text") and element.text
    )
    for node in model.nodes:
        assert " ".join(node.display_label.split()) in texts, node.id
    assert "Legend" in texts
    for node_type in {n.type for n in model.nodes}:
        assert node_type.words in texts
    clusters = {
        el.text for el in root.iter() if el.tag.endswith("title") and (el.text or "").startswith("cluster_")
    }
    assert {f"cluster_{n.level.value}" for n in model.nodes if n.level} | {"cluster_legend"} == clusters


def test_template_draws_as_png(tmp_path: Path):
    path = render(load_template("recipient-pathway", catalog=None), tmp_path / "recipient.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_unknown_template_suggests_the_closest_name():
    with pytest.raises(ModelError) as info:
        template_path("recipient-pathways")
    assert info.value.hint == "did you mean 'recipient-pathway'?"
    assert template_path("Recipient_Pathway.yaml") == TEMPLATE_DIR / "recipient-pathway.yaml"


def test_template_without_citation_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    (tmp_path / "uncited.yaml").write_text(
        "model: uncited\nnodes:\n  - {id: s, type: strategy}\n  - {id: m, type: mechanism}\n"
        "  - {id: o, type: proximal outcome}\nedges:\n  - {from: s, to: m}\n  - {from: m, to: o}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr("moclab.model.templates.TEMPLATE_DIR", tmp_path)
    with pytest.raises(ModelError, match="template 'uncited' has no citation"):
        load_template("uncited", catalog=None)


@pytest.mark.parametrize(
    "text",
    [
        "trust ~ ~ a1*isp_support\n",  # doubled operator
        "trust ~ a1*isp_support +\n",  # dangling +
        "trust ~ a1**isp_support\n",  # doubled *
        "ind := a1*\n",  # incomplete product
        "trust isp_support\n",  # no operator
    ],
)
def test_the_lavaan_grammar_rejects_malformed_syntax(text: str):
    from lark.exceptions import LarkError

    with pytest.raises(LarkError):
        lavaan_parser.parse(text)


def test_the_dagitty_grammar_rejects_malformed_syntax():
    from lark.exceptions import LarkError

    for text in ("dag { a -> }", "graph { a -> b }", "dag { a [exposure b }"):
        with pytest.raises(LarkError):
            dagitty_parser.parse(text)
