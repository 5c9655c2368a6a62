"""The platform on PostgreSQL: the tests of what the database does (records and their constraints,
transactions, queries and aggregates, exports, audit entries, health) run again, in a pytest of their own
whose database is the server of ``MOCLAB_TEST_POSTGRES_URL`` (`make test` starts it with scripts/postgres.sh),
and `moclab serve --database URL --check` migrates it.

Without the variable these tests fail, naming the command that provides the server: a PostgreSQL check is
never skipped in silence.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .platform_env import DATABASE_SWITCH_VAR, MISSING_POSTGRES, POSTGRES_URL_VAR

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
#: The test files that run on PostgreSQL too: those whose tests write, constrain, query, aggregate or export
#: rows. On SQLite only: the permission walks (test_permissions.py, test_surveys_permissions.py,
#: test_dashboards_permissions.py, test_evidence_permissions.py), which request pages of the fixtures' rows
#: as every role and check the status code: the role is checked in Python on the member's membership (which
#: every page requested here looks up too), and the organisation- and scope-filtered querysets behind their
#: 404s are plain ORM filters, run here by the tests that assert what they select (test_models.py,
#: test_activities.py, test_members.py, test_dashboards.py, test_evidence.py); and the attack on small-cell
#: suppression (test_dashboards_suppression.py), whose subject is the suppression rule applied to the
#: numbers the dashboards' queries give, queries that test_dashboards.py checks here number by number.
ON_POSTGRES = (
    "test_models.py",
    "test_activities.py",
    "test_bulk_entry.py",
    "test_audit.py",
    "test_health.py",
    "test_exports.py",
    "test_surveys.py",
    "test_recipient_page.py",
    "test_members.py",
    "test_surveys_pages.py",
    "test_exports_surveys.py",
    "test_dashboards.py",
    "test_evidence.py",
)


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        pytest.fail(MISSING_POSTGRES, pytrace=False)
    return url


def base_environment(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "COLUMNS": "120"}


def test_the_platform_tests_pass_on_postgresql(tmp_path: Path):
    url = postgres_url()
    env = {**base_environment(tmp_path), POSTGRES_URL_VAR: url, DATABASE_SWITCH_VAR: "postgres"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    files = [str(HERE / name) for name in ON_POSTGRES]
    done = subprocess.run(
        [*command, *files], capture_output=True, text=True, env=env, cwd=REPOSITORY, timeout=600, check=False
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    # every test collected passed: none skipped, deselected, failed or in error (pytest would name them here)
    passed = re.fullmatch(r"(\d+) passed(, \d+ warnings?)? in [\d.]+s( \(\d+:\d\d:\d\d\))?", summary)
    assert passed, summary
    assert int(passed.group(1)) >= 120, summary


def test_the_tests_really_ran_on_postgresql(tmp_path: Path):
    url = postgres_url()
    code = (
        "from tests.web.platform_env import configure; configure()\n"
        "from django.db import connection; print(connection.vendor, connection.settings_dict['TEST']['NAME'])"
    )
    env = {**base_environment(tmp_path), POSTGRES_URL_VAR: url, DATABASE_SWITCH_VAR: "postgres"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPOSITORY,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    vendor, name = done.stdout.split()
    assert vendor == "postgresql" and name.startswith("test_moclab_")


def test_serve_migrates_postgresql_and_reports_it(tmp_path: Path):
    url = postgres_url()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from moclab.cli.main import run; run()",
            "serve",
            "--database",
            url,
            "--check",
        ],
        capture_output=True,
        text=True,
        env=base_environment(tmp_path),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = url.replace(":moclab@", ":***@")
    assert f"database: {shown} (postgresql), migrated" in done.stdout
    assert f"migrating the postgresql database {shown}" in done.stderr
    assert ":moclab@" not in done.stdout + done.stderr  # the password is never printed


def test_without_the_server_the_message_names_make_test():
    assert "make test" in MISSING_POSTGRES and "scripts/postgres.sh" in MISSING_POSTGRES
