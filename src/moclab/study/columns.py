"""Turning a column as read (text, or native Excel/Parquet values) into the type its declaration asks for.

Each converter returns the typed values and a mask of the cells that held something that could not be
converted (a word in a number column, 2024-13-45 in a date column), so the checks can report those rows with
the text as the user wrote it. Missing cells are never "bad": whether a column may have gaps is a separate
rule.

The same data gives the same typed column whatever the file format: `3`, `3.0` and 3.0 are the number 3.0;
`2024-01-15`, `2024-01-15 00:00:00` and an Excel date cell are the same date.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from moclab.study.config import ColumnSpec

DATE_DTYPE = "datetime64[us]"
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


@dataclass(frozen=True)
class Converted:
    """Typed values and the mask of cells whose content could not be converted."""

    values: pd.Series
    bad: np.ndarray

    @property
    def n_bad(self) -> int:
        return int(self.bad.sum())


def text_of(value: Any) -> str:
    """How one native cell value is written as text: 3.0 as '3', a date as '2024-01-15', True as 'true'."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp | datetime.datetime):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def to_text(series: pd.Series) -> pd.Series:
    """Text values with surrounding spaces removed; empty cells become missing."""
    if pd.api.types.is_string_dtype(series) and series.dtype != object:
        text = series.str.strip()
    else:
        cells = [None if _is_missing(value) else text_of(value) for value in series]
        text = pd.Series(cells, index=series.index, dtype="str")
    return text.where(text != "")


def to_number(series: pd.Series, *, integer: bool = False) -> Converted:
    """Numbers (float64, or nullable Int64 when `integer`); a fraction in an integer column counts as bad."""
    given = series.notna().to_numpy()
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.astype("float64")
    else:
        values = _parse_numbers(series)
    bad = given & values.isna().to_numpy()
    if integer:
        fractional = values.notna().to_numpy() & ~np.isclose(values.fillna(0).to_numpy() % 1, 0)
        bad |= fractional
        values = values.where(~fractional).round().astype("Int64")
    return Converted(values, bad)


def _parse_numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_string_dtype(series) and series.dtype != object:
        # pyarrow's cast is several times faster than pandas' parser on a million cells; it refuses a column
        # with any non-number (or padded number) in it, and then pandas' forgiving parser finds which ones.
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            numbers = pc.cast(pa.array(series), pa.float64())
            return pd.Series(numbers.to_numpy(zero_copy_only=False), index=series.index, dtype="float64")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
            pass
        return pd.to_numeric(series.str.strip(), errors="coerce").astype("float64")
    return pd.to_numeric(to_text(series), errors="coerce").astype("float64")


def to_date(series: pd.Series, date_format: str | None = None) -> Converted:
    """Dates (datetime64); ISO 8601 text (2024-01-15, with or without a time) unless `date_format` says."""
    given = series.notna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series):
        values = series
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
    else:
        text = to_text(series)
        values = pd.to_datetime(text, format=date_format or "ISO8601", errors="coerce")
    values = values.astype(DATE_DTYPE)
    return Converted(values, given & values.isna().to_numpy())


def to_boolean(series: pd.Series) -> Converted:
    """True/false from true/false, yes/no, y/n, t/f or 1/0 (any case)."""
    given = series.notna().to_numpy()
    if pd.api.types.is_bool_dtype(series):
        values = series.astype("boolean")
    else:
        lowered = to_text(series).str.lower()
        values = pd.Series(pd.NA, index=series.index, dtype="boolean")
        values[lowered.isin(_TRUE).to_numpy()] = True
        values[lowered.isin(_FALSE).to_numpy()] = False
    return Converted(values, given & values.isna().to_numpy())


def to_category(series: pd.Series, allowed: Sequence[Any] | None = None) -> Converted:
    """A categorical column; values outside `allowed` (when given) are bad. Categories keep their order."""
    text = to_text(series)
    # Factorizing first and matching the few distinct values is much faster on a million rows than letting
    # pd.Categorical look every cell up in the categories.
    codes, distinct = pd.factorize(text)
    distinct = [str(value) for value in distinct]
    categories = list(dict.fromkeys(text_of(value) for value in allowed)) if allowed else sorted(distinct)
    position = {value: index for index, value in enumerate(categories)}
    lookup = np.array([position.get(value, -1) for value in distinct] + [-1], dtype=np.int64)
    category_codes = lookup[codes]  # a missing cell has code -1, which picks the trailing -1
    bad = (codes >= 0) & (category_codes < 0)
    values = pd.Series(pd.Categorical.from_codes(category_codes, categories=categories), index=series.index)
    return Converted(values, bad)


def convert(series: pd.Series, spec: ColumnSpec) -> Converted:
    """Convert a column as its declaration says; `values` restricts string and category columns."""
    if spec.type in ("number", "integer"):
        return to_number(series, integer=spec.type == "integer")
    if spec.type == "date":
        return to_date(series, spec.date_format)
    if spec.type == "boolean":
        return to_boolean(series)
    if spec.type == "category":
        return to_category(series, spec.values)
    text = to_text(series)
    bad = np.zeros(len(text), dtype=bool)
    if spec.values:
        allowed = [text_of(value) for value in spec.values]
        bad = text.notna().to_numpy() & ~text.isin(allowed).to_numpy()
    return Converted(text, bad)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and np.isnan(value)
