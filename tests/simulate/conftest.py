"""Fixtures for the simulator tests."""

from __future__ import annotations

import copy

import pytest
from simulate_helpers import TINY

from moclab.catalog import ENV_VAR
from moclab.model import PathwayModel, model_from_dict


@pytest.fixture(autouse=True)
def _no_user_frameworks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tester's own framework files must not change which references resolve."""
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture(scope="session")
def tiny() -> PathwayModel:
    return model_from_dict(copy.deepcopy(TINY), catalog=None)
