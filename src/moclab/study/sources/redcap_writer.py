"""A REDCap data dictionary for moclab instruments, so a team can start collecting in REDCap at once.

`write_redcap_dictionary(["aim", "iam", "fim"], "dictionary.csv")` writes a dictionary to upload in REDCap
(Project Setup > Data Dictionary > Upload): ``record_id`` first, then one instrument (form) per moclab
instrument, each item a required radio field named by its item id, with the instrument's response scale as
choices (``1, Completely disagree | ... | 5, Completely agree``; a point of the scale without an anchor label
is labelled with its number), grouped as a matrix, and a section header naming the instrument and its
citation. Exports of a project built from it read straight back with `read_redcap`: the field names are the
item ids, so moclab recognises the instruments without a map.

Where an instrument's wording is not freely published, moclab ships only short labels: the field label is
then the short label, and the field note says to replace it with the wording from the source (whose licence
the section header quotes).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from moclab.catalog.instruments import Instrument, InstrumentRegistry, default_instruments
from moclab.errors import MoclabError, StudyError, display_path
from moclab.study.sources.redcap_dictionary import DICTIONARY_COLUMNS

# Names REDCap uses for its own columns, which a form or field may not take.
_RESERVED = {
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
}


def form_name(instrument_id: str) -> str:
    """The REDCap form name of an instrument: its id with characters other than a-z, 0-9 and _ as ``_``."""
    name = re.sub(r"[^a-z0-9_]", "_", instrument_id.lower()).strip("_")
    return name if name and name[0].isalpha() else f"form_{name}"


def _choices(instrument: Instrument) -> str:
    scale = instrument.scale
    labels = dict(scale.labels)
    return " | ".join(f"{value}, {labels.get(value, str(value))}" for value in scale.values)


def redcap_dictionary_frame(
    instruments: Iterable[str | Instrument],
    *,
    registry: InstrumentRegistry | None = None,
    record_id: str = "record_id",
    subject: str | None = None,
    required: bool = True,
) -> pd.DataFrame:
    """The rows of a REDCap data dictionary for moclab instruments, with REDCap's column headers.

    Parameters
    ----------
    instruments
        Instrument ids (``"aim"``) or `Instrument` objects, in the order the forms should have.
    registry
        Where ids are looked up (default: the bundled instruments).
    record_id
        The name of the record id field (the first field).
    subject
        Text that replaces an instrument's placeholder in the wording (``"[X]"`` -> ``"coaching"``).
    required
        Mark every item as a required field.

    Returns
    -------
    pandas.DataFrame
        One row per field, columns as REDCap writes them ("Variable / Field Name", "Form Name", ...).

    Raises
    ------
    CatalogError
        An unknown instrument id (with "did you mean").
    StudyError
        No instruments, an instrument named twice, two instruments sharing an item id, or an item id that is
        the record id.
    """
    registry = registry or default_instruments()
    chosen: list[Instrument] = []
    for entry in instruments:
        instrument = entry if isinstance(entry, Instrument) else registry.get(str(entry))
        if any(instrument.id == other.id for other in chosen):
            raise StudyError(
                f"the instrument '{instrument.id}' is named twice", hint="name each instrument once"
            )
        chosen.append(instrument)
    if not chosen:
        raise StudyError("no instruments given", hint="name at least one, e.g. aim iam fim")
    owners: dict[str, str] = {}
    for instrument in chosen:
        for item in instrument.items:
            if item.id == record_id or item.id in _RESERVED:
                raise StudyError(
                    f"the item id '{item.id}' of '{instrument.id}' is the record id or a REDCap column",
                    hint="choose another record id name",
                )
            if item.id in owners:
                raise StudyError(
                    f"the item id '{item.id}' is in both '{owners[item.id]}' and '{instrument.id}'",
                    hint="REDCap field names must be unique; collect one of them in another project",
                )
            owners[item.id] = instrument.id
    rows: list[dict[str, str]] = []
    first_form = form_name(chosen[0].id)
    rows.append(_row(record_id, first_form, "text", "Record ID"))
    for instrument in chosen:
        form = form_name(instrument.id)
        choices = _choices(instrument)
        header = _section_header(instrument)
        for index, item in enumerate(instrument.items):
            label = instrument.wording(item, subject)
            note = ""
            if not item.text:
                note = "Short label only: replace it with the item's wording from the source named above."
            annotation = f"moclab: {instrument.id} item {item.number}" + (
                ", reverse keyed" if item.reverse else ""
            )
            rows.append(
                _row(
                    item.id,
                    form,
                    "radio",
                    label,
                    section_header=header if index == 0 else "",
                    choices=choices,
                    note=note,
                    required="y" if required else "",
                    matrix=f"{form}_items",
                    annotation=annotation,
                )
            )
    return pd.DataFrame(rows, columns=[header for _, header in DICTIONARY_COLUMNS])


def _section_header(instrument: Instrument) -> str:
    short = f" ({instrument.short_name})" if instrument.short_name else ""
    scale = instrument.scale
    return (
        f"{instrument.name}{short}. Response scale {scale.minimum}-{scale.maximum}. "
        f"Source: {instrument.citation} Licence: {instrument.licence}"
    )


def _row(
    name: str,
    form: str,
    field_type: str,
    label: str,
    *,
    section_header: str = "",
    choices: str = "",
    note: str = "",
    required: str = "",
    matrix: str = "",
    annotation: str = "",
) -> dict[str, str]:
    values = {
        "field_name": name,
        "form_name": form,
        "section_header": section_header,
        "field_type": field_type,
        "field_label": label,
        "select_choices_or_calculations": choices,
        "field_note": note,
        "required_field": required,
        "matrix_group_name": matrix,
        "field_annotation": annotation,
    }
    return {header: values.get(api, "") for api, header in DICTIONARY_COLUMNS}


def write_redcap_dictionary(
    instruments: Sequence[str | Instrument],
    path: str | Path,
    *,
    registry: InstrumentRegistry | None = None,
    record_id: str = "record_id",
    subject: str | None = None,
    required: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write a REDCap data dictionary CSV for moclab instruments (see `redcap_dictionary_frame`).

    The file is UTF-8 CSV with REDCap's headers, ready for Project Setup > Data Dictionary > Upload.

    Parameters
    ----------
    instruments, registry, record_id, subject, required
        As for `redcap_dictionary_frame`.
    path
        The file to write.
    overwrite
        Replace an existing file (by default an existing file is never touched).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = write_redcap_dictionary(["aim"], pathlib.Path(tempfile.mkdtemp()) / "dictionary.csv")
    >>> path.read_text(encoding="utf-8").splitlines()[1]
    'record_id,aim,,text,Record ID,,,,,,,,,,,,,'
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise StudyError(
            f"{display_path(path)} already exists; moclab does not overwrite files",
            hint="give another file name, or pass overwrite=True (--force on the command line)",
        )
    frame = redcap_dictionary_frame(
        instruments, registry=registry, record_id=record_id, subject=subject, required=required
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise MoclabError(f"cannot write {display_path(path)}: {exc.strerror or exc}") from None
    return path
