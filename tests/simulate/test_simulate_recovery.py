"""The generated truth is recovered: paths, indirect effects, nulls, standardization, ICCs, confounding,
moderation, preconditions and dose-response, each against an estimator outside the simulator
(statsmodels OLS, moclab.analysis.mediate and icc) on large simulated samples of latent variables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from simulate_helpers import spec

from moclab.analysis import icc, mediate
from moclab.simulate import compile_simulation


def _within(estimate: float, truth: float, se: float, *, z: float = 4.0) -> None:
    assert abs(estimate - truth) < z * se, f"{estimate:.4f} is not within {z} SE ({se:.4f}) of {truth}"


def _by_wave(frame: pd.DataFrame, wave: str, columns: list[str]) -> pd.DataFrame:
    part = frame[frame["wave"] == wave].set_index("recipient_id")
    return part[columns]


def test_one_wave_paths_and_indirect_effects_are_recovered_by_ols_and_mediate(tiny):
    plan = compile_simulation(
        tiny, spec(null_mechanisms=["n"], design={"recipients": 500}, paths={"x->n": 0.0})
    )
    truth = plan.truth
    assert truth.null_mechanisms == ["n"]
    assert truth.path("x", "n") == 0.0
    assert truth.pathway("x__m__y")["structural"] == pytest.approx(0.5 * 0.4 * 0.5)
    assert truth.pathway("x__m__y")["by_outcome"]["y"]["structural"] == pytest.approx(0.2)
    frame = plan.wide(seed=11, measurement="latent")
    a_fit = smf.ols("m ~ x", frame).fit()
    _within(a_fit.params["x"], 0.5, a_fit.bse["x"])
    b_fit = smf.ols("y ~ m + n + x", frame).fit()
    _within(b_fit.params["m"], 0.4, b_fit.bse["m"])
    _within(b_fit.params["n"], 0.3, b_fit.bse["n"])
    _within(b_fit.params["x"], 0.0, b_fit.bse["x"])
    result = mediate(frame, x="x", m=["m", "n"], y="y", cluster="site", ci="delta")
    indirect_m = result.effect("indirect[m]")
    _within(indirect_m.estimate, 0.2, indirect_m.se)
    indirect_n = result.effect("indirect[n]")
    _within(indirect_n.estimate, 0.0, indirect_n.se)
    assert indirect_n.ci_low < 0 < indirect_n.ci_high  # the null mechanism carries nothing


def test_recovery_holds_over_seeds_without_bias(tiny):
    plan = compile_simulation(tiny, spec(design={"sites": 10, "recipients": 100}))
    estimates = []
    for seed in range(30):
        frame = plan.wide(seed=seed, measurement="latent")
        estimates.append(np.polyfit(frame["x"], frame["m"], 1)[0])
    mean, spread = float(np.mean(estimates)), float(np.std(estimates, ddof=1))
    _within(mean, 0.5, spread / np.sqrt(len(estimates)))
    # the SD of the estimate matches the OLS sampling SD of a mean difference: sqrt(1/(n p (1-p)))
    assert spread == pytest.approx(np.sqrt(1 / (1000 * 0.25)), rel=0.35)


def test_panel_paths_are_recovered_by_lagged_regressions_and_by_wave_totals_by_arm_means(tiny):
    waves = [{"id": "w0", "month": 0}, {"id": "w1", "month": 6}, {"id": "w2", "month": 12}]
    plan = compile_simulation(
        tiny,
        spec(
            design={"sites": 60, "recipients": 400, "waves": waves},
            defaults={"icc": 0.1, "stability": 0.5},
            paths={"y->z": 0.3},
        ),
    )
    truth = plan.truth
    assert truth.path("m", "y") == 0.4
    assert next(p for p in truth.paths if p["from"] == "m" and p["to"] == "y")["lag"] == 1
    frame = plan.wide(seed=5, measurement="latent")
    m0, m1 = _by_wave(frame, "w0", ["m", "x", "site"]), _by_wave(frame, "w1", ["m", "n", "y"])
    y2 = _by_wave(frame, "w2", ["y"])
    data = m0.rename(columns={"m": "m0"}).join(m1.rename(columns={"m": "m1", "n": "n1", "y": "y1"})).join(y2)
    # a: the first active wave, adjusting for baseline (randomized, so X is independent of it)
    a_fit = smf.ols("m1 ~ x + m0", data).fit()
    _within(a_fit.params["x"], 0.5, a_fit.bse["x"])
    # b and the stability: lagged regression with site fixed effects (they absorb the random intercepts)
    b_fit = smf.ols("y ~ m1 + n1 + y1 + x + C(site)", data).fit()
    _within(b_fit.params["m1"], 0.4, b_fit.bse["m1"])
    _within(b_fit.params["y1"], 0.5, b_fit.bse["y1"])
    # the effect of exposure on each node by wave: the difference in arm means
    for node in ("m", "y", "z"):
        for wave in ("w0", "w1", "w2"):
            part = frame[frame["wave"] == wave]
            fit = smf.ols(f"{node} ~ x", part).fit()
            expected = truth.total_effects["x"][node][wave]
            _within(fit.params["x"], expected, fit.bse["x"])
    # y responds one wave after m: nothing at w1, a·b(1 + φ_m·0) at w2 through m, plus n's share
    assert truth.total_effects["x"]["y"]["w1"] == 0.0
    by_m = truth.pathway("x__m__y")["by_outcome"]["y"]["by_wave"]
    by_n = truth.pathway("x__n__y")["by_outcome"]["y"]["by_wave"]
    assert by_m["w2"] == pytest.approx(0.5 * 0.4)
    assert by_m["w2"] + by_n["w2"] == pytest.approx(truth.total_effects["x"]["y"]["w2"])


def test_latent_variables_have_variance_one_without_the_strategy_and_the_population_iccs():
    from moclab.model import model_from_dict

    chain = model_from_dict(
        {
            "model": "chain",
            "nodes": [
                {"id": "s", "type": "strategy"},
                {"id": "d", "type": "determinant"},
                {"id": "m1", "type": "mechanism"},
                {"id": "m2", "type": "mechanism"},
                {"id": "o1", "type": "proximal outcome"},
                {"id": "o2", "type": "distal outcome"},
            ],
            "edges": [
                {"from": "s", "to": "d"},
                {"from": "d", "to": "m1"},
                {"from": "s", "to": "m2"},
                {"from": "m1", "to": "m2"},
                {"from": "m1", "to": "o1"},
                {"from": "m2", "to": "o1"},
                {"from": "o1", "to": "o2"},
                {"from": "d", "to": "o2"},
            ],
        },
        catalog=None,
    )
    plan = compile_simulation(
        chain,
        {
            "design": {"sites": 200, "recipients": 150, "waves": {"count": 2}},
            "paths": {
                "d->m1": 0.4,
                "m1->m2": 0.3,
                "m1->o1": 0.3,
                "m2->o1": 0.25,
                "o1->o2": 0.35,
                "d->o2": 0.2,
            },
            "defaults": {"icc": 0.15, "stability": 0.5},
            "variables": {"o2": {"icc": 0.3}},
        },
    )
    np.testing.assert_allclose(np.diag(plan.covariance), 1.0, atol=1e-9)
    frame = plan.wide(seed=3, measurement="latent")
    baseline = frame[frame["wave"] == "baseline"]
    for node in ("d", "m1", "m2", "o1", "o2"):
        assert baseline[node].var() == pytest.approx(1.0, abs=0.05), node
        expected_icc = plan.truth.icc[node]["population"]["site"]
        assert icc(baseline, node, "site", method="anova") == pytest.approx(expected_icc, abs=0.03), node
    # nodes with causes carry their causes' between-site variance too
    assert plan.truth.icc["o2"]["population"]["site"] > 0.3 * (1 - 0.0)  # at least its own share


def test_specified_iccs_are_realised(tiny):
    plan = compile_simulation(
        tiny,
        spec(
            design={"sites": 400, "recipients": 30, "teams": 3},
            variables={"m": {"icc": 0.2, "team_icc": 0.1}, "n": {"icc": 0.0}},
        ),
    )
    frame = plan.wide(seed=8, measurement="latent")
    control = frame[frame["x"] == 0]  # m has no other cause, so its ICC among the unexposed is the specified
    # two recipients of a site share the site effect, and their team's effect one time in three
    assert icc(control, "m", "site") == pytest.approx(0.2 + 0.1 / 3, abs=0.05)
    assert icc(control, "m", "team", method="anova") == pytest.approx(0.3, abs=0.05)
    assert icc(control, "n", "site") == pytest.approx(0.0, abs=0.02)
    study = plan.study(seed=8)
    realised = study.truth.icc["m"]["realised_latent"]["post"]
    assert realised == pytest.approx(0.2 + 0.1 / 3, abs=0.05)
    assert study.truth.icc["m"]["site"] == 0.2


def test_unit_residual_metric_with_a_standard_normal_exposure(tiny):
    plan = compile_simulation(
        tiny,
        spec(
            scale="unit-residual",
            design={
                "sites": 1,
                "recipients": 60_000,
                "randomization": {"level": "recipient", "exposure": "continuous"},
            },
            paths={"x->m": 0.39, "x->n": 0.0, "m->y": 0.14, "n->y": 0.0, "y->z": 0.0},
            defaults={"icc": 0.0},
        ),
    )
    frame = plan.wide(seed=2, measurement="latent")
    assert frame["x"].var() == pytest.approx(1.0, abs=0.02)
    m_fit = smf.ols("m ~ x", frame).fit()
    _within(m_fit.params["x"], 0.39, m_fit.bse["x"])
    assert m_fit.mse_resid == pytest.approx(1.0, abs=0.02)  # residual variance 1 (MacKinnon et al. 2002)
    y_fit = smf.ols("y ~ m + x", frame).fit()
    _within(y_fit.params["m"], 0.14, y_fit.bse["m"])
    assert y_fit.mse_resid == pytest.approx(1.0, abs=0.02)


def test_an_observational_design_is_confounded_and_adjusting_for_the_confounder_recovers_a(tiny):
    plan = compile_simulation(
        tiny,
        spec(
            design={"sites": 300, "recipients": 30, "randomization": {"level": "none"}},
            confounders={
                "readiness": {
                    "level": "site",
                    "exposure": 1.5,
                    "effects": {"m": 0.4, "y": 0.3},
                    "observed": True,
                }
            },
            defaults={"icc": 0.05},
        ),
    )
    frame = plan.wide(seed=4, measurement="latent")
    sites = frame.groupby("site")[["x", "readiness"]].first()
    assert np.corrcoef(sites["x"], sites["readiness"])[0, 1] > 0.3  # exposure follows the confounder
    naive = smf.ols("m ~ x", frame).fit().params["x"]
    adjusted = smf.ols("m ~ x + readiness", frame).fit(cov_type="cluster", cov_kwds={"groups": frame["site"]})
    assert naive > 0.5 + 0.15  # confounding inflates the a path
    _within(adjusted.params["x"], 0.5, adjusted.bse["x"])
    assert plan.truth.path("readiness", "m") == 0.4
    assert plan.study(seed=4).config["design"]["randomization"]["level"] == "none"


def test_a_confounder_of_mechanism_and_outcome_biases_b_unless_adjusted(tiny):
    plan = compile_simulation(
        tiny,
        spec(
            design={"recipients": 500},
            confounders={"optimism": {"effects": {"m": 0.4, "y": 0.4}, "observed": True}},
        ),
    )
    frame = plan.wide(seed=6, measurement="latent")
    naive = smf.ols("y ~ m + n + x", frame).fit()
    adjusted = smf.ols("y ~ m + n + x + optimism", frame).fit()
    assert naive.params["m"] > 0.4 + 10 * naive.bse["m"]
    _within(adjusted.params["m"], 0.4, adjusted.bse["m"])


def test_a_binary_moderator_changes_the_path_by_its_interaction(tiny):
    plan = compile_simulation(
        tiny,
        spec(
            design={"recipients": 500},
            moderators={"w": {"kind": "binary", "values": ["high", "low"], "share": 0.3, "interaction": 0.4}},
        ),
    )
    frame = plan.wide(seed=9, measurement="latent")
    high = smf.ols("m ~ x", frame[frame["w"] == "high"]).fit()
    low = smf.ols("m ~ x", frame[frame["w"] == "low"]).fit()
    difference = high.params["x"] - low.params["x"]
    _within(difference, 0.4, np.hypot(high.bse["x"], low.bse["x"]))
    # centred at its share, so the path averaged over the groups is the specified one
    _within(0.3 * high.params["x"] + 0.7 * low.params["x"], 0.5, high.bse["x"])
    assert frame["w"].eq("high").mean() == pytest.approx(0.3, abs=0.02)


def test_where_a_precondition_fails_the_strategy_has_no_effect(tiny):
    plan = compile_simulation(
        tiny, spec(design={"sites": 100, "recipients": 100}, preconditions={"p": {"share": 0.5}})
    )
    frame = plan.wide(seed=10, measurement="latent")
    holds = smf.ols("m ~ x", frame[frame["p"] == "yes"]).fit()
    fails = smf.ols("m ~ x", frame[frame["p"] == "no"]).fit()
    _within(holds.params["x"], 0.5, holds.bse["x"])
    _within(fails.params["x"], 0.0, fails.bse["x"])
    share = frame.groupby("site")["p"].first().eq("yes").mean()
    assert plan.truth.total_effects["x"]["m"]["post"] == pytest.approx(0.25)
    assert 0.35 < share < 0.65


def test_the_dose_response_slope_is_recovered_from_the_support_log(tiny):
    waves = [{"id": "w0", "month": 0}, {"id": "w1", "month": 6}]
    plan = compile_simulation(
        tiny,
        spec(
            design={"sites": 400, "recipients": 25, "randomization": {"level": "site"}, "waves": waves},
            dose={
                "level": "site",
                "minutes_per_month": 120,
                "cv": 0.5,
                "contact_minutes": 30,
                "slopes": {"m": 0.2},
            },
        ),
    )
    dose_truth = plan.truth.dose["slopes"]["m"]
    assert dose_truth["per_minute_per_month"] == pytest.approx(0.2 / 60)
    assert dose_truth["per_cumulative_hour"]["w1"] == pytest.approx(60 * 0.2 / 60 / 6)
    frame = plan.wide(seed=12, measurement="latent")
    before = _by_wave(frame, "w0", ["m"]).rename(columns={"m": "m0"})
    after = _by_wave(frame, "w1", ["m", "x", "support_minutes", "site"])
    data = before.join(after)
    exposed = data[data["x"] == 1].copy()
    exposed["rate"] = exposed["support_minutes"] / 6  # minutes a month since the start
    fit = smf.ols("m ~ rate + m0", exposed).fit(cov_type="cluster", cov_kwds={"groups": exposed["site"]})
    _within(fit.params["rate"], dose_truth["per_minute_per_month"], fit.bse["rate"])
    # unexposed sites get no support (control_minutes_per_month 0)
    assert data.loc[data["x"] == 0, "support_minutes"].eq(0).all()


def test_the_support_log_adds_up_to_the_support_in_the_wide_frame(tiny):
    waves = [{"id": "w0", "month": 0}, {"id": "w1", "month": 3}, {"id": "w2", "month": 9}]
    plan = compile_simulation(
        tiny,
        spec(
            design={
                "sites": 12,
                "recipients": 10,
                "teams": 2,
                "randomization": {"level": "team"},
                "waves": waves,
            },
            dose={
                "level": "recipient",
                "minutes_per_month": 90,
                "control_minutes_per_month": 15,
                "slopes": 0.1,
            },
        ),
    )
    study = plan.study(seed=3)
    log = study.activities
    assert log["recipient_id"].ne("").all()
    frame = study.wide()
    last = frame[frame["wave"] == "w2"].set_index("recipient_id")["support_minutes"]
    logged = log.groupby("recipient_id")["minutes"].sum()
    pd.testing.assert_series_equal(
        logged.reindex(last.index, fill_value=0).astype(float), last, check_names=False
    )
    assert set(log["component"]) <= {"support"}  # the strategy has no catalog refs: a generic component
