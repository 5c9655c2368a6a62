"""Reading a REDCap records export against its data dictionary: typed long data plus a report of problems.

A REDCap records export ("CSV / Microsoft Excel (raw data)" or "(labels)" in the Data Exports page, or the
API's flat CSV) has one row per record (classic projects), per record and event (longitudinal projects) and
per repeat instance of a repeating instrument or event, with the columns:

* the record id (the dictionary's first field),
* ``redcap_event_name`` (longitudinal projects), ``redcap_repeat_instrument`` and ``redcap_repeat_instance``
  (repeating instruments and events), ``redcap_data_access_group``, ``redcap_survey_identifier``,
* the fields in dictionary order, a checkbox as one ``field___code`` column per choice (0/1),
* ``<form>_timestamp`` (surveys) and ``<form>_complete`` (0 Incomplete, 1 Unverified, 2 Complete).

A label export writes choice labels instead of codes (``Checked``/``Unchecked`` for checkboxes) and may head
its columns with the field labels ("Event Name", "Repeat Instance", "Complete?", ``Label (choice=...)``);
both are recognised (`values="auto"`) and turned back into codes. Raw exports are the safer choice.

Every problem is reported with the record id, the event, the field, the value and what to do, and whatever is
valid is imported: a value out of range or an unknown code is left out, its record's other answers are not.
The files are only read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from moclab.errors import StudyError, display_path
from moclab.study.progress import DelayedProgress
from moclab.study.sources.delimited import MAX_CELL, DelimitedFile, check_header, read_delimited
from moclab.study.sources.problems import SourceProblem, shorten
from moclab.study.sources.redcap_dictionary import RedcapDictionary, RedcapField, read_redcap_dictionary
from moclab.study.sources.result import SourceData, finish_long

ValueMode = Literal["auto", "raw", "label"]

#: REDCap's own columns (not fields of the dictionary) in a raw export, and their label-header spelling.
SYSTEM_COLUMNS = {
    "redcap_event_name": ("event", "Event Name"),
    "redcap_repeat_instrument": ("repeat_instrument", "Repeat Instrument"),
    "redcap_repeat_instance": ("instance", "Repeat Instance"),
    "redcap_data_access_group": ("dag", "Data Access Group"),
    "redcap_survey_identifier": ("system", "Survey Identifier"),
}
_CHECKED = {"1", "checked"}
_UNCHECKED = {"0", "unchecked"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
_TIME = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
_FIX_IN_REDCAP = (
    "correct it in REDCap and export again (the value was not imported; the record's other answers were)"
)


@dataclass(frozen=True)
class _Column:
    """What one column of the export holds."""

    role: str  # record, event, repeat_instrument, instance, dag, system, complete, field, checkbox, unknown
    field: RedcapField | None = None
    code: str | None = None
    form: str | None = None


def read_redcap(
    records: str | Path,
    dictionary: str | Path | RedcapDictionary,
    *,
    waves: Mapping[str, str] | None = None,
    instances: Mapping[int | str, str] | None = None,
    wave: str = "baseline",
    values: ValueMode = "auto",
    show_progress: bool = False,
) -> SourceData:
    """Read a REDCap records export with its data dictionary.

    Parameters
    ----------
    records
        The records CSV (raw or label export, classic or longitudinal, with or without repeating
        instruments).
    dictionary
        The data dictionary CSV, or a dictionary already read with `read_redcap_dictionary`.
    waves
        Event name -> study wave (``{"baseline_arm_1": "baseline", "6_months_arm_1": "m6"}``). Without it a
        longitudinal export's waves are its event names; with it, rows of events it does not name are
        reported and left out.
    instances
        Repeat instance -> study wave, for a repeating instrument that is repeated over time
        (``{1: "baseline", 2: "m6"}``); instances it does not name are reported and left out.
    wave
        The wave of every row of a classic (not longitudinal) project.
    values
        "raw" (codes), "label" (choice labels) or "auto" (recognised from the values).
    show_progress
        Show a progress bar on stderr when reading takes more than a second.

    Returns
    -------
    SourceData
        One row per non-empty answer (a checkbox choice is a ``field___code`` row with value 0 or 1) and the
        report of problems.

    Raises
    ------
    StudyError
        A file that is missing, empty or not CSV; records without the record id column.
    ValidationError
        A dictionary without its required columns.

    Notes
    -----
    Checks, each reported per record and field: numbers outside the dictionary's validation minimum and
    maximum (and a slider's 0-100), text in numeric fields (integer, number, calc, slider), decimals in
    integer fields, malformed dates, codes that are not among a field's choices, the same record, event and
    instance exported twice, columns the dictionary does not define and fields the export lacks, and files
    that are not UTF-8.
    """
    if not isinstance(dictionary, RedcapDictionary):
        dictionary = read_redcap_dictionary(dictionary)
    records = Path(records)
    shown = display_path(records)
    expected = [dictionary.record_id, *SYSTEM_COLUMNS, *dictionary.columns()]
    table = read_delimited(
        records, expected=expected, shown=shown, what="REDCap records", unique_header=False
    )
    reader = _RecordsReader(
        table, dictionary, waves=waves, instances=instances, wave=wave, values=values, progress=show_progress
    )
    return reader.run()


def _plain_label(text: str) -> str:
    """A label as it can be compared: HTML tags and entities removed, spaces collapsed, lower case."""
    text = html.unescape(re.sub(r"<[^>]*>", " ", text))
    return re.sub(r"\s+", " ", text).strip().lower()


def _form_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


class _RecordsReader:
    """One import: resolves columns, then reads keys, waves and every field column; collects problems."""

    def __init__(
        self,
        table: DelimitedFile,
        dictionary: RedcapDictionary,
        *,
        waves: Mapping[str, str] | None,
        instances: Mapping[int | str, str] | None,
        wave: str,
        values: ValueMode,
        progress: bool = False,
    ) -> None:
        self.table = table
        self.dictionary = dictionary
        self.waves = dict(waves) if waves is not None else None
        self.instances = {int(key): str(value) for key, value in instances.items()} if instances else None
        self.default_wave = wave
        self.values = values
        self.shown = table.shown
        self.problems: list[SourceProblem] = [*dictionary.problems, *table.problems]
        self.frame = table.frame().apply(lambda column: column.str.strip())
        self.lines = np.asarray(table.lines, dtype=np.int64)
        self.progress = progress
        self.known_columns = dictionary.columns()

    # -------------------------------------------------------------------------------------------- reporting
    def problem(self, message: str, kind: str, position: int | None = None, **where: object) -> None:
        if position is not None:
            where.setdefault("line", int(self.lines[position]))
            where.setdefault("record", self.record[position] or None)
            event = self.event[position] if self.event is not None else None
            where.setdefault("event", event or None)
            instance = self.instance[position]
            where.setdefault("instance", None if pd.isna(instance) else int(instance))
        where.setdefault("file", self.shown)
        self.problems.append(SourceProblem(message, kind=kind, **where))  # type: ignore[arg-type]

    # ----------------------------------------------------------------------------------------------- steps
    def run(self) -> SourceData:
        self.columns, self.header_mode = self.resolve_columns()
        self.read_keys()
        keep = self.check_duplicates() & self.assign_waves()
        self.value_mode = self.choose_value_mode(keep)
        present = self.forms_present()
        parts = []
        data_columns = [(p, c) for p, c in enumerate(self.columns) if c.role in ("field", "checkbox")]
        # A big export takes seconds: a progress bar shows on stderr after the first second.
        with DelayedProgress(f"reading {self.shown}", total=len(data_columns), enabled=self.progress) as bar:
            for position, column in data_columns:
                bar.step(self.table.header[position])
                part = self.read_column(position, column, keep, present)
                if part is not None:
                    parts.append(part)
        self.report_missing_fields()
        group = self.data_access_group(keep)
        if group is not None:
            parts.append(group)
        data = pd.DataFrame()
        if parts:
            joined = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
            order = np.lexsort((joined.pop("column"), joined.pop("order")))  # file order, then column order
            data = pd.DataFrame(
                {key: pd.Series(values[order], dtype=values.dtype) for key, values in joined.items()}
            )
        return SourceData(
            data=finish_long(data),
            problems=tuple(self.problems),
            source=f"{self.shown} (dictionary {self.dictionary.source})",
            kind="redcap",
            fields=tuple(self.field_descriptions()),
        )

    def resolve_columns(self) -> tuple[list[_Column], str]:
        """What each header column is, reading raw field names or, failing that, field labels."""
        header = self.table.header
        raw = [self.raw_column(name) for name in header]
        known = sum(column.role != "unknown" for column in raw)
        columns, mode = raw, "raw"
        if known < max(1, len(header)) / 2:
            labelled = self.label_columns(header)
            if sum(column.role != "unknown" for column in labelled) > known:
                columns, mode = labelled, "label"
        if mode == "raw":  # field names are unique; labels ("Complete?") may repeat
            check_header(header, self.shown, self.table.header_line)
        if not any(column.role == "record" for column in columns):
            raise StudyError(
                f"{self.shown}:{self.table.header_line}: the record id column '{self.dictionary.record_id}' "
                f"(the first field of the data dictionary) is not in the records",
                hint="export the records with the record id field, or check that the data dictionary belongs "
                "to the same REDCap project",
            )
        for name, column in zip(header, columns, strict=True):
            if column.role == "unknown":
                self.problem(
                    f"the column '{name}' is not a field of the data dictionary; it was not imported",
                    "field_not_in_dictionary",
                    line=self.table.header_line,
                    field=name,
                    severity="warning",
                    hint="download the current data dictionary from REDCap (it may have changed since this "
                    "export), or check that both files come from the same project",
                )
        return columns, mode

    def raw_column(self, name: str) -> _Column:
        dictionary = self.dictionary
        if name == dictionary.record_id:
            return _Column("record", dictionary.fields[0])
        if name in SYSTEM_COLUMNS:
            return _Column(SYSTEM_COLUMNS[name][0])
        if name in self.known_columns:
            item, code = self.known_columns[name]
            return _Column("checkbox" if code is not None else "field", item, code, item.form)
        for form in dictionary.forms:
            if name == f"{form}_complete":
                return _Column("complete", form=form)
            if name == f"{form}_timestamp":
                return _Column("system", form=form)
        return _Column("unknown")

    def label_columns(self, header: list[str]) -> list[_Column]:
        """Match label headers to fields in dictionary order (labels repeat, so position decides)."""
        expected: list[tuple[str, _Column]] = []
        record_field = self.dictionary.fields[0]
        last_of_form = {item.form: item for item in self.dictionary.fields}
        for item in self.dictionary.fields:
            if item.type == "checkbox":
                for code, label in item.choices.items():
                    column = _Column("checkbox", item, code, item.form)
                    expected.append((_plain_label(f"{item.label} (choice={label})"), column))
            elif item.type != "descriptive" and item is not record_field:
                expected.append((_plain_label(item.label), _Column("field", item, None, item.form)))
            if item is last_of_form[item.form]:
                expected.append(("complete?", _Column("complete", form=item.form)))
        system = {_plain_label(label): _Column(role) for role, label in SYSTEM_COLUMNS.values()}
        system["survey timestamp"] = _Column("system")
        result: list[_Column] = []
        used: set[int] = set()
        pointer = 0
        for position, name in enumerate(header):
            label = _plain_label(name)
            if position == 0 and label in (_plain_label(record_field.label), record_field.name):
                result.append(_Column("record", record_field))
                continue
            if label in system:
                result.append(system[label])
                continue
            found = next(
                (
                    index
                    for index in range(pointer, len(expected))
                    if index not in used and expected[index][0] == label
                ),
                None,
            )
            if found is None:
                found = next(
                    (
                        index
                        for index in range(len(expected))
                        if index not in used and expected[index][0] == label
                    ),
                    None,
                )
            if found is None:
                result.append(_Column("unknown"))
                continue
            used.add(found)
            pointer = found + 1
            result.append(expected[found][1])
        return result

    def key_column(self, role: str) -> np.ndarray | None:
        for position, column in enumerate(self.columns):
            if column.role == role:
                return self.frame[position].to_numpy(dtype=object)
        return None

    def read_keys(self) -> None:
        """Record id, event, repeat instrument and instance of each row; rows without an id are left out."""
        n = len(self.frame)
        self.record = self.key_column("record")
        assert self.record is not None
        self.event = self.key_column("event")
        instrument = self.key_column("repeat_instrument")
        if instrument is not None:  # a label export names the instrument by its label: find its form name
            forms = {_form_key(form): form for form in self.dictionary.forms}
            instrument = np.array([forms.get(_form_key(value), value) for value in instrument], dtype=object)
        self.repeat_instrument = instrument if instrument is not None else np.full(n, "", dtype=object)
        raw_instance = self.key_column("instance")
        self.instance = np.full(n, np.nan)
        self.valid = np.ones(n, dtype=bool)
        if raw_instance is not None:
            numbers = pd.to_numeric(pd.Series(raw_instance).replace("", np.nan), errors="coerce").to_numpy()
            bad = (raw_instance != "") & ~(np.isfinite(numbers) & (numbers >= 1) & (np.mod(numbers, 1) == 0))
            for position in np.flatnonzero(bad):
                self.problem(
                    "the repeat instance is not a whole number from 1 up; the row was not imported",
                    "malformed_row",
                    position,
                    value=shorten(raw_instance[position]),
                    field="redcap_repeat_instance",
                    hint=_FIX_IN_REDCAP,
                )
            self.instance = np.where(bad, np.nan, numbers)
            self.valid &= ~bad
        for position in np.flatnonzero(self.record == ""):
            self.problem(
                "this row has no record id; it was not imported",
                "missing_record_id",
                position,
                field=self.dictionary.record_id,
                record=None,
                hint="every row of a REDCap export starts with its record id; export the file again",
            )
        self.valid &= self.record != ""

    def check_duplicates(self) -> np.ndarray:
        """Rows whose record, event, repeat instrument and instance repeat: identical copies are read once,
        conflicting ones not at all."""
        keep = self.valid.copy()
        keys = pd.DataFrame(
            {
                "record": self.record,
                "event": self.event if self.event is not None else "",
                "instrument": self.repeat_instrument,
                "instance": np.nan_to_num(self.instance, nan=0.0),
            }
        )[self.valid]
        repeated = keys[keys.duplicated(keep=False)]
        for _, group in repeated.groupby(list(keys.columns), sort=False):
            positions = group.index.to_numpy()
            first = positions[0]
            lines = ", ".join(str(self.lines[p]) for p in positions)
            cells = self.frame.iloc[positions]
            same = bool((cells == cells.iloc[0]).all(axis=None))
            what = "record" + (", event" if self.event is not None else "")
            what += " and instance" if self.key_column("instance") is not None else ""
            if same:
                keep[positions[1:]] = False
                self.problem(
                    f"the same {what} appears {len(positions)} times (lines {lines}) with identical values; "
                    "it was imported once",
                    "duplicate_record",
                    first,
                    severity="warning",
                    hint="remove the duplicate rows from the export",
                )
            else:
                keep[positions] = False
                self.problem(
                    f"the same {what} appears {len(positions)} times (lines {lines}) with different values; "
                    "none of these rows were imported",
                    "duplicate_record",
                    first,
                    hint="keep one of them: merge or rename the duplicate records in REDCap and export again",
                )
        return keep

    def assign_waves(self) -> np.ndarray:
        """The study wave of every row: event map, instance map or the default wave."""
        n = len(self.frame)
        keep = np.ones(n, dtype=bool)
        if self.event is not None:
            waves = np.asarray(self.event, dtype=object).copy()
            if self.waves is not None:
                waves = np.array([self.waves.get(event) for event in self.event], dtype=object)
                for event in pd.unique(self.event[self.valid & (waves == None)]):  # noqa: E711
                    rows = np.flatnonzero(self.valid & (self.event == event))
                    self.problem(
                        f"the event '{event}' is not in the wave map; its {len(rows)} row(s) were not "
                        "imported",
                        "event_not_mapped",
                        rows[0],
                        record=None,
                        severity="warning",
                        hint="add it to `waves:` (event: wave), e.g. `waves: {" + f"{event}: m12" + "}`",
                    )
                keep &= waves != None  # noqa: E711
        else:
            waves = np.full(n, self.default_wave, dtype=object)
        if self.instances is not None:
            repeated = ~np.isnan(self.instance)
            mapped = np.array(
                [self.instances.get(int(i)) if not np.isnan(i) else None for i in self.instance], dtype=object
            )
            waves = np.where(repeated, mapped, waves)
            unmapped = repeated & (mapped == None) & self.valid  # noqa: E711
            for instance in pd.unique(self.instance[unmapped]):
                rows = np.flatnonzero(unmapped & (self.instance == instance))
                self.problem(
                    f"repeat instance {int(instance)} is not in the instance map; its {len(rows)} row(s) "
                    "were not imported",
                    "event_not_mapped",
                    rows[0],
                    record=None,
                    instance=None,
                    severity="warning",
                    hint="add it to `instances:` (instance: wave)",
                )
            keep &= ~unmapped
        self.wave = waves
        return keep

    def data_access_group(self, keep: np.ndarray) -> dict[str, np.ndarray] | None:
        """Each row's data access group (often the site), as rows of the field 'redcap_data_access_group'."""
        groups = self.key_column("dag")
        if groups is None:
            return None
        rows = np.flatnonzero(keep & (groups != ""))
        return self.block(
            rows, None, "redcap_data_access_group", np.full(len(rows), np.nan), groups[rows], -1
        )

    def choice_lookup(self, item: RedcapField) -> tuple[dict[str, str], dict[str, str]]:
        """(code -> code, plain label -> code) of a choice field."""
        return {code: code for code in item.choices}, {
            _plain_label(label): code for code, label in item.choices.items()
        }

    def choose_value_mode(self, keep: np.ndarray) -> str:
        """ "raw" or "label": which one the choice cells are written in (when `values="auto"`)."""
        if self.values != "auto":
            return self.values
        codes = labels = 0
        for position, column in enumerate(self.columns):
            if column.role != "field" or column.field is None or column.field.kind != "choice":
                continue
            by_code, by_label = self.choice_lookup(column.field)
            cells = pd.unique(self.frame[position][keep])
            codes += sum(1 for cell in cells if cell in by_code)
            labels += sum(1 for cell in cells if cell not in by_code and _plain_label(cell) in by_label)
        return "label" if labels > codes else "raw"

    def forms_present(self) -> dict[str, np.ndarray]:
        """Per form, the rows that hold any answer of it (an unticked checkbox counts only on those rows)."""
        present: dict[str, np.ndarray] = {}
        n = len(self.frame)
        for position, column in enumerate(self.columns):
            if column.form is None or column.role not in ("field", "checkbox", "complete"):
                continue
            cells = self.frame[position]
            if column.role == "checkbox":
                filled = ~cells.str.lower().isin(["", *_UNCHECKED]).to_numpy()
            else:
                filled = (cells != "").to_numpy()
            present[column.form] = present.get(column.form, np.zeros(n, dtype=bool)) | filled
        return present

    def read_column(
        self, position: int, column: _Column, keep: np.ndarray, present: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray] | None:
        """The valid answers of one column as long rows; a problem for every invalid one."""
        item = column.field
        assert item is not None
        name = self.table.header[position] if self.header_mode == "raw" else None
        field_name = name or (
            item.name
            if column.code is None
            else next(c for c, code in item.columns.items() if code == column.code)
        )
        cells = self.frame[position]
        given = (cells != "").to_numpy() & keep
        if column.role == "checkbox":
            given &= present.get(item.form, np.ones(len(cells), dtype=bool))
        huge = given & (cells.str.len() > MAX_CELL).to_numpy()
        for row in np.flatnonzero(huge):
            self.problem(
                f"the cell holds {len(cells.iloc[row]):,} characters, far more than any answer; it was not "
                "imported",
                "huge_cell",
                row,
                field=field_name,
                value=shorten(cells.iloc[row]),
                hint="check this record in REDCap",
            )
        given &= ~huge
        if item.type == "calc":  # REDCap writes NaN for a calculation whose inputs are empty: no answer
            given &= ~cells.str.lower().isin(["nan"]).to_numpy()
        if not given.any():
            return None
        rows = np.flatnonzero(given)
        text = cells.to_numpy(dtype=object)[rows]
        values, bad, messages, kinds = self.convert(item, column, text)
        for index in np.flatnonzero(bad):
            row = rows[index]
            self.problem(
                messages[index],
                kinds[index],
                row,
                field=field_name,
                value=shorten(text[index]),
                hint=self.hint_for(kinds[index], item),
            )
        ok = ~bad
        return self.block(rows[ok], item.form, field_name, values[ok], text[ok], position)

    def block(
        self,
        rows: np.ndarray,
        form: str | None,
        field_name: str,
        values: np.ndarray,
        text: np.ndarray,
        column: int,
    ) -> dict[str, np.ndarray]:
        """Long rows of one column as arrays (joined once at the end: a DataFrame per column is slow)."""
        n = len(rows)
        return {
            "record": self.record[rows],
            "wave": self.wave[rows],
            "event": self.event[rows] if self.event is not None else np.full(n, None, dtype=object),
            "form": np.full(n, form, dtype=object),
            "instance": self.instance[rows],
            "field": np.full(n, field_name, dtype=object),
            "value": values,
            "text": text,
            "line": self.lines[rows],
            "order": rows,
            "column": np.full(n, column),
        }

    def convert(
        self, item: RedcapField, column: _Column, text: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
        """(numbers, bad mask, message per cell, kind per cell) for the non-empty cells of one column."""
        check = _Checks(text)
        kind = item.kind
        if column.role == "checkbox":
            label = _plain_label(item.choices.get(column.code or "", ""))
            state = _per_distinct(
                text,
                lambda cell: (
                    1.0
                    if cell.lower() in _CHECKED or _plain_label(cell) == label
                    else (0.0 if cell.lower() in _UNCHECKED else np.nan)
                ),
            ).astype(float)
            checked, unchecked = state == 1.0, state == 0.0
            check.values = state
            check.flag(
                ~(checked | unchecked),
                "unknown_choice",
                lambda cell: (
                    f"a checkbox option holds '{shorten(cell)}'; expected 1 or 0 (Checked or Unchecked)"
                ),
            )
        elif kind == "choice":
            by_code, by_label = self.choice_lookup(item)

            def code_of(cell: str) -> str | None:
                if self.value_mode == "raw":
                    return by_code[cell] if cell in by_code else by_label.get(_plain_label(cell))
                found = by_label.get(_plain_label(cell))
                return found if found is not None else by_code.get(cell)

            codes = _per_distinct(text, code_of)
            listed = ", ".join(f"{code} {label}".strip() for code, label in list(item.choices.items())[:8])
            listed += ", ..." if len(item.choices) > 8 else ""
            check.flag(
                np.array([code is None for code in codes], dtype=bool),
                "unknown_choice",
                lambda cell: f"'{shorten(cell)}' is not one of the field's choices ({listed})",
            )
            numbers = {code: pd.to_numeric(code, errors="coerce") for code in by_code}
            check.values = np.array(
                [numbers.get(code, np.nan) if code else np.nan for code in codes], dtype=float
            )
        elif kind in ("integer", "number"):
            written = pd.Series(text, dtype=object)
            if item.comma_decimal:
                written = written.str.replace(",", ".", regex=False)
            numbers = pd.to_numeric(written, errors="coerce").to_numpy(dtype=float)
            what = {"calc": "calculated field", "slider": "slider", "text": f"{kind} field"}[item.type]
            article = "an" if what[0] in "aeiou" else "a"
            check.flag(
                ~np.isfinite(numbers),
                "not_a_number",
                lambda cell: f"'{shorten(cell)}' in {article} {what} is not a number",
            )
            if kind == "integer":
                fraction = np.isfinite(numbers) & (np.mod(np.nan_to_num(numbers), 1) != 0)
                check.flag(
                    fraction,
                    "not_whole_number",
                    lambda cell: f"{cell} in an integer field is not a whole number",
                )
            low, high = item.range
            if low is not None or high is not None:
                below = numbers < (low if low is not None else -np.inf)
                above = numbers > (high if high is not None else np.inf)
                shown = (
                    f"{_g(low) if low is not None else '-inf'} to {_g(high) if high is not None else 'inf'}"
                )
                check.flag(
                    below | above, "out_of_range", lambda cell: f"{cell} is outside the field's range {shown}"
                )
            check.values = numbers
        elif kind in ("date", "datetime", "time"):
            pattern = {"date": _DATE, "datetime": _DATETIME, "time": _TIME}[kind]
            words = {
                "date": "a date (YYYY-MM-DD)",
                "datetime": "a date and time (YYYY-MM-DD HH:MM)",
                "time": "a time (HH:MM)",
            }
            malformed = np.array([pattern.match(cell) is None for cell in text], dtype=bool)
            if kind != "time":  # well-formed but impossible dates (2024-13-01, 2023-02-29)
                parsed = pd.to_datetime(pd.Series(text, dtype=object), format="ISO8601", errors="coerce")
                malformed |= parsed.isna().to_numpy()
            check.flag(malformed, "not_a_date", lambda cell: f"'{shorten(cell)}' is not {words[kind]}")
            # Bounds written as dates are compared as text, which orders ISO dates correctly; bounds such as
            # 'today' are not checked.
            low = item.minimum if item.minimum and pattern.match(item.minimum) else None
            high = item.maximum if item.maximum and pattern.match(item.maximum) else None
            if low or high:
                outside = np.array(
                    [(low is not None and cell < low) or (high is not None and cell > high) for cell in text],
                    dtype=bool,
                )
                check.flag(
                    outside,
                    "out_of_range",
                    lambda cell: f"{cell} is outside the field's range {low or '...'} to {high or '...'}",
                )
        return np.where(check.bad, np.nan, check.values), check.bad, check.messages, check.kinds

    def hint_for(self, kind: str, item: RedcapField) -> str:
        if kind == "unknown_choice" and item.type != "checkbox":
            return (
                "correct it in REDCap, or add the code to the field's choices in the data dictionary if it "
                "is meant (the value was not imported)"
            )
        if kind == "not_a_number":
            return "a numeric field holds a number only (no units or words); " + _FIX_IN_REDCAP
        return _FIX_IN_REDCAP

    def report_missing_fields(self) -> None:
        """Fields of the dictionary that have no column in the export (whole forms reported once)."""
        seen = {column.field.name for column in self.columns if column.field is not None}
        seen_forms = {column.form for column in self.columns if column.form is not None}
        for form in self.dictionary.forms:
            fields = [
                item for item in self.dictionary.form_fields(form)
                if item.type != "descriptive" and item.name != self.dictionary.record_id
            ]  # fmt: skip
            missing = [item for item in fields if item.name not in seen]
            if not missing:
                continue
            if form not in seen_forms and len(missing) == len(fields):
                self.problem(
                    f"none of the {len(fields)} fields of the instrument '{form}' are in the records",
                    "field_not_in_records",
                    field=form,
                    line=self.table.header_line,
                    severity="warning",
                    hint="export all instruments if this one should be there; otherwise nothing to do",
                )
                continue
            for item in missing:
                self.problem(
                    f"the field '{item.name}' of the data dictionary is not in the records",
                    "field_not_in_records",
                    field=item.name,
                    line=self.table.header_line,
                    severity="warning",
                    hint="export all fields of the instrument if it should be there; otherwise nothing to do",
                )

    def field_descriptions(self) -> list[dict[str, object]]:
        result = []
        for item in self.dictionary.fields[1:]:
            for column, code in item.columns.items():
                label = item.label if code is None else f"{item.label} (choice={item.choices[code]})"
                result.append({"field": column, "form": item.form, "type": item.type, "label": label})
        return result


def _g(number: float) -> str:
    return f"{number:g}"


def _per_distinct(text: np.ndarray, function: Callable[[str], object]) -> np.ndarray:
    """`function` of every cell, computed once per distinct cell (answers repeat a few codes many times)."""
    positions, distinct = pd.factorize(pd.Series(text, dtype=object))
    results = np.empty(len(distinct) + 1, dtype=object)
    results[:-1] = [function(cell) for cell in distinct]
    return results[positions]


class _Checks:
    """The outcome of checking the cells of one column: values, which cells are bad, and why.

    A cell keeps the first problem found for it (a word in a numeric field is not also out of range).
    """

    def __init__(self, text: np.ndarray) -> None:
        self.text = text
        self.values = np.full(len(text), np.nan)
        self.bad = np.zeros(len(text), dtype=bool)
        self.messages = [""] * len(text)
        self.kinds = [""] * len(text)

    def flag(self, mask: np.ndarray, kind: str, describe: Callable[[str], str]) -> None:
        for index in np.flatnonzero(mask & ~self.bad):
            self.messages[index] = describe(str(self.text[index]))
            self.kinds[index] = kind
        self.bad |= mask
