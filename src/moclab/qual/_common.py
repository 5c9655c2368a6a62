"""What the qualitative analyses share: coded spans with their unit of analysis, paragraphs, result helpers.

Every analysis starts from `coded_spans`: one row per (selection, code) of a project, with the unit the
selection belongs to (its case, or its source when the source is in no case), optionally rolled up to parent
codes and restricted to some coders or codes. Positions are Unicode code points, ``end`` exclusive, as in
`moclab.qual.project`.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from moclab.errors import QualError
from moclab.qual.project import Project

SPAN_COLUMNS = ("source", "source_name", "unit", "selection", "start", "end", "code", "coder")
PARAGRAPH_RULES = ("line", "blank")

# A line break in any of the conventions real transcripts use (Windows, old Mac, Unix).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# One or more blank lines (lines holding only spaces or tabs) between two paragraphs.
_BLANK_LINES = re.compile(r"(?:\r\n|\r|\n)(?:[ \t]*(?:\r\n|\r|\n))+")


def unit_of_sources(project: Project, by: str = "case") -> dict[str, str]:
    """Source GUID -> name of the unit of analysis it belongs to.

    ``by="case"``: the first case that contains the source (as `Project.codings_frame` does); a source in no
    case is its own unit, named after the source. ``by="source"``: every source is its own unit.
    """
    if by not in ("case", "source"):
        raise QualError(f"unknown unit '{by}'", hint="use 'case' or 'source'")
    cases = project.case_of_source() if by == "case" else {}
    return {source.guid: cases.get(source.guid, source.name) for source in project.sources}


def unit_order(project: Project, by: str = "case") -> list[str]:
    """The units in project order: cases first (in their order), then sources that are in no case."""
    units = unit_of_sources(project, by)
    ordered: list[str] = []
    if by == "case":
        ordered.extend(
            case.name for case in project.cases if any(units.get(s) == case.name for s in case.sources)
        )
    ordered.extend(name for name in units.values() if name not in ordered)
    return list(dict.fromkeys(ordered))


def code_ancestors(project: Project) -> dict[str, list[str]]:
    """Code GUID -> GUIDs of the code and all its parents (nearest first); a parent cycle is cut."""
    parents = {code.guid: code.parent for code in project.codes}
    chains: dict[str, list[str]] = {}
    for guid in parents:
        chain = [guid]
        current = parents.get(guid)
        while current is not None and current in parents and current not in chain:
            chain.append(current)
            current = parents[current]
        chains[guid] = chain
    return chains


def code_labels(project: Project) -> dict[str, str]:
    """Code GUID -> the label analyses use: its path (``"Parent/Child"``)."""
    return {code.guid: project.code_path(code.guid) for code in project.codes}


def resolve_codes(project: Project, codes: Iterable[str] | None) -> list[str] | None:
    """Code names, paths or GUIDs -> code paths (None stays None: all codes)."""
    if codes is None:
        return None
    return [project.code_path(project.code(name).guid) for name in codes]


def coded_spans(
    project: Project,
    *,
    by: str = "case",
    rollup: bool = False,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per coded selection and code: the input of every analysis.

    Parameters
    ----------
    project : Project
        The qualitative project.
    by : {"case", "source"}
        The unit of analysis a selection is counted for (see `unit_of_sources`).
    rollup : bool
        Count a coding also for every parent code of its code (a coding of ``Affect/Trust`` counts for
        ``Affect`` too). A selection counts once per code even when several of its codings roll up into it.
    coders : sequence of str, optional
        Keep only codings by these users (names as in `Project.users`).
    codes : iterable of str, optional
        Keep only these codes (names, paths or GUIDs; with `rollup`, after rolling up).

    Returns
    -------
    pandas.DataFrame
        Columns `SPAN_COLUMNS`: source (index into ``project.sources``), source_name, unit, selection (GUID),
        start, end, code (path), coder; sorted by source and position. Empty selections (``end <= start``)
        are dropped: they cover no text.
    """
    frame = project.codings_frame()
    if coders is not None:
        known = {user.name for user in project.users}
        unknown = sorted(set(coders) - known)
        if unknown:
            raise QualError(
                f"no coder {', '.join(repr(c) for c in unknown)} in project '{project.name}'",
                hint=f"coders: {', '.join(sorted(known)) or 'none'}",
            )
        frame = frame[frame["coder"].isin(list(coders))]
    frame = frame[frame["end"] > frame["start"]]
    wanted = resolve_codes(project, codes)
    source_index = {source.guid: i for i, source in enumerate(project.sources)}
    units = unit_of_sources(project, by)
    if rollup:
        ancestors = code_ancestors(project)
        frame = frame.assign(code=frame["code"].map(lambda guid: ancestors.get(guid, [guid]))).explode("code")
    labels = code_labels(project)
    spans = pd.DataFrame(
        {
            "source": frame["source"].map(source_index).to_numpy(dtype=np.int64),
            "source_name": frame["source_name"].to_numpy(dtype=object),
            "unit": frame["source"].map(units).to_numpy(dtype=object),
            "selection": frame["selection"].to_numpy(dtype=object),
            "start": frame["start"].to_numpy(dtype=np.int64),
            "end": frame["end"].to_numpy(dtype=np.int64),
            "code": frame["code"].map(lambda guid: labels.get(guid, guid)).to_numpy(dtype=object),
            "coder": frame["coder"].to_numpy(dtype=object),
        }
    )
    spans = spans.drop_duplicates(["selection", "code", "coder"])
    if wanted is not None:
        spans = spans[spans["code"].isin(wanted)]
    return spans.sort_values(["source", "start", "end"], kind="stable").reset_index(drop=True)


def code_order(project: Project, present: Iterable[str], rollup: bool) -> list[str]:
    """Code paths in codebook order: every codable code (and, with `rollup`, every code), then any other
    label found in `present` (codings that point at codes missing from the codebook)."""
    labels = code_labels(project)
    ordered = [labels[code.guid] for code in project.codes if rollup or code.codable]
    ordered.extend(sorted(set(present) - set(ordered)))
    return list(dict.fromkeys(ordered))


def paragraph_spans(text: str, rule: str = "line") -> tuple[np.ndarray, np.ndarray]:
    """Start and end (code points, end exclusive) of every paragraph of a text.

    Rules
    -----
    ``"line"``
        Every line break (``\\n``, ``\\r\\n`` or ``\\r``) ends a paragraph: one paragraph per line, the usual
        shape of a transcript with one speaker turn per line.
    ``"blank"``
        Only blank lines (empty or holding spaces and tabs) end a paragraph; consecutive lines belong to one
        paragraph.

    Paragraphs that hold only white space are dropped. The line breaks themselves belong to no paragraph.
    """
    if rule not in PARAGRAPH_RULES:
        raise QualError(f"unknown paragraph rule '{rule}'", hint="use 'line' or 'blank'")
    separator = _LINE_BREAK if rule == "line" else _BLANK_LINES
    starts = [0]
    ends = []
    for match in separator.finditer(text):
        ends.append(match.start())
        starts.append(match.end())
    ends.append(len(text))
    keep = [i for i, (s, e) in enumerate(zip(starts, ends, strict=True)) if text[s:e].strip()]
    return np.asarray(starts, dtype=np.int64)[keep], np.asarray(ends, dtype=np.int64)[keep]


def project_paragraphs(project: Project, rule: str = "line") -> pd.DataFrame:
    """Every paragraph of every source: columns source (index), paragraph (number within the source), start,
    end; sorted by source and position."""
    parts = []
    for index, source in enumerate(project.sources):
        starts, ends = paragraph_spans(source.text, rule)
        parts.append(
            pd.DataFrame(
                {
                    "source": np.full(len(starts), index, dtype=np.int64),
                    "paragraph": np.arange(1, len(starts) + 1, dtype=np.int64),
                    "start": starts,
                    "end": ends,
                }
            )
        )
    if not parts:
        return pd.DataFrame({"source": [], "paragraph": [], "start": [], "end": []}, dtype=np.int64)
    return pd.concat(parts, ignore_index=True)


def spans_to_paragraphs(
    span_source: np.ndarray,
    span_start: np.ndarray,
    span_end: np.ndarray,
    paragraphs: pd.DataFrame,
    text_lengths: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which paragraphs each span overlaps by at least one code point.

    Returns ``(span_index, paragraph_row)`` pairs (rows of `paragraphs`). Positions are made comparable across
    sources by a key ``source * stride + position`` (stride = longest text + 1), so one `searchsorted` over
    the whole project finds the first and last paragraph of every span at once.
    """
    stride = int(text_lengths.max(initial=0)) + 1
    par_start = paragraphs["source"].to_numpy() * stride + paragraphs["start"].to_numpy()
    par_end = paragraphs["source"].to_numpy() * stride + paragraphs["end"].to_numpy()
    start_key = span_source * stride + span_start
    end_key = span_source * stride + span_end
    first = np.searchsorted(par_end, start_key, side="right")  # first paragraph ending after the span starts
    last = np.searchsorted(par_start, end_key, side="left") - 1  # last paragraph starting before it ends
    counts = np.clip(last - first + 1, 0, None)
    span_index = np.repeat(np.arange(len(span_start)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return span_index, np.repeat(first, counts) + offsets


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    """`value` if it is one of `choices`, else a QualError naming them."""
    if value not in choices:
        raise QualError(f"unknown {what} '{value}'", hint=f"use one of: {', '.join(choices)}")
    return value


def frame_html(title: str, frame: pd.DataFrame, notes: Sequence[str] = (), max_rows: int = 30) -> str:
    """A short HTML rendering of a result for notebooks: a bold title, the first rows, the warnings."""
    body = frame.head(max_rows).to_html(float_format=lambda v: f"{v:.4g}", na_rep="", border=0)
    more = f"<p>… {len(frame) - max_rows} more rows</p>" if len(frame) > max_rows else ""
    items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    return (
        f"<div><strong>{html.escape(title)}</strong>{body}{more}"
        + (f"<ul>{items}</ul>" if items else "")
        + "</div>"
    )


# ----- what the summaries of the qualitative results share -----------------------------------------

#: Rows a summary shows before it says how many more there are.
SUMMARY_ROWS = 30


def short_code_names(codes: list[str]) -> dict[str, str]:
    """Code path → its last part (``Trust`` for ``Affective response/Trust``) unless two would read alike."""
    last = {code: str(code).rsplit("/", 1)[-1] for code in codes}
    return last if len(set(last.values())) == len(last) else {code: str(code) for code in codes}


def number_text(value: float | None, digits: int = 3) -> str:
    """A statistic for a heading or repr: rounded to `digits` decimals; missing or not finite as "NaN"."""
    return "NaN" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def joined_names(names: Sequence[str]) -> str:
    """Names for a sentence: "A", "A and B", "A, B and C"."""
    names = [str(name) for name in names]
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def summary_report(heading: str, table: pd.DataFrame, warnings: Sequence[str] = (), digits: int = 3) -> str:
    """A result's readable text: the heading, the table rounded to `digits` decimals (its first
    `SUMMARY_ROWS` rows, then how many more there are) and the warnings last."""
    lines = [heading]
    if len(table):
        lines.append(table.head(SUMMARY_ROWS).round(digits).to_string(na_rep="NaN"))
    if len(table) > SUMMARY_ROWS:
        lines.append(f"... {len(table) - SUMMARY_ROWS} more")
    lines.extend(f"warning: {warning}" for warning in warnings)
    return "\n".join(lines)
