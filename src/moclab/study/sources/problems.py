"""Problems found in a data source (a REDCap, Qualtrics or Excel export), one per record and field.

A source problem is a `moclab.errors.Problem` that also names the record (the participant), the REDCap event
and repeat instance, the value as written and a `kind`, so a data manager can filter the report ("every
unknown choice code") and fix the source. Its severity says what happened to the value:

* ``error``: the value (or row) was **not imported**; the rest of the record was.
* ``warning``: everything was imported, but something deserves a look (a field the dictionary does not
  know, an encoding that had to be guessed).
"""

from __future__ import annotations

from dataclasses import dataclass

from moclab.errors import Problem

#: The kinds of source problems, with what each means (used in docs and to group the report).
PROBLEM_KINDS: dict[str, str] = {
    "encoding": "the file is not UTF-8 (or mixes encodings); it was read in the encoding named",
    "malformed_row": "a line with more or fewer values than the header; the row was not imported",
    "huge_cell": "a cell far longer than any answer; not imported",
    "missing_record_id": "a row without a record id; not imported",
    "duplicate_record": "the same record, event and instance twice in the export",
    "out_of_range": "a number outside the field's minimum and maximum; not imported",
    "not_a_number": "text in a numeric field; not imported",
    "not_whole_number": "a decimal in an integer field; not imported",
    "not_a_date": "a date field that does not hold a date; not imported",
    "unknown_choice": "a code (or label) that is not one of the field's choices; not imported",
    "field_not_in_dictionary": "a column of the records that the data dictionary does not define",
    "field_not_in_records": "a field of the data dictionary with no column in the records",
    "dictionary": "a row of the data dictionary that cannot be used as written",
    "event_not_mapped": "an event (or sheet, or instance) that the wave map does not name; not imported",
    "preview": "a survey preview or test response; not imported",
    "incomplete": "a response that was not finished",
    "unmapped_field": "a field that is neither mapped nor an instrument item; not imported as a measure",
    "unknown_item": "a map entry whose target is not an item of a declared instrument",
    "map_source_missing": "a map entry whose source field is not in the data",
    "duplicate_response": "two values for one recipient, wave and item after mapping",
}

_MAX_SHOWN = 60


def shorten(value: object, limit: int = _MAX_SHOWN) -> str:
    """A cell as a report shows it: at most `limit` characters, control characters made visible."""
    text = str(value)
    text = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text[: limit * 4])
    if len(text) > limit:
        total = len(str(value))
        return f"{text[: limit - 1]}… ({total:,} characters)"
    return text


@dataclass(frozen=True)
class SourceProblem(Problem):
    """A problem located in a source file by line, record, event, instance and field.

    Attributes
    ----------
    kind
        One of `PROBLEM_KINDS`.
    record
        The record (participant) id, when the problem belongs to one record.
    event
        The REDCap event (or workbook sheet) of the row.
    instance
        The REDCap repeat instance of the row.
    value
        The value as written in the file (shortened when long).
    """

    kind: str = "other"
    record: str | None = None
    event: str | None = None
    instance: int | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in PROBLEM_KINDS and self.kind != "other":
            raise ValueError(f"unknown kind of source problem '{self.kind}'")

    @property
    def where(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line is not None else self.file)
        if self.record is not None:
            parts.append(f"record '{self.record}'")
        if self.event:
            parts.append(f"event '{self.event}'")
        if self.instance is not None:
            parts.append(f"instance {self.instance}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.value is not None and self.value not in self.message:
            text += f" (value {self.value!r})"
        if self.hint:
            text += f"; {self.hint}"
        return text
