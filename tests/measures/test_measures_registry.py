"""The instrument registry: the bundled instruments' facts, user files, and bad instrument files.

Facts are checked against the reference notes (frameworks.md section 4 and 10): AIM/IAM/FIM wording and the
5-point agreement scale (Weiner et al. 2017), ORIC's 5 + 7 items (Shea et al. 2014), the ICS's 6 x 3 and
the ILS's 4 x 3 structure (Ehrhart et al. 2014; Aarons et al. 2014), psychological safety's 7 items with 1, 3
and 5 reverse keyed (Edmondson 1999); unverified facts stay unverified.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest
from measures_helpers import VALID_INSTRUMENT

from moclab.catalog import default_catalog
from moclab.catalog.instruments import (
    DATA_DIR,
    InstrumentFileError,
    InstrumentRegistry,
    bundled_files,
    default_instruments,
    half_rule,
)
from moclab.errors import CatalogError


@pytest.fixture(scope="module")
def registry() -> InstrumentRegistry:
    return default_instruments()


def test_the_bundled_instruments(registry: InstrumentRegistry) -> None:
    assert registry.ids() == ["aim", "fim", "iam", "ics", "ils", "oric", "team-psychological-safety"]
    counts = {instrument.id: len(instrument.items) for instrument in registry}
    assert counts == {
        "aim": 4, "fim": 4, "iam": 4, "ics": 18, "ils": 12, "oric": 12, "team-psychological-safety": 7,
    }  # fmt: skip
    for instrument in registry:
        assert instrument.scoring == "mean" and instrument.citation and instrument.licence
        assert [item.number for item in instrument.items] == list(range(1, len(instrument.items) + 1))


def test_aim_iam_fim_wording_and_scale(registry: InstrumentRegistry) -> None:
    aim = registry.get("aim")
    assert [item.text for item in aim.items] == [
        "[X] meets my approval.", "[X] is appealing to me.", "I like [X].", "I welcome [X].",
    ]  # fmt: skip
    assert [item.text for item in registry.get("iam").items][3] == "[X] seems like a good match."
    assert registry.get("fim").items[0].text == "[X] seems implementable."
    assert dict(aim.scale.labels) == {
        1: "Completely disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree",
        5: "Completely agree",
    }  # fmt: skip
    assert aim.reverse_items == () and aim.subscales == {} and aim.level == "individual"
    assert aim.wording("aim_3", "coaching") == "I like coaching."
    assert aim.wording("aim_1", "coaching") == "Coaching meets my approval."


def test_oric_has_two_subscales_of_five_and_seven(registry: InstrumentRegistry) -> None:
    oric = registry.get("ORIC")  # short names work, in any case
    assert {sid: len(items) for sid, items in oric.subscales.items()} == {
        "change_commitment": 5,
        "change_efficacy": 7,
    }
    assert (
        oric.item("oric_c2").text
        == "People who work here will do whatever it takes to implement this change."
    )
    assert oric.scale.labels[2] == "Somewhat disagree" and oric.level == "organization"
    assert not any("persist" in (item.text or "") for item in oric.items)  # the invented item is not ORIC
    assert oric.min_items_of("change_efficacy") == 4 and oric.min_items == 6


def test_ics_and_ils_ship_labels_only(registry: InstrumentRegistry) -> None:
    ics, ils = registry.get("ics"), registry.get("ils")
    assert [len(items) for items in ics.subscales.values()] == [3] * 6
    assert [len(items) for items in ils.subscales.values()] == [3] * 4
    assert list(ils.subscales) == ["proactive", "knowledgeable", "supportive", "perseverant"]
    for instrument in (ics, ils):
        assert not instrument.has_wording and all(item.text is None for item in instrument.items)
        assert (instrument.scale.minimum, instrument.scale.maximum) == (0, 4)
        assert instrument.verification["scale"] == "unverified"
        assert instrument.verification["subscales"] == "verified"
        assert "not the item wording" in instrument.licence


def test_psychological_safety_keys_and_honest_marks(registry: InstrumentRegistry) -> None:
    safety = registry.get("team-psychological-safety")
    assert safety.reverse_items == ("psafe_1", "psafe_3", "psafe_5")
    assert (safety.scale.minimum, safety.scale.maximum, safety.level) == (1, 7, "team")
    assert all(item.text is None for item in safety.items)
    assert safety.verification["scale"] == "unverified" and "permission" in safety.licence
    assert "anchors were not seen" in safety.verification_note


def test_unverified_facts_stay_unverified(registry: InstrumentRegistry) -> None:
    # frameworks.md marks every scoring rule [U]: no bundled instrument may claim to be fully verified
    for instrument in registry:
        assert instrument.verification["scoring"] == "unverified"
        assert not instrument.verified and "scoring" in instrument.unverified_facts
    assert registry.get("aim").verification["items"] == "verified_secondary"
    assert registry.get("oric").verification["level"] == "verified"


def test_constructs_name_catalog_entries_and_item_ids_are_unique(registry: InstrumentRegistry) -> None:
    catalog = default_catalog()
    for instrument in registry:
        assert catalog.get(instrument.construct) is not None
    ids = [item.id for instrument in registry for item in instrument.items]
    assert len(ids) == len(set(ids))


def test_the_data_files_are_package_data() -> None:
    shipped = resources.files("moclab") / "catalog" / "instruments"
    assert sorted(p.name for p in bundled_files()) == sorted(
        entry.name for entry in shipped.iterdir() if entry.name.endswith(".yaml")
    )
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "**/*.yaml" in pyproject["tool"]["setuptools"]["package-data"]["moclab"]
    assert DATA_DIR.name == "instruments"


def test_half_rule() -> None:
    assert [half_rule(n) for n in (1, 2, 3, 4, 5, 7, 12, 18)] == [1, 1, 2, 2, 3, 4, 6, 9]


def test_unknown_instrument_has_did_you_mean(registry: InstrumentRegistry) -> None:
    with pytest.raises(CatalogError) as caught:
        registry.get("orc")
    assert "unknown instrument 'orc'" in caught.value.message and "'oric'" in caught.value.hint
    with pytest.raises(CatalogError) as caught:
        registry.get("aim").item("aim_5")
    assert "did you mean" in caught.value.hint
    with pytest.raises(CatalogError, match="no subscale 'efficacy'"):
        registry.get("oric").items_of("efficacy")


def test_a_user_file_joins_the_bundled_ones(instrument_file: Path) -> None:
    registry = InstrumentRegistry.load([instrument_file])
    climate = registry.get("team-climate")
    assert "aim" in registry and len(registry) == 8
    assert climate.reverse_items == ("tc_3",) and climate.scoring == "sum"
    assert climate.subscale_min_items == {"openness": 1, "cooperation": 2}
    assert climate.score_range() == (4.0, 16.0) and climate.score_range("openness") == (2.0, 8.0)
    assert not climate.bundled and climate.defined_in.endswith("team-climate.yaml")
    # a folder stands for the files in it
    assert "team-climate" in InstrumentRegistry.load([instrument_file.parent])


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of `text` that contains `fragment`."""
    return next(number for number, line in enumerate(text.split("\n"), start=1) if fragment in line)


def errors_of(tmp_path: Path, text: str | bytes) -> list:
    path = tmp_path / "broken.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InstrumentFileError) as caught:
        InstrumentRegistry.load([path])
    return caught.value.problems


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    text = VALID_INSTRUMENT.replace(
        "  - {id: tc_2, label: we help each other}", "  - {id: tc_2, label: [oops}"
    )
    [problem] = errors_of(tmp_path, text)
    assert f"broken.yaml:{line_of(text, '[oops')}" in problem.message and "malformed YAML" in problem.message


def test_duplicate_item_ids_name_both_lines(tmp_path: Path) -> None:
    text = VALID_INSTRUMENT.replace(
        "{id: tc_4, label: we plan together}", "{id: tc_2, label: we plan together}"
    )
    problems = errors_of(tmp_path, text)
    duplicate = next(p for p in problems if "duplicate item id" in p.message)
    assert duplicate.line == line_of(text, "we plan together")
    assert f"first written on line {line_of(text, 'we help each other')}" in duplicate.message


def test_a_reverse_key_naming_a_missing_item(tmp_path: Path) -> None:
    text = VALID_INSTRUMENT.replace("reverse: [tc_3]", "reverse: [tc3]")
    [problem] = errors_of(tmp_path, text)
    assert problem.line == line_of(text, "reverse:") and "reverse key names 'tc3'" in problem.message
    assert problem.hint == "did you mean 'tc_3'?"


def test_subscale_items_and_min_items_are_checked(tmp_path: Path) -> None:
    text = VALID_INSTRUMENT.replace("items: [tc_1, tc_3]}", "items: [tc_1, tc_9]}").replace(
        "min_items: 2}", "min_items: 3}"
    )
    problems = errors_of(tmp_path, text)
    line = line_of(text, "tc_9")
    assert any("subscale 'openness' names 'tc_9'" in p.message and p.line == line for p in problems)
    assert any("asks for 3 answered items but has 2" in p.message for p in problems)


def test_schema_errors_have_lines_and_did_you_mean(tmp_path: Path) -> None:
    text = VALID_INSTRUMENT.replace("scoring: sum", "scorng: sum").replace("maximum: 4", "maximum: 1")
    problems = errors_of(tmp_path, text)
    typo = next(p for p in problems if "scorng" in p.message)
    assert typo.line == line_of(text, "scorng") and typo.hint == "did you mean 'scoring'?"
    assert any("'maximum' must be larger than 'minimum'" in p.message for p in problems)


def test_bad_ids_and_levels(tmp_path: Path) -> None:
    text = VALID_INSTRUMENT.replace("{id: tc_1,", "{id: TC 1,").replace("level: team", "level: ward")
    problems = errors_of(tmp_path, text)
    assert any("an item id must be lower-case" in p.message for p in problems)
    assert any("'level'" in p.message and "'ward'" in p.message for p in problems)


def test_not_utf8_and_not_a_mapping(tmp_path: Path) -> None:
    [problem] = errors_of(tmp_path, "name: Équipe\n".encode("cp1252"))
    assert "not UTF-8" in problem.message
    [problem] = errors_of(tmp_path, "- just\n- a list\n")
    assert "an instrument file is a mapping" in problem.message


def test_a_user_file_cannot_replace_a_bundled_instrument(tmp_path: Path) -> None:
    [problem] = errors_of(tmp_path, VALID_INSTRUMENT.replace("id: team-climate", "id: aim"))
    assert "instrument 'aim' is already bundled with moclab" in problem.message
    assert "aim-adapted" in problem.hint


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(InstrumentFileError) as caught:
        InstrumentRegistry.load([tmp_path / "nowhere.yaml"])
    assert "file or folder not found" in caught.value.problems[0].message


def test_the_docs_list_every_instrument_with_citation_scoring_and_licence(
    registry: InstrumentRegistry,
) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "measures.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in docs.split("\n") if line.startswith("| `")}
    for instrument in registry:
        row = rows[instrument.id]
        first_author = instrument.citation.split(" ")[0]
        year = next(part for part in instrument.citation.replace(";", " ").split() if part[:4].isdigit())[:4]
        assert first_author in row or first_author in docs, instrument.id
        assert (
            year in row
            and instrument.scoring in row
            and ("licen" in row or "open access" in row or "labels" in row)
        )
