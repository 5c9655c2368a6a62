"""`AuditEntry`: one create, change, delete or export, with who did it and when.

An entry names the model and the object's id, never its content: the log holds no names, notes or contact
details, so it can be kept and shown longer than the data it describes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    CREATE = "create", "created"
    CHANGE = "change", "changed"
    DELETE = "delete", "deleted"
    EXPORT = "export", "exported"


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def about(self, obj: models.Model) -> AuditEntryQuerySet:
        """The entries about one object, oldest first."""
        return self.filter(model=obj._meta.label_lower, object_id=str(obj.pk)).order_by("when", "id")


class AuditEntry(models.Model):
    """Who (a user, or none for the system: migrations, the demo builder) did what to which object, when."""

    when = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    model = models.CharField(max_length=100, help_text="app_label.model, e.g. practice.activity")
    object_id = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-when", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["model", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else "the system"
        return (
            f"{self.when:%Y-%m-%d %H:%M:%S} {who} {self.get_action_display()} {self.model} {self.object_id}"
        )
