"""Reading Excel workbooks with several sheets: one per wave, or one per instrument with a wave column."""

from __future__ import annotations

import openpyxl
import pytest
from sources_helpers import write

from moclab.errors import StudyError
from moclab.study.sources import item_responses, read_workbook


def workbook(path, sheets):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


AIM = ["recipient_id", "aim_1", "aim_2", "aim_3", "aim_4"]


def values(source, record, wave):
    rows = source.data[(source.data["record"] == record) & (source.data["wave"] == wave)]
    return dict(zip(rows["field"], rows["value"], strict=True))


def test_one_sheet_per_wave(folder):
    path = workbook(
        folder / "survey.xlsx",
        {
            "Baseline": [AIM, ["p1", 4, 5, 4, 5], ["p2", 2, 2, 3, 1], [101, 3, 3, 3, 3]],
            "6 months": [[None], AIM, ["p1", 5, 5, 5, "five"], ["p2", 1, None, 1, 1]],
        },
    )
    source = read_workbook(path, sheets={"Baseline": "baseline", "6 months": "m6"})
    assert source.problems == ()
    assert values(source, "p1", "baseline") == {"aim_1": 4.0, "aim_2": 5.0, "aim_3": 4.0, "aim_4": 5.0}
    assert values(source, "101", "baseline")["aim_1"] == 3.0  # a number cell as id is the text '101'
    later = source.data.query("record == 'p1' and wave == 'm6'")
    assert later["event"].unique().tolist() == ["6 months"]
    assert later["line"].tolist() == [3, 3, 3, 3]  # the sheet row, after a blank row and the header
    assert values(source, "p2", "m6") == {"aim_1": 1.0, "aim_3": 1.0, "aim_4": 1.0}
    responses = item_responses(source)
    bad = next(p for p in responses.problems if p.kind == "not_a_number")
    assert (bad.record, bad.field, bad.value, bad.file, bad.event) == (
        "p1",
        "aim_4",
        "five",
        "survey.xlsx",
        "6 months",
    )
    assert bad.line == 3
    assert len(responses.table) == 4 + 4 + 4 + 3 + 3
    # without a declaration every sheet is read, its name taken as the wave
    assert set(read_workbook(path).data["wave"]) == {"Baseline", "6 months"}


def test_one_sheet_per_instrument_with_a_wave_column(folder):
    path = workbook(
        folder / "by-instrument.xlsx",
        {
            "AIM": [["person", "wave", "aim_1", "aim_2"], ["p1", "baseline", 4, 4], ["p1", "m6", 5, 5]],
            "FIM": [["person", "wave", "fim_1"], ["p1", "baseline", 2]],
            "Notes": [["something else"], ["x"]],
        },
    )
    sheets = {"AIM": {"wave_column": "wave"}, "FIM": {"wave_column": "wave"}, "Notes": None}
    source = read_workbook(path, id="person", sheets=sheets)
    assert values(source, "p1", "m6") == {"aim_1": 5.0, "aim_2": 5.0}
    assert values(source, "p1", "baseline") == {"aim_1": 4.0, "aim_2": 4.0, "fim_1": 2.0}
    problem = source.problems_of("missing_record_id")[0]
    assert problem.file == "by-instrument.xlsx [Notes]" and "'person' is not on this sheet" in problem.message


def test_duplicates_and_rows_without_id(folder):
    path = workbook(
        folder / "dup.xlsx",
        {
            "Baseline": [
                AIM,
                ["p1", 4, 4, 4, 4],
                ["p1", 4, 4, 4, 4],
                ["p2", 1, 1, 1, 1],
                ["p2", 2, 2, 2, 2],
                [None, 3, 3, 3, 3],
            ]
        },
    )
    source = read_workbook(path, sheets={"Baseline": "baseline"})
    duplicates = {p.record: p for p in source.problems_of("duplicate_record")}
    assert duplicates["p1"].severity == "warning" and duplicates["p2"].severity == "error"
    assert "rows 4, 5" in duplicates["p2"].message
    assert source.records == ["p1"] and len(source.data) == 4
    assert source.problems_of("missing_record_id")[0].line == 6


def test_bad_workbooks(folder):
    with pytest.raises(StudyError, match="not found"):
        read_workbook(folder / "missing.xlsx")
    with pytest.raises(StudyError, match=r"not a readable \.xlsx workbook"):
        read_workbook(write(folder, "fake.xlsx", "recipient_id,aim_1\np1,4\n"))
    path = workbook(folder / "ok.xlsx", {"Baseline": [AIM, ["p1", 4, 4, 4, 4]]})
    with pytest.raises(StudyError, match="no sheet named 'Wave 2'") as caught:
        read_workbook(path, sheets={"Wave 2": "m6"})
    assert "'Baseline'" in caught.value.hint
