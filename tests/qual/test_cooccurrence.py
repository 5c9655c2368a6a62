"""Code co-occurrence by overlap and by paragraph, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from qual_builders import build_project

from moclab.errors import QualError
from moclab.qual.cooccurrence import code_cooccurrence

# lines: [0, 9) [10, 19) [20, 24)
TEXT = "aaaa bbbb\ncccc dddd\neeee"


@pytest.fixture
def project():
    return build_project(
        [
            (
                "s",
                TEXT,
                [
                    (0, 9, "A", None),
                    (5, 14, "B", None),
                    (15, 19, "C", None),
                    (15, 19, "B", None),
                    (16, 24, "A", None),
                ],
            )
        ],
        codes=["A", "B", "C"],
    )


def test_overlap_counts_pairs_of_selections(project):
    result = code_cooccurrence(project)
    # A-B: [0,9)~[5,14) and [16,24)~[15,19); A-C: [16,24)~[15,19); B-C: [5,14) and [15,19) do not overlap,
    # but the two selections [15,19) coded B and C do
    expected = pd.DataFrame([[2, 2, 1], [2, 2, 1], [1, 1, 1]], index=list("ABC"), columns=list("ABC"))
    assert (result.counts.to_numpy() == expected.to_numpy()).all()


def test_overlap_jaccard_and_conditional_on_code_points(project):
    result = code_cooccurrence(project)
    # A covers 9 + 8 = 17, B 9 + 4 = 13, C 4; A∩B = [5,9) + [16,19) = 7; A∩C = 3; B∩C = 4
    assert result.shared.loc["A", "A"] == 17 and result.shared.loc["B", "B"] == 13
    assert result.shared.loc["A", "B"] == 7 and result.shared.loc["A", "C"] == 3
    assert result.jaccard.loc["A", "B"] == pytest.approx(7 / (17 + 13 - 7))
    assert result.conditional.loc["A", "B"] == pytest.approx(7 / 17)  # P(B | A)
    assert result.conditional.loc["C", "B"] == pytest.approx(1.0)
    pairs = result.to_frame()
    first = pairs.iloc[0]
    assert (first["code_a"], first["code_b"], first["count"]) == ("A", "B", 2)
    assert first["p_a_given_b"] == pytest.approx(7 / 13)


def test_same_paragraph(project):
    result = code_cooccurrence(project, method="paragraph")
    # A in all three lines; B in lines 1 and 2; C in line 2
    assert np.diag(result.counts.to_numpy()).tolist() == [3, 2, 1]
    assert result.counts.loc["A", "B"] == 2 and result.counts.loc["B", "C"] == 1
    assert result.jaccard.loc["A", "B"] == pytest.approx(2 / 3)
    assert result.conditional.loc["B", "A"] == pytest.approx(1.0)
    assert result.info["paragraphs"] == 3


def test_blank_line_paragraphs():
    text = "one\ntwo\n\nthree\n  \nfour"
    project = build_project([("s", text, [(0, 3, "A", None), (4, 7, "B", None), (10, 15, "B", None)])])
    by_line = code_cooccurrence(project, method="paragraph")
    by_blank = code_cooccurrence(project, method="paragraph", paragraphs="blank")
    assert by_line.counts.loc["A", "B"] == 0 and by_line.info["paragraphs"] == 4
    assert by_blank.counts.loc["A", "B"] == 1 and by_blank.info["paragraphs"] == 3


def test_bad_method(project):
    with pytest.raises(QualError, match="unknown co-occurrence method"):
        code_cooccurrence(project, method="sentence")


def test_matches_brute_force_on_random_codings():
    rng = np.random.default_rng(7)
    texts = ["x" * 200, "y" * 150]
    spans = {name: [] for name in ("s1", "s2")}
    for _ in range(60):
        name = "s1" if rng.random() < 0.5 else "s2"
        length = 200 if name == "s1" else 150
        start = int(rng.integers(0, length - 5))
        spans[name].append(
            (start, int(rng.integers(start + 1, min(length, start + 40) + 1)), "ABCD"[rng.integers(4)], None)
        )
    project = build_project(
        [("s1", texts[0], spans["s1"]), ("s2", texts[1], spans["s2"])], codes=list("ABCD")
    )
    result = code_cooccurrence(project)
    pairs = np.zeros((4, 4), dtype=int)
    shared = np.zeros((4, 4), dtype=int)
    masks = {c: {s: np.zeros(200, bool) for s in spans} for c in "ABCD"}
    items = [(s, a, b, "ABCD".index(c)) for s in spans for a, b, c, _ in spans[s]]
    for s, a, b, c in items:
        masks["ABCD"[c]][s][a:b] = True
    for i, (s1, a1, b1, c1) in enumerate(items):
        for s2, a2, b2, c2 in items[i + 1 :]:
            if s1 == s2 and a1 < b2 and a2 < b1:
                pairs[c1, c2] += 1
                if c1 != c2:
                    pairs[c2, c1] += 1
    for i, x in enumerate("ABCD"):
        for j, y in enumerate("ABCD"):
            shared[i, j] = sum(int((masks[x][s] & masks[y][s]).sum()) for s in spans)
    counts = result.counts.to_numpy()
    off = ~np.eye(4, dtype=bool)
    assert (counts[off] == pairs[off]).all()
    assert (result.shared.to_numpy() == shared).all()
