"""`moclab analyze` through the real command-line application."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.study import example_path

runner = CliRunner()
TRUST = "isp_support__trust__acceptability"
QUICK = ["-p", TRUST, "--n-boot", "200", "--seed", "3"]


def test_analyze_prints_the_scorecard_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = runner.invoke(app, ["analyze", str(example_path()), *QUICK, "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert "Mechanism evidence scorecard" in result.output
    assert "200 resamples, seed 3" in result.output
    assert "Strong association:" in result.output and "isp_support → trust → acceptability" in result.output
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert data["scorecard"]["matrix"][TRUST]["strong_association"] == "met"
    assert data["settings"]["n_boot"] == 200
    # running again replaces the earlier report
    again = runner.invoke(app, ["analyze", str(example_path()), *QUICK, "-o", str(report), "--no-details"])
    assert again.exit_code == 0, again.output
    assert "Strong association:" not in again.output


def test_analyze_json_is_the_whole_analysis() -> None:
    result = runner.invoke(app, ["analyze", str(example_path()), *QUICK, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [p["id"] for p in data["scorecard"]["pathways"]] == [TRUST]
    assert data["scorecard"]["pathways"][0]["results"]["mediation"]["n_clusters"] == 12


def test_analyze_refuses_a_report_folder_with_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(example_path()), *QUICK, "-o", str(folder)])
    assert result.exit_code == 1
    assert "holds other files (notes.txt)" in result.output
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert not (folder / "report.json").exists()


def test_analyze_reports_bad_settings_with_their_lines(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(example_path()), "-p", "isp_support__trust__acceptabilty"])
    assert result.exit_code == 1
    assert "no pathway 'isp_support__trust__acceptabilty'" in result.output
    assert f"did you mean '{TRUST}'" in result.output
    missing = runner.invoke(app, ["analyze", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no such study folder" in missing.output
