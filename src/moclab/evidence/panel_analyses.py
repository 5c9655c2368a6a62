"""The analyses of a pathway over time and dose: the cross-lagged panel and dose-response (gradient)."""

from __future__ import annotations

from typing import Any

from moclab.analysis import cross_lagged, dose_response
from moclab.analysis.results import Effect
from moclab.evidence.analysis_base import PathwayAnalysisBase

__all__ = ["PanelAnalyses"]


class PanelAnalyses(PathwayAnalysisBase):
    """The timeline and gradient analyses of a pathway."""

    def timeline(self) -> tuple[dict[str, Effect | None], str | None, tuple[str, ...]]:
        self.step("timeline")
        data, plan = self.data, self.plan
        names = ("m_to_y", "y_to_m", "difference_std", "m_to_y_std", "y_to_m_std")
        empty: dict[str, Effect | None] = dict.fromkeys(names)
        if data.panel is None:
            return empty, data.panel_failure, ()
        panel = data.panel
        competitors = tuple(c for c in self.competitors if c in panel.columns and panel[c].notna().any())
        covariates = [*([data.x] if panel[data.x].nunique() > 1 else []), *competitors]
        result, failure = self.attempt(
            "panel",
            lambda: cross_lagged(
                panel,
                unit="recipient",
                wave="wave",
                m=plan.mechanisms[-1],
                y=plan.outcome,
                covariates=covariates,
                cluster=data.cluster,
                level=self.level,
            ),
        )
        if result is None:
            return empty, failure, competitors
        return {name: result.effect(name) for name in names}, None, competitors

    def gradient(self) -> dict[str, Any]:
        self.step("gradient")
        data, plan, settings = self.data, self.plan, self.settings
        found: dict[str, Any] = {}
        # support received → (first) mechanism
        mechanism = plan.mechanisms[0]
        if data.dose is None:
            found["dose_failure"] = data.dose_failure
        else:
            rows = data.frame
            if settings.dose.within_arm and data.x_type == "arm":
                rows = rows.loc[(rows[data.x] == 1).to_numpy()]
            levels = rows.dropna(subset=[data.dose, mechanism])[data.dose].nunique()
            if levels < settings.thresholds.min_dose_levels:
                found["dose_failure"] = (
                    f"the support received takes {levels} distinct value(s) among the analysed recipients"
                    + (
                        " of the non-control arm(s)"
                        if settings.dose.within_arm and data.x_type == "arm"
                        else ""
                    )
                    + f"; a dose-response needs at least {settings.thresholds.min_dose_levels}"
                )
            else:
                cluster = self._cluster_for(rows)
                result, failure = self.attempt(
                    "dose_mechanism",
                    lambda: dose_response(
                        rows,
                        dose=data.dose,  # type: ignore[arg-type]
                        response=mechanism,
                        covariates=data.baseline_for(mechanism),
                        cluster=cluster,
                        level=self.level,
                    ),
                )
                if result is None:
                    found["dose_failure"] = failure
                else:
                    found["dose_slope"], found["dose_trend"] = result.effect("slope"), result.effect("trend")
        # (last) mechanism → outcome, given the strategy, the competitors and the baselines
        last = plan.mechanisms[-1]
        covariates = [data.x, *self.competitors, *data.baseline_for(last, *self.competitors, plan.outcome)]
        if data.frame[data.x].nunique() < 2:
            covariates = covariates[1:]
        cluster = self._cluster_for(data.frame)
        result, failure = self.attempt(
            "mechanism_outcome",
            lambda: dose_response(
                data.frame,
                dose=last,
                response=plan.outcome,
                covariates=covariates,
                cluster=cluster,
                level=self.level,
            ),
        )
        if result is None:
            found["mechanism_failure"] = failure
        else:
            found["mechanism_slope"], found["mechanism_trend"] = (
                result.effect("slope"),
                result.effect("trend"),
            )
        return found

    def _cluster_for(self, rows: Any) -> str | None:
        cluster = self.data.cluster
        if cluster is None or rows[cluster].nunique() < 3:
            return None
        return cluster
