"""The participant flow (`moclab.study.flow`): exact counts on a study small enough to count by hand, the
tests of differential attrition against scipy and statsmodels called here, and studies with one wave or none.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from rich.console import Console
from scipy import stats

from moclab.errors import StudyError, UsageError
from moclab.study import Study, example_path, load_study, study_from_tables
from moclab.study.flow import differential_attrition, participant_flow

WAVES = [{"id": "w0", "month": 0}, {"id": "w1", "month": 6}, {"id": "w2", "month": 12}]


def config(waves: list[dict] = WAVES, *, arms: bool = True) -> dict:
    design: dict = {"waves": waves}
    if arms:
        design["randomization"] = {"level": "recipient", "arms": ["coached", "usual"], "control": "usual"}
    recipients: dict = {"path": "data/recipients.csv"}
    if arms:
        recipients["arm"] = "arm"
    return {
        "title": "Flow by hand",
        "design": design,
        "tables": {"recipients": recipients, "measures": {"path": "data/measures.csv"}},
        "measures": {"trust": {"range": [1, 5]}, "acceptability": {"range": [1, 5]}},
    }


#: Who answered what: recipient -> {wave: measures}. c2 and c3 are lost by w2 (c2 says why), c4 answers
#: trust at w1 and acceptability at w2 only, u3 skips trust at w1 and acceptability at w2.
ANSWERS = {
    "c1": {"w0": "TA", "w1": "TA", "w2": "TA"},
    "c2": {"w0": "TA", "w1": "TA"},
    "c3": {"w0": "TA"},
    "c4": {"w0": "TA", "w1": "T", "w2": "A"},
    "u1": {"w0": "TA", "w1": "TA", "w2": "TA"},
    "u2": {"w0": "TA", "w1": "TA", "w2": "TA"},
    "u3": {"w0": "TA", "w1": "A", "w2": "T"},
}
REASONS = {"c2": "moved to another site"}


def tiny_tables(*, arms: bool = True, waves: tuple[str, ...] = ("w0", "w1", "w2")) -> dict[str, pd.DataFrame]:
    people = list(ANSWERS)
    recipients = pd.DataFrame(
        {
            "recipient_id": people,
            "site": ["S1"] * len(people),
            "dropout_reason": [REASONS.get(person, "") for person in people],
        }
    )
    if arms:
        recipients["arm"] = ["coached" if person.startswith("c") else "usual" for person in people]
    names = {"T": "trust", "A": "acceptability"}
    rows = [
        {"recipient_id": person, "wave": wave, "measure": names[letter], "value": 1.0 + (index % 5)}
        for index, (person, answers) in enumerate(ANSWERS.items())
        for wave, letters in answers.items()
        if wave in waves
        for letter in letters
    ]
    return {"recipients": recipients, "measures": pd.DataFrame(rows)}


def tiny_study(**options) -> Study:
    return study_from_tables(config(), tiny_tables(**options), folder="tiny")


def counts(flow, label: str) -> dict[str, int]:
    row = flow.counts.set_index("label").loc[label]
    return {name: int(row[name]) for name in (*flow.groups, "total")}


def test_flow_counts_a_hand_made_study_exactly():
    study = tiny_study()
    # analysed: trust at w1 and acceptability at w2, counted by hand from ANSWERS
    flow = participant_flow(
        study, mechanism="trust", outcome="acceptability", analysed=["c1", "c4", "u1", "u2"]
    )
    assert flow.groups == ("coached", "usual") and flow.randomized
    assert flow.counts["label"].tolist() == [
        "randomized",
        "measured at w0",
        "  with trust",
        "  with acceptability",
        "measured at w1",
        "  with trust",
        "  with acceptability",
        "measured at w2",
        "  with trust",
        "  with acceptability",
        "analysed",
        "lost by w2",
        "  reason: moved to another site",
        "  reason: not given",
    ]
    table = flow.counts.reset_index(drop=True)
    by_row = [
        dict(coached=int(r.coached), usual=int(r.usual), total=int(r.total)) for r in table.itertuples()
    ]
    assert by_row == [
        {"coached": 4, "usual": 3, "total": 7},  # randomized
        {"coached": 4, "usual": 3, "total": 7},  # measured at w0
        {"coached": 4, "usual": 3, "total": 7},
        {"coached": 4, "usual": 3, "total": 7},
        {"coached": 3, "usual": 3, "total": 6},  # measured at w1: c1 c2 c4, u1 u2 u3
        {"coached": 3, "usual": 2, "total": 5},  # trust at w1: c1 c2 c4, u1 u2
        {"coached": 2, "usual": 3, "total": 5},  # acceptability at w1: c1 c2, u1 u2 u3
        {"coached": 2, "usual": 3, "total": 5},  # measured at w2: c1 c4, u1 u2 u3
        {"coached": 1, "usual": 3, "total": 4},  # trust at w2: c1, u1 u2 u3
        {"coached": 2, "usual": 2, "total": 4},  # acceptability at w2: c1 c4, u1 u2
        {"coached": 2, "usual": 2, "total": 4},  # analysed
        {"coached": 2, "usual": 0, "total": 2},  # lost: c2 c3
        {"coached": 1, "usual": 0, "total": 1},  # c2's reason
        {"coached": 1, "usual": 0, "total": 1},  # c3 gave none
    ]
    assert flow.retention() == pytest.approx({"coached": 0.5, "usual": 1.0, "total": 5 / 7})
    assert flow.retention("w1") == pytest.approx({"coached": 0.75, "usual": 1.0, "total": 6 / 7})
    data = json.loads(json.dumps(flow.to_dict()))
    assert data["groups"] == ["coached", "usual"] and data["counts"][0]["total"] == 7
    text = flow.summary()
    assert "lost by w2" in text and "2 (50%)" in text and "reason: moved to another site" in text


def test_a_study_without_arms_is_one_group_enrolled():
    study = study_from_tables(config(arms=False), tiny_tables(arms=False), folder="tiny")
    flow = participant_flow(study)
    assert flow.groups == ("all",) and not flow.randomized
    assert flow.counts["label"].tolist()[:2] == ["enrolled", "measured at w0"]
    assert counts(flow, "measured at w2") == {"all": 5, "total": 5}
    assert counts(flow, "lost by w2") == {"all": 2, "total": 2}


def test_validate_summary_shows_the_flow_of_the_example():
    study = load_study(example_path(), show_progress=False)
    summary = study.describe()
    flow = summary.flow
    raw = pd.read_csv(example_path() / "data" / "measures.csv", dtype=str)
    raw = raw[raw["value"].notna()]
    people = pd.read_csv(example_path() / "data" / "recipients.csv", dtype=str)
    arm_of = people.set_index("recipient_id")["arm"]
    for wave in study.wave_ids:
        measured = raw.loc[raw["wave"] == wave, "recipient_id"].drop_duplicates().map(arm_of).value_counts()
        found = counts(flow, f"measured at {wave}")
        assert found == {
            **{arm: int(measured.get(arm, 0)) for arm in flow.groups},
            "total": int(measured.sum()),
        }
    assert counts(flow, "randomized") == {**arm_of.value_counts().to_dict(), "total": len(people)}
    output = io.StringIO()
    Console(file=output, width=100).print(summary)
    assert "Participant flow (recipients per arm)" in output.getvalue()
    assert json.loads(json.dumps(summary.to_dict()))["flow"]["groups"] == ["intensive", "usual"]


def test_arm_test_is_fisher_exact_on_a_small_table():
    tests = differential_attrition(tiny_study())
    # coached: 2 retained, 2 lost; usual: 3 retained, 0 lost (expected counts below 5)
    expected = stats.fisher_exact([[2, 2], [3, 0]])
    assert tests.arm_test["method"] == "Fisher exact"
    assert tests.arm_test["p_value"] == pytest.approx(expected.pvalue)
    assert tests.arm_test["difference"] == pytest.approx(0.5)
    assert tests.retention[["group", "enrolled", "retained", "lost"]].to_dict("records") == [
        {"group": "coached", "enrolled": 4, "retained": 2, "lost": 2},
        {"group": "usual", "enrolled": 3, "retained": 3, "lost": 0},
    ]
    # p = .43 but 50 points apart: flagged by the difference rule alone
    assert tests.flagged and "differs by arm" in tests.findings[0] and "50.0 points" in tests.findings[0]


def dropout_study(seed: int = 3, n: int = 240, *, selective: bool = True) -> tuple[Study, pd.DataFrame]:
    """Two arms; at w2 the coached recipients with a low baseline acceptability are lost more often."""
    rng = np.random.default_rng(seed)
    people = [f"r{i:03d}" for i in range(n)]
    arm = np.where(np.arange(n) % 2 == 0, "coached", "usual")
    trust0 = np.round(np.clip(rng.normal(3, 0.8, n), 1, 5), 2)
    accept0 = np.round(np.clip(rng.normal(3, 0.8, n), 1, 5), 2)
    risk = 0.08 + (0.5 * ((arm == "coached") & (accept0 < 3)) if selective else 0.0)
    stays = rng.random(n) >= risk
    rows = []
    for index, person in enumerate(people):
        for wave, present in (("w0", True), ("w1", True), ("w2", bool(stays[index]))):
            if present:
                rows.append(
                    {"recipient_id": person, "wave": wave, "measure": "trust", "value": trust0[index]}
                )
                rows.append(
                    {
                        "recipient_id": person,
                        "wave": wave,
                        "measure": "acceptability",
                        "value": accept0[index],
                    }
                )
    recipients = pd.DataFrame({"recipient_id": people, "site": "S1", "arm": arm})
    study = study_from_tables(
        config(), {"recipients": recipients, "measures": pd.DataFrame(rows)}, folder="dropout"
    )
    truth = pd.DataFrame(
        {"arm": arm, "trust": trust0, "acceptability": accept0, "retained": stays.astype(float)}
    )
    return study, truth


def test_attrition_tests_match_scipy_and_statsmodels():
    study, truth = dropout_study()
    tests = differential_attrition(study, baseline=["trust", "acceptability"])
    table = pd.crosstab(truth["arm"], truth["retained"]).loc[["coached", "usual"], [1.0, 0.0]].to_numpy()
    chi2, p_value, df, _ = stats.chi2_contingency(table, correction=False)
    assert tests.arm_test["method"] == "chi-square" and tests.arm_test["df"] == df == 1
    assert tests.arm_test["statistic"] == pytest.approx(chi2)
    assert tests.arm_test["p_value"] == pytest.approx(p_value)
    assert tests.arm_test["cramers_v"] == pytest.approx(np.sqrt(chi2 / table.sum()))
    shares = table[:, 0] / table.sum(axis=1)
    assert tests.arm_test["difference"] == pytest.approx(shares.max() - shares.min())
    # the logistic regression, written out here: standardized baselines, the arm as an indicator
    design = pd.DataFrame(
        {name: (truth[name] - truth[name].mean()) / truth[name].std() for name in ("trust", "acceptability")}
    )
    design["arm=usual"] = (truth["arm"] == "usual").astype(float)
    fit = sm.Logit(truth["retained"], sm.add_constant(design)).fit(disp=0)
    found = tests.baseline_test.set_index("variable")
    for name in ("trust", "acceptability"):
        assert found.loc[name, "odds_ratio"] == pytest.approx(np.exp(fit.params[name]), rel=1e-6)
        assert found.loc[name, "p_value"] == pytest.approx(fit.pvalues[name], rel=1e-6)
        low, high = np.exp(fit.conf_int().loc[name])
        assert (found.loc[name, "ci_low"], found.loc[name, "ci_high"]) == pytest.approx((low, high), rel=1e-6)
    kept, lost = truth[truth["retained"] == 1], truth[truth["retained"] == 0]
    pooled = np.sqrt(
        ((len(kept) - 1) * kept["acceptability"].var() + (len(lost) - 1) * lost["acceptability"].var())
        / (len(truth) - 2)
    )
    assert found.loc["acceptability", "smd"] == pytest.approx(
        (kept["acceptability"].mean() - lost["acceptability"].mean()) / pooled
    )
    # the rule: low baseline acceptability in one arm is lost, so the arm and acceptability are flagged
    assert tests.flagged
    assert any("differs by arm" in text for text in tests.findings)
    assert any("baseline acceptability" in text for text in tests.findings)


def test_random_dropout_is_not_flagged():
    study, _ = dropout_study(seed=5, selective=False)
    tests = differential_attrition(study, baseline=["trust", "acceptability"])
    assert tests.n_lost > 0
    assert tests.arm_test["p_value"] >= 0.05 and tests.arm_test["difference"] <= 0.10
    assert (tests.baseline_test["p_value"] >= 0.05).all()
    assert not tests.flagged and tests.statement == ""


def test_nobody_lost_gives_no_test():
    tables = tiny_tables()
    complete = [
        {"recipient_id": p, "wave": w, "measure": m, "value": 3.0}
        for p in ANSWERS
        for w in ("w0", "w1", "w2")
        for m in ("trust", "acceptability")
    ]
    study = study_from_tables(config(), {**tables, "measures": pd.DataFrame(complete)}, folder="full")
    tests = differential_attrition(study, baseline=["trust"])
    assert tests.n_lost == 0 and tests.arm_test is None and not tests.flagged
    assert tests.notes == ("nobody was lost by w2",)


def test_one_wave_and_no_waves_never_crash():
    one = study_from_tables(config([{"id": "w0", "month": 0}]), tiny_tables(waves=("w0",)), folder="one")
    flow = participant_flow(one, mechanism="trust", outcome="acceptability")
    assert counts(flow, "measured at w0")["total"] == 7
    assert counts(flow, "lost by w0")["total"] == 0
    tests = differential_attrition(one, baseline=["trust"])
    assert tests.wave == "w0" and tests.n_lost == 0 and not tests.flagged
    design = one.config.design.model_copy(update={"waves": []})
    empty = Study(
        path=one.path,
        config=one.config.model_copy(update={"design": design}),
        recipients=one.recipients,
        measures=one.measures.iloc[0:0],
    )
    flow = participant_flow(empty)
    assert flow.counts["label"].tolist() == ["randomized"] and flow.retention() == {}
    assert "7 recipients" in repr(flow)
    with pytest.raises(StudyError, match="no waves"):
        differential_attrition(empty)


def test_bad_input_gets_a_clear_error():
    study = tiny_study()
    with pytest.raises(StudyError, match="did you mean 'trust'"):
        participant_flow(study, mechanism="trsut")
    with pytest.raises(StudyError, match="'w9' is not a wave"):
        differential_attrition(study, wave="w9")
    with pytest.raises(StudyError, match="baseline measure 'knowledge'"):
        differential_attrition(study, baseline=["knowledge"])
    with pytest.raises(UsageError, match="alpha must be between 0 and 1"):
        differential_attrition(study, alpha=5)
    with pytest.raises(StudyError, match="'w11' is not a wave"):
        participant_flow(study).retention("w11")


def test_the_example_flags_what_docs_missing_data_says():
    """docs/missing-data.md quotes these numbers of the bundled example."""
    study = load_study(example_path(), show_progress=False)
    trust = differential_attrition(study, baseline=["trust", "acceptability"])
    assert not trust.flagged and trust.arm_test["p_value"] == pytest.approx(0.231, abs=5e-4)
    safety = differential_attrition(study, baseline=["psych_safety", "acceptability"])
    found = safety.baseline_test.set_index("variable").loc["acceptability"]
    assert safety.flagged and found["odds_ratio"] == pytest.approx(2.58, abs=5e-3)
    assert found["p_value"] == pytest.approx(0.036, abs=5e-4)
    assert safety.findings == (
        "recipients with a higher baseline acceptability were more likely to be measured at m12 (odds ratio "
        "per SD 2.58, p = .036)",
    )
