"""The `evidence:` section of moclab.yaml: schema errors at their line (moclab validate), reference errors
at their line (moclab analyze), a pathway naming a variable the data lack, and option overrides."""

from __future__ import annotations

import pytest

from moclab.errors import StudyError, ValidationError
from moclab.evidence import EvidenceSettings, PathwaySpec, analyze, plan_pathways, resolve_settings
from moclab.study import load_study

TRUST = "isp_support__trust__acceptability"


def test_defaults_and_pathway_ids_as_text():
    settings = EvidenceSettings.model_validate({"pathways": [TRUST, {"id": "x", "outcome": "knowledge"}]})
    assert settings.pathways == [PathwaySpec(id=TRUST), PathwaySpec(id="x", outcome="knowledge")]
    assert settings.level == 0.95 and settings.alpha == pytest.approx(0.05)
    assert settings.n_boot == 5000 and settings.ci == "percentile" and settings.seed is None
    assert settings.thresholds.min_units == 3
    assert settings.pathway_spec("other") == PathwaySpec(id="other")


def test_the_example_study_has_the_default_section(example_study):
    assert example_study.config.evidence == EvidenceSettings()


def test_schema_errors_are_reported_by_the_loader_at_their_line(example_copy):
    folder, start = example_copy("evidence:\n  n_bot: 100\n  level: 1.5\n  thresholds:\n    min_units: 1\n")
    with pytest.raises(ValidationError) as info:
        load_study(folder, show_progress=False)
    problems = {p.line: p for p in info.value.problems}
    assert "unknown key 'n_bot'" in problems[start + 1].message
    assert problems[start + 1].hint == "did you mean 'n_boot'?"
    assert "evidence.level" in problems[start + 2].message
    assert "evidence.thresholds.min_units" in problems[start + 4].message


def test_references_are_checked_at_analysis_with_their_line(example_copy):
    text = (
        "evidence:\n"
        "  pathways:\n"
        f"    - {TRUST}\n"
        "    - isp_support__trust__acceptabilty\n"
        "  waves: {mechanism: m9}\n"
        "  covariates: [years_of_experience]\n"
        "  non_target_outcomes: [satisfaction]\n"
        "  links:\n"
        '    "trust=>knowledge": {sign: negative}\n'
        '    "trust->knowledge": {sign: negative}\n'
    )
    folder, start = example_copy(text)
    study = load_study(folder, show_progress=False)
    with pytest.raises(ValidationError) as info:
        plan_pathways(study, study.config.evidence)
    messages = {p.line: p for p in info.value.problems}
    assert all(p.file.endswith("moclab.yaml") for p in info.value.problems)
    assert "no pathway 'isp_support__trust__acceptabilty'" in messages[start + 3].message
    assert messages[start + 3].hint.startswith(f"did you mean '{TRUST}'")
    assert "'m9' is not a wave" in messages[start + 4].message
    assert "'years_of_experience' is not a recipients column" in messages[start + 5].message
    assert messages[start + 5].hint == "did you mean 'years_experience'?"
    assert "'satisfaction' is not a measure" in messages[start + 6].message
    assert "not a link" in messages[start + 8].message
    assert "no causal link trust -> knowledge" in messages[start + 9].message
    assert len(messages) == len(info.value.problems) == 6  # each problem once, at its own line


def test_a_pathway_naming_a_variable_absent_from_the_data_names_pathway_variable_and_model_line(example_copy):
    from moclab.study import example_path

    model = (example_path() / "model.yaml").read_text(encoding="utf-8")
    addition = (
        "  - id: motivation\n    type: mechanism\n    label: Motivation to use implementation science\n"
    )
    model = model.replace("\nedges:\n", "\n" + addition + "\nedges:\n")
    model += "  - {from: isp_support, to: motivation, type: acts through}\n"
    model += "  - {from: motivation, to: acceptability, type: leads to}\n"
    node_line = model.splitlines().index("  - id: motivation") + 1
    folder, _ = example_copy("evidence:\n  pathways: [isp_support__motivation__acceptability]\n", model)
    study = load_study(folder, show_progress=False)
    with pytest.raises(ValidationError) as info:
        analyze(study, n_boot=200, seed=1, show_progress=False)
    (problem,) = info.value.problems
    assert "pathway 'isp_support__motivation__acceptability'" in problem.message
    assert "the mechanism 'motivation' has no data" in problem.message
    assert problem.file.endswith("model.yaml") and problem.line == node_line
    assert "node:" in problem.hint


def test_option_overrides_and_invalid_options():
    base = EvidenceSettings.model_validate({"n_boot": 1000, "thresholds": {"min_units": 4}, "seed": 3})
    merged = resolve_settings(base, {"thresholds": {"min_dose_levels": 5}}, n_boot=300, seed=None)
    assert merged.n_boot == 300 and merged.seed == 3
    assert merged.thresholds.min_units == 4 and merged.thresholds.min_dose_levels == 5
    replaced = resolve_settings(base, EvidenceSettings(level=0.9))
    assert replaced.level == 0.9 and replaced.n_boot == 5000
    with pytest.raises(ValidationError) as info:
        resolve_settings(base, {"ci": "jackknife", "thresholds": {"min_unit": 3}})
    text = str(info.value)
    assert "evidence options" in text and "ci" in text and "min_unit" in text


def test_a_study_without_a_model_has_no_pathways(example_copy):
    folder, _ = example_copy()
    config = folder / "moclab.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("model: model.yaml", "model: null"))
    study = load_study(folder, show_progress=False)
    with pytest.raises(StudyError, match="names no pathway model"):
        analyze(study, show_progress=False)


def test_a_declared_pathway_without_data_is_located_at_its_entry(example_copy):
    from moclab.study import example_path

    model = (example_path() / "model.yaml").read_text(encoding="utf-8")
    model = model.replace(
        "\nedges:\n",
        "\n  - {id: motivation, type: mechanism}\n\nedges:\n",
    )
    model += "  - {from: isp_support, to: motivation}\n  - {from: motivation, to: knowledge}\n"
    model += "\npathways:\n  - id: via_motivation\n    nodes: [isp_support, motivation, knowledge]\n"
    line = model.splitlines().index("  - id: via_motivation") + 1
    folder, _ = example_copy("", model)
    study = load_study(folder, show_progress=False)
    with pytest.raises(ValidationError) as info:
        plan_pathways(study, study.config.evidence)
    (problem,) = info.value.problems
    assert problem.message.startswith("pathway 'via_motivation': the mechanism 'motivation' has no data")
    assert problem.line == line and problem.file.endswith("model.yaml")
