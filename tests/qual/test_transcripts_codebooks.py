"""Transcripts with a codebook, codebook files (YAML, CSV, .qdc), deductive codebooks from the catalog."""

from __future__ import annotations

import uuid

import docx
import pytest

from moclab.catalog import default_catalog
from moclab.errors import ConfigError, QualError, ValidationError
from moclab.qual import (
    framework_codebook,
    read_codebook,
    read_project,
    recipient_pathway_codebook,
    write_project,
)
from moclab.qual.codebooks import catalog_guid
from moclab.qual.project import MOCLAB_NAMESPACE
from moclab.qual.refi.writer import codebook_xml
from moclab.qual.schema import validate_xml

YAML_CODEBOOK = """\
name: Pathway
codes:
  - name: Affective response
    codable: false
    color: "#E69F00"
    codes:
      - {name: Trust, description: Trusting relationships}
      - name: Credibility
  - name: Knowledge
"""


def test_txt_transcripts_are_normalised_to_lf(tmp_path):
    (tmp_path / "r01.txt").write_bytes(b"\xef\xbb\xbfI: Hello\r\nR: Hi\rthere\r\n")
    (tmp_path / "r02.txt").write_text("I: Second\nR: yes\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored")
    project = read_project(tmp_path)
    assert [s.name for s in project.sources] == ["r01", "r02"]
    assert project.sources[0].text == "I: Hello\nR: Hi\nthere\n"
    assert project.counts()["selections"] == 0
    assert project.name == tmp_path.name
    # re-reading gives the same GUIDs (derived from the names)
    assert [s.guid for s in read_project(tmp_path).sources] == [s.guid for s in project.sources]


def test_docx_transcript_paragraphs_and_tables_in_order(tmp_path):
    document = docx.Document()
    document.add_paragraph("I: How did it start?")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Speaker"
    table.rows[0].cells[1].text = "Ann"
    document.add_paragraph("R: With a meeting.")
    document.save(tmp_path / "r03.docx")
    source = read_project(tmp_path / "r03.docx").sources[0]
    assert source.text == "I: How did it start?\nSpeaker\tAnn\nR: With a meeting."


def test_transcripts_with_a_yaml_codebook_then_exported(tmp_path):
    (tmp_path / "r01.txt").write_text("R: I trust them.", encoding="utf-8")
    book = tmp_path / "codes.yaml"
    book.write_text(YAML_CODEBOOK)
    project = read_project(tmp_path / "r01.txt", codebook=book)
    assert [project.code_path(c.guid) for c in project.codes] == [
        "Affective response", "Affective response/Trust", "Affective response/Credibility", "Knowledge",
    ]  # fmt: skip
    assert project.code("Affective response").codable is False
    assert project.code("Trust").description == "Trusting relationships"
    written = write_project(project, tmp_path / "out.qdpx")
    again = read_project(written)
    assert again.codes == project.codes
    assert again.sources[0].text == "R: I trust them."


def test_non_utf8_transcript_is_a_clear_error(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Café au lait".encode("latin-1"))
    with pytest.raises(QualError, match=r"latin\.txt is not UTF-8 text \(byte 3"):
        read_project(path)


def test_damaged_docx_and_unknown_types(tmp_path):
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a word file")
    with pytest.raises(QualError, match="not a zip-based Word document"):
        read_project(bad)
    other = tmp_path / "x.pdf"
    other.write_bytes(b"%PDF")
    with pytest.raises(QualError, match=r"moclab reads \.qdpx"):
        read_project(other)
    (tmp_path / "empty").mkdir()
    with pytest.raises(QualError, match="no transcripts"):
        read_project(tmp_path / "empty")


def test_two_transcripts_with_the_same_name(tmp_path):
    (tmp_path / "r01.txt").write_text("a", encoding="utf-8")
    (tmp_path / "r01.docx").write_bytes(b"")
    with pytest.raises(QualError, match="both named 'r01'"):
        read_project(tmp_path)


def test_yaml_codebook_problems_are_located(tmp_path):
    book = tmp_path / "bad.yaml"
    book.write_text("codes:\n  - name: Trust\n    colour: red\n  - name: Trust\n")
    with pytest.raises(ValidationError) as caught:
        read_codebook(book)
    problem = caught.value.problems[0]
    assert (problem.line, problem.message, problem.hint) == (
        3,
        "unknown key 'colour'",
        "did you mean 'color'?",
    )
    book.write_text("codes:\n  - name: Trust\n  - name: Trust\n")
    with pytest.raises(ValidationError, match="listed twice"):
        read_codebook(book)
    book.write_text("codes: [\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        read_codebook(book)


def test_csv_codebook_and_its_problems(tmp_path):
    book = tmp_path / "codes.csv"
    book.write_text(
        "name,parent,description,color,codable\n"
        "Affective response,,,#E69F00,false\n"
        "Trust,Affective response,Trusting relationships,,\n"
        "Knowledge,,,,yes\n",
        encoding="utf-8",
    )
    codes = read_codebook(book).codes
    assert [(c.name, c.codable) for c in codes] == [
        ("Affective response", False),
        ("Trust", True),
        ("Knowledge", True),
    ]
    assert codes[1].parent == codes[0].guid
    book.write_text("name,parent,color,codable\nTrust,Nowhere,red,perhaps\n,,,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        read_codebook(book)
    located = {(p.row, p.field) for p in caught.value.problems}
    assert located == {(1, "parent"), (1, "color"), (1, "codable"), (2, "name")}
    book.write_text("label,parent\nTrust,\n", encoding="utf-8")
    with pytest.raises(QualError, match="needs a 'name' column"):
        read_codebook(book)


def test_isp_competencies_codebook_has_domains_as_folders():
    book = framework_codebook("isp-competencies")
    catalog = default_catalog()
    framework = catalog.framework("isp-competencies")
    domains = [e for e in framework.entries if e.kind == "domain"]
    assert [c.name for c in book.codes if not c.codable] == [d.name for d in domains]
    for entry in framework.entries:
        code = book.code(catalog_guid(entry.qualified_id))
        assert code.name == entry.name
        assert code.parent == (catalog_guid(entry.parent_id) if entry.parent_id else None)
        assert f"Catalog: {entry.qualified_id}" in code.description
    assert len(book.codes) == 18


def test_cfir2_codebook_hierarchy_and_stable_guids():
    book = framework_codebook("cfir2")
    assert len(book.codes) == 5 + 2 + 48 + 19
    expected = str(uuid.uuid5(MOCLAB_NAMESPACE, "cfir2:tension-for-change"))
    assert book.code("Tension for Change").guid == expected
    assert uuid.uuid5(uuid.NAMESPACE_URL, "https://moclab.org/qual") == MOCLAB_NAMESPACE
    assert sum(not c.codable for c in book.codes) == 7  # domains and subdomains are folders
    # regenerating gives the same bytes
    assert codebook_xml(book.codes, book.sets) == codebook_xml(framework_codebook("cfir2").codes, book.sets)


def test_proctor_codebook_outcome_types_as_folders():
    book = framework_codebook("proctor")
    paths = [book.code_path(c.guid) for c in book.codes]
    assert "Implementation outcomes/Acceptability" in paths
    assert sum(not c.codable for c in book.codes) == 3
    assert len(book.codes) == 20


def test_recipient_pathway_codebook_follows_the_template_and_catalog():
    book = recipient_pathway_codebook()
    catalog = default_catalog()
    stages = [c for c in book.codes if not c.codable]
    assert [c.guid for c in stages] == [
        catalog_guid(f"recipient-pathway:{s}")
        for s in (
            "affective-response",
            "acceptability-appropriateness-and-feasibility",
            "knowledge-and-application",
            "sustained-capacity-and-outcomes",
        )
    ]
    components = [c for c in book.codes if c.parent is not None]
    assert len(components) == 11
    for code in components:
        entry = next(
            e for e in catalog.entries("recipient-pathway") if catalog_guid(e.qualified_id) == code.guid
        )
        assert code.parent == catalog_guid(entry.parent_id)
        assert code.name == entry.name
    assert book.code("Implementation support").parent is None
    assert book.code("Trust").description.endswith("Catalog: recipient-pathway:trust (Metz et al. 2024).")
    assert len(book.sets[0].member_codes) == 4


@pytest.mark.parametrize("framework", ["isp-competencies", "cfir2", "proctor", "recipient-pathway", "eric"])
def test_deductive_codebooks_are_valid_qdc(framework, tmp_path):
    book = framework_codebook(framework)
    written = write_project(book, tmp_path / f"{framework}.qdc")
    assert validate_xml(written.read_bytes(), framework) == []
    assert read_codebook(written).codes == book.codes
