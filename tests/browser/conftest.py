"""Pages in a real browser: Playwright's Python package driving Debian's Chromium (`executable_path`; no
browser download). `make test` installs both (the `dev` extra and scripts/install-system-deps.sh).

The `open_page` fixture loads an HTML file at a viewport width and returns a `LoadedPage`: the Playwright
page, the console errors and failed requests it produced, and how far the page overflows horizontally;
`open_url` does the same for an address (the practice platform, served by pytest-django's `live_server`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from moclab.report.browser import find_chromium
from tests.web.platform_env import configure as configure_platform

# The practice platform's page (test_platform_page.py) runs Django in this process; configured before the
# tests start, like tests/web. Playwright's sync API keeps an event loop in the main thread, and Django
# refuses database calls while one runs unless told they are safe here: the test's own calls are
# synchronous, and the live server answers from a thread of its own.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
configure_platform()

#: The widths every page is checked at: a phone, a small laptop, a desktop.
WIDTHS = (375, 1024, 1920)

#: Set (to anything) to write the screenshots docs/ shows into docs/images; without it they go to the test's
#: temporary folder, so that a test run leaves the working tree as it found it.
DOCS_SCREENSHOTS_VAR = "MOCLAB_DOCS_SCREENSHOTS"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

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


@pytest.fixture
def docs_image(tmp_path: Path) -> Callable[[str], Path]:
    """``docs_image(name)``: where to save the screenshot docs/images/<name> (see `DOCS_SCREENSHOTS_VAR`)."""

    def where(name: str) -> Path:
        if os.environ.get(DOCS_SCREENSHOTS_VAR):
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            return DOCS_IMAGES / name
        return tmp_path / name

    return where


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=find_chromium(), headless=True, args=_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[[Path, int], LoadedPage]]:
    with _loader(browser) as load:
        yield lambda path, width, height=900: load(Path(path).resolve().as_uri(), width, height)


@pytest.fixture
def open_url(browser: Browser) -> Iterator[Callable[[str, int], LoadedPage]]:
    with _loader(browser) as load:
        yield load


@contextmanager
def _loader(browser: Browser) -> Iterator[Callable[[str, int, int], LoadedPage]]:
    contexts = []

    def load(url: str, width: int, height: int = 900) -> LoadedPage:
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
        page.goto(url, wait_until="load")
        return loaded

    try:
        yield load
    finally:
        for context in contexts:
            context.close()
