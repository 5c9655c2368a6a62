"""`arm_variance_ratio`: spread of a site-level strategy's effect, seen in the variance of site means by arm.

References: the F distribution of a ratio of two independent sample variances of normal data (Snedecor &
Cochran 1989, §6.12), computed here by hand from pandas group means and `scipy.stats.f`; and its operating
characteristics by simulation (size near α without heterogeneity, power with it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from moclab.analysis import arm_variance_ratio
from moclab.errors import DataError


def _sites(rng, sites=30, size=25, effect_sd=0.0, mean_effect=0.4):
    site = np.repeat(np.arange(sites), size)
    arm = (np.arange(sites) % 2).astype(float)[site]
    effect = mean_effect + effect_sd * rng.normal(size=sites)
    baseline = rng.normal(0, 0.3, sites)[site] + rng.normal(size=site.size)
    trust = 0.5 * baseline + effect[site] * arm + rng.normal(0, 0.2, sites)[site] + rng.normal(size=site.size)
    return pd.DataFrame({"site": site, "arm": arm, "baseline": baseline, "trust": trust})


def test_the_ratio_is_the_f_test_of_residualized_site_means():
    frame = _sites(np.random.default_rng(1))
    result = arm_variance_ratio(frame, arm="arm", y="trust", cluster="site", covariates=["baseline"])
    residual = sm.OLS(frame.trust, sm.add_constant(frame[["baseline"]])).fit().resid
    means = residual.groupby(frame.site).mean()
    arms = frame.groupby("site").arm.first()
    treated, control = means[arms == 1], means[arms == 0]
    ratio = treated.var(ddof=1) / control.var(ddof=1)
    df = (len(treated) - 1, len(control) - 1)
    effect = result.effect("ratio")
    assert effect.estimate == pytest.approx(ratio, rel=1e-10)
    assert effect.p == pytest.approx(stats.f.sf(ratio, *df), rel=1e-10)
    assert effect.ci_low == pytest.approx(ratio / stats.f.ppf(0.975, *df), rel=1e-10)
    assert effect.ci_high == pytest.approx(ratio / stats.f.ppf(0.025, *df), rel=1e-10)
    assert result.effect("tau2_difference").estimate == pytest.approx(
        max(treated.var(ddof=1) - control.var(ddof=1), 0.0), rel=1e-10
    )
    assert result.info["clusters_per_arm"] == {"strategy": 15, "control": 15}


def test_size_near_alpha_without_heterogeneity_and_power_with_it():
    rng = np.random.default_rng(2)
    calm = [
        arm_variance_ratio(_sites(rng), arm="arm", y="trust", cluster="site", covariates=["baseline"])
        for _ in range(400)
    ]
    size = np.mean([r.effect("ratio").p < 0.05 for r in calm])
    assert 0.02 <= size <= 0.08, size  # binomial SD at .05 with 400 replications: .011
    varied = [
        arm_variance_ratio(
            _sites(rng, effect_sd=0.6), arm="arm", y="trust", cluster="site", covariates=["baseline"]
        )
        for _ in range(200)
    ]
    power = np.mean([r.effect("ratio").p < 0.05 for r in varied])
    assert power > 0.8, power


def test_bad_input_is_explained():
    frame = _sites(np.random.default_rng(3), sites=6)
    with pytest.raises(DataError, match="'trsut' is not in the data"):
        arm_variance_ratio(frame, arm="arm", y="trsut", cluster="site")
    mixed = frame.assign(arm=np.arange(len(frame)) % 2)
    with pytest.raises(DataError, match="varies within 6 cluster"):
        arm_variance_ratio(mixed, arm="arm", y="trust", cluster="site")
    with pytest.raises(DataError, match="coded 0"):
        arm_variance_ratio(frame.assign(arm=frame.arm * 2), arm="arm", y="trust", cluster="site")
    with pytest.raises(DataError, match="at least two clusters"):
        arm_variance_ratio(frame[frame.site.isin([0, 1, 2])], arm="arm", y="trust", cluster="site")
