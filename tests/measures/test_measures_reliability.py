"""Cronbach's alpha and McDonald's omega against independent references.

* alpha and Feldt's interval: pingouin.cronbach_alpha, and the values pingouin's documentation gives for its
  bundled datasets (computed there with R's psych::alpha);
* omega: the closed form of a one-factor model with known population loadings, an independent ML fit
  (scikit-learn's FactorAnalysis), and the identity alpha = omega for essentially tau-equivalent items;
* Heywood cases: three items whose correlations force a standardized loading above 1 in the closed form
  of the just-identified one-factor model (λ1² = r12 r13 / r23), confirmed by scikit-learn's ML fit.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from sklearn.decomposition import FactorAnalysis
from statsmodels.multivariate.factor import Factor

from moclab.analysis.reliability import (
    _one_factor_ml_batch,
    cronbach_alpha,
    mcdonald_omega,
    omega_from_loadings,
    scale_reliability,
)
from moclab.errors import DataError

PINGOUIN_DATA = Path(pg.__file__).parent / "datasets"


def one_factor_sample(n: int, loadings: np.ndarray, scale: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 1))
    unique = rng.normal(size=(n, len(loadings))) * np.sqrt(1 - loadings**2)
    return (factor * loadings + unique) * scale


def exact_covariance_sample(covariance: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Data whose sample covariance is exactly `covariance` (whitened noise, recoloured)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, covariance.shape[0]))
    z -= z.mean(axis=0)
    whitened = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    return whitened @ np.linalg.cholesky(covariance).T + 3.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_alpha_and_feldt_interval_match_pingouin(seed: int) -> None:
    data = pd.DataFrame(one_factor_sample(150, np.array([0.8, 0.6, 0.7, 0.5, 0.65]), np.ones(5), seed))
    ours = cronbach_alpha(data)
    alpha, interval = pg.cronbach_alpha(data)
    assert ours.estimate == pytest.approx(alpha, abs=1e-12)
    # pingouin rounds its interval to 3 decimals
    assert [ours.ci_low, ours.ci_high] == pytest.approx(list(interval), abs=5e-4)
    assert (ours.n, ours.k, ours.ci_method) == (150, 5, "feldt")


def test_alpha_on_pingouins_documented_datasets() -> None:
    # pingouin.cronbach_alpha docstring, from R psych::alpha(data, use="pairwise"):
    # 0.732660835214447, [0.435, 0.909]
    missing = pd.read_csv(PINGOUIN_DATA / "cronbach_wide_missing.csv")
    pairwise = cronbach_alpha(missing, nan_policy="pairwise")
    assert pairwise.estimate == pytest.approx(0.732660835214447, abs=1e-12)
    assert [pairwise.ci_low, pairwise.ci_high] == pytest.approx([0.435, 0.909], abs=5e-4)
    # listwise (psych::alpha(use="complete.obs")): 0.8016949152542373; pingouin's interval keeps all rows in
    # its degrees of freedom, ours uses the complete ones, so only the estimate is compared
    assert cronbach_alpha(missing).estimate == pytest.approx(0.8016949152542373, abs=1e-12)
    # long Likert data: 0.5917188485995826, [0.195, 0.84]
    likert = pd.read_csv(PINGOUIN_DATA / "cronbach_alpha.csv").pivot(
        index="Subj", columns="Items", values="Scores"
    )
    result = cronbach_alpha(likert)
    assert result.estimate == pytest.approx(0.5917188485995826, abs=1e-12)
    assert [result.ci_low, result.ci_high] == pytest.approx([0.195, 0.84], abs=5e-4)


def test_bootstrap_alpha_interval_is_reproducible_and_near_feldt() -> None:
    data = one_factor_sample(300, np.array([0.8, 0.7, 0.6, 0.7]), np.ones(4), 4)
    first = cronbach_alpha(data, ci="percentile", n_boot=1000, seed=11)
    again = cronbach_alpha(data, ci="percentile", n_boot=1000, seed=11)
    feldt = cronbach_alpha(data)
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert first.ci_low < first.estimate < first.ci_high
    assert first.ci_low == pytest.approx(feldt.ci_low, abs=0.03) and first.ci_high == pytest.approx(
        feldt.ci_high, abs=0.03
    )
    assert first.ci_method == "bootstrap percentile" and first.details["n_boot"] == 1000


def test_omega_equals_the_closed_form_of_the_population_model() -> None:
    loadings = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    scale = np.array([1.0, 2.0, 0.5, 1.5, 1.0])
    raw_loadings = loadings * scale
    unique = (1 - loadings**2) * scale**2
    covariance = np.outer(raw_loadings, raw_loadings) + np.diag(unique)
    data = exact_covariance_sample(covariance, 400, seed=8)
    expected = raw_loadings.sum() ** 2 / (raw_loadings.sum() ** 2 + unique.sum())
    result = mcdonald_omega(data, n_boot=0)
    assert result.estimate == pytest.approx(expected, abs=1e-5)
    assert result.estimate == pytest.approx(omega_from_loadings(raw_loadings, unique), abs=1e-5)
    assert result.details["loadings"] == pytest.approx(loadings.tolist(), abs=1e-4)
    assert math.isnan(result.ci_low)


def test_omega_equals_alpha_for_tau_equivalent_items() -> None:
    # equal loadings and unique variances: alpha and omega coincide (McDonald 1999)
    covariance = np.full((4, 4), 0.49) + np.diag([0.51] * 4)
    data = exact_covariance_sample(covariance, 250, seed=3)
    assert mcdonald_omega(data, n_boot=0).estimate == pytest.approx(cronbach_alpha(data).estimate, abs=1e-6)


def test_omega_against_an_independent_ml_fit() -> None:
    data = one_factor_sample(400, np.array([0.8, 0.7, 0.6, 0.5, 0.7, 0.4]), np.array([1, 2, 1, 0.5, 1, 3]), 9)
    fit = FactorAnalysis(n_components=1, tol=1e-12, max_iter=100000).fit(data)
    lam = fit.components_.ravel() * np.sign(fit.components_.sum())
    # scikit-learn divides by n, not n - 1: rescale to the sample covariance moclab uses
    factor = len(data) / (len(data) - 1)
    independent = omega_from_loadings(lam * np.sqrt(factor), fit.noise_variance_ * factor)
    assert mcdonald_omega(data, n_boot=0).estimate == pytest.approx(independent, abs=1e-4)


def test_a_proper_fit_carries_no_warning() -> None:
    data = one_factor_sample(300, np.array([0.8, 0.7, 0.6, 0.5, 0.7]), np.array([1, 2, 1, 0.5, 1]), 12)
    result = mcdonald_omega(data, n_boot=200, seed=1)
    assert result.warnings == () and 0 < result.estimate < 1
    assert min(result.details["uniquenesses"]) > 0.2 and max(result.details["loadings"]) < 1
    fit = FactorAnalysis(n_components=1, tol=1e-12, max_iter=100000).fit(data)
    lam = fit.components_.ravel() * np.sign(fit.components_.sum())
    factor = len(data) / (len(data) - 1)
    independent = omega_from_loadings(lam * np.sqrt(factor), fit.noise_variance_ * factor)
    assert result.estimate == pytest.approx(independent, abs=1e-4)


# scikit-learn's EM creeps toward the boundary and never meets its tolerance there: that is the point here
@pytest.mark.filterwarnings("ignore:FactorAnalysis did not converge")
def test_a_heywood_case_gives_nan_with_the_reason() -> None:
    # One factor for three items is just identified: λ1² = r12 r13 / r23 = .8 · .8 / .5 = 1.28 > 1, so the
    # ML solution sits on the boundary with item a's unique variance 0 (a Heywood case).
    correlation = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    data = pd.DataFrame(exact_covariance_sample(correlation, 200, seed=1), columns=["a", "b", "c"])
    # the independent ML fit finds the same boundary: no unique variance left for item a
    reference = FactorAnalysis(n_components=1, tol=1e-8, max_iter=2000).fit(data)
    assert reference.noise_variance_[0] < 1e-3 < 0.3 < reference.noise_variance_[1:].min()
    result = mcdonald_omega(data, n_boot=100, seed=1)
    assert math.isnan(result.estimate) and math.isnan(result.ci_low) and math.isnan(result.ci_high)
    assert "Heywood case" in result.warnings[0] and "'a'" in result.warnings[0]
    assert "'b'" not in result.warnings[0] and "omega is not reported" in result.warnings[0]
    assert result.details["uniquenesses"][0] < 0.005  # the improper solution stays inspectable
    assert str(result).startswith("ω not available")
    # alpha does not rest on the factor model: still reported
    assert not math.isnan(cronbach_alpha(data).estimate)
    # in a table the reason travels with the row
    table = scale_reliability(data, scale="x", n_boot=50, seed=1).to_frame().set_index("coefficient")
    assert math.isnan(table.loc["omega", "estimate"]) and "Heywood" in table.loc["omega", "warnings"]
    assert pd.isna(table.loc["alpha", "warnings"])


def test_the_batched_ml_fit_matches_statsmodels() -> None:
    rng = np.random.default_rng(2)
    data = one_factor_sample(200, np.array([0.8, 0.7, 0.6, 0.5, 0.45]), np.ones(5), 2)
    samples = [data[rng.integers(0, 200, 200)] for _ in range(5)]
    corr = np.stack([np.corrcoef(sample, rowvar=False) for sample in samples])
    loadings, uniquenesses, converged = _one_factor_ml_batch(corr)
    assert converged.all()
    for sample, ours, psi in zip(samples, loadings, uniquenesses, strict=True):
        reference = Factor(sample, n_factor=1, method="ml").fit()
        assert np.abs(ours) == pytest.approx(np.abs(np.asarray(reference.loadings).ravel()), abs=1e-5)
        assert psi == pytest.approx(np.asarray(reference.uniqueness), abs=1e-5)


def test_omega_bootstrap_interval() -> None:
    data = one_factor_sample(250, np.array([0.8, 0.7, 0.6, 0.5]), np.ones(4), 5)
    result = mcdonald_omega(data, n_boot=500, seed=3)
    assert result.ci_low < result.estimate < result.ci_high and result.ci_high - result.ci_low < 0.15
    assert mcdonald_omega(data, n_boot=500, seed=3).ci_low == result.ci_low
    assert str(result).startswith("ω = ") and result.to_frame()["coefficient"].item() == "omega"


def test_too_little_data_gives_nan_with_a_reason() -> None:
    assert "only 3 complete respondents" in cronbach_alpha([[1, 2], [2, 3], [3, 3]]).warnings[0]
    two_items = mcdonald_omega(np.random.default_rng(1).normal(size=(30, 2)))
    assert math.isnan(two_items.estimate) and "at least 3 items" in two_items.warnings[0]
    constant = mcdonald_omega(np.c_[np.ones(10), np.arange(10), np.arange(10) % 3])
    assert "does not vary" in constant.warnings[0]
    with pytest.raises(DataError, match="at least 2 items"):
        cronbach_alpha([[1], [2]])
    with pytest.raises(DataError, match="ci must be one of 'feldt', 'percentile', not 'exact'"):
        cronbach_alpha([[1, 2], [2, 3]], ci="exact")


def test_reliability_per_wave() -> None:
    first = one_factor_sample(100, np.array([0.8, 0.7, 0.6]), np.ones(3), 1)
    second = one_factor_sample(100, np.array([0.3, 0.3, 0.3]), np.ones(3), 2)
    items = pd.DataFrame(np.vstack([first, second]), columns=["a", "b", "c"])
    table = scale_reliability(items, scale="x", by=["t1"] * 100 + ["t2"] * 100, n_boot=200, seed=1).to_frame()
    assert table[["group", "coefficient"]].values.tolist() == [
        ["t1", "alpha"], ["t1", "omega"], ["t2", "alpha"], ["t2", "omega"],
    ]  # fmt: skip
    alpha_t1 = table.loc[(table["group"] == "t1") & (table["coefficient"] == "alpha"), "estimate"].item()
    assert alpha_t1 == pytest.approx(pg.cronbach_alpha(items.iloc[:100])[0], abs=1e-12)
    assert table.loc[0, "estimate"] > table.loc[2, "estimate"]
