"""`moclab.study.score_report`: the seed comes from the caller, and its ICC(1) is the one `mediate` reports.

References: the ICC(1) of the score report and of `moclab.analysis.mediate` are checked against each other
and against statsmodels' one-way ANOVA table (`anova_lm`) with the effective group size
n0 = (N - Σ n_j² / N) / (J - 1) of unequal groups (Snedecor & Cochran 1989).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from moclab.analysis import mediate
from moclab.analysis.clustering import ICC_ANOVA_ESTIMATOR
from moclab.study import example_path, load_study
from moclab.study.score_report import ScoreReport, score_report


@pytest.fixture(scope="module")
def example():
    return load_study(example_path(), show_progress=False)


def test_the_seed_comes_from_the_caller_or_is_drawn_and_reported(example) -> None:
    first = score_report(example, n_boot=50, seed=11)
    again = score_report(example, n_boot=50, seed=11)
    assert isinstance(first, ScoreReport) and first.seed == 11 and first.n_boot == 50
    pd.testing.assert_frame_equal(first.reliability, again.reliability)
    drawn = score_report(example, n_boot=50)
    assert isinstance(drawn.seed, int)
    # the reported seed repeats the run
    pd.testing.assert_frame_equal(
        drawn.reliability, score_report(example, n_boot=50, seed=drawn.seed).reliability
    )
    as_dict = first.to_dict()
    assert as_dict["seed"] == 11 and as_dict["icc_estimator"] == ICC_ANOVA_ESTIMATOR
    assert {"scores", "reliability", "aggregation", "issues", "reliability_warnings"} <= set(as_dict)
    assert "seed 11" in first._repr_html_()


def test_mediate_and_the_score_report_give_the_same_icc_on_unbalanced_teams(example) -> None:
    report = score_report(example, n_boot=0, seed=1)
    [row] = report.aggregation.query("measure == 'psych_safety' and wave == 'baseline'").itertuples()
    assert row.icc_estimator == ICC_ANOVA_ESTIMATOR

    scores = example.scores.results["psych_safety"].scores
    teams = example.recipients.set_index("recipient_id")["team"]
    data = scores[scores["wave"] == "baseline"].assign(team=lambda f: f["recipient_id"].map(teams))
    data = data.dropna(subset=["psych_safety", "team"]).reset_index(drop=True)
    sizes = data["team"].value_counts()
    assert sizes.nunique() > 1  # unequal teams: where the estimators used to disagree
    # strategy and mediator complete for every row, so mediate analyses exactly these rows
    rng = np.random.default_rng(5)
    data["x"] = rng.integers(0, 2, len(data)).astype(float)
    data["m"] = rng.normal(size=len(data))
    result = mediate(data, x="x", m="m", y="psych_safety", cluster="team", ci="delta")
    assert result.n == len(data) and result.info["icc_estimator"] == ICC_ANOVA_ESTIMATOR
    assert result.icc["psych_safety"] == pytest.approx(row.icc1, rel=1e-12)
    assert ICC_ANOVA_ESTIMATOR in result.summary()

    # both equal the ANOVA estimator with n0 from statsmodels' mean squares
    table = anova_lm(smf.ols("psych_safety ~ C(team)", data=data).fit())
    msb, msw = table["mean_sq"].iloc[0], table["mean_sq"].iloc[1]
    n, groups = len(data), len(sizes)
    n0 = (n - (sizes**2).sum() / n) / (groups - 1)
    assert row.icc1 == pytest.approx((msb - msw) / (msb + (n0 - 1) * msw), rel=1e-12)
    # the mean group size (what R's multilevel package uses) gives a different number on these data
    mean_size = n / groups
    assert abs(row.icc1 - (msb - msw) / (msb + (mean_size - 1) * msw)) > 1e-4
