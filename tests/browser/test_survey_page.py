"""A recipient completes a pulse survey in a real browser with the keyboard only, on a phone-sized
viewport (375 px): Tab to move, Space and the arrow keys to choose, Enter to send. The page is served by
pytest-django's `live_server`; the screenshot is the one docs/platform.md shows
(docs/images/platform-survey.png)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from tests.web.conftest import build_world


def focused(page: Any) -> dict[str, str]:
    return page.evaluate(
        "() => ({tag: document.activeElement.tagName, name: document.activeElement.name || '',"
        " value: document.activeElement.value || '', text: document.activeElement.textContent.trim()})"
    )


def tab_to(page: Any, want: dict[str, str], limit: int = 40) -> None:
    """Press Tab until the focused element matches `want` (fails after `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        current = focused(page)
        if all(current.get(key) == value for key, value in want.items()):
            return
    raise AssertionError(f"never reached {want} with Tab; last {focused(page)}")


@pytest.mark.django_db(transaction=True)
def test_a_recipient_answers_with_the_keyboard_only_on_a_phone(
    live_server: Any, open_url: Any, docs_image: Any
):
    from moclab.web.surveys.models import Invitation, Survey, SurveyResponse, SurveyWave

    world = build_world("Northside")
    survey = Survey.objects.create(
        organisation=world.organisation,
        title="How is the support going?",
        subject="the support we receive",
        instruments=["aim"],
        pathway_items=["recipient-pathway:trust"],
        every_weeks=4,
        start_date=datetime.date(2025, 1, 6),
    )
    survey.set_consent("Taking part is voluntary. Your answers are stored apart from your name.")
    opens = timezone.now() - datetime.timedelta(hours=2)
    wave = SurveyWave.objects.create(
        survey=survey, number=1, opens=opens, closes=opens + datetime.timedelta(days=14)
    )
    invitation = Invitation.objects.create(wave=wave, recipient=world.recipients[0], due=opens)

    loaded = open_url(f"{live_server.url}/s/{invitation.token}/", 375, 812)
    page = loaded.page
    assert page.locator("h1").inner_text() == "How is the support going?"
    assert loaded.horizontal_overflow() == 0
    tab_to(page, {"tag": "BUTTON", "text": "I agree, start the survey"})
    page.keyboard.press("Enter")
    page.wait_for_selector("form.survey-form")

    # every radio has a label, every group a legend
    radios = page.locator("input[type=radio]")
    assert radios.count() == 5 * 5
    for index in range(radios.count()):
        radio_id = radios.nth(index).get_attribute("id")
        assert page.locator(f"label[for='{radio_id}']").count() == 1
    assert page.locator("fieldset.question > legend").count() == 5

    # question 1: Tab into the group, Space picks the first option, two Right arrows move to "3"
    tab_to(page, {"name": "aim_1"})
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.is_checked("#item-aim_1-3")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    # questions 2-4: Tab to the next group, Space, then arrows up to the wanted value
    for key, steps in (("aim_2", 3), ("aim_3", 4), ("aim_4", 2)):
        page.keyboard.press("Tab")
        assert focused(page)["name"] == key
        page.keyboard.press("Space")
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "trust"
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("#item-trust-4")
    assert loaded.horizontal_overflow() == 0
    page.locator("fieldset.question").nth(4).scroll_into_view_if_needed()
    assert loaded.screenshot(docs_image("platform-survey.png")).stat().st_size > 10_000

    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Submit answers"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Thank you")
    assert loaded.horizontal_overflow() == 0
    assert loaded.console_errors == []  # a CSP violation would show here
    assert loaded.failed_requests == []
    response = SurveyResponse.objects.get(invitation=invitation)
    assert response.values == {"aim_1": 3, "aim_2": 4, "aim_3": 5, "aim_4": 3, "trust": 4}
    assert response.consent_version == 1 and response.submitted is not None
    assert Invitation.objects.get(pk=invitation.pk).answered == response.submitted
