"""Data sources teams already use: REDCap, Qualtrics and Excel exports turned into item responses.

Each reader returns a `SourceData`: typed long data (record, wave, event, form, instance, field, value,
text, line) and a report of problems, one per record and field, saying what to do. Whatever is valid is
imported; the source files are only read.

* `read_redcap(records, dictionary)`: a REDCap records export with its data dictionary (field types, choice
  codes, checkbox columns, repeating instruments, events as waves; raw or label exports).
* `read_redcap_dictionary(path)`: a data dictionary on its own.
* `write_redcap_dictionary(["aim", "iam", "fim"], path)`: a data dictionary for moclab instruments, ready to
  upload to REDCap.
* `read_qualtrics(path)`: a Qualtrics CSV export (three header rows; previews and unfinished responses
  dropped or kept as configured).
* `read_workbook(path, sheets=...)`: an Excel workbook with one sheet per wave or per instrument.
* `item_responses(source, map=...)`: source fields -> instrument item rows of a study's measures table, with
  unmapped and unknown fields reported.
* `import_redcap_study(records, dictionary, dest)`: a new study folder from a REDCap export.

The `sources:` section of moclab.yaml (`moclab.study.sources.spec`) lists exports a study reads its item
responses from; `load_study` adds them to the measures table. See docs/sources.md.

The names are imported on first use, so that moclab.study.config can use the `sources:` schema without
loading the readers.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SourceData": "result",
    "SourceProblem": "problems",
    "PROBLEM_KINDS": "problems",
    "RedcapDictionary": "redcap_dictionary",
    "RedcapField": "redcap_dictionary",
    "read_redcap_dictionary": "redcap_dictionary",
    "read_redcap": "redcap_records",
    "redcap_dictionary_frame": "redcap_writer",
    "write_redcap_dictionary": "redcap_writer",
    "read_qualtrics": "qualtrics",
    "read_workbook": "workbook",
    "ItemResponses": "mapping",
    "item_responses": "mapping",
    "read_study_sources": "study_sources",
    "import_redcap_study": "study_import",
    "SourceSpec": "spec",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'moclab.study.sources' has no attribute '{name}'")
    return getattr(importlib.import_module(f"moclab.study.sources.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
