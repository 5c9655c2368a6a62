"""The `moclab` command as a user meets it: exit codes, readable errors, tracebacks only with --debug."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from moclab import __version__


def moclab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console-script entry point in a fresh interpreter, as the installed `moclab` does."""
    return subprocess.run(
        [sys.executable, "-c", "from moclab.cli.main import run; run()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        check=False,
    )


def test_version():
    done = moclab("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"moclab {__version__}"


def test_an_error_is_one_readable_message_without_a_traceback(tmp_path):
    done = moclab("draw", str(tmp_path / "no-such-model.yaml"), "-o", str(tmp_path / "x.svg"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "no-such-model" in done.stderr
    assert not (tmp_path / "x.svg").exists()


def test_debug_shows_the_traceback(tmp_path):
    done = moclab("--debug", "draw", str(tmp_path / "no-such-model.yaml"), "-o", str(tmp_path / "x.svg"))
    assert done.returncode != 0
    assert "Traceback" in done.stderr


def test_a_usage_error_names_the_problem_and_exits_2():
    done = moclab("catalog", "show")
    assert done.returncode == 2
    assert "Missing argument" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_writes_its_files_and_may_run_again_into_its_own_folder(tmp_path):
    out = tmp_path / "demo"
    first = moclab("demo", "-o", str(out), "--n-boot", "200", "--sites", "12")
    assert first.returncode == 0, first.stderr
    assert "synthetic" in first.stdout
    assert "isp_support" in first.stdout  # the scorecard's pathways
    page = out / "report" / "index.html"
    assert first.stdout.strip().splitlines()[-1] == str(page.resolve())
    assert "<html" in page.read_text(encoding="utf-8")
    truth = json.loads((out / "study" / "truth.json").read_text())
    assert truth["seed"] == 2024
    assert truth["null_mechanisms"] == ["credibility"]
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["settings"]["n_boot"] == 200
    assert (out / "interviews").is_dir() and any((out / "interviews").iterdir())
    (out / "my-notes.txt").write_text("mine", encoding="utf-8")
    refused = moclab("demo", "-o", str(out), "--n-boot", "200", "--sites", "12")
    assert refused.returncode == 2 and "--force" in refused.stderr
    again = moclab("demo", "-o", str(out), "--n-boot", "200", "--sites", "12", "--force")
    assert again.returncode == 0, again.stderr
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "mine"


def test_demo_refuses_a_folder_it_did_not_write(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"precious")
    done = moclab("demo", "-o", str(mine), "--force")
    assert done.returncode == 2
    assert "refusing" in done.stderr
    assert (mine / "thesis.docx").read_bytes() == b"precious"
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.docx"]


def test_help_lists_every_command_with_the_first_line_of_its_own_help():
    """`moclab --help` lists commands from `COMMANDS` without importing their modules; each entry must name
    the module that registers the command and repeat the first paragraph of its help."""
    import inspect
    import pkgutil

    import typer.main

    import moclab.cli
    from moclab.cli.main import COMMANDS, area_app

    areas = {
        info.name
        for info in pkgutil.iter_modules(moclab.cli.__path__)
        if hasattr(importlib.import_module(f"moclab.cli.{info.name}"), "register")
    }
    assert {module for module, _ in COMMANDS.values()} == areas
    registered = {}
    for area in sorted(areas):
        for name, command in typer.main.get_group(area_app(area)).commands.items():
            first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
            registered[name] = (area, first_paragraph.strip())
    assert registered == COMMANDS
