"""The dashboards in a real browser (Chromium) on a phone (375 px) and a desktop (1280 px): every dashboard of
the demo organisation loads without a console error (a CSP violation would be one) or a failed request, every
chart image is drawn, nothing overflows sideways; and a small site's cell reads "suppressed (fewer than 5)" in
the table and is left out of the chart. The pages are served by pytest-django's `live_server`; two of the
screenshots are the ones docs/platform.md shows (docs/images/dashboards-support.png at 1280 px and
docs/images/dashboards-pathway.png at 375 px), the others go to the test's temporary folder."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

DOCUMENTED = {("support", 1280): "dashboards-support.png", ("pathway", 375): "dashboards-pathway.png"}
TODAY = datetime.date(2026, 12, 7)


def log_in(open_url: Any, base: str, username: str, width: int) -> Any:
    loaded = open_url(f"{base}/login/", width, 900)
    page = loaded.page
    page.fill("#id_username", username)
    page.fill("#id_password", "moclab-demo")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{base}/")
    return loaded


def check_page(loaded: Any, address: str) -> None:
    page = loaded.page
    page.goto(address, wait_until="load")
    assert page.locator("h1").count() == 1
    images = page.locator(".chart img")
    assert images.count() >= 1, address
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        image.evaluate("(img) => img.decode()")
        assert image.evaluate("(img) => img.complete && img.naturalWidth > 0"), (address, index)
        assert image.get_attribute("alt")
    assert loaded.horizontal_overflow() == 0, address
    # Every request of this page settles before the next page is asked for: a request still in flight at
    # the next navigation is aborted by the browser, a failure of the test's timing, not of the page
    # (seen with two test workers sharing the cores).
    page.wait_for_load_state("networkidle")
    assert loaded.console_errors == [], address
    assert loaded.failed_requests == [], address


@pytest.fixture
def demo(transactional_db: None, settings: Any) -> Any:
    """The demo organisation (without its evidence run, which no dashboard reads), and a small seventh site
    whose two recipients answered the first wave."""
    from moclab.web.dashboards import queries
    from moclab.web.demo import build_demo
    from moclab.web.practice.models import Organisation, Recipient, Site
    from moclab.web.surveys.models import Invitation, SurveyResponse, SurveyWave

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    queries.forget()
    summary = build_demo(today=TODAY, evidence=False)
    organisation = Organisation.objects.get(name=summary.organisation)
    small = Site.objects.create(organisation=organisation, name="Site S07")
    wave = SurveyWave.objects.filter(survey__organisation=organisation, number=1).get()
    for number in (1, 2):
        recipient = Recipient.objects.create(organisation=organisation, pseudonym=f"S07-{number}", site=small)
        invitation = Invitation.objects.create(
            wave=wave, recipient=recipient, due=wave.opens, answered=wave.opens
        )
        SurveyResponse.objects.create(
            invitation=invitation,
            consent_version=1,
            consented=wave.opens,
            values={"trust": 5, "knowledge": 5},
            submitted=wave.opens,
        )
    return organisation


@pytest.mark.parametrize("width", [375, 1280])
def test_every_dashboard_at_phone_and_desktop_width(
    demo: Any, live_server: Any, open_url: Any, width: int, tmp_path: Path, docs_image: Any
):
    from moclab.web.practice.models import Engagement

    base = live_server.url
    engagement = Engagement.objects.filter(organisation=demo).order_by("title").first()
    pages = {
        "index": ("admin", "/dashboards/"),
        "support": ("admin", "/dashboards/support/"),
        "engagement": ("admin", f"/dashboards/engagements/{engagement.pk}/"),
        "pathway": ("lead", "/dashboards/pathway/"),
        "pathway-by-site": ("researcher", "/dashboards/pathway/?wave=1"),
        "practice": ("isp1", "/dashboards/practice/"),
    }
    sessions: dict[str, Any] = {}
    for name, (username, address) in pages.items():
        if username not in sessions:
            sessions[username] = log_in(open_url, base, username, width)
        loaded = sessions[username]
        if name == "index":
            loaded.page.goto(f"{base}{address}", wait_until="load")
            assert loaded.page.locator("nav[aria-label=Main] a:has-text('Dashboards')").count() == 1
            assert loaded.horizontal_overflow() == 0 and loaded.console_errors == []
        else:
            check_page(loaded, f"{base}{address}")
        target = (
            docs_image(DOCUMENTED[(name, width)]) if (name, width) in DOCUMENTED else tmp_path / f"{name}.png"
        )
        loaded.screenshot(target, full_page=True)
        assert target.stat().st_size > 10_000


def test_a_small_sites_cell_reads_suppressed_and_is_not_drawn(
    demo: Any, live_server: Any, open_url: Any, tmp_path: Path
):
    base = live_server.url
    loaded = log_in(open_url, base, "researcher", 1280)
    check_page(loaded, f"{base}/dashboards/pathway/?wave=1")
    page = loaded.page
    table = page.locator("table:has(caption:has-text('by site'))")
    small = table.locator("tr:has(th:has-text('Site S07'))")
    hidden = "suppressed (fewer than 5)"
    # answers, affective response (trust), acceptability (not asked), knowledge, sustained (not asked)
    assert small.locator("td").all_inner_texts() == [hidden, hidden, "–", hidden, "–"]
    # the other sites: some show their number of answers (complementary suppression may hide one or two)
    rows = table.locator("tbody tr")
    shown = {}
    for index in range(rows.count()):
        site = rows.nth(index).locator("th").inner_text()
        answers = rows.nth(index).locator("td").first.inner_text()
        if site != "Site S07" and answers.isdigit():
            shown[site] = int(answers)
    assert shown and min(shown.values()) >= 5
    # the chart beside it (the SVG the page shows) has a row for each site it can show, none for Site S07
    chart = page.locator("#section-groups ~ figure img").get_attribute("src")
    drawn = page.request.get(f"{base}{chart}").text()
    assert "Site S07" not in drawn and any(site in drawn for site in shown)
    small.scroll_into_view_if_needed()
    loaded.screenshot(tmp_path / "suppressed.png")
