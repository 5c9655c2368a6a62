"""The REDCap data dictionary moclab writes for its instruments follows REDCap's rules for an upload."""

from __future__ import annotations

import csv
import re

import pytest

from moclab.catalog.instruments import default_instruments
from moclab.errors import CatalogError, StudyError
from moclab.study.sources import read_redcap_dictionary, redcap_dictionary_frame, write_redcap_dictionary
from moclab.study.sources.redcap_dictionary import DICTIONARY_COLUMNS

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def test_a_dictionary_redcap_accepts(folder):
    instruments = ["aim", "iam", "fim", "team-psychological-safety", "oric"]
    path = write_redcap_dictionary(instruments, folder / "dictionary.csv", subject="coaching")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert header == [name for _, name in DICTIONARY_COLUMNS]  # REDCap's 18 columns, in its order
    column = {name: index for index, name in enumerate(header)}

    def cell(row, name):
        return row[column[name]]

    registry = default_instruments()
    # the record id comes first, as a text field of the first form
    assert (cell(body[0], "Variable / Field Name"), cell(body[0], "Field Type")) == ("record_id", "text")
    assert cell(body[0], "Form Name") == "aim"
    names = [cell(row, "Variable / Field Name") for row in body]
    assert len(names) == len(set(names)) == 1 + sum(len(registry.get(i).items) for i in instruments)
    assert all(NAME.match(name) and len(name) <= 100 for name in names)
    forms = [cell(row, "Form Name") for row in body]
    assert list(dict.fromkeys(forms)) == ["aim", "iam", "fim", "team_psychological_safety", "oric"]
    assert all(NAME.match(form) for form in forms)
    # the fields of a form are contiguous (REDCap refuses interleaved forms)
    assert [form for index, form in enumerate(forms) if index == 0 or forms[index - 1] != form] == list(
        dict.fromkeys(forms)
    )
    for instrument_id in instruments:
        instrument = registry.get(instrument_id)
        rows_of = [row for row in body if cell(row, "Variable / Field Name") in instrument.item_ids]
        assert [cell(row, "Variable / Field Name") for row in rows_of] == list(instrument.item_ids)
        assert {cell(row, "Field Type") for row in rows_of} == {"radio"}
        assert {cell(row, "Required Field?") for row in rows_of} == {"y"}
        choices = {cell(row, "Choices, Calculations, OR Slider Labels") for row in rows_of}
        assert len(choices) == 1  # one matrix: same choices throughout
        codes = [piece.split(",", 1)[0].strip() for piece in choices.pop().split(" | ")]
        assert codes == [str(value) for value in instrument.scale.values]
        assert len({cell(row, "Matrix Group Name") for row in rows_of}) == 1
        header_text = cell(rows_of[0], "Section Header")
        assert instrument.citation in header_text and instrument.name in header_text
        assert all(cell(row, "Section Header") == "" for row in rows_of[1:])
    aim_1 = next(row for row in body if cell(row, "Variable / Field Name") == "aim_1")
    assert cell(aim_1, "Field Label") == "Coaching meets my approval."
    assert cell(aim_1, "Choices, Calculations, OR Slider Labels").startswith(
        "1, Completely disagree | 2, Disagree"
    )
    psafe = next(row for row in body if cell(row, "Variable / Field Name") == "psafe_1")
    assert cell(psafe, "Choices, Calculations, OR Slider Labels") == (
        "1, Very inaccurate | 2, 2 | 3, 3 | 4, 4 | 5, 5 | 6, 6 | 7, Very accurate"
    )
    assert "replace it with the item's wording" in cell(psafe, "Field Note")  # wording not shipped
    assert "reverse keyed" in cell(psafe, "Field Annotation")
    # moclab reads it back without a single problem
    parsed = read_redcap_dictionary(path)
    assert parsed.problems == ()
    assert parsed.get("oric_c1").required and parsed.get("aim_4").choices["5"] == "Completely agree"


def test_options_and_refusals(folder):
    frame = redcap_dictionary_frame(["fim"], record_id="participant", required=False)
    assert frame.iloc[0, 0] == "participant"
    assert set(frame["Required Field?"]) == {""}
    assert frame.loc[1, "Field Label"] == default_instruments().get("fim").items[0].text  # no --subject
    path = write_redcap_dictionary(["aim"], folder / "out" / "dictionary.csv")
    before = path.read_bytes()
    with pytest.raises(StudyError, match="already exists"):
        write_redcap_dictionary(["iam"], path)
    assert path.read_bytes() == before
    write_redcap_dictionary(["iam"], path, overwrite=True)
    assert "iam_1" in path.read_text(encoding="utf-8")
    with pytest.raises(CatalogError, match="did you mean 'aim'"):
        redcap_dictionary_frame(["aimm"])
    with pytest.raises(StudyError, match="named twice"):
        redcap_dictionary_frame(["aim", "AIM"])
    with pytest.raises(StudyError, match="no instruments"):
        redcap_dictionary_frame([])
    with pytest.raises(StudyError, match="is the record id"):
        redcap_dictionary_frame(["aim"], record_id="aim_1")
