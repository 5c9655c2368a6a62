"""Causal mediation with binary or continuous mediators and outcomes (Imai, Keele & Tingley 2010).

`mediate_glm` fits a mediator model (linear, logit or probit) and an outcome model (linear, logit or probit,
optionally with a treatment-by-mediator interaction) and turns them into the average causal mediation effect
(ACME), the average direct effect (ADE), the total effect and the proportion mediated, each for the control
and the treated condition and averaged over both. With a binary outcome every effect is a difference in
probabilities. Inference is by the quasi-Bayesian Monte Carlo approximation or by the nonparametric bootstrap;
both are vectorised over draws (the bootstrap refits every resample at once with batched least squares or
batched Fisher scoring).

This module also holds the preparation of the data shared with `moclab.analysis.sensitivity`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special

from moclab.analysis import _arguments, _columns
from moclab.analysis.bootstrap import (
    SeedLike,
    as_generator,
    batched_ols,
    batched_residual_sd,
    bootstrap_counts,
)
from moclab.analysis.diagram import PathDiagram, PathEstimate, mediation_parts, significance_stars
from moclab.analysis.glm import batched_binary_glm, inverse_link, inverse_link_slope
from moclab.analysis.intervals import bca_interval, percentile_interval
from moclab.analysis.results import AnalysisResult, Effect
from moclab.errors import DataError

__all__ = ["CausalMediationResult", "mediate_glm"]

ModelKind = Literal["linear", "logit", "probit"]
MODEL_KINDS: tuple[str, ...] = ("linear", "logit", "probit")
#: Interval methods: quasi-Bayesian Monte Carlo draws of the coefficients, or the bootstrap (percentile, BCa).
CI_METHODS: tuple[str, ...] = ("monte_carlo", "percentile", "bca")

# E[expit(mu + s Z)], Z ~ N(0, 1), has no closed form. For |s| < 1.5 the integrand is smooth on the scale of Z
# and 64-node Gauss-Hermite quadrature is exact to ~1e-12; for larger |s| the logistic step is too sharp for
# those nodes, so the integral is rewritten as Phi(mu/s) plus a remainder integrated by 64-node Gauss-Laguerre
# quadrature (accurate to ~1e-10 for every s >= 1; both checked against adaptive quadrature in the tests).
_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(64)
_HERMITE_WEIGHTS = _HERMITE_WEIGHTS / math.sqrt(2.0 * math.pi)
_LAGUERRE_NODES, _LAGUERRE_WEIGHTS = np.polynomial.laguerre.laggauss(64)
_LAGUERRE_WEIGHTS = _LAGUERRE_WEIGHTS / (1.0 + np.exp(-_LAGUERRE_NODES))
_QUADRATURE_SWITCH = 1.5


def _hermite_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Positive nodes and weights of the symmetric 64-node rule, without the outermost pairs that never count.

    The nodes come in pairs +-z with equal weights, which `_logistic_normal_mean_hermite` evaluates together.
    A pair is left out when its share of the integral is below 1e-17 relative to the integral itself for every
    location and every scale below the switch: for mu -> -inf the integral tends to exp(mu + s^2/2) and a node
    contributes w exp(mu + s z), so the outer pairs are dropped while sum w exp(s z - s^2/2) over them, at the
    largest s, stays below 1e-17 (8 of 32 pairs; their total weight is 2.7e-18). That is below the rounding
    of the sum itself, so the rule is the 64-node rule to floating-point accuracy.
    """
    positive = _HERMITE_NODES > 0
    nodes, weights = _HERMITE_NODES[positive], _HERMITE_WEIGHTS[positive]
    order = np.argsort(-nodes)
    s = _QUADRATURE_SWITCH
    outermost_share = np.cumsum((weights * np.exp(s * nodes - 0.5 * s * s))[order])
    keep = np.ones(nodes.size, dtype=bool)
    keep[order[outermost_share < 1e-17]] = False
    return nodes[keep], weights[keep]


_PAIR_NODES, _PAIR_WEIGHTS = _hermite_pairs()
_PAIR_WEIGHT_TOTAL = 2.0 * float(_PAIR_WEIGHTS.sum())

# Largest number of (draw, node, unit) values evaluated at once by the quadrature kernels: two buffers of this
# size stay in a core's L2 cache (larger blocks were measurably slower, smaller ones pay NumPy's call costs).
_BLOCK_ELEMENTS = 1 << 16
# Largest number of (draw, unit) values of one chunk of draws in `potential_outcome_means` (8 MB per array).
_CHUNK_ELEMENTS = 1 << 20


# ------------------------------------------------------------------------------------------------------------
# Data preparation shared with the sensitivity analysis
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedMediationData:
    """Validated arrays for a single-level mediation analysis (rows with missing values already dropped)."""

    x: np.ndarray
    m: np.ndarray
    y: np.ndarray
    covariates: np.ndarray
    covariate_names: tuple[str, ...]
    n_dropped: int
    names: tuple[str, str, str]
    notes: tuple[str, ...] = ()  # what the preparation dropped

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def mediator_design(self) -> np.ndarray:
        """Columns: intercept, treatment, covariates."""
        return np.column_stack([np.ones(self.n), self.x, self.covariates])

    def outcome_design(self, interaction: bool) -> np.ndarray:
        """Columns: intercept, treatment, mediator, (treatment x mediator), covariates."""
        columns = [np.ones(self.n), self.x, self.m]
        if interaction:
            columns.append(self.x * self.m)
        return np.column_stack([*columns, self.covariates])

    def mediator_names(self) -> list[str]:
        return ["const", self.names[0], *self.covariate_names]

    def outcome_names(self, interaction: bool) -> list[str]:
        x, m, _ = self.names
        return ["const", x, m, *([f"{x}:{m}"] if interaction else []), *self.covariate_names]


def _check_binary(values: np.ndarray, name: str, role: str, kind: str) -> None:
    distinct = np.unique(values)
    if not np.all(np.isin(distinct, (0.0, 1.0))):
        shown = ", ".join(f"{v:g}" for v in distinct[:6]) + (", ..." if distinct.size > 6 else "")
        raise DataError(
            f"the {role} '{name}' is declared binary ({kind} model) but takes {distinct.size} "
            f"distinct values ({shown})",
            hint=f"recode '{name}' as 0/1 (1 = the event of interest) or declare the {role} model 'linear'",
        )


def prepare_mediation_data(
    data: pd.DataFrame,
    *,
    x: str,
    m: str,
    y: str,
    covariates: Sequence[str] = (),
    mediator_model: str = "linear",
    outcome_model: str = "linear",
    missing: str = "listwise",
) -> PreparedMediationData:
    """Validate and extract the columns of a single-level mediation analysis.

    Raises `DataError` naming the variable for: unknown columns, non-numeric treatment/mediator/outcome, a
    variable declared binary that is not 0/1, constant variables, collinear predictors, missing values when
    ``missing="raise"``, and too few complete rows.
    """
    data = _columns.data_frame(data)
    _arguments.check(missing=missing)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    roles = [("treatment x", x), ("mediator m", m), ("outcome y", y), *[("covariate", c) for c in covariates]]
    _columns.check_columns(data, roles)
    frame, n_dropped, note = _columns.complete_rows(data[[x, m, y, *covariates]], missing=missing)
    x_values = _columns.numeric_values(frame[x], "treatment", x)
    m_values = _columns.numeric_values(frame[m], "mediator", m)
    y_values = _columns.numeric_values(frame[y], "outcome", y)
    for values, name, role, kind in (
        (x_values, x, "treatment", "linear"),
        (m_values, m, "mediator", mediator_model),
        (y_values, y, "outcome", outcome_model),
    ):
        _columns.check_not_constant(values, role, name)
        if kind in ("logit", "probit"):
            _check_binary(values, name, role, kind)
    covariate_columns = _columns.covariate_matrix(frame, covariates)
    prepared = PreparedMediationData(
        x=x_values,
        m=m_values,
        y=y_values,
        covariates=covariate_columns.matrix,
        covariate_names=tuple(covariate_columns.names),
        n_dropped=n_dropped,
        names=(x, m, y),
        notes=(note,) if note else (),
    )
    _columns.check_enough_rows(prepared.n, 4 + covariate_columns.matrix.shape[1])
    _columns.check_full_rank(prepared.mediator_design(), prepared.mediator_names(), "mediator")
    _columns.check_full_rank(prepared.outcome_design(False), prepared.outcome_names(False), "outcome")
    return prepared


# ------------------------------------------------------------------------------------------------------------
# Model fitting (statsmodels) and the robust covariance statsmodels lacks for GLMs
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FittedModel:
    kind: str
    params: np.ndarray
    cov: np.ndarray
    sigma: float  # residual standard deviation of a linear model; nan otherwise
    table: pd.DataFrame


def _link(kind: str) -> Any:
    return sm.families.links.Logit() if kind == "logit" else sm.families.links.Probit()


def _glm_hc3(design: np.ndarray, y: np.ndarray, eta: np.ndarray, kind: str) -> np.ndarray:
    """HC3 sandwich covariance of a binomial GLM.

    statsmodels' GLM accepts ``cov_type="HC3"`` but applies no leverage correction (HC0-HC3 coincide), while
    R's mediate(robustSE = TRUE) uses sandwich::vcovHC with its default HC3, so the correction is written out
    here: V = A (sum_i psi_i psi_i' / (1 - h_i)^2) A, with A = (X'WX)^-1, psi_i = x_i (y_i - mu_i) mu'_i /
    V(mu_i) and h_i = w_i x_i' A x_i (MacKinnon & White 1985; Zeileis 2006).
    """
    mu = np.clip(inverse_link(kind, eta), 1e-15, 1 - 1e-15)
    dmu = inverse_link_slope(kind, eta)
    variance = mu * (1.0 - mu)
    weight = dmu * dmu / variance
    bread = np.linalg.inv(design.T @ (weight[:, None] * design))
    leverage = weight * np.einsum("ni,ij,nj->n", design, bread, design)
    score = design * ((y - mu) * dmu / variance / (1.0 - leverage))[:, None]
    return bread @ (score.T @ score) @ bread


def _separation_error(
    design: np.ndarray, names: Sequence[str], params: np.ndarray, role: str, variable: str
) -> DataError:
    scale = np.std(design, axis=0)
    standardized = np.abs(params * scale)
    suspects = [names[j] for j in np.argsort(-standardized) if scale[j] > 0 and standardized[j] > 5][:3]
    culprit = f"; the predictor(s) most involved: {', '.join(repr(s) for s in suspects)}" if suspects else ""
    return DataError(
        f"(quasi-)complete separation in the {role} model for '{variable}': some predictors classify the "
        f"outcome perfectly, so the logistic/probit coefficients are infinite{culprit}",
        hint="merge sparse categories, drop the separating predictor, or use a penalized model",
    )


def _fit_model(
    kind: str, endog: np.ndarray, design: np.ndarray, names: list[str], role: str, variable: str, robust: bool
) -> _FittedModel:
    if kind == "linear":
        result = sm.OLS(endog, design).fit(cov_type="HC3" if robust else "nonrobust")
        params = np.asarray(result.params)
        cov = np.asarray(result.cov_params())
        sigma = float(np.sqrt(result.scale))
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = sm.GLM(endog, design, family=sm.families.Binomial(link=_link(kind))).fit()
        params = np.asarray(result.params)
        mu = np.asarray(result.fittedvalues)
        separated = any("separation" in str(w.message).lower() for w in caught)
        saturated = np.mean((mu < 1e-8) | (mu > 1 - 1e-8)) > 0
        if separated or (saturated and np.max(np.abs(params * np.std(design, axis=0))) > 10):
            raise _separation_error(design, names, params, role, variable)
        if not result.converged:
            raise DataError(
                f"the {kind} {role} model for '{variable}' did not converge",
                hint="check for separation, extreme covariate values, or very rare outcomes",
            )
        eta = design @ params
        cov = _glm_hc3(design, endog, eta, kind) if robust else np.asarray(result.cov_params())
        sigma = float("nan")
    se = np.sqrt(np.diag(cov))
    statistic = params / se
    # t with the residual df for a linear model, z for logit/probit (as R's summary.lm and summary.glm).
    df_resid = endog.size - design.shape[1]
    p = 2 * (
        special.stdtr(df_resid, -np.abs(statistic)) if kind == "linear" else special.ndtr(-np.abs(statistic))
    )
    table = pd.DataFrame(
        {"estimate": params, "se": se, "statistic": statistic, "p": p}, index=pd.Index(names, name="term")
    )
    return _FittedModel(kind=kind, params=params, cov=cov, sigma=sigma, table=table)


# ------------------------------------------------------------------------------------------------------------
# Potential-outcome means
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    mediator_model: str
    outcome_model: str
    interaction: bool
    control_value: float
    treat_value: float


def potential_outcome_means(
    theta_m: np.ndarray,
    theta_y: np.ndarray,
    sigma_m: np.ndarray | float,
    covariates: np.ndarray,
    spec: _Spec,
    unit_weights: np.ndarray | None = None,
) -> np.ndarray:
    """E[Y(t, M(t'))] for t, t' in (control, treated), for each row of coefficients.

    Parameters
    ----------
    theta_m, theta_y : (S, k_m) and (S, k_y) arrays of mediator and outcome coefficients (one row per draw),
        in the column order of `PreparedMediationData.mediator_design` / `outcome_design`.
    sigma_m : residual standard deviation of a linear mediator model (scalar or one per draw).
    covariates : (n, p) covariate matrix of the sample the effects are averaged over.
    unit_weights : optional (S, n) frequency weights (bootstrap resample counts); equal weights otherwise.

    Returns
    -------
    (S, 2, 2) array Q with ``Q[s, i, j] = mean over units of E[Y(t_i, M(t_j)) | X]``, index 0 = control.

    Notes
    -----
    The mediator's conditional distribution is integrated out exactly instead of by simulating mediator values
    as the mediation package does, so the estimate carries no Monte Carlo error beyond that of the
    coefficients: binary mediator: ``p g(1) + (1 - p) g(0)``; linear mediator and linear outcome: ``g(mu)``;
    linear mediator and probit outcome: ``Phi((a + b mu) / sqrt(1 + b^2 sigma^2))``; linear mediator and logit
    outcome: 64-node Gauss-Hermite or Gauss-Laguerre quadrature (see `_logistic_normal_mean`).

    All draws are evaluated together, a chunk of draws at a time so that memory stays bounded for large
    samples: the covariate parts of both linear predictors are one matrix product per chunk, and a linear
    outcome needs no per-unit values at all (its mean is linear in the means of the covariates and of the
    mediator).
    """
    theta_m = np.atleast_2d(np.asarray(theta_m, dtype=float))
    theta_y = np.atleast_2d(np.asarray(theta_y, dtype=float))
    draws = theta_m.shape[0]
    sigma = np.broadcast_to(np.asarray(sigma_m, dtype=float).reshape(-1), (draws,))
    covariates = np.asarray(covariates, dtype=float)
    shares = None if unit_weights is None else unit_weights / unit_weights.sum(axis=1, keepdims=True)
    out = np.empty((draws, 2, 2))
    step = max(1, _CHUNK_ELEMENTS // max(1, covariates.shape[0]))
    for start in range(0, draws, step):
        rows = slice(start, start + step)
        chunk_shares = None if shares is None else shares[rows]
        out[rows] = _chunk_means(theta_m[rows], theta_y[rows], sigma[rows], covariates, spec, chunk_shares)
    return out


def _chunk_means(
    theta_m: np.ndarray,
    theta_y: np.ndarray,
    sigma: np.ndarray,
    covariates: np.ndarray,
    spec: _Spec,
    shares: np.ndarray | None,
) -> np.ndarray:
    """`potential_outcome_means` for one chunk of draws; `shares` are unit weights summing to 1 per draw."""
    draws = theta_m.shape[0]
    n_cov = covariates.shape[1]
    t_values = (spec.control_value, spec.treat_value)
    offset = 4 if spec.interaction else 3
    slopes = [theta_y[:, 2] + (theta_y[:, 3] * t if spec.interaction else 0.0) for t in t_values]
    out = np.empty((draws, 2, 2))

    def unit_mean(values: np.ndarray) -> np.ndarray:
        return values.mean(axis=1) if shares is None else np.einsum("su,su->s", shares, values)

    def at_covariate_mean(coefficients: np.ndarray) -> np.ndarray:
        # A linear predictor's mean over units is its value at the (weighted) mean of the covariates.
        if shares is None:
            return coefficients @ covariates.mean(axis=0)
        return np.einsum("sk,sk->s", coefficients, shares @ covariates)

    if spec.outcome_model == "linear" and spec.mediator_model == "linear":
        # E[Y(t, M(t'))] averaged over units is linear in the covariate means: no per-unit values needed.
        mediator_base = theta_m[:, 0] + at_covariate_mean(theta_m[:, 2 : 2 + n_cov])
        outcome_base = theta_y[:, 0] + at_covariate_mean(theta_y[:, offset : offset + n_cov])
        for i, t in enumerate(t_values):
            for j, t_mediator in enumerate(t_values):
                mean_m = mediator_base + theta_m[:, 1] * t_mediator
                out[:, i, j] = outcome_base + theta_y[:, 1] * t + slopes[i] * mean_m
        return out

    # Linear predictors at x = 0 (and m = 0): (draws, units), one matrix product each.
    base_m = theta_m[:, [0]] + theta_m[:, 2 : 2 + n_cov] @ covariates.T
    eta_m = [base_m + theta_m[:, [1]] * t for t in t_values]
    if spec.mediator_model != "linear":
        mediator_mean = [inverse_link(spec.mediator_model, eta) for eta in eta_m]
    else:
        mediator_mean = eta_m
    if spec.outcome_model == "linear":
        outcome_base = theta_y[:, 0] + at_covariate_mean(theta_y[:, offset : offset + n_cov])
        for j in range(2):
            mean_m = unit_mean(mediator_mean[j])
            for i, t in enumerate(t_values):
                out[:, i, j] = outcome_base + theta_y[:, 1] * t + slopes[i] * mean_m
        return out

    base_y = theta_y[:, [0]] + theta_y[:, offset : offset + n_cov] @ covariates.T
    for i, t in enumerate(t_values):
        eta_y = base_y + theta_y[:, [1]] * t
        slope = slopes[i][:, None]
        if spec.mediator_model != "linear":
            # p g(1) + (1 - p) g(0) = g(0) + p (g(1) - g(0)); g does not depend on t'.
            at_zero = inverse_link(spec.outcome_model, eta_y)
            step_up = inverse_link(spec.outcome_model, eta_y + slope) - at_zero
            mean_at_zero = unit_mean(at_zero)
            for j in range(2):
                out[:, i, j] = mean_at_zero + unit_mean(mediator_mean[j] * step_up)
        elif spec.outcome_model == "probit":
            inflation = np.sqrt(1.0 + (slope * sigma[:, None]) ** 2)
            for j in range(2):
                out[:, i, j] = unit_mean(special.ndtr((eta_y + slope * mediator_mean[j]) / inflation))
        else:
            scale = slope * sigma[:, None]
            for j in range(2):
                out[:, i, j] = unit_mean(_logistic_normal_mean(eta_y + slope * mediator_mean[j], scale))
    return out


def _logistic_normal_mean(location: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """E[expit(location + scale Z)], Z ~ N(0, 1), elementwise; `scale` is one value per row (draw).

    Notes
    -----
    Small scales: Gauss-Hermite quadrature in Z (`_logistic_normal_mean_hermite`). Large scales: with L
    logistic, the split expit = step + remainder gives E = Phi(mu/s) + int_0^inf expit(-x) [phi((x + mu)/s) -
    phi((x - mu)/s)] / s dx, whose integrand is smooth on the scale of the logistic tail and suits
    Gauss-Laguerre quadrature (weight e^-x; `_logistic_normal_mean_laguerre`).
    """
    location = np.asarray(location, dtype=float)
    draws, _ = location.shape
    scale = np.abs(np.broadcast_to(np.asarray(scale, dtype=float), (draws, 1)))[:, 0]
    narrow = scale < _QUADRATURE_SWITCH
    if narrow.all():
        return _logistic_normal_mean_hermite(location, scale)
    result = np.empty_like(location)
    if narrow.any():
        result[narrow] = _logistic_normal_mean_hermite(location[narrow], scale[narrow])
    result[~narrow] = _logistic_normal_mean_laguerre(location[~narrow], scale[~narrow])
    return result


def _blocks(draws: int, n_units: int, n_nodes: int) -> list[tuple[slice, slice]]:
    """(draw rows, unit columns) blocks of at most about `_BLOCK_ELEMENTS` (draw, node, unit) values."""
    rows = max(1, _BLOCK_ELEMENTS // (n_nodes * n_units))
    columns = n_units if rows > 1 else max(1, min(n_units, _BLOCK_ELEMENTS // n_nodes))
    return [
        (slice(d, d + rows), slice(u, u + columns))
        for d in range(0, draws, rows)
        for u in range(0, n_units, columns)
    ]


def _logistic_normal_mean_hermite(location: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The Gauss-Hermite rule for scales below the switch, evaluated a pair of nodes +-z at a time.

    Notes
    -----
    With a = exp(-L) and c = 2 cosh(s z), expit(L + s z) + expit(L - s z) = (2 + a c) / (1 + a c + a^2) =
    (2 e^L + c) / (2 cosh L + c). For L <= 0 every term is positive and at most 1, so the pair costs two
    additions and a division, with no exponential per node and no cancellation (tail probabilities keep their
    relative accuracy); for L > 0 the symmetry expit(x) = 1 - expit(-x) gives the rule as the total weight
    minus its value at -L. The exponentials depend only on the unit (e^-|L|) or only on the draw (cosh s z).
    """
    draws, n_units = location.shape
    decay = np.exp(-np.abs(location))
    with np.errstate(divide="ignore", over="ignore"):
        two_cosh = decay + 1.0 / decay  # inf for |L| > 709, where the pair's value is 0 (below 1e-300)
    two_exp = 2.0 * decay
    node_terms = 2.0 * np.cosh(scale[:, None] * _PAIR_NODES)  # (draws, nodes)
    n_nodes = _PAIR_NODES.size
    lower_tail = np.empty((draws, n_units))
    denominators = np.empty(min(_BLOCK_ELEMENTS, draws * n_nodes * n_units))
    numerators = np.empty_like(denominators)
    for rows, columns in _blocks(draws, n_units, n_nodes):
        cosh_block = two_cosh[rows, columns]
        shape = (cosh_block.shape[0], n_nodes, cosh_block.shape[1])
        size = shape[0] * shape[1] * shape[2]
        denominator = denominators[:size].reshape(shape)
        numerator = numerators[:size].reshape(shape)
        terms = node_terms[rows, :, None]
        np.add(cosh_block[:, None, :], terms, out=denominator)
        np.add(two_exp[rows, None, columns], terms, out=numerator)
        np.divide(numerator, denominator, out=numerator)
        lower_tail[rows, columns] = _PAIR_WEIGHTS @ numerator
    return np.where(location > 0, _PAIR_WEIGHT_TOTAL - lower_tail, lower_tail)


def _logistic_normal_mean_laguerre(location: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The 64-node Gauss-Laguerre rule for scales at or above the switch (see `_logistic_normal_mean`)."""
    draws, n_units = location.shape
    nodes = _LAGUERRE_NODES / scale[:, None]  # (draws, nodes)
    shift = location / scale[:, None]  # (draws, units)
    n_nodes = _LAGUERRE_NODES.size
    remainder = np.empty((draws, n_units))
    above = np.empty(min(_BLOCK_ELEMENTS, draws * n_nodes * n_units))
    below = np.empty_like(above)
    for rows, columns in _blocks(draws, n_units, n_nodes):
        shift_block = shift[rows, None, columns]
        shape = (shift_block.shape[0], n_nodes, shift_block.shape[2])
        size = shape[0] * shape[1] * shape[2]
        plus = above[:size].reshape(shape)
        minus = below[:size].reshape(shape)
        np.add(nodes[rows, :, None], shift_block, out=plus)
        np.subtract(nodes[rows, :, None], shift_block, out=minus)
        for values in (plus, minus):
            np.square(values, out=values)
            np.multiply(values, -0.5, out=values)
            np.exp(values, out=values)
        np.subtract(plus, minus, out=plus)
        remainder[rows, columns] = _LAGUERRE_WEIGHTS @ plus
    return special.ndtr(shift) + remainder / (scale[:, None] * math.sqrt(2.0 * math.pi))


# ------------------------------------------------------------------------------------------------------------
# Batched refits for the bootstrap
# ------------------------------------------------------------------------------------------------------------


def _usable_resamples(design: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """False where a resample leaves a predictor without variation (e.g. a rare category never drawn)."""
    total = weights.sum(axis=1, keepdims=True)
    mean = weights @ design / total
    variance = weights @ (design * design) / total - mean * mean
    reference = np.var(design, axis=0)
    varying = reference > 0
    return np.all(variance[:, varying] > 1e-10 * reference[varying], axis=1)


def _refit(
    prepared: PreparedMediationData,
    spec: _Spec,
    fit_m: _FittedModel,
    fit_y: _FittedModel,
    weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Refit both models for every row of frequency `weights` (bootstrap counts or jackknife 0/1 weights).

    Returns mediator coefficients, mediator residual SDs (NaN for a binary mediator), outcome coefficients and
    a mask of rows where both fits succeeded and every predictor still varies.
    """
    design_m = prepared.mediator_design()
    design_y = prepared.outcome_design(spec.interaction)
    if spec.mediator_model == "linear":
        theta_m = batched_ols(design_m, prepared.m, weights)
        sigma_m = batched_residual_sd(design_m, prepared.m, weights, theta_m)
        ok_m = np.isfinite(sigma_m)
    else:
        theta_m, ok_m = batched_binary_glm(design_m, prepared.m, weights, spec.mediator_model, fit_m.params)
        sigma_m = np.full(weights.shape[0], np.nan)
    if spec.outcome_model == "linear":
        theta_y = batched_ols(design_y, prepared.y, weights)
        ok_y = np.all(np.isfinite(theta_y), axis=1)
    else:
        theta_y, ok_y = batched_binary_glm(design_y, prepared.y, weights, spec.outcome_model, fit_y.params)
    return theta_m, sigma_m, theta_y, _usable_resamples(design_y, weights) & ok_m & ok_y


# ------------------------------------------------------------------------------------------------------------
# Result
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CausalMediationResult(AnalysisResult):
    """Effects of a causal mediation analysis (Imai, Keele & Tingley 2010) with the fitted models.

    `effects` holds acme, ade, total, prop_mediated (averaged over the control and treated conditions) and the
    same per condition (acme_control, acme_treated, ade_control, ade_treated, prop_mediated_control,
    prop_mediated_treated). `draws` has one row per quasi-Bayesian draw or bootstrap resample and one column
    per effect; `mediator_model` and `outcome_model` are coefficient tables (estimate, se).
    """

    draws: pd.DataFrame | None = None
    mediator_model: pd.DataFrame | None = None
    outcome_model: pd.DataFrame | None = None

    title = "Causal mediation analysis"
    headline = ("acme", "ade", "total")

    def diagram(self, digits: int = 2) -> PathDiagram:
        """The fitted model as a `moclab.analysis.diagram.PathDiagram`.

        The X → M arrow carries the treatment coefficient of the mediator model and the M → Y arrow the
        mediator coefficient of the outcome model, each on its model's scale (linear, logit or probit; with
        an interaction, b is the mediator slope in the control condition); the X → Y arrow carries the ADE
        and the total effect, and the title the ACME with its interval, on the effect scale.
        """
        x, m, y = self.info.get("x", "x"), self.info.get("m", "m"), self.info.get("y", "y")
        paths = []
        for table, term, source, target, name, kind in (
            (self.mediator_model, x, x, m, "a", self.info.get("mediator_model")),
            (self.outcome_model, m, m, y, "b", self.info.get("outcome_model")),
        ):
            if table is None or term not in table.index:
                continue
            label = name if kind in (None, "linear") else f"{name} ({kind})"
            p = table.loc[term, "p"] if "p" in table.columns else None
            paths.append(PathEstimate(source, target, label, float(table.loc[term, "estimate"]), p))
        ade, total, acme = self.effect("ade"), self.effect("total"), self.effect("acme")
        stars = significance_stars(ade.p)
        direct = f"ADE = {ade.estimate:.{digits}f}{stars} (total = {total.estimate:.{digits}f})"
        nodes, edges = mediation_parts(x, [m], y, paths, direct=direct, digits=digits)
        title = (
            f"{self.title}: ACME = {acme.estimate:.{digits}f} [{acme.ci_low:.{digits}f}, "
            f"{acme.ci_high:.{digits}f}]\non the {self.info.get('scale', 'outcome scale')}; "
            f"n = {self.info.get('n')}"
        )
        return PathDiagram(tuple(nodes), tuple(edges), title=title, same_rank=((x, y),), figsize=(7.5, 3.5))

    def to_dot(self, digits: int = 2) -> str:
        """Graphviz DOT text of the path diagram (see `diagram`)."""
        return self.diagram(digits).to_dot()

    def plot(self, ax: Any = None, digits: int = 2) -> Any:
        """Draw the path diagram (see `diagram`) on a matplotlib Axes and return the Axes."""
        return self.diagram(digits).plot(ax)

    def summary(self) -> str:
        """Readable report: the effects table headed by the method, the effects' scale and n."""
        text = super().summary()
        head, _, rest = text.partition("\n")
        scale = self.info.get("scale", "")
        method = self.info.get("method", "")
        return f"{head} ({method}; effects on the {scale}, n = {self.info.get('n')})\n{rest}"


_EFFECTS: tuple[tuple[str, str], ...] = (
    ("acme", "indirect"),
    ("ade", "direct"),
    ("total", "total"),
    ("prop_mediated", "proportion"),
    ("acme_control", "indirect"),
    ("acme_treated", "indirect"),
    ("ade_control", "direct"),
    ("ade_treated", "direct"),
    ("prop_mediated_control", "proportion"),
    ("prop_mediated_treated", "proportion"),
)


def effects_from_means(q: np.ndarray) -> dict[str, np.ndarray]:
    """ACME, ADE, total effect and proportion mediated from potential-outcome means ``Q[:, t, t']``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        acme_control = q[:, 0, 1] - q[:, 0, 0]
        acme_treated = q[:, 1, 1] - q[:, 1, 0]
        ade_control = q[:, 1, 0] - q[:, 0, 0]
        ade_treated = q[:, 1, 1] - q[:, 0, 1]
        total = q[:, 1, 1] - q[:, 0, 0]
        acme = 0.5 * (acme_control + acme_treated)
        return {
            "acme": acme,
            "ade": 0.5 * (ade_control + ade_treated),
            "total": total,
            "prop_mediated": acme / total,
            "acme_control": acme_control,
            "acme_treated": acme_treated,
            "ade_control": ade_control,
            "ade_treated": ade_treated,
            "prop_mediated_control": acme_control / total,
            "prop_mediated_treated": acme_treated / total,
        }


def _simulation_p_value(draws: np.ndarray) -> float:
    """Two-sided p-value from draws: twice the smaller tail share beyond zero (as the mediation package)."""
    below = np.mean(draws < 0)
    above = np.mean(draws > 0)
    return float(min(1.0, 2.0 * min(below, above)))


# ------------------------------------------------------------------------------------------------------------
# Public entry point
# ------------------------------------------------------------------------------------------------------------


def mediate_glm(
    data: pd.DataFrame,
    *,
    x: str,
    m: str,
    y: str,
    covariates: Sequence[str] = (),
    mediator_model: ModelKind = "linear",
    outcome_model: ModelKind = "linear",
    interaction: bool = False,
    treat_value: float = 1.0,
    control_value: float = 0.0,
    ci: Literal["monte_carlo", "percentile", "bca"] = "monte_carlo",
    n_mc: int = 1000,
    n_boot: int = 1000,
    level: float = 0.95,
    robust_se: bool = False,
    missing: Literal["listwise", "raise"] = "listwise",
    seed: SeedLike = None,
) -> CausalMediationResult:
    """Causal mediation analysis with linear, logit or probit mediator and outcome models.

    Implements the general algorithm of Imai, Keele & Tingley (2010): fit the mediator model ``M ~ X + C`` and
    the outcome model ``Y ~ X + M (+ X:M) + C``, then compute the average causal mediation effect (ACME), the
    average direct effect (ADE) and the total effect by averaging predicted potential outcomes over the
    sample. With a binary outcome all effects are differences in probability ("probability scale"); with a
    continuous outcome they are in the outcome's units.

    Parameters
    ----------
    data : DataFrame with one row per unit.
    x : treatment (strategy) column; binary or continuous, numeric.
    m : mediator (mechanism) column.
    y : outcome column.
    covariates : pre-treatment covariates entered in both models; text/categorical columns become indicators
        (first level as reference).
    mediator_model, outcome_model : "linear" (OLS, normal errors), "logit" or "probit" (binary 0/1 variable).
    interaction : add the treatment-by-mediator product to the outcome model, so that ACME and ADE may differ
        between the control and treated conditions.
    treat_value, control_value : the two treatment values compared (for a continuous treatment, any two
        values).
    ci : "monte_carlo" (the quasi-Bayesian Monte Carlo approximation: draw the coefficients from their
        asymptotic normal distribution, percentile intervals of the draws; the R package mediation's default),
        or the nonparametric bootstrap (rows resampled, both models refitted) with "percentile" (the
        package's ``boot = TRUE``) or "bca" (bias-corrected and accelerated, the acceleration from a
        jackknife over rows; n more refits) intervals.
    n_mc : number of quasi-Bayesian Monte Carlo draws (``ci="monte_carlo"``; ``sims`` in R).
    n_boot : number of bootstrap resamples (``ci="percentile"`` or ``"bca"``; ``sims`` in R).
    level : confidence level of the intervals.
    robust_se : Monte Carlo draws from HC3 sandwich covariances instead of the model-based ones (as
        ``robustSE = TRUE`` in the R package mediation); ignored by the bootstrap.
    missing : "listwise" drops incomplete rows (reported in ``info["n_dropped"]`` and a warning); "raise"
        refuses.
    seed : seed or `numpy.random.Generator` for the draws.

    Returns
    -------
    CausalMediationResult
        effects acme, ade, total, prop_mediated and per condition (``*_control``, ``*_treated``); ``info`` has
        the scale, method, n, models and settings; ``draws`` the simulated effects.

    Raises
    ------
    DataError
        Missing columns, non-numeric or constant variables, a variable declared binary that is not 0/1,
        collinear predictors, separation or non-convergence of a logit/probit model.

    Notes
    -----
    For treatment values :math:`t_0` (control) and :math:`t_1` (treated), with :math:`t, t' \\in \\{t_0,
    t_1\\}`, the estimated potential-outcome means are

    .. math:: \\hat\\mu(t, t') = \\frac1n \\sum_i \\int E[Y \\mid X=t, M=m, C_i]\\, dF(m \\mid X=t', C_i)

    and ACME(t) = mu(t, t1) - mu(t, t0), ADE(t) = mu(t1, t) - mu(t0, t), total = mu(t1, t1) - mu(t0, t0) =
    ACME(t1) + ADE(t0), proportion mediated(t) = ACME(t) / total; the averaged effects are the means over
    t in {t0, t1} (Imai, Keele & Tingley 2010, Eqs. 1-3 and Algorithm 1). The integral over the mediator is
    done exactly (see `potential_outcome_means`) rather than by simulating mediator values; with a linear
    mediator and outcome and no interaction the ACME is exactly a*b.

    Point estimates are computed from the fitted coefficients. The quasi-Bayesian method (King, Tomz &
    Wittenberg 2000) draws both coefficient vectors from independent normals with the estimated covariances,
    keeping the mediator's residual standard deviation at its estimate as the R package does; intervals are
    percentiles of the draws, ``se`` their standard deviation and ``p`` twice the smaller tail share beyond
    zero. The mediation package reports the mean of the draws as the estimate (and the median for the
    proportion mediated) instead; the difference is within Monte Carlo error, and ``extra["draws_mean"]``
    (``extra["draws_median"]`` for proportions) holds the package's version. The bootstrap draws resample
    counts of the rows, refits both models for all resamples at once (batched least squares, or batched
    Fisher scoring for logit/probit) and averages the potential outcomes over each resample's units.

    References
    ----------
    Imai, K., Keele, L. & Tingley, D. (2010). A general approach to causal mediation analysis. Psychological
    Methods, 15(4), 309-334.
    Tingley, D., Yamamoto, T., Hirose, K., Keele, L. & Imai, K. (2014). mediation: R package for causal
    mediation analysis. Journal of Statistical Software, 59(5), 1-38.
    King, G., Tomz, M. & Wittenberg, J. (2000). Making the most of statistical analyses. American Journal of
    Political Science, 44(2), 347-361.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.integers(0, 2, 400)
    >>> m = 0.5 * x + rng.normal(size=400)
    >>> y = (rng.random(400) < 1 / (1 + np.exp(-(-0.5 + 0.4 * x + 0.8 * m)))).astype(int)
    >>> df = pd.DataFrame({"coaching": x, "trust": m, "adopted": y})
    >>> res = mediate_glm(df, x="coaching", m="trust", y="adopted", outcome_model="logit", n_mc=200, seed=2)
    >>> res.info["scale"]
    'probability scale'
    >>> round(res.effect("acme").estimate, 3)
    0.049
    """
    _arguments.choice("mediator_model", mediator_model, MODEL_KINDS)
    _arguments.choice("outcome_model", outcome_model, MODEL_KINDS)
    bootstrap = ci in ("percentile", "bca")
    _arguments.check(level=level, ci=ci, allowed_ci=CI_METHODS, seed=seed, missing=missing)
    if bootstrap:
        _arguments.check(n_boot=n_boot, min_boot=2)
    else:
        _arguments.check(n_mc=n_mc, min_mc=2)
    if treat_value == control_value:
        raise DataError(
            f"treat_value and control_value must differ (both are {treat_value!r})",
            hint="give the two values of the treatment to compare, e.g. treat_value=1, control_value=0",
        )

    prepared = prepare_mediation_data(
        data,
        x=x,
        m=m,
        y=y,
        covariates=covariates,
        mediator_model=mediator_model,
        outcome_model=outcome_model,
        missing=missing,
    )
    if interaction:
        _columns.check_full_rank(prepared.outcome_design(True), prepared.outcome_names(True), "outcome")
    notes: list[str] = list(prepared.notes)
    for value, label in ((treat_value, "treat_value"), (control_value, "control_value")):
        if not prepared.x.min() <= value <= prepared.x.max():
            notes.append(f"{label} = {value:g} lies outside the observed range of '{x}' (extrapolation)")

    spec = _Spec(mediator_model, outcome_model, interaction, float(control_value), float(treat_value))
    design_m = prepared.mediator_design()
    design_y = prepared.outcome_design(interaction)
    fit_m = _fit_model(
        mediator_model, prepared.m, design_m, prepared.mediator_names(), "mediator", m, robust_se
    )
    fit_y = _fit_model(
        outcome_model, prepared.y, design_y, prepared.outcome_names(interaction), "outcome", y, robust_se
    )
    point = effects_from_means(
        potential_outcome_means(fit_m.params, fit_y.params, fit_m.sigma, prepared.covariates, spec)
    )

    rng = as_generator(seed)
    jackknife: dict[str, np.ndarray] | None = None
    if not bootstrap:
        theta_m = rng.multivariate_normal(fit_m.params, fit_m.cov, size=n_mc)
        theta_y = rng.multivariate_normal(fit_y.params, fit_y.cov, size=n_mc)
        q = potential_outcome_means(theta_m, theta_y, fit_m.sigma, prepared.covariates, spec)
        n_failed = 0
    else:
        counts = bootstrap_counts(prepared.n, n_boot, rng)
        theta_m, sigma_m, theta_y, ok = _refit(prepared, spec, fit_m, fit_y, counts)
        n_failed = int((~ok).sum())
        if ok.sum() < 2:
            raise DataError(
                "almost no bootstrap resample could be refitted (separation or empty categories)",
                hint="use ci='monte_carlo' or simplify the models",
            )
        if n_failed:
            notes.append(
                f"{n_failed} of {n_boot} bootstrap resamples could not be refitted (separation, "
                "non-convergence or a category absent from the resample) and were left out"
            )
        q = potential_outcome_means(
            theta_m[ok], theta_y[ok], sigma_m[ok], prepared.covariates, spec, unit_weights=counts[ok]
        )
        if ci == "bca":
            leave_one_out = 1.0 - np.eye(prepared.n)
            jk_m, jk_sigma, jk_y, jk_ok = _refit(prepared, spec, fit_m, fit_y, leave_one_out)
            jk_q = np.full((prepared.n, 2, 2), np.nan)
            jk_q[jk_ok] = potential_outcome_means(
                jk_m[jk_ok], jk_y[jk_ok], jk_sigma[jk_ok], prepared.covariates, spec, leave_one_out[jk_ok]
            )
            jackknife = effects_from_means(jk_q)

    simulated = effects_from_means(q)
    scale = "probability scale" if outcome_model != "linear" else f"scale of '{y}' (difference in its units)"
    effects = []
    for name, kind in _EFFECTS:
        values = simulated[name]
        values = values[np.isfinite(values)]
        estimate = float(point[name][0])
        if jackknife is not None:
            low, high = bca_interval(values, estimate, jackknife[name], level=level)
        else:
            low, high = percentile_interval(values, level=level)
        extra: dict[str, Any] = {
            "scale": "ratio" if kind == "proportion" else scale,
            "draws_mean": float(values.mean()),
        }
        if kind == "proportion":
            extra["draws_median"] = float(np.median(values))
        effects.append(
            Effect(
                name=name,
                kind=kind,
                estimate=estimate,
                se=float(np.std(values, ddof=1)),
                ci_low=float(low),
                ci_high=float(high),
                p=_simulation_p_value(values),
                ci_method=ci,
                extra=extra,
            )
        )
    total = next(e for e in effects if e.name == "total")
    if total.ci_low is not None and total.ci_high is not None and total.ci_low <= 0 <= total.ci_high:
        notes.append("the total effect's interval includes zero, so the proportion mediated is unstable")

    info: dict[str, Any] = {
        "method": "nonparametric bootstrap" if bootstrap else "quasi-Bayesian Monte Carlo",
        "scale": scale,
        "n": prepared.n,
        "n_dropped": prepared.n_dropped,
        "x": x,
        "m": m,
        "y": y,
        "covariates": list(prepared.covariate_names),
        "mediator_model": mediator_model,
        "outcome_model": outcome_model,
        "interaction": interaction,
        "treat_value": float(treat_value),
        "control_value": float(control_value),
        "ci": ci,
        "n_mc": None if bootstrap else int(n_mc),
        "n_boot": int(n_boot) if bootstrap else None,
        "level": level,
        "robust_se": bool(robust_se) and not bootstrap,
        "n_failed_resamples": n_failed,
        "reference": "Imai, Keele & Tingley (2010), Psychological Methods 15(4):309-334",
    }
    draws = pd.DataFrame({name: simulated[name] for name, _ in _EFFECTS})
    return CausalMediationResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        draws=draws,
        mediator_model=fit_m.table,
        outcome_model=fit_y.table,
    )
