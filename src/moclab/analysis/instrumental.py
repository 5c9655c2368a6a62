"""Effect of a mechanism on an outcome with a randomized instrument: two-stage least squares.

The mechanism → outcome link is not randomized, so its regression slope mixes the mechanism's effect with
whatever else drives both. When a randomized arm targets the mechanism (an encouragement design: sites
randomized to extra coaching that raises trust), the arm is an instrument for the mechanism: if it moves the
outcome only through the mechanism, the ratio of its effect on the outcome (the reduced form) to its effect
on the mechanism (the first stage) is the mechanism's effect, free of mechanism-outcome confounding.
`instrumental_effect` estimates it by two-stage least squares with covariates and cluster-robust standard
errors, and reports the first stage's strength.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import OlsFit, least_squares, ols, wald
from moclab.analysis.clustering import cluster_robust_covariance
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.analysis.robustness import partial_r_squared, prepare_regression_rows
from moclab.errors import DataError

__all__ = ["WEAK_INSTRUMENT_F", "InstrumentalResult", "instrumental_effect"]

#: First-stage F below which an instrument is called weak (Staiger & Stock 1997's rule of thumb).
WEAK_INSTRUMENT_F = 10.0


@dataclass(frozen=True, repr=False)
class InstrumentalResult(AnalysisResult):
    """Result of `instrumental_effect`.

    Effects: ``iv`` (2SLS coefficient of the endogenous regressor: the mechanism's effect on the outcome),
    ``first_stage`` (instrument → endogenous regressor; its extra holds ``F`` and ``partial_r2``),
    ``reduced_form`` (instrument → outcome, the intention-to-treat effect of the arm) and ``ols`` (the
    ordinary regression of the outcome on the endogenous regressor and covariates, for comparison: it is
    confounded when the mechanism is).

    Attributes
    ----------
    outcome, endogenous, instrument : str
        Column names.
    instrument_levels : tuple
        The values of the instrument coded 0 and 1.
    first_stage_f : float
        F statistic of the instrument in the first stage (the square of its t; Wald with CR1 SEs when
        clustered).
    first_stage_partial_r2 : float
        Share of the endogenous regressor's variance, net of the covariates, explained by the instrument.
    n, n_clusters : int
        Rows analysed; clusters (None: classical standard errors).
    level : float
        Confidence level.
    """

    outcome: str = ""
    endogenous: str = ""
    instrument: str = ""
    instrument_levels: tuple[Any, Any] = (0, 1)
    first_stage_f: float = float("nan")
    first_stage_partial_r2: float = float("nan")
    n: int = 0
    n_clusters: int | None = None
    level: float = 0.95
    covariates: tuple[str, ...] = field(default_factory=tuple)

    title = "Instrumental-variable (2SLS) effect"
    headline = ("iv", "first_stage", "ols")

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        base.update(
            plain(
                {
                    "outcome": self.outcome,
                    "endogenous": self.endogenous,
                    "instrument": self.instrument,
                    "instrument_levels": [str(v) for v in self.instrument_levels],
                    "first_stage_f": self.first_stage_f,
                    "first_stage_partial_r2": self.first_stage_partial_r2,
                    "n": self.n,
                    "n_clusters": self.n_clusters,
                    "level": self.level,
                    "covariates": list(self.covariates),
                }
            )
        )
        return base

    def summary(self) -> str:
        """Effects table, the first stage's strength, the instrument coding and warnings."""
        text = super().summary()
        zero, one = self.instrument_levels
        extra = (
            f"first stage: F = {self.first_stage_f:.2f}, partial R2 = {self.first_stage_partial_r2:.4f}; "
            f"instrument '{self.instrument}': {one!r} = 1, {zero!r} = 0; n = {self.n}"
            + (f" in {self.n_clusters} clusters" if self.n_clusters else "")
        )
        head, _, rest = text.partition("\n")
        return f"{head}: {self.outcome} on {self.endogenous}, instrument {self.instrument}\n{rest}\n{extra}"


def _instrument_values(column: pd.Series, name: str) -> tuple[np.ndarray, tuple[Any, Any], str]:
    """The instrument as 0/1, the levels coded 0 and 1, and a sentence saying which is which."""
    _columns.check_not_constant(column.to_numpy(), "instrument", name)
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        values = _columns.numeric_values(column, "instrument", name)
        distinct = np.unique(values)
        if not np.all(np.isin(distinct, (0.0, 1.0))):
            shown = ", ".join(f"{v:g}" for v in distinct[:6]) + (", ..." if distinct.size > 6 else "")
            raise DataError(
                f"the instrument '{name}' must be 0/1 (the randomized arm), but takes the values {shown}",
                hint=f"recode '{name}' as 1 = the arm that targets the mechanism, 0 = the comparison arm",
            )
        levels: tuple[Any, Any] = (False, True) if pd.api.types.is_bool_dtype(column) else (0, 1)
    else:
        if isinstance(column.dtype, pd.CategoricalDtype):
            used = [level for level in column.cat.categories if (column == level).any()]
        else:
            used = sorted(pd.unique(column).tolist(), key=str)
        if len(used) > 2:
            shown = ", ".join(repr(v) for v in used[:6])
            raise DataError(
                f"the instrument '{name}' must have two levels (two randomized arms), but has {len(used)}: "
                f"{shown}",
                hint="keep the rows of the two arms to compare, or code the instrument 0/1",
            )
        levels = (used[0], used[1])
        values = (column == used[1]).to_numpy(dtype=float)
    coding = f"instrument '{name}': {levels[1]!r} = 1, {levels[0]!r} = 0"
    return values, levels, coding


def instrumental_effect(
    data: pd.DataFrame,
    *,
    y: str,
    endogenous: str,
    instrument: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    level: float = 0.95,
) -> InstrumentalResult:
    """Effect of an endogenous regressor (a mechanism) on an outcome, by two-stage least squares with a
    randomized binary instrument (an arm that targets the mechanism).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    y : str
        Numeric outcome column.
    endogenous : str
        Numeric column of the endogenous regressor (the mechanism), whose effect is estimated.
    instrument : str
        The randomized arm: a 0/1 (or boolean) column, or a column with two levels (text or categorical;
        the second level, in category order or sorted, is coded 1; ``info["instrument_coding"]`` says so).
    covariates : sequence of str
        Pre-randomization covariates in both stages (text columns become 0/1 indicators).
    cluster : str, optional
        Column of the clusters rows are nested in (sites; the unit of randomization in a cluster trial):
        CR1 cluster-robust standard errors with t(G - 1).
    level : float
        Confidence level.

    Returns
    -------
    InstrumentalResult
        Effects ``iv``, ``first_stage``, ``reduced_form``, ``ols``; ``first_stage_f`` and
        ``first_stage_partial_r2``; a weak-instrument warning when F < 10.

    Raises
    ------
    DataError
        Unknown or repeated columns, non-numeric outcome or endogenous regressor, an instrument that is not
        0/1 or two-level, constant columns, collinear predictors (naming the column), an instrument that
        does not move the endogenous regressor at all, too few rows or clusters.

    Notes
    -----
    With X = (1, D, C) (D the endogenous regressor, C the covariates) and Z = (1, Z, C), the first stage
    regresses D on Z, :math:`\\hat X = Z (Z'Z)^{-1} Z'X`, and (Angrist & Pischke 2009, sec. 4.1)

    .. math:: \\hat\\beta_{2SLS} = (\\hat X'\\hat X)^{-1} \\hat X' y = (X'P_Z X)^{-1} X'P_Z y.

    With one instrument and no covariates this is the Wald ratio: reduced-form slope / first-stage slope.
    The residuals are the structural ones, :math:`e = y - X\\hat\\beta` (not those of the second-stage
    regression), so the classical covariance is :math:`\\hat\\sigma^2 (\\hat X'\\hat X)^{-1}` with
    :math:`\\hat\\sigma^2 = e'e/(n - k)` and t(n - k), k the columns of X; clustered, it is the CR1 sandwich
    :math:`c\\,(\\hat X'\\hat X)^{-1} \\sum_g \\hat X_g' e_g e_g' \\hat X_g (\\hat X'\\hat X)^{-1}` with
    :math:`c = G/(G-1) \\cdot (n-1)/(n-k)` and t(G - 1) (Cameron & Miller 2015). The first-stage F is the
    square of the instrument's t in the first stage (its Wald statistic with CR1 SEs when clustered, the
    "effective F" of Montiel Olea & Pflueger 2013 for one instrument); below 10 the instrument is weak
    (Staiger & Stock 1997): 2SLS is then biased toward OLS and its Wald interval undercovers.

    What it identifies. The instrument must be randomized (so it is independent of the confounders of
    mechanism and outcome), must move the mechanism (relevance: the first stage) and must affect the
    outcome only through the mechanism (exclusion restriction). The last cannot be tested and is the crux
    of an encouragement design: an arm that targets trust but also changes adoption through another route
    (extra contact time, resources) breaks it, and 2SLS then attributes that route to the mechanism (Imai,
    Tingley & Yamamoto 2013, sec. 4). With a constant linear effect 2SLS estimates that effect; with
    heterogeneous effects and an arm that moves no unit's mechanism down (monotonicity) it estimates a
    weighted average of the mechanism's effect among the units the arm moves (Imbens & Angrist 1994;
    Angrist & Imbens 1995).

    References
    ----------
    Angrist, J. D., & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, ch. 4. Princeton University
    Press.
    Angrist, J. D., & Imbens, G. W. (1995). Two-stage least squares estimation of average causal effects in
    models with variable treatment intensity. *JASA*, 90(430), 431-442.
    Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of
    Human Resources*, 50(2), 317-372.
    Imai, K., Tingley, D., & Yamamoto, T. (2013). Experimental designs for identifying causal mechanisms.
    *Journal of the Royal Statistical Society: Series A*, 176(1), 5-51.
    Imbens, G. W., & Angrist, J. D. (1994). Identification and estimation of local average treatment
    effects. *Econometrica*, 62(2), 467-475.
    Montiel Olea, J. L., & Pflueger, C. (2013). A robust test for weak instruments. *Journal of Business &
    Economic Statistics*, 31(3), 358-369.
    Staiger, D., & Stock, J. H. (1997). Instrumental variables regression with weak instruments.
    *Econometrica*, 65(3), 557-586.

    Examples
    --------
    Coaching (randomized) raises trust; trust and adoption share an unmeasured cause (readiness):

    >>> rng = np.random.default_rng(7)
    >>> coached = rng.integers(0, 2, 2000)
    >>> readiness = rng.normal(size=2000)
    >>> trust = 0.8 * coached + readiness + rng.normal(size=2000)
    >>> adoption = 0.3 * trust + readiness + rng.normal(size=2000)
    >>> frame = pd.DataFrame({"coached": coached, "trust": trust, "adoption": adoption})
    >>> result = instrumental_effect(frame, y="adoption", endogenous="trust", instrument="coached")
    >>> iv = result.effect("iv")
    >>> round(iv.estimate, 2), round(iv.ci_low, 2), round(iv.ci_high, 2)
    (0.37, 0.24, 0.5)
    >>> round(result.effect("ols").estimate, 2), round(result.first_stage_f)
    (0.75, 200)
    """
    _arguments.check(level=level)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    rows = prepare_regression_rows(
        data,
        numeric={"outcome": y, "endogenous regressor": endogenous},
        other={"instrument": instrument},
        covariates=covariates,
        cluster=cluster,
        n_parameters=2,
    )
    n = rows.n
    z, levels, coding = _instrument_values(rows.frame[instrument], instrument)
    outcome = rows.frame[y].to_numpy(dtype=float)
    d = rows.frame[endogenous].to_numpy(dtype=float)
    covariate_names = list(rows.covariate_names)
    instruments = np.column_stack([np.ones(n), z, rows.covariates])
    regressors = np.column_stack([np.ones(n), d, rows.covariates])
    _columns.check_full_rank(instruments, ["intercept", instrument, *covariate_names], "first-stage")
    _columns.check_full_rank(regressors, ["intercept", endogenous, *covariate_names], "outcome")
    k = regressors.shape[1]
    codes = rows.codes
    unit = np.zeros(k)
    unit[1] = 1.0

    first = ols(instruments, d, codes)
    first_stage = wald(first, unit, level)
    fitted = regressors.copy()
    fitted[:, 1] = instruments @ first.coef
    if first_stage[1] == 0 or np.linalg.matrix_rank(fitted) < k:
        raise DataError(
            f"the instrument '{instrument}' does not move '{endogenous}' at all in these rows, so its effect "
            "is not identified",
            hint="check that the arm targets this mechanism and that both arms have varying values",
        )
    f_statistic = (first_stage[0] / first_stage[1]) ** 2
    partial_r2 = partial_r_squared(instruments, d, [1])

    second = least_squares(fitted, outcome)
    coef = second.coef
    residual = outcome - regressors @ coef  # structural residuals, with the observed regressor
    if codes is None:
        covariance = residual @ residual / (n - k) * second.xtx_inv
        df = float(n - k)
    else:
        covariance = cluster_robust_covariance([fitted], [residual], codes)
        df = float(rows.n_clusters - 1)
    iv = wald(OlsFit(coef, covariance, df), unit, level)
    reduced = wald(ols(instruments, outcome, codes), unit, level)
    association = wald(ols(regressors, outcome, codes), unit, level)

    se_kind = "cluster_t" if codes is not None else "t"
    effects = (
        Effect("iv", "iv", *iv[:4], iv[4], se_kind, {"df": df, "t": iv[0] / iv[1]}),
        Effect(
            "first_stage",
            "first_stage",
            *first_stage[:4],
            first_stage[4],
            se_kind,
            {"df": df, "F": f_statistic, "partial_r2": partial_r2},
        ),
        Effect("reduced_form", "reduced_form", *reduced[:4], reduced[4], se_kind, {"df": df}),
        Effect("ols", "association", *association[:4], association[4], se_kind, {"df": df}),
    )
    notes = list(rows.notes)
    if f_statistic < WEAK_INSTRUMENT_F:
        notes.append(
            f"weak instrument: the first-stage F of '{instrument}' is {f_statistic:.2f}, below "
            f"{WEAK_INSTRUMENT_F:g} (Staiger & Stock 1997); the 2SLS estimate is biased toward OLS and its "
            "interval is unreliable"
        )
    method = (
        f"two-stage least squares, instrument {instrument}"
        + (f"; covariates: {', '.join(covariates)}" if covariates else "")
        + (
            f"; CR1 cluster-robust SEs by {cluster}, t with {rows.n_clusters - 1} df"
            if rows.n_clusters is not None
            else f"; classical SEs, t with {n - k} df"
        )
        + f"; {level:.0%} intervals"
    )
    info = {
        "method": method,
        "n": n,
        "level": level,
        "cluster": cluster,
        "instrument_coding": coding,
        "first_stage_F": f_statistic,
        "first_stage_partial_r2": partial_r2,
        "reference": "Angrist & Pischke (2009), ch. 4; Imai, Tingley & Yamamoto (2013), JRSS-A 176:5-51",
    }
    return InstrumentalResult(
        effects=effects,
        info=info,
        warnings=tuple(notes),
        outcome=y,
        endogenous=endogenous,
        instrument=instrument,
        instrument_levels=levels,
        first_stage_f=f_statistic,
        first_stage_partial_r2=partial_r2,
        n=n,
        n_clusters=rows.n_clusters,
        level=level,
        covariates=tuple(covariates),
    )
