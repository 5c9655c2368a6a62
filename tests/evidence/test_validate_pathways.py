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


def test_an_arm_without_a_declared_control_is_a_located_problem_not_an_alphabetical_guess(example_copy):
    """Coding the arm alphabetically would make 'intensive' the comparison and flip every sign."""
    folder, _ = example_copy()
    config = folder / "moclab.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("    control: usual\n", ""), encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip().startswith("randomization:"))
    result = runner.invoke(app, ["validate", str(folder)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert f"moclab.yaml:{line}" in result.output
    assert "lists the arms intensive, usual but no control arm" in result.output
    assert "add `control: <arm>` under design.randomization" in result.output


def test_an_observational_arm_without_control_cannot_be_analysed_without_a_coding(tmp_path):
    """No randomization, a category strategy and no control: `analyze` refuses to guess the coding."""
    import numpy as np
    import pytest

    from moclab.errors import ValidationError
    from moclab.evidence import analyze

    from .helpers import cross_sectional, write_study

    recipients, long = cross_sectional(n_sites=1, per_site=80, seed=3)
    recipients["arm"] = np.where(np.arange(80) % 2 == 0, "coached", "waiting")
    long = long[long["measure"] != "coaching"]
    folder = write_study(tmp_path / "obs", recipients=recipients, measures=long, waves=[{"id": "w1"}])
    with pytest.raises(ValidationError) as caught:
        analyze(folder, n_boot=100, seed=1, show_progress=False)
    (problem,) = caught.value.problems  # one problem for the design, not one per pathway
    assert problem.message == (
        "the strategy column 'arm' has the arms coached, waiting, and no control arm is declared, so moclab "
        "cannot tell which is the comparison"
    )
    assert problem.file.endswith("moclab.yaml") and problem.line is not None
    assert "design.randomization.control" in problem.hint
