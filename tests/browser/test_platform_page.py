"""The practice platform in a real browser: an ISP logs an activity on a phone-sized viewport (375 px).

The page is served by pytest-django's `live_server`; the screenshot of the filled form is the one
docs/platform.md shows (docs/images/platform-activity.png).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from tests.web.conftest import PASSWORD, build_world


@pytest.mark.django_db(transaction=True)
def test_an_isp_logs_an_activity_on_a_phone(live_server: Any, open_url: Any, settings: Any, docs_image: Any):
    from moclab.web.practice.models import Activity, SupportMode

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world("Northside")
    loaded = open_url(f"{live_server.url}/login/", 375, 812)
    page = loaded.page
    page.fill("#id_username", "Northside-isp")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/")
    assert loaded.horizontal_overflow() == 0

    page.click("a:has-text('Log activity')")
    page.wait_for_selector("form.activity-form")
    assert page.input_value("#id_date") == timezone.localdate().isoformat()
    assert page.is_checked(f"input[name='isps'][value='{world.users['isp'].pk}']")
    page.fill("#id_minutes", "40")
    page.check("input[name='support_mode'][value='co_creation']")
    page.check(f"input[name='teams'][value='{world.team.pk}']")
    page.click("summary:has-text('Recipients')")
    page.check(f"input[name='recipients'][value='{world.recipients[0].pk}']")
    page.click("summary:has-text('ISP competencies')")
    page.check("input[name='competencies'][value='isp-competencies:conducting-improvement-cycles']")
    page.check("input[name='competencies'][value='isp-competencies:facilitation']")
    page.fill("#id_note", "Coached the intake team through its first improvement cycle.")
    page.focus("#id_note")
    assert loaded.horizontal_overflow() == 0
    assert loaded.screenshot(docs_image("platform-activity.png"), full_page=True).stat().st_size > 10_000

    page.click("button:has-text('Save activity')")
    page.wait_for_selector("text=Logged 40 minutes on")
    assert loaded.horizontal_overflow() == 0
    assert loaded.console_errors == []  # a CSP violation would show here
    assert loaded.failed_requests == []
    activity = Activity.objects.for_engagement(world.engagement).first()
    assert activity.date == timezone.localdate() and activity.date > datetime.date(2025, 3, 4)
    assert activity.minutes == 40 and activity.support_mode == SupportMode.CO_CREATION
    assert activity.competencies == [
        "isp-competencies:facilitation",
        "isp-competencies:conducting-improvement-cycles",
    ]
    assert [r.pseudonym for r in activity.recipients.all()] == ["Northside-R1"]
    assert activity.note == "Coached the intake team through its first improvement cycle."
    assert activity.revisions.count() == 1
