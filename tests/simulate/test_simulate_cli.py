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
from moclab.errors import MoclabError
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
            "8:12",
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
    assert done.returncode == 1
    assert "not empty" in done.stderr and "Traceback" not in done.stderr
    assert (taken / "keep.txt").read_text(encoding="utf-8") == "keep"
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
    # a MoclabError (printed without a traceback by main.run), not an internal error
    result = runner.invoke(
        app, ["simulate", "recipient-pathway", "-o", str(tmp_path / "x"), "--per-site", "lots"]
    )
    assert isinstance(result.exception, MoclabError) and "--per-site 'lots'" in str(result.exception)
    result = runner.invoke(app, ["simulate", "no-such-template", "-o", str(tmp_path / "y")])
    assert isinstance(result.exception, MoclabError) and "'no-such-template'" in str(result.exception)
    result = runner.invoke(app, ["simulate", "recipient-pathway"])
    assert isinstance(result.exception, MoclabError) and "-o FOLDER" in str(result.exception)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
