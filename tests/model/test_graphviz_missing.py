"""Without Graphviz's `dot`, drawing is a clear error of the caller's area, never a traceback."""

from __future__ import annotations

import graphviz
import pytest

from moclab.errors import ModelError, QualError
from moclab.model import load_template, render
from moclab.qual import example_project_path, read_project
from moclab.qual.pathway import experience_pathway


def _no_dot(*args, **kwargs):
    raise graphviz.ExecutableNotFound(["dot"])


@pytest.fixture
def without_dot(monkeypatch):
    monkeypatch.setattr(graphviz.Digraph, "pipe", _no_dot)


def test_a_model_diagram_without_graphviz(without_dot, tmp_path):
    with pytest.raises(ModelError, match="Graphviz is not installed") as caught:
        render(load_template("recipient-pathway"), tmp_path / "pathway.svg")
    assert "apt-get install graphviz" in str(caught.value)
    assert ".dot or .mmd" in str(caught.value)
    assert not (tmp_path / "pathway.svg").exists()
    # the text formats need no Graphviz
    dot_text = render(load_template("recipient-pathway"), tmp_path / "pathway.dot").read_text()
    assert 'digraph "recipient-pathway" {' in dot_text


def test_an_experience_pathway_without_graphviz(without_dot, tmp_path):
    pathway = experience_pathway(read_project(example_project_path()))
    with pytest.raises(QualError, match="Graphviz is not installed"):
        pathway.draw(tmp_path / "pathway.png")
    assert not (tmp_path / "pathway.png").exists()
