"""The shared page (`render_page`, ``base.html.j2``) and the number formats every page uses."""

from __future__ import annotations

import math

import pytest

from moclab.report import environment, format_interval, format_number, format_p, render_page, stylesheet
from moclab.report.page import decimals_for, format_p_text, format_percent, unsign_zeros

from .html_tree import parse


def test_render_page_wraps_a_body_in_the_house_style():
    page = render_page(
        "Power of <the> trial",
        "<p id='power'>Power is <strong>0.83</strong>.</p>",
        subtitle="Sites & recipients",
        banner="Synthetic data",
        toc=[{"id": "power", "label": "Power <curve>", "children": []}],
        footer_note="Monte Carlo: 500 replications.",
    )
    tree = parse(page)
    assert tree.find("title").text() == "Power of <the> trial"
    assert "Power of &lt;the&gt; trial" in page
    assert tree.find("p", class_="subtitle").text() == "Sites & recipients"
    assert tree.find("p", class_="banner").text() == "Synthetic data"
    assert tree.find("p", id="power").find("strong").text() == "0.83"
    assert tree.find("nav", class_="toc").find("a").attrs["href"] == "#power"
    assert "Monte Carlo: 500 replications." in tree.find("footer").text()
    assert tree.find("style").text().strip() == stylesheet().strip()
    assert tree.find("meta", http_equiv="Content-Security-Policy") is not None
    assert tree.find_all("script") == []


def test_other_pages_can_extend_the_base_template():
    from moclab.report.page import page_context

    template = environment().from_string(
        '{% extends "base.html.j2" %}{% block content %}<p class="x">{{ value|num }} {{ p|ptext }}</p>'
        "{% endblock %}"
    )
    page = template.render(value=0.123456, p=0.0004, **page_context("Power"))
    assert parse(page).find("p", class_="x").text() == "0.123 p < .001"


def test_autoescaping_is_on():
    assert environment().from_string("{{ text }}").render(text="<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.21049, "0.210"),
        (-1.5, "-1.500"),
        (0.015, "0.015"),
        (0.00367, "0.0037"),  # below 0.01: two significant digits, never 0.000
        (0.0004123, "0.00041"),
        (-0.00612, "-0.0061"),
        (0.0, "0.000"),
        (-0.0, "0.000"),
        (3, "3"),
        (None, "—"),
        (math.nan, "—"),
        (math.inf, "—"),
        (True, "true"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_numbers_read_together_share_their_decimals():
    # an estimate near zero beside its SE and interval: one precision for the row, set by the largest
    places = decimals_for(0.00367, 0.015, -0.026, 0.033)
    assert places == 3
    assert [format_number(v, places) for v in (0.00367, 0.015)] == ["0.004", "0.015"]
    assert format_interval(-0.026, 0.033, places) == "[-0.026, 0.033]"
    assert decimals_for(0.00041, 0.0002) == 5 and decimals_for(None, math.nan, 0.0) == 3
    assert decimals_for(2e-14) == 10  # bounded


def test_a_signed_zero_prints_unsigned():
    assert format_number(-0.0001, 3) == "0.000" and format_number(-0.0004, 2) == "0.00"
    assert format_interval(-0.0004, 0.2) == "[0.000, 0.200]"
    assert format_percent(-0.00001) == "0.0%"
    assert format_number(-0.0006, 3) == "-0.001"
    # sentences written by other layers
    assert unsign_zeros("trend -0.000 [-0.005, 0.005], -0 and -0.0; keep -0.0004, x-0.000, 1-0") == (
        "trend 0.000 [-0.005, 0.005], 0 and 0.0; keep -0.0004, x-0.000, 1-0"
    )


def test_intervals_share_their_decimals():
    assert format_interval(0.0821, 0.30204) == "[0.082, 0.302]"
    assert format_interval(-0.00139, 0.00127) == "[-0.0014, 0.0013]"
    assert format_interval(None, 0.3) == "—" and format_interval(math.nan, 0.3) == "—"
    assert format_interval(0.1, 0.2, decimals=1) == "[0.1, 0.2]"


def test_p_values_in_apa_style():
    values = (0.00001, 0.0009999, 0.001, 0.023, 0.0321, 0.5, 0.9994, 0.9999, 1.0, None)
    assert [format_p(p) for p in values] == [
        "< .001",
        "< .001",
        ".001",
        ".023",
        ".032",
        ".500",
        ".999",
        "> .999",
        "> .999",
        "—",
    ]
    assert [format_p_text(p) for p in (0.0002, 0.04, 1.0, math.nan)] == [
        "p < .001",
        "p = .040",
        "p > .999",
        "p —",
    ]
