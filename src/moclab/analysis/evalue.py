"""E-values: how strong must unmeasured confounding be to explain an association away? (VanderWeele & Ding)

The E-value of a risk ratio is the minimum strength of association, on the risk-ratio scale, that an
unmeasured confounder would need with both the exposure (in moclab: the strategy or the mechanism) and the
outcome, conditional on the measured covariates, to fully explain away the observed association. It needs
only the estimate and its interval, so it applies to published results as well as moclab's own. Odds ratios,
hazard ratios and standardized mean differences are first converted to approximate risk ratios.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from moclab.analysis import _arguments
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError

__all__ = ["EValueResult", "e_value"]

SCALES = ("RR", "OR", "HR", "SMD")


@dataclass(frozen=True, repr=False)
class EValueResult(AnalysisResult):
    """Result of `e_value`.

    Effects: ``rr`` (the estimate on the approximate risk-ratio scale, with its interval), ``e_value`` (of
    the estimate) and, with the relevant confidence limit, ``e_value_limit``.

    Attributes
    ----------
    scale : str
        Scale of the estimate given: "RR", "OR", "HR" or "SMD".
    estimate, ci_low, ci_high, se, true : float or None
        As given (``true`` defaults to the null: 1 for ratios, 0 for a standardized mean difference).
    rare : bool
        Whether the outcome was declared rare (used for OR and HR only).
    rr, rr_low, rr_high, rr_true : float or None
        The estimate, interval limits and true value on the (approximate) risk-ratio scale.
    point : float
        E-value of the estimate: the risk ratio a confounder must have with both exposure and outcome to
        move the estimate to ``true``.
    limit : float or None
        E-value of the interval limit closest to ``true`` (1 when the interval includes it; None without the
        relevant limit).
    limit_side : str or None
        "lower" or "upper": which limit ``limit`` belongs to.
    """

    scale: str = "RR"
    estimate: float = math.nan
    ci_low: float | None = None
    ci_high: float | None = None
    se: float | None = None
    true: float = 1.0
    rare: bool = False
    rr: float = math.nan
    rr_low: float | None = None
    rr_high: float | None = None
    rr_true: float = 1.0
    point: float = math.nan
    limit: float | None = None
    limit_side: str | None = None

    title = "E-value"
    headline = ("e_value", "e_value_limit", "rr")

    @property
    def ci_includes_true(self) -> bool | None:
        """Whether the interval includes the true value (None when its relevant limit is missing)."""
        return None if self.limit is None else self.limit == 1.0

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        names = [f.name for f in fields(self) if f.name not in ("effects", "info", "warnings")]
        base.update(plain({name: getattr(self, name) for name in names}))
        return base

    def summary(self) -> str:
        """One paragraph in words."""
        head = f"E-value for {self.scale} = {self.estimate:g}"
        if self.scale != "RR":
            head += f" (approximate RR {self.rr:.3g})"
        text = (
            f"{head}: {self.point:.3g}. An unmeasured confounder associated with both exposure and outcome "
            f"by a risk ratio of {self.point:.3g} each, above the measured covariates, could move the "
            f"estimate to {self.true:g}; weaker confounding could not."
        )
        if self.limit is not None:
            text += f" E-value for the {self.limit_side} confidence limit: {self.limit:.3g}" + (
                " (the interval already includes the true value)." if self.limit == 1.0 else "."
            )
        return text

    def plot(self, ax: Any = None) -> Any:
        """The confounding that explains the estimate away: every pair of risk ratios RR_EU (confounder and
        exposure) and RR_UD (confounder and outcome) whose bias factor RR_EU·RR_UD/(RR_EU + RR_UD − 1)
        equals the estimate's risk ratio relative to the true value (Ding & VanderWeele 2016), with the
        E-value where the two are equal, and the same curve for the confidence limit. Returns the Axes.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> ax = e_value(3.9, 1.8, 8.7).plot()
        >>> ax.get_xlabel()
        'RR_EU: risk ratio of the confounder with the exposure'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 4.5))
        top = 2.5 * self.point + 1.0
        curves = [("estimate", self.point, "black", "-")]
        if self.limit is not None and self.limit > 1.0:
            curves.append((f"{self.limit_side} confidence limit", self.limit, "0.45", "--"))
        for label, e, colour, style in curves:
            ratio = e * e / (2 * e - 1)  # the bias factor whose equal-strength solution is e
            x = np.linspace(ratio * (1 + 1e-6), top, 400)
            y = ratio * (x - 1) / (x - ratio)
            shown = y <= top
            ax.plot(x[shown], y[shown], color=colour, ls=style, lw=1.4, label=f"explains away the {label}")
            ax.plot([e], [e], "o", color=colour)
            ax.annotate(f"E-value {e:.3g}", (e, e), textcoords="offset points", xytext=(6, 6), fontsize=8)
        ax.set_xlim(1.0, top)
        ax.set_ylim(1.0, top)
        ax.set_xlabel("RR_EU: risk ratio of the confounder with the exposure")
        ax.set_ylabel("RR_UD: risk ratio of the confounder with the outcome")
        ax.set_title(
            f"{self.title} of {self.scale} = {self.estimate:g} (true value {self.true:g})", fontsize=10
        )
        ax.legend(frameon=False, fontsize="small")
        return ax


def _threshold(rr: float, rr_true: float) -> float:
    """E-value of one risk ratio against a true risk ratio: E(x) = x + √(x(x - 1)) with x = the ratio of
    the two, inverted when below 1."""
    ratio = rr / rr_true
    if ratio < 1.0:
        ratio = 1.0 / ratio
    return float(ratio + math.sqrt(ratio * (ratio - 1.0)))


def _to_risk_ratio(value: float, scale: str, rare: bool) -> float:
    """Approximate risk ratio of an OR or HR (VanderWeele & Ding 2017, Table 2); RR unchanged."""
    if scale == "RR" or rare:
        return value
    if scale == "OR":
        return math.sqrt(value)
    return (1.0 - 0.5 ** math.sqrt(value)) / (1.0 - 0.5 ** math.sqrt(1.0 / value))


def e_value(
    estimate: float,
    ci_low: float | None = None,
    ci_high: float | None = None,
    *,
    scale: Literal["RR", "OR", "HR", "SMD"] = "RR",
    rare: bool = False,
    se: float | None = None,
    true: float | None = None,
) -> EValueResult:
    """E-value of an estimate and of the confidence limit closest to the null (VanderWeele & Ding 2017).

    Parameters
    ----------
    estimate : float
        Risk ratio, odds ratio or hazard ratio (> 0), or standardized mean difference d (Cohen's d: a mean
        difference divided by the outcome's SD).
    ci_low, ci_high : float, optional
        Confidence limits on the same scale (ratios only; give ``se`` for a standardized mean difference).
    scale : {"RR", "OR", "HR", "SMD"}
        Scale of ``estimate``.
    rare : bool
        For OR and HR: the outcome is rare (below about 15 % at the end of follow-up), so the OR or HR
        approximates the RR itself. Otherwise it is converted (see Notes).
    se : float, optional
        For SMD only: the standard error of d, from which the interval on the RR scale follows.
    true : float, optional
        The value to explain the estimate away to, on the scale of ``estimate``: the null by default (1 for
        ratios, 0 for SMD). A non-null value gives the confounding needed to move the estimate to it.

    Returns
    -------
    EValueResult
        ``point`` (E-value of the estimate), ``limit`` (of the interval limit closest to ``true``; 1 when
        the interval includes it), and the risk-ratio conversions.

    Raises
    ------
    DataError
        Unknown scale, non-positive ratios, an estimate outside its interval, limits given in the wrong order,
        an interval for SMD (give ``se``) or ``se`` for a ratio (give the interval).

    Notes
    -----
    For a risk ratio RR ≥ 1 (VanderWeele & Ding 2017, eq. 1, from the bounding factor of Ding & VanderWeele
    2016)

    .. math:: E = RR + \\sqrt{RR (RR - 1)},

    and for RR < 1 the same formula in 1/RR. Against a non-null true value the formula is applied to
    RR/RR_true (inverted when below 1). The E-value for the interval is that of the limit closest to the
    true value, or 1 when the interval includes it.

    Conversions to an approximate RR (their Table 2): an OR or HR of a rare outcome is used as it is; for a
    common outcome :math:`RR ≈ \\sqrt{OR}` and :math:`RR ≈ (1 - 0.5^{\\sqrt{HR}}) / (1 - 0.5^{\\sqrt{1/HR}})`
    (VanderWeele 2020 derives both); a standardized mean difference d gives :math:`RR ≈ \\exp(0.91 d)`
    with interval :math:`\\exp(0.91 d ± 1.78\\, SE_d)` (their Table 2, after Chinn 2000 and Hasselblad &
    Hedges 1995). These are the conversions of the R package EValue.

    For a linear coefficient b of the mechanism in a model of a continuous outcome, d = b · Δ / SD(Y | X, C)
    for a contrast Δ in the mechanism (the EValue package's ``evalues.OLS``); the omitted-variable-bias
    robustness values of `robustness` answer the same question on the partial-R² scale without a conversion.

    References
    ----------
    VanderWeele, T. J., & Ding, P. (2017). Sensitivity analysis in observational research: introducing the
    E-value. *Annals of Internal Medicine*, 167(4), 268-274.
    Ding, P., & VanderWeele, T. J. (2016). Sensitivity analysis without assumptions. *Epidemiology*, 27(3),
    368-377.
    VanderWeele, T. J. (2020). Optimal approximate conversions of odds ratios and hazard ratios to risk
    ratios. *Biometrics*, 76(3), 746-752.
    Chinn, S. (2000). A simple method for converting an odds ratio to effect size for use in meta-analysis.
    *Statistics in Medicine*, 19(22), 3127-3131.
    Mathur, M. B., Ding, P., Riddell, C. A., & VanderWeele, T. J. (2018). Website and R package for computing
    E-values. *Epidemiology*, 29(5), e45-e47.

    Examples
    --------
    The breastfeeding example of VanderWeele & Ding (2017): RR 3.9 (95% CI 1.8 to 8.7).

    >>> result = e_value(3.9, 1.8, 8.7)
    >>> round(result.point, 2), round(result.limit, 2), result.limit_side
    (7.26, 3.0, 'lower')

    A protective odds ratio of a common outcome whose interval includes 1:

    >>> result = e_value(0.8, 0.6, 1.05, scale="OR")
    >>> round(result.rr, 4), round(result.point, 3), result.limit
    (0.8944, 1.481, 1.0)
    """
    _arguments.choice("scale", scale, SCALES)
    estimate = _arguments.number("estimate", estimate)
    low = None if ci_low is None else _arguments.number("ci_low", ci_low)
    high = None if ci_high is None else _arguments.number("ci_high", ci_high)
    se_value = None if se is None else _arguments.number("se", se)
    ratio_scale = scale != "SMD"
    true_value = (1.0 if ratio_scale else 0.0) if true is None else _arguments.number("true", true)

    if ratio_scale:
        if se_value is not None:
            raise DataError(
                f"se is used only for scale='SMD'; for an {scale} give the confidence limits",
                hint="ci_low=..., ci_high=... on the ratio scale",
            )
        for name, value in (("estimate", estimate), ("ci_low", low), ("ci_high", high), ("true", true_value)):
            if value is not None and value <= 0:
                raise DataError(f"{name} must be a positive {scale}, not {value:g}")
        if low is not None and high is not None and low > high:
            raise DataError(f"ci_low ({low:g}) is above ci_high ({high:g})", hint="swap the limits")
        if (low is not None and estimate < low) or (high is not None and estimate > high):
            raise DataError(
                f"the estimate {estimate:g} lies outside its confidence interval",
                hint="check that the limits belong to this estimate and are on the same scale",
            )
        rr = _to_risk_ratio(estimate, scale, rare)
        rr_low = None if low is None else _to_risk_ratio(low, scale, rare)
        rr_high = None if high is None else _to_risk_ratio(high, scale, rare)
        rr_true = _to_risk_ratio(true_value, scale, rare)
    else:
        if low is not None or high is not None:
            raise DataError(
                "for scale='SMD' give the standard error of d (se=) instead of confidence limits",
                hint="the interval on the risk-ratio scale is exp(0.91 d ± 1.78 se)",
            )
        if se_value is not None and se_value < 0:
            raise DataError(f"se must not be negative, not {se_value:g}")
        rr = math.exp(0.91 * estimate)
        rr_low = None if se_value is None else math.exp(0.91 * estimate - 1.78 * se_value)
        rr_high = None if se_value is None else math.exp(0.91 * estimate + 1.78 * se_value)
        rr_true = math.exp(0.91 * true_value)

    point = _threshold(rr, rr_true)
    limit: float | None = None
    side: str | None = None
    if rr > rr_true:
        side = "lower"
        if rr_low is not None:
            limit = 1.0 if rr_low <= rr_true else _threshold(rr_low, rr_true)
    elif rr < rr_true:
        side = "upper"
        if rr_high is not None:
            limit = 1.0 if rr_high >= rr_true else _threshold(rr_high, rr_true)
    else:
        side = "lower"
        limit = 1.0 if (rr_low is not None or rr_high is not None) else None
    if limit is None and rr_low is None and rr_high is None:
        side = None
    effects = [
        Effect("rr", "risk_ratio", rr, None, rr_low, rr_high, None, None, {"scale": scale, "true": rr_true}),
        Effect("e_value", "e_value", point),
    ]
    if limit is not None:
        effects.append(Effect("e_value_limit", "e_value", limit, extra={"side": side}))
    info = {
        "method": "E-value (VanderWeele & Ding 2017)"
        + ("" if scale == "RR" else f"; {scale} converted to an approximate risk ratio"),
        "scale": scale,
        "rare": bool(rare),
        "reference": "VanderWeele & Ding (2017), Annals of Internal Medicine 167(4):268-274",
    }
    return EValueResult(
        effects=tuple(effects),
        info=info,
        scale=scale,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        se=se_value,
        true=true_value,
        rare=bool(rare),
        rr=rr,
        rr_low=rr_low,
        rr_high=rr_high,
        rr_true=rr_true,
        point=point,
        limit=limit,
        limit_side=side,
    )
