"""`moclab serve backup` and `moclab serve restore`: back up, change and delete rows, restore, the rows are
back; on SQLite (the backup API) and on PostgreSQL (pg_dump / pg_restore, in a database of the test's own on
the server of ``MOCLAB_TEST_POSTGRES_URL``)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from moclab.web.backup import parse_database, postgres_program

from .platform_env import MISSING_POSTGRES, POSTGRES_URL_VAR
from .test_serve_export import moclab

REPOSITORY = Path(__file__).resolve().parents[2]

#: What the test changes between the backup and the restore, and reads back.
SNAPSHOT = (
    "SELECT (SELECT COUNT(*) FROM practice_recipient), (SELECT COUNT(*) FROM practice_recipientcontact), "
    "(SELECT COUNT(*) FROM practice_activity), (SELECT MIN(minutes) FROM practice_activity), "
    "(SELECT COUNT(*) FROM auth_user)"
)
BEFORE = (4, 1, 1, 45, 4)


def damage_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("UPDATE practice_activity SET minutes = 5")
        connection.execute("DELETE FROM practice_recipientcontact")
        connection.execute("DELETE FROM practice_activity_recipients")
        connection.execute("DELETE FROM practice_recipient WHERE pseudonym = 'acme-R9'")


def sqlite_snapshot(path: Path) -> tuple[int, ...]:
    with sqlite3.connect(path) as connection:
        return connection.execute(SNAPSHOT).fetchone()


def test_sqlite_backup_and_restore_bring_the_rows_back(tmp_path: Path, prepared_sqlite: Path):
    database = prepared_sqlite
    url = f"sqlite:///{database}"
    backup = tmp_path / "backups" / "platform.backup"
    done = moclab("serve", "backup", "-o", str(backup), "--database", url, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "backed up the sqlite database" in done.stdout and "(1 organisation, 4 accounts)" in done.stdout
    assert backup.read_bytes().startswith(b"SQLite format 3\x00")
    assert sqlite_snapshot(backup) == BEFORE
    damage_sqlite(database)
    assert sqlite_snapshot(database) == (3, 0, 1, 5, 4)
    refused = moclab("serve", "restore", str(backup), "--database", url, home=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "holds data (1 organisation row, 4 user rows)" in refused.stderr
    assert "add --force" in refused.stderr and "Traceback" not in refused.stderr
    assert sqlite_snapshot(database) == (3, 0, 1, 5, 4)  # refused before any work
    done = moclab("serve", "restore", str(backup), "--database", url, "--force", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sqlite_snapshot(database) == BEFORE
    assert "1 organisation, 4 accounts, replacing 1 organisation, 4 accounts" in done.stdout


def test_sqlite_restore_into_a_new_file_needs_no_force(tmp_path: Path, prepared_sqlite: Path):
    database = prepared_sqlite
    backup = tmp_path / "platform.backup"
    assert (
        moclab(
            "serve", "backup", "-o", str(backup), "--database", f"sqlite:///{database}", home=tmp_path
        ).returncode
        == 0
    )
    fresh = tmp_path / "fresh.sqlite3"
    done = moclab("serve", "restore", str(backup), "--database", f"sqlite:///{fresh}", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sqlite_snapshot(fresh) == BEFORE


def test_backup_and_restore_usage_errors(tmp_path: Path, prepared_sqlite: Path):
    database = prepared_sqlite
    url = f"sqlite:///{database}"
    existing = tmp_path / "exists.backup"
    existing.write_text("mine")
    done = moclab("serve", "backup", "-o", str(existing), "--database", url, home=tmp_path)
    assert done.returncode == 2 and "the file exists" in done.stderr
    assert existing.read_text() == "mine"
    done = moclab("serve", "restore", str(existing), "--database", url, "--force", home=tmp_path)
    assert done.returncode == 1 and "not a backup of the platform" in done.stderr
    done = moclab("serve", "restore", str(tmp_path / "missing"), "--database", url, home=tmp_path)
    assert done.returncode == 2 and "no such file" in done.stderr
    done = moclab(
        "serve",
        "backup",
        "-o",
        str(tmp_path / "x"),
        "--database",
        f"sqlite:///{tmp_path}/none",
        home=tmp_path,
    )
    assert done.returncode == 1 and "no such database file" in done.stderr
    for output in (done.stdout, done.stderr):
        assert "Traceback" not in output


# -- PostgreSQL ----------------------------------------------------------------------------------------------


def _server_url() -> str:
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        pytest.fail(MISSING_POSTGRES, pytrace=False)
    return url


@pytest.fixture
def postgres_database() -> str:
    """A database of this test's own on the test server, created here and dropped at the end: its URL."""
    import psycopg

    server = _server_url()
    name = f"moclab_backup_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(server)
    admin = parse_database(server)
    connect = {"host": admin.host, "port": admin.port, "user": admin.user, "password": admin.password}
    with psycopg.connect(dbname=admin.name, autocommit=True, **connect) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(dbname=admin.name, autocommit=True, **connect) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


PREPARE_POSTGRES = """
import sys
from moclab.web import server
server.configure(sys.argv[1], demo=True)
server.migrate()
from tests.web.conftest import build_world
build_world("acme")
"""


def postgres_snapshot(url: str) -> tuple[int, ...]:
    import psycopg

    with psycopg.connect(url) as connection:
        return tuple(connection.execute(SNAPSHOT).fetchone())


def test_postgres_backup_and_restore_bring_the_rows_back(tmp_path: Path, postgres_database: str):
    import psycopg

    url = postgres_database
    prepared = subprocess.run(
        [sys.executable, "-c", PREPARE_POSTGRES, url],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=300,
        check=False,
    )
    assert prepared.returncode == 0, prepared.stderr
    assert postgres_snapshot(url) == BEFORE
    backup = tmp_path / "platform.dump"
    done = moclab("serve", "backup", "-o", str(backup), "--database", url, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert backup.read_bytes().startswith(b"PGDMP")
    assert "backed up the postgresql database" in done.stdout
    password = urlsplit(url).password
    assert f":{password}@" not in done.stdout + done.stderr
    with psycopg.connect(url) as connection:
        connection.execute("UPDATE practice_activity SET minutes = 5")
        connection.execute("DELETE FROM practice_recipientcontact")
        connection.execute("DELETE FROM practice_activity_recipients")
        connection.execute("DELETE FROM practice_recipient WHERE pseudonym = 'acme-R9'")
    assert postgres_snapshot(url) == (3, 0, 1, 5, 4)
    refused = moclab("serve", "restore", str(backup), "--database", url, home=tmp_path)
    assert refused.returncode == 2 and "add --force" in refused.stderr, refused.stderr
    done = moclab("serve", "restore", str(backup), "--database", url, "--force", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert postgres_snapshot(url) == BEFORE
    # the restored database is whole: the platform migrates it (nothing to do) and serves it
    check = moclab("serve", "--database", url, "--check", home=tmp_path)
    assert check.returncode == 0, check.stderr


def test_the_password_goes_in_the_environment_never_on_the_command_line(monkeypatch: pytest.MonkeyPatch):
    from moclab.web import backup

    seen: list[tuple[list[str], dict[str, str]]] = []

    class Done:
        returncode, stderr = 0, ""

    def fake_run(command: list[str], env: dict[str, str], **kwargs: object) -> Done:
        seen.append((command, env))
        return Done()

    monkeypatch.setattr(backup.subprocess, "run", fake_run)
    database = parse_database("postgres://moclab:s3cret-pw@127.0.0.1:54329/moclab")
    backup.backup(database, Path("/tmp/unused.dump"))
    command, env = seen[0]
    assert command[0] == postgres_program("pg_dump") and "/usr/lib/postgresql/" in command[0]
    assert "s3cret-pw" not in " ".join(command)
    assert env["PGPASSWORD"] == "s3cret-pw"
    assert command[-2:] == ["--dbname", "moclab"] and "--no-password" in command
