"""1-1-1 multilevel mediation on Bauer, Preacher & Gil's (2006) simulated example, against outside references.

References used here:

* R package multilevelmediation (Falk, Vogel, Hammami & Miočević), ``tests/testthat/_snaps/modmedmlm.md``:
  ``modmed.mlm(BPG06dat, "id", "x", "y", "m", random.a=TRUE, random.b=TRUE[, random.cprime=TRUE])``, which
  fits BPG's stacked model with ``nlme::lme`` (REML, ``weights = varIdent(form = ~ 1 | Sm)``), uncentred.
* The population values BPG used to simulate the data (supplement to BPG 2006, "Testing indirect effects for
  lower level mediation models in SAS PROC MIXED"): a = b = .6, c' = .2, Var(d_M) = .6, Var(d_Y) = .4,
  Var(a_j) = Var(b_j) = .16, Var(c'_j) = .04, σ_ab = .113, average indirect effect .473, total .673.
* Closed forms: the REML variance of the balanced one-way random-effects estimator, and statsmodels MixedLM's
  own log-likelihood.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from public_data import MEDIATION_DATA
from statsmodels.regression.mixed_linear_model import MixedLM
from statsmodels.tools.numdiff import approx_fprime

from moclab.analysis.multilevel import multilevel_mediate
from moclab.analysis.stacked_mixed import RemlLikelihood, StackedData, fit_stacked

DATA = MEDIATION_DATA

# multilevelmediation snapshot, random a and b (random effects ordered Sm, Sy, SmX, SyM).
R_RANDOM_AB = {
    "fixed": {
        "m_intercept": 0.096021954,
        "y_intercept": -0.093772127,
        "a": 0.6120204,
        "direct": 0.2449754,
        "b": 0.5880369,
    },
    "cov_ab": 0.09254224,
    "indirect": 0.4524328,
    "re_cov": np.array(
        [
            [0.698044627, 0.050825005, 0.017486251, 0.008367895],
            [0.050825005, 0.276507737, 0.012162696, -0.013223201],
            [0.017486251, 0.012162696, 0.120767200, 0.092542236],
            [0.008367895, -0.013223201, 0.092542236, 0.134700854],
        ]
    ),
}
# multilevelmediation snapshot, random a, b and c' (random effects ordered Sm, Sy, SmX, SyM, SyX).
R_RANDOM_ABC = {
    "fixed": np.array([0.09267878, 0.61189254, -0.09719895, 0.61176678, 0.21935510]),  # Sm, SmX, Sy, SyM, SyX
    "indirect": 0.4742082,
    "cov_ab": 0.09987264,
    "re_cov": np.array(
        [
            [0.677715547, 0.056226656, 0.018587977, 0.009326583, -0.005992485],
            [0.056226656, 0.271354193, 0.012226000, -0.004331612, -0.017460059],
            [0.018587977, 0.012226000, 0.120100414, 0.099872640, -0.022766909],
            [0.009326583, -0.004331612, 0.099872640, 0.110314811, 0.007044345],
            [-0.005992485, -0.017460059, -0.022766909, 0.007044345, 0.030512781],
        ]
    ),
}
POPULATION = {"a": 0.6, "b": 0.6, "direct": 0.2, "cov_ab": 0.113, "indirect": 0.473, "total": 0.673}


@pytest.fixture(scope="module")
def bpg() -> pd.DataFrame:
    return pd.read_csv(DATA / "BPG06dat.csv")


@pytest.fixture(scope="module")
def random_ab(bpg: pd.DataFrame):
    return multilevel_mediate(bpg, x="x", m="m", y="y", cluster="id", center="none", seed=20060611)


@pytest.fixture(scope="module")
def random_abc(bpg: pd.DataFrame):
    return multilevel_mediate(
        bpg, x="x", m="m", y="y", cluster="id", center="none", random_direct=True, seed=11
    )


def stacked_bpg(frame: pd.DataFrame, *, random_direct: bool = False) -> StackedData:
    """BPG's stacked data built independently of moclab.analysis.multilevel (columns as in their Table 1)."""
    n = len(frame)
    sm = np.r_[np.ones(n), np.zeros(n)]
    sy = 1.0 - sm
    x, m = np.r_[frame.x, frame.x], np.r_[frame.m, frame.m]
    exog = np.column_stack([sm, sm * x, sy, sy * m, sy * x])
    exog_re = [sm, sy, sm * x, sy * m] + ([sy * x] if random_direct else [])
    codes = pd.factorize(frame.id)[0]
    return StackedData(
        endog=np.r_[frame.m, frame.y],
        exog=exog,
        exog_re=np.column_stack(exog_re),
        groups=np.r_[codes, codes],
        residual_group=np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)],
        exog_names=("Sm", "SmX", "Sy", "SyM", "SyX"),
        re_names=("Sm", "Sy", "SmX", "SyM", "SyX")[: len(exog_re)],
    )


def test_random_a_and_b_reproduce_r_multilevelmediation(random_ab) -> None:
    result = random_ab
    fixed = {(row["equation"], row["term"]): row["estimate"] for row in result.info["fixed_effects"]}
    assert fixed[("m", "intercept")] == pytest.approx(R_RANDOM_AB["fixed"]["m_intercept"], abs=1e-4)
    assert fixed[("y", "intercept")] == pytest.approx(R_RANDOM_AB["fixed"]["y_intercept"], abs=1e-4)
    for name in ("a", "b", "direct"):
        assert result.effect(name).estimate == pytest.approx(R_RANDOM_AB["fixed"][name], abs=1e-4)
    assert result.effect("cov_ab").estimate == pytest.approx(R_RANDOM_AB["cov_ab"], abs=1e-4)
    assert result.effect("indirect").estimate == pytest.approx(R_RANDOM_AB["indirect"], abs=1e-4)
    re_cov = pd.DataFrame(result.info["random_effects"]).to_numpy()
    np.testing.assert_allclose(re_cov, R_RANDOM_AB["re_cov"], atol=2e-4)
    assert result.info["n_clusters"] == 100
    assert result.info["cluster_size"] == {"min": 8, "median": 8.0, "mean": 8.0, "max": 8}


def test_random_a_b_and_c_prime_at_least_as_likely_as_r_solution(bpg: pd.DataFrame, random_abc) -> None:
    """With a random c', nlme's reported solution is not quite the REML maximum; ours is higher.

    The REML likelihood is evaluated at nlme's covariance matrix (with the residual variances that are best
    for it), where generalized least squares must reproduce nlme's fixed effects exactly: that shows both fit
    the same model. Our log-likelihood is then at least as high, and the estimates are close.
    """
    likelihood = RemlLikelihood(stacked_bpg(bpg, random_direct=True))
    from scipy import optimize

    best = optimize.minimize(
        lambda log_var: -likelihood.loglik(likelihood.pack(R_RANDOM_ABC["re_cov"], np.exp(log_var))),
        np.log([0.65, 0.5]),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10},
    )
    theta_r = likelihood.pack(R_RANDOM_ABC["re_cov"], np.exp(best.x))
    fixed_r, _ = likelihood.gls(theta_r)
    np.testing.assert_allclose(fixed_r, R_RANDOM_ABC["fixed"], atol=2e-6)
    assert random_abc.info["loglik_reml"] >= -best.fun - 1e-6
    assert random_abc.info["loglik_reml"] - -best.fun == pytest.approx(0.019, abs=0.005)
    assert random_abc.effect("indirect").estimate == pytest.approx(R_RANDOM_ABC["indirect"], abs=0.003)
    assert random_abc.effect("cov_ab").estimate == pytest.approx(R_RANDOM_ABC["cov_ab"], abs=0.002)
    assert random_abc.effect("a").estimate == pytest.approx(R_RANDOM_ABC["fixed"][1], abs=0.001)
    assert random_abc.effect("b").estimate == pytest.approx(R_RANDOM_ABC["fixed"][3], abs=0.002)
    assert random_abc.effect("direct").estimate == pytest.approx(R_RANDOM_ABC["fixed"][4], abs=0.002)


@pytest.mark.parametrize("name", sorted(POPULATION))
def test_estimates_are_near_the_population_values(random_abc, name: str) -> None:
    """BPG generated the data with random intercepts, a, b and c': every estimate within 2 SE of the truth."""
    effect = random_abc.effect(name)
    assert abs(effect.estimate - POPULATION[name]) < 2 * effect.se
    assert effect.ci_low < POPULATION[name] < effect.ci_high


def test_monte_carlo_se_matches_bpg_analytic_variance(random_ab) -> None:
    """The SD of the Monte Carlo draws of a·b + σ_ab equals BPG's exact-variance formula (MC error ~0.5%)."""
    indirect = random_ab.effect("indirect")
    assert indirect.ci_method == "monte_carlo"
    assert indirect.se == pytest.approx(indirect.extra["se_analytic"], rel=0.02)
    assert indirect.extra["ab"] + indirect.extra["cov_ab"] == pytest.approx(indirect.estimate, abs=1e-12)
    # The interval of a product is skewed: the upper arm is longer than the lower one.
    assert indirect.ci_high - indirect.estimate > indirect.estimate - indirect.ci_low


def test_reml_likelihood_equals_statsmodels_llf(bpg: pd.DataFrame) -> None:
    data = stacked_bpg(bpg)
    fitted = MixedLM(data.endog, data.exog, data.groups, exog_re=data.exog_re).fit(reml=True, method=["bfgs"])
    likelihood = RemlLikelihood(data, shared_residual=True)
    theta = likelihood.pack(np.asarray(fitted.cov_re), np.array([fitted.scale]))
    assert likelihood.loglik(theta) == pytest.approx(fitted.llf, abs=1e-6)
    fixed, covariance = likelihood.gls(theta)
    np.testing.assert_allclose(fixed, fitted.fe_params, atol=1e-8)
    # (X'V⁻¹X)⁻¹ by brute force: V_j = Z_j G Z_j' + σ²I built and inverted cluster by cluster.
    information = np.zeros((data.exog.shape[1],) * 2)
    for cluster in np.unique(data.groups):
        rows = data.groups == cluster
        z_j, x_j = data.exog_re[rows], data.exog[rows]
        v_j = z_j @ np.asarray(fitted.cov_re) @ z_j.T + fitted.scale * np.eye(rows.sum())
        information += x_j.T @ np.linalg.solve(v_j, x_j)
    np.testing.assert_allclose(covariance, np.linalg.inv(information), rtol=1e-8, atol=1e-12)


def test_heteroscedastic_fit_is_the_joint_reml_maximum(bpg: pd.DataFrame) -> None:
    """At the fitted θ the REML gradient is zero in every direction, the residual-variance ratio included.

    The gradient times each parameter's SE is about the size of the step still to go, in SE units. MixedLM,
    refitted on the rows scaled by the final residual SD ratio, lands on the same solution.
    """
    data = stacked_bpg(bpg[bpg.id <= 50])
    fit = fit_stacked(data)
    likelihood = RemlLikelihood(data)
    gradient = approx_fprime(fit.theta, likelihood.loglik, centered=True)
    assert np.max(np.abs(gradient * np.sqrt(np.diag(fit.theta_cov)))) < 1e-4
    assert fit.loglik == pytest.approx(likelihood.loglik(fit.theta))
    # Fixed effects: GLS at θ̂ equals MixedLM's own estimates on the row-scaled data at the final ratio.
    ratio = np.sqrt(fit.residual_variances[0] / fit.residual_variances[1])
    weights = np.where(data.residual_group == 0, 1 / ratio, 1.0)
    refit = MixedLM(
        data.endog * weights,
        data.exog * weights[:, None],
        data.groups,
        exog_re=data.exog_re * weights[:, None],
    ).fit(reml=True, method=["bfgs"])
    np.testing.assert_allclose(fit.fe_params, refit.fe_params, atol=1e-4)
    np.testing.assert_allclose(fit.re_cov, refit.cov_re, atol=2e-4)
    assert fit.loglik == pytest.approx(refit.llf - np.sum(data.residual_group == 0) * np.log(ratio), abs=1e-4)


def test_homoscedastic_fit_equals_statsmodels_mixedlm(bpg: pd.DataFrame) -> None:
    """With one residual variance the model is MixedLM's own: same REML maximum, same estimates."""
    data = stacked_bpg(bpg[bpg.id <= 50])
    fit = fit_stacked(data, heteroscedastic=False)
    reference = MixedLM(data.endog, data.exog, data.groups, exog_re=data.exog_re).fit(
        reml=True, method=["bfgs"]
    )
    assert fit.loglik == pytest.approx(reference.llf, abs=1e-4)
    assert fit.loglik >= reference.llf - 1e-8
    np.testing.assert_allclose(fit.re_cov, reference.cov_re, atol=2e-4)
    np.testing.assert_allclose(fit.residual_variances, [reference.scale] * 2, rtol=1e-4)
    np.testing.assert_allclose(fit.fe_params, reference.fe_params, atol=1e-4)


def test_covariance_parameter_se_matches_balanced_one_way_closed_form() -> None:
    """REML information inverse = the exact large-sample variances of the balanced one-way ANOVA estimators.

    For J clusters of n, REML gives σ̂² = MSW and τ̂² = (MSB - MSW)/n, with Var(σ̂²) = 2 MSW² / (J(n-1)) and
    Var(τ̂²) = 2 [MSB²/(J-1) + MSW²/(J(n-1))] / n² (Searle, Casella & McCulloch, 1992, sec. 3.7).
    """
    rng = np.random.default_rng(3)
    clusters, size = 40, 6
    codes = np.repeat(np.arange(clusters), size)
    values = 2.0 + rng.normal(0, 1.2, clusters)[codes] + rng.normal(0, 0.8, clusters * size)
    data = StackedData(
        endog=values,
        exog=np.ones((values.size, 1)),
        exog_re=np.ones((values.size, 1)),
        groups=codes,
        residual_group=np.zeros(values.size, dtype=int),
        exog_names=("intercept",),
        re_names=("intercept",),
    )
    fit = fit_stacked(data, heteroscedastic=False)
    means = np.bincount(codes, weights=values) / size
    ms_between = size * np.sum((means - values.mean()) ** 2) / (clusters - 1)
    ms_within = np.sum((values - means[codes]) ** 2) / (clusters * (size - 1))
    assert fit.re_cov[0, 0] == pytest.approx((ms_between - ms_within) / size, rel=1e-5)
    assert fit.residual_variances[0] == pytest.approx(ms_within, rel=1e-5)
    var_tau = 2 * (ms_between**2 / (clusters - 1) + ms_within**2 / (clusters * (size - 1))) / size**2
    var_sigma = 2 * ms_within**2 / (clusters * (size - 1))
    np.testing.assert_allclose(np.diag(fit.theta_cov), [var_tau, var_sigma], rtol=1e-3)


def test_centred_model_separates_within_and_between(bpg: pd.DataFrame) -> None:
    result = multilevel_mediate(bpg, x="x", m="m", y="y", cluster="id", seed=5)
    frame = result.to_frame()
    assert list(frame.index) == [
        "a",
        "b",
        "direct",
        "cov_ab",
        "indirect",
        "total",
        "a_between",
        "b_between",
        "direct_between",
        "indirect_between",
        "total_between",
    ]
    assert set(frame.loc[["a", "b", "direct", "cov_ab", "indirect", "total"], "effect_level"]) == {"within"}
    assert set(frame.loc[frame.index.str.endswith("_between"), "effect_level"]) == {"between"}
    # The random intercepts' covariance is held at 0: m's cluster mean carries the between association.
    names = list(result.info["random_effects"])
    assert result.info["random_effects"][names[0]][names[1]] == 0.0
    # The within-cluster indirect effect is a_W·b_W + σ_ab, the between one a_B·b_B.
    indirect = result.effect("indirect")
    a, b, cov = (result.effect(n).estimate for n in ("a", "b", "cov_ab"))
    assert indirect.estimate == pytest.approx(a * b + cov)
    assert result.effect("indirect_between").estimate == pytest.approx(
        result.effect("a_between").estimate * result.effect("b_between").estimate
    )
    # BPG simulated x with a between-cluster part and the same a path at both levels.
    assert (
        abs(result.effect("a").estimate - result.effect("a_between").estimate)
        < 2 * result.effect("a_between").se
    )
    assert result.warnings == ()
