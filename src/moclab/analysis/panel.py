"""Cross-lagged panel model of a mechanism and an outcome: which one leads the other over time?

The timeline criterion of a mechanism asks whether the mechanism changes before the outcome. With two or more
waves, `cross_lagged` fits the observed-variable cross-lagged panel model (CLPM) of mechanism M and outcome Y

    M_{t+1} = α_t + ρ_M M_t + γ_YM Y_t + C_t'δ_M + e_M
    Y_{t+1} = β_t + ρ_Y Y_t + γ_MY M_t + C_t'δ_Y + e_Y

as two regressions per lag pair (t, t+1), or pooled over all lag pairs (stacked, with one intercept per lag
pair and common slopes), and reports the cross-lagged effects M → Y (γ_MY) and Y → M (γ_YM), their
difference with a Wald test (the two equations' joint covariance: SUR-type for one lag, cluster-robust by
recipient or site otherwise), standardized versions and, optionally, cluster-bootstrap intervals.

Limits (read before interpreting): the observed-variable CLPM mixes stable between-person differences with
within-person change, so its cross-lagged effects can be spurious when people differ in their stable levels
of M and Y (Hamaker, Kuiper & Grasman, 2015); the random-intercept CLPM (a structural equation model with
latent person means, `moclab.analysis.riclpm`) separates them. ``within=True`` removes each person's mean
over all waves first (a fixed-effects version), which removes the stable differences but, with few waves,
biases autoregressive and cross-lagged effects towards negative values (Nickell, 1981), so use it as a
sensitivity check, not a fix. Measurement error in M_t attenuates ρ_M and can create spurious cross-lagged
effects; both models also assume that the lag between waves matches the lag at which M acts on Y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import least_squares
from moclab.analysis.bootstrap import SeedLike, as_generator, bootstrap_regressions, factorize_clusters
from moclab.analysis.clustering import FEW_CLUSTERS, cluster_robust_covariance
from moclab.analysis.diagram import DiagramEdge, DiagramNode, PathDiagram, significance_stars
from moclab.analysis.intervals import percentile_interval, wald_interval
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError

__all__ = ["CrossLaggedResult", "cross_lagged"]

_EFFECT_KINDS = {
    "m_to_y": "cross_lagged",
    "y_to_m": "cross_lagged",
    "m_autoregressive": "autoregressive",
    "y_autoregressive": "autoregressive",
    "difference": "contrast",
    "m_to_y_std": "standardized",
    "y_to_m_std": "standardized",
    "difference_std": "contrast",
}


# --------------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CrossLaggedResult(AnalysisResult):
    """Result of `cross_lagged`.

    Effects (one set when pooled or with two waves; otherwise one set per lag pair, named with the suffix
    ``[w1->w2]``):

    * ``m_to_y`` (M_t → Y_{t+1}) and ``y_to_m`` (Y_t → M_{t+1}): the cross-lagged effects;
    * ``m_autoregressive``, ``y_autoregressive``: stability of M and of Y;
    * ``difference``: m_to_y - y_to_m with its Wald test (in the units of the variables, so meaningful when
      M and Y share a scale);
    * ``m_to_y_std``, ``y_to_m_std``, ``difference_std``: the same standardized by the SDs of predictor and
      response over the analysed rows (γ_MY SD(M_t)/SD(Y_{t+1}) and γ_YM SD(Y_t)/SD(M_{t+1})); their Wald
      intervals treat the SDs as fixed, the bootstrap intervals (``n_boot > 0``) do not.

    Attributes
    ----------
    m, y, unit, wave : str
        Column names of the mechanism, the outcome, the person (recipient) id and the wave.
    waves : tuple of str
        Waves in time order; ``lags`` the lag pairs analysed ("w1->w2").
    pooled, within : bool
        Whether the lag pairs were pooled, and whether variables were person-mean centred.
    coefficients : pandas.DataFrame
        Every coefficient of every equation, indexed by (equation, term).
    n, n_units, n_clusters : int
        Person-occasions (rows) analysed, persons, and clusters for the standard errors (None: classical).
    """

    m: str = ""
    y: str = ""
    unit: str = ""
    wave: str = ""
    waves: tuple[str, ...] = ()
    lags: tuple[str, ...] = ()
    pooled: bool = True
    within: bool = False
    coefficients: pd.DataFrame | None = None
    n: int = 0
    n_units: int = 0
    n_clusters: int | None = None
    sd: dict[str, float] = field(default_factory=dict)

    title = "Cross-lagged panel model"
    headline = ("cross_lagged", "difference")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        coefficients = None if self.coefficients is None else self.coefficients.reset_index()
        base.update(
            plain(
                {
                    "m": self.m,
                    "y": self.y,
                    "unit": self.unit,
                    "wave": self.wave,
                    "waves": list(self.waves),
                    "lags": list(self.lags),
                    "pooled": self.pooled,
                    "within": self.within,
                    "n": self.n,
                    "n_units": self.n_units,
                    "n_clusters": self.n_clusters,
                    "sd": self.sd,
                    "coefficients": coefficients,
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """Readable report: data, method, effects (cross-lagged first) and warnings."""
        fmt = f"{{:.{digits}f}}"
        lines = [
            f"{self.title}: {self.m} (mechanism) and {self.y} (outcome) over waves {', '.join(self.waves)}",
            f"  {self.n} person-occasions of {self.n_units} {self.unit}(s); lag pairs: {', '.join(self.lags)}"
            + (" (pooled)" if self.pooled and len(self.lags) > 1 else ""),
            f"  method: {self.info.get('method')}",
            "",
            self.to_frame()[["kind", "estimate", "se", "ci_low", "ci_high", "p", "ci_method"]].to_string(
                float_format=lambda v: fmt.format(v), na_rep=""
            ),
        ]
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def diagram(self, digits: int = 2) -> PathDiagram:
        """The cross-lagged panel diagram: M above, Y below, one column per wave (two when pooled), the
        autoregressive arrows across and the cross-lagged arrows diagonal, each labelled with its estimate."""
        pooled = self.pooled or len(self.lags) == 1
        columns = ["t", "t+1"] if pooled else list(self.waves)
        nodes = []
        for i, label in enumerate(columns):
            nodes.append(DiagramNode(f"{self.m} ({label})", (float(i), 1.0)))
            nodes.append(DiagramNode(f"{self.y} ({label})", (float(i), 0.0)))
        edges = []
        for i in range(len(columns) - 1):
            suffix = "" if pooled else f"[{self.lags[i]}]"
            here, there = columns[i], columns[i + 1]

            def value(name: str, suffix: str = suffix) -> str:
                effect = self.effect(name + suffix)
                return f"{effect.estimate:.{digits}f}{significance_stars(effect.p)}"

            for source, target, name, symbol, where in (
                (self.m, self.m, "m_autoregressive", "ρ_M", 0.5),
                (self.y, self.y, "y_autoregressive", "ρ_Y", 0.5),
                (self.m, self.y, "m_to_y", "γ_MY", 0.25),
                (self.y, self.m, "y_to_m", "γ_YM", 0.25),
            ):
                text = value(name)
                edges.append(
                    DiagramEdge(
                        f"{source} ({here})",
                        f"{target} ({there})",
                        f"{symbol} = {text}",
                        plot_label=text,
                        label_at=where,
                    )
                )
        difference = self.effect("difference_std" if pooled else f"difference_std[{self.lags[0]}]")
        title = (
            f"{self.title}; n = {self.n} person-occasions"
            + (f"; standardized γ_MY - γ_YM = {difference.estimate:.{digits}f}" if pooled else "")
            + ("; person-mean centred" if self.within else "")
        )
        return PathDiagram(
            tuple(nodes),
            tuple(edges),
            title=title,
            name="cross_lagged",
            figsize=(3.2 + 2.4 * (len(columns) - 1), 3.2),
        )

    def to_dot(self, digits: int = 2) -> str:
        """Graphviz DOT text of the panel diagram (see `diagram`)."""
        return self.diagram(digits).to_dot()

    def plot(self, ax: Any = None, digits: int = 2) -> Any:
        """Draw the panel diagram (see `diagram`) and return the matplotlib Axes.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> rng = np.random.default_rng(0)
        >>> m1, y1 = rng.normal(size=300), rng.normal(size=300)
        >>> m2, y2 = 0.5 * m1 + rng.normal(size=300), 0.4 * y1 + 0.3 * m1 + rng.normal(size=300)
        >>> long = pd.DataFrame({"id": np.tile(np.arange(300), 2), "wave": np.repeat([1, 2], 300),
        ...                      "trust": np.r_[m1, m2], "adoption": np.r_[y1, y2]})
        >>> ax = cross_lagged(long, unit="id", wave="wave", m="trust", y="adoption").plot()
        >>> sorted(t.get_text() for t in ax.texts if "(" in t.get_text())
        ['adoption (t)', 'adoption (t+1)', 'trust (t)', 'trust (t+1)']
        """
        return self.diagram(digits).plot(ax)


# --------------------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Lagged:
    """All lag pairs in long form: one row per person and lag pair with both waves' values."""

    frame: pd.DataFrame  # columns: unit, lag, m0, y0, c..., m1, y1, cluster?
    waves: list[Any]
    lags: list[str]
    notes: list[str]


def _lagged(
    data: pd.DataFrame,
    unit: str,
    wave: str,
    m: str,
    y: str,
    covariates: list[str],
    cluster: str | None,
    within: bool,
) -> _Lagged:
    columns = [unit, wave, m, y, *covariates] + ([cluster] if cluster else [])
    frame = data[columns].copy()
    notes: list[str] = []
    key_missing = frame[[unit, wave]].isna().any(axis=1)
    if key_missing.any():
        notes.append(f"{int(key_missing.sum())} row(s) without a {unit} or {wave} value were dropped")
        frame = frame.loc[~key_missing]
    duplicated = frame.duplicated([unit, wave], keep=False)
    if duplicated.any():
        examples = frame.loc[duplicated, [unit, wave]].drop_duplicates().head(5)
        shown = ", ".join(f"{unit} {u!r} at {wave} {w!r}" for u, w in examples.itertuples(index=False))
        raise DataError(
            f"{int(duplicated.sum())} rows share a ({unit}, {wave}) pair with another row, e.g. {shown}",
            hint="a panel has one row per person and wave: aggregate or remove the repeats",
        )
    for name, role in [(m, "mechanism"), (y, "outcome"), *[(c, "covariate") for c in covariates]]:
        _columns.numeric_values(frame[name], role, name)
    try:
        waves = sorted(pd.unique(frame[wave]).tolist())
    except TypeError as error:
        raise DataError(f"the {wave} values cannot be put in time order (mixed types)") from error
    if len(waves) < 2:
        raise DataError(
            f"'{wave}' has {len(waves)} distinct value(s); a cross-lagged model needs at least two waves",
            hint="measure the mechanism and the outcome at two or more time points",
        )
    if cluster is not None:
        per_unit = frame.dropna(subset=[cluster]).groupby(unit)[cluster].nunique()
        moving = per_unit[per_unit > 1]
        if len(moving):
            raise DataError(
                f"{len(moving)} {unit}(s) belong to more than one '{cluster}' (e.g. {moving.index[0]!r})",
                hint="cluster-robust SEs need each person nested in one cluster; fix the cluster column",
            )
    if within:
        for name in (m, y):
            frame[name] = frame[name] - frame.groupby(unit)[name].transform("mean")
    position = {w: i for i, w in enumerate(waves)}
    frame["__t__"] = frame[wave].map(position)
    before = frame.rename(columns={m: "m0", y: "y0"})
    after = frame[[unit, "__t__", m, y]].rename(columns={m: "m1", y: "y1"})
    after["__t__"] -= 1
    pairs = before.merge(after, on=[unit, "__t__"], how="inner")
    incomplete = (
        pairs[["m0", "y0", "m1", "y1", *covariates, *([cluster] if cluster else [])]].isna().any(axis=1)
    )
    n_possible = len(pairs)
    pairs = pairs.loc[~incomplete]
    if incomplete.any():
        notes.append(
            f"{int(incomplete.sum())} of {n_possible} person lag pairs had a missing value and were dropped "
            "(listwise deletion; if dropout depends on the variables, consider full-information methods)"
        )
    labels = [f"{waves[i]}->{waves[i + 1]}" for i in range(len(waves) - 1)]
    pairs = pairs.assign(lag=[labels[t] for t in pairs["__t__"]]).sort_values(["__t__", unit], kind="stable")
    present = [label for label in labels if (pairs["lag"] == label).any()]
    if not present:
        raise DataError(
            f"no {unit} has complete {m} and {y} at two consecutive waves",
            hint=f"check the {unit} and {wave} columns and the missing values",
        )
    gaps = [str(w) for w in waves]
    numeric_waves = all(isinstance(w, int | float | np.integer | np.floating) for w in waves)
    if numeric_waves and len(waves) > 2:
        spacing = np.diff(np.asarray(waves, dtype=float))
        if not np.allclose(spacing, spacing[0]):
            notes.append(
                f"the waves are unequally spaced ({', '.join(gaps)}): pooled cross-lagged effects assume the "
                "same effect per lag, so compare the per-lag estimates (pooled=False) or model the interval"
            )
    return _Lagged(pairs.reset_index(drop=True), waves, present, notes)


# --------------------------------------------------------------------------------------------------------
# Estimation
# --------------------------------------------------------------------------------------------------------


@dataclass
class _PairFit:
    coef: np.ndarray  # (p, 2): column 0 the M equation, column 1 the Y equation
    covariance: np.ndarray  # (2p, 2p), equation-major
    df: float
    groups: int | None


def _fit_pair(design: np.ndarray, responses: np.ndarray, codes: np.ndarray | None) -> _PairFit:
    """OLS of both equations on the same design, with their joint covariance.

    Both equations have the same regressors, so OLS equation by equation is the SUR (GLS) estimate and the
    classical joint covariance is Σ̂ ⊗ (X'X)⁻¹ with Σ̂ the residual covariance (Zellner, 1962); with
    clusters it is the stacked-score CR1 sandwich (`cluster_robust_covariance`).
    """
    n, p = design.shape
    fit = least_squares(design, responses)
    coef, residuals = fit.coef, fit.residuals
    if codes is None:
        sigma = residuals.T @ residuals / (n - p)
        return _PairFit(coef, np.kron(sigma, fit.xtx_inv), float(n - p), None)
    covariance = cluster_robust_covariance([design, design], [residuals[:, 0], residuals[:, 1]], codes)
    groups = int(codes.max()) + 1
    return _PairFit(coef, covariance, float(groups - 1), groups)


def _contrast(
    fit: _PairFit, weights: dict[int, float], level: float
) -> tuple[float, float, float, float, float]:
    vector = np.zeros(fit.covariance.shape[0])
    for index, weight in weights.items():
        vector[index] = weight
    theta = np.concatenate([fit.coef[:, 0], fit.coef[:, 1]])
    estimate = float(vector @ theta)
    se = float(math.sqrt(max(vector @ fit.covariance @ vector, 0.0)))
    low, high, p = wald_interval(estimate, se, level, fit.df)
    return estimate, se, float(low), float(high), float(p)


def cross_lagged(
    data: pd.DataFrame,
    *,
    unit: str,
    wave: str,
    m: str,
    y: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    pooled: bool = True,
    within: bool = False,
    n_boot: int = 0,
    level: float = 0.95,
    seed: SeedLike = None,
) -> CrossLaggedResult:
    """Cross-lagged panel model of a mechanism and an outcome measured at two or more waves.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format: one row per person (recipient) and wave.
    unit, wave : str
        Columns identifying the person and the wave (numbers, dates or anything that sorts in time order).
    m, y : str
        Numeric columns of the mechanism and the outcome.
    covariates : sequence of str
        Numeric covariates, taken at the earlier wave of each lag pair, entering both equations.
    cluster : str, optional
        Column of the cluster (site) each person belongs to: standard errors become cluster-robust (CR1) by
        cluster and the bootstrap resamples clusters.
    pooled : bool
        With three or more waves, pool the lag pairs (one intercept per lag pair, common slopes; standard
        errors clustered by person, or by ``cluster``). False estimates each lag pair separately.
    within : bool
        Centre M and Y on each person's mean over all waves first (removes stable between-person
        differences; see the module notes on Nickell bias).
    n_boot : int
        Bootstrap resamples of persons (or clusters) for percentile intervals of every effect, standardized
        ones with their SDs re-estimated in each resample; 0 (default) gives Wald (t) intervals only.
    level : float
        Confidence level.
    seed : int, numpy.random.Generator or None
        Randomness of the bootstrap.

    Returns
    -------
    CrossLaggedResult

    Raises
    ------
    DataError
        Unknown or non-numeric columns, repeated (unit, wave) rows, fewer than two waves, no person with two
        consecutive complete waves, persons in more than one cluster, collinear predictors, too few rows.

    Notes
    -----
    Each lag pair (t, t+1) of consecutive observed waves contributes one row per person with complete data
    (listwise). Both equations have the same predictors (an intercept per lag pair, M_t, Y_t, covariates),
    so OLS per equation is efficient, and the joint covariance of both equations' coefficients is Σ̂ ⊗
    (X'X)⁻¹ for one lag pair without clusters (t with n - p df), or the CR1 stacked-score sandwich (Cameron
    & Miller, 2015) clustered by person (pooled lag pairs) or by ``cluster`` (t with G - 1 df). The Wald test
    of ``difference`` uses that joint covariance. The standardized difference compares effects on a common
    scale (Cohen's guidance for CLPM comparisons; Kearney, 2017); with variables on different scales the raw
    difference is not meaningful.

    A clearly larger m_to_y than y_to_m is evidence that the mechanism leads the outcome (temporal
    precedence), not proof: see the module docstring for what the observed-variable CLPM cannot separate
    (Hamaker, Kuiper & Grasman, 2015) and the ``within`` option's Nickell (1981) bias.

    References
    ----------
    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
    Human Resources*, 50(2), 317-372.
    Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the cross-lagged panel
    model. *Psychological Methods*, 20(1), 102-116.
    Kearney, M. W. (2017). Cross-lagged panel analysis. In M. Allen (Ed.), *The SAGE Encyclopedia of
    Communication Research Methods*. Sage.
    Nickell, S. (1981). Biases in dynamic models with fixed effects. *Econometrica*, 49(6), 1417-1426.
    Zellner, A. (1962). An efficient method of estimating seemingly unrelated regressions and tests for
    aggregation bias. *JASA*, 57(298), 348-368.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> n = 400
    >>> m1, y1 = rng.normal(size=n), rng.normal(size=n)
    >>> m2 = 0.5 * m1 + 0.0 * y1 + rng.normal(size=n)
    >>> y2 = 0.4 * y1 + 0.3 * m1 + rng.normal(size=n)
    >>> long = pd.DataFrame({"recipient": np.tile(np.arange(n), 2), "wave": np.repeat([1, 2], n),
    ...                      "trust": np.r_[m1, m2], "adoption": np.r_[y1, y2]})
    >>> result = cross_lagged(long, unit="recipient", wave="wave", m="trust", y="adoption")
    >>> round(result.effect("m_to_y").estimate, 2), round(result.effect("y_to_m").estimate, 2)
    (0.35, 0.04)
    >>> bool(result.effect("difference").p < 0.001)
    True
    """
    data = _columns.data_frame(data)
    _arguments.check(level=level, n_boot=n_boot, min_boot=200, boot_optional=True, seed=seed)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    roles = [("unit", unit), ("wave", wave), ("mechanism", m), ("outcome", y)]
    roles += [("covariate", c) for c in covariates] + ([("cluster", cluster)] if cluster is not None else [])
    _columns.check_columns(data, roles)
    lagged = _lagged(data, unit, wave, m, y, covariates, cluster, within)
    pairs, notes = lagged.frame, list(lagged.notes)
    rng = as_generator(seed)

    groups_pooled = pooled or len(lagged.lags) == 1
    batches = [("", lagged.lags)] if groups_pooled else [(f"[{lag}]", [lag]) for lag in lagged.lags]
    effects: list[Effect] = []
    tables: list[pd.DataFrame] = []
    n_clusters_used: int | None = None
    method_parts: list[str] = []
    sds: dict[str, float] = {}
    for suffix, lags in batches:
        rows = pairs.loc[pairs["lag"].isin(lags)]
        n_rows = len(rows)
        dummies = np.column_stack([(rows["lag"] == lag).to_numpy(dtype=float) for lag in lags])
        continuous = rows[["m0", "y0", *covariates]].to_numpy(dtype=float)
        design = np.column_stack([dummies, continuous])
        responses = rows[["m1", "y1"]].to_numpy(dtype=float)
        p = design.shape[1]
        intercepts = ["intercept"] if len(lags) == 1 else [f"intercept[{lag}]" for lag in lags]
        terms = [*intercepts, f"{m} (t)", f"{y} (t)", *covariates]
        if n_rows < p + 3:
            raise DataError(
                f"too few complete person lag pairs ({n_rows}) for {p} coefficients per equation"
                + (f" in lag {lags[0]}" if suffix else ""),
                hint="more persons with two consecutive complete waves are needed",
            )
        roles = ["mechanism", "outcome", *["covariate"] * len(covariates)]
        for j, role in enumerate(roles):
            _columns.check_not_constant(continuous[:, j], role, terms[len(lags) + j])
        _columns.check_full_rank(design, terms, f"cross-lagged{' (lag ' + lags[0] + ')' if suffix else ''}")
        unit_codes, _ = factorize_clusters(rows[unit].to_numpy())
        if cluster is not None:
            codes, _ = factorize_clusters(rows[cluster].to_numpy())
        elif len(lags) > 1:
            codes = unit_codes
        else:
            codes = None
        fit = _fit_pair(design, responses, codes)
        if fit.groups is not None:
            n_clusters_used = fit.groups
            if fit.groups < FEW_CLUSTERS:
                notes.append(
                    f"only {fit.groups} clusters for the cluster-robust standard errors: with fewer than "
                    f"about {FEW_CLUSTERS} they are too small (Cameron & Miller 2015); treat intervals as "
                    "optimistic"
                )
        k = len(lags)
        i_m, i_y = k, k + 1  # positions of M_t and Y_t among the predictors
        sd = rows[["m0", "y0", "m1", "y1"]].std(ddof=1).to_dict()
        if not suffix:
            sds = {f"{m} (t)": sd["m0"], f"{y} (t)": sd["y0"], f"{m} (t+1)": sd["m1"], f"{y} (t+1)": sd["y1"]}
        scale_my = sd["m0"] / sd["y1"]
        scale_ym = sd["y0"] / sd["m1"]
        contrasts = {
            "m_to_y": {p + i_m: 1.0},
            "y_to_m": {i_y: 1.0},
            "m_autoregressive": {i_m: 1.0},
            "y_autoregressive": {p + i_y: 1.0},
            "difference": {p + i_m: 1.0, i_y: -1.0},
            "m_to_y_std": {p + i_m: scale_my},
            "y_to_m_std": {i_y: scale_ym},
            "difference_std": {p + i_m: scale_my, i_y: -scale_ym},
        }
        wald = {name: _contrast(fit, weights, level) for name, weights in contrasts.items()}
        boot: dict[str, tuple[float, float, float]] = {}
        if n_boot:
            boot, n_bad = _bootstrap(rows, design, responses, k, codes, unit_codes, int(n_boot), level, rng)
            if n_bad:
                notes.append(
                    f"{n_bad} of {int(n_boot)} bootstrap resamples could not be estimated and were dropped"
                )
        ci_label = "cluster_t" if fit.groups is not None else "t"
        for name, (estimate, se, low, high, p_value) in wald.items():
            extra: dict[str, Any] = {"df": fit.df, "lags": list(lags), "n": n_rows}
            if name in boot:
                b_low, b_high, b_se = boot[name]
                extra.update({"wald_ci_low": low, "wald_ci_high": high, "wald_se": se})
                effects.append(
                    Effect(
                        name + suffix,
                        _EFFECT_KINDS[name],
                        estimate,
                        b_se,
                        b_low,
                        b_high,
                        p_value,
                        "percentile",
                        extra,
                    )
                )
            else:
                effects.append(
                    Effect(
                        name + suffix, _EFFECT_KINDS[name], estimate, se, low, high, p_value, ci_label, extra
                    )
                )
        theta = np.concatenate([fit.coef[:, 0], fit.coef[:, 1]])
        se_all = np.sqrt(np.diag(fit.covariance))
        table_low, table_high, table_p = wald_interval(theta, se_all, level, fit.df)
        equation_names = [f"{m} (t+1)", f"{y} (t+1)"]
        tables.append(
            pd.DataFrame(
                {
                    "estimate": theta,
                    "se": se_all,
                    "statistic": theta / se_all,
                    "df": fit.df,
                    "p": table_p,
                    "ci_low": table_low,
                    "ci_high": table_high,
                },
                index=pd.MultiIndex.from_tuples(
                    [(eq + suffix, term) for eq in equation_names for term in terms],
                    names=["equation", "term"],
                ),
            )
        )
        se_text = (
            f"CR1 cluster-robust by {cluster if cluster else unit} ({fit.groups} clusters, "
            f"t with {fit.groups - 1} df)"
            if fit.groups is not None
            else f"classical (joint covariance Σ ⊗ (X'X)⁻¹, t with {int(fit.df)} df)"
        )
        method_parts.append(se_text)
    method = (
        "observed-variable cross-lagged panel model, OLS per equation"
        + (
            ", lag pairs pooled with one intercept per lag pair"
            if groups_pooled and len(lagged.lags) > 1
            else ""
        )
        + (", person-mean centred (within-person)" if within else "")
        + "; SEs: "
        + "; ".join(dict.fromkeys(method_parts))
        + (
            f"; percentile bootstrap of {'clusters' if cluster else unit + 's'}, {int(n_boot)} resamples"
            if n_boot
            else ""
        )
        + f"; {level:.0%} intervals"
    )
    if not within:
        notes.append(
            "observed-variable CLPM: stable between-person differences in M and Y can produce cross-lagged "
            "effects without any within-person effect (Hamaker, Kuiper & Grasman 2015); check with "
            "within=True (biased with few waves, Nickell 1981) or the random-intercept CLPM (riclpm)"
        )
    else:
        notes.append(
            f"person-mean centring with {len(lagged.waves)} waves biases autoregressive and cross-lagged "
            "effects downward by roughly 1/T (Nickell 1981); read them as a sensitivity check"
        )
    n_units = int(pairs[unit].nunique())
    info = {
        "method": method,
        "n": len(pairs),
        "n_units": n_units,
        "level": level,
        "n_boot": int(n_boot) or None,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
        "covariates": covariates,
        "cluster": cluster,
        "waves": [str(w) for w in lagged.waves],
    }
    return CrossLaggedResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(dict.fromkeys(notes)),
        m=m,
        y=y,
        unit=unit,
        wave=wave,
        waves=tuple(str(w) for w in lagged.waves),
        lags=tuple(lagged.lags),
        pooled=groups_pooled,
        within=within,
        coefficients=pd.concat(tables),
        n=len(pairs),
        n_units=n_units,
        n_clusters=n_clusters_used,
        sd=sds,
    )


def _bootstrap(
    rows: pd.DataFrame,
    design: np.ndarray,
    responses: np.ndarray,
    k: int,
    codes: np.ndarray | None,
    unit_codes: np.ndarray,
    n_boot: int,
    level: float,
    rng: np.random.Generator,
) -> tuple[dict[str, tuple[float, float, float]], int]:
    """Percentile intervals (and bootstrap SEs) of every effect, resampling persons or clusters at once."""
    n = design.shape[0]
    continuous = np.column_stack([design[:, k:], responses])
    centred = continuous - continuous.mean(axis=0)  # better conditioned normal equations
    data = np.column_stack([np.ones(n), design[:, :k], centred])
    predictors = list(range(1, data.shape[1] - 2))
    m1, y1 = data.shape[1] - 2, data.shape[1] - 1
    draws = bootstrap_regressions(
        data,
        [(m1, predictors), (y1, predictors)],
        n_boot,
        rng,
        clusters=codes if codes is not None else unit_codes,
    )
    coef_m, coef_y = draws.coefficients
    sd = np.sqrt(np.clip(draws.variances, 0.0, None))
    col_m0, col_y0 = 1 + k, 2 + k
    values = {
        "m_to_y": coef_y[:, k],
        "y_to_m": coef_m[:, k + 1],
        "m_autoregressive": coef_m[:, k],
        "y_autoregressive": coef_y[:, k + 1],
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        values["difference"] = values["m_to_y"] - values["y_to_m"]
        values["m_to_y_std"] = values["m_to_y"] * sd[:, col_m0] / sd[:, y1]
        values["y_to_m_std"] = values["y_to_m"] * sd[:, col_y0] / sd[:, m1]
        values["difference_std"] = values["m_to_y_std"] - values["y_to_m_std"]
    keep = ~draws.singular
    out = {}
    for name, draw in values.items():
        low, high = percentile_interval(draw[keep], None, level)
        out[name] = (float(low), float(high), float(np.std(draw[keep], ddof=1)))
    return out, int(draws.n_singular)
