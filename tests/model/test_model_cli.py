"""`moclab draw` and `moclab model validate|export|templates`, run through the real application."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from model_helpers import VALID, line_of
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.errors import ConfigError, ModelError, ValidationError
from moclab.model import find_model, template_path

runner = CliRunner()


def test_draw_a_template_to_svg_and_png(tmp_path: Path):
    svg = tmp_path / "pathway.svg"
    result = runner.invoke(app, ["draw", "recipient-pathway", "-o", str(svg)])
    assert result.exit_code == 0, result.output
    assert "(14 nodes, 27 edges)" in result.stdout
    assert "Psychological safety" in svg.read_text(encoding="utf-8")
    png = tmp_path / "out" / "pathway.png"
    assert runner.invoke(app, ["draw", "eis", "--output", str(png)]).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_defaults_to_pathway_svg_in_the_working_folder(tmp_path: Path, write, monkeypatch):
    model = write("m.yaml", VALID)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["draw", str(model)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pathway.svg").read_text(encoding="utf-8").count("<svg") == 1


def test_draw_refuses_to_overwrite_a_file_of_another_kind(tmp_path: Path):
    target = tmp_path / "results.svg"
    target.write_text("not a diagram", encoding="utf-8")
    result = runner.invoke(app, ["draw", "eis", "-o", str(target)])
    assert result.exit_code == 2 and "add --force" in result.output
    forced = runner.invoke(app, ["draw", "eis", "-o", str(target), "--force"])
    assert forced.exit_code == 1 and "refusing to overwrite" in forced.output  # not an earlier diagram
    assert target.read_text(encoding="utf-8") == "not a diagram"


def test_draw_replaces_its_own_diagram_only_with_force(tmp_path: Path):
    target = tmp_path / "pathway.mmd"
    assert runner.invoke(app, ["draw", "eis", "-o", str(target)]).exit_code == 0
    assert runner.invoke(app, ["draw", "support-modes", "-o", str(target)]).exit_code == 2
    assert "'eis'" in target.read_text(encoding="utf-8")
    assert runner.invoke(app, ["draw", "support-modes", "-o", str(target), "--force"]).exit_code == 0
    assert "'support-modes'" in target.read_text(encoding="utf-8")


def test_draw_from_a_study_folder(tmp_path: Path, write):
    write("study/models/pathway.yaml", VALID)
    write("study/moclab.yaml", "title: My study\nmodel: models/pathway.yaml\n")
    out = tmp_path / "d.mmd"
    result = runner.invoke(app, ["draw", str(tmp_path / "study"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("%% pathway model 'coaching-trust'")


def test_validate_prints_the_summary_and_the_pathways():
    result = runner.invoke(app, ["model", "validate", "support-modes"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "pathway model 'support-modes'" in out
    assert "9 nodes (3 strategies, 3 mechanisms, 1 proximal outcome, 2 distal outcomes)" in out
    assert "3 pathways (declared):" in out
    assert "    push: push → knowledge_transfer → evidence_use → sustained_use → population_outcomes" in out
    assert out.rstrip().endswith("valid: no errors")


def test_validate_shows_warnings_and_exits_zero(write):
    text = VALID.replace("nodes:\n", "nodes:\n  - {id: audit, type: strategy}\n")
    result = runner.invoke(app, ["model", "validate", str(write("m.yaml", text))])
    assert result.exit_code == 0
    assert "1 warning(s)" in result.stderr
    assert "m.yaml:4:5: node 'audit' is not connected to any other node" in result.stderr


def test_validate_lists_every_error_with_its_line_and_exits_one(write):
    text = VALID.replace("{from: trust, to: acceptability", "{from: trust, to: acceptabilty")
    text = text.replace("{id: knowledge, type: mechanism", "{id: knowledge, type: mechansim")
    path = write("bad.yaml", text)
    result = runner.invoke(app, ["model", "validate", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, ValidationError)
    errors = [p for p in result.exception.problems if p.severity == "error"]
    assert [p.line for p in errors] == [line_of(text, "mechansim"), line_of(text, "acceptabilty")]
    assert errors[1].hint == "did you mean 'acceptability'?"


def test_the_moclab_command_prints_every_problem_without_a_traceback(write):
    """Through the console-script entry point, as a user runs it: located problems on stderr, status 1."""
    text = VALID.replace("{from: trust, to: acceptability", "{from: trust, to: acceptabilty")
    path = write("bad.yaml", text)
    command = [sys.executable, "-c", "from moclab.cli.main import run; run()", "model", "validate", str(path)]
    finished = subprocess.run(command, capture_output=True, text=True, cwd=path.parent, timeout=60)
    assert finished.returncode == 1
    shown = " ".join(finished.stderr.split())  # the console wraps long lines at the terminal width
    line = line_of(text, "acceptabilty")
    assert f"bad.yaml:{line}:19: edge trust -> acceptabilty: unknown node 'acceptabilty'" in shown
    assert "(did you mean 'acceptability'?)" in shown
    assert "Traceback" not in shown


def test_export_lavaan_to_the_screen_and_dagitty_to_a_file(tmp_path: Path):
    result = runner.invoke(app, ["model", "export", "recipient-pathway", "--to", "lavaan"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# lavaan model syntax generated by moclab")
    assert "trust ~ a3*isp_support" in result.stdout
    out = tmp_path / "model.dagitty"
    result = runner.invoke(app, ["model", "export", "mechanism-criteria", "--to", "dagitty", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("dag {")
    # an existing file is replaced only with --force, and even then only an earlier export of the same kind
    again = runner.invoke(app, ["model", "export", "eis", "--to", "dagitty", "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(app, ["model", "export", "eis", "--to", "dagitty", "-o", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    refused = runner.invoke(app, ["model", "export", "eis", "--to", "lavaan", "-o", str(out), "--force"])
    assert refused.exit_code == 1 and "not a lavaan file written earlier" in refused.output


def test_export_rejects_an_unknown_format():
    result = runner.invoke(app, ["model", "export", "eis", "--to", "excel"])
    assert result.exit_code == 2
    assert "excel" in result.output


def test_templates_lists_names_and_citations():
    result = runner.invoke(app, ["model", "templates"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    names = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert names == ["mechanism-criteria", "isp-mechanisms", "eis", "support-modes", "recipient-pathway"]
    assert "doi:10.3389/frhs.2024.1323807" in result.stdout


def test_find_model_accepts_files_folders_and_template_names(tmp_path: Path, write):
    model = write("m.yaml", VALID)
    assert find_model(model) == model
    assert find_model("eis") == template_path("eis")
    write("study/pathway.yaml", VALID)
    write("study/moclab.yaml", "model: pathway.yaml\n")
    assert find_model(tmp_path / "study") == tmp_path / "study" / "pathway.yaml"


def test_find_model_explains_what_is_wrong(tmp_path: Path, write):
    with pytest.raises(ModelError) as info:
        find_model("recipient-pathwy")
    assert info.value.hint == "did you mean 'recipient-pathway'?"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"a folder without moclab\.yaml"):
        find_model(tmp_path / "empty")
    write("s1/moclab.yaml", "title: x\n")
    with pytest.raises(ConfigError, match="no 'model:' entry"):
        find_model(tmp_path / "s1")
    write("s2/moclab.yaml", "title: x\nmodel: missing.yaml\n")
    with pytest.raises(ConfigError, match=r"moclab.yaml:2:1: the model file 'missing.yaml' was not found"):
        find_model(tmp_path / "s2")
    write("s3/moclab.yaml", "title: x\nmodel: [a, b]\n")
    with pytest.raises(ConfigError, match=r"moclab.yaml:2:1: 'model' must be the path of a model YAML file"):
        find_model(tmp_path / "s3")
