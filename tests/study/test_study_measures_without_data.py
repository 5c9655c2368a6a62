"""A measure with no data: a header-only measures table, a measure declared but not collected yet, a name that
differs only by case. `moclab validate` says which it is, with "did you mean" and the fix, never that the
measure lives in the outcomes table."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_helpers import line_of
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.errors import StudyError, ValidationError
from moclab.evidence import EvidenceSettings, plan_pathways
from moclab.study import load_study, validate_study

runner = CliRunner()
TRUST_PATHWAYS = [
    "isp_support__trust__acceptability",
    "isp_support__trust__appropriateness",
    "isp_support__trust__feasibility",
]


def _rewrite_measures(folder: Path, edit) -> None:
    path = folder / "data" / "measures.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")


def _evidence_problems(folder: Path) -> list:
    study = load_study(folder, show_progress=False)
    with pytest.raises(ValidationError) as caught:
        plan_pathways(study, EvidenceSettings())
    return caught.value.problems


def test_a_measure_named_with_another_case_in_the_data_gets_did_you_mean(study_copy: Path) -> None:
    _rewrite_measures(study_copy, lambda lines: [line.replace(",trust,", ",Trust,") for line in lines])
    problems = _evidence_problems(study_copy)
    errors = [p for p in problems if p.severity == "error"]
    assert [p.message.split("'")[1] for p in errors] == TRUST_PATHWAYS
    for error in errors:
        assert "the mechanism 'trust' has no data: measure 'trust' is declared but has no rows in " in (
            error.message
        )
        assert "data/measures.csv" in error.message
        assert "outcomes table" not in error.message
        assert error.hint.startswith("did you mean 'Trust'? Measure names are case-sensitive")
        assert (error.file, error.line) == ("moclab.yaml", line_of(study_copy / "moclab.yaml", "  trust:"))
    # The study's own warnings are listed after the errors, with their own "did you mean".
    undeclared, declared = [p for p in problems if p.severity == "warning"]
    assert undeclared.message.startswith(
        "measure 'Trust' is not declared in moclab.yaml, so its values are not checked (430 rows)"
    )
    assert (undeclared.file, undeclared.row, undeclared.field) == ("data/measures.csv", 9, "measure")
    assert undeclared.hint == (
        "did you mean 'trust'? measure names are case-sensitive: write the name as declared"
    )
    assert declared.message == "measure 'trust' is declared but has no values in the data"
    assert declared.hint.startswith("did you mean 'Trust'?")


def test_validate_reports_the_case_mistake_and_exits_1(study_copy: Path) -> None:
    _rewrite_measures(study_copy, lambda lines: [line.replace(",trust,", ",Trust,") for line in lines])
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 1
    assert "did you mean 'Trust'?" in result.output
    assert "did you mean 'trust'?" in result.output
    assert "outcomes table" not in result.output


def test_a_declared_measure_not_collected_yet_says_so(study_copy: Path) -> None:
    _rewrite_measures(study_copy, lambda lines: [line for line in lines if ",trust," not in line])
    problems = _evidence_problems(study_copy)
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 3
    assert errors[0].message == (
        "pathway 'isp_support__trust__acceptability': the mechanism 'trust' has no data: measure 'trust' is "
        "declared but has no rows in data/measures.csv"
    )
    assert errors[0].hint == (
        "collect it (or correct its name in data/measures.csv), or leave this pathway out by listing the "
        "pathways to judge under evidence.pathways"
    )
    (warning,) = [p for p in problems if p.severity == "warning"]
    assert warning.message == "measure 'trust' is declared but has no values in the data"


def test_a_header_only_measures_table_passes_validate_with_no_data_rows_yet(study_copy: Path) -> None:
    _rewrite_measures(study_copy, lambda lines: lines[:1])
    report = validate_study(study_copy, show_progress=False)
    assert [(p.file, p.line, p.message) for p in report.warnings] == [
        ("data/measures.csv", 1, "no data rows yet (only the header)")
    ]
    with pytest.raises(StudyError, match=r"data/measures.csv has no data rows yet \(only the header\)"):
        plan_pathways(report.study, EvidenceSettings())
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 0, result.output
    assert "no data rows yet" in result.output and "outcomes table" not in result.output
