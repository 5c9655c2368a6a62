"""Prevalence by case attribute: Fisher's exact test against scipy and a hand table; Freeman–Halton; Holm."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qual_builders import build_project
from scipy import stats
from statsmodels.stats.multitest import multipletests

from moclab.errors import QualError
from moclab.qual.prevalence import freeman_halton_2xk, prevalence_by_attribute


def _project(levels: list[str], mentions: dict[str, list[int]]):
    """One case per level entry; `mentions[code]` lists the indexes of the cases that mention the code."""
    sources = []
    for i in range(len(levels)):
        spans = [(0, 4, code, None) for code, cases in mentions.items() if i in cases]
        sources.append((f"s{i}", "text of the interview", spans))
    cases = {f"R{i:02d}": ([f"s{i}"], {"engagement": level}) for i, level in enumerate(levels)}
    return build_project(sources, codes=list(mentions), cases=cases)


def test_two_levels_fisher_by_hand_and_scipy():
    levels = ["high"] * 6 + ["limited"] * 6
    # Trust: 5 of 6 high, 1 of 6 limited. Hand: the 2x2 table [[5,1],[1,5]] has hypergeometric probabilities
    # C(6,x)C(6,6-x)/C(12,6); tables as or less probable than x=5 are x in {0,1,5,6}: (1+36+36+1)/924
    project = _project(levels, {"Trust": [0, 1, 2, 3, 4, 6], "Knowledge": [0, 6]})
    result = prevalence_by_attribute(project, "engagement")
    trust = result.table.set_index("code").loc["Trust"]
    assert (trust["n_high"], trust["of_high"], trust["n_limited"], trust["of_limited"]) == (5, 6, 1, 6)
    assert trust["p"] == pytest.approx((1 + 36 + 36 + 1) / math.comb(12, 6))
    assert trust["p"] == pytest.approx(stats.fisher_exact([[5, 1], [1, 5]]).pvalue)
    assert trust["odds_ratio"] == pytest.approx(25.0)
    assert trust["pct_high"] == pytest.approx(500 / 6)
    p = result.table["p"].to_numpy()
    assert result.table["p_holm"].to_numpy() == pytest.approx(multipletests(p, method="holm")[1])
    assert result.levels == ("high", "limited")
    assert any("few interviews" in w for w in result.warnings)


def test_three_levels_use_exact_freeman_halton():
    levels = ["a", "a", "b", "b", "c", "c"]
    project = _project(levels, {"Trust": [0, 1, 4]})
    row = prevalence_by_attribute(project, "engagement").table.iloc[0]
    exact = stats.fisher_exact([[2, 0, 1], [0, 2, 1]], method=stats.PermutationMethod(n_resamples=np.inf))
    assert row["p"] == pytest.approx(exact.pvalue)
    assert row["method"] == "exact (Freeman–Halton)"


def test_freeman_halton_equals_fisher_on_2x2_and_handles_edges():
    for table in ([[3, 1], [1, 5]], [[0, 4], [5, 1]], [[2, 7], [8, 2]]):
        assert freeman_halton_2xk(table)[0] == pytest.approx(stats.fisher_exact(table).pvalue)
    assert freeman_halton_2xk([[0, 0, 0], [2, 3, 1]]) == (1.0, "exact (one table)")
    p, method = freeman_halton_2xk([[3, 1, 4, 0], [1, 4, 1, 3]], max_tables=10, n_resamples=20000, seed=1)
    assert method.startswith("Monte Carlo")
    assert p == pytest.approx(freeman_halton_2xk([[3, 1, 4, 0], [1, 4, 1, 3]])[0], abs=0.01)
    with pytest.raises(QualError, match="2×k"):
        freeman_halton_2xk([[1, 2], [3, 4], [5, 6]])


def test_levels_missing_values_and_bad_attributes():
    project = _project(["high", "limited", "high", ""], {"Trust": [0, 1]})
    result = prevalence_by_attribute(project, "engagement", levels=["limited", "high"])
    assert result.levels == ("limited", "high")
    assert any("1 interview(s) without" in w for w in result.warnings)
    with pytest.raises(QualError, match="no interview has a value"):
        prevalence_by_attribute(project, "Engagement")
    with pytest.raises(QualError, match="no level other"):
        prevalence_by_attribute(project, "engagement", levels=["high", "other"])
    with pytest.raises(QualError, match="only one level"):
        prevalence_by_attribute(_project(["x", "x"], {"Trust": [0]}), "engagement")
