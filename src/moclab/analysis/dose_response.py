"""Dose-response (gradient) between the support received and a mechanism, or a mechanism and an outcome.

The gradient criterion of a mechanism asks whether more of the cause goes with more of the effect: more
minutes or contacts of implementation support with more trust, more trust with more adoption.
`dose_response` answers it three ways on the same rows:

* the **linear slope** of the response on the dose (OLS with covariates; cluster-robust CR1 standard errors
  and t with G - 1 df when rows are nested in sites);
* a **test of trend across ordered dose groups** (quantile groups of the dose, or groups given): the linear
  contrast of the group means (adjusted for covariates) with the groups' dose scores, the standard test of a
  monotone trend in a one-way layout (Maxwell, Delaney & Kelley, 2018, ch. 6), with an F test of the
  groups' deviation from a straight line; for a 0/1 response without covariates or clusters, the
  Cochran-Armitage test of trend in proportions (Armitage, 1955);
* a **quadratic check** for a non-monotone relation (a dose beyond which more support goes with less of the
  response), with the turning point when it lies inside the observed doses.

`DoseResponseResult.plot` draws the group means with their intervals at the groups' median doses, the fitted
line with its confidence band and the quadratic curve.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import ols, wald
from moclab.analysis.bootstrap import factorize_clusters
from moclab.analysis.clustering import FEW_CLUSTERS
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError

__all__ = ["DoseResponseResult", "dose_response"]


# --------------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DoseResponseResult(AnalysisResult):
    """Result of `dose_response`.

    Effects: ``slope`` (change in the response per unit of dose), ``slope_std`` (per SD of dose, in SDs
    of the response), ``trend`` (least-squares slope of the group means on the group scores; its p is the
    trend test's), ``quadratic`` (coefficient of the squared, centred dose; a negative value with a turning
    point inside the data means the response levels off or falls at high doses).

    Attributes
    ----------
    dose, response : str
        Column names.
    groups : pandas.DataFrame
        One row per dose group: group, n, dose_min, dose_median, dose_max, score, mean (adjusted for
        covariates at their means), se, ci_low, ci_high.
    curve : pandas.DataFrame
        Fitted values over a grid of doses: dose, linear, linear_low, linear_high, quadratic.
    trend_test : str
        "linear_contrast" or "cochran_armitage".
    nonlinearity : dict
        F test of the group means' deviation from a straight line in the scores: F, df1, df2, p (None with
        two groups).
    turning_point : float or None
        Dose at which the quadratic curve peaks or bottoms out, when it lies inside the observed doses.
    n, n_clusters : int
        Rows analysed; clusters for the standard errors (None: classical OLS).
    """

    dose: str = ""
    response: str = ""
    groups: pd.DataFrame | None = None
    curve: pd.DataFrame | None = None
    trend_test: str = "linear_contrast"
    nonlinearity: dict[str, float] | None = None
    turning_point: float | None = None
    n: int = 0
    n_clusters: int | None = None
    scores: str = "median"
    covariates: tuple[str, ...] = field(default_factory=tuple)

    title = "Dose-response"
    headline = ("slope", "trend", "quadratic")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        base.update(
            plain(
                {
                    "dose": self.dose,
                    "response": self.response,
                    "groups": self.groups,
                    "trend_test": self.trend_test,
                    "nonlinearity": self.nonlinearity,
                    "turning_point": self.turning_point,
                    "n": self.n,
                    "n_clusters": self.n_clusters,
                    "scores": self.scores,
                    "covariates": list(self.covariates),
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """Readable report: slope, trend test, curvature, the group table and warnings."""
        fmt = f"{{:.{digits}g}}"  # significant digits: a slope per minute of support is a small number
        lines = [
            f"{self.title}: {self.response} on {self.dose}; n = {self.n}"
            + (f" in {self.n_clusters} clusters" if self.n_clusters else ""),
            f"  method: {self.info.get('method')}",
            "",
            self.to_frame()[["kind", "estimate", "se", "ci_low", "ci_high", "p"]].to_string(
                float_format=lambda v: fmt.format(v), na_rep=""
            ),
        ]
        if self.nonlinearity:
            nl = self.nonlinearity
            lines.append(
                f"deviation from linear trend across groups: F({nl['df1']:g}, {nl['df2']:g}) = "
                f"{nl['F']:.3f}, p = {nl['p']:.3g}"
            )
        if self.groups is not None:
            lines.extend(["", self.groups.to_string(float_format=lambda v: fmt.format(v), index=False)])
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        text = super()._repr_html_()
        if self.groups is not None:
            table = self.groups.to_html(float_format=lambda v: f"{v:.4g}", index=False, border=0)
            text = text.removesuffix("</div>") + f"<p>{html.escape('Dose groups')}</p>{table}</div>"
        return text

    def plot(self, ax: Any = None, *, quadratic: bool = True) -> Any:
        """Group means with their intervals at the groups' scores, the fitted line with its confidence band
        and (``quadratic=True``) the quadratic curve; returns the matplotlib Axes.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> rng = np.random.default_rng(0)
        >>> minutes = rng.gamma(2.0, 60.0, 300)
        >>> frame = pd.DataFrame({"minutes": minutes, "trust": 0.01 * minutes + rng.normal(size=300)})
        >>> ax = dose_response(frame, dose="minutes", response="trust").plot()
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('minutes', 'trust')
        """
        import matplotlib.pyplot as plt

        assert self.groups is not None and self.curve is not None
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.2))
        curve = self.curve
        ax.fill_between(curve["dose"], curve["linear_low"], curve["linear_high"], color="0.85", lw=0)
        slope = self.effect("slope")
        ax.plot(
            curve["dose"],
            curve["linear"],
            color="0.15",
            lw=1.5,
            label=f"linear fit (slope {slope.estimate:.3g})",
        )
        if quadratic and "quadratic" in curve:
            ax.plot(
                curve["dose"], curve["quadratic"], color="tab:red", lw=1.0, ls="--", label="quadratic fit"
            )
        groups = self.groups
        x_position = groups["dose_median"]
        ax.errorbar(
            x_position,
            groups["mean"],
            yerr=[groups["mean"] - groups["ci_low"], groups["ci_high"] - groups["mean"]],
            fmt="o",
            color="tab:blue",
            capsize=3,
            label="dose group mean",
        )
        for x_value, y_value, n in zip(x_position, groups["ci_high"], groups["n"], strict=True):
            ax.annotate(
                f"n={n}",
                (x_value, y_value),
                textcoords="offset points",
                xytext=(0, 4),
                ha="center",
                fontsize=7,
            )
        # The y range follows the group means and the linear band; a quadratic curve that bends far away at
        # sparse extreme doses is clipped rather than allowed to flatten everything else.
        low = min(groups["ci_low"].min(), curve["linear_low"].min())
        high = max(groups["ci_high"].max(), curve["linear_high"].max())
        margin = 0.25 * (high - low if high > low else 1.0)
        ax.set_ylim(low - margin, high + margin)
        trend = self.effect("trend")
        ax.set_xlabel(self.dose)
        ax.set_ylabel(self.response)
        ax.set_title(
            f"{self.title}: trend p = {trend.p:.2g}"
            + (
                f"; turns at {self.dose} = {self.turning_point:.3g}" if self.turning_point is not None else ""
            ),
            fontsize=10,
        )
        ax.legend(frameon=False, fontsize="small")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        return ax


# --------------------------------------------------------------------------------------------------------
# Estimation helpers
# --------------------------------------------------------------------------------------------------------


def _dose_groups(
    frame: pd.DataFrame, dose: str, groups: int | str | Sequence[float]
) -> tuple[pd.Series, list[str], str]:
    """Ordered group codes 0..k-1 per row, their labels, and a description of how they were formed."""
    values = frame[dose]
    if isinstance(groups, str):
        column = frame[groups]
        if isinstance(column.dtype, pd.CategoricalDtype) and column.cat.ordered:
            levels = [level for level in column.cat.categories if (column == level).any()]
        else:
            try:
                levels = sorted(pd.unique(column).tolist())
            except TypeError as error:
                raise DataError(
                    f"the dose groups in '{groups}' cannot be ordered",
                    hint="use an ordered categorical column or numbers",
                ) from error
        codes = column.map({level: i for i, level in enumerate(levels)})
        return codes.astype(int), [str(level) for level in levels], f"groups from column '{groups}'"
    if isinstance(groups, int | np.integer):
        if groups < 2:
            raise DataError(f"groups must be at least 2, not {groups}")
        distinct = np.unique(values)
        if distinct.size <= groups:
            mapping = {value: i for i, value in enumerate(distinct)}
            labels = [f"{value:g}" for value in distinct]
            return values.map(mapping).astype(int), labels, f"{distinct.size} distinct doses"
        binned = pd.qcut(values, q=int(groups), duplicates="drop")
        codes = pd.Series(binned.cat.codes, index=values.index)
        labels = [
            f"{values[codes == j].min():.4g} to {values[codes == j].max():.4g}"
            for j in range(len(binned.cat.categories))
        ]
        return codes, labels, f"{len(labels)} quantile groups"
    edges = np.asarray(groups, dtype=float)
    if edges.ndim != 1 or edges.size < 3 or np.any(np.diff(edges) <= 0):
        raise DataError("groups given as bin edges must be at least three increasing numbers")
    if values.min() < edges[0] or values.max() > edges[-1]:
        raise DataError(
            f"doses from {values.min():g} to {values.max():g} fall outside the bin edges "
            f"{edges[0]:g} to {edges[-1]:g}",
            hint="widen the first and last edge",
        )
    binned = pd.cut(values, bins=edges, include_lowest=True)
    used = [c for c in binned.cat.categories if (binned == c).any()]
    mapping = {c: i for i, c in enumerate(used)}
    return binned.map(mapping).astype(int), [str(c) for c in used], f"{len(used)} groups from bin edges"


def _null_space_contrasts(scores: np.ndarray) -> np.ndarray:
    """Rows spanning the contrasts of k group means orthogonal to a constant and a straight line in scores."""
    basis = np.column_stack([np.ones_like(scores), scores - scores.mean()])
    q, _ = np.linalg.qr(basis, mode="complete")
    return q[:, 2:].T


def _cochran_armitage(y: np.ndarray, codes: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Cochran-Armitage trend test in proportions (no continuity correction): Z and its two-sided p.

    Z = Σ_j s_j (x_j - n_j p̄) / sqrt(p̄(1 - p̄) [Σ n_j s_j² - (Σ n_j s_j)²/N]) with x_j the events in group j
    (Armitage, 1955; Agresti, 2013, sec. 5.3.5).
    """
    n_j = np.bincount(codes, minlength=scores.size).astype(float)
    x_j = np.bincount(codes, weights=y, minlength=scores.size)
    total = n_j.sum()
    p_bar = x_j.sum() / total
    numerator = float(scores @ (x_j - n_j * p_bar))
    variance = p_bar * (1 - p_bar) * (float(n_j @ scores**2) - float(n_j @ scores) ** 2 / total)
    z = numerator / math.sqrt(variance)
    return z, float(2 * special.ndtr(-abs(z)))


# --------------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------------


def dose_response(
    data: pd.DataFrame,
    *,
    dose: str,
    response: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    groups: int | str | Sequence[float] = 4,
    scores: Literal["median", "rank"] = "median",
    quadratic: bool = True,
    level: float = 0.95,
) -> DoseResponseResult:
    """Dose-response between a dose (support minutes, contacts) and a response (mechanism or outcome).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (recipient, or site when everything is per site).
    dose, response : str
        Numeric columns. Use the mechanism as the dose to study mechanism → outcome.
    covariates : sequence of str
        Numeric adjustment variables (entered linearly in every model).
    cluster : str, optional
        Column of the clusters (sites) rows are nested in: CR1 cluster-robust standard errors with t(G - 1),
        e.g. when the dose is a site's support minutes and the response is measured on its recipients.
    groups : int, str or sequence of float
        Dose groups for the trend test: a number of quantile groups (default 4; all distinct doses when
        there are no more of them than that), a column of ordered groups, or bin edges.
    scores : {"median", "rank"}
        Scores of the ordered groups in the trend contrast: each group's median dose (default: the test
        weighs groups by where their doses lie) or 1, 2, ..., k (equally spaced, as orthogonal polynomials).
    quadratic : bool
        Fit the quadratic check for non-monotonicity.
    level : float
        Confidence level.

    Returns
    -------
    DoseResponseResult

    Raises
    ------
    DataError
        Unknown or non-numeric columns, a constant dose or response, fewer than two dose groups, fewer rows
        than the models need, collinear covariates, bin edges that do not cover the doses.

    Notes
    -----
    *Slope*: OLS of ``response = α + β dose + C'γ``; ``slope_std`` = β SD(dose)/SD(response).

    *Trend*: the cell-means model ``response = μ_g + (C - C̄)'γ`` (μ_g the adjusted mean of dose group g)
    and the linear contrast L = Σ c_g μ_g with c_g = s_g - s̄ (s the group scores, s̄ their unweighted
    mean). The reported estimate is L / Σ c_g², the least-squares slope of the group means on the scores,
    and its t test (classical, or CR1 cluster-robust with G - 1 df) is the test of trend. The deviation
    from linearity is the Wald F test of the k - 2 contrasts orthogonal to a constant and a line. For a
    0/1 response without covariates or clusters the p-value is the Cochran-Armitage test's instead (the
    score test of the same hypothesis in a binomial model).

    *Quadratic*: ``response = α + β₁ d + β₂ d² + C'γ`` with d the centred dose; the turning point
    d̄ - β₁/(2β₂) is reported (and warned about) when it lies inside the observed doses and β₂ differs
    from zero at 1 - level.

    A dose-response relation supports a causal gradient only if the dose itself is not chosen by (or for)
    the units that would respond anyway: sites that engage more may differ in readiness. Adjust for such
    confounders through ``covariates`` or interpret the gradient as association.

    References
    ----------
    Armitage, P. (1955). Tests for linear trends in proportions and frequencies. *Biometrics*, 11, 375-386.
    Agresti, A. (2013). *Categorical Data Analysis* (3rd ed.). Wiley.
    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
    Human Resources*, 50(2), 317-372.
    Hill, A. B. (1965). The environment and disease: association or causation? *Proceedings of the Royal
    Society of Medicine*, 58, 295-300.
    Maxwell, S. E., Delaney, H. D., & Kelley, K. (2018). *Designing Experiments and Analyzing Data* (3rd
    ed.), ch. 6 (trend analysis). Routledge.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> minutes = rng.gamma(2.0, 60.0, 400)
    >>> trust = 0.004 * minutes + rng.normal(size=400)
    >>> frame = pd.DataFrame({"minutes": minutes, "trust": trust})
    >>> result = dose_response(frame, dose="minutes", response="trust")
    >>> round(result.effect("slope").estimate, 4), bool(result.effect("trend").p < 0.05)
    (0.0034, True)
    >>> result.groups["n"].tolist()
    [100, 100, 100, 100]
    """
    data = _columns.data_frame(data)
    _arguments.check(level=level)
    _arguments.choice("scores", scores, ("median", "rank"))
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    roles = [("dose", dose), ("response", response), *[("covariate", c) for c in covariates]]
    roles += [("cluster", cluster)] if cluster is not None else []
    _columns.check_columns(data, roles)
    if isinstance(groups, str) and groups not in data.columns:
        _columns.check_columns(data, [("dose-group", groups)])
    used = [name for _, name in roles] + ([groups] if isinstance(groups, str) else [])
    frame, _, note = _columns.complete_rows(data[list(dict.fromkeys(used))])
    notes: list[str] = [note] if note else []
    for role, name in roles[: 2 + len(covariates)]:
        _columns.check_not_constant(_columns.numeric_values(frame[name], role, name), role, name)
    n = len(frame)
    _columns.check_enough_rows(n, 3 + len(covariates))  # the quadratic model's coefficients
    x = frame[dose].to_numpy(dtype=float)
    y = frame[response].to_numpy(dtype=float)
    cov = frame[covariates].to_numpy(dtype=float) if covariates else np.empty((n, 0))
    cov_centred = cov - cov.mean(axis=0)
    codes = factorize_clusters(frame[cluster].to_numpy())[0] if cluster is not None else None
    n_clusters = int(codes.max()) + 1 if codes is not None else None
    if n_clusters is not None:
        if n_clusters < 3:
            raise DataError(f"only {n_clusters} clusters in '{cluster}': cluster-robust SEs need many more")
        if n_clusters < FEW_CLUSTERS:
            notes.append(
                f"only {n_clusters} clusters: cluster-robust standard errors are too small with fewer than "
                f"about {FEW_CLUSTERS} (Cameron & Miller 2015); treat intervals as optimistic"
            )
    design = np.column_stack([np.ones(n), x, cov_centred])
    _columns.check_full_rank(design, ["intercept", dose, *covariates], "dose-response")
    effects: list[Effect] = []
    se_kind = "cluster_t" if codes is not None else "t"

    # Linear slope.
    linear = ols(design, y, codes)
    unit_vector = np.zeros(design.shape[1])
    unit_vector[1] = 1.0
    slope = wald(linear, unit_vector, level)
    effects.append(Effect("slope", "slope", *slope[:4], slope[4], se_kind, {"df": linear.df}))
    std_factor = float(np.std(x, ddof=1) / np.std(y, ddof=1))
    effects.append(
        Effect(
            "slope_std",
            "standardized",
            slope[0] * std_factor,
            slope[1] * std_factor,
            slope[2] * std_factor,
            slope[3] * std_factor,
            slope[4],
            se_kind,
            {"note": "per SD of dose, in SDs of the response; SDs treated as fixed"},
        )
    )

    # Trend across ordered dose groups.
    group_codes, group_labels, group_text = _dose_groups(frame, dose, groups)
    g = group_codes.to_numpy()
    k = len(group_labels)
    if k < 2:
        raise DataError("the dose groups collapse into one group", hint="use fewer groups or bin edges")
    sizes = np.bincount(g, minlength=k)
    medians = np.array([np.median(x[g == j]) for j in range(k)])
    score_values = medians if scores == "median" else np.arange(1.0, k + 1.0)
    if np.ptp(score_values) == 0:
        raise DataError("every dose group has the same score", hint="use scores='rank' or other groups")
    indicators = (g[:, None] == np.arange(k)[None, :]).astype(float)
    cell_design = np.column_stack([indicators, cov_centred])
    if n - cell_design.shape[1] < 1:
        raise DataError("too few rows for one mean per dose group", hint="use fewer groups")
    cells = ols(cell_design, y, codes)
    contrast = np.zeros(cell_design.shape[1])
    centred_scores = score_values - score_values.mean()
    contrast[:k] = centred_scores / np.sum(centred_scores**2)
    trend = wald(cells, contrast, level)
    binary = set(np.unique(y).tolist()) <= {0.0, 1.0}
    trend_test = "linear_contrast"
    trend_extra: dict[str, Any] = {"df": cells.df, "scores": score_values.tolist(), "groups": group_labels}
    trend_p = trend[4]
    if binary and not covariates and codes is None:
        z, trend_p = _cochran_armitage(y, g, score_values)
        trend_test = "cochran_armitage"
        trend_extra.update({"z": z, "linear_contrast_p": trend[4]})
    effects.append(Effect("trend", "trend", *trend[:4], trend_p, se_kind, trend_extra))
    nonlinearity = None
    if k >= 3:
        rows = _null_space_contrasts(score_values)
        matrix = np.zeros((rows.shape[0], cell_design.shape[1]))
        matrix[:, :k] = rows
        values = matrix @ cells.coef
        middle = matrix @ cells.covariance @ matrix.T
        # A cluster-robust covariance has rank at most G - 1: with few clusters the contrasts' covariance
        # can be singular. The Wald test then uses its pseudo-inverse on the directions it has, with as many
        # numerator degrees of freedom as its rank (the constraints it cannot test are dropped, as Stata's
        # `test` does), and says so.
        rank = int(np.linalg.matrix_rank(middle))
        if rank < rows.shape[0]:
            notes.append(
                f"the curvature test has {rank} of {rows.shape[0]} degrees of freedom: the covariance of the "
                "group means is singular (a cluster-robust covariance with few clusters); use fewer groups"
            )
        if rank > 0:
            statistic = float(values @ np.linalg.pinv(middle, hermitian=True) @ values) / rank
            nonlinearity = {
                "F": statistic,
                "df1": float(rank),
                "df2": cells.df,
                "p": float(special.fdtrc(rank, cells.df, statistic)),
            }
    critical = float(special.stdtrit(cells.df, 0.5 + level / 2))
    cell_se = np.sqrt(np.diag(cells.covariance)[:k])
    group_table = pd.DataFrame(
        {
            "group": group_labels,
            "n": sizes,
            "dose_min": [x[g == j].min() for j in range(k)],
            "dose_median": medians,
            "dose_max": [x[g == j].max() for j in range(k)],
            "score": score_values,
            "mean": cells.coef[:k],
            "se": cell_se,
            "ci_low": cells.coef[:k] - critical * cell_se,
            "ci_high": cells.coef[:k] + critical * cell_se,
        }
    )
    small = group_table.loc[group_table["n"] < 5, "group"].tolist()
    if small:
        notes.append(f"dose group(s) {', '.join(small)} have fewer than 5 rows: their means are unreliable")

    # Quadratic check and the fitted curves.
    grid = np.linspace(x.min(), x.max(), 60)
    linear_design = np.column_stack([np.ones_like(grid), grid, np.zeros((grid.size, cov.shape[1]))])
    linear_fit = linear_design @ linear.coef
    linear_se = np.sqrt(np.einsum("ij,jk,ik->i", linear_design, linear.covariance, linear_design))
    critical_linear = float(special.stdtrit(linear.df, 0.5 + level / 2))
    curve = pd.DataFrame(
        {
            "dose": grid,
            "linear": linear_fit,
            "linear_low": linear_fit - critical_linear * linear_se,
            "linear_high": linear_fit + critical_linear * linear_se,
        }
    )
    turning_point = None
    if quadratic:
        centre = float(x.mean())
        d = x - centre
        square_design = np.column_stack([np.ones(n), d, d**2, cov_centred])
        if np.linalg.matrix_rank(square_design) < square_design.shape[1]:
            notes.append("the quadratic check is skipped: the dose takes too few distinct values")
        else:
            squares = ols(square_design, y, codes)
            vector = np.zeros(square_design.shape[1])
            vector[2] = 1.0
            curvature = wald(squares, vector, level)
            b1, b2 = squares.coef[1], squares.coef[2]
            turn = centre - b1 / (2 * b2) if b2 != 0 else math.nan
            extra: dict[str, Any] = {"df": squares.df, "dose_centre": centre, "turning_point": float(turn)}
            effects.append(Effect("quadratic", "curvature", *curvature[:4], curvature[4], se_kind, extra))
            grid_d = grid - centre
            curve["quadratic"] = squares.coef[0] + b1 * grid_d + b2 * grid_d**2
            if x.min() < turn < x.max() and curvature[4] < 1 - level:
                turning_point = float(turn)
                shape = "peaks" if b2 < 0 else "bottoms out"
                notes.append(
                    f"the relation is curved (quadratic p = {curvature[4]:.2g}): the fitted curve {shape} at "
                    f"{dose} = {turn:.3g}, inside the observed doses ({x.min():.3g} to {x.max():.3g}); a "
                    "linear slope and trend summarize a non-monotone relation poorly"
                )
    method = (
        f"OLS slope; trend: linear contrast of {group_text} (scores: "
        + ("group median doses" if scores == "median" else "ranks 1..k")
        + ")"
        + ("; Cochran-Armitage test for the 0/1 response" if trend_test == "cochran_armitage" else "")
        + ("; quadratic check on the centred dose" if quadratic else "")
        + (f"; covariates: {', '.join(covariates)}" if covariates else "")
        + (
            f"; CR1 cluster-robust SEs by {cluster}, t with {n_clusters - 1} df"
            if n_clusters is not None
            else "; classical OLS SEs"
        )
        + f"; {level:.0%} intervals"
    )
    info = {"method": method, "n": n, "level": level, "cluster": cluster, "groups": group_text}
    return DoseResponseResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        dose=dose,
        response=response,
        groups=group_table,
        curve=curve,
        trend_test=trend_test,
        nonlinearity=nonlinearity,
        turning_point=turning_point,
        n=n,
        n_clusters=n_clusters,
        scores=scores,
        covariates=tuple(covariates),
    )
