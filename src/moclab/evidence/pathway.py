"""The analyses of one pathway, and the verdicts and conclusion read from them.

For a pathway strategy → mechanism(s) → outcome, on its per-recipient frame (`moclab.evidence.frames`):

========================  ==================================================================================
analysis                  call
========================  ==================================================================================
strong association        `mediate` X → mechanism → outcome with the measured competing mechanisms as parallel
                          mediators (serial for a chain), adjusted for baselines; with ``mediation:
                          multilevel`` and clustered recipients, `multilevel_mediate` (single mechanism;
                          falls back to `mediate` with a warning when it cannot run)
specificity               the contrasts of the same parallel model; `mediate` to each non-target outcome
consistency               per-site a paths (`cluster_indirect_effects`) and b paths (`cluster_slopes`) pooled
                          by `meta_analysis` when the strategy varies within sites; per-site b paths and the
                          spread of site means by arm (`arm_variance_ratio`) when it is assigned per site;
                          else `mediate` per subgroup + `meta_analysis`; across studies when replications
                          are given
timeline                  `cross_lagged` of the (last) mechanism and the outcome over the waves, with the
                          competing mechanisms' earlier values
gradient                  `dose_response` of the (first) mechanism on the support received, and of the outcome
                          on the (last) mechanism given the strategy, baselines and competitors
experimental manipulation the design, the a path, the total, direct and indirect effects;
                          `instrumental_effect` when a factor that targets the mechanism was randomized
plausibility              the link-specific sources of each link; the estimated paths
robustness                `sensitivity` (Imai's ρ) and `robustness` (Cinelli & Hazlett) of the mechanism →
                          outcome link, read by the conclusion
========================  ==================================================================================

An analysis that cannot run on the data raises a `MoclabError` (too few rows, no variation, no second wave),
which becomes a "not testable" verdict with its reason and never stops the others; anything else is a bug
and surfaces as one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from moclab.analysis import (
    AnalysisResult,
    arm_variance_ratio,
    cluster_indirect_effects,
    cluster_slopes,
    cross_lagged,
    dose_response,
    instrumental_effect,
    mediate,
    meta_analysis,
    multilevel_mediate,
    robustness,
    sensitivity,
)
from moclab.analysis.results import Effect
from moclab.errors import MoclabError
from moclab.evidence.backing import link_backing
from moclab.evidence.conclusion import conclude
from moclab.evidence.frames import PathwayData, StudyTables, timeline_facts
from moclab.evidence.plan import PathwayPlan
from moclab.evidence.rules import (
    MechanismManipulation,
    PathSign,
    judge_consistency,
    judge_experimental_manipulation,
    judge_gradient,
    judge_plausibility,
    judge_specificity,
    judge_strong_association,
    judge_timeline,
)
from moclab.evidence.scorecard import PathwayEvidence, StudyEvidence
from moclab.evidence.verdicts import QualitativeEvidence
from moclab.study.evidence_settings import EvidenceSettings

__all__ = ["ANALYSES", "PathwayAnalysis"]

#: The analysis steps of each pathway, in the order the progress bar shows them.
ANALYSES = ("association", "specificity", "consistency", "timeline", "gradient", "robustness")


def _numeric_covariates(frame: Any, covariates: Sequence[str]) -> tuple[Any, list[str]]:
    """The frame with categorical covariates as 0/1 columns (first level as reference), for models that take
    numeric predictors only (`multilevel_mediate`), and the names of the covariate columns to use."""
    import pandas as pd

    names: list[str] = []
    extra: dict[str, Any] = {}
    for name in covariates:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype):
            names.append(name)
            continue
        dummies = pd.get_dummies(column, prefix=name, prefix_sep="=", drop_first=True, dtype=float)
        dummies[column.isna()] = np.nan
        extra.update({key: dummies[key] for key in dummies.columns})
        names.extend(dummies.columns)
    if not extra:
        return frame, names
    return frame.assign(**extra), names


def _failure_text(error: MoclabError) -> str:
    hint = getattr(error, "hint", None)
    return error.message + (f" ({hint})" if hint else "")


class PathwayAnalysis:
    """Runs the analyses of one pathway and turns their results into verdicts and a conclusion."""

    def __init__(
        self,
        study: Any,
        plan: PathwayPlan,
        data: PathwayData,
        settings: EvidenceSettings,
        seed: int,
        replications: Sequence[StudyEvidence],
        step: Callable[[str], None],
        tables: StudyTables,
    ) -> None:
        self.study = study
        self.tables = tables
        self.plan = plan
        self.data = data
        self.settings = settings
        self.seed = seed
        self.replications = replications
        self.step = step
        self.level = settings.level
        self.alpha = settings.alpha
        self.results: dict[str, AnalysisResult] = {}
        self.notes: list[str] = list(data.notes)
        self.chain = "->".join(plan.mechanisms)
        #: The competing mechanisms entered in the strong-association model (read by every verdict).
        self.competitors: tuple[str, ...] = ()
        #: The multilevel design ("2-1-1", "1-1-1") when strong association was judged on a multilevel model.
        self.multilevel: str | None = None
        #: Why the requested multilevel model was not used (the single-level model was, instead).
        self.multilevel_fallback: str | None = None
        #: Warnings of the analysis itself (not of a result object), for the study's list of warnings.
        self.warnings: list[str] = []

    # -- helpers -------------------------------------------------------------------------------------------

    def attempt(
        self, name: str, run: Callable[[], AnalysisResult]
    ) -> tuple[AnalysisResult | None, str | None]:
        """Run one analysis; keep its result, or return why the data could not answer it.

        Only a `MoclabError` (the analysis layer's `DataError` for data that cannot answer) is caught: any
        other exception is a bug and propagates, so it cannot turn into a verdict.
        """
        try:
            result = run()
        except MoclabError as error:
            return None, _failure_text(error)
        self.results[name] = result
        return result, None

    def mediation_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "ci": self.settings.ci,
            "n_boot": self.settings.n_boot,
            "level": self.level,
            "seed": self.seed,
            "x_type": "arm" if self.data.x_type == "arm" else "dose",
        }
        if self.data.cluster is not None:
            options["cluster"] = self.data.cluster
        return options

    def covariates_for(self, *names: str) -> list[str]:
        return [*self.data.covariates, *self.data.baseline_for(*names)]

    def numeric_covariates_for(self, *names: str) -> list[str]:
        """Numeric covariates and baselines of `names` (per-site models and trend tests take only those)."""
        return [
            c
            for c in self.covariates_for(*names)
            if c in self.data.numeric_covariates or c in self.data.baselines.values()
        ]

    def knapp_hartung(self, k: int) -> bool:
        setting = self.settings.knapp_hartung
        if setting == "auto":
            return k < self.settings.thresholds.knapp_hartung_below
        return bool(setting)

    @property
    def indirect_name(self) -> str:
        return f"indirect[{self.chain}]"

    # -- strong association and specificity ---------------------------------------------------------------

    def association(self) -> tuple[AnalysisResult | None, str | None]:
        self.step("association")
        data, plan = self.data, self.plan
        if len(plan.mechanisms) == 1:
            self.competitors = self.usable_competitors()
        if self.settings.mediation == "multilevel":
            result, failure = self.multilevel_association()
            if result is not None:
                if self.competitors:
                    self.notes.append(
                        "the multilevel model takes one mechanism: strong association is judged without the "
                        f"competing mechanisms ({', '.join(self.competitors)}); the other criteria read them"
                    )
                return result, None
            self.multilevel_fallback = failure
            warning = (
                f"multilevel mediation was requested but not used ({failure}); strong association was judged "
                "on the single-level mediation model instead"
                + (" (cluster bootstrap, CR1 standard errors)" if data.cluster is not None else "")
            )
            self.warnings.append(warning)
            self.notes.append(warning)
        if len(plan.mechanisms) > 1:
            mediators, model = list(plan.mechanisms), "serial"
            if plan.alternatives:
                self.notes.append(
                    "competing mechanisms cannot enter a serial (chain) model: strong association is judged "
                    "without them; specificity compares them in a parallel model"
                )
        else:
            mediators, model = [plan.mechanisms[0], *self.competitors], "parallel"
        return self.attempt(
            "mediation",
            lambda: mediate(
                data.frame,
                x=data.x,
                m=mediators,
                y=plan.outcome,
                covariates=self.covariates_for(*mediators, plan.outcome),
                model=model,
                **self.mediation_options(),
            ),
        )

    def usable_competitors(self) -> tuple[str, ...]:
        """The measured competing mechanisms that can enter the models: not constant, and measured for at
        least `baseline_coverage` of the recipients who have the strategy, mechanism and outcome (a competitor
        missing for most of them would drop those rows from every model). The others are named in a note."""
        data, plan = self.data, self.plan
        rows = data.frame.dropna(subset=[data.x, *plan.mechanisms, plan.outcome])
        threshold = self.settings.thresholds.baseline_coverage
        usable = []
        for name in plan.alternatives:
            values = rows[name]
            coverage = float(values.notna().mean()) if len(rows) else 0.0
            if values.nunique() < 2:
                self.notes.append(
                    f"competing mechanism '{name}' left out of the models: it does not vary at wave "
                    f"{plan.mechanism_wave}"
                )
            elif coverage < threshold:
                self.notes.append(
                    f"competing mechanism '{name}' left out of the models: measured for {coverage:.0%} of "
                    f"the analysed recipients (threshold {threshold:.0%}, thresholds.baseline_coverage)"
                )
            else:
                usable.append(name)
        return tuple(usable)

    def multilevel_association(self) -> tuple[AnalysisResult | None, str | None]:
        """`multilevel_mediate` of the pathway, or why it cannot be used (then nothing is kept).

        The design is inferred by `multilevel_mediate` (2-1-1 when the strategy is constant within every
        cluster); the Monte Carlo draws use the pathway's seed. A fit that did not converge counts as a
        failure: its estimates are not the REML solution, so no verdict should rest on them.
        """
        data, plan = self.data, self.plan
        if data.cluster is None:
            return None, "the recipients are not nested in sites"
        if len(plan.mechanisms) > 1:
            return None, "multilevel mediation takes a single mechanism, and this pathway has a chain"
        mechanism = plan.mechanisms[0]
        frame, covariates = _numeric_covariates(data.frame, self.covariates_for(mechanism, plan.outcome))
        try:
            result = multilevel_mediate(
                frame,
                x=data.x,
                m=mechanism,
                y=plan.outcome,
                cluster=data.cluster,
                covariates=covariates,
                level=self.level,
                seed=self.seed,
            )
        except MoclabError as error:
            return None, "the multilevel model could not be estimated: " + _failure_text(error)
        if not result.info.get("converged", True):
            return None, "the multilevel model did not converge"
        self.results["mediation"] = result
        self.multilevel = result.design  # type: ignore[attr-defined]
        return result, None

    def association_effects(
        self, mediation: AnalysisResult | None
    ) -> tuple[Effect | None, list[Effect], Effect | None, Effect | None]:
        """The indirect effect, the paths along it, and the total and direct effects of the strategy.

        The multilevel a and b paths get the ``from`` and ``to`` of the single-level paths, so the
        plausibility signs and the manipulation check read them alike.
        """
        if mediation is None:
            return None, [], None, None
        total, direct = mediation.effect("total"), mediation.effect("direct")
        if self.multilevel is None:
            indirect = mediation.effect(self.indirect_name)
            paths = [mediation.effect(name) for name in indirect.extra.get("paths", [])]
            return indirect, paths, total, direct
        mechanism = self.plan.mechanisms[0]
        ends = {"a": (self.data.x, mechanism), "b": (mechanism, self.plan.outcome)}
        paths = [
            dataclasses.replace(
                mediation.effect(name),
                extra={**mediation.effect(name).extra, "from": ends[name][0], "to": ends[name][1]},
            )
            for name in ("a", "b")
        ]
        return mediation.effect("indirect"), paths, total, direct

    def specificity(self, association: Effect | None) -> tuple[Effect | None, list, list, list[str]]:
        self.step("specificity")
        data, plan = self.data, self.plan
        target_node = plan.mechanisms[0]
        failures: list[str] = []
        target: Effect | None = None
        contrasts: list[tuple[str, Effect]] = []
        competitors = self.competitors or self.usable_competitors()
        if competitors:
            if self.competitors and "mediation" in self.results and self.multilevel is None:
                result: AnalysisResult | None = self.results["mediation"]
            else:
                mediators = [target_node, *competitors]
                result, failure = self.attempt(
                    "specificity",
                    lambda: mediate(
                        data.frame,
                        x=data.x,
                        m=mediators,
                        y=plan.outcome,
                        covariates=self.covariates_for(*mediators, plan.outcome),
                        **self.mediation_options(),
                    ),
                )
                if result is None:
                    failures.append(f"the model with the competing mechanisms failed: {failure}")
            if result is not None:
                target = result.effect(f"indirect[{target_node}]")
                contrasts = [(alt, result.effect(f"contrast[{target_node}-{alt}]")) for alt in competitors]
        if target is None:
            target = association
        non_targets: list[tuple[str, Effect]] = []
        for name in plan.non_targets:
            result, failure = self.attempt(
                f"non_target[{name}]",
                lambda name=name: mediate(
                    data.frame,
                    x=data.x,
                    m=list(plan.mechanisms),
                    y=name,
                    covariates=self.covariates_for(*plan.mechanisms, name),
                    model="serial" if len(plan.mechanisms) > 1 else "parallel",
                    **self.mediation_options(),
                ),
            )
            if result is None:
                failures.append(f"the model of the non-target outcome '{name}' failed: {failure}")
            else:
                non_targets.append((name, result.effect(self.indirect_name)))
        return target, contrasts, non_targets, failures

    # -- consistency ---------------------------------------------------------------------------------------

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

    # -- timeline, gradient --------------------------------------------------------------------------------

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

    # -- manipulation of the mechanism, robustness ---------------------------------------------------------

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

    # -- verdicts ------------------------------------------------------------------------------------------

    def _design_evidence(self, mediation: AnalysisResult | None) -> dict[str, Any]:
        if mediation is None:
            return {}
        if self.multilevel is not None:
            info = mediation.info
            return {
                "n": info.get("n"),
                "n_dropped": info.get("n_dropped"),
                "n_clusters": info.get("n_clusters"),
                "icc": info.get("icc"),
                "design_effect": info.get("design_effect"),
                "method": info.get("method"),
            }
        return {
            "n": mediation.n,  # type: ignore[attr-defined]
            "n_dropped": mediation.n_dropped,  # type: ignore[attr-defined]
            "n_clusters": mediation.n_clusters,  # type: ignore[attr-defined]
            "icc": mediation.icc,  # type: ignore[attr-defined]
            "design_effect": mediation.design_effect,  # type: ignore[attr-defined]
            "x_coding": mediation.info.get("x_coding"),
            "method": mediation.info.get("method"),
        }

    def run(self, qualitative: QualitativeEvidence) -> PathwayEvidence:
        plan, data = self.plan, self.data
        level = self.level
        mediation, failure = self.association()
        indirect, paths, total, direct = self.association_effects(mediation)
        design_evidence = self._design_evidence(mediation)
        association_evidence = dict(design_evidence)
        if self.multilevel_fallback is not None:
            association_evidence["mediation_model"] = "single-level (multilevel requested)"
            association_evidence["multilevel_fallback"] = self.multilevel_fallback
        path_signs = self._path_signs(paths)
        indirect_sign = plan.sign_between(plan.strategy, plan.outcome)
        association = judge_strong_association(
            indirect,
            paths,
            level=level,
            sign=indirect_sign,
            path_signs={p.name: p.expected for p in path_signs},
            competitors=self.competitors,
            failure=failure,
            evidence=association_evidence,
            multilevel=self.multilevel,
        )
        target, contrasts, non_targets, failures = self.specificity(indirect)
        specificity = judge_specificity(
            target,
            contrasts,
            non_targets,
            level=level,
            sign=indirect_sign,
            unmeasured=plan.unmeasured_alternatives,
            failures=failures,
        )
        found = self.consistency(indirect)
        consistency = judge_consistency(
            found.get("pooled"),
            found.get("units", []),
            level=level,
            sign=indirect_sign,
            unit_name=found.get("unit_name", "sites"),
            prediction=found.get("prediction"),
            path_predictions=found.get("path_predictions"),
            heterogeneity=found.get("heterogeneity"),
            limits=found.get("limits"),
            failure=found.get("failure"),
            design_change=found.get("design_change"),
            evidence=found.get("evidence"),
        )
        lagged, panel_failure, panel_competitors = self.timeline()
        timeline = judge_timeline(
            timeline_facts(self.study, plan, self.settings, self.tables),
            lagged["m_to_y"],
            lagged["y_to_m"],
            lagged["difference_std"],
            level=level,
            sign=plan.sign_between(plan.mechanisms[-1], plan.outcome),
            m_to_y_std=lagged["m_to_y_std"],
            y_to_m_std=lagged["y_to_m_std"],
            competitors=panel_competitors,
            panel_failure=panel_failure,
        )
        slopes = self.gradient()
        gradient = judge_gradient(
            slopes.get("dose_slope"),
            slopes.get("dose_trend"),
            slopes.get("mechanism_slope"),
            slopes.get("mechanism_trend"),
            level=level,
            dose_sign=plan.sign_between(plan.strategy, plan.mechanisms[0]),
            mechanism_sign=plan.sign_between(plan.mechanisms[-1], plan.outcome),
            dose_failure=slopes.get("dose_failure"),
            mechanism_failure=slopes.get("mechanism_failure"),
            evidence={
                "dose_level": data.dose_level,
                "dose_measure": self.settings.dose.measure,
                "competitors_in_model": list(self.competitors),
            },
        )
        figures = self.robustness()
        randomization = self.study.config.design.randomization
        manipulation = judge_experimental_manipulation(
            randomization.level,
            plan.coding.randomized,
            paths[0] if paths else None,
            indirect,
            total=total,
            direct=direct,
            level=level,
            sign_a=plan.sign_between(plan.strategy, plan.mechanisms[0]),
            sign=indirect_sign,
            manipulation=self.mechanism_manipulation(),
            strategy_text=plan.coding.text,
            failure=failure,
            evidence={
                "arms": list(randomization.arms),
                "control": randomization.control,
                "n_clusters": design_evidence.get("n_clusters"),
                "robustness": figures,
            },
        )
        plausibility = judge_plausibility(
            link_backing(self.study.model, plan),
            path_signs,
            qualitative,
            level=level,
        )
        verdicts = (association, specificity, consistency, manipulation, timeline, gradient, plausibility)
        conclusion = conclude(
            {verdict.criterion: verdict for verdict in verdicts},
            strategy=plan.strategy,
            mechanism=" → ".join(plan.mechanisms),
            outcome=plan.outcome,
            robustness=figures,
            competitors=self.competitors,
        )
        complete = data.frame.dropna(subset=[data.x, *plan.mechanisms, plan.outcome])
        return PathwayEvidence(
            plan=plan,
            verdicts=verdicts,
            results=dict(self.results),
            n=len(complete),
            assumptions=tuple(self._assumptions()),
            notes=tuple(dict.fromkeys(self.notes)),
            qualitative=qualitative,
            conclusion=conclusion,
        )

    def _path_signs(self, paths: Sequence[Effect]) -> list[PathSign]:
        plan = self.plan
        signs = []
        for effect in paths:
            source, target = effect.extra.get("from"), effect.extra.get("to")
            source = plan.strategy if source == self.data.x else source
            if source in plan.pathway.nodes and target in plan.pathway.nodes:
                signs.append(PathSign(effect.name, plan.sign_between(source, target), effect))
        return signs

    def _assumptions(self) -> list[str]:
        plan, data, settings = self.plan, self.data, self.settings
        lines = [f"strategy: {plan.coding.text}"]
        lines.append(
            f"mechanism{'s' if len(plan.mechanisms) > 1 else ''} {', '.join(plan.mechanisms)} taken at wave "
            f"{plan.mechanism_wave}; outcome {plan.outcome} at wave {plan.outcome_wave}"
        )
        if self.competitors:
            lines.append(
                f"competing mechanisms in every model of this mechanism: {', '.join(self.competitors)}"
            )
        if data.baselines:
            lines.append(
                f"adjusted for baseline ({plan.baseline_wave}) values of {', '.join(data.baselines)}"
            )
        else:
            lines.append("no baseline adjustment (no baseline wave, or too few baseline values)")
        if data.covariates:
            lines.append(f"covariates: {', '.join(data.covariates)}")
        if self.multilevel is not None:
            level_word = "between" if self.multilevel == "2-1-1" else "within"
            lines.append(
                f"strong association: {self.multilevel} multilevel mediation of recipients nested in "
                f"{plan.cluster} ({level_word}-cluster a and b paths; Monte Carlo interval of the indirect "
                f"effect, seed {self.seed}); the other analyses as below"
            )
        if data.cluster is not None:
            lines.append(
                f"recipients nested in {plan.cluster}: cluster bootstrap ({settings.n_boot} resamples of "
                f"{plan.cluster}s) and cluster-robust (CR1) standard errors; seed {self.seed}"
            )
        else:
            lines.append(f"bootstrap of recipients ({settings.n_boot} resamples); seed {self.seed}")
        lines.append(f"{settings.level:.0%} intervals ({settings.ci}); tests at α = {settings.alpha:.2g}")
        if data.dose is not None:
            lines.append(
                f"support received: {settings.dose.measure} per {data.dose_level} (activities table)"
            )
        if plan.manipulation is not None:
            lines.append(
                f"mechanism manipulated: {plan.manipulation.column} (randomized by "
                f"{plan.manipulation.level}), two-stage least squares of {plan.outcome} on "
                f"{plan.mechanisms[0]}"
            )
        return lines
