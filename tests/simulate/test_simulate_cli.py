"""`moclab simulate`: writes a valid study folder, prints the truth, never overwrites, reports bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.simulate import load_spec
from moclab.study import validate_study

runner = CliRunner(env={"COLUMNS": "200"})
WIDE = {**os.environ, "COLUMNS": "200"}


def test_simulate_a_template_with_its_default_spec(tmp_path):
    out = tmp_path / "sim"
    result = runner.invoke(
        app,
        [
            "simulate",
            "recipient-pathway",
            "-o",
            str(out),
            "--sites",
            "6",
            "--per-site",
            "8..12",
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "null mechanisms: credibility" in result.output
    assert "isp_support → trust → acceptability" in result.output
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 3 and truth["realised"]["sites"] == 6
    assert 6 * 8 <= truth["realised"]["recipients"] <= 6 * 12
    report = validate_study(out, show_progress=False)
    assert not [p for p in report.problems if p.severity == "error"]


def test_print_spec_shows_the_spec_in_use_with_overrides(tmp_path):
    result = runner.invoke(
        app, ["simulate", "recipient-pathway", "--print-spec", "--waves", "2", "--per-site", "~30"]
    )
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.output)
    assert data["design"]["waves"] == {"count": 2, "interval_months": 6.0}
    assert data["design"]["recipients"] == {"mean": 30.0, "distribution": "poisson"}
    saved = tmp_path / "spec.yaml"
    saved.write_text(result.output, encoding="utf-8")
    assert load_spec(saved).design.sites == 40  # what is printed reads back as a spec


def test_simulate_with_a_spec_file_and_a_model_file(tmp_path):
    model = tmp_path / "model.yaml"
    model.write_text(
        "model: two\nnodes:\n  - {id: s, type: strategy}\n  - {id: m, type: mechanism}\n"
        "  - {id: o, type: proximal outcome}\nedges:\n  - {from: s, to: m}\n  - {from: m, to: o}\n",
        encoding="utf-8",
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "design: {sites: 4, recipients: 5, randomization: {level: recipient}}\n"
        "paths: {s->m: 0.5, m->o: 0.3}\n",
        encoding="utf-8",
    )
    out = tmp_path / "study"
    result = runner.invoke(app, ["simulate", str(model), "--spec", str(spec), "-o", str(out), "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert (out / "data" / "recipients.csv").read_text(encoding="utf-8").startswith("recipient_id,site,arm")
    assert "s → m → o" in result.output


def test_bad_input_is_an_error_message_not_a_traceback(tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("keep", encoding="utf-8")
    moclab = str(Path(sys.executable).with_name("moclab"))
    done = subprocess.run(
        [moclab, "simulate", "recipient-pathway", "-o", str(taken)],
        capture_output=True,
        text=True,
        check=False,
        env=WIDE,
    )
    assert done.returncode == 2
    assert "moclab did not write" in done.stderr and "Traceback" not in done.stderr
    assert (taken / "keep.txt").read_text(encoding="utf-8") == "keep"
    assert sorted(item.name for item in taken.iterdir()) == ["keep.txt"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("design:\n  sites: 3\npaths:\n  isp_support->trusst: 0.5\n", encoding="utf-8")
    done = subprocess.run(
        [moclab, "simulate", "recipient-pathway", "--spec", str(bad), "-o", str(tmp_path / "new")],
        capture_output=True,
        text=True,
        check=False,
        env=WIDE,
    )
    assert done.returncode == 1
    assert "bad.yaml:4" in done.stderr and "isp_support->trust" in done.stderr
    assert not (tmp_path / "new").exists()
    # one readable message and the exit status of docs/cli.md, not an internal error
    result = runner.invoke(
        app, ["simulate", "recipient-pathway", "-o", str(tmp_path / "x"), "--per-site", "lots"]
    )
    assert result.exit_code == 2 and "--per-site 'lots' is not a whole number" in result.output
    result = runner.invoke(app, ["simulate", "no-such-template", "-o", str(tmp_path / "y")])
    assert result.exit_code == 1 and "'no-such-template'" in result.output
    result = runner.invoke(app, ["simulate", "recipient-pathway"])
    assert result.exit_code == 2 and "-o FOLDER" in result.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_per_site_is_a_range_to_draw_from_and_the_sweep_form_is_refused(tmp_path):
    result = runner.invoke(app, ["simulate", "recipient-pathway", "--print-spec", "--per-site", "20..50"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output)["design"]["recipients"] == {"range": [20, 50]}
    result = runner.invoke(app, ["simulate", "recipient-pathway", "--print-spec", "--per-site", "30"])
    assert yaml.safe_load(result.output)["design"]["recipients"] == 30
    old = runner.invoke(
        app, ["simulate", "recipient-pathway", "-o", str(tmp_path / "s"), "--per-site", "30:70"]
    )
    assert old.exit_code == 2
    assert "LOW..HIGH" in old.output and "START:STOP:STEP" in old.output  # both forms shown
    assert not (tmp_path / "s").exists()


def test_a_simulated_study_is_replaced_only_with_force(tmp_path):
    out = tmp_path / "sim"
    quick = [
        "simulate",
        "recipient-pathway",
        "-o",
        str(out),
        "--sites",
        "4",
        "--per-site",
        "5",
        "--waves",
        "2",
    ]
    assert runner.invoke(app, [*quick, "--seed", "1"]).exit_code == 0
    (out / "my-notes.txt").write_text("mine", encoding="utf-8")
    again = runner.invoke(app, [*quick, "--seed", "2"])
    assert again.exit_code == 2 and "--force" in again.output
    assert json.loads((out / "truth.json").read_text(encoding="utf-8"))["seed"] == 1
    forced = runner.invoke(app, [*quick, "--seed", "2", "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads((out / "truth.json").read_text(encoding="utf-8"))["seed"] == 2
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "mine"
    assert not list(tmp_path.glob(".*partial*"))
