"""Speed of the practice platform's activity list: an engagement's page (`/engagements/<id>/`) with 100,
1,000 and 10,000 activities, rendered by Django's test client, on SQLite and on PostgreSQL.

The target (issue 13): the list of an engagement with 10,000 entries renders server-side in under 200 ms.
Each database gets an organisation, a site, a team, two ISPs and one engagement; activities are added with
`bulk_create` (each with an ISP, the team and a recipient) up to each size. Per size, two pages are timed: the
list as it opens (page 1, newest first) and the list filtered (co-creation in February 2024). Each page gets
``--warmups`` untimed renders and ``--repeats`` timed ones (a full request through the middleware, login
session included, as the researcher); the table gives the number of SQL queries of one render, the median
and the minimum milliseconds. The queries must not grow with the rows (tests/web/test_activities.py asserts
it); the times are reported, not asserted.

PostgreSQL: a database of the benchmark's own is created on the server of ``--postgres`` (the test server of
`make test`, scripts/postgres.sh) and dropped at the end. SQLite: a temporary file.

    .venv/bin/python benchmarks/bench_activity_list.py                    # SQLite and PostgreSQL, 25 renders
    .venv/bin/python benchmarks/bench_activity_list.py --quick            # 100 and 1,000 rows, 5 renders
    .venv/bin/python benchmarks/bench_activity_list.py --engines sqlite
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

from _web import engine_database, environment, print_markdown

DEFAULT_POSTGRES = "postgres://moclab:moclab@127.0.0.1:54329/moclab"
SIZES = (100, 1_000, 10_000)
QUICK_SIZES = (100, 1_000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="sqlite,postgres", help="sqlite, postgres or both (default)")
    parser.add_argument("--postgres", default=os.environ.get("MOCLAB_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 rows, 5 renders")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one engine, in a process of its own
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = 5 if args.quick else args.repeats
    if args.child:
        for row in run_engine(args.child, args.postgres, sizes, repeats, args.warmups):
            print(json.dumps(row), flush=True)
        return
    print(
        f"protocol: per page {args.warmups} untimed render(s), then {repeats} timed renders with Django's "
        "test "
        "client (one full request each); median and minimum milliseconds; queries of one render"
    )
    print(environment())
    rows = []
    for engine in args.engines.split(","):
        # Django's settings are fixed per process: each engine runs in a process of its own
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                engine,
                "--postgres",
                args.postgres,
                "--repeats",
                str(repeats),
            ]
            + ["--warmups", str(args.warmups)]
            + (["--quick"] if args.quick else []),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"{engine}: the benchmark failed\n{done.stderr[-3000:]}")
        rows += [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    print_table(rows)


def print_table(rows: list[dict]) -> None:
    header = ("database", "activities", "page", "rows shown", "queries", "median ms", "min ms")
    lines = [
        (
            row["engine"],
            f"{row['activities']:,}",
            row["page"],
            str(row["shown"]),
            str(row["queries"]),
            f"{row['median_ms']:.1f}",
            f"{row['min_ms']:.1f}",
        )
        for row in rows
    ]
    print_markdown(header, lines, left=1)


# -- one engine, in the child process ------------------------------------------------------------------------


def run_engine(engine: str, postgres: str, sizes: tuple[int, ...], repeats: int, warmups: int) -> list[dict]:
    with engine_database(engine, postgres, "moclab_bench_list") as url:
        return measure_on(url, engine, sizes, repeats, warmups)


def measure_on(url: str, engine: str, sizes: tuple[int, ...], repeats: int, warmups: int) -> list[dict]:
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
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    call_command("migrate", verbosity=0)
    world = build(engine)
    client = Client()
    client.force_login(world["researcher"])
    url = reverse("practice:engagement_detail", kwargs={"pk": world["engagement"].pk})
    pages = {"list": {}, "filtered": {"mode": "co_creation", "month": "2024-02"}}
    results = []
    for size in sizes:
        add_activities(world, size)
        for page, query in pages.items():
            for _ in range(warmups):
                client.get(url, query)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, query)
            queries = len(captured)  # now: the next request clears the connection's log
            assert response.status_code == 200, response.status_code
            shown = response.content.decode().count('<li class="card">')
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                client.get(url, query)
                times.append((time.perf_counter() - start) * 1000)
            results.append(
                {
                    "engine": "SQLite" if engine == "sqlite" else "PostgreSQL",
                    "activities": size,
                    "page": page,
                    "shown": shown,
                    "queries": queries,
                    "median_ms": statistics.median(times),
                    "min_ms": min(times),
                }
            )
    return results


def build(engine: str) -> dict:
    from django.contrib.auth import get_user_model

    from moclab.web.practice.models import Engagement, Membership, Organisation, Recipient, Role, Site, Team

    User = get_user_model()
    organisation = Organisation.objects.create(name=f"Benchmark ({engine})")
    site = Site.objects.create(organisation=organisation, name="North")
    team = Team.objects.create(site=site, name="Intake")
    users = {}
    for name, role in (("researcher", Role.RESEARCHER), ("isp1", Role.ISP), ("isp2", Role.ISP)):
        users[name] = User.objects.create_user(username=name)
        Membership.objects.create(user=users[name], organisation=organisation, role=role)
    recipients = [
        Recipient.objects.create(organisation=organisation, pseudonym=f"R{i:04d}", site=site, team=team)
        for i in range(1, 41)
    ]
    engagement = Engagement.objects.create(
        organisation=organisation, title="Benchmark engagement", site=site, start=datetime.date(2024, 1, 1)
    )
    engagement.isps.set([users["isp1"], users["isp2"]])
    return {**users, "team": team, "recipients": recipients, "engagement": engagement, "count": 0}


def add_activities(world: dict, size: int) -> None:
    """Activities up to `size`: dates over two years, the three modes, one of two ISPs, the team, a
    recipient, two competencies and an ERIC strategy each."""
    from moclab.web.practice.models import Activity, SupportMode

    modes = list(SupportMode)
    start = world["count"]
    created = Activity.objects.bulk_create(
        (
            Activity(
                engagement=world["engagement"],
                date=datetime.date(2024, 1, 1) + datetime.timedelta(days=i % 730),
                minutes=15 + i % 90,
                support_mode=modes[i % 3],
                competencies=["isp-competencies:facilitation", "isp-competencies:co-design"],
                strategies=["eric:facilitation"],
            )
            for i in range(start, size)
        ),
        batch_size=2_000,
    )
    isps = [world["isp1"], world["isp2"]]
    through = Activity.isps.through
    through.objects.bulk_create(
        (through(activity_id=a.pk, user_id=isps[i % 2].pk) for i, a in enumerate(created)), batch_size=2_000
    )
    Activity.teams.through.objects.bulk_create(
        (Activity.teams.through(activity_id=a.pk, team_id=world["team"].pk) for a in created),
        batch_size=2_000,
    )
    recipients = world["recipients"]
    Activity.recipients.through.objects.bulk_create(
        (
            Activity.recipients.through(activity_id=a.pk, recipient_id=recipients[i % len(recipients)].pk)
            for i, a in enumerate(created)
        ),
        batch_size=2_000,
    )
    world["count"] = size


if __name__ == "__main__":
    main()
