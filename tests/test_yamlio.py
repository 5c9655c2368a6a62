"""Safe YAML reading: positions, refused tags, duplicate keys, and pydantic errors located at their line."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from moclab.errors import ConfigError, ValidationError
from moclab.yamlio import load_yaml, loads_yaml, locate, parse_model


class Node(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    id: str
    weight: float = 1.0


class Doc(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    title: str
    nodes: list[Node]


def test_positions_of_keys_and_items_are_one_based():
    data = loads_yaml("title: x\nnodes:\n  - id: a\n  - id: b\n    weight: 2\n")
    assert data.positions["title"] == (1, 1)
    assert data.positions["nodes"] == (2, 1)
    assert data["nodes"].positions == [(3, 5), (4, 5)]
    assert data["nodes"][1].positions["weight"] == (5, 5)
    assert locate(data, ["nodes", 1, "weight"]) == (5, 5)
    # A path that leaves the document stops at the deepest known element.
    assert locate(data, ["nodes", 1, "missing"]) == (4, 5)


def test_python_tags_are_refused_not_executed(tmp_path: Path):
    marker = tmp_path / "pwned"
    text = f"title: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(ConfigError) as info:
        loads_yaml(text, "study.yaml")
    assert "study.yaml:1:8" in str(info.value)
    assert "not allowed" in str(info.value)
    assert not marker.exists()


def test_duplicate_keys_are_reported_with_both_lines():
    with pytest.raises(ConfigError) as info:
        loads_yaml("title: a\nother: 1\ntitle: b\n", "m.yaml")
    message = str(info.value)
    assert "m.yaml:3:1" in message
    assert "duplicate key 'title'" in message
    assert "line 1" in message


def test_malformed_yaml_names_line_and_column():
    with pytest.raises(ConfigError) as info:
        loads_yaml("title: x\nnodes:\n  - id: a\n   bad: [1, 2\n", "m.yaml")
    assert str(info.value).startswith("m.yaml:")
    assert "malformed YAML" in str(info.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "empty"), (b"# only a comment\n", "no YAML content"), (b"title: caf\xe9\n", "not UTF-8")],
)
def test_unreadable_files(tmp_path: Path, content: bytes, expected: str):
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected):
        load_yaml(path)


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_yaml(tmp_path)


def test_byte_order_mark_is_accepted(tmp_path: Path):
    path = tmp_path / "f.yaml"
    path.write_bytes("\ufefftitle: x\n".encode())
    assert load_yaml(path) == {"title": "x"}


def test_parse_model_locates_every_problem_and_suggests_keys():
    text = "title: x\nnodes:\n  - id: a\n    wieght: 2\n  - id: b\n    weight: heavy\n  - weight: 1\n"
    data = loads_yaml(text, "m.yaml")
    with pytest.raises(ValidationError) as info:
        parse_model(Doc, data, "m.yaml")
    problems = info.value.problems
    assert len(problems) == 3
    by_line = {p.line: p for p in problems}
    assert "unknown key 'wieght'" in by_line[4].message
    assert by_line[4].hint == "did you mean 'weight'?"
    assert "nodes.1.weight" in by_line[6].message
    assert "'heavy'" in by_line[6].message
    assert by_line[7].message == "'nodes.2.id' is required but missing"


def test_parse_model_returns_the_model_when_valid():
    doc = parse_model(Doc, loads_yaml("title: x\nnodes: [{id: a}]\n"), "m.yaml")
    assert doc.nodes[0].weight == 1.0
