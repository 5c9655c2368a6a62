"""The known-truth generator: its study folders load, its design is the one described, and its population
quantities match the structural parameters where they are known in closed form."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import validation.truth
import validation.worlds
from moclab.study import load_study
from validation.truth import AMBIGUOUS, CLAIMS, FALSE, TRUE, population, truth_table
from validation.worlds import PATHWAYS, WORLDS, Design, draw_sample, dynamics, generate_study

TRUST = "coaching__trust__acceptability"
CREDIBILITY = "coaching__credibility__acceptability"
SMALL = Design(sites=12, recipients=(20, 30))


def _pop(world: str, pathway: str = TRUST) -> dict[str, float]:
    return population(WORLDS[world])[pathway]


@pytest.mark.parametrize("name", list(WORLDS))
def test_every_world_writes_a_study_that_loads(name: str, tmp_path: Path) -> None:
    folder = generate_study(name, tmp_path / name, seed=3, design=SMALL)
    study = load_study(folder, show_progress=False)
    assert len(study.recipients) >= 12 * 20
    assert set(study.measures["measure"].unique()) == {"trust", "credibility", "acceptability"}
    assert set(study.recipients["arm"].astype(str)) == {"coaching", "usual"}
    if WORLDS[name].manipulates_trust:
        assert set(study.recipients["trust_module"].astype(str)) == {"module", "none"}
        (manipulation,) = study.config.design.manipulations
        assert (manipulation.column, manipulation.mechanism, manipulation.control) == (
            "trust_module",
            "trust",
            "none",
        )


def test_the_manipulation_is_declared_when_asked(tmp_path: Path) -> None:
    folder = generate_study("manipulated", tmp_path / "m", seed=1, design=SMALL)
    design = yaml.safe_load((folder / "moclab.yaml").read_text(encoding="utf-8"))["design"]
    assert design["manipulations"] == [
        {"column": "trust_module", "mechanism": "trust", "level": "site", "control": "none"}
    ]
    plain = generate_study("true", tmp_path / "t", seed=1, design=SMALL)
    assert (
        "manipulations" not in yaml.safe_load((plain / "moclab.yaml").read_text(encoding="utf-8"))["design"]
    )


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    first = generate_study("confounded", tmp_path / "1", seed=7, design=SMALL)
    second = generate_study("confounded", tmp_path / "2", seed=7, design=SMALL)
    for name in ("recipients", "measures", "activities"):
        assert (first / "data" / f"{name}.csv").read_bytes() == (second / "data" / f"{name}.csv").read_bytes()


def test_the_design_is_as_described(tmp_path: Path) -> None:
    folder = generate_study("true", tmp_path / "t", seed=5)
    recipients = pd.read_csv(folder / "data" / "recipients.csv")
    sizes = recipients.groupby("site").size()
    assert len(sizes) == 40 and sizes.between(20, 50).all()
    assert recipients.groupby("site")["team"].nunique().between(2, 3).all()
    arms = recipients.groupby("site")["arm"].agg(["nunique", "first"])
    assert (arms["nunique"] == 1).all() and (arms["first"] == "coaching").sum() == 20
    measures = pd.read_csv(folder / "data" / "measures.csv")
    expected = len(recipients) * 3 * 3
    assert 0.01 < 1 - len(measures) / expected < 0.03  # 2% missing completely at random
    activities = pd.read_csv(folder / "data" / "activities.csv")
    treated = set(recipients.loc[recipients["arm"] == "coaching", "recipient_id"])
    assert set(activities["recipient_id"]) <= treated
    minutes = activities.groupby("recipient_id")["minutes"].sum()
    assert minutes.mean() == pytest.approx(360, rel=0.1)  # dose 1 = twelve contacts of 30 minutes
    before_m6 = (
        activities.loc[activities["date"] <= "2024-07-15", "minutes"].sum() / activities["minutes"].sum()
    )
    assert 0.35 < before_m6 < 0.55
    assert activities["date"].min() >= "2024-02-15" and activities["date"].max() < "2025-01-15"


def test_dropout_is_monotone_differential_and_depends_on_what_was_observed(tmp_path: Path) -> None:
    """The dropout worlds lose 15% by m6 and 30% by m12 (the intercepts are solved on each study, so the
    shares hold within sampling error of the Bernoulli draws), more in the usual-care arm, more among those
    with low earlier scores, and nobody comes back after a loss; the reasons name only the lost."""
    folder = generate_study("dropout_true", tmp_path / "d", seed=5)
    recipients = pd.read_csv(folder / "data" / "recipients.csv", keep_default_na=False)
    measures = pd.read_csv(folder / "data" / "measures.csv")
    n = len(recipients)
    seen = {wave: set(group["recipient_id"]) for wave, group in measures.groupby("wave")}
    lost_m6 = set(recipients["recipient_id"]) - seen["m6"]
    lost_m12 = set(recipients["recipient_id"]) - seen["m12"]
    se = np.sqrt(0.3 * 0.7 / n)
    assert abs(len(lost_m12) / n - 0.30) < 4 * se + 0.02 * 0.98  # plus the 2% missing at random
    assert abs(len(lost_m6) / n - 0.15) < 4 * np.sqrt(0.15 * 0.85 / n) + 0.02
    # monotone: nobody lost by m6 has an m12 value
    truly_lost_m6 = set(recipients.loc[recipients["dropout_reason"].ne(""), "recipient_id"]) & lost_m6
    assert not truly_lost_m6 & seen["m12"]
    retained = recipients["recipient_id"].isin(seen["m12"])
    by_arm = retained.groupby(recipients["arm"]).mean()
    assert by_arm["coaching"] - by_arm["usual"] > 0.1  # δ = 0.7 on the log-odds of loss
    baseline = measures[(measures["wave"] == "baseline") & (measures["measure"] == "acceptability")]
    baseline = baseline.set_index("recipient_id")["value"]
    kept = recipients.set_index("recipient_id").index.isin(seen["m12"])
    values = baseline.reindex(recipients["recipient_id"]).to_numpy()
    assert np.nanmean(values[kept]) > np.nanmean(values[~kept])  # β = -0.5: low acceptability leaves
    reasons = recipients.loc[~kept, "dropout_reason"]
    assert set(reasons) <= {"moved to another service", "left the role", ""} and reasons.ne("").mean() > 0.5
    assert recipients.loc[kept, "dropout_reason"].eq("").all()
    # the truth is the base world's: dropout changes what is observed, not the world
    assert _pop("dropout_true") == _pop("true") and _pop("dropout_null_b") == _pop("null_b")


def test_dropout_leaves_the_other_worlds_files_as_they_were(tmp_path: Path) -> None:
    """The dropout draws come last from the files' generator, so a world without dropout writes exactly
    the files of the same world with dropout minus the lost values (same seed, same draws before them)."""
    plain = generate_study(WORLDS["true"], tmp_path / "p", seed=9, design=SMALL)
    lossy = generate_study(WORLDS["dropout_true"], tmp_path / "l", seed=9, design=SMALL)
    full = pd.read_csv(plain / "data" / "measures.csv")
    kept = pd.read_csv(lossy / "data" / "measures.csv")
    assert len(kept) < len(full)
    merged = kept.merge(full, on=["recipient_id", "wave", "measure"], suffixes=("", "_full"))
    assert len(merged) == len(kept) and (merged["value"] == merged["value_full"]).all()
    assert (merged["date"] == merged["date_full"]).all()


def test_team_randomization_puts_both_arms_in_every_site() -> None:
    sample = draw_sample(WORLDS["true_team"], np.random.default_rng(2))
    frame = pd.DataFrame(
        {"site": sample.structure.site, "team": sample.structure.team, "arm": sample.structure.arm}
    )
    assert (frame.groupby("site")["arm"].nunique() == 2).all()
    assert (frame.groupby(["site", "team"])["arm"].nunique() == 1).all()


def test_observational_uptake_follows_the_climate() -> None:
    sample = draw_sample(
        WORLDS["observational"], np.random.default_rng(4), Design(sites=400, recipients=(20, 20))
    )
    uptake = np.bincount(sample.structure.site, weights=sample.structure.arm) / 20
    assert 0.35 < uptake.mean() < 0.65
    assert np.corrcoef(uptake, sample.structure.climate)[0, 1] > 0.3


def test_the_true_world_has_the_designed_paths() -> None:
    values = _pop("true")
    assert values["a"] == pytest.approx(0.5, abs=0.02)
    assert values["b"] == pytest.approx(0.4, abs=0.02)
    assert values["causal_a"] == pytest.approx(0.5, abs=0.02)
    assert values["causal_b"] == pytest.approx(0.4, abs=1e-9)
    assert values["total"] == pytest.approx(0.5 * 0.4, abs=0.02)  # no direct effect: total = a·b
    assert values["dose_slope"] == pytest.approx(0.5, abs=0.03)
    team = _pop("true_team")
    assert (team["a"], team["b"]) == (pytest.approx(0.5, abs=0.02), pytest.approx(0.4, abs=0.02))
    credibility = _pop("true", CREDIBILITY)
    assert abs(credibility["a"]) < 0.02 and abs(credibility["b"]) < 0.02


def test_null_worlds_have_zero_paths() -> None:
    assert abs(_pop("null_a")["a"]) < 0.02 and _pop("null_a")["b"] == pytest.approx(0.4, abs=0.02)
    assert abs(_pop("null_b")["b"]) < 0.02 and _pop("null_b")["a"] == pytest.approx(0.5, abs=0.02)
    assert _pop("opposite")["a"] == pytest.approx(-0.5, abs=0.02)
    assert abs(_pop("no_dose")["dose_slope"]) < 0.02 and _pop("no_dose")["a"] == pytest.approx(0.5, abs=0.02)


def test_the_inert_competitor_tracks_trust_and_does_nothing() -> None:
    values = _pop("inert_competitor", CREDIBILITY)
    assert abs(values["b"]) < 0.02  # credibility given trust
    assert values["corr_m6"] == pytest.approx(0.6, abs=0.03)
    assert values["causal_b"] == 0.0
    assert _pop("inert_competitor")["b"] == pytest.approx(0.4, abs=0.02)


def test_the_confounded_worlds_look_causal_without_being_so() -> None:
    confounded = _pop("confounded")
    assert confounded["causal_b"] == 0.0
    assert confounded["b"] > 0.3  # associational, given X and the baselines
    assert abs(confounded["total"]) < 0.02 and abs(confounded["causal_total"]) < 0.02
    lookalike = _pop("confounded_direct")
    assert lookalike["causal_b"] == 0.0
    assert lookalike["total"] == pytest.approx(lookalike["a"] * lookalike["b"], abs=0.03)
    manipulated = _pop("manipulated_confounded")
    assert manipulated["module_a"] == pytest.approx(0.5, abs=1e-9) and manipulated["causal_b"] == 0.0


def test_the_other_worlds_have_their_structure() -> None:
    reverse = _pop("reverse")
    assert reverse["causal_b"] == 0.0 and reverse["reverse"] == 0.3
    assert reverse["causal_a"] == pytest.approx(0.3 * 0.4, abs=0.01)  # through the outcome, r0 · c
    assert _pop("some_sites")["site_share"] == 0.5 and _pop("some_sites_team")["site_share"] == 0.5
    observational = _pop("observational")
    assert observational["causal_a"] == 0.0 and observational["a"] > 0.2
    assert _pop("manipulated")["module_a"] == pytest.approx(0.5, abs=1e-9)


def test_the_truth_table_is_complete() -> None:
    table = truth_table()
    assert len(table) == len(WORLDS) * len(PATHWAYS) * len(CLAIMS)
    assert not table.duplicated(["world", "pathway", "criterion"]).any()
    assert set(table["claim"]) <= {TRUE, FALSE, AMBIGUOUS}
    true_trust = table[(table["world"] == "true") & (table["pathway"] == TRUST)]
    assert (true_trust["claim"] == TRUE).all() and (true_trust["target"] == ">= 80%").all()
    criteria = table[table["criterion"] != "mechanism"]
    assert (criteria.loc[criteria["claim"] == FALSE, "target"] == "<= 5%").all()
    # every competitor (credibility) pathway is false on every claim: credibility never moves acceptability
    assert (table.loc[table["pathway"] == CREDIBILITY, "claim"] == FALSE).all()
    mechanism = table[(table["criterion"] == "mechanism") & (table["pathway"] == TRUST)].set_index("world")
    assert set(mechanism.index[mechanism["claim"] == TRUE]) == {
        "true",
        "true_team",
        "inert_competitor",
        "some_sites",
        "some_sites_team",
        "no_dose",
        "manipulated",
        "dropout_true",
        "dropout_true_imputed",
        "team_between",
    }
    assert mechanism.loc["confounded_direct", "target"] == ""
    assert mechanism.loc["manipulated_confounded", "target"] == "<= 5%"
    specific = table.set_index(["world", "pathway", "criterion"])["claim"]
    assert specific["confounded", TRUST, "strong_association"] == TRUE  # associational: the data show it
    assert specific["confounded", TRUST, "timeline"] == FALSE  # causal: M does not act on Y
    assert specific["manipulated_confounded", TRUST, "experimental_manipulation"] == FALSE
    assert specific["some_sites", TRUST, "consistency"] == FALSE
    assert specific["no_dose", TRUST, "gradient"] == FALSE


@pytest.mark.parametrize("module", [validation.worlds, validation.truth], ids=lambda module: module.__name__)
def test_the_docstring_examples_run(module: object) -> None:
    assert doctest.testmod(module).failed == 0


def test_the_team_worlds_act_through_one_part_of_trust_and_declare_it(tmp_path) -> None:
    """team_between: acceptability follows the team mean of trust; team_within: the deviation from it only.
    The truth reads trust as team means (the declared level), so the within world's claims are all false."""
    world = WORLDS["team_within"]
    sample = draw_sample(world, np.random.default_rng(3), Design(sites=30, missing=0.0))
    st = sample.structure
    team = st.site * 10 + st.team
    observed = sample.scores["acceptability"][:, 2]
    lifted = dynamics(world, st, shift={("trust", 1): 1.0})  # every team mean up by 1, no deviation moved
    np.testing.assert_allclose(lifted["acceptability"][:, 2], observed, atol=1e-12)
    one_team = np.where(team == team[0], 1.0, 0.0)
    moved = dynamics(world, st, shift={("trust", 1): one_team})  # one team up by 1: its mean, no deviation
    np.testing.assert_allclose(moved["acceptability"][:, 2], observed, atol=1e-12)
    lonely = np.where(np.arange(st.n) == 0, 1.0, 0.0)  # one recipient up by 1: the deviations move
    assert not np.allclose(dynamics(world, st, shift={("trust", 1): lonely})["acceptability"][:, 2], observed)
    between = WORLDS["team_between"]
    sample = draw_sample(between, np.random.default_rng(3), Design(sites=30, missing=0.0))
    lifted = dynamics(between, sample.structure, shift={("trust", 1): 1.0})
    np.testing.assert_allclose(lifted["acceptability"][:, 2] - sample.scores["acceptability"][:, 2], 0.4)
    assert _pop("team_between")["b"] == pytest.approx(0.4, abs=0.02)
    assert abs(_pop("team_within")["b"]) < 0.02 and abs(_pop("team_within")["causal_b"]) < 1e-9
    table = truth_table(["team_within"])
    assert (table.loc[table["pathway"] == TRUST, "claim"] == FALSE).all()
    folder = generate_study("team_within", tmp_path / "t", seed=2)
    model = yaml.safe_load((folder / "model.yaml").read_text(encoding="utf-8"))
    assert {node["id"]: node.get("level") for node in model["nodes"]}["trust"] == "team"
