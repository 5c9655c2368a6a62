"""Every public vendor sample imports; counts are checked against an independent count of the XML elements,
and each sample's quirk (listed in shared/data/qda/README.md) is handled."""

from __future__ import annotations

import re

import pytest
from refi_helpers import count_elements, qde_bytes, sample

from moclab.qual import read_codebook, read_project

PROJECT_SAMPLES = [
    "nvivo12-win-hbm-vaccine-project.qde",
    "ponte-atlasti23-blank-project.qdpx",
    "ponte-atlasti23-target-project.qdpx",
    "qc-1.3.2-demo-project.qdpx",
    "qc-nvivo-mac15-project.qdpx",
    "refi-spec-A2-atlasti84-project.qde",
]
CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.mark.parametrize("name", PROJECT_SAMPLES)
def test_sample_counts_match_an_independent_count_of_the_xml(name):
    path = sample(name)
    project = read_project(path)
    assert project.counts() == count_elements(qde_bytes(path))


@pytest.mark.parametrize("name", PROJECT_SAMPLES)
def test_every_guid_is_stored_canonical(name):
    project = read_project(sample(name))
    guids = (
        [u.guid for u in project.users] + [c.guid for c in project.codes] + [c.parent for c in project.codes]
    )
    for source in project.sources:
        guids.append(source.guid)
        for selection in source.selections:
            guids += [selection.guid, selection.creator]
            guids += [g for coding in selection.codings for g in (coding.guid, coding.code, coding.creator)]
    guids += [m for s in project.sets for m in s.member_codes + s.member_sources]
    assert all(CANONICAL.fullmatch(g) for g in guids if g is not None)


def test_published_counts_of_the_samples():
    # The numbers the README of the samples states (a second, human-read reference).
    nvivo = read_project(sample("nvivo12-win-hbm-vaccine-project.qde")).counts()
    assert (nvivo["selections"], nvivo["codings"], nvivo["users"]) == (330, 330, 3)
    a2 = read_project(sample("refi-spec-A2-atlasti84-project.qde"))
    assert (len(a2.users), len(a2.codes), len(a2.sources), len(a2.notes), len(a2.sets)) == (3, 14, 6, 2, 16)
    # 8 PlainTextSelections in all: 6 in text sources, 2 inside a PDF source's representation (kept as XML)
    assert a2.counts()["selections"] == 6
    kept = "".join(a2.extras["xml"]["Sources"])
    assert kept.count("<PlainTextSelection") == 2


def test_qc_sample_without_internal_scheme_reads_sources_and_positions_are_code_points():
    project = read_project(sample("qc-1.3.2-demo-project.qdpx"))
    board = project.source("board_2017.txt")
    assert board.path == "board_2017.txt"  # no internal:// scheme in the file, kept as found
    assert len(board.text) == 52543
    lines = board.text.splitlines(keepends=True)
    # qc names each selection after the (0-based) line it covers: the quote is exactly that line
    assert len(board.selections) == 158
    for selection in board.selections:
        number = int(selection.name.split(":")[1])
        assert board.quote(selection) == lines[number]
    assert project.warnings == []


def test_qc_codings_frame_has_one_row_per_coding_with_quotes():
    frame = read_project(sample("qc-1.3.2-demo-project.qdpx")).codings_frame()
    assert list(frame.columns) == [
        "source", "source_name", "case", "selection", "start", "end", "code", "code_name", "code_path",
        "coder", "text",
    ]  # fmt: skip
    assert len(frame) == 205
    assert set(frame["coder"]) == {"cp"}
    assert frame["code_name"].notna().all()
    assert (frame["text"].str.len() == frame["end"] - frame["start"]).all()


def test_nvivo_mac_sample_lowercase_sources_folder_and_root_entry():
    project = read_project(sample("qc-nvivo-mac15-project.qdpx"))
    assert [s.text for s in project.sources] == ["\n", "\n"]  # the 1-byte .txt files
    assert sorted(project.extras["files"]) == sorted(
        f"{s.guid}.docx" for s in project.sources
    )  # the Word files are kept for export; sources/.root is ignored
    assert project.code_path(project.code("restructure_curriculum").guid) == (
        "rq1_definition/defining_education/restructuring_high_school/restructure_curriculum"
    )


def test_atlas_sample_uppercase_guids_and_nested_codes():
    project = read_project(sample("ponte-atlasti23-target-project.qdpx"))
    assert project.code("Commits").guid == "a182cd3a-d83c-4d8c-bc80-26d9103ec6d6"
    children = [c.name for c in project.codes if c.parent == "a182cd3a-d83c-4d8c-bc80-26d9103ec6d6"]
    assert children == ["2022-05-10T02:05:59Z 19e4dce", "2022-02-11T10:39:25Z cdbfd92"]
    assert project.origin == "ATLAS.ti for Windows 23.2.3.27778"


def test_nvivo12_sample_without_sources_warns_and_keeps_selections():
    project = read_project(sample("nvivo12-win-hbm-vaccine-project.qde"))
    assert len(project.warnings) == 2
    assert all("is not in the project" in w.message for w in project.warnings)
    assert {len(s.text) for s in project.sources} == {0}
    assert project.code("piros").parent == project.code("2. Attitűd szint az oltáshoz").guid


def test_spec_codebook_braced_guids_and_folders():
    book = read_codebook(sample("refi-spec-A1-codebook.qdc"))
    assert [c.name for c in book.codes] == [
        "Topics", "Economy", "Health care", "Values", "Conservatives", "Liberals",
    ]  # fmt: skip
    assert [c.codable for c in book.codes] == [False, True, True, False, True, True]
    assert book.code("Economy").guid == "d7aa29da-519b-4946-9b90-253b6db8fd0a"
    assert book.code("Economy").color == "#ffff00"
    assert book.code("Liberals").description == "Democrats, socialists, or progressive independents"
