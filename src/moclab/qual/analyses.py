"""Run every analysis of a coded project at once and write the results to a folder (`moclab qual analyze`).

Written files (each skipped with a note when it does not apply):

| file | what |
|---|---|
| ``profiles.html``, ``profiles.md`` | episode profiles of every interview and the aggregate |
| ``pathway.svg``, ``pathway.png``, ``pathway.dot`` | the experience-pathway figure |
| ``pathway_edges.csv``, ``sequences.csv`` | its edges (weight = interviews), each interview's stage order |
| ``matrix_counts.csv``, ``matrix_coverage_percent.csv`` | the code × case matrix |
| ``cooccurrence_overlap.csv``, ``cooccurrence_paragraph.csv`` | co-occurring code pairs |
| ``prevalence.csv`` | codes by a case attribute, with exact tests (needs the attribute) |
| ``agreement.csv`` | inter-coder agreement per code (needs two or more coders) |

A folder is written only if it is new, empty, or an earlier moclab output (it holds the marker file
``.moclab-output`` every moclab command leaves, or ``.moclab-qual-analyze`` of earlier versions), so nothing
else a user keeps there is ever overwritten. `moclab qual analyze` adds the rules of docs/cli.md: an earlier
output is replaced only with ``--force``, and every file lands through a staging folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from moclab.errors import MoclabError, QualError, display_path
from moclab.outputs import mark_folder, marked_by
from moclab.qual.project import Project


@dataclass
class AnalysisRun:
    """What `analyze_project` wrote and what it skipped (with the reason)."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _prepare(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise QualError(
            f"{display_path(folder)} is a file, not a folder", hint="give a folder for the results"
        )
    marked = marked_by(folder) is not None
    if folder.is_dir() and any(folder.iterdir()) and not marked:
        raise QualError(
            f"{display_path(folder)} holds other files; moclab does not write into it",
            hint="give a new or empty folder (an earlier moclab output is fine)",
        )
    if not marked:  # a marked folder exists already
        mark_folder(folder, "qual analyze")


def analyze_project(
    project: Project,
    folder: str | Path,
    *,
    coders: Sequence[str] | None = None,
    attribute: str | None = None,
    unit: str = "paragraph",
    paragraphs: str = "line",
    precedes: str = "immediate",
    position: str = "first",
) -> AnalysisRun:
    """Write profiles, the pathway figure, matrix, co-occurrence, prevalence and agreement tables to `folder`.

    Parameters
    ----------
    project : Project
        The coded interviews.
    folder : str or Path
        New, empty, or an earlier output of this function.
    coders : sequence of str, optional
        Coders whose codings the profiles, pathway, matrix, co-occurrence and prevalence use (agreement always
        compares all coders, or these when two or more are given).
    attribute : str, optional
        Case attribute for the prevalence table; by default ``engagement`` when the cases have it.
    unit, paragraphs : str
        Agreement units (``paragraph`` or ``segment``) and the paragraph rule (``line`` or ``blank``).
    precedes, position : str
        How the pathway orders stages (see `moclab.qual.pathway`).
    """
    from moclab.qual.agreement import coder_agreement
    from moclab.qual.cooccurrence import code_cooccurrence
    from moclab.qual.matrix import code_case_matrix
    from moclab.qual.pathway import experience_pathway
    from moclab.qual.prevalence import prevalence_by_attribute
    from moclab.qual.profiles import episode_profiles

    folder = Path(folder)
    _prepare(folder)
    run = AnalysisRun(folder)

    def csv(frame: pd.DataFrame, name: str, index: bool = False) -> None:
        path = folder / name
        frame.to_csv(path, index=index)
        run.written.append(path)

    matrix = code_case_matrix(project, coders=coders)
    csv(matrix.counts, "matrix_counts.csv", index=True)
    csv(matrix.coverage_percent.round(2), "matrix_coverage_percent.csv", index=True)
    for method in ("overlap", "paragraph"):
        csv(code_cooccurrence(project, method=method, paragraphs=paragraphs, coders=coders).to_frame(),
            f"cooccurrence_{method}.csv")  # fmt: skip
    if attribute is None:
        found = {name for case in project.cases for name in case.variables}
        attribute = "engagement" if "engagement" in found else None
    try:
        profiles = episode_profiles(project, coders=coders)
        run.written.extend(profiles.write(folder, attribute))
        pathway = experience_pathway(project, precedes=precedes, position=position, coders=coders)
        for suffix in (".svg", ".png", ".dot"):
            run.written.append(pathway.draw(folder / f"pathway{suffix}"))
        csv(pathway.to_frame(), "pathway_edges.csv")
        csv(pathway.sequence_table(), "sequences.csv")
    except QualError as error:
        run.notes.append(f"profiles and pathway skipped: {error}")
    if attribute is not None:
        try:
            prevalence = prevalence_by_attribute(project, attribute, coders=coders)
            csv(prevalence.table, "prevalence.csv")
            run.notes.extend(f"prevalence: {warning}" for warning in prevalence.warnings)
        except QualError as error:
            run.notes.append(f"prevalence skipped: {error}")
    else:
        run.notes.append(
            "prevalence skipped: no case attribute given (--attribute) and none called 'engagement'"
        )
    try:
        agreement = coder_agreement(
            project, coders=coders if coders and len(coders) >= 2 else None, unit=unit, paragraphs=paragraphs
        )
        csv(agreement.table.round(4), "agreement.csv", index=True)
        run.notes.extend(f"agreement: {warning}" for warning in agreement.warnings)
    except MoclabError as error:
        run.notes.append(f"agreement skipped: {error}")
    return run
