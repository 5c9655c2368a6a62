"""Shared resampling machinery: bootstrap weights, batched least squares and jackknife refits.

Every estimator in `moclab.analysis` that resamples uses these functions, so the random stream, the chunking
and the handling of degenerate resamples behave the same everywhere.

Why a hand-written bootstrap: numpy, scipy and statsmodels offer no way to solve thousands of *resampled*
least-squares problems at once (`scipy.stats.bootstrap` calls a statistic per resample, statsmodels refits in
a Python loop). A nonparametric bootstrap of ordinary least squares only needs the weighted cross-product
matrix ``Z' W Z`` of every resample, where ``W`` holds how often each row (or cluster) was drawn. With the
resample counts stacked in a matrix ``C`` (B x n) and the pairwise column products of the data in ``P`` (n x
q), all B cross-product matrices are the single matrix product ``C @ P`` (cost B·n·q, one BLAS call), and the
small normal equations are then solved together by `numpy.linalg.solve`. Gathering rows (``Z[idx]``) instead
costs memory traffic of B·n·v floats and is slower; `benchmarks/bench_mediation.py` compares both.

Conventions
-----------
* ``seed`` is ``int | numpy.random.Generator | None`` everywhere; `as_generator` turns it into a Generator.
* Data ``Z`` is an (n, v) float array whose columns are all variables of all equations, including a column of
  ones for the intercept. An equation is ``(response_column, predictor_columns)``.
* Center (and preferably scale) the non-constant columns of ``Z`` before calling: normal equations square the
  condition number, and centering removes the usual cause of ill conditioning (large means).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from moclab.analysis import _arguments

SeedLike = int | np.integer | np.random.Generator | None
Equation = tuple[int, Sequence[int]]

#: Upper bound on the entries of one chunk of the (chunk x n) resample-count matrix (~8 MB; larger chunks
#: fall out of the CPU cache and run slower).
DEFAULT_CHUNK_ELEMENTS = 1_000_000

#: A resampled normal-equation matrix whose determinant after scaling to unit diagonal (1 for uncorrelated,
#: 0 for collinear predictors) falls below this is treated as singular (e.g. a resample that drew only one
#: arm of a binary strategy).
SINGULAR_TOLERANCE = 1e-12

__all__ = [
    "DEFAULT_CHUNK_ELEMENTS",
    "SINGULAR_TOLERANCE",
    "RegressionDraws",
    "as_generator",
    "batched_ols",
    "batched_residual_sd",
    "bootstrap_counts",
    "bootstrap_indices",
    "bootstrap_regressions",
    "cluster_bootstrap_counts",
    "cluster_bootstrap_indices",
    "cluster_resample_rows",
    "crossproducts",
    "factorize_clusters",
    "iter_chunks",
    "jackknife_crossproducts",
    "jackknife_regressions",
    "solve_equations",
]


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a `numpy.random.Generator` for ``seed`` (an int, a Generator, or None for fresh entropy).

    A Generator passed in is returned as is (not copied), so successive calls draw successive numbers.

    Examples
    --------
    >>> rng = as_generator(42)
    >>> as_generator(rng) is rng
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, int | np.integer):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy.random.Generator or None, not {type(seed).__name__}")


def _check_count(n_boot: int) -> int:
    _arguments.check(n_boot=n_boot, min_boot=1)
    return int(n_boot)


def _chunk_sizes(n_boot: int, n_units: int, chunk_size: int | None) -> list[int]:
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_CHUNK_ELEMENTS // max(n_units, 1))
    chunk_size = max(1, int(chunk_size))
    sizes = [chunk_size] * (n_boot // chunk_size)
    if n_boot % chunk_size:
        sizes.append(n_boot % chunk_size)
    return sizes


def bootstrap_indices(n: int, n_boot: int, seed: SeedLike = None) -> np.ndarray:
    """Row indices of ``n_boot`` nonparametric bootstrap resamples of ``n`` rows, drawn at once.

    Parameters
    ----------
    n : int
        Number of rows (or clusters) to resample.
    n_boot : int
        Number of resamples.
    seed : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Integer array of shape (n_boot, n); row b lists the rows drawn (with replacement) for resample b.

    Notes
    -----
    Draws come from ``Generator.integers`` with int32 output (half the cost of int64; the bit generator
    keeps the unused half of a 64-bit word in its state), so drawing the resamples in chunks gives exactly the
    same indices as drawing them at once with the same seed. `bootstrap_regressions` draws the same way, so
    its resamples are the rows of this array.

    Examples
    --------
    >>> bootstrap_indices(5, 2, seed=1).shape
    (2, 5)
    """
    rng = as_generator(seed)
    return rng.integers(0, n, size=(_check_count(n_boot), n), dtype=np.int32)


def _counts_from_indices(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` units appears in each row of ``indices`` (rows are resamples), as floats."""
    n_rows = indices.shape[0]
    # One bincount over offset indices counts every resample at once (no loop over resamples).
    offsets = indices + (np.arange(n_rows, dtype=np.int64) * n)[:, None]
    return np.bincount(offsets.ravel(), minlength=n_rows * n).reshape(n_rows, n).astype(np.float64)


def bootstrap_counts(n: int, n_boot: int, seed: SeedLike = None) -> np.ndarray:
    """Resample counts (how often each row is drawn) of ``n_boot`` nonparametric bootstrap resamples.

    Parameters
    ----------
    n : int
        Number of rows.
    n_boot : int
        Number of resamples.
    seed : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Float array of shape (n_boot, n); each row sums to ``n``. Row b equals
        ``numpy.bincount(bootstrap_indices(n, n_boot, seed)[b], minlength=n)`` for the same seed, so weighted
        statistics with these counts equal statistics of the gathered rows.

    Notes
    -----
    The counts of one resample are Multinomial(n; 1/n, ..., 1/n). They are obtained by drawing the indices and
    counting them, which is several times faster than `Generator.multinomial` for large ``n``.

    Examples
    --------
    >>> counts = bootstrap_counts(4, 3, seed=0)
    >>> counts.sum(axis=1).tolist()
    [4.0, 4.0, 4.0]
    """
    return _counts_from_indices(bootstrap_indices(n, n_boot, seed), n)


def factorize_clusters(clusters: Sequence[object] | np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer cluster codes 0..G-1 (in order of first appearance) and the cluster labels they stand for.

    Examples
    --------
    >>> codes, labels = factorize_clusters(["b", "a", "b"])
    >>> codes.tolist(), labels.tolist()
    ([0, 1, 0], ['b', 'a'])
    """
    codes, labels = pd.factorize(pd.Series(np.asarray(clusters)), sort=False)
    if (codes < 0).any():
        raise ValueError("cluster labels contain missing values; drop or label those rows first")
    return codes.astype(np.int64), np.asarray(labels)


def cluster_bootstrap_indices(codes: np.ndarray, n_boot: int, seed: SeedLike = None) -> np.ndarray:
    """Clusters drawn (with replacement) for ``n_boot`` cluster-bootstrap resamples.

    Parameters
    ----------
    codes : numpy.ndarray
        Cluster code 0..G-1 of every row (see `factorize_clusters`).
    n_boot : int
        Number of resamples.
    seed : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Integer array (n_boot, G) of cluster codes; resample b consists of all rows of each cluster in row b
        (a cluster drawn twice contributes its rows twice). Use `cluster_resample_rows` to get the rows of one
        resample for estimators that must be refitted, or `cluster_bootstrap_counts` for weighted estimators.

    Notes
    -----
    The cluster (case) bootstrap resamples the independent units, here whole clusters, and keeps each
    cluster's rows together, which preserves the within-cluster dependence (Davison & Hinkley, 1997,
    sec. 3.8; Field & Welsh, 2007).

    References
    ----------
    Davison, A. C., & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge UP.
    Field, C. A., & Welsh, A. H. (2007). Bootstrapping clustered data. *JRSS B*, 69(3), 369-390.

    Examples
    --------
    >>> cluster_bootstrap_indices(np.array([0, 0, 1, 1, 2]), 4, seed=3).shape
    (4, 3)
    """
    codes = np.asarray(codes)
    n_clusters = int(codes.max()) + 1 if codes.size else 0
    return bootstrap_indices(n_clusters, n_boot, seed)


def cluster_resample_rows(codes: np.ndarray, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of one cluster-bootstrap resample and new cluster codes that keep repeated clusters distinct.

    Parameters
    ----------
    codes : numpy.ndarray
        Cluster code 0..G-1 of every row.
    drawn : numpy.ndarray
        One row of `cluster_bootstrap_indices`: the G cluster codes drawn.

    Returns
    -------
    rows : numpy.ndarray
        Row indices into the original data, cluster after cluster in the order drawn.
    new_codes : numpy.ndarray
        Cluster code of each returned row, 0..G-1 by draw position, so a cluster drawn twice becomes two
        clusters (as a multilevel refit needs).

    Examples
    --------
    >>> rows, new = cluster_resample_rows(np.array([0, 0, 1]), np.array([1, 1]))
    >>> rows.tolist(), new.tolist()
    ([2, 2], [0, 1])
    """
    codes = np.asarray(codes)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=int(codes.max()) + 1)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    drawn = np.asarray(drawn)
    lengths = sizes[drawn]
    # Position of every output row inside its cluster's block of `order`, built without a Python loop.
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = order[np.repeat(starts[drawn], lengths) + within]
    return rows, np.repeat(np.arange(drawn.size), lengths)


def cluster_bootstrap_counts(codes: np.ndarray, n_boot: int, seed: SeedLike = None) -> np.ndarray:
    """Row weights (n_boot, n) of cluster-bootstrap resamples: how often each row's cluster was drawn.

    Weighted least squares with these weights equals least squares on the stacked rows of the drawn
    clusters, so `batched_ols` and `crossproducts` accept them directly.

    Examples
    --------
    >>> w = cluster_bootstrap_counts(np.array([0, 0, 1]), 2, seed=0)
    >>> w.shape, bool((w[:, 0] == w[:, 1]).all())
    ((2, 3), True)
    """
    codes = np.asarray(codes, dtype=np.int64)
    drawn = cluster_bootstrap_indices(codes, n_boot, seed)
    return _counts_from_indices(drawn, drawn.shape[1])[:, codes]


def _packed_products(data: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    upper = np.triu_indices(data.shape[1])
    return data[:, upper[0]] * data[:, upper[1]], upper


def _unpack(packed: np.ndarray, upper: tuple[np.ndarray, np.ndarray], v: int) -> np.ndarray:
    out = np.empty((packed.shape[0], v, v))
    out[:, upper[0], upper[1]] = packed
    out[:, upper[1], upper[0]] = packed
    return out


def crossproducts(data: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted cross-product matrices ``Z' diag(w_b) Z`` for every row ``w_b`` of ``weights`` at once.

    Parameters
    ----------
    data : numpy.ndarray
        Data ``Z`` of shape (n, v).
    weights : numpy.ndarray, optional
        Weights of shape (B, n) (bootstrap counts, cluster-bootstrap weights, jackknife indicators) or (n,);
        None means all ones.

    Returns
    -------
    numpy.ndarray
        Array (B, v, v) (or (v, v) for one-dimensional or no weights).

    Notes
    -----
    Only the v(v+1)/2 distinct column products are formed; the B matrices are then one matrix product
    ``weights @ products``.

    Examples
    --------
    >>> z = np.array([[1.0, 2.0], [1.0, 3.0]])
    >>> crossproducts(z).tolist()
    [[2.0, 5.0], [5.0, 13.0]]
    """
    data = np.asarray(data, dtype=np.float64)
    products, upper = _packed_products(data)
    if weights is None:
        return _unpack(products.sum(axis=0)[None], upper, data.shape[1])[0]
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim == 1:
        return _unpack((weights @ products)[None], upper, data.shape[1])[0]
    return _unpack(weights @ products, upper, data.shape[1])


def jackknife_crossproducts(data: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Cross-product matrices with one row (or one group of rows) left out, for every row (or group).

    Parameters
    ----------
    data : numpy.ndarray
        Data ``Z`` of shape (n, v).
    groups : numpy.ndarray, optional
        Group code 0..G-1 of every row: leave out one whole group (cluster) at a time.

    Returns
    -------
    numpy.ndarray
        Array (n, v, v), or (G, v, v) with groups.

    Notes
    -----
    ``Z'Z`` minus the left-out rows' own contribution (a rank-one downdate ``z_i z_i'`` per row): the
    leave-one-out regressions then cost one small solve each instead of n refits. This equals the classical
    leave-one-out formula ``b_(-i) = b - (X'X)^{-1} x_i e_i / (1 - h_ii)`` (Belsley, Kuh & Welsch, 1980).

    Examples
    --------
    >>> z = np.array([[1.0, 2.0], [1.0, 3.0]])
    >>> jackknife_crossproducts(z)[0].tolist()
    [[1.0, 3.0], [3.0, 9.0]]
    """
    data = np.asarray(data, dtype=np.float64)
    products, upper = _packed_products(data)
    total = products.sum(axis=0)
    if groups is None:
        left_out = products
    else:
        groups = np.asarray(groups, dtype=np.int64)
        n_groups = int(groups.max()) + 1
        left_out = np.empty((n_groups, products.shape[1]))
        for column in range(products.shape[1]):  # loop over the few product columns, not over rows
            left_out[:, column] = np.bincount(groups, weights=products[:, column], minlength=n_groups)
    return _unpack(total[None] - left_out, upper, data.shape[1])


def solve_equations(
    cross: np.ndarray, response: int, predictors: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients of one equation from (batched) cross-product matrices.

    Parameters
    ----------
    cross : numpy.ndarray
        Cross-product matrices (B, v, v) or (v, v) from `crossproducts` / `jackknife_crossproducts`.
    response : int
        Column of the response.
    predictors : sequence of int
        Columns of the predictors (include the intercept column).

    Returns
    -------
    coefficients : numpy.ndarray
        (B, p) (or (p,)), in the order of ``predictors``; rows of singular systems are NaN.
    singular : numpy.ndarray
        Boolean (B,) (or scalar): which systems were singular (a predictor constant or collinear in that
        resample).

    Examples
    --------
    >>> z = np.column_stack([np.ones(4), [0.0, 1, 2, 3], [1.0, 3, 5, 7]])
    >>> coef, singular = solve_equations(crossproducts(z), 2, [0, 1])
    >>> np.round(coef, 10).tolist(), bool(singular)
    ([1.0, 2.0], False)
    """
    cross = np.asarray(cross, dtype=np.float64)
    single = cross.ndim == 2
    if single:
        cross = cross[None]
    predictors = list(predictors)
    gram = cross[:, predictors][:, :, predictors]
    rhs = cross[:, predictors, response]
    # Scale to unit diagonal: the singularity test is then scale free, and the solve better conditioned.
    diagonal = np.einsum("bii->bi", gram)
    valid_diag = (diagonal > 0).all(axis=1)
    scale = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    scaled = gram * scale[:, :, None] * scale[:, None, :]
    # A unit-diagonal Gram matrix has determinant 1 for uncorrelated predictors and 0 for collinear ones;
    # slogdet is a batched LU, several times cheaper than the smallest eigenvalue.
    sign, log_det = np.linalg.slogdet(scaled)
    singular = ~valid_diag | ~(sign > 0) | ~(log_det > np.log(SINGULAR_TOLERANCE))
    safe = np.where(singular[:, None, None], np.eye(len(predictors)), scaled)
    coefficients = np.linalg.solve(safe, (rhs * scale)[:, :, None])[:, :, 0] * scale
    coefficients[singular] = np.nan
    if single:
        return coefficients[0], singular[0]
    return coefficients, singular


def batched_ols(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Ordinary (or weighted) least squares for many resamples or many datasets at once.

    Parameters
    ----------
    x : numpy.ndarray
        Design matrix (n, p) shared by all problems, or a stack (B, n, p) of design matrices (one per
        dataset); include a column of ones for an intercept.
    y : numpy.ndarray
        Response (n,) or (n, k) for a shared design, or (B, n) / (B, n, k) for stacked designs.
    weights : numpy.ndarray, optional
        Only with a shared (n, p) design: weights (B, n), e.g. `bootstrap_counts` or
        `cluster_bootstrap_counts`.

    Returns
    -------
    numpy.ndarray
        Coefficients (B, p) (or (B, p, k) for several responses; (p,) / (p, k) for one unweighted problem).
        Problems whose design is singular give NaN.

    Notes
    -----
    Solves the normal equations ``(X'WX) b = X'Wy`` batched with `numpy.linalg.solve`. For a shared design
    and weights the cross products of all problems are one matrix product (see the module docstring).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.column_stack([np.ones(50), rng.normal(size=50)])
    >>> y = 1 + 2 * x[:, 1] + rng.normal(size=50)
    >>> bool(np.allclose(batched_ols(x, y), np.linalg.lstsq(x, y, rcond=None)[0]))
    True
    >>> batched_ols(x, y, bootstrap_counts(50, 200, seed=1)).shape
    (200, 2)
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim == 3:
        if weights is not None:
            raise ValueError("weights are only supported with a shared (n, p) design matrix")
        vector = y.ndim == 2
        y3 = y[:, :, None] if vector else y
        gram = np.einsum("bnp,bnq->bpq", x, x)
        rhs = np.einsum("bnp,bnk->bpk", x, y3)
        data_cross = np.concatenate(
            [
                np.concatenate([gram, rhs], axis=2),
                np.zeros((x.shape[0], y3.shape[2], x.shape[2] + y3.shape[2])),
            ],
            axis=1,
        )
    elif x.ndim == 2:
        vector = y.ndim == 1
        y2 = y[:, None] if vector else y
        data = np.column_stack([x, y2])
        data_cross = crossproducts(data, weights)
        if data_cross.ndim == 2:
            data_cross = data_cross[None]
    else:
        raise ValueError("x must have shape (n, p) or (B, n, p)")
    p = x.shape[-1]
    k = data_cross.shape[-1] - p
    out = np.stack([solve_equations(data_cross, p + j, range(p))[0] for j in range(k)], axis=-1)
    if vector:
        out = out[..., 0]
    if x.ndim == 2 and (weights is None or np.ndim(weights) == 1):
        out = out[0]
    return out


@dataclass(frozen=True)
class RegressionDraws:
    """Coefficients of a system of linear equations over many resamples (or jackknife leave-outs).

    Attributes
    ----------
    coefficients : tuple of numpy.ndarray
        One (B, p_e) array per equation, predictors in the order given.
    means, variances : numpy.ndarray
        (B, v): weighted mean and variance (divisor: total weight) of every column in every resample, e.g. to
        standardize effects within each resample.
    weight_total : numpy.ndarray
        (B,): total weight (number of rows) of each resample.
    singular : numpy.ndarray
        Boolean (B,): resamples in which some equation could not be solved (their coefficients are NaN).
    """

    coefficients: tuple[np.ndarray, ...]
    means: np.ndarray
    variances: np.ndarray
    weight_total: np.ndarray
    singular: np.ndarray

    @property
    def n_singular(self) -> int:
        return int(self.singular.sum())


def _solve_system(
    cross: np.ndarray, equations: Sequence[Equation], ones_column: int | None
) -> RegressionDraws:
    coefficients = []
    singular = np.zeros(cross.shape[0], dtype=bool)
    for response, predictors in equations:
        coef, bad = solve_equations(cross, response, predictors)
        coefficients.append(coef)
        singular |= bad
    diagonal = np.einsum("bii->bi", cross)
    if ones_column is None:
        total = np.full(cross.shape[0], np.nan)
        means = np.full(diagonal.shape, np.nan)
        variances = np.full(diagonal.shape, np.nan)
    else:
        total = cross[:, ones_column, ones_column]
        means = cross[:, ones_column, :] / total[:, None]
        variances = diagonal / total[:, None] - means**2
    return RegressionDraws(tuple(coefficients), means, variances, total, singular)


def _ones_column(data: np.ndarray) -> int | None:
    hits = np.flatnonzero(np.all(data == 1.0, axis=0))
    return int(hits[0]) if hits.size else None


def bootstrap_regressions(
    data: np.ndarray,
    equations: Sequence[Equation],
    n_boot: int,
    seed: SeedLike = None,
    *,
    clusters: np.ndarray | None = None,
    chunk_size: int | None = None,
) -> RegressionDraws:
    """Bootstrap the coefficients of several linear equations on the same rows, all resamples batched.

    Parameters
    ----------
    data : numpy.ndarray
        Data ``Z`` (n, v) holding every response and predictor column (and a column of ones), or a stack
        (D, n, v) of D datasets of equal size (a simulation study, a power analysis): each is bootstrapped
        ``n_boot`` times, all in one batch.
    equations : sequence of (int, sequence of int)
        ``(response_column, predictor_columns)`` per equation.
    n_boot : int
        Number of resamples (per dataset).
    seed : int, numpy.random.Generator or None
        Source of randomness.
    clusters : numpy.ndarray, optional
        Cluster codes 0..G-1 per row: resample whole clusters (cluster bootstrap) instead of rows. Only for a
        single (n, v) dataset.
    chunk_size : int, optional
        Resamples per chunk (bounds memory at chunk_size x n floats). The draws do not depend on it. With
        stacked datasets, whole datasets are chunked (at least one dataset's n_boot x n counts at a time).

    Returns
    -------
    RegressionDraws
        Coefficients per equation (B, p_e), per-resample means and variances, singular resamples flagged;
        with stacked datasets every array gains a leading dataset axis: (D, B, p_e), (D, B, v), (D, B).

    Notes
    -----
    All equations of one resample share the same rows, so the joint sampling distribution of coefficients
    across equations (needed for products such as an indirect effect a·b) is preserved. Each chunk costs one
    matrix product (chunk x n) @ (n x v(v+1)/2) plus a batched solve per equation. Stacked datasets draw
    their resamples dataset after dataset from the one generator.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=100)
    >>> m = 0.5 * x + rng.normal(size=100)
    >>> y = 0.5 * m + rng.normal(size=100)
    >>> z = np.column_stack([np.ones(100), x, m, y])
    >>> draws = bootstrap_regressions(z, [(2, [0, 1]), (3, [0, 1, 2])], n_boot=1000, seed=1)
    >>> indirect = draws.coefficients[0][:, 1] * draws.coefficients[1][:, 2]
    >>> indirect.shape
    (1000,)
    """
    data = np.asarray(data, dtype=np.float64)
    n_boot = _check_count(n_boot)
    rng = as_generator(seed)
    if data.ndim == 3:
        if clusters is not None:
            raise ValueError("clusters are only supported for a single (n, v) dataset")
        return _bootstrap_stacked(data, equations, n_boot, rng, chunk_size)
    products, upper = _packed_products(data)
    if clusters is not None:
        clusters = np.asarray(clusters, dtype=np.int64)
        n_units = int(clusters.max()) + 1
    else:
        n_units = data.shape[0]
    parts = []
    for size in _chunk_sizes(n_boot, data.shape[0], chunk_size):
        drawn = rng.integers(0, n_units, size=(size, n_units), dtype=np.int32)
        counts = _counts_from_indices(drawn, n_units)
        if clusters is not None:
            counts = counts[:, clusters]
        parts.append(_unpack(counts @ products, upper, data.shape[1]))
    cross = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return _solve_system(cross, equations, _ones_column(data))


def _bootstrap_stacked(
    data: np.ndarray,
    equations: Sequence[Equation],
    n_boot: int,
    rng: np.random.Generator,
    chunk_size: int | None,
) -> RegressionDraws:
    """`bootstrap_regressions` for D stacked datasets (D, n, v): one batched matmul per chunk of datasets."""
    n_sets, n, v = data.shape
    upper = np.triu_indices(v)
    products = data[:, :, upper[0]] * data[:, :, upper[1]]  # (D, n, q)
    budget = DEFAULT_CHUNK_ELEMENTS if chunk_size is None else int(chunk_size) * n
    per_chunk = max(1, budget // (n_boot * n))
    parts = []
    for start in range(0, n_sets, per_chunk):
        stop = min(start + per_chunk, n_sets)
        drawn = rng.integers(0, n, size=((stop - start) * n_boot, n), dtype=np.int32)
        counts = _counts_from_indices(drawn, n).reshape(stop - start, n_boot, n)
        # One BLAS matmul per dataset: numpy's stacked matmul does not dispatch to BLAS and is ~15x slower.
        parts.extend(counts[i] @ products[start + i] for i in range(stop - start))
    cross = _unpack(np.concatenate(parts), upper, v)
    hits = np.flatnonzero(np.all(data == 1.0, axis=(0, 1)))
    flat = _solve_system(cross, equations, int(hits[0]) if hits.size else None)
    return RegressionDraws(
        tuple(c.reshape(n_sets, n_boot, -1) for c in flat.coefficients),
        flat.means.reshape(n_sets, n_boot, v),
        flat.variances.reshape(n_sets, n_boot, v),
        flat.weight_total.reshape(n_sets, n_boot),
        flat.singular.reshape(n_sets, n_boot),
    )


def jackknife_regressions(
    data: np.ndarray, equations: Sequence[Equation], *, clusters: np.ndarray | None = None
) -> RegressionDraws:
    """Leave-one-out (or leave-one-cluster-out) coefficients of several linear equations, without refitting.

    Parameters
    ----------
    data : numpy.ndarray
        Data ``Z`` (n, v).
    equations : sequence of (int, sequence of int)
        ``(response_column, predictor_columns)`` per equation.
    clusters : numpy.ndarray, optional
        Cluster codes 0..G-1: leave out one cluster at a time.

    Returns
    -------
    RegressionDraws
        With n (or G) rows; row i holds the estimates without row (cluster) i. Used for the acceleration
        constant of BCa intervals (`moclab.analysis.intervals.bca_interval`).

    Notes
    -----
    Uses `jackknife_crossproducts` (rank-one downdates), so the cost is n small solves, not n refits.

    Examples
    --------
    >>> z = np.column_stack([np.ones(5), [0.0, 1, 2, 3, 4], [0.0, 1, 2, 3, 5]])
    >>> jackknife_regressions(z, [(2, [0, 1])]).coefficients[0].shape
    (5, 2)
    """
    data = np.asarray(data, dtype=np.float64)
    cross = jackknife_crossproducts(data, clusters)
    return _solve_system(cross, equations, _ones_column(data))


def iter_chunks(n_boot: int, n_units: int, chunk_size: int | None = None) -> Iterator[int]:
    """Sizes of the chunks `bootstrap_regressions` uses for ``n_boot`` resamples of ``n_units`` units."""
    yield from _chunk_sizes(n_boot, n_units, chunk_size)


def batched_residual_sd(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, coefficients: np.ndarray
) -> np.ndarray:
    """Residual standard deviations of many weighted least-squares fits (e.g. from `batched_ols`).

    Parameters
    ----------
    x : numpy.ndarray
        Design matrix (n, p) shared by all fits.
    y : numpy.ndarray
        Response (n,).
    weights : numpy.ndarray
        Frequency weights (B, n) (bootstrap counts, cluster-bootstrap weights, 0/1 jackknife weights).
    coefficients : numpy.ndarray
        Coefficients (B, p) of each fit; rows of NaN (singular fits) give NaN.

    Returns
    -------
    numpy.ndarray
        (B,): ``sqrt(Σ w_i e_i² / (Σ w_i - p))``, the usual residual SD of the rows the weights stand for.

    Examples
    --------
    >>> x = np.column_stack([np.ones(4), [0.0, 1, 2, 3]])
    >>> y = np.array([0.0, 1, 1, 3])
    >>> w = np.ones((1, 4))
    >>> round(float(batched_residual_sd(x, y, w, batched_ols(x, y, w))[0]), 6)
    0.591608
    """
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    residual = np.asarray(y, dtype=np.float64) - coefficients @ x.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((weights * residual * residual).sum(axis=1) / (weights.sum(axis=1) - x.shape[1]))
