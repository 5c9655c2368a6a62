"""The recipient's page as a survey wave's load runs through it (moclab.web.surveys.recipient): one query per
visit, the consent asked once per version of its text across the waves of a survey, the thanks page as the
answer to a submit, no CSRF token or cookie, a paused survey. Runs on SQLite here and on PostgreSQL (where the
visit's query is a prepared statement) through tests/web/test_postgres.py."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moclab.web.surveys.models import (
    Invitation,
    Survey,
    SurveyResponse,
    SurveyWave,
    answer_with_consent,
)
from moclab.web.surveys.recipient import find_visit

from .conftest import World
from .test_surveys import make_survey, open_invitation, page

ANSWERS = {"aim_1": "4", "aim_2": "5", "aim_3": "3", "aim_4": "4", "trust": "2"}


def answer_first_wave(world: World, survey: Survey) -> Invitation:
    """The first recipient consents to and answers a first wave of `survey` that has closed since."""
    invitation = open_invitation(world, survey)
    client = Client()
    assert client.post(page(invitation), {"action": "consent"}).status_code == 302
    assert client.post(page(invitation), {"action": "submit", **ANSWERS}).status_code == 200
    SurveyWave.objects.filter(pk=invitation.wave_id).update(
        opens=timezone.now() - datetime.timedelta(days=30),
        closes=timezone.now() - datetime.timedelta(days=16),
    )
    return invitation


def test_a_visit_is_read_in_one_query_with_what_the_orm_would_read(world: World):
    invitation = open_invitation(world)
    Client().post(page(invitation), {"action": "consent"})
    Client().post(page(invitation), {"action": "save", "aim_2": "3"})
    with CaptureQueriesContext(connection) as queries:
        visit = find_visit(invitation.token)
    assert len(queries) <= 1  # PostgreSQL's prepared statement bypasses Django's cursor: not captured there
    assert visit is not None
    stored = Invitation.objects.select_related("wave__survey__organisation", "response").get(pk=invitation.pk)
    assert visit.invitation.pk == stored.pk and visit.invitation.opened == stored.opened
    assert (
        visit.invitation.wave.opens == stored.wave.opens
        and visit.invitation.wave.closes == stored.wave.closes
    )
    assert visit.invitation.wave.opens.tzinfo is not None
    survey = visit.survey
    assert (survey.pk, survey.title, survey.subject) == (
        stored.wave.survey.pk,
        "Pulse",
        "the support we receive",
    )
    assert survey.instruments == ["aim"] and survey.pathway_items == ["recipient-pathway:trust"]
    assert survey.active is True and survey.organisation.name == world.organisation.name
    assert [item.key for item in survey.items()] == [item.key for item in stored.wave.survey.items()]
    assert visit.consent is not None and visit.consent.version == 1
    assert visit.consent.text == "Voluntary; answers kept apart from names."
    assert visit.response is not None and visit.response.pk == stored.response.pk
    assert visit.response.values == {"aim_2": 3} and visit.response.submitted is None
    assert visit.response.consented == stored.response.consented
    assert visit.agreed_before is None
    assert find_visit("no-such-token") is None and find_visit("x" * 65) is None


def test_a_recipient_who_agreed_in_an_earlier_wave_goes_straight_to_the_questions(world: World):
    survey = make_survey(world)
    first = answer_first_wave(world, survey)
    agreed = SurveyResponse.objects.get(invitation=first).consented
    second = open_invitation(world, survey)
    assert second.recipient == first.recipient
    shown = Client().get(page(second)).content.decode()
    assert 'class="survey-form"' in shown and "Before you start" not in shown
    assert not SurveyResponse.objects.filter(invitation=second).exists()  # nothing recorded by a visit

    done = Client().post(page(second), {"action": "submit", **ANSWERS})
    assert done.status_code == 200 and "are in." in done.content.decode()
    response = SurveyResponse.objects.get(invitation=second)
    assert response.consent_version == 1 and response.consented == agreed  # the consent it rests on
    assert response.values == {key: int(value) for key, value in ANSWERS.items()}
    assert Invitation.objects.get(pk=second.pk).answered == response.submitted is not None


def test_a_partial_save_in_a_later_wave_records_the_earlier_consent(world: World):
    survey = make_survey(world)
    first = answer_first_wave(world, survey)
    second = open_invitation(world, survey)
    saved = Client().post(page(second), {"action": "save", "trust": "5"}, follow=True)
    assert "Your answers so far are saved" in saved.content.decode()
    response = SurveyResponse.objects.get(invitation=second)
    assert response.values == {"trust": 5} and response.submitted is None
    assert response.consented == SurveyResponse.objects.get(invitation=first).consented


def test_a_new_consent_text_is_asked_again_and_another_survey_asks_its_own(world: World):
    survey = make_survey(world)
    answer_first_wave(world, survey)
    survey.set_consent("Voluntary; answers kept apart from names; now also shared with the site's lead.")
    renewed = Client().get(page(open_invitation(world, survey))).content.decode()
    assert "Before you start" in renewed and "Consent text version 2" in renewed

    other = make_survey(world, title="Another pulse")
    assert "Before you start" in Client().get(page(open_invitation(world, other))).content.decode()


def test_the_page_needs_no_csrf_token_and_sets_no_cookie(world: World):
    invitation = open_invitation(world)
    browser = Client(enforce_csrf_checks=True)
    first = browser.get(page(invitation))
    assert "csrfmiddlewaretoken" not in first.content.decode() and not first.cookies
    assert browser.post(page(invitation), {"action": "consent"}).status_code == 302
    form = browser.get(page(invitation))
    assert "csrfmiddlewaretoken" not in form.content.decode() and not form.cookies
    done = browser.post(page(invitation), {"action": "submit", **ANSWERS})
    assert done.status_code == 200 and "are in." in done.content.decode() and not done.cookies
    again = browser.post(page(invitation), {"action": "submit", "aim_1": "1"})
    assert "already sent: nothing was changed" in again.content.decode()
    assert SurveyResponse.objects.get(invitation=invitation).values["aim_1"] == 4


def test_a_double_first_answer_in_a_later_wave_keeps_one_response(world: World):
    survey = make_survey(world)
    first = answer_first_wave(world, survey)
    second = open_invitation(world, survey)
    visit = find_visit(second.token)
    assert visit is not None and visit.consent is not None and visit.agreed_before is not None
    one, changed = answer_with_consent(
        second, visit.consent, {"trust": 1}, submit=True, consented=visit.agreed_before
    )
    # a second request that read the visit before the first one wrote: the insert loses, nothing changes
    two, changed_again = answer_with_consent(
        second, visit.consent, {"trust": 5}, submit=True, consented=visit.agreed_before
    )
    assert changed and not changed_again and one.pk == two.pk
    assert SurveyResponse.objects.filter(invitation=second).count() == 1
    assert SurveyResponse.objects.get(invitation=second).values == {"trust": 1}
    assert SurveyResponse.objects.filter(invitation__recipient=first.recipient).count() == 2


def test_a_paused_survey_says_so_and_takes_no_answers(world: World):
    survey = make_survey(world)
    invitation = open_invitation(world, survey)
    Client().post(page(invitation), {"action": "consent"})
    Survey.objects.filter(pk=survey.pk).update(active=False)
    shown = Client().get(page(invitation))
    assert shown.status_code == 410 and "This survey is paused" in shown.content.decode()
    posted = Client().post(page(invitation), {"action": "submit", **ANSWERS})
    assert posted.status_code == 410
    assert SurveyResponse.objects.get(invitation=invitation).values == {}
