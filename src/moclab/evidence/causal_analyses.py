"""The analyses of a pathway's causal reading: a manipulated mechanism (two-stage least squares) and the
robustness of the mechanism → outcome link (Imai's ρ, the Cinelli-Hazlett robustness value)."""

from __future__ import annotations

from typing import Any

from moclab.analysis import instrumental_effect, robustness, sensitivity
from moclab.evidence.analysis_base import PathwayAnalysisBase
from moclab.evidence.rules import MechanismManipulation

__all__ = ["CausalAnalyses"]


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
        """Imai's ρ and the Cinelli-Hazlett robustness value of the mechanism → outcome link."""
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
        with_strategy = [data.x, *covariates] if data.frame[data.x].nunique() > 1 else covariates
        analyses = (
            (
                "sensitivity",
                lambda: sensitivity(
                    data.frame, x=data.x, m=mechanism, y=plan.outcome, covariates=covariates, level=self.level
                ),
                {"rho_at_zero": "rho_at_zero", "r2_star_product": "r2_star_product"},
            ),
            (
                "robustness",
                lambda: robustness(
                    data.frame,
                    y=plan.outcome,
                    treatment=mechanism,
                    covariates=with_strategy,
                    level=self.level,
                ),
                {"robustness_value": "rv_q", "rv_alpha": "rv_qa", "partial_r2": "partial_r2"},
            ),
        )
        for name, run, fields in analyses:
            result, failure = self.attempt(name, run)
            if result is None:
                figures[f"{name}_failure"] = failure
            else:
                figures.update({key: getattr(result, attribute) for key, attribute in fields.items()})
        return figures
