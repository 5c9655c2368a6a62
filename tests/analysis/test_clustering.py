"""The one-way ANOVA ICC (moclab's one implementation) on unequal clusters against statsmodels' ANOVA."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from moclab.analysis.clustering import ICC_ANOVA_ESTIMATOR, design_effect, icc_oneway, oneway_anova_icc


def test_icc_oneway_unbalanced_equals_anova_mean_squares_with_effective_cluster_size() -> None:
    rng = np.random.default_rng(4)
    sizes = np.array([2, 3, 5, 8, 4, 6, 3, 9])
    codes = np.repeat(np.arange(sizes.size), sizes)
    values = rng.normal(size=sizes.size)[codes] + rng.normal(size=codes.size)
    table = anova_lm(smf.ols("v ~ C(g)", pd.DataFrame({"v": values, "g": codes})).fit())
    msb, msw = table["mean_sq"].iloc[0], table["mean_sq"].iloc[1]
    n = sizes.sum()
    # Snijders & Bosker (2012, sec. 3.3.1): effective cluster size for unequal clusters.
    n_tilde = (n - (sizes**2).sum() / n) / (sizes.size - 1)
    expected = (msb - msw) / (msb + (n_tilde - 1) * msw)
    assert icc_oneway(values, codes) == pytest.approx(expected, rel=1e-12)
    anova = oneway_anova_icc(values, codes)
    assert (anova.msb, anova.msw, anova.n0) == pytest.approx((msb, msw, n_tilde), rel=1e-12)
    assert anova.f == pytest.approx(table["F"].iloc[0], rel=1e-12)
    assert anova.p == pytest.approx(table["PR(>F)"].iloc[0], rel=1e-9)
    assert (anova.df_between, anova.df_within, anova.groups, anova.n) == (7, sizes.sum() - 8, 8, sizes.sum())
    assert anova.estimator == ICC_ANOVA_ESTIMATOR
    # Unused codes (a cluster with no rows) change nothing.
    assert icc_oneway(values, codes * 2) == pytest.approx(expected, rel=1e-12)


def test_icc_oneway_needs_two_clusters_and_replication() -> None:
    assert math.isnan(icc_oneway(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 0])))
    assert math.isnan(icc_oneway(np.array([1.0, 2.0, 3.0]), np.array([0, 1, 2])))
    constant = oneway_anova_icc(np.ones(6), np.array([0, 0, 1, 1, 2, 2]))
    assert math.isnan(constant.icc1) and math.isnan(constant.f) and math.isnan(constant.p)
    no_within = oneway_anova_icc(np.array([1.0, 1.0, 2.0, 2.0]), np.array([0, 0, 1, 1]))
    assert (no_within.icc1, no_within.icc2, no_within.p) == (1.0, 1.0, 0.0)


def test_design_effect_is_kish_with_negative_icc_floored() -> None:
    assert design_effect(0.05, np.array([10, 20, 30])) == pytest.approx(1 + 19 * 0.05)
    assert design_effect(-0.02, np.array([10, 20])) == 1.0
    assert math.isnan(design_effect(math.nan, np.array([10, 20])))
