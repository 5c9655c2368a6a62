"""The one-way ANOVA ICC on unbalanced clusters against statsmodels' ANOVA table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from moclab.analysis.clustering import design_effect, icc_oneway


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
    # Unused codes (a cluster with no rows) change nothing.
    assert icc_oneway(values, codes * 2) == pytest.approx(expected, rel=1e-12)


def test_icc_oneway_needs_two_clusters_and_replication() -> None:
    assert math.isnan(icc_oneway(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 0])))
    assert math.isnan(icc_oneway(np.array([1.0, 2.0, 3.0]), np.array([0, 1, 2])))


def test_design_effect_is_kish_with_negative_icc_floored() -> None:
    assert design_effect(0.05, np.array([10, 20, 30])) == pytest.approx(1 + 19 * 0.05)
    assert design_effect(-0.02, np.array([10, 20])) == 1.0
    assert math.isnan(design_effect(math.nan, np.array([10, 20])))
