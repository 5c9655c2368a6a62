"""Who's who and the activity log: organisations, their members and roles, sites, teams, engagements,
recipients (pseudonymous) and the activities ISPs log, with every saved version of an activity.

Every object belongs to one organisation (directly, or through its site or engagement). Querysets say what
they select for whom (`Engagement.objects.visible_to(membership)`); `moclab.web.practice.access` is the one
place that decides which role may do what.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from moclab.web.practice.terms import TERM_SETS, CatalogIdsValidator


class Role(models.TextChoices):
    """What a member of an organisation may do (docs/platform.md, "Roles")."""

    ADMINISTRATOR = "administrator", "Administrator"
    RESEARCHER = "researcher", "Researcher"
    ISP = "isp", "ISP"
    SITE_LEAD = "site_lead", "Site lead"


class SupportMode(models.TextChoices):
    """How support was given (Metz et al. 2022): pushed to the recipients, pushed and pulled, co-created."""

    PUSH = "push", "Push"
    PUSH_PULL = "push_pull", "Push/pull"
    CO_CREATION = "co_creation", "Co-creation"


class Organisation(models.Model):
    """An intermediary or ISP team: everything else belongs to one."""

    name = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A place (a service, a clinic, a school) that receives support."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="site_name_unique")]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team at a site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="team_name_unique")]

    def __str__(self) -> str:
        return f"{self.site.name} / {self.name}"

    @property
    def organisation(self) -> Organisation:
        return self.site.organisation


class Membership(models.Model):
    """A user's place in an organisation: one organisation per account, one role, a site for a site lead."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        help_text="The site a site lead leads (site leads only).",
    )

    class Meta:
        ordering = ["organisation__name", "role", "user__username"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role=Role.SITE_LEAD, site__isnull=False) | ~models.Q(role=Role.SITE_LEAD)
                ),
                name="site_lead_has_site",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()}, {self.organisation})"

    def clean(self) -> None:
        if self.role == Role.SITE_LEAD and self.site_id is None:
            raise ValidationError({"site": "a site lead needs the site they lead"})
        if self.role != Role.SITE_LEAD and self.site_id is not None:
            raise ValidationError({"site": "only a site lead has a site"})
        if self.site_id is not None and self.site.organisation_id != self.organisation_id:
            raise ValidationError({"site": "the site belongs to another organisation"})


class EngagementQuerySet(models.QuerySet["Engagement"]):
    def visible_to(self, membership: Membership) -> EngagementQuerySet:
        """The engagements `membership` may see: all of its organisation's for administrators and
        researchers, those they work on for ISPs, none for site leads (they see their site's aggregates)."""
        mine = self.filter(organisation=membership.organisation_id)
        if membership.role in (Role.ADMINISTRATOR, Role.RESEARCHER):
            return mine
        if membership.role == Role.ISP:
            return mine.filter(isps=membership.user_id)
        return mine.none()


class Engagement(models.Model):
    """Support given over time to one site, or to a system (several sites, a region, a network)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="engagements")
    title = models.CharField(max_length=200)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="engagements"
    )
    system = models.CharField(
        max_length=200,
        blank=True,
        help_text="The system supported, when the engagement is not with one site.",
    )
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    isps = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="engagements", verbose_name="ISPs")

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(site__isnull=False) | ~models.Q(system=""),
                name="engagement_site_or_system",
            ),
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="engagement_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def supported(self) -> str:
        """The site or system supported, as shown."""
        return self.site.name if self.site_id else self.system

    def clean(self) -> None:
        if self.site_id is None and not self.system:
            raise ValidationError("an engagement supports a site or a system: give one")
        if self.site_id is not None and self.site.organisation_id != self.organisation_id:
            raise ValidationError({"site": "the site belongs to another organisation"})
        if self.end is not None and self.end < self.start:
            raise ValidationError({"end": "the engagement ends before it starts"})

    def is_open_on(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Recipient(models.Model):
    """A person who receives support, known to the platform by a pseudonym only (contact details live in
    `RecipientContact`, which only administrators read)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="recipients")
    pseudonym = models.CharField(max_length=40)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="recipients")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="recipients"
    )

    class Meta:
        ordering = ["pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "pseudonym"], name="recipient_pseudonym_unique")
        ]

    def __str__(self) -> str:
        return self.pseudonym

    def clean(self) -> None:
        if self.site_id is not None and self.site.organisation_id != self.organisation_id:
            raise ValidationError({"site": "the site belongs to another organisation"})
        if self.team_id is not None and self.team.site_id != self.site_id:
            raise ValidationError({"team": "the team works at another site"})


class RecipientContact(models.Model):
    """A recipient's name and contact details, kept apart from everything they answer or take part in."""

    recipient = models.OneToOneField(Recipient, on_delete=models.CASCADE, related_name="contact")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"contact of {self.recipient.pseudonym}"


class ActivityQuerySet(models.QuerySet["Activity"]):
    def for_engagement(self, engagement: Engagement) -> ActivityQuerySet:
        """The activities of one engagement, newest first."""
        return self.filter(engagement=engagement).order_by("-date", "-id")

    def visible_to(self, membership: Membership) -> ActivityQuerySet:
        """The activities of the engagements `membership` may see."""
        return self.filter(engagement__in=Engagement.objects.visible_to(membership))

    def at_site(self, site: Site) -> ActivityQuerySet:
        """The activities of the engagements with one site."""
        return self.filter(engagement__site=site)


def _terms_field(field: str) -> models.JSONField:
    term = TERM_SETS[field]
    return models.JSONField(
        default=list, blank=True, validators=[CatalogIdsValidator(field)], verbose_name=term.label
    )


class Activity(models.Model):
    """One logged piece of support: when, how long, who gave it, who was there, what was done, in which
    mode. The catalog terms are lists of catalog ids; every save through the platform adds an
    `ActivityRevision`."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="activities")
    date = models.DateField()
    minutes = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(24 * 60)])
    isps = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="activities", verbose_name="ISPs")
    recipients = models.ManyToManyField(Recipient, blank=True, related_name="activities")
    teams = models.ManyToManyField(Team, blank=True, related_name="activities", verbose_name="teams present")
    core_components = _terms_field("core_components")
    competencies = _terms_field("competencies")
    strategies = _terms_field("strategies")
    support_mode = models.CharField(max_length=20, choices=SupportMode.choices)
    note = models.TextField(blank=True, max_length=2000)
    created = models.DateTimeField(default=timezone.now, editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["engagement", "-date"], name="activity_engagement_date")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.engagement} ({self.minutes} min)"

    def snapshot(self) -> dict[str, Any]:
        """The activity as stored now, in plain data (pseudonyms and ids only), for its history."""
        return {
            "date": self.date.isoformat(),
            "minutes": self.minutes,
            "isps": sorted(user.get_username() for user in self.isps.all()),
            "recipients": sorted(recipient.pseudonym for recipient in self.recipients.all()),
            "teams": sorted(str(team) for team in self.teams.all()),
            "core_components": list(self.core_components),
            "competencies": list(self.competencies),
            "strategies": list(self.strategies),
            "support_mode": self.support_mode,
            "note": self.note,
        }

    def record_revision(self, user: Any) -> ActivityRevision:
        """Keep the activity as it is now as its next revision, saved by `user`."""
        number = self.revisions.count() + 1
        return ActivityRevision.objects.create(
            activity=self, number=number, saved_by=user, data=self.snapshot()
        )


class ActivityRevision(models.Model):
    """One saved version of an activity: revision 1 is the entry as first logged, each edit adds one."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    saved_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()

    class Meta:
        ordering = ["activity", "number"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "number"], name="activity_revision_unique")
        ]

    def __str__(self) -> str:
        return f"revision {self.number} of activity {self.activity_id}"
