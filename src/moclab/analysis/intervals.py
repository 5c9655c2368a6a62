"""Confidence intervals and tests from resampling draws and from normal theory, shared by all estimators.

Bootstrap intervals (`percentile_interval`, `bca_interval`), Monte Carlo intervals for functions of estimated
parameters (`monte_carlo_draws`, `monte_carlo_interval`), normal-theory intervals (`wald_interval`), the
delta-method standard error (`delta_method_se`, with the Sobel test as its special case `sobel_test`) and the
joint-significance test (`joint_significance`).

All interval functions work column-wise: ``draws`` of shape (B,) gives scalars, (B, k) gives k intervals.
Draws that are NaN (singular resamples) are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import special

from moclab.analysis import _arguments
from moclab.analysis.bootstrap import SeedLike, as_generator

__all__ = [
    "bca_interval",
    "covariance_root",
    "delta_method_se",
    "joint_significance",
    "monte_carlo_draws",
    "monte_carlo_interval",
    "percentile_interval",
    "sobel_test",
    "wald_interval",
]


def _check_level(level: float) -> float:
    _arguments.check(level=level)
    return float(level)


def _nan_quantile(draws: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Column-wise quantiles ignoring NaN; ``probabilities`` has one row per column or is shared."""
    draws = np.asarray(draws, dtype=np.float64)
    if np.isnan(draws).any():
        return np.array(
            [np.nanquantile(draws[:, j], probabilities[j]) for j in range(draws.shape[1])]
        )  # few columns; NaN-aware quantiles are only needed when some resamples were singular
    return np.array([np.quantile(draws[:, j], probabilities[j]) for j in range(draws.shape[1])])


def _as_columns(draws: np.ndarray) -> tuple[np.ndarray, bool]:
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim == 1:
        return draws[:, None], True
    if draws.ndim != 2:
        raise ValueError("draws must have shape (B,) or (B, k)")
    return draws, False


def _finish(low: np.ndarray, high: np.ndarray, scalar: bool) -> tuple[np.ndarray | float, np.ndarray | float]:
    if scalar:
        return float(low[0]), float(high[0])
    return low, high


def percentile_interval(
    draws: np.ndarray, estimate: np.ndarray | float | None = None, level: float = 0.95
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Percentile bootstrap (or Monte Carlo) interval: the (1-level)/2 and (1+level)/2 quantiles of the draws.

    Parameters
    ----------
    draws : numpy.ndarray
        Resampled statistics, shape (B,) or (B, k); NaN draws are ignored.
    estimate : float or numpy.ndarray, optional
        The sample estimate. Not used by this method; accepted so every interval function can be called with
        the same arguments.
    level : float
        Confidence level, e.g. 0.95.

    Returns
    -------
    (low, high)
        Floats for one-dimensional draws, arrays of length k otherwise.

    Notes
    -----
    ``[q_{α/2}, q_{1-α/2}]`` of the bootstrap distribution with α = 1 - level (Efron & Tibshirani, 1993,
    ch. 13), quantiles by linear interpolation (`numpy.quantile`'s default).

    References
    ----------
    Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> low, high = percentile_interval(np.arange(101.0), level=0.9)
    >>> round(low, 6), round(high, 6)
    (5.0, 95.0)
    """
    level = _check_level(level)
    columns, scalar = _as_columns(draws)
    alpha = 1.0 - level
    probabilities = np.tile([alpha / 2, 1 - alpha / 2], (columns.shape[1], 1))
    bounds = _nan_quantile(columns, probabilities)
    return _finish(bounds[:, 0], bounds[:, 1], scalar)


def bca_interval(
    draws: np.ndarray,
    estimate: np.ndarray | float,
    jackknife_values: np.ndarray,
    level: float = 0.95,
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Bias-corrected and accelerated (BCa) bootstrap interval.

    Parameters
    ----------
    draws : numpy.ndarray
        Bootstrap statistics, shape (B,) or (B, k).
    estimate : float or numpy.ndarray
        The statistic on the original sample (scalar or length k).
    jackknife_values : numpy.ndarray
        The statistic with each observation (or cluster, for a cluster bootstrap) left out, shape (n,) or
        (n, k); see `moclab.analysis.bootstrap.jackknife_regressions`.
    level : float
        Confidence level.

    Returns
    -------
    (low, high)
        Floats or arrays of length k. NaN when the draws are all equal or the bias correction is infinite
        (every draw on one side of the estimate).

    Notes
    -----
    With α = 1 - level, the bias correction ``z0 = Φ⁻¹(#{θ*_b < θ̂}/B + #{θ*_b = θ̂}/(2B))`` and the
    acceleration ``a = Σ(θ̄₍.₎ - θ₍ᵢ₎)³ / (6 [Σ(θ̄₍.₎ - θ₍ᵢ₎)²]^{3/2})`` from the jackknife values, the
    interval is the bootstrap quantiles at ``Φ(z0 + (z0 + z_q) / (1 - a (z0 + z_q)))`` for q = α/2 and 1 - α/2
    (Efron, 1987; Efron & Tibshirani, 1993, eq. 14.9-14.15). Ties at the estimate count half, as in
    `scipy.stats.bootstrap`.

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. *JASA*, 82(397), 171-185.
    Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sample = rng.exponential(size=40)
    >>> boot = sample[rng.integers(0, 40, size=(2000, 40))].mean(axis=1)
    >>> jack = (sample.sum() - sample) / 39
    >>> low, high = bca_interval(boot, sample.mean(), jack)
    >>> bool(low < sample.mean() < high)
    True
    """
    level = _check_level(level)
    columns, scalar = _as_columns(draws)
    k = columns.shape[1]
    estimate = np.broadcast_to(np.asarray(estimate, dtype=np.float64).reshape(-1), (k,))
    jack = np.asarray(jackknife_values, dtype=np.float64)
    jack = jack[:, None] if jack.ndim == 1 else jack
    finite = ~np.isnan(columns)
    n_finite = finite.sum(axis=0)
    below = (columns < estimate).sum(axis=0) + 0.5 * (columns == estimate).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = special.ndtri(below / n_finite)
        deviations = np.nanmean(jack, axis=0) - jack
        numerator = np.nansum(deviations**3, axis=0)
        denominator = 6.0 * np.nansum(deviations**2, axis=0) ** 1.5
        acceleration = np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), 0.0)
        alpha = 1.0 - level
        z_quantiles = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
        shifted = z0[:, None] + z_quantiles[None, :]
        probabilities = special.ndtr(z0[:, None] + shifted / (1 - acceleration[:, None] * shifted))
    bad = ~np.isfinite(probabilities).all(axis=1) | (np.nanstd(columns, axis=0) == 0)
    probabilities = np.where(bad[:, None], 0.5, probabilities)
    bounds = _nan_quantile(columns, probabilities)
    bounds[bad] = np.nan
    return _finish(bounds[:, 0], bounds[:, 1], scalar)


def covariance_root(covariance: np.ndarray) -> np.ndarray:
    """A square root R with R·R' = covariance of a positive semi-definite matrix, or of each matrix of a
    stack (..., p, p): the eigendecomposition's vectors scaled by the roots of the eigenvalues clipped at 0,
    so a singular covariance (parameters that are exact functions of others) is allowed.

    >>> root = covariance_root(np.array([[4.0, 2.0], [2.0, 2.0]]))
    >>> np.allclose(root @ root.T, [[4.0, 2.0], [2.0, 2.0]])
    True
    """
    values, vectors = np.linalg.eigh((covariance + np.swapaxes(covariance, -1, -2)) / 2)
    return vectors * np.sqrt(np.clip(values, 0.0, None))[..., None, :]


def monte_carlo_draws(
    mean: np.ndarray, covariance: np.ndarray, n_mc: int = 20_000, seed: SeedLike = None
) -> np.ndarray:
    """Draws of a parameter vector from its estimated asymptotic normal distribution N(mean, covariance).

    Parameters
    ----------
    mean : numpy.ndarray
        Parameter estimates (p,).
    covariance : numpy.ndarray
        Their covariance matrix (p, p) (positive semi-definite).
    n_mc : int
        Number of Monte Carlo draws.
    seed : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        (n_mc, p).

    Notes
    -----
    Uses the eigendecomposition square root of `covariance_root`, so a singular covariance (e.g. parameters
    that are exact functions of others) is allowed.

    Examples
    --------
    >>> monte_carlo_draws(np.zeros(2), np.eye(2), 1000, seed=0).shape
    (1000, 2)
    """
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    covariance = np.atleast_2d(np.asarray(covariance, dtype=np.float64))
    rng = as_generator(seed)
    return mean + rng.standard_normal((int(n_mc), mean.size)) @ covariance_root(covariance).T


def monte_carlo_interval(
    mean: np.ndarray,
    covariance: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    n_mc: int = 20_000,
    level: float = 0.95,
    seed: SeedLike = None,
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Monte Carlo confidence interval for a function of estimated parameters (Preacher & Selig, 2012).

    Parameters
    ----------
    mean, covariance : numpy.ndarray
        Parameter estimates (p,) and their covariance (p, p).
    statistic : callable
        Maps draws (n_mc, p) to the statistic, (n_mc,) or (n_mc, k), vectorized over rows;
        e.g. ``lambda t: t[:, 0] * t[:, 1]`` for an indirect effect a·b.
    n_mc : int
        Number of Monte Carlo draws (Preacher & Selig use 20,000).
    level : float
        Confidence level.
    seed : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    (low, high)
        Percentile interval of the statistic over the draws.

    Notes
    -----
    Draw θ* ~ N(θ̂, V̂) many times, evaluate the statistic at every draw, and take the α/2 and 1 - α/2
    quantiles. Unlike the delta method it keeps the skewness of the distribution of a product of normal
    estimates; unlike the bootstrap it needs only the estimates and their covariance.

    References
    ----------
    Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for indirect
    effects. *Communication Methods and Measures*, 6(2), 77-98.

    Examples
    --------
    >>> low, high = monte_carlo_interval(
    ...     np.array([0.4, 0.3]), np.diag([0.01, 0.01]), lambda t: t[:, 0] * t[:, 1], seed=1
    ... )
    >>> bool(0 < low < 0.12 < high)
    True
    """
    draws = statistic(monte_carlo_draws(mean, covariance, n_mc, seed))
    return percentile_interval(draws, None, level)


def wald_interval(
    estimate: np.ndarray | float,
    se: np.ndarray | float,
    level: float = 0.95,
    df: np.ndarray | float | None = None,
) -> tuple[np.ndarray | float, np.ndarray | float, np.ndarray | float]:
    """Normal-theory (or t) interval and two-sided p-value: estimate ± z·se.

    Parameters
    ----------
    estimate, se : float or numpy.ndarray
        Estimates and standard errors.
    level : float
        Confidence level.
    df : float or numpy.ndarray, optional
        Degrees of freedom (one per estimate, or shared): use the t distribution (e.g. OLS residual df, or
        G - 1 with cluster-robust SEs) instead of the normal.

    Returns
    -------
    (low, high, p)

    Examples
    --------
    >>> low, high, p = wald_interval(1.96, 1.0)
    >>> round(low, 3), round(p, 3)
    (0.0, 0.05)
    """
    level = _check_level(level)
    estimate = np.asarray(estimate, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    # scipy.special rather than frozen scipy.stats distributions: the same functions without ~1 ms of
    # object construction per call (this runs inside simulation loops).
    with np.errstate(divide="ignore", invalid="ignore"):
        if df is None:
            critical = special.ndtri(0.5 + level / 2)
            p = 2 * special.ndtr(-np.abs(estimate / se))
        else:
            critical = special.stdtrit(df, 0.5 + level / 2)
            p = 2 * special.stdtr(df, -np.abs(estimate / se))
    low, high = estimate - critical * se, estimate + critical * se
    if estimate.ndim == 0 and se.ndim == 0:
        return float(low), float(high), float(p)
    return low, high, p


def delta_method_se(gradient: np.ndarray, covariance: np.ndarray) -> np.ndarray | float:
    """First-order delta-method standard error ``sqrt(g' V g)`` of a function with gradient g.

    Parameters
    ----------
    gradient : numpy.ndarray
        Gradient of the function at the estimates, (p,), or one gradient per row, (k, p).
    covariance : numpy.ndarray
        Covariance (p, p) of the estimates.

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    For an indirect effect a·b with independent estimates, g = (b, a) gives Sobel's (1982) first-order
    standard error ``sqrt(b² s_a² + a² s_b²)``.

    Examples
    --------
    >>> round(float(delta_method_se(np.array([0.3, 0.4]), np.diag([0.01, 0.04]))), 6)
    0.08544
    """
    gradient = np.asarray(gradient, dtype=np.float64)
    covariance = np.atleast_2d(np.asarray(covariance, dtype=np.float64))
    variance = np.einsum("...i,ij,...j->...", gradient, covariance, gradient)
    se = np.sqrt(np.clip(variance, 0.0, None))
    return float(se) if se.ndim == 0 else se


def sobel_test(a: float, se_a: float, b: float, se_b: float) -> tuple[float, float, float]:
    """Sobel (1982) test of an indirect effect a·b: first-order delta-method SE, z and two-sided p.

    Parameters
    ----------
    a, se_a : float
        Path from the strategy to the mediator and its standard error.
    b, se_b : float
        Path from the mediator to the outcome (adjusted for the strategy) and its standard error.

    Returns
    -------
    (se, z, p)

    Notes
    -----
    ``se = sqrt(b² s_a² + a² s_b²)``, ``z = ab / se``. The normal approximation is poor for a product of
    estimates (its distribution is skewed), so the test is conservative; it is reported for comparison
    with bootstrap and Monte Carlo intervals (MacKinnon et al., 2002).

    References
    ----------
    Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation
    models. *Sociological Methodology*, 13, 290-312.
    MacKinnon, D. P., Lockwood, C. M., Hoffman, J. M., West, S. G., & Sheets, V. (2002). A comparison of
    methods to test mediation and other intervening variable effects. *Psychological Methods*, 7(1), 83-104.

    Examples
    --------
    >>> se, z, p = sobel_test(0.4, 0.1, 0.3, 0.1)
    >>> round(se, 4), round(z, 3)
    (0.05, 2.4)
    """
    se = float(np.sqrt(b**2 * se_a**2 + a**2 * se_b**2))
    z = a * b / se
    return se, float(z), float(2 * special.ndtr(-abs(z)))


def joint_significance(p_values: Sequence[float], alpha: float = 0.05) -> tuple[bool, float]:
    """Joint-significance test of an indirect effect: every path along it is significant at ``alpha``.

    Parameters
    ----------
    p_values : sequence of float
        p-values of the paths forming the indirect effect (a and b; a, d and b for a serial path).
    alpha : float
        Significance level for each path.

    Returns
    -------
    (significant, p)
        Whether all paths are significant, and the largest p-value (the test rejects iff it is < alpha).

    Notes
    -----
    The test of MacKinnon et al. (2002), extended to three-path (serial) effects by Taylor, MacKinnon & Tein
    (2008). It has good type I error and power but gives no interval.

    References
    ----------
    MacKinnon, D. P., Lockwood, C. M., Hoffman, J. M., West, S. G., & Sheets, V. (2002). A comparison of
    methods to test mediation and other intervening variable effects. *Psychological Methods*, 7(1), 83-104.
    Taylor, A. B., MacKinnon, D. P., & Tein, J.-Y. (2008). Tests of the three-path mediated effect.
    *Organizational Research Methods*, 11(2), 241-269.

    Examples
    --------
    >>> joint_significance([0.01, 0.2])
    (False, 0.2)
    """
    largest = float(np.max(np.asarray(p_values, dtype=np.float64)))
    return bool(largest < alpha), largest
