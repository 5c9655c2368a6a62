"""Ordinary least squares on one design, the one routine every estimator fits a regression with.

`least_squares` solves by QR decomposition (better conditioned than the normal equations) for one response
or several sharing the design, and returns the residuals and (X'X)⁻¹ for the covariance. `ols` adds the
classical or the CR1 cluster-robust covariance with its degrees of freedom, and `wald` the t interval of a
linear combination of the coefficients. Designs are checked for full rank before (`_columns.check_full_rank`);
the batched refits of the bootstrap are `moclab.analysis.bootstrap`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from moclab.analysis.clustering import cluster_robust_covariance
from moclab.analysis.intervals import wald_interval

__all__ = ["LeastSquares", "OlsFit", "least_squares", "ols", "wald"]


@dataclass(frozen=True)
class LeastSquares:
    """Coefficients (p,) or (p, k), residuals (n,) or (n, k), and (X'X)⁻¹ (p, p) of a least-squares fit."""

    coef: np.ndarray
    residuals: np.ndarray
    xtx_inv: np.ndarray


def least_squares(design: np.ndarray, response: np.ndarray) -> LeastSquares:
    """Least-squares fit of `response` (n,) or (n, k) on a full-rank `design` (n, p) by QR decomposition.

    Examples
    --------
    >>> x = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> fit = least_squares(x, np.array([1.0, 3.0, 5.0, 7.0]))
    >>> np.round(fit.coef, 10).tolist(), float(np.abs(fit.residuals).max()) < 1e-12
    ([1.0, 2.0], True)
    """
    q, r = np.linalg.qr(design)
    r_inv = np.linalg.inv(r)  # p x p upper triangular; tiny
    coef = r_inv @ (q.T @ response)
    return LeastSquares(coef, response - design @ coef, r_inv @ r_inv.T)


@dataclass(frozen=True)
class OlsFit:
    """OLS coefficients with their covariance (classical, or CR1 cluster-robust) and the df of their t."""

    coef: np.ndarray
    covariance: np.ndarray
    df: float


def ols(design: np.ndarray, response: np.ndarray, codes: np.ndarray | None = None) -> OlsFit:
    """OLS with the classical covariance (t with n - p df) or, given cluster `codes`, the CR1 cluster-robust
    one (t with G - 1 df; Cameron & Miller 2015)."""
    n, p = design.shape
    fit = least_squares(design, response)
    if codes is None:
        residual = fit.residuals
        return OlsFit(fit.coef, residual @ residual / (n - p) * fit.xtx_inv, float(n - p))
    covariance = cluster_robust_covariance([design], [fit.residuals], codes)
    return OlsFit(fit.coef, covariance, float(np.unique(codes).size - 1))


def wald(fit: OlsFit, vector: np.ndarray, level: float) -> tuple[float, float, float, float, float]:
    """Estimate, SE, interval and p of the linear combination ``vector @ coef`` (t with the fit's df)."""
    estimate = float(vector @ fit.coef)
    se = float(math.sqrt(max(vector @ fit.covariance @ vector, 0.0)))
    low, high, p = wald_interval(estimate, se, level, fit.df)
    return estimate, se, float(low), float(high), float(p)
