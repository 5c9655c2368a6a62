"""Small studies for the evidence tests: a coaching → trust / credibility → adoption model, simulated by
moclab.simulate with a known truth, or written by hand (numpy) for the edge cases a simulator would not make.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from moclab.model import model_from_dict
from moclab.study import load_study

#: The model of the tests: coaching acts through trust (a real mechanism in the simulations) and, in theory,
#: through credibility (a null mechanism: the strategy does not move it).
MODEL: dict[str, Any] = {
    "model": "coaching",
    "title": "Coaching through trust (test model)",
    "nodes": [
        {"id": "coaching", "type": "strategy", "ref": "eric:facilitation"},
        {"id": "trust", "type": "mechanism", "ref": "recipient-pathway:trust"},
        {"id": "credibility", "type": "mechanism", "ref": "recipient-pathway:credibility"},
        {"id": "acceptability", "type": "proximal outcome", "ref": "recipient-pathway:acceptability"},
        {"id": "engagement_length", "type": "moderator", "level": "team"},
    ],
    "edges": [
        {"from": "coaching", "to": "trust"},
        {"from": "coaching", "to": "credibility"},
        {"from": "trust", "to": "acceptability"},
        {"from": "credibility", "to": "acceptability"},
        {"from": "engagement_length", "to": "coaching->trust"},
    ],
}

REAL = "coaching__trust__acceptability"
NULL = "coaching__credibility__acceptability"


def model() -> Any:
    return model_from_dict(MODEL, catalog=None)


def spec(
    *,
    sites: int = 24,
    recipients: int = 40,
    randomization: str = "site",
    waves: int = 3,
    dose: bool = True,
    a: float = 0.5,
    b: float = 0.4,
) -> dict[str, Any]:
    """A simulation spec: trust is a real mechanism (a, b), credibility a null one (its b path stays)."""
    design: dict[str, Any] = {
        "sites": sites,
        "recipients": recipients,
        "teams": {"range": [2, 3]},
        "randomization": {"level": randomization, "arms": {"coaching": "coached"}, "control": "usual"},
        "waves": {"count": waves, "interval_months": 6},
    }
    if waves == 1:
        design["start_month"] = -1
    result: dict[str, Any] = {
        "design": design,
        "paths": {
            "coaching->trust": a,
            "coaching->credibility": 0.0,
            "trust->acceptability": {"effect": b, "lag": 1 if waves > 1 else 0},
            "credibility->acceptability": {"effect": 0.2, "lag": 1 if waves > 1 else 0},
        },
        "null_mechanisms": ["credibility"],
        "defaults": {"icc": 0.05, "stability": 0.4, "range": [1, 5], "mean": 3.0, "sd": 0.8, "decimals": 2},
        "moderators": {
            "engagement_length": {
                "kind": "binary",
                "values": ["high", "limited"],
                "level": "team",
                "interaction": 0.0,
            }
        },
        "missing": {"rate": 0.02},
    }
    if dose:
        result["dose"] = {
            "level": "recipient",
            "minutes_per_month": 120,
            "cv": 0.6,
            "contact_minutes": 30,
            "slopes": {"trust": 0.3},
        }
    return result


def simulated_study(folder: Path, seed: int, **options: Any) -> Path:
    """Simulate a study of the test model and write it to `folder`; returns the folder."""
    from moclab.simulate import simulate_study

    return simulate_study(model(), spec(**options), seed=seed).write(folder)


def write_study(
    folder: Path,
    *,
    recipients: pd.DataFrame,
    measures: pd.DataFrame,
    waves: list[dict[str, Any]],
    randomization: dict[str, Any] | None = None,
    activities: pd.DataFrame | None = None,
    model_dict: dict[str, Any] | None = None,
    evidence: dict[str, Any] | None = None,
    extra_columns: dict[str, Any] | None = None,
) -> Path:
    """Write a hand-made study folder (moclab.yaml, model.yaml, data/*.csv)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    recipients.to_csv(folder / "data" / "recipients.csv", index=False)
    measures.to_csv(folder / "data" / "measures.csv", index=False)
    tables: dict[str, Any] = {
        "recipients": {"path": "data/recipients.csv", "id": "recipient_id", "cluster": "site"},
        "measures": {"path": "data/measures.csv"},
    }
    if "arm" in recipients.columns:
        tables["recipients"]["arm"] = "arm"
        tables["recipients"]["columns"] = {"arm": {"type": "category", "node": "coaching"}}
    if extra_columns:
        tables["recipients"].setdefault("columns", {}).update(extra_columns)
    if activities is not None:
        activities.to_csv(folder / "data" / "activities.csv", index=False)
        tables["activities"] = {
            "path": "data/activities.csv",
            "date": "date",
            "recipient": "recipient_id",
            "cluster": "site",
            "component": "component",
            "minutes": "minutes",
        }
    config: dict[str, Any] = {
        "format": 1,
        "title": "Hand-made test study",
        "synthetic": True,
        "model": "model.yaml",
        "design": {
            "unit": "recipient",
            "cluster": "site",
            "randomization": randomization or {"level": "none"},
            "waves": waves,
        },
        "tables": tables,
    }
    if evidence is not None:
        config["evidence"] = evidence
    (folder / "moclab.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (folder / "model.yaml").write_text(yaml.safe_dump(model_dict or MODEL, sort_keys=False), encoding="utf-8")
    return folder


def cross_sectional(
    n_sites: int = 1, per_site: int = 120, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One wave, no arm: a numeric coaching dose, trust, credibility and acceptability (recipients, long)."""
    rng = np.random.default_rng(seed)
    n = n_sites * per_site
    ids = [f"R{i:04d}" for i in range(n)]
    site = np.repeat([f"S{j:02d}" for j in range(n_sites)], per_site)
    coaching = rng.gamma(2.0, 1.0, n)
    trust = 0.4 * coaching + rng.normal(size=n)
    credibility = rng.normal(size=n)
    acceptability = 0.5 * trust + 0.2 * credibility + rng.normal(size=n)
    recipients = pd.DataFrame({"recipient_id": ids, "site": site})
    roles = (
        ("coaching", coaching),
        ("trust", trust),
        ("credibility", credibility),
        ("acceptability", acceptability),
    )
    long = pd.concat(
        [
            pd.DataFrame({"recipient_id": ids, "wave": "w1", "measure": name, "value": values})
            for name, values in roles
        ],
        ignore_index=True,
    )
    return recipients, long


def lose_low_outcomes_of_one_arm(folder: Path) -> set[str]:
    """Delete the last wave's rows of 60% of the coached recipients whose baseline acceptability is below
    their arm's median (a known, selective rule; seeded); returns who was dropped."""
    study = load_study(folder, show_progress=False)
    spec = study.config.tables.measures
    rid = study.config.tables.recipients.id
    arm = study.config.tables.recipients.arm
    first, last = study.wave_ids[0], study.wave_ids[-1]
    wide = study.wide(["acceptability"])
    baseline = wide[wide[spec.wave] == first].set_index(rid)
    coached = baseline[baseline[arm].astype(str) == "coached"]["acceptability"]
    low = sorted(str(person) for person in coached[coached < coached.median()].index)
    draws = np.random.default_rng(0).random(len(low))
    dropped = {person for person, draw in zip(low, draws, strict=True) if draw < 0.6}
    path = folder / study.config.tables.measures.path
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = ~(table[spec.recipient].isin(dropped) & (table[spec.wave] == last))
    table[keep].to_csv(path, index=False)
    return dropped
