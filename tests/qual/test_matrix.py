"""Code × case matrix: counts, presence and coverage checked by hand on a tiny project."""

from __future__ import annotations

import numpy as np
import pytest
from qual_builders import build_project

from moclab.errors import QualError
from moclab.qual.matrix import code_case_matrix

# 0         1         2         3
# 0123456789012345678901234567890123456789
TEXT_1 = "We trusted them. It felt safe to ask."  # 37 code points
TEXT_2 = "The tools fit."  # 14 code points
TEXT_3 = "Nothing coded here."  # 19 code points


@pytest.fixture
def project():
    return build_project(
        [
            ("int1", TEXT_1, [(3, 15, "Trust", "ana"), (0, 16, "Trust", "ana"), (17, 36, "Safety", "ana")]),
            ("int1b", TEXT_2, [(4, 13, "Fit", "ana"), (0, 14, "Trust", "ana")]),
            ("int2", TEXT_3, []),
            ("loose", "Trust me.", [(0, 8, "Trust", "ana")]),
        ],
        codes=[("Affect", None), ("Trust", "Affect"), ("Safety", "Affect"), "Fit"],
        cases={"P01": (["int1", "int1b"], {"engagement": "high"}), "P02": (["int2"], {})},
    )


def test_counts_presence_and_coverage_by_hand(project):
    matrix = code_case_matrix(project)
    assert list(matrix.counts.columns) == ["P01", "P02", "loose"]  # a source in no case is its own unit
    assert list(matrix.counts.index) == ["Affect", "Affect/Trust", "Affect/Safety", "Fit"]
    assert matrix.counts.loc["Affect/Trust"].tolist() == [3, 0, 1]
    assert matrix.counts.loc["Affect/Safety"].tolist() == [1, 0, 0]
    assert matrix.counts.loc["Affect"].tolist() == [0, 0, 0]  # a folder without codings of its own
    assert matrix.presence.loc["Fit"].tolist() == [1, 0, 0]
    # Trust in P01: [0,16) ∪ [3,15) = 16 in int1 plus 14 in int1b = 30 of 37 + 14 = 51 code points
    assert matrix.coverage_chars.loc["Affect/Trust", "P01"] == 30
    assert matrix.coverage_percent.loc["Affect/Trust", "P01"] == pytest.approx(100 * 30 / 51)
    assert matrix.coverage_chars.loc["Affect/Trust", "loose"] == 8
    assert matrix.coverage_percent.loc["Fit", "P02"] == 0.0
    assert matrix.text_length.tolist() == [51, 19, 9]


def test_rollup_counts_each_selection_once_per_parent(project):
    matrix = code_case_matrix(project, rollup=True)
    # Affect gets the 3 Trust and 1 Safety selections of P01; their union is [0,16) and [17,36) in int1 (35
    # code points) and all 14 of int1b
    assert matrix.counts.loc["Affect", "P01"] == 4
    assert matrix.coverage_chars.loc["Affect", "P01"] == 35 + 14


def test_by_source_and_long_form(project):
    matrix = code_case_matrix(project, by="source")
    assert list(matrix.counts.columns) == ["int1", "int1b", "int2", "loose"]
    long = matrix.to_frame()
    row = long[(long["code"] == "Affect/Trust") & (long["unit"] == "int1")].iloc[0]
    assert (row["count"], row["coverage_chars"]) == (2, 16)
    assert matrix.by_code().loc["Affect/Trust", "units"] == 3
    assert matrix.to_dict()["counts"][1] == [2, 1, 0, 1]
    assert "<table" in matrix._repr_html_()


def test_code_and_coder_filters(project):
    matrix = code_case_matrix(project, codes=["Trust"])
    assert list(matrix.counts.index) == ["Affect/Trust"]
    with pytest.raises(QualError, match="no coder 'bob'"):
        code_case_matrix(project, coders=["bob"])
    with pytest.raises(QualError, match="no code 'Missing'"):
        code_case_matrix(project, codes=["Missing"])
    with pytest.raises(QualError, match="unknown unit"):
        code_case_matrix(project, by="paragraph")


def test_empty_selections_are_ignored():
    project = build_project([("s", "abc", [(1, 1, "A", None), (0, 2, "A", None)])])
    matrix = code_case_matrix(project)
    assert matrix.counts.loc["A", "s"] == 1
    assert np.isclose(matrix.coverage_percent.loc["A", "s"], 200 / 3)
