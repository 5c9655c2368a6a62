"""Fixtures for the study tests: a fresh copy of the example study to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moclab.study import example_path


@pytest.fixture
def study_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the bundled example study, free to edit; the working directory is the study.

    Messages name files relative to the working directory, so inside the study they read `data/measures.csv`
    and `moclab.yaml`, as a user who runs `moclab validate .` sees them.
    """
    destination = tmp_path / "study"
    shutil.copytree(example_path(), destination)
    monkeypatch.chdir(destination)
    return destination
