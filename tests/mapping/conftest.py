from __future__ import annotations

import pytest

from moclab.study import example_path, load_study


@pytest.fixture(scope="session")
def example_study():
    """The bundled example study, loaded once (read only)."""
    return load_study(example_path(), show_progress=False)
