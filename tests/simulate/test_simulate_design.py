"""The design as specified: sizes, teams, randomization level, waves and dates, missingness, dropout;
seeds; the fast path against the full study; the written folder against moclab.study."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from simulate_helpers import spec

from moclab.errors import StudyError
from moclab.model import list_templates, load_template
from moclab.simulate import compile_simulation, simulate_study, simulate_wide
from moclab.study import load_study, validate_study


def test_sizes_come_from_the_spec(tiny):
    fixed = compile_simulation(tiny, spec(design={"sites": 7, "recipients": 12})).wide(seed=1)
    assert fixed.groupby("site")["recipient_id"].nunique().eq(12).all()
    assert fixed["site"].nunique() == 7
    ranged = compile_simulation(tiny, spec(design={"sites": 50, "recipients": {"range": [5, 9]}})).wide(
        seed=1
    )
    sizes = ranged.groupby("site")["recipient_id"].nunique()
    assert sizes.between(5, 9).all() and sizes.nunique() > 2
    poisson = compile_simulation(
        tiny, spec(design={"sites": 400, "recipients": {"mean": 20, "distribution": "poisson", "min": 15}})
    ).wide(seed=1)
    sizes = poisson.groupby("site")["recipient_id"].nunique()
    assert sizes.min() >= 15
    assert sizes.var() > 5  # varying sizes


def test_teams_nest_in_sites(tiny):
    frame = compile_simulation(
        tiny, spec(design={"sites": 6, "recipients": 20, "teams": {"range": [2, 4]}})
    ).wide(seed=2)
    teams = frame.drop_duplicates("recipient_id")
    assert teams.groupby("team")["site"].nunique().eq(1).all()
    per_site = teams.groupby("site")["team"].nunique()
    assert per_site.between(2, 4).all()
    assert all(team.startswith(site + "-T") for team, site in zip(teams["team"], teams["site"], strict=True))


@pytest.mark.parametrize("level", ["site", "team", "recipient"])
def test_the_strategy_is_randomized_at_the_stated_level(tiny, level):
    plan = compile_simulation(
        tiny, spec(design={"sites": 20, "recipients": 30, "teams": 3, "randomization": {"level": level}})
    )
    study = plan.study(seed=3)
    people = study.recipients
    assert set(people["arm"]) == {"x", "control"}
    within_site = people.groupby("site")["arm"].nunique()
    within_team = people.groupby("team")["arm"].nunique()
    if level == "site":
        assert within_site.eq(1).all()
        assert (
            people.groupby("site")["arm"].first().eq("x").sum() == 10
        )  # complete randomization: exactly half
    elif level == "team":
        assert within_team.eq(1).all() and within_site.gt(1).any()
    else:
        assert within_team.gt(1).any()
        assert people["arm"].eq("x").mean() == pytest.approx(0.5, abs=0.01)
    assert study.config["design"]["randomization"] == {
        "level": level,
        "arms": ["x", "control"],
        "control": "control",
    }


def test_several_strategies_become_arms_with_indicator_columns():
    model = load_template("support-modes", catalog=None)
    study = simulate_study(model, None, seed=4)
    people = study.recipients
    assert set(people["arm"]) == {"push", "push_pull", "co_creation", "control"}
    for strategy in ("push", "push_pull", "co_creation"):
        assert people[strategy].eq(people["arm"].eq(strategy).astype(int)).all()
    assert study.config["tables"]["recipients"]["columns"]["push"]["node"] == "push"


def test_the_strategy_acts_only_after_it_starts(tiny):
    waves = [{"id": "pre", "month": 0}, {"id": "post1", "month": 3}, {"id": "post2", "month": 9}]
    plan = compile_simulation(tiny, spec(design={"waves": waves, "start_month": 4}))
    np.testing.assert_array_equal(plan.active, [False, False, True])
    effects = plan.truth.total_effects["x"]["m"]
    assert effects == {"pre": 0.0, "post1": 0.0, "post2": 0.5}


def test_missing_values_and_dropout_follow_the_spec(tiny):
    plan = compile_simulation(
        tiny,
        spec(
            design={"sites": 40, "recipients": 100, "waves": {"count": 3}},
            missing={"rate": [0.0, 0.1, 0.2], "dropout": [0.2, 0.25]},
        ),
    )
    study = plan.study(seed=5)
    frame = study.wide()
    present = frame.groupby("wave", observed=True)["m"].apply(lambda v: v.notna().mean())
    # present share: 1, 0.8, 0.6; among the present, values missing at 0, 0.1, 0.2
    assert present["baseline"] == pytest.approx(1.0)
    assert present["m6"] == pytest.approx(0.8 * 0.9, abs=0.02)
    assert present["m12"] == pytest.approx(0.8 * 0.75 * 0.8, abs=0.02)
    assert study.truth.realised["present"]["m6"] == pytest.approx(0.8 * 4000, rel=0.05)
    # dropout is monotone: the waves with rows form a prefix of the waves
    long = study.measures
    order = {"baseline": 0, "m6": 1, "m12": 2}
    waves = long.groupby("recipient_id", observed=True)["wave"].agg(lambda w: sorted({order[x] for x in w}))
    assert waves.map(lambda w: w == list(range(len(w)))).all()
    assert waves.map(len).lt(3).any()
    # MCAR values are rows with an empty value
    assert long["value"].isna().mean() > 0.01


def test_wave_dates_are_in_order_for_every_recipient(tiny):
    waves = [{"id": "a", "month": 0}, {"id": "b", "month": 0.5}, {"id": "c", "month": 1}]
    study = compile_simulation(tiny, spec(design={"waves": waves})).study(seed=6)
    dates = study.measures.drop_duplicates(["recipient_id", "wave"]).pivot(
        index="recipient_id", columns="wave", values="date"
    )
    assert (dates["a"] < dates["b"]).all() and (dates["b"] < dates["c"]).all()


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(tiny):
    plan = compile_simulation(tiny, spec(design={"waves": {"count": 2}}, dose={"slopes": 0.1}))
    first, again = plan.wide(seed=42), plan.wide(seed=42)
    pd.testing.assert_frame_equal(first, again)
    assert not first["m"].equals(plan.wide(seed=43)["m"])
    sequence = np.random.SeedSequence(42)
    pd.testing.assert_frame_equal(plan.wide(seed=sequence), plan.wide(seed=sequence))
    pd.testing.assert_frame_equal(plan.wide(seed=sequence), first)
    one, two = plan.study(seed=7), plan.study(seed=7)
    pd.testing.assert_frame_equal(one.measures, two.measures)
    pd.testing.assert_frame_equal(one.activities, two.activities)
    assert one.truth.to_dict() == two.truth.to_dict()
    generator = np.random.default_rng(1)
    assert not plan.wide(seed=generator)["m"].equals(plan.wide(seed=generator)["m"])  # a stream moves on


def test_the_fast_path_equals_the_study_and_latent_mode_changes_only_the_measures(tiny):
    plan = compile_simulation(tiny, spec(design={"waves": {"count": 2}, "teams": 2}, missing={"rate": 0.1}))
    study = plan.study(seed=8)
    pd.testing.assert_frame_equal(study.wide(), plan.wide(seed=8))
    pd.testing.assert_frame_equal(study.wide(items=True), simulate_wide(plan, seed=8, items=True))
    latent = plan.wide(seed=8, measurement="latent")
    observed = plan.wide(seed=8)
    pd.testing.assert_frame_equal(
        latent.drop(columns=["m", "n", "y", "z"]), observed.drop(columns=["m", "n", "y", "z"])
    )
    pd.testing.assert_series_equal(latent["m"].isna(), observed["m"].isna())  # the same values are missing
    index = plan.index("m")
    values = study._draw.latent[:, :, index].reshape(-1)
    kept = latent["m"].notna().to_numpy()
    np.testing.assert_allclose(latent["m"].to_numpy()[kept], values[kept])


def test_the_written_folder_loads_and_holds_the_truth(tmp_path):
    study = simulate_study(
        "recipient-pathway",
        compile_simulation("recipient-pathway").spec.with_design(sites=8, recipients={"range": [10, 14]}),
        seed=9,
    )
    folder = study.write(tmp_path / "sim")
    report = validate_study(folder, show_progress=False)
    assert not [p for p in report.problems if p.severity == "error"]
    loaded = load_study(folder, show_progress=False)
    assert loaded.synthetic
    assert len(loaded.recipients) == len(study.recipients)
    assert loaded.node_variables()["isp_support"] == "arm"
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 9
    assert truth["null_mechanisms"] == ["credibility"]
    assert truth["model"] == "recipient-pathway"
    assert {p["id"] for p in truth["pathways"]} == {p.id for p in loaded.model.pathways_resolved()}
    assert truth["spec"]["design"]["sites"] == 8
    assert set(truth["icc"]["trust"]) >= {"site", "population", "realised_latent", "realised_observed"}
    # the loaded wide frame holds the same values as the simulator's (rounded as written)
    mine = study.wide().set_index(["recipient_id", "wave"])
    theirs = loaded.wide().assign(wave=lambda f: f["wave"].astype(str)).set_index(["recipient_id", "wave"])
    for name in ("trust", "acceptability", "psych_safety", "knowledge"):
        np.testing.assert_allclose(theirs.loc[mine.index, name], mine[name], atol=1e-9, equal_nan=True)
    # the spec written beside the data reproduces the study
    again = simulate_study(folder / "model.yaml", folder / "simulation.yaml", seed=9)
    pd.testing.assert_frame_equal(again.measures, study.measures)


def test_write_never_overwrites(tmp_path, tiny):
    study = compile_simulation(tiny, spec(design={"sites": 2, "recipients": 3})).study(seed=1)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(StudyError, match="not empty"):
        study.write(taken)
    assert (taken / "notes.txt").read_text(encoding="utf-8") == "mine"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(StudyError):
        study.write(a_file)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (study.write(empty) / "moclab.yaml").is_file()
    model_text = (empty / "model.yaml").read_text(encoding="utf-8")
    assert "model: tiny" in model_text  # a model without a file is written out


@pytest.mark.parametrize("template", list_templates())
def test_every_template_simulates_a_valid_study_with_its_default_spec(tmp_path, template):
    plan = compile_simulation(template)
    small = compile_simulation(template, plan.spec.with_design(sites=6, recipients=8))
    folder = small.study(seed=1).write(tmp_path / template)
    report = validate_study(folder, show_progress=False)
    assert not [p for p in report.problems if p.severity == "error"]
    assert report.summary.n_clusters == 6


def test_a_continuous_exposure_study_is_written_with_an_exposure_column(tmp_path, tiny):
    plan = compile_simulation(
        tiny,
        spec(
            design={
                "sites": 5,
                "recipients": 10,
                "randomization": {"level": "site", "exposure": "continuous"},
            }
        ),
    )
    study = plan.study(seed=2)
    assert "arm" not in study.recipients
    assert study.recipients.groupby("site")["x"].nunique().eq(1).all()
    assert study.config["tables"]["recipients"]["columns"]["x"] == {
        "type": "number",
        "node": "x",
        "label": "Exposure to the strategy (continuous, randomized by site)",
    }
    assert study.config["design"]["randomization"] == {"level": "none"}  # the format randomizes arms only
    folder = study.write(tmp_path / "continuous")
    assert load_study(folder, show_progress=False).node_variables()["x"] == "x"


def test_the_docstring_examples_run():
    import doctest

    import moclab.simulate
    import moclab.simulate.study

    for module in (moclab.simulate, moclab.simulate.study):
        failed, attempted = doctest.testmod(module)
        assert attempted > 0 and failed == 0, module.__name__
