"""Reading REDCap records exports: field types, raw and label exports, repeating instruments, events, and
every kind of bad input, each reported with record, field, value and what to do while the rest is imported."""

from __future__ import annotations

import codecs
import hashlib

import numpy as np
import pandas as pd
import pytest
from sources_helpers import FIELDS, GOOD_ROWS, RAW_HEADER, dictionary_text, records_text, write

from moclab.errors import StudyError
from moclab.study.sources import delimited as delimited_module
from moclab.study.sources import read_redcap


def value(source, record, field, wave=None):
    rows = source.data[(source.data["record"] == record) & (source.data["field"] == field)]
    if wave is not None:
        rows = rows[rows["wave"] == wave]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def only(source, kind):
    found = source.problems_of(kind)
    assert len(found) == 1, [str(problem) for problem in source.problems]
    return found[0]


def test_a_clean_raw_export_is_typed(folder, dictionary):
    records = write(folder, "records.csv", records_text(RAW_HEADER, GOOD_ROWS))
    source = read_redcap(records, dictionary)
    assert source.problems == ()
    assert source.records == ["r1", "r2"]
    assert value(source, "r1", "age")["value"] == 34.0
    assert value(source, "r1", "hours")["value"] == 12.5  # number_comma_decimal: "12,5"
    assert value(source, "r1", "clinic")["value"] == 1.0
    assert value(source, "r1", "roles___1")["value"] == 1.0
    assert value(source, "r1", "roles____99")["value"] == 0.0
    assert np.isnan(value(source, "r1", "started")["value"])
    assert value(source, "r1", "started")["text"] == "2024-01-15"
    assert value(source, "r1", "notes")["text"] == "likes maps"
    assert value(source, "r2", "consent")["value"] == 0.0
    assert value(source, "r1", "aim_mean")["value"] == 4.5
    assert value(source, "r1", "mood")["value"] == 70.0
    row = value(source, "r2", "aim_4")
    assert (row["value"], row["wave"], row["form"], row["line"]) == (1.0, "baseline", "aim", 3)
    assert set(source.data["field"]) & {"background_complete", "aim_complete", "record_id"} == set()
    # the same data in wide layout
    wide = source.wide()
    assert wide.loc[wide["record"] == "r2", "aim_1"].item() == 2.0
    assert list(wide.columns[:4]) == ["record", "wave", "instance", "age"]


def test_bad_values_are_reported_with_record_field_value_and_what_to_do(folder, dictionary):
    bad = [
        ["r3", "abc", "12.5.1", "3", "2", "0", "0", "2024-13-01", "1", "", "2",
         "7", "4", "4", "4", "x", "150", "2"],
        ["r4", "17", "81", "1", "0", "0", "0", "2019-12-31", "maybe", "", "2",
         "4", "4", "4", "4", "NaN", "-1", "2"],
        ["r5", "30.5", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    records = write(folder, "records.csv", records_text(RAW_HEADER, GOOD_ROWS + bad))
    source = read_redcap(records, dictionary)
    found = {(p.record, p.field): p for p in source.problems}
    expected = {
        ("r3", "age"): ("not_a_number", "abc"),
        ("r3", "hours"): ("not_a_number", "12.5.1"),
        ("r3", "clinic"): ("unknown_choice", "3"),
        ("r3", "roles___1"): ("unknown_choice", "2"),
        ("r3", "started"): ("not_a_date", "2024-13-01"),
        ("r3", "aim_1"): ("unknown_choice", "7"),
        ("r3", "aim_mean"): ("not_a_number", "x"),
        ("r3", "mood"): ("out_of_range", "150"),
        ("r4", "age"): ("out_of_range", "17"),
        ("r4", "hours"): ("out_of_range", "81"),
        ("r4", "started"): ("out_of_range", "2019-12-31"),
        ("r4", "consent"): ("unknown_choice", "maybe"),
        ("r4", "mood"): ("out_of_range", "-1"),
        ("r5", "age"): ("not_whole_number", "30.5"),
    }
    assert {key: (p.kind, p.value) for key, p in found.items()} == expected
    for problem in found.values():
        assert problem.severity == "error"  # the value was not imported...
        assert problem.hint and problem.file == "records.csv"
    assert found[("r3", "age")].line == 4
    assert "outside the field's range 18 to 99" in found[("r4", "age")].message
    assert "is not one of the field's choices (1 Completely disagree" in found[("r3", "aim_1")].message
    assert "record 'r3', field 'aim_1'" in str(found[("r3", "aim_1")])
    # ...and everything valid of the same records still was
    assert value(source, "r3", "aim_2")["value"] == 4.0
    assert value(source, "r4", "aim_1")["value"] == 4.0
    assert value(source, "r3", "roles___2")["value"] == 0.0
    # a calculation REDCap could not compute (NaN) is no answer, not a problem
    assert source.data.query("record == 'r4' and field == 'aim_mean'").empty
    assert not any(p.record == "r4" and p.field == "aim_mean" for p in source.problems)


def test_unticked_boxes_count_only_where_the_form_was_filled(folder, dictionary):
    header = ["record_id", "redcap_event_name", "age", "roles___1", "roles___2", "roles____99", "aim_1"]
    rows = [
        ["r1", "baseline_arm_1", "30", "0", "1", "0", ""],
        ["r1", "followup_arm_1", "", "0", "0", "0", "4"],
    ]
    source = read_redcap(write(folder, "records.csv", records_text(header, rows)), dictionary)
    roles = source.data[source.data["field"].str.startswith("roles")]
    assert set(roles["wave"]) == {"baseline_arm_1"}
    assert len(roles) == 3


def test_columns_and_fields_that_do_not_match_the_dictionary(folder, dictionary):
    header = ["record_id", "age", "clinic", "extra_score", "roles___1", "roles___7", "aim_1", "aim_2", "mood"]
    rows = [["r1", "40", "1", "9", "1", "1", "3", "4", "50"]]
    source = read_redcap(write(folder, "records.csv", records_text(header, rows)), dictionary)
    unknown = {p.field: p for p in source.problems_of("field_not_in_dictionary")}
    assert set(unknown) == {"extra_score", "roles___7"}
    assert all(p.severity == "warning" and p.line == 1 for p in unknown.values())
    missing = {p.field for p in source.problems_of("field_not_in_records")}
    assert missing == {"hours", "started", "consent", "notes", "aim_3", "aim_4", "aim_mean"}
    assert "extra_score" not in set(source.data["field"])
    assert value(source, "r1", "aim_2")["value"] == 4.0


def test_a_form_missing_entirely_is_reported_once(folder, dictionary):
    header = ["record_id", "age", "hours", "clinic", "roles___1", "roles___2", "roles____99", "started"]
    header += ["consent", "notes"]
    source = read_redcap(
        write(folder, "records.csv", records_text(header, [["r1", "40"] + [""] * 8])), dictionary
    )
    problem = only(source, "field_not_in_records")
    assert problem.field == "aim" and "none of the 6 fields of the instrument 'aim'" in problem.message


def test_repeating_instruments_and_events(folder):
    fields = [
        ("record_id", "intake", "text", "ID", "", "", "", ""),
        ("site_name", "intake", "text", "Site", "", "", "", ""),
        ("aim_1", "aim", "radio", "Approval", "1, No | 2, Some | 3, Yes", "", "", ""),
        ("aim_2", "aim", "radio", "Appeal", "1, No | 2, Some | 3, Yes", "", "", ""),
    ]
    dictionary = write(folder, "dictionary.csv", dictionary_text(fields))
    header = [
        "record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", "site_name",
        "intake_complete", "aim_1", "aim_2", "aim_complete",
    ]  # fmt: skip
    rows = [
        ["1", "year_1_arm_1", "", "", "North", "2", "", "", ""],
        ["1", "year_1_arm_1", "aim", "1", "", "", "1", "2", "2"],
        ["1", "year_1_arm_1", "aim", "2", "", "", "3", "3", "2"],
        ["1", "year_2_arm_1", "aim", "1", "", "", "2", "2", "2"],
        ["2", "year_1_arm_1", "", "", "South", "2", "", "", ""],
        ["2", "year_1_arm_1", "aim", "1", "", "", "3", "1", "2"],
    ]
    records = write(folder, "records.csv", records_text(header, rows))
    # events as waves, instances kept apart
    source = read_redcap(records, dictionary)
    assert source.problems == ()
    first = source.data.query("record == '1' and field == 'aim_1'")
    assert first[["wave", "instance", "value"]].values.tolist() == [
        ["year_1_arm_1", 1, 1.0],
        ["year_1_arm_1", 2, 3.0],
        ["year_2_arm_1", 1, 2.0],
    ]
    assert pd.isna(value(source, "1", "site_name")["instance"])
    # a wave map; an event it does not name is reported and left out
    mapped = read_redcap(records, dictionary, waves={"year_1_arm_1": "baseline"})
    problem = only(mapped, "event_not_mapped")
    assert "'year_2_arm_1' is not in the wave map; its 1 row(s)" in problem.message
    assert set(mapped.data["wave"]) == {"baseline"}
    # repeat instances as waves
    by_instance = read_redcap(records, dictionary, instances={1: "first", 2: "second"})
    answers = by_instance.data.query("record == '1' and field == 'aim_2' and event == 'year_1_arm_1'")
    assert answers[["wave", "value"]].values.tolist() == [["first", 2.0], ["second", 3.0]]


def test_duplicate_records(folder, dictionary):
    rows = [*GOOD_ROWS, GOOD_ROWS[0], [*GOOD_ROWS[1][:11], "5", "5", "5", "5", "5", "50", "2"]]
    source = read_redcap(write(folder, "records.csv", records_text(RAW_HEADER, rows)), dictionary)
    problems = {p.record: p for p in source.problems_of("duplicate_record")}
    assert (
        problems["r1"].severity == "warning"
        and "identical values; it was imported once" in problems["r1"].message
    )
    assert (
        problems["r2"].severity == "error" and "(lines 3, 5) with different values" in problems["r2"].message
    )
    assert len(source.data.query("record == 'r1' and field == 'aim_1'")) == 1
    assert source.data.query("record == 'r2'").empty


def test_rows_without_a_record_id_and_ragged_rows(folder, dictionary):
    text = records_text(RAW_HEADER, [*GOOD_ROWS, ["", *GOOD_ROWS[1][1:]]])
    text += "r9,40,too,few\n"
    text += ",".join(["r8", *GOOD_ROWS[1][1:], "surplus"]) + "\n"
    source = read_redcap(write(folder, "records.csv", text), dictionary)
    missing = only(source, "missing_record_id")
    assert missing.line == 4 and missing.severity == "error"
    ragged = {p.line: p.message for p in source.problems_of("malformed_row")}
    assert "4 values but the header names 18" in ragged[5]
    assert "19 values" in ragged[6]
    assert source.records == ["r1", "r2"]


def test_missing_record_id_column_is_an_error(folder, dictionary):
    records = write(folder, "records.csv", records_text(["participant", "age"], [["p1", "30"]]))
    with pytest.raises(StudyError, match="record id column 'record_id'"):
        read_redcap(records, dictionary)


def test_label_export_values_and_headers(folder, dictionary):
    # "CSV (labels)": field labels as headers, choice labels as values, Checked/Unchecked for checkboxes
    header = [
        "Record ID", "Age in years", "Clinic", "Roles (choice=Leader)", "Roles (choice=Staff)",
        "Roles (choice=Unknown)", "Consent given", "Complete?", "Coaching meets my approval.",
        "Coaching is appealing to me.", "I like coaching.", "I welcome coaching.", "Mood", "Complete?",
    ]  # fmt: skip
    rows = [
        ["r1", "34", "South clinic", "Checked", "Unchecked", "Unchecked", "Yes", "Complete", "Agree",
         "Completely agree", "neither agree nor disagree", "Disagree", "70", "Complete"],
        ["r2", "40", "East clinic", "Unchecked", "Checked", "Unchecked", "No", "Incomplete", "Agree", "",
         "", "", "", "Incomplete"],
    ]  # fmt: skip
    source = read_redcap(write(folder, "records.csv", records_text(header, rows)), dictionary)
    assert value(source, "r1", "clinic")["value"] == 2.0
    assert value(source, "r1", "roles___1")["value"] == 1.0
    assert value(source, "r1", "roles___2")["value"] == 0.0
    assert value(source, "r1", "consent")["value"] == 1.0
    assert [value(source, "r1", f"aim_{k}")["value"] for k in (1, 2, 3, 4)] == [4.0, 5.0, 3.0, 2.0]
    assert value(source, "r1", "aim_1")["text"] == "Agree"
    problem = only(source, "unknown_choice")
    assert (problem.record, problem.field, problem.value) == ("r2", "clinic", "East clinic")
    assert not source.problems_of("field_not_in_dictionary")


def test_label_values_with_raw_headers(folder, dictionary):
    header = ["record_id", "clinic", "aim_1", "aim_2"]
    rows = [["r1", "North clinic", "Agree", "1"], ["r2", "South clinic", "Completely disagree", "Agree"]]
    source = read_redcap(write(folder, "records.csv", records_text(header, rows)), dictionary)
    assert value(source, "r2", "aim_1")["value"] == 1.0
    assert value(source, "r1", "aim_2")["value"] == 1.0  # a code is still read in a label export
    assert value(source, "r2", "aim_2")["value"] == 4.0
    raw = read_redcap(write(folder, "raw.csv", records_text(header, rows)), dictionary, values="raw")
    assert value(raw, "r2", "aim_1")["value"] == 1.0  # labels are a fallback in a raw export


def test_non_utf8_export_is_read_and_the_encoding_named(folder):
    fields = [
        ("record_id", "survey", "text", "ID", "", "", "", ""),
        ("name", "survey", "text", "Name", "", "", "", ""),
    ]
    dictionary = write(folder, "dictionary.csv", dictionary_text(fields))
    text = records_text(["record_id", "name"], [["1", "Zoë Müller"], ["2", "José Señor"], ["3", "Ångström"]])
    records = write(folder, "records.csv", text, encoding="cp1252")
    source = read_redcap(records, dictionary)
    problem = only(source, "encoding")
    assert problem.severity == "warning"
    assert "not UTF-8 text; it looks like cp1252" in problem.message
    assert "iconv -f cp1252 -t utf-8 records.csv > records-utf8.csv" in problem.hint
    assert value(source, "2", "name")["text"] == "José Señor"


def test_mixed_encodings_are_read_line_by_line(folder):
    fields = [
        ("record_id", "survey", "text", "ID", "", "", "", ""),
        ("name", "survey", "text", "Name", "", "", "", ""),
    ]
    dictionary = write(folder, "dictionary.csv", dictionary_text(fields))
    raw = (
        b"record_id,name\n1," + "Zoë Müller".encode() + b"\n2," + "José Señor".encode("cp1252")
        + b"\n3," + "Søren Ærø".encode() + b"\n"
    )  # fmt: skip
    source = read_redcap(write(folder, "records.csv", raw), dictionary)
    problem = only(source, "encoding")
    assert "mixed encodings" in problem.message and "lines 3 look like" in problem.message
    assert problem.line == 3
    assert [value(source, r, "name")["text"] for r in ("1", "2", "3")] == [
        "Zoë Müller",
        "José Señor",
        "Søren Ærø",
    ]


def test_bom_semicolons_and_quoted_line_breaks(folder, dictionary):
    rows = [[*GOOD_ROWS[0][:9], "first line\nsecond; line", *GOOD_ROWS[0][10:]], GOOD_ROWS[1]]
    text = records_text(RAW_HEADER, rows, delimiter=";")
    records = write(folder, "records.csv", codecs.BOM_UTF8 + text.encode("utf-8"))
    source = read_redcap(records, dictionary)
    assert source.problems == ()
    assert value(source, "r1", "notes")["text"] == "first line\nsecond; line"
    assert value(source, "r2", "aim_1")["line"] == 4  # the line the record starts on, after a two-line cell


def test_hostile_cells(folder, dictionary, monkeypatch):
    huge = "9" * (delimited_module.MAX_CELL + 1)
    rows = [[*GOOD_ROWS[0][:9], huge, *GOOD_ROWS[0][10:11], huge, *GOOD_ROWS[0][12:]], GOOD_ROWS[1]]
    source = read_redcap(write(folder, "records.csv", records_text(RAW_HEADER, rows)), dictionary)
    kinds = {(p.field, p.kind) for p in source.problems}
    assert kinds == {("notes", "huge_cell"), ("aim_1", "huge_cell")}
    problem = source.problems_of("huge_cell")[0]
    assert len(problem.value) < 100 and "100,001 characters" in problem.value
    assert value(source, "r1", "aim_2")["value"] == 5.0
    # a quote that is never closed swallows the file: refused with the line it starts on
    text = records_text(RAW_HEADER, GOOD_ROWS) + 'r3,"40,\n' + "r4,1\n" * 5
    with pytest.raises(StudyError, match=r"open\.csv:4: a quote opened"):
        read_redcap(write(folder, "open.csv", text), dictionary)
    # a cell beyond the reader's limit
    monkeypatch.setattr(delimited_module, "MAX_FIELD", 1000)
    text = records_text(RAW_HEADER, GOOD_ROWS) + 'r3,"' + "x" * 2000 + '"\n'
    with pytest.raises(StudyError, match="longer than"):
        read_redcap(write(folder, "long.csv", text), dictionary)


def test_control_characters_and_binary_files(folder, dictionary):
    rows = [[*GOOD_ROWS[0][:1], "3\x004", *GOOD_ROWS[0][2:]]]
    source = read_redcap(write(folder, "records.csv", records_text(RAW_HEADER, rows)), dictionary)
    problem = only(source, "not_a_number")
    assert problem.value == "3\\x004"  # shown, not printed raw
    with pytest.raises(StudyError, match="not a text file"):
        read_redcap(write(folder, "binary.csv", b"\x00" * 500 + b"record_id\n"), dictionary)


def test_empty_files(folder, dictionary):
    with pytest.raises(StudyError, match="empty"):
        read_redcap(write(folder, "records.csv", ""), dictionary)
    with pytest.raises(StudyError, match="empty"):
        read_redcap(write(folder, "blank.csv", "\n\n  \n"), dictionary)
    source = read_redcap(write(folder, "header.csv", ",".join(RAW_HEADER) + "\n"), dictionary)
    assert source.data.empty and source.records == []


def test_the_source_files_are_not_modified(folder, dictionary):
    rows = [*GOOD_ROWS, ["r3", "abc", *GOOD_ROWS[1][2:]]]
    records = write(folder, "records.csv", records_text(RAW_HEADER, rows), encoding="cp1252")
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (records, dictionary)}
    stamps = {path: path.stat().st_mtime_ns for path in before}
    read_redcap(records, dictionary)
    assert {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in before} == before
    assert {path: path.stat().st_mtime_ns for path in before} == stamps
    assert sorted(p.name for p in folder.iterdir()) == ["dictionary.csv", "records.csv"]


def test_report_and_dict(folder, dictionary):
    rows = [*GOOD_ROWS, ["r3", "abc", *GOOD_ROWS[1][2:]]]
    source = read_redcap(write(folder, "records.csv", records_text(RAW_HEADER, rows)), dictionary)
    report = source.report()
    assert report.loc[0, ["severity", "kind", "line", "record", "field", "value"]].tolist() == [
        "error", "not_a_number", 4, "r3", "age", "abc",
    ]  # fmt: skip
    payload = source.to_dict()
    assert payload["records"] == 3 and payload["problem_counts"] == {"not_a_number": 1}
    assert "not_a_number" in source._repr_html_()
    assert FIELDS[1][0] in {entry["field"] for entry in source.fields}


def test_truefalse_and_yesno_in_raw_and_label_exports(folder):
    fields = [
        ("record_id", "survey", "text", "ID", "", "", "", ""),
        ("trained", "survey", "truefalse", "Was trained", "", "", "", ""),
        ("consent", "survey", "yesno", "Consent", "", "", "", ""),
    ]
    dictionary = write(folder, "dictionary.csv", dictionary_text(fields))
    raw = read_redcap(write(folder, "raw.csv", "record_id,trained,consent\n1,1,0\n2,0,2\n"), dictionary)
    assert value(raw, "1", "trained")["value"] == 1.0 and value(raw, "1", "consent")["value"] == 0.0
    assert only(raw, "unknown_choice").value == "2"
    labels = read_redcap(
        write(folder, "labels.csv", "ID,Was trained,Consent\n1,True,No\n2,False,Yes\n"), dictionary
    )
    assert labels.problems == ()
    assert [value(labels, r, "trained")["value"] for r in ("1", "2")] == [1.0, 0.0]
    assert [value(labels, r, "consent")["value"] for r in ("1", "2")] == [0.0, 1.0]
