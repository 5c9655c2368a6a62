"""`moclab serve`: the practice platform, on a demo organisation (SQLite) or on your database (PostgreSQL).

The command checks its options, the port and the database before any work, then migrates, builds the demo
when asked, prints the address (and the demo logins) and runs gunicorn on 127.0.0.1 until Ctrl-C. The steps
live in `moclab.web.server` and `moclab.web.demo`; the platform needs the `web` extra.
"""

from __future__ import annotations

import inspect
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from moclab.cli.output import errors_exit
from moclab.errors import UsageError, display_path, require

#: The database of `moclab serve` and of its subcommands.
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar="MOCLAB_DATABASE_URL",
        show_envvar=True,
        help="The database: postgres://user:password@host:port/name (or sqlite:////path). "
        "Default: the SQLite file in ~/.local/share/moclab.",
    ),
]


def serve(
    context: typer.Context,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Run on a fresh SQLite file with a demo organisation (synthetic data)."),
    ] = False,
    database: DatabaseOption = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port on 127.0.0.1.")] = 8000,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Prepare everything (database, migrations, demo) and stop without serving."
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="gunicorn worker processes (PostgreSQL: about one per core; SQLite writes one at a time).",
        ),
    ] = 1,
    threads: Annotated[int, typer.Option("--threads", min=1, max=64, help="Threads per worker process.")] = 4,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            help="Do not start the background worker of the evidence runs (run `python -m django db_worker` "
            "yourself, e.g. as a service).",
        ),
    ] = False,
) -> None:
    """Run the practice platform: ISP teams log their support; a web application on 127.0.0.1.

    With --demo it runs on a fresh SQLite file holding a demo organisation (sites, teams, ISPs, recipients, a
    year of activities from the recipient-pathway simulator, a finished evidence run) and prints the demo
    logins; the file is removed when the server stops. Without it, it migrates and serves the database of
    --database (or MOCLAB_DATABASE_URL), in production mode: secure cookies and HTTPS redirects, for a server
    behind an HTTPS proxy. Beside the server runs the worker of the evidence runs (a child process, stopped
    with it; --no-worker leaves it out). See docs/platform.md.
    """
    if context.invoked_subcommand is not None:
        with errors_exit():
            if demo or check or port != 8000 or workers != 1 or threads != 4 or no_worker:
                raise UsageError(
                    f"--demo, --port, --check, --workers, --threads and --no-worker belong to `moclab serve` "
                    "itself, not "
                    f"to `moclab serve {context.invoked_subcommand}`",
                    hint=f"moclab serve {context.invoked_subcommand} --help shows its options",
                )
        return
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

                status.print("building the demo organisation from a simulated study, and its evidence run")
                summary = build_demo()
        except BaseException:
            _remove(demo_folder)
            raise
    address = f"http://127.0.0.1:{port}/"
    if demo:
        console.print(
            f"[bold]{summary.organisation}[/]: {summary.sites} sites, {summary.teams} teams, "
            f"{summary.recipients} recipients, {summary.engagements} engagements, {summary.activities} "
            f"activities from {summary.first_day:%Y-%m-%d} to {summary.last_day:%Y-%m-%d}; "
            f"{summary.survey_waves} pulse-survey waves with {summary.survey_answers} answers"
        )
        if summary.evidence_run is not None:
            console.print(
                f"evidence: run {summary.evidence_run} of `moclab analyze` on the portfolio "
                f"{summary.evidence_status} ({summary.evidence_pathways} pathways judged; the Evidence page)"
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
    task_worker = None
    try:
        if not no_worker:
            task_worker = server.TaskWorker.start()
            status.print("started the worker of the evidence runs (stopped with the server)")
        console.print(f"serving on {address} (Ctrl-C stops it)")
        server.serve(port, workers=workers, threads=threads)
    finally:
        if task_worker is not None:
            task_worker.stop()
        _remove(demo_folder)


def _remove(folder: Path | None) -> None:
    """Remove the demo's folder, from the process that made it only: gunicorn's worker is a fork of this
    process, and its exit (a restart) must not take the demo database with it."""
    if folder is not None and _OWNER.get(folder) == os.getpid():
        shutil.rmtree(folder, ignore_errors=True)


#: The process that made each demo folder.
_OWNER: dict[Path, int] = {}


ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing output (see docs/cli.md).")]


def _database_url(database: str | None) -> str:
    from moclab.web import data_folder
    from moclab.web.server import check_database_url

    if database:
        check_database_url(database)
        return database
    return f"sqlite:///{data_folder() / 'platform.sqlite3'}"


def serve_export(
    organisation: Annotated[
        str,
        typer.Option(
            "--organisation",
            help="The organisation to export: its name in lower case with words joined by - "
            "(e.g. demo-implementation-support-team-synthetic), or its exact name.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="A folder to write the files into, or a file ending in .zip."),
    ],
    database: DatabaseOption = None,
    names: Annotated[
        bool,
        typer.Option(
            "--names", help="ISPs by user name and activity notes as written (default: pseudonyms)."
        ),
    ] = False,
    force: ForceOption = False,
) -> None:
    """Export an organisation's data: every table as CSV and Parquet, and the activity log for REDCap.

    Pseudonymised: recipients by pseudonym, members as M and their account's id, no notes (--names shows
    user names and notes); contact details are never exported. -o ending in .zip writes one zip, else a
    folder. The export is recorded in the platform's audit log. See docs/platform.md, "Exports".
    """
    console = Console(highlight=False, soft_wrap=True)
    with errors_exit():
        require("django", "web", "the practice platform")
        from moclab.cli.conventions import replacing_file, staged_folder

        target, as_zip, found = _export_destination(database, output, force, organisation, "serve export")
        from moclab.web.practice import exports

        export = exports.build_export(found, names=names)
        if as_zip:
            with replacing_file(target) as temporary:
                temporary.write_bytes(exports.zip_bytes(export))
        else:
            with staged_folder(target, "serve export") as staging:
                staging.mkdir()
                exports.write_folder(export, staging)
        exports.record_export(found, "all", names=names)
    tables = len(exports.TABLES)
    console.print(
        f"exported {export.organisation}: {tables} tables as CSV and Parquet, the REDCap activity log "
        f"({export.counts['activities']} records) and the pulse surveys' REDCap records "
        f"({export.counts['survey_responses']} responses), each with its data dictionary"
    )
    console.print(
        "with names: ISPs by user name, notes as written"
        if names
        else "pseudonymised: recipients by pseudonym, members as M + id, no notes, no contact details"
    )
    console.print(f"written to {display_path(target)}{'' if as_zip else '/'} (recorded in the audit log)")


def serve_export_study(
    organisation: Annotated[
        str,
        typer.Option(
            "--organisation",
            help="The organisation: its name in lower case with words joined by - "
            "(e.g. demo-implementation-support-team-synthetic), or its exact name.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="The study folder to write, or a file ending in .zip."),
    ],
    template: Annotated[
        str, typer.Option("--template", "-t", help="The pathway-model template (`moclab model templates`).")
    ] = "recipient-pathway",
    survey: Annotated[
        str | None,
        typer.Option(
            "--survey", help="The pulse survey's title (default: the every-N-weeks survey with most answers)."
        ),
    ] = None,
    arm: Annotated[
        list[str] | None,
        typer.Option(
            "--arm",
            help="SITE=ARM: the arm a site was assigned to (repeat for every site; with --control). Without "
            "it the design is observational.",
        ),
    ] = None,
    control: Annotated[str | None, typer.Option("--control", help="The control arm (with --arm).")] = None,
    database: DatabaseOption = None,
    force: ForceOption = False,
) -> None:
    """Export an organisation's engagement portfolio as a moclab study folder for `moclab analyze`.

    Recipients by pseudonym, the pulse survey's waves and answers as measures, the activity log as the
    support dose, the chosen pathway-model template as the model; pseudonymised (no names, notes or contact
    details). -o ending in .zip writes one zip, else a folder. The export is recorded in the platform's audit
    log. See docs/platform.md, "From practice to evidence".
    """
    console = Console(highlight=False, soft_wrap=True)
    with errors_exit():
        require("django", "web", "the practice platform")
        from moclab.cli.conventions import replacing_file, staged_folder
        from moclab.errors import MoclabError
        from moclab.model import template_path
        from moclab.web import server

        try:
            template = template_path(template).stem
        except MoclabError as error:
            raise UsageError(f"--template: {error.message}", hint=error.hint) from None
        arms = _parse_arms(arm or [], control)
        target, as_zip, found = _export_destination(
            database, output, force, organisation, "serve export-study"
        )
        from moclab.web.evidence.study_export import export_study, record_study_export
        from moclab.web.surveys.models import Survey

        chosen = None
        if survey is not None:
            chosen = Survey.objects.filter(organisation=found, title=survey).first()
            if chosen is None:
                titles = list(Survey.objects.filter(organisation=found).values_list("title", flat=True))
                raise server.PlatformError(
                    f"{found.name} has no survey titled {survey!r}",
                    hint=f"its surveys: {', '.join(titles)}" if titles else "it has no survey yet",
                )
        export = export_study(found, template=template, survey=chosen, arms=arms, control=control)
        if as_zip:
            with replacing_file(target) as temporary:
                temporary.write_bytes(export.zip_bytes())
        else:
            with staged_folder(target, "serve export-study") as staging:
                export.write(staging)
        record_study_export(found)
    counts = export.counts
    console.print(
        f"exported {export.organisation}: {counts['recipients']} recipients in {counts['sites']} sites, "
        f"{counts['waves']} waves of '{export.survey}' ({counts['responses']} responses), "
        f"{counts['activities']} activities; model {export.template}, "
        f"{len(export.pathways)} pathways to judge"
    )
    console.print("pseudonymised: recipients by pseudonym only; no names, notes or contact details")
    shown = display_path(target)
    console.print(f"written to {shown}{'' if as_zip else '/'} (recorded in the audit log)")
    if not as_zip:
        console.print(f"next: moclab validate {shown}, then moclab analyze {shown} -o report/")


def _parse_arms(given: list[str], control: str | None) -> dict[str, str] | None:
    """``--arm SITE=ARM`` options as site -> arm; None without any (a usage error when malformed)."""
    if not given:
        if control is not None:
            raise UsageError("--control needs the sites' arms", hint="give --arm SITE=ARM for every site")
        return None
    arms: dict[str, str] = {}
    for text in given:
        site, separator, value = text.partition("=")
        if not separator or not site.strip() or not value.strip():
            raise UsageError(
                f"--arm {text!r}: not of the form SITE=ARM", hint="e.g. --arm 'Site S01=intensive'"
            )
        if site.strip() in arms:
            raise UsageError(f"--arm: the site {site.strip()!r} is given twice")
        arms[site.strip()] = value.strip()
    if control is None:
        raise UsageError("--arm needs --control, the comparison arm", hint="e.g. --control usual")
    return arms


def _export_destination(
    database: str | None, output: Path, force: bool, organisation: str, command: str
) -> tuple[Path, bool, Any]:
    """What an export command writes to and whose data: the checked target (a zip file when `output` ends
    in .zip, else a folder; the database file counts as an input it must not overwrite), whether it is a
    zip, and the organisation found in the platform's database."""
    from moclab.cli.conventions import check_output_file, check_output_folder
    from moclab.web.backup import parse_database

    url = _database_url(database)
    parsed = parse_database(url)
    inputs = [parsed.path] if parsed.path is not None else []
    as_zip = output.suffix.lower() == ".zip"
    if as_zip:
        target = check_output_file(output, force=force, inputs=inputs)
    else:
        target = check_output_folder(output, force=force, command=command, inputs=inputs)
    return target, as_zip, _platform_organisation(url, parsed.path, organisation)


def _platform_organisation(url: str, path: Path | None, organisation: str) -> Any:
    """Set Django up on the platform's database `url` (a file at `path` for SQLite) and find `organisation`
    (a `PlatformError` listing the organisations when there is none of that name)."""
    from moclab.web import server

    if path is not None and not path.is_file():
        raise server.PlatformError(
            f"{display_path(path)}: no such database file",
            hint="give the platform's database with --database (or MOCLAB_DATABASE_URL)",
        )
    server.configure(url, demo=False, key=secrets.token_urlsafe(50))
    server.check_database()
    from django.db import connection

    from moclab.web.practice import exports

    if "practice_organisation" not in connection.introspection.table_names():
        raise server.PlatformError(
            f"{server.redacted(url)} is not a platform database (no practice tables)",
            hint="give the database `moclab serve` runs on (it migrates it)",
        )
    found = exports.find_organisation(organisation)
    if found is None:
        known = [exports.slug_of(item) for item in exports.Organisation.objects.all()]
        raise server.PlatformError(
            f"no organisation {organisation!r} in {server.redacted(url)}",
            hint=f"the organisations: {', '.join(known)}" if known else "the database has none yet",
        )
    return found


def serve_backup(
    output: Annotated[Path, typer.Option("-o", "--output", help="The backup file to write.")],
    database: DatabaseOption = None,
    force: ForceOption = False,
) -> None:
    """Back up the platform's database to one file, while the server runs.

    SQLite through its backup API (a consistent copy), PostgreSQL with pg_dump (custom format; the password
    goes to it in PGPASSWORD, never on its command line). Restore it with `moclab serve restore`.
    """
    console = Console(highlight=False, soft_wrap=True)
    with errors_exit():
        require("django", "web", "the practice platform")
        from moclab.cli.conventions import check_output_file, replacing_file
        from moclab.web import backup

        parsed = backup.parse_database(_database_url(database))
        inputs = [parsed.path] if parsed.path is not None else []
        target = check_output_file(output, force=force, inputs=inputs)
        counts = backup.check_backup_source(parsed)
        with replacing_file(target) as temporary:
            backup.backup(parsed, temporary)
    console.print(
        f"backed up the {parsed.vendor} database {parsed.shown} ({_held(counts)}) to {display_path(target)} "
        f"({target.stat().st_size:,} bytes)"
    )


def serve_restore(
    backup_file: Annotated[Path, typer.Argument(metavar="FILE", help="A file `moclab serve backup` wrote.")],
    database: DatabaseOption = None,
    force: ForceOption = False,
) -> None:
    """Restore the platform's database from a backup of `moclab serve backup`.

    A database that holds data (organisations, accounts) is replaced only with --force. SQLite through its
    backup API, PostgreSQL with pg_restore (in one transaction).
    """
    console = Console(highlight=False, soft_wrap=True)
    with errors_exit():
        require("django", "web", "the practice platform")
        from moclab.web import backup

        parsed = backup.parse_database(_database_url(database))
        before = backup.check_restore(parsed, backup_file.expanduser().resolve(), force=force)
        backup.restore(parsed, backup_file.expanduser().resolve())
        after = backup.data_counts(parsed) or {}
    replaced = f", replacing {_held(before)}" if before and any(before.values()) else ""
    console.print(
        f"restored {display_path(backup_file)} into the {parsed.vendor} database {parsed.shown}: "
        f"{_held(after)}{replaced}"
    )


def _held(counts: dict[str, int] | None) -> str:
    if not counts:
        return "no data"
    words = {"practice_organisation": "organisation", "auth_user": "account"}
    return ", ".join(
        f"{count} {words.get(table, table)}{'' if count == 1 else 's'}" for table, count in counts.items()
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    serve_app = typer.Typer(name="serve")
    # A group's help keeps the docstring's line breaks: join each paragraph into one line for the terminal.
    paragraphs = inspect.cleandoc(serve.__doc__ or "").split("\n\n")
    help_text = "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)
    serve_app.callback(invoke_without_command=True, help=help_text)(serve)
    serve_app.command("export")(serve_export)
    serve_app.command("export-study")(serve_export_study)
    serve_app.command("backup")(serve_backup)
    serve_app.command("restore")(serve_restore)
    app.add_typer(serve_app)
