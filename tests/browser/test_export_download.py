"""A researcher downloads an export in a real browser (Chromium at 1024 px): the exports page, the download
of every table as one zip, and the zip holding the tables. The screenshot of the page is the one
docs/platform.md shows (docs/images/platform-exports.png)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.utils import timezone

from tests.web.conftest import PASSWORD, build_world

TABLES = (
    "organisation",
    "sites",
    "teams",
    "members",
    "engagements",
    "engagement_isps",
    "recipients",
    "activities",
    "activity_isps",
    "activity_recipients",
    "activity_teams",
    "activity_revisions",
)


@pytest.mark.django_db(transaction=True)
def test_a_researcher_downloads_the_tables_in_chromium(
    live_server: Any, open_url: Any, settings: Any, tmp_path: Path, docs_image: Any
):
    from moclab.web.audit.models import Action, AuditEntry

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world("Northside")
    loaded = open_url(f"{live_server.url}/login/", 1024, 900)
    page = loaded.page
    page.fill("#id_username", "Northside-researcher")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/")
    page.click("a:has-text('Exports')")
    page.wait_for_selector("h1:has-text('Exports')")
    assert "With names" not in page.content()  # a researcher's exports are pseudonymised only
    assert loaded.horizontal_overflow() == 0
    assert loaded.screenshot(docs_image("platform-exports.png"), full_page=True).stat().st_size > 10_000

    with page.expect_download() as waiting:
        page.click("button:has-text('Download the tables (zip)')")
    download = waiting.value
    slug = "northside"
    assert download.suggested_filename == f"moclab-{slug}-{timezone.localdate():%Y-%m-%d}-tables.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert download.failure() is None

    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        files = {name: archive.read(name) for name in archive.namelist()}
    for table in TABLES:
        assert f"csv/{table}.csv" in files and f"parquet/{table}.parquet" in files, table
    assert {"README.txt", "redcap/activity_log.csv", "redcap/activity_log_dictionary.csv"} <= set(files)
    activities = pd.read_csv(io.BytesIO(files["csv/activities.csv"]))
    parquet = pd.read_parquet(io.BytesIO(files["parquet/activities.parquet"]))
    recipients = pd.read_csv(io.BytesIO(files["csv/recipients.csv"]))
    assert len(activities) == len(parquet) == 1
    assert activities.loc[0, "minutes"] == 45 and activities.loc[0, "support_mode"] == "push_pull"
    assert str(activities.loc[0, "date"]) == "2025-03-04"
    assert "note" not in activities.columns and bool(activities.loc[0, "has_note"])
    assert sorted(recipients["recipient"]) == [f"Northside-R{i}" for i in (1, 2, 3, 9)]
    assert "PSEUDONYMISED" in files["README.txt"].decode("utf-8")
    texts = [content.decode("utf-8") for name, content in files.items() if not name.endswith(".parquet")]
    assert not any("kick-off meeting" in text or "Northside-isp" in text for text in texts)
    entry = AuditEntry.objects.filter(action=Action.EXPORT).get()
    assert entry.user == world.users["researcher"]
    assert entry.object_id == f"{world.organisation.pk}/all"
    assert loaded.console_errors == []
    # the form's POST becomes the download, which Chromium reports as an aborted navigation: nothing else
    assert loaded.failed_requests == [f"{live_server.url}/exports/"]
