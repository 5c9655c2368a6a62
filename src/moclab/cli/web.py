"""`moclab serve`: the practice platform, on a demo organisation (SQLite) or on your database (PostgreSQL).

The command checks its options, the port and the database before any work, then migrates, builds the demo
when asked, prints the address (and the demo logins) and runs gunicorn on 127.0.0.1 until Ctrl-C. The steps
live in `moclab.web.server` and `moclab.web.demo`; the platform needs the `web` extra.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from moclab.cli.output import errors_exit
from moclab.errors import UsageError, display_path, require


def serve(
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Run on a fresh SQLite file with a demo organisation (synthetic data)."),
    ] = False,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="MOCLAB_DATABASE_URL",
            show_envvar=True,
            help="The database: postgres://user:password@host:port/name (or sqlite:////path). "
            "Default: a SQLite file in ~/.local/share/moclab.",
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port on 127.0.0.1.")] = 8000,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Prepare everything (database, migrations, demo) and stop without serving."
        ),
    ] = False,
) -> None:
    """Run the practice platform: ISP teams log their support; a web application on 127.0.0.1.

    With --demo it runs on a fresh SQLite file holding a demo organisation (sites, teams, ISPs, recipients, a
    year of activities from the recipient-pathway simulator) and prints the demo logins; the file is removed
    when the server stops. Without it, it migrates and serves the database of --database (or
    MOCLAB_DATABASE_URL), in production mode: secure cookies and HTTPS redirects, for a server behind an HTTPS
    proxy. See docs/platform.md.
    """
    # soft wrap: a path or a URL is never broken over lines (docs/cli.md)
    console = Console(highlight=False, soft_wrap=True)
    status = Console(stderr=True, highlight=False, soft_wrap=True)
    demo_folder: Path | None = None
    with errors_exit():
        require("django", "web", "the practice platform")
        require("gunicorn", "web", "the practice platform")
        from moclab.web import server

        if demo and database:
            raise UsageError(
                "--demo runs on a fresh SQLite file of its own: give --demo or --database, not both",
                hint="MOCLAB_DATABASE_URL counts as --database; unset it for the demo",
            )
        if database:
            server.check_database_url(database)
        if not check:
            server.check_port_free(port)
        if demo:
            demo_folder = Path(tempfile.mkdtemp(prefix="moclab-demo-"))
            _OWNER[demo_folder] = os.getpid()
            url = server.sqlite_url(demo_folder / "platform.sqlite3")
        else:
            url = database or server.default_database_url()
        try:
            server.configure(url, demo=demo)
            vendor = server.check_database()
            status.print(f"migrating the {vendor} database {server.redacted(url)}")
            server.migrate()
            if demo:
                from moclab.web.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, build_demo

                status.print("building the demo organisation from a simulated study")
                summary = build_demo()
        except BaseException:
            _remove(demo_folder)
            raise
    address = f"http://127.0.0.1:{port}/"
    if demo:
        console.print(
            f"[bold]{summary.organisation}[/]: {summary.sites} sites, {summary.teams} teams, "
            f"{summary.recipients} recipients, {summary.engagements} engagements, {summary.activities} "
            f"activities from {summary.first_day:%Y-%m-%d} to {summary.last_day:%Y-%m-%d}"
        )
        console.print(f"database: {display_path(demo_folder / 'platform.sqlite3')} (removed when it stops)")
        console.print(f"demo logins (password {DEMO_PASSWORD}):")
        for username, role, _first, _last in DEMO_ACCOUNTS:
            where = f" of {summary.lead_site}" if role == "site_lead" else ""
            console.print(f"  {username:<11} {role.replace('_', ' ')}{where}")
    else:
        console.print(f"database: {server.redacted(url)} ({vendor}), migrated")
        console.print("production mode: serve it behind an HTTPS proxy (secure cookies, HTTPS redirects)")
    if check:
        console.print(f"checked: ready to serve on {address} (--check: not serving)")
        _remove(demo_folder)
        return
    console.print(f"serving on {address} (Ctrl-C stops it)")
    try:
        server.serve(port)
    finally:
        _remove(demo_folder)


def _remove(folder: Path | None) -> None:
    """Remove the demo's folder, from the process that made it only: gunicorn's worker is a fork of this
    process, and its exit (a restart) must not take the demo database with it."""
    if folder is not None and _OWNER.get(folder) == os.getpid():
        shutil.rmtree(folder, ignore_errors=True)


#: The process that made each demo folder.
_OWNER: dict[Path, int] = {}


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("serve")(serve)
