"""Sensitivity of a linear mediation analysis to mediator-outcome confounding (Imai, Keele & Yamamoto 2010).

Sequential ignorability (no unmeasured confounder of the mediator and the outcome) cannot be tested. For the
linear structural model it fails exactly when the mediator and outcome errors are correlated; `sensitivity`
traces the ACME as a function of that correlation rho, finds the rho at which the ACME vanishes, expresses it
as products of R-squared values an unmeasured confounder would need, gives a confidence band over rho, and
plots the curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from moclab.analysis import _arguments
from moclab.analysis._least_squares import least_squares
from moclab.analysis.binary import prepare_mediation_data
from moclab.analysis.results import AnalysisResult, Effect
from moclab.errors import DataError

__all__ = ["SensitivityResult", "sensitivity"]


@dataclass(frozen=True, repr=False)
class SensitivityResult(AnalysisResult):
    """ACME as a function of the mediator-outcome error correlation rho, for linear mediator and outcome
    models.

    Attributes
    ----------
    curve : one row per rho: ``rho, acme, se, ci_low, ci_high, ade, ade_se, ade_ci_low, ade_ci_high,
        r2_star_product, r2_tilde_product``.
    rho_at_zero : the rho at which the ACME is exactly zero (closed form, not read off the grid).
    r2_star_product : R*^2_M R*^2_Y at that rho: the product of the shares of the *residual* variances of the
        mediator and the outcome that an unmeasured confounder must explain for the ACME to vanish.
    r2_tilde_product : R~^2_M R~^2_Y at that rho: the same as shares of the *total* variances.
    r2_mediator, r2_outcome : R^2 of the fitted mediator and outcome models.
    level : confidence level of the band.
    """

    curve: pd.DataFrame | None = None
    rho_at_zero: float = float("nan")
    r2_star_product: float = float("nan")
    r2_tilde_product: float = float("nan")
    r2_mediator: float = float("nan")
    r2_outcome: float = float("nan")
    level: float = 0.95

    title = "Sensitivity of the ACME to mediator-outcome confounding"
    headline = ("acme", "rho_at_zero", "r2_star_product", "r2_tilde_product")

    @property
    def sensitivity_region(self) -> pd.DataFrame:
        """Rows of `curve` whose confidence band includes zero (the "sensitivity region" of medsens)."""
        curve = self.curve if self.curve is not None else pd.DataFrame()
        return curve[(curve["ci_low"] <= 0) & (curve["ci_high"] >= 0)]

    def plot(self, ax: Any = None, *, show_estimate: bool = True) -> Any:
        """ACME against rho with its confidence band, the zero line and the rho where the ACME crosses zero.

        Returns the matplotlib Axes (a new figure is made when `ax` is None).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.0, 4.0))
        curve = self.curve
        ax.fill_between(
            curve["rho"],
            curve["ci_low"],
            curve["ci_high"],
            color="0.82",
            lw=0,
            label=f"{self.level:.0%} band",
        )
        ax.plot(curve["rho"], curve["acme"], color="black", lw=1.5, label="ACME(ρ)")
        ax.axhline(0.0, color="0.35", lw=0.8)
        if show_estimate:
            ax.axhline(
                self.effect("acme").estimate,
                color="0.35",
                lw=0.8,
                ls="--",
                label="ACME under sequential ignorability (ρ = 0)",
            )
        if np.isfinite(self.rho_at_zero):
            ax.axvline(
                self.rho_at_zero,
                color="tab:red",
                lw=1.0,
                ls=":",
                label=f"ACME = 0 at ρ = {self.rho_at_zero:.3f}",
            )
        ax.set_xlabel("sensitivity parameter ρ (correlation of mediator and outcome errors)")
        ax.set_ylabel("average causal mediation effect")
        ax.set_xlim(float(curve["rho"].min()), float(curve["rho"].max()))
        ax.legend(frameon=False, fontsize="small")
        return ax


def _ols(design: np.ndarray, response: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fit = least_squares(design, response)
    return fit.coef, fit.residuals


def _r_squared(residual: np.ndarray, response: np.ndarray) -> float:
    centred = response - response.mean()
    return float(1.0 - residual @ residual / (centred @ centred))


def sensitivity(
    data: pd.DataFrame,
    *,
    x: str,
    m: str,
    y: str,
    covariates: Sequence[str] = (),
    rho: Sequence[float] | np.ndarray | None = None,
    level: float = 0.95,
    treat_value: float = 1.0,
    control_value: float = 0.0,
    missing: Literal["listwise", "raise"] = "listwise",
) -> SensitivityResult:
    """How strong must mediator-outcome confounding be to explain away the ACME? (linear models).

    Fits the linear mediator model ``M = a0 + a X + C'aC + e2`` and outcome model
    ``Y = c0 + c' X + b M + C'cC + e3`` (no interaction) and evaluates the ACME under each assumed correlation
    ``rho = corr(e2, e3)``; ``rho = 0`` is sequential ignorability and gives the usual ``a * b``.

    Parameters
    ----------
    data : DataFrame with one row per unit.
    x, m, y : treatment, mediator and outcome columns (numeric; mediator and outcome continuous).
    covariates : pre-treatment covariates in both models (text columns become indicators).
    rho : grid of correlations in (-1, 1); default -0.9 to 0.9 by 0.01.
    level : confidence level of the band.
    treat_value, control_value : compared treatment values (the ACME scales with their difference).
    missing : "listwise" (drop incomplete rows, reported) or "raise".

    Returns
    -------
    SensitivityResult
        ``rho_at_zero``, ``r2_star_product``, ``r2_tilde_product``, ``curve`` and ``plot()``; effects acme (at
        rho = 0, delta-method interval), rho_at_zero, r2_star_product and r2_tilde_product.

    Notes
    -----
    With the reduced-form regression ``Y = g0 + g X + C'gC + e1`` (the outcome model without the mediator),
    let :math:`\\sigma_1, \\sigma_2` be the standard deviations of e1 and e2 and :math:`\\tilde\\rho =
    corr(e1, e2)`. For a given rho the outcome model's mediator coefficient is identified and the ACME is
    (Imai, Keele & Yamamoto 2010, Theorem 2)

    .. math:: ACME(\\rho) = a (t_1 - t_0) \\frac{\\sigma_1}{\\sigma_2}
              \\left\\{\\tilde\\rho - \\rho \\sqrt{(1 - \\tilde\\rho^2) / (1 - \\rho^2)}\\right\\},

    so it is zero exactly at :math:`\\rho = \\tilde\\rho`. An unmeasured pre-treatment confounder U with
    ``e2 = l2 U + e2'`` and ``e3 = l3 U + e3'`` implies :math:`\\rho^2 = R^{2*}_M R^{2*}_Y` (shares of the
    residual variances explained by U) and :math:`R^{2*}_M R^{2*}_Y = \\tilde R^2_M \\tilde R^2_Y / \\{(1 -
    R^2_M) (1 - R^2_Y)\\}` (shares of the total variances), with :math:`R^2_M, R^2_Y` of the mediator and
    outcome models; ``sign(l2 l3) = sign(rho)``.

    The estimate at each rho is the maximum-likelihood estimate of the two-equation system with that error
    correlation. The band follows the authors' approach (their R function medsens): the covariance of the
    coefficients is the generalized-least-squares covariance of the stacked system with the error covariance
    fixed at its estimate for that rho, and the ACME's standard error comes from the delta method (here
    including the covariance between a and b that appears when rho != 0; medsens drops that term). At rho = 0
    the band is the Sobel interval with the OLS standard errors.

    ``rho_at_zero`` is the exact root; medsens reports the nearest grid value instead (so -0.2 for rho.by =
    0.1 where the root is -0.21), and its R-squared products at that grid value.

    References
    ----------
    Imai, K., Keele, L. & Yamamoto, T. (2010). Identification, inference and sensitivity analysis for causal
    mediation effects. Statistical Science, 25(1), 51-71.
    Imai, K., Keele, L. & Tingley, D. (2010). A general approach to causal mediation analysis. Psychological
    Methods, 15(4), 309-334.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> x = rng.integers(0, 2, 500)
    >>> m = 0.6 * x + rng.normal(size=500)
    >>> y = 0.2 * x + 0.5 * m + rng.normal(size=500)
    >>> res = sensitivity(pd.DataFrame({"x": x, "m": m, "y": y}), x="x", m="m", y="y")
    >>> round(res.rho_at_zero, 3), round(res.r2_star_product, 3)
    (0.431, 0.186)
    >>> ax = res.plot()
    """
    _arguments.check(level=level, missing=missing)
    if treat_value == control_value:
        raise DataError(
            f"treat_value and control_value must differ (both are {treat_value!r})",
            hint="give the two values of the treatment to compare, e.g. treat_value=1, control_value=0",
        )
    grid = np.round(np.linspace(-0.9, 0.9, 181), 10) if rho is None else np.asarray(rho, dtype=float).ravel()
    if grid.size == 0 or np.any(~np.isfinite(grid)) or np.any(np.abs(grid) >= 1.0):
        raise DataError(
            "rho must be a non-empty grid of values strictly between -1 and 1",
            hint="e.g. rho=numpy.linspace(-0.9, 0.9, 181), the default",
        )

    prepared = prepare_mediation_data(data, x=x, m=m, y=y, covariates=covariates, missing=missing)
    design = prepared.mediator_design()  # intercept, treatment, covariates
    n, k = design.shape
    delta_t = float(treat_value) - float(control_value)

    coef_m, e2 = _ols(design, prepared.m)
    coef_reduced, e1 = _ols(design, prepared.y)
    design_y = prepared.outcome_design(False)  # intercept, treatment, mediator, covariates
    _, e3 = _ols(design_y, prepared.y)
    r2_m = _r_squared(e2, prepared.m)
    r2_y = _r_squared(e3, prepared.y)

    ss1, ss2 = float(e1 @ e1), float(e2 @ e2)
    rho_tilde = float((e1 @ e2) / np.sqrt(ss1 * ss2))
    ratio = np.sqrt(ss1 / ss2)  # sigma_1 / sigma_2; the denominators cancel
    a = float(coef_m[1])

    def structural(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mediator slope b(rho), outcome coefficients of (intercept, X, C), ML error variance of e3."""
        shrink = np.sqrt((1.0 - rho_tilde**2) / (1.0 - r**2))
        b = ratio * (rho_tilde - r * shrink)
        theta = coef_reduced[None, :] - b[:, None] * coef_m[None, :]
        var3_ml = ss1 / n * shrink**2
        return b, theta, var3_ml

    grid_all = np.concatenate([[0.0], grid])
    b, theta, var3_ml = structural(grid_all)
    acme = a * b * delta_t
    ade = theta[:, 1] * delta_t

    # GLS covariance of the stacked system [M; Y] at each rho (error covariance held at its estimate), with
    # the degrees-of-freedom corrections that make it equal to the two OLS covariances at rho = 0.
    var2 = ss2 / (n - k)
    var3 = var3_ml * n / (n - k - 1)
    cross = grid_all * np.sqrt(var2 * var3)
    det = var2 * var3 - cross**2
    w11, w22, w12 = var3 / det, var2 / det, -cross / det
    x1 = design
    x2 = np.column_stack([design, prepared.m])  # order: intercept, treatment, covariates, mediator
    g11, g12, g22 = x1.T @ x1, x1.T @ x2, x2.T @ x2
    size = k + k + 1
    information = np.empty((grid_all.size, size, size))
    information[:, :k, :k] = w11[:, None, None] * g11
    information[:, :k, k:] = w12[:, None, None] * g12
    information[:, k:, :k] = w12[:, None, None] * g12.T
    information[:, k:, k:] = w22[:, None, None] * g22
    covariance = np.linalg.inv(information)
    i_a, i_b, i_direct = 1, size - 1, k + 1
    var_acme = delta_t**2 * (
        b**2 * covariance[:, i_a, i_a] + a**2 * covariance[:, i_b, i_b] + 2 * a * b * covariance[:, i_a, i_b]
    )
    se_acme = np.sqrt(var_acme)
    se_ade = np.abs(delta_t) * np.sqrt(covariance[:, i_direct, i_direct])
    z = stats.norm.ppf(0.5 + level / 2)

    factor = (1.0 - r2_m) * (1.0 - r2_y)
    curve = pd.DataFrame(
        {
            "rho": grid,
            "acme": acme[1:],
            "se": se_acme[1:],
            "ci_low": acme[1:] - z * se_acme[1:],
            "ci_high": acme[1:] + z * se_acme[1:],
            "ade": ade[1:],
            "ade_se": se_ade[1:],
            "ade_ci_low": ade[1:] - z * se_ade[1:],
            "ade_ci_high": ade[1:] + z * se_ade[1:],
            "r2_star_product": grid**2,
            "r2_tilde_product": grid**2 * factor,
        }
    )
    star = rho_tilde**2
    effects = (
        Effect(
            "acme",
            "indirect",
            float(acme[0]),
            se=float(se_acme[0]),
            ci_low=float(acme[0] - z * se_acme[0]),
            ci_high=float(acme[0] + z * se_acme[0]),
            p=float(2 * stats.norm.sf(abs(acme[0]) / se_acme[0])),
            ci_method="delta",
            extra={"rho": 0.0},
        ),
        Effect("rho_at_zero", "sensitivity", rho_tilde),
        Effect("r2_star_product", "sensitivity", star),
        Effect("r2_tilde_product", "sensitivity", star * factor),
    )
    notes = list(prepared.notes)
    info: dict[str, Any] = {
        "method": "sensitivity analysis for linear mediator and outcome models",
        "n": prepared.n,
        "n_dropped": prepared.n_dropped,
        "x": x,
        "m": m,
        "y": y,
        "covariates": list(prepared.covariate_names),
        "treat_value": float(treat_value),
        "control_value": float(control_value),
        "level": level,
        "r2_mediator": r2_m,
        "r2_outcome": r2_y,
        "reference": "Imai, Keele & Yamamoto (2010), Statistical Science 25(1):51-71",
    }
    return SensitivityResult(
        effects=effects,
        info=info,
        warnings=tuple(notes),
        curve=curve,
        rho_at_zero=rho_tilde,
        r2_star_product=star,
        r2_tilde_product=star * factor,
        r2_mediator=r2_m,
        r2_outcome=r2_y,
        level=level,
    )
