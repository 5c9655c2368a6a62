"""After new data the dashboards answer with the previous state while a thread rebuilds (the default,
``MOCLAB_DASHBOARD_REFRESH = "background"``), or wait for the rebuild (``"inline"``, what the other tests run
with). The thread is replaced here by one the test runs itself: a real thread would open its own database
connection, which cannot see the test's transaction."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

import pytest

from moclab.web.dashboards import cells, queries
from moclab.web.practice.models import Activity, SupportMode

from .conftest import World


class Deferred:
    """Stands in for `threading.Thread`: remembers what would run, and runs it when the test says."""

    started: ClassVar[list[Deferred]] = []

    def __init__(self, *, target: Any, args: tuple[Any, ...], daemon: bool, name: str) -> None:
        self.target, self.args = target, args

    def start(self) -> None:
        Deferred.started.append(self)

    def run(self) -> None:
        self.target(*self.args)


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch, settings: Any) -> type[Deferred]:
    queries.forget()
    Deferred.started = []
    settings.MOCLAB_DASHBOARD_REFRESH = "background"
    monkeypatch.setattr(queries.threading, "Thread", Deferred)
    monkeypatch.setattr(queries.connections, "close_all", lambda: None)  # the test's own connection stays
    yield Deferred
    queries.forget()


def log_one_more(world: World) -> None:
    Activity.objects.create(
        engagement=world.engagement, date=datetime.date(2025, 3, 3), minutes=45, support_mode=SupportMode.PUSH
    )


def test_new_data_shows_the_previous_state_until_the_thread_has_rebuilt(world: World, deferred):
    first_data, first_cells = cells.protected(world.organisation.pk)
    assert deferred.started == []  # the first state is built at once
    assert cells.protected(world.organisation.pk)[0] is first_data  # nothing new: the same state

    log_one_more(world)
    data, protected = cells.protected(world.organisation.pk)
    assert data is first_data and protected is first_cells  # at once, the whole previous state
    assert len(deferred.started) == 1
    cells.protected(world.organisation.pk)
    assert len(deferred.started) == 1  # one rebuild at a time

    deferred.started[0].run()
    newer, _ = cells.protected(world.organisation.pk)
    assert newer.state != first_data.state and newer.state == queries.data_state(world.organisation.pk)
    assert newer.log["minutes"].sum() == first_data.log["minutes"].sum() + 45


def test_inline_refresh_waits_for_the_new_state(world: World, deferred, settings: Any):
    settings.MOCLAB_DASHBOARD_REFRESH = "inline"
    first, _ = cells.protected(world.organisation.pk)
    log_one_more(world)
    newer, _ = cells.protected(world.organisation.pk)
    assert deferred.started == [] and newer.log["minutes"].sum() == first.log["minutes"].sum() + 45
