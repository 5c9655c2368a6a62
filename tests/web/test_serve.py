"""`moclab serve` as a user runs it: the demo prepared end to end, usage errors, and a real gunicorn server
answering /healthz on the loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def environment(home: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "COLUMNS": "120", "TMPDIR": str(home), **extra}


def moclab(*args: str, home: Path, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from moclab.cli.main import run; run()", *args],
        capture_output=True,
        text=True,
        env=environment(home, **extra),
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_demo_check_builds_the_demo_organisation_and_stops(tmp_path: Path):
    done = moclab("serve", "--demo", "--check", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    found = re.search(
        r"Demo implementation support team \(synthetic\): 6 sites, (\d+) teams, (\d+) recipients,\s+6 "
        r"engagements, (\d+) activities from (\S+) to (\S+)",
        out,
    )
    assert found, out
    teams, recipients, activities = (int(found.group(i)) for i in (1, 2, 3))
    assert 12 <= teams <= 24 and 150 <= recipients <= 450 and activities >= 60
    first, last = found.group(4), found.group(5)
    assert first < last  # a year of activities, ending yesterday
    assert "demo logins (password moclab-demo):" in out
    for login in ("admin", "researcher", "isp1", "isp2", "isp3", "lead"):
        assert re.search(rf"^  {login}\s", out, re.MULTILINE), login
    assert "lead        site lead of Site S01" in out
    assert (
        out.strip().splitlines()[-1]
        == "checked: ready to serve on http://127.0.0.1:8000/ (--check: not serving)"
    )
    # the demo's database was a fresh file, removed when the command ended
    assert not list(tmp_path.glob("moclab-demo-*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--demo", "--database", "postgres://u:p@127.0.0.1:5432/x"], "give --demo or --database, not both"),
        (["--database", "mysql://u:p@127.0.0.1/x"], "not a PostgreSQL or SQLite URL"),
        (["--port", "0"], "Invalid value for '--port'"),
        (["--port", "lots"], "Invalid value for '--port'"),
    ],
)
def test_usage_errors_exit_2_before_any_work(tmp_path: Path, args: list[str], message: str):
    done = moclab("serve", *args, "--check", home=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".local").exists()  # no database was made


def test_an_unreachable_database_is_one_line_without_its_password(tmp_path: Path):
    url = f"postgres://moclab:hunter2@127.0.0.1:{free_port()}/moclab"
    done = moclab("serve", "--check", home=tmp_path, MOCLAB_DATABASE_URL=url)
    assert done.returncode == 1
    assert "cannot reach the database postgres://moclab:***@127.0.0.1" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_a_port_in_use_is_refused_before_any_work(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = moclab("serve", "--demo", "--port", str(port), home=tmp_path)
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr and "--port" in done.stderr
    assert "building the demo" not in done.stderr


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, dict(response.headers), response.read()


def test_a_real_server_answers_healthz_and_stops_on_ctrl_c(tmp_path: Path):
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from moclab.cli.main import run; run()",
            "serve",
            "--demo",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(tmp_path),
    )
    try:
        deadline = time.monotonic() + 90
        answer = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.3)
        assert answer is not None, server.stderr.read() if server.poll() is not None else "no answer in 90 s"
        status, headers, body = answer
        assert status == 200
        assert json.loads(body) == {"status": "ok", "database": {"vendor": "sqlite", "ok": True}}
        status, headers, body = get(f"http://127.0.0.1:{port}/login/")
        assert status == 200 and b"Log in" in body
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert get(f"http://127.0.0.1:{port}/static/moclab/platform.css")[0] == 200
        assert list(tmp_path.glob("moclab-demo-*/platform.sqlite3"))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            out, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            out, err = server.communicate()
            pytest.fail("the server did not stop within 30 s of Ctrl-C")
    assert server.returncode == 0, err
    assert f"serving on http://127.0.0.1:{port}/ (Ctrl-C stops it)" in out
    assert "Traceback" not in err
    assert not list(tmp_path.glob("moclab-demo-*"))  # the demo's database went with it
    assert os.environ.get("MOCLAB_WEB_MODE") == "demo"


def test_serve_without_options_migrates_a_sqlite_file_in_the_data_folder(tmp_path: Path):
    done = moclab("serve", "--check", home=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / ".local" / "share" / "moclab"
    database = folder / "platform.sqlite3"
    assert f"database: sqlite:///{database} (sqlite), migrated" in done.stdout
    assert "production mode: serve it behind an HTTPS proxy" in done.stdout
    assert database.stat().st_size > 50_000  # the migrated tables
    key = folder / "secret-key"
    assert oct(key.stat().st_mode & 0o777) == "0o600" and len(key.read_text()) >= 50
    again = moclab("serve", "--check", home=tmp_path)  # migrating again is a no-op, the key is kept
    assert again.returncode == 0, again.stderr
    assert len(list(folder.iterdir())) == 2
