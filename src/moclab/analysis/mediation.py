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

import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg as sla
from scipy import special

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
from moclab.errors import DataError

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


@dataclass(frozen=True, eq=False)
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
                    "model": self.model,
                    "x": self.x,
                    "mediators": list(self.mediators),
                    "y": self.y,
                    "covariates": list(self.covariates),
                    "x_type": self.x_type,
                    "n": self.n,
                    "n_dropped": self.n_dropped,
                    "n_clusters": self.n_clusters,
                    "icc": self.icc,
                    "design_effect": self.design_effect,
                    "joint_significance": self.joint_significance,
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
# Input handling
# ----------------------------------------------------------------------------------------------------


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


def _did_you_mean(name: str, columns: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, [str(c) for c in columns], n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    shown = ", ".join(f"'{c}'" for c in list(columns)[:12])
    return f"available columns: {shown}" + (", ..." if len(columns) > 12 else "")


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


def _gather_frame(
    data: pd.DataFrame | Mapping[str, Any] | None,
    x: Any,
    m: Any,
    y: Any,
    covariates: Any,
    cluster: Any,
) -> tuple[pd.DataFrame, str, list[str], str, list[str], str | None]:
    """Put every variable into one DataFrame and return it with the role names."""
    if data is not None and not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(dict(data))
    mediators = _as_list(m)
    covariate_list = _as_list(covariates)
    if not mediators:
        raise DataError("no mediator given", hint="pass m='column' or m=['M1', 'M2']")
    if data is not None:
        columns = list(data.columns)
        roles: list[tuple[str, Any]] = [("strategy x", x), ("outcome y", y)]
        roles += [("mediator", v) for v in mediators] + [("covariate", v) for v in covariate_list]
        for role, value in roles:
            if not isinstance(value, str):
                raise DataError(
                    f"with data=DataFrame, the {role} must be a column name, not {type(value).__name__}",
                    hint="pass column names, or leave data=None and pass arrays",
                )
            if value not in data.columns:
                raise DataError(
                    f"the {role} '{value}' is not a column of the data", hint=_did_you_mean(value, columns)
                )
        names = [x, y, *mediators, *covariate_list]
        seen: dict[str, int] = {}
        for name in names:
            seen[name] = seen.get(name, 0) + 1
        repeated = [name for name, count in seen.items() if count > 1]
        if repeated:
            raise DataError(
                f"variable '{repeated[0]}' is given in more than one role",
                hint="strategy, mediators, outcome and covariates must be different columns",
            )
        frame = data[names].copy()
        cluster_name = None
        if cluster is not None:
            if isinstance(cluster, str):
                if cluster not in data.columns:
                    raise DataError(
                        f"the cluster variable '{cluster}' is not a column of the data",
                        hint=_did_you_mean(cluster, columns),
                    )
                if cluster in names:
                    raise DataError(f"the cluster variable '{cluster}' is also used as a model variable")
                frame["__cluster__"] = data[cluster].to_numpy()
                cluster_name = cluster
            else:
                values = np.asarray(cluster)
                if values.shape != (len(data),):
                    raise DataError(f"cluster has {values.size} values but the data have {len(data)} rows")
                frame["__cluster__"] = values
                cluster_name = "cluster"
        return frame, x, list(mediators), y, list(covariate_list), cluster_name

    def name_of(value: Any, default: str) -> str:
        return str(value.name) if isinstance(value, pd.Series) and value.name is not None else default

    if any(isinstance(v, str) for v in [x, y, *mediators, *covariate_list]):
        raise DataError("column names were given but no data", hint="pass data=your_dataframe")
    m_names = [name_of(v, "m" if len(mediators) == 1 else f"m{j + 1}") for j, v in enumerate(mediators)]
    c_names = [name_of(v, f"c{j + 1}") for j, v in enumerate(covariate_list)]
    x_name, y_name = name_of(x, "x"), name_of(y, "y")
    names = [x_name, y_name, *m_names, *c_names]
    if len(set(names)) != len(names):  # Series sharing a name: fall back to positional names
        m_names = [f"m{j + 1}" if len(mediators) > 1 else "m" for j in range(len(mediators))]
        c_names = [f"c{j + 1}" for j in range(len(covariate_list))]
        x_name, y_name = "x", "y"
        names = [x_name, y_name, *m_names, *c_names]
    arrays = [x, y, *mediators, *covariate_list]
    lengths = {len(np.asarray(a)) for a in arrays}
    if len(lengths) != 1:
        detail = ", ".join(f"{name}: {len(np.asarray(a))}" for name, a in zip(names, arrays, strict=True))
        raise DataError(
            f"variables have different lengths ({detail})", hint="pass one value per row for each"
        )
    frame = pd.DataFrame({name: np.asarray(a) for name, a in zip(names, arrays, strict=True)})
    cluster_name = None
    if cluster is not None:
        values = np.asarray(cluster)
        if values.shape != (len(frame),):
            raise DataError(f"cluster has {values.size} values but the variables have {len(frame)} rows")
        frame["__cluster__"] = values
        cluster_name = name_of(cluster, "cluster")
    return frame, x_name, m_names, y_name, c_names, cluster_name


def _level_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float | np.integer | np.floating) else str(value)


def _numeric(series: pd.Series, role: str, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(np.float64).to_numpy()
    if not pd.api.types.is_numeric_dtype(series):
        example = series.iloc[0] if len(series) else ""
        raise DataError(
            f"the {role} '{name}' is not numeric (values such as {example!r})",
            hint="recode it to numbers; binary mediators or outcomes need the binary-variable analysis",
        )
    return series.to_numpy(dtype=np.float64)


def _prepare(
    data: Any,
    x: Any,
    m: Any,
    y: Any,
    covariates: Any,
    cluster: Any,
    x_type: str,
    missing: str,
) -> _Prepared:
    frame, x_name, m_names, y_name, c_names, cluster_name = _gather_frame(data, x, m, y, covariates, cluster)
    notes: list[str] = []
    # Missing values: listwise deletion (the usual default for regression-based mediation), reported.
    incomplete = frame.isna()
    n_missing_rows = int(incomplete.any(axis=1).sum())
    if n_missing_rows:
        per_column = incomplete.sum()
        per_column = per_column[per_column > 0].rename(index={"__cluster__": cluster_name or "cluster"})
        detail = ", ".join(f"{name} {count}" for name, count in per_column.items())
        if missing == "raise":
            raise DataError(
                f"{n_missing_rows} row(s) have missing values ({detail})",
                hint="impute them or pass missing='listwise' to drop those rows",
            )
        frame = frame.loc[~incomplete.any(axis=1)].reset_index(drop=True)
        notes.append(
            f"{n_missing_rows} of {n_missing_rows + len(frame)} rows had missing values ({detail}) and were "
            "dropped (listwise deletion); if missingness depends on the variables, consider multiple "
            "imputation"
        )

    if frame.empty:
        raise DataError(
            f"no complete rows: every row has a missing value in one of {', '.join(frame.columns)}".replace(
                "__cluster__", cluster_name or "cluster"
            ),
            hint="check that the variables were measured for the same rows (and at the same wave)",
        )
    # Strategy: a binary arm is coded 0/1 so that effects are arm contrasts.
    x_series = frame[x_name]
    levels = pd.unique(x_series)
    if len(levels) < 2 and n_missing_rows:
        raise DataError(
            f"after dropping the {n_missing_rows} row(s) with missing values ({detail}), the strategy "
            f"'{x_name}' has a single value ({_level_text(levels[0])}) in the {len(frame)} rows left",
            hint="the other arm (or dose) has no complete row: check the missing values of its recipients",
        )
    x_coding = None
    if x_type not in ("auto", "arm", "dose"):
        raise DataError(f"x_type must be 'auto', 'arm' or 'dose', not {x_type!r}")
    is_numeric_x = pd.api.types.is_numeric_dtype(x_series) or pd.api.types.is_bool_dtype(x_series)
    if x_type == "arm" and len(levels) != 2:
        raise DataError(
            f"the strategy '{x_name}' was declared a binary arm (x_type='arm') but has {len(levels)} "
            "distinct values",
            hint="code it with exactly two values, or use x_type='dose' for a continuous dose",
        )
    if x_type == "dose" and not is_numeric_x:
        raise DataError(f"the strategy '{x_name}' was declared a dose (x_type='dose') but is not numeric")
    if len(levels) == 2 and x_type != "dose":
        ordered = sorted(levels.tolist(), key=lambda v: (str(type(v)), v))
        x_values = (x_series == ordered[1]).to_numpy(dtype=np.float64)
        resolved_type = "arm"
        x_coding = f"0 = {_level_text(ordered[0])}, 1 = {_level_text(ordered[1])}"
    elif is_numeric_x:
        x_values = x_series.to_numpy(dtype=np.float64)
        resolved_type = "dose"
    else:
        raise DataError(
            f"the strategy '{x_name}' is not numeric and has {len(levels)} distinct values",
            hint="a strategy is a binary arm (two values) or a numeric dose; compare arms two at a time",
        )

    mediators = np.column_stack([_numeric(frame[name], "mediator", name) for name in m_names])
    y_values = _numeric(frame[y_name], "outcome", y_name)
    covariate_columns: list[np.ndarray] = []
    covariate_names: list[str] = []
    for name in c_names:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            covariate_columns.append(series.to_numpy(dtype=np.float64))
            covariate_names.append(name)
            continue
        # Categorical covariate: dummy (treatment) coding against its first level.
        dummies = pd.get_dummies(series.astype("category"), prefix=name, prefix_sep="[", drop_first=True)
        if dummies.shape[1] == 0:
            raise DataError(
                f"the covariate '{name}' has a single value after dropping missing rows; remove it"
            )
        for column in dummies.columns:
            covariate_columns.append(dummies[column].to_numpy(dtype=np.float64))
            covariate_names.append(f"{column}]")
        notes_level = series.astype("category").cat.categories[0]
        notes.append(f"covariate '{name}' is categorical: dummy-coded against '{notes_level}'")
    covariate_matrix = np.column_stack(covariate_columns) if covariate_columns else np.empty((len(frame), 0))

    codes = None
    if cluster_name is not None:
        codes, _ = factorize_clusters(frame["__cluster__"].to_numpy())
    return _Prepared(
        x_name,
        list(m_names),
        y_name,
        covariate_names,
        x_values,
        mediators,
        y_values,
        covariate_matrix,
        codes,
        cluster_name,
        resolved_type,
        x_coding,
        n_missing_rows,
        notes,
    )


def _check_design(prep: _Prepared) -> None:
    """Constant or collinear variables and too few rows, each named, before anything is fitted."""
    n = prep.x.size
    named = [("strategy", prep.x_name, prep.x)]
    named += [("mediator", name, prep.mediators[:, j]) for j, name in enumerate(prep.m_names)]
    named += [("outcome", prep.y_name, prep.y)]
    named += [("covariate", name, prep.covariates[:, j]) for j, name in enumerate(prep.covariate_names)]
    for role, name, values in named:
        if np.ptp(values) == 0:
            raise DataError(
                f"the {role} '{name}' is constant (every analysed row is {values[0]:g})",
                hint="a constant variable carries no information; remove it or check the data",
            )
        if not np.isfinite(values).all():
            raise DataError(f"the {role} '{name}' contains infinite values", hint="replace or drop them")
    n_params = 2 + len(prep.covariate_names) + len(prep.m_names)
    if n < n_params + 2:
        raise DataError(
            f"too few rows: {n} complete row(s) for an outcome model with {n_params} coefficients",
            hint=f"need at least {n_params + 2} rows (more for trustworthy intervals)",
        )
    # Collinearity: add predictors of the outcome model one at a time (centered, scaled); a column that does
    # not raise the rank is a linear combination of the ones before it.
    columns = [("strategy", prep.x_name, prep.x)]
    columns += [("covariate", name, prep.covariates[:, j]) for j, name in enumerate(prep.covariate_names)]
    columns += [("mediator", name, prep.mediators[:, j]) for j, name in enumerate(prep.m_names)]
    design = np.ones((n, 1))
    for role, name, values in columns:
        scaled = (values - values.mean()) / values.std()
        candidate = np.column_stack([design, scaled])
        singular_values = np.linalg.svd(candidate, compute_uv=False)
        if singular_values[-1] <= singular_values[0] * 1e-9 * max(n, 10):
            raise DataError(
                f"the {role} '{name}' is (nearly) a linear combination of the strategy, covariates or "
                "mediators before it",
                hint="remove it or one of the variables it duplicates",
            )
        design = candidate


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


def _structure(prep: _Prepared, model: str, contrasts: bool) -> _Structure:
    k, c = len(prep.m_names), len(prep.covariate_names)
    columns = ["(intercept)", prep.x_name, *prep.covariate_names, *prep.m_names, prep.y_name]
    base = [0, 1, *range(2, 2 + c)]
    m_cols = list(range(2 + c, 2 + c + k))
    y_col = 2 + c + k
    equations: list[tuple[str, int, list[int]]] = []
    for j, col in enumerate(m_cols):
        predictors = base + (m_cols[:j] if model == "serial" else [])
        equations.append((f"mediator: {prep.m_names[j]}", col, predictors))
    equations.append((f"outcome: {prep.y_name}", y_col, base + m_cols))
    offsets = list(np.cumsum([0] + [len(p) for _, _, p in equations])[:-1])

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
                path_index[label] = position(j, m_cols[i])
                path_ends[label] = (prep.m_names[i], prep.m_names[j])
    for j, name in enumerate(prep.m_names):
        path_index[f"b[{name}]"] = position(k, m_cols[j])
        path_ends[f"b[{name}]"] = (name, prep.y_name)
    direct_index = position(k, 1)

    chains: list[tuple[int, ...]]
    if model == "serial":
        chains = sorted(
            (combo for r in range(1, k + 1) for combo in itertools.combinations(range(k), r)), key=lambda t: t
        )
    else:
        chains = [(j,) for j in range(k)]
    indirect: list[_EffectSpec] = []
    for chain in chains:
        names = [prep.m_names[j] for j in chain]
        paths = [f"a[{names[0]}]"]
        paths += [f"d[{names[i]}->{names[i + 1]}]" for i in range(len(names) - 1)]
        paths += [f"b[{names[-1]}]"]
        label = "->".join(names)
        indices = tuple(path_index[p] for p in paths)
        indirect.append(_EffectSpec(f"indirect[{label}]", "indirect", ((1.0, indices),), tuple(paths), label))
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
    return _Structure(columns, equations, offsets, path_index, path_ends, indirect, specs)


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


def _ols(design: np.ndarray, response: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, residuals and (X'X)⁻¹ via QR (better conditioned than the normal equations)."""
    q, r = np.linalg.qr(design)
    r_inv = np.linalg.inv(r)  # p x p upper triangular; tiny
    coef = r_inv @ (q.T @ response)
    return coef, response - design @ coef, r_inv @ r_inv.T


def _fit(z: np.ndarray, structure: _Structure, codes: np.ndarray | None, cluster_se: bool) -> _Fit:
    n = z.shape[0]
    coefs, residuals, designs, blocks, dfs = [], [], [], [], []
    for _, response, predictors in structure.equations:
        design = z[:, predictors]
        coef, residual, xtx_inv = _ols(design, z[:, response])
        df = n - len(predictors)
        coefs.append(coef)
        residuals.append(residual)
        designs.append(design)
        blocks.append(residual @ residual / df * xtx_inv)
        dfs.append(np.full(len(predictors), float(df)))
    theta = np.concatenate(coefs)
    # The total-effect model: the outcome model without the mediators (intercept, x, covariates).
    k = len(structure.equations) - 1
    total_predictors = structure.equations[-1][2][: len(structure.equations[-1][2]) - k]
    total_design = z[:, total_predictors]
    total_coef, total_residual, total_inv = _ols(total_design, z[:, structure.equations[-1][1]])
    total_df = float(n - len(total_predictors))
    if cluster_se and codes is not None:
        covariance = cluster_robust_covariance(designs, residuals, codes)
        n_clusters = int(codes.max()) + 1
        df_all = np.full(theta.size, float(n_clusters - 1))
        total_cov = cluster_robust_covariance([total_design], [total_residual], codes)
        total_df = float(n_clusters - 1)
    else:
        covariance = sla.block_diag(*blocks)
        df_all = np.concatenate(dfs)
        total_cov = total_residual @ total_residual / total_df * total_inv
    return _Fit(
        theta=theta,
        covariance=covariance,
        se=np.sqrt(np.diag(covariance)),
        df=df_all,
        total_coef=total_coef,
        total_se=np.sqrt(np.diag(total_cov)),
        total_df=total_df,
        sd=z.std(axis=0, ddof=1),
    )


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
# Entry point
# ----------------------------------------------------------------------------------------------------


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
        The strategy: a binary arm (two distinct values, coded 0/1 with the larger or later-sorted value as 1)
        or a continuous dose (minutes, sessions, contacts).
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
    if model not in MODELS:
        raise DataError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    if ci not in CI_METHODS:
        raise DataError(f"ci must be one of {', '.join(CI_METHODS)}, not {ci!r}")
    if not 0.5 <= level < 1.0:
        raise DataError(f"level must be between 0.5 and 1 (e.g. 0.95), not {level!r}")
    if missing not in ("listwise", "raise"):
        raise DataError(f"missing must be 'listwise' or 'raise', not {missing!r}")
    bootstrap = ci in ("bca", "percentile")
    if bootstrap and (int(n_boot) != n_boot or n_boot < 100):
        raise DataError(
            f"n_boot must be a whole number of at least 100, not {n_boot!r}", hint="5000 is usual"
        )
    if ci == "monte_carlo" and (int(n_mc) != n_mc or n_mc < 100):
        raise DataError(f"n_mc must be a whole number of at least 100, not {n_mc!r}", hint="20000 is usual")

    prep = _prepare(data, x, m, y, covariates, cluster, x_type, missing)
    if model == "serial" and len(prep.m_names) < 2:
        raise DataError(
            "a serial model needs at least two mediators in causal order", hint="or use 'parallel'"
        )
    _check_design(prep)
    warnings = list(prep.notes)
    n = prep.x.size
    rng = as_generator(seed)
    alpha = 1.0 - level

    # Clustering: diagnostics always, robust inference unless switched off.
    clustered = prep.codes is not None
    if cluster_se and not clustered:
        raise DataError("cluster_se=True needs cluster membership", hint="pass cluster='site' (a column)")
    use_cluster = clustered and cluster_se is not False
    n_clusters = icc = deff = None
    if clustered:
        assert prep.codes is not None
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
        if n_clusters < FEW_CLUSTERS:
            warnings.append(
                f"only {n_clusters} clusters: with fewer than about {FEW_CLUSTERS} clusters cluster-robust "
                "standard errors and the cluster bootstrap understate uncertainty (Cameron & Miller 2015; "
                "McNeish & Stapleton 2016); treat intervals as optimistic, or use small-sample corrections"
            )
        if sizes.max() == 1:
            warnings.append("every cluster has one row: clustering has no effect on these data")
        if not use_cluster:
            worst = max(deff.values())
            warnings.append(
                "cluster_se=False: standard errors and resampling ignore the clustering"
                + (f" (largest design effect {worst:.2f})" if np.isfinite(worst) else "")
            )

    structure = _structure(prep, model, contrasts)
    z = np.column_stack([np.ones(n), prep.x, prep.covariates, prep.mediators, prep.y])
    codes = prep.codes if use_cluster else None
    fit = _fit(z, structure, codes, use_cluster)
    theta_hat = fit.theta
    specs = structure.specs
    estimates = np.array([spec.evaluate(theta_hat) for spec in specs])
    path_p = {
        name: float(2 * special.stdtr(fit.df[i], -abs(theta_hat[i] / fit.se[i])))
        for name, i in structure.path_index.items()
    }
    x_column, y_column = 1, z.shape[1] - 1
    sd_x, sd_y = fit.sd[x_column], fit.sd[y_column]

    # Names of the effects that get standardized versions, and the pairs of the proportions mediated.
    std_specs = [s for s in specs if s.kind in ("indirect", "total_indirect", "direct", "total")]
    total_spec = next(s for s in specs if s.kind == "total")
    overall_indirect = next((s for s in specs if s.kind == "total_indirect"), structure.indirect[0])
    ratio_pairs = [("proportion_mediated", overall_indirect)]
    if len(structure.indirect) > 1:
        ratio_pairs += [(f"proportion_mediated[{s.label}]", s) for s in structure.indirect]

    def derived(values: np.ndarray, sx: np.ndarray | float, sy: np.ndarray | float) -> np.ndarray:
        """Proportions mediated and standardized effects from the effect values (last axis = specs)."""
        by_name = {spec.name: values[..., i] for i, spec in enumerate(specs)}
        columns = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for _, spec in ratio_pairs:
                columns.append(by_name[spec.name] / by_name[total_spec.name])
            for spec in std_specs:
                columns.append(by_name[spec.name] / sy)
            for spec in std_specs:
                columns.append(by_name[spec.name] * sx / sy)
        return np.stack(columns, axis=-1)

    derived_names = [name for name, _ in ratio_pairs]
    derived_names += [_std_name(s, "ps") for s in std_specs] + [_std_name(s, "cs") for s in std_specs]
    derived_hat = derived(estimates, sd_x, sd_y)

    draw_matrix = None
    intervals: dict[str, tuple[float, float, float | None]] = {}  # name -> (low, high, se)
    n_used = None
    method_text = _CI_LABELS[ci]
    if bootstrap:
        center = z.mean(axis=0)
        scale = z.std(axis=0)
        center[0], scale[0] = 0.0, 1.0
        zs = (z - center) / scale
        equations = [(response, predictors) for _, response, predictors in structure.equations]
        boot = bootstrap_regressions(zs, equations, int(n_boot), rng, clusters=codes, chunk_size=chunk_size)
        theta_boot = _unscale(boot.coefficients, structure, center, scale)
        sds = _resampled_sd(boot.variances, boot.weight_total, scale)
        keep = ~boot.singular
        n_used = int(keep.sum())
        if boot.n_singular:
            share = boot.n_singular / int(n_boot)
            warnings.append(
                f"{boot.n_singular} of {int(n_boot)} bootstrap resamples could not be estimated (a variable "
                "was constant in the resample, e.g. only one arm drawn) and were dropped"
                + (
                    "; with this many, the bootstrap is unreliable here: use ci='monte_carlo'"
                    if share > 0.05
                    else ""
                )
            )
        if n_used < 50:
            raise DataError(
                f"only {n_used} bootstrap resamples could be estimated",
                hint="the data are too small or too unbalanced for the bootstrap; use ci='monte_carlo'",
            )
        effect_boot = np.stack([spec.evaluate(theta_boot[keep]) for spec in specs], axis=1)
        derived_boot = derived(effect_boot, sds[keep, x_column], sds[keep, y_column])
        all_boot = np.concatenate([effect_boot, derived_boot], axis=1)
        all_hat = np.concatenate([estimates, derived_hat])
        if ci == "bca":
            jack = jackknife_regressions(zs, equations, clusters=codes)
            if jack.n_singular:
                raise DataError(
                    "leaving out one row (or cluster) makes a model inestimable, so BCa is undefined",
                    hint="use ci='percentile'",
                )
            theta_jack = _unscale(jack.coefficients, structure, center, scale)
            jack_sds = _resampled_sd(jack.variances, jack.weight_total, scale)
            effect_jack = np.stack([spec.evaluate(theta_jack) for spec in specs], axis=1)
            all_jack = np.concatenate(
                [effect_jack, derived(effect_jack, jack_sds[:, x_column], jack_sds[:, y_column])], axis=1
            )
            low, high = bca_interval(all_boot, all_hat, all_jack, level)
        else:
            low, high = percentile_interval(all_boot, all_hat, level)
        with np.errstate(invalid="ignore"):
            se_boot = np.nanstd(all_boot, axis=0, ddof=1)
        names = [s.name for s in specs] + derived_names
        for i, name in enumerate(names):
            intervals[name] = (float(low[i]), float(high[i]), float(se_boot[i]))
        draw_matrix = pd.DataFrame(all_boot, columns=names) if keep_draws else None
        unit = "clusters" if codes is not None else "rows"
        method_text += f", {int(n_boot)} resamples of {unit}"
        if ci == "bca" and codes is not None:
            method_text += " (acceleration from leave-one-cluster-out)"
    elif ci == "monte_carlo":
        theta_mc = monte_carlo_draws(theta_hat, fit.covariance, int(n_mc), rng)
        effect_mc = np.stack([spec.evaluate(theta_mc) for spec in specs], axis=1)
        derived_mc = derived(effect_mc, sd_x, sd_y)
        all_mc = np.concatenate([effect_mc, derived_mc], axis=1)
        low, high = percentile_interval(all_mc, None, level)
        se_mc = np.nanstd(all_mc, axis=0, ddof=1)
        names = [s.name for s in specs] + derived_names
        for i, name in enumerate(names):
            intervals[name] = (float(low[i]), float(high[i]), float(se_mc[i]))
        draw_matrix = pd.DataFrame(all_mc, columns=names) if keep_draws else None
        method_text += f", {int(n_mc)} draws; SDs of X and Y treated as fixed in standardized effects"
    else:
        method_text += "; SDs of X and Y treated as fixed in standardized effects"
    if use_cluster:
        method_text += f"; cluster-robust (CR1) SEs, t with {n_clusters - 1} df"
    method_text += f"; {level:.0%} intervals"

    # Delta-method SEs for everything (reported for comparison; the interval when ci="delta").
    gradients = np.array([spec.gradient(theta_hat) for spec in specs])
    delta_se = np.atleast_1d(delta_method_se(gradients, fit.covariance))
    z_crit = float(special.ndtri(0.5 + level / 2))
    direct_index = structure.specs[-2].terms[0][1][0]
    total_stats = (fit.total_coef[1], fit.total_se[1], fit.total_df)

    effects: list[Effect] = []
    cluster_method = "cluster_t" if use_cluster else "t"
    for name, index in structure.path_index.items():
        est, se, df = theta_hat[index], fit.se[index], fit.df[index]
        low_t, high_t, p_t = wald_interval(est, se, level, df)
        source, target = structure.path_ends[name]
        effects.append(
            Effect(
                name,
                name.split("[")[0],
                float(est),
                float(se),
                float(low_t),
                float(high_t),
                float(p_t),
                cluster_method,
                {"from": source, "to": target, "df": float(df)},
            )
        )
    joint: dict[str, bool] = {}
    for i, spec in enumerate(specs):
        est = float(estimates[i])
        d_se = float(delta_se[i])
        d_p = float(2 * special.ndtr(-abs(est / d_se))) if d_se > 0 else float("nan")
        extra: dict[str, Any] = {"delta_se": d_se, "delta_p": d_p}
        if spec.kind == "indirect":
            significant, p_max = _joint(spec.paths, path_p, alpha)
            joint[spec.name] = significant
            extra.update({"paths": list(spec.paths), "joint_significant": significant, "joint_p": p_max})
        if spec.kind in ("direct", "total"):
            if spec.kind == "direct":
                reg_est, reg_se, reg_df = theta_hat[direct_index], fit.se[direct_index], fit.df[direct_index]
            else:
                reg_est, reg_se, reg_df = total_stats
            low_t, high_t, p_t = wald_interval(reg_est, reg_se, level, reg_df)
            extra.update({"se_regression": float(reg_se), "p_regression": float(p_t), "df": float(reg_df)})
            if not bootstrap:
                effects.append(
                    Effect(
                        spec.name, spec.kind, est, float(reg_se), low_t, high_t, p_t, cluster_method, extra
                    )
                )
                continue
            low, high, se = intervals[spec.name]
            effects.append(Effect(spec.name, spec.kind, est, se, low, high, float(p_t), ci, extra))
            continue
        if ci == "delta":
            effects.append(
                Effect(
                    spec.name,
                    spec.kind,
                    est,
                    d_se,
                    est - z_crit * d_se,
                    est + z_crit * d_se,
                    d_p,
                    "delta",
                    extra,
                )
            )
        else:
            low, high, se = intervals[spec.name]
            effects.append(Effect(spec.name, spec.kind, est, se, low, high, None, ci, extra))

    # Proportion mediated and standardized effects (intervals by the same method).
    derived_effects: list[Effect] = []
    derived_gradients = _derived_gradients(specs, gradients, estimates, ratio_pairs, std_specs, total_spec)
    for i, name in enumerate(derived_names):
        est = float(derived_hat[i])
        if name.startswith("proportion_mediated"):
            kind = "proportion_mediated"
            grad = derived_gradients[i]
            se_d = float(delta_method_se(grad, fit.covariance))
        else:
            kind = (
                "partially_standardized"
                if name.endswith("_ps") or "_ps[" in name
                else "completely_standardized"
            )
            base_index = [s.name for s in specs].index(_std_base(name))
            factor = 1 / sd_y if kind == "partially_standardized" else sd_x / sd_y
            se_d = float(delta_se[base_index] * abs(factor))
        extra = {}
        if kind == "completely_standardized" and prep.x_type == "arm":
            extra["note"] = "X is a binary arm: read the partially standardized effect instead"
        if ci == "delta":
            low_d, high_d = est - z_crit * se_d, est + z_crit * se_d
            p_d = float(2 * special.ndtr(-abs(est / se_d))) if se_d > 0 else None
            derived_effects.append(Effect(name, kind, est, se_d, low_d, high_d, p_d, "delta", extra))
        else:
            low, high, se = intervals[name]
            derived_effects.append(Effect(name, kind, est, se, low, high, None, ci, extra))
    proportions = [e for e in derived_effects if e.kind == "proportion_mediated"]
    standardized = tuple(e for e in derived_effects if e.kind != "proportion_mediated")
    warnings.extend(_proportion_caveats(effects, proportions, n))
    effects.extend(proportions)
    if standardize:
        effects.extend(standardized)

    coefficients = _coefficient_table(structure, fit, level, use_cluster)
    info: dict[str, Any] = {
        "method": method_text,
        "model": model,
        "ci": ci,
        "level": level,
        "n": n,
        "n_dropped": prep.n_dropped,
        "x_type": prep.x_type,
        "x_coding": prep.x_coding,
        "n_boot": int(n_boot) if bootstrap else None,
        "n_boot_used": n_used,
        "n_mc": int(n_mc) if ci == "monte_carlo" else None,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
        "cluster": prep.cluster_name,
        "n_clusters": n_clusters,
        "icc": icc,
        "icc_estimator": ICC_ANOVA_ESTIMATOR if clustered else None,
        "design_effect": deff,
        "cluster_se": use_cluster,
        "cluster_bootstrap": bool(use_cluster and bootstrap),
        "joint_significance": joint,
        "sd": {name: float(sd) for name, sd in zip(structure.columns[1:], fit.sd[1:], strict=True)},
    }
    return MediationResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(warnings),
        model=model,
        x=prep.x_name,
        mediators=tuple(prep.m_names),
        y=prep.y_name,
        covariates=tuple(prep.covariate_names),
        x_type=prep.x_type,
        coefficients=coefficients,
        n=n,
        n_dropped=prep.n_dropped,
        n_clusters=n_clusters,
        icc=icc or {},
        design_effect=deff or {},
        joint_significance=joint,
        proportion_mediated=proportions[0] if proportions else None,
        standardized=standardized,
        draws=draw_matrix,
    )


def _std_name(spec: _EffectSpec, suffix: str) -> str:
    if "[" in spec.name:
        head, rest = spec.name.split("[", 1)
        return f"{head}_{suffix}[{rest}"
    return f"{spec.name}_{suffix}"


def _std_base(name: str) -> str:
    for suffix in ("_ps", "_cs"):
        name = name.replace(suffix + "[", "[") if suffix + "[" in name else name.removesuffix(suffix)
    return name


def _joint(paths: Sequence[str], path_p: Mapping[str, float], alpha: float) -> tuple[bool, float]:
    largest = max(path_p[p] for p in paths)
    return bool(largest < alpha), float(largest)


def _derived_gradients(
    specs: Sequence[_EffectSpec],
    gradients: np.ndarray,
    estimates: np.ndarray,
    ratio_pairs: Sequence[tuple[str, _EffectSpec]],
    std_specs: Sequence[_EffectSpec],
    total_spec: _EffectSpec,
) -> list[np.ndarray]:
    """Gradients of the proportions mediated (quotient rule); standardized effects are handled by scaling."""
    names = [s.name for s in specs]
    t = names.index(total_spec.name)
    out = []
    for _, spec in ratio_pairs:
        i = names.index(spec.name)
        out.append((gradients[i] * estimates[t] - estimates[i] * gradients[t]) / estimates[t] ** 2)
    out.extend(np.zeros_like(gradients[0]) for _ in range(2 * len(std_specs)))
    return out


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
