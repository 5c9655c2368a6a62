"""Exports: every table as CSV and Parquet in one zip, the REDCap activity log and its dictionary,
pseudonymised by default, for researchers and administrators only, each download in the audit log.
`moclab serve export` is tested in tests/web/test_serve_export.py."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.urls import reverse

from moclab.study.sources.redcap_dictionary import read_redcap_dictionary
from moclab.study.sources.redcap_records import read_redcap
from moclab.web.audit.models import Action, AuditEntry
from moclab.web.practice.exports import TABLES, member_pseudonym
from moclab.web.practice.models import Role

from .conftest import World

EXPORTS = reverse("practice:exports")
#: Row counts of every table of `build_world`'s organisation.
EXPECTED_ROWS = {
    "organisation": 1,
    "sites": 2,
    "teams": 2,
    "members": 4,
    "engagements": 1,
    "engagement_isps": 1,
    "recipients": 4,
    "activities": 1,
    "activity_isps": 1,
    "activity_recipients": 2,
    "activity_teams": 1,
    "activity_revisions": 1,
    "surveys": 0,
    "survey_consents": 0,
    "survey_waves": 0,
    "survey_invitations": 0,
    "survey_responses": 0,
}


@pytest.fixture
def personal(world: World) -> list[str]:
    """What must never be in a pseudonymised export: user names, account names and e-mails, the
    recipient's contact details, the note."""
    for role, user in world.users.items():
        user.first_name, user.last_name, user.email = "Firstname", f"Surname{role}", f"{role}@acme.example"
        user.save()
    return [
        *(user.username for user in world.users.values()),
        "Firstname",
        "Surnameisp",
        "@acme.example",
        "Pat Example",
        "pat@example.org",
        "kick-off meeting",
    ]


def download(world: World, role: str, what: str, **extra: str) -> Any:
    return world.client(role).post(EXPORTS, {"what": what, **extra})


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def every_text(files: dict[str, bytes]) -> str:
    """Every file as text: CSV and README as they are, Parquet (compressed) through its values."""
    parts = []
    for name, content in files.items():
        if name.endswith(".parquet"):
            frame = pd.read_parquet(io.BytesIO(content))
            parts.append(" ".join(frame.columns) + "\n" + frame.to_csv(index=False))
        else:
            parts.append(content.decode("utf-8"))
    return "\n".join(parts)


def test_the_page_offers_the_downloads_to_a_researcher_without_names(world: World):
    page = world.client(Role.RESEARCHER).get(EXPORTS).content.decode()
    assert 'value="all"' in page and 'value="redcap"' in page and 'value="redcap-dictionary"' in page
    assert 'name="names"' not in page
    assert 'name="names"' in world.client(Role.ADMINISTRATOR).get(EXPORTS).content.decode()


@pytest.mark.parametrize("role", [Role.ISP, Role.SITE_LEAD])
def test_isps_and_site_leads_may_not_export(world: World, role: str):
    AuditEntry.objects.all().delete()
    assert world.client(role).get(EXPORTS).status_code == 403
    assert download(world, role, "all").status_code == 403
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()


def test_the_zip_round_trips_every_table_as_csv_and_parquet(world: World, personal: list[str]):
    response = download(world, Role.RESEARCHER, "all")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="moclab-acme-')
    files = unzip(response.content)
    assert set(files) == {
        "README.txt",
        "redcap/activity_log.csv",
        "redcap/activity_log_dictionary.csv",
        "redcap/pulse_survey.csv",
        "redcap/pulse_survey_dictionary.csv",
        *(f"csv/{name}.csv" for name in TABLES),
        *(f"parquet/{name}.parquet" for name in TABLES),
    }
    assert sorted(EXPECTED_ROWS) == sorted(TABLES)
    for name, rows in EXPECTED_ROWS.items():
        from_csv = pd.read_csv(io.BytesIO(files[f"csv/{name}.csv"]))
        from_parquet = pd.read_parquet(io.BytesIO(files[f"parquet/{name}.parquet"]))
        assert len(from_csv) == rows == len(from_parquet), name
        assert list(from_csv.columns) == list(from_parquet.columns), name
    activities = pd.read_csv(io.BytesIO(files["csv/activities.csv"]))
    assert list(activities.columns) == [
        "activity_id", "engagement_id", "date", "minutes", "support_mode", "core_components", "competencies",
        "strategies", "has_note", "created",
    ]  # fmt: skip
    row = activities.iloc[0]
    assert (row.activity_id, row.date, row.minutes, row.support_mode) == (
        world.activity.pk,
        "2025-03-04",
        45,
        "push_pull",
    )
    assert (row.competencies, row.strategies, bool(row.has_note)) == (
        "isp-competencies:facilitation",
        "eric:facilitation",
        True,
    )
    parquet = pd.read_parquet(io.BytesIO(files["parquet/activities.parquet"]))
    assert parquet["minutes"].tolist() == [45] and str(parquet["date"].iloc[0]) == "2025-03-04"
    recipients = pd.read_csv(io.BytesIO(files["csv/recipients.csv"]))
    assert sorted(recipients["recipient"]) == ["acme-R1", "acme-R2", "acme-R3", "acme-R9"]
    present = pd.read_csv(io.BytesIO(files["csv/activity_recipients.csv"]))
    assert sorted(present["recipient"]) == ["acme-R1", "acme-R2"]
    text = every_text(files)
    for word in personal:
        assert word not in text, word
    assert "PSEUDONYMISED" in files["README.txt"].decode()


def test_isps_appear_as_stable_pseudonyms(world: World):
    isp = world.users[Role.ISP]
    first = unzip(download(world, Role.RESEARCHER, "all").content)
    second = unzip(download(world, Role.ADMINISTRATOR, "all").content)
    assert first["csv/activity_isps.csv"] == second["csv/activity_isps.csv"]
    isps = pd.read_csv(io.BytesIO(first["csv/activity_isps.csv"]))
    assert isps["isp"].tolist() == [member_pseudonym(isp.pk)] == [f"M{isp.pk:04d}"]
    members = pd.read_csv(io.BytesIO(first["csv/members.csv"]))
    assert sorted(members["role"]) == sorted(role.value for role in Role)
    assert all(member.startswith("M") for member in members["member"])
    revisions = pd.read_csv(io.BytesIO(first["csv/activity_revisions.csv"]))
    assert revisions[["saved_by", "isps"]].values.tolist() == [[f"M{isp.pk:04d}", f"M{isp.pk:04d}"]]
    assert "note" not in revisions.columns


def test_an_administrator_may_ask_for_names_a_researcher_may_not(world: World, personal: list[str]):
    AuditEntry.objects.all().delete()
    assert download(world, Role.RESEARCHER, "all", names="on").status_code == 403
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()
    response = download(world, Role.ADMINISTRATOR, "all", names="on")
    assert response.status_code == 200
    assert "-with-names-" in response["Content-Disposition"]
    files = unzip(response.content)
    isps = pd.read_csv(io.BytesIO(files["csv/activity_isps.csv"]))
    assert isps["isp"].tolist() == ["acme-isp"]
    activities = pd.read_csv(io.BytesIO(files["csv/activities.csv"]))
    assert activities["note"].tolist() == ["kick-off meeting"]
    text = every_text(files)
    # names are user names only: contact details and account details stay out even now
    for word in ("Firstname", "@acme.example", "Pat Example", "pat@example.org"):
        assert word not in text, word


def test_the_redcap_export_reads_back_with_moclabs_reader(world: World, tmp_path: Path, personal: list[str]):
    records = download(world, Role.RESEARCHER, "redcap")
    dictionary = download(world, Role.RESEARCHER, "redcap-dictionary")
    assert records.status_code == dictionary.status_code == 200
    assert records["Content-Type"].startswith("text/csv")
    (tmp_path / "records.csv").write_bytes(records.content)
    (tmp_path / "dictionary.csv").write_bytes(dictionary.content)
    parsed = read_redcap_dictionary(tmp_path / "dictionary.csv")
    assert parsed.problems == ()
    assert parsed.record_id == "record_id" and parsed.forms == ["activity_log"]
    isp_code = f"m{world.users[Role.ISP].pk:04d}"
    assert parsed.get("isps").type == "checkbox"
    assert parsed.get("support_mode").choices == {
        "push": "Push",
        "push_pull": "Push/pull",
        "co_creation": "Co-creation",
    }
    assert (
        set(parsed.get("strategies").choices) >= {"facilitation"}
        and len(parsed.get("strategies").choices) > 60
    )
    frame = pd.read_csv(tmp_path / "records.csv", dtype=str, keep_default_na=False)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["record_id"] == str(world.activity.pk)
    assert (row["date"], row["minutes"], row["support_mode"]) == ("2025-03-04", "45", "push_pull")
    assert row[f"isps___{isp_code}"] == "1"
    assert row["strategies___facilitation"] == "1" and row["competencies___facilitation"] == "1"
    ticked = [c for c in frame.columns if "___" in c and row[c] == "1"]
    assert sorted(ticked) == sorted(
        [f"isps___{isp_code}", "strategies___facilitation", "competencies___facilitation"]
    )
    assert row["recipients"] == "acme-R1;acme-R2" and row["activity_log_complete"] == "2"
    # every column of the records is a column of the dictionary (or REDCap's form status)
    assert set(frame.columns) - set(parsed.columns()) == {"activity_log_complete"}
    source = read_redcap(tmp_path / "records.csv", parsed)
    assert source.problems == (), source.problems
    answers = source.data
    assert set(answers["record"].astype(str)) == {str(world.activity.pk)}
    text = records.content.decode() + dictionary.content.decode()
    for word in personal:
        assert word not in text, word


def test_every_download_is_audited_without_personal_data(world: World):
    AuditEntry.objects.all().delete()
    researcher, administrator = world.users[Role.RESEARCHER], world.users[Role.ADMINISTRATOR]
    download(world, Role.RESEARCHER, "all")
    download(world, Role.RESEARCHER, "redcap")
    download(world, Role.ADMINISTRATOR, "redcap", names="on")
    entries = list(AuditEntry.objects.filter(action=Action.EXPORT).order_by("id"))
    organisation = str(world.organisation.pk)
    assert [(e.user, e.model, e.object_id) for e in entries] == [
        (researcher, "practice.organisation", f"{organisation}/all"),
        (researcher, "practice.organisation", f"{organisation}/redcap"),
        (administrator, "practice.organisation", f"{organisation}/redcap+names"),
    ]
    text = " ".join(str(e) for e in entries)
    assert f"user {researcher.pk} exported practice.organisation {organisation}/all" in text
    assert "acme" not in text


def test_an_unknown_download_is_a_bad_request(world: World):
    assert download(world, Role.RESEARCHER, "everything").status_code == 400
