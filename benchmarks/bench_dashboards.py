"""Speed of the practice platform's dashboards and of the portfolio's export as a study folder (issue 14), on
PostgreSQL (and SQLite with ``--engines``).

The target (issue 14): on a portfolio of 200 engagements x 24 months x 20,000 survey responses, each
dashboard under 300 ms of server time on PostgreSQL, and the export to a study folder under 10 s.

The portfolio is `benchmarks/portfolio.py`'s (synthetic; built with bulk_create, outside the measurement).
Server time is a full request through Django's middleware with Django's test client, in this process, logged
in (the session included); no network. Per page ``--warmups`` untimed requests, then ``--repeats`` timed ones;
the table gives the median and the minimum milliseconds and the SQL queries of one request. Pages are timed
as the researcher (the whole organisation), the site lead (one site) and an ISP (the practice view). Each
chart is an SVG image of its own URL, drawn on the server and cached by its content: it is timed cold (the
cache cleared before each request) and warm (cached). Each page is also timed right after one more activity
is logged: it answers with the previous state while a thread rebuilds (the next measurement waits for
that rebuild to end), and the rebuild itself (read, cells, suppression) is a row of its own. The export
(`moclab.web.evidence.study_export.export_study`, the whole portfolio with the recipient-pathway template,
in memory) is timed ``--export-repeats`` times after one untimed run.

    bash scripts/postgres.sh                                   # the test server, once
    .venv/bin/python benchmarks/bench_dashboards.py            # PostgreSQL, the issue's portfolio
    .venv/bin/python benchmarks/bench_dashboards.py --quick    # 20 engagements x 6 months x 2,000 responses
    .venv/bin/python benchmarks/bench_dashboards.py --engines sqlite,postgres
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _web import engine_database, environment, print_markdown

HERE = Path(__file__).resolve().parent
DEFAULT_POSTGRES = "postgres://moclab:moclab@127.0.0.1:54329/moclab"
CHART = re.compile(r'<img[^>]+src="([^"]+\.svg[^"]*)"')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgres", help="sqlite, postgres or both (comma-separated)")
    parser.add_argument("--postgres", default=os.environ.get("MOCLAB_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--export-repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small portfolio, 3 timed requests")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one engine, in a process of its own
    args = parser.parse_args()
    size = (20, 6, 2_000) if args.quick else (200, 24, 20_000)
    repeats = 3 if args.quick else args.repeats
    if args.child:
        for row in run_engine(args.child, args.postgres, size, repeats, args.warmups, args.export_repeats):
            print(json.dumps(row), flush=True)
        return
    print(
        f"portfolio: {size[0]} engagements x {size[1]} months x {size[2]:,} survey responses (synthetic, "
        "benchmarks/portfolio.py)"
    )
    print(
        f"protocol: per page {args.warmups} untimed request(s), then {repeats} timed ones with Django's test "
        "client (a full request through the middleware, logged in); median and minimum milliseconds; SQL "
        "queries of one request; charts cold (cache cleared before each request) and warm"
    )
    print(environment())
    for engine in args.engines.split(","):
        # Django's settings are fixed per process: each engine runs in a process of its own
        command = [sys.executable, __file__, "--child", engine, "--postgres", args.postgres]
        command += ["--repeats", str(repeats), "--warmups", str(args.warmups)]
        command += ["--export-repeats", str(args.export_repeats)] + (["--quick"] if args.quick else [])
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"{engine}: the benchmark failed\n{done.stderr[-3000:]}")
        rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        print()
        print_table(rows)


def print_table(rows: list[dict]) -> None:
    header = ("database", "what", "as", "queries", "median ms", "min ms")
    lines = [
        (
            row["engine"],
            row["what"],
            row["role"],
            "" if row["queries"] is None else str(row["queries"]),
            f"{row['median_ms']:.1f}",
            f"{row['min_ms']:.1f}",
        )
        for row in rows
    ]
    print_markdown(header, lines, left=3)


# -- one engine, in the child process ------------------------------------------------------------------------


def run_engine(
    engine: str, postgres: str, size: tuple[int, int, int], repeats: int, warmups: int, export_repeats: int
) -> list[dict]:
    label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(engine, engine)
    with engine_database(engine, postgres, "moclab_bench_dashboards") as url:
        return measure_on(url, label, size, repeats, warmups, export_repeats)


def timed(call, repeats: int, warmups: int, before=None) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median and minimum milliseconds of `repeats` calls after `warmups` untimed ones (`before` runs untimed
    before each call)."""
    for _ in range(warmups):
        if before:
            before()
        call()
    times = []
    for _ in range(repeats):
        if before:
            before()
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def measure_on(
    url: str, engine: str, size: tuple[int, int, int], repeats: int, warmups: int, export_repeats: int
) -> list[dict]:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "moclab.web.settings",
            "MOCLAB_SECRET_KEY": "benchmark-only-" + "k" * 50,
            "MOCLAB_WEB_MODE": "demo",
            "MOCLAB_DATABASE_URL": url,
            "MOCLAB_ALLOWED_HOSTS": "testserver",
        }
    )
    import django

    django.setup()
    sys.path.insert(0, str(HERE))
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from portfolio import build_portfolio

    from moclab.web.dashboards.cells import protected
    from moclab.web.dashboards.queries import refreshing
    from moclab.web.evidence.study_export import export_study
    from moclab.web.practice.models import Activity

    call_command("migrate", verbosity=0)
    engagements, months, responses = size
    started = time.perf_counter()
    portfolio = build_portfolio(engagements=engagements, months=months, responses=responses)
    print(f"built {portfolio.counts} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if engine == "PostgreSQL":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    isp = portfolio.members["isp"]
    pages = [
        ("researcher", reverse("dashboards:support")),
        ("researcher", reverse("dashboards:pathway")),
        ("researcher", reverse("dashboards:engagement", kwargs={"pk": portfolio.engagement.pk})),
        ("site_lead", reverse("dashboards:support")),
        ("site_lead", reverse("dashboards:pathway")),
        ("isp", reverse("dashboards:practice", kwargs={"user_id": isp.pk})),
    ]

    def new_activity() -> None:
        """One more activity in the log (untimed): the dashboards' data changes."""
        Activity.objects.create(
            engagement=portfolio.engagement, date=portfolio.engagement.start, minutes=30, support_mode="push"
        )

    def settle() -> None:
        """Wait until the rebuilds that new data started in the background are done (untimed): the next
        measurement does not share the process with them."""
        while refreshing():
            time.sleep(0.05)

    clients = {}
    for role in ("researcher", "site_lead", "isp"):
        clients[role] = Client()
        clients[role].force_login(portfolio.members[role])
    rows = []
    for role, path in pages:
        client = clients[role]
        with CaptureQueriesContext(connection) as captured:
            page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        median, minimum = timed(lambda c=client, p=path: c.get(p), repeats, warmups)
        rows.append(row(engine, path, role, len(captured), median, minimum))
        median, minimum = timed(
            lambda c=client, p=path: c.get(p), max(3, repeats // 3), 0, before=new_activity
        )
        rows.append(row(engine, f"{path} (after new data)", role, None, median, minimum))
        settle()
        page = client.get(path)  # the page of the new state, computed once (what the next viewers get)
        for chart in sorted(set(CHART.findall(page.content.decode())))[:4]:
            chart = chart.replace("&amp;", "&")
            answer = client.get(chart)
            assert answer.status_code == 200 and answer["Content-Type"].startswith("image/svg"), chart
            median, minimum = timed(lambda c=client, p=chart: c.get(p), repeats, 1, before=cache.clear)
            rows.append(row(engine, f"{chart} (cold)", role, None, median, minimum))
            median, minimum = timed(lambda c=client, p=chart: c.get(p), repeats, 1)
            rows.append(row(engine, f"{chart} (warm)", role, None, median, minimum))
    settings.MOCLAB_DASHBOARD_REFRESH = "inline"
    median, minimum = timed(lambda: protected(portfolio.organisation.pk), 3, 0, before=new_activity)
    settings.MOCLAB_DASHBOARD_REFRESH = "background"
    rows.append(row(engine, "rebuild after new data (read, cells, suppression)", "-", None, median, minimum))
    median, minimum = timed(lambda: export_study(portfolio.organisation), export_repeats, 1)
    rows.append(row(engine, "export_study (whole portfolio)", "-", None, median, minimum))
    return rows


def row(engine: str, what: str, role: str, queries: int | None, median: float, minimum: float) -> dict:
    return {
        "engine": engine,
        "what": what,
        "role": role,
        "queries": queries,
        "median_ms": median,
        "min_ms": minimum,
    }


if __name__ == "__main__":
    main()
