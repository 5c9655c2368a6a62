"""The columns of each table: which it must or may have (`column_rules`), and their check and conversion
to their declared types (`prepare`): missing columns, values that are not of the type or not allowed, empty
key cells, values outside a declared range."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moclab.errors import did_you_mean
from moclab.study.columns import Converted, convert, text_of, to_number, to_text
from moclab.study.config import ColumnSpec, StudyConfig
from moclab.study.rows import MAX_LISTED, quoted, row_problem
from moclab.study.tables import TableSource

if TYPE_CHECKING:
    from moclab.study.checks.checker import StudyChecker

# What each role column of a table is, for messages ("the recipient id column 'recipient_id' is missing").
ROLE_WORDS = {
    "team": "team",
    "arm": "arm",
    "wave": "wave",
    "measure": "measure name",
    "value": "value",
    "date": "date",
    "component": "support component",
    "minutes": "minutes",
    "mode": "mode",
    "manipulation": "manipulation",
}

_TYPE_PROBLEMS = {
    "number": ("not a number", "write numbers with a dot for decimals and nothing else in the cell; leave "
               "the cell empty (or NA) when there is no value"),
    "integer": ("not a whole number", "write whole numbers (3, not 3.5 or 'three')"),
    "date": ("not a date", "write dates as YYYY-MM-DD (e.g. 2024-01-15), or give the column a date_format "
             "in moclab.yaml"),
    "boolean": ("not true or false", "write true/false, yes/no or 1/0"),
}  # fmt: skip


@dataclass(frozen=True)
class ColumnRule:
    """One column a table must have or may have: its name in the file, its type and constraints.

    `role` is the column's job (id, wave, value, ...) or None for a column declared under `columns:`; `key`
    columns may not have empty cells; `config_loc` is where moclab.yaml names the column.
    """

    name: str
    spec: ColumnSpec
    role: str | None
    key: bool
    config_loc: tuple[Any, ...]
    required: bool = True
    bad_message: str | None = None
    bad_hint: str | None = None


def column_rules(config: StudyConfig, name: str) -> list[ColumnRule]:
    """The columns a table must or may have, from its role keys and its `columns:` declarations."""
    table = getattr(config.tables, name)
    waves = config.design.wave_ids
    wave_hint = "declared waves: " + ", ".join(waves) + " (design.waves in moclab.yaml)"
    text, number, date = ColumnSpec(type="string"), ColumnSpec(type="number"), ColumnSpec(type="date")
    wave = ColumnSpec(type="category", values=waves)
    roles: list[tuple[str, str | None, ColumnSpec, bool]]  # role, column, spec, key
    if name == "recipients":
        randomized = config.design.randomization.level != "none"
        arms = config.design.randomization.arms or None
        roles = [
            ("id", table.id, text, True),
            ("cluster", table.cluster, text, True),
            ("team", table.team, text, True),
            ("arm", table.arm, ColumnSpec(type="category", values=arms), randomized),
        ]

    elif name == "activities":
        roles = [
            ("date", table.date, date, True),
            ("cluster", table.cluster, text, table.recipient is None),
            ("recipient", table.recipient, text, table.cluster is None),
            ("component", table.component, text, True),
            ("minutes", table.minutes, ColumnSpec(type="number", min=0), False),
            ("mode", table.mode, text, False),
        ]
    else:  # measures and outcomes share the long layout
        unit = ("recipient", table.recipient) if name == "measures" else ("id", table.id)
        roles = [
            (unit[0], unit[1], text, True),
            ("wave", table.wave, wave, True),
            ("measure", table.measure, text, True),
            ("value", table.value, number, False),
            ("date", table.date, date, False),
        ]
    result = []
    for role, column, implied, key in roles:
        if column is None:
            continue
        declared = table.columns.get(column)
        spec = implied
        if declared is not None:  # the role fixes the type; the declaration adds values, range, node
            update = {k: v for k, v in declared.model_dump().items() if k != "type" and v is not None}
            if implied.values is not None:
                update.pop("values", None)
            spec = implied.model_copy(update=update)
        messages = {"bad_message": "wave not declared", "bad_hint": wave_hint} if role == "wave" else {}
        if role == "cluster" and name == "recipients" and spec.values is not None:
            # The declared sites: a site code written wrong would otherwise make a new site of one recipient.
            cluster = config.design.cluster
            messages = {
                "bad_message": f"{cluster} not declared",
                "bad_hint": f"correct the {cluster}, or add it to the values of tables.recipients.columns."
                f"{column} in moclab.yaml (declared: {', '.join(str(v) for v in spec.values)})",
            }
        result.append(ColumnRule(column, spec, role, key, ("tables", name, role), **messages))
    if name == "recipients":  # the assignment columns of the factors that target mechanisms
        for index, manipulation in enumerate(config.design.manipulations):
            declared = table.columns.get(manipulation.column)
            spec = ColumnSpec(type="category", values=declared.values if declared else None)
            loc = ("design", "manipulations", index, "column")
            result.append(ColumnRule(manipulation.column, spec, "manipulation", True, loc))
    roles_named = {rule.name for rule in result}
    for column, declared in table.columns.items():
        if column not in roles_named:
            result.append(
                ColumnRule(
                    column,
                    declared,
                    None,
                    not declared.missing,
                    ("tables", name, "columns", column),
                    required=declared.required,
                )
            )
    return result


def prepare(checker: StudyChecker, name: str) -> pd.DataFrame | None:
    """Check the columns of a table and convert them to their types; None when the table is unusable."""
    source = checker.sources.get(name)
    if source is None:
        return None
    frame = source.frame.copy()
    present = list(frame.columns)
    usable = True
    for rule in column_rules(checker.config, name):
        if rule.name not in frame.columns:
            if rule.required:
                _missing_column(checker, name, source, rule, present)
                usable = usable and rule.role is None
            continue
        frame[rule.name] = _convert(checker, name, source, rule)
    covariates = checker.config.tables.recipients.covariates if name == "recipients" else []
    declared = set(getattr(checker.config.tables, name).columns)
    for index, covariate in enumerate(covariates):
        if covariate not in frame.columns:
            line = checker.at("tables", "recipients", "covariates", index)["line"]
            advice = f"rename the column, or fix tables.recipients.covariates (moclab.yaml line {line})"
            checker.error(
                f"the covariate column '{covariate}' is missing",
                file=source.shown,
                line=source.header_line or None,
                field=covariate,
                hint=did_you_mean(covariate, present, advice=advice),
            )
        elif covariate not in declared:
            # Undeclared covariates are numbers when every value reads as one, categories otherwise.
            numbers = to_number(frame[covariate])
            frame[covariate] = numbers.values if numbers.n_bad == 0 else to_text(frame[covariate])
    return frame if usable else None


def role_word(config: StudyConfig, name: str, role: str | None) -> str:
    """What a role column holds, in words: 'recipient id', 'site id', 'wave'."""
    if role == "id" and name == "recipients":
        return f"{config.design.unit} id"
    if role == "id" and config.tables.outcomes is not None:
        return f"{config.tables.outcomes.level or config.design.cluster} id"
    if role == "recipient":
        return f"{config.design.unit} id"
    if role == "cluster":
        return config.design.cluster
    return ROLE_WORDS.get(role or "", "value")


def _missing_column(
    checker: StudyChecker, name: str, source: TableSource, rule: ColumnRule, present: list[str]
) -> None:
    what = f"the {role_word(checker.config, name, rule.role)} column" if rule.role else "the declared column"
    where = checker.at(*rule.config_loc)
    fix = ".".join(str(part) for part in rule.config_loc if not isinstance(part, int))
    if not rule.role:
        fix = f"tables.{name}.columns"
    hint = did_you_mean(
        rule.name, present, advice=f"rename the column in the file, or change {fix} in moclab.yaml"
    )
    if where["line"]:
        hint += f" (line {where['line']})"
    hint += "; columns in the file: " + ", ".join(present)
    checker.error(
        f"{what} '{rule.name}' is missing",
        file=source.shown,
        line=source.header_line or None,
        field=rule.name,
        hint=hint,
    )


def _convert(checker: StudyChecker, name: str, source: TableSource, rule: ColumnRule) -> pd.Series:
    raw = source.frame[rule.name]
    converted: Converted = convert(raw, rule.spec)
    bad = converted.bad
    if converted.n_bad and name == "measures" and rule.role == "value" and checker.item_fields:
        bad = _item_responses_not_numbers(checker, source, bad)
    if bad.any():
        positions = np.flatnonzero(bad)
        written = [text_of(value) for value in raw.iloc[positions[:MAX_LISTED]]]
        allowed = [text_of(value) for value in rule.spec.values or []]
        if rule.bad_message or rule.spec.type in ("category", "string"):
            message = rule.bad_message or "not one of the allowed values"
            details = []
            for value in written:
                suggestion = did_you_mean(value, allowed)
                details.append(repr(value) + (f" ({suggestion})" if suggestion else ""))
            hint = rule.bad_hint or "allowed: " + ", ".join(allowed)
        else:
            message, hint = _TYPE_PROBLEMS[rule.spec.type]
            details = quoted(written)
            if rule.spec.type == "number" and any(_decimal_comma(value) for value in written):
                hint = "write decimals with a dot (3.5, not 3,5); " + hint
        checker.report(row_problem(source, positions, message, column=rule.name, details=details, hint=hint))
    values = converted.values
    if rule.key or not rule.spec.missing:
        empty = np.flatnonzero(values.isna().to_numpy() & ~converted.bad)
        if len(empty):
            what = role_word(checker.config, name, rule.role) if rule.role else "value"
            checker.report(
                row_problem(
                    source,
                    empty,
                    f"the {what} is empty",
                    column=rule.name,
                    hint="every row needs one; fill it in or delete the row",
                )
            )
    if rule.spec.type in ("number", "integer") and (rule.spec.min is not None or rule.spec.max is not None):
        numbers = values.astype("float64")
        low = numbers < rule.spec.min if rule.spec.min is not None else pd.Series(False, index=values.index)
        high = numbers > rule.spec.max if rule.spec.max is not None else pd.Series(False, index=values.index)
        outside = np.flatnonzero((low | high).fillna(False).to_numpy())
        if len(outside):
            bounds = bounds_text(rule.spec.min, rule.spec.max)
            checker.report(
                row_problem(
                    source,
                    outside,
                    f"outside the allowed range {bounds}",
                    column=rule.name,
                    details=[f"{value:g}" for value in numbers.iloc[outside[:MAX_LISTED]]],
                    hint="correct the value, or the min/max declared for this column in moclab.yaml",
                )
            )
    return values


def _item_responses_not_numbers(checker: StudyChecker, source: TableSource, bad: np.ndarray) -> np.ndarray:
    """Report text in item responses as warnings (the response is left out of scoring, the rest of the
    instrument is still scored); returns the bad cells that are not item responses, still errors."""
    spec = checker.config.tables.measures
    if spec.measure not in source.frame.columns:
        return bad
    names = to_text(source.frame[spec.measure])
    is_item = names.isin(list(checker.item_fields)).to_numpy()
    items = np.flatnonzero(bad & is_item)
    if len(items):
        raw = source.frame[spec.value]
        details = [
            f"{source.frame[spec.recipient].iloc[p] if spec.recipient in source.frame else '?'} / "
            f"{source.frame[spec.wave].iloc[p] if spec.wave in source.frame else '?'} / "
            f"{names.iloc[p]} = {text_of(raw.iloc[p])!r}"
            for p in items[:MAX_LISTED]
        ]
        checker.report(
            row_problem(
                source,
                items,
                "item response is not a number; left out of scoring, the other items are still scored",
                column=spec.value,
                details=details,
                hint="write the number of the response option (e.g. 4, not 'agree'), or leave the cell "
                "empty when there is no answer",
                severity="warning",
            )
        )
    return bad & ~is_item


def bounds_text(low: float | None, high: float | None) -> str:
    """An allowed range in words: "1–5", "≥ 0" or "≤ 100"."""
    if low is not None and high is not None:
        return f"{low:g}–{high:g}"
    return f"≥ {low:g}" if low is not None else f"≤ {high:g}"


def _decimal_comma(text: str) -> bool:
    head, _, tail = text.partition(",")
    return bool(head) and bool(tail) and head.lstrip("-").isdigit() and tail.isdigit()
