"""Reading an Excel workbook with several sheets: one sheet per wave, or one per instrument.

Each sheet has a header row and one row per recipient, the recipient id in one column (`id`) and one column
per item. Which wave a sheet holds is declared (``sheets: {Baseline: baseline, "6 months": m6}``), read from
a wave column of the sheet, or, when neither is given, taken from the sheet's name. Cells keep their Excel
types (a number cell is a number); the workbook is read with openpyxl through pandas, as study tables are
(`moclab.study.tables`), so blank rows above the header and unreadable files are handled the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moclab.errors import StudyError, display_path
from moclab.study.sources.problems import SourceProblem
from moclab.study.sources.result import SourceData, finish_long
from moclab.study.sources.wide import cell_text, duplicate_groups, same_rows, wide_to_long
from moclab.study.tables import TableReadError, read_source


def _sheet_names(path: Path, shown: str) -> list[str]:
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise StudyError(
            f"{shown}: not a readable .xlsx workbook ({type(exc).__name__})",
            hint="save it from Excel as 'Excel Workbook (.xlsx)'",
        ) from None
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def read_workbook(
    path: str | Path,
    *,
    id: str = "recipient_id",
    sheets: Mapping[str, str | Mapping[str, Any] | Any] | None = None,
    wave: str | None = None,
    wave_column: str | None = None,
) -> SourceData:
    """Read item responses from the sheets of an Excel workbook.

    Parameters
    ----------
    path
        The workbook (.xlsx or .xlsm).
    id
        The column holding the recipient id on every sheet (a sheet may name its own with ``{id: ...}``).
    sheets
        Sheet name -> its wave (text), or a mapping with any of ``wave``, ``wave_column`` and ``id``.
        Default: every sheet of the workbook.
    wave
        The wave of sheets that name none (default: the sheet's name).
    wave_column
        A column holding each row's wave, for sheets that name no wave.

    Returns
    -------
    SourceData
        One row per answer: record, wave, event and form (the sheet), field (the column), value, text and
        line (the sheet's row).

    Raises
    ------
    StudyError
        A missing or unreadable workbook, or a declared sheet that does not exist (naming the sheets).
    """
    path = Path(path)
    shown = display_path(path)
    if not path.is_file():
        raise StudyError(f"{shown}: workbook not found")
    available = _sheet_names(path, shown)
    wanted = dict(sheets) if sheets else dict.fromkeys(available)
    missing = [name for name in wanted if name not in available]
    if missing:
        raise StudyError(
            f"{shown}: no sheet named " + ", ".join(f"'{name}'" for name in missing),
            hint="sheets in this workbook: " + ", ".join(f"'{name}'" for name in available),
        )
    problems: list[SourceProblem] = []
    parts: list[pd.DataFrame] = []
    described: list[dict[str, Any]] = []
    for sheet, setting in wanted.items():
        options = _options(setting)
        sheet_id = options.get("id") or id
        sheet_wave = options.get("wave") or wave
        sheet_wave_column = options.get("wave_column") or (None if sheet_wave else wave_column)
        where = f"{shown} [{sheet}]"
        try:
            table = read_source(path, sheet=sheet, missing=("",), shown=where)
        except TableReadError as exc:
            problems.append(
                SourceProblem(
                    exc.message, file=where, kind="malformed_row", hint=exc.hint or "check the sheet"
                )
            )
            continue
        frame = table.frame.reset_index(drop=True)
        if table.frame.empty:
            continue
        needed = [sheet_id] + ([sheet_wave_column] if sheet_wave_column else [])
        absent = [name for name in needed if name not in frame.columns]
        if absent:
            problems.append(
                SourceProblem(
                    f"the column '{absent[0]}' is not on this sheet; the sheet was not imported",
                    file=where,
                    line=table.header_line,
                    field=absent[0],
                    kind="missing_record_id",
                    hint="name the sheet's id (and wave) column in the source's `sheets:` entry; columns: "
                    + ", ".join(map(str, frame.columns)),
                )
            )
            continue
        lines = np.arange(len(frame)) + table.header_line + 1
        record = np.array([cell_text(value) for value in frame[sheet_id]], dtype=object)
        if sheet_wave_column:
            waves = np.array([cell_text(value) for value in frame[sheet_wave_column]], dtype=object)
        else:
            waves = np.full(len(frame), sheet_wave or sheet, dtype=object)
        keep = record != ""
        for position in np.flatnonzero(~keep & frame.notna().any(axis=1).to_numpy()):
            problems.append(
                SourceProblem(
                    f"this row has no id in '{sheet_id}'; it was not imported",
                    file=where,
                    line=int(lines[position]),
                    field=sheet_id,
                    kind="missing_record_id",
                    hint="fill in the recipient id",
                )
            )
        fields = [str(name) for name in frame.columns if name not in needed]
        kept = np.flatnonzero(keep)
        for group in duplicate_groups(pd.DataFrame({"record": record[kept], "wave": waves[kept]})):
            positions = kept[group]
            listed = ", ".join(str(lines[p]) for p in positions)
            identical = same_rows(frame[fields], positions)
            keep[positions[1:] if identical else positions] = False
            problems.append(
                SourceProblem(
                    f"{len(positions)} rows for one recipient and wave (rows {listed}) "
                    + ("are identical; imported once" if identical else "differ; none was imported"),
                    file=where,
                    line=int(lines[positions[0]]),
                    record=str(record[positions[0]]),
                    event=sheet,
                    kind="duplicate_record",
                    severity="warning" if identical else "error",
                    hint="keep one row per recipient on each sheet (per wave)",
                )
            )
        rows = np.flatnonzero(keep)
        long, cell_problems = wide_to_long(
            frame.iloc[rows].reset_index(drop=True),
            fields,
            record=record[rows],
            wave=waves[rows],
            line=lines[rows],
            shown=where,
            event=sheet,
            form=sheet,
        )
        problems.extend(cell_problems)
        if len(long):
            parts.append(long)
        described += [{"field": name, "form": sheet, "type": "excel", "label": name} for name in fields]
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    unique_fields = list({entry["field"]: entry for entry in described}.values())
    return SourceData(
        data=finish_long(data),
        problems=tuple(problems),
        source=shown,
        kind="excel",
        fields=tuple(unique_fields),
    )


def _options(setting: object) -> dict[str, str | None]:
    """A sheet's declaration: a wave name, a mapping (or a pydantic sheet spec), or nothing."""
    if setting is None:
        return {}
    if isinstance(setting, str):
        return {"wave": setting}
    if hasattr(setting, "model_dump"):
        setting = setting.model_dump()
    if isinstance(setting, Mapping):
        return {key: (str(value) if value is not None else None) for key, value in setting.items()}
    return {"wave": str(setting)}
