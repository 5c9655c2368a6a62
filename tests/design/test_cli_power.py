"""`moclab power`: tables, sample size, the report folder, and clear errors."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from moclab.cli.design import parse_sizes
from moclab.cli.main import app
from moclab.errors import MoclabError

runner = CliRunner()


def test_parse_sizes():
    assert parse_sizes("10:60:10", "--sites") == [10, 20, 30, 40, 50, 60]
    assert parse_sizes("3:5", "--waves") == [3, 4, 5]
    assert parse_sizes("40,10,20", "--sites") == [10, 20, 40]
    assert parse_sizes("30", "--sites") == [30]
    assert parse_sizes(None, "--sites") is None
    for bad in ("60:10", "0:10", "10:60:0", "ten", "10;20", "-5"):
        with pytest.raises(MoclabError):
            parse_sizes(bad, "--sites")


def test_power_command_writes_the_report(tmp_path, mediator_model, mackinnon_spec):
    model_file = tmp_path / "model.yaml"
    model_file.write_text(
        yaml.safe_dump(mediator_model.model_dump(mode="json", exclude_none=True)), encoding="utf-8"
    )
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(mackinnon_spec(0.39, 0.39, 60)), encoding="utf-8")
    out = tmp_path / "out"
    args = [
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
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "recipients per site reach power 0.80" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "index.html",
        "power.csv",
        "power.json",
        "power_curve.png",
        "power_curve.svg",
    ]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<script" not in page and "http://" not in page.split("<svg", 1)[0]
    payload = json.loads((out / "power.json").read_text(encoding="utf-8"))
    assert payload["settings"]["seed"] == 3 and payload["sample_size"]["dimension"] == "per_site"
    assert (out / "power_curve.png").read_bytes()[:4] == b"\x89PNG"
    # Nothing is overwritten.
    again = runner.invoke(app, args)
    assert again.exit_code != 0


def test_power_command_on_the_template(tmp_path):
    result = runner.invoke(
        app,
        [
            "power",
            "recipient-pathway",
            "--sites",
            "8,40",
            "--per-site",
            "15",
            "--reps",
            "8",
            "--pathway",
            "isp_support__trust__acceptability",
            "--seed",
            "1",
            "--method",
            "joint",
            "--cost-site",
            "5000",
            "--cost-recipient",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "isp_support → trust → acceptability" in result.output
    assert "Cheapest design reaching power 0.80" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sites", "60:10"], "not a range"),
        (["--method", "bca"], "unknown method"),
        (["--pathway", "nope"], "unknown pathway"),
    ],
)
def test_power_command_errors(args, message):
    result = runner.invoke(app, ["power", "recipient-pathway", "--reps", "2", *args])
    assert result.exit_code != 0
    assert message in str(result.exception) + result.output
