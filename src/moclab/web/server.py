"""Prepare and run the platform: configure Django from the options of `moclab serve`, check the database,
migrate, build the demo, start the background worker of the evidence runs, and serve it with gunicorn
(threads) on the loopback.

`moclab.cli.web` only parses the options and prints; the steps live here so that tests can call them.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from moclab.errors import MoclabError, UsageError
from moclab.web import DATABASE_URL_VAR, MODE_VAR, SECRET_KEY_VAR, data_folder

#: The address the platform listens on: the loopback only; a proxy in front makes it public.
HOST = "127.0.0.1"
#: gunicorn worker processes by default: one (SQLite has one writer at a time anyway; on PostgreSQL
#: ``--workers`` may give one per core, as the load benchmark does: benchmarks/bench_platform.py).
WORKERS = 1
#: gunicorn threads per worker: a request waits on the database part of its time, when another runs.
THREADS = 4

#: Database URL schemes `moclab serve --database` accepts.
SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}


class PlatformError(MoclabError):
    """The platform cannot start as asked: the database is unreachable, the port is taken."""


@dataclass(frozen=True)
class ServeOptions:
    """What `moclab serve` was asked: demo or a database, the port."""

    demo: bool
    database_url: str | None
    port: int


def redacted(url: str) -> str:
    """A database URL without its password, to print (``postgres://moclab:***@127.0.0.1:54329/moclab``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def check_database_url(url: str) -> None:
    """Refuse a URL of another form than the platform's databases (a usage error, exit 2)."""
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise UsageError(
            f"--database {redacted(url)!r}: not a PostgreSQL or SQLite URL",
            hint="e.g. postgres://user:password@127.0.0.1:5432/name or sqlite:////path/to/platform.sqlite3",
        )


def check_port_free(port: int) -> None:
    """Refuse a port another program listens on, before any work."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise PlatformError(
                f"port {port} on {HOST} is in use ({error.strerror})", hint="choose another with --port"
            ) from None


def secret_key() -> str:
    """The production signing key: ``MOCLAB_SECRET_KEY``, or one kept in the data folder (made once, 0600)."""
    if os.environ.get(SECRET_KEY_VAR):
        return os.environ[SECRET_KEY_VAR]
    path = data_folder() / "secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def configure(database_url: str, *, demo: bool, key: str | None = None) -> None:
    """Point Django at `database_url` in demo or production mode and set it up (once per process)."""
    import django

    os.environ[DATABASE_URL_VAR] = database_url
    os.environ[MODE_VAR] = "demo" if demo else "production"
    os.environ[SECRET_KEY_VAR] = key or (secrets.token_urlsafe(50) if demo else secret_key())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moclab.web.settings")
    django.setup()


def check_database() -> str:
    """Connect once; the database's vendor (``sqlite``, ``postgresql``), or a `PlatformError` that says
    which database could not be reached (without its password)."""
    from django.db import DatabaseError, connection

    try:
        connection.ensure_connection()
    except DatabaseError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        url = os.environ.get(DATABASE_URL_VAR, "")
        raise PlatformError(
            f"cannot reach the database {redacted(url)}: {reason}",
            hint="is the server running? (PostgreSQL for the tests: make test, or bash scripts/postgres.sh)",
        ) from None
    return connection.vendor


def migrate() -> None:
    """Bring the database's tables up to date (Django's migrations, quietly)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def serve(port: int, *, workers: int = WORKERS, threads: int = THREADS) -> None:
    """Run gunicorn in this process on ``127.0.0.1:port`` with `workers` processes of `threads` threads
    each until it is stopped (Ctrl-C, SIGTERM)."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from moclab.web.wsgi import application

    connections.close_all()  # the worker opens its own connections after the fork

    class Platform(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{HOST}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "accesslog": None,  # an access log would record addresses: no personal data in logs
                "loglevel": "warning",
                "graceful_timeout": 5,
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Platform().run()


#: Seconds `moclab serve` gives the worker to stop when the server stops, before it is killed (a run cut
#: short is failed as interrupted when the worker starts next: `fail_interrupted_runs`).
WORKER_GRACE_SECONDS = 10.0


def worker_command() -> list[str]:
    """The task worker: django-tasks-db's ``db_worker`` on the default queue, polling every second, quiet
    (a run records its own progress and errors), without the autoreloader."""
    return [
        sys.executable,
        "-m",
        "django",
        "db_worker",
        "--queue-name",
        "default",
        "--interval",
        "1",
        "--no-startup-delay",
        "--no-reload",
        "--verbosity",
        "0",
    ]


class TaskWorker:
    """The worker of the evidence runs, a child process of `moclab serve`, stopped with it.

    The child gets this process's environment, so it runs on the database `configure` chose. On Linux it is
    also told to stop when its parent dies (``PR_SET_PDEATHSIG``), so a server killed outright leaves no
    worker behind. Only the process that started it stops it: gunicorn's workers are forks of this process,
    and their exit (a restart) must not stop it.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.owner = os.getpid()

    @classmethod
    def start(cls) -> TaskWorker:
        """Fail the runs an earlier worker left running (no other worker runs them), then start one."""
        from moclab.web.evidence.tasks import fail_interrupted_runs

        fail_interrupted_runs()
        process = subprocess.Popen(
            worker_command(),
            env=os.environ.copy(),
            stdin=subprocess.DEVNULL,
            preexec_fn=_stop_with_parent() if sys.platform.startswith("linux") else None,
        )
        return cls(process)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = WORKER_GRACE_SECONDS) -> None:
        """Ask the worker to stop (SIGTERM), and kill it when it has not stopped after `grace` seconds."""
        if os.getpid() != self.owner or not self.running:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _stop_with_parent() -> Any:
    """A function for the child between fork and exec: ask the kernel to send it SIGTERM when its parent
    dies (Linux's prctl PR_SET_PDEATHSIG; the C library is loaded here, before the fork)."""
    libc = ctypes.CDLL(None, use_errno=True)
    set_parent_death_signal = 1  # PR_SET_PDEATHSIG, from <sys/prctl.h>

    def call() -> None:
        libc.prctl(set_parent_death_signal, signal.SIGTERM, 0, 0, 0)

    return call


def default_database_url() -> str:
    """The SQLite file in the data folder, the database when neither --demo nor --database is given."""
    path = data_folder() / "platform.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"
