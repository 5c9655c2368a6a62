"""The `moclab catalog` commands, run through the typer app (and through `run()` for error printing)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moclab.catalog import FrameworkFileError
from moclab.cli.main import app, run
from moclab.errors import CatalogError

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_plain_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a wide console keeps long ids on one line, so the assertions do not depend on wrapping
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def invoke(*args: str):
    return runner.invoke(app, ["catalog", *args])


def test_list_shows_frameworks_with_counts() -> None:
    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert "cluster 9, strategy 73" in result.output
    assert "domain 5, subdomain 2, construct 48, subconstruct 19" in result.output
    assert "core practice component 0 of 10" in result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│ eric ")]
    assert len(rows) == 1 and "Powell et al. 2015" in rows[0] and rows[0].rstrip(" │").endswith("25")


def test_list_one_framework_as_a_tree_with_markers() -> None:
    result = invoke("list", "eric")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    facilitation = next(line for line in lines if "eric:facilitation " in line)
    assert "33. Facilitation" in facilitation and "not verified" not in facilitation
    remind = next(line for line in lines if "eric:remind-clinicians" in line)
    assert "not verified (by elimination)" in remind
    assert sum("  strategy" in line for line in lines) == 73


def test_list_stub_framework_explains_what_is_missing() -> None:
    result = invoke("list", "eis")
    assert result.exit_code == 0
    assert "No entries are bundled for this framework" in result.output
    assert "extends: eis" in result.output


def test_show_entry_with_path_children_and_verification() -> None:
    result = invoke("show", "eric:33")
    assert result.exit_code == 0, result.output
    assert "eric:facilitation  (also eric:33)" in result.output
    assert "> Provide interactive assistance > Facilitation" in result.output
    assert "verified: seen in the primary source" in result.output
    assert "10.1186/s13012-015-0209-1" in result.output

    cluster = invoke("show", "eric:support-clinicians")
    assert "contains (5)" in cluster.output
    assert "not verified: follows by elimination" in cluster.output
    assert "eric:remind-clinicians" in cluster.output


def test_show_framework() -> None:
    result = invoke("show", "cfir2")
    assert result.exit_code == 0
    assert "Damschroder LJ, Reardon CM" in result.output
    assert "domain 5, subdomain 2, construct 48, subconstruct 19" in result.output


def test_show_unknown_raises_with_suggestion() -> None:
    result = invoke("show", "eric:facilitaton")
    assert result.exit_code == 1
    assert isinstance(result.exception, CatalogError)
    assert result.exception.hint == "did you mean 'eric:facilitation'?"


def test_search_ranks_typos_and_filters() -> None:
    result = invoke("search", "facilitaton", "--limit", "2")
    assert result.exit_code == 0, result.output
    ids = [line.split("│")[2].strip() for line in result.output.splitlines() if line.startswith("│")]
    assert ids == ["eric:facilitation", "isp-competencies:facilitation"]
    only = invoke("search", "trust", "--framework", "albers-mechanisms", "-n", "1")
    assert "albers-mechanisms:trust" in only.output and "recipient-pathway" not in only.output
    nothing = invoke("search", "zqxv wplk")
    assert nothing.exit_code == 0
    assert "No entries match 'zqxv wplk'" in nothing.output


def test_search_with_unknown_framework_is_an_error() -> None:
    result = invoke("search", "trust", "--framework", "albrs-mechanisms")
    assert isinstance(result.exception, CatalogError)
    assert "did you mean 'albers-mechanisms'?" in (result.exception.hint or "")


def test_user_file_via_path_and_check(write: Callable[..., Path]) -> None:
    write(
        "acme.yaml",
        "id: acme\nname: Acme\ncitation: Acme, 2025.\n"
        "entries:\n  - {id: listening, name: Listening, kind: skill}\n",
    )
    listed = invoke("list", "acme", "--path", "acme.yaml")
    assert listed.exit_code == 0, listed.output
    assert "Listening  acme:listening  skill  not verified" in listed.output
    checked = invoke("check", "acme.yaml")
    assert checked.exit_code == 0
    assert checked.output.strip() == "ok: defines framework 'acme' (1 entry; skill 1)"


def test_bad_file_gives_a_located_error(write: Callable[..., Path]) -> None:
    write("bad.yaml", "id: acme\nname: Acme\ncitation: Acme, 2025.\nentries:\n  - {id: a, nme: A, kind: x}\n")
    result = invoke("list", "--path", "bad.yaml")
    assert result.exit_code == 1
    assert isinstance(result.exception, FrameworkFileError)
    shown = [str(p) for p in result.exception.problems]
    assert "bad.yaml:5:13: unknown key 'nme' (did you mean 'name'?)" in shown


def test_console_entry_prints_located_error_without_traceback(
    write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write("bad.yaml", "id: acme\nname: Acme\ncitation: Acme, 2025.\nentries:\n  - {id: a, nme: A, kind: x}\n")
    monkeypatch.setattr(sys, "argv", ["moclab", "catalog", "check", "bad.yaml"])
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "framework files: 2 problem(s) found" in err
    assert "bad.yaml:5:13: unknown key 'nme' (did you mean 'name'?)" in err
    assert "Traceback" not in err
