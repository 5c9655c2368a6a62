"""Reading Qualtrics CSV exports: the three header rows, previews, unfinished and repeated responses,
numeric and choice-text exports."""

from __future__ import annotations

import json
import math

import pytest
from sources_helpers import records_text, write

from moclab.errors import StudyError
from moclab.study.sources import item_responses, read_qualtrics

NAMES = [
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "ExternalReference", "Q1_1", "Q1_2", "Q1_3", "Q1_4", "Q2",
]  # fmt: skip
TEXTS = [
    "Start Date", "End Date", "Response Type", "IP Address", "Progress", "Duration (in seconds)", "Finished",
    "Recorded Date", "Response ID", "External Data Reference", "Rate the coaching - meets my approval",
    "Rate the coaching - is appealing", "Rate the coaching - I like it", "Rate the coaching - I welcome it",
    "Any comments?",
]  # fmt: skip
IDS = [
    "startDate", "endDate", "status", "ipAddress", "progress", "duration", "finished", "recordedDate",
    "_recordId", "externalDataReference", "QID1_1", "QID1_2", "QID1_3", "QID1_4", "QID2_TEXT",
]  # fmt: skip
IMPORT_ROW = [json.dumps({"ImportId": name}, separators=(",", ":")) for name in IDS]
AIM_MAP = {"Q1_1": "aim_1", "QID1_2": "aim_2", "Q1_3": "aim_3", "Q1_4": "aim_4"}  # a key may be an import id


def response(status, progress, finished, response_id, person, answers, comment=""):
    meta = ["2025-03-01 10:00:00", "2025-03-01 10:05:00", status, "", progress, "300", finished]
    return [*meta, "2025-03-01 10:05:00", response_id, person, *answers, comment]


ROWS = [
    response("0", "100", "1", "R_a1", "p1", ["4", "5", "4", "5"], "clear, useful"),
    response("1", "100", "1", "R_a2", "p2", ["1", "1", "1", "1"]),  # a survey preview
    response("0", "50", "0", "R_a3", "p3", ["3", "3", "", ""]),  # not finished
    response("0", "100", "1", "R_a4", "p4", ["-99", "2", "2", "2"]),  # -99: seen but unanswered
    response("0", "30", "0", "R_a5", "p5", ["1", "", "", ""]),  # a first attempt...
    response("0", "100", "1", "R_a6", "p5", ["5", "4", "5", "4"]),  # ...and the finished one
]


@pytest.fixture
def export(folder):
    return write(folder, "survey.csv", records_text(NAMES, [TEXTS, IMPORT_ROW, *ROWS]))


def answers(source, person):
    """The numeric answers of one person to the rating questions (Q1_*)."""
    rows = source.data[(source.data["record"] == person) & source.data["field"].str.startswith("Q1_")]
    return dict(zip(rows["field"], rows["value"], strict=True))


def test_numeric_export_with_three_header_rows(export):
    source = read_qualtrics(export, wave="m6")
    assert set(source.records) == {"p1", "p3", "p4", "p5"}
    assert answers(source, "p1") == {"Q1_1": 4.0, "Q1_2": 5.0, "Q1_3": 4.0, "Q1_4": 5.0}
    assert source.data.query("record == 'p1' and field == 'Q2'")["text"].item() == "clear, useful"
    assert set(source.data["wave"]) == {"m6"}
    assert source.data.query("record == 'p1'")["line"].iloc[0] == 4  # after the three header rows
    fields = {entry["field"]: entry for entry in source.fields}
    assert fields["Q1_2"]["import_id"] == "QID1_2" and fields["Q1_2"]["label"].endswith("is appealing")
    assert "StartDate" not in fields and "ExternalReference" not in fields
    kinds = {(p.kind, p.record): p for p in source.problems}
    preview = kinds[("preview", "p2")]
    assert preview.severity == "error" and "survey preview" in preview.message and preview.line == 5
    unfinished = kinds[("incomplete", "p3")]
    assert unfinished.severity == "warning" and "progress 50%" in unfinished.message
    assert answers(source, "p3") == {"Q1_1": 3.0, "Q1_2": 3.0}  # flagged, imported
    assert answers(source, "p4") == {"Q1_2": 2.0, "Q1_3": 2.0, "Q1_4": 2.0}  # -99 is no answer
    assert any(p.kind == "incomplete" and "-99" in p.message for p in source.problems)
    repeated = kinds[("duplicate_record", "p5")]
    assert "only the finished one (line 9) was imported" in repeated.message
    assert answers(source, "p5") == {"Q1_1": 5.0, "Q1_2": 4.0, "Q1_3": 5.0, "Q1_4": 4.0}


def test_handling_previews_and_unfinished_responses_as_configured(export):
    strict = read_qualtrics(export, incomplete="drop", min_progress=100)
    assert set(strict.records) == {"p1", "p4", "p5"}
    assert next(p for p in strict.problems if p.record == "p3").severity == "error"
    kept = read_qualtrics(export, previews="keep", incomplete="keep")
    assert {"p2", "p3"} <= set(kept.records)
    assert not [p for p in kept.problems if p.kind in ("preview",) or (p.kind == "incomplete" and p.record)]
    flagged = read_qualtrics(export, previews="flag")
    assert "p2" in flagged.records and flagged.problems_of("preview")[0].severity == "warning"


def test_map_by_column_name_or_import_id(export):
    responses = item_responses(read_qualtrics(export), map=AIM_MAP)
    table = responses.table
    assert table.query("recipient == 'p1'")["measure"].tolist() == ["aim_1", "aim_2", "aim_3", "aim_4"]
    unmapped = next(p for p in responses.problems if p.kind == "unmapped_field")
    assert "1 field(s)" in unmapped.message and "Q2" in unmapped.message
    assert [i.id for i in responses.instruments()] == ["aim"]


def test_choice_text_export(folder):
    texts = {"1": "Completely disagree", "2": "Disagree", "4": "Agree", "5": "Completely agree"}
    rows = [[*row[:10], *[texts.get(cell, cell) for cell in row[10:14]], row[14]] for row in ROWS[:1]]
    rows.append(response("IP Address", "100", "True", "R_b2", "p9", ["agree", "Sort of", "Agree", "Agree"]))
    path = write(folder, "text.csv", records_text(NAMES, [TEXTS, IMPORT_ROW, *rows]))
    source = read_qualtrics(path)
    assert math.isnan(answers(source, "p1")["Q1_1"])  # text, not a number yet
    assert source.data.query("record == 'p1' and field == 'Q1_1'")["text"].item() == "Agree"
    responses = item_responses(source, map=AIM_MAP)  # AIM's response labels turn text into numbers
    table = responses.table
    assert table.query("recipient == 'p1'")["value"].tolist() == [4.0, 5.0, 4.0, 5.0]
    bad = next(p for p in responses.problems if p.kind == "not_a_number")
    assert (bad.record, bad.field, bad.value) == ("p9", "Q1_2", "Sort of")
    assert "recode" in bad.hint
    recoded = read_qualtrics(path, recode={"Sort of": 3})
    assert answers(recoded, "p9")["Q1_2"] == 3.0


def test_ids_and_bad_exports(folder, export):
    fallback = read_qualtrics(
        write(folder, "noref.csv", records_text(NAMES, [TEXTS, IMPORT_ROW, *ROWS[:1]]).replace(",p1,", ",,"))
    )
    assert fallback.records == ["R_a1"]
    assert "cannot be linked across waves" in fallback.problems_of("missing_record_id")[0].message
    with pytest.raises(StudyError, match="the id column 'person' is not in the export"):
        read_qualtrics(export, id="person")
    with pytest.raises(StudyError, match="did you mean 'ExternalReference'"):
        read_qualtrics(export, id="externalreference")
    with pytest.raises(StudyError, match="empty"):
        read_qualtrics(write(folder, "empty.csv", ""))
    # an export without the import-id row (older format) is still read
    older = read_qualtrics(write(folder, "older.csv", records_text(NAMES, [TEXTS, *ROWS[:1]])))
    assert older.records == ["p1"] and len(older.data) == 5
    # a wave column instead of one wave
    names = [*NAMES, "wave"]
    rows = [[*ROWS[0], "baseline"], [*ROWS[3], "m6"]]
    by_column = read_qualtrics(
        write(folder, "waves.csv", records_text(names, [[*TEXTS, "wave"], [*IMPORT_ROW, "{}"], *rows])),
        wave_column="wave",
    )
    assert dict(zip(by_column.data["record"], by_column.data["wave"], strict=False)) == {
        "p1": "baseline",
        "p4": "m6",
    }


def test_two_different_finished_responses_are_not_imported(folder):
    rows = [ROWS[0], response("0", "100", "1", "R_x", "p1", ["1", "1", "1", "1"])]
    source = read_qualtrics(write(folder, "twice.csv", records_text(NAMES, [TEXTS, IMPORT_ROW, *rows])))
    problem = source.problems_of("duplicate_record")[0]
    assert problem.severity == "error" and "none was imported" in problem.message
    assert source.data.empty
