"""Logging an activity: the form's defaults, "repeat last entry", what the form refuses, and edits that keep
their history."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.urls import reverse
from django.utils import timezone

from moclab.web.practice.models import Activity, ActivityRevision, Role, SupportMode

from .conftest import World


def form_data(world: World, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "date": "2025-06-02",
        "minutes": "30",
        "isps": [world.users[Role.ISP].pk],
        "teams": [world.team.pk],
        "recipients": [world.recipients[2].pk],
        "support_mode": SupportMode.CO_CREATION,
        "competencies": ["isp-competencies:co-design", "isp-competencies:brokering"],
        "strategies": ["eric:conduct-local-consensus-discussions"],
        "note": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def create_url(world: World) -> str:
    return reverse("practice:activity_create", kwargs={"pk": world.engagement.pk})


def checked_values(html: str, name: str) -> list[str]:
    """The values of the ticked checkboxes or radio buttons named `name` in a rendered form."""
    found = []
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and " checked" in tag:
            found.append(re.search(r'value="([^"]*)"', tag).group(1))
    return found


def test_the_empty_form_starts_from_today_and_the_isp_themself(world: World):
    html = world.client(Role.ISP).get(create_url(world)).content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in html
    assert checked_values(html, "isps") == [str(world.users[Role.ISP].pk)]
    assert checked_values(html, "support_mode") == []
    assert "?repeat=last" in html  # the engagement has an entry to repeat
    # the terms come from the catalog, grouped (ERIC clusters) and labelled by name
    assert 'value="eric:facilitation"' in html and "Facilitation" in html
    assert "Use evaluative and iterative strategies" in html
    # without a components file the form says why there are none, instead of inventing names
    assert "No core practice components in the catalog" in html


def test_repeat_last_entry_copies_minutes_terms_mode_and_team(world: World):
    html = world.client(Role.ISP).get(create_url(world) + "?repeat=last").content.decode()
    assert "Repeating the entry of 4 Mar 2025" in html
    assert checked_values(html, "support_mode") == [SupportMode.PUSH_PULL]
    assert checked_values(html, "competencies") == ["isp-competencies:facilitation"]
    assert checked_values(html, "strategies") == ["eric:facilitation"]
    assert checked_values(html, "teams") == [str(world.team.pk)]
    assert checked_values(html, "recipients") == []  # who was there is new each time
    assert 'name="minutes" value="45"' in html
    assert f'value="{timezone.localdate().isoformat()}"' in html


def test_an_isp_logs_an_activity_and_its_first_revision(world: World):
    client = world.client(Role.ISP)
    response = client.post(create_url(world), form_data(world, note="planned the pilot"))
    assert response.status_code == 302
    assert response["Location"] == reverse("practice:engagement_detail", kwargs={"pk": world.engagement.pk})
    activity = Activity.objects.for_engagement(world.engagement).first()
    assert activity.date == datetime.date(2025, 6, 2)
    assert activity.minutes == 30
    assert activity.support_mode == SupportMode.CO_CREATION
    assert activity.competencies == ["isp-competencies:co-design", "isp-competencies:brokering"]
    assert list(activity.isps.all()) == [world.users[Role.ISP]]
    assert list(activity.recipients.all()) == [world.recipients[2]]
    assert list(activity.teams.all()) == [world.team]
    revision = activity.revisions.get()
    assert revision.number == 1 and revision.saved_by == world.users[Role.ISP]
    assert revision.data["recipients"] == ["acme-R3"] and revision.data["note"] == "planned the pilot"
    page = client.get(response["Location"]).content.decode()
    assert "Logged 30 minutes on 02 Jun 2025." in page
    assert "Mon 2 Jun 2025" in page


def test_the_form_refuses_what_does_not_belong_to_the_engagement(world: World, other_world: World):
    client = world.client(Role.ISP)
    before = Activity.objects.count()
    cases = {
        "future": form_data(world, date=(timezone.localdate() + datetime.timedelta(days=1)).isoformat()),
        "before the engagement": form_data(world, date="2024-12-31"),
        "nobody there": form_data(world, teams=None, recipients=None),
        "recipient of another site": form_data(world, recipients=[world.recipients[3].pk]),
        "recipient of another organisation": form_data(world, recipients=[other_world.recipients[0].pk]),
        "another organisation's ISP": form_data(world, isps=[other_world.users[Role.ISP].pk]),
        "a team of another site": form_data(world, teams=[world.other_team.pk]),
        "an unknown term": form_data(world, strategies=["eric:no-such-strategy"]),
        "a competency given as a strategy": form_data(world, strategies=["isp-competencies:co-design"]),
        "no mode": form_data(world, support_mode=None),
        "zero minutes": form_data(world, minutes="0"),
    }
    messages = {}
    for case, data in cases.items():
        response = client.post(create_url(world), data)
        assert response.status_code == 200, case
        messages[case] = response.content.decode()
    assert Activity.objects.count() == before
    assert "the date is in the future" in messages["future"]
    assert "the engagement runs from 2025-01-01 to today" in messages["before the engagement"]
    assert "tick at least one team or recipient" in messages["nobody there"]
    for case in (
        "recipient of another site",
        "recipient of another organisation",
        "another organisation's ISP",
    ):
        assert "Select a valid choice" in messages[case], case
    assert "Select a valid choice" in messages["a team of another site"]
    assert (
        "Select a valid choice. eric:no-such-strategy is not one of the available choices."
        in messages["an unknown term"]
    )
    assert (
        "isp-competencies:co-design is not one of the available choices"
        in messages["a competency given as a strategy"]
    )
    assert "This field is required." in messages["no mode"]
    assert "greater than or equal to 1" in messages["zero minutes"]


def test_an_edit_keeps_the_earlier_version_in_the_history(world: World):
    client = world.client(Role.ISP)
    edit = reverse("practice:activity_edit", kwargs={"pk": world.activity.pk})
    form = client.get(edit).content.decode()
    assert checked_values(form, "competencies") == ["isp-competencies:facilitation"]
    assert 'value="2025-03-04"' in form and "Revision 1" in form
    data = form_data(
        world,
        date="2025-03-04",
        minutes="50",
        recipients=[r.pk for r in world.recipients[:2]],
        support_mode=SupportMode.PUSH_PULL,
        competencies=["isp-competencies:facilitation"],
        strategies=["eric:facilitation"],
        note="kick-off meeting",
    )
    response = client.post(edit, data)
    assert response.status_code == 302
    world.activity.refresh_from_db()
    assert world.activity.minutes == 50
    revisions = list(ActivityRevision.objects.filter(activity=world.activity))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].data["minutes"] == 45 and revisions[1].data["minutes"] == 50
    page = client.get(response["Location"]).content.decode()
    assert "Saved; the earlier version is kept in the history." in page
    assert "Minutes: <del>45</del> → <ins>50</ins>" in page
    assert page.count("Revision ") == 2
    # a save that changes nothing adds no revision
    client.post(edit, data)
    assert world.activity.revisions.count() == 2


def test_the_researcher_reads_the_history_but_cannot_edit(world: World):
    researcher = world.client(Role.RESEARCHER)
    page = researcher.get(
        reverse("practice:activity_detail", kwargs={"pk": world.activity.pk})
    ).content.decode()
    assert "Revision 1" in page and "first logged" in page
    assert "acme-R1, acme-R2" in page  # pseudonyms only
    assert "Pat Example" not in page and "pat@example.org" not in page
    assert ">Edit<" not in page
    edit = reverse("practice:activity_edit", kwargs={"pk": world.activity.pk})
    assert researcher.post(edit, form_data(world)).status_code == 403


def test_core_practice_components_from_a_framework_file(world: World, components_file: Any):
    client = world.client(Role.ISP)
    html = client.get(create_url(world)).content.decode()
    assert "No core practice components" not in html
    assert "Test component 3 (not verified)" in html
    response = client.post(create_url(world), form_data(world, core_components=["eis:cpc-03", "eis:cpc-07"]))
    assert response.status_code == 302
    activity = Activity.objects.for_engagement(world.engagement).first()
    assert activity.core_components == ["eis:cpc-03", "eis:cpc-07"]
    detail = client.get(reverse("practice:activity_detail", kwargs={"pk": activity.pk})).content.decode()
    assert "Test component 3 (not verified); Test component 7 (not verified)" in detail


def test_the_site_lead_sees_aggregates_of_their_site_only(world: World):
    page = world.client(Role.SITE_LEAD).get(reverse("practice:home")).content.decode()
    assert "Support received by acme north" in page
    assert "1 activity, 45 minutes in all." in page
    assert re.search(r"<td>Push/pull</td><td class=\"number\">1</td><td class=\"number\">45</td>", page)
    assert re.search(r"<td>Facilitation</td><td class=\"number\">1</td>", page)
    assert "kick-off meeting" not in page and "acme-R1" not in page


def many_activities(world: World, count: int) -> None:
    """`count` more activities of the engagement, spread over 2024-2025's days, alternating the two ISPs and
    the three modes, each with its ISP, a team and a recipient."""
    from django.contrib.auth import get_user_model

    colleague, _ = get_user_model().objects.get_or_create(username="acme-colleague")
    world.engagement.isps.add(colleague)
    isps = [world.users[Role.ISP], colleague]
    modes = list(SupportMode)
    created = Activity.objects.bulk_create(
        Activity(
            engagement=world.engagement,
            date=datetime.date(2025, 1, 1) + datetime.timedelta(days=i % 300),
            minutes=10 + i % 50,
            support_mode=modes[i % 3],
            competencies=["isp-competencies:facilitation"],
        )
        for i in range(count)
    )
    Activity.isps.through.objects.bulk_create(
        Activity.isps.through(activity_id=a.pk, user_id=isps[i % 2].pk) for i, a in enumerate(created)
    )
    Activity.teams.through.objects.bulk_create(
        Activity.teams.through(activity_id=a.pk, team_id=world.team.pk) for a in created
    )
    Activity.recipients.through.objects.bulk_create(
        Activity.recipients.through(activity_id=a.pk, recipient_id=world.recipients[i % 3].pk)
        for i, a in enumerate(created)
    )
    world.extra["colleague"] = colleague


def detail_url(world: World) -> str:
    return reverse("practice:engagement_detail", kwargs={"pk": world.engagement.pk})


def test_the_activity_list_filters_by_isp_mode_and_month(world: World):
    many_activities(world, 120)
    colleague = world.extra["colleague"]
    client = world.client(Role.RESEARCHER)
    page = client.get(detail_url(world)).content.decode()
    assert "121 activities" in page
    assert '<option value="2025-03">March 2025</option>' in page
    assert f'<option value="{colleague.pk}">acme-colleague</option>' in page
    # 60 of the 120 are the colleague's, one in three of those (i = 1, 7, 13, ...) pushed
    expected = [
        i for i in range(120) if i % 2 == 1 and SupportMode(list(SupportMode)[i % 3]) == SupportMode.PUSH
    ]
    filtered = client.get(detail_url(world), {"isp": colleague.pk, "mode": SupportMode.PUSH})
    html = filtered.content.decode()
    minutes = sum(10 + i % 50 for i in expected)
    assert f"Showing {len(expected)} of 121 activities ({minutes} minutes)." in html
    assert html.count('<li class="card">') == len(expected) == 20
    assert "acme-isp" not in html.split('<ol class="activities">')[1]
    # March 2025: the 4 Mar entry of the world, and days 59 to 89 of the spread (1 to 31 March)
    march = client.get(detail_url(world), {"month": "2025-03"}).content.decode()
    in_march = 1 + sum(1 for i in range(120) if 59 <= i % 300 <= 89)
    assert f"Showing {in_march} of 121 activities" in march
    assert "Tue 4 Mar 2025" in march and "Feb 2025" not in march.split('<ol class="activities">')[1]
    # a filter that matches nothing says so; an unknown month is an error of the form, not a crash
    nothing = client.get(detail_url(world), {"month": "2024-01"}).content.decode()
    assert "Select a valid choice. 2024-01 is not one of the available choices." in nothing


def test_the_filters_are_kept_from_page_to_page(world: World):
    many_activities(world, 120)
    colleague = world.extra["colleague"]
    client = world.client(Role.ISP)
    first = client.get(detail_url(world), {"isp": colleague.pk}).content.decode()
    assert "Showing 60 of 121 activities" in first and "page 1 of 2" in first
    assert f'href="?isp={colleague.pk}&amp;page=2"' in first
    second = client.get(detail_url(world), {"isp": colleague.pk, "page": 2}).content.decode()
    assert "page 2 of 2" in second and second.count('<li class="card">') == 10
    assert f'href="?isp={colleague.pk}&amp;page=1"' in second


def test_the_activity_list_needs_the_same_queries_for_100_or_1000_activities(world: World):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client(Role.RESEARCHER)
    counts = {}
    for total in (100, 1000):
        many_activities(world, total - Activity.objects.filter(engagement=world.engagement).count())
        for query in ({"page": "2"}, {"mode": SupportMode.PUSH, "month": "2025-02"}):
            matching = Activity.objects.filter(engagement=world.engagement, **_as_filter(query)).count()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(detail_url(world), query)
            assert response.status_code == 200
            assert response.content.decode().count('<li class="card">') == min(50, matching)
            counts[total, "mode" in query] = len(captured)
    assert counts[100, False] == counts[1000, False] <= 12, counts
    assert counts[100, True] == counts[1000, True] <= 13, counts


def _as_filter(query: dict[str, str]) -> dict[str, Any]:
    """The ORM filter of the list's query string (mode and month only)."""
    found: dict[str, Any] = {}
    if "mode" in query:
        found["support_mode"] = query["mode"]
    if "month" in query:
        year, month = query["month"].split("-")
        found.update(date__year=int(year), date__month=int(month))
    return found
