"""`mediation_sensitivity` against published values, PySensemakr, statsmodels and the E-value's closed form.

Each reference says where its numbers come from:

* "published": Cinelli & Hazlett (2020), JRSS-B 82(1), sec. 6 (the Darfur example), as printed; VanderWeele &
  Ding (2017), Annals of Internal Medicine 167(4), the breastfeeding example (RR 3.9, 95 % CI 1.8 to 8.7:
  E-values 7.26 and 3.0);
* "PySensemakr": PySensemakr 0.0.8 (the authors' group's port of sensemakr) run here on its darfur data;
* "statsmodels": the regressions fitted with statsmodels in the test and the closed forms evaluated on them:
  Imai's rho as the residual correlation (Imai, Keele & Yamamoto 2010, Theorem 2), a·b, and the E-value
  RR + sqrt(RR (RR - 1)) (VanderWeele & Ding 2017, eq. 1) of exp(a b) with the Sobel standard error.
"""

from __future__ import annotations

import importlib
import json
import math
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from moclab.analysis import MediationSensitivityResult, mediation_sensitivity
from moclab.errors import DataError

matplotlib.use("Agg")
smkr = importlib.import_module("sensemakr")  # the reference implementation (dev extra; make test installs it)

DARFUR_OTHERS = ["age", "farmer_dar", "pastvoted", "hhsize_darfur", "female", "village"]


def closed_form_e_value(rr: float) -> float:
    """VanderWeele & Ding (2017), eq. 1, written out here (RR below 1 inverted)."""
    rr = 1.0 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1.0))


def test_the_closed_form_reproduces_the_published_e_values() -> None:
    """Published (VanderWeele & Ding 2017): RR 3.9 gives 7.26, its lower limit 1.8 gives 3.0."""
    assert closed_form_e_value(3.9) == pytest.approx(7.26, abs=5e-3)
    assert closed_form_e_value(1.8) == pytest.approx(3.0, abs=5e-3)


# ---------------------------------------------------------------------------------------------------------
# Darfur: the b path is the regression of Cinelli & Hazlett's example
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def darfur() -> pd.DataFrame:
    return smkr.load_darfur()


@pytest.fixture(scope="module")
def darfur_result(darfur: pd.DataFrame) -> MediationSensitivityResult:
    """herder_dar as the 'strategy', directlyharmed as the mechanism: the outcome regression is then exactly
    the paper's (peacefactor on directlyharmed and the seven covariates). A short rho grid: the band's
    covariance has one matrix of ~990 rows per rho with the 486 village indicators."""
    return mediation_sensitivity(
        darfur,
        x="herder_dar",
        m="directlyharmed",
        y="peacefactor",
        covariates=DARFUR_OTHERS,
        benchmark="female",
        rho=[-0.5, 0.5],
    )


@pytest.fixture(scope="module")
def darfur_fits(darfur: pd.DataFrame) -> dict[str, object]:
    """statsmodels fits of the three regressions, each fitted once: the outcome on the mechanism, the
    strategy and the covariates; the mechanism on the strategy and the covariates; the outcome without the
    mechanism."""
    covariates = " + ".join(["herder_dar", *DARFUR_OTHERS])
    return {
        "outcome": smf.ols(f"peacefactor ~ directlyharmed + {covariates}", darfur).fit(),
        "mechanism": smf.ols(f"directlyharmed ~ {covariates}", darfur).fit(),
        "reduced": smf.ols(f"peacefactor ~ {covariates}", darfur).fit(),
    }


def test_darfur_robustness_values_are_the_published_and_pysensemakr_ones(darfur_fits, darfur_result) -> None:
    """Published: b 0.097, partial R2 2.2 %, RV_q 13.9 %, RV_q,a 7.6 %; PySensemakr: the same to 1e-6."""
    result = darfur_result
    assert result.effect("b").estimate == pytest.approx(0.097, abs=5e-4)
    assert result.partial_r2 == pytest.approx(0.022, abs=5e-4)
    assert result.rv_q == pytest.approx(0.139, abs=5e-4)
    assert result.rv_qa == pytest.approx(0.076, abs=5e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = smkr.Sensemakr(
            model=darfur_fits["outcome"], treatment="directlyharmed", q=1.0, alpha=0.05
        )
    statistics = reference.sensitivity_stats
    assert result.partial_r2 == pytest.approx(statistics["r2yd_x"], rel=1e-6)
    assert result.rv_q == pytest.approx(statistics["rv_q"], rel=1e-6)
    assert result.rv_qa == pytest.approx(statistics["rv_qa"], rel=1e-6)


def test_darfur_benchmark_bounds_equal_pysensemakr(darfur_fits, darfur_result) -> None:
    """Bounds for confounders 1-3 times as strong as `female`: the benchmark's partial R2s from statsmodels
    t statistics; the bounds and adjusted estimates and SEs from PySensemakr's ovb_partial_r2_bound,
    adjusted_estimate and adjusted_se (its own benchmark path fails on pandas 3, so the partial R2s are given
    to it), to 1e-6; the adjusted indirect effect is a (statsmodels) times the adjusted b."""
    bounds = darfur_result.bounds
    outcome, mechanism = darfur_fits["outcome"], darfur_fits["mechanism"]
    t_y, t_d = float(outcome.tvalues["female"]), float(mechanism.tvalues["female"])
    assert bounds["r2yxj_dx"].iloc[0] == pytest.approx(t_y**2 / (t_y**2 + outcome.df_resid), rel=1e-9)
    assert bounds["r2dxj_x"].iloc[0] == pytest.approx(t_d**2 / (t_d**2 + mechanism.df_resid), rel=1e-9)
    reference = smkr.ovb_partial_r2_bound(
        r2dxj_x=bounds["r2dxj_x"].iloc[0], r2yxj_dx=bounds["r2yxj_dx"].iloc[0], kd=[1, 2, 3]
    )
    assert bounds["r2dz_x"].to_numpy() == pytest.approx(reference["r2dz_x"].to_numpy(), rel=1e-6)
    assert bounds["r2yz_dx"].to_numpy() == pytest.approx(reference["r2yz_dx"].to_numpy(), rel=1e-6)
    arguments = {
        "r2dz_x": reference["r2dz_x"].to_numpy(),
        "r2yz_dx": reference["r2yz_dx"].to_numpy(),
        "estimate": float(outcome.params["directlyharmed"]),
        "se": float(outcome.bse["directlyharmed"]),
        "dof": int(outcome.df_resid),
    }
    adjusted = np.asarray(smkr.adjusted_estimate(**arguments))
    assert bounds["adjusted_estimate"].to_numpy() == pytest.approx(adjusted, rel=1e-6)
    del arguments["estimate"]
    assert bounds["adjusted_se"].to_numpy() == pytest.approx(
        np.asarray(smkr.adjusted_se(**arguments)), rel=1e-6
    )
    a = mechanism.params["herder_dar"]
    assert darfur_result.a == pytest.approx(a, rel=1e-9)
    assert bounds["adjusted_indirect"].to_numpy() == pytest.approx(a * adjusted, rel=1e-6)
    # Published (sec. 6.3): a confounder three times as strong as female leaves an interval including 0.
    assert darfur_result.explained_by == ["3x female"]


def test_darfur_rho_at_zero_is_the_residual_correlation(darfur_fits, darfur_result) -> None:
    """statsmodels: Imai's rho at which a·b vanishes is corr(e1, e2) of the outcome regression without the
    mechanism and the mechanism regression (Imai, Keele & Yamamoto 2010, Theorem 2); a·b at rho = 0."""
    mechanism = darfur_fits["mechanism"]
    correlation = float(np.corrcoef(darfur_fits["reduced"].resid, mechanism.resid)[0, 1])
    assert darfur_result.rho_at_zero == pytest.approx(correlation, abs=1e-10)
    b = darfur_fits["outcome"].params["directlyharmed"]
    assert darfur_result.effect("acme").estimate == pytest.approx(
        mechanism.params["herder_dar"] * b, abs=1e-10
    )


# ---------------------------------------------------------------------------------------------------------
# Binary outcome: E-values
# ---------------------------------------------------------------------------------------------------------


def _binary_data(intercept: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 3000
    frame = pd.DataFrame({"x": rng.integers(0, 2, n).astype(float), "c": rng.normal(size=n)})
    frame["m"] = 0.6 * frame.x + 0.3 * frame.c + rng.normal(size=n)
    eta = intercept + 0.5 * frame.m + 0.2 * frame.x + 0.3 * frame.c
    frame["y"] = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return frame


@pytest.mark.parametrize(("intercept", "rare"), [(-3.8, True), (-0.8, False)])
def test_e_values_equal_the_closed_forms_from_statsmodels(intercept: float, rare: bool) -> None:
    """statsmodels: a from OLS, b and the direct coefficient from Logit; OR_NIE = exp(a b) with the Sobel SE
    of a b, OR_NDE = exp(c'), the b path's OR = exp(b SD(M)); each made a risk ratio (itself for a rare
    outcome, sqrt(OR) otherwise, VanderWeele 2020) and its E-value (and its lower limit's) from the closed
    form, to 1e-6."""
    data = _binary_data(intercept, seed=4)
    result = mediation_sensitivity(
        data, x="x", m="m", y="y", covariates=["c"], outcome_model="logit", benchmark="c"
    )
    assert bool(data["y"].mean() <= 0.10) is rare and result.info["rare_outcome"] is rare
    mechanism = smf.ols("m ~ x + c", data).fit()
    outcome = sm.Logit(data["y"], sm.add_constant(data[["x", "m", "c"]])).fit(disp=0, tol=1e-12)
    a, se_a = mechanism.params["x"], mechanism.bse["x"]
    b, se_b = outcome.params["m"], outcome.bse["m"]
    z = stats.norm.ppf(0.975)
    sd_m = data["m"].std(ddof=1)
    log_ratios = {
        "nie": (a * b, math.sqrt(b**2 * se_a**2 + a**2 * se_b**2)),
        "nde": (outcome.params["x"], outcome.bse["x"]),
        "b": (b * sd_m, se_b * sd_m),
    }
    for key, (log_or, se) in log_ratios.items():
        odds = np.exp([log_or, log_or - z * se])
        risk = odds if rare else np.sqrt(odds)
        point = result.effect(f"e_value_{key}")
        assert point.extra["rr"] == pytest.approx(risk[0], rel=1e-6), key
        assert point.estimate == pytest.approx(closed_form_e_value(risk[0]), rel=1e-6), key
        limit = 1.0 if risk[1] <= 1.0 else closed_form_e_value(risk[1])
        assert result.effect(f"e_value_{key}_limit").estimate == pytest.approx(limit, rel=1e-6), key
    assert result.e_value_nie == result.effect("e_value_nie").estimate
    if not rare:
        assert any("not rare" in note for note in result.warnings)


def test_binary_outcome_plot_has_the_three_panels() -> None:
    result = mediation_sensitivity(
        _binary_data(-3.8, seed=5),
        x="x",
        m="m",
        y="y",
        covariates=["c"],
        outcome_model="logit",
        benchmark="c",
    )
    axes = result.plot()
    assert len(axes) == 3
    crossing = [line for line in axes[0].get_lines() if "ACME = 0" in str(line.get_label())]
    assert crossing and crossing[0].get_xdata()[0] == pytest.approx(result.rho_at_zero)
    assert axes[2].get_xlabel().startswith("RR_UM")
    assert "E-values" in result.summary() and "linear-probability" in result.summary()


# ---------------------------------------------------------------------------------------------------------
# Output and bad input
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def continuous() -> pd.DataFrame:
    rng = np.random.default_rng(6)
    n = 400
    frame = pd.DataFrame({"x": rng.integers(0, 2, n).astype(float), "readiness": rng.normal(size=n)})
    frame["site"] = np.where(np.arange(n) % 2 == 0, "north", "south")
    frame["m"] = 0.5 * frame.x + 0.4 * frame.readiness + rng.normal(size=n)
    frame["y"] = 0.3 * frame.m + 0.3 * frame.readiness + rng.normal(size=n)
    return frame


def test_continuous_outcome_result_renders_and_serializes(continuous) -> None:
    result = mediation_sensitivity(
        continuous, x="x", m="m", y="y", covariates=["readiness", "site"], benchmark=["readiness", "x"]
    )
    assert result.e_values == {} and result.natural_effects is None and result.e_value_nie is None
    assert set(result.bounds["benchmark"]) == {"readiness", "x"}
    text = result.summary()
    assert "rho =" in text and "RV_q" in text and "E-values" not in text
    assert repr(result).startswith("MediationSensitivityResult(")
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["ovb"]["rv_q"] == pytest.approx(result.rv_q)
    assert "<table" in result._repr_html_()
    assert len(result.plot()) == 2
    frame = result.to_frame()
    explained = frame[(frame["kind"] == "bound") & (frame["ci_low"] <= 0)].index.tolist()
    assert result.explained_by == explained


def test_missing_rows_are_dropped_once_for_every_part(continuous) -> None:
    data = continuous.copy()
    data.loc[[1, 2, 3], "m"] = np.nan
    result = mediation_sensitivity(data, x="x", m="m", y="y", covariates=["readiness"])
    assert result.info["n"] == result.rho.info["n"] == result.ovb.n == len(data) - 3
    assert sum("rows had missing values" in note for note in result.warnings) == 1
    with pytest.raises(DataError, match="missing values"):
        mediation_sensitivity(data, x="x", m="m", y="y", missing="raise")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"benchmark": "age"}, "neither the strategy nor a covariate"),
        ({"m_contrast": 0}, "m_contrast must be positive"),
        ({"outcome_model": "probit"}, "outcome_model must be one of"),
        ({"outcome_model": "logit"}, "declared binary"),
        ({"level": 95}, "level"),
        ({"y": "yy"}, "not in the data"),
    ],
)
def test_bad_input_raises_data_error(continuous, options, message) -> None:
    arguments = {"x": "x", "m": "m", "y": "y", "covariates": ["readiness"], **options}
    with pytest.raises(DataError, match=message):
        mediation_sensitivity(continuous, **arguments)
