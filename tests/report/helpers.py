"""Constants and small simulated studies of the report tests (see conftest.py for the fixtures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moclab.model import model_from_dict

TRUST = "isp_support__trust__acceptability"
CREDIBILITY = "isp_support__credibility__acceptability"
QUICK = {"n_boot": 200, "seed": 11, "show_progress": False}

#: coaching acts through trust (a real mechanism) and, in theory, through credibility (a null one).
MODEL: dict[str, Any] = {
    "model": "coaching",
    "title": "Coaching through trust (report test model)",
    "nodes": [
        {"id": "coaching", "type": "strategy", "ref": "eric:facilitation"},
        {"id": "trust", "type": "mechanism", "ref": "recipient-pathway:trust"},
        {"id": "credibility", "type": "mechanism", "ref": "recipient-pathway:credibility"},
        {"id": "acceptability", "type": "proximal outcome", "ref": "recipient-pathway:acceptability"},
    ],
    "edges": [
        {"from": "coaching", "to": "trust"},
        {"from": "coaching", "to": "credibility"},
        {"from": "trust", "to": "acceptability"},
        {"from": "credibility", "to": "acceptability"},
    ],
}
SIM_TRUST = "coaching__trust__acceptability"
SIM_CREDIBILITY = "coaching__credibility__acceptability"


def simulation_spec(*, randomization: str, waves: int, sites: int, recipients: int) -> dict[str, Any]:
    design: dict[str, Any] = {
        "sites": sites,
        "recipients": recipients,
        "randomization": {"level": randomization, "arms": {"coaching": "coached"}, "control": "usual"},
        "waves": {"count": waves, "interval_months": 6},
    }
    if randomization == "none":
        design["randomization"] = {"level": "none"}
    if waves == 1:
        design["start_month"] = -1
    lag = 1 if waves > 1 else 0
    return {
        "title": "Coaching trial (simulated for the report tests)",
        "design": design,
        "paths": {
            "coaching->trust": 0.5,
            "coaching->credibility": 0.0,
            "trust->acceptability": {"effect": 0.4, "lag": lag},
            "credibility->acceptability": {"effect": 0.2, "lag": lag},
        },
        "null_mechanisms": ["credibility"],
        "defaults": {"icc": 0.05, "stability": 0.4, "range": [1, 5], "mean": 3.0, "sd": 0.8, "decimals": 2},
        "dose": {
            "level": "recipient",
            "minutes_per_month": 120,
            "cv": 0.6,
            "contact_minutes": 30,
            "slopes": {"trust": 0.3},
        },
        "missing": {"rate": 0.03},
    }


def simulate(folder: Path, seed: int, **design: Any) -> Path:
    from moclab.simulate import simulate_study

    model = model_from_dict(MODEL, catalog=None)
    return simulate_study(model, simulation_spec(**design), seed=seed).write(folder)
