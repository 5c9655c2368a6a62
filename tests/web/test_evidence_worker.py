"""The worker of the evidence runs as it runs for real, on a SQLite file shared by processes:
django-tasks-db's ``db_worker`` picks a queued run up and runs it to its end; `moclab serve` starts it as a
child process and stops it with itself (not with --no-worker); a server killed outright leaves no worker
behind. Each test is bounded by its timeouts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: In a process of its own: the demo (without its run) on a SQLite file, a run queued, the worker started
#: (`TaskWorker`, as `moclab serve` starts it), the run followed until it is done, the worker stopped.
RUN_WITH_A_WORKER = """
import datetime, json, sys, time
from pathlib import Path
from moclab.web import server
server.configure(server.sqlite_url(Path(sys.argv[1])), demo=True)
server.migrate()
from moclab.web.demo import build_demo
build_demo(today=datetime.date(2026, 12, 7), evidence=False)
from moclab.web.evidence.tasks import run_settings, start_run
from moclab.web.practice.models import Organisation
settings = run_settings(template="recipient-pathway", survey=None, n_boot=100, seed=1)
run = start_run(Organisation.objects.get(), settings)
worker = server.TaskWorker.start()
seen, deadline = [], time.monotonic() + 240
while time.monotonic() < deadline:
    run.refresh_from_db()
    if not seen or seen[-1] != run.status:
        seen.append(run.status)
    if run.status in ("finished", "failed"):
        break
    time.sleep(0.2)
worker.stop(grace=10)
pathways = len((run.scorecard or {}).get("pathways", []))
print(json.dumps({"seen": seen, "error": run.error, "pathways": pathways, "exit": worker.process.returncode,
                  "task_id": run.task_id}))
"""

#: A server that starts its worker and prints its pid, then waits to be killed.
WORKER_THEN_WAIT = """
import sys, time
from pathlib import Path
from moclab.web import server
server.configure(server.sqlite_url(Path(sys.argv[1])), demo=True)
server.migrate()
worker = server.TaskWorker.start()
print(worker.process.pid, flush=True)
time.sleep(300)
"""


def environment(home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home), "COLUMNS": "120"}


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, dead but not yet reaped by its parent, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def children_running_db_worker(pid: int) -> list[int]:
    """The child processes of `pid` that run ``db_worker`` (Linux's /proc)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if b"db_worker" in command:
            found.append(int(child))
    return found


def test_the_worker_runs_a_queued_run_to_its_end(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-c", RUN_WITH_A_WORKER, str(tmp_path / "platform.sqlite3")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(tmp_path),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["error"] == ""
    assert result["seen"][0] == "queued" and result["seen"][-1] == "finished"
    assert result["pathways"] == 12 and result["task_id"]
    assert result["exit"] is not None  # stopped


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("no_worker", [False, True])
def test_moclab_serve_starts_the_worker_and_stops_it_with_itself(tmp_path: Path, no_worker: bool):
    port = free_port()
    database = tmp_path / "platform.sqlite3"
    command = [sys.executable, "-c", "from moclab.cli.main import run; run()", "serve", "--port", str(port)]
    command += ["--database", f"sqlite:///{database}", *(["--no-worker"] if no_worker else [])]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(tmp_path)
    )
    try:
        deadline, answered = time.monotonic() + 90, False
        while time.monotonic() < deadline and server.poll() is None and not answered:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    answered = response.status == 200
            except OSError:
                time.sleep(0.3)
        assert answered, "the server did not answer within 90 s"
        workers = children_running_db_worker(server.pid)
        assert len(workers) == (0 if no_worker else 1)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
            pytest.fail("the server did not stop within 30 s of Ctrl-C")
    assert server.returncode == 0, err
    assert ("started the worker of the evidence runs" in err) != no_worker
    assert "Traceback" not in err
    for pid in workers:
        assert not alive(pid), "the worker outlived the server"


def test_a_server_killed_outright_leaves_no_worker_behind(tmp_path: Path):
    parent = subprocess.Popen(
        [sys.executable, "-c", WORKER_THEN_WAIT, str(tmp_path / "platform.sqlite3")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=environment(tmp_path),
    )
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert alive(worker)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
    deadline = time.monotonic() + 20
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(worker):
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its killed parent by 20 s")
