"""Pulse surveys: the models and their constraints, scheduling, the recipient's page (valid, unknown,
expired, answered tokens), partial saves, the idempotent submit, audit entries and no personal data in
answers or logs. Runs on SQLite here and on PostgreSQL through tests/web/test_postgres.py."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from moclab.web.audit.models import AuditEntry
from moclab.web.practice.models import Activity, Role, SupportMode
from moclab.web.surveys.models import (
    ConsentText,
    Invitation,
    Schedule,
    Survey,
    SurveyResponse,
    SurveyWave,
    save_answers,
)
from moclab.web.surveys.scheduling import open_due_waves

from .conftest import World

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)


def make_survey(world: World, **changes: Any) -> Survey:
    fields = {
        "organisation": world.organisation,
        "title": "Pulse",
        "subject": "the support we receive",
        "instruments": ["aim"],
        "pathway_items": ["recipient-pathway:trust"],
        "schedule": Schedule.EVERY_N_WEEKS,
        "every_weeks": 4,
        "start_date": datetime.date(2025, 1, 6),
        "expiry_days": 14,
    }
    fields.update(changes)
    survey = Survey.objects.create(**fields)
    survey.set_consent("Voluntary; answers kept apart from names.")
    return survey


def open_invitation(world: World, survey: Survey | None = None) -> Invitation:
    """An invitation of a wave open now, to the first recipient."""
    survey = survey or make_survey(world)
    opens = timezone.now() - datetime.timedelta(days=1)
    wave = SurveyWave.objects.create(
        survey=survey,
        number=survey.waves.count() + 1,
        opens=opens,
        closes=opens + datetime.timedelta(days=14),
    )
    return Invitation.objects.create(wave=wave, recipient=world.recipients[0], due=opens)


def page(invitation: Invitation) -> str:
    return reverse("survey_page", kwargs={"token": invitation.token})


# -- models --------------------------------------------------------------------------------------------------


def test_a_survey_lists_its_catalog_items_with_the_subject_in_place(world: World):
    survey = make_survey(world)
    items = survey.items()
    assert [item.key for item in items] == ["aim_1", "aim_2", "aim_3", "aim_4", "trust"]
    assert items[0].question == "The support we receive meets my approval."
    assert items[0].values == (1, 2, 3, 4, 5) and items[0].labels[5] == "Completely agree"
    assert items[-1].question == "Trust" and items[-1].labels[1] == "Very low"


def test_unknown_catalog_ids_and_an_empty_survey_are_refused(world: World):
    survey = Survey(
        organisation=world.organisation,
        title="Bad",
        instruments=["aim", "nope"],
        pathway_items=["recipient-pathway:trusst"],
        every_weeks=2,
        start_date=datetime.date(2025, 1, 1),
    )
    with pytest.raises(ValidationError) as problem:
        survey.full_clean()
    assert "nope: not among the instruments" in str(problem.value)
    assert "recipient-pathway:trusst: not among the recipient-pathway items" in str(problem.value)
    empty = Survey(organisation=world.organisation, title="Empty", every_weeks=2, start_date=NOW.date())
    with pytest.raises(ValidationError, match="at least one instrument"):
        empty.full_clean()


def test_the_database_refuses_an_every_n_weeks_survey_without_n(world: World):
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(
            organisation=world.organisation,
            title="No N",
            instruments=["aim"],
            every_weeks=None,
            start_date=NOW,
        )


def test_a_changed_consent_text_is_a_new_version(world: World):
    survey = make_survey(world)
    assert survey.consent.version == 1
    assert survey.set_consent("Voluntary; answers kept apart from names.").version == 1
    assert survey.set_consent("New wording.").version == 2
    assert list(ConsentText.objects.filter(survey=survey).values_list("version", flat=True)) == [1, 2]


def test_tokens_are_unguessable_and_unique(world: World):
    invitation = open_invitation(world)
    other = Invitation.objects.create(wave=invitation.wave, recipient=world.recipients[1], due=invitation.due)
    assert len(invitation.token) == 32 and invitation.token != other.token
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(wave=invitation.wave, recipient=world.recipients[0], due=invitation.due)


def test_the_database_keeps_one_response_per_invitation(world: World):
    invitation = open_invitation(world)
    SurveyResponse.objects.create(invitation=invitation, consent_version=1, consented=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(invitation=invitation, consent_version=1, consented=NOW)
    assert SurveyResponse.objects.filter(invitation=invitation).count() == 1


def test_a_repeated_submit_changes_nothing(world: World):
    invitation = open_invitation(world)
    response = SurveyResponse.objects.create(invitation=invitation, consent_version=1, consented=NOW)
    assert save_answers(response, {"aim_1": 4}, submit=True, now=NOW) is True
    assert (
        save_answers(response, {"aim_1": 1, "aim_2": 2}, submit=True, now=NOW + datetime.timedelta(1))
        is False
    )
    assert save_answers(response, {"aim_3": 2}, submit=False) is False
    stored = SurveyResponse.objects.get(invitation=invitation)
    assert stored.values == {"aim_1": 4} and stored.submitted == NOW
    assert Invitation.objects.get(pk=invitation.pk).answered == NOW


# -- scheduling ----------------------------------------------------------------------------------------------


def test_every_n_weeks_opens_the_latest_due_wave_once(world: World):
    survey = make_survey(world, site=world.site)  # start 6 Jan 2025, every 4 weeks: 6 Jan, 3 Feb, 3 Mar...
    assert survey.wave_dates(datetime.date(2025, 3, 10)) == [
        datetime.date(2025, 1, 6),
        datetime.date(2025, 2, 3),
        datetime.date(2025, 3, 3),
    ]
    made = open_due_waves(NOW)
    assert [(wave.number, wave.opens.date(), wave.closes.date()) for wave in made] == [
        (1, datetime.date(2025, 3, 3), datetime.date(2025, 3, 17))
    ]
    invited = sorted(made[0].invitations.values_list("recipient__pseudonym", flat=True))
    assert invited == ["acme-R1", "acme-R2", "acme-R3"]  # the site's recipients; acme-R9 works elsewhere
    assert open_due_waves(NOW) == []  # run again: nothing twice
    assert open_due_waves(NOW + datetime.timedelta(days=10)) == []  # 17 March: the 3 March wave has closed
    later = open_due_waves(datetime.datetime(2025, 3, 31, 9, tzinfo=datetime.UTC))
    assert [(wave.number, wave.opens.date()) for wave in later] == [(2, datetime.date(2025, 3, 31))]


def test_an_activity_opens_a_wave_for_the_recipients_present(world: World):
    survey = make_survey(world, schedule=Schedule.AFTER_ACTIVITY, every_weeks=None, expiry_days=7)
    now = datetime.datetime(2025, 3, 6, 18, tzinfo=datetime.UTC)  # world.activity is of 4 March, two present
    made = open_due_waves(now)
    assert len(made) == 1 and made[0].activity == world.activity
    assert sorted(made[0].invitations.values_list("recipient__pseudonym", flat=True)) == [
        "acme-R1",
        "acme-R2",
    ]
    assert open_due_waves(now) == []
    nobody = Activity.objects.create(
        engagement=world.engagement, date=datetime.date(2025, 3, 5), minutes=30, support_mode=SupportMode.PUSH
    )
    assert open_due_waves(now) == []  # an activity without recipients present asks no one
    nobody.recipients.set([world.recipients[2]])
    again = open_due_waves(now)
    assert [wave.activity_id for wave in again] == [nobody.pk]
    assert list(again[0].invitations.values_list("recipient__pseudonym", flat=True)) == ["acme-R3"]
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyWave.objects.create(survey=survey, number=9, opens=now, closes=NOW, activity=nobody)


# -- the recipient's page ------------------------------------------------------------------------------------


def test_the_recipient_consents_saves_part_and_submits(world: World):
    invitation = open_invitation(world)
    client = Client()
    first = client.get(page(invitation))
    assert first.status_code == 200 and "Before you start" in first.content.decode()
    assert "Consent text version 1" in first.content.decode()
    assert Invitation.objects.get(pk=invitation.pk).opened is not None
    assert not SurveyResponse.objects.filter(invitation=invitation).exists()

    assert client.post(page(invitation), {"action": "consent"}).status_code == 302
    form = client.get(page(invitation)).content.decode()
    assert '<legend><span class="number">1.</span> The support we receive meets my approval.</legend>' in form
    assert 'id="item-aim_1-5"' in form and '<label for="item-aim_1-5">' in form

    saved = client.post(page(invitation), {"action": "save", "aim_1": "5", "trust": "4"}, follow=True)
    assert "Your answers so far are saved" in saved.content.decode()
    assert 'id="item-aim_1-5" name="aim_1" value="5" checked' in saved.content.decode()
    response = SurveyResponse.objects.get(invitation=invitation)
    assert response.values == {"aim_1": 5, "trust": 4} and response.submitted is None
    assert response.consent_version == 1

    done = client.post(page(invitation), {"action": "submit", "aim_2": "3"}, follow=True)
    assert "Thank you" in done.content.decode()
    again = client.post(page(invitation), {"action": "submit", "aim_2": "1"})
    assert again.status_code == 200 and "already sent: nothing was changed" in again.content.decode()
    response.refresh_from_db()
    assert response.values == {"aim_1": 5, "trust": 4, "aim_2": 3} and response.submitted is not None
    assert SurveyResponse.objects.filter(invitation=invitation).count() == 1
    assert Invitation.objects.get(pk=invitation.pk).answered == response.submitted


def test_answers_outside_the_scale_are_refused(world: World):
    invitation = open_invitation(world)
    client = Client()
    client.post(page(invitation), {"action": "consent"})
    bad = client.post(page(invitation), {"action": "save", "aim_1": "9"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert SurveyResponse.objects.get(invitation=invitation).values == {}


def test_an_empty_submit_asks_for_an_answer(world: World):
    invitation = open_invitation(world)
    client = Client()
    client.post(page(invitation), {"action": "consent"})
    empty = client.post(page(invitation), {"action": "submit"})
    assert "Answer at least one question" in empty.content.decode()
    assert SurveyResponse.objects.get(invitation=invitation).submitted is None


def test_a_new_consent_version_is_asked_again(world: World):
    invitation = open_invitation(world)
    client = Client()
    client.post(page(invitation), {"action": "consent"})
    invitation.wave.survey.set_consent("Changed wording.")
    shown = client.get(page(invitation)).content.decode()
    assert "has changed since you last saw it" in shown and "version 2" in shown
    client.post(page(invitation), {"action": "consent"})
    assert SurveyResponse.objects.get(invitation=invitation).consent_version == 2


def test_an_unknown_token_is_a_clear_404(world: World):
    response = Client().get(reverse("survey_page", kwargs={"token": "x" * 32}))
    assert response.status_code == 404 and "This survey link is not known" in response.content.decode()
    long = Client().get(reverse("survey_page", kwargs={"token": "x" * 500}))
    assert long.status_code == 404


def test_an_expired_token_is_a_clear_410(world: World):
    invitation = open_invitation(world)
    SurveyWave.objects.filter(pk=invitation.wave_id).update(
        opens=NOW - datetime.timedelta(days=20), closes=NOW - datetime.timedelta(days=6)
    )
    response = Client().get(page(invitation))
    assert response.status_code == 410
    assert (
        "This survey has closed" in response.content.decode() and "4 March 2025" in response.content.decode()
    )
    posted = Client().post(page(invitation), {"action": "consent"})
    assert posted.status_code == 410 and not SurveyResponse.objects.filter(invitation=invitation).exists()


def test_an_answered_token_shows_the_thanks_even_after_closing(world: World):
    invitation = open_invitation(world)
    response = SurveyResponse.objects.create(invitation=invitation, consent_version=1, consented=NOW)
    save_answers(response, {"aim_1": 2}, submit=True)
    SurveyWave.objects.filter(pk=invitation.wave_id).update(closes=timezone.now() - datetime.timedelta(1))
    shown = Client().get(page(invitation))
    assert shown.status_code == 200 and "Your answers to “Pulse” are in." in shown.content.decode()


def test_the_recipient_page_needs_no_login_and_is_not_cached(world: World):
    invitation = open_invitation(world)
    response = Client().get(page(invitation))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] and "Content-Security-Policy" in response
    assert "Log out" not in response.content.decode()


# -- members' pages ------------------------------------------------------------------------------------------


def test_a_researcher_builds_and_schedules_a_survey(world: World):
    client = world.client(Role.RESEARCHER)
    form = client.get(reverse("surveys:survey_create")).content.decode()
    assert 'value="team-psychological-safety"' in form and 'value="recipient-pathway:trust"' in form
    posted = client.post(
        reverse("surveys:survey_create"),
        {
            "title": "Quarterly pulse",
            "subject": "coaching",
            "instruments": ["aim", "fim"],
            "pathway_items": ["recipient-pathway:trust", "recipient-pathway:knowledge"],
            "site": world.site.pk,
            "schedule": Schedule.EVERY_N_WEEKS,
            "every_weeks": "12",
            "start_date": "2025-01-06",
            "expiry_days": "10",
            "reminder_days": "3",
            "active": "on",
            "consent_text": "Voluntary.",
        },
    )
    survey = Survey.objects.get(title="Quarterly pulse")
    assert posted.status_code == 302 and posted["Location"] == reverse(
        "surveys:survey_detail", args=[survey.pk]
    )
    assert survey.organisation == world.organisation and survey.site == world.site
    assert (
        survey.instruments == ["aim", "fim"]
        and survey.every_weeks == 12
        and survey.consent.text == "Voluntary."
    )
    assert [e.action for e in AuditEntry.objects.about(survey)] == ["create"]
    assert AuditEntry.objects.about(survey).get().user == world.users[Role.RESEARCHER]
    duplicate = client.post(
        reverse("surveys:survey_create"), {"title": "Quarterly pulse", "consent_text": "x"}
    )
    assert "a survey of this title already" in duplicate.content.decode()
    empty = client.post(
        reverse("surveys:survey_create"),
        {
            "title": "Empty",
            "schedule": "every_n_weeks",
            "every_weeks": "2",
            "start_date": "2025-01-06",
            "expiry_days": "10",
            "reminder_days": "3",
            "consent_text": "x",
        },
    )
    assert "choose at least one instrument" in empty.content.decode()


def test_the_wave_list_shows_due_sent_opened_answered(world: World):
    survey = make_survey(world)
    invitation = open_invitation(world, survey)
    for recipient in world.recipients[1:3]:
        Invitation.objects.create(wave=invitation.wave, recipient=recipient, due=invitation.due)
    Invitation.objects.filter(wave=invitation.wave).update(sent=timezone.now())
    Invitation.objects.filter(pk=invitation.pk).update(opened=timezone.now())
    response = SurveyResponse.objects.create(invitation=invitation, consent_version=1, consented=NOW)
    save_answers(response, {"aim_1": 3}, submit=True)
    wave = SurveyWave.objects.with_rates().get(pk=invitation.wave_id)
    assert (wave.invited, wave.due, wave.sent, wave.opened, wave.answered) == (3, 3, 3, 1, 1)
    shown = (
        world.client(Role.ADMINISTRATOR)
        .get(reverse("surveys:survey_detail", args=[survey.pk]))
        .content.decode()
    )
    assert '<td class="number">1 (33%)</td>' in shown and "(open)" in shown
    listing = world.client(Role.RESEARCHER).get(reverse("surveys:survey_list")).content.decode()
    assert "1 of 3 (33%)" in listing


def test_survey_changes_and_deletes_are_audited(world: World):
    survey = make_survey(world)
    survey.title = "Renamed"
    survey.save()
    survey_id = str(survey.pk)
    consent_ids = [str(pk) for pk in survey.consents.values_list("pk", flat=True)]
    survey.delete()
    actions = list(
        AuditEntry.objects.filter(model="surveys.survey", object_id=survey_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "change", "delete"]
    assert (
        AuditEntry.objects.filter(
            model="surveys.consenttext", object_id__in=consent_ids, action="create"
        ).count()
        == 1
    )


def test_no_personal_data_in_answers_or_logs(world: World, caplog: Any):
    invitation = open_invitation(world)
    caplog.set_level(logging.DEBUG)
    client = Client()
    client.post(page(invitation), {"action": "consent"})
    client.post(page(invitation), {"action": "submit", "aim_1": "4"})
    client.get(reverse("survey_page", kwargs={"token": "unknown-token"}))
    response = SurveyResponse.objects.get(invitation=invitation)
    stored = repr(SurveyResponse.objects.filter(pk=response.pk).values().get())
    assert {field.name for field in SurveyResponse._meta.get_fields()} == {
        "id",
        "invitation",
        "consent_version",
        "consented",
        "values",
        "saved",
        "submitted",
    }
    for personal in ("Pat Example", "pat@example.org", "acme-R1"):
        assert personal not in stored
        assert personal not in caplog.text
    audit = repr(list(AuditEntry.objects.values()))
    assert "Pat Example" not in audit and "pat@example.org" not in audit


def test_the_demo_has_a_survey_whose_past_waves_hold_the_simulators_answers(db: None):
    from moclab.web.demo import build_demo

    today = datetime.date(2026, 12, 7)
    # without the demo's evidence run, which reads the survey and writes none of it (it is tested in
    # tests/browser/test_evidence.py, and evidence runs on PostgreSQL in tests/web/test_evidence.py)
    summary = build_demo(today=today, evidence=False)
    survey = Survey.objects.get(title="Pulse: how is the support going?")
    waves = list(SurveyWave.objects.with_rates(timezone.now()).filter(survey=survey).order_by("number"))
    # the simulated study's waves, dated like its activities (ending yesterday): baseline and 6 months are
    # past, the 12-month wave would fall after today and is not made
    assert summary.survey_waves == len(waves) == 2
    assert all(wave.opens.date() < today for wave in waves)
    assert [wave.invited for wave in waves] == [summary.recipients] * 2
    assert summary.survey_answers == sum(wave.answered for wave in waves)
    # everyone answers at baseline; the simulator's dropout leaves 22 of 274 out at 6 months
    assert [(wave.invited, wave.answered) for wave in waves] == [(274, 274), (274, 252)]
    assert all(wave.answered <= wave.opened <= wave.sent == wave.invited for wave in waves)
    keys = {item.key: item.values for item in survey.items()}
    for response in SurveyResponse.objects.filter(invitation__wave__survey=survey)[:200]:
        assert response.values and set(response.values) <= set(keys)
        assert all(value in keys[key] for key, value in response.values.items())
