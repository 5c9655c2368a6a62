"""What clustering does to an analysis: intraclass correlation, design effect and cluster-robust covariance.

Used by `moclab.analysis.mediate` when rows are nested in clusters (recipients in sites, staff in teams), and
available to the other estimators.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "FEW_CLUSTERS",
    "cluster_robust_covariance",
    "design_effect",
    "icc_oneway",
]

#: Below this many clusters cluster-robust standard errors and the cluster bootstrap are unreliable (too
#: liberal). Cameron & Miller (2015, sec. VI) put "few" clusters at somewhere below 20 to 50; McNeish &
#: Stapleton (2016) review small-cluster-number problems in multilevel and clustered designs.
FEW_CLUSTERS = 20


def icc_oneway(values: np.ndarray, codes: np.ndarray) -> float:
    """One-way ANOVA estimate of the intraclass correlation ICC(1) of ``values`` within clusters.

    Parameters
    ----------
    values : numpy.ndarray
        Observations (n,).
    codes : numpy.ndarray
        Cluster code 0..G-1 of every observation.

    Returns
    -------
    float
        The ICC; it can be slightly negative when the between-cluster variance is estimated below zero. NaN
        with fewer than two clusters or no within-cluster replication.

    Notes
    -----
    With the mean squares between and within clusters ``MSB``, ``MSW`` and the effective cluster size
    ``ñ = (N - Σ n_g² / N) / (G - 1)``, ``ICC = (MSB - MSW) / (MSB + (ñ - 1) MSW)`` (Snijders & Bosker, 2012,
    sec. 3.3.1). For balanced data with a positive estimate this equals the REML estimate of a random
    intercept model.

    References
    ----------
    Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel Analysis* (2nd ed.). Sage.

    Examples
    --------
    >>> round(icc_oneway(np.array([1.0, 1.2, 3.0, 3.1, 5.0, 5.3]), np.array([0, 0, 1, 1, 2, 2])), 3)
    0.994
    """
    values = np.asarray(values, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.int64)
    n = values.size
    all_sizes = np.bincount(codes).astype(np.float64)
    present = all_sizes > 0
    sizes = all_sizes[present]
    n_clusters = sizes.size
    if n_clusters < 2 or n - n_clusters < 1:
        return float("nan")
    all_means = np.bincount(codes, weights=values) / np.maximum(all_sizes, 1.0)
    cluster_means = all_means[present]
    grand = values.mean()
    within = values - all_means[codes]
    ms_between = float(np.sum(sizes * (cluster_means - grand) ** 2) / (n_clusters - 1))
    ms_within = float(np.sum(within**2) / (n - n_clusters))
    n_tilde = (n - np.sum(sizes**2) / n) / (n_clusters - 1)
    denominator = ms_between + (n_tilde - 1) * ms_within
    return float((ms_between - ms_within) / denominator) if denominator > 0 else float("nan")


def design_effect(icc: float, cluster_sizes: np.ndarray) -> float:
    """Kish's design effect ``1 + (n̄ - 1)·ICC`` for the mean cluster size n̄.

    The factor by which clustering inflates the variance of a mean compared with simple random sampling of
    the same number of rows; n / design effect is the effective sample size. A negative ICC is treated as 0.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley.

    Examples
    --------
    >>> design_effect(0.1, np.array([10, 10, 10]))
    1.9
    """
    mean_size = float(np.mean(np.asarray(cluster_sizes, dtype=np.float64)))
    if not np.isfinite(icc):
        return float("nan")
    return float(1.0 + (mean_size - 1.0) * max(icc, 0.0))


def cluster_robust_covariance(
    designs: Sequence[np.ndarray], residuals: Sequence[np.ndarray], codes: np.ndarray
) -> np.ndarray:
    """CR1 cluster-robust covariance of OLS coefficients, jointly over one or several equations.

    Parameters
    ----------
    designs : sequence of numpy.ndarray
        Design matrix (n, p_e) of every equation (same rows).
    residuals : sequence of numpy.ndarray
        OLS residuals (n,) of every equation.
    codes : numpy.ndarray
        Cluster code 0..G-1 of every row.

    Returns
    -------
    numpy.ndarray
        Covariance (P, P) of the stacked coefficients, P = Σ p_e. Its diagonal blocks equal statsmodels'
        ``OLS(...).fit(cov_type="cluster", cov_kwds={"groups": codes})``; the off-diagonal blocks are the
        cross-equation covariances (the stacked-score sandwich), which a product of coefficients from
        different equations (an indirect effect) needs when errors are correlated within clusters.

    Notes
    -----
    ``V = c · (X'X)⁻¹ (Σ_g X_g' e_g e_g' X_g) (X'X)⁻¹`` with the small-sample factor
    ``c = G/(G-1) · (N-1)/(N-K)`` (Cameron & Miller, 2015, eq. 11, "CR1"); for a block between equations with
    K_e and K_f coefficients, ``N - K`` is replaced by ``sqrt((N - K_e)(N - K_f))``.

    References
    ----------
    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
    Human Resources*, 50(2), 317-372.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> e = rng.normal(size=40)
    >>> cluster_robust_covariance([x], [e], np.repeat(np.arange(10), 4)).shape
    (2, 2)
    """
    codes = np.asarray(codes, dtype=np.int64)
    n = codes.size
    n_clusters = int(np.unique(codes).size)
    breads, scores, sizes = [], [], []
    for design, residual in zip(designs, residuals, strict=True):
        design = np.asarray(design, dtype=np.float64)
        breads.append(np.linalg.pinv(design.T @ design))
        row_scores = design * np.asarray(residual, dtype=np.float64)[:, None]
        cluster_scores = np.zeros((int(codes.max()) + 1, design.shape[1]))
        np.add.at(cluster_scores, codes, row_scores)
        scores.append(cluster_scores)
        sizes.append(design.shape[1])
    stacked = np.hstack(scores)
    meat = stacked.T @ stacked
    total = sum(sizes)
    bread = np.zeros((total, total))
    factor = np.zeros((total, total))
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for e, k_e in enumerate(sizes):
        bread[starts[e] : starts[e + 1], starts[e] : starts[e + 1]] = breads[e]
        for f, k_f in enumerate(sizes):
            factor[starts[e] : starts[e + 1], starts[f] : starts[f + 1]] = (
                n_clusters / (n_clusters - 1) * (n - 1) / np.sqrt((n - k_e) * (n - k_f))
            )
    return factor * (bread @ meat @ bread)
