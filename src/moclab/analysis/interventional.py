"""Interventional direct and indirect effects for several mediators (Vansteelandt & Daniel 2017).

`interventional_effects` splits the effect of a strategy X on an outcome Y into an interventional direct
effect and an interventional indirect effect through a set of mediators M_1, ..., M_k, and the indirect effect
into each mediator's own interventional indirect effect plus the part carried by the mediators' mutual
dependence. An interventional effect compares outcomes when each mediator is set to a random draw from its
distribution under one exposure level or the other, instead of to each unit's own counterfactual value: the
effects stay identified when the mediators affect one another in an unknown order, share unmeasured causes, or
have a confounder L of their link to the outcome that the exposure itself affects (a post-exposure
confounder), where natural effects are not identified (VanderWeele, Vansteelandt & Robins 2014).

Estimation is parametric g-computation: fit models for the post-exposure confounders, the mediators and
the outcome, then average the predicted outcomes over the counterfactual confounders and mediators. With a
linear outcome model without mediator x mediator products that average depends on the counterfactual
variables only through their means, which have a closed form (exact, no draws) in the cases the docstring
of `interventional_effects` lists; otherwise the average is the Monte Carlo integration Vansteelandt &
Daniel describe, counterfactual confounders and mediators drawn for every row. Both are vectorized over
rows, draws and parameter vectors, and the percentile bootstrap refits every model on all resamples at once
(batched least squares and batched Fisher scoring from `moclab.analysis.bootstrap` and
`moclab.analysis.glm`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from moclab.analysis import _arguments, _columns
from moclab.analysis.binary import _check_binary, _fit_model, _usable_resamples
from moclab.analysis.bootstrap import (
    SeedLike,
    as_generator,
    batched_ols,
    batched_residual_sd,
    bootstrap_counts,
    iter_chunks,
)
from moclab.analysis.glm import batched_binary_glm
from moclab.analysis.intervals import percentile_interval
from moclab.analysis.results import AnalysisResult, Effect
from moclab.errors import DataError
from moclab.plain import plain

__all__ = ["InterventionalEffectsResult", "interventional_effects"]

OUTCOME_MODELS: tuple[str, ...] = ("linear", "logit")
INTEGRATIONS: tuple[str, ...] = ("auto", "closed form", "monte carlo")

#: Most leading 0/1 post-exposure confounders whose 2^b combinations of values the closed form sums over.
_MAX_SUMMED_BINARY = 10

#: Largest number of (parameter vector, row, draw) values of one simulated variable evaluated at once
#: (2 MB per array; the simulation holds a few dozen such arrays).
_BLOCK_ELEMENTS = 1 << 18

_REFERENCES = (
    "Vansteelandt & Daniel (2017), Epidemiology 28(2):258-265; "
    "VanderWeele, Vansteelandt & Robins (2014), Epidemiology 25(2):300-306"
)


# ------------------------------------------------------------------------------------------------------------
# Data and model layout
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    """Validated arrays (complete rows only): exposure (n,), mediators (n, k), outcome (n,), post-exposure
    confounders (n, r), baseline covariates (n, q)."""

    x: np.ndarray
    mediators: np.ndarray
    y: np.ndarray
    confounders: np.ndarray
    covariates: np.ndarray
    covariate_names: tuple[str, ...]
    n_dropped: int
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class _Spec:
    """Which columns each model has, in which order, and how the confounders and the outcome are modelled.

    Confounder j: [1, X, C, L_1..L_{j-1}]; mediators: [1, X, C, L]; outcome: [1, X, M_1..M_k, X*M_j (with
    `interaction`), M_i*M_j for i < j (with `mediator_interaction`), L, C].
    """

    x: str
    mediators: tuple[str, ...]
    y: str
    confounders: tuple[str, ...]
    covariate_names: tuple[str, ...]
    confounder_kinds: tuple[str, ...]
    outcome: str
    interaction: bool
    mediator_interaction: bool

    @property
    def k(self) -> int:
        return len(self.mediators)

    @property
    def r(self) -> int:
        return len(self.confounders)

    @property
    def q(self) -> int:
        return len(self.covariate_names)

    @property
    def pairs(self) -> list[tuple[int, int]]:
        if not self.mediator_interaction:
            return []
        return [(i, j) for i in range(self.k) for j in range(i + 1, self.k)]

    def confounder_names(self, j: int) -> list[str]:
        return ["const", self.x, *self.covariate_names, *self.confounders[:j]]

    def mediator_names(self) -> list[str]:
        return ["const", self.x, *self.covariate_names, *self.confounders]

    def outcome_names(self) -> list[str]:
        m = self.mediators
        return [
            "const",
            self.x,
            *m,
            *([f"{self.x}:{name}" for name in m] if self.interaction else []),
            *[f"{m[i]}:{m[j]}" for i, j in self.pairs],
            *self.confounders,
            *self.covariate_names,
        ]

    def confounder_design(self, data: _Data, j: int) -> np.ndarray:
        return np.column_stack([np.ones(data.n), data.x, data.covariates, data.confounders[:, :j]])

    def mediator_design(self, data: _Data) -> np.ndarray:
        return np.column_stack([np.ones(data.n), data.x, data.covariates, data.confounders])

    def outcome_design(self, data: _Data) -> np.ndarray:
        m = data.mediators
        products = [data.x[:, None] * m] if self.interaction else []
        pairs = [m[:, i] * m[:, j] for i, j in self.pairs]
        return np.column_stack(
            [np.ones(data.n), data.x, m, *products, *pairs, data.confounders, data.covariates]
        )


@dataclass(frozen=True)
class _Parameters:
    """Parameter vectors of all models, B at a time (the estimate is B = 1, the bootstrap one per resample).

    `confounder[j]` (B, 2 + q + j) and `confounder_sd[j]` (B,) (NaN for a logit model); `mediator` (B, 2 + q +
    r, k), the coefficients of the k mediator regressions side by side; `cholesky` (B, k, k), the lower
    Cholesky factor of the mediators' residual covariance; `outcome` (B, p).
    """

    confounder: tuple[np.ndarray, ...]
    confounder_sd: tuple[np.ndarray, ...]
    mediator: np.ndarray
    cholesky: np.ndarray
    outcome: np.ndarray

    def rows(self, index: np.ndarray | slice) -> _Parameters:
        return _Parameters(
            tuple(c[index] for c in self.confounder),
            tuple(s[index] for s in self.confounder_sd),
            self.mediator[index],
            self.cholesky[index],
            self.outcome[index],
        )


# ------------------------------------------------------------------------------------------------------------
# Monte Carlo g-computation
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Noise:
    """The standard normal draws behind every simulated variable, fixed for the whole analysis.

    `confounder` (k + 2, n, D, r): slot 0 gives the confounders that enter the outcome model, slot 1 + c those
    behind mediator copy c. `mediator` (k + 1, n, D, k): copy 0 is the joint draw of all mediators, copy 1 + j
    supplies mediator j's independent draw (with a single mediator, copy 0 serves both). The same numbers
    serve both exposure levels and every bootstrap resample (common random numbers): the effects are
    differences of means that share their draws, so their Monte Carlo error is far smaller than that of the
    means (with linear models it vanishes), and the bootstrap spread is that of the estimator, not of the
    simulation.
    """

    confounder: np.ndarray
    mediator: np.ndarray


def _draw_noise(n: int, n_draws: int, k: int, r: int, rng: np.random.Generator) -> _Noise:
    return _Noise(
        confounder=rng.standard_normal((k + 2, n, n_draws, r)),
        mediator=rng.standard_normal((k + 1, n, n_draws, k)),
    )


def _covariate_part(covariates: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """C gamma for every parameter vector: (B, n) from C (n, q) and gamma (B, q)."""
    return (covariates @ coefficients.T).T


def _draw_confounders(
    params: _Parameters, spec: _Spec, level: float, covariates: np.ndarray, z: np.ndarray
) -> np.ndarray:
    """Post-exposure confounders under X = `level`, (B, n, D, r), drawn in order from their models.

    A linear confounder is its mean plus sd z; a 0/1 confounder is 1 when Phi(z), a uniform draw, falls below
    its logistic probability.
    """
    q = spec.q
    shape = (params.outcome.shape[0], z.shape[0], z.shape[1], spec.r)
    values = np.empty(shape)
    for j in range(spec.r):
        coefficients = params.confounder[j]
        mean = (coefficients[:, 0] + coefficients[:, 1] * level)[:, None, None]
        mean = mean + _covariate_part(covariates, coefficients[:, 2 : 2 + q])[:, :, None]
        for i in range(j):  # loops over the few variables only: einsum is several times slower here
            mean = mean + coefficients[:, 2 + q + i, None, None] * values[..., i]
        if spec.confounder_kinds[j] == "linear":
            values[..., j] = mean + params.confounder_sd[j][:, None, None] * z[..., j]
        else:
            values[..., j] = special.ndtr(z[..., j]) < special.expit(mean)
    return values


def _mediator_mean(
    params: _Parameters, spec: _Spec, level: float, covariates: np.ndarray, confounders: np.ndarray
) -> np.ndarray:
    """E[M | X = level, L, C] for every parameter vector, row and draw: (B, n, D, k)."""
    q = spec.q
    beta = params.mediator
    mean = (beta[:, 0] + beta[:, 1] * level)[:, None, None, :]
    mean = mean + np.matmul(covariates, beta[:, 2 : 2 + q])[:, :, None, :]
    for i in range(spec.r):
        mean = mean + confounders[..., i, None] * beta[:, 2 + q + i, None, None, :]
    return mean


def _outcome_mean(
    params: _Parameters,
    spec: _Spec,
    level: float,
    mediators: np.ndarray,
    confounders: np.ndarray,
    covariates: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Average predicted outcome (B,) with X = `level`, the drawn mediators (B, n, D, k) and confounders (B,
    n, D, r): the mean over the draws of each row, then the weighted mean over the rows."""
    theta = params.outcome
    k, r, q = spec.k, spec.r, spec.q
    position = 2
    slope = theta[:, position : position + k]
    position += k
    if spec.interaction:
        slope = slope + level * theta[:, position : position + k]
        position += k
    covariate_part = _covariate_part(covariates, theta[:, theta.shape[1] - q :])  # C comes last
    eta = (theta[:, 0] + theta[:, 1] * level)[:, None, None] + covariate_part[:, :, None]
    for j in range(k):
        eta = eta + slope[:, j, None, None] * mediators[..., j]
    for i, j in spec.pairs:
        eta = eta + theta[:, position, None, None] * mediators[..., i] * mediators[..., j]
        position += 1
    for i in range(r):
        eta = eta + theta[:, position + i, None, None] * confounders[..., i]
    predicted = special.expit(eta) if spec.outcome == "logit" else eta
    return (weights * predicted.mean(axis=2)).sum(axis=1)


def _correlated(z: np.ndarray, cholesky: np.ndarray) -> np.ndarray:
    """Correlated normal draws (B, n, D, k): L z for every Cholesky factor L (B, k, k) and draw z (n, D, k).

    A loop over the k x k entries (a few) of broadcast products: faster here than einsum or a batched
    matmul of tiny matrices.
    """
    k = z.shape[-1]
    out = np.zeros((cholesky.shape[0], *z.shape))
    for i in range(k):
        for j in range(i + 1):
            out[..., i] += cholesky[:, i, j, None, None] * z[..., j]
    return out


def _potential_outcome_means(
    params: _Parameters,
    spec: _Spec,
    levels: tuple[float, float],
    covariates: np.ndarray,
    noise: _Noise,
    weights: np.ndarray,
) -> np.ndarray:
    """The k + 4 means the effects are differences of, (B, k + 4), for B parameter vectors at once.

    Columns: E{Y(a, G_M|a)}, E{Y(a, G_M|a*)}, E{Y(a*, G_M|a*)} (joint draws of all mediators), then
    E{Y(a, G_1|a, ..., G_t|a, G_t+1|a*, ..., G_k|a*)} for t = 0..k (independent draws from each mediator's
    own distribution, the first t at the exposed level). `weights` (B, n) sum to 1 over the rows (1/n, or
    the bootstrap counts over n). The confounders in the outcome model are drawn under the exposure level of
    Y; those behind each mediator draw under the mediator's level, independently of them (the identification
    formula of VanderWeele, Vansteelandt & Robins 2014 with L).
    """
    control, treat = levels
    k = spec.k
    out_confounders = {a: _draw_confounders(params, spec, a, covariates, noise.confounder[0]) for a in levels}
    # A single mediator's own distribution is the joint one: its independent draw is the joint draw, so
    # that its indirect effect equals the joint one and the dependence term is exactly 0.
    sources = [0] if k == 1 else list(range(1, k + 1))
    copies: dict[int, dict[float, np.ndarray]] = {}
    for c in [0, *sources]:
        spread = _correlated(noise.mediator[c], params.cholesky)
        copies[c] = {}
        for a in levels:
            drawn = _draw_confounders(params, spec, a, covariates, noise.confounder[1 + c])
            copies[c][a] = _mediator_mean(params, spec, a, covariates, drawn) + spread

    def mean(level: float, mediators: np.ndarray) -> np.ndarray:
        return _outcome_mean(params, spec, level, mediators, out_confounders[level], covariates, weights)

    columns = [
        mean(treat, copies[0][treat]),
        mean(treat, copies[0][control]),
        mean(control, copies[0][control]),
    ]
    for t in range(k + 1):
        mixed = np.stack([copies[sources[j]][treat if j < t else control][..., j] for j in range(k)], axis=-1)
        columns.append(mean(treat, mixed))
    return np.column_stack(columns)


def _means_in_blocks(
    params: _Parameters,
    spec: _Spec,
    levels: tuple[float, float],
    covariates: np.ndarray,
    noise: _Noise,
    weights: np.ndarray,
) -> np.ndarray:
    """`_potential_outcome_means` a few parameter vectors at a time, so the simulated arrays stay small."""
    n, n_draws = noise.mediator.shape[1:3]
    size = max(1, _BLOCK_ELEMENTS // (n * n_draws * max(spec.k, spec.r, 1)))
    total = params.outcome.shape[0]
    parts = [
        _potential_outcome_means(
            params.rows(slice(start, start + size)),
            spec,
            levels,
            covariates,
            noise,
            weights[start : start + size],
        )
        for start in range(0, total, size)
    ]
    return np.concatenate(parts)


def _effects_from_means(means: np.ndarray, k: int) -> np.ndarray:
    """Effects (B, k + 4) from the means of `_potential_outcome_means`: total, direct, indirect, the k
    mediators' own indirect effects, dependence.

    indirect[M_j] telescopes over the independent draws, so the k of them sum to E{Y(a, G_1|a, ..., G_k|a)}
    - E{Y(a, G_1|a*, ..., G_k|a*)}, and the dependence is what the joint draws add to that.
    """
    joint_11, joint_10, joint_00 = means[:, 0], means[:, 1], means[:, 2]
    independent = means[:, 3:]
    own = np.diff(independent, axis=1)
    indirect = joint_11 - joint_10
    dependence = indirect - own.sum(axis=1)
    return np.column_stack([joint_11 - joint_00, joint_10 - joint_00, indirect, own, dependence])


# ------------------------------------------------------------------------------------------------------------
# Closed form: the expectations of a linear outcome model
# ------------------------------------------------------------------------------------------------------------


def _monte_carlo_reason(spec: _Spec) -> str:
    """Why the potential-outcome means have no closed form under `spec` ("" when they have one).

    With a linear outcome model without mediator x mediator products the means depend on the drawn
    mediators and confounders only through their expectations, which are exact for linear confounder
    models and for 0/1 confounders whose models hold X, C and earlier 0/1 confounders only (summed over the
    combinations of those). The cases left are expectations of nonlinear functions of normal variables.
    """
    if spec.outcome == "logit":
        return "a logit outcome model (a logistic function of normal mediators has no closed-form mean)"
    if spec.mediator_interaction:
        return "mediator x mediator products in the outcome model (mediator_interaction=True)"
    kinds = spec.confounder_kinds
    first_continuous = kinds.index("linear") if "linear" in kinds else spec.r
    late = [spec.confounders[j] for j, kind in enumerate(kinds) if kind == "logit" and j > first_continuous]
    if late:
        return (
            f"the 0/1 confounder '{late[0]}' is modelled on an earlier continuous confounder (the mean of a "
            "logistic function of a normal variable has no closed form; list the 0/1 confounders first)"
        )
    leading = kinds.count("logit")
    if leading > _MAX_SUMMED_BINARY:
        return f"{leading} 0/1 confounders (over {_MAX_SUMMED_BINARY}: 2^{leading} combinations to sum over)"
    return ""


def _confounder_means(
    params: _Parameters,
    spec: _Spec,
    level: float,
    covariates: np.ndarray,
    weights: np.ndarray,
    covariate_means: np.ndarray,
) -> np.ndarray:
    """Weighted row means (B, r) of E[L_j | X = `level`, C], exactly; the 0/1 confounders come first.

    The probability of each combination of values of the 0/1 confounders is the product of their sequential
    logistic probabilities, so the mean of each is a sum over the combinations of the values of those before
    it, row by row (the logistic function does not commute with the row mean). A linear confounder's mean
    is its linear predictor at the means of C and of the confounders before it (linearity of expectation),
    which commutes with the row mean, so it needs no row-level array.
    """
    q = spec.q
    means = np.empty((params.outcome.shape[0], spec.r))
    combination_probability = np.ones((*weights.shape, 1))  # (B, n, combinations so far)
    combination_values = np.zeros((0, 1))  # (0/1 confounders so far, combinations so far)
    for j in range(spec.r):
        gamma = params.confounder[j]
        intercept = gamma[:, 0] + gamma[:, 1] * level
        earlier = gamma[:, 2 + q :]
        if spec.confounder_kinds[j] == "linear":
            means[:, j] = (
                intercept
                + np.einsum("bq,bq->b", covariate_means, gamma[:, 2 : 2 + q])
                + np.einsum("bi,bi->b", earlier, means[:, :j])
            )
            continue
        eta = (intercept[:, None] + _covariate_part(covariates, gamma[:, 2 : 2 + q]))[:, :, None]
        probability = special.expit(eta + (earlier @ combination_values)[:, None, :])
        means[:, j] = np.einsum("bn,bnc->b", weights, combination_probability * probability)
        if j + 1 < spec.r and spec.confounder_kinds[j + 1] == "logit":
            combination_probability = np.concatenate(
                [combination_probability * (1 - probability), combination_probability * probability], axis=2
            )
            width = combination_values.shape[1]
            combination_values = np.vstack(
                [np.hstack([combination_values] * 2), np.repeat([0.0, 1.0], width)[None]]
            )
    return means


def _closed_form_means(
    params: _Parameters,
    spec: _Spec,
    levels: tuple[float, float],
    covariates: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """The k + 4 means of `_potential_outcome_means`, (B, k + 4), as exact expectations (no draws).

    E{Y(a, G)} = theta_0 + theta_X a + sum_j (theta_Mj + a theta_XMj) E[M_j] + theta_L E[L | a, C] +
    theta_C C, averaged over the rows, where E[M_j] is mediator j's mean under the exposure level G draws it
    at: beta_0j + beta_Xj a' + beta_Cj C + beta_Lj E[L | a', C]. Everything but the 0/1 confounders' means is
    linear in C, so it is evaluated at the weighted mean of C. Joint and independent draws have the same
    means, so the joint and independent columns agree and the dependence term is exactly 0.
    """
    k, q, r = spec.k, spec.q, spec.r
    covariate_means = weights @ covariates  # (B, q)
    beta, theta = params.mediator, params.outcome
    confounder_means, mediator_means = {}, {}
    for a in levels:
        confounder_means[a] = _confounder_means(params, spec, a, covariates, weights, covariate_means)
        mediator_means[a] = (
            beta[:, 0]
            + a * beta[:, 1]
            + np.einsum("bq,bqk->bk", covariate_means, beta[:, 2 : 2 + q])
            + np.einsum("br,brk->bk", confounder_means[a], beta[:, 2 + q :])
        )
    position = 2 + k + (k if spec.interaction else 0)  # the confounders' coefficients, then C's

    def mean(level: float, mediator_levels: Sequence[float]) -> np.ndarray:
        slope = theta[:, 2 : 2 + k] + (level * theta[:, 2 + k : 2 + 2 * k] if spec.interaction else 0.0)
        shifted = np.column_stack([mediator_means[m][:, j] for j, m in enumerate(mediator_levels)])
        return (
            theta[:, 0]
            + level * theta[:, 1]
            + np.einsum("br,br->b", theta[:, position : position + r], confounder_means[level])
            + np.einsum("bq,bq->b", theta[:, position + r :], covariate_means)
            + np.einsum("bk,bk->b", slope, shifted)
        )

    control, treat = levels
    columns = [mean(treat, [treat] * k), mean(treat, [control] * k), mean(control, [control] * k)]
    columns += [mean(treat, [treat] * t + [control] * (k - t)) for t in range(k + 1)]
    return np.column_stack(columns)


def _closed_form_in_blocks(
    params: _Parameters,
    spec: _Spec,
    levels: tuple[float, float],
    covariates: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """`_closed_form_means` a few parameter vectors at a time where b 0/1 confounders need row-level arrays
    (B, n, 2^b); without them every array is (B, a few) and all go at once."""
    binary = spec.confounder_kinds.count("logit")
    total = params.outcome.shape[0]
    size = max(1, _BLOCK_ELEMENTS // (covariates.shape[0] * 2**binary)) if binary else max(total, 1)
    parts = [
        _closed_form_means(
            params.rows(slice(start, start + size)), spec, levels, covariates, weights[start : start + size]
        )
        for start in range(0, total, size)
    ]
    return np.concatenate(parts)


# ------------------------------------------------------------------------------------------------------------
# Fitting
# ------------------------------------------------------------------------------------------------------------


def _residual_cholesky(
    design: np.ndarray, mediators: np.ndarray, coefficients: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky factors (B, k, k) of the weighted residual covariances (divisor: weight - p) of the mediator
    regressions with coefficients (B, p, k), and which are positive definite."""
    residuals = mediators[None] - np.einsum("np,bpk->bnk", design, coefficients)
    covariance = np.einsum("bn,bni,bnj->bij", weights, residuals, residuals)
    covariance /= (weights.sum(axis=1) - design.shape[1])[:, None, None]
    sign, log_det = np.linalg.slogdet(covariance)
    ok = (sign > 0) & np.isfinite(log_det)
    covariance[~ok] = np.eye(mediators.shape[1])
    return np.linalg.cholesky(covariance), ok


def _fit_point(data: _Data, spec: _Spec) -> tuple[_Parameters, dict[str, Any]]:
    """Fit every model once (statsmodels, for the coefficient tables); the parameters as B = 1."""
    confounder, confounder_sd, confounder_tables = [], [], {}
    for j, name in enumerate(spec.confounders):
        kind = spec.confounder_kinds[j]
        fit = _fit_model(
            kind,
            data.confounders[:, j],
            spec.confounder_design(data, j),
            spec.confounder_names(j),
            "confounder",
            name,
            False,
        )
        confounder.append(fit.params[None])
        confounder_sd.append(np.array([fit.sigma]))
        confounder_tables[name] = fit.table
    design_m = spec.mediator_design(data)
    mediator_tables = {}
    columns = []
    for j, name in enumerate(spec.mediators):
        fit = _fit_model(
            "linear", data.mediators[:, j], design_m, spec.mediator_names(), "mediator", name, False
        )
        mediator_tables[name] = fit.table
        columns.append(fit.params)
    mediator = np.column_stack(columns)[None]
    cholesky, _ = _residual_cholesky(design_m, data.mediators, mediator, np.ones((1, data.n)))
    fit_y = _fit_model(
        spec.outcome, data.y, spec.outcome_design(data), spec.outcome_names(), "outcome", spec.y, False
    )
    params = _Parameters(tuple(confounder), tuple(confounder_sd), mediator, cholesky, fit_y.params[None])
    covariance = cholesky[0] @ cholesky[0].T
    tables = {
        "confounder_models": (
            pd.concat(confounder_tables, names=["model", "term"]) if confounder_tables else None
        ),
        "mediator_models": pd.concat(mediator_tables, names=["model", "term"]),
        "outcome_model": fit_y.table,
        "mediator_covariance": pd.DataFrame(
            covariance, index=list(spec.mediators), columns=list(spec.mediators)
        ),
    }
    return params, tables


def _refit(
    data: _Data, spec: _Spec, start: _Parameters, weights: np.ndarray, covariance: bool
) -> tuple[_Parameters, np.ndarray]:
    """Every model refitted for each row of frequency `weights` (B, n) at once, and which refits succeeded
    (every predictor still varies, every fit solvable and, for logit models, converged).

    Without `covariance` (the closed form, which uses the mediators' means only) the mediators' residual
    covariance, most of the cost of a linear refit, is not computed: its Cholesky factors are left NaN.
    """
    ok = _usable_resamples(spec.outcome_design(data), weights)
    confounder, confounder_sd = [], []
    for j in range(spec.r):
        design = spec.confounder_design(data, j)
        values = data.confounders[:, j]
        if spec.confounder_kinds[j] == "linear":
            coefficients = batched_ols(design, values, weights)
            sd = batched_residual_sd(design, values, weights, coefficients)
        else:
            coefficients, converged = batched_binary_glm(
                design, values, weights, "logit", start.confounder[j][0]
            )
            sd = np.full(weights.shape[0], np.nan)
            ok &= converged
        ok &= np.all(np.isfinite(coefficients), axis=1)
        confounder.append(coefficients)
        confounder_sd.append(sd)
    design_m = spec.mediator_design(data)
    mediator = batched_ols(design_m, data.mediators, weights)
    ok &= np.all(np.isfinite(mediator), axis=(1, 2))
    mediator = np.where(np.isfinite(mediator), mediator, start.mediator)
    if covariance:
        cholesky, positive = _residual_cholesky(design_m, data.mediators, mediator, weights)
        ok &= positive
    else:
        cholesky = np.full((weights.shape[0], spec.k, spec.k), np.nan)
    design_y = spec.outcome_design(data)
    if spec.outcome == "linear":
        outcome = batched_ols(design_y, data.y, weights)
    else:
        outcome, converged = batched_binary_glm(design_y, data.y, weights, "logit", start.outcome[0])
        ok &= converged
    ok &= np.all(np.isfinite(outcome), axis=1)
    params = _Parameters(tuple(confounder), tuple(confounder_sd), mediator, cholesky, outcome)
    return params.rows(ok), ok


# ------------------------------------------------------------------------------------------------------------
# Result
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class InterventionalEffectsResult(AnalysisResult):
    """Effects of `interventional_effects`, with the fitted models.

    Effects (differences in the outcome's units, or in probabilities for a 0/1 outcome): ``total`` (the
    interventional overall effect), ``direct``, ``indirect`` (through all mediators jointly), one
    ``indirect[M]`` per mediator M and ``dependence`` (the indirect effect through the mediators' mutual
    dependence), with total = direct + indirect and indirect = sum of indirect[M] + dependence.
    `confounder_models` and `mediator_models` are coefficient tables indexed by (model, term),
    `outcome_model` the outcome model's, `mediator_covariance` the mediators' residual covariance, `draws`
    the bootstrap effects (one column per effect) and `means` the potential-outcome means the effects are
    differences of.
    """

    confounder_models: pd.DataFrame | None = None
    mediator_models: pd.DataFrame | None = None
    outcome_model: pd.DataFrame | None = None
    mediator_covariance: pd.DataFrame | None = None
    means: pd.Series | None = None
    draws: pd.DataFrame | None = None

    title = "Interventional effects for several mediators"
    headline = ("total", "direct", "indirect")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        for name in ("confounder_models", "mediator_models", "outcome_model"):
            table = getattr(self, name)
            base[name] = None if table is None else plain(table.reset_index().to_dict(orient="records"))
        if self.mediator_covariance is not None:
            base["mediator_covariance"] = plain(self.mediator_covariance.to_dict())
        if self.means is not None:
            base["means"] = plain(self.means.to_dict())
        return base

    def summary(self) -> str:
        """Readable report: the contrast, the models, the effects, the decomposition and the warnings."""
        info = self.info
        control, treat = info["x_levels"]
        mediators = info["mediators"]
        lines = [f"{self.title} (Vansteelandt & Daniel 2017)"]
        lines.append(
            f"  exposure {info['x']}: a = {treat:g} vs a* = {control:g}; mediators {', '.join(mediators)} "
            f"(linear models, joint normal); outcome {info['y']} ({info['outcome_model']} model)"
        )
        if info["confounders"]:
            kinds = ", ".join(
                f"{c} ({kind})" for c, kind in zip(info["confounders"], info["confounder_kinds"], strict=True)
            )
            lines.append(f"  post-exposure confounders of mediators and outcome: {kinds}")
        if info["covariates"]:
            lines.append(f"  baseline covariates: {', '.join(info['covariates'])}")
        inference = (
            f"percentile bootstrap, {info['n_boot']} resamples"
            if info["n_boot"]
            else "no bootstrap (n_boot=0)"
        )
        integration = (
            "in closed form (exact expectations)"
            if info["integration"] == "closed form"
            else f"with {info['n_draws']} Monte Carlo draws per row"
        )
        lines.append(f"  n = {info['n']}; parametric g-computation {integration}; inference: {inference}")
        frame = self.to_frame()[["estimate", "se", "ci_low", "ci_high"]]
        scale = (
            "differences in probability"
            if info["outcome_model"] == "logit"
            else f"differences in {info['y']}"
        )
        lines += ["", f"Effects ({scale}):", frame.to_string(float_format=lambda v: f"{v:.4f}", na_rep="")]
        own = " + ".join(f"indirect[{m}]" for m in mediators)
        lines += ["", f"total = direct + indirect; indirect = {own} + dependence"]
        if self.warnings:
            lines += ["", *(f"warning: {w}" for w in self.warnings)]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------
# Public entry point
# ------------------------------------------------------------------------------------------------------------


def _names(argument: str, value: str | Sequence[str]) -> list[str]:
    names = [value] if isinstance(value, str) else list(value)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(
                f"{argument} lists '{name}' twice",
                hint=f"give each column once in {argument}",
            )
        seen.add(name)
    return names


def _levels(x_levels: Any) -> tuple[float, float]:
    if not isinstance(x_levels, list | tuple | np.ndarray) or np.ndim(x_levels) != 1 or len(x_levels) != 2:
        raise DataError(
            f"x_levels must be a pair (control, treated) of exposure values, not {x_levels!r}",
            hint="e.g. x_levels=(0, 1)",
        )
    control = _arguments.number("x_levels[0]", x_levels[0])
    treat = _arguments.number("x_levels[1]", x_levels[1])
    if control == treat:
        raise DataError(
            f"the two x_levels must differ (both are {x_levels[0]!r})",
            hint="give the control and the treated exposure values, e.g. x_levels=(0, 1)",
        )
    return control, treat


def _prepare(
    data: pd.DataFrame,
    x: str,
    mediators: list[str],
    y: str,
    covariates: list[str],
    confounders: list[str],
    outcome: str,
    missing: str,
) -> _Data:
    roles = [
        ("exposure x", x),
        *[("mediator", m) for m in mediators],
        ("outcome y", y),
        *[("covariate", c) for c in covariates],
        *[("post-exposure confounder", c) for c in confounders],
    ]
    _columns.check_columns(data, roles)
    frame, n_dropped, note = _columns.complete_rows(
        data[[x, *mediators, y, *covariates, *confounders]], missing=missing
    )
    x_values = _columns.numeric_values(frame[x], "exposure", x)
    y_values = _columns.numeric_values(frame[y], "outcome", y)
    m_values = np.column_stack([_columns.numeric_values(frame[m], "mediator", m) for m in mediators])
    l_values = np.empty((len(frame), len(confounders)))
    for j, name in enumerate(confounders):
        l_values[:, j] = _columns.numeric_values(frame[name], "post-exposure confounder", name)
    _columns.check_not_constant(x_values, "exposure", x)
    _columns.check_not_constant(y_values, "outcome", y)
    for j, name in enumerate(mediators):
        _columns.check_not_constant(m_values[:, j], "mediator", name)
    for j, name in enumerate(confounders):
        _columns.check_not_constant(l_values[:, j], "post-exposure confounder", name)
    if outcome == "logit":
        _check_binary(y_values, y, "outcome", "logit")
    covariate_columns = _columns.covariate_matrix(frame, covariates)
    return _Data(
        x=x_values,
        mediators=m_values,
        y=y_values,
        confounders=l_values,
        covariates=covariate_columns.matrix,
        covariate_names=tuple(covariate_columns.names),
        n_dropped=n_dropped,
        notes=(note,) if note else (),
    )


def _check_levels(values: np.ndarray, levels: tuple[float, float], x: str) -> list[str]:
    """A binary exposure must take both levels; a continuous one gets a note when a level is outside its
    range."""
    distinct = np.unique(values)
    if distinct.size == 2:
        for level in levels:
            if level not in distinct:
                shown = " and ".join(f"{v:g}" for v in distinct)
                raise DataError(
                    f"x_levels names {level:g}, but the exposure '{x}' takes only the values {shown}",
                    hint=f"use x_levels=({distinct[0]:g}, {distinct[1]:g})",
                )
        return []
    return [
        f"x_levels value {level:g} lies outside the observed range of '{x}' (extrapolation)"
        for level in levels
        if not distinct[0] <= level <= distinct[-1]
    ]


def interventional_effects(
    data: pd.DataFrame,
    *,
    x: str,
    mediators: Sequence[str],
    y: str,
    covariates: Sequence[str] = (),
    confounders: Sequence[str] = (),
    x_levels: tuple[float, float] = (0, 1),
    outcome: Literal["linear", "logit"] = "linear",
    interaction: bool = True,
    mediator_interaction: bool = False,
    n_boot: int = 1000,
    n_draws: int = 100,
    integration: Literal["auto", "closed form", "monte carlo"] = "auto",
    level: float = 0.95,
    missing: Literal["listwise", "raise"] = "listwise",
    seed: SeedLike = None,
) -> InterventionalEffectsResult:
    """Interventional direct effect, joint and per-mediator interventional indirect effects, and the
    indirect effect through the mediators' mutual dependence (Vansteelandt & Daniel 2017).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    x : str
        The exposure (strategy): binary, or a dose compared at two values.
    mediators : sequence of str
        The mediators (mechanisms), continuous, in the order in which their own indirect effects are taken
        (see Notes).
    y : str
        The outcome: continuous, or 0/1 with ``outcome="logit"``.
    covariates : sequence of str
        Baseline (pre-exposure) confounders, in every model; text columns become 0/1 indicators.
    confounders : sequence of str
        Post-exposure confounders L of the mediator-outcome link (affected by the exposure, affecting
        mediators and outcome), numeric; a 0/1 column gets a logistic model, any other a linear one. Each is
        modelled on X, C and the confounders listed before it.
    x_levels : (float, float)
        The control and treated exposure values (a*, a). For a binary exposure both must occur in the data.
    outcome : {"linear", "logit"}
        Linear regression or logistic regression of the outcome; with a logit model the effects are
        differences in probability (no rare-outcome approximation).
    interaction : bool
        Include the exposure x mediator products in the outcome model.
    mediator_interaction : bool
        Include the products of every pair of mediators in the outcome model.
    n_boot : int
        Bootstrap resamples (0: point estimates only, no intervals).
    n_draws : int
        Monte Carlo draws per row of every simulated confounder and mediator (unused in closed form).
    integration : {"auto", "closed form", "monte carlo"}
        How the potential-outcome means are computed: "auto" uses their closed form where it is exact (see
        Notes) and Monte Carlo integration otherwise; "closed form" refuses the cases without one;
        "monte carlo" simulates in every case (to check the closed form, say).
    level : float
        Confidence level.
    missing : {"listwise", "raise"}
        Drop incomplete rows (reported in the warnings) or refuse them.
    seed : int, numpy.random.Generator or None
        Randomness of the Monte Carlo draws and of the bootstrap.

    Returns
    -------
    InterventionalEffectsResult
        The effects ``total``, ``direct``, ``indirect``, ``indirect[M]`` for each mediator M and
        ``dependence``, with the fitted models and the potential-outcome means.

    Raises
    ------
    DataError
        A mediator listed twice or used in another role (as the outcome, say), unknown or non-numeric
        columns, a logit outcome that is not 0/1, x_levels that a binary exposure does not take, constant
        or collinear variables, too few complete rows, missing values with ``missing="raise"``, separation
        in a logit model, integration="closed form" where there is none (see Notes), invalid options.

    Notes
    -----
    Write a for the treated and a* for the control level, G_M|a' for a random draw from the joint
    distribution of all mediators given X = a' and C, and G_j|a' for an independent random draw from the
    distribution of mediator j alone given X = a' and C. The effects are those of Vansteelandt & Daniel
    (2017), extended in the same way to k mediators:

    .. math::

        \\text{total} &= E\\{Y(a, G_{M|a})\\} - E\\{Y(a^*, G_{M|a^*})\\} \\\\
        \\text{direct} &= E\\{Y(a, G_{M|a^*})\\} - E\\{Y(a^*, G_{M|a^*})\\} \\\\
        \\text{indirect} &= E\\{Y(a, G_{M|a})\\} - E\\{Y(a, G_{M|a^*})\\} \\\\
        \\text{indirect}[M_j] &= E\\{Y(a, G_{1|a}, .., G_{j-1|a}, G_{j|a}, G_{j+1|a^*}, .., G_{k|a^*})\\}
            - E\\{Y(a, G_{1|a}, .., G_{j-1|a}, G_{j|a^*}, G_{j+1|a^*}, .., G_{k|a^*})\\} \\\\
        \\text{dependence} &= \\text{indirect} - \\textstyle\\sum_j \\text{indirect}[M_j]

    indirect[M_j] shifts the distribution of M_j alone from its control to its treated distribution, the
    mediators before it already at their treated and those after it still at their control distributions,
    each drawn independently of the others; for two mediators these are the indirect effect via M1 (M2 drawn
    from its control distribution) and via M2 (M1 drawn from its treated distribution) of Vansteelandt &
    Daniel. As each mediator is drawn from its own distribution, a path X -> M_1 -> M_2 -> Y counts in
    indirect[M_2] (it shifts M_2's distribution), not in indirect[M_1]: no causal order among the mediators
    needs to be known. The k of them telescope to E{Y(a, G_1|a, ..., G_k|a)} - E{Y(a, G_1|a*, ...,
    G_k|a*)}, so the dependence term, their indirect effect via the mediators' mutual dependence, is the
    part of the joint indirect effect that comes from drawing the mediators together rather than
    independently. Two identities hold exactly (to rounding), on the estimate and on every bootstrap draw:

        total = direct + indirect,   indirect = sum_j indirect[M_j] + dependence.

    With a linear outcome model without mediator x mediator products the dependence is 0 (exactly, in
    closed form) and the order of the mediators does not matter: the outcome's mean is then linear in the
    mediators, joint and independent draws have the same means, so the joint and independent
    potential-outcome means coincide and the mediators' own indirect effects add up to the joint one,
    indirect[M_j] = (theta_Mj + a theta_XMj) (E[M_j | a] - E[M_j | a*]) averaged over the rows. With such
    products or a logit outcome the per-mediator effects can depend on the order (list the mediators in
    their presumed causal order, or compare both orders).

    Identification (VanderWeele, Vansteelandt & Robins 2014; Vansteelandt & Daniel 2017) requires no
    unmeasured confounding of exposure-outcome, exposure-mediator and mediator-outcome given C and L, and
    E{Y(a, G)} = E_C[ sum over l, m of E(Y | X = a, M = m, L = l, C) P(l | X = a, C) P_G(m | C) ], where
    P_G draws the mediators from their distribution given X = a', C, which averages over the confounders
    under a' (drawn independently of those under a). When post-exposure confounders are given, the overall
    effect `total` is the interventional analogue of the total effect: it breaks the dependence of the
    mediators on the unit's own confounders and differs from E{Y(a) - Y(a*)} when L affects both M and Y;
    without L (and with correct models) it equals the total effect.

    Estimation is the parametric g-formula. Each confounder has a linear (normal errors) or logistic model;
    the mediators have linear models on X, C and L with jointly normal errors (one multivariate regression:
    ordinary least squares per mediator and the residual covariance, divisor n - p). With linear models,
    sequential models M_j | M_1..M_j-1, X, L, C are the same model, the joint normal written through the
    Cholesky factor of the covariance, so modelling the joint distribution loses nothing against them and
    gives effects that do not depend on the order in which the mediators would be regressed on one another.

    Closed form (``integration="auto"`` where it is exact, the info's ``integration: "closed form"``). With
    a linear outcome model without mediator x mediator products, the potential-outcome means are

    .. math::

        E\\{Y(a, G)\\} = \\overline{\\theta_0 + \\theta_X a + \\textstyle\\sum_j (\\theta_{M_j} + a
            \\theta_{XM_j}) E_G[M_j \\mid C] + \\theta_L^\\top E[L \\mid a, C] + \\theta_C^\\top C},
        \\qquad E[M_j \\mid a', C] = \\beta_{0j} + \\beta_{Xj} a' + \\beta_{Cj}^\\top C +
            \\beta_{Lj}^\\top E[L \\mid a', C]

    (the bar: the average over the rows; a' the level G draws M_j at), so only the confounders' means are
    needed, and they are exact in these cases: a linear confounder's mean is its linear predictor at the
    means of the confounders before it, whatever their kind; a 0/1 confounder's mean is exact when its
    model holds X, C and earlier 0/1 confounders only, P(L_j = 1 | a, C) = sum over the values l of the
    earlier ones of expit(gamma' (1, a, C, l)) P(l | a, C), each P(l | a, C) a product of their own
    logistic probabilities (2^b terms for b leading 0/1 confounders; up to 10). So the closed form holds for
    a linear outcome, no mediator x mediator products, and every 0/1 confounder listed before every
    continuous one; the residual variances of the mediators and of the linear confounders do not enter.
    It has no Monte Carlo error and does not use `n_draws`. The other cases use Monte Carlo integration
    (``integration: "Monte Carlo (n_draws draws)"``): a logit outcome, or a 0/1 confounder modelled on a
    continuous one, needs the mean of a logistic function of normal variables, which has no closed form;
    mediator x mediator products need the mediators' second moments given C (their residual covariance and
    the covariance the confounders induce), which this closed form does not compute.

    Monte Carlo integration: for every row, `n_draws` values of L are drawn under each exposure level and,
    from them, the mediators (jointly for the joint terms; k + 1 independent copies for the independent
    draws); the outcome model's predictions (probabilities for a logit model) are averaged over the draws
    and then over the rows. The same standard normal numbers serve both exposure levels and every bootstrap
    resample (common random numbers), so the differences carry little Monte Carlo error: with linear models
    and no interactions the indirect effect of M_j is exactly a_j b_j and the direct effect exactly c' for
    any `n_draws`.

    Intervals are percentile bootstrap intervals: rows are resampled, every model is refitted on all
    resamples at once, and the effects are recomputed (in closed form, or with the same Monte Carlo
    draws), the rows weighted by how often they were drawn. Resamples that cannot be refitted (a category
    never drawn, separation) are left out and counted in a warning.

    References
    ----------
    Vansteelandt, S. & Daniel, R. M. (2017). Interventional effects for mediation analysis with multiple
    mediators. Epidemiology, 28(2), 258-265.
    VanderWeele, T. J., Vansteelandt, S. & Robins, J. M. (2014). Effect decomposition in the presence of an
    exposure-induced mediator-outcome confounder. Epidemiology, 25(2), 300-306.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> n = 2000
    >>> coaching = rng.integers(0, 2, n).astype(float)
    >>> trust = 0.5 * coaching + rng.normal(size=n)
    >>> climate = 0.3 * coaching + 0.4 * trust + rng.normal(size=n)
    >>> adoption = 0.2 * coaching + 0.4 * trust + 0.3 * climate + rng.normal(size=n)
    >>> df = pd.DataFrame({"coaching": coaching, "trust": trust, "climate": climate, "adoption": adoption})
    >>> res = interventional_effects(
    ...     df, x="coaching", mediators=["trust", "climate"], y="adoption", n_boot=0, seed=1
    ... )
    >>> effects = res.to_frame()["estimate"]
    >>> parts = effects[["indirect[trust]", "indirect[climate]", "dependence"]]
    >>> bool(abs(parts.sum() - effects["indirect"]) < 1e-12)
    True
    """
    data = _columns.data_frame(data)
    _arguments.choice("outcome", outcome, OUTCOME_MODELS)
    _arguments.choice("integration", integration, INTEGRATIONS)
    _arguments.check(level=level, n_boot=n_boot, boot_optional=True, seed=seed, missing=missing)
    if not (isinstance(n_draws, numbers.Integral) and not isinstance(n_draws, bool) and n_draws >= 1):
        raise DataError(
            f"n_draws (Monte Carlo draws per row) must be a whole number of at least 1, not {n_draws!r}",
            hint="100 is usual; more draws lower the Monte Carlo error",
        )
    mediator_names = _names("mediators", mediators)
    if not mediator_names:
        raise DataError("mediators is empty", hint="name at least one mediator column")
    covariate_names = _names("covariates", covariates)
    confounder_names = _names("confounders", confounders)
    levels = _levels(x_levels)

    prepared = _prepare(data, x, mediator_names, y, covariate_names, confounder_names, outcome, missing)
    kinds = tuple(
        "logit" if np.all(np.isin(prepared.confounders[:, j], (0.0, 1.0))) else "linear"
        for j in range(len(confounder_names))
    )
    spec = _Spec(
        x=x,
        mediators=tuple(mediator_names),
        y=y,
        confounders=tuple(confounder_names),
        covariate_names=prepared.covariate_names,
        confounder_kinds=kinds,
        outcome=outcome,
        interaction=bool(interaction),
        mediator_interaction=bool(mediator_interaction),
    )
    design_y = spec.outcome_design(prepared)
    _columns.check_enough_rows(prepared.n, design_y.shape[1])
    for j, name in enumerate(confounder_names):
        _columns.check_full_rank(
            spec.confounder_design(prepared, j), spec.confounder_names(j), f"confounder '{name}'"
        )
    _columns.check_full_rank(spec.mediator_design(prepared), spec.mediator_names(), "mediator")
    _columns.check_full_rank(design_y, spec.outcome_names(), "outcome")
    notes = [*prepared.notes, *_check_levels(prepared.x, levels, x)]
    reason = _monte_carlo_reason(spec)
    if integration == "closed form" and reason:
        raise DataError(
            f"integration='closed form' is not available with {reason}",
            hint="use integration='auto' (Monte Carlo integration where no closed form exists)",
        )
    closed_form = integration != "monte carlo" and not reason

    params, tables = _fit_point(prepared, spec)
    rng = as_generator(seed)
    covariates_matrix = prepared.covariates
    if closed_form:

        def potential_outcome_means(parameters: _Parameters, weights: np.ndarray) -> np.ndarray:
            return _closed_form_in_blocks(parameters, spec, levels, covariates_matrix, weights)

    else:
        noise = _draw_noise(prepared.n, int(n_draws), spec.k, spec.r, rng)

        def potential_outcome_means(parameters: _Parameters, weights: np.ndarray) -> np.ndarray:
            return _means_in_blocks(parameters, spec, levels, covariates_matrix, noise, weights)

    point_means = potential_outcome_means(params, np.full((1, prepared.n), 1.0 / prepared.n))
    point = _effects_from_means(point_means, spec.k)[0]

    names = ["total", "direct", "indirect", *[f"indirect[{m}]" for m in mediator_names], "dependence"]
    kinds_of_effects = ["total", "direct", "indirect", *["indirect_mediator"] * spec.k, "dependence"]
    draws: pd.DataFrame | None = None
    n_failed = 0
    if n_boot:
        parts = []
        for size in iter_chunks(n_boot, prepared.n):
            counts = bootstrap_counts(prepared.n, size, rng)
            refitted, ok = _refit(prepared, spec, params, counts, covariance=not closed_form)
            n_failed += int((~ok).sum())
            if ok.any():
                means = potential_outcome_means(refitted, counts[ok] / prepared.n)
                parts.append(_effects_from_means(means, spec.k))
        if sum(len(p) for p in parts) < 2:
            raise DataError(
                "almost no bootstrap resample could be refitted (separation or empty categories)",
                hint="simplify the models, or use n_boot=0 for point estimates only",
            )
        draws = pd.DataFrame(np.concatenate(parts), columns=names)
        if n_failed:
            notes.append(
                f"{n_failed} of {n_boot} bootstrap resamples could not be refitted (separation, "
                "non-convergence or a category absent from the resample) and were left out"
            )

    scale = "difference in probability" if outcome == "logit" else f"difference in '{y}'"
    effects = []
    for j, (name, kind) in enumerate(zip(names, kinds_of_effects, strict=True)):
        estimate = float(point[j])
        if draws is None:
            effects.append(Effect(name, kind, estimate, extra={"scale": scale}))
            continue
        values = draws[name].to_numpy()
        low, high = percentile_interval(values, level=level)
        effects.append(
            Effect(
                name,
                kind,
                estimate,
                float(np.std(values, ddof=1)),
                float(low),
                float(high),
                None,
                ci_method="percentile",
                extra={"scale": scale},
            )
        )

    control, treat = levels
    mean_labels = [
        f"E[Y({treat:g}, G_M|{treat:g})]",
        f"E[Y({treat:g}, G_M|{control:g})]",
        f"E[Y({control:g}, G_M|{control:g})]",
        *[
            f"E[Y({treat:g}, independent: {', '.join(mediator_names[:t]) or 'none'} at {treat:g})]"
            for t in range(spec.k + 1)
        ],
    ]
    info: dict[str, Any] = {
        "method": f"parametric g-computation ({'closed form' if closed_form else 'Monte Carlo'})"
        + (", percentile bootstrap" if n_boot else ", no bootstrap"),
        "integration": "closed form" if closed_form else f"Monte Carlo ({int(n_draws)} draws)",
        "scale": scale,
        "n": prepared.n,
        "n_dropped": prepared.n_dropped,
        "x": x,
        "mediators": mediator_names,
        "y": y,
        "covariates": list(prepared.covariate_names),
        "confounders": confounder_names,
        "confounder_kinds": list(kinds),
        "mediator_model": "linear, jointly normal errors",
        "outcome_model": outcome,
        "interaction": bool(interaction),
        "mediator_interaction": bool(mediator_interaction),
        "x_levels": [control, treat],
        "n_draws": None if closed_form else int(n_draws),
        "n_boot": int(n_boot),
        "n_failed_resamples": n_failed,
        "level": level,
        "identity": "total = direct + indirect; indirect = sum of indirect[m] + dependence",
        "reference": _REFERENCES,
    }
    return InterventionalEffectsResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        means=pd.Series(point_means[0], index=mean_labels, name="mean"),
        draws=draws,
        **tables,
    )
