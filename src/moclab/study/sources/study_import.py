"""A new study folder from a REDCap export: `moclab import redcap RECORDS.csv DICTIONARY.csv -o STUDY/`.

`import_redcap_study` reads the export (`read_redcap`), maps its fields to instrument items (by their names,
as in a project built from `write_redcap_dictionary`, or by a map), and writes a study folder in the format
of docs/study-format.md:

* ``moclab.yaml``: the waves (REDCap events, in the order records pass through them; a classic project has
  one wave), the recipients and measures tables, and one measure per recognised instrument
  (``acceptability: {instrument: aim}`` style, named by the instrument id);
* ``data/recipients.csv``: one row per record, with its site (the data access group, a field named with
  `site`, or ``all`` when there is neither), team (a field named with `team`) and arm (the REDCap arm of a
  multi-arm project);
* ``data/measures.csv``: one row per recipient, wave and item response;
* ``import-report.csv``: every problem found, with record, field, value and what to do.

The result passes `moclab validate` and `moclab score` scores it. The destination must not exist or be
empty, and the export files are only read.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from moclab.catalog.instruments import Instrument, InstrumentRegistry, default_instruments
from moclab.errors import StudyError, display_path
from moclab.study.scaffold import quoted, refuse_non_empty
from moclab.study.sources.mapping import ItemResponses, item_responses
from moclab.study.sources.redcap_dictionary import read_redcap_dictionary
from moclab.study.sources.redcap_records import ValueMode, read_redcap
from moclab.study.sources.result import SourceData

_ARM = re.compile(r"^(?P<event>.+?)_(?P<arm>arm_\d+)$")
DEFAULT_SITE = "all"


@dataclass(frozen=True)
class ImportedStudy:
    """What `import_redcap_study` wrote and found.

    Attributes
    ----------
    path
        The new study folder.
    source
        The export as read (long data and its problems).
    responses
        The item responses written to data/measures.csv, with the mapping's problems.
    instruments
        The instruments recognised (one measure each in moclab.yaml).
    waves
        The wave ids, in order, with the event each came from.
    """

    path: Path
    source: SourceData
    responses: ItemResponses
    instruments: tuple[Instrument, ...]
    waves: dict[str, str]

    @property
    def problems(self) -> tuple[Any, ...]:
        return self.responses.problems

    def report(self) -> pd.DataFrame:
        """Every problem as a table (as written to import-report.csv)."""
        return dataclasses.replace(self.source, problems=self.responses.problems).report()

    def to_frame(self) -> pd.DataFrame:
        """The item responses written to data/measures.csv."""
        return self.responses.to_frame()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "instruments": [instrument.id for instrument in self.instruments],
            "waves": dict(self.waves),
            **{key: value for key, value in self.responses.to_dict().items() if key != "source"},
        }

    def _repr_html_(self) -> str:
        return f"<h4>Imported study {html.escape(str(self.path))}</h4>" + self.responses._repr_html_()


def _wave_order(data: pd.DataFrame, column: str) -> list[str]:
    """Waves in the order records pass through them (REDCap exports each record's events in event order).

    A record that skipped an event still orders the others; the order is a topological sort of "comes
    before" within records, ties broken by first appearance in the file.
    """
    values = [value for value in pd.unique(data[column].dropna())]
    first = {value: index for index, value in enumerate(values)}
    graph = nx.DiGraph()
    graph.add_nodes_from(values)
    for _, sequence in data.groupby("record", sort=False)[column]:
        ordered = list(dict.fromkeys(sequence.dropna()))
        graph.add_edges_from(itertools.pairwise(ordered))
    try:
        return list(nx.lexicographical_topological_sort(graph, key=lambda value: first[value]))
    except nx.NetworkXUnfeasible:  # events in different orders in different records: keep the file's order
        return values


def _default_waves(source: SourceData, waves: Mapping[str, str] | None) -> tuple[SourceData, dict[str, str]]:
    """Wave ids for a longitudinal export without a wave map: event names without a shared ``_arm_N``."""
    data = source.data
    if waves or data["event"].isna().all():
        return source, {}
    events = [str(event) for event in pd.unique(data["event"].dropna())]
    matched = {event: _ARM.match(event) for event in events}
    if all(matched.values()):
        cleaned = {event: match.group("event") for event, match in matched.items() if match}
    else:
        cleaned = {event: event for event in events}
    renamed = data.assign(wave=data["event"].map(cleaned).where(data["event"].notna(), data["wave"]))
    return dataclasses.replace(source, data=renamed), cleaned


def _record_attribute(data: pd.DataFrame, field: str, labels: Mapping[str, str] | None = None) -> pd.Series:
    """The first non-empty value of a field per record (a choice field gives its label)."""
    rows = data[data["field"] == field].drop_duplicates("record")
    text = rows["text"].astype(str)
    if labels:
        text = text.map(lambda code: labels.get(code, code))
    return pd.Series(text.to_numpy(), index=rows["record"].to_numpy())


def import_redcap_study(
    records: str | Path,
    dictionary: str | Path,
    dest: str | Path,
    *,
    map: Mapping[str, str] | None = None,  # the word users write in the map file
    waves: Mapping[str, str] | None = None,
    instances: Mapping[int | str, str] | None = None,
    wave: str = "baseline",
    site: str | None = None,
    team: str | None = None,
    values: ValueMode = "auto",
    title: str | None = None,
    registry: InstrumentRegistry | None = None,
    show_progress: bool = False,
) -> ImportedStudy:
    """Write a new study folder from a REDCap records export and its data dictionary.

    Parameters
    ----------
    records, dictionary
        The REDCap export (raw or label CSV) and data dictionary CSV.
    dest
        The study folder to create; it must not exist or be empty.
    map
        Source field -> instrument item id, for fields not named by their item id.
    waves, instances, wave, values
        As for `read_redcap`. Without `waves`, a longitudinal export's waves are its event names (without
        the ``_arm_1`` suffix when every event has one).
    site, team
        Fields holding each record's site and team (default site: the data access group, else ``all``).
    title
        The study's title (default: from the folder name).
    registry
        The instruments to recognise (default: the bundled ones).
    show_progress
        Show a progress bar on stderr when reading the export takes more than a second.

    Returns
    -------
    ImportedStudy

    Raises
    ------
    StudyError
        A non-empty destination, unreadable files, no field recognised as an instrument item, or a `site`
        or `team` field that is not in the dictionary.

    Examples
    --------
    See docs/sources.md (a round trip: dictionary written by moclab, records, import, scores).
    """
    dest = Path(dest)
    refuse_non_empty(dest)
    registry = registry or default_instruments()
    parsed = read_redcap_dictionary(dictionary)
    for what, name in (("site", site), ("team", team)):
        if name is not None and name not in parsed and name != "redcap_data_access_group":
            raise StudyError(
                f"the {what} field '{name}' is not in the data dictionary", hint="name a field of it"
            )
    source = read_redcap(
        records,
        parsed,
        waves=waves,
        instances=instances,
        wave=wave,
        values=values,
        show_progress=show_progress,
    )
    source, renamed = _default_waves(source, waves)
    scales = {item.id: instrument.scale for instrument in registry for item in instrument.items}
    responses = item_responses(source, map=map, items=scales)
    instruments = tuple(responses.instruments(registry))
    if not instruments:
        examples = ", ".join(f"{i.id} ({i.items[0].id}...)" for i in list(registry)[:4])
        raise StudyError(
            "no field of the export is an item of a moclab instrument, so there is nothing to score",
            hint=f"name REDCap fields by item id ({examples}), or map them with --map MAP.yaml "
            "(`map: {your_field: aim_1, ...}`); `moclab instruments list` shows the instruments",
        )
    wave_ids = _wave_order(source.data, "wave") if len(source.data) else [wave]
    wave_ids = [w for w in wave_ids if w in set(responses.table["wave"])] or wave_ids
    event_of = {new: old for old, new in renamed.items()}

    data = source.data
    people = pd.DataFrame({"recipient_id": source.records})
    choice_labels = {item.name: item.choices for item in parsed if item.choices}
    site_field = site or (
        "redcap_data_access_group" if (data["field"] == "redcap_data_access_group").any() else None
    )
    if site_field:
        sites = _record_attribute(data, site_field, choice_labels.get(site_field))
        people["site"] = people["recipient_id"].map(sites).fillna(DEFAULT_SITE)
    else:
        people["site"] = DEFAULT_SITE
    if team:
        teams = _record_attribute(data, team, choice_labels.get(team))
        people["team"] = people["recipient_id"].map(teams)
    arms = {event: match.group("arm") for event in renamed if (match := _ARM.match(event))}
    if len(set(arms.values())) > 1:
        first_event = data.dropna(subset=["event"]).drop_duplicates("record").set_index("record")["event"]
        people["arm"] = people["recipient_id"].map(first_event.map(arms))

    dest.mkdir(parents=True, exist_ok=True)
    (dest / "data").mkdir(exist_ok=True)
    people.to_csv(dest / "data" / "recipients.csv", index=False, lineterminator="\n")
    table = responses.table
    measures = pd.DataFrame(
        {
            "recipient_id": table["recipient"],
            "wave": table["wave"],
            "measure": table["measure"],
            "value": [_number_text(value) for value in table["value"]],
        }
    )
    measures.to_csv(dest / "data" / "measures.csv", index=False, lineterminator="\n")
    report = dataclasses.replace(source, problems=responses.problems).report()
    report.to_csv(dest / "import-report.csv", index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    config = _config_text(
        title=title or dest.name.replace("-", " ").replace("_", " ").strip().capitalize() or "Imported study",
        records=display_path(records),
        dictionary=display_path(dictionary),
        waves=wave_ids,
        events=event_of,
        instruments=instruments,
        team=team is not None,
        arm="arm" in people.columns,
        site_field=site_field,
        map=dict(map or {}),
    )
    (dest / "moclab.yaml").write_text(config, encoding="utf-8")
    return ImportedStudy(
        path=dest,
        source=source,
        responses=responses,
        instruments=instruments,
        waves={wave_id: event_of.get(wave_id, wave_id) for wave_id in wave_ids},
    )


def _number_text(value: float) -> str:
    return "" if np.isnan(value) else (str(int(value)) if float(value).is_integer() else repr(float(value)))


def measure_name(instrument: Instrument) -> str:
    """The measure name of an imported instrument: its id, with ``-`` as ``_``."""
    return instrument.id.replace("-", "_")


def _config_text(
    *,
    title: str,
    records: str,
    dictionary: str,
    waves: list[str],
    events: Mapping[str, str],
    instruments: tuple[Instrument, ...],
    team: bool,
    arm: bool,
    site_field: str | None,
    map: Mapping[str, str],
) -> str:
    levels = {"individual": "individual", "team": "team", "organization": "organization"}
    lines = [
        "# moclab study configuration; the format is described in docs/study-format.md.",
        f"# Imported by `moclab import redcap` on {date.today().isoformat()} from {records}",
        f"# (data dictionary {dictionary}). Problems found: import-report.csv.",
    ]
    if map:
        lines.append("# Fields mapped to items: " + ", ".join(f"{k} -> {v}" for k, v in map.items()))
    lines += [
        "format: 1",
        f"title: {quoted(title)}",
        "synthetic: false",
        "description: >-",
        f"  Item responses imported from the REDCap export {records}. TODO: what the study is.",
        "",
        "design:",
        "  unit: recipient",
        "  cluster: site" + ("" if site_field else f"  # every record is in the site '{DEFAULT_SITE}'"),
    ]
    if team:
        lines.append("  team: team")
    lines += [
        "  randomization:",
        "    level: none",
        "  waves:                 # in time order; TODO: add planned dates (date: 2025-01-15)",
    ]
    for wave_id in waves:
        event = events.get(wave_id)
        label = f", label: {quoted(event)}" if event and event != wave_id else ""
        lines.append(f"    - {{id: {quoted(wave_id)}{label}}}")
    lines += [
        "",
        "tables:",
        "  recipients:",
        "    path: data/recipients.csv",
        "    id: recipient_id",
        "    cluster: site",
    ]
    if team:
        lines.append("    team: team")
    if arm:
        lines.append("    arm: arm")
    lines += [
        "  measures:",
        "    path: data/measures.csv",
        "    recipient: recipient_id",
        "    wave: wave",
        "    measure: measure",
        "    value: value",
        "",
        "# One measure per instrument found in the export, scored from its item rows (docs/measures.md).",
        "measures:",
    ]
    for instrument in instruments:
        level = levels.get(instrument.level, "individual")
        lines.append(
            f"  {measure_name(instrument)}: {{instrument: {instrument.id}, label: {quoted(instrument.name)}, "
            f"level: {level}}}"
        )
    return "\n".join(lines) + "\n"
