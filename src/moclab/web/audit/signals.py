"""Write an `AuditEntry` for every create, change and delete of the practice app's records.

Django's model signals see every save and delete (views, the admin shell, the demo builder), so no view can
forget to log. The acting user comes from `moclab.web.audit.middleware` (none outside a request: the system).
`ActivityRevision` is not logged: it is the history of an activity, whose saves are logged already. Nor are a
survey's invitations and responses: they carry their own log (due, sent, opened, answered) and are written
by recipients and the mailing job, not by members.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_delete, post_save

from moclab.web.audit.middleware import current_user
from moclab.web.audit.models import Action, AuditEntry

#: The models whose saves and deletes are logged, as ``app_label.ModelName``.
AUDITED = (
    "practice.Organisation",
    "practice.Site",
    "practice.Team",
    "practice.Membership",
    "practice.Engagement",
    "practice.Recipient",
    "practice.RecipientContact",
    "practice.Activity",
    "surveys.Survey",
    "surveys.ConsentText",
    "surveys.SurveyWave",
)


def record(action: str, instance: Any, user: Any = None) -> AuditEntry:
    """Write one audit entry about `instance` (its model and id only); `user` defaults to the request's."""
    actor = user if user is not None else current_user()
    return AuditEntry.objects.create(
        user=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        model=instance._meta.label_lower,
        object_id=str(instance.pk),
    )


def _saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # fixtures loaded with loaddata are not actions of anyone
        record(Action.CREATE if created else Action.CHANGE, instance)


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    record(Action.DELETE, instance)


def connect() -> None:
    for label in AUDITED:
        model = apps.get_model(label)
        post_save.connect(_saved, sender=model, dispatch_uid=f"audit-save-{label}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"audit-delete-{label}")
