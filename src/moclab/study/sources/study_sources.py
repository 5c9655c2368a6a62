"""The `sources:` of a study: reading each export it lists and adding its item responses to the measures.

`read_study_sources` reads every entry of ``sources:`` in moclab.yaml (see `moclab.study.sources.spec`) with
its reader, maps its fields to the study's item fields and checks its waves against ``design.waves``.
`add_source_rows` is how `load_study` uses it: the rows join the measures table before the instrument
measures are scored, so a study can keep its REDCap, Qualtrics or Excel exports as they came.

In a study, a value a source could not use (out of range, an unknown code) does not stop the study from
loading: it is reported as a warning, with the record, field and what to do, and left out. A source that
cannot be read at all (a missing file, a dictionary without its columns) is an error at its line of
moclab.yaml.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moclab.catalog.instruments import ResponseScale
from moclab.errors import MoclabError, Problem, ValidationError
from moclab.study.sources.mapping import item_responses, registry_items
from moclab.study.sources.qualtrics import read_qualtrics
from moclab.study.sources.redcap_records import read_redcap
from moclab.study.sources.result import SourceData
from moclab.study.sources.spec import SourceSpec
from moclab.study.sources.workbook import read_workbook

Locator = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class StudySources:
    """Item responses from a study's sources, and every problem found reading and mapping them.

    Attributes
    ----------
    table
        Columns recipient, wave, measure, value, field (the source's field), line and source (the file).
    problems
        Reading and mapping problems; values left out are warnings here (the study is still usable).
    """

    table: pd.DataFrame
    problems: tuple[Problem, ...] = ()


def read_source(spec: SourceSpec, folder: Path) -> SourceData:
    """Read one `sources:` entry with its reader (paths relative to the study folder)."""

    def resolve(name: str | None) -> Path:
        path = Path(name or "").expanduser()
        return path if path.is_absolute() else folder / path

    if spec.type == "redcap":
        return read_redcap(
            resolve(spec.records),
            resolve(spec.dictionary),
            waves=spec.waves or None,
            instances=spec.instances or None,
            wave=spec.wave or "baseline",
            values=spec.values,
        )
    if spec.type == "qualtrics":
        return read_qualtrics(
            resolve(spec.path),
            id=spec.id,
            wave=spec.wave or "baseline",
            wave_column=spec.wave_column,
            previews=spec.previews,
            incomplete=spec.incomplete,
            min_progress=spec.min_progress,
            recode=spec.recode or None,
        )
    return read_workbook(
        resolve(spec.path),
        id=spec.id or "recipient_id",
        sheets=spec.sheets or None,
        wave=spec.wave,
        wave_column=spec.wave_column,
    )


def read_study_sources(
    config: Any,
    folder: str | Path,
    *,
    items: Mapping[str, ResponseScale | None] | None = None,
    at: Locator | None = None,
) -> StudySources:
    """Read every `sources:` entry of a study config.

    Parameters
    ----------
    config
        The `StudyConfig`.
    folder
        The study folder (source paths are relative to it).
    items
        The study's item field names with their response scales (default: every bundled instrument item).
    at
        ``at("sources", 0, "map")`` -> file, line and column in moclab.yaml, for problems of an entry.

    Returns
    -------
    StudySources
    """
    folder = Path(folder)
    locate = at or (lambda *_keys: {})
    items = dict(items) if items is not None else dict(registry_items())
    waves = config.design.wave_ids
    problems: list[Problem] = []
    tables = []
    for index, spec in enumerate(config.sources):
        declared: dict[str, str | None] = {**spec.waves}
        declared.update({str(key): value for key, value in spec.instances.items()})
        for sheet, setting in spec.sheets.items():
            declared[sheet] = setting if isinstance(setting, str) or setting is None else setting.wave
        if spec.wave:
            declared["wave"] = spec.wave
        for key, wave in declared.items():
            if wave is not None and wave not in waves:
                problems.append(
                    Problem(
                        f"sources[{index}]: '{wave}' is not a wave of the study",
                        hint="use a wave id of design.waves: " + ", ".join(waves),
                        **_where(locate, index, key),
                    )
                )
        try:
            data = read_source(spec, folder)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        except MoclabError as exc:
            problems.append(Problem(exc.message, hint=exc.hint, **locate("sources", index)))
            continue
        responses = item_responses(data, map=spec.map, items=items, waves=waves)
        problems.extend(_as_warning(problem) for problem in responses.problems)
        tables.append(responses.table.assign(source=data.source.split(" (")[0]))
    table = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=["recipient", "wave", "measure", "value", "field", "line", "source"])
    )
    return StudySources(table=table, problems=tuple(problems))


def _where(locate: Locator, index: int, key: str) -> dict[str, Any]:
    for loc in (("sources", index, "waves", key), ("sources", index, "sheets", key), ("sources", index, key)):
        found = locate(*loc)
        if found.get("line"):
            return found
    return locate("sources", index)


def _as_warning(problem: Problem) -> Problem:
    """In a study, a value a source could not use is left out and reported; it does not stop the study.
    Rows at a wave the study does not have are a mistake in moclab.yaml (a missing `waves:` map), so they
    stay errors."""
    kind = getattr(problem, "kind", None)
    if problem.severity == "error" and kind is not None and kind != "event_not_mapped":
        return dataclasses.replace(problem, severity="warning")
    return problem


def add_source_rows(checker: Any) -> None:
    """Add the item responses of a study's `sources:` to its measures table, during `load_study`.

    `checker` is the `moclab.study.checks.checker.StudyChecker` at work: its config, folder, instrument plan,
    recipients and typed measures table are used; problems join its own. Responses of records that are not
    in the recipients table are errors (as in the measures table); a response the measures table already
    holds for the same recipient, wave and item is reported and the table's value kept.
    """
    config = checker.config
    if config is None or not config.sources:
        return
    plan = getattr(checker, "plan", None)
    items = None
    if plan is not None and plan.field_owner:
        items = {name: plan.uses[measure].instrument.scale for name, (measure, _) in plan.field_owner.items()}
    found = read_study_sources(config, checker.folder, items=items, at=checker.at)
    checker.problems.extend(found.problems)
    frame = checker.tables.get("measures")
    rows = found.table
    if frame is None or rows.empty:
        return
    spec = config.tables.measures
    if checker.recipient_ids is not None:
        orphan = ~rows["recipient"].isin(checker.recipient_ids).to_numpy()
        for source in pd.unique(rows["source"][orphan]):
            mine = orphan & (rows["source"] == source).to_numpy()
            ids = list(pd.unique(rows["recipient"][mine]))
            listed = ", ".join(f"'{value}'" for value in ids[:5]) + (
                f" and {len(ids) - 5} more" if len(ids) > 5 else ""
            )
            checker.error(
                f"{len(ids)} record(s) of this source are not in the recipients table ({listed}); their "
                f"{int(mine.sum())} responses were not added",
                file=source,
                hint=f"add them to {config.tables.recipients.path}, or remove test records from the export",
            )
        rows = rows[~orphan]
    keys = [spec.recipient, spec.wave, spec.measure]
    if len(frame) and len(rows):
        existing = pd.MultiIndex.from_frame(frame[keys].astype(str))
        incoming = pd.MultiIndex.from_frame(rows[["recipient", "wave", "measure"]].astype(str))
        clash = incoming.isin(existing)
        if clash.any():
            first = rows[clash].iloc[0]
            checker.warn(
                f"{int(clash.sum())} response(s) of the sources are also in the measures table (first: "
                f"{first['recipient']} / {first['wave']} / {first['measure']}); the table's values are kept",
                file=str(first["source"]),
                field=str(first["field"]),
                hint="keep each response in one place: the measures table or the source",
            )
            rows = rows[~clash]
    if rows.empty:
        return
    added = pd.DataFrame(index=range(len(rows)))
    for column in frame.columns:
        added[column] = pd.Series([None] * len(rows), dtype=object)
    added[spec.recipient] = rows["recipient"].astype(str).to_numpy()
    added[spec.wave] = rows["wave"].astype(str).to_numpy()
    added[spec.measure] = rows["measure"].astype(str).to_numpy()
    added[spec.value] = rows["value"].to_numpy(dtype=float)
    for column in frame.columns:
        added[column] = _like(added[column], frame[column])
    checker.tables["measures"] = pd.concat([frame, added], ignore_index=True)


def _like(values: pd.Series, model: pd.Series) -> pd.Series:
    """`values` in the dtype of the column they join (categories kept, numbers as numbers)."""
    if isinstance(model.dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical(values, categories=model.cat.categories, ordered=model.cat.ordered))
    if pd.api.types.is_float_dtype(model):
        return pd.to_numeric(values, errors="coerce").astype(model.dtype)
    if pd.api.types.is_datetime64_any_dtype(model):
        return pd.to_datetime(values, errors="coerce").astype(model.dtype)
    try:
        return values.astype(model.dtype)
    except (TypeError, ValueError):
        return values.where(values.notna(), np.nan)
