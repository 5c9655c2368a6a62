"""Longitudinal mediation over repeated waves: the random-intercept cross-lagged panel model and the
half-longitudinal design.

`riclpm` fits the random-intercept cross-lagged panel model (RI-CLPM; Hamaker, Kuiper & Grasman, 2015) of
two variables (X, M) or three (X, M, Y) measured at T >= 3 waves. Each person's score is split into a stable
person mean (a random intercept, correlated across variables) and a within-person deviation; the lagged
effects act on the deviations only, so stable differences between people no longer pass for cross-lagged
effects as they do in the observed-variable CLPM (`moclab.analysis.cross_lagged`). With three variables it
reports the within-person indirect effect X(t) → M(t+1) → Y(t+2), the product of the two lagged paths, with
a delta-method and, on request, a bootstrap interval (persons resampled).

`half_longitudinal` is Cole & Maxwell's (2003) design for two waves: the a path from X at the first wave to
M at the second controlling for M at the first, the b path from M at the first wave to Y at the second
controlling for Y (and X) at the first, both by OLS, and the indirect effect a·b, which estimates the effect
over two lags when the paths are the same at every lag (stationarity).

Why the RI-CLPM is written by hand: it is a structural equation model, and no maintained Python SEM library
is a moclab dependency (semopy, the closest, pulls in sympy and numdifftools and is used by the tests only,
as an independent reference). The model is small and fixed: its implied covariance matrix, the first and
second derivatives of that matrix and the maximum-likelihood discrepancy take a few dozen lines of numpy, and
`scipy.optimize` minimizes it by trust-region Newton steps with the exact gradient and Hessian (a fit takes
tens of milliseconds, so the bootstrap can refit it for every resample).

The model. With z_t the k observed variables at wave t, μ_t their means (free per wave: the mean structure
is saturated, so the means are the sample means and do not enter the fit),

    z_t = μ_t + κ + w_t,        κ ~ N(0, Φ)                  (random intercepts, Φ free: k variances and
                                                               the covariances)
    w_1 ~ N(0, Ψ_1),  w_t = B_t w_{t-1} + ζ_t,  ζ_t ~ N(0, Ψ_t)   (t = 2..T; Ψ_t free within the wave)

so that the covariance of (z_1, ..., z_T) is Σ = L Φ L' + A Ψ A' with L the stacked identities, Ψ the
block diagonal of Ψ_1..Ψ_T and A = (I - 𝔅)⁻¹ for the block-subdiagonal matrix 𝔅 of the lag matrices B_t.
B_t holds the autoregressive effects (diagonal) and all cross-lagged effects (off the diagonal). Fixing Φ = 0
gives the CLPM. The parameters minimize the ML discrepancy F = log|Σ| + tr(SΣ⁻¹) - log|S| - kT with S the
sample covariance (divisor n), the chi-square test is n·F, and standard errors come from the expected
information (n/2)·tr(Σ⁻¹ ∂Σ/∂θ_i Σ⁻¹ ∂Σ/∂θ_j), as lavaan and semopy compute them for complete data (or the
observed information, n/2 times the Hessian of F; Bollen, 1989, ch. 4).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg as sla
from scipy import optimize, special

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import least_squares
from moclab.analysis.bootstrap import (
    SeedLike,
    as_generator,
    bootstrap_counts,
    bootstrap_regressions,
    crossproducts,
    iter_chunks,
)
from moclab.analysis.diagram import DiagramEdge, DiagramNode, PathDiagram, significance_stars
from moclab.analysis.intervals import delta_method_se, percentile_interval, wald_interval
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError

__all__ = ["HalfLongitudinalResult", "RICLPMResult", "half_longitudinal", "riclpm"]

#: Roles of the variables in the order of the model (the strategy, the mechanism, the outcome).
_ROLES = ("x", "m", "y")
_ROLE_NAMES = {"x": "strategy x", "m": "mediator m", "y": "outcome y"}

#: Newton decrement g'H⁻¹g of the ML discrepancy below which a fit has converged (see `_minimize`), and
#: the plain Newton steps that polish a fit whose decrement is below `NEWTON_POLISH_FROM`.
NEWTON_DECREMENT = 1e-12
NEWTON_POLISH, NEWTON_POLISH_FROM = 3, 1e-6

#: p-value below which the test of equal lagged effects over waves gets a warning.
STATIONARITY_ALPHA = 0.05


# --------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class RICLPMResult(AnalysisResult):
    """Result of `riclpm`.

    Effects, each a within-person lagged effect (one per lag pair, suffixed ``[w1->w2]``, when
    ``equal_lags=False``):

    * ``x_to_m``, ``m_to_x`` (and with Y: ``m_to_y``, ``y_to_m``, ``x_to_y``, ``y_to_x``): cross-lagged
      effects, e.g. ``x_to_m`` is the effect of a person's deviation from their own mean of X at wave t on
      their deviation in M at wave t+1;
    * ``x_autoregressive``, ``m_autoregressive`` (``y_autoregressive``): within-person carry-over;
    * ``indirect`` (three variables): X(t) → M(t+1) → Y(t+2), ``x_to_m · m_to_y`` (``indirect[w1->w3]``
      per starting wave without equal lags), with a delta-method interval, or a percentile bootstrap one
      (``n_boot > 0``; the delta-method values are then in ``delta_se``, ``delta_ci_low``, ...).

    Attributes
    ----------
    variables : dict
        Role ("x", "m", "y") → column name.
    unit, wave : str
        Columns of the person id and of the wave; ``waves`` the waves analysed, in time order.
    equal_lags, random_intercepts : bool
        Whether the lagged effects were held equal over waves, and whether random intercepts were modelled
        (False: the CLPM).
    parameters : pandas.DataFrame
        Every free parameter (lavaan-like ``lhs``, ``op``, ``rhs``; ``block`` between / within / lagged;
        ``waves``) with estimate, SE, z, p and interval.
    means : pandas.DataFrame
        Sample means per variable (rows) and wave (columns): the saturated mean structure.
    between : pandas.DataFrame
        Covariance matrix of the random intercepts (the stable person means); ``between_correlation`` its
        correlations.
    implied, sample : pandas.DataFrame
        Model-implied and sample covariance matrices (divisor n) of the wide data.
    fit : dict
        ``chi2``, ``df``, ``p``, ``cfi``, ``tli``, ``rmsea``, ``loglik``, ``aic``, ``bic``, the baseline
        (independence) model's ``chi2_baseline`` and ``df_baseline``, ``iterations``, and with equal lags
        ``equal_lags_test`` (chi2, df, p of equal against wave-specific lagged effects).
    n : int
        Persons analysed (complete on every variable at every wave).
    """

    variables: dict[str, str] = field(default_factory=dict)
    unit: str = ""
    wave: str = ""
    waves: tuple[str, ...] = ()
    equal_lags: bool = True
    random_intercepts: bool = True
    parameters: pd.DataFrame | None = None
    means: pd.DataFrame | None = None
    between: pd.DataFrame | None = None
    implied: pd.DataFrame | None = None
    sample: pd.DataFrame | None = None
    fit: dict[str, Any] = field(default_factory=dict)
    n: int = 0

    title = "Random-intercept cross-lagged panel model"
    headline = ("indirect", "cross_lagged")

    @property
    def between_correlation(self) -> pd.DataFrame | None:
        """Correlations of the random intercepts (None for the CLPM)."""
        if self.between is None:
            return None
        sd = np.sqrt(np.clip(np.diag(self.between.to_numpy()), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            values = self.between.to_numpy() / np.outer(sd, sd)
        return pd.DataFrame(values, index=self.between.index, columns=self.between.columns)

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()

        def table(frame: pd.DataFrame | None) -> Any:
            return None if frame is None else frame.reset_index()

        base.update(
            plain(
                {
                    "variables": self.variables,
                    "unit": self.unit,
                    "wave": self.wave,
                    "waves": list(self.waves),
                    "equal_lags": self.equal_lags,
                    "random_intercepts": self.random_intercepts,
                    "parameters": table(self.parameters),
                    "means": table(self.means),
                    "between": table(self.between),
                    "fit": self.fit,
                    "n": self.n,
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """Readable report: data, model, fit, effects, the random intercepts and warnings."""
        fmt = f"{{:.{digits}f}}"
        fit = self.fit
        names = ", ".join(f"{role.upper()} = {column}" for role, column in self.variables.items())
        title = self.title if self.random_intercepts else "Cross-lagged panel model (CLPM)"
        lines = [
            f"{title}: {names} over waves {', '.join(self.waves)}",
            f"  {self.n} {self.unit}(s) complete at every wave; method: {self.info.get('method')}",
            f"  fit: chi2({fit['df']}) = {fit['chi2']:.3f}, p = {fit['p']:.3g}, CFI = {fit['cfi']:.3f}, "
            f"TLI = {fit['tli']:.3f}, RMSEA = {fit['rmsea']:.3f}",
        ]
        test = fit.get("equal_lags_test")
        if test:
            lines.append(
                f"  equal lagged effects over waves: chi2({test['df']}) = {test['chi2']:.3f}, "
                f"p = {test['p']:.3g}"
            )
        lines += [
            "",
            self.to_frame()[["kind", "estimate", "se", "ci_low", "ci_high", "p", "ci_method"]].to_string(
                float_format=lambda v: fmt.format(v), na_rep=""
            ),
        ]
        correlation = self.between_correlation
        if correlation is not None:
            lines += [
                "",
                "random intercepts (stable person means): variances on the diagonal, correlations below",
                pd.DataFrame(
                    np.where(np.eye(len(correlation), dtype=bool), self.between.to_numpy(), correlation),
                    index=correlation.index,
                    columns=correlation.columns,
                ).to_string(float_format=lambda v: fmt.format(v)),
            ]
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def diagram(self, digits: int = 2) -> PathDiagram:
        """The within-person panel diagram: one row per variable, one column per wave (two, t and t+1, with
        equal lags), the autoregressive arrows across and the cross-lagged arrows diagonal, each labelled
        with its estimate to `digits` significant digits (a strategy in minutes has small paths); the title
        gives the indirect effect."""
        roles = list(self.variables)
        columns = ["t", "t+1"] if self.equal_lags else list(self.waves)
        nodes = [
            DiagramNode(f"{self.variables[role]} ({column})", (float(c), float(len(roles) - 1 - r)))
            for c, column in enumerate(columns)
            for r, role in enumerate(roles)
        ]
        edges = []
        for c in range(len(columns) - 1):
            suffix = "" if self.equal_lags else f"[{self.waves[c]}->{self.waves[c + 1]}]"
            for source in roles:
                for target in roles:
                    name = f"{source}_autoregressive" if source == target else f"{source}_to_{target}"
                    effect = self.effect(name + suffix)
                    text = f"{effect.estimate:.{digits}g}{significance_stars(effect.p)}"
                    edges.append(
                        DiagramEdge(
                            f"{self.variables[source]} ({columns[c]})",
                            f"{self.variables[target]} ({columns[c + 1]})",
                            f"{name} = {text}",
                            plot_label=text,
                            label_at=0.5 if source == target else 0.25,
                        )
                    )
        title = f"{'RI-CLPM' if self.random_intercepts else 'CLPM'}, within persons; n = {self.n}"
        if "indirect" in {e.name for e in self.effects}:
            title += f"; indirect = {self.effect('indirect').estimate:.{digits}g}"
        return PathDiagram(
            tuple(nodes),
            tuple(edges),
            title=title,
            name="riclpm",
            figsize=(3.2 + 2.4 * (len(columns) - 1), 1.2 + 1.2 * len(roles)),
        )

    def to_dot(self, digits: int = 2) -> str:
        """Graphviz DOT text of the panel diagram (see `diagram`)."""
        return self.diagram(digits).to_dot()

    def plot(self, ax: Any = None, digits: int = 2) -> Any:
        """Draw the panel diagram (see `diagram`) and return the matplotlib Axes."""
        return self.diagram(digits).plot(ax)


@dataclass(frozen=True, repr=False)
class HalfLongitudinalResult(AnalysisResult):
    """Result of `half_longitudinal`.

    Effects: ``a`` (X at the first wave → M at the second, controlling for M at the first), ``b`` (M at the
    first wave → Y at the second, controlling for Y at the first and, with ``direct=True``, X at the first),
    ``direct`` (X → Y over one lag, with ``direct=True``), ``m_autoregressive`` and ``y_autoregressive``
    (each with its OLS t interval), and ``indirect`` = a·b, the effect over two lags under stationarity,
    with a percentile bootstrap interval (``n_boot > 0``; the delta-method values are in ``delta_se``,
    ``delta_ci_low``, ``delta_ci_high``, ``delta_p``) or the delta-method interval.

    Attributes
    ----------
    x, m, y, unit, wave : str
        Column names.
    waves : tuple of str
        The first and the second wave.
    direct : bool
        Whether X at the first wave enters the equation of Y at the second.
    coefficients : pandas.DataFrame
        Both equations, every term, indexed by (equation, term), with OLS estimate, SE, t, df, p, interval.
    n : int
        Persons analysed.
    """

    x: str = ""
    m: str = ""
    y: str = ""
    unit: str = ""
    wave: str = ""
    waves: tuple[str, ...] = ()
    direct: bool = True
    coefficients: pd.DataFrame | None = None
    n: int = 0

    title = "Half-longitudinal mediation (Cole & Maxwell 2003)"
    headline = ("indirect", "a", "b")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        coefficients = None if self.coefficients is None else self.coefficients.reset_index()
        base.update(
            plain(
                {
                    "x": self.x,
                    "m": self.m,
                    "y": self.y,
                    "unit": self.unit,
                    "wave": self.wave,
                    "waves": list(self.waves),
                    "direct": self.direct,
                    "coefficients": coefficients,
                    "n": self.n,
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """Readable report: data, method, effects and warnings."""
        fmt = f"{{:.{digits}f}}"
        first, second = self.waves
        lines = [
            f"{self.title}: {self.x} ({first}) -> {self.m} ({second}); {self.m} ({first}) -> {self.y} "
            f"({second})",
            f"  {self.n} {self.unit}(s); method: {self.info.get('method')}",
            "",
            self.to_frame()[["kind", "estimate", "se", "ci_low", "ci_high", "p", "ci_method"]].to_string(
                float_format=lambda v: fmt.format(v), na_rep=""
            ),
        ]
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def diagram(self, digits: int = 2) -> PathDiagram:
        """The two-wave diagram: X, M and Y at the first wave on the left, M and Y at the second on the
        right, with the a, b, direct and autoregressive paths (estimates to `digits` significant digits);
        the title gives a·b."""
        first, second = self.waves
        rows = {self.x: 2.0, self.m: 1.0, self.y: 0.0}
        nodes = [DiagramNode(f"{name} ({first})", (0.0, height)) for name, height in rows.items()]
        nodes += [DiagramNode(f"{name} ({second})", (1.0, rows[name])) for name in (self.m, self.y)]
        paths = [("a", self.x, self.m), ("m_autoregressive", self.m, self.m), ("b", self.m, self.y)]
        paths += [("y_autoregressive", self.y, self.y)] + (
            [("direct", self.x, self.y)] if self.direct else []
        )
        edges = []
        for name, source, target in paths:
            effect = self.effect(name)
            text = f"{effect.estimate:.{digits}g}{significance_stars(effect.p)}"
            symbol = {"m_autoregressive": "s_M", "y_autoregressive": "s_Y", "direct": "c'"}.get(name, name)
            edges.append(
                DiagramEdge(
                    f"{source} ({first})",
                    f"{target} ({second})",
                    f"{symbol} = {text}",
                    label_at=0.5 if source == target else 0.3,
                )
            )
        indirect = self.effect("indirect")
        return PathDiagram(
            tuple(nodes),
            tuple(edges),
            title=f"Half-longitudinal design; n = {self.n}; a·b = {indirect.estimate:.{digits}g}",
            name="half_longitudinal",
            figsize=(5.0, 4.0),
        )

    def to_dot(self, digits: int = 2) -> str:
        """Graphviz DOT text of the two-wave diagram (see `diagram`)."""
        return self.diagram(digits).to_dot()

    def plot(self, ax: Any = None, digits: int = 2) -> Any:
        """Draw the two-wave diagram (see `diagram`) and return the matplotlib Axes."""
        return self.diagram(digits).plot(ax)


# --------------------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wide:
    """Complete persons in wide form: ``values[:, t * k + i]`` is variable i at wave t; ``baseline`` the
    columns taken at the first wave only (numeric ones checked), same rows."""

    values: np.ndarray
    waves: list[Any]
    baseline: pd.DataFrame
    notes: list[str]


def _check_varies(column: np.ndarray, role: str, name: str, wave: str, value: Any, unit: str) -> None:
    if (column == column[0]).all():
        raise DataError(
            f"the {role} '{name}' is constant at {wave} {value!r} (every analysed {unit} has {column[0]:g})",
            hint="a variable that does not vary within a wave carries no information about change",
        )


def _wide(
    data: pd.DataFrame,
    unit: str,
    wave: str,
    columns: Sequence[tuple[str, str]],
    waves: Sequence[Any] | None,
    min_waves: int,
    baseline: Sequence[tuple[str, str]] = (),
) -> _Wide:
    """Long data (one row per person and wave) as one row per complete person.

    `columns` pairs each repeated variable's role with its column; `baseline` pairs are taken at the first
    wave only (a role starting with "covariate" may be text; the others must be numeric and vary).
    """
    names = [name for _, name in columns]
    first_only = [name for _, name in baseline]
    frame = data[[unit, wave, *names, *first_only]]
    notes: list[str] = []
    key_missing = frame[[unit, wave]].isna().any(axis=1)
    if key_missing.any():
        notes.append(f"{int(key_missing.sum())} row(s) without a {unit} or {wave} value were dropped")
        frame = frame.loc[~key_missing]
    for role, name in [*columns, *baseline]:
        if not role.startswith("covariate"):
            _columns.numeric_values(frame[name], role, name)
    present = pd.unique(frame[wave]).tolist()
    if waves is None:
        try:
            chosen = sorted(present)
        except TypeError as error:
            raise DataError(
                f"the {wave} values cannot be put in time order (mixed types)",
                hint="pass waves=[...] in time order",
            ) from error
    else:
        chosen = list(waves)
        unknown = [w for w in chosen if w not in present]
        if unknown:
            raise DataError(
                f"wave {unknown[0]!r} is not a value of '{wave}'",
                hint=f"the waves in the data are: {', '.join(map(repr, present[:12]))}",
            )
        if len(set(chosen)) != len(chosen):
            raise DataError(
                f"waves lists a wave twice: {chosen!r}", hint="give each wave once, in time order"
            )
    if len(chosen) < min_waves:
        raise DataError(
            f"{len(chosen)} wave(s) ({', '.join(map(str, chosen))}); this model needs at least {min_waves}",
            hint="measure the variables at more time points"
            + (", or use half_longitudinal for two waves" if min_waves > 2 else ""),
        )
    frame = frame.loc[frame[wave].isin(chosen)]
    duplicated = frame.duplicated([unit, wave], keep=False)
    if duplicated.any():
        examples = frame.loc[duplicated, [unit, wave]].drop_duplicates().head(3)
        shown = ", ".join(f"{unit} {u!r} at {wave} {w!r}" for u, w in examples.itertuples(index=False))
        raise DataError(
            f"{int(duplicated.sum())} rows share a ({unit}, {wave}) pair with another row, e.g. {shown}",
            hint="a panel has one row per person and wave: aggregate or remove the repeats",
        )
    wide = frame.pivot(index=unit, columns=wave, values=names)
    repeated = pd.concat([wide[(name, w)] for w in chosen for name in names], axis=1)
    repeated.columns = [f"{name}[{w}]" for w in chosen for name in names]
    first = frame.loc[frame[wave] == chosen[0]].set_index(unit)[first_only]
    joined = repeated.join(first, how="left")
    incomplete = joined.isna().any(axis=1)
    if incomplete.all():
        raise DataError(
            f"no {unit} has every variable at every wave ({', '.join(map(str, chosen))})",
            hint=f"check the {unit} and {wave} columns and the missing values",
        )
    if incomplete.any():
        notes.append(
            f"{int(incomplete.sum())} of {len(joined)} {unit}(s) missed a variable at some wave and were "
            "dropped (listwise deletion; if dropout depends on the variables, full-information ML would "
            "use them)"
        )
        joined = joined.loc[~incomplete]
    k = len(names)
    values = joined.iloc[:, : k * len(chosen)].to_numpy(dtype=np.float64)
    for t, value in enumerate(chosen):
        for i, (role, name) in enumerate(columns):
            _check_varies(values[:, t * k + i], role, name, wave, value, unit)
    for role, name in baseline:
        if not role.startswith("covariate"):
            column = joined[name].to_numpy(dtype=np.float64)
            _check_varies(column, role, name, wave, chosen[0], unit)
    return _Wide(values, chosen, joined[first_only], notes)


def _spacing_note(waves: list[Any]) -> str | None:
    numeric = all(isinstance(w, int | float | np.integer | np.floating) for w in waves)
    if numeric and len(waves) > 2:
        spacing = np.diff(np.asarray(waves, dtype=float))
        if not np.allclose(spacing, spacing[0]):
            return (
                f"the waves are unequally spaced ({', '.join(map(str, waves))}): equal lagged effects assume "
                "the same interval between waves; compare with equal_lags=False"
            )
    return None


# --------------------------------------------------------------------------------------------------------
# The RI-CLPM as a covariance structure
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """Which entries of Φ, Ψ_t and B_t are free, in the order of the parameter vector.

    ``between`` lists (i, j), i <= j, of Φ; ``residual`` (t, i, j) of Ψ_t; ``lagged`` (lag, target, source)
    of B, with lag the index of the lag pair (t-1 -> t is lag t-1) or -1 for an effect shared by all lags.
    """

    k: int
    n_waves: int
    between: tuple[tuple[int, int], ...]
    residual: tuple[tuple[int, int, int], ...]
    lagged: tuple[tuple[int, int, int], ...]

    @property
    def size(self) -> int:
        return len(self.between) + len(self.residual) + len(self.lagged)

    @property
    def df(self) -> int:
        d = self.k * self.n_waves
        return d * (d + 1) // 2 - self.size


def _spec(k: int, n_waves: int, equal_lags: bool, random_intercepts: bool) -> _Spec:
    pairs = [(i, j) for i in range(k) for j in range(i, k)]
    between = tuple(pairs) if random_intercepts else ()
    residual = tuple((t, i, j) for t in range(n_waves) for i, j in pairs)
    lags = [-1] if equal_lags else list(range(n_waves - 1))
    lagged = tuple((lag, target, source) for lag in lags for target in range(k) for source in range(k))
    return _Spec(k, n_waves, between, residual, lagged)


def _unpack(spec: _Spec, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Φ (k, k), Ψ (T, k, k) and B (T-1, k, k) from the parameter vector (B[t-1] maps wave t-1 to t)."""
    k, n_waves = spec.k, spec.n_waves
    phi = np.zeros((k, k))
    psi = np.zeros((n_waves, k, k))
    lag = np.zeros((n_waves - 1, k, k))
    position = 0
    for i, j in spec.between:
        phi[i, j] = phi[j, i] = theta[position]
        position += 1
    for t, i, j in spec.residual:
        psi[t, i, j] = psi[t, j, i] = theta[position]
        position += 1
    for which, target, source in spec.lagged:
        lag[slice(None) if which < 0 else which, target, source] = theta[position]
        position += 1
    return phi, psi, lag


def _structure(spec: _Spec, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Implied covariance Σ, the total-effect matrix A = (I - 𝔅)⁻¹ and the within covariance W = AΨA'."""
    k, n_waves = spec.k, spec.n_waves
    phi, psi, lag = _unpack(spec, theta)
    d = k * n_waves
    big_b = np.zeros((d, d))
    for t in range(1, n_waves):
        big_b[t * k : (t + 1) * k, (t - 1) * k : t * k] = lag[t - 1]
    total = np.linalg.inv(np.eye(d) - big_b)  # unit lower triangular: exact and well conditioned
    columns = total.reshape(d, n_waves, k)  # A's column blocks, one per wave
    within = np.einsum("atk,tkl,btl->ab", columns, psi, columns)
    sigma = np.tile(phi, (n_waves, n_waves)) + within
    return sigma, total, within


class _Point:
    """Σ and its derivatives at one θ: everything the discrepancy, its gradient and Hessians need.

    With A = (I - 𝔅)⁻¹, W = AΨA' and U_r = A E_r for a lagged parameter r (E_r its positions in 𝔅):

    * ∂Σ/∂Φ_ij puts the unit matrix of (i, j) into every (t, s) block; ∂Σ/∂Ψ_t,ij = A P A' (P the unit of
      (i, j) in block t); ∂Σ/∂b_r = U_r W + W U_r' (from ∂A = A ∂𝔅 A);
    * the only second derivatives are ∂²Σ/∂b_r∂b_s = X + X' with X = U_s U_r W + U_r U_s W + U_r W U_s', and
      ∂²Σ/∂b_r∂ψ_q = U_r ∂Σ/∂ψ_q + its transpose (Σ is linear in Φ and in Ψ).
    """

    def __init__(self, spec: _Spec, theta: np.ndarray) -> None:
        k, n_waves = spec.k, spec.n_waves
        d = k * n_waves
        self.sigma, total, self.within = _structure(spec, theta)
        n_between, n_residual = len(spec.between), len(spec.residual)
        jacobian = np.zeros((spec.size, d, d))
        for q, (i, j) in enumerate(spec.between):
            unit = np.zeros((k, k))
            unit[i, j] = unit[j, i] = 1.0
            jacobian[q] = np.tile(unit, (n_waves, n_waves))
        for q, (t, i, j) in enumerate(spec.residual):
            outer = np.outer(total[:, t * k + i], total[:, t * k + j])
            jacobian[n_between + q] = outer if i == j else outer + outer.T
        lagged = np.zeros((len(spec.lagged), d, d))  # U_r
        for q, (which, target, source) in enumerate(spec.lagged):
            for t in range(1, n_waves) if which < 0 else [which + 1]:
                lagged[q][:, (t - 1) * k + source] += total[:, t * k + target]
        product = lagged @ self.within
        jacobian[n_between + n_residual :] = product + product.transpose(0, 2, 1)
        self.jacobian = jacobian
        self.lagged = lagged
        self.residual_slice = slice(n_between, n_between + n_residual)
        self.lagged_slice = slice(n_between + n_residual, spec.size)
        try:
            self.factor: tuple[np.ndarray, bool] | None = sla.cho_factor(self.sigma, lower=True)
        except np.linalg.LinAlgError:
            self.factor = None  # outside the positive-definite region

    @property
    def admissible(self) -> bool:
        return self.factor is not None

    @functools.cached_property
    def inverse(self) -> np.ndarray:
        assert self.factor is not None
        return sla.cho_solve(self.factor, np.eye(len(self.sigma)))

    def discrepancy(self, sample: np.ndarray, log_det_sample: float) -> float:
        """F = log|Σ| + tr(SΣ⁻¹) - log|S| - d (infinite outside the positive-definite region)."""
        if self.factor is None:
            return math.inf
        log_det = 2.0 * float(np.log(np.diag(self.factor[0])).sum())
        return log_det + float(np.sum(sample * self.inverse)) - log_det_sample - len(self.sigma)

    def gradient(self, sample: np.ndarray) -> np.ndarray:
        """∂F/∂θ_p = tr(M ∂Σ/∂θ_p) with M = Σ⁻¹ (Σ - S) Σ⁻¹."""
        weight = self.inverse @ (self.sigma - sample) @ self.inverse
        return np.einsum("pij,ij->p", self.jacobian, weight)

    def expected_hessian(self) -> np.ndarray:
        """tr(Σ⁻¹ Σ_p Σ⁻¹ Σ_q): the Hessian of F expected under the model (2/n times the information)."""
        products = self.inverse @ self.jacobian
        return _traces(products, products)

    def hessian(self, sample: np.ndarray) -> np.ndarray:
        """The exact Hessian of F: 2 tr(Σ⁻¹SΣ⁻¹ Σ_p Σ⁻¹ Σ_q) - tr(Σ⁻¹ Σ_p Σ⁻¹ Σ_q) + tr(M ∂²Σ/∂θ_p∂θ_q)."""
        inverse = self.inverse
        products = inverse @ self.jacobian
        hessian = 2.0 * _traces((inverse @ sample) @ products, products) - _traces(products, products)
        weight = inverse @ (self.sigma - sample) @ inverse  # M, symmetric
        lagged, within = self.lagged, self.within
        # tr(M X) for X = U_s U_r W (first[r, s]), U_r U_s W (first[s, r]) and U_r W U_s' (third[r, s]).
        first = _traces(within @ weight @ lagged, lagged).T
        third = _traces(weight @ lagged @ within, lagged.transpose(0, 2, 1))
        second_lagged = 2.0 * (first + first.T + third)
        cross = 2.0 * _traces(weight @ lagged, self.jacobian[self.residual_slice])
        block = hessian[self.lagged_slice]
        block[:, self.lagged_slice] += 0.5 * (second_lagged + second_lagged.T)
        block[:, self.residual_slice] += cross
        hessian[self.residual_slice, self.lagged_slice] += cross.T
        return hessian


def _traces(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """tr(L_p R_q) for stacks of square matrices L (p, d, d) and R (q, d, d), as one matrix product."""
    return left.reshape(len(left), -1) @ right.transpose(0, 2, 1).reshape(len(right), -1).T


class _Discrepancy:
    """The ML discrepancy F(θ) with its gradient and exact Hessian for `scipy.optimize`, which asks for
    them one after another at the same θ: the work is shared through the last `_Point`."""

    def __init__(self, spec: _Spec, sample: np.ndarray) -> None:
        self.spec = spec
        self.sample = sample
        self.log_det_sample = float(np.linalg.slogdet(sample)[1])
        self._theta: np.ndarray | None = None
        self._point: _Point | None = None

    def at(self, theta: np.ndarray) -> _Point:
        if self._point is None or not np.array_equal(theta, self._theta):
            self._point = _Point(self.spec, theta)
            self._theta = theta.copy()
        return self._point

    def value(self, theta: np.ndarray) -> float:
        return self.at(theta).discrepancy(self.sample, self.log_det_sample)

    # scipy's trust-exact asks for the gradient and the Hessian at a proposed step before it sees that F is
    # infinite there and rejects it; any finite values do.
    def gradient(self, theta: np.ndarray) -> np.ndarray:
        point = self.at(theta)
        return point.gradient(self.sample) if point.admissible else np.zeros(self.spec.size)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        point = self.at(theta)
        return point.hessian(self.sample) if point.admissible else np.eye(self.spec.size)

    def decrement(self, theta: np.ndarray) -> float:
        """Newton decrement g'H⁻¹g (twice the decrease of F still to gain), with the expected Hessian,
        which is positive definite wherever the model is identified."""
        point = self.at(theta)
        if not point.admissible:
            return math.inf
        gradient = point.gradient(self.sample)
        try:
            return float(gradient @ np.linalg.solve(point.expected_hessian(), gradient))
        except np.linalg.LinAlgError:
            return math.inf


def _start(spec: _Spec, sample: np.ndarray) -> np.ndarray:
    """Start values: a random-intercept covariance of half the average covariance between different waves
    (shrunk until every wave's remaining covariance stays positive definite), no lagged effects, and each
    wave's remaining covariance as its within (residual) covariance, so Σ at the start is positive
    definite."""
    k, n_waves = spec.k, spec.n_waves
    blocks = sample.reshape(n_waves, k, n_waves, k).transpose(0, 2, 1, 3)  # blocks[t, s] is k x k
    phi = np.zeros((k, k))
    if spec.between:
        across = [blocks[t, s] for t in range(n_waves) for s in range(n_waves) if t != s]
        phi = 0.5 * np.mean(across, axis=0)
        phi = 0.5 * (phi + phi.T)
        values, vectors = np.linalg.eigh(phi)
        phi = (vectors * np.clip(values, 0.0, None)) @ vectors.T  # nearest positive semi-definite
        while any(np.linalg.eigvalsh(blocks[t, t] - phi)[0] <= 0 for t in range(n_waves)):
            phi *= 0.5
    theta = []
    theta += [phi[i, j] for i, j in spec.between]
    theta += [(blocks[t, t] - phi)[i, j] for t, i, j in spec.residual]
    theta += [0.0] * len(spec.lagged)
    return np.asarray(theta, dtype=np.float64)


@dataclass(frozen=True)
class _Fit:
    theta: np.ndarray
    value: float  # F at the minimum
    converged: bool
    iterations: int
    message: str


def _minimize(spec: _Spec, sample: np.ndarray, start: np.ndarray, max_iter: int) -> _Fit:
    """Minimize F by scipy's exact trust-region method (Newton steps with the exact Hessian inside a trust
    region, which also rejects steps that leave the positive-definite region, where F is infinite), then
    polish with plain Newton steps.

    scipy is stopped once the Newton decrement g'H⁻¹g (twice the decrease of F still to gain) is below
    `NEWTON_DECREMENT`: from there the trust region judges steps by differences of F that double precision
    no longer resolves, whereas full Newton steps, which need no such comparison, converge quadratically
    this close to the minimum and bring the estimates to rounding accuracy in one or two steps (a step is
    kept only if it lowers the decrement). Converged means the decrement ends below `NEWTON_DECREMENT`.
    """
    objective = _Discrepancy(spec, sample)
    if not math.isfinite(objective.value(start)):
        return _Fit(start, math.inf, False, 0, "the start values imply a covariance that is not positive")

    def stop_when_done(intermediate_result: optimize.OptimizeResult) -> None:  # scipy needs this name
        if objective.decrement(intermediate_result.x) < NEWTON_DECREMENT:
            raise StopIteration

    result = optimize.minimize(
        objective.value,
        start,
        jac=objective.gradient,
        hess=objective.hessian,
        method="trust-exact",
        callback=stop_when_done,
        options={"gtol": 1e-10, "maxiter": max_iter},
    )
    theta, decrement = result.x, objective.decrement(result.x)
    for _ in range(NEWTON_POLISH):
        if not decrement < NEWTON_POLISH_FROM:
            break
        try:
            polished = theta - np.linalg.solve(objective.hessian(theta), objective.gradient(theta))
        except np.linalg.LinAlgError:
            break
        decrement_polished = objective.decrement(polished)
        if not decrement_polished < decrement:
            break
        theta, decrement = polished, decrement_polished
    converged = decrement < NEWTON_DECREMENT
    return _Fit(theta, objective.value(theta), converged, int(result.nit), str(result.message))


def _scale_factors(spec: _Spec, scale: np.ndarray) -> np.ndarray:
    """Multipliers taking each parameter of the data divided by `scale` (one SD per variable, the same at
    every wave) back to the original units: Φ_ij, Ψ_ij by s_i s_j, B_ij (j → i) by s_i / s_j."""
    factors = [scale[i] * scale[j] for i, j in spec.between]
    factors += [scale[i] * scale[j] for _, i, j in spec.residual]
    factors += [scale[target] / scale[source] for _, target, source in spec.lagged]
    return np.asarray(factors)


@dataclass(frozen=True)
class _Estimates:
    theta: np.ndarray  # original units
    scaled: np.ndarray  # on the standardized scale the optimizer works on
    value: float
    iterations: int


def _estimate(
    spec: _Spec, sample: np.ndarray, scale: np.ndarray, start: np.ndarray | None, max_iter: int
) -> _Estimates | _Fit:
    """Fit on the data with every variable divided by its SD (variables in minutes and on a 1-5 scale
    otherwise give the optimizer parameters a thousand times apart); returns the unconverged `_Fit` when
    the optimizer fails."""
    d_scale = np.tile(scale, spec.n_waves)
    scaled_sample = sample / np.outer(d_scale, d_scale)
    fit = _minimize(spec, scaled_sample, _start(spec, scaled_sample) if start is None else start, max_iter)
    if not fit.converged:
        return fit
    return _Estimates(fit.theta * _scale_factors(spec, scale), fit.theta, fit.value, fit.iterations)


# --------------------------------------------------------------------------------------------------------
# riclpm
# --------------------------------------------------------------------------------------------------------


def _labels(spec: _Spec, names: list[str], waves: list[str]) -> pd.DataFrame:
    rows = []
    for i, j in spec.between:
        rows.append(("between", f"RI_{names[i]}", "~~", f"RI_{names[j]}", ""))
    for t, i, j in spec.residual:
        rows.append((f"within {waves[t]}", f"w_{names[i]}", "~~", f"w_{names[j]}", waves[t]))
    for which, target, source in spec.lagged:
        lag = "every lag" if which < 0 else f"{waves[which]}->{waves[which + 1]}"
        rows.append(("lagged", f"w_{names[target]}", "~", f"w_{names[source]}", lag))
    return pd.DataFrame(rows, columns=["block", "lhs", "op", "rhs", "waves"])


def _effect_name(target: int, source: int, roles: Sequence[str]) -> tuple[str, str]:
    if target == source:
        return f"{roles[target]}_autoregressive", "autoregressive"
    return f"{roles[source]}_to_{roles[target]}", "cross_lagged"


def _fit_statistics(
    spec: _Spec, sample: np.ndarray, sigma: np.ndarray, value: float, n: int
) -> dict[str, Any]:
    """Chi-square (n·F), baseline (independence) model, CFI, TLI and RMSEA as lavaan reports them for ML
    with a normal likelihood (n, not n - 1), and the log-likelihood with AIC and BIC (means counted)."""
    d = sample.shape[0]
    chi2 = n * value
    df = spec.df
    baseline = n * float(np.log(np.diag(sample)).sum() - np.linalg.slogdet(sample)[1])
    df_baseline = d * (d - 1) // 2
    excess, excess_baseline = max(chi2 - df, 0.0), max(baseline - df_baseline, 0.0)
    denominator = max(excess, excess_baseline)
    cfi = 1.0 - excess / denominator if denominator > 0 else 1.0
    tli = (baseline / df_baseline - chi2 / df) / (baseline / df_baseline - 1.0) if df > 0 else math.nan
    rmsea = math.sqrt(excess / (df * n)) if df > 0 else 0.0
    inverse = np.linalg.inv(sigma)
    loglik = -0.5 * n * (d * math.log(2 * math.pi) + np.linalg.slogdet(sigma)[1] + np.sum(sample * inverse))
    k_free = spec.size + d
    return {
        "chi2": float(chi2),
        "df": int(df),
        "p": float(special.chdtrc(df, chi2)) if df > 0 else math.nan,
        "cfi": float(cfi),
        "tli": float(tli),
        "rmsea": float(rmsea),
        "loglik": float(loglik),
        "aic": float(-2 * loglik + 2 * k_free),
        "bic": float(-2 * loglik + math.log(n) * k_free),
        "n_parameters": int(k_free),
        "chi2_baseline": float(baseline),
        "df_baseline": int(df_baseline),
    }


def _covariance_from_counts(centred: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Covariance matrices (divisor n) of the resamples whose row counts are `counts` (B, n)."""
    n = centred.shape[0]
    means = counts @ centred / n
    return crossproducts(centred, counts) / n - np.einsum("bj,bk->bjk", means, means)


@dataclass(frozen=True)
class _Requested:
    """An effect of `riclpm`: the product of the parameters at `positions` (one for a lagged path, two for
    an indirect effect)."""

    name: str
    kind: str
    positions: tuple[int, ...]
    extra: dict[str, Any]


def _requested_effects(spec: _Spec, roles: Sequence[str], wave_labels: list[str]) -> list[_Requested]:
    """The lagged paths (per lag pair when they are not equal), then with three variables the indirect
    effect X(t) -> M(t+1) -> Y(t+2) (one per starting wave when the lags are not equal)."""
    offset = len(spec.between) + len(spec.residual)
    position = {key: offset + q for q, key in enumerate(spec.lagged)}
    lag_labels = [f"{wave_labels[t]}->{wave_labels[t + 1]}" for t in range(spec.n_waves - 1)]
    requested = []
    for (which, target, source), index in position.items():
        name, kind = _effect_name(target, source, roles)
        suffix = "" if which < 0 else f"[{lag_labels[which]}]"
        lags = lag_labels if which < 0 else [lag_labels[which]]
        requested.append(_Requested(name + suffix, kind, (index,), {"lags": lags}))
    if spec.k == 3:
        equal = spec.lagged[0][0] < 0
        for start in [-1] if equal else range(spec.n_waves - 2):
            if start < 0:
                pair = (position[(-1, 1, 0)], position[(-1, 2, 1)])
                suffix, path = "", "X(t) -> M(t+1) -> Y(t+2)"
            else:
                first, middle, last = wave_labels[start : start + 3]
                pair = (position[(start, 1, 0)], position[(start + 1, 2, 1)])
                suffix, path = f"[{first}->{last}]", f"X({first}) -> M({middle}) -> Y({last})"
            requested.append(_Requested("indirect" + suffix, "indirect", pair, {"path": path}))
    return requested


def _effect(
    item: _Requested, theta: np.ndarray, covariance: np.ndarray, draws: np.ndarray | None, level: float
) -> Effect:
    """The effect with its Wald (delta-method for a product) interval, or its percentile bootstrap
    interval with the Wald values kept in ``extra``."""
    positions = list(item.positions)
    estimate = float(np.prod(theta[positions]))
    gradient = np.zeros(len(theta))
    for index in positions:  # ∂(θ_a θ_b)/∂θ_a = θ_b; ∂θ_a/∂θ_a = 1
        gradient[index] = float(np.prod([theta[j] for j in positions if j != index]))
    se = float(delta_method_se(gradient, covariance))
    low, high, p = wald_interval(estimate, se, level)
    method = "delta" if item.kind == "indirect" else "wald"
    if draws is None:
        return Effect(item.name, item.kind, estimate, se, low, high, p, method, item.extra)
    draw = np.prod(draws[:, positions], axis=1)
    b_low, b_high = percentile_interval(draw, None, level)
    extra = {**item.extra, f"{method}_se": se, f"{method}_ci_low": low, f"{method}_ci_high": high}
    extra[f"{method}_p"] = p
    return Effect(
        item.name, item.kind, estimate, float(np.std(draw, ddof=1)), b_low, b_high, p, "percentile", extra
    )


def _equal_lags_test(
    spec: _Spec, estimates: _Estimates, sample: np.ndarray, scale: np.ndarray, n: int, max_iter: int
) -> tuple[dict[str, float] | None, str | None]:
    """Chi-square difference of the equal-lags model against wave-specific lagged effects, and the note
    when it rejects (or when the larger model does not converge)."""
    n_waves = spec.n_waves
    free_spec = _spec(spec.k, n_waves, False, bool(spec.between))
    offset = len(spec.between) + len(spec.residual)
    # Start at the equal-lags estimates, every lag pair at the shared values.
    start = np.concatenate([estimates.scaled[:offset], np.tile(estimates.scaled[offset:], n_waves - 1)])
    free = _estimate(free_spec, sample, scale, start, max_iter)
    if isinstance(free, _Fit):
        return None, "the model with wave-specific lagged effects did not converge: equal lags not tested"
    difference = n * (estimates.value - free.value)
    df = free_spec.size - spec.size
    p = float(special.chdtrc(df, max(difference, 0.0)))
    note = None
    if p < STATIONARITY_ALPHA:
        note = (
            f"the lagged effects differ between waves (chi2({df}) = {difference:.2f}, p = {p:.3g}): equal "
            "effects over lags, on which one indirect effect rests, do not hold; read the wave-specific "
            "estimates (equal_lags=False)"
        )
    return {"chi2": float(difference), "df": int(df), "p": p}, note


def _heywood_notes(
    spec: _Spec, theta: np.ndarray, names: list[str], wave: str, wave_labels: list[str]
) -> list[str]:
    """Warnings for variances at or below 0 and random-intercept correlations beyond ±1."""
    phi, psi, _ = _unpack(spec, theta)
    notes = []
    for i, name in enumerate(names):
        if spec.between and phi[i, i] <= 0:
            notes.append(
                f"the random-intercept variance of '{name}' is estimated at {phi[i, i]:.3g} (at or below 0, "
                "a Heywood case): the data show no stable differences between persons in it; the CLPM "
                "(random_intercepts=False) may be the model to read"
            )
        negative = [wave_labels[t] for t in range(spec.n_waves) if psi[t, i, i] <= 0]
        if negative:
            notes.append(
                f"the within-person (residual) variance of '{name}' is estimated at or below 0 at {wave} "
                f"{', '.join(negative)} (a Heywood case): the estimates are not trustworthy"
            )
    if spec.between:
        with np.errstate(divide="ignore", invalid="ignore"):
            correlation = phi / np.sqrt(np.outer(np.diag(phi), np.diag(phi)))
        if np.any(np.abs(correlation[~np.eye(spec.k, dtype=bool)]) > 1):
            notes.append("a correlation of the random intercepts is beyond ±1 (a Heywood case)")
    return notes


def riclpm(
    data: pd.DataFrame,
    x: str,
    m: str,
    y: str | None = None,
    *,
    unit: str,
    wave: str,
    waves: Sequence[Any] | None = None,
    equal_lags: bool = True,
    random_intercepts: bool = True,
    information: Literal["expected", "observed"] = "expected",
    n_boot: int = 0,
    level: float = 0.95,
    seed: SeedLike = None,
    max_iter: int = 500,
) -> RICLPMResult:
    """Random-intercept cross-lagged panel model of two or three variables over three or more waves.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format: one row per person (recipient) and wave.
    x, m : str
        Numeric columns of the strategy (e.g. minutes of support in the period) and the mechanism.
    y : str, optional
        Numeric column of the outcome: with it the model has three variables and reports the indirect
        effect X(t) → M(t+1) → Y(t+2).
    unit, wave : str
        Columns identifying the person and the wave.
    waves : sequence, optional
        The waves to analyse, in time order (default: every value of ``wave``, sorted); at least three.
    equal_lags : bool
        Hold each lagged effect equal over the lag pairs (default). The residual (co)variances stay free at
        every wave. False estimates every lag pair's effects.
    random_intercepts : bool
        Model the stable person means (default). False fixes their (co)variances to 0: the classic CLPM,
        which confounds stable differences between people with within-person effects.
    information : {"expected", "observed"}
        The information matrix of the standard errors: expected (default, as lavaan and semopy for
        complete data) or observed (the Hessian of the log-likelihood at the estimates).
    n_boot : int
        Bootstrap resamples of persons (each refits the model, warm-started at the estimates) for
        percentile intervals of every lagged and indirect effect; 0 (default) gives delta-method (Wald)
        intervals.
    level : float
        Confidence level.
    seed : int, numpy.random.Generator or None
        Randomness of the bootstrap.
    max_iter : int
        Iterations allowed to the optimizer.

    Returns
    -------
    RICLPMResult

    Raises
    ------
    DataError
        Unknown or non-numeric columns, fewer than three waves, repeated (unit, wave) rows, a variable
        constant within a wave, fewer complete persons than the model needs, a singular sample covariance,
        or a fit that did not converge.

    Notes
    -----
    Why equal lagged effects by default: the indirect effect over waves is one quantity, x_to_m · m_to_y,
    only when the lagged effects are the same at every lag (the stationarity Cole & Maxwell, 2003, ask to
    test before estimating mediation); with equal lags every lag pair informs the same effects, which
    matters with the modest samples of implementation studies, and the assumption is tested in every
    result: ``fit["equal_lags_test"]`` compares the model with wave-specific lagged effects by the
    chi-square difference, and a warning says when it is rejected (then read ``equal_lags=False``, whose
    indirect effects are per starting wave). The same default serves three waves and ten, so a result does
    not change meaning with the number of waves.

    Every lagged effect is within-person: the deviation of a person from their own mean at wave t
    predicting their deviation at wave t+1 (Hamaker et al., 2015). The indirect effect's delta-method
    standard error uses the covariance of the two paths from the information matrix (Sobel's formula
    with the covariance term); the bootstrap resamples persons and refits the whole model, so it costs
    one fit per resample (milliseconds each; seconds for a thousand resamples). A negative variance
    estimate (a Heywood case) gets a warning: usually a random intercept with no stable differences, for
    which the CLPM (``random_intercepts=False``) is the model to read.

    References
    ----------
    Bollen, K. A. (1989). *Structural Equations with Latent Variables*. Wiley. (The ML discrepancy and its
    expected information.)
    Cole, D. A., & Maxwell, S. E. (2003). Testing mediational models with longitudinal data: Questions and
    tips in the use of structural equation modeling. *Journal of Abnormal Psychology*, 112(4), 558-577.
    Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the cross-lagged panel
    model. *Psychological Methods*, 20(1), 102-116.
    Mulder, J. D., & Hamaker, E. L. (2021). Three extensions of the random intercept cross-lagged panel
    model. *Structural Equation Modeling*, 28(4), 638-648.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n, waves = 2000, 4
    >>> person = rng.normal(size=(n, 3)) * [1.0, 0.8, 0.8]  # stable person means of x, m, y
    >>> lag = np.array([[0.4, 0.0, 0.0], [0.3, 0.4, 0.0], [0.0, 0.3, 0.4]])  # rows: target; cols: source
    >>> deviation = rng.normal(size=(n, 3))
    >>> rows = []
    >>> for t in range(waves):
    ...     if t:
    ...         deviation = deviation @ lag.T + rng.normal(size=(n, 3))
    ...     score = person + deviation
    ...     rows.append(pd.DataFrame({"id": range(n), "wave": t + 1, "minutes": score[:, 0],
    ...                               "trust": score[:, 1], "adoption": score[:, 2]}))
    >>> panel = pd.concat(rows)
    >>> result = riclpm(panel, "minutes", "trust", "adoption", unit="id", wave="wave")
    >>> round(result.effect("x_to_m").estimate, 1), round(result.effect("m_to_y").estimate, 1)
    (0.3, 0.3)
    >>> round(result.effect("indirect").estimate, 2)
    0.09
    """
    data = _columns.data_frame(data)
    _arguments.check(level=level, n_boot=n_boot, min_boot=100, boot_optional=True, seed=seed)
    _arguments.choice("information", information, ("expected", "observed"))
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise DataError(
            f"max_iter must be a whole number of at least 1, not {max_iter!r}", hint="500 is usual"
        )
    names = [x, m] + ([y] if y is not None else [])
    roles = list(_ROLES[: len(names)])
    columns = [(_ROLE_NAMES[role], name) for role, name in zip(roles, names, strict=True)]
    _columns.check_columns(data, [("unit", unit), ("wave", wave), *columns])
    wide = _wide(data, unit, wave, columns, waves, min_waves=3)
    notes = list(wide.notes)
    k, n_waves = len(names), len(wide.waves)
    values = wide.values
    n, d = values.shape
    spec = _spec(k, n_waves, equal_lags, random_intercepts)
    if n <= d:
        raise DataError(
            f"only {n} complete {unit}(s) for {d} variables (={k} x {n_waves} waves): the sample covariance "
            "matrix is singular",
            hint=f"at least {d + 1} persons are needed, and many more (hundreds) for stable estimates",
        )
    centred = values - values.mean(axis=0)
    sample = centred.T @ centred / n
    wave_labels = [str(w) for w in wide.waves]
    column_labels = [f"{name}[{w}]" for w in wave_labels for name in names]
    smallest = np.linalg.eigvalsh(sample / np.sqrt(np.outer(np.diag(sample), np.diag(sample))))[0]
    if smallest < 1e-10:
        raise DataError(
            "the variables are (nearly) linear combinations of each other across waves: the sample "
            "covariance matrix is singular",
            hint="check for a column repeated under another name or a variable computed from the others",
        )
    scale = np.sqrt(np.diag(sample).reshape(n_waves, k).mean(axis=0))
    estimates = _estimate(spec, sample, scale, None, max_iter)
    if isinstance(estimates, _Fit):
        raise DataError(
            f"the maximum-likelihood fit did not converge after {estimates.iterations} iterations "
            f"({estimates.message})",
            hint="raise max_iter, or simplify the model (equal_lags=True; random_intercepts=False if the "
            "stable person means barely vary)",
        )
    theta = estimates.theta
    point = _Point(spec, theta)
    sigma = point.sigma
    fit = _fit_statistics(spec, sample, sigma, estimates.value, n)
    fit["iterations"] = estimates.iterations
    hessian = point.expected_hessian() if information == "expected" else point.hessian(sample)
    try:
        covariance = np.linalg.inv(0.5 * n * hessian)  # the information is n/2 times the Hessian of F
    except np.linalg.LinAlgError as error:
        raise DataError(
            f"the {information} information matrix is singular: the model is not identified with these data",
            hint="fit equal_lags=True, or random_intercepts=False when the person means do not vary",
        ) from error
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))

    if equal_lags:
        fit["equal_lags_test"], note = _equal_lags_test(spec, estimates, sample, scale, n, max_iter)
        notes += [note] if note else []
    spacing = _spacing_note(wide.waves) if equal_lags else None
    if spacing:
        notes.append(spacing)

    phi = _unpack(spec, theta)[0]
    notes += _heywood_notes(spec, theta, names, wave, wave_labels)

    draws = None
    if n_boot:
        draws, n_failed = _bootstrap_riclpm(
            spec, centred, scale, estimates.scaled, int(n_boot), max_iter, seed
        )
        if n_failed:
            notes.append(
                f"{n_failed} of {int(n_boot)} bootstrap resamples did not converge and were left out"
            )
    requested = _requested_effects(spec, roles, wave_labels)
    effects = [_effect(item, theta, covariance, draws, level) for item in requested]

    labels = _labels(spec, names, wave_labels)
    z = theta / se
    table_low, table_high, table_p = wald_interval(theta, se, level)
    parameters = labels.assign(estimate=theta, se=se, z=z, p=table_p, ci_low=table_low, ci_high=table_high)
    means = pd.DataFrame(
        values.mean(axis=0).reshape(n_waves, k).T, index=pd.Index(names), columns=pd.Index(wave_labels)
    )
    between = (
        pd.DataFrame(phi, index=[f"RI_{name}" for name in names], columns=[f"RI_{name}" for name in names])
        if random_intercepts
        else None
    )
    model = "RI-CLPM" if random_intercepts else "CLPM (random intercepts fixed to 0)"
    method = (
        f"{model} of {k} variables over {n_waves} waves, "
        + ("lagged effects equal over lags" if equal_lags else "lagged effects per lag pair")
        + ", residual (co)variances per wave, saturated means; ML on the covariance matrix (divisor n), "
        f"SEs from the {information} information"
        + (f"; percentile bootstrap of {unit}s, {int(n_boot)} resamples" if n_boot else "")
        + f"; {level:.0%} intervals"
    )
    info = {
        "method": method,
        "n": n,
        "level": level,
        "n_boot": int(n_boot) or None,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
        "waves": wave_labels,
    }
    return RICLPMResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(dict.fromkeys(notes)),
        variables=dict(zip(roles, names, strict=True)),
        unit=unit,
        wave=wave,
        waves=tuple(wave_labels),
        equal_lags=equal_lags,
        random_intercepts=random_intercepts,
        parameters=parameters,
        means=means,
        between=between,
        implied=pd.DataFrame(sigma, index=column_labels, columns=column_labels),
        sample=pd.DataFrame(sample, index=column_labels, columns=column_labels),
        fit=fit,
        n=n,
    )


def _bootstrap_riclpm(
    spec: _Spec,
    centred: np.ndarray,
    scale: np.ndarray,
    start: np.ndarray,
    n_boot: int,
    max_iter: int,
    seed: SeedLike,
) -> tuple[np.ndarray, int]:
    """Parameters (original units) of every resample of persons, NaN rows for resamples that did not
    converge. The resample covariance matrices come from the resample counts in chunks (one matrix product
    each); each fit starts at the full-sample estimates, which a resample's optimum lies close to."""
    rng = as_generator(seed)
    n = centred.shape[0]
    draws = np.full((n_boot, spec.size), np.nan)
    row = 0
    for size in iter_chunks(n_boot, n):
        counts = bootstrap_counts(n, size, rng)
        for sample in _covariance_from_counts(centred, counts):
            estimates = _estimate(spec, sample, scale, start, max_iter)
            if isinstance(estimates, _Estimates):
                draws[row] = estimates.theta
            row += 1
    failed = np.isnan(draws).any(axis=1)
    return draws[~failed], int(failed.sum())


# --------------------------------------------------------------------------------------------------------
# half_longitudinal
# --------------------------------------------------------------------------------------------------------


def _half_longitudinal_draws(
    variables: np.ndarray, covariates: np.ndarray, direct: bool, n_boot: int, seed: SeedLike
) -> tuple[np.ndarray, int]:
    """Bootstrap draws of a·b (persons resampled, both regressions re-solved for all resamples at once by
    `bootstrap_regressions`), singular resamples left out, and how many there were. `variables` holds X_1,
    M_1, Y_1, M_2, Y_2 in this order."""
    centred = np.column_stack([variables, covariates])
    centred = centred - centred.mean(axis=0)  # better conditioned normal equations
    stacked = np.column_stack([np.ones(len(centred)), centred])  # 0: ones, 1..5: X1 M1 Y1 M2 Y2
    covariate_columns = list(range(6, stacked.shape[1]))
    equations = [
        (4, [0, 1, 2, *covariate_columns]),
        (5, [0, 2, 3, *([1] if direct else []), *covariate_columns]),
    ]
    draws = bootstrap_regressions(stacked, equations, n_boot, as_generator(seed))
    product = draws.coefficients[0][:, 1] * draws.coefficients[1][:, 1]
    return product[~draws.singular], draws.n_singular


def _coefficient_table(
    equation: str, terms: list[str], coef: np.ndarray, covariance: np.ndarray, df: int, level: float
) -> pd.DataFrame:
    se = np.sqrt(np.diag(covariance))
    low, high, p = wald_interval(coef, se, level, df)
    return pd.DataFrame(
        {
            "estimate": coef,
            "se": se,
            "statistic": coef / se,
            "df": df,
            "p": p,
            "ci_low": low,
            "ci_high": high,
        },
        index=pd.MultiIndex.from_tuples([(equation, term) for term in terms], names=["equation", "term"]),
    )


def half_longitudinal(
    data: pd.DataFrame,
    x: str,
    m: str,
    y: str,
    *,
    unit: str,
    wave: str,
    waves: Sequence[Any],
    covariates: Sequence[str] = (),
    direct: bool = True,
    n_boot: int = 5000,
    level: float = 0.95,
    seed: SeedLike = None,
) -> HalfLongitudinalResult:
    """Half-longitudinal mediation (Cole & Maxwell, 2003): the indirect effect over two lags from two waves.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format: one row per person (recipient) and wave.
    x, m, y : str
        Numeric columns of the strategy, the mechanism (mediator) and the outcome.
    unit, wave : str
        Columns identifying the person and the wave.
    waves : (first, second)
        The two waves, in time order.
    covariates : sequence of str
        Covariates taken at the first wave (text ones as 0/1 indicators), entering both equations.
    direct : bool
        Put X at the first wave into the equation of Y at the second (default): b is then the effect of M
        net of X, as in every mediation model, and ``direct`` is X's effect on Y over one lag. False gives
        the minimal form (Y at the second wave on M and Y at the first only).
    n_boot : int
        Bootstrap resamples of persons for the percentile interval of a·b (all at once, no refits); 0 gives
        the delta-method interval only.
    level : float
        Confidence level.
    seed : int, numpy.random.Generator or None
        Randomness of the bootstrap.

    Returns
    -------
    HalfLongitudinalResult

    Raises
    ------
    DataError
        Unknown or non-numeric columns, waves not two distinct values of ``wave``, repeated (unit, wave)
        rows, a variable constant within a wave, collinear predictors, too few complete persons.

    Notes
    -----
    With two waves, Cole & Maxwell (2003, "half-longitudinal design") estimate

        M_2 = i_M + a X_1 + s_M M_1 + C'γ_M + e_M
        Y_2 = i_Y + b M_1 + s_Y Y_1 (+ c' X_1) + C'γ_Y + e_Y

    by OLS: a is X's effect on M over one lag with M's stability removed, b is M's effect on Y over one
    lag with Y's stability removed, and a·b estimates the indirect effect X_t → M_{t+1} → Y_{t+2} if the
    a path from wave 1 to 2 equals the one from wave 2 to 3 and likewise for b (stationarity, untestable
    with two waves). The estimate still mixes stable between-person differences into the paths; with three
    or more waves `riclpm` separates them.

    The delta-method SE of a·b is sqrt(b² var(a) + a² var(b) + 2ab cov(a, b)): the two equations share
    the persons, so their coefficients covary; cov(a, b) is the equation-by-equation OLS (SUR-type)
    cross-covariance σ̂_MY (X_M'X_M)⁻¹X_M'X_Y(X_Y'X_Y)⁻¹ with σ̂_MY = e_M'e_Y / √((n - p_M)(n - p_Y))
    (Zellner, 1962). The bootstrap resamples persons and re-solves both regressions for every resample in
    one batch (`moclab.analysis.bootstrap.bootstrap_regressions`).

    References
    ----------
    Cole, D. A., & Maxwell, S. E. (2003). Testing mediational models with longitudinal data: Questions and
    tips in the use of structural equation modeling. *Journal of Abnormal Psychology*, 112(4), 558-577.
    Maxwell, S. E., & Cole, D. A. (2007). Bias in cross-sectional analyses of longitudinal mediation.
    *Psychological Methods*, 12(1), 23-44.
    Zellner, A. (1962). An efficient method of estimating seemingly unrelated regressions and tests for
    aggregation bias. *JASA*, 57(298), 348-368.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> n = 1000
    >>> x1, m1, y1 = rng.normal(size=(3, n))
    >>> m2 = 0.5 * x1 + 0.4 * m1 + rng.normal(size=n)
    >>> y2 = 0.4 * m1 + 0.5 * y1 + rng.normal(size=n)
    >>> long = pd.DataFrame({"id": np.tile(np.arange(n), 2), "wave": np.repeat([1, 2], n),
    ...                      "minutes": np.r_[x1, x1], "trust": np.r_[m1, m2], "adoption": np.r_[y1, y2]})
    >>> result = half_longitudinal(long, "minutes", "trust", "adoption", unit="id", wave="wave",
    ...                            waves=(1, 2), n_boot=1000, seed=1)
    >>> round(result.effect("a").estimate, 1), round(result.effect("b").estimate, 1)
    (0.5, 0.4)
    >>> low, high = result.effect("indirect").ci_low, result.effect("indirect").ci_high
    >>> bool(0.1 < low < 0.2 < high < 0.3)
    True
    """
    data = _columns.data_frame(data)
    _arguments.check(level=level, n_boot=n_boot, min_boot=200, boot_optional=True, seed=seed)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    columns = [("mediator m", m), ("outcome y", y)]
    baseline = [("strategy x", x), *[("covariate", c) for c in covariates]]
    _columns.check_columns(data, [("unit", unit), ("wave", wave), ("strategy x", x), *columns, *baseline[1:]])
    if isinstance(waves, str) or not hasattr(waves, "__len__") or len(waves) != 2:
        raise DataError(
            f"waves must be the two waves (first, second), not {waves!r}",
            hint="e.g. waves=(1, 2); for three or more waves use riclpm",
        )
    wide = _wide(data, unit, wave, columns, waves, min_waves=2, baseline=baseline)
    notes = list(wide.notes)
    m1, y1, m2, y2 = wide.values.T
    n = m1.size
    x1 = wide.baseline[x].to_numpy(dtype=np.float64)
    extra = _columns.covariate_matrix(wide.baseline, covariates)
    first, second = (str(w) for w in wide.waves)
    m_terms = ["intercept", f"{x} ({first})", f"{m} ({first})", *extra.names]
    y_terms = ["intercept", f"{m} ({first})", f"{y} ({first})"]
    y_terms += ([f"{x} ({first})"] if direct else []) + extra.names
    ones = np.ones(n)
    design_m = np.column_stack([ones, x1, m1, extra.matrix])
    design_y = np.column_stack([ones, m1, y1, *([x1] if direct else []), extra.matrix])
    _columns.check_enough_rows(n, max(design_m.shape[1], design_y.shape[1]))
    _columns.check_full_rank(design_m, m_terms, f"{m} ({second})")
    _columns.check_full_rank(design_y, y_terms, f"{y} ({second})")

    fit_m, fit_y = least_squares(design_m, m2), least_squares(design_y, y2)
    df_m, df_y = n - design_m.shape[1], n - design_y.shape[1]
    e_m, e_y = fit_m.residuals, fit_y.residuals
    covariance_m = e_m @ e_m / df_m * fit_m.xtx_inv
    covariance_y = e_y @ e_y / df_y * fit_y.xtx_inv
    cross = e_m @ e_y / math.sqrt(df_m * df_y) * fit_m.xtx_inv @ design_m.T @ design_y @ fit_y.xtx_inv
    a, b = float(fit_m.coef[1]), float(fit_y.coef[1])
    var_a, var_b, cov_ab = covariance_m[1, 1], covariance_y[1, 1], cross[1, 1]

    def path(name: str, kind: str, estimate: float, variance: float, df: int) -> Effect:
        se = math.sqrt(variance)
        low, high, p = wald_interval(estimate, se, level, df)
        return Effect(name, kind, estimate, se, low, high, p, "t", {"df": df})

    effects = [
        path("a", "a", a, var_a, df_m),
        path("b", "b", b, var_b, df_y),
    ]
    if direct:
        effects.append(path("direct", "direct", float(fit_y.coef[3]), covariance_y[3, 3], df_y))
    effects += [
        path("m_autoregressive", "autoregressive", float(fit_m.coef[2]), covariance_m[2, 2], df_m),
        path("y_autoregressive", "autoregressive", float(fit_y.coef[2]), covariance_y[2, 2], df_y),
    ]
    indirect = a * b
    delta_se = float(delta_method_se(np.array([b, a]), np.array([[var_a, cov_ab], [cov_ab, var_b]])))
    low, high, p = wald_interval(indirect, delta_se, level)
    if n_boot:
        product, n_singular = _half_longitudinal_draws(
            np.column_stack([x1, m1, y1, m2, y2]), extra.matrix, direct, int(n_boot), seed
        )
        if n_singular:
            notes.append(f"{n_singular} of {int(n_boot)} bootstrap resamples were singular and dropped")
        b_low, b_high = percentile_interval(product, None, level)
        delta = {"delta_se": delta_se, "delta_ci_low": low, "delta_ci_high": high, "delta_p": p}
        bootstrap_se = float(np.std(product, ddof=1))
        effects.append(
            Effect("indirect", "indirect", indirect, bootstrap_se, b_low, b_high, p, "percentile", delta)
        )
    else:
        effects.append(Effect("indirect", "indirect", indirect, delta_se, low, high, p, "delta"))
    notes.append(
        "a·b estimates the indirect effect over two lags only if the a and b paths are the same at every lag "
        "(stationarity; Cole & Maxwell 2003), which two waves cannot test, and the paths still include "
        "stable differences between persons; with three or more waves, riclpm separates them"
    )

    tables = [
        _coefficient_table(f"{m} ({second})", m_terms, fit_m.coef, covariance_m, df_m, level),
        _coefficient_table(f"{y} ({second})", y_terms, fit_y.coef, covariance_y, df_y, level),
    ]
    method = (
        f"half-longitudinal design, waves {first} -> {second}: OLS of {m} ({second}) on {x}, {m} ({first}) "
        f"and of {y} ({second}) on {m}, {y}"
        + (f", {x}" if direct else "")
        + f" ({first})"
        + (f", covariates {', '.join(covariates)}" if covariates else "")
        + "; indirect a·b with "
        + (
            f"percentile bootstrap of {unit}s, {int(n_boot)} resamples (delta method in delta_*)"
            if n_boot
            else "the delta method"
        )
        + f"; {level:.0%} intervals"
    )
    info = {
        "method": method,
        "n": n,
        "level": level,
        "n_boot": int(n_boot) or None,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
        "covariates": covariates,
        "waves": [first, second],
    }
    return HalfLongitudinalResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(dict.fromkeys(notes)),
        x=x,
        m=m,
        y=y,
        unit=unit,
        wave=wave,
        waves=(first, second),
        direct=direct,
        coefficients=pd.concat(tables),
        n=n,
    )
