"""The surveys' pages beyond building one: a wave's invitations by pseudonym with their response states,
filters and pages; pausing and resuming (the scheduled job and the personal links honour it); deleting a
survey with exactly its own rows; the REDCap download of the answers. No page of a researcher shows a
token or a contact detail."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from moclab.web.audit.models import Action, AuditEntry
from moclab.web.practice.models import Activity, Recipient, RecipientContact, Role
from moclab.web.surveys.models import (
    ConsentText,
    Invitation,
    Survey,
    SurveyResponse,
    SurveyWave,
    save_answers,
)
from moclab.web.surveys.scheduling import open_due_waves, send_due_invitations, send_reminders

from .conftest import World, build_world
from .test_surveys import make_survey

NOW = timezone.now()


def make_wave(survey: Survey, recipients: list[Recipient], *, number: int | None = None) -> SurveyWave:
    """A wave of `survey` open now (opened a day ago), inviting `recipients`."""
    opens = NOW - datetime.timedelta(days=1)
    wave = SurveyWave.objects.create(
        survey=survey,
        number=number or survey.waves.count() + 1,
        opens=opens,
        closes=opens + datetime.timedelta(days=14),
    )
    Invitation.objects.bulk_create(Invitation(wave=wave, recipient=r, due=opens) for r in recipients)
    return wave


def answer(invitation: Invitation, values: dict[str, int], *, submit: bool) -> SurveyResponse:
    response = SurveyResponse.objects.create(invitation=invitation, consent_version=1, consented=NOW)
    if values or submit:
        save_answers(response, values, submit=submit, now=NOW)
    return response


@pytest.fixture
def four_states(world: World) -> dict[str, Any]:
    """One wave whose four invitations are in the four states: acme-R1 submitted, acme-R2 answered partly,
    acme-R3 consented only, acme-R9 no response; R1's link sent and reminded, R1 and R2's opened."""
    survey = make_survey(world)
    wave = make_wave(survey, world.recipients)
    invitation = {i.recipient.pseudonym: i for i in wave.invitations.select_related("recipient")}
    Invitation.objects.filter(wave=wave).update(sent=NOW)
    Invitation.objects.filter(pk=invitation["acme-R1"].pk).update(reminded=NOW)
    Invitation.objects.filter(pk__in=[invitation["acme-R1"].pk, invitation["acme-R2"].pk]).update(opened=NOW)
    answer(invitation["acme-R1"], {"aim_1": 4, "trust": 5}, submit=True)
    answer(invitation["acme-R2"], {"aim_2": 2}, submit=False)
    answer(invitation["acme-R3"], {}, submit=False)
    return {"survey": survey, "wave": wave, "invitation": invitation}


def wave_url(wave: SurveyWave) -> str:
    return reverse("surveys:wave_detail", kwargs={"pk": wave.survey_id, "number": wave.number})


def rows_of(page: str) -> list[tuple[str, str]]:
    """(pseudonym, state) of each row of a wave page's table, in order."""
    import re

    return re.findall(r'<th scope="row">([^<]+)</th>(?:\s*<td>[^<]*</td>){5}\s*<td>([^<]+)</td>', page)


# -- a wave's page -------------------------------------------------------------------------------------------


def test_the_wave_page_lists_invitations_by_pseudonym_with_their_states(four_states: dict[str, Any]):
    world_client = Client()
    survey, wave = four_states["survey"], four_states["wave"]
    world_client.force_login(survey.organisation.memberships.get(role=Role.RESEARCHER).user)
    page = world_client.get(wave_url(wave)).content.decode()
    assert rows_of(page) == [
        ("acme-R1", "Submitted"),
        ("acme-R2", "Answered partly"),
        ("acme-R3", "Consented, nothing answered"),
        ("acme-R9", "No response"),
    ]
    # the counts: 4 invited, one of each state
    assert "<dt>invited</dt><dd>4</dd>" in page
    for label in ("no response", "consented, nothing answered", "answered partly", "submitted"):
        assert f"<dt>{label}</dt><dd>1</dd>" in page
    # R1's row: due, sent, reminded, opened and answered all shown (times in UTC)
    answered = Invitation.objects.get(pk=four_states["invitation"]["acme-R1"].pk).answered
    assert answered == NOW and f"<td>{NOW:%-d %b %Y %H:%M}</td>" in page
    # the survey's page links to the wave
    detail = world_client.get(reverse("surveys:survey_detail", args=[survey.pk])).content.decode()
    assert f'href="{wave_url(wave)}"' in detail


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("none", ["acme-R9"]),
        ("consented", ["acme-R3"]),
        ("partial", ["acme-R2"]),
        ("submitted", ["acme-R1"]),
    ],
)
def test_the_wave_page_filters_by_state(
    four_states: dict[str, Any], world: World, state: str, expected: list
):
    page = (
        world.client(Role.ADMINISTRATOR).get(wave_url(four_states["wave"]), {"state": state}).content.decode()
    )
    assert [pseudonym for pseudonym, _ in rows_of(page)] == expected
    assert "Showing 1 of 4 invitations." in page


def test_an_unknown_state_shows_every_invitation_and_an_error(four_states: dict[str, Any], world: World):
    page = (
        world.client(Role.RESEARCHER).get(wave_url(four_states["wave"]), {"state": "bogus"}).content.decode()
    )
    assert len(rows_of(page)) == 4 and "Select a valid choice" in page


def test_the_wave_page_is_paginated_and_its_queries_do_not_grow(world: World):
    survey = make_survey(world)
    many = Recipient.objects.bulk_create(
        Recipient(organisation=world.organisation, pseudonym=f"P{i:03d}", site=world.site) for i in range(120)
    )
    wave = make_wave(survey, many)
    invitations = list(wave.invitations.order_by("recipient__pseudonym"))
    for invitation in invitations[::2]:  # every other one submitted: P000, P002, ...
        answer(invitation, {"aim_1": 3}, submit=True)
    client = world.client(Role.RESEARCHER)
    first = client.get(wave_url(wave)).content.decode()
    assert [p for p, _ in rows_of(first)] == [f"P{i:03d}" for i in range(50)]
    assert "page 1 of 3" in first and "page=2" in first
    last = client.get(wave_url(wave), {"page": 3}).content.decode()
    assert [p for p, _ in rows_of(last)] == [f"P{i:03d}" for i in range(100, 120)]
    submitted = client.get(wave_url(wave), {"state": "submitted", "page": 2}).content.decode()
    assert [p for p, _ in rows_of(submitted)] == [f"P{i:03d}" for i in range(100, 120, 2)]
    assert "page 2 of 2" in submitted and "?state=submitted&amp;page=1" in submitted
    # 120 invitations take as many queries as 4 (no query per row)
    small = make_wave(make_survey(world, title="Small"), world.recipients)
    counts = []
    for shown in (wave, small):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(wave_url(shown)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_a_wave_of_another_survey_or_number_is_not_found(four_states: dict[str, Any], world: World):
    other = make_survey(world, title="Other")
    client = world.client(Role.RESEARCHER)
    url = reverse("surveys:wave_detail", kwargs={"pk": other.pk, "number": four_states["wave"].number})
    assert client.get(url).status_code == 404
    url = reverse("surveys:wave_detail", kwargs={"pk": four_states["survey"].pk, "number": 9})
    assert client.get(url).status_code == 404


def test_no_page_of_a_researcher_shows_a_token_or_a_contact(four_states: dict[str, Any], world: World):
    RecipientContact.objects.create(recipient=world.recipients[1], name="Sam Sample", email="sam@example.org")
    survey, wave = four_states["survey"], four_states["wave"]
    tokens = list(Invitation.objects.values_list("token", flat=True))
    client = world.client(Role.RESEARCHER)
    pages = [
        reverse("surveys:survey_list"),
        reverse("surveys:survey_detail", args=[survey.pk]),
        wave_url(wave),
        wave_url(wave) + "?state=submitted",
        reverse("surveys:survey_active", args=[survey.pk]),
        reverse("surveys:survey_delete", args=[survey.pk]),
        reverse("surveys:survey_export"),
    ]
    downloads = [
        client.post(reverse("surveys:survey_export"), {"what": what})
        for what in ("redcap-surveys", "redcap-surveys-dictionary")
    ]
    texts = [client.get(url).content.decode() for url in pages] + [d.content.decode() for d in downloads]
    assert "acme-R1" in texts[2]  # the pseudonyms are there
    for text in texts:
        for secret in [*tokens, "Pat Example", "pat@example.org", "Sam Sample", "sam@example.org", "/s/"]:
            assert secret not in text


# -- pausing and resuming ------------------------------------------------------------------------------------


def test_pausing_and_resuming_through_the_page_is_audited_once_each(world: World):
    survey = make_survey(world)
    client = world.client(Role.RESEARCHER)
    url = reverse("surveys:survey_active", args=[survey.pk])
    assert "Pause the survey" in client.get(url).content.decode()
    paused = client.post(url, {"active": "0"}, follow=True)
    assert paused.redirect_chain == [(reverse("surveys:survey_detail", args=[survey.pk]), 302)]
    assert "Survey “Pulse” paused." in paused.content.decode() and "Resume survey" in paused.content.decode()
    assert not Survey.objects.get(pk=survey.pk).active
    client.post(url, {"active": "0"})  # a repeated post changes nothing
    assert "Resume the survey" in client.get(url).content.decode()
    client.post(url, {"active": "1"})
    assert Survey.objects.get(pk=survey.pk).active
    changes = AuditEntry.objects.about(survey).filter(action=Action.CHANGE)
    assert [(e.user, e.object_id) for e in changes] == [(world.users[Role.RESEARCHER], str(survey.pk))] * 2
    assert client.post(url, {"active": "maybe"}).status_code == 400


def test_a_paused_survey_opens_no_waves_and_mails_nothing(world: World, settings: Any):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    survey = make_survey(world, site=world.site)  # every 4 weeks from 6 Jan 2025: 3 March is a wave day
    monday = datetime.datetime(2025, 3, 3, 9, tzinfo=datetime.UTC)
    world.client(Role.ADMINISTRATOR).post(reverse("surveys:survey_active", args=[survey.pk]), {"active": "0"})
    assert open_due_waves(monday) == []
    survey.active = True
    survey.save()
    (wave,) = open_due_waves(monday)  # resumed: the same day's wave opens
    world.client(Role.ADMINISTRATOR).post(reverse("surveys:survey_active", args=[survey.pk]), {"active": "0"})
    assert send_due_invitations(monday).sent == 0 and mail.outbox == []
    Survey.objects.filter(pk=survey.pk).update(active=True)
    assert send_due_invitations(monday).sent == 1  # acme-R1, the one with an address
    Survey.objects.filter(pk=survey.pk).update(active=False)
    assert send_reminders(monday + datetime.timedelta(days=5)).sent == 0
    Survey.objects.filter(pk=survey.pk).update(active=True)
    assert send_reminders(monday + datetime.timedelta(days=5)).sent == 1
    assert [m.to for m in mail.outbox] == [["pat@example.org"]] * 2
    assert wave.invitations.count() == 3


def test_the_link_of_a_paused_surveys_open_wave_says_so(world: World):
    survey = make_survey(world)
    invitation = make_wave(survey, world.recipients[:1]).invitations.get()
    Survey.objects.filter(pk=survey.pk).update(active=False)
    link = reverse("survey_page", kwargs={"token": invitation.token})
    shown = Client().get(link)
    assert "This survey is paused" in shown.content.decode()
    assert Client().post(link, {"action": "consent"}).status_code == shown.status_code
    assert not SurveyResponse.objects.filter(invitation=invitation).exists()
    Survey.objects.filter(pk=survey.pk).update(active=True)
    assert "Before you start" in Client().get(link).content.decode()


# -- deleting ------------------------------------------------------------------------------------------------


def every_row() -> dict[str, set[int]]:
    """The ids of every row of the surveys' tables and of the practice tables a survey refers to."""
    models = [Survey, ConsentText, SurveyWave, Invitation, SurveyResponse, Activity, Recipient]
    return {model.__name__: set(model.objects.values_list("pk", flat=True)) for model in models}


def test_deleting_a_survey_removes_exactly_its_rows(four_states: dict[str, Any], world: World, db: None):
    survey, wave = four_states["survey"], four_states["wave"]
    survey.set_consent("A second version.")
    second_wave = make_wave(survey, world.recipients[:2])
    answer(second_wave.invitations.order_by("id").first(), {"aim_3": 1}, submit=True)
    # rows that must stay: another survey of acme and a survey of another organisation, with answers
    kept = make_survey(world, title="Kept")
    answer(make_wave(kept, world.recipients[:1]).invitations.get(), {"aim_1": 1}, submit=True)
    zenith = build_world("zenith")
    answer(make_wave(make_survey(zenith), zenith.recipients[:1]).invitations.get(), {"aim_1": 2}, submit=True)
    mine = {
        "Survey": {survey.pk},
        "ConsentText": set(survey.consents.values_list("pk", flat=True)),
        "SurveyWave": {wave.pk, second_wave.pk},
        "Invitation": set(
            Invitation.objects.filter(wave__in=[wave, second_wave]).values_list("pk", flat=True)
        ),
        "SurveyResponse": set(
            SurveyResponse.objects.filter(invitation__wave__in=[wave, second_wave]).values_list(
                "pk", flat=True
            )
        ),
    }
    # by hand: 2 consent versions, 2 waves, 4 + 2 invitations, 3 + 1 responses (R1 and the second wave's
    # first submitted)
    assert [len(mine[name]) for name in mine] == [1, 2, 2, 6, 4]
    before = every_row()

    client = world.client(Role.RESEARCHER)
    url = reverse("surveys:survey_delete", args=[survey.pk])
    confirm = client.get(url).content.decode()
    for said in (
        "2 consent text versions",
        "its 2 waves",
        "their 6 invitations",
        "the 4 responses to them (2 submitted",
    ):
        assert said in confirm, said
    assert every_row() == before  # asking deletes nothing
    done = client.post(url, follow=True)
    assert done.redirect_chain == [(reverse("surveys:survey_list"), 302)]
    assert "deleted, with 2 waves, 6 invitations and 4 responses" in done.content.decode()
    after = every_row()
    assert after == {name: ids - mine.get(name, set()) for name, ids in before.items()}

    researcher = world.users[Role.RESEARCHER]
    deleted = AuditEntry.objects.filter(action=Action.DELETE).order_by("model", "object_id")
    assert sorted((e.model, e.object_id, e.user) for e in deleted) == sorted(
        [("surveys.survey", str(survey.pk), researcher)]
        + [("surveys.consenttext", str(pk), researcher) for pk in mine["ConsentText"]]
        + [("surveys.surveywave", str(pk), researcher) for pk in mine["SurveyWave"]]
    )


# -- the REDCap download -------------------------------------------------------------------------------------


def test_the_answers_download_for_redcap_is_audited(four_states: dict[str, Any], world: World):
    AuditEntry.objects.all().delete()
    client = world.client(Role.RESEARCHER)
    page = client.get(reverse("surveys:survey_export")).content.decode()
    assert "The 3 responses" in page and "<code>pulse_survey</code>" in page
    records = client.post(reverse("surveys:survey_export"), {"what": "redcap-surveys"})
    dictionary = client.post(reverse("surveys:survey_export"), {"what": "redcap-surveys-dictionary"})
    assert records["Content-Type"] == dictionary["Content-Type"] == "text/csv; charset=utf-8"
    assert records["Content-Disposition"].endswith('-redcap-pulse-survey.csv"')
    assert records.content.decode().splitlines()[0].startswith("record_id,survey_id,wave,recipient,")
    assert dictionary.content.decode().splitlines()[0].startswith("Variable / Field Name,Form Name,")
    organisation = world.organisation.pk
    assert [(e.user, e.action, e.model, e.object_id) for e in AuditEntry.objects.order_by("id")] == [
        (world.users[Role.RESEARCHER], "export", "practice.organisation", f"{organisation}/redcap-surveys"),
        (
            world.users[Role.RESEARCHER],
            "export",
            "practice.organisation",
            f"{organisation}/redcap-surveys-dictionary",
        ),
    ]
    assert client.post(reverse("surveys:survey_export"), {"what": "all"}).status_code == 400
    assert AuditEntry.objects.count() == 2
