"""Looking entries up by id, number, name or alias, and walking the hierarchy."""

from __future__ import annotations

import dataclasses

import pytest

from moclab.catalog import Catalog, slugify
from moclab.errors import CatalogError


@pytest.mark.parametrize(
    "ref",
    [
        "eric:facilitation",
        "ERIC:Facilitation",
        " eric : facilitation ",
        "eric:33",
        "eric:Facilitation",
    ],
)
def test_get_accepts_ids_in_any_case_numbers_and_names(catalog: Catalog, ref: str) -> None:
    assert catalog.get(ref).qualified_id == "eric:facilitation"


def test_get_finds_aliases_and_names_in_id_form(catalog: Catalog) -> None:
    assert catalog.get("eric:Purposefully reexamine the implementation").number == 56
    assert catalog.get("eric:conduct-local-need-assessment").number == 18
    assert catalog.get("cfir2:Partnerships & Connections").id == "partnerships-and-connections"
    assert catalog.get("kazdin-criteria:temporal precedence").id == "timeline"


def test_bare_reference_works_when_unique(catalog: Catalog) -> None:
    assert catalog.get("implementation-climate").qualified_id == "cfir2009:implementation-climate"
    assert catalog.get("Psychological safety").qualified_id == "recipient-pathway:psychological-safety"


def test_ambiguous_reference_resolves_to_none_and_get_lists_candidates(catalog: Catalog) -> None:
    assert catalog.resolve("facilitation") is None
    assert [e.qualified_id for e in catalog.matches("facilitation")] == [
        "eric:facilitation",
        "isp-competencies:facilitation",
    ]
    with pytest.raises(CatalogError) as caught:
        catalog.get("facilitation")
    assert "ambiguous" in caught.value.message
    assert "eric:facilitation, isp-competencies:facilitation" in caught.value.message
    assert "facilitation" not in catalog


def test_ids_win_over_names(catalog: Catalog) -> None:
    # "Innovation Deliverers" is the name of three CFIR 2.0 entries; the id of the role matches first
    assert catalog.get("cfir2:Innovation Deliverers").qualified_id == "cfir2:innovation-deliverers"


def test_unknown_entry_suggests_close_ids(catalog: Catalog) -> None:
    with pytest.raises(CatalogError) as caught:
        catalog.get("eric:facilitaton")
    assert caught.value.message == "no catalog entry 'eric:facilitaton'"
    assert caught.value.hint == "did you mean 'eric:facilitation'?"
    with pytest.raises(CatalogError) as caught:
        catalog.get("cfir2:tension-for-chnage")
    assert caught.value.hint == "did you mean 'cfir2:tension-for-change'?"
    assert catalog.resolve("eric:facilitaton") is None


def test_unknown_framework_suggests_close_framework(catalog: Catalog) -> None:
    with pytest.raises(CatalogError) as caught:
        catalog.get("erc:facilitation")
    assert caught.value.message == "unknown framework 'erc' in 'erc:facilitation'"
    assert caught.value.hint == "did you mean 'eric'?"
    assert catalog.resolve("erc:facilitation") is None
    with pytest.raises(CatalogError) as caught:
        catalog.framework("cfir3")
    assert "'cfir2'" in (caught.value.hint or "")


def test_hierarchy_walks(catalog: Catalog) -> None:
    assert [a.qualified_id for a in catalog.ancestors("cfir2:engaging-innovation-deliverers")] == [
        "cfir2:implementation-process",
        "cfir2:engaging",
    ]
    assert catalog.parent("eric:33").qualified_id == "eric:provide-interactive-assistance"
    assert catalog.parent("eric:provide-interactive-assistance") is None
    assert [c.number for c in catalog.children("eric:provide-interactive-assistance")] == [33, 54, 53, 8]
    assert len(catalog.children("eric")) == 9
    assert len(catalog.descendants("cfir2:inner-setting")) == 11 + 10
    assert catalog.children("eric:33") == []


def test_entries_filters_by_framework_and_kind(catalog: Catalog) -> None:
    assert len(catalog.entries()) == len(catalog)
    assert len(catalog.entries(kind="Strategy")) == 73
    assert {e.framework for e in catalog.entries(kind="domain")} == {"cfir2", "cfir2009", "isp-competencies"}
    with pytest.raises(CatalogError):
        catalog.entries("no-such-framework")


def test_entry_records_are_frozen_and_serialisable(catalog: Catalog) -> None:
    entry = catalog.get("eric:58")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.name = "changed"  # type: ignore[misc]
    data = entry.to_dict()
    assert data["qualified_id"] == "eric:remind-clinicians"
    assert data["parent"] == "eric:support-clinicians"
    assert data["verified"] is False
    assert data["verification"] == "by_elimination"
    assert entry.verification_text.startswith("not verified: follows by elimination")
    assert hash(catalog.framework("eric")) == hash(catalog.framework("eric"))
    assert catalog.framework("eric").to_dict()["counts"] == {"cluster": 9, "strategy": 73}


def test_to_frame_has_one_row_per_entry(catalog: Catalog) -> None:
    frame = catalog.to_frame("proctor")
    assert len(frame) == 20
    assert list(frame["qualified_id"][:2]) == ["proctor:implementation-outcomes", "proctor:acceptability"]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Partnerships & Connections", "partnerships-and-connections"),
        ("Alter incentive/allowance structures", "alter-incentive-allowance-structures"),
        ("Bührmann", "buhrmann"),
        ("  Tension for Change ", "tension-for-change"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
