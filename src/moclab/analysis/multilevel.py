"""Multilevel mediation for clustered data: 2-1-1 and 1-1-1 designs, within- and between-cluster effects.

Implementation studies usually have recipients nested in sites or teams. This module estimates mediation with
mixed models (statsmodels MixedLM, REML) in the two designs where the mediator and the outcome are measured on
individuals:

* **2-1-1**: the strategy X is a cluster-level variable (a site-randomized strategy); M and Y are
  individual-level. The indirect effect can only be between clusters: a from M on X, b from Y on the cluster
  mean of M, with the within-cluster slope of M reported separately (Zhang, Zyphur & Preacher, 2009).
* **1-1-1**: X, M and Y all vary within clusters. X and M are split into within-cluster deviations and cluster
  means (Zhang et al., 2009; Bauer's centering note); the within-cluster a and b slopes are random, and the
  average within-cluster indirect effect is a·b + σ_ab (Bauer, Preacher & Gil, 2006), estimated with BPG's
  stacked model (`moclab.analysis.stacked_mixed`).

Intervals for indirect and total effects are Monte Carlo intervals (Preacher & Selig, 2012); the number of
clusters, cluster sizes, ICCs and design effects are reported with every result, and warnings say when there
are too few clusters for the method.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

from moclab.analysis import _arguments, _columns
from moclab.analysis.bootstrap import SeedLike, as_generator
from moclab.analysis.clustering import design_effect, icc_oneway
from moclab.analysis.diagram import (
    DiagramEdge,
    DiagramNode,
    PathDiagram,
    PathEstimate,
    mediation_parts,
    significance_stars,
)
from moclab.analysis.intervals import monte_carlo_draws, percentile_interval, wald_interval
from moclab.analysis.results import AnalysisResult, Effect
from moclab.analysis.stacked_mixed import StackedData, StackedFit, fit_mixedlm, fit_stacked
from moclab.errors import DataError

__all__ = [
    "FEW_CLUSTERS",
    "FEW_CLUSTERS_RANDOM_SLOPES",
    "ICC_REML_ESTIMATOR",
    "MIN_CLUSTERS",
    "MultilevelMediationResult",
    "icc",
    "multilevel_mediate",
]

#: Fewer clusters than this and no between-cluster variance can be estimated meaningfully: refused.
MIN_CLUSTERS = 5
#: Below this many clusters every multilevel estimate is fragile: level-2 variances are biased and their
#: standard errors too small, and z-based tests of fixed effects are liberal (Maas & Hox, 2005; McNeish &
#: Stapleton, 2016).
FEW_CLUSTERS = 10
#: Below this many clusters random slopes and their covariance (and so the average indirect effect a·b + σ_ab)
#: are estimated imprecisely; the usual rule of thumb for random slopes and cross-level effects is at least
#: 30 clusters (Kreft, 1996, the "30/30 rule", in Hox, Moerbeek & van de Schoot, 2018, ch. 12; Maas & Hox,
#: 2005, found level-2 variance standard errors too small at 30 clusters and fewer).
FEW_CLUSTERS_RANDOM_SLOPES = 30
#: Same threshold for between-cluster effects (2-1-1 and the between part of 1-1-1), which rest on the
#: cluster means: with few clusters the z-based intervals used here are too narrow (no small-sample
#: correction such as Kenward-Roger is available in statsmodels).
FEW_CLUSTERS_BETWEEN = 30

#: statsmodels' own default order: L-BFGS, the fastest for the stacked model, often fails from the default
#: start of a random-intercept model (see `moclab.analysis.stacked_mixed.fit_mixedlm`).
RANDOM_INTERCEPT_OPTIMIZERS = ("bfgs", "lbfgs", "cg")

_DESIGNS = ("1-1-1", "2-1-1")
_CENTERINGS = ("within", "none")
_RESIDUALS = ("heteroscedastic", "homoscedastic")


# --------------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class MultilevelMediationResult(AnalysisResult):
    """Result of `multilevel_mediate`: effects at each level plus the clustering that shaped them.

    Effects (``to_frame()`` has an ``effect_level`` column: "within", "between" or "pooled"):

    * ``a``, ``b``, ``direct``, ``indirect``, ``total``: the design's headline effects. In a 1-1-1 design they
      are within-cluster effects (``indirect`` is the average indirect effect a·b + σ_ab); in a 2-1-1 design
      they are between-cluster effects (``indirect`` = a·b with b the slope of the cluster mean of M).
      With ``center="none"`` (1-1-1) they blend both levels (level "pooled").
    * ``cov_ab`` (1-1-1 with random slopes): σ_ab, the covariance of the random a and b slopes.
    * ``a_between``, ``b_between``, ``direct_between``, ``indirect_between``, ``total_between`` (1-1-1,
      centred): the between-cluster effects of the cluster means.
    * ``b_within`` (2-1-1): the within-cluster slope of M on Y; no indirect effect runs through it.

    ``info`` holds the design, the number of clusters, cluster sizes, ICCs (``icc_estimator`` names the
    estimator: the REML variance share of a random-intercept model) and design effects of x, m and y, the
    random-effect (co)variances, residual variances, convergence and the fixed effects of every equation.
    """

    title = "Multilevel mediation"
    headline = ("indirect", "direct", "total", "indirect_between")

    @property
    def design(self) -> str:
        return str(self.info.get("design"))

    @property
    def n_clusters(self) -> int:
        return int(self.info.get("n_clusters", 0))

    @property
    def icc(self) -> dict[str, float]:
        return dict(self.info.get("icc", {}))

    def _header_lines(self) -> list[str]:
        info = self.info
        sizes = info.get("cluster_size", {})
        centering = {"within": "within-cluster centering", "none": "uncentered"}.get(
            info.get("center", ""), ""
        )
        lines = [
            f"{self.title}: {info.get('design')} design, {centering}",
            f"n = {info.get('n')} rows in {info.get('n_clusters')} clusters "
            f"(size min {sizes.get('min')}, median {_fmt(sizes.get('median'))}, max {sizes.get('max')})",
        ]
        names = info.get("variables", {})
        icc_values, deff = info.get("icc", {}), info.get("design_effect", {})
        parts = [
            f"{names.get(role, role)} {icc_values[role]:.3f} (design effect {deff.get(role, math.nan):.2f})"
            for role in ("x", "m", "y")
            if role in icc_values
        ]
        lines.append(f"{info.get('icc_estimator', ICC_REML_ESTIMATOR)}: " + "; ".join(parts))
        return lines

    def summary(self) -> str:
        """A readable report: clustering first, then the effects, random effects and warnings."""
        info = self.info
        lines = self._header_lines()
        residual = info.get("residual_variance", {})
        if residual:
            lines.append(
                "Level-1 residual variance: " + ", ".join(f"{k} {_fmt(v)}" for k, v in residual.items())
            )
        frame = self.to_frame()
        columns = [
            c
            for c in ("effect_level", "kind", "estimate", "se", "ci_low", "ci_high", "p", "ci_method")
            if c in frame
        ]
        table = frame[columns].to_string(float_format=lambda v: f"{v:.4f}", na_rep="")
        lines.extend(["", table, ""])
        random = info.get("random_effects")
        if random:
            lines.append("Random-effect covariance matrix (per cluster):")
            lines.append(pd.DataFrame(random).to_string(float_format=lambda v: f"{v:.4f}"))
        lines.append(f"Method: {info.get('method')}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "<br>".join(html.escape(line) for line in self._header_lines())
        frame = self.to_frame()
        columns = [
            c for c in ("effect_level", "kind", "estimate", "se", "ci_low", "ci_high", "p") if c in frame
        ]
        body = frame[columns].to_html(float_format=lambda v: f"{v:.4g}", na_rep="", border=0)
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return f"<div><strong>{head}</strong>{body}" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"

    # -- diagrams ------------------------------------------------------------------------------------------

    def _has(self, name: str) -> bool:
        return any(e.name == name for e in self.effects)

    def _panel(
        self, keys: dict[str, str], group: str | None, suffix: str, offset: float, digits: int
    ) -> tuple[list[DiagramNode], list[DiagramEdge]]:
        """One mediation triangle from the effects named in ``keys`` (path -> effect name), if present."""
        names = self.info.get("variables", {})
        x, m, y = names.get("x", "x"), names.get("m", "m"), names.get("y", "y")
        ends = {"a": (x, m), "b": (m, y)}
        paths = [
            PathEstimate(*ends[path], path, self.effect(name).estimate, self.effect(name).p)
            for path, name in keys.items()
            if path in ends and self._has(name)
        ]
        direct = None
        if self._has(keys["direct"]):
            effect = self.effect(keys["direct"])
            direct = f"c' = {effect.estimate:.{digits}f}{significance_stars(effect.p)}"
            if self._has(keys["total"]):
                direct += f" (c = {self.effect(keys['total']).estimate:.{digits}f})"
        return mediation_parts(
            x, [m], y, paths, direct=direct, digits=digits, group=group, id_suffix=suffix, x_offset=offset
        )

    def diagram(self, digits: int = 2) -> PathDiagram:
        """The fitted model as a `moclab.analysis.diagram.PathDiagram`: one panel per level.

        A 1-1-1 design centred within clusters gets a "within clusters" panel (a, b, c'; the average
        indirect effect a·b + σ_ab in its heading) and a "between clusters" panel of the cluster means; a
        2-1-1 design a "between clusters" panel (a, b of the cluster mean of M, c') and a "within
        clusters" panel with the within-cluster slope of M on Y.
        """
        names = self.info.get("variables", {})
        m, y = names.get("m", "m"), names.get("y", "y")

        def heading(level: str, indirect: str) -> str:
            if not self._has(indirect):
                return f"{level} clusters"
            effect = self.effect(indirect)
            return (
                f"{level} clusters: indirect = {effect.estimate:.{digits}f} "
                f"[{effect.ci_low:.{digits}f}, {effect.ci_high:.{digits}f}]"
            )

        nodes: list[DiagramNode] = []
        edges: list[DiagramEdge] = []
        ranks: list[tuple[str, ...]] = []
        within_keys = {"a": "a", "b": "b", "direct": "direct", "total": "total"}
        between_keys = {
            "a": "a_between",
            "b": "b_between",
            "direct": "direct_between",
            "total": "total_between",
        }
        x = names.get("x", "x")
        if self.design == "2-1-1":
            parts = self._panel(within_keys, heading("Between", "indirect"), " (between)", 0.0, digits)
            nodes += parts[0]
            edges += parts[1]
            ranks.append((f"{x} (between)", f"{y} (between)"))
            b_within = self.effect("b_within")
            value = f"{b_within.estimate:.{digits}f}{significance_stars(b_within.p)}"
            group = "Within clusters"
            nodes += [
                DiagramNode(f"{m} (within)", (1.6, 0.5), m, group),
                DiagramNode(f"{y} (within)", (2.6, 0.5), y, group),
            ]
            edges.append(DiagramEdge(f"{m} (within)", f"{y} (within)", f"b = {value}", value))
        elif self.info.get("center") == "within":
            parts = self._panel(within_keys, heading("Within", "indirect"), " (within)", 0.0, digits)
            nodes += parts[0]
            edges += parts[1]
            ranks.append((f"{x} (within)", f"{y} (within)"))
            if any(self._has(name) for name in ("a_between", "b_between", "direct_between")):
                parts = self._panel(
                    between_keys, heading("Between", "indirect_between"), " (between)", 1.6, digits
                )
                nodes += parts[0]
                edges += parts[1]
                ranks.append((f"{x} (between)", f"{y} (between)"))
        else:
            nodes, edges = self._panel(within_keys, None, "", 0.0, digits)
            ranks.append((x, y))
        wide = max(node.position[0] for node in nodes) > 1.0
        title = f"{self.title} ({self.design}); n = {self.info.get('n')} in {self.n_clusters} clusters"
        if self.info.get("random_slopes") and self._has("cov_ab"):
            title += f"; σ_ab = {self.effect('cov_ab').estimate:.{digits}f}"
        return PathDiagram(
            tuple(nodes),
            tuple(edges),
            title=title,
            same_rank=tuple(ranks),
            figsize=(12.0 if wide else 7.5, 3.6),
        )

    def to_dot(self, digits: int = 2) -> str:
        """Graphviz DOT text of the path diagram (one ``cluster`` subgraph per level), see `diagram`."""
        return self.diagram(digits).to_dot()

    def plot(self, ax: Any = None, digits: int = 2) -> Any:
        """Draw the path diagram (panels side by side for the levels) and return the matplotlib Axes."""
        return self.diagram(digits).plot(ax)


def _fmt(value: Any) -> str:
    if value is None:
        return "NA"
    if isinstance(value, float):
        return "NA" if not math.isfinite(value) else f"{value:.3g}"
    return str(value)


# --------------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------------


def _within_variation(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Per cluster, whether the values vary (range larger than rounding noise)."""
    low = np.full(n_clusters, np.inf)
    high = np.full(n_clusters, -np.inf)
    np.minimum.at(low, codes, values)
    np.maximum.at(high, codes, values)
    scale = max(float(np.std(values)), float(np.max(np.abs(values))), 1e-300)
    return (high - low) > 1e-10 * scale


def _cluster_means(values: np.ndarray, codes: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    return (np.bincount(codes, weights=values, minlength=sizes.size) / sizes)[codes]


@dataclass(frozen=True)
class _Prepared:
    values: dict[str, np.ndarray]
    codes: np.ndarray
    labels: np.ndarray
    sizes: np.ndarray
    n_dropped: int
    note: str | None


#: The role of every variable in the messages ("covariate:age" is a covariate).
_ROLES = {"x": "strategy", "m": "mediator", "y": "outcome", "variable": "variable"}


def _prepare(data: pd.DataFrame, columns: dict[str, str], cluster: str) -> _Prepared:
    """Listwise deletion, numeric checks and cluster codes (the one place raw data is validated)."""
    data = _columns.data_frame(data)
    roles = [(_ROLES.get(key, key.split(":")[0]), name) for key, name in columns.items()]
    _columns.check_columns(data, [*roles, ("cluster", cluster)])
    frame, n_dropped, note = _columns.complete_rows(data[[*columns.values(), cluster]])
    values = {}
    for (key, name), (role, _) in zip(columns.items(), roles, strict=True):
        values[key] = _columns.numeric_values(frame[name], role, name)
        _columns.check_not_constant(values[key], role, name)
    codes, labels = pd.factorize(frame[cluster], sort=True)
    sizes = np.bincount(codes).astype(np.float64)
    return _Prepared(values, codes.astype(np.int64), np.asarray(labels), sizes, n_dropped, note)


def _check_options(
    design: str | None,
    center: str,
    residuals: str,
    n_mc: int,
    level: float,
    seed: SeedLike,
    random_slopes: bool | None,
) -> None:
    _arguments.choice("design", design, (*_DESIGNS, None))
    _arguments.choice("center", center, _CENTERINGS)
    _arguments.choice("residuals", residuals, _RESIDUALS)
    _arguments.choice("random_slopes", random_slopes, (None, True, False))
    _arguments.check(n_mc=n_mc, min_mc=1000, level=level, seed=seed)


# --------------------------------------------------------------------------------------------------------
# ICC
# --------------------------------------------------------------------------------------------------------


#: The name of the ICC(1) estimator of `multilevel_mediate` and `icc(method="reml")`. It differs from the
#: one-way ANOVA estimator of `mediate` and `moclab score` (`moclab.analysis.clustering.ICC_ANOVA_ESTIMATOR`)
#: for unequal clusters: the two are different estimators of the same τ²/(τ² + σ²).
ICC_REML_ESTIMATOR = "ICC(1), REML variance components of a random-intercept model"


def _icc_reml(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> float:
    """τ²/(τ² + σ²) of a random-intercept model fitted by REML: moclab's one REML ICC."""
    if not np.any(_within_variation(values, codes, n_clusters)):
        return 1.0  # no within-cluster variance: all of it lies between clusters
    # Start at the ANOVA estimate (closed form; equal to REML for balanced clusters), which saves most of
    # MixedLM's iterations.
    anova = icc_oneway(values, codes)
    ratio = max(anova / (1 - anova), 1e-3) if np.isfinite(anova) and anova < 1 else 1.0
    start = MixedLMParams.from_components(fe_params=np.array([values.mean()]), cov_re=np.array([[ratio]]))
    fitted, _ = fit_mixedlm(
        MixedLM(values, np.ones((values.size, 1)), codes), start=start, optimizers=RANDOM_INTERCEPT_OPTIMIZERS
    )
    between = float(np.asarray(fitted.cov_re)[0, 0])
    return between / (between + float(fitted.scale))


def icc(data: pd.DataFrame, variable: str, cluster: str, *, method: str = "reml") -> float:
    """Intraclass correlation ICC(1) of one variable: the share of its variance that lies between clusters.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per individual.
    variable : str
        The numeric column.
    cluster : str
        The column identifying clusters (site, team).
    method : {"reml", "anova"}
        ``"reml"`` (`ICC_REML_ESTIMATOR`, what `multilevel_mediate` reports): τ²/(τ² + σ²) from a
        random-intercept model fitted by REML (statsmodels MixedLM), never negative. ``"anova"``
        (`moclab.analysis.clustering.ICC_ANOVA_ESTIMATOR`, what `mediate` and `moclab score` report): the
        one-way ANOVA estimator with n0 (`moclab.analysis.clustering.oneway_anova_icc`), which can be
        slightly negative.

    Returns
    -------
    float
        The ICC; 1.0 when the variable does not vary within any cluster (a cluster-level variable).

    Raises
    ------
    DataError
        Missing columns, a non-numeric or constant variable, fewer than two clusters, or no cluster with more
        than one row.

    Notes
    -----
    The random-intercept model is ``v_ij = μ + u_j + e_ij`` with ``Var(u_j) = τ²`` and
    ``Var(e_ij) = σ²``; ICC(1) = τ²/(τ² + σ²). The ANOVA estimator is ``(MSB - MSW)/(MSB + (ñ - 1)MSW)``
    with the effective cluster size ñ = n0 = (N - Σn_j²/N)/(J - 1). For balanced clusters and a positive
    estimate the two coincide; for unequal clusters they differ (REML weighs clusters by their size through
    the likelihood, ANOVA through n0). Rows with a missing value are dropped.

    References
    ----------
    Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel Analysis* (2nd ed.), sec. 3.3. Sage.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"site": [1, 1, 2, 2, 3, 3], "trust": [1.0, 1.2, 3.0, 3.1, 5.0, 5.3]})
    >>> round(icc(frame, "trust", "site", method="anova"), 3)
    0.994
    """
    _arguments.choice("method", method, ("reml", "anova"))
    prepared = _prepare(data, {"variable": variable}, cluster)
    values, codes, sizes = prepared.values["variable"], prepared.codes, prepared.sizes
    if sizes.size < 2:
        raise DataError(f"'{cluster}' has {sizes.size} cluster; an ICC needs at least two clusters")
    if np.all(sizes == 1):
        raise DataError(
            f"every cluster of '{cluster}' has a single row, so within- and between-cluster variance cannot "
            "be separated"
        )
    if method == "anova":
        if not np.any(_within_variation(values, codes, sizes.size)):
            return 1.0
        return icc_oneway(values, codes)
    return _icc_reml(values, codes, sizes.size)


# --------------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Term:
    """One fixed effect: the equation ('m' or 'y'), a label, and its column index in the fitted model."""

    equation: str
    label: str
    index: int


def _wald_effect(
    name: str, kind: str, estimate: float, se: float, level: float, where: str, **extra: Any
) -> Effect:
    low, high, p = wald_interval(estimate, se, level)
    return Effect(
        name,
        kind,
        float(estimate),
        float(se),
        float(low),
        float(high),
        float(p),
        "wald",
        {"effect_level": where, **extra},
    )


def _mc_effect(
    name: str, kind: str, estimate: float, draws: np.ndarray, level: float, where: str, **extra: Any
) -> Effect:
    low, high = percentile_interval(draws, None, level)
    extra = {"effect_level": where, "se_method": "monte_carlo_sd", **extra}
    return Effect(
        name,
        kind,
        float(estimate),
        float(np.std(draws, ddof=1)),
        float(low),
        float(high),
        None,
        "monte_carlo",
        extra,
    )


def _bpg_indirect_se(
    a: float, b: float, var_a: float, var_b: float, cov_ab: float, var_sigma: float
) -> float:
    """Analytic SE of â·b̂ + σ̂_ab (Bauer, Preacher & Gil, 2006; exact variance of a product of normals)."""
    variance = b**2 * var_a + a**2 * var_b + 2 * a * b * cov_ab + var_a * var_b + cov_ab**2 + var_sigma
    return math.sqrt(max(variance, 0.0))


def _fit_random_intercept(
    response: np.ndarray, design: np.ndarray, codes: np.ndarray, labels: Sequence[str]
) -> StackedFit:
    """Random-intercept REML fit of one equation (MixedLM start, then `fit_stacked`'s maximization)."""
    data = StackedData(
        endog=response,
        exog=design,
        exog_re=np.ones((response.size, 1)),
        groups=codes,
        residual_group=np.zeros(response.size, dtype=np.int64),
        exog_names=tuple(labels),
        re_names=("intercept",),
    )
    try:
        return fit_stacked(data, heteroscedastic=False)
    except (np.linalg.LinAlgError, ValueError) as error:
        raise DataError(f"the random-intercept model could not be fitted: {error}") from error


def _boundary_message(fit: StackedFit, names: Sequence[str]) -> str | None:
    """A warning when the random-effect covariance matrix is at the edge of the parameter space."""
    if fit.boundary:
        at_zero = ", ".join(names[k] for k in fit.boundary)
        return (
            f"the variance of {at_zero} is estimated at (or near) zero, a boundary solution: that random "
            "effect is not supported by the data, its covariances (σ_ab included) sit at the boundary and "
            "tests that involve them are unreliable; consider random_slopes=False"
        )
    sd = np.sqrt(np.diag(fit.re_cov))
    correlation = fit.re_cov / np.outer(sd, sd)
    np.fill_diagonal(correlation, 0.0)
    if np.max(np.abs(correlation)) > 0.999:
        i, j = np.unravel_index(np.argmax(np.abs(correlation)), correlation.shape)
        return (
            f"the random effects {names[i]} and {names[j]} are estimated as perfectly correlated, a boundary "
            "solution: the random-effect covariance matrix is singular and σ_ab is unreliable; consider "
            "random_slopes=False"
        )
    return None


def _fixed_table(fit_params: np.ndarray, fit_cov: np.ndarray, terms: Sequence[_Term]) -> list[dict[str, Any]]:
    return [
        {
            "equation": term.equation,
            "term": term.label,
            "estimate": float(fit_params[term.index]),
            "se": float(math.sqrt(fit_cov[term.index, term.index])),
        }
        for term in terms
    ]


def _matrix_dict(matrix: np.ndarray, names: Sequence[str]) -> dict[str, dict[str, float]]:
    return {names[i]: {names[j]: float(matrix[i, j]) for j in range(len(names))} for i in range(len(names))}


def _mediate_111(
    prepared: _Prepared,
    names: dict[str, str],
    covariates: Sequence[str],
    *,
    center: str,
    random_slopes: bool,
    random_direct: bool,
    heteroscedastic: bool,
    n_mc: int,
    level: float,
    rng: np.random.Generator,
    notes: list[str],
) -> tuple[list[Effect], dict[str, Any]]:
    values, codes, sizes = prepared.values, prepared.codes, prepared.sizes
    x_name, m_name, y_name = names["x"], names["m"], names["y"]
    n = codes.size
    x, m = values["x"], values["m"]
    between_x = between_m = False
    if center == "within":
        x_between, m_between = _cluster_means(x, codes, sizes), _cluster_means(m, codes, sizes)
        x_level1, m_level1 = x - x_between, m - m_between
        cluster_level = np.unique(codes, return_index=True)[1]
        between_x = float(np.var(x_between[cluster_level])) > 1e-10 * float(np.var(x))
        between_m = float(np.var(m_between[cluster_level])) > 1e-10 * float(np.var(m))
        if not between_x:
            notes.append(
                f"'{x_name}' has the same mean in every cluster (e.g. it was already centred within clusters "
                "or is balanced within each cluster), so its between-cluster effects cannot be estimated and "
                "are not reported"
            )
        if not between_m:
            notes.append(
                f"'{m_name}' has the same mean in every cluster, so the between-cluster b path and indirect "
                "effect cannot be estimated and are not reported"
            )
        x_label, m_label = f"{x_name} (within)", f"{m_name} (within)"
    else:
        x_level1, m_level1 = x, m
        x_label, m_label = x_name, m_name
    sel_m = np.concatenate([np.ones(n), np.zeros(n)])
    sel_y = 1.0 - sel_m

    def twice(v: np.ndarray) -> np.ndarray:
        return np.concatenate([v, v])

    columns: list[np.ndarray] = []
    terms: dict[str, _Term] = {}

    def add(key: str, equation: str, label: str, column: np.ndarray) -> None:
        terms[key] = _Term(equation, label, len(columns))
        columns.append(column)

    add("m_intercept", m_name, "intercept", sel_m)
    add("a", m_name, x_label, sel_m * twice(x_level1))
    if between_x:
        add("a_between", m_name, f"{x_name} (cluster mean)", sel_m * twice(x_between))
    for c in covariates:
        add(f"m_{c}", m_name, c, sel_m * twice(values[f"covariate:{c}"]))
    add("y_intercept", y_name, "intercept", sel_y)
    add("b", y_name, m_label, sel_y * twice(m_level1))
    if between_m:
        add("b_between", y_name, f"{m_name} (cluster mean)", sel_y * twice(m_between))
    add("direct", y_name, x_label, sel_y * twice(x_level1))
    if between_x:
        add("direct_between", y_name, f"{x_name} (cluster mean)", sel_y * twice(x_between))
    for c in covariates:
        add(f"y_{c}", y_name, c, sel_y * twice(values[f"covariate:{c}"]))
    exog = np.column_stack(columns)
    for equation, rows in ((m_name, slice(0, n)), (y_name, slice(n, 2 * n))):
        active = [t for t in terms.values() if t.equation == equation]
        _columns.check_full_rank(
            exog[rows][:, [t.index for t in active]], [t.label for t in active], f"'{equation}'"
        )

    re_columns = [sel_m, sel_y]
    re_names = [f"{m_name} intercept", f"{y_name} intercept"]
    if random_slopes:
        re_columns += [exog[:, terms["a"].index], exog[:, terms["b"].index]]
        re_names += [f"a: {x_label} → {m_name}", f"b: {m_label} → {y_name}"]
    if random_direct:
        re_columns.append(exog[:, terms["direct"].index])
        re_names.append(f"c': {x_label} → {y_name}")
    stacked = StackedData(
        endog=np.concatenate([m, values["y"]]),
        exog=exog,
        exog_re=np.column_stack(re_columns),
        groups=np.concatenate([codes, codes]),
        residual_group=np.concatenate([np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)]),
        exog_names=tuple(f"{t.equation}: {t.label}" for t in terms.values()),
        re_names=tuple(re_names),
        # With m's cluster mean as a predictor of y, the covariance of the two random intercepts and the
        # between-cluster slope b_B both describe how cluster means of m and y go together, and the model
        # cannot tell them apart (the likelihood is flat along one direction); b_B carries that association
        # in Zhang, Zyphur & Preacher's decomposition, so the intercept covariance is held at zero.
        zero_covariances=((1, 0),) if between_m else (),
    )
    try:
        fit: StackedFit = fit_stacked(stacked, heteroscedastic=heteroscedastic)
    except (np.linalg.LinAlgError, ValueError) as error:
        raise DataError(
            f"the stacked mixed model could not be fitted: {error}",
            hint="try random_slopes=False, or check for clusters with too few rows",
        ) from error
    if not fit.converged:
        notes.append(
            "the REML maximization of the stacked mixed model did not converge: the estimates may not be the "
            "REML solution; consider random_slopes=False or rescaling the variables"
        )
    boundary = _boundary_message(fit, re_names)
    if boundary:
        notes.append(boundary)
    beta, beta_cov = fit.fe_params, fit.fe_cov

    def est(key: str) -> float:
        return float(beta[terms[key].index])

    def se(key: str) -> float:
        return float(math.sqrt(beta_cov[terms[key].index, terms[key].index]))

    where = "within" if center == "within" else "pooled"
    effects = [
        _wald_effect("a", "a", est("a"), se("a"), level, where),
        _wald_effect("b", "b", est("b"), se("b"), level, where),
        _wald_effect("direct", "direct", est("direct"), se("direct"), level, where),
    ]
    # Monte Carlo draws of the fixed effects (joint normal, covariances from the stacked model) and of σ_ab
    # (independent of them: REML fixed effects and covariance parameters are asymptotically uncorrelated).
    keys = [k for k in ("a", "b", "direct", "a_between", "b_between", "direct_between") if k in terms]
    index = [terms[k].index for k in keys]
    mean = beta[index]
    covariance = beta_cov[np.ix_(index, index)]
    sigma_ab, var_sigma = 0.0, 0.0
    if random_slopes:
        position = fit.theta_index(2, 3)
        sigma_ab = float(fit.theta[position])
        if fit.theta_cov is not None and np.isfinite(fit.theta_cov[position, position]):
            var_sigma = float(fit.theta_cov[position, position])
            low, high, p = wald_interval(sigma_ab, math.sqrt(var_sigma), level)
            effects.append(
                Effect(
                    "cov_ab",
                    "random_covariance",
                    sigma_ab,
                    math.sqrt(var_sigma),
                    low,
                    high,
                    p,
                    "wald",
                    {"effect_level": where},
                )
            )
        else:
            if {2, 3} & set(fit.boundary):
                reason = "a random slope variance is zero, so σ_ab sits at the boundary"
            else:
                reason = "the information matrix of the random-effect covariances is not positive definite"
            notes.append(
                f"σ_ab has no standard error ({reason}); the Monte Carlo interval of the indirect effect "
                "treats σ_ab as known"
            )
            effects.append(
                Effect(
                    "cov_ab",
                    "random_covariance",
                    sigma_ab,
                    None,
                    None,
                    None,
                    None,
                    None,
                    {"effect_level": where},
                )
            )
        mean = np.append(mean, sigma_ab)
        covariance = np.pad(covariance, ((0, 1), (0, 1)))
        covariance[-1, -1] = var_sigma
    draws = monte_carlo_draws(mean, covariance, n_mc, rng)
    column = {k: draws[:, i] for i, k in enumerate(keys)}
    sigma_draws = draws[:, -1] if random_slopes else 0.0
    a, b = est("a"), est("b")
    i_a, i_b = terms["a"].index, terms["b"].index
    indirect = a * b + sigma_ab
    analytic = _bpg_indirect_se(a, b, beta_cov[i_a, i_a], beta_cov[i_b, i_b], beta_cov[i_a, i_b], var_sigma)
    indirect_draws = column["a"] * column["b"] + sigma_draws
    effects.append(
        _mc_effect(
            "indirect",
            "indirect",
            indirect,
            indirect_draws,
            level,
            where,
            ab=a * b,
            cov_ab=sigma_ab,
            se_analytic=analytic,
        )
    )
    effects.append(
        _mc_effect(
            "total", "total", est("direct") + indirect, column["direct"] + indirect_draws, level, where
        )
    )
    if between_x:
        effects.append(_wald_effect("a_between", "a", est("a_between"), se("a_between"), level, "between"))
    if between_m:
        effects.append(_wald_effect("b_between", "b", est("b_between"), se("b_between"), level, "between"))
    if between_x:
        effects.append(
            _wald_effect(
                "direct_between", "direct", est("direct_between"), se("direct_between"), level, "between"
            )
        )
    if between_x and between_m:
        between = est("a_between") * est("b_between")
        between_draws = column["a_between"] * column["b_between"]
        effects.append(_mc_effect("indirect_between", "indirect", between, between_draws, level, "between"))
        effects.append(
            _mc_effect(
                "total_between",
                "total",
                est("direct_between") + between,
                column["direct_between"] + between_draws,
                level,
                "between",
            )
        )
    info = {
        "random_effects": _matrix_dict(fit.re_cov, re_names),
        "residual_variance": {
            m_name: float(fit.residual_variances[0]),
            y_name: float(fit.residual_variances[-1]),
        },
        "fixed_effects": _fixed_table(beta, beta_cov, list(terms.values())),
        "converged": fit.converged,
        "reml_iterations": fit.iterations,
        "loglik_reml": fit.loglik,
    }
    return effects, info


def _mediate_211(
    prepared: _Prepared,
    names: dict[str, str],
    covariates: Sequence[str],
    *,
    n_mc: int,
    level: float,
    rng: np.random.Generator,
    notes: list[str],
) -> tuple[list[Effect], dict[str, Any]]:
    values, codes, sizes = prepared.values, prepared.codes, prepared.sizes
    x_name, m_name, y_name = names["x"], names["m"], names["y"]
    n = codes.size
    x, m, y = values["x"], values["m"], values["y"]
    m_between = _cluster_means(m, codes, sizes)
    m_within = m - m_between
    covariate_columns = [values[f"covariate:{c}"] for c in covariates]
    design_m = np.column_stack([np.ones(n), x, *covariate_columns])
    labels_m = ["intercept", x_name, *covariates]
    design_y = np.column_stack([np.ones(n), m_between, m_within, x, *covariate_columns])
    labels_y = ["intercept", f"{m_name} (cluster mean)", f"{m_name} (within)", x_name, *covariates]
    _columns.check_full_rank(design_m, labels_m, f"'{m_name}'")
    _columns.check_full_rank(design_y, labels_y, f"'{y_name}'")
    fit_m = _fit_random_intercept(m, design_m, codes, labels_m)
    fit_y = _fit_random_intercept(y, design_y, codes, labels_y)
    beta_m, cov_m, beta_y, cov_y = fit_m.fe_params, fit_m.fe_cov, fit_y.fe_params, fit_y.fe_cov
    tau_m, tau_y = float(fit_m.re_cov[0, 0]), float(fit_y.re_cov[0, 0])
    sigma_m, sigma_y = float(fit_m.residual_variances[0]), float(fit_y.residual_variances[0])
    for name, fit in ((m_name, fit_m), (y_name, fit_y)):
        if not fit.converged:
            notes.append(f"the REML maximization of the random-intercept model for '{name}' did not converge")
        if fit.boundary:
            notes.append(
                f"the random-intercept variance of '{name}' is estimated at (or near) zero: after the "
                "predictors the clusters hardly differ, so the between-cluster effects rest on little "
                "information"
            )
    a, b, b_within, direct = beta_m[1], beta_y[1], beta_y[2], beta_y[3]
    se_a, se_b = math.sqrt(cov_m[1, 1]), math.sqrt(cov_y[1, 1])
    effects = [
        _wald_effect("a", "a", a, se_a, level, "between"),
        _wald_effect("b", "b", b, se_b, level, "between"),
        _wald_effect("direct", "direct", direct, math.sqrt(cov_y[3, 3]), level, "between"),
        _wald_effect("b_within", "b", b_within, math.sqrt(cov_y[2, 2]), level, "within"),
    ]
    # a comes from the mediator model, b and c' from the outcome model: a is independent of (b, c').
    covariance = np.zeros((3, 3))
    covariance[0, 0] = cov_m[1, 1]
    covariance[1:, 1:] = cov_y[np.ix_([1, 3], [1, 3])]
    draws = monte_carlo_draws(np.array([a, b, direct]), covariance, n_mc, rng)
    indirect_draws = draws[:, 0] * draws[:, 1]
    effects.append(_mc_effect("indirect", "indirect", a * b, indirect_draws, level, "between"))
    effects.append(
        _mc_effect("total", "total", direct + a * b, draws[:, 2] + indirect_draws, level, "between")
    )
    terms_m = [_Term(m_name, label, i) for i, label in enumerate(labels_m)]
    terms_y = [_Term(y_name, label, i) for i, label in enumerate(labels_y)]
    info = {
        "random_effects": {
            f"{m_name} intercept": {f"{m_name} intercept": tau_m},
            f"{y_name} intercept": {f"{y_name} intercept": tau_y},
        },
        "residual_variance": {m_name: sigma_m, y_name: sigma_y},
        "fixed_effects": _fixed_table(beta_m, cov_m, terms_m) + _fixed_table(beta_y, cov_y, terms_y),
        "converged": fit_m.converged and fit_y.converged,
        "loglik_reml": {m_name: fit_m.loglik, y_name: fit_y.loglik},
    }
    return effects, info


# --------------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------------


def multilevel_mediate(
    data: pd.DataFrame,
    *,
    x: str,
    m: str,
    y: str,
    cluster: str,
    design: str | None = None,
    covariates: Sequence[str] = (),
    random_slopes: bool | None = None,
    random_direct: bool = False,
    center: str = "within",
    residuals: str = "heteroscedastic",
    n_mc: int = 20_000,
    level: float = 0.95,
    seed: SeedLike = None,
) -> MultilevelMediationResult:
    """Mediation with individuals nested in clusters: 2-1-1 and 1-1-1 designs, within and between clusters.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per individual (recipient, staff member, or occasion within a person).
    x, m, y : str
        Columns of the strategy (or predictor), the mechanism (mediator) and the outcome. All numeric; a
        two-arm strategy coded 0/1.
    cluster : str
        Column identifying the cluster (site, team, person for repeated measures).
    design : {"1-1-1", "2-1-1"}, optional
        Levels of x, m and y. Inferred when omitted: "2-1-1" if x is constant within every cluster, "1-1-1"
        otherwise.
    covariates : sequence of str
        Numeric columns added as fixed predictors to both equations, as they are (not decomposed into
        within and between parts: centre them yourself if that matters).
    random_slopes : bool, optional
        1-1-1 only: random a and b slopes (default True), whose covariance σ_ab enters the average indirect
        effect. False fits random intercepts only. 2-1-1 models always have random intercepts only.
    random_direct : bool
        1-1-1 only: also a random slope for the direct effect c' (BPG's full model).
    center : {"within", "none"}
        "within" (default) splits x and m into within-cluster deviations and cluster means, so within- and
        between-cluster effects are estimated separately (Zhang, Zyphur & Preacher, 2009). "none" (1-1-1 only)
        uses them as they are, as in the original BPG model; its a and b then blend both levels.
    residuals : {"heteroscedastic", "homoscedastic"}
        1-1-1 only: separate level-1 residual variances for the mediator and the outcome equation (default,
        as BPG 2006) or one shared variance.
    n_mc : int
        Monte Carlo draws for the indirect and total effects.
    level : float
        Confidence level of all intervals.
    seed : int, numpy.random.Generator or None
        Source of randomness for the Monte Carlo intervals.

    Returns
    -------
    MultilevelMediationResult
        Effects (see `MultilevelMediationResult`) and ``info`` with the design, ``n_clusters``, cluster sizes,
        ICCs and design effects of x, m and y, random-effect (co)variances, residual variances, convergence
        and the fixed effects of both equations.

    Raises
    ------
    DataError
        Missing or non-numeric columns, a constant variable, fewer than `MIN_CLUSTERS` clusters, every
        cluster of size 1, a mediator or outcome that does not vary within clusters, an x that varies within
        clusters in a 2-1-1 design (or does not in a 1-1-1 design), collinear predictors, or a model that
        cannot be fitted.

    Notes
    -----
    **2-1-1** (X_j at the cluster level). Two random-intercept models, fitted separately by REML:

    ``M_ij = γ_M + a X_j + u_Mj + e_Mij``

    ``Y_ij = γ_Y + b (M̄_j) + b_W (M_ij - M̄_j) + c' X_j + u_Yj + e_Yij``

    The indirect effect a·b is a between-cluster effect: X can only change M's cluster mean, and only the
    between-cluster slope b carries that change to Y. Using M uncentred would blend b with the within slope
    b_W and bias the indirect effect (Zhang, Zyphur & Preacher, 2009), which is why ``center="none"`` is
    refused for 2-1-1. The Monte Carlo interval draws a and (b, c') from independent normal distributions
    (different models).

    **1-1-1**, centred within clusters (x_W = x - x̄_j, m_W = m - m̄_j):

    ``M_ij = d_Mj + a_j x_W + a_B x̄_j + e_Mij``

    ``Y_ij = d_Yj + b_j m_W + b_B m̄_j + c'_j x_W + c'_B x̄_j + e_Yij``

    with random intercepts d_Mj, d_Yj and random slopes a_j = a + u_aj, b_j = b + u_bj (and c'_j with
    ``random_direct``), all in one unstructured covariance matrix. The average within-cluster indirect effect
    is ``E(a_j b_j) = a·b + σ_ab`` (Kenny, Korchmaros & Bolger, 2003; Bauer, Preacher & Gil, 2006) and the
    average total effect ``c' + a·b + σ_ab``. The between-cluster indirect effect is a_B·b_B. Both equations
    are fitted jointly as one mixed model on stacked data (BPG 2006) so that σ_ab is estimated, with
    separate residual variances per equation; see `moclab.analysis.stacked_mixed`.

    **Inference.** Paths use Wald z intervals from the REML covariance of the fixed effects (no small-sample
    degrees-of-freedom correction). Indirect and total effects use Monte Carlo intervals (Preacher & Selig,
    2012): the fixed effects are drawn from their joint normal distribution and σ_ab independently from
    N(σ̂_ab, Var(σ̂_ab)), with Var(σ̂_ab) from the observed REML information; their ``se`` is the SD of the
    draws, and the indirect effect also carries BPG's analytic SE in ``extra["se_analytic"]``:
    ``Var(âb̂ + σ̂_ab) = b²Var(a) + a²Var(b) + 2ab Cov(a,b) + Var(a)Var(b) + Cov(a,b)² + Var(σ̂_ab)``.
    Not propagated: the uncertainty of the other variance parameters and of the residual variance ratio
    (they do not enter the indirect effect), and the sampling error of the observed cluster means used as
    between-cluster predictors (which attenuates between-cluster effects when clusters are small; a latent
    cluster-mean model, multilevel SEM, would correct it; Lüdtke et al., 2008).

    Rows with a missing value in any used column are dropped (listwise) and counted in ``info["n_dropped"]``.

    References
    ----------
    Bauer, D. J., Preacher, K. J., & Gil, K. M. (2006). Conceptualizing and testing random indirect effects
    and moderated mediation in multilevel models: New procedures and recommendations. *Psychological
    Methods*, 11(2), 142-163.
    Kenny, D. A., Korchmaros, J. D., & Bolger, N. (2003). Lower level mediation in multilevel models.
    *Psychological Methods*, 8(2), 115-128.
    Zhang, Z., Zyphur, M. J., & Preacher, K. J. (2009). Testing multilevel mediation using hierarchical linear
    models: Problems and solutions. *Organizational Research Methods*, 12(4), 695-719.
    Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for indirect
    effects. *Communication Methods and Measures*, 6(2), 77-98.
    Lüdtke, O., Marsh, H. W., Robitzsch, A., Trautwein, U., Asparouhov, T., & Muthén, B. (2008). The
    multilevel latent covariate model. *Psychological Methods*, 13(3), 203-229.
    Maas, C. J. M., & Hox, J. J. (2005). Sufficient sample sizes for multilevel modeling. *Methodology*, 1(3),
    86-92.
    McNeish, D. M., & Stapleton, L. M. (2016). The effect of small sample size on two-level model estimates: A
    review and illustration. *Educational Psychology Review*, 28(2), 295-314.

    Examples
    --------
    A site-randomized strategy (2-1-1): 40 sites of 15 recipients.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> site = np.repeat(np.arange(40), 15)
    >>> arm = np.repeat(rng.integers(0, 2, 40), 15)
    >>> trust = 0.5 * arm + rng.normal(0, 0.5, 40)[site] + rng.normal(size=600)
    >>> trust_site = pd.Series(trust).groupby(site).transform("mean").to_numpy()
    >>> site_effect = rng.normal(0, 0.4, 40)[site]
    >>> adoption = 0.6 * trust_site + 0.2 * (trust - trust_site) + site_effect + rng.normal(size=600)
    >>> frame = pd.DataFrame({"site": site, "arm": arm, "trust": trust, "adoption": adoption})
    >>> result = multilevel_mediate(frame, x="arm", m="trust", y="adoption", cluster="site", seed=1)
    >>> result.design, result.n_clusters
    ('2-1-1', 40)
    >>> effect = result.effect("indirect")
    >>> bool(effect.ci_low < effect.estimate < effect.ci_high)
    True
    """
    _check_options(design, center, residuals, n_mc, level, seed, random_slopes)
    covariates = list(covariates) if not isinstance(covariates, str) else [covariates]
    names = {"x": x, "m": m, "y": y}
    columns = {**names, **{f"covariate:{c}": c for c in covariates}}
    prepared = _prepare(data, columns, cluster)
    codes, sizes = prepared.codes, prepared.sizes
    n_clusters = int(sizes.size)
    notes: list[str] = [prepared.note] if prepared.note else []
    if n_clusters < MIN_CLUSTERS:
        raise DataError(
            f"'{cluster}' has only {n_clusters} clusters; a multilevel model needs at least {MIN_CLUSTERS} "
            "to estimate between-cluster variance",
            hint="with so few clusters, use mediate() with the clusters as fixed-effect dummies (covariates)",
        )
    if np.all(sizes == 1):
        raise DataError(
            f"every cluster of '{cluster}' has a single row, so the data are not clustered",
            hint="use moclab.analysis.mediate for unclustered data, or check the cluster column",
        )
    singletons = int(np.sum(sizes == 1))
    if singletons:
        notes.append(
            f"{singletons} of {n_clusters} clusters have a single row: they inform only the between-cluster "
            "part and the random intercepts, not within-cluster slopes"
        )

    varies = {role: _within_variation(prepared.values[role], codes, n_clusters) for role in ("x", "m", "y")}
    if design is None:
        design = "1-1-1" if np.any(varies["x"]) else "2-1-1"
    if design == "2-1-1" and np.any(varies["x"]):
        examples = ", ".join(map(str, prepared.labels[varies["x"]][:3]))
        raise DataError(
            f"'{x}' varies within {int(varies['x'].sum())} clusters (e.g. {examples}), but a 2-1-1 design "
            "needs a cluster-level x that is constant within each cluster",
            hint="use design='1-1-1' for an individual-level x, or check the cluster column",
        )
    if design == "1-1-1" and not np.any(varies["x"]):
        raise DataError(
            f"'{x}' does not vary within any cluster: it is a cluster-level variable",
            hint="use design='2-1-1' (or leave design=None to infer it)",
        )
    for role in ("m", "y"):
        if not np.any(varies[role]):
            kind = "mediator" if role == "m" else "outcome"
            raise DataError(
                f"the {kind} '{names[role]}' does not vary within any cluster: it is a cluster-level "
                f"variable (a 2-2-1 or 2-2-2 design), which multilevel_mediate does not support",
                hint=f"aggregate to one row per cluster and use mediate(), or check '{names[role]}'",
            )
    if design == "2-1-1" and center != "within":
        raise DataError(
            "center='none' is not available for a 2-1-1 design: the uncentred b path blends the within- and "
            "between-cluster slopes of the mediator and biases the indirect effect (Zhang, Zyphur & "
            "Preacher, 2009)",
            hint="use center='within' (the default)",
        )
    if random_slopes is None:
        random_slopes = design == "1-1-1"
    if design == "2-1-1" and (random_slopes or random_direct):
        notes.append("random slopes apply to 1-1-1 designs; the 2-1-1 models have random intercepts only")
        random_slopes = random_direct = False

    if n_clusters < FEW_CLUSTERS:
        notes.append(
            f"only {n_clusters} clusters: too few for a multilevel model to estimate between-cluster "
            "variance reliably; variance components are biased and intervals too narrow (Maas & Hox, 2005; "
            "McNeish & Stapleton, 2016)"
        )
    elif design == "1-1-1" and random_slopes and n_clusters < FEW_CLUSTERS_RANDOM_SLOPES:
        notes.append(
            f"only {n_clusters} clusters for random a and b slopes (at least {FEW_CLUSTERS_RANDOM_SLOPES} "
            "are recommended): σ_ab, and so the average indirect effect a·b + σ_ab, is estimated imprecisely "
            "and its interval may be too narrow (Maas & Hox, 2005; Hox, Moerbeek & van de Schoot, 2018)"
        )
    elif design == "2-1-1" and n_clusters < FEW_CLUSTERS_BETWEEN:
        notes.append(
            f"only {n_clusters} clusters: the between-cluster a and b paths rest on {n_clusters} cluster "
            "means, "
            f"and the z-based intervals used here are too narrow below about {FEW_CLUSTERS_BETWEEN} clusters "
            "(McNeish & Stapleton, 2016)"
        )

    n_mean = float(np.mean(sizes))
    icc_values = {
        role: (
            1.0 if design == "2-1-1" and role == "x" else _icc_reml(prepared.values[role], codes, n_clusters)
        )
        for role in ("x", "m", "y")
    }
    if design == "1-1-1" and center == "none" and max(icc_values["x"], icc_values["m"]) > 0.05:
        notes.append(
            f"with center='none' the a and b paths blend within- and between-cluster effects (ICC of "
            f"'{x}' {icc_values['x']:.2f}, of '{m}' {icc_values['m']:.2f}); use center='within' to separate "
            "them (Zhang, Zyphur & Preacher, 2009)"
        )

    rng = as_generator(seed)
    if design == "1-1-1":
        effects, model_info = _mediate_111(
            prepared,
            names,
            covariates,
            center=center,
            random_slopes=bool(random_slopes),
            random_direct=random_direct,
            heteroscedastic=residuals == "heteroscedastic",
            n_mc=int(n_mc),
            level=level,
            rng=rng,
            notes=notes,
        )
        method = (
            "1-1-1 multilevel mediation: mediator and outcome equations stacked in one mixed model (Bauer, "
            "Preacher & Gil 2006), REML (statsmodels MixedLM start, then moclab.analysis.stacked_mixed), "
            + ("random intercepts and random a and b slopes" if random_slopes else "random intercepts")
            + (" and random c'" if random_direct else "")
            + (
                ", separate residual variances per equation"
                if residuals == "heteroscedastic"
                else ", one residual variance"
            )
            + (
                ", x and m centred within clusters with cluster means as between-cluster predictors (Zhang, "
                "Zyphur & Preacher 2009)"
                if center == "within"
                else ", uncentred"
            )
        )
    else:
        effects, model_info = _mediate_211(
            prepared, names, covariates, n_mc=int(n_mc), level=level, rng=rng, notes=notes
        )
        method = (
            "2-1-1 multilevel mediation: random-intercept models (REML, statsmodels MixedLM) for m on x "
            "and for y on the cluster mean and within-cluster deviation of m and x (Zhang, Zyphur & "
            "Preacher 2009)"
        )
    method += (
        f"; Monte Carlo intervals for indirect and total effects ({int(n_mc)} draws, Preacher & Selig 2012)"
    )

    info: dict[str, Any] = {
        "method": method,
        "design": design,
        "center": center,
        "primary_level": "between" if design == "2-1-1" else ("within" if center == "within" else "pooled"),
        "random_slopes": bool(random_slopes),
        "random_direct": bool(random_direct),
        "residuals": residuals if design == "1-1-1" else "separate models",
        "variables": {"x": x, "m": m, "y": y, "cluster": cluster, "covariates": list(covariates)},
        "n": int(codes.size),
        "n_dropped": prepared.n_dropped,
        "n_clusters": n_clusters,
        "cluster_size": {
            "min": int(sizes.min()),
            "median": float(np.median(sizes)),
            "mean": n_mean,
            "max": int(sizes.max()),
        },
        "n_single_row_clusters": singletons,
        "icc": icc_values,
        "icc_estimator": ICC_REML_ESTIMATOR,
        "design_effect": {role: design_effect(value, sizes) for role, value in icc_values.items()},
        **model_info,
        "level": level,
        "n_mc": int(n_mc),
    }
    return MultilevelMediationResult(effects=tuple(effects), info=info, warnings=tuple(dict.fromkeys(notes)))
