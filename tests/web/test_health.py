"""``GET /healthz``: JSON with the database's status, 503 when the database cannot be reached."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from django.db import connection
from django.test import Client


def test_healthz_answers_ok_with_the_database_vendor(db: None):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "status": "ok",
        "database": {"vendor": connection.vendor, "ok": True},
    }
    assert "no-cache" in response["Cache-Control"]
    assert Client().post("/healthz").status_code == 405


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
