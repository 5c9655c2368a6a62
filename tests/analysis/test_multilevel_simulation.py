"""Multilevel mediation on simulated data with known truth: unbiasedness and the within/between split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from moclab.analysis.multilevel import multilevel_mediate

# Bauer, Preacher & Gil's (2006) population values (their supplement's simulated example), without random c'.
RANDOM_EFFECTS = np.array(
    [
        [0.60, 0.0, 0.0, 0.0],  # mediator intercept
        [0.0, 0.40, 0.0, 0.0],  # outcome intercept
        [0.0, 0.0, 0.16, 0.113],  # a_j
        [0.0, 0.0, 0.113, 0.16],  # b_j
    ]
)
A, B, C_PRIME = 0.6, 0.6, 0.2
TRUTH = {"a": A, "b": B, "direct": C_PRIME, "cov_ab": 0.113, "indirect": A * B + 0.113}


def simulate_bpg(rng: np.random.Generator, clusters: int, size: int) -> pd.DataFrame:
    """1-1-1 data with random a and b slopes (σ_ab = .113) and residual variances .65 (m) and .45 (y)."""
    team = np.repeat(np.arange(clusters), size)
    u = rng.multivariate_normal(np.zeros(4), RANDOM_EFFECTS, clusters)[team]
    x = rng.normal(size=team.size)
    m = u[:, 0] + (A + u[:, 2]) * x + rng.normal(0, np.sqrt(0.65), team.size)
    y = u[:, 1] + (B + u[:, 3]) * m + C_PRIME * x + rng.normal(0, np.sqrt(0.45), team.size)
    return pd.DataFrame({"team": team, "x": x, "m": m, "y": y})


@pytest.mark.slow
def test_average_indirect_effect_is_unbiased() -> None:
    """Eight replications of 100 clusters × 20: the mean estimate is within 3 Monte Carlo SEs of the truth.

    With σ_ab = .113 the average indirect effect .473 differs from a·b = .36 by a quarter, so an estimator
    that missed the covariance of the random slopes would fail here by several Monte Carlo SEs.
    """
    rng = np.random.default_rng(20240611)
    estimates: dict[str, list[float]] = {name: [] for name in TRUTH}
    covered = 0
    for _ in range(8):
        result = multilevel_mediate(
            simulate_bpg(rng, 100, 20), x="x", m="m", y="y", cluster="team", n_mc=4000, seed=rng
        )
        assert result.info["converged"] and result.warnings == ()
        for name in TRUTH:
            estimates[name].append(result.effect(name).estimate)
        indirect = result.effect("indirect")
        covered += indirect.ci_low < TRUTH["indirect"] < indirect.ci_high
    for name, values in estimates.items():
        mean, mc_se = np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))
        assert abs(mean - TRUTH[name]) < 3 * mc_se, (name, mean, mc_se)
    assert abs(np.mean(estimates["indirect"]) - A * B) > 5 * (
        np.std(estimates["indirect"], ddof=1) / np.sqrt(len(estimates["indirect"]))
    )
    assert covered >= 6  # nominal 95%: 6 or more of 8 has probability .994


def test_within_and_between_effects_are_separated() -> None:
    """Different effects within and between clusters are recovered; uncentred estimates blend them.

    x_ij = c_j + w_ij with the w centred within clusters, so the observed cluster mean of x is c_j. The
    outcome is generated from the observed cluster mean of m (the manifest-mean model the estimator assumes).
    With random intercepts only, V⁻¹ leaves within-cluster deviations alone, so the within-cluster paths are
    exactly the least-squares regressions on the demeaned variables.
    """
    rng = np.random.default_rng(77)
    clusters, size = 150, 10
    team = np.repeat(np.arange(clusters), size)
    c = rng.normal(0, 0.8, clusters)[team]
    w = rng.normal(size=team.size)
    w -= pd.Series(w).groupby(team).transform("mean").to_numpy()
    m = rng.normal(0, 0.6, clusters)[team] + 0.5 * w + 0.2 * c + rng.normal(0, 0.8, team.size)
    m_mean = pd.Series(m).groupby(team).transform("mean").to_numpy()
    y = 0.6 * (m - m_mean) + 0.1 * m_mean + 0.3 * w - 0.2 * c + rng.normal(0, 0.5, clusters)[team]
    y = y + rng.normal(0, 0.7, team.size)
    frame = pd.DataFrame({"team": team, "x": c + w, "m": m, "y": y})
    truth = {
        "a": 0.5,
        "b": 0.6,
        "direct": 0.3,
        "indirect": 0.3,
        "a_between": 0.2,
        "b_between": 0.1,
        "direct_between": -0.2,
        "indirect_between": 0.02,
    }
    result = multilevel_mediate(frame, x="x", m="m", y="y", cluster="team", random_slopes=False, seed=3)
    for name, value in truth.items():
        effect = result.effect(name)
        assert abs(effect.estimate - value) < 3.5 * effect.se, (name, effect.estimate, effect.se)
    # Within-cluster paths in closed form.
    m_within = m - m_mean
    assert result.effect("a").estimate == pytest.approx(float(w @ m / (w @ w)), abs=1e-8)
    design = np.column_stack([m_within, w])
    within_fit = np.linalg.lstsq(
        design, y - pd.Series(y).groupby(team).transform("mean").to_numpy(), rcond=None
    )
    assert result.effect("b").estimate == pytest.approx(within_fit[0][0], abs=1e-8)
    assert result.effect("direct").estimate == pytest.approx(within_fit[0][1], abs=1e-8)
    # Without centring the a path is a blend of the within (0.5) and between (0.2) slopes.
    pooled = multilevel_mediate(
        frame, x="x", m="m", y="y", cluster="team", random_slopes=False, center="none", seed=3
    )
    assert result.effect("a_between").estimate < pooled.effect("a").estimate < result.effect("a").estimate
    assert any("blend within- and between-cluster effects" in w for w in pooled.warnings)
