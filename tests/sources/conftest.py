"""Fixtures for the source tests: a working directory of their own, and the standard dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest
from sources_helpers import FIELDS, dictionary_text, write


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, so messages name files as `records.csv`."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def dictionary(folder: Path) -> Path:
    """The standard synthetic data dictionary (every field type)."""
    return write(folder, "dictionary.csv", dictionary_text(FIELDS))
