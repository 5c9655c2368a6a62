"""The REDCap data dictionary: reading the metadata CSV a project exports, and what each field is.

A REDCap data dictionary (Project Setup > Data Dictionary > Download) is a CSV file with one row per field and
these columns, in this order (REDCap's own header names; the API's metadata export uses the lower-case names
in brackets, and both are accepted):

==========================================  ============================================  ==========
column                                      meaning                                       required
==========================================  ============================================  ==========
Variable / Field Name (field_name)          the field's name; the first field is the      yes
                                            record id
Form Name (form_name)                       the instrument (form) it belongs to           yes
Section Header (section_header)             a heading shown above the field               no
Field Type (field_type)                     text, notes, radio, dropdown, checkbox,       yes
                                            yesno, truefalse, calc, slider, descriptive,
                                            file, sql
Field Label (field_label)                   the question as shown                         yes
Choices, Calculations, OR Slider Labels     ``1, Label | 2, Label`` for choice fields,    yes
(select_choices_or_calculations)            the formula of a calc field, the anchor
                                            labels of a slider
Field Note (field_note)                     a note under the field                        no
Text Validation Type OR Show Slider         integer, number, date_ymd, email, ...         no
Number (text_validation_type_or_...)
Text Validation Min / Max                   the allowed range                             no
Identifier? (identifier)                    ``y`` for identifying fields                  no
Branching Logic (Show field only if...)     when the field is shown                       no
Required Field? (required_field)            ``y`` when an answer is required              no
Custom Alignment, Question Number (surveys  layout                                        no
only), Matrix Group Name, Matrix Ranking?,
Field Annotation
==========================================  ============================================  ==========

The format is REDCap's (Harris et al. 2009, doi:10.1016/j.jbi.2008.08.010; the column list as REDCap writes
it and as the REDCapR and PyCap client libraries read it). A checkbox field becomes one export column per
choice, named ``field___code`` with the code in lower case and every character other than a letter or digit
replaced by ``_`` (a code ``-99`` gives ``field____99``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from moclab.errors import Problem, ValidationError, did_you_mean, display_path
from moclab.study.sources.delimited import read_delimited
from moclab.study.sources.problems import SourceProblem

#: (API name, REDCap's header) of every dictionary column, in REDCap's order.
DICTIONARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("field_name", "Variable / Field Name"),
    ("form_name", "Form Name"),
    ("section_header", "Section Header"),
    ("field_type", "Field Type"),
    ("field_label", "Field Label"),
    ("select_choices_or_calculations", "Choices, Calculations, OR Slider Labels"),
    ("field_note", "Field Note"),
    ("text_validation_type_or_show_slider_number", "Text Validation Type OR Show Slider Number"),
    ("text_validation_min", "Text Validation Min"),
    ("text_validation_max", "Text Validation Max"),
    ("identifier", "Identifier?"),
    ("branching_logic", "Branching Logic (Show field only if...)"),
    ("required_field", "Required Field?"),
    ("custom_alignment", "Custom Alignment"),
    ("question_number", "Question Number (surveys only)"),
    ("matrix_group_name", "Matrix Group Name"),
    ("matrix_ranking", "Matrix Ranking?"),
    ("field_annotation", "Field Annotation"),
)
REQUIRED_COLUMNS = ("field_name", "form_name", "field_type", "field_label", "select_choices_or_calculations")

FIELD_TYPES = (
    "text", "notes", "radio", "dropdown", "checkbox", "yesno", "truefalse", "calc", "slider", "descriptive",
    "file", "sql",
)  # fmt: skip
CHOICE_TYPES = ("radio", "dropdown", "checkbox", "yesno", "truefalse")
_FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _normal(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower())


# Every accepted spelling of a column header -> its API name. "Branching Logic" is also written without its
# parenthesis by some REDCap versions.
_HEADER_NAMES: dict[str, str] = {}
for _api, _header in DICTIONARY_COLUMNS:
    _HEADER_NAMES[_normal(_api)] = _api
    _HEADER_NAMES[_normal(_header)] = _api
_HEADER_NAMES["branching logic"] = "branching_logic"


def checkbox_column(field_name: str, code: str) -> str:
    """A checkbox choice's export column: ``field___code``, code lower-cased, other characters ``_``."""
    return f"{field_name}___{re.sub(r'[^a-z0-9]', '_', code.lower())}"


def parse_choices(text: str) -> tuple[dict[str, str], list[str]]:
    """``"1, Yes | 2, No"`` -> ({"1": "Yes", "2": "No"}, problems as messages).

    Choices are separated by ``|`` (older dictionaries: one per line); each is ``code, label``, split at the
    first comma (labels may contain commas).
    """
    pieces = text.split("|") if "|" in text else re.split(r"\\n|\n", text)
    choices: dict[str, str] = {}
    problems: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        code, comma, label = piece.partition(",")
        code, label = code.strip(), label.strip()
        if not comma or not code:
            problems.append(f"the choice '{piece}' has no code (write it as 'code, label')")
            continue
        if code in choices:
            problems.append(f"the code '{code}' is used twice ('{choices[code]}' and '{label}')")
            continue
        choices[code] = label
    return choices, problems


def _number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


@dataclass(frozen=True)
class RedcapField:
    """One field of a REDCap data dictionary.

    Attributes
    ----------
    name, form, type, label
        Field name, instrument (form) name, field type and label as in the dictionary.
    choices
        Code -> label of a choice field (radio, dropdown, checkbox, yesno, truefalse), in order; the slider's
        anchor labels are in `slider_labels`.
    validation
        The text validation type (integer, number, date_ymd, ...), or None.
    minimum, maximum
        The validation range as written (numbers or dates), or None; a slider's range is 0-100 unless set.
    required, identifier
        The "Required Field?" and "Identifier?" flags.
    calculation
        A calc field's formula.
    line
        The line of the field in the dictionary file.
    """

    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)
    validation: str | None = None
    minimum: str | None = None
    maximum: str | None = None
    required: bool = False
    identifier: bool = False
    section_header: str | None = None
    note: str | None = None
    branching_logic: str | None = None
    calculation: str | None = None
    slider_labels: tuple[str, ...] = ()
    matrix_group: str | None = None
    line: int | None = None

    @property
    def kind(self) -> str:
        """How values are read: choice, checkbox, integer, number, date, datetime, time, text or none."""
        if self.type in ("radio", "dropdown", "yesno", "truefalse"):
            return "choice"
        if self.type == "checkbox":
            return "checkbox"
        if self.type in ("calc", "slider"):
            return "number"
        if self.type == "descriptive":
            return "none"
        if self.type == "text" and self.validation:
            validation = self.validation.lower()
            if validation in ("integer", "int"):
                return "integer"
            if validation.startswith(("number", "float")):
                return "number"
            if validation.startswith("datetime"):
                return "datetime"
            if validation.startswith("date"):
                return "date"
            if validation.startswith("time"):
                return "time"
        return "text"

    @property
    def comma_decimal(self) -> bool:
        """Whether numbers are written with a decimal comma (number_comma_decimal validations)."""
        return bool(self.validation) and "comma_decimal" in str(self.validation)

    @property
    def range(self) -> tuple[float | None, float | None]:
        """The numeric range (minimum, maximum); a slider without one is 0-100."""
        low, high = _number(self.minimum), _number(self.maximum)
        if self.type == "slider":
            return (0.0 if low is None else low, 100.0 if high is None else high)
        return low, high

    @property
    def columns(self) -> dict[str, str | None]:
        """The export columns of this field -> the checkbox code they stand for (None for other fields)."""
        if self.type == "checkbox":
            return {checkbox_column(self.name, code): code for code in self.choices}
        if self.type == "descriptive":
            return {}
        return {self.name: None}


@dataclass(frozen=True)
class RedcapDictionary:
    """A REDCap data dictionary: its fields in order, the problems found in it, and lookups.

    Attributes
    ----------
    fields
        The fields in the dictionary's order; the first is the record id.
    source
        The file as messages name it.
    problems
        Rows that could not be used as written (unknown field types, choices without codes, ...).
    """

    fields: tuple[RedcapField, ...]
    source: str = ""
    problems: tuple[SourceProblem, ...] = ()

    @property
    def record_id(self) -> str:
        """The record id field: the first field of the dictionary."""
        return self.fields[0].name

    @property
    def forms(self) -> list[str]:
        """The instrument (form) names in order."""
        return list(dict.fromkeys(item.form for item in self.fields))

    def __iter__(self) -> Iterator[RedcapField]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __contains__(self, name: object) -> bool:
        return any(item.name == name for item in self.fields)

    def get(self, name: str) -> RedcapField:
        """The field called `name` (KeyError with the closest names otherwise)."""
        for item in self.fields:
            if item.name == name:
                return item
        hint = did_you_mean(name, [item.name for item in self.fields])
        raise KeyError(f"no field '{name}' in the data dictionary" + (f"; {hint}" if hint else ""))

    def form_fields(self, form: str) -> list[RedcapField]:
        """The fields of one instrument, in order."""
        return [item for item in self.fields if item.form == form]

    def columns(self) -> dict[str, tuple[RedcapField, str | None]]:
        """Every data column a raw export of all instruments can have -> (field, checkbox code or None)."""
        result: dict[str, tuple[RedcapField, str | None]] = {}
        for item in self.fields:
            for column, code in item.columns.items():
                result[column] = (item, code)
        return result


def read_redcap_dictionary(path: str | Path, *, shown: str | None = None) -> RedcapDictionary:
    """Read a REDCap data dictionary CSV (as downloaded from REDCap, or the API's metadata export).

    Parameters
    ----------
    path
        The dictionary file.
    shown
        Its name in messages (default: relative to the working directory).

    Returns
    -------
    RedcapDictionary
        The fields, and the problems of rows that could not be used as written (kept in the import report;
        such a field is still read, as text when its type is unknown).

    Raises
    ------
    ValidationError
        When a required column is missing (with the closest header), or there are no fields.
    StudyError
        When the file is missing, empty or not CSV.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "dictionary.csv").write_text(
    ...     '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    ...     '"Choices, Calculations, OR Slider Labels"\\n'
    ...     'record_id,survey,,text,Record ID,\\n'
    ...     'q1,survey,,radio,Question 1,"1, Disagree | 2, Neutral | 3, Agree"\\n'
    ... )
    >>> dictionary = read_redcap_dictionary(folder / "dictionary.csv")
    >>> dictionary.record_id, dictionary.get("q1").choices
    ('record_id', {'1': 'Disagree', '2': 'Neutral', '3': 'Agree'})
    """
    path = Path(path)
    shown = shown or display_path(path)
    expected = [header for _, header in DICTIONARY_COLUMNS] + [api for api, _ in DICTIONARY_COLUMNS]
    table = read_delimited(path, expected=expected, shown=shown, what="data dictionary")
    positions: dict[str, int] = {}
    for position, header in enumerate(table.header):
        api = _HEADER_NAMES.get(_normal(header))
        if api is not None:
            positions.setdefault(api, position)
    missing = [api for api in REQUIRED_COLUMNS if api not in positions]
    if missing:
        raise ValidationError(
            f"REDCap data dictionary {shown}",
            [_missing_column(api, table.header, shown, table.header_line) for api in missing],
        )
    problems = list(table.problems)
    fields: list[RedcapField] = []
    seen: dict[str, int] = {}
    for line, row in zip(table.lines, table.rows, strict=True):
        cells = {api: row[position].strip() for api, position in positions.items()}
        parsed = _field(cells, line, shown, problems)
        if parsed is None:
            continue
        if parsed.name in seen:
            problems.append(
                _dictionary_problem(
                    f"the field name '{parsed.name}' is used twice (lines {seen[parsed.name]} and {line}); "
                    "the second is ignored",
                    shown,
                    line,
                    parsed.name,
                    "every field needs its own name",
                )
            )
            continue
        seen[parsed.name] = line
        fields.append(parsed)
    if not fields:
        raise ValidationError(
            f"REDCap data dictionary {shown}",
            [Problem("the data dictionary defines no fields", file=shown, line=table.header_line)],
        )
    return RedcapDictionary(fields=tuple(fields), source=shown, problems=tuple(problems))


def _missing_column(api: str, header: list[str], shown: str, line: int) -> Problem:
    name = dict(DICTIONARY_COLUMNS)[api]
    columns = ", ".join(f"'{h}'" for _, h in DICTIONARY_COLUMNS[:6])
    advice = (
        f"a REDCap data dictionary has the columns {columns}, ...; download it again from REDCap (Project "
        "Setup > Data Dictionary)"
    )
    hint = did_you_mean(name, header, advice=advice)
    return Problem(f"the column '{name}' is missing", file=shown, line=line, field=name, hint=hint)


def _dictionary_problem(message: str, shown: str, line: int, name: str | None, hint: str) -> SourceProblem:
    return SourceProblem(message, file=shown, line=line, field=name, kind="dictionary", hint=hint)


def _field(cells: dict[str, str], line: int, shown: str, problems: list[SourceProblem]) -> RedcapField | None:
    """One dictionary row as a field; problems are appended, None when the row cannot be a field at all."""
    name = cells["field_name"]
    if not name:
        problems.append(
            _dictionary_problem("a row without a field name is ignored", shown, line, None, "give it a name")
        )
        return None
    if not _FIELD_NAME.match(name):
        problems.append(
            SourceProblem(
                f"'{name}' is not a valid REDCap field name (lower-case letters, digits and _, starting "
                "with a letter)",
                file=shown,
                line=line,
                field=name,
                kind="dictionary",
                severity="warning",
                hint="REDCap would refuse this dictionary; the field is still read",
            )
        )
    field_type = cells["field_type"].lower()
    if field_type not in FIELD_TYPES:
        problems.append(
            _dictionary_problem(
                f"unknown field type '{cells['field_type']}'; the field is read as text",
                shown,
                line,
                name,
                did_you_mean(
                    field_type, FIELD_TYPES, advice="REDCap's field types: " + ", ".join(FIELD_TYPES)
                ),
            )
        )
        field_type = "text"
    text = cells["select_choices_or_calculations"]
    choices: dict[str, str] = {}
    calculation = None
    slider_labels: tuple[str, ...] = ()
    if field_type in ("radio", "dropdown", "checkbox"):
        choices, messages = parse_choices(text)
        for message in messages:
            problems.append(_dictionary_problem(message, shown, line, name, "fix the choices in REDCap"))
        if not choices:
            problems.append(
                _dictionary_problem(
                    f"the {field_type} field has no choices, so none of its values can be read",
                    shown,
                    line,
                    name,
                    "write its choices as '1, Label | 2, Label' in 'Choices, Calculations, OR Slider Labels'",
                )
            )
    elif field_type in _FIXED_CHOICES:
        choices = dict(_FIXED_CHOICES[field_type])
    elif field_type == "calc":
        calculation = text or None
    elif field_type == "slider":
        slider_labels = tuple(piece.strip() for piece in text.split("|") if piece.strip())
    validation = cells.get("text_validation_type_or_show_slider_number") or None
    if field_type == "slider":
        validation = None  # for sliders the column only says whether to show the number
    minimum = cells.get("text_validation_min") or None
    maximum = cells.get("text_validation_max") or None
    parsed = RedcapField(
        name=name,
        form=cells["form_name"],
        type=field_type,
        label=cells["field_label"],
        choices=choices,
        validation=validation,
        minimum=minimum,
        maximum=maximum,
        required=cells.get("required_field", "").lower() in ("y", "yes", "1"),
        identifier=cells.get("identifier", "").lower() in ("y", "yes", "1"),
        section_header=cells.get("section_header") or None,
        note=cells.get("field_note") or None,
        branching_logic=cells.get("branching_logic") or None,
        calculation=calculation,
        slider_labels=slider_labels,
        matrix_group=cells.get("matrix_group_name") or None,
        line=line,
    )
    if not parsed.form:
        problems.append(_dictionary_problem("the field has no form name", shown, line, name, "name its form"))
    if parsed.kind in ("integer", "number") or field_type == "slider":
        for bound, value in (("minimum", minimum), ("maximum", maximum)):
            if value is not None and _number(value) is None:
                problems.append(
                    _dictionary_problem(
                        f"the validation {bound} '{value}' is not a number, so it is not checked",
                        shown,
                        line,
                        name,
                        "write a number",
                    )
                )
    return parsed
