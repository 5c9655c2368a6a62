"""The REDCap round trip: the dictionary moclab writes, filled with records as REDCap exports them (classic,
longitudinal and with a repeating instrument), read back and scored, gives the scores computed by hand.

Hand computation (mean of the answered items after reverse keying, scored when at least min_items are
answered: 2 of 4 for AIM, IAM and FIM; 4 of 7 for team psychological safety, whose items 1, 3 and 5 are
reverse keyed on its 1-7 scale as 8 - x):

=======  ================  ================  ===================  ===================================
record   AIM               IAM               FIM                  psychological safety (keyed)
=======  ================  ================  ===================  ===================================
101      4,5,4,5 -> 4.5    3,3,4,4 -> 3.5    5,5,5,4 -> 4.75      2,6,3,5,1,7,6 -> 6,6,5,5,7,7,6: 6
102      2,2,3,1 -> 2.0    1,2,-,- -> 1.5    3,-,-,- -> (1 of 4)  7,1,7,2,6,1,2 -> 1,1,1,2,2,1,2: 10/7
103      6?,4,4,4 -> 4.0   3,3,3,3 -> 3.0    1,2,3,4 -> 2.5       4,-,4,-,-,4,- -> (3 of 7)
=======  ================  ================  ===================  ===================================

103's first AIM answer is 6, which is not a choice of the 1-5 item: it is reported and left out.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sources_helpers import records_text, write

from moclab.catalog.instruments import default_instruments
from moclab.study import load_study
from moclab.study.scoring import score_items, score_study
from moclab.study.sources import import_redcap_study, item_responses, read_redcap, write_redcap_dictionary

INSTRUMENTS = ["aim", "iam", "fim", "team-psychological-safety"]
FORMS = {"aim": "aim", "iam": "iam", "fim": "fim", "team-psychological-safety": "team_psychological_safety"}
ANSWERS = {
    "101": {"aim": "4545", "iam": "3344", "fim": "5554", "team-psychological-safety": "2635176"},
    "102": {"aim": "2231", "iam": "12--", "fim": "3---", "team-psychological-safety": "7172612"},
    "103": {"aim": "6444", "iam": "3333", "fim": "1234", "team-psychological-safety": "4-4--4-"},
}
EXPECTED = {
    "101": {"aim": 4.5, "iam": 3.5, "fim": 4.75, "team-psychological-safety": 6.0},
    "102": {"aim": 2.0, "iam": 1.5, "fim": math.nan, "team-psychological-safety": 10 / 7},
    "103": {"aim": 4.0, "iam": 3.0, "fim": 2.5, "team-psychological-safety": math.nan},
}
FOLLOW_UP = {"aim": "5555", "iam": "4444", "fim": "4444", "team-psychological-safety": "4444444"}


def item_columns() -> list[str]:
    registry = default_instruments()
    columns = []
    for instrument_id in INSTRUMENTS:
        columns += [*registry.get(instrument_id).item_ids, f"{FORMS[instrument_id]}_complete"]
    return columns


def cells(answers: dict[str, str]) -> list[str]:
    row = []
    for instrument_id in INSTRUMENTS:
        row += [answer.replace("-", "") for answer in answers[instrument_id]] + ["2"]
    return row


def check(scores: pd.DataFrame, expected: dict[str, dict[str, float]], name_of=lambda i: i, *, wave=None):
    for record, by_instrument in expected.items():
        row = scores[scores.iloc[:, 0].astype(str) == record]
        if wave is not None:
            row = row[row.iloc[:, 1].astype(str) == wave]
        for instrument_id, score in by_instrument.items():
            got = float(row[name_of(instrument_id)].iloc[0])
            if math.isnan(score):
                assert math.isnan(got), (record, instrument_id, got)
            else:
                assert got == pytest.approx(score, abs=1e-12), (record, instrument_id)


@pytest.fixture
def redcap_dictionary(folder):
    return write_redcap_dictionary(INSTRUMENTS, folder / "dictionary.csv")


def score_all(responses) -> pd.DataFrame:
    registry = default_instruments()
    merged = None
    for instrument_id in INSTRUMENTS:
        result = score_items(
            responses.table, registry.get(instrument_id), respondent="recipient", wave="wave", item="measure"
        )
        frame = result.scores[["recipient", "wave", instrument_id]]
        merged = frame if merged is None else merged.merge(frame, on=["recipient", "wave"], how="outer")
    return merged


def test_classic_project(folder, redcap_dictionary):
    header = ["record_id", *item_columns()]
    rows = [[record, *cells(answers)] for record, answers in ANSWERS.items()]
    records = write(folder, "records.csv", records_text(header, rows))
    source = read_redcap(records, redcap_dictionary)
    problem = source.problems_of("unknown_choice")[0]
    assert (problem.record, problem.field, problem.value) == ("103", "aim_1", "6")
    assert len(source.problems) == 1
    responses = item_responses(source)
    assert set(responses.table["wave"]) == {"baseline"}
    check(score_all(responses), EXPECTED)


def test_longitudinal_project_events_as_waves(folder, redcap_dictionary):
    header = ["record_id", "redcap_event_name", *item_columns()]
    rows = [[record, "baseline_arm_1", *cells(answers)] for record, answers in ANSWERS.items()]
    rows.append(["101", "month_6_arm_1", *cells(FOLLOW_UP)])
    records = write(folder, "records.csv", records_text(header, rows))
    source = read_redcap(
        records, redcap_dictionary, waves={"baseline_arm_1": "baseline", "month_6_arm_1": "m6"}
    )
    scores = score_all(item_responses(source))
    check(scores, EXPECTED, wave="baseline")
    check(scores, {"101": {"aim": 5.0, "iam": 4.0, "fim": 4.0, "team-psychological-safety": 4.0}}, wave="m6")


def test_repeating_instrument_instances_as_waves(folder, redcap_dictionary):
    aim = list(default_instruments().get("aim").item_ids)
    header = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", *aim, "aim_complete"]
    rows = [
        ["101", "aim", "1", "4", "5", "4", "5", "2"],
        ["101", "aim", "2", "5", "5", "5", "5", "2"],
        ["102", "aim", "1", "2", "2", "3", "1", "2"],
    ]
    records = write(folder, "records.csv", records_text(header, rows))
    source = read_redcap(records, redcap_dictionary, instances={1: "baseline", 2: "m6"})
    responses = item_responses(source)
    result = score_items(
        responses.table, default_instruments().get("aim"), respondent="recipient", wave="wave", item="measure"
    )
    got = {(r, w): s for r, w, s in result.scores[["recipient", "wave", "aim"]].itertuples(index=False)}
    assert got == {("101", "baseline"): 4.5, ("101", "m6"): 5.0, ("102", "baseline"): 2.0}
    # without the instance map, two instances at one wave cannot both be the recipient's answer
    unmapped = item_responses(read_redcap(records, redcap_dictionary))
    duplicates = {p.field: p for p in unmapped.problems if p.kind == "duplicate_response"}
    assert {field: p.severity for field, p in duplicates.items()} == {
        "aim_1": "error",  # 4 then 5: neither is kept
        "aim_2": "warning",  # 5 and 5: kept once
        "aim_3": "error",
        "aim_4": "warning",
    }
    assert all(p.record == "101" for p in duplicates.values())
    kept = unmapped.table.query("recipient == '101'")
    assert kept[["measure", "value"]].values.tolist() == [["aim_2", 5.0], ["aim_4", 5.0]]


def test_import_as_a_study_validates_and_scores(folder, redcap_dictionary):
    header = ["record_id", "redcap_event_name", "redcap_data_access_group", *item_columns()]
    rows = [[record, "baseline_arm_1", "north", *cells(answers)] for record, answers in ANSWERS.items()]
    rows.append(["101", "month_6_arm_1", "north", *cells(FOLLOW_UP)])
    records = write(folder, "records.csv", records_text(header, rows))
    imported = import_redcap_study(records, redcap_dictionary, folder / "study")
    assert imported.waves == {"baseline": "baseline_arm_1", "month_6": "month_6_arm_1"}
    summary = imported.to_dict()
    assert summary["instruments"] == INSTRUMENTS and summary["recipients"] == 3
    # 57 baseline answers less 5 blanks of 102, 4 of 103 and the invalid 6, plus 19 at month 6
    assert summary["responses"] == len(imported.to_frame()) == 57 - 5 - 4 - 1 + 19
    assert [i.id for i in imported.instruments] == INSTRUMENTS
    people = pd.read_csv(folder / "study" / "data" / "recipients.csv", dtype=str)
    assert people.to_dict("list") == {"recipient_id": ["101", "102", "103"], "site": ["north"] * 3}
    study = load_study(folder / "study", show_progress=False)
    assert not [p for p in study.problems if p.severity == "error"]
    table = score_study(study).table
    wide = table.pivot_table(index=["recipient_id", "wave"], columns="measure", values="value", dropna=False)
    wide = wide.reset_index()
    names = {"team-psychological-safety": "team_psychological_safety"}
    check(wide, EXPECTED, lambda i: names.get(i, i), wave="baseline")
    check(wide, {"101": {"aim": 5.0}}, wave="month_6")
    report = pd.read_csv(folder / "study" / "import-report.csv", dtype=str)
    assert report.loc[0, ["kind", "record", "field", "value"]].tolist() == [
        "unknown_choice",
        "103",
        "aim_1",
        "6",
    ]
