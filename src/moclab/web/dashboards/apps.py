"""Dashboards of the practice: support dose, support modes and the recipients' pathway over time, every
aggregate of recipients behind small-cell suppression (`moclab.disclosure`)."""

from typing import Any

from django.apps import AppConfig
from django.core import checks


class DashboardsConfig(AppConfig):
    name = "moclab.web.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"

    def ready(self) -> None:
        checks.register(check_suppression_k)


def check_suppression_k(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``MOCLAB_SUPPRESSION_K`` must be a whole number of at least 3 (`moclab.disclosure.check_k`): said by
    ``django check`` and at start-up rather than on the first dashboard."""
    from moclab.errors import UsageError
    from moclab.web.dashboards.cells import suppression_k

    try:
        suppression_k()
    except UsageError as error:
        return [
            checks.Error(
                str(error),
                hint="set MOCLAB_SUPPRESSION_K to 5 or another whole number >= 3",
                id="moclab.dashboards.E001",
            )
        ]
    return []
