"""Hostile and broken inputs are refused with a clear `QualError` (or located problems), never a traceback,
and nothing is extracted to disk."""

from __future__ import annotations

import io
import zipfile

import pytest
from refi_helpers import make_zip, minimal_qde, selection_xml

from moclab.errors import QualError, ValidationError
from moclab.qual import read_project, validate_file
from moclab.qual.refi.reader import read_qdpx
from moclab.qual.safety import Limits

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Project [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol4;"/>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&secret;"/>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Project SYSTEM "http://example.invalid/evil.dtd">
<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>"""


def files_in(folder):
    return sorted(p.name for p in folder.rglob("*"))


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("../evil.txt", "climbs out"),
        ("sources/../../evil.txt", "climbs out"),
        ("/etc/evil.txt", "absolute path"),
        ("C:\\Windows\\evil.txt", "absolute path"),
        ("..\\evil.txt", "climbs out"),
    ],
)
def test_zip_slip_members_are_refused(tmp_path, member, reason):
    path = make_zip(tmp_path / "slip.qdpx", {"project.qde": minimal_qde(), member: b"x"})
    before = files_in(tmp_path)
    with pytest.raises(QualError, match=reason):
        read_project(path)
    assert files_in(tmp_path) == before  # nothing extracted anywhere


def test_symbolic_links_are_refused(tmp_path):
    path = make_zip(
        tmp_path / "link.qdpx",
        {"project.qde": minimal_qde(), "sources/a.txt": b"/etc/passwd"},
        symlinks=("sources/a.txt",),
    )
    with pytest.raises(QualError, match="symbolic link"):
        read_project(path)


def test_zip_bomb_is_refused_before_decompressing(tmp_path):
    bomb = b"\0" * (64 * 1024 * 1024)  # 64 MiB of zeros compress to about 64 KB
    path = make_zip(tmp_path / "bomb.qdpx", {"project.qde": minimal_qde(), "sources/a.txt": bomb})
    assert path.stat().st_size < 200_000
    with pytest.raises(QualError, match="zip bomb"):
        read_project(path)


def test_many_small_members_over_the_total_ratio_are_refused(tmp_path):
    members = {"project.qde": minimal_qde()}
    members.update({f"sources/{i}.txt": b"\0" * 900_000 for i in range(40)})  # each under the 1 MiB floor
    path = make_zip(tmp_path / "spread.qdpx", members)
    with pytest.raises(QualError, match="zip bomb"):
        read_project(path)


def test_total_size_and_member_count_limits(tmp_path):
    members = {"project.qde": minimal_qde(), **{f"sources/{i}.txt": b"abc" for i in range(12)}}
    path = make_zip(tmp_path / "many.qdpx", members)
    with pytest.raises(QualError, match="13 members, more than the limit of 10"):
        read_qdpx(path, limits=Limits(max_members=10))
    with pytest.raises(QualError, match="more than the limit of 100"):
        read_qdpx(path, limits=Limits(max_total_bytes=100))


def test_duplicate_members_are_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", minimal_qde())
        archive.writestr("sources/A.txt", b"one")
        archive.writestr("Sources/a.txt", b"two")  # the same member for a reader that ignores case
    path = tmp_path / "dup.qdpx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(QualError, match="appears twice"):
        read_project(path)


@pytest.mark.parametrize(("xml", "name"), [(BILLION_LAUGHS, "billion laughs"), (EXTERNAL_ENTITY, "entity")])
def test_entity_declarations_are_refused_in_archives_and_files(tmp_path, xml, name):
    archive = make_zip(tmp_path / "x.qdpx", {"project.qde": xml})
    with pytest.raises(QualError, match="refused: it declares XML entities"):
        read_project(archive)
    loose = tmp_path / "x.qde"
    loose.write_bytes(xml)
    with pytest.raises(QualError, match="refused: it declares XML entities"):
        read_project(loose)
    with pytest.raises(QualError, match="refused"):
        validate_file(loose)


def test_external_dtd_is_refused(tmp_path):
    loose = tmp_path / "x.qde"
    loose.write_bytes(EXTERNAL_DTD)
    with pytest.raises(QualError, match="refers to external resources"):
        read_project(loose)


def test_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "fake.qdpx"
    path.write_text("just text, not an archive")
    with pytest.raises(QualError, match="is not a zip archive"):
        read_project(path)


def test_a_truncated_zip(tmp_path):
    whole = make_zip(tmp_path / "whole.qdpx", {"project.qde": minimal_qde(), "sources/a.txt": b"x" * 5000})
    cut = tmp_path / "cut.qdpx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(QualError, match="damaged or truncated"):
        read_project(cut)


def test_a_corrupted_member(tmp_path):
    data = bytearray(make_zip(tmp_path / "ok.qdpx", {"project.qde": minimal_qde()}).read_bytes())
    start = data.find(b"project.qde") + len(b"project.qde")
    data[start + 5 : start + 40] = b"\xff" * 35  # garble the compressed stream, keep the directory
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(bytes(data))
    with pytest.raises(QualError, match=r"cannot be read|not well-formed"):
        read_project(bad)


def test_non_utf8_source_text_is_named(tmp_path):
    path = make_zip(
        tmp_path / "latin.qdpx", {"project.qde": minimal_qde(), "sources/a.txt": "Café".encode("cp1252")}
    )
    with pytest.raises(QualError, match=r"sources/a.txt is not UTF-8 text \(byte 3"):
        read_project(path)


def test_malformed_xml_names_the_line(tmp_path):
    path = make_zip(
        tmp_path / "broken.qdpx", {"project.qde": b'<?xml version="1.0"?>\n<Project name="x">\n<Users>\n'}
    )
    with pytest.raises(QualError, match=r"project.qde:4:\d+: not well-formed XML"):
        read_project(path)


def test_an_archive_without_project_qde(tmp_path):
    path = make_zip(tmp_path / "empty.qdpx", {"sources/a.txt": b"hello"})
    with pytest.raises(QualError, match=r"holds no project\.qde"):
        read_project(path)


def test_invalid_guids_and_positions_are_listed_by_element(tmp_path):
    bad_selection = (
        '<PlainTextSelection guid="not-a-guid" startPosition="x" endPosition="4">'
        '<Coding guid="eeeeeeee-0000-4000-8000-000000000001">'
        '<CodeRef targetGUID="bbbbbbbb-0000-4000-8000-000000000001"/>'
        "</Coding></PlainTextSelection>"
    )
    path = make_zip(
        tmp_path / "bad.qdpx",
        {"project.qde": minimal_qde(selections=bad_selection), "sources/a.txt": b"hello"},
    )
    with pytest.raises(ValidationError) as caught:
        read_project(path)
    messages = [str(p) for p in caught.value.problems if p.severity == "error"]
    assert any("guid='not-a-guid' is not a GUID" in m and "TextSource[cccccccc" in m for m in messages)
    assert any("must be whole numbers" in m for m in messages)


def test_selections_outside_the_text_and_unknown_codes_are_warnings(tmp_path):
    selections = selection_xml(0, 5, 1) + selection_xml(3, 99, 2).replace("bbbbbbbb", "ffffffff")
    path = make_zip(
        tmp_path / "odd.qdpx", {"project.qde": minimal_qde(selections=selections), "sources/a.txt": b"hello"}
    )
    project = read_project(path)
    warnings = [w.message for w in project.warnings]
    assert any("1 selection(s) reach outside the text of 5 code points" in w for w in warnings)
    assert any("1 coding(s) refer to code ffffffff-0000-4000-8000-000000000001" in w for w in warnings)
