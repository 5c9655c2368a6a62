"""What reading a data source gives: typed long data plus the report of problems.

Every reader (`read_redcap`, `read_qualtrics`, `read_workbook`) returns a `SourceData`. Its `data` holds one
row per non-empty answer, whatever the source's layout (REDCap's one row per record, event and instance with
checkbox columns; Qualtrics' three header rows; one sheet per wave), so the mapping to instrument items and
the study's measures table works the same for all of them.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from moclab.study.sources.problems import SourceProblem

#: The columns of `SourceData.data`, in order.
LONG_COLUMNS = ("record", "wave", "event", "form", "instance", "field", "value", "text", "line")


def empty_long() -> pd.DataFrame:
    """A long table with no rows and the right column types."""
    return pd.DataFrame(
        {
            "record": pd.Series(dtype=object),
            "wave": pd.Series(dtype=object),
            "event": pd.Series(dtype=object),
            "form": pd.Series(dtype=object),
            "instance": pd.Series(dtype="Int64"),
            "field": pd.Series(dtype=object),
            "value": pd.Series(dtype="float64"),
            "text": pd.Series(dtype=object),
            "line": pd.Series(dtype="Int64"),
        }
    )


def finish_long(frame: pd.DataFrame) -> pd.DataFrame:
    """Put a long table's columns in order with their types (object text, float values, Int64 counters)."""
    if frame.empty:
        return empty_long()
    result = pd.DataFrame(index=range(len(frame)))
    for name in LONG_COLUMNS:
        column = frame[name].reset_index(drop=True) if name in frame else pd.Series([None] * len(frame))
        if name in ("instance", "line"):
            result[name] = pd.array(pd.to_numeric(column, errors="coerce"), dtype="Int64")
        elif name == "value":
            result[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        else:
            result[name] = column.astype(object).where(column.notna(), None)
    return result


@dataclass(frozen=True)
class SourceData:
    """Answers read from one source, as long data, with every problem found on the way.

    Attributes
    ----------
    data
        One row per non-empty answer. Columns: ``record`` (the participant id), ``wave`` (the study wave),
        ``event`` (the REDCap event or the workbook sheet, else None), ``form`` (the REDCap instrument the
        field belongs to, or the sheet), ``instance`` (the REDCap repeat instance, else NA), ``field`` (the
        field name; ``name___code`` for a checkbox option), ``value`` (the number, NaN for text, dates and
        codes that are not numbers), ``text`` (the cell as written) and ``line`` (the line in the file,
        or the row of the sheet).
    problems
        Every problem found, one per record and field (see `moclab.study.sources.problems`).
    source
        The file(s) read, as messages name them.
    kind
        "redcap", "qualtrics" or "excel".
    fields
        The fields of the source in their order (for REDCap: the dictionary's, checkboxes expanded), with
        what each is: ``{"field": ..., "form": ..., "type": ..., "label": ...}``.
    """

    data: pd.DataFrame
    problems: tuple[SourceProblem, ...] = ()
    source: str = ""
    kind: str = ""
    fields: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    title = "Imported source"

    @property
    def errors(self) -> list[SourceProblem]:
        """Problems whose value or row was not imported."""
        return [problem for problem in self.problems if problem.severity == "error"]

    @property
    def warnings(self) -> list[SourceProblem]:
        """Problems that did not stop anything from being imported."""
        return [problem for problem in self.problems if problem.severity != "error"]

    @property
    def records(self) -> list[str]:
        """The record ids, in order of first appearance."""
        return list(pd.unique(self.data["record"])) if len(self.data) else []

    def problems_of(self, kind: str) -> list[SourceProblem]:
        """The problems of one kind ("out_of_range", "unknown_choice", ...)."""
        return [problem for problem in self.problems if problem.kind == kind]

    def wide(self) -> pd.DataFrame:
        """One row per record, wave and instance, one column per field (the numbers; text fields as text)."""
        if self.data.empty:
            return pd.DataFrame(columns=["record", "wave"])
        numeric = self.data["value"].notna()
        cells = self.data["text"].where(~numeric, self.data["value"])
        keys = ["record", "wave", "instance"]
        frame = self.data.assign(cell=cells, instance=self.data["instance"].fillna(0))
        table = frame.pivot_table(index=keys, columns="field", values="cell", aggfunc="first", sort=False)
        order = [entry["field"] for entry in self.fields if entry["field"] in table.columns]
        order += [name for name in table.columns if name not in order]
        table = table[order].reset_index()
        table["instance"] = table["instance"].replace(0, np.nan)
        table.columns.name = None
        return table

    def report(self) -> pd.DataFrame:
        """The problems as a table: severity, kind, file, line, record, event, instance, field, value,
        message and what to do."""
        columns = [
            "severity", "kind", "file", "line", "record", "event", "instance", "field", "value", "message",
            "hint",
        ]  # fmt: skip
        rows = [{name: getattr(problem, name) for name in columns} for problem in self.problems]
        frame = pd.DataFrame(rows, columns=columns)
        frame["line"] = pd.array(frame["line"], dtype="Int64")
        frame["instance"] = pd.array(frame["instance"], dtype="Int64")
        return frame

    def to_frame(self) -> pd.DataFrame:
        """The long data (a copy)."""
        return self.data.copy()

    def counts(self) -> dict[str, int]:
        """How many problems of each kind."""
        return dict(Counter(problem.kind for problem in self.problems))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: the source, counts and every problem."""
        return {
            "source": self.source,
            "kind": self.kind,
            "records": len(self.records),
            "values": len(self.data),
            "not_imported": len(self.errors),
            "problem_counts": self.counts(),
            "problems": [problem.to_dict() for problem in self.problems],
        }

    def summary(self) -> str:
        """One line: what was read and how many problems."""
        counts = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in self.counts().items())
        return f"{self.source}: {len(self.records)} records, {len(self.data)} values imported" + (
            f"; problems: {counts}" if counts else "; no problems"
        )

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}: {html.escape(self.source)}</h4>"]
        parts.append(f"<p>{html.escape(self.summary())}</p>")
        if self.problems:
            shown = self.report().head(20)
            parts.append(shown.to_html(index=False, na_rep=""))
            if len(self.problems) > 20:
                parts.append(f"<p>… and {len(self.problems) - 20} more problems (see .report()).</p>")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"SourceData({self.summary()})"
