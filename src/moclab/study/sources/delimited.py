"""Reading an exported CSV file (REDCap, Qualtrics) cell by cell, whatever its encoding, as it was written.

Unlike a study table (`moclab.study.tables`), which must be UTF-8, an export is read even when it is not: a
file saved by a Western Windows Excel (cp1252), or one in which a few records were pasted from another
program and mix two encodings, is decoded line by line (UTF-8 where a line is UTF-8, the encoding
charset-normalizer finds for the others) and the problem is reported with the encoding found and how to
convert the file. A byte-order mark (UTF-8 or UTF-16) is honoured; semicolon- and tab-separated files (a
European Excel's "CSV") are recognised from the header.

Hand-written on top of the `csv` module rather than pandas because the importers need, for every record,
the line it starts on (values may span lines) and the cells exactly as written, and must survive a row with
too many or too few values, which they report and skip instead of refusing the file.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from moclab.errors import StudyError, display_path
from moclab.study.sources.problems import SourceProblem
from moclab.study.tables import _detect

#: Cells longer than this are not answers; they are reported and not imported.
MAX_CELL = 100_000
#: A file with a cell longer than this is refused (an unclosed quote swallowing the file, or no CSV at all).
MAX_FIELD = 64 * 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}


@dataclass
class DelimitedFile:
    """An export as read: its header, its rows (each as long as the header) and where each row starts.

    Attributes
    ----------
    shown
        The file name as messages show it.
    header
        The column names as written (spaces around them removed).
    rows
        The data rows; every row has exactly one cell per header name ("" for an empty cell).
    lines
        The line on which each row starts (values may span lines).
    header_line
        The line of the header.
    encoding
        The encoding the file was read in ("utf-8", or what was detected; "mixed: ..." when lines differ).
    delimiter
        The column separator.
    problems
        Encoding problems and rows that could not be used.
    """

    shown: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    header_line: int
    encoding: str
    delimiter: str
    problems: list[SourceProblem] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame of text (object columns, "" for empty cells), columns by position."""
        return pd.DataFrame(self.rows, columns=range(len(self.header)), dtype=object)


def read_delimited(
    path: str | Path,
    *,
    expected: Iterable[str] = (),
    shown: str | None = None,
    what: str = "export",
    unique_header: bool = True,
) -> DelimitedFile:
    """Read a delimited text export.

    Parameters
    ----------
    path
        The file.
    expected
        Column names the file should have; they decide between candidate delimiters when the header could be
        split in several ways (a semicolon file whose names contain commas).
    shown
        The name used in messages (default: the path relative to the working directory).
    what
        What the file is, for messages ("REDCap records", "data dictionary").
    unique_header
        Refuse a header that names a column twice (a REDCap label export repeats "Complete?", so its
        reader checks names itself).

    Raises
    ------
    StudyError
        A missing, empty or binary file, a header naming a column twice, or a file that is not CSV at all (a
        quote never closed, a cell of more than 64 MB).
    """
    path = Path(path)
    shown = shown or display_path(path)
    if not path.is_file():
        raise StudyError(f"{shown}: {what} file not found" if not path.exists() else f"{shown}: is a folder")
    raw = path.read_bytes()
    text, encoding, problems = decode_export(raw, shown)
    if not text.strip():
        raise StudyError(f"{shown}: the {what} file is empty", hint="export it again from its source")
    if text.count("\x00") > len(text) // 10:
        raise StudyError(
            f"{shown}: this is not a text file (it is full of zero bytes)",
            hint=f"export the {what} as CSV",
        )
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _choose_delimiter(first_line, set(expected))
    records = _parse(text, delimiter, shown)
    header_line, header = records[0]
    header = [name.strip() for name in header]
    if unique_header:
        check_header(header, shown, header_line)
    rows: list[list[str]] = []
    lines: list[int] = []
    width = len(header)
    for line, record in records[1:]:
        if len(record) != width:
            if len(record) > width and not any(cell.strip() for cell in record[width:]):
                record = record[:width]  # trailing separators (a spreadsheet's empty columns)
            else:
                problems.append(_ragged(shown, line, len(record), width, delimiter))
                continue
        rows.append(record)
        lines.append(line)
    return DelimitedFile(
        shown=shown,
        header=header,
        rows=rows,
        lines=lines,
        header_line=header_line,
        encoding=encoding,
        delimiter=delimiter,
        problems=problems,
    )


def decode_export(raw: bytes, shown: str) -> tuple[str, str, list[SourceProblem]]:
    """The text of an export, the encoding it was read in and a problem when it was not UTF-8.

    Lines that are valid UTF-8 are read as UTF-8; the others in the encoding that charset-normalizer finds
    for their bytes (preferring cp1252 and latin-1 when they read as well, as `moclab.study.tables` does).
    """
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    # Splitting on b"\n" is safe: in UTF-8 and in the single-byte encodings spreadsheets write, the byte
    # 0x0A is always a line feed.
    lines = raw.split(b"\n")
    bad: list[int] = []
    utf8_non_ascii = 0
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
            continue
        if not line.isascii():
            utf8_non_ascii += 1
    failing = b"\n".join(lines[number - 1] for number in bad)
    encoding, alternatives = _detect(failing)
    decoded = []
    bad_lines = set(bad)
    for number, line in enumerate(lines, start=1):
        if number in bad_lines:
            decoded.append(line.decode(encoding or "utf-8", errors="replace"))
        else:
            decoded.append(line.decode("utf-8"))
    text = "\n".join(decoded)
    name = Path(shown).name
    converted = f"{Path(name).stem}-utf8{Path(name).suffix}"
    listed = ", ".join(str(number) for number in bad[:5]) + (
        f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    )
    if encoding is None:
        problem = SourceProblem(
            f"not UTF-8 text and the encoding could not be recognised; unreadable characters on lines "
            f"{listed} were replaced by '\ufffd'",
            file=shown,
            line=bad[0],
            kind="encoding",
            severity="warning",
            hint="export the file again as UTF-8 (REDCap and Qualtrics exports are UTF-8), or open it in a "
            "spreadsheet and save it as 'CSV UTF-8'",
        )
        return text, "utf-8 (with replacements)", [problem]
    also = f" (or {' or '.join(alternatives)})" if alternatives else ""
    if utf8_non_ascii:
        problem = SourceProblem(
            f"mixed encodings: {utf8_non_ascii} line(s) with accented letters are UTF-8, but lines {listed} "
            f"look like {encoding}{also}; each line was read in its own encoding",
            file=shown,
            line=bad[0],
            kind="encoding",
            severity="warning",
            hint="check the names and answers on those lines; fix them at the source and export again, so "
            "the whole file is UTF-8",
        )
        return text, f"mixed: utf-8 and {encoding}", [problem]
    problem = SourceProblem(
        f"not UTF-8 text; it looks like {encoding}{also} and was read as {encoding}",
        file=shown,
        line=bad[0],
        kind="encoding",
        severity="warning",
        hint=f"to convert the file to UTF-8: `iconv -f {encoding} -t utf-8 {name} > {converted}`, or open it "
        "in a spreadsheet and save it as 'CSV UTF-8'",
    )
    return text, encoding, [problem]


def _choose_delimiter(first_line: str, expected: set[str]) -> str:
    """The delimiter that splits the header into the most expected names, else into the most columns."""
    best, best_score = ",", (-1, -1)
    for candidate in _DELIMITERS:
        names = next(csv.reader([first_line], delimiter=candidate), [])
        known = sum(1 for name in names if name.strip() in expected)
        score = (known, len(names))
        if score > best_score:
            best, best_score = candidate, score
    return best


def _parse(text: str, delimiter: str, shown: str) -> list[tuple[int, list[str]]]:
    """(start line, cells) of every non-blank record, the header first."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    previous = 0
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD)
    try:
        while True:
            start = previous + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _parse_error(shown, start, str(exc)) from None
            previous = reader.line_num
            if any(cell.strip() for cell in record):  # blank lines and rows of empty cells are skipped
                records.append((start, record))
    finally:
        csv.field_size_limit(limit)
    if not records:
        raise StudyError(f"{shown}: the file has no header row", hint="export it again from its source")
    return records


def _parse_error(shown: str, line: int, message: str) -> StudyError:
    if "field larger" in message:
        return StudyError(
            f"{shown}:{line}: a cell starting on this line is longer than {MAX_FIELD // 1024 // 1024} MB",
            hint="a quote opened here is probably never closed, or this is not a CSV export",
        )
    if "end of data" in message:
        return StudyError(
            f"{shown}:{line}: a quote opened in the record starting on this line is never closed",
            hint="values with commas or line breaks must be in double quotes, and a quote inside a value is "
            'written twice (""); export the file again',
        )
    return StudyError(
        f"{shown}:{line}: cannot be read as CSV ({message})",
        hint='a quote inside a value must be written twice (""); export the file again',
    )


def check_header(header: list[str], shown: str, line: int) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name and name in seen:
            raise StudyError(
                f"{shown}:{line}: the column '{name}' appears twice in the header (columns {seen[name]} and "
                f"{position})",
                hint="export the file again; every column of an export has its own name",
            )
        seen.setdefault(name, position)


def _ragged(shown: str, line: int, found: int, width: int, delimiter: str) -> SourceProblem:
    return SourceProblem(
        f"this line has {found} values but the header names {width} columns; the row was not imported",
        file=shown,
        line=line,
        kind="malformed_row",
        hint=f"a value containing a {_NAMES.get(delimiter, repr(delimiter))} must be in double quotes; fix "
        "the row or export the file again",
    )
