"""The examples in docs/catalog.md run as written: its YAML files load, its commands succeed, its Python runs,
and the error it shows for a broken file is the error moclab gives."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moclab.catalog import Catalog, FrameworkFileError
from moclab.cli.main import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == language]


def example_files() -> dict[str, str]:
    files = {}
    for body in blocks("yaml"):
        match = re.match(r"# file: (\S+)\n", body)
        assert match, "every YAML example in the docs starts with '# file: NAME'"
        files[match.group(1)] = body
    return files


@pytest.fixture
def docs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, body in example_files().items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def test_docs_have_the_examples_the_tests_rely_on() -> None:
    assert set(example_files()) == {"acme-competencies.yaml", "eis-components.yaml", "broken.yaml"}
    assert len(blocks("console")) == 1 and len(blocks("python")) == 1


def test_example_framework_files_load(docs_folder: Path) -> None:
    catalog = Catalog.load(["acme-competencies.yaml", "eis-components.yaml"], environment=False)
    assert catalog.framework("acme-competencies").kind_counts() == {"area": 2, "competency": 5}
    components = catalog.entries("eis", kind="core practice component")
    assert len(components) == 10
    assert not any(c.verified for c in components)  # placeholders stay unverified


COMMANDS = [line[2:] for line in blocks("console")[0].splitlines() if line.startswith("$ ")]


@pytest.mark.parametrize("command", COMMANDS)
def test_console_examples_run(docs_folder: Path, command: str) -> None:
    words = shlex.split(command)
    env = {}
    while "=" in words[0]:  # leading VAR=value assignments, as a shell would read them
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[:2] == ["moclab", "catalog"]
    result = CliRunner().invoke(app, words[1:], env=env)
    assert result.exit_code == 0, f"{command}\n{result.output}\n{result.exception!r}"
    assert result.output.strip()


def test_python_example_runs(docs_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(blocks("python")[0], str(DOC), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[:4] == [
        "eric:facilitation Facilitation True",
        "['Provide interactive assistance']",
        "48",
        "eric:facilitation (Facilitation)",
    ]
    assert printed[4] == "['Building rapport', 'Active listening', 'Naming tensions']"


def test_broken_example_gives_the_documented_problems(docs_folder: Path) -> None:
    shown = blocks("text")[0].splitlines()
    with pytest.raises(FrameworkFileError) as caught:
        Catalog.load(["broken.yaml"], environment=False)
    assert shown[0] == f"framework files: {len(caught.value.problems)} problem(s) found"
    assert shown[1:] == [f"  - {problem}" for problem in caught.value.problems]
