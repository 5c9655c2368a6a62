"""Who sees the evidence pages: every URL of the evidence app, object by object, as every role of another
organisation (403 for a role without the action, 404 for the run: it is looked up among the member's own
organisation's) and of the same one (the page, download or redirect exactly when `PERMISSIONS` allows the
role "analyze", 403 otherwise), built from the URL patterns as in tests/web/test_surveys_permissions.py (a new
page fails here until `PAGES` says what it shows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from moclab.web.audit.models import Action, AuditEntry
from moclab.web.evidence import urls as evidence_urls
from moclab.web.evidence.models import EvidenceRun
from moclab.web.practice.access import PERMISSIONS

from .conftest import ROLES, World, assert_member_response, assert_sent_to_login
from .test_evidence import add_survey, finished_run


@dataclass(frozen=True)
class Page:
    """How a pattern is asked (`method`, with `data` from the world), which run it shows (None: the
    organisation's own, no object), and what an allowed member of the organisation gets."""

    method: str
    run: bool
    allowed: Callable[[Any], None]
    data: Callable[[World], dict[str, Any]] = lambda world: {}


def html_page(response: Any) -> None:
    assert_member_response(response, True, "page")


def download(content_type: str) -> Callable[[Any], None]:
    def check(response: Any) -> None:
        assert response.status_code == 200
        assert response["Content-Type"].startswith(content_type)
        assert response["Content-Disposition"].startswith("attachment;")

    return check


def redirect_to_run(response: Any) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith("/evidence/runs/")


def report_page(response: Any) -> None:
    assert response.status_code == 200 and b"the report of acme" in response.content


def run_form(world: World) -> dict[str, Any]:
    return {"template": "recipient-pathway", "survey": world.extra["survey"].pk, "n_boot": 100}


PAGES = {
    "run_list": Page("get", False, html_page),
    "run_start": Page("post", False, redirect_to_run, run_form),
    "run_detail": Page("get", True, html_page),
    "run_report": Page("get", True, report_page),
    "run_report_json": Page("get", True, download("application/json")),
    "run_snapshot": Page("post", True, download("application/zip")),
    "run_rerun": Page("post", True, redirect_to_run),
    "run_changes": Page("get", True, html_page),
    "study_download": Page("post", False, download("application/zip")),
}
PATTERNS = [pattern.name for pattern in evidence_urls.urlpatterns]


@pytest.fixture
def analysed(world: World) -> World:
    """acme with a survey and a finished run."""
    world.extra["survey"] = add_survey(world)
    world.extra["run"] = finished_run(world)
    return world


def url(world: World, name: str) -> str:
    kwargs = {"pk": world.extra["run"].pk} if PAGES[name].run else {}
    return reverse(f"evidence:{name}", kwargs=kwargs)


def action_of(name: str) -> str:
    return next(p for p in evidence_urls.urlpatterns if p.name == name).callback.moclab_action


def test_every_pattern_is_walked_and_guarded():
    assert sorted(PAGES) == sorted(PATTERNS)
    assert {action_of(name) for name in PATTERNS} == {"analyze"}
    assert PERMISSIONS["analyze"] == frozenset({"administrator", "researcher"})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PATTERNS)
def test_another_organisations_member_never_sees_a_run(
    analysed: World, other_world: World, name: str, role: str
):
    client = other_world.client(role)
    allowed_elsewhere = role in PERMISSIONS[action_of(name)]
    page = PAGES[name]
    runs_before = EvidenceRun.objects.count()
    for method in ("get", "post"):
        response = getattr(client, method)(
            url(analysed, name), page.data(analysed) if method == "post" else {}
        )
        assert b"acme" not in response.content, (name, role, method)
        if not allowed_elsewhere:
            assert response.status_code == 403, (name, role, method)
        elif method != page.method:
            assert response.status_code == 405, (name, role, method)
        elif page.run:
            assert response.status_code == 404, (name, role, method)
        else:
            # the organisation's own page: zenith has no survey, so no run starts and no study exports
            assert response.status_code in (200, 302, 400), (name, role, method)
    # nothing of acme's was started, downloaded or changed
    assert EvidenceRun.objects.count() == runs_before
    assert not EvidenceRun.objects.filter(organisation=other_world.organisation).exists()
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PATTERNS)
def test_a_member_gets_exactly_what_the_role_allows(analysed: World, name: str, role: str):
    page = PAGES[name]
    response = getattr(analysed.client(role), page.method)(url(analysed, name), page.data(analysed))
    if role in PERMISSIONS[action_of(name)]:
        page.allowed(response)
    else:
        assert_member_response(response, False, (name, role))


@pytest.mark.parametrize("name", PATTERNS)
def test_without_login_every_evidence_page_sends_to_the_login(analysed: World, name: str):
    assert_sent_to_login(url(analysed, name))
