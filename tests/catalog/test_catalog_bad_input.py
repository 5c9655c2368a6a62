"""Bad framework files give located errors (file:line:column, what to do), never a traceback or silence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from moclab.catalog import Catalog, FrameworkFileError
from moclab.errors import CatalogError, ValidationError

HEADER = "id: acme\nname: Acme competencies\ncitation: Acme Health. Competency framework, 2025.\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # files are then shown by their plain names in messages
    monkeypatch.chdir(tmp_path)


def problems(*paths: Path) -> list[str]:
    with pytest.raises(FrameworkFileError) as caught:
        Catalog.load(paths)
    assert isinstance(caught.value, ValidationError) and isinstance(caught.value, CatalogError)
    return [str(problem) for problem in caught.value.problems]


def test_valid_user_file_loads(write: Callable[..., Path]) -> None:
    path = write(
        "acme.yaml",
        HEADER + "entries:\n  - {id: listening, name: Listening, kind: competency}\n",
    )
    catalog = Catalog.load([path])
    entry = catalog.get("acme:listening")
    assert entry.defined_in == "acme.yaml:5"
    assert entry.verification == "unverified"  # user files are not verified unless they say so
    assert catalog.framework("acme").files == ("acme.yaml",)
    assert not catalog.framework("acme").bundled


def test_malformed_yaml_names_line_and_column(write: Callable[..., Path]) -> None:
    path = write("bad.yaml", HEADER + "entries:\n  - {id: a, name: [unclosed, kind: x}\n")
    [problem] = problems(path)
    assert problem.startswith("bad.yaml:5:")
    assert "malformed YAML" in problem


def test_unknown_key_gets_did_you_mean_at_its_line(write: Callable[..., Path]) -> None:
    path = write(
        "typo.yaml",
        HEADER + "entries:\n  - id: a\n    nme: A\n    kind: competency\n",
    )
    found = problems(path)
    assert "typo.yaml:6:5: unknown key 'nme' (did you mean 'name'?)" in found
    assert "typo.yaml:5:5: 'entries.0.name' is required but missing" in found


def test_unknown_header_key(write: Callable[..., Path]) -> None:
    path = write("header.yaml", HEADER + "licenze: internal\n")
    assert problems(path) == ["header.yaml:4:1: unknown key 'licenze' (did you mean 'licence'?)"]


def test_duplicate_id_names_both_lines(write: Callable[..., Path]) -> None:
    path = write(
        "dup.yaml",
        HEADER
        + "entries:\n"
        + "  - {id: listening, name: Listening, kind: competency}\n"
        + "  - {id: rapport, name: Rapport, kind: competency}\n"
        + "  - {id: listening, name: Listening again, kind: competency}\n",
    )
    [problem] = problems(path)
    assert problem.startswith("dup.yaml:7:6: duplicate id 'listening' (first written on line 5)")


def test_unresolved_parent_with_suggestion(write: Callable[..., Path]) -> None:
    path = write(
        "parent.yaml",
        HEADER
        + "entries:\n"
        + "  - {id: relating, name: Relating, kind: area}\n"
        + "  - {id: listening, name: Listening, kind: competency, parent: relatng}\n",
    )
    assert problems(path) == [
        "parent.yaml:6:56: parent 'relatng' is not an entry of framework 'acme' (did you mean 'relating'?)"
    ]


def test_parent_loops_self_parents_and_foreign_parents(write: Callable[..., Path]) -> None:
    path = write(
        "loops.yaml",
        HEADER
        + "entries:\n"
        + "  - {id: a, name: A, kind: x, parent: b}\n"
        + "  - {id: b, name: B, kind: x, parent: a}\n"
        + "  - {id: c, name: C, kind: x, parent: c}\n"
        + "  - {id: d, name: D, kind: x, parent: 'eric:facilitation'}\n",
    )
    found = problems(path)
    assert len(found) == 3
    assert found[0] == "loops.yaml:7:31: entry 'c' names itself as its parent"
    assert found[1].startswith("loops.yaml:8:31: parent 'eric:facilitation' belongs to another framework")
    assert "'parent: facilitation'" in found[1]
    assert found[2].startswith("loops.yaml:5:31: parents form a loop: a -> b -> a")


def test_python_tag_is_refused_and_never_run(write: Callable[..., Path], tmp_path: Path) -> None:
    marker = tmp_path / "was-run"
    path = write("evil.yaml", f'id: !!python/object/apply:os.system ["touch {marker}"]\n')
    [problem] = problems(path)
    assert problem.startswith("evil.yaml:1:5: the YAML tag")
    assert "python/object/apply:os.system is not allowed" in problem
    assert not marker.exists()


def test_empty_file(write: Callable[..., Path]) -> None:
    assert problems(write("empty.yaml", "")) == ["empty.yaml: the file is empty"]
    assert problems(write("comments.yaml", "# nothing yet\n")) == [
        "comments.yaml: the file holds no YAML content (only comments?)"
    ]


def test_non_utf8_file(write: Callable[..., Path]) -> None:
    [problem] = problems(write("latin1.yaml", "id: caf\xe9\n".encode("latin-1")))
    assert problem.startswith("latin1.yaml: not UTF-8 text (byte 7 cannot be decoded)")
    assert "save the file as UTF-8" in problem


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty-folder").mkdir()
    found = problems(tmp_path / "nowhere.yaml", tmp_path / "empty-folder")
    assert found == [
        "nowhere.yaml: file or folder not found (given in --path; check the path)",
        "empty-folder: folder has no framework files (*.yaml, *.yml) "
        "(given in --path; put framework files in it or remove it)",
    ]


def test_top_level_must_be_a_mapping(write: Callable[..., Path]) -> None:
    [problem] = problems(write("list.yaml", "- a\n- b\n"))
    assert problem.startswith("list.yaml:1:1: a framework file is a mapping")
    assert "not a list" in problem


def test_header_needs_exactly_one_of_id_and_extends_and_a_citation(write: Callable[..., Path]) -> None:
    assert problems(write("neither.yaml", "name: X\n"))[0].startswith(
        "neither.yaml:1:1: the file needs 'id' (to define a new framework) or 'extends'"
    )
    assert problems(write("both.yaml", HEADER + "extends: eis\n"))[0].startswith(
        "both.yaml:4:1: give either 'id' or 'extends', not both"
    )
    assert problems(write("nocite.yaml", "id: x\nname: X\n"))[0].startswith(
        "nocite.yaml:1:1: a framework needs 'citation'"
    )


def test_ids_and_kinds_must_be_slugs(write: Callable[..., Path]) -> None:
    path = write(
        "forms.yaml",
        HEADER + "entries:\n  - {id: Active Listening, name: Listening, kind: competency}\n"
        "  - {id: '33', name: Number, kind: competency}\n  - {id: ok, name: OK, kind: 'bad_kind!'}\n",
    )
    found = problems(path)
    assert len(found) == 3
    assert found[0].startswith("forms.yaml:5:6: 'entries.0.id': an id must be lower-case letters")
    assert found[0].endswith("(got 'Active Listening')")
    assert found[1].startswith("forms.yaml:6:6: 'entries.1.id'")
    assert found[1].endswith("(got '33')")
    assert found[2].startswith("forms.yaml:7:24: 'entries.2.kind': a kind must be lower-case words")


def test_declared_kinds_and_counts_are_enforced(write: Callable[..., Path]) -> None:
    path = write(
        "kinds.yaml",
        HEADER
        + "kinds: [area, competency]\n"
        + "counts: {area: 1, competency: 3}\n"
        + "entries:\n"
        + "  - {id: relating, name: Relating, kind: area}\n"
        + "  - {id: listening, name: Listening, kind: competncy, parent: relating}\n"
        + "  - {id: rapport, name: Rapport, kind: competency, parent: relating}\n",
    )
    found = problems(path)
    assert found[0] == (
        "kinds.yaml:8:38: kind 'competncy' is not one of this framework's kinds (did you mean 'competency'?)"
    )
    assert found[1].startswith(
        "kinds.yaml:5:1: 'counts' says 3 entries of kind 'competency' are published, but 1 are listed"
    )


def test_contradicting_verification_and_duplicate_numbers(write: Callable[..., Path]) -> None:
    path = write(
        "marks.yaml",
        HEADER
        + "entries:\n"
        + "  - {id: a, name: A, kind: x, number: 1, verified: true, verification: unverified}\n"
        + "  - {id: b, name: B, kind: x, number: 1}\n",
    )
    found = problems(path)
    assert found[0].startswith("marks.yaml:5:42: 'verified: true' contradicts 'verification: unverified'")
    assert found[1].startswith("marks.yaml:6:31: duplicate number 1 (first written on line 5)")


def test_all_files_are_reported_together(write: Callable[..., Path]) -> None:
    first = write("one.yaml", HEADER + "entries:\n  - {id: a, name: A, kind: x, parnt: b}\n")
    second = write("two.yaml", "")
    found = problems(first, second)
    assert [p.split(":")[0] for p in found] == ["one.yaml", "two.yaml"]
