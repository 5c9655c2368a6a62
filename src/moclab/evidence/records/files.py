"""Evidence records as files: read from JSON or YAML (validated, every problem located), written as JSON.

A record moclab writes is a JSON file; a record entered by hand from a publication is usually a small YAML
file. Both are read by `read_record` (one file) or `read_records` (many: every problem of every file is
reported at once, as moclab's other validators do). YAML dates (``entered_on: 2025-03-01``) are read as ISO
text, the form the schema asks for.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from moclab.errors import MoclabError, Problem, ValidationError, display_path
from moclab.evidence.records.record import EvidenceRecord, normalize_record
from moclab.evidence.records.validation import KIND, check_record
from moclab.yamlio import load_yaml

__all__ = [
    "RECORD_SUFFIXES",
    "is_record_data",
    "load_record_data",
    "read_record",
    "read_records",
    "record_from_data",
    "write_records",
]

#: The file suffixes a record may have.
RECORD_SUFFIXES = (".json", ".yaml", ".yml")


def _default_resolver(resolver: Any) -> Any:
    if resolver is not None:
        return resolver
    from moclab.model.refs import default_resolver

    return default_resolver()


def _iso_dates(data: Any) -> Any:
    """Replace YAML dates by ISO text, in place (a `YamlMap` keeps its line positions)."""
    if isinstance(data, dict):
        for key, value in data.items():
            data[key] = _iso_dates(value)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            data[index] = _iso_dates(value)
    elif isinstance(data, datetime.date):
        return data.isoformat()
    return data


def load_record_data(path: Path) -> Any:
    """The content of a record file as data: a `YamlMap` (with line positions) for YAML, plain data for JSON.

    Raises
    ------
    MoclabError
        When the file cannot be read, or is not well-formed JSON or YAML (with the line).
    """
    shown = display_path(path)
    if path.suffix.lower() == ".json":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise MoclabError(f"{shown}: the file cannot be read as UTF-8 text ({error})") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise MoclabError(
                f"{shown}:{error.lineno}:{error.colno}: malformed JSON: {error.msg}",
                hint="check the commas, quotes and brackets on that line or the line before",
            ) from None
    return _iso_dates(load_yaml(path))


def is_record_data(data: Any) -> bool:
    """Whether file content looks like an evidence record (its ``kind``, or a ``pathway`` and ``criteria``)
    rather than another JSON or YAML file (a study's moclab.yaml, a model, a report)."""
    return isinstance(data, Mapping) and (
        data.get("kind") == KIND or ("pathway" in data and "criteria" in data)
    )


def record_from_data(
    data: Any, shown: str = "<record>", *, source: str | None = None, resolver: Any = None
) -> EvidenceRecord:
    """Validate record data and return the (normalized) `EvidenceRecord`.

    Parameters
    ----------
    data : Any
        The record: plain JSON-ready data, or a `YamlMap` read from YAML (problems then name lines).
    shown : str
        How problems name the record (its file).
    source : str, optional
        The file the record was read from, kept on the record.
    resolver : catalog, optional
        What catalog references resolve against (default: the bundled catalog and ``MOCLAB_FRAMEWORKS``).

    Raises
    ------
    ValidationError
        Listing every problem, located by YAML line or JSON pointer.

    Examples
    --------
    >>> record = record_from_data({
    ...     "kind": "moclab-evidence-record", "format": 1,
    ...     "study": {"id": "demo", "title": "Illustration, not a real study", "synthetic": False,
    ...               "illustrative": True},
    ...     "pathway": {"strategy": {"id": "coaching"}, "mechanisms": [{"id": "trust"}],
    ...                 "outcome": {"id": "adoption"}},
    ...     "criteria": {"timeline": {"status": "met"}}, "provenance": {"source": "hand-entered"}})
    >>> record.id, record.verdict("timeline")
    ('demo/coaching__trust__adoption', {'status': 'met', 'judged_by': 'reader'})
    """
    resolver = _default_resolver(resolver)
    problems = check_record(data, shown, resolver=resolver)
    if problems:
        raise ValidationError(f"evidence record {shown}", problems)
    return EvidenceRecord(normalize_record(data, resolver), source=source)


def read_record(path: str | Path, *, resolver: Any = None) -> EvidenceRecord:
    """Read and validate one record file (``.json``, ``.yaml`` or ``.yml``).

    Raises
    ------
    ValidationError
        Every problem of the record, each at its YAML line or JSON pointer.
    MoclabError
        When the file cannot be read or parsed.

    Examples
    --------
    >>> from moclab.mapping import example_path
    >>> record = read_record(example_path() / "hand-entered" / "illustrative-coaching-record.yaml")
    >>> record.illustrative, record.status("strong_association").value
    (True, 'met')
    """
    path = Path(path)
    shown = display_path(path)
    return record_from_data(load_record_data(path), shown, source=shown, resolver=resolver)


def read_records(paths: Iterable[str | Path], *, resolver: Any = None) -> list[EvidenceRecord]:
    """Read and validate record files, reporting the problems of every file at once.

    Raises
    ------
    ValidationError
        Every problem of every file (a file that cannot be parsed is one problem).
    """
    resolver = _default_resolver(resolver)
    records: list[EvidenceRecord] = []
    problems: list[Problem] = []
    for path in map(Path, paths):
        try:
            records.append(read_record(path, resolver=resolver))
        except ValidationError as error:
            problems.extend(error.problems)
        except MoclabError as error:
            problems.append(Problem(error.message, hint=error.hint))
    if problems:
        raise ValidationError("evidence records", problems)
    return records


def _is_moclab_written(path: Path) -> bool:
    """Whether `path` holds a record that `moclab analyze` wrote (which a new run may replace)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return (
        isinstance(data, dict)
        and data.get("kind") == KIND
        and isinstance(data.get("provenance"), dict)
        and data["provenance"].get("source") == "moclab analyze"
    )


def write_records(records: Sequence[EvidenceRecord], folder: str | Path) -> list[Path]:
    """Write each record as ``FOLDER/PATHWAY-ID.json``, replacing the records an earlier run wrote there.

    Records written by `moclab analyze` that this run does not write again (a pathway left out this time)
    are removed, so the folder holds the records of one analysis; any other file is left alone. Each file is
    written through a temporary file renamed over the target.

    Returns
    -------
    list of Path
        The files written, in the order of `records`.

    Raises
    ------
    MoclabError
        When the folder cannot be created or written.

    Examples
    --------
    >>> import tempfile
    >>> from moclab.mapping import example_path
    >>> record = read_record(example_path() / "hand-entered" / "illustrative-coaching-record.yaml")
    >>> [path.name for path in write_records([record], Path(tempfile.mkdtemp()) / "records")]
    ['coaching__trust__acceptability.json']
    """
    folder = Path(folder)
    names: dict[str, int] = {}
    targets = []
    for record in records:
        stem = record.pathway_id
        names[stem] = names.get(stem, 0) + 1
        targets.append(folder / (f"{stem}.json" if names[stem] == 1 else f"{stem}-{names[stem]}.json"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for earlier in folder.glob("*.json"):
            if earlier not in targets and _is_moclab_written(earlier):
                earlier.unlink()
        for record, target in zip(records, targets, strict=True):
            temporary = folder / f".{target.name}.partial"
            temporary.write_text(record.to_json(), encoding="utf-8")
            os.replace(temporary, target)
    except OSError as error:
        raise MoclabError(
            f"{display_path(folder)}: the evidence records could not be written ({error.strerror or error})",
            hint="check that the folder is writable and the disk is not full",
        ) from None
    return targets
