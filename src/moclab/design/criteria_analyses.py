"""The analyses behind consistency, timeline, gradient and plausibility, on a simulated draw, as the
scorecard runs them.

`moclab.evidence.analyze` judges consistency on per-site paths pooled by meta-analysis, timeline on
`cross_lagged`, gradient on two `dose_response` analyses and plausibility on the backing of the pathway's
links, the signs of its a and b paths and the coded interviews. A power analysis needs only the numbers those
verdicts read, for thousands of simulated studies, so this module computes them straight from the arrays of
a `moclab.simulate` draw, without building the study (its tables, checks and pandas frames cost about a
second per replication):

* the **per-site paths** of `ConsistencyAnalyses`: each site's b path (`cluster_slopes`: the outcome on the
  mechanism given the competitors and baselines, and the strategy when it varies within sites) and, when
  the strategy varies within sites, each site's a path (`cluster_indirect_effects`), pooled into the
  prediction interval for a new site of REML random-effects `meta_analysis` (Knapp-Hartung below
  `knapp_hartung_below` sites); with sites randomized, `arm_variance_ratio` of the mechanism's site means;
* where the sites cannot be compared, the **subgroup models** of `ConsistencyAnalyses._across_subgroups`:
  `mediate`'s model within each subgroup of at least ``min_subgroup_size`` recipients, with the scorecard's
  interval method, resamples and seed (its random streams: the same Monte Carlo draws and bootstrap
  resamples), pooled by `meta_analysis` (`SubgroupAnalyses`; the subgroups `mediate` would refuse left out
  by its own checks, the Monte Carlo SEs from its own fit);
* the **cross-lagged panel** of the mechanism and the outcome over the waves, lag pairs pooled with one
  intercept per lag pair, the strategy and the competing mechanisms' earlier values as covariates, CR1
  cluster-robust by site (t with G - 1 df) or classical Σ ⊗ (X'X)⁻¹ without sites: the model of
  `moclab.analysis.cross_lagged` on the scorecard's panel frame;
* the **dose-response** of the mechanism on the support received per recipient (the minutes logged up to
  the mechanism wave's date, per recipient or per site divided by its recipients; among the recipients of
  the strategy) and of the outcome on the mechanism given the strategy, competitors and baselines: the slope
  and the trend test over four quantile groups of `moclab.analysis.dose_response`;
* the **coded interviews** the simulated study would carry (``qualitative: simulated``), read by the
  scorecard's own `moclab.evidence.qualitative` code where they can change the plausibility status.

Every least-squares fit is solved from cross-product matrices: per-cluster ``Z_g'Z_g`` give the coefficients
of every equation and the CR1 "meat" Σ_g X_g'e_g e_g'X_g at once (scores ``X_g'y_g - X_g'X_g β``), so no
residual vector is formed (Cameron & Miller 2015, eq. 11). Fits on the same rows share their cross products:
the dose-response slope and cell-means models of one analysis, and the per-site models of the pathways of
one outcome (each one's mechanism is another's competitor: the same columns, in another order). The
estimates equal the scorecard's to rounding (tests/design/test_criteria_fast.py compares them on the same
data sets).

The things a verdict reads that do not vary between replications (the pathway plan with its signs and
link backing, the settings, the wave dates) come from one study built per design (`criteria_context`).

References
----------
Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of Human
Resources*, 50(2), 317-372.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from moclab.analysis.intervals import covariance_root, wald_interval
from moclab.analysis.results import Effect
from moclab.design.engine import NormalStreams, _cluster_cross, _interpolate, _linear_quantile_ranks
from moclab.design.scenario import (
    PowerTarget,
    ReplicationData,
    at_declared_level,
    complete_cases,
    declared_units,
    model_matrix,
    strategy_values,
)

__all__ = [
    "CriteriaContext",
    "PanelEffects",
    "ReplicationEvidence",
    "SiteEvidence",
    "TargetContext",
    "criteria_context",
    "dose_trend",
    "interview_support",
    "interviews_matter",
    "replication_evidence",
    "strategy_start",
    "support_received",
]

#: Days per month, as `moclab.evidence.frames` and `moclab.simulate.tables` count them.
DAYS_PER_MONTH = 365.25 / 12
#: Quantile groups of the dose in the trend test (`dose_response`'s default).
DOSE_GROUPS = 4


@dataclass(frozen=True)
class TargetContext:
    """What the verdicts of one pathway read that is the same in every replication of a design."""

    plan: Any  # moclab.evidence.plan.PathwayPlan
    links: tuple[Any, ...]  # LinkBacking of every link
    facts: Any  # TimelineFacts, with the strategy start of the reference study
    randomization_level: str  # the study's design.randomization.level


@dataclass(frozen=True)
class CriteriaContext:
    """The scorecard's settings and plans for the targets of one design, read from one simulated study.

    ``origin_days`` and ``until_days`` are the first wave's and the mechanism wave's declared dates in days
    after the design's start date (the scorecard dates activities and waves that way); ``first_month`` is
    the first wave's month.
    """

    settings: Any  # EvidenceSettings
    model: Any  # PathwayModel
    targets: dict[str, TargetContext]
    start_date: datetime.date
    origin_days: int
    until_days: dict[str, int]
    first_month: float
    qualitative: Any  # QualitativeSettings or None
    #: The reading of a fixed coded project (``qualitative: example`` or a file), the same in every study.
    fixed_support: Any = None
    #: The analytic truth of the design: simulated interviews read only the effects it transmits through
    #: each mechanism, which `realised_truth` leaves as they are (it adds counts, ICCs and alphas).
    truth: Any = None
    #: Settings whose analyses these functions do not reproduce (then only the mediation criteria are
    #: judged fast), or None.
    unsupported: str | None = None


_CONTEXTS: dict[str, CriteriaContext] = {}
_CONTEXTS_LOCK = threading.Lock()  # Dask workers may run chunks in threads of one process
#: Designs whose context a process keeps (a grid rarely has more; the oldest is dropped first).
MAX_CONTEXTS = 64


def _context_key(plan: Any, targets: Sequence[PowerTarget], level: float) -> str:
    """The spec, the model, the pathways and the level: everything the context is read from."""
    spec = json.dumps(plan.spec.to_yaml_dict(), sort_keys=True, default=str)
    model = plan.model.model_dump_json()
    names = ",".join(target.id for target in targets)
    return hashlib.sha256(f"{model}|{names}|{level}|{spec}".encode()).hexdigest()


def criteria_context(
    plan: Any, targets: Sequence[PowerTarget], seed: np.random.SeedSequence, level: float
) -> CriteriaContext:
    """The plans, settings and design facts of the targets, from the study drawn with `seed`.

    Built once per design and process (cached on the spec, model, pathways and level): the study itself
    costs about a second, the replications then cost milliseconds each.
    """
    key = _context_key(plan, targets, level)
    with _CONTEXTS_LOCK:
        if key in _CONTEXTS:
            return _CONTEXTS[key]
    from moclab.evidence.backing import link_backing
    from moclab.evidence.engine import resolve_settings
    from moclab.evidence.frames import study_tables, timeline_facts
    from moclab.evidence.plan import plan_pathways
    from moclab.evidence.qualitative import qualitative_support_from_study
    from moclab.simulate.truth import analytic_truth

    study = plan.study(seed).to_study()
    settings = resolve_settings(
        getattr(study.config, "evidence", None), {"pathways": [t.id for t in targets]}, seed=0, level=level
    )
    plans = {item.id: item for item in plan_pathways(study, settings)}
    tables = study_tables(study)
    contexts = {
        target.id: TargetContext(
            plans[target.id],
            tuple(link_backing(study.model, plans[target.id])),
            timeline_facts(study, plans[target.id], settings, tables),
            study.config.design.randomization.level,
        )
        for target in targets
    }
    start = plan.spec.design.start_date
    days = {wave: (date - start).days for wave, date in tables.wave_dates.items() if date is not None}
    first = study.wave_ids[0]
    context = CriteriaContext(
        settings=settings,
        model=study.model,
        targets=contexts,
        start_date=start,
        origin_days=days.get(first, 0),
        until_days=days,
        first_month=float(tables.wave_months.get(first) or 0.0),
        qualitative=study.config.qualitative,
        fixed_support=None if plan.spec.simulated_interviews else qualitative_support_from_study(study),
        truth=analytic_truth(plan),
        unsupported=_unsupported(settings),
    )
    with _CONTEXTS_LOCK:
        if len(_CONTEXTS) >= MAX_CONTEXTS:
            del _CONTEXTS[next(iter(_CONTEXTS))]
        _CONTEXTS[key] = context
    return context


def _unsupported(settings: Any) -> str | None:
    """Evidence settings whose analyses the fast engine does not reproduce (a simulated study has none)."""
    reasons = []
    if settings.mediation != "single-level":
        reasons.append(f"mediation: {settings.mediation}")
    if settings.missing != "listwise":
        reasons.append(f"missing: {settings.missing}")
    if settings.dose.components:
        reasons.append("dose components")
    return "; ".join(reasons) or None


# ---------------------------------------------------------------------------------------------------------
# Least squares from cross products
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    """Coefficients (p, k) of k equations on one design, their joint covariance (equation-major) and df."""

    coef: np.ndarray
    covariance: np.ndarray
    df: float

    def wald(self, weights: dict[int, float], level: float) -> tuple[float, float, float, float, float]:
        """Estimate, SE, interval and p of a linear combination of the stacked coefficients."""
        vector = np.zeros(self.covariance.shape[0])
        for index, weight in weights.items():
            vector[index] = weight
        theta = self.coef.T.reshape(-1)
        estimate = float(vector @ theta)
        se = float(np.sqrt(max(vector @ self.covariance @ vector, 0.0)))
        low, high, p = wald_interval(estimate, se, level, self.df)
        return estimate, se, float(low), float(high), float(p)


def _is_sorted(values: np.ndarray) -> bool:
    return bool(values.size < 2 or (values[1:] >= values[:-1]).all())


def _distinct(values: np.ndarray) -> int:
    """The number of distinct values (a running count of changes when they come sorted, as sites do)."""
    if _is_sorted(values):
        return int(values.size > 0) + int(np.count_nonzero(values[1:] != values[:-1]))
    return int(np.unique(values).size)


def _sites_varying(x: np.ndarray, sites: np.ndarray) -> int:
    """In how many sites the strategy takes more than one value (recipients with a strategy value)."""
    finite = np.isfinite(x)
    x, sites = x[finite], sites[finite]
    if not x.size:
        return 0
    if not _is_sorted(sites):
        order = np.argsort(sites, kind="stable")
        x, sites = x[order], sites[order]
    starts = np.flatnonzero(np.r_[True, sites[1:] != sites[:-1]])
    return int(np.count_nonzero(np.minimum.reduceat(x, starts) != np.maximum.reduceat(x, starts)))


def _codes(labels: np.ndarray | None) -> tuple[np.ndarray | None, int]:
    """Cluster codes 0..G-1 in sorted label order (the simulated recipients come sorted by site, so the
    codes are usually a running count)."""
    if labels is None:
        return None, 0
    if _is_sorted(labels):
        codes = np.concatenate([[0], np.cumsum(labels[1:] != labels[:-1])]) if labels.size else labels
        return codes.astype(np.int64), int(codes[-1]) + 1 if labels.size else 0
    _, codes = np.unique(labels, return_inverse=True)
    return codes.astype(np.int64), int(codes.max()) + 1 if codes.size else 0


def _column_sd(values: np.ndarray, ddof: int = 0) -> np.ndarray:
    """Standard deviation of every column, computed along contiguous rows (`ndarray.std(axis=0)` over the
    rows of a tall array is several times slower); equal to it to rounding."""
    return np.ascontiguousarray(values.T).std(axis=1, ddof=ddof)


def _least_squares(design: np.ndarray, responses: np.ndarray, labels: np.ndarray | None) -> _Fit | None:
    """OLS of every response column on `design`, with the classical joint covariance Σ ⊗ (X'X)⁻¹ (t with
    n - p df) or the CR1 stacked-score sandwich by cluster (t with G - 1 df), as
    `moclab.analysis.clustering.cluster_robust_covariance` gives it; None when X'X is singular."""
    p = design.shape[1]
    products = _CrossProducts.of(np.column_stack([design, responses]), labels)
    return products.least_squares(list(range(p)), list(range(p, p + responses.shape[1])))


@dataclass(frozen=True)
class _CrossProducts:
    """The cross products of the columns of a matrix (and per cluster, with clusters): enough to fit any
    regression among its columns, so that the fits of one analysis share them."""

    cross: np.ndarray
    per_cluster: np.ndarray | None
    n: int

    @classmethod
    def of(cls, z: np.ndarray, labels: np.ndarray | None) -> _CrossProducts:
        codes, g = _codes(labels)
        per_cluster = _cluster_cross(z, codes, g) if codes is not None else None
        cross = per_cluster.sum(axis=0) if per_cluster is not None else z.T @ z
        return cls(cross, per_cluster, z.shape[0])

    def least_squares(self, predictors: list[int], responses: list[int]) -> _Fit | None:
        """`_least_squares` of the columns `responses` on the columns `predictors`."""
        n, p, k = self.n, len(predictors), len(responses)
        cross, per_cluster = self.cross, self.per_cluster
        xtx, xty = cross[np.ix_(predictors, predictors)], cross[np.ix_(predictors, responses)]
        if np.linalg.matrix_rank(xtx) < p:
            return None
        inverse = np.linalg.inv(xtx)
        coef = inverse @ xty
        if per_cluster is None:
            residual_cross = cross[np.ix_(responses, responses)] - coef.T @ xty
            return _Fit(coef, np.kron(residual_cross / (n - p), inverse), float(n - p))
        g = per_cluster.shape[0]
        rows = per_cluster[:, predictors]
        scores = rows[:, :, responses] - rows[:, :, predictors] @ coef  # (G, p, k): X_g'e_g per equation
        stacked = np.swapaxes(scores, 1, 2).reshape(g, k * p)
        bread = np.zeros((k * p, k * p))  # I_k ⊗ (X'X)⁻¹, placed block by block (np.kron costs more)
        for equation in range(k):
            bread[equation * p : (equation + 1) * p, equation * p : (equation + 1) * p] = inverse
        factor = g / (g - 1) * (n - 1) / (n - p)
        return _Fit(coef, factor * bread @ (stacked.T @ stacked) @ bread, float(g - 1))


# ---------------------------------------------------------------------------------------------------------
# Timeline: the cross-lagged panel
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelEffects:
    """The effects of `cross_lagged` the timeline verdict reads (or why the panel could not be fitted)."""

    effects: dict[str, Effect | None]
    failure: str | None = None


_PANEL_NAMES = ("m_to_y", "y_to_m", "difference_std", "m_to_y_std", "y_to_m_std")


def _panel(
    draw: Any, target: PowerTarget, x: np.ndarray, x_levels: int, sites: np.ndarray | None, level: float
) -> PanelEffects:
    """The pooled cross-lagged panel of the mechanism and the outcome (`cross_lagged` on the scorecard's
    panel: every recipient at every wave, the strategy when it varies and the competitors as covariates);
    `x_levels` is the number of distinct strategy values."""
    scores = draw.scores
    m, y = scores[target.mechanism_measure], scores[target.outcome_measure]
    competitors = [scores[name] for name in target.alternative_measures]
    competitors = [c for c in competitors if np.isfinite(c).any()]
    covariates_x = x_levels > 1
    n_waves = m.shape[1]
    blocks = []
    people = np.arange(m.shape[0])
    for t in range(n_waves - 1):
        columns = [m[:, t], y[:, t], *([x] if covariates_x else []), *(c[:, t] for c in competitors)]
        block = np.column_stack([*columns, m[:, t + 1], y[:, t + 1]])
        keep = np.isfinite(block).all(axis=1)
        if keep.any():
            blocks.append((block[keep], people[keep] if sites is None else sites[keep]))
    empty = dict.fromkeys(_PANEL_NAMES)
    if not blocks:
        return PanelEffects(empty, "no recipient has complete values at two consecutive waves")
    lags = len(blocks)
    rows = np.concatenate([block for block, _ in blocks])
    dummies = np.repeat(np.eye(lags), [block.shape[0] for block, _ in blocks], axis=0)
    continuous = rows[:, :-2]
    design = np.column_stack([dummies, continuous])
    responses = rows[:, -2:]
    n, p = design.shape
    if n < p + 3 or (_column_sd(continuous) == 0).any():
        return PanelEffects(empty, "too few complete person lag pairs, or a constant column")
    # Clustered by site; without sites, pooled lag pairs are clustered by person and one lag pair is not.
    labels = np.concatenate([label for _, label in blocks]) if sites is not None or lags > 1 else None
    if labels is not None and not _is_sorted(labels):
        # The solver groups rows by cluster, keeping their order within clusters: grouped here once, it
        # neither sorts them again nor searches the labels' distinct values.
        order = np.argsort(labels, kind="stable")
        design, responses, labels = design[order], responses[order], labels[order]
    fit = _least_squares(design, responses, labels)
    if fit is None:
        return PanelEffects(empty, "the cross-lagged design is not of full rank")
    sd = _column_sd(rows[:, [0, 1, -2, -1]], ddof=1)  # m0, y0, m1, y1
    i_m, i_y = lags, lags + 1
    scale_my, scale_ym = sd[0] / sd[3], sd[1] / sd[2]
    contrasts = {
        "m_to_y": {p + i_m: 1.0},
        "y_to_m": {i_y: 1.0},
        "m_to_y_std": {p + i_m: scale_my},
        "y_to_m_std": {i_y: scale_ym},
        "difference_std": {p + i_m: scale_my, i_y: -scale_ym},
    }
    method = "cluster_t" if labels is not None else "t"
    effects: dict[str, Effect | None] = {}
    for name, weights in contrasts.items():
        estimate, se, low, high, p_value = fit.wald(weights, level)
        effects[name] = Effect(name, "cross_lagged", estimate, se, low, high, p_value, method, {"df": fit.df})
    return PanelEffects(effects)


# ---------------------------------------------------------------------------------------------------------
# Gradient: dose-response
# ---------------------------------------------------------------------------------------------------------


def _dose_groups_and_scores(dose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group codes of `dose_response`'s trend test and each group's median dose (the trend's scores). The
    groups are all distinct doses when there are at most four, else four quantile groups as `pandas.qcut(dose,
    4, duplicates="drop")` forms them (linearly interpolated quantiles as edges, intervals closed on the
    right, the lowest edge included), without its Categorical. All from one sort of the doses: the
    groups are runs of the sorted doses, so their distinct values, quantile edges (`numpy.quantile`'s
    interpolation of the same order statistics) and medians (`numpy.median`'s middle value, or mean of the
    two middle values) are read off it; an empty group's median is NaN, as numpy's."""
    ordered = np.sort(dose)
    distinct = ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered
    if distinct.size <= DOSE_GROUPS:
        codes, ordered_codes = np.searchsorted(distinct, dose), np.searchsorted(distinct, ordered)
    else:
        below, above, weight = _linear_quantile_ranks(ordered.size, np.linspace(0.0, 1.0, DOSE_GROUPS + 1))
        edges = np.unique(_interpolate(ordered[below], ordered[above], weight))
        codes, ordered_codes = _edge_codes(edges, dose), _edge_codes(edges, ordered)
    k = int(ordered_codes.max()) + 1 if ordered.size else 0
    starts = np.searchsorted(ordered_codes, np.arange(k + 1))
    medians = np.full(k, np.nan)
    for group in range(k):
        run = ordered[starts[group] : starts[group + 1]]
        half = run.size // 2
        if run.size:
            medians[group] = run[half] if run.size % 2 else (run[half - 1] + run[half]) / 2
    return codes, medians


def _edge_codes(edges: np.ndarray, dose: np.ndarray) -> np.ndarray:
    """The interval (closed on the right, the lowest edge included) of every dose."""
    codes = np.searchsorted(edges, dose, side="left")
    codes[dose == edges[0]] = 1
    return codes - 1


def dose_trend(
    dose: np.ndarray,
    response: np.ndarray,
    covariates: np.ndarray,
    sites: np.ndarray | None,
    level: float,
) -> tuple[Effect | None, Effect | None, str | None]:
    """Slope and trend of `dose_response(dose=..., response=..., covariates=..., cluster=...)` on complete
    rows (the trend: linear contrast of the covariate-adjusted group means with the groups' median doses as
    scores), or why it cannot be estimated."""
    data = np.column_stack([dose, response, covariates])
    keep = np.isfinite(data).all(axis=1)
    data = data[keep]
    codes = None if sites is None else sites[keep]
    n = data.shape[0]
    if n < 3 + covariates.shape[1] or (_column_sd(data) == 0).any():
        return None, None, "too few rows, or a constant column"
    if codes is not None and _distinct(codes) < 3:
        return None, None, "fewer than three clusters"
    x, y = data[:, 0], data[:, 1]
    centred = data[:, 2:] - data[:, 2:].mean(axis=0)
    groups, scores = _dose_groups_and_scores(x)
    k, c = scores.size, centred.shape[1]
    indicators = (groups[:, None] == np.arange(k)[None, :]).astype(float)
    # One set of cross products for both models: [1, dose, covariates, group indicators, response].
    products = _CrossProducts.of(np.column_stack([np.ones(n), x, centred, indicators, y]), codes)
    response = [2 + c + k]
    linear = products.least_squares([0, 1, *range(2, 2 + c)], response)
    if linear is None:
        return None, None, "the dose-response design is not of full rank"
    method = "cluster_t" if codes is not None else "t"
    estimate, se, low, high, p = linear.wald({1: 1.0}, level)
    slope = Effect("slope", "slope", estimate, se, low, high, p, method, {"df": linear.df})
    if k < 2:
        return slope, None, "the dose groups collapse into one group"
    if np.ptp(scores) == 0:
        return slope, None, "every dose group has the same score"
    if n - (k + c) < 1:
        return slope, None, "too few rows for one mean per dose group"
    cells = products.least_squares([*range(2 + c, 2 + c + k), *range(2, 2 + c)], response)
    if cells is None:
        return slope, None, "the dose groups' design is not of full rank"
    centred_scores = scores - scores.mean()
    weights = dict(enumerate(centred_scores / np.sum(centred_scores**2)))
    estimate, se, low, high, p = cells.wald(weights, level)
    if not centred.shape[1] and codes is None and set(np.unique(y).tolist()) <= {0.0, 1.0}:
        from moclab.analysis.dose_response import _cochran_armitage

        p = _cochran_armitage(y, groups, scores)[1]  # `dose_response`'s test for a 0/1 response
    trend = Effect("trend", "trend", estimate, se, low, high, p, method, {"df": cells.df})
    return slope, trend, None


def support_received(
    draw: Any, plan: Any, context: CriteriaContext, mechanism_wave: str
) -> np.ndarray | None:
    """Support per recipient as the scorecard computes it from the activities log: the minutes logged up to
    the mechanism wave's date for the recipient (a log that names recipients, dose level "recipient"), or
    for the recipient's site divided by the site's recipients (site and team levels: the log names sites)."""
    contacts = draw.contacts
    if plan.dose is None or contacts is None:
        return None
    days = np.floor(contacts["time"] * DAYS_PER_MONTH)
    until = context.until_days.get(mechanism_wave)
    window = (
        days <= until if until is not None and context.settings.dose.window == "before_mechanism" else True
    )
    minutes = contacts["minutes"].astype(np.int64).astype(float)
    if plan.dose.level == "recipient":  # a contact's unit is the recipient
        return np.bincount(contacts["unit"][window], weights=minutes[window], minlength=draw.n)
    unit_site = np.zeros(int(draw.dose_unit_of.max()) + 1, dtype=np.int64)
    unit_site[draw.dose_unit_of] = draw.site_of
    site = unit_site[contacts["unit"]]
    totals = np.bincount(site[window], weights=minutes[window], minlength=draw.n_sites)
    sizes = np.bincount(draw.site_of, minlength=draw.n_sites)
    return totals[draw.site_of] / sizes[draw.site_of]


def strategy_start(draw: Any, context: CriteriaContext) -> tuple[float, datetime.date] | None:
    """The first logged activity, in months of the study, and its date (the scorecard's strategy start
    without ``evidence.strategy_start``); None without a support log."""
    contacts = draw.contacts
    if contacts is None or not contacts["time"].size:
        return None
    first = int(np.floor(contacts["time"].min() * DAYS_PER_MONTH))
    months = (first - context.origin_days) / DAYS_PER_MONTH + context.first_month
    return months, context.start_date + datetime.timedelta(days=first)


# ---------------------------------------------------------------------------------------------------------
# Consistency: per-site paths pooled by random-effects meta-analysis
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteEvidence:
    """What the consistency verdict reads besides the study's indirect effect: the per-site paths' prediction
    intervals for a new site (with their hypothesised signs), the per-site units, the variance ratio of site
    means by arm; or why the sites could not be compared (`failure`). With subgroups declared, `subgroups`
    holds the analyses the scorecard then turns to (run by the verdict, which has the replication's seed)."""

    path_predictions: dict[str, tuple[tuple[float, float], int]] | None = None
    units: tuple[Effect, ...] = ()
    heterogeneity: Effect | None = None
    failure: str | None = None
    subgroups: SubgroupAnalyses | None = None


def _per_site_ols(
    values: np.ndarray, labels: np.ndarray, response: int, predictors: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS of one column on others within every site (`cluster_slopes`' solver, on centred columns with an
    intercept): coefficients, classical SEs and the sites whose model cannot be estimated."""
    from moclab.analysis.meta import _per_cluster_ols

    codes, g = _site_codes(labels)
    z = np.column_stack([np.ones(values.shape[0]), values - values.mean(axis=0)])
    cross = _cluster_cross(z, codes, g)
    sizes = np.bincount(codes, minlength=g).astype(float)
    return _per_cluster_ols(z, codes, cross, sizes, response, predictors)


def _site_codes(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Site codes in order of first appearance, as `factorize_clusters` gives them for `cluster_slopes` and
    `arm_variance_ratio`: a running count when the sites come sorted (simulated recipients do), without
    pandas."""
    from moclab.analysis.bootstrap import factorize_clusters

    if _is_sorted(labels):
        codes, g = _codes(labels)
        return codes, g  # type: ignore[return-value]
    codes, site_labels = factorize_clusters(labels)
    return codes, site_labels.size


def _prediction(
    estimates: np.ndarray, ses: np.ndarray, knapp_hartung: bool, level: float
) -> tuple[float, float]:
    """The prediction interval for a new site of `meta_analysis(estimate, se, method="reml")`."""
    from scipy import special

    from moclab.analysis.meta import _pooled, _tau2_reml
    from moclab.errors import DataError

    if not (np.isfinite(estimates).all() and np.isfinite(ses).all()) or (ses <= 0).any():
        raise DataError("missing, infinite or non-positive per-site estimates or SEs")
    k = estimates.size
    v = ses**2
    tau2 = _tau2_reml(estimates, v)
    mu, weights = _pooled(estimates, v, tau2)
    total = weights.sum()
    se_mu = 1.0 / np.sqrt(total)
    if knapp_hartung:
        scaled = np.sqrt(float(weights @ (estimates - mu) ** 2) / ((k - 1) * total))
        se_mu = se_mu if scaled <= 1e-8 / np.sqrt(total) else scaled
    half = float(special.stdtrit(k - 2, 1 - (1 - level) / 2)) * np.sqrt(tau2 + se_mu**2)
    return (mu - half, mu + half)


def _shared_site_design(
    columns: list[tuple[tuple[str, ...], np.ndarray]], labels: np.ndarray, cache: dict[tuple[str, ...], Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What `_per_site_ols` builds for these named columns (centred, after an intercept, on their complete
    rows), with the site codes, per-site cross products and site sizes.

    The pathways of one outcome adjust for the same columns in different roles and orders (each one's
    mechanism is another's competitor), so the complete rows and per-site cross products are computed once
    per set of columns and replication, and each pathway reads them in its own column order."""
    names = sorted({name for name, _ in columns})
    key = ("site_design", *("/".join(name) for name in names))
    if key not in cache:
        arrays = dict(columns)
        values = np.column_stack([arrays[name] for name in names])
        keep = np.isfinite(values).all(axis=1)
        values = values[keep]
        codes, g = _site_codes(labels[keep])
        z = np.column_stack([np.ones(values.shape[0]), values - values.mean(axis=0)])
        sizes = np.bincount(codes, minlength=g).astype(float)
        cache[key] = (names, z, codes, _cluster_cross(z, codes, g), sizes)
    names, z, codes, cross, sizes = cache[key]
    order = [0, *(1 + names.index(name) for name, _ in columns)]
    return z[:, order], codes, cross[:, order][:, :, order], sizes


def _site_slopes(
    context: CriteriaContext,
    columns: list[tuple[tuple[str, ...], np.ndarray]],
    labels: np.ndarray,
    level: float,
    cache: dict[tuple[str, ...], Any],
) -> tuple[tuple[float, float] | None, tuple[Effect, ...], str | None]:
    """Per-site b paths (the outcome on the mechanism given the other columns) pooled into a prediction
    interval, as `ConsistencyAnalyses._site_slopes`; columns (named): mechanism, outcome, covariates."""
    from moclab.analysis.meta import _per_cluster_ols
    from moclab.errors import DataError

    z, codes, cross, sizes = _shared_site_design(columns, labels, cache)
    predictors = [0, 1, *range(3, len(columns) + 1)]
    coefficients, ses, singular = _per_cluster_ols(z, codes, cross, sizes, 2, predictors)
    k = int((~singular).sum())
    if k < 2:
        return None, (), f"per-site b paths could not be estimated: only {k} site(s)"
    if k < context.settings.thresholds.min_units:
        return None, (), f"per-site b paths could be estimated in {k} site(s) only"
    slopes, errors = coefficients[~singular, 1], ses[~singular, 1]
    try:
        bounds = _prediction(slopes, errors, _knapp_hartung(context, k), level)
    except DataError as error:
        return None, (), f"the meta-analysis of the per-site b paths failed: {error.message}"
    units = tuple(
        Effect(f"slope[{j}]", "study", e, s)
        for j, (e, s) in enumerate(zip(slopes.tolist(), errors.tolist(), strict=True))
    )
    return bounds, units, None


def _knapp_hartung(context: CriteriaContext, k: int) -> bool:
    setting = context.settings.knapp_hartung
    if setting == "auto":
        return k < context.settings.thresholds.knapp_hartung_below
    return bool(setting)


def _variance_ratio(
    x: np.ndarray, mechanism: np.ndarray, baseline: np.ndarray | None, labels: np.ndarray, level: float
) -> tuple[Effect | None, str | None]:
    """`arm_variance_ratio` of the mechanism's site means by arm, adjusted for its baseline."""
    from scipy import special

    columns = [x, mechanism, *([baseline] if baseline is not None else [])]
    values = np.column_stack(columns)
    keep = np.isfinite(values).all(axis=1)
    values, labels = values[keep], labels[keep]
    response = values[:, 1]
    if baseline is not None:
        design = np.column_stack([np.ones(values.shape[0]), values[:, 2]])
        if np.linalg.matrix_rank(design) < 2:
            return None, "the covariate adjustment is not of full rank"
        coef, *_ = np.linalg.lstsq(design, response, rcond=None)
        response = response - design @ coef
    codes, g = _site_codes(labels)
    sizes = np.bincount(codes, minlength=g)
    means = np.bincount(codes, weights=response, minlength=g) / sizes
    arm = np.zeros(g)
    arm[codes] = values[:, 0]
    groups = [means[arm == 1.0], means[arm == 0.0]]
    if min(group.size for group in groups) < 2:
        return None, "each arm needs at least two sites"
    var_strategy, var_control = (float(np.var(group, ddof=1)) for group in groups)
    if var_control <= 0:
        return None, "the control arm's site means do not vary"
    ratio = var_strategy / var_control
    df = (groups[0].size - 1, groups[1].size - 1)
    # scipy.stats.f's sf and ppf are these functions; called directly, without its argument checks.
    p = float(special.fdtrc(*df, ratio))
    alpha = 1 - level
    low, high = ratio / special.fdtri(*df, 1 - alpha / 2), ratio / special.fdtri(*df, alpha / 2)
    return Effect("ratio", "variance_ratio", ratio, None, float(low), float(high), p, "F"), None


def _consistency(
    draw: Any,
    plan: Any,
    target: PowerTarget,
    context: CriteriaContext,
    scorecard_plan: Any,
    x: np.ndarray,
    sites: np.ndarray | None,
    level: float,
    cache: dict[tuple[str, ...], Any],
) -> SiteEvidence:
    """`ConsistencyAnalyses.consistency`: across sites (`_across_sites`) and, for the pathways with subgroups,
    the subgroup analyses the scorecard turns to when the sites cannot be compared or the study's indirect
    effect cannot be estimated (`SubgroupAnalyses`; the verdict runs them only then)."""
    found = _across_sites(draw, plan, target, context, scorecard_plan, x, sites, level, cache)
    if not scorecard_plan.subgroups:
        return found
    share = cache.setdefault(("subgroups",), SubgroupShare())
    subgroups = SubgroupAnalyses(plan, draw, target, x, context, tuple(scorecard_plan.subgroups), share)
    if found.failure is not None:  # the verdict turns to the subgroups whatever the mediation model gives
        share.members.append(subgroups)
    return dataclasses.replace(found, subgroups=subgroups)


def _across_sites(
    draw: Any,
    plan: Any,
    target: PowerTarget,
    context: CriteriaContext,
    scorecard_plan: Any,
    x: np.ndarray,
    sites: np.ndarray | None,
    level: float,
    cache: dict[tuple[str, ...], Any],
) -> SiteEvidence:
    """Consistency over sites: per-site a and b paths when the strategy varies within sites, per-site b paths
    and the variance ratio of site means when it is assigned per site; or why the sites cannot be compared."""
    if sites is None:
        return SiteEvidence(failure="the recipients are not nested in sites")
    if declared_units(plan, draw, target) is not None:  # unit means: subgroups, not sites
        return SiteEvidence(failure="the mechanism is analysed as unit means")
    settings = context.settings
    scores = draw.scores
    wave, base = target.mechanism_wave, target.baseline_wave
    mechanism = scores[target.mechanism_measure][:, wave]
    outcome = scores[target.outcome_measure][:, target.outcome_wave]

    def baselines(*measures: str) -> list[np.ndarray]:
        return [] if base is None else [scores[name][:, base] for name in measures]

    def named(measures: Sequence[str], at: int | None) -> list[tuple[tuple[str, ...], np.ndarray]]:
        return [] if at is None else [((name, str(at)), scores[name][:, at]) for name in measures]

    key = ("varying", target.strategy)
    if key not in cache:
        cache[key] = _sites_varying(x, sites)
    varying = cache[key]
    sign_b = scorecard_plan.sign_between(scorecard_plan.mechanisms[0], scorecard_plan.outcome)
    b_columns = [
        *named([target.mechanism_measure], wave),
        *named([target.outcome_measure], target.outcome_wave),
        *named(target.alternative_measures, wave),
        *named([target.mechanism_measure, *target.alternative_measures, target.outcome_measure], base),
    ]
    if varying >= settings.thresholds.min_units:
        a_bounds, failure = _site_a_paths(context, x, mechanism, outcome, target, baselines, sites, level)
        if failure is not None:
            return SiteEvidence(failure=failure)
        strategy = (("strategy", target.strategy), x)
        b_bounds, units, failure = _site_slopes(
            context, [*b_columns[:2], strategy, *b_columns[2:]], sites, level, cache
        )
        if failure is not None:
            return SiteEvidence(failure=failure)
        sign_a = scorecard_plan.sign_between(scorecard_plan.strategy, scorecard_plan.mechanisms[0])
        return SiteEvidence({"a": (a_bounds, sign_a), "b": (b_bounds, sign_b)}, units)
    if varying == 0 and target.x_kind == "arm":
        b_bounds, units, failure = _site_slopes(context, b_columns, sites, level, cache)
        if failure is not None:
            return SiteEvidence(failure=failure)
        baseline = baselines(target.mechanism_measure)
        key = ("variance_ratio", target.strategy, target.mechanism_measure, str(wave))
        if key not in cache:  # the same for every pathway of this mechanism
            cache[key] = _variance_ratio(x, mechanism, baseline[0] if baseline else None, sites, level)
        ratio, failure = cache[key]
        if ratio is None:
            return SiteEvidence(failure=f"the spread of site means by arm could not be compared: {failure}")
        return SiteEvidence({"b": (b_bounds, sign_b)}, units, ratio)
    return SiteEvidence(
        failure=f"the strategy varies within {varying} site(s) only, too few to compare sites"
    )


def _site_a_paths(
    context: CriteriaContext,
    x: np.ndarray,
    mechanism: np.ndarray,
    outcome: np.ndarray,
    target: PowerTarget,
    baselines: Any,
    sites: np.ndarray,
    level: float,
) -> tuple[tuple[float, float] | None, str | None]:
    """Per-site a paths of `cluster_indirect_effects` (the mechanism on the strategy given the baselines, in
    sites where both the a and b models can be estimated) pooled into a prediction interval."""
    from moclab.errors import DataError

    columns = [x, mechanism, outcome, *baselines(target.mechanism_measure, target.outcome_measure)]
    values = np.column_stack(columns)
    keep = np.isfinite(values).all(axis=1)
    values, labels = values[keep], sites[keep]
    covariates = list(range(4, values.shape[1] + 1))
    coef_m, se_m, bad_m = _per_site_ols(values, labels, 2, [0, 1, *covariates])
    _, _, bad_y = _per_site_ols(values, labels, 3, [0, 1, 2, *covariates])
    usable = ~(bad_m | bad_y)
    k = int(usable.sum())
    if k < 2:
        return None, f"per-site paths could not be estimated: only {k} site(s)"
    if k < context.settings.thresholds.min_units:
        return None, f"per-site models could be estimated in {k} site(s) only"
    try:
        return _prediction(coef_m[usable, 1], se_m[usable, 1], _knapp_hartung(context, k), level), None
    except DataError as error:
        return None, f"the meta-analysis of the per-site a paths failed: {error.message}"


# ---------------------------------------------------------------------------------------------------------
# Consistency: subgroup mediation models pooled by random-effects meta-analysis
# ---------------------------------------------------------------------------------------------------------


#: The interval methods whose subgroup SEs are reproduced without calling `mediate`: the SD of its Monte
#: Carlo draws or bootstrap resamples (the same random streams for the same seed), or the delta-method SE.
BATCHED_INTERVALS = ("monte_carlo", "percentile", "delta")


@dataclass(frozen=True)
class SubgroupAnalyses:
    """The scorecard's consistency analyses across subgroups (`ConsistencyAnalyses._across_subgroups`) of one
    pathway in one draw, run when the verdict turns to them.

    Each subgroup's model is the one `mediate` fits, with the interval method, resamples and seed `moclab
    analyze` passes it: the subgroups' Monte Carlo draws or bootstrap resamples are then the scorecard's, so
    their standard errors (the SD of those draws) and the meta-analysis built on them are too. Those are the
    replication's analysis seed and the power analysis's options, which the verdict is given
    (`moclab.design.criteria.fast_statuses`), hence the analyses wait for it (`pooled`).

    Calling `mediate` per subgroup cost most of a replication's fast criteria (it computes every effect,
    interval and standardized effect it reports); the verdict needs each subgroup's indirect effect and SE
    only. The subgroups are checked by `mediate`'s own checks of the data (`_mediate_refuses`): a subgroup
    `mediate` refuses is left out, as the scorecard leaves it out. The others are fitted together, with the
    subgroups of the replication's other pathways that go to the same column (`SubgroupShare`): the
    percentile bootstrap and the delta method by `analyse_batch` (its resamples are `mediate`'s), the Monte
    Carlo draws from `mediate`'s own fit (`_monte_carlo_effects`). Where `analyse_batch` cannot reproduce
    `mediate` (its screen for collinear columns flags a model `mediate`'s checks accept, or another interval
    method), that subgroup is `mediate`'s.
    """

    plan: Any  # SimulationPlan
    draw: Any  # the draw, its mechanism at its declared level (`at_declared_level`)
    target: PowerTarget
    x: np.ndarray
    context: CriteriaContext
    #: The scorecard's subgroup columns (recipients columns), in its order.
    columns: tuple[str, ...]
    #: What the subgroup analyses of the replication's pathways share (None: nothing is shared).
    share: SubgroupShare | None = dataclasses.field(default=None, compare=False, repr=False)

    def pooled(self, *, ci: str, n_boot: int, seed: int, level: float) -> dict[str, Any]:
        """The first subgroup column whose subgroups give two or more indirect effects, pooled.

        Parameters
        ----------
        ci : {"monte_carlo", "percentile", "delta"}
            The interval method of the analysis (`mediate`'s ``ci``; Monte Carlo with `mediate`'s own
            number of draws, as the scorecard leaves it).
        n_boot : int
            Bootstrap resamples (read with ``ci="percentile"``).
        seed : int
            The replication's analysis seed (the scorecard's seed).
        level : float
            Confidence level.

        Returns
        -------
        dict
            As the scorecard's: ``pooled`` (the meta-analysis's pooled indirect effect), ``units`` (each
            subgroup's), ``prediction`` (for a new subgroup) and ``unit_name``; or ``failure``, why no
            column could be analysed, in the scorecard's words.
        """
        from moclab.analysis import meta_analysis
        from moclab.errors import MoclabError
        from moclab.evidence.analysis_base import failure_text

        failures = []
        for column in self.columns:
            values, effects = self._subgroup_effects(column, ci, n_boot, seed, level)
            estimates, ses, names = [], [], []
            for value, effect in zip(values, effects, strict=True):
                if effect is None or not effect[1] > 0:
                    continue
                estimates.append(effect[0])
                ses.append(effect[1])
                names.append(f"{column} = {value}")
            if len(estimates) < 2:
                failures.append(f"fewer than two subgroups of '{column}' could be analysed")
                continue
            try:
                meta = meta_analysis(
                    estimate=estimates,
                    se=ses,
                    label=names,
                    knapp_hartung=_knapp_hartung(self.context, len(estimates)),
                    level=level,
                    effect_label=f"indirect effect by {column}",
                )
            except MoclabError as error:
                failures.append(f"the meta-analysis across '{column}' failed: {failure_text(error)}")
                continue
            return {
                "pooled": meta.effect("pooled"),
                "units": [effect for effect in meta.effects if effect.kind == "study"],
                "prediction": tuple(meta.prediction),
                "unit_name": f"subgroups of {column}",
            }
        return {"failure": "; ".join(failures) or "no subgroup could be analysed"}

    def _subgroup_effects(
        self,
        column: str,
        ci: str,
        n_boot: int,
        seed: int,
        level: float,
        normals: NormalStreams | None = None,
    ) -> tuple[list[str], list[tuple[float, float] | None]]:
        """The qualifying subgroups of a column, in the scorecard's order, and their indirect effects.

        The pathways of a replication whose consistency goes to the same subgroups (`SubgroupShare`) are
        fitted together on the first one's call: one reading of the subgroup column, one batch, and one set
        of Monte Carlo normals (drawing them is most of a subgroup model's cost, and the same seed and
        number of parameters give the same normals; ``normals`` may hold them already). The others' effects
        wait in the share for their call.
        """
        from moclab.simulate.tables import recipient_columns

        key = (column, ci, n_boot, seed, level)
        share = self.share
        if share is not None and self._share_key(*key) in share.effects:
            return share.effects.pop(self._share_key(*key))
        members = [self]
        if share is not None:
            members += [
                other
                for other in share.members
                if other is not self
                and other.columns[:1] == (column,)
                and other._share_key(*key) not in share.effects
            ]
        # The moderators are the same in every pathway's draw (`at_declared_level` changes the mechanism).
        values = recipient_columns(self.plan, self.draw)[column]()
        labels = pd.Series(values).astype("string")  # as `pathway_data` writes the subgroup column
        requests: list[tuple[SubgroupAnalyses, np.ndarray]] = []
        spans = []
        for member in members:
            values = member._qualifying(labels)
            spans.append((member, values, len(requests)))
            requests += [(member, (labels == value).to_numpy(dtype=bool, na_value=False)) for value in values]
        effects = _indirect_effects(requests, ci, n_boot, seed, level, normals)
        for member, values, start in spans[1:]:
            assert share is not None
            share.effects[member._share_key(*key)] = (values, effects[start : start + len(values)])
        return spans[0][1], effects[: len(spans[0][1])]

    def _share_key(self, column: str, ci: str, n_boot: int, seed: int, level: float) -> tuple[Any, ...]:
        """The key of this pathway's subgroup effects in its `SubgroupShare`."""
        return (self.target.id, column, ci, n_boot, seed, level)

    def _qualifying(self, labels: Any) -> list[str]:
        """The subgroups with at least ``min_subgroup_size`` recipients who have the strategy, mechanism and
        outcome, in the scorecard's order (`value_counts`: the largest first)."""
        target, scores = self.target, self.draw.scores
        complete = (
            np.isfinite(self.x)
            & np.isfinite(scores[target.mechanism_measure][:, target.mechanism_wave])
            & np.isfinite(scores[target.outcome_measure][:, target.outcome_wave])
        )
        minimum = self.context.settings.thresholds.min_subgroup_size
        counts = labels[complete].value_counts()
        return [str(value) for value, count in counts.items() if count >= minimum]

    def indirect_effects(
        self, subsets: Sequence[np.ndarray], ci: str, n_boot: int, seed: int, level: float
    ) -> list[tuple[float, float] | None]:
        """The mechanism's indirect effect and its SE in the pathway's mediation model on each subset of
        recipients (boolean masks over the draw's recipients), as ``mediate(..., ci=ci, seed=seed)`` reports
        them; None where `mediate` refuses the subset's complete rows (the scorecard leaves it out)."""
        return _indirect_effects([(self, rows) for rows in subsets], ci, n_boot, seed, level)

    def _model_matrix(self) -> np.ndarray:
        """The pathway's mediation model over all recipients (`model_matrix`, with the competing mechanisms:
        the model strong association reads)."""
        return model_matrix(self.draw, self.target, alternatives=True)[0]

    def _complete_rows(self, z: np.ndarray, sites: np.ndarray | None, rows: np.ndarray) -> ReplicationData:
        """The subset's rows of `_model_matrix` as `mediate` analyses them (`complete_cases`)."""
        k = 1 + len(self.target.alternative_measures)
        return complete_cases(z[rows], None if sites is None else sites[rows], z.shape[1] - 3 - k, k)

    def _mediate(
        self, rows: np.ndarray, ci: str, n_boot: int, seed: int, level: float
    ) -> tuple[float, float] | None:
        """The indirect effect and its SE from `mediate` itself on these recipients (it drops the incomplete
        ones), as the scorecard fits the subgroup; None when `mediate` refuses the data."""
        from moclab.analysis import mediate
        from moclab.errors import MoclabError

        z = self._model_matrix()
        k = 1 + len(self.target.alternative_measures)
        c = z.shape[1] - 3 - k
        m = {f"m{j}": z[:, 2 + c + j] for j in range(k)}
        covariates = {f"c{j}": z[:, 2 + j] for j in range(c)}
        frame = {"x": z[:, 1], **m, **covariates, "y": z[:, -1]}
        options: dict[str, Any] = {}
        if self.target.clustered:
            frame["site"] = self.draw.site_of
            options["cluster"] = "site"
        try:
            result = mediate(
                {name: values[rows] for name, values in frame.items()},
                x="x",
                m=list(m),
                y="y",
                covariates=list(covariates),
                model="parallel",
                ci=ci,  # type: ignore[arg-type]
                n_boot=n_boot,
                level=level,
                seed=seed,
                x_type="dose" if self.target.x_kind == "continuous" else "arm",
                **options,
            )
        except MoclabError:  # the scorecard leaves the subgroup out (and says why in a note)
            return None
        effect = result.effect("indirect[m0]")
        return None if effect.se is None else (effect.estimate, effect.se)


@dataclass
class SubgroupShare:
    """The subgroup analyses of the pathways of one replication whose consistency goes to the subgroups
    whatever their mediation model gives (their sites cannot be compared), and the effects fitted for them
    ahead of their call (`SubgroupAnalyses._subgroup_effects`; each taken out when read)."""

    members: list[SubgroupAnalyses] = dataclasses.field(default_factory=list)
    effects: dict[tuple[Any, ...], Any] = dataclasses.field(default_factory=dict)

    def fit_ahead(self, *, ci: str, n_boot: int, seed: int, level: float, normals: NormalStreams) -> None:
        """Fit the members' first subgroup column now, with the Monte Carlo normals the replication's
        mediation models drew (`moclab.design.power` calls it while it holds them; the verdicts read the
        effects later, with the same options, from `effects`)."""
        for member in self.members:
            options = (member.columns[0], ci, n_boot, seed, level)
            if member._share_key(*options) not in self.effects:
                self.effects[member._share_key(*options)] = member._subgroup_effects(*options, normals)


def fit_subgroups_ahead(
    evidence: dict[str, ReplicationEvidence], *, ci: str, n_boot: int, seed: int, level: float, normals: Any
) -> None:
    """`SubgroupShare.fit_ahead` for the replication of `evidence` (its pathways share one)."""
    for found in evidence.values():
        subgroups = found.sites.subgroups
        if subgroups is not None and subgroups.share is not None:
            subgroups.share.fit_ahead(ci=ci, n_boot=n_boot, seed=seed, level=level, normals=normals)
            return


def _indirect_effects(
    requests: Sequence[tuple[SubgroupAnalyses, np.ndarray]],
    ci: str,
    n_boot: int,
    seed: int,
    level: float,
    normals: NormalStreams | None = None,
) -> list[tuple[float, float] | None]:
    """`SubgroupAnalyses.indirect_effects` of (analyses, subset) pairs, possibly of several pathways: the
    subsets `mediate` accepts are fitted in batches of models with the same columns."""
    from moclab.design.engine import analyse_batch

    found: list[tuple[float, float] | None] = [None] * len(requests)
    matrices: dict[int, np.ndarray] = {}
    batches: dict[tuple[int, int], list[tuple[int, ReplicationData]]] = {}
    for position, (analyses, rows) in enumerate(requests):
        if ci not in BATCHED_INTERVALS:
            found[position] = analyses._mediate(rows, ci, n_boot, seed, level)
            continue
        if id(analyses) not in matrices:
            matrices[id(analyses)] = analyses._model_matrix()
        sites = analyses.draw.site_of if analyses.target.clustered else None
        item = analyses._complete_rows(matrices[id(analyses)], sites, rows)
        if not _mediate_refuses(item, arm=analyses.target.x_kind != "continuous"):
            batches.setdefault((item.n_covariates, item.n_mediators), []).append((position, item))
    for entries in batches.values():
        positions = [position for position, _ in entries]
        batched = [item for _, item in entries]
        if ci == "monte_carlo":
            effects = _monte_carlo_effects(batched, seed, _mediate_default("n_mc"), normals)
            for position, effect in zip(positions, effects, strict=True):
                found[position] = effect
            continue
        methods = [ci] if ci != "delta" else []
        fit = analyse_batch(batched, [seed] * len(batched), methods=methods, level=level, n_boot=n_boot)
        indirect = fit.indirect[0]
        se = indirect["se" if ci == "delta" else f"{ci}_sd"]
        for row, position in enumerate(positions):
            analyses, rows = requests[position]
            if fit.failed[row]:  # its screen for collinear columns is not `mediate`'s: mediate decides
                found[position] = analyses._mediate(rows, ci, n_boot, seed, level)
            elif np.isfinite(se[row]):  # NaN: too few usable bootstrap resamples, which `mediate` refuses
                found[position] = (float(indirect["estimate"][row]), float(se[row]))
    return found


def _mediate_refuses(item: ReplicationData, *, arm: bool) -> bool:
    """Whether `mediate` raises a `DataError` for these complete rows of a subgroup, by its own checks of the
    data (`moclab.analysis.mediation._prepare`, ``_check_design`` and ``_clustering``): no row, an infinite
    value, a binary strategy without both arms, a constant column, fewer rows than coefficients plus two,
    a predictor of the outcome model that is (nearly) a combination of the others, fewer than two sites.
    The too-few usable bootstrap resamples `mediate` also refuses are seen in `analyse_batch`'s result."""
    from moclab.analysis import _columns
    from moclab.errors import DataError

    z = item.z
    if item.n == 0 or not np.isfinite(z).all():
        return True
    if arm and np.unique(z[:, 1]).size != 2:
        return True
    unnamed = [""] * z.shape[1]
    try:
        for column in range(1, z.shape[1]):
            _columns.check_not_constant(z[:, column], "", "")
        _columns.check_enough_rows(item.n, 2 + item.n_covariates + item.n_mediators)
        _columns.check_full_rank(z[:, :-1], unnamed, "outcome")
    except DataError:
        return True
    return item.codes is not None and item.n_clusters < 2


def _monte_carlo_effects(
    batched: Sequence[ReplicationData], seed: int, n_mc: int, normals: NormalStreams | None = None
) -> list[tuple[float, float]]:
    """The indirect effect of mediator 0 and the SD of its Monte Carlo draws in each subgroup, as
    ``mediate(..., ci="monte_carlo", seed=seed)`` draws them.

    Why not `analyse_batch`: the CR1 covariance of a subgroup's model has fewer sites than parameters, so
    it is singular, and the square roots of its zero eigenvalues are rounding noise (about 1e-9 of the
    draws' scale) that differs between two ways of computing the same covariance; `analyse_batch` solves
    from cross products, `mediate` by QR, and their SDs differ in the ninth digit. Here the coefficients and
    covariance are `mediate`'s own (`moclab.analysis.mediation._fit_equations`, which reads only the
    equations of the structure it is given), so the draws are `mediate`'s to rounding; only the a and b
    paths are drawn, and the standard normals, the same for every subgroup (same seed, as many
    parameters), once.
    """
    from moclab.analysis.mediation import _fit_equations, _Structure
    from moclab.design.engine import _equations

    c, k = batched[0].n_covariates, batched[0].n_mediators
    equations = _equations(c, k)
    structure = _Structure(
        [], [("", response, predictors) for response, predictors in equations], [], {}, {}, [], []
    )
    offsets = np.cumsum([0] + [len(predictors) for _, predictors in equations])
    a_index, b_index = int(offsets[0] + 1), int(offsets[k] + 2 + c)
    normal = (normals if normals is not None else NormalStreams()).rows(seed, n_mc, int(offsets[-1]))
    needed = [a_index, b_index]
    centres, rows = [], []
    for item in batched:
        theta, covariance, _ = _fit_equations(item.z, structure, item.codes, item.codes is not None)
        centres.append(theta[needed])
        rows.append(covariance_root(covariance)[needed])  # `monte_carlo_draws`: theta + normal @ root'
    # Every subgroup's a and b draws from one product with the shared normals: (n_mc, 2 per subgroup).
    draws = np.concatenate(centres) + normal @ np.concatenate(rows).T
    products = draws[:, 0::2] * draws[:, 1::2]
    estimates = [float(centre[0] * centre[1]) for centre in centres]
    spreads = np.nanstd(products, axis=0, ddof=1)
    return [(estimate, float(sd)) for estimate, sd in zip(estimates, spreads, strict=True)]


@functools.cache
def _mediate_default(name: str) -> Any:
    """A default of `mediate` (its Monte Carlo draws), which the scorecard's subgroup models keep."""
    import inspect

    from moclab.analysis import mediate

    return inspect.signature(mediate).parameters[name].default


# ---------------------------------------------------------------------------------------------------------
# One replication
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ReplicationEvidence:
    """What the consistency, timeline, gradient and plausibility verdicts of one pathway read in one
    replication (the mediation model's numbers come from `moclab.design.engine`)."""

    facts: Any
    panel: PanelEffects
    gradient: dict[str, Any]
    qualitative: Any
    sites: SiteEvidence


def interviews_matter(own: TargetContext, context: CriteriaContext) -> bool:
    """Whether the coded interviews can change the plausibility status of this pathway.

    `judge_plausibility` reads the interviews' status in two places only: "contradicts" makes the verdict
    not met, and "supports" stands in for a missing link-specific source. Without contradiction codes
    (``qualitative.contradictions``) the status is never "contradicts", so when every link has a source
    the status of the verdict is the same whatever the interviews say, and reading them (most of the fast
    criteria's cost) is skipped; the verdict's text then omits them, its status does not change.
    """
    if context.qualitative is None:
        return False
    contradictions = bool(getattr(context.qualitative, "contradictions", None))
    return contradictions or not own.links or any(not link.sources for link in own.links)


def interview_support(plan: Any, draw: Any, context: CriteriaContext) -> Any:
    """The scorecard's reading of the coded interviews the simulated study carries (None without any):
    called with a pathway plan, it gives that pathway's `QualitativeEvidence`."""
    if context.qualitative is None:
        return None
    from moclab.evidence.qualitative import qualitative_support_from_project
    from moclab.simulate.generate import child_seed
    from moclab.simulate.interviews import simulate_interviews

    spec = plan.spec
    if not spec.simulated_interviews:
        return context.fixed_support
    # The interviews of this draw: the stream `SimulatedStudy.interviews` uses, the effects of the truth.
    project = simulate_interviews(
        plan.model, context.truth, child_seed(draw.details_seed, 2), interviews=spec.interviews
    )
    support = qualitative_support_from_project(project, context.model, context.qualitative)
    return _without_quotes(support)


def _without_quotes(support: Any) -> Any:
    """The same reading of the interviews, without picking quotes: the verdict reads the status (supports,
    contradicts, none), never the quotes, which are most of the reading's cost."""
    fields = {field.name: getattr(support, field.name) for field in dataclasses.fields(support)}
    return _status_only_support()(**fields)


@functools.cache
def _status_only_support() -> type:
    """`CodedInterviewSupport` that picks no quote (imported on first use, as the evidence layer is)."""
    from moclab.evidence.qualitative import CodedInterviewSupport

    class StatusOnlySupport(CodedInterviewSupport):
        def _quote(self, *args: Any) -> None:
            return None

    return StatusOnlySupport


def replication_evidence(
    plan: Any,
    draw: Any,
    targets: Sequence[PowerTarget],
    context: CriteriaContext,
    level: float,
    levels: dict[str, Any] | None = None,
) -> dict[str, ReplicationEvidence]:
    """Per pathway, the numbers its consistency, timeline, gradient and plausibility verdicts read in this
    draw (analyses shared by the pathways of one mechanism are run once). ``levels``: the draw's cache of
    `at_declared_level`, shared with its mediation models."""
    from moclab.evidence.verdicts import NO_QUALITATIVE_EVIDENCE

    needed = [t for t in targets if interviews_matter(context.targets[t.id], context)]
    support = interview_support(plan, draw, context) if needed else None
    start = strategy_start(draw, context)
    cache: dict[tuple[str, ...], Any] = {}  # analyses shared by the pathways of one mechanism
    out: dict[str, ReplicationEvidence] = {}
    original = draw
    for target in targets:
        # the mechanism as `moclab analyze` reads it: its unit means where the model declares it above the
        # recipient (the cache keys name the mechanism, so its pathways share the cut draw's analyses)
        draw = at_declared_level(plan, original, target, {} if levels is None else levels)
        own = context.targets[target.id]
        scorecard_plan = own.plan
        sites = draw.site_of if target.clustered else None
        x = strategy_values(draw, target)
        facts = own.facts
        if start is not None and str(facts.start_source).startswith("first logged activity"):
            facts = dataclasses.replace(
                facts, strategy_start=start[0], start_source=f"first logged activity, {start[1].isoformat()}"
            )
        panel = _panel(draw, target, x, _strategy_levels(x, target, cache), sites, level)
        out[target.id] = ReplicationEvidence(
            facts=facts,
            panel=panel,
            gradient=_gradient(draw, plan, target, context, scorecard_plan, x, sites, level, cache),
            qualitative=support(scorecard_plan)
            if support is not None and target in needed
            else NO_QUALITATIVE_EVIDENCE,
            sites=_consistency(draw, plan, target, context, scorecard_plan, x, sites, level, cache),
        )
    return out


def _strategy_levels(x: np.ndarray, target: PowerTarget, cache: dict[tuple[str, ...], Any]) -> int:
    """The number of distinct strategy values, counted once per strategy and replication."""
    key = ("strategy_levels", target.strategy, target.x_kind)
    if key not in cache:
        cache[key] = _distinct(x[np.isfinite(x)])
    return cache[key]


def _gradient(
    draw: Any,
    plan: Any,
    target: PowerTarget,
    context: CriteriaContext,
    scorecard_plan: Any,
    x: np.ndarray,
    sites: np.ndarray | None,
    level: float,
    cache: dict[tuple[str, ...], Any],
) -> dict[str, Any]:
    """The slopes and trends `PanelAnalyses.gradient` finds: support → mechanism, mechanism → outcome."""
    scores = draw.scores
    mechanism = scores[target.mechanism_measure][:, target.mechanism_wave]
    baseline = target.baseline_wave
    found: dict[str, Any] = {}
    key = ("dose", target.strategy, target.mechanism_measure, str(target.mechanism_wave))
    if key not in cache:
        cache[key] = _dose_mechanism(draw, plan, target, context, scorecard_plan, x, sites, level)
    slope, trend, failure = cache[key]
    if trend is None:
        found["dose_failure"] = failure
    else:
        found["dose_slope"], found["dose_trend"] = slope, trend
    competitors = [scores[name][:, target.mechanism_wave] for name in target.alternative_measures]
    baselines = []
    if baseline is not None:
        names = [target.mechanism_measure, *target.alternative_measures, target.outcome_measure]
        baselines = [scores[name][:, baseline] for name in names]
    covariates = [*([x] if _strategy_levels(x, target, cache) >= 2 else []), *competitors, *baselines]
    key = ("sites", str(target.clustered))
    if key not in cache:
        cache[key] = None if sites is None else _distinct(sites)
    use_sites = sites if sites is not None and cache[key] >= 3 else None
    outcome = scores[target.outcome_measure][:, target.outcome_wave]
    slope, trend, failure = dose_trend(
        mechanism,
        outcome,
        np.column_stack(covariates) if covariates else np.empty((x.size, 0)),
        use_sites,
        level,
    )
    if trend is None:
        found["mechanism_failure"] = failure
    else:
        found["mechanism_slope"], found["mechanism_trend"] = slope, trend
    return found


def _dose_mechanism(
    draw: Any,
    plan: Any,
    target: PowerTarget,
    context: CriteriaContext,
    scorecard_plan: Any,
    x: np.ndarray,
    sites: np.ndarray | None,
    level: float,
) -> tuple[Any, Any, str | None]:
    settings = context.settings
    dose = support_received(draw, plan, context, scorecard_plan.mechanism_wave)
    if dose is None:
        return None, None, "the study has no activities table (support log)"
    scores = draw.scores
    mechanism = scores[target.mechanism_measure][:, target.mechanism_wave]
    rows = np.ones(x.size, dtype=bool)
    if settings.dose.within_arm and target.x_kind == "arm":
        rows = x == 1
    measured = rows & np.isfinite(dose) & np.isfinite(mechanism)
    levels = int(np.unique(dose[measured]).size)
    if levels < settings.thresholds.min_dose_levels:
        return (
            None,
            None,
            f"the support received takes {levels} distinct value(s) among the analysed recipients",
        )
    covariates = (
        scores[target.mechanism_measure][rows, target.baseline_wave][:, None]
        if target.baseline_wave is not None
        else np.empty((int(rows.sum()), 0))
    )
    row_sites = None
    if sites is not None and _distinct(sites[rows]) >= 3:
        row_sites = sites[rows]
    return dose_trend(dose[rows], mechanism[rows], covariates, row_sites, level)
