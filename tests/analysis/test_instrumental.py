"""`instrumental_effect` against linearmodels' IV2SLS and statsmodels, the Wald-ratio identity, and a coverage
simulation under mechanism-outcome confounding.

Conventions that match exactly (checked below):

* classical: IV2SLS(...).fit(cov_type="unadjusted", debiased=True), whose residual variance is e'e/(n - k);
* clustered: IV2SLS(...).fit(cov_type="clustered", clusters=..., debiased=True), whose small-sample factor is
  n/(n - k) · G/(G - 1) · (n - 1)/n = G/(G - 1) · (n - 1)/(n - k), i.e. CR1 (linearmodels/iv/covariance.py,
  ClusteredCovariance.cov). Without debiased=True linearmodels divides by n and omits (n - 1)/(n - k), and
  the SEs differ.
* first-stage F: linearmodels' first_stage.diagnostics["f.stat"] (the Wald statistic of the excluded
  instrument with the model's covariance; with one instrument the square of its t) and "partial.rsquared".

linearmodels uses the normal distribution for p-values and intervals; moclab uses t(n - k) or t(G - 1), so
p-values and intervals are checked against the t closed form instead.
"""

from __future__ import annotations

import importlib
import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from moclab.analysis import InstrumentalResult, instrumental_effect
from moclab.errors import DataError

# the reference (dev extra; make test installs it)
IV2SLS = importlib.import_module("linearmodels.iv").IV2SLS


def encouragement_data(
    seed: int, n: int = 600, sites: int = 40, effect: float = 0.4, push: float = 0.7
) -> pd.DataFrame:
    """Sites randomized to coaching (the instrument) that raises trust (the mechanism); trust and adoption
    share an unmeasured site- and person-level cause."""
    rng = np.random.default_rng(seed)
    site = rng.integers(0, sites, n)
    coached = rng.integers(0, 2, sites)[site]
    hidden = rng.normal(size=n) + rng.normal(size=sites)[site]
    tenure = rng.normal(size=n)
    role = rng.choice(["nurse", "physician", "manager"], n)
    trust = push * coached + hidden + 0.3 * tenure + rng.normal(size=n)
    adoption = effect * trust + hidden + 0.2 * tenure + rng.normal(size=n)
    return pd.DataFrame(
        {
            "site": site,
            "coached": coached,
            "trust": trust,
            "adoption": adoption,
            "tenure": tenure,
            "role": role,
        }
    )


def reference_fit(frame: pd.DataFrame, cluster: bool):
    dummies = pd.get_dummies(frame["role"], drop_first=True, dtype=float)
    exog = pd.concat([pd.Series(1.0, index=frame.index, name="const"), frame[["tenure"]], dummies], axis=1)
    model = IV2SLS(frame["adoption"], exog, frame["trust"], frame["coached"])
    if cluster:
        return model.fit(cov_type="clustered", clusters=frame["site"], debiased=True)
    return model.fit(cov_type="unadjusted", debiased=True)


@pytest.mark.parametrize("cluster", [False, True])
def test_equals_linearmodels_iv2sls(cluster: bool) -> None:
    """linearmodels IV2SLS (debiased=True): 2SLS estimate to 1e-10, SE to 1e-8 (relative), first-stage
    coefficient, SE, F and partial R2 likewise."""
    frame = encouragement_data(1)
    result = instrumental_effect(
        frame,
        y="adoption",
        endogenous="trust",
        instrument="coached",
        covariates=["tenure", "role"],
        cluster="site" if cluster else None,
    )
    reference = reference_fit(frame, cluster)
    iv = result.effect("iv")
    assert iv.estimate == pytest.approx(reference.params["trust"], rel=1e-10)
    assert iv.se == pytest.approx(reference.std_errors["trust"], rel=1e-8)
    first = reference.first_stage.individual["trust"]
    assert result.effect("first_stage").estimate == pytest.approx(first.params["coached"], rel=1e-10)
    assert result.effect("first_stage").se == pytest.approx(first.std_errors["coached"], rel=1e-8)
    diagnostics = reference.first_stage.diagnostics.loc["trust"]
    assert result.first_stage_f == pytest.approx(float(diagnostics["f.stat"]), rel=1e-8)
    assert result.first_stage_partial_r2 == pytest.approx(float(diagnostics["partial.rsquared"]), rel=1e-10)
    assert result.effect("first_stage").extra["F"] == result.first_stage_f

    # t intervals and p-values: t(n - k) classical, t(G - 1) clustered
    df = 39 if cluster else len(frame) - 5
    assert iv.extra["df"] == df
    critical = stats.t.ppf(0.975, df)
    assert iv.ci_low == pytest.approx(iv.estimate - critical * iv.se, rel=1e-12)
    assert iv.ci_high == pytest.approx(iv.estimate + critical * iv.se, rel=1e-12)
    assert iv.p == pytest.approx(2 * stats.t.sf(abs(iv.estimate / iv.se), df), rel=1e-8)


@pytest.mark.parametrize("cluster", [False, True])
def test_reduced_form_first_stage_and_ols_equal_statsmodels(cluster: bool) -> None:
    """statsmodels OLS (classical, or cov_type="cluster", which is CR1): reduced form, first stage and the
    naive OLS, estimates to 1e-10 and SEs to 1e-8."""
    frame = encouragement_data(2)
    result = instrumental_effect(
        frame,
        y="adoption",
        endogenous="trust",
        instrument="coached",
        covariates=["tenure"],
        cluster="site" if cluster else None,
    )
    options = {"cov_type": "cluster", "cov_kwds": {"groups": frame["site"].to_numpy()}} if cluster else {}
    for name, formula, term in (
        ("reduced_form", "adoption ~ coached + tenure", "coached"),
        ("first_stage", "trust ~ coached + tenure", "coached"),
        ("ols", "adoption ~ trust + tenure", "trust"),
    ):
        fit = smf.ols(formula, frame).fit(**options)
        assert result.effect(name).estimate == pytest.approx(fit.params[term], rel=1e-10), name
        assert result.effect(name).se == pytest.approx(fit.bse[term], rel=1e-8), name


def test_without_covariates_2sls_is_the_wald_ratio() -> None:
    """Closed form: one binary instrument, no covariates: 2SLS = reduced form / first stage =
    (difference in mean outcome) / (difference in mean mechanism) between the arms."""
    frame = encouragement_data(3)
    result = instrumental_effect(frame, y="adoption", endogenous="trust", instrument="coached")
    arms = frame.groupby("coached")[["adoption", "trust"]].mean()
    wald = (arms.loc[1, "adoption"] - arms.loc[0, "adoption"]) / (arms.loc[1, "trust"] - arms.loc[0, "trust"])
    assert result.effect("iv").estimate == pytest.approx(wald, rel=1e-10)
    ratio = result.effect("reduced_form").estimate / result.effect("first_stage").estimate
    assert result.effect("iv").estimate == pytest.approx(ratio, rel=1e-10)


def test_two_level_text_instrument_says_which_level_is_one() -> None:
    frame = encouragement_data(4)
    numeric = instrumental_effect(frame, y="adoption", endogenous="trust", instrument="coached")
    text = frame.assign(arm=np.where(frame["coached"] == 1, "coaching", "usual"))
    by_text = instrumental_effect(text, y="adoption", endogenous="trust", instrument="arm")
    assert by_text.instrument_levels == ("coaching", "usual")  # sorted: "usual" is coded 1
    assert by_text.info["instrument_coding"] == "instrument 'arm': 'usual' = 1, 'coaching' = 0"
    assert by_text.effect("first_stage").estimate == pytest.approx(-numeric.effect("first_stage").estimate)
    assert by_text.effect("iv").estimate == pytest.approx(numeric.effect("iv").estimate, rel=1e-10)
    ordered = text.assign(arm=pd.Categorical(text["arm"], categories=["usual", "coaching"]))
    by_category = instrumental_effect(ordered, y="adoption", endogenous="trust", instrument="arm")
    assert by_category.instrument_levels == ("usual", "coaching")  # category order: the second is 1
    assert by_category.effect("first_stage").estimate == pytest.approx(numeric.effect("first_stage").estimate)
    boolean = instrumental_effect(
        frame.assign(coached=frame["coached"].astype(bool)),
        y="adoption",
        endogenous="trust",
        instrument="coached",
    )
    assert boolean.effect("iv").estimate == pytest.approx(numeric.effect("iv").estimate, rel=1e-12)


def test_weak_instrument_warning() -> None:
    """Staiger & Stock's rule: a warning when the first-stage F is below 10, none above."""
    weak = instrumental_effect(
        encouragement_data(5, push=0.05), y="adoption", endogenous="trust", instrument="coached"
    )
    assert weak.first_stage_f < 10
    assert any("weak instrument" in w for w in weak.warnings)
    strong = instrumental_effect(
        encouragement_data(5, push=1.0), y="adoption", endogenous="trust", instrument="coached"
    )
    assert strong.first_stage_f > 10 and not any("weak" in w for w in strong.warnings)


def test_coverage_under_confounding_where_ols_fails() -> None:
    """Simulation (cheap: 300 data sets of 400 rows): the 95% 2SLS interval covers the true effect about 95%
    of the time (binomial 99.9% band for 300 draws: 0.91 to 0.99), while the OLS interval, biased by the
    shared hidden cause, almost never does."""
    true_effect = 0.4
    covered_iv = covered_ols = 0
    reps = 300
    for seed in range(reps):
        rng = np.random.default_rng(1000 + seed)
        n = 400
        coached = rng.integers(0, 2, n)
        hidden = rng.normal(size=n)
        trust = 0.8 * coached + hidden + rng.normal(size=n)
        adoption = true_effect * trust + hidden + rng.normal(size=n)
        frame = pd.DataFrame({"coached": coached, "trust": trust, "adoption": adoption})
        result = instrumental_effect(frame, y="adoption", endogenous="trust", instrument="coached")
        iv, ols = result.effect("iv"), result.effect("ols")
        covered_iv += iv.ci_low <= true_effect <= iv.ci_high
        covered_ols += ols.ci_low <= true_effect <= ols.ci_high
    assert 0.91 <= covered_iv / reps <= 0.99
    assert covered_ols / reps < 0.05


def test_result_renders_and_serializes() -> None:
    result = instrumental_effect(
        encouragement_data(6), y="adoption", endogenous="trust", instrument="coached", cluster="site"
    )
    assert isinstance(result, InstrumentalResult)
    text = result.summary()
    assert "adoption on trust, instrument coached" in text and "first stage: F =" in text
    assert "in 40 clusters" in text
    assert repr(result).startswith("InstrumentalResult(iv = ") and repr(result).endswith(
        "1 more effect; n = 600)"
    )
    assert "<table" in result._repr_html_()
    assert list(result.to_frame().index) == ["iv", "first_stage", "reduced_form", "ols"]
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["type"] == "InstrumentalResult" and payload["n_clusters"] == 40
    assert "CR1" in result.info["method"]


def test_missing_rows_are_dropped_with_a_note() -> None:
    frame = encouragement_data(7)
    frame.loc[[1, 2, 3], "adoption"] = np.nan
    result = instrumental_effect(frame, y="adoption", endogenous="trust", instrument="coached")
    assert result.n == len(frame) - 3
    assert any(
        "3 of 600 rows had missing values (adoption: 3) and were dropped" in w for w in result.warnings
    )


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (None, {"instrument": "coaching"}, "the instrument column 'coaching' is not in the data"),
        (None, {"covariates": ["coached"]}, "used in more than one role"),
        (lambda f: f.assign(coached=1), {}, "the instrument 'coached' is constant"),
        (lambda f: f.assign(coached=f["coached"] + 1), {}, "must be 0/1"),
        (lambda f: f.assign(coached=f["role"]), {}, "must have two levels"),
        (lambda f: f.assign(trust="x"), {}, "is not numeric"),
        (lambda f: f.assign(adoption=2.0), {}, "the outcome 'adoption' is constant"),
        (lambda f: f.assign(copy=f["coached"] * 2.0), {"covariates": ["copy"]}, "first-stage model, 'copy'"),
        (lambda f: f.assign(copy=f["trust"] + 1.0), {"covariates": ["copy"]}, "outcome model, 'copy'"),
        (lambda f: f.head(3), {}, "only 3 complete rows"),
        (lambda f: f.assign(site=f["site"] % 2), {"cluster": "site"}, "only 2 cluster(s) in 'site'"),
        (None, {"level": 95}, "level (the confidence level) must be a number from 0.5 to below 1, not 95"),
    ],
)
def test_bad_input_raises_data_error(change, kwargs, message) -> None:
    frame = encouragement_data(8)
    if change is not None:
        frame = change(frame)
    arguments = {"y": "adoption", "endogenous": "trust", "instrument": "coached", **kwargs}
    with pytest.raises(DataError) as raised:
        instrumental_effect(frame, **arguments)
    assert message in str(raised.value)


def test_instrument_that_does_not_move_the_mechanism_is_refused() -> None:
    frame = pd.DataFrame(
        {
            "z": [0, 0, 0, 0, 1, 1, 1, 1],
            "d": [1.0, 2.0, 3.0, 4.0, 4.0, 3.0, 2.0, 1.0],
            "y": [0.3, 1.2, 0.8, 2.0, 1.1, 0.4, 0.9, 1.7],
        }
    )
    with pytest.raises(DataError, match="does not move 'd' at all"):
        instrumental_effect(frame, y="y", endogenous="d", instrument="z")
