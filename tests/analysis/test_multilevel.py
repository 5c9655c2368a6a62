"""Multilevel mediation: 2-1-1 against OLS on cluster means and statsmodels, ICCs, input checks, warnings."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import integrate, optimize, stats

import moclab.analysis.multilevel as multilevel
from moclab.analysis.multilevel import ICC_REML_ESTIMATOR, MultilevelMediationResult, icc, multilevel_mediate
from moclab.errors import DataError


def two_one_one(seed: int, clusters: int = 60, size: int | np.ndarray = 8) -> pd.DataFrame:
    """Site-randomized strategy: a = 0.4, b (between) = 0.5, b (within) = 0.3, c' = 0.2."""
    rng = np.random.default_rng(seed)
    sizes = np.full(clusters, size) if np.isscalar(size) else np.asarray(size)
    site = np.repeat(np.arange(clusters), sizes)
    arm = np.repeat(rng.permutation(np.arange(clusters) % 2), sizes).astype(float)
    m = 0.4 * arm + rng.normal(0, 0.5, clusters)[site] + rng.normal(size=site.size)
    m_mean = pd.Series(m).groupby(site).transform("mean").to_numpy()
    y = (
        0.5 * m_mean
        + 0.3 * (m - m_mean)
        + 0.2 * arm
        + rng.normal(0, 0.4, clusters)[site]
        + rng.normal(size=site.size)
    )
    return pd.DataFrame({"site": site, "arm": arm, "trust": m, "adoption": y})


def one_one_one(seed: int, clusters: int, size: int, *, slope_sd: float = 0.4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(clusters), size)
    a_j = 0.5 + slope_sd * rng.normal(size=clusters)
    x = rng.normal(size=team.size) + rng.normal(0, 0.5, clusters)[team]
    m = a_j[team] * x + rng.normal(0, 0.7, clusters)[team] + rng.normal(size=team.size)
    y = 0.4 * m + 0.2 * x + rng.normal(0, 0.5, clusters)[team] + rng.normal(size=team.size)
    return pd.DataFrame({"team": team, "x": x, "m": m, "y": y})


def cluster_means(frame: pd.DataFrame, cluster: str) -> pd.DataFrame:
    return frame.groupby(cluster).mean()


# --------------------------------------------------------------------------------------------------------
# 2-1-1
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def balanced_211() -> tuple[pd.DataFrame, MultilevelMediationResult]:
    frame = two_one_one(1)
    result = multilevel_mediate(frame, x="arm", m="trust", y="adoption", cluster="site", n_mc=200_000, seed=2)
    return frame, result


def test_211_design_is_inferred_and_paths_are_between(balanced_211) -> None:
    _, result = balanced_211
    assert result.design == "2-1-1"
    assert result.info["primary_level"] == "between"
    frame = result.to_frame()
    assert list(frame.index) == ["a", "b", "direct", "b_within", "indirect", "total"]
    assert frame.loc["b_within", "effect_level"] == "within"
    assert set(frame.loc[["a", "b", "direct", "indirect", "total"], "effect_level"]) == {"between"}
    assert result.icc["x"] == 1.0
    assert result.effect("indirect").estimate == pytest.approx(
        result.effect("a").estimate * result.effect("b").estimate
    )


def test_211_balanced_paths_equal_ols_on_cluster_means(balanced_211) -> None:
    """Equal cluster sizes: GLS for cluster-level predictors is OLS on the cluster means, SEs included."""
    frame, result = balanced_211
    means = cluster_means(frame, "site")
    a_model = sm.OLS(means.trust, sm.add_constant(means[["arm"]])).fit()
    assert result.effect("a").estimate == pytest.approx(a_model.params["arm"], abs=1e-6)
    assert result.effect("a").se == pytest.approx(a_model.bse["arm"], rel=1e-4)
    y_model = sm.OLS(means.adoption, sm.add_constant(means[["trust", "arm"]])).fit()
    assert result.effect("b").estimate == pytest.approx(y_model.params["trust"], abs=1e-6)
    assert result.effect("b").se == pytest.approx(y_model.bse["trust"], rel=1e-4)
    assert result.effect("direct").estimate == pytest.approx(y_model.params["arm"], abs=1e-6)
    assert result.effect("direct").se == pytest.approx(y_model.bse["arm"], rel=1e-4)


def test_211_within_slope_is_the_within_cluster_regression(balanced_211) -> None:
    """The within slope of M is the demeaned (fixed-effects) regression: V⁻¹ leaves deviations alone."""
    frame, result = balanced_211
    demeaned = frame[["trust", "adoption"]] - frame.groupby("site")[["trust", "adoption"]].transform("mean")
    slope = float(demeaned.trust @ demeaned.adoption / (demeaned.trust @ demeaned.trust))
    residual = demeaned.adoption - slope * demeaned.trust
    n, clusters = len(frame), frame.site.nunique()
    se = math.sqrt(float(residual @ residual) / (n - clusters - 1) / float(demeaned.trust @ demeaned.trust))
    assert result.effect("b_within").estimate == pytest.approx(slope, abs=1e-6)
    assert result.effect("b_within").se == pytest.approx(se, rel=1e-4)


def product_normal_quantile(p: float, mean_a: float, sd_a: float, mean_b: float, sd_b: float) -> float:
    """Quantile of A·B for independent normals, by integrating P(A·B ≤ t) = E_A[P(B ≤ t/A or ≥ t/A)]."""

    def cdf(t: float) -> float:
        def integrand(u: float) -> float:
            if u == 0:
                return stats.norm.pdf(u, mean_a, sd_a) * float(t >= 0)
            z = stats.norm.cdf(t / u, mean_b, sd_b)
            return stats.norm.pdf(u, mean_a, sd_a) * (z if u > 0 else 1 - z)

        low, high = mean_a - 12 * sd_a, mean_a + 12 * sd_a
        points = [0.0] if low < 0 < high else None
        return integrate.quad(integrand, low, high, points=points, limit=200, epsabs=1e-12)[0]

    centre, spread = mean_a * mean_b, 10 * math.hypot(mean_a * sd_b, mean_b * sd_a) + sd_a * sd_b
    return optimize.brentq(lambda t: cdf(t) - p, centre - spread, centre + spread, xtol=1e-10)


def test_211_monte_carlo_interval_matches_exact_product_distribution(balanced_211) -> None:
    """a and b come from separate models, so the indirect effect is a product of independent normals, whose
    quantiles can be computed exactly (Meeker & Escobar, 1994; MacKinnon et al., 2007, PRODCLIN)."""
    _, result = balanced_211
    a, b, indirect = (result.effect(name) for name in ("a", "b", "indirect"))
    low = product_normal_quantile(0.025, a.estimate, a.se, b.estimate, b.se)
    high = product_normal_quantile(0.975, a.estimate, a.se, b.estimate, b.se)
    # Monte Carlo error of a 2.5% quantile with 200,000 draws is about 0.006 SE of the product.
    assert indirect.ci_low == pytest.approx(low, abs=0.03 * indirect.se)
    assert indirect.ci_high == pytest.approx(high, abs=0.03 * indirect.se)
    exact_sd = math.sqrt(b.estimate**2 * a.se**2 + a.estimate**2 * b.se**2 + a.se**2 * b.se**2)
    assert indirect.se == pytest.approx(exact_sd, rel=0.01)


def test_211_unbalanced_a_path_equals_statsmodels_mixedlm() -> None:
    sizes = np.random.default_rng(4).integers(3, 15, size=50)
    frame = two_one_one(3, clusters=50, size=sizes)
    result = multilevel_mediate(frame, x="arm", m="trust", y="adoption", cluster="site", n_mc=2000, seed=1)
    reference = smf.mixedlm("trust ~ arm", frame, groups=frame["site"]).fit(reml=True)
    assert result.effect("a").estimate == pytest.approx(reference.params["arm"], abs=1e-5)
    assert result.effect("a").se == pytest.approx(reference.bse["arm"], rel=1e-3)
    assert result.info["cluster_size"]["min"] == sizes.min()
    assert result.info["cluster_size"]["max"] == sizes.max()
    assert result.info["design_effect"]["m"] == pytest.approx(1 + (sizes.mean() - 1) * result.icc["m"])


def test_211_zero_intercept_variance_is_flagged() -> None:
    """The outcome's site means are exactly 0.5·(site mean of m) + 0.2·arm: no site variance is left over."""
    frame = two_one_one(6, clusters=40, size=6)
    site_mean = frame.groupby("site").trust.transform("mean")
    noise = np.random.default_rng(7).normal(size=len(frame))
    noise -= pd.Series(noise).groupby(frame.site).transform("mean").to_numpy()
    frame["adoption"] = 0.5 * site_mean + 0.3 * (frame.trust - site_mean) + 0.2 * frame.arm + noise
    result = multilevel_mediate(frame, x="arm", m="trust", y="adoption", cluster="site", n_mc=2000, seed=1)
    assert result.info["random_effects"]["adoption intercept"]["adoption intercept"] < 1e-6
    assert any(
        "random-intercept variance of 'adoption' is estimated at (or near) zero" in w for w in result.warnings
    )
    assert result.effect("b").estimate == pytest.approx(0.5, abs=1e-6)
    assert result.effect("direct").estimate == pytest.approx(0.2, abs=1e-6)


def test_211_with_few_sites_warns() -> None:
    frame = two_one_one(5, clusters=16, size=10)
    result = multilevel_mediate(frame, x="arm", m="trust", y="adoption", cluster="site", n_mc=2000, seed=1)
    assert any("16 clusters" in w and "too narrow" in w for w in result.warnings)


# --------------------------------------------------------------------------------------------------------
# ICC and design effect
# --------------------------------------------------------------------------------------------------------


def test_icc_balanced_reml_equals_anova_closed_form() -> None:
    rng = np.random.default_rng(8)
    clusters, size = 30, 7
    codes = np.repeat(np.arange(clusters), size)
    values = rng.normal(0, 0.9, clusters)[codes] + rng.normal(0, 1.5, clusters * size)
    frame = pd.DataFrame({"site": codes, "v": values})
    means = np.bincount(codes, weights=values) / size
    msb = size * np.sum((means - values.mean()) ** 2) / (clusters - 1)
    msw = np.sum((values - means[codes]) ** 2) / (clusters * (size - 1))
    closed_form = (msb - msw) / (msb + (size - 1) * msw)
    assert icc(frame, "v", "site", method="anova") == pytest.approx(closed_form, abs=1e-12)
    assert icc(frame, "v", "site") == pytest.approx(closed_form, abs=1e-5)


def test_icc_unbalanced_matches_statsmodels_random_intercept() -> None:
    frame = two_one_one(9, clusters=40, size=np.random.default_rng(1).integers(2, 12, size=40))
    fitted = smf.mixedlm("adoption ~ 1", frame, groups=frame["site"]).fit(reml=True)
    tau = float(fitted.cov_re.iloc[0, 0])
    assert icc(frame, "adoption", "site") == pytest.approx(tau / (tau + fitted.scale), abs=1e-4)


def test_icc_of_a_cluster_level_variable_is_one() -> None:
    frame = two_one_one(1, clusters=10, size=4)
    assert icc(frame, "arm", "site") == 1.0
    assert icc(frame, "arm", "site", method="anova") == 1.0


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"g": [1, 1, 1], "v": [1.0, 2.0, 3.0]}), "at least two clusters"),
        (pd.DataFrame({"g": [1, 2, 3], "v": [1.0, 2.0, 3.0]}), "single row"),
        (pd.DataFrame({"g": [1, 1, 2, 2], "v": [1.0, 1.0, 1.0, 1.0]}), "the variable 'v' is constant"),
        (pd.DataFrame({"g": [1, 1, 2, 2], "v": ["a", "b", "c", "d"]}), "the variable 'v' is not numeric"),
    ],
)
def test_icc_rejects_bad_input(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=message):
        icc(frame, "v", "g")


def test_icc_names_a_missing_column() -> None:
    with pytest.raises(DataError, match="the variable column 'score' is not in the data"):
        icc(pd.DataFrame({"g": [1, 2], "v": [1.0, 2.0]}), "score", "g")


# --------------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_111() -> pd.DataFrame:
    return one_one_one(11, clusters=40, size=6)


def run(frame: pd.DataFrame, **options) -> MultilevelMediationResult:
    arguments = {"x": "x", "m": "m", "y": "y", "cluster": "team", "n_mc": 2000, "seed": 0, **options}
    return multilevel_mediate(frame, **arguments)


def test_too_few_clusters_is_an_error(small_111: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="only 4 clusters"):
        run(small_111[small_111.team < 4])


def test_unclustered_data_is_an_error(small_111: pd.DataFrame) -> None:
    frame = small_111.assign(team=np.arange(len(small_111)))
    with pytest.raises(DataError, match="single row"):
        run(frame)


def test_constant_variable_is_an_error(small_111: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"the mediator 'm' is constant \(every analysed row is 2\)"):
        run(small_111.assign(m=2.0))


def test_mediator_without_within_cluster_variation_is_an_error(small_111: pd.DataFrame) -> None:
    frame = small_111.assign(m=small_111.groupby("team").m.transform("mean"))
    with pytest.raises(DataError, match="mediator 'm' does not vary within any cluster"):
        run(frame)


def test_outcome_without_within_cluster_variation_is_an_error(small_111: pd.DataFrame) -> None:
    frame = small_111.assign(y=small_111.groupby("team").y.transform("mean"))
    with pytest.raises(DataError, match="outcome 'y' does not vary within any cluster"):
        run(frame)


def test_design_must_match_the_level_of_x(small_111: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'x' varies within 40 clusters"):
        run(small_111, design="2-1-1")
    frame = two_one_one(1, clusters=10, size=4)
    with pytest.raises(DataError, match="does not vary within any cluster: it is a cluster-level variable"):
        multilevel_mediate(frame, x="arm", m="trust", y="adoption", cluster="site", design="1-1-1")


def test_uncentred_211_is_refused() -> None:
    frame = two_one_one(1, clusters=10, size=4)
    with pytest.raises(DataError, match="center='none' is not available for a 2-1-1 design"):
        multilevel_mediate(frame, x="arm", m="trust", y="adoption", cluster="site", center="none")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"x": "dose"}, "the strategy column 'dose' is not in the data"),
        ({"m": "x"}, r"column 'x' is used in more than one role \(strategy and mediator\)"),
        ({"design": "3-1-1"}, "design must be one of '1-1-1', '2-1-1', None, not '3-1-1'"),
        ({"center": "grand"}, "center must be one of 'within', 'none', not 'grand'"),
        ({"level": 1.5}, r"level \(the confidence level\) must be a number from 0.5 to below 1, not 1.5"),
        ({"n_mc": 10}, r"n_mc \(Monte Carlo draws\) must be a whole number of at least 1000, not 10"),
        (
            {"residuals": "robust"},
            "residuals must be one of 'heteroscedastic', 'homoscedastic', not 'robust'",
        ),
        ({"covariates": ["age"]}, "the covariate column 'age' is not in the data"),
    ],
)
def test_bad_options_name_the_parameter(small_111: pd.DataFrame, options: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        run(small_111, **options)


def test_non_numeric_columns_are_errors(small_111: pd.DataFrame) -> None:
    frame = small_111.assign(x=np.where(small_111.x > 0, "coach", "control"))
    with pytest.raises(DataError, match=r"the strategy 'x' is not numeric \(values such as 'coach'"):
        run(frame)
    frame = small_111.assign(role=np.where(small_111.m > 0, "nurse", "physician"))
    with pytest.raises(DataError, match="the covariate 'role' is not numeric"):
        run(frame, covariates=["role"])


def test_collinear_covariate_is_an_error(small_111: pd.DataFrame) -> None:
    frame = small_111.assign(x_copy=2 * small_111.x + 1)
    with pytest.raises(DataError, match=r"in the 'm' model, 'x_copy' is \(nearly\) a linear combination"):
        run(frame, covariates=["x_copy"], random_slopes=False, center="none")


def test_missing_values_are_dropped_listwise_and_reported(small_111: pd.DataFrame) -> None:
    frame = small_111.copy()
    frame.loc[[0, 5, 9], "m"] = np.nan
    frame.loc[[9, 20], "y"] = np.nan
    result = run(frame, random_slopes=False)
    assert result.info["n"] == len(frame) - 4
    assert result.info["n_dropped"] == 4
    assert any("4 of 240 rows had missing values (m: 3, y: 2) and were dropped" in w for w in result.warnings)


# --------------------------------------------------------------------------------------------------------
# Warnings
# --------------------------------------------------------------------------------------------------------


def test_random_slopes_with_fewer_than_30_clusters_warn() -> None:
    frame = one_one_one(12, clusters=20, size=8)
    result = run(frame)
    assert result.info["random_slopes"] is True
    assert any("only 20 clusters for random a and b slopes" in w for w in result.warnings)


def test_fewer_than_10_clusters_warn() -> None:
    frame = one_one_one(13, clusters=8, size=12)
    result = run(frame, random_slopes=False)
    assert any("only 8 clusters: too few" in w for w in result.warnings)


def test_single_row_clusters_are_reported(small_111: pd.DataFrame) -> None:
    frame = small_111.drop(
        index=small_111.index[(small_111.team < 3) & (small_111.groupby("team").cumcount() > 0)]
    )
    result = run(frame, random_slopes=False)
    assert result.info["n_single_row_clusters"] == 3
    assert any("3 of 40 clusters have a single row" in w for w in result.warnings)


def test_x_centred_in_advance_has_no_between_effects() -> None:
    frame = one_one_one(14, clusters=40, size=6)
    frame["x"] = frame.x - frame.groupby("team").x.transform("mean")
    result = run(frame, random_slopes=False)
    assert "a_between" not in result.to_frame().index
    assert "indirect_between" not in result.to_frame().index
    assert "b_between" in result.to_frame().index
    assert any("same mean in every cluster" in w for w in result.warnings)


def test_slope_variance_at_zero_is_flagged_as_boundary() -> None:
    """Every cluster's own regression of m on x has slope exactly 0.5: the data hold no slope variance."""
    rng = np.random.default_rng(15)
    clusters, size = 40, 8
    team = np.repeat(np.arange(clusters), size)
    x = rng.normal(size=team.size)
    noise = rng.normal(size=team.size)
    for j in range(clusters):
        rows = team == j
        design = np.column_stack([np.ones(size), x[rows]])
        noise[rows] -= design @ np.linalg.lstsq(design, noise[rows], rcond=None)[0]
    m = 0.5 * x + rng.normal(0, 0.6, clusters)[team] + noise
    y = 0.4 * m + rng.normal(0, 0.5, clusters)[team] + rng.normal(size=team.size)
    result = run(pd.DataFrame({"team": team, "x": x, "m": m, "y": y}))
    assert any("boundary" in w and "a: x (within)" in w for w in result.warnings)


def test_non_convergence_is_reported(monkeypatch: pytest.MonkeyPatch, small_111: pd.DataFrame) -> None:
    fit_stacked = multilevel.fit_stacked
    monkeypatch.setattr(
        multilevel, "fit_stacked", lambda *a, **k: dataclasses.replace(fit_stacked(*a, **k), converged=False)
    )
    result = run(small_111, random_slopes=False)
    assert result.info["converged"] is False
    assert any("did not converge" in w for w in result.warnings)


# --------------------------------------------------------------------------------------------------------
# Result object
# --------------------------------------------------------------------------------------------------------


def test_result_reports_clustering_prominently(small_111: pd.DataFrame) -> None:
    result = run(small_111, random_slopes=False)
    text = result.summary()
    first_lines = text.splitlines()[:3]
    assert first_lines[0].startswith("Multilevel mediation: 1-1-1 design")
    assert "240 rows in 40 clusters" in first_lines[1]
    # the ICC line names its estimator: REML variance components, not the one-way ANOVA of `mediate`
    assert first_lines[2].startswith("ICC(1), REML variance components of a random-intercept model: x ")
    assert "design effect" in first_lines[2] and result.info["icc_estimator"] == ICC_REML_ESTIMATOR
    assert str(result) == text
    html = result._repr_html_()
    assert "40 clusters" in html and "ICC" in html
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["info"]["n_clusters"] == 40
    assert payload["type"] == "MultilevelMediationResult"
    for role in ("x", "m", "y"):
        expected = 1 + (6 - 1) * max(result.icc[role], 0.0)
        assert result.info["design_effect"][role] == pytest.approx(expected)
    assert "cov_ab" not in result.to_frame().index  # random intercepts only: no slope covariance


def test_same_seed_same_intervals(small_111: pd.DataFrame) -> None:
    first = run(small_111, random_slopes=False, seed=123)
    second = run(small_111, random_slopes=False, seed=np.random.default_rng(123))
    assert first.effect("indirect").ci_low == second.effect("indirect").ci_low
    assert first.effect("total").ci_high == second.effect("total").ci_high
