"""`interventional_effects` against independent references.

References, each named where it is used:
* closed forms from statsmodels OLS fits: with linear models and no interactions each mediator's
  interventional indirect effect is the product of paths a_j b_j (a_j from the mediator's regression on X
  and C, so it includes X's effect through earlier mediators), the direct effect is c', and the overall
  effect is the OLS total effect c = c' + sum a_j b_j (an exact identity of nested OLS fits); with exposure
  x mediator terms the direct effect is c' + sum_j d_j E[M_j | X = 0, C], averaged over the rows;
* an independent implementation written here: a known data-generating process with post-exposure
  confounders (one 0/1, one continuous), a mediator affecting the other, exposure x mediator and mediator x
  mediator terms in the outcome, whose TRUE interventional effects are computed by simulating the
  counterfactual worlds from the structural equations (one million units per world);
* the decomposition identities of Vansteelandt & Daniel (2017), on every bootstrap draw;
* the HC0 sandwich standard error of c' (statsmodels), which the bootstrap standard error approximates;
* the closed form of a linear outcome model written here from statsmodels OLS and Logit fits (the means of
  the mediators and confounders pushed through the fitted models), against the estimate, against the
  Monte Carlo path, and resample by resample against a statsmodels loop over the same bootstrap rows.
No published worked example with its data is used: none with distributed data was at hand.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special

from moclab.analysis import interventional_effects
from moclab.analysis.bootstrap import bootstrap_indices
from moclab.errors import DataError

# ------------------------------------------------------------------------------------------------------------
# Linear models: closed forms from statsmodels
# ------------------------------------------------------------------------------------------------------------


def _linear_frame(n: int = 600, seed: int = 3, interaction: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=n)
    x = (rng.random(n) < special.expit(0.5 * c)).astype(float)
    dose = rng.uniform(0, 3, n)
    m1 = 0.2 + 0.5 * x + 0.3 * c + rng.normal(size=n)
    m2 = -0.1 + 0.3 * x + 0.4 * m1 + rng.normal(size=n)  # the second mediator depends on the first
    m3 = -0.4 * x + 0.2 * c + rng.normal(size=n)
    y = (
        0.1
        + 0.2 * x
        + 0.4 * m1
        + 0.3 * m2
        - 0.25 * m3
        + interaction * x * (m1 - m3)
        + 0.1 * c
        + rng.normal(size=n)
    )
    dose_m = 0.3 * dose + rng.normal(size=n)
    dose_y = 0.2 * dose + 0.5 * dose_m + rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "c": c,
            "m1": m1,
            "m2": m2,
            "m3": m3,
            "y": y,
            "dose": dose,
            "dose_m": dose_m,
            "dose_y": dose_y,
        }
    )


def _ols(frame: pd.DataFrame, response: str, predictors: list[str]):
    return sm.OLS(frame[response], sm.add_constant(frame[predictors])).fit()


def test_products_of_paths_without_interactions():
    """Closed form (statsmodels OLS): indirect[M_j] = a_j b_j, direct = c', total = c (exact for OLS)."""
    frame = _linear_frame()
    mediators = ["m1", "m2", "m3"]
    res = interventional_effects(
        frame,
        x="x",
        mediators=mediators,
        y="y",
        covariates=["c"],
        interaction=False,
        n_boot=0,
        n_draws=5,
        seed=1,
    )
    outcome = _ols(frame, "y", ["x", *mediators, "c"]).params
    a = {m: _ols(frame, m, ["x", "c"]).params["x"] for m in mediators}
    total = _ols(frame, "y", ["x", "c"]).params["x"]
    effects = res.to_frame()["estimate"]
    for m in mediators:
        assert effects[f"indirect[{m}]"] == pytest.approx(a[m] * outcome[m], abs=1e-10)
    assert effects["direct"] == pytest.approx(outcome["x"], abs=1e-10)
    assert effects["indirect"] == pytest.approx(sum(a[m] * outcome[m] for m in mediators), abs=1e-10)
    assert effects["dependence"] == pytest.approx(0.0, abs=1e-10)
    assert effects["total"] == pytest.approx(total, abs=1e-10)
    # the outcome model's coefficients are statsmodels' (same design, same order)
    np.testing.assert_allclose(
        res.outcome_model["estimate"].to_numpy(), outcome[["const", "x", *mediators, "c"]]
    )


def test_contrast_levels_and_a_continuous_dose():
    """Closed form: reversing x_levels flips the signs; a dose compared at 0 and 2 gives 2 a b and 2 c'."""
    frame = _linear_frame()
    forward = interventional_effects(
        frame, x="x", mediators=["m1"], y="y", interaction=False, n_boot=0, seed=2
    )
    backward = interventional_effects(
        frame, x="x", mediators=["m1"], y="y", interaction=False, x_levels=(1, 0), n_boot=0, seed=2
    )
    assert backward.effect("indirect[m1]").estimate == pytest.approx(-forward.effect("indirect[m1]").estimate)
    res = interventional_effects(
        frame,
        x="dose",
        mediators=["dose_m"],
        y="dose_y",
        interaction=False,
        x_levels=(0, 2),
        n_boot=0,
        seed=2,
    )
    a = _ols(frame, "dose_m", ["dose"]).params["dose"]
    b, c_prime = _ols(frame, "dose_y", ["dose", "dose_m"]).params[["dose_m", "dose"]]
    assert res.effect("indirect").estimate == pytest.approx(2 * a * b, abs=1e-10)
    assert res.effect("direct").estimate == pytest.approx(2 * c_prime, abs=1e-10)


def test_exposure_mediator_interaction_converges_to_the_closed_form_as_draws_grow():
    """Closed form (statsmodels OLS with X x M terms): indirect[M_j] = a_j (b_j + d_j) exactly, and direct =
    c' + sum_j d_j mean_i E[M_j | X = 0, C_i], which the closed-form path gives to rounding and the Monte
    Carlo path reaches within its error sqrt(d' Sigma d / (n n_draws))."""
    frame = _linear_frame(interaction=0.3)
    mediators = ["m1", "m3"]
    design = frame[["x", *mediators, "c"]].assign(**{f"x:{m}": frame.x * frame[m] for m in mediators})
    theta = sm.OLS(frame.y, sm.add_constant(design)).fit().params
    fits = {m: _ols(frame, m, ["x", "c"]).params for m in mediators}
    d = np.array([theta[f"x:{m}"] for m in mediators])
    expected_direct = theta["x"] + sum(
        theta[f"x:{m}"] * np.mean(fits[m]["const"] + fits[m]["c"] * frame.c) for m in mediators
    )
    closed = interventional_effects(frame, x="x", mediators=mediators, y="y", covariates=["c"], n_boot=0)
    assert closed.info["integration"] == "closed form"
    assert closed.effect("direct").estimate == pytest.approx(expected_direct, abs=1e-10)
    for n_draws in (1, 400):
        res = interventional_effects(
            frame,
            x="x",
            mediators=mediators,
            y="y",
            covariates=["c"],
            n_boot=0,
            n_draws=n_draws,
            integration="monte carlo",
            seed=4,
        )
        for m in mediators:
            own = fits[m]["x"] * (theta[m] + theta[f"x:{m}"])
            assert res.effect(f"indirect[{m}]").estimate == pytest.approx(own, abs=1e-10)
        sigma = res.mediator_covariance.to_numpy()
        monte_carlo_se = float(np.sqrt(d @ sigma @ d / (len(frame) * n_draws)))
        assert abs(res.effect("direct").estimate - expected_direct) < 4 * monte_carlo_se
    assert 4 * monte_carlo_se < 0.005  # with 400 draws per row the tolerance is small


def test_one_mediator_has_no_dependence_term():
    """Definition (Vansteelandt & Daniel 2017): with one mediator its own distribution is the joint one, so
    its indirect effect is the joint indirect effect and the dependence term is 0, also for a logit outcome
    with post-exposure confounders (where the Monte Carlo draws do not cancel)."""
    frame = _observed(400, seed=81, logit=True)
    res = interventional_effects(
        frame, x="x", mediators=["m2"], y="y", confounders=["l1", "l2"], outcome="logit", n_boot=0, seed=3
    )
    assert res.effect("indirect[m2]").estimate == pytest.approx(res.effect("indirect").estimate, abs=1e-14)
    assert res.effect("dependence").estimate == pytest.approx(0.0, abs=1e-14)
    assert res.effect("indirect").estimate != 0


# ------------------------------------------------------------------------------------------------------------
# Known truth: brute-force simulation of the counterfactual worlds
# ------------------------------------------------------------------------------------------------------------


def _confounders(a, c, rng):
    """Post-exposure confounders under exposure a: L1 (0/1, logistic) and L2 (normal, depends on L1)."""
    l1 = (rng.random(c.size) < special.expit(-2.0 + 2.0 * a + 0.3 * c)).astype(float)
    l2 = 0.1 + 0.4 * a + 0.5 * l1 + 0.2 * c + rng.normal(size=c.size)
    return l1, l2


def _mediators(a, l1, l2, c, rng):
    """M1 and M2 under exposure a (M2 depends on M1; both on the confounders)."""
    m1 = 0.1 + 0.6 * a + 1.5 * l1 + 0.3 * l2 + 0.2 * c + rng.normal(size=c.size)
    m2 = -0.1 + 0.3 * a + 0.5 * m1 + 1.0 * l1 - 0.2 * l2 - 0.2 * c + 0.8 * rng.normal(size=c.size)
    return m1, m2


def _outcome_eta(a, m1, m2, l1, l2, c, logit):
    if logit:
        return (
            -1.0
            + 0.3 * a
            + 0.4 * m1
            + 0.3 * m2
            + 0.2 * a * m1
            + 0.1 * m1 * m2
            + 0.3 * l1
            + 0.1 * l2
            + 0.2 * c
        )
    return 0.2 + 0.3 * a + 0.4 * m1 + 0.5 * m2 + 0.25 * a * m1 + 0.3 * m1 * m2 + 0.3 * l1 + 0.2 * l2 + 0.2 * c


def _observed(n, seed, logit):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=n)
    x = (rng.random(n) < special.expit(0.4 * c)).astype(float)
    l1, l2 = _confounders(x, c, rng)
    m1, m2 = _mediators(x, l1, l2, c, rng)
    eta = _outcome_eta(x, m1, m2, l1, l2, c, logit)
    y = (rng.random(n) < special.expit(eta)).astype(float) if logit else eta + rng.normal(size=n)
    return pd.DataFrame({"x": x, "c": c, "l1": l1, "l2": l2, "m1": m1, "m2": m2, "y": y})


def _true_effects(logit, size=1_000_000, seed=99):
    """The interventional effects by definition: every world simulated from the structural equations.

    A draw from the mediators' distribution under exposure a' given C is a fresh simulation of L and M under
    a' for the same C; an independent draw of one mediator is a separate simulation of which only that
    mediator is kept; the outcome's confounders are simulated under the outcome's exposure level, afresh.
    """
    rng = np.random.default_rng(seed)
    c = rng.normal(size=size)

    def world(a):
        return _mediators(a, *_confounders(a, c, rng), c, rng)

    def mean_outcome(a, m1, m2):
        l1, l2 = _confounders(a, c, rng)
        eta = _outcome_eta(a, m1, m2, l1, l2, c, logit)
        return float(np.mean(special.expit(eta) if logit else eta))

    joint_1, joint_0 = world(1.0), world(0.0)
    q_11 = mean_outcome(1.0, *joint_1)
    q_10 = mean_outcome(1.0, *joint_0)
    q_00 = mean_outcome(0.0, *joint_0)
    m1_at_1, m1_at_0 = world(1.0)[0], world(0.0)[0]
    m2_at_1, m2_at_0 = world(1.0)[1], world(0.0)[1]
    independent_11 = mean_outcome(1.0, m1_at_1, m2_at_1)
    independent_10 = mean_outcome(1.0, m1_at_1, m2_at_0)
    independent_00 = mean_outcome(1.0, m1_at_0, m2_at_0)
    return {
        "total": q_11 - q_00,
        "direct": q_10 - q_00,
        "indirect": q_11 - q_10,
        "indirect[m1]": independent_10 - independent_00,
        "indirect[m2]": independent_11 - independent_10,
        "dependence": (q_11 - independent_11) - (q_10 - independent_00),
    }


#: Four standard errors of each estimate at n = 40 000: the standard errors at n = 20 000 (linear outcome: a
#: 100-resample bootstrap of one dataset; logit outcome: the standard deviation over 16 simulated datasets,
#: whose mean was within 0.001 of the truth), both our own runs, divided by sqrt(2).
TOLERANCES = {
    False: {
        "total": 0.092,
        "direct": 0.057,
        "indirect": 0.088,
        "indirect[m1]": 0.058,
        "indirect[m2]": 0.065,
        "dependence": 0.017,
    },
    True: {
        "total": 0.025,
        "direct": 0.030,
        "indirect": 0.016,
        "indirect[m1]": 0.017,
        "indirect[m2]": 0.021,
        "dependence": 0.0032,
    },
}


@pytest.mark.parametrize("logit", [False, True], ids=["linear", "logit"])
def test_recovers_the_true_effects_of_a_known_process(logit):
    """Independent implementation (brute-force simulation of the counterfactual worlds, above): on n = 40 000
    rows every estimate falls within four standard errors of the truth (differences in Y's units for the
    linear outcome, in probability for the 0/1 one)."""
    truth = _true_effects(logit)
    frame = _observed(40_000, seed=7, logit=logit)
    res = interventional_effects(
        frame,
        x="x",
        mediators=["m1", "m2"],
        y="y",
        covariates=["c"],
        confounders=["l1", "l2"],
        outcome="logit" if logit else "linear",
        mediator_interaction=True,
        n_boot=0,
        n_draws=10,
        seed=8,
    )
    assert res.info["confounder_kinds"] == ["logit", "linear"]
    effects = res.to_frame()["estimate"]
    for name, value in truth.items():
        assert effects[name] == pytest.approx(value, abs=TOLERANCES[logit][name]), name
    # the process has a real dependence term (X changes the mediators' covariance through L1)
    assert abs(truth["dependence"]) > 4 * TOLERANCES[logit]["dependence"]


# ------------------------------------------------------------------------------------------------------------
# Closed form of a linear outcome model, written here from statsmodels fits
# ------------------------------------------------------------------------------------------------------------


def _with_second_binary_confounder(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Adds l3, a 0/1 post-exposure confounder that depends on the exposure, C and the 0/1 confounder l1."""
    rng = np.random.default_rng(seed)
    eta = -0.5 + 1.0 * frame.x + 0.3 * frame.c + 1.2 * frame.l1
    return frame.assign(l3=(rng.random(len(frame)) < special.expit(eta)).astype(float))


def _effects_by_hand(
    frame: pd.DataFrame, mediators: list[str], confounders: list[str]
) -> tuple[dict[str, float], list[float]]:
    """The effects and the k + 4 potential-outcome means of a linear outcome model with X x M terms, from
    statsmodels fits (covariate c; every 0/1 confounder listed before the continuous ones).

    E{Y(a, G)} is linear in the mediators and confounders, so it is the outcome model at their means: a 0/1
    confounder's mean under X = a is its logistic probability summed over the values of the 0/1 confounders
    before it, each combination weighted by the product of their own probabilities; a continuous
    confounder's mean is its regression at the means of those before it; a mediator's mean under the level
    G draws it at is its regression at the confounders' means under that level; then the row average.
    """
    binary = [name for name in confounders if set(np.unique(frame[name])) <= {0.0, 1.0}]
    fits = {}
    for j, name in enumerate(confounders):
        exog = sm.add_constant(frame[["x", "c", *confounders[:j]]])
        model = sm.Logit if name in binary else sm.OLS
        fits[name] = model(frame[name], exog).fit(**({"disp": 0} if name in binary else {})).params
    for m in mediators:
        fits[m] = _ols(frame, m, ["x", "c", *confounders]).params
    design = frame[["x", *mediators]].assign(**{f"x:{m}": frame.x * frame[m] for m in mediators})
    theta = sm.OLS(frame.y, sm.add_constant(pd.concat([design, frame[[*confounders, "c"]]], axis=1))).fit()
    theta = theta.params

    def predictor(params: pd.Series, values: dict) -> np.ndarray:
        return params["const"] + sum(params[name] * values[name] for name in params.index[1:])

    def probability(name: str, value: float, values: dict) -> np.ndarray:
        p = special.expit(predictor(fits[name], values))
        return p if value == 1 else 1 - p

    def confounder_means(a: float) -> dict:
        values = {"x": a, "c": frame.c.to_numpy()}
        means = {}
        for j, name in enumerate(confounders):
            if name in binary:
                total = 0.0
                for earlier in itertools.product([0.0, 1.0], repeat=j):
                    setting = {**values, **dict(zip(confounders[:j], earlier, strict=True))}
                    weight = np.prod(
                        [probability(confounders[i], earlier[i], setting) for i in range(j)], axis=0
                    )
                    total = total + weight * probability(name, 1.0, setting)
                means[name] = total
            else:
                means[name] = predictor(fits[name], {**values, **means})
        return means

    under = {a: confounder_means(a) for a in (0.0, 1.0)}
    mediator_mean = {
        (m, a): predictor(fits[m], {"x": a, "c": frame.c.to_numpy(), **under[a]})
        for m in mediators
        for a in (0, 1)
    }

    def mean(a: float, levels: list[float]) -> float:
        row = theta["const"] + theta["x"] * a + theta["c"] * frame.c.to_numpy()
        row = row + sum(theta[name] * under[a][name] for name in confounders)
        row = row + sum(
            (theta[m] + a * theta[f"x:{m}"]) * mediator_mean[m, level]
            for m, level in zip(mediators, levels, strict=True)
        )
        return float(np.mean(row))

    k = len(mediators)
    means = [mean(1, [1] * k), mean(1, [0] * k), mean(0, [0] * k)]
    means += [mean(1, [1] * t + [0] * (k - t)) for t in range(k + 1)]
    effects = {"total": means[0] - means[2], "direct": means[1] - means[2], "indirect": means[0] - means[1]}
    effects.update({f"indirect[{m}]": means[4 + j] - means[3 + j] for j, m in enumerate(mediators)})
    effects["dependence"] = 0.0
    return effects, means


CLOSED_FORM_CONFOUNDERS = [["l2"], ["l1", "l2"], ["l1", "l3", "l2"], []]


@pytest.mark.parametrize("confounders", CLOSED_FORM_CONFOUNDERS, ids=lambda c: "+".join(c) or "none")
def test_closed_form_equals_the_algebra_of_statsmodels_fits(confounders):
    """Closed form written here (statsmodels OLS and Logit fits, `_effects_by_hand`): the estimates and the
    potential-outcome means to 1e-10, with no confounder, one linear post-exposure confounder, a 0/1 then a
    linear one, and two 0/1 confounders (the second modelled on the first) before a linear one."""
    frame = _with_second_binary_confounder(_observed(1500, seed=91, logit=False), seed=92)
    mediators = ["m1", "m2"]
    res = interventional_effects(
        frame, x="x", mediators=mediators, y="y", covariates=["c"], confounders=confounders, n_boot=0, seed=1
    )
    assert res.info["integration"] == "closed form"
    assert res.info["n_draws"] is None
    expected, means = _effects_by_hand(frame, mediators, confounders)
    effects = res.to_frame()["estimate"]
    for name, value in expected.items():
        assert effects[name] == pytest.approx(value, abs=1e-10), name
    np.testing.assert_allclose(res.means.to_numpy(), means, rtol=0, atol=1e-10)
    assert effects["dependence"] == 0.0  # joint and independent draws have the same means


def test_closed_form_agrees_with_the_monte_carlo_path():
    """The two paths against each other: on the same fitted models the Monte Carlo means are unbiased for
    the closed form, so the average of R = 6 Monte Carlo runs (independent seeds, 200 draws per row) lies
    within 4 Monte Carlo standard errors (their spread / sqrt(R)) of it, per effect, and the closed form is
    not the Monte Carlo answer in disguise (the runs differ from it and from one another)."""
    frame = _with_second_binary_confounder(_observed(600, seed=93, logit=False), seed=94)
    arguments = dict(
        x="x", mediators=["m1", "m2"], y="y", covariates=["c"], confounders=["l1", "l3", "l2"], n_boot=0
    )
    closed = interventional_effects(frame, **arguments).to_frame()["estimate"]
    runs = pd.DataFrame(
        [
            interventional_effects(
                frame, integration="monte carlo", n_draws=200, seed=seed, **arguments
            ).to_frame()["estimate"]
            for seed in range(6)
        ]
    )
    standard_error = runs.std(ddof=1) / np.sqrt(len(runs))
    assert (standard_error > 0).all()
    for name in closed.index:
        assert abs(runs[name].mean() - closed[name]) < 4 * standard_error[name], name
    assert standard_error["direct"] < 0.01  # the check has teeth: the tolerance is small


def test_closed_form_bootstrap_equals_a_statsmodels_loop_over_the_same_rows():
    """statsmodels loop written here: the same resampled rows (`bootstrap_indices` with the seed the call
    uses; its counts are what the call weights rows by), every model refitted with statsmodels OLS and
    Logit and the closed form of `_effects_by_hand`: the draws and the percentile intervals to 1e-8."""
    frame = _with_second_binary_confounder(_observed(300, seed=95, logit=False), seed=96)
    mediators, confounders = ["m1", "m2"], ["l1", "l2"]
    n_boot, seed = 100, 17
    res = interventional_effects(
        frame,
        x="x",
        mediators=mediators,
        y="y",
        covariates=["c"],
        confounders=confounders,
        n_boot=n_boot,
        seed=seed,
    )
    assert res.info["integration"] == "closed form"
    assert res.info["n_failed_resamples"] == 0
    rows = bootstrap_indices(len(frame), n_boot, seed=seed)
    by_hand = pd.DataFrame(
        [
            _effects_by_hand(frame.iloc[index].reset_index(drop=True), mediators, confounders)[0]
            for index in rows
        ]
    )
    np.testing.assert_allclose(res.draws[by_hand.columns], by_hand, rtol=0, atol=1e-8)
    for effect in res.effects[:-1]:  # the dependence is 0 in every resample
        low, high = np.quantile(by_hand[effect.name], [0.025, 0.975])
        assert (effect.ci_low, effect.ci_high) == pytest.approx((low, high), abs=1e-8)


def test_which_cases_have_a_closed_form():
    """Notes of `interventional_effects`: a logit outcome, mediator x mediator products and a 0/1 confounder
    modelled on a continuous one use Monte Carlo integration ("auto") and are refused by "closed form"."""
    frame = _observed(300, seed=97, logit=False)
    base = dict(x="x", mediators=["m1", "m2"], y="y", covariates=["c"], n_boot=0, n_draws=3, seed=1)
    binary = _observed(300, seed=97, logit=True)
    cases = [
        (frame, {"confounders": ["l1", "l2"]}, "closed form", None),
        (frame, {"confounders": ["l2", "l1"]}, "Monte Carlo (3 draws)", "0/1 confounder 'l1'"),
        (frame, {"mediator_interaction": True}, "Monte Carlo (3 draws)", "mediator x mediator"),
        (binary, {"outcome": "logit"}, "Monte Carlo (3 draws)", "logit outcome"),
        (frame, {"integration": "monte carlo"}, "Monte Carlo (3 draws)", None),
    ]
    for data, changes, integration, refusal in cases:
        res = interventional_effects(data, **{**base, **changes})
        assert res.info["integration"] == integration
        assert json.loads(json.dumps(res.to_dict()))["info"]["integration"] == integration
        assert ("closed form" in res.summary()) == (integration == "closed form")
        if refusal:
            with pytest.raises(DataError, match=refusal):
                interventional_effects(data, **{**base, **changes, "integration": "closed form"})


# ------------------------------------------------------------------------------------------------------------
# Bootstrap
# ------------------------------------------------------------------------------------------------------------


def test_decomposition_holds_on_every_bootstrap_draw():
    """Vansteelandt & Daniel (2017): total = direct + indirect and indirect = sum of the mediators' own
    indirect effects + dependence, on the estimate and on each bootstrap draw."""
    frame = _observed(400, seed=12, logit=False)
    res = interventional_effects(
        frame,
        x="x",
        mediators=["m1", "m2"],
        y="y",
        covariates=["c"],
        confounders=["l1", "l2"],
        mediator_interaction=True,
        n_boot=150,
        n_draws=8,
        seed=13,
    )
    for table in (res.draws, res.to_frame()["estimate"].to_frame().T):
        np.testing.assert_allclose(table["total"], table["direct"] + table["indirect"], rtol=0, atol=1e-12)
        parts = table["indirect[m1]"] + table["indirect[m2]"] + table["dependence"]
        np.testing.assert_allclose(table["indirect"], parts, rtol=0, atol=1e-12)
    assert len(res.draws) + res.info["n_failed_resamples"] == 150
    assert res.draws["indirect"].std() > 0
    for effect in res.effects:
        assert effect.ci_low < effect.estimate < effect.ci_high
        assert effect.ci_method == "percentile"


def test_bootstrap_spread_matches_the_sandwich_standard_error():
    """statsmodels HC0: without interactions the direct effect is c' in every resample, so its bootstrap
    standard error approximates the heteroskedasticity-consistent standard error of c' (within 15 %)."""
    frame = _linear_frame(n=500, seed=21)
    res = interventional_effects(
        frame,
        x="x",
        mediators=["m1", "m2"],
        y="y",
        covariates=["c"],
        interaction=False,
        n_boot=600,
        n_draws=2,
        seed=5,
    )
    robust = sm.OLS(frame.y, sm.add_constant(frame[["x", "m1", "m2", "c"]])).fit(cov_type="HC0").bse["x"]
    assert res.effect("direct").se == pytest.approx(robust, rel=0.15)


def test_logit_outcome_bootstrap_and_same_seed_same_numbers():
    frame = _observed(500, seed=31, logit=True)
    kwargs = dict(
        x="x", mediators=["m1", "m2"], y="y", covariates=["c"], outcome="logit", n_boot=100, n_draws=5
    )
    first = interventional_effects(frame, seed=3, **kwargs)
    second = interventional_effects(frame, seed=3, **kwargs)
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame())
    assert first.info["scale"] == "difference in probability"
    assert all(-1 < e.estimate < 1 for e in first.effects)


# ------------------------------------------------------------------------------------------------------------
# Rendering and bad input
# ------------------------------------------------------------------------------------------------------------


def test_result_renders():
    frame = _observed(300, seed=41, logit=False)
    res = interventional_effects(
        frame, x="x", mediators=["m1", "m2"], y="y", confounders=["l2"], n_boot=100, n_draws=3, seed=1
    )
    text = res.summary()
    assert "indirect[m1]" in text and "dependence" in text and "l2 (linear)" in text
    assert "total = direct + indirect" in text
    assert repr(res).startswith("InterventionalEffectsResult(total = ")
    assert "<table" in res._repr_html_()
    payload = json.loads(json.dumps(res.to_dict()))
    assert [e["name"] for e in payload["effects"]] == [
        "total",
        "direct",
        "indirect",
        "indirect[m1]",
        "indirect[m2]",
        "dependence",
    ]
    assert payload["mediator_models"][0]["model"] == "m1"
    assert res.means.shape == (6,)
    assert list(res.mediator_covariance.index) == ["m1", "m2"]


def test_missing_rows_are_dropped_and_reported_or_refused():
    frame = _observed(200, seed=51, logit=False)
    frame.loc[[3, 8], "m2"] = np.nan
    res = interventional_effects(frame, x="x", mediators=["m1", "m2"], y="y", n_boot=0, n_draws=2, seed=1)
    assert res.info["n"] == 198 and res.info["n_dropped"] == 2
    assert any("2 of 200 rows" in w for w in res.warnings)
    with pytest.raises(DataError, match="missing values"):
        interventional_effects(frame, x="x", mediators=["m1", "m2"], y="y", missing="raise", n_boot=0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mediators": ["m1", "m1"]}, "lists 'm1' twice"),
        ({"mediators": ["m1", "y"]}, "more than one role"),
        ({"mediators": []}, "mediators is empty"),
        ({"mediators": ["m1", "mm2"]}, "did you mean 'm2'"),
        ({"outcome": "logit"}, "declared binary"),
        ({"outcome": "probit"}, "outcome must be one of"),
        ({"x_levels": (0, 2)}, "takes only the values 0 and 1"),
        ({"x_levels": (1, 1)}, "must differ"),
        ({"x_levels": 1}, "must be a pair"),
        ({"n_draws": 0}, "n_draws"),
        ({"n_boot": 10}, "n_boot"),
        ({"integration": "exact"}, "integration must be one of"),
        ({"confounders": ["l2", "l2"]}, "lists 'l2' twice"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(changes, message):
    frame = _observed(200, seed=61, logit=False)
    arguments = dict(x="x", mediators=["m1", "m2"], y="y", n_boot=0, n_draws=2)
    arguments.update(changes)
    with pytest.raises(DataError, match=message):
        interventional_effects(frame, **arguments)


def test_too_few_rows():
    frame = _observed(200, seed=71, logit=False).head(6)
    with pytest.raises(DataError, match="only 6 complete rows"):
        interventional_effects(
            frame, x="x", mediators=["m1", "m2"], y="y", covariates=["c"], confounders=["l2"], n_boot=0
        )
