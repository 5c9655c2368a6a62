"""The analyses of a pathway's causal reading: a manipulated mechanism (two-stage least squares) and the
robustness of the mechanism → outcome link (Imai's ρ, the Cinelli-Hazlett robustness values and bounds)."""

from __future__ import annotations

from typing import Any

from moclab.analysis import instrumental_effect, mediation_sensitivity, tipping_point
from moclab.evidence.analysis_base import PathwayAnalysisBase
from moclab.evidence.rules import MechanismManipulation

__all__ = ["BENCHMARK_MULTIPLES", "TIPPING_DELTAS", "CausalAnalyses", "benchmark_figures"]

#: Multiples of a measured covariate's strength the bounds on an unmeasured confounder take (Cinelli &
#: Hazlett 2020, sec. 6.2, use 1, 2 and 3 in their example).
BENCHMARK_MULTIPLES = (1.0, 2.0, 3.0)
#: Shifts of the imputed outcomes the scorecard's tipping point tries, in SDs of the observed outcome
#: (`tipping_point` refines between two of them where the verdict changes).
TIPPING_DELTAS = tuple(round(-2.0 + 0.2 * step, 10) for step in range(21))


class CausalAnalyses(PathwayAnalysisBase):
    """The analyses of a pathway's causal reading."""

    def mechanism_manipulation(self) -> MechanismManipulation | None:
        """Two-stage least squares of the outcome on the mechanism, instrumented by the randomized factor
        that targets it (design.manipulations)."""
        data, plan = self.data, self.plan
        spec = plan.manipulation
        if spec is None or data.manipulation is None:
            return None
        mechanism = plan.mechanisms[0]
        covariates = [
            *([data.x] if data.frame[data.x].nunique() > 1 else []),
            *self.numeric_covariates_for(mechanism, plan.outcome),
        ]
        result, failure = self.attempt(
            "manipulation",
            lambda: instrumental_effect(
                data.frame,
                y=plan.outcome,
                endogenous=mechanism,
                instrument=data.manipulation,  # type: ignore[arg-type]
                covariates=covariates,
                cluster=data.cluster,
                level=self.level,
            ),
        )
        sign = plan.sign_between(mechanism, plan.outcome)
        if result is None:
            return MechanismManipulation(spec.column, spec.level, sign=sign, failure=failure)
        return MechanismManipulation(
            spec.column,
            spec.level,
            first_stage=result.effect("first_stage"),
            iv=result.effect("iv"),
            f_stat=result.first_stage_f,  # type: ignore[attr-defined]
            sign=sign,
        )

    def robustness(self) -> dict[str, Any]:
        """How strong mechanism-outcome confounding would have to be to explain the link away: Imai's ρ, the
        Cinelli-Hazlett robustness values and, with every measured covariate and competing mechanism as a
        yardstick, the bounds on a confounder 1, 2 or 3 times as strong (`mediation_sensitivity`: one
        result, the same complete rows for every measure)."""
        self.step("robustness")
        data, plan = self.data, self.plan
        figures: dict[str, Any] = {}
        if len(plan.mechanisms) != 1:
            return figures
        mechanism = plan.mechanisms[0]
        covariates = [
            *self.competitors,
            *self.numeric_covariates_for(mechanism, *self.competitors, plan.outcome),
        ]
        result, failure = self.attempt(
            "sensitivity",
            lambda: mediation_sensitivity(
                data.frame,
                x=data.x,
                m=mechanism,
                y=plan.outcome,
                covariates=covariates,
                benchmark=covariates or None,
                benchmark_multiples=BENCHMARK_MULTIPLES,
                level=self.level,
            ),
        )
        if result is None:
            figures["sensitivity_failure"] = failure
            return figures
        sensitivity: Any = result
        figures.update(
            rho_at_zero=sensitivity.rho_at_zero,
            r2_star_product=sensitivity.rho.r2_star_product,
            robustness_value=sensitivity.rv_q,
            rv_alpha=sensitivity.rv_qa,
            partial_r2=sensitivity.partial_r2,
        )
        if covariates and sensitivity.rv_qa > 0:  # bounds only say something about a significant link
            figures["benchmarks"] = benchmark_figures(sensitivity, covariates)
        return figures

    def missing_data(self, association_met: bool) -> dict[str, str] | None:
        """How the mediation models treated missing values, for the conclusion (None with listwise deletion),
        with the tipping point of the indirect effect (`tipping_point`: the imputed outcomes of the treated
        arm, or of everyone with a dose, shifted) when the association was met on imputed data, the outcome
        has missing values and the pathway has one mechanism."""
        if self.settings.missing == "listwise" or self.multilevel is not None:
            return None
        found = {"method": self.missing_data_text}
        data, plan = self.data, self.plan
        if (
            self.settings.missing != "imputation"
            or not association_met
            or len(plan.mechanisms) != 1
            or not data.frame[plan.outcome].isna().any()
        ):
            return found
        self.step("tipping point")
        mediators = [plan.mechanisms[0], *self.competitors]
        covariates = self.covariates_for(*mediators, plan.outcome)
        result, failure = self.attempt(
            "tipping_point",
            lambda: tipping_point(
                data.frame,
                x=data.x,
                m=mediators,
                y=plan.outcome,
                covariates=covariates,
                auxiliary=self.auxiliary_for(*mediators, plan.outcome, *covariates),
                cluster=data.cluster,
                shift="treated" if data.x_type == "arm" else "both",
                deltas=TIPPING_DELTAS,
                n_imputations=self.settings.imputations,
                level=self.level,
                seed=self.seed,
                x_type="arm" if data.x_type == "arm" else "dose",
            ),
        )
        if result is not None:
            text = result.verdict_text(self.indirect_name)  # type: ignore[attr-defined]
            found["tipping"] = text[0].lower() + text[1:]
        else:
            found["tipping"] = f"the tipping point could not be computed: {failure}"
        return found


def benchmark_figures(result: Any, benchmarks: list[str]) -> list[dict[str, Any]]:
    """Per measured covariate (or competing mechanism): the smallest multiple k of its strength at which an
    unmeasured confounder would bring the mechanism → outcome link's interval to zero (None when not even
    the largest multiple would, or when no bound exists at any multiple), with the adjusted b path there."""
    explained = set(result.explained_by)
    rows = []
    bounds = result.bounds
    for name in benchmarks:
        own = bounds[bounds["benchmark"] == name] if bounds is not None else bounds
        if own is None or own.empty:
            rows.append({"benchmark": name, "k": None, "bounded": False})
            continue
        hits = [row for row in own.itertuples(index=False) if f"{row.k:g}x {name}" in explained]
        first = hits[0] if hits else own.iloc[-1]
        rows.append(
            {
                "benchmark": name,
                "k": float(first.k) if hits else None,
                "largest_k": float(own["k"].max()),
                "bounded": True,
                "adjusted_b": float(first.adjusted_estimate),
                "adjusted_indirect": float(first.adjusted_indirect),
            }
        )
    return rows
