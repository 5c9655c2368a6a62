"""The consistency analyses of a pathway: across studies, sites (two designs) or subgroups."""

from __future__ import annotations

from typing import Any

from moclab.analysis import (
    arm_variance_ratio,
    cluster_indirect_effects,
    cluster_slopes,
    mediate,
    meta_analysis,
)
from moclab.analysis.results import AnalysisResult, Effect
from moclab.evidence.analysis_base import PathwayAnalysisBase

__all__ = ["ConsistencyAnalyses"]


class ConsistencyAnalyses(PathwayAnalysisBase):
    """The consistency analyses of a pathway: across studies, sites (two designs) or subgroups."""

    def consistency(self, indirect: Effect | None) -> dict[str, Any]:
        """Is the effect the same across units: studies, sites (two designs) or subgroups, the first that
        the data allow."""
        self.step("consistency")
        if self.replications:
            return self._across_studies()
        plan, data = self.plan, self.data
        why_not_sites = None
        if data.cluster is None:
            why_not_sites = "the recipients are not nested in sites"
        elif len(plan.mechanisms) > 1:
            why_not_sites = "per-site paths are estimated for single-mechanism pathways only"
        elif indirect is None:
            why_not_sites = "the study's indirect effect could not be estimated"
        elif self.levelling.part == "between":
            why_not_sites = (
                f"the mechanism is analysed {self.levelling.words}: a site holds one value of it per "
                f"{self.levelling.unit}, too few to estimate its link within the site"
            )
        else:
            frame = data.frame[[data.x, data.cluster]].dropna()
            varying = int((frame.groupby(data.cluster, observed=True)[data.x].nunique() > 1).sum())
            if varying >= self.settings.thresholds.min_units:
                found = self._across_sites_within(indirect)
            elif varying == 0 and data.x_type == "arm":
                found = self._across_sites_assigned(indirect)
            else:
                found = {
                    "failure": f"the strategy varies within {varying} site(s) only, too few to compare sites"
                }
            if found.get("pooled") is not None:
                return found
            why_not_sites = found["failure"]
        found = self._across_subgroups()
        if found.get("pooled") is None:
            reasons = [why_not_sites, found.get("failure")]
            found["failure"] = "; ".join(r for r in reasons if r)
            found["design_change"] = (
                "randomize (or vary the dose) within sites so each site's paths can be estimated, declare "
                "subgroups (evidence.subgroups, e.g. role or engagement length) with enough recipients each, "
                "or analyse a replication study together with this one"
            )
        return found

    def _meta_evidence(self, meta: AnalysisResult) -> dict[str, Any]:
        return {
            "tau2": meta.tau2,  # type: ignore[attr-defined]
            "tau2_ci": list(meta.tau2_ci),  # type: ignore[attr-defined]
            "i2": meta.i2,  # type: ignore[attr-defined]
            "q": meta.q,  # type: ignore[attr-defined]
            "q_p": meta.q_p,  # type: ignore[attr-defined]
            "method": meta.info.get("method"),
            "knapp_hartung": meta.knapp_hartung,  # type: ignore[attr-defined]
        }

    def _pooled(self, meta: AnalysisResult, unit_name: str) -> dict[str, Any]:
        """Subgroups or studies: the meta-analysis of the per-unit indirect effects is the verdict's basis."""
        self.results["consistency"] = meta
        return {
            "pooled": meta.effect("pooled"),
            "units": [effect for effect in meta.effects if effect.kind == "study"],
            "prediction": tuple(meta.prediction),  # type: ignore[attr-defined]
            "unit_name": unit_name,
            "evidence": self._meta_evidence(meta),
        }

    def _site_slopes(self, mechanism: str, with_strategy: bool) -> tuple[AnalysisResult | None, str | None]:
        """Per-site b paths: the outcome on the mechanism given the competitors and baselines (and the
        strategy when it varies within sites), pooled into ``consistency``."""
        data, plan = self.data, self.plan
        covariates = self.numeric_covariates_for(mechanism, *self.competitors, plan.outcome)
        covariates = [*([data.x] if with_strategy else []), *self.competitors, *covariates]
        slopes, failure = self.attempt(
            "site_slopes",
            lambda: cluster_slopes(
                data.frame,
                x=mechanism,
                y=plan.outcome,
                cluster=data.cluster,  # type: ignore[arg-type]
                covariates=covariates,
                level=self.level,
                min_size=self.settings.thresholds.min_site_size,
            ),
        )
        if slopes is None:
            return None, f"per-site b paths could not be estimated: {failure}"
        k = len(slopes.table)  # type: ignore[attr-defined]
        if k < self.settings.thresholds.min_units:
            return None, f"per-site b paths could be estimated in {k} site(s) only"
        meta, failure = self.attempt(
            "consistency",
            lambda: slopes.pool(knapp_hartung=self.knapp_hartung(k), level=self.level),  # type: ignore[attr-defined]
        )
        if meta is None:
            return None, f"the meta-analysis of the per-site b paths failed: {failure}"
        return meta, None

    def _across_sites_within(self, indirect: Effect) -> dict[str, Any]:
        """The strategy varies within sites: each site's a and b paths, pooled separately."""
        plan, data = self.plan, self.data
        mechanism = plan.mechanisms[0]
        sites, failure = self.attempt(
            "site_effects",
            lambda: cluster_indirect_effects(
                data.frame,
                x=data.x,
                m=mechanism,
                y=plan.outcome,
                cluster=data.cluster,  # type: ignore[arg-type]
                covariates=self.numeric_covariates_for(mechanism, plan.outcome),
                level=self.level,
                min_size=self.settings.thresholds.min_site_size,
            ),
        )
        if sites is None:
            return {"failure": f"per-site paths could not be estimated: {failure}"}
        k = len(sites.table)  # type: ignore[attr-defined]
        if k < self.settings.thresholds.min_units:
            return {"failure": f"per-site models could be estimated in {k} site(s) only"}
        a_meta, failure = self.attempt(
            "consistency_a",
            lambda: sites.pool("a", knapp_hartung=self.knapp_hartung(k), level=self.level),  # type: ignore[attr-defined]
        )
        if a_meta is None:
            return {"failure": f"the meta-analysis of the per-site a paths failed: {failure}"}
        b_meta, failure = self._site_slopes(mechanism, with_strategy=True)
        if b_meta is None:
            return {"failure": failure}
        a_sign = self.plan.sign_between(plan.strategy, mechanism)
        b_sign = self.plan.sign_between(mechanism, plan.outcome)
        return {
            "pooled": indirect,
            "units": [e for e in sites.effects if e.kind == "indirect"],
            "unit_name": "sites",
            "path_predictions": {
                "a": (tuple(a_meta.prediction), a_sign),  # type: ignore[attr-defined]
                "b": (tuple(b_meta.prediction), b_sign),  # type: ignore[attr-defined]
            },
            "evidence": {
                "a": self._meta_evidence(a_meta),
                **self._meta_evidence(b_meta),
                "pooled_a": a_meta.effect("pooled").estimate,
                "pooled_b": b_meta.effect("pooled").estimate,
            },
        }

    def _across_sites_assigned(self, indirect: Effect) -> dict[str, Any]:
        """The strategy is assigned per site: each site's b path, and the spread of the strategy's effect on
        the mechanism seen in the variance of site means by arm."""
        plan, data = self.plan, self.data
        mechanism = plan.mechanisms[0]
        b_meta, failure = self._site_slopes(mechanism, with_strategy=False)
        if b_meta is None:
            return {"failure": failure}
        spread, failure = self.attempt(
            "arm_variance",
            lambda: arm_variance_ratio(
                data.frame,
                arm=data.x,
                y=mechanism,
                cluster=data.cluster,  # type: ignore[arg-type]
                covariates=self.numeric_covariates_for(mechanism),
                level=self.level,
            ),
        )
        if spread is None:
            return {"failure": f"the spread of site means by arm could not be compared: {failure}"}
        return {
            "pooled": indirect,
            "units": [e for e in b_meta.effects if e.kind == "study"],
            "unit_name": "sites",
            "path_predictions": {
                "b": (tuple(b_meta.prediction), plan.sign_between(mechanism, plan.outcome)),  # type: ignore[attr-defined]
            },
            "heterogeneity": spread.effect("ratio"),
            "limits": (
                "the strategy was assigned per site, so no site's own effect of the strategy can be "
                "estimated; its spread across sites is checked through the variance of site means by arm"
            ),
            "evidence": {
                **self._meta_evidence(b_meta),
                "pooled_b": b_meta.effect("pooled").estimate,
                "tau2_a_moment": spread.effect("tau2_difference").estimate,
            },
        }

    def _across_subgroups(self) -> dict[str, Any]:
        plan, data = self.plan, self.data
        if not data.subgroups:
            return {
                "failure": (
                    "no subgroups are declared (evidence.subgroups) and the pathway has no "
                    "categorical moderator"
                )
            }
        minimum = self.settings.thresholds.min_subgroup_size
        roles = [data.x, *plan.mechanisms, plan.outcome]
        complete = data.frame.dropna(subset=roles)
        failures = []
        mediators = list(plan.mechanisms) + list(self.competitors)
        for column in data.subgroups:
            counts = complete[column].value_counts()
            levels = [str(level) for level, count in counts.items() if count >= minimum]
            small = [str(level) for level, count in counts.items() if count < minimum]
            if small:
                self.notes.append(
                    f"subgroups of '{column}' with fewer than {minimum} recipients left out: "
                    f"{', '.join(small)}"
                )
            estimates, ses, labels = [], [], []
            for level in levels:
                subset = data.frame.loc[(data.frame[column] == level).to_numpy()]
                result, failure = self.attempt(
                    f"subgroup[{column}={level}]",
                    lambda subset=subset: mediate(
                        subset,
                        x=data.x,
                        m=mediators,
                        y=plan.outcome,
                        covariates=self.covariates_for(*mediators, plan.outcome),
                        model="serial" if len(plan.mechanisms) > 1 else "parallel",
                        **self.mediation_options(),
                    ),
                )
                if result is None:
                    self.notes.append(f"subgroup {column} = {level} left out: {failure}")
                    continue
                effect = result.effect(self.indirect_name)
                if effect.se is None or not effect.se > 0:
                    continue
                estimates.append(effect.estimate)
                ses.append(effect.se)
                labels.append(f"{column} = {level}")
            if len(estimates) < 2:
                failures.append(f"fewer than two subgroups of '{column}' could be analysed")
                continue
            k = len(estimates)
            meta, failure = self.attempt(
                "consistency",
                lambda estimates=estimates, ses=ses, labels=labels, k=k, column=column: meta_analysis(
                    estimate=estimates,
                    se=ses,
                    label=labels,
                    knapp_hartung=self.knapp_hartung(k),
                    level=self.level,
                    effect_label=f"indirect effect by {column}",
                ),
            )
            if meta is None:
                failures.append(f"the meta-analysis across '{column}' failed: {failure}")
                continue
            return self._pooled(meta, f"subgroups of {column}")
        return {"failure": "; ".join(failures) or "no subgroup could be analysed"}

    def _across_studies(self) -> dict[str, Any]:
        own = self.results.get("mediation")
        estimates, ses, labels = [], [], []
        if own is not None:
            effect = own.effect(self.indirect_name)
            estimates.append(effect.estimate)
            ses.append(effect.se)
            labels.append(str(self.study.title))
        for other in self.replications:
            try:
                pathway = other.scorecard.pathway(self.plan.id)
            except KeyError:
                self.notes.append(f"replication '{other.study.get('title')}' has no pathway '{self.plan.id}'")
                continue
            result = pathway.results.get("mediation")
            if result is None:
                continue
            try:
                effect = result.effect(self.indirect_name)
            except KeyError:
                continue
            estimates.append(effect.estimate)
            ses.append(effect.se)
            labels.append(str(other.study.get("title")))
        if len(estimates) < 2:
            return {"failure": "fewer than two studies have an estimate of this pathway's indirect effect"}
        k = len(estimates)
        # Studies may share a title (two waves of data collection, two copies); labels must be unique.
        labels = [
            label if labels.count(label) == 1 else f"{label} ({labels[: i + 1].count(label)})"
            for i, label in enumerate(labels)
        ]
        meta, failure = self.attempt(
            "consistency",
            lambda: meta_analysis(
                estimate=estimates,
                se=ses,
                label=labels,
                knapp_hartung=self.knapp_hartung(k),
                level=self.level,
                effect_label="indirect effect by study",
            ),
        )
        if meta is None:
            return {"failure": f"the meta-analysis across studies failed: {failure}"}
        return self._pooled(meta, "studies")
