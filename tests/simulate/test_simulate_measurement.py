"""Measurement: Likert items with a target alpha (checked with pingouin), reverse keying, scale scores
(checked against moclab.study's scoring of the written study), continuous scores and their reliability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin
import pytest
from simulate_helpers import spec

from moclab.simulate import compile_simulation
from moclab.simulate.measurement import alpha_of, likert_items, loading_for_alpha, score_items
from moclab.study import load_study


@pytest.mark.parametrize(
    ("target", "n_items", "mean", "sd", "low", "high", "reverse"),
    [
        (0.85, 4, 3.6, 0.9, 1, 5, ()),
        (0.90, 4, 3.0, 1.0, 1, 5, ()),
        (0.80, 7, 5.0, 1.3, 1, 7, (0, 2, 4)),
        (0.75, 12, 2.2, 0.8, 0, 4, (3,)),
    ],
)
def test_the_calibrated_loading_gives_the_target_alpha(target, n_items, mean, sd, low, high, reverse):
    loading, expected = loading_for_alpha(target, n_items, mean, sd, low, high)
    assert expected == pytest.approx(target)
    assert alpha_of(loading, n_items, mean, sd, low, high) == pytest.approx(target, abs=1e-5)
    rng = np.random.default_rng(1)
    latent = rng.standard_normal(200_000)
    keys = np.isin(np.arange(n_items), reverse)
    answered = likert_items(
        latent, rng.standard_normal((200_000, n_items)), loading, mean, sd, low, high, keys
    )
    assert set(np.unique(answered)) <= set(range(low, high + 1))
    keyed = np.where(keys, low + high - answered, answered)
    alpha, _ = pingouin.cronbach_alpha(data=pd.DataFrame(keyed))
    assert alpha == pytest.approx(target, abs=0.005)
    # rounding to a few categories costs reliability: the loading is above the Spearman-Brown one
    spearman_brown = np.sqrt(target / (n_items - (n_items - 1) * target))
    assert loading > spearman_brown


def test_an_unreachable_alpha_is_reported_as_the_highest_possible():
    loading, highest = loading_for_alpha(0.99, 2, 1.5, 0.3, 1, 3)
    assert loading == pytest.approx(0.995)
    assert highest < 0.99


def test_score_items_reverses_prorates_and_needs_min_items():
    responses = np.array([[5.0, 1.0, 4.0, np.nan], [np.nan, np.nan, np.nan, 2.0], [1.0, 5.0, 1.0, 1.0]])
    reverse = np.array([False, True, False, False])
    scores = score_items(responses, reverse, 1, 5, "mean", 2)
    np.testing.assert_allclose(scores, [(5 + 5 + 4) / 3, np.nan, 1.0])
    sums = score_items(responses, reverse, 1, 5, "sum", 2)
    np.testing.assert_allclose(sums, [(5 + 5 + 4) / 3 * 4, np.nan, 4.0])


@pytest.fixture(scope="module")
def item_study(tiny):
    return compile_simulation(
        tiny,
        spec(
            design={"sites": 30, "recipients": 40, "teams": 2, "waves": {"count": 2}},
            defaults={"icc": 0.05, "stability": 0.4},
            variables={
                "m": {"instrument": "team-psychological-safety", "alpha": 0.82, "mean": 4.8, "sd": 1.2},
                "y": {"instrument": "aim", "alpha": 0.9, "mean": 3.6, "sd": 0.9},
                "n": {"range": [1, 5], "mean": 3, "sd": 0.8, "reliability": 0.8, "decimals": 2},
            },
            missing={"rate": 0.05},
        ),
    ).study(seed=21)


def test_items_are_whole_scale_points_and_alpha_is_near_the_target(item_study):
    measures = item_study.measures
    psafe = measures[measures["measure"].astype(str).str.startswith("psafe_")]
    values = psafe["value"].dropna()
    assert values.between(1, 7).all() and (values == values.round()).all()
    aim = measures[measures["measure"].astype(str).str.startswith("aim_")]["value"].dropna()
    assert aim.between(1, 5).all()
    alphas = item_study.truth.measurement["m"]["alpha_realised"]
    assert alphas["baseline"] == pytest.approx(0.82, abs=0.04)
    assert item_study.truth.measurement["y"]["alpha_realised"]["baseline"] == pytest.approx(0.9, abs=0.04)
    assert item_study.truth.measurement["m"]["reverse"] == ["psafe_1", "psafe_3", "psafe_5"]


def test_reverse_keyed_items_are_answered_reversed(item_study):
    frame = item_study.wide(items=True)
    correlation = frame[["psafe_1", "psafe_2", "psafe_3", "psafe_4"]].corr()
    assert correlation.loc["psafe_1", "psafe_2"] < -0.2  # reversed item against a positive one
    assert correlation.loc["psafe_1", "psafe_3"] > 0.2  # two reversed items
    assert correlation.loc["psafe_2", "psafe_4"] > 0.2


def test_scale_scores_equal_what_the_study_layer_scores_from_the_written_items(item_study, tmp_path):
    folder = item_study.write(tmp_path / "items")
    loaded = load_study(folder, show_progress=False).wide()
    mine = item_study.wide()
    key = ["recipient_id", "wave"]
    joined = mine[[*key, "m", "y", "n"]].merge(
        loaded[[*key, "m", "y", "n"]].assign(wave=lambda f: f["wave"].astype(str)),
        on=key,
        suffixes=("_sim", "_study"),
    )
    assert len(joined) == len(mine)
    for name in ("m", "y", "n"):
        np.testing.assert_allclose(joined[f"{name}_sim"], joined[f"{name}_study"], atol=1e-9, equal_nan=True)
    assert mine["y"].isna().any()  # prorating still leaves some scores missing (too few items answered)


def test_continuous_scores_have_the_specified_reliability(tiny):
    plan = compile_simulation(
        tiny,
        spec(
            design={"recipients": 300},
            variables={"m": {"mean": 50, "sd": 10, "reliability": 0.7}},
            missing={"rate": 0.0},
        ),
    )
    observed = plan.wide(seed=4)
    latent = plan.wide(seed=4, measurement="latent")
    r = np.corrcoef(observed["m"], latent["m"])[0, 1]
    assert r**2 == pytest.approx(0.7, abs=0.02)
    control = observed[observed["x"] == 0]["m"]
    assert control.mean() == pytest.approx(50, abs=0.5)
    assert control.std() == pytest.approx(10, abs=0.3)
    factor = plan.truth.measurement["m"]["observed_factor"]
    assert factor == pytest.approx(10 * np.sqrt(0.7))
    pathway = plan.truth.pathway("x__m__y")
    assert pathway["observed"]["factor"] == pytest.approx(1.0)  # z is a latent-metric score (mean 0, sd 1)


def test_a_site_level_outcome_is_the_site_mean_in_the_outcomes_table(tiny):
    study = compile_simulation(
        tiny,
        spec(
            design={"sites": 8, "recipients": 20, "randomization": {"level": "site"}},
            variables={
                "z": {"table": "outcomes", "measure": "site_score", "range": [0, 1], "mean": 0.5, "sd": 0.1}
            },
        ),
    ).study(seed=2)
    outcomes = study.outcomes
    assert list(outcomes.columns) == ["site", "wave", "measure", "value"]
    assert len(outcomes) == 8 and set(outcomes["measure"]) == {"site_score"}
    assert outcomes["value"].between(0, 1).all()
    assert study.config["measures"]["site_score"] == {"node": "z", "range": [0.0, 1.0], "level": "site"}
    frame = study.wide()
    per_site = frame.groupby("site")["site_score"].nunique()
    assert (per_site == 1).all()
    assert "site_score" not in set(study.measures["measure"].astype(str))


TEAM_CLIMATE = """\
id: team-climate
name: Team climate for learning (made up for a test)
citation: Our team, 2025 (not a published instrument)
licence: written for this test
scale: {minimum: 0, maximum: 4}
scoring: sum
items:
  - {id: tcl_1, label: we try things}
  - {id: tcl_2, label: we talk about mistakes}
  - {id: tcl_3, label: mistakes are punished}
reverse: [tcl_3]
"""


def test_a_spec_can_bring_its_own_instrument_files_and_the_study_carries_them(tiny, tmp_path):
    (tmp_path / "instruments").mkdir()
    (tmp_path / "instruments" / "team-climate.yaml").write_text(TEAM_CLIMATE, encoding="utf-8")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        "instruments: [instruments/team-climate.yaml]\n"
        "design: {sites: 6, recipients: 15, randomization: {level: recipient}}\n"
        "paths: {x->m: 0.5, m->y: 0.4}\n"
        "variables:\n  m: {instrument: team-climate, alpha: 0.7, mean: 2.5, sd: 1}\n",
        encoding="utf-8",
    )
    study = compile_simulation(tiny, spec_file).study(seed=3)
    assert study.config["instruments"] == ["instruments/team-climate.yaml"]
    folder = study.write(tmp_path / "study")
    assert (folder / "instruments" / "team-climate.yaml").read_text(encoding="utf-8") == TEAM_CLIMATE
    loaded = load_study(folder, show_progress=False).wide()
    mine = study.wide()
    assert mine["m"].max() <= 12 and mine["m"].min() >= 0  # prorated sum of three 0-4 items
    np.testing.assert_allclose(
        loaded.sort_values(["recipient_id", "wave"])["m"].to_numpy(),
        mine.sort_values(["recipient_id", "wave"])["m"].to_numpy(),
        equal_nan=True,
    )
