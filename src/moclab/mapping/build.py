"""`EvidenceMap`: the evidence of many studies about implementation mechanisms, mechanism by criterion.

`build_map(folders)` reads the records (`moclab.mapping.collect`), merges their nodes into constructs
(`moclab.mapping.constructs`), leaves duplicates out, and pools each pathway studied more than once
(`moclab.mapping.consistency`). The map then answers

* **mechanisms × criteria**: for each mechanism and each of the seven criteria, how many studies met it,
  and how many judged it (met, partly met or not met; "not testable" and "not reported" are counted apart).
  A study counts once per mechanism, with the best verdict of its records through that mechanism (a study
  of trust → acceptability and trust → feasibility meets a criterion for trust when either does). An
  eighth column, **consistency across studies**, counts the studies whose pathway the meta-analysis across
  studies finds consistent;
* **per mechanism**, the studies with their designs and verdicts;
* **gaps**: criteria no study has met (for any mechanism, and per mechanism), and strategy → mechanism links
  no record tests;
* **filters** by strategy, outcome, setting and level: `matrix(strategy=..., setting=...)` counts only the
  records that match (the meta-analyses always use every study).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from moclab.evidence.records import EvidenceRecord
from moclab.evidence.verdicts import CRITERIA, Status, Verdict
from moclab.mapping.collect import Duplicate, collect_records, find_duplicates, study_groups
from moclab.mapping.consistency import PathwayConsistency, consistency_across_studies
from moclab.mapping.constructs import Construct, construct_keys
from moclab.plain import plain

__all__ = [
    "ACROSS",
    "COLUMNS",
    "FILTERS",
    "MAP_FORMAT",
    "EvidenceMap",
    "MapEntry",
    "build_map",
    "map_records",
]

#: The version of the map's JSON layout.
MAP_FORMAT = "moclab-evidence-map/1"
#: The id of the map's eighth column: consistency across studies (from the meta-analyses).
ACROSS = "consistency_across_studies"
#: The columns of the matrix: the seven criteria, then consistency across studies.
COLUMNS: tuple[tuple[str, str], ...] = (
    *((criterion.id, criterion.name) for criterion in CRITERIA),
    (ACROSS, "Consistency across studies"),
)
#: The filters of the map, and what each reads.
FILTERS = ("strategy", "outcome", "setting", "level")
#: A value for records that do not state a setting or a level.
NOT_STATED = "not stated"
_RANK = {Status.MET: 0, Status.PARTLY_MET: 1, Status.NOT_MET: 2, Status.NOT_TESTABLE: 3}


@dataclass(frozen=True)
class MapEntry:
    """A record of the map with its constructs, its study and the verdict of consistency across studies."""

    record: EvidenceRecord
    study: str
    strategy: Construct
    mechanisms: tuple[Construct, ...]
    outcome: Construct

    @property
    def pathway_key(self) -> tuple[str, ...]:
        return (self.strategy.key, *(m.key for m in self.mechanisms), self.outcome.key)

    def value(self, dimension: str) -> str:
        """The entry's value for a filter: its strategy's or outcome's construct key, setting or level."""
        if dimension == "strategy":
            return self.strategy.key
        if dimension == "outcome":
            return self.outcome.key
        if dimension == "setting":
            return self.record.setting or NOT_STATED
        if dimension == "level":
            return self.record.level or NOT_STATED
        raise KeyError(f"no filter '{dimension}'; filters: {', '.join(FILTERS)}")


def _label(constructs: Sequence[Construct]) -> str:
    return " → ".join(construct.label for construct in constructs)


@dataclass(frozen=True, repr=False)
class EvidenceMap:
    """The evidence map: records merged into constructs, counted by mechanism and criterion.

    Attributes
    ----------
    entries : tuple of MapEntry
        The records kept (duplicates left out), with their constructs.
    consistency : tuple of PathwayConsistency
        One per pathway (strategy, mechanism(s), outcome constructs): its meta-analysis across studies (when
        two or more studies give an effect on one scale), the refusals and the verdict.
    duplicates : tuple of Duplicate
        The records left out, each with the record kept in its place.
    skipped : tuple of (str, str)
        Files read but not taken as records, with the reason.
    folders : tuple of str
        The folders read.
    level : float
        Confidence level of the meta-analyses.
    """

    entries: tuple[MapEntry, ...]
    consistency: tuple[PathwayConsistency, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    folders: tuple[str, ...] = ()
    level: float = 0.95
    _across: dict[tuple[str, ...], PathwayConsistency] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._across.update({item.key: item for item in self.consistency})

    # -- what the map holds ---------------------------------------------------------------------------------

    @property
    def records(self) -> tuple[EvidenceRecord, ...]:
        return tuple(entry.record for entry in self.entries)

    def _constructs(self, role: str) -> list[Construct]:
        found: dict[str, Construct] = {}
        for entry in self.entries:
            items = entry.mechanisms if role == "mechanism" else (getattr(entry, role),)
            for construct in items:
                found.setdefault(construct.key, construct)
        return sorted(found.values(), key=lambda c: (c.label.casefold(), c.key))

    @property
    def mechanisms(self) -> list[Construct]:
        return self._constructs("mechanism")

    @property
    def strategies(self) -> list[Construct]:
        return self._constructs("strategy")

    @property
    def outcomes(self) -> list[Construct]:
        return self._constructs("outcome")

    @property
    def studies(self) -> list[str]:
        return list(dict.fromkeys(entry.study for entry in self.entries))

    def across(self, entry: MapEntry) -> Verdict:
        """The verdict of consistency across studies of the entry's pathway."""
        return self._across[entry.pathway_key].verdict

    def status(self, entry: MapEntry, column: str) -> Status | None:
        """The entry's status in a column of the matrix (a criterion, or `ACROSS`); None when not reported."""
        if column == ACROSS:
            return self.across(entry).status
        return entry.record.status(column)

    # -- filters and counts ---------------------------------------------------------------------------------

    def select(self, **filters: str | None) -> list[MapEntry]:
        """The entries matching every filter given (``strategy=KEY``, ``outcome=KEY``, ``setting=TEXT``,
        ``level=TEXT``; a construct's key is `Construct.key`). None means "any"."""
        unknown = sorted(set(filters) - set(FILTERS))
        if unknown:
            raise KeyError(f"no filter {', '.join(unknown)}; filters: {', '.join(FILTERS)}")
        return [
            entry
            for entry in self.entries
            if all(value is None or entry.value(dimension) == value for dimension, value in filters.items())
        ]

    def cell(self, mechanism: str, column: str, entries: Iterable[MapEntry] | None = None) -> dict[str, int]:
        """The counts of one cell: studies of the mechanism by their best status in the column.

        Returns
        -------
        dict
            ``met``, ``partly_met``, ``not_met``, ``not_testable``, ``not_reported`` (studies whose records
            through the mechanism do not report the criterion), ``judged`` (met + partly met + not met) and
            ``studies`` (every study with a record through the mechanism).
        """
        best: dict[str, Status | None] = {}
        for entry in self.entries if entries is None else entries:
            if all(m.key != mechanism for m in entry.mechanisms):
                continue
            status = self.status(entry, column)
            earlier = best.get(entry.study)
            if entry.study not in best or (
                status is not None and (earlier is None or _RANK[status] < _RANK[earlier])
            ):
                best[entry.study] = status
        counts = {
            "met": sum(s is Status.MET for s in best.values()),
            "partly_met": sum(s is Status.PARTLY_MET for s in best.values()),
            "not_met": sum(s is Status.NOT_MET for s in best.values()),
            "not_testable": sum(s is Status.NOT_TESTABLE for s in best.values()),
            "not_reported": sum(s is None for s in best.values()),
        }
        counts["judged"] = counts["met"] + counts["partly_met"] + counts["not_met"]
        counts["studies"] = len(best)
        return counts

    def matrix(self, **filters: str | None) -> dict[str, dict[str, dict[str, int]]]:
        """Mechanism × column counts (`cell`) over the entries matching the filters (see `select`)."""
        entries = self.select(**filters)
        return {
            mechanism.key: {column: self.cell(mechanism.key, column, entries) for column, _ in COLUMNS}
            for mechanism in self.mechanisms
        }

    def to_frame(self, **filters: str | None) -> pd.DataFrame:
        """The matrix as a table: one row per mechanism (its label), one column per criterion (and
        consistency across studies), each cell "met/judged" (studies)."""
        matrix = self.matrix(**filters)
        labels = {m.key: m.label for m in self.mechanisms}
        rows = {
            labels[key]: {
                name: f"{cells[column]['met']}/{cells[column]['judged']}" for column, name in COLUMNS
            }
            for key, cells in matrix.items()
        }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("mechanism")

    def filter_values(self) -> dict[str, list[dict[str, Any]]]:
        """Every value of every filter, with its label and how many records have it."""
        found: dict[str, list[dict[str, Any]]] = {}
        labels = {c.key: c.label for c in (*self.strategies, *self.outcomes)}
        for dimension in FILTERS:
            counts: dict[str, int] = {}
            for entry in self.entries:
                value = entry.value(dimension)
                counts[value] = counts.get(value, 0) + 1
            values = sorted(counts, key=lambda v: (v == NOT_STATED, labels.get(v, v).casefold()))
            found[dimension] = [
                {"value": value, "label": labels.get(value, value), "records": counts[value]}
                for value in values
            ]
        return found

    # -- gaps -----------------------------------------------------------------------------------------------

    def gaps(self) -> dict[str, Any]:
        """Criteria no study met (overall and per mechanism), criteria no study could judge, and strategy →
        mechanism links no record tests."""
        matrix = self.matrix()
        names = dict(COLUMNS)
        never_met = [
            column for column, _ in COLUMNS if all(cells[column]["met"] == 0 for cells in matrix.values())
        ]
        never_judged = [
            column for column, _ in COLUMNS if all(cells[column]["judged"] == 0 for cells in matrix.values())
        ]
        tested = {(entry.strategy.key, m.key) for entry in self.entries for m in entry.mechanisms}
        untested = [
            {"strategy": s.key, "strategy_label": s.label, "mechanism": m.key, "mechanism_label": m.label}
            for s in self.strategies
            for m in self.mechanisms
            if (s.key, m.key) not in tested
        ]
        return {
            "criteria_never_met": [{"id": column, "name": names[column]} for column in never_met],
            "criteria_never_judged": [{"id": column, "name": names[column]} for column in never_judged],
            "never_met_by_mechanism": {
                key: [column for column, _ in COLUMNS if cells[column]["met"] == 0]
                for key, cells in matrix.items()
            },
            "untested_links": untested,
        }

    # -- renderings -----------------------------------------------------------------------------------------

    def _entry_dict(self, entry: MapEntry) -> dict[str, Any]:
        record = entry.record
        design = record.design
        return {
            "record": record.id,
            "file": record.source,
            "study": entry.study,
            "title": record.title,
            "synthetic": record.synthetic,
            "illustrative": record.illustrative,
            "source": record.origin,
            "pathway": list(entry.pathway_key),
            "strategy": entry.strategy.key,
            "outcome": entry.outcome.key,
            "design": {
                "type": design.get("type"),
                "randomization": (design.get("randomization") or {}).get("level"),
                "waves": design.get("waves"),
                "n": design.get("n"),
            },
            "verdicts": {column: _status_text(self.status(entry, column)) for column, _ in COLUMNS},
            "conclusion": record.grade,
            "filters": {dimension: entry.value(dimension) for dimension in FILTERS},
        }

    def counts(self) -> dict[str, int]:
        """How many records, studies (synthetic, illustrative), mechanisms and pathways the map holds, and
        how many files it left out (duplicates, skipped)."""
        studies = {entry.study: entry.record for entry in self.entries}
        return {
            "records": len(self.entries),
            "studies": len(studies),
            "synthetic_studies": sum(record.synthetic for record in studies.values()),
            "illustrative_studies": sum(record.illustrative for record in studies.values()),
            "mechanisms": len(self.mechanisms),
            "pathways": len(self.consistency),
            "duplicates": len(self.duplicates),
            "skipped": len(self.skipped),
        }

    def to_dict(self) -> dict[str, Any]:
        """The map as JSON-ready data (the content of map.json; docs/evidence-map.md)."""
        from moclab import __version__

        matrix = self.matrix()
        return plain(
            {
                "format": MAP_FORMAT,
                "moclab": __version__,
                "level": self.level,
                "folders": list(self.folders),
                "counts": self.counts(),
                "columns": [{"id": column, "name": name} for column, name in COLUMNS],
                "filters": self.filter_values(),
                "matrix": matrix,
                "mechanisms": [
                    {
                        **mechanism.to_dict(),
                        "records": [
                            self._entry_dict(entry)
                            for entry in self.entries
                            if any(m.key == mechanism.key for m in entry.mechanisms)
                        ],
                    }
                    for mechanism in self.mechanisms
                ],
                "strategies": [c.to_dict() for c in self.strategies],
                "outcomes": [c.to_dict() for c in self.outcomes],
                "consistency": [item.to_dict() for item in self.consistency],
                "gaps": self.gaps(),
                "duplicates": [duplicate.to_dict() for duplicate in self.duplicates],
                "skipped": [{"file": name, "why": why} for name, why in self.skipped],
                "records": [record.to_dict() for record in self.records],
            }
        )

    def summary(self) -> str:
        """Readable report: what was read, then the matrix (met/judged studies per cell)."""
        head = (
            f"Evidence map: {len(self.entries)} record(s) of {len(self.studies)} stud(ies), "
            f"{len(self.mechanisms)} mechanism(s); {len(self.duplicates)} duplicate(s) left out"
        )
        return head + "\n\n" + self.to_frame().to_string()

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"EvidenceMap({len(self.entries)} records, {len(self.studies)} studies, "
            f"{len(self.mechanisms)} mechanisms, {len(self.consistency)} pathways)"
        )

    def _repr_html_(self) -> str:
        head = html.escape(self.summary().split("\n", 1)[0])
        return f"<div><p>{head}</p>{self.to_frame().to_html(border=0)}</div>"


def _status_text(status: Status | None) -> str | None:
    return status.value if status is not None else None


def map_records(
    records: Sequence[EvidenceRecord],
    *,
    skipped: Sequence[tuple[str, str]] = (),
    folders: Sequence[str] = (),
    level: float = 0.95,
    method: str = "reml",
    knapp_hartung: bool | None = None,
) -> EvidenceMap:
    """The evidence map of records already read (see `build_map`).

    Parameters
    ----------
    records : sequence of EvidenceRecord
        In the order they were read (duplicates keep the more direct source, then the first).
    skipped, folders : optional
        What `collect_records` skipped and read, carried into the map.
    level, method, knapp_hartung
        Of the meta-analyses across studies (see `consistency_across_studies`).
    """
    keys = construct_keys(records)
    pathway_keys = [
        (k["strategy"][0].key, *(m.key for m in k["mechanism"]), k["outcome"][0].key) for k in keys
    ]
    kept, duplicates = find_duplicates(records, pathway_keys)
    groups = study_groups(records)
    representative: dict[int, str] = {}
    for index, group in enumerate(groups):
        representative[group] = min(
            representative.get(group, records[index].study_id), records[index].study_id
        )
    entries = tuple(
        MapEntry(
            record=records[i],
            study=representative[groups[i]],
            strategy=keys[i]["strategy"][0],
            mechanisms=tuple(keys[i]["mechanism"]),
            outcome=keys[i]["outcome"][0],
        )
        for i in kept
    )
    by_pathway: dict[tuple[str, ...], list[MapEntry]] = {}
    for entry in entries:
        by_pathway.setdefault(entry.pathway_key, []).append(entry)
    consistency = tuple(
        consistency_across_studies(
            [entry.record for entry in members],
            key=key,
            label=_label([members[0].strategy, *members[0].mechanisms, members[0].outcome]),
            level=level,
            method=method,
            knapp_hartung=knapp_hartung,
        )
        for key, members in sorted(by_pathway.items(), key=lambda item: item[0])
    )
    return EvidenceMap(
        entries=entries,
        consistency=consistency,
        duplicates=tuple(duplicates),
        skipped=tuple(skipped),
        folders=tuple(folders),
        level=level,
    )


def build_map(
    folders: Sequence[str | Path],
    *,
    level: float = 0.95,
    method: str = "reml",
    knapp_hartung: bool | None = None,
    resolver: Any = None,
) -> EvidenceMap:
    """Read the evidence records under `folders` (records, hand-entered YAML, report folders) into a map.

    Parameters
    ----------
    folders : sequence of path
        Folders (read recursively) or record files; records of other teams merge with yours by their
        catalog references and node ids (`moclab.mapping.constructs`).
    level : float
        Confidence level of the meta-analyses across studies.
    method : {"reml", "dl", "pm"}
        Their τ² estimator.
    knapp_hartung : bool, optional
        Their Knapp-Hartung interval (default: with fewer than 20 studies).
    resolver : catalog, optional
        What catalog references resolve against (default: the bundled catalog and ``MOCLAB_FRAMEWORKS``).

    Returns
    -------
    EvidenceMap

    Raises
    ------
    ValidationError
        Every problem of every record, at its YAML line or JSON pointer.
    MoclabError
        A folder that does not exist.

    Examples
    --------
    >>> from moclab.mapping import build_map, example_path
    >>> evidence_map = build_map([example_path()])
    >>> len(evidence_map.studies) >= 4, evidence_map.mechanisms[0].role
    (True, 'mechanism')
    """
    collected = collect_records(folders, resolver=resolver)
    return map_records(
        collected.records,
        skipped=collected.skipped,
        folders=collected.folders,
        level=level,
        method=method,
        knapp_hartung=knapp_hartung,
    )
