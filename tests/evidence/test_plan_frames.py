"""Plans and frames: the wave rule, the coding of the strategy, baselines, the dose from the activities log
and the timeline facts, each checked against an independent computation from the raw CSV files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from moclab.evidence import EvidenceSettings, plan_pathways
from moclab.evidence.frames import DAYS_PER_MONTH, pathway_data, study_tables, timeline_facts
from moclab.study import example_path, load_study

from .helpers import cross_sectional, write_study

TRUST = "isp_support__trust__acceptability"


def plan_of(study, settings=None, pathway=TRUST):
    settings = settings or EvidenceSettings.model_validate({"pathways": [pathway]})
    return plan_pathways(study, settings)[0], settings


def raw_tables():
    folder = example_path() / "data"
    return (
        pd.read_csv(folder / "recipients.csv"),
        pd.read_csv(folder / "measures.csv"),
        pd.read_csv(folder / "activities.csv", parse_dates=["date"]),
    )


def test_default_plan_of_a_derived_pathway(example_study):
    plan, _ = plan_of(example_study)
    assert plan.strategy == "isp_support" and plan.mechanisms == ("trust",)
    assert plan.outcome == "acceptability"  # the first outcome after the mechanism, not the final one
    assert set(plan.alternatives) == {"positive_emotion", "psych_safety", "credibility"}
    assert (plan.baseline_wave, plan.mechanism_wave, plan.outcome_wave) == ("baseline", "m6", "m12")
    assert plan.coding.kind == "arm" and plan.coding.control == "usual" and plan.coding.randomized
    assert plan.coding.text == "arm: 1 = intensive, 0 = usual"
    assert plan.subgroups == ("engagement",)  # the categorical moderator of isp_support -> trust
    assert plan.links == (("isp_support", "trust"), ("trust", "acceptability"))
    assert plan.cluster == "site"


def test_chosen_outcome_waves_and_alternatives(example_study):
    settings = EvidenceSettings.model_validate(
        {
            "pathways": [{"id": TRUST, "outcome": "knowledge", "alternatives": ["credibility"]}],
            "waves": {"baseline": None, "mechanism": "m12", "outcome": "m12"},
        }
    )
    plan, _ = plan_of(example_study, settings)
    assert plan.outcome == "knowledge" and plan.alternatives == ("credibility",)
    assert (plan.baseline_wave, plan.mechanism_wave, plan.outcome_wave) == (None, "m12", "m12")
    assert plan.links[-1] == ("acceptability", "knowledge")


def test_frame_matches_an_independent_pivot_of_the_raw_files(example_study):
    plan, settings = plan_of(example_study)
    tables = study_tables(example_study)
    data = pathway_data(example_study, plan, settings, tables)
    frame = data.frame.set_index("recipient_id")
    recipients, measures, _ = raw_tables()
    scales = measures[measures["measure"] == "trust"].pivot(
        index="recipient_id", columns="wave", values="value"
    )
    expected_x = (recipients.set_index("recipient_id")["arm"] == "intensive").astype(float)
    pd.testing.assert_series_equal(frame[data.x], expected_x.reindex(frame.index), check_names=False)
    pd.testing.assert_series_equal(frame["trust"], scales["m6"].reindex(frame.index), check_names=False)
    pd.testing.assert_series_equal(
        frame["trust@baseline"], scales["baseline"].reindex(frame.index), check_names=False
    )
    assert data.baselines["trust"] == "trust@baseline" and "acceptability" in data.baselines
    assert data.x_type == "arm" and data.cluster is not None


def test_the_scorecard_a_path_equals_statsmodels_ols_on_the_raw_files(example_study):
    from moclab.evidence import analyze

    evidence = analyze(
        example_study, pathways=[TRUST], n_boot=200, ci="percentile", seed=4, show_progress=False
    )
    mediation = evidence.scorecard.pathway(TRUST).results["mediation"]
    data = pathway_data(example_study, *plan_of(example_study), study_tables(example_study))
    # strong association reads the model with the competing mechanisms: every equation adjusts for their
    # baselines too
    covariates = data.baseline_for("trust", *data.alternatives, "acceptability")
    frame = data.frame.dropna(subset=[data.x, "trust", *data.alternatives, "acceptability", *covariates])
    design = sm.add_constant(frame[[data.x, *covariates]])
    fit = sm.OLS(frame["trust"], design).fit(cov_type="cluster", cov_kwds={"groups": frame[data.cluster]})
    a = mediation.effect("a[trust]")
    assert a.estimate == pytest.approx(fit.params[data.x], rel=1e-9)
    assert a.se == pytest.approx(fit.bse[data.x], rel=1e-6)
    assert evidence.scorecard.verdict(TRUST, "strong_association").evidence["paths"]["a[trust]"][
        "estimate"
    ] == (pytest.approx(fit.params[data.x], rel=1e-9))


def test_site_dose_is_the_site_minutes_before_the_mechanism_wave_per_recipient(example_study):
    plan, settings = plan_of(example_study)
    data = pathway_data(example_study, plan, settings, study_tables(example_study))
    assert data.dose_level == "site"  # fewer than half of the logged contacts name a recipient
    recipients, _, activities = raw_tables()
    window = activities[activities["date"] <= pd.Timestamp("2024-07-15")]
    per_site = window.groupby("site")["minutes"].sum() / recipients.groupby("site").size()
    expected = recipients["site"].map(per_site).fillna(0.0)
    np.testing.assert_allclose(data.frame[data.dose].to_numpy(), expected.to_numpy())


def test_recipient_dose_counts_contacts_of_each_recipient(example_study):
    settings = EvidenceSettings.model_validate(
        {"pathways": [TRUST], "dose": {"measure": "contacts", "level": "recipient", "window": "all"}}
    )
    plan, _ = plan_of(example_study, settings)
    data = pathway_data(example_study, plan, settings, study_tables(example_study))
    recipients, _, activities = raw_tables()
    counts = activities.groupby("recipient_id").size()
    expected = recipients["recipient_id"].map(counts).fillna(0.0)
    np.testing.assert_allclose(data.frame["support_contacts"].to_numpy(), expected.to_numpy())
    assert data.dose_level == "recipient"


def test_sparse_baselines_are_not_adjusted_for(tmp_path):
    recipients, long = cross_sectional(n_sites=1, per_site=80)
    second = long.assign(wave="w2")
    first = long.assign(wave="w1")
    first = first[~((first["measure"] == "trust") & (first.index % 5 != 0))]  # 20% have a baseline trust
    folder = write_study(
        tmp_path / "s",
        recipients=recipients,
        measures=pd.concat([first, second], ignore_index=True),
        waves=[{"id": "w1", "month": 0}, {"id": "w2", "month": 6}],
    )
    study = load_study(folder, show_progress=False)
    settings = EvidenceSettings()
    plan = plan_pathways(study, settings)[0]
    data = pathway_data(study, plan, settings, study_tables(study))
    assert "trust" not in data.baselines and "acceptability" in data.baselines
    assert any("only 20% of recipients" in note for note in data.notes)
    # with two waves the mechanism and the outcome are both taken at the second one
    assert (plan.mechanism_wave, plan.outcome_wave, plan.baseline_wave) == ("w2", "w2", "w1")


def test_timeline_facts_in_months(example_study):
    plan, settings = plan_of(example_study)
    facts = timeline_facts(example_study, plan, settings, study_tables(example_study))
    assert (facts.mechanism_time, facts.outcome_time) == (6.0, 12.0)
    first_contact = pd.Timestamp("2024-01-23") - pd.Timestamp("2024-01-15")
    assert facts.strategy_start == pytest.approx(first_contact.days / DAYS_PER_MONTH)
    assert facts.start_source == "first logged activity, 2024-01-23"
    given = EvidenceSettings.model_validate({"pathways": [TRUST], "strategy_start": 2.5})
    assert timeline_facts(example_study, plan, given, study_tables(example_study)).strategy_start == 2.5


def test_a_numeric_strategy_is_a_dose_and_one_wave_takes_everything_at_it(tmp_path):
    recipients, long = cross_sectional(n_sites=1, per_site=60)
    folder = write_study(tmp_path / "s", recipients=recipients, measures=long, waves=[{"id": "w1"}])
    study = load_study(folder, show_progress=False)
    plan = plan_pathways(study, EvidenceSettings())[0]
    assert plan.coding.kind == "column" and not plan.coding.randomized
    assert (plan.baseline_wave, plan.mechanism_wave, plan.outcome_wave) == (None, "w1", "w1")
    assert plan.cluster is None  # a single site: no clustering
    data = pathway_data(study, plan, EvidenceSettings(), study_tables(study))
    assert data.x_type == "dose" and data.dose is None
    assert data.dose_failure == "the study has no activities table (support log)"
    assert data.panel is None
