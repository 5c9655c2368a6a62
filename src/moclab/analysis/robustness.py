"""Robustness of one regression coefficient to omitted-variable bias (Cinelli & Hazlett 2020).

In moclab the coefficient is usually the mechanism → outcome link: the regression of the outcome on the
mechanism (the "treatment" of the sensitivity analysis) and pre-treatment covariates. That link is not
randomized, so an unmeasured confounder of mechanism and outcome may produce or hide it. `robustness`
reports how strong such a confounder would have to be, in partial R² with the mechanism and with the
outcome, to explain the estimate away (the robustness value RV_q) or to make it indistinguishable from the
reduced value at a given confidence level (RV_{q,α}), and, for a measured covariate named as benchmark, the
partial R² of a confounder k times as strong as that covariate and the estimate it would leave.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import least_squares, ols, wald
from moclab.analysis.bootstrap import factorize_clusters
from moclab.analysis.clustering import FEW_CLUSTERS
from moclab.analysis.intervals import wald_interval
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError

__all__ = ["RobustnessResult", "robustness"]


# --------------------------------------------------------------------------------------------------------
# Input handling shared with `instrumental_effect`
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegressionRows:
    """Complete rows of a regression analysis, validated once at the boundary.

    ``frame`` holds the analysed columns of the complete rows; ``covariates`` the covariate matrix (text
    columns as 0/1 indicators, first level the reference) with ``covariate_blocks`` the columns of every
    covariate; ``codes`` the cluster code 0..G-1 of every row (None: no clustering); ``notes`` what the
    preparation dropped or warns about.
    """

    frame: pd.DataFrame
    covariates: np.ndarray
    covariate_names: tuple[str, ...]
    covariate_blocks: dict[str, list[int]]
    codes: np.ndarray | None
    n_clusters: int | None
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.frame)


def prepare_regression_rows(
    data: pd.DataFrame,
    *,
    numeric: Mapping[str, str],
    other: Mapping[str, str] | None = None,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    n_parameters: int,
) -> RegressionRows:
    """Validate the columns of a regression with optional clusters and drop incomplete rows.

    ``numeric`` maps a role ("outcome", "treatment") to a column that must be numeric and not constant;
    ``other`` maps roles to columns checked only for presence (the caller interprets them, e.g. a
    categorical instrument). Raises `DataError` naming the column for unknown, repeated, non-numeric or
    constant columns, for fewer complete rows than coefficients + 2 (``n_parameters`` coefficients besides
    the covariates') and for fewer than three clusters.
    """
    data = _columns.data_frame(data)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    roles = [*numeric.items(), *(other or {}).items(), *[("covariate", c) for c in covariates]]
    roles += [("cluster", cluster)] if cluster is not None else []
    _columns.check_columns(data, roles)
    frame, _, note = _columns.complete_rows(data[[name for _, name in roles]])
    notes = [note] if note else []
    _columns.check_enough_rows(len(frame), n_parameters + len(covariates))
    for role, name in numeric.items():
        _columns.check_not_constant(_columns.numeric_values(frame[name], role, name), role, name)
    found = _columns.covariate_matrix(frame, covariates)
    matrix, names, spans = found.matrix, found.names, found.spans
    codes, n_clusters = None, None
    if cluster is not None:
        codes = factorize_clusters(frame[cluster].to_numpy())[0]
        n_clusters = int(codes.max()) + 1
        if n_clusters < 3:
            raise DataError(
                f"only {n_clusters} cluster(s) in '{cluster}': cluster-robust standard errors need many more",
                hint="analyse without cluster= or collect more sites",
            )
        if n_clusters < FEW_CLUSTERS:
            notes.append(
                f"only {n_clusters} clusters: cluster-robust standard errors are too small with fewer than "
                f"about {FEW_CLUSTERS} (Cameron & Miller 2015); treat intervals as optimistic"
            )
    _columns.check_enough_rows(len(frame), n_parameters + len(names))  # a text covariate: levels - 1
    return RegressionRows(
        frame=frame,
        covariates=matrix,
        covariate_names=tuple(names),
        covariate_blocks=spans,
        codes=codes,
        n_clusters=n_clusters,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------------------
# Closed forms of Cinelli & Hazlett (2020)
# --------------------------------------------------------------------------------------------------------


def robustness_value(f_q: float, f_critical: float = 0.0) -> float:
    """Robustness value for a partial Cohen's f already scaled by q, against a critical f (0: point estimate).

    ``RV = ½(√(f⁴ + 4f²) − f²)`` with ``f = f_q − f_critical`` (Cinelli & Hazlett 2020, eqs. 18-20); 0
    when ``f ≤ 0``; and ``(f_q² − f_critical²)/(1 + f_q²)`` when ``f_q > 1/f_critical`` (then a confounder
    explaining all the residual variance of the outcome is needed, and only its partial R² with the
    treatment is binding; the convention of the sensemakr packages).

    Examples
    --------
    >>> round(robustness_value(1.0), 4)
    0.618
    >>> robustness_value(0.1, 0.2)
    0.0
    """
    f = f_q - f_critical
    if f <= 0:
        return 0.0
    if f_critical > 0 and f_q > 1.0 / f_critical:
        return float((f_q**2 - f_critical**2) / (1.0 + f_q**2))
    return float(0.5 * (math.sqrt(f**4 + 4.0 * f**2) - f**2))


def _residual_ss(design: np.ndarray, response: np.ndarray) -> float:
    residual = least_squares(design, response).residuals
    return float(residual @ residual)


def partial_r_squared(design: np.ndarray, response: np.ndarray, columns: Sequence[int]) -> float:
    """Share of the residual variance of ``response`` (given the other columns) explained by ``columns``.

    ``(RSS_without - RSS_with) / RSS_without``; for one column it equals t²/(t² + df) of that column's
    classical t in the full regression.

    Examples
    --------
    >>> x = np.column_stack([np.ones(5), [0.0, 1, 2, 3, 4]])
    >>> round(partial_r_squared(x, np.array([0.1, 1.2, 1.9, 3.2, 3.9]), [1]), 4)
    0.9918
    """
    reduced = np.delete(design, list(columns), axis=1)
    rss_reduced = _residual_ss(reduced, response)
    return float((rss_reduced - _residual_ss(design, response)) / rss_reduced)


# --------------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class RobustnessResult(AnalysisResult):
    """Result of `robustness`.

    Effects: ``coefficient`` (the treatment's OLS coefficient with its interval), ``partial_r2``
    (R²_{Y~D|X}), ``rv_q`` and ``rv_qa`` (robustness values), and with a benchmark one ``bound`` effect per
    multiple k, named like ``"2x female"``: the estimate adjusted for a confounder k times as strong as the
    benchmark, with its adjusted interval.

    Attributes
    ----------
    treatment, outcome : str
        Column names.
    estimate, se, t : float
        The coefficient, its standard error and t statistic (CR1 cluster-robust when clustered).
    df : float
        Residual degrees of freedom n - p of the regression (the df of the omitted-variable-bias algebra).
    t_classical : float
        t with the classical standard error; the partial R² and RV_q are functions of it.
    partial_r2 : float
        R²_{Y~D|X} = t²/(t² + df): the share of the outcome's residual variance explained by the treatment,
        also the partial R² with the treatment a confounder explaining *all* the outcome's residual variance
        would need to explain the estimate away.
    rv_q, rv_qa : float
        Robustness values: the partial R² a confounder must have with both treatment and outcome to reduce
        the estimate by 100q %, or to make the interval include the reduced value.
    q, level : float
        Fraction of the estimate to explain away, and confidence level (α = 1 - level).
    bounds : pandas.DataFrame or None
        One row per benchmark and multiple: benchmark, k, r2dxj_x, r2yxj_dx (the benchmark's own partial
        R² with treatment and outcome), r2dz_x, r2yz_dx (the bounds on the confounder's), adjusted_estimate,
        adjusted_se, adjusted_t, adjusted_ci_low, adjusted_ci_high.
    n, n_clusters : int
        Rows analysed; clusters (None: classical standard errors).
    """

    treatment: str = ""
    outcome: str = ""
    estimate: float = float("nan")
    se: float = float("nan")
    t: float = float("nan")
    df: float = float("nan")
    t_classical: float = float("nan")
    partial_r2: float = float("nan")
    rv_q: float = float("nan")
    rv_qa: float = float("nan")
    q: float = 1.0
    level: float = 0.95
    bounds: pd.DataFrame | None = None
    n: int = 0
    n_clusters: int | None = None
    covariates: tuple[str, ...] = field(default_factory=tuple)

    title = "Robustness to omitted-variable bias"
    headline = ("coefficient", "partial_r2", "rv_q", "rv_qa")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        base.update(
            plain(
                {
                    "treatment": self.treatment,
                    "outcome": self.outcome,
                    "estimate": self.estimate,
                    "se": self.se,
                    "t": self.t,
                    "df": self.df,
                    "t_classical": self.t_classical,
                    "partial_r2": self.partial_r2,
                    "rv_q": self.rv_q,
                    "rv_qa": self.rv_qa,
                    "q": self.q,
                    "level": self.level,
                    "bounds": self.bounds,
                    "n": self.n,
                    "n_clusters": self.n_clusters,
                    "covariates": list(self.covariates),
                }
            )
        )
        return base

    def plot(self, ax: Any = None, *, limit: float | None = None) -> Any:
        """Contours of the estimate adjusted for a confounder with partial R² ``r2dz_x`` with the treatment
        (horizontal) and ``r2yz_dx`` with the outcome (vertical), as in Cinelli & Hazlett (2020, Fig. 2): the
        contour where the adjusted estimate reaches (1 - q)·estimate dashed in red, the benchmark bounds as
        points. ``limit`` is the largest partial R² shown (default: past RV_q and every bound). Returns the
        matplotlib Axes.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> rng = np.random.default_rng(4)
        >>> frame = pd.DataFrame({"trust": rng.normal(size=300), "readiness": rng.normal(size=300)})
        >>> frame["adoption"] = 0.3 * frame.trust + 0.3 * frame.readiness + rng.normal(size=300)
        >>> result = robustness(frame, y="adoption", treatment="trust", covariates=["readiness"],
        ...                     benchmark="readiness")
        >>> result.plot().get_xlabel()
        'partial R² of the confounder with the treatment (trust)'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 5.0))
        bounds = self.bounds if self.bounds is not None else pd.DataFrame(columns=["r2dz_x", "r2yz_dx"])
        reach = [self.rv_q, *bounds["r2dz_x"], *bounds["r2yz_dx"]]
        top = limit if limit is not None else min(0.99, max(0.4, 1.25 * max(reach)))
        r2d, r2y = np.meshgrid(np.linspace(0.0, top, 121), np.linspace(0.0, top, 121))
        se_classical = abs(self.estimate / self.t_classical)
        bias = se_classical * np.sqrt(self.df * r2y * r2d / (1.0 - r2d))
        adjusted = np.sign(self.estimate) * (abs(self.estimate) - bias)
        # Contours at fractions of the estimate: it halves, vanishes and reverses along them.
        fractions = np.array([-2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 0.75])
        levels = np.sort(fractions * self.estimate)
        lines = ax.contour(r2d, r2y, adjusted, levels=levels, colors="0.45", linewidths=0.8)
        ax.clabel(lines, fontsize=7, fmt="%.3g")
        target = (1.0 - self.q) * self.estimate
        if adjusted.min() <= target <= adjusted.max():
            ax.contour(r2d, r2y, adjusted, levels=[target], colors="tab:red", linestyles="--", linewidths=1.4)
        ax.plot([0.0], [0.0], "^", color="black")
        ax.annotate(
            f"unadjusted ({self.estimate:.3g})", (0.0, 0.0), xytext=(5, 5), textcoords="offset points"
        )
        for row in bounds.itertuples(index=False):
            ax.plot([row.r2dz_x], [row.r2yz_dx], "o", color="tab:red")
            text = f"{row.k:g}x {row.benchmark} ({row.adjusted_estimate:.3g})"
            ax.annotate(
                text, (row.r2dz_x, row.r2yz_dx), xytext=(5, 5), textcoords="offset points", fontsize=8
            )
        ax.set_xlim(0.0, top)
        ax.set_ylim(0.0, top)
        ax.set_xlabel(f"partial R² of the confounder with the treatment ({self.treatment})")
        ax.set_ylabel(f"partial R² of the confounder with the outcome ({self.outcome})")
        ax.set_title(f"Estimate adjusted for a confounder (RV_q = {self.rv_q:.3f})", fontsize=9)
        return ax

    def summary(self, digits: int = 4) -> str:
        """The coefficient, the sensitivity statistics in words, the benchmark bounds and warnings."""
        percent = f"{100 * self.q:g}%"
        alpha = 1 - self.level
        lines = [
            f"{self.title}: {self.outcome} on {self.treatment}; n = {self.n}"
            + (f" in {self.n_clusters} clusters" if self.n_clusters else "")
            + f", df = {self.df:g}",
            f"  estimate {self.estimate:.{digits}g} (SE {self.se:.{digits}g}, t = {self.t:.3f})",
            f"  partial R2 of {self.treatment} with {self.outcome}: {self.partial_r2:.2%} (a confounder "
            f"explaining all the residual variance of {self.outcome} would need at least this partial R2 "
            f"with {self.treatment} to explain the estimate away)",
            f"  RV_q (q = {self.q:g}): {self.rv_q:.2%}: confounders explaining less than this of the "
            f"residual variance of both {self.treatment} and {self.outcome} cannot reduce the estimate "
            f"by {percent}",
            f"  RV_q,a (alpha = {alpha:.3g}): {self.rv_qa:.2%}: confounders weaker than this cannot bring "
            f"the {self.level:.0%} interval to include the estimate reduced by {percent}",
        ]
        if self.bounds is not None and len(self.bounds):
            table = self.bounds[
                [
                    "benchmark",
                    "k",
                    "r2dz_x",
                    "r2yz_dx",
                    "adjusted_estimate",
                    "adjusted_ci_low",
                    "adjusted_ci_high",
                ]
            ]
            lines.extend(["", "Bounds from benchmark covariates (confounder k times as strong):"])
            lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}"))
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------------


def robustness(
    data: pd.DataFrame,
    *,
    y: str,
    treatment: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    q: float = 1.0,
    level: float = 0.95,
    benchmark: str | Sequence[str] | None = None,
    benchmark_multiples: Sequence[float] = (1.0, 2.0, 3.0),
) -> RobustnessResult:
    """How strong must an unmeasured confounder be to explain away one regression coefficient?

    Fits ``y = α + τ D + X'β + ε`` by OLS (D the ``treatment``, in moclab usually the mechanism; X the
    covariates) and reports the sensitivity statistics of Cinelli & Hazlett (2020) for τ: its partial R²
    with the outcome and the robustness values RV_q and RV_{q,α}.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    y, treatment : str
        Numeric outcome and treatment (mechanism) columns.
    covariates : sequence of str
        Observed confounders adjusted for (text columns become 0/1 indicators, first level the reference).
    cluster : str, optional
        Column of the clusters (sites) rows are nested in: the interval of τ uses CR1 cluster-robust
        standard errors with t(G - 1), and RV_{q,α} and the adjusted intervals use them too (see Notes).
    q : float
        Fraction of the estimate to explain away (1: all of it, 0.5: half).
    level : float
        Confidence level; α = 1 - level for RV_{q,α}.
    benchmark : str or sequence of str, optional
        Covariate(s) whose strength serves as a yardstick: bounds on a confounder ``k`` times as strong.
    benchmark_multiples : sequence of float
        The multiples k (the same for the association with the treatment and with the outcome).

    Returns
    -------
    RobustnessResult

    Raises
    ------
    DataError
        Unknown, repeated, non-numeric or constant columns, a benchmark that is not a covariate, collinear
        predictors, too few rows or clusters, q not positive, level outside (0, 1).

    Notes
    -----
    With t the t statistic of τ̂ (classical SE) and df = n - p the residual degrees of freedom, the partial
    R² of the treatment with the outcome and its Cohen's f are (Cinelli & Hazlett 2020, sec. 4)

    .. math:: R^2_{Y\\sim D|X} = \\frac{t^2}{t^2 + df}, \\qquad f_{Y\\sim D|X} = \\frac{t}{\\sqrt{df}}.

    A confounder Z with partial R² :math:`R^2_{D\\sim Z|X}` with the treatment and
    :math:`R^2_{Y\\sim Z|D,X}` with the outcome changes the estimate by at most
    :math:`|\\mathrm{bias}| = \\mathrm{se}(\\hat\\tau) \\sqrt{df \\, R^2_{Y\\sim Z|D,X} R^2_{D\\sim Z|X}
    / (1 - R^2_{D\\sim Z|X})}`. The robustness value is the common partial R² at which it removes 100q %
    of the estimate (their eq. 18),

    .. math:: RV_q = \\tfrac12 \\left(\\sqrt{f_q^4 + 4 f_q^2} - f_q^2\\right),
              \\qquad f_q = q |f_{Y\\sim D|X}|,

    and RV_{q,α} the one at which the (1 - α) interval of the adjusted estimate reaches (1 - q) τ̂ (eqs.
    19-20): the same expression in :math:`f^* = f_q - |t^*_{α, df-1}| / \\sqrt{df - 1}`, 0 when
    :math:`f^* ≤ 0`, and :math:`(f_q^2 - f_{crit}^2)/(1 + f_q^2)` when :math:`f_q > 1/f_{crit}`
    (sensemakr's convention for that corner, where only the partial R² with the treatment binds).

    Benchmark bounds (sec. 6.2): for a covariate X_j with partial R² :math:`R^2_{D\\sim X_j|X_{-j}}` with
    the treatment and :math:`R^2_{Y\\sim X_j|D,X_{-j}}` with the outcome, a confounder k times as strong has
    :math:`R^2_{D\\sim Z|X} = k R^2_{D\\sim X_j|X_{-j}} / (1 - R^2_{D\\sim X_j|X_{-j}})` and
    :math:`R^2_{Y\\sim Z|D,X} ≤ η^2 R^2_{Y\\sim X_j|D,X_{-j}} / (1 - R^2_{Y\\sim X_j|D,X_{-j}})` with
    :math:`η = (\\sqrt{k} + \\sqrt{r}) / \\sqrt{1 - r}`, :math:`r = k R^4_{D\\sim X_j|X_{-j}} / ((1 - k
    R^2_{D\\sim X_j|X_{-j}})(1 - R^2_{D\\sim X_j|X_{-j}}))` (capped at 1). The adjusted estimate is
    :math:`\\mathrm{sign}(\\hat\\tau)(|\\hat\\tau| - |\\mathrm{bias}|)`, its SE
    :math:`\\mathrm{se}\\sqrt{(1 - R^2_{Y\\sim Z|D,X}) / (1 - R^2_{D\\sim Z|X}) \\cdot df/(df - 1)}` and its
    interval uses t(df - 1), so that at RV_{q,α} the adjusted interval ends exactly at (1 - q) τ̂
    (sensemakr's adjusted intervals use t(df); the difference is negligible for df in the hundreds). A text
    covariate is benchmarked as the group of its indicators.

    *Clusters (a moclab choice).* The paper uses classical standard errors. The partial R², the bias bound
    and RV_q concern the point estimate only and do not depend on the standard error, so they are the same
    with or without ``cluster``. With ``cluster``, RV_{q,α} and the adjusted intervals are computed with the
    cluster-robust t: the classical formulas with the critical value :math:`t^*_{α, G-1}` scaled by the ratio
    of the CR1 to the classical SE of τ̂, which assumes that ratio stays the same after adjusting for the
    confounder. Without ``cluster`` every number equals the sensemakr packages'.

    A robustness value answers "how strong would a confounder have to be", not "is there one". Read it
    against benchmarks: if the strongest measured confounder (site readiness, baseline outcome) is far
    weaker than RV_q, explaining the link away takes a confounder stronger than anything measured.

    References
    ----------
    Cinelli, C., & Hazlett, C. (2020). Making sense of sensitivity: extending omitted variable bias.
    *Journal of the Royal Statistical Society: Series B*, 82(1), 39-67.
    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
    Human Resources*, 50(2), 317-372.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> readiness = rng.normal(size=600)
    >>> trust = 0.5 * readiness + rng.normal(size=600)
    >>> adoption = 0.25 * trust + 0.3 * readiness + rng.normal(size=600)
    >>> frame = pd.DataFrame({"trust": trust, "adoption": adoption, "readiness": readiness})
    >>> result = robustness(frame, y="adoption", treatment="trust", covariates=["readiness"],
    ...                     benchmark="readiness")
    >>> round(result.partial_r2, 3), round(result.rv_q, 3), round(result.rv_qa, 3)
    (0.079, 0.253, 0.191)

    A confounder as strong as readiness (k = 1) leaves an estimate whose interval includes zero:

    >>> columns = ["k", "r2dz_x", "r2yz_dx", "adjusted_estimate", "adjusted_ci_low"]
    >>> result.bounds[columns].round(3).iloc[0].tolist()
    [1.0, 0.274, 0.114, 0.075, -0.004]
    """
    _arguments.check(level=level)
    if isinstance(q, bool) or not (isinstance(q, numbers.Real) and math.isfinite(q) and q > 0):
        raise DataError(f"q must be a positive number (1: explain the whole estimate away), not {q!r}")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    benchmarks = [] if benchmark is None else [benchmark] if isinstance(benchmark, str) else list(benchmark)
    for name in benchmarks:
        if name not in covariates:
            raise DataError(
                f"the benchmark {name!r} is not one of the covariates",
                hint="a benchmark must be an adjusted covariate: add it to covariates=",
            )
    multiples = np.asarray(benchmark_multiples, dtype=float).ravel()
    if benchmarks and (multiples.size == 0 or np.any(~np.isfinite(multiples)) or np.any(multiples <= 0)):
        raise DataError("benchmark_multiples must be positive numbers, e.g. (1, 2, 3)")

    rows = prepare_regression_rows(
        data,
        numeric={"outcome": y, "treatment": treatment},
        covariates=covariates,
        cluster=cluster,
        n_parameters=2,
    )
    n = rows.n
    outcome = rows.frame[y].to_numpy(dtype=float)
    d = rows.frame[treatment].to_numpy(dtype=float)
    design = np.column_stack([np.ones(n), d, rows.covariates])
    _columns.check_full_rank(design, ["intercept", treatment, *rows.covariate_names], "outcome")
    unit = np.zeros(design.shape[1])
    unit[1] = 1.0

    classical = ols(design, outcome, None)
    df = classical.df
    if df < 2:
        raise DataError(
            f"only {df:g} residual degrees of freedom", hint="collect more data or use fewer covariates"
        )
    estimate = float(classical.coef[1])
    se_classical = math.sqrt(classical.covariance[1, 1])
    residual = outcome - design @ classical.coef
    centred = outcome - outcome.mean()
    if residual @ residual <= 1e-12 * (centred @ centred):
        raise DataError(
            f"'{y}' is an exact linear function of '{treatment}' and the covariates: no residual variance "
            "is left for a confounder to explain",
            hint="check that the outcome is not computed from the treatment",
        )
    t_classical = estimate / se_classical
    if rows.codes is not None:
        fit = ols(design, outcome, rows.codes)
        inference_df = fit.df
    else:
        fit, inference_df = classical, df
    _, se, ci_low, ci_high, p = wald(fit, unit, level)
    se_ratio = se / se_classical  # 1 without clusters
    t_stat = estimate / se

    alpha = 1.0 - level
    partial_r2 = t_classical**2 / (t_classical**2 + df)
    f_q = q * abs(t_classical) / math.sqrt(df)
    # The regression that adds the confounder has df - 1 residual df (the clusters stay G).
    adjusted_df = df - 1.0 if rows.codes is None else inference_df
    critical = float(special.stdtrit(adjusted_df, 1.0 - alpha / 2))
    f_critical = se_ratio * critical / math.sqrt(df - 1)
    rv_q = robustness_value(f_q)
    rv_qa = robustness_value(f_q, f_critical)

    se_kind = "cluster_t" if rows.codes is not None else "t"
    effects = [
        Effect(
            "coefficient",
            "coefficient",
            estimate,
            se,
            ci_low,
            ci_high,
            p,
            se_kind,
            {"t": t_stat, "df": inference_df},
        ),
        Effect("partial_r2", "sensitivity", partial_r2, extra={"df": df}),
        Effect("rv_q", "sensitivity", rv_q, extra={"q": q}),
        Effect("rv_qa", "sensitivity", rv_qa, extra={"q": q, "alpha": alpha}),
    ]
    notes = list(rows.notes)

    bounds = None
    if benchmarks:
        treatment_design = np.delete(design, 1, axis=1)  # intercept, covariates
        table = []
        for name in benchmarks:
            columns = [2 + j for j in rows.covariate_blocks[name]]
            r2yxj_dx = partial_r_squared(design, outcome, columns)
            r2dxj_x = partial_r_squared(treatment_design, d, [c - 1 for c in columns])
            for k in multiples:
                r2dz_x = k * r2dxj_x / (1.0 - r2dxj_x)
                r2zxj_xd = k * r2dxj_x**2 / ((1.0 - k * r2dxj_x) * (1.0 - r2dxj_x))
                if r2dz_x >= 1.0 or not 0.0 <= r2zxj_xd < 1.0:
                    notes.append(
                        f"no bound for a confounder {k:g} times as strong as '{name}': it would explain all "
                        f"the residual variance of '{treatment}'; use smaller multiples"
                    )
                    continue
                eta = (math.sqrt(k) + math.sqrt(r2zxj_xd)) / math.sqrt(1.0 - r2zxj_xd)
                r2yz_dx = eta**2 * r2yxj_dx / (1.0 - r2yxj_dx)
                if r2yz_dx > 1.0:
                    notes.append(
                        f"the bound on the outcome partial R2 of a confounder {k:g} times as strong as "
                        f"'{name}' exceeds 1 and is set to 1"
                    )
                    r2yz_dx = 1.0
                bias = se_classical * math.sqrt(df * r2yz_dx * r2dz_x / (1.0 - r2dz_x))
                adjusted = float(np.sign(estimate)) * (abs(estimate) - bias)  # toward zero, and past it
                adjusted_se = (
                    se_ratio * se_classical * math.sqrt((1.0 - r2yz_dx) / (1.0 - r2dz_x) * df / (df - 1.0))
                )
                low, high, bound_p = wald_interval(adjusted, adjusted_se, level, adjusted_df)
                row = {
                    "benchmark": name,
                    "k": float(k),
                    "r2dxj_x": r2dxj_x,
                    "r2yxj_dx": r2yxj_dx,
                    "r2dz_x": r2dz_x,
                    "r2yz_dx": r2yz_dx,
                    "adjusted_estimate": adjusted,
                    "adjusted_se": adjusted_se,
                    "adjusted_t": adjusted / adjusted_se if adjusted_se > 0 else float("nan"),
                    "adjusted_ci_low": float(low),
                    "adjusted_ci_high": float(high),
                }
                table.append(row)
                effects.append(
                    Effect(
                        f"{k:g}x {name}",
                        "bound",
                        adjusted,
                        adjusted_se,
                        float(low),
                        float(high),
                        float(bound_p),
                        se_kind,
                        {"r2dz_x": r2dz_x, "r2yz_dx": r2yz_dx, "df": adjusted_df},
                    )
                )
        bounds = pd.DataFrame(
            table,
            columns=[
                "benchmark",
                "k",
                "r2dxj_x",
                "r2yxj_dx",
                "r2dz_x",
                "r2yz_dx",
                "adjusted_estimate",
                "adjusted_se",
                "adjusted_t",
                "adjusted_ci_low",
                "adjusted_ci_high",
            ],
        )

    method = (
        "OLS; omitted-variable-bias sensitivity statistics (Cinelli & Hazlett 2020)"
        + (f"; covariates: {', '.join(covariates)}" if covariates else "")
        + (
            f"; CR1 cluster-robust SEs by {cluster}, t with {rows.n_clusters - 1} df (RV_q,a uses them)"
            if rows.n_clusters is not None
            else "; classical OLS SEs"
        )
        + f"; q = {q:g}, {level:.0%} intervals"
    )
    info = {
        "method": method,
        "n": n,
        "level": level,
        "q": q,
        "cluster": cluster,
        "df": df,
        "reference": "Cinelli & Hazlett (2020), JRSS-B 82(1):39-67",
    }
    return RobustnessResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        treatment=treatment,
        outcome=y,
        estimate=estimate,
        se=se,
        t=t_stat,
        df=df,
        t_classical=t_classical,
        partial_r2=partial_r2,
        rv_q=rv_q,
        rv_qa=rv_qa,
        q=q,
        level=level,
        bounds=bounds,
        n=n,
        n_clusters=rows.n_clusters,
        covariates=tuple(covariates),
    )
