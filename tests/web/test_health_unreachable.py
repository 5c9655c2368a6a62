"""``GET /healthz`` answers 503 when the database cannot be reached: a real unreachable PostgreSQL server, in
a process of its own with the production settings.

The process is the same whatever database the test run uses, so this file is not in the PostgreSQL pass
(tests/web/test_postgres.py); the answer on a reachable database is tested in tests/web/test_health.py, on
both.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path):
    """A real unreachable PostgreSQL server (nothing listens on the port), in production mode: /healthz is
    exempt from the HTTPS redirect, so a plain-HTTP health check on the loopback reads it."""
    code = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/healthz', HTTP_HOST='127.0.0.1')\n"
        "print(r.status_code, r.content.decode())\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "moclab.web.settings",
        "MOCLAB_WEB_MODE": "production",
        "MOCLAB_SECRET_KEY": "k" * 60,
        "MOCLAB_DATABASE_URL": f"postgres://moclab:secret@127.0.0.1:{closed_port()}/nowhere",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    status, body = done.stdout.split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "database": {"vendor": "postgresql", "ok": False}}
    assert "secret" not in done.stdout + done.stderr
