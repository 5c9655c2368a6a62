"""The timing protocol every benchmark script uses, the same for every contender.

A contender is one way of doing the whole job (moclab, a rival library, a bare-NumPy floor), wrapped as a
zero-argument callable built after every import it needs, so no timing includes an import. `measure` then

1. calls every contender ``warmups`` times without timing it (caches, lazily built code, worker pools);
2. runs ``repeats`` rounds; in each round every contender runs once, in the same order, so a change of load
   on a shared machine hits every contender alike;

and reports, per contender, the median of its ``repeats`` wall-clock times (the minimum beside it). Every
contender of a comparison is given the same work (the same data, the same number of resamples or draws, the
same seed); nothing is scaled from a partial run. A ratio compares two contenders' medians and is printed as
measured.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Contender", "Timing", "environment", "measure", "print_how_called", "print_table", "protocol"]


@dataclass(frozen=True)
class Contender:
    """One way of doing the benchmark's job.

    Attributes
    ----------
    name : str
        Row label of the table (unique within its group).
    call : callable
        Does the whole job once; every import it needs is done before it is built.
    how : str
        How the contender is called (the function and its arguments), printed under the table.
    interval : str
        The interval method it computes ("percentile", "BCa", ...), or "" where that does not apply.
    reference : str
        Name of the contender its ratio is taken against ("" for none), one that does the same work.
    group : str
        What the comparison is about (e.g. "n = 500"); ratios are only taken within a group.
    """

    name: str
    call: Callable[[], object]
    how: str = ""
    interval: str = ""
    reference: str = ""
    group: str = ""


@dataclass(frozen=True)
class Timing:
    """The wall-clock times of one contender's timed repeats."""

    contender: Contender
    seconds: tuple[float, ...] = field(default_factory=tuple)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def minimum(self) -> float:
        return min(self.seconds)


def protocol(repeats: int, warmups: int = 1) -> str:
    """One sentence describing the protocol, printed above every table."""
    return (
        f"protocol: imports outside the timing; {warmups} untimed warm-up call(s) of every contender, then "
        f"{repeats} round(s), each contender once per round in the same order; median (and minimum) "
        "wall-clock seconds of the timed rounds; ratio = median / the reference's median, as measured"
    )


def environment() -> str:
    """Python, NumPy and SciPy versions, the machine and its load when the benchmark started."""
    import numpy
    import scipy

    try:
        load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = ""
    return (
        f"python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}; "
        f"{platform.machine()}, {os.cpu_count()} cores{load}"
    )


def measure(contenders: Sequence[Contender], repeats: int, warmups: int = 1) -> list[Timing]:
    """Warm every contender up, then time ``repeats`` round-robin rounds (see the module docstring)."""
    if repeats < 1 or warmups < 0:
        raise ValueError(f"repeats must be >= 1 and warmups >= 0, got {repeats} and {warmups}")
    keys = [(c.group, c.name) for c in contenders]
    if len(set(keys)) != len(keys):
        raise ValueError(f"contender names must be unique within a group: {keys}")
    for _ in range(warmups):
        for contender in contenders:
            contender.call()
    seconds: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    for _ in range(repeats):
        for contender in contenders:
            start = time.perf_counter()
            contender.call()
            seconds[contender.group, contender.name].append(time.perf_counter() - start)
    return [Timing(c, tuple(seconds[c.group, c.name])) for c in contenders]


def print_table(timings: Sequence[Timing], title: str = "") -> None:
    """Seconds (median, minimum) and the ratio to each contender's reference, grouped as given; columns that
    are empty in every row (no interval method, no reference) are left out."""
    medians = {(t.contender.group, t.contender.name): t.median for t in timings}
    rows = []
    for timing in timings:
        c = timing.contender
        reference = medians.get((c.group, c.reference)) if c.reference else None
        ratio = f"{timing.median / reference:.2f}" if reference else ""
        rows.append(
            (c.group, c.name, c.interval, f"{timing.median:.3f}", f"{timing.minimum:.3f}", ratio, c.reference)
        )
    header = ("", "contender", "interval", "median s", "min s", "ratio", "ratio to")
    shown = [i for i in range(len(header)) if i in (1, 3, 4) or any(row[i] for row in rows)]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    numeric = {3, 4, 5}
    if title:
        print(title)

    def line(row: Sequence[str]) -> str:
        cells = [
            str(row[i]).rjust(widths[i]) if i in numeric else str(row[i]).ljust(widths[i]) for i in shown
        ]
        return "  ".join(cells).rstrip()

    print(line(header))
    for row in rows:
        print(line(row))


def print_how_called(timings: Sequence[Timing]) -> None:
    """How each contender was called (each distinct call once)."""
    print("how each contender was called:")
    seen: set[tuple[str, str]] = set()
    for timing in timings:
        c = timing.contender
        if (c.name, c.how) in seen or not c.how:
            continue
        seen.add((c.name, c.how))
        print(f"  {c.name}: {c.how}")
