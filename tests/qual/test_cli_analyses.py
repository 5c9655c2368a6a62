"""`moclab qual analyze | agreement | deidentify` run in process (typer's CliRunner)."""

from __future__ import annotations

import json

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
    # an earlier output folder may be written again; a folder holding other files may not
    assert invoke("qual", "analyze", "-o", str(out), "--coder", "Coder A").exit_code == 0
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.docx").write_text("mine")
    refused = invoke("qual", "analyze", "-o", str(other))
    assert refused.exit_code == 1 and "holds other files" in refused.output
    assert (other / "thesis.docx").read_text() == "mine"


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
    assert again.exit_code == 1 and "exists" in again.output
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
    assert again.exit_code == 1 and "exists" in again.output
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
    assert again.exit_code == 1 and "exists" in again.output
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
