"""Fixtures of the platform's tests: Django configured (tests/web/platform_env.py), a fast password hasher,
and organisations with a member of every role, sites, teams, recipients, an engagement and its activities."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.web.platform_env import configure

configure()

from django.contrib.auth import get_user_model  # noqa: E402  (Django is set up just above)
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from moclab.web.practice.models import (  # noqa: E402
    Activity,
    Engagement,
    Membership,
    Organisation,
    Recipient,
    RecipientContact,
    Role,
    Site,
    SupportMode,
    Team,
)

PASSWORD = "a-long-test-password"
ROLES = [role.value for role in Role]


def assert_member_response(response: Any, allowed: bool, where: object) -> None:
    """What a member of the page's own organisation gets: the HTML page when the role allows the action, the
    "Not allowed" page (403) when not."""
    if allowed:
        assert response.status_code == 200, where
        assert response["Content-Type"].startswith("text/html")
    else:
        assert response.status_code == 403, where
        assert b"Not allowed" in response.content


def assert_sent_to_login(target: str) -> None:
    """Without a login, `target` redirects to the login page, which comes back to it."""
    response = Client().get(target)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={target}"


@dataclass
class World:
    """One organisation with everything the pages show."""

    organisation: Organisation
    users: dict[str, Any]
    site: Site
    other_site: Site
    team: Team
    other_team: Team
    recipients: list[Recipient]
    engagement: Engagement
    activity: Activity
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        """A test client logged in as this organisation's member of `role`."""
        client = Client()
        client.force_login(self.users[role])
        return client


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build_world(name: str) -> World:
    """An organisation `name`: two sites with a team each, one member per role (`<name>-<role>`), recipients,
    an engagement with the first site whose ISP is the ISP member, and one logged activity."""
    User = get_user_model()
    organisation = Organisation.objects.create(name=name)
    site = Site.objects.create(organisation=organisation, name=f"{name} north")
    other_site = Site.objects.create(organisation=organisation, name=f"{name} south")
    team = Team.objects.create(site=site, name="Intake")
    other_team = Team.objects.create(site=other_site, name="Outreach")
    users = {}
    for role in ROLES:
        user = User.objects.create_user(username=f"{name}-{role}", password=PASSWORD)
        Membership.objects.create(
            user=user, organisation=organisation, role=role, site=site if role == Role.SITE_LEAD else None
        )
        users[role] = user
    recipients = [
        Recipient.objects.create(organisation=organisation, pseudonym=f"{name}-R{i}", site=site, team=team)
        for i in range(1, 4)
    ]
    recipients.append(
        Recipient.objects.create(organisation=organisation, pseudonym=f"{name}-R9", site=other_site)
    )
    RecipientContact.objects.create(recipient=recipients[0], name="Pat Example", email="pat@example.org")
    engagement = Engagement.objects.create(
        organisation=organisation, title=f"{name} support", site=site, start=datetime.date(2025, 1, 1)
    )
    engagement.isps.set([users[Role.ISP]])
    activity = Activity.objects.create(
        engagement=engagement,
        date=datetime.date(2025, 3, 4),
        minutes=45,
        competencies=["isp-competencies:facilitation"],
        strategies=["eric:facilitation"],
        support_mode=SupportMode.PUSH_PULL,
        note="kick-off meeting",
    )
    activity.isps.set([users[Role.ISP]])
    activity.teams.set([team])
    activity.recipients.set(recipients[:2])
    activity.record_revision(users[Role.ISP])
    return World(organisation, users, site, other_site, team, other_team, recipients, engagement, activity)


@pytest.fixture
def world(db: None) -> World:
    return build_world("acme")


@pytest.fixture
def other_world(db: None) -> World:
    return build_world("zenith")


@pytest.fixture
def components_file(tmp_path: Path, settings: Any) -> Callable[[], Path]:
    """A framework file naming ten core practice components (test names, not the paper's), made the
    platform's catalog."""
    lines = [
        f"  - {{id: cpc-{i:02d}, name: Test component {i}, kind: core practice component, number: {i}}}"
        for i in range(1, 11)
    ]
    path = tmp_path / "eis-components.yaml"
    path.write_text(
        "extends: eis\nsource: test names\nverification: unverified\nentries:\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    settings.MOCLAB_FRAMEWORK_FILES = [str(path)]
    return path


#: Made in a process of its own: a migrated SQLite platform database holding `build_world("acme")`.
PREPARE_SQLITE = """
import sys
from moclab.web import server
server.configure(server.sqlite_url(__import__("pathlib").Path(sys.argv[1])), demo=True)
server.migrate()
from tests.web.conftest import build_world
build_world("acme")
"""


@pytest.fixture(scope="session")
def _acme_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite platform database of `build_world("acme")`, made once per run (migrating and building it
    in a new process takes seconds); the tests change copies of it."""
    folder = tmp_path_factory.mktemp("acme-sqlite")
    path = folder / "platform.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", PREPARE_SQLITE, str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def prepared_sqlite(_acme_sqlite_file: Path, tmp_path: Path) -> Path:
    """A SQLite platform database file holding `build_world("acme")`, in the test's tmp_path, its own to
    change (for the commands that run on a database file: `moclab serve export`, backup and restore)."""
    return Path(shutil.copyfile(_acme_sqlite_file, tmp_path / "platform.sqlite3"))
