"""The analyses of a power analysis, vectorized: the mediation model of `mediate` on many simulated data sets.

For every replication the model is the one `moclab.analysis.mediate` fits (parallel mediators, covariates in
every equation, OLS)::

    M_j = i_j + a_j X + C'γ_j + e_j
    Y   = i_Y + c' X + Σ_j b_j M_j + C'γ_Y + e_Y

and the tests are the ones a real analysis reports: t tests of the a and b paths (cluster-robust CR1 with
G - 1 degrees of freedom when recipients are nested in sites), the joint-significance test, the Sobel
(first-order delta) test, the Monte Carlo interval and the percentile bootstrap (the cluster bootstrap
with clusters). `mediate` on the same data with the same seed gives the same numbers (tests/design check
this replication by replication).

Why not call `mediate` once per replication: it validates and reshapes a DataFrame, fits three regressions
by QR and computes every effect, interval and standardized effect it can report; a power analysis needs a
handful of numbers from each of thousands of data sets. Here the regressions of all replications of a
chunk are solved together from their cross-product matrices ``Z'Z`` (one batched solve per equation; OLS
estimates, residual variances and classical covariances are functions of ``Z'Z`` and n alone), cluster-robust
covariances come from per-cluster cross products, and the Monte Carlo and bootstrap steps, which need their
own random stream per replication, are vectorized over draws and resamples within each replication
(`moclab.analysis.bootstrap.bootstrap_regressions`, the routine `mediate` itself uses). The bounds of a
Monte Carlo interval are `numpy.quantile`'s, read from the few order statistics they interpolate
(`_order_statistics`) rather than from a partition of all draws.

References
----------
Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. *Journal of Human
Resources*, 50(2), 317-372.
Floyd, R. W., & Rivest, R. L. (1975). Expected time bounds for selection. *Communications of the ACM*, 18(3),
165-172.
Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages. *The American Statistician*,
50(4), 361-365.
MacKinnon, D. P., Lockwood, C. M., Hoffman, J. M., West, S. G., & Sheets, V. (2002). A comparison of methods
to test mediation and other intervening variable effects. *Psychological Methods*, 7, 83-104.
Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for indirect effects.
*Communication Methods and Measures*, 6(2), 77-98.
Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation models.
*Sociological Methodology*, 13, 290-312.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from moclab.analysis.bootstrap import bootstrap_regressions
from moclab.analysis.intervals import covariance_root
from moclab.design.scenario import ReplicationData

__all__ = ["METHODS", "BatchResult", "NormalStreams", "analyse_batch"]

#: Tests of the indirect effect: joint significance, Sobel, Monte Carlo interval, percentile bootstrap.
METHODS = ("joint", "sobel", "monte_carlo", "percentile")

#: Bootstrap resamples solved per batch: small enough that the count matrix stays in the CPU cache (several
#: times faster than one large batch); the resamples do not depend on it.
BOOT_CHUNK = 100

#: A replication whose bootstrap has fewer usable resamples than this counts as a failed test (`mediate`
#: raises a DataError there).
MIN_BOOT_USED = 50


class NormalStreams:
    """The standard normals of `mediate`'s Monte Carlo draws, shared by the models of a replication.

    `mediate(ci="monte_carlo", seed=s)` draws ``default_rng(s).standard_normal((n_mc, p))``: every model of a
    replication with p parameters draws the same normals, and a model drawing more of them (the scorecard's
    subgroup models keep `mediate`'s 20,000 where a power analysis asks for 10,000) draws the same first
    rows. `rows` keeps each stream's normals and its generator, and extends a stream from where it stopped
    (numpy's generators fill arrays row by row from one stream, so two calls give the rows one call would).
    """

    def __init__(self) -> None:
        self._streams: dict[tuple[int, int], tuple[np.ndarray, np.random.Generator]] = {}

    def __len__(self) -> int:
        """The number of streams drawn from (one per seed and number of parameters)."""
        return len(self._streams)

    def rows(self, seed: int, n: int, p: int) -> np.ndarray:
        """The first n rows of the (·, p) normals of `seed`."""
        key = (int(seed), int(p))
        drawn, generator = self._streams.get(key) or (np.empty((0, p)), np.random.default_rng(seed))
        if drawn.shape[0] < n:
            more = generator.standard_normal((int(n) - drawn.shape[0], int(p)))
            drawn = more if not drawn.shape[0] else np.concatenate([drawn, more])
            self._streams[key] = (drawn, generator)
        return drawn[: int(n)]


@dataclass
class BatchResult:
    """Per-replication estimates and tests of one model on a batch of replications (arrays of length R).

    ``paths`` maps ``a[j]``/``b[j]``, ``direct`` (c', the strategy in the outcome model) and ``total`` (c,
    the outcome model without the mediators) to (estimate, se, p); ``indirect`` maps ``j`` (mediator
    index) and ``contrasts`` maps ``j`` (0 minus j) to dicts of estimate, delta SE and p, and the (low, high)
    interval of each computed method; an indirect effect's dict also holds ``percentile_sd`` when the
    percentile bootstrap ran: the SD (n - 1) of its usable resamples, the SE `mediate` reports with that
    interval (read by the subgroup models of consistency). ``n`` and ``n_clusters`` are per replication;
    ``failed`` flags replications whose model could not be estimated (too few complete rows, a constant
    column).
    """

    n: np.ndarray
    n_clusters: np.ndarray
    failed: np.ndarray
    paths: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    indirect: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    contrasts: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def concatenate(cls, parts: Sequence[BatchResult]) -> BatchResult:
        """The results of consecutive batches of replications as one (the same model and methods)."""

        def join(values: list) -> Any:
            first = values[0]
            if isinstance(first, np.ndarray):
                return np.concatenate(values)
            if isinstance(first, tuple):
                return tuple(join(list(items)) for items in zip(*values, strict=True))
            return {key: join([value[key] for value in values]) for key in first}

        return cls(
            **{name: join([getattr(part, name) for part in parts]) for name in cls.__dataclass_fields__}
        )


def _equations(n_covariates: int, n_mediators: int) -> list[tuple[int, list[int]]]:
    """(response column, predictor columns) of every equation, in `mediate`'s order and column layout."""
    base = [0, 1, *range(2, 2 + n_covariates)]
    m_cols = list(range(2 + n_covariates, 2 + n_covariates + n_mediators))
    y_col = 2 + n_covariates + n_mediators
    return [(col, base) for col in m_cols] + [(y_col, base + m_cols)]


def _cluster_cross(z: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Per-cluster cross-product matrices (G, v, v) ``Z_g'Z_g``: the rows sorted by cluster (simulated
    recipients come sorted by site), laid out as one zero-padded block per cluster and multiplied block by
    block in one batched matrix product (an order of magnitude faster than summing column products)."""
    if codes.size > 1 and not (codes[1:] >= codes[:-1]).all():
        order = np.argsort(codes, kind="stable")
        z, codes = z[order], codes[order]
    sizes = np.bincount(codes, minlength=n_clusters)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    blocks = np.zeros((n_clusters, max(int(sizes.max()), 1), z.shape[1]))
    blocks[codes, np.arange(codes.size) - starts[codes]] = z
    return np.matmul(np.swapaxes(blocks, 1, 2), blocks)


def _fit(
    data: Sequence[ReplicationData], equations: list[tuple[int, list[int]]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OLS of every equation on every replication: theta (R, P), covariance (R, P, P), df (R, P), n, G,
    failed. Classical block-diagonal covariance, or CR1 with cross-equation blocks when clustered."""
    r = len(data)
    v = data[0].z.shape[1]
    sizes = [len(predictors) for _, predictors in equations]
    total = sum(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n = np.array([item.n for item in data], dtype=float)
    n_clusters = np.array([item.n_clusters for item in data], dtype=float)
    failed = n <= max(sizes) + 1
    cross = np.stack([item.z.T @ item.z if item.n else np.zeros((v, v)) for item in data])
    theta = np.full((r, total), np.nan)
    inverses = []
    sigma2 = []
    for e, (response, predictors) in enumerate(equations):
        gram = cross[:, predictors][:, :, predictors]
        rhs = cross[:, predictors, response]
        # A constant or collinear column (a replication in which one arm has no complete case) is singular:
        # that replication fails, as `mediate` would raise for it. The check reads the correlation matrix
        # of the predictors besides the intercept (column 0): uncentred columns with means far from 0 are
        # nearly collinear with the intercept, which would flag healthy models with many columns.
        others = predictors[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            means = cross[:, 0, others] / n[:, None]
            centred = (
                cross[:, others][:, :, others] / n[:, None, None] - means[:, :, None] * means[:, None, :]
            )
        diagonal = np.einsum("rii->ri", centred)
        tiny = diagonal <= 1e-12 * np.maximum(
            np.einsum("rii->ri", cross[:, others][:, :, others]) / n[:, None], 1e-300
        )
        scale = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
        sign, log_det = np.linalg.slogdet(centred * scale[:, :, None] * scale[:, None, :])
        singular = ~(sign > 0) | (log_det < np.log(1e-12)) | tiny.any(axis=1) | ~np.isfinite(log_det)
        failed |= singular
        safe = np.where(singular[:, None, None], np.eye(len(predictors)), gram)
        inverse = np.linalg.inv(safe)
        beta = np.einsum("rij,rj->ri", inverse, rhs)
        rss = cross[:, response, response] - np.einsum("ri,ri->r", beta, rhs)
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma2.append(np.clip(rss, 0.0, None) / (n - len(predictors)))
        theta[:, starts[e] : starts[e + 1]] = beta
        inverses.append(inverse)
    covariance = np.zeros((r, total, total))
    df = np.zeros((r, total))
    clustered = data[0].codes is not None
    if not clustered:
        for e, inverse in enumerate(inverses):
            block = slice(starts[e], starts[e + 1])
            covariance[:, block, block] = sigma2[e][:, None, None] * inverse
            df[:, block] = (n - sizes[e])[:, None]
        return theta, covariance, df, n, n_clusters, failed
    # CR1 (Cameron & Miller 2015, eq. 11) with the stacked-score meat across equations, as
    # `moclab.analysis.clustering.cluster_robust_covariance` computes it for `mediate`.
    for index, item in enumerate(data):
        if failed[index]:
            continue
        g = int(n_clusters[index])
        per_cluster = _cluster_cross(item.z, item.codes, g)  # type: ignore[arg-type]
        scores = []
        for e, (response, predictors) in enumerate(equations):
            beta = theta[index, starts[e] : starts[e + 1]]
            scores.append(
                per_cluster[:, predictors, response] - per_cluster[:, predictors][:, :, predictors] @ beta
            )
        stacked = np.hstack(scores)
        meat = stacked.T @ stacked
        bread = np.zeros((total, total))
        factor = np.zeros((total, total))
        for e, k_e in enumerate(sizes):
            bread[starts[e] : starts[e + 1], starts[e] : starts[e + 1]] = inverses[e][index]
            for f, k_f in enumerate(sizes):
                factor[starts[e] : starts[e + 1], starts[f] : starts[f + 1]] = (
                    g / (g - 1) * (n[index] - 1) / np.sqrt((n[index] - k_e) * (n[index] - k_f))
                )
        covariance[index] = factor * (bread @ meat @ bread)
    df[:] = (n_clusters - 1)[:, None]
    return theta, covariance, df, n, n_clusters, failed


def _two_sided_t(estimate: np.ndarray, se: np.ndarray, df: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2 * special.stdtr(df, -np.abs(estimate / se))


def _percentile(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-column percentile interval of draws (B, k), NaN draws dropped, as `percentile_interval` does."""
    alpha = 1.0 - level
    if np.isnan(draws).any():
        bounds = np.nanquantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    else:
        bounds = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    return bounds[0], bounds[1]


#: Monte Carlo draws of each replication whose order statistics bracket the interval's bounds
#: (`_order_statistics`).
PILOT_DRAWS = 1000


def _linear_quantile_ranks(n: int, quantiles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ranks (0-based) below and above each quantile's virtual index among n sorted values, and the weight
    of the upper one: numpy's default linear method (Hyndman & Fan 1996, type 7), computed as
    `numpy.quantile` computes it so that interpolating the same order statistics gives the same bits."""
    virtual = (n - 1) * quantiles
    below = np.floor(virtual)
    above = below + 1
    below[virtual >= n - 1], above[virtual >= n - 1] = -1, -1  # numpy takes the maximum there
    below[virtual < 0], above[virtual < 0] = 0, 0
    below, above = below.astype(np.intp), above.astype(np.intp)
    return below % n, above % n, virtual - below


def _interpolate(low: np.ndarray, high: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation between neighbouring order statistics (its ``_lerp``: from the upper
    one when the weight is at least one half, which keeps the result monotone)."""
    difference = high - low
    return np.where(weight >= 0.5, high - difference * (1 - weight), low + difference * weight)


def _order_statistics(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values of the given ranks (0-based, ascending) in every row of ``values`` (c, n), as sorting each
    row would give them.

    Why not `numpy.quantile`: it partitions every row of 10,000 Monte Carlo draws at six ranks (both
    neighbours of both bounds, the minimum and the maximum), most of the cost of an interval. The ranks of
    an interval sit in its tails, so each group of neighbouring ranks is bracketed by two order statistics of
    the row's first `PILOT_DRAWS` values (Floyd & Rivest 1975): the few hundred values between them are found
    by comparisons and sorted. The brackets only choose where to look: a row in which a bracket misses its
    ranks (unlikely with independent draws, possible with any values) is partitioned whole, so the result is
    exact for any input. numpy and scipy offer no selection of a few ranks from a sample.
    """
    c, n = values.shape
    pilot_size = min(n, PILOT_DRAWS)
    if n < 4 * pilot_size:  # too few values for brackets to pay off
        return np.partition(values, ranks, axis=1)[:, ranks]
    out = np.empty((c, ranks.size))
    # Ranks closer than a tenth of the row share one bracket (an interval's bounds: two pairs of neighbours).
    groups = np.split(np.arange(ranks.size), np.flatnonzero(np.diff(ranks) > n // 10) + 1)
    scale = (pilot_size - 1) / (n - 1)
    brackets = []
    for group in groups:
        first, last = ranks[group[0]], ranks[group[-1]]
        share = min(max(first / (n - 1), 1e-3), 1 - 1e-3)
        # Four standard deviations of a pilot order statistic's rank, plus rounding room.
        margin = 4 * np.sqrt(pilot_size * share * (1 - share)) + 2
        brackets.append((int(np.floor(first * scale - margin)), int(np.ceil(last * scale + margin))))
    positions = sorted({p for bracket in brackets for p in bracket if 0 <= p < pilot_size})
    pilot = np.partition(values[:, :pilot_size], positions, axis=1) if positions else values
    for group, (lower, upper) in zip(groups, brackets, strict=True):
        # A bracket beyond the pilot's ends is open on that side.
        low = pilot[:, lower] if 0 <= lower < pilot_size else np.full(c, -np.inf)
        high = pilot[:, upper] if 0 <= upper < pilot_size else np.full(c, np.inf)
        above_low = values >= low[:, None]
        inside = above_low & (values <= high[:, None])
        below = n - np.count_nonzero(above_low, axis=1)
        counts = np.count_nonzero(inside, axis=1)
        # Every row's candidates in one padded array (+inf after them), sorted row by row in one call.
        row_of = np.repeat(np.arange(c), counts)
        column = np.arange(row_of.size) - np.repeat(np.cumsum(counts) - counts, counts)
        padded = np.full((c, int(counts.max())), np.inf)
        padded[row_of, column] = values[inside]
        padded.sort(axis=1)
        wanted = ranks[group]
        found = (below <= wanted[0]) & (below + counts > wanted[-1])
        rows = np.flatnonzero(found)
        out[np.ix_(rows, group)] = padded[rows[:, None], wanted[None, :] - below[rows, None]]
        for row in np.flatnonzero(~found):  # a bracket missed its ranks: select from the whole row
            out[row, group] = np.partition(values[row], wanted)[wanted]
    return out


def _tail_percentile(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """`_percentile` of finite draws given one row per quantity (k, B), from the order statistics of the
    bounds alone; the same numbers."""
    alpha = 1.0 - level
    below, above, weight = _linear_quantile_ranks(draws.shape[1], np.asarray([alpha / 2, 1 - alpha / 2]))
    ranks = np.unique(np.concatenate([below, above]))
    values = _order_statistics(np.ascontiguousarray(draws), ranks)
    bounds = _interpolate(
        values[:, np.searchsorted(ranks, below)], values[:, np.searchsorted(ranks, above)], weight
    )
    return bounds[:, 0], bounds[:, 1]


def analyse_batch(
    data: Sequence[ReplicationData],
    seeds: Sequence[int],
    *,
    methods: Sequence[str] = ("joint", "sobel", "monte_carlo"),
    level: float = 0.95,
    n_mc: int = 10_000,
    n_boot: int = 1000,
    normals: NormalStreams | None = None,
) -> BatchResult:
    """Fit the mediation model of `mediate` to a batch of replications and test every indirect effect.

    Parameters
    ----------
    data : sequence of ReplicationData
        The complete cases of each replication (same columns in every replication).
    seeds : sequence of int
        One analysis seed per replication: ``mediate(..., seed=seeds[r])`` gives the same Monte Carlo and
        bootstrap intervals for replication r.
    methods : sequence of {"joint", "sobel", "monte_carlo", "percentile"}
        Tests of the indirect effects to run (the paths and the delta-method SE are always computed).
    level : float
        Confidence level; every test is at alpha = 1 - level.
    n_mc, n_boot : int
        Monte Carlo draws and bootstrap resamples per replication.
    normals : NormalStreams, optional
        The Monte Carlo draws' standard normals, shared by the models of a replication that have as many
        parameters (`moclab.design.power` passes one per batch of replications).

    Returns
    -------
    BatchResult

    Examples
    --------
    Three simulated trials of the bundled spec, analysed together:

    >>> from moclab.design import analyse_batch, power_targets, replication_arrays
    >>> from moclab.simulate import compile_simulation, draw
    >>> plan = compile_simulation("recipient-pathway")
    >>> target = power_targets(plan, ["isp_support__trust__acceptability"])[0]
    >>> data = [replication_arrays(draw(plan, seed), target) for seed in (1, 2, 3)]
    >>> fit = analyse_batch(data, seeds=[1, 2, 3], methods=["joint", "monte_carlo"], n_mc=1000)
    >>> a, se, p = fit.paths["a[0]"]
    >>> a.round(3).tolist()
    [0.367, 0.398, 0.366]
    >>> fit.indirect[0]["estimate"].round(3).tolist()
    [0.104, 0.102, 0.085]
    >>> low, high = fit.indirect[0]["monte_carlo"]
    >>> (low > 0).tolist()  # each Monte Carlo interval lies above 0: the test rejects in every replication
    [True, True, True]
    """
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown method(s) {sorted(unknown)}; choose from {', '.join(METHODS)}")
    c, k = data[0].n_covariates, data[0].n_mediators
    equations = _equations(c, k)
    # The total-effect model (the outcome on the strategy and covariates) is fitted with the others for its
    # t test; its block does not change the others' (CR1 blocks depend on their own equations only).
    total_equation = (equations[-1][0], equations[0][1])
    theta, covariance, df, n, n_clusters, failed = _fit(data, [*equations, total_equation])
    sizes = [len(p) for _, p in equations]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    a_index = [int(offsets[j] + 1) for j in range(k)]
    b_index = [int(offsets[k] + 2 + c + j) for j in range(k)]
    direct_index, total_index = int(offsets[k] + 1), int(offsets[k + 1] + 1)
    diagonal = np.sqrt(np.clip(np.einsum("rii->ri", covariance), 0.0, None))
    result = BatchResult(
        n=n,
        n_clusters=n_clusters,
        failed=failed,
    )
    named = [(f"a[{j}]", a_index[j]) for j in range(k)] + [(f"b[{j}]", b_index[j]) for j in range(k)]
    for name, index in [*named, ("direct", direct_index), ("total", total_index)]:
        estimate, se = theta[:, index], diagonal[:, index]
        p = _two_sided_t(estimate, se, df[:, index])
        result.paths[name] = (estimate, se, np.where(failed, np.nan, p))
    # The Monte Carlo draws are those of `mediate`: over the mediation model's parameters only.
    parameters = int(offsets[-1])
    theta, covariance = theta[:, :parameters], covariance[:, :parameters, :parameters]
    z_crit = float(special.ndtri(0.5 + level / 2))
    r_idx = np.arange(len(data))

    def delta(gradient_terms: list[tuple[int, np.ndarray]]) -> np.ndarray:
        """sqrt(g'Vg) for a gradient given as (parameter index, value per replication) terms."""
        variance = np.zeros(len(data))
        for i, gi in gradient_terms:
            for j2, gj in gradient_terms:
                variance += gi * gj * covariance[r_idx, i, j2]
        return np.sqrt(np.clip(variance, 0.0, None))

    for j in range(k):
        a, b = theta[:, a_index[j]], theta[:, b_index[j]]
        estimate = a * b
        se = delta([(a_index[j], b), (b_index[j], a)])
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * special.ndtr(-np.abs(estimate / se))
        result.indirect[j] = {
            "estimate": estimate,
            "se": se,
            "p": np.where(failed, np.nan, p),
            "delta": (estimate - z_crit * se, estimate + z_crit * se),
        }
    for j in range(1, k):
        a0, b0 = theta[:, a_index[0]], theta[:, b_index[0]]
        aj, bj = theta[:, a_index[j]], theta[:, b_index[j]]
        estimate = a0 * b0 - aj * bj
        se = delta([(a_index[0], b0), (b_index[0], a0), (a_index[j], -bj), (b_index[j], -aj)])
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * special.ndtr(-np.abs(estimate / se))
        result.contrasts[j] = {
            "estimate": estimate,
            "se": se,
            "p": np.where(failed, np.nan, p),
            "delta": (estimate - z_crit * se, estimate + z_crit * se),
        }
    if "monte_carlo" in methods:
        _monte_carlo(result, data, seeds, theta, covariance, a_index, b_index, failed, level, n_mc, normals)
    if "percentile" in methods:
        _bootstrap(result, data, seeds, equations, failed, level, n_boot)
    return result


def _effects_from_paths(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indirect effects a_j·b_j and contrasts a_0·b_0 - a_j·b_j, one row each, from (k, B) paths."""
    indirect = a * b
    rows = [indirect]
    if a.shape[0] > 1:
        rows.append(indirect[:1] - indirect[1:])
    return np.concatenate(rows, axis=0)


def _store(result: BatchResult, method: str, row: int, low: np.ndarray, high: np.ndarray, k: int) -> None:
    for j in range(k):
        result.indirect[j].setdefault(
            method, (np.full(result.n.size, np.nan), np.full(result.n.size, np.nan))
        )
        result.indirect[j][method][0][row] = low[j]
        result.indirect[j][method][1][row] = high[j]
    for j in range(1, k):
        result.contrasts[j].setdefault(
            method, (np.full(result.n.size, np.nan), np.full(result.n.size, np.nan))
        )
        result.contrasts[j][method][0][row] = low[k + j - 1]
        result.contrasts[j][method][1][row] = high[k + j - 1]


def _store_sd(result: BatchResult, method: str, row: int, sd: np.ndarray) -> None:
    """The SD of each indirect effect's draws (or resamples) in one replication, as ``{method}_sd``."""
    for j, value in enumerate(sd):
        result.indirect[j].setdefault(f"{method}_sd", np.full(result.n.size, np.nan))[row] = value


def _draws_sd(effects: np.ndarray) -> np.ndarray:
    """The SD (n - 1) of each row of draws, NaN draws left out: `mediate`'s SE of an effect with a Monte
    Carlo or bootstrap interval (its ``nanstd``)."""
    if np.isfinite(effects).all():
        return effects.std(axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nanstd(effects, axis=1, ddof=1)


def _monte_carlo(
    result: BatchResult,
    data: Sequence[ReplicationData],
    seeds: Sequence[int],
    theta: np.ndarray,
    covariance: np.ndarray,
    a_index: list[int],
    b_index: list[int],
    failed: np.ndarray,
    level: float,
    n_mc: int,
    normals: NormalStreams | None = None,
) -> None:
    """Monte Carlo intervals (Preacher & Selig 2012): the draws `mediate(ci="monte_carlo", seed=s)` makes."""
    k = len(a_index)
    needed = a_index + b_index
    roots = covariance_root(covariance)  # batched: the square root `monte_carlo_draws` uses
    finite: list[tuple[int, np.ndarray]] = []  # rows whose intervals come from one call at the end
    for row in range(len(data)):
        if failed[row]:
            _store(result, "monte_carlo", row, np.full(2 * k, np.nan), np.full(2 * k, np.nan), k)
            continue
        normal = (normals if normals is not None else NormalStreams()).rows(seeds[row], n_mc, theta.shape[1])
        # Only the a and b columns of theta + normal @ root' are needed for the indirect effects.
        # Laid out one row per path: the effects and their order statistics then read contiguous memory.
        draws = np.ascontiguousarray((theta[row, needed] + normal @ roots[row][needed].T).T)
        effects = _effects_from_paths(draws[:k], draws[k:])
        if np.isfinite(effects).all():
            finite.append((row, effects))
            continue
        low, high = _percentile(effects.T, level)
        _store(result, "monte_carlo", row, low, high, k)
    if finite:
        # The order statistics of every replication's effects in one call: its cost is mostly per call.
        low, high = _tail_percentile(np.concatenate([effects for _, effects in finite]), level)
        size = finite[0][1].shape[0]
        for position, (row, _) in enumerate(finite):
            span = slice(position * size, (position + 1) * size)
            _store(result, "monte_carlo", row, low[span], high[span], k)


def _bootstrap(
    result: BatchResult,
    data: Sequence[ReplicationData],
    seeds: Sequence[int],
    equations: list[tuple[int, list[int]]],
    failed: np.ndarray,
    level: float,
    n_boot: int,
) -> None:
    """Percentile bootstrap intervals (cluster bootstrap with clusters), as `mediate(ci="percentile")`."""
    k = data[0].n_mediators
    c = data[0].n_covariates
    m_cols = [2 + c + j for j in range(k)]
    y_col = 2 + c + k
    for row, item in enumerate(data):
        if failed[row]:
            _store(result, "percentile", row, np.full(2 * k, np.nan), np.full(2 * k, np.nan), k)
            _store_sd(result, "percentile", row, np.full(k, np.nan))
            continue
        z = item.z
        # mediate resamples centred and scaled columns (better conditioned normal equations) and maps the
        # coefficients back: a = a_s·s_M/s_X, b = b_s·s_Y/s_M.
        center = z.mean(axis=0)
        scale = z.std(axis=0)
        center[0], scale[0] = 0.0, 1.0
        boot = bootstrap_regressions(
            (z - center) / scale,
            equations,
            int(n_boot),
            np.random.default_rng(seeds[row]),
            clusters=item.codes,
            chunk_size=BOOT_CHUNK,
        )
        keep = ~boot.singular
        if int(keep.sum()) < MIN_BOOT_USED:
            _store(result, "percentile", row, np.full(2 * k, np.nan), np.full(2 * k, np.nan), k)
            _store_sd(result, "percentile", row, np.full(k, np.nan))
            continue
        a = np.column_stack([boot.coefficients[j][keep, 1] * scale[m_cols[j]] / scale[1] for j in range(k)])
        b = np.column_stack(
            [boot.coefficients[k][keep, 2 + c + j] * scale[y_col] / scale[m_cols[j]] for j in range(k)]
        )
        effects = _effects_from_paths(a.T, b.T)
        low, high = _percentile(effects.T, level)
        _store(result, "percentile", row, low, high, k)
        _store_sd(result, "percentile", row, _draws_sd(effects[:k]))
