"""Practice-level analyses of the support log (moclab.analysis.practice), against hand computations,
statsmodels (MixedLM, OLS) and scikit-learn (adjusted Rand index, silhouette)."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from sklearn.metrics import adjusted_rand_score, silhouette_score

from moclab.analysis import dose_mediation, dose_table, dose_trajectories, support_mode_profile
from moclab.analysis.practice import DESCRIPTIVE_ONLY, _groups, _silhouette
from moclab.errors import DataError
from moclab.evidence.rules.gradient import judge_gradient
from moclab.evidence.verdicts import Status

matplotlib.use("Agg")

MONTHS = pd.date_range("2024-01-01", periods=12, freq="MS") + pd.Timedelta(days=9)


def tiny_log() -> pd.DataFrame:
    """Four contacts with two sites over three months, worked through by hand in the tests below."""
    return pd.DataFrame(
        {
            "date": ["2024-01-10", "2024-01-20", "2024-03-05", "2024-02-14"],
            "site": ["S1", "S1", "S1", "S2"],
            "team": ["T1", "T2", "T1", "T3"],
            "recipient_id": ["R1", None, "R2", "R3"],
            "minutes": [60, 30, 90, 45],
            "component": ["facilitation", "facilitation;coaching", "coaching", "coaching"],
            "support_mode": ["push", "co-creation", "push_pull", "Push"],
        }
    )


def monthly_log(rates: dict[str, np.ndarray], rng: np.random.Generator, noise: float = 5.0) -> pd.DataFrame:
    """One contact per unit and month, of `rates[unit][month]` minutes plus normal noise (at least 0)."""
    rows = [
        {"date": day, "site": unit, "minutes": max(0.0, rate[t] + rng.normal(0, noise))}
        for unit, rate in rates.items()
        for t, day in enumerate(MONTHS)
    ]
    return pd.DataFrame(rows)


def cumulative_curves(log: pd.DataFrame) -> pd.DataFrame:
    """The cumulative minutes per site and month computed independently of moclab (time 0 = January)."""
    month = pd.to_datetime(log["date"]).dt.month - 1
    sums = log.assign(time=month).groupby(["site", "time"])["minutes"].sum()
    full = pd.MultiIndex.from_product([sorted(log["site"].unique()), range(12)], names=["site", "time"])
    frame = sums.reindex(full, fill_value=0.0).groupby(level="site").cumsum().rename("cum").reset_index()
    return frame


# ----------------------------------------------------------------------------------------------------
# dose_table
# ----------------------------------------------------------------------------------------------------


def test_dose_table_matches_the_hand_computed_minutes_contacts_and_cumulative_dose():
    doses = dose_table(tiny_log(), by="site")
    table = doses.table
    assert table["site"].tolist() == ["S1"] * 3 + ["S2"] * 3
    assert table["period"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01", "2024-03-01"] * 2
    assert table["period_number"].tolist() == [0, 1, 2, 0, 1, 2]
    assert table["contacts"].tolist() == [2, 0, 1, 0, 1, 0]
    assert table["minutes"].tolist() == [90, 0, 90, 0, 45, 0]
    assert table["cumulative_minutes"].tolist() == [90, 90, 180, 0, 45, 45]
    assert doses.totals().to_dict("index") == {
        "S1": {"contacts": 3, "minutes": 180.0},
        "S2": {"contacts": 1, "minutes": 45.0},
    }


def test_components_split_a_contacts_minutes_equally_and_add_up_to_the_units_minutes():
    parts = dose_table(tiny_log(), by="site").components
    component = (
        parts[parts["dimension"] == "component"].set_index(["site", "value", "period_number"]).sort_index()
    )
    # S1: facilitation 60 + 30/2 in January; coaching 30/2 in January and 90 in March
    assert component.loc[("S1", "facilitation"), "minutes"].tolist() == [75, 0, 0]
    assert component.loc[("S1", "coaching"), "minutes"].tolist() == [15, 0, 90]
    assert component.loc[("S1", "coaching"), "cumulative_minutes"].tolist() == [15, 15, 105]
    assert component.loc[("S2", "facilitation"), "minutes"].tolist() == [0, 0, 0]
    modes = parts[parts["dimension"] == "support_mode"].groupby(["site", "value"])["minutes"].sum()
    assert modes.to_dict() == {
        ("S1", "co_creation"): 30.0,
        ("S1", "push"): 60.0,
        ("S1", "push_pull"): 90.0,
        ("S2", "co_creation"): 0.0,
        ("S2", "push"): 45.0,
        ("S2", "push_pull"): 0.0,
    }
    for _, rows in parts.groupby("dimension"):
        assert rows.groupby("site")["minutes"].sum().to_dict() == {"S1": 180.0, "S2": 45.0}


def test_dose_table_per_quarter_week_and_recipient():
    quarter = dose_table(tiny_log(), by="team", per="quarter", components=False)
    assert quarter.components is None
    assert quarter.table.set_index("team")["minutes"].to_dict() == {"T1": 150.0, "T2": 30.0, "T3": 45.0}
    # 2024-01-07 is a Sunday: weeks end on Sunday, so the 7th and the 8th fall in different weeks
    log = pd.DataFrame({"date": ["2024-01-07", "2024-01-08"], "site": ["S1", "S1"], "minutes": [10, 20]})
    weekly = dose_table(log, per="week").table
    assert weekly["period"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08"]
    assert weekly["minutes"].tolist() == [10, 20]
    recipients = dose_table(tiny_log(), by="recipient", components="component")
    assert recipients.totals()["minutes"].to_dict() == {"R1": 60.0, "R2": 90.0, "R3": 45.0}
    assert "1 of 4 log rows name no recipient" in recipients.warnings[0]
    assert set(recipients.components["dimension"]) == {"component"}


def test_numeric_unit_ids_and_renamed_columns():
    log = pd.DataFrame({"day": ["2024-01-02", "2024-02-02"], "engagement": [7.0, 7.0], "min": [20, 25]})
    doses = dose_table(
        log, by="engagement", columns={"date": "day", "engagement": "engagement", "minutes": "min"}
    )
    assert doses.table["engagement"].unique().tolist() == ["7"]
    assert doses.table["cumulative_minutes"].tolist() == [20, 45]


def test_an_activity_with_a_row_per_recipient_reached_counts_once_per_unit():
    log = pd.DataFrame(
        {
            "activity": [1, 1, 2],  # activity 1 reached R1 and R2: the export repeats its 60 minutes
            "date": ["2024-01-10", "2024-01-10", "2024-01-12"],
            "site": ["S1", "S1", "S1"],
            "recipient_id": ["R1", "R2", None],
            "minutes": [60, 60, 30],
        }
    )
    by_site = dose_table(log, by="site")
    assert by_site.totals().to_dict("index") == {"S1": {"contacts": 2, "minutes": 90.0}}
    assert "1 log rows repeat an activity" in by_site.warnings[0]
    by_recipient = dose_table(log, by="recipient")
    assert by_recipient.totals()["minutes"].to_dict() == {"R1": 60.0, "R2": 60.0}


# ----------------------------------------------------------------------------------------------------
# dose_trajectories: the growth model
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("quadratic", [False, True])
def test_growth_model_equals_statsmodels_mixedlm_called_directly(quadratic):
    rng = np.random.default_rng(11)
    rates = {f"S{u:02d}": np.full(12, rng.normal(60, 15)) + 2.0 * np.arange(12) for u in range(15)}
    log = monthly_log(rates, rng, noise=10.0)
    result = dose_trajectories(log, by="site", quadratic=quadratic)
    data = cumulative_curves(log)
    formula = "cum ~ time + I(time ** 2)" if quadratic else "cum ~ time"
    direct = smf.mixedlm(formula, data, groups=data["site"], re_formula="~time").fit(reml=True)
    names = ["intercept", "time", *(["time_squared"] if quadratic else [])]
    np.testing.assert_allclose(
        [result.effect(n).estimate for n in names], np.asarray(direct.fe_params), rtol=1e-5
    )
    np.testing.assert_allclose([result.effect(n).se for n in names], np.asarray(direct.bse_fe), rtol=1e-4)
    np.testing.assert_allclose(result.random_covariance.to_numpy(), np.asarray(direct.cov_re), rtol=1e-4)
    np.testing.assert_allclose(result.residual_variance, direct.scale, rtol=1e-5)
    pd.testing.assert_frame_equal(
        result.curves.rename(columns={"cumulative_minutes": "cum"})[["site", "time", "cum"]],
        data[["site", "time", "cum"]],
        check_dtype=False,
    )


def test_growth_model_recovers_the_planted_slopes():
    rng = np.random.default_rng(2024)
    rates = rng.normal(60.0, 10.0, 40)
    log = monthly_log({f"U{u:02d}": np.full(12, r) for u, r in enumerate(rates)}, rng)
    result = dose_trajectories(log, by="site")
    slope = result.effect("time")
    # cumulative dose at month t is (t + 1) x rate: slope and intercept are both the mean rate
    assert abs(slope.estimate - rates.mean()) < 0.5
    assert slope.ci_low < 60.0 < slope.ci_high
    assert abs(result.effect("intercept").estimate - rates.mean()) < 3.0
    # each unit's own slope (fixed + predicted random effect) follows its rate; the monthly noise, summed
    # into the cumulative dose, blurs it by about 1.5 minutes against the rates' SD of 10
    assert np.corrcoef(result.units["slope"].to_numpy(), rates)[0, 1] > 0.97
    assert result.random_covariance.loc["time", "time"] == pytest.approx(rates.var(ddof=1), rel=0.1)


def test_growth_model_recovers_a_planted_acceleration():
    rng = np.random.default_rng(5)
    rates = rng.normal(40.0, 8.0, 30)
    # minutes in month s: rate + 6 s, so the cumulative dose is 3 t^2 + (rate + 3) t + rate
    log = monthly_log({f"U{u:02d}": r + 6.0 * np.arange(12) for u, r in enumerate(rates)}, rng, noise=3.0)
    result = dose_trajectories(log, by="site", quadratic=True)
    assert result.effect("time_squared").estimate == pytest.approx(3.0, abs=0.05)
    assert result.effect("time").estimate == pytest.approx(rates.mean() + 3.0, abs=1.0)


def test_first_activity_alignment_starts_each_unit_at_its_first_contact():
    rng = np.random.default_rng(8)
    rates = {f"S{u}": np.where(np.arange(12) >= u, 50.0, 0.0) for u in range(5)}  # unit u starts in month u
    log = monthly_log(rates, rng, noise=0.0)
    log = log[log["minutes"] > 0]
    result = dose_trajectories(log, by="site", align="first_activity")
    assert result.horizon == 8  # the last unit starts in month 4 of 12
    first = result.curves.groupby("site")["cumulative_minutes"].first()
    assert (first == 50.0).all()
    assert result.effect("time").estimate == pytest.approx(50.0, rel=1e-6)
    # noise-free curves leave the model no residual variation: said in words, not as numpy's warning
    assert any("standard errors cannot be computed" in w for w in result.warnings)


# ----------------------------------------------------------------------------------------------------
# dose_trajectories: groups
# ----------------------------------------------------------------------------------------------------


def planted_groups(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Ten units each of low steady, front-loaded and high steady support."""
    months = np.arange(12)
    kinds = {
        "low": np.full(12, 15.0),
        "front": np.where(months < 4, 150.0, 5.0),
        "high": np.full(12, 80.0),
    }
    rates, truth = {}, []
    for g, rate in enumerate(kinds.values()):
        for i in range(10):
            rates[f"{g}-{i}"] = rate
            truth.append(g)
    return monthly_log(rates, rng), np.array(truth)


def test_trajectory_groups_recover_planted_groups():
    log, truth = planted_groups(np.random.default_rng(3))
    result = dose_trajectories(log, by="site", seed=1)
    found = result.labels.loc[sorted(result.labels.index)].to_numpy()
    expected = truth[np.argsort([f"{g}-{i}" for g in range(3) for i in range(10)])]
    assert result.n_groups == 3
    assert adjusted_rand_score(expected, found) >= 0.9
    assert result.group_sizes == {1: 10, 2: 10, 3: 10}
    # groups are numbered by their final dose: low (180), front-loaded (640), high (960)
    finals = result.group_curves.groupby("group")["mean"].last()
    assert finals.is_monotonic_increasing
    assert finals[1] == pytest.approx(180, abs=20) and finals[3] == pytest.approx(960, abs=40)
    curves = result.curves.pivot(index="site", columns="time", values="cumulative_minutes")
    labels = result.labels.loc[curves.index].to_numpy()
    assert result.silhouette[3] == pytest.approx(silhouette_score(curves.to_numpy(), labels), rel=1e-9)
    asked = dose_trajectories(log, by="site", groups=3, seed=2)
    assert adjusted_rand_score(found, asked.labels.loc[sorted(asked.labels.index)].to_numpy()) == 1.0


def test_silhouette_equals_scikit_learn_including_a_unit_alone_in_its_group():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(12, 4))
    labels = np.array([0] * 5 + [1] * 6 + [2])
    assert _silhouette(points, labels) == pytest.approx(silhouette_score(points, labels), rel=1e-12)


def test_no_substantial_structure_gives_one_group_and_a_weak_structure_a_warning():
    isotropic = np.random.default_rng(4).normal(size=(30, 12))  # one cloud, no groups
    labels, widths, chosen, notes = _groups(isotropic, None, 5, 0)
    assert max(widths.values()) <= 0.25
    assert set(labels.tolist()) == {1} and chosen == "no substantial group structure"
    assert "no substantial structure" in notes[0]
    rng = np.random.default_rng(0)
    rows = [
        {"date": day, "site": f"S{s:02d}", "minutes": max(0.0, 60 + rng.normal(0, 40))}
        for s in range(30)
        for day in MONTHS
    ]
    continuum = dose_trajectories(pd.DataFrame(rows), by="site")
    assert continuum.n_groups == 2 and any("could be artificial" in w for w in continuum.warnings)


def test_trajectories_refuse_nonsense():
    rng = np.random.default_rng(1)
    one = monthly_log({"S1": np.full(12, 60.0)}, rng)
    with pytest.raises(DataError, match="at least 3 sites; the log has 1"):
        dose_trajectories(one, by="site")
    zero = monthly_log({f"S{u}": np.zeros(12) for u in range(5)}, rng, noise=0.0)
    with pytest.raises(DataError, match="every logged contact has 0 minutes"):
        dose_trajectories(zero, by="site")
    log = monthly_log({f"S{u}": np.full(12, 30.0 + 10 * u) for u in range(5)}, rng)
    for groups in (0, 5, 2.5):
        with pytest.raises(DataError, match="groups must be a whole number from 1 to 4"):
            dose_trajectories(log, by="site", groups=groups)
    two_months = log[pd.to_datetime(log["date"]).dt.month <= 2]
    with pytest.raises(DataError, match="only 2 month"):
        dose_trajectories(two_months, by="site")
    with pytest.raises(DataError, match="no logged contact has the component 'coachin'") as error:
        dose_trajectories(log.assign(component="coaching"), by="site", component="coachin")
    assert "did you mean 'coaching'?" in str(error.value)


def test_trajectories_of_one_component_use_its_equal_share():
    rng = np.random.default_rng(6)
    log = monthly_log({f"S{u}": np.full(12, 60.0) for u in range(4)}, rng, noise=0.0)
    log["component"] = "coaching;facilitation"
    result = dose_trajectories(log, by="site", component="coaching", groups=1)
    assert result.curves["minutes"].unique().tolist() == [30.0]
    assert result.effect("time").estimate == pytest.approx(30.0)


def test_trajectory_plot_draws_every_unit_and_every_group_mean():
    log, _ = planted_groups(np.random.default_rng(3))
    result = dose_trajectories(log, by="site", seed=1)
    ax = result.plot()
    assert len(ax.lines) == 30 + 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"group {g} (n=10)" for g in (1, 2, 3)]


# ----------------------------------------------------------------------------------------------------
# dose_mediation
# ----------------------------------------------------------------------------------------------------


def mediation_data(seed: int = 9, n: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    people = pd.DataFrame(
        {"recipient_id": [f"R{i:03d}" for i in range(n)], "site": [f"S{i % 20:02d}" for i in range(n)]}
    )
    contacts = 6 * n
    log = pd.DataFrame(
        {
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 360, contacts), unit="D"),
            "recipient_id": rng.choice(people["recipient_id"].iloc[: n - 5], contacts),  # 5 never supported
            "minutes": rng.choice([15, 30, 60, 90], contacts).astype(float),
        }
    )
    log["site"] = log["recipient_id"].map(people.set_index("recipient_id")["site"])
    return log, people


def add_pathway(people: pd.DataFrame, dose: np.ndarray, seed: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = people.copy()
    frame["baseline"] = rng.normal(size=len(frame))
    frame["trust"] = 0.004 * dose + 0.5 * frame["baseline"] + rng.normal(size=len(frame))
    frame["adoption"] = 0.5 * frame["trust"] + 0.001 * dose + rng.normal(size=len(frame))
    return frame


def test_dose_mediation_paths_equal_ols_fits_on_the_dose_counted_by_hand():
    log, people = mediation_data()
    window = pd.Timestamp("2024-07-15")
    received = log[pd.to_datetime(log["date"]) <= window].groupby("recipient_id")["minutes"].sum()
    dose = people["recipient_id"].map(received).fillna(0.0).to_numpy()
    frame = add_pathway(people, dose)
    result = dose_mediation(
        log,
        frame,
        mechanism="trust",
        outcome="adoption",
        window="2024-07-15",
        covariates=["baseline"],
        ci="delta",
    )
    np.testing.assert_array_equal(result.doses["support_minutes"].to_numpy(), dose)
    design_m = sm.add_constant(np.column_stack([dose, frame["baseline"]]))
    design_y = sm.add_constant(np.column_stack([dose, frame["baseline"], frame["trust"]]))
    a = sm.OLS(frame["trust"].to_numpy(), design_m).fit()
    outcome = sm.OLS(frame["adoption"].to_numpy(), design_y).fit()
    total = sm.OLS(frame["adoption"].to_numpy(), design_m).fit()
    a_hat, b_hat, direct = a.params[1], outcome.params[3], outcome.params[1]
    assert result.effect("a[trust]").estimate == pytest.approx(a_hat, rel=1e-10)
    assert result.effect("a[trust]").se == pytest.approx(a.bse[1], rel=1e-8)
    assert result.effect("b[trust]").estimate == pytest.approx(b_hat, rel=1e-10)
    assert result.effect("indirect[trust]").estimate == pytest.approx(a_hat * b_hat, rel=1e-10)
    assert result.effect("direct").estimate == pytest.approx(direct, rel=1e-10)
    assert result.effect("total").estimate == pytest.approx(total.params[1], rel=1e-10)
    # the gradient's slopes are the same regressions: trust on the dose, adoption on trust given the dose
    assert result.effect("dose_slope").estimate == pytest.approx(a_hat, rel=1e-10)
    assert result.effect("mechanism_slope").estimate == pytest.approx(b_hat, rel=1e-10)
    assert any("5 recipient(s) of the measures frame have no logged contact" in w for w in result.warnings)


def test_dose_mediation_counts_each_rows_own_window_and_site_doses():
    log, people = mediation_data(seed=12, n=120)
    people["answered"] = pd.Timestamp("2024-05-01") + pd.to_timedelta(np.arange(120) % 90, unit="D")
    dates = pd.to_datetime(log["date"])
    own = np.array(
        [
            log.loc[(log["recipient_id"] == rid) & (dates <= day), "minutes"].sum()
            for rid, day in zip(people["recipient_id"], people["answered"], strict=True)
        ]
    )
    frame = add_pathway(people, own)
    result = dose_mediation(log, frame, mechanism="trust", outcome="adoption", window="answered", ci="delta")
    np.testing.assert_array_equal(result.doses["support_minutes"].to_numpy(), own)
    site_totals = log[dates <= "2024-06-30"].groupby("site")["minutes"].sum()
    by_site = dose_mediation(
        log, frame, mechanism="trust", outcome="adoption", window="2024-06-30", by="site", ci="delta"
    )
    np.testing.assert_array_equal(
        by_site.doses["support_minutes"].to_numpy(), frame["site"].map(site_totals).to_numpy()
    )
    assert by_site.mediation.n_clusters == 20 and by_site.dose_mechanism.n_clusters == 20


def test_dose_mediation_counts_a_components_equal_share():
    log, people = mediation_data(seed=13, n=100)
    log["component"] = np.where(np.arange(len(log)) % 2 == 0, "coaching", "coaching;facilitation")
    share = np.where(log["component"] == "coaching", 1.0, 0.5) * log["minutes"]
    received = share[pd.to_datetime(log["date"]) <= "2024-07-15"].groupby(log["recipient_id"]).sum()
    dose = people["recipient_id"].map(received).fillna(0.0).to_numpy()
    frame = add_pathway(people, dose)
    result = dose_mediation(
        log,
        frame,
        mechanism="trust",
        outcome="adoption",
        window="2024-07-15",
        components="coaching",
        ci="delta",
    )
    np.testing.assert_allclose(result.doses["support_minutes"].to_numpy(), dose, rtol=1e-12)
    assert "minutes of coaching per recipient" in result.info["dose"]


def test_dose_mediation_gives_the_gradient_criterion_what_it_reads():
    log, people = mediation_data()
    received = log[pd.to_datetime(log["date"]) <= "2024-07-15"].groupby("recipient_id")["minutes"].sum()
    frame = add_pathway(people, people["recipient_id"].map(received).fillna(0.0).to_numpy())
    result = dose_mediation(
        log, frame, mechanism="trust", outcome="adoption", window="2024-07-15", ci="delta"
    )
    inputs = result.gradient_effects()
    assert inputs["dose_trend"] is result.dose_mechanism.effect("trend")
    assert inputs["mechanism_trend"] is result.mechanism_outcome.effect("trend")
    verdict = judge_gradient(**inputs, level=0.95)
    assert verdict.status == Status.MET
    assert result.effect("dose_trend").estimate == inputs["dose_trend"].estimate


def test_dose_mediation_refuses_what_it_cannot_count():
    log, people = mediation_data(n=60)
    frame = add_pathway(people, np.zeros(60) + np.arange(60))
    with pytest.raises(DataError, match="window must be 'all', a date or a date column"):
        dose_mediation(log, frame, mechanism="trust", outcome="adoption", window="soon")
    twice = pd.concat([frame, frame.iloc[:2]], ignore_index=True)
    with pytest.raises(DataError, match="several rows for a recipient"):
        dose_mediation(log, twice, mechanism="trust", outcome="adoption", window="2024-07-01")
    with pytest.raises(DataError, match="the measures frame has no team column 'team'"):
        dose_mediation(
            log.assign(team="T1"), frame, mechanism="trust", outcome="adoption", window="all", by="team"
        )
    result = dose_mediation(log, frame, mechanism="trust", outcome="adoption", window="all", ci="delta")
    assert any("cannot have caused it" in w for w in result.warnings)


# ----------------------------------------------------------------------------------------------------
# support_mode_profile
# ----------------------------------------------------------------------------------------------------


def test_support_mode_profile_is_exact_on_a_tiny_log():
    profile = support_mode_profile(tiny_log(), by="site")
    shares = profile.shares.set_index(["site", "period_number"])
    assert shares.loc[("S1", 0), ["minutes", "push", "push_pull", "co_creation"]].tolist() == [
        90,
        2 / 3,
        0,
        1 / 3,
    ]
    assert shares.loc[("S1", 0), "dominant"] == "push"
    assert shares.loc[("S1", 2), "dominant"] == "push_pull"
    assert shares.loc[("S2", 1), "push"] == 1.0
    assert len(shares) == 3  # periods without support have no shares
    units = profile.units
    assert units.loc["S1", ["contacts", "minutes", "push", "push_pull", "co_creation"]].tolist() == [
        3,
        180,
        1 / 3,
        0.5,
        1 / 6,
    ]
    assert units["dominant"].to_dict() == {"S1": "push_pull", "S2": "push"}


def test_support_mode_profile_describes_the_measures_by_dominant_mode():
    log = pd.concat(
        [
            tiny_log(),
            pd.DataFrame(
                {
                    "date": ["2024-02-01", "2024-02-02"],
                    "site": "S3",
                    "minutes": 30,
                    "support_mode": ["push", "co_creation"],
                }
            ),
        ],
        ignore_index=True,
    )
    measures = pd.DataFrame(
        {
            "site": ["S1", "S1", "S2", "S3", "S4"],
            "trust": [3.0, 4.0, 5.0, 2.0, 1.0],
            "adoption": [1.0, np.nan, 2.0, 3.0, 4.0],
        }
    )
    profile = support_mode_profile(log, by="site", measures=measures, variables=["trust", "adoption"])
    assert profile.units.loc["S3", "dominant"] == "mixed"
    trust = profile.by_mode[profile.by_mode["variable"] == "trust"].set_index("dominant_mode")
    assert trust.index.tolist() == ["push", "push_pull", "mixed", "(no support logged)"]
    assert trust.loc["push_pull", ["units", "n", "mean"]].tolist() == [1, 2, 3.5]
    assert trust.loc["push_pull", "sd"] == pytest.approx(np.std([3.0, 4.0], ddof=1))
    assert trust.loc["(no support logged)", "mean"] == 1.0
    adoption = profile.by_mode[profile.by_mode["variable"] == "adoption"].set_index("dominant_mode")
    assert adoption.loc["push_pull", "n"] == 1 and adoption.loc["push_pull", "mean"] == 1.0
    assert DESCRIPTIVE_ONLY in profile.summary() and "descriptive only" in profile._repr_html_()


def test_support_mode_profile_leaves_out_contacts_without_a_mode():
    log = tiny_log()
    log.loc[0, "support_mode"] = None
    profile = support_mode_profile(log, by="site")
    assert profile.units.loc["S1", "minutes"] == 120
    assert "1 contact(s) without a support mode" in profile.warnings[0]


# ----------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda log: log.rename(columns={"date": "Date"}), "no date column 'date'.*did you mean 'Date'"),
        (lambda log: log.drop(columns="minutes"), "no minutes column 'minutes'.*columns=\\{'minutes'"),
        (lambda log: log.assign(minutes=[60, -30, 90, -5]), "negative minutes in rows 2, 4 \\(-30, -5\\)"),
        (lambda log: log.assign(minutes=[60, "1.5 h", 90, 45]), "not numbers in row 2 \\('1.5 h'\\)"),
        (lambda log: log.assign(minutes=[60, None, 90, 45]), "'minutes' is empty in row 2"),
        (
            lambda log: log.assign(date=["2024-01-10", "2024-01-20", "soon", "2024-02-14"]),
            "not dates in row 3",
        ),
        (
            lambda log: log.assign(date=["2024-01-10", None, "2024-03-05", "2024-02-14"]),
            "'date' is empty in row 2",
        ),
        (
            lambda log: log.assign(support_mode=["push", "psh", "push", "push"]),
            "unknown modes in row 2.*'push'",
        ),
        (lambda log: log.iloc[0:0], "the activity log has no rows"),
        (lambda log: log.assign(site=None), "no row of the activity log names a site"),
    ],
)
def test_bad_logs_are_refused_with_the_column_and_rows(change, message):
    with pytest.raises(DataError, match=message):
        dose_table(change(tiny_log()), by="site")


def test_bad_arguments_are_refused():
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        dose_table(tiny_log().to_dict(), by="site")
    with pytest.raises(DataError, match="by must be one of"):
        dose_table(tiny_log(), by="clinic")
    with pytest.raises(DataError, match="per must be one of"):
        dose_table(tiny_log(), per="year")
    with pytest.raises(DataError, match=r"unknown role 'recipeint'.*did you mean 'recipient'"):
        dose_table(tiny_log(), columns={"recipeint": "recipient_id"})
    with pytest.raises(DataError, match="unknown modes"):
        support_mode_profile(tiny_log().assign(support_mode="virtual"))
    with pytest.raises(DataError, match="no support_mode column"):
        support_mode_profile(tiny_log().drop(columns="support_mode"))
    with pytest.raises(DataError, match="variables and measures go together"):
        support_mode_profile(tiny_log(), variables=["trust"])


# ----------------------------------------------------------------------------------------------------
# The result protocol (as tests/test_result_protocol.py checks for the other results)
# ----------------------------------------------------------------------------------------------------


def protocol_results() -> dict[str, object]:
    log, people = mediation_data(n=80)
    frame = add_pathway(people, np.arange(80.0))
    groups_log, _ = planted_groups(np.random.default_rng(3))
    measures = pd.DataFrame({"site": ["S1", "S2"], "trust": [3.0, 4.0]})
    return {
        "dose_table": dose_table(tiny_log(), by="site"),
        "dose_trajectories": dose_trajectories(groups_log, by="site"),
        "dose_mediation": dose_mediation(
            log, frame, mechanism="trust", outcome="adoption", window="2024-07-01", n_boot=200, seed=1
        ),
        "support_mode_profile": support_mode_profile(tiny_log(), measures=measures, variables=["trust"]),
    }


@pytest.mark.parametrize(("name", "result"), list(protocol_results().items()))
def test_the_results_speak_the_protocol(name, result):
    text = result.summary()
    assert isinstance(text, str) and text.strip() and str(result) == text
    short = repr(result)
    assert "\n" not in short and len(short) <= 300, short
    assert isinstance(result.to_frame(), pd.DataFrame) and len(result.to_frame())
    json.dumps(result.to_dict(), allow_nan=False)
    assert isinstance(result._repr_html_(), str)
