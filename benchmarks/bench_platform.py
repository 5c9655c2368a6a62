"""Load on the practice platform: survey submissions per second through a real `moclab serve` on PostgreSQL.

The target (issue 13): at least 200 survey submissions a second sustained, with the submit POST's p95 under
100 ms, on this 2-core machine, and no lost or duplicated answer under concurrent double submits and a server
killed mid-run. The script

1. creates a PostgreSQL database of its own on the test server (``--server``, by default the one
   ``bash scripts/postgres.sh`` starts), migrates it and builds an organisation with two surveys (AIM's four
   items and the recipient-pathway trust rating) with their consent text, in a subprocess (``prepare``) so
   that this process never loads Django: the first survey's open waves are its first (``--invitations``
   invitations, bulk_create); the second had a wave two weeks ago that every recipient consented to and
   answered, so its open waves (as many invitations) are later waves, whose recipients see the questions at
   once (the consent is asked once per version of its text);
2. starts ``moclab serve --database URL --workers 2 --threads 2 --no-worker`` (gunicorn, without the task
   worker of the evidence runs) on a free loopback port: one worker process per core, since a process runs
   Python on one core at a time (the GIL), and two threads each, so that one request's database round trip
   overlaps another's Python; more threads only add GIL
   contention, more processes only compete with PostgreSQL and the load generator for the same two cores
   (2 x 2 gave the most submissions in short trials of 2 x 1, 2 x 2, 2 x 4, 3 x 2 and 4 x 1). It runs in
   production mode as a deployment runs it: requests carry ``X-Forwarded-Proto: https`` and an ``Origin``,
   as they do behind the HTTPS proxy;
3. drives it with a bounded asyncio load generator (aiohttp, one client session with one keep-alive
   connection per simulated browser; aiohttp rather than httpx because the generator shares the two cores
   with the server, and httpx took about twice its CPU per request): each browser takes the next unused
   invitation and does what a recipient's browser does: in a first wave it GETs the link (the consent
   page), POSTs the consent, GETs the form the consent redirects to and POSTs the five answers (answered by
   the thanks page); in a later wave it GETs the link (the form) and POSTs the answers; then it takes the
   next one. Both flows are measured, first waves then later waves; for each number of browsers of the
   sweep: ``--warmup`` seconds not counted, then
   ``--duration`` seconds in which every submit POST that completes is counted and timed; then the browsers
   stop (after the request each has in flight; every request has a 10 s timeout), and when the invitations
   run out the run stops early and says so. The table gives submissions per second (acknowledged submits in
   the window / its length), the submit POST's p50/p95/p99 latency, all requests per second, errors, and the
   CPU used by the load generator, the server and the rest (PostgreSQL) in cores;
4. checks correctness under load: ``--copies`` browsers consent to and submit the same invitation at once
   (for each of ``--double-tokens`` invitations): exactly one response each, holding one browser's answers;
   then a run killed mid-way (SIGKILL to gunicorn's master and its workers) and restarted on the same
   database: every submission acknowledged (by the thanks page) before the kill is in the database with the
   answers sent, none is duplicated, and the recipients whose submit was in flight at the kill finish on the
   restarted server with one response each;
5. drops its database.

The load protocol differs from `benchmarks/_protocol.py`'s round-robin timing of calls (a sustained rate is
not a call) but keeps its rules: set-up (database, server start) outside the measurement, the same warm-up
and the same window for every level of the sweep, ``--repeats`` rounds over the sweep with the median rate
and the median of each latency percentile reported, numbers printed as measured.

    bash scripts/postgres.sh                                 # the test server, once
    .venv/bin/python benchmarks/bench_platform.py            # 8, 16, 32 browsers, 5 s + 30 s, 2 rounds
    .venv/bin/python benchmarks/bench_platform.py --quick    # 8 browsers, 2 s + 5 s, 1 round (a smoke run)

`tests/web/test_survey_load.py` runs the correctness checks of step 4 (short and bounded) with the helpers of
this script.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

REPOSITORY = Path(__file__).resolve().parents[1]
#: The test server of `bash scripts/postgres.sh`.
DEFAULT_SERVER = "postgres://moclab:moclab@127.0.0.1:54329/moclab"
#: The survey's items (AIM's four, the recipient-pathway trust rating), each answered 1..5.
ITEMS = ("aim_1", "aim_2", "aim_3", "aim_4", "trust")
#: Every request gives up after this many seconds (a bounded run even against a stuck server).
REQUEST_TIMEOUT = 10.0
#: The answer form's opening tag (templates/surveys/answer_form.html).
FORM = 'class="survey-form"'
#: The consent page's heading (templates/surveys/consent.html).
CONSENT = "Before you start"
#: The thanks page's words, and its words to a repeated submit (templates/surveys/thanks.html).
THANKS = "are in."
ALREADY = "already sent: nothing was changed"

T = TypeVar("T")


# -- the database --------------------------------------------------------------------------------------------


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine `make()` on an event loop of its own thread: the caller's thread may already run a
    loop (Playwright's sync API keeps one in the test session), where `asyncio.run` is refused."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def database_url(server_url: str, name: str) -> str:
    """`server_url` with its database name replaced by `name`."""
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def _admin(server_url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(server_url, autocommit=True, connect_timeout=10)


def create_database(server_url: str, prefix: str = "bench_platform") -> str:
    """A new, empty database on the server of `server_url` (its role may CREATE DATABASE); its URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin(server_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database of `url` (closing any connection left to it)."""
    name = urlsplit(url).path.lstrip("/")
    with _admin(server_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(
    url: str, invitations: int, tokens_file: Path, per_wave: int = 20_000, *, agreed: bool = False
) -> list[str]:
    """Migrate the database of `url` and fill it (see `_prepare_here`), in a subprocess; the tokens."""
    command = [sys.executable, __file__, "prepare", url, str(invitations), str(tokens_file), str(per_wave)]
    command += ["agreed"] if agreed else []
    env = {**os.environ, "MOCLAB_SECRET_KEY": secrets.token_urlsafe(50), "HOME": str(tokens_file.parent)}
    env.pop("MOCLAB_DATABASE_URL", None)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{done.stdout}\n{done.stderr}")
    return tokens_file.read_text().split()


def _prepare_here(url: str, invitations: int, tokens_file: Path, per_wave: int, agreed: bool) -> None:
    """An organisation with one site, a survey (AIM + trust) with its consent text, and ceil(invitations /
    per_wave) waves open now, each inviting up to `per_wave` recipients; writes the tokens, one a line.

    With `agreed`, the survey (a survey of its own, so that one database can hold both flows) first had a
    wave that closed two weeks ago, in which every recipient consented and answered: the open waves are later
    waves, whose recipients go straight to the questions (the consent is asked once per version)."""
    import datetime

    from moclab.web import server

    server.configure(url, demo=False, key=os.environ["MOCLAB_SECRET_KEY"])
    server.check_database()
    server.migrate()
    from django.utils import timezone

    from moclab.web.practice.models import Organisation, Recipient, Site
    from moclab.web.surveys.models import Invitation, Survey, SurveyResponse, SurveyWave

    organisation, _ = Organisation.objects.get_or_create(name="Load benchmark (synthetic)")
    site, _ = Site.objects.get_or_create(organisation=organisation, name="Site L01")
    survey = Survey.objects.create(
        organisation=organisation,
        title="Pulse, later waves" if agreed else "Pulse",
        subject="the support we receive",
        instruments=["aim"],
        pathway_items=["recipient-pathway:trust"],
        schedule="every_n_weeks",
        every_weeks=4,
        start_date=datetime.date.today(),
        expiry_days=14,
    )
    consent = survey.set_consent("Taking part is voluntary; your answers are kept apart from your name.")
    assert [item.key for item in survey.items()] == list(ITEMS)
    people = min(per_wave, invitations)
    recipients = list(Recipient.objects.filter(site=site).order_by("pk")[:people])
    recipients += Recipient.objects.bulk_create(
        [
            Recipient(organisation=organisation, site=site, pseudonym=f"R{i:06d}")
            for i in range(len(recipients), people)
        ],
        batch_size=5_000,
    )
    now = timezone.now()
    number = 0
    if agreed:
        number = 1
        earlier = SurveyWave.objects.create(
            survey=survey,
            number=1,
            opens=now - datetime.timedelta(days=30),
            closes=now - datetime.timedelta(days=16),
        )
        done = now - datetime.timedelta(days=28)
        answered = Invitation.objects.bulk_create(
            [
                Invitation(wave=earlier, recipient=r, due=done, sent=done, opened=done, answered=done)
                for r in recipients
            ],
            batch_size=5_000,
        )
        SurveyResponse.objects.bulk_create(
            [
                SurveyResponse(
                    invitation=invitation,
                    consent_version=consent.version,
                    consented=done,
                    values=answers_for(invitation.token),
                    saved=done,
                    submitted=done,
                )
                for invitation in answered
            ],
            batch_size=5_000,
        )
    opens = now - datetime.timedelta(hours=1)
    tokens: list[str] = []
    while len(tokens) < invitations:
        number += 1
        wave = SurveyWave.objects.create(
            survey=survey, number=number, opens=opens, closes=opens + datetime.timedelta(days=14)
        )
        batch = [
            Invitation(wave=wave, recipient=recipient, due=opens, sent=opens)
            for recipient in recipients[: invitations - len(tokens)]
        ]
        Invitation.objects.bulk_create(batch, batch_size=5_000)
        tokens.extend(invitation.token for invitation in batch)
    tokens_file.write_text("\n".join(tokens) + "\n")


# -- the server ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A `moclab serve` process (gunicorn's master) and how to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(url: str, port: int, *, workers: int, threads: int, home: Path, wait: float = 60) -> Server:
    """Start ``moclab serve --database url`` on `port` and wait until /healthz answers."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "MOCLAB_SECRET_KEY": "bench-platform-" + "k" * 50,
    }
    log = home / f"serve-{port}-{time.monotonic_ns()}.log"
    command = [sys.executable, "-c", "from moclab.cli.main import run; run()", "serve", "--database", url]
    command += ["--port", str(port), "--workers", str(workers), "--threads", str(threads)]
    command += ["--no-worker"]  # the evidence runs' task worker: not part of a survey wave's load
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=home)
    server = Server(process, port, log)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moclab serve stopped (exit {process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.base}/healthz", timeout=2) as answer:
                if json.loads(answer.read())["status"] == "ok":
                    return server
        except OSError:
            time.sleep(0.2)
    kill_server(server)
    raise RuntimeError(f"moclab serve did not answer /healthz in {wait:.0f} s:\n{log.read_text()}")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (gunicorn's master and workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def kill_server(server: Server) -> list[int]:
    """SIGKILL gunicorn's master and every worker at once (no graceful anything); the pids killed."""
    pids = process_tree(server.process.pid)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids[1:]):
        time.sleep(0.05)  # the workers, reaped by init once their parent is gone
    return pids


def stop_server(server: Server) -> None:
    """SIGTERM (gunicorn's graceful stop), SIGKILL after 30 s."""
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_server(server)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of `pids` (those still running)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy since boot (/proc/stat, idle and iowait left out)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


# -- the simulated browsers ----------------------------------------------------------------------------------


@dataclass
class Request:
    """One request's kind (get, consent, submit), start and end (monotonic seconds), status (0: no answer)."""

    kind: str
    start: float
    end: float
    status: int


@dataclass
class Record:
    """Everything the browsers did: the requests, and per token the answers posted and the submit's status."""

    requests: list[Request] = field(default_factory=list)
    posted: dict[str, dict[str, int]] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def answers_for(token: str, salt: int = 0) -> dict[str, int]:
    """A recipient's answers, 1..5 per item, different from token to token (and from copy to copy)."""
    digest = [ord(c) for c in token]
    return {item: (digest[i] + salt * (i + 1)) % 5 + 1 for i, item in enumerate(ITEMS)}


@dataclass(frozen=True)
class Page:
    """An answer: its status and its text."""

    status_code: int
    text: str


class Browser:
    """A browser behind the HTTPS proxy: one keep-alive connection. The recipient's page sets no cookie and
    asks no CSRF token (its personal link is its only key: docs/decisions/0007)."""

    def __init__(self, base: str) -> None:
        import aiohttp

        origin = "https://" + urlsplit(base).netloc
        self.base = base
        self.client = aiohttp.ClientSession(
            headers={"X-Forwarded-Proto": "https", "Origin": origin},
            connector=aiohttp.TCPConnector(limit=1),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        )

    async def close(self) -> None:
        await self.client.close()

    async def _send(
        self, record: Record, kind: str, method: str, path: str, data: dict | None = None
    ) -> Page | None:
        start = time.monotonic()
        try:
            async with self.client.request(
                method, self.base + path, data=data, allow_redirects=False
            ) as answer:
                page = Page(answer.status, await answer.text())
        except Exception as error:  # a refused or cut connection is an outcome, counted
            record.requests.append(Request(kind, start, time.monotonic(), 0))
            record.problems.append(f"{kind}: {type(error).__name__}")
            return None
        record.requests.append(Request(kind, start, time.monotonic(), page.status_code))
        return page

    async def open(self, record: Record, token: str, *, alone: bool = True) -> bool:
        """Open the personal link and reach the questions, as a browser does: GET the link; on the consent
        page POST the consent and follow its redirect (GET) to the form. False when the form was not reached
        (recorded as a problem). Not `alone` (other browsers open the same link at once), the answer to the
        consent may already be the form, or the thanks page of a faster browser."""
        path = f"/s/{token}/"
        page = await self._send(record, "get", "GET", path)
        if page is None:
            return False
        if page.status_code != 200:
            record.problems.append(f"get: {page.status_code}")
            return False
        if FORM in page.text or (not alone and THANKS in page.text):
            return True
        if CONSENT not in page.text:
            record.problems.append("get: neither the consent page nor the form")
            return False
        consent = await self._send(record, "consent", "POST", path, {"action": "consent"})
        if consent is None:
            return False
        if not alone and consent.status_code == 200 and (FORM in consent.text or THANKS in consent.text):
            return True  # another browser consented (or even submitted) first: this answer is the next page
        if consent.status_code != 302:
            record.problems.append(f"consent: {consent.status_code}")
            return False
        form = await self._send(record, "form", "GET", path)
        if form is None:
            return False
        if form.status_code != 200 or not (FORM in form.text or (not alone and THANKS in form.text)):
            record.problems.append(f"form: {form.status_code}")
            return False
        return True

    async def submit(self, record: Record, token: str, answers: dict[str, int], *, alone: bool = True) -> int:
        """POST the answers; the status (200 with the thanks page: acknowledged; 0: no answer). Not `alone`,
        a thanks page saying the answers were already sent is the idempotent answer to a double submit."""
        data = {"action": "submit", **{k: str(v) for k, v in answers.items()}}
        record.attempted.add(token)
        record.posted.setdefault(token, answers)
        answer = await self._send(record, "submit", "POST", f"/s/{token}/", data)
        if answer is None:
            return 0
        if answer.status_code == 200 and THANKS in answer.text:
            if ALREADY not in answer.text:
                record.acknowledged.add(token)
            elif alone:
                record.problems.append("submit: already sent, by nobody else")
        else:
            record.problems.append(f"submit: {answer.status_code}")
        return answer.status_code

    async def recipient(self, record: Record, token: str) -> None:
        """One recipient's whole visit: the link, (the consent,) the answers."""
        if await self.open(record, token):
            await self.submit(record, token, answers_for(token))


async def drive(base: str, tokens: Iterator[str], browsers: int, seconds: float, record: Record) -> bool:
    """`browsers` browsers take recipients from `tokens` for `seconds`, then finish the request in flight
    and stop; False when the tokens ran out first."""
    stop = time.monotonic() + seconds
    ran_out = False

    async def one() -> None:
        nonlocal ran_out
        browser = Browser(base)
        try:
            while time.monotonic() < stop:
                token = next(tokens, None)
                if token is None:
                    ran_out = True
                    return
                await browser.recipient(record, token)
        finally:
            await browser.close()

    await asyncio.gather(*(one() for _ in range(browsers)))
    return not ran_out


# -- the measurement -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One level of the sweep, one round: what the window measured."""

    browsers: int
    submissions: int
    seconds: float
    p50: float
    p95: float
    p99: float
    requests_per_second: float
    errors: int
    client_cores: float
    server_cores: float
    other_cores: float
    complete: bool

    @property
    def rate(self) -> float:
        return self.submissions / self.seconds


def percentile(values: list[float], q: float) -> float:
    """The `q` quantile (0..1) by linear interpolation (numpy's default), nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure_level(
    server: Server, tokens: Iterator[str], browsers: int, warmup: float, duration: float
) -> Level:
    """Drive `browsers` browsers for `warmup` + `duration` seconds; count and time the window's submits."""
    record = Record()
    pids = process_tree(server.process.pid)
    marks: dict[str, float] = {}

    async def run() -> bool:
        async def mark() -> None:
            await asyncio.sleep(warmup)
            marks["start"] = time.monotonic()
            marks["cpu"], marks["server"], marks["busy"] = (
                time.process_time(),
                cpu_seconds(pids),
                machine_busy_seconds(),
            )
            await asyncio.sleep(duration)
            marks["end"] = time.monotonic()
            marks["cpu"], marks["server"], marks["busy"] = (
                time.process_time() - marks["cpu"],
                cpu_seconds(pids) - marks["server"],
                machine_busy_seconds() - marks["busy"],
            )

        done, _ = await asyncio.gather(
            drive(server.base, tokens, browsers, warmup + duration, record), mark()
        )
        return done

    complete = run_async(run)
    start, end = marks["start"], marks["end"]
    window = [r for r in record.requests if start <= r.end < end]
    submits = [r for r in window if r.kind == "submit" and r.status == 200]
    errors = sum(1 for r in window if r.status not in (200, 302))
    latencies = [1000 * (r.end - r.start) for r in submits]
    length = end - start
    client = marks["cpu"] / length
    served = marks["server"] / length
    return Level(
        browsers=browsers,
        submissions=len(submits),
        seconds=length,
        p50=percentile(latencies, 0.50),
        p95=percentile(latencies, 0.95),
        p99=percentile(latencies, 0.99),
        requests_per_second=len(window) / length,
        errors=errors,
        client_cores=client,
        server_cores=served,
        other_cores=max(0.0, marks["busy"] / length - client - served),
        complete=complete,
    )


def print_levels(levels: list[list[Level]]) -> None:
    """The sweep's table: per level the medians over the rounds."""
    header = (
        "browsers",
        "rounds",
        "submissions/s",
        "submit p50 ms",
        "p95 ms",
        "p99 ms",
        "requests/s",
        "errors",
        "CPU: load gen",
        "server",
        "PostgreSQL+rest",
    )
    rows = []
    for rounds in levels:
        med = statistics.median
        rows.append(
            (
                str(rounds[0].browsers),
                str(len(rounds)),
                f"{med(r.rate for r in rounds):.0f}",
                f"{med(r.p50 for r in rounds):.1f}",
                f"{med(r.p95 for r in rounds):.1f}",
                f"{med(r.p99 for r in rounds):.1f}",
                f"{med(r.requests_per_second for r in rounds):.0f}",
                str(sum(r.errors for r in rounds)),
                f"{med(r.client_cores for r in rounds):.2f}",
                f"{med(r.server_cores for r in rounds):.2f}",
                f"{med(r.other_cores for r in rounds):.2f}",
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


# -- correctness under load ----------------------------------------------------------------------------------


def stored_responses(url: str, tokens: list[str]) -> dict[str, list[tuple[dict, bool, bool]]]:
    """Per token, its responses as (values, submitted, the invitation's `answered` equals `submitted`)."""
    import psycopg

    found: dict[str, list[tuple[dict, bool, bool]]] = {token: [] for token in tokens}
    with psycopg.connect(url, connect_timeout=10) as connection:
        rows = connection.execute(
            "SELECT i.token, r.values, r.submitted IS NOT NULL, r.submitted IS NOT DISTINCT FROM i.answered "
            "FROM surveys_invitation i JOIN surveys_surveyresponse r ON r.invitation_id = i.id "
            "WHERE i.token = ANY(%s)",
            [tokens],
        ).fetchall()
    for token, values, submitted, answered in rows:
        found[token].append((values if isinstance(values, dict) else json.loads(values), submitted, answered))
    return found


def double_submits(server: Server, url: str, tokens: list[str], copies: int) -> list[str]:
    """`copies` browsers open, consent to and submit each invitation of `tokens` at once (different answers
    each); the problems found: anything but exactly one submitted response holding one browser's answers."""
    record = Record()

    async def one_token(token: str) -> list[dict[str, int]]:
        browsers = [Browser(server.base) for _ in range(copies)]
        try:
            opened = await asyncio.gather(*(b.open(record, token, alone=False) for b in browsers))
            sets = [answers_for(token, salt) for salt in range(copies)]
            await asyncio.gather(
                *(
                    b.submit(record, token, answers, alone=False)
                    for b, ready, answers in zip(browsers, opened, sets, strict=True)
                    if ready
                )
            )
            return sets
        finally:
            for b in browsers:
                await b.close()

    async def run() -> list[list[dict[str, int]]]:
        return await asyncio.gather(*(one_token(token) for token in tokens))

    posted = run_async(run)
    problems = [f"a request failed: {problem}" for problem in record.problems]
    stored = stored_responses(url, tokens)
    for token, sets in zip(tokens, posted, strict=True):
        responses = stored[token]
        if len(responses) != 1:
            problems.append(f"{token[:6]}…: {len(responses)} responses")
            continue
        values, submitted, answered = responses[0]
        if not submitted or not answered:
            problems.append(f"{token[:6]}…: not submitted, or `answered` not set with it")
        if values not in sets:
            problems.append(f"{token[:6]}…: stored answers {values} are no browser's")
    return problems


@dataclass
class KillOutcome:
    acknowledged: int
    in_flight: int
    restarted_in: float
    problems: list[str]


def kill_and_restart(
    server: Server, url: str, tokens: list[str], browsers: int, after: float, *, workers: int, threads: int
) -> tuple[Server, KillOutcome]:
    """Drive `browsers` browsers over `tokens`, SIGKILL the server `after` seconds in, restart it on the same
    database and port, check that every acknowledged submission is there with its answers, then let the
    recipients whose submit got no answer open their link again (and submit when asked): one response each."""
    record = Record()
    home = server.log.parent

    async def run() -> None:
        source = iter(tokens)
        driving = asyncio.ensure_future(drive(server.base, source, browsers, after + REQUEST_TIMEOUT, record))
        await asyncio.sleep(after)
        await asyncio.to_thread(kill_server, server)
        driving.cancel()  # every browser's request now fails at once (the connection is gone)
        with contextlib.suppress(asyncio.CancelledError):
            await driving

    run_async(run)
    problems: list[str] = []
    acknowledged = sorted(record.acknowledged)
    in_flight = sorted(record.attempted - record.acknowledged)
    if len(acknowledged) < 10:
        problems.append(f"only {len(acknowledged)} submissions were acknowledged before the kill")
    started = time.monotonic()
    restarted = start_server(url, server.port, workers=workers, threads=threads, home=home)
    restarted_in = time.monotonic() - started
    stored = stored_responses(url, sorted(record.attempted))
    for token in acknowledged:
        responses = stored[token]
        if len(responses) != 1 or not responses[0][1]:
            problems.append(f"acknowledged {token[:6]}…: {len(responses)} responses after the restart")
        elif responses[0][0] != record.posted[token]:
            problems.append(
                f"acknowledged {token[:6]}…: stored {responses[0][0]} != sent {record.posted[token]}"
            )
    for token in in_flight:
        if len(stored[token]) > 1:
            problems.append(f"in flight {token[:6]}…: {len(stored[token])} responses")

    retry = Record()

    async def again() -> None:
        browser = Browser(restarted.base)
        try:
            for token in in_flight:
                path = f"/s/{token}/"
                page = await browser._send(retry, "get", "GET", path)
                if page is None or page.status_code != 200:
                    retry.problems.append(f"get: {page.status_code if page else 'no answer'}")
                    continue
                if THANKS in page.text:
                    continue  # committed before the kill, unacknowledged: the thanks page, nothing to redo
                if CONSENT in page.text:  # the consent was lost with the server: consent again
                    await browser._send(retry, "consent", "POST", path, {"action": "consent"})
                await browser.submit(retry, token, record.posted[token])
        finally:
            await browser.close()

    run_async(again)
    problems += [f"after the restart: {problem}" for problem in retry.problems]
    stored = stored_responses(url, in_flight)
    for token in in_flight:
        responses = stored[token]
        if len(responses) != 1 or not responses[0][1] or responses[0][0] != record.posted[token]:
            problems.append(f"in flight {token[:6]}…: {responses} after finishing on the restarted server")
    return restarted, KillOutcome(len(acknowledged), len(in_flight), restarted_in, problems)


def duplicates(url: str) -> int:
    """Invitations with more than one response (the one-to-one constraint says none can be)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as connection:
        return connection.execute(
            "SELECT count(*) FROM (SELECT invitation_id FROM surveys_surveyresponse "
            "GROUP BY invitation_id HAVING count(*) > 1) AS repeated"
        ).fetchone()[0]


# -- the script ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 8 browsers, 2 s + 5 s, 1 round")
    parser.add_argument("--server", default=os.environ.get("MOCLAB_TEST_POSTGRES_URL", DEFAULT_SERVER))
    parser.add_argument("--browsers", type=int, nargs="+", help="the sweep (default 8 16 32)")
    parser.add_argument("--warmup", type=float, help="seconds not counted before each window (default 5)")
    parser.add_argument("--duration", type=float, help="seconds of each measured window (default 30)")
    parser.add_argument("--repeats", type=int, help="rounds over the sweep (default 2)")
    parser.add_argument("--invitations", type=int, help="invitations made (default: enough for the sweep)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2: one per core)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (default 2)")
    parser.add_argument("--copies", type=int, default=8, help="browsers per invitation in the double submit")
    parser.add_argument("--double-tokens", type=int, default=50, help="invitations submitted by --copies")
    args = parser.parse_args()
    browsers = args.browsers or ([8] if args.quick else [8, 16, 32])
    warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 5.0)
    duration = args.duration if args.duration is not None else (5.0 if args.quick else 30.0)
    repeats = args.repeats or (1 if args.quick else 2)
    # at most 400 submissions a second (twice the target) for every second of every window
    needed = int(400 * (warmup + duration) * len(browsers) * repeats) + args.double_tokens + 2_000
    invitations = args.invitations or needed

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import aiohttp
    import django
    import gunicorn
    import psycopg
    from _protocol import environment

    print("Survey submissions through `moclab serve` on PostgreSQL (issue 13: >= 200/s, submit p95 < 100 ms)")
    print(f"environment: {environment()}")
    print(
        f"django {django.__version__}, gunicorn {gunicorn.__version__}, psycopg {psycopg.__version__}, "
        f"aiohttp {aiohttp.__version__}; server: {args.workers} worker(s) x {args.threads} thread(s)"
    )
    print(
        f"load protocol: database built and server started outside the measurement; per level {warmup:g} s "
        f"warm-up not counted, then a {duration:g} s window; {repeats} round(s) over the sweep "
        f"{browsers}, the levels in the same order each round; medians over the rounds; each browser takes "
        "the next unused invitation and does what a browser does with its link: first wave: GET the link "
        "(the consent page), POST the consent, GET the form it redirects to, POST 5 answers (answered by the "
        "thanks page: acknowledged); later wave (consented to this text in an earlier wave): GET the link "
        "(the form), POST 5 answers"
    )
    with tempfile.TemporaryDirectory(prefix="bench-platform-") as folder:
        home = Path(folder)
        url = create_database(args.server)
        server: Server | None = None
        try:
            started = time.perf_counter()
            first = prepare(url, invitations, home / "first.txt")
            later = iter(prepare(url, invitations, home / "later.txt", agreed=True))
            print(
                f"database: 2 x {len(first):,} invitations (first and later waves) built in "
                f"{time.perf_counter() - started:.1f} s"
            )
            server = start_server(url, free_port(), workers=args.workers, threads=args.threads, home=home)
            double, rest = first[: args.double_tokens], first[args.double_tokens :]
            kill_tokens, load_tokens = rest[:2_000], iter(rest[2_000:])
            for flow, source in (("first wave", load_tokens), ("later wave", later)):
                levels: list[list[Level]] = [[] for _ in browsers]
                for _ in range(repeats):
                    for i, count in enumerate(browsers):
                        level = measure_level(server, source, count, warmup, duration)
                        levels[i].append(level)
                        if not level.complete:
                            print(
                                f"the invitations ran out at {count} browsers: give more with --invitations"
                            )
                print()
                print(f"{flow}:")
                print_levels(levels)
            print(
                "submissions/s: acknowledged submit POSTs (the thanks page) completed in the window / its "
                "length; latency: the submit POST, send to answer; CPU in cores (of 2) over the window"
            )
            print()
            problems = double_submits(server, url, double, args.copies)
            print(
                f"double submits: {args.copies} browsers per invitation consent and submit at once, "
                f"{len(double)} invitations: {'OK, one response each' if not problems else problems[:5]}"
            )
            server, outcome = kill_and_restart(
                server, url, kill_tokens, 16, 3.0, workers=args.workers, threads=args.threads
            )
            repeated = duplicates(url)
            lost = "none lost" if not outcome.problems else f"PROBLEMS: {outcome.problems[:5]}"
            print(
                f"kill -9 mid-run (16 browsers, SIGKILL after 3 s): {outcome.acknowledged} submissions "
                f"acknowledged before the kill, checked in the database after the restart "
                f"({outcome.restarted_in:.1f} s): {lost}; {outcome.in_flight} in flight at the kill finished "
                f"on the restarted server; invitations with more than one response: {repeated}"
            )
        finally:
            if server is not None:
                stop_server(server)
            drop_database(args.server, url)


if __name__ == "__main__":
    if len(sys.argv) in (6, 7) and sys.argv[1] == "prepare":
        _prepare_here(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]), len(sys.argv) == 7)
    else:
        main()
