"""What the study declares against what it has: declared measures without values in the data, and model
nodes that no measure or column stands for (warnings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from moclab.errors import did_you_mean

if TYPE_CHECKING:
    from moclab.study.checks.checker import StudyChecker


def check_declarations(checker: StudyChecker) -> None:
    """Declared measures without data, and model nodes that no measure or column stands for."""
    config = checker.config
    assert config is not None
    present: set[str] = set()
    written: set[str] = set()  # the names as the data write them, for "did you mean"
    all_filled = True
    for name in ("measures", "outcomes"):
        frame = checker.tables.get(name)
        spec = getattr(config.tables, name)
        if spec is None:
            continue
        if frame is not None and spec.measure in frame.columns and not frame.empty:
            written.update(frame[spec.measure].dropna().unique())
            present.update(written)
            if name == "measures" and checker.plan is not None:
                present.update(checker.plan.field_owner[f][0] for f in present & checker.item_fields)
        else:
            all_filled = False
    # A table that could not be read is reported already, and a header-only one warned about ("no data rows
    # yet"): its measures are not missing, they are not collected yet.
    if all_filled:
        undeclared = sorted(written - set(config.measures) - checker.item_fields)
        for measure in config.measures:
            if measure not in present:
                checker.warn(
                    f"measure '{measure}' is declared but has no values in the data",
                    hint=did_you_mean(
                        measure,
                        undeclared,
                        advice="correct the measure's name in the data or here, collect it, or remove the "
                        "declaration",
                    ),
                    **checker.at("measures", measure),
                )
    if checker.model_nodes is None:
        return
    covered = {config.node_of(measure) for measure in config.measures} | present
    if checker.plan is not None:
        covered |= set(checker.plan.score_owner)
    for _, table in config.tables.items():
        covered |= {spec.node for spec in table.columns.values() if spec.node}
    uncovered = [node for node in checker.model_nodes if node not in covered]
    if uncovered:
        checker.warn(
            "model nodes with no measure or column: " + ", ".join(uncovered) + "; fine for the model, but "
            "the analysis cannot test them",
            hint="declare a measure with `node: <id>` under measures:, or mark a column of the "
            "recipients table with `node: <id>` under columns:",
            **checker.at("model"),
        )
