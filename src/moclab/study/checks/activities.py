"""The activities table: support contacts with known clusters and recipients, each recipient in their own
cluster, and components written as catalog references that name a catalog entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from moclab.errors import MoclabError
from moclab.study.checks.column_rules import prepare
from moclab.study.rows import MAX_LISTED, quoted, row_problem
from moclab.study.tables import TableSource

if TYPE_CHECKING:
    from moclab.study.checks.checker import StudyChecker


def check_activities(checker: StudyChecker) -> None:
    """Support contacts: for known clusters and recipients, and a recipient's own cluster."""
    frame = prepare(checker, "activities")
    checker.tables["activities"] = frame
    if frame is None or frame.empty:
        return
    config = checker.config
    assert config is not None
    source = checker.sources["activities"]
    spec = config.tables.activities
    assert spec is not None
    design = config.design
    recipients = checker.sources.get("recipients")
    where = recipients.shown if recipients else config.tables.recipients.path
    cluster = spec.cluster if spec.cluster in frame.columns else None
    recipient = spec.recipient if spec.recipient in frame.columns else None
    checks = [
        (cluster, checker.units(design.cluster), design.cluster),
        (recipient, checker.recipient_ids, design.unit),
    ]
    for column, known, word in checks:
        if column is None or known is None:
            continue
        orphan = (frame[column].notna() & ~frame[column].isin(known)).to_numpy()
        if orphan.any():
            positions = np.flatnonzero(orphan)
            checker.report(
                row_problem(
                    source,
                    positions,
                    f"no such {word} in {where}",
                    column=column,
                    details=quoted(frame[column].iloc[positions[:MAX_LISTED]].tolist()),
                    hint=f"correct the id, or add the {word} to {where}",
                )
            )
    _check_components(checker, frame, source, spec.component)
    if cluster and recipient:
        neither = (frame[cluster].isna() & frame[recipient].isna()).to_numpy()
        if neither.any():
            checker.report(
                row_problem(
                    source,
                    np.flatnonzero(neither),
                    f"neither a {design.cluster} nor a {design.unit} is given",
                    column=cluster,
                    hint="say who the contact was with",
                )
            )
        if checker.cluster_of is not None:
            home = frame[recipient].map(checker.cluster_of)
            mismatch = (frame[cluster].notna() & home.notna() & (home != frame[cluster])).to_numpy()
            if mismatch.any():
                positions = np.flatnonzero(mismatch)
                details = [
                    f"{frame[recipient].iloc[p]!r} belongs to {home.iloc[p]!r}, "
                    f"not {frame[cluster].iloc[p]!r}"
                    for p in positions[:MAX_LISTED]
                ]
                checker.report(
                    row_problem(
                        source,
                        positions,
                        f"the {design.unit} is not in this {design.cluster}",
                        column=recipient,
                        details=details,
                        hint=f"correct the {design.cluster} or the {design.unit} id",
                    )
                )


def _check_components(checker: StudyChecker, frame: pd.DataFrame, source: TableSource, column: str) -> None:
    """Components written as catalog references (framework:entry) must name a catalog entry."""
    if column not in frame.columns:
        return
    components = frame[column]
    references = [value for value in pd.unique(components.dropna()) if ":" in value]
    if not references:
        return
    catalog = checker.catalog()
    unknown = [reference for reference in references if catalog.resolve(reference) is None]
    for reference in unknown[:MAX_LISTED]:
        try:
            catalog.get(reference)
            hint = None
        except MoclabError as exc:  # the catalog says why: unknown, ambiguous, with "did you mean"
            hint = exc.hint
        checker.report(
            row_problem(
                source,
                np.flatnonzero((components == reference).to_numpy()),
                f"'{reference}' looks like a catalog reference but names no single catalog entry",
                column=column,
                hint=hint or "see `moclab catalog search TEXT`, or write the component as plain text",
                severity="warning",
            )
        )
