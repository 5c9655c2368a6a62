"""Mapping source fields to instrument items: the map, fields named by item id, and what is reported."""

from __future__ import annotations

import pandas as pd
import pytest
from sources_helpers import FIELDS, GOOD_ROWS, RAW_HEADER, records_text, write

from moclab.errors import StudyError
from moclab.study.sources import import_redcap_study, item_responses, read_redcap


def test_map_unmapped_and_unknown(folder, dictionary):
    source = read_redcap(write(folder, "records.csv", records_text(RAW_HEADER, GOOD_ROWS)), dictionary)
    responses = item_responses(source, map={"mood": "iam_1", "aim_mean": "aim_avg", "aim_5": "aim_4"})
    kinds = {(p.kind, p.field): p for p in responses.problems}
    unknown = kinds[("unknown_item", "aim_mean")]
    assert "'aim_avg', which is not an item" in unknown.message and unknown.severity == "warning"
    missing = kinds[("map_source_missing", "aim_5")]
    assert missing.hint.startswith("did you mean 'aim_")
    unmapped = next(p for p in responses.problems if p.kind == "unmapped_field")
    names = ["age", "hours", "clinic", "roles___1", "roles___2", "roles____99", "started", "consent", "notes"]
    assert unmapped.message.endswith(", ".join(names[:9]))
    table = responses.table
    r1 = dict(
        zip(
            table.query("recipient == 'r1'")["measure"],
            table.query("recipient == 'r1'")["value"],
            strict=True,
        )
    )
    # aim_1..4 by their names; mood -> iam_1 is 70, outside IAM's 1-5 scale: reported, left out
    assert r1 == {"aim_1": 4.0, "aim_2": 5.0, "aim_3": 4.0, "aim_4": 5.0, "aim_avg": 4.5}
    out = [p for p in responses.problems if p.kind == "out_of_range"]
    assert [(p.record, p.field, p.value) for p in out] == [("r1", "mood", "70"), ("r2", "mood", "35")]
    assert "70 is outside the response scale 1-5 of item 'iam_1'" in out[0].message
    assert responses.to_dict()["responses"] == len(table) == 10
    assert [i.id for i in responses.instruments()] == ["aim"]
    assert "item responses" in responses._repr_html_()
    assert FIELDS[0][0] not in set(table["measure"])


def test_known_items_can_be_given(folder, dictionary):
    source = read_redcap(write(folder, "records.csv", records_text(RAW_HEADER, GOOD_ROWS)), dictionary)
    only_two = item_responses(source, items=["aim_1", "aim_2"], waves=["m6"])
    assert only_two.table.empty  # every row is at 'baseline', not a wave of this study
    problem = next(p for p in only_two.problems if p.kind == "event_not_mapped")
    assert problem.severity == "error" and "'baseline' is not a wave of the study" in problem.message


def test_import_takes_site_and_team_from_fields(folder, dictionary):
    records = write(folder, "records.csv", records_text(RAW_HEADER, GOOD_ROWS))
    imported = import_redcap_study(records, dictionary, folder / "study", site="clinic", team="consent")
    people = pd.read_csv(folder / "study" / "data" / "recipients.csv", dtype=str)
    # a choice field gives its label
    assert people.to_dict("list") == {
        "recipient_id": ["r1", "r2"],
        "site": ["North clinic", "South clinic"],
        "team": ["Yes", "No"],
    }
    config = (folder / "study" / "moclab.yaml").read_text(encoding="utf-8")
    assert "  team: team\n" in config and "aim: {instrument: aim" in config
    assert [i.id for i in imported.instruments] == ["aim"]
    with pytest.raises(StudyError, match="the site field 'clinc' is not in the data dictionary"):
        import_redcap_study(records, dictionary, folder / "other", site="clinc")
    assert not (folder / "other").exists()
