"""What each dashboard shows, prepared for the page (tables) and for its charts (tidy frames) from the same
numbers: the page's table beside a chart is the chart's data.

Aggregates of recipients come from the organisation's protected cells (`moclab.web.dashboards.cells`): a
suppressed cell is shown as "suppressed (fewer than k)" in the table and left out of the chart; a rate or a
mean per recipient is shown only when every cell it is computed from is shown. Minutes logged by ISPs
(activity-level dose, support modes) are about the ISPs' work, not the recipients', and are not suppressed.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from moclab.web.dashboards.cells import DOSE_BANDS, STAGES, Protected
from moclab.web.dashboards.queries import OrganisationData
from moclab.web.practice import terms
from moclab.web.practice.models import SupportMode


@dataclass(frozen=True)
class Shown:
    """One number as a table shows it: its text, and for an aggregate of recipients the cell it comes from
    (``data-cell``, the cell's key as JSON) and what it is (``data-stat``: count, mean or rate)."""

    text: str
    cell: str = ""
    stat: str = ""
    suppressed: bool = False
    base: str = ""


@dataclass
class Table:
    """A table beside a chart: a caption, column headings and rows (a heading and one `Shown` per column).
    `recipients` marks tables of aggregates of recipients (suppression applies)."""

    caption: str
    columns: list[str]
    rows: list[tuple[str, list[Shown]]]
    recipients: bool = False
    corner: str = ""


@dataclass
class Section:
    """A chart and its table; `frame` holds what the chart draws."""

    name: str
    title: str
    alt: str
    table: Table
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    empty: str = ""
    narrow: str = ""
    wide: str = ""


def encode(key: Hashable) -> str:
    return json.dumps(key, separators=(",", ":"))


def suppressed_text(k: int) -> str:
    return f"suppressed (fewer than {k})"


def count_of(protected: Protected, key: Hashable) -> Shown:
    """A count: of recipients, invitations, answers, recipients in a band (the cell's total)."""
    figure = protected.figure(key)
    if figure.suppressed:
        return Shown(suppressed_text(protected.k), encode(key), "count", True)
    return Shown(f"{figure.total:.0f}", encode(key), "count")


def mean_of(
    protected: Protected, key: Hashable, decimals: int = 0, *, needs: Iterable[Hashable] = ()
) -> Shown:
    """The mean of a cell, or suppressed when it or a cell in `needs` is (a mean is a sum over a count)."""
    figure = protected.figure(key)
    if figure.suppressed or any(protected.figure(other).suppressed for other in needs):
        return Shown(suppressed_text(protected.k), encode(key), "mean", True)
    if figure.mean is None:
        return Shown("–")
    return Shown(f"{figure.mean:.{decimals}f}", encode(key), "mean")


def rate_of(protected: Protected, answered: Hashable, invited: Hashable) -> Shown:
    """Answered as a percentage of invited, shown only when both counts are."""
    done, asked = protected.figure(answered), protected.figure(invited)
    if done.suppressed or asked.suppressed:
        return Shown(suppressed_text(protected.k), encode(answered), "rate", True, encode(invited))
    if asked.total == 0:
        return Shown("–")
    return Shown(f"{100 * done.total / asked.total:.0f}%", encode(answered), "rate", False, encode(invited))


def plain(value: float) -> Shown:
    """A number that is not an aggregate of recipients (minutes logged)."""
    return Shown(f"{value:,.0f}")


def value_of(shown: Shown) -> float | None:
    """The number a shown mean or count stands for, None when suppressed or empty."""
    if shown.suppressed or not shown.cell or shown.text == "–":
        return None
    return float(shown.text.rstrip("%"))


# -- support: dose over time, modes, who received how much ---------------------------------------------------


def log_of(data: OrganisationData, engagements: Iterable[int], isp: int | None = None) -> pd.DataFrame:
    """The monthly activity log of some engagements (or of one ISP's activities)."""
    frame = data.isp_log if isp is not None else data.log
    chosen = frame[frame["engagement"].isin(list(engagements))]
    return chosen[chosen["isp"] == isp] if isp is not None else chosen


def _months(log: pd.DataFrame) -> list[pd.Timestamp]:
    if log.empty:
        return []
    return list(pd.date_range(log["month"].min(), log["month"].max(), freq="MS"))


def per_term(log: pd.DataFrame, field_name: str) -> pd.DataFrame:
    """Minutes per month and term (core practice component or ISP competency), an activity's minutes split
    equally among the terms it lists, so that the terms' minutes add up to the minutes logged; activities
    listing none count under "none recorded". Columns month, term, minutes."""
    if log.empty:
        return pd.DataFrame(columns=["month", "term", "minutes"])
    rows = log[["month", field_name, "minutes"]].copy()
    rows["share"] = rows[field_name].map(lambda listed: max(len(listed), 1))
    rows["term"] = rows[field_name].map(lambda listed: list(listed) or [NONE_RECORDED])
    rows = rows.explode("term")
    rows["minutes"] = rows["minutes"] / rows["share"]
    ids = [entry.qualified_id for entry in terms.entries(field_name)]
    known = dict(zip(ids, terms.names(field_name, ids), strict=True))
    order = {term_id: number for number, term_id in enumerate(known)}
    rows["order"] = rows["term"].map(lambda term_id: order.get(term_id, len(order)))
    rows["term"] = rows["term"].map(lambda term_id: known.get(term_id, term_id))
    summed = rows.groupby(["order", "term", "month"], as_index=False)["minutes"].sum()
    return summed.sort_values(["order", "month"])[["month", "term", "minutes"]].reset_index(drop=True)


def by_mode(log: pd.DataFrame) -> pd.DataFrame:
    """Minutes and activities per month and support mode, every month and mode present (zeros included).
    Columns month, mode, order, minutes, activities."""
    months = _months(log)
    index = pd.MultiIndex.from_product(
        [months, [mode.value for mode in SupportMode]], names=["month", "code"]
    )
    summed = log.groupby(["month", "support_mode"])[["minutes", "activities"]].sum()
    summed.index.names = ["month", "code"]
    frame = summed.reindex(index, fill_value=0).reset_index()
    labels = {mode.value: (number, mode.label) for number, mode in enumerate(SupportMode)}
    frame["order"] = frame["code"].map(lambda code: labels[code][0])
    frame["mode"] = frame["code"].map(lambda code: labels[code][1])
    return frame[["month", "mode", "order", "minutes", "activities"]]


def cumulative(modes: pd.DataFrame) -> pd.DataFrame:
    """Cumulative minutes per support mode and in all, month by month. Columns month, mode, minutes."""
    if modes.empty:
        return pd.DataFrame(columns=["month", "mode", "minutes"])
    per_mode = modes.sort_values("month").copy()
    per_mode["minutes"] = per_mode.groupby("mode")["minutes"].cumsum()
    total = per_mode.groupby("month", as_index=False)["minutes"].sum().assign(mode="All modes")
    return pd.concat([per_mode[["month", "mode", "minutes"]], total], ignore_index=True)


#: Where the minutes of an activity that lists no term of a kind go.
NONE_RECORDED = "none recorded"
#: The terms of each kind, for headings: one, several.
TERM_WORDS = {
    "core_components": ("core practice component", "core practice components"),
    "competencies": ("ISP competency", "ISP competencies"),
}


def term_section(log: pd.DataFrame, field_name: str, name: str) -> Section:
    one, several = TERM_WORDS[field_name]
    frame = per_term(log, field_name)
    months = _months(log)
    pivot = frame.pivot_table(index="month", columns="term", values="minutes", aggfunc="sum", sort=False)
    pivot = pivot.reindex(months).fillna(0)
    columns = list(pivot.columns)
    rows = [(f"{month:%b %Y}", [plain(pivot.at[month, term]) for term in columns]) for month in months]
    empty = ""
    if frame.empty:
        empty = "No activities logged yet."
    elif columns == [NONE_RECORDED]:
        empty = f"No {several} recorded on these activities."
    return Section(
        name=name,
        title=f"Minutes per month per {one}",
        alt=f"Heat map of the minutes of support per month (columns) for each {one} (rows), darker for more; "
        "the table below lists the same minutes.",
        table=Table(f"Minutes per month per {one}", columns, rows, corner="Month"),
        frame=frame,
        empty=empty,
    )


def mode_sections(log: pd.DataFrame) -> list[Section]:
    """The support modes per month (stacked minutes) and the cumulative minutes, per mode and in all."""
    modes = by_mode(log)
    labels = [mode.label for mode in SupportMode]
    wide = modes.pivot_table(index="month", columns="mode", values="minutes", aggfunc="sum").reindex(
        columns=labels
    )
    counts = modes.groupby("month")["activities"].sum()
    rows = [
        (
            f"{month:%b %Y}",
            [
                plain(counts[month]),
                *[plain(wide.at[month, label]) for label in labels],
                plain(wide.loc[month].sum()),
            ],
        )
        for month in wide.index
    ]
    running = cumulative(modes)
    totals = running[running["mode"] == "All modes"].set_index("month")["minutes"]
    cumulative_rows = [(f"{month:%b %Y}", [plain(value)]) for month, value in totals.items()]
    empty = "" if not modes.empty else "No activities logged yet."
    return [
        Section(
            name="modes",
            title="Support modes over time",
            alt="Stacked bars of the minutes of support per month, by support mode: push (orange), push/pull "
            "(sky blue), co-creation (green); the table below lists the same minutes.",
            table=Table(
                "Activities and minutes per month, by support mode",
                ["Activities", *labels, "All"],
                rows,
                corner="Month",
            ),
            frame=modes,
            empty=empty,
        ),
        Section(
            name="cumulative",
            title="Cumulative minutes",
            alt="Lines of the minutes of support added up month by month, per support mode and in all "
            "(dashed).",
            table=Table(
                "Minutes of support so far, at the end of each month",
                ["Minutes so far"],
                cumulative_rows,
                corner="Month",
            ),
            frame=running,
            empty=empty,
        ),
    ]


def received_section(protected: Protected, groups: list[tuple[str, tuple[Any, ...]]]) -> Section:
    """Who received how much: per group, its recipients, their mean minutes and how many received how many
    minutes (bands). Counts and the mean are suppressed behind k."""
    columns = ["Recipients", "Mean minutes", *[f"Received {label}" for label, _, _ in DOSE_BANDS]]
    rows, chart_rows = [], []
    for label, group in groups:
        count_key, dose_key = ("recipients", group), ("dose", group)
        bands = [count_of(protected, ("band", number, group)) for number in range(len(DOSE_BANDS))]
        rows.append(
            (label, [count_of(protected, count_key), mean_of(protected, dose_key, needs=[count_key]), *bands])
        )
        for number, ((band_label, _, _), shown) in enumerate(zip(DOSE_BANDS, bands, strict=True)):
            if (value := value_of(shown)) is not None:
                chart_rows.append({"group": label, "band": band_label, "order": number, "recipients": value})
    return Section(
        name="received",
        title="Who received how much",
        alt="Grid of the number of recipients (rows: groups) by the minutes of support they received "
        "(columns: none, under 1 hour, 1 to 3 hours, 3 to 10 hours, 10 hours or more), darker for more, the "
        "count written in each cell; suppressed counts are left blank.",
        table=Table(
            "Recipients by the minutes of support they received (present by name or with their team)",
            columns,
            rows,
            recipients=True,
            corner="Group",
        ),
        frame=pd.DataFrame(chart_rows, columns=["group", "band", "order", "recipients"]),
        empty="" if chart_rows else "Nothing to draw: no recipients, or every count is suppressed.",
    )


# -- the recipients' pathway ---------------------------------------------------------------------------------


def periods_of(data: OrganisationData, survey: int) -> list[tuple[tuple[Any, ...], str]]:
    """A survey's periods (its waves, or the months of a survey sent after each activity), in order.

    There is no "all waves" aggregate of the answers: it would sum every wave's cells, linking all the
    waves' answers into one table to protect, where a hidden cell of one wave could be worked out from the
    total minus the other waves unless many more cells were hidden, and the protection of a large portfolio
    would take minutes instead of milliseconds (each wave is protected on its own: `moclab.disclosure`)."""
    return list(data.periods.get(survey, []))


def pathway_sections(
    data: OrganisationData,
    protected: Protected,
    survey: int,
    group: tuple[Any, ...],
    *,
    invited: bool = True,
) -> list[Section]:
    """The pathway of one group over a survey's periods: the response rates (or, for answers after an ISP's
    sessions, the answers) and the stage scores per period."""
    periods = periods_of(data, survey)
    stage_labels = [label for _, label in STAGES]
    rate_rows, rate_frame, stage_rows, stage_frame = [], [], [], []
    for order, (period, label) in enumerate(periods):
        answered_key = ("answered", group, survey, period)
        answered = count_of(protected, answered_key)
        if invited:
            invited_key = ("invited", group, survey, period)
            rate = rate_of(protected, answered_key, invited_key)
            rate_rows.append((label, [count_of(protected, invited_key), answered, rate]))
            if (value := value_of(rate)) is not None:
                rate_frame.append({"period": label, "order": order, "rate": value})
        else:
            rate_rows.append((label, [answered]))
        scores = [mean_of(protected, ("stage", stage, group, survey, period)) for stage, _ in STAGES]
        stage_rows.append((label, scores))
        for stage_label, shown in zip(stage_labels, scores, strict=True):
            if (value := value_of(shown)) is not None:
                stage_frame.append({"period": label, "order": order, "stage": stage_label, "score": value})
    rates = Section(
        name="rates",
        title="Response rates" if invited else "Answers",
        alt="Bars of the share of invited recipients who answered, per wave; suppressed ones are left out.",
        table=Table(
            "Invited and answered per wave" if invited else "Answers per wave",
            ["Invited", "Answered", "Answered (%)"] if invited else ["Answers"],
            rate_rows,
            recipients=True,
            corner="Wave",
        ),
        frame=pd.DataFrame(rate_frame, columns=["period", "order", "rate"]),
        empty="" if rate_frame else "Nothing to draw: no waves yet, or every rate is suppressed.",
    )
    pathway = Section(
        name="pathway",
        title="The recipients' pathway over time",
        alt="Lines of the mean score (0 to 100) of each stage of the recipients' pathway per wave: affective "
        "response (blue circles), acceptability, appropriateness and feasibility (vermillion squares), "
        "knowledge and application (purple triangles), sustained capacity (black diamonds); suppressed "
        "means are left out.",
        table=Table(
            "Mean stage scores (0-100) per wave", stage_labels, stage_rows, recipients=True, corner="Wave"
        ),
        frame=pd.DataFrame(stage_frame, columns=["period", "order", "stage", "score"]),
        empty="" if stage_frame else "Nothing to draw: no answers yet, or every mean is suppressed.",
    )
    return [pathway, rates]


def by_group_section(
    protected: Protected,
    survey: int,
    period: tuple[Any, ...],
    period_label: str,
    groups: list[tuple[str, tuple[Any, ...]]],
    what: str,
) -> Section:
    """Stage scores per site or team, for one period."""
    stage_labels = [label for _, label in STAGES]
    rows, frame = [], []
    for label, group in groups:
        answered = count_of(protected, ("answered", group, survey, period))
        scores = [mean_of(protected, ("stage", stage, group, survey, period)) for stage, _ in STAGES]
        rows.append((label, [answered, *scores]))
        for stage_label, shown in zip(stage_labels, scores, strict=True):
            if (value := value_of(shown)) is not None:
                frame.append({"group": label, "stage": stage_label, "score": value})
    return Section(
        name="groups",
        title=f"By {what} ({period_label})",
        alt=f"Dots of the mean score (0 to 100) of each stage per {what}, in the stages' colours and shapes; "
        "suppressed means are left out.",
        table=Table(
            f"Answers and mean stage scores (0-100) by {what}",
            ["Answers", *stage_labels],
            rows,
            recipients=True,
            corner=what.capitalize(),
        ),
        frame=pd.DataFrame(frame, columns=["group", "stage", "score"]),
        empty="" if frame else "Nothing to draw: no answers, or every mean is suppressed.",
    )
