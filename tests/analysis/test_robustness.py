"""`robustness` against the published Darfur example of Cinelli & Hazlett (2020), against PySensemakr (the
authors' group's Python port of sensemakr) on the same data, and against the closed forms on simulated data.

Each reference says where its numbers come from:

* "published": Cinelli & Hazlett (2020), JRSS-B 82(1), sec. 6 (the Darfur example), rounded as printed;
* "PySensemakr computed": PySensemakr 0.0.8 run here on its bundled copy of the darfur data;
* "PySensemakr documented": the output printed in PySensemakr's quickstart notebook
  (sensemakr/docs/notebooks/quickstart.ipynb, `darfur_sense.summary()`), 6 decimals;
* "closed form": the formulas of the paper evaluated in the test.
"""

from __future__ import annotations

import importlib
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from moclab.analysis import RobustnessResult, robustness
from moclab.analysis.robustness import robustness_value
from moclab.errors import DataError

smkr = importlib.import_module("sensemakr")  # the reference implementation (dev extra; make test installs it)

DARFUR_COVARIATES = ["age", "farmer_dar", "herder_dar", "pastvoted", "hhsize_darfur", "female", "village"]
DARFUR_FORMULA = "peacefactor ~ directlyharmed + " + " + ".join(DARFUR_COVARIATES)


@pytest.fixture(scope="module")
def darfur() -> pd.DataFrame:
    return smkr.load_darfur()


@pytest.fixture(scope="module")
def darfur_result(darfur: pd.DataFrame) -> RobustnessResult:
    return robustness(
        darfur, y="peacefactor", treatment="directlyharmed", covariates=DARFUR_COVARIATES, benchmark="female"
    )


@pytest.fixture(scope="module")
def darfur_model(darfur: pd.DataFrame):
    return smf.ols(DARFUR_FORMULA, darfur).fit()


# ---------------------------------------------------------------------------------------------------------
# Darfur: published numbers and PySensemakr
# ---------------------------------------------------------------------------------------------------------


def test_darfur_matches_the_published_sensitivity_statistics(darfur_result: RobustnessResult) -> None:
    """Published (C&H 2020, sec. 6): estimate 0.097 (SE 0.023, t 4.18, df 783), partial R2 2.2 %,
    RV_{q=1} 13.9 %, RV_{q=1, alpha=.05} 7.6 %; compared at the printed precision."""
    result = darfur_result
    assert result.n == 1276 and result.df == 783
    assert result.estimate == pytest.approx(0.097, abs=5e-4)
    assert result.se == pytest.approx(0.023, abs=5e-4)
    assert result.t == pytest.approx(4.18, abs=5e-3)
    assert result.partial_r2 == pytest.approx(0.022, abs=5e-4)
    assert result.rv_q == pytest.approx(0.139, abs=5e-4)
    assert result.rv_qa == pytest.approx(0.076, abs=5e-4)


def test_darfur_equals_pysensemakr_computed_on_the_same_data(darfur_model, darfur_result) -> None:
    """PySensemakr computed: Sensemakr(model, treatment).sensitivity_stats, to 1e-6 (relative)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = smkr.Sensemakr(model=darfur_model, treatment="directlyharmed", q=1.0, alpha=0.05)
    stats_ = reference.sensitivity_stats
    result = darfur_result
    assert result.estimate == pytest.approx(stats_["estimate"], rel=1e-6)
    assert result.se == pytest.approx(stats_["se"], rel=1e-6)
    assert result.t == pytest.approx(stats_["t_statistic"], rel=1e-6)
    assert result.df == stats_["dof"]
    assert result.partial_r2 == pytest.approx(stats_["r2yd_x"], rel=1e-6)
    assert result.rv_q == pytest.approx(float(np.squeeze(stats_["rv_q"])), rel=1e-6)
    assert result.rv_qa == pytest.approx(float(np.squeeze(stats_["rv_qa"])), rel=1e-6)
    assert result.effect("rv_q").estimate == result.rv_q
    coefficient = result.effect("coefficient")
    assert coefficient.estimate == pytest.approx(darfur_model.params["directlyharmed"], rel=1e-10)
    low, high = darfur_model.conf_int().loc["directlyharmed"]
    assert (coefficient.ci_low, coefficient.ci_high) == pytest.approx((low, high), rel=1e-9)


def test_darfur_half_the_estimate_equals_pysensemakr(darfur: pd.DataFrame, darfur_model) -> None:
    """PySensemakr computed: robustness_value(t, dof, q=0.5, alpha) for q = 1/2, to 1e-6."""
    half = robustness(
        darfur, y="peacefactor", treatment="directlyharmed", covariates=DARFUR_COVARIATES, q=0.5, level=0.9
    )
    t, dof = float(darfur_model.tvalues["directlyharmed"]), int(darfur_model.df_resid)
    with np.errstate(divide="ignore"):  # alpha = 1 (the point estimate) divides by a zero critical f there
        expected_q = smkr.robustness_value(t_statistic=t, dof=dof, q=0.5)
    expected_qa = smkr.robustness_value(t_statistic=t, dof=dof, q=0.5, alpha=0.1)
    assert half.rv_q == pytest.approx(float(np.squeeze(expected_q)), rel=1e-6)
    assert half.rv_qa == pytest.approx(float(np.squeeze(expected_qa)), rel=1e-6)


def test_darfur_female_benchmark_bounds(darfur_model, darfur_result: RobustnessResult) -> None:
    """Bounds for confounders 1, 2, 3 times as strong as `female`.

    The benchmark's own partial R2s against statsmodels t statistics (t^2/(t^2 + df)); the bounds and adjusted
    estimates against PySensemakr computed (ovb_partial_r2_bound with the partial R2s given directly,
    adjusted_estimate/adjusted_se/adjusted_t), to 1e-6; and against PySensemakr documented, to 1e-6.
    (PySensemakr 0.0.8's own benchmark path, Sensemakr(..., benchmark_covariates=...), fails on pandas >= 3
    with a KeyError from positional Series indexing, so the partial R2s are handed to it.)
    """
    bounds = darfur_result.bounds
    assert bounds["k"].tolist() == [1.0, 2.0, 3.0]
    t_y = float(darfur_model.tvalues["female"])
    treatment_model = smf.ols(
        "directlyharmed ~ " + " + ".join(DARFUR_COVARIATES), darfur_model.model.data.frame
    ).fit()
    t_d = float(treatment_model.tvalues["female"])
    df = darfur_model.df_resid
    assert bounds["r2yxj_dx"].iloc[0] == pytest.approx(t_y**2 / (t_y**2 + df), rel=1e-9)
    assert bounds["r2dxj_x"].iloc[0] == pytest.approx(t_d**2 / (t_d**2 + treatment_model.df_resid), rel=1e-9)

    reference = smkr.ovb_partial_r2_bound(
        r2dxj_x=bounds["r2dxj_x"].iloc[0], r2yxj_dx=bounds["r2yxj_dx"].iloc[0], kd=[1, 2, 3]
    )
    assert bounds["r2dz_x"].to_numpy() == pytest.approx(reference["r2dz_x"].to_numpy(), rel=1e-6)
    assert bounds["r2yz_dx"].to_numpy() == pytest.approx(reference["r2yz_dx"].to_numpy(), rel=1e-6)
    arguments = {
        "r2dz_x": reference["r2dz_x"].to_numpy(),
        "r2yz_dx": reference["r2yz_dx"].to_numpy(),
        "estimate": darfur_result.estimate,
        "se": darfur_result.se,
        "dof": int(df),
    }
    assert bounds["adjusted_estimate"].to_numpy() == pytest.approx(
        np.asarray(smkr.adjusted_estimate(**arguments)), rel=1e-6
    )
    del arguments["estimate"]
    assert bounds["adjusted_se"].to_numpy() == pytest.approx(
        np.asarray(smkr.adjusted_se(**arguments)), rel=1e-6
    )

    documented = pd.DataFrame(
        {
            "r2dz_x": [0.009164, 0.018329, 0.027493],
            "r2yz_dx": [0.124641, 0.249324, 0.374050],
            "adjusted_estimate": [0.075220, 0.052915, 0.030396],
            "adjusted_se": [0.021873, 0.020350, 0.018670],
            "adjusted_t": [3.438904, 2.600246, 1.628062],
            "adjusted_ci_low": [0.032283, 0.012968, -0.006253],
            "adjusted_ci_high": [0.118158, 0.092862, 0.067045],
        }
    )
    for column in documented:
        # 6 printed decimals; the intervals here use t(df - 1) where PySensemakr uses t(df): < 1e-7 apart
        assert bounds[column].to_numpy() == pytest.approx(documented[column].to_numpy(), abs=1e-6), column
    three = darfur_result.effect("3x female")
    assert three.kind == "bound" and three.ci_low < 0 < three.ci_high


def test_categorical_benchmark_is_the_group_partial_r2(darfur: pd.DataFrame) -> None:
    """A text covariate (village, 486 levels) is benchmarked as a group: its partial R2 is F p/(F p + df) of
    the F test of its indicators (PySensemakr computed: group_partial_r2 from F, p and df)."""
    frame = darfur.loc[darfur["village"].isin(darfur["village"].value_counts().index[:12])]
    covariates = ["age", "female", "village"]
    result = robustness(
        frame,
        y="peacefactor",
        treatment="directlyharmed",
        covariates=covariates,
        benchmark="village",
        benchmark_multiples=[0.5],
    )
    full = smf.ols("peacefactor ~ directlyharmed + age + female + C(village)", frame).fit()
    names = [name for name in full.params.index if name.startswith("C(village)")]
    test = full.f_test(", ".join(f"{name} = 0" for name in names))
    expected = smkr.group_partial_r2(f_statistic=float(test.fvalue), p=len(names), dof=full.df_resid)
    assert result.bounds["r2yxj_dx"].iloc[0] == pytest.approx(expected, rel=1e-8)


# ---------------------------------------------------------------------------------------------------------
# Closed forms on simulated data
# ---------------------------------------------------------------------------------------------------------


def simulated(seed: int, n: int = 500, effect: float = 0.2, sites: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = rng.integers(0, sites, n)
    readiness = rng.normal(size=n) + rng.normal(0, 0.5, sites)[site]
    trust = 0.5 * readiness + rng.normal(size=n)
    adoption = effect * trust + 0.4 * readiness + rng.normal(0, 0.6, sites)[site] + rng.normal(size=n)
    return pd.DataFrame({"site": site, "readiness": readiness, "trust": trust, "adoption": adoption})


def test_closed_forms_and_their_meaning() -> None:
    """Closed form: partial R2 = t^2/(t^2 + df), RV_q = (sqrt(f^4 + 4 f^2) - f^2)/2 with f = q|t|/sqrt(df); at
    R2_dz = R2_yz = RV_q the bias bound se sqrt(df R2 R2 / (1 - R2)) removes exactly q of the estimate, and
    at RV_{q,alpha} the adjusted interval ends exactly at (1 - q) times the estimate."""
    frame = simulated(1)
    q = 0.6
    result = robustness(frame, y="adoption", treatment="trust", covariates=["readiness"], q=q)
    fit = smf.ols("adoption ~ trust + readiness", frame).fit()
    t, df, se = fit.tvalues["trust"], fit.df_resid, fit.bse["trust"]
    assert result.partial_r2 == pytest.approx(t**2 / (t**2 + df), rel=1e-12)
    f = q * abs(t) / math.sqrt(df)
    assert result.rv_q == pytest.approx(0.5 * (math.sqrt(f**4 + 4 * f**2) - f**2), rel=1e-12)

    r = result.rv_q
    bias = se * math.sqrt(df * r * r / (1 - r))
    assert bias == pytest.approx(q * abs(result.estimate), rel=1e-10)

    r = result.rv_qa
    assert 0 < r < result.rv_q
    adjusted = abs(result.estimate) - se * math.sqrt(df * r * r / (1 - r))
    adjusted_se = se * math.sqrt((1 - r) / (1 - r) * df / (df - 1))
    critical = stats.t.ppf(0.975, df - 1)
    assert adjusted - critical * adjusted_se == pytest.approx((1 - q) * abs(result.estimate), rel=1e-9)


def test_omitted_confounder_at_its_partial_r2s_is_exactly_the_bias() -> None:
    """Closed form (C&H 2020, eq. 11, exact in sample): leaving out a covariate Z changes the estimate by
    se sqrt(df R2_yz R2_dz / (1 - R2_dz)), with the partial R2s of Z computed in the full data. The benchmark
    algebra checked end to end: the bound for k = 1 of a benchmark is no smaller than that actual bias."""
    frame = simulated(2)
    short = smf.ols("adoption ~ trust", frame).fit()
    long = smf.ols("adoption ~ trust + readiness", frame).fit()
    treatment_fit = smf.ols("trust ~ readiness", frame).fit()
    r2_yz = long.tvalues["readiness"] ** 2 / (long.tvalues["readiness"] ** 2 + long.df_resid)
    r2_dz = treatment_fit.tvalues["readiness"] ** 2 / (
        treatment_fit.tvalues["readiness"] ** 2 + treatment_fit.df_resid
    )
    bias = short.bse["trust"] * math.sqrt(short.df_resid * r2_yz * r2_dz / (1 - r2_dz))
    assert abs(short.params["trust"] - long.params["trust"]) == pytest.approx(bias, rel=1e-10)
    result = robustness(frame, y="adoption", treatment="trust")
    assert result.estimate == pytest.approx(short.params["trust"], rel=1e-12)
    # the omitted confounder is weaker than RV_q on at least one side (the estimate survives it)
    assert min(r2_yz, r2_dz) < result.rv_q


def test_corner_case_where_only_the_treatment_partial_r2_binds() -> None:
    """PySensemakr computed: robustness_value with f_q > 1/f_crit (an overwhelming t for small df), where
    RV_{q,alpha} = (f_q^2 - f_crit^2)/(1 + f_q^2); also 0 when f_q <= f_crit."""
    for t, dof in ((60.0, 100), (25.0, 12), (1.5, 40)):
        f_q = t / math.sqrt(dof)
        f_crit = stats.t.ppf(0.975, dof - 1) / math.sqrt(dof - 1)
        expected = float(np.squeeze(smkr.robustness_value(t_statistic=t, dof=dof, alpha=0.05)))
        assert robustness_value(f_q, f_crit) == pytest.approx(expected, rel=1e-9)
    assert robustness_value(1.5 / math.sqrt(40), stats.t.ppf(0.975, 39) / math.sqrt(39)) == 0.0


def test_non_significant_estimate_has_zero_rv_qa() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.normal(size=80), "y": rng.normal(size=80)})
    result = robustness(frame, y="y", treatment="x")
    assert result.effect("coefficient").ci_low < 0 < result.effect("coefficient").ci_high
    assert result.rv_qa == 0.0 and result.rv_q > 0


def test_clustered_inference_leaves_the_point_statistics_alone() -> None:
    """The coefficient's SE equals statsmodels' CR1 cluster SE, its interval uses t(G - 1); partial R2 and
    RV_q are the classical ones; RV_{q,alpha} is the closed form with critical value t*_{G-1} times
    SE_CR1/SE_classical (the documented moclab choice)."""
    frame = simulated(3)
    plain_result = robustness(frame, y="adoption", treatment="trust", covariates=["readiness"])
    clustered = robustness(frame, y="adoption", treatment="trust", covariates=["readiness"], cluster="site")
    robust = smf.ols("adoption ~ trust + readiness", frame).fit(
        cov_type="cluster", cov_kwds={"groups": frame["site"].to_numpy()}
    )
    classical = smf.ols("adoption ~ trust + readiness", frame).fit()
    coefficient = clustered.effect("coefficient")
    assert coefficient.se == pytest.approx(robust.bse["trust"], rel=1e-9)
    assert coefficient.extra["df"] == 29 and clustered.n_clusters == 30
    critical = stats.t.ppf(0.975, 29)
    assert coefficient.ci_low == pytest.approx(coefficient.estimate - critical * coefficient.se, rel=1e-10)
    assert clustered.t == pytest.approx(robust.params["trust"] / robust.bse["trust"], rel=1e-9)
    assert clustered.partial_r2 == plain_result.partial_r2
    assert clustered.rv_q == plain_result.rv_q
    f_q = abs(classical.tvalues["trust"]) / math.sqrt(classical.df_resid)
    f_crit = robust.bse["trust"] / classical.bse["trust"] * critical / math.sqrt(classical.df_resid - 1)
    assert clustered.rv_qa == pytest.approx(robustness_value(f_q, f_crit), rel=1e-10)
    assert clustered.rv_qa != pytest.approx(plain_result.rv_qa, rel=1e-3)
    assert "CR1" in clustered.info["method"]


# ---------------------------------------------------------------------------------------------------------
# Reporting and errors
# ---------------------------------------------------------------------------------------------------------


def test_result_renders_and_serializes(darfur_result: RobustnessResult) -> None:
    text = darfur_result.summary()
    assert "RV_q (q = 1): 13.88%" in text and "RV_q,a (alpha = 0.05): 7.63%" in text
    assert "Bounds from benchmark covariates" in text
    assert repr(darfur_result).startswith(
        "RobustnessResult(coefficient = 0.09732 [0.05166, 0.143]; partial_r2 = 0.02187;"
    )
    assert "rv_q = 0.1388; rv_qa = 0.07626" in repr(darfur_result) and "n = 1276)" in repr(darfur_result)
    assert len(repr(darfur_result)) < 200
    assert "<table" in darfur_result._repr_html_()
    frame = darfur_result.to_frame()
    assert list(frame.index[:4]) == ["coefficient", "partial_r2", "rv_q", "rv_qa"]
    payload = json.loads(json.dumps(darfur_result.to_dict()))
    assert payload["type"] == "RobustnessResult" and payload["rv_q"] == pytest.approx(darfur_result.rv_q)
    assert len(payload["bounds"]) == 3


def test_missing_rows_are_dropped_with_a_note() -> None:
    frame = simulated(4)
    frame.loc[[0, 5], "trust"] = np.nan
    result = robustness(frame, y="adoption", treatment="trust")
    assert result.n == len(frame) - 2
    assert any("2 of 500 rows had missing values (trust: 2) and were dropped" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (None, {"treatment": "trusst"}, "the treatment column 'trusst' is not in the data"),
        (lambda f: f.assign(trust="high"), {}, "is not numeric"),
        (lambda f: f.assign(trust=1.0), {}, "is constant"),
        (None, {"benchmark": "age"}, "the benchmark 'age' is not one of the covariates"),
        (None, {"q": 0}, "q must be a positive number"),
        (lambda f: f.assign(adoption=2 * f["trust"] + 1), {}, "is an exact linear function of 'trust'"),
        (None, {"level": 1.5}, "level (the confidence level) must be a number from 0.5 to below 1, not 1.5"),
        (lambda f: f.assign(copy=2 * f["readiness"]), {"covariates": ["readiness", "copy"]}, "linear comb"),
        (lambda f: f.head(3), {}, "only 3 complete rows"),
        (lambda f: f.assign(site=f["site"] % 2), {"cluster": "site"}, "only 2 cluster(s) in 'site'"),
        (
            None,
            {"covariates": ["readiness"], "benchmark": "readiness", "benchmark_multiples": [-1]},
            "positive",
        ),
    ],
)
def test_bad_input_raises_data_error(change, kwargs, message) -> None:
    frame = simulated(6)
    if change is not None:
        frame = change(frame)
    arguments = {"y": "adoption", "treatment": "trust", **kwargs}
    with pytest.raises(DataError) as raised:
        robustness(frame, **arguments)
    assert message in str(raised.value)


def test_impossible_benchmark_multiple_is_skipped_with_a_warning() -> None:
    frame = simulated(7)
    result = robustness(
        frame,
        y="adoption",
        treatment="trust",
        covariates=["readiness"],
        benchmark="readiness",
        benchmark_multiples=[1, 50],
    )
    assert result.bounds["k"].tolist() == [1.0]
    assert any("50 times as strong" in w for w in result.warnings)
