"""User framework files: new frameworks, extensions of existing ones, search paths and the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from moclab.catalog import ENV_VAR, Catalog, FrameworkFileError, check_files

ACME = """\
id: acme
name: Acme competencies
citation: Acme Health. Competency framework, 2025.
verification: verified
kinds: [area, competency]
entries:
  - {id: relating, name: Relating, kind: area}
  - {id: listening, name: Active listening, kind: competency, parent: relating, aliases: [listening]}
"""


def eis_names(count: int, extra: str = "") -> str:
    entry = "  - {{id: cpc-{0:02d}, name: Component {0}, kind: core practice component}}"
    lines = [entry.format(i) for i in range(count)]
    return "extends: eis\nsource: our reading of the paper\n" + extra + "entries:\n" + "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def load_problems(*paths: Path) -> list[str]:
    with pytest.raises(FrameworkFileError) as caught:
        Catalog.load(paths)
    return [str(problem) for problem in caught.value.problems]


def test_new_framework_from_a_file(write: Callable[..., Path]) -> None:
    catalog = Catalog.load([write("acme.yaml", ACME)])
    assert list(catalog.frameworks)[-1] == "acme"
    entry = catalog.get("acme:listening")
    assert entry.name == "Active listening"
    assert entry.verified  # the file says its entries are verified
    assert entry.citation == "Acme Health. Competency framework, 2025."
    assert catalog.search("activ listning", framework="acme")[0].entry is entry
    assert [e.id for e in catalog.children("acme")] == ["relating"]


def test_folder_and_environment_variable(write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    write("mine/acme.yaml", ACME)
    write("mine/notes.txt", "not a framework file")
    write("other/values.yml", "id: values\nname: Values\ncitation: Us, 2024.\nentries: []\n")
    from_folder = Catalog.load(["mine"])
    assert "acme" in from_folder.frameworks and "values" not in from_folder.frameworks
    monkeypatch.setenv(ENV_VAR, os.pathsep.join(["mine", "", "other"]))
    from_env = Catalog.load()
    assert {"acme", "values"} <= set(from_env.frameworks)
    assert "acme" not in Catalog.load(environment=False).frameworks


def test_same_file_given_twice_is_read_once(
    write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write("acme.yaml", ACME)
    monkeypatch.setenv(ENV_VAR, str(path.resolve()))
    catalog = Catalog.load([path])
    assert catalog.framework("acme").files == ("acme.yaml",)


def test_missing_path_from_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "gone.yaml")
    with pytest.raises(FrameworkFileError) as caught:
        Catalog.load()
    assert [str(p) for p in caught.value.problems] == [
        f"gone.yaml: file or folder not found (given in {ENV_VAR}; check the path)"
    ]


def test_redefining_a_bundled_framework_is_refused(write: Callable[..., Path]) -> None:
    path = write("eric.yaml", "id: eric\nname: My ERIC\ncitation: me\nentries: []\n")
    [problem] = load_problems(path)
    assert problem.startswith("eric.yaml:1:1: framework 'eric' is already bundled with moclab")
    assert "write 'extends: eric' instead of 'id'" in problem


def test_two_user_files_with_one_id(write: Callable[..., Path]) -> None:
    first = write("a.yaml", ACME)
    second = write("b.yaml", ACME)
    [problem] = load_problems(first, second)
    assert problem.startswith("b.yaml:1:1: framework 'acme' is already defined in a.yaml")


def test_extension_adds_entries_to_a_bundled_framework(write: Callable[..., Path]) -> None:
    path = write(
        "eric-extra.yaml",
        "extends: eric\nentries:\n"
        "  - {id: coaching, name: Implementation coaching, kind: strategy,"
        " parent: provide-interactive-assistance}\n",
    )
    catalog = Catalog.load([path])
    eric = catalog.framework("eric")
    assert eric.files == ("moclab/catalog/data/eric.yaml", "eric-extra.yaml")
    coaching = catalog.get("eric:coaching")
    assert coaching.verification == "unverified"  # not inherited from the bundled file
    assert coaching.defined_in == "eric-extra.yaml:3"
    assert [e.id for e in catalog.children("eric:provide-interactive-assistance")][-1] == "coaching"
    assert len(catalog.entries("eric", kind="strategy")) == 74
    # the bundled catalog itself is untouched
    assert len(Catalog.load(environment=False).entries("eric", kind="strategy")) == 73


def test_extension_id_clash_kind_and_unknown_target(write: Callable[..., Path]) -> None:
    clash = write("clash.yaml", "extends: eric\nentries:\n  - {id: facilitation, name: M, kind: strategy}\n")
    wrong_kind = write("kind.yaml", "extends: eric\nentries:\n  - {id: mine, name: Mine, kind: strategie}\n")
    unknown = write("unknown.yaml", "extends: ercc\nentries: []\n")
    found = load_problems(clash, wrong_kind, unknown)
    assert found == [
        "kind.yaml:3:28: kind 'strategie' is not one of the kinds of framework 'eric' "
        "(did you mean 'strategy'?)",
        "unknown.yaml:1:1: 'extends: ercc' names no known framework (did you mean 'eric'?)",
        "clash.yaml:3:6: id 'facilitation' already exists in framework 'eric' "
        "(at moclab/catalog/data/eric.yaml:57) (choose another id for the added entry)",
    ]


def test_extension_may_not_restate_the_framework_header(write: Callable[..., Path]) -> None:
    path = write("restate.yaml", "extends: eric\ncitation: my own\nentries: []\n")
    [problem] = load_problems(path)
    assert problem.startswith("restate.yaml:2:1: 'citation' cannot be set in a file that extends 'eric'")


def test_eis_names_supplied_by_the_user_are_counted(write: Callable[..., Path]) -> None:
    catalog = Catalog.load([write("eis-names.yaml", eis_names(10))])
    components = catalog.entries("eis", kind="core practice component")
    assert len(components) == 10
    assert {c.verification for c in components} == {"unverified"}
    assert components[0].source == "our reading of the paper"
    checked_file = write("eis-checked.yaml", eis_names(10, "verification: verified\n"))
    checked = Catalog.load([checked_file], environment=False)
    assert all(e.verified for e in checked.entries("eis"))


@pytest.mark.parametrize("count", [9, 11])
def test_eis_names_must_match_the_published_count(write: Callable[..., Path], count: int) -> None:
    [problem] = load_problems(write("eis-names.yaml", eis_names(count)))
    assert problem.startswith(
        "eis-names.yaml:4:37: framework 'eis' has 10 published entries of kind 'core practice component', "
        f"but {count} are given (in eis-names.yaml)"
    )


def test_check_files_reports_the_frameworks_a_file_touches(write: Callable[..., Path]) -> None:
    acme = write("acme.yaml", ACME)
    eis = write("eis-names.yaml", eis_names(10))
    assert [f.id for f in check_files([acme, eis])] == ["eis", "acme"]
