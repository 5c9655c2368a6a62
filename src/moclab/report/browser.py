"""Render a report page in headless Chromium: a PNG screenshot (for the README) or the DOM Chromium built.

Chromium is a system package (``scripts/install-system-deps.sh`` installs Debian's ``chromium``); moclab only
starts it, offline-minded: no background networking, no component updates, no sync, a throwaway profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from moclab.errors import MoclabError

__all__ = ["CHROMIUM_NAMES", "chromium_command", "dump_dom", "find_chromium", "screenshot"]

#: Executable names of Chromium (Debian's first).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str:
    """The path of a Chromium executable.

    Raises
    ------
    MoclabError
        When none is installed.
    """
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise MoclabError(
        "headless Chromium is needed to render the report to an image, and none is installed",
        hint="run `make setup` (or `bash scripts/install-system-deps.sh`), which installs Debian's chromium",
    )


def chromium_command(profile: Path, *arguments: str) -> list[str]:
    """The command line of a headless, offline-minded Chromium with a throwaway `profile` folder."""
    return [
        find_chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *arguments,
    ]


def _run(arguments: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(arguments, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        raise MoclabError(f"Chromium did not finish within {timeout:g} s") from None
    except subprocess.CalledProcessError as error:
        raise MoclabError(
            f"Chromium failed (exit {error.returncode}): {error.stderr.strip()[-500:]}"
        ) from None


def screenshot(
    page: str | Path,
    image: str | Path,
    *,
    width: int = 1400,
    height: int = 2000,
    timeout: float = 120,
) -> Path:
    """Render the top of `page` (an HTML file) to the PNG `image` at `width` × `height` CSS pixels; return
    the image."""
    page, image = Path(page).resolve(), Path(image).resolve()
    if not page.is_file():
        raise MoclabError(f"{page}: no such page")
    with tempfile.TemporaryDirectory(prefix="moclab-chromium-") as profile:
        arguments = [f"--window-size={width},{height}", f"--screenshot={image}", page.as_uri()]
        _run(chromium_command(Path(profile), *arguments), timeout)
    if not image.is_file():
        raise MoclabError(f"Chromium wrote no screenshot to {image}")
    return image


def dump_dom(page: str | Path, *, timeout: float = 120) -> str:
    """The DOM Chromium built from `page` (an HTML file), serialized as HTML."""
    page = Path(page).resolve()
    with tempfile.TemporaryDirectory(prefix="moclab-chromium-") as profile:
        return _run(chromium_command(Path(profile), "--dump-dom", page.as_uri()), timeout).stdout
