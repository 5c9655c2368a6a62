"""Every sensitivity measure of a mediation analysis to mechanism-outcome confounding, in one result.

A randomized strategy makes its effect on the mechanism (the a path) and on the outcome causal; the mechanism
-> outcome link (the b path) is not randomized, so an unmeasured confounder of mechanism and outcome can
produce or hide the indirect effect a·b. `mediation_sensitivity` answers "how strong would that confounder
have to be?" on each of the scales the literature uses, for the same data and models:

* Imai's ρ (`moclab.analysis.sensitivity`): the correlation of the mediator and outcome errors at which the
  indirect effect vanishes, with the R² products a confounder would need;
* Cinelli & Hazlett's robustness values (`moclab.analysis.robustness`) of the b path: its partial R² with
  the outcome, RV_q and RV_{q,α}, and bounds on a confounder k times as strong as a measured covariate, with
  the b path and the indirect effect it would leave;
* for a binary outcome, E-values (VanderWeele & Ding 2017; `moclab.analysis.evalue`) of the b path's odds
  ratio and the mediational E-values of the natural indirect and direct effects' risk ratios (Smith &
  VanderWeele 2019), from the regression-based natural effects of `moclab.analysis.mediate_interaction`;

and `plot` shows the ρ curve with its zero crossing, the robustness contours with the benchmark bounds, and
the E-value curve of the indirect effect side by side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import least_squares
from moclab.analysis.binary import prepare_mediation_data
from moclab.analysis.evalue import EValueResult, e_value
from moclab.analysis.interaction import (
    RARE_OUTCOME_PREVALENCE,
    InteractionMediationResult,
    mediate_interaction,
)
from moclab.analysis.results import AnalysisResult, Effect
from moclab.analysis.robustness import RobustnessResult, robustness
from moclab.analysis.sensitivity import SensitivityResult, sensitivity
from moclab.errors import DataError, did_you_mean
from moclab.plain import plain

__all__ = ["MediationSensitivityResult", "mediation_sensitivity"]

OUTCOME_MODELS: tuple[str, ...] = ("linear", "logit")

#: The E-values of a binary outcome: key, what it is the E-value of.
_E_VALUES: tuple[tuple[str, str], ...] = (
    ("b", "the b path (odds ratio of the outcome per contrast of the mechanism)"),
    ("nie", "the natural indirect effect (risk ratio)"),
    ("nde", "the natural direct effect (risk ratio)"),
)


@dataclass(frozen=True, repr=False)
class MediationSensitivityResult(AnalysisResult):
    """Result of `mediation_sensitivity`: the sensitivity of the indirect effect to mechanism-outcome
    confounding on every scale, with the results it is made of.

    Effects (``to_frame()``): ``acme`` (a·b at ρ = 0), ``rho_at_zero``, ``r2_star_product``,
    ``r2_tilde_product`` (Imai); ``b`` (the mechanism's coefficient in the outcome regression),
    ``partial_r2``, ``rv_q``, ``rv_qa`` (Cinelli & Hazlett); one ``bound`` per benchmark and multiple (named
    like ``"2x readiness"``: the b path adjusted for a confounder k times as strong as the benchmark, its
    ``extra["adjusted_indirect"]`` the indirect effect a·b it leaves); and for a binary outcome
    ``e_value_b``, ``e_value_nie``, ``e_value_nde`` with ``e_value_*_limit`` (the E-value of the confidence
    limit nearer the null; 1 when the interval includes it).

    Attributes
    ----------
    rho : SensitivityResult
        Imai, Keele & Yamamoto's ACME(ρ) curve (`moclab.analysis.sensitivity`).
    ovb : RobustnessResult
        Cinelli & Hazlett's statistics for the b path (`moclab.analysis.robustness`): the regression of the
        outcome on the mechanism, the strategy and the covariates.
    e_values : dict of str to EValueResult
        For a binary outcome: ``"b"``, ``"nie"`` and ``"nde"``; empty for a continuous outcome.
    natural_effects : InteractionMediationResult or None
        For a binary outcome: the natural effects on the odds-ratio scale the E-values are computed from.
    a : float
        The a path (strategy -> mechanism), which mechanism-outcome confounding does not bias.
    """

    rho: SensitivityResult | None = None
    ovb: RobustnessResult | None = None
    e_values: dict[str, EValueResult] = field(default_factory=dict)
    natural_effects: InteractionMediationResult | None = None
    a: float = math.nan

    title = "Sensitivity of the indirect effect to mechanism-outcome confounding"
    headline = ("rho_at_zero", "rv_q", "rv_qa", "e_value_nie")

    @property
    def rho_at_zero(self) -> float:
        """Imai's ρ at which the indirect effect is zero."""
        return self.rho.rho_at_zero

    @property
    def rv_q(self) -> float:
        """Cinelli & Hazlett's robustness value of the b path (and so of the indirect effect a·b)."""
        return self.ovb.rv_q

    @property
    def rv_qa(self) -> float:
        """The robustness value at which the b path's interval reaches the reduced value."""
        return self.ovb.rv_qa

    @property
    def partial_r2(self) -> float:
        """Partial R² of the mechanism with the outcome."""
        return self.ovb.partial_r2

    @property
    def bounds(self) -> pd.DataFrame | None:
        """`RobustnessResult.bounds` with ``adjusted_indirect``: a times the adjusted b path (times the
        strategy contrast)."""
        bounds = self.ovb.bounds
        if bounds is None:
            return None
        contrast = self.info["treat_value"] - self.info["control_value"]
        return bounds.assign(adjusted_indirect=self.a * contrast * bounds["adjusted_estimate"])

    @property
    def e_value_nie(self) -> float | None:
        """The mediational E-value of the natural indirect effect (binary outcome; None otherwise)."""
        result = self.e_values.get("nie")
        return None if result is None else result.point

    @property
    def explained_by(self) -> list[str]:
        """The benchmark bounds (``"2x readiness"``) under which the b path's adjusted interval reaches the
        reduced value (1 - q)·b or lies beyond it: confounders that strong could explain the indirect effect
        away (or reverse it)."""
        target = (1.0 - self.ovb.q) * self.ovb.estimate
        positive = self.ovb.estimate > 0
        return [
            e.name
            for e in self.effects
            if e.kind == "bound" and (e.ci_low <= target if positive else e.ci_high >= target)
        ]

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        base.update(
            plain(
                {
                    "rho": None if self.rho is None else self.rho.to_dict(),
                    "ovb": None if self.ovb is None else self.ovb.to_dict(),
                    "e_values": {key: value.to_dict() for key, value in self.e_values.items()},
                    "natural_effects": None
                    if self.natural_effects is None
                    else self.natural_effects.to_dict(),
                    "a": self.a,
                    "explained_by": self.explained_by,
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """The three families of measures in words, the benchmark bounds and the warnings."""
        info = self.info
        x, m, y = info["x"], info["m"], info["y"]
        ovb = self.ovb
        alpha = 1.0 - ovb.level
        lines = [
            f"{self.title}: {x} -> {m} -> {y}; n = {info['n']}",
            f"  indirect effect a·b = {self.effect('acme').estimate:.{digits}g} "
            f"(a = {self.a:.{digits}g}, b = {ovb.estimate:.{digits}g})",
            "",
            "Imai, Keele & Yamamoto (2010): correlation of the mechanism and outcome errors",
            f"  the indirect effect is zero at rho = {self.rho_at_zero:.3f}: a confounder must explain",
            f"  R*2_M x R*2_Y = {self.rho.r2_star_product:.{digits}g} of the residual variances "
            f"(R~2_M x R~2_Y = {self.rho.r2_tilde_product:.{digits}g} of the total variances)",
            "",
            f"Cinelli & Hazlett (2020): partial R2 of a confounder with {m} and with {y}",
            f"  partial R2 of {m} with {y}: {self.partial_r2:.2%}",
            f"  RV_q (q = {ovb.q:g}): {self.rv_q:.2%}: weaker confounders cannot reduce b, and so a·b, by "
            f"{100 * ovb.q:g}%",
            f"  RV_q,a (alpha = {alpha:.3g}): {self.rv_qa:.2%}: weaker confounders cannot bring b's "
            f"{ovb.level:.0%} interval to the reduced value",
        ]
        bounds = self.bounds
        if bounds is not None and len(bounds):
            columns = ["benchmark", "k", "r2dz_x", "r2yz_dx", "adjusted_estimate", "adjusted_ci_low"]
            columns += ["adjusted_ci_high", "adjusted_indirect"]
            lines += ["", "  confounders k times as strong as a measured covariate (adjusted b and a·b):"]
            text = bounds[columns].to_string(index=False, float_format=lambda v: f"{v:.{digits}g}")
            lines += [f"  {line}" for line in text.splitlines()]
        if self.e_values:
            lines += [
                "",
                "E-values (VanderWeele & Ding 2017; Smith & VanderWeele 2019 for the natural effects)",
            ]
            for key, what in _E_VALUES:
                result = self.e_values[key]
                limit = "" if result.limit is None else f", its {result.limit_side} limit {result.limit:.3g}"
                lines.append(f"  {what}: RR {result.rr:.3g} -> E-value {result.point:.3g}{limit}")
        if self.warnings:
            lines += ["", *(f"warning: {w}" for w in self.warnings)]
        return "\n".join(lines)

    def plot(self, axes: Any = None) -> Any:
        """The ρ curve with its zero crossing, the robustness contours with the benchmark bounds, and (for a
        binary outcome) the E-value curve of the natural indirect effect, side by side. Returns the array of
        matplotlib Axes (`axes`: as many Axes to draw on).

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> rng = np.random.default_rng(2)
        >>> df = pd.DataFrame({"x": rng.integers(0, 2, 300), "c": rng.normal(size=300)})
        >>> df["m"] = 0.5 * df.x + 0.3 * df.c + rng.normal(size=300)
        >>> df["y"] = 0.4 * df.m + 0.3 * df.c + rng.normal(size=300)
        >>> axes = mediation_sensitivity(df, x="x", m="m", y="y", covariates=["c"], benchmark="c").plot()
        >>> len(axes)
        2
        """
        import matplotlib.pyplot as plt

        panels = 3 if "nie" in self.e_values else 2
        if axes is None:
            _, axes = plt.subplots(1, panels, figsize=(5.6 * panels, 4.6))
        axes = np.atleast_1d(axes)
        if axes.size < panels:
            raise DataError(f"plot needs {panels} Axes, not {axes.size}", hint="or pass axes=None")
        self.rho.plot(axes[0])
        axes[0].set_title(f"Imai's ρ: the indirect effect is zero at ρ = {self.rho_at_zero:.3f}", fontsize=9)
        self.ovb.plot(axes[1])
        if panels == 3:
            self.e_values["nie"].plot(axes[2])
            axes[2].set_title(
                f"Mediational E-value of the NIE (RR {self.e_values['nie'].rr:.3g}): {self.e_value_nie:.3g}",
                fontsize=9,
            )
            # Smith & VanderWeele (2019): the confounder's association with the mechanism, not the exposure.
            axes[2].set_xlabel("RR_UM: risk ratio of the confounder with the mechanism")
        return axes


# ------------------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------------------


def _check_benchmarks(benchmark: str | Sequence[str] | None, x: str, covariates: Sequence[str]) -> list[str]:
    names = [] if benchmark is None else [benchmark] if isinstance(benchmark, str) else list(benchmark)
    allowed = [x, *covariates]
    for name in names:
        if name not in allowed:
            raise DataError(
                f"the benchmark {name!r} is neither the strategy nor a covariate",
                hint=did_you_mean(str(name), allowed)
                or "a benchmark must be a measured covariate: add it to covariates=",
            )
    return names


def _path_odds_ratio(
    natural: InteractionMediationResult, m: str, contrast: float, level: float
) -> tuple[float, float, float]:
    """The outcome's odds ratio for a `contrast` in the mechanism, with its Wald interval (logit model)."""
    row = natural.outcome_model.loc[m]
    z = float(special.ndtri(0.5 + level / 2))
    log_or, se = float(row["estimate"]) * contrast, float(row["se"]) * contrast
    return math.exp(log_or), math.exp(log_or - z * se), math.exp(log_or + z * se)


def _binary_e_values(
    frame: pd.DataFrame,
    x: str,
    m: str,
    y: str,
    covariates: Sequence[str],
    treat_value: float,
    control_value: float,
    contrast: float,
    level: float,
) -> tuple[InteractionMediationResult, dict[str, EValueResult], bool]:
    """Natural effects on the odds-ratio scale and the E-values of the b path, the NIE and the NDE."""
    natural = mediate_interaction(
        frame,
        x=x,
        m=m,
        y=y,
        covariates=covariates,
        outcome_model="logit",
        interaction=False,
        treat_value=treat_value,
        control_value=control_value,
        ci="delta",
        level=level,
    )
    rare = natural.info["outcome_prevalence"] <= RARE_OUTCOME_PREVALENCE
    results = {"b": e_value(*_path_odds_ratio(natural, m, contrast, level), scale="OR", rare=rare)}
    for key in ("nie", "nde"):
        effect = natural.effect(f"or_{key}")
        results[key] = e_value(effect.estimate, effect.ci_low, effect.ci_high, scale="OR", rare=rare)
    return natural, results, rare


def mediation_sensitivity(
    data: pd.DataFrame,
    *,
    x: str,
    m: str,
    y: str,
    covariates: Sequence[str] = (),
    outcome_model: Literal["linear", "logit"] = "linear",
    benchmark: str | Sequence[str] | None = None,
    benchmark_multiples: Sequence[float] = (1.0, 2.0, 3.0),
    q: float = 1.0,
    level: float = 0.95,
    treat_value: float = 1.0,
    control_value: float = 0.0,
    m_contrast: float | None = None,
    rho: Sequence[float] | np.ndarray | None = None,
    missing: Literal["listwise", "raise"] = "listwise",
) -> MediationSensitivityResult:
    """How strong must mechanism-outcome confounding be to explain the indirect effect away? Every measure.

    Runs, on the same complete rows, Imai's ρ analysis (`sensitivity`), Cinelli & Hazlett's robustness values
    and benchmark bounds for the b path (`robustness` of the outcome regression on the mechanism, the
    strategy and the covariates) and, for a binary outcome, the E-values of the b path and of the natural
    indirect and direct effects (`mediate_interaction` with a logit outcome model, `e_value`), and returns
    them in one `MediationSensitivityResult`.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    x, m, y : str
        Strategy (arm or dose), mechanism (continuous) and outcome (continuous, or 0/1 with
        ``outcome_model="logit"``).
    covariates : sequence of str
        Pre-treatment covariates of every model (text columns become indicators).
    outcome_model : {"linear", "logit"}
        "logit" for a 0/1 outcome adds the E-values; ρ and the robustness values are then those of the
        linear-probability models (see Notes).
    benchmark : str or sequence of str, optional
        Measured covariate(s) (or the strategy) whose strength is the yardstick of the bounds.
    benchmark_multiples : sequence of float
        The multiples k of the bounds.
    q : float
        Share of the b path (and so of the indirect effect) to explain away (RV_q).
    level : float
        Confidence level (α = 1 - level for RV_{q,α}; the intervals of the E-values).
    treat_value, control_value : float
        The strategy contrast of the indirect and direct effects.
    m_contrast : float, optional
        Contrast in the mechanism for the b path's odds ratio (binary outcome): one SD of the mechanism
        (n - 1) by default.
    rho : sequence of float, optional
        Grid of ρ for the curve (default -0.9 to 0.9 by 0.01).
    missing : {"listwise", "raise"}
        Drop incomplete rows (reported) or refuse them.

    Returns
    -------
    MediationSensitivityResult

    Raises
    ------
    DataError
        Unknown columns or options, non-numeric or constant columns, a logit outcome that is not 0/1, a
        benchmark that is neither the strategy nor a covariate, a non-positive `m_contrast`, collinear
        predictors, missing values with ``missing="raise"``.

    Notes
    -----
    *Why the b path.* With the strategy randomized (or its confounders among the covariates), an unmeasured
    confounder U of mechanism and outcome biases only b. Reducing b by 100q % reduces a·b by 100q %, so the
    robustness values and bounds of b are those of the indirect effect's point estimate; the interval of a·b
    also carries a's uncertainty, so RV_{q,α} of b is not the interval statement for a·b. The bound on the
    indirect effect is a times the adjusted b, ``bounds["adjusted_indirect"]``.

    *Imai's ρ* (Imai, Keele & Yamamoto 2010): see `moclab.analysis.sensitivity`. *Robustness values and
    bounds* (Cinelli & Hazlett 2020, sec. 4 and 6): see `moclab.analysis.robustness`; a confounder k times as
    strong as covariate X_j has partial R² k R²_{D~X_j|X_{-j}} / (1 - R²_{D~X_j|X_{-j}}) with the mechanism
    and at most η² R²_{Y~X_j|D,X_{-j}} / (1 - R²_{Y~X_j|D,X_{-j}}) with the outcome.

    *E-values* (binary outcome). The E-value of a risk ratio RR > 1 is RR + √(RR (RR - 1)) (VanderWeele &
    Ding 2017; for RR < 1 the same in 1/RR): the risk ratio an unmeasured confounder would need with both
    the exposure and the outcome to explain the estimate away. The mediational E-values of Smith & VanderWeele
    (2019) apply the same formula to the risk ratios of the natural indirect and direct effects: the
    strength of association a mechanism-outcome confounder would need with both the mechanism and the outcome
    (their approximation of the bound of Ding & VanderWeele 2016, which they found to hold in over 99 % of
    simulated scenarios). The natural effects come from `mediate_interaction` (logit outcome, no
    interaction): OR_NIE = exp(a b (a - a*)) with b the logit coefficient, delta-method intervals. When the
    outcome is rare (at most 10 % of the rows) the odds ratios stand for risk ratios; otherwise they are
    converted to approximate risk ratios by √OR (VanderWeele 2020; `e_value(scale="OR")`), on top of the
    rare-outcome approximation of the natural effects themselves, which `mediate_interaction` then warns
    about. The b path's odds ratio is exp(b Δ) for a contrast Δ of the mechanism (one SD by default).

    For a 0/1 outcome, ρ and the robustness values are computed from the linear-probability models: the
    omitted-variable-bias algebra of Cinelli & Hazlett holds exactly for any OLS coefficient, so RV_q is the
    confounding that would remove the linear association of mechanism and outcome; Imai's closed form assumes
    normal errors, which a 0/1 outcome does not have, so read its ρ as approximate there.

    References
    ----------
    Imai, K., Keele, L. & Yamamoto, T. (2010). Identification, inference and sensitivity analysis for causal
    mediation effects. *Statistical Science*, 25(1), 51-71.
    Cinelli, C. & Hazlett, C. (2020). Making sense of sensitivity: extending omitted variable bias. *Journal
    of the Royal Statistical Society: Series B*, 82(1), 39-67.
    VanderWeele, T. J. & Ding, P. (2017). Sensitivity analysis in observational research: introducing the
    E-value. *Annals of Internal Medicine*, 167(4), 268-274.
    Smith, L. H. & VanderWeele, T. J. (2019). Mediational E-values: approximate sensitivity analysis for
    unmeasured mediator-outcome confounding. *Epidemiology*, 30(6), 835-837.
    Ding, P. & VanderWeele, T. J. (2016). Sharp sensitivity bounds for mediation under unmeasured
    mediator-outcome confounding. *Biometrika*, 103(2), 483-490.

    Examples
    --------
    >>> rng = np.random.default_rng(8)
    >>> n = 600
    >>> df = pd.DataFrame({"coaching": rng.integers(0, 2, n), "readiness": rng.normal(size=n)})
    >>> df["trust"] = 0.5 * df.coaching + 0.4 * df.readiness + rng.normal(size=n)
    >>> df["adoption"] = 0.3 * df.trust + 0.3 * df.readiness + rng.normal(size=n)
    >>> res = mediation_sensitivity(
    ...     df, x="coaching", m="trust", y="adoption", covariates=["readiness"], benchmark="readiness"
    ... )
    >>> round(res.rho_at_zero, 3), round(res.rv_q, 3), round(res.rv_qa, 3)
    (0.25, 0.227, 0.162)
    >>> res.bounds[["k", "adjusted_estimate", "adjusted_indirect"]].round(3).values.tolist()
    [[1.0, 0.165, 0.091], [2.0, 0.035, 0.019], [3.0, -0.135, -0.075]]
    >>> res.explained_by
    ['2x readiness', '3x readiness']
    """
    _arguments.choice("outcome_model", outcome_model, OUTCOME_MODELS)
    _arguments.check(level=level, missing=missing)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    benchmarks = _check_benchmarks(benchmark, x, covariates)
    prepared = prepare_mediation_data(
        data, x=x, m=m, y=y, covariates=covariates, outcome_model=outcome_model, missing=missing
    )
    contrast = (
        float(prepared.m.std(ddof=1)) if m_contrast is None else _arguments.number("m_contrast", m_contrast)
    )
    if contrast <= 0:
        raise DataError(
            f"m_contrast must be positive, not {m_contrast!r}", hint="e.g. 1 for one unit of the mechanism"
        )
    frame, _, _ = _columns.complete_rows(data[[x, m, y, *covariates]])
    rho_result = sensitivity(
        frame,
        x=x,
        m=m,
        y=y,
        covariates=covariates,
        rho=rho,
        level=level,
        treat_value=treat_value,
        control_value=control_value,
    )
    ovb = robustness(
        frame,
        y=y,
        treatment=m,
        covariates=[x, *covariates],
        q=q,
        level=level,
        benchmark=benchmarks or None,
        benchmark_multiples=benchmark_multiples,
    )
    a = float(least_squares(prepared.mediator_design(), prepared.m).coef[1])
    delta = float(treat_value) - float(control_value)

    effects = list(rho_result.effects)
    renamed = {"coefficient": ("b", "b")}
    for e in ovb.effects:
        name, kind = renamed.get(e.name, (e.name, e.kind))
        extra = dict(e.extra)
        if kind == "bound":
            extra["adjusted_indirect"] = a * delta * e.estimate
        effects.append(Effect(name, kind, e.estimate, e.se, e.ci_low, e.ci_high, e.p, e.ci_method, extra))
    notes = [*prepared.notes, *rho_result.warnings, *ovb.warnings]

    natural, e_values, rare = None, {}, None
    if outcome_model == "logit":
        natural, e_values, rare = _binary_e_values(
            frame, x, m, y, covariates, treat_value, control_value, contrast, level
        )
        # Only the scale of the natural effects matters here (their proportions, which mediate_interaction
        # warns about, are not reported).
        notes.append(
            f"'{y}' is binary: rho and the robustness values are those of the linear-probability models; the "
            "E-values those of the logistic model's odds ratios"
            + (
                ""
                if rare
                else f", converted to approximate risk ratios (sqrt(OR)) because the outcome is not rare "
                f"({natural.info['outcome_prevalence']:.0%} of the rows); the natural effects' odds ratios "
                "themselves rest on the rare-outcome approximation, which then biases them (see "
                "mediate_interaction)"
            )
        )
        for key, _ in _E_VALUES:
            result = e_values[key]
            extra = {"rr": result.rr, "rr_low": result.rr_low, "rr_high": result.rr_high, "rare": rare}
            effects.append(Effect(f"e_value_{key}", "e_value", result.point, extra=extra))
            if result.limit is not None:
                effects.append(
                    Effect(f"e_value_{key}_limit", "e_value", result.limit, extra={"side": result.limit_side})
                )

    info: dict[str, Any] = {
        "method": "Imai's rho, Cinelli & Hazlett's robustness values"
        + (" and E-values" if e_values else "")
        + " for mechanism-outcome confounding",
        "n": prepared.n,
        "n_dropped": prepared.n_dropped,
        "x": x,
        "m": m,
        "y": y,
        "covariates": list(prepared.covariate_names),
        "outcome_model": outcome_model,
        "benchmarks": benchmarks,
        "q": q,
        "level": level,
        "treat_value": float(treat_value),
        "control_value": float(control_value),
        "m_contrast": contrast if outcome_model == "logit" else None,
        "rare_outcome": rare,
        "reference": "Imai, Keele & Yamamoto (2010); Cinelli & Hazlett (2020); VanderWeele & Ding (2017); "
        "Smith & VanderWeele (2019)",
    }
    return MediationSensitivityResult(
        effects=tuple(effects),
        info=info,
        warnings=tuple(dict.fromkeys(notes)),
        rho=rho_result,
        ovb=ovb,
        e_values=e_values,
        natural_effects=natural,
        a=a,
    )
