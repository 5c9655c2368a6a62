"""The `qualitative:` section of moclab.yaml: schema, and what the study loader checks, at the YAML line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from study_helpers import find, line_of, problems_of

from moclab.qual import example_project_path
from moclab.study import load_study
from moclab.study.qualitative_settings import QualitativeSettings


def add_section(study: Path, section: str, project: bool = True) -> Path:
    """Append a `qualitative:` section to the study's moclab.yaml (and copy the example interviews)."""
    if project:
        (study / "qual").mkdir(exist_ok=True)
        shutil.copyfile(example_project_path(), study / "qual" / "project.qdpx")
    config = study / "moclab.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\nqualitative:\n" + section, encoding="utf-8")
    return config


def last_line_of(path: Path, startswith: str) -> int:
    """The 1-based number of the last line starting with `startswith` (the section is appended last)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return max(number for number, text in enumerate(lines, start=1) if text.startswith(startswith))


def test_a_valid_section_loads_with_its_defaults(study_copy):
    add_section(
        study_copy,
        "  project: qual/project.qdpx\n"
        "  codes:\n"
        "    trust: Trust\n"
        "    acceptability: [Acceptability, Feasibility]\n",
    )
    study = load_study(study_copy, show_progress=False)
    section = study.config.qualitative
    assert section.project == "qual/project.qdpx"
    assert section.codes == {"trust": ("Trust",), "acceptability": ("Acceptability", "Feasibility")}
    assert section.min_interviews == 2 and section.max_quotes == 3 and section.coders is None
    assert section.unit == "case" and section.position == "first" and section.contradictions == {}


def test_no_section_means_none(study_copy):
    assert load_study(study_copy, show_progress=False).config.qualitative is None


def test_a_missing_project_file_is_located(study_copy):
    config = add_section(study_copy, "  project: qual/interviews.qdpx\n", project=False)
    problems = problems_of(study_copy)
    problem = find(problems, "'qual/interviews.qdpx' was not found", line=line_of(config, "  project:"))
    assert problem.file == "moclab.yaml" and "REFI-QDA" in problem.hint


def test_unknown_nodes_in_codes_and_contradictions_are_located(study_copy):
    config = add_section(
        study_copy,
        "  project: qual/project.qdpx\n"
        "  codes:\n"
        "    trusst: Trust\n"
        "  contradictions:\n"
        "    trust->acceptabilty: [Did not help]\n"
        "    just words: [Did not help]\n",
    )
    problems = problems_of(study_copy)
    node = find(problems, "'trusst' is not a node of the pathway model", line=line_of(config, "    trusst:"))
    assert node.hint == "did you mean 'trust'?"
    link = find(problems, "'acceptabilty' (in 'trust->acceptabilty')", line=line_of(config, "    trust->"))
    assert link.hint == "did you mean 'acceptability'?"
    find(problems, "'just words' is not a link", line=line_of(config, "    just words:"))
    assert len([p for p in problems if p.severity == "error"]) == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("project.qdpx", b"plain text, not a zip archive", "is not a REFI-QDA archive"),
        ("interview.txt", b"I: hello\nR: hi\n", "holds no coded interviews (.txt file)"),
        ("codebook.qdc", b"<CodeBook/>", "holds no coded interviews (.qdc file)"),
        ("project.nvp", b"binary", "is not a REFI-QDA project (.qdpx or .qde)"),
    ],
)
def test_files_that_are_not_coded_projects_are_refused(study_copy, name, content, message):
    (study_copy / "qual").mkdir()
    (study_copy / "qual" / name).write_bytes(content)
    config = add_section(study_copy, f"  project: qual/{name}\n", project=False)
    find(problems_of(study_copy), message, line=line_of(config, "  project:"))


def test_a_folder_is_not_a_project(study_copy):
    (study_copy / "qual").mkdir()
    config = add_section(study_copy, "  project: qual\n", project=False)
    find(problems_of(study_copy), "holds no coded interviews (a folder)", line=line_of(config, "  project:"))


def test_schema_errors_are_located_with_a_did_you_mean(study_copy):
    config = add_section(
        study_copy,
        "  project: qual/project.qdpx\n"
        "  min_interview: 3\n"
        "  max_quotes: 20\n"
        "  unit: paragraph\n"
        "  codes:\n"
        "    trust: []\n",
    )
    problems = problems_of(study_copy)
    typo = find(problems, "unknown key 'min_interview'", line=line_of(config, "  min_interview:"))
    assert typo.hint == "did you mean 'min_interviews'?"
    find(problems, "'qualitative.max_quotes'", line=line_of(config, "  max_quotes:"))
    find(problems, "'qualitative.unit'", line=last_line_of(config, "  unit:"))
    find(problems, "'trust' names no code", line=last_line_of(config, "  codes:"))


def test_the_project_key_is_required():
    with pytest.raises(Exception, match="project"):
        QualitativeSettings.model_validate({"codes": {"trust": "Trust"}})
    settings = QualitativeSettings.model_validate({"project": "p.qdpx", "codes": {"trust": "Trust"}})
    assert settings.codes == {"trust": ("Trust",)}
