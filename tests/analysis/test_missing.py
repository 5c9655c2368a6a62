"""Multiple imputation, retention weights and the tipping point (moclab.analysis.missing).

References: statsmodels' `MICE` (Rubin's rules on the same imputations), a hand computation of Rubin's rules
and the Barnard-Rubin df, data generated here with a known complete-data estimate, statsmodels Logit, GLM
and WLS for the weights and weighted paths, and the closed form of a shifted difference in means.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special
from statsmodels.imputation.mice import MICE, MICEData

from moclab.analysis import mediate, mediate_imputed, mediate_weighted, tipping_point
from moclab.analysis.bootstrap import bootstrap_counts
from moclab.analysis.missing import ChainedEquations, rubin_pool
from moclab.errors import DataError


def mar_data(seed: int, n: int, *, mcar: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete data and the same data with outcomes (and half of those rows' mediators) lost.

    Loss depends on the arm and on the baseline, which is not in the analysis model but predicts the
    mediator and the outcome: missing at random given the baseline, and complete-case analysis is biased.
    """
    rng = np.random.default_rng(seed)
    baseline = rng.normal(size=n)
    arm = rng.integers(0, 2, n).astype(float)
    trust = 0.5 * arm + 0.8 * baseline + rng.normal(size=n)
    adoption = 0.4 * trust + 0.2 * arm + 0.8 * baseline + rng.normal(size=n)
    full = pd.DataFrame({"arm": arm, "baseline": baseline, "trust": trust, "adoption": adoption})
    chance = np.full(n, 0.3) if mcar else special.expit(-1.0 + 1.5 * baseline + 1.0 * arm)
    lost = rng.random(n) < chance
    data = full.copy()
    data.loc[lost, "adoption"] = np.nan
    data.loc[lost & (rng.random(n) < 0.5), "trust"] = np.nan
    return full, data


# ----------------------------------------------------------------------------------------------------
# Rubin's rules
# ----------------------------------------------------------------------------------------------------


def test_rubin_pool_matches_a_hand_computation_with_barnard_rubin_df():
    estimates, variances, df_complete, m = [1.0, 1.2, 1.4], [0.04, 0.05, 0.06], 50.0, 3
    q_bar = (1.0 + 1.2 + 1.4) / 3  # 1.2
    within = (0.04 + 0.05 + 0.06) / 3  # 0.05
    between = ((1.0 - 1.2) ** 2 + 0 + (1.4 - 1.2) ** 2) / (m - 1)  # 0.04
    total = within + (1 + 1 / m) * between
    lam = (1 + 1 / m) * between / total
    df_old = (m - 1) / lam**2
    df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
    df = 1 / (1 / df_old + 1 / df_obs)
    riv = (1 + 1 / m) * between / within
    pooled = rubin_pool(estimates, variances, df_complete)
    assert pooled.estimate == pytest.approx(q_bar, abs=1e-12)
    assert pooled.total == pytest.approx(total, rel=1e-12)
    assert pooled.se == pytest.approx(math.sqrt(0.05 + 4 / 3 * 0.04), rel=1e-12)
    assert pooled.df == pytest.approx(df, rel=1e-12)
    assert pooled.df == pytest.approx(5.6770, abs=1e-4)
    assert pooled.fmi == pytest.approx((riv + 2 / (df + 3)) / (1 + riv), rel=1e-12)
    # Infinite complete-data df: Rubin's (1987) df, (m - 1) / lambda^2.
    assert rubin_pool(estimates, variances).df == pytest.approx(df_old, rel=1e-12)
    low, high, _ = pooled.interval(0.95)
    from scipy import stats

    assert high - q_bar == pytest.approx(stats.t.ppf(0.975, df) * math.sqrt(total), rel=1e-10)
    assert q_bar - low == pytest.approx(high - q_bar, rel=1e-12)


def test_pooled_paths_equal_statsmodels_mice_on_the_same_imputations():
    """Both drive statsmodels' MICEData with the same generator: identical imputations, so the pooled a and b
    paths, their SEs and fractions of missing information must equal statsmodels MICE's combined fit."""
    _, data = mar_data(5, 300)
    frame = data[["arm", "trust", "adoption"]]
    seed, m, burnin = 11, 5, 3
    result = mediate_imputed(
        frame, x="arm", m="trust", y="adoption", n_imputations=m, n_burnin=burnin, ci="delta", seed=seed
    )
    for formula, path, term in (
        ("trust ~ arm", "a[trust]", "arm"),
        ("adoption ~ arm + trust", "b[trust]", "trust"),
    ):
        imputations = MICEData(frame, rng=np.random.default_rng(seed).spawn(2)[0])
        reference = MICE(formula, sm.OLS, imputations, n_skip=3).fit(n_burnin=burnin, n_imputations=m)
        position = list(reference.exog_names).index(term)
        effect = result.effect(path)
        assert effect.estimate == pytest.approx(reference.params[position], rel=1e-10)
        assert effect.se == pytest.approx(reference.bse[position], rel=1e-10)
        assert effect.extra["lambda"] == pytest.approx(reference.frac_miss_info[position], rel=1e-8)
        assert effect.extra["between_variance"] > 0


def test_the_chain_imputes_what_statsmodels_micedata_imputes():
    """`ChainedEquations` runs MICEData's algorithm on arrays: from the same generator, after a burn-in and
    several cycles, every imputed value equals statsmodels' (three incomplete columns, a complete one)."""
    _, data = mar_data(8, 250)
    data.loc[np.random.default_rng(1).random(250) < 0.1, "baseline"] = np.nan
    reference = MICEData(data.copy(), rng=np.random.default_rng(21))
    chain = ChainedEquations(data.to_numpy(), np.random.default_rng(21))
    assert chain.order == [list(data.columns).index(name) for name in reference._cycle_order]
    for cycles in (1, 5):
        reference.update_all(cycles)
        chain.update_all(cycles)
        np.testing.assert_allclose(chain.values, reference.data.to_numpy(), rtol=0, atol=1e-12)
    assert np.isnan(data.to_numpy()).sum() > 100


# ----------------------------------------------------------------------------------------------------
# mediate_imputed
# ----------------------------------------------------------------------------------------------------


def test_without_missing_values_the_estimates_are_those_of_mediate():
    full, _ = mar_data(1, 200)
    imputed = mediate_imputed(full, x="arm", m="trust", y="adoption", n_imputations=2, ci="delta", seed=1)
    direct = mediate(full, x="arm", m="trust", y="adoption", ci="delta")
    for effect in direct.effects:
        assert imputed.effect(effect.name).estimate == effect.estimate  # exactly
    assert imputed.effect("a[trust]").se == pytest.approx(direct.effect("a[trust]").se, rel=1e-12)
    assert imputed.n_incomplete == 0 and imputed.missing == {"trust": 0, "adoption": 0}
    assert any("nothing was imputed" in w for w in imputed.warnings)


def test_known_truth_under_mar_imputation_and_weights_recover_what_complete_cases_miss():
    """The reference is mediate on the data before anything was deleted; the tolerance is two of the
    method's own SEs (which cover the missing information and the sampling error), the complete-case
    estimate is more than three of its SEs away."""
    full, data = mar_data(0, 4000)
    truth = mediate(full, x="arm", m="trust", y="adoption", ci="delta").effect("indirect[trust]").estimate
    complete = mediate(data, x="arm", m="trust", y="adoption", ci="delta").effect("indirect[trust]")
    assert abs(complete.estimate - truth) > 3 * complete.se
    imputed = mediate_imputed(
        data, x="arm", m="trust", y="adoption", auxiliary="baseline", n_imputations=5, ci="delta", seed=0
    ).effect("indirect[trust]")
    assert abs(imputed.estimate - truth) < 2 * imputed.se
    weighted = mediate_weighted(
        data, x="arm", m="trust", y="adoption", retention=["arm", "baseline"], n_boot=200, seed=0
    ).effect("indirect[trust]")
    assert abs(weighted.estimate - truth) < 2 * weighted.se


def test_mcar_complete_cases_imputation_and_weights_agree():
    full, data = mar_data(2, 2000, mcar=True)
    truth = mediate(full, x="arm", m="trust", y="adoption", ci="delta").effect("indirect[trust]").estimate
    estimates = {
        "complete": mediate(data, x="arm", m="trust", y="adoption", ci="delta"),
        "imputed": mediate_imputed(
            data, x="arm", m="trust", y="adoption", auxiliary="baseline", n_imputations=5, ci="delta", seed=2
        ),
        "weighted": mediate_weighted(
            data, x="arm", m="trust", y="adoption", retention=["arm", "baseline"], n_boot=100, seed=2
        ),
    }
    for result in estimates.values():
        effect = result.effect("indirect[trust]")
        assert abs(effect.estimate - truth) < 2 * effect.se
    values = [r.effect("indirect[trust]").estimate for r in estimates.values()]
    assert max(values) - min(values) < 1.5 * estimates["complete"].effect("indirect[trust]").se


def test_the_result_reads_like_a_mediation_result():
    _, data = mar_data(3, 240)
    data["site"] = np.repeat(np.arange(12), 20)
    data.loc[:4, "arm"] = np.nan
    result = mediate_imputed(
        data, x="arm", m="trust", y="adoption", cluster="site", auxiliary="baseline",
        n_imputations=3, n_boot=100, seed=3, show_progress=True,
    )  # fmt: skip
    reference = mediate(data.dropna(), x="arm", m="trust", y="adoption", cluster="site", n_boot=100, seed=3)
    assert [e.name for e in result.effects] == [e.name for e in reference.effects]
    assert result.effect("indirect[trust]").extra["paths"] == ["a[trust]", "b[trust]"]
    assert result.n == 235 and result.n_dropped == 5 and result.n_clusters == 12
    assert result.info["x_coding"] == reference.info["x_coding"]
    assert set(result.icc) == {"trust", "adoption"} and set(result.design_effect) == {"trust", "adoption"}
    assert result.info["cluster_handling"].startswith("cluster indicators")
    assert result.missing["adoption"] == int(data.loc[5:, "adoption"].isna().sum())
    assert result.n_incomplete == int(data.loc[5:, ["trust", "adoption"]].isna().any(axis=1).sum())
    assert len(result.completed) == 3 and not result.completed[0][["trust", "adoption"]].isna().any().any()
    # PMM imputes observed values only.
    observed = set(data["adoption"].dropna())
    assert set(result.completed[1]["adoption"]) <= observed
    text = result.summary()
    assert f"adoption {result.missing['adoption']}" in text and "m = 3" in text
    assert result.to_dict()["missing"] == result.missing


def test_small_clusters_enter_the_imputation_as_cluster_means():
    _, data = mar_data(4, 120)
    data["team"] = np.repeat(np.arange(40), 3)
    result = mediate_imputed(
        data, x="arm", m="trust", y="adoption", cluster="team", n_imputations=2, ci="delta"
    )
    assert result.info["cluster_handling"].startswith("cluster means")


# ----------------------------------------------------------------------------------------------------
# mediate_weighted
# ----------------------------------------------------------------------------------------------------


def test_weights_and_weighted_paths_equal_statsmodels_logit_and_wls():
    _, data = mar_data(6, 500)
    data["role"] = np.where(np.arange(500) % 3 == 0, "nurse", "physician")
    result = mediate_weighted(
        data, x="arm", m="trust", y="adoption", covariates="role", retention=["arm", "baseline"],
        n_boot=100, seed=6,
    )  # fmt: skip
    retained = data[["arm", "trust", "adoption"]].notna().all(axis=1)
    design = sm.add_constant(data[["arm", "baseline"]])
    logit = sm.Logit(retained.astype(float), design).fit(disp=0)
    expected = retained.mean() / np.asarray(logit.predict())[retained.to_numpy()]
    np.testing.assert_allclose(result.weights.to_numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(result.retention_model["estimate"], logit.params, rtol=1e-6)
    kept = data[retained]
    nurse = (kept["role"] == "physician").astype(float).rename("role")
    mediator = sm.WLS(
        kept["trust"], sm.add_constant(pd.concat([kept["arm"], nurse], axis=1)), weights=expected
    )
    outcome = sm.WLS(
        kept["adoption"],
        sm.add_constant(pd.concat([kept["arm"], nurse, kept["trust"]], axis=1)),
        weights=expected,
    )
    a, b = mediator.fit().params["arm"], outcome.fit().params["trust"]
    assert result.effect("a[trust]").estimate == pytest.approx(a, rel=1e-9)
    assert result.effect("b[trust]").estimate == pytest.approx(b, rel=1e-9)
    assert result.effect("indirect[trust]").estimate == pytest.approx(a * b, rel=1e-9)
    assert result.effect("direct").estimate == pytest.approx(outcome.fit().params["arm"], rel=1e-9)
    ess = expected.sum() ** 2 / (expected**2).sum()
    assert result.info["weights"]["ess"] == pytest.approx(ess, rel=1e-6)


def test_every_bootstrap_resample_refits_the_retention_model():
    """Draw 0 rebuilt by hand: the resample's counts (the same generator), statsmodels GLM Binomial with those
    frequency weights, its stabilized weights times the counts, statsmodels WLS."""
    _, data = mar_data(7, 300)
    result = mediate_weighted(
        data, x="arm", m="trust", y="adoption", retention=["arm", "baseline"], n_boot=100, seed=9
    )
    counts = bootstrap_counts(len(data), 100, np.random.default_rng(9))[0]
    retained = data[["trust", "adoption"]].notna().all(axis=1).to_numpy()
    design = sm.add_constant(data[["arm", "baseline"]]).to_numpy()
    glm = sm.GLM(retained.astype(float), design, family=sm.families.Binomial(), freq_weights=counts).fit()
    rate = (counts * retained).sum() / counts.sum()
    weights = (counts * rate / glm.predict())[retained]
    kept = data[retained]
    a = sm.WLS(kept["trust"], sm.add_constant(kept["arm"]), weights=weights).fit().params["arm"]
    b = (
        sm.WLS(kept["adoption"], sm.add_constant(kept[["arm", "trust"]]), weights=weights)
        .fit()
        .params["trust"]
    )
    assert result.draws["indirect[trust]"].iloc[0] == pytest.approx(a * b, rel=1e-6)


def test_trimmed_weights_stop_at_the_quantiles():
    _, data = mar_data(8, 400)
    plain = mediate_weighted(
        data, x="arm", m="trust", y="adoption", retention=["arm", "baseline"], n_boot=100
    )
    trimmed = mediate_weighted(
        data, x="arm", m="trust", y="adoption", retention=["arm", "baseline"], n_boot=100, trim=0.9
    )
    raw = plain.weights.to_numpy()
    np.testing.assert_allclose(
        trimmed.weights.to_numpy(), np.clip(raw, np.quantile(raw, 0.1), np.quantile(raw, 0.9)), rtol=1e-12
    )


# ----------------------------------------------------------------------------------------------------
# tipping_point
# ----------------------------------------------------------------------------------------------------


def shifted_arm_data(seed: int, n: int, a: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat([0.0, 1.0], n // 2)
    trust = a * arm + rng.normal(size=n)
    adoption = 0.4 * trust + rng.normal(size=n)
    data = pd.DataFrame({"arm": arm, "trust": trust, "adoption": adoption})
    data.loc[(arm == 1) & (rng.random(n) < 0.4), "adoption"] = np.nan  # lost in the treated arm only
    return data


def test_the_shift_moves_the_total_effect_by_the_closed_form():
    """Total effect = difference in means; shifting the imputed treated outcomes by delta SD moves it by
    delta * SD(observed) * (share of the treated arm's outcomes that were imputed), in every imputation."""
    data = shifted_arm_data(10, 200, a=0.5)
    result = tipping_point(
        data, x="arm", m="trust", y="adoption", n_imputations=3, deltas=[-1, -0.5, 0.5, 1], seed=1
    )
    treated = data["arm"] == 1
    share = data.loc[treated, "adoption"].isna().sum() / treated.sum()
    sd = data["adoption"].std(ddof=1)
    totals = result.table[result.table["effect"] == "total"].set_index("delta")["estimate"]
    for delta in (-1.0, -0.5, 0.5, 1.0):
        assert totals[delta] - totals[0.0] == pytest.approx(delta * sd * share, rel=1e-9, abs=1e-12)
    assert result.n_shifted == int(data["adoption"].isna().sum())
    indirect = result.table[result.table["effect"] == "indirect[trust]"].set_index("delta")["estimate"]
    steps = np.diff(indirect.sort_index().to_numpy())
    assert (steps > 0).all() or (steps < 0).all()  # monotone (linear: b is linear in the shift)


def test_the_tipping_point_is_where_the_interval_reaches_zero():
    data = shifted_arm_data(12, 160, a=0.45)
    result = tipping_point(
        data, x="arm", m="trust", y="adoption", n_imputations=4, deltas=np.arange(-3, 3.01, 0.5), seed=2
    )
    name = "indirect[trust]"
    at_mar = result.effect(name)
    assert at_mar.ci_low > 0  # the verdict under MAR: positive
    table = result.table[result.table["effect"] == name].set_index("delta").sort_index()
    found = result.tipping_points[name]
    assert found["lower"] is not None and found["lower"] < 0
    lower = found["lower"]
    assert table.loc[lower, "verdict"] == 0 and table.loc[lower, "ci_low"] <= 0
    # Just inside (toward 0) the verdict holds; the two are one refinement step apart.
    inside = table[(table.index > lower) & (table.index <= 0)]
    closest = inside.index.min()
    assert closest - lower <= 0.5 / 2**6 + 1e-12
    assert table.loc[closest, "verdict"] == 1
    assert table.loc[lower, "ci_low"] <= 0 < table.loc[closest, "ci_low"]
    assert "lower than those observed would predict" in result.verdict_text(name)
    assert f"{abs(lower):.2g} SD" in result.summary()


def test_a_dose_can_only_shift_both_arms():
    data = shifted_arm_data(13, 100, a=0.5)
    data["arm"] = data["arm"] + np.linspace(0, 1, 100)
    with pytest.raises(DataError, match="needs a binary arm"):
        tipping_point(data, x="arm", m="trust", y="adoption", n_imputations=2, deltas=[1])
    result = tipping_point(data, x="arm", m="trust", y="adoption", shift="both", n_imputations=2, deltas=[1])
    assert result.n_shifted == int(data["adoption"].isna().sum())
    assert "the missing outcomes of every recipient" in result.verdict_text()


# ----------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------


def test_bad_input_is_a_data_error_naming_the_column():
    _, data = mar_data(14, 80)
    arguments = {"x": "arm", "m": "trust", "y": "adoption"}
    with pytest.raises(DataError, match="n_imputations must be a whole number of at least 2"):
        mediate_imputed(data, n_imputations=1, **arguments)
    empty = data.assign(baseline=np.nan)
    with pytest.raises(DataError, match="auxiliary variable column 'baseline' has no observed value"):
        mediate_imputed(empty, auxiliary="baseline", **arguments)
    text = data.assign(role=np.where(np.arange(80) % 2 == 0, "nurse", "physician"))
    text.loc[:3, "role"] = None
    with pytest.raises(DataError, match="covariate column 'role' is text") as error:
        mediate_imputed(text, covariates="role", **arguments)
    assert "0/1 indicator" in str(error.value)
    with pytest.raises(DataError, match=r"'trsut' is not in the data.*did you mean 'trust'"):
        mediate_imputed(data, x="arm", m="trsut", y="adoption")
    with pytest.raises(DataError, match="retention column 'trust' has"):
        mediate_weighted(data, retention=["arm", "trust"], **arguments)
    with pytest.raises(DataError, match="'baselin' is not in the data"):
        mediate_weighted(data, retention=["baselin"], **arguments)
    with pytest.raises(DataError, match="trim must be"):
        mediate_weighted(data, retention="baseline", trim=5, **arguments)
    with pytest.raises(DataError, match="shift must be one of"):
        tipping_point(data, shift="treatment", **arguments)
