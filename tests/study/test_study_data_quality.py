"""Data that passes the format checks but would make `moclab analyze` fail or mislead: values no measure
takes, heavy missingness, constant measures. `validate` reports each with the file, row or column and the fix,
without a NumPy warning reaching the user."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
from study_helpers import edit_text, find, problems_of

from moclab.study import validate_study


def _edit_measures(folder: Path, edit) -> None:
    path = folder / "data" / "measures.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame)
    frame.to_csv(path, index=False)


def _quiet_report(folder: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy overflow or invalid-value warning
        return validate_study(folder, show_progress=False)


def test_heavy_missingness_is_counted_per_measure_wave_and_arm(study_copy: Path) -> None:
    arms = pd.read_csv(study_copy / "data" / "recipients.csv").set_index("recipient_id")["arm"]

    def blank(frame: pd.DataFrame) -> None:
        usual = frame["recipient_id"].map(arms).eq("usual")
        frame.loc[usual & frame["measure"].eq("trust") & frame["wave"].eq("m6"), "value"] = ""

    _edit_measures(study_copy, blank)
    (warning,) = _quiet_report(study_copy).warnings
    assert warning.message == (
        "measure 'trust' has no value for most recipients (m6, arm usual: 78 of 78 missing); the analyses "
        "leave these recipients out, so estimates may be biased and criteria not testable"
    )
    assert (warning.file, warning.field) == ("data/measures.csv", "value")
    assert "evidence.waves" in warning.hint


def test_a_constant_measure_is_reported(study_copy: Path) -> None:
    def flatten(frame: pd.DataFrame) -> None:
        frame.loc[frame["measure"].eq("credibility"), "value"] = "3"

    _edit_measures(study_copy, flatten)
    (warning,) = _quiet_report(study_copy).warnings
    assert warning.message == (
        "measure 'credibility' is 3 for every recipient at every wave: a constant cannot go with anything, "
        "so analyses that use it cannot estimate its effects"
    )


def test_a_measure_constant_at_one_wave_names_the_wave(study_copy: Path) -> None:
    def flatten(frame: pd.DataFrame) -> None:
        frame.loc[frame["measure"].eq("credibility") & frame["wave"].eq("m6"), "value"] = "4"

    _edit_measures(study_copy, flatten)
    (warning,) = _quiet_report(study_copy).warnings
    assert warning.message.startswith("measure 'credibility' does not vary between recipients at m6 (all 4)")


def test_absurd_and_infinite_values_are_errors_naming_row_and_column(study_copy: Path) -> None:
    """Without a declared range, 1e300 and inf would reach the analyses (overflow warnings, a singular
    model blamed on the covariates); they are errors of `validate` instead."""
    edit_text(
        study_copy / "moclab.yaml",
        "trust: {label: Trust in the ISPs, range: [1, 5], level: individual}",
        "trust: {label: Trust in the ISPs, level: individual}",
    )

    def spoil(frame: pd.DataFrame) -> None:
        trust = frame.index[frame["measure"].eq("trust")]
        frame.loc[trust[0], "value"] = "inf"
        frame.loc[trust[5], "value"] = "1e300"
        frame.loc[trust[1], "value"] = "55"

    _edit_measures(study_copy, spoil)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        problems = problems_of(study_copy)
    error = find(problems, "not a plausible value")
    assert error.message == (
        "not a plausible value (infinite, or 1e12 or more in size): no analysis can use it (2 rows): "
        "line 10 (row 9) inf, line 135 (row 134) 1e+300"
    )
    assert (error.file, error.line, error.row, error.field) == ("data/measures.csv", 10, 9, "value")
    assert error.hint.startswith("correct the value")
    far = find(problems, "far outside the other values of measure 'trust'")
    assert (far.severity, far.row, far.field) == ("warning", 34, "value")
    assert far.message.endswith("line 35 (row 34) 55")
    assert "measures.trust.range" in far.hint


def test_an_absurd_value_of_an_undeclared_numeric_column_is_an_error(study_copy: Path) -> None:
    path = study_copy / "data" / "recipients.csv"
    frame = pd.read_csv(path, dtype=str)
    frame["tenure_months"] = "12"
    frame.loc[3, "tenure_months"] = "-1e300"
    frame.to_csv(path, index=False)
    edit_text(
        study_copy / "moclab.yaml",
        "covariates: [role, years_experience]",
        "covariates: [role, years_experience, tenure_months]",
    )
    error = find(problems_of(study_copy), "not a plausible value")
    assert (error.file, error.row, error.field) == ("data/recipients.csv", 4, "tenure_months")


def test_a_third_missing_is_not_reported(study_copy: Path) -> None:
    def blank(frame: pd.DataFrame) -> None:
        rows = frame.index[frame["measure"].eq("trust") & frame["wave"].eq("m6")]
        frame.loc[rows[::3], "value"] = ""

    _edit_measures(study_copy, blank)
    assert _quiet_report(study_copy).warnings == []
