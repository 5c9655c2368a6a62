"""Reading the records of an evidence map from folders, and finding the records that describe one study twice.

A folder may hold evidence records (``.json``, or hand-entered ``.yaml``/``.yml``), moclab report folders
(``report.json``; its ``records/`` are read instead when `moclab analyze` wrote them) and anything else, which
is skipped and listed. Every record is validated; the problems of every file are reported at once.

Records from several teams may describe the same study and pathway: a copy of the same file, a re-run of
the same analysis, a published study entered by two readers. Two records describe the same *study* when they
share its id, its DOI or its data hash, and the same *pathway* when their strategies, mechanisms and outcomes
are the same constructs (`moclab.mapping.constructs`) or their pathway ids are equal. Of such a pair one
record is kept: the more direct source (``moclab analyze`` before ``moclab report`` before ``hand-entered``),
then the first in file order; the other is listed as a duplicate, identical or with the differences, and is
counted nowhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from moclab.errors import MoclabError, Problem, ValidationError, display_path
from moclab.evidence.records import (
    RECORD_SUFFIXES,
    RECORDS_FOLDER,
    EvidenceRecord,
    is_record_data,
    load_record_data,
    read_record,
    records_from_report,
)
from moclab.evidence.records.from_analysis import REPORT_FORMATS
from moclab.evidence.records.record import SOURCES
from moclab.evidence.verdicts import CRITERIA

__all__ = ["Collected", "Duplicate", "collect_records", "find_duplicates", "study_groups"]


@dataclass(frozen=True)
class Duplicate:
    """A record left out because another one describes the same study and pathway."""

    kept: EvidenceRecord
    dropped: EvidenceRecord
    why: str
    differences: tuple[str, ...] = ()

    @property
    def identical(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "kept": {"record": self.kept.id, "file": self.kept.source, "source": self.kept.origin},
            "dropped": {
                "record": self.dropped.id,
                "file": self.dropped.source,
                "source": self.dropped.origin,
            },
            "why": self.why,
            "identical": self.identical,
            "differences": list(self.differences),
        }


@dataclass(frozen=True)
class Collected:
    """What was read from the folders: the records, and the files skipped with the reason."""

    records: tuple[EvidenceRecord, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    folders: tuple[str, ...] = field(default_factory=tuple)


def _is_report(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("format") in REPORT_FORMATS


def _files(folder: Path) -> Iterator[Path]:
    """The JSON and YAML files under `folder`, in path order, leaving out hidden files and folders."""
    if folder.is_file():
        yield folder
        return
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(part.startswith(".") for part in parts) or not path.is_file():
            continue
        if path.suffix.lower() in RECORD_SUFFIXES:
            yield path


def collect_records(folders: Sequence[str | Path], *, resolver: Any = None) -> Collected:
    """Read every evidence record under `folders` (files, record folders, report folders).

    Parameters
    ----------
    folders : sequence of path
        Folders to read (recursively) or single record files.
    resolver : catalog, optional
        What catalog references resolve against (default: the bundled catalog and ``MOCLAB_FRAMEWORKS``).

    Returns
    -------
    Collected
        The records in file order (a report's pathways in their order), and the files skipped.

    Raises
    ------
    ValidationError
        Every problem of every record file (each at its YAML line or JSON pointer), and every file that is
        not well-formed JSON or YAML.
    MoclabError
        When a folder does not exist.

    Examples
    --------
    >>> from moclab.mapping import example_path
    >>> collected = collect_records([example_path()])
    >>> len(collected.records), sorted({record.origin for record in collected.records})
    (20, ['hand-entered', 'moclab analyze'])
    """
    if resolver is None:
        from moclab.model.refs import default_resolver

        resolver = default_resolver()
    records: list[EvidenceRecord] = []
    skipped: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for folder in map(Path, folders):
        if not folder.exists():
            raise MoclabError(
                f"{display_path(folder)}: no such folder or file", hint="give folders of records"
            )
        for path in _files(folder):
            shown = display_path(path)
            if path.name == "report.json" and _is_report(path):
                records_folder = path.parent / RECORDS_FOLDER
                if records_folder.is_dir() and any(records_folder.glob("*.json")):
                    skipped.append(
                        (shown, f"its evidence records in {display_path(records_folder)} are read")
                    )
                    continue
                try:
                    records.extend(records_from_report(path))
                except ValidationError as error:
                    problems.extend(error.problems)
                except MoclabError as error:
                    problems.append(Problem(error.message, hint=error.hint))
                continue
            try:
                data = load_record_data(path)
            except MoclabError as error:
                problems.append(Problem(error.message, hint=error.hint))
                continue
            if not is_record_data(data):
                skipped.append((shown, "not an evidence record (no `kind: moclab-evidence-record`)"))
                continue
            try:
                records.append(read_record(path, resolver=resolver))
            except ValidationError as error:
                problems.extend(error.problems)
    if problems:
        raise ValidationError("evidence records", problems)
    return Collected(tuple(records), tuple(skipped), tuple(display_path(Path(f)) for f in folders))


# --------------------------------------------------------------------------------------------------------
# Duplicates
# --------------------------------------------------------------------------------------------------------


def _study_keys(record: EvidenceRecord) -> list[tuple[str, str]]:
    keys = [("study id", record.study_id)]
    doi = record.provenance.get("doi")
    if doi:
        keys.append(("DOI", str(doi).lower()))
    data_hash = record.provenance.get("data_hash")
    if data_hash:
        keys.append(("data hash", str(data_hash)))
    return keys


def _comparable(record: EvidenceRecord) -> dict[str, Any]:
    """A record's content without what changes between two copies of it (when and from where it was read)."""
    data = record.to_dict()
    for key in ("created", "report"):
        data["provenance"].pop(key, None)
    return data


def _number(value: Any) -> str:
    return "not reported" if value is None else f"{value:.4g}"


def _differences(kept: EvidenceRecord, dropped: EvidenceRecord) -> list[str]:
    if _comparable(kept) == _comparable(dropped):
        return []
    found = []
    for criterion in CRITERIA:
        first, second = kept.status(criterion.id), dropped.status(criterion.id)
        if first != second:
            found.append(
                f"{criterion.name.lower()}: {first.value if first else 'not reported'} vs "
                f"{second.value if second else 'not reported'}"
            )
    if kept.grade != dropped.grade:
        found.append(f"conclusion: {kept.grade or 'none'} vs {dropped.grade or 'none'}")
    first_effect = (kept.estimates.get("indirect") or {}).get("estimate")
    second_effect = (dropped.estimates.get("indirect") or {}).get("estimate")
    if first_effect != second_effect:
        found.append(f"indirect effect: {_number(first_effect)} vs {_number(second_effect)}")
    if kept.origin != dropped.origin:
        found.append(f"source: {kept.origin} vs {dropped.origin}")
    return found or ["other fields differ (settings, notes or wording)"]


def study_groups(records: Sequence[EvidenceRecord]) -> list[int]:
    """For each record, the number of its study: records that share a study id, DOI or data hash (directly
    or through other records) get the same number."""
    studies = nx.Graph()
    for index, record in enumerate(records):
        studies.add_node(("record", index))
        for key in _study_keys(record):
            studies.add_edge(("record", index), key)
    study_of = [0] * len(records)
    for number, component in enumerate(nx.connected_components(studies)):
        for item in component:
            if item[0] == "record":
                study_of[item[1]] = number
    return study_of


def find_duplicates(
    records: Sequence[EvidenceRecord], pathway_keys: Sequence[tuple[str, ...]]
) -> tuple[list[int], list[Duplicate]]:
    """Which records to keep, and the duplicates left out (see the module docstring for the rules).

    Parameters
    ----------
    records : sequence of EvidenceRecord
        In file order.
    pathway_keys : sequence of tuple of str
        Each record's pathway as construct keys (strategy, mechanisms..., outcome).

    Returns
    -------
    kept, duplicates
        The indices of the records kept, in order, and one `Duplicate` per record left out.
    """
    study_of = study_groups(records)
    same = nx.Graph()  # records joined when they describe the same study and pathway
    first: dict[tuple[Any, ...], int] = {}
    for index, record in enumerate(records):
        same.add_node(index)
        for key in (
            (study_of[index], "constructs", pathway_keys[index]),
            (study_of[index], "id", record.pathway_id),
        ):
            if key in first:
                same.add_edge(first[key], index)
            else:
                first[key] = index
    kept: list[int] = []
    duplicates: list[Duplicate] = []
    for members in nx.connected_components(same):
        order = sorted(members, key=lambda i: (SOURCES.index(records[i].origin), i))
        keeper = order[0]
        kept.append(keeper)
        for other in order[1:]:
            shared = sorted(
                {f"{kind} {value}" for kind, value in _study_keys(records[keeper])}
                & {f"{kind} {value}" for kind, value in _study_keys(records[other])}
            )
            why = (
                f"same study ({'; '.join(shared) if shared else 'linked through other records'}) and pathway "
                f"({records[keeper].pathway_id})"
            )
            duplicates.append(
                Duplicate(
                    records[keeper], records[other], why, tuple(_differences(records[keeper], records[other]))
                )
            )
    return sorted(kept), duplicates
