"""Random-effects meta-analysis against metafor's published BCG analysis, statsmodels and closed forms."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from moclab.analysis import cluster_indirect_effects, cluster_slopes, meta_analysis
from moclab.errors import DataError

matplotlib.use("Agg")

# BCG vaccine trials (Colditz et al. 1994, JAMA 271:698-702), as tabulated in metafor's dat.bcg: TB cases and
# non-cases among vaccinated (tpos, tneg) and control (cpos, cneg) participants of 13 trials.
BCG = pd.DataFrame(
    {
        "trial": ["Aronson 1948", "Ferguson & Simes 1949", "Rosenthal 1960", "Hart & Sutherland 1977",
                  "Frimodt-Moller 1973", "Stein & Aronson 1953", "Vandiviere 1973", "TPT Madras 1980",
                  "Coetzee & Berjak 1968", "Rosenthal 1961", "Comstock 1974", "Comstock & Webster 1969",
                  "Comstock 1976"],
        "tpos": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
        "tneg": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
        "cpos": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
        "cneg": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
    }
)  # fmt: skip
# Log risk ratios and their sampling variances (metafor's escalc(measure = "RR")).
BCG["log_rr"] = np.log(BCG.tpos / (BCG.tpos + BCG.tneg)) - np.log(BCG.cpos / (BCG.cpos + BCG.cneg))
BCG["se"] = np.sqrt(1 / BCG.tpos - 1 / (BCG.tpos + BCG.tneg) + 1 / BCG.cpos - 1 / (BCG.cpos + BCG.cneg))


def test_escalc_values_match_metafor_readme():
    # yi and vi printed in metafor's README for trials 1 and 8.
    assert BCG.log_rr.iloc[0] == pytest.approx(-0.8893, abs=1e-4)
    assert BCG.se.iloc[0] ** 2 == pytest.approx(0.3256, abs=1e-4)
    assert BCG.log_rr.iloc[7] == pytest.approx(0.0120, abs=1e-4)


def test_reml_matches_metafor_bcg():
    """metafor 4.x, rma(yi, vi, data = dat) on dat.bcg: tau^2 = 0.3132 (SE = 0.1664), I^2 = 92.22%,
    H^2 = 12.86, Q(12) = 152.2330, estimate -0.7145, se 0.1798, CI [-1.0669, -0.3622]; confint():
    tau^2 CI [0.1197, 1.1115] (Q-profile)."""
    result = meta_analysis(BCG, estimate="log_rr", se="se", label="trial", knapp_hartung=False)
    assert result.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert result.tau == pytest.approx(0.5597, abs=5e-5)
    assert result.tau2_se == pytest.approx(0.1664, abs=5e-5)
    assert result.tau2_ci == pytest.approx((0.1197, 1.1115), abs=5e-5)
    assert result.i2 == pytest.approx(92.22, abs=5e-3)
    assert result.h2 == pytest.approx(12.86, abs=5e-3)
    assert result.q == pytest.approx(152.2330, abs=5e-5) and result.q_df == 12
    pooled = result.pooled
    assert pooled.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert pooled.se == pytest.approx(0.1798, abs=5e-5)
    assert (pooled.ci_low, pooled.ci_high) == pytest.approx((-1.0669, -0.3622), abs=5e-5)
    assert pooled.estimate / pooled.se == pytest.approx(-3.9744, abs=5e-4)


def test_knapp_hartung_matches_metafor_bcg():
    """metafor README: rma(yi, vi, data = dat, test = "knha"): se 0.1808, t(12) = -3.9522, p = 0.0019,
    CI [-1.1084, -0.3206]; predict(res, transf = exp): pi [0.14, 1.76] (with t(k - 1))."""
    result = meta_analysis(BCG, estimate="log_rr", se="se", label="trial")
    pooled = result.pooled
    assert pooled.ci_method == "knapp_hartung" and pooled.extra["df"] == 12
    assert pooled.se == pytest.approx(0.1808, abs=5e-5)
    assert pooled.estimate / pooled.se == pytest.approx(-3.9522, abs=5e-4)
    assert pooled.p == pytest.approx(0.0019, abs=5e-5)
    assert (pooled.ci_low, pooled.ci_high) == pytest.approx((-1.1084, -0.3206), abs=5e-5)
    # The prediction interval uses t(k - 2) (Higgins et al. 2009); with metafor's t(k - 1) it is metafor's.
    half = np.sqrt(result.tau2 + pooled.se**2)
    assert result.prediction == pytest.approx(
        (pooled.estimate - stats.t.ppf(0.975, 11) * half, pooled.estimate + stats.t.ppf(0.975, 11) * half)
    )
    metafor_pi = np.exp(pooled.estimate + np.array([-1, 1]) * stats.t.ppf(0.975, 12) * half)
    assert np.round(metafor_pi, 2).tolist() == [0.14, 1.76]


@pytest.mark.parametrize(("method", "statsmodels_method"), [("dl", "chi2"), ("pm", "iterated")])
def test_dl_and_pm_match_statsmodels(method, statsmodels_method):
    reference = combine_effects(
        BCG.log_rr.to_numpy(), BCG.se.to_numpy() ** 2, method_re=statsmodels_method, use_t=True, atol=1e-12
    )
    result = meta_analysis(BCG, estimate="log_rr", se="se", method=method)
    assert result.tau2 == pytest.approx(reference.tau2, rel=1e-8)
    assert result.pooled.estimate == pytest.approx(reference.mean_effect_re, rel=1e-10)
    assert result.pooled.se == pytest.approx(reference.sd_eff_w_re_hksj, rel=1e-8)
    low, high = reference.conf_int(alpha=0.05, use_t=True)[3]
    assert (result.pooled.ci_low, result.pooled.ci_high) == pytest.approx((low, high), rel=1e-8)
    assert result.i2_q == pytest.approx(100 * reference.i2, rel=1e-10)
    assert result.h2_q == pytest.approx(reference.h2, rel=1e-10)
    assert result.q_p == pytest.approx(reference.test_homogeneity().pvalue, rel=1e-10)
    fixed = result.effect("pooled_fixed")
    assert fixed.estimate == pytest.approx(reference.mean_effect_fe) and fixed.se == pytest.approx(
        reference.sd_eff_w_fe
    )
    # metafor (and Stata's metan) for DL on dat.bcg: tau^2 = 0.3088, estimate -0.7141, I^2 = 92.1173.
    if method == "dl":
        assert result.tau2 == pytest.approx(0.3088, abs=5e-5)
        assert result.i2 == pytest.approx(92.1173, abs=5e-4)


def test_reml_maximizes_the_restricted_likelihood():
    """Independent route: maximize the REML log-likelihood numerically (Viechtbauer 2005, eq. 7)."""
    y, v = BCG.log_rr.to_numpy(), BCG.se.to_numpy() ** 2

    def negative_reml(tau2: float) -> float:
        w = 1 / (v + tau2)
        mu = w @ y / w.sum()
        return 0.5 * (np.sum(np.log(v + tau2)) + np.log(w.sum()) + w @ (y - mu) ** 2)

    best = optimize.minimize_scalar(negative_reml, bounds=(0, 5), method="bounded", options={"xatol": 1e-10})
    assert meta_analysis(estimate=y, se=np.sqrt(v)).tau2 == pytest.approx(best.x, abs=1e-6)


def test_pooled_estimate_and_knapp_hartung_se_equal_statsmodels_wls():
    """The random-effects model is a weighted random-intercept regression; with known sampling variances
    the GLS estimate given tau^2 is WLS with weights 1/(v + tau^2) (statsmodels WLS)."""
    y, se = BCG.log_rr.to_numpy(), BCG.se.to_numpy()
    result = meta_analysis(estimate=y, se=se, knapp_hartung=False)
    wls = sm.WLS(y, np.ones_like(y), weights=1 / (se**2 + result.tau2)).fit()
    assert result.pooled.estimate == pytest.approx(wls.params[0], rel=1e-10)
    # WLS rescales by the residual variance; Knapp-Hartung is exactly that scaled SE.
    assert meta_analysis(estimate=y, se=se).pooled.se == pytest.approx(wls.bse[0], rel=1e-8)


def test_homogeneous_studies_give_zero_tau2_and_no_boundary_warning():
    result = meta_analysis(estimate=[0.30, 0.31, 0.29, 0.30, 0.305], se=[0.1, 0.12, 0.09, 0.11, 0.1])
    assert result.tau2 == 0.0 and result.tau2_ci[0] == 0.0
    assert result.i2 == 0.0 and result.q < 4
    assert result.pooled.estimate == pytest.approx(result.effect("pooled_fixed").estimate)


def test_knapp_hartung_coverage_with_few_sites_is_near_nominal():
    """With 6 sites and heterogeneity the KH interval covers the true mean about 95% of the time, the
    normal interval less often (IntHout et al. 2014)."""
    rng = np.random.default_rng(11)
    covered = {True: 0, False: 0}
    replications = 400
    for _ in range(replications):
        se = rng.uniform(0.1, 0.3, 6)
        y = 0.3 + rng.normal(0, 0.2, 6) + rng.normal(0, se)
        for kh in (True, False):
            pooled = meta_analysis(estimate=y, se=se, knapp_hartung=kh).pooled
            covered[kh] += pooled.ci_low <= 0.3 <= pooled.ci_high
    assert 0.91 <= covered[True] / replications <= 0.99
    assert covered[False] < covered[True]


def test_forest_plot_and_renderings():
    result = meta_analysis(BCG, estimate="log_rr", se="se", label="trial", effect_label="log risk ratio")
    ax = result.plot()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Aronson 1948" and labels[-1] == "RE model" and len(labels) == 14
    texts = [t.get_text() for t in ax.texts]
    assert "-0.71 [-1.11, -0.32]" in texts
    assert ax.get_xlabel() == "log risk ratio"
    frame = result.to_frame()
    assert frame.loc["pooled", "kind"] == "pooled" and frame.loc["study[Aronson 1948]", "kind"] == "study"
    assert frame.loc["study[TPT Madras 1980]", "weight"] == pytest.approx(
        result.studies.set_index("label").loc["TPT Madras 1980", "weight"]
    )
    assert result.studies["weight"].sum() == pytest.approx(100.0)
    as_dict = json.loads(json.dumps(result.to_dict()))
    assert as_dict["type"] == "MetaAnalysisResult" and as_dict["tau2"] == pytest.approx(result.tau2)
    assert len(as_dict["studies"]) == 13
    assert "Knapp-Hartung" in result.summary() and "<table" in result._repr_html_()


def test_bad_input_is_explained():
    with pytest.raises(DataError, match="at least two"):
        meta_analysis(estimate=[0.2], se=[0.1])
    with pytest.raises(DataError, match="positive"):
        meta_analysis(estimate=[0.2, 0.3], se=[0.1, 0.0], label=["a", "b"])
    with pytest.raises(DataError, match=r"missing or infinite.*: b"):
        meta_analysis(estimate=[0.2, np.nan], se=[0.1, 0.1], label=["a", "b"])
    with pytest.raises(DataError, match="equal length"):
        meta_analysis(estimate=[0.2, 0.3, 0.4], se=[0.1, 0.1])
    with pytest.raises(DataError, match="unique; repeated: a"):
        meta_analysis(estimate=[0.2, 0.3], se=[0.1, 0.1], label=["a", "a"])
    with pytest.raises(DataError, match="did you mean 'se'"):
        meta_analysis(BCG, estimate="log_rr", se="sei")
    with pytest.raises(DataError, match="no data"):
        meta_analysis(estimate="log_rr", se="se")
    with pytest.raises(DataError, match="method"):
        meta_analysis(estimate=[0.2, 0.3], se=[0.1, 0.1], method="ml")
    with pytest.raises(DataError, match="must be numbers"):
        meta_analysis(estimate=["x", "y"], se=[0.1, 0.1])
    same = meta_analysis(estimate=[0.2, 0.2, 0.2], se=[0.1, 0.2, 0.1])
    assert same.pooled.se == pytest.approx(1 / np.sqrt(100 + 25 + 100)) and "identical" in same.warnings[0]
    two = meta_analysis(estimate=[0.2, 0.5], se=[0.1, 0.1])
    assert np.isnan(two.prediction[0]) and any("prediction interval" in w for w in two.warnings)
    assert any("only 2 studies" in w for w in two.warnings)


# ---------------------------------------------------------------------------------------------------------
# Per-cluster indirect effects
# ---------------------------------------------------------------------------------------------------------


def _clustered(seed: int, sites: int = 10, size: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = np.repeat(np.arange(sites), size)
    dose = rng.normal(size=site.size)
    age = rng.normal(40, 10, site.size)
    trust = (0.5 + rng.normal(0, 0.15, sites)[site]) * dose + 0.01 * age + rng.normal(size=site.size)
    adoption = 0.4 * trust + 0.1 * dose + rng.normal(size=site.size)
    return pd.DataFrame(
        {"site": [f"s{k}" for k in site], "dose": dose, "age": age, "trust": trust, "adoption": adoption}
    )


def test_per_cluster_paths_equal_statsmodels_ols_in_each_cluster():
    frame = _clustered(1)
    result = cluster_indirect_effects(
        frame, x="dose", m="trust", y="adoption", cluster="site", covariates=["age"]
    )
    table = result.table.set_index("cluster")
    for site, rows in frame.groupby("site"):
        med = sm.OLS(rows.trust, sm.add_constant(rows[["dose", "age"]])).fit()
        out = sm.OLS(rows.adoption, sm.add_constant(rows[["dose", "trust", "age"]])).fit()
        assert table.loc[site, "a"] == pytest.approx(med.params["dose"], rel=1e-9)
        assert table.loc[site, "se_a"] == pytest.approx(med.bse["dose"], rel=1e-9)
        assert table.loc[site, "b"] == pytest.approx(out.params["trust"], rel=1e-9)
        assert table.loc[site, "se_b"] == pytest.approx(out.bse["trust"], rel=1e-9)
        assert table.loc[site, "direct"] == pytest.approx(out.params["dose"], rel=1e-9)
        sobel = np.sqrt(
            out.params["trust"] ** 2 * med.bse["dose"] ** 2 + med.params["dose"] ** 2 * out.bse["trust"] ** 2
        )
        assert table.loc[site, "se_indirect"] == pytest.approx(sobel, rel=1e-9)
    assert result.effect("indirect[s0]").ci_method == "delta"
    assert not result.warnings


def test_pooled_per_cluster_indirect_effect_recovers_the_truth():
    result = cluster_indirect_effects(
        _clustered(2, sites=12, size=150), x="dose", m="trust", y="adoption", cluster="site"
    )
    pooled = result.pool("indirect")
    assert pooled.k == 12 and pooled.effect_label == "indirect effect (a·b)"
    assert pooled.pooled.ci_low < 0.2 < pooled.pooled.ci_high
    a_paths = result.pool("a", method="dl")
    assert a_paths.pooled.ci_low < 0.5 < a_paths.pooled.ci_high
    assert a_paths.tau2 > 0  # the a paths truly vary across sites (SD 0.15)


def test_small_and_inestimable_clusters_are_reported():
    frame = _clustered(3, sites=6, size=15)
    tiny = pd.DataFrame({"site": ["tiny"] * 3, "dose": [0.1, 0.2, 0.3], "age": [30.0, 40, 50],
                         "trust": [1.0, 2, 3], "adoption": [0.0, 1, 1]})  # fmt: skip
    result = cluster_indirect_effects(
        pd.concat([frame, tiny]), x="dose", m="trust", y="adoption", cluster="site", covariates=["age"]
    )
    assert result.dropped == ("tiny",) and result.table.shape[0] == 6
    assert any("dropped" in w and "tiny" in w for w in result.warnings)
    assert any("fewer than 20 rows" in w for w in result.warnings)
    assert any("fewer than 20 rows" in w for w in result.pool().warnings)


def test_site_level_strategy_is_refused_with_advice():
    frame = _clustered(4)
    frame["arm"] = frame.site.isin(["s1", "s3", "s5"]).astype(int)
    with pytest.raises(DataError, match="does not vary within any cluster"):
        cluster_indirect_effects(frame, x="arm", m="trust", y="adoption", cluster="site")
    with pytest.raises(DataError, match="not in the data"):
        cluster_indirect_effects(frame, x="dose", m="trsut", y="adoption", cluster="site")
    frame["label"] = "x"
    with pytest.raises(DataError, match="numeric"):
        cluster_indirect_effects(frame, x="dose", m="label", y="adoption", cluster="site")


# -- per-cluster slopes (the b path of a site-level strategy) ----------------------------------------------


def test_per_cluster_slopes_equal_statsmodels_ols_in_each_cluster():
    frame = _clustered(5)
    frame["arm"] = frame.site.isin(["s1", "s3", "s5"]).astype(float)  # constant within sites: not a covariate
    result = cluster_slopes(frame, x="trust", y="adoption", cluster="site", covariates=["age", "dose"])
    table = result.table.set_index("cluster")
    for site, rows in frame.groupby("site"):
        fit = sm.OLS(rows.adoption, sm.add_constant(rows[["trust", "age", "dose"]])).fit()
        assert table.loc[site, "slope"] == pytest.approx(fit.params["trust"], rel=1e-9)
        assert table.loc[site, "se_slope"] == pytest.approx(fit.bse["trust"], rel=1e-9)
        assert table.loc[site, "df"] == fit.df_resid
        effect = result.effect(f"slope[{site}]")
        low, high = fit.conf_int().loc["trust"]
        assert (effect.ci_low, effect.ci_high, effect.p) == pytest.approx((low, high, fit.pvalues["trust"]))
    pooled = result.pool()
    reference = meta_analysis(estimate=result.table["slope"], se=result.table["se_slope"])
    assert pooled.pooled.estimate == pytest.approx(reference.pooled.estimate, rel=1e-12)
    assert pooled.prediction == pytest.approx(reference.prediction, rel=1e-12)
    assert pooled.effect_label == "slope of adoption on trust"


def test_per_cluster_slopes_drop_and_refuse_what_cannot_be_estimated():
    frame = _clustered(6, sites=4, size=30)
    flat = frame.site == "s0"
    frame.loc[flat, "trust"] = 2.0  # the predictor is constant in one site
    result = cluster_slopes(frame, x="trust", y="adoption", cluster="site")
    assert result.dropped == ("s0",) and any("s0" in w for w in result.warnings)
    with pytest.raises(DataError, match="only 1 cluster"):
        cluster_slopes(frame[frame.site.isin(["s0", "s1"])], x="trust", y="adoption", cluster="site")
    with pytest.raises(DataError, match="'trsut' is not in the data"):
        cluster_slopes(frame, x="trsut", y="adoption", cluster="site")
