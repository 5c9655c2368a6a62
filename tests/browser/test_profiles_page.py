"""The episode profiles page (`moclab qual profiles`) in a real browser, at a phone, laptop and desktop width.

The page is the bundled example project's (12 synthetic interviews, two coders), with the engagement
breakdown; screenshots of every width land in the test's tmp_path (docs/images/profiles-page.png is the
1024 px one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moclab.qual import example_project_path, read_project
from moclab.qual.profiles import episode_profiles

from .conftest import WIDTHS

HEADERS = [
    "Stage",
    "Interviews",
    "Passages",
    "engagement: high",
    "engagement: limited",
    "Codes",
    "Mentioned by",
]


@pytest.fixture(scope="module")
def profiles_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    profiles = episode_profiles(read_project(example_project_path()))
    folder = tmp_path_factory.mktemp("profiles")
    profiles.write(folder, "engagement")
    return folder / "profiles.html"


def _box(page, selector: str) -> dict[str, float]:
    return page.eval_on_selector(
        selector,
        "element => { const r = element.getBoundingClientRect(); return {left: r.left, right: r.right}; }",
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_profiles_page_fits_every_width(open_page, profiles_page, tmp_path, width):
    loaded = open_page(profiles_page, width)
    loaded.screenshot(tmp_path / f"profiles-{width}.png")
    assert loaded.horizontal_overflow() == 0
    assert loaded.console_errors == []
    assert loaded.failed_requests == []
    page = loaded.page
    body, table = _box(page, "body"), _box(page, "table.summary")
    # the "All interviews" table stays inside the column of text
    assert body["left"] - 0.5 <= table["left"] and table["right"] <= body["right"] + 0.5
    headers = page.eval_on_selector_all("table.summary thead th", "cells => cells.map(c => c.textContent)")
    assert headers == HEADERS
    if width < 640:  # on a phone each stage is a card, its values labelled
        assert not page.is_visible("table.summary thead")
        label = page.eval_on_selector(
            "table.summary td.codes", "cell => getComputedStyle(cell, '::before').content"
        )
        assert label == '"Codes: "'
    else:
        assert page.is_visible("table.summary thead")


def test_a_passage_both_coders_coded_is_shown_once_naming_both(open_page, profiles_page):
    page = open_page(profiles_page, 1024).page
    passages = page.eval_on_selector_all("blockquote", "quotes => quotes.map(q => q.textContent.trim())")
    assert len(passages) == len(set(passages)) == 123  # 191 codings, 68 of them by both coders alike
    both = [p for p in passages if p.endswith("coded by Coder A and Coder B")]
    alone = [p for p in passages if p.endswith(("coded by Coder A", "coded by Coder B"))]
    assert (len(both), len(alone)) == (68, 55)
