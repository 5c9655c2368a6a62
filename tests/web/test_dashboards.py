"""The dashboards' numbers, against hand computations written here: minutes per month per ISP competency (an
activity's minutes split equally among its competencies), per support mode and cumulative; the minutes each
recipient received (present by name or with their team, counted once); the stage scores of the recipients'
pathway (each answer on a 0-100 scale, the percent of the maximum possible; AIM scored as the mean of its
items); the response rates; the answers after an ISP's sessions (30 days). And how they are shown: a
suppressed cell reads "suppressed (fewer than 5)" in the table and is absent from the chart, k comes from the
settings and is never below 3, the charts are SVG images, and a dashboard's queries do not grow with the rows.
"""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from moclab.web.dashboards.apps import check_suppression_k
from moclab.web.practice.models import Activity, Engagement, Membership, Recipient, Role, SupportMode

from .conftest import World

UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _fresh_dashboards() -> None:
    """Each test reads its organisation afresh (ids repeat between tests' rolled-back databases)."""
    from moclab.web.dashboards import queries

    queries.forget()


class Tables(HTMLParser):
    """Every table of a page: caption -> rows, each row {column heading: cell text}; the row's heading under
    ``""``. Enough HTML parsing for the dashboards' own tables."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self._caption: str | None = None
        self._headings: list[str] = []
        self._row: list[str] | None = None
        self._text: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "caption" or tag in ("th", "td"):
            self._text = []
        elif tag == "thead":
            self._in_head, self._headings = True, []
        elif tag == "tr" and not self._in_head:
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._text is not None:
            self._caption = " ".join("".join(self._text).split())
            self.tables[self._caption] = []
            self._text = None
        elif tag in ("th", "td") and self._text is not None:
            text = " ".join("".join(self._text).split())
            if self._in_head:
                self._headings.append(text)
            elif self._row is not None:
                self._row.append(text)
            self._text = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "tr" and self._row is not None and self._caption is not None:
            self.tables[self._caption].append(dict(zip(["", *self._headings[1:]], self._row, strict=False)))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def tables_of(response: Any) -> dict[str, list[dict[str, str]]]:
    assert response.status_code == 200, response.content[:500]
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables


def row(tables: dict[str, list[dict[str, str]]], caption: str, heading: str) -> dict[str, str]:
    found = [r for r in tables[caption] if r[""] == heading]
    assert len(found) == 1, (caption, heading, tables[caption])
    return found[0]


def pomp(value: float, low: float, high: float) -> float:
    """Percent of the maximum possible (Cohen et al. 1999), written out for the reference."""
    return (value - low) / (high - low) * 100


@pytest.fixture
def dashboard(world: World) -> World:
    """The conftest world grown to two sites of six recipients each (the north site's team Intake, the south
    site's team Outreach), three more activities on the north engagement and one on a south engagement, and
    a survey of two waves."""
    from django.utils import timezone  # noqa: F401  (Django is set up by conftest)

    organisation = world.organisation
    north = list(world.recipients[:3]) + [
        Recipient.objects.create(
            organisation=organisation, pseudonym=f"acme-R{i}", site=world.site, team=world.team
        )
        for i in range(4, 7)
    ]
    world.recipients[3].team = world.other_team
    world.recipients[3].save()
    south = [world.recipients[3]] + [
        Recipient.objects.create(
            organisation=organisation, pseudonym=f"acme-R{i}", site=world.other_site, team=world.other_team
        )
        for i in range(10, 15)
    ]
    isp = world.users[Role.ISP]

    def log(
        engagement: Engagement,
        day: datetime.date,
        minutes: int,
        mode: str,
        competencies: list[str],
        named: list[Recipient],
        teams: list[Any],
    ) -> Activity:
        activity = Activity.objects.create(
            engagement=engagement, date=day, minutes=minutes, competencies=competencies, support_mode=mode
        )
        activity.isps.set([isp])
        activity.recipients.set(named)
        activity.teams.set(teams)
        activity.record_revision(isp)
        return activity

    # the conftest activity: 2025-03-04, 45 minutes, push/pull, facilitation, team Intake, R1 and R2 named
    log(
        world.engagement,
        datetime.date(2025, 3, 20),
        60,
        SupportMode.PUSH,
        ["isp-competencies:facilitation", "isp-competencies:co-learning"],
        [north[2]],
        [],
    )
    log(world.engagement, datetime.date(2025, 5, 2), 90, SupportMode.CO_CREATION, [], [], [world.team])
    south_engagement = Engagement.objects.create(
        organisation=organisation,
        title="acme south support",
        site=world.other_site,
        start=datetime.date(2025, 1, 1),
    )
    south_engagement.isps.set([isp])
    log(south_engagement, datetime.date(2025, 4, 10), 20, SupportMode.PUSH, [], [], [world.other_team])
    world.extra.update(north=north, south=south, south_engagement=south_engagement)
    return world


def add_survey(world: World, answers: dict[int, list[dict[str, int] | None]]) -> Any:
    """A survey (AIM, trust, knowledge) with one wave per list in `answers` (wave number -> one entry per
    recipient of north + south: their values, or None for no answer). Wave w opens on 1 June 2025 plus
    (w - 1) * 8 weeks; answers come a day later."""
    from moclab.web.surveys.models import Invitation, Survey, SurveyResponse, SurveyWave

    survey = Survey.objects.create(
        organisation=world.organisation,
        title="acme pulse",
        instruments=["aim"],
        pathway_items=["recipient-pathway:trust", "recipient-pathway:knowledge"],
        every_weeks=8,
        start_date=datetime.date(2025, 6, 1),
    )
    everyone = world.extra["north"] + world.extra["south"]
    for number, values in answers.items():
        opens = datetime.datetime(2025, 6, 1, 8, tzinfo=UTC) + datetime.timedelta(weeks=8 * (number - 1))
        wave = SurveyWave.objects.create(
            survey=survey, number=number, opens=opens, closes=opens + datetime.timedelta(days=14)
        )
        for recipient, given in zip(everyone, values, strict=True):
            done = opens + datetime.timedelta(days=1)
            invitation = Invitation.objects.create(
                wave=wave, recipient=recipient, due=opens, answered=done if given is not None else None
            )
            if given is not None:
                SurveyResponse.objects.create(
                    invitation=invitation, consent_version=1, consented=opens, values=given, submitted=done
                )
    return survey


def test_minutes_per_competency_mode_and_cumulative(dashboard: World):
    tables = tables_of(
        dashboard.client(Role.ADMINISTRATOR).get(
            reverse("dashboards:engagement", args=[dashboard.engagement.pk])
        )
    )
    competencies = tables["Minutes per month per ISP competency"]
    # March: 45 (facilitation) + 60 split between facilitation and co-learning; April none; May 90 with none
    assert row(tables, "Minutes per month per ISP competency", "Mar 2025") == {
        "": "Mar 2025",
        "Facilitation": "75",
        "Co-learning": "30",
        "none recorded": "0",
    }
    assert row(tables, "Minutes per month per ISP competency", "Apr 2025")["Facilitation"] == "0"
    assert row(tables, "Minutes per month per ISP competency", "May 2025")["none recorded"] == "90"
    assert [r[""] for r in competencies] == ["Mar 2025", "Apr 2025", "May 2025"]
    modes = "Activities and minutes per month, by support mode"
    assert row(tables, modes, "Mar 2025") == {
        "": "Mar 2025",
        "Activities": "2",
        "Push": "60",
        "Push/pull": "45",
        "Co-creation": "0",
        "All": "105",
    }
    assert row(tables, modes, "May 2025")["Co-creation"] == "90"
    cumulative = "Minutes of support so far, at the end of each month"
    assert [r["Minutes so far"] for r in tables[cumulative]] == ["105", "105", "195"]
    # the portfolio adds the south engagement's 20 minutes of April
    portfolio = tables_of(dashboard.client(Role.ADMINISTRATOR).get(reverse("dashboards:support")))
    assert [r["Minutes so far"] for r in portfolio[cumulative]] == ["105", "125", "215"]
    north_only = tables_of(
        dashboard.client(Role.ADMINISTRATOR).get(reverse("dashboards:support"), {"site": dashboard.site.pk})
    )
    assert [r["Minutes so far"] for r in north_only[cumulative]] == ["105", "105", "195"]


def test_who_received_how_much(dashboard: World):
    """North: R1, R2 (named and with their team at 45 minutes, with the team at 90) 135 each; R3 (with the
    team at 45, named at 60, with the team at 90) 195; R4-R6 (with the team) 135: mean 870 / 6 = 145, five
    in "1 to 3 hours" and one in "3 to 10 hours". South: six with their team at 20 minutes."""
    caption = "Recipients by the minutes of support they received (present by name or with their team)"
    dose = {recipient.pk: 135 for recipient in dashboard.extra["north"]}
    dose[dashboard.extra["north"][2].pk] = 195
    assert sum(dose.values()) / 6 == 145
    tables = tables_of(dashboard.client(Role.ADMINISTRATOR).get(reverse("dashboards:support")))
    north = row(tables, caption, dashboard.site.name)
    assert north["Recipients"] == "6" and north["Mean minutes"] == "145"
    assert north["Received none"] == "0" and north["Received 10 hours or more"] == "0"
    # one recipient in "3 to 10 hours": hidden, and so is the five beside it (6 - 5 would give it away)
    assert north["Received 3 to 10 hours"] == "suppressed (fewer than 5)"
    assert north["Received 1 to 3 hours"] == "suppressed (fewer than 5)"
    south = row(tables, caption, dashboard.other_site.name)
    assert (
        south["Recipients"] == "6" and south["Mean minutes"] == "20" and south["Received under 1 hour"] == "6"
    )
    whole = row(tables, caption, "acme")
    assert whole["Recipients"] == "12" and whole["Mean minutes"] == f"{(870 + 120) / 12:.0f}"


def _aim(values: list[int]) -> dict[str, int]:
    return {f"aim_{i}": v for i, v in enumerate(values, start=1)}


@pytest.fixture
def answered(dashboard: World) -> Any:
    """Wave 1: all twelve answer; north R1 AIM all 5, R2 skips aim_4, the rest AIM all 3; trust 5,4,3,5,4,3
    in the north, 2 in the south; knowledge 4 everywhere. Wave 2: the south answers again, the north not."""
    north_trust = [5, 4, 3, 5, 4, 3]
    wave1 = []
    for index, trust in enumerate(north_trust):
        aim = _aim([5, 5, 5, 5]) if index == 0 else _aim([3, 3, 3]) if index == 1 else _aim([3, 3, 3, 3])
        wave1.append({**aim, "trust": trust, "knowledge": 4})
    wave1 += [{**_aim([2, 2, 2, 2]), "trust": 2, "knowledge": 4} for _ in range(6)]
    wave2 = [None] * 6 + [{**_aim([4, 4, 4, 4]), "trust": 5, "knowledge": 5} for _ in range(6)]
    return add_survey(dashboard, {1: wave1, 2: wave2})


def test_pathway_stage_scores_and_response_rates(dashboard: World, answered: Any):
    north_affective = sum(pomp(v, 1, 5) for v in [5, 4, 3, 5, 4, 3]) / 6  # trust only: 75
    north_aaf = (pomp(5, 1, 5) + 5 * pomp(3, 1, 5)) / 6  # AIM: R1 5, R2 3 (prorated), the rest 3
    assert north_affective == 75 and round(north_aaf) == 58
    client = dashboard.client(Role.ADMINISTRATOR)
    page = tables_of(client.get(reverse("dashboards:pathway"), {"site": dashboard.site.pk}))
    wave1 = row(page, "Mean stage scores (0-100) per wave", "Wave 1 (1 Jun 2025)")
    assert wave1["Affective response"] == "75"
    assert wave1["Acceptability, appropriateness, feasibility"] == f"{north_aaf:.0f}"
    assert wave1["Knowledge and application"] == f"{pomp(4, 1, 5):.0f}"
    assert wave1["Sustained capacity"] == "–"  # not asked
    rates = row(page, "Invited and answered per wave", "Wave 1 (1 Jun 2025)")
    assert rates == {"": "Wave 1 (1 Jun 2025)", "Invited": "6", "Answered": "6", "Answered (%)": "100%"}
    assert row(page, "Invited and answered per wave", "Wave 2 (27 Jul 2025)")["Answered"] == "0"
    # the organisation, wave 2: only the south answered (AIM 4 -> 75, trust 5 -> 100)
    whole = tables_of(client.get(reverse("dashboards:pathway"), {"wave": "2"}))
    second = row(whole, "Mean stage scores (0-100) per wave", "Wave 2 (27 Jul 2025)")
    assert (
        second["Affective response"] == "100"
        and second["Acceptability, appropriateness, feasibility"] == "75"
    )
    assert row(whole, "Invited and answered per wave", "Wave 2 (27 Jul 2025)")["Answered (%)"] == "50%"
    by_site = whole["Answers and mean stage scores (0-100) by site"]
    assert [(r[""], r["Answers"], r["Affective response"]) for r in by_site] == [
        (dashboard.site.name, "0", "–"),
        (dashboard.other_site.name, "6", "100"),
    ]


def test_what_recipients_said_after_an_isps_sessions(dashboard: World, answered: Any):
    """Wave 1's answers (2 June 2025) came 31 days after the last north session (2 May) and 53 after the
    south's (10 April): none is within 30 days. A north session on 20 May brings the north's six in."""
    isp = dashboard.users[Role.ISP]
    client = dashboard.client(Role.ISP)
    said = "Answers per wave"
    before = tables_of(client.get(reverse("dashboards:practice_index")))
    assert row(before, said, "Wave 1 (1 Jun 2025)")["Answers"] == "0"
    activity = Activity.objects.create(
        engagement=dashboard.engagement,
        date=datetime.date(2025, 5, 20),
        minutes=30,
        support_mode=SupportMode.PUSH,
    )
    activity.isps.set([isp])
    activity.teams.set([dashboard.team])
    activity.record_revision(isp)
    after = tables_of(client.get(reverse("dashboards:practice", args=[isp.pk])))
    assert row(after, said, "Wave 1 (1 Jun 2025)")["Answers"] == "6"
    assert (
        row(after, "Mean stage scores (0-100) per wave", "Wave 1 (1 Jun 2025)")["Affective response"] == "75"
    )
    engagements = after["Activities and minutes you logged, per engagement"]
    assert {r[""]: r["Minutes"] for r in engagements} == {"acme south support": "20", "acme support": "225"}


def test_a_small_team_is_suppressed_in_the_table_and_absent_from_the_chart(dashboard: World, answered: Any):
    """A team of two at the south site answers wave 1: its answers and means read "suppressed (fewer than 5)"
    and the chart of the site's teams has no point for it."""
    from moclab.web.dashboards.charts import to_records
    from moclab.web.dashboards.views import _pathway_page, chart_of
    from moclab.web.practice.models import Team

    pair = Team.objects.create(site=dashboard.other_site, name="Pair")
    Recipient.objects.filter(pk__in=[r.pk for r in dashboard.extra["south"][:2]]).update(team=pair)
    client = dashboard.client(Role.ADMINISTRATOR)
    query = {"site": dashboard.other_site.pk, "wave": "1"}
    response = client.get(reverse("dashboards:pathway"), query)
    teams = tables_of(response)["Answers and mean stage scores (0-100) by team"]
    shown = {r[""]: r for r in teams}
    assert shown["Pair"]["Answers"] == "suppressed (fewer than 5)"
    assert shown["Pair"]["Affective response"] == "suppressed (fewer than 5)"
    # Outreach has four left: suppressed too; the site's own six stay shown
    assert shown["Outreach"]["Answers"] == "suppressed (fewer than 5)"
    assert 'class="number suppressed"' in response.content.decode()
    request = client.get(reverse("dashboards:pathway"), query).wsgi_request
    request.membership = Membership.objects.get(user=dashboard.users[Role.ADMINISTRATOR])
    page = _pathway_page(request)
    drawn = to_records(chart_of(page, "groups", "wide"))
    assert page.section("groups").frame.empty  # both teams are suppressed: nothing to draw
    assert [point.get("score") for point in drawn] == [None]  # the chart only says so
    pathway_points = to_records(chart_of(page, "pathway", "narrow"))
    assert {point["period"] for point in pathway_points} == {"Wave 1 (1 Jun 2025)", "Wave 2 (27 Jul 2025)"}
    chart = client.get(reverse("dashboards:pathway_chart", args=["groups"]), {**query, "size": "narrow"})
    assert chart["Content-Type"] == "image/svg+xml" and b"Nothing to draw" in chart.content


def test_k_comes_from_the_settings_and_is_never_below_three(dashboard: World, answered: Any, settings: Any):
    from moclab.web.practice.models import Team

    trio = Team.objects.create(site=dashboard.other_site, name="Trio")
    Recipient.objects.filter(pk__in=[r.pk for r in dashboard.extra["south"][:3]]).update(team=trio)
    client = dashboard.client(Role.ADMINISTRATOR)
    query = {"site": dashboard.other_site.pk, "wave": "1"}
    caption = "Answers and mean stage scores (0-100) by team"
    assert {
        r[""]: r["Answers"] for r in tables_of(client.get(reverse("dashboards:pathway"), query))[caption]
    } == {
        "Outreach": "suppressed (fewer than 5)",
        "Trio": "suppressed (fewer than 5)",
    }
    settings.MOCLAB_SUPPRESSION_K = 3
    assert check_suppression_k() == []
    assert {
        r[""]: r["Answers"] for r in tables_of(client.get(reverse("dashboards:pathway"), query))[caption]
    } == {
        "Outreach": "3",
        "Trio": "3",
    }
    settings.MOCLAB_SUPPRESSION_K = 2
    errors = check_suppression_k()
    assert len(errors) == 1 and "below the floor of 3" in errors[0].msg
    settings.MOCLAB_SUPPRESSION_K = "five"
    assert "whole number" in check_suppression_k()[0].msg


def test_charts_are_svg_images_of_the_page_and_bad_addresses_are_404(dashboard: World, answered: Any):
    client = dashboard.client(Role.ADMINISTRATOR)
    page = client.get(reverse("dashboards:support"), {"site": dashboard.site.pk}).content.decode()
    sources = re.findall(r'(?:src|srcset)="([^"]+\.svg[^"]*)"', page)
    assert len(sources) == 2 * 5  # five charts, narrow and wide
    for source in sources:
        assert f"site={dashboard.site.pk}" in source
        response = client.get(source.replace("&amp;", "&"))
        assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
        assert response.content.startswith(b"<svg")
    assert "<script" not in page and "style=" not in page
    for bad in (
        reverse("dashboards:support_chart", args=["nonsense"]),
        reverse("dashboards:support_chart", args=["modes"]) + "?size=huge",
        reverse("dashboards:pathway") + "?wave=99",
        reverse("dashboards:pathway") + "?site=nonsense",
    ):
        assert client.get(bad).status_code == 404, bad


def test_the_queries_do_not_grow_with_the_rows(dashboard: World, answered: Any):
    """Once an organisation's data is read for its current state, a page costs the same few queries however
    many activities there are."""
    client = dashboard.client(Role.ADMINISTRATOR)
    pages = [
        reverse("dashboards:support"),
        reverse("dashboards:pathway"),
        reverse("dashboards:engagement", args=[dashboard.engagement.pk]),
        reverse("dashboards:practice", args=[dashboard.users[Role.ISP].pk]),
    ]

    def counts() -> list[int]:
        found = []
        for page in pages:
            client.get(page)  # reads the data state once
            with CaptureQueriesContext(connection) as captured:
                assert client.get(page).status_code == 200
            found.append(len(captured))
        return found

    few = counts()
    isp = dashboard.users[Role.ISP]
    for day in range(60):
        activity = Activity.objects.create(
            engagement=dashboard.engagement,
            date=datetime.date(2025, 1, 1) + datetime.timedelta(days=day),
            minutes=10,
            support_mode=SupportMode.PUSH,
        )
        activity.isps.set([isp])
        activity.recipients.set(dashboard.extra["north"][:2])
    assert counts() == few
    assert max(few) <= 15
