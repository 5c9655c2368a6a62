"""Monte Carlo power of a pathway model under a design: simulate, analyse as the real analysis would, count.

`power_analysis` takes a pathway model and a simulation spec (`moclab.simulate`), a grid of designs (numbers
of sites, recipients per site, waves) and a number of replications. For every design and replication it
draws one data set with `moclab.simulate`, analyses every pathway with the mediation model and tests of
`moclab.analysis.mediate` (`moclab.design.engine`), and judges the criteria the analyses decide
(`moclab.design.criteria`). Power is the share of replications in which a test rejects (or a criterion is
met), with its Monte Carlo standard error ``sqrt(p(1 - p) / R)``.

Seeding: replication r of the design (sites S, recipients per site N, waves W) draws its data from
``SeedSequence(seed, spawn_key=(S, N, W, r, 0))`` and its Monte Carlo draws and resamples from a seed made
by ``SeedSequence(seed, spawn_key=(S, N, W, r, 1))``. Results therefore do not depend on how the
replications are chunked, on the number of workers or on the scheduler, and a design gives the same
replications whatever grid it is part of.

References
----------
Muthén, L. K., & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on sample size and
determine power. *Structural Equation Modeling*, 9(4), 599-620.
Schoemann, A. M., Boulton, A. J., & Short, S. D. (2017). Determining power and sample size for simple and
complex mediation models. *Social Psychological and Personality Science*, 8(4), 379-386.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moclab.design.criteria import (
    CRITERION_IDS,
    MEDIATION_CRITERIA,
    NOT_JUDGED_REASON,
    STATUSES,
    fast_statuses,
    full_statuses,
)
from moclab.design.criteria_analyses import fit_subgroups_ahead
from moclab.design.engine import METHODS, BatchResult, NormalStreams, analyse_batch
from moclab.design.parallel import run_tasks
from moclab.design.results import PowerResult, quantity_label
from moclab.design.scenario import PowerTarget, at_declared_level, power_targets, replication_arrays
from moclab.errors import MoclabError
from moclab.model import PathwayModel
from moclab.simulate import SimulationPlan, SimulationSpec, compile_simulation
from moclab.simulate.spec import SizeSpec, WaveSeries, coerce_spec

__all__ = ["DesignPoint", "PowerOptions", "design_grid", "power_analysis", "spec_for"]

#: Method names accepted for the headline test, with their short forms (`moclab power --method`).
METHOD_ALIASES = {
    "mc": "monte_carlo",
    "monte_carlo": "monte_carlo",
    "boot": "percentile",
    "bootstrap": "percentile",
    "percentile": "percentile",
    "joint": "joint",
    "sobel": "sobel",
}


@dataclass(frozen=True, order=True)
class DesignPoint:
    """One design of the grid: sites, recipients per site and waves (None keeps the spec's own)."""

    sites: int
    per_site: int | None = None
    waves: int | None = None

    @property
    def key(self) -> tuple[int, int, int]:
        """The part of every replication's seed that names this design."""
        return (int(self.sites), int(self.per_site or 0), int(self.waves or 0))

    def to_dict(self) -> dict[str, int | None]:
        return {"sites": self.sites, "per_site": self.per_site, "waves": self.waves}


@dataclass(frozen=True)
class PowerOptions:
    """How each replication is analysed (see `power_analysis`)."""

    methods: tuple[str, ...] = ("joint", "sobel", "monte_carlo")
    interval_method: str = "monte_carlo"
    level: float = 0.95
    n_mc: int = 10_000
    n_boot: int = 1000
    criteria: str = "fast"


def _as_list(value: int | Sequence[int] | None, name: str) -> list[int | None]:
    if value is None:
        return [None]
    values = [value] if isinstance(value, int | np.integer) else list(value)
    if not values:
        raise MoclabError(f"{name}: give at least one value")
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int | np.integer) or item < 1:
            raise MoclabError(f"{name}: {item!r} is not a whole number of at least 1")
    return [int(v) for v in sorted(set(values))]


def design_grid(
    sites: int | Sequence[int] | None = None,
    per_site: int | Sequence[int] | None = None,
    waves: int | Sequence[int] | None = None,
    *,
    spec: SimulationSpec | None = None,
) -> list[DesignPoint]:
    """Every combination of the given numbers of sites, recipients per site and waves (sorted).

    Missing dimensions keep the spec's value (`spec` gives the number of sites when `sites` is None).

    Examples
    --------
    >>> from moclab.design import design_grid
    >>> for point in design_grid(sites=[10, 20], per_site=[15, 30]):
    ...     print(point.sites, point.per_site)
    10 15
    10 30
    20 15
    20 30

    Without `sites`, the spec's number of sites is kept:

    >>> from moclab.simulate import default_spec_path, load_spec
    >>> spec = load_spec(default_spec_path("recipient-pathway"))
    >>> design_grid(per_site=[20, 40], spec=spec)
    [DesignPoint(sites=40, per_site=20, waves=None), DesignPoint(sites=40, per_site=40, waves=None)]
    """
    site_values = _as_list(sites, "sites")
    if site_values == [None]:
        if spec is None:
            raise MoclabError("give the number of sites (or a spec that has one)")
        site_values = [int(spec.design.sites)]
    return [
        DesignPoint(int(s), n, w)  # type: ignore[arg-type]
        for s, n, w in itertools.product(
            site_values, _as_list(per_site, "per_site"), _as_list(waves, "waves")
        )
    ]


def _recipients(current: object, per_site: int) -> Any:
    """Recipients per site set to `per_site`, keeping the spec's form (fixed, Poisson mean, or a range)."""
    if isinstance(current, SizeSpec):
        if current.range is not None:
            low, high = current.range
            middle = (low + high) / 2
            new_low = max(1, round(low * per_site / middle))
            return {"range": [new_low, max(new_low, round(high * per_site / middle))]}
        return {"mean": per_site, "distribution": current.distribution, "min": min(current.min, per_site)}
    return per_site


def _waves(spec: SimulationSpec, count: int) -> Any:
    waves = spec.design.waves
    if isinstance(waves, WaveSeries):
        return {"count": count, "interval_months": waves.interval_months}
    listed = [wave.model_dump(exclude_none=True) for wave in waves]
    if count <= len(listed):
        return listed[:count]
    step = listed[-1]["month"] - listed[-2]["month"] if len(listed) >= 2 else 6.0
    for _ in range(count - len(listed)):
        month = listed[-1]["month"] + step
        listed.append({"id": f"m{month:g}".replace(".", "_"), "month": month})
    return listed


def spec_for(spec: SimulationSpec, point: DesignPoint) -> SimulationSpec:
    """The spec with the design point's sites, recipients per site and waves.

    Recipients per site keep the spec's form: a Poisson mean becomes the new mean, a range is scaled to the
    new middle, a fixed number is replaced. Waves keep their spacing (a listed set of waves is cut or
    extended at its last interval).

    Examples
    --------
    >>> from moclab.design import DesignPoint, spec_for
    >>> from moclab.simulate import default_spec_path, load_spec
    >>> spec = load_spec(default_spec_path("recipient-pathway"))
    >>> spec.design.sites, spec.design.recipients.mean, [wave.id for wave in spec.design.waves]
    (40, 50.0, ['baseline', 'm6', 'm12'])
    >>> smaller = spec_for(spec, DesignPoint(sites=12, per_site=20, waves=2))
    >>> smaller.design.sites, smaller.design.recipients.mean, [wave.id for wave in smaller.design.waves]
    (12, 20.0, ['baseline', 'm6'])
    """
    changes: dict[str, Any] = {"sites": point.sites}
    if point.per_site is not None:
        changes["recipients"] = _recipients(spec.design.recipients, point.per_site)
    if point.waves is not None:
        changes["waves"] = _waves(spec, point.waves)
        start = spec.design.start_month
        if start is not None and point.waves == 1:
            changes["start_month"] = None
    return spec.with_design(**changes)


# ---------------------------------------------------------------------------------------------------------
# One chunk of replications (runs in a worker)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ChunkTask:
    """Replications ``start .. stop - 1`` of one design point."""

    point_index: int
    point: DesignPoint
    plan: SimulationPlan
    targets: tuple[PowerTarget, ...]
    entropy: int
    start: int
    stop: int
    options: PowerOptions


@dataclass
class ChunkOutput:
    point_index: int
    start: int
    stop: int
    n: np.ndarray
    n_clusters: np.ndarray
    outcomes: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    #: Per pathway and criterion, why the criterion was not testable (in the first replication it was not).
    reasons: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Per pathway and criterion, why the fast engine left it unjudged in some replications.
    unjudged: dict[str, dict[str, str]] = field(default_factory=dict)
    elapsed: float = 0.0


def replication_seeds(
    entropy: int, key: tuple[int, int, int], replication: int
) -> tuple[np.random.SeedSequence, int]:
    """The data seed (a SeedSequence for `moclab.simulate`) and the analysis seed (an int for `mediate`).

    Parameters
    ----------
    entropy : int
        The root seed of the power analysis.
    key : tuple of int
        The design: sites, recipients per site and waves (0 for "the spec's own"), `DesignPoint.key`.
    replication : int
        The replication's number within the design.

    Examples
    --------
    Replication 3 of the design with 20 sites draws its data and its resamples from seeds that depend on
    nothing else, so it is the same replication in any grid, chunk or worker:

    >>> from moclab.design import replication_seeds
    >>> data_seed, analysis_seed = replication_seeds(1, (20, 0, 0), 3)
    >>> data_seed.entropy, data_seed.spawn_key
    (1, (20, 0, 0, 3, 0))
    >>> analysis_seed
    13094462324558332852
    >>> replication_seeds(1, (20, 0, 0), 3)[1] == analysis_seed
    True
    """
    data = np.random.SeedSequence(entropy, spawn_key=(*key, replication, 0))
    words = np.random.SeedSequence(entropy, spawn_key=(*key, replication, 1)).generate_state(2, np.uint32)
    return data, int(words[0]) << 32 | int(words[1])


#: Replications analysed together in `_fits`: their Monte Carlo normals (n_mc × parameters each) are kept
#: for the other pathways, so a batch holds a few tens of megabytes.
NORMALS_BATCH = 16


def _fits(
    task: ChunkTask,
    draws: Sequence[Any],
    seeds: Sequence[int],
    levels: Sequence[dict[str, Any]],
    evidence: Sequence[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The mediation model `moclab analyze` judges (the mechanism with its measured competitors in
    parallel) fitted to every replication, per pathway. Replications go in batches whose Monte Carlo
    normals the pathways share: `mediate` draws the same normals for the same seed and number of
    parameters, and drawing them is most of the Monte Carlo interval's cost. The subgroup models of the
    consistency criterion (in `evidence`) that draw the same normals are fitted with the batch, so they
    share them too."""
    options = task.options
    parts: dict[str, list[Any]] = {target.id: [] for target in task.targets}
    size = NORMALS_BATCH if "monte_carlo" in options.methods else max(len(draws), 1)
    for start in range(0, len(draws), size):
        batch = slice(start, start + size)
        normals = NormalStreams()
        for target in task.targets:
            data = [
                replication_arrays(
                    at_declared_level(task.plan, item, target, cache),
                    target,
                    alternatives=bool(target.alternatives),
                )
                for item, cache in zip(draws[batch], levels[batch], strict=True)
            ]
            parts[target.id].append(
                analyse_batch(
                    data,
                    seeds[batch],
                    methods=options.methods,
                    level=options.level,
                    n_mc=options.n_mc,
                    n_boot=options.n_boot,
                    normals=normals,
                )
            )
        if evidence is not None and options.interval_method == "monte_carlo":
            for found, seed in zip(evidence[batch], seeds[batch], strict=True):
                fit_subgroups_ahead(  # the options `fast_statuses` gives the verdict, which reads them
                    found,
                    ci=options.interval_method,
                    n_boot=options.n_boot,
                    seed=seed,
                    level=options.level,
                    normals=normals,
                )
    return {name: BatchResult.concatenate(fits) for name, fits in parts.items()}


def run_chunk(task: ChunkTask) -> ChunkOutput:
    """Simulate and analyse replications ``task.start .. task.stop - 1`` of one design (a worker's job).

    BLAS runs on one thread: every matrix of a replication has a few dozen rows or columns (batched), where
    threads only add synchronization, and on a busy machine a second thread waiting for a core made the
    batched eigendecompositions of the Monte Carlo step fifteen times slower (measured). The parallel back
    ends run one chunk per core instead.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _run_chunk(task)


def _run_chunk(task: ChunkTask) -> ChunkOutput:
    from moclab.simulate.generate import draw

    started = time.perf_counter()
    options = task.options
    replications = range(task.start, task.stop)
    seeds = [replication_seeds(task.entropy, task.point.key, r) for r in replications]
    draws = [draw(task.plan, data_seed) for data_seed, _ in seeds]
    analysis_seeds = [seed for _, seed in seeds]
    levels: list[dict[str, Any]] = [{} for _ in draws]  # `at_declared_level`'s cut draws
    output = ChunkOutput(task.point_index, task.start, task.stop, np.zeros(0), np.zeros(0))
    full = None
    if options.criteria == "full":
        full = [
            full_statuses(
                task.plan,
                data_seed,
                task.targets,
                ci=options.interval_method,
                n_boot=options.n_boot,
                level=options.level,
                analysis_seed=seed,
            )
            for data_seed, seed in seeds
        ]
    per_replication = None
    contexts = None
    why_not: str | None = None
    if options.criteria == "fast" and task.targets:
        from moclab.design.criteria_analyses import criteria_context, replication_evidence

        try:
            context = criteria_context(task.plan, task.targets, seeds[0][0], options.level)
        except MoclabError as error:  # the mediation criteria are still judged
            why_not = f"the simulated study could not be built to read its plan ({error.message})"
        else:
            why_not = context.unsupported and f"settings it does not reproduce: {context.unsupported}"
        if why_not is None:
            contexts = context.targets
            per_replication = [
                replication_evidence(task.plan, item, task.targets, context, options.level, cache)
                for item, cache in zip(draws, levels, strict=True)
            ]
    alpha = 1.0 - options.level
    sizes = []
    clusters = []
    fits = _fits(task, draws, analysis_seeds, levels, per_replication)
    for target in task.targets:
        fit = fits[target.id]
        outcome: dict[str, np.ndarray] = {}
        a_est, _, a_p = fit.paths["a[0]"]
        b_est, _, b_p = fit.paths["b[0]"]
        indirect = fit.indirect[0]
        with np.errstate(invalid="ignore"):
            outcome["a"] = a_p < alpha
            outcome["b"] = b_p < alpha
            outcome["estimate:a"] = a_est
            outcome["estimate:b"] = b_est
            outcome["estimate:indirect"] = indirect["estimate"]
            if "joint" in options.methods:
                outcome["indirect:joint"] = (a_p < alpha) & (b_p < alpha)
            if "sobel" in options.methods:
                outcome["indirect:sobel"] = indirect["p"] < alpha
            for method in ("monte_carlo", "percentile"):
                if method in options.methods:
                    low, high = indirect[method]
                    outcome[f"indirect:{method}"] = (low > 0) | (high < 0)
        outcome["failed"] = fit.failed
        reasons: dict[str, str] = {}
        if options.criteria == "fast":
            statuses = fast_statuses(
                target,
                fit,
                options.interval_method,
                options.level,
                evidence=None if per_replication is None else [item[target.id] for item in per_replication],
                context=None if contexts is None else contexts[target.id],
                seeds=analysis_seeds,
                n_boot=options.n_boot,
            )
            reasons = statuses.reasons
            output.unjudged[target.id] = statuses.unjudged
            if why_not is not None:
                for name in set(CRITERION_IDS) - set(MEDIATION_CRITERIA):
                    output.unjudged[target.id][name] = why_not
            for name in CRITERION_IDS:
                outcome[f"criterion:{name}"] = statuses.codes.get(
                    name, np.full(len(draws), -1, dtype=np.int8)
                )
        elif full is not None:
            for name in CRITERION_IDS:
                judged = [item[target.id][name] for item in full]
                outcome[f"criterion:{name}"] = np.array([code for code, _ in judged], dtype=np.int8)
                untestable = [reason for code, reason in judged if STATUSES[code] == "not testable"]
                if untestable:
                    reasons[name] = untestable[0]
        output.outcomes[target.id] = outcome
        output.reasons[target.id] = reasons
        sizes.append(fit.n)
        clusters.append(fit.n_clusters)
    output.n = np.mean(sizes, axis=0)
    output.n_clusters = np.mean(clusters, axis=0)
    output.elapsed = time.perf_counter() - started
    return output


# ---------------------------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------------------------


def _methods(method: str, methods: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    key = METHOD_ALIASES.get(str(method).strip().lower())
    if key is None:
        raise MoclabError(
            f"unknown method '{method}'",
            hint="choose mc (Monte Carlo interval), boot (percentile bootstrap) or joint",
        )
    chosen = ["joint", "sobel", key] if methods is None else [METHOD_ALIASES.get(m, m) for m in methods]
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise MoclabError(f"unknown method(s) {', '.join(unknown)}", hint=f"choose from {', '.join(METHODS)}")
    if key not in chosen:
        chosen.append(key)
    return key, tuple(m for m in METHODS if m in chosen)


def _chunk_size(reps: int, n_points: int, workers: int, requested: int | None) -> int:
    if requested is not None:
        if requested < 1:
            raise MoclabError(f"chunk_size must be at least 1, got {requested}")
        return int(requested)
    # A few chunks per worker balance the load; at least 25 replications keep the per-task cost small.
    per_point = math.ceil(reps * n_points / max(4 * workers, 1) / n_points)
    return int(min(max(per_point, 25), 250, reps))


class _Progress:
    """A rich progress bar over replications on stderr (only when asked for)."""

    def __init__(self, total: int, description: str, enabled: bool) -> None:
        self.enabled = enabled
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("replications"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.progress.add_task(description, total=total)

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.progress.start()
        return self

    def advance(self, count: int) -> None:
        if self.enabled:
            self.progress.update(self.task, advance=count)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()


def power_analysis(
    model: PathwayModel | str | Path,
    spec: SimulationSpec | dict | str | Path | None = None,
    *,
    sites: int | Sequence[int] | None = None,
    per_site: int | Sequence[int] | None = None,
    waves: int | Sequence[int] | None = None,
    reps: int = 1000,
    method: str = "percentile",
    methods: Sequence[str] | None = None,
    pathways: Sequence[str] | None = None,
    criteria: str = "fast",
    level: float = 0.95,
    n_mc: int = 10_000,
    n_boot: int = 1000,
    seed: int | None = None,
    n_jobs: int = 1,
    scheduler: Any = None,
    chunk_size: int | None = None,
    show_progress: bool = False,
) -> PowerResult:
    """Monte Carlo power of every pathway of a model, for every design of a grid.

    Parameters
    ----------
    model : PathwayModel, path or template name
        The pathway model (``"recipient-pathway"``, a model file, a study folder).
    spec : SimulationSpec, dict, path or None
        Effect sizes and design (docs/simulate.md); None takes the model's default spec.
    sites, per_site, waves : int or sequence of int, optional
        The grid: every combination is a design. Left out, a dimension keeps the spec's value.
    reps : int
        Replications (simulated studies) per design.
    method : {"percentile", "monte_carlo", "joint", "sobel"}
        The headline test of the indirect effect: the percentile bootstrap (the cluster bootstrap when
        recipients are nested in sites; the default, the interval `moclab analyze` uses), the Monte Carlo
        interval (faster; "mc"), joint significance or Sobel. The criteria are judged on the percentile or
        Monte Carlo interval, whichever is the headline (else the one also run).
    methods : sequence of str, optional
        Every test to run (default: joint, Sobel and the headline test).
    pathways : sequence of str, optional
        Pathway ids (default: every pathway with a single mechanism measured per recipient).
    criteria : {"fast", "full", "none"}
        How the seven criteria are judged per replication (see `moclab.design.criteria`).
    level : float
        Confidence level; tests at alpha = 1 - level.
    n_mc, n_boot : int
        Monte Carlo draws and bootstrap resamples per replication.
    seed : int, optional
        Root seed; the same seed gives identical results with any number of workers or scheduler. A
        fresh seed is drawn (and recorded in the result) when none is given.
    n_jobs : int
        Local worker processes (joblib); -1 for every core.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address: run on that cluster.
    chunk_size : int, optional
        Replications per task (default: a few tasks per worker, 25 to 250 replications each).
    show_progress : bool
        A progress bar on stderr.

    Returns
    -------
    PowerResult
        Power with its Monte Carlo SE per design, pathway and quantity (a and b paths, the indirect effect
        by each test, the probability that each criterion is met).

    Raises
    ------
    MoclabError
        Invalid options, unknown pathways, a design the spec cannot carry (a `ValidationError` with the
        spec's problems).

    Notes
    -----
    Each replication is analysed as `moclab analyze` would analyse the study (see
    `moclab.design.scenario`): arm or exposure → mechanism at the second wave → outcome at the last wave,
    adjusted for baselines, cluster-robust with the site as cluster. The engine reproduces `mediate`
    replication by replication (same estimates, p-values and intervals for the same seed).

    Examples
    --------
    Power of the joint-significance test of the indirect effect through trust, with 6 or 8 sites of the
    bundled spec's trial (20 replications each, to run fast; a real analysis uses about 1000):

    >>> from moclab.design import power_analysis
    >>> result = power_analysis(
    ...     "recipient-pathway",
    ...     sites=[6, 8],
    ...     reps=20,
    ...     pathways=["isp_support__trust__acceptability"],
    ...     method="joint",
    ...     criteria="none",
    ...     seed=1,
    ... )
    >>> result.power()[["sites", "power", "mc_se"]].round(3)
       sites  power  mc_se
    0      6   0.45  0.111
    1      8   0.60  0.110
    >>> result.power("a")[["sites", "power"]]
       sites  power
    0      6   0.50
    1      8   0.65
    """
    if int(reps) != reps or reps < 1:
        raise MoclabError(f"reps must be a whole number of at least 1, got {reps!r}")
    if criteria not in ("fast", "full", "none"):
        raise MoclabError(f"criteria must be 'fast', 'full' or 'none', got {criteria!r}")
    if not 0.5 <= level < 1:
        raise MoclabError(f"level must be between 0.5 and 1 (e.g. 0.95), got {level!r}")
    for name, value in (("n_mc", n_mc), ("n_boot", n_boot)):
        if int(value) != value or value < 100:
            raise MoclabError(f"{name} must be a whole number of at least 100, got {value!r}")
    headline, chosen = _methods(method, methods)
    interval_method = (
        headline
        if headline in ("monte_carlo", "percentile")
        else (
            "monte_carlo" if "monte_carlo" in chosen else "percentile" if "percentile" in chosen else "delta"
        )
    )
    started = time.perf_counter()
    base_plan = compile_simulation(model, spec)
    base_spec = coerce_spec(base_plan.spec)
    points = design_grid(sites, per_site, waves, spec=base_spec)
    plans = [compile_simulation(base_plan.model, spec_for(base_spec, point)) for point in points]
    targets = tuple(power_targets(plans[0], pathways))
    per_point_targets = [tuple(power_targets(plan, [t.id for t in targets])) for plan in plans]
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise MoclabError(f"seed must be a whole number >= 0, got {seed!r}")
    options = PowerOptions(
        methods=chosen,
        interval_method=interval_method,
        level=float(level),
        n_mc=int(n_mc),
        n_boot=int(n_boot),
        criteria=criteria,
    )
    workers = 1
    if scheduler is None and n_jobs != 1:
        from joblib import cpu_count

        workers = cpu_count() if n_jobs < 0 else int(n_jobs)
    elif scheduler is not None:
        workers = 8
    size = _chunk_size(int(reps), len(points), workers, chunk_size)
    tasks = [
        ChunkTask(index, point, plan, point_targets, int(seed), start, min(start + size, int(reps)), options)
        for index, (point, plan, point_targets) in enumerate(
            zip(points, plans, per_point_targets, strict=True)
        )
        for start in range(0, int(reps), size)
    ]
    with _Progress(len(points) * int(reps), "power analysis", show_progress) as progress:
        outputs = run_tasks(
            run_chunk,
            tasks,
            n_jobs=n_jobs,
            scheduler=scheduler,
            on_done=lambda output: progress.advance(output.stop - output.start),
        )
    expected = [_expected_per_site(plan.spec) for plan in plans]
    table = _aggregate(outputs, points, targets, options, expected)
    settings = {
        "reps": int(reps),
        "method": headline,
        "methods": list(chosen),
        "interval_method": interval_method,
        "criteria": criteria,
        "level": float(level),
        "alpha": 1 - float(level),
        "n_mc": int(n_mc) if "monte_carlo" in chosen else None,
        "n_boot": int(n_boot) if "percentile" in chosen or criteria == "full" else None,
        "seed": int(seed),
        "chunk_size": size,
        "n_jobs": n_jobs if scheduler is None else None,
        "scheduler": None
        if scheduler is None
        else str(getattr(scheduler, "scheduler_info", lambda: {})().get("address", scheduler)),
    }
    return PowerResult(
        table=table,
        model_id=base_plan.model.id,
        targets=targets,
        points=tuple(points),
        settings=settings,
        spec=base_spec.to_yaml_dict(),
        elapsed=time.perf_counter() - started,
        compute_seconds=float(sum(output.elapsed for output in outputs)),
    )


def _expected_per_site(spec: SimulationSpec) -> float:
    recipients = spec.design.recipients
    return float(recipients.expected if isinstance(recipients, SizeSpec) else recipients)


def _aggregate(
    outputs: Sequence[ChunkOutput],
    points: Sequence[DesignPoint],
    targets: Sequence[PowerTarget],
    options: PowerOptions,
    expected: Sequence[float],
) -> pd.DataFrame:
    """One row per design, pathway and quantity: power (or P(met)), its Monte Carlo SE, counts."""
    rows = []
    by_point: dict[int, list[ChunkOutput]] = {}
    for output in outputs:
        by_point.setdefault(output.point_index, []).append(output)
    for index, point in enumerate(points):
        chunks = sorted(by_point[index], key=lambda output: output.start)
        n = np.concatenate([c.n for c in chunks])
        n_clusters = np.concatenate([c.n_clusters for c in chunks])
        for target in targets:
            merged: dict[str, np.ndarray] = {}
            for key in chunks[0].outcomes[target.id]:
                merged[key] = np.concatenate([c.outcomes[target.id][key] for c in chunks])
            reps = merged["failed"].size
            base = {
                **point.to_dict(),
                "per_site_expected": expected[index],
                "n": float(np.mean(n)),
                "clusters": float(np.mean(n_clusters)),
                "pathway": target.id,
                "reps": reps,
                "failed": int(np.sum(merged["failed"])),
            }
            estimates = {name: merged[f"estimate:{name}"] for name in ("a", "b", "indirect")}
            reasons: dict[str, str] = {}
            unjudged: dict[str, str] = {}
            for chunk in chunks:
                for name, reason in chunk.reasons.get(target.id, {}).items():
                    reasons.setdefault(name, reason)
                for name, reason in chunk.unjudged.get(target.id, {}).items():
                    unjudged.setdefault(name, reason)
            for key, values in merged.items():
                if key == "failed" or key.startswith("estimate:"):
                    continue
                if key.startswith("criterion:"):
                    name = key.split(":", 1)[1]
                    rows.append(
                        {**base, **_criterion_row(key, values, reasons.get(name), unjudged.get(name))}
                    )
                    continue
                success = np.asarray(values, dtype=bool)
                power = float(np.mean(success))
                kind = key.split(":")[0]
                estimate = estimates.get("indirect" if kind == "indirect" else kind)
                rows.append(
                    {
                        **base,
                        "quantity": key,
                        "label": quantity_label(key),
                        "power": power,
                        "mc_se": _mc_se(power, reps),
                        "successes": int(success.sum()),
                        "partly_met": math.nan,
                        "not_met": math.nan,
                        "not_testable": math.nan,
                        "estimated": True,
                        "testable": True,
                        "reason": "",
                        "mean_estimate": float(np.nanmean(estimate)) if estimate is not None else math.nan,
                    }
                )
    frame = pd.DataFrame(rows)
    order = {name: i for i, name in enumerate(_quantity_order(options))}
    frame["_order"] = frame["quantity"].map(order)
    frame = frame.sort_values(
        ["pathway", "_order", "sites", "per_site", "waves"], na_position="first", kind="stable"
    )
    return frame.drop(columns="_order").reset_index(drop=True)


def _criterion_row(
    key: str, codes: np.ndarray, reason: str | None, unjudged: str | None = None
) -> dict[str, Any]:
    """The row of one criterion: P(met) over the replications judged, the shares of the other statuses.

    A criterion that was not testable in any replication has no power (NaN, ``testable`` False) and the
    scorecard's reason; power 0 would claim that it was tested and never met. A criterion the fast engine
    left unjudged in some replications (`unjudged` says why) has its power over the others, and says so.
    """
    valid = codes >= 0
    judged = int(valid.sum())
    shares = {
        status: (float(np.mean(codes[valid] == i)) if judged else math.nan)
        for i, status in enumerate(STATUSES)
    }
    testable = judged > 0 and shares["not testable"] < 1.0
    power = shares["met"] if testable else math.nan
    if not judged:
        reason = f"not judged by the fast engine: {unjudged}" if unjudged else NOT_JUDGED_REASON
    elif not testable:
        reason = f"not testable in any replication: {reason}" if reason else "not testable in any replication"
    elif shares["not testable"] > 0:
        reason = f"not testable in {shares['not testable']:.0%} of the replications: {reason}"
    else:
        reason = ""
    if judged and judged < codes.size:
        share = f"judged in {judged / codes.size:.0%} of the replications, the shares are over those"
        reason = "; ".join(part for part in (reason, f"{share} (the others: {unjudged})") if part)
    return {
        "quantity": key,
        "label": quantity_label(key),
        "power": power,
        "mc_se": _mc_se(power, judged),
        "successes": int(np.sum(codes == 0)),
        "partly_met": shares["partly met"],
        "not_met": shares["not met"],
        "not_testable": shares["not testable"],
        "estimated": bool(judged),
        "testable": testable,
        "reason": reason,
        "mean_estimate": math.nan,
    }


def _quantity_order(options: PowerOptions) -> list[str]:
    names = ["a", "b"] + [f"indirect:{m}" for m in METHODS]
    return names + [f"criterion:{c}" for c in CRITERION_IDS]


def _mc_se(power: float, reps: int) -> float:
    if reps <= 0 or not math.isfinite(power):
        return math.nan
    return math.sqrt(power * (1 - power) / reps)
