"""The power page in a real browser: no horizontal overflow and no console errors at 375, 1024 and 1920 px,
the answer first, and the screenshot of docs/images/power-page.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from moclab.design import power_analysis, sample_size_search
from moclab.design.render import write_power_report
from tests.browser.conftest import WIDTHS


@pytest.fixture(scope="module")
def power_page(tmp_path_factory) -> Path:
    """A small power page of the template: four pathways (one of each mechanism), 6 to 12 sites."""
    result = power_analysis(
        "recipient-pathway",
        sites=[6, 9, 12],
        reps=12,
        pathways=[
            "isp_support__trust__acceptability",
            "isp_support__psych_safety__acceptability",
            "isp_support__positive_emotion__feasibility",
            "isp_support__credibility__appropriateness",
        ],
        method="mc",
        n_mc=500,
        seed=5,
    )
    searches = {
        pathway: sample_size_search(result, target=0.8, pathway=pathway) for pathway in result.pathway_ids
    }
    folder = tmp_path_factory.mktemp("power") / "page"
    write_power_report(result, folder, search=searches, target=0.8)
    return folder / "index.html"


@pytest.mark.parametrize("width", WIDTHS)
def test_power_page_fits_every_width(open_page, power_page, width, tmp_path, docs_image):
    loaded = open_page(power_page, width)
    assert loaded.horizontal_overflow() == 0
    assert loaded.console_errors == [] and loaded.failed_requests == []
    page = loaded.page
    # The answer comes first, before the curves; the details are folded except the first pathway's.
    headings = page.locator("h2").all_inner_texts()
    assert headings[:2] == ["Power curves", "Method"]
    answer_top = page.locator("section.answer").bounding_box()["y"]
    curves_top = page.locator("h2", has_text="Power curves").bounding_box()["y"]
    assert answer_top < curves_top
    assert page.locator("details[open]").count() == 1
    assert page.locator("main details").count() == 5  # four pathways and the settings
    text = page.locator("main").inner_text()
    assert "None" not in text and "nan" not in text.split()
    # Wide tables scroll inside their own box, never the page.
    for box in page.locator(".scroll").all():
        assert box.evaluate("element => element.getBoundingClientRect().right") <= width + 0.5
    shot = loaded.screenshot(tmp_path / f"power-{width}.png", full_page=True)
    assert shot.stat().st_size > 10_000
    if width == 1024:
        assert loaded.screenshot(docs_image("power-page.png"), full_page=False).stat().st_size > 10_000


def test_power_page_says_what_reached_the_target_and_what_did_not(power_page):
    page = power_page.read_text(encoding="utf-8")
    assert "How many sites reach power 0.80?" in page
    # A size never simulated is never the answer: "> 12 sites" with how to simulate larger ones.
    assert "&gt; 12 sites" in page and "--sites 15:24:3" in page
    # Each test is named once in the methods sentence.
    method = page.split("<h2>Method</h2>", 1)[1].split("</p>", 1)[0]
    for test in ("joint significance", "the Sobel test", "the Monte Carlo interval"):
        assert method.count(test) == 1
    # Recipients are whole numbers.
    rows = re.findall(r"Recipients analysed \(mean\)</th>\s*(.*?)</tr>", page, flags=re.DOTALL)
    assert len(rows) == 4
    for row in rows:
        cells = re.findall(r"<td>(.*?)</td>", row)
        assert len(cells) == 3 and all(re.fullmatch(r"[\d,]+", cell) for cell in cells)
