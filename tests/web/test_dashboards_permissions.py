"""Who sees the dashboards: every URL of the dashboards app (the charts' SVG addresses included) as every
role, of the organisation and of another one, built from the URL patterns as in tests/web/test_permissions.py
(a new page fails here until `KWARGS` says which object it shows); and within the organisation, the scope of
each role: an ISP sees their own engagements and practice only, a site lead their own site only (another
site's engagement, site or team is a 404, never a page)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse

from moclab.web.dashboards import urls as dashboard_urls
from moclab.web.practice.access import PERMISSIONS
from moclab.web.practice.models import Engagement, Role, Team

from .conftest import ROLES, World, assert_member_response, assert_sent_to_login

#: The object each pattern shows, from a `World`; charts name one chart of their page.
KWARGS = {
    "index": lambda world: {},
    "support": lambda world: {},
    "support_chart": lambda world: {"name": "modes"},
    "engagement": lambda world: {"pk": world.engagement.pk},
    "engagement_chart": lambda world: {"pk": world.engagement.pk, "name": "received"},
    "pathway": lambda world: {},
    "pathway_chart": lambda world: {"name": "pathway"},
    "practice_index": lambda world: {},
    "practice": lambda world: {"user_id": world.users[Role.ISP].pk},
    "practice_chart": lambda world: {"user_id": world.users[Role.ISP].pk, "name": "modes"},
}
PATTERNS = [pattern.name for pattern in dashboard_urls.urlpatterns]
#: Pages that show an object of the organisation (not only the member's own scope).
OBJECT_PAGES = {"engagement", "engagement_chart", "practice", "practice_chart"}
#: An ISP's practice is in no site lead's scope: there, it is a 404 like any object outside the scope.
OUTSIDE_SITE_LEADS_SCOPE = {"practice", "practice_chart"}


@pytest.fixture(autouse=True)
def _fresh_dashboards() -> None:
    """Each test reads its organisation afresh (ids repeat between tests' rolled-back databases)."""
    from moclab.web.dashboards import queries

    queries.forget()


def url(world: World, name: str) -> str:
    return reverse(f"dashboards:{name}", kwargs=KWARGS[name](world))


def action_of(name: str) -> str:
    return next(p for p in dashboard_urls.urlpatterns if p.name == name).callback.moclab_action


@pytest.fixture
def surveyed(world: World) -> World:
    return add_survey(world)


def add_survey(world: World) -> World:
    """The world with a survey of one answered wave, so that the pathway pages have content."""
    from django.utils import timezone

    from moclab.web.surveys.models import Invitation, Survey, SurveyResponse, SurveyWave

    survey = Survey.objects.create(
        organisation=world.organisation,
        title=f"{world.organisation.name} pulse",
        pathway_items=["recipient-pathway:trust"],
        every_weeks=4,
        start_date=datetime.date(2025, 1, 6),
    )
    opens = timezone.now() - datetime.timedelta(days=20)
    wave = SurveyWave.objects.create(
        survey=survey, number=1, opens=opens, closes=opens + datetime.timedelta(days=14)
    )
    for number, recipient in enumerate(world.recipients):
        invitation = Invitation.objects.create(
            wave=wave, recipient=recipient, due=opens, answered=opens + datetime.timedelta(days=1)
        )
        SurveyResponse.objects.create(
            invitation=invitation,
            consent_version=1,
            consented=opens,
            values={"trust": 1 + number % 5},
            submitted=opens + datetime.timedelta(days=1),
        )
    world.extra["survey"] = survey
    return world


def test_every_pattern_is_walked_and_guarded():
    assert sorted(KWARGS) == sorted(PATTERNS)
    assert {action_of(name) for name in PATTERNS} == {"view_dashboards"}
    assert PERMISSIONS["view_dashboards"] == frozenset(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PATTERNS)
def test_another_organisations_member_never_sees_a_dashboard(
    surveyed: World, other_world: World, name: str, role: str
):
    client = add_survey(other_world).client(role)
    for method in ("get", "post"):
        response = getattr(client, method)(url(surveyed, name))
        assert b"acme" not in response.content, (name, role, method)
        if name in OBJECT_PAGES:
            assert response.status_code == 404, (name, role, method)
        elif method == "get":
            # a page of the member's own scope: their organisation's, never acme's
            assert response.status_code == 200, (name, role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("query", ["site", "team", "survey"])
def test_another_organisations_site_team_or_survey_is_a_404(
    surveyed: World, other_world: World, role: str, query: str
):
    value = {"site": surveyed.site.pk, "team": surveyed.team.pk, "survey": surveyed.extra["survey"].pk}[query]
    client = other_world.client(role)
    for name in ("support", "pathway", "support_chart", "pathway_chart"):
        if name.startswith("support") and query != "site":
            continue
        response = client.get(url(surveyed, name), {query: value})
        assert response.status_code == 404, (name, role, query)
        assert b"acme" not in response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PATTERNS)
def test_a_member_sees_exactly_what_the_role_allows(surveyed: World, name: str, role: str):
    response = surveyed.client(role).get(url(surveyed, name))
    if role == Role.SITE_LEAD and name in OUTSIDE_SITE_LEADS_SCOPE:
        assert response.status_code == 404
        return
    if name.endswith("_chart"):
        assert response.status_code == 200, (name, role)
        assert response["Content-Type"] == "image/svg+xml"
        assert response.content.startswith(b"<svg")
        return
    assert_member_response(response, role in PERMISSIONS[action_of(name)], (name, role))


@pytest.mark.parametrize("name", PATTERNS)
def test_without_login_every_dashboard_sends_to_the_login(surveyed: World, name: str):
    assert_sent_to_login(url(surveyed, name))


def _colleague_only(world: World) -> Engagement:
    return Engagement.objects.create(
        organisation=world.organisation,
        title="not mine",
        system="regional network",
        start=world.engagement.start,
    )


def test_an_isp_sees_only_their_engagements_and_their_own_practice(surveyed: World, db: Any):
    from django.contrib.auth import get_user_model

    from moclab.web.practice.models import Membership

    other = _colleague_only(surveyed)
    colleague = get_user_model().objects.create_user(username="acme-isp-2", password="x")
    Membership.objects.create(user=colleague, organisation=surveyed.organisation, role=Role.ISP)
    isp = surveyed.client(Role.ISP)
    for name, kwargs in [
        ("engagement", {"pk": other.pk}),
        ("engagement_chart", {"pk": other.pk, "name": "modes"}),
        ("practice", {"user_id": colleague.pk}),
        ("practice_chart", {"user_id": colleague.pk, "name": "modes"}),
    ]:
        assert isp.get(reverse(f"dashboards:{name}", kwargs=kwargs)).status_code == 404, name
    index = isp.get(reverse("dashboards:index")).content.decode()
    assert "acme support" in index and "not mine" not in index
    # the practice index is the ISP's own practice
    own = isp.get(reverse("dashboards:practice_index")).content.decode()
    assert "Your practice" in own
    administrator = surveyed.client(Role.ADMINISTRATOR)
    assert administrator.get(reverse("dashboards:engagement", kwargs={"pk": other.pk})).status_code == 200
    assert (
        administrator.get(reverse("dashboards:practice", kwargs={"user_id": colleague.pk})).status_code == 200
    )


def test_a_site_lead_never_sees_another_sites_data(surveyed: World, db: Any):
    """The site lead of the first site: the other site's engagement, the other site and its team are 404s;
    the pages name neither the other site nor its team, and their recipients' cells are not shown."""
    elsewhere = Engagement.objects.create(
        organisation=surveyed.organisation,
        title="south support",
        site=surveyed.other_site,
        start=surveyed.engagement.start,
    )
    other_team = Team.objects.get(pk=surveyed.other_team.pk)
    lead = surveyed.client(Role.SITE_LEAD)
    assert lead.get(reverse("dashboards:engagement", kwargs={"pk": elsewhere.pk})).status_code == 404
    assert (
        lead.get(
            reverse("dashboards:engagement_chart", kwargs={"pk": elsewhere.pk, "name": "modes"})
        ).status_code
        == 404
    )
    for name in ("support", "pathway", "support_chart", "pathway_chart"):
        kwargs = (
            {"name": "modes" if name.startswith("support") else "pathway"} if name.endswith("chart") else {}
        )
        target = reverse(f"dashboards:{name}", kwargs=kwargs)
        assert lead.get(target, {"site": surveyed.other_site.pk}).status_code == 404, name
        if name.startswith("pathway"):
            assert lead.get(target, {"team": other_team.pk}).status_code == 404, name
    # the lead's own engagement: yes, and no cell of another site or of the organisation on any page
    assert (
        lead.get(reverse("dashboards:engagement", kwargs={"pk": surveyed.engagement.pk})).status_code == 200
    )
    for name in ("index", "support", "pathway"):
        page = lead.get(reverse(f"dashboards:{name}")).content.decode()
        assert surveyed.other_site.name not in page and "Outreach" not in page, name
        assert "south support" not in page
        assert "[&quot;org&quot;]" not in page and f"[&quot;site&quot;,{surveyed.other_site.pk}]" not in page
        assert f"[&quot;site&quot;,{surveyed.site.pk}]" in page or name == "index"
