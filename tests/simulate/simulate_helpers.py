"""Models and spec builders shared by the simulator tests."""

from __future__ import annotations

from typing import Any

#: strategy x acts through mechanisms m (and n) on outcome y, which leads to z; w moderates x->m; p is a
#: precondition of x.
TINY = {
    "model": "tiny",
    "nodes": [
        {"id": "x", "type": "strategy"},
        {"id": "m", "type": "mechanism"},
        {"id": "n", "type": "mechanism"},
        {"id": "y", "type": "proximal outcome"},
        {"id": "z", "type": "distal outcome"},
        {"id": "w", "type": "moderator"},
        {"id": "p", "type": "precondition", "level": "organization"},
    ],
    "edges": [
        {"from": "x", "to": "m"},
        {"from": "x", "to": "n"},
        {"from": "m", "to": "y"},
        {"from": "n", "to": "y"},
        {"from": "y", "to": "z"},
        {"from": "w", "to": "x->m"},
        {"from": "p", "to": "x"},
    ],
}


def spec(**overrides: Any) -> dict[str, Any]:
    """A one-wave, recipient-randomized spec of the tiny model; keyword groups replace or extend it."""
    base: dict[str, Any] = {
        "design": {"sites": 40, "recipients": 200, "randomization": {"level": "recipient"}},
        "paths": {"x->m": 0.5, "x->n": 0.3, "m->y": 0.4, "n->y": 0.3, "y->z": 0.5},
        "defaults": {"icc": 0.1, "stability": 0.0},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base
