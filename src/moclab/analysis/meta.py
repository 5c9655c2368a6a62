"""Random-effects meta-analysis of per-site (or per-study) estimates: is a mechanism's effect consistent?

`meta_analysis` pools k estimates with their standard errors under the random-effects model

    y_i = μ + u_i + e_i,   u_i ~ N(0, τ²),   e_i ~ N(0, v_i)   (v_i = SE_i², treated as known)

and reports the pooled effect μ̂ (with the Knapp-Hartung-Sidik-Jonkman adjustment by default), the
between-site variance τ² (REML, DerSimonian-Laird or Paule-Mandel) with its Q-profile interval, I², H²,
Cochran's Q test and the prediction interval for the effect in a new site; `MetaAnalysisResult.plot` draws
the forest plot. `cluster_indirect_effects` estimates the a path, b path and indirect effect a·b within each
site (with delta-method SEs) so that `ClusterEffectsResult.pool` can feed them to `meta_analysis`: the
consistency criterion of a mechanism asks whether its effect holds across sites, not only on average.

Why hand-written: `statsmodels.stats.meta_analysis.combine_effects` offers DerSimonian-Laird and Paule-Mandel
τ² and the HKSJ variance, but no REML τ², no τ² interval and no prediction interval, and it cannot take a τ²
estimated elsewhere; the formulas below are short, and the tests check them against statsmodels (DL, PM,
HKSJ) and against metafor's published analysis of the BCG vaccine trials (REML).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from moclab.analysis import _arguments, _columns
from moclab.analysis.bootstrap import crossproducts, factorize_clusters, solve_equations
from moclab.analysis.intervals import wald_interval
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError

__all__ = [
    "SMALL_CLUSTER",
    "ClusterEffectsResult",
    "ClusterSlopesResult",
    "MetaAnalysisResult",
    "cluster_indirect_effects",
    "cluster_slopes",
    "meta_analysis",
]

METHODS = ("reml", "dl", "pm")
_METHOD_NAMES = {"reml": "REML", "dl": "DerSimonian-Laird", "pm": "Paule-Mandel"}
#: Fewer studies than this and τ² is estimated very imprecisely (Veroniki et al., 2016); a warning says so.
FEW_STUDIES = 5
#: Sites with fewer rows than this give unstable per-site regressions: the sampling distribution of a·b is
#: skewed and its delta-method SE unreliable at small n (MacKinnon, Lockwood & Williams, 2004).
SMALL_CLUSTER = 20

ArrayLike = str | Sequence[float] | np.ndarray | pd.Series


# --------------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class MetaAnalysisResult(AnalysisResult):
    """Result of `meta_analysis`.

    Effects (``to_frame()``): ``pooled`` (random-effects μ̂ with its Knapp-Hartung t or z interval; the
    prediction interval in ``extra``), ``pooled_fixed`` (the common-effect, inverse-variance estimate),
    ``tau2`` (τ̂² with its Q-profile interval) and one ``study[label]`` per study with its own z interval and
    its random-effects weight (percent) in ``extra["weight"]``.

    Attributes
    ----------
    studies : pandas.DataFrame
        One row per study: label, estimate, se, ci_low, ci_high, weight (random-effects, percent),
        weight_fixed (percent).
    k : int
        Number of studies (sites).
    method : {"reml", "dl", "pm"}
        τ² estimator.
    knapp_hartung : bool
        Whether the pooled interval uses the Knapp-Hartung-Sidik-Jonkman variance with t(k - 1).
    tau2, tau, tau2_se : float
        Between-study variance, its square root, and (REML only) its SE from the Fisher information.
    tau2_ci : tuple of float
        Q-profile interval of τ² (Viechtbauer, 2007).
    i2, h2 : float
        I² = τ̂²/(τ̂² + s²) (percent) and H² = (τ̂² + s²)/s² with s² the typical within-study variance
        (Higgins & Thompson, 2002), as metafor reports them.
    i2_q, h2_q : float
        The Q-based versions, max(0, (Q - (k - 1))/Q) (percent) and Q/(k - 1).
    q, q_df, q_p : float
        Cochran's Q test of homogeneity (χ² with k - 1 df).
    prediction : tuple of float
        Prediction interval for the true effect in a new study: μ̂ ± t(k - 2) sqrt(τ̂² + SE(μ̂)²) (Higgins,
        Thompson & Spiegelhalter, 2009); NaN with fewer than three studies.
    effect_label : str
        What was pooled (axis label of the forest plot).
    """

    studies: pd.DataFrame | None = None
    k: int = 0
    method: str = "reml"
    knapp_hartung: bool = True
    tau2: float = math.nan
    tau: float = math.nan
    tau2_se: float | None = None
    tau2_ci: tuple[float, float] = (math.nan, math.nan)
    i2: float = math.nan
    h2: float = math.nan
    i2_q: float = math.nan
    h2_q: float = math.nan
    q: float = math.nan
    q_df: int = 0
    q_p: float = math.nan
    prediction: tuple[float, float] = (math.nan, math.nan)
    effect_label: str = "effect"

    title = "Random-effects meta-analysis"
    headline = ("pooled", "tau2")

    @property
    def pooled(self) -> Effect:
        """The random-effects pooled estimate (same as ``effect("pooled")``)."""
        return self.effect("pooled")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        base.update(
            plain(
                {
                    "k": self.k,
                    "method": self.method,
                    "knapp_hartung": self.knapp_hartung,
                    "tau2": self.tau2,
                    "tau": self.tau,
                    "tau2_se": self.tau2_se,
                    "tau2_ci": list(self.tau2_ci),
                    "i2": self.i2,
                    "h2": self.h2,
                    "i2_q": self.i2_q,
                    "h2_q": self.h2_q,
                    "q": self.q,
                    "q_df": self.q_df,
                    "q_p": self.q_p,
                    "prediction": list(self.prediction),
                    "effect_label": self.effect_label,
                    "studies": self.studies,
                }
            )
        )
        return base

    def _heterogeneity_line(self) -> str:
        return (
            f"τ² = {self.tau2:.4f} [{self.tau2_ci[0]:.4f}, {self.tau2_ci[1]:.4f}], τ = {self.tau:.4f}, "
            f"I² = {self.i2:.1f}%, H² = {self.h2:.2f}; Q({self.q_df}) = {self.q:.3f}, p = {self.q_p:.3g}"
        )

    def summary(self, digits: int = 4) -> str:
        """Readable report: method, heterogeneity, pooled effect, prediction interval, studies, warnings."""
        fmt = f"{{:.{digits}f}}"
        pooled = self.pooled
        lines = [f"{self.title} of {self.k} studies: {self.info.get('method')}", self._heterogeneity_line()]
        p_text = "" if pooled.p is None else f", p = {pooled.p:.3g}"
        lines.append(
            f"pooled {self.effect_label}: {fmt.format(pooled.estimate)} (SE {fmt.format(pooled.se)}) "
            f"[{fmt.format(pooled.ci_low)}, {fmt.format(pooled.ci_high)}]{p_text}"
        )
        lines.append(
            f"prediction interval for a new study: [{fmt.format(self.prediction[0])}, "
            f"{fmt.format(self.prediction[1])}]"
        )
        if self.studies is not None:
            lines.extend(["", self.studies.to_string(float_format=lambda v: fmt.format(v), index=False)])
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        pooled = self.pooled
        head = (
            f"<strong>{html.escape(self.title)}</strong> ({html.escape(str(self.info.get('method')))}), "
            f"k = {self.k}<br>{html.escape(self._heterogeneity_line())}<br>"
            f"pooled: {pooled.estimate:.4g} [{pooled.ci_low:.4g}, {pooled.ci_high:.4g}]; prediction interval "
            f"[{self.prediction[0]:.4g}, {self.prediction[1]:.4g}]"
        )
        body = self.to_frame()[["kind", "estimate", "se", "ci_low", "ci_high", "p"]].to_html(
            float_format=lambda v: f"{v:.4g}", na_rep="", border=0
        )
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return f"<div>{head}{body}" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"

    def plot(self, ax: Any = None, *, null: float | None = 0.0, annotate: bool = True) -> Any:
        """Forest plot: one row per study (square sized by its weight, z interval), the pooled estimate as a
        diamond with the prediction interval as a line through it; returns the matplotlib Axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure sized to the number of studies otherwise.
        null : float or None
            Reference line (no effect); None for none.
        annotate : bool
            Write "estimate [low, high]" and the weight at the right of each row.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> result = meta_analysis(estimate=[0.2, 0.5, 0.3, 0.6], se=[0.1, 0.2, 0.15, 0.25])
        >>> ax = result.plot()
        >>> [t.get_text() for t in ax.get_yticklabels()][-1]
        'RE model'
        """
        import matplotlib.pyplot as plt
        from matplotlib.patches import Polygon

        assert self.studies is not None
        k = self.k
        if ax is None:
            _, ax = plt.subplots(figsize=(7.5, 1.6 + 0.32 * (k + 2)))
        rows = np.arange(k, 0, -1) + 1.0  # studies top to bottom, the pooled row at 0
        estimates = self.studies["estimate"].to_numpy()
        low, high = self.studies["ci_low"].to_numpy(), self.studies["ci_high"].to_numpy()
        weights = self.studies["weight"].to_numpy()
        ax.hlines(rows, low, high, color="0.2", lw=1.0)
        sizes = 20 + 180 * weights / max(weights.max(), 1e-12)
        ax.scatter(estimates, rows, s=sizes, marker="s", color="0.2", zorder=3)
        pooled = self.pooled
        diamond = Polygon(
            [(pooled.ci_low, 0.0), (pooled.estimate, 0.3), (pooled.ci_high, 0.0), (pooled.estimate, -0.3)],
            closed=True,
            facecolor="0.15",
            edgecolor="0.15",
            zorder=3,
        )
        ax.add_patch(diamond)
        if np.all(np.isfinite(self.prediction)):
            ax.hlines(0.0, self.prediction[0], self.prediction[1], color="0.15", lw=1.0, zorder=2)
            ax.vlines(list(self.prediction), -0.15, 0.15, color="0.15", lw=1.0, zorder=2)
        if null is not None:
            ax.axvline(null, color="0.5", lw=0.8, ls="-", zorder=1)
        ax.axvline(pooled.estimate, color="0.5", lw=0.8, ls=":", zorder=1)
        labels = [*self.studies["label"].astype(str), "RE model"]
        ax.set_yticks([*rows, 0.0], labels)
        ax.set_ylim(-1.0, k + 1.8)
        ax.set_xlabel(self.effect_label)
        finite = [v for v in (*low, *high, *self.prediction) if np.isfinite(v)]
        left, right = min(finite), max(finite)
        span = right - left if right > left else 1.0
        ax.set_xlim(left - 0.05 * span, right + (0.55 if annotate else 0.05) * span)
        ax.set_xticks([t for t in ax.get_xticks() if left - 0.05 * span <= t <= right + 0.05 * span])
        if annotate:
            x_text = right + 0.08 * span
            for row, est, lo, hi, weight in zip(rows, estimates, low, high, weights, strict=True):
                ax.text(
                    x_text, row, f"{est:.2f} [{lo:.2f}, {hi:.2f}]  {weight:.1f}%", va="center", fontsize=8
                )
            ax.text(
                x_text,
                0.0,
                f"{pooled.estimate:.2f} [{pooled.ci_low:.2f}, {pooled.ci_high:.2f}]",
                va="center",
                fontsize=8,
                fontweight="bold",
            )
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_title(
            f"{_METHOD_NAMES[self.method]}{', Knapp-Hartung' if self.knapp_hartung else ''}: "
            f"τ² = {self.tau2:.3g}, I² = {self.i2:.0f}%, Q p = {self.q_p:.2g}",
            fontsize=9,
        )
        return ax


# --------------------------------------------------------------------------------------------------------
# Estimation
# --------------------------------------------------------------------------------------------------------


def _pooled(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, np.ndarray]:
    weights = 1.0 / (v + tau2)
    return float(weights @ y / weights.sum()), weights


def _generalized_q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Σ w_i(τ²)(y_i - μ̂(τ²))², which decreases in τ² from Cochran's Q at τ² = 0 (Viechtbauer, 2007)."""
    mu, weights = _pooled(y, v, tau2)
    return float(weights @ (y - mu) ** 2)


def _upper_bracket(function: Any, start: float) -> float:
    """A τ² large enough that `function` (decreasing) is negative there."""
    upper = max(start, 1e-8)
    while function(upper) > 0:
        upper *= 4.0
        if upper > 1e12:
            raise DataError("the between-study variance diverges; check the standard errors")
    return upper


def _solve_q(y: np.ndarray, v: np.ndarray, target: float) -> float:
    """The τ² ≥ 0 at which the generalized Q equals ``target`` (0 when Q(0) is already below it)."""

    def gap(tau2: float) -> float:
        return _generalized_q(y, v, tau2) - target

    if gap(0.0) <= 0:
        return 0.0
    upper = _upper_bracket(gap, float(np.var(y)) + float(np.max(v)))
    return float(optimize.brentq(gap, 0.0, upper, xtol=1e-14, rtol=1e-13))


def _reml_score(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Derivative of the REML log-likelihood with respect to τ² (Viechtbauer, 2005, eq. 9)."""
    mu, weights = _pooled(y, v, tau2)
    total = weights.sum()
    return 0.5 * float(np.sum(weights**2 * (y - mu) ** 2) - total + np.sum(weights**2) / total)


def _tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """REML τ²: the root of the REML score, or 0 when the score is negative at 0 (a boundary maximum)."""
    if _reml_score(y, v, 0.0) <= 0:
        return 0.0
    upper = _upper_bracket(lambda t: _reml_score(y, v, t), float(np.var(y)) + float(np.max(v)))
    return float(optimize.brentq(lambda t: _reml_score(y, v, t), 0.0, upper, xtol=1e-14, rtol=1e-13))


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    weights = 1.0 / v
    q = _generalized_q(y, v, 0.0)
    scaling = weights.sum() - np.sum(weights**2) / weights.sum()
    return max(0.0, (q - (y.size - 1)) / scaling)


def _as_values(data: pd.DataFrame | None, value: ArrayLike | None, role: str) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, str):
        if data is None:
            raise DataError(
                f"the {role} was given as a column name ('{value}') but no data", hint="pass data="
            )
        _columns.check_columns(data, [(role, value)])
        return data[value].to_numpy()
    return np.asarray(value)


def meta_analysis(
    data: pd.DataFrame | None = None,
    *,
    estimate: ArrayLike,
    se: ArrayLike,
    label: ArrayLike | None = None,
    method: Literal["reml", "dl", "pm"] = "reml",
    knapp_hartung: bool = True,
    level: float = 0.95,
    effect_label: str = "effect",
) -> MetaAnalysisResult:
    """Random-effects meta-analysis of k estimates with standard errors (sites, subgroups or studies).

    Parameters
    ----------
    data : pandas.DataFrame, optional
        One row per study; then ``estimate``, ``se`` and ``label`` are column names. Without data, pass
        arrays.
    estimate, se : str or array
        The per-study estimates and their standard errors (all finite, SEs positive).
    label : str or array, optional
        Study (site) names, unique; default "1", "2", ...
    method : {"reml", "dl", "pm"}
        Estimator of the between-study variance τ²: restricted maximum likelihood (default; Viechtbauer,
        2005), DerSimonian & Laird's (1986) moment estimator, or Paule & Mandel's (1982) generalized-Q
        estimator.
    knapp_hartung : bool
        Interval and test of the pooled effect with the Knapp-Hartung (Sidik-Jonkman) variance and a t
        distribution with k - 1 df (default, recommended with few studies; IntHout, Ioannidis & Borm, 2014);
        False uses the usual variance 1/Σw and the normal distribution.
    level : float
        Confidence level of every interval (and of the prediction interval).
    effect_label : str
        What the estimates are (e.g. "indirect effect"), used in the summary and as the forest plot's axis.

    Returns
    -------
    MetaAnalysisResult

    Raises
    ------
    DataError
        Fewer than two studies, missing or non-finite values, non-positive SEs, lengths that differ,
        duplicate labels, unknown columns or options.

    Notes
    -----
    With weights w_i = 1/(v_i + τ̂²), μ̂ = Σ w_i y_i / Σ w_i and Var(μ̂) = 1/Σ w_i. Cochran's
    Q = Σ (y_i - μ̂_FE)²/v_i. DL: τ̂² = max(0, (Q - (k - 1))/(Σ1/v_i - Σ(1/v_i²)/Σ(1/v_i))). PM: the τ² at
    which the generalized Q, Σ w_i(τ²)(y_i - μ̂(τ²))², equals k - 1. REML: the root of the REML score
    Σ w_i²(y_i - μ̂)² - Σ w_i + Σ w_i²/Σ w_i = 0, or 0 when the score is negative at τ² = 0; its SE is
    sqrt(2/(Σw² - 2Σw³/Σw + (Σw²/Σw)²)) from the Fisher information. The τ² interval is the Q-profile
    interval (Viechtbauer, 2007): the τ² at which the generalized Q equals the χ²(k - 1) quantiles.

    Knapp-Hartung: Var_KH(μ̂) = Σ w_i (y_i - μ̂)² / ((k - 1) Σ w_i), t(k - 1) (Hartung & Knapp, 2001; Sidik &
    Jonkman, 2002); it is not truncated at the usual variance (the "ad hoc" modification of Röver et al.,
    2015, is not applied). Prediction interval: μ̂ ± t(k - 2) sqrt(τ̂² + SE(μ̂)²) with SE(μ̂) as reported
    (Knapp-Hartung or not); metafor uses t(k - 1) with ``test="knha"``.

    I² and H² follow metafor: I² = τ̂²/(τ̂² + s²), H² = (τ̂² + s²)/s² with the typical within-study variance
    s² = (k - 1)Σw/((Σw)² - Σw²), w = 1/v (Higgins & Thompson, 2002, eq. 9); for DL they equal the Q-based
    versions, which are reported too (``i2_q``, ``h2_q``).

    References
    ----------
    DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled Clinical Trials*, 7,
    177-188.
    Hartung, J., & Knapp, G. (2001). A refined method for the meta-analysis of controlled clinical trials with
    binary outcome. *Statistics in Medicine*, 20, 3875-3889.
    Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying heterogeneity in a meta-analysis. *Statistics in
    Medicine*, 21, 1539-1558.
    Higgins, J. P. T., Thompson, S. G., & Spiegelhalter, D. J. (2009). A re-evaluation of random-effects
    meta-analysis. *JRSS A*, 172, 137-159.
    IntHout, J., Ioannidis, J. P. A., & Borm, G. F. (2014). The Hartung-Knapp-Sidik-Jonkman method for random
    effects meta-analysis is straightforward and considerably outperforms the standard DerSimonian-Laird
    method. *BMC Medical Research Methodology*, 14, 25.
    Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors. *Journal of Research of the
    National Bureau of Standards*, 87, 377-385.
    Sidik, K., & Jonkman, J. N. (2002). A simple confidence interval for meta-analysis. *Statistics in
    Medicine*, 21, 3153-3159.
    Veroniki, A. A., et al. (2016). Methods to estimate the between-study variance and its uncertainty in
    meta-analysis. *Research Synthesis Methods*, 7, 55-79.
    Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the random-effects
    model. *Journal of Educational and Behavioral Statistics*, 30, 261-293.
    Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in meta-analysis.
    *Statistics in Medicine*, 26, 37-52.

    Examples
    --------
    Per-site indirect effects of coaching through trust, pooled across six sites:

    >>> result = meta_analysis(
    ...     estimate=[0.21, 0.35, 0.10, 0.28, 0.42, 0.05],
    ...     se=[0.08, 0.12, 0.09, 0.10, 0.15, 0.11],
    ...     label=["A", "B", "C", "D", "E", "F"],
    ... )
    >>> round(result.pooled.estimate, 3), result.pooled.ci_method
    (0.214, 'knapp_hartung')
    >>> round(result.tau2, 4), round(result.i2, 1)
    (0.0039, 26.6)
    """
    _arguments.choice("method", method, METHODS)
    _arguments.check(level=level)
    if data is not None:
        _columns.data_frame(data)
    raw_y = _as_values(data, estimate, "estimate")
    raw_se = _as_values(data, se, "se")
    raw_labels = _as_values(data, label, "label")
    assert raw_y is not None and raw_se is not None
    if raw_y.ndim != 1 or raw_se.ndim != 1 or raw_y.size != raw_se.size:
        raise DataError(
            f"estimate and se must be one value per study of equal length, got {raw_y.size} and {raw_se.size}"
        )
    labels = [str(i + 1) for i in range(raw_y.size)] if raw_labels is None else [str(v) for v in raw_labels]
    if len(labels) != raw_y.size:
        raise DataError(f"label has {len(labels)} values but there are {raw_y.size} estimates")
    repeated = sorted({name for name in labels if labels.count(name) > 1})
    if repeated:
        raise DataError(f"study labels must be unique; repeated: {', '.join(repeated)}")
    try:
        y = raw_y.astype(np.float64)
        v_se = raw_se.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise DataError("estimate and se must be numbers", hint=str(error)) from error
    bad = [labels[i] for i in np.flatnonzero(~np.isfinite(y) | ~np.isfinite(v_se))]
    if bad:
        raise DataError(
            f"missing or infinite estimate or SE for {len(bad)} study(ies): {', '.join(bad[:10])}",
            hint="drop those studies (sites whose effect could not be estimated) before pooling",
        )
    bad = [labels[i] for i in np.flatnonzero(v_se <= 0)]
    if bad:
        raise DataError(
            f"standard errors must be positive; not for {', '.join(bad[:10])}",
            hint="an SE of zero means the estimate has no sampling error: check how it was computed",
        )
    k = y.size
    if k < 2:
        raise DataError(f"a meta-analysis needs at least two studies (sites), got {k}")

    v = v_se**2
    notes: list[str] = []
    # Common-effect (fixed) model and Cochran's Q.
    mu_fixed, w_fixed = _pooled(y, v, 0.0)
    se_fixed = 1.0 / math.sqrt(w_fixed.sum())
    q = _generalized_q(y, v, 0.0)
    q_df = k - 1
    q_p = float(special.chdtrc(q_df, q))

    if method == "reml":
        tau2 = _tau2_reml(y, v)
    elif method == "dl":
        tau2 = _tau2_dl(y, v)
    else:
        tau2 = _solve_q(y, v, k - 1.0)
    mu, weights = _pooled(y, v, tau2)
    total = weights.sum()
    alpha = 1.0 - level
    if knapp_hartung:
        # Sidik & Jonkman (2002) with 1 - alpha/2 and t(k-1); equals statsmodels' var_hksj_re.
        se_mu = math.sqrt(float(weights @ (y - mu) ** 2) / ((k - 1) * total))
        df: float | None = float(k - 1)
        ci_method = "knapp_hartung"
        if se_mu <= 1e-8 / math.sqrt(total):  # identical estimates: the scaled variance collapses
            se_mu = 1.0 / math.sqrt(total)
            notes.append(
                "the estimates are identical, so the Knapp-Hartung variance is zero; the usual variance "
                "1/Σw is used instead (with the t distribution)"
            )
    else:
        se_mu = 1.0 / math.sqrt(total)
        df = None
        ci_method = "wald"
    low, high, p = wald_interval(mu, se_mu, level, df)

    tau2_se = None
    if method == "reml":
        trace = np.sum(weights**2) - 2 * np.sum(weights**3) / total + (np.sum(weights**2) / total) ** 2
        tau2_se = math.sqrt(2.0 / trace)
    tau2_ci = (
        _solve_q(y, v, float(special.chdtri(q_df, alpha / 2))),
        _solve_q(y, v, float(special.chdtri(q_df, 1 - alpha / 2))),
    )
    typical = (k - 1) * w_fixed.sum() / (w_fixed.sum() ** 2 - np.sum(w_fixed**2))
    i2 = 100.0 * tau2 / (tau2 + typical)
    h2 = (tau2 + typical) / typical
    i2_q = 100.0 * max(0.0, (q - q_df) / q) if q > 0 else 0.0
    h2_q = q / q_df

    if k >= 3:
        half = float(special.stdtrit(k - 2, 1 - alpha / 2)) * math.sqrt(tau2 + se_mu**2)
        prediction = (mu - half, mu + half)
    else:
        prediction = (math.nan, math.nan)
        notes.append(
            "with two studies there is no prediction interval (it needs k - 2 > 0 degrees of freedom)"
        )
    if k < FEW_STUDIES:
        notes.append(
            f"only {k} studies (sites): τ² and I² are estimated very imprecisely (Veroniki et al. 2016); "
            "read the Q-profile interval of τ² and the prediction interval, not the point estimates"
        )
    if tau2 == 0.0 and q > q_df:
        notes.append(f"the {_METHOD_NAMES[method]} estimate of τ² is at its boundary (0)")

    z = float(special.ndtri(1 - alpha / 2))
    columns = {
        "label": labels,
        "estimate": y,
        "se": v_se,
        "ci_low": y - z * v_se,
        "ci_high": y + z * v_se,
        "weight": 100.0 * weights / total,
        "weight_fixed": 100.0 * w_fixed / w_fixed.sum(),
    }
    study_frame = pd.DataFrame(columns)
    method_text = (
        f"random effects, τ² by {_METHOD_NAMES[method]}; "
        + (f"Knapp-Hartung-Sidik-Jonkman t({k - 1}) interval" if knapp_hartung else "normal (Wald) interval")
        + f"; {level:.0%} intervals"
    )
    pooled_low, pooled_high, pooled_p = wald_interval(mu_fixed, se_fixed, level)
    effects = [
        Effect(
            "pooled",
            "pooled",
            mu,
            se_mu,
            float(low),
            float(high),
            float(p),
            ci_method,
            {
                "df": df,
                "prediction_low": prediction[0],
                "prediction_high": prediction[1],
                "se_unadjusted": 1.0 / math.sqrt(total),
            },
        ),
        Effect(
            "pooled_fixed",
            "pooled_fixed",
            mu_fixed,
            se_fixed,
            float(pooled_low),
            float(pooled_high),
            float(pooled_p),
            "wald",
        ),
        Effect("tau2", "heterogeneity", tau2, tau2_se, tau2_ci[0], tau2_ci[1], None, "q_profile"),
    ]
    study_p = 2 * special.ndtr(-np.abs(y / v_se))
    # From the columns, not the frame's rows: iterating a DataFrame costs more than the pooling itself.
    for label, *numbers in zip(
        labels,
        *(columns[name].tolist() for name in ("estimate", "se", "ci_low", "ci_high", "weight")),
        study_p.tolist(),
        strict=True,
    ):
        estimate, se, ci_low, ci_high, weight, p_value = numbers
        effects.append(
            Effect(
                f"study[{label}]", "study", estimate, se, ci_low, ci_high, p_value, "wald", {"weight": weight}
            )
        )
    info: dict[str, Any] = {
        "method": method_text,
        "n": k,
        "k": k,
        "tau2_method": method,
        "level": level,
        "knapp_hartung": knapp_hartung,
        "typical_within_variance": float(typical),
    }
    return MetaAnalysisResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        studies=study_frame,
        k=k,
        method=method,
        knapp_hartung=knapp_hartung,
        tau2=float(tau2),
        tau=math.sqrt(tau2),
        tau2_se=tau2_se,
        tau2_ci=tau2_ci,
        i2=float(i2),
        h2=float(h2),
        i2_q=float(i2_q),
        h2_q=float(h2_q),
        q=float(q),
        q_df=q_df,
        q_p=q_p,
        prediction=prediction,
        effect_label=effect_label,
    )


# --------------------------------------------------------------------------------------------------------
# Per-cluster indirect effects
# --------------------------------------------------------------------------------------------------------


def _pool_column(
    result: Any, estimate: str, se: str, label: str, method: str, knapp_hartung: bool, level: float
) -> MetaAnalysisResult:
    """Random-effects meta-analysis of one column of a per-cluster result's table, carrying over the
    result's warnings (dropped and small clusters)."""
    assert result.table is not None
    pooled = meta_analysis(
        result.table,
        estimate=estimate,
        se=se,
        label="cluster",
        method=method,
        knapp_hartung=knapp_hartung,
        level=level,
        effect_label=label,
    )
    return replace(pooled, warnings=tuple(dict.fromkeys([*result.warnings, *pooled.warnings])))


@dataclass(frozen=True, repr=False)
class ClusterEffectsResult(AnalysisResult):
    """Result of `cluster_indirect_effects`: the mediation paths estimated separately within each cluster.

    Effects: one ``indirect[cluster]`` per cluster (a·b with its delta-method SE, z interval and p).
    ``table`` has one row per cluster: cluster, n, a, se_a, b, se_b, direct, se_direct, indirect,
    se_indirect. `pool` meta-analyses one of these columns across clusters.
    """

    table: pd.DataFrame | None = None
    dropped: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)

    title = "Per-cluster mediation paths"
    headline = ("indirect",)

    def pool(
        self,
        effect: Literal["indirect", "a", "b", "direct"] = "indirect",
        *,
        method: Literal["reml", "dl", "pm"] = "reml",
        knapp_hartung: bool = True,
        level: float = 0.95,
    ) -> MetaAnalysisResult:
        """Random-effects meta-analysis of one per-cluster effect (see `meta_analysis`); the warnings about
        small clusters are carried over.

        Examples
        --------
        See `cluster_indirect_effects`.
        """
        if effect not in ("indirect", "a", "b", "direct"):
            raise DataError(f"effect must be 'indirect', 'a', 'b' or 'direct', not {effect!r}")
        se_column = "se_indirect" if effect == "indirect" else f"se_{effect}"
        label = {
            "indirect": "indirect effect (a·b)",
            "a": f"a path ({self.names.get('x')} → {self.names.get('m')})",
            "b": f"b path ({self.names.get('m')} → {self.names.get('y')})",
            "direct": f"direct effect ({self.names.get('x')} → {self.names.get('y')})",
        }[effect]
        return _pool_column(self, effect, se_column, label, method, knapp_hartung, level)

    def plot(
        self, ax: Any = None, effect: Literal["indirect", "a", "b", "direct"] = "indirect", **pool: Any
    ) -> Any:
        """Forest plot of one per-cluster effect with its random-effects pooled estimate and prediction
        interval (`pool` then `MetaAnalysisResult.plot`); returns the matplotlib Axes."""
        return self.pool(effect, **pool).plot(ax)


def _per_cluster_ols(
    z: np.ndarray,
    codes: np.ndarray,
    cross: np.ndarray,
    sizes: np.ndarray,
    response: int,
    predictors: list[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS of one equation within every cluster at once: coefficients, classical SEs and a flag of clusters
    whose model cannot be estimated (singular, or no residual degrees of freedom), from the per-cluster
    cross products of ``z`` (`crossproducts` with one 0/1 weight row per cluster)."""
    n_clusters = sizes.size
    coefficients, singular = solve_equations(cross, response, predictors)
    df = sizes - len(predictors)
    singular = singular | (df < 1)
    residual = z[:, response] - np.einsum("ij,ij->i", z[:, predictors], coefficients[codes])
    sigma2 = np.bincount(codes, weights=residual**2, minlength=n_clusters) / np.where(df > 0, df, 1)
    gram = cross[:, predictors][:, :, predictors]
    safe = np.where(singular[:, None, None], np.eye(len(predictors)), gram)
    covariance = np.linalg.inv(safe) * sigma2[:, None, None]
    ses = np.sqrt(np.einsum("gii->gi", covariance))
    coefficients[singular] = np.nan
    ses[singular] = np.nan
    return coefficients, ses, singular


def complete_cluster_rows(
    data: pd.DataFrame, roles: dict[str, str], covariates: list[str], cluster: str
) -> tuple[pd.DataFrame, list[str]]:
    """The complete rows of the named columns (checked: present, distinct, numeric) and the notes."""
    data = _columns.data_frame(data)
    named = [*roles.items(), *[("covariate", c) for c in covariates], ("cluster", cluster)]
    _columns.check_columns(data, named)
    frame, _, note = _columns.complete_rows(data[[name for _, name in named]])
    for role, name in named[:-1]:
        _columns.numeric_values(frame[name], role, name)
    return frame, [note] if note else []


@dataclass(frozen=True)
class _ClusterDesign:
    """The complete rows of a per-cluster analysis as the solver needs them: centred columns with an
    intercept (``z``; centring keeps the normal equations well conditioned, see moclab.analysis.bootstrap),
    cluster codes and labels, one cross-product matrix per cluster and the cluster sizes."""

    z: np.ndarray
    codes: np.ndarray
    labels: np.ndarray
    cross: np.ndarray
    sizes: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame, names: list[str], cluster: str) -> _ClusterDesign:
        codes, labels = factorize_clusters(frame[cluster].to_numpy())
        values = frame[names].to_numpy(dtype=np.float64)
        n = values.shape[0]
        z = np.column_stack([np.ones(n), values - values.mean(axis=0)])
        indicator = np.zeros((labels.size, n))
        indicator[codes, np.arange(n)] = 1.0
        return cls(z, codes, labels, crossproducts(z, indicator), indicator.sum(axis=1))

    def ols(self, response: int, predictors: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _per_cluster_ols(self.z, self.codes, self.cross, self.sizes, response, predictors)


def _dropped_note(labels: np.ndarray, failed: np.ndarray, why: str) -> str | None:
    dropped = [str(labels[g]) for g in np.flatnonzero(failed)]
    if not dropped:
        return None
    return f"{len(dropped)} cluster(s) dropped because {why}: {', '.join(dropped[:10])}" + (
        ", ..." if len(dropped) > 10 else ""
    )


def _small_note(table: pd.DataFrame, min_size: int, consequence: str) -> str | None:
    small = table.loc[table["n"] < min_size, "cluster"].tolist()
    if not small:
        return None
    return (
        f"{len(small)} of {len(table)} clusters have fewer than {min_size} rows ({', '.join(small[:10])}"
        + (", ..." if len(small) > 10 else "")
        + f"): {consequence}"
    )


def _cluster_info(method: str, n: int, k: int, level: float, covariates: list[str], min_size: int) -> dict:
    return {
        "method": method,
        "n": int(n),
        "n_clusters": int(k),
        "level": level,
        "covariates": covariates,
        "min_size": int(min_size),
    }


@dataclass(frozen=True, repr=False)
class ClusterSlopesResult(AnalysisResult):
    """Result of `cluster_slopes`: one regression slope estimated separately within each cluster.

    Effects: one ``slope[cluster]`` per cluster (t interval and p with the cluster's residual df). ``table``
    has one row per cluster: cluster, n, slope, se_slope, df. `pool` meta-analyses the slopes.
    """

    table: pd.DataFrame | None = None
    dropped: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)

    title = "Per-cluster slopes"
    headline = ("slope",)

    def pool(
        self,
        *,
        method: Literal["reml", "dl", "pm"] = "reml",
        knapp_hartung: bool = True,
        level: float = 0.95,
    ) -> MetaAnalysisResult:
        """Random-effects meta-analysis of the per-cluster slopes (see `meta_analysis`), with a prediction
        interval for the slope in a new cluster; the warnings about dropped or small clusters are carried
        over.

        Examples
        --------
        See `cluster_slopes`.
        """
        label = f"slope of {self.names.get('y')} on {self.names.get('x')}"
        return _pool_column(self, "slope", "se_slope", label, method, knapp_hartung, level)

    def plot(self, ax: Any = None, **pool: Any) -> Any:
        """Forest plot of the per-cluster slopes with their random-effects pooled estimate and prediction
        interval (`pool` then `MetaAnalysisResult.plot`); returns the matplotlib Axes."""
        return self.pool(**pool).plot(ax)


def cluster_slopes(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    cluster: str,
    covariates: Sequence[str] = (),
    level: float = 0.95,
    min_size: int = SMALL_CLUSTER,
) -> ClusterSlopesResult:
    """The slope of `y` on `x` (given the covariates) estimated within each cluster (site).

    In a site-randomized study the strategy is constant within sites, so the a path has no per-site
    estimate, but the b path (the outcome on the mechanism) does: `cluster_slopes` estimates it in every
    site, and `ClusterSlopesResult.pool` says how much it varies between sites (τ², prediction interval).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per individual.
    x, y : str
        Numeric columns of the predictor (the mechanism) and the response (the outcome).
    cluster : str
        Column identifying the clusters (sites).
    covariates : sequence of str
        Numeric covariates entering the regression within every cluster.
    level : float
        Confidence level of the per-cluster intervals.
    min_size : int
        Clusters with fewer rows get a warning.

    Returns
    -------
    ClusterSlopesResult

    Raises
    ------
    DataError
        Unknown or non-numeric columns, fewer than two clusters in which the regression can be estimated.

    Notes
    -----
    Within cluster g, OLS of ``Y = i + β X + C'γ`` with the classical SE of β and t intervals with
    n_g − p residual degrees of freedom; clusters where the model cannot be estimated (too few rows, X
    constant) are dropped and listed. The same per-cluster solver as `cluster_indirect_effects`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> site = np.repeat(np.arange(10), 40)
    >>> trust = rng.normal(size=400)
    >>> adoption = (0.4 + rng.normal(0, 0.05, 10)[site]) * trust + rng.normal(size=400)
    >>> frame = pd.DataFrame({"site": site, "trust": trust, "adoption": adoption})
    >>> slopes = cluster_slopes(frame, x="trust", y="adoption", cluster="site")
    >>> slopes.table.shape[0]
    10
    >>> pooled = slopes.pool()
    >>> bool(pooled.pooled.ci_low < 0.4 < pooled.pooled.ci_high)
    True
    """
    _arguments.check(level=level)
    if int(min_size) != min_size or min_size < 1:
        raise DataError(f"min_size must be a positive whole number, not {min_size!r}")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    frame, notes = complete_cluster_rows(data, {"predictor x": x, "response y": y}, covariates, cluster)
    design = _ClusterDesign.of(frame, [x, y, *covariates], cluster)
    predictors = [0, 1, *range(3, 3 + len(covariates))]
    coefficients, ses, singular = design.ols(2, predictors)
    dropped = [str(design.labels[g]) for g in np.flatnonzero(singular)]
    note = _dropped_note(
        design.labels,
        singular,
        f"the regression could not be estimated in them (too few rows, or '{x}' constant)",
    )
    notes += [note] if note else []
    if (~singular).sum() < 2:
        raise DataError(
            f"the per-cluster regressions could be estimated in only {int((~singular).sum())} cluster(s) of "
            f"'{cluster}'",
            hint="pooling needs at least two clusters with enough rows and variation in the predictor",
        )
    table = (
        pd.DataFrame(
            {
                "cluster": [str(v) for v in design.labels],
                "n": design.sizes.astype(int),
                "slope": coefficients[:, 1],
                "se_slope": ses[:, 1],
                "df": (design.sizes - len(predictors)).astype(int),
            }
        )
        .loc[~singular]
        .reset_index(drop=True)
    )
    note = _small_note(table, min_size, "their slopes are imprecise")
    notes += [note] if note else []
    effects = []
    for row in table.itertuples(index=False):
        low, high, p = wald_interval(row.slope, row.se_slope, level, df=row.df)
        extra = {"cluster": row.cluster, "n": int(row.n)}
        numbers = (float(v) for v in (row.slope, row.se_slope, low, high, p))
        effects.append(Effect(f"slope[{row.cluster}]", "slope", *numbers, "t", extra))
    info = _cluster_info(
        "OLS within each cluster; classical SEs, t intervals",
        len(frame),
        len(table),
        level,
        covariates,
        min_size,
    )
    return ClusterSlopesResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        table=table,
        dropped=tuple(dropped),
        names={"x": x, "y": y, "cluster": cluster},
    )


def cluster_indirect_effects(
    data: pd.DataFrame,
    *,
    x: str,
    m: str,
    y: str,
    cluster: str,
    covariates: Sequence[str] = (),
    level: float = 0.95,
    min_size: int = SMALL_CLUSTER,
) -> ClusterEffectsResult:
    """The a path, b path, direct effect and indirect effect a·b estimated within each cluster (site).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per individual.
    x, m, y : str
        Numeric columns of the strategy (it must vary within clusters: a dose, or an arm randomized within
        sites), the mechanism and the outcome.
    cluster : str
        Column identifying the clusters (sites).
    covariates : sequence of str
        Numeric covariates entering both equations within every cluster.
    level : float
        Confidence level of the per-cluster intervals.
    min_size : int
        Clusters with fewer rows get a warning (per-cluster products of coefficients are unstable).

    Returns
    -------
    ClusterEffectsResult
        With `ClusterEffectsResult.pool` to meta-analyse the per-cluster effects.

    Raises
    ------
    DataError
        Unknown or non-numeric columns, a strategy constant within every cluster (a site-level strategy),
        fewer than two clusters in which the model can be estimated.

    Notes
    -----
    Within cluster g, OLS of ``M = i + a X + C'γ`` and ``Y = i + c' X + b M + C'γ``; the indirect effect
    a_g b_g has the first-order delta-method (Sobel, 1982) SE sqrt(b² SE_a² + a² SE_b²), which treats the
    two estimates as independent (they are, asymptotically, under the model). All clusters are solved at
    once from their cross-product matrices (`moclab.analysis.bootstrap.crossproducts` with one 0/1 weight
    vector per cluster). Clusters in which a model cannot be estimated (too few rows, X or M constant in
    the cluster) are dropped and listed in a warning. Rows with a missing value are dropped (listwise).

    This two-stage approach (estimate per cluster, then pool) treats each cluster's estimate as exact
    apart from its SE; it needs clusters of reasonable size. With small clusters prefer the multilevel
    model (`multilevel_mediate`, 1-1-1 with random a and b slopes), whose σ_ab and slope variances describe
    the same heterogeneity with partial pooling.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> site = np.repeat(np.arange(8), 60)
    >>> dose = rng.normal(size=480)
    >>> trust = (0.5 + rng.normal(0, 0.1, 8)[site]) * dose + rng.normal(size=480)
    >>> adoption = 0.4 * trust + rng.normal(size=480)
    >>> frame = pd.DataFrame({"site": site, "dose": dose, "trust": trust, "adoption": adoption})
    >>> per_site = cluster_indirect_effects(frame, x="dose", m="trust", y="adoption", cluster="site")
    >>> per_site.table.shape[0]
    8
    >>> pooled = per_site.pool("indirect")
    >>> bool(pooled.pooled.ci_low < 0.2 < pooled.pooled.ci_high)
    True
    """
    _arguments.check(level=level)
    if int(min_size) != min_size or min_size < 1:
        raise DataError(f"min_size must be a positive whole number, not {min_size!r}")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    frame, notes = complete_cluster_rows(
        data, {"strategy x": x, "mediator m": m, "outcome y": y}, covariates, cluster
    )
    design = _ClusterDesign.of(frame, [x, m, y, *covariates], cluster)
    codes, labels, sizes = design.codes, design.labels, design.sizes
    c_cols = list(range(4, 4 + len(covariates)))
    coef_m, se_m, bad_m = design.ols(2, [0, 1, *c_cols])
    coef_y, se_y, bad_y = design.ols(3, [0, 1, 2, *c_cols])
    x_centred = design.z[:, 1]
    x_deviation = x_centred - (np.bincount(codes, weights=x_centred) / sizes)[codes]
    within_x = np.bincount(codes, weights=x_deviation**2, minlength=labels.size)
    if not np.any(within_x > 1e-12 * max(float(np.sum(x_centred**2)), 1e-300)):
        raise DataError(
            f"the strategy '{x}' does not vary within any cluster of '{cluster}' (a site-level strategy), so "
            "no per-cluster a path can be estimated",
            hint="compare sites with multilevel_mediate (2-1-1 design), or pool per-site b paths only",
        )
    usable = ~(bad_m | bad_y)
    dropped = [str(labels[g]) for g in np.flatnonzero(~usable)]
    note = _dropped_note(
        labels,
        ~usable,
        "a model could not be estimated in them (too few rows, or the strategy or mediator "
        "constant within the cluster)",
    )
    notes += [note] if note else []
    if usable.sum() < 2:
        raise DataError(
            f"the per-cluster models could be estimated in only {int(usable.sum())} cluster(s) of "
            f"'{cluster}'",
            hint="pooling needs at least two; use the multilevel model for small or few clusters",
        )
    a, se_a = coef_m[:, 1], se_m[:, 1]
    b, se_b = coef_y[:, 2], se_y[:, 2]
    direct, se_direct = coef_y[:, 1], se_y[:, 1]
    indirect = a * b
    se_indirect = np.sqrt(b**2 * se_a**2 + a**2 * se_b**2)
    table = (
        pd.DataFrame(
            {
                "cluster": [str(v) for v in labels],
                "n": sizes.astype(int),
                "a": a,
                "se_a": se_a,
                "b": b,
                "se_b": se_b,
                "direct": direct,
                "se_direct": se_direct,
                "indirect": indirect,
                "se_indirect": se_indirect,
            }
        )
        .loc[usable]
        .reset_index(drop=True)
    )
    note = _small_note(
        table,
        min_size,
        "their a·b is skewed and its delta-method SE unreliable, so the pooled per-cluster effects rest on "
        "shaky normal approximations; prefer multilevel_mediate for small clusters",
    )
    notes += [note] if note else []
    effects = []
    for row in table.itertuples(index=False):
        low, high, p = wald_interval(row.indirect, row.se_indirect, level)
        extra = {"cluster": row.cluster, "n": int(row.n), "a": float(row.a), "b": float(row.b)}
        effects.append(
            Effect(
                f"indirect[{row.cluster}]",
                "indirect",
                row.indirect,
                row.se_indirect,
                low,
                high,
                p,
                "delta",
                extra,
            )
        )
    info = _cluster_info(
        "OLS within each cluster; indirect effect a·b with first-order delta-method (Sobel) SE",
        len(frame),
        len(table),
        level,
        covariates,
        min_size,
    )
    return ClusterEffectsResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        table=table,
        dropped=tuple(dropped),
        names={"x": x, "m": m, "y": y, "cluster": cluster},
    )
