"""Survey answers under load, through a real `moclab serve` (gunicorn, 2 workers x 4 threads) on the real
PostgreSQL server: browsers that open, consent to and submit the same invitation at once leave exactly one
response; a server killed with SIGKILL (master and workers) mid-run and restarted keeps every submission it
acknowledged, with the answers sent, and none twice.

The browsers, the server's start and kill and the database checks are those of benchmarks/bench_platform.py
(its step 4), at a small, bounded size: about 20 s, every request with a 10 s timeout. Speed is measured
there, not here. The PostgreSQL server comes from `make test` (``MOCLAB_TEST_POSTGRES_URL``); without it the
test fails, naming the command that provides it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .platform_env import MISSING_POSTGRES, POSTGRES_URL_VAR

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import bench_platform as load  # noqa: E402  (the benchmark script's helpers, from its folder)


def test_double_submits_and_a_killed_server_lose_and_duplicate_nothing(tmp_path: Path):
    server_url = os.environ.get(POSTGRES_URL_VAR)
    if not server_url:
        pytest.fail(MISSING_POSTGRES, pytrace=False)
    url = load.create_database(server_url, prefix="test_survey_load")
    server = None
    try:
        tokens = load.prepare(url, 600, tmp_path / "tokens.txt")
        assert len(tokens) == len(set(tokens)) == 600
        server = load.start_server(url, load.free_port(), workers=2, threads=4, home=tmp_path)
        workers = load.process_tree(server.process.pid)
        assert len(workers) == 3, workers  # gunicorn's master and its two workers

        # 8 browsers per invitation open the link, consent and submit their own answers at once
        problems = load.double_submits(server, url, tokens[:12], copies=8)
        assert problems == []
        stored = load.stored_responses(url, tokens[:12])
        assert all(len(responses) == 1 and responses[0][1] for responses in stored.values())

        # 12 browsers answer one invitation after another; SIGKILL to the master and workers 2 s in
        first = server.port
        server, outcome = load.kill_and_restart(
            server, url, tokens[12:], browsers=12, after=2.0, workers=2, threads=4
        )
        assert outcome.problems == []
        assert outcome.acknowledged >= 20  # the kill came mid-run, after real work
        assert server.port == first and server.process.poll() is None
        assert set(workers).isdisjoint(load.process_tree(server.process.pid))  # new processes
        assert load.duplicates(url) == 0

        # what the database holds: exactly the invitations answered, each once, `answered` set with it
        answered = load.stored_responses(url, tokens)
        submitted = [t for t, responses in answered.items() if responses and responses[0][1]]
        assert len(submitted) == 12 + outcome.acknowledged + outcome.in_flight
        assert all(responses[0][2] for responses in answered.values() if responses)
    finally:
        if server is not None:
            load.stop_server(server)
        load.drop_database(server_url, url)
