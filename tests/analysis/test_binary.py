"""Checks of `mediate_glm` against closed forms, statsmodels, simulated truth and our own runs of R mediation.

Where the reference numbers come from (each test says which it uses):

* closed forms and statsmodels, computed here;
* "our own R runs": R's mediation package (Tingley et al. 2014) run by us on the package's jobs and framing
  data, with the calls quoted beside the numbers. They are not published values: the package documents these
  models (``?mediate``, the vignette / JSS paper) with sims = 50 or 100 and prints rounded tables, while the
  numbers here have other draw counts or more digits. R and mediation versions and the seeds of the bootstrap
  runs were not recorded; the tolerances allow for their Monte Carlo error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from public_data import MEDIATION_DATA
from scipy import integrate, special

from moclab.analysis import binary
from moclab.analysis.binary import (
    _glm_hc3,
    _logistic_normal_mean,
    _Spec,
    mediate_glm,
    potential_outcome_means,
)
from moclab.analysis.bootstrap import batched_ols, batched_residual_sd
from moclab.analysis.glm import batched_binary_glm
from moclab.errors import DataError

# The public example data live beside the repository (tests/public_data.py finds them).
DATA = MEDIATION_DATA

FRAMING_COVARIATES = ["age", "educ", "gender", "income"]
JOBS_SMALL = ["econ_hard", "sex", "age"]
JOBS_FULL = ["depress1", "econ_hard", "sex", "age", "occp", "marital", "nonwhite", "educ", "income"]


@pytest.fixture(scope="module")
def framing() -> pd.DataFrame:
    return pd.read_csv(DATA / "framing.csv")


@pytest.fixture(scope="module")
def jobs() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "jobs.csv")
    frame["work"] = (frame["work1"] == "psyemp").astype(int)  # employed at follow-up
    return frame


# ------------------------------------------------------------------------------------------------------------
# Linear mediator and outcome: closed forms and the published JOBS II numbers
# ------------------------------------------------------------------------------------------------------------


def test_linear_acme_is_product_of_coefficients(jobs: pd.DataFrame) -> None:
    """ACME = a*b, ADE = c', total = a*b + c' exactly (Imai, Keele & Tingley 2010, Eq. 8-9)."""
    med = smf.ols("job_seek ~ treat + econ_hard + sex + age", jobs).fit()
    out = smf.ols("depress2 ~ treat + job_seek + econ_hard + sex + age", jobs).fit()
    res = mediate_glm(jobs, x="treat", m="job_seek", y="depress2", covariates=JOBS_SMALL, n_mc=200, seed=1)
    a, b, c = med.params["treat"], out.params["job_seek"], out.params["treat"]
    assert res.effect("acme").estimate == pytest.approx(a * b, abs=1e-12)
    assert res.effect("acme_control").estimate == pytest.approx(a * b, abs=1e-12)
    assert res.effect("ade").estimate == pytest.approx(c, abs=1e-12)
    assert res.effect("total").estimate == pytest.approx(a * b + c, abs=1e-12)
    assert res.effect("prop_mediated").estimate == pytest.approx(a * b / (a * b + c), abs=1e-12)
    # The same closed forms from our own R run (not published): lm() of the two models of the mediation
    # package's ?mediate JOBS II example on its jobs data, b <- lm(job_seek ~ treat + econ_hard + sex + age),
    # c <- lm(depress2 ~ treat + job_seek + econ_hard + sex + age), printed to 7 significant digits:
    # a*b = -0.01574465, c' = -0.0402647, a*b + c' = -0.05600935, a*b / (a*b + c') = 0.2811075.
    assert res.effect("acme").estimate == pytest.approx(-0.01574465, abs=5e-9)
    assert res.effect("ade").estimate == pytest.approx(-0.0402647, abs=5e-8)
    assert res.effect("total").estimate == pytest.approx(-0.05600935, abs=5e-9)
    assert res.effect("prop_mediated").estimate == pytest.approx(0.2811075, abs=5e-8)
    assert res.info["scale"].startswith("scale of 'depress2'")


def test_linear_bootstrap_matches_our_r_run_of_the_jobs_interval(jobs: pd.DataFrame) -> None:
    """Our own R run (not published): with b, c the models above, ``summary(mediate(b, c, boot = TRUE, sims =
    1000, treat = "treat", mediator = "job_seek"))`` printed ACME -0.0157 [-0.0400, 0.01], total [-0.1452,
    0.03] (the package's ?mediate example runs this call with sims = 50 and shows no output).

    Both intervals are percentiles of 1000 resamples (Monte Carlo SD of each end ~0.001-0.002) and R prints
    the upper ends to two decimals, so ends are compared within 0.006 and the rounded ends within their
    rounding.
    """
    res = mediate_glm(
        jobs,
        x="treat",
        m="job_seek",
        y="depress2",
        covariates=JOBS_SMALL,
        ci="percentile",
        n_boot=2000,
        seed=7,
    )
    acme, total = res.effect("acme"), res.effect("total")
    assert acme.ci_method == "percentile"
    assert acme.ci_low == pytest.approx(-0.0400, abs=0.006)
    assert acme.ci_high == pytest.approx(0.01, abs=0.005 + 0.006)
    assert total.ci_low == pytest.approx(-0.1452, abs=0.012)
    assert total.ci_high == pytest.approx(0.03, abs=0.005 + 0.012)


def test_linear_quasi_bayes_draws_follow_product_of_normals(jobs: pd.DataFrame) -> None:
    """With independent normal draws of a and b, Var(ab) = a^2 Vb + b^2 Va + Va Vb exactly (Goodman 1960)."""
    med = smf.ols("job_seek ~ treat + econ_hard + sex + age", jobs).fit()
    out = smf.ols("depress2 ~ treat + job_seek + econ_hard + sex + age", jobs).fit()
    a, b = med.params["treat"], out.params["job_seek"]
    va, vb = med.bse["treat"] ** 2, out.bse["job_seek"] ** 2
    res = mediate_glm(jobs, x="treat", m="job_seek", y="depress2", covariates=JOBS_SMALL, n_mc=20000, seed=3)
    exact_sd = np.sqrt(a**2 * vb + b**2 * va + va * vb)
    assert res.effect("acme").se == pytest.approx(exact_sd, rel=0.02)  # SD of 20000 draws: ~0.5% MC error
    assert res.effect("acme").extra["draws_mean"] == pytest.approx(a * b, abs=4 * exact_sd / np.sqrt(20000))


def test_interaction_closed_form(jobs: pd.DataFrame) -> None:
    """Linear models with X*M: ACME(t) = a (b + d t), ADE(t) = c' + d * mean(E[M | t, C])."""
    formula_m = "job_seek ~ treat + econ_hard + sex + age"
    med = smf.ols(formula_m, jobs).fit()
    out = smf.ols("depress2 ~ treat * job_seek + econ_hard + sex + age", jobs).fit()
    res = mediate_glm(
        jobs, x="treat", m="job_seek", y="depress2", covariates=JOBS_SMALL, interaction=True, n_mc=100, seed=1
    )
    a, b, d, c = (
        med.params["treat"],
        out.params["job_seek"],
        out.params["treat:job_seek"],
        out.params["treat"],
    )
    mean_m0 = med.predict(jobs.assign(treat=0)).mean()
    mean_m1 = med.predict(jobs.assign(treat=1)).mean()
    assert res.effect("acme_control").estimate == pytest.approx(a * b, abs=1e-12)
    assert res.effect("acme_treated").estimate == pytest.approx(a * (b + d), abs=1e-12)
    assert res.effect("ade_control").estimate == pytest.approx(c + d * mean_m0, abs=1e-12)
    assert res.effect("ade_treated").estimate == pytest.approx(c + d * mean_m1, abs=1e-12)
    assert res.outcome_model.loc["treat:job_seek", "estimate"] == pytest.approx(d, abs=1e-12)


def test_continuous_treatment_scales_with_contrast(jobs: pd.DataFrame) -> None:
    """For linear models the ACME between two treatment values is a*b times their difference."""
    res = mediate_glm(
        jobs,
        x="econ_hard",
        m="job_seek",
        y="depress2",
        covariates=["sex", "age"],
        treat_value=4.0,
        control_value=2.0,
        n_mc=100,
        seed=1,
    )
    med = smf.ols("job_seek ~ econ_hard + sex + age", jobs).fit()
    out = smf.ols("depress2 ~ econ_hard + job_seek + sex + age", jobs).fit()
    assert res.effect("acme").estimate == pytest.approx(
        2.0 * med.params["econ_hard"] * out.params["job_seek"]
    )


# ------------------------------------------------------------------------------------------------------------
# Binary outcome: the framing example (our own R runs), analytic averages, numerical integration
# ------------------------------------------------------------------------------------------------------------

# The models of the documented framing example of R's mediation package (Tingley et al. 2014, JSS 59(5), sec.
# 3.1, also the package vignette): set.seed(2014); med.fit <- lm(emo ~ treat + age + educ + gender + income),
# out.fit <- glm(cong_mesg ~ emo + treat + age + educ + gender + income, binomial("probit")),
# mediate(med.fit, out.fit, treat = "treat", mediator = "emo", robustSE = TRUE, sims = ...).
# R_FRAMING_1000: summary() printed by our own run of that call with sims = 1000 (the documentation uses 100).
R_FRAMING_1000 = {
    "acme": (0.0829, 0.0351, 0.14),
    "ade": (0.0140, -0.1047, 0.13),
    "total": (0.0968, -0.0290, 0.23),
    "acme_control": (0.0826, 0.0356, 0.14),
    "acme_treated": (0.0831, 0.0348, 0.14),
}
R_FRAMING_1000_PROP_MEDIAN = 0.7822  # R reports the median of the draws of ACME / total
# R_FRAMING_100: our own run of the documented call itself (sims = 100, set.seed(2014)): ACME (average)
# 0.0805 [0.0350, 0.1304], ADE 0.0145, total 0.0949 [-0.0316, 0.2129]. The upper ends carry four decimals,
# more than summary() prints (see the two-decimal ends above), so these are not copied from the printed
# table of the documentation.
R_FRAMING_100 = {
    "acme": (0.0805, 0.0350, 0.1304),
    "ade": (0.0145, -0.1087, 0.1364),
    "total": (0.0949, -0.0316, 0.2129),
}


@pytest.fixture(scope="module")
def framing_qb(framing: pd.DataFrame):
    return mediate_glm(
        framing,
        x="treat",
        m="emo",
        y="cong_mesg",
        covariates=FRAMING_COVARIATES,
        outcome_model="probit",
        robust_se=True,
        n_mc=20000,
        seed=2014,
    )


def test_framing_quasi_bayes_matches_our_r_run(framing_qb) -> None:
    """Against R_FRAMING_1000 (our own R run). R reports the mean of 1000 draws (MC SD ~0.0009 for the ACME,
    ~0.002 for ADE and total) and rounds upper ends to two decimals; tolerances: estimate 0.004 (ACME) / 0.008
    (ADE, total), interval ends 0.008 (+0.005 where R rounded)."""
    res = framing_qb
    assert res.info["scale"] == "probability scale"
    for name, (estimate, low, high) in R_FRAMING_1000.items():
        effect = res.effect(name)
        tol = 0.004 if name.startswith("acme") else 0.008
        assert effect.extra["draws_mean"] == pytest.approx(estimate, abs=tol), name
        assert effect.estimate == pytest.approx(estimate, abs=tol + 0.002), name
        assert effect.ci_low == pytest.approx(low, abs=0.008), name
        assert effect.ci_high == pytest.approx(high, abs=0.013), name
    medians = [res.effect(f"prop_mediated_{t}").extra["draws_median"] for t in ("control", "treated")]
    assert np.mean(medians) == pytest.approx(R_FRAMING_1000_PROP_MEDIAN, abs=0.05)


def test_framing_quasi_bayes_matches_our_r_run_of_the_documented_call(framing_qb) -> None:
    """Against R_FRAMING_100 (our own run of the documented 100-draw call), whose means have MC SD ~0.003
    (ACME) and ~0.007 (ADE, total)."""
    for name, (estimate, low, high) in R_FRAMING_100.items():
        effect = framing_qb.effect(name)
        tol = 0.01 if name == "acme" else 0.02
        assert effect.extra["draws_mean"] == pytest.approx(estimate, abs=tol), name
        assert effect.ci_low == pytest.approx(low, abs=0.015), name
        assert effect.ci_high == pytest.approx(high, abs=0.025), name


def test_framing_bootstrap_matches_our_r_runs_point_estimates(framing: pd.DataFrame) -> None:
    """Our own R runs (not published) of the framing models with ``boot = TRUE`` (``mediate(med.fit,
    out.fit, boot = TRUE, treat = "treat", mediator = "emo", sims = 1000)``): R's bootstrap point estimate is
    computed on the original data, so its printed proportions mediated (average 0.8751, control 0.8696,
    treated 0.8806, identical in two of our runs) leave only R's mediator-simulation noise."""
    res = mediate_glm(
        framing,
        x="treat",
        m="emo",
        y="cong_mesg",
        covariates=FRAMING_COVARIATES,
        outcome_model="probit",
        ci="percentile",
        n_boot=500,
        seed=5,
    )
    assert res.effect("prop_mediated").estimate == pytest.approx(0.8751, abs=0.002)
    assert res.effect("prop_mediated_control").estimate == pytest.approx(0.8696, abs=0.002)
    assert res.effect("prop_mediated_treated").estimate == pytest.approx(0.8806, abs=0.002)
    assert res.effect("acme").estimate == pytest.approx(0.0839, abs=0.0015)  # our R runs: 0.0839 and 0.0853
    assert res.effect("ade").estimate == pytest.approx(0.0120, abs=0.0015)  # our R runs: 0.0120 and 0.0122
    assert res.effect("acme").ci_low > 0 > res.effect("total").ci_low


def test_binary_mediator_logit_outcome_equals_averaged_predicted_probabilities(jobs: pd.DataFrame) -> None:
    """Binary M and Y: E[Y(t, M(t'))] = mean_i [p_i(t') P_i(Y=1 | t, M=1) + (1 - p_i(t')) P_i(Y=1 | t, M=0)],
    computed here with statsmodels formula models and their predict()."""
    covariates = ["econ_hard", "sex", "age", "depress1"]
    rhs = " + ".join(covariates)
    med = smf.logit(f"job_dich ~ treat + {rhs}", jobs).fit(disp=0)
    out = smf.logit(f"work ~ treat + job_dich + {rhs}", jobs).fit(disp=0)

    def mean_outcome(t: int, t_mediator: int) -> float:
        p_m = med.predict(jobs.assign(treat=t_mediator))
        y1 = out.predict(jobs.assign(treat=t, job_dich=1.0))
        y0 = out.predict(jobs.assign(treat=t, job_dich=0.0))
        return float(np.mean(p_m * y1 + (1 - p_m) * y0))

    res = mediate_glm(
        jobs,
        x="treat",
        m="job_dich",
        y="work",
        covariates=covariates,
        mediator_model="logit",
        outcome_model="logit",
        n_mc=200,
        seed=1,
    )
    q = {(t, s): mean_outcome(t, s) for t in (0, 1) for s in (0, 1)}
    assert res.effect("acme_control").estimate == pytest.approx(q[0, 1] - q[0, 0], abs=1e-10)
    assert res.effect("acme_treated").estimate == pytest.approx(q[1, 1] - q[1, 0], abs=1e-10)
    assert res.effect("ade_control").estimate == pytest.approx(q[1, 0] - q[0, 0], abs=1e-10)
    assert res.effect("total").estimate == pytest.approx(q[1, 1] - q[0, 0], abs=1e-10)
    assert res.info["scale"] == "probability scale"


@pytest.mark.parametrize("outcome_model", ["logit", "probit"])
def test_continuous_mediator_binary_outcome_equals_numerical_integration(
    jobs: pd.DataFrame, outcome_model: str
) -> None:
    """Linear M and logit/probit Y: integrate P(Y=1 | t, m, C_i) over N(E[M | t', C_i], sigma^2) with adaptive
    quadrature (scipy) for each unit and average; the module uses closed forms / fixed-node quadrature."""
    sample = jobs.iloc[:150]
    med = smf.ols("job_seek ~ treat + econ_hard + sex", sample).fit()
    link = sm.families.links.Logit() if outcome_model == "logit" else sm.families.links.Probit()
    out = smf.glm(
        "work ~ treat + job_seek + econ_hard + sex", sample, family=sm.families.Binomial(link=link)
    ).fit()
    sigma = np.sqrt(med.scale)
    cdf = special.expit if outcome_model == "logit" else special.ndtr

    def mean_outcome(t: int, t_mediator: int) -> float:
        centre = med.predict(sample.assign(treat=t_mediator)).to_numpy()
        base = out.predict(sample.assign(treat=t, job_seek=0.0), which="linear").to_numpy()
        slope = out.params["job_seek"]
        values = [
            integrate.quad(
                lambda z, b=b, c=c: (
                    cdf(b + slope * (c + sigma * z)) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
                ),
                -12,
                12,
                epsabs=1e-13,
            )[0]
            for b, c in zip(base, centre, strict=True)
        ]
        return float(np.mean(values))

    res = mediate_glm(
        sample,
        x="treat",
        m="job_seek",
        y="work",
        covariates=["econ_hard", "sex"],
        outcome_model=outcome_model,
        n_mc=50,
        seed=1,
    )
    q = {(t, s): mean_outcome(t, s) for t in (0, 1) for s in (0, 1)}
    assert res.effect("acme_control").estimate == pytest.approx(q[0, 1] - q[0, 0], abs=1e-9)
    assert res.effect("acme_treated").estimate == pytest.approx(q[1, 1] - q[1, 0], abs=1e-9)
    assert res.effect("ade_treated").estimate == pytest.approx(q[1, 1] - q[0, 1], abs=1e-9)


@pytest.mark.parametrize("scale", [0.0, 0.3, 1.49, 1.5, 4.0, 12.0, -30.0])
def test_logistic_normal_quadrature(scale: float) -> None:
    """Both quadrature branches agree with adaptive quadrature to 1e-9 over a wide range of locations."""
    locations = np.array([[-25.0, -6.0, -1.0, 0.0, 0.7, 3.0, 9.0, 25.0]])
    ours = _logistic_normal_mean(locations, np.array([[scale]]))[0]
    for loc, value in zip(locations[0], ours, strict=True):
        reference = integrate.quad(
            lambda z, loc=loc: special.expit(loc + scale * z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi),
            -40,
            40,
            points=[-loc / scale] if scale else None,
            limit=400,
            epsabs=1e-14,
        )[0]
        assert value == pytest.approx(reference, abs=1e-9)


# ------------------------------------------------------------------------------------------------------------
# The vectorised potential-outcome means against a unit-by-unit, draw-by-draw reference
# ------------------------------------------------------------------------------------------------------------

_GAUSS_HERMITE = np.polynomial.hermite_e.hermegauss(64)
_GAUSS_LAGUERRE = np.polynomial.laguerre.laggauss(64)


def _reference_logistic_normal_mean(location: float, scale: float) -> float:
    """E[expit(location + scale Z)] by the documented rules, one unit at a time: all 64 Gauss-Hermite nodes
    for |scale| < 1.5, Phi(mu/s) plus the 64-node Gauss-Laguerre remainder otherwise."""
    s = abs(scale)
    if s < 1.5:
        nodes, weights = _GAUSS_HERMITE
        return math.fsum(
            w / math.sqrt(2 * math.pi) * special.expit(location + s * z)
            for z, w in zip(nodes, weights, strict=True)
        )
    nodes, weights = _GAUSS_LAGUERRE
    remainder = math.fsum(
        w
        / (1 + math.exp(-x))
        * (math.exp(-0.5 * ((x + location) / s) ** 2) - math.exp(-0.5 * ((x - location) / s) ** 2))
        / (s * math.sqrt(2 * math.pi))
        for x, w in zip(nodes, weights, strict=True)
    )
    return float(special.ndtr(location / s)) + remainder


def _reference_means(theta_m, theta_y, sigma, covariates, spec, unit_weights=None) -> np.ndarray:
    """Q[s, i, j] = mean over units of E[Y(t_i, M(t_j))], looping over draws, conditions and units."""
    links = {"logit": special.expit, "probit": special.ndtr, "linear": lambda v: v}
    t_values = (spec.control_value, spec.treat_value)
    n_cov = covariates.shape[1]
    offset = 4 if spec.interaction else 3
    out = np.empty((theta_m.shape[0], 2, 2))
    for s in range(theta_m.shape[0]):
        weights = np.ones(covariates.shape[0]) if unit_weights is None else unit_weights[s]
        for i, t in enumerate(t_values):
            slope = theta_y[s, 2] + (theta_y[s, 3] * t if spec.interaction else 0.0)
            for j, t_mediator in enumerate(t_values):
                values = []
                for c in covariates:
                    eta_m = theta_m[s, 0] + theta_m[s, 1] * t_mediator + theta_m[s, 2 : 2 + n_cov] @ c
                    base = theta_y[s, 0] + theta_y[s, 1] * t + theta_y[s, offset : offset + n_cov] @ c
                    outcome = links[spec.outcome_model]
                    if spec.mediator_model != "linear":
                        p = links[spec.mediator_model](eta_m)
                        value = p * outcome(base + slope) + (1 - p) * outcome(base)
                    elif spec.outcome_model == "linear":
                        value = base + slope * eta_m
                    elif spec.outcome_model == "probit":
                        value = special.ndtr((base + slope * eta_m) / math.sqrt(1 + (slope * sigma[s]) ** 2))
                    else:
                        value = _reference_logistic_normal_mean(base + slope * eta_m, slope * sigma[s])
                    values.append(value)
                out[s, i, j] = np.dot(weights, values) / weights.sum()
    return out


@pytest.mark.parametrize("interaction", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("outcome_model", ["linear", "logit", "probit"])
@pytest.mark.parametrize("mediator_model", ["linear", "logit", "probit"])
def test_potential_outcome_means_equal_unit_by_unit_reference(
    mediator_model: str, outcome_model: str, weighted: bool, interaction: bool
) -> None:
    """The vectorised computation (all draws at once, paired Gauss-Hermite nodes, chunks and blocks) equals
    the loop over draws and units to 1e-12; the draws' mediator scales cover both quadrature rules and the
    locations reach far into both tails."""
    rng = np.random.default_rng(17)
    draws, n_units = 7, 23
    covariates = rng.normal(size=(n_units, 2)) * 3
    theta_m = rng.normal(size=(draws, 4)) * [1.0, 1.0, 1.5, 1.0]
    theta_y = rng.normal(size=(draws, 6 if interaction else 5)) * 2
    sigma = np.array([0.0, 0.2, 0.5, 0.74, 0.76, 2.0, 8.0])  # |slope * sigma| on both sides of 1.5
    theta_y[:, 2] = 2.0
    spec = _Spec(mediator_model, outcome_model, interaction, -0.5, 1.5)
    unit_weights = rng.integers(0, 4, size=(draws, n_units)).astype(float) if weighted else None
    ours = potential_outcome_means(theta_m, theta_y, sigma, covariates, spec, unit_weights)
    reference = _reference_means(theta_m, theta_y, sigma, covariates, spec, unit_weights)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)


def test_potential_outcome_means_do_not_depend_on_chunks_and_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Splitting the draws into chunks and the quadrature into blocks (down to a few units of one draw at a
    time) changes only how the work is cut: the sums agree to rounding."""
    rng = np.random.default_rng(3)
    theta_m, theta_y = rng.normal(size=(50, 3)), rng.normal(size=(50, 4)) * [1, 1, 3, 1]
    covariates, sigma = rng.normal(size=(40, 1)), rng.uniform(0.1, 1.0, 50)
    spec = _Spec("linear", "logit", False, 0.0, 1.0)
    whole = potential_outcome_means(theta_m, theta_y, sigma, covariates, spec)
    monkeypatch.setattr(binary, "_CHUNK_ELEMENTS", 7 * 40)
    monkeypatch.setattr(binary, "_BLOCK_ELEMENTS", 100)
    cut = potential_outcome_means(theta_m, theta_y, sigma, covariates, spec)
    np.testing.assert_allclose(cut, whole, rtol=0, atol=1e-15)


def test_paired_hermite_rule_keeps_relative_accuracy_in_the_tails() -> None:
    """Rare and near-certain events: the paired rule (outer 8 pairs dropped) equals all 64 nodes to 1e-13
    relative for probabilities down to 1e-17, and their complements near 1 to 1e-15 absolute."""
    locations = np.linspace(-40.0, 40.0, 161)[None, :]
    for scale in (0.0, 0.4, 1.0, 1.49):
        ours = _logistic_normal_mean(locations, np.array([[scale]]))[0]
        reference = np.array([_reference_logistic_normal_mean(loc, scale) for loc in locations[0]])
        np.testing.assert_allclose(ours, reference, rtol=1e-13, atol=0)
        np.testing.assert_allclose(1 - ours, 1 - reference, rtol=0, atol=1e-15)


def test_binary_outcome_recovers_known_truth() -> None:
    """Simulated logit mediator and probit outcome with known coefficients; the true ACME is computed from the
    true model by the same average-of-probabilities definition on 2 million fresh units."""
    rng = np.random.default_rng(11)

    def simulate(n: int) -> pd.DataFrame:
        c = rng.normal(size=n)
        x = rng.integers(0, 2, n)
        m = (rng.random(n) < special.expit(-0.3 + 1.2 * x + 0.5 * c)).astype(int)
        y = (rng.random(n) < special.ndtr(-0.5 + 0.3 * x + 0.9 * m - 0.4 * c)).astype(int)
        return pd.DataFrame({"x": x, "m": m, "y": y, "c": c})

    c = rng.normal(size=2_000_000)
    p1, p0 = special.expit(-0.3 + 1.2 + 0.5 * c), special.expit(-0.3 + 0.5 * c)
    true_acme_treated = np.mean((p1 - p0) * (special.ndtr(0.7 - 0.4 * c) - special.ndtr(-0.2 - 0.4 * c)))
    res = mediate_glm(
        simulate(40_000),
        x="x",
        m="m",
        y="y",
        covariates=["c"],
        mediator_model="logit",
        outcome_model="probit",
        n_mc=300,
        seed=2,
    )
    acme = res.effect("acme_treated")
    assert acme.estimate == pytest.approx(true_acme_treated, abs=4 * acme.se)
    assert acme.ci_low < true_acme_treated < acme.ci_high


# ------------------------------------------------------------------------------------------------------------
# Building blocks against statsmodels
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["logit", "probit"])
def test_batched_glm_equals_statsmodels(jobs: pd.DataFrame, kind: str) -> None:
    design = sm.add_constant(jobs[["treat", "job_seek", "econ_hard", "sex", "age"]].to_numpy(float))
    y = jobs["work"].to_numpy(float)
    rng = np.random.default_rng(4)
    counts = np.stack([np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)) for _ in range(3)])
    link = sm.families.links.Logit() if kind == "logit" else sm.families.links.Probit()
    full = sm.GLM(y, design, family=sm.families.Binomial(link=link)).fit()
    beta, ok = batched_binary_glm(design, y, counts.astype(float), kind, np.asarray(full.params))
    assert ok.all()
    for b in range(3):
        reference = sm.GLM(y, design, family=sm.families.Binomial(link=link), freq_weights=counts[b]).fit(
            tol=1e-12
        )
        np.testing.assert_allclose(beta[b], reference.params, rtol=1e-7, atol=1e-9)


def test_batched_least_squares_equals_statsmodels(jobs: pd.DataFrame) -> None:
    design = sm.add_constant(jobs[["treat", "econ_hard", "sex", "age"]].to_numpy(float))
    y = jobs["job_seek"].to_numpy(float)
    rng = np.random.default_rng(5)
    counts = np.stack([np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)) for _ in range(3)])
    beta = batched_ols(design, y, counts.astype(float))
    sigma = batched_residual_sd(design, y, counts.astype(float), beta)
    for b in range(3):
        rows = np.repeat(np.arange(len(y)), counts[b])
        reference = sm.OLS(y[rows], design[rows]).fit()
        np.testing.assert_allclose(beta[b], reference.params, rtol=1e-10)
        assert sigma[b] == pytest.approx(np.sqrt(reference.scale), rel=1e-10)


def test_glm_hc3_matches_sandwich_built_from_statsmodels(framing: pd.DataFrame) -> None:
    """HC3 = A [sum s_i s_i' / (1 - h_i)^2] A from statsmodels' score_obs, hat-matrix diagonal, cov_params."""
    model = smf.glm(
        "cong_mesg ~ emo + treat + age + educ + gender + income",
        framing,
        family=sm.families.Binomial(link=sm.families.links.Probit()),
    )
    fit = model.fit(tol=1e-13)
    scores = model.score_obs(fit.params)
    leverage = fit.get_hat_matrix_diag(observed=False)  # expected-information weights, as R's hatvalues
    bread = np.asarray(fit.cov_params())
    adjusted = scores / (1 - leverage)[:, None]
    reference = bread @ adjusted.T @ adjusted @ bread
    ours = _glm_hc3(model.exog, model.endog, model.exog @ fit.params.to_numpy(), "probit")
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------------------------------------------
# Results object, reproducibility, bad input
# ------------------------------------------------------------------------------------------------------------


def test_result_object_renders_and_is_reproducible(framing: pd.DataFrame) -> None:
    kwargs = dict(x="treat", m="emo", y="cong_mesg", covariates=FRAMING_COVARIATES, outcome_model="logit")
    first = mediate_glm(framing, n_mc=300, seed=9, **kwargs)
    second = mediate_glm(framing, n_mc=300, seed=np.random.default_rng(9), **kwargs)
    assert first.to_frame().equals(second.to_frame())
    frame = first.to_frame()
    assert list(frame.index[:4]) == ["acme", "ade", "total", "prop_mediated"]
    assert first.draws.shape == (300, 10)
    assert "probability scale" in str(first) and str(first) == first.summary()
    assert "<table" in first._repr_html_()
    assert first.to_dict()["info"]["outcome_model"] == "logit"
    # total = ACME(treated) + ADE(control) = ACME(control) + ADE(treated) for every draw
    d = first.draws
    np.testing.assert_allclose(d["total"], d["acme_treated"] + d["ade_control"], atol=1e-12)
    np.testing.assert_allclose(d["total"], d["acme_control"] + d["ade_treated"], atol=1e-12)


def test_bca_bootstrap_runs_and_brackets_estimate(framing: pd.DataFrame) -> None:
    res = mediate_glm(
        framing,
        x="treat",
        m="emo",
        y="cong_mesg",
        covariates=FRAMING_COVARIATES,
        outcome_model="probit",
        ci="bca",
        n_boot=400,
        seed=3,
    )
    acme = res.effect("acme")
    assert acme.ci_method == "bca"
    assert acme.ci_low < acme.estimate < acme.ci_high
    # Our own R run (not published): mediate(med.fit, out.fit, boot = TRUE, boot.ci.type = "bca", sims = 1000,
    # treat = "treat", mediator = "emo") printed ACME (average) [0.0381, 0.15]
    assert acme.ci_low == pytest.approx(0.0381, abs=0.01)
    assert acme.ci_high == pytest.approx(0.15, abs=0.02)


def test_missing_values_listwise_and_reported(jobs: pd.DataFrame) -> None:
    holed = jobs.copy()
    holed.loc[[3, 10, 20], "job_seek"] = np.nan
    holed.loc[[20, 30], "age"] = np.nan
    res = mediate_glm(holed, x="treat", m="job_seek", y="depress2", covariates=JOBS_SMALL, n_mc=50, seed=1)
    assert res.info["n"] == len(jobs) - 4
    assert res.info["n_dropped"] == 4
    assert any("4 of 899 rows had missing values (job_seek: 3, age: 2)" in w for w in res.warnings)
    with pytest.raises(DataError, match=r"4 of 899 rows have missing values \(job_seek: 3, age: 2\)"):
        mediate_glm(holed, x="treat", m="job_seek", y="depress2", covariates=JOBS_SMALL, missing="raise")


def test_declared_binary_but_not_binary(jobs: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"outcome 'depress2' is declared binary \(logit model\).*recode"):
        mediate_glm(jobs, x="treat", m="job_seek", y="depress2", outcome_model="logit")
    with pytest.raises(DataError, match=r"mediator 'job_seek' is declared binary \(probit model\)"):
        mediate_glm(jobs, x="treat", m="job_seek", y="depress2", mediator_model="probit")
    with pytest.raises(DataError, match=r"the outcome 'work1' is not numeric \(values such as '.*psyemp"):
        mediate_glm(jobs, x="treat", m="job_seek", y="work1", outcome_model="logit")


def test_constant_collinear_and_unknown_columns(jobs: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"the mediator m column 'jobseek' is not in the data.*'job_seek'"):
        mediate_glm(jobs, x="treat", m="jobseek", y="depress2")
    with pytest.raises(DataError, match=r"the covariate 'one' is constant \(every analysed row is 1\)"):
        mediate_glm(jobs.assign(one=1.0), x="treat", m="job_seek", y="depress2", covariates=["one"])
    with pytest.raises(DataError, match="the treatment 'treat' is constant"):
        mediate_glm(jobs[jobs.treat == 1], x="treat", m="job_seek", y="depress2")
    with pytest.raises(DataError, match=r"in the mediator model, 'age2' is \(nearly\) a linear combination"):
        mediate_glm(
            jobs.assign(age2=2 * jobs.age), x="treat", m="job_seek", y="depress2", covariates=["age", "age2"]
        )
    with pytest.raises(DataError, match=r"column 'treat' is used in more than one role \(treatment x and"):
        mediate_glm(jobs, x="treat", m="job_seek", y="depress2", covariates=["treat"])
    with pytest.raises(DataError, match="mediator_model must be one of 'linear', 'logit', 'probit', not"):
        mediate_glm(jobs, x="treat", m="job_seek", y="depress2", mediator_model="poisson")


def test_separation_is_reported_with_the_variable(jobs: pd.DataFrame) -> None:
    separated = jobs.assign(flag=jobs["work"])  # a covariate identical to the outcome separates it perfectly
    with pytest.raises(DataError, match=r"separation in the outcome model for 'work'.*'flag'"):
        mediate_glm(separated, x="treat", m="job_seek", y="work", covariates=["flag"], outcome_model="logit")
