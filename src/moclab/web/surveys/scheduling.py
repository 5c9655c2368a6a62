"""Opening waves and mailing the personal links: what a cron job runs (``python -m django pulse_surveys``).

- `open_due_waves`: for an every-N-weeks survey, the wave of the latest due day that is still open and not
  yet made; for an activity-triggered survey, a wave per logged activity (from the start date, within the
  expiry) with recipients present, inviting those recipients. Running it twice makes nothing twice (the
  database's unique constraints on wave numbers, activities and invitations back this up).
- `send_due_invitations`: mails each due, unsent invitation of an open wave to the recipient's address.
- `send_reminders`: mails one reminder to those who were sent a link `reminder_days` ago and have not
  answered, while the wave is open.

Addresses are read from `RecipientContact` here and nowhere else; they are neither stored with the
invitation nor logged. A recipient without an address is left unsent (counted as such).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from moclab.web.practice.models import Activity, RecipientContact
from moclab.web.surveys.models import Invitation, Schedule, Survey, SurveyWave

#: The hour (UTC) a scheduled wave opens on its day.
OPENING_HOUR = 8


@dataclass(frozen=True)
class MailReport:
    """What one mailing did: messages sent, and invitations left unsent for want of an address."""

    sent: int
    without_address: int


def personal_link(invitation: Invitation) -> str:
    """The absolute address of an invitation's page (``MOCLAB_BASE_URL`` + ``/s/<token>/``)."""
    return settings.MOCLAB_BASE_URL + reverse("survey_page", kwargs={"token": invitation.token})


def open_due_waves(now: datetime.datetime | None = None) -> list[SurveyWave]:
    """Open the waves that are due by `now` for every active survey; return the waves made."""
    now = now or timezone.now()
    made: list[SurveyWave] = []
    for survey in Survey.objects.filter(active=True).select_related("organisation"):
        if survey.schedule == Schedule.EVERY_N_WEEKS:
            made += _open_scheduled(survey, now)
        else:
            made += _open_after_activities(survey, now)
    return made


def _opening(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(OPENING_HOUR), tzinfo=datetime.UTC)


def _make_wave(
    survey: Survey, opens: datetime.datetime, recipients: list, activity: Activity | None = None
) -> SurveyWave | None:
    closes = opens + datetime.timedelta(days=survey.expiry_days)
    try:
        with transaction.atomic():
            number = (survey.waves.aggregate(last=Max("number"))["last"] or 0) + 1
            wave = SurveyWave.objects.create(
                survey=survey, number=number, opens=opens, closes=closes, activity=activity
            )
            Invitation.objects.bulk_create(
                Invitation(wave=wave, recipient=recipient, due=opens) for recipient in recipients
            )
    except IntegrityError:  # another run made it at the same moment
        return None
    return wave


def _open_scheduled(survey: Survey, now: datetime.datetime) -> list[SurveyWave]:
    days = survey.wave_dates(now.date())
    if not days:
        return []
    opens = _opening(days[-1])
    if opens > now or now >= opens + datetime.timedelta(days=survey.expiry_days):
        return []  # not yet today, or the latest wave's window has passed: a missed wave is not sent late
    if survey.waves.filter(opens=opens).exists():
        return []
    wave = _make_wave(survey, opens, list(survey.recipients()))
    return [wave] if wave else []


def _open_after_activities(survey: Survey, now: datetime.datetime) -> list[SurveyWave]:
    earliest = max(survey.start_date, (now - datetime.timedelta(days=survey.expiry_days)).date())
    activities = (
        Activity.objects.filter(
            engagement__organisation=survey.organisation_id, date__gte=earliest, date__lte=now.date()
        )
        .exclude(pk__in=survey.waves.exclude(activity=None).values("activity"))
        .prefetch_related("recipients")
        .order_by("date", "pk")
    )
    if survey.site_id:
        activities = activities.filter(engagement__site=survey.site_id)
    made = []
    for activity in activities:
        recipients = [r for r in activity.recipients.all() if survey.site_id in (None, r.site_id)]
        if not recipients:
            continue
        # the wave opens when the activity is seen (it was logged after it happened)
        opens = max(_opening(activity.date), now - datetime.timedelta(minutes=1))
        wave = _make_wave(survey, opens, recipients, activity)
        if wave:
            made.append(wave)
    return made


def send_due_invitations(now: datetime.datetime | None = None) -> MailReport:
    """Mail the personal link of every due, unsent invitation of an open wave."""
    now = now or timezone.now()
    due = Invitation.objects.filter(
        sent__isnull=True, due__lte=now, wave__closes__gt=now, wave__survey__active=True
    )
    return _mail(due, now, reminder=False)


def send_reminders(now: datetime.datetime | None = None) -> MailReport:
    """Mail one reminder to each recipient sent a link `reminder_days` ago who has not answered yet,
    while the wave is open."""
    now = now or timezone.now()
    pending = Invitation.objects.filter(
        sent__isnull=False,
        reminded__isnull=True,
        answered__isnull=True,
        wave__closes__gt=now,
        wave__survey__active=True,
    ).select_related("wave__survey")
    ripe = [
        inv.pk for inv in pending if inv.sent <= now - datetime.timedelta(days=inv.wave.survey.reminder_days)
    ]
    return _mail(Invitation.objects.filter(pk__in=ripe), now, reminder=True)


def _mail(invitations, now: datetime.datetime, *, reminder: bool) -> MailReport:
    invitations = list(invitations.select_related("wave__survey__organisation"))
    addresses = dict(
        RecipientContact.objects.filter(recipient__in=[inv.recipient_id for inv in invitations])
        .exclude(email="")
        .values_list("recipient_id", "email")
    )
    sent = 0
    with get_connection() as connection:
        for invitation in invitations:
            address = addresses.get(invitation.recipient_id)
            if not address:
                continue
            _message(invitation, address, reminder=reminder, connection=connection).send()
            field = "reminded" if reminder else "sent"
            Invitation.objects.filter(pk=invitation.pk).update(**{field: now})
            sent += 1
    return MailReport(sent=sent, without_address=len(invitations) - sent)


def _message(invitation: Invitation, address: str, *, reminder: bool, connection) -> EmailMessage:
    survey = invitation.wave.survey
    closes = invitation.wave.closes
    subject = f"{'Reminder: ' if reminder else ''}{survey.title}"
    lines = [
        "Hello,",
        "",
        (
            "A reminder: your answers to this short survey would still be welcome."
            if reminder
            else f"{survey.organisation.name} asks how the implementation support you receive is going."
        ),
        "It takes a few minutes. Your personal link (please do not pass it on):",
        "",
        personal_link(invitation),
        "",
        f"The survey is open until {closes:%d %B %Y}.",
        "Your answers are kept apart from your name and address.",
    ]
    return EmailMessage(subject=subject, body="\n".join(lines), to=[address], connection=connection)
