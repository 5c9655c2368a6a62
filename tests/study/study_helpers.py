"""Helpers for the study tests: edit a copied study, collect and find the problems it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from moclab.errors import Problem, ValidationError
from moclab.study import load_study


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    """Replace `old` by `new` on one 1-based line of a text file (the test fails if `old` is not there)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], f"'{old}' not on line {line} of {path.name}: {lines[line - 1]!r}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def edit_text(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in a text file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"'{old}' occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, startswith: str) -> int:
    """The 1-based number of the first line starting with `startswith`."""
    for number, text in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if text.startswith(startswith):
            return number
    raise AssertionError(f"no line starting with {startswith!r} in {path.name}")


def problems_of(folder: Path) -> list[Problem]:
    """Every problem `load_study` reports for a study that must fail."""
    with pytest.raises(ValidationError) as caught:
        load_study(folder, show_progress=False)
    return caught.value.problems


def find(problems: list[Problem], text: str, **where: object) -> Problem:
    """The one problem whose message contains `text` and whose location matches `where`."""
    found = [
        problem
        for problem in problems
        if text in problem.message and all(getattr(problem, key) == value for key, value in where.items())
    ]
    listing = "\n".join(f"  {problem!r}" for problem in problems)
    assert len(found) == 1, (
        f"expected one problem with {text!r} and {where}, found {len(found)} in:\n{listing}"
    )
    return found[0]
