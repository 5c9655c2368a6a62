"""The dashboards' charts: Vega-Lite specifications built with altair from tidy frames, drawn as SVG on the
server with vl-convert, so that a page needs no script (the content security policy forbids inline scripts
and eval) and works offline.

Drawing an SVG takes tens of milliseconds, so each drawn SVG is kept in Django's cache under a hash of its
specification (its data included): the same chart of the same data is drawn once. Each chart comes in two
widths, for phones and for larger screens (a ``<picture>`` chooses).

Colours are colour-blind safe: the support modes always in the same three colours of the Okabe-Ito palette
(Okabe & Ito 2008, "Color Universal Design"), the pathway's stages in four others with a different point
shape each, amounts in the viridis scale (perceptually uniform, readable in grey).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import altair as alt
import pandas as pd
import vl_convert
from django.core.cache import cache

from moclab.web.practice.models import SupportMode

#: Chart widths in CSS pixels: ``narrow`` for phones, ``wide`` for larger screens.
WIDTHS = {"narrow": 300, "wide": 620}
#: The support modes' colours (Okabe-Ito orange, sky blue, bluish green), the same on every chart.
MODE_COLOURS = {
    SupportMode.PUSH.label: "#E69F00",
    SupportMode.PUSH_PULL.label: "#56B4E9",
    SupportMode.CO_CREATION.label: "#009E73",
}
#: The pathway stages' colours (Okabe-Ito blue, vermillion, reddish purple, black) and point shapes.
STAGE_COLOURS = ("#0072B2", "#D55E00", "#CC79A7", "#000000")
STAGE_SHAPES = ("circle", "square", "triangle-up", "diamond")
#: Seconds a drawn SVG is kept (the key changes with the data, so this only bounds the cache's size).
SVG_TTL = 24 * 3600


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart drawn as SVG, from the cache when the same specification was drawn before."""
    spec = chart.to_dict()
    key = (
        "dashboards:svg:" + hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    )
    drawn = cache.get(key)
    if drawn is None:
        drawn = vl_convert.vegalite_to_svg(spec)
        cache.set(key, drawn, SVG_TTL)
    return drawn


def _finish(chart: alt.TopLevelMixin, size: str) -> alt.TopLevelMixin:
    """The look every chart shares; legends below the plot so that a phone's chart keeps its width."""
    return (
        chart.configure(font="DejaVu Sans, Arial, sans-serif", background="white")
        .configure_axis(labelFontSize=11, titleFontSize=12)
        .configure_legend(
            orient="bottom", direction="horizontal", columns=1 if size == "narrow" else 2, labelLimit=280
        )
        .configure_view(stroke=None)
    )


def heatmap(frame: pd.DataFrame, size: str) -> alt.TopLevelMixin:
    """Minutes per month (columns) and term (rows), darker for more minutes (viridis). `frame`: month
    (Timestamp), term, minutes."""
    rows = max(1, frame["term"].nunique())
    label_width = 130 if size == "narrow" else 240
    chart = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("yearmonth(month):O", title="Month", axis=alt.Axis(format="%b %y", labelAngle=-90)),
            y=alt.Y("term:N", title=None, sort=None, axis=alt.Axis(labelLimit=label_width)),
            color=alt.Color(
                "sum(minutes):Q", title="Minutes", scale=alt.Scale(scheme="viridis", reverse=True)
            ),
        )
        .properties(width=WIDTHS[size] - label_width, height=20 * rows)
    )
    return _finish(chart, size)


def cumulative(frame: pd.DataFrame, size: str) -> alt.TopLevelMixin:
    """Cumulative minutes over the months, per support mode and in all. `frame`: month, mode, minutes
    (cumulative)."""
    modes = list(MODE_COLOURS)
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title="Month", axis=alt.Axis(format="%b %y", labelOverlap="greedy")),
            y=alt.Y("minutes:Q", title="Minutes, cumulative"),
            color=alt.Color(
                "mode:N",
                title="Support mode",
                scale=alt.Scale(domain=[*modes, "All modes"], range=[*MODE_COLOURS.values(), "#444444"]),
            ),
            strokeDash=alt.StrokeDash(
                "mode:N",
                scale=alt.Scale(domain=[*modes, "All modes"], range=[[1, 0], [1, 0], [1, 0], [4, 3]]),
                legend=None,
            ),
        )
        .properties(width=WIDTHS[size], height=200)
    )
    return _finish(chart, size)


def modes(frame: pd.DataFrame, size: str) -> alt.TopLevelMixin:
    """Minutes per month, stacked by support mode in the modes' own colours. `frame`: month, mode,
    minutes."""
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title="Month", axis=alt.Axis(format="%b %y", labelAngle=-90)),
            y=alt.Y("minutes:Q", title="Minutes", stack="zero"),
            color=alt.Color(
                "mode:N",
                title="Support mode",
                scale=alt.Scale(domain=list(MODE_COLOURS), range=list(MODE_COLOURS.values())),
            ),
            order=alt.Order("order:Q"),
        )
        .properties(width=WIDTHS[size], height=200)
    )
    return _finish(chart, size)


def received(frame: pd.DataFrame, size: str) -> alt.TopLevelMixin:
    """Recipients per group (rows) and band of minutes received (columns), darker for more and with the
    count written in (suppressed counts are blank). `frame`: group, band, order, recipients."""
    label_width = 110 if size == "narrow" else 220
    base = alt.Chart(frame).encode(
        x=alt.X(
            "band:N", title="Minutes received", sort=alt.SortField("order"), axis=alt.Axis(labelAngle=-40)
        ),
        y=alt.Y("group:N", title=None, sort=None, axis=alt.Axis(labelLimit=label_width)),
    )
    high = float(frame["recipients"].max()) if len(frame) else 0.0
    cells = base.mark_rect().encode(
        color=alt.Color(
            "recipients:Q", title="Recipients", scale=alt.Scale(scheme="viridis", reverse=True), legend=None
        )
    )
    counts = base.mark_text(fontSize=12).encode(
        text=alt.Text("recipients:Q", format=".0f"),
        color=alt.condition(alt.datum.recipients > high / 2, alt.value("white"), alt.value("black")),
    )
    chart = alt.layer(cells, counts).properties(width=WIDTHS[size] - label_width, height=alt.Step(28))
    return _finish(chart, size)


def pathway(frame: pd.DataFrame, size: str, stages: list[str]) -> alt.TopLevelMixin:
    """Stage scores (0-100) over the periods, one line per stage in its colour and point shape (suppressed
    points are absent). `frame`: period (label), order, stage, score."""
    chart = (
        alt.Chart(frame)
        .mark_line(point={"filled": True, "size": 70})
        .encode(
            x=alt.X(
                "period:N",
                title=None,
                sort=alt.SortField("order"),
                axis=alt.Axis(labelAngle=0, labelLimit=120),
            ),
            y=alt.Y("score:Q", title="Score (0-100)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "stage:N",
                title="Stage",
                scale=alt.Scale(domain=stages, range=list(STAGE_COLOURS[: len(stages)])),
            ),
            shape=alt.Shape(
                "stage:N",
                title="Stage",
                scale=alt.Scale(domain=stages, range=list(STAGE_SHAPES[: len(stages)])),
            ),
        )
        .properties(width=WIDTHS[size], height=220)
    )
    return _finish(chart, size)


def by_group(frame: pd.DataFrame, size: str, stages: list[str]) -> alt.TopLevelMixin:
    """Stage scores per site or team, a dot per stage (suppressed ones absent). `frame`: group, stage,
    score."""
    chart = (
        alt.Chart(frame)
        .mark_point(filled=True, size=80)
        .encode(
            y=alt.Y(
                "group:N", title=None, sort=None, axis=alt.Axis(labelLimit=120 if size == "narrow" else 240)
            ),
            x=alt.X("score:Q", title="Score (0-100)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "stage:N",
                title="Stage",
                scale=alt.Scale(domain=stages, range=list(STAGE_COLOURS[: len(stages)])),
            ),
            shape=alt.Shape(
                "stage:N",
                title="Stage",
                scale=alt.Scale(domain=stages, range=list(STAGE_SHAPES[: len(stages)])),
            ),
        )
        .properties(width=WIDTHS[size] - (120 if size == "narrow" else 240), height=alt.Step(26))
    )
    return _finish(chart, size)


def rates(frame: pd.DataFrame, size: str) -> alt.TopLevelMixin:
    """The share of invited recipients who answered, per period (suppressed ones absent). `frame`: period,
    order, rate (percent)."""
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#0072B2")
        .encode(
            x=alt.X(
                "period:N",
                title=None,
                sort=alt.SortField("order"),
                axis=alt.Axis(labelAngle=0, labelLimit=120),
            ),
            y=alt.Y("rate:Q", title="Answered (% of invited)", scale=alt.Scale(domain=[0, 100])),
        )
        .properties(width=WIDTHS[size], height=180)
    )
    return _finish(chart, size)


def empty(message: str, size: str) -> alt.TopLevelMixin:
    """A chart that says there is nothing to draw."""
    chart = (
        alt.Chart(pd.DataFrame({"text": [message]}))
        .mark_text(fontSize=13, color="#4d5560")
        .encode(text="text:N")
        .properties(width=WIDTHS[size], height=60)
    )
    return _finish(chart, size)


def to_records(chart: alt.TopLevelMixin) -> list[dict[str, Any]]:
    """The rows a chart draws (its inline data), for tests and checks."""
    spec = chart.to_dict()
    datasets = spec.get("datasets", {})
    return [row for rows in datasets.values() for row in rows]
