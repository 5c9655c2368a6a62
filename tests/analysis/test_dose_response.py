"""Dose-response: slope, trend test and quadratic check against statsmodels, closed forms and known truth."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.contingency_tables import Table

from moclab.analysis import dose_response
from moclab.errors import DataError

matplotlib.use("Agg")


def support_data(seed: int, n: int = 400, sites: int = 30, curve: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = rng.integers(0, sites, n)
    minutes = rng.gamma(2.0, 60.0, n)
    readiness = rng.normal(size=n)
    trust = (
        0.004 * minutes
        + curve * (minutes - 120) ** 2
        + 0.3 * readiness
        + rng.normal(0, 0.4, sites)[site]
        + rng.normal(size=n)
    )
    return pd.DataFrame({"site": site, "minutes": minutes, "readiness": readiness, "trust": trust})


def test_slope_equals_statsmodels_ols_classical_and_cluster_robust():
    frame = support_data(1)
    result = dose_response(frame, dose="minutes", response="trust", covariates=["readiness"])
    fit = smf.ols("trust ~ minutes + readiness", frame).fit()
    slope = result.effect("slope")
    assert slope.estimate == pytest.approx(fit.params["minutes"], rel=1e-10)
    assert slope.se == pytest.approx(fit.bse["minutes"], rel=1e-10)
    assert slope.p == pytest.approx(fit.pvalues["minutes"], rel=1e-8)
    assert slope.ci_low == pytest.approx(fit.conf_int().loc["minutes", 0], rel=1e-10)
    std = result.effect("slope_std")
    assert std.estimate == pytest.approx(
        fit.params["minutes"] * frame.minutes.std() / frame.trust.std(), rel=1e-10
    )
    clustered = dose_response(
        frame, dose="minutes", response="trust", covariates=["readiness"], cluster="site"
    )
    robust = smf.ols("trust ~ minutes + readiness", frame).fit(
        cov_type="cluster", cov_kwds={"groups": frame.site.to_numpy()}
    )
    assert clustered.effect("slope").se == pytest.approx(robust.bse["minutes"], rel=1e-9)
    assert clustered.effect("slope").extra["df"] == 29 and clustered.n_clusters == 30


def test_trend_with_rank_scores_equals_orthogonal_polynomial_contrast():
    """With scores 1..k the trend test is the linear orthogonal-polynomial contrast of one-way ANOVA."""
    frame = support_data(2)
    result = dose_response(frame, dose="minutes", response="trust", groups=5, scores="rank")
    frame["group"] = pd.qcut(frame.minutes, 5, labels=False)
    fit = smf.ols("trust ~ C(group, Poly)", frame).fit()
    trend = result.effect("trend")
    assert trend.estimate / trend.se == pytest.approx(fit.tvalues["C(group, Poly).Linear"], rel=1e-9)
    assert trend.p == pytest.approx(fit.pvalues["C(group, Poly).Linear"], rel=1e-8)
    # The estimate is the least-squares slope of the group means on the scores.
    means = frame.groupby("group").trust.mean().to_numpy()
    assert trend.estimate == pytest.approx(np.polyfit(np.arange(1, 6), means, 1)[0], rel=1e-10)


def test_trend_with_median_scores_matches_the_closed_form_and_statsmodels_t_test():
    frame = support_data(3)
    result = dose_response(frame, dose="minutes", response="trust", groups=4)
    frame["group"] = pd.qcut(frame.minutes, 4, labels=False)
    stats = frame.groupby("group").agg(
        mean=("trust", "mean"), n=("trust", "size"), score=("minutes", "median")
    )
    c = stats.score - stats.score.mean()
    within = frame.trust - frame.groupby("group").trust.transform("mean")
    mse = (within**2).sum() / (len(frame) - 4)
    contrast = (c * stats["mean"]).sum() / (c**2).sum()
    se = np.sqrt(mse * ((c / (c**2).sum()) ** 2 / stats.n).sum())
    trend = result.effect("trend")
    assert trend.estimate == pytest.approx(contrast, rel=1e-10)
    assert trend.se == pytest.approx(se, rel=1e-10)
    assert result.groups["score"].tolist() == pytest.approx(stats.score.tolist())
    # With covariates: the same contrast on the cell-means model, statsmodels t_test.
    adjusted = dose_response(frame, dose="minutes", response="trust", covariates=["readiness"], groups=4)
    design = pd.get_dummies(frame.group, dtype=float).join(frame.readiness - frame.readiness.mean())
    fit = sm.OLS(frame.trust, design).fit()
    vector = np.r_[c / (c**2).sum(), 0.0]
    test = fit.t_test(vector)
    assert adjusted.effect("trend").estimate == pytest.approx(float(test.effect[0]), rel=1e-10)
    assert adjusted.effect("trend").p == pytest.approx(float(test.pvalue), rel=1e-8)
    assert adjusted.groups["mean"].tolist() == pytest.approx(fit.params.iloc[:4].tolist(), rel=1e-10)


def test_deviation_from_linearity_equals_nested_model_f_test():
    frame = support_data(4, curve=-0.00004)
    result = dose_response(frame, dose="minutes", response="trust", groups=5)
    frame["group"] = pd.qcut(frame.minutes, 5, labels=False)
    frame["score"] = frame.groupby("group").minutes.transform("median")
    restricted = smf.ols("trust ~ score", frame).fit()
    full = smf.ols("trust ~ C(group)", frame).fit()
    table = anova_lm(restricted, full)
    assert result.nonlinearity["F"] == pytest.approx(table.F.iloc[1], rel=1e-9)
    assert result.nonlinearity["p"] == pytest.approx(table["Pr(>F)"].iloc[1], rel=1e-8)
    assert result.nonlinearity["df1"] == 3


def test_the_curvature_test_keeps_the_directions_a_few_clusters_can_test():
    """Three clusters, six dose groups: the cluster-robust covariance of the four curvature contrasts has rank
    2 (at most G - 1). The test is the Wald statistic with its pseudo-inverse and 2 numerator df, computed
    here from statsmodels' cluster-robust covariance of the same cell-means regression (it raised
    LinAlgError before)."""
    rng = np.random.default_rng(8)
    n = 60
    frame = pd.DataFrame({"dose": rng.gamma(2, 1, n), "site": np.repeat(np.arange(3), 20)})
    frame["c1"], frame["c2"] = rng.normal(size=n), rng.normal(size=n)
    frame["m"] = 0.3 * frame.dose + rng.normal(size=n)
    result = dose_response(
        frame, dose="dose", response="m", cluster="site", covariates=["c1", "c2"], groups=6
    )
    group = pd.qcut(frame.dose, 6, labels=False)
    scores = frame.dose.groupby(group).median().to_numpy()
    design = pd.get_dummies(group, dtype=float).join(frame[["c1", "c2"]] - frame[["c1", "c2"]].mean())
    fit = sm.OLS(frame.m, design).fit(cov_type="cluster", cov_kwds={"groups": frame.site.to_numpy()})
    # contrasts orthogonal to the constant and to the scores: the deviations from a line in the scores
    basis = np.column_stack([np.ones(6), scores])
    contrasts = np.linalg.svd(np.eye(6) - basis @ np.linalg.pinv(basis))[0][:, :4].T
    matrix = np.hstack([contrasts, np.zeros((4, 2))])
    values = matrix @ fit.params.to_numpy()
    middle = matrix @ fit.cov_params().to_numpy() @ matrix.T
    rank = np.linalg.matrix_rank(middle)
    assert rank == 2
    expected = values @ np.linalg.pinv(middle, hermitian=True) @ values / rank
    assert result.nonlinearity["df1"] == 2
    assert result.nonlinearity["F"] == pytest.approx(expected, rel=1e-8)
    assert any("2 of 4 degrees of freedom" in warning for warning in result.warnings)


def test_quadratic_check_finds_an_inverted_u_and_reports_its_turning_point():
    frame = support_data(5, n=800, curve=-0.00005)
    result = dose_response(frame, dose="minutes", response="trust")
    centre = frame.minutes.mean()
    fit = smf.ols("trust ~ d + I(d ** 2)", frame.assign(d=frame.minutes - centre)).fit()
    quadratic = result.effect("quadratic")
    assert quadratic.estimate == pytest.approx(fit.params["I(d ** 2)"], rel=1e-9)
    assert quadratic.p == pytest.approx(fit.pvalues["I(d ** 2)"], rel=1e-7)
    expected_turn = centre - fit.params["d"] / (2 * fit.params["I(d ** 2)"])
    assert result.turning_point == pytest.approx(expected_turn, rel=1e-9)
    assert any("peaks" in w for w in result.warnings)
    # The truth peaks at 120 + 0.004 / (2 * 0.00005) = 160 minutes.
    assert abs(result.turning_point - 160) < 40
    straight = dose_response(support_data(6), dose="minutes", response="trust")
    assert straight.turning_point is None and not any("curved" in w for w in straight.warnings)


def test_known_linear_truth_is_recovered():
    frame = support_data(7, n=2000, sites=60)
    result = dose_response(frame, dose="minutes", response="trust", covariates=["readiness"], cluster="site")
    slope = result.effect("slope")
    assert slope.ci_low < 0.004 < slope.ci_high
    assert result.effect("trend").p < 1e-6 and result.effect("trend").estimate > 0


def test_cochran_armitage_for_a_binary_response_matches_statsmodels():
    rng = np.random.default_rng(8)
    contacts = rng.integers(0, 4, 500)
    adopted = (rng.random(500) < 0.2 + 0.1 * contacts).astype(int)
    frame = pd.DataFrame({"contacts": contacts, "adopted": adopted})
    result = dose_response(frame, dose="contacts", response="adopted")
    assert result.trend_test == "cochran_armitage" and result.groups.shape[0] == 4
    table = pd.crosstab(frame.contacts, frame.adopted).to_numpy()
    reference = Table(table).test_ordinal_association(
        row_scores=np.arange(4.0), col_scores=np.array([0.0, 1.0])
    )
    n = len(frame)
    z = result.effect("trend").extra["z"]
    # statsmodels' linear-by-linear test conditions on both margins (variance with N - 1); Cochran-Armitage
    # uses N: Z_CA = Z_LL * sqrt(N / (N - 1)) (Agresti 2013, sec. 5.3.5).
    assert z == pytest.approx(reference.zscore * np.sqrt(n / (n - 1)), rel=1e-10)
    assert result.effect("trend").p < 1e-6


def test_few_distinct_doses_and_explicit_groups():
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"contacts": rng.integers(0, 3, 120)})
    frame["trust"] = 0.3 * frame.contacts + rng.normal(size=120)
    result = dose_response(frame, dose="contacts", response="trust")
    assert result.groups["group"].tolist() == ["0", "1", "2"]
    edged = dose_response(frame, dose="contacts", response="trust", groups=[0, 0.5, 1.5, 2])
    assert edged.groups["n"].sum() == 120 and edged.groups.shape[0] == 3
    frame["band"] = pd.Categorical(
        np.where(frame.contacts == 0, "none", np.where(frame.contacts == 1, "some", "much")),
        categories=["none", "some", "much"],
        ordered=True,
    )
    banded = dose_response(frame, dose="contacts", response="trust", groups="band", scores="rank")
    assert banded.groups["group"].tolist() == ["none", "some", "much"]
    # Ranks 1, 2, 3 and the median doses 0, 1, 2 are equally spaced: the same slope of the group means.
    assert banded.effect("trend").estimate == pytest.approx(result.effect("trend").estimate, rel=1e-10)
    assert banded.groups["score"].tolist() == [1.0, 2.0, 3.0]


def test_plot_and_renderings():
    result = dose_response(support_data(10), dose="minutes", response="trust", cluster="site")
    ax = result.plot()
    assert ax.get_xlabel() == "minutes" and ax.get_ylabel() == "trust"
    assert len(ax.get_legend().get_texts()) == 3
    as_dict = json.loads(json.dumps(result.to_dict()))
    assert as_dict["type"] == "DoseResponseResult" and len(as_dict["groups"]) == 4
    frame = result.to_frame()
    assert list(frame.index) == ["slope", "slope_std", "trend", "quadratic"]
    assert "deviation from linear trend" in result.summary() and "Dose groups" in result._repr_html_()


def test_bad_input_is_explained():
    frame = support_data(11, n=60)
    with pytest.raises(
        DataError, match=r"the dose column 'minute' is not in the data.*did you mean 'minutes'"
    ):
        dose_response(frame, dose="minute", response="trust")
    with pytest.raises(DataError, match=r"the response 'trust' is not numeric \(values such as 'high'\)"):
        dose_response(frame.assign(trust="high"), dose="minutes", response="trust")
    with pytest.raises(DataError, match=r"the dose 'minutes' is constant \(every analysed row is 5\)"):
        dose_response(frame.assign(minutes=5.0), dose="minutes", response="trust")
    with pytest.raises(DataError, match="outside the bin edges"):
        dose_response(frame, dose="minutes", response="trust", groups=[0, 10, 20])
    with pytest.raises(DataError, match="increasing"):
        dose_response(frame, dose="minutes", response="trust", groups=[0, 20, 10, 1000])
    with pytest.raises(DataError, match="only 2 clusters"):
        dose_response(frame.assign(site=frame.index % 2), dose="minutes", response="trust", cluster="site")
    with pytest.raises(DataError, match="only 4 complete rows for a model with 3 coefficients"):
        dose_response(frame.head(4), dose="minutes", response="trust")
    with pytest.raises(DataError, match="scores must be one of 'median', 'rank', not 'mean'"):
        dose_response(frame, dose="minutes", response="trust", scores="mean")
    holes = frame.copy()
    holes.loc[holes.index[:3], "trust"] = np.nan
    warnings = dose_response(holes, dose="minutes", response="trust").warnings
    assert any("3 of 60 rows had missing values (trust: 3)" in w for w in warnings)
