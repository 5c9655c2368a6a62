"""What clustering does to an analysis: intraclass correlation, design effect and cluster-robust covariance.

Used by `moclab.analysis.mediate` when rows are nested in clusters (recipients in sites, staff in teams), and
available to the other estimators. `oneway_anova_icc` is moclab's one implementation of the one-way ANOVA
ICC(1) and ICC(2): `icc_oneway` (mediate, the simulator's truth) and `moclab.analysis.aggregation.icc`
(`moclab score`) both call it, so they give the same number on the same data. The other ICC moclab reports,
the REML variance share of a random-intercept model, is `moclab.analysis.multilevel.icc`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from moclab.analysis.results import plain

__all__ = [
    "FEW_CLUSTERS",
    "ICC_ANOVA_ESTIMATOR",
    "OnewayAnovaIcc",
    "cluster_robust_covariance",
    "design_effect",
    "icc_oneway",
    "oneway_anova_icc",
]

#: The name of the ICC(1) estimator of `oneway_anova_icc`, written into every output that reports it.
ICC_ANOVA_ESTIMATOR = "ICC(1), one-way ANOVA estimator with n0 for unequal clusters"

#: Below this many clusters cluster-robust standard errors and the cluster bootstrap are unreliable (too
#: liberal). Cameron & Miller (2015, sec. VI) put "few" clusters at somewhere below 20 to 50; McNeish &
#: Stapleton (2016) review small-cluster-number problems in multilevel and clustered designs.
FEW_CLUSTERS = 20


@dataclass(frozen=True, repr=False)
class OnewayAnovaIcc:
    """The one-way random-effects ANOVA of a variable on clusters and the ICCs it gives.

    Attributes
    ----------
    icc1 : float
        ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW); may be slightly negative, NaN when undefined.
    icc2 : float
        ICC(2) = (MSB - MSW) / MSB, the reliability of the cluster means (Bliese 2000).
    msb, msw : float
        Mean squares between and within clusters.
    df_between, df_within : int
        G - 1 and N - G.
    f, p : float
        The ANOVA F = MSB / MSW and its p value.
    groups, n : int
        Clusters G and observations N.
    n0 : float
        The effective cluster size (N - Σ n_g² / N) / (G - 1); the common size when clusters are equal.
    mean_group_size : float
        N / G.
    estimator : str
        `ICC_ANOVA_ESTIMATOR`.
    """

    icc1: float
    icc2: float
    msb: float
    msw: float
    df_between: int
    df_within: int
    f: float
    p: float
    groups: int
    n: int
    n0: float
    mean_group_size: float
    estimator: str = ICC_ANOVA_ESTIMATOR

    def to_dict(self) -> dict[str, Any]:
        return plain(dict(self.__dict__))

    def summary(self) -> str:
        """ICC(1), ICC(2) and the F test in one line, with the estimator."""
        return (
            f"ICC(1) = {self.icc1:.3f}, ICC(2) = {self.icc2:.3f}, F({self.df_between}, {self.df_within}) = "
            f"{self.f:.2f}, p = {self.p:.3g}; {self.groups} groups, n = {self.n} ({self.estimator})"
        )

    def __repr__(self) -> str:
        return (
            f"OnewayAnovaIcc(icc1 = {self.icc1:.4g}, icc2 = {self.icc2:.4g}, p = {self.p:.3g}; n = {self.n})"
        )


def oneway_anova_icc(values: np.ndarray, codes: np.ndarray) -> OnewayAnovaIcc:
    """One-way ANOVA of ``values`` on clusters: mean squares, F test, ICC(1) with n0, and ICC(2).

    Parameters
    ----------
    values : numpy.ndarray
        Observations (n,), no missing values.
    codes : numpy.ndarray
        Cluster code 0..G-1 of every observation (unused codes are ignored).

    Returns
    -------
    OnewayAnovaIcc
        NaN ICCs (and F, p) with fewer than two clusters or no within-cluster replication; a cluster of one
        row adds to the between-cluster sum of squares only.

    Notes
    -----
    With the mean squares between and within clusters ``MSB``, ``MSW`` and, for unequal clusters, the
    effective cluster size ``n0 = (N - Σ n_g² / N) / (G - 1)`` (Snedecor & Cochran 1989; Snijders & Bosker
    2012, sec. 3.3.1, call it ñ): ``ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW)``, the ANOVA estimator of
    τ² / (τ² + σ²) (E[MSB] = σ² + n0 τ²), and ``ICC(2) = (MSB - MSW) / MSB`` (Bliese 2000). With equal
    clusters n0 is their size and these are Shrout & Fleiss's (1979) ICC(1,1) and ICC(1,k). R's multilevel
    package uses the mean cluster size N/G in place of n0, which differs for unequal clusters; for balanced
    data with a positive estimate ICC(1) equals the REML variance share of a random-intercept model.

    References
    ----------
    Snedecor GW, Cochran WG. *Statistical Methods* (8th ed.). Iowa State University Press; 1989.
    Bliese PD. Within-group agreement, non-independence, and reliability. In: Klein KJ, Kozlowski SWJ, eds.
    *Multilevel theory, research, and methods in organizations*. Jossey-Bass; 2000:349-381.
    Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability. *Psychological
    Bulletin* 1979;86(2):420-428.
    Snijders TAB, Bosker RJ. *Multilevel Analysis* (2nd ed.). Sage; 2012.

    Examples
    --------
    >>> result = oneway_anova_icc(np.array([1.0, 2, 3, 4, 5, 6, 7]), np.array([0, 0, 0, 1, 1, 2, 2]))
    >>> round(result.n0, 3), round(result.icc1, 3), round(result.icc2, 3)
    (2.286, 0.873, 0.94)
    """
    from scipy import stats  # here, not at the top: `mediate` imports this module and needs no scipy.stats

    values = np.asarray(values, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.int64)
    n = values.size
    all_sizes = np.bincount(codes).astype(np.float64) if n else np.zeros(0)
    present = all_sizes > 0
    sizes = all_sizes[present]
    n_clusters = int(sizes.size)
    df_between, df_within = n_clusters - 1, n - n_clusters
    mean_size = n / n_clusters if n_clusters else math.nan
    if n_clusters < 2 or df_within < 1:
        nan = math.nan
        return OnewayAnovaIcc(
            nan, nan, nan, nan, df_between, df_within, nan, nan, n_clusters, n, nan, mean_size
        )
    all_means = np.bincount(codes, weights=values) / np.maximum(all_sizes, 1.0)
    grand = values.mean()
    msb = float(np.sum(sizes * (all_means[present] - grand) ** 2) / df_between)
    msw = float(np.sum((values - all_means[codes]) ** 2) / df_within)
    n0 = float((n - np.sum(sizes**2) / n) / df_between)
    denominator = msb + (n0 - 1.0) * msw
    icc1 = (msb - msw) / denominator if denominator > 0 else math.nan
    icc2 = (msb - msw) / msb if msb > 0 else math.nan
    f = msb / msw if msw > 0 else (math.inf if msb > 0 else math.nan)
    if math.isfinite(f):
        p = float(stats.f.sf(f, df_between, df_within))
    else:
        p = 0.0 if f == math.inf else math.nan
    return OnewayAnovaIcc(
        float(icc1), float(icc2), msb, msw, df_between, df_within, float(f), p, n_clusters, n, n0, mean_size
    )


def icc_oneway(values: np.ndarray, codes: np.ndarray) -> float:
    """ICC(1) of ``values`` within clusters by the one-way ANOVA estimator with n0 (`oneway_anova_icc`).

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

    Examples
    --------
    >>> round(icc_oneway(np.array([1.0, 1.2, 3.0, 3.1, 5.0, 5.3]), np.array([0, 0, 1, 1, 2, 2])), 3)
    0.994
    """
    return oneway_anova_icc(values, codes).icc1


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
