"""Django for the platform's tests (tests/web, and the platform's page in tests/browser).

The settings module reads the environment (`moclab.web.settings`); this sets it before Django starts, for the
tests that need the platform only, so the rest of the suite never loads Django. The database is SQLite (an
in-memory test database) unless ``MOCLAB_TEST_DATABASE=postgres``: then it is the PostgreSQL server of
``MOCLAB_TEST_POSTGRES_URL`` (the test database is created beside its database). The PostgreSQL run is
started by tests/web/test_postgres.py, in a pytest of its own.
"""

from __future__ import annotations

import os

#: The PostgreSQL server `make test` provides (scripts/postgres.sh), read from this variable.
POSTGRES_URL_VAR = "MOCLAB_TEST_POSTGRES_URL"
#: Set to ``postgres`` to run the platform's tests on PostgreSQL.
DATABASE_SWITCH_VAR = "MOCLAB_TEST_DATABASE"

MISSING_POSTGRES = (
    f"{POSTGRES_URL_VAR} is not set, so the platform's tests cannot run on PostgreSQL: run them with "
    "`make test` (which starts the server), or start it with `bash scripts/postgres.sh` and set "
    f"{POSTGRES_URL_VAR}=postgres://moclab:moclab@127.0.0.1:54329/moclab"
)


def configure() -> None:
    """Set the platform's settings for the tests and set Django up (once per process)."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = "moclab.web.settings"
    os.environ["MOCLAB_SECRET_KEY"] = "tests-only-" + "k" * 50
    os.environ["MOCLAB_WEB_MODE"] = "demo"
    # the dashboards rebuild in the request, not in a thread that cannot see the test's transaction
    os.environ["MOCLAB_DASHBOARD_REFRESH"] = "inline"
    os.environ.pop("MOCLAB_WEB_FRAMEWORKS", None)
    if os.environ.get(DATABASE_SWITCH_VAR) == "postgres":
        url = os.environ.get(POSTGRES_URL_VAR)
        if not url:
            raise RuntimeError(MISSING_POSTGRES)
        os.environ["MOCLAB_DATABASE_URL"] = url
    else:
        os.environ["MOCLAB_DATABASE_URL"] = "sqlite:///:memory:"
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # A test database of this run's own: two runs at once (a developer's and `make test`) never meet.
        settings.DATABASES["default"]["TEST"] = {"NAME": f"test_moclab_{os.getpid()}"}
    django.setup()
