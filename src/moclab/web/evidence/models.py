"""`EvidenceRun`: one run of `moclab analyze` on an organisation's portfolio, kept with what it came from.

A run records who started it and when, the settings it ran with (the template, the survey, the resamples
and the seed), its progress while the background worker runs it (`moclab.web.evidence.tasks`), and when it
is done the data snapshot it analysed (the exported study folder as a zip, with its SHA-256), the report's
HTML page and report.json, and a compact scorecard (per pathway: the conclusion, n, each criterion's
verdict) that the pages list and compare. Everything is in the database, so a backup holds the runs with
their data (docs/decisions/0006-evidence-runs.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from moclab.web.practice.models import Membership, Organisation


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class EvidenceRunQuerySet(models.QuerySet["EvidenceRun"]):
    def visible_to(self, membership: Membership) -> EvidenceRunQuerySet:
        """The runs of `membership`'s organisation (the role is checked by `member_view`)."""
        return self.filter(organisation=membership.organisation_id)

    def listed(self) -> EvidenceRunQuerySet:
        """Without the large fields (snapshot, report), for lists."""
        return self.defer("snapshot", "report_html", "report_json")


class EvidenceRun(models.Model):
    """One evidence run: the settings, the progress, the data snapshot and the report."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="evidence_runs")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.FloatField(default=0.0, help_text="The share of the work done, 0 to 1.")
    progress_text = models.CharField(max_length=300, blank=True)
    settings = models.JSONField(
        default=dict, help_text="template, survey (id and title), n_boot, seed: what the run was asked."
    )
    snapshot = models.BinaryField(
        null=True, blank=True, editable=False, help_text="The study folder, zipped."
    )
    snapshot_sha256 = models.CharField(max_length=64, blank=True)
    snapshot_counts = models.JSONField(default=dict, blank=True)
    report_html = models.TextField(blank=True)
    report_json = models.TextField(blank=True)
    scorecard = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    objects = EvidenceRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["organisation", "-created"], name="evidence_run_org_created")]

    def __str__(self) -> str:
        return f"evidence run {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        """Queued or running: its page refreshes until it is done."""
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def template(self) -> str:
        return str(self.settings.get("template", ""))

    def previous(self) -> EvidenceRun | None:
        """The finished run of the same organisation and template made before this one (what a rerun is
        compared with), or None."""
        return (
            EvidenceRun.objects.listed()
            .filter(
                organisation=self.organisation_id,
                status=RunStatus.FINISHED,
                settings__template=self.template,
                created__lt=self.created,
            )
            .order_by("-created", "-id")
            .first()
        )

    def report_progress(self, fraction: float, text: str) -> None:
        """Store the progress (a conditional update of two fields: it never overwrites the rest)."""
        fraction = min(1.0, max(0.0, fraction))
        EvidenceRun.objects.filter(pk=self.pk).update(progress=fraction, progress_text=text[:300])
        self.progress, self.progress_text = fraction, text[:300]
