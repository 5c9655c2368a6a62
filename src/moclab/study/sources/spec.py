"""The `sources:` section of moclab.yaml: exports a study reads its item responses from.

Each entry names one export and how its fields and waves map onto the study::

    sources:
      - type: redcap
        records: raw/records.csv
        dictionary: raw/dictionary.csv
        map: {acc_q1: aim_1, acc_q2: aim_2}          # source field -> item field (an instrument item id)
        waves: {baseline_arm_1: baseline, month_6_arm_1: m6}
      - type: qualtrics
        path: raw/followup.csv
        id: ExternalReference                        # the column holding the recipient id
        wave: m12
      - type: excel
        path: raw/team-survey.xlsx
        id: recipient_id
        sheets: {Baseline: baseline, "6 months": m6} # one sheet per wave

This module holds only the schema; `moclab.study.config` references it and
`moclab.study.sources.study_sources` reads the entries. It is one model for the three types (rather than a
union of three), so that a misspelt key is reported at its own line of moclab.yaml with a "did you mean"
over every key, and a key that belongs to another type of source is named as such.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

SourceType = Literal["redcap", "qualtrics", "excel"]
Handling = Literal["drop", "flag", "keep"]

#: The keys each type of source takes (besides type, map and wave), and which of them it needs.
KEYS: dict[str, tuple[str, ...]] = {
    "redcap": ("records", "dictionary", "waves", "instances", "values"),
    "qualtrics": ("path", "id", "wave_column", "previews", "incomplete", "min_progress", "recode"),
    "excel": ("path", "id", "wave_column", "sheets"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "redcap": ("records", "dictionary"),
    "qualtrics": ("path",),
    "excel": ("path",),
}


class ExcelSheetSpec(BaseModel):
    """One sheet of a workbook: its wave (or the column holding it) and, if it differs, its id column."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    wave: str | None = None
    wave_column: str | None = None
    id: str | None = None


class SourceSpec(BaseModel):
    """One entry of `sources:` (see the module docstring and docs/sources.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    type: SourceType
    map: dict[str, str] = Field(default_factory=dict, description="source field -> item field name")
    wave: str | None = Field(default=None, description="the wave of every row (one export per wave)")
    # REDCap
    records: str | None = None
    dictionary: str | None = None
    waves: dict[str, str] = Field(default_factory=dict, description="REDCap event name -> study wave")
    instances: dict[int, str] = Field(default_factory=dict, description="repeat instance -> study wave")
    values: Literal["auto", "raw", "label"] = "auto"
    # Qualtrics and Excel
    path: str | None = None
    id: str | None = Field(default=None, description="the column holding the recipient id")
    wave_column: str | None = None
    # Qualtrics
    previews: Handling = "drop"
    incomplete: Handling = "flag"
    min_progress: float | None = Field(default=None, ge=0, le=100)
    recode: dict[str, float] = Field(default_factory=dict, description="choice text -> number")
    # Excel
    sheets: dict[str, str | ExcelSheetSpec | None] = Field(
        default_factory=dict, description="sheet name -> its wave, or {wave:, wave_column:, id:}"
    )

    @model_validator(mode="after")
    def _keys_of_the_type(self) -> SourceSpec:
        given = self.model_fields_set - {"type", "map", "wave"}
        foreign = sorted(given - set(KEYS[self.type]))
        if foreign:
            raise PydanticCustomError(
                "source_keys",
                "{keys} not for {article} {type} source, whose keys are: {allowed}",
                {
                    "keys": " and ".join(
                        f"'{key}' is" if len(foreign) == 1 else f"'{key}'" for key in foreign
                    )
                    + ("" if len(foreign) == 1 else " are"),
                    "type": self.type,
                    "article": "an" if self.type == "excel" else "a",
                    "allowed": ", ".join(("map", "wave", *KEYS[self.type])),
                },
            )
        missing = [key for key in REQUIRED[self.type] if getattr(self, key) is None]
        if missing:
            raise PydanticCustomError(
                "source_missing",
                "{article} {type} source needs {keys}",
                {
                    "article": "an" if self.type == "excel" else "a",
                    "type": self.type,
                    "keys": " and ".join(f"'{key}:'" for key in missing),
                },
            )
        return self


__all__ = ["KEYS", "ExcelSheetSpec", "SourceSpec"]
