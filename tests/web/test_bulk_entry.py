"""Bulk entry for a week: a row per day, defaults from the engagement's latest entry, rows left as they were
ignored, the rest saved together (each with one revision and one audit entry) or, when a row is wrong, none,
with the errors naming the row; only the ISPs of the engagement may use it."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from django.urls import reverse

from moclab.web.audit.models import Action, AuditEntry
from moclab.web.practice.models import Activity, ActivityRevision, Engagement, Role, SupportMode

from .conftest import World

WEEK = "2025-06-04"  # a Wednesday: the week of Monday 2 June 2025


def week_url(world: World, week: str = WEEK) -> str:
    return reverse("practice:activity_week", kwargs={"pk": world.engagement.pk}) + f"?week={week}"


class _FormData(HTMLParser):
    """What a browser would post for the page's form as it stands: text, number and date inputs, ticked
    checkboxes and radios, the selected options, the hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "input" and "name" in found:
            kind = found.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self._add(found["name"], found.get("value", "on"))
            elif kind != "submit":
                self._add(found["name"], found.get("value", ""))
        elif tag == "select":
            self._select = found["name"]
            self._add(self._select, "")
        elif tag == "option" and self._select is not None and "selected" in found:
            self.data[self._select][-1] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def page_data(html: str) -> dict[str, list[str]]:
    parser = _FormData()
    parser.feed(html)
    return parser.data


def posted(data: dict[str, list[str]], **rows: dict[str, Any]) -> dict[str, list[str]]:
    """`data` with row fields changed: ``row3={"minutes": "30"}`` sets ``form-2-minutes``."""
    changed = {key: list(values) for key, values in data.items()}
    for row, fields in rows.items():
        index = int(row.removeprefix("row")) - 1
        for name, value in fields.items():
            key = f"form-{index}-{name}"
            if value is None:
                changed.pop(key, None)
            else:
                changed[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return changed


def test_the_week_page_has_a_row_per_day_with_the_last_entrys_defaults(world: World):
    response = world.client(Role.ISP).get(week_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log the week of 2 Jun 2025" in html
    data = page_data(html)
    assert data["form-TOTAL_FORMS"] == ["10"] and data["form-INITIAL_FORMS"] == ["0"]
    assert [data[f"form-{i}-date"][0] for i in range(7)] == [f"2025-06-0{day}" for day in range(2, 9)]
    assert data["form-7-date"] == [""]  # the spare rows
    assert "Row 1 · Mon 2 Jun" in html and "Row 7 · Sun 8 Jun" in html and "Row 8 · spare" in html
    for i in range(10):
        assert data[f"form-{i}-minutes"] == [""]
        assert data[f"form-{i}-support_mode"] == [SupportMode.PUSH_PULL]
        assert data[f"form-{i}-teams"] == [str(world.team.pk)]
        assert data[f"form-{i}-competencies"] == ["isp-competencies:facilitation"]
        assert data[f"form-{i}-strategies"] == ["eric:facilitation"]
    assert data["isps"] == [str(world.users[Role.ISP].pk)]
    # the days before the engagement started, and those after today, get no row
    early = page_data(world.client(Role.ISP).get(week_url(world, "2025-01-01")).content.decode())
    assert early["form-TOTAL_FORMS"] == ["8"]  # Wed 1 Jan to Sun 5 Jan, and three spare rows
    assert early["form-0-date"] == ["2025-01-01"]


def test_a_valid_week_is_saved_with_one_revision_and_one_audit_entry_each(world: World):
    client = world.client(Role.ISP)
    data = page_data(client.get(week_url(world)).content.decode())
    AuditEntry.objects.all().delete()
    before = set(Activity.objects.values_list("pk", flat=True))
    response = client.post(
        week_url(world),
        posted(
            data,
            row1={"minutes": 30},
            row3={"minutes": 90, "support_mode": SupportMode.CO_CREATION, "note": "planning day"},
            row5={
                "minutes": 45,
                "competencies": ["isp-competencies:co-design", "isp-competencies:brokering"],
            },
            row8={"date": "2025-06-04", "minutes": 15, "strategies": []},
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("practice:engagement_detail", kwargs={"pk": world.engagement.pk})
    new = Activity.objects.exclude(pk__in=before).order_by("date", "minutes")
    assert [(a.date.isoformat(), a.minutes, a.support_mode) for a in new] == [
        ("2025-06-02", 30, SupportMode.PUSH_PULL),
        ("2025-06-04", 15, SupportMode.PUSH_PULL),
        ("2025-06-04", 90, SupportMode.CO_CREATION),
        ("2025-06-06", 45, SupportMode.PUSH_PULL),
    ]
    by_minutes = {a.minutes: a for a in new}
    assert by_minutes[90].note == "planning day" and by_minutes[30].note == ""
    assert by_minutes[45].competencies == ["isp-competencies:co-design", "isp-competencies:brokering"]
    assert by_minutes[30].competencies == ["isp-competencies:facilitation"]
    assert by_minutes[30].strategies == ["eric:facilitation"] and by_minutes[15].strategies == []
    for activity in new:
        assert list(activity.isps.all()) == [world.users[Role.ISP]]
        assert list(activity.teams.all()) == [world.team]
        assert activity.engagement == world.engagement
        revision = ActivityRevision.objects.get(activity=activity)
        assert revision.number == 1 and revision.saved_by == world.users[Role.ISP]
        assert revision.data["minutes"] == activity.minutes and revision.data["isps"] == ["acme-isp"]
        entries = [(e.action, e.user) for e in AuditEntry.objects.about(activity)]
        assert entries == [(Action.CREATE, world.users[Role.ISP])]
    assert AuditEntry.objects.filter(model="practice.activity").count() == 4
    page = client.get(response["Location"]).content.decode()
    assert "Logged 4 activities (180 minutes) in the week of 02 Jun 2025." in page


def test_a_bad_row_refuses_the_whole_week_and_is_named(world: World):
    client = world.client(Role.ISP)
    data = page_data(client.get(week_url(world)).content.decode())
    count, audits = Activity.objects.count(), AuditEntry.objects.count()
    response = client.post(
        week_url(world),
        posted(
            data,
            row1={"minutes": 30},
            row2={"minutes": 0},
            row4={"minutes": 20, "teams": None},
            row9={"minutes": 10, "date": "2024-12-31"},
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert Activity.objects.count() == count and AuditEntry.objects.count() == audits
    assert "Nothing was saved: 3 rows to correct." in html
    assert "Row 2 (Tue 3 Jun): minutes: Ensure this value is greater than or equal to 1." in html
    assert "Row 4 (Thu 5 Jun): teams present: say who was there: tick at least one team" in html
    assert "Row 9 (Tue 31 Dec): date: the engagement runs from 2025-01-01 to today" in html
    assert "Row 1 " not in html.split("Nothing was saved")[1].split("</ul>")[0]
    # what was typed stays in the form, to correct and post again
    again = page_data(html)
    assert again["form-0-minutes"] == ["30"] and again["form-8-date"] == ["2024-12-31"]
    fixed = posted(again, row2={"minutes": 25}, row4={"teams": [world.team.pk]}, row9={"minutes": None})
    fixed["form-8-minutes"] = [""]
    fixed["form-8-date"] = [""]
    response = client.post(week_url(world), fixed)
    assert response.status_code == 302
    assert Activity.objects.count() == count + 3


def test_an_untouched_week_saves_nothing(world: World):
    client = world.client(Role.ISP)
    data = page_data(client.get(week_url(world)).content.decode())
    count = Activity.objects.count()
    response = client.post(week_url(world), data)
    assert response.status_code == 200
    assert "Nothing to save: every row was left empty." in response.content.decode()
    assert Activity.objects.count() == count


def test_only_the_isps_of_the_engagement_enter_a_week(world: World, other_world: World):
    data = page_data(world.client(Role.ISP).get(week_url(world)).content.decode())
    filled = posted(data, row1={"minutes": 30})
    count = Activity.objects.count()
    for role in (Role.ADMINISTRATOR, Role.RESEARCHER, Role.SITE_LEAD):
        assert world.client(role).get(week_url(world)).status_code == 403, role
        assert world.client(role).post(week_url(world), filled).status_code == 403, role
    # another organisation's ISP, and an ISP of the organisation who does not work on the engagement
    assert other_world.client(Role.ISP).post(week_url(world), filled).status_code == 404
    colleague_only = Engagement.objects.create(
        organisation=world.organisation,
        title="not mine",
        system="regional network",
        start=world.engagement.start,
    )
    url = reverse("practice:activity_week", kwargs={"pk": colleague_only.pk}) + f"?week={WEEK}"
    assert world.client(Role.ISP).get(url).status_code == 404
    assert world.client(Role.ISP).post(url, filled).status_code == 404
    # an ISP of another organisation named as a row's ISP, or another site's team, is refused
    refused = posted(filled, row2={"minutes": 20, "teams": [world.other_team.pk]})
    refused["isps"] = [str(other_world.users[Role.ISP].pk)]
    html = world.client(Role.ISP).post(week_url(world), refused).content.decode()
    assert (
        "Select a valid choice" in html and "Row 2 (Tue 3 Jun): teams present: Select a valid choice" in html
    )
    assert Activity.objects.count() == count
