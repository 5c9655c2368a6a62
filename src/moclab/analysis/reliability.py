"""Internal-consistency reliability of a scale: Cronbach's alpha and McDonald's omega, with intervals.

Items in, result objects out (no files): `cronbach_alpha` and `mcdonald_omega` take an n x k array or
DataFrame of (reverse-keyed) item responses; `scale_reliability` computes both for each group of rows (a
wave, a site) and returns a `ReliabilityTable`.

* **Alpha** (Cronbach 1951): ``k / (k - 1) * (1 - sum of item variances / variance of the sum)``, with
  Feldt's F-based interval (Feldt, Woodruff & Salih 1987): ``1 - (1 - alpha) * F`` at the F quantiles with
  ``n - 1`` and ``(n - 1)(k - 1)`` degrees of freedom; a bootstrap percentile interval optionally.
* **Omega total** (McDonald 1999) from a one-factor model fitted by maximum likelihood (statsmodels'
  `Factor(method="ml")`): ``(sum of loadings)^2 / ((sum of loadings)^2 + sum of unique variances)``, on the
  items' own metric (loadings and unique variances rescaled by the item standard deviations), so it is the
  reliability of the unweighted sum or mean that moclab scores. Its interval is a bootstrap percentile
  interval; the resamples are refitted all at once (see `_one_factor_ml_batch`). A fit that does not
  converge, or a Heywood case (a unique variance at or below 0.005, a standardized loading of 1 or more),
  gives NaN with the reason in `warnings`: such a solution is improper and its omega depends on where the
  optimizer stopped.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from moclab.analysis import _arguments
from moclab.analysis.results import plain
from moclab.errors import DataError

#: Fewest complete respondents for a reliability estimate (below this the interval is meaningless).
MIN_RESPONDENTS = 5
#: Lower bound for unique variances in the batched one-factor fit (as R's factanal). A standardized unique
#: variance at or below it (a loading of about .9975 or more) is a Heywood case: an improper solution.
_MIN_UNIQUENESS = 0.005
_BATCH = 256  # resamples refitted together (bounds memory: batch x n x k floats)


@dataclass(frozen=True, repr=False)
class Reliability:
    """One reliability coefficient with its interval.

    Attributes
    ----------
    coefficient : str
        ``"alpha"`` or ``"omega"``.
    estimate, ci_low, ci_high : float
        The estimate and its interval (NaN when it could not be computed).
    ci_level : float
        Coverage of the interval (0.95).
    ci_method : str
        ``"feldt"`` or ``"bootstrap percentile"``.
    n, k : int
        Respondents used (complete cases) and items.
    items : tuple of str
        Item names.
    details : dict
        Omega: ``loadings`` and ``uniquenesses`` (standardized) and ``n_boot``; alpha with bootstrap:
        ``n_boot``.
    warnings : tuple of str
        Why an estimate is missing or doubtful.
    """

    coefficient: str
    estimate: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    n: int
    k: int
    items: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row: coefficient, estimate, ci_low, ci_high, ci_level, ci_method, n, k."""
        columns = ["coefficient", "estimate", "ci_low", "ci_high", "ci_level", "ci_method", "n", "k"]
        return pd.DataFrame([{name: getattr(self, name) for name in columns}])

    def to_dict(self) -> dict[str, Any]:
        return plain({**self.__dict__, "items": list(self.items), "warnings": list(self.warnings)})

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (
            f"<div><strong>{html.escape(str(self))}</strong>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def summary(self) -> str:
        """The coefficient, its interval and n in one line, then the warnings."""
        return str(self) + "".join(f"\nwarning: {w}" for w in self.warnings)

    def __repr__(self) -> str:
        return (
            f"Reliability({self.coefficient} = {self.estimate:.4g} [{self.ci_low:.4g}, {self.ci_high:.4g}]; "
            f"n = {self.n}, k = {self.k})"
        )

    def __str__(self) -> str:
        symbol = "α" if self.coefficient == "alpha" else "ω"
        if math.isnan(self.estimate):
            return f"{symbol} not available (n = {self.n}, k = {self.k})"
        return (
            f"{symbol} = {self.estimate:.3f}, {self.ci_level:.0%} CI [{self.ci_low:.3f}, {self.ci_high:.3f}] "
            f"({self.ci_method}; n = {self.n}, k = {self.k})"
        )


def _matrix(data: Any) -> tuple[np.ndarray, tuple[str, ...]]:
    if isinstance(data, pd.DataFrame):
        names = tuple(str(c) for c in data.columns)
        try:
            values = data.to_numpy(dtype="float64")
        except (TypeError, ValueError):
            raise DataError(
                "item responses must be numbers", hint="score or recode text answers first"
            ) from None
    else:
        values = np.asarray(data, dtype="float64")
        names = tuple(f"item_{i + 1}" for i in range(values.shape[1] if values.ndim == 2 else 0))
    if values.ndim != 2:
        raise DataError("item responses must be a table: one row per respondent, one column per item")
    if values.shape[1] < 2:
        raise DataError(f"reliability needs at least 2 items, got {values.shape[1]}")
    return values, names


def _nan_result(
    coefficient: str, level: float, method: str, n: int, k: int, items: tuple[str, ...], why: str
):
    return Reliability(coefficient, math.nan, math.nan, math.nan, level, method, n, k, items, warnings=(why,))


def _alpha_from_cov(cov: np.ndarray) -> np.ndarray:
    """Cronbach's alpha of one covariance matrix (k x k) or a stack of them (... x k x k)."""
    k = cov.shape[-1]
    total = cov.sum(axis=(-2, -1))
    trace = np.trace(cov, axis1=-2, axis2=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return k / (k - 1) * (1 - trace / total)


def _bootstrap_indices(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    return rng.integers(0, n, size=(n_boot, n))


def _batched_cov(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Covariance matrices of the resamples (rows `indices` of `values`), computed in batches."""
    out = np.empty((len(indices), values.shape[1], values.shape[1]))
    n = indices.shape[1]
    for start in range(0, len(indices), _BATCH):
        sample = values[indices[start : start + _BATCH]]  # batch x n x k
        centred = sample - sample.mean(axis=1, keepdims=True)
        out[start : start + _BATCH] = np.einsum("bni,bnj->bij", centred, centred) / (n - 1)
    return out


def cronbach_alpha(
    data: Any,
    *,
    ci: str = "feldt",
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    nan_policy: str = "listwise",
) -> Reliability:
    """Cronbach's alpha with Feldt's (or a bootstrap percentile) confidence interval.

    Parameters
    ----------
    data : array-like or DataFrame
        n respondents x k items, reverse-keyed items already reversed.
    ci : {"feldt", "percentile"}
        Feldt's F-based interval, or the percentile interval of `n_boot` bootstrap resamples of respondents.
    level : float
        Confidence level of the interval.
    n_boot : int
        Bootstrap resamples (``ci="percentile"``).
    seed : int or numpy.random.Generator, optional
        Randomness of the bootstrap.
    nan_policy : {"listwise", "pairwise"}
        Drop respondents with any missing item (default), or use pairwise-complete covariances (then n is
        the number of respondents with any answer; bootstrap needs listwise).

    Returns
    -------
    Reliability

    Notes
    -----
    ``alpha = k / (k - 1) * (1 - trace(C) / sum(C))`` for the item covariance matrix C (Cronbach 1951).
    Feldt's interval: ``[1 - (1 - alpha) F(1 - a/2), 1 - (1 - alpha) F(a/2)]`` with F quantiles on
    ``n - 1`` and ``(n - 1)(k - 1)`` degrees of freedom (Feldt, Woodruff & Salih 1987). The values agree
    with ``pingouin.cronbach_alpha`` (which rounds its interval to 3 decimals and, with listwise deletion,
    keeps the n of all rows in the degrees of freedom; here n is the number of complete rows).

    References
    ----------
    Cronbach LJ. Coefficient alpha and the internal structure of tests. Psychometrika 1951;16:297-334.
    Feldt LS, Woodruff DJ, Salih FA. Statistical inference for coefficient alpha. Applied Psychological
    Measurement 1987;11:93-103.

    Examples
    --------
    >>> result = cronbach_alpha([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5], [5, 5, 4], [2, 3, 2]])
    >>> round(result.estimate, 3)
    0.926
    """
    _arguments.check(ci=ci, allowed_ci=("feldt", "percentile"), level=level, seed=seed)
    if ci == "percentile":
        _arguments.check(n_boot=n_boot, min_boot=1)
    _arguments.choice("nan_policy", nan_policy, ("listwise", "pairwise"))
    values, items = _matrix(data)
    k = values.shape[1]
    ci_method = "feldt" if ci == "feldt" else "bootstrap percentile"
    if nan_policy == "listwise" or ci == "percentile":
        values = values[~np.isnan(values).any(axis=1)]
    else:
        values = values[~np.isnan(values).all(axis=1)]
    n = len(values)
    if n < MIN_RESPONDENTS:
        return _nan_result("alpha", level, ci_method, n, k, items, f"only {n} complete respondents")
    cov = pd.DataFrame(values).cov().to_numpy()  # pairwise-complete when values have gaps
    if not np.isfinite(cov).all() or cov.sum() <= 0:
        return _nan_result("alpha", level, ci_method, n, k, items, "the items do not vary")
    alpha = float(_alpha_from_cov(cov))
    details: dict[str, Any] = {}
    if ci == "feldt":
        df1, df2 = n - 1, (n - 1) * (k - 1)
        tail = (1 - level) / 2
        low = 1 - (1 - alpha) * stats.f.isf(tail, df1, df2)
        high = 1 - (1 - alpha) * stats.f.isf(1 - tail, df1, df2)
    else:
        rng = np.random.default_rng(seed)
        boot = _alpha_from_cov(_batched_cov(values, _bootstrap_indices(rng, n, n_boot)))
        boot = boot[np.isfinite(boot)]
        low, high = np.quantile(boot, [(1 - level) / 2, 1 - (1 - level) / 2])
        details["n_boot"] = n_boot
    return Reliability("alpha", alpha, float(low), float(high), level, ci_method, n, k, items, details)


# --------------------------------------------------------------------------------------------------------
# Omega
# --------------------------------------------------------------------------------------------------------


def omega_from_loadings(loadings: Sequence[float], unique_variances: Sequence[float]) -> float:
    """McDonald's omega total of a one-factor model: ``(sum λ)^2 / ((sum λ)^2 + sum ψ)``.

    Loadings and unique variances on the same metric (both standardized, or both in item units).
    """
    lam = np.asarray(loadings, dtype="float64")
    psi = np.asarray(unique_variances, dtype="float64")
    common = lam.sum() ** 2
    return float(common / (common + psi.sum()))


def _one_factor_ml_batch(
    corr: np.ndarray, iterations: int = 2000, tol: float = 1e-8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-factor maximum-likelihood fits of a stack of correlation matrices (B x k x k), all at once.

    Hand-written because no library fits many small factor models together: statsmodels fits one model per
    call, which would be a Python loop over bootstrap resamples. The iteration is the classical one of
    Lawley and Jöreskog: with unique variances Ψ, the loadings are Ψ^½ v (θ - 1)^½ for the largest
    eigenpair (θ, v) of Ψ^-½ R Ψ^-½, then Ψ = diag(R - λλ'), bounded below by 0.005 as in R's factanal. Its
    fixed point is the ML solution (Jöreskog 1967); the tests check it against statsmodels.

    Returns loadings (B x k), uniquenesses (B x k) and a convergence flag (B).
    """
    batch, k, _ = corr.shape
    try:
        smc = 1 - 1 / np.diagonal(np.linalg.inv(corr), axis1=1, axis2=2)
    except np.linalg.LinAlgError:
        smc = np.full((batch, k), 0.5)
    psi = np.clip(1 - smc, _MIN_UNIQUENESS, 1.0)
    psi = np.where(np.isfinite(psi), psi, 0.5)
    converged = np.zeros(batch, dtype=bool)
    loadings = np.zeros((batch, k))
    active = np.arange(batch)  # only the fits still moving are iterated
    for _ in range(iterations):
        root = np.sqrt(psi[active])
        scaled = corr[active] / root[:, :, None] / root[:, None, :]
        eigenvalues, eigenvectors = np.linalg.eigh(scaled)
        theta = eigenvalues[:, -1]
        vector = eigenvectors[:, :, -1]
        new_loadings = root * vector * np.sqrt(np.clip(theta - 1, 0, None))[:, None]
        new_psi = np.clip(1 - new_loadings**2, _MIN_UNIQUENESS, 1.0)
        done = np.abs(new_psi - psi[active]).max(axis=1) < tol
        loadings[active] = new_loadings
        psi[active] = new_psi
        converged[active[done]] = True
        active = active[~done]
        if not len(active):
            break
    flip = np.where(loadings.sum(axis=1) < 0, -1.0, 1.0)
    return loadings * flip[:, None], psi, converged


def _omega_raw(loadings: np.ndarray, psi: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Omega on the items' metric from standardized loadings and uniquenesses (stacks allowed)."""
    common = (loadings * sd).sum(axis=-1) ** 2
    unique = (psi * sd**2).sum(axis=-1)
    return common / (common + unique)


def _heywood_items(loadings: np.ndarray, psi: np.ndarray, items: tuple[str, ...]) -> list[str]:
    """The items of an improper one-factor solution: unique variance at or below the bound, or |λ| ≥ 1."""
    improper = (psi <= _MIN_UNIQUENESS) | (np.abs(loadings) >= 1.0)
    return [
        f"'{items[i]}' (unique variance {psi[i]:.3f}, standardized loading {loadings[i]:.3f})"
        for i in np.flatnonzero(improper)
    ]


def _fit_one_factor(values: np.ndarray, items: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One-factor ML fit of the items by statsmodels: standardized loadings, uniquenesses, and problems.

    The problems (empty for a proper, converged solution) say why omega cannot be reported: no convergence,
    a Heywood case. statsmodels' own warnings are recorded, not silenced: the two it raises for these
    conditions are replaced by the checks here (which name the items); any other is passed on verbatim.
    """
    from statsmodels.multivariate.factor import Factor
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, EstimationWarning

    # Start at the fixed point of Jöreskog's iteration instead of statsmodels' default random start (drawn
    # from fresh entropy), so the same data always give the same fit.
    corr = np.corrcoef(values, rowvar=False)
    start_loadings, start_psi, _ = _one_factor_ml_batch(corr[None])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = Factor(values, n_factor=1, method="ml").fit(start=(start_loadings[0][:, None], start_psi[0]))
    loadings = np.asarray(fit.loadings, dtype="float64").ravel()
    if loadings.sum() < 0:
        loadings = -loadings
    psi = np.asarray(fit.uniqueness, dtype="float64").ravel()
    problems: list[str] = []
    heywood = _heywood_items(loadings, psi, items)
    if heywood:
        problems.append(
            "the one-factor model is a Heywood case (an improper solution): "
            + ", ".join(heywood)
            + "; omega is not reported. Usual causes: few respondents, two items that are near copies of "
            "each other, or items that do not measure one factor (alpha does not rest on this model)"
        )
    retvals = fit.mle_retvals
    if retvals is not None and not retvals.success:
        problems.append(
            f"the one-factor maximum-likelihood fit did not converge (statsmodels: {retvals.message})"
            + ("" if heywood else "; omega is not reported")
        )
    handled = (ConvergenceWarning, EstimationWarning)
    problems += [
        f"statsmodels: {caught_warning.message}"
        for caught_warning in caught
        if not issubclass(caught_warning.category, handled)
    ]
    return loadings, psi, problems


def mcdonald_omega(
    data: Any,
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
) -> Reliability:
    """McDonald's omega total from a one-factor maximum-likelihood model, with a bootstrap interval.

    Parameters
    ----------
    data : array-like or DataFrame
        n respondents x k items (at least 3 items; reverse-keyed items already reversed). Respondents with a
        missing item are left out.
    level : float
        Confidence level of the percentile interval.
    n_boot : int
        Bootstrap resamples of respondents (0 for no interval).
    seed : int or numpy.random.Generator, optional
        Randomness of the bootstrap.

    Returns
    -------
    Reliability
        `details` holds the standardized ``loadings`` and ``uniquenesses`` of the fit.

    Notes
    -----
    The model is fitted with ``statsmodels.multivariate.factor.Factor(n_factor=1, method="ml")`` on the item
    correlations; loadings λ and unique variances ψ are rescaled by the item standard deviations s, and
    ``omega = (Σ λ s)^2 / ((Σ λ s)^2 + Σ ψ s^2)`` (McDonald 1999, eq. 6.20b): the reliability of the
    unweighted item sum (and mean). Equal item variances give the standardized omega. Each bootstrap
    resample is refitted by the same ML criterion, all resamples at once.

    The estimate is NaN, with the reason in `warnings`, when the fit does not converge or is a Heywood case:
    a standardized unique variance at or below 0.005 or a loading of 1 or more (Jöreskog 1967; Kolenikov &
    Bollen 2012). Such a solution is improper (an item would measure the factor without error) and its omega
    depends on where the optimizer stopped; `details` keeps its loadings and uniquenesses for inspection.
    Bootstrap refits at the bound are kept in the interval, with a note when they are more than a tenth.

    References
    ----------
    McDonald RP. Test theory: a unified treatment. Mahwah, NJ: Erlbaum; 1999.
    Jöreskog KG. Some contributions to maximum likelihood factor analysis. Psychometrika 1967;32:443-482.
    Kolenikov S, Bollen KA. Testing negative error variances: is a Heywood case a symptom of
    misspecification? Sociological Methods & Research 2012;41(1):124-167.
    """
    _arguments.check(level=level, n_boot=n_boot, min_boot=1, boot_optional=True, seed=seed)
    values, items = _matrix(data)
    values = values[~np.isnan(values).any(axis=1)]
    n, k = values.shape
    method = "bootstrap percentile"
    if k < 3:
        return _nan_result("omega", level, method, n, k, items, "a one-factor model needs at least 3 items")
    if n < MIN_RESPONDENTS:
        return _nan_result("omega", level, method, n, k, items, f"only {n} complete respondents")
    sd = values.std(axis=0, ddof=1)
    if (sd == 0).any():
        return _nan_result("omega", level, method, n, k, items, "an item does not vary")
    loadings, psi, problems = _fit_one_factor(values, items)
    notes: list[str] = []
    if (loadings < 0).any():
        notes.append("some items load negatively: check that reverse-keyed items were reversed")
    details: dict[str, Any] = {"loadings": loadings.tolist(), "uniquenesses": psi.tolist(), "n_boot": n_boot}
    if problems:
        nan = math.nan
        return Reliability("omega", nan, nan, nan, level, method, n, k, items, details, (*problems, *notes))
    omega = float(_omega_raw(loadings, psi, sd))
    low = high = math.nan
    if n_boot:
        rng = np.random.default_rng(seed)
        cov = _batched_cov(values, _bootstrap_indices(rng, n, n_boot))
        boot_sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        usable = (boot_sd > 0).all(axis=1)
        corr = cov[usable] / boot_sd[usable][:, :, None] / boot_sd[usable][:, None, :]
        boot_loadings, boot_psi, converged = _one_factor_ml_batch(corr)
        boot = _omega_raw(boot_loadings, boot_psi, boot_sd[usable])[converged]
        if len(boot) < 0.9 * n_boot:
            notes.append(f"only {len(boot)} of {n_boot} bootstrap refits converged")
        at_bound = int((boot_psi[converged] <= _MIN_UNIQUENESS).any(axis=1).sum())
        if at_bound > 0.1 * n_boot:
            notes.append(
                f"{at_bound} of {n_boot} bootstrap refits were Heywood cases (a unique variance at the bound "
                f"{_MIN_UNIQUENESS}); they are kept in the interval, which is therefore doubtful"
            )
        if len(boot):
            low, high = (float(q) for q in np.quantile(boot, [(1 - level) / 2, 1 - (1 - level) / 2]))
    return Reliability("omega", omega, low, high, level, method, n, k, items, details, tuple(notes))


# --------------------------------------------------------------------------------------------------------
# Several scales and waves
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ReliabilityTable:
    """Reliability of one or more scales per group (wave): one `Reliability` per scale, group, coefficient.

    `rows` holds (scale, group, Reliability); `to_frame()` is one row each.
    """

    rows: tuple[tuple[str, str | None, Reliability], ...]

    def to_frame(self) -> pd.DataFrame:
        records = []
        for scale, group, result in self.rows:
            record = {"scale": scale, "group": group}
            record.update(result.to_frame().iloc[0].to_dict())
            record["warnings"] = "; ".join(result.warnings) or None
            records.append(record)
        columns = ["scale", "group", "coefficient", "estimate", "ci_low", "ci_high"]
        columns += ["ci_level", "ci_method", "n", "k", "warnings"]
        return pd.DataFrame(records, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [{"scale": s, "group": g, **r.to_dict()} for s, g, r in self.rows]}

    def summary(self) -> str:
        """The table as text (scale, group, coefficient, estimate, interval, n, k) and the warnings."""
        frame = self.to_frame()
        columns = ["scale", "group", "coefficient", "estimate", "ci_low", "ci_high", "ci_method", "n", "k"]
        text = frame[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
        notes = [f"warning: {scale} {group or ''}: {w}" for scale, group, r in self.rows for w in r.warnings]
        return "\n".join([text, *notes])

    def __repr__(self) -> str:
        shown = "; ".join(repr(result) for _, _, result in self.rows[:3])
        more = f"; {len(self.rows) - 3} more" if len(self.rows) > 3 else ""
        return f"ReliabilityTable({shown}{more})"

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        frame = self.to_frame().drop(columns=["ci_level"])
        return (
            "<div><strong>Reliability</strong>"
            + frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="", border=0)
            + "</div>"
        )


def scale_reliability(
    items: pd.DataFrame,
    *,
    scale: str = "scale",
    by: pd.Series | np.ndarray | Sequence[Any] | None = None,
    coefficients: Sequence[str] = ("alpha", "omega"),
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
) -> ReliabilityTable:
    """Alpha and omega of one scale, overall or per group of rows (e.g. per wave).

    Parameters
    ----------
    items : DataFrame
        One column per (keyed) item.
    scale : str
        Name of the scale in the output.
    by : array-like, optional
        Group of each row (a wave); one estimate per group, in order of appearance.
    coefficients : sequence of {"alpha", "omega"}
    level, n_boot, seed
        As in `cronbach_alpha` and `mcdonald_omega` (alpha uses Feldt's interval).
    """
    rng = np.random.default_rng(seed)
    if by is None:
        groups: list[tuple[str | None, pd.DataFrame]] = [(None, items)]
    else:
        labels = pd.Series(np.asarray(by), index=items.index)
        groups = [(str(label), items[labels == label]) for label in pd.unique(labels.dropna())]
    rows = []
    for label, frame in groups:
        for coefficient in coefficients:
            if coefficient == "alpha":
                result = cronbach_alpha(frame, level=level)
            elif coefficient == "omega":
                result = mcdonald_omega(frame, level=level, n_boot=n_boot, seed=rng)
            else:
                raise DataError(f"unknown coefficient '{coefficient}'", hint="use 'alpha' or 'omega'")
            rows.append((scale, label, result))
    return ReliabilityTable(tuple(rows))
