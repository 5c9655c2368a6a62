"""`moclab qual analyze | agreement | deidentify` run in process (typer's CliRunner)."""

from __future__ import annotations

import json
import re

import pandas as pd
from qual_builders import build_project
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.qual import read_project, write_project

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_analyze_the_bundled_example(tmp_path):
    out = tmp_path / "results"
    done = invoke("qual", "analyze", "-o", str(out))
    assert done.exit_code == 0, done.output
    assert "bundled synthetic example" in done.output and "2 coders" in done.output
    names = {p.name for p in out.iterdir()}
    assert {
        "profiles.html",
        "profiles.md",
        "pathway.svg",
        "pathway.png",
        "pathway.dot",
        "pathway_edges.csv",
        "sequences.csv",
        "matrix_counts.csv",
        "matrix_coverage_percent.csv",
        "cooccurrence_overlap.csv",
        "cooccurrence_paragraph.csv",
        "prevalence.csv",
        "agreement.csv",
    } <= names
    agreement = pd.read_csv(out / "agreement.csv", index_col=0)
    assert (
        agreement.loc["(all codes)", "units"] > 0 and -1 <= agreement.loc["(all codes)", "cohens_kappa"] <= 1
    )
    prevalence = pd.read_csv(out / "prevalence.csv")
    assert {"n_high", "n_limited", "p", "p_holm"} <= set(prevalence.columns)
    assert (out / "pathway.png").read_bytes().startswith(b"\x89PNG")
    assert (out / ".moclab-output").read_text().startswith("written by moclab qual analyze\n")
    # an earlier output is replaced only with --force (docs/cli.md), and a file of the user's stays
    (out / "my-notes.txt").write_text("mine")
    (out / "agreement.csv").write_text("stale")
    again = invoke("qual", "analyze", "-o", str(out))
    assert again.exit_code == 2 and "earlier `moclab qual analyze`" in again.stderr
    assert (out / "agreement.csv").read_text() == "stale"
    assert invoke("qual", "analyze", "-o", str(out), "--coder", "Coder A", "--force").exit_code == 0
    assert (out / "agreement.csv").read_text() != "stale" and (out / "my-notes.txt").read_text() == "mine"
    # a folder holding files moclab did not write is refused, even with --force
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.docx").write_text("mine")
    refused = invoke("qual", "analyze", "-o", str(other), "--force")
    assert refused.exit_code == 2 and "files moclab did not write (thesis.docx)" in refused.stderr
    assert sorted(p.name for p in other.iterdir()) == ["thesis.docx"]


def test_analyze_checks_its_options_and_output_before_reading(tmp_path):
    missing = tmp_path / "nowhere.qdpx"
    bad = invoke("qual", "analyze", str(missing), "--unit", "sentence", "-o", str(tmp_path / "out"))
    assert bad.exit_code == 2 and "--unit 'sentence' is not known" in bad.stderr
    assert "paragraph, segment" in bad.stderr and not (tmp_path / "out").exists()
    as_file = invoke("qual", "analyze", str(missing), "-o", str(tmp_path / "results.html"))
    assert as_file.exit_code == 2 and "writes a folder, not a file" in as_file.stderr


def test_analyze_shows_the_warnings_of_reading_on_stderr_counted(tmp_path):
    from moclab.qual import example_project_path

    project = read_project(example_project_path())
    for source in project.sources:  # every transcript cut after coding: one reading warning per source
        source.text = source.text[: max(s.end for s in source.selections) - 10]
    path = write_project(project, tmp_path / "cut.qdpx")
    done = invoke("qual", "analyze", str(path), "-o", str(tmp_path / "out"))
    assert done.exit_code == 0, done.output
    assert "12 warning(s) while reading the project:" in done.stderr
    assert done.stderr.count("selection(s) reach outside the text") == 5
    assert "... 7 more (--verbose lists them all)" in done.stderr
    assert re.search(r"agreement: \d+ selection\(s\) end past the end of their source's text", done.stderr)
    assert "reach outside" not in done.stdout and "wrote 13 files" in done.stdout
    verbose = invoke("qual", "analyze", str(path), "-o", str(tmp_path / "all"), "--verbose")
    assert verbose.stderr.count("selection(s) reach outside the text") == 12


def test_analyze_a_project_without_stages_or_second_coder(tmp_path):
    project = build_project([("s", "Some words.\nMore words.", [(0, 4, "Topic", "ann")])])
    path = write_project(project, tmp_path / "p.qdpx")
    done = invoke("qual", "analyze", str(path), "-o", str(tmp_path / "out"))
    assert done.exit_code == 0, done.output
    assert "profiles and pathway skipped" in done.output and "agreement skipped" in done.output
    assert (tmp_path / "out" / "matrix_counts.csv").exists()


def test_agreement_command(tmp_path):
    done = invoke("qual", "agreement", "--unit", "segment")
    assert done.exit_code == 0, done.output
    assert "Coder A, Coder B" in done.output and "(all codes)" in done.output
    as_json = invoke("qual", "agreement", "--json")
    assert json.loads(as_json.output)["coders"] == ["Coder A", "Coder B"]
    csv = tmp_path / "agreement.csv"
    assert invoke("qual", "agreement", "-o", str(csv)).exit_code == 0
    again = invoke("qual", "agreement", "-o", str(csv))
    assert again.exit_code == 2 and "the file exists" in again.output and "--force" in again.output
    csv.write_text("earlier", encoding="utf-8")
    assert invoke("qual", "agreement", "-o", str(csv), "--force").exit_code == 0
    assert csv.read_text(encoding="utf-8").startswith("code,")
    bad = invoke("qual", "agreement", "--unit", "sentence")
    assert bad.exit_code == 1 and "unknown agreement unit" in bad.output


def test_deidentify_command(tmp_path):
    text = "R: I met Tom Baker in Springfield.\nR: Tom Baker helped a lot."
    project = build_project([("int1", text, [(3, 34, "Trust", "ann")])])
    source = write_project(project, tmp_path / "in.qdpx")
    out, mapping = tmp_path / "out.qdpx", tmp_path / "private" / "map.json"
    done = invoke(
        "qual", "deidentify", str(source), "-o", str(out), "--mapping", str(mapping), "--allow", "springfield"
    )
    assert done.exit_code == 0, done.output
    result = read_project(out)
    assert result.sources[0].text == "R: I met [PERSON_1] in Springfield.\nR: [PERSON_1] helped a lot."
    selection = result.sources[0].selections[0]
    assert result.sources[0].text[selection.start : selection.end] == "I met [PERSON_1] in Springfield."
    review = pd.read_csv(tmp_path / "private" / "map.review.csv")
    assert review["original"].tolist() == ["Tom Baker", "Tom Baker"]
    assert json.loads(mapping.read_text())["placeholders"][0]["originals"] == ["Tom Baker"]
    again = invoke(
        "qual", "deidentify", str(source), "-o", str(tmp_path / "x.qdpx"), "--mapping", str(mapping)
    )
    assert again.exit_code == 2 and "the file exists" in again.output and "--force" in again.output
    bad = invoke(
        "qual",
        "deidentify",
        str(source),
        "-o",
        str(tmp_path / "x.txt"),
        "--mapping",
        str(tmp_path / "m.json"),
    )
    assert bad.exit_code == 1 and ".qdpx or .qde" in bad.output


def test_profiles_pathway_and_cooccurrence_commands(tmp_path):
    done = invoke(
        "qual", "profiles", "-o", str(tmp_path / "p"), "--coder", "Coder A", "--attribute", "engagement"
    )
    assert done.exit_code == 0, done.output
    assert "12 interviews" in done.output and (tmp_path / "p" / "profiles.html").exists()
    again = invoke("qual", "profiles", "-o", str(tmp_path / "p"))
    assert again.exit_code == 2 and "earlier `moclab qual profiles`" in again.stderr
    assert invoke("qual", "profiles", "-o", str(tmp_path / "p"), "--force").exit_code == 0
    done = invoke("qual", "pathway", "-o", str(tmp_path / "pathway.png"), "--precedes", "anywhere")
    assert done.exit_code == 0, done.output
    assert "Affective response" in done.output and (tmp_path / "pathway.png").read_bytes().startswith(
        b"\x89PNG"
    )
    done = invoke("qual", "cooccurrence", "--method", "paragraph", "-o", str(tmp_path / "pairs.csv"))
    assert done.exit_code == 0, done.output
    assert "Jaccard" in done.output and len(pd.read_csv(tmp_path / "pairs.csv")) > 0
    bad = invoke("qual", "pathway", "--precedes", "soon")
    assert bad.exit_code == 1 and "unknown precedence" in bad.output
