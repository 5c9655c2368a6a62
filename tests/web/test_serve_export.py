"""`moclab serve export` on a SQLite file, as a user runs it: the zip and the folder, --force, the audit
entries, and the errors.

The command runs in a process of its own on a SQLite file whatever database the test run uses, so this file
is not in the PostgreSQL pass (tests/web/test_postgres.py): there it would run the same processes again.
"""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .test_exports import EXPECTED_ROWS, every_text, unzip


def moclab(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from moclab.cli.main import run; run()", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "COLUMNS": "160"},
        timeout=300,
        check=False,
    )


def test_serve_export_writes_a_zip_and_a_folder_and_audits(tmp_path: Path, prepared_sqlite: Path):
    database = prepared_sqlite
    url = f"sqlite:///{database}"
    target = tmp_path / "acme.zip"
    done = moclab(
        "serve", "export", "--organisation", "acme", "-o", str(target), "--database", url, home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert f"exported acme: {len(EXPECTED_ROWS)} tables as CSV and Parquet" in done.stdout
    expected = "the REDCap activity log (1 records) and the pulse surveys' REDCap records (0 responses)"
    assert expected in done.stdout
    files = unzip(target.read_bytes())
    assert len(pd.read_csv(io.BytesIO(files["csv/recipients.csv"]))) == 4
    assert "acme-isp" not in every_text(files) and "pat@example.org" not in every_text(files)
    # an existing file needs --force (exit 2, before any work); a folder output is marked as moclab's
    again = moclab(
        "serve", "export", "--organisation", "acme", "-o", str(target), "--database", url, home=tmp_path
    )
    assert again.returncode == 2 and "the file exists" in again.stderr and "Traceback" not in again.stderr
    folder = tmp_path / "export"
    done = moclab(
        "serve", "export", "--organisation", "acme", "-o", str(folder), "--database", url, home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (folder / ".moclab-output").is_file()
    assert (folder / "csv" / "activities.csv").read_bytes() == files["csv/activities.csv"]
    with sqlite3.connect(database) as connection:
        entries = connection.execute(
            "SELECT user_id, model, object_id FROM audit_auditentry WHERE action = 'export' ORDER BY id"
        ).fetchall()
    organisation = files["csv/organisation.csv"].decode().splitlines()[1].split(",")[0]
    assert entries == [(None, "practice.organisation", f"{organisation}/all")] * 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--organisation", "nowhere"], 1, "no organisation 'nowhere'"),
        (
            ["--organisation", "acme", "--database", "mysql://u:p@127.0.0.1/x"],
            2,
            "not a PostgreSQL or SQLite URL",
        ),
        (["--organisation", "acme", "--demo"], 2, "No such option"),
    ],
)
def test_serve_export_errors(tmp_path: Path, prepared_sqlite: Path, args: list[str], code: int, message: str):
    database = prepared_sqlite if code == 1 else tmp_path / "none.sqlite3"
    full = ["serve", "export", "-o", str(tmp_path / "out.zip"), "--database", f"sqlite:///{database}", *args]
    done = moclab(*full, home=tmp_path)
    assert done.returncode == code, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    if code == 1:
        assert "(the organisations: acme)" in done.stderr
    assert not (tmp_path / "out.zip").exists()
