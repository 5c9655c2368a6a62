"""Missing data in mediation: multiple imputation, retention weights, a missing-not-at-random tipping point.

`moclab.analysis.mediate` drops incomplete rows (listwise deletion), which is unbiased only when the values
are missing completely at random given the model's variables. This module offers the two standard answers when
missingness depends on what was observed (missing at random, MAR), and a sensitivity analysis for when it
depends on what was not:

* `mediate_imputed`: multiple imputation by chained equations (`ChainedEquations`, the algorithm of
  statsmodels' `MICEData` on arrays: predictive mean matching), `mediate` on every completed data set,
  results pooled by Rubin's rules;
* `mediate_weighted`: inverse-probability-of-retention weights from a logistic model of who stayed, weighted
  least squares paths, and a bootstrap that refits the retention model in every resample;
* `tipping_point`: delta adjustment of the imputed outcomes (missing not at random, MNAR): how far the
  missing outcomes would have to differ from what the observed ones predict before the verdict on the
  indirect effect changes.

Every result carries the effect names of `mediate` (``a[trust]``, ``b[trust]``, ``indirect[trust]``,
``contrast[...]``, ``direct``, ``total``), so the scorecard reads them as it reads a `MediationResult`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from moclab.analysis import _arguments, _columns
from moclab.analysis.bootstrap import (
    SeedLike,
    as_generator,
    batched_ols,
    bootstrap_counts,
    cluster_bootstrap_counts,
    factorize_clusters,
)
from moclab.analysis.clustering import design_effect, icc_oneway
from moclab.analysis.glm import batched_binary_glm
from moclab.analysis.intervals import percentile_interval
from moclab.analysis.mediation import (
    CI_METHODS,
    MODELS,
    MediationResult,
    _check_design,
    _code_strategy,
    _prepare,
    _structure,
    mediate,
    model_facts,
)
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError

__all__ = [
    "ImputedMediationResult",
    "PooledEstimate",
    "TippingPointResult",
    "WeightedMediationResult",
    "mediate_imputed",
    "mediate_weighted",
    "rubin_pool",
    "tipping_point",
]

#: Chained-equation cycles between two kept imputations, after the burn-in: statsmodels' `MICE` default
#: (``n_skip=3``: three cycles skipped, the fourth kept), so successive imputations of the one chain are
#: nearly independent.
CYCLES_PER_IMPUTATION = 4
#: Mean cluster size from which clusters enter the imputation models as indicators (fixed-effects
#: imputation); below it, as the cluster means of the observed values (see `mediate_imputed`, Notes).
CLUSTER_INDICATORS_FROM = 5
#: Eigenvalues of X'X below this share of the largest count as zero in the imputation regressions (singular
#: values below 1e-6 of the largest): collinear columns, as a site-level strategy and the site indicators.
EIGEN_CUTOFF = 1e-12
#: Effects that are regression coefficients: pooled with their t-test SE and complete-data df.
REGRESSION_KINDS = ("a", "b", "d", "direct", "total")
#: Default grid of `tipping_point`, in SDs of the observed outcome.
DEFAULT_DELTAS = tuple(round(v, 10) for v in np.arange(-1.0, 1.0 + 1e-9, 0.1))
#: Bisection steps that refine a tipping point between two grid values (a 0.1 step becomes 0.1 / 2^6).
REFINE_STEPS = 6


# ----------------------------------------------------------------------------------------------------
# Rubin's rules
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PooledEstimate:
    """One quantity pooled over imputations by Rubin's rules.

    `within` is the mean within-imputation variance W, `between` the between-imputation variance B, `total`
    T = W + (1 + 1/m) B, `riv` the relative increase in variance r = (1 + 1/m) B / W, `lam` the share of T
    due to the missing data λ = (1 + 1/m) B / T, `df` the Barnard-Rubin degrees of freedom and `fmi` the
    fraction of missing information γ = (r + 2 / (df + 3)) / (1 + r).
    """

    estimate: float
    se: float
    df: float
    within: float
    between: float
    total: float
    riv: float
    lam: float
    fmi: float
    m: int

    def interval(self, level: float) -> tuple[float, float, float]:
        """(low, high, p): the t interval with `df` degrees of freedom and the two-sided p-value of 0."""
        if not self.se > 0:
            return self.estimate, self.estimate, math.nan
        crit = (
            stats.t.ppf(0.5 + level / 2, self.df)
            if math.isfinite(self.df)
            else special.ndtri(0.5 + level / 2)
        )
        p = 2 * (stats.t.sf(abs(self.estimate / self.se), self.df) if math.isfinite(self.df) else
                 special.ndtr(-abs(self.estimate / self.se)))  # fmt: skip
        return self.estimate - crit * self.se, self.estimate + crit * self.se, float(p)


def rubin_pool(
    estimates: Sequence[float] | np.ndarray,
    variances: Sequence[float] | np.ndarray,
    df_complete: float = math.inf,
) -> PooledEstimate:
    """Pool one estimate over m imputations by Rubin's rules, with Barnard & Rubin's small-sample df.

    Parameters
    ----------
    estimates, variances : sequence of float
        The estimate and its squared standard error in each completed data set (m ≥ 2).
    df_complete : float
        Degrees of freedom of the complete-data analysis (n - p for a regression coefficient; infinite for
        an effect with a normal-theory interval).

    Returns
    -------
    PooledEstimate

    Notes
    -----
    Q̄ = mean of the estimates, W = mean of the variances, B = their variance across imputations (divisor
    m - 1), T = W + (1 + 1/m) B (Rubin 1987, ch. 3). Degrees of freedom (Barnard & Rubin 1999):
    ν_old = (m - 1) / λ², ν_obs = (ν_com + 1) / (ν_com + 3) · ν_com · (1 - λ), ν = ν_old ν_obs /
    (ν_old + ν_obs); with ν_com infinite, ν = ν_old (Rubin's 1987 df). The mean is taken as
    Q_1 + mean(Q - Q_1), so identical estimates pool to exactly that value.

    References
    ----------
    Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
    Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple imputation.
    *Biometrika*, 86(4), 948-955.

    Examples
    --------
    >>> pooled = rubin_pool([1.0, 1.2, 1.4], [0.04, 0.05, 0.06], df_complete=50)
    >>> round(pooled.estimate, 6), round(pooled.total, 6), round(pooled.df, 3)
    (1.2, 0.103333, 5.677)
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = q.size
    if m < 2 or u.size != m:
        raise DataError(
            f"Rubin's rules need at least 2 estimates with one variance each, got {m} and {u.size}"
        )
    estimate = float(q[0] + np.mean(q - q[0]))
    within = float(np.mean(u))
    between = float(np.var(q, ddof=1))
    inflation = (1.0 + 1.0 / m) * between
    total = within + inflation
    lam = inflation / total if total > 0 else 0.0
    riv = inflation / within if within > 0 else math.inf
    df_old = (m - 1) / lam**2 if lam > 0 else math.inf
    if math.isfinite(df_complete):
        df_obs = (df_complete + 1.0) / (df_complete + 3.0) * df_complete * (1.0 - lam)
        df = df_old * df_obs / (df_old + df_obs) if math.isfinite(df_old) else df_obs
    else:
        df = df_old
    fmi = (riv + 2.0 / (df + 3.0)) / (1.0 + riv) if math.isfinite(riv) else 1.0
    return PooledEstimate(estimate, math.sqrt(total), float(df), within, between, total, riv, lam, fmi, m)


# ----------------------------------------------------------------------------------------------------
# Arguments and columns
# ----------------------------------------------------------------------------------------------------


def _names(value: Any, role: str) -> list[str]:
    """Column names given as one string or a sequence of strings (these functions need a DataFrame)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str):
            raise DataError(
                f"the {role} must be given as column names of data, not {type(item).__name__}",
                hint="pass data=your_dataframe and the names of its columns",
            )
    return items


@dataclass(frozen=True)
class _Roles:
    x: str
    mediators: list[str]
    y: str
    covariates: list[str]
    auxiliary: list[str]
    cluster: str | None

    @property
    def analysis(self) -> list[str]:
        """The columns `mediate` reads, in its order (cluster last)."""
        return [self.x, *self.mediators, self.y, *self.covariates] + ([self.cluster] if self.cluster else [])

    @property
    def imputed(self) -> list[str]:
        """The columns whose missing values are filled in (auxiliary ones too: the chain imputes them all)."""
        return list(dict.fromkeys([*self.mediators, self.y, *self.covariates, *self.auxiliary]))


def _roles(data: Any, x: Any, m: Any, y: Any, covariates: Any, auxiliary: Any, cluster: Any) -> _Roles:
    frame = _columns.data_frame(data)
    roles = _Roles(
        _names(x, "strategy x")[0] if x is not None else "",
        _names(m, "mediators"),
        _names(y, "outcome y")[0] if y is not None else "",
        _names(covariates, "covariates"),
        _names(auxiliary, "auxiliary variables"),
        _names(cluster, "cluster")[0] if cluster is not None else None,
    )
    if not roles.mediators:
        raise DataError("no mediator given", hint="pass m='column' or m=['M1', 'M2']")
    pairs = [("strategy x", roles.x), ("outcome y", roles.y)]
    pairs += [("mediator", v) for v in roles.mediators] + [("covariate", v) for v in roles.covariates]
    pairs += [("auxiliary variable", v) for v in roles.auxiliary]
    if roles.cluster:
        pairs.append(("cluster", roles.cluster))
    _columns.check_columns(frame, pairs)
    return roles


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def _role_of(roles: _Roles, name: str) -> str:
    if name in roles.mediators:
        return "mediator"
    if name == roles.y:
        return "outcome"
    return "covariate" if name in roles.covariates else "auxiliary variable"


def _check_imputable(frame: pd.DataFrame, roles: _Roles) -> None:
    """Every column to impute has an observed value and, when it has missing values, is numeric."""
    for name in roles.imputed:
        column = frame[name]
        role = _role_of(roles, name)
        n_missing = int(column.isna().sum())
        if n_missing == len(column):
            raise DataError(
                f"the {role} column '{name}' has no observed value in the {len(column)} rows analysed",
                hint=f"a column that was never measured cannot be imputed: drop '{name}' from the analysis",
            )
        if n_missing and not _is_numeric(column.dropna().infer_objects()):
            examples = ", ".join(repr(v) for v in pd.unique(column.dropna())[:3])
            raise DataError(
                f"the {role} column '{name}' is text (values such as {examples}) and has {n_missing} missing "
                "value(s): moclab imputes numeric columns only (predictive mean matching on linear models)",
                hint=f"recode '{name}' as numbers (0/1 indicator columns, one per category but the first, "
                f"each with the missing rows left empty), or drop its incomplete rows with "
                f"data.dropna(subset=['{name}'])",
            )


# ----------------------------------------------------------------------------------------------------
# Multiple imputation by chained equations
# ----------------------------------------------------------------------------------------------------


def _as_predictors(series: pd.Series, stem: str) -> pd.DataFrame:
    """A column as numeric predictors of the imputation models: itself, or indicators of its levels."""
    if _is_numeric(series):
        return pd.DataFrame({stem: series.astype(float).to_numpy()})
    indicators = pd.get_dummies(series.astype("category"), drop_first=True, dtype=float)
    indicators.columns = [f"{stem}_{j}" for j in range(indicators.shape[1])]
    return indicators.reset_index(drop=True)


def _cluster_terms(frame: pd.DataFrame, roles: _Roles) -> tuple[pd.DataFrame, str]:
    """The cluster in the imputation models: indicators, or cluster means of the observed values."""
    assert roles.cluster is not None
    codes, _ = factorize_clusters(frame[roles.cluster].to_numpy())
    n_clusters = int(codes.max()) + 1
    if len(frame) / n_clusters >= CLUSTER_INDICATORS_FROM:
        indicators = pd.get_dummies(pd.Series(codes), drop_first=True, dtype=float)
        indicators.columns = [f"cluster_{j}" for j in range(indicators.shape[1])]
        return indicators, f"cluster indicators ({n_clusters} clusters; fixed-effects imputation)"
    means = {}
    for j, name in enumerate(roles.imputed):
        if frame[name].isna().any() and _is_numeric(frame[name]):
            values = frame[name].astype(float).reset_index(drop=True)
            cluster_mean = values.groupby(codes).transform("mean")
            means[f"cluster_mean_{j}"] = cluster_mean.fillna(values.mean()).to_numpy()
    return (
        pd.DataFrame(means),
        f"cluster means of the observed values ({n_clusters} clusters, mean size below "
        f"{CLUSTER_INDICATORS_FROM})",
    )


class ChainedEquations:
    """Multiple imputation by chained equations with predictive mean matching, on a numeric matrix.

    The algorithm of statsmodels' `MICEData` with its defaults (Gaussian perturbation of the parameters,
    predictive mean matching with ``k_pmm`` donors): each missing value starts as the observed value nearest
    its column's observed mean; a cycle visits the incomplete columns from the fewest missing values to the
    most and, for each, fits the OLS regression of its observed values on an intercept and every other
    column (by a pseudo-inverse, as statsmodels' OLS), draws parameters from the normal approximation of
    their sampling distribution, predicts every row with them, and replaces each missing value by the
    observed value of one of the ``k_pmm`` rows whose predictions are nearest its own, chosen at random.

    Why not `MICEData` itself: it rebuilds the patsy design matrices of a formula twice per column and
    cycle (about 35 ms each at a thousand rows), so that the scorecard's 20 imputations of a 1,350-recipient
    study with 40 site indicators took three minutes; the same steps on arrays take a second. The random
    draws are made in the order `MICEData` makes them from the same generator, so both give the same
    imputations (tests/analysis/test_missing.py checks it against `MICEData` and `MICE`).
    """

    def __init__(self, values: np.ndarray, rng: np.random.Generator, k_pmm: int = 20) -> None:
        values = np.array(values, dtype=float)
        self.rng = rng
        self.k_pmm = k_pmm
        self.missing = np.isnan(values)
        counts = self.missing.sum(axis=0)
        order = np.argsort(counts)
        self.order = [int(j) for j in order[int((counts == 0).sum()) :]]
        for j in self.order:  # the observed value nearest the observed mean (the first one on ties)
            observed = values[~self.missing[:, j], j]
            values[self.missing[:, j], j] = observed[np.argmin(np.abs(observed - observed.mean()))]
        self.values = values
        n = values.shape[0]
        self._design = np.empty((n, values.shape[1]))  # intercept and the other columns, reused
        self._design[:, 0] = 1.0

    def _update(self, j: int) -> None:
        values, design, missing = self.values, self._design, self.missing[:, j]
        design[:, 1:] = np.delete(values, j, axis=1)
        x_obs, x_miss, y_obs = design[~missing], design[missing], values[~missing, j]
        # The pseudo-inverse from the eigen-decomposition of X'X (p x p) rather than the SVD of X (n x p):
        # the same solution, several times faster with site indicators among the columns. Directions with
        # an eigenvalue below EIGEN_CUTOFF of the largest are dropped, as the pseudo-inverse drops zero
        # singular values (a site-level strategy is a sum of site indicators).
        eigenvalues, vectors = np.linalg.eigh(x_obs.T @ x_obs)
        keep = eigenvalues > EIGEN_CUTOFF * eigenvalues.max()
        vectors, eigenvalues = vectors[:, keep], eigenvalues[keep]
        params = vectors @ ((vectors.T @ (x_obs.T @ y_obs)) / eigenvalues)
        residual = y_obs - x_obs @ params
        scale = residual @ residual / (y_obs.size - int(keep.sum()))
        cov = (vectors / eigenvalues) @ vectors.T * scale
        drawn = self.rng.multivariate_normal(mean=params, cov=cov)
        predicted_obs, predicted_miss = x_obs @ drawn, x_miss @ drawn
        sort = np.argsort(predicted_obs)
        donors, predicted_obs = y_obs[sort], predicted_obs[sort]
        k = self.k_pmm
        window = np.searchsorted(predicted_obs, predicted_miss)[:, None] + np.arange(-k, k)[None, :]
        outside = (window < 0) | (window > donors.size - 1)
        window = np.clip(window, 0, donors.size - 1)
        distance = np.abs(predicted_miss[:, None] - predicted_obs[window])
        distance[outside] = np.inf
        nearest = np.argsort(distance, axis=1)[:, :k]
        choice = self.rng.integers(0, k, predicted_miss.size)
        rows = np.arange(nearest.shape[0])
        values[missing, j] = donors[window[rows, nearest[rows, choice]]]

    def update_all(self, cycles: int = 1) -> None:
        """Run `cycles` cycles of the chain over every incomplete column.

        The BLAS is held to one thread: the regressions are small (tens of columns), threads gain nothing on
        them, and on a machine whose cores are busy (parallel replications, a web server) OpenBLAS's waiting
        threads made a scorecard's imputations six times slower (28 s instead of 5 s).
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            for _ in range(cycles):
                for j in self.order:
                    self._update(j)


@dataclass
class _Imputer:
    """A chain of `ChainedEquations` over the analysis rows; `completed()` yields completed data sets."""

    frame: pd.DataFrame  # the analysis rows (strategy and cluster observed), index reset
    roles: _Roles
    columns: dict[str, int]  # imputed column -> its position in the chain's matrix
    chain: ChainedEquations
    cluster_handling: str | None
    n_dropped: int
    n_burnin: int

    @classmethod
    def build(cls, data: pd.DataFrame, roles: _Roles, n_burnin: int, rng: np.random.Generator) -> _Imputer:
        needed = list(dict.fromkeys([*roles.analysis, *roles.auxiliary]))
        frame = data[needed]
        keep = frame[[roles.x] + ([roles.cluster] if roles.cluster else [])].notna().all(axis=1)
        frame = frame.loc[keep].reset_index(drop=True)
        n_dropped = int((~keep).sum())
        if len(frame) == 0:
            raise DataError(
                f"the strategy '{roles.x}' is missing in every row", hint="nothing can be imputed"
            )
        _check_imputable(frame, roles)
        parts = [_as_predictors(frame[roles.x], "x")]
        columns: dict[str, int] = {}
        for j, name in enumerate(roles.imputed):
            stem = f"v{j}"
            if frame[name].isna().any():
                columns[name] = sum(part.shape[1] for part in parts)
                parts.append(pd.DataFrame({stem: frame[name].astype(float).to_numpy()}))
            else:
                parts.append(_as_predictors(frame[name], stem))
        cluster_handling = None
        if roles.cluster:
            terms, cluster_handling = _cluster_terms(frame, roles)
            parts.append(terms)
        chain = ChainedEquations(pd.concat(parts, axis=1).to_numpy(dtype=float), rng)
        return cls(frame, roles, columns, chain, cluster_handling, n_dropped, n_burnin)

    @property
    def missing(self) -> pd.DataFrame:
        """True where a value of the analysis rows is missing (and imputed)."""
        return self.frame[self.roles.imputed].isna()

    def completed(self, n_imputations: int) -> Iterator[pd.DataFrame]:
        """`n_imputations` completed copies of `frame`: burn-in, then one every `CYCLES_PER_IMPUTATION`."""
        if self.n_burnin:
            self.chain.update_all(self.n_burnin)
        for _ in range(n_imputations):
            self.chain.update_all(CYCLES_PER_IMPUTATION)
            done = self.frame.copy()
            for name, position in self.columns.items():
                done[name] = self.chain.values[:, position].copy()
            yield done


def _progress(items: Iterable[Any], total: int, description: str, enabled: bool) -> Iterable[Any]:
    """A rich progress bar on stderr (transient) over `items`, or the items themselves.

    moclab's `DelayedProgress` lives in the study layer, which the analysis layer does not import.
    """
    if not enabled:
        return items
    from rich.console import Console
    from rich.progress import track

    return track(items, description=description, total=total, console=Console(stderr=True), transient=True)


# ----------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class _MissingDataResult(AnalysisResult):
    """What the results of this module share with `MediationResult` (the fields the scorecard reads)."""

    model: str = "parallel"
    x: str = ""
    mediators: tuple[str, ...] = ()
    y: str = ""
    covariates: tuple[str, ...] = ()
    x_type: str = "dose"
    n: int = 0
    n_dropped: int = 0
    n_clusters: int | None = None
    icc: dict[str, float] = field(default_factory=dict)
    design_effect: dict[str, float] = field(default_factory=dict)
    joint_significance: dict[str, bool] = field(default_factory=dict)

    headline = ("indirect", "total_indirect", "direct", "total")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        base.update(plain(model_facts(self)))
        return base

    def _head(self) -> list[str]:
        coding = self.info.get("x_coding")
        kind = "binary arm" if self.x_type == "arm" else "continuous dose"
        lines = [f"{self.title}: {self.model} model, {len(self.mediators)} mediator(s)"]
        lines.append(f"  strategy (X): {self.x} ({kind}" + (f"; {coding})" if coding else ")"))
        lines.append(f"  mediators (M): {(' -> ' if self.model == 'serial' else ', ').join(self.mediators)}")
        lines.append(f"  outcome (Y): {self.y}")
        if self.covariates:
            lines.append(f"  covariates: {', '.join(self.covariates)}")
        return lines

    def _table(self, digits: int) -> list[str]:
        table = self.to_frame()[["estimate", "se", "ci_low", "ci_high", "p", "ci_method"]]
        lines = ["", table.to_string(float_format=lambda v: f"{v:.{digits}f}", na_rep="")]
        if self.warnings:
            lines.append("")
            lines.extend(f"warning: {w}" for w in self.warnings)
        return lines


@dataclass(frozen=True, eq=False, repr=False)
class ImputedMediationResult(_MissingDataResult):
    """Result of `mediate_imputed`: `mediate`'s effects pooled over multiply imputed data sets.

    Effects have `mediate`'s names. Paths, direct and total effects (regression coefficients) are pooled by
    Rubin's rules on their t-test SEs; indirect effects, their total and contrasts by Rubin's rules on the
    SE of `mediate`'s interval method (the bootstrap SD by default). Each Effect's ``extra`` has ``df``
    (Barnard-Rubin), ``fmi`` (fraction of missing information), ``riv``, ``within_variance``,
    ``between_variance`` and ``within_method``.

    Attributes
    ----------
    n : int
        Rows analysed, imputed values included; ``n_dropped`` rows lacked the strategy (or the cluster).
    n_incomplete : int
        Analysed rows with at least one imputed value.
    missing : dict
        Values imputed per variable (mediators, outcome, covariates, auxiliary variables).
    n_imputations : int
    icc, design_effect : dict
        Means over the imputations of each completed data set's ICC(1) and design effect.
    fits : tuple of MediationResult
        `mediate` on each completed data set.
    completed : tuple of pandas.DataFrame
        The completed data sets (the analysis columns, auxiliary ones included).
    """

    n_incomplete: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    n_imputations: int = 0
    fits: tuple[MediationResult, ...] = ()
    completed: tuple[pd.DataFrame, ...] = ()

    title = "Mediation analysis after multiple imputation"

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        base.update(
            plain(
                {
                    "n_incomplete": self.n_incomplete,
                    "missing": self.missing,
                    "n_imputations": self.n_imputations,
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """Readable report: model, sample, what was imputed per variable, pooled effects and warnings."""
        lines = self._head()
        lines.append(
            f"  n = {self.n} ({self.n_incomplete} with imputed values; {self.n_dropped} row(s) dropped for a "
            "missing strategy or cluster)"
        )
        imputed = ", ".join(f"{name} {count}" for name, count in self.missing.items() if count)
        lines.append(f"  values imputed: {imputed or 'none'}")
        if self.n_clusters is not None:
            deffs = ", ".join(f"{k} {v:.2f}" for k, v in self.design_effect.items())
            lines.append(f"  clusters: {self.n_clusters}; design effect (mean over imputations): {deffs}")
        lines.append(f"  inference: {self.info.get('method')}")
        return "\n".join(lines + self._table(digits))


@dataclass(frozen=True, eq=False, repr=False)
class WeightedMediationResult(_MissingDataResult):
    """Result of `mediate_weighted`: inverse-probability-of-retention weighted mediation.

    Attributes
    ----------
    n : int
        Retained rows analysed (complete on every analysis variable); ``n_dropped`` rows were not retained
        and are represented by the weights of retained rows like them.
    retention_model : pandas.DataFrame
        The logistic model of retention: coefficient, se, z, p and odds ratio per term.
    weights : pandas.Series
        The stabilized weight of every retained row (indexed like the data): P(retained) / P(retained | Z).
    coefficients : pandas.DataFrame
        Every weighted regression, one row per (equation, term): estimate and bootstrap se.
    draws : pandas.DataFrame
        The bootstrap draws of every effect.
    """

    retention_model: pd.DataFrame | None = None
    weights: pd.Series | None = None
    coefficients: pd.DataFrame | None = None
    draws: pd.DataFrame | None = None

    title = "Mediation analysis weighted for retention"

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        model = (
            None if self.retention_model is None else self.retention_model.reset_index().to_dict("records")
        )
        base.update(plain({"retention_model": model}))
        return base

    def summary(self, digits: int = 4) -> str:
        """Readable report: model, sample, the retention model, the weights, effects and warnings."""
        lines = self._head()
        weights = self.info.get("weights", {})
        lines.append(f"  n = {self.n} retained of {self.n + self.n_dropped}")
        lines.append(
            f"  weights: min {weights.get('min', math.nan):.3g}, max {weights.get('max', math.nan):.3g}, "
            f"effective sample size (Kish) {weights.get('ess', math.nan):.1f}"
        )
        lines.append(f"  inference: {self.info.get('method')}")
        if self.retention_model is not None:
            lines.append("")
            lines.append("Retention model (logistic regression of retained on):")
            frame = self.retention_model[["estimate", "se", "p", "odds_ratio"]]
            lines.append(frame.to_string(float_format=lambda v: f"{v:.{digits}f}"))
        return "\n".join(lines + self._table(digits))


@dataclass(frozen=True, eq=False, repr=False)
class TippingPointResult(AnalysisResult):
    """Result of `tipping_point`: the indirect and total effects as the imputed outcomes are shifted.

    `effects` are the pooled effects under MAR (δ = 0). `table` has one row per (delta, effect): estimate,
    se, ci_low, ci_high and `verdict` (+1: interval above 0, -1: below, 0: includes 0). `tipping_points`
    maps each indirect effect to ``{"lower": δ, "higher": δ}``: the shift closest to 0, below and above it,
    at which its verdict differs from the MAR verdict (None when not reached within the grid).
    """

    x: str = ""
    y: str = ""
    shift: str = "treated"
    sd_y: float = math.nan
    table: pd.DataFrame | None = None
    tipping_points: dict[str, dict[str, float | None]] = field(default_factory=dict)
    n_shifted: int = 0

    title = "Tipping-point analysis (missing not at random)"
    headline = ("indirect", "total")

    def verdict_text(self, name: str | None = None) -> str:
        """The verdict on an indirect effect (the first by default) and the shifts that would change it."""
        name = name or next(iter(self.tipping_points))
        effect = self.effect(name)
        level = float(self.info.get("level", 0.95))
        arm = {"treated": "in the treated arm", "control": "in the control arm", "both": "in both arms"}[
            self.shift
        ]
        if self.info.get("x_type") == "dose":  # a continuous strategy has no arms: every recipient's
            arm = "of every recipient"
        if effect.ci_low is not None and effect.ci_low > 0:
            verdict = f"{name} is positive ({level:.0%} interval above 0)"
        elif effect.ci_high is not None and effect.ci_high < 0:
            verdict = f"{name} is negative ({level:.0%} interval below 0)"
        else:
            verdict = f"{name} is not distinguished from 0 ({level:.0%} interval includes 0)"
        found = self.tipping_points.get(name, {})
        clauses = [
            f"the missing outcomes {arm} were {abs(value):.2g} SD {'lower' if key == 'lower' else 'higher'} "
            "than those observed would predict"
            for key, value in found.items()
            if value is not None
        ]
        grid = self.table["delta"] if self.table is not None else pd.Series([0.0])
        if not clauses:
            return (
                f"Under MAR {verdict}; the verdict holds for every shift of the missing outcomes {arm} from "
                f"{grid.min():g} to {grid.max():g} SD (no tipping point within the grid)."
            )
        return f"Under MAR {verdict}; the verdict holds unless " + " or ".join(clauses) + "."

    def summary(self, digits: int = 3) -> str:
        lines = [self.title, f"  outcome: {self.y} (SD of the observed values {self.sd_y:.{digits}g})"]
        lines.append(
            f"  {self.n_shifted} imputed outcome value(s) shifted ({self.shift}); {self.info.get('method')}"
        )
        lines.extend(f"  {self.verdict_text(name)}" for name in self.tipping_points)
        if self.table is not None:
            wide = self.table.pivot(index="delta", columns="effect", values="estimate")
            lines.append("")
            lines.append("Estimates by shift (delta in SD of the observed outcome):")
            lines.append(wide.to_string(float_format=lambda v: f"{v:.{digits}f}"))
        if self.warnings:
            lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# Pooling mediate's results
# ----------------------------------------------------------------------------------------------------


def _within(effect: Effect) -> tuple[float, float]:
    """The complete-data variance and df of an effect: t-test SE for a coefficient, the interval's SE else."""
    if effect.kind in REGRESSION_KINDS:
        se = effect.extra.get("se_regression", effect.se)
        return float(se) ** 2, float(effect.extra.get("df", math.inf))
    return float(effect.se) ** 2 if effect.se is not None else math.nan, math.inf


def _pool_fits(fits: Sequence[MediationResult], level: float) -> tuple[list[Effect], dict[str, bool]]:
    """Every effect of `mediate` pooled over the fits; joint significance from the pooled paths."""
    effects = []
    first = fits[0]
    for effect in first.effects:
        if effect.kind == "proportion_mediated":
            continue  # a ratio near 0/0 has no usable SE to pool; the pooled ratio is added below
        pairs = [_within(fit.effect(effect.name)) for fit in fits]
        pooled = rubin_pool(
            [fit.effect(effect.name).estimate for fit in fits], [v for v, _ in pairs], pairs[0][1]
        )
        low, high, p = pooled.interval(level)
        extra = {key: effect.extra[key] for key in ("from", "to", "paths") if key in effect.extra}
        extra.update(
            {
                "df": pooled.df,
                "fmi": pooled.fmi,
                "riv": pooled.riv,
                "lambda": pooled.lam,
                "within_variance": pooled.within,
                "between_variance": pooled.between,
                "within_method": "t" if effect.kind in REGRESSION_KINDS else effect.ci_method,
            }
        )
        effects.append(
            Effect(effect.name, effect.kind, pooled.estimate, pooled.se, low, high, p, "rubin", extra)
        )
    by_kind = {e.kind: e for e in reversed(effects)}
    overall, total = by_kind.get("total_indirect", by_kind.get("indirect")), by_kind.get("total")
    if overall is not None and total is not None and total.estimate != 0:
        ratio = overall.estimate / total.estimate
        note = (
            f"pooled {overall.name} / pooled total; no interval (a ratio of effects near 0 has none usable)"
        )
        effects.append(Effect("proportion_mediated", "proportion_mediated", ratio, extra={"note": note}))
    joint = _joint_significance(effects, level)
    return effects, joint


def _joint_significance(effects: list[Effect], level: float) -> dict[str, bool]:
    """Every path of each indirect effect significant at 1 - level (written into its ``extra``)."""
    p_of = {e.name: e.p for e in effects if e.kind in ("a", "b", "d")}
    joint = {}
    for effect in effects:
        if effect.kind == "indirect":
            largest = max(p_of[path] if p_of[path] is not None else 1.0 for path in effect.extra["paths"])
            joint[effect.name] = bool(largest < 1.0 - level)
            effect.extra.update({"joint_significant": joint[effect.name], "joint_p": float(largest)})
    return joint


def _check_common(model: str, x_type: str, level: float, seed: SeedLike) -> None:
    _arguments.choice("model", model, MODELS)
    _arguments.choice("x_type", x_type, ("auto", "arm", "dose"))
    _arguments.check(level=level, seed=seed)


def _check_imputations(n_imputations: Any, n_burnin: Any) -> None:
    if (
        not isinstance(n_imputations, int | np.integer)
        or isinstance(n_imputations, bool)
        or n_imputations < 2
    ):
        raise DataError(
            f"n_imputations must be a whole number of at least 2, not {n_imputations!r}",
            hint="Rubin's rules need the variation between imputations; 20 or more is usual",
        )
    if not isinstance(n_burnin, int | np.integer) or isinstance(n_burnin, bool) or n_burnin < 0:
        raise DataError(
            f"n_burnin must be a whole number of at least 0, not {n_burnin!r}", hint="10 is usual"
        )


def mediate_imputed(
    data: pd.DataFrame,
    *,
    x: str,
    m: str | Sequence[str],
    y: str,
    covariates: str | Sequence[str] = (),
    cluster: str | None = None,
    model: Literal["parallel", "serial"] = "parallel",
    auxiliary: str | Sequence[str] = (),
    n_imputations: int = 20,
    n_burnin: int = 10,
    ci: Literal["bca", "percentile", "monte_carlo", "delta"] = "percentile",
    n_boot: int = 2000,
    n_mc: int = 20_000,
    level: float = 0.95,
    seed: SeedLike = None,
    x_type: Literal["auto", "arm", "dose"] = "auto",
    control: Any = None,
    contrasts: bool = True,
    show_progress: bool = False,
) -> ImputedMediationResult:
    """Mediation analysis with the missing values of the mediators, outcome and covariates multiply imputed.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit; the other arguments name its columns.
    x, m, y, covariates, cluster, model, x_type, control, contrasts
        As in `moclab.analysis.mediate`.
    auxiliary : str or list of str
        Variables used only as predictors in the imputation models (baseline values of the mechanism and the
        outcome, reasons for dropping out): they make missing at random plausible without entering the
        analysis model.
    n_imputations : int
        Completed data sets (m ≥ 2; 20 or more keeps the Monte Carlo error of the pooled intervals small).
    n_burnin : int
        Chained-equation cycles before the first imputation is kept.
    ci, n_boot, n_mc, level
        `mediate`'s interval for every completed data set; its SE is the within-imputation SE of the
        indirect effects and contrasts.
    seed : int, numpy.random.Generator or None
        Two generators are spawned from it: the first draws the imputations, the second seeds each
        imputation's `mediate`.
    show_progress : bool
        A progress bar (on stderr) over the imputations.

    Returns
    -------
    ImputedMediationResult

    Raises
    ------
    DataError
        Unknown columns, a column with no observed value, a text column with missing values, fewer than 2
        imputations, and whatever `mediate` refuses in a completed data set.

    Notes
    -----
    *Imputation.* Rows whose strategy (or cluster) is missing are dropped (``n_dropped``): the strategy is
    the arm of the comparison and is known for every randomized unit. The remaining columns are imputed by
    chained equations with predictive mean matching (`ChainedEquations`, statsmodels' `MICEData` algorithm
    on arrays: each incomplete variable in
    turn is regressed on all the others, the coefficients drawn from their approximate posterior, and every
    missing value replaced by the observed value of one of the 20 rows with the closest predicted mean; van
    Buuren 2018, ch. 3.4 and 4.5). PMM imputes only values that were observed, so a 0/1 or Likert variable
    stays on its scale. After ``n_burnin`` cycles one completed data set is kept every
    `CYCLES_PER_IMPUTATION` cycles, the schedule of statsmodels' `MICE`. Text covariates and auxiliary
    variables enter the imputation models as indicators; text columns with missing values are refused.

    *Clusters.* Chained equations that ignore the clustering shrink the between-cluster differences of the
    imputed values toward 0 (Lüdtke, Robitzsch & Grund 2017). With clusters of mean size at least
    `CLUSTER_INDICATORS_FROM`, every imputation model gets cluster indicators (fixed-effects imputation),
    which keeps the cluster means of each variable; Lüdtke et al. show it slightly overstates the
    between-cluster variance when clusters are small and the ICC low, which makes the cluster-robust
    intervals of `mediate` conservative rather than liberal. With smaller clusters (many indicators for few
    rows each) the cluster means of the observed values of each incomplete variable are added instead.

    *Pooling.* The paths a, d, b, the direct and total effects are regression coefficients: Rubin's rules
    (1987) on their t-test (or cluster-robust) SEs, with the Barnard & Rubin (1999) degrees of freedom.
    Indirect effects, their total and contrasts are products of coefficients with skewed distributions and
    no analytic SE: they are pooled by Rubin's rules on the SE of `mediate`'s interval (the bootstrap SD by
    default; "MI Boot" of Schomaker & Heumann 2018, who found it valid when the estimator is near normal,
    while the percentile interval of the bootstrap draws pooled across imputations ignores the (1 + 1/m)
    inflation of the between-imputation variance and is too narrow). The pooled intervals are therefore
    symmetric t intervals; with strongly skewed indirect effects (small samples) read them with the
    percentile intervals of the single fits in ``result.fits``.

    References
    ----------
    Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple imputation.
    *Biometrika*, 86(4), 948-955.
    Lüdtke, O., Robitzsch, A., & Grund, S. (2017). Multiple imputation of missing data in multilevel designs:
    A comparison of different strategies. *Psychological Methods*, 22(1), 141-165.
    Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
    Schomaker, M., & Heumann, C. (2018). Bootstrap inference when using multiple imputation. *Statistics in
    Medicine*, 37(14), 2252-2266.
    van Buuren, S. (2018). *Flexible Imputation of Missing Data* (2nd ed.). CRC Press.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> n = 200
    >>> df = pd.DataFrame({"coaching": rng.integers(0, 2, n), "baseline": rng.normal(size=n)})
    >>> df["trust"] = 0.5 * df.coaching + 0.5 * df.baseline + rng.normal(size=n)
    >>> df["adoption"] = 0.4 * df.trust + 0.3 * df.baseline + rng.normal(size=n)
    >>> df.loc[df.baseline > 0.8, "adoption"] = np.nan  # missing at random given the baseline
    >>> result = mediate_imputed(df, x="coaching", m="trust", y="adoption", auxiliary="baseline",
    ...                          n_imputations=5, n_boot=200, seed=1)
    >>> result.missing, result.n_incomplete
    ({'trust': 0, 'adoption': 46, 'baseline': 0}, 46)
    >>> result.effect("indirect[trust]").extra["paths"]
    ['a[trust]', 'b[trust]']
    """
    _check_common(model, x_type, level, seed)
    _arguments.check(ci=ci, allowed_ci=CI_METHODS)
    _check_imputations(n_imputations, n_burnin)
    roles = _roles(data, x, m, y, covariates, auxiliary, cluster)
    imputer_rng, analysis_rng = as_generator(seed).spawn(2)
    imputer = _Imputer.build(data, roles, int(n_burnin), imputer_rng)
    seeds = analysis_rng.spawn(int(n_imputations))
    missing = imputer.missing
    options = {
        "x": roles.x, "m": roles.mediators, "y": roles.y, "covariates": roles.covariates,
        "cluster": roles.cluster, "model": model, "ci": ci, "n_boot": n_boot, "n_mc": n_mc, "level": level,
        "x_type": x_type, "control": control, "contrasts": contrasts, "missing": "raise",
    }  # fmt: skip
    fits, completed = [], []
    chain = imputer.completed(int(n_imputations))
    for i, done in enumerate(_progress(chain, int(n_imputations), "multiple imputation", show_progress)):
        completed.append(done)
        fits.append(mediate(done[roles.analysis], seed=seeds[i], **options))
    effects, joint = _pool_fits(fits, level)
    counts = {name: int(missing[name].sum()) for name in roles.imputed}
    first = fits[0]
    # The first fit's notes on categorical covariates and few clusters hold for every fit; its caveats about
    # its own proportion mediated and resamples do not describe the pooled result.
    warnings = [w for w in first.warnings if "categorical" in w or "clusters" in w]
    if not any(counts.values()):
        warnings.insert(0, "no value was missing: nothing was imputed (the estimates are those of mediate)")
    if imputer.n_dropped:
        warnings.insert(0, f"{imputer.n_dropped} row(s) without the strategy (or the cluster) were dropped")
    n_incomplete = int(missing.any(axis=1).sum())
    icc = {k: float(np.mean([f.icc[k] for f in fits])) for k in first.icc}
    deff = {k: float(np.mean([f.design_effect[k] for f in fits])) for k in first.design_effect}
    method = (
        f"multiple imputation by chained equations (PMM), m = {n_imputations}, {n_burnin} burn-in cycles"
        + (f", {imputer.cluster_handling}" if imputer.cluster_handling else "")
        + (f", auxiliary: {', '.join(roles.auxiliary)}" if roles.auxiliary else "")
        + f"; each data set: {first.info['method']}; pooled by Rubin's rules (Barnard-Rubin df)"
    )
    info = {
        "method": method,
        "model": model,
        "ci": ci,
        "level": level,
        "n": first.n,
        "n_dropped": imputer.n_dropped,
        "n_incomplete": n_incomplete,
        "missing": counts,
        "n_imputations": int(n_imputations),
        "n_burnin": int(n_burnin),
        "auxiliary": list(roles.auxiliary),
        "cluster_handling": imputer.cluster_handling,
        "x_type": first.x_type,
        "x_coding": first.info.get("x_coding"),
        "cluster": roles.cluster,
        "n_clusters": first.n_clusters,
        "icc": icc,
        "design_effect": deff,
        "icc_source": "mean over the completed data sets",
        "joint_significance": joint,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
    }
    return ImputedMediationResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(warnings),
        model=model,
        x=first.x,
        mediators=first.mediators,
        y=first.y,
        covariates=first.covariates,
        x_type=first.x_type,
        n=first.n,
        n_dropped=imputer.n_dropped,
        n_clusters=first.n_clusters,
        icc=icc,
        design_effect=deff,
        joint_significance=joint,
        n_incomplete=n_incomplete,
        missing=counts,
        n_imputations=int(n_imputations),
        fits=tuple(fits),
        completed=tuple(completed),
    )


# ----------------------------------------------------------------------------------------------------
# Inverse-probability-of-retention weights
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Retention:
    design: np.ndarray  # (n, q): intercept and the retention predictors
    names: list[str]
    retained: np.ndarray  # (n,) bool
    coef: np.ndarray
    table: pd.DataFrame


def _retention_model(data: pd.DataFrame, columns: list[str], retained: np.ndarray) -> _Retention:
    """statsmodels Logit of retained (1) vs lost (0) on the retention columns (text ones as indicators)."""
    import statsmodels.api as sm

    blocks, names = [np.ones((len(data), 1))], ["intercept"]
    for name in columns:
        column = data[name]
        if column.isna().any():
            raise DataError(
                f"the retention column '{name}' has {int(column.isna().sum())} missing value(s): the "
                "retention model needs its predictors for every row, retained or lost",
                hint="use variables observed for everyone (the arm, baseline values), or impute them first",
            )
        if _is_numeric(column):
            blocks.append(column.to_numpy(dtype=float)[:, None])
            names.append(name)
        else:
            indicators = pd.get_dummies(column.astype("category"), drop_first=True, dtype=float)
            blocks.append(indicators.to_numpy())
            names += [f"{name}[{level}]" for level in indicators.columns]
    design = np.hstack(blocks)
    _columns.check_full_rank(design, names, "retention")
    try:
        fit = sm.Logit(retained.astype(float), design).fit(disp=0, maxiter=100)
    except Exception as error:  # statsmodels raises on perfect separation or a singular Hessian
        raise DataError(
            f"the retention model could not be fitted ({error})",
            hint="a retention column (nearly) separates the retained from the lost: use fewer or coarser "
            "columns",
        ) from error
    if np.max(np.abs(design @ fit.params)) > 30:
        raise DataError(
            "the retention model (nearly) separates the retained from the lost: some rows have a retention "
            "probability of about 0 or 1, so their weights are not estimable",
            hint="use fewer or coarser retention columns",
        )
    table = pd.DataFrame(
        {
            "estimate": fit.params,
            "se": fit.bse,
            "z": fit.tvalues,
            "p": fit.pvalues,
            "odds_ratio": np.exp(fit.params),
        },
        index=pd.Index(names, name="term"),
    )
    return _Retention(design, names, retained, np.asarray(fit.params), table)


def _weights(
    probability: np.ndarray, retained: np.ndarray, counts: np.ndarray | None, trim: float | None
) -> np.ndarray:
    """Stabilized weights P(retained) / P(retained | Z) of the retained rows (last axis), trimmed if asked.

    `probability` is (n,) or (B, n); `counts` (B, n) are the resample counts the marginal rate is taken over.
    """
    frequency = np.ones_like(probability) if counts is None else counts
    rate = (frequency * retained).sum(axis=-1, keepdims=True) / frequency.sum(axis=-1, keepdims=True)
    weights = (rate / probability)[..., retained]
    if trim is not None:
        drawn = weights if counts is None else np.where(counts[:, retained] > 0, weights, np.nan)
        low = np.nanquantile(drawn, 1.0 - trim, axis=-1, keepdims=True)
        high = np.nanquantile(drawn, trim, axis=-1, keepdims=True)
        weights = np.clip(weights, low, high)
    return weights


def _weighted_thetas(
    z: np.ndarray, equations: list[tuple[str, int, list[int]]], weights: np.ndarray
) -> np.ndarray:
    """All coefficients of all equations, (B, P), by weighted least squares for every row of `weights` (B, n).

    moclab's batched normal equations (`batched_ols`) rather than statsmodels WLS: one matrix product for
    all resamples instead of a Python loop of thousands of model fits.
    """
    parts = [batched_ols(z[:, predictors], z[:, response], weights) for _, response, predictors in equations]
    return np.concatenate(parts, axis=1)


def mediate_weighted(
    data: pd.DataFrame,
    *,
    x: str,
    m: str | Sequence[str],
    y: str,
    covariates: str | Sequence[str] = (),
    retention: str | Sequence[str],
    cluster: str | None = None,
    model: Literal["parallel", "serial"] = "parallel",
    ci: Literal["percentile"] = "percentile",
    n_boot: int = 2000,
    level: float = 0.95,
    seed: SeedLike = None,
    x_type: Literal["auto", "arm", "dose"] = "auto",
    control: Any = None,
    trim: float | None = None,
) -> WeightedMediationResult:
    """Mediation analysis of the retained rows, weighted by the inverse of their probability of retention.

    Parameters
    ----------
    data : pandas.DataFrame
        Every unit, retained or lost; the other arguments name its columns.
    x, m, y, covariates, cluster, model, x_type, control
        As in `moclab.analysis.mediate`.
    retention : str or list of str
        Columns observed for everyone (the arm, baseline values of the mechanism and the outcome) that
        predict retention; text columns enter as indicators.
    ci : {"percentile"}
        The percentile bootstrap (the only interval that carries the estimation of the weights).
    n_boot : int
        Bootstrap resamples of rows (of clusters with ``cluster``).
    level, seed
        Confidence level; randomness of the bootstrap.
    trim : float, optional
        Truncate the weights at the (1 - trim) and trim quantiles, e.g. 0.99 (Cole & Hernán 2008).

    Returns
    -------
    WeightedMediationResult

    Raises
    ------
    DataError
        Unknown columns, a retention column with missing values, a retention model that separates the
        retained from the lost, no retained row, invalid options.

    Notes
    -----
    A row is *retained* when it is complete on the strategy, mediators, outcome, covariates (and cluster).
    A logistic regression of retention on the `retention` columns (statsmodels Logit) gives each row its
    probability p_i of being retained; a retained row gets the stabilized weight w_i = P̄ / p_i, P̄ the
    share retained, so that it stands for the lost rows like it (Robins, Rotnitzky & Zhao 1995; Seaman &
    White 2013). Valid when retention depends only on the `retention` columns (MAR given them) and the
    logistic model is right. Every equation of `mediate` is then fitted by weighted least squares on the
    retained rows; indirect effects are the products of the weighted paths, as `mediate` names them.

    The weights are estimated, so the bootstrap refits the retention model in every resample (batched
    Fisher scoring, `moclab.analysis.glm.batched_binary_glm`) before the weighted paths; with ``cluster``
    whole clusters are resampled. Intervals of every effect (paths too) are percentile intervals; p-values
    of the paths use the bootstrap SE with the normal distribution. The Kish effective sample size
    (Σw)² / Σw² tells how much the weighting costs.

    References
    ----------
    Cole, S. R., & Hernán, M. A. (2008). Constructing inverse probability weights for marginal structural
    models. *American Journal of Epidemiology*, 168(6), 656-664.
    Robins, J. M., Rotnitzky, A., & Zhao, L. P. (1995). Analysis of semiparametric regression models for
    repeated outcomes in the presence of missing data. *JASA*, 90(429), 106-121.
    Seaman, S. R., & White, I. R. (2013). Review of inverse probability weighting for dealing with missing
    data. *Statistical Methods in Medical Research*, 22(3), 278-295.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> n = 300
    >>> df = pd.DataFrame({"coaching": rng.integers(0, 2, n), "baseline": rng.normal(size=n)})
    >>> df["trust"] = 0.5 * df.coaching + 0.5 * df.baseline + rng.normal(size=n)
    >>> df["adoption"] = 0.4 * df.trust + 0.3 * df.baseline + rng.normal(size=n)
    >>> df.loc[rng.random(n) < 1 / (1 + np.exp(1 - df.baseline)), "adoption"] = np.nan
    >>> result = mediate_weighted(df, x="coaching", m="trust", y="adoption",
    ...                           retention=["coaching", "baseline"], n_boot=200, seed=1)
    >>> result.n + result.n_dropped, list(result.retention_model.index)
    (300, ['intercept', 'coaching', 'baseline'])
    """
    _check_common(model, x_type, level, seed)
    _arguments.check(ci=ci, allowed_ci=("percentile",), n_boot=n_boot)
    if trim is not None and not (isinstance(trim, float) and 0.5 < trim < 1.0):
        raise DataError(f"trim must be a number between 0.5 and 1 (e.g. 0.99), not {trim!r}", hint="or None")
    roles = _roles(data, x, m, y, covariates, (), cluster)
    retention_columns = _names(retention, "retention columns")
    if not retention_columns:
        raise DataError("no retention column given", hint="pass retention=['arm', 'baseline_outcome']")
    _columns.check_columns(data, [("retention column", name) for name in retention_columns])
    if roles.cluster and data[roles.cluster].isna().any():
        raise DataError(
            f"the cluster column '{roles.cluster}' has missing values: the cluster bootstrap needs it for "
            "every row",
            hint="fill in the cluster of every unit",
        )
    frame = data.reset_index(drop=True)
    retained = frame[roles.analysis].notna().all(axis=1).to_numpy()
    if not retained.any():
        raise DataError("no row is complete on the analysis variables", hint="nothing can be weighted")
    warnings: list[str] = []
    if retained.all():
        warnings.append("no row was lost: every weight is 1 (the estimates are those of mediate)")
        fit = _Retention(np.ones((len(frame), 1)), ["intercept"], retained, np.array([50.0]), None)  # type: ignore[arg-type]
    else:
        fit = _retention_model(frame, retention_columns, retained)
    probability = special.expit(fit.design @ fit.coef)
    weights = _weights(probability, retained, None, trim)

    prep = _prepare(frame.loc[retained], roles.x, roles.mediators, roles.y, roles.covariates,
                    roles.cluster, x_type, "raise", control)  # fmt: skip
    _check_design(prep)
    structure = _structure(prep, model, True)
    z = np.column_stack([np.ones(prep.x.size), prep.x, prep.covariates, prep.mediators, prep.y])
    theta = _weighted_thetas(z, structure.equations, weights[None, :])[0]
    values = np.array([spec.evaluate(theta) for spec in structure.specs])

    rng = as_generator(seed)
    all_codes = None
    if roles.cluster:
        all_codes, _ = factorize_clusters(frame[roles.cluster].to_numpy())
    theta_draws, value_draws, n_failed = [], [], 0
    for size in _chunks(int(n_boot), len(frame)):
        counts = (
            bootstrap_counts(len(frame), size, rng)
            if all_codes is None
            else cluster_bootstrap_counts(all_codes, size, rng)
        )
        if retained.all():
            coef, ok = np.tile(fit.coef, (size, 1)), np.ones(size, bool)
        else:
            coef, ok = batched_binary_glm(fit.design, retained.astype(float), counts, "logit", fit.coef)
        # A resample whose retention model failed (or ran off to a probability of 0) gives infinite or
        # NaN weights: its fit is dropped below and counted, so the arithmetic warnings are silenced.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            boot_weights = counts[:, retained] * _weights(
                special.expit(coef @ fit.design.T), retained, counts, trim
            )
            thetas = _weighted_thetas(z, structure.equations, boot_weights)
        good = ok & np.isfinite(thetas).all(axis=1)
        n_failed += int((~good).sum())
        theta_draws.append(thetas[good])
        value_draws.append(np.stack([spec.evaluate(thetas[good]) for spec in structure.specs], axis=1))
    theta_boot, value_boot = np.concatenate(theta_draws), np.concatenate(value_draws)
    if len(theta_boot) < 50:
        raise DataError(
            f"only {len(theta_boot)} of {n_boot} bootstrap resamples could be estimated",
            hint="the data are too small or the retention model too close to separation",
        )
    if n_failed:
        warnings.append(
            f"{n_failed} of {n_boot} bootstrap resamples could not be estimated (retention model not "
            "converged, or a singular model) and were dropped"
        )
    effects, joint = _weighted_effects(structure, theta, values, theta_boot, value_boot, level)
    ess = float(weights.sum() ** 2 / (weights**2).sum())
    clustering = _weighted_clustering(prep)
    weight_summary = {"min": float(weights.min()), "max": float(weights.max()), "mean": float(weights.mean()),
                      "ess": ess, "retention_rate": float(retained.mean())}  # fmt: skip
    if trim is not None:
        weight_summary["trim"] = trim
    unit = "clusters" if roles.cluster else "rows"
    method = (
        f"inverse-probability-of-retention weighted least squares (logistic retention model on "
        f"{', '.join(retention_columns)}; weights stabilized by the retention rate {retained.mean():.2f}"
        + (f", truncated at the {1 - trim:.0%} and {trim:.0%} quantiles" if trim is not None else "")
        + f"); percentile bootstrap, {n_boot} resamples of {unit}, retention model refitted in every "
        f"resample; {level:.0%} intervals"
    )
    info = {
        "method": method,
        "model": model,
        "ci": ci,
        "level": level,
        "n": int(retained.sum()),
        "n_dropped": int((~retained).sum()),
        "n_boot": int(n_boot),
        "n_boot_used": len(theta_boot),
        "x_type": prep.x_type,
        "x_coding": prep.x_coding,
        "retention": retention_columns,
        "weights": weight_summary,
        "cluster": roles.cluster,
        "n_clusters": clustering[0],
        "icc": clustering[1],
        "design_effect": clustering[2],
        "joint_significance": joint,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
    }
    coefficient_index = pd.MultiIndex.from_tuples(
        [
            (label, structure.columns[col])
            for label, _, predictors in structure.equations
            for col in predictors
        ],
        names=["equation", "term"],
    )
    coefficients = pd.DataFrame(
        {"estimate": theta, "se": np.nanstd(theta_boot, axis=0, ddof=1)}, index=coefficient_index
    )
    return WeightedMediationResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple([*prep.notes, *warnings]),
        model=model,
        x=prep.x_name,
        mediators=tuple(prep.m_names),
        y=prep.y_name,
        covariates=tuple(prep.covariate_names),
        x_type=prep.x_type,
        n=int(retained.sum()),
        n_dropped=int((~retained).sum()),
        n_clusters=clustering[0],
        icc=clustering[1],
        design_effect=clustering[2],
        joint_significance=joint,
        retention_model=fit.table,
        weights=pd.Series(weights, index=data.index[retained], name="weight"),
        coefficients=coefficients,
        draws=pd.DataFrame(value_boot, columns=[s.name for s in structure.specs]),
    )


def _chunks(n_boot: int, n_rows: int) -> list[int]:
    """Resamples per batch so that a batch's (B, n) weight matrices stay near 4 million numbers."""
    size = max(1, min(n_boot, 4_000_000 // max(n_rows, 1)))
    return [size] * (n_boot // size) + ([n_boot % size] if n_boot % size else [])


def _weighted_clustering(prep: Any) -> tuple[int | None, dict[str, float], dict[str, float]]:
    """Number of clusters, ICC(1) and design effect of the mediators and outcome among the retained rows."""
    if prep.codes is None:
        return None, {}, {}
    sizes = np.bincount(prep.codes)
    icc = {name: icc_oneway(prep.mediators[:, j], prep.codes) for j, name in enumerate(prep.m_names)}
    icc[prep.y_name] = icc_oneway(prep.y, prep.codes)
    return int(prep.codes.max()) + 1, icc, {k: design_effect(v, sizes) for k, v in icc.items()}


def _weighted_effects(
    structure: Any,
    theta: np.ndarray,
    values: np.ndarray,
    theta_boot: np.ndarray,
    value_boot: np.ndarray,
    level: float,
) -> tuple[list[Effect], dict[str, bool]]:
    """Paths, then indirect, contrast, direct and total effects, each with its percentile interval."""
    effects = []
    for name, index in structure.path_index.items():
        low, high = percentile_interval(theta_boot[:, index], None, level)
        se = float(np.std(theta_boot[:, index], ddof=1))
        p = float(2 * special.ndtr(-abs(theta[index] / se))) if se > 0 else math.nan
        source, target = structure.path_ends[name]
        effects.append(Effect(name, name.split("[")[0], float(theta[index]), se, float(low), float(high), p,
                              "percentile", {"from": source, "to": target}))  # fmt: skip
    for i, spec in enumerate(structure.specs):
        low, high = percentile_interval(value_boot[:, i], None, level)
        se = float(np.std(value_boot[:, i], ddof=1))
        p = None
        if spec.kind in ("direct", "total"):
            p = float(2 * special.ndtr(-abs(values[i] / se))) if se > 0 else math.nan
        extra: dict[str, Any] = {"paths": list(spec.paths)} if spec.kind == "indirect" else {}
        effects.append(
            Effect(
                spec.name, spec.kind, float(values[i]), se, float(low), float(high), p, "percentile", extra
            )
        )
    return effects, _joint_significance(effects, level)


# ----------------------------------------------------------------------------------------------------
# Missing not at random: delta adjustment and the tipping point
# ----------------------------------------------------------------------------------------------------


def _verdict(low: float, high: float) -> int:
    return 1 if low > 0 else (-1 if high < 0 else 0)


def tipping_point(
    data: pd.DataFrame,
    *,
    x: str,
    m: str | Sequence[str],
    y: str,
    covariates: str | Sequence[str] = (),
    auxiliary: str | Sequence[str] = (),
    cluster: str | None = None,
    shift: Literal["treated", "control", "both"] = "treated",
    deltas: Sequence[float] | None = None,
    n_imputations: int = 20,
    level: float = 0.95,
    seed: SeedLike = None,
    x_type: Literal["auto", "arm", "dose"] = "auto",
    control: Any = None,
) -> TippingPointResult:
    """How far missing outcomes would have to differ from their MAR imputations to change the verdict.

    Parameters
    ----------
    data, x, m, y, covariates, auxiliary, cluster, x_type, control
        As in `mediate_imputed`.
    shift : {"treated", "control", "both"}
        Whose imputed outcomes are shifted: the treated arm's, the control arm's (both need a binary arm) or
        every imputed outcome.
    deltas : sequence of float, optional
        Shifts in SDs of the observed outcome; default -1 to 1 in steps of 0.1. 0 (MAR) is always included.
    n_imputations, level, seed
        Imputations, confidence level, randomness (as in `mediate_imputed`).

    Returns
    -------
    TippingPointResult

    Notes
    -----
    The data are imputed once under MAR (`mediate_imputed`'s chained equations). For every δ the imputed
    outcome values of the chosen arm(s) get δ · SD(observed outcome) added, `mediate` is refitted on every
    completed data set and the effects are pooled: indirect effects by Rubin's rules on their delta-method
    (first-order) SE with Rubin's df, the total effect by Rubin's rules on its t-test SE (a fast interval:
    the grid needs many refits). The shift is applied once, after imputation, rather than inside the chain
    with a new imputation per δ: this is the delta-adjustment practice of Ratitch, O'Kelly & Tosiello (2013)
    and of Carpenter & Kenward (2013, ch. 10) for a missing final outcome. The two coincide when the outcome
    is the only incomplete variable (nothing else is imputed from it, and shifting a draw afterwards equals
    shifting it as it is drawn); when mediators are missing too, a shift inside the chain would also reach
    their imputations through the outcome, a second-order difference that would cost a new chain per δ.

    The *tipping point*, per direction, is the shift closest to 0 at which the verdict on an indirect
    effect (interval above 0, below 0, or including 0) differs from its verdict under MAR; it is located on
    the grid and refined by bisection between the last grid value with the MAR verdict and the first
    without.

    References
    ----------
    Carpenter, J. R., & Kenward, M. G. (2013). *Multiple Imputation and its Application*. Wiley.
    Ratitch, B., O'Kelly, M., & Tosiello, R. (2013). Missing data in clinical trials: from clinical
    assumptions to statistical analysis using pattern mixture models. *Pharmaceutical Statistics*, 12(6),
    337-347.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> n = 200
    >>> df = pd.DataFrame({"coaching": rng.integers(0, 2, n), "baseline": rng.normal(size=n)})
    >>> df["trust"] = 0.6 * df.coaching + 0.5 * df.baseline + rng.normal(size=n)
    >>> df["adoption"] = 0.5 * df.trust + 0.3 * df.baseline + rng.normal(size=n)
    >>> df.loc[(df.coaching == 1) & (rng.random(n) < 0.3), "adoption"] = np.nan
    >>> result = tipping_point(df, x="coaching", m="trust", y="adoption", auxiliary="baseline",
    ...                        n_imputations=5, deltas=[-2, -1, 0, 1, 2], seed=1)
    >>> sorted(result.tipping_points["indirect[trust]"])
    ['higher', 'lower']
    """
    _check_common("parallel", x_type, level, seed)
    _check_imputations(n_imputations, 0)
    _arguments.choice("shift", shift, ("treated", "control", "both"))
    grid = sorted(
        {0.0, *(_arguments.number("delta", d) for d in (DEFAULT_DELTAS if deltas is None else deltas))}
    )
    roles = _roles(data, x, m, y, covariates, auxiliary, cluster)
    imputer_rng, _ = as_generator(seed).spawn(2)
    imputer = _Imputer.build(data, roles, 10, imputer_rng)
    completed = [done[roles.analysis] for done in imputer.completed(int(n_imputations))]
    x_values, x_kind, _ = _code_strategy(imputer.frame[roles.x], roles.x, x_type, control)
    if shift != "both" and x_kind != "arm":
        raise DataError(
            f"shift='{shift}' needs a binary arm, but the strategy '{roles.x}' is a dose",
            hint="use shift='both' to shift every imputed outcome",
        )
    arm = {"treated": x_values == 1, "control": x_values == 0, "both": np.ones(x_values.size, bool)}[shift]
    shifted = imputer.missing[roles.y].to_numpy() & arm
    sd_y = float(imputer.frame[roles.y].std(ddof=1))
    options = {"x": roles.x, "m": roles.mediators, "y": roles.y, "covariates": roles.covariates,
               "cluster": roles.cluster, "x_type": x_type, "control": control, "level": level,
               "ci": "delta", "missing": "raise"}  # fmt: skip

    def pooled(delta: float) -> list[Effect]:
        fits = []
        for done in completed:
            moved = done.copy()
            moved.loc[shifted, roles.y] = moved.loc[shifted, roles.y] + delta * sd_y
            fits.append(mediate(moved, **options))
        effects, _ = _pool_fits(fits, level)
        return [e for e in effects if e.kind in ("indirect", "total_indirect", "total")]

    results = {delta: pooled(delta) for delta in grid}
    names = [e.name for e in results[0.0] if e.kind == "indirect"]
    tipping: dict[str, dict[str, float | None]] = {}
    for name in names:

        def verdict(delta: float, name: str = name) -> int:
            effect = next(e for e in (results.get(delta) or pooled(delta)) if e.name == name)
            return _verdict(effect.ci_low, effect.ci_high)  # type: ignore[arg-type]

        start = verdict(0.0)
        tipping[name] = {}
        for key, side in (
            ("lower", [d for d in reversed(grid) if d < 0]),
            ("higher", [d for d in grid if d > 0]),
        ):
            inside, found = 0.0, None
            for delta in side:
                if verdict(delta) != start:
                    found = delta
                    break
                inside = delta
            if found is not None:
                for _ in range(REFINE_STEPS):
                    middle = (inside + found) / 2
                    results[middle] = pooled(middle)
                    if verdict(middle) != start:
                        found = middle
                    else:
                        inside = middle
            tipping[name][key] = found
    rows = [
        {"delta": delta, "effect": e.name, "estimate": e.estimate, "se": e.se, "ci_low": e.ci_low,
         "ci_high": e.ci_high, "verdict": _verdict(e.ci_low, e.ci_high)}  # type: ignore[arg-type]
        for delta in sorted(results)
        for e in results[delta]
    ]  # fmt: skip
    method = (
        f"multiple imputation (PMM, m = {n_imputations}) under MAR, imputed outcomes shifted by delta x SD "
        f"({shift}); indirect effects pooled by Rubin's rules on the delta-method SE, total effect on its "
        f"t SE; {level:.0%} intervals"
    )
    info = {"method": method, "level": level, "n": len(imputer.frame), "n_dropped": imputer.n_dropped,
            "n_imputations": int(n_imputations), "shift": shift, "sd_y": sd_y, "x_type": x_kind}  # fmt: skip
    warnings = []
    if not shifted.any():
        warnings.append(
            f"no outcome value was imputed in the shifted arm(s) ({shift}): the shifts change nothing"
        )
    return TippingPointResult(
        effects=tuple(results[0.0]),
        info=info,
        warnings=tuple(warnings),
        x=roles.x,
        y=roles.y,
        shift=shift,
        sd_y=sd_y,
        table=pd.DataFrame(rows),
        tipping_points=tipping,
        n_shifted=int(shifted.sum()),
    )
