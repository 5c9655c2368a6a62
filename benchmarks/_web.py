"""What the platform's in-process benchmarks (bench_activity_list.py, bench_dashboards.py) share: the
environment line, a database of their own for one engine, and their Markdown table."""

from __future__ import annotations

import contextlib
import os
import platform
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def environment() -> str:
    """Python, Django, the machine and its load, in one line."""
    import django

    load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return (
        f"environment: Python {platform.python_version()}, Django {django.get_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores{load}"
    )


@contextlib.contextmanager
def engine_database(engine: str, postgres: str, prefix: str) -> Iterator[str]:
    """The URL of an empty database of this benchmark's own: a temporary SQLite file, or a database created
    on the PostgreSQL server of `postgres` and dropped (with Django's connections closed) at the end."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    if engine != "postgres":
        raise SystemExit(f"unknown engine {engine!r}: sqlite or postgres")
    import psycopg

    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(postgres)._replace(path=f"/{name}"))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def print_markdown(header: Sequence[str], lines: Sequence[Sequence[str]], *, left: int = 1) -> None:
    """A Markdown table: the first `left` columns aligned left, the numbers after them right."""
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        cells = [c.ljust(w) for c, w in zip(line[:left], widths[:left], strict=True)]
        cells += [c.rjust(w) for c, w in zip(line[left:], widths[left:], strict=True)]
        print("| " + " | ".join(cells) + " |")
