"""The report folder: written new, rewritten only when an earlier report marked it, never a user's folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.errors import MoclabError
from moclab.report import MARKER, write_report
from moclab.study import example_path

from .helpers import TRUST

runner = CliRunner()


def test_write_report_writes_the_page_json_and_marker(tmp_path: Path, example_evidence, example_study):
    folder = tmp_path / "new" / "report"
    page = write_report(example_evidence, folder, study=example_study, show_progress=False)
    assert page == folder / "index.html"
    assert sorted(p.name for p in folder.iterdir()) == sorted([MARKER, "index.html", "report.json"])
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert data["scorecard"]["matrix"][TRUST] == {
        v.criterion: v.status.value for v in example_evidence.scorecard.pathway(TRUST).verdicts
    }
    assert (folder / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_an_earlier_report_is_replaced_and_other_files_in_it_are_kept(
    tmp_path: Path, example_evidence, example_study
):
    folder = tmp_path / "report"
    write_report(example_evidence, folder, study=example_study, show_progress=False)
    (folder / "index.html").write_text("old page", encoding="utf-8")
    (folder / "my-notes.txt").write_text("mine", encoding="utf-8")
    write_report(example_evidence, folder, study=example_study, show_progress=False)
    assert (folder / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (folder / "my-notes.txt").read_text(encoding="utf-8") == "mine"
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]


def test_an_empty_folder_is_used(tmp_path: Path, example_evidence, example_study):
    write_report(example_evidence, tmp_path, study=example_study, show_progress=False)
    assert (tmp_path / "index.html").is_file()


def test_a_foreign_folder_is_refused_and_left_untouched(tmp_path: Path, example_evidence, example_study):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "index.html").write_text("my own page", encoding="utf-8")
    with pytest.raises(MoclabError, match=r"holds other files \(index.html\) and no earlier moclab report"):
        write_report(example_evidence, folder, study=example_study, show_progress=False)
    assert [p.name for p in folder.iterdir()] == ["index.html"]
    assert (folder / "index.html").read_text(encoding="utf-8") == "my own page"
    a_file = tmp_path / "report.html"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(MoclabError, match="is not a folder"):
        write_report(example_evidence, a_file, study=example_study, show_progress=False)


def test_moclab_analyze_writes_the_html_report(tmp_path: Path):
    folder = tmp_path / "report"
    arguments = [
        "analyze",
        str(example_path()),
        "-p",
        TRUST,
        "--n-boot",
        "200",
        "--seed",
        "3",
        "-o",
        str(folder),
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "index.html" in result.output
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "Recipient pathway trial (synthetic example)" in page and "Synthetic data" in page
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert data["settings"]["n_boot"] == 200 and data["settings"]["seed"] == 3
    (folder / "keep.txt").write_text("kept", encoding="utf-8")
    again = runner.invoke(app, [*arguments, "--force"])
    assert again.exit_code == 0, again.output
    assert (folder / "keep.txt").read_text(encoding="utf-8") == "kept"
