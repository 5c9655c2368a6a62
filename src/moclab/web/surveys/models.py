"""Pulse surveys: a `Survey` (what it asks, its consent text in versions, its schedule), its `SurveyWave`s,
an `Invitation` per recipient and wave (the personal link and when it was due, sent, opened, answered) and
the `SurveyResponse` to it (item -> value, saved as the recipient goes, the consent version agreed to).

One response per invitation is a database constraint (a one-to-one link), and submitting is a conditional
update that only a not-yet-submitted response matches: a repeated or concurrent submit changes nothing,
on SQLite and PostgreSQL alike. A response holds no names or contact details: it belongs to an invitation,
which names the recipient by its pseudonymous record only (`RecipientContact` is read when mailing only).
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from moclab.errors import CatalogError
from moclab.web.practice.models import Activity, Membership, Organisation, Recipient, Site
from moclab.web.surveys.items import InstrumentIdsValidator, PathwayIdsValidator, SurveyItem, survey_items


def new_token() -> str:
    """An unguessable personal link token: 32 URL-safe characters from 24 random bytes (192 bits)."""
    return secrets.token_urlsafe(24)


class Schedule(models.TextChoices):
    EVERY_N_WEEKS = "every_n_weeks", "Every N weeks from a start date"
    AFTER_ACTIVITY = "after_activity", "After a logged activity, to the recipients present"


class SurveyQuerySet(models.QuerySet["Survey"]):
    def visible_to(self, membership: Membership) -> SurveyQuerySet:
        """The surveys of `membership`'s organisation (the role is checked by `member_view`)."""
        return self.filter(organisation=membership.organisation_id)


class Survey(models.Model):
    """What is asked (instrument ids and recipient-pathway ids), of whom (a site's recipients, or all the
    organisation's) and when (the schedule); the consent text lives in `ConsentText`, one row per version."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=200)
    subject = models.CharField(
        max_length=200,
        blank=True,
        help_text='What "[X]" stands for in the items ("the support we receive").',
    )
    instruments = models.JSONField(default=list, blank=True, validators=[InstrumentIdsValidator()])
    pathway_items = models.JSONField(
        default=list, blank=True, validators=[PathwayIdsValidator()], verbose_name="recipient-pathway items"
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys",
        help_text="Ask the recipients of one site only (empty: the whole organisation).",
    )
    schedule = models.CharField(max_length=20, choices=Schedule.choices, default=Schedule.EVERY_N_WEEKS)
    every_weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    start_date = models.DateField(help_text="The first wave (every N weeks), or the first activity counted.")
    expiry_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Days a wave stays open for answers.",
    )
    reminder_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Days after the invitation a reminder goes to those who have not answered.",
    )
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "title"], name="survey_title_unique"),
            models.CheckConstraint(
                condition=~Q(schedule="every_n_weeks") | Q(every_weeks__isnull=False, every_weeks__gte=1),
                name="survey_every_n_weeks_has_n",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.instruments and not self.pathway_items:
            errors["instruments"] = "choose at least one instrument or recipient-pathway item"
        if self.schedule == Schedule.EVERY_N_WEEKS and not self.every_weeks:
            errors["every_weeks"] = "say every how many weeks a wave opens"
        if self.site_id is not None and self.site.organisation_id != self.organisation_id:
            errors["site"] = "the site belongs to another organisation"
        try:
            keys = [item.key for item in self.items()]
        except CatalogError:
            keys = []  # an unknown id: the fields' validators say which
        if len(set(keys)) != len(keys):
            errors["pathway_items"] = "two items would share a field name"
        if errors:
            raise ValidationError(errors)

    def items(self) -> list[SurveyItem]:
        return survey_items(self.instruments, self.pathway_items, self.subject)

    @property
    def consent(self) -> ConsentText | None:
        """The current consent text (the highest version), or None before one is set."""
        return self.consents.order_by("-version").first()

    def set_consent(self, text: str) -> ConsentText:
        """Make `text` the consent text: a new version when it differs from the current one."""
        current = self.consent
        if current is not None and current.text == text:
            return current
        return ConsentText.objects.create(
            survey=self, version=(current.version + 1) if current else 1, text=text
        )

    def recipients(self) -> models.QuerySet[Recipient]:
        """Whom an every-N-weeks wave invites: the site's recipients, or all the organisation's."""
        found = Recipient.objects.filter(organisation=self.organisation_id)
        return found.filter(site=self.site_id) if self.site_id else found

    def wave_dates(self, until: datetime.date) -> list[datetime.date]:
        """The days an every-N-weeks wave opens, from the start date up to `until`."""
        if self.schedule != Schedule.EVERY_N_WEEKS or not self.every_weeks or until < self.start_date:
            return []
        step = datetime.timedelta(weeks=self.every_weeks)
        count = (until - self.start_date) // step + 1
        return [self.start_date + step * i for i in range(count)]


class ConsentText(models.Model):
    """One version of a survey's consent text; a response records the version its recipient agreed to."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="consents")
    version = models.PositiveIntegerField()
    text = models.TextField(max_length=5000)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["survey", "version"]
        constraints = [models.UniqueConstraint(fields=["survey", "version"], name="consent_version_unique")]

    def __str__(self) -> str:
        return f"consent v{self.version} of survey {self.survey_id}"


class WaveQuerySet(models.QuerySet["SurveyWave"]):
    def with_rates(self, now: datetime.datetime | None = None) -> WaveQuerySet:
        """Each wave with its counts of invitations: invited, due (by `now`), sent, opened, answered."""
        now = now or timezone.now()
        return self.annotate(
            invited=Count("invitations"),
            due=Count("invitations", filter=Q(invitations__due__lte=now)),
            sent=Count("invitations", filter=Q(invitations__sent__isnull=False)),
            opened=Count("invitations", filter=Q(invitations__opened__isnull=False)),
            answered=Count("invitations", filter=Q(invitations__answered__isnull=False)),
        )


class SurveyWave(models.Model):
    """One round of a survey: opens, closes (`expiry_days` later), and for an activity-triggered survey the
    activity that triggered it."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="waves")
    number = models.PositiveIntegerField()
    opens = models.DateTimeField()
    closes = models.DateTimeField()
    activity = models.ForeignKey(
        Activity, on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_waves"
    )

    objects = WaveQuerySet.as_manager()

    class Meta:
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="wave_number_unique"),
            models.UniqueConstraint(fields=["survey", "activity"], name="wave_activity_unique"),
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="wave_closes_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return f"wave {self.number} of {self.survey}"

    def is_open(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.opens <= now < self.closes


class Invitation(models.Model):
    """A recipient's invitation to one wave: the personal link's token and when it was due, sent, reminded,
    opened and answered (the log of the wave's response rates)."""

    wave = models.ForeignKey(SurveyWave, on_delete=models.CASCADE, related_name="invitations")
    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="survey_invitations")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    due = models.DateTimeField()
    sent = models.DateTimeField(null=True, blank=True)
    reminded = models.DateTimeField(null=True, blank=True)
    opened = models.DateTimeField(null=True, blank=True)
    answered = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["wave", "recipient__pseudonym"]
        constraints = [models.UniqueConstraint(fields=["wave", "recipient"], name="invitation_unique")]

    def __str__(self) -> str:
        return f"invitation {self.pk} to wave {self.wave_id}"

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.wave.closes

    def mark_opened(self, now: datetime.datetime | None = None) -> None:
        """Note the first time the link was opened (later visits change nothing)."""
        if self.opened is not None:
            return  # opened before: no write (the conditional update below would change nothing)
        now = now or timezone.now()
        if Invitation.objects.filter(pk=self.pk, opened__isnull=True).update(opened=now):
            self.opened = now


class SurveyResponse(models.Model):
    """The answers to one invitation: item field name -> value, saved as the recipient goes (partial until
    submitted), with the consent version agreed to. At most one per invitation (the database says so)."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    consent_version = models.PositiveIntegerField()
    consented = models.DateTimeField()
    values = models.JSONField(default=dict, blank=True)
    saved = models.DateTimeField(null=True, blank=True)
    submitted = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invitation"]

    def __str__(self) -> str:
        return f"response to invitation {self.invitation_id}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted is not None


def record_consent(
    invitation: Invitation,
    consent: ConsentText,
    now: datetime.datetime | None = None,
    *,
    response: SurveyResponse | None = None,
    consented: datetime.datetime | None = None,
) -> SurveyResponse:
    """The invitation's response, created at consent (or moved to a newer consent version), race-safe: two
    concurrent consents make one response (the one-to-one constraint; the loser of the race reads the
    winner's). `response` is the invitation's response when the caller has just read it: then a first consent
    goes straight to the insert, without reading again. `consented` is when the recipient agreed to this
    version when that was in an earlier wave of the survey (default: `now`)."""
    now = now or timezone.now()
    consented = consented or now
    created = False
    if response is None:
        try:
            with transaction.atomic():
                response = SurveyResponse.objects.create(
                    invitation=invitation, consent_version=consent.version, consented=consented
                )
            created = True
        except IntegrityError:  # another request consented first: its response is the one
            response = SurveyResponse.objects.get(invitation=invitation)
    if not created and response.consent_version != consent.version and not response.is_submitted:
        SurveyResponse.objects.filter(pk=response.pk, submitted__isnull=True).update(
            consent_version=consent.version, consented=consented
        )
        response.refresh_from_db()
    return response


def save_answers(
    response: SurveyResponse, values: dict[str, Any], *, submit: bool, now: datetime.datetime | None = None
) -> bool:
    """Save `values` (merged into what was saved before) and, with `submit`, submit them. Only a response not
    yet submitted is changed: True when this call changed it, False for a repeated submit (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        merged = {**response.values, **values}
        changes: dict[str, Any] = {"values": merged, "saved": now}
        if submit:
            changes["submitted"] = now
        changed = SurveyResponse.objects.filter(pk=response.pk, submitted__isnull=True).update(**changes)
        if changed and submit:
            Invitation.objects.filter(pk=response.invitation_id, answered__isnull=True).update(answered=now)
    if changed:  # what the database now holds, without reading it back
        for name, value in changes.items():
            setattr(response, name, value)
    else:  # submitted before (by this or another request): what it holds
        response.refresh_from_db()
    return bool(changed)


def answer_with_consent(
    invitation: Invitation,
    consent: ConsentText,
    values: dict[str, Any],
    *,
    submit: bool,
    consented: datetime.datetime,
    now: datetime.datetime | None = None,
) -> tuple[SurveyResponse, bool]:
    """The first answers to an invitation whose recipient agreed to `consent` in an earlier wave (at
    `consented`): the response is created with them, in one transaction with the invitation's `answered` when
    submitted. When another request created the response first (a double submit), the answers go to that one
    as `save_answers` does. The response, and whether this call changed it."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                invitation=invitation,
                consent_version=consent.version,
                consented=consented,
                values=values,
                saved=now,
                submitted=now if submit else None,
            )
            if submit:
                Invitation.objects.filter(pk=invitation.pk, answered__isnull=True).update(answered=now)
    except IntegrityError:  # another request answered first: its response is the one
        response = SurveyResponse.objects.get(invitation=invitation)
        return response, save_answers(response, values, submit=submit, now=now)
    return response, True
