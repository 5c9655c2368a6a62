"""The evidence report in a real browser: it reads on a phone, a small laptop and a desktop, and it prints.

The report is the example study's (two pathways, 200 resamples: the page, not the statistics, is under test),
written once for the module. Screenshots of every width land in the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moclab.evidence import analyze
from moclab.report import build_report
from moclab.study import example_path, load_study
from tests.report.helpers import CREDIBILITY, QUICK, TRUST

from .conftest import WIDTHS

#: Width of an A4 page in CSS pixels (210 mm at 96 px per inch), for the printed layout.
A4_WIDTH = 794


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    study = load_study(example_path(), show_progress=False)
    evidence = analyze(study, pathways=[TRUST, CREDIBILITY], **QUICK)
    report = build_report(evidence, study, show_progress=False)
    return report.write(tmp_path_factory.mktemp("report") / "report")


def _box(page, selector: str) -> dict[str, float]:
    return page.eval_on_selector(
        selector,
        "element => { const r = element.getBoundingClientRect();"
        " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; }",
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_report_fits_every_width(open_page, report_page, tmp_path, width):
    loaded = open_page(report_page, width)
    loaded.screenshot(tmp_path / f"report-{width}.png", full_page=True)
    assert loaded.horizontal_overflow() == 0
    assert loaded.console_errors == []
    assert loaded.failed_requests == []
    page = loaded.page

    # the diagram is fitted to the column of text (the page never scrolls sideways to show it)
    column = _box(page, "main")
    diagram = _box(page, "figure.pathway-model svg")
    assert diagram["width"] > 0.8 * column["width"] or width >= 1920
    assert column["left"] - 0.5 <= diagram["left"] and diagram["right"] <= column["right"] + 0.5

    # the scorecard: every column on screen from 1024 px on; on a phone it scrolls inside its own box
    table = _box(page, "table.scorecard")
    wrap = _box(page, ".scorecard-wrap")
    assert wrap["right"] <= width
    if width >= 1024:
        assert table["right"] <= wrap["right"] + 0.5 <= width + 0.5
    else:
        scrolls = page.eval_on_selector(".scorecard-wrap", "e => e.scrollWidth > e.clientWidth")
        overflow_x = page.eval_on_selector(".scorecard-wrap", "e => getComputedStyle(e).overflowX")
        assert scrolls and overflow_x == "auto"


def test_the_contents_follow_the_reader(open_page, report_page):
    wide = open_page(report_page, 1920).page
    wide.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    contents = _box(wide, "nav.toc")
    assert contents["top"] == pytest.approx(0, abs=1) and contents["bottom"] > 200  # sticky beside the text
    assert not wide.is_visible("a.to-contents")

    narrow = open_page(report_page, 375).page
    assert narrow.eval_on_selector("nav.toc", "e => getComputedStyle(e).position") == "static"
    narrow.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    corner = _box(narrow, "a.to-contents")  # a compact way back to the contents, always in the corner
    assert 0 < corner["top"] < corner["bottom"] <= 900 and corner["right"] <= 375
    narrow.click("a.to-contents")
    assert _box(narrow, "nav.toc")["top"] == pytest.approx(0, abs=10)


def test_the_page_is_a_short_summary_with_the_details_folded(open_page, report_page):
    page = open_page(report_page, 1920).page
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 6 * 900  # a few screens: conclusions, scorecard, diagram, one line per pathway
    bodies = page.locator("section.pathway .pathway-body")
    assert bodies.count() == 2 and not bodies.first.is_visible()
    assert page.locator("section.pathway summary").first.text_content().count("criteria met") == 1

    # a link into a folded pathway opens it
    anchor = page.get_attribute("section.pathway", "id")
    page.goto(f"{report_page.resolve().as_uri()}#{anchor}-verdicts")
    assert page.eval_on_selector(f"#{anchor} > details", "e => e.open")
    assert page.is_visible(f"#{anchor}-verdicts")


def test_the_diagram_opens_at_full_size_and_closes(open_page, report_page, tmp_path):
    loaded = open_page(report_page, 1024)
    page = loaded.page
    fitted = _box(page, "figure.pathway-model svg")
    page.click("figure.pathway-model .zoom-open")
    loaded.screenshot(tmp_path / "diagram-full-size.png")
    frame = _box(page, "figure.pathway-model .zoom-frame")
    full = _box(page, "figure.pathway-model svg")
    assert (frame["left"], frame["top"], frame["right"]) == (0, 0, 1024)  # over the whole window
    assert full["width"] > 1.3 * fitted["width"]
    assert page.eval_on_selector(".zoom-frame", "e => e.scrollWidth > e.clientWidth")  # scrolls inside
    assert loaded.horizontal_overflow() == 0
    page.click("figure.pathway-model .zoom-close")
    assert _box(page, "figure.pathway-model svg")["width"] == pytest.approx(fitted["width"])


def test_the_printed_report_has_everything_open_and_nothing_cut(open_page, report_page, tmp_path):
    loaded = open_page(report_page, A4_WIDTH)
    page = loaded.page
    page.emulate_media(media="print")
    assert not page.is_visible("nav.toc") and not page.is_visible(".zoom-control")
    assert page.eval_on_selector("a.to-contents", "e => getComputedStyle(e).display") == "none"
    # folded details print open: the pathways, the exclusions, the methods
    for selector in ("section.pathway .pathway-body", "table.exclusions", "#methods ul"):
        assert page.locator(selector).first.evaluate("e => e.checkVisibility()"), selector
    assert loaded.horizontal_overflow() == 0
    widest = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('table, figure svg, pre')]"
        ".filter(e => e.checkVisibility()).map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= A4_WIDTH
    page.pdf(path=str(tmp_path / "report.pdf"))
    assert (tmp_path / "report.pdf").stat().st_size > 10_000
