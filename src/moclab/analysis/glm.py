"""Binary-outcome generalized linear models (logit and probit) fitted for many weight vectors at once.

The bootstrap of `moclab.analysis.binary.mediate_glm` refits logit or probit models on every resample. The
linear models of that bootstrap go through `moclab.analysis.bootstrap.batched_ols`; this module holds the
binary counterpart, batched Fisher scoring, and the link functions it shares with the causal mediation code.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["batched_binary_glm", "inverse_link", "inverse_link_slope"]


def inverse_link(kind: str, eta: np.ndarray) -> np.ndarray:
    """Mean of a binary outcome from the linear predictor: expit (``"logit"``) or Φ (``"probit"``).

    Examples
    --------
    >>> float(inverse_link("logit", np.array(0.0))), float(inverse_link("probit", np.array(0.0)))
    (0.5, 0.5)
    """
    return special.expit(eta) if kind == "logit" else special.ndtr(eta)


def inverse_link_slope(kind: str, eta: np.ndarray) -> np.ndarray:
    """Derivative of `inverse_link` with respect to the linear predictor (the logistic or normal density).

    Examples
    --------
    >>> round(float(inverse_link_slope("logit", np.array(0.0))), 4)
    0.25
    """
    if kind == "logit":
        p = special.expit(eta)
        return p * (1.0 - p)
    return np.exp(-0.5 * eta * eta) / math.sqrt(2.0 * math.pi)


def _solve_batched(matrices: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve a stack of small systems; rows whose matrix is singular come back as NaN with ok=False."""
    try:
        return np.linalg.solve(matrices, vectors[..., None])[..., 0], np.ones(len(matrices), bool)
    except np.linalg.LinAlgError:
        solution = np.full(vectors.shape, np.nan)
        ok = np.zeros(len(matrices), bool)
        for b in range(len(matrices)):
            try:
                solution[b] = np.linalg.solve(matrices[b], vectors[b])
                ok[b] = True
            except np.linalg.LinAlgError:
                pass
        return solution, ok


def batched_binary_glm(
    design: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    kind: str,
    start: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logit or probit fits for many frequency-weight vectors at once (Fisher scoring).

    statsmodels fits one model per call; refitting 1000 bootstrap resamples one by one costs ~1000
    Python-level IRLS loops, so this runs the same iteratively reweighted least squares on all resamples
    together, each iteration one batched Gram matrix and one batched solve. Resamples that do not converge
    (separation in the resample, or a singular design) are flagged in the returned ok mask.

    Parameters
    ----------
    design : (n, k) design matrix.
    y : (n,) 0/1 outcome.
    weights : (B, n) frequency weights (bootstrap counts).
    kind : "logit" or "probit".
    start : (k,) starting coefficients (the full-sample estimate).

    Returns
    -------
    beta : (B, k) coefficients; ok : (B,) convergence mask.
    """
    n_batch = weights.shape[0]
    beta = np.tile(np.asarray(start, dtype=float), (n_batch, 1))
    active = np.ones(n_batch, bool)
    converged = np.zeros(n_batch, bool)
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        current = beta[rows]
        eta = current @ design.T
        mu = np.clip(inverse_link(kind, eta), 1e-12, 1 - 1e-12)
        dmu = inverse_link_slope(kind, eta)
        variance = mu * (1.0 - mu)
        working = weights[rows] * dmu * dmu / variance
        # X'W z with z = eta + (y - mu) / mu', written without dividing by mu' (tiny in the tails).
        moment = (working * eta + weights[rows] * dmu * (y - mu) / variance) @ design
        gram = np.einsum("bn,ni,nj->bij", working, design, design, optimize=True)
        updated, solved = _solve_batched(gram, moment)
        finite = solved & np.all(np.isfinite(updated), axis=1)
        change = np.max(np.abs(updated - current) / (1.0 + np.abs(current)), axis=1)
        beta[rows[finite]] = updated[finite]
        done = finite & (change < tol)
        converged[rows[done]] = True
        # A linear predictor beyond +-50 (probabilities within e^-50 of 0 or 1) only arises when the resample
        # is separated and the coefficients are running off to infinity.
        saturated = np.max(np.abs(np.where(finite[:, None], updated, 0.0) @ design.T), axis=1) > 50.0
        failed = ~finite | saturated
        active[rows[done | failed]] = False
    return beta, converged
