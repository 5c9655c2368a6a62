"""The probability that each of the seven criteria is met, from simulated studies.

Two ways, chosen with ``criteria=`` in `moclab.design.power_analysis`:

``"fast"`` (default)
    The verdicts that follow from the vectorized mediation analyses (`moclab.design.engine`) are judged per
    replication by the scorecard's own rule functions (`moclab.evidence.rules`), so the thresholds and
    wording are those of `moclab analyze`:

    * every rule reads the model `moclab analyze` judges: the mechanism with its measured competing
      mechanisms as parallel mediators, the interval method of the analysis (percentile by default);
    * strong association: `judge_strong_association` on the indirect effect's interval and the a and b path
      tests;
    * experimental manipulation: `judge_experimental_manipulation` on the design's randomization, the a
      path, the indirect effect and the total and direct effects of the strategy;
    * specificity: `judge_specificity` on the mechanism's indirect effect and its contrasts with each
      competitor (not testable without measured competitors).

    Consistency (per-site meta-analysis), timeline (cross-lagged panel), gradient (dose-response) and
    plausibility need analyses the fast engine does not run; they are reported as not estimated.

``"full"``
    Every replication is built as a checked study in memory (`SimulatedStudy.to_study`, the checks of
    `moclab.study.load_study` without writing files) and scored by `moclab.evidence.analyze`, the same code
    as `moclab analyze`: all seven criteria, at a fraction of a second to a few seconds per replication
    (the analyses dominate; use few replications and the parallel back ends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moclab.analysis.results import Effect
from moclab.design.engine import BatchResult
from moclab.design.scenario import PowerTarget

__all__ = [
    "CRITERION_IDS",
    "FAST_CRITERIA",
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
FAST_CRITERIA = ("strong_association", "specificity", "experimental_manipulation")
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
    """
    from moclab.evidence.rules import (
        judge_experimental_manipulation,
        judge_specificity,
        judge_strong_association,
    )

    r = fit.n.size
    out = CriterionStatuses({name: np.full(r, -1, dtype=np.int8) for name in FAST_CRITERIA})
    indirect = fit.indirect[0]
    low, high = indirect[interval_method]
    randomized = target.randomization != "none"
    competitors = list(target.alternatives)
    for row in range(r):
        if fit.failed[row]:
            for name in FAST_CRITERIA:
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
                target.randomization,
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
    return out


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
