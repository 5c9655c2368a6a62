"""Shared models and specs of the power-analysis tests."""

from __future__ import annotations

import pytest

from moclab.model import PathwayModel, model_from_dict


def _single_mediator_model() -> PathwayModel:
    """X → M → Y, the single-mediator model of MacKinnon et al. (2002) and Fritz & MacKinnon (2007)."""
    return model_from_dict(
        {
            "model": "single-mediator",
            "nodes": [
                {"id": "x", "type": "strategy"},
                {"id": "m", "type": "mechanism"},
                {"id": "y", "type": "proximal outcome"},
            ],
            "edges": [{"from": "x", "to": "m"}, {"from": "m", "to": "y"}],
        }
    )


def _mackinnon_spec(a: float, b: float, n: int) -> dict:
    """Standard normal X, unit residual variances of M and Y, no direct effect, one site, no clustering.

    Stability 0: the one wave carries nothing over from before the study (with the default 0.4, Y's own past
    would be an omitted common cause of M and Y in a one-wave regression).
    """
    return {
        "scale": "unit-residual",
        "design": {
            "sites": 1,
            "recipients": n,
            "randomization": {"level": "recipient", "exposure": "continuous"},
        },
        "paths": {"x->m": a, "m->y": b},
        "defaults": {"icc": 0.0, "stability": 0.0, "decimals": 10},
    }


@pytest.fixture(scope="session")
def mediator_model() -> PathwayModel:
    return _single_mediator_model()


@pytest.fixture(scope="session")
def mackinnon_spec():
    """``mackinnon_spec(a, b, n)``: the spec of the published single-mediator simulations."""
    return _mackinnon_spec


@pytest.fixture(scope="session")
def clustered_spec():
    """``clustered_spec(sites, per_site, waves, missing)``: a site-randomized two-mechanism trial."""
    return _clustered_spec


@pytest.fixture(scope="session")
def two_mechanism_model() -> PathwayModel:
    """A strategy acting through two competing mechanisms on one outcome."""
    return model_from_dict(
        {
            "model": "two-mechanisms",
            "nodes": [
                {"id": "coaching", "type": "strategy"},
                {"id": "trust", "type": "mechanism"},
                {"id": "knowledge", "type": "mechanism"},
                {"id": "acceptability", "type": "proximal outcome"},
            ],
            "edges": [
                {"from": "coaching", "to": "trust"},
                {"from": "coaching", "to": "knowledge"},
                {"from": "trust", "to": "acceptability"},
                {"from": "knowledge", "to": "acceptability"},
            ],
        }
    )


def _clustered_spec(sites: int = 12, per_site: int = 25, waves: int = 2, missing: float = 0.05) -> dict:
    return {
        "design": {
            "sites": sites,
            "recipients": per_site,
            "randomization": {"level": "site"},
            "waves": {"count": waves, "interval_months": 6},
        },
        "paths": {
            "coaching->trust": 0.5,
            "trust->acceptability": 0.4,
            "coaching->knowledge": 0.2,
            "knowledge->acceptability": 0.2,
        },
        "defaults": {"icc": 0.1},
        "missing": {"rate": missing},
    }
