"""The checks of moclab.yaml that need more than its schema: rules across its values (wave order,
randomization, ranges, files that must exist) and its references to the pathway model's nodes."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from moclab.errors import did_you_mean
from moclab.study.config import StudyConfig
from moclab.study.measure_items import InstrumentPlan
from moclab.study.qualitative_settings import check_qualitative

if TYPE_CHECKING:
    from moclab.study.checks.checker import StudyChecker


def check_config(checker: StudyChecker) -> None:
    """Rules across config values: wave order, randomization, ranges, files that must exist."""
    config = checker.config
    assert config is not None
    design = config.design
    seen: dict[str, int] = {}
    for index, wave in enumerate(design.waves):
        if wave.id in seen:
            checker.error(
                f"wave id '{wave.id}' is used twice (waves {seen[wave.id] + 1} and {index + 1})",
                hint="give every wave its own id",
                **checker.at("design", "waves", index, "id"),
            )
        seen.setdefault(wave.id, index)
    for kind in ("date", "month"):
        timed = [(index, wave) for index, wave in enumerate(design.waves) if getattr(wave, kind) is not None]
        for (_, before), (index, after) in itertools.pairwise(timed):
            if getattr(after, kind) <= getattr(before, kind):
                checker.error(
                    f"waves are not in time order: '{after.id}' ({kind} {getattr(after, kind)}) is "
                    f"listed after '{before.id}' ({kind} {getattr(before, kind)})",
                    hint="list the waves from first to last, each later than the one before, or fix the "
                    f"{kind}",
                    **checker.at("design", "waves", index, kind),
                )
    levels = level_names(config)
    with_none = ["none", *levels]
    randomization = design.randomization
    if randomization.level not in with_none:
        checker.error(
            f"design.randomization.level '{randomization.level}' is not a level of this study",
            hint=did_you_mean(randomization.level, with_none) or "use one of: " + ", ".join(with_none),
            **checker.at("design", "randomization", "level"),
        )
    if randomization.level != "none" and config.tables.recipients.arm is None:
        checker.error(
            f"the study is randomized by {randomization.level} but no arm column is named",
            hint="add `arm: <column>` under tables.recipients, naming the column that holds each arm",
            **checker.at("design", "randomization", "level"),
        )
    if (
        randomization.control is not None
        and randomization.arms
        and (randomization.control not in randomization.arms)
    ):
        checker.error(
            f"the control arm '{randomization.control}' is not one of the arms "
            f"({', '.join(randomization.arms)})",
            hint=did_you_mean(randomization.control, randomization.arms)
            or "use one of: " + ", ".join(randomization.arms),
            **checker.at("design", "randomization", "control"),
        )
    if randomization.arms and randomization.control is None:
        checker.error(
            f"design.randomization lists the arms {', '.join(randomization.arms)} but no control arm, so "
            "moclab cannot tell which arm is the comparison",
            hint="add `control: <arm>` under design.randomization (also in an observational study: it "
            "fixes the coding, 1 = the other arm(s), 0 = the control)",
            **checker.at("design", "randomization"),
        )
    for index, manipulation in enumerate(design.manipulations):
        if manipulation.level not in with_none:
            checker.error(
                f"design.manipulations: level '{manipulation.level}' is not a level of this study",
                hint=did_you_mean(manipulation.level, with_none) or "use one of: " + ", ".join(with_none),
                **checker.at("design", "manipulations", index, "level"),
            )
    for name, spec in config.measures.items():
        if spec.range is not None and spec.range[0] >= spec.range[1]:
            checker.error(
                f"measure '{name}': range [{spec.range[0]:g}, {spec.range[1]:g}] is empty",
                hint="write the range as [min, max], min below max",
                **checker.at("measures", name, "range"),
            )
    outcomes = config.tables.outcomes
    if outcomes is not None and outcomes.level is not None and outcomes.level not in levels:
        checker.error(
            f"tables.outcomes.level '{outcomes.level}' is not a level of this study",
            hint=did_you_mean(outcomes.level, levels) or "use one of: " + ", ".join(levels),
            **checker.at("tables", "outcomes", "level"),
        )
    activities = config.tables.activities
    if activities is not None and activities.cluster is None and activities.recipient is None:
        checker.error(
            "tables.activities names neither a cluster nor a recipient column, so a contact cannot be "
            "tied to anyone",
            hint=f"add `cluster: {design.cluster}` (the column with the {design.cluster} id) and/or "
            "`recipient: recipient_id`",
            **checker.at("tables", "activities"),
        )
    for table_name, table in config.tables.items():
        for column, spec in table.columns.items():
            loc = ("tables", table_name, "columns", column)
            if spec.min is not None and spec.max is not None and spec.min > spec.max:
                checker.error(
                    f"column '{column}': min {spec.min:g} is above max {spec.max:g}", **checker.at(*loc)
                )
            if spec.values and any(isinstance(value, bool) for value in spec.values):
                checker.error(
                    f"column '{column}': YAML read some allowed values as true/false",
                    hint="put yes, no, on, off, true and false in quotes ('yes') when they are category "
                    "values",
                    **checker.at(*loc, "values"),
                )
    if config.model is not None and not checker.has_model_file():
        checker.error(
            f"the pathway model file '{config.model}' was not found",
            hint="check the name, or remove `model:` if the study has no model yet",
            **checker.at("model"),
        )
    for index, framework in enumerate(config.frameworks):
        if not checker.resolve(framework).exists():
            checker.error(f"framework file '{framework}' was not found", **checker.at("frameworks", index))
    checker.plan = InstrumentPlan.build(config, checker.folder, checker.at)
    checker.problems.extend(checker.plan.problems)


def level_names(config: StudyConfig) -> list[str]:
    """The study's levels that have a name: the unit, the cluster and (when there is one) the team."""
    design = config.design
    return [name for name in (design.unit, design.cluster, design.team) if name]


def check_node_references(checker: StudyChecker) -> None:
    """Every explicit `node:` of a measure or column must be a node of the model."""
    config = checker.config
    assert config is not None
    if checker.model_nodes is None:
        return
    references = [(("measures", name, "node"), spec.node) for name, spec in config.measures.items()]
    references += [
        (("design", "manipulations", index, "mechanism"), manipulation.mechanism)
        for index, manipulation in enumerate(config.design.manipulations)
    ]
    for table_name, table in config.tables.items():
        for column, spec in table.columns.items():
            references.append((("tables", table_name, "columns", column, "node"), spec.node))
    for loc, node in references:
        if node is not None and node not in checker.model_nodes:
            checker.error(
                f"'{node}' is not a node of the pathway model ({config.model})",
                hint=did_you_mean(node, checker.model_nodes)
                or "use one of: " + ", ".join(checker.model_nodes),
                **checker.at(*loc),
            )


def check_qualitative_section(checker: StudyChecker) -> None:
    """The `qualitative:` section: the project file is there and readable, its nodes are the model's."""
    config = checker.config
    assert config is not None
    if config.qualitative is not None:
        checker.problems.extend(
            check_qualitative(config.qualitative, checker.folder, checker.at, checker.model_nodes)
        )
