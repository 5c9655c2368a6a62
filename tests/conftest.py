"""Fixtures for every test: a clean environment and a file writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from moclab.catalog import ENV_VAR


@pytest.fixture(autouse=True)
def _no_user_frameworks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tester's own MOCLAB_FRAMEWORKS must not change which frameworks and references the tests see."""
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a text (or raw bytes) file under tmp_path and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write
