"""Pages in a real browser: Playwright's Python package driving Debian's Chromium (`executable_path`; no
browser download). `make test` installs both (the `dev` extra and scripts/install-system-deps.sh).

The `open_page` fixture loads an HTML file at a viewport width and returns a `LoadedPage`: the Playwright
page, the console errors and failed requests it produced, and how far the page overflows horizontally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from moclab.report.browser import find_chromium

#: The widths every page is checked at: a phone, a small laptop, a desktop.
WIDTHS = (375, 1024, 1920)

_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LoadedPage:
    """A page loaded at one viewport width, with what went wrong while it loaded."""

    page: Page
    width: int
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def horizontal_overflow(self) -> int:
        """CSS pixels by which the document is wider than the viewport (0 when it fits)."""
        return int(
            self.page.evaluate(
                "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
                " - document.documentElement.clientWidth"
            )
        )

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=find_chromium(), headless=True, args=_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[[Path, int], LoadedPage]]:
    contexts = []

    def load(path: Path, width: int, height: int = 900) -> LoadedPage:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        loaded = LoadedPage(page, width)
        page.on(
            "console",
            lambda message: loaded.console_errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: loaded.console_errors.append(str(error)))
        page.on("requestfailed", lambda request: loaded.failed_requests.append(request.url))
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        return loaded

    yield load
    for context in contexts:
        context.close()
