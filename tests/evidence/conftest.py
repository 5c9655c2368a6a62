from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moclab.study import example_path, load_study


@pytest.fixture(scope="session")
def example_study():
    """The bundled example study, loaded once (read only)."""
    return load_study(example_path(), show_progress=False)


@pytest.fixture
def example_copy(tmp_path: Path):
    """A function writing a copy of the example study with `text` appended to its moclab.yaml; it returns
    the folder and the line number at which the appended text starts."""

    def make(text: str = "", model_text: str | None = None) -> tuple[Path, int]:
        folder = tmp_path / "study"
        shutil.copytree(example_path(), folder)
        config = folder / "moclab.yaml"
        original = config.read_text(encoding="utf-8")
        if not original.endswith("\n"):
            original += "\n"
        config.write_text(original + text, encoding="utf-8")
        if model_text is not None:
            (folder / "model.yaml").write_text(model_text, encoding="utf-8")
        return folder, original.count("\n") + 1

    return make
