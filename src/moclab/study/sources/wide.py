"""Shared by the readers of one-row-per-response sources (Qualtrics, Excel): wide cells -> long answers,
and duplicate responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from moclab.study.columns import text_of
from moclab.study.sources.delimited import MAX_CELL
from moclab.study.sources.problems import SourceProblem, shorten


def cell_text(value: object) -> str:
    """A cell as text: "" when empty, numbers without a trailing .0, dates as YYYY-MM-DD."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return text_of(value)


def wide_to_long(
    cells: pd.DataFrame,
    fields: Sequence[str],
    *,
    record: np.ndarray,
    wave: np.ndarray,
    line: np.ndarray,
    shown: str,
    event: str | None = None,
    form: str | None = None,
    recode: Mapping[str, float] | None = None,
    missing_codes: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[SourceProblem]]:
    """Long answers (the columns of `SourceData.data`) of the given field columns, and cell problems.

    Parameters
    ----------
    cells
        One row per response; columns include `fields`. Cells may be text or native (Excel) values.
    record, wave, line
        Per row: the recipient id, the wave and the line (or sheet row) of the response.
    recode
        Text -> number, for answers exported as choice text (matched without regard to case).
    missing_codes
        Texts that mean "no answer" (Qualtrics' -99 for seen but unanswered).
    """
    problems: list[SourceProblem] = []
    recoded = {key.strip().lower(): float(value) for key, value in (recode or {}).items()}
    parts = []
    for name in fields:
        column = cells[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            text = np.array([cell_text(value).strip() for value in column], dtype=object)
        else:
            text = np.array([cell_text(value) for value in column], dtype=object)
        given = (text != "") & ~np.isin(text, list(missing_codes))
        lengths = np.array([len(value) for value in text])
        for row in np.flatnonzero(given & (lengths > MAX_CELL)):
            problems.append(
                SourceProblem(
                    f"the cell holds {lengths[row]:,} characters, far more than any answer; it was not "
                    "imported",
                    file=shown,
                    line=int(line[row]),
                    record=str(record[row]),
                    event=event,
                    field=name,
                    value=shorten(text[row]),
                    kind="huge_cell",
                    hint="check this response at the source",
                )
            )
        given &= lengths <= MAX_CELL
        rows = np.flatnonzero(given)
        if not len(rows):
            continue
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=float)[rows]
        else:
            values = pd.to_numeric(pd.Series(text[rows], dtype=object), errors="coerce").to_numpy(dtype=float)
        if recoded:
            codes = np.array([recoded.get(value.lower(), np.nan) for value in text[rows]])
            values = np.where(np.isnan(values), codes, values)
        parts.append(
            pd.DataFrame(
                {
                    "record": record[rows],
                    "wave": wave[rows],
                    "event": event,
                    "form": form,
                    "instance": np.nan,
                    "field": name,
                    "value": values,
                    "text": text[rows],
                    "line": line[rows],
                    "order": rows,
                }
            )
        )
    if not parts:
        return pd.DataFrame(), problems
    long = pd.concat(parts, ignore_index=True).sort_values("order", kind="stable").drop(columns="order")
    return long, problems


def duplicate_groups(keys: pd.DataFrame) -> list[np.ndarray]:
    """Positions (0-based) of the rows of each group of identical keys that occurs more than once."""
    repeated = keys.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return []
    positions = pd.Series(np.arange(len(keys)))[repeated]
    grouped = positions.groupby([keys[name].to_numpy()[repeated] for name in keys.columns], sort=False)
    return [group.to_numpy() for _, group in grouped]


def same_rows(cells: pd.DataFrame, positions: np.ndarray) -> bool:
    """Whether the rows at `positions` hold the same cells (empty cells equal)."""
    block = cells.iloc[positions].map(cell_text)
    return bool((block == block.iloc[0]).all(axis=None))
