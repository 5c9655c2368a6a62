"""`moclab power`: checks before any simulation, the one-screen answer, --verbose, the report folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.cli.output import exit_code
from moclab.errors import UsageError

runner = CliRunner()
QUICK = ["--reps", "4", "--method", "joint", "--seed", "1"]


@pytest.fixture
def single_mediator_files(tmp_path, mediator_model, mackinnon_spec):
    model_file = tmp_path / "model.yaml"
    model_file.write_text(
        yaml.safe_dump(mediator_model.model_dump(mode="json", exclude_none=True)), encoding="utf-8"
    )
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(mackinnon_spec(0.39, 0.39, 60)), encoding="utf-8")
    return model_file, spec_file


def _power_args(model_file, spec_file, out):
    return [
        "power",
        str(model_file),
        "--spec",
        str(spec_file),
        "--sites",
        "1",
        "--per-site",
        "40:100:20",
        "--reps",
        "60",
        "--method",
        "joint",
        "--seed",
        "3",
        "-o",
        str(out),
    ]


def test_power_command_writes_the_report_and_says_what_was_not_testable(tmp_path, single_mediator_files):
    out = tmp_path / "out"
    args = _power_args(*single_mediator_files, out)
    result = runner.invoke(app, args, env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "Recipients per site needed for power 0.80" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".moclab-output",
        "index.html",
        "power.csv",
        "power.json",
        "power_curve.png",
        "power_curve.svg",
    ]
    # One mechanism and nothing to compare it with: specificity was never testable, so it has no power.
    table = pd.read_csv(out / "power.csv")
    specificity = table[table["quantity"] == "criterion:specificity"]
    assert len(specificity) == 4
    assert specificity["power"].isna().all() and (specificity["not_testable"] == 1).all()
    assert (~specificity["testable"]).all()
    assert specificity["reason"].str.contains("no competing mechanism was measured").all()
    assert "not testable" in result.output and "no competing mechanism was measured" in result.output
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<script" not in page and "http://" not in page.split("<svg", 1)[0]
    text = re.sub(r"<svg.*?</svg>", "", page, flags=re.DOTALL)
    assert "None" not in text and not re.search(r"\bnan\b", text, flags=re.IGNORECASE)
    assert "not testable" in text and "Specificity" in text
    payload = json.loads((out / "power.json").read_text(encoding="utf-8"))
    assert payload["settings"]["seed"] == 3
    answers = {row["quantity"]: row for row in payload["answers"]}
    assert answers["criterion:specificity"]["status"] == "not testable"
    assert payload["sample_size"]["x__m__y"]["dimension"] == "per_site"
    assert (out / "power_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_output_folder_is_replaced_only_with_force_and_user_files_stay(tmp_path, single_mediator_files):
    out = tmp_path / "out"
    args = _power_args(*single_mediator_files, out)
    args[args.index("60")] = "5"
    assert runner.invoke(app, args).exit_code == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    refused = runner.invoke(app, args)
    assert isinstance(refused.exception, UsageError) and exit_code(refused.exception) == 2
    assert "--force" in refused.exception.hint
    again = runner.invoke(app, [*args, "--force"])
    assert again.exit_code == 0, again.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sites", "60:10"], "not a sweep"),
        (["--sites", "10..20"], "range to draw from"),
        (["--reps", "0"], "--reps 0"),
        (["--target", "1.5"], "--target 1.5"),
        (["--cost-site", "-5"], "--cost-site"),
        (["--n-mc", "10"], "--n-mc 10"),
        (["--jobs", "0"], "--jobs 0"),
        (["--method", "bca"], "unknown method"),
        (["--criteria", "some"], "--criteria some"),
        (["--pathway", "nope"], "unknown pathway"),
        (["-o", "power.html"], "writes a folder, not a file"),
    ],
)
def test_bad_arguments_are_refused_before_any_simulation(args, message, monkeypatch, tmp_path):
    def no_simulation(*_args, **_kwargs):
        raise AssertionError("the simulations started before the arguments were checked")

    monkeypatch.setattr("moclab.design.power.run_tasks", no_simulation)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["power", "recipient-pathway", "--sites", "8", *QUICK, *args])
    assert isinstance(result.exception, UsageError), result.exception
    assert message in str(result.exception)
    assert exit_code(result.exception) == 2


def test_a_folder_of_other_files_is_refused_before_any_simulation(monkeypatch, tmp_path):
    monkeypatch.setattr("moclab.design.power.run_tasks", lambda *a, **k: pytest.fail("simulated"))
    (tmp_path / "mine.csv").write_text("x\n1\n", encoding="utf-8")
    result = runner.invoke(app, ["power", "recipient-pathway", *QUICK, "--force", "-o", str(tmp_path)])
    assert isinstance(result.exception, UsageError) and "did not write" in str(result.exception)
    assert (tmp_path / "mine.csv").read_text(encoding="utf-8") == "x\n1\n"


BAD = ["--target", "2"]


def test_usage_errors_exit_with_status_2():
    completed = subprocess.run(
        [sys.executable, "-c", "from moclab.cli.main import run; run()", "power", "recipient-pathway", *BAD],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "--target 2" in completed.stderr and "Traceback" not in completed.stderr


@pytest.fixture(scope="module")
def template_run():
    """All twelve pathways of the template at 6 and 8 sites (few replications), compact and verbose."""
    args = ["power", "recipient-pathway", "--sites", "6,8", *QUICK]
    compact = runner.invoke(app, args, env={"COLUMNS": "80"})
    verbose = runner.invoke(app, [*args, "--verbose"], env={"COLUMNS": "80"})
    return compact, verbose


def test_default_output_is_one_screen_of_answers_per_pathway_and_criterion(template_run):
    compact, _ = template_run
    assert compact.exit_code == 0, compact.output
    lines = compact.stdout.splitlines()
    # seven criteria of twelve pathways: the three read from the mediation model, then the other four
    assert len(lines) <= 48
    assert max(len(line) for line in lines) <= 80
    text = compact.stdout
    assert "Sites needed for power 0.80" in text
    first, second = (i for i, line in enumerate(lines) if line.startswith("mechanism → outcome"))
    for column in ("association", "specificity", "manipulation"):
        assert column in lines[first]
    for column in ("consistency", "timeline", "gradient", "plausibility"):
        assert column in lines[second]
    for mechanism in ("trust", "psych_safety", "positive_emotion", "credibility"):
        assert mechanism in text
    # Never extrapolated: a criterion not reached at 8 sites says so and how to simulate larger sizes.
    assert "> 8 (" in text and "not reached within the sizes simulated" in text
    assert "--sites 10:16:2" in text
    assert "About" not in text
    assert "not judged" not in text


def test_verbose_prints_every_power_of_every_design(template_run):
    compact, verbose = template_run
    assert verbose.exit_code == 0, verbose.output
    lines = verbose.stdout.splitlines()
    assert len(lines) > len(compact.stdout.splitlines()) + 100
    assert max(len(line) for line in lines) <= 80
    assert "isp_support → trust → acceptability" in [line.strip() for line in lines]
    for row in ("a path", "b path", "joint test", "Sobel test", "recipients analysed"):
        assert row in verbose.stdout
    assert "…" not in verbose.stdout  # no truncated header
    assert "Fitted curve:" in verbose.stdout


def test_costs_order_the_designs_and_give_the_cheapest_fitted_design():
    result = runner.invoke(
        app,
        [
            "power",
            "recipient-pathway",
            "--sites",
            "8,40",
            "--per-site",
            "15",
            *QUICK,
            "--pathway",
            "isp_support__trust__acceptability",
            "--cost-site",
            "5000",
            "--cost-recipient",
            "50",
            "--verbose",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "trust" in result.output and "acceptability" in result.output
    assert "Cheapest design reaching power 0.80" in result.output
    assert "isp_support → trust → acceptability" in result.output
