"""`moclab instruments list | show` and `moclab score` through the real command-line application."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.study import example_path

runner = CliRunner()
MOCLAB = [sys.executable, "-m", "moclab"]  # the installed command, in this interpreter
WIDE = {**os.environ, "COLUMNS": "300"}  # messages on one line


def test_instruments_list() -> None:
    result = runner.invoke(app, ["instruments", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in ("aim", "oric", "team-psychological-safety", "Implementation Climate Scale", "not verified"):
        assert text in result.output


def test_instruments_show_items_keys_licence_and_marks() -> None:
    result = runner.invoke(app, ["instruments", "show", "team-psychological-safety"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    output = result.output
    assert "psafe_1, psafe_3, psafe_5" in output and "labels only; wording not shipped" in output
    assert "Edmondson A. Psychological safety" in output and "permission" in output
    assert "scale" in output and "not verified: check the source" in output
    assert "at least 4 of 7 answered" in output
    oric = runner.invoke(app, ["instruments", "show", "ORIC"], env={"COLUMNS": "200"})
    assert "change_commitment" in oric.output and "do whatever it takes" in oric.output


def test_instruments_show_json_and_a_user_file(tmp_path: Path, instrument_file: Path) -> None:
    result = runner.invoke(
        app, ["instruments", "show", "team-climate", "--path", str(instrument_file), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scoring"] == "sum" and data["items"][2]["reverse"] is True
    assert data["subscales"]["cooperation"]["min_items"] == 2 and data["verified"] is False


def test_unknown_instrument_is_a_clean_error() -> None:
    completed = subprocess.run(
        [*MOCLAB, "instruments", "show", "orc"], capture_output=True, text=True, check=False, env=WIDE
    )
    assert completed.returncode == 1
    assert "unknown instrument 'orc'" in completed.stderr and "did you mean 'oric'?" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_score_prints_scores_reliability_and_aggregation() -> None:
    result = runner.invoke(app, ["score", str(example_path()), "--n-boot", "100"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    output = result.output
    assert "Scale scores" in output and "Reliability per scale and wave" in output
    assert "Aggregation to the group" in output and "psych_safety" in output and "acceptability" in output
    assert "alpha" in output and "omega" in output and "ICC(2) is" in output
    assert "one-way ANOVA estimator with n0" in output  # the ICC(1) estimator is named
    # no --seed: one is drawn and printed, and giving it repeats the run
    seed = int(output.split("bootstrap resamples, seed ")[1].split()[0])
    again = runner.invoke(
        app, ["score", str(example_path()), "--n-boot", "100", "--seed", str(seed)], env={"COLUMNS": "200"}
    )
    assert again.exit_code == 0 and again.output.strip() == output.strip()


def test_score_json_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app, ["score", str(example_path()), "--json", "--n-boot", "50", "--seed", "7", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["seed"] == 7 and report["n_boot"] == 50
    measures = {row["measure"] for row in report["scores"]}
    assert measures == {"psych_safety", "acceptability", "appropriateness", "feasibility"}
    alpha = [
        r for r in report["reliability"] if r["coefficient"] == "alpha" and r["scale"] == "acceptability"
    ]
    assert [r["wave"] for r in alpha] == ["baseline", "m6", "m12"] and all(
        0 < r["estimate"] < 1 for r in alpha
    )
    [aggregation] = [r for r in report["aggregation"] if r["wave"] == "baseline"]
    assert aggregation["level"] == "team" and aggregation["groups"] == 29
    scores = pd.read_csv(out)
    assert {"measure", "recipient_id", "wave", "scale", "score", "answered", "prorated", "reason"} <= set(
        scores
    )
    # the file is not overwritten without --force
    again = runner.invoke(app, ["score", str(example_path()), "-o", str(out)])
    assert again.exit_code == 2 and "the file exists" in again.output and "--force" in again.output
    forced = runner.invoke(app, ["score", str(example_path()), "-o", str(out), "--force", "--n-boot", "0"])
    assert forced.exit_code == 0, forced.output


def test_score_a_study_without_instruments(tmp_path: Path) -> None:
    copy = tmp_path / "study"
    shutil.copytree(example_path(), copy)
    config = copy / "moclab.yaml"
    text = config.read_text(encoding="utf-8")
    for name in ("aim", "iam", "fim", "team-psychological-safety"):
        text = text.replace(f"instrument: {name}, ", "")
    config.write_text(text, encoding="utf-8")
    measures = copy / "data" / "measures.csv"
    lines = measures.read_text(encoding="utf-8").split("\n")
    kept = [line for line in lines if not any(f",{p}_" in line for p in ("aim", "iam", "fim", "psafe"))]
    measures.write_text("\n".join(kept), encoding="utf-8")
    completed = subprocess.run(
        [*MOCLAB, "score", str(copy)], capture_output=True, text=True, check=False, env=WIDE
    )
    assert completed.returncode == 1 and "no measure is scored from instrument items" in completed.stderr
