"""The checks of the data every estimator runs at its boundary, with one wording.

Each check names the column (and its role in the analysis: "mediator", "outcome", "covariate"...) and says
what to do, so a researcher reads the same sentence whichever analysis met the problem:

* `data_frame`: the data are a DataFrame;
* `check_columns`: every role names a column of the data, and no column plays two roles;
* `complete_rows`: listwise deletion of incomplete rows (reported), or refusal with ``missing="raise"``;
* `numeric_values`: a column is numeric (booleans count as 0/1) and finite;
* `check_not_constant`, `check_enough_rows`, `check_full_rank`: a variable varies, the rows outnumber the
  coefficients, and no predictor is (nearly) a linear combination of the ones before it;
* `covariate_matrix`: covariates as numbers, text or categorical ones as 0/1 indicators.

After these checks an estimator trusts its arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from moclab.errors import DataError, did_you_mean

__all__ = [
    "Covariates",
    "check_columns",
    "check_enough_rows",
    "check_full_rank",
    "check_not_constant",
    "complete_rows",
    "covariate_matrix",
    "data_frame",
    "numeric_values",
]

#: A predictor whose smallest singular value, with the ones before it (centred and scaled), falls below this
#: share of the largest times max(n, 10) is (nearly) a linear combination of them.
COLLINEARITY_TOLERANCE = 1e-9

Roles = Mapping[str, Any] | Sequence[tuple[str, Any]]


def data_frame(data: Any) -> pd.DataFrame:
    """`data` itself when it is a DataFrame; `DataError` otherwise."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"data must be a pandas DataFrame, not {type(data).__name__}",
            hint="pass one row per unit as a DataFrame (e.g. from pandas.read_csv)",
        )
    return data


def _pairs(roles: Roles) -> list[tuple[str, Any]]:
    return list(roles.items()) if isinstance(roles, Mapping) else list(roles)


def _shown(value: Any) -> str:
    if isinstance(value, float | np.floating | int | np.integer) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(value.item() if isinstance(value, np.generic) else value)


def check_columns(data: pd.DataFrame, roles: Roles) -> None:
    """Every role names a column of `data` (a string), and no column plays two roles.

    `roles` maps a role ("mediator", "covariate", "cluster") to a column name, or is a sequence of (role,
    name) pairs when a role repeats (several mediators).

    Examples
    --------
    >>> frame = pd.DataFrame({"trust": [1.0], "adoption": [2.0]})
    >>> check_columns(frame, {"mediator": "trsut", "outcome": "adoption"})
    Traceback (most recent call last):
    ...
    moclab.errors.DataError: the mediator column 'trsut' is not in the data (did you mean 'trust'?)
    """
    pairs = _pairs(roles)
    columns = [str(c) for c in data.columns]
    for role, name in pairs:
        if not isinstance(name, str):
            raise DataError(
                f"the {role} must be a column name, not {type(name).__name__} {name!r}",
                hint="pass the name of a column of the data",
            )
        if name not in data.columns:
            shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
            raise DataError(
                f"the {role} column '{name}' is not in the data",
                hint=did_you_mean(name, columns) or f"the columns are: {shown}",
            )
    seen: dict[str, str] = {}
    for role, name in pairs:
        if name in seen:
            raise DataError(
                f"column '{name}' is used in more than one role ({seen[name]} and {role})",
                hint="give each role its own column",
            )
        seen[name] = role


def complete_rows(
    frame: pd.DataFrame, *, missing: str = "listwise", labels: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, int, str | None]:
    """The complete rows of `frame`, how many rows were dropped, and the note saying so (None: none were).

    With ``missing="raise"`` an incomplete row is a `DataError`; no complete row at all always is. `labels`
    renames internal columns in the messages (``{"__cluster__": "site"}``).
    """
    names = {column: (labels or {}).get(str(column), str(column)) for column in frame.columns}
    incomplete = frame.isna()
    dropped = incomplete.any(axis=1).to_numpy()
    n_dropped = int(dropped.sum())
    counts = incomplete.sum()
    detail = ", ".join(f"{names[column]}: {int(count)}" for column, count in counts.items() if count)
    if n_dropped and missing == "raise":
        raise DataError(
            f"{n_dropped} of {len(frame)} rows have missing values ({detail})",
            hint="impute them, or pass missing='listwise' to drop those rows",
        )
    if n_dropped == len(frame):
        raise DataError(
            f"no complete rows: every row has a missing value in one of {', '.join(names.values())}",
            hint="check that the variables were measured for the same rows (and at the same wave)",
        )
    if not n_dropped:
        return frame, 0, None
    note = (
        f"{n_dropped} of {len(frame)} rows had missing values ({detail}) and were dropped (listwise "
        "deletion; if missingness depends on the variables, consider multiple imputation)"
    )
    return frame.loc[~dropped], n_dropped, note


def numeric_values(series: pd.Series, role: str, name: str) -> np.ndarray:
    """The column as float64 (booleans as 0/1); `DataError` for text or infinite values.

    Examples
    --------
    >>> numeric_values(pd.Series(["high", "low"]), "mediator", "trust")
    Traceback (most recent call last):
    ...
    moclab.errors.DataError: the mediator 'trust' is not numeric (values such as 'high', 'low') (recode ...
    """
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64)
        if np.isinf(values).any():
            raise DataError(
                f"the {role} '{name}' has infinite values in {int(np.isinf(values).sum())} row(s)",
                hint="replace them, or drop those rows",
            )
        return values
    examples = ", ".join(_shown(v) for v in pd.unique(series.dropna())[:3])
    hint = (
        f"code '{name}' as 0/1 indicator columns (one per category but the first)"
        if role.startswith("covariate")
        else f"recode '{name}' as numbers (e.g. 0/1 for two groups)"
    )
    raise DataError(f"the {role} '{name}' is not numeric (values such as {examples})", hint=hint)


def check_not_constant(values: np.ndarray | pd.Series, role: str, name: str) -> None:
    """`DataError` when every analysed row has the same value."""
    values = np.asarray(values)
    if values.size and (values == values[0]).all():
        raise DataError(
            f"the {role} '{name}' is constant (every analysed row is {_shown(values[0])})",
            hint=f"a constant carries no information: drop '{name}' or check which rows were selected",
        )


def check_enough_rows(n: int, n_coefficients: int) -> None:
    """`DataError` unless there are at least two more complete rows than a model has coefficients."""
    if n < n_coefficients + 2:
        raise DataError(
            f"only {n} complete rows for a model with {n_coefficients} coefficients",
            hint=f"at least {n_coefficients + 2} are needed: collect more data or use fewer covariates",
        )


def check_full_rank(design: np.ndarray, names: Sequence[str], model: str) -> None:
    """`DataError` naming the first predictor that is (nearly) a linear combination of the ones before it.

    The columns are centred (when the design has a constant column) and scaled, then one singular-value
    decomposition decides; only a rank-deficient design is searched column by column for the culprit.

    Examples
    --------
    >>> x = np.arange(6.0)
    >>> check_full_rank(np.column_stack([np.ones(6), x, 2 * x + 1]), ["intercept", "x", "x2"], "outcome")
    Traceback (most recent call last):
    ...
    moclab.errors.DataError: in the outcome model, 'x2' is (nearly) a linear combination of the predictors ...
    """
    design = np.asarray(design, dtype=np.float64)
    n = design.shape[0]
    spread = np.ptp(design, axis=0)
    constant = spread == 0
    scaled = design.copy()
    if constant.any():
        scaled[:, ~constant] -= scaled[:, ~constant].mean(axis=0)
    norms = np.sqrt(np.mean(scaled * scaled, axis=0))
    scaled /= np.where(norms > 0, norms, 1.0)

    def deficient(columns: np.ndarray) -> bool:
        singular_values = np.linalg.svd(columns, compute_uv=False)
        return bool(singular_values[-1] <= singular_values[0] * COLLINEARITY_TOLERANCE * max(n, 10))

    if not deficient(scaled):
        return
    for j in range(1, design.shape[1]):
        if deficient(scaled[:, : j + 1]):
            before = ", ".join(f"'{name}'" for name in names[:j])
            raise DataError(
                f"in the {model} model, '{names[j]}' is (nearly) a linear combination of the predictors "
                f"before it ({before})",
                hint=f"drop '{names[j]}' or one of the variables it duplicates",
            )


@dataclass(frozen=True)
class Covariates:
    """Covariates as numbers: the `matrix`, its column `names`, the columns of each covariate (`spans`) and
    the reference level of each text covariate (`references`)."""

    matrix: np.ndarray
    names: list[str]
    spans: dict[str, list[int]]
    references: dict[str, Any]


def covariate_matrix(frame: pd.DataFrame, covariates: Sequence[str]) -> Covariates:
    """Covariates as a matrix: numeric ones as they are, text or categorical ones as 0/1 indicators.

    A text covariate gets one indicator per level present in the rows but the first (the reference, first in
    category order or sorted), named ``covariate[level]``. A constant covariate is a `DataError`.

    Examples
    --------
    >>> covariates = covariate_matrix(pd.DataFrame({"site": ["b", "a", "c"]}), ["site"])
    >>> covariates.names, covariates.references
    (['site[b]', 'site[c]'], {'site': 'a'})
    """
    blocks: list[np.ndarray] = []
    names: list[str] = []
    spans: dict[str, list[int]] = {}
    references: dict[str, Any] = {}
    for name in covariates:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            values = numeric_values(column, "covariate", name)
            check_not_constant(values, "covariate", name)
            spans[name] = [len(names)]
            blocks.append(values[:, None])
            names.append(name)
            continue
        categorical = column.astype("category")
        used = [level for level in categorical.cat.categories if (categorical == level).any()]
        check_not_constant(np.asarray(categorical.astype(object)), "covariate", name)
        references[name] = used[0]
        spans[name] = list(range(len(names), len(names) + len(used) - 1))
        for level in used[1:]:
            blocks.append((categorical == level).to_numpy(dtype=np.float64)[:, None])
            names.append(f"{name}[{level}]")
    matrix = np.hstack(blocks) if blocks else np.empty((len(frame), 0))
    return Covariates(matrix, names, spans, references)
