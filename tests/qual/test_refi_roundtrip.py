"""Round trips .qdpx/.qde -> moclab -> .qdpx preserve every code, selection, coding, note, case, variable and
set, and what moclab does not model; the written files are valid against the REFI-QDA project schema and carry
canonical GUIDs."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, date, datetime

import pytest
import xmlschema
from refi_helpers import sample

from moclab.qual import (
    Case,
    Code,
    Coding,
    Note,
    Project,
    Selection,
    Set,
    TextSource,
    User,
    Variable,
    example_project_path,
    read_project,
    write_project,
)
from moclab.qual.schema import CODEBOOK_SCHEMA, PROJECT_SCHEMA

SAMPLES = [
    "nvivo12-win-hbm-vaccine-project.qde",
    "ponte-atlasti23-blank-project.qdpx",
    "ponte-atlasti23-target-project.qdpx",
    "qc-1.3.2-demo-project.qdpx",
    "qc-nvivo-mac15-project.qdpx",
    "refi-spec-A2-atlasti84-project.qde",
]
MODELLED = ("users", "codes", "cases", "variables", "notes", "sets", "description", "note_refs", "name")
GUID_ATTRIBUTE = re.compile(r'(?:guid|GUID|User|Vertex|SyncPoint)="([^"]*)"')


def assert_same_project(before: Project, after: Project) -> None:
    for name in MODELLED:
        assert getattr(after, name) == getattr(before, name), name
    assert len(after.sources) == len(before.sources)
    for old, new in zip(before.sources, after.sources, strict=True):
        assert (new.guid, new.name, new.text, new.description) == (
            old.guid,
            old.name,
            old.text,
            old.description,
        )
        assert new.selections == old.selections
        assert (new.codings, new.note_refs, new.variables) == (old.codings, old.note_refs, old.variables)
        assert (new.creator, new.created, new.modifier, new.modified) == (
            old.creator, old.created, old.modifier, old.modified,
        )  # fmt: skip
    assert after.extras.get("xml") == before.extras.get("xml")
    assert after.extras.get("note_children") == before.extras.get("note_children")


def schema_errors(qde: bytes, schema_path) -> list[str]:
    schema = xmlschema.XMLSchema(str(schema_path))
    return [str(error.reason) for error in schema.iter_errors(qde.decode("utf-8"))]


@pytest.mark.parametrize("name", SAMPLES)
def test_round_trip_of_vendor_samples_is_lossless_and_valid(name, tmp_path):
    before = read_project(sample(name))
    written = write_project(before, tmp_path / "out.qdpx")
    after = read_project(written)
    assert_same_project(before, after)
    with zipfile.ZipFile(written) as archive:
        qde = archive.read("project.qde")
        names = archive.namelist()
    assert schema_errors(qde, PROJECT_SCHEMA) == []
    assert all(name == "project.qde" or name.startswith("sources/") for name in names)
    # GUIDs are written canonical (the A2 and ATLAS.ti samples write upper case, A2 braces)
    values = GUID_ATTRIBUTE.findall(qde.decode("utf-8"))
    assert values
    assert all(re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", v) for v in values)
    # and a second round trip gives the same archive content
    again = write_project(after, tmp_path / "again.qdpx")
    with zipfile.ZipFile(again) as archive:
        assert archive.read("project.qde") == qde


def test_round_trip_keeps_the_files_of_unmodelled_sources(tmp_path):
    before = read_project(sample("qc-nvivo-mac15-project.qdpx"))
    after = read_project(write_project(before, tmp_path / "out.qdpx"))
    assert after.extras["files"] == before.extras["files"]  # the .docx files, byte for byte


def test_round_trip_through_a_self_contained_qde(tmp_path):
    before = read_project(example_project_path())
    after = read_project(write_project(before, tmp_path / "project.qde"))
    assert_same_project(before, after)


def test_round_trip_of_every_kind_of_value_and_reference(tmp_path):
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    ids = [f"0000000{i}-0000-4000-8000-000000000000" for i in range(10)]
    project = Project(
        name="all kinds",
        created=when,
        users=[User(ids[0], "Ann", id="A")],
        codes=[Code(ids[1], "Parent", "#123456", "folder", codable=False, note_refs=[ids[8]]),
               Code(ids[2], "Child", "#abc", "a child", parent=ids[1])],
        variables=[Variable(ids[3], "age", "Integer"), Variable(ids[4], "score", "Float"),
                   Variable(ids[5], "born", "Date"), Variable(ids[6], "active", "Boolean"),
                   Variable(ids[7], "when", "DateTime", "time of interview")],
        notes=[Note(ids[8], "memo", "a memo\r\nwith CRLF", ids[0], when, "about it")],
        description="a project",
    )  # fmt: skip
    source = TextSource(
        "10000000-0000-4000-8000-000000000000",
        "Interview",
        "Line one\r\nLine two ✓ 😀 end",
        selections=[
            Selection("20000000-0000-4000-8000-000000000000", 10, 18, "q", ids[0], when,
                      [Coding("30000000-0000-4000-8000-000000000000", ids[2], ids[0], when, [ids[8]])],
                      [ids[8]], "why", ids[0], when),
        ],
        note_refs=[ids[8]],
        variables={"age": 7},
    )  # fmt: skip
    project.sources.append(source)
    project.cases.append(
        Case("40000000-0000-4000-8000-000000000000", "Case 1", "desc", [source.guid],
             {"age": 41, "score": 0.1, "born": date(1983, 2, 1), "active": True, "when": when},
             code_refs=[ids[2]], selection_refs=["20000000-0000-4000-8000-000000000000"])
    )  # fmt: skip
    project.sets.append(
        Set("50000000-0000-4000-8000-000000000000", "set", "d", [ids[2]], [source.guid], [ids[8]])
    )
    after = read_project(write_project(project, tmp_path / "all.qdpx"))
    assert_same_project(project, after)
    assert after.sources[0].quote(after.sources[0].selections[0]) == "Line two"
    assert after.cases[0].variables["score"] == 0.1
    assert after.created == when


def test_codebook_export_is_valid_and_reads_back(tmp_path):
    before = read_project(sample("refi-spec-A2-atlasti84-project.qde"))
    written = write_project(before, tmp_path / "codes.qdc")
    assert schema_errors(written.read_bytes(), CODEBOOK_SCHEMA) == []
    after = read_project(written)
    assert after.codes == [
        Code(c.guid, c.name, c.color, c.description, c.parent, c.codable) for c in before.codes
    ]
    assert [s.member_codes for s in after.sets] == [s.member_codes for s in before.sets if s.member_codes]


def test_writing_never_overwrites(tmp_path):
    project = read_project(example_project_path())
    target = tmp_path / "x.qdpx"
    target.write_bytes(b"mine")
    with pytest.raises(Exception, match="does not overwrite"):
        write_project(project, target)
    assert target.read_bytes() == b"mine"
