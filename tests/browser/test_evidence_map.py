"""The evidence map in a real browser: it reads on a phone and a desktop, loads nothing, and its filters (CSS
only, no script) count exactly what `EvidenceMap.matrix(**filters)` counts.

The map is the bundled example's, written once for the module; screenshots land in the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moclab.mapping import COLUMNS, EvidenceMap, build_map, example_path, write_map

#: A phone and a desktop.
WIDTHS = (375, 1280)


@pytest.fixture(scope="module")
def example_map(tmp_path_factory: pytest.TempPathFactory) -> tuple[EvidenceMap, Path]:
    evidence_map = build_map([example_path()])
    return evidence_map, write_map(evidence_map, tmp_path_factory.mktemp("map") / "map")


def _visible_counts(page) -> dict[str, dict[str, tuple[int, int]]]:
    """Per shown mechanism row and column: the marks of studies that met the criterion and that judged it,
    among those the page displays (what its CSS counters count)."""
    return page.evaluate(
        """() => Object.fromEntries(
            [...document.querySelectorAll("table.evidence-matrix tbody tr")]
              .filter(row => row.checkVisibility())
              .map(row => [row.dataset.mechanism, Object.fromEntries(
                  [...row.querySelectorAll("td.cell")].map(cell => [cell.dataset.column, [
                      [...cell.querySelectorAll(".mark-met")].filter(m => m.checkVisibility()).length,
                      [...cell.querySelectorAll(".mark-judged")].filter(m => m.checkVisibility()).length,
                  ]]))]))"""
    )


def _expected(evidence_map: EvidenceMap, **filters: str) -> dict[str, dict[str, list[int]]]:
    matrix = evidence_map.matrix(**filters)
    return {
        key: {column: [cells[column]["met"], cells[column]["judged"]] for column, _ in COLUMNS}
        for key, cells in matrix.items()
        if any(cells[column]["studies"] for column, _ in COLUMNS)
    }


def _option_id(evidence_map: EvidenceMap, dimension: str, value: str) -> str:
    values = [item["value"] for item in evidence_map.filter_values()[dimension]]
    return f"f-{dimension}-{values.index(value)}"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_map_fits_the_width_and_loads_nothing(open_page, example_map, tmp_path, width):
    _, page_path = example_map
    loaded = open_page(page_path, width)
    loaded.screenshot(tmp_path / f"evidence-map-{width}.png", full_page=True)
    assert loaded.horizontal_overflow() == 0
    assert loaded.console_errors == [] and loaded.failed_requests == []
    page = loaded.page
    assert page.locator("svg[role=img]").count() == 3  # a forest plot per pathway pooled across studies
    wrap = page.eval_on_selector(".matrix-wrap", "e => [e.scrollWidth, e.clientWidth]")
    if width >= 1280:
        assert wrap[0] <= wrap[1]  # every column of the matrix on screen
    else:
        assert page.eval_on_selector(".matrix-wrap", "e => getComputedStyle(e).overflowX") == "auto"


def test_without_a_filter_the_page_counts_what_the_map_counts(open_page, example_map):
    evidence_map, page_path = example_map
    page = open_page(page_path, 1280).page
    assert _visible_counts(page) == _expected(evidence_map)
    assert not page.is_visible(".no-match")


def test_the_filters_count_only_the_matching_studies(open_page, example_map, tmp_path):
    evidence_map, page_path = example_map
    page = open_page(page_path, 1280).page
    coaching = "ref:eric:provide-ongoing-consultation"
    page.click(f"label[for={_option_id(evidence_map, 'strategy', coaching)}]")
    assert _visible_counts(page) == _expected(evidence_map, strategy=coaching)
    assert list(_visible_counts(page)) == ["ref:recipient-pathway:trust"]
    shown_rows = page.eval_on_selector_all(
        "table.studies tbody tr", "rows => rows.filter(r => r.checkVisibility()).map(r => r.dataset.record)"
    )
    assert shown_rows == [entry.record.id for entry in evidence_map.select(strategy=coaching)]
    # two filters at once: coaching was studied in primary care only
    page.click(f"label[for={_option_id(evidence_map, 'setting', 'child welfare')}]")
    assert _visible_counts(page) == {} and page.is_visible(".no-match")
    page.screenshot(path=str(tmp_path / "no-match.png"))
    page.click("label[for=f-strategy-all]")
    assert _visible_counts(page) == _expected(evidence_map, setting="child welfare")
    assert not page.is_visible(".no-match")


def test_the_filters_are_keyboard_usable(open_page, example_map):
    evidence_map, page_path = example_map
    page = open_page(page_path, 375).page
    page.focus("#f-outcome-all")
    page.keyboard.press("ArrowRight")  # a radio group moves its choice with the arrow keys
    first = evidence_map.filter_values()["outcome"][0]["value"]
    assert page.is_checked(f"#{_option_id(evidence_map, 'outcome', first)}")
    assert _visible_counts(page) == _expected(evidence_map, outcome=first)
