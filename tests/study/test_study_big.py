"""A one-million-row measures table loads and validates (the time is measured in the report, not asserted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from moclab.study import validate_study

MEASURES = ["trust", "psych_safety", "acceptability", "feasibility", "knowledge"]
WAVES = ["baseline", "m6", "m12"]


def test_one_million_measure_rows_load_and_validate(study_copy: Path) -> None:
    rng = np.random.default_rng(7)
    per_person = len(WAVES) * len(MEASURES)
    n_people = 1_000_000 // per_person + 1
    ids = np.char.add("P", np.arange(n_people).astype(str))
    sites = pd.read_csv(study_copy / "data" / "recipients.csv", dtype=str).drop_duplicates("site")
    site_index = rng.integers(0, len(sites), n_people)
    people = pd.DataFrame(
        {
            "recipient_id": ids,
            "site": sites["site"].to_numpy()[site_index],
            "team": sites["team"].to_numpy()[site_index],
            "arm": sites["arm"].to_numpy()[site_index],
            "role": "staff",
            "engagement": "high",
            "years_experience": rng.integers(0, 30, n_people),
        }
    )
    people.to_csv(study_copy / "data" / "recipients.csv", index=False)
    rows = np.arange(1_000_000)
    person = rows // per_person
    wave = (rows // len(MEASURES)) % len(WAVES)
    measures = pd.DataFrame(
        {
            "recipient_id": ids[person],
            "wave": np.array(WAVES)[wave],
            "measure": np.array(MEASURES)[rows % len(MEASURES)],
            "value": np.round(rng.uniform(1, 5, len(rows)), 2),
            "date": np.array(["2024-01-20", "2024-07-22", "2025-01-21"])[wave],
        }
    )
    measures.to_csv(study_copy / "data" / "measures.csv", index=False)
    (study_copy / "data" / "activities.csv").write_text(
        "date,site,team,recipient_id,component,minutes,mode\n", encoding="utf-8"
    )

    report = validate_study(study_copy, show_progress=False)

    assert len(report.study.measures) == 1_000_000
    assert report.summary.n_recipients == n_people
    trust = report.summary.measures.set_index("measure").loc["trust"]
    assert trust["n"] == (measures["measure"] == "trust").sum()
    assert trust["mean"] == measures.loc[measures["measure"] == "trust", "value"].mean()
    assert [w.message for w in report.warnings][:1] == ["no data rows yet (only the header)"]
