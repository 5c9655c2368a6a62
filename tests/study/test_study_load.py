"""The Study object: typed tables, the wide frame, node variables and the summary, against the raw files."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from moclab.study import Study, example_path, load_study, validate_study

EXAMPLE = example_path()


@pytest.fixture(scope="module")
def study() -> Study:
    return load_study(EXAMPLE, show_progress=False)


@pytest.fixture(scope="module")
def raw_measures() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE / "data" / "measures.csv", dtype={"recipient_id": str})


def test_tables_have_their_declared_types(study: Study) -> None:
    assert study.recipients["arm"].dtype == "category"
    assert list(study.recipients["arm"].cat.categories) == ["intensive", "usual"]
    assert str(study.recipients["years_experience"].dtype) == "Int64"
    assert list(study.measures["wave"].cat.categories) == ["baseline", "m6", "m12"]
    assert study.measures["value"].dtype == "float64"
    assert str(study.measures["date"].dtype) == "datetime64[us]"
    assert study.activities is not None and study.activities["minutes"].dtype == "float64"
    assert study.model is not None and "trust" in [node.id for node in study.model.nodes]
    assert study.synthetic and study.title == "Recipient pathway trial (synthetic example)"


def test_wide_has_every_recipient_at_every_wave(study: Study, raw_measures: pd.DataFrame) -> None:
    wide = study.wide()
    assert len(wide) == 151 * 3
    assert list(wide.columns[:8]) == [
        "recipient_id",
        "site",
        "team",
        "arm",
        "role",
        "engagement",
        "years_experience",
        "wave",
    ]
    assert list(wide.columns[8:]) == [
        "positive_emotion",
        "psych_safety",
        "trust",
        "credibility",
        "acceptability",
        "appropriateness",
        "feasibility",
        "knowledge",
        "application",
        "sustained_capacity",
    ]
    assert wide["wave"].cat.ordered and list(wide["wave"].cat.categories) == ["baseline", "m6", "m12"]
    indexed = wide.set_index(["recipient_id", "wave"])
    # scale scores written in the file are in the wide frame as they are (instrument items are scored: see
    # tests/measures/test_measures_study.py)
    scale_scores = raw_measures[raw_measures["measure"].isin(wide.columns)]
    for row in scale_scores.sample(50, random_state=1).itertuples():
        cell = indexed.loc[(row.recipient_id, row.wave), row.measure]
        assert (np.isnan(cell) and np.isnan(row.value)) or cell == row.value
    missing_m12 = set(wide["recipient_id"]) - set(
        raw_measures.loc[raw_measures["wave"] == "m12", "recipient_id"]
    )
    assert missing_m12, "the example has recipients who missed the 12-month wave"
    person = next(iter(missing_m12))
    assert indexed.loc[(person, "m12"), "trust":"sustained_capacity"].isna().all()


def test_wide_with_chosen_measures_and_without_attributes(study: Study) -> None:
    wide = study.wide(["knowledge", "trust"], attributes=False)
    assert list(wide.columns) == ["recipient_id", "wave", "knowledge", "trust"]
    first = wide[(wide["recipient_id"] == "R001") & (wide["wave"] == "baseline")]
    assert first["trust"].item() == 3.36


def test_node_variables(study: Study) -> None:
    variables = study.node_variables()
    assert variables["isp_support"] == "arm"
    assert variables["engagement_length"] == "engagement"
    assert variables["better_outcomes"] == "service_outcomes"
    assert variables["trust"] == "trust"
    assert set(variables) == {node.id for node in study.model.nodes}


def test_summary_numbers_match_the_raw_files(study: Study, raw_measures: pd.DataFrame) -> None:
    summary = study.describe()
    recipients = pd.read_csv(EXAMPLE / "data" / "recipients.csv")
    activities = pd.read_csv(EXAMPLE / "data" / "activities.csv")
    sizes = recipients.groupby("site").size()
    assert summary.n_recipients == len(recipients) == 151
    assert summary.n_clusters == 12 and summary.n_teams == recipients["team"].nunique()
    assert summary.cluster_sizes == {"min": sizes.min(), "median": sizes.median(), "max": sizes.max()}
    arms = summary.arms.set_index("arm")
    assert arms.loc["intensive", "clusters"] == 6 and arms.loc["usual", "clusters"] == 6
    assert arms["recipients"].sum() == 151
    trust = raw_measures[raw_measures["measure"] == "trust"]["value"]
    row = summary.measures.set_index("measure").loc["trust"]
    assert row["n"] == trust.notna().sum()
    assert row["mean"] == pytest.approx(trust.mean()) and row["sd"] == pytest.approx(trust.std())
    assert row["missing"] == pytest.approx(1 - trust.notna().sum() / (151 * 3))
    at_m12 = raw_measures[(raw_measures["measure"] == "trust") & (raw_measures["wave"] == "m12")]["value"]
    assert summary.missingness.loc["trust", "m12"] == pytest.approx(1 - at_m12.notna().sum() / 151)
    outcome = summary.measures.set_index("measure").loc["service_outcomes"]
    assert (outcome["table"], outcome["level"], outcome["n"], outcome["missing"]) == (
        "outcomes",
        "site",
        36,
        0,
    )
    measured = raw_measures.groupby("wave")["recipient_id"].nunique()
    assert summary.waves.set_index("wave")["measured"].to_dict() == measured.to_dict()
    minutes = activities.groupby("site")["minutes"].sum()
    assert summary.activities.set_index("site")["minutes"].to_dict() == minutes.astype(float).to_dict()


def test_summary_to_dict_is_json_and_renders(study: Study) -> None:
    summary = study.describe()
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["n_clusters"] == 12 and data["synthetic"] is True
    assert data["missingness"][0]["measure"] == "positive_emotion"
    output = io.StringIO()
    Console(file=output, width=120).print(summary)
    text = output.getvalue()
    assert "synthetic data, not real people" in text
    assert re.search(r"sites +12  \(recipients per site: min 10, median 12\.5, max 16\)", text)
    assert "sustained_capacity" in text and "S07" in text
    assert "<h4>Recipient pathway trial" in summary._repr_html_()


def test_report_to_dict(tmp_path: Path) -> None:
    report = validate_study(EXAMPLE, show_progress=False)
    data = report.to_dict()
    assert data["ok"] is True and data["problems"] == [] and data["summary"]["n_recipients"] == 151
    assert "151 recipients" in repr(report.study)
