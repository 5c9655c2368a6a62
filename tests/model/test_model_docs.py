"""docs/pathway-models.md stays true: its complete example validates and its edge-rule table is the code's."""

from __future__ import annotations

from pathlib import Path

from moclab.model import loads_model, to_lavaan, validate_model
from moclab.model.vocabulary import rules_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "pathway-models.md"


def _example() -> str:
    section = DOC.read_text(encoding="utf-8").split("## A complete example", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_documented_example_validates_against_the_bundled_catalog():
    model = loads_model(_example(), "docs/pathway-models.md")
    assert validate_model(model) == []
    assert [p.id for p in model.pathways_resolved()] == ["via_trust", "via_knowledge"]


def test_the_documented_lavaan_lines_are_what_the_export_writes():
    text = DOC.read_text(encoding="utf-8")
    lavaan = to_lavaan(loads_model(_example(), catalog=None))
    for line in (
        "ind_via_trust := a2*b1*o1",
        "trust ~ d1*readiness_gap + a2*coaching + w1*engagement_length",
    ):
        assert line in text and line in lavaan


def test_the_documented_edge_rules_are_the_codes():
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- edge-rules:start -->", 1)[1].split("<!-- edge-rules:end -->", 1)[0]
    rows = [
        tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        for line in table.strip().splitlines()[2:]
    ]
    assert rows == rules_table()
