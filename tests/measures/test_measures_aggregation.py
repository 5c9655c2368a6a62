"""rwg, rwg(j), ICC(1) and ICC(2) against published numbers, identities and statsmodels.

References used here:
* Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability. Psychological Bulletin
  1979;86(2):420-428 — six targets rated by four judges (data p. 423); one-way ANOVA mean squares
  BMS = 11.24, WMS = 6.26, and ICC(1,1) = .17, ICC(1,k) = .44. Bliese (2000) ICC(1) and ICC(2) are these
  one-way ICCs for groups (targets) of equal size. The same data are reproduced in the vignette of the
  R package SimplyAgree (arcaldwell49/SimplyAgree, reliability_analysis).
* Unequal groups: statsmodels' one-way ANOVA table (`anova_lm`) with Snedecor & Cochran's effective group
  size n0 = (N - Σ n_j² / N) / (J - 1).
* R package multilevel, documentation of rwg and rwg.j (rdocumentation.org/link/rwg?package=multilevel):
  the expected random variance is 2 for five response options, (A^2 - 1) / 12 in general, and groups whose
  variance exceeds it are truncated to 0 (James, Demaree & Wolf 1984).
* James, Demaree & Wolf (1984): rwg(j) is the Spearman-Brown formula applied to 1 - s̄^2/σ_EU^2 with J items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from moclab.analysis.aggregation import aggregation_check, icc, rwg, rwg_j, uniform_null_variance
from moclab.analysis.clustering import ICC_ANOVA_ESTIMATOR, icc_oneway
from moclab.errors import DataError

SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
)


def shrout_fleiss_long() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "target": np.repeat(np.arange(1, 7), 4),
            "judge": np.tile(np.arange(1, 5), 6),
            "rating": SHROUT_FLEISS.ravel().astype(float),
        }
    )


def test_icc_reproduces_shrout_and_fleiss_1979() -> None:
    data = shrout_fleiss_long()
    result = icc(data["rating"], data["target"])
    assert round(result.msb, 2) == 11.24 and round(result.msw, 2) == 6.26
    assert round(result.icc1, 2) == 0.17 and round(result.icc2, 2) == 0.44
    assert (result.df_between, result.df_within, result.groups, result.mean_group_size) == (5, 18, 6, 4.0)


def test_icc_matches_pingouin_and_statsmodels() -> None:
    data = shrout_fleiss_long()
    result = icc(data["rating"], data["target"])
    reference = pg.intraclass_corr(data, targets="target", raters="judge", ratings="rating").set_index("Type")
    assert result.icc1 == pytest.approx(reference.loc["ICC(1,1)", "ICC"], abs=1e-12)
    assert result.icc2 == pytest.approx(reference.loc["ICC(1,k)", "ICC"], abs=1e-12)
    table = anova_lm(smf.ols("rating ~ C(target)", data=data).fit())
    assert result.msb == pytest.approx(table.loc["C(target)", "mean_sq"], rel=1e-12)
    assert result.msw == pytest.approx(table.loc["Residual", "mean_sq"], rel=1e-12)
    assert result.f == pytest.approx(table.loc["C(target)", "F"], rel=1e-12)
    assert result.p == pytest.approx(table.loc["C(target)", "PR(>F)"], rel=1e-9)


def test_icc1_equals_the_mixed_model_variance_share_for_balanced_groups() -> None:
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(30), 6)
    values = rng.normal(0, 0.6, 30)[groups] + rng.normal(0, 1, len(groups))
    result = icc(values, groups)
    fit = smf.mixedlm("y ~ 1", pd.DataFrame({"y": values, "g": groups}), groups="g").fit(reml=True)
    tau2, sigma2 = float(fit.cov_re.iloc[0, 0]), float(fit.scale)
    # REML equals the ANOVA estimator for balanced one-way designs when the variance is positive (up to the
    # optimizer's tolerance)
    assert sigma2 == pytest.approx(result.msw, rel=1e-4)
    assert tau2 == pytest.approx((result.msb - result.msw) / 6, rel=1e-3)
    assert result.icc1 == pytest.approx(tau2 / (tau2 + sigma2), abs=1e-4)
    # Bliese (2000): ICC(2) is ICC(1) stepped up by Spearman-Brown with the group size
    k = result.mean_group_size
    assert result.icc2 == pytest.approx(k * result.icc1 / (1 + (k - 1) * result.icc1), abs=1e-12)


def test_icc_on_unequal_groups_is_the_anova_estimator_with_n0_and_says_so() -> None:
    rng = np.random.default_rng(6)
    sizes = np.array([2, 3, 9, 4, 12, 5, 3, 7])
    codes = np.repeat(np.arange(sizes.size), sizes)
    values = rng.normal(0, 0.7, sizes.size)[codes] + rng.normal(size=codes.size)
    groups = np.array([f"team {c}" for c in codes])
    result = icc(values, groups)
    table = anova_lm(smf.ols("y ~ C(g)", data=pd.DataFrame({"y": values, "g": groups})).fit())
    msb, msw = table["mean_sq"].iloc[0], table["mean_sq"].iloc[1]
    n = sizes.sum()
    n0 = (n - (sizes**2).sum() / n) / (sizes.size - 1)  # Snedecor & Cochran's n0 for unequal groups
    assert result.n0 == pytest.approx(n0, rel=1e-12) and result.mean_group_size == pytest.approx(n / 8)
    assert result.icc1 == pytest.approx((msb - msw) / (msb + (n0 - 1) * msw), rel=1e-12)
    assert result.icc2 == pytest.approx((msb - msw) / msb, rel=1e-12)
    assert result.f == pytest.approx(table["F"].iloc[0], rel=1e-12)
    assert result.p == pytest.approx(table["PR(>F)"].iloc[0], rel=1e-9)
    # one implementation: mediate's ICC (clustering.icc_oneway) is the same number
    assert result.icc1 == icc_oneway(values, codes)
    assert result.estimator == ICC_ANOVA_ESTIMATOR
    items = np.clip(np.round(4 + values), 1, 7)[:, None]
    check = aggregation_check(items, groups, scores=values, options=7, measure="climate", group_level="team")
    assert check.icc.icc1 == result.icc1
    assert check.to_frame()["icc_estimator"].item() == ICC_ANOVA_ESTIMATOR
    assert check.to_dict()["icc"]["estimator"] == ICC_ANOVA_ESTIMATOR and ICC_ANOVA_ESTIMATOR in str(check)


def test_uniform_null_variances() -> None:
    # multilevel's documentation: 2 for five response options; (A^2 - 1) / 12 in general
    assert uniform_null_variance(5) == 2.0
    assert [uniform_null_variance(a) for a in (7, 9, 11)] == pytest.approx([4.0, 80 / 12, 10.0])
    with pytest.raises(DataError):
        uniform_null_variance(1)


def test_rwg_by_hand_and_truncation() -> None:
    values = [4, 4, 5, 3, 4, 1, 5, 3]  # a: five close answers, b: two far apart, c: one
    groups = ["a"] * 5 + ["b"] * 2 + ["c"]
    table = rwg(values, groups, options=5).set_index("group")
    assert table.loc["a", "variance"] == pytest.approx(0.5) and table.loc["a", "rwg"] == pytest.approx(0.75)
    assert table.loc["b", "rwg"] == 0.0  # variance 8 > 2: truncated to no agreement (James et al. 1984)
    assert np.isnan(table.loc["c", "rwg"]) and table.loc["c", "n"] == 1
    skewed = rwg(values[:5], groups[:5], null_variance=1.34)["rwg"].item()
    assert skewed == pytest.approx(1 - 0.5 / 1.34)


def test_rwg_j_is_spearman_brown_of_the_mean_item_agreement() -> None:
    rng = np.random.default_rng(7)
    items = pd.DataFrame(rng.integers(2, 6, size=(40, 6)), columns=list("abcdef")).astype(float)
    groups = np.repeat(["t1", "t2", "t3", "t4"], 10)
    table = rwg_j(items, groups, options=7).set_index("group")
    for group in ["t1", "t2", "t3", "t4"]:
        block = items[groups == group]
        mean_variance = block.var(ddof=1).mean()
        single = 1 - mean_variance / 4.0
        expected = 6 * single / (1 + 5 * single)
        assert table.loc[group, "mean_variance"] == pytest.approx(mean_variance)
        assert table.loc[group, "rwg_j"] == pytest.approx(expected)
        # the same as James et al. (1984) eq. 7 written out
        ratio = mean_variance / 4.0
        assert table.loc[group, "rwg_j"] == pytest.approx(6 * (1 - ratio) / (6 * (1 - ratio) + ratio))


def test_rwg_j_uses_the_answers_given() -> None:
    items = pd.DataFrame({"x": [4, 4, 5, np.nan], "y": [4, 5, 5, 4]})
    table = rwg_j(items, ["g"] * 4, options=5)
    mean_variance = (np.var([4, 4, 5], ddof=1) + np.var([4, 5, 5, 4], ddof=1)) / 2
    assert table["mean_variance"].item() == pytest.approx(mean_variance) and table["n"].item() == 4


def test_aggregation_check_warns_when_not_justified() -> None:
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(12), 8)
    # strong team differences and agreement: justified
    team = rng.normal(0, 1.0, 12)[groups]
    agreeing = np.clip(np.round(4 + team[:, None] + rng.normal(0, 0.4, (len(groups), 4))), 1, 7)
    good = aggregation_check(agreeing, groups, options=7, measure="climate", group_level="team")
    assert good.justified and good.median_rwg > 0.7 and good.icc.icc2 > 0.7 and good.statistic == "rwg(j)"
    # answers all over the scale and no team differences: every convention fails
    noisy = rng.integers(1, 8, size=(len(groups), 4)).astype(float)
    bad = aggregation_check(noisy, groups, options=7, measure="climate", group_level="team")
    assert not bad.justified and len(bad.warnings) == 3
    assert (
        "median rwg(j)" in bad.warnings[0]
        and "ICC(2)" in bad.warnings[1]
        and "do not differ" in bad.warnings[2]
    )
    frame = bad.to_frame()
    assert frame[["measure", "level", "groups", "justified"]].values.tolist() == [
        ["climate", "team", 12, False]
    ]
    assert bad.to_dict()["thresholds"] == {"rwg": 0.7, "icc2": 0.7, "f_test": 0.05}
    assert "warning:" in str(bad) and "Aggregation of climate" in bad._repr_html_()


def test_bad_input() -> None:
    with pytest.raises(DataError, match="number of response options"):
        rwg([1, 2], ["a", "a"])
    with pytest.raises(DataError, match="group labels"):
        rwg([1, 2, 3], ["a", "a"], options=5)
    with pytest.raises(DataError, match="at least 2 groups"):
        icc([1, 2, 3], ["a", "a", "a"])
