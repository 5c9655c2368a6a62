"""`mediate_interaction` against independent references.

References, each named where it is used:
* `mediate` (product of coefficients) when the outcome model has no exposure x mediator term;
* statsmodels OLS / Logit fits and the closed forms of Valeri & VanderWeele (2013) and VanderWeele (2014)
  written out here from those coefficients;
* counterfactual means E[Y(a, M(a'))] simulated from the statsmodels fits (draws of the mediator from its
  fitted normal distribution, outcome predictions averaged);
* central finite differences of the estimator's closed forms, and the statsmodels covariances;
* the spread of a large percentile bootstrap;
* `mediate_glm` with an interaction (probability scale, no rare-outcome approximation).
No published example with its data was found for these estimators: the applied examples of both papers use
data that are not distributed with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from moclab.analysis import interaction as module
from moclab.analysis import mediate, mediate_glm, mediate_interaction
from moclab.errors import DataError


def _frame(n: int = 2000, seed: int = 11, theta3: float = 0.25, intercept: float = -3.6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n).astype(float)
    c1 = rng.normal(size=n)
    c2 = rng.integers(0, 2, n).astype(float)
    m = 0.2 + 0.5 * x + 0.3 * c1 - 0.2 * c2 + rng.normal(size=n)
    y = 0.1 + 0.3 * x + 0.4 * m + theta3 * x * m + 0.2 * c1 + 0.1 * c2 + rng.normal(size=n)
    eta = intercept + 0.3 * x + 0.4 * m + theta3 * x * m + 0.2 * c1 + 0.1 * c2
    event = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    dose = rng.uniform(0, 3, n)
    m_dose = 0.1 + 0.4 * dose + 0.3 * c1 + rng.normal(size=n)
    y_dose = 0.2 + 0.3 * dose + 0.5 * m_dose + 0.15 * dose * m_dose + 0.2 * c1 + rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "m": m,
            "y": y,
            "event": event,
            "c1": c1,
            "c2": c2,
            "dose": dose,
            "m_dose": m_dose,
            "y_dose": y_dose,
        }
    )


FRAME = _frame()


def _fits(frame: pd.DataFrame, x: str, m: str, y: str, covariates: list[str], logit: bool = False):
    """statsmodels fits: mediator OLS (const, x, covariates), outcome OLS or Logit (const, x, m, x:m, cov)."""
    design_m = sm.add_constant(frame[[x, *covariates]].to_numpy())
    fit_m = sm.OLS(frame[m].to_numpy(), design_m).fit()
    design_y = sm.add_constant(
        np.column_stack([frame[x], frame[m], frame[x] * frame[m], frame[covariates].to_numpy()])
    )
    model = sm.Logit if logit else sm.OLS
    fit_y = model(frame[y].to_numpy(), design_y).fit(disp=0) if logit else model(frame[y], design_y).fit()
    return fit_m, fit_y


def _estimates(result) -> pd.Series:
    return result.to_frame()["estimate"]


# ------------------------------------------------------------------------------------------------------------
# No interaction: the product of coefficients of `mediate`
# ------------------------------------------------------------------------------------------------------------


def test_without_interaction_the_effects_are_those_of_mediate():
    frame = _frame(theta3=0.0)
    covariates = ["c1", "c2"]
    res = mediate_interaction(frame, x="x", m="m", y="y", covariates=covariates, interaction=False)
    ref = mediate(frame, x="x", m="m", y="y", covariates=covariates, ci="delta")
    assert res.effect("nde").estimate == pytest.approx(ref.effect("direct").estimate, rel=1e-12)
    assert res.effect("nie").estimate == pytest.approx(ref.effect("indirect[m]").estimate, rel=1e-12)
    assert res.effect("total").estimate == pytest.approx(ref.effect("total").estimate, rel=1e-12)
    assert res.effect("cde").estimate == pytest.approx(ref.effect("direct").estimate, rel=1e-12)
    # the delta-method SE of a*b is Sobel's, that of the direct effect the SE of c'
    assert res.effect("nie").se == pytest.approx(ref.effect("indirect[m]").se, rel=1e-10)
    assert res.effect("nde").se == pytest.approx(ref.effect("direct").se, rel=1e-10)
    # without interaction the interaction components vanish and the pure indirect effect is the NIE
    assert res.effect("int_ref").estimate == 0.0 and res.effect("int_med").estimate == 0.0
    assert res.effect("pie").estimate == pytest.approx(res.effect("nie").estimate, rel=1e-14)


# ------------------------------------------------------------------------------------------------------------
# Closed forms against statsmodels coefficients and simulated counterfactuals
# ------------------------------------------------------------------------------------------------------------


def test_continuous_outcome_matches_closed_forms_and_simulated_counterfactuals():
    """A continuous exposure compared at a = 2 vs a* = 0.5, m* = 1, covariate c1 = 0.7."""
    a, a_star, m_star, c = 2.0, 0.5, 1.0, 0.7
    res = mediate_interaction(
        FRAME,
        x="dose",
        m="m_dose",
        y="y_dose",
        covariates=["c1"],
        treat_value=a,
        control_value=a_star,
        m_star=m_star,
        c_values={"c1": c},
    )
    fit_m, fit_y = _fits(FRAME, "dose", "m_dose", "y_dose", ["c1"])
    b0, b1, b2 = fit_m.params
    t0, t1, t2, t3, t4 = np.asarray(fit_y.params)
    d = a - a_star
    mean_star = b0 + b1 * a_star + b2 * c
    # Valeri & VanderWeele (2013) and VanderWeele (2014): closed forms from the statsmodels coefficients
    expected = {
        "cde": (t1 + t3 * m_star) * d,
        "nde": (t1 + t3 * mean_star) * d,
        "nie": b1 * (t2 + t3 * a) * d,
        "int_ref": t3 * (mean_star - m_star) * d,
        "int_med": t3 * b1 * d * d,
        "pie": b1 * (t2 + t3 * a_star) * d,
    }
    expected["total"] = expected["nde"] + expected["nie"]
    got = _estimates(res)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-10, abs=1e-12), name

    # E[Y(a, M(a'))] by simulation from the fitted models: M(a') ~ N(b0 + b1 a' + b2 c, sigma^2)
    rng = np.random.default_rng(5)
    draws = 1_000_000
    noise = rng.normal(0.0, np.sqrt(fit_m.scale), draws)

    def mean_outcome(exposure: float, mediator_exposure: float) -> float:
        mediator = b0 + b1 * mediator_exposure + b2 * c + noise
        return float(np.mean(t0 + t1 * exposure + t2 * mediator + t3 * exposure * mediator + t4 * c))

    simulated_nde = mean_outcome(a, a_star) - mean_outcome(a_star, a_star)
    simulated_nie = mean_outcome(a, a) - mean_outcome(a, a_star)
    # Monte Carlo error: |t3| d sigma / sqrt(draws) for the NDE, the NIE's common noise cancels exactly
    tolerance = 5 * abs(t3) * d * np.sqrt(fit_m.scale) / np.sqrt(draws)
    assert got["nde"] == pytest.approx(simulated_nde, abs=tolerance)
    assert got["nie"] == pytest.approx(simulated_nie, abs=1e-9)


def test_four_way_components_sum_to_the_total_effect():
    res = mediate_interaction(FRAME, x="x", m="m", y="y", covariates=["c1", "c2"], m_star=0.5)
    got = _estimates(res)
    parts = got[["cde", "int_ref", "int_med", "pie"]].sum()
    assert parts == pytest.approx(got["total"], rel=1e-13)
    assert got["nde"] == pytest.approx(got["cde"] + got["int_ref"], rel=1e-13)
    assert got["nie"] == pytest.approx(got["pie"] + got["int_med"], rel=1e-13)
    shares = got[["prop_cde", "prop_int_ref", "prop_int_med", "prop_pie"]].sum()
    assert shares == pytest.approx(1.0, rel=1e-13)
    assert got["prop_mediated"] == pytest.approx(got["prop_pie"] + got["prop_int_med"], rel=1e-13)
    assert got["prop_eliminated"] == pytest.approx(1 - got["prop_cde"], rel=1e-13)
    assert got["prop_interaction"] == pytest.approx(got["prop_int_ref"] + got["prop_int_med"], rel=1e-13)


def test_binary_outcome_matches_closed_forms_and_simulated_log_linear_counterfactuals():
    """The odds ratios (Valeri & VanderWeele 2013) and excess relative risks (VanderWeele 2014) against the
    statsmodels Logit coefficients, and against risks simulated with the log link they approximate."""
    covariates = ["c1", "c2"]
    c = np.array([0.3, 1.0])
    m_star = 0.0
    res = mediate_interaction(
        FRAME,
        x="x",
        m="m",
        y="event",
        covariates=covariates,
        outcome_model="logit",
        m_star=m_star,
        c_values={"c1": 0.3, "c2": 1.0},
    )
    fit_m, fit_y = _fits(FRAME, "x", "m", "event", covariates, logit=True)
    beta = np.asarray(fit_m.params)
    t0, t1, t2, t3, *t4 = np.asarray(fit_y.params)
    sigma2 = fit_m.scale
    mean_star = beta[0] + beta[2:] @ c  # a* = 0, a = 1
    log_or_nde = t1 + t3 * (mean_star + t2 * sigma2) + 0.5 * t3**2 * sigma2
    log_or_nie = beta[1] * (t2 + t3)
    got = _estimates(res)
    assert got["or_cde"] == pytest.approx(np.exp(t1 + t3 * m_star), rel=1e-6)
    assert got["or_nde"] == pytest.approx(np.exp(log_or_nde), rel=1e-6)
    assert got["or_nie"] == pytest.approx(np.exp(log_or_nie), rel=1e-6)
    assert got["or_total"] == pytest.approx(np.exp(log_or_nde + log_or_nie), rel=1e-6)
    or_nde, or_nie = np.exp(log_or_nde), np.exp(log_or_nie)
    assert got["prop_mediated"] == pytest.approx(or_nde * (or_nie - 1) / (or_nde * or_nie - 1), rel=1e-6)
    parts = got[["err_cde", "err_int_ref", "err_int_med", "err_pie"]].sum()
    assert parts == pytest.approx(got["or_total"] - 1, rel=1e-12)
    assert got["err_total"] == pytest.approx(got["or_total"] - 1, rel=1e-12)

    # Risks under the log link: P(Y(a, M(a')) = 1) = E exp(t0 + t1 a + (t2 + t3 a) M(a') + t4'c),
    # M(a') ~ N(b0 + b1 a' + b2'c, sigma^2) simulated; P(Y(a, m*) = 1) = exp(t0 + t1 a + (t2 + t3 a) m*
    # + t4'c).
    rng = np.random.default_rng(7)
    draws = 2_000_000
    noise = rng.normal(0.0, np.sqrt(sigma2), draws)
    offset = t0 + np.dot(t4, c)

    def risk(exposure: float, mediator_exposure: float) -> float:
        mediator = beta[0] + beta[1] * mediator_exposure + beta[2:] @ c + noise
        return float(np.mean(np.exp(offset + t1 * exposure + (t2 + t3 * exposure) * mediator)))

    def controlled(exposure: float) -> float:
        return float(np.exp(offset + t1 * exposure + (t2 + t3 * exposure) * m_star))

    p11, p10, p01, p00 = risk(1, 1), risk(1, 0), risk(0, 1), risk(0, 0)
    simulated = {
        "or_nde": p10 / p00,
        "or_nie": p11 / p10,
        "or_total": p11 / p00,
        "err_cde": (controlled(1) - controlled(0)) / p00,
        "err_pie": (p01 - p00) / p00,
        "err_int_med": (p11 - p10 - p01 + p00) / p00,
        "err_int_ref": (p10 - p00) / p00 - (controlled(1) - controlled(0)) / p00,
    }
    # Monte Carlo error of a ratio of lognormal means: about sqrt(exp(s^2) - 1) / sqrt(draws) with
    # s = (t2 + t3) sigma, below 1e-3 here; 5e-3 leaves room for the ratios of several means.
    for name, value in simulated.items():
        assert got[name] == pytest.approx(value, rel=5e-3, abs=5e-3), name


def test_rare_outcome_odds_ratios_approximate_the_logistic_counterfactual_odds_ratios():
    """With a rare outcome (about 1 %) the closed-form odds ratios are close to the odds ratios of
    counterfactual risks simulated from the fitted logistic model itself (expit link)."""
    frame = _frame(n=40000, seed=9, intercept=-5.0)
    res = mediate_interaction(frame, x="x", m="m", y="event", outcome_model="logit")
    assert frame["event"].mean() < 0.02 and not res.warnings
    fit_m, fit_y = _fits(frame, "x", "m", "event", [], logit=True)
    b0, b1 = fit_m.params
    t0, t1, t2, t3 = np.asarray(fit_y.params)
    noise = np.random.default_rng(8).normal(0.0, np.sqrt(fit_m.scale), 1_000_000)

    def odds(exposure: float, mediator_exposure: float) -> float:
        p = np.mean(
            1
            / (
                1
                + np.exp(-(t0 + t1 * exposure + (t2 + t3 * exposure) * (b0 + b1 * mediator_exposure + noise)))
            )
        )
        return p / (1 - p)

    got = _estimates(res)
    assert got["or_nde"] == pytest.approx(odds(1, 0) / odds(0, 0), rel=0.03)
    assert got["or_nie"] == pytest.approx(odds(1, 1) / odds(1, 0), rel=0.03)


# ------------------------------------------------------------------------------------------------------------
# Standard errors
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome_model", ["linear", "logit"])
def test_delta_method_against_numerical_differentiation(outcome_model):
    """The written-out gradients against central differences of the closed forms, and the delta-method SEs
    against g'Vg with those numerical gradients and the statsmodels covariances."""
    y = "y" if outcome_model == "linear" else "event"
    covariates = ["c1", "c2"]
    res = mediate_interaction(
        FRAME, x="x", m="m", y=y, covariates=covariates, outcome_model=outcome_model, m_star=0.4
    )
    fit_m, fit_y = _fits(FRAME, "x", "m", y, covariates, logit=outcome_model == "logit")
    phi = np.concatenate([fit_m.params, np.asarray(fit_y.params), [fit_m.scale]])
    layout = module._Layout(
        n_covariates=2,
        treat=1.0,
        control=0.0,
        m_star=0.4,
        covariate_values=FRAME[covariates].mean().to_numpy(),
        log_normal_term=outcome_model == "logit",
    )
    analytic = module._effect_terms(phi[None], layout, gradient=True)
    covariance = np.zeros((phi.size, phi.size))
    covariance[:4, :4] = fit_m.cov_params()
    covariance[4:-1, 4:-1] = np.asarray(fit_y.cov_params())
    covariance[-1, -1] = 2 * fit_m.scale**2 / (len(FRAME) - 4)
    for name, term in analytic.items():
        numeric = np.empty(phi.size)
        for j in range(phi.size):
            step = 1e-6 * max(1.0, abs(phi[j]))
            up, down = phi.copy(), phi.copy()
            up[j] += step
            down[j] -= step
            numeric[j] = (
                module._effect_terms(up[None], layout)[name].value[0]
                - module._effect_terms(down[None], layout)[name].value[0]
            ) / (2 * step)
        np.testing.assert_allclose(term.gradient[0], numeric, rtol=1e-6, atol=1e-8, err_msg=name)
        se = np.sqrt(numeric @ covariance @ numeric)
        # statsmodels' Logit and the GLM fit of `mediate_interaction` stop at slightly different iterates
        assert res.effect(name).se == pytest.approx(se, rel=1e-6 if outcome_model == "linear" else 1e-5), name


def test_delta_method_against_the_bootstrap_spread():
    """Delta-method SEs within 7 % of the SD of 4000 percentile-bootstrap resamples (observed: 0.97-1.04)."""
    covariates = ["c1", "c2"]
    delta = mediate_interaction(FRAME, x="x", m="m", y="y", covariates=covariates, m_star=0.0)
    boot = mediate_interaction(
        FRAME, x="x", m="m", y="y", covariates=covariates, m_star=0.0, ci="percentile", n_boot=4000, seed=3
    )
    for name in ("cde", "nde", "nie", "total", "int_ref", "int_med", "pie", "prop_mediated"):
        assert boot.effect(name).se == pytest.approx(delta.effect(name).se, rel=0.07), name
        assert boot.effect(name).estimate == delta.effect(name).estimate
        low, high = boot.effect(name).ci_low, boot.effect(name).ci_high
        assert low < boot.effect(name).estimate < high
    assert boot.draws.shape == (4000, len(boot.effects))


def test_binary_outcome_delta_method_against_the_bootstrap_spread():
    frame = _frame(n=6000, seed=2, intercept=-3.0)
    delta = mediate_interaction(frame, x="x", m="m", y="event", outcome_model="logit")
    boot = mediate_interaction(
        frame, x="x", m="m", y="event", outcome_model="logit", ci="percentile", n_boot=1500, seed=4
    )
    for name in ("or_cde", "or_nde", "or_nie", "or_total"):
        assert boot.effect(name).se == pytest.approx(delta.effect(name).se, rel=0.10), name
        low, high = boot.effect(name).ci_low, boot.effect(name).ci_high
        assert low < boot.effect(name).estimate < high


# ------------------------------------------------------------------------------------------------------------
# Against mediate_glm (probability scale)
# ------------------------------------------------------------------------------------------------------------


def test_rare_binary_outcome_agrees_with_mediate_glm_in_direction_and_magnitude():
    """Without covariates and with a randomized exposure, mediate_glm's probability-scale effects are the
    baseline risk P(Y = 1 | X = 0) times the excess relative risks: ADE(control) ~ p0 (OR_NDE - 1),
    ACME(treated) ~ p0 OR_NDE (OR_NIE - 1), total ~ p0 (OR_TE - 1)."""
    frame = _frame(n=40000, seed=9, intercept=-5.0)  # 1.3 % have the outcome
    res = mediate_interaction(frame, x="x", m="m", y="event", outcome_model="logit")
    glm = mediate_glm(
        frame, x="x", m="m", y="event", outcome_model="logit", interaction=True, n_mc=100, seed=1
    )
    baseline = frame.loc[frame["x"] == 0, "event"].mean()
    got = _estimates(res)
    pairs = {
        "ade_control": baseline * (got["or_nde"] - 1),
        "acme_treated": baseline * got["or_nde"] * (got["or_nie"] - 1),
        "total": baseline * (got["or_total"] - 1),
    }
    for name, approximation in pairs.items():
        reference = glm.effect(name).estimate
        assert np.sign(reference) == np.sign(approximation), name
        # the odds ratio overstates the risk ratio by about the baseline risk and its changes (2-4 % here)
        assert approximation == pytest.approx(reference, rel=0.06), name
    assert got["prop_mediated"] == pytest.approx(glm.effect("prop_mediated_treated").estimate, rel=0.03)


# ------------------------------------------------------------------------------------------------------------
# Warnings, options and bad input
# ------------------------------------------------------------------------------------------------------------


def test_a_common_outcome_is_warned_about():
    frame = _frame(intercept=0.0)
    res = mediate_interaction(frame, x="x", m="m", y="event", outcome_model="logit")
    assert any("not rare" in warning for warning in res.warnings)


def test_covariate_values_default_to_the_means_and_may_be_set():
    default = mediate_interaction(FRAME, x="x", m="m", y="y", covariates=["c1", "c2"])
    assert default.info["c_values"]["c1"] == pytest.approx(FRAME["c1"].mean())
    at_mean = mediate_interaction(
        FRAME, x="x", m="m", y="y", covariates=["c1", "c2"], c_values={"c1": float(FRAME["c1"].mean())}
    )
    assert at_mean.effect("nde").estimate == pytest.approx(default.effect("nde").estimate, rel=1e-14)
    assert default.info["m_star"] == pytest.approx(FRAME["m"].mean())


def test_the_result_reads_well():
    res = mediate_interaction(FRAME, x="x", m="m", y="event", outcome_model="logit", covariates=["c1"])
    text = res.summary()
    assert "Four-way decomposition (excess relative risks)" in text and "or_nie" in text
    assert repr(res).startswith("InteractionMediationResult(or_nde = ")
    assert res.to_dict()["outcome_model"][0]["term"] == "const"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"m": "trsut"}, "column 'trsut' is not in the data"),
        ({"y": "y", "outcome_model": "logit"}, "the outcome 'y' is declared binary"),
        ({"covariates": ["constant"]}, "the covariate 'constant' is constant"),
        ({"y": "flat"}, "the outcome 'flat' is constant"),
        ({"c_values": {"c3": 1.0}, "covariates": ["c1"]}, "c_values names 'c3'"),
        ({"mediator_model": "logit"}, "mediator_model must be 'linear'"),
        ({"ci": "bca"}, "ci must be one of 'delta', 'percentile'"),
        ({"treat_value": 0.0}, "treat_value and control_value must differ"),
    ],
)
def test_bad_input_is_a_data_error_naming_the_problem(kwargs, message):
    frame = FRAME.assign(constant=1.0, flat=2.0)
    arguments = {"x": "x", "m": "m", "y": "y", **kwargs}
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        mediate_interaction(frame, **arguments)
