"""Fixtures for the catalog tests (the clean environment and `write` come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from moclab.catalog import Catalog, default_catalog


@pytest.fixture
def catalog() -> Catalog:
    return default_catalog()
