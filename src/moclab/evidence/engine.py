"""`analyze`: run the analyses of every pathway of a study and judge the seven criteria.

For each pathway (`moclab.evidence.plan`), on its per-recipient frame (`moclab.evidence.frames`):

========================  ==================================================================================
analysis                  call
========================  ==================================================================================
strong association        `mediate` X → mechanism(s) → outcome (serial for a chain), adjusted for baselines;
                          with ``mediation: multilevel`` and clustered recipients, `multilevel_mediate`
                          (single mechanism; falls back to `mediate` with a warning when it cannot run)
specificity               `mediate` with the competing mechanisms in parallel (contrasts); `mediate` to each
                          non-target outcome
consistency               `cluster_indirect_effects` + `meta_analysis` across sites when the strategy varies
                          within sites; else `mediate` per subgroup + `meta_analysis`; across studies when
                          replications are given
timeline                  `cross_lagged` of the (last) mechanism and the outcome over the waves
gradient                  `dose_response` of the (first) mechanism on the support received, and of the outcome
                          on the (last) mechanism
experimental manipulation the design, the a path and the indirect effect; `sensitivity` to M-Y confounding
plausibility              templates, catalog and citations backing each link; the signs of the paths
========================  ==================================================================================

Every analysis of a pathway gets the same integer seed, so analyses on the same rows and clusters (the
association and specificity models, the subgroup models) resample the same clusters: one cluster-bootstrap
index set per pathway, drawn once per analysis by the vectorized bootstrap of `moclab.analysis`. An analysis
that cannot run on the data (too few rows, no variation, no second wave) becomes a "not testable" verdict with
its reason; it never stops the others.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydantic

from moclab.analysis import (
    AnalysisResult,
    cluster_indirect_effects,
    cross_lagged,
    dose_response,
    mediate,
    meta_analysis,
    multilevel_mediate,
    sensitivity,
)
from moclab.analysis.results import Effect
from moclab.errors import MoclabError, ValidationError
from moclab.evidence.backing import link_backing
from moclab.evidence.frames import PathwayData, StudyTables, pathway_data, study_tables, timeline_facts
from moclab.evidence.plan import PathwayPlan, plan_pathways
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
from moclab.evidence.scorecard import EvidenceScorecard, PathwayEvidence, StudyEvidence
from moclab.evidence.verdicts import NO_QUALITATIVE_EVIDENCE, QualitativeEvidence
from moclab.study.evidence_settings import EvidenceSettings
from moclab.yamlio import problems_from_pydantic

__all__ = ["ANALYSES", "QualitativeSupport", "analyze", "resolve_settings"]

#: The analysis steps of each pathway, in the order the progress bar shows them.
ANALYSES = ("association", "specificity", "consistency", "timeline", "gradient", "sensitivity")

#: A function giving the qualitative evidence about a pathway (filled by the qualitative module).
QualitativeSupport = Callable[[Any], QualitativeEvidence]

#: Failures of an analysis that mean "the data cannot answer this", not a bug.
_EXPECTED = (MoclabError, ValueError, np.linalg.LinAlgError)


def _qualitative_support(
    study: Any, given: QualitativeSupport | None
) -> Callable[[PathwayPlan], QualitativeEvidence]:
    """What gives each plan its qualitative evidence: `given` (called with the pathway) wins; else the study's
    ``qualitative:`` section (called with the plan, so the analysed outcome is the one read); else none."""
    if given is not None:
        return lambda plan: given(plan.pathway)
    from moclab.evidence.qualitative import qualitative_support_from_study

    from_study = qualitative_support_from_study(study)
    return from_study if from_study is not None else lambda plan: NO_QUALITATIVE_EVIDENCE


# --------------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_settings(
    study_settings: EvidenceSettings | None,
    options: EvidenceSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> EvidenceSettings:
    """The settings an analysis runs with: the study's section, then `options`, then keyword overrides.

    `options` as an `EvidenceSettings` replaces the study's section; as a mapping it overrides only the keys
    it names (nested sections key by key). Keyword overrides that are None are ignored.

    Raises
    ------
    ValidationError
        When the options are not valid settings (each problem named with its key).
    """
    if isinstance(options, EvidenceSettings):
        base = options.model_dump(exclude_unset=True)
    else:
        base = (study_settings or EvidenceSettings()).model_dump(exclude_unset=True)
        if options is not None:
            base = _merge(base, options)
    base = _merge(base, {key: value for key, value in overrides.items() if value is not None})
    try:
        return EvidenceSettings.model_validate(base)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            "evidence options", problems_from_pydantic(exc, base, "options", EvidenceSettings)
        ) from None


# --------------------------------------------------------------------------------------------------------
# One pathway
# --------------------------------------------------------------------------------------------------------


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


class _PathwayAnalysis:
    """Runs the analyses of one pathway and turns their results into verdicts."""

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
        """Run one analysis; keep its result, or return why the data could not answer it."""
        try:
            result = run()
        except _EXPECTED as error:
            message = getattr(error, "message", None) or str(error)
            hint = getattr(error, "hint", None)
            return None, message + (f" ({hint})" if hint else "")
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

    def knapp_hartung(self, k: int) -> bool:
        setting = self.settings.knapp_hartung
        if setting == "auto":
            return k < self.settings.thresholds.knapp_hartung_below
        return bool(setting)

    @property
    def indirect_name(self) -> str:
        return f"indirect[{self.chain}]"

    # -- analyses ------------------------------------------------------------------------------------------

    def association(self) -> tuple[AnalysisResult | None, str | None]:
        self.step("association")
        data, plan = self.data, self.plan
        if self.settings.mediation == "multilevel":
            result, failure = self.multilevel_association()
            if result is not None:
                return result, None
            self.multilevel_fallback = failure
            warning = (
                f"multilevel mediation was requested but not used ({failure}); strong association was judged "
                "on the single-level mediation model instead"
                + (" (cluster bootstrap, CR1 standard errors)" if data.cluster is not None else "")
            )
            self.warnings.append(warning)
            self.notes.append(warning)
        return self.attempt(
            "mediation",
            lambda: mediate(
                data.frame,
                x=data.x,
                m=list(plan.mechanisms),
                y=plan.outcome,
                covariates=self.covariates_for(*plan.mechanisms, plan.outcome),
                model="serial" if len(plan.mechanisms) > 1 else "parallel",
                **self.mediation_options(),
            ),
        )

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
        except _EXPECTED as error:
            message = getattr(error, "message", None) or str(error)
            hint = getattr(error, "hint", None)
            return None, "the multilevel model could not be estimated: " + message + (
                f" ({hint})" if hint else ""
            )
        if not result.info.get("converged", True):
            return None, "the multilevel model did not converge"
        self.results["mediation"] = result
        self.multilevel = result.design
        return result, None

    def association_effects(self, mediation: AnalysisResult | None) -> tuple[Effect | None, list[Effect]]:
        """The indirect effect and the paths along it, from the single-level or the multilevel model.

        The multilevel a and b paths get the ``from`` and ``to`` of the single-level paths, so the
        plausibility signs and the manipulation check read them alike.
        """
        if mediation is None:
            return None, []
        if self.multilevel is None:
            indirect = mediation.effect(self.indirect_name)
            return indirect, [mediation.effect(name) for name in indirect.extra.get("paths", [])]
        mechanism = self.plan.mechanisms[0]
        ends = {"a": (self.data.x, mechanism), "b": (mechanism, self.plan.outcome)}
        paths = [
            dataclasses.replace(
                mediation.effect(name),
                extra={**mediation.effect(name).extra, "from": ends[name][0], "to": ends[name][1]},
            )
            for name in ("a", "b")
        ]
        return mediation.effect("indirect"), paths

    def specificity(self, association: Effect | None) -> tuple[Effect | None, list, list, list[str]]:
        self.step("specificity")
        data, plan = self.data, self.plan
        target_node = plan.mechanisms[0]
        failures: list[str] = []
        target: Effect | None = None
        contrasts: list[tuple[str, Effect]] = []
        if plan.alternatives:
            mediators = [target_node, *plan.alternatives]
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
            else:
                target = result.effect(f"indirect[{target_node}]")
                contrasts = [
                    (alt, result.effect(f"contrast[{target_node}-{alt}]")) for alt in plan.alternatives
                ]
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

    def consistency(self) -> dict[str, Any]:
        """Per-unit indirect effects pooled: across studies, sites or subgroups (the first available)."""
        self.step("consistency")
        if self.replications:
            return self._across_studies()
        plan, data = self.plan, self.data
        why_not_sites = None
        if data.cluster is None:
            why_not_sites = "the recipients are not nested in sites"
        elif len(plan.mechanisms) > 1:
            why_not_sites = "per-site indirect effects are estimated for single-mechanism pathways only"
        else:
            frame = data.frame[[data.x, data.cluster]].dropna()
            varying = int((frame.groupby(data.cluster, observed=True)[data.x].nunique() > 1).sum())
            if varying < self.settings.thresholds.min_units:
                why_not_sites = (
                    f"the strategy varies within {varying} site(s) only (it is assigned per site), so its "
                    "effect on the mechanism cannot be estimated within each site"
                )
        if why_not_sites is None:
            found = self._across_sites()
            if found.get("pooled") is not None:
                return found
            why_not_sites = found["failure"]
        found = self._across_subgroups()
        if found.get("pooled") is None:
            reasons = [why_not_sites, found.get("failure")]
            found["failure"] = "; ".join(r for r in reasons if r)
            found["design_change"] = (
                "randomize (or vary the dose) within sites so the indirect effect can be estimated per site, "
                "declare subgroups (evidence.subgroups, e.g. role or engagement length) with enough "
                "recipients "
                "each, or analyse a replication study together with this one"
            )
        return found

    def _pooled(self, meta: AnalysisResult, unit_name: str) -> dict[str, Any]:
        self.results["consistency"] = meta
        units = [effect for effect in meta.effects if effect.kind == "study"]
        return {
            "pooled": meta.effect("pooled"),
            "units": units,
            "prediction": tuple(meta.prediction),  # type: ignore[attr-defined]
            "unit_name": unit_name,
            "evidence": {
                "tau2": meta.tau2,  # type: ignore[attr-defined]
                "tau2_ci": list(meta.tau2_ci),  # type: ignore[attr-defined]
                "i2": meta.i2,  # type: ignore[attr-defined]
                "q": meta.q,  # type: ignore[attr-defined]
                "q_p": meta.q_p,  # type: ignore[attr-defined]
                "method": meta.info.get("method"),
                "knapp_hartung": meta.knapp_hartung,  # type: ignore[attr-defined]
            },
        }

    def _across_sites(self) -> dict[str, Any]:
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
                covariates=[
                    c
                    for c in self.covariates_for(mechanism, plan.outcome)
                    if c in data.numeric_covariates or c in data.baselines.values()
                ],
                level=self.level,
                min_size=self.settings.thresholds.min_site_size,
            ),
        )
        if sites is None:
            return {"failure": f"per-site indirect effects could not be estimated: {failure}"}
        k = len(sites.table)  # type: ignore[attr-defined]
        if k < self.settings.thresholds.min_units:
            return {"failure": f"per-site models could be estimated in {k} site(s) only"}
        meta, failure = self.attempt(
            "consistency_meta",
            lambda: sites.pool("indirect", knapp_hartung=self.knapp_hartung(k), level=self.level),  # type: ignore[attr-defined]
        )
        if meta is None:
            return {"failure": f"the meta-analysis of the per-site effects failed: {failure}"}
        self.results.pop("consistency_meta", None)
        return self._pooled(meta, "sites")

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
                        m=list(plan.mechanisms),
                        y=plan.outcome,
                        covariates=self.covariates_for(*plan.mechanisms, plan.outcome),
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

    def timeline(self) -> tuple[dict[str, Effect | None], str | None]:
        self.step("timeline")
        data, plan = self.data, self.plan
        empty: dict[str, Effect | None] = {"m_to_y": None, "y_to_m": None, "difference_std": None}
        if data.panel is None:
            return empty, data.panel_failure
        panel = data.panel
        covariates = [data.x] if panel[data.x].nunique() > 1 else []
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
            return empty, failure
        return {name: result.effect(name) for name in empty}, None

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
        # (last) mechanism → outcome, adjusted for the strategy and the baselines
        last = plan.mechanisms[-1]
        covariates = [data.x, *data.baseline_for(last, plan.outcome)]
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

    def sensitivity(self) -> AnalysisResult | None:
        self.step("sensitivity")
        data, plan = self.data, self.plan
        if len(plan.mechanisms) != 1:
            return None
        covariates = [
            c
            for c in self.covariates_for(plan.mechanisms[0], plan.outcome)
            if c in data.numeric_covariates or c in data.baselines.values()
        ]
        result, _ = self.attempt(
            "sensitivity",
            lambda: sensitivity(
                data.frame,
                x=data.x,
                m=plan.mechanisms[0],
                y=plan.outcome,
                covariates=covariates,
                level=self.level,
            ),
        )
        return result

    # -- verdicts ------------------------------------------------------------------------------------------

    def run(self, qualitative: QualitativeEvidence) -> PathwayEvidence:
        plan, data = self.plan, self.data
        level = self.level
        mediation, failure = self.association()
        indirect, paths = self.association_effects(mediation)
        design_evidence: dict[str, Any] = {}
        if mediation is not None and self.multilevel is not None:
            info = mediation.info
            design_evidence = {
                "n": info.get("n"),
                "n_dropped": info.get("n_dropped"),
                "n_clusters": info.get("n_clusters"),
                "icc": info.get("icc"),
                "design_effect": info.get("design_effect"),
                "method": info.get("method"),
            }
        elif mediation is not None:
            design_evidence = {
                "n": mediation.n,  # type: ignore[attr-defined]
                "n_dropped": mediation.n_dropped,  # type: ignore[attr-defined]
                "n_clusters": mediation.n_clusters,  # type: ignore[attr-defined]
                "icc": mediation.icc,  # type: ignore[attr-defined]
                "design_effect": mediation.design_effect,  # type: ignore[attr-defined]
                "x_coding": mediation.info.get("x_coding"),
                "method": mediation.info.get("method"),
            }
        association_evidence = dict(design_evidence)
        if self.multilevel_fallback is not None:
            association_evidence["mediation_model"] = "single-level (multilevel requested)"
            association_evidence["multilevel_fallback"] = self.multilevel_fallback
        association = judge_strong_association(
            indirect,
            paths,
            level=level,
            failure=failure,
            evidence=association_evidence,
            multilevel=self.multilevel,
        )
        indirect_sign = plan.sign_between(plan.strategy, plan.outcome)
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
        found = self.consistency()
        consistency = judge_consistency(
            found.get("pooled"),
            found.get("units", []),
            found.get("prediction"),
            level=level,
            unit_name=found.get("unit_name", "sites"),
            failure=found.get("failure"),
            design_change=found.get("design_change"),
            evidence=found.get("evidence"),
        )
        lagged, panel_failure = self.timeline()
        timeline = judge_timeline(
            timeline_facts(self.study, plan, self.settings, self.tables),
            lagged["m_to_y"],
            lagged["y_to_m"],
            lagged["difference_std"],
            level=level,
            sign=plan.sign_between(plan.mechanisms[-1], plan.outcome),
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
            evidence={"dose_level": data.dose_level, "dose_measure": self.settings.dose.measure},
        )
        sensitivity_result = self.sensitivity()
        randomization = self.study.config.design.randomization
        manipulation_evidence: dict[str, Any] = {
            "arms": list(randomization.arms),
            "control": randomization.control,
            "n_clusters": design_evidence.get("n_clusters"),
        }
        if sensitivity_result is not None:
            manipulation_evidence["sensitivity"] = {
                "rho_at_zero": sensitivity_result.rho_at_zero,  # type: ignore[attr-defined]
                "r2_star_product": sensitivity_result.r2_star_product,  # type: ignore[attr-defined]
                "r2_tilde_product": sensitivity_result.r2_tilde_product,  # type: ignore[attr-defined]
            }
        a_path = paths[0] if paths else None
        manipulation = judge_experimental_manipulation(
            randomization.level,
            plan.coding.randomized,
            a_path,
            indirect,
            level=level,
            strategy_text=plan.coding.text,
            failure=failure,
            evidence=manipulation_evidence,
        )
        plausibility = judge_plausibility(
            link_backing(self.study.model, plan),
            self._path_signs(paths),
            qualitative,
            level=level,
        )
        complete = data.frame.dropna(subset=[data.x, *plan.mechanisms, plan.outcome])
        return PathwayEvidence(
            plan=plan,
            verdicts=(association, specificity, consistency, manipulation, timeline, gradient, plausibility),
            results=dict(self.results),
            n=len(complete),
            assumptions=tuple(self._assumptions()),
            notes=tuple(dict.fromkeys(self.notes)),
            qualitative=qualitative,
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
        return lines


# --------------------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------------------


def _study_info(study: Any) -> dict[str, Any]:
    config = study.config
    design = config.design
    recipients = study.recipients
    cluster = config.tables.recipients.cluster
    model = study.model
    return {
        "title": study.title,
        "path": str(study.path),
        "synthetic": study.synthetic,
        "unit": design.unit,
        "cluster": design.cluster,
        "n_recipients": len(recipients),
        "n_clusters": int(recipients[cluster].nunique()) if cluster in recipients.columns else None,
        "randomization": {
            "level": design.randomization.level,
            "arms": list(design.randomization.arms),
            "control": design.randomization.control,
        },
        "waves": [
            {
                "id": wave.id,
                "label": wave.title,
                "date": wave.date.isoformat() if wave.date else None,
                "month": wave.month,
            }
            for wave in design.waves
        ],
        "activities": None if study.activities is None else len(study.activities),
        "model": None
        if model is None
        else {"id": model.id, "title": model.title, "citation": model.citation, "source": model.source},
        "citations": list(config.citations),
    }


def analyze(
    study: Any,
    options: EvidenceSettings | Mapping[str, Any] | None = None,
    *,
    n_boot: int | None = None,
    seed: int | None = None,
    ci: str | None = None,
    level: float | None = None,
    pathways: Sequence[str] | None = None,
    replications: Sequence[StudyEvidence] = (),
    qualitative_support: QualitativeSupport | None = None,
    show_progress: bool = True,
) -> StudyEvidence:
    """Judge every pathway of a study on the seven criteria for a mechanism (Kazdin 2007; Lewis et al. 2020).

    Parameters
    ----------
    study : Study, str or Path
        A loaded study, or its folder.
    options : EvidenceSettings or mapping, optional
        Settings replacing (an `EvidenceSettings`) or overriding (a mapping) the study's ``evidence:``
        section; see `EvidenceSettings` and docs/criteria.md.
    n_boot, seed, ci, level : optional
        Shortcuts overriding the settings of the same names.
    pathways : sequence of str, optional
        Judge only these pathways (ids), keeping the settings the study gives for them.
    replications : sequence of StudyEvidence
        Analyses of other studies of the same pathways: consistency is then judged across the studies.
    qualitative_support : callable, optional
        ``f(pathway) -> QualitativeEvidence`` for the plausibility criterion. Default: the study's coded
        interviews when moclab.yaml has a ``qualitative:`` section (`moclab.evidence.qualitative`), else "no
        qualitative evidence given".
    show_progress : bool
        A progress bar over pathways × analyses on stderr (shown when the work takes over a second).

    Returns
    -------
    StudyEvidence
        The scorecard (`StudyEvidence.scorecard`), the settings with the seed used, the study's design.

    Raises
    ------
    ValidationError
        A pathway names a variable the data lack (with the pathway, the variable and the model's YAML line),
        the evidence settings name unknown pathways, waves or columns, or the ``qualitative:`` section codes
        or coders its project lacks (with their moclab.yaml line).
    StudyError
        The study has no pathway model.

    Examples
    --------
    >>> from moclab.study import example_path, load_study
    >>> study = load_study(example_path(), show_progress=False)
    >>> evidence = analyze(
    ...     study,
    ...     {"pathways": ["isp_support__trust__acceptability"]},
    ...     n_boot=200,
    ...     seed=1,
    ...     show_progress=False,
    ... )
    >>> evidence.to_frame().columns[0]
    'Strong association'
    """
    from moclab.study import Study, load_study
    from moclab.study.progress import DelayedProgress

    started = time.perf_counter()
    if not isinstance(study, Study):
        study = load_study(Path(study), show_progress=show_progress)
    settings = resolve_settings(
        getattr(study.config, "evidence", None), options, n_boot=n_boot, seed=seed, ci=ci, level=level
    )
    if pathways is not None:
        settings = settings.model_copy(update={"pathways": [settings.pathway_spec(p) for p in pathways]})
    if settings.seed is None:
        settings = settings.model_copy(update={"seed": int(np.random.default_rng().integers(0, 2**31 - 1))})
    assert settings.seed is not None
    plans = plan_pathways(study, settings)
    tables = study_tables(study)
    support = _qualitative_support(study, qualitative_support)
    pathways: list[PathwayEvidence] = []
    warnings: list[str] = []
    total = len(plans) * len(ANALYSES)
    with DelayedProgress("analysing pathways", total=total, enabled=show_progress) as progress:
        for number, plan in enumerate(plans, start=1):

            def step(name: str, number: int = number, plan: PathwayPlan = plan) -> None:
                progress.step(f"pathway {number}/{len(plans)} ({plan.id}): {name}")

            data = pathway_data(study, plan, settings, tables)
            analysis = _PathwayAnalysis(
                study, plan, data, settings, settings.seed, replications, step, tables
            )
            evidence = analysis.run(support(plan))
            pathways.append(evidence)
            warnings.extend(f"{plan.id} (mediation): {warning}" for warning in analysis.warnings)
            for name, result in evidence.results.items():
                warnings.extend(f"{plan.id} ({name}): {warning}" for warning in result.warnings)
    return StudyEvidence(
        study=_study_info(study),
        settings=settings,
        scorecard=EvidenceScorecard(tuple(pathways)),
        warnings=tuple(dict.fromkeys(warnings)),
        elapsed=time.perf_counter() - started,
    )
