"""Natural direct and indirect effects with an exposure-mediator interaction, and the four-way decomposition.

`mediate_interaction` fits the regression-based model of Valeri & VanderWeele (2013): a linear mediator model
``M = b0 + b1 X + b2'C + e`` and an outcome model with the product of exposure and mediator,
``g(E[Y | X, M, C]) = t0 + t1 X + t2 M + t3 X M + t4'C`` with g the identity (continuous outcome) or the logit
(binary outcome), and turns the coefficients into closed-form effects: the controlled direct effect at a
mediator level m*, the natural direct and indirect effects, the total effect, the proportion mediated and the
four-way decomposition of VanderWeele (2014) into the controlled direct effect, the reference interaction, the
mediated interaction and the pure indirect effect. A binary outcome gives odds ratios, and the four components
on the excess-relative-risk scale, both under the rare-outcome approximation.

Standard errors come from the delta method (the gradient of every effect is written out from the gradients of
two building blocks, see `mediate_interaction`'s Notes) or from the nonparametric bootstrap, which refits both
models on all resamples at once (one batched cross-product matrix per resample with a linear outcome,
`moclab.analysis.binary`'s batched Fisher scoring with a logit one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from moclab.analysis import _arguments, _columns
from moclab.analysis.binary import (
    PreparedMediationData,
    _fit_model,
    _refit,
    _Spec,
    prepare_mediation_data,
)
from moclab.analysis.bootstrap import (
    SeedLike,
    as_generator,
    bootstrap_counts,
    bootstrap_regressions,
    iter_chunks,
)
from moclab.analysis.intervals import percentile_interval
from moclab.analysis.results import AnalysisResult, Effect
from moclab.errors import DataError, did_you_mean
from moclab.plain import plain

__all__ = ["InteractionMediationResult", "mediate_interaction"]

OUTCOME_MODELS: tuple[str, ...] = ("linear", "logit")
MEDIATOR_MODELS: tuple[str, ...] = ("linear",)
CI_METHODS: tuple[str, ...] = ("delta", "percentile")

#: Above this outcome prevalence the odds ratio no longer approximates the risk ratio well, and the closed
#: forms for a binary outcome (which take the logit link for a log link) are biased.
RARE_OUTCOME_PREVALENCE = 0.10

_REFERENCES = (
    "Valeri & VanderWeele (2013), Psychological Methods 18(2):137-150; "
    "VanderWeele (2014), Epidemiology 25(5):749-761"
)


# ------------------------------------------------------------------------------------------------------------
# Quantities with their gradients
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    """Values of a quantity, one per parameter vector (B,), and at the estimate its gradient (B, P).

    The bootstrap evaluates the formulas for thousands of parameter vectors without gradients (None); the
    delta method evaluates them once with gradients. The arithmetic below carries the gradients by the
    chain rule, so each effect is written once.
    """

    value: np.ndarray
    gradient: np.ndarray | None

    def __add__(self, other: _Term | float) -> _Term:
        if isinstance(other, _Term):
            gradient = None if self.gradient is None else self.gradient + other.gradient
            return _Term(self.value + other.value, gradient)
        return _Term(self.value + other, self.gradient)

    def __sub__(self, other: _Term | float) -> _Term:
        if isinstance(other, _Term):
            gradient = None if self.gradient is None else self.gradient - other.gradient
            return _Term(self.value - other.value, gradient)
        return _Term(self.value - other, self.gradient)

    def __mul__(self, other: _Term | float) -> _Term:
        if not isinstance(other, _Term):
            return _Term(self.value * other, None if self.gradient is None else self.gradient * other)
        gradient = None
        if self.gradient is not None:
            gradient = self.gradient * other.value[:, None] + other.gradient * self.value[:, None]
        return _Term(self.value * other.value, gradient)

    def __truediv__(self, other: _Term) -> _Term:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = self.value / other.value
            gradient = None
            if self.gradient is not None:
                # d(u / v) = (du - (u / v) dv) / v
                gradient = (self.gradient - value[:, None] * other.gradient) / other.value[:, None]
        return _Term(value, gradient)

    def exp(self) -> _Term:
        value = np.exp(self.value)
        gradient = None if self.gradient is None else value[:, None] * self.gradient
        return _Term(value, gradient)


@dataclass(frozen=True)
class _Layout:
    """Positions in the parameter vector phi = (beta, theta, sigma^2) and the contrast evaluated.

    beta = (b0, b1, b2'): mediator model (intercept, exposure, covariates); theta = (t0, t1, t2, t3, t4'):
    outcome model (intercept, exposure, mediator, exposure x mediator, covariates); sigma^2: the residual
    variance of the mediator model. Without an interaction t3 stays in the vector, fixed at 0 with variance 0.
    """

    n_covariates: int
    treat: float  # a
    control: float  # a*
    m_star: float
    covariate_values: np.ndarray  # c
    log_normal_term: bool  # the 1/2 (t2 + t3 a)^2 sigma^2 of a log-linear (rare binary) outcome

    @property
    def n_mediator(self) -> int:
        return 2 + self.n_covariates

    @property
    def n_outcome(self) -> int:
        return 4 + self.n_covariates

    @property
    def size(self) -> int:
        return self.n_mediator + self.n_outcome + 1

    def theta(self, j: int) -> int:
        return self.n_mediator + j

    @property
    def sigma2(self) -> int:
        return self.size - 1


def _parameter(phi: np.ndarray, index: int, gradient: bool) -> _Term:
    """One entry of phi as a quantity (its gradient is the unit vector)."""
    grad = None
    if gradient:
        grad = np.zeros_like(phi)
        grad[:, index] = 1.0
    return _Term(phi[:, index], grad)


def _mediator_mean(phi: np.ndarray, layout: _Layout, exposure: float, gradient: bool) -> _Term:
    """E[M | X = exposure, C = c] = b0 + b1 exposure + b2'c."""
    c = layout.covariate_values
    value = phi[:, 0] + exposure * phi[:, 1] + phi[:, 2 : layout.n_mediator] @ c
    grad = None
    if gradient:
        grad = np.zeros_like(phi)
        grad[:, 0] = 1.0
        grad[:, 1] = exposure
        grad[:, 2 : layout.n_mediator] = c
    return _Term(value, grad)


def _natural_mean(
    phi: np.ndarray, layout: _Layout, exposure: float, mediator_exposure: float, gradient: bool
) -> _Term:
    """L(a, a') = t1 a + (t2 + t3 a) E[M | a', c] (+ 1/2 (t2 + t3 a)^2 sigma^2 for a log-linear outcome).

    For a linear outcome, E[Y(a, M(a')) | c] = t0 + t4'c + L(a, a'); for a rare binary outcome with logit link
    (read as a log link), log P(Y(a, M(a')) = 1 | c) = t0 + t4'c + L(a, a'), the sigma^2 term coming from the
    mean of exp((t2 + t3 a) M) over the normal mediator (Valeri & VanderWeele 2013, Appendix).
    """
    t1, t2, t3 = phi[:, layout.theta(1)], phi[:, layout.theta(2)], phi[:, layout.theta(3)]
    sigma2 = phi[:, layout.sigma2]
    mean = _mediator_mean(phi, layout, mediator_exposure, gradient)
    slope = t2 + t3 * exposure  # effect of the mediator on the outcome's scale at this exposure
    half = 0.5 if layout.log_normal_term else 0.0
    value = t1 * exposure + slope * mean.value + half * slope * slope * sigma2
    grad = None
    if gradient:
        grad = slope[:, None] * mean.gradient  # through E[M | a', c]: only the beta entries
        grad[:, layout.theta(1)] = exposure
        grad[:, layout.theta(2)] = mean.value + 2 * half * slope * sigma2
        grad[:, layout.theta(3)] = exposure * (mean.value + 2 * half * slope * sigma2)
        grad[:, layout.sigma2] = half * slope * slope
    return _Term(value, grad)


def _controlled_mean(phi: np.ndarray, layout: _Layout, exposure: float, gradient: bool) -> _Term:
    """K(a, m*) = t1 a + t2 m* + t3 a m*: the outcome's linear predictor at X = a, M = m* (less t0 + t4'c)."""
    m = layout.m_star
    value = (
        phi[:, layout.theta(1)] * exposure
        + phi[:, layout.theta(2)] * m
        + phi[:, layout.theta(3)] * exposure * m
    )
    grad = None
    if gradient:
        grad = np.zeros_like(phi)
        grad[:, layout.theta(1)] = exposure
        grad[:, layout.theta(2)] = m
        grad[:, layout.theta(3)] = exposure * m
    return _Term(value, grad)


#: (name, kind) of every effect, in the order of the result; the ``or_*`` effects are odds ratios, computed
#: (with their intervals) as log odds ratios and exponentiated.
_LINEAR_EFFECTS: tuple[tuple[str, str], ...] = (
    ("cde", "direct"),
    ("nde", "direct"),
    ("nie", "indirect"),
    ("total", "total"),
    ("prop_mediated", "proportion"),
    ("int_ref", "interaction"),
    ("int_med", "interaction"),
    ("pie", "indirect"),
    ("prop_cde", "proportion"),
    ("prop_int_ref", "proportion"),
    ("prop_int_med", "proportion"),
    ("prop_pie", "proportion"),
    ("prop_eliminated", "proportion"),
    ("prop_interaction", "proportion"),
)
_LOGIT_EFFECTS: tuple[tuple[str, str], ...] = (
    ("or_cde", "direct"),
    ("or_nde", "direct"),
    ("or_nie", "indirect"),
    ("or_total", "total"),
    ("prop_mediated", "proportion"),
    ("err_cde", "direct"),
    ("err_int_ref", "interaction"),
    ("err_int_med", "interaction"),
    ("err_pie", "indirect"),
    ("err_total", "total"),
    ("prop_cde", "proportion"),
    ("prop_int_ref", "proportion"),
    ("prop_int_med", "proportion"),
    ("prop_pie", "proportion"),
    ("prop_eliminated", "proportion"),
    ("prop_interaction", "proportion"),
)


def _effect_terms(phi: np.ndarray, layout: _Layout, gradient: bool = False) -> dict[str, _Term]:
    """Every effect for each row of `phi` (B, P): the closed forms of Valeri & VanderWeele (2013) and
    VanderWeele (2014) as differences of L(a, a') and K(a, m*) (see `mediate_interaction`, Notes).

    For a binary outcome the odds ratios come back as log odds ratios (named ``or_*`` all the same); the
    caller exponentiates them.
    """
    phi = np.atleast_2d(np.asarray(phi, dtype=np.float64))
    a, a_star = layout.treat, layout.control
    l11 = _natural_mean(phi, layout, a, a, gradient)
    l10 = _natural_mean(phi, layout, a, a_star, gradient)
    l01 = _natural_mean(phi, layout, a_star, a, gradient)
    l00 = _natural_mean(phi, layout, a_star, a_star, gradient)
    k1 = _controlled_mean(phi, layout, a, gradient)
    k0 = _controlled_mean(phi, layout, a_star, gradient)
    if not layout.log_normal_term:
        cde = k1 - k0
        nde = l10 - l00
        nie = l11 - l10
        total = l11 - l00
        pie = l01 - l00
        # The interaction components written as multiples of t3 (VanderWeele 2014, Appendix), so that they
        # are exactly 0, with a zero standard error, in a model without the interaction.
        t3 = _parameter(phi, layout.theta(3), gradient)
        mean_star = _mediator_mean(phi, layout, a_star, gradient)
        int_med = t3 * _parameter(phi, 1, gradient) * ((a - a_star) ** 2)
        int_ref = t3 * (mean_star - layout.m_star) * (a - a_star)
        return {
            "cde": cde,
            "nde": nde,
            "nie": nie,
            "total": total,
            "prop_mediated": nie / total,
            "int_ref": int_ref,
            "int_med": int_med,
            "pie": pie,
            **_proportions(cde, int_ref, int_med, pie, total),
        }
    # Ratios to the baseline risk P(Y(a*, M(a*)) = 1 | c), on which t0 + t4'c cancels.
    r10, r01, r11 = (l10 - l00).exp(), (l01 - l00).exp(), (l11 - l00).exp()
    err_cde = (k1 - l00).exp() - (k0 - l00).exp()
    err_int_ref = r10 - 1.0 - err_cde
    err_int_med = r11 - r10 - r01 + 1.0
    err_pie = r01 - 1.0
    err_total = r11 - 1.0
    return {
        "or_cde": k1 - k0,
        "or_nde": l10 - l00,
        "or_nie": l11 - l10,
        "or_total": l11 - l00,
        "prop_mediated": (err_pie + err_int_med) / err_total,
        "err_cde": err_cde,
        "err_int_ref": err_int_ref,
        "err_int_med": err_int_med,
        "err_pie": err_pie,
        "err_total": err_total,
        **_proportions(err_cde, err_int_ref, err_int_med, err_pie, err_total),
    }


def _proportions(cde: _Term, int_ref: _Term, int_med: _Term, pie: _Term, total: _Term) -> dict[str, _Term]:
    """The shares of the four-way decomposition and its three overall proportions (VanderWeele 2014)."""
    return {
        "prop_cde": cde / total,
        "prop_int_ref": int_ref / total,
        "prop_int_med": int_med / total,
        "prop_pie": pie / total,
        "prop_eliminated": (int_ref + int_med + pie) / total,
        "prop_interaction": (int_ref + int_med) / total,
    }


# ------------------------------------------------------------------------------------------------------------
# Result
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class InteractionMediationResult(AnalysisResult):
    """Effects of `mediate_interaction`: natural effects with an exposure-mediator interaction and the
    four-way decomposition, with the two fitted models.

    With a continuous outcome the effects are differences in the outcome's units: ``cde``, ``nde``, ``nie``,
    ``total``, ``prop_mediated`` and the four components ``cde``, ``int_ref``, ``int_med``, ``pie`` with
    their shares ``prop_cde``, ``prop_int_ref``, ``prop_int_med``, ``prop_pie`` and the overall
    ``prop_eliminated`` and ``prop_interaction``. With a binary outcome the natural effects are odds ratios
    (``or_cde``, ``or_nde``, ``or_nie``, ``or_total``; ``se`` is the standard error of the log odds ratio)
    and the components excess relative risks (``err_cde``, ``err_int_ref``, ``err_int_med``, ``err_pie``,
    summing to ``err_total``). `mediator_model` and `outcome_model` are the coefficient tables; `draws` the
    bootstrap effects (``ci="percentile"``; odds ratios on the log scale).
    """

    mediator_model: pd.DataFrame | None = None
    outcome_model: pd.DataFrame | None = None
    draws: pd.DataFrame | None = None

    title = "Mediation with exposure-mediator interaction"
    headline = ("nde", "nie", "total", "or_nde", "or_nie", "or_total")

    def headline_effects(self) -> list[Effect]:
        """The natural direct and indirect and the total effect (odds ratios for a binary outcome)."""
        return [e for name in self.headline for e in self.effects if e.name == name]

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        for name in ("mediator_model", "outcome_model"):
            table = getattr(self, name)
            base[name] = None if table is None else plain(table.reset_index().to_dict(orient="records"))
        return base

    def summary(self) -> str:
        """Readable report: the contrast, the natural effects, the four-way decomposition and the warnings."""
        info = self.info
        binary = info.get("outcome_model") == "logit"
        lines = [f"{self.title} (Valeri & VanderWeele 2013; four-way decomposition, VanderWeele 2014)"]
        contrast = f"a = {info.get('treat_value'):g} vs a* = {info.get('control_value'):g}"
        lines.append(
            f"  exposure {info.get('x')}: {contrast}; mediator {info.get('m')} (linear model), "
            f"CDE at m* = {info.get('m_star'):.4g}"
        )
        outcome = (
            "logit model; odds ratios under the rare-outcome approximation" if binary else "linear model"
        )
        lines.append(f"  outcome {info.get('y')} ({outcome})")
        if info.get("c_values"):
            held = ", ".join(f"{k} = {v:.4g}" for k, v in info["c_values"].items())
            lines.append(f"  covariates held at: {held}")
        interaction = "with" if info.get("interaction") else "without"
        lines.append(
            f"  n = {info.get('n')}; outcome model {interaction} the exposure x mediator term; "
            f"inference: {info.get('method')}"
        )
        frame = self.to_frame()[["estimate", "se", "ci_low", "ci_high", "p"]]
        natural = [
            n
            for n in ("cde", "nde", "nie", "total", "or_cde", "or_nde", "or_nie", "or_total")
            if n in frame.index
        ]
        natural.append("prop_mediated")
        four_way = [n for n in frame.index if n not in natural]
        if not binary:
            four_way.insert(0, "cde")  # the first of the four components

        def table(names: list[str]) -> str:
            return frame.loc[names].to_string(float_format=lambda v: f"{v:.4f}", na_rep="")

        scale = "odds ratios; se of the log odds ratio" if binary else f"differences in {info.get('y')}"
        lines += ["", f"Natural effects ({scale}):", table(natural)]
        scale = "excess relative risks" if binary else f"differences in {info.get('y')}"
        lines += ["", f"Four-way decomposition ({scale}):", table(four_way)]
        if self.warnings:
            lines += ["", *(f"warning: {w}" for w in self.warnings)]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------
# Public entry point
# ------------------------------------------------------------------------------------------------------------


def _covariate_values(
    names: Sequence[str], columns: np.ndarray, given: Mapping[str, Any] | None
) -> np.ndarray:
    values = columns.mean(axis=0) if columns.shape[1] else np.empty(0)
    for key, value in (given or {}).items():
        if key not in names:
            hint = did_you_mean(str(key), list(names)) if names else "the model has no covariates"
            raise DataError(
                f"c_values names '{key}', which is not a covariate column of the models",
                hint=hint or f"the covariate columns are: {', '.join(names)}",
            )
        values[list(names).index(key)] = _arguments.number(f"c_values['{key}']", value)
    return values


def _parameters(beta: np.ndarray, theta: np.ndarray, sigma2: np.ndarray, interaction: bool) -> np.ndarray:
    """phi rows (B, P) from the models' coefficients; without an interaction t3 is inserted as 0."""
    if not interaction:
        theta = np.insert(theta, 3, 0.0, axis=1)
    return np.column_stack([beta, theta, sigma2])


def _linear_resamples(
    prepared: PreparedMediationData, interaction: bool, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mediator and outcome OLS coefficients on `n_boot` row resamples, both from one batched cross-product
    matrix per resample (`bootstrap_regressions`). The residual variance is not needed (it does not enter
    the effects of a linear outcome) and comes back as 0.

    The columns are centred at the full-sample means (the product column as a column of its own), which
    leaves every slope as it is and shifts the intercepts; the mediator's intercept, which the effects use,
    is shifted back.
    """
    covariates = prepared.covariates
    outcome_columns = [prepared.x, prepared.m, *([prepared.x * prepared.m] if interaction else [])]
    raw = np.column_stack([prepared.x, covariates, *outcome_columns[1:], prepared.y])
    means = raw.mean(axis=0)
    data = np.column_stack([np.ones(prepared.n), raw - means])
    q = covariates.shape[1]
    x_col, m_col = 1, 2 + q
    c_cols = list(range(2, 2 + q))
    product = [3 + q] if interaction else []
    y_col = data.shape[1] - 1
    equations = [(m_col, [0, x_col, *c_cols]), (y_col, [0, x_col, m_col, *product, *c_cols])]
    draws = bootstrap_regressions(data, equations, n_boot, rng)
    beta, theta = draws.coefficients
    # M - mean(M) = b0' + b1 (X - mean(X)) + b2'(C - mean(C)): b0 = b0' + mean(M) - b1 mean(X) - b2' mean(C)
    beta = beta.copy()
    beta[:, 0] += means[m_col - 1] - beta[:, 1] * means[0] - beta[:, 2:] @ means[1 : 1 + q]
    return beta, np.zeros(n_boot), theta, ~draws.singular


def _logit_resamples(
    prepared: PreparedMediationData,
    outcome_model: str,
    interaction: bool,
    fit_m: Any,
    fit_y: Any,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mediator OLS (with its residual variance) and outcome logit coefficients on `n_boot` row resamples,
    refitted a chunk of resamples at a time (batched least squares and batched Fisher scoring)."""
    spec = _Spec("linear", outcome_model, interaction, 0.0, 1.0)  # the exposure values are not used
    parts = []
    for size in iter_chunks(n_boot, prepared.n):
        counts = bootstrap_counts(prepared.n, size, rng)
        parts.append(_refit(prepared, spec, fit_m, fit_y, counts))
    beta, sigma, theta, ok = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    return beta, sigma**2, theta, ok


def mediate_interaction(
    data: pd.DataFrame,
    *,
    x: str,
    m: str,
    y: str,
    covariates: Sequence[str] = (),
    outcome_model: Literal["linear", "logit"] = "linear",
    mediator_model: Literal["linear"] = "linear",
    interaction: bool = True,
    treat_value: float = 1.0,
    control_value: float = 0.0,
    m_star: float | None = None,
    c_values: Mapping[str, float] | None = None,
    ci: Literal["delta", "percentile"] = "delta",
    n_boot: int = 5000,
    level: float = 0.95,
    missing: Literal["listwise", "raise"] = "listwise",
    seed: SeedLike = None,
) -> InteractionMediationResult:
    """Natural direct and indirect effects with an exposure-mediator interaction; the four-way decomposition.

    Fits the mediator model ``M = b0 + b1 X + b2'C + e`` (OLS, e ~ N(0, sigma^2)) and the outcome model
    ``g(E[Y | X, M, C]) = t0 + t1 X + t2 M + t3 X M + t4'C`` (OLS, or logistic regression for a 0/1 outcome)
    and reports, for the exposure contrast a = `treat_value` versus a* = `control_value`, the controlled
    direct effect at M = m*, the natural direct and indirect effects, the total effect and the proportion
    mediated (Valeri & VanderWeele 2013), and the four-way decomposition of the total effect into the
    controlled direct effect, the reference interaction, the mediated interaction and the pure indirect
    effect (VanderWeele 2014).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    x, m, y : str
        The exposure (strategy; binary or continuous), the mediator (continuous) and the outcome (continuous,
        or 0/1 with ``outcome_model="logit"``).
    covariates : sequence of str
        Pre-exposure confounders, in both models; text or categorical columns become 0/1 indicators
        (``name[level]``).
    outcome_model : {"linear", "logit"}
        Linear regression (effects are differences in Y's units) or logistic regression (odds ratios under
        the rare-outcome approximation; a warning when more than 10 % of the rows have the outcome).
    mediator_model : {"linear"}
        Only a linear mediator model is offered (for a binary mediator use `moclab.analysis.mediate_glm`).
    interaction : bool
        Include the exposure x mediator product in the outcome model (True); without it t3 = 0 and the
        natural effects reduce to the product-of-coefficients effects of `moclab.analysis.mediate`.
    treat_value, control_value : float
        The exposure levels a and a* compared.
    m_star : float, optional
        The mediator level m* of the controlled direct effect (and so of the split between it and the
        reference interaction); the sample mean of M by default.
    c_values : mapping of str to float, optional
        Covariate values c at which the effects are evaluated, by covariate column (``"site[b]"`` for an
        indicator); columns not given are held at their sample means.
    ci : {"delta", "percentile"}
        Delta-method (normal) intervals, or percentile bootstrap intervals (rows resampled, both models
        refitted).
    n_boot : int
        Bootstrap resamples (``ci="percentile"``).
    level : float
        Confidence level.
    missing : {"listwise", "raise"}
        Drop incomplete rows (reported in the warnings) or refuse them.
    seed : int, numpy.random.Generator or None
        Randomness of the bootstrap.

    Returns
    -------
    InteractionMediationResult
        With a linear outcome the effects ``cde``, ``nde``, ``nie``, ``total``, ``prop_mediated``,
        ``int_ref``, ``int_med``, ``pie`` and the proportions ``prop_cde``, ``prop_int_ref``,
        ``prop_int_med``, ``prop_pie``, ``prop_eliminated``, ``prop_interaction``; with a logit outcome
        ``or_cde``, ``or_nde``, ``or_nie``, ``or_total`` (odds ratios; ``se`` is that of the log odds ratio,
        ``extra["log_estimate"]`` the log odds ratio), ``prop_mediated``, the components ``err_cde``,
        ``err_int_ref``, ``err_int_med``, ``err_pie`` and their sum ``err_total`` (excess relative risks),
        and the same proportions.

    Raises
    ------
    DataError
        Missing or constant columns, a logit outcome that is not 0/1, non-numeric data, collinear
        predictors, separation in the logit model, an unknown covariate in `c_values`, invalid options.

    Notes
    -----
    With d = a - a* and E(a') = E[M | X = a', C = c] = b0 + b1 a' + b2'c, a linear outcome gives (Valeri &
    VanderWeele 2013; VanderWeele 2014, Appendix)

    .. math::

        CDE(m^*) &= (\\theta_1 + \\theta_3 m^*)\\, d \\\\
        NDE &= (\\theta_1 + \\theta_3 E(a^*))\\, d \\\\
        NIE &= \\beta_1 (\\theta_2 + \\theta_3 a)\\, d, \\qquad TE = NDE + NIE \\\\
        INT_{ref} &= \\theta_3 (E(a^*) - m^*)\\, d, \\quad INT_{med} = \\theta_3 \\beta_1 d^2, \\quad
        PIE = \\beta_1 (\\theta_2 + \\theta_3 a^*)\\, d

    so that TE = CDE + INT_ref + INT_med + PIE and NIE = PIE + INT_med. The effects are conditional on C = c;
    with a linear outcome they do not depend on c except through E(a*) in NDE and INT_ref, and at the
    covariate means (the default) they equal the effects averaged over the sample.

    A binary outcome is modelled by logistic regression and read as log-linear, which holds when the outcome
    is rare (the odds ratio then approximates the risk ratio). With sigma^2 the mediator's residual variance,

    .. math::

        \\log OR^{CDE} &= (\\theta_1 + \\theta_3 m^*)\\, d \\\\
        \\log OR^{NDE} &= \\{\\theta_1 + \\theta_3 (E(a^*) + \\theta_2 \\sigma^2)\\}\\, d
            + \\tfrac12 \\theta_3^2 \\sigma^2 (a^2 - a^{*2}) \\\\
        \\log OR^{NIE} &= \\beta_1 (\\theta_2 + \\theta_3 a)\\, d, \\qquad OR^{TE} = OR^{NDE} OR^{NIE}

    and the four components are excess relative risks (VanderWeele 2014, Appendix; ERR = RR - 1 with the odds
    ratios standing for the risk ratios) that sum to OR^TE - 1: ERR_CDE = e^{K(a) - L(a*, a*)} - e^{K(a*) -
    L(a*, a*)}, ERR_INTref = OR^NDE - 1 - ERR_CDE, ERR_INTmed = OR^TE - OR^NDE - OR^PIE + 1, ERR_PIE =
    OR^PIE - 1, with OR^PIE = exp(b1 (t2 + t3 a*) d). The proportion mediated is OR^NDE (OR^NIE - 1) /
    (OR^TE - 1) (Valeri & VanderWeele 2013) and each share is the component over OR^TE - 1.

    All effects are differences (or exponentiated differences) of two building blocks, L(a, a') = t1 a +
    (t2 + t3 a) E(a') (+ (t2 + t3 a)^2 sigma^2 / 2 for a binary outcome: the log of E[exp((t2 + t3 a) M)]
    over the normal mediator), so E[Y(a, M(a'))] is t0 + t4'c + L(a, a') or its exponential, and K(a) = t1 a
    + t2 m* + t3 a m*, the linear predictor at M = m*. Their gradients with respect to phi = (beta, theta,
    sigma^2) are written out (dL/db = (t2 + t3 a)(1, a', c), dL/dt1 = a, dL/dt2 = E(a') + (t2 + t3 a)
    sigma^2, dL/dt3 = a dL/dt2, dL/dsigma^2 = (t2 + t3 a)^2 / 2; dK/dt = (a, m*, a m*)) and carried through
    the differences, exponentials and ratios by the chain rule; for a linear outcome this gives the gradient
    vectors of Valeri & VanderWeele (2013, Appendix) term for term. The delta-method covariance of phi is
    block diagonal: the OLS covariance of beta, the OLS or inverse-information covariance of theta, and
    Var(sigma^2) = 2 sigma^4 / (n - p) for normal errors (it only enters the binary-outcome effects).
    Intervals are normal, estimate +- z se (for odds ratios on the log scale, then exponentiated). The
    bootstrap resamples rows, refits both models on all resamples at once and evaluates the same closed forms
    at c (held fixed).

    The effects are causal under no unmeasured confounding of the exposure-outcome, mediator-outcome and
    exposure-mediator relations given C, and no mediator-outcome confounder affected by the exposure
    (VanderWeele 2014); the controlled direct effect needs only the first two.

    References
    ----------
    Valeri, L. & VanderWeele, T. J. (2013). Mediation analysis allowing for exposure-mediator interactions and
    causal interpretation: theoretical assumptions and implementation with SAS and SPSS macros. Psychological
    Methods, 18(2), 137-150.
    VanderWeele, T. J. (2014). A unification of mediation and interaction: a 4-way decomposition.
    Epidemiology, 25(5), 749-761.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> coaching = rng.integers(0, 2, 600)
    >>> trust = 0.6 * coaching + rng.normal(size=600)
    >>> adoption = 0.2 * coaching + 0.5 * trust + 0.3 * coaching * trust + rng.normal(size=600)
    >>> df = pd.DataFrame({"coaching": coaching, "trust": trust, "adoption": adoption})
    >>> res = mediate_interaction(df, x="coaching", m="trust", y="adoption", m_star=0.0)
    >>> effects = res.to_frame()["estimate"]
    >>> [round(float(effects[name]), 3) for name in ("nde", "nie", "total")]
    [0.209, 0.529, 0.738]
    >>> parts = effects[["cde", "int_ref", "int_med", "pie"]]
    >>> bool(abs(parts.sum() - effects["total"]) < 1e-12)
    True
    """
    _arguments.choice("outcome_model", outcome_model, OUTCOME_MODELS)
    if mediator_model not in MEDIATOR_MODELS:
        raise DataError(
            f"mediator_model must be 'linear', not {mediator_model!r}",
            hint="for a binary mediator use moclab.analysis.mediate_glm(..., interaction=True)",
        )
    _arguments.check(level=level, ci=ci, allowed_ci=CI_METHODS, seed=seed, missing=missing)
    if ci == "percentile":
        _arguments.check(n_boot=n_boot)
    treat = _arguments.number("treat_value", treat_value)
    control = _arguments.number("control_value", control_value)
    if treat == control:
        raise DataError(
            f"treat_value and control_value must differ (both are {treat_value!r})",
            hint="give the two exposure levels to compare, e.g. treat_value=1, control_value=0",
        )

    prepared = prepare_mediation_data(
        data, x=x, m=m, y=y, covariates=covariates, outcome_model=outcome_model, missing=missing
    )
    if interaction:
        _columns.check_full_rank(prepared.outcome_design(True), prepared.outcome_names(True), "outcome")
    notes = list(prepared.notes)
    for value, label in ((treat, "treat_value"), (control, "control_value")):
        if not prepared.x.min() <= value <= prepared.x.max():
            notes.append(f"{label} = {value:g} lies outside the observed range of '{x}' (extrapolation)")
    m_level = float(prepared.m.mean()) if m_star is None else _arguments.number("m_star", m_star)
    if not prepared.m.min() <= m_level <= prepared.m.max():
        notes.append(f"m_star = {m_level:g} lies outside the observed range of '{m}' (extrapolation)")
    names = list(prepared.covariate_names)
    c = _covariate_values(names, prepared.covariates, c_values)

    design_m, design_y = prepared.mediator_design(), prepared.outcome_design(interaction)
    fit_m = _fit_model("linear", prepared.m, design_m, prepared.mediator_names(), "mediator", m, False)
    fit_y = _fit_model(
        outcome_model, prepared.y, design_y, prepared.outcome_names(interaction), "outcome", y, False
    )
    binary = outcome_model == "logit"
    if binary:
        prevalence = float(prepared.y.mean())
        if prevalence > RARE_OUTCOME_PREVALENCE:
            notes.append(
                f"the outcome '{y}' is not rare ({prevalence:.0%} of the rows have it): the odds ratios "
                "and excess relative risks rest on the rare-outcome approximation (odds ratio ~ risk "
                "ratio) and are biased away from the risk-ratio scale; mediate_glm gives "
                "probability-scale effects without it"
            )
    layout = _Layout(
        n_covariates=len(names),
        treat=treat,
        control=control,
        m_star=m_level,
        covariate_values=c,
        log_normal_term=binary,
    )
    sigma2 = fit_m.sigma**2
    phi = _parameters(fit_m.params[None], fit_y.params[None], np.array([sigma2]), interaction)
    point = _effect_terms(phi, layout, gradient=True)
    effect_kinds = _LOGIT_EFFECTS if binary else _LINEAR_EFFECTS
    logged = {name for name, _ in effect_kinds if name.startswith("or_")}

    rng = as_generator(seed)
    draws: pd.DataFrame | None = None
    n_failed = 0
    if ci == "delta":
        covariance = np.zeros((layout.size, layout.size))
        covariance[: layout.n_mediator, : layout.n_mediator] = fit_m.cov
        rows = [layout.theta(j) for j in range(layout.n_outcome) if interaction or j != 3]
        covariance[np.ix_(rows, rows)] = fit_y.cov
        covariance[layout.sigma2, layout.sigma2] = 2.0 * sigma2**2 / (prepared.n - layout.n_mediator)
        z = special.ndtri(0.5 + level / 2)
    else:
        if binary:
            beta, sigma2_draws, theta, ok = _logit_resamples(
                prepared, outcome_model, interaction, fit_m, fit_y, n_boot, rng
            )
        else:
            beta, sigma2_draws, theta, ok = _linear_resamples(prepared, interaction, n_boot, rng)
        n_failed = int((~ok).sum())
        terms = _effect_terms(_parameters(beta[ok], theta[ok], sigma2_draws[ok], interaction), layout)
        draws = pd.DataFrame({name: terms[name].value for name, _ in effect_kinds})
        if len(draws) < 2:
            raise DataError(
                "almost no bootstrap resample could be refitted (separation or empty categories)",
                hint="use ci='delta' or simplify the models",
            )
        if n_failed:
            notes.append(
                f"{n_failed} of {n_boot} bootstrap resamples could not be refitted (separation, "
                "non-convergence or a category absent from the resample) and were left out"
            )

    effects = []
    for name, kind in effect_kinds:
        term = point[name]
        estimate = float(term.value[0])
        extra: dict[str, Any] = {"scale": _scale(name, binary, y)}
        if ci == "delta":
            se = float(math.sqrt(max(term.gradient[0] @ covariance @ term.gradient[0], 0.0)))
            low, high = estimate - z * se, estimate + z * se
            p = float(2 * special.ndtr(-abs(estimate / se))) if se > 0 else None
        else:
            values = draws[name].to_numpy()
            values = values[np.isfinite(values)]
            se = float(np.std(values, ddof=1))
            low, high = percentile_interval(values, level=level)
            p = None
        if name in logged:
            extra["log_estimate"] = estimate
            estimate, low, high = math.exp(estimate), math.exp(low), math.exp(high)
        effects.append(
            Effect(name, kind, estimate, se, float(low), float(high), p, ci_method=ci, extra=extra)
        )
    total = next(e for e in effects if e.name in ("total", "err_total"))
    if total.ci_low is not None and total.ci_high is not None and total.ci_low <= 0 <= total.ci_high:
        notes.append("the total effect's interval includes zero, so the proportions are unstable")

    info: dict[str, Any] = {
        "method": "delta method" if ci == "delta" else "percentile bootstrap",
        "scale": (
            "odds ratios and excess relative risks (rare-outcome approximation)"
            if binary
            else f"difference in '{y}'"
        ),
        "n": prepared.n,
        "n_dropped": prepared.n_dropped,
        "x": x,
        "m": m,
        "y": y,
        "covariates": names,
        "c_values": dict(zip(names, c.tolist(), strict=True)),
        "mediator_model": "linear",
        "outcome_model": outcome_model,
        "interaction": bool(interaction),
        "treat_value": treat,
        "control_value": control,
        "m_star": m_level,
        "sigma2": sigma2,
        "outcome_prevalence": float(prepared.y.mean()) if binary else None,
        "ci": ci,
        "n_boot": int(n_boot) if ci == "percentile" else None,
        "n_failed_resamples": n_failed,
        "level": level,
        "reference": _REFERENCES,
    }
    return InteractionMediationResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        mediator_model=fit_m.table,
        outcome_model=fit_y.table,
        draws=draws,
    )


def _scale(name: str, binary: bool, y: str) -> str:
    if name.startswith("prop_"):
        return "proportion"
    if not binary:
        return f"difference in '{y}'"
    return "odds ratio (rare-outcome approximation)" if name.startswith("or_") else "excess relative risk"
