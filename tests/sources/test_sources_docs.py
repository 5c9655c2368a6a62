"""The kinds of source problems: defined once, checked when a problem is made, each explained in the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from moclab.study.sources import PROBLEM_KINDS, SourceProblem

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_is_explained_in_docs_sources():
    docs = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    table = docs[docs.index("## The problems, and what to do") :]
    assert set(PROBLEM_KINDS) <= set(re.findall(r"`(\w+)`", table))


def test_a_problem_of_an_unknown_kind_cannot_be_made():
    with pytest.raises(ValueError, match="unknown kind"):
        SourceProblem("x", kind="out_of_rnage")
    problem = SourceProblem(
        "7 is outside", file="r.csv", line=3, record="r1", field="q1", value="7", kind="out_of_range"
    )
    assert str(problem) == "r.csv:3, record 'r1', field 'q1': 7 is outside"
    assert problem.to_dict()["kind"] == "out_of_range"
