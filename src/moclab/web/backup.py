"""Back up and restore the platform's database: `backup(url, path)` and `restore(url, path)`.

- **SQLite** through the sqlite3 backup API: a consistent copy of the database file page by page while the
  server keeps running (a plain file copy during a write could be torn), restored the same way into the
  database file, which the running server then reads.
- **PostgreSQL** through ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists`` (one
  transaction), from the newest installed server version (``/usr/lib/postgresql/*/bin``, as
  scripts/postgres.sh finds them; else the programs on PATH). The password of the URL goes to them in
  ``PGPASSWORD``, never on their command line, and messages show the URL without it.

A restore refuses a database that holds data (an organisation or an account) unless told to replace it
(``force``): restoring over a live database throws its newer rows away. Neither needs Django.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from moclab.errors import MoclabError, UsageError, display_path
from moclab.web.server import redacted

#: The first bytes of a SQLite database file and of a pg_dump custom-format archive.
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
#: Tables whose rows make a database "not empty" for `restore`.
DATA_TABLES = ("practice_organisation", "auth_user")
#: The table every migrated platform database has.
MIGRATIONS_TABLE = "django_migrations"


class BackupError(MoclabError):
    """A backup or restore that cannot be done: the database is unreachable, the file is not a backup."""


@dataclass(frozen=True)
class Database:
    """A database URL taken apart: its vendor and how to reach it."""

    url: str
    vendor: str  # "sqlite" or "postgresql"
    path: Path | None = None  # SQLite
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    name: str = ""

    @property
    def shown(self) -> str:
        return redacted(self.url)


def parse_database(url: str) -> Database:
    """A `Database` from a ``sqlite:////path`` or ``postgres://user:password@host:port/name`` URL (a
    `UsageError` for another form)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:////abs/path -> /abs/path; sqlite:///relative -> relative
        path = parts.path[1:] if parts.path.startswith("//") else parts.path.lstrip("/")
        if not path or path == ":memory:":
            raise UsageError(
                f"--database {url!r}: not a SQLite file", hint="e.g. sqlite:////path/to/platform.sqlite3"
            )
        return Database(url=url, vendor="sqlite", path=Path(path))
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise UsageError(
                f"--database {redacted(url)!r}: the URL names no database", hint="…/NAME at its end"
            )
        return Database(
            url=url,
            vendor="postgresql",
            host=parts.hostname or "",
            port=str(parts.port or ""),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            name=name,
        )
    raise UsageError(
        f"--database {redacted(url)!r}: not a PostgreSQL or SQLite URL",
        hint="e.g. postgres://user:password@127.0.0.1:5432/name or sqlite:////path/to/platform.sqlite3",
    )


def postgres_program(name: str) -> str:
    """The path of `pg_dump` or `pg_restore`: the newest ``/usr/lib/postgresql/*/bin``, else PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda folder: [int(part) for part in re.findall(r"\d+", folder.parent.name)] or [0],
    )
    for folder in reversed(versions):
        if (folder / name).is_file() and os.access(folder / name, os.X_OK):
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found (PostgreSQL's client programs)",
            hint="install Debian's postgresql-client package (apt-get install postgresql-client)",
        )
    return found


def _pg_environment(database: Database) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if database.password:
        environment["PGPASSWORD"] = database.password
    return environment


def _pg_arguments(database: Database) -> list[str]:
    arguments = []
    if database.host:
        arguments += ["--host", database.host]
    if database.port:
        arguments += ["--port", database.port]
    if database.user:
        arguments += ["--username", database.user]
    return [*arguments, "--no-password", "--dbname", database.name]


def _run(command: list[str], database: Database, what: str) -> None:
    try:
        done = subprocess.run(
            command, env=_pg_environment(database), capture_output=True, text=True, timeout=3600, check=False
        )
    except OSError as error:
        raise BackupError(f"{what} of {database.shown} failed: {error.strerror}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit status {done.returncode}"
        if database.password:
            reason = reason.replace(database.password, "***")
        raise BackupError(
            f"{what} of {database.shown} failed: {reason}",
            hint="is the server running, and may this role read (or write) the database?",
        )


# -- checks ----------------------------------------------------------------------------------------------


def _sqlite_connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    return sqlite3.connect(uri, uri=True, timeout=20)


def _sqlite_counts(path: Path) -> dict[str, int] | None:
    """Rows of `DATA_TABLES` in a SQLite database, or None when it has no platform tables."""
    with _sqlite_connect(path, readonly=True) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if MIGRATIONS_TABLE not in tables:
            return None
        return {
            table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for table in DATA_TABLES
            if table in tables
        }


def _postgres_counts(database: Database) -> dict[str, int] | None:
    import psycopg

    try:
        with psycopg.connect(
            host=database.host or None,
            port=database.port or None,
            user=database.user or None,
            password=database.password or None,
            dbname=database.name,
            connect_timeout=10,
        ) as connection:
            found = {
                row[0]
                for row in connection.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                )
            }
            if MIGRATIONS_TABLE not in found:
                return None
            return {
                table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                for table in DATA_TABLES
                if table in found
            }
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if database.password:
            reason = reason.replace(database.password, "***")
        raise BackupError(
            f"cannot reach the database {database.shown}: {reason}",
            hint="is the server running? (PostgreSQL for the tests: bash scripts/postgres.sh)",
        ) from None


def data_counts(database: Database) -> dict[str, int] | None:
    """How many organisations and accounts the database holds (None: no platform tables at all)."""
    if database.vendor == "sqlite":
        assert database.path is not None
        if not database.path.exists() or database.path.stat().st_size == 0:
            return None
        try:
            return _sqlite_counts(database.path)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{display_path(database.path)}: not a SQLite database ({error})") from None
    return _postgres_counts(database)


def check_backup_source(database: Database) -> dict[str, int]:
    """Check, before any work, that `database` can be backed up: reachable, a platform database."""
    if database.vendor == "sqlite":
        assert database.path is not None
        if not database.path.is_file():
            raise BackupError(
                f"{display_path(database.path)}: no such database file",
                hint="give the platform's database with --database (or MOCLAB_DATABASE_URL)",
            )
    counts = data_counts(database)
    if counts is None:
        raise BackupError(
            f"{database.shown} is not a platform database (it has no {MIGRATIONS_TABLE} table)",
            hint="give the database `moclab serve` runs on",
        )
    if database.vendor == "postgresql":
        postgres_program("pg_dump")
    return counts


def backup_kind(path: Path) -> str:
    """What a backup file is: ``sqlite`` or ``postgresql`` (a `BackupError` for anything else)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"{display_path(path)}: cannot be read ({error.strerror})") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{display_path(path)}: not a backup of the platform "
        "(neither a SQLite database nor a pg_dump archive)",
        hint="give a file `moclab serve backup` wrote",
    )


def check_restore(database: Database, path: Path, *, force: bool) -> dict[str, int] | None:
    """Check, before any work, that `path` can be restored into `database`: a backup of the same vendor,
    and a database without data unless `force`. Returns the data the database holds now."""
    if not path.is_file():
        raise UsageError(
            f"{display_path(path)}: no such file", hint="give a file `moclab serve backup` wrote"
        )
    kind = backup_kind(path)
    if kind != database.vendor:
        raise BackupError(
            f"{display_path(path)} is a {kind} backup; {database.shown} is a {database.vendor} database",
            hint="restore a backup into a database of the kind it was made from",
        )
    if kind == "sqlite":
        assert database.path is not None
        if database.path.exists() and database.path.resolve() == path.resolve():
            raise UsageError(
                f"{display_path(path)} is the database itself", hint="give the backup file, not the database"
            )
        if not database.path.parent.is_dir():
            raise UsageError(f"{display_path(database.path.parent)}: no such folder for the database")
    else:
        postgres_program("pg_restore")
    counts = data_counts(database)
    if counts and any(counts.values()) and not force:
        held = ", ".join(
            f"{count} {table.split('_', 1)[1]} row{'s' if count != 1 else ''}"
            for table, count in counts.items()
        )
        raise UsageError(
            f"{database.shown} holds data ({held}); a restore replaces it",
            hint="add --force to replace it with the backup (back it up first), "
            "or restore into an empty database",
        )
    return counts


# -- the work --------------------------------------------------------------------------------------------


def backup(database: Database, target: Path) -> None:
    """Write a consistent backup of `database` to `target` (a file already checked; written whole or not
    at all by the caller's temporary file)."""
    if database.vendor == "sqlite":
        assert database.path is not None
        target.unlink(missing_ok=True)
        source = _sqlite_connect(database.path, readonly=True)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        except sqlite3.Error as error:
            raise BackupError(f"the backup of {display_path(database.path)} failed: {error}") from None
        finally:
            copy.close()
            source.close()
        return
    command = [postgres_program("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]
    _run([*command, *_pg_arguments(database)], database, "pg_dump")


def restore(database: Database, source: Path) -> None:
    """Replace the contents of `database` with the backup `source` (checked with `check_restore`)."""
    if database.vendor == "sqlite":
        assert database.path is not None
        backup_copy = _sqlite_connect(source, readonly=True)
        target = sqlite3.connect(database.path, timeout=20)
        try:
            backup_copy.backup(target)
        except sqlite3.Error as error:
            raise BackupError(f"the restore into {display_path(database.path)} failed: {error}") from None
        finally:
            target.close()
            backup_copy.close()
        return
    command = [
        postgres_program("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
    ]
    _run([*command, *_pg_arguments(database), str(source)], database, "pg_restore")
