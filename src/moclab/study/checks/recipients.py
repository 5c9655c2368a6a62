"""The recipients table against the design: unique ids, teams inside one cluster, and whole clusters (or
teams) in one arm when they were randomized, likewise for factors that target a mechanism."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moclab.errors import did_you_mean
from moclab.study.checks.column_rules import prepare
from moclab.study.rows import MAX_LISTED, quoted, row_problem
from moclab.study.tables import TableSource

if TYPE_CHECKING:
    from moclab.study.checks.checker import StudyChecker


def check_recipients(checker: StudyChecker) -> None:
    """Unique ids, and one arm per randomized cluster or team."""
    frame = prepare(checker, "recipients")
    checker.tables["recipients"] = frame
    if frame is None:
        return
    config = checker.config
    assert config is not None
    source = checker.sources["recipients"]
    spec = config.tables.recipients
    ids = frame[spec.id]
    duplicated = (ids.notna() & ids.duplicated(keep="first")).to_numpy()
    if duplicated.any():
        positions = np.flatnonzero(duplicated)
        first = _first_positions(ids)
        details = [
            f"{ids.iloc[p]!r} (first on {source.where(first[ids.iloc[p]] + 1)})"
            for p in positions[:MAX_LISTED]
        ]
        checker.report(
            row_problem(
                source,
                positions,
                f"duplicate {config.design.unit} id",
                column=spec.id,
                details=details,
                hint=f"each {config.design.unit} has exactly one row; remove the repeated row or give it "
                "its own id",
            )
        )
    valid = frame[ids.notna().to_numpy() & ~duplicated]
    checker.recipient_ids = pd.Index(valid[spec.id])
    if spec.cluster in frame.columns:
        checker.cluster_of = pd.Series(valid[spec.cluster].to_numpy(), index=checker.recipient_ids)
    if spec.team and spec.team in frame.columns:
        checker.team_ids = pd.Index(valid[spec.team].dropna().unique())
        if spec.cluster in frame.columns:
            _check_teams(checker, frame, source)
    level = config.design.randomization.level
    _check_randomized_groups(checker, frame, source, level, spec.arm, "arm")
    for index in range(len(config.design.manipulations)):
        _check_manipulation(checker, frame, source, index)


def _check_manipulation(checker: StudyChecker, frame: pd.DataFrame, source: TableSource, index: int) -> None:
    """A factor that targets a mechanism: its control value occurs, and whole groups share a value."""
    config = checker.config
    assert config is not None
    manipulation = config.design.manipulations[index]
    column = manipulation.column
    if column not in frame.columns:
        return  # reported as a missing column of the recipients table
    values = sorted({str(value) for value in frame[column].dropna()})
    if manipulation.control not in values or len(values) < 2:
        checker.error(
            f"design.manipulations: column '{column}' has the values {', '.join(values) or 'none'}; "
            f"its control value '{manipulation.control}' and at least one other value are needed",
            hint=(did_you_mean(manipulation.control, values) or "use one of: " + ", ".join(values))
            if values
            else None,
            **checker.at("design", "manipulations", index, "control"),
        )
    _check_randomized_groups(checker, frame, source, manipulation.level, column, "assignment")


def _check_teams(checker: StudyChecker, frame: pd.DataFrame, source: TableSource) -> None:
    config = checker.config
    assert config is not None
    spec = config.tables.recipients
    pairs = frame[[spec.team, spec.cluster]].dropna().drop_duplicates()
    shared = pairs[pairs[spec.team].duplicated(keep=False)]
    for team in pd.unique(shared[spec.team])[:MAX_LISTED]:
        clusters = sorted(shared.loc[shared[spec.team] == team, spec.cluster])
        positions = np.flatnonzero((frame[spec.team] == team).to_numpy())
        checker.report(
            row_problem(
                source,
                positions,
                f"{config.design.team or 'team'} '{team}' appears in several {config.design.cluster}s "
                f"({', '.join(clusters)}), so moclab counts it as one {config.design.team or 'team'}",
                column=spec.team,
                hint=f"give teams ids that are unique across the study, e.g. {clusters[0]}-{team}",
                severity="warning",
            )
        )


def _check_randomized_groups(
    checker: StudyChecker, frame: pd.DataFrame, source: TableSource, level: str, column: str | None, what: str
) -> None:
    """When whole clusters (or teams) were randomized, all their recipients must share one value of the
    assignment column (the arm, or a factor that targets a mechanism)."""
    config = checker.config
    assert config is not None
    design, spec = config.design, config.tables.recipients
    group = {design.cluster: spec.cluster, design.team: spec.team}.get(level) if level != "none" else None
    if group is None or column is None or group not in frame.columns or column not in frame.columns:
        return
    assigned = frame[[group, column]].dropna()
    values_per_group = assigned.groupby(group, observed=True)[column].nunique()
    for name in values_per_group[values_per_group > 1].index:
        rows = assigned[assigned[group] == name]
        counts = rows[column].astype(str).value_counts()
        majority = counts.index[0]
        positions = np.flatnonzero(
            ((frame[group] == name) & (frame[column].astype(str) != majority)).to_numpy()
        )
        checker.report(
            row_problem(
                source,
                positions,
                f"{level} '{name}' was randomized as a whole, but its {design.unit}s are in different "
                f"{what}s of '{column}' ({counts[majority]} in '{majority}')",
                column=column,
                details=quoted(frame[column].astype(str).iloc[positions[:MAX_LISTED]].tolist()),
                hint=f"give every {design.unit} of a {level} the {level}'s {what}, or change the level "
                "it was randomized at",
            )
        )


def _first_positions(values: pd.Series) -> dict[Any, int]:
    """Each value's first 0-based position."""
    firsts = values.dropna().drop_duplicates(keep="first")
    return dict(zip(firsts.to_numpy(), firsts.index, strict=True))
