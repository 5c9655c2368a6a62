"""Reading REDCap data dictionaries: field types, choices, checkbox columns, and broken dictionaries."""

from __future__ import annotations

import codecs

import pytest
from sources_helpers import FIELDS, HEADER, dictionary_text, write

from moclab.errors import StudyError, ValidationError
from moclab.study.sources import read_redcap_dictionary
from moclab.study.sources.redcap_dictionary import checkbox_column, parse_choices


def test_fields_in_order_with_their_types_and_ranges(dictionary):
    parsed = read_redcap_dictionary(dictionary)
    assert parsed.record_id == "record_id"
    assert [field.name for field in parsed][:3] == ["record_id", "age", "hours"]
    assert parsed.forms == ["background", "aim"]
    kinds = {field.name: field.kind for field in parsed}
    assert kinds == {
        "record_id": "text", "age": "integer", "hours": "number", "clinic": "choice", "roles": "checkbox",
        "started": "date", "consent": "choice", "notes": "text", "intro": "none", "aim_1": "choice",
        "aim_2": "choice", "aim_3": "choice", "aim_4": "choice", "aim_mean": "number", "mood": "number",
    }  # fmt: skip
    assert parsed.get("age").range == (18.0, 99.0)
    assert parsed.get("mood").range == (0.0, 100.0)  # a slider without a range is 0-100
    assert parsed.get("mood").slider_labels == ("Low", "Middle", "High")
    assert parsed.get("hours").comma_decimal
    assert parsed.get("consent").choices == {"1": "Yes", "0": "No"}
    assert parsed.get("aim_mean").calculation.startswith("mean(")
    assert parsed.get("aim_1").choices["3"] == "Neither agree nor disagree"
    assert parsed.problems == ()


def test_checkbox_columns_follow_redcaps_naming():
    # codes lower-cased, every character other than a letter or digit written as "_"
    assert checkbox_column("roles", "-99") == "roles____99"
    assert checkbox_column("roles", "A") == "roles___a"
    assert checkbox_column("roles", "x.y") == "roles___x_y"


def test_descriptive_fields_have_no_column(dictionary):
    parsed = read_redcap_dictionary(dictionary)
    columns = parsed.columns()
    assert "intro" not in columns
    assert columns["roles____99"][1] == "-99"
    assert "aim_1" in columns


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, Yes | 2, No", {"1": "Yes", "2": "No"}),
        ("1,Yes|2,No", {"1": "Yes", "2": "No"}),
        ("1, Yes, really | 2, No", {"1": "Yes, really", "2": "No"}),  # labels may hold commas
        ("a, Apple | b, Banana |", {"a": "Apple", "b": "Banana"}),
        ("1, Yes\\n2, No", {"1": "Yes", "2": "No"}),  # older dictionaries: one choice per line
        ("-1, Don't know | 0, None", {"-1": "Don't know", "0": "None"}),
    ],
)
def test_choices(text, expected):
    choices, problems = parse_choices(text)
    assert choices == expected
    assert problems == []


def test_choice_problems():
    choices, problems = parse_choices("1, Yes | Maybe | 1, Again")
    assert choices == {"1": "Yes"}
    assert any("'Maybe' has no code" in message for message in problems)
    assert any("code '1' is used twice" in message for message in problems)


def test_api_metadata_headers_are_accepted(folder):
    api = [
        "field_name", "form_name", "section_header", "field_type", "field_label",
        "select_choices_or_calculations", "field_note", "text_validation_type_or_show_slider_number",
        "text_validation_min", "text_validation_max",
    ]  # fmt: skip
    path = write(folder, "metadata.csv", dictionary_text(FIELDS[:4], header=api))
    parsed = read_redcap_dictionary(path)
    assert parsed.get("clinic").choices == {"1": "North clinic", "2": "South clinic"}
    assert parsed.get("age").range == (18.0, 99.0)


def test_bom_and_semicolons(folder):
    text = dictionary_text(FIELDS[:4], delimiter=";")  # as a European Excel saves "CSV"
    assert text.count(";") > 20
    path = write(folder, "dictionary.csv", codecs.BOM_UTF8 + text.encode("utf-8"))
    parsed = read_redcap_dictionary(path)
    assert [field.name for field in parsed] == ["record_id", "age", "hours", "clinic"]
    assert parsed.get("clinic").choices == {"1": "North clinic", "2": "South clinic"}


def test_missing_required_columns_are_named_with_a_suggestion(folder):
    header = [name for name in HEADER if name != "Field Type"]
    header[header.index("Form Name")] = "Form Nme"
    text = dictionary_text(FIELDS[:2], header=HEADER).splitlines()
    lines = [",".join(header), *text[1:]]
    path = write(folder, "dictionary.csv", "\n".join(lines) + "\n")
    with pytest.raises(ValidationError) as caught:
        read_redcap_dictionary(path)
    messages = [str(problem) for problem in caught.value.problems]
    assert any("'Field Type' is missing" in message for message in messages)
    assert any(
        "'Form Name' is missing" in message and "did you mean 'Form Nme'" in message for message in messages
    )
    assert all(problem.line == 1 for problem in caught.value.problems)


def test_empty_and_header_only_dictionaries(folder):
    with pytest.raises(StudyError, match="empty"):
        read_redcap_dictionary(write(folder, "empty.csv", ""))
    with pytest.raises(ValidationError, match="defines no fields"):
        read_redcap_dictionary(write(folder, "header.csv", dictionary_text([])))
    with pytest.raises(StudyError, match="not found"):
        read_redcap_dictionary(folder / "nowhere.csv")


def test_rows_that_cannot_be_used_as_written_are_reported(folder):
    fields = [
        FIELDS[0],
        ("mood", "survey", "sliderr", "Mood", "", "", "", ""),
        ("aim_1", "survey", "radio", "Item", "", "", "", ""),
        ("Bad Name", "survey", "text", "Item", "", "", "", ""),
        ("age", "survey", "text", "Age", "", "integer", "eighteen", "99"),
        ("age", "survey", "text", "Age again", "", "", "", ""),
        ("", "survey", "text", "No name", "", "", "", ""),
    ]
    parsed = read_redcap_dictionary(write(folder, "dictionary.csv", dictionary_text(fields)))
    messages = {problem.line: str(problem) for problem in parsed.problems}
    assert "unknown field type 'sliderr'" in messages[3] and "did you mean 'slider'" in messages[3]
    assert parsed.get("mood").type == "text"
    assert "has no choices" in messages[4]
    assert "not a valid REDCap field name" in messages[5]
    assert "'eighteen' is not a number" in messages[6]
    assert "used twice (lines 6 and 7)" in messages[7]
    assert "without a field name" in messages[8]
    assert parsed.get("age").label == "Age"  # the first definition is kept
    assert {problem.kind for problem in parsed.problems} == {"dictionary"}
