"""Sample-size search: the logistic fit of power on log(size), the grid evidence, and the cheapest design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special

from moclab.design import PowerResult, design_cost, power_answers, sample_size_search
from moclab.design.scenario import PowerTarget
from moclab.errors import MoclabError

TARGET = PowerTarget(
    id="x__m__y",
    strategy="x",
    mechanism="m",
    outcome="y",
    alternatives=(),
    mechanism_measure="m",
    outcome_measure="y",
    alternative_measures=(),
    mechanism_wave=0,
    outcome_wave=0,
    baseline_wave=None,
    strategy_index=0,
    randomization="site",
    x_kind="arm",
    clustered=True,
)


def _result(rows: list[dict], quantity: str = "indirect:monte_carlo") -> PowerResult:
    table = pd.DataFrame(rows)
    table["pathway"] = TARGET.id
    table["quantity"] = quantity
    table["power"] = table["successes"] / table["reps"]
    table["mc_se"] = np.sqrt(table["power"] * (1 - table["power"]) / table["reps"])
    table["estimated"] = True
    table["n"] = table["sites"] * table["per_site_expected"]
    return PowerResult(
        table=table, model_id="m", targets=(TARGET,), points=(), settings={"method": "monte_carlo"}
    )


def _grid(sizes, per_site=None, reps=400, intercept=-6.0, slope=2.4, per_slope=0.0):
    rows = []
    for sites in sizes:
        for n in per_site or [None]:
            logit = intercept + slope * np.log(sites) + (per_slope * np.log(n) if n else 0.0)
            rows.append(
                {
                    "sites": sites,
                    "per_site": n,
                    "waves": None,
                    "per_site_expected": float(n or 20),
                    "successes": round(reps * special.expit(logit)),
                    "reps": reps,
                }
            )
    return rows


def test_fit_equals_a_glm_on_replication_level_data():
    """The counts fit is the GLM of per-replication 0/1 successes on log(size) (statsmodels, expanded)."""
    result = _result(_grid([10, 20, 30, 40], reps=200))
    search = sample_size_search(result, target=0.8)
    table = result.table
    y = np.concatenate(
        [np.r_[np.ones(s), np.zeros(r - s)] for s, r in zip(table["successes"], table["reps"], strict=True)]
    )
    x = np.concatenate([np.full(r, np.log(n)) for n, r in zip(table["sites"], table["reps"], strict=True)])
    reference = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    assert search.coefficients["intercept"] == pytest.approx(reference.params[0], rel=1e-6)
    assert search.coefficients["log_size"] == pytest.approx(reference.params[1], rel=1e-6)
    assert search.coefficients["se_log_size"] == pytest.approx(reference.bse[1], rel=1e-4)
    expected = np.exp((special.logit(0.8) - reference.params[0]) / reference.params[1])
    assert search.fitted_size == pytest.approx(expected, rel=1e-6)
    assert search.required == int(np.ceil(expected))


def test_recovers_the_size_of_a_known_curve():
    search = sample_size_search(_result(_grid([8, 12, 16, 24, 32], reps=5000)), target=0.8)
    true_size = np.exp((special.logit(0.8) + 6.0) / 2.4)  # 21.7
    assert search.fitted_size == pytest.approx(true_size, rel=0.03)
    low, high = search.fitted_interval
    assert low < true_size < high
    assert search.smallest_reaching == 24
    assert list(search.grid["reached"]) == [False, False, False, True, True]
    assert search.sentence().startswith("About 22 sites reach power 0.80")


def test_cheapest_design_over_sites_and_recipients():
    rows = _grid([10, 20, 40], per_site=[10, 20, 40], reps=2000, intercept=-9.0, slope=1.8, per_slope=1.2)
    search = sample_size_search(_result(rows), target=0.8, cost_site=5000, cost_recipient=50)
    best = search.cheapest["fitted"]
    # Check against brute force over the same integer ranges with the same fitted coefficients.
    coef = search.coefficients
    s, n = np.meshgrid(np.arange(10, 41), np.arange(10, 41), indexing="ij")
    power = special.expit(
        coef["intercept"] + coef["log_sites"] * np.log(s) + coef["log_per_site"] * np.log(n)
    )
    cost = np.where(power >= 0.8, s * 5000 + s * n * 50, np.inf)
    i, j = np.unravel_index(np.argmin(cost), cost.shape)
    assert (best["sites"], best["per_site"]) == (s[i, j], n[i, j])
    assert best["cost"] == design_cost(s[i, j], n[i, j], 5000, 50)
    grid_best = search.cheapest["grid"]
    reached = search.grid[search.grid["reached"]]
    assert grid_best["cost"] == reached["cost"].min()


def test_separation_and_flat_curves_are_reported():
    rows = _grid([10, 20], reps=100)
    rows[0]["successes"], rows[1]["successes"] = 0, 100
    search = sample_size_search(_result(rows), target=0.8)
    assert search.fitted_interval is None and any("separation" in note for note in search.notes)
    falling = _grid([10, 20, 30], reps=300, slope=-1.0, intercept=3.0)
    flat = sample_size_search(_result(falling), target=0.8)
    assert flat.required is None and any("does not rise" in note for note in flat.notes)


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        (_grid([10]), {}, "single design"),
        (_grid([10, 20]), {"target": 1.2}, "between 0 and 1"),
        (_grid([10, 20], per_site=[10, 20]), {}, "say which to size"),
        (_grid([10, 20]), {"dimension": "cost"}, "dimension must be"),
    ],
)
def test_bad_searches_are_clear_errors(rows, options, message):
    with pytest.raises(MoclabError, match=message):
        sample_size_search(_result(rows), **options)


def test_a_size_beyond_the_grid_is_never_given_as_the_answer():
    """Power far below the target at every size: the fitted curve crosses it beyond the largest size
    simulated, which the search reports as an extrapolation, not as the number of sites needed."""
    search = sample_size_search(_result(_grid([10, 20, 30], reps=400, intercept=-9.0)), target=0.8)
    assert search.fitted_size > 30
    assert search.required is None and search.smallest_reaching is None
    assert search.sentence().startswith("More than 30 sites for power 0.80")
    assert "x → m → y" in search.sentence() and "About" not in search.sentence()
    assert any("extrapolation" in note and "40:60:10" in note for note in search.notes)


def test_answers_read_the_grid_with_a_wilson_interval():
    from statsmodels.stats.proportion import proportion_confint

    rows = _grid([10, 20, 30], reps=200)  # power 0.15, 0.55, 0.82
    answer = power_answers(_result(rows), target=0.8).iloc[0]
    assert answer["status"] == "reached" and answer["size"] == 30 and answer["dimension"] == "sites"
    successes = rows[2]["successes"]
    assert answer["power"] == successes / 200
    low, high = proportion_confint(successes, 200, alpha=0.05, method="wilson")
    assert (answer["low"], answer["high"]) == pytest.approx((low, high), rel=1e-9)
    beyond = power_answers(_result(rows), target=0.9).iloc[0]
    assert beyond["status"] == "not reached" and beyond["size"] is None
    assert beyond["power"] == successes / 200 and beyond["largest"] == "30 sites"
    assert beyond["next_sweep"] == "40:60:10"


def test_answers_say_a_criterion_was_not_testable():
    rows = _grid([10, 20], reps=50)
    result = _result(rows, quantity="criterion:specificity")
    result.table["power"] = np.nan
    result.table["testable"] = False
    result.table["reason"] = "not testable in any replication: no competing mechanism was measured"
    answer = power_answers(result, quantities=["criterion:specificity"]).iloc[0]
    assert answer["status"] == "not testable" and np.isnan(answer["power"])
    assert "no competing mechanism" in answer["reason"]
