"""The probability that each of the seven criteria is met, from simulated studies.

Two ways, chosen with ``criteria=`` in `moclab.design.power_analysis`:

``"fast"`` (default)
    Every criterion is judged per replication by the scorecard's own rule functions
    (`moclab.evidence.rules`), so the thresholds and wording are those of `moclab analyze`, on numbers
    computed straight from the simulated arrays (the vectorized mediation analyses of
    `moclab.design.engine`; the panel, dose-response, per-site and interview analyses of
    `moclab.design.criteria_analyses`), never from a built study:

    * every rule reads the model `moclab analyze` judges: the mechanism with its measured competing
      mechanisms as parallel mediators, the interval method of the analysis (percentile by default);
    * strong association: `judge_strong_association` on the indirect effect's interval and the a and b path
      tests;
    * specificity: `judge_specificity` on the mechanism's indirect effect and its contrasts with each
      competitor (not testable without measured competitors);
    * consistency: `judge_consistency` on the study's indirect effect and, across sites, the prediction
      intervals of the per-site b paths (and a paths when the strategy varies within sites) from REML
      random-effects meta-analysis, with the variance ratio of site means by arm when sites were randomized;
      where the sites cannot be compared (too few with a per-site estimate, or a mechanism declared at the
      team or organization level, analysed as unit means) and the pathway has subgroups, the scorecard's
      subgroup analyses: `mediate` within each subgroup large enough, with the replication's analysis seed,
      interval method and resamples (so the subgroups' Monte Carlo draws and bootstrap resamples are the
      scorecard's), pooled by `meta_analysis` (`moclab.design.criteria_analyses.SubgroupAnalyses`);
    * experimental manipulation: `judge_experimental_manipulation` on the study's randomization and whether
      the strategy coding is the randomized arm (from the scorecard's plan), the a path, the indirect
      effect and the total and direct effects of the strategy;
    * timeline: `judge_timeline` on the design's waves and the first logged activity, and the pooled
      cross-lagged panel of the mechanism and the outcome;
    * gradient: `judge_gradient` on the trend tests (and slopes) of the mechanism on the support received
      and of the outcome on the mechanism;
    * plausibility: `judge_plausibility` on the link backing of the scorecard's plan, the signs and tests of
      the a and b paths, and the scorecard's reading of the study's coded interviews.

    The statuses equal the scorecard's on the same data set, replication by replication
    (tests/design/test_criteria_fast.py, and tests/design/test_criteria_subgroups.py for consistency across
    subgroups). Not-testable reasons of the added criteria may be worded differently from the scorecard's
    (the status is the same). The Monte Carlo interval of the study's indirect effect agrees draw for draw
    when `n_mc` is `mediate`'s (20,000; `power_analysis` defaults to 10,000, so a verdict on an interval
    bound next to 0 can differ from ``"full"``'s there); the subgroup models always draw `mediate`'s 20,000.

``"full"``
    Every replication is built as a checked study in memory (`SimulatedStudy.to_study`, the checks of
    `moclab.study.load_study` without writing files) and scored by `moclab.evidence.analyze`, the same code
    as `moclab analyze`: all seven criteria, at a fraction of a second to about ten seconds per replication
    (the analyses dominate; use few replications and the parallel back ends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moclab.analysis.results import Effect
from moclab.design.criteria_analyses import ReplicationEvidence, TargetContext
from moclab.design.engine import BatchResult
from moclab.design.scenario import PowerTarget

__all__ = [
    "CRITERION_IDS",
    "FAST_CRITERIA",
    "MEDIATION_CRITERIA",
    "NOT_JUDGED_REASON",
    "STATUSES",
    "CriterionStatuses",
    "fast_statuses",
    "full_statuses",
]

#: The seven criteria in scorecard order (ids of `moclab.evidence.CRITERIA`).
CRITERION_IDS = (
    "strong_association",
    "specificity",
    "consistency",
    "experimental_manipulation",
    "timeline",
    "gradient",
    "plausibility",
)
#: The criteria the fast engine judges.
FAST_CRITERIA = CRITERION_IDS
#: The criteria the fast engine judges from the mediation model alone.
MEDIATION_CRITERIA = ("strong_association", "specificity", "experimental_manipulation")
#: Status codes stored per replication (index into this tuple); -1 means not estimated.
STATUSES = ("met", "partly met", "not met", "not testable")
NOT_TESTABLE = STATUSES.index("not testable")
#: Why a criterion the fast engine does not judge has no power.
NOT_JUDGED_REASON = "not judged by the fast engine (criteria='full', --criteria full, judges it)"


@dataclass
class CriterionStatuses:
    """The status code of each criterion per replication (index into `STATUSES`), and for a criterion that
    was not testable in some replication, the scorecard's reason (the first one met)."""

    codes: dict[str, np.ndarray]
    reasons: dict[str, str] = field(default_factory=dict)
    #: Why a criterion was left unjudged (code -1) in some replications.
    unjudged: dict[str, str] = field(default_factory=dict)

    def record(self, name: str, row: int, verdict: Any) -> None:
        """Store the status of `verdict` for criterion `name` in replication `row`."""
        code = _code(verdict.status)
        self.codes[name][row] = code
        if code == NOT_TESTABLE:
            self.reasons.setdefault(name, str(verdict.reason))


def _code(status: object) -> int:
    return STATUSES.index(str(getattr(status, "value", status)))


def _effect(name: str, kind: str, estimate: float, interval: tuple[float, float], p: float | None) -> Effect:
    low, high = interval
    return Effect(name, kind, float(estimate), None, float(low), float(high), p, None)


def _path(name: str, estimate: float, p: float) -> Effect:
    return Effect(name, name[0], float(estimate), None, None, None, float(p), "t")


def _path_effect(fit: BatchResult, name: str, row: int) -> Effect:
    estimate, _, p = fit.paths[name]
    return _path(name, estimate[row], p[row])


def fast_statuses(
    target: PowerTarget,
    fit: BatchResult,
    interval_method: str,
    level: float,
    evidence: Sequence[ReplicationEvidence] | None = None,
    context: TargetContext | None = None,
    seeds: Sequence[int] = (),
    n_boot: int = 0,
) -> CriterionStatuses:
    """Per-replication status codes (index into `STATUSES`) of the criteria in `FAST_CRITERIA`, with the
    reason of each criterion that was not testable.

    Parameters
    ----------
    target : PowerTarget
        The pathway (its randomization level and coding).
    fit : BatchResult
        The model `moclab analyze` judges: the mechanism with its measured competing mechanisms as parallel
        mediators (mediator 0 is the mechanism, 1... the competitors), with the direct and total effects.
    interval_method : {"monte_carlo", "percentile", "delta"}
        Whose interval of the indirect effect (and contrasts) the rules read.
    level : float
        Confidence level.
    evidence : sequence of ReplicationEvidence, optional
        Per replication, the per-site (or subgroup), panel, dose-response and qualitative evidence of the
        pathway (`moclab.design.criteria_analyses.replication_evidence`); without it (and `context`)
        consistency, timeline, gradient and plausibility are left unjudged (code -1).
    context : TargetContext, optional
        The scorecard's plan of the pathway (signs, link backing).
    seeds, n_boot : sequence of int, int
        Each replication's analysis seed and the bootstrap resamples of `fit`: the subgroup models of
        consistency draw with them (and `interval_method`), as `moclab analyze` does (needed with
        `evidence`).
    """
    from moclab.evidence.rules import (
        judge_experimental_manipulation,
        judge_specificity,
        judge_strong_association,
    )

    r = fit.n.size
    judged = FAST_CRITERIA if evidence is not None and context is not None else MEDIATION_CRITERIA
    out = CriterionStatuses({name: np.full(r, -1, dtype=np.int8) for name in judged})

    def analysis(row: int) -> dict[str, Any]:
        """The options `moclab analyze` passes to `mediate` in replication `row` (the subgroup models)."""
        return {"ci": interval_method, "n_boot": n_boot, "seed": int(seeds[row]), "level": level}

    indirect = fit.indirect[0]
    low, high = indirect[interval_method]
    # The scorecard's plan knows whether the coding is the randomized assignment (a continuous exposure is
    # not, even in a randomized design); without it, the design's randomization level stands in.
    randomized = context.plan.coding.randomized if context is not None else target.randomization != "none"
    level_name = context.randomization_level if context is not None else target.randomization
    competitors = list(target.alternatives)
    for row in range(r):
        if evidence is not None and context is not None:
            _judge_panel_dose_links(out, row, fit, target, evidence[row], context, level)
        if fit.failed[row]:
            if evidence is not None and context is not None:
                _judge_consistency(out, row, None, evidence[row], context, analysis(row))
            for name in MEDIATION_CRITERIA:
                out.codes[name][row] = NOT_TESTABLE
                out.reasons.setdefault(name, "the mediation model could not be estimated")
            continue
        a, b = _path_effect(fit, "a[0]", row), _path_effect(fit, "b[0]", row)
        ab = _effect("indirect", "indirect", indirect["estimate"][row], (low[row], high[row]), None)
        out.record(
            "strong_association",
            row,
            judge_strong_association(ab, [a, b], level=level, competitors=competitors),
        )
        out.record(
            "experimental_manipulation",
            row,
            judge_experimental_manipulation(
                level_name,
                randomized,
                a,
                ab,
                total=_path_effect(fit, "total", row),
                direct=_path_effect(fit, "direct", row),
                level=level,
            ),
        )
        contrasts = []
        for j, name in enumerate(competitors, start=1):
            c_low, c_high = fit.contrasts[j][interval_method]
            estimate = fit.contrasts[j]["estimate"][row]
            contrasts.append(
                (name, _effect(f"contrast[{name}]", "contrast", estimate, (c_low[row], c_high[row]), None))
            )
        out.record("specificity", row, judge_specificity(ab, contrasts, [], level=level))
        if evidence is not None and context is not None:
            _judge_consistency(out, row, ab, evidence[row], context, analysis(row))
    return out


def _judge_consistency(
    out: CriterionStatuses,
    row: int,
    indirect: Effect | None,
    found: ReplicationEvidence,
    context: TargetContext,
    analysis: dict[str, Any],
) -> None:
    """Consistency of one replication by the scorecard's rule: across sites, or across subgroups where the
    scorecard turns to them (the sites could not be compared or the study's indirect effect could not be
    estimated, and the pathway has subgroups), with `mediate`'s options of `analysis`."""
    from moclab.evidence.rules import judge_consistency

    level = analysis["level"]
    plan = context.plan
    sign = plan.sign_between(plan.strategy, plan.outcome)
    sites = found.sites
    failure = sites.failure
    if indirect is None:
        failure = "the study's indirect effect could not be estimated"
    if failure is not None:
        subgroups = {} if sites.subgroups is None else sites.subgroups.pooled(**analysis)
        if subgroups.get("pooled") is None:
            failure = "; ".join(reason for reason in (failure, subgroups.get("failure")) if reason)
            out.record("consistency", row, judge_consistency(None, [], level=level, failure=failure))
            return
        verdict = judge_consistency(
            subgroups["pooled"],
            subgroups["units"],
            level=level,
            sign=sign,
            unit_name=subgroups["unit_name"],
            prediction=subgroups["prediction"],
        )
        out.record("consistency", row, verdict)
        return
    out.record(
        "consistency",
        row,
        judge_consistency(
            indirect,
            list(sites.units),
            level=level,
            sign=sign,
            path_predictions=sites.path_predictions,
            heterogeneity=sites.heterogeneity,
        ),
    )


def _judge_panel_dose_links(
    out: CriterionStatuses,
    row: int,
    fit: BatchResult,
    target: PowerTarget,
    found: ReplicationEvidence,
    context: TargetContext,
    level: float,
) -> None:
    """Timeline, gradient and plausibility of one replication, by the scorecard's rules."""
    from moclab.evidence.rules import PathSign, judge_gradient, judge_plausibility, judge_timeline

    plan = context.plan
    mechanism, outcome = plan.mechanisms[0], plan.outcome
    forward = plan.sign_between(mechanism, outcome)
    panel = found.panel.effects
    out.record(
        "timeline",
        row,
        judge_timeline(
            found.facts,
            panel["m_to_y"],
            panel["y_to_m"],
            panel["difference_std"],
            level=level,
            sign=forward,
            m_to_y_std=panel["m_to_y_std"],
            y_to_m_std=panel["y_to_m_std"],
            competitors=tuple(target.alternatives),
            panel_failure=found.panel.failure,
        ),
    )
    slopes = found.gradient
    out.record(
        "gradient",
        row,
        judge_gradient(
            slopes.get("dose_slope"),
            slopes.get("dose_trend"),
            slopes.get("mechanism_slope"),
            slopes.get("mechanism_trend"),
            level=level,
            dose_sign=plan.sign_between(plan.strategy, mechanism),
            mechanism_sign=forward,
            dose_failure=slopes.get("dose_failure"),
            mechanism_failure=slopes.get("mechanism_failure"),
        ),
    )
    paths = []
    if not fit.failed[row]:
        paths = [
            PathSign("a", plan.sign_between(plan.strategy, mechanism), _path_effect(fit, "a[0]", row)),
            PathSign("b", forward, _path_effect(fit, "b[0]", row)),
        ]
    out.record("plausibility", row, judge_plausibility(context.links, paths, found.qualitative, level=level))


def full_statuses(
    plan: Any,
    seed: np.random.SeedSequence,
    targets: Sequence[PowerTarget],
    *,
    ci: str,
    n_boot: int,
    level: float,
    analysis_seed: int,
) -> dict[str, dict[str, tuple[int, str]]]:
    """Score one simulated study with `moclab.evidence.analyze`: per pathway and criterion, the status code
    and the scorecard's reason.

    The study is drawn from `plan` with `seed` (the same data set the fast engine analyses for this
    replication), built and checked in memory (`SimulatedStudy.to_study`) and analysed with the given
    interval method, resamples and seed.
    """
    from moclab.evidence import analyze

    study = plan.study(seed).to_study()
    evidence = analyze(
        study,
        {"pathways": [target.id for target in targets]},
        n_boot=max(int(n_boot), 100),
        seed=int(analysis_seed),
        ci=ci,
        level=level,
        show_progress=False,
    )
    codes: dict[str, dict[str, tuple[int, str]]] = {}
    for target in targets:
        pathway = evidence.scorecard.pathway(target.id)
        codes[target.id] = {
            name: (_code(pathway.verdict(name).status), str(pathway.verdict(name).reason))
            for name in CRITERION_IDS
        }
    return codes
