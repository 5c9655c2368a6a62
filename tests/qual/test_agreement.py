"""Inter-coder agreement against published worked examples, scikit-learn and the krippendorff package.

Cohen's and Fleiss' kappa are computed by statsmodels; the references for them are the published examples,
the written-out formula and scikit-learn's `cohen_kappa_score`.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from qual_builders import build_project
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from moclab.errors import DataError, QualError
from moclab.qual.agreement import (
    OVERALL,
    coder_agreement,
    cohens_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    unitized_alpha,
)

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 coders, 12 units, with gaps
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
).T  # units × coders

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (the diagnoses each patient received)
FLEISS_1971 = np.array(
    [
        (4, 4, 4, 4, 4, 4), (2, 2, 2, 5, 5, 5), (2, 3, 3, 3, 3, 5), (5, 5, 5, 5, 5, 5), (2, 2, 2, 4, 4, 4),
        (1, 1, 3, 3, 3, 3), (3, 3, 3, 3, 5, 5), (1, 1, 3, 3, 3, 4), (1, 1, 4, 4, 4, 4), (5, 5, 5, 5, 5, 5),
        (1, 4, 4, 4, 4, 4), (1, 2, 4, 4, 4, 4), (2, 2, 2, 3, 3, 3), (1, 4, 4, 4, 4, 4), (2, 2, 4, 4, 4, 5),
        (3, 3, 3, 3, 3, 5), (1, 1, 1, 4, 5, 5), (1, 1, 1, 1, 1, 2), (2, 2, 4, 4, 4, 4), (1, 3, 3, 5, 5, 5),
        (5, 5, 5, 5, 5, 5), (2, 4, 4, 4, 4, 4), (2, 2, 4, 5, 5, 5), (1, 1, 4, 4, 4, 4), (1, 4, 4, 4, 4, 5),
        (2, 2, 2, 2, 2, 4), (1, 1, 1, 1, 5, 5), (2, 2, 4, 4, 4, 4), (1, 3, 3, 3, 3, 3), (5, 5, 5, 5, 5, 5),
    ]
)  # fmt: skip
FLEISS_COUNTS = np.stack([(k == FLEISS_1971).sum(axis=1) for k in range(1, 6)], axis=1)


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_alpha_reproduces_krippendorff_2011(level, published):
    assert krippendorff_alpha(KRIPPENDORFF_2011, level) == pytest.approx(published, abs=5e-4)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_alpha_matches_the_krippendorff_package_on_random_data(level):
    rng = np.random.default_rng(11)
    data = rng.integers(1, 6, size=(40, 3)).astype(float)
    data[rng.random(data.shape) < 0.15] = nan
    ours = krippendorff_alpha(data, level)
    reference = krippendorff.alpha(reliability_data=data.T, level_of_measurement=level)
    assert ours == pytest.approx(reference, abs=1e-12)


def test_krippendorff_alpha_with_labels_and_without_variation():
    labels = [["yes", "yes"], ["no", "yes"], ["no", "no"], [None, "no"]]
    numeric = [[1, 1], [0, 1], [0, 0], [nan, 0]]
    assert krippendorff_alpha(labels) == pytest.approx(krippendorff_alpha(numeric))
    assert np.isnan(krippendorff_alpha([[1, 1], [1, 1]]))
    with pytest.raises(DataError, match="numeric"):
        krippendorff_alpha(labels, "interval")
    with pytest.raises(DataError, match="two coders"):
        krippendorff_alpha([[1], [2]])


def test_fleiss_kappa_reproduces_fleiss_1971_and_the_formula():
    # fleiss_kappa is statsmodels' (the implementation); the references are the paper and the formula
    assert fleiss_kappa(FLEISS_COUNTS) == pytest.approx(0.430, abs=5e-4)
    assert fleiss_kappa(FLEISS_COUNTS) == sm_fleiss_kappa(FLEISS_COUNTS, method="fleiss")
    rng = np.random.default_rng(8)
    ratings = rng.integers(0, 4, size=(25, 5))
    counts = np.stack([(ratings == k).sum(axis=1) for k in range(4)], axis=1)
    observed = ((counts * (counts - 1)).sum(axis=1) / (5 * 4)).mean()  # Fleiss (1971), P-bar
    expected = ((counts.sum(axis=0) / counts.sum()) ** 2).sum()  # P-bar_e
    assert fleiss_kappa(counts) == pytest.approx((observed - expected) / (1 - expected), abs=1e-12)
    assert percent_agreement(FLEISS_1971) == pytest.approx(0.5556, abs=5e-5)  # Fleiss' P-bar
    with pytest.raises(DataError, match="same number"):
        fleiss_kappa([[2, 0], [1, 0]])
    assert np.isnan(fleiss_kappa([[3, 0], [3, 0]]))  # every rating in one category: P-bar_e = 1


def test_cohens_kappa_published_example_and_scikit_learn():
    # 50 applications read by two reviewers: 20 both yes, 15 both no, 5 and 10 disagreements:
    # p_o = 0.7, p_e = 0.5, kappa = 0.4
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohens_kappa(first, second) == pytest.approx(0.4)
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, 80)
    b = np.where(rng.random(80) < 0.6, a, rng.integers(0, 3, 80))
    # cohens_kappa is statsmodels'; scikit-learn's is an independent implementation
    assert cohens_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    table = np.zeros((3, 3))
    np.add.at(table, (a, b), 1)
    assert cohens_kappa(a, b) == pytest.approx(sm_cohens_kappa(table).kappa, abs=1e-12)
    assert percent_agreement(np.column_stack([a, b])) == pytest.approx(np.mean(a == b))
    # labels with gaps: units missing for either coder are dropped
    labelled = cohens_kappa(["x", "y", None, "y", "x", "x"], ["x", "y", "y", "x", None, "x"])
    assert labelled == pytest.approx(cohen_kappa_score(["x", "y", "y", "x"], ["x", "y", "x", "x"]))
    assert np.isnan(cohens_kappa(["x", "x", "x"], ["x", "x", "x"]))  # p_e = 1


# Krippendorff (2004), Content Analysis, 2nd ed., p. 254 (as reproduced in DKPro Statistics' tests):
# a continuum from 150 of length 300, two coders, categories c and k
KRIPPENDORFF_2004_UNITS = [
    ("i", "c", 225, 295), ("i", "c", 370, 400),
    ("j", "c", 220, 300), ("j", "c", 355, 375), ("j", "c", 400, 420),
    ("i", "k", 180, 240), ("i", "k", 300, 350), ("j", "k", 180, 240), ("j", "k", 300, 350),
]  # fmt: skip


def test_unitized_alpha_reproduces_krippendorff_2004():
    result = unitized_alpha(KRIPPENDORFF_2004_UNITS, 300, begin=150)
    c, k = result.per_category.loc["c"], result.per_category.loc["k"]
    assert c["observed"] == pytest.approx(0.0144, abs=5e-5)
    assert c["expected"] == pytest.approx(0.0532, abs=5e-5)
    assert c["alpha"] == pytest.approx(0.7286, abs=5e-5)
    assert (k["observed"], k["alpha"]) == (0.0, 1.0)
    assert k["expected"] == pytest.approx(0.0490, abs=5e-5)
    assert result.alpha == pytest.approx(0.859, abs=5e-4)
    assert result.warnings == ()


def _krippendorff_1995(stretch: float) -> list[tuple[str, str, int, int]]:
    """Krippendorff (1995, p. 57): four pairs of coders (rows A-D) unitizing a continuum of 24 positions."""
    units = [  # (offset, length, coder, category)
        (2, 8, 0, "A"), (14, 6, 0, "A"), (4, 4, 1, "A"), (15, 2, 1, "A"),
        (0, 18, 0, "B"), (0, 2, 1, "B"), (2, 1, 1, "B"), (3, 1, 1, "B"), (4, 1, 1, "B"), (5, 1, 1, "B"),
        (6, 3, 1, "B"), (9, 1, 1, "B"),
        (2, 6, 0, "C"), (10, 2, 0, "C"), (14, 4, 0, "C"), (20, 2, 0, "C"), (0, 2, 1, "C"), (4, 4, 1, "C"),
        (10, 4, 1, "C"), (16, 2, 1, "C"), (20, 2, 1, "C"),
        (0, 2, 0, "D"), (2, 8, 0, "D"), (10, 4, 0, "D"), (14, 6, 0, "D"), (20, 4, 0, "D"), (0, 4, 1, "D"),
        (4, 4, 1, "D"), (8, 7, 1, "D"), (15, 2, 1, "D"), (17, 7, 1, "D"),
    ]  # fmt: skip
    return [
        (str(coder), category, int(offset * stretch), int(offset * stretch) + int(length * stretch))
        for offset, length, coder, category in units
    ]


def test_unitized_alpha_reproduces_krippendorff_1995():
    exact = unitized_alpha(_krippendorff_1995(1), 24).per_category["observed"]
    assert exact.to_numpy() == pytest.approx([0.03125, 2.26736, 0.02777, 0.38715], abs=1e-5)
    # the published alphas treat the continuum as continuous: a fine grid approaches them
    fine = unitized_alpha(_krippendorff_1995(50_000), 24 * 50_000).per_category
    assert fine.loc["A", "alpha"] == pytest.approx(0.553, abs=5e-3)
    assert fine.loc["B", "alpha"] == pytest.approx(-0.926, abs=5e-3)
    assert fine.loc["D", "alpha"] == pytest.approx(0.066, abs=5e-3)
    # DKPro Statistics notes a small error in the printed D_e of row C (0.0864 printed, alpha 0.679)
    assert fine.loc["C", "alpha"] == pytest.approx(0.679, abs=0.02)


def test_unitized_alpha_identical_coders_and_bad_input():
    same = [("a", "x", 2, 5), ("b", "x", 2, 5), ("a", "x", 7, 9), ("b", "x", 7, 9)]
    assert unitized_alpha(same, 12).alpha == 1.0
    three = unitized_alpha([*same, ("c", "x", 2, 5)], 12)
    assert three.coders == 3 and "2016" in three.warnings[0]
    with pytest.raises(DataError, match="inside the continuum"):
        unitized_alpha([("a", "x", 5, 20), ("b", "x", 2, 3)], 12)
    with pytest.raises(DataError, match="two coders"):
        unitized_alpha([("a", "x", 2, 3)], 12)
    with pytest.raises(DataError, match="missing: category"):
        unitized_alpha(pd.DataFrame({"coder": ["a"], "start": [1], "end": [2]}), 12)
    with pytest.raises(DataError, match="positive length"):
        unitized_alpha([("a", "x", 2, 3), ("b", "x", 2, 3)], 0)


TEXT = "Line one is here.\nLine two is here.\nLine three.\nLine four."


@pytest.fixture
def two_coders():
    return build_project(
        [
            (
                "s",
                TEXT,
                [
                    (0, 17, "A", "ann"), (0, 12, "A", "bob"),  # line 1: both A
                    (18, 35, "B", "ann"),  # line 2: only ann B
                    (36, 47, "B", "ann"), (36, 47, "B", "bob"),  # line 3: both B, identical
                ],
            ),
            ("solo", "Only one coder here.", [(0, 4, "A", "ann")]),
        ],
        codes=["A", "B"],
    )  # fmt: skip


def test_project_agreement_on_paragraphs_by_hand(two_coders):
    result = coder_agreement(two_coders)
    assert result.coders == ("ann", "bob") and result.info["sources"] == ["s"]  # "solo" has one coder
    a, b = result.table.loc["A"], result.table.loc["B"]
    # four paragraphs; code A: ann [1,0,0,0], bob [1,0,0,0]; code B: ann [0,1,1,0], bob [0,0,1,0]
    assert (a["units"], a["applied"], a["percent_agreement"], a["cohens_kappa"]) == (4, 1, 1.0, 1.0)
    assert b["percent_agreement"] == pytest.approx(0.75)
    assert b["cohens_kappa"] == pytest.approx(cohens_kappa([0, 1, 1, 0], [0, 0, 1, 0]))
    assert b["krippendorff_alpha"] == pytest.approx(krippendorff_alpha([[0, 0], [1, 0], [1, 1], [0, 0]]))
    pooled = result.table.loc[OVERALL]
    assert pooled["units"] == 8 and pooled["percent_agreement"] == pytest.approx(7 / 8)
    # unitized alpha on the character positions of the compared source only
    expected_a = unitized_alpha([("ann", "A", 0, 17), ("bob", "A", 0, 12)], len(TEXT)).alpha
    assert a["unitized_alpha"] == pytest.approx(expected_a)


def test_project_agreement_on_segments(two_coders):
    result = coder_agreement(two_coders, unit="segment")
    # pieces of coded text: [0,12) [12,17) [18,35) [36,47)
    assert result.table.loc["A", "units"] == 4
    assert result.table.loc["A", "percent_agreement"] == pytest.approx(3 / 4)
    assert result.table.loc["B", "percent_agreement"] == pytest.approx(3 / 4)


def test_project_agreement_needs_two_coders():
    project = build_project([("s", "abc", [(0, 2, "A", "ann")])])
    with pytest.raises(QualError, match="at least two coders"):
        coder_agreement(project)
    with pytest.raises(QualError, match="unknown agreement unit"):
        coder_agreement(project, unit="sentence")


def test_selections_past_the_end_of_their_text_are_cut_with_a_warning_naming_them():
    # the bundled example with its last transcript cut short after coding: "every unit must lie inside the
    # continuum [0, 9428)" skipped the agreement before
    from moclab.qual import example_project_path, read_project

    project = read_project(example_project_path())
    last = project.sources[-1]
    reach = max(selection.end for selection in last.selections)
    last.text = last.text[: reach - 10]
    past = [s for s in last.selections if s.end > len(last.text)]
    assert len(past) == 1
    result = coder_agreement(project)
    assert result.warnings[0] == (
        "1 selection(s) end past the end of their source's text and were cut at it (left out when they start "
        f"there): 'Interview R12' selection {past[0].guid} [{past[0].start}, {past[0].end}) (the text has "
        f"{len(last.text)} characters); check that the texts are the ones that were coded"
    )
    # the same as cutting the selection by hand
    past[0].end = len(last.text)
    cut_by_hand = coder_agreement(project)
    assert cut_by_hand.warnings == ()
    pd.testing.assert_frame_equal(result.table, cut_by_hand.table)
    assert 0.5 < result.overall["unitized_alpha"] < 1


def test_a_selection_starting_past_the_end_of_its_text_is_left_out():
    text = "First line.\nSecond line."
    spans = [(0, 11, "A", "ann"), (0, 11, "A", "bob"), (12, 24, "B", "ann"), (30, 40, "B", "bob")]
    result = coder_agreement(build_project([("s", text, spans)], codes=["A", "B"]))
    assert result.warnings[0].startswith("1 selection(s) end past the end of their source's text")
    assert "[30, 40) (the text has 24 characters)" in result.warnings[0]
    assert result.table.loc["B", "applied"] == 1  # only ann's B on line 2 remains
