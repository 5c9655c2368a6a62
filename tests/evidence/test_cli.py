"""`moclab analyze` through the real command-line application."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.study import example_path

runner = CliRunner()
TRUST = "isp_support__trust__acceptability"
QUICK = ["-p", TRUST, "--n-boot", "200", "--seed", "3"]


def test_analyze_prints_the_scorecard_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = runner.invoke(app, ["analyze", str(example_path()), *QUICK, "-o", str(report), "--verbose"])
    assert result.exit_code == 0, result.output
    assert "Mechanism evidence scorecard" in result.output
    assert "200 resamples, seed 3" in result.output
    assert "Strong association:" in result.output and "isp_support → trust → acceptability" in result.output
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert data["scorecard"]["matrix"][TRUST]["strong_association"] == "met"
    assert data["settings"]["n_boot"] == 200
    # running again replaces the earlier report only with --force; the summary leaves out the reasons
    again = runner.invoke(app, ["analyze", str(example_path()), *QUICK, "-o", str(report)])
    assert again.exit_code == 2 and "earlier `moclab analyze`" in again.output and "--force" in again.output
    forced = runner.invoke(app, ["analyze", str(example_path()), *QUICK, "-o", str(report), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "Strong association:" not in forced.output and "Conclusions" in forced.output


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
    result = runner.invoke(app, ["analyze", str(example_path()), *QUICK, "-o", str(folder), "--force"])
    assert result.exit_code == 2
    assert "holds files moclab did not write (notes.txt)" in result.output
    assert sorted(item.name for item in folder.iterdir()) == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"


def _no_analysis(*args: object, **kwargs: object) -> None:
    raise AssertionError("the analysis ran before the command's checks")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["-o", "{tmp}/mine"], "moclab did not write"),
        (["-o", "{tmp}/report.html"], "the page would be"),
        (["-o", "{tmp}/mine/thesis.docx/report"], "thesis.docx is a file"),
        (["-o", "{tmp}/study/report"], "inside the input"),
        (["--n-boot", "0"], "--n-boot"),
        (["--seed", "-1"], "--seed"),
        (["--replication", "{tmp}/nowhere"], "no such study folder"),
    ],
)
def test_analyze_refuses_before_any_analysis(tmp_path, monkeypatch, given, expected) -> None:
    """Every refusal comes before the analysis runs (the engine fails if called) and leaves folders alone."""
    monkeypatch.setattr("moclab.evidence.analyze", _no_analysis)
    study = tmp_path / "study"
    shutil.copytree(example_path(), study)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_bytes(b"precious")
    arguments = [part.replace("{tmp}", str(tmp_path)) for part in given]
    result = runner.invoke(app, ["analyze", str(study), *arguments])
    assert result.exit_code in (1, 2) and expected in result.output, result.output
    assert not isinstance(result.exception, AssertionError)
    assert sorted(item.name for item in (tmp_path / "mine").iterdir()) == ["thesis.docx"]
    assert not (study / "report").exists() and not (tmp_path / "report.html").exists()


def test_the_summary_fits_one_screen(tmp_path) -> None:
    """The default output of the 12-pathway example: at most 40 lines, none wider than the terminal."""
    for width in (80, 120):
        result = CliRunner(env={"COLUMNS": str(width)}).invoke(
            app, ["analyze", str(example_path()), "--n-boot", "100", "--seed", "3"]
        )
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert len(lines) <= 40, result.stdout
        assert max(len(line) for line in lines) <= width
        # the shared strategy heads the matrix; a row per pathway; the pathways grouped by conclusion
        assert sum("isp_support → pathway" in line for line in lines) == 1
        assert (
            sum(
                line.rstrip().endswith("◐")
                or line.rstrip().endswith("✓")
                or line.rstrip().endswith("✗")
                or line.rstrip().endswith("?")
                for line in lines
            )
            == 12
        )
        counts = re.findall(
            r"^  (?:established|supported under stated assumptions|suggestive|not supported|"
            r"not testable) \((\d+)\): ",
            result.stdout,
            flags=re.MULTILINE,
        )
        assert sum(int(count) for count in counts) == 12
        verbose = CliRunner(env={"COLUMNS": str(width)}).invoke(
            app, ["analyze", str(example_path()), "--n-boot", "100", "--seed", "3", "--verbose"]
        )
        assert verbose.stdout.count("design change:") > 12 and len(verbose.stdout.splitlines()) > 100


def test_analyze_reports_bad_settings_with_their_lines(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(example_path()), "-p", "isp_support__trust__acceptabilty"])
    assert result.exit_code == 1
    assert "no pathway 'isp_support__trust__acceptabilty'" in result.output
    assert f"did you mean '{TRUST}'" in result.output
    missing = runner.invoke(app, ["analyze", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no such study folder" in missing.output
