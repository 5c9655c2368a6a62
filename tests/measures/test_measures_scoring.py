"""Scoring against hand-computed values: reverse keys, prorating, sum scoring, subscales, bad responses."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moclab.catalog.instruments import InstrumentRegistry, default_instruments
from moclab.errors import DataError
from moclab.study.scoring import scale_names, score_items

SAFETY = default_instruments().get("team-psychological-safety")


def long_rows(answers: dict[str, list[float | str | None]], prefix: str, wave: str = "t1") -> pd.DataFrame:
    rows = []
    for respondent, values in answers.items():
        for number, value in enumerate(values, start=1):
            rows.append(
                {"respondent": respondent, "wave": wave, "item": f"{prefix}_{number}", "value": value}
            )
    return pd.DataFrame(rows)


def test_reverse_keys_and_prorating_by_hand() -> None:
    data = long_rows(
        {
            "A": [2, 6, 3, 5, 1, 6, 7],  # keyed 6 6 5 5 7 6 7 -> 42 / 7 = 6.0
            "B": [7, 2, 6, 3, None, None, None],  # keyed 1 2 2 3 -> 2.0 from 4 of 7 (enough: 4)
            "C": [1, 1, 1, None, None, None, None],  # 3 of 7: too few
        },
        "psafe",
    )
    result = score_items(data, SAFETY)
    assert result.scores["team-psychological-safety"].tolist()[:2] == [6.0, 2.0]
    assert math.isnan(result.scores["team-psychological-safety"].iloc[2])
    assert result.answered["team-psychological-safety"].tolist() == [7, 4, 3]
    assert result.keyed.loc[0, ["psafe_1", "psafe_3", "psafe_5"]].tolist() == [6.0, 5.0, 7.0]
    frame = result.to_frame()
    assert frame["prorated"].tolist() == [False, True, False]
    assert frame["reason"].iloc[2] == "answered 3 of 7 items; at least 4 needed"
    assert result.incomplete()["respondent"].tolist() == ["C"]
    assert result.issues == ()


def test_sum_scoring_prorates_the_sum_and_scores_subscales(instrument_file: Path) -> None:
    climate = InstrumentRegistry.load([instrument_file]).get("team-climate")
    wide = pd.DataFrame(
        {"respondent": ["r1", "r2"], "tc_1": [4, 1], "tc_2": [3, 2], "tc_3": [1, 4], "tc_4": [None, 1]}
    )
    result = score_items(wide, climate, wave=None)
    assert list(result.scales) == ["team-climate", "team-climate_openness", "team-climate_cooperation"]
    assert "wave" not in result.scores.columns
    # r1: keyed 4, 3, 4 (tc_3 reversed: 1 + 4 - 1), tc_4 missing: mean 11/3, prorated sum x 4 items
    assert result.scores["team-climate"].tolist() == pytest.approx([44 / 3, 4 * (1 + 2 + 1 + 1) / 4])
    assert result.scores["team-climate_openness"].tolist() == pytest.approx([8.0, 2.0])
    # cooperation needs both of its items (min_items: 2): r1 answered one
    assert math.isnan(result.scores["team-climate_cooperation"].iloc[0])
    assert result.scores["team-climate_cooperation"].iloc[1] == 3.0


def test_long_and_wide_give_the_same_scores() -> None:
    rng = np.random.default_rng(5)
    wide = pd.DataFrame(rng.integers(1, 8, size=(20, 7)), columns=[f"psafe_{i}" for i in range(1, 8)]).astype(
        float
    )
    wide = wide.mask(rng.random(wide.shape) < 0.15)
    wide.insert(0, "respondent", [f"p{i}" for i in range(20)])
    wide.insert(1, "wave", ["w1"] * 10 + ["w2"] * 10)
    long = wide.melt(id_vars=["respondent", "wave"], var_name="item", value_name="value")
    from_wide = score_items(wide, SAFETY).scores.set_index(["respondent", "wave"]).sort_index()
    from_long = score_items(long, SAFETY).scores.set_index(["respondent", "wave"]).sort_index()
    pd.testing.assert_frame_equal(from_wide, from_long)
    # and both equal an independent computation: reverse 1, 3, 5 as 8 - x, mean when at least 4 answered
    items = wide.set_index(["respondent", "wave"]).sort_index()
    keyed = items.copy()
    for column in ("psafe_1", "psafe_3", "psafe_5"):
        keyed[column] = 8 - keyed[column]
    expected = keyed.mean(axis=1).where(keyed.notna().sum(axis=1) >= 4)
    assert from_wide["team-psychological-safety"].to_numpy() == pytest.approx(
        expected.to_numpy(), nan_ok=True
    )


def test_bad_responses_are_reported_and_left_out_and_the_rest_is_scored() -> None:
    aim = default_instruments().get("aim")
    data = long_rows(
        {
            "A": ["4", "agree", 5, 4],  # text: left out; mean of 4, 5, 4
            "B": [9, 2, 3.5, 3],  # 9 outside 1-5, 3.5 between options: mean of 2, 3
            "C": [5, 5, 5, 5],
        },
        "aim",
    )
    data.loc[len(data)] = {"respondent": "C", "wave": "t1", "item": "aim_1", "value": 1}  # answered twice
    result = score_items(data, aim)
    assert result.scores["aim"].tolist() == pytest.approx([13 / 3, 2.5, 5.0])
    issues = {(issue.respondent, issue.item, issue.value): issue for issue in result.issues}
    assert set(issues) == {
        ("A", "aim_2", "agree"),
        ("B", "aim_1", "9"),
        ("B", "aim_3", "3.5"),
        ("C", "aim_1", "5"),
        ("C", "aim_1", "1"),
    }
    assert issues[("A", "aim_2", "agree")].problem == "is not a number"
    assert issues[("B", "aim_1", "9")].problem == "is outside the response scale 1-5"
    assert "missing-value code" in issues[("B", "aim_1", "9")].hint
    assert issues[("B", "aim_3", "3.5")].problem == "is not one of the response options 1-5"
    assert issues[("C", "aim_1", "1")].row == 12 and issues[("B", "aim_1", "9")].row == 4
    shown = str(issues[("A", "aim_2", "agree")])
    assert shown.startswith("respondent A, wave t1, aim_2: 'agree' is not a number (write the number")
    problem = issues[("A", "aim_2", "agree")].to_problem("data.csv")
    assert (
        problem.severity == "warning"
        and problem.field == "aim_2"
        and "left out of scoring" in problem.message
    )


def test_one_subscale_and_items_under_other_names() -> None:
    oric = default_instruments().get("oric")
    data = pd.DataFrame(
        {
            "respondent": ["x"] * 6,
            "item": ["c1", "c2", "c3", "c4", "c5", "oric_e1"],
            "value": [5, 4, 5, 4, 2, 1],
        }
    )
    fields = {f"oric_c{i}": f"c{i}" for i in range(1, 6)}
    result = score_items(
        data, oric, name="commitment", subscale="change_commitment", wave=None, fields=fields
    )
    assert list(result.scales) == ["commitment"] and result.scores["commitment"].item() == 4.0
    assert scale_names(oric) == {
        "oric": None,
        "oric_change_commitment": "change_commitment",
        "oric_change_efficacy": "change_efficacy",
    }


def test_rows_of_other_measures_are_ignored_and_empty_respondents_kept() -> None:
    aim = default_instruments().get("aim")
    data = pd.DataFrame(
        {
            "respondent": ["a", "a", "b"],
            "wave": ["t1", "t1", "t1"],
            "item": ["aim_1", "trust", "aim_2"],
            "value": [4, 3.3, None],
        }
    )
    result = score_items(data, aim)
    assert result.scores["respondent"].tolist() == ["a", "b"]
    assert result.answered["aim"].tolist() == [1, 0] and result.scores["aim"].isna().all()
    assert result.to_frame()["reason"].tolist() == [
        "answered 1 of 4 items; at least 2 needed",
        "no item answered",
    ]


def test_missing_columns_are_data_errors() -> None:
    aim = default_instruments().get("aim")
    with pytest.raises(DataError, match="respondent column 'respondent' is missing"):
        score_items(pd.DataFrame({"id": [1], "aim_1": [3]}), aim)
    with pytest.raises(DataError, match="none of the item columns"):
        score_items(pd.DataFrame({"respondent": [1], "x": [3]}), aim)
    with pytest.raises(DataError, match="wave column 'wave' is missing"):
        score_items(pd.DataFrame({"respondent": [1], "item": ["aim_1"], "value": [3]}), aim)


def test_result_renders() -> None:
    data = long_rows({"A": [2, 6, 3, 5, 1, 6, 7], "B": [7, 2, 6, 3, 1, 1, 1]}, "psafe")
    result = score_items(data, SAFETY)
    assert "Team psychological safety" in result._repr_html_() and "respondent-waves" in str(result)
    payload = result.to_dict()
    assert payload["instrument"] == "team-psychological-safety" and len(payload["scores"]) == 2
