"""From a source's fields to instrument item rows: the map, and what it leaves out.

A study's measures table holds item responses as rows whose measure name is the item's field name (an
instrument item id such as ``aim_1``, or the name a measure's ``items:`` gives it; contract section 2).
`item_responses` turns a `SourceData` into such rows:

* a field named in `map` becomes its target (``acc_q1 -> aim_1``);
* a field whose name already is an item field is kept under its name (a REDCap project built from
  `write_redcap_dictionary` needs no map);
* every other field is left out, and reported once as unmapped;
* a map entry whose source field the export does not have, or whose target is not an item, is reported;
* a response outside its instrument's scale, or between two options, is reported and left out (the rest of
  the instrument is still imported and scored);
* two responses for one recipient, wave and item (after mapping) are reported: identical ones are kept once,
  different ones not at all.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from moclab.catalog.instruments import Instrument, InstrumentRegistry, ResponseScale, default_instruments
from moclab.errors import did_you_mean
from moclab.study.sources.problems import SourceProblem, shorten
from moclab.study.sources.result import SourceData

_LISTED = 12


def registry_items(registry: InstrumentRegistry | None = None) -> dict[str, ResponseScale]:
    """Every item id of the registry's instruments -> the instrument's response scale."""
    registry = registry or default_instruments()
    return {item.id: instrument.scale for instrument in registry for item in instrument.items}


@dataclass(frozen=True)
class ItemResponses:
    """Item rows for a study's measures table, with the problems of mapping them.

    Attributes
    ----------
    table
        Columns recipient, wave, measure (the item field name), value, field (the source field) and line
        (in the source file).
    problems
        The source's own problems followed by those of the mapping.
    """

    table: pd.DataFrame
    problems: tuple[SourceProblem, ...] = ()
    source: str = ""

    @property
    def measures(self) -> list[str]:
        """The item field names present, in order of first appearance."""
        return list(pd.unique(self.table["measure"])) if len(self.table) else []

    def instruments(self, registry: InstrumentRegistry | None = None) -> list[Instrument]:
        """The registry's instruments with at least one item among the responses, in the order their first
        item appears."""
        position = {name: index for index, name in enumerate(self.measures)}
        registry = registry or default_instruments()
        found = [
            (min(position[item] for item in instrument.item_ids if item in position), instrument)
            for instrument in registry
            if position.keys() & set(instrument.item_ids)
        ]
        return [instrument for _, instrument in sorted(found, key=lambda pair: pair[0])]

    def to_frame(self) -> pd.DataFrame:
        """The item rows (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: counts and every problem."""
        return {
            "source": self.source,
            "responses": len(self.table),
            "recipients": int(self.table["recipient"].nunique()) if len(self.table) else 0,
            "items": self.measures,
            "problems": [problem.to_dict() for problem in self.problems],
        }

    def _repr_html_(self) -> str:
        head = (
            f"<p>{len(self.table)} item responses of {self.to_dict()['recipients']} recipients from "
            f"{html.escape(self.source)}; {len(self.problems)} problems</p>"
        )
        return head + self.table.head(10).to_html(index=False, na_rep="")


def item_responses(
    source: SourceData,
    *,
    map: Mapping[str, str] | None = None,
    items: Mapping[str, ResponseScale | None] | Collection[str] | None = None,
    waves: Collection[str] | None = None,
) -> ItemResponses:
    """Map a source's fields to item rows (see the module docstring).

    Parameters
    ----------
    source
        What a reader returned.
    map
        Source field -> item field name.
    items
        The item field names the study knows, optionally with their response scale (to check responses);
        default: every item of the bundled instruments.
    waves
        The study's wave ids; rows at other waves are reported and left out (default: no check).

    Returns
    -------
    ItemResponses
        The rows and every problem (the source's and the mapping's).
    """
    # A Qualtrics field may also be named by its import id (QID2_1), which survives renaming the question.
    aliases = {entry["import_id"]: entry["field"] for entry in source.fields if entry.get("import_id")}
    mapping = {aliases.get(key, key): value for key, value in (map or {}).items()}
    if items is None:
        scales: dict[str, ResponseScale | None] = dict(registry_items())
    elif isinstance(items, Mapping):
        scales = dict(items)
    else:
        scales = dict.fromkeys(items)
    problems: list[SourceProblem] = list(source.problems)
    shown = source.source.split(" (")[0]
    data = source.data
    present = list(dict.fromkeys([*[entry["field"] for entry in source.fields], *pd.unique(data["field"])]))
    present = [name for name in present if not str(name).startswith("redcap_")]  # REDCap's own columns
    present_set = set(present)

    for source_field, target in mapping.items():
        if source_field not in present_set:
            problems.append(
                SourceProblem(
                    f"the map names the field '{source_field}', which is not in the export",
                    file=shown,
                    field=source_field,
                    kind="map_source_missing",
                    severity="warning",
                    hint=did_you_mean(source_field, present, advice="correct the map"),
                )
            )
        if target not in scales:
            problems.append(
                SourceProblem(
                    f"the map sends '{source_field}' to '{target}', which is not an item of a declared "
                    "instrument; it is imported under that name but not scored",
                    file=shown,
                    field=source_field,
                    value=target,
                    kind="unknown_item",
                    severity="warning",
                    hint=did_you_mean(
                        target, scales, advice="map it to an item id (see `moclab instruments show ID`)"
                    ),
                )
            )
    measure_of: dict[str, str | None] = {
        name: mapping.get(name, name if name in scales else None) for name in present
    }
    unmapped = [name for name in present if measure_of[name] is None]
    if unmapped:
        listed = ", ".join(unmapped[:_LISTED]) + (
            f" and {len(unmapped) - _LISTED} more" if len(unmapped) > _LISTED else ""
        )
        problems.append(
            SourceProblem(
                f"{len(unmapped)} field(s) are neither mapped nor instrument items, so they are not imported "
                f"as item responses: {listed}",
                file=shown,
                kind="unmapped_field",
                severity="warning",
                hint="if some are items, map them (`map: {field: item_id}`); otherwise nothing to do",
            )
        )
    measures = data["field"].map(measure_of)
    rows = data[measures.notna().to_numpy()].assign(measure=measures[measures.notna()])
    rows = _numbers(rows, scales, shown, problems)
    rows = _scales(rows, scales, shown, problems)
    if waves is not None:
        rows = _waves(rows, set(waves), shown, problems)
    rows = _duplicates(rows, shown, problems)
    table = pd.DataFrame(
        {
            "recipient": rows["record"].astype(object).to_numpy(),
            "wave": rows["wave"].astype(object).to_numpy(),
            "measure": rows["measure"].astype(object).to_numpy(),
            "value": rows["value"].astype("float64").to_numpy(),
            "field": rows["field"].astype(object).to_numpy(),
            "line": pd.array(rows["line"], dtype="Int64"),
        }
    )
    return ItemResponses(table=table, problems=tuple(problems), source=source.source)


def _problem(row: Any, shown: str, message: str, kind: str, hint: str) -> SourceProblem:
    instance = row["instance"]
    return SourceProblem(
        message,
        file=shown,
        line=None if pd.isna(row["line"]) else int(row["line"]),
        record=str(row["record"]),
        event=row["event"] or None,
        instance=None if pd.isna(instance) else int(instance),
        field=row["field"],
        value=shorten(row["text"]),
        kind=kind,
        hint=hint,
    )


def _numbers(
    rows: pd.DataFrame, scales: Mapping[str, ResponseScale | None], shown: str, problems: list[SourceProblem]
) -> pd.DataFrame:
    """Item responses must be numbers. Text fields holding digits are read as numbers, and an answer written
    as a response label of the item's instrument ("Agree", as a choice-text export writes it) as that
    label's value; other text is reported and left out."""
    missing = rows["value"].isna().to_numpy()
    if not missing.any():
        return rows
    text = rows["text"].where(missing)
    parsed = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    labels = {
        name: {label.strip().lower(): float(value) for value, label in scale.labels.items()}
        for name, scale in scales.items()
        if scale is not None
    }
    by_label = np.full(len(rows), np.nan)
    measures = rows["measure"].to_numpy()
    for index in np.flatnonzero(missing & np.isnan(parsed)):  # only the few answers written as words
        written = str(text.iloc[index]).strip().lower()
        by_label[index] = labels.get(measures[index], {}).get(written, np.nan)
    parsed = np.where(np.isnan(parsed), by_label, parsed)
    values = np.where(missing, parsed, rows["value"].to_numpy(dtype=float))
    bad = np.isnan(values)
    for _, row in rows[bad].iterrows():
        problems.append(
            _problem(
                row,
                shown,
                f"'{shorten(row['text'])}' is not a number or a response label, so it cannot be a response "
                f"to item '{row['measure']}'; not imported",
                "not_a_number",
                "write the number of the response option at the source, or give the source a `recode:` "
                "table (text: number)",
            )
        )
    return rows.assign(value=values)[~bad]


def _scales(
    rows: pd.DataFrame, scales: Mapping[str, ResponseScale | None], shown: str, problems: list[SourceProblem]
) -> pd.DataFrame:
    """Responses must be options of the item's response scale (whole numbers from minimum to maximum)."""
    positions, names = pd.factorize(rows["measure"])
    bounds = np.array(
        [
            (scales[name].minimum, scales[name].maximum) if scales.get(name) else (np.nan, np.nan)
            for name in names
        ]
        + [(np.nan, np.nan)],
        dtype=float,
    ).reshape(-1, 2)
    low, high = bounds[positions, 0], bounds[positions, 1]  # position -1 (no name) picks the NaN row
    values = rows["value"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        outside = (values < low) | (values > high)
        between = ~np.isnan(low) & ~outside & (np.abs(values - np.round(values)) > 1e-9)
    for flag, what in ((outside, "outside"), (between, "between the options of")):
        for index in np.flatnonzero(flag):
            row = rows.iloc[index]
            problems.append(
                _problem(
                    row,
                    shown,
                    f"{row['value']:g} is {what} the response scale {low[index]:g}-{high[index]:g} of item "
                    f"'{row['measure']}'; not imported (the record's other items are)",
                    "out_of_range",
                    f"correct it at the source: a response is one of {low[index]:g}-{high[index]:g}; if the "
                    "source codes the options differently, recode them before import",
                )
            )
    return rows[~(outside | between)]


def _waves(rows: pd.DataFrame, waves: set[str], shown: str, problems: list[SourceProblem]) -> pd.DataFrame:
    unknown = ~rows["wave"].astype(str).isin(waves).to_numpy()
    for wave in pd.unique(rows["wave"][unknown]):
        count = int((rows["wave"][unknown] == wave).sum())
        problems.append(
            SourceProblem(
                f"'{wave}' is not a wave of the study; its {count} response(s) were not imported",
                file=shown,
                value=str(wave),
                kind="event_not_mapped",
                hint=did_you_mean(
                    str(wave),
                    sorted(waves),
                    advice="map the source's events or sheets to the waves in design.waves (`waves:` of the "
                    "source)",
                ),
            )
        )
    return rows[~unknown]


def _duplicates(rows: pd.DataFrame, shown: str, problems: list[SourceProblem]) -> pd.DataFrame:
    keys = ["record", "wave", "measure"]
    repeated = rows.duplicated(keys, keep=False).to_numpy()
    if not repeated.any():
        return rows
    drop = np.zeros(len(rows), dtype=bool)
    positions = pd.Series(np.arange(len(rows)))
    for _, group in positions[repeated].groupby([rows[key].to_numpy()[repeated] for key in keys], sort=False):
        members = group.to_numpy()
        values = rows["value"].to_numpy()[members]
        first = rows.iloc[members[0]]
        lines = ", ".join(str(rows["line"].iloc[m]) for m in members)
        fields = ", ".join(dict.fromkeys(str(rows["field"].iloc[m]) for m in members))
        if np.all(values == values[0]):
            drop[members[1:]] = True
            message = (
                f"{len(members)} responses to item '{first['measure']}' at wave '{first['wave']}' (fields "
                f"{fields}; lines {lines}) are the same; imported once"
            )
            severity = "warning"
        else:
            drop[members] = True
            shown_values = ", ".join(f"{value:g}" for value in values)
            message = (
                f"{len(members)} different responses ({shown_values}) to item '{first['measure']}' at wave "
                f"'{first['wave']}' (fields {fields}; lines {lines}); none was imported"
            )
            severity = "error"
        problems.append(
            SourceProblem(
                message,
                file=shown,
                line=None if pd.isna(first["line"]) else int(first["line"]),
                record=str(first["record"]),
                field=str(first["measure"]),
                kind="duplicate_response",
                severity=severity,
                hint="a recipient answers an item once per wave: map repeat instances to waves "
                "(`instances:`), or correct the map or the duplicate at the source",
            )
        )
    return rows[~drop]


__all__ = ["ItemResponses", "item_responses", "registry_items"]
