"""Operating characteristics of `mediate` by simulation: interval coverage and type I error.

Each test analyses 1,000 simulated datasets: the percentile bootstrap with all datasets and resamples in
one batch (`bootstrap_regressions` on stacked datasets), the others through the public `mediate`. Seeds
are fixed, so the rates are deterministic; the bounds are those of the specification, wide enough for the
binomial error of 1,000 replications (SD ~ .007 at .95).
"""

from __future__ import annotations

import numpy as np
import pytest

from moclab.analysis import mediate
from moclab.analysis.bootstrap import bootstrap_regressions
from moclab.analysis.intervals import percentile_interval

N_DATASETS = 1000
MEDIUM = 0.39  # "medium" path size in the mediation simulation literature (MacKinnon et al. 2002)


def _dataset(rng: np.random.Generator, n: int | tuple[int, int], a: float, b: float, direct: float = 0.0):
    x = rng.normal(size=n)
    m = a * x + rng.normal(size=n)
    y = b * m + direct * x + rng.normal(size=n)
    return x, m, y


@pytest.mark.slow
def test_percentile_interval_covers_a_medium_indirect_effect_95_percent_of_the_time():
    """All 1,000 datasets x 1,000 resamples in one batch through the machinery `mediate` uses.

    `test_mediation.py::test_bootstrap_draws_equal_the_shared_machinery_with_the_same_seed` shows that
    `mediate`'s percentile interval is exactly this computation for one dataset.
    """
    rng = np.random.default_rng(20240601)
    truth = MEDIUM * MEDIUM
    x, m, y = _dataset(rng, (N_DATASETS, 200), MEDIUM, MEDIUM, direct=0.1)
    stack = np.stack([np.ones_like(x), x, m, y], axis=2)
    draws = bootstrap_regressions(stack, [(2, [0, 1]), (3, [0, 1, 2])], 1000, seed=rng)
    indirect = draws.coefficients[0][:, :, 1] * draws.coefficients[1][:, :, 2]  # (datasets, resamples)
    low, high = percentile_interval(indirect.T, None, 0.95)
    rate = float(np.mean((low <= truth) & (truth <= high)))
    assert 0.93 <= rate <= 0.97, rate


@pytest.mark.slow
def test_monte_carlo_interval_covers_a_medium_indirect_effect_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    truth = MEDIUM * MEDIUM
    covered = 0
    for _ in range(N_DATASETS):
        x, m, y = _dataset(rng, 200, MEDIUM, MEDIUM)
        effect = mediate(x=x, m=m, y=y, ci="monte_carlo", n_mc=2000, seed=rng).effect("indirect[m]")
        covered += effect.ci_low <= truth <= effect.ci_high
    assert 0.93 <= covered / N_DATASETS <= 0.97, covered / N_DATASETS


@pytest.mark.slow
def test_joint_significance_test_has_nominal_type_i_error_when_a_is_zero():
    """With a = 0 and a large b, the joint test rejects about as often as the test of a alone: .05."""
    rng = np.random.default_rng(99)
    rejections = 0
    for _ in range(N_DATASETS):
        x, m, y = _dataset(rng, 200, 0.0, MEDIUM)
        result = mediate(x=x, m=m, y=y, ci="delta")
        rejections += result.joint_significance["indirect[m]"]
    rate = rejections / N_DATASETS
    assert 0.035 <= rate <= 0.065, rate


@pytest.mark.slow
def test_bca_interval_rejects_too_often_when_one_path_is_zero_and_percentile_does_not():
    """Why `mediate` defaults to the percentile interval: with a = 0 and a large b (0.59), the BCa interval
    of the indirect effect excludes 0 more often than α = .05 (Fritz, Taylor & MacKinnon, 2012, report about
    .08 at n = 100); the percentile interval stays near .05."""
    rng = np.random.default_rng(2012)
    rejections = {"bca": 0, "percentile": 0}
    for _ in range(N_DATASETS):
        x, m, y = _dataset(rng, 100, 0.0, 0.59)
        seed = int(rng.integers(2**31))
        for ci in rejections:
            effect = mediate(x=x, m=m, y=y, ci=ci, n_boot=1000, seed=seed).effect("indirect[m]")
            rejections[ci] += not (effect.ci_low <= 0.0 <= effect.ci_high)
    bca, percentile = (rejections[ci] / N_DATASETS for ci in ("bca", "percentile"))
    assert bca >= 0.06, bca
    assert percentile <= 0.065, percentile
    assert bca > percentile + 0.01
