"""`EvidenceRecord`: one study's evidence about one pathway, in the exchange format of docs/evidence-map.md.

A record holds its data as the plain JSON-ready mapping the schema describes (`EvidenceRecord.data`), so it
is written, read, merged and exported without loss; the properties read the parts the evidence map needs.
`normalize_record` fills in what a hand-entered record may leave out (its id, the pathway's id, the
hypothesised direction, who judged the criteria) and writes each catalog reference as its entry's id, so
records from different teams merge on the same references. `records_frame` flattens records into one row
each for a systematic review's spreadsheet.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from moclab.evidence.verdicts import CRITERIA, Status

__all__ = ["EvidenceRecord", "normalize_record", "records_frame"]

#: The sources of a record, from the most to the least direct (duplicates keep the more direct one).
SOURCES = ("moclab analyze", "moclab report", "hand-entered")


def _node_key(node: Mapping[str, Any]) -> str:
    return str(node.get("id"))


def normalize_record(data: Mapping[str, Any], resolver: Any = None) -> dict[str, Any]:
    """A valid record's data with the defaults filled in and catalog references written as entry ids.

    Parameters
    ----------
    data : mapping
        A record that passed `moclab.evidence.records.check_record`.
    resolver : catalog, optional
        Resolves references (``eric:33`` becomes ``eric:facilitation``); None leaves them as written.

    Returns
    -------
    dict
        A new mapping (plain dicts and lists): ``pathway.id`` (strategy__mechanism(s)__outcome when left
        out), ``id`` (study id / pathway id), ``pathway.direction`` (positive), ``estimates.level`` (0.95
        when there are estimates), ``judged_by`` of each verdict and of the conclusion (moclab for records
        moclab wrote, reader for hand-entered ones).
    """
    record = json.loads(json.dumps(data, default=str))  # plain containers, no YAML positions
    pathway = record["pathway"]
    if resolver is not None:
        for node in [
            pathway["strategy"],
            pathway.get("determinant"),
            *pathway["mechanisms"],
            pathway["outcome"],
        ]:
            if node and node.get("refs"):
                node["refs"] = [_canonical(resolver, ref) for ref in node["refs"]]
        if pathway.get("competencies"):
            pathway["competencies"] = [_canonical(resolver, ref) for ref in pathway["competencies"]]
    if not pathway.get("id"):
        ids = [
            _node_key(pathway["strategy"]),
            *map(_node_key, pathway["mechanisms"]),
            _node_key(pathway["outcome"]),
        ]
        pathway["id"] = "__".join(ids)
    pathway.setdefault("direction", "positive")
    record.setdefault("id", f"{record['study']['id']}/{pathway['id']}")
    if "estimates" in record:
        record["estimates"].setdefault("level", 0.95)
    judge = "reader" if record["provenance"]["source"] == "hand-entered" else "moclab"
    for verdict in record["criteria"].values():
        verdict.setdefault("judged_by", judge)
    if "conclusion" in record:
        record["conclusion"].setdefault("judged_by", judge)
    return record


def _canonical(resolver: Any, ref: str) -> str:
    entry = resolver.resolve(ref)
    return entry.qualified_id if entry is not None else ref


@dataclass(frozen=True, repr=False)
class EvidenceRecord:
    """One study's evidence about one pathway (format 1; docs/evidence-map.md).

    Attributes
    ----------
    data : dict
        The record as the schema describes it (normalized: see `normalize_record`).
    source : str or None
        The file it was read from, as shown to the user (None for a record made in memory).
    """

    data: dict[str, Any]
    source: str | None = None

    # -- identity --------------------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def study(self) -> dict[str, Any]:
        return self.data["study"]

    @property
    def study_id(self) -> str:
        return str(self.study["id"])

    @property
    def title(self) -> str:
        return str(self.study["title"])

    @property
    def synthetic(self) -> bool:
        return bool(self.study.get("synthetic"))

    @property
    def illustrative(self) -> bool:
        return bool(self.study.get("illustrative"))

    @property
    def provenance(self) -> dict[str, Any]:
        return self.data["provenance"]

    @property
    def origin(self) -> str:
        """Where the record comes from: ``moclab analyze``, ``moclab report`` or ``hand-entered``."""
        return str(self.provenance["source"])

    # -- the pathway ----------------------------------------------------------------------------------------

    @property
    def pathway(self) -> dict[str, Any]:
        return self.data["pathway"]

    @property
    def pathway_id(self) -> str:
        return str(self.pathway["id"])

    @property
    def strategy(self) -> dict[str, Any]:
        return self.pathway["strategy"]

    @property
    def mechanisms(self) -> list[dict[str, Any]]:
        return list(self.pathway["mechanisms"])

    @property
    def outcome(self) -> dict[str, Any]:
        return self.pathway["outcome"]

    @property
    def direction(self) -> int:
        """The hypothesised sign of the indirect effect: 1 (positive) or -1 (negative)."""
        return -1 if self.pathway.get("direction") == "negative" else 1

    @property
    def setting(self) -> str | None:
        return self.study.get("setting") or None

    @property
    def level(self) -> str | None:
        """The level the mechanism works at: the pathway's ``level``, else its first mechanism's."""
        return self.pathway.get("level") or self.mechanisms[0].get("level") or None

    @property
    def design(self) -> dict[str, Any]:
        return self.data.get("design") or {}

    @property
    def design_type(self) -> str | None:
        return self.design.get("type") or None

    @property
    def estimates(self) -> dict[str, Any]:
        return self.data.get("estimates") or {}

    # -- verdicts -------------------------------------------------------------------------------------------

    def verdict(self, criterion: str) -> dict[str, Any] | None:
        """The verdict of one criterion (``"timeline"``), or None when the record does not report it."""
        return self.data["criteria"].get(criterion)

    def status(self, criterion: str) -> Status | None:
        verdict = self.verdict(criterion)
        return Status(verdict["status"]) if verdict is not None else None

    @property
    def grade(self) -> str | None:
        conclusion = self.data.get("conclusion")
        return conclusion.get("grade") if conclusion else None

    # -- renderings -----------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A copy of the record's data (JSON-ready)."""
        return copy.deepcopy(self.data)

    def to_json(self) -> str:
        """The record as a JSON document (indented, UTF-8, strict: no NaN)."""
        return json.dumps(self.data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def to_row(self) -> dict[str, Any]:
        """The record as one flat row (the columns of `records_frame`)."""
        estimates, design = self.estimates, self.design
        row: dict[str, Any] = {
            "record": self.id,
            "study_id": self.study_id,
            "title": self.title,
            "synthetic": self.synthetic,
            "illustrative": self.illustrative,
            "setting": self.setting,
            "country": self.study.get("country"),
            "year": self.study.get("year"),
            "pathway": self.pathway_id,
            "strategy": _node_text(self.strategy),
            "strategy_refs": _refs_text(self.strategy),
            "determinant": _node_text(self.pathway.get("determinant")),
            "determinant_refs": _refs_text(self.pathway.get("determinant")),
            "mechanisms": " -> ".join(_node_text(node) or "" for node in self.mechanisms),
            "mechanism_refs": "; ".join(_refs_text(node) or "" for node in self.mechanisms).strip("; ")
            or None,
            "outcome": _node_text(self.outcome),
            "outcome_refs": _refs_text(self.outcome),
            "competencies": "; ".join(self.pathway.get("competencies") or []) or None,
            "level": self.level,
            "direction": self.pathway.get("direction"),
            "design": self.design_type,
            "randomization": (design.get("randomization") or {}).get("level"),
            "waves": design.get("waves"),
            "n_recipients": (design.get("n") or {}).get("recipients"),
            "n_clusters": (design.get("n") or {}).get("clusters"),
            "n_analysed": (design.get("n") or {}).get("analysed"),
            "strategy_coding": estimates.get("strategy_coding"),
        }
        indirect = estimates.get("indirect") or {}
        row.update(_effect_columns("indirect", indirect))
        row["indirect_scale"] = indirect.get("scale")
        row["indirect_method"] = indirect.get("method")
        for name in ("indirect_partially_standardized", "indirect_completely_standardized", "a", "b"):
            row.update(_effect_columns(name, estimates.get(name) or {}))
        row["level_ci"] = estimates.get("level")
        for criterion in CRITERIA:
            verdict = self.verdict(criterion.id) or {}
            row[criterion.id] = verdict.get("status")
            row[f"{criterion.id}_statistic"] = verdict.get("statistic")
            row[f"{criterion.id}_estimate"] = verdict.get("estimate")
        row["conclusion"] = self.grade
        provenance = self.provenance
        row.update(
            {
                "source": self.origin,
                "citation": provenance.get("citation"),
                "doi": provenance.get("doi"),
                "moclab_version": provenance.get("moclab_version"),
                "data_hash": provenance.get("data_hash"),
                "file": self.source,
            }
        )
        return row

    def __repr__(self) -> str:
        mechanisms = " → ".join(_node_text(node) or "?" for node in self.mechanisms)
        return (
            f"EvidenceRecord({self.id!r}: {_node_text(self.strategy)} → {mechanisms} → "
            f"{_node_text(self.outcome)}, {self.origin})"
        )


def _node_text(node: Mapping[str, Any] | None) -> str | None:
    if not node:
        return None
    return str(node.get("label") or node["id"])


def _refs_text(node: Mapping[str, Any] | None) -> str | None:
    if not node or not node.get("refs"):
        return None
    return "; ".join(node["refs"])


def _effect_columns(name: str, effect: Mapping[str, Any]) -> dict[str, Any]:
    interval = effect.get("interval") or [None, None]
    return {
        f"{name}": effect.get("estimate"),
        f"{name}_se": effect.get("se"),
        f"{name}_ci_low": interval[0],
        f"{name}_ci_high": interval[1],
    }


def records_frame(records: Iterable[EvidenceRecord]) -> pd.DataFrame:
    """One row per record, for a systematic review: the study, the pathway with its catalog references, the
    design, the indirect effect (raw and standardized, with SE and interval), each criterion's status,
    statistic and estimate, the conclusion and the provenance.

    Examples
    --------
    >>> from moclab.evidence.records import record_from_data
    >>> record = record_from_data({
    ...     "kind": "moclab-evidence-record", "format": 1,
    ...     "study": {"id": "demo", "title": "Illustration, not a real study", "synthetic": False,
    ...               "illustrative": True},
    ...     "pathway": {"strategy": {"id": "coaching", "refs": ["eric:33"]}, "mechanisms": [{"id": "trust"}],
    ...                 "outcome": {"id": "adoption", "refs": ["proctor:adoption"]}},
    ...     "criteria": {"timeline": {"status": "partly met"}},
    ...     "provenance": {"source": "hand-entered"}})
    >>> records_frame([record]).loc[0, ["record", "strategy_refs", "timeline"]].tolist()
    ['demo/coaching__trust__adoption', 'eric:facilitation', 'partly met']
    """
    rows = [record.to_row() for record in records]
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else None)
