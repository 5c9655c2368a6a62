"""Small synthetic REDCap, Qualtrics and Excel files for the source tests (made up; no real people)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]  # fmt: skip

AGREE = (
    "1, Completely disagree | 2, Disagree | 3, Neither agree nor disagree | 4, Agree | 5, Completely agree"
)

# name, form, type, label, choices, validation, min, max
FIELDS = [
    ("record_id", "background", "text", "Record ID", "", "", "", ""),
    ("age", "background", "text", "Age in years", "", "integer", "18", "99"),
    ("hours", "background", "text", "Hours a week", "", "number_1dp_comma_decimal", "0", "80"),
    ("clinic", "background", "dropdown", "Clinic", "1, North clinic | 2, South clinic", "", "", ""),
    ("roles", "background", "checkbox", "Roles", "1, Leader | 2, Staff | -99, Unknown", "", "", ""),
    ("started", "background", "text", "Start date", "", "date_ymd", "2020-01-01", "2030-12-31"),
    ("consent", "background", "yesno", "Consent given", "", "", "", ""),
    ("notes", "background", "notes", "Notes", "", "", "", ""),
    ("intro", "aim", "descriptive", "Please rate the coaching.", "", "", "", ""),
    ("aim_1", "aim", "radio", "Coaching meets my approval.", AGREE, "", "", ""),
    ("aim_2", "aim", "radio", "Coaching is appealing to me.", AGREE, "", "", ""),
    ("aim_3", "aim", "radio", "I like coaching.", AGREE, "", "", ""),
    ("aim_4", "aim", "radio", "I welcome coaching.", AGREE, "", "", ""),
    ("aim_mean", "aim", "calc", "AIM mean", "mean([aim_1],[aim_2],[aim_3],[aim_4])", "", "", ""),
    ("mood", "aim", "slider", "Mood", "Low | Middle | High", "", "", ""),
]


def dictionary_text(
    fields: Sequence[tuple[str, ...]] = FIELDS, header: Sequence[str] = HEADER, delimiter: str = ","
) -> str:
    """A data dictionary CSV as REDCap writes it (or as a European Excel saves it, with semicolons)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for name, form, kind, label, choices, validation, low, high in fields:
        row = dict.fromkeys(HEADER, "")
        row.update(
            {
                "Variable / Field Name": name,
                "Form Name": form,
                "Field Type": kind,
                "Field Label": label,
                "Choices, Calculations, OR Slider Labels": choices,
                "Text Validation Type OR Show Slider Number": validation,
                "Text Validation Min": low,
                "Text Validation Max": high,
            }
        )
        writer.writerow([row.get(column, "") for column in HEADER][: len(header)])
    return buffer.getvalue()


def records_text(header: Sequence[str], rows: Sequence[Sequence[object]], delimiter: str = ",") -> str:
    """A records CSV (every cell written as text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue()


RAW_HEADER = [
    "record_id", "age", "hours", "clinic", "roles___1", "roles___2", "roles____99", "started", "consent",
    "notes", "background_complete", "aim_1", "aim_2", "aim_3", "aim_4", "aim_mean", "mood", "aim_complete",
]  # fmt: skip

GOOD_ROWS = [
    ["r1", "34", "12,5", "1", "1", "0", "0", "2024-01-15", "1", "likes maps", "2",
     "4", "5", "4", "5", "4.5", "70", "2"],
    ["r2", "51", "40", "2", "0", "1", "0", "2024-02-01", "0", "", "2",
     "2", "2", "3", "1", "2", "35", "2"],
]  # fmt: skip


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode(encoding))
    return path
