"""`mediate` against statsmodels OLS, closed forms, published JOBS II values, pingouin and scipy."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pingouin
import pytest
import statsmodels.formula.api as smf
from public_data import MEDIATION_DATA
from scipy import stats

from moclab.analysis import MediationResult, mediate
from moclab.analysis.bootstrap import bootstrap_regressions
from moclab.errors import DataError

matplotlib.use("Agg")

# The public example data live beside the repository (tests/public_data.py finds them).
DATA = MEDIATION_DATA
JOBS_COVARIATES = ["econ_hard", "sex", "age"]


@pytest.fixture(scope="module")
def jobs() -> pd.DataFrame:
    return pd.read_csv(DATA / "jobs.csv")


@pytest.fixture(scope="module")
def jobs_ols(jobs: pd.DataFrame) -> dict[str, object]:
    return {
        "mediator": smf.ols("job_seek ~ treat + econ_hard + sex + age", jobs).fit(),
        "outcome": smf.ols("depress2 ~ treat + job_seek + econ_hard + sex + age", jobs).fit(),
        "total": smf.ols("depress2 ~ treat + econ_hard + sex + age", jobs).fit(),
    }


@pytest.fixture(scope="module")
def jobs_bca(jobs: pd.DataFrame) -> MediationResult:
    return mediate(
        jobs,
        x="treat",
        m="job_seek",
        y="depress2",
        covariates=JOBS_COVARIATES,
        ci="bca",
        seed=2014,
        keep_draws=True,
    )


def _three_mediators(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "c1": rng.normal(size=n), "c2": rng.normal(size=n)})
    df["m1"] = 0.5 * df.x + 0.2 * df.c1 + rng.normal(size=n)
    df["m2"] = 0.3 * df.x + 0.4 * df.m1 + rng.normal(size=n)
    df["m3"] = 0.2 * df.x + 0.3 * df.m2 + 0.2 * df.m1 + rng.normal(size=n)
    df["y"] = 0.3 * df.m1 + 0.25 * df.m2 + 0.2 * df.m3 + 0.1 * df.x + 0.2 * df.c2 + rng.normal(size=n)
    return df


# ---------------------------------------------------------------------------------------------------------
# JOBS II: the example of the R mediation package (Tingley et al. 2014, JSS 59(5))
# ---------------------------------------------------------------------------------------------------------


def test_jobs_point_estimates_equal_statsmodels_ols_products(jobs_bca, jobs_ols):
    a = jobs_ols["mediator"].params["treat"]
    b = jobs_ols["outcome"].params["job_seek"]
    direct = jobs_ols["outcome"].params["treat"]
    total = jobs_ols["total"].params["treat"]
    assert jobs_bca.effect("a[job_seek]").estimate == pytest.approx(a, rel=1e-10)
    assert jobs_bca.effect("b[job_seek]").estimate == pytest.approx(b, rel=1e-10)
    assert jobs_bca.effect("indirect[job_seek]").estimate == pytest.approx(a * b, rel=1e-10)
    assert jobs_bca.effect("direct").estimate == pytest.approx(direct, rel=1e-10)
    assert jobs_bca.effect("total").estimate == pytest.approx(total, rel=1e-10)
    # OLS decomposition: c = c' + ab exactly
    assert total == pytest.approx(direct + a * b, rel=1e-10)


def test_jobs_matches_the_published_mediation_package_example(jobs_bca):
    """Tingley et al. (2014): ACME -0.0157, ADE -0.0430, total -0.0587.

    The package reports means of 100 quasi-Bayesian simulations (sims = 100, robust SEs), so only the ACME,
    whose simulation error is ~0.0013, is reproduced to the published rounding; ADE and total are within
    three simulation standard errors (SD of the effect / sqrt(100) ~ 0.0045) of the OLS values.
    """
    assert round(jobs_bca.effect("indirect[job_seek]").estimate, 4) == -0.0157
    assert jobs_bca.effect("indirect[job_seek]").estimate == pytest.approx(-0.015745, abs=5e-7)
    direct = jobs_bca.effect("direct")
    total = jobs_bca.effect("total")
    assert direct.estimate == pytest.approx(-0.0430, abs=3 * direct.se / 10)
    assert total.estimate == pytest.approx(-0.0587, abs=3 * total.se / 10)
    assert direct.estimate == pytest.approx(-0.04026, abs=5e-6)
    assert total.estimate == pytest.approx(-0.05601, abs=5e-6)


def test_jobs_coefficient_tables_equal_statsmodels(jobs_bca, jobs_ols):
    table = jobs_bca.coefficients
    for equation, fit in [
        ("mediator: job_seek", jobs_ols["mediator"]),
        ("outcome: depress2", jobs_ols["outcome"]),
        ("total: depress2", jobs_ols["total"]),
    ]:
        rows = table.loc[equation].rename(index={"(intercept)": "Intercept"}).loc[fit.params.index]
        np.testing.assert_allclose(rows["estimate"], fit.params, rtol=1e-9)
        np.testing.assert_allclose(rows["se"], fit.bse, rtol=1e-9)
        np.testing.assert_allclose(rows["p"], fit.pvalues, rtol=1e-7)
        np.testing.assert_allclose(rows[["ci_low", "ci_high"]], fit.conf_int(), rtol=1e-9)
    a_path = jobs_bca.effect("a[job_seek]")
    assert a_path.p == pytest.approx(jobs_ols["mediator"].pvalues["treat"], rel=1e-7)
    assert jobs_bca.effect("direct").extra["p_regression"] == pytest.approx(
        jobs_ols["outcome"].pvalues["treat"], rel=1e-7
    )


def test_jobs_percentile_interval_agrees_with_pingouin_within_monte_carlo_error(jobs):
    """Independent resamples (different generators): endpoints agree within bootstrap error.

    With 5,000 resamples each, a 2.5% quantile of the indirect effect (SD ~ 0.0126) has a Monte Carlo SD
    of about 6e-4; the tolerance 2.5e-3 is about three SDs of the difference.
    """
    _, draws = pingouin.mediation_analysis(
        data=jobs,
        x="treat",
        m="job_seek",
        y="depress2",
        covar=JOBS_COVARIATES,
        n_boot=5000,
        seed=1,
        return_dist=True,
    )
    theirs = np.percentile(np.ravel(draws), [2.5, 97.5])
    ours = mediate(
        jobs, x="treat", m="job_seek", y="depress2", covariates=JOBS_COVARIATES, ci="percentile", seed=5
    ).effect("indirect[job_seek]")
    np.testing.assert_allclose([ours.ci_low, ours.ci_high], theirs, atol=2.5e-3)
    assert ours.se == pytest.approx(np.std(draws, ddof=1), rel=0.05)


def test_bca_interval_equals_hand_computation_from_draws_and_leave_one_out_refits(jobs, jobs_bca):
    """Slow reference: jackknife by refitting statsmodels OLS without each row, then Efron's formulas."""
    small = jobs.iloc[:120].reset_index(drop=True)
    result = mediate(
        small,
        x="treat",
        m="job_seek",
        y="depress2",
        covariates=JOBS_COVARIATES,
        ci="bca",
        seed=3,
        n_boot=999,
        keep_draws=True,
        level=0.9,
    )
    effect = result.effect("indirect[job_seek]")
    draws = result.draws["indirect[job_seek]"].to_numpy()
    jack = []
    for i in range(len(small)):
        part = small.drop(index=i)
        a = smf.ols("job_seek ~ treat + econ_hard + sex + age", part).fit().params["treat"]
        b = smf.ols("depress2 ~ treat + job_seek + econ_hard + sex + age", part).fit().params["job_seek"]
        jack.append(a * b)
    jack = np.array(jack)
    z0 = stats.norm.ppf(np.mean(draws < effect.estimate))
    d = jack.mean() - jack
    accel = np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
    z = stats.norm.ppf([0.05, 0.95])
    probabilities = stats.norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    np.testing.assert_allclose(
        [effect.ci_low, effect.ci_high], np.quantile(draws, probabilities), rtol=1e-9, atol=1e-12
    )
    assert effect.se == pytest.approx(draws.std(ddof=1))
    assert jobs_bca.draws.shape == (5000, len(jobs_bca.draws.columns))


def test_bca_agrees_with_scipy_bootstrap_on_the_indirect_statistic():
    """scipy.stats.bootstrap(method='BCa') on a*b with its own resamples: agreement within bootstrap error."""
    rng = np.random.default_rng(11)
    n = 150
    x = rng.normal(size=n)
    m = 0.4 * x + rng.normal(size=n)
    y = 0.4 * m + rng.normal(size=n)

    def indirect(xs: np.ndarray, ms: np.ndarray, ys: np.ndarray, axis: int = -1) -> np.ndarray:
        xs, ms, ys = (np.moveaxis(v, axis, -1) for v in (xs, ms, ys))
        xc, mc, yc = (v - v.mean(axis=-1, keepdims=True) for v in (xs, ms, ys))
        a = (xc * mc).sum(-1) / (xc * xc).sum(-1)
        sxx, smm, sxm = (xc * xc).sum(-1), (mc * mc).sum(-1), (xc * mc).sum(-1)
        b = (sxx * (mc * yc).sum(-1) - sxm * (xc * yc).sum(-1)) / (sxx * smm - sxm**2)
        return a * b

    scipy_ci = stats.bootstrap(
        (x, m, y), indirect, paired=True, vectorized=True, method="BCa", n_resamples=20000, random_state=rng
    ).confidence_interval
    ours = mediate(x=x, m=m, y=y, ci="bca", n_boot=20000, seed=12).effect("indirect[m]")
    assert ours.estimate == pytest.approx(float(indirect(x, m, y)), rel=1e-10)
    # endpoint Monte Carlo SD with 20,000 resamples ~ 1.5e-3 (SE of ab ~ 0.04); tolerance ~ 3 SD of a
    # difference of two independent endpoints
    np.testing.assert_allclose([ours.ci_low, ours.ci_high], tuple(scipy_ci), atol=6e-3)


def test_monte_carlo_and_delta_intervals_for_jobs(jobs, jobs_ols):
    a_fit, b_fit = jobs_ols["mediator"], jobs_ols["outcome"]
    a, se_a = a_fit.params["treat"], a_fit.bse["treat"]
    b, se_b = b_fit.params["job_seek"], b_fit.bse["job_seek"]
    delta = mediate(jobs, x="treat", m="job_seek", y="depress2", covariates=JOBS_COVARIATES, ci="delta")
    indirect = delta.effect("indirect[job_seek]")
    sobel_se = np.sqrt(b**2 * se_a**2 + a**2 * se_b**2)
    assert indirect.se == pytest.approx(sobel_se, rel=1e-9)
    assert indirect.p == pytest.approx(2 * stats.norm.sf(abs(a * b / sobel_se)), rel=1e-8)
    assert indirect.ci_low == pytest.approx(a * b - 1.959964 * sobel_se, rel=1e-6)
    assert delta.effect("total").ci_method == "t"
    assert delta.effect("total").se == pytest.approx(jobs_ols["total"].bse["treat"], rel=1e-9)

    mc = mediate(
        jobs,
        x="treat",
        m="job_seek",
        y="depress2",
        covariates=JOBS_COVARIATES,
        ci="monte_carlo",
        n_mc=200_000,
        seed=4,
    )
    # reference: quantiles of a product of two independent normals with the OLS estimates and SEs
    rng = np.random.default_rng(99)
    product = rng.normal(a, se_a, 400_000) * rng.normal(b, se_b, 400_000)
    reference = np.quantile(product, [0.025, 0.975])
    effect = mc.effect("indirect[job_seek]")
    np.testing.assert_allclose([effect.ci_low, effect.ci_high], reference, atol=5e-4)
    assert effect.extra["delta_se"] == pytest.approx(sobel_se, rel=1e-9)


# ---------------------------------------------------------------------------------------------------------
# Parallel and serial models, covariates, strategy coding
# ---------------------------------------------------------------------------------------------------------


def test_parallel_mediators_equal_statsmodels_and_contrasts_add_up():
    df = _three_mediators()
    result = mediate(df, x="x", m=["m1", "m2", "m3"], y="y", covariates=["c1", "c2"], ci="delta")
    outcome = smf.ols("y ~ x + m1 + m2 + m3 + c1 + c2", df).fit()
    total = smf.ols("y ~ x + c1 + c2", df).fit().params["x"]
    indirect = {}
    for name in ("m1", "m2", "m3"):
        a = smf.ols(f"{name} ~ x + c1 + c2", df).fit().params["x"]
        indirect[name] = a * outcome.params[name]
        assert result.effect(f"a[{name}]").estimate == pytest.approx(a, rel=1e-10)
        assert result.effect(f"indirect[{name}]").estimate == pytest.approx(indirect[name], rel=1e-10)
    assert result.effect("total_indirect").estimate == pytest.approx(sum(indirect.values()), rel=1e-10)
    assert result.effect("contrast[m1-m3]").estimate == pytest.approx(
        indirect["m1"] - indirect["m3"], rel=1e-9
    )
    assert result.effect("direct").estimate == pytest.approx(outcome.params["x"], rel=1e-10)
    assert result.effect("total").estimate == pytest.approx(total, rel=1e-10)
    names = [e.name for e in result.effects]
    assert [n for n in names if n.startswith("contrast")] == [
        "contrast[m1-m2]",
        "contrast[m1-m3]",
        "contrast[m2-m3]",
    ]
    assert result.joint_significance.keys() == {"indirect[m1]", "indirect[m2]", "indirect[m3]"}


def test_serial_model_paths_products_and_decomposition():
    df = _three_mediators()
    result = mediate(
        df, x="x", m=["m1", "m2", "m3"], y="y", covariates=["c1", "c2"], model="serial", ci="delta"
    )
    f1 = smf.ols("m1 ~ x + c1 + c2", df).fit().params
    f2 = smf.ols("m2 ~ x + m1 + c1 + c2", df).fit().params
    f3 = smf.ols("m3 ~ x + m1 + m2 + c1 + c2", df).fit().params
    fy = smf.ols("y ~ x + m1 + m2 + m3 + c1 + c2", df).fit().params
    expected = {
        "indirect[m1]": f1.x * fy.m1,
        "indirect[m1->m2]": f1.x * f2.m1 * fy.m2,
        "indirect[m1->m2->m3]": f1.x * f2.m1 * f3.m2 * fy.m3,
        "indirect[m1->m3]": f1.x * f3.m1 * fy.m3,
        "indirect[m2]": f2.x * fy.m2,
        "indirect[m2->m3]": f2.x * f3.m2 * fy.m3,
        "indirect[m3]": f3.x * fy.m3,
    }
    got = {e.name: e.estimate for e in result.effects if e.kind == "indirect"}
    assert list(got) == list(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-9)
    assert result.effect("d[m1->m3]").estimate == pytest.approx(f3.m1, rel=1e-10)
    total = smf.ols("y ~ x + c1 + c2", df).fit().params["x"]
    assert result.effect("total").estimate == pytest.approx(total, rel=1e-10)
    assert fy.x + sum(expected.values()) == pytest.approx(total, rel=1e-10)
    assert result.effect("indirect[m1->m2->m3]").extra["paths"] == [
        "a[m1]",
        "d[m1->m2]",
        "d[m2->m3]",
        "b[m3]",
    ]


def test_bootstrap_draws_decompose_exactly_and_reproduce_with_the_seed():
    df = _three_mediators(200)
    kwargs = {"x": "x", "m": ["m1", "m2"], "y": "y", "model": "serial", "n_boot": 500, "keep_draws": True}
    first = mediate(df, seed=7, **kwargs)
    draws = first.draws
    np.testing.assert_allclose(
        draws["total"], draws["direct"] + draws["total_indirect"], rtol=1e-9, atol=1e-12
    )
    again = mediate(df, seed=np.random.default_rng(7), chunk_size=33, **kwargs)
    pd.testing.assert_frame_equal(first.to_frame(), again.to_frame())
    other = mediate(df, seed=8, **kwargs)
    assert other.effect("total_indirect").ci_low != first.effect("total_indirect").ci_low


def test_bootstrap_draws_equal_the_shared_machinery_with_the_same_seed():
    df = _three_mediators(150)
    result = mediate(df, x="x", m="m1", y="y", ci="percentile", n_boot=300, seed=21, keep_draws=True)
    z = df[["x", "m1", "y"]].to_numpy()
    z = np.column_stack([np.ones(150), (z - z.mean(0)) / z.std(0)])
    draws = bootstrap_regressions(z, [(2, [0, 1]), (3, [0, 1, 2])], 300, seed=21)
    sd = df[["x", "m1", "y"]].std(ddof=0).to_numpy()
    a = draws.coefficients[0][:, 1] * sd[1] / sd[0]
    b = draws.coefficients[1][:, 2] * sd[2] / sd[1]
    np.testing.assert_allclose(result.draws["indirect[m1]"], a * b, rtol=1e-9)
    low, high = np.quantile(a * b, [0.025, 0.975])
    assert result.effect("indirect[m1]").ci_low == pytest.approx(low, rel=1e-9)
    assert result.effect("indirect[m1]").ci_high == pytest.approx(high, rel=1e-9)


def test_arm_coding_dose_and_categorical_covariates(jobs):
    df = jobs.copy()
    df["arm"] = np.where(df["treat"] == 1, "workshop", "usual")
    by_label = mediate(
        df, x="arm", m="job_seek", y="depress2", covariates=["occp", "age"], ci="delta", control="usual"
    )
    fit = smf.ols("job_seek ~ treat + C(occp) + age", df).fit()
    assert by_label.x_type == "arm" and by_label.info["x_coding"] == "0 = usual (control), 1 = workshop"
    assert by_label.effect("a[job_seek]").estimate == pytest.approx(fit.params["treat"], rel=1e-10)
    assert sum(name.startswith("occp[") for name in by_label.covariates) == df["occp"].nunique() - 1
    assert any("categorical" in w for w in by_label.warnings)
    # a 1/2-coded arm gives the same arm contrast; x_type="dose" keeps the numbers as they are
    df["arm12"] = df["treat"] * 3 + 1  # 1 and 4
    as_arm = mediate(df, x="arm12", m="job_seek", y="depress2", ci="delta")
    as_dose = mediate(df, x="arm12", m="job_seek", y="depress2", ci="delta", x_type="dose")
    plain = mediate(df, x="treat", m="job_seek", y="depress2", ci="delta")
    assert as_arm.effect("total").estimate == pytest.approx(plain.effect("total").estimate, rel=1e-10)
    assert as_dose.effect("total").estimate == pytest.approx(plain.effect("total").estimate / 3, rel=1e-10)
    assert as_dose.x_type == "dose"


def test_arrays_and_series_are_accepted():
    df = _three_mediators(100)
    from_frame = mediate(df, x="x", m=["m1", "m2"], y="y", covariates="c1", ci="delta")
    from_arrays = mediate(
        x=df.x.to_numpy(),
        m=df[["m1", "m2"]].to_numpy(),
        y=df.y.to_numpy(),
        covariates=df.c1.to_numpy(),
        ci="delta",
    )
    from_series = mediate(x=df.x, m=[df.m1, df.m2], y=df.y, covariates=[df.c1], ci="delta")
    assert from_arrays.mediators == ("m1", "m2") and from_series.mediators == ("m1", "m2")
    for result in (from_arrays, from_series):
        np.testing.assert_allclose(
            result.to_frame()["estimate"], from_frame.to_frame()["estimate"], rtol=1e-12
        )


# ---------------------------------------------------------------------------------------------------------
# Effect sizes and proportion mediated
# ---------------------------------------------------------------------------------------------------------


def test_standardized_effects_equal_regressions_on_z_scores():
    df = _three_mediators(300)
    result = mediate(df, x="x", m=["m1", "m2"], y="y", ci="percentile", n_boot=400, seed=1, standardize=True)
    z = (df - df.mean()) / df.std()
    a = smf.ols("m1 ~ x", z).fit().params["x"]
    b = smf.ols("y ~ x + m1 + m2", z).fit().params["m1"]
    # completely standardized indirect = product of coefficients estimated on z-scores
    assert result.effect("indirect_cs[m1]").estimate == pytest.approx(a * b, rel=1e-9)
    ind = result.effect("indirect[m1]").estimate
    assert result.effect("indirect_ps[m1]").estimate == pytest.approx(ind / df.y.std(), rel=1e-10)
    assert result.effect("total_cs").estimate == pytest.approx(
        smf.ols("y ~ x", z).fit().params["x"], rel=1e-9
    )
    assert {e.name for e in result.standardized} <= {e.name for e in result.effects}
    cs = result.effect("indirect_cs[m1]")
    assert cs.ci_low < cs.estimate < cs.ci_high


def test_proportion_mediated_and_its_caveats():
    df = _three_mediators(400)
    result = mediate(df, x="x", m=["m1", "m2"], y="y", ci="delta")
    pm = result.proportion_mediated
    assert pm is not None and pm.kind == "proportion_mediated"
    expected = result.effect("total_indirect").estimate / result.effect("total").estimate
    assert pm.estimate == pytest.approx(expected, rel=1e-12)
    assert result.effect("proportion_mediated[m1]").estimate == pytest.approx(
        result.effect("indirect[m1]").estimate / result.effect("total").estimate
    )
    # inconsistent mediation: indirect and direct of opposite sign
    rng = np.random.default_rng(2)
    n = 500
    x = rng.normal(size=n)
    m = 0.6 * x + rng.normal(size=n)
    y = 0.5 * m - 0.3 * x + rng.normal(size=n)  # total effect 0.6 * 0.5 - 0.3 = 0
    suppression = mediate(x=x, m=m, y=y, ci="delta")
    assert any("opposite signs" in w for w in suppression.warnings)
    assert any("total effect is small" in w for w in suppression.warnings)


# ---------------------------------------------------------------------------------------------------------
# Clustered data
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bpg() -> pd.DataFrame:
    return pd.read_csv(DATA / "BPG06dat.csv")


def test_cluster_robust_ses_equal_statsmodels_cr1(bpg):
    result = mediate(bpg, x="x", m="m", y="y", cluster="id", ci="delta")
    groups = {"cov_type": "cluster", "cov_kwds": {"groups": bpg["id"]}, "use_t": True}
    for equation, formula in [
        ("mediator: m", "m ~ x"),
        ("outcome: y", "y ~ x + m"),
        ("total: y", "y ~ x"),
    ]:
        fit = smf.ols(formula, bpg).fit(**groups)
        rows = (
            result.coefficients.loc[equation].rename(index={"(intercept)": "Intercept"}).loc[fit.params.index]
        )
        np.testing.assert_allclose(rows["se"], fit.bse, rtol=1e-9)
        np.testing.assert_allclose(rows["p"], fit.pvalues, rtol=1e-7)
        np.testing.assert_allclose(rows[["ci_low", "ci_high"]], fit.conf_int(), rtol=1e-9)
    assert result.effect("a[m]").ci_method == "cluster_t"
    assert result.effect("a[m]").extra["df"] == 99


def test_icc_design_effect_and_cluster_counts(bpg):
    result = mediate(bpg, x="x", m="m", y="y", cluster="id", ci="delta")
    assert result.n_clusters == 100
    for variable in ("m", "y"):
        mixed = smf.mixedlm(f"{variable} ~ 1", bpg, groups=bpg["id"]).fit(reml=True)
        tau = float(mixed.cov_re.iloc[0, 0])
        reml_icc = tau / (tau + mixed.scale)  # balanced data: ANOVA ICC = REML ICC
        assert result.icc[variable] == pytest.approx(reml_icc, abs=1e-4)
        assert result.design_effect[variable] == pytest.approx(1 + 7 * result.icc[variable], rel=1e-12)
    assert "CLUSTERS: 100" in result.summary()
    assert not any("clusters:" in w for w in result.warnings)


def test_cluster_bootstrap_and_few_cluster_warning(bpg):
    few = bpg[bpg["id"] <= 12]
    result = mediate(few, x="x", m="m", y="y", cluster="id", n_boot=400, seed=3)
    assert result.info["cluster_bootstrap"] and "resamples of clusters" in result.info["method"]
    assert any("only 12 clusters" in w for w in result.warnings)
    ignoring = mediate(few, x="x", m="m", y="y", cluster="id", cluster_se=False, ci="delta")
    assert any("ignore the clustering" in w for w in ignoring.warnings)
    assert not ignoring.info["cluster_bootstrap"]


def test_cluster_bootstrap_se_reflects_clustering(bpg):
    """With ICC ~ .5 and 8 rows per cluster, resampling rows understates the SE of a; clusters do not."""
    clustered = mediate(bpg, x="x", m="m", y="y", cluster="id", ci="percentile", n_boot=2000, seed=1)
    naive = mediate(bpg, x="x", m="m", y="y", ci="percentile", n_boot=2000, seed=1)
    ratio = clustered.effect("indirect[m]").se / naive.effect("indirect[m]").se
    assert ratio > 1.2
    cr1 = clustered.effect("indirect[m]").extra["delta_se"]
    assert clustered.effect("indirect[m]").se == pytest.approx(cr1, rel=0.15)


# ---------------------------------------------------------------------------------------------------------
# Bad input: clear DataErrors
# ---------------------------------------------------------------------------------------------------------


def test_unknown_column_suggests_the_closest_name(jobs):
    with pytest.raises(
        DataError, match=r"the mediator column 'job_sek' is not in the data.*did you mean 'job_seek'"
    ):
        mediate(jobs, x="treat", m="job_sek", y="depress2")
    with pytest.raises(DataError, match="the cluster column 'sitee' is not in the data"):
        mediate(jobs, x="treat", m="job_seek", y="depress2", cluster="sitee")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(c1=1.0), r"covariate 'c1' is constant"),
        (
            lambda d: d.assign(c2=2 * d.c1 - d.x),
            r"in the outcome model, 'c2' is \(nearly\) a linear combination",
        ),
        (lambda d: d.assign(m1=d.m1.astype(str)), r"mediator 'm1' is not numeric"),
        (lambda d: d.iloc[:4], r"only 4 complete rows for a model with 5 coefficients"),
    ],
)
def test_bad_data_raises_a_clear_data_error(change, message):
    df = change(_three_mediators(100))
    with pytest.raises(DataError, match=message):
        mediate(df, x="x", m="m1", y="y", covariates=["c1", "c2"], ci="delta")


def test_missing_values_are_dropped_and_reported_or_raise():
    df = _three_mediators(100)
    df.loc[[3, 5], "m1"] = np.nan
    df.loc[7, "c1"] = np.nan
    result = mediate(df, x="x", m="m1", y="y", covariates="c1", ci="delta")
    assert result.n == 97 and result.n_dropped == 3
    assert any("3 of 100 rows had missing values (m1: 2, c1: 1)" in w for w in result.warnings)
    reference = smf.ols("m1 ~ x + c1", df.dropna(subset=["m1", "c1"])).fit().params["x"]
    assert result.effect("a[m1]").estimate == pytest.approx(reference, rel=1e-10)
    with pytest.raises(DataError, match=r"3 of 100 rows have missing values \(m1: 2, c1: 1\)"):
        mediate(df, x="x", m="m1", y="y", covariates="c1", missing="raise")


def test_option_and_role_errors():
    df = _three_mediators(60)
    df["dose3"] = np.arange(60) % 3
    with pytest.raises(DataError, match="declared a binary arm"):
        mediate(df, x="dose3", m="m1", y="y", x_type="arm")
    with pytest.raises(DataError, match="more than one role"):
        mediate(df, x="x", m=["m1", "x"], y="y")
    with pytest.raises(DataError, match="serial model needs at least two"):
        mediate(df, x="x", m="m1", y="y", model="serial")
    with pytest.raises(
        DataError, match="ci must be one of 'bca', 'percentile', 'monte_carlo', 'delta', not 'bootstrap'"
    ):
        mediate(df, x="x", m="m1", y="y", ci="bootstrap")
    with pytest.raises(DataError, match="cluster_se=True needs"):
        mediate(df, x="x", m="m1", y="y", cluster_se=True)
    with pytest.raises(DataError, match="only 1 cluster"):
        mediate(df, x="x", m="m1", y="y", cluster=np.zeros(60), ci="delta")
    with pytest.raises(DataError, match="different lengths"):
        mediate(x=df.x.to_numpy(), m=df.m1.to_numpy()[:50], y=df.y.to_numpy())


# ---------------------------------------------------------------------------------------------------------
# The result object
# ---------------------------------------------------------------------------------------------------------


def test_result_renders_as_frame_dict_html_text_dot_and_plot(jobs_bca):
    frame = jobs_bca.to_frame()
    assert list(frame.index[:5]) == ["a[job_seek]", "b[job_seek]", "indirect[job_seek]", "direct", "total"]
    as_dict = jobs_bca.to_dict()
    text = json.dumps(as_dict)
    assert as_dict["type"] == "MediationResult" and "coefficients" in as_dict and "icc" in as_dict
    assert '"name": "indirect[job_seek]"' in text
    assert "<table" in jobs_bca._repr_html_()
    summary = jobs_bca.summary()
    assert "Joint-significance test" in summary and "n = 899" in summary and "BCa bootstrap" in summary
    dot = jobs_bca.to_dot()
    assert '"treat" -> "job_seek" [label="a = 0.07"];' in dot and "c' = -0.04" in dot
    ax = jobs_bca.plot()
    labels = [t.get_text() for t in ax.texts]
    assert {"treat", "job_seek", "depress2"} <= set(labels)
    assert any(label.startswith("-0.24***") for label in labels)
    joint = jobs_bca.effect("indirect[job_seek]").extra
    assert joint["joint_significant"] is False and joint["joint_p"] == pytest.approx(0.2027, abs=1e-4)


def test_inestimable_resamples_are_dropped_and_counted():
    rng = np.random.default_rng(5)
    x = np.array([0.0] * 10 + [1.0] * 2)  # a rare arm: some resamples draw no treated row
    m = 0.5 * x + rng.normal(size=12)
    y = 0.5 * m + rng.normal(size=12)
    result = mediate(x=x, m=m, y=y, ci="percentile", n_boot=2000, seed=1)
    used = result.info["n_boot_used"]
    expected_dropped = 2000 * (10 / 12) ** 12  # P(no treated row among 12 draws)
    assert abs((2000 - used) - expected_dropped) < 4 * np.sqrt(expected_dropped)
    assert any(
        f"{2000 - used} of 2000 bootstrap resamples could not be estimated" in w for w in result.warnings
    )
    assert np.isfinite(result.effect("indirect[m]").ci_low)


def test_no_complete_row_or_a_lost_arm_is_a_data_error_not_a_numpy_error():
    empty = pd.DataFrame(
        {"x": [0.0, 1.0, 0.0, 1.0], "m": [np.nan] * 4, "y": [1.0, 2.0, 3.0, 4.0], "s": list("aabb")}
    )
    with pytest.raises(
        DataError, match="no complete rows: every row has a missing value in one of x, y, m, s"
    ):
        mediate(empty, x="x", m="m", y="y", cluster="s")
    with pytest.raises(DataError, match="no complete rows"):
        mediate(empty.iloc[:0], x="x", m="m", y="y")
    lost = pd.DataFrame({"x": [0.0, 0, 0, 1, 1], "m": [1.0, 2, 3, np.nan, np.nan], "y": [1.0, 2, 3, 4, 5]})
    with pytest.raises(
        DataError, match=r"after dropping the 2 row\(s\) with missing values, the strategy 'x'"
    ):
        mediate(lost, x="x", m="m", y="y")
