"""Reading a Qualtrics survey export (CSV, from Data & Analysis > Export Data).

A Qualtrics CSV has three header rows (Qualtrics, "Understanding your dataset"): the column names (``Q1``,
``Q2_1`` for a matrix row, ``StartDate``, embedded data names), the question text, and an import id as JSON
(``{"ImportId":"QID2_1"}``). Then one row per response. The metadata columns are ``StartDate``, ``EndDate``,
``Status``, ``IPAddress``, ``Progress``, ``Duration (in seconds)``, ``Finished``, ``RecordedDate``,
``ResponseId``, ``RecipientLastName``, ``RecipientFirstName``, ``RecipientEmail``, ``ExternalReference``,
``LocationLatitude``, ``LocationLongitude``, ``DistributionChannel`` and ``UserLanguage``.

Answers are exported as numbers ("Use numeric values") or as choice text; choice text is turned into numbers
with a `recode` table, or by the mapping step with the instrument's response labels. With "Recode seen but
unanswered questions as -99", -99 means "no answer" and is read as such.

Survey previews, tests and spam-flagged responses (``Status``: 1 Survey Preview, 2 Survey Test, 8 Spam, 9
Survey Preview Spam, 12 Imported Spam, 17 Offline Survey Preview; or those words in a choice-text export) are
dropped by default; unfinished responses (``Finished`` 0/False, or ``Progress`` below `min_progress`) are
dropped or kept as configured. Each is reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from moclab.errors import StudyError, did_you_mean, display_path
from moclab.study.sources.delimited import read_delimited
from moclab.study.sources.problems import SourceProblem, shorten
from moclab.study.sources.result import SourceData, finish_long
from moclab.study.sources.wide import duplicate_groups, same_rows, wide_to_long

METADATA_COLUMNS = (
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
    "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage",
    "Q_RecaptchaScore", "Q_RelevantIDDuplicate", "Q_RelevantIDDuplicateScore", "Q_RelevantIDFraudScore",
    "Q_RelevantIDLastStartDate",
)  # fmt: skip
# Status codes (numeric export) and texts (choice-text export) of responses that are not real answers.
_NOT_RESPONSES = {
    "1": "a survey preview",
    "2": "a survey test",
    "8": "flagged as spam",
    "9": "a survey preview flagged as spam",
    "12": "an imported response flagged as spam",
    "17": "an offline survey preview",
    "survey preview": "a survey preview",
    "survey test": "a survey test",
    "spam": "flagged as spam",
    "survey preview spam": "a survey preview flagged as spam",
    "imported spam": "an imported response flagged as spam",
    "offline survey preview": "an offline survey preview",
}
_FALSE = {"0", "false"}
Handling = Literal["drop", "flag", "keep"]


def _import_id(cell: str) -> str | None:
    text = cell.strip()
    if not text.startswith("{") or len(text) > 1000:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return (
        value.get("ImportId") if isinstance(value, dict) and isinstance(value.get("ImportId"), str) else None
    )


# How the question-text row labels the metadata columns; it tells that row from a response.
_METADATA_TEXTS = {
    "start date", "end date", "response type", "ip address", "progress", "duration (in seconds)", "finished",
    "recorded date", "response id", "external data reference", "distribution channel", "user language",
}  # fmt: skip


def _is_question_row(row: pd.Series) -> bool:
    present = [name for name in METADATA_COLUMNS if name in row.index]
    labelled = [name for name in present if str(row[name]).strip().lower() in _METADATA_TEXTS]
    return bool(present) and len(labelled) >= len(present) / 2


def read_qualtrics(
    path: str | Path,
    *,
    id: str | None = None,
    wave: str = "baseline",
    wave_column: str | None = None,
    previews: Handling = "drop",
    incomplete: Handling = "flag",
    min_progress: float | None = None,
    recode: dict[str, float] | None = None,
) -> SourceData:
    """Read a Qualtrics CSV export.

    Parameters
    ----------
    path
        The CSV file (numeric values or choice text; the three header rows as Qualtrics writes them).
    id
        The column holding the recipient id (an embedded data field, or ``ExternalReference``). Default:
        ``ExternalReference`` when every response has one, else ``ResponseId`` (which cannot link a person's
        responses across waves; a warning says so).
    wave
        The wave of every response (one export per wave).
    wave_column
        A column holding each response's wave instead (an embedded data field).
    previews
        Survey previews, tests and spam: "drop" (reported once each, not imported), "flag" (imported and
        reported) or "keep".
    incomplete
        Unfinished responses (``Finished`` false, or ``Progress`` below `min_progress`): "drop", "flag" or
        "keep".
    min_progress
        Responses with less progress (0-100) count as unfinished.
    recode
        Choice text -> number, for a choice-text export.

    Returns
    -------
    SourceData
        One row per answer: record (the id), wave, field (the column name; the question's ImportId is in
        `fields`), value, text, line.

    Raises
    ------
    StudyError
        A missing, empty or unreadable file, or an id or wave column that is not in the export.
    """
    path = Path(path)
    shown = display_path(path)
    table = read_delimited(path, expected=METADATA_COLUMNS, shown=shown, what="Qualtrics export")
    header = table.header
    frame = pd.DataFrame(table.rows, columns=header, dtype=object)
    lines = np.asarray(table.lines, dtype=np.int64)
    problems: list[SourceProblem] = list(table.problems)
    questions: dict[str, str] = {}
    import_ids: dict[str, str] = {}
    skip = 0
    for candidate in (1, 0):  # the import-id row is the third header row; older exports lack it
        if len(frame) > candidate:
            found = {name: _import_id(cell) for name, cell in frame.iloc[candidate].items()}
            filled = [value for value in found.values() if value]
            if filled and len(filled) >= (frame.iloc[candidate] != "").sum() / 2:
                import_ids = {name: value for name, value in found.items() if value}
                skip = candidate + 1
                break
    if skip == 0 and len(frame) and _is_question_row(frame.iloc[0]):  # an older export: no import-id row
        skip = 1
    if skip:
        questions = dict(frame.iloc[0].items())
    frame, lines = frame.iloc[skip:].reset_index(drop=True), lines[skip:]

    id_column = id
    if id_column is None:
        external = frame.get("ExternalReference")
        if external is not None and len(frame) and (external.str.strip() != "").all():
            id_column = "ExternalReference"
        else:
            id_column = "ResponseId"
            problems.append(
                SourceProblem(
                    "responses are identified by their ResponseId, which differs at every wave, so a "
                    "person's answers cannot be linked across waves",
                    file=shown,
                    field="ResponseId",
                    kind="missing_record_id",
                    severity="warning",
                    hint="send the survey with a recipient id (ExternalReference or an embedded data field) "
                    "and name that column with `id:`",
                )
            )
    for what, name in (("id", id_column), ("wave_column", wave_column)):
        if name is not None and name not in frame.columns:
            columns = "columns: " + ", ".join(list(frame.columns)[:30])
            raise StudyError(
                f"{shown}: the {what} column '{name}' is not in the export",
                hint=did_you_mean(name, frame.columns, advice=columns),
            )
    record = frame[id_column].str.strip().to_numpy(dtype=object)
    waves = (
        frame[wave_column].str.strip().to_numpy(dtype=object)
        if wave_column
        else np.full(len(frame), wave, dtype=object)
    )
    keep = np.ones(len(frame), dtype=bool)
    finished = np.ones(len(frame), dtype=bool)

    def report(position: int, message: str, kind: str, severity: str, hint: str, **extra: object) -> None:
        problems.append(
            SourceProblem(
                message,
                file=shown,
                line=int(lines[position]),
                record=str(record[position]) or None,
                kind=kind,
                severity=severity,
                hint=hint,
                **extra,  # type: ignore[arg-type]
            )
        )

    if "Status" in frame.columns and previews != "keep":
        for position, status in enumerate(frame["Status"].str.strip().str.lower()):
            what = _NOT_RESPONSES.get(status)
            if what is None:
                continue
            dropped = previews == "drop"
            keep[position] &= not dropped
            report(
                position,
                f"this response is {what}; " + ("it was not imported" if dropped else "it was imported"),
                "preview",
                "error" if dropped else "warning",
                "set `previews: keep` to import previews and tests" if dropped else "remove it at the source",
                field="Status",
                value=shorten(frame["Status"].iloc[position]),
            )
    if "Finished" in frame.columns:
        finished &= ~frame["Finished"].str.strip().str.lower().isin(_FALSE).to_numpy()
    if min_progress is not None and "Progress" in frame.columns:
        progress = pd.to_numeric(frame["Progress"], errors="coerce").to_numpy(dtype=float)
        finished &= ~(progress < min_progress)
    if incomplete != "keep":
        for position in np.flatnonzero(~finished & keep):
            dropped = incomplete == "drop"
            keep[position] = not dropped
            progress_text = frame["Progress"].iloc[position] if "Progress" in frame.columns else "?"
            report(
                position,
                f"this response was not finished (progress {progress_text}%); "
                + ("it was not imported" if dropped else "its answers were imported"),
                "incomplete",
                "error" if dropped else "warning",
                "set `incomplete: keep` to import unfinished responses (their scores are prorated)"
                if dropped
                else "scores of partly answered instruments are prorated when enough items are answered",
                field="Finished",
            )
    for position in np.flatnonzero(keep & (record == "")):
        report(
            position,
            f"this response has no id in '{id_column}'; it was not imported",
            "missing_record_id",
            "error",
            "fill in the id at the source, or name the right column with `id:`",
            field=id_column,
        )
    keep &= record != ""
    kept = np.flatnonzero(keep)
    for group in duplicate_groups(pd.DataFrame({"record": record[kept], "wave": waves[kept]})):
        positions = kept[group]
        listed = ", ".join(str(lines[p]) for p in positions)
        done = positions[finished[positions]]
        if len(done) == 1 and len(positions) > 1:
            keep[positions] = False
            keep[done] = True
            report(
                int(positions[0]),
                f"{len(positions)} responses of one recipient at one wave (lines {listed}); only the "
                f"finished one (line {lines[done[0]]}) was imported",
                "duplicate_record",
                "warning",
                "remove the unfinished attempt at the source",
            )
        elif same_rows(frame.drop(columns=[c for c in METADATA_COLUMNS if c in frame.columns]), positions):
            keep[positions[1:]] = False
            report(
                int(positions[0]),
                f"{len(positions)} identical responses of one recipient at one wave (lines {listed}); "
                "imported once",
                "duplicate_record",
                "warning",
                "remove the duplicates at the source",
            )
        else:
            keep[positions] = False
            report(
                int(positions[0]),
                f"{len(positions)} different responses of one recipient at one wave (lines {listed}); "
                "none was imported",
                "duplicate_record",
                "error",
                "keep one response per recipient and wave at the source (or check the id column)",
            )
    fields = [
        name for name in header
        if name and name not in METADATA_COLUMNS and name not in (id_column, wave_column)
    ]  # fmt: skip
    rows = np.flatnonzero(keep)
    long, cell_problems = wide_to_long(
        frame.iloc[rows].reset_index(drop=True),
        fields,
        record=record[rows],
        wave=waves[rows],
        line=lines[rows],
        shown=shown,
        recode=recode,
        missing_codes=("-99",),
    )
    problems.extend(cell_problems)
    answered_cells = frame.iloc[rows][fields].to_numpy(dtype=str)
    unanswered = int((np.char.strip(answered_cells) == "-99").sum()) if answered_cells.size else 0
    if unanswered:
        problems.append(
            SourceProblem(
                f"{unanswered} answer(s) are -99 (Qualtrics' code for seen but unanswered) and were read as "
                "no answer",
                file=shown,
                kind="incomplete",
                severity="warning",
                hint="nothing to do; they count as skipped items when scoring",
            )
        )
    described = [
        {
            "field": name,
            "form": None,
            "type": "qualtrics",
            "label": questions.get(name, ""),
            "import_id": import_ids.get(name),
        }
        for name in fields
    ]
    return SourceData(
        data=finish_long(long),
        problems=tuple(problems),
        source=shown,
        kind="qualtrics",
        fields=tuple(described),
    )
