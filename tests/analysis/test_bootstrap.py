"""The shared resampling machinery against slow, obvious reference loops and against pingouin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin
import pytest
import statsmodels.api as sm
from public_data import MEDIATION_DATA

from moclab.analysis.bootstrap import (
    as_generator,
    batched_ols,
    bootstrap_counts,
    bootstrap_indices,
    bootstrap_regressions,
    cluster_bootstrap_counts,
    cluster_bootstrap_indices,
    cluster_resample_rows,
    crossproducts,
    factorize_clusters,
    jackknife_crossproducts,
    jackknife_regressions,
    solve_equations,
)


def _mediation_data(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    c = rng.normal(size=n)
    m = 0.5 * x + 0.2 * c + rng.normal(size=n)
    y = 0.4 * m + 0.1 * x + rng.normal(size=n)
    return np.column_stack([np.ones(n), x, c, m, y])


EQUATIONS = [(3, [0, 1, 2]), (4, [0, 1, 2, 3])]


def test_as_generator_accepts_int_generator_none_and_rejects_other():
    rng = np.random.default_rng(1)
    assert as_generator(rng) is rng
    assert as_generator(5).integers(0, 1000) == np.random.default_rng(5).integers(0, 1000)
    assert isinstance(as_generator(None), np.random.Generator)
    with pytest.raises(TypeError, match="seed must be"):
        as_generator("42")  # type: ignore[arg-type]


def test_counts_are_bincounts_of_the_indices_drawn_with_the_same_seed():
    indices = bootstrap_indices(37, 25, seed=3)
    counts = bootstrap_counts(37, 25, seed=3)
    assert indices.shape == (25, 37) and indices.min() >= 0 and indices.max() < 37
    reference = np.array([np.bincount(row, minlength=37) for row in indices])
    np.testing.assert_array_equal(counts, reference)
    assert (counts.sum(axis=1) == 37).all()


def test_crossproducts_equal_explicit_weighted_products():
    z = _mediation_data(40)
    weights = bootstrap_counts(40, 6, seed=2)
    batched = crossproducts(z, weights)
    for b in range(6):
        np.testing.assert_allclose(batched[b], z.T @ (weights[b][:, None] * z), rtol=1e-12)
    np.testing.assert_allclose(crossproducts(z), z.T @ z, rtol=1e-12)


def test_batched_ols_with_counts_equals_lstsq_on_gathered_rows():
    """Slow reference: gather each resample's rows and solve it with numpy.linalg.lstsq, one by one."""
    z = _mediation_data(80)
    x, y = z[:, :4], z[:, 4]
    indices = bootstrap_indices(80, 50, seed=11)
    counts = bootstrap_counts(80, 50, seed=11)
    batched = batched_ols(x, y, counts)
    for b in range(50):
        rows = indices[b]
        reference = np.linalg.lstsq(x[rows], y[rows], rcond=None)[0]
        np.testing.assert_allclose(batched[b], reference, rtol=1e-9, atol=1e-12)


def test_batched_ols_stacked_designs_equal_statsmodels():
    rng = np.random.default_rng(4)
    designs = np.concatenate([np.ones((5, 30, 1)), rng.normal(size=(5, 30, 2))], axis=2)
    responses = designs @ np.array([1.0, 0.5, -0.3]) + rng.normal(size=(5, 30))
    coefficients = batched_ols(designs, responses)
    for d in range(5):
        np.testing.assert_allclose(coefficients[d], sm.OLS(responses[d], designs[d]).fit().params, rtol=1e-9)
    two = batched_ols(designs, np.stack([responses, 2 * responses], axis=2))
    np.testing.assert_allclose(two[..., 1], 2 * coefficients, rtol=1e-9)


def test_singular_resample_is_flagged_and_nan():
    # a design whose second column is constant within the first resample (only rows with x == 0 drawn)
    x = np.column_stack([np.ones(6), [0.0, 0, 0, 1, 1, 1]])
    y = np.arange(6.0)
    weights = np.array([[2.0, 2, 2, 0, 0, 0], [1.0, 1, 1, 1, 1, 1]])
    coefficients, singular = solve_equations(crossproducts(np.column_stack([x, y]), weights), 2, [0, 1])
    assert singular.tolist() == [True, False]
    assert np.isnan(coefficients[0]).all()
    np.testing.assert_allclose(coefficients[1], np.linalg.lstsq(x, y, rcond=None)[0])


def test_bootstrap_regressions_match_gathered_rows_and_do_not_depend_on_chunks():
    z = _mediation_data(60)
    draws = bootstrap_regressions(z, EQUATIONS, 40, seed=9)
    chunked = bootstrap_regressions(z, EQUATIONS, 40, seed=9, chunk_size=7)
    for whole, part in zip(draws.coefficients, chunked.coefficients, strict=True):
        np.testing.assert_allclose(whole, part, rtol=1e-12)
    indices = bootstrap_indices(60, 40, seed=9)  # the same stream, so the same resamples
    for b in (0, 17, 39):
        rows = indices[b]
        for (response, predictors), coefficients in zip(EQUATIONS, draws.coefficients, strict=True):
            reference = np.linalg.lstsq(z[rows][:, predictors], z[rows, response], rcond=None)[0]
            np.testing.assert_allclose(coefficients[b], reference, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(draws.means[b], z[rows].mean(axis=0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(draws.variances[b], z[rows].var(axis=0), rtol=1e-9, atol=1e-12)
    assert draws.n_singular == 0 and (draws.weight_total == 60).all()


def test_batched_indirect_effects_equal_pingouin_on_the_same_resamples():
    """pingouin refits every resample in a Python loop; fed the same row indices, the results must agree."""
    jobs = pd.read_csv(MEDIATION_DATA / "jobs.csv")
    covariates = ["econ_hard", "sex", "age"]
    _, pingouin_draws = pingouin.mediation_analysis(
        data=jobs,
        x="treat",
        m="job_seek",
        y="depress2",
        covar=covariates,
        n_boot=200,
        seed=42,
        return_dist=True,
    )
    n = len(jobs)
    indices = np.random.RandomState(42).choice(np.arange(n), replace=True, size=(200, n))  # pingouin's draw
    counts = np.array([np.bincount(row, minlength=n) for row in indices], dtype=float)
    x = np.column_stack([np.ones(n), jobs["treat"], jobs[covariates]])
    a = batched_ols(x, jobs["job_seek"].to_numpy(), counts)[:, 1]
    b = batched_ols(np.column_stack([x, jobs["job_seek"]]), jobs["depress2"].to_numpy(), counts)[:, -1]
    np.testing.assert_allclose(a * b, np.ravel(pingouin_draws), rtol=1e-8, atol=1e-12)


def test_jackknife_equals_leave_one_out_refits_and_the_hat_value_formula():
    z = _mediation_data(30)
    jack = jackknife_regressions(z, EQUATIONS)
    response, predictors = EQUATIONS[1]
    x, y = z[:, predictors], z[:, response]
    for i in range(30):
        keep = np.arange(30) != i
        reference = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
        np.testing.assert_allclose(jack.coefficients[1][i], reference, rtol=1e-9, atol=1e-12)
    # closed form (Belsley, Kuh & Welsch 1980): b_(-i) = b - (X'X)^-1 x_i e_i / (1 - h_ii)
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    residuals = y - x @ beta
    hat = np.einsum("ij,jk,ik->i", x, xtx_inv, x)
    closed = beta - (xtx_inv @ x.T).T * (residuals / (1 - hat))[:, None]
    np.testing.assert_allclose(jack.coefficients[1], closed, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(jack.weight_total, 29)


def test_leave_one_cluster_out_equals_refits():
    z = _mediation_data(48)
    groups = np.repeat(np.arange(8), 6)
    jack = jackknife_regressions(z, EQUATIONS, clusters=groups)
    assert jack.coefficients[0].shape == (8, 3)
    for g in range(8):
        keep = groups != g
        for (response, predictors), coefficients in zip(EQUATIONS, jack.coefficients, strict=True):
            reference = np.linalg.lstsq(z[keep][:, predictors], z[keep, response], rcond=None)[0]
            np.testing.assert_allclose(coefficients[g], reference, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(jackknife_crossproducts(z, groups)[3], z[groups != 3].T @ z[groups != 3])


def test_cluster_resampling_keeps_clusters_whole():
    labels = np.array(["s2", "s1", "s2", "s3", "s1", "s3", "s3"])
    codes, names = factorize_clusters(labels)
    assert codes.tolist() == [0, 1, 0, 2, 1, 2, 2] and names.tolist() == ["s2", "s1", "s3"]
    drawn = cluster_bootstrap_indices(codes, 30, seed=5)
    weights = cluster_bootstrap_counts(codes, 30, seed=5)
    assert drawn.shape == (30, 3) and weights.shape == (30, 7)
    for b in range(30):
        rows, new_codes = cluster_resample_rows(codes, drawn[b])
        # the same resample as weights: each row appears as often as its cluster was drawn
        np.testing.assert_array_equal(np.bincount(rows, minlength=7), weights[b])
        # rows come in whole clusters, relabelled by draw position
        for position, cluster in enumerate(drawn[b]):
            members = rows[new_codes == position]
            assert sorted(members.tolist()) == np.flatnonzero(codes == cluster).tolist()


def test_cluster_bootstrap_regressions_equal_stacked_cluster_refits():
    z = _mediation_data(40)
    groups = np.repeat(np.arange(10), 4)
    draws = bootstrap_regressions(z, EQUATIONS, 20, seed=8, clusters=groups)
    drawn = cluster_bootstrap_indices(groups, 20, seed=8)
    for b in (0, 9, 19):
        rows, _ = cluster_resample_rows(groups, drawn[b])
        response, predictors = EQUATIONS[1]
        reference = np.linalg.lstsq(z[rows][:, predictors], z[rows, response], rcond=None)[0]
        np.testing.assert_allclose(draws.coefficients[1][b], reference, rtol=1e-9, atol=1e-12)


def test_missing_cluster_label_is_rejected():
    with pytest.raises(ValueError, match="missing"):
        factorize_clusters(np.array([1.0, np.nan, 2.0]))


def test_stacked_datasets_equal_bootstrapping_each_dataset_in_turn():
    stack = np.stack([_mediation_data(50, seed=s) for s in range(4)])
    batched = bootstrap_regressions(stack, EQUATIONS, 30, seed=6, chunk_size=45)
    assert batched.coefficients[1].shape == (4, 30, 4) and batched.singular.shape == (4, 30)
    rng = np.random.default_rng(6)
    for d in range(4):
        single = bootstrap_regressions(stack[d], EQUATIONS, 30, seed=rng)
        for whole, part in zip(batched.coefficients, single.coefficients, strict=True):
            np.testing.assert_allclose(whole[d], part, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(batched.variances[d], single.variances, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="single"):
        bootstrap_regressions(stack, EQUATIONS, 10, clusters=np.zeros(50, dtype=int))
