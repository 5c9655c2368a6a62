"""Fuzzy search: typos, abbreviations, aliases and descriptions find the right entry first."""

from __future__ import annotations

import pytest

from moclab.catalog import Catalog, SearchHit


@pytest.mark.parametrize("typo", ["facilitaton", "Facilitaion", "facilitation", "FACILITATION"])
def test_typos_find_eric_facilitation_first(catalog: Catalog, typo: str) -> None:
    hits = catalog.search(typo)
    assert hits[0].entry.qualified_id == "eric:facilitation"
    assert hits[0].score >= 90
    # the ISP competency of the same name has the same score and comes second (catalog order breaks ties)
    assert hits[1].entry.qualified_id == "isp-competencies:facilitation"


def test_abbreviated_words_find_psychological_safety(catalog: Catalog) -> None:
    hits = catalog.search("psych safety")
    assert hits[0].entry.qualified_id == "recipient-pathway:psychological-safety"
    assert "proctor:safety" not in [hit.entry.qualified_id for hit in hits[:1]]


def test_aliases_are_searched(catalog: Catalog) -> None:
    assert catalog.search("dose response")[0].entry.qualified_id == "kazdin-criteria:gradient"
    assert catalog.search("purposefully reexamine")[0].entry.number == 56


def test_descriptions_are_searched_but_count_less_than_names(catalog: Catalog) -> None:
    hits = catalog.search("COM-B", limit=None)
    found = {hit.entry.qualified_id: hit.score for hit in hits}
    assert "cfir2:characteristics-subdomain" in found
    assert found["cfir2:characteristics-subdomain"] <= 85


def test_whole_name_typos(catalog: Catalog) -> None:
    hits = catalog.search("tension for chnage", limit=2)
    assert [hit.entry.qualified_id for hit in hits] == [
        "cfir2:tension-for-change",
        "cfir2009:tension-for-change",
    ]


def test_results_are_sorted_hits_with_limit_and_filters(catalog: Catalog) -> None:
    hits = catalog.search("leaders", limit=3)
    assert len(hits) == 3
    assert all(isinstance(hit, SearchHit) for hit in hits)
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    only_isp = catalog.search("facilitaton", framework="isp-competencies")
    assert [hit.entry.qualified_id for hit in only_isp] == ["isp-competencies:facilitation"]
    constructs = catalog.search("leaders", kind="construct", limit=None)
    assert constructs and all(hit.entry.kind == "construct" for hit in constructs)
    assert constructs[0].entry.qualified_id == "cfir2:opinion-leaders"


def test_nothing_found_for_nonsense_or_empty_text(catalog: Catalog) -> None:
    assert catalog.search("zqxv wplk") == []
    assert catalog.search("") == []
    assert catalog.search("  ...  ") == []
