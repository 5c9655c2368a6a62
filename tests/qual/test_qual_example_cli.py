"""The bundled synthetic example project, and the `moclab qual` import/export/validate/codebook/example
commands."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.qual import example_project_path, read_project, validate_file

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_example_qual", ROOT / "scripts" / "make_example_qual.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_project_is_small_valid_and_labelled_synthetic():
    path = example_project_path()
    assert path.stat().st_size < 200_000
    assert validate_file(path) == []
    project = read_project(path)
    assert "SYNTHETIC" in project.name and "No real people" in project.description
    assert project.warnings == []
    counts = project.counts()
    assert (counts["sources"], counts["cases"], counts["notes"], counts["users"]) == (12, 12, 12, 2)
    engagement = [case.variables["engagement"] for case in project.cases]
    assert sorted(engagement) == ["high"] * 6 + ["limited"] * 6
    assert all(isinstance(case.variables["months_of_support"], int) for case in project.cases)
    for source in project.sources:
        assert len(source.note_refs) == 1 and project.note(source.note_refs[0]).text
        assert {s.creator for s in source.selections} == {u.guid for u in project.users}  # both coders


def test_example_coders_agree_partly():
    frame = read_project(example_project_path()).codings_frame()
    a = frame[frame["coder"] == "Coder A"].set_index(["source", "start", "end"])["code_name"]
    b = frame[frame["coder"] == "Coder B"].set_index(["source", "start", "end"])["code_name"]
    same_span = a.index.intersection(b.index)
    agree = (a.loc[same_span] == b.loc[same_span]).mean()
    assert 0.6 < agree < 0.98  # mostly, not always, the same code on the same words
    assert len(same_span) < min(len(a), len(b))  # and some boundaries differ
    assert set(frame["code_name"]) <= {c.name for c in read_project(example_project_path()).codes}


def test_example_is_reproduced_by_its_script(tmp_path):
    generator = load_generator()
    rebuilt = generator.build()
    bundled = read_project(example_project_path())
    assert rebuilt.codings_frame().equals(bundled.codings_frame())
    assert rebuilt.notes == bundled.notes and rebuilt.cases == bundled.cases
    assert [s.text for s in rebuilt.sources] == [s.text for s in bundled.sources]


def test_example_texts_are_what_the_markup_says():
    generator = load_generator()
    text, spans = generator.parse_text("R: {trust: I trust them.} And {A>cred: they know}.")
    assert text == "R: I trust them. And they know."
    assert spans == [(3, 16, "trust", "AB"), (21, 30, "cred", "A")]


runner = CliRunner()


def test_cli_example_import_validate_export(tmp_path):
    target = tmp_path / "ex.qdpx"
    result = runner.invoke(app, ["qual", "example", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == example_project_path().read_bytes()
    again = runner.invoke(app, ["qual", "example", str(target)])
    assert again.exit_code == 2 and "the file exists" in again.output and "--force" in again.output
    assert runner.invoke(app, ["qual", "example", str(target), "--force"]).exit_code == 0
    result = runner.invoke(app, ["qual", "import", str(target), "--summary"])
    assert result.exit_code == 0, result.output
    assert "12 sources" in result.output and "191 codings" in result.output
    assert "Coder A (98), Coder B (93)" in result.output
    assert "engagement (Text)" in result.output
    result = runner.invoke(app, ["qual", "import", str(target), "--json"])
    info = json.loads(result.output)
    assert info["counts"]["cases"] == 12 and info["warnings"] == []
    result = runner.invoke(app, ["qual", "validate", str(target)])
    assert result.exit_code == 0 and "valid against the REFI-QDA schema" in result.output
    result = runner.invoke(app, ["qual", "export", str(target), "-o", str(tmp_path / "ex.qde")])
    assert result.exit_code == 0, result.output
    assert read_project(tmp_path / "ex.qde").counts() == read_project(target).counts()


def test_cli_validate_reports_problems_and_exits_1(tmp_path):
    bad = tmp_path / "bad.qde"
    bad.write_text('<Project xmlns="urn:QDA-XML:project:1.0"><Bogus/></Project>')
    result = runner.invoke(app, ["qual", "validate", str(bad)])
    assert result.exit_code == 1
    assert "2 schema problem(s)" in result.output  # the missing name and the unknown element
    result = runner.invoke(app, ["qual", "validate", str(bad), "--json"])
    assert json.loads(result.output)["ok"] is False


def test_cli_codebook(tmp_path):
    out = tmp_path / "isp.qdc"
    result = runner.invoke(app, ["qual", "codebook", "isp-competencies", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "18 codes (15 to code with, 3 folders)" in result.output
    assert validate_file(out) == []
    result = runner.invoke(app, ["qual", "codebook", "cfir", "-o", str(tmp_path / "c.qdc")])
    assert result.exit_code == 1 and "did you mean 'cfir2'" in result.output
    result = runner.invoke(app, ["qual", "codebook", "cfir2", "-o", str(tmp_path / "c.txt")])
    assert result.exit_code == 1 and "written as .qdc" in result.output


def test_cli_transcripts_with_codebook_to_qdpx(tmp_path):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "r01.txt").write_text("I: Hi\r\nR: I trust them.\r\n", encoding="utf-8")
    book = tmp_path / "codes.csv"
    book.write_text("name,parent\nAffect,\nTrust,Affect\n", encoding="utf-8")
    out = tmp_path / "coded.qdpx"
    result = runner.invoke(app, ["qual", "export", str(folder), "--codebook", str(book), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        texts = [n for n in archive.namelist() if n.endswith(".txt")]
        assert archive.read(texts[0]) == b"I: Hi\nR: I trust them.\n"
    assert [c.name for c in read_project(out).codes] == ["Affect", "Trust"]


@pytest.mark.parametrize("bad", ["nothing.qdpx", "nothing.txt"])
def test_cli_import_missing_file(tmp_path, bad):
    result = runner.invoke(app, ["qual", "import", str(tmp_path / bad)])
    assert result.exit_code == 1 and "no such file" in result.output
