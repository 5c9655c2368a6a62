"""Analytic multilevel mediation power (`moclab.design.multilevel`) against outside references.

References used here:

* PowerUpR 1.1.0 (Bulus, Dong, Kelcey & Spybrook), help page ``cra2r2``: its documented cross-checks pair an
  MDES call with the power call at the MDES it returns. ``mdes.med221(escp=.1, powera=.90, powerb=.90,
  rho2=.15, r22=.52, r21=.40, r2m2=.50, n=100, J=40, p=.5)`` gives esa .6596 and esb .1891, and the example
  ``power.med221(esa=0.6596, esb=0.1891, ...)`` must return power .90 for each path; likewise
  ``mdes.med211(escp=.1, powera=.90, powerB=.90, powerb1=.90, rhom2=.3, rho2=.3, r22=.6, r21=.6, r2m2=.6,
  r2m1=.6, n=30, J=80, p=.1)`` and ``power.med211(esa=0.4135, esb1=0.0670, esB=0.3595, ...)``; and for the
  main effect ``mdes.cra2r2(rho2=.17, n=15, J=20)`` = .629 with ``power.cra2r2(es=.629, ...)`` = .80.
* Monte Carlo simulations written here: data generated with numpy from each design's model, analysed by
  least squares on site means (2-1-1, 2-2-1; the same estimates as `multilevel_mediate` on balanced data,
  checked on one data set) or with site fixed effects (1-1-1; checked against statsmodels OLS). The
  formulas' variances are large-J approximations: the exact variance of a least-squares slope on a random
  regressor is σ²/(s²(J − k − 1)) with k predictors, where the formulas have σ²/(s²·J) (PowerUpR uses
  smaller degrees of freedom in the t test instead); the simulated SDs are compared with the exact values.
* Closed forms: the ordinary single-level Sobel power (1-1-1 with ICC 0), the normal test of a path (the
  Monte Carlo interval test when b is known), Raudenbush's (1997) optimal site size.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from moclab.analysis.multilevel import multilevel_mediate
from moclab.design.multilevel import (
    MultilevelMediationDesign,
    multilevel_power,
    optimal_allocation,
    path_power,
    path_standard_errors,
)
from moclab.errors import MoclabError

# ------------------------------------------------------------------------------------------------------
# Published values: PowerUpR's documented cross-checks
# ------------------------------------------------------------------------------------------------------


def test_221_reproduces_powerupr_cross_check():
    design = MultilevelMediationDesign(
        "2-2-1", a=0.6596, b=0.1891, direct=0.1, icc_y=0.15, r2_y2=0.52, r2_y1=0.40, r2_m2=0.50, p=0.5
    )
    row = multilevel_power(design, sites=40, per_site=100, tests=["joint", "sobel"]).iloc[0]
    # mdes.med221(powera = .90, powerb = .90, ...) returned these effects: power .90 for each path
    assert row["power_a"] == pytest.approx(0.90, abs=0.002)
    assert row["power_b"] == pytest.approx(0.90, abs=0.002)
    assert row["power_joint"] == pytest.approx(row["power_a"] * row["power_b"], abs=1e-12)


def test_211_reproduces_powerupr_cross_check():
    design = MultilevelMediationDesign(
        "2-1-1",
        a=0.4135,
        b=0.3595,
        b_within=0.0670,
        direct=0.1,
        icc_m=0.3,
        icc_y=0.3,
        r2_y2=0.6,
        r2_y1=0.6,
        r2_m2=0.6,
        r2_m1=0.6,
        p=0.1,
    )
    row = multilevel_power(design, sites=80, per_site=30, tests=["joint"]).iloc[0]
    # mdes.med211(powera = .90, powerB = .90, powerb1 = .90, ...) returned these effects
    assert row["power_a"] == pytest.approx(0.90, abs=0.002)
    assert row["power_b"] == pytest.approx(0.90, abs=0.002)
    assert row["power_b_within"] == pytest.approx(0.90, abs=0.003)


def test_path_power_reproduces_powerupr_main_effect_cross_check():
    # power.cra2r2(es = .629, rho2 = .17, n = 15, J = 20) = .80: t test with J - 2 df, SE of a CRT
    rho, n, j, pq = 0.17, 15, 20, 0.25
    se = math.sqrt(rho / (pq * j) + (1 - rho) / (pq * j * n))
    assert float(path_power(0.629, se, j - 2)) == pytest.approx(0.80, abs=0.002)


# ------------------------------------------------------------------------------------------------------
# Monte Carlo simulations from each design's model
# ------------------------------------------------------------------------------------------------------


def _ols_slopes(y: np.ndarray, columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of y (reps × J) on an intercept and the columns (each reps × J), all reps at once."""
    x = np.stack([np.ones_like(y), *columns], axis=-1)
    xtx = np.einsum("rji,rjk->rik", x, x)
    xty = np.einsum("rji,rj->ri", x, y)
    beta = np.linalg.solve(xtx, xty[..., None])[..., 0]
    resid = y - np.einsum("rji,ri->rj", x, beta)
    sigma2 = (resid**2).sum(axis=1) / (y.shape[1] - x.shape[2])
    se = np.sqrt(sigma2[:, None] * np.diagonal(np.linalg.inv(xtx), axis1=1, axis2=2))
    return beta, se


def _simulate_211(design: MultilevelMediationDesign, j: int, n: int, reps: int, rng: np.random.Generator):
    """reps data sets of the 2-1-1 model (Kelcey et al. 2017): arrays reps × J × n."""
    pq = design.p * (1 - design.p)
    tau2_m = design.icc_m - pq * design.a**2
    sigma2_m = 1 - design.icc_m
    sigma2_y = (1 - design.icc_y) - sigma2_m * design.b_within**2
    tau2_y = (
        design.icc_y - pq * (design.a * design.b + design.direct) ** 2 - design.b**2 * (tau2_m + sigma2_m / n)
    )
    treated = (np.arange(j) < round(design.p * j)).astype(float)
    m = design.a * treated[None, :, None] + rng.normal(0, math.sqrt(tau2_m), (reps, j, 1))
    m = m + rng.normal(0, math.sqrt(sigma2_m), (reps, j, n))
    m_bar = m.mean(axis=2, keepdims=True)
    y = (
        design.direct * treated[None, :, None]
        + design.b * m_bar
        + design.b_within * (m - m_bar)
        + rng.normal(0, math.sqrt(tau2_y), (reps, j, 1))
        + rng.normal(0, math.sqrt(sigma2_y), (reps, j, n))
    )
    return treated, m, y


def test_211_standard_errors_match_simulation_and_multilevel_mediate():
    design = MultilevelMediationDesign(
        "2-1-1", a=0.4, b=0.5, b_within=0.2, direct=0.1, icc_m=0.2, icc_y=0.25, p=0.5
    )
    j, n, reps = 40, 10, 4000
    rng = np.random.default_rng(211)
    treated, m, y = _simulate_211(design, j, n, reps, rng)
    t = np.broadcast_to(treated, (reps, j))
    a_hat, a_se = _ols_slopes(m.mean(axis=2), [t])
    b_hat, b_se = _ols_slopes(y.mean(axis=2), [m.mean(axis=2), t])
    m_w = (m - m.mean(axis=2, keepdims=True)).reshape(reps, -1)
    y_w = (y - y.mean(axis=2, keepdims=True)).reshape(reps, -1)
    bw_hat = (m_w * y_w).sum(axis=1) / (m_w**2).sum(axis=1)

    se = path_standard_errors(design, j, n)
    # a: site means on a fixed arm indicator, exact; B: random regressor with 2 predictors, J/(J - 3)
    # (the exact variance has J - 2 - 2 in the denominator, here written as the ratio to the formula's J)
    expected = {
        "a": float(se["a"]),
        "b": float(se["b"]) * math.sqrt(j / (j - 4)),
        "b_within": float(se["b_within"]) * math.sqrt(j * (n - 1) / (j * (n - 1) - 2)),
    }
    for name, draws in (("a", a_hat[:, 1]), ("b", b_hat[:, 1]), ("b_within", bw_hat)):
        sd = draws.std(ddof=1)
        # the SD of R normal draws has relative SE 1/sqrt(2(R - 1)); 4 SEs
        assert sd == pytest.approx(expected[name], rel=4 / math.sqrt(2 * (reps - 1))), name
    assert a_hat[:, 1].mean() == pytest.approx(design.a, abs=4 * expected["a"] / math.sqrt(reps))
    assert b_hat[:, 1].mean() == pytest.approx(design.b, abs=4 * expected["b"] / math.sqrt(reps))

    # power of the joint test: share of data sets with both t tests significant (their df: J - 2, J - 3)
    reject_a = np.abs(a_hat[:, 1] / a_se[:, 1]) > stats.t.ppf(0.975, j - 2)
    reject_b = np.abs(b_hat[:, 1] / b_se[:, 1]) > stats.t.ppf(0.975, j - 3)
    simulated = float(np.mean(reject_a & reject_b))
    analytic = float(multilevel_power(design, j, n, tests=["joint"])["power_joint"].iloc[0])
    mc_se = math.sqrt(simulated * (1 - simulated) / reps)
    # PowerUpR's smaller df (J - 4, J - 5) make the analytic power a little conservative
    assert simulated - 4 * mc_se - 0.005 <= analytic <= simulated + 4 * mc_se

    # the estimator above is what multilevel_mediate computes on a balanced 2-1-1 data set
    frame = pd.DataFrame(
        {
            "site": np.repeat(np.arange(j), n),
            "arm": np.repeat(treated, n),
            "m": m[0].ravel(),
            "y": y[0].ravel(),
        }
    )
    fitted = multilevel_mediate(frame, x="arm", m="m", y="y", cluster="site", seed=1, n_mc=1000)
    assert fitted.effect("a").estimate == pytest.approx(a_hat[0, 1], abs=1e-6)
    assert fitted.effect("b").estimate == pytest.approx(b_hat[0, 1], abs=1e-5)
    assert fitted.effect("b_within").estimate == pytest.approx(bw_hat[0], abs=1e-5)


def test_221_standard_errors_match_simulation():
    design = MultilevelMediationDesign("2-2-1", a=0.5, b=0.3, direct=0.1, icc_y=0.2, r2_m2=0.3, p=0.4)
    j, n, reps = 30, 15, 4000
    pq = design.p * (1 - design.p)
    tau2_m = 1 - design.r2_m2 - pq * design.a**2
    tau2_y = design.icc_y - pq * (design.a * design.b + design.direct) ** 2 - design.b**2 * tau2_m
    rng = np.random.default_rng(221)
    treated = np.broadcast_to((np.arange(j) < round(design.p * j)).astype(float), (reps, j))
    # the mediator's covariates explain r2_m2 of its variance: the residual left is tau2_m
    m = design.a * treated + rng.normal(0, math.sqrt(tau2_m), (reps, j))
    y_bar = (
        design.direct * treated
        + design.b * m
        + rng.normal(0, math.sqrt(tau2_y), (reps, j))
        + rng.normal(0, math.sqrt((1 - design.icc_y) / n), (reps, j))
    )
    a_hat, _ = _ols_slopes(m, [treated])
    b_hat, _ = _ols_slopes(y_bar, [m, treated])
    se = path_standard_errors(design, j, n)
    tolerance = 4 / math.sqrt(2 * (reps - 1))
    assert a_hat[:, 1].std(ddof=1) == pytest.approx(float(se["a"]), rel=tolerance)
    assert b_hat[:, 1].std(ddof=1) == pytest.approx(float(se["b"]) * math.sqrt(j / (j - 4)), rel=tolerance)


def _simulate_111(design: MultilevelMediationDesign, j: int, n: int, reps: int, rng: np.random.Generator):
    """Multisite trial: in every site a share p of recipients treated; random effect of T on M (ω)."""
    treated = (np.arange(n) < round(design.p * n)).astype(float)
    sigma2_m = 1 - design.icc_m
    sigma2_y = 1 - design.icc_y
    slope = design.a + rng.normal(0, math.sqrt(design.a_variance), (reps, j, 1))
    m = (
        rng.normal(0, math.sqrt(design.icc_m), (reps, j, 1))
        + slope * treated
        + rng.normal(0, math.sqrt(sigma2_m), (reps, j, n))
    )
    y = (
        rng.normal(0, math.sqrt(design.icc_y), (reps, j, 1))
        + design.b * m
        + 0.1 * treated
        + rng.normal(0, math.sqrt(sigma2_y), (reps, j, n))
    )
    return treated, m, y


def _within(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(axis=-1, keepdims=True)).reshape(values.shape[0], -1)


def test_111_standard_errors_match_simulation_with_site_fixed_effects():
    j, n, reps = 25, 12, 4000
    rng = np.random.default_rng(111)
    tolerance = 4 / math.sqrt(2 * (reps - 1))

    # a path, with site-to-site variation of the strategy's effect
    design = MultilevelMediationDesign("1-1-1", a=0.3, b=0.3, icc_m=0.2, icc_y=0.2, a_variance=0.05, p=0.5)
    treated, m, _ = _simulate_111(design, j, n, reps, rng)
    t_w = _within(np.broadcast_to(treated, m.shape))
    a_hat = (t_w * _within(m)).sum(axis=1) / (t_w**2).sum(axis=1)
    assert a_hat.std(ddof=1) == pytest.approx(float(path_standard_errors(design, j, n)["a"]), rel=tolerance)

    # b path (constant effect of the strategy): within-site regression of y on m and the arm
    design = MultilevelMediationDesign("1-1-1", a=0.3, b=0.3, icc_m=0.2, icc_y=0.2, p=0.5)
    treated, m, y = _simulate_111(design, j, n, reps, rng)
    t_w = _within(np.broadcast_to(treated, m.shape))
    m_w, y_w = _within(m), _within(y)
    m_resid = m_w - t_w * ((t_w * m_w).sum(axis=1) / (t_w**2).sum(axis=1))[:, None]
    b_hat = (m_resid * y_w).sum(axis=1) / (m_resid**2).sum(axis=1)
    # exact: residual df of M within sites after the arm, J(n - 1) - 1, minus 2
    exact = float(path_standard_errors(design, j, n)["b"]) * math.sqrt(j * n / (j * (n - 1) - 3))
    assert b_hat.std(ddof=1) == pytest.approx(exact, rel=tolerance)

    # the vectorized estimator is statsmodels' OLS with site dummies on one data set
    frame = pd.DataFrame(
        {"site": np.repeat(np.arange(j), n), "t": np.tile(treated, j), "m": m[0].ravel(), "y": y[0].ravel()}
    )
    dummies = pd.get_dummies(frame["site"], prefix="s", dtype=float)
    fit = sm.OLS(frame["y"], pd.concat([frame[["m", "t"]], dummies], axis=1)).fit()
    assert fit.params["m"] == pytest.approx(b_hat[0], abs=1e-10)


# ------------------------------------------------------------------------------------------------------
# Closed forms
# ------------------------------------------------------------------------------------------------------


def test_111_without_clustering_is_the_ordinary_sobel_and_joint_power():
    design = MultilevelMediationDesign("1-1-1", a=0.3, b=0.25, icc_m=0.0, icc_y=0.0, p=0.5)
    j, n = 10, 20
    big_n = j * n
    row = multilevel_power(design, j, n, tests=["sobel", "joint"]).iloc[0]
    # single-level OLS of standardized variables, treated share p: Var(a) = 1/(N p(1-p)), Var(b) = 1/N
    se_a, se_b = math.sqrt(1 / (big_n * 0.25)), math.sqrt(1 / big_n)
    se_ab = math.sqrt(design.a**2 * se_b**2 + design.b**2 * se_a**2)
    z = stats.norm.ppf(0.975)
    sobel = stats.norm.sf(z - design.a * design.b / se_ab) + stats.norm.cdf(-z - design.a * design.b / se_ab)
    assert row["power_sobel"] == pytest.approx(sobel, abs=1e-12)
    assert row["se_a"] == pytest.approx(se_a) and row["se_b"] == pytest.approx(se_b)


def test_monte_carlo_interval_power_is_the_z_test_of_a_when_b_is_known():
    # b estimated with (nearly) no error: the interval of a·b excludes 0 exactly when â's z test rejects
    design = MultilevelMediationDesign("1-1-1", a=0.3, b=10.0, icc_m=0.1, icc_y=0.1, p=0.5)
    row = multilevel_power(design, 30, 4, tests=["monte_carlo"], n_sims=4000, n_draws=4000, seed=3).iloc[0]
    assert row["se_b"] * design.a / (design.b * row["se_a"]) < 0.03
    normal = float(path_power(design.a, row["se_a"], math.inf))
    assert row["power_monte_carlo"] == pytest.approx(normal, abs=4 * row["mc_se"] + 0.005)


def test_optimal_site_size_for_the_a_path_is_raudenbush_closed_form():
    # Var(a) = (tau2 + sigma2/n)/(J p(1-p)) with J = budget/(c_site + n c_recipient): minimized at
    # n* = sqrt((c_site/c_recipient) sigma2/tau2) (Raudenbush 1997, with the residual ICC)
    design = MultilevelMediationDesign("2-1-1", a=0.2, b=0.3, icc_m=0.1, icc_y=0.2)
    tau2, sigma2 = 0.1 - 0.25 * 0.2**2, 0.9
    best = optimal_allocation(design, cost_site=2000, cost_recipient=100, budget=2_000_000, test="a")
    closed = math.sqrt(2000 / 100 * sigma2 / tau2)
    assert abs(best.per_site - closed) <= 1
    assert best.sites == math.floor(2_000_000 / (2000 + 100 * best.per_site))


def _brute_force_power(design, sizes, sites):
    """Every (J, n) pair of the grid through multilevel_power, a table of powers of the joint test."""
    rows = [
        multilevel_power(design, int(j), int(n), tests=["joint"]) for j, n in zip(sites, sizes, strict=True)
    ]
    return pd.concat(rows, ignore_index=True)


def test_optimal_allocation_under_a_budget_matches_a_brute_force_grid():
    design = MultilevelMediationDesign("2-2-1", a=0.5, b=0.35, icc_y=0.15, r2_y1=0.3)
    budget, c_site, c_rec = 150_000, 3000, 40
    sizes = np.arange(2, 201)
    sites = np.floor(budget / (c_site + sizes * c_rec))
    table = _brute_force_power(design, sizes, sites)
    table = table[table["sites"] >= 5]
    expected = table.loc[table["power_joint"].idxmax()]
    best = optimal_allocation(design, cost_site=c_site, cost_recipient=c_rec, budget=budget)
    assert (best.per_site, best.sites) == (int(expected["per_site"]), int(expected["sites"]))
    assert best.power == pytest.approx(expected["power_joint"], abs=1e-12)
    assert best.cost <= budget


def test_cheapest_allocation_for_a_target_matches_a_brute_force_search():
    design = MultilevelMediationDesign("2-1-1", a=0.5, b=0.4, icc_m=0.15, icc_y=0.2, r2_y2=0.3)
    c_site, c_rec, target = 1000, 50, 0.8
    best = optimal_allocation(
        design, cost_site=c_site, cost_recipient=c_rec, target=target, per_site=range(2, 41)
    )
    cheapest = None
    for n in range(2, 41):
        powers = multilevel_power(design, range(6, 400), n, tests=["joint"])
        reached = powers[powers["power_joint"] >= target]
        if reached.empty:
            continue
        j = int(reached["sites"].min())
        cost = j * (c_site + n * c_rec)
        if cheapest is None or cost < cheapest[0]:
            cheapest = (cost, j, n)
    assert cheapest is not None
    assert (best.cost, best.sites, best.per_site) == (float(cheapest[0]), cheapest[1], cheapest[2])
    assert best.power >= target
    assert "Cheapest design reaching power 0.80" in best.sentence()


# ------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"icc_y": 1.0}, "an ICC lies in [0, 1)"),
        ({"icc_m": -0.1}, "an ICC lies in [0, 1)"),
        ({"p": 1.0}, "the treated share lies in (0, 1)"),
        ({"p": 0.0}, "the treated share lies in (0, 1)"),
        ({"design": "3-1-1"}, "is not known"),
        ({"r2_y1": 1.2}, "R² of covariates"),
        ({"a": 1.5}, "cannot hold together"),  # p(1-p)a² exceeds the mechanism's ICC
        ({"icc_m": None}, "needs icc_m"),
    ],
)
def test_bad_design_parameters_are_refused(changes, message):
    parameters = {"design": "2-1-1", "a": 0.4, "b": 0.3, "icc_m": 0.2, "icc_y": 0.2} | changes
    with pytest.raises(
        MoclabError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        MultilevelMediationDesign(**parameters)


def test_bad_allocation_requests_are_refused():
    design = MultilevelMediationDesign("2-2-1", a=0.5, b=0.35, icc_y=0.15)
    with pytest.raises(MoclabError, match="does not pay for the 5 sites"):
        optimal_allocation(design, cost_site=5000, cost_recipient=50, budget=4000)
    with pytest.raises(MoclabError, match="either a budget or a target"):
        optimal_allocation(design, cost_site=5000, cost_recipient=50, budget=1e6, target=0.8)
    with pytest.raises(MoclabError, match="either a budget or a target"):
        optimal_allocation(design, cost_site=5000, cost_recipient=50)
    with pytest.raises(MoclabError, match="a power lies between 0 and 1"):
        optimal_allocation(design, cost_site=5000, cost_recipient=50, target=1.2)
    with pytest.raises(MoclabError, match="a cost is a number of at least 0"):
        optimal_allocation(design, cost_site=-1, cost_recipient=50, budget=1e6)
    with pytest.raises(MoclabError, match="not offered"):
        optimal_allocation(design, cost_site=5000, cost_recipient=50, budget=1e6, test="monte_carlo")
    with pytest.raises(MoclabError, match="not reached with up to 50 sites"):
        optimal_allocation(design, cost_site=5000, cost_recipient=50, target=0.99, max_sites=50)


def test_too_few_sites_give_no_power_rather_than_a_number():
    design = MultilevelMediationDesign("2-1-1", a=0.4, b=0.3, icc_m=0.2, icc_y=0.2)
    table = multilevel_power(design, [5, 6], 10, tests=["joint", "sobel"])
    assert table["power_joint"].isna().tolist() == [True, False]
    assert table["power_sobel"].isna().tolist() == [True, False]


def test_allocation_speaks_the_result_protocol():
    design = MultilevelMediationDesign("2-2-1", a=0.8, b=0.3, icc_y=0.2)
    best = optimal_allocation(
        design, cost_site=3000, cost_recipient=40, budget=150_000, per_site=range(2, 31)
    )
    decoded = json.loads(json.dumps(best.to_dict(), allow_nan=False))
    assert (decoded["sites"], decoded["per_site"]) == (best.sites, best.per_site)
    assert len(decoded["table"]) == 29 and best.to_frame().shape == (29, 4)
    expected = f"{best.sites} sites × {best.per_site}, joint power {best.power:.3f}, cost {best.cost:,.0f}"
    assert repr(best) == f"Allocation(2-2-1: {expected})"
    assert str(best).startswith(best.sentence()) and "per_site" in str(best)
    assert best.sentence() in best._repr_html_()
