"""Checks of `sensitivity` against OLS closed forms, brute-force maximum likelihood, simulations with known
error correlation and the reporting conventions of the R function medsens."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from public_data import MEDIATION_DATA
from scipy import optimize, stats

from moclab.analysis.sensitivity import sensitivity
from moclab.errors import DataError

# The public example data live beside the repository (tests/public_data.py finds them).
DATA = MEDIATION_DATA
JOBS_FULL = ["depress1", "econ_hard", "sex", "age", "occp", "marital", "nonwhite", "educ", "income"]
RHS_FULL = " + ".join(JOBS_FULL)


@pytest.fixture(scope="module")
def jobs() -> pd.DataFrame:
    return pd.read_csv(DATA / "jobs.csv")


@pytest.fixture(scope="module")
def jobs_sensitivity(jobs: pd.DataFrame):
    return sensitivity(jobs, x="treat", m="job_seek", y="depress2", covariates=JOBS_FULL)


def test_rho_zero_is_product_of_coefficients_with_sobel_band(jobs: pd.DataFrame, jobs_sensitivity) -> None:
    """At rho = 0: ACME = a*b and the band is a*b +/- z sqrt(b^2 Va + a^2 Vb) with OLS standard errors."""
    med = smf.ols(f"job_seek ~ treat + {RHS_FULL}", jobs).fit()
    out = smf.ols(f"depress2 ~ treat + job_seek + {RHS_FULL}", jobs).fit()
    a, b = med.params["treat"], out.params["job_seek"]
    se = np.sqrt(b**2 * med.bse["treat"] ** 2 + a**2 * out.bse["job_seek"] ** 2)
    z = stats.norm.ppf(0.975)
    acme = jobs_sensitivity.effect("acme")
    assert acme.estimate == pytest.approx(a * b, abs=1e-12)
    assert acme.se == pytest.approx(se, rel=1e-9)
    row = jobs_sensitivity.curve.loc[np.isclose(jobs_sensitivity.curve["rho"], 0.0)].iloc[0]
    assert row["acme"] == pytest.approx(a * b, abs=1e-12)
    assert row["ci_low"] == pytest.approx(a * b - z * se, rel=1e-9)
    assert row["ci_high"] == pytest.approx(a * b + z * se, rel=1e-9)
    assert row["ade"] == pytest.approx(out.params["treat"], abs=1e-12)
    assert row["ade_se"] == pytest.approx(out.bse["treat"], rel=1e-9)


def test_rho_at_zero_and_r_squared_products(jobs: pd.DataFrame, jobs_sensitivity) -> None:
    """The ACME vanishes where rho equals the correlation of the mediator-model residuals and the residuals of
    the outcome regressed without the mediator (IKY 2010, Theorem 2); R*^2 product = rho^2 and
    R~^2 product = rho^2 (1 - R^2_M)(1 - R^2_Y)."""
    med = smf.ols(f"job_seek ~ treat + {RHS_FULL}", jobs).fit()
    reduced = smf.ols(f"depress2 ~ treat + {RHS_FULL}", jobs).fit()
    out = smf.ols(f"depress2 ~ treat + job_seek + {RHS_FULL}", jobs).fit()
    rho_tilde = np.corrcoef(med.resid, reduced.resid)[0, 1]
    res = jobs_sensitivity
    assert res.rho_at_zero == pytest.approx(rho_tilde, abs=1e-12)
    assert res.rho_at_zero == pytest.approx(-0.2100, abs=5e-5)
    assert res.r2_star_product == pytest.approx(rho_tilde**2, abs=1e-12)
    expected_tilde = rho_tilde**2 * (1 - med.rsquared) * (1 - out.rsquared)
    assert res.r2_tilde_product == pytest.approx(expected_tilde, abs=1e-12)
    assert res.r2_mediator == pytest.approx(med.rsquared, abs=1e-12)
    assert res.r2_outcome == pytest.approx(out.rsquared, abs=1e-12)
    at_root = sensitivity(
        jobs, x="treat", m="job_seek", y="depress2", covariates=JOBS_FULL, rho=[res.rho_at_zero]
    )
    assert at_root.curve["acme"].iloc[0] == pytest.approx(0.0, abs=1e-14)
    # the curve changes sign between the grid neighbours of the root
    curve = res.curve.set_index(res.curve["rho"].round(2))
    assert curve.loc[-0.21, "acme"] * curve.loc[-0.20, "acme"] < 0
    assert curve["r2_star_product"].to_numpy() == pytest.approx(curve.index.to_numpy() ** 2)


def test_medsens_reporting_convention_on_jobs(jobs_sensitivity) -> None:
    """medsens (rho.by = 0.1) reports the grid value nearest the root and its R-squared products; for JOBS II
    with the full covariate set that is rho = -0.2, R*^2_M R*^2_Y = 0.04 and R~^2 product 0.04 (1 - R^2_M)
    (1 - R^2_Y) = 0.0261."""
    rho = jobs_sensitivity.curve["rho"]
    coarse = jobs_sensitivity.curve[np.isclose(np.round(rho * 10), rho * 10, atol=1e-9)]
    assert len(coarse) == 19
    nearest = coarse.iloc[np.argmin(np.abs(coarse["acme"].to_numpy()))]
    assert nearest["rho"] == pytest.approx(-0.2)
    assert nearest["r2_star_product"] == pytest.approx(0.04)
    assert nearest["r2_tilde_product"] == pytest.approx(0.0261, abs=5e-5)


def _simulate(n: int, rho: float, rng: np.random.Generator) -> pd.DataFrame:
    c = rng.normal(size=n)
    x = rng.integers(0, 2, n)
    errors = rng.multivariate_normal([0, 0], [[1.0, rho * 1.5], [rho * 1.5, 2.25]], size=n)
    m = 0.5 + 0.8 * x + 0.3 * c + errors[:, 0]
    y = 1.0 + 0.2 * x + 0.6 * m - 0.4 * c + errors[:, 1]
    return pd.DataFrame({"x": x, "m": m, "y": y, "c": c})


def test_closed_form_equals_brute_force_maximum_likelihood() -> None:
    """For fixed rho, maximise the bivariate normal likelihood of (M, Y) numerically over all coefficients and
    both error SDs; the ACME a*b at the optimum equals the closed form."""
    rng = np.random.default_rng(21)
    data = _simulate(300, 0.3, rng)
    design = np.column_stack([np.ones(300), data["x"], data["c"]])
    design_y = np.column_stack([design, data["m"]])

    for rho in (-0.5, 0.35):

        def negative_loglik(params: np.ndarray, rho: float = rho) -> float:
            beta, theta = params[:3], params[3:7]
            s2, s3 = np.exp(params[7]), np.exp(params[8])
            e2 = data["m"].to_numpy() - design @ beta
            e3 = data["y"].to_numpy() - design_y @ theta
            quad = (e2 / s2) ** 2 - 2 * rho * (e2 / s2) * (e3 / s3) + (e3 / s3) ** 2
            return 300 * (np.log(s2 * s3) + 0.5 * np.log(1 - rho**2)) + 0.5 * np.sum(quad) / (1 - rho**2)

        start = np.array([0.5, 0.8, 0.3, 1.0, 0.2, -0.4, 0.6, 0.0, 0.4])
        fit = optimize.minimize(
            negative_loglik, start, method="BFGS", options={"gtol": 1e-9, "maxiter": 10000}
        )
        brute_acme = fit.x[1] * fit.x[6]
        res = sensitivity(data, x="x", m="m", y="y", covariates=["c"], rho=[rho])
        assert res.curve["acme"].iloc[0] == pytest.approx(brute_acme, abs=1e-5)
        assert res.curve["ade"].iloc[0] == pytest.approx(fit.x[4], abs=1e-5)


def test_simulation_with_known_error_correlation() -> None:
    """Errors correlated at rho = 0.4: the naive estimate (rho = 0) is biased by rho*s3/s2 * a = 0.48, while
    the curve evaluated at the true rho recovers the true ACME a*b = 0.48; the band there covers it."""
    rng = np.random.default_rng(8)
    data = _simulate(100_000, 0.4, rng)
    res = sensitivity(
        data, x="x", m="m", y="y", covariates=["c"], rho=np.round(np.linspace(-0.9, 0.9, 19), 10)
    )
    curve = res.curve.set_index(res.curve["rho"].round(1))
    truth = 0.8 * 0.6
    assert res.effect("acme").estimate == pytest.approx(truth + 0.8 * 0.4 * 1.5, abs=0.02)
    assert curve.loc[0.4, "acme"] == pytest.approx(truth, abs=0.015)
    assert curve.loc[0.4, "ci_low"] < truth < curve.loc[0.4, "ci_high"]
    assert curve.loc[0.4, "ade"] == pytest.approx(0.2, abs=0.02)


def test_band_coverage_at_true_rho() -> None:
    """Over 200 simulated studies (n = 400) with error correlation 0.3, the 95% band at rho = 0.3 covers the
    true ACME in 90-99% of them (a loose check of the approximate GLS/delta-method band)."""
    rng = np.random.default_rng(99)
    covered = 0
    for _ in range(200):
        res = sensitivity(_simulate(400, 0.3, rng), x="x", m="m", y="y", covariates=["c"], rho=[0.3])
        covered += res.curve["ci_low"].iloc[0] < 0.48 < res.curve["ci_high"].iloc[0]
    assert 0.90 <= covered / 200 <= 0.99


def test_plot_draws_curve_band_zero_line_and_root(jobs_sensitivity) -> None:
    ax = jobs_sensitivity.plot()
    assert "ρ" in ax.get_xlabel()
    lines = {line.get_label(): line for line in ax.get_lines()}
    curve_line = lines["ACME(ρ)"]
    np.testing.assert_allclose(curve_line.get_ydata(), jobs_sensitivity.curve["acme"])
    root = next(line for label, line in lines.items() if label.startswith("ACME = 0 at ρ"))
    assert root.get_xdata()[0] == pytest.approx(jobs_sensitivity.rho_at_zero)
    assert any(np.allclose(line.get_ydata(), 0.0) for line in ax.get_lines())
    assert len(ax.collections) == 1  # the band
    _fig, own = plt.subplots()
    assert jobs_sensitivity.plot(ax=own) is own
    plt.close("all")


def test_result_object(jobs_sensitivity) -> None:
    frame = jobs_sensitivity.to_frame()
    assert list(frame.index) == ["acme", "rho_at_zero", "r2_star_product", "r2_tilde_product"]
    assert jobs_sensitivity.to_dict()["info"]["n"] == 899
    assert "Sensitivity" in str(jobs_sensitivity)
    region = jobs_sensitivity.sensitivity_region
    assert ((region["ci_low"] <= 0) & (region["ci_high"] >= 0)).all()


def test_bad_input(jobs: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="rho must be a non-empty grid of values strictly between -1 and 1"):
        sensitivity(jobs, x="treat", m="job_seek", y="depress2", rho=[0.5, 1.0])
    with pytest.raises(DataError, match=r"the mediator 'job_seek' is constant \(every analysed row is 1\)"):
        sensitivity(jobs.assign(job_seek=1.0), x="treat", m="job_seek", y="depress2")
    holed = jobs.copy()
    holed.loc[:9, "depress2"] = np.nan
    res = sensitivity(holed, x="treat", m="job_seek", y="depress2")
    assert res.info["n_dropped"] == 10
    assert res.warnings
