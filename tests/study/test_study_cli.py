"""`moclab validate`, `moclab new` and `moclab example` through the real command-line application."""

from __future__ import annotations

import json
import re
from pathlib import Path

from study_helpers import edit_line
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.study import example_path

runner = CliRunner()


def test_validate_the_example_prints_the_summary_and_succeeds() -> None:
    result = runner.invoke(app, ["validate", str(example_path())])
    assert result.exit_code == 0, result.output
    for pattern in [
        r"Recipient pathway trial \(synthetic example\)",
        r"synthetic data, not real people",
        r"recipients +151",
        r"sites +12  \(recipients per site: min 10, median 12\.5, max 16\)",
        r"randomization +by site",
        r"arm intensive +6 sites, 73 recipients",
        r"arm usual +6 sites, 78 recipients",
        r"sustained_capacity +416 +2\.45",
        r"Support activities per site",
        r"has no errors",
    ]:
        assert re.search(pattern, result.output), pattern


def test_validate_json_output(study_copy: Path) -> None:
    result = runner.invoke(app, ["validate", "--json", str(study_copy)])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] is True and data["summary"]["n_clusters"] == 12
    edit_line(study_copy / "data" / "measures.csv", 2, ",3.72,", ",high,")
    result = runner.invoke(app, ["validate", "--json", str(study_copy)])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["problems"] == [
        {
            "message": "not a number: line 2 (row 1) 'high'",
            "file": "data/measures.csv",
            "line": 2,
            "row": 1,
            "field": "value",
            "hint": "write numbers with a dot for decimals and nothing else in the cell; leave the cell "
            "empty (or NA) when there is no value",
            "severity": "error",
        }
    ]


def test_validate_reports_unreadable_config_without_traceback(study_copy: Path) -> None:
    (study_copy / "moclab.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(study_copy)])
    assert result.exit_code == 1
    assert (
        "error:" in result.output and "malformed YAML" in result.output and "Traceback" not in result.output
    )


def test_validate_a_folder_that_is_not_a_study(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "no moclab.yaml in this folder" in result.output and "moclab new" in result.output


def test_new_creates_a_study_that_validates_with_a_no_data_note(tmp_path: Path) -> None:
    dest = tmp_path / "my-study"
    result = runner.invoke(app, ["new", str(dest)])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        ".moclab-output",  # the marker of a folder moclab wrote (docs/cli.md)
        "README.md",
        "data/activities.csv",
        "data/measures.csv",
        "data/recipients.csv",
        "moclab.yaml",
        "model.yaml",
    ]
    assert (dest / "data" / "measures.csv").read_text() == "recipient_id,wave,measure,value,date\n"
    result = runner.invoke(app, ["validate", str(dest)])
    assert result.exit_code == 0, result.output
    assert result.output.count("no data rows yet") == 3
    assert "No measures yet: the tables have headers only" in result.output
    assert "has no errors (3 warnings above)" in result.output


def test_new_with_another_template_and_title(tmp_path: Path) -> None:
    dest = tmp_path / "isp"
    result = runner.invoke(app, ["new", str(dest), "--template", "isp-mechanisms", "--title", "ISP study"])
    assert result.exit_code == 0, result.output
    assert 'title: "ISP study"' in (dest / "moclab.yaml").read_text()
    assert runner.invoke(app, ["validate", str(dest)]).exit_code == 0


def test_new_refuses_a_non_empty_folder_and_an_unknown_template(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    for force in ([], ["--force"]):  # a folder moclab did not write is refused even with --force
        result = runner.invoke(app, ["new", str(tmp_path), *force])
        assert result.exit_code == 2 and "holds files moclab did not write (notes.txt)" in result.output
        assert sorted(item.name for item in tmp_path.iterdir()) == ["notes.txt"]
    result = runner.invoke(app, ["new", str(tmp_path / "x"), "--template", "recipient-pathwy"])
    assert result.exit_code == 1 and "did you mean 'recipient-pathway'?" in result.output
    assert not (tmp_path / "x").exists()


def test_example_copies_the_bundled_study(tmp_path: Path) -> None:
    dest = tmp_path / "play"
    result = runner.invoke(app, ["example", str(dest)])
    assert result.exit_code == 0 and "synthetic data, not real people" in result.output
    for name in ("moclab.yaml", "model.yaml", "README.md", "data/measures.csv"):
        assert (dest / name).read_bytes() == (example_path() / name).read_bytes()
    (dest / "data" / "measures.csv").write_text("changed", encoding="utf-8")
    (dest / "my-analysis.R").write_text("mine", encoding="utf-8")
    again = runner.invoke(app, ["example", str(dest)])
    assert again.exit_code == 2 and "earlier `moclab example`" in again.output
    assert (dest / "data" / "measures.csv").read_text(encoding="utf-8") == "changed"
    forced = runner.invoke(app, ["example", str(dest), "--force"])
    assert forced.exit_code == 0, forced.output
    bundled = (example_path() / "data" / "measures.csv").read_bytes()
    assert (dest / "data" / "measures.csv").read_bytes() == bundled
    assert (dest / "my-analysis.R").read_text(encoding="utf-8") == "mine"
