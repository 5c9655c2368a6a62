"""From the demo to a finished evidence report in a real browser (Chromium), without leaving the app: the
researcher logs in, follows "Evidence" to the demo's run and reads its report in the sandboxed frame (its
own stylesheet applied, no policy violation), at a phone's width and a laptop's; a rerun's page refreshes
itself without a script until the run is done, then says what changed. The screenshot is the one
docs/platform.md shows (docs/images/platform-evidence.png)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest


def log_in(open_url: Any, base: str, width: int) -> Any:
    from moclab.web.demo import DEMO_PASSWORD

    loaded = open_url(f"{base}/login/", width, 900)
    loaded.page.fill("#id_username", "researcher")
    loaded.page.fill("#id_password", DEMO_PASSWORD)
    loaded.page.click("button:has-text('Log in')")
    loaded.page.wait_for_url(f"{base}/")
    return loaded


@pytest.mark.django_db(transaction=True)
def test_a_researcher_reads_the_demo_s_evidence_report_in_the_app(
    live_server: Any, open_url: Any, docs_image: Any
):
    from moclab.web.demo import build_demo
    from moclab.web.evidence.models import EvidenceRun, RunStatus
    from moclab.web.evidence.tasks import execute_run

    summary = build_demo(today=datetime.date(2026, 12, 7))
    assert summary.evidence_status == "finished" and summary.evidence_pathways == 12
    run = EvidenceRun.objects.get()

    for width in (375, 1024):
        loaded = log_in(open_url, live_server.url, width)
        page = loaded.page
        page.click("nav >> a:has-text('Evidence')")
        page.wait_for_selector("h1:has-text('Evidence')")
        page.click(f"a:has-text('Run {run.pk}')")
        page.wait_for_selector(f"h1:has-text('Evidence run {run.pk}')")
        assert "12 pathways judged" in page.inner_text("main")
        frame = page.frame_locator("iframe[title^='Evidence report']")
        heading = frame.locator("h1")
        heading.wait_for()
        assert heading.inner_text() == "Demo implementation support team (synthetic): engagement portfolio"
        assert "Synthetic data" in frame.locator("body").inner_text()
        # the report's own stylesheet applies inside the frame (its header is styled, not the browser's
        # default serif page), and nothing was refused by either page's policy
        font = frame.locator("body").evaluate("element => getComputedStyle(element).fontFamily")
        assert "serif" not in font.replace("sans-serif", "")
        assert loaded.horizontal_overflow() == 0, width
        assert loaded.console_errors == [], loaded.console_errors
        assert loaded.failed_requests == []
        if width == 1024:
            assert loaded.screenshot(docs_image("platform-evidence.png")).stat().st_size > 10_000

    # a rerun, from the keyboard: queued until a worker runs it (here the test does), its page refreshing
    # itself meanwhile
    page.focus("button:has-text('Rerun on today')")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=waiting for the worker")
    rerun = EvidenceRun.objects.exclude(pk=run.pk).get()
    assert page.locator("meta[http-equiv='refresh']").count() == 1
    assert execute_run(rerun.pk).status == RunStatus.FINISHED
    page.wait_for_selector("h2:has-text('What changed')", timeout=30_000)
    assert f"Since run {run.pk}" in " ".join(page.inner_text("main").split())
    assert "on the same data" in page.inner_text("main")
    assert "no verdict, conclusion or n changed" in page.inner_text("main")
    assert page.locator("meta[http-equiv='refresh']").count() == 0
    assert loaded.console_errors == []
