"""The code × case matrix: how often each code was applied in each interview, and how much text it covers.

`code_case_matrix` counts coded selections per code and unit of analysis (a case, or a source in no case),
marks presence, and measures coverage: the number of code points of the unit's text that the code covers
(overlapping selections of one code are counted once) and that number as a percentage of the unit's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from moclab.plain import plain
from moclab.qual._common import (
    check_choice,
    code_order,
    coded_spans,
    frame_html,
    resolve_codes,
    unit_of_sources,
    unit_order,
)
from moclab.qual.project import Project


@dataclass(frozen=True, repr=False)
class CodeCaseMatrix:
    """Counts, presence and coverage of every code (rows, code paths) in every unit (columns).

    Attributes
    ----------
    counts : pandas.DataFrame
        Number of coded selections (a selection counts once per code).
    presence : pandas.DataFrame
        1 where the code was applied in the unit at least once, else 0.
    coverage_chars : pandas.DataFrame
        Code points of the unit's text covered by the code (the union of its selections).
    coverage_percent : pandas.DataFrame
        ``coverage_chars`` as a percentage of the length of the unit's text (all its sources).
    text_length : pandas.Series
        Length of each unit's text in code points.
    info : dict
        How the matrix was made: unit (``case``/``source``), rollup, coders.
    """

    counts: pd.DataFrame
    presence: pd.DataFrame
    coverage_chars: pd.DataFrame
    coverage_percent: pd.DataFrame
    text_length: pd.Series
    info: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per code and unit with count, present, coverage_chars, coverage_percent."""
        stacked = {
            "count": self.counts.stack(),
            "present": self.presence.stack(),
            "coverage_chars": self.coverage_chars.stack(),
            "coverage_percent": self.coverage_percent.stack(),
        }
        frame = pd.DataFrame(stacked)
        frame.index.names = ["code", "unit"]
        return frame.reset_index()

    def by_code(self) -> pd.DataFrame:
        """Per code: units where present, total selections, mean coverage percent across units."""
        return pd.DataFrame(
            {
                "units": self.presence.sum(axis=1),
                "selections": self.counts.sum(axis=1),
                "mean_coverage_percent": self.coverage_percent.mean(axis=1),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "info": self.info,
                "codes": list(self.counts.index),
                "units": list(self.counts.columns),
                "counts": self.counts.to_numpy(),
                "coverage_chars": self.coverage_chars.to_numpy(),
                "coverage_percent": self.coverage_percent.to_numpy(),
                "text_length": self.text_length.to_numpy(),
            }
        )

    def summary(self) -> str:
        """Readable report: the matrix's shape, then per code its units, selections and mean coverage."""
        unit = self.info.get("unit", "case")
        head = f"Code × {unit} matrix: {self.counts.shape[0]} codes, {self.counts.shape[1]} {unit}s"
        return f"{head}\n{self.by_code().round(1).to_string()}"

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        unit = self.info.get("unit", "case")
        return f"CodeCaseMatrix({self.counts.shape[0]} codes × {self.counts.shape[1]} {unit}s)"

    def _repr_html_(self) -> str:
        return frame_html(f"Code × {self.info.get('unit', 'case')} matrix (counts)", self.counts)


def _union_length(spans: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Code points covered by the union of the spans of each group (overlaps counted once).

    Within a group sorted by start, a span adds only the part beyond the furthest end reached by the spans
    before it: ``max(0, end - max(start, reach))``, where reach is the running maximum of earlier ends.
    """
    if spans.empty:
        return pd.Series([], index=pd.MultiIndex.from_arrays([[]] * len(keys), names=keys), dtype=np.int64)
    ordered = spans.sort_values([*keys, "start", "end"], kind="stable")
    group = ordered.groupby(keys, sort=False).ngroup().to_numpy()
    reach = ordered.groupby(keys, sort=False)["end"].cummax().to_numpy()
    previous_reach = np.r_[-1, reach[:-1]]
    previous_reach[np.r_[True, group[1:] != group[:-1]]] = -1  # the first span of a group starts afresh
    start = np.maximum(ordered["start"].to_numpy(), previous_reach)
    added = np.clip(ordered["end"].to_numpy() - start, 0, None)
    return pd.Series(added, index=pd.MultiIndex.from_frame(ordered[keys])).groupby(level=keys).sum()


def code_case_matrix(
    project: Project,
    *,
    by: str = "case",
    rollup: bool = False,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
) -> CodeCaseMatrix:
    """Count, presence and coverage of every code in every case (or source).

    Parameters
    ----------
    project : Project
        The qualitative project.
    by : {"case", "source"}
        Columns are cases (a source in no case is its own column, named after the source) or sources.
    rollup : bool
        Count codings of a code also for all its parent codes (a selection counts once per code).
    coders : sequence of str, optional
        Use only the codings of these coders (user names). By default every coding counts, so with two coders
        a passage both coded counts twice.
    codes : iterable of str, optional
        Restrict the rows to these codes (names, paths or GUIDs).

    Returns
    -------
    CodeCaseMatrix
        Rows are code paths in codebook order (every codable code, also those never applied; with `rollup`
        every code), columns units in project order.

    Examples
    --------
    >>> from moclab.qual.project import Code, Coding, Project, Selection, TextSource
    >>> source = TextSource("s1", "Interview 1", "I trust them.",
    ...                     selections=[Selection("x", 2, 12, codings=[Coding("c1", "k1")])])
    >>> matrix = code_case_matrix(Project("p", codes=[Code("k1", "Trust")], sources=[source]))
    >>> int(matrix.counts.loc["Trust", "Interview 1"]), round(float(matrix.coverage_percent.iloc[0, 0]), 2)
    (1, 76.92)
    """
    check_choice(by, ("case", "source"), "unit")
    spans = coded_spans(project, by=by, rollup=rollup, coders=coders, codes=codes)
    units = unit_order(project, by)
    source_units = unit_of_sources(project, by)
    text_length = pd.Series(0, index=pd.Index(units, name="unit"), dtype=np.int64)
    for source in project.sources:
        text_length[source_units[source.guid]] += len(source.text)
    if codes is None:
        rows = code_order(project, spans["code"], rollup)
    else:
        rows = list(dict.fromkeys(resolve_codes(project, codes) or []))
    index = pd.Index(rows, name="code")
    columns = pd.Index(units, name="unit")
    counts = (
        spans.groupby(["code", "unit"]).size().unstack("unit").reindex(index=index, columns=columns).fillna(0)
    ).astype(np.int64)
    # coverage: the union per code and source (selections never cross sources), summed over the unit's sources
    per_source = _union_length(spans, ["code", "source"]).rename("chars").reset_index()
    per_source["unit"] = per_source["source"].map(
        {i: source_units[source.guid] for i, source in enumerate(project.sources)}
    )
    chars = (
        per_source.groupby(["code", "unit"])["chars"]
        .sum()
        .unstack("unit")
        .reindex(index=index, columns=columns)
        .fillna(0)
        .astype(np.int64)
    )
    lengths = text_length.reindex(columns).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(lengths > 0, chars.to_numpy() / lengths * 100.0, np.nan)
    return CodeCaseMatrix(
        counts=counts,
        presence=(counts > 0).astype(np.int64),
        coverage_chars=chars,
        coverage_percent=pd.DataFrame(percent, index=index, columns=columns),
        text_length=text_length,
        info={"unit": by, "rollup": rollup, "coders": list(coders) if coders is not None else None},
    )
