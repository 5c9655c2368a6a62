"""Schema validation by element, and how byte-order marks, line endings, UTF-16 positions, folder case, GUID
braces, missing schemes and Word-only sources are handled."""

from __future__ import annotations

import io

import docx
import numpy as np
import pytest
from refi_helpers import make_zip, minimal_qde, sample, selection_xml

from moclab.errors import QualError
from moclab.qual import example_project_path, read_project, validate_file
from moclab.qual.refi.reader import normalise_newlines, utf16_to_codepoints


def test_valid_files_have_no_schema_problems(tmp_path):
    assert validate_file(example_project_path()) == []
    assert validate_file(sample("refi-spec-A1-codebook.qdc")) == []
    assert validate_file(sample("qc-1.3.2-demo-project.qdpx")) == []
    assert validate_file(sample("refi-spec-A2-atlasti84-project.qde")) == []


def test_schema_violations_are_reported_by_line_and_element(tmp_path):
    path = tmp_path / "bad.qde"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="x">\n'
        "  <Users>\n"
        '    <User guid="not-a-guid" name="a"/>\n'
        "  </Users>\n"
        "  <CodeBook><Codes>\n"
        '    <Code guid="5215cc69-b628-4e02-afb9-9beeaee55808" name="T" isCodable="maybe" color="red"/>\n'
        "  </Codes></CodeBook>\n"
        "  <Bogus/>\n"
        "</Project>\n"
    )
    problems = validate_file(path)
    found = {(p.line, p.column, p.field, p.message) for p in problems}
    assert (
        4,
        5,
        "/Project/Users/User[guid=not-a-guid]",
        "attribute guid='not-a-guid': not a valid GUIDType",
    ) in found
    code = "/Project/CodeBook/Codes/Code[guid=5215cc69-b628-4e02-afb9-9beeaee55808]"
    assert (7, 5, code, "attribute color='red': not a valid RGBType") in found
    assert any(p.line == 7 and "isCodable='maybe'" in p.message for p in problems)
    assert any(p.line == 2 and p.field == "/Project" and "Bogus" in p.message for p in problems)
    assert len(problems) == 4
    assert all(p.file.endswith("bad.qde") for p in problems)


def test_codebook_violations_use_the_codebook_schema(tmp_path):
    path = tmp_path / "bad.qdc"
    path.write_text(
        '<?xml version="1.0"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0">\n<Codes>\n'
        '<Code guid="{5215cc69-b628-4e02-afb9-9beeaee55808}" name="T"/>\n</Codes>\n</CodeBook>\n'
    )
    (problem,) = validate_file(path)
    assert problem.line == 4
    assert "isCodable" in problem.message


def test_validate_refuses_other_files(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("hello")
    with pytest.raises(QualError, match="cannot validate"):
        validate_file(path)


def test_utf16_positions_are_converted_to_code_points():
    text = "a😀b😀😀cd"  # code points: a 😀 b 😀 😀 c d; UTF-16 units: a ## b #### c d
    units = np.array([0, 1, 3, 4, 8, 9, 10])
    assert utf16_to_codepoints(text, units).tolist() == [0, 1, 2, 3, 5, 6, 7]
    # a position inside a surrogate pair moves to the start of the character
    assert utf16_to_codepoints(text, np.array([2])).tolist() == [1]
    # text without astral characters: positions unchanged
    assert utf16_to_codepoints("plain", np.array([1, 4])).tolist() == [1, 4]


def test_nvivo_emoji_drift_is_warned_and_fixed_with_utf16(tmp_path):
    text = "I love it 😀😀 and then trust grew."
    start_units = len("I love it 😀😀 and then ".encode("utf-16-le")) // 2
    end_units = start_units + len("trust grew")
    qde = minimal_qde(selections=selection_xml(start_units, end_units)).replace(
        b'name="small"', b'name="small" origin="NVivo for Windows 12.6"'
    )
    path = make_zip(tmp_path / "nvivo.qdpx", {"project.qde": qde, "sources/a.txt": text.encode()})
    drifted = read_project(path)
    source = drifted.sources[0]
    assert source.quote(source.selections[0]) == "ust grew."  # two code points late: one per emoji
    assert any("UTF-16" in w.message for w in drifted.warnings)
    fixed = read_project(path, positions="utf16")
    assert fixed.sources[0].quote(fixed.sources[0].selections[0]) == "trust grew"
    assert not any("UTF-16" in w.message for w in fixed.warnings)


def test_bom_is_dropped_and_crlf_counts_as_two_code_points(tmp_path):
    text = "Line one\r\nLine two\r\nLine three"
    start = text.index("Line three")  # positions count the text as stored, without the BOM
    qde = minimal_qde(selections=selection_xml(start, start + 10))
    data = b"\xef\xbb\xbf" + text.encode()
    path = make_zip(tmp_path / "bom.qdpx", {"project.qde": b"\xef\xbb\xbf" + qde, "sources/a.txt": data})
    kept = read_project(path)
    assert kept.sources[0].text == text
    assert kept.sources[0].quote(kept.sources[0].selections[0]) == "Line three"
    normalised = read_project(path, newlines="lf")
    assert normalised.sources[0].text == "Line one\nLine two\nLine three"
    selection = normalised.sources[0].selections[0]
    assert (selection.start, selection.end) == (18, 28)
    assert normalised.sources[0].quote(selection) == "Line three"


def test_normalise_newlines_moves_positions_past_each_crlf():
    text, moved = normalise_newlines("ab\r\ncd\r\n\r\nef\rg", np.array([0, 2, 3, 4, 6, 10, 12, 13]))
    assert text == "ab\ncd\n\nef\ng"
    # 'a'->0, '\r'->2 (the LF), '\n'->2, 'c'->3, '\r'->5, 'e'->7, '\r' (lone)->9, 'g'->10
    assert moved.tolist() == [0, 2, 2, 3, 5, 7, 9, 10]


def test_upper_case_folder_braced_guids_and_missing_scheme(tmp_path):
    qde = minimal_qde(text_path="interview.txt", selections=selection_xml(0, 5))
    path = make_zip(tmp_path / "odd.qdpx", {"Project.QDE": qde, "Sources/Interview.TXT": b"Hello world"})
    project = read_project(path)
    assert project.sources[0].text == "Hello world"
    assert project.code("Trust").guid == "bbbbbbbb-0000-4000-8000-000000000001"  # written {braced} upper case
    assert project.codings_frame()["text"].tolist() == ["Hello"]
    assert project.warnings == []


def test_external_and_escaping_paths_are_not_read(tmp_path):
    (tmp_path / "secret.txt").write_text("do not read me")
    folder = tmp_path / "project"
    folder.mkdir()
    for reference in ("internal://../secret.txt", "relative:///secret.txt", "absolute:///etc/hostname"):
        qde = folder / "p.qde"
        qde.write_bytes(minimal_qde(text_path=reference))
        project = read_project(qde)
        assert project.sources[0].text == ""
        assert "is not in the project" in project.warnings[0].message
        qde.unlink()


def test_qde_reads_sources_from_the_folder_beside_it(tmp_path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "a.txt").write_text("Hello there", encoding="utf-8")
    qde = tmp_path / "p.qde"
    qde.write_bytes(minimal_qde(selections=selection_xml(6, 11)))
    assert read_project(qde).codings_frame()["text"].tolist() == ["there"]


def test_text_from_the_word_file_when_there_is_no_plain_text(tmp_path):
    document = docx.Document()
    document.add_paragraph("First paragraph.")
    document.add_paragraph("Second paragraph, with trust.")
    buffer = io.BytesIO()
    document.save(buffer)
    start = len("First paragraph.\nSecond paragraph, with ")
    qde = minimal_qde(text_path="internal://missing.txt", selections=selection_xml(start, start + 5)).replace(
        b'plainTextPath="internal://missing.txt"', b'richTextPath="internal://a.docx"'
    )
    path = make_zip(tmp_path / "word.qdpx", {"project.qde": qde, "sources/a.docx": buffer.getvalue()})
    project = read_project(path)
    assert project.sources[0].text == "First paragraph.\nSecond paragraph, with trust."
    assert project.codings_frame()["text"].tolist() == ["trust"]
    assert project.extras["files"]["a.docx"] == buffer.getvalue()
