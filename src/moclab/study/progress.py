"""A progress bar that shows itself only when the work is slow.

Loading and checking an ordinary study takes a fraction of a second, and a bar flashing on screen would be
noise; a million-row table takes longer, and then the user should see that something is happening. rich's
`Progress` has no delayed start, so a timer starts it after `delay` seconds if the work is still running. The
bar is transient (it disappears when done) and written to stderr, so it never mixes with a command's output.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class DelayedProgress:
    """Context manager: a step-counting progress bar that appears after `delay` seconds, if ever.

    Parameters
    ----------
    description
        What the whole job is ("checking study").
    total
        The number of steps.
    delay
        Seconds of work before the bar is shown.
    enabled
        False turns the bar off entirely (library use, tests, `--quiet`).
    console
        Where to draw; default a console on stderr.

    Examples
    --------
    >>> with DelayedProgress("checking", total=2) as progress:
    ...     progress.step("reading data/measures.csv")
    ...     progress.step("checking data/measures.csv")
    >>> progress.shown
    False
    """

    def __init__(
        self,
        description: str,
        total: int,
        *,
        delay: float = 1.0,
        enabled: bool = True,
        console: Console | None = None,
    ) -> None:
        self.description = description
        self.total = total
        self.delay = delay
        self.enabled = enabled
        self.shown = False
        self._lock = threading.Lock()
        self._finished = False
        self._timer: threading.Timer | None = None
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task(description, total=total)
        self._steps = 0

    def __enter__(self) -> DelayedProgress:
        if self.enabled:
            self._timer = threading.Timer(self.delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _show(self) -> None:
        with self._lock:
            if not self._finished:
                self._progress.start()
                self.shown = True

    def step(self, label: str) -> None:
        """Mark the previous step done and show what is being done now."""
        advance = 1 if self._steps else 0
        self._steps += 1
        self._progress.update(self._task, advance=advance, description=f"{self.description}: {label}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._finished = True
            if self.shown:
                self._progress.update(self._task, completed=self.total)
                self._progress.stop()
