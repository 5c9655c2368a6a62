"""Column conversions: typed values, and exactly the cells that could not be converted marked bad."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from moclab.study.columns import text_of, to_boolean, to_category, to_date, to_number, to_text


def text(*values: object) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_numbers_from_text() -> None:
    converted = to_number(text("3.5", " 4 ", "abc", None, "3,5", "-1e2"))
    assert converted.values.tolist()[:2] == [3.5, 4.0] and converted.values.iloc[5] == -100.0
    assert converted.bad.tolist() == [False, False, True, False, True, False]


def test_integers_refuse_fractions() -> None:
    converted = to_number(text("3", "3.0", "3.5", None), integer=True)
    assert str(converted.values.dtype) == "Int64"
    assert converted.values.tolist()[:2] == [3, 3] and converted.values.isna().tolist()[2:] == [True, True]
    assert converted.bad.tolist() == [False, False, True, False]


def test_numbers_from_native_and_mixed_cells() -> None:
    assert to_number(pd.Series([1, 2, 3])).values.tolist() == [1.0, 2.0, 3.0]
    mixed = to_number(pd.Series([1, "2", "x", None, 2.5], dtype=object))
    assert mixed.values.tolist()[:2] == [1.0, 2.0] and mixed.bad.tolist() == [
        False,
        False,
        True,
        False,
        False,
    ]


def test_dates() -> None:
    converted = to_date(text("2024-01-15", "2024-01-15 10:30:00", "2024-13-45", "15/01/2024", None))
    assert converted.values.iloc[0] == pd.Timestamp("2024-01-15")
    assert converted.values.iloc[1] == pd.Timestamp("2024-01-15 10:30")
    assert converted.bad.tolist() == [False, False, True, True, False]
    european = to_date(text("15/01/2024"), date_format="%d/%m/%Y")
    assert european.values.iloc[0] == pd.Timestamp("2024-01-15") and not european.bad.any()
    native = to_date(pd.Series([datetime.datetime(2024, 1, 15), None], dtype=object))
    assert native.values.iloc[0] == pd.Timestamp("2024-01-15") and not native.bad.any()


def test_booleans() -> None:
    converted = to_boolean(text("true", "No", "Y", "0", "maybe", None))
    assert converted.values.tolist()[:4] == [True, False, True, False]
    assert converted.bad.tolist() == [False, False, False, False, True, False]


def test_categories_keep_the_declared_order() -> None:
    converted = to_category(text("m6", "baseline", "m9", None), ["baseline", "m6", "m12"])
    assert list(converted.values.cat.categories) == ["baseline", "m6", "m12"]
    assert converted.values.tolist()[:2] == ["m6", "baseline"]
    assert converted.bad.tolist() == [False, False, True, False]
    free = to_category(text("b", "a", "b"))
    assert list(free.values.cat.categories) == ["a", "b"] and not free.bad.any()
    numeric = to_category(pd.Series([1, 2, 3]), [1, 2])
    assert numeric.bad.tolist() == [False, False, True]


def test_text_of_native_cells_matches_how_they_are_written() -> None:
    assert [text_of(v) for v in (3.0, 3.5, True, datetime.date(2024, 1, 15), " x ")] == [
        "3",
        "3.5",
        "true",
        "2024-01-15",
        "x",
    ]
    assert text_of(pd.Timestamp("2024-01-15 10:00")) == "2024-01-15T10:00:00"
    assert to_text(pd.Series([" a ", "", None], dtype="str")).isna().tolist() == [False, True, True]
    assert to_text(pd.Series([7, np.nan], dtype=object)).tolist()[0] == "7"
