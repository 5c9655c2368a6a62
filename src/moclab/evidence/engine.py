"""`analyze`: run the analyses of every pathway of a study and judge the seven criteria.

Each pathway is analysed by `moclab.evidence.pathway.PathwayAnalysis` (which analysis serves which criterion
is tabulated there), on its per-recipient frame (`moclab.evidence.frames`), and gets one verdict per
criterion and an overall conclusion (`moclab.evidence.conclusion`). Every analysis of a pathway gets the same
integer seed, so analyses on the same rows and clusters resample the same clusters. An analysis that cannot
run on the data (too few rows, no variation, no second wave) becomes a "not testable" verdict with its
reason and never stops the others; an unexpected error is a bug and is raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydantic

from moclab.errors import ValidationError
from moclab.evidence.frames import pathway_data, study_tables
from moclab.evidence.plan import PathwayPlan, plan_pathways
from moclab.evidence.scorecard import EvidenceScorecard, PathwayEvidence, StudyEvidence
from moclab.evidence.verdicts import NO_QUALITATIVE_EVIDENCE, QualitativeEvidence
from moclab.study.evidence_settings import EvidenceSettings
from moclab.yamlio import problems_from_pydantic

__all__ = ["QualitativeSupport", "analyze", "resolve_settings"]

#: A function giving the qualitative evidence about a pathway (filled by the qualitative module).
QualitativeSupport = Callable[[Any], QualitativeEvidence]


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

    Examples
    --------
    The study asks for BCa intervals with 2000 resamples; the options change the level, a keyword the
    resamples (a keyword that is None changes nothing):

    >>> from moclab.evidence import EvidenceSettings, resolve_settings
    >>> study_section = EvidenceSettings(n_boot=2000, ci="bca")
    >>> settings = resolve_settings(study_section, {"level": 0.9}, n_boot=500, seed=None)
    >>> settings.ci, settings.level, settings.n_boot, settings.seed
    ('bca', 0.9, 500, None)

    An `EvidenceSettings` given as options replaces the study's section:

    >>> resolve_settings(study_section, EvidenceSettings(level=0.9)).ci
    'percentile'
    >>> from moclab.errors import ValidationError
    >>> try:
    ...     resolve_settings(study_section, {"nboot": 1000})
    ... except ValidationError as error:
    ...     print(error.problems[0])
    options: unknown key 'nboot' (did you mean 'n_boot'?)
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
    >>> evidence.to_frame().columns[:2].tolist()
    ['Conclusion', 'Strong association']
    """
    # The analyses (and statsmodels behind them) are imported here, not with the module: `moclab validate`
    # plans pathways with this package without fitting anything.
    from moclab.evidence.pathway import ANALYSES, PathwayAnalysis
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
            analysis = PathwayAnalysis(study, plan, data, settings, settings.seed, replications, step, tables)
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
