"""The pulse surveys in the exports: their tables (surveys, consent versions, waves, invitations without
tokens, responses with the item values and consent versions) with their exact content on a small world, and
the REDCap instrument of the responses, checked against the format of real REDCap exports (REDCapR's test
projects, ../shared/data/redcap) and read back with moclab's own REDCap reader."""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from moclab.catalog import default_catalog
from moclab.catalog.instruments import default_instruments
from moclab.study.sources.redcap_dictionary import parse_choices, read_redcap_dictionary
from moclab.study.sources.redcap_records import read_redcap
from moclab.web.practice.exports import build_export, redcap_pulse_surveys
from moclab.web.practice.models import Role
from moclab.web.surveys.items import pathway_entries, pathway_key
from moclab.web.surveys.models import ConsentText, Invitation, Survey, SurveyResponse, SurveyWave
from tests.public_data import SHARED_DATA

from .conftest import World
from .test_surveys import make_survey

REDCAP_PROJECTS = SHARED_DATA / "redcap" / "redcapr-test-projects"


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A time in March 2025, UTC."""
    return datetime.datetime(2025, 3, day, hour, minute, tzinfo=datetime.UTC)


@pytest.fixture
def surveyed(world: World) -> dict[str, Any]:
    """Two surveys of acme with fixed times: "Pulse" (AIM and trust, about "the support we receive", consent
    text in two versions) with a wave after world.activity inviting the four recipients, and "Coaching"
    (AIM and knowledge, about "coaching", paused) with a wave inviting acme-R1, who answered `fim_1` there
    once (an item no survey asks now)."""
    pulse = make_survey(world)
    pulse.set_consent("Second wording.")
    coaching = make_survey(
        world,
        title="Coaching",
        subject="coaching",
        pathway_items=["recipient-pathway:knowledge"],
        site=world.site,
        every_weeks=2,
        active=False,
    )
    Survey.objects.update(created=at(1, 12))
    ConsentText.objects.update(created=at(1, 12))
    wave = SurveyWave.objects.create(
        survey=pulse, number=1, opens=at(3, 8), closes=at(17, 8), activity=world.activity
    )
    r1, r2, r3, r9 = world.recipients
    first = Invitation.objects.create(
        wave=wave, recipient=r1, due=at(3, 8), sent=at(3, 8, 5), reminded=at(6, 8), opened=at(3, 9)
    )
    second = Invitation.objects.create(
        wave=wave, recipient=r2, due=at(3, 8), sent=at(3, 8, 5), opened=at(4, 9)
    )
    third = Invitation.objects.create(wave=wave, recipient=r3, due=at(3, 8), sent=at(3, 8, 5))
    fourth = Invitation.objects.create(wave=wave, recipient=r9, due=at(3, 8))
    SurveyResponse.objects.create(
        invitation=first,
        consent_version=2,
        consented=at(3, 9, 5),
        values={"aim_1": 4, "aim_3": 5, "trust": 4},
        saved=at(3, 9, 10),
        submitted=at(3, 9, 10),
    )
    Invitation.objects.filter(pk=first.pk).update(answered=at(3, 9, 10))
    SurveyResponse.objects.create(
        invitation=second, consent_version=1, consented=at(4, 10), values={"aim_2": 2}, saved=at(4, 10, 2)
    )
    coaching_wave = SurveyWave.objects.create(survey=coaching, number=1, opens=at(10, 8), closes=at(24, 8))
    again = Invitation.objects.create(wave=coaching_wave, recipient=r1, due=at(10, 8), sent=at(10, 8, 5))
    SurveyResponse.objects.create(
        invitation=again, consent_version=1, consented=at(11, 7), values={"aim_1": 5, "fim_1": 3}
    )
    return {
        "pulse": pulse,
        "coaching": coaching,
        "waves": [wave, coaching_wave],
        "invitations": [first, second, third, fourth, again],
    }


def table(files: dict[str, bytes], name: str) -> list[list[str]]:
    """A CSV table of the export as rows of text (header first), exactly as written."""
    return list(csv.reader(io.StringIO(files[f"csv/{name}.csv"].decode("utf-8"))))


def test_the_survey_tables_hold_exactly_the_surveys_rows(surveyed: dict[str, Any], world: World):
    files = build_export(world.organisation).files
    pulse, coaching = surveyed["pulse"], surveyed["coaching"]
    wave, coaching_wave = surveyed["waves"]
    first, second, third, fourth, again = (i.pk for i in surveyed["invitations"])
    created = "2025-03-01T12:00:00+00:00"
    assert table(files, "surveys") == [
        [
            "survey_id", "title", "subject", "instruments", "pathway_items", "items", "site_id", "schedule",
            "every_weeks", "start_date", "expiry_days", "reminder_days", "active", "created",
        ],
        [
            str(pulse.pk), "Pulse", "the support we receive", "aim", "recipient-pathway:trust",
            "aim_1;aim_2;aim_3;aim_4;trust", "", "every_n_weeks", "4", "2025-01-06", "14", "3", "True",
            created,
        ],
        [
            str(coaching.pk), "Coaching", "coaching", "aim", "recipient-pathway:knowledge",
            "aim_1;aim_2;aim_3;aim_4;knowledge", str(world.site.pk), "every_n_weeks", "2", "2025-01-06", "14",
            "3", "False", created,
        ],
    ]  # fmt: skip
    consent = "Voluntary; answers kept apart from names."
    assert table(files, "survey_consents") == [
        ["survey_id", "version", "text", "created"],
        [str(pulse.pk), "1", consent, created],
        [str(pulse.pk), "2", "Second wording.", created],
        [str(coaching.pk), "1", consent, created],
    ]
    assert table(files, "survey_waves") == [
        ["wave_id", "survey_id", "number", "opens", "closes", "activity_id"],
        [
            str(wave.pk), str(pulse.pk), "1", "2025-03-03T08:00:00+00:00", "2025-03-17T08:00:00+00:00",
            str(world.activity.pk),
        ],
        [
            str(coaching_wave.pk), str(coaching.pk), "1", "2025-03-10T08:00:00+00:00",
            "2025-03-24T08:00:00+00:00", "",
        ],
    ]  # fmt: skip

    def when(day: int, hour: int, minute: int = 0) -> str:
        return at(day, hour, minute).isoformat()

    assert table(files, "survey_invitations") == [
        [
            "invitation_id", "wave_id", "survey_id", "recipient", "due", "sent", "reminded", "opened",
            "answered",
        ],
        [
            str(first), str(wave.pk), str(pulse.pk), "acme-R1", when(3, 8), when(3, 8, 5), when(6, 8),
            when(3, 9), when(3, 9, 10),
        ],
        [str(second), str(wave.pk), str(pulse.pk), "acme-R2", when(3, 8), when(3, 8, 5), "", when(4, 9), ""],
        [str(third), str(wave.pk), str(pulse.pk), "acme-R3", when(3, 8), when(3, 8, 5), "", "", ""],
        [str(fourth), str(wave.pk), str(pulse.pk), "acme-R9", when(3, 8), "", "", "", ""],
        [
            str(again), str(coaching_wave.pk), str(coaching.pk), "acme-R1", when(10, 8), when(10, 8, 5), "",
            "", "",
        ],
    ]  # fmt: skip
    # one column per item: Pulse's, then what Coaching adds, then the field answered that no survey asks
    assert table(files, "survey_responses") == [
        [
            "invitation_id", "survey_id", "wave_id", "recipient", "consent_version", "consented", "saved",
            "submitted", "aim_1", "aim_2", "aim_3", "aim_4", "trust", "knowledge", "fim_1",
        ],
        [
            str(first), str(pulse.pk), str(wave.pk), "acme-R1", "2", when(3, 9, 5), when(3, 9, 10),
            when(3, 9, 10), "4", "", "5", "", "4", "", "",
        ],
        [
            str(second), str(pulse.pk), str(wave.pk), "acme-R2", "1", when(4, 10), when(4, 10, 2), "", "",
            "2", "", "", "", "", "",
        ],
        [
            str(again), str(coaching.pk), str(coaching_wave.pk), "acme-R1", "1", when(11, 7), "", "", "5", "",
            "", "", "", "", "3",
        ],
    ]  # fmt: skip
    # Parquet holds the same rows, typed: integers stay integers (missing answers are nulls), times UTC
    responses = pd.read_parquet(io.BytesIO(files["parquet/survey_responses.parquet"]))
    assert str(responses["aim_1"].dtype) == "Int64"
    assert responses["aim_1"].tolist() == [4, pd.NA, 5]
    assert responses["submitted"].iloc[0] == pd.Timestamp("2025-03-03 09:10", tz="UTC")
    waves = pd.read_parquet(io.BytesIO(files["parquet/survey_waves.parquet"]))
    assert waves["opens"].tolist() == [
        pd.Timestamp("2025-03-03 08:00", tz="UTC"),
        pd.Timestamp("2025-03-10 08:00", tz="UTC"),
    ]


def test_no_token_or_contact_in_any_export(surveyed: dict[str, Any], world: World):
    tokens = list(Invitation.objects.values_list("token", flat=True))
    for names in (False, True):
        files = build_export(world.organisation, names=names).files
        invitations = pd.read_parquet(io.BytesIO(files["parquet/survey_invitations.parquet"]))
        assert "token" not in invitations.columns
        text = "\n".join(
            pd.read_parquet(io.BytesIO(content)).to_csv(index=False)
            if name.endswith(".parquet")
            else content.decode()
            for name, content in files.items()
        )
        for secret in [*tokens, "Pat Example", "pat@example.org"]:
            assert secret not in text
    # the survey files are the same with names: they hold no member, and recipients stay pseudonyms
    plain, named = build_export(world.organisation).files, build_export(world.organisation, names=True).files
    survey_files = [name for name in plain if "survey" in name and name.endswith(".csv")]
    assert len(survey_files) == 7
    assert all(plain[name] == named[name] for name in survey_files)


# -- REDCap --------------------------------------------------------------------------------------------------


def real_dictionary(project: str) -> list[dict[str, str]]:
    with (REDCAP_PROJECTS / project / "dictionary.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ours(frame: pd.DataFrame) -> list[dict[str, str]]:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


def test_the_redcap_dictionary_has_real_redcaps_format(
    surveyed: dict[str, Any], world: World, tmp_path: Path
):
    records, dictionary = redcap_pulse_surveys(world.organisation)
    rows = ours(dictionary)
    real = real_dictionary("survey")
    # the same columns, in the same order, as the dictionary a REDCap server exported
    assert list(rows[0]) == list(real[0])
    reference = real_dictionary("validation-types-1")  # a project using every field and validation type
    field_type = "Field Type"
    validation = "Text Validation Type OR Show Slider Number"
    assert {row[field_type] for row in rows} <= {row[field_type] for row in reference}
    assert {row[validation] for row in rows} <= {row[validation] for row in reference}
    assert {row["Form Name"] for row in rows} == {"pulse_survey"}
    choices = "Choices, Calculations, OR Slider Labels"
    real_choices = [row[choices] for row in real if row[field_type] in ("radio", "dropdown")]
    pattern = re.compile(r"^-?\d+, [^|]+( \| -?\d+, [^|]+)*$")  # "0, Female | 1, Male"
    assert real_choices and all(pattern.match(text) for text in real_choices)

    by_name = {row["Variable / Field Name"]: row for row in rows}
    assert list(by_name) == [
        "record_id", "survey_id", "wave", "recipient", "consent_version", "consented", "submitted",
        "aim_1", "aim_2", "aim_3", "aim_4", "trust", "knowledge", "fim_1",
    ]  # fmt: skip
    aim = default_instruments().get("aim")
    agreement = " | ".join(f"{value}, {aim.scale.labels[value]}" for value in aim.scale.values)
    assert agreement == (
        "1, Completely disagree | 2, Disagree | 3, Neither agree nor disagree | 4, Agree | "
        "5, Completely agree"
    )
    # the surveys ask aim_1 about different subjects: the label keeps the instrument's placeholder
    assert [by_name[f"aim_{i}"]["Field Label"] for i in (1, 3)] == ["[X] meets my approval.", "I like [X]."]
    assert all(by_name[f"aim_{i}"][choices] == agreement for i in range(1, 5))
    assert all(by_name[f"aim_{i}"][field_type] == "radio" for i in range(1, 5))
    assert by_name["aim_1"]["Section Header"] == "AIM" and by_name["aim_2"]["Section Header"] == ""
    assert by_name["trust"][choices] == "1, Very low | 2, Low | 3, Moderate | 4, High | 5, Very high"
    trust = default_catalog().get("recipient-pathway:trust")
    assert (by_name["trust"]["Field Label"], by_name["trust"]["Field Note"]) == (
        "Trust",
        trust.description or "",
    )
    assert by_name["trust"]["Section Header"] == "Recipient pathway"
    assert (by_name["fim_1"][field_type], by_name["fim_1"][validation]) == ("text", "integer")
    assert by_name["consented"][validation] == "datetime_seconds_ymd"
    assert all(pattern.match(row[choices]) for row in rows if row[field_type] == "radio")
    assert all(row["Required Field?"] == "" for row in rows)  # a recipient may skip any question

    # moclab's reader takes both without a problem, and reads the values back
    records.to_csv(tmp_path / "records.csv", index=False)
    dictionary.to_csv(tmp_path / "dictionary.csv", index=False)
    parsed = read_redcap_dictionary(tmp_path / "dictionary.csv")
    assert parsed.problems == () and parsed.forms == ["pulse_survey"]
    assert parsed.get("aim_1").choices == {str(v): aim.scale.labels[v] for v in aim.scale.values}
    assert parse_choices(by_name["trust"][choices]) == (
        {"1": "Very low", "2": "Low", "3": "Moderate", "4": "High", "5": "Very high"},
        [],
    )
    source = read_redcap(tmp_path / "records.csv", parsed)
    assert source.problems == (), source.problems
    values = {
        (str(row.record), row.field): row.value
        for row in source.data.itertuples()
        if row.field in ("aim_1", "aim_2", "aim_3", "trust", "fim_1")
    }
    first, second, _, _, again = (str(i.pk) for i in surveyed["invitations"])
    assert values == {
        (first, "aim_1"): 4,
        (first, "aim_3"): 5,
        (first, "trust"): 4,
        (second, "aim_2"): 2,
        (again, "aim_1"): 5,
        (again, "fim_1"): 3,
    }


def test_the_redcap_records_are_exactly_the_responses(surveyed: dict[str, Any], world: World):
    records, _ = redcap_pulse_surveys(world.organisation)
    buffer = io.StringIO()
    records.to_csv(buffer, index=False, lineterminator="\n")
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    pulse, coaching = (str(surveyed[name].pk) for name in ("pulse", "coaching"))
    first, second, _, _, again = (str(i.pk) for i in surveyed["invitations"])
    assert rows == [
        [
            "record_id", "survey_id", "wave", "recipient", "consent_version", "consented", "submitted",
            "aim_1", "aim_2", "aim_3", "aim_4", "trust", "knowledge", "fim_1", "pulse_survey_complete",
        ],
        [
            first, pulse, "1", "acme-R1", "2", "2025-03-03 09:05:00", "2025-03-03 09:10:00", "4", "", "5", "",
            "4", "", "", "2",
        ],
        [second, pulse, "1", "acme-R2", "1", "2025-03-04 10:00:00", "", "", "2", "", "", "", "", "", "0"],
        [again, coaching, "1", "acme-R1", "1", "2025-03-11 07:00:00", "", "5", "", "", "", "", "", "3", "0"],
    ]  # fmt: skip
    # like a real REDCap export: the record id first, the form's status last, times as REDCap writes them
    with (REDCAP_PROJECTS / "survey" / "data.csv").open(encoding="utf-8", newline="") as handle:
        real = list(csv.DictReader(handle))
    columns = list(real[0])
    assert columns[0] == "participant_id" and columns[-1].endswith("_complete")
    stamp = real[0]["prescreening_survey_timestamp"]
    shape = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
    assert shape.match(stamp) and all(shape.match(row[5]) for row in rows[1:])


def test_a_scale_from_zero_keeps_its_values_in_redcap(world: World):
    make_survey(world, title="Leadership", instruments=["ils"], pathway_items=[])
    _, dictionary = redcap_pulse_surveys(world.organisation)
    rows = {row["Variable / Field Name"]: row for row in ours(dictionary)}
    assert rows["ils_proactive_1"]["Choices, Calculations, OR Slider Labels"] == (
        "0, Not at all | 1, 1 | 2, 2 | 3, 3 | 4, Very great extent"
    )


def test_no_item_field_takes_the_name_of_a_redcap_or_response_column():
    """The item field names (instruments' item ids, pathway keys) never clash with the fields the survey
    exports add (record_id, survey_id, wave, recipient, ...)."""
    from moclab.web.practice.exports import _RESPONSE_COLUMNS

    keys = {item.id for instrument in default_instruments() for item in instrument.items}
    keys |= {pathway_key(entry) for entry in pathway_entries()}
    added = {"record_id", "wave", "pulse_survey_complete", *_RESPONSE_COLUMNS}
    assert keys and not keys & added


def test_the_zip_holds_the_survey_files_and_says_what_they_are(surveyed: dict[str, Any], world: World):
    response = world.client(Role.RESEARCHER).post("/exports/", {"what": "all"})
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert {"redcap/pulse_survey.csv", "redcap/pulse_survey_dictionary.csv"} <= set(files)
    readme = files["README.txt"].decode()
    assert "survey_responses (3 rows)" in readme and "survey_invitations (5 rows)" in readme
    assert "tokens are never exported" in readme
