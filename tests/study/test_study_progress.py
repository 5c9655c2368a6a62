"""The progress bar appears only when the work takes longer than its delay, and vanishes afterwards."""

from __future__ import annotations

import io
import time

from rich.console import Console

from moclab.study.progress import DelayedProgress


def terminal() -> tuple[Console, io.StringIO]:
    output = io.StringIO()
    return Console(file=output, force_terminal=True, width=100), output


def test_quick_work_shows_nothing() -> None:
    console, output = terminal()
    with DelayedProgress("checking study", total=3, delay=5.0, console=console) as progress:
        progress.step("reading data/measures.csv")
        progress.step("checking data/measures.csv")
    assert progress.shown is False
    assert output.getvalue() == ""


def test_slow_work_shows_the_bar_with_the_current_step() -> None:
    console, output = terminal()
    with DelayedProgress("checking study", total=2, delay=0.05, console=console) as progress:
        progress.step("reading data/measures.csv")
        time.sleep(0.4)
        progress.step("checking data/measures.csv")
        time.sleep(0.3)
    assert progress.shown is True
    assert "checking study: reading data/measures.csv" in output.getvalue()


def test_disabled_progress_never_shows() -> None:
    console, output = terminal()
    with DelayedProgress("checking study", total=1, delay=0.0, enabled=False, console=console) as progress:
        progress.step("reading")
        time.sleep(0.1)
    assert progress.shown is False and output.getvalue() == ""
