"""The survey e-mails through a REAL SMTP server: aiosmtpd listening on 127.0.0.1 on a free port, started
inside the test and stopped after it; Django's SMTP backend delivers the invitation and the reminder."""

from __future__ import annotations

import datetime
import email
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from moclab.web.practice.models import RecipientContact
from moclab.web.surveys.models import Invitation, Schedule, Survey
from moclab.web.surveys.scheduling import open_due_waves, send_due_invitations, send_reminders

from .conftest import World


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 10
    settings.MOCLAB_BASE_URL = "https://surveys.example.org"
    try:
        yield inbox
    finally:
        controller.stop()


def test_invitations_and_reminders_arrive_with_the_personal_link(world: World, smtp_server: Inbox):
    survey = Survey.objects.create(
        organisation=world.organisation,
        title="Pulse",
        instruments=["aim"],
        site=world.site,
        schedule=Schedule.EVERY_N_WEEKS,
        every_weeks=4,
        start_date=datetime.date(2025, 1, 6),
        reminder_days=3,
    )
    survey.set_consent("Voluntary.")
    RecipientContact.objects.create(recipient=world.recipients[1], name="Sam Example", email="")
    now = datetime.datetime(2025, 3, 3, 9, tzinfo=datetime.UTC)
    (wave,) = open_due_waves(now)
    report = send_due_invitations(now)
    # acme-R1 has an address (conftest); acme-R2 an empty one, acme-R3 none: left unsent, counted
    assert (report.sent, report.without_address) == (1, 2)
    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    invitation = Invitation.objects.get(wave=wave, recipient=world.recipients[0])
    assert recipients == ["pat@example.org"] and message["Subject"] == "Pulse"
    body = message.get_payload(decode=True).decode()
    assert f"https://surveys.example.org/s/{invitation.token}/" in body
    assert "open until 17 March 2025" in body
    assert "Pat Example" not in body  # the name is never used
    assert invitation.sent == now
    assert send_due_invitations(now).sent == 0  # nothing twice

    assert send_reminders(now + datetime.timedelta(days=2)).sent == 0  # too early
    later = now + datetime.timedelta(days=3)
    assert send_reminders(later).sent == 1
    _, reminder = smtp_server.messages[1]
    assert reminder["Subject"] == "Reminder: Pulse"
    assert f"/s/{invitation.token}/" in reminder.get_payload(decode=True).decode()
    assert Invitation.objects.get(pk=invitation.pk).reminded == later
    assert send_reminders(later + datetime.timedelta(days=3)).sent == 0  # one reminder only


def test_the_cron_command_reports_counts_without_addresses(world: World, smtp_server: Inbox, capsys: Any):
    survey = Survey.objects.create(
        organisation=world.organisation,
        title="Today's pulse",
        instruments=["aim"],
        every_weeks=1,
        start_date=datetime.date.today() - datetime.timedelta(days=3),  # due 3 days ago, whatever the hour
    )
    survey.set_consent("Voluntary.")
    call_command("pulse_surveys")
    out = capsys.readouterr().out
    assert out.strip() == (
        "1 waves opened (4 invitations); 1 invitations and 0 reminders mailed; 3 without an e-mail address"
    )
    assert "pat@example.org" not in out
    assert [to for to, _ in smtp_server.messages] == [["pat@example.org"]]
