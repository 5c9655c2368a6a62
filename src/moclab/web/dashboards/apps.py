from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "moclab.web.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"
