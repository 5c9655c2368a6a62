"""The surveys app's configuration (its actions are in the platform's one permission table,
`moclab.web.practice.access.PERMISSIONS`: ``manage_surveys``)."""

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "moclab.web.surveys"
    label = "surveys"
    verbose_name = "Pulse surveys"
    default_auto_field = "django.db.models.BigAutoField"
