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
attrition                 `participant_flow` and `differential_attrition` (`moclab.study.flow`); flagged
                          attrition is named in the verdicts it can bias and questioned in the conclusion
========================  ==================================================================================

An analysis that cannot run on the data raises a `MoclabError` (too few rows, no variation, no second wave),
which becomes a "not testable" verdict with its reason and never stops the others; anything else is a bug
and surfaces as one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from moclab.analysis import AnalysisResult, multilevel_mediate
from moclab.analysis.results import Effect
from moclab.errors import MoclabError
from moclab.evidence.analysis_base import failure_text, numeric_covariates
from moclab.evidence.backing import link_backing
from moclab.evidence.causal_analyses import CausalAnalyses
from moclab.evidence.conclusion import conclude, note_attrition
from moclab.evidence.consistency_analyses import ConsistencyAnalyses
from moclab.evidence.frames import timeline_facts
from moclab.evidence.levels import PART_WORDS, judged_at, level_notes
from moclab.evidence.panel_analyses import PanelAnalyses
from moclab.evidence.rules import (
    PathSign,
    judge_consistency,
    judge_experimental_manipulation,
    judge_gradient,
    judge_plausibility,
    judge_specificity,
    judge_strong_association,
    judge_timeline,
)
from moclab.evidence.scorecard import PathwayEvidence
from moclab.evidence.verdicts import QualitativeEvidence, Status, Verdict
from moclab.study.flow import AttritionTests, ParticipantFlow, differential_attrition, participant_flow

__all__ = ["ANALYSES", "PathwayAnalysis"]

#: The analysis steps of each pathway, in the order the progress bar shows them.
ANALYSES = ("association", "specificity", "consistency", "timeline", "gradient", "robustness")


class PathwayAnalysis(ConsistencyAnalyses, PanelAnalyses, CausalAnalyses):
    """Runs the analyses of one pathway and turns their results into verdicts and a conclusion.

    The analyses of strong association and specificity are here; those of consistency, of the timeline and
    gradient, and of the causal reading are in the mixins it inherits.
    """

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
        return self.attempt("mediation", lambda: self.fit_mediation(mediators, plan.outcome, model))

    def multilevel_association(self) -> tuple[AnalysisResult | None, str | None]:
        """`multilevel_mediate` of the pathway, or why it cannot be used (then nothing is kept).

        The design is inferred by `multilevel_mediate` (2-1-1 when the strategy is constant within every
        cluster); the Monte Carlo draws use the pathway's seed. A fit that did not converge counts as a
        failure: its estimates are not the REML solution, so no verdict should rest on them.
        """
        data, plan = self.recipient_data, self.plan
        if data.cluster is None:
            return None, "the recipients are not nested in sites"
        if len(plan.mechanisms) > 1:
            return None, "multilevel mediation takes a single mechanism, and this pathway has a chain"
        mechanism = plan.mechanisms[0]
        if self.levelling.declared is not None:
            return None, (
                f"{self.levelling.reason}, and the multilevel model takes a recipient-level mechanism "
                f"(2-1-1 or 1-1-1 designs, not 2-2-1): the mechanism was analysed {self.levelling.words} "
                "with clustered errors"
            )
        covariates_for = [*data.covariates, *data.baseline_for(mechanism, plan.outcome)]
        frame, covariates = numeric_covariates(data.frame, covariates_for)
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
            return None, "the multilevel model could not be estimated: " + failure_text(error)
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
        plan = self.plan
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
                    "specificity", lambda: self.fit_mediation(mediators, plan.outcome)
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
                lambda name=name: self.fit_mediation(
                    plan.mechanisms, name, "serial" if len(plan.mechanisms) > 1 else "parallel"
                ),
            )
            if result is None:
                failures.append(f"the model of the non-target outcome '{name}' failed: {failure}")
            else:
                non_targets.append((name, result.effect(self.indirect_name)))
        return target, contrasts, non_targets, failures

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
        association_evidence["missing_data"] = (
            "listwise deletion (complete rows; the multilevel model)"
            if self.multilevel is not None
            else self.missing_data_text
        )
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
            left_out=self.left_out_competitors,
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
        attrition, flow = self.attrition()
        conclusion = conclude(
            {verdict.criterion: verdict for verdict in verdicts},
            strategy=plan.strategy,
            mechanism=" → ".join(plan.mechanisms),
            outcome=plan.outcome,
            robustness=figures,
            competitors=self.competitors,
            attrition=attrition,
            missing_data=self.missing_data(association.status is Status.MET),
        )
        verdicts = self._with_levels(note_attrition(verdicts, attrition))
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
            flow=flow,
            attrition=attrition,
        )

    def _with_levels(self, verdicts: Sequence[Verdict]) -> tuple[Verdict, ...]:
        """The verdicts with the level each was judged at (``evidence["judged_at"]``), and the level's notes
        (how the mechanism was cut, how well its unit means aggregate, what could not be honoured)."""
        for note in level_notes(self.levelling):
            if note not in self.notes:
                self.notes.append(note)
        options = {
            "level": self.levelling,
            "multilevel": self.multilevel,
            "multilevel_requested": self.settings.mediation == "multilevel",
            "cluster": self.plan.cluster if self.data.cluster is not None else None,
            "dose_level": self.data.dose_level,
        }
        return tuple(
            dataclasses.replace(
                verdict, evidence={**verdict.evidence, "judged_at": judged_at(verdict, **options)}
            )
            for verdict in verdicts
        )

    def attrition(self) -> tuple[AttritionTests | None, ParticipantFlow]:
        """The participant flow of the pathway and the tests of differential attrition.

        Retained = measured at the outcome's wave (the last wave by default); the baseline values tested
        are those of the (first) mechanism and the outcome at the baseline wave, when they are measures.
        Analysed = the rows of the strong-association model: complete on the strategy, the mechanism(s),
        the competing mechanisms in the model, the outcome, the covariates and baselines adjusted for and
        the cluster (the listwise deletion of `mediate` and `multilevel_mediate`).
        """
        plan, data = self.plan, self.data
        mechanism, outcome = plan.measures[plan.mechanisms[0]], plan.measures[plan.outcome]
        competitors = () if self.multilevel is not None else self.competitors
        roles = [*plan.mechanisms, *competitors, plan.outcome]
        columns = [data.x, *roles, *self.covariates_for(*roles)]
        if data.cluster is not None:
            columns.append(data.cluster)
        analysed = data.frame.dropna(subset=list(dict.fromkeys(columns)))[data.recipient_id]
        flow = participant_flow(self.study, mechanism=mechanism, outcome=outcome, analysed=analysed)
        if len(self.study.wave_ids) < 2:  # one wave: nobody can be lost between waves
            return None, flow
        baseline = []
        if plan.baseline_wave is not None:
            baseline = [name for name in (mechanism, outcome) if name not in self.tables.recipients.columns]
        attrition = differential_attrition(
            self.study,
            baseline=list(dict.fromkeys(baseline)),
            baseline_wave=plan.baseline_wave,
            wave=plan.outcome_wave,
            alpha=self.alpha,
        )
        return attrition, flow

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
        if self.levelling.part is not None:
            lines.append(f"mechanism analysed {self.levelling.words}: {self.levelling.reason}")
        if self.levelling.nodes:
            cuts = self.levelling.nodes.items()
            lines.append(
                "levels: "
                + "; ".join(f"{name} as its {cut.unit} {PART_WORDS[cut.part]}" for name, cut in cuts)
            )
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
