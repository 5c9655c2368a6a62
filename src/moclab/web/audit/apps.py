"""The audit app's configuration: connects the signals that write the audit log."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "moclab.web.audit"
    label = "audit"
    verbose_name = "Audit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from moclab.web.audit import signals

        signals.connect()
