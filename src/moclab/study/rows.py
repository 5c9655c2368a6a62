"""Problems that point at rows of a data table, listing the first few by line and row.

A problem found in many rows (a thousand values out of range) is one problem, not a thousand: it names the
first `MAX_LISTED` rows as "line 14 (row 13)" (the line an editor or spreadsheet shows, then the 1-based data
row) with the value written there, and says how many more there are. The Problem's own `line`, `row` and
`field` point at the first one, so tools can jump there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moclab.errors import Problem
from moclab.study.tables import TableSource

MAX_LISTED = 5


def listing(source: TableSource, positions: np.ndarray, details: Sequence[str] | None = None) -> str:
    """'line 14 (row 13) 'abc', line 20 (row 19) 'x' and 12 more' for 0-based frame positions."""
    shown = positions[:MAX_LISTED]
    parts = []
    for index, position in enumerate(shown):
        text = source.where(int(position) + 1)
        if details is not None and index < len(details) and details[index]:
            text += f" {details[index]}"
        parts.append(text)
    text = ", ".join(parts)
    if len(positions) > MAX_LISTED:
        text += f" and {len(positions) - MAX_LISTED} more"
    return text


def row_problem(
    source: TableSource,
    positions: Sequence[int] | np.ndarray,
    message: str,
    *,
    column: str | None = None,
    details: Sequence[str] | None = None,
    hint: str | None = None,
    severity: str = "error",
) -> Problem:
    """One problem for the rows at the given 0-based frame positions.

    Parameters
    ----------
    source
        The table the rows belong to.
    positions
        0-based positions in `source.frame`, in file order.
    message
        What is wrong, without location ("not a number").
    column
        The column the problem is in.
    details
        A short text per listed row (the value as written, what it conflicts with); only the first
        `MAX_LISTED` are used, so callers need not format the rest.
    hint
        What to do.
    severity
        "error" or "warning".
    """
    positions = np.asarray(positions, dtype=np.int64)
    first = int(positions[0]) + 1
    count = f" ({len(positions)} rows)" if len(positions) > 1 else ""
    return Problem(
        f"{message}{count}: {listing(source, positions, details)}",
        file=source.shown,
        line=source.line(first),
        row=first,
        field=column,
        hint=hint,
        severity=severity,
    )


def quoted(values: Sequence[object]) -> list[str]:
    """Values as they are shown in a listing: text in quotes, numbers plain."""
    return [repr(value) if isinstance(value, str) else f"{value}" for value in values]
