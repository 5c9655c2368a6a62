"""The command conventions of docs/cli.md, checked for every command of `moclab` (and every subcommand).

Commands run in this process through `moclab.cli.main.run`, as the installed `moclab` runs them: the exit
status is the one a user sees. Folder outputs are checked with the command's engine replaced by a stub that
stops the run as soon as the work starts, so that a refusal is shown to come before any work and an accepted
folder is shown to reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from moclab.cli.conventions import (
    check_output_file,
    check_output_folder,
    mark_output_folder,
    parse_draw_range,
    parse_sweep,
)
from moclab.cli.main import COMMANDS, app
from moclab.errors import MoclabError, UsageError
from moclab.qual import example_project_path
from moclab.study import example_path

from .conftest import run_moclab as moclab


def _commands(group: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object]]:
    context = typer.Context(group)  # type: ignore[arg-type]
    for name in sorted(group.list_commands(context)):  # type: ignore[attr-defined]
        command = group.get_command(context, name)  # type: ignore[attr-defined]
        if hasattr(command, "list_commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


ROOT = typer.main.get_command(app)
#: Every command a user can run, by its words: ("analyze",), ("qual", "analyze"), ...
EVERY_COMMAND = dict(_commands(ROOT, ()))


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")


def test_every_listed_command_is_walked():
    assert {words[0] for words in EVERY_COMMAND} == set(COMMANDS)
    assert ("qual", "analyze") in EVERY_COMMAND and ("redcap", "check") in EVERY_COMMAND


@pytest.mark.parametrize("words", sorted(EVERY_COMMAND), ids=" ".join)
def test_help_shows_flags_without_a_value_type(capsys, words):
    code, out, err = moclab(capsys, *words, "--help")
    assert code == 0, err
    assert "Usage: " in out and " ".join(words) in out
    assert "<bool>" not in out and "--help" in out


def test_the_main_help_shows_flags_without_a_value_type(capsys):
    code, out, _ = moclab(capsys, "--help")
    assert code == 0 and "--version" in out and "<bool>" not in out


def _dummy_arguments(command: object) -> list[str]:
    """A value for each argument of `command`, so that an option's bad value is what the parser meets."""
    return ["x" for param in command.params if param.param_type_name == "argument"]  # type: ignore[attr-defined]


def _whole_number_options(command: object) -> list[str]:
    return [
        param.opts[0]
        for param in command.params  # type: ignore[attr-defined]
        if param.param_type_name == "option" and param.type_descriptor.annotation in (int, int | None)
    ]


@pytest.mark.parametrize("words", sorted(EVERY_COMMAND), ids=" ".join)
def test_an_unknown_option_is_a_usage_error(capsys, words):
    code, _, err = moclab(capsys, *words, *_dummy_arguments(EVERY_COMMAND[words]), "--no-such-option")
    assert code == 2
    assert "No such option" in err and "Traceback" not in err


WHOLE_NUMBER_OPTIONS = [
    (words, option)
    for words, command in sorted(EVERY_COMMAND.items())
    for option in _whole_number_options(command)
]


@pytest.mark.parametrize(
    ("words", "option"), WHOLE_NUMBER_OPTIONS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else v
)
def test_a_count_that_is_not_a_number_is_a_usage_error(capsys, words, option):
    code, _, err = moclab(capsys, *words, *_dummy_arguments(EVERY_COMMAND[words]), option, "lots")
    assert code == 2, err
    assert f"Invalid value for '{option}'" in err and "Traceback" not in err


class WorkStarted(MoclabError):
    """Raised by the stub engines: the command's checks passed and its work began."""


def _work_started(*args: object, **kwargs: object) -> None:
    raise WorkStarted("the work started")


#: Every command with a folder output: its engine (replaced by `_work_started`) and its words, the folder
#: marked FOLDER; records.csv and dictionary.csv are empty files in the test's folder.
FOLDER_COMMANDS = {
    "analyze": ("moclab.evidence.analyze", ["analyze", str(example_path()), "-o", "FOLDER"]),
    "demo": ("moclab.simulate.simulate_study", ["demo", "-o", "FOLDER"]),
    "simulate": ("moclab.simulate.compile_simulation", ["simulate", "recipient-pathway", "-o", "FOLDER"]),
    "power": ("moclab.design.power_analysis", ["power", "recipient-pathway", "-o", "FOLDER"]),
    "qual analyze": ("moclab.qual.analyses.analyze_project", ["qual", "analyze", "-o", "FOLDER"]),
    "qual profiles": ("moclab.qual.profiles.episode_profiles", ["qual", "profiles", "-o", "FOLDER"]),
    "import": (
        "moclab.study.sources.import_redcap_study",
        ["import", "redcap", "records.csv", "dictionary.csv", "-o", "FOLDER"],
    ),
    "new": ("moclab.study.new_study", ["new", "FOLDER"]),
    "example": ("moclab.study.copy_example", ["example", "FOLDER"]),
}


@pytest.fixture
def stubbed(request, monkeypatch, tmp_path) -> tuple[str, list[str], Path]:
    """The command's words with FOLDER in tmp_path, its engine stubbed, and the working folder there."""
    command = request.param
    engine, words = FOLDER_COMMANDS[command]
    monkeypatch.setattr(engine, _work_started)
    monkeypatch.chdir(tmp_path)
    for name in ("records.csv", "dictionary.csv"):
        (tmp_path / name).write_text("", encoding="utf-8")
    folder = tmp_path / "out"
    return command, [str(folder) if word == "FOLDER" else word for word in words], folder


def _listing(folder: Path) -> dict[str, bytes]:
    return {item.name: item.read_bytes() for item in folder.iterdir()}


@pytest.mark.parametrize("stubbed", sorted(FOLDER_COMMANDS), indirect=True)
def test_a_folder_of_other_files_is_refused_even_with_force(capsys, stubbed):
    _, words, folder = stubbed
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"precious")
    for force in ([], ["--force"]):
        code, _, err = moclab(capsys, *words, *force)
        assert code == 2, err
        assert "moclab did not write (thesis.docx)" in err and "the work started" not in err
        assert _listing(folder) == {"thesis.docx": b"precious"}


@pytest.mark.parametrize("stubbed", sorted(FOLDER_COMMANDS), indirect=True)
def test_an_earlier_output_is_replaced_only_with_force(capsys, stubbed):
    command, words, folder = stubbed
    mark_output_folder(folder, command)
    (folder / "result.csv").write_text("earlier", encoding="utf-8")
    before = _listing(folder)
    code, _, err = moclab(capsys, *words)
    assert code == 2, err
    assert f"earlier `moclab {command}`" in err and "--force" in err and "the work started" not in err
    assert _listing(folder) == before
    code, _, err = moclab(capsys, *words, "--force")
    assert "the work started" in err, err  # the folder was accepted and the work began
    assert code == 1


@pytest.mark.parametrize("stubbed", sorted(FOLDER_COMMANDS), indirect=True)
def test_a_file_name_for_a_folder_output_is_refused(capsys, stubbed, tmp_path):
    _, words, folder = stubbed
    page = tmp_path / "report.html"
    code, _, err = moclab(capsys, *[str(page) if word == str(folder) else word for word in words])
    assert code == 2, err
    assert "writes a folder, not a file" in err and "-o " in err and "the work started" not in err
    assert not page.exists()


#: Every command with a file output: its words, with FILE the output (which exists before the run).
FILE_COMMANDS = {
    "draw": ["draw", "recipient-pathway", "-o", "FILE.svg"],
    "model export": ["model", "export", "recipient-pathway", "--to", "lavaan", "-o", "FILE.lav"],
    "redcap dictionary": ["redcap", "dictionary", "aim", "-o", "FILE.csv"],
    "score": ["score", str(example_path()), "-o", "FILE.csv"],
    "redcap check": ["redcap", "check", "records.csv", "dictionary.csv", "--report", "FILE.csv"],
    "qual example": ["qual", "example", "FILE.qdpx"],
    "qual export": ["qual", "export", str(example_project_path()), "-o", "FILE.qde"],
    "qual codebook": ["qual", "codebook", "cfir2", "-o", "FILE.qdc"],
    "qual agreement": ["qual", "agreement", "-o", "FILE.csv"],
    "qual cooccurrence": ["qual", "cooccurrence", "-o", "FILE.csv"],
    "qual pathway": ["qual", "pathway", "-o", "FILE.svg"],
}


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
def test_an_existing_output_file_needs_force(capsys, monkeypatch, tmp_path, command):
    monkeypatch.chdir(tmp_path)
    words = [word.replace("FILE", str(tmp_path / "out")) for word in FILE_COMMANDS[command]]
    target = Path(words[-1])
    target.write_text("mine", encoding="utf-8")
    code, _, err = moclab(capsys, *words)
    assert code == 2 and "the file exists" in err and "--force" in err
    assert target.read_text(encoding="utf-8") == "mine"
    command_words = words[:-2] if words[-2].startswith("-") else words[:-1]
    assert "--force" in moclab(capsys, *command_words, "--help")[1]


# -- the functions behind the conventions --------------------------------------------------------------


def test_parse_sweep_reads_lists_and_sweeps_with_the_stop_included():
    assert parse_sweep("10:40:10", "--sites") == [10, 20, 30, 40]
    assert parse_sweep("10:45:10", "--sites") == [10, 20, 30, 40]
    assert parse_sweep("40, 10,20", "--sites") == [10, 20, 40]
    assert parse_sweep("12", "--sites") == [12]
    assert parse_sweep("0:2", "--waves", minimum=0) == [0, 1, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20..50", "is a range to draw from"),
        ("40:10:10", "START <= STOP"),
        ("10:40:0", "STEP >= 1"),
        ("0,10", "below 1"),
        ("ten", "not a whole number"),
        ("10:20:5:1", "not a sweep"),
    ],
)
def test_parse_sweep_refuses_other_forms(text, message):
    with pytest.raises(UsageError, match=message) as refused:
        parse_sweep(text, "--sites")
    assert "10:40:10" in str(refused.value)


def test_parse_draw_range_reads_a_range_or_one_number():
    assert parse_draw_range("20..50", "--per-site") == (20, 50)
    assert parse_draw_range(" 30 ", "--per-site") == (30, 30)


@pytest.mark.parametrize(
    ("text", "message"), [("30:70", "uses colons"), ("50..20", "LOW is above HIGH"), ("0..5", "below 1")]
)
def test_parse_draw_range_refuses_other_forms_showing_both(text, message):
    with pytest.raises(UsageError, match=message) as refused:
        parse_draw_range(text, "--per-site")
    if ":" in text:
        assert "20..50" in str(refused.value) and "10:40:10" in str(refused.value)


def test_check_output_folder_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths in messages are shown relative to the working folder
    study = tmp_path / "study"
    study.mkdir()
    (study / "moclab.yaml").write_text("title: x\n", encoding="utf-8")
    assert check_output_folder(tmp_path / "new", force=False, command="analyze") == tmp_path / "new"
    assert not (tmp_path / "new").exists()  # nothing is created
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_output_folder(empty, force=False, command="analyze") == empty
    for inside in (study, study / "report"):
        with pytest.raises(UsageError, match="inside the input"):
            check_output_folder(inside, force=True, command="analyze", inputs=[study])
    with pytest.raises(UsageError, match="moclab analyze` writes a folder, not a file") as refused:
        check_output_folder(tmp_path / "report.html", force=False, command="analyze")
    assert "report/index.html" in refused.value.message and refused.value.hint.endswith("-o report")
    with pytest.raises(UsageError, match="is a file"):
        check_output_folder(study / "moclab.yaml" / "out", force=False, command="simulate")
    older = tmp_path / "older"
    older.mkdir()
    (older / ".moclab-report").write_text("written by moclab (moclab.report)\n", encoding="utf-8")
    (older / "index.html").write_text("<html>", encoding="utf-8")
    with pytest.raises(UsageError, match="earlier `moclab analyze`"):
        check_output_folder(older, force=False, command="analyze")
    assert check_output_folder(older, force=True, command="analyze") == older


def test_check_output_file_rules(tmp_path):
    table = tmp_path / "scores.csv"
    assert check_output_file(table, force=False) == table
    table.write_text("a", encoding="utf-8")
    with pytest.raises(UsageError, match="the file exists"):
        check_output_file(table, force=False)
    assert check_output_file(table, force=True) == table
    with pytest.raises(UsageError, match="is a folder"):
        check_output_file(tmp_path, force=True)
    with pytest.raises(UsageError, match="inside the input"):
        check_output_file(table, force=True, inputs=[tmp_path])
