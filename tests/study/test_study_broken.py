"""The acceptance test of the study checks: a copy of the example with one planted error of each kind.

`load_study` (and so `moclab validate`) must list every planted error in one run, each with its file and line
or row and column, and nothing else that is an error.
"""

from __future__ import annotations

from pathlib import Path

from study_helpers import edit_line, edit_text, find, line_of, problems_of
from typer.testing import CliRunner

from moclab.cli.main import app


def plant_errors(study: Path) -> dict[str, int]:
    """Break the study in ten ways; returns the lines the checks must point at."""
    config = study / "moclab.yaml"
    recipients = study / "data" / "recipients.csv"
    measures = study / "data" / "measures.csv"
    where: dict[str, int] = {}

    # 1. a misspelt key in moclab.yaml
    where["typo"] = line_of(config, "description:")
    edit_line(config, where["typo"], "description:", "descripton:")
    # 2. waves out of order: the 6-month wave dated after the 12-month one
    where["waves"] = line_of(config, "    - {id: m12")
    edit_text(
        config, "{id: m6, label: 6 months, date: 2024-07-15", "{id: m6, label: 6 months, date: 2025-03-01"
    )
    # 3. a missing file
    (study / "data" / "outcomes.csv").unlink()
    where["outcomes_path"] = line_of(config, "    path: data/outcomes.csv")
    # 4. a missing column: the engagement column renamed in the header
    edit_line(recipients, 1, ",engagement,", ",engagment,")
    # 5. a duplicate recipient id: the second recipient's row written twice
    text = recipients.read_text(encoding="utf-8")
    second = text.split("\n")[2]
    recipients.write_text(text + second + "\n", encoding="utf-8")
    where["duplicate"] = len(text.split("\n"))  # the appended line
    # 6. text in the numeric value column (of a scale score; text in an instrument item is a warning)
    where["text"] = 10
    edit_line(measures, 10, "R001,baseline,trust,3.36,", "R001,baseline,trust,about four,")
    # 7. a measure row for a recipient who is not in the recipients table
    where["orphan"] = 2
    edit_line(measures, 2, "R001,", "R999,")
    # 8. a value outside the declared 1-5 range of trust
    where["range"] = 35
    edit_line(
        measures, 35, "R002,baseline,trust,", "R002,baseline,trust,"
    )  # checks the line is what we think
    line = measures.read_text(encoding="utf-8").split("\n")[34]
    edit_line(measures, 35, line, "R002,baseline,trust,7.5," + line.split(",")[-1])
    # 9. a date that does not parse
    where["date"] = 20
    date = measures.read_text(encoding="utf-8").split("\n")[19].split(",")[-1]
    edit_line(measures, 20, date, "2024-13-45")
    # 10. a recipient's 6-month survey dated before their baseline survey
    where["wave_date"] = line_of(measures, "R003,m6,")
    m6_date = measures.read_text(encoding="utf-8").split("\n")[where["wave_date"] - 1].split(",")[-1]
    edit_line(measures, where["wave_date"], m6_date, "2023-12-01")
    return where


def test_every_planted_error_is_listed_with_its_location(study_copy: Path) -> None:
    where = plant_errors(study_copy)
    problems = problems_of(study_copy)

    typo = find(problems, "unknown key 'descripton'")
    assert (typo.file.endswith("moclab.yaml"), typo.line, typo.column) == (True, where["typo"], 1)
    assert typo.hint == "did you mean 'description'?"

    waves = find(problems, "waves are not in time order")
    assert waves.file.endswith("moclab.yaml") and waves.line == where["waves"] and waves.column is not None
    assert "'m12' (date 2025-01-15) is listed after 'm6' (date 2025-03-01)" in waves.message

    missing_file = find(problems, "file 'data/outcomes.csv' not found")
    assert missing_file.file.endswith("moclab.yaml") and missing_file.line == where["outcomes_path"]

    column = find(problems, "'engagement' is missing")
    assert (column.file, column.line, column.field) == ("data/recipients.csv", 1, "engagement")
    assert "did you mean 'engagment'?" in column.hint

    duplicate = find(problems, "duplicate recipient id")
    assert (duplicate.file, duplicate.line, duplicate.row) == ("data/recipients.csv", where["duplicate"], 152)
    assert duplicate.field == "recipient_id"
    assert f"line {where['duplicate']} (row 152) 'R002' (first on line 3 (row 2))" in duplicate.message

    text = find(problems, "not a number")
    assert (text.file, text.line, text.row, text.field) == ("data/measures.csv", 10, 9, "value")
    assert "'about four'" in text.message

    orphan = find(problems, "no such recipient")
    assert (orphan.file, orphan.line, orphan.row, orphan.field) == (
        "data/measures.csv",
        2,
        1,
        "recipient_id",
    )
    assert "'R999'" in orphan.message

    out_of_range = find(problems, "outside the range 1–5 declared for measure 'trust'")
    assert (out_of_range.file, out_of_range.line, out_of_range.row) == ("data/measures.csv", 35, 34)
    assert out_of_range.field == "value" and "line 35 (row 34) 7.5" in out_of_range.message

    bad_date = find(problems, "not a date")
    assert (bad_date.file, bad_date.line, bad_date.row, bad_date.field) == (
        "data/measures.csv",
        20,
        19,
        "date",
    )
    assert "'2024-13-45'" in bad_date.message

    wave_date = find(problems, "a later wave is dated before an earlier wave")
    assert (wave_date.file, wave_date.line, wave_date.field) == (
        "data/measures.csv",
        where["wave_date"],
        "date",
    )
    assert "R003: 'm6' on 2023-12-01 is before 'baseline'" in wave_date.message

    errors = [problem for problem in problems if problem.severity == "error"]
    assert len(errors) == 10, "\n".join(str(problem) for problem in errors)


def test_validate_command_prints_every_planted_error_and_fails(study_copy: Path) -> None:
    where = plant_errors(study_copy)
    result = CliRunner().invoke(app, ["validate", str(study_copy)])
    assert result.exit_code == 1
    assert "10 errors" in result.output and "warning" not in result.output
    expected = [
        f"moclab.yaml:{where['typo']}:1: unknown key 'descripton'",
        f"data/recipients.csv:{where['duplicate']}, row 152, column 'recipient_id': duplicate recipient id",
        "data/measures.csv:10, row 9, column 'value': not a number",
        "data/measures.csv:2, row 1, column 'recipient_id': no such recipient",
        "data/measures.csv:35, row 34, column 'value': outside the range 1–5",
        "data/measures.csv:20, row 19, column 'date': not a date",
        "data/recipients.csv:1, 'engagement': the declared column 'engagement' is missing",
        "file 'data/outcomes.csv' not found",
        "waves are not in time order",
        "a later wave is dated before an earlier wave",
    ]
    for text in expected:
        assert text in result.output, text
    assert "Traceback" not in result.output
