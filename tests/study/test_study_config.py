"""moclab.yaml: every malformed or inconsistent config is reported at its line, never with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_helpers import edit_text, find, line_of, problems_of

from moclab.errors import ConfigError, StudyError, ValidationError
from moclab.study import load_config, load_study
from moclab.study.config import read_config


def test_malformed_yaml_names_line_and_column(study_copy: Path) -> None:
    edit_text(study_copy / "moclab.yaml", "synthetic: true", "synthetic: [true")
    with pytest.raises(ConfigError) as caught:
        load_study(study_copy, show_progress=False)
    message = str(caught.value)
    line = line_of(study_copy / "moclab.yaml", "synthetic:")
    assert "moclab.yaml:" in message and "malformed YAML" in message
    assert f":{line}:" in message or f":{line + 1}:" in message  # the parser stops on the line or the next


def test_python_tags_are_refused_and_never_run(study_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "pwned.txt"
    edit_text(
        study_copy / "moclab.yaml",
        'title: "Recipient pathway trial (synthetic example)"',
        f'title: !!python/object/apply:builtins.open ["{target}", "w"]',
    )
    with pytest.raises(ConfigError) as caught:
        load_study(study_copy, show_progress=False)
    line = line_of(study_copy / "moclab.yaml", "title:")
    assert f"moclab.yaml:{line}:8: the YAML tag" in str(caught.value)
    assert "python/object/apply:builtins.open" in str(caught.value) and "not allowed" in str(caught.value)
    assert not target.exists()


def test_duplicate_key_is_refused_with_both_lines(study_copy: Path) -> None:
    first = line_of(study_copy / "moclab.yaml", "synthetic:")
    edit_text(study_copy / "moclab.yaml", "synthetic: true\n", "synthetic: true\nsynthetic: false\n")
    with pytest.raises(ConfigError, match=rf"duplicate key 'synthetic' \(first written on line {first}\)"):
        load_study(study_copy, show_progress=False)


def test_empty_and_missing_config(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match=r"no moclab\.yaml in this folder"):
        load_study(tmp_path, show_progress=False)
    (tmp_path / "moclab.yaml").write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no YAML content"):
        load_study(tmp_path, show_progress=False)
    (tmp_path / "moclab.yaml").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="the file is empty"):
        load_study(tmp_path, show_progress=False)
    with pytest.raises(StudyError, match="no such study folder"):
        load_study(tmp_path / "elsewhere", show_progress=False)


def test_non_utf8_config(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    config.write_bytes(config.read_text(encoding="utf-8").replace("Recipient", "Récipient").encode("cp1252"))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_study(study_copy, show_progress=False)


def test_config_that_is_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "moclab.yaml").write_text("- title\n- design\n", encoding="utf-8")
    config, _, problems = read_config(tmp_path / "moclab.yaml")
    assert config is None
    assert problems[0].line == 1 and "expected a mapping of keys" in problems[0].message


def test_unknown_keys_get_did_you_mean_at_their_line(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit_text(config, "    value: value\n    date: date\n", "    valeu: value\n    date: date\n")
    problems = problems_of(study_copy)
    problem = find(problems, "unknown key 'valeu'")
    assert (problem.line, problem.column) == (line_of(config, "    valeu:"), 5)
    assert problem.hint == "did you mean 'value'?"
    assert len([p for p in problems if p.severity == "error"]) == 1  # the rest of the study was still checked


def test_wrong_types_are_located(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit_text(config, "synthetic: true", "synthetic: perhaps")
    edit_text(config, "range: [1, 5], level: individual}\n  psych", "range: [1], level: individual}\n  psych")
    edit_text(config, "years_experience: {type: integer,", "years_experience: {type: whole,")
    problems = problems_of(study_copy)
    synthetic = find(problems, "'synthetic'")
    assert synthetic.line == line_of(config, "synthetic:") and "perhaps" in synthetic.message
    ranged = find(problems, "'measures.positive_emotion.range")
    assert ranged.line == line_of(config, "  positive_emotion:")
    typed = find(problems, "'tables.recipients.columns.years_experience.type'")
    assert typed.line == line_of(config, "      years_experience:") and "'whole'" in typed.message


def test_missing_required_key_stops_at_the_config(study_copy: Path) -> None:
    edit_text(study_copy / "moclab.yaml", 'title: "Recipient pathway trial (synthetic example)"\n', "")
    problems = problems_of(study_copy)
    assert [p.message for p in problems] == ["'title' is required but missing"]


def test_invalid_date_in_yaml_is_a_located_problem(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit_text(config, "date: 2024-07-15", "date: 2024-13-45")
    problem = find(problems_of(study_copy), "'design.waves.1.date'")
    assert problem.line == line_of(config, "    - {id: m6")


def test_semantic_config_problems(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit_text(config, "{id: m12, label: 12 months", "{id: m6, label: 12 months")
    edit_text(config, "    control: usual", "    control: usaul")
    edit_text(config, "    level: site                 #", "    level: sit                  #")
    edit_text(config, "values: [leader, manager, staff]", "values: [leader, manager, staff, yes]")
    edit_text(config, "label: Trust in the ISPs, range: [1, 5]", "label: Trust in the ISPs, range: [5, 1]")
    edit_text(config, "frameworks: []", "frameworks: [my-frameworks.yaml]")
    problems = problems_of(study_copy)
    assert find(problems, "wave id 'm6' is used twice (waves 2 and 3)").line == line_of(
        config, "    - {id: m6, label: 12"
    )
    control = find(problems, "the control arm 'usaul' is not one of the arms")
    assert control.hint == "did you mean 'usual'?" and control.line == line_of(config, "    control:")
    level = find(problems, "design.randomization.level 'sit' is not a level of this study")
    assert level.hint == "did you mean 'site'?"
    yes = find(problems, "column 'role': YAML read some allowed values as true/false")
    assert yes.line == line_of(config, "      role:") and "quotes" in yes.hint
    assert find(problems, "measure 'trust': range [5, 1] is empty").line == line_of(config, "  trust:")
    assert find(problems, "framework file 'my-frameworks.yaml' was not found").line == line_of(
        config, "frameworks:"
    )


def test_missing_model_file_and_unknown_node(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit_text(config, "node: better_outcomes", "node: beter_outcomes")
    problems = problems_of(study_copy)
    node = find(problems, "'beter_outcomes' is not a node of the pathway model")
    assert node.hint == "did you mean 'better_outcomes'?" and node.line == line_of(config, "    node: beter")
    (study_copy / "model.yaml").unlink()
    missing = find(problems_of(study_copy), "the pathway model file 'model.yaml' was not found")
    assert missing.line == line_of(config, "model:")


def test_model_errors_join_the_study_problems(study_copy: Path) -> None:
    model = study_copy / "model.yaml"
    edit_text(
        model,
        "  - {from: knowledge, to: application, type: leads to}",
        "  - {from: knowledge, to: aplication}",
    )
    problem = find(problems_of(study_copy), "aplication")
    assert problem.file.endswith("model.yaml") and problem.line == line_of(
        model, "  - {from: knowledge, to: apl"
    )


def test_activities_need_someone_to_belong_to(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit_text(
        config,
        "    cluster: site\n    recipient: recipient_id     # empty",
        "    recipient_id: recipient_id     # empty",
    )
    problems = problems_of(study_copy)
    find(problems, "unknown key 'recipient_id'")
    find(problems, "tables.activities names neither a cluster nor a recipient column")


def test_load_config_alone(study_copy: Path) -> None:
    config = load_config(study_copy)
    assert config.design.wave_ids == ["baseline", "m6", "m12"]
    assert config.node_of("service_outcomes") == "better_outcomes" and config.node_of("trust") == "trust"
    edit_text(study_copy / "moclab.yaml", "synthetic: true", "synthetic: true\nsynthetik: true")
    with pytest.raises(ValidationError, match="unknown key 'synthetik'"):
        load_config(study_copy)
