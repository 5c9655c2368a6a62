"""Fixtures for the measures tests: instrument files to write, and a fresh copy of the example study."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from measures_helpers import VALID_INSTRUMENT

from moclab.study import example_path


@pytest.fixture
def instrument_file(tmp_path: Path) -> Path:
    """A valid user instrument file (sum scoring, a reverse key, two subscales)."""
    path = tmp_path / "team-climate.yaml"
    path.write_text(VALID_INSTRUMENT, encoding="utf-8")
    return path


@pytest.fixture
def study_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the bundled example study; the working directory is the study."""
    destination = tmp_path / "study"
    shutil.copytree(example_path(), destination)
    monkeypatch.chdir(destination)
    return destination
