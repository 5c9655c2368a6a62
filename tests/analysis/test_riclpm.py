"""RI-CLPM and half-longitudinal mediation against independent references.

References, each named where it is used:
* known truth: data simulated here from RI-CLPM parameters (a generator written in this file), and data
  whose sample covariance equals the population covariance of the model computed here by the recursion
  Var(w_t) = B Var(w_{t-1}) B' + Ψ, Cov(w_t, w_s) = B^{t-s} Var(w_s), Σ_ts = Φ + Cov(w_t, w_s);
* semopy (an independent SEM implementation, test-only dependency) fitting the same model from lavaan-style
  syntax, by ML with the same normal likelihood (sample covariance with divisor n, expected information);
* statsmodels OLS for the CLPM special case and the half-longitudinal regressions, linearmodels' SUR
  (method="ols") for the cross-equation covariance of a and b, and moclab's `cross_lagged` per lag pair.
"""

from __future__ import annotations

import json
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import semopy
import statsmodels.api as sm
from linearmodels.system import SUR

from moclab.analysis import cross_lagged, half_longitudinal, riclpm
from moclab.analysis.bootstrap import bootstrap_indices
from moclab.errors import DataError

matplotlib.use("Agg")

NAMES = ("x", "m", "y")

# Population parameters of a three-variable RI-CLPM (rows of LAG: target x, m, y; columns: source).
PHI = np.array([[1.0, 0.3, 0.2], [0.3, 0.6, 0.3], [0.2, 0.3, 0.7]])
LAG = np.array([[0.4, 0.1, 0.0], [0.3, 0.35, 0.0], [0.05, 0.25, 0.45]])
PSI_1 = np.array([[1.0, 0.2, 0.1], [0.2, 1.0, 0.2], [0.1, 0.2, 1.0]])
PSI = np.array([[0.8, 0.15, 0.05], [0.15, 0.7, 0.1], [0.05, 0.1, 0.9]])
MEANS = np.array([2.0, 3.0, 1.0])


def simulate_riclpm(seed: int, n: int, waves: int, phi=PHI, lag=LAG, psi_1=PSI_1, psi=PSI) -> pd.DataFrame:
    """Long data from the RI-CLPM: stable person means plus within-person deviations following a VAR(1)."""
    rng = np.random.default_rng(seed)
    k = len(phi)
    person = rng.multivariate_normal(np.zeros(k), phi, size=n)
    deviation = rng.multivariate_normal(np.zeros(k), psi_1, size=n)
    frames = []
    for t in range(waves):
        if t:
            deviation = deviation @ lag.T + rng.multivariate_normal(np.zeros(k), psi, size=n)
        score = MEANS[:k] + person + deviation
        frames.append(
            pd.DataFrame({"id": np.arange(n), "wave": t + 1, **{NAMES[i]: score[:, i] for i in range(k)}})
        )
    return pd.concat(frames, ignore_index=True)


def population_covariance(phi, lags, psi_1, psis) -> np.ndarray:
    """Covariance of (z_1, ..., z_T), wave-major, by the recursion of the module docstring of this test.

    `lags[t - 1]` maps wave t - 1 to wave t and `psis[t - 1]` is the innovation covariance at wave t."""
    k, waves = len(phi), len(lags) + 1
    within = [psi_1]
    for lag, psi in zip(lags, psis, strict=True):
        within.append(lag @ within[-1] @ lag.T + psi)
    sigma = np.zeros((k * waves, k * waves))
    for t in range(waves):
        for s in range(t + 1):
            carried = np.eye(k)
            for step in range(s + 1, t + 1):
                carried = lags[step - 1] @ carried
            block = phi + carried @ within[s]
            sigma[t * k : (t + 1) * k, s * k : (s + 1) * k] = block
            sigma[s * k : (s + 1) * k, t * k : (t + 1) * k] = block.T
    return sigma


def exact_sample(covariance: np.ndarray, n: int, seed: int, k: int = 3) -> pd.DataFrame:
    """Long data whose sample covariance (divisor n) equals `covariance` exactly: ML estimates from them are
    the population parameters (complete-data ML depends on the data only through the means and S)."""
    rng = np.random.default_rng(seed)
    d = covariance.shape[0]
    z = rng.normal(size=(n, d))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T
    values = z @ np.linalg.cholesky(covariance).T
    waves = d // k
    frames = [
        pd.DataFrame(
            {
                "id": np.arange(n),
                "wave": t + 1,
                **{NAMES[i]: values[:, t * k + i] + MEANS[i] for i in range(k)},
            }
        )
        for t in range(waves)
    ]
    return pd.concat(frames, ignore_index=True)


def lagged_table(result) -> pd.DataFrame:
    table = result.parameters
    return table.loc[table.block == "lagged"].set_index(["lhs", "rhs", "waves"])


# --------------------------------------------------------------------------------------------------------
# Closed forms: exact recovery and the implied covariance
# --------------------------------------------------------------------------------------------------------


def test_exact_moments_give_the_population_parameters_and_covariance():
    waves = 4
    sigma = population_covariance(PHI, [LAG] * (waves - 1), PSI_1, [PSI] * (waves - 1))
    data = exact_sample(sigma, 800, seed=1)
    result = riclpm(data, "x", "m", "y", unit="id", wave="wave")
    # The implied covariance at the estimates is the recursion's covariance, and the fit is perfect.
    np.testing.assert_allclose(result.implied.to_numpy(), sigma, atol=1e-8)
    np.testing.assert_allclose(result.sample.to_numpy(), sigma, atol=1e-10)
    assert result.fit["chi2"] == pytest.approx(0.0, abs=1e-7)
    assert result.fit["cfi"] == pytest.approx(1.0) and result.fit["rmsea"] == pytest.approx(0.0)
    assert result.fit["df"] == 78 - (6 + 4 * 6 + 9)
    for (target, source), value in np.ndenumerate(LAG):
        estimate = lagged_table(result).loc[
            (f"w_{NAMES[target]}", f"w_{NAMES[source]}", "every lag"), "estimate"
        ]
        assert estimate == pytest.approx(value, abs=1e-6)
    np.testing.assert_allclose(result.between.to_numpy(), PHI, atol=1e-6)
    np.testing.assert_allclose(result.means.to_numpy(), np.tile(MEANS[:, None], (1, waves)), atol=1e-12)
    within_2 = result.parameters.loc[result.parameters.block == "within 2", "estimate"].to_numpy()
    np.testing.assert_allclose(within_2, PSI[np.triu_indices(3)], atol=1e-6)
    indirect = result.effect("indirect")
    assert indirect.estimate == pytest.approx(LAG[1, 0] * LAG[2, 1], abs=1e-6)
    assert indirect.ci_method == "delta"
    # Equal lags hold exactly: the test of equal against wave-specific lagged effects finds nothing.
    assert result.fit["equal_lags_test"]["chi2"] == pytest.approx(0.0, abs=1e-6)
    assert result.fit["equal_lags_test"]["df"] == 27 - 9
    assert not any("differ between waves" in w for w in result.warnings)


def test_wave_specific_lags_are_recovered_and_unequal_lags_are_flagged():
    lags = [LAG, LAG * 0.5, LAG + 0.1]
    psis = [PSI, PSI * 1.2, PSI]
    sigma = population_covariance(PHI, lags, PSI_1, psis)
    data = exact_sample(sigma, 1000, seed=2)
    free = riclpm(data, "x", "m", "y", unit="id", wave="wave", equal_lags=False)
    np.testing.assert_allclose(free.implied.to_numpy(), sigma, atol=1e-8)
    table = lagged_table(free)
    for lag_index, lag in enumerate(lags):
        label = f"{lag_index + 1}->{lag_index + 2}"
        for (target, source), value in np.ndenumerate(lag):
            estimate = table.loc[(f"w_{NAMES[target]}", f"w_{NAMES[source]}", label), "estimate"]
            assert estimate == pytest.approx(value, abs=1e-6)
    # One indirect effect per starting wave: X(1) -> M(2) -> Y(3) uses a from lag 1->2 and b from 2->3.
    assert free.effect("indirect[1->3]").estimate == pytest.approx(lags[0][1, 0] * lags[1][2, 1], abs=1e-6)
    assert free.effect("indirect[2->4]").estimate == pytest.approx(lags[1][1, 0] * lags[2][2, 1], abs=1e-6)
    assert free.effect("x_to_m[3->4]").estimate == pytest.approx(lags[2][1, 0], abs=1e-6)
    equal = riclpm(data, "x", "m", "y", unit="id", wave="wave")
    test = equal.fit["equal_lags_test"]
    # The chi-square difference is the difference of the two models' chi-squares (the free one is 0 here).
    assert test["chi2"] == pytest.approx(equal.fit["chi2"] - free.fit["chi2"], rel=1e-6)
    assert test["df"] == equal.fit["df"] - free.fit["df"] == 18
    assert test["p"] < 1e-10
    assert any("differ between waves" in w for w in equal.warnings)
    # Fit indices as lavaan defines them for ML with a normal likelihood (n, not n - 1): the baseline is the
    # independence model, whose chi-square is -n log|R| (R the sample correlation matrix).
    fit, n = equal.fit, 1000
    baseline = -n * np.linalg.slogdet(sigma / np.sqrt(np.outer(np.diag(sigma), np.diag(sigma))))[1]
    assert fit["chi2_baseline"] == pytest.approx(baseline, rel=1e-9) and fit["df_baseline"] == 66
    assert fit["cfi"] == pytest.approx(1 - (fit["chi2"] - fit["df"]) / (baseline - 66), rel=1e-9)
    assert fit["rmsea"] == pytest.approx(math.sqrt((fit["chi2"] - fit["df"]) / (fit["df"] * n)), rel=1e-9)
    assert fit["tli"] == pytest.approx(
        (baseline / 66 - fit["chi2"] / fit["df"]) / (baseline / 66 - 1), rel=1e-9
    )


def test_negative_random_intercept_variance_is_reported_as_a_heywood_case():
    # A population whose covariance is positive definite but whose "random-intercept variance" of m is
    # negative (waves of m less alike than the within-person process implies): the estimate is that value.
    phi = np.array([[0.5, 0.0], [0.0, -0.05]])
    lag, psi = LAG[:2, :2], PSI[:2, :2]
    sigma = population_covariance(phi, [lag] * 2, PSI_1[:2, :2], [psi] * 2)
    result = riclpm(exact_sample(sigma, 500, seed=3, k=2), "x", "m", unit="id", wave="wave")
    assert result.between.loc["RI_m", "RI_m"] == pytest.approx(-0.05, abs=1e-6)
    assert any("random-intercept variance of 'm' is estimated at -0.05" in w for w in result.warnings)
    assert not any("'x'" in w for w in result.warnings)


def test_simulated_panel_recovers_the_generating_parameters():
    # Large n: estimates within 4 standard errors of the truth, and those SEs small.
    data = simulate_riclpm(11, n=20_000, waves=4)
    result = riclpm(data, "x", "m", "y", unit="id", wave="wave")
    table = lagged_table(result)
    for (target, source), value in np.ndenumerate(LAG):
        row = table.loc[(f"w_{NAMES[target]}", f"w_{NAMES[source]}", "every lag")]
        assert abs(row.estimate - value) < 4 * row.se and row.se < 0.012
    between = result.parameters.loc[result.parameters.block == "between"]
    for (_, row), (i, j) in zip(
        between.iterrows(), [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)], strict=True
    ):
        assert abs(row.estimate - PHI[i, j]) < 4 * row.se
    indirect = result.effect("indirect")
    assert abs(indirect.estimate - LAG[1, 0] * LAG[2, 1]) < 4 * indirect.se
    assert result.fit["p"] > 0.01 and result.fit["rmsea"] < 0.01 and result.fit["cfi"] > 0.999
    assert result.effect("m_to_y").kind == "cross_lagged"
    assert result.effect("y_autoregressive").kind == "autoregressive"


def test_observed_clpm_is_biased_where_the_riclpm_is_not():
    # Stable person means correlated 0.6 and no within-person effect of x on m: the CLPM finds one.
    phi = np.array([[1.0, 0.6], [0.6, 1.0]])
    lag = np.array([[0.3, 0.0], [0.0, 0.3]])
    data = simulate_riclpm(5, n=3000, waves=4, phi=phi, lag=lag, psi_1=np.eye(2), psi=np.eye(2))
    ri = riclpm(data, "x", "m", unit="id", wave="wave")
    clpm = riclpm(data, "x", "m", unit="id", wave="wave", random_intercepts=False)
    assert abs(ri.effect("x_to_m").estimate) < 3 * ri.effect("x_to_m").se
    assert clpm.effect("x_to_m").estimate > 0.1 and clpm.effect("x_to_m").p < 1e-6
    assert clpm.between is None and ri.fit["chi2"] < clpm.fit["chi2"]


# --------------------------------------------------------------------------------------------------------
# semopy: the same model, another implementation
# --------------------------------------------------------------------------------------------------------


def semopy_syntax(names: tuple[str, ...], waves: int, equal_lags: bool) -> str:
    """RI-CLPM in semopy's lavaan-like syntax (Hamaker et al. 2015; Mulder & Hamaker 2021): random
    intercepts with loadings 1, one within factor per observed variable, measurement error fixed to 0,
    lagged effects (labelled alike when equal), free residual (co)variances per wave, and the random
    intercepts uncorrelated with the first wave's within factors."""
    lines = []
    for v in names:
        lines.append(f"RI{v} =~ " + " + ".join(f"1*{v}{t}" for t in range(1, waves + 1)))
        lines += [f"w{v}{t} =~ 1*{v}{t}" for t in range(1, waves + 1)]
        lines += [f"{v}{t} ~~ 0*{v}{t}" for t in range(1, waves + 1)]
        lines += [f"RI{v} ~~ 0*w{u}1" for u in names]
    for t in range(2, waves + 1):
        for target in names:
            terms = [f"b{target}{source}{'' if equal_lags else t}*w{source}{t - 1}" for source in names]
            lines.append(f"w{target}{t} ~ " + " + ".join(terms))
    for t in range(1, waves + 1):
        for i, a in enumerate(names):
            lines.append(f"w{a}{t} ~~ " + " + ".join(f"w{b}{t}" for b in names[i:]))
    for i, a in enumerate(names):
        lines.append(f"RI{a} ~~ " + " + ".join(f"RI{b}" for b in names[i:]))
    return "\n".join(lines)


def semopy_fit(data: pd.DataFrame, names: tuple[str, ...], waves: int, equal_lags: bool):
    wide = pd.DataFrame(
        {f"{v}{t}": data.loc[data.wave == t, v].to_numpy() for t in range(1, waves + 1) for v in names}
    )
    model = semopy.Model(semopy_syntax(names, waves, equal_lags))
    # semopy's default SLSQP, then L-BFGS-B from there with tight tolerances: SLSQP alone stops about 1e-3
    # short of the optimum, and L-BFGS-B from semopy's start values can stall far from it.
    model.fit(wide)
    model.fit(wide, solver="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20_000})
    return model


def semopy_key(row) -> tuple[str, str, str, str]:
    """Our parameter row as (lval, op, rval) in semopy's names, for the first wave it appears at."""
    lhs, rhs = row.lhs.split("_")[1], row.rhs.split("_")[1]
    if row.block == "between":
        return (f"RI{lhs}", "~~", f"RI{rhs}")
    if row.block == "lagged":
        wave = 2 if row.waves == "every lag" else int(row.waves.split("->")[1])
        return (f"w{lhs}{wave}", "~", f"w{rhs}{wave - 1}")
    return (f"w{lhs}{row.waves}", "~~", f"w{rhs}{row.waves}")


@pytest.mark.parametrize(("names", "waves", "equal_lags"), [(NAMES, 4, True), (NAMES[:2], 3, False)])
def test_every_parameter_matches_semopy(names, waves, equal_lags):
    k = len(names)
    data = simulate_riclpm(
        3, n=1500, waves=waves, phi=PHI[:k, :k], lag=LAG[:k, :k], psi_1=PSI_1[:k, :k], psi=PSI[:k, :k]
    )
    result = riclpm(data, *names, unit="id", wave="wave", equal_lags=equal_lags)
    model = semopy_fit(data, names, waves, equal_lags)
    estimates = model.inspect()
    reference = {}
    for row in estimates.itertuples(index=False):
        reference.setdefault((row.lval, row.op, row.rval), (row.Estimate, row._4))
        reference.setdefault((row.rval, row.op, row.lval), (row.Estimate, row._4))
    assert len(result.parameters) == sum(parameter.active for parameter in model.parameters.values())
    for row in result.parameters.itertuples(index=False):
        estimate, se = reference[semopy_key(row)]
        assert row.estimate == pytest.approx(estimate, abs=1e-4)
        assert row.se == pytest.approx(float(se), abs=1e-4)
    chi2, _ = semopy.stats.calc_chi2(model)
    assert result.fit["chi2"] == pytest.approx(chi2, abs=1e-3)
    assert result.fit["df"] == semopy.stats.calc_dof(model)


def test_indirect_delta_method_and_observed_information_match_semopy():
    data = simulate_riclpm(8, n=1200, waves=3)
    result = riclpm(data, "x", "m", "y", unit="id", wave="wave")
    model = semopy_fit(data, NAMES, 3, equal_lags=True)
    # Observed-information SEs: semopy differentiates its objective numerically (numdifftools).
    observed = riclpm(data, "x", "m", "y", unit="id", wave="wave", information="observed")
    reference = {}
    for row in model.inspect(information="observed").itertuples(index=False):
        reference.setdefault((row.lval, row.op, row.rval), row._4)
        reference.setdefault((row.rval, row.op, row.lval), row._4)
    for row in observed.parameters.itertuples(index=False):
        assert row.se == pytest.approx(float(reference[semopy_key(row)]), abs=1e-5)
    assert "observed information" in observed.info["method"]
    active = [name for name, parameter in model.parameters.items() if parameter.active]
    covariance = model.calc_fim(inverse=True)[1]  # inverse expected information (n/2 scaling)
    i, j = active.index("bmx"), active.index("bym")  # m ~ x (a) and y ~ m (b)
    a, b = model.param_vals[i], model.param_vals[j]
    se = math.sqrt(b * b * covariance[i, i] + a * a * covariance[j, j] + 2 * a * b * covariance[i, j])
    indirect = result.effect("indirect")
    assert indirect.estimate == pytest.approx(a * b, abs=1e-5)
    assert indirect.se == pytest.approx(se, rel=1e-3)
    assert indirect.ci_low == pytest.approx(a * b - 1.959964 * se, abs=1e-4)


# --------------------------------------------------------------------------------------------------------
# The CLPM special case: OLS per lag pair
# --------------------------------------------------------------------------------------------------------


def test_clpm_special_case_equals_lagged_ols_and_cross_lagged():
    # With the random intercepts fixed to 0 and free lags, the likelihood factorizes into one multivariate
    # regression of each wave on the previous one, so the ML estimates are OLS and the ML SEs are OLS's
    # times sqrt((n - p) / n).
    data = simulate_riclpm(
        4, n=700, waves=3, phi=PHI[:2, :2], lag=LAG[:2, :2], psi_1=PSI_1[:2, :2], psi=PSI[:2, :2]
    )
    result = riclpm(data, "x", "m", unit="id", wave="wave", random_intercepts=False, equal_lags=False)
    reference = cross_lagged(data, unit="id", wave="wave", m="x", y="m", pooled=False)
    n, p = 700, 3
    for first in (1, 2):
        before = data.loc[data.wave == first].set_index("id")
        after = data.loc[data.wave == first + 1].set_index("id")
        design = sm.add_constant(before[["x", "m"]])
        lag = f"{first}->{first + 1}"
        for target in ("x", "m"):
            ols = sm.OLS(after[target], design).fit()
            for source in ("x", "m"):
                name = f"{source}_autoregressive" if source == target else f"{source}_to_{target}"
                effect = result.effect(f"{name}[{lag}]")
                assert effect.estimate == pytest.approx(ols.params[source], abs=1e-7)
                assert effect.se == pytest.approx(ols.bse[source] * math.sqrt((n - p) / n), rel=1e-5)
            residual = result.parameters.query(
                f"block == 'within {first + 1}' and lhs == rhs and lhs == 'w_{target}'"
            )
            assert float(residual.estimate.iloc[0]) == pytest.approx(ols.ssr / n, rel=1e-6)
        # moclab's observed-variable CLPM (its m is our x, its y our m) gives the same lagged effects.
        assert result.effect(f"x_to_m[{lag}]").estimate == pytest.approx(
            reference.effect(f"m_to_y[{lag}]").estimate, abs=1e-7
        )
        assert result.effect(f"m_to_x[{lag}]").estimate == pytest.approx(
            reference.effect(f"y_to_m[{lag}]").estimate, abs=1e-7
        )
    assert "CLPM" in result.info["method"] and result.between_correlation is None


# --------------------------------------------------------------------------------------------------------
# Bootstrap, missing values, result interfaces
# --------------------------------------------------------------------------------------------------------


def test_bootstrap_interval_of_the_indirect_effect_and_listwise_deletion():
    data = simulate_riclpm(21, n=600, waves=3)
    drop = data.index[(data.wave == 2) & (data.id < 12)]
    data.loc[drop[:7], "m"] = np.nan
    data = data.drop(index=drop[7:])  # five persons miss wave 2 entirely
    result = riclpm(data, "x", "m", "y", unit="id", wave="wave", n_boot=150, seed=4)
    assert result.n == 588
    assert any(w.startswith("12 of 600 id(s) missed a variable") for w in result.warnings)
    indirect = result.effect("indirect")
    assert indirect.ci_method == "percentile"
    assert indirect.ci_low < indirect.estimate < indirect.ci_high
    # The bootstrap SE (persons resampled, model refitted) agrees with the delta method's.
    assert indirect.se == pytest.approx(indirect.extra["delta_se"], rel=0.25)
    assert result.effect("x_to_m").extra["wald_se"] == pytest.approx(result.effect("x_to_m").se, rel=0.25)
    again = riclpm(data, "x", "m", "y", unit="id", wave="wave", n_boot=150, seed=4)
    assert again.effect("indirect").ci_low == indirect.ci_low  # the seed reproduces the interval


def test_result_renders_and_serializes():
    data = simulate_riclpm(2, n=400, waves=3)
    result = riclpm(data, "x", "m", "y", unit="id", wave="wave")
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["type"] == "RICLPMResult" and payload["fit"]["df"] == result.fit["df"]
    assert len(payload["parameters"]) == len(result.parameters)
    text = result.summary()
    assert "chi2(" in text and "equal lagged effects over waves" in text and "random intercepts" in text
    assert repr(result).startswith("RICLPMResult(indirect = ")
    assert "<table" in result._repr_html_()
    frame = result.to_frame()
    assert set(frame.kind) == {"cross_lagged", "autoregressive", "indirect"} and len(frame) == 10
    correlation = result.between_correlation.to_numpy()
    assert np.allclose(np.diag(correlation), 1.0)
    x_to_m = result.effect("x_to_m").estimate
    assert f'"x (t)" -> "m (t+1)" [label="x_to_m = {x_to_m:.2g}***"]' in result.to_dot()
    ax = result.plot()
    assert {"x (t)", "m (t+1)", "y (t+1)"} <= {text.get_text() for text in ax.texts}
    plt.close(ax.figure)


# --------------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------------


def test_riclpm_refuses_bad_input():
    data = simulate_riclpm(6, n=200, waves=3)
    with pytest.raises(DataError, match="needs at least 3"):
        riclpm(data.loc[data.wave < 3], "x", "m", unit="id", wave="wave")
    with pytest.raises(DataError, match="needs at least 3"):
        riclpm(data, "x", "m", unit="id", wave="wave", waves=[1, 3])
    constant = data.copy()
    constant.loc[constant.wave == 2, "m"] = 4.0
    with pytest.raises(DataError, match=r"mediator m 'm' is constant at wave 2"):
        riclpm(constant, "x", "m", unit="id", wave="wave")
    duplicated = pd.concat([data, data.iloc[[0]]])
    with pytest.raises(DataError, match=r"share a \(id, wave\) pair"):
        riclpm(duplicated, "x", "m", unit="id", wave="wave")
    with pytest.raises(DataError, match="did not converge after 1 iterations"):
        riclpm(data, "x", "m", "y", unit="id", wave="wave", max_iter=1)
    with pytest.raises(DataError, match="wave 7 is not a value"):
        riclpm(data, "x", "m", unit="id", wave="wave", waves=[1, 2, 7])
    with pytest.raises(DataError, match="only 5 complete id"):
        riclpm(data.loc[data.id < 5], "x", "m", unit="id", wave="wave")
    copy = data.assign(x2=lambda frame: 2 * frame.x + 1)
    with pytest.raises(DataError, match="singular"):
        riclpm(copy, "x", "x2", unit="id", wave="wave")
    with pytest.raises(DataError, match="outcome y column 'adoption' is not in the data"):
        riclpm(data, "x", "m", "adoption", unit="id", wave="wave")
    with pytest.raises(DataError, match="information must be one of 'expected', 'observed'"):
        riclpm(data, "x", "m", unit="id", wave="wave", information="robust")
    with pytest.raises(DataError, match="n_boot"):
        riclpm(data, "x", "m", unit="id", wave="wave", n_boot=10)


# --------------------------------------------------------------------------------------------------------
# Half-longitudinal design
# --------------------------------------------------------------------------------------------------------


def two_waves(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, m1, y1 = rng.multivariate_normal([0, 0, 0], [[1, 0.3, 0.2], [0.3, 1, 0.3], [0.2, 0.3, 1]], size=n).T
    site = rng.choice(["north", "south", "east"], size=n)
    age = rng.normal(40, 10, n)
    m2 = 0.5 * x1 + 0.4 * m1 + 0.01 * age + rng.normal(size=n)
    y2 = (
        0.35 * m1 + 0.5 * y1 + 0.1 * x1 + 0.3 * (site == "south") + 0.5 * (m2 - 0.5 * x1) + rng.normal(size=n)
    )
    x2 = x1 + rng.normal(size=n)
    return pd.DataFrame(
        {
            "id": np.tile(np.arange(n), 2),
            "wave": np.repeat(["t1", "t2"], n),
            "minutes": np.r_[x1, x2],
            "trust": np.r_[m1, m2],
            "adoption": np.r_[y1, y2],
            "age": np.r_[age, age + 1],
            "site": np.r_[site, site],
        }
    )


def wide_first_second(frame: pd.DataFrame) -> pd.DataFrame:
    first = frame.loc[frame.wave == "t1"].set_index("id")
    second = frame.loc[frame.wave == "t2"].set_index("id")
    return pd.DataFrame(
        {
            "x1": first.minutes,
            "m1": first.trust,
            "y1": first.adoption,
            "m2": second.trust,
            "y2": second.adoption,
            "age": first.age,
        }
    ).assign(const=1.0)


@pytest.mark.parametrize("direct", [True, False])
def test_half_longitudinal_equals_statsmodels_ols_and_sur_covariance(direct):
    frame = two_waves(1, 500)
    result = half_longitudinal(
        frame,
        "minutes",
        "trust",
        "adoption",
        unit="id",
        wave="wave",
        waves=("t1", "t2"),
        covariates=["age", "site"],
        direct=direct,
        n_boot=0,
    )
    wide = wide_first_second(frame)
    site = pd.get_dummies(frame.loc[frame.wave == "t1", "site"].to_numpy(), dtype=float, drop_first=True)
    site.index = wide.index
    m_design = pd.concat([wide[["const", "x1", "m1", "age"]], site], axis=1)
    y_columns = ["const", "m1", "y1", *(["x1"] if direct else []), "age"]
    y_design = pd.concat([wide[y_columns], site], axis=1)
    m_fit = sm.OLS(wide.m2, m_design).fit()
    y_fit = sm.OLS(wide.y2, y_design).fit()
    for name, fit, term in [
        ("a", m_fit, "x1"),
        ("m_autoregressive", m_fit, "m1"),
        ("b", y_fit, "m1"),
        ("y_autoregressive", y_fit, "y1"),
    ]:
        effect = result.effect(name)
        assert effect.estimate == pytest.approx(fit.params[term], rel=1e-10)
        assert effect.se == pytest.approx(fit.bse[term], rel=1e-10)
        assert effect.p == pytest.approx(fit.pvalues[term], rel=1e-7)
        assert effect.ci_low == pytest.approx(fit.conf_int().loc[term, 0], rel=1e-10)
    if direct:
        assert result.effect("direct").estimate == pytest.approx(y_fit.params["x1"], rel=1e-10)
    else:
        assert "direct" not in result.to_frame().index
    coefficients = result.coefficients
    assert coefficients.loc[("trust (t2)", "site[south]"), "estimate"] == pytest.approx(m_fit.params["south"])
    # Delta method with the cross-equation covariance of a and b: linearmodels' SUR estimated by OLS
    # (debiased: residual covariance over sqrt((n - p_M)(n - p_Y))).
    sur = SUR(
        {"m": {"dependent": wide.m2, "exog": m_design}, "y": {"dependent": wide.y2, "exog": y_design}}
    ).fit(method="ols", cov_type="unadjusted", debiased=True)
    a, b = sur.params["m_x1"], sur.params["y_m1"]
    cov = sur.cov
    se = math.sqrt(
        b * b * cov.loc["m_x1", "m_x1"]
        + a * a * cov.loc["y_m1", "y_m1"]
        + 2 * a * b * cov.loc["m_x1", "y_m1"]
    )
    indirect = result.effect("indirect")
    assert indirect.estimate == pytest.approx(a * b, rel=1e-10)
    assert indirect.se == pytest.approx(se, rel=1e-9)
    assert indirect.ci_method == "delta"
    assert indirect.ci_high == pytest.approx(a * b + 1.959963985 * se, rel=1e-8)


def test_half_longitudinal_bootstrap_equals_resampling_by_hand():
    frame = two_waves(2, 300)
    result = half_longitudinal(
        frame, "minutes", "trust", "adoption", unit="id", wave="wave", waves=("t1", "t2"), n_boot=400, seed=9
    )
    wide = wide_first_second(frame)
    products = []
    # bootstrap_regressions draws its resamples as bootstrap_indices does (documented), so the same seed
    # gives the same persons; each resample refitted here by least squares.
    for rows in bootstrap_indices(len(wide), 400, seed=9):
        sample = wide.iloc[rows]
        a = np.linalg.lstsq(sample[["const", "x1", "m1"]].to_numpy(), sample.m2.to_numpy(), rcond=None)[0][1]
        b = np.linalg.lstsq(sample[["const", "m1", "y1", "x1"]].to_numpy(), sample.y2.to_numpy(), rcond=None)[
            0
        ][1]
        products.append(a * b)
    indirect = result.effect("indirect")
    assert indirect.ci_method == "percentile"
    assert indirect.ci_low == pytest.approx(np.quantile(products, 0.025), rel=1e-8)
    assert indirect.ci_high == pytest.approx(np.quantile(products, 0.975), rel=1e-8)
    assert indirect.se == pytest.approx(np.std(products, ddof=1), rel=1e-8)
    assert indirect.extra["delta_se"] > 0 and indirect.extra["delta_ci_low"] < indirect.estimate
    assert any("stationarity" in w for w in result.warnings)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["waves"] == ["t1", "t2"] and payload["direct"] is True
    assert "Half-longitudinal" in result.summary() and "<table" in result._repr_html_()
    a = result.effect("a").estimate
    assert f'"minutes (t1)" -> "trust (t2)" [label="a = {a:.2g}***"]' in result.to_dot()
    ax = result.plot()
    assert "adoption (t2)" in {text.get_text() for text in ax.texts}
    plt.close(ax.figure)


def test_half_longitudinal_refuses_bad_input():
    frame = two_waves(3, 100)
    args = ("minutes", "trust", "adoption")
    with pytest.raises(DataError, match="two waves"):
        half_longitudinal(frame, *args, unit="id", wave="wave", waves=("t1", "t2", "t3"))
    with pytest.raises(DataError, match="two waves"):
        half_longitudinal(frame, *args, unit="id", wave="wave", waves=1)
    with pytest.raises(DataError, match="twice"):
        half_longitudinal(frame, *args, unit="id", wave="wave", waves=("t1", "t1"))
    with pytest.raises(DataError, match="'t3' is not a value"):
        half_longitudinal(frame, *args, unit="id", wave="wave", waves=("t1", "t3"))
    constant = frame.assign(minutes=np.where(frame.wave == "t1", 2.0, frame.minutes))
    with pytest.raises(DataError, match="strategy x 'minutes' is constant at wave 't1'"):
        half_longitudinal(constant, *args, unit="id", wave="wave", waves=("t1", "t2"))
    with pytest.raises(DataError, match=r"share a \(id, wave\) pair"):
        half_longitudinal(
            pd.concat([frame, frame.tail(1)]), *args, unit="id", wave="wave", waves=("t1", "t2")
        )
    missing = frame.copy()
    missing.loc[(missing.wave == "t2") & (missing.id < 3), "adoption"] = np.nan
    result = half_longitudinal(missing, *args, unit="id", wave="wave", waves=("t1", "t2"), n_boot=0)
    assert result.n == 97 and any(w.startswith("3 of 100 id(s)") for w in result.warnings)
