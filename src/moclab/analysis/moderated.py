"""Moderated mediation: conditional indirect effects and the index of moderated mediation (Hayes 2015).

Does the mechanism carry the strategy's effect equally well everywhere, or does a moderator W (site
readiness, the mode of support: push, push/pull, co-creation) change how strongly the strategy moves the
mechanism (the a path), how strongly the mechanism moves the outcome (the b path), or both?
`moderated_mediation` fits the regression models of PROCESS (Hayes 2022) with W on

* the a path (model 7):  M = a0 + a1 X + a2 W + a3 X W + C'g_M;  Y = c0 + c' X + b1 M + C'g_Y
* the b path (model 14): M = a0 + a1 X + C'g_M;  Y = c0 + c' X + b1 M + b2 W + b3 M W + C'g_Y
* both paths (model 58): M as in model 7;  Y as in model 14
* both and the direct path (model 59): M as in model 7;  Y = c0 + c1 X + c2 W + c3 X W + b1 M + b3 M W + C'g_Y

and reports the conditional indirect effect a(w) b(w) at chosen values of a continuous W or in every group of
a categorical one, the index of moderated mediation (the slope of the conditional indirect effect in W, a3 b1
or a1 b3) where the indirect effect is linear in W, and pairwise contrasts of the conditional indirect effects
where it is not (models 58 and 59) or where W is categorical. Intervals are bootstrap intervals (percentile or
BCa): every resample refits both models at once from one batched cross-product matrix
(`moclab.analysis.bootstrap`).
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import OlsFit, ols, wald
from moclab.analysis.bootstrap import (
    SeedLike,
    as_generator,
    bootstrap_counts,
    crossproducts,
    iter_chunks,
    jackknife_crossproducts,
    solve_equations,
)
from moclab.analysis.intervals import bca_interval, percentile_interval, wald_interval
from moclab.analysis.results import AnalysisResult, Effect
from moclab.errors import DataError, did_you_mean
from moclab.plain import plain

__all__ = ["ModeratedMediationResult", "moderated_mediation"]

#: PROCESS model numbers offered, and which paths W moderates in each: (a path, b path, direct path).
MODELS: dict[int, tuple[bool, bool, bool]] = {
    7: (True, False, False),
    14: (False, True, False),
    58: (True, True, False),
    59: (True, True, True),
}
CI_METHODS: tuple[str, ...] = ("percentile", "bca")
PROBE_RULES: tuple[str, ...] = ("mean_sd", "percentiles")
W_TYPES: tuple[str, ...] = ("auto", "continuous", "categorical")

#: Fewest rows a group of a categorical moderator may have: its conditional a or b path is a regression
#: slope within the group, and with fewer rows many bootstrap resamples leave the group nearly empty.
MIN_GROUP_ROWS = 10

_PATH_TEXT = {
    7: "W moderates the a path (X -> M)",
    14: "W moderates the b path (M -> Y)",
    58: "W moderates the a and b paths",
    59: "W moderates the a, b and direct paths",
}
_REFERENCE = (
    "Hayes (2015), Multivariate Behavioral Research 50(1):1-22; Hayes (2022), PROCESS models 7/14/58/59"
)


# ------------------------------------------------------------------------------------------------------------
# Data: the moderator, its probe values, the regression system
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Moderator:
    """W as model columns (one, or one indicator per non-reference group), and the values it is probed at.

    ``probes`` (P, k) holds the moderator columns at each probe (the value of W, or the group's indicator
    row); ``labels`` names them; ``values`` is what W is there (a number or a group).
    """

    kind: str  # "continuous" or "categorical"
    columns: np.ndarray  # (n, k)
    terms: tuple[str, ...]  # names of the k columns
    probes: np.ndarray  # (P, k)
    labels: tuple[str, ...]
    values: tuple[Any, ...]
    rule: str  # how the probes were chosen, in words
    reference: Any = None  # the reference group of a categorical W
    notes: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        return self.columns.shape[1]


@dataclass(frozen=True)
class _System:
    """The mediator and outcome equations over one data matrix, and where the paths sit in them.

    ``data`` (n, v) holds, in order, the constant, X, the W columns, the X x W columns (when W moderates the
    a or the direct path), M, the M x W columns (when it moderates the b path), the covariates and Y. The
    index lists give the positions of a1 and the a3 terms in the mediator equation's coefficients, of b1
    and the b3 terms, and of c1 and the c3 terms in the outcome equation's.
    """

    data: np.ndarray
    column_names: tuple[str, ...]
    mediator: tuple[int, list[int]]
    outcome: tuple[int, list[int]]
    a: list[int]
    b: list[int]
    c: list[int]

    def mediator_design(self) -> np.ndarray:
        return self.data[:, self.mediator[1]]

    def outcome_design(self) -> np.ndarray:
        return self.data[:, self.outcome[1]]


def _probe_continuous(values: np.ndarray, w_values: Any, w: str) -> tuple[np.ndarray, tuple, str, list[str]]:
    """Probe values of a continuous W: mean and +-1 SD, PROCESS's 16th/50th/84th percentiles, or given."""
    notes: list[str] = []
    distinct = np.unique(values)
    if isinstance(w_values, str):
        _arguments.choice("w_values", w_values, PROBE_RULES)
        if distinct.size == 2:
            notes.append(f"'{w}' takes two values: probed at each of them (as PROCESS does)")
            return distinct, tuple(f"{v:g}" for v in distinct), "its two values", notes
        if w_values == "mean_sd":
            mean, sd = float(values.mean()), float(values.std(ddof=1))
            return (
                np.array([mean - sd, mean, mean + sd]),
                ("-1 SD", "mean", "+1 SD"),
                "the mean and one standard deviation (n - 1) either side",
                notes,
            )
        # PROCESS 3 and later: sorted values interpolated at position p(n + 1) (numpy's "weibull" method).
        probes = np.percentile(values, [16, 50, 84], method="weibull")
        return probes, ("p16", "p50", "p84"), "the 16th, 50th and 84th percentiles (PROCESS's rule)", notes
    try:
        probes = np.asarray(w_values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as error:
        raise DataError(
            f"w_values must be 'mean_sd', 'percentiles' or a list of numbers, not {w_values!r}"
        ) from error
    if probes.size == 0 or not np.all(np.isfinite(probes)):
        raise DataError(f"w_values must be finite numbers, not {w_values!r}", hint="e.g. w_values=[-1, 0, 1]")
    if np.unique(probes).size != probes.size:
        raise DataError(f"w_values repeats a value ({w_values!r})", hint="give each value once")
    outside = [v for v in probes if not distinct[0] <= v <= distinct[-1]]
    if outside:
        shown = ", ".join(f"{v:g}" for v in outside)
        notes.append(f"w_values {shown} lie outside the observed range of '{w}' (extrapolation)")
    return probes, tuple(f"{v:g}" for v in probes), "the values given", notes


def _moderator(frame: pd.DataFrame, w: str, w_type: str, w_values: Any, w_reference: Any) -> _Moderator:
    column = frame[w]
    numeric = pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column)
    kind = ("continuous" if numeric else "categorical") if w_type == "auto" else w_type
    if kind == "continuous":
        if w_reference is not None:
            raise DataError(
                "w_reference names the reference group of a categorical moderator",
                hint=f"leave it out for a continuous '{w}', or pass w_type='categorical'",
            )
        values = _columns.numeric_values(column, "moderator", w)
        _columns.check_not_constant(values, "moderator", w)
        probes, labels, rule, notes = _probe_continuous(values, w_values, w)
        return _Moderator(
            "continuous",
            values[:, None],
            (w,),
            probes[:, None],
            labels,
            tuple(float(v) for v in probes),
            rule,
            notes=tuple(notes),
        )
    if not isinstance(w_values, str) or w_values not in PROBE_RULES:
        raise DataError(
            "w_values chooses the probe values of a continuous moderator; a categorical one is probed in "
            "every group",
            hint="leave w_values out",
        )
    categorical = column.astype("category")
    groups = [g for g in categorical.cat.categories if (categorical == g).any()]
    _columns.check_not_constant(np.asarray(categorical.astype(object)), "moderator", w)
    counts = categorical.value_counts()
    small = [f"'{g}' ({int(counts[g])} rows)" for g in groups if counts[g] < MIN_GROUP_ROWS]
    if small:
        raise DataError(
            f"the moderator '{w}' has groups with fewer than {MIN_GROUP_ROWS} rows: {', '.join(small)}",
            hint="merge small groups with a similar one, or drop their rows",
        )
    if w_reference is None:
        reference = groups[0]
    else:
        matches = [g for g in groups if g == w_reference or str(g) == str(w_reference)]
        if not matches:
            raise DataError(
                f"w_reference {w_reference!r} is not a group of '{w}'",
                hint=did_you_mean(str(w_reference), [str(g) for g in groups])
                or f"the groups are: {', '.join(str(g) for g in groups)}",
            )
        reference = matches[0]
    others = [g for g in groups if g != reference]
    order = [reference, *others]
    indicators = np.column_stack([(categorical == g).to_numpy(dtype=np.float64) for g in others])
    probes = np.vstack([np.zeros(len(others)), np.eye(len(others))])
    return _Moderator(
        "categorical",
        indicators,
        tuple(f"{w}[{g}]" for g in others),
        probes,
        tuple(str(g) for g in order),
        tuple(order),
        f"every group (indicator coding against '{reference}')",
        reference=reference,
    )


def _system(
    x: np.ndarray,
    m: np.ndarray,
    y: np.ndarray,
    covariates: np.ndarray,
    covariate_names: Sequence[str],
    moderator: _Moderator,
    model: int,
    names: tuple[str, str, str],
) -> _System:
    """The data matrix and the two equations of the PROCESS model (see `_System`)."""
    a_moderated, b_moderated, direct_moderated = MODELS[model]
    x_name, m_name, y_name = names
    w_cols, terms = moderator.columns, moderator.terms
    blocks: list[tuple[str, np.ndarray]] = [("const", np.ones(x.size)), (x_name, x)]
    blocks += [(term, w_cols[:, j]) for j, term in enumerate(terms)]
    xw = a_moderated or direct_moderated
    if xw:
        blocks += [(f"{x_name}:{term}", x * w_cols[:, j]) for j, term in enumerate(terms)]
    blocks.append((m_name, m))
    if b_moderated:
        blocks += [(f"{m_name}:{term}", m * w_cols[:, j]) for j, term in enumerate(terms)]
    blocks += [(name, covariates[:, j]) for j, name in enumerate(covariate_names)]
    blocks.append((y_name, y))
    column_names = tuple(name for name, _ in blocks)
    data = np.column_stack([values for _, values in blocks])
    where = {name: j for j, name in enumerate(column_names)}
    w_idx = [where[t] for t in terms]
    xw_idx = [where[f"{x_name}:{t}"] for t in terms] if xw else []
    mw_idx = [where[f"{m_name}:{t}"] for t in terms] if b_moderated else []
    c_idx = [where[name] for name in covariate_names]

    mediator_predictors = [0, 1, *(w_idx + xw_idx if a_moderated else []), *c_idx]
    outcome_predictors = [0, 1, where[m_name]]
    if b_moderated or direct_moderated:
        outcome_predictors += w_idx
    if direct_moderated:
        outcome_predictors += xw_idx
    outcome_predictors += [*mw_idx, *c_idx]

    def positions(predictors: list[int], columns: list[int]) -> list[int]:
        return [predictors.index(c) for c in columns]

    return _System(
        data=data,
        column_names=column_names,
        mediator=(where[m_name], mediator_predictors),
        outcome=(where[y_name], outcome_predictors),
        a=positions(mediator_predictors, [1, *(xw_idx if a_moderated else [])]),
        b=positions(outcome_predictors, [where[m_name], *mw_idx]),
        c=positions(outcome_predictors, [1, *(xw_idx if direct_moderated else [])]),
    )


# ------------------------------------------------------------------------------------------------------------
# Effects from path coefficients (one row per bootstrap resample, or the estimate)
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Paths:
    """The coefficients the effects are made of, one row per parameter vector: a1 and the a3 terms (zero when
    W does not moderate the a path), b1 and the b3 terms, c1 and the c3 terms; each (B, 1 + k)."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray

    @classmethod
    def of(cls, system: _System, mediator: np.ndarray, outcome: np.ndarray, k: int) -> _Paths:
        def take(coefficients: np.ndarray, positions: list[int]) -> np.ndarray:
            out = np.zeros((coefficients.shape[0], 1 + k))
            out[:, : len(positions)] = coefficients[:, positions]
            return out

        return cls(take(mediator, system.a), take(outcome, system.b), take(outcome, system.c))

    def rows(self, keep: np.ndarray) -> _Paths:
        return _Paths(self.a[keep], self.b[keep], self.c[keep])

    def at(self, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """a(w), b(w) and the direct effect c(w) at every probe (rows of ``probes``, (P, k)): (B, P) each."""
        with_one = np.column_stack([np.ones(probes.shape[0]), probes])  # (P, 1 + k)
        return self.a @ with_one.T, self.b @ with_one.T, self.c @ with_one.T

    def frame(self, terms: Sequence[str]) -> pd.DataFrame:
        names = ["", *(f":{t}" for t in terms)]
        columns = {}
        for path, values in (("a", self.a), ("b", self.b), ("c", self.c)):
            columns.update({f"{path}{suffix}": values[:, j] for j, suffix in enumerate(names)})
        return pd.DataFrame(columns)


@dataclass(frozen=True)
class _Plan:
    """Which effects the model reports: names and kinds, in order."""

    indirect: tuple[str, ...]
    index: str | None  # continuous W with a linear index (models 7 and 14)
    contrasts: tuple[tuple[int, int], ...]  # probe pairs (later, earlier)
    contrast_kind: str

    def contrast_name(self, labels: Sequence[str], pair: tuple[int, int]) -> str:
        return f"contrast[{labels[pair[0]]} - {labels[pair[1]]}]"


def _plan(model: int, moderator: _Moderator, w: str) -> _Plan:
    linear = model in (7, 14)
    indirect = tuple(f"indirect[{w}={label}]" for label in moderator.labels)
    index = "index" if linear and moderator.kind == "continuous" else None
    pairs: tuple[tuple[int, int], ...] = ()
    if moderator.kind == "categorical" or not linear:
        pairs = tuple((j, i) for i, j in itertools.combinations(range(len(moderator.labels)), 2))
    return _Plan(indirect, index, pairs, "index" if linear else "contrast")


def _effect_values(paths: _Paths, moderator: _Moderator, plan: _Plan, model: int) -> dict[str, np.ndarray]:
    """Every bootstrapped effect for each row of `paths`: conditional indirect effects, the index or the
    contrasts (columns of the result's draws)."""
    a, b, _ = paths.at(moderator.probes)
    indirect = a * b
    values = {name: indirect[:, j] for j, name in enumerate(plan.indirect)}
    if plan.index is not None:
        # d/dW of (a1 + a3 W)(b1 + b3 W) with one of a3, b3 zero: a3 b1 (model 7) or a1 b3 (model 14).
        values[plan.index] = paths.a[:, 1] * paths.b[:, 0] if model == 7 else paths.a[:, 0] * paths.b[:, 1]
    for pair in plan.contrasts:
        values[plan.contrast_name(moderator.labels, pair)] = indirect[:, pair[0]] - indirect[:, pair[1]]
    return values


def _paths_from_crossproducts(system: _System, cross: np.ndarray, k: int) -> tuple[_Paths, np.ndarray]:
    """Paths of both equations solved from (batched) cross-product matrices, and which systems were
    singular (a group of W or a value of X missing from a resample)."""
    mediator, bad_m = solve_equations(cross, *system.mediator)
    outcome, bad_y = solve_equations(cross, *system.outcome)
    return _Paths.of(system, mediator, outcome, k), bad_m | bad_y


def _centred(data: np.ndarray) -> np.ndarray:
    """Every column but the constant centred at its mean: the slopes stay, the normal equations are better
    conditioned (see `moclab.analysis.bootstrap`)."""
    out = data - data.mean(axis=0)
    out[:, 0] = 1.0
    return out


def _bootstrap(system: _System, k: int, n_boot: int, rng: np.random.Generator) -> tuple[_Paths, np.ndarray]:
    """Paths on `n_boot` row resamples, a chunk of resamples at a time (one matrix product per chunk)."""
    data = _centred(system.data)
    parts = []
    for size in iter_chunks(n_boot, data.shape[0]):
        counts = bootstrap_counts(data.shape[0], size, rng)
        parts.append(_paths_from_crossproducts(system, crossproducts(data, counts), k))
    paths = _Paths(*(np.concatenate([getattr(p, f) for p, _ in parts]) for f in ("a", "b", "c")))
    return paths, np.concatenate([bad for _, bad in parts])


# ------------------------------------------------------------------------------------------------------------
# Result
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ModeratedMediationResult(AnalysisResult):
    """Result of `moderated_mediation`.

    Effects, one row each in ``to_frame()``:

    * ``indirect[W=label]`` (kind "indirect"): the conditional indirect effect a(w) b(w) at a probe value of
      W (``-1 SD``, ``mean``, ``+1 SD``; ``p16``, ``p50``, ``p84``; the value given) or in a group of a
      categorical W; ``extra`` holds ``w`` and the conditional paths ``a`` and ``b``;
    * ``index`` (kind "index"; continuous W, models 7 and 14): the index of moderated mediation, a3 b1 or
      a1 b3, the change in the indirect effect per unit of W;
    * ``contrast[l1 - l2]``: the difference of two conditional indirect effects, for a categorical W (kind
      "index" in models 7 and 14, where each is the index of moderated mediation for that pair of groups)
      and for models 58 and 59 (kind "contrast": there the indirect effect is quadratic in W and has no
      single index);
    * ``direct`` (kind "direct", models 7, 14, 58) or ``direct[W=label]`` (model 59, conditional direct
      effects c1 + c3 w): regression coefficients with t intervals.

    Attributes
    ----------
    model : int
        PROCESS model number (7, 14, 58 or 59).
    x, m, y, w : str
        Strategy, mechanism, outcome and moderator columns.
    covariates : tuple of str
        Covariate columns of both models (``name[level]`` for indicators).
    w_type : {"continuous", "categorical"}
    probes : pandas.DataFrame
        One row per probe: ``w`` (value or group), conditional ``a``, ``b``, ``indirect`` with its
        interval, and ``direct``.
    mediator_model, outcome_model : pandas.DataFrame
        Coefficient tables (estimate, se, t, df, p, ci_low, ci_high) of the two OLS models.
    draws : pandas.DataFrame or None
        The bootstrapped effects (one column per effect but the direct effects).
    path_draws : pandas.DataFrame or None
        The bootstrapped path coefficients ``a``, ``a:term``, ``b``, ``b:term``, ``c``, ``c:term``, from which
        `plot` draws the band of the conditional indirect effect over W.
    n, n_dropped : int
    """

    model: int = 7
    x: str = ""
    m: str = ""
    y: str = ""
    w: str = ""
    covariates: tuple[str, ...] = ()
    w_type: str = "continuous"
    probes: pd.DataFrame | None = None
    mediator_model: pd.DataFrame | None = None
    outcome_model: pd.DataFrame | None = None
    draws: pd.DataFrame | None = None
    path_draws: pd.DataFrame | None = None
    n: int = 0
    n_dropped: int = 0

    title = "Moderated mediation"
    headline = ("index", "indirect")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        for name in ("probes", "mediator_model", "outcome_model"):
            table = getattr(self, name)
            base[name] = None if table is None else plain(table.reset_index().to_dict(orient="records"))
        base.update(
            plain(
                {
                    "model": self.model,
                    "x": self.x,
                    "m": self.m,
                    "y": self.y,
                    "w": self.w,
                    "covariates": list(self.covariates),
                    "w_type": self.w_type,
                    "n": self.n,
                    "n_dropped": self.n_dropped,
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """Readable report: the model, the conditional indirect effects, the index or contrasts, the direct
        effect(s) and the warnings."""
        info = self.info
        fmt = f"{{:.{digits}f}}"
        lines = [
            f"{self.title}: PROCESS model {self.model} ({_PATH_TEXT[self.model]}; Hayes 2015)",
            f"  X: {self.x}; M: {self.m}; Y: {self.y}; "
            f"W: {self.w} ({self.w_type}, probed at {info['probe_rule']})",
        ]
        if self.covariates:
            lines.append(f"  covariates: {', '.join(self.covariates)}")
        lines.append(f"  n = {self.n} ({self.n_dropped} row(s) dropped for missing values); {info['method']}")
        frame = self.to_frame()
        columns = ["estimate", "se", "ci_low", "ci_high"]

        def table(kinds: Sequence[str], before: Sequence[str] = (), after: Sequence[str] = ()) -> str:
            rows = frame[frame["kind"].isin(kinds)][[*before, *columns, *after]]
            rows.index.name = None
            return rows.to_string(float_format=lambda v: fmt.format(v), na_rep="")

        lines += ["", "Conditional indirect effects of X on Y through M:", table(["indirect"], ["a", "b"])]
        if (frame["kind"] == "index").any():
            heading = "Index of moderated mediation (Hayes 2015)" + (
                ": pairwise differences between the groups" if self.w_type == "categorical" else ""
            )
            lines += ["", f"{heading}:", table(["index"])]
        if (frame["kind"] == "contrast").any():
            lines += ["", "Pairwise contrasts of conditional indirect effects:", table(["contrast"])]
        lines += ["", "Direct effect(s) of X on Y (t intervals):", table(["direct"], after=["p"])]
        if self.warnings:
            lines += ["", *(f"warning: {w}" for w in self.warnings)]
        return "\n".join(lines)

    def plot(self, ax: Any = None, *, points: int = 101) -> Any:
        """The conditional indirect effect against W with its pointwise bootstrap band (continuous W), or one
        point and interval per group (categorical W); probes marked. Returns the matplotlib Axes.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> rng = np.random.default_rng(5)
        >>> df = pd.DataFrame({"x": rng.normal(size=200), "w": rng.normal(size=200)})
        >>> df["m"] = 0.4 * df.x + 0.3 * df.x * df.w + rng.normal(size=200)
        >>> df["y"] = 0.5 * df.m + rng.normal(size=200)
        >>> res = moderated_mediation(df, x="x", m="m", y="y", w="w", model=7, n_boot=200, seed=1)
        >>> res.plot().get_ylabel()
        'conditional indirect effect of x on y through m'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.0, 4.0))
        frame = self.to_frame()
        rows = frame[frame["kind"] == "indirect"]
        level = self.info.get("level", 0.95)
        if self.w_type == "continuous" and self.path_draws is not None:
            low_w, high_w = self.info["w_range"]
            grid = np.linspace(min(low_w, *rows["w"]), max(high_w, *rows["w"]), points)
            draws = self.path_draws
            estimate = self.info["paths"]
            curve = (estimate["a"] + estimate["a:" + self.w] * grid) * (
                estimate["b"] + estimate["b:" + self.w] * grid
            )
            a = draws["a"].to_numpy()[:, None] + draws["a:" + self.w].to_numpy()[:, None] * grid
            b = draws["b"].to_numpy()[:, None] + draws["b:" + self.w].to_numpy()[:, None] * grid
            band_low, band_high = percentile_interval(a * b, level=level)
            ax.fill_between(
                grid, band_low, band_high, color="0.85", lw=0, label=f"{level:.0%} band (percentile)"
            )
            ax.plot(grid, curve, color="black", lw=1.5, label="conditional indirect effect")
            positions = rows["w"].to_numpy(dtype=float)
            ax.set_xlabel(f"moderator {self.w}")
        else:
            positions = np.arange(len(rows), dtype=float)
            ax.set_xticks(positions, [str(v) for v in rows["w"]])
            ax.set_xlabel(f"group of {self.w}")
        ax.errorbar(
            positions,
            rows["estimate"],
            yerr=[rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]],
            fmt="o",
            color="tab:red",
            capsize=3,
            label=f"probes ({self.info['method']})",
        )
        ax.axhline(0.0, color="0.4", lw=0.8)
        ax.set_ylabel(f"conditional indirect effect of {self.x} on {self.y} through {self.m}")
        ax.set_title(f"PROCESS model {self.model}: {_PATH_TEXT[self.model]}", fontsize=9)
        ax.legend(frameon=False, fontsize="small")
        return ax


# ------------------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """The validated analysis: the regression system, the moderator, and what the preparation noted."""

    system: _System
    moderator: _Moderator
    covariate_names: tuple[str, ...]
    n: int
    n_dropped: int
    notes: tuple[str, ...]

    @property
    def mediator_names(self) -> list[str]:
        return [self.system.column_names[j] for j in self.system.mediator[1]]

    @property
    def outcome_names(self) -> list[str]:
        return [self.system.column_names[j] for j in self.system.outcome[1]]


def _prepare(
    data: pd.DataFrame,
    x: str,
    m: str,
    y: str,
    w: str,
    covariates: Sequence[str],
    model: int,
    w_type: str,
    w_values: Any,
    w_reference: Any,
    missing: str,
) -> _Prepared:
    """Check the columns, drop incomplete rows, code the moderator and build the regression system."""
    data = _columns.data_frame(data)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    roles = [("strategy x", x), ("mechanism m", m), ("outcome y", y), ("moderator w", w)]
    roles += [("covariate", c) for c in covariates]
    _columns.check_columns(data, roles)
    frame, n_dropped, note = _columns.complete_rows(data[[x, m, y, w, *covariates]], missing=missing)
    columns = []
    for role, name in (("strategy", x), ("mechanism", m), ("outcome", y)):
        columns.append(_columns.numeric_values(frame[name], role, name))
        _columns.check_not_constant(columns[-1], role, name)
    moderator = _moderator(frame, w, w_type, w_values, w_reference)
    found = _columns.covariate_matrix(frame, covariates)
    system = _system(*columns, found.matrix, found.names, moderator, model, (x, m, y))
    prepared = _Prepared(
        system,
        moderator,
        tuple(found.names),
        len(frame),
        n_dropped,
        ((note,) if note else ()) + moderator.notes,
    )
    _columns.check_enough_rows(prepared.n, len(prepared.outcome_names))
    _columns.check_full_rank(system.mediator_design(), prepared.mediator_names, "mediator")
    _columns.check_full_rank(system.outcome_design(), prepared.outcome_names, "outcome")
    return prepared


def _intervals(
    draws: pd.DataFrame,
    point: dict[str, float],
    system: _System,
    moderator: _Moderator,
    plan: _Plan,
    model: int,
    ci: str,
    level: float,
) -> dict[str, tuple[float, float]]:
    """Percentile or BCa interval of every bootstrapped effect; BCa's acceleration from the leave-one-out
    paths (`jackknife_crossproducts`: one rank-one downdate per row, no refits)."""
    names = list(point)
    values = draws[names].to_numpy()
    if ci == "bca":
        cross = jackknife_crossproducts(_centred(system.data))
        jack_paths, bad = _paths_from_crossproducts(system, cross, moderator.k)
        jack = _effect_values(jack_paths, moderator, plan, model)
        jack_values = np.column_stack([jack[name] for name in names])
        jack_values[bad] = np.nan
        lows, highs = bca_interval(values, np.array([point[name] for name in names]), jack_values, level)
    else:
        lows, highs = percentile_interval(values, level=level)
    return {name: (float(lows[j]), float(highs[j])) for j, name in enumerate(names)}


def _direct_effects(
    fit_y: OlsFit, system: _System, moderator: _Moderator, model: int, w: str, level: float
) -> list[Effect]:
    """c' (models 7, 14, 58) or the conditional direct effects c1 + c3 w (model 59), with t intervals."""
    size = len(system.outcome[1])
    if not MODELS[model][2]:
        vector = np.zeros(size)
        vector[system.c[0]] = 1.0
        estimate, se, low, high, p = wald(fit_y, vector, level)
        return [Effect("direct", "direct", estimate, se, low, high, p, "t", {"df": fit_y.df})]
    effects = []
    for j, label in enumerate(moderator.labels):
        vector = np.zeros(size)
        vector[system.c] = [1.0, *moderator.probes[j]]
        estimate, se, low, high, p = wald(fit_y, vector, level)
        extra = {"w": moderator.values[j], "df": fit_y.df}
        effects.append(Effect(f"direct[{w}={label}]", "direct", estimate, se, low, high, p, "t", extra))
    return effects


def _coefficient_table(fit: OlsFit, names: Sequence[str], level: float) -> pd.DataFrame:
    se = np.sqrt(np.diag(fit.covariance))
    low, high, p = wald_interval(fit.coef, se, level, fit.df)
    return pd.DataFrame(
        {
            "estimate": fit.coef,
            "se": se,
            "t": fit.coef / se,
            "df": fit.df,
            "p": p,
            "ci_low": low,
            "ci_high": high,
        },
        index=pd.Index(list(names), name="term"),
    )


def _model_number(model: Any) -> int:
    if isinstance(model, numbers.Integral) and not isinstance(model, bool):
        model = int(model)
    _arguments.choice("model", model, tuple(MODELS))
    return model


def moderated_mediation(
    data: pd.DataFrame,
    *,
    x: str,
    m: str,
    y: str,
    w: str,
    model: Literal[7, 14, 58, 59] = 7,
    covariates: Sequence[str] = (),
    w_type: Literal["auto", "continuous", "categorical"] = "auto",
    w_values: Literal["mean_sd", "percentiles"] | Sequence[float] = "mean_sd",
    w_reference: Any = None,
    ci: Literal["percentile", "bca"] = "percentile",
    n_boot: int = 5000,
    level: float = 0.95,
    missing: Literal["listwise", "raise"] = "listwise",
    seed: SeedLike = None,
) -> ModeratedMediationResult:
    """Conditional indirect effects and the index of moderated mediation (Hayes 2015; PROCESS 7/14/58/59).

    Fits the mediator model and the outcome model of the PROCESS model by OLS and reports the indirect effect
    of X on Y through M at chosen values (or in every group) of the moderator W, with bootstrap intervals.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    x, m, y : str
        Strategy (numeric: an arm coded 0/1 or a dose), mechanism and outcome (continuous) columns.
    w : str
        The moderator: numeric (continuous, probed at `w_values`) or text/categorical (every group).
    model : {7, 14, 58, 59}
        PROCESS model: W on the a path (7), the b path (14), both (58), both and the direct path (59).
    covariates : sequence of str
        Covariates of both models (text columns become indicators against their first level).
    w_type : {"auto", "continuous", "categorical"}
        How W is read; "auto": numeric columns are continuous, others categorical. "categorical" makes
        numeric codes (1, 2, 3) groups.
    w_values : {"mean_sd", "percentiles"} or sequence of float
        Probe values of a continuous W: the mean and one SD (n - 1) below and above ("mean_sd", the default
        of PROCESS 2 and of PyProcessMacro), the 16th, 50th and 84th percentiles as PROCESS 3 and later
        compute them (sorted values interpolated at position p(n + 1); "percentiles"), or the values given.
        A two-valued W is probed at its two values.
    w_reference : optional
        Reference group of a categorical W (its first group, in category order or sorted, by default).
    ci : {"percentile", "bca"}
        Percentile bootstrap intervals (PROCESS's default) or bias-corrected and accelerated ones.
    n_boot : int
        Bootstrap resamples (rows resampled; both models refitted on each).
    level : float
        Confidence level.
    missing : {"listwise", "raise"}
        Drop incomplete rows (reported in the warnings) or refuse them.
    seed : int, numpy.random.Generator or None
        Randomness of the bootstrap.

    Returns
    -------
    ModeratedMediationResult
        See its docstring for the effect names.

    Raises
    ------
    DataError
        Unknown model or options, missing or repeated columns, non-numeric X, M or Y, a constant moderator,
        a group of a categorical W with fewer than 10 rows, missing values with ``missing="raise"``,
        collinear predictors, too few rows.

    Notes
    -----
    With a(w) = a1 + a3 w the effect of X on M and b(w) = b1 + b3 w the effect of M on Y (a3 = 0 in model
    14, b3 = 0 in model 7), the conditional indirect effect is a(w) b(w) (Hayes 2015). In model 7
    it is a1 b1 + a3 b1 w and in model 14 a1 b1 + a1 b3 w, linear in W with slope the *index of moderated
    mediation* a3 b1 or a1 b3: an interval for it that excludes zero says the indirect effect depends on W,
    and any two conditional indirect effects differ by the index times the distance between their w.
    In models 58 and 59 it is a1 b1 + (a1 b3 + a3 b1) w + a3 b3 w^2, which has no single index (Hayes'
    index is the slope of a linear function of W); the contrasts of the conditional effects at pairs of
    probe values answer the question instead. A categorical W with groups g (indicator coding against the
    reference r) gives a(g) = a1 + a3_g and b(g) = b1 + b3_g, one conditional indirect effect per group, and
    the pairwise differences; in models 7 and 14 each is the index of moderated mediation of that pair
    (against the reference it is the per-indicator index PROCESS prints for a multicategorical W). The direct
    effect is c' (models 7, 14, 58) or c1 + c3 w (model 59).

    The bootstrap resamples rows and refits both OLS models on every resample from its weighted
    cross-product matrix (all resamples of a chunk in one matrix product); resamples on which a model
    cannot be fitted (a group of W not drawn) are left out and counted in a warning. Percentile intervals
    are the (1 - level)/2 and (1 + level)/2 quantiles of the draws, as in PROCESS; BCa intervals add the bias
    correction and the jackknife acceleration (`moclab.analysis.intervals.bca_interval`). ``se`` is the SD of
    the draws. PROCESS's effects use the same formulas; on the same data the point estimates equal
    PyProcessMacro's, and with its resamples its intervals too (tests/analysis/test_moderated.py).

    The effects are causal only under the assumptions of mediation analysis (no unmeasured confounding of
    X-M, X-Y and M-Y given the covariates) and a linear moderation of each path.

    References
    ----------
    Hayes, A. F. (2015). An index and test of linear moderated mediation. *Multivariate Behavioral Research*,
    50(1), 1-22.
    Hayes, A. F. (2022). *Introduction to Mediation, Moderation, and Conditional Process Analysis* (3rd ed.).
    Guilford.
    Preacher, K. J., Rucker, D. D., & Hayes, A. F. (2007). Addressing moderated mediation hypotheses.
    *Multivariate Behavioral Research*, 42(1), 185-227.

    Examples
    --------
    Does site readiness change how strongly coaching builds trust (model 7)?

    >>> rng = np.random.default_rng(11)
    >>> n = 400
    >>> df = pd.DataFrame({"coaching": rng.integers(0, 2, n), "readiness": rng.normal(size=n)})
    >>> df["trust"] = 0.5 * df.coaching + 0.4 * df.coaching * df.readiness + rng.normal(size=n)
    >>> df["adoption"] = 0.5 * df.trust + 0.1 * df.coaching + rng.normal(size=n)
    >>> res = moderated_mediation(
    ...     df, x="coaching", m="trust", y="adoption", w="readiness", model=7, n_boot=1000, seed=3
    ... )
    >>> res.to_frame()["estimate"].round(3).tolist()
    [-0.025, 0.234, 0.492, 0.259, 0.205]
    >>> res.to_frame().index.tolist()[:3]
    ['indirect[readiness=-1 SD]', 'indirect[readiness=mean]', 'indirect[readiness=+1 SD]']
    >>> index = res.effect("index")
    >>> bool(index.ci_low > 0)
    True
    """
    model = _model_number(model)
    _arguments.choice("w_type", w_type, W_TYPES)
    _arguments.check(level=level, ci=ci, allowed_ci=CI_METHODS, n_boot=n_boot, seed=seed, missing=missing)
    prepared = _prepare(data, x, m, y, w, covariates, model, w_type, w_values, w_reference, missing)
    system, moderator = prepared.system, prepared.moderator
    fit_m = ols(system.mediator_design(), system.data[:, system.mediator[0]])
    fit_y = ols(system.outcome_design(), system.data[:, system.outcome[0]])
    paths = _Paths.of(system, fit_m.coef[None], fit_y.coef[None], moderator.k)
    plan = _plan(model, moderator, w)
    point = {name: float(values[0]) for name, values in _effect_values(paths, moderator, plan, model).items()}

    notes = list(prepared.notes)
    boot_paths, singular = _bootstrap(system, moderator.k, n_boot, as_generator(seed))
    n_failed = int(singular.sum())
    if n_boot - n_failed < 2:
        raise DataError(
            "almost no bootstrap resample could be refitted (a group of the moderator or a value of the "
            "strategy is missing from them)",
            hint="merge small groups of the moderator or collect more data",
        )
    if n_failed:
        notes.append(
            f"{n_failed} of {n_boot} bootstrap resamples could not be refitted (a group of '{w}' or a value "
            f"of '{x}' missing from the resample) and were left out"
        )
    boot_paths = boot_paths.rows(~singular)
    draws = pd.DataFrame(_effect_values(boot_paths, moderator, plan, model))
    bounds = _intervals(draws, point, system, moderator, plan, model, ci, level)

    a_point, b_point, _ = paths.at(moderator.probes)
    described: list[tuple[str, str, dict[str, Any]]] = [
        (name, "indirect", {"w": moderator.values[j], "a": float(a_point[0, j]), "b": float(b_point[0, j])})
        for j, name in enumerate(plan.indirect)
    ]
    if plan.index is not None:
        described.append(("index", "index", {"formula": "a3 * b1" if model == 7 else "a1 * b3"}))
    for pair in plan.contrasts:
        extra = {"w": moderator.values[pair[0]], "w_other": moderator.values[pair[1]]}
        described.append((plan.contrast_name(moderator.labels, pair), plan.contrast_kind, extra))
    effects = [
        Effect(name, kind, point[name], float(draws[name].std(ddof=1)), *bounds[name], None, ci, extra)
        for name, kind, extra in described
    ]
    direct = _direct_effects(fit_y, system, moderator, model, w, level)
    effects += direct

    probes = pd.DataFrame(
        {
            "w": list(moderator.values),
            "a": a_point[0],
            "b": b_point[0],
            "indirect": [point[name] for name in plan.indirect],
            "ci_low": [bounds[name][0] for name in plan.indirect],
            "ci_high": [bounds[name][1] for name in plan.indirect],
            "direct": [e.estimate for e in direct] if len(direct) > 1 else direct[0].estimate,
        },
        index=pd.Index(list(moderator.labels), name="probe"),
    )
    w_column = moderator.columns[:, 0]
    continuous = moderator.kind == "continuous"
    info: dict[str, Any] = {
        "method": f"{'BCa' if ci == 'bca' else 'percentile'} bootstrap, {len(draws)} resamples",
        "model": model,
        "moderated_paths": _PATH_TEXT[model],
        "n": prepared.n,
        "n_dropped": prepared.n_dropped,
        "x": x,
        "m": m,
        "y": y,
        "w": w,
        "covariates": list(prepared.covariate_names),
        "w_type": moderator.kind,
        "probe_rule": moderator.rule,
        "w_reference": moderator.reference,
        "w_range": [float(w_column.min()), float(w_column.max())] if continuous else None,
        "paths": {name: float(value) for name, value in paths.frame(moderator.terms).iloc[0].items()},
        "ci": ci,
        "n_boot": int(n_boot),
        "n_failed_resamples": n_failed,
        "level": level,
        "seed": int(seed) if isinstance(seed, int | np.integer) else None,
        "reference": _REFERENCE,
    }
    return ModeratedMediationResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(notes),
        model=model,
        x=x,
        m=m,
        y=y,
        w=w,
        covariates=tuple(prepared.covariate_names),
        w_type=moderator.kind,
        probes=probes,
        mediator_model=_coefficient_table(fit_m, prepared.mediator_names, level),
        outcome_model=_coefficient_table(fit_y, prepared.outcome_names, level),
        draws=draws,
        path_draws=boot_paths.frame(moderator.terms),
        n=prepared.n,
        n_dropped=prepared.n_dropped,
    )
