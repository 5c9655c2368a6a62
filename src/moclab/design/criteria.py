"""The probability that each of the seven criteria is met, from simulated studies.

Two ways, chosen with ``criteria=`` in `moclab.design.power_analysis`:

``"fast"`` (default)
    The verdicts that follow from the vectorized mediation analyses (`moclab.design.engine`) are judged per
    replication by the scorecard's own rule functions (`moclab.evidence.rules`), so the thresholds and
    wording are those of `moclab analyze`:

    * strong association: `judge_strong_association` on the indirect effect's interval (the primary
      interval method) and the a and b path tests;
    * experimental manipulation: `judge_experimental_manipulation` on the design's randomization, the a path
      and the indirect effect;
    * specificity: `judge_specificity` on the mechanism's indirect effect with the competing mechanisms in
      the model and its contrasts with each of them (not testable without measured competitors).

    Consistency (per-site meta-analysis), timeline (cross-lagged panel), gradient (dose-response) and
    plausibility need analyses the fast engine does not run; they are reported as not estimated.

``"full"``
    Every replication is built as a checked study in memory (`SimulatedStudy.to_study`, the checks of
    `moclab.study.load_study` without writing files) and scored by `moclab.evidence.analyze`, the same code
    as `moclab analyze`: all seven criteria, at a fraction of a second to a few seconds per replication
    (the analyses dominate; use few replications and the parallel back ends).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from moclab.analysis.results import Effect
from moclab.design.engine import BatchResult
from moclab.design.scenario import PowerTarget

__all__ = ["CRITERION_IDS", "FAST_CRITERIA", "STATUSES", "fast_statuses", "full_statuses"]

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


def _code(status: object) -> int:
    return STATUSES.index(str(getattr(status, "value", status)))


def _effect(name: str, kind: str, estimate: float, interval: tuple[float, float], p: float | None) -> Effect:
    low, high = interval
    return Effect(name, kind, float(estimate), None, float(low), float(high), p, None)


def _path(name: str, estimate: float, p: float) -> Effect:
    return Effect(name, name[0], float(estimate), None, None, None, float(p), "t")


def fast_statuses(
    target: PowerTarget,
    association: BatchResult,
    specificity: BatchResult | None,
    interval_method: str,
    level: float,
) -> dict[str, np.ndarray]:
    """Per-replication status codes (index into `STATUSES`) of the criteria in `FAST_CRITERIA`.

    Parameters
    ----------
    target : PowerTarget
        The pathway (its randomization level and coding).
    association : BatchResult
        The single-mechanism model (strong association, experimental manipulation).
    specificity : BatchResult or None
        The model with the competing mechanisms as parallel mediators; None when none is measured.
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

    r = association.n.size
    out = {name: np.full(r, -1, dtype=np.int8) for name in FAST_CRITERIA}
    a_est, _, a_p = association.paths["a[0]"]
    b_est, _, b_p = association.paths["b[0]"]
    indirect = association.indirect[0]
    low, high = indirect[interval_method]
    randomized = target.randomization != "none"
    for row in range(r):
        if association.failed[row]:
            for name in FAST_CRITERIA:
                out[name][row] = STATUSES.index("not testable")
            continue
        a = _path("a", a_est[row], a_p[row])
        b = _path("b", b_est[row], b_p[row])
        ab = _effect("indirect", "indirect", indirect["estimate"][row], (low[row], high[row]), None)
        out["strong_association"][row] = _code(judge_strong_association(ab, [a, b], level=level).status)
        out["experimental_manipulation"][row] = _code(
            judge_experimental_manipulation(target.randomization, randomized, a, ab, level=level).status
        )
        if specificity is None:
            out["specificity"][row] = _code(judge_specificity(ab, [], [], level=level).status)
            continue
        if specificity.failed[row]:
            out["specificity"][row] = STATUSES.index("not testable")
            continue
        own = specificity.indirect[0]
        own_low, own_high = own[interval_method]
        own_effect = _effect(
            "indirect", "indirect", own["estimate"][row], (own_low[row], own_high[row]), None
        )
        contrasts = []
        for j, name in enumerate(target.alternatives, start=1):
            contrast = specificity.contrasts[j]
            c_low, c_high = contrast[interval_method]
            contrasts.append(
                (
                    name,
                    _effect(
                        f"contrast[{name}]",
                        "contrast",
                        contrast["estimate"][row],
                        (c_low[row], c_high[row]),
                        None,
                    ),
                )
            )
        out["specificity"][row] = _code(judge_specificity(own_effect, contrasts, [], level=level).status)
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
) -> dict[str, dict[str, int]]:
    """Score one simulated study with `moclab.evidence.analyze`: status codes per pathway and criterion.

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
    codes: dict[str, dict[str, int]] = {}
    for target in targets:
        pathway = evidence.scorecard.pathway(target.id)
        codes[target.id] = {name: _code(pathway.verdict(name).status) for name in CRITERION_IDS}
    return codes


def status_shares(codes: np.ndarray) -> dict[str, float]:
    """Share of replications with each status (NaN when the criterion was not estimated)."""
    codes = np.asarray(codes)
    valid = codes >= 0
    if not valid.any():
        return {status: math.nan for status in STATUSES}
    return {status: float(np.mean(codes[valid] == i)) for i, status in enumerate(STATUSES)}
