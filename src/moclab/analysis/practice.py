"""Practice-level analyses of the support log: how much support each unit received, how its dose grew, whether
the dose works through the mechanism, and in which modes support was given.

An ISP team's log has one row per support contact (date, minutes, who received it, which core practice
components or ISP competencies it used, in which support mode). These functions read that log as it stands,
the study's ``data/activities.csv`` (`moclab.study.Study.activities`) or the practice platform's export, and
answer four questions:

* `dose_table`: how many minutes did each engagement, site, team or recipient receive per week, month or
  quarter, in total and per component, competency or support mode, and how does the dose add up?
* `dose_trajectories`: how does the cumulative dose grow (a growth-curve model: Singer & Willett, 2003), and
  which units follow similar trajectories (groups of trajectories: Nagin, 2005)?
* `dose_mediation`: does the dose a recipient received (from the log, up to the mechanism's measurement)
  change the outcome through the mechanism, and does more dose go with more mechanism, more mechanism with
  more outcome (the gradient criterion)? It calls `moclab.analysis.mediate` and
  `moclab.analysis.dose_response`, and reimplements neither.
* `support_mode_profile`: what share of each unit's minutes was push, push/pull or co-creation (Metz et al.,
  2022), and, descriptively, how do units that mostly received one mode score on the mechanism and outcome?

The log's columns (``columns=`` renames any of them; the defaults are the study format's and the platform's):

==================  ===================  ==============================================================
role                default column       content
==================  ===================  ==============================================================
date                ``date``             the day of the contact (a date, or text written YYYY-MM-DD)
minutes             ``minutes``          the length of the contact, a number of minutes, at least 0
engagement          ``engagement_id``    the engagement (``by="engagement"``)
site                ``site``             the site (``by="site"``)
team                ``team``             the team (``by="team"``)
recipient           ``recipient_id``     the recipient (``by="recipient"``)
component           ``component``        the core practice component(s) or catalog reference(s) used
core_components     ``core_components``  the platform's core practice components
competencies        ``competencies``     the platform's ISP competencies
support_mode        ``support_mode``     push, push_pull or co_creation (also "push/pull", "co-creation")
activity            ``activity``         the activity's id, when one activity has several rows
==================  ===================  ==============================================================

Only the date, the minutes and the column of the unit asked for (``by``) are required. A log with one row
per activity and recipient reached (the platform's study export, where each row carries the activity's
minutes) has an activity id, and an activity then counts once per unit, not once per recipient it reached.
A contact that lists several components (``"facilitation;coaching"``, separated by ``;`` as the platform
exports them) has its minutes **split equally** among them: the log records the contact's length, not how it
was spent, and an equal split keeps every minute counted once, so the components' minutes add up to the
unit's minutes. Row numbers in the error messages count the log's data rows from 1 (row 1 is line 2 of a CSV
file).
"""

from __future__ import annotations

import datetime
import html
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special
from scipy.cluster.vq import ClusterError, kmeans2
from scipy.spatial.distance import cdist

from moclab.analysis import _arguments, _columns
from moclab.analysis.dose_response import DoseResponseResult, dose_response
from moclab.analysis.mediation import MediationResult, mediate
from moclab.analysis.results import AnalysisResult, Effect, plain
from moclab.errors import DataError, did_you_mean

__all__ = [
    "DoseMediationResult",
    "DoseTable",
    "DoseTrajectoriesResult",
    "SupportModeProfile",
    "dose_mediation",
    "dose_table",
    "dose_trajectories",
    "support_mode_profile",
]

#: The units a dose can be counted for, and the column each is read from unless ``columns=`` says otherwise.
UNITS = ("engagement", "site", "team", "recipient")
#: The periods a dose is counted per, as pandas period frequencies (weeks end on Sunday).
PERIODS = {"week": "W", "month": "M", "quarter": "Q"}
#: The support modes of Metz et al. (2022), as the practice platform stores them.
SUPPORT_MODES = ("push", "push_pull", "co_creation")
#: The columns that say what a contact was made of; a contact's minutes are split equally among the values.
DIMENSIONS = ("component", "core_components", "competencies", "support_mode")
DEFAULT_COLUMNS: dict[str, str] = {
    "date": "date",
    "minutes": "minutes",
    "engagement": "engagement_id",
    "site": "site",
    "team": "team",
    "recipient": "recipient_id",
    "component": "component",
    "core_components": "core_components",
    "competencies": "competencies",
    "support_mode": "support_mode",
    "activity": "activity",
}
#: The separator of several components in one cell (the platform's export joins catalog ids with it).
LIST_SEPARATOR = ";"
#: The value standing for a contact whose component (or mode) was not logged.
UNSPECIFIED = "(unspecified)"
#: The name of the dose column `dose_mediation` adds (the name `moclab analyze` gives the same dose).
DOSE_COLUMN = "support_minutes"
#: Mean silhouette width at or below which the groups are "no substantial structure" (Kaufman & Rousseeuw,
#: 1990, ch. 2): the trajectories are then reported as one group.
NO_STRUCTURE = 0.25
#: Mean silhouette width up to which a structure is "weak and could be artificial" (same source).
WEAK_STRUCTURE = 0.50
#: k-means restarts from k-means++ seeds; the partition with the smallest within-group sum of squares is kept.
KMEANS_RESTARTS = 20
_MAX_SHOWN = 5
Window = str | datetime.date | pd.Timestamp


# ----------------------------------------------------------------------------------------------------
# Reading the log
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Log:
    """The checked log: one row per contact with its unit id (text), date, minutes, period number and the
    lists of components (tuples of text) of every dimension column the log has."""

    entries: pd.DataFrame
    by: str
    columns: dict[str, str]
    periods: pd.PeriodIndex
    dimensions: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def units(self) -> list[str]:
        return sorted(pd.unique(self.entries["unit"]).tolist())


def _shown(value: Any) -> str:
    if isinstance(value, float | int | np.floating | np.integer) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(value.item() if isinstance(value, np.generic) else value)


def _rows(mask: np.ndarray, values: pd.Series | None = None) -> str:
    """'rows 2, 5 (-30, -5)': the 1-based data rows where `mask` holds, with their values, at most five."""
    positions = np.flatnonzero(mask)
    shown = positions[:_MAX_SHOWN]
    text = ("rows " if positions.size > 1 else "row ") + ", ".join(str(p + 1) for p in shown)
    if values is not None:
        text += " (" + ", ".join(_shown(values.iloc[p]) for p in shown) + ")"
    if positions.size > _MAX_SHOWN:
        text += f" and {positions.size - _MAX_SHOWN} more"
    return text


def _column_names(columns: Mapping[str, str] | None) -> dict[str, str]:
    names = dict(DEFAULT_COLUMNS)
    for role, name in (columns or {}).items():
        if role not in DEFAULT_COLUMNS:
            raise DataError(
                f"columns names an unknown role '{role}'",
                hint=did_you_mean(
                    role, DEFAULT_COLUMNS, advice=f"the roles are: {', '.join(DEFAULT_COLUMNS)}"
                ),
            )
        if not isinstance(name, str):
            raise DataError(f"columns['{role}'] must be a column name, not {name!r}")
        names[role] = name
    return names


def _require(frame: pd.DataFrame, role: str, name: str, table: str = "activity log") -> None:
    if name in frame.columns:
        return
    present = [str(c) for c in frame.columns]
    listed = ", ".join(present[:12]) + (", ..." if len(present) > 12 else "")
    raise DataError(
        f"the {table} has no {role} column '{name}'",
        hint=did_you_mean(
            name, present, advice=f"or pass columns={{'{role}': 'your column'}}; its columns are: {listed}"
        ),
    )


def _dates(series: pd.Series, name: str, table: str = "activity log") -> pd.Series:
    """The column as datetime64[ns]; `DataError` naming the rows without a date or with text that is none."""
    if pd.api.types.is_datetime64_any_dtype(series):
        values = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
    else:
        values = pd.to_datetime(series, errors="coerce", format="ISO8601")
    missing = series.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"the {table}'s date column '{name}' is empty in {_rows(missing)}",
            hint="give every row its date, or drop those rows",
        )
    unreadable = values.isna().to_numpy()
    if unreadable.any():
        raise DataError(
            f"the {table}'s date column '{name}' has values that are not dates in "
            f"{_rows(unreadable, series)}",
            hint="write dates as YYYY-MM-DD",
        )
    return values.astype("datetime64[ns]")


def _minutes(series: pd.Series, name: str) -> np.ndarray:
    """The minutes as floats; `DataError` naming the rows with text, empty, infinite or negative minutes."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.astype("float64")
    else:
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        unreadable = (values.isna() & series.notna()).to_numpy()
        if unreadable.any():
            raise DataError(
                f"the activity log's minutes column '{name}' has values that are not numbers in "
                f"{_rows(unreadable, series)}",
                hint="write the minutes as a number (90, not '1.5 h')",
            )
    array = values.to_numpy()
    checks = [
        (
            np.isnan(array),
            "is empty in",
            "give every contact its minutes (0 if it took none), or drop those rows",
        ),
        (np.isinf(array), "has infinite values in", "write the contact's length in minutes"),
        (array < 0, "has negative minutes in", "a contact lasts 0 minutes or more: correct those rows"),
    ]
    for mask, what, hint in checks:
        if mask.any():
            shown = None if what.startswith("is empty") else series
            raise DataError(
                f"the activity log's minutes column '{name}' {what} {_rows(mask, shown)}", hint=hint
            )
    return array


def _unit_ids(series: pd.Series) -> pd.Series:
    """Unit ids as text, with whole numbers written without a decimal point (site 3, not '3.0'), so a log and
    a measures frame that store the same ids as numbers and as text still match."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.astype("float64")
        finite = values.dropna()
        if (finite == np.round(finite)).all():
            return values.astype("Int64").astype("string")
    return series.astype("string").str.strip()


def _mode_name(value: str) -> str:
    """'Push/pull', 'push pull', 'co-creation' -> 'push_pull', 'co_creation'."""
    return re.sub(r"[\s/\-]+", "_", value.strip().lower())


def _values_of(cell: Any) -> tuple[str, ...]:
    """The values listed in one cell ('a;b' -> ('a', 'b')); ``(UNSPECIFIED,)`` for an empty cell."""
    if cell is pd.NA:
        return (UNSPECIFIED,)
    return tuple(part.strip() for part in str(cell).split(LIST_SEPARATOR) if part.strip()) or (UNSPECIFIED,)


def _split(series: pd.Series, name: str, role: str) -> pd.Series:
    """Each cell as the tuple of its values. Support modes are normalized and checked against the three
    modes."""
    lists = [_values_of(cell) for cell in series.astype("string")]
    if role == "support_mode":
        known = (*SUPPORT_MODES, UNSPECIFIED)
        lists = [tuple(v if v == UNSPECIFIED else _mode_name(v) for v in values) for values in lists]
        unknown = np.array([any(v not in known for v in values) for values in lists])
        if unknown.any():
            first = next(v for values in lists for v in values if v not in known)
            raise DataError(
                f"the activity log's support-mode column '{name}' has unknown modes in "
                f"{_rows(unknown, series)}",
                hint=did_you_mean(
                    first,
                    SUPPORT_MODES,
                    advice="the modes are push, push_pull and co_creation (Metz et al. 2022): correct those "
                    f"rows, or, if '{name}' holds another kind of mode (in person, virtual), rename it",
                ),
            )
    return pd.Series(lists, index=series.index, dtype=object)


def _dimensions_wanted(
    log: pd.DataFrame, names: dict[str, str], components: bool | str | Sequence[str]
) -> list[str]:
    """The dimension roles to read: those the log has (``True``), none (``False``), or the ones named."""
    if components is True:
        return [role for role in DIMENSIONS if names[role] in log.columns]
    if components is False:
        return []
    wanted = [components] if isinstance(components, str) else list(components)
    roles = []
    for item in wanted:
        role = item if item in DIMENSIONS else next((r for r in DIMENSIONS if names[r] == item), None)
        if role is None:
            raise DataError(
                f"components names '{item}', which is neither a component role nor its column",
                hint=did_you_mean(item, DIMENSIONS, advice=f"the roles are: {', '.join(DIMENSIONS)}"),
            )
        _require(log, role, names[role])
        roles.append(role)
    return list(dict.fromkeys(roles))


def _read_log(
    activities: Any,
    *,
    by: str,
    per: str,
    columns: Mapping[str, str] | None,
    components: bool | str | Sequence[str] = False,
) -> _Log:
    """The log checked once at the boundary; every function of this module then trusts it."""
    _arguments.choice("by", by, UNITS)
    _arguments.choice("per", per, tuple(PERIODS))
    if not isinstance(activities, pd.DataFrame):
        raise DataError(
            f"the activity log must be a pandas DataFrame, not {type(activities).__name__}",
            hint="pass study.activities, or read data/activities.csv with pandas.read_csv",
        )
    if activities.empty:
        raise DataError(
            "the activity log has no rows", hint="log at least one support contact (date, minutes, who)"
        )
    names = _column_names(columns)
    for role in ("date", "minutes", by):
        _require(activities, role, names[role])
    dimensions = _dimensions_wanted(activities, names, components)
    dates = _dates(activities[names["date"]], names["date"])
    minutes = _minutes(activities[names["minutes"]], names["minutes"])
    units = _unit_ids(activities[names[by]])
    entries = pd.DataFrame(
        {
            "unit": units.to_numpy(),
            "date": dates.to_numpy(),
            "minutes": minutes,
        }
    )
    for role in dimensions:
        entries[role] = _split(activities[names[role]], names[role], role).to_numpy()
    notes: list[str] = []
    if names["activity"] in activities.columns:
        entries["activity"] = activities[names["activity"]].to_numpy()
        repeated = (
            entries[["activity", "unit"]].notna().all(axis=1) & entries.duplicated(["activity", "unit"])
        ).to_numpy()
        if repeated.any():
            notes.append(
                f"{int(repeated.sum())} log rows repeat an activity already counted for its {by} (the log "
                f"has a row per recipient reached): each activity ('{names['activity']}') counts once a {by}"
            )
            entries = entries.loc[~repeated].reset_index(drop=True)
        entries = entries.drop(columns="activity")
    unnamed = entries["unit"].isna().to_numpy()
    if unnamed.all():
        raise DataError(
            f"no row of the activity log names a {by} (column '{names[by]}' is empty)",
            hint=f"count the dose per another unit (by='site', 'team', ...), or fill in '{names[by]}'",
        )
    if unnamed.any():
        notes.append(
            f"{int(unnamed.sum())} of {len(entries)} log rows name no {by} (column '{names[by]}' is empty: "
            f"contacts with a whole team or site) and are left out of the {by} doses"
        )
        entries = entries.loc[~unnamed].reset_index(drop=True)
    frequency = PERIODS[per]
    period = entries["date"].dt.to_period(frequency)
    periods = pd.period_range(period.min(), period.max(), freq=frequency)
    entries["period_number"] = period.array.asi8 - periods[0].ordinal
    return _Log(entries, by, names, periods, tuple(dimensions), tuple(notes))


def _zero_filled(
    units: Sequence[str], n_periods: int, unit: np.ndarray, number: np.ndarray, amount: np.ndarray
) -> np.ndarray:
    """(units, periods) matrix of the amounts summed per unit and period, zero where nothing was logged."""
    codes = pd.Index(units).get_indexer(unit)
    flat = np.bincount(codes * n_periods + number, weights=amount, minlength=len(units) * n_periods)
    return flat.reshape(len(units), n_periods)


def _value_dimension(log: _Log, values: Sequence[str]) -> str:
    """The one dimension column that holds every value asked for (the dose of some components)."""
    found: dict[str, list[str]] = {}
    available = {role: {v for values_ in log.entries[role] for v in values_} for role in log.dimensions}
    for value in values:
        holders = [role for role in log.dimensions if value in available[role]]
        if not holders:
            known = sorted(set().union(*available.values())) if available else []
            shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
            raise DataError(
                f"no logged contact has the component '{value}'",
                hint=did_you_mean(value, known, advice=f"the logged components are: {shown}")
                if known
                else "the log has no component, competency or support-mode column",
            )
        if len(holders) > 1:
            raise DataError(
                f"'{value}' is a value of several columns ({', '.join(log.columns[r] for r in holders)})",
                hint="rename it in one of them, so that its minutes are counted once",
            )
        found.setdefault(holders[0], []).append(value)
    if len(found) > 1:
        raise DataError(
            "the components asked for come from different columns ("
            + "; ".join(f"{log.columns[role]}: {', '.join(v)}" for role, v in found.items())
            + "), which would count the same minutes twice",
            hint="ask for values of one column at a time",
        )
    return next(iter(found))


def _amounts(log: _Log, values: Sequence[str]) -> np.ndarray:
    """Each contact's minutes (all of them without `values`, else its equal share for the values asked)."""
    minutes = log.entries["minutes"].to_numpy()
    if not values:
        return minutes
    role = _value_dimension(log, values)
    wanted = set(values)
    fraction = np.array([sum(v in wanted for v in cell) / len(cell) for cell in log.entries[role]])
    return minutes * fraction


# ----------------------------------------------------------------------------------------------------
# dose_table
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DoseTable:
    """Result of `dose_table`: the dose per unit and period, cumulated, and per component.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per unit and period, every period of the log for every unit (zero when nothing was logged):
        the unit (a column named after `by`), period (its first day), period_number (0 for the log's first
        period), contacts, minutes, cumulative_minutes.
    components : pandas.DataFrame or None
        With component columns: one row per unit, dimension (``component``, ``core_components``,
        ``competencies``, ``support_mode``), value, and period, with minutes (the contacts' equal shares)
        and cumulative_minutes; zero-filled over every unit, value of the dimension and period. Within a
        dimension the values' minutes add up to the unit's minutes.
    by, per : str
        The unit and the period.
    warnings : tuple of str
        Log rows left out (no unit) and other notes.
    """

    table: pd.DataFrame
    components: pd.DataFrame | None
    by: str
    per: str
    warnings: tuple[str, ...] = ()

    title = "Dose of support"

    def to_frame(self) -> pd.DataFrame:
        """The dose per unit and period (a copy of `table`)."""
        return self.table.copy()

    def wide(self, value: str = "cumulative_minutes") -> pd.DataFrame:
        """One row per unit, one column per period (its first day): `value` (``minutes``, ``contacts`` or
        ``cumulative_minutes``)."""
        _arguments.choice("value", value, ("minutes", "contacts", "cumulative_minutes"))
        return self.table.pivot(index=self.by, columns="period", values=value)

    def totals(self) -> pd.DataFrame:
        """One row per unit: its contacts and minutes over the whole log."""
        return self.table.groupby(self.by)[["contacts", "minutes"]].sum()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "by": self.by,
                "per": self.per,
                "table": self.table,
                "components": self.components,
                "warnings": list(self.warnings),
            }
        )

    def summary(self) -> str:
        """The units, the periods and each unit's total dose, with the notes."""
        totals = self.totals()
        first, last = self.table["period"].min(), self.table["period"].max()
        lines = [
            f"{self.title} per {self.by} and {self.per}: {len(totals)} {self.by}(s), "
            f"{self.table['period_number'].max() + 1} {self.per}(s) from {first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d}; "
            f"{int(totals['contacts'].sum())} contacts, {totals['minutes'].sum():g} minutes",
            "",
            totals.to_string(float_format=lambda v: f"{v:g}"),
        ]
        if self.components is not None:
            parts = self.components.groupby(["dimension", "value"])["minutes"].sum()
            lines += ["", "Minutes per component (a contact's minutes split equally among its components):"]
            lines.append(parts.to_string(float_format=lambda v: f"{v:g}"))
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        totals = self.totals()
        return (
            f"DoseTable({len(totals)} {self.by}s x {self.table['period_number'].max() + 1} {self.per}s; "
            f"minutes = {totals['minutes'].sum():g}; contacts = {int(totals['contacts'].sum())})"
        )

    def _repr_html_(self) -> str:
        body = self.totals().to_html(float_format=lambda v: f"{v:g}", border=0)
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        head = (
            f"<strong>{html.escape(self.title)}</strong> per {html.escape(self.by)} and "
            f"{html.escape(self.per)}"
        )
        return f"<div>{head}{body}" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"


def _long_table(log: _Log, matrix: np.ndarray, units: Sequence[str], name: str) -> pd.DataFrame:
    n_periods = len(log.periods)
    return pd.DataFrame(
        {
            log.by: np.repeat(np.asarray(units, dtype=object), n_periods),
            "period": np.tile(log.periods.start_time.to_numpy(), len(units)),
            "period_number": np.tile(np.arange(n_periods), len(units)),
            name: matrix.ravel(),
        }
    )


def _component_table(log: _Log, units: Sequence[str]) -> pd.DataFrame | None:
    if not log.dimensions:
        return None
    n_periods = len(log.periods)
    frames = []
    for role in log.dimensions:
        lists = log.entries[role]
        exploded = pd.DataFrame(
            {
                "unit": log.entries["unit"],
                "period_number": log.entries["period_number"],
                "value": lists,
                "share": log.entries["minutes"] / lists.map(len),
            }
        ).explode("value")
        values = sorted(pd.unique(exploded["value"]).tolist())
        for value in values:
            rows = exploded.loc[exploded["value"] == value]
            matrix = _zero_filled(
                units,
                n_periods,
                rows["unit"].to_numpy(),
                rows["period_number"].to_numpy(),
                rows["share"].to_numpy(),
            )
            frame = _long_table(log, matrix, units, "minutes")
            frame.insert(1, "dimension", role)
            frame.insert(2, "value", value)
            frame["cumulative_minutes"] = np.cumsum(matrix, axis=1).ravel()
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def dose_table(
    activities: pd.DataFrame,
    *,
    by: Literal["engagement", "site", "team", "recipient"] = "site",
    per: Literal["week", "month", "quarter"] = "month",
    components: bool | str | Sequence[str] = True,
    columns: Mapping[str, str] | None = None,
) -> DoseTable:
    """Minutes of support per unit and period, zero-filled, cumulated, and per component.

    Parameters
    ----------
    activities : pandas.DataFrame
        The activity log, one row per contact: the columns ``date`` and ``minutes`` and the column of the unit
        (see the module docstring for the names; ``columns=`` renames them).
    by : {"engagement", "site", "team", "recipient"}
        The unit the dose is counted for. Rows that name no such unit (a team meeting has no recipient) are
        left out, and a warning says how many.
    per : {"week", "month", "quarter"}
        The period. Every unit gets every period from the log's first to its last, with 0 minutes when
        nothing was logged, so that cumulative doses of different units line up.
    components : bool, str or sequence of str
        Also count the dose per component: ``True`` for every component column the log has (component,
        core_components, competencies, support_mode), ``False`` for none, or the roles (or columns) to use.
        A contact listing several components (``"a;b"``) gives each an equal share of its minutes; an empty
        cell counts as ``"(unspecified)"``.
    columns : mapping, optional
        Column names that differ from the defaults, by role: ``{"recipient": "recipient", "date": "day"}``.

    Returns
    -------
    DoseTable
        ``table`` (unit, period, period_number, contacts, minutes, cumulative_minutes), ``components``,
        ``wide()``, ``totals()``.

    Raises
    ------
    DataError
        Not a DataFrame, no rows, a missing column (with "did you mean"), an empty or unreadable date, empty,
        non-numeric or negative minutes, an unknown support mode; each names its column and rows.

    Examples
    --------
    >>> log = pd.DataFrame(
    ...     {
    ...         "date": ["2024-01-10", "2024-01-20", "2024-03-05", "2024-02-14"],
    ...         "site": ["S1", "S1", "S1", "S2"],
    ...         "minutes": [60, 30, 90, 45],
    ...         "component": ["facilitation", "facilitation;coaching", "coaching", "coaching"],
    ...     }
    ... )
    >>> doses = dose_table(log, by="site")
    >>> doses.wide("minutes")  # doctest: +NORMALIZE_WHITESPACE
    period  2024-01-01  2024-02-01  2024-03-01
    site
    S1            90.0         0.0        90.0
    S2             0.0        45.0         0.0
    >>> doses.wide()  # cumulative minutes  # doctest: +NORMALIZE_WHITESPACE
    period  2024-01-01  2024-02-01  2024-03-01
    site
    S1            90.0        90.0       180.0
    S2             0.0        45.0        45.0
    >>> minutes = doses.components.groupby(["site", "value"])["minutes"].sum()
    >>> minutes.loc["S1"].to_dict()  # the 30 minutes of "facilitation;coaching" split 15 and 15
    {'coaching': 105.0, 'facilitation': 75.0}
    """
    log = _read_log(activities, by=by, per=per, columns=columns, components=components)
    units = log.units
    n_periods = len(log.periods)
    unit, number = log.entries["unit"].to_numpy(), log.entries["period_number"].to_numpy()
    minutes = _zero_filled(units, n_periods, unit, number, log.entries["minutes"].to_numpy())
    contacts = _zero_filled(units, n_periods, unit, number, np.ones(len(log.entries)))
    table = _long_table(log, contacts.astype(int), units, "contacts")
    table["minutes"] = minutes.ravel()
    table["cumulative_minutes"] = np.cumsum(minutes, axis=1).ravel()
    return DoseTable(table, _component_table(log, units), by, per, log.notes)


# ----------------------------------------------------------------------------------------------------
# dose_trajectories
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DoseTrajectoriesResult(AnalysisResult):
    """Result of `dose_trajectories`: the growth-curve model of the cumulative dose and the groups of units
    with similar trajectories.

    Effects (``to_frame()``): the fixed effects of the growth model, ``intercept`` (cumulative minutes in the
    first period), ``time`` (minutes added per period; with ``quadratic=True`` at the first period) and
    ``time_squared`` (half the change of that rate per period), with their standard errors, Wald z intervals
    and p-values.

    Attributes
    ----------
    curves : pandas.DataFrame
        One row per unit and period of the model: the unit (column named after `by`), time (periods since the
        log's first period, or since the unit's first contact with ``align="first_activity"``), minutes,
        cumulative_minutes.
    random_covariance : pandas.DataFrame
        The 2 x 2 covariance of the units' random intercepts and slopes.
    residual_variance : float
        The variance of the cumulative dose around each unit's own curve.
    units : pandas.DataFrame
        One row per unit: group (1 = the lowest final dose), total minutes over the compared periods, and the
        unit's own intercept and slope (fixed effects plus its predicted random effects).
    group_curves : pandas.DataFrame
        One row per group and time: n, mean, min and max of the cumulative minutes.
    group_sizes : dict
        Units per group.
    silhouette : dict
        Mean silhouette width of the k-means partition for every number of groups tried.
    n_groups, horizon, n_units : int
        Groups found, periods compared between units, units modelled.
    """

    by: str = "site"
    per: str = "month"
    component: str | None = None
    align: str = "calendar"
    quadratic: bool = False
    curves: pd.DataFrame | None = None
    random_covariance: pd.DataFrame | None = None
    residual_variance: float = math.nan
    units: pd.DataFrame | None = None
    group_curves: pd.DataFrame | None = None
    group_sizes: dict[int, int] = field(default_factory=dict)
    silhouette: dict[int, float] = field(default_factory=dict)
    n_groups: int = 1
    horizon: int = 0
    n_units: int = 0

    title = "Dose trajectories"
    headline = ("intercept", "time", "time_squared")

    @property
    def labels(self) -> pd.Series:
        """The group of every unit (1 = lowest final dose)."""
        assert self.units is not None
        return self.units["group"]

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        assert self.random_covariance is not None and self.units is not None
        base.update(
            plain(
                {
                    "by": self.by,
                    "per": self.per,
                    "component": self.component,
                    "align": self.align,
                    "quadratic": self.quadratic,
                    "random_covariance": self.random_covariance.to_dict(),
                    "residual_variance": self.residual_variance,
                    "units": self.units.reset_index(),
                    "group_curves": self.group_curves,
                    "group_sizes": self.group_sizes,
                    "silhouette": self.silhouette,
                    "n_groups": self.n_groups,
                    "horizon": self.horizon,
                    "n_units": self.n_units,
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """The growth model, its random effects, the groups and how their number was chosen."""
        fmt = f"{{:.{digits}g}}"
        assert self.random_covariance is not None and self.units is not None
        what = f"cumulative minutes of {self.component!r}" if self.component else "cumulative minutes"
        lines = [
            f"{self.title}: {what} per {self.by} and {self.per}; {self.n_units} {self.by}(s), "
            f"{self.info.get('n')} {self.by}-{self.per}s",
            f"  model: {self.info.get('method')}",
            "",
            self.to_frame()[["estimate", "se", "ci_low", "ci_high", "p"]].to_string(
                float_format=lambda v: fmt.format(v)
            ),
            "",
            "Random intercepts and slopes (covariance):",
            self.random_covariance.to_string(float_format=lambda v: fmt.format(v)),
            f"residual variance: {fmt.format(self.residual_variance)}",
            "",
            f"Groups of similar trajectories: {self.n_groups} ({self.info.get('grouping')})",
        ]
        finals = self.units.groupby("group")["total_minutes"].mean()
        for group, size in self.group_sizes.items():
            lines.append(f"  group {group}: {size} {self.by}(s), mean {fmt.format(finals[group])} minutes")
        if self.silhouette:
            widths = ", ".join(f"{k}: {v:.3f}" for k, v in self.silhouette.items())
            lines.append(f"  mean silhouette width by number of groups: {widths}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Every unit's cumulative dose (thin, coloured by group) and each group's mean curve (thick); returns
        the matplotlib Axes.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> rng = np.random.default_rng(0)
        >>> days = pd.date_range("2024-01-01", periods=12, freq="MS") + pd.Timedelta(days=9)
        >>> log = pd.DataFrame(
        ...     [{"date": d, "site": f"S{s}", "minutes": (20 if s < 4 else 90) + rng.normal(0, 5)}
        ...      for s in range(8) for d in days]
        ... )
        >>> ax = dose_trajectories(log, by="site").plot()
        >>> len(ax.lines)  # 8 sites and 2 group means
        10
        """
        import matplotlib.pyplot as plt

        assert self.curves is not None and self.units is not None and self.group_curves is not None
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.2))
        colours = plt.get_cmap("tab10")
        groups = self.units["group"]
        for unit, rows in self.curves.groupby(self.by, sort=True):
            colour = colours((int(groups[unit]) - 1) % 10)
            ax.plot(rows["time"], rows["cumulative_minutes"], color=colour, lw=0.6, alpha=0.45)
        for group, rows in self.group_curves.groupby("group"):
            ax.plot(
                rows["time"],
                rows["mean"],
                color=colours((int(group) - 1) % 10),
                lw=2.4,
                label=f"group {group} (n={self.group_sizes[int(group)]})",
            )
        since = "first contact" if self.align == "first_activity" else "start of the log"
        ax.set_xlabel(f"{self.per}s since the {since}")
        ax.set_ylabel("cumulative minutes")
        ax.set_title(f"{self.title} per {self.by}", fontsize=10)
        ax.legend(frameon=False, fontsize="small")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        return ax


def _curves(
    log: _Log, amounts: np.ndarray, align: str
) -> tuple[pd.DataFrame, np.ndarray, list[str], list[str]]:
    """The long frame of the model, the (units, horizon) matrix of cumulative doses compared between units,
    the units, and notes."""
    units = log.units
    n_periods = len(log.periods)
    matrix = _zero_filled(
        units, n_periods, log.entries["unit"].to_numpy(), log.entries["period_number"].to_numpy(), amounts
    )
    notes: list[str] = []
    if align == "calendar":
        starts = np.zeros(len(units), dtype=int)
    else:
        received = matrix.sum(axis=1) > 0
        if not received.all():
            notes.append(
                f"{int((~received).sum())} {log.by}(s) received none of this dose and have no trajectory "
                "since a first contact: they are left out"
            )
            matrix, units = matrix[received], [u for u, keep in zip(units, received, strict=True) if keep]
        starts = np.argmax(matrix > 0, axis=1)
    frames = []
    for unit, row, start in zip(units, matrix, starts, strict=True):
        own = row[start:]
        frames.append(
            pd.DataFrame(
                {
                    log.by: unit,
                    "time": np.arange(own.size),
                    "minutes": own,
                    "cumulative_minutes": np.cumsum(own),
                }
            )
        )
    curves = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    horizon = int(n_periods - starts.max()) if len(units) else 0
    compared = np.array(
        [np.cumsum(row[start : start + horizon]) for row, start in zip(matrix, starts, strict=True)]
    )
    return curves, compared, units, notes


def _growth_model(
    curves: pd.DataFrame, by: str, quadratic: bool, level: float
) -> tuple[list[Effect], pd.DataFrame, float, pd.DataFrame, list[str]]:
    """REML fit of cumulative minutes ~ time (+ time²) with a random intercept and slope per unit."""
    import statsmodels.api as sm

    time = curves["time"].to_numpy(dtype=float)
    exog = pd.DataFrame({"intercept": 1.0, "time": time})
    if quadratic:
        exog["time_squared"] = time**2
    random = exog[["intercept", "time"]]
    model = sm.MixedLM(
        curves["cumulative_minutes"].astype(float), exog, groups=curves[by].to_numpy(), exog_re=random
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = model.fit(reml=True)
            estimates, ses = fit.fe_params, fit.bse_fe  # statsmodels warns here, too, when SEs fail
        except (np.linalg.LinAlgError, ValueError) as error:
            raise DataError(
                f"the growth model of the cumulative dose could not be fitted ({error})",
                hint="check that the units' doses differ and that there are enough units and periods",
            ) from error
    # statsmodels' own warnings (convergence, a boundary of the covariance) are kept; numpy's, from a
    # covariance matrix that is not positive definite, are said in words below
    notes = list(
        dict.fromkeys(f"growth model: {w.message}" for w in caught if w.category is not RuntimeWarning)
    )
    if not np.isfinite(np.asarray(ses)).all():
        notes.append(
            "growth model: the fixed effects' standard errors cannot be computed (the curves leave no "
            "residual variation, or the random effects are degenerate): read the estimates without intervals"
        )
    z_crit = float(special.ndtri(0.5 + level / 2))
    effects = []
    for name in exog.columns:
        estimate, se = float(estimates[name]), float(ses[name])
        p = float(2 * special.ndtr(-abs(estimate / se))) if se > 0 else math.nan
        effects.append(
            Effect(name, "fixed", estimate, se, estimate - z_crit * se, estimate + z_crit * se, p, "wald_z")
        )
    covariance = pd.DataFrame(
        np.asarray(fit.cov_re), index=["intercept", "time"], columns=["intercept", "time"]
    )
    own = pd.DataFrame(fit.random_effects).T
    own.columns = ["intercept", "time"]
    own["intercept"] += fit.fe_params["intercept"]
    own["time"] += fit.fe_params["time"]
    own = own.rename(columns={"time": "slope"})
    return effects, covariance, float(fit.scale), own, notes


def _silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette width (Rousseeuw, 1987): s(i) = (b - a) / max(a, b) with a the mean distance to the
    own group, b to the nearest other group; 0 for a unit alone in its group. SciPy has no silhouette, and
    scikit-learn is not a run-time dependency of moclab: the formula takes a few lines."""
    distances = cdist(points, points)
    groups = np.unique(labels)
    widths = np.zeros(len(points))
    for i in range(len(points)):
        own = labels == labels[i]
        if own.sum() == 1:
            continue
        a = distances[i, own].sum() / (own.sum() - 1)
        b = min(distances[i, labels == g].mean() for g in groups if g != labels[i])
        widths[i] = (b - a) / max(a, b) if max(a, b) > 0 else 0.0
    return float(widths.mean())


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The labels of the best of `KMEANS_RESTARTS` k-means runs (scipy's kmeans2, k-means++ seeds)."""
    best, best_inertia = None, math.inf
    for _ in range(KMEANS_RESTARTS):
        try:
            centroids, labels = kmeans2(points, k, iter=100, minit="++", missing="raise", seed=rng)
        except ClusterError:  # a group lost all its units: this start is dropped
            continue
        inertia = float(((points - centroids[labels]) ** 2).sum())
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    if best is None:
        raise DataError(f"k-means found no partition into {k} non-empty groups", hint="ask for fewer groups")
    return best


def _ordered(labels: np.ndarray, finals: np.ndarray) -> np.ndarray:
    """Labels renumbered 1..k by the group's mean final dose, lowest first, so that they do not depend on the
    random start."""
    groups = np.unique(labels)
    order = groups[np.argsort([finals[labels == g].mean() for g in groups], kind="stable")]
    mapping = {g: i + 1 for i, g in enumerate(order)}
    return np.array([mapping[g] for g in labels])


def _groups(
    compared: np.ndarray, groups: int | None, max_groups: int, seed: int | np.random.Generator | None
) -> tuple[np.ndarray, dict[int, float], str, list[str]]:
    """Group labels of the units' cumulative curves, the silhouettes tried, how k was chosen, and notes."""
    n_units = compared.shape[0]
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    finals = compared[:, -1]
    if groups == 1:
        return np.ones(n_units, dtype=int), {}, "one group, as asked", notes
    if np.ptp(compared, axis=0).max() == 0:
        notes.append("every unit has the same cumulative dose curve: one group")
        return np.ones(n_units, dtype=int), {}, "identical curves", notes
    if groups is not None:
        labels = _kmeans(compared, groups, rng)
        widths = {groups: _silhouette(compared, labels)}
        return _ordered(labels, finals), widths, f"k-means with {groups} groups, as asked", notes
    distinct = len(np.unique(compared, axis=0))  # k-means cannot make more groups than distinct curves
    candidates = range(2, min(max_groups, n_units - 1, distinct) + 1)
    partitions = {k: _kmeans(compared, k, rng) for k in candidates}
    widths = {k: _silhouette(compared, labels) for k, labels in partitions.items()}
    best = max(widths, key=lambda k: (widths[k], -k))
    if widths[best] <= NO_STRUCTURE:
        notes.append(
            f"the best partition ({best} groups) has a mean silhouette width of {widths[best]:.2f}, at most "
            f"{NO_STRUCTURE} ('no substantial structure', Kaufman & Rousseeuw 1990): the trajectories are "
            "reported as one group"
        )
        return np.ones(n_units, dtype=int), widths, "no substantial group structure", notes
    if widths[best] <= WEAK_STRUCTURE:
        notes.append(
            f"the {best} groups have a mean silhouette width of {widths[best]:.2f}, a weak structure that "
            "could be artificial (0.26 to 0.50, Kaufman & Rousseeuw 1990): they may cut a continuum of "
            "trajectories rather than find distinct kinds of engagement"
        )
    chosen = (
        f"k-means; {best} groups have the largest mean silhouette width ({widths[best]:.2f}) of 2 to "
        f"{max(candidates)} groups"
    )
    return _ordered(partitions[best], finals), widths, chosen, notes


def dose_trajectories(
    activities: pd.DataFrame,
    *,
    by: Literal["engagement", "site", "team", "recipient"] = "site",
    per: Literal["week", "month", "quarter"] = "month",
    component: str | None = None,
    align: Literal["calendar", "first_activity"] = "calendar",
    quadratic: bool = False,
    groups: int | None = None,
    max_groups: int = 5,
    seed: int | np.random.Generator | None = 0,
    level: float = 0.95,
    columns: Mapping[str, str] | None = None,
) -> DoseTrajectoriesResult:
    """Growth curves of the cumulative dose per unit, and groups of units whose dose grew alike.

    Parameters
    ----------
    activities : pandas.DataFrame
        The activity log: ``date``, ``minutes`` and the unit's column (see `dose_table`); with `component`,
        also the column holding it (``component``, ``core_components``, ``competencies`` or
        ``support_mode``).
    by, per, columns
        As in `dose_table`.
    component : str, optional
        Follow the dose of one component, competency or support mode (a value of one of those columns; a
        contact listing several components gives it an equal share of its minutes). Default: all minutes.
    align : {"calendar", "first_activity"}
        Time 0 is the log's first period for every unit (``"calendar"``: units that start late carry zeros),
        or each unit's first period with this dose (``"first_activity"``: trajectories of engagements that
        began at different times are compared from their start; units without this dose are left out).
    quadratic : bool
        Add time² to the fixed effects (a dose that speeds up or slows down).
    groups : int, optional
        The number of trajectory groups; None chooses it (below).
    max_groups : int
        The most groups tried when `groups` is None.
    seed : int, numpy.random.Generator or None
        The k-means starts.
    level : float
        Confidence level of the fixed effects' intervals.

    Returns
    -------
    DoseTrajectoriesResult

    Raises
    ------
    DataError
        Everything `dose_table` refuses; fewer than 3 units or 3 periods; no minutes at all (of `component`);
        an unknown component; `groups` not between 1 and the number of units - 1.

    Notes
    -----
    *Growth model* (Singer & Willett, 2003, ch. 3-6): ``cum_ij = (β0 + u0_i) + (β1 + u1_i) t_j (+ β2 t_j²) +
    e_ij`` for unit i in period j, with (u0, u1) normal with an unstructured covariance and independent
    residuals, fitted by REML with statsmodels' `MixedLM`. β1 is the average number of minutes added per
    period. A cumulative dose is a running sum, so the residuals of one unit are serially correlated, which
    the model does not represent: read the fixed effects as the average curve and their standard errors as
    optimistic.

    *Trajectory groups*: each unit's cumulative dose over the periods every unit has (the ``horizon``) is a
    point; k-means (scipy's ``kmeans2``, k-means++ starts, the best of 20) partitions the points, so units are
    grouped by the level and the shape of their whole curve (Euclidean distance between curves, the k-means
    counterpart of the group-based trajectory model of Nagin, 2005). Without `groups`, 2 to `max_groups`
    groups are tried and the number with the largest mean silhouette width (Rousseeuw, 1987) is kept; when
    even that is at most 0.25, "no substantial structure" (Kaufman & Rousseeuw, 1990), all units form one
    group, and up to 0.50 ("weak, could be artificial") a warning says the groups may cut a continuum: units
    drawn from one population of trajectories typically give 0.3 to 0.5 for two groups, so a silhouette in
    that range is no evidence of distinct kinds of engagement. The silhouette rather than the BIC of a
    Gaussian mixture: the periods of a cumulative curve are strongly correlated, so a mixture with independent
    periods misstates the likelihood and its BIC keeps adding groups, while a mixture with a full covariance
    per group has more parameters than the dozen units an ISP team supports; the silhouette needs no model
    of the curves' noise. Groups are numbered by their
    mean final dose, lowest first.

    References
    ----------
    Kaufman, L., & Rousseeuw, P. J. (1990). *Finding Groups in Data*. Wiley.
    Nagin, D. S. (2005). *Group-Based Modeling of Development*. Harvard University Press.
    Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and validation of cluster
    analysis. *Journal of Computational and Applied Mathematics*, 20, 53-65.
    Singer, J. D., & Willett, J. B. (2003). *Applied Longitudinal Data Analysis: Modeling Change and Event
    Occurrence*. Oxford University Press.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> days = pd.date_range("2024-01-01", periods=12, freq="MS") + pd.Timedelta(days=9)
    >>> rate = {f"S{s:02d}": 30.0 if s < 6 else 90.0 for s in range(12)}  # two kinds of engagement
    >>> log = pd.DataFrame(
    ...     [{"date": d, "site": s, "minutes": r + rng.normal(0, 5)} for s, r in rate.items() for d in days]
    ... )
    >>> result = dose_trajectories(log, by="site")
    >>> round(result.effect("time").estimate)  # minutes added per month, on average over the sites
    60
    >>> result.n_groups, result.group_sizes
    (2, {1: 6, 2: 6})
    """
    _arguments.check(level=level, seed=seed)
    _arguments.choice("align", align, ("calendar", "first_activity"))
    if not isinstance(max_groups, int) or isinstance(max_groups, bool) or max_groups < 2:
        raise DataError(f"max_groups must be a whole number of at least 2, not {max_groups!r}")
    log = _read_log(activities, by=by, per=per, columns=columns, components=bool(component))
    amounts = _amounts(log, [component] if component else [])
    what = f"minutes of '{component}'" if component else "minutes"
    if not (amounts > 0).any():
        raise DataError(
            f"every logged contact has 0 {what}: there is no dose whose growth could be modelled",
            hint="check the minutes column" + (" and the component asked for" if component else ""),
        )
    curves, compared, units, notes = _curves(log, amounts, align)
    n_units = len(units)
    if n_units < 3:
        raise DataError(
            f"growth curves with a random intercept and slope per {by} need at least 3 {by}s; the log has "
            f"{n_units}",
            hint=f"count the dose per a smaller unit (by='team', 'recipient'), or use dose_table for a {by}",
        )
    horizon = compared.shape[1]
    if horizon < 3:
        spans = curves.groupby(by)["time"].max() + 1
        short = ", ".join(str(u) for u in spans[spans < 3].index[:_MAX_SHOWN])
        raise DataError(
            f"only {horizon} {per}(s) to compare the {by}s over: a trajectory needs at least 3"
            + (
                f" (these {by}s begin in the log's last {per}s: {short})" if align == "first_activity" else ""
            ),
            hint="use a shorter period (per='week')"
            + (
                ", align='calendar', or leave those units out of the log" if align == "first_activity" else ""
            ),
        )
    if groups is not None and (
        not isinstance(groups, int) or isinstance(groups, bool) or not 1 <= groups <= n_units - 1
    ):
        raise DataError(
            f"groups must be a whole number from 1 to {n_units - 1} (the {by}s less one), not {groups!r}",
            hint="or None to choose the number of groups",
        )
    if n_units < 10:
        notes.append(
            f"only {n_units} {by}s: the variances of the random intercepts and slopes rest on few units"
        )
    effects, covariance, residual, own, fit_notes = _growth_model(curves, by, quadratic, level)
    labels, widths, grouping, group_notes = _groups(compared, groups, max_groups, seed)
    unit_table = pd.DataFrame(
        {"group": labels, "total_minutes": compared[:, -1]}, index=pd.Index(units, name=by)
    ).join(own)
    group_rows = []
    for group in sorted(set(labels.tolist())):
        members = compared[labels == group]
        for t in range(horizon):
            column = members[:, t]
            group_rows.append(
                {
                    "group": group,
                    "time": t,
                    "n": len(column),
                    "mean": column.mean(),
                    "min": column.min(),
                    "max": column.max(),
                }
            )
    method = (
        f"linear mixed model (REML, statsmodels MixedLM): cumulative {what} ~ time"
        + (" + time^2" if quadratic else "")
        + f", random intercept and slope per {by}; time in {per}s since "
        + ("the unit's first contact" if align == "first_activity" else "the log's first period")
    )
    info = {
        "method": method,
        "n": len(curves),
        "n_units": n_units,
        "level": level,
        "grouping": grouping,
        "seed": seed if isinstance(seed, int) else None,
    }
    return DoseTrajectoriesResult(
        effects=tuple(effects),
        info=info,
        warnings=(*log.notes, *notes, *fit_notes, *group_notes),
        by=by,
        per=per,
        component=component,
        align=align,
        quadratic=quadratic,
        curves=curves,
        random_covariance=covariance,
        residual_variance=residual,
        units=unit_table,
        group_curves=pd.DataFrame(group_rows),
        group_sizes={int(g): int((labels == g).sum()) for g in sorted(set(labels.tolist()))},
        silhouette=widths,
        n_groups=len(set(labels.tolist())),
        horizon=horizon,
        n_units=n_units,
    )


# ----------------------------------------------------------------------------------------------------
# dose_mediation
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DoseMediationResult(AnalysisResult):
    """Result of `dose_mediation`: the mediation model with the logged dose as the strategy, and the two
    dose-response links of the gradient criterion.

    Effects: those of the mediation (``a[M]``, ``b[M]``, ``indirect[M]``, ``direct``, ``total``,
    ``proportion_mediated``), then ``dose_slope`` and ``dose_trend`` (the mechanism on the dose) and
    ``mechanism_slope`` and ``mechanism_trend`` (the outcome on the mechanism, holding the dose and the
    covariates fixed).

    Attributes
    ----------
    mediation : MediationResult
        The full mediation result (`moclab.analysis.mediate`).
    dose_mechanism, mechanism_outcome : DoseResponseResult
        The two dose-response analyses (`moclab.analysis.dose_response`), with their dose groups and curves.
    doses : pandas.DataFrame
        One row per row of the measures frame: the unit, the last day counted (``until``, empty for the whole
        log) and the dose (``support_minutes``).
    by, mechanism, outcome : str
    """

    mediation: MediationResult | None = None
    dose_mechanism: DoseResponseResult | None = None
    mechanism_outcome: DoseResponseResult | None = None
    doses: pd.DataFrame | None = None
    by: str = "recipient"
    mechanism: str = ""
    outcome: str = ""

    title = "Logged dose -> mechanism -> outcome"
    headline = ("indirect", "dose_trend", "mechanism_trend")

    def gradient_effects(self) -> dict[str, Effect]:
        """The slopes and trend tests the gradient criterion reads, under the names of the arguments of
        `moclab.evidence.rules.gradient.judge_gradient`: ``judge_gradient(**result.gradient_effects(),
        level=0.95)``."""
        assert self.dose_mechanism is not None and self.mechanism_outcome is not None
        return {
            "dose_slope": self.dose_mechanism.effect("slope"),
            "dose_trend": self.dose_mechanism.effect("trend"),
            "mechanism_slope": self.mechanism_outcome.effect("slope"),
            "mechanism_trend": self.mechanism_outcome.effect("trend"),
        }

    def to_dict(self) -> dict[str, Any]:
        base = super().to_dict()
        assert self.mediation is not None and self.dose_mechanism is not None
        assert self.mechanism_outcome is not None
        base.update(
            plain(
                {
                    "by": self.by,
                    "mechanism": self.mechanism,
                    "outcome": self.outcome,
                    "mediation": self.mediation.to_dict(),
                    "dose_mechanism": self.dose_mechanism.to_dict(),
                    "mechanism_outcome": self.mechanism_outcome.to_dict(),
                    "doses": self.doses,
                }
            )
        )
        return base

    def summary(self, digits: int = 4) -> str:
        """The dose, the mediation report and the two dose-response reports."""
        assert self.mediation is not None and self.dose_mechanism is not None
        assert self.mechanism_outcome is not None
        lines = [
            f"{self.title}: {self.info.get('dose')}",
            "",
            self.mediation.summary(digits),
            "",
            "Gradient, dose -> mechanism:",
            self.dose_mechanism.summary(digits),
            "",
            "Gradient, mechanism -> outcome (holding the dose and the covariates fixed):",
            self.mechanism_outcome.summary(digits),
        ]
        parts = ("dose -> mechanism: ", "mechanism -> outcome: ")  # shown in their own reports above
        own = [w for w in self.warnings if w not in self.mediation.warnings and not w.startswith(parts)]
        lines.extend(f"warning: {w}" for w in own)
        return "\n".join(lines)


def _window_dates(window: Any, measures: pd.DataFrame) -> tuple[pd.Series | None, str, list[str]]:
    """The last day each row's dose counts (None: the whole log), a description, and notes."""
    if isinstance(window, str) and window == "all":
        note = (
            "window='all': the dose counts every logged contact, also those after the mechanism was "
            "measured, which cannot have caused it; give the mechanism's measurement date to keep the time "
            "order"
        )
        return None, "the whole log", [note]
    if isinstance(window, str) and window in measures.columns:
        dates = _dates(measures[window], window, table="measures frame")
        return dates, f"each row's date in '{window}'", []
    try:
        day = pd.Timestamp(window)
    except (TypeError, ValueError) as error:
        raise DataError(
            f"window must be 'all', a date or a date column of the measures frame, not {window!r}",
            hint="e.g. window='2024-07-15' (the mechanism's wave) or window='date' (a column)",
        ) from error
    if pd.isna(day):
        raise DataError(f"window must be a date, not {window!r}", hint="e.g. window='2024-07-15'")
    day = day.tz_localize(None) if day.tzinfo is not None else day
    dates = pd.Series(day, index=measures.index).astype("datetime64[ns]")
    return dates, f"{day:%Y-%m-%d}", []


def _doses(log: _Log, amounts: np.ndarray, unit: pd.Series, until: pd.Series | None) -> np.ndarray:
    """Each row's dose: the minutes its unit received up to its date (all of them without dates); 0 for a
    unit the log never names; NaN for a row without a unit."""
    entries = pd.DataFrame({"unit": log.entries["unit"], "date": log.entries["date"], "amount": amounts})
    if until is None:
        totals = entries.groupby("unit")["amount"].sum()
        values = unit.map(totals).astype("float64").fillna(0.0).to_numpy(copy=True)
    else:
        daily = entries.groupby(["unit", "date"], as_index=False)["amount"].sum().sort_values("date")
        daily["cumulative"] = daily.groupby("unit")["amount"].cumsum()
        query = pd.DataFrame({"unit": unit.to_numpy(), "date": until.to_numpy(), "row": np.arange(len(unit))})
        found = pd.merge_asof(
            query.dropna(subset=["unit"]).sort_values("date"),
            daily[["unit", "date", "cumulative"]],
            on="date",
            by="unit",
            direction="backward",  # the last day with a contact on or before the row's date
        )
        values = np.zeros(len(unit))
        values[found["row"].to_numpy()] = found["cumulative"].fillna(0.0).to_numpy()
    values[unit.isna().to_numpy()] = np.nan
    return values


def _with_dose(
    log: _Log, measures: pd.DataFrame, window: Any, components: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], str]:
    """The measures frame with the dose column, the doses table, notes, and the window in words."""
    names, by = log.columns, log.by
    recipient_column = names["recipient"]
    if recipient_column in measures.columns:
        repeated = measures[recipient_column].notna() & measures[recipient_column].duplicated(keep=False)
        if repeated.any():
            raise DataError(
                f"the measures frame has several rows for a recipient ('{recipient_column}' repeats in "
                f"{_rows(repeated.to_numpy(), measures[recipient_column])})",
                hint="pass one row per recipient: the mechanism at its wave and the outcome at a later one",
            )
    amounts = _amounts(log, components)
    until, window_text, notes = _window_dates(window, measures)
    unit = _unit_ids(measures[names[by]])
    doses = _doses(log, amounts, unit, until)
    never = sorted(set(unit.dropna()) - set(log.entries["unit"]))
    if never:
        notes.append(
            f"{len(never)} {by}(s) of the measures frame have no logged contact and a dose of 0 (e.g. "
            f"{', '.join(never[:3])})"
        )
    frame = measures.copy()
    frame[DOSE_COLUMN] = doses
    table = pd.DataFrame(
        {by: unit.to_numpy(), "until": until.to_numpy() if until is not None else pd.NaT, DOSE_COLUMN: doses},
        index=measures.index,
    )
    return frame, table, notes, window_text


def dose_mediation(
    activities: pd.DataFrame,
    measures: pd.DataFrame,
    *,
    mechanism: str,
    outcome: str,
    window: Window,
    by: Literal["engagement", "site", "team", "recipient"] = "recipient",
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    components: Sequence[str] = (),
    columns: Mapping[str, str] | None = None,
    dose_groups: int = 4,
    ci: str = "percentile",
    n_boot: int = 5000,
    seed: int | np.random.Generator | None = None,
    level: float = 0.95,
) -> DoseMediationResult:
    """Does the support a recipient received, counted from the log, act on the outcome through the mechanism?

    The dose of each row of `measures` is the minutes its unit (the recipient, or their team, site or
    engagement) received up to the `window`; it is the strategy X of `moclab.analysis.mediate` (a continuous
    dose), and the gradient criterion's two links are `moclab.analysis.dose_response` fits: the mechanism on
    the dose, and the outcome on the mechanism holding the dose and the covariates fixed.

    Parameters
    ----------
    activities : pandas.DataFrame
        The activity log: ``date``, ``minutes`` and the unit's column (see `dose_table`); with `components`,
        the column holding them.
    measures : pandas.DataFrame
        One row per recipient (or per unit): the unit's column (the same name as in the log, or as set in
        `columns`), the mechanism, the outcome and the covariates; e.g. the mechanism at its wave and the
        outcome at a later wave of ``study.wide()``, merged by recipient.
    mechanism, outcome : str
        Numeric columns of `measures`.
    window : str, date or "all"
        Which contacts count: those dated on or before a date (the mechanism's wave: ``"2024-07-15"``), on or
        before each row's date in a column of `measures` (when recipients answered on different days), or
        ``"all"`` (the whole log, with a warning: support after the mechanism was measured cannot explain it).
    by : {"recipient", "team", "site", "engagement"}
        Whose contacts make a row's dose. A team's or site's dose is shared by its recipients, and the
        mediation and dose-response standard errors are then clustered by that column (unless `cluster` says
        otherwise).
    covariates : sequence of str
        Numeric columns of `measures` adjusted for in every model (baselines of the mechanism and outcome).
    cluster : str, optional
        A column of `measures` for cluster-robust inference (default: the unit's column when `by` is not
        ``"recipient"``).
    components : sequence of str
        Count only these components (values of one component column; equal shares of contacts that list
        several).
    columns : mapping, optional
        Column names that differ from the defaults (see the module docstring).
    dose_groups : int
        Quantile groups of the trend tests.
    ci, n_boot, seed, level
        The inference of `mediate` (``ci`` one of percentile, bca, monte_carlo, delta) and the level of every
        interval.

    Returns
    -------
    DoseMediationResult
        ``mediation``, ``dose_mechanism``, ``mechanism_outcome``, ``doses``, ``gradient_effects()``.

    Raises
    ------
    DataError
        Everything `dose_table`, `mediate` and `dose_response` refuse; a measures frame without the unit's
        column; several rows for one recipient; a window that is neither a date, a date column nor "all".

    Notes
    -----
    The dose is an observed amount, not an assigned one: units that asked for (or were given) more support
    may differ in readiness, and the indirect effect is causal only if the dose is as good as randomly
    received given the covariates (see `moclab.analysis.sensitivity`). A recipient the log never names has a
    dose of 0; the warnings say how many.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> n = 120
    >>> people = pd.DataFrame({"recipient_id": [f"R{i:03d}" for i in range(n)]})
    >>> log = pd.DataFrame(
    ...     {
    ...         "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, 4 * n), unit="D"),
    ...         "recipient_id": rng.choice(people["recipient_id"], 4 * n),
    ...         "minutes": rng.choice([30, 60, 90], 4 * n),
    ...     }
    ... )
    >>> received = log[log.date <= "2024-07-15"].groupby("recipient_id").minutes.sum()
    >>> dose = people.recipient_id.map(received).fillna(0).to_numpy()
    >>> people["trust"] = 0.01 * dose + rng.normal(size=n)
    >>> people["adoption"] = 0.5 * people["trust"] + rng.normal(size=n)
    >>> result = dose_mediation(
    ...     log, people, mechanism="trust", outcome="adoption", window="2024-07-15", ci="delta"
    ... )
    >>> round(result.effect("a[trust]").estimate, 3), result.gradient_effects()["dose_trend"].p < 0.05
    (0.01, True)
    """
    _arguments.check(level=level)
    measures = _columns.data_frame(measures)
    components = [components] if isinstance(components, str) else list(components)
    log = _read_log(activities, by=by, per="month", columns=columns, components=bool(components))
    names = log.columns
    _require(measures, by, names[by], table="measures frame")
    if DOSE_COLUMN in measures.columns:
        raise DataError(
            f"the measures frame already has a column '{DOSE_COLUMN}', the name of the dose",
            hint="rename or drop it",
        )
    frame, doses, notes, window_text = _with_dose(log, measures, window, components)
    if cluster is None and by != "recipient":
        cluster = names[by]
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    mediation = mediate(
        frame,
        x=DOSE_COLUMN,
        m=mechanism,
        y=outcome,
        covariates=covariates,
        cluster=cluster,
        x_type="dose",
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        level=level,
    )
    dose_mechanism = dose_response(
        frame,
        dose=DOSE_COLUMN,
        response=mechanism,
        covariates=covariates,
        cluster=cluster,
        groups=dose_groups,
        level=level,
    )
    mechanism_outcome = dose_response(
        frame,
        dose=mechanism,
        response=outcome,
        covariates=[DOSE_COLUMN, *covariates],
        cluster=cluster,
        groups=dose_groups,
        level=level,
    )
    what = f"minutes of {', '.join(components)}" if components else "minutes"
    dose_text = f"{DOSE_COLUMN} = {what} per {by} from the activity log up to {window_text}"
    gradient = [
        replace(result.effect(kind), name=f"{link}_{kind}")
        for link, result in (("dose", dose_mechanism), ("mechanism", mechanism_outcome))
        for kind in ("slope", "trend")
    ]
    info = {
        **mediation.info,
        "method": f"{dose_text}; mediation: {mediation.info.get('method')}; gradient: dose-response",
        "dose": dose_text,
        "window": window_text,
        "by": by,
    }
    warnings_ = [*log.notes, *notes, *mediation.warnings]
    warnings_ += [f"dose -> mechanism: {w}" for w in dose_mechanism.warnings]
    warnings_ += [f"mechanism -> outcome: {w}" for w in mechanism_outcome.warnings]
    return DoseMediationResult(
        effects=(*mediation.effects, *gradient),
        info=info,
        warnings=tuple(dict.fromkeys(warnings_)),
        mediation=mediation,
        dose_mechanism=dose_mechanism,
        mechanism_outcome=mechanism_outcome,
        doses=doses,
        by=by,
        mechanism=mechanism,
        outcome=outcome,
    )


# ----------------------------------------------------------------------------------------------------
# support_mode_profile
# ----------------------------------------------------------------------------------------------------

#: What the by-mode comparison of `support_mode_profile` is, said with every rendering of it.
DESCRIPTIVE_ONLY = (
    "descriptive only: units were not assigned their support mode, so differences between the modes are not "
    "effects of the mode; whether the mode changes the pathway (moderated mediation) is not tested here"
)
MIXED = "mixed"
NO_SUPPORT = "(no support logged)"


@dataclass(frozen=True, repr=False)
class SupportModeProfile:
    """Result of `support_mode_profile`: the share of minutes given in each support mode (Metz et al., 2022).

    Attributes
    ----------
    shares : pandas.DataFrame
        One row per unit and period with logged minutes of a known mode: the unit (a column named after `by`),
        period (its first day), period_number, minutes, the share of those minutes in push, push_pull and
        co_creation, and the dominant mode (``"mixed"`` when two modes tie).
    units : pandas.DataFrame
        The same per unit over the whole log (indexed by the unit), with contacts.
    by_mode : pandas.DataFrame or None
        With a measures frame: one row per dominant mode and variable: units, n (rows with a value), mean,
        sd. Rows whose unit has no logged mode form the group ``"(no support logged)"``.
    by, per : str
    variables : tuple of str
    warnings : tuple of str
    """

    shares: pd.DataFrame
    units: pd.DataFrame
    by_mode: pd.DataFrame | None
    by: str
    per: str
    variables: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    title = "Support modes"

    def to_frame(self) -> pd.DataFrame:
        """The shares per unit and period (a copy of `shares`)."""
        return self.shares.copy()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "by": self.by,
                "per": self.per,
                "shares": self.shares,
                "units": self.units.reset_index(),
                "by_mode": self.by_mode,
                "variables": list(self.variables),
                "descriptive_only": DESCRIPTIVE_ONLY,
                "warnings": list(self.warnings),
            }
        )

    def summary(self) -> str:
        """The modes' shares per unit and, with measures, the variables by dominant mode."""
        counts = self.units["dominant"].value_counts()
        lines = [
            f"{self.title} per {self.by} (share of minutes; Metz et al. 2022): "
            + ", ".join(f"{mode} dominant in {n}" for mode, n in counts.items()),
            "",
            self.units.to_string(float_format=lambda v: f"{v:.2f}"),
        ]
        if self.by_mode is not None:
            lines += ["", f"By dominant support mode ({DESCRIPTIVE_ONLY}):"]
            lines.append(self.by_mode.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        counts = self.units["dominant"].value_counts()
        dominant = ", ".join(f"{mode}: {n}" for mode, n in counts.items())
        return f"SupportModeProfile({len(self.units)} {self.by}s by dominant mode: {dominant})"

    def _repr_html_(self) -> str:
        body = self.units.to_html(float_format=lambda v: f"{v:.2f}", border=0)
        if self.by_mode is not None:
            body += f"<p>{html.escape(DESCRIPTIVE_ONLY)}</p>"
            body += self.by_mode.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        head = f"<strong>{html.escape(self.title)}</strong> per {html.escape(self.by)}"
        return f"<div>{head}{body}" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"


def _dominant(shares: np.ndarray) -> list[str]:
    """The mode with the largest share in each row; "mixed" when two modes share the largest."""
    top = shares.max(axis=1, keepdims=True)
    ties = np.isclose(shares, top).sum(axis=1)
    return [
        MIXED if t > 1 else SUPPORT_MODES[int(i)] for t, i in zip(ties, shares.argmax(axis=1), strict=True)
    ]


def _share_frame(minutes: np.ndarray) -> pd.DataFrame:
    """Minutes per mode (rows, modes) as total minutes, shares and the dominant mode."""
    total = minutes.sum(axis=1)
    shares = minutes / total[:, None]
    frame = pd.DataFrame(shares, columns=list(SUPPORT_MODES))
    frame.insert(0, "minutes", total)
    frame["dominant"] = _dominant(shares)
    return frame


def _by_mode(
    measures: pd.DataFrame, unit_column: str, variables: Sequence[str], dominant: pd.Series
) -> pd.DataFrame:
    for name in variables:
        _require(measures, "variable", name, table="measures frame")
        if name != unit_column:
            _columns.numeric_values(measures[name].dropna(), "variable", name)
    mode = _unit_ids(measures[unit_column]).map(dominant).fillna(NO_SUPPORT).to_numpy()
    order = [m for m in (*SUPPORT_MODES, MIXED, NO_SUPPORT) if (mode == m).any()]
    rows = []
    for name in variables:
        values = measures[name].to_numpy(dtype=float)
        for group in order:
            chosen = (mode == group) & ~np.isnan(values)
            unit_ids = measures[unit_column].to_numpy()[mode == group]
            rows.append(
                {
                    "dominant_mode": group,
                    "variable": name,
                    "units": int(pd.Series(unit_ids).nunique()),
                    "n": int(chosen.sum()),
                    "mean": float(values[chosen].mean()) if chosen.any() else math.nan,
                    "sd": float(values[chosen].std(ddof=1)) if chosen.sum() > 1 else math.nan,
                }
            )
    return pd.DataFrame(rows)


def support_mode_profile(
    activities: pd.DataFrame,
    *,
    by: Literal["engagement", "site", "team", "recipient"] = "site",
    per: Literal["week", "month", "quarter"] = "month",
    measures: pd.DataFrame | None = None,
    variables: Sequence[str] = (),
    columns: Mapping[str, str] | None = None,
) -> SupportModeProfile:
    """The share of each unit's minutes given as push, push/pull or co-creation support, per period and over
    the log, and (descriptively) the mechanism and outcome by each unit's dominant mode.

    Parameters
    ----------
    activities : pandas.DataFrame
        The activity log: ``date``, ``minutes``, the unit's column and ``support_mode`` (push, push_pull or
        co_creation; "Push/pull" and "co-creation" are read as those). Contacts without a mode are left out of
        the shares, with a warning.
    by, per, columns
        As in `dose_table`.
    measures : pandas.DataFrame, optional
        One row per recipient (or unit) with the unit's column and the `variables`.
    variables : sequence of str
        Numeric columns of `measures` (the mechanism, the outcome) to describe by dominant mode.

    Returns
    -------
    SupportModeProfile
        ``shares`` (per unit and period), ``units`` (over the log), ``by_mode`` (with `measures`). The
        comparison by mode is descriptive: it says so in its text.

    Raises
    ------
    DataError
        Everything `dose_table` refuses; no support-mode column; an unknown mode (with "did you mean");
        no contact with a mode; `variables` without `measures` or the reverse.

    References
    ----------
    Metz, A., Jensen, T., Farley, A., & Boaz, A. (2022). Is implementation research out of step with
    implementation practice? Pathways to effective implementation support over the last decade.
    *Implementation Research and Practice*, 3, 26334895221105585. doi:10.1177/26334895221105585

    Examples
    --------
    >>> log = pd.DataFrame(
    ...     {
    ...         "date": ["2024-01-10", "2024-01-20", "2024-02-05", "2024-01-15"],
    ...         "site": ["S1", "S1", "S1", "S2"],
    ...         "minutes": [60, 30, 90, 45],
    ...         "support_mode": ["push", "co-creation", "co_creation", "Push/pull"],
    ...     }
    ... )
    >>> profile = support_mode_profile(log, by="site")
    >>> profile.units.loc["S1", "dominant"], round(float(profile.units.loc["S1", "co_creation"]), 3)
    ('co_creation', 0.667)
    >>> profile.units["dominant"].to_dict()
    {'S1': 'co_creation', 'S2': 'push_pull'}
    """
    if (measures is None) != (not variables):
        raise DataError(
            "variables and measures go together: the variables are columns of the measures frame",
            hint="pass measures=frame, variables=['trust', 'adoption'], or neither",
        )
    names = _column_names(columns)
    if isinstance(activities, pd.DataFrame) and not activities.empty:
        _require(activities, "support_mode", names["support_mode"])
    log = _read_log(activities, by=by, per=per, columns=columns, components=["support_mode"])
    modes = log.entries["support_mode"].map(lambda cell: cell[0])
    known = (modes != UNSPECIFIED).to_numpy()
    notes = list(log.notes)
    if not known.any():
        raise DataError(
            f"no contact of the log has a support mode (column '{names['support_mode']}' is empty)",
            hint="log each contact's mode: push, push_pull or co_creation",
        )
    if not known.all():
        notes.append(f"{int((~known).sum())} contact(s) without a support mode are left out of the shares")
    entries = log.entries.loc[known]
    mode_codes = pd.Index(SUPPORT_MODES).get_indexer(modes[known])
    units = sorted(pd.unique(entries["unit"]).tolist())
    n_periods = len(log.periods)
    unit_codes = pd.Index(units).get_indexer(entries["unit"])
    cells = np.zeros((len(units), n_periods, len(SUPPORT_MODES)))
    np.add.at(
        cells, (unit_codes, entries["period_number"].to_numpy(), mode_codes), entries["minutes"].to_numpy()
    )
    per_period = cells.reshape(-1, len(SUPPORT_MODES))
    logged = per_period.sum(axis=1) > 0
    shares = _share_frame(per_period[logged])
    shares.insert(0, by, np.repeat(np.asarray(units, dtype=object), n_periods)[logged])
    shares.insert(1, "period", np.tile(log.periods.start_time.to_numpy(), len(units))[logged])
    shares.insert(2, "period_number", np.tile(np.arange(n_periods), len(units))[logged])
    totals = cells.sum(axis=1)
    if (totals.sum(axis=1) == 0).any():
        notes.append(f"some {by}s have 0 logged minutes: their shares are undefined")
    unit_table = _share_frame(totals).set_index(pd.Index(units, name=by))
    unit_table.insert(0, "contacts", np.bincount(unit_codes, minlength=len(units)))
    by_mode = None
    if measures is not None:
        measures = _columns.data_frame(measures)
        _require(measures, by, names[by], table="measures frame")
        by_mode = _by_mode(measures, names[by], list(variables), unit_table["dominant"])
    return SupportModeProfile(shares, unit_table, by_mode, by, per, tuple(variables), tuple(notes))
