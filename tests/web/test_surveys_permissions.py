"""Who sees the surveys' pages: every URL of the surveys app as every role, of the organisation and of
another one, built from the URL patterns as in tests/web/test_permissions.py (a new page fails here until
`KWARGS` says which object it shows)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from moclab.web.practice.access import PERMISSIONS
from moclab.web.surveys import urls as survey_urls
from moclab.web.surveys.models import Invitation, Survey, SurveyWave

from .conftest import ROLES, World, assert_member_response, assert_sent_to_login

KWARGS = {
    "survey_list": lambda world: {},
    "survey_create": lambda world: {},
    "survey_detail": lambda world: {"pk": world.extra["survey"].pk},
    "survey_edit": lambda world: {"pk": world.extra["survey"].pk},
    "wave_detail": lambda world: {"pk": world.extra["survey"].pk, "number": world.extra["wave"].number},
    "survey_active": lambda world: {"pk": world.extra["survey"].pk},
    "survey_delete": lambda world: {"pk": world.extra["survey"].pk},
    "survey_export": lambda world: {},
}
PATTERNS = [pattern.name for pattern in survey_urls.urlpatterns]


@pytest.fixture
def surveyed(world: World) -> World:
    survey = Survey.objects.create(
        organisation=world.organisation,
        title="acme pulse",
        instruments=["aim"],
        every_weeks=4,
        start_date=datetime.date(2025, 1, 6),
    )
    survey.set_consent("Voluntary.")
    opens = datetime.datetime(2025, 1, 6, 8, tzinfo=datetime.UTC)
    wave = SurveyWave.objects.create(
        survey=survey, number=1, opens=opens, closes=opens + datetime.timedelta(days=14)
    )
    Invitation.objects.create(wave=wave, recipient=world.recipients[0], due=opens)
    world.extra["survey"] = survey
    world.extra["wave"] = wave
    return world


def url(world: World, name: str) -> str:
    return reverse(f"surveys:{name}", kwargs=KWARGS[name](world))


def action_of(name: str) -> str:
    return next(p for p in survey_urls.urlpatterns if p.name == name).callback.moclab_action


def test_every_pattern_is_walked_and_guarded():
    assert sorted(KWARGS) == sorted(PATTERNS)
    assert {action_of(name) for name in PATTERNS} == {"manage_surveys", "export"}
    assert PERMISSIONS["manage_surveys"] == frozenset({"administrator", "researcher"})
    assert PERMISSIONS["export"] == frozenset({"administrator", "researcher"})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PATTERNS)
def test_another_organisations_member_never_sees_a_survey(
    surveyed: World, other_world: World, name: str, role: str
):
    client = other_world.client(role)
    allowed_elsewhere = role in PERMISSIONS[action_of(name)]
    for method in ("get", "post"):
        response = getattr(client, method)(url(surveyed, name))
        if not KWARGS[name](surveyed):
            if method == "get":
                assert response.status_code == (200 if allowed_elsewhere else 403), (name, role)
            assert b"acme" not in response.content
            continue
        assert response.status_code == (404 if allowed_elsewhere else 403), (name, role, method)
        assert b"acme" not in response.content
    assert Survey.objects.filter(organisation=other_world.organisation).count() == 0
    # nothing of acme's changed: the survey is there, active, with its wave and invitation
    survey = Survey.objects.get(pk=surveyed.extra["survey"].pk)
    assert survey.active and survey.waves.get().invitations.count() == 1


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PATTERNS)
def test_a_member_sees_exactly_what_the_role_allows(surveyed: World, name: str, role: str):
    response = surveyed.client(role).get(url(surveyed, name))
    assert_member_response(response, role in PERMISSIONS[action_of(name)], (name, role))


@pytest.mark.parametrize("name", PATTERNS)
def test_without_login_every_survey_page_sends_to_the_login(surveyed: World, name: str):
    assert_sent_to_login(url(surveyed, name))
