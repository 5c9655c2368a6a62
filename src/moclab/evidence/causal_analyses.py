"""The analyses of a pathway's causal reading: a manipulated mechanism (two-stage least squares) and the
robustness of the mechanism → outcome link (Imai's ρ, the Cinelli-Hazlett robustness values and bounds)."""

from __future__ import annotations

from typing import Any

from moclab.analysis import instrumental_effect, mediation_sensitivity
from moclab.evidence.analysis_base import PathwayAnalysisBase
from moclab.evidence.rules import MechanismManipulation

__all__ = ["BENCHMARK_MULTIPLES", "CausalAnalyses", "benchmark_figures"]

#: Multiples of a measured covariate's strength the bounds on an unmeasured confounder take (Cinelli &
#: Hazlett 2020, sec. 6.2, use 1, 2 and 3 in their example).
BENCHMARK_MULTIPLES = (1.0, 2.0, 3.0)


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
