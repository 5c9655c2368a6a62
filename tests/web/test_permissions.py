"""Who sees what: every URL of the practice app as every role, of the organisation and of another one.

The walk is built from the URL patterns themselves, so a new page is walked as soon as it exists (and fails
here until `KWARGS` says which object it shows). A member of another organisation gets 403 (an action
outside the role, checked first) or 404 (the object, looked up among the user's organisation's only), never
the page; a member of the organisation gets the page exactly when `PERMISSIONS` allows the role the action.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from moclab.web.practice import urls as practice_urls
from moclab.web.practice.access import PERMISSIONS
from moclab.web.practice.models import Role

from .conftest import ROLES, World, assert_member_response, assert_sent_to_login

#: The object each pattern shows, from a `World`.
KWARGS = {
    "home": lambda world: {},
    "engagement_list": lambda world: {},
    "engagement_detail": lambda world: {"pk": world.engagement.pk},
    "activity_create": lambda world: {"pk": world.engagement.pk},
    "activity_week": lambda world: {"pk": world.engagement.pk},
    "activity_detail": lambda world: {"pk": world.activity.pk},
    "activity_edit": lambda world: {"pk": world.activity.pk},
    "exports": lambda world: {},
    "member_list": lambda world: {},
    "member_invite": lambda world: {},
    "member_edit": lambda world: {"pk": world.users[Role.ISP].membership.pk},
    "member_active": lambda world: {"pk": world.users[Role.ISP].membership.pk},
    "member_link": lambda world: {"pk": world.users[Role.ISP].membership.pk},
    "audit_log": lambda world: {},
}
#: The practice app's public pages (no login), outside the walk: where each is tested.
PUBLIC = {"set_password": "tests/web/test_members.py (the invited member's one-time link)"}
PATTERNS = [pattern.name for pattern in practice_urls.urlpatterns if pattern.name not in PUBLIC]


def url(world: World, name: str) -> str:
    return reverse(f"practice:{name}", kwargs=KWARGS[name](world))


def action_of(name: str) -> str:
    view = next(p for p in practice_urls.urlpatterns if p.name == name).callback
    return view.moclab_action


def test_every_pattern_is_walked_and_guarded():
    assert sorted(KWARGS) == sorted(PATTERNS)
    assert {action_of(name) for name in PATTERNS} <= set(PERMISSIONS)


def test_the_public_pages_are_exactly_the_listed_ones():
    """A page without `member_view` is public: only those in `PUBLIC` may be."""
    unguarded = {p.name for p in practice_urls.urlpatterns if not hasattr(p.callback, "moclab_action")}
    assert unguarded == set(PUBLIC)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PATTERNS)
def test_another_organisations_member_never_sees_a_page(
    world: World, other_world: World, name: str, role: str
):
    client = other_world.client(role)
    for method in ("get", "post"):
        response = getattr(client, method)(url(world, name))
        allowed_elsewhere = role in PERMISSIONS[action_of(name)]
        if not KWARGS[name](world):
            # a page without an object (home, the list) shows the member's own organisation: never acme's
            if method == "get" and allowed_elsewhere:
                assert response.status_code == 200
                assert b"acme" not in response.content
            continue
        expected = 404 if allowed_elsewhere else 403
        assert response.status_code == expected, (name, role, method)
        assert b"acme" not in response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PATTERNS)
def test_a_member_sees_exactly_what_the_role_allows(world: World, name: str, role: str):
    response = world.client(role).get(url(world, name))
    assert_member_response(response, role in PERMISSIONS[action_of(name)], (name, role))


@pytest.mark.parametrize("name", PATTERNS)
def test_without_login_every_page_sends_to_the_login(world: World, name: str):
    assert_sent_to_login(url(world, name))


def test_an_isp_sees_only_the_engagements_they_work_on(world: World, db: Any):
    from moclab.web.practice.models import Engagement

    colleague_only = Engagement.objects.create(
        organisation=world.organisation,
        title="not mine",
        system="regional network",
        start=world.engagement.start,
    )
    isp = world.client(Role.ISP)
    assert isp.get(reverse("practice:engagement_detail", kwargs={"pk": colleague_only.pk})).status_code == 404
    listing = isp.get(reverse("practice:engagement_list")).content.decode()
    assert "acme support" in listing and "not mine" not in listing
    administrator = world.client(Role.ADMINISTRATOR)
    assert (
        administrator.get(reverse("practice:engagement_detail", kwargs={"pk": colleague_only.pk})).status_code
        == 200
    )


def test_an_account_without_an_organisation_is_refused(world: World, db: Any):
    from django.contrib.auth import get_user_model

    stray = get_user_model().objects.create_user(username="stray", password="x")
    client = Client()
    client.force_login(stray)
    response = client.get(reverse("practice:home"))
    assert response.status_code == 403
    assert b"belongs to no organisation" in response.content


def test_the_only_pages_outside_the_walk_are_public_by_design():
    """Login, logout, the health check and the stylesheet need no membership; every other page is in the
    practice app, walked above (its own public pages, `PUBLIC`, excepted), or in an app walked elsewhere."""
    from django.urls import URLPattern, URLResolver

    from moclab.web import urls as root_urls

    public = sorted(str(p.pattern) for p in root_urls.urlpatterns if isinstance(p, URLPattern))
    assert public == ["^static/(?P<path>.+)$", "healthz", "login/", "logout/"]
    from moclab.web.dashboards import urls as dashboard_urls
    from moclab.web.evidence import urls as evidence_urls
    from moclab.web.surveys import recipient_urls
    from moclab.web.surveys import urls as survey_urls

    included = [p for p in root_urls.urlpatterns if isinstance(p, URLResolver)]
    # the surveys' member pages are walked in tests/web/test_surveys_permissions.py, the dashboards' in
    # tests/web/test_dashboards_permissions.py, the evidence pages' in tests/web/test_evidence_permissions.py;
    # the recipient's page (a personal link, no login) in tests/web/test_surveys.py
    assert [resolver.urlconf_module for resolver in included] == [
        survey_urls,
        recipient_urls,
        dashboard_urls,
        evidence_urls,
        practice_urls,
    ]
