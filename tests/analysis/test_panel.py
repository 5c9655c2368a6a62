"""Cross-lagged panel model against statsmodels (OLS, multivariate OLS, cluster-robust) and known truth."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.multivariate.multivariate_ols import MultivariateLS

from moclab.analysis import cross_lagged
from moclab.errors import DataError

matplotlib.use("Agg")


def simulate_panel(
    seed: int,
    n: int = 600,
    waves: int = 3,
    m_to_y: float = 0.3,
    y_to_m: float = 0.0,
    trait_sd: float = 0.0,
    sites: int = 0,
) -> pd.DataFrame:
    """Within-person CLPM dynamics around stable person means (random intercepts with SD `trait_sd`,
    correlated 0.6 between M and Y), the RI-CLPM of Hamaker et al. (2015); trait_sd = 0 is the plain CLPM."""
    rng = np.random.default_rng(seed)
    traits = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=n) * trait_sd
    m_dev, y_dev = rng.normal(size=n), rng.normal(size=n)
    rows = []
    site = rng.integers(0, sites, n) if sites else np.zeros(n, dtype=int)
    site_shift = rng.normal(0, 0.5, max(sites, 1))[site]
    age = rng.normal(40, 10, n)
    for t in range(waves):
        if t:
            shock = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
            m_dev, y_dev = (
                0.5 * m_dev + y_to_m * y_dev + shock[:, 0],
                0.4 * y_dev + m_to_y * m_dev + 0.02 * (age - 40) + shock[:, 1],
            )
        rows.append(
            pd.DataFrame(
                {
                    "recipient": np.arange(n),
                    "wave": t + 1,
                    "trust": traits[:, 0] + m_dev + site_shift,
                    "adoption": 2.0 + traits[:, 1] + y_dev,
                    "age": age,
                    "site": site,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def wide_pairs(frame: pd.DataFrame, first: int, second: int) -> pd.DataFrame:
    a = frame.loc[frame.wave == first].set_index("recipient")
    b = frame.loc[frame.wave == second].set_index("recipient")
    return pd.DataFrame(
        {
            "m0": a.trust,
            "y0": a.adoption,
            "age": a.age,
            "site": a.site,
            "m1": b.trust,
            "y1": b.adoption,
            "lag": f"{first}->{second}",
        }
    ).dropna()


def test_single_lag_equals_ols_and_multivariate_ols():
    frame = simulate_panel(1, n=300, waves=2)
    result = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption", covariates=["age"])
    pairs = wide_pairs(frame, 1, 2)
    design = sm.add_constant(pairs[["m0", "y0", "age"]])
    m_fit = sm.OLS(pairs.m1, design).fit()
    y_fit = sm.OLS(pairs.y1, design).fit()
    assert result.effect("m_to_y").estimate == pytest.approx(y_fit.params["m0"], rel=1e-10)
    assert result.effect("m_to_y").se == pytest.approx(y_fit.bse["m0"], rel=1e-10)
    assert result.effect("y_to_m").estimate == pytest.approx(m_fit.params["y0"], rel=1e-10)
    assert result.effect("y_to_m").p == pytest.approx(m_fit.pvalues["y0"], rel=1e-8)
    assert result.effect("m_autoregressive").estimate == pytest.approx(m_fit.params["m0"], rel=1e-10)
    assert result.effect("y_autoregressive").ci_low == pytest.approx(y_fit.conf_int().loc["y0", 0], rel=1e-10)
    coefficients = result.coefficients
    assert coefficients.loc[("adoption (t+1)", "age"), "estimate"] == pytest.approx(y_fit.params["age"])
    # Joint covariance across the two equations: statsmodels' multivariate OLS (same design for both).
    mv = MultivariateLS(pairs[["m1", "y1"]].to_numpy(), design.to_numpy()).fit()
    contrast = np.zeros(8)  # statsmodels orders the coefficients equation by equation
    contrast[4 + 1] = 1.0  # m0 in the y1 equation
    contrast[2] = -1.0  # y0 in the m1 equation
    test = mv.t_test(contrast)
    difference = result.effect("difference")
    assert difference.estimate == pytest.approx(float(test.effect[0]), rel=1e-10)
    assert difference.se == pytest.approx(float(test.sd[0, 0]), rel=1e-8)
    assert difference.p == pytest.approx(float(test.pvalue), rel=1e-6)
    assert difference.ci_method == "t" and result.n_clusters is None


def test_pooled_lags_equal_stacked_ols_with_person_clustered_errors():
    frame = simulate_panel(2, n=250, waves=3)
    result = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption", covariates=["age"])
    stacked = pd.concat(
        [wide_pairs(frame, 1, 2).reset_index(), wide_pairs(frame, 2, 3).reset_index()], ignore_index=True
    )
    design = pd.get_dummies(stacked.lag, dtype=float).join(stacked[["m0", "y0", "age"]])
    groups = stacked.recipient.to_numpy()
    fits = {
        response: sm.OLS(stacked[response], design).fit(cov_type="cluster", cov_kwds={"groups": groups})
        for response in ("m1", "y1")
    }
    assert result.effect("m_to_y").estimate == pytest.approx(fits["y1"].params["m0"], rel=1e-10)
    assert result.effect("m_to_y").se == pytest.approx(fits["y1"].bse["m0"], rel=1e-9)
    assert result.effect("y_to_m").se == pytest.approx(fits["m1"].bse["y0"], rel=1e-9)
    assert result.effect("m_to_y").extra["df"] == 249  # G - 1 persons
    assert result.n == 500 and result.n_units == 250 and result.n_clusters == 250
    # Cross-equation covariance: one long regression of both equations with equation-specific coefficients,
    # clustered by person; statsmodels' CR1 factor uses N = 2n rows and K = 2p coefficients.
    n, p = len(stacked), design.shape[1]
    long_design = np.block([[design.to_numpy(), np.zeros((n, p))], [np.zeros((n, p)), design.to_numpy()]])
    long = sm.OLS(np.r_[stacked.m1, stacked.y1], long_design).fit(
        cov_type="cluster", cov_kwds={"groups": np.r_[groups, groups]}
    )
    factor = ((n - 1) / (n - p)) / ((2 * n - 1) / (2 * n - 2 * p))
    contrast = np.zeros(2 * p)
    contrast[p + 2] = 1.0  # m0 in the y1 equation
    contrast[3] = -1.0  # y0 in the m1 equation
    reference_se = np.sqrt(contrast @ long.cov_params() @ contrast * factor)
    assert result.effect("difference").se == pytest.approx(reference_se, rel=1e-9)


def test_site_clustered_errors_match_statsmodels():
    frame = simulate_panel(3, n=400, waves=2, sites=25)
    result = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption", cluster="site")
    pairs = wide_pairs(frame, 1, 2)
    fit = sm.OLS(pairs.y1, sm.add_constant(pairs[["m0", "y0"]])).fit(
        cov_type="cluster", cov_kwds={"groups": pairs.site.to_numpy()}
    )
    assert result.effect("m_to_y").se == pytest.approx(fit.bse["m0"], rel=1e-9)
    assert result.n_clusters == 25 and result.effect("m_to_y").ci_method == "cluster_t"


def test_known_truth_is_recovered_and_the_direction_is_detected():
    frame = simulate_panel(4, n=3000, waves=3, m_to_y=0.3, y_to_m=0.0)
    result = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption", covariates=["age"])
    for name, truth in (
        ("m_to_y", 0.3),
        ("y_to_m", 0.0),
        ("m_autoregressive", 0.5),
        ("y_autoregressive", 0.4),
    ):
        effect = result.effect(name)
        assert abs(effect.estimate - truth) < 4 * effect.se, name
    assert result.effect("difference").p < 1e-6
    # Standardized effects are the raw ones times SD(predictor) / SD(response) over the analysed rows.
    sd = result.sd
    expected = result.effect("m_to_y").estimate * sd["trust (t)"] / sd["adoption (t+1)"]
    assert result.effect("m_to_y_std").estimate == pytest.approx(expected, rel=1e-12)


def test_wald_interval_of_the_difference_covers_at_the_nominal_rate():
    covered = 0
    replications = 200
    for seed in range(replications):
        frame = simulate_panel(100 + seed, n=150, waves=2, m_to_y=0.2, y_to_m=0.1)
        effect = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption").effect(
            "difference"
        )
        covered += effect.ci_low <= 0.1 <= effect.ci_high
    assert 0.91 <= covered / replications <= 0.985


def test_stable_person_differences_make_the_observed_clpm_spurious():
    """Hamaker, Kuiper & Grasman (2015): with correlated stable traits and no within-person cross effects,
    the observed CLPM reports 'significant' cross-lagged effects in both directions; centring on person
    means removes that positive bias (and adds Nickell's negative one, which the warning names)."""
    frame = simulate_panel(5, n=2000, waves=6, m_to_y=0.0, y_to_m=0.0, trait_sd=2.0)
    observed = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption")
    within = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption", within=True)
    assert observed.effect("m_to_y").ci_low > 0 and observed.effect("y_to_m").ci_low > 0  # spurious
    assert within.effect("m_to_y").ci_low < 0 and within.effect("y_to_m").ci_low < 0
    assert any("Hamaker" in w for w in observed.warnings)
    assert any("Nickell" in w for w in within.warnings) and within.within


def test_separate_lags_equal_two_single_lag_fits():
    frame = simulate_panel(6, n=300, waves=3)
    per_lag = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption", pooled=False)
    first = cross_lagged(frame.loc[frame.wave < 3], unit="recipient", wave="wave", m="trust", y="adoption")
    assert per_lag.lags == ("1->2", "2->3") and not per_lag.pooled
    assert per_lag.effect("m_to_y[1->2]").estimate == pytest.approx(first.effect("m_to_y").estimate)
    assert per_lag.effect("difference[1->2]").se == pytest.approx(first.effect("difference").se)
    assert "y_to_m[2->3]" in per_lag.to_frame().index
    assert per_lag.plot() is not None and per_lag.to_dot().count("->") == 8


def test_bootstrap_intervals_agree_with_wald_and_are_seeded():
    frame = simulate_panel(7, n=500, waves=3)
    kwargs = {"unit": "recipient", "wave": "wave", "m": "trust", "y": "adoption", "n_boot": 1000, "seed": 3}
    result = cross_lagged(frame, **kwargs)
    again = cross_lagged(frame, **kwargs)
    effect = result.effect("difference_std")
    assert effect.ci_method == "percentile"
    assert (effect.ci_low, effect.ci_high) == (
        again.effect("difference_std").ci_low,
        again.effect("difference_std").ci_high,
    )
    wald = result.effect("m_to_y")
    assert wald.se == pytest.approx(wald.extra["wald_se"], rel=0.15)
    assert wald.ci_low == pytest.approx(wald.extra["wald_ci_low"], abs=0.3 * wald.extra["wald_se"])


def test_renderings():
    frame = simulate_panel(8, n=200, waves=2)
    result = cross_lagged(frame, unit="recipient", wave="wave", m="trust", y="adoption")
    as_dict = json.loads(json.dumps(result.to_dict()))
    assert as_dict["type"] == "CrossLaggedResult" and as_dict["waves"] == ["1", "2"]
    assert len(as_dict["coefficients"]) == 6
    frame_out = result.to_frame()
    assert (
        frame_out.loc["m_to_y", "kind"] == "cross_lagged"
        and frame_out.loc["difference", "kind"] == "contrast"
    )
    assert "person-occasions" in result.summary() and "<table" in result._repr_html_()
    dot = result.to_dot()
    assert '"trust (t)" -> "adoption (t+1)" [label="γ_MY = ' in dot
    labels = [t.get_text() for t in result.plot().texts]
    assert "adoption (t+1)" in labels


def test_bad_input_is_explained():
    frame = simulate_panel(9, n=50, waves=2, sites=5)
    base = {"unit": "recipient", "wave": "wave", "m": "trust", "y": "adoption"}
    with pytest.raises(
        DataError, match=r"the mechanism column 'trsut' is not in the data.*did you mean 'trust'"
    ):
        cross_lagged(frame, **{**base, "m": "trsut"})
    with pytest.raises(DataError, match="share a"):
        cross_lagged(pd.concat([frame, frame.head(1)]), **base)
    with pytest.raises(DataError, match="at least two waves"):
        cross_lagged(frame.loc[frame.wave == 1], **base)
    with pytest.raises(DataError, match="the mechanism 'trust' is not numeric"):
        cross_lagged(frame.assign(trust=frame.trust.astype(str)), **base)
    moved = frame.copy()
    moved.loc[(moved.recipient == 0) & (moved.wave == 2), "site"] = 99
    with pytest.raises(DataError, match="more than one 'site'"):
        cross_lagged(moved, **base, cluster="site")
    with pytest.raises(DataError, match="no recipient has complete"):
        cross_lagged(frame.assign(trust=np.where(frame.wave == 2, np.nan, frame.trust)), **base)
    with pytest.raises(
        DataError, match=r"column 'trust' is used in more than one role \(mechanism and outcome\)"
    ):
        cross_lagged(frame, **{**base, "y": "trust"})
    with pytest.raises(
        DataError,
        match=r"n_boot \(bootstrap resamples\) must be 0 \(none\) or a whole number of at least 200, not 50",
    ):
        cross_lagged(frame, **base, n_boot=50)
    holes = frame.copy()
    holes.loc[holes.index[:5], "adoption"] = np.nan
    assert any("missing value" in w for w in cross_lagged(holes, **base).warnings)
