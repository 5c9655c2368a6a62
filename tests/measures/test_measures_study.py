"""Instrument measures in a study: config wiring, item rows validated by `load_study`, scores in `wide()`."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from moclab.errors import Problem, ValidationError
from moclab.study import example_path, load_study
from moclab.study.scoring import score_study

ITEMS = {"psych_safety": "psafe", "acceptability": "aim", "appropriateness": "iam", "feasibility": "fim"}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")


def set_line(path: Path, number: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[number - 1], lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def problems_of(folder: Path) -> list[Problem]:
    with pytest.raises(ValidationError) as caught:
        load_study(folder, show_progress=False)
    return caught.value.problems


def find(problems: list[Problem], text: str) -> Problem:
    found = [problem for problem in problems if text in problem.message]
    assert len(found) == 1, "\n".join(str(p) for p in problems)
    return found[0]


@pytest.fixture(scope="module")
def study():
    return load_study(example_path(), show_progress=False)


def test_the_example_is_scored_like_an_independent_computation(study) -> None:
    raw = pd.read_csv(example_path() / "data" / "measures.csv", dtype={"recipient_id": str})
    wide = study.wide(attributes=False).set_index(["recipient_id", "wave"])
    for measure, prefix in ITEMS.items():
        items = raw[raw["measure"].str.startswith(prefix + "_")]
        table = items.pivot(index=["recipient_id", "wave"], columns="measure", values="value")
        if prefix == "psafe":  # Edmondson's items 1, 3 and 5 are reverse keyed on 1-7
            for column in ("psafe_1", "psafe_3", "psafe_5"):
                table[column] = 8 - table[column]
        needed = math.ceil(table.shape[1] / 2)
        expected = table.mean(axis=1).where(table.notna().sum(axis=1) >= needed)
        got = wide.loc[expected.index, measure]
        assert got.to_numpy() == pytest.approx(expected.to_numpy(), nan_ok=True), measure
    assert study.problems == ()


def test_scored_measures_behave_like_any_other(study) -> None:
    assert not any(name.startswith(("aim_", "psafe_")) for name in study.measure_names)
    variables = study.node_variables()
    assert variables["psych_safety"] == "psych_safety" and variables["acceptability"] == "acceptability"
    summary = study.describe().measures.set_index("measure")
    scores = score_study(study).table
    safety = scores[scores["measure"] == "psych_safety"]["value"]
    assert summary.loc["psych_safety", "n"] == safety.notna().sum()
    assert summary.loc["psych_safety", "mean"] == pytest.approx(safety.mean())
    assert summary.loc["psych_safety", "max"] <= 7 and "aim_1" not in summary.index
    assert score_study(study) is study.scores


def test_unknown_instrument_in_a_study(study_copy: Path) -> None:
    edit(study_copy / "moclab.yaml", "instrument: aim,", "instrument: aimm,")
    problem = find(problems_of(study_copy), "unknown instrument 'aimm'")
    text = (study_copy / "moclab.yaml").read_text(encoding="utf-8").split("\n")
    assert problem.file == "moclab.yaml" and "instrument: aimm" in text[problem.line - 1]
    assert "did you mean 'aim'" in problem.hint and problem.message.startswith("measure 'acceptability'")


def test_subscale_item_map_and_field_clashes_are_config_errors(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit(
        config,
        "  knowledge: {label:",
        "  readiness: {instrument: oric, subscale: efficacy}\n"
        "  acceptability_again:\n    instrument: aim\n    items: {aim_1: again_1, aim_9: again_9}\n"
        "  knowledge: {label:",
    )
    problems = problems_of(study_copy)
    subscale = find(problems, "instrument 'oric' has no subscale 'efficacy'")
    assert "change_efficacy" in subscale.hint
    item = find(problems, "'aim_9' is not an item of instrument 'aim'")
    assert "aim_9: again_9" in config.read_text(encoding="utf-8").split("\n")[item.line - 1]
    assert item.hint.startswith("did you mean 'aim_")
    clash = find(
        problems, "measures 'acceptability' and 'acceptability_again' both read the item rows named 'aim_2'"
    )
    assert "items:" in clash.hint


def test_items_without_an_instrument_and_a_missing_instrument_file(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit(config, "frameworks: []", "frameworks: []\ninstruments: [mine/absent.yaml]")
    edit(config, "  trust: {label: Trust in the ISPs,", "  trust: {subscale: x, label: Trust in the ISPs,")
    problems = problems_of(study_copy)
    lines = config.read_text(encoding="utf-8").split("\n")
    missing = find(problems, "instrument file 'mine/absent.yaml' was not found")
    assert lines[missing.line - 1].startswith("instruments: [mine/absent.yaml]")
    assert find(problems, "measure 'trust': 'subscale' needs an 'instrument'").severity == "error"


def test_a_study_declares_its_own_instrument_and_maps_items(study_copy: Path, instrument_file: Path) -> None:
    (study_copy / "instruments").mkdir()
    (study_copy / "instruments" / "team-climate.yaml").write_text(
        instrument_file.read_text(), encoding="utf-8"
    )
    config = study_copy / "moclab.yaml"
    edit(config, "frameworks: []", "frameworks: []\ninstruments: [instruments/team-climate.yaml]")
    edit(
        config,
        "  knowledge: {label:",
        "  climate:\n    instrument: team-climate\n    items: {tc_1: open_talk}\n  knowledge: {label:",
    )
    rows = (
        "R001,baseline,open_talk,4,2024-01-22\n"
        "R001,baseline,tc_2,3,2024-01-22\n"
        "R001,baseline,tc_3,1,2024-01-22\n"
    )
    with (study_copy / "data" / "measures.csv").open("a", encoding="utf-8") as handle:
        handle.write(rows)
    loaded = load_study(study_copy, show_progress=False)
    wide = loaded.wide(["climate", "climate_openness", "climate_cooperation"], attributes=False)
    first = wide[(wide["recipient_id"] == "R001") & (wide["wave"] == "baseline")].iloc[0]
    assert first["climate"] == pytest.approx(44 / 3) and first["climate_openness"] == 8.0
    assert math.isnan(first["climate_cooperation"])
    assert loaded.measure_names[loaded.measure_names.index("climate") + 1] == "climate_openness"


def test_bad_item_responses_are_warnings_and_the_rest_is_scored(study_copy: Path) -> None:
    measures = study_copy / "data" / "measures.csv"
    set_line(measures, 4, "R001,baseline,psafe_2,6,", "R001,baseline,psafe_2,9,")
    set_line(measures, 12, "R001,baseline,aim_1,3,", "R001,baseline,aim_1,agree,")
    set_line(measures, 13, "R001,baseline,aim_2,5,", "R001,baseline,aim5,5,")
    loaded = load_study(study_copy, show_progress=False)
    warnings = list(loaded.problems)
    assert all(problem.severity == "warning" for problem in warnings)
    outside = find(warnings, "item response is outside the response scale 1-7")
    assert (outside.file, outside.line, outside.row, outside.field) == ("data/measures.csv", 4, 3, "value")
    assert (
        "R001 / baseline / psafe_2 = 9" in outside.message and "team-psychological-safety" in outside.message
    )
    text = find(warnings, "item response is not a number")
    assert text.line == 12 and "R001 / baseline / aim_1 = 'agree'" in text.message
    unknown = find(warnings, "'aim5' is neither a declared measure nor an item")
    assert unknown.line == 13 and "did you mean 'aim_" in unknown.hint
    wide = loaded.wide(attributes=False).set_index(["recipient_id", "wave"])
    # R001 at baseline: psafe_3 and psafe_5 were skipped and psafe_2 left out: 4 of 7 items remain
    assert wide.loc[("R001", "baseline"), "psych_safety"] == pytest.approx((5 + 5 + 5 + 4) / 4)
    # aim_1 left out and aim_2 renamed: aim_3 and aim_4 remain (2 of 4, enough)
    assert wide.loc[("R001", "baseline"), "acceptability"] == pytest.approx(4.0)


def test_partly_completed_instruments_are_prorated_or_missing_with_a_reason(study_copy: Path) -> None:
    measures = study_copy / "data" / "measures.csv"
    for number, item in ((12, "aim_1"), (13, "aim_2"), (14, "aim_3")):
        lines = measures.read_text(encoding="utf-8").split("\n")
        value = lines[number - 1].split(",")[3]
        set_line(measures, number, f",{item},{value},", f",{item},,")
    loaded = load_study(study_copy, show_progress=False)
    frame = loaded.scores.results["acceptability"].to_frame().set_index(["recipient_id", "wave"])
    row = frame.loc[("R001", "baseline")]
    assert math.isnan(row["score"]) and row["reason"] == "answered 1 of 4 items; at least 2 needed"
    assert frame["prorated"].sum() > 0


def test_a_written_score_that_disagrees_with_its_items_is_a_warning(study_copy: Path) -> None:
    with (study_copy / "data" / "measures.csv").open("a", encoding="utf-8") as handle:
        handle.write("R001,baseline,acceptability,1.5,2024-01-22\n")
    loaded = load_study(study_copy, show_progress=False)
    warning = find(
        list(loaded.problems), "scale scores written in the data differ from the score of their items"
    )
    assert "R001 / baseline / acceptability: given 1.5, items give 4" in warning.message
    wide = loaded.wide(["acceptability"], attributes=False)
    assert (
        wide.loc[(wide["recipient_id"] == "R001") & (wide["wave"] == "baseline"), "acceptability"].item()
        == 4.0
    )


def test_a_given_score_out_of_the_instrument_range_is_an_error(study_copy: Path) -> None:
    with (study_copy / "data" / "measures.csv").open("a", encoding="utf-8") as handle:
        handle.write("R002,m6,psych_safety,9,2024-07-20\n")
    problem = find(problems_of(study_copy), "outside the range 1–7 declared for measure 'psych_safety'")
    assert problem.severity == "error"
