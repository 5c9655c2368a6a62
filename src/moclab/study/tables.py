"""Reading one data table (CSV, TSV, Excel, Parquet) as the user wrote it, with errors a researcher can act
on.

Text files are read with every cell as text (so an id such as `007` keeps its zeros and a stray word in a
number column can be shown as written); the typed conversion happens later, against the column declarations
(`moclab.study.columns`). Excel and Parquet cells keep their native types. Cells holding one of the
`missing` texts become missing values.

Text files must be UTF-8. When they are not, the error says which encoding the bytes look like (detected
with charset-normalizer), on which line the first unreadable byte is, and how to convert the file or read it
as is with an `encoding:` entry in moclab.yaml. Big files take the fast path: pandas with the pyarrow CSV
engine, and the slower C engine only to locate a parse error by line.

`TableSource` keeps, next to the frame, what is needed to turn a data row into the line a user sees in an
editor or spreadsheet: row r (1-based, the header is row 0) is line r + 1, unless the file has blank lines
or values spanning lines, in which case the lines are counted once, when a problem needs them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from moclab.errors import Problem, StudyError, display_path
from moclab.study.config import DEFAULT_MISSING

TEXT_DELIMITERS: dict[str, str | None] = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED = ", ".join([*TEXT_DELIMITERS, *EXCEL_SUFFIXES, *PARQUET_SUFFIXES])

# Delimiters tried, in this order of preference, when the file does not say (a .txt file, or a .csv file saved
# by a European Excel, which separates with semicolons).
_CANDIDATE_DELIMITERS = (",", ";", "\t", "|")

TableKind = Literal["text", "excel", "parquet", "memory"]


class TableReadError(StudyError):
    """A table file that cannot be read; `problem` locates it (file and, when known, line) for reports."""

    def __init__(self, file: str, message: str, *, line: int | None = None, hint: str | None = None) -> None:
        self.problem = Problem(message, file=file, line=line, hint=hint)
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}", hint=hint)


@dataclass
class TableSource:
    """A table as read from its file, plus what is needed to point at its rows.

    Attributes
    ----------
    frame
        One column per header name, one row per data row; the index is 0..n-1.
    path
        The file.
    shown
        The file name as messages show it (relative to the study folder).
    kind
        "text", "excel", "parquet" or "memory" (a frame given in Python, `moclab.study.study_from_tables`);
        Parquet files and frames have rows but no lines.
    header_line
        The line (or spreadsheet row) of the header.
    """

    frame: pd.DataFrame
    path: Path
    shown: str
    kind: TableKind
    header_line: int = 1
    _text: str | None = field(default=None, repr=False)
    _delimiter: str = ","
    _lines: np.ndarray | None = field(default=None, repr=False)
    _simple_lines: bool = True

    def lines(self, rows: Sequence[int] | np.ndarray) -> np.ndarray | None:
        """File lines of the given 1-based data rows (None for Parquet and frames, which have no lines)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.kind in ("parquet", "memory"):
            return None
        if self._simple_lines:
            return rows + self.header_line
        if self._lines is None:
            self._lines = _record_start_lines(self._text or "", self._delimiter, len(self.frame))
        return self._lines[rows - 1]

    def line(self, row: int) -> int | None:
        """The file line of one 1-based data row."""
        lines = self.lines([row])
        return None if lines is None else int(lines[0])

    def where(self, row: int) -> str:
        """'line 14 (row 13)' for text and Excel files, 'row 13' for Parquet and frames."""
        line = self.line(row)
        return f"row {row}" if line is None else f"line {line} (row {row})"


def read_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    missing: Sequence[str] = DEFAULT_MISSING,
) -> pd.DataFrame:
    """Read a CSV, TSV, text, Excel (.xlsx) or Parquet table.

    Parameters
    ----------
    path
        The file; its suffix decides the format (.csv, .tsv, .tab, .txt, .xlsx, .xlsm, .parquet, .pq).
    sheet
        The Excel sheet name (default: the first sheet).
    encoding
        Read a text file in this encoding instead of UTF-8 (e.g. "cp1252").
    delimiter
        The column separator of a text file (default: by suffix, or guessed from the header line).
    missing
        Cell texts that mean "no value".

    Returns
    -------
    pandas.DataFrame
        Text files: every cell as text. Excel and Parquet: cells in their native types. Missing cells are NA.

    Raises
    ------
    StudyError
        Missing, empty, unreadable or malformed files, non-UTF-8 text (naming the detected encoding),
        duplicate or unnamed header columns.

    Examples
    --------
    >>> from moclab.study import example_path
    >>> read_table(example_path() / "data" / "recipients.csv").shape[0] > 100
    True
    """
    return read_source(path, sheet=sheet, encoding=encoding, delimiter=delimiter, missing=missing).frame


def read_source(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    missing: Sequence[str] = DEFAULT_MISSING,
    shown: str | None = None,
    expected: Sequence[str] = (),
) -> TableSource:
    """Read a table like `read_table`, keeping what is needed to report problems by line.

    `shown` is the name used in messages (default: the path relative to the working directory); `expected`
    lists the columns the caller needs, to suggest a header when the file is empty.
    """
    path = Path(path)
    shown = shown or display_path(path)
    if not path.exists():
        raise TableReadError(shown, "file not found")
    if path.is_dir():
        raise TableReadError(shown, "is a folder, expected a data file")
    suffix = path.suffix.lower()
    if suffix in TEXT_DELIMITERS:
        return _read_text(path, shown, encoding, delimiter or TEXT_DELIMITERS[suffix], missing, expected)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, shown, sheet, missing, expected)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, shown, missing)
    hint = f"moclab reads {SUPPORTED}"
    if suffix in (".xls", ".ods", ".sav", ".dta", ".sas7bdat"):
        hint = f"save it as .xlsx or .csv ({hint})"
    raise TableReadError(shown, f"unsupported file type '{suffix or '(none)'}'", hint=hint)


def _empty_error(shown: str, expected: Sequence[str]) -> TableReadError:
    example = ",".join(expected) if expected else "recipient_id,site,..."
    return TableReadError(
        shown,
        "the file is empty",
        hint=f"a table needs at least a header row naming its columns, e.g. `{example}`",
    )


def _decode(raw: bytes, shown: str, encoding: str | None) -> str:
    """The text of a file: UTF-8 (a byte-order mark is dropped) or the encoding the user declared."""
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise TableReadError(
                shown,
                f"unknown encoding '{encoding}'",
                hint="use a name such as utf-8, cp1252, latin-1 or utf-16 in the table's `encoding:`",
            ) from None
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise TableReadError(
                shown,
                f"cannot be read as {encoding} (byte {exc.start})",
                line=line,
                hint="check the table's `encoding:` in moclab.yaml, or remove it if the file is UTF-8",
            ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _encoding_error(raw, shown, exc) from None


def _encoding_error(raw: bytes, shown: str, exc: UnicodeDecodeError) -> TableReadError:
    """Say which encoding the file seems to be in and how to convert it."""
    line = raw.count(b"\n", 0, exc.start) + 1
    byte = raw[exc.start]
    best, alternatives = _detect(raw[:1_000_000])
    name = Path(shown).name
    converted = f"{Path(name).stem}-utf8{Path(name).suffix}"
    if best is None:
        return TableReadError(
            shown,
            f"not UTF-8 text (byte 0x{byte:02x} on line {line}) and the encoding could not be detected",
            line=line,
            hint="open it in a spreadsheet or editor and save it as 'CSV UTF-8'",
        )
    encoding = best
    also = f" (or {' or '.join(alternatives)})" if alternatives else ""
    return TableReadError(
        shown,
        f"not UTF-8 text (byte 0x{byte:02x} on line {line}); it looks like {encoding}{also}",
        line=line,
        hint=(
            f"convert it to UTF-8, e.g. `iconv -f {encoding} -t utf-8 {name} > {converted}` and use the "
            f"new file (or save it as 'CSV UTF-8' from Excel), or read it as is by adding "
            f"`encoding: {encoding}` to this table in moclab.yaml"
        ),
    )


# charset-normalizer ranks encodings by how chaotic the decoded text looks, which is unreliable on the short
# files a study has (a few accented names): cp1250, cp1257 or iso8859-10 often tie with or narrowly beat
# cp1252. Nearly every non-UTF-8 CSV comes from a spreadsheet on Western Windows (cp1252) or an old export
# (latin-1, mac-roman), so one of these wins when it reads the file nearly as well as the best candidate;
# the others are named as alternatives in the message.
_PREFERRED_ENCODINGS = ("cp1252", "iso8859-1", "iso8859-15", "mac-roman")
_CHAOS_TOLERANCE = 0.1


def _detect(raw: bytes) -> tuple[str | None, list[str]]:
    """The most likely encoding of `raw` (a codec name) and up to two other plausible ones."""
    from charset_normalizer import from_bytes

    matches = [match for match in from_bytes(raw) if match.encoding not in ("utf_8", "ascii")]
    if not matches:
        return None, []
    best_chaos = min(match.chaos for match in matches)
    close = [codecs.lookup(m.encoding).name for m in matches if m.chaos <= best_chaos + _CHAOS_TOLERANCE]
    close = list(dict.fromkeys(close))
    preferred = [name for name in _PREFERRED_ENCODINGS if name in close]
    first = preferred[0] if preferred else close[0]
    if not preferred:  # a preferred encoding that reads the bytes to the very same text is the better advice
        text = raw.decode(first, errors="replace")
        for name in _PREFERRED_ENCODINGS:
            try:
                if raw.decode(name) == text:
                    first = name
                    break
            except UnicodeDecodeError:
                continue
    return first, [name for name in close if name != first][:2]


def _guess_delimiter(header: str, preferred: str | None) -> str:
    if preferred is not None and preferred in header:
        return preferred
    counts = {candidate: header.count(candidate) for candidate in _CANDIDATE_DELIMITERS}
    best = max(counts, key=lambda candidate: counts[candidate])
    if counts[best] > 0:
        return best
    return preferred or ","


def _header(text: str, delimiter: str) -> list[str]:
    # The header is parsed on its own to see the names exactly as written: pandas renames duplicates
    # ("score.1") and unnamed columns ("Unnamed: 3"), which would hide the user's mistake.
    reader = csv.reader(io.StringIO(text[:1_000_000], newline=""), delimiter=delimiter)
    for record in reader:
        if record:
            return [name.strip() for name in record]
    return []


def _check_header(names: list[str], shown: str, line: int) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name and name in seen:
            raise TableReadError(
                shown,
                f"the column name '{name}' appears twice in the header (columns {seen[name]} and {position})",
                line=line,
                hint="rename one of them; every column needs its own name",
            )
        seen.setdefault(name, position)


def _drop_unnamed(frame: pd.DataFrame, names: list[str], shown: str, line: int) -> pd.DataFrame:
    """Drop header-less columns that are entirely empty (a trailing delimiter); refuse ones holding values."""
    keep = []
    for position, name in enumerate(names):
        column = frame.iloc[:, position]
        if name:
            keep.append(position)
        elif column.notna().any():
            raise TableReadError(
                shown,
                f"column {position + 1} holds values but has no name in the header",
                line=line,
                hint="give it a name in the header row",
            )
    result = frame.iloc[:, keep]
    result.columns = [names[position] for position in keep]
    return result


def _read_text(
    path: Path,
    shown: str,
    encoding: str | None,
    delimiter: str | None,
    missing: Sequence[str],
    expected: Sequence[str],
) -> TableSource:
    raw = path.read_bytes()
    text = _decode(raw, shown, encoding)
    if not text.strip():
        raise _empty_error(shown, expected)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _guess_delimiter(first_line, delimiter)
    names = _header(text, delimiter)
    # pandas skips blank lines above the header; they still count for the line numbers shown to the user.
    header_line = text[: len(text) - len(text.lstrip("\r\n"))].count("\n") + 1
    _check_header(names, shown, header_line)
    options = {"sep": delimiter, "dtype": str, "keep_default_na": False, "na_values": [""]}
    utf8 = encoding is None or codecs.lookup(encoding).name == "utf-8"
    frame = None
    if utf8:
        # The fast path. It names no line when the file is malformed, so any failure is left to the C
        # engine, which locates rows with too many values; rows with too few it pads silently, so those
        # are looked for separately.
        body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
        try:
            frame = pd.read_csv(io.BytesIO(body), engine="pyarrow", **options)
        except Exception:
            frame = None
    if frame is None:
        try:
            frame = pd.read_csv(io.StringIO(text), engine="c", **options)
        except pd.errors.ParserError as exc:
            raise _parse_error(shown, str(exc), delimiter) from None
        except pd.errors.EmptyDataError:
            raise _empty_error(shown, expected) from None
        _refuse_short_rows(text, delimiter, len(names), shown)
    if len(names) != frame.shape[1]:
        message = f"the header could not be read ({len(names)} names found)"
        raise TableReadError(shown, message, line=header_line)
    frame = _drop_unnamed(frame, names, shown, header_line)
    # The missing-value texts are applied here rather than by the reader: pandas' pyarrow engine does not
    # honour `na_values` for text columns in every case.
    tokens = [token for token in missing if token != ""]
    for column in frame.columns:
        values = frame[column]
        frame[column] = values.where(~(values.isin(tokens) | (values == "")))
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    simple = lines == len(frame) + header_line
    return TableSource(
        frame=frame,
        path=path,
        shown=shown,
        kind="text",
        header_line=header_line,
        _text=None if simple else text,  # kept only when lines must be counted
        _delimiter=delimiter,
        _simple_lines=simple,
    )


def _refuse_short_rows(text: str, delimiter: str, width: int, shown: str) -> None:
    """Raise for the first record with fewer values than the header (pandas pads such rows with gaps).

    Hand-written because no reader reports it; it runs only on files the fast reader refused.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    seen_header = False
    for record in reader:
        start, previous = previous + 1, reader.line_num
        if not record:
            continue
        if not seen_header:
            seen_header = True
            continue
        if len(record) < width:
            raise TableReadError(
                shown,
                f"this line has {len(record)} values but the header names {width} columns",
                line=start,
                hint="a value or a separator is missing; write an empty value between two separators (a,,c)",
            )


def _parse_error(shown: str, message: str, delimiter: str) -> TableReadError:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if found:
        expected, line, saw = found.groups()
        shown_delimiter = {"\t": "tab", ",": "comma", ";": "semicolon"}.get(delimiter, repr(delimiter))
        return TableReadError(
            shown,
            f"this line has {saw} values but the header names {expected} columns",
            line=int(line),
            hint=f"a value containing a {shown_delimiter} must be in double quotes; or a column is missing "
            "from the header",
        )
    return TableReadError(
        shown,
        f"cannot be read as a table: {message.strip()}",
        hint="check the quotes and separators",
    )


def _record_start_lines(text: str, delimiter: str, n_rows: int) -> np.ndarray:
    """The line on which each data record starts, counting blank lines and values that span lines.

    Hand-written because no reader reports this: pandas and pyarrow number records, not lines. It is only run
    when a problem needs a line number and the file's lines and records do not match one to one.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    starts = []
    previous = 0
    for record in reader:
        start = previous + 1
        previous = reader.line_num
        if record:
            starts.append(start)
    data = np.asarray(starts[1:], dtype=np.int64)
    if len(data) != n_rows:  # the two parsers disagree (exotic quoting): fall back to the simple rule
        return np.arange(2, n_rows + 2, dtype=np.int64)
    return data


def _read_excel(
    path: Path, shown: str, sheet: str | None, missing: Sequence[str], expected: Sequence[str]
) -> TableSource:
    try:
        frame = pd.read_excel(
            path, sheet_name=sheet if sheet is not None else 0, header=None, dtype=object, engine="openpyxl"
        )
    except (zipfile.BadZipFile, OSError) as exc:
        raise TableReadError(
            shown,
            f"not a readable .xlsx workbook ({exc})",
            hint="save it from Excel as 'Excel Workbook (.xlsx)', or export the sheet as CSV UTF-8",
        ) from None
    except ValueError as exc:
        if "not found" in str(exc).lower() or "worksheet" in str(exc).lower():
            import openpyxl

            sheets = openpyxl.load_workbook(path, read_only=True).sheetnames
            raise TableReadError(
                shown,
                f"no sheet named '{sheet}'",
                hint="sheets in this workbook: " + ", ".join(repr(name) for name in sheets),
            ) from None
        raise TableReadError(shown, f"cannot be read as a workbook: {exc}") from None
    # Blank rows above the header are skipped, and counted for the line numbers.
    filled = frame.notna().any(axis=1).to_numpy()
    if not filled.any():
        raise _empty_error(f"{shown} (sheet {sheet or 1})", expected)
    blank = int(np.argmax(filled))
    frame = frame.iloc[blank:]
    header_line = 1 + blank
    names = ["" if pd.isna(value) else str(value).strip() for value in frame.iloc[0]]
    _check_header(names, shown, header_line)
    body = frame.iloc[1:].reset_index(drop=True)
    missing_texts = set(missing)
    body = body.map(lambda cell: None if isinstance(cell, str) and cell.strip() in missing_texts else cell)
    body = _drop_unnamed(body, names, shown, header_line)
    return TableSource(frame=body, path=path, shown=shown, kind="excel", header_line=header_line)


def _read_parquet(path: Path, shown: str, missing: Sequence[str]) -> TableSource:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise TableReadError(shown, f"not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    if frame.shape[1] == 0:
        raise _empty_error(shown, ())
    frame = frame.reset_index(drop=True)
    frame.columns = [str(name).strip() for name in frame.columns]
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_string_dtype(column) or column.dtype == object:
            frame[name] = column.where(~column.isin(list(missing)))
    return TableSource(frame=frame, path=path, shown=shown, kind="parquet", header_line=0)
