"""`moclab validate` checks what `moclab analyze` would need: the pathways and the `evidence:` section."""

from __future__ import annotations

from typer.testing import CliRunner

from moclab.cli.main import app

runner = CliRunner()


def test_validate_counts_the_pathways_to_judge(example_copy):
    folder, _ = example_copy()
    result = runner.invoke(app, ["validate", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "12 pathways ready for `moclab analyze`" in result.output


def test_validate_reports_a_bad_evidence_reference_at_its_line(example_copy):
    folder, start = example_copy("evidence:\n  pathways: [isp_support__trust__acceptabilty]\n")
    result = runner.invoke(app, ["validate", str(folder)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert f"moclab.yaml:{start + 1}" in result.output
    assert "no pathway 'isp_support__trust__acceptabilty'" in result.output
    assert "did you mean 'isp_support__trust__acceptability'" in result.output
    assert "ready for `moclab analyze`" not in result.output


def test_validate_json_lists_the_evidence_problems(example_copy):
    import json

    folder, start = example_copy("evidence:\n  waves: {mechanism: m9}\n")
    result = runner.invoke(app, ["validate", str(folder), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert [(p["line"], "'m9' is not a wave" in p["message"]) for p in payload["problems"]] == [
        (start + 1, True)
    ]


def test_a_strategy_with_one_arm_is_a_located_problem_not_a_crash(example_copy):
    import pandas as pd

    folder, _ = example_copy()
    recipients = pd.read_csv(folder / "data" / "recipients.csv")
    recipients["arm"] = "usual"
    recipients.to_csv(folder / "data" / "recipients.csv", index=False)
    result = runner.invoke(app, ["validate", str(folder)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "the strategy column 'arm' has 1 value(s) (usual); there is nothing to compare" in result.output
    assert "model.yaml:" in result.output
