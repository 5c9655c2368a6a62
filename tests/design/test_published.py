"""Published power values for the single-mediator model, reproduced within Monte Carlo error.

Model (both papers): X standard normal, M = a·X + e_M, Y = b·M + e_Y with unit residual variances and no
direct effect (τ' = 0), two-sided tests at α = .05. moclab simulates it with `scale: unit-residual` and a
continuous exposure (docs/simulate.md).

MacKinnon, Lockwood, Hoffman, West & Sheets (2002), Psychological Methods 7:83-104, Table 6 ("first-order
test (Sobel, 1982)" rows, α = β, τ' = 0, 500 replications per cell). Its effect sizes are (partial)
correlations, not path coefficients: small .14, medium .36, large .51 (2%, 13% and 26% of variance). With
unit residual variances the partial correlation of a path p is r = p / sqrt(1 + p²), so the path is
p = r / sqrt(1 - r²): .1414, .3859, .5929 (the paper's parameter values .14, .39, .59).

Fritz & MacKinnon (2007), Psychological Science 18:233-239, Table 3 (τ' = 0): sample sizes for .8 power.
Paths are coefficients here: S = .14, H = .26, M = .39, L = .59. Cells used: joint significance test
MM = 74 and HH = 159; percentile bootstrap MM = 78. (Transcribed from the table; the same row also gives
Sobel MM = 90 and bias-corrected bootstrap MM = 71, the often quoted "71".)

Each check allows three standard errors of the difference between our estimate and the published one (the
published cells have Monte Carlo error too).
"""

from __future__ import annotations

import math

import pytest

from moclab.design import power_analysis, sample_size_search


def _partial_r_to_path(r: float) -> float:
    return r / math.sqrt(1 - r * r)


def _tolerance(p: float, reps: int, published_reps: int) -> float:
    p = min(max(p, 0.02), 0.98)
    return 3 * math.sqrt(p * (1 - p) / reps + p * (1 - p) / published_reps)


def test_partial_correlation_conversion():
    assert _partial_r_to_path(0.14) == pytest.approx(0.1414, abs=5e-4)
    assert _partial_r_to_path(0.36) == pytest.approx(0.3859, abs=5e-4)
    assert _partial_r_to_path(0.51) == pytest.approx(0.5929, abs=5e-4)


# (effect size as partial r, n, Table 6 power of the first-order (Sobel) test)
TABLE6_SOBEL = [
    (0.14, 500, 0.5620),
    (0.36, 50, 0.3600),
    (0.36, 100, 0.8620),
    (0.51, 50, 0.9020),
]


@pytest.mark.parametrize(("r", "n", "published"), TABLE6_SOBEL)
def test_mackinnon_2002_table6_sobel(mediator_model, mackinnon_spec, r, n, published):
    path = _partial_r_to_path(r)
    reps = 1000
    result = power_analysis(
        mediator_model,
        mackinnon_spec(path, path, n),
        reps=reps,
        method="sobel",
        methods=["sobel"],
        criteria="none",
        seed=2002,
    )
    power = result.power("indirect:sobel")["power"].iloc[0]
    assert abs(power - published) < _tolerance(published, reps, 500), (r, n, power, published)


@pytest.mark.parametrize(("a", "n"), [(0.39, 74), (0.26, 159)])
def test_fritz_mackinnon_2007_joint_significance(mediator_model, mackinnon_spec, a, n):
    reps = 2000
    result = power_analysis(
        mediator_model, mackinnon_spec(a, a, n), reps=reps, method="joint", criteria="none", seed=2007
    )
    power = result.power("indirect:joint")["power"].iloc[0]
    assert abs(power - 0.8) < _tolerance(0.8, reps, 1000), (a, n, power)


def test_fritz_mackinnon_2007_percentile_bootstrap(mediator_model, mackinnon_spec):
    reps = 400
    result = power_analysis(
        mediator_model,
        mackinnon_spec(0.39, 0.39, 78),
        reps=reps,
        method="boot",
        methods=["percentile"],
        n_boot=1000,
        criteria="none",
        seed=78,
    )
    power = result.power("indirect:percentile")["power"].iloc[0]
    assert abs(power - 0.8) < _tolerance(0.8, reps, 1000), power


def test_sample_size_search_finds_fritz_mackinnon_joint_mm(mediator_model, mackinnon_spec):
    """The logistic fit over a grid of N recovers Table 3's N = 74 (joint significance, a = b = .39)."""
    spec = mackinnon_spec(0.39, 0.39, 60)
    result = power_analysis(
        mediator_model,
        spec,
        sites=1,
        per_site=[50, 60, 70, 80, 90, 100],
        reps=600,
        method="joint",
        criteria="none",
        seed=74,
    )
    search = sample_size_search(result, target=0.8)
    assert search.dimension == "per_site"
    assert abs(search.fitted_size - 74) / 74 < 0.08, search.fitted_size
    low, high = search.fitted_interval
    assert low < search.fitted_size < high


@pytest.mark.parametrize("method", ["joint", "mc"])
def test_type_one_error_when_a_is_zero(mediator_model, mackinnon_spec, method):
    reps = 2000
    result = power_analysis(
        mediator_model,
        mackinnon_spec(0.0, 0.59, 200),
        reps=reps,
        method=method,
        n_mc=2000,
        criteria="none",
        seed=5,
    )
    quantity = "indirect:joint" if method == "joint" else "indirect:monte_carlo"
    rate = result.power(quantity)["power"].iloc[0]
    # With b large the joint test rejects when a's test does, at .05; the Monte Carlo interval is close.
    if method == "joint":
        assert abs(rate - 0.05) < 3 * math.sqrt(0.05 * 0.95 / reps), rate
    else:
        assert 0.02 < rate < 0.065, rate
    a_rate = result.power("a")["power"].iloc[0]
    assert abs(a_rate - 0.05) < 3 * math.sqrt(0.05 * 0.95 / reps), a_rate
