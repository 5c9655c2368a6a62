from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "moclab.web.evidence"
    label = "evidence"
    verbose_name = "Evidence"
