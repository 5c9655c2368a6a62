"""Interval functions against scipy, statsmodels, closed forms and slow hand-written references."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import integrate, optimize, stats

from moclab.analysis.intervals import (
    bca_interval,
    delta_method_se,
    joint_significance,
    monte_carlo_draws,
    monte_carlo_interval,
    percentile_interval,
    sobel_test,
    wald_interval,
)
from moclab.errors import DataError


def test_percentile_interval_is_numpy_quantiles_columnwise_and_ignores_nan():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(999, 3))
    low, high = percentile_interval(draws, level=0.9)
    np.testing.assert_allclose(low, np.quantile(draws, 0.05, axis=0))
    np.testing.assert_allclose(high, np.quantile(draws, 0.95, axis=0))
    with_nan = np.vstack([draws, np.full((5, 3), np.nan)])
    np.testing.assert_allclose(percentile_interval(with_nan, level=0.9)[0], low)
    with pytest.raises(
        DataError, match=r"level \(the confidence level\) must be a number from 0.5 to below 1, not 95"
    ):
        percentile_interval(draws, level=95)


def _bca_by_hand(draws: np.ndarray, estimate: float, jack: np.ndarray, level: float) -> tuple[float, float]:
    """Efron & Tibshirani (1993, ch. 14) written out with Python loops, as a slow reference."""
    b = len(draws)
    below = sum(1 for d in draws if d < estimate) + 0.5 * sum(1 for d in draws if d == estimate)
    z0 = stats.norm.ppf(below / b)
    mean_jack = sum(jack) / len(jack)
    num = sum((mean_jack - v) ** 3 for v in jack)
    den = 6 * sum((mean_jack - v) ** 2 for v in jack) ** 1.5
    accel = num / den
    bounds = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        zq = stats.norm.ppf(q)
        prob = stats.norm.cdf(z0 + (z0 + zq) / (1 - accel * (z0 + zq)))
        ordered = sorted(draws)
        position = prob * (b - 1)  # linear interpolation between order statistics
        lower = int(np.floor(position))
        upper = min(lower + 1, b - 1)
        bounds.append(ordered[lower] + (position - lower) * (ordered[upper] - ordered[lower]))
    return bounds[0], bounds[1]


def test_bca_equals_slow_hand_computation_on_a_small_case():
    rng = np.random.default_rng(3)
    sample = rng.lognormal(size=25)
    draws = sample[rng.integers(0, 25, size=(400, 25))].var(axis=1)
    jack = np.array([np.delete(sample, i).var() for i in range(25)])
    ours = bca_interval(draws, sample.var(), jack, level=0.9)
    np.testing.assert_allclose(ours, _bca_by_hand(draws, sample.var(), jack, 0.9), rtol=1e-12)


def test_bca_equals_scipy_bootstrap_bca_given_its_bootstrap_distribution():
    rng = np.random.default_rng(0)
    data = rng.exponential(size=30)
    result = stats.bootstrap(
        (data,), np.mean, method="BCa", n_resamples=3000, confidence_level=0.9, random_state=rng
    )
    jack = (data.sum() - data) / 29
    ours = bca_interval(result.bootstrap_distribution, data.mean(), jack, 0.9)
    np.testing.assert_allclose(ours, tuple(result.confidence_interval), rtol=1e-10)


def test_bca_is_columnwise_and_nan_when_degenerate():
    rng = np.random.default_rng(1)
    draws = rng.normal(size=(500, 2))
    jack = rng.normal(size=(20, 2))
    low, high = bca_interval(draws, np.array([0.0, 0.1]), jack)
    for j in range(2):
        single = bca_interval(draws[:, j], [0.0, 0.1][j], jack[:, j])
        np.testing.assert_allclose((low[j], high[j]), single)
    all_above = bca_interval(np.linspace(1, 2, 100), 0.0, np.linspace(0, 1, 10))
    assert np.isnan(all_above[0]) and np.isnan(all_above[1])


def _product_normal_cdf(t: float, mu_a: float, sd_a: float, mu_b: float, sd_b: float) -> float:
    """P(A·B <= t) for independent normals, by numerical integration over A (an exact reference)."""

    def integrand(a: float) -> float:
        if a == 0:
            return stats.norm.pdf(a, mu_a, sd_a) * float(t >= 0)
        threshold = t / a
        p = stats.norm.cdf(threshold, mu_b, sd_b) if a > 0 else stats.norm.sf(threshold, mu_b, sd_b)
        return stats.norm.pdf(a, mu_a, sd_a) * p

    lo, hi = mu_a - 10 * sd_a, mu_a + 10 * sd_a
    return integrate.quad(integrand, lo, hi, points=[0.0] if lo < 0 < hi else None, limit=200)[0]


def test_monte_carlo_interval_matches_exact_quantiles_of_the_product_of_normals():
    mu_a, sd_a, mu_b, sd_b = 0.4, 0.12, 0.3, 0.1
    low, high = monte_carlo_interval(
        np.array([mu_a, mu_b]),
        np.diag([sd_a**2, sd_b**2]),
        lambda t: t[:, 0] * t[:, 1],
        n_mc=200_000,
        seed=1,
    )
    exact = [
        optimize.brentq(lambda t, q=q: _product_normal_cdf(t, mu_a, sd_a, mu_b, sd_b) - q, -1, 1)
        for q in (0.025, 0.975)
    ]
    # Monte Carlo error of a tail quantile with 200,000 draws is about 3e-4 here
    np.testing.assert_allclose((low, high), exact, atol=1.5e-3)


def test_monte_carlo_draws_have_the_requested_moments():
    covariance = np.array([[1.0, 0.6], [0.6, 2.0]])
    draws = monte_carlo_draws(np.array([1.0, -2.0]), covariance, 100_000, seed=2)
    np.testing.assert_allclose(draws.mean(axis=0), [1.0, -2.0], atol=0.02)
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.03)
    np.testing.assert_array_equal(
        draws, monte_carlo_draws(np.array([1.0, -2.0]), covariance, 100_000, seed=2)
    )


def test_wald_interval_equals_statsmodels_t_and_normal_intervals():
    rng = np.random.default_rng(5)
    x = sm.add_constant(rng.normal(size=40))
    y = x @ [0.2, 0.5] + rng.normal(size=40)
    fit = sm.OLS(y, x).fit()
    low, high, p = wald_interval(fit.params, fit.bse, 0.9, fit.df_resid)
    np.testing.assert_allclose(np.column_stack([low, high]), fit.conf_int(0.1), rtol=1e-10)
    np.testing.assert_allclose(p, fit.pvalues, rtol=1e-8)
    z_fit = sm.OLS(y, x).fit(use_t=False)
    low, high, p = wald_interval(z_fit.params, z_fit.bse, 0.95)
    np.testing.assert_allclose(np.column_stack([low, high]), z_fit.conf_int(0.05), rtol=1e-10)
    np.testing.assert_allclose(p, z_fit.pvalues, rtol=1e-8)


def test_sobel_and_delta_method_agree_with_the_closed_form():
    a, se_a, b, se_b = 0.45, 0.11, -0.3, 0.07
    se, z, p = sobel_test(a, se_a, b, se_b)
    assert se == pytest.approx(np.sqrt(b**2 * se_a**2 + a**2 * se_b**2), rel=1e-12)
    assert z == pytest.approx(a * b / se)
    assert p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    assert delta_method_se(np.array([b, a]), np.diag([se_a**2, se_b**2])) == pytest.approx(se, rel=1e-12)
    gradients = np.array([[b, a], [1.0, 0.0]])
    np.testing.assert_allclose(delta_method_se(gradients, np.diag([se_a**2, se_b**2])), [se, se_a])


def test_joint_significance_needs_every_path():
    assert joint_significance([0.001, 0.04]) == (True, 0.04)
    assert joint_significance([0.001, 0.04, 0.051]) == (False, 0.051)
    assert joint_significance([0.02, 0.03], alpha=0.01)[0] is False
