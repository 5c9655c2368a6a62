"""Linear mediation analysis: does a strategy act on an outcome through one or more mechanisms?

`mediate` fits the regression-based (product-of-coefficients) mediation model with one mediator, several
parallel mediators or a chain of serial mediators, with covariates, for a strategy given as a binary arm or a
continuous dose, and returns a `MediationResult`: every path, specific and total indirect effect, contrast,
direct and total effect with its interval (BCa or percentile bootstrap, Monte Carlo or delta method), the
joint-significance test, standardized effects and the proportion mediated. Rows nested in clusters get a
cluster bootstrap, cluster-robust (CR1) standard errors, and their ICCs and design effects reported.

The model (Hayes, 2022, models 4 and 6; MacKinnon, 2008)::

    M_j = i_j + a_j X + Σ_{i<j} d_ij M_i + C'γ_j + e_j      (d_ij only in the serial model)
    Y   = i_Y + c' X + Σ_j b_j M_j + C'γ_Y + e_Y
    Y   = i_T + c X + C'γ_T + e_T                           (total effect)

A specific indirect effect is the product of the coefficients along one path from X to Y (a_j b_j; a_1 d_12
b_2 for X → M1 → M2 → Y); with OLS on the same rows the total effect decomposes exactly,
c = c' + Σ specific indirect effects.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg as sla
from scipy import special

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import least_squares
from moclab.analysis.bootstrap import (
    SeedLike,
    as_generator,
    bootstrap_regressions,
    factorize_clusters,
    jackknife_regressions,
)
from moclab.analysis.clustering import (
    FEW_CLUSTERS,
    ICC_ANOVA_ESTIMATOR,
    cluster_robust_covariance,
    design_effect,
    icc_oneway,
)
from moclab.analysis.diagram import PathDiagram, PathEstimate, mediation_parts, significance_stars
from moclab.analysis.intervals import (
    bca_interval,
    delta_method_se,
    monte_carlo_draws,
    percentile_interval,
    wald_interval,
)
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError, did_you_mean

__all__ = ["MediationResult", "mediate"]

CI_METHODS = ("bca", "percentile", "monte_carlo", "delta")
MODELS = ("parallel", "serial")
_CI_LABELS = {
    "bca": "BCa bootstrap",
    "percentile": "percentile bootstrap",
    "monte_carlo": "Monte Carlo",
    "delta": "delta method (Sobel)",
}
ColumnOrArray = str | Sequence[float] | np.ndarray | pd.Series


# ----------------------------------------------------------------------------------------------------
# Result object
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class MediationResult(AnalysisResult):
    """Result of `mediate`: effects with intervals, the fitted regressions, clustering diagnostics.

    Effects (``result.effects``, ``result.to_frame()``) are named

    * ``a[M]`` (X → M), ``d[M1->M2]`` (M1 → M2, serial model), ``b[M]`` (M → Y adjusted for X): regression
      coefficients with t (or cluster-robust) intervals and p-values;
    * ``indirect[M]``, ``indirect[M1->M2]`` (specific indirect effects), ``total_indirect`` (with two or more
      mediators), ``contrast[A-B]`` (difference of two specific indirect effects), ``direct`` (c'), ``total``
      (c), each with the requested interval;
    * ``proportion_mediated`` (total indirect / total) and, with several mediators,
      ``proportion_mediated[M]``; read the caveats in `proportion_mediated` and the warnings;
    * with ``standardize=True`` also the standardized effects of `standardized`.

    Attributes
    ----------
    model : {"parallel", "serial"}
    x, y : str
        Names of the strategy and the outcome.
    mediators, covariates : tuple of str
        Names of the mediators (in model order) and of the covariate columns (dummy columns of categorical
        covariates are named ``variable[level]``).
    x_type : {"arm", "dose"}
        Whether the strategy was a binary arm (coded 0/1, see ``info["x_coding"]``) or a continuous dose.
    coefficients : pandas.DataFrame
        Every fitted regression (mediator models, outcome model, total-effect model), one row per term,
        indexed by (equation, term), with estimate, se, statistic, df, p, ci_low, ci_high.
    n, n_dropped : int
        Rows analysed and rows dropped for missing values (listwise deletion).
    n_clusters : int or None
        Number of clusters; ``icc`` and ``design_effect`` map each mediator and the outcome to its ICC(1)
        and Kish design effect; ``info["icc_estimator"]`` names the ICC(1) estimator (the one-way ANOVA
        estimator with n0, `moclab.analysis.clustering.oneway_anova_icc`, the same as `moclab score`).
    joint_significance : dict
        For every specific indirect effect, whether all its paths are significant at 1 - level.
    proportion_mediated : Effect or None
        Total indirect effect / total effect.
    standardized : tuple of Effect
        Partially (``effect / SD(Y)``, name suffix ``_ps``) and completely (``effect · SD(X) / SD(Y)``,
        ``_cs``) standardized indirect, direct and total effects, with intervals by the same method.
    draws : pandas.DataFrame or None
        With ``keep_draws=True``: the bootstrap or Monte Carlo draws of every effect (one column per effect).
    """

    model: str = "parallel"
    x: str = ""
    mediators: tuple[str, ...] = ()
    y: str = ""
    covariates: tuple[str, ...] = ()
    x_type: str = "dose"
    coefficients: pd.DataFrame | None = None
    n: int = 0
    n_dropped: int = 0
    n_clusters: int | None = None
    icc: dict[str, float] = field(default_factory=dict)
    design_effect: dict[str, float] = field(default_factory=dict)
    joint_significance: dict[str, bool] = field(default_factory=dict)
    proportion_mediated: Effect | None = None
    standardized: tuple[Effect, ...] = ()
    draws: pd.DataFrame | None = None

    title = "Mediation analysis"
    headline = ("indirect", "total_indirect", "direct", "total")

    # -- tables ------------------------------------------------------------------------------------------

    def standardized_frame(self) -> pd.DataFrame:
        """The standardized effects as a DataFrame (one row per effect)."""
        return AnalysisResult(self.standardized).to_frame()

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        coefficients = None
        if self.coefficients is not None:
            coefficients = self.coefficients.reset_index().to_dict(orient="records")
        base.update(
            plain(
                {
                    **model_facts(self),
                    "standardized": [_effect_dict(e) for e in self.standardized],
                    "coefficients": coefficients,
                }
            )
        )
        return base

    # -- text ------------------------------------------------------------------------------------------

    def summary(self, digits: int = 4) -> str:
        """Readable multi-line report: model, sample, clustering, paths, effects, tests and warnings."""
        info = self.info
        fmt = f"{{:.{digits}f}}"
        lines = [f"{self.title}: {self.model} model, {len(self.mediators)} mediator(s)"]
        coding = info.get("x_coding")
        x_text = f"{self.x} ({'binary arm' if self.x_type == 'arm' else 'continuous dose'}"
        x_text += f"; {coding})" if coding else ")"
        lines.append(f"  strategy (X): {x_text}")
        lines.append(f"  mediators (M): {(' -> ' if self.model == 'serial' else ', ').join(self.mediators)}")
        lines.append(f"  outcome (Y): {self.y}")
        if self.covariates:
            lines.append(f"  covariates: {', '.join(self.covariates)}")
        lines.append(f"  n = {self.n} ({self.n_dropped} row(s) dropped for missing values)")
        if self.n_clusters is not None:
            iccs = ", ".join(f"{k} {fmt.format(v)}" for k, v in self.icc.items())
            deffs = ", ".join(f"{k} {v:.2f}" for k, v in self.design_effect.items())
            lines.append(
                f"  CLUSTERS: {self.n_clusters} ({info.get('cluster')}); ICC: {iccs} "
                f"({info.get('icc_estimator')}); design effect: {deffs}"
            )
            lines.append(
                "  standard errors: "
                + ("cluster-robust (CR1)" if info.get("cluster_se") else "ignore clustering")
                + ("; bootstrap resamples clusters" if info.get("cluster_bootstrap") else "")
            )
        lines.append(f"  inference: {info.get('method')}")
        lines.append("")
        table = self.to_frame()[["estimate", "se", "ci_low", "ci_high", "p", "ci_method"]]
        lines.append(table.to_string(float_format=lambda v: fmt.format(v), na_rep=""))
        if self.joint_significance:
            lines.append("")
            lines.append(
                f"Joint-significance test (every path p < {1 - float(info.get('level', 0.95)):.2f}):"
            )
            for name, significant in self.joint_significance.items():
                p_max = self.effect(name).extra.get("joint_p")
                lines.append(
                    f"  {name}: {'yes' if significant else 'no'} (largest path p = {fmt.format(p_max)})"
                )
        if self.standardized:
            lines.append("")
            lines.append("Standardized effects (ps: effect / SD(Y); cs: effect x SD(X) / SD(Y)):")
            frame = self.standardized_frame()[["estimate", "ci_low", "ci_high"]]
            lines.append(frame.to_string(float_format=lambda v: fmt.format(v), na_rep=""))
        if self.warnings:
            lines.append("")
            lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        text = super()._repr_html_()
        if self.n_clusters is not None:
            iccs = ", ".join(f"{k} {v:.3f}" for k, v in self.icc.items())
            note = f"<p>{self.n_clusters} clusters; ICC: {iccs} ({self.info.get('icc_estimator')})</p>"
            text = text.removesuffix("</div>") + note + "</div>"
        return text

    # -- diagrams ------------------------------------------------------------------------------------------

    def diagram(self, digits: int = 2) -> PathDiagram:
        """The fitted model as a `moclab.analysis.diagram.PathDiagram` (paths with their estimates)."""
        paths = [
            PathEstimate(e.extra["from"], e.extra["to"], e.kind, e.estimate, e.p)
            for e in self.effects
            if e.kind in ("a", "b", "d")
        ]
        direct, total = self.effect("direct"), self.effect("total")
        direct_p = direct.extra.get("p_regression", direct.p)
        stars = significance_stars(direct_p)
        direct_label = f"c' = {direct.estimate:.{digits}f}{stars} (c = {total.estimate:.{digits}f})"
        nodes, edges = mediation_parts(
            self.x,
            self.mediators,
            self.y,
            paths,
            direct=direct_label,
            serial=self.model == "serial",
            digits=digits,
        )
        k = len(self.mediators)
        return PathDiagram(
            tuple(nodes),
            tuple(edges),
            title=f"{self.title} ({self.model}); n = {self.n}",
            same_rank=((self.x, self.y),),
            figsize=(7.5, 2.6 + 0.9 * (k if self.model == "parallel" else 1.6)),
        )

    def to_dot(self, digits: int = 2) -> str:
        """Graphviz DOT text of the path diagram with the estimated coefficients (* p < .05, ** .01, *** .001)

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=100)})
        >>> df["m"] = 0.5 * df.x + rng.normal(size=100)
        >>> df["y"] = 0.5 * df.m + rng.normal(size=100)
        >>> print(mediate(df, x="x", m="m", y="y", ci="delta").to_dot().splitlines()[0])
        digraph mediation {
        """
        return self.diagram(digits).to_dot()

    def plot(self, ax: Any = None, digits: int = 2) -> Any:
        """Draw the path diagram with the estimated coefficients on a matplotlib Axes and return the Axes.

        Mediators sit above the strategy → outcome line (stacked for a parallel model, left to right for a
        serial one); each arrow is labelled with its coefficient (* p < .05, ** < .01, *** < .001), the
        bottom arrow with the direct effect c' and the total effect c.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=100)})
        >>> df["m"] = 0.5 * df.x + rng.normal(size=100)
        >>> df["y"] = 0.5 * df.m + rng.normal(size=100)
        >>> ax = mediate(df, x="x", m="m", y="y", ci="delta").plot()
        """
        return self.diagram(digits).plot(ax)


def model_facts(result: Any) -> dict[str, Any]:
    """What a mediation result says about its model and data, for `to_dict` (shared with the results of
    `moclab.analysis.missing`, which carry the same attributes)."""
    return {
        "model": result.model,
        "x": result.x,
        "mediators": list(result.mediators),
        "y": result.y,
        "covariates": list(result.covariates),
        "x_type": result.x_type,
        "n": result.n,
        "n_dropped": result.n_dropped,
        "n_clusters": result.n_clusters,
        "icc": result.icc,
        "design_effect": result.design_effect,
        "joint_significance": result.joint_significance,
    }


def _effect_dict(effect: Effect) -> dict[str, Any]:
    return {
        "name": effect.name,
        "kind": effect.kind,
        "estimate": effect.estimate,
        "se": effect.se,
        "ci_low": effect.ci_low,
        "ci_high": effect.ci_high,
        "p": effect.p,
        "ci_method": effect.ci_method,
        "extra": effect.extra,
    }


# ----------------------------------------------------------------------------------------------------
# Arguments and data preparation
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inference:
    """How the intervals are computed (the arguments of `mediate` of that name, checked)."""

    ci: str
    level: float
    n_boot: int
    n_mc: int
    seed: SeedLike
    chunk_size: int | None
    keep_draws: bool

    @property
    def bootstrap(self) -> bool:
        return self.ci in ("bca", "percentile")


def _check_options(model: str, x_type: str, missing: str, inference: _Inference) -> None:
    """The options of `mediate`, checked before the data are touched."""
    _arguments.choice("model", model, MODELS)
    _arguments.choice("x_type", x_type, ("auto", "arm", "dose"))
    _arguments.check(
        level=inference.level, ci=inference.ci, allowed_ci=CI_METHODS, seed=inference.seed, missing=missing
    )
    if inference.bootstrap:
        _arguments.check(n_boot=inference.n_boot)
    if inference.ci == "monte_carlo":
        _arguments.check(n_mc=inference.n_mc)


@dataclass
class _Prepared:
    x_name: str
    m_names: list[str]
    y_name: str
    covariate_names: list[str]
    x: np.ndarray
    mediators: np.ndarray  # (n, k)
    y: np.ndarray
    covariates: np.ndarray  # (n, c)
    codes: np.ndarray | None
    cluster_name: str | None
    x_type: str
    x_coding: str | None
    n_dropped: int
    notes: list[str]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | pd.Series) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    if isinstance(value, pd.DataFrame):
        return [value[c] for c in value.columns]
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return [value[:, j] for j in range(value.shape[1])]
    if (
        isinstance(value, Sequence)
        and value
        and all(np.ndim(v) == 0 and not isinstance(v, str) for v in value)
    ):
        return [np.asarray(value)]  # one plain list of numbers is one variable
    return list(value)


@dataclass
class _Gathered:
    """Every variable in one DataFrame (the cluster as ``__cluster__``) and the names of their roles."""

    frame: pd.DataFrame
    x: str
    mediators: list[str]
    y: str
    covariates: list[str]
    cluster: str | None


def _cluster_values(cluster: Any, n_rows: int) -> np.ndarray:
    values = np.asarray(cluster)
    if values.shape != (n_rows,):
        raise DataError(
            f"cluster has {values.size} values but the data have {n_rows} rows",
            hint="pass one cluster label per row, or the name of a column",
        )
    return values


def _gather_from_data(
    data: pd.DataFrame, x: Any, mediators: list[Any], y: Any, covariates: list[Any], cluster: Any
) -> _Gathered:
    """Column names of `data` in their roles: checked, and copied into one frame."""
    roles = [("strategy x", x), ("outcome y", y)]
    roles += [("mediator", v) for v in mediators] + [("covariate", v) for v in covariates]
    if isinstance(cluster, str):
        roles.append(("cluster", cluster))
    _columns.check_columns(data, roles)
    names = [x, y, *mediators, *covariates]
    frame = data[names].copy()
    cluster_name = None
    if isinstance(cluster, str):
        frame["__cluster__"] = data[cluster].to_numpy()
        cluster_name = cluster
    elif cluster is not None:
        frame["__cluster__"] = _cluster_values(cluster, len(data))
        cluster_name = "cluster"
    return _Gathered(frame, x, list(mediators), y, list(covariates), cluster_name)


def _gather_from_arrays(
    x: Any, mediators: list[Any], y: Any, covariates: list[Any], cluster: Any
) -> _Gathered:
    """Arrays or Series in their roles (Series names become variable names), as one frame."""

    def name_of(value: Any, default: str) -> str:
        return str(value.name) if isinstance(value, pd.Series) and value.name is not None else default

    if any(isinstance(v, str) for v in [x, y, *mediators, *covariates]):
        raise DataError("column names were given but no data", hint="pass data=your_dataframe")
    m_names = [name_of(v, "m" if len(mediators) == 1 else f"m{j + 1}") for j, v in enumerate(mediators)]
    c_names = [name_of(v, f"c{j + 1}") for j, v in enumerate(covariates)]
    x_name, y_name = name_of(x, "x"), name_of(y, "y")
    names = [x_name, y_name, *m_names, *c_names]
    if len(set(names)) != len(names):  # Series sharing a name: fall back to positional names
        m_names = [f"m{j + 1}" if len(mediators) > 1 else "m" for j in range(len(mediators))]
        c_names = [f"c{j + 1}" for j in range(len(covariates))]
        x_name, y_name = "x", "y"
        names = [x_name, y_name, *m_names, *c_names]
    arrays = [x, y, *mediators, *covariates]
    lengths = {len(np.asarray(a)) for a in arrays}
    if len(lengths) != 1:
        detail = ", ".join(f"{name}: {len(np.asarray(a))}" for name, a in zip(names, arrays, strict=True))
        raise DataError(
            f"variables have different lengths ({detail})", hint="pass one value per row for each"
        )
    frame = pd.DataFrame({name: np.asarray(a) for name, a in zip(names, arrays, strict=True)})
    cluster_name = None
    if cluster is not None:
        frame["__cluster__"] = _cluster_values(cluster, len(frame))
        cluster_name = name_of(cluster, "cluster")
    return _Gathered(frame, x_name, m_names, y_name, c_names, cluster_name)


def _gather(data: Any, x: Any, m: Any, y: Any, covariates: Any, cluster: Any) -> _Gathered:
    """Put every variable into one DataFrame and name the roles."""
    mediators, covariate_list = _as_list(m), _as_list(covariates)
    if not mediators:
        raise DataError("no mediator given", hint="pass m='column' or m=['M1', 'M2']")
    if data is None:
        return _gather_from_arrays(x, mediators, y, covariate_list, cluster)
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    return _gather_from_data(frame, x, mediators, y, covariate_list, cluster)


def _level_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float | np.integer | np.floating) else str(value)


def _code_strategy(
    series: pd.Series, name: str, x_type: str, control: Any
) -> tuple[np.ndarray, str, str | None]:
    """The strategy as numbers, whether it is an arm or a dose, and the 0/1 coding of an arm.

    A binary arm is coded 0/1 so that effects are arm contrasts: `control` is 0; without it a numeric or
    boolean arm has its larger value as 1, and a text arm is refused (which text is the control is the
    user's to say: a sorted order would silently reverse the sign of every effect).
    """
    levels = pd.unique(series).tolist()
    is_numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
    if x_type == "arm" and len(levels) != 2:
        raise DataError(
            f"the strategy '{name}' was declared a binary arm (x_type='arm') but has {len(levels)} "
            "distinct values",
            hint="code it with exactly two values, or use x_type='dose' for a continuous dose",
        )
    if x_type == "dose" and not is_numeric:
        raise DataError(
            f"the strategy '{name}' was declared a dose (x_type='dose') but is not numeric",
            hint=f"recode '{name}' as numbers, or use x_type='arm' for two arms",
        )
    is_arm = len(levels) == 2 and x_type != "dose"
    if control is not None and not is_arm:
        raise DataError(
            f"control={control!r} names the control arm of a binary strategy, but '{name}' is a dose "
            f"({len(levels)} distinct values{', x_type=dose' if x_type == 'dose' else ''})",
            hint="drop control= for a dose, or pass a strategy with exactly two values",
        )
    if is_arm:
        ordered = sorted(levels, key=lambda v: (str(type(v)), v))
        shown = " and ".join(f"'{_level_text(level)}'" for level in ordered)
        if control is not None:
            if control not in levels:
                raise DataError(
                    f"control={control!r} is not a value of the strategy '{name}' (its values: {shown})",
                    hint=did_you_mean(str(control), [_level_text(level) for level in ordered])
                    or f"pass control= one of {shown}",
                )
            reference = control
            treated = next(level for level in levels if level != control)
        elif not is_numeric:
            raise DataError(
                f"the strategy '{name}' is a text arm with the values {shown}: say which is the control "
                "(coded 0), so that the effects have the sign you mean",
                hint=f"pass control='{_level_text(ordered[1])}' (effects are then "
                f"'{_level_text(ordered[0])}' minus '{_level_text(ordered[1])}') or "
                f"control='{_level_text(ordered[0])}'",
            )
        else:
            reference, treated = ordered
        label = " (control)" if control is not None else ""
        coding = f"0 = {_level_text(reference)}{label}, 1 = {_level_text(treated)}"
        return (series == treated).to_numpy(dtype=np.float64), "arm", coding
    if is_numeric:
        return _columns.numeric_values(series, "strategy", name), "dose", None
    raise DataError(
        f"the strategy '{name}' is not numeric and has {len(levels)} distinct values",
        hint="a strategy is a binary arm (two values) or a numeric dose; compare arms two at a time",
    )


def _prepare(
    data: Any,
    x: Any,
    m: Any,
    y: Any,
    covariates: Any,
    cluster: Any,
    x_type: str,
    missing: str,
    control: Any = None,
) -> _Prepared:
    """The analysed rows as arrays: complete rows, strategy coded, covariates as numbers, cluster codes."""
    gathered = _gather(data, x, m, y, covariates, cluster)
    frame, n_dropped, note = _columns.complete_rows(
        gathered.frame, missing=missing, labels={"__cluster__": gathered.cluster or "cluster"}
    )
    frame = frame.reset_index(drop=True)
    notes = [note] if note else []
    x_series = frame[gathered.x]
    if n_dropped and x_series.nunique(dropna=False) < 2:
        raise DataError(
            f"after dropping the {n_dropped} row(s) with missing values, the strategy '{gathered.x}' has a "
            f"single value ({_level_text(x_series.iloc[0])}) in the {len(frame)} rows left",
            hint="the other arm (or dose) has no complete row: check the missing values of its recipients",
        )
    x_values, x_type_found, x_coding = _code_strategy(x_series, gathered.x, x_type, control)
    mediators = np.column_stack(
        [_columns.numeric_values(frame[name], "mediator", name) for name in gathered.mediators]
    )
    y_values = _columns.numeric_values(frame[gathered.y], "outcome", gathered.y)
    covariates_found = _columns.covariate_matrix(frame, gathered.covariates)
    notes += [
        f"covariate '{name}' is categorical: dummy-coded against '{reference}'"
        for name, reference in covariates_found.references.items()
    ]
    codes = None
    if gathered.cluster is not None:
        codes, _ = factorize_clusters(frame["__cluster__"].to_numpy())
    return _Prepared(
        gathered.x,
        list(gathered.mediators),
        gathered.y,
        covariates_found.names,
        x_values,
        mediators,
        y_values,
        covariates_found.matrix,
        codes,
        gathered.cluster,
        x_type_found,
        x_coding,
        n_dropped,
        notes,
    )


def _check_design(prep: _Prepared) -> None:
    """Constant or collinear variables and too few rows, each named, before anything is fitted."""
    named = [("strategy", prep.x_name, prep.x)]
    named += [("mediator", name, prep.mediators[:, j]) for j, name in enumerate(prep.m_names)]
    named += [("outcome", prep.y_name, prep.y)]
    for role, name, values in named:
        _columns.check_not_constant(values, role, name)
    _columns.check_enough_rows(prep.x.size, 2 + len(prep.covariate_names) + len(prep.m_names))
    design = np.column_stack([np.ones(prep.x.size), prep.x, prep.covariates, prep.mediators])
    names = ["intercept", prep.x_name, *prep.covariate_names, *prep.m_names]
    _columns.check_full_rank(design, names, "outcome")


# ----------------------------------------------------------------------------------------------------
# Clustering: diagnostics always, robust inference unless switched off
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Clustering:
    use_cluster: bool  # cluster-robust SEs and cluster resampling
    n_clusters: int | None = None
    icc: dict[str, float] | None = None
    design_effect: dict[str, float] | None = None
    warnings: list[str] = field(default_factory=list)


def _clustering(prep: _Prepared, cluster_se: bool | None) -> _Clustering:
    """Number of clusters, ICC(1) and design effect of every mediator and the outcome, and the warnings."""
    if prep.codes is None:
        if cluster_se:
            raise DataError("cluster_se=True needs cluster membership", hint="pass cluster='site' (a column)")
        return _Clustering(False)
    n_clusters = int(prep.codes.max()) + 1
    if n_clusters < 2:
        raise DataError(
            f"only {n_clusters} cluster in '{prep.cluster_name}' after dropping missing rows",
            hint="clustered inference needs many clusters; drop cluster= for a single site",
        )
    sizes = np.bincount(prep.codes)
    icc = {name: icc_oneway(prep.mediators[:, j], prep.codes) for j, name in enumerate(prep.m_names)}
    icc[prep.y_name] = icc_oneway(prep.y, prep.codes)
    deff = {name: design_effect(value, sizes) for name, value in icc.items()}
    result = _Clustering(cluster_se is not False, n_clusters, icc, deff)
    if n_clusters < FEW_CLUSTERS:
        result.warnings.append(
            f"only {n_clusters} clusters: with fewer than about {FEW_CLUSTERS} clusters cluster-robust "
            "standard errors and the cluster bootstrap understate uncertainty (Cameron & Miller 2015; "
            "McNeish & Stapleton 2016); treat intervals as optimistic, or use small-sample corrections"
        )
    if sizes.max() == 1:
        result.warnings.append("every cluster has one row: clustering has no effect on these data")
    if not result.use_cluster:
        worst = max(deff.values())
        result.warnings.append(
            "cluster_se=False: standard errors and resampling ignore the clustering"
            + (f" (largest design effect {worst:.2f})" if np.isfinite(worst) else "")
        )
    return result


# ----------------------------------------------------------------------------------------------------
# Model structure: equations, parameters and effects as polynomials in the coefficients
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EffectSpec:
    """An effect as a signed sum of products of coefficients: Σ sign · Π θ[indices]."""

    name: str
    kind: str
    terms: tuple[tuple[float, tuple[int, ...]], ...]
    paths: tuple[str, ...] = ()
    label: str = ""

    def evaluate(self, theta: np.ndarray) -> np.ndarray:
        out = np.zeros(theta.shape[:-1])
        for sign, indices in self.terms:
            out = out + sign * np.prod(theta[..., list(indices)], axis=-1)
        return out

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(theta)
        for sign, indices in self.terms:
            for position, index in enumerate(indices):
                others = [i for k, i in enumerate(indices) if k != position]
                grad[index] += sign * (np.prod(theta[others]) if others else 1.0)
        return grad


@dataclass
class _Structure:
    columns: list[str]  # names of the columns of Z: "(intercept)", x, covariates..., mediators..., y
    equations: list[tuple[str, int, list[int]]]  # (equation label, response column, predictor columns)
    offsets: list[int]  # start of each equation's coefficients in θ
    path_index: dict[str, int]  # "a[M]" etc. -> position in θ
    path_ends: dict[str, tuple[str, str]]
    indirect: list[_EffectSpec]
    specs: list[_EffectSpec]  # all effects except paths, in report order

    @property
    def direct_index(self) -> int:
        """Position of c' (the strategy's coefficient in the outcome equation) in θ."""
        return self.specs[-2].terms[0][1][0]


def _equations(prep: _Prepared, model: str) -> tuple[list[str], list[tuple[str, int, list[int]]]]:
    """The columns of Z and the equations: one per mediator (after the earlier ones when serial), then Y."""
    k, c = len(prep.m_names), len(prep.covariate_names)
    names = ["(intercept)", prep.x_name, *prep.covariate_names, *prep.m_names, prep.y_name]
    base = [0, 1, *range(2, 2 + c)]
    m_cols = list(range(2 + c, 2 + c + k))
    equations: list[tuple[str, int, list[int]]] = []
    for j, col in enumerate(m_cols):
        predictors = base + (m_cols[:j] if model == "serial" else [])
        equations.append((f"mediator: {prep.m_names[j]}", col, predictors))
    equations.append((f"outcome: {prep.y_name}", 2 + c + k, base + m_cols))
    return names, equations


def _paths(
    prep: _Prepared, model: str, equations: list[tuple[str, int, list[int]]], offsets: list[int]
) -> tuple[dict[str, int], dict[str, tuple[str, str]], int]:
    """Where each path coefficient (a, d, b) and c' sit in θ, and which variables each path joins."""
    k, first_mediator = len(prep.m_names), 2 + len(prep.covariate_names)

    def position(equation: int, column: int) -> int:
        return int(offsets[equation] + equations[equation][2].index(column))

    path_index: dict[str, int] = {}
    path_ends: dict[str, tuple[str, str]] = {}
    for j, name in enumerate(prep.m_names):
        path_index[f"a[{name}]"] = position(j, 1)
        path_ends[f"a[{name}]"] = (prep.x_name, name)
    if model == "serial":
        for j in range(k):
            for i in range(j):
                label = f"d[{prep.m_names[i]}->{prep.m_names[j]}]"
                path_index[label] = position(j, first_mediator + i)
                path_ends[label] = (prep.m_names[i], prep.m_names[j])
    for j, name in enumerate(prep.m_names):
        path_index[f"b[{name}]"] = position(k, first_mediator + j)
        path_ends[f"b[{name}]"] = (name, prep.y_name)
    return path_index, path_ends, position(k, 1)


def _indirect_specs(m_names: list[str], model: str, path_index: dict[str, int]) -> list[_EffectSpec]:
    """Every specific indirect effect: one per mediator, or one per chain of mediators when serial."""
    k = len(m_names)
    chains: list[tuple[int, ...]]
    if model == "serial":
        chains = sorted(
            (combo for r in range(1, k + 1) for combo in itertools.combinations(range(k), r)), key=lambda t: t
        )
    else:
        chains = [(j,) for j in range(k)]
    indirect: list[_EffectSpec] = []
    for chain in chains:
        names = [m_names[j] for j in chain]
        paths = [f"a[{names[0]}]"]
        paths += [f"d[{names[i]}->{names[i + 1]}]" for i in range(len(names) - 1)]
        paths += [f"b[{names[-1]}]"]
        label = "->".join(names)
        indices = tuple(path_index[p] for p in paths)
        indirect.append(_EffectSpec(f"indirect[{label}]", "indirect", ((1.0, indices),), tuple(paths), label))
    return indirect


def _effect_specs(indirect: list[_EffectSpec], direct_index: int, contrasts: bool) -> list[_EffectSpec]:
    """Indirect effects, their total and contrasts (two or more mediators), the direct and total effects."""
    all_terms = tuple(term for spec in indirect for term in spec.terms)
    specs = list(indirect)
    if len(indirect) > 1:
        specs.append(_EffectSpec("total_indirect", "total_indirect", all_terms, label="total indirect"))
        if contrasts:
            for first, second in itertools.combinations(indirect, 2):
                terms = first.terms + tuple((-sign, idx) for sign, idx in second.terms)
                specs.append(
                    _EffectSpec(
                        f"contrast[{first.label}-{second.label}]",
                        "contrast",
                        terms,
                        label=f"{first.name} - {second.name}",
                    )
                )
    specs.append(_EffectSpec("direct", "direct", ((1.0, (direct_index,)),), label="direct"))
    specs.append(_EffectSpec("total", "total", ((1.0, (direct_index,)), *all_terms), label="total"))
    return specs


def _structure(prep: _Prepared, model: str, contrasts: bool) -> _Structure:
    names, equations = _equations(prep, model)
    offsets = [int(v) for v in np.cumsum([0] + [len(p) for _, _, p in equations])[:-1]]
    path_index, path_ends, direct_index = _paths(prep, model, equations, offsets)
    indirect = _indirect_specs(prep.m_names, model, path_index)
    specs = _effect_specs(indirect, direct_index, contrasts)
    return _Structure(names, equations, offsets, path_index, path_ends, indirect, specs)


@dataclass(frozen=True)
class _Derived:
    """Proportions mediated and standardized effects: functions of the effects and the SDs of X and Y."""

    specs: list[_EffectSpec]
    ratio_pairs: list[tuple[str, _EffectSpec]]  # (name, numerator) of every proportion mediated
    standardized: list[_EffectSpec]  # the effects that get partially and completely standardized versions
    total: _EffectSpec

    @classmethod
    def of(cls, structure: _Structure) -> _Derived:
        specs = structure.specs
        overall = next((s for s in specs if s.kind == "total_indirect"), structure.indirect[0])
        ratio_pairs = [("proportion_mediated", overall)]
        if len(structure.indirect) > 1:
            ratio_pairs += [(f"proportion_mediated[{s.label}]", s) for s in structure.indirect]
        standardized = [s for s in specs if s.kind in ("indirect", "total_indirect", "direct", "total")]
        return cls(specs, ratio_pairs, standardized, next(s for s in specs if s.kind == "total"))

    @property
    def names(self) -> list[str]:
        return (
            [name for name, _ in self.ratio_pairs]
            + [_std_name(s, "ps") for s in self.standardized]
            + [_std_name(s, "cs") for s in self.standardized]
        )

    def evaluate(self, values: np.ndarray, sx: np.ndarray | float, sy: np.ndarray | float) -> np.ndarray:
        """Proportions mediated and standardized effects from the effect values (last axis = specs)."""
        by_name = {spec.name: values[..., i] for i, spec in enumerate(self.specs)}
        columns_out = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for _, spec in self.ratio_pairs:
                columns_out.append(by_name[spec.name] / by_name[self.total.name])
            for spec in self.standardized:
                columns_out.append(by_name[spec.name] / sy)
            for spec in self.standardized:
                columns_out.append(by_name[spec.name] * sx / sy)
        return np.stack(columns_out, axis=-1)

    def gradients(self, gradients: np.ndarray, estimates: np.ndarray) -> list[np.ndarray]:
        """Gradients of the proportions mediated (quotient rule); standardized effects are scaled instead."""
        names = [s.name for s in self.specs]
        t = names.index(self.total.name)
        out = []
        for _, spec in self.ratio_pairs:
            i = names.index(spec.name)
            out.append((gradients[i] * estimates[t] - estimates[i] * gradients[t]) / estimates[t] ** 2)
        out.extend(np.zeros_like(gradients[0]) for _ in range(2 * len(self.standardized)))
        return out


def _std_name(spec: _EffectSpec, suffix: str) -> str:
    if "[" in spec.name:
        head, rest = spec.name.split("[", 1)
        return f"{head}_{suffix}[{rest}"
    return f"{spec.name}_{suffix}"


def _std_base(name: str) -> str:
    for suffix in ("_ps", "_cs"):
        name = name.replace(suffix + "[", "[") if suffix + "[" in name else name.removesuffix(suffix)
    return name


# ----------------------------------------------------------------------------------------------------
# Estimation
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Fit:
    theta: np.ndarray  # all coefficients of all equations (mediators..., outcome)
    covariance: np.ndarray  # joint covariance of theta (classical block diagonal, or CR1)
    se: np.ndarray
    df: np.ndarray  # degrees of freedom of each coefficient's t test
    total_coef: np.ndarray  # total-effect model coefficients
    total_se: np.ndarray
    total_df: float
    sd: np.ndarray  # sample SD (n - 1) of every column of Z


def _fit_equations(
    z: np.ndarray, structure: _Structure, codes: np.ndarray | None, cluster_se: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS of every equation of the structure: the stacked coefficients, their joint covariance (classical
    block diagonal, or CR1 with cross-equation blocks) and each coefficient's degrees of freedom. The power
    engine's subgroup models read these alone (`moclab.design.criteria_analyses`)."""
    n = z.shape[0]
    coefs, residuals, designs, blocks, dfs = [], [], [], [], []
    for _, response, predictors in structure.equations:
        design = z[:, predictors]
        fit = least_squares(design, z[:, response])
        df = n - len(predictors)
        coefs.append(fit.coef)
        residuals.append(fit.residuals)
        designs.append(design)
        blocks.append(fit.residuals @ fit.residuals / df * fit.xtx_inv)
        dfs.append(np.full(len(predictors), float(df)))
    theta = np.concatenate(coefs)
    if cluster_se and codes is not None:
        n_clusters = int(codes.max()) + 1
        covariance = cluster_robust_covariance(designs, residuals, codes)
        return theta, covariance, np.full(theta.size, float(n_clusters - 1))
    return theta, sla.block_diag(*blocks), np.concatenate(dfs)


def _fit(z: np.ndarray, structure: _Structure, codes: np.ndarray | None, cluster_se: bool) -> _Fit:
    n = z.shape[0]
    theta, covariance, df_all = _fit_equations(z, structure, codes, cluster_se)
    # The total-effect model: the outcome model without the mediators (intercept, x, covariates).
    k = len(structure.equations) - 1
    total_predictors = structure.equations[-1][2][: len(structure.equations[-1][2]) - k]
    total_design = z[:, total_predictors]
    total = least_squares(total_design, z[:, structure.equations[-1][1]])
    if cluster_se and codes is not None:
        total_cov = cluster_robust_covariance([total_design], [total.residuals], codes)
        total_df = float(df_all[0])  # G - 1, as every coefficient's
    else:
        total_df = float(n - len(total_predictors))
        total_cov = total.residuals @ total.residuals / total_df * total.xtx_inv
    return _Fit(
        theta=theta,
        covariance=covariance,
        se=np.sqrt(np.diag(covariance)),
        df=df_all,
        total_coef=total.coef,
        total_se=np.sqrt(np.diag(total_cov)),
        total_df=total_df,
        sd=z.std(axis=0, ddof=1),
    )


@dataclass
class _Estimates:
    """The point estimates every interval and effect is built from."""

    z: np.ndarray  # (n, v): intercept, x, covariates, mediators, y
    fit: _Fit
    values: np.ndarray  # every effect of `structure.specs`
    derived: np.ndarray  # every derived quantity of `_Derived.names`
    path_p: dict[str, float]  # t (or cluster-robust t) p-value of every path

    @property
    def sd_x(self) -> float:
        return float(self.fit.sd[1])

    @property
    def sd_y(self) -> float:
        return float(self.fit.sd[-1])


def _estimate(
    prep: _Prepared, structure: _Structure, derived: _Derived, clustering: _Clustering
) -> _Estimates:
    z = np.column_stack([np.ones(prep.x.size), prep.x, prep.covariates, prep.mediators, prep.y])
    codes = prep.codes if clustering.use_cluster else None
    fit = _fit(z, structure, codes, clustering.use_cluster)
    values = np.array([spec.evaluate(fit.theta) for spec in structure.specs])
    path_p = {
        name: float(2 * special.stdtr(fit.df[i], -abs(fit.theta[i] / fit.se[i])))
        for name, i in structure.path_index.items()
    }
    sd_x, sd_y = fit.sd[1], fit.sd[z.shape[1] - 1]
    return _Estimates(z, fit, values, derived.evaluate(values, sd_x, sd_y), path_p)


def _unscale(
    draws_coefficients: Sequence[np.ndarray], structure: _Structure, center: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Map coefficients estimated on centered, scaled columns back to the original units (all equations)."""
    parts = []
    for coef, (_, response, predictors) in zip(draws_coefficients, structure.equations, strict=True):
        out = np.empty_like(coef)
        slopes = [i for i, col in enumerate(predictors) if col != 0]
        for i in slopes:
            out[:, i] = coef[:, i] * scale[response] / scale[predictors[i]]
        intercept = predictors.index(0)
        out[:, intercept] = (
            center[response]
            + scale[response] * coef[:, intercept]
            - sum(out[:, i] * center[predictors[i]] for i in slopes)
        )
        parts.append(out)
    return np.concatenate(parts, axis=1)


def _resampled_sd(variances: np.ndarray, weight_total: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Sample SDs (divisor W - 1) in original units from the weighted variances of the scaled columns."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return scale * np.sqrt(np.clip(variances, 0.0, None) * (weight_total / (weight_total - 1))[:, None])


# ----------------------------------------------------------------------------------------------------
# Resampling and intervals
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Intervals:
    """Interval ends and SE of every effect and derived quantity, by name, with what produced them."""

    bounds: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # name -> (low, high, se)
    draws: pd.DataFrame | None = None
    n_used: int | None = None
    method: str = ""
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, names: list[str], low: Any, high: Any, se: Any, draws: Any, keep: bool) -> _Intervals:
        bounds = {name: (float(low[i]), float(high[i]), float(se[i])) for i, name in enumerate(names)}
        return cls(bounds, pd.DataFrame(draws, columns=names) if keep else None)


def _bootstrap_intervals(
    est: _Estimates,
    structure: _Structure,
    derived: _Derived,
    codes: np.ndarray | None,
    inference: _Inference,
    rng: np.random.Generator,
) -> _Intervals:
    """Percentile or BCa intervals from `n_boot` resamples of rows (or clusters), all solved at once."""
    z, specs, ci, n_boot = est.z, structure.specs, inference.ci, int(inference.n_boot)
    x_column, y_column = 1, z.shape[1] - 1
    center, scale = z.mean(axis=0), z.std(axis=0)
    center[0], scale[0] = 0.0, 1.0
    zs = (z - center) / scale
    equations = [(response, predictors) for _, response, predictors in structure.equations]
    boot = bootstrap_regressions(zs, equations, n_boot, rng, clusters=codes, chunk_size=inference.chunk_size)
    theta_boot = _unscale(boot.coefficients, structure, center, scale)
    sds = _resampled_sd(boot.variances, boot.weight_total, scale)
    keep = ~boot.singular
    n_used = int(keep.sum())
    warnings = []
    if boot.n_singular:
        advice = "; with this many, the bootstrap is unreliable here: use ci='monte_carlo'"
        warnings.append(
            f"{boot.n_singular} of {n_boot} bootstrap resamples could not be estimated (a variable "
            "was constant in the resample, e.g. only one arm drawn) and were dropped"
            + (advice if boot.n_singular / n_boot > 0.05 else "")
        )
    if n_used < 50:
        raise DataError(
            f"only {n_used} bootstrap resamples could be estimated",
            hint="the data are too small or too unbalanced for the bootstrap; use ci='monte_carlo'",
        )
    effect_boot = np.stack([spec.evaluate(theta_boot[keep]) for spec in specs], axis=1)
    derived_boot = derived.evaluate(effect_boot, sds[keep, x_column], sds[keep, y_column])
    all_boot = np.concatenate([effect_boot, derived_boot], axis=1)
    all_hat = np.concatenate([est.values, est.derived])
    if ci == "bca":
        all_jack = _jackknife(zs, equations, codes, structure, derived, center, scale)
        low, high = bca_interval(all_boot, all_hat, all_jack, inference.level)
    else:
        low, high = percentile_interval(all_boot, all_hat, inference.level)
    with np.errstate(invalid="ignore"):
        se_boot = np.nanstd(all_boot, axis=0, ddof=1)
    names = [s.name for s in specs] + derived.names
    result = _Intervals.of(names, low, high, se_boot, all_boot, inference.keep_draws)
    unit = "clusters" if codes is not None else "rows"
    result.method = f", {n_boot} resamples of {unit}"
    if ci == "bca" and codes is not None:
        result.method += " (acceleration from leave-one-cluster-out)"
    result.n_used, result.warnings = n_used, warnings
    return result


def _jackknife(
    zs: np.ndarray,
    equations: list[tuple[int, list[int]]],
    codes: np.ndarray | None,
    structure: _Structure,
    derived: _Derived,
    center: np.ndarray,
    scale: np.ndarray,
) -> np.ndarray:
    """Every effect and derived quantity leaving out one row (or cluster) at a time (BCa's acceleration)."""
    jack = jackknife_regressions(zs, equations, clusters=codes)
    if jack.n_singular:
        raise DataError(
            "leaving out one row (or cluster) makes a model inestimable, so BCa is undefined",
            hint="use ci='percentile'",
        )
    theta_jack = _unscale(jack.coefficients, structure, center, scale)
    jack_sds = _resampled_sd(jack.variances, jack.weight_total, scale)
    effect_jack = np.stack([spec.evaluate(theta_jack) for spec in structure.specs], axis=1)
    y_column = zs.shape[1] - 1
    return np.concatenate(
        [effect_jack, derived.evaluate(effect_jack, jack_sds[:, 1], jack_sds[:, y_column])], axis=1
    )


def _monte_carlo_intervals(
    est: _Estimates,
    structure: _Structure,
    derived: _Derived,
    inference: _Inference,
    rng: np.random.Generator,
) -> _Intervals:
    """Percentile intervals of `n_mc` draws of the coefficients from their joint normal distribution."""
    theta_mc = monte_carlo_draws(est.fit.theta, est.fit.covariance, int(inference.n_mc), rng)
    effect_mc = np.stack([spec.evaluate(theta_mc) for spec in structure.specs], axis=1)
    derived_mc = derived.evaluate(effect_mc, est.sd_x, est.sd_y)
    all_mc = np.concatenate([effect_mc, derived_mc], axis=1)
    low, high = percentile_interval(all_mc, None, inference.level)
    se_mc = np.nanstd(all_mc, axis=0, ddof=1)
    names = [s.name for s in structure.specs] + derived.names
    result = _Intervals.of(names, low, high, se_mc, all_mc, inference.keep_draws)
    result.method = f", {int(inference.n_mc)} draws; SDs of X and Y treated as fixed in standardized effects"
    return result


def _intervals(
    est: _Estimates,
    structure: _Structure,
    derived: _Derived,
    clustering: _Clustering,
    codes: np.ndarray | None,
    inference: _Inference,
) -> _Intervals:
    """The intervals `ci` asks for, and the sentence describing the inference."""
    ci, level = inference.ci, inference.level
    rng = as_generator(inference.seed)
    if ci in ("bca", "percentile"):
        result = _bootstrap_intervals(est, structure, derived, codes, inference, rng)
    elif ci == "monte_carlo":
        result = _monte_carlo_intervals(est, structure, derived, inference, rng)
    else:
        result = _Intervals(method="; SDs of X and Y treated as fixed in standardized effects")
    result.method = _CI_LABELS[ci] + result.method
    if clustering.use_cluster:
        result.method += f"; cluster-robust (CR1) SEs, t with {clustering.n_clusters - 1} df"
    result.method += f"; {level:.0%} intervals"
    return result


def mediate(
    data: pd.DataFrame | Mapping[str, Any] | None = None,
    *,
    x: ColumnOrArray,
    m: ColumnOrArray | Sequence[ColumnOrArray] | np.ndarray | pd.DataFrame,
    y: ColumnOrArray,
    covariates: ColumnOrArray | Sequence[ColumnOrArray] | np.ndarray | pd.DataFrame = (),
    cluster: ColumnOrArray | None = None,
    model: Literal["parallel", "serial"] = "parallel",
    ci: Literal["bca", "percentile", "monte_carlo", "delta"] = "percentile",
    n_boot: int = 5000,
    n_mc: int = 20_000,
    level: float = 0.95,
    seed: SeedLike = None,
    cluster_se: bool | None = None,
    standardize: bool = False,
    contrasts: bool = True,
    x_type: Literal["auto", "arm", "dose"] = "auto",
    control: Any = None,
    missing: Literal["listwise", "raise"] = "listwise",
    keep_draws: bool = False,
    chunk_size: int | None = None,
) -> MediationResult:
    """Estimate how much of a strategy's effect on an outcome runs through one or more mediators.

    Parameters
    ----------
    data : pandas.DataFrame or mapping, optional
        The data; then ``x``, ``m``, ``y``, ``covariates`` (and ``cluster``) are column names. Without data,
        pass arrays or Series (Series names become variable names).
    x : str or array
        The strategy: a binary arm (two distinct values, coded 0/1: ``control`` is 0, and without it the
        larger of two numbers or True is 1) or a continuous dose (minutes, sessions, contacts).
    m : str, list of str, or array(s)
        The mediator, or several mediators (parallel, or in causal order for ``model="serial"``).
    y : str or array
        The outcome (continuous).
    covariates : str, list of str, or array(s)
        Adjustment variables entering every equation; text or categorical columns are dummy-coded.
    cluster : str or array, optional
        Cluster membership (site, team): reports the number of clusters, ICCs and design effects, resamples
        clusters in the bootstrap and, by default, uses cluster-robust (CR1) standard errors.
    model : {"parallel", "serial"}
        Several mediators side by side (each depends on X only) or in a chain X → M1 → M2 → ... → Y.
    ci : {"percentile", "bca", "monte_carlo", "delta"}
        Interval for indirect, contrast, direct and total effects: percentile (the default) or bias-corrected
        and accelerated bootstrap (``n_boot`` resamples), Monte Carlo (``n_mc`` draws; Preacher & Selig,
        2012), or the first-order delta method (Sobel). With "monte_carlo" and "delta", direct and total
        effects (single regression coefficients) get their t (or cluster-robust) intervals. BCa is not the
        default because its Type I error for the indirect effect exceeds the nominal level when one path is
        zero (about .08 at α = .05 in Fritz, Taylor & MacKinnon, 2012, and in moclab's own check, tests/
        analysis/test_mediation_simulation.py); use it knowing that.
    n_boot, n_mc : int
        Bootstrap resamples, Monte Carlo draws.
    level : float
        Confidence level (also sets the joint-significance alpha = 1 - level).
    seed : int, numpy.random.Generator or None
        Randomness for resampling; the same seed gives the same intervals.
    cluster_se : bool, optional
        Cluster-robust standard errors (and cluster resampling); default True when ``cluster`` is given.
        False with a cluster ignores the clustering for inference (with a warning).
    standardize : bool
        Also put the standardized effects (``result.standardized``) in the effect table.
    contrasts : bool
        Report pairwise differences between specific indirect effects (two or more mediators).
    x_type : {"auto", "arm", "dose"}
        Declare the strategy binary ("arm": an error if it is not) or continuous ("dose": never recoded).
    control : optional
        The value of a binary strategy that is the control arm (coded 0; the study's
        ``design.randomization.control``), e.g. ``control="usual"``: effects are then the other arm minus
        it. Required when the arm is text, where no order says which arm is the control; a number or
        boolean arm defaults to its smaller value (or False). ``info["x_coding"]`` and the summary say
        which value is 0.
    missing : {"listwise", "raise"}
        Drop incomplete rows (reported in ``n_dropped`` and the warnings) or raise `DataError`.
    keep_draws : bool
        Keep the bootstrap or Monte Carlo draws of every effect in ``result.draws``.
    chunk_size : int, optional
        Bootstrap resamples solved per batch (memory bound); results do not depend on it.

    Returns
    -------
    MediationResult

    Raises
    ------
    DataError
        Unknown columns (with suggestions), non-numeric mediators or outcome, a constant or collinear
        variable, too few rows or clusters, missing values with ``missing="raise"``, invalid options.

    Notes
    -----
    Coefficients come from OLS (equations in the module docstring). A specific indirect effect is the product
    of the coefficients along its path; the total effect c equals c' plus all specific indirect effects.

    *Bootstrap.* Rows (or whole clusters) are resampled ``n_boot`` times and every equation is re-estimated
    on every resample at once (`moclab.analysis.bootstrap.bootstrap_regressions`: batched normal equations,
    no loop over resamples); the percentile interval takes quantiles of the resampled effects, BCa adjusts
    them for bias and skewness using leave-one-out (leave-one-cluster-out) estimates computed by rank-one
    downdates (Efron, 1987). Resamples in which a model cannot be estimated (e.g. one arm missing) are
    dropped and counted in a warning. The reported SE is the SD of the resampled effects.

    *Monte Carlo.* Coefficients are drawn from their joint normal distribution (block diagonal across
    equations under classical OLS errors; with cluster-robust errors the stacked-score sandwich, which keeps
    the covariance between equations induced by clustering), and effects evaluated per draw.

    *Delta method.* SE = sqrt(g'Vg) with g the gradient of the effect; for a·b this is Sobel's (1982)
    first-order SE. Its p-value is reported for comparison; for indirect effects it is conservative.

    *Joint significance.* An indirect effect is supported when every path along it is significant
    (MacKinnon et al., 2002; Taylor, MacKinnon & Tein, 2008).

    *Clustering.* ICC(1) by the one-way ANOVA estimator with n0 for unequal clusters (Snedecor & Cochran
    1989; the same function as `moclab score`'s aggregation check) and Kish's design effect
    1 + (n̄ - 1)·ICC for every mediator and the outcome. With fewer than 20 clusters, cluster-robust SEs and
    the cluster bootstrap are too liberal (Cameron & Miller, 2015; McNeish & Stapleton, 2016) and a warning
    says so; for random slopes or within/between decomposition use the multilevel mediation analysis.

    Estimates are causal effects only under the usual assumptions: no unmeasured confounding of X-M, X-Y
    and M-Y relations (randomizing the strategy removes the first two, not the third), correct temporal
    order, no X×M interaction. See `moclab.analysis.sensitivity` for how strong M-Y confounding would have to
    be to explain the indirect effect away.

    References
    ----------
    Baron, R. M., & Kenny, D. A. (1986). The moderator-mediator variable distinction. *JPSP*, 51, 1173-1182.
    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
    Human Resources*, 50(2), 317-372.
    Efron, B. (1987). Better bootstrap confidence intervals. *JASA*, 82(397), 171-185.
    Hayes, A. F. (2022). *Introduction to Mediation, Moderation, and Conditional Process Analysis* (3rd ed.).
    Guilford.
    MacKinnon, D. P. (2008). *Introduction to Statistical Mediation Analysis*. Erlbaum.
    MacKinnon, D. P., Lockwood, C. M., Hoffman, J. M., West, S. G., & Sheets, V. (2002). A comparison of
    methods to test mediation and other intervening variable effects. *Psychological Methods*, 7, 83-104.
    McNeish, D., & Stapleton, L. M. (2016). Modeling clustered data with very few clusters. *Multivariate
    Behavioral Research*, 51(4), 495-518.
    Preacher, K. J., & Hayes, A. F. (2008). Asymptotic and resampling strategies for assessing and comparing
    indirect effects in multiple mediator models. *Behavior Research Methods*, 40(3), 879-891.
    Fritz, M. S., Taylor, A. B., & MacKinnon, D. P. (2012). Explanation of two anomalous results in
    statistical mediation analysis. *Multivariate Behavioral Research*, 47(1), 61-87.
    Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for indirect
    effects. *Communication Methods and Measures*, 6(2), 77-98.
    Snedecor, G. W., & Cochran, W. G. (1989). *Statistical Methods* (8th ed.). Iowa State University Press.
    Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation models.
    *Sociological Methodology*, 13, 290-312.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 300
    >>> df = pd.DataFrame({"coaching": rng.integers(0, 2, n), "age": rng.normal(40, 10, n)})
    >>> df["trust"] = 0.5 * df.coaching + rng.normal(size=n)
    >>> df["adoption"] = 0.4 * df.trust + 0.1 * df.coaching + rng.normal(size=n)
    >>> result = mediate(df, x="coaching", m="trust", y="adoption", covariates=["age"], n_boot=2000, seed=7)
    >>> ind = result.effect("indirect[trust]")
    >>> round(ind.estimate, 3), ind.ci_method
    (0.248, 'percentile')
    >>> bool(ind.ci_low > 0)
    True
    >>> round(float(result.to_frame().loc["total", "estimate"]), 3)
    0.217
    """
    inference = _Inference(ci, level, n_boot, n_mc, seed, chunk_size, keep_draws)
    _check_options(model, x_type, missing, inference)
    prep = _prepare(data, x, m, y, covariates, cluster, x_type, missing, control)
    if model == "serial" and len(prep.m_names) < 2:
        raise DataError(
            "a serial model needs at least two mediators in causal order", hint="or use 'parallel'"
        )
    _check_design(prep)
    clustering = _clustering(prep, cluster_se)
    structure = _structure(prep, model, contrasts)
    derived = _Derived.of(structure)
    est = _estimate(prep, structure, derived, clustering)
    codes = prep.codes if clustering.use_cluster else None
    intervals = _intervals(est, structure, derived, clustering, codes, inference)

    # Delta-method SEs for everything (reported for comparison; the interval when ci="delta").
    gradients = np.array([spec.gradient(est.fit.theta) for spec in structure.specs])
    delta_se = np.atleast_1d(delta_method_se(gradients, est.fit.covariance))
    ci_method = "cluster_t" if clustering.use_cluster else "t"
    effects = _path_effects(structure, est.fit, level, ci_method)
    main, joint = _main_effects(structure, est, delta_se, intervals, inference, ci_method)
    effects += main
    derived_effects = _derived_effects(derived, est, gradients, delta_se, intervals, inference, prep.x_type)
    proportions = [e for e in derived_effects if e.kind == "proportion_mediated"]
    standardized = tuple(e for e in derived_effects if e.kind != "proportion_mediated")
    warnings = [*prep.notes, *clustering.warnings, *intervals.warnings]
    warnings += _proportion_caveats(effects, proportions, prep.x.size)
    effects += proportions
    if standardize:
        effects += standardized
    return MediationResult(
        effects=tuple(effects),
        info=_info(prep, model, inference, clustering, intervals, joint, structure, est.fit),
        warnings=tuple(warnings),
        model=model,
        x=prep.x_name,
        mediators=tuple(prep.m_names),
        y=prep.y_name,
        covariates=tuple(prep.covariate_names),
        x_type=prep.x_type,
        coefficients=_coefficient_table(structure, est.fit, level, clustering.use_cluster),
        n=prep.x.size,
        n_dropped=prep.n_dropped,
        n_clusters=clustering.n_clusters,
        icc=clustering.icc or {},
        design_effect=clustering.design_effect or {},
        joint_significance=joint,
        proportion_mediated=proportions[0] if proportions else None,
        standardized=standardized,
        draws=intervals.draws,
    )


def _info(
    prep: _Prepared,
    model: str,
    inference: _Inference,
    clustering: _Clustering,
    intervals: _Intervals,
    joint: dict[str, bool],
    structure: _Structure,
    fit: _Fit,
) -> dict[str, Any]:
    """What was run: the method in words, the settings, the sample and the clustering."""
    clustered = prep.codes is not None
    seed = inference.seed
    return {
        "method": intervals.method,
        "model": model,
        "ci": inference.ci,
        "level": inference.level,
        "n": prep.x.size,
        "n_dropped": prep.n_dropped,
        "x_type": prep.x_type,
        "x_coding": prep.x_coding,
        "n_boot": int(inference.n_boot) if inference.bootstrap else None,
        "n_boot_used": intervals.n_used,
        "n_mc": int(inference.n_mc) if inference.ci == "monte_carlo" else None,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
        "cluster": prep.cluster_name,
        "n_clusters": clustering.n_clusters,
        "icc": clustering.icc,
        "icc_estimator": ICC_ANOVA_ESTIMATOR if clustered else None,
        "design_effect": clustering.design_effect,
        "cluster_se": clustering.use_cluster,
        "cluster_bootstrap": bool(clustering.use_cluster and inference.bootstrap),
        "joint_significance": joint,
        "sd": {name: float(sd) for name, sd in zip(structure.columns[1:], fit.sd[1:], strict=True)},
    }


# ----------------------------------------------------------------------------------------------------
# Effect assembly
# ----------------------------------------------------------------------------------------------------


def _path_effects(structure: _Structure, fit: _Fit, level: float, ci_method: str) -> list[Effect]:
    """The a, d and b paths: regression coefficients with their t (or cluster-robust t) intervals."""
    effects = []
    for name, index in structure.path_index.items():
        est, se, df = fit.theta[index], fit.se[index], fit.df[index]
        low, high, p = wald_interval(est, se, level, df)
        source, target = structure.path_ends[name]
        extra = {"from": source, "to": target, "df": float(df)}
        effects.append(
            Effect(name, name.split("[")[0], float(est), float(se), low, high, float(p), ci_method, extra)
        )
    return effects


def _delta(estimate: float, se: float, z_crit: float) -> tuple[float, float, float | None]:
    """Delta-method interval ends and normal p-value (None when the SE is 0)."""
    p = float(2 * special.ndtr(-abs(estimate / se))) if se > 0 else None
    return estimate - z_crit * se, estimate + z_crit * se, p


def _main_effects(
    structure: _Structure,
    est: _Estimates,
    delta_se: np.ndarray,
    intervals: _Intervals,
    inference: _Inference,
    ci_method: str,
) -> tuple[list[Effect], dict[str, bool]]:
    """Indirect effects, their total and contrasts, the direct and total effects, and joint significance.

    Direct and total effects are regression coefficients: without the bootstrap they keep their t interval;
    the delta-method SE and p of every effect are in ``extra`` for comparison.
    """
    fit, level, ci = est.fit, inference.level, inference.ci
    z_crit = float(special.ndtri(0.5 + level / 2))
    regression = {
        "direct": (fit.theta[structure.direct_index], fit.se[structure.direct_index],
                   fit.df[structure.direct_index]),
        "total": (fit.total_coef[1], fit.total_se[1], fit.total_df),
    }  # fmt: skip
    effects: list[Effect] = []
    joint: dict[str, bool] = {}
    for i, spec in enumerate(structure.specs):
        value, d_se = float(est.values[i]), float(delta_se[i])
        d_p = float(2 * special.ndtr(-abs(value / d_se))) if d_se > 0 else float("nan")
        extra: dict[str, Any] = {"delta_se": d_se, "delta_p": d_p}
        if spec.kind == "indirect":
            largest = max(est.path_p[p] for p in spec.paths)
            joint[spec.name] = bool(largest < 1.0 - level)
            extra.update({"paths": list(spec.paths), "joint_significant": joint[spec.name]})
            extra["joint_p"] = float(largest)
        if spec.kind in regression:
            reg_est, reg_se, reg_df = regression[spec.kind]
            low_t, high_t, p_t = wald_interval(reg_est, reg_se, level, reg_df)
            extra.update({"se_regression": float(reg_se), "p_regression": float(p_t), "df": float(reg_df)})
            if inference.bootstrap:
                low, high, se = intervals.bounds[spec.name]
                effects.append(Effect(spec.name, spec.kind, value, se, low, high, float(p_t), ci, extra))
            else:
                effects.append(
                    Effect(spec.name, spec.kind, value, float(reg_se), low_t, high_t, p_t, ci_method, extra)
                )
        elif ci == "delta":
            low, high, _ = _delta(value, d_se, z_crit)
            effects.append(Effect(spec.name, spec.kind, value, d_se, low, high, d_p, "delta", extra))
        else:
            low, high, se = intervals.bounds[spec.name]
            effects.append(Effect(spec.name, spec.kind, value, se, low, high, None, ci, extra))
    return effects, joint


def _derived_effects(
    derived: _Derived,
    est: _Estimates,
    gradients: np.ndarray,
    delta_se: np.ndarray,
    intervals: _Intervals,
    inference: _Inference,
    x_type: str,
) -> list[Effect]:
    """Proportions mediated and standardized effects, with intervals by the same method as the effects."""
    z_crit = float(special.ndtri(0.5 + inference.level / 2))
    spec_names = [s.name for s in derived.specs]
    derived_gradients = derived.gradients(gradients, est.values)
    effects = []
    for i, name in enumerate(derived.names):
        value = float(est.derived[i])
        if name.startswith("proportion_mediated"):
            kind = "proportion_mediated"
            se_d = float(delta_method_se(derived_gradients[i], est.fit.covariance))
        else:
            partial = name.endswith("_ps") or "_ps[" in name
            kind = "partially_standardized" if partial else "completely_standardized"
            factor = 1 / est.sd_y if partial else est.sd_x / est.sd_y
            se_d = float(delta_se[spec_names.index(_std_base(name))] * abs(factor))
        extra = {}
        if kind == "completely_standardized" and x_type == "arm":
            extra["note"] = "X is a binary arm: read the partially standardized effect instead"
        if inference.ci == "delta":
            low, high, p = _delta(value, se_d, z_crit)
            effects.append(Effect(name, kind, value, se_d, low, high, p, "delta", extra))
        else:
            low, high, se = intervals.bounds[name]
            effects.append(Effect(name, kind, value, se, low, high, None, inference.ci, extra))
    return effects


def _proportion_caveats(effects: Sequence[Effect], proportions: Sequence[Effect], n: int) -> list[str]:
    notes: list[str] = []
    if not proportions:
        return notes
    by_name = {e.name: e for e in effects}
    total, direct = by_name["total"], by_name["direct"]
    overall = by_name.get("total_indirect") or next(e for e in effects if e.kind == "indirect")
    pm = proportions[0].estimate
    total_p = total.extra.get("p_regression", total.p)
    if total_p is not None and total_p >= 0.05:
        notes.append(
            f"the total effect is small relative to its uncertainty (p = {total_p:.2g}): the proportion "
            f"mediated ({pm:.2f}) is unstable and can be far outside 0-1; interpret the indirect effect "
            "instead"
        )
    if (
        np.sign(overall.estimate) != np.sign(direct.estimate)
        and direct.estimate != 0
        and overall.estimate != 0
    ):
        notes.append(
            "the indirect and direct effects have opposite signs (inconsistent mediation or suppression): "
            "the proportion mediated is not a proportion here"
        )
    elif not 0.0 <= pm <= 1.0 and math.isfinite(pm):
        notes.append(f"the proportion mediated is {pm:.2f}, outside 0-1; read it with care")
    return notes


def _coefficient_table(structure: _Structure, fit: _Fit, level: float, cluster: bool) -> pd.DataFrame:
    equations, terms, estimates, ses, dfs = [], [], [], [], []
    for e, (label, _, predictors) in enumerate(structure.equations):
        for i, col in enumerate(predictors):
            index = structure.offsets[e] + i
            equations.append(label)
            terms.append(structure.columns[col])
            estimates.append(fit.theta[index])
            ses.append(fit.se[index])
            dfs.append(fit.df[index])
    outcome_label, _, outcome_predictors = structure.equations[-1]
    k = len(structure.equations) - 1
    total_label = "total: " + outcome_label.split(": ", 1)[1]
    for i, col in enumerate(outcome_predictors[: len(outcome_predictors) - k]):
        equations.append(total_label)
        terms.append(structure.columns[col])
        estimates.append(fit.total_coef[i])
        ses.append(fit.total_se[i])
        dfs.append(fit.total_df)
    estimate, se, df = np.array(estimates), np.array(ses), np.array(dfs)
    low, high, p = wald_interval(estimate, se, level, df)
    return pd.DataFrame(
        {
            "estimate": estimate,
            "se": se,
            "statistic": estimate / se,
            "df": df,
            "p": p,
            "ci_low": low,
            "ci_high": high,
            "se_type": "cluster-robust (CR1)" if cluster else "OLS",
        },
        index=pd.MultiIndex.from_arrays([equations, terms], names=["equation", "term"]),
    )
