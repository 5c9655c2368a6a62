"""Checking a study folder: the config's cross-references, each table against its declaration, the tables
against each other, and the pathway model against the measures.

`StudyChecker.run()` collects every problem in one pass and never stops at the first: a schema error in
moclab.yaml is reported and the rest of the config is still used; a missing column skips only the checks that
need it. Each problem names the file and the line (YAML) or the line and row (tables) and the column, and says
what to do. The typed tables it builds are what `load_study` hands to the user.

Severity: an **error** makes the study unusable as is (`moclab validate` exits 1); a **warning** is worth
knowing but does not stop an analysis (an undeclared measure, a model node without data, a table with no data
rows yet).
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moclab.errors import MoclabError, Problem, ProblemList, ValidationError, display_path
from moclab.study.columns import Converted, convert, text_of, to_number, to_text
from moclab.study.config import ColumnSpec, StudyConfig, config_from_data, read_config
from moclab.study.measure_items import InstrumentPlan
from moclab.study.qualitative_settings import check_qualitative
from moclab.study.rows import MAX_LISTED, quoted, row_problem
from moclab.study.scoring import StudyScores, score_measures
from moclab.study.sources.study_sources import add_source_rows
from moclab.study.tables import TableReadError, TableSource, read_source
from moclab.yamlio import locate

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


@dataclass
class CheckedStudy:
    """What a check run produced: the config, the typed tables, the model and every problem found."""

    folder: Path
    config_path: Path
    config: StudyConfig | None
    config_data: Any
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    sources: dict[str, TableSource] = field(default_factory=dict)
    model: Any = None
    problems: ProblemList = field(default_factory=lambda: ProblemList("study"))
    scores: StudyScores | None = None


class StudyChecker:
    """Runs every check of a study folder once; see the module docstring.

    Parameters
    ----------
    config_path
        The study's moclab.yaml.
    step
        Called with a short description before each stage, to drive a progress display.
    """

    def __init__(self, config_path: Path, step: Callable[[str], None] | None = None) -> None:
        self.config_path = config_path
        self.folder = config_path.parent
        self.shown_config = display_path(config_path)
        self.step = step or (lambda _label: None)
        self.problems = ProblemList(f"study {display_path(self.folder)}")
        self.config: StudyConfig | None = None
        self.data: Any = None
        self.sources: dict[str, TableSource] = {}
        self.tables: dict[str, pd.DataFrame | None] = {}
        self.model: Any = None
        self.model_nodes: list[str] | None = None
        self.recipient_ids: pd.Index | None = None
        self.cluster_of: pd.Series | None = None
        self.team_ids: pd.Index | None = None
        self._catalog: Any = None
        self.plan: InstrumentPlan | None = None
        self.scores: StudyScores | None = None

    # ----------------------------------------------------------------------------------------------- helpers
    def at(self, *loc: Any) -> dict[str, Any]:
        """File, line and column of a key of moclab.yaml, for a Problem."""
        position = locate(self.data, loc) if self.data is not None else None
        line, column = position if position else (None, None)
        return {"file": self.shown_config, "line": line, "column": column}

    def error(self, message: str, **where: Any) -> None:
        self.problems.add(message, **where)

    def warn(self, message: str, **where: Any) -> None:
        self.problems.add(message, severity="warning", **where)

    def report(self, problem: Problem) -> None:
        self.problems.problems.append(problem)

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.folder / path

    def shown(self, path: Path) -> str:
        """A file's name in messages, like moclab.yaml's: relative to the working directory when inside it."""
        return display_path(path)

    # ---------------------------------------------------------------------------------------------- pipeline
    def run(self) -> CheckedStudy:
        """Run every check; problems are collected, not raised (except an unreadable moclab.yaml)."""
        self.step("reading moclab.yaml")
        self.config, self.data, config_problems = self.read_config()
        self.problems.extend(config_problems)
        if self.config is not None:
            self.check_config()
            self.step("reading the pathway model")
            self.load_model()
            self.check_node_references()
            self.check_qualitative()
            for name, spec in self.config.tables.items():
                self.step(f"reading {spec.path}")
                self.read(name)
                self.step(f"checking {spec.path}")
                getattr(self, f"check_{name}")()
            self.step("checking measures and model nodes")
            self.check_declarations()
        return CheckedStudy(
            folder=self.folder,
            config_path=self.config_path,
            config=self.config,
            config_data=self.data,
            tables=self.tables,
            sources=self.sources,
            model=self.model,
            problems=self.problems,
            scores=self.scores,
        )

    # ------------------------------------------------------------------------------------------------ config
    def read_config(self) -> tuple[StudyConfig | None, Any, list[Problem]]:
        """The config, its data (with line positions) and its schema problems."""
        return read_config(self.config_path)

    def has_model_file(self) -> bool:
        """Whether the model the config names can be loaded (its file exists)."""
        config = self.config
        return config is not None and config.model is not None and self.resolve(config.model).is_file()

    def check_config(self) -> None:
        """Rules across config values: wave order, randomization, ranges, files that must exist."""
        config = self.config
        assert config is not None
        design = config.design
        seen: dict[str, int] = {}
        for index, wave in enumerate(design.waves):
            if wave.id in seen:
                self.error(
                    f"wave id '{wave.id}' is used twice (waves {seen[wave.id] + 1} and {index + 1})",
                    hint="give every wave its own id",
                    **self.at("design", "waves", index, "id"),
                )
            seen.setdefault(wave.id, index)
        for kind in ("date", "month"):
            timed = [
                (index, wave) for index, wave in enumerate(design.waves) if getattr(wave, kind) is not None
            ]
            for (_, before), (index, after) in itertools.pairwise(timed):
                if getattr(after, kind) <= getattr(before, kind):
                    self.error(
                        f"waves are not in time order: '{after.id}' ({kind} {getattr(after, kind)}) is "
                        f"listed after '{before.id}' ({kind} {getattr(before, kind)})",
                        hint="list the waves from first to last, each later than the one before, or fix the "
                        f"{kind}",
                        **self.at("design", "waves", index, kind),
                    )
        levels = self.level_names()
        randomization = design.randomization
        if randomization.level not in ["none", *levels]:
            self.error(
                f"design.randomization.level '{randomization.level}' is not a level of this study",
                hint=self._choices(randomization.level, ["none", *levels]),
                **self.at("design", "randomization", "level"),
            )
        if randomization.level != "none" and config.tables.recipients.arm is None:
            self.error(
                f"the study is randomized by {randomization.level} but no arm column is named",
                hint="add `arm: <column>` under tables.recipients, naming the column that holds each arm",
                **self.at("design", "randomization", "level"),
            )
        if (
            randomization.control is not None
            and randomization.arms
            and (randomization.control not in randomization.arms)
        ):
            self.error(
                f"the control arm '{randomization.control}' is not one of the arms "
                f"({', '.join(randomization.arms)})",
                hint=self._choices(randomization.control, randomization.arms),
                **self.at("design", "randomization", "control"),
            )
        if randomization.arms and randomization.control is None:
            self.error(
                f"design.randomization lists the arms {', '.join(randomization.arms)} but no control arm, so "
                "moclab cannot tell which arm is the comparison",
                hint="add `control: <arm>` under design.randomization (also in an observational study: it "
                "fixes the coding, 1 = the other arm(s), 0 = the control)",
                **self.at("design", "randomization"),
            )
        for index, manipulation in enumerate(design.manipulations):
            if manipulation.level not in ["none", *levels]:
                self.error(
                    f"design.manipulations: level '{manipulation.level}' is not a level of this study",
                    hint=self._choices(manipulation.level, ["none", *levels]),
                    **self.at("design", "manipulations", index, "level"),
                )
        for name, spec in config.measures.items():
            if spec.range is not None and spec.range[0] >= spec.range[1]:
                self.error(
                    f"measure '{name}': range [{spec.range[0]:g}, {spec.range[1]:g}] is empty",
                    hint="write the range as [min, max], min below max",
                    **self.at("measures", name, "range"),
                )
        outcomes = config.tables.outcomes
        if outcomes is not None and outcomes.level is not None and outcomes.level not in levels:
            self.error(
                f"tables.outcomes.level '{outcomes.level}' is not a level of this study",
                hint=self._choices(outcomes.level, levels),
                **self.at("tables", "outcomes", "level"),
            )
        activities = config.tables.activities
        if activities is not None and activities.cluster is None and activities.recipient is None:
            self.error(
                "tables.activities names neither a cluster nor a recipient column, so a contact cannot be "
                "tied to anyone",
                hint=f"add `cluster: {design.cluster}` (the column with the {design.cluster} id) and/or "
                "`recipient: recipient_id`",
                **self.at("tables", "activities"),
            )
        for table_name, table in config.tables.items():
            for column, spec in table.columns.items():
                loc = ("tables", table_name, "columns", column)
                if spec.min is not None and spec.max is not None and spec.min > spec.max:
                    self.error(
                        f"column '{column}': min {spec.min:g} is above max {spec.max:g}", **self.at(*loc)
                    )
                if spec.values and any(isinstance(value, bool) for value in spec.values):
                    self.error(
                        f"column '{column}': YAML read some allowed values as true/false",
                        hint="put yes, no, on, off, true and false in quotes ('yes') when they are category "
                        "values",
                        **self.at(*loc, "values"),
                    )
        if config.model is not None and not self.has_model_file():
            self.error(
                f"the pathway model file '{config.model}' was not found",
                hint="check the name, or remove `model:` if the study has no model yet",
                **self.at("model"),
            )
        for index, framework in enumerate(config.frameworks):
            if not self.resolve(framework).exists():
                self.error(f"framework file '{framework}' was not found", **self.at("frameworks", index))
        self.plan = InstrumentPlan.build(config, self.folder, self.at)
        self.problems.extend(self.plan.problems)

    @property
    def item_fields(self) -> set[str]:
        """Names in the measure column that are items of an instrument measure."""
        return self.plan.item_fields if self.plan is not None else set()

    def level_names(self) -> list[str]:
        design = self.config.design if self.config else None
        if design is None:
            return []
        return [name for name in (design.unit, design.cluster, design.team) if name]

    @staticmethod
    def _choices(given: str, allowed: list[str]) -> str:
        close = difflib.get_close_matches(given, allowed, n=1, cutoff=0.6)
        if close:
            return f"did you mean '{close[0]}'?"
        return "use one of: " + ", ".join(allowed)

    # ------------------------------------------------------------------------------------------------- model
    def load_model(self) -> None:
        """Load and validate the pathway model; its problems join the study's."""
        config = self.config
        assert config is not None
        if not self.has_model_file():
            return
        assert config.model is not None
        path = self.resolve(config.model)
        from moclab.model import load_model, validate_model

        catalog = self.catalog()
        try:
            model = load_model(path, catalog=catalog)
        except ValidationError as exc:
            self.problems.extend(exc.problems)
            return
        except MoclabError as exc:
            self.error(exc.message, file=self.shown(path), hint=exc.hint)
            return
        self.model = model
        self.model_nodes = [node.id for node in model.nodes]
        try:
            self.problems.extend(validate_model(model, catalog=catalog))
        except MoclabError as exc:
            self.error(exc.message, file=self.shown(path), hint=exc.hint)

    def catalog(self) -> Any:
        """The catalog that resolves references: the bundled frameworks plus the study's `frameworks:`."""
        if self._catalog is None:
            from moclab.catalog import Catalog, default_catalog

            config = self.config
            assert config is not None
            paths = [self.resolve(name) for name in config.frameworks if self.resolve(name).exists()]
            try:
                self._catalog = Catalog.load(paths) if paths else default_catalog()
            except (
                ValidationError
            ) as exc:  # broken framework files: report them, resolve with the bundled ones
                self.problems.extend(exc.problems)
                self._catalog = default_catalog()
        return self._catalog

    def check_node_references(self) -> None:
        """Every explicit `node:` of a measure or column must be a node of the model."""
        config = self.config
        assert config is not None
        if self.model_nodes is None:
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
            if node is not None and node not in self.model_nodes:
                self.error(
                    f"'{node}' is not a node of the pathway model ({config.model})",
                    hint=self._choices(node, self.model_nodes),
                    **self.at(*loc),
                )

    def check_qualitative(self) -> None:
        """The `qualitative:` section: the project file is there and readable, its nodes are the model's."""
        config = self.config
        assert config is not None
        if config.qualitative is not None:
            self.problems.extend(
                check_qualitative(config.qualitative, self.folder, self.at, self.model_nodes)
            )

    # ------------------------------------------------------------------------------------------------ tables
    def read(self, name: str) -> None:
        """Read one table file; a missing or unreadable file is a problem and the table is skipped."""
        config = self.config
        assert config is not None
        spec = getattr(config.tables, name)
        path = self.resolve(spec.path)
        self.tables[name] = None
        if not path.is_file():
            self.error(
                f"tables.{name}: file '{spec.path}' not found",
                hint="check the path (it is relative to the study folder)"
                + (
                    ""
                    if name in ("recipients", "measures")
                    else f", or remove tables.{name} if there is none"
                ),
                **self.at("tables", name, "path"),
            )
            return
        expected = [rule.name for rule in self.rules(name) if rule.role is not None]
        try:
            source = read_source(
                path,
                sheet=spec.sheet,
                encoding=spec.encoding,
                delimiter=spec.delimiter,
                missing=spec.missing,
                shown=self.shown(path),
                expected=expected,
            )
        except TableReadError as exc:
            self.report(exc.problem)
            return
        self.sources[name] = source
        if source.frame.empty:
            self.warn(
                "no data rows yet (only the header)",
                file=source.shown,
                line=source.header_line or None,
                hint="fill in the table; the study is checked again once it has data",
            )

    def rules(self, name: str) -> list[ColumnRule]:
        """The columns a table must or may have, from its role keys and its `columns:` declarations."""
        config = self.config
        assert config is not None
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

    def prepare(self, name: str) -> pd.DataFrame | None:
        """Check the columns of a table and convert them to their types; None when the table is unusable."""
        source = self.sources.get(name)
        if source is None:
            return None
        frame = source.frame.copy()
        present = list(frame.columns)
        usable = True
        for rule in self.rules(name):
            if rule.name not in frame.columns:
                if rule.required:
                    self._missing_column(name, source, rule, present)
                    usable = usable and rule.role is None
                continue
            frame[rule.name] = self._convert(name, source, rule)
        covariates = self.config.tables.recipients.covariates if name == "recipients" else []
        declared = set(getattr(self.config.tables, name).columns)
        for index, covariate in enumerate(covariates):
            if covariate not in frame.columns:
                close = difflib.get_close_matches(covariate, present, n=1)
                line = self.at("tables", "recipients", "covariates", index)["line"]
                self.error(
                    f"the covariate column '{covariate}' is missing",
                    file=source.shown,
                    line=source.header_line or None,
                    field=covariate,
                    hint=(f"did you mean '{close[0]}'? " if close else "")
                    + f"rename the column, or fix tables.recipients.covariates (moclab.yaml line {line})",
                )
            elif covariate not in declared:
                # Undeclared covariates are numbers when every value reads as one, categories otherwise.
                numbers = to_number(frame[covariate])
                frame[covariate] = numbers.values if numbers.n_bad == 0 else to_text(frame[covariate])
        return frame if usable else None

    def role_word(self, name: str, role: str | None) -> str:
        """What a role column holds, in words: 'recipient id', 'site id', 'wave'."""
        config = self.config
        assert config is not None
        if role == "id" and name == "recipients":
            return f"{config.design.unit} id"
        if role == "id" and config.tables.outcomes is not None:
            return f"{config.tables.outcomes.level or config.design.cluster} id"
        if role == "recipient":
            return f"{config.design.unit} id"
        if role == "cluster":
            return config.design.cluster
        return ROLE_WORDS.get(role or "", "value")

    def _missing_column(self, name: str, source: TableSource, rule: ColumnRule, present: list[str]) -> None:
        close = difflib.get_close_matches(rule.name, present, n=1, cutoff=0.6)
        what = f"the {self.role_word(name, rule.role)} column" if rule.role else "the declared column"
        where = self.at(*rule.config_loc)
        fix = ".".join(str(part) for part in rule.config_loc if not isinstance(part, int))
        if not rule.role:
            fix = f"tables.{name}.columns"
        hint = f"did you mean '{close[0]}'? " if close else ""
        hint += f"rename the column in the file, or change {fix} in moclab.yaml"
        if where["line"]:
            hint += f" (line {where['line']})"
        hint += "; columns in the file: " + ", ".join(present)
        self.error(
            f"{what} '{rule.name}' is missing",
            file=source.shown,
            line=source.header_line or None,
            field=rule.name,
            hint=hint,
        )

    def _convert(self, name: str, source: TableSource, rule: ColumnRule) -> pd.Series:
        raw = source.frame[rule.name]
        converted: Converted = convert(raw, rule.spec)
        bad = converted.bad
        if converted.n_bad and name == "measures" and rule.role == "value" and self.item_fields:
            bad = self._item_responses_not_numbers(source, bad)
        if bad.any():
            positions = np.flatnonzero(bad)
            written = [text_of(value) for value in raw.iloc[positions[:MAX_LISTED]]]
            allowed = [text_of(value) for value in rule.spec.values or []]
            if rule.bad_message or rule.spec.type in ("category", "string"):
                message = rule.bad_message or "not one of the allowed values"
                details = []
                for value in written:
                    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
                    details.append(repr(value) + (f" (did you mean '{close[0]}'?)" if close else ""))
                hint = rule.bad_hint or "allowed: " + ", ".join(allowed)
            else:
                message, hint = _TYPE_PROBLEMS[rule.spec.type]
                details = quoted(written)
                if rule.spec.type == "number" and any(_decimal_comma(value) for value in written):
                    hint = "write decimals with a dot (3.5, not 3,5); " + hint
            self.report(row_problem(source, positions, message, column=rule.name, details=details, hint=hint))
        values = converted.values
        if rule.key or not rule.spec.missing:
            empty = np.flatnonzero(values.isna().to_numpy() & ~converted.bad)
            if len(empty):
                what = self.role_word(name, rule.role) if rule.role else "value"
                self.report(
                    row_problem(
                        source,
                        empty,
                        f"the {what} is empty",
                        column=rule.name,
                        hint="every row needs one; fill it in or delete the row",
                    )
                )
        if rule.spec.type in ("number", "integer") and (
            rule.spec.min is not None or rule.spec.max is not None
        ):
            numbers = values.astype("float64")
            low = (
                numbers < rule.spec.min if rule.spec.min is not None else pd.Series(False, index=values.index)
            )
            high = (
                numbers > rule.spec.max if rule.spec.max is not None else pd.Series(False, index=values.index)
            )
            outside = np.flatnonzero((low | high).fillna(False).to_numpy())
            if len(outside):
                bounds = _bounds(rule.spec.min, rule.spec.max)
                self.report(
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

    def _item_responses_not_numbers(self, source: TableSource, bad: np.ndarray) -> np.ndarray:
        """Report text in item responses as warnings (the response is left out of scoring, the rest of the
        instrument is still scored); returns the bad cells that are not item responses, still errors."""
        spec = self.config.tables.measures
        if spec.measure not in source.frame.columns:
            return bad
        names = to_text(source.frame[spec.measure])
        is_item = names.isin(list(self.item_fields)).to_numpy()
        items = np.flatnonzero(bad & is_item)
        if len(items):
            raw = source.frame[spec.value]
            details = [
                f"{source.frame[spec.recipient].iloc[p] if spec.recipient in source.frame else '?'} / "
                f"{source.frame[spec.wave].iloc[p] if spec.wave in source.frame else '?'} / "
                f"{names.iloc[p]} = {text_of(raw.iloc[p])!r}"
                for p in items[:MAX_LISTED]
            ]
            self.report(
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

    # -------------------------------------------------------------------------------------------- recipients
    def check_recipients(self) -> None:
        """Unique ids, and one arm per randomized cluster or team."""
        frame = self.prepare("recipients")
        self.tables["recipients"] = frame
        if frame is None:
            return
        config = self.config
        assert config is not None
        source = self.sources["recipients"]
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
            self.report(
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
        self.recipient_ids = pd.Index(valid[spec.id])
        if spec.cluster in frame.columns:
            self.cluster_of = pd.Series(valid[spec.cluster].to_numpy(), index=self.recipient_ids)
        if spec.team and spec.team in frame.columns:
            self.team_ids = pd.Index(valid[spec.team].dropna().unique())
            if spec.cluster in frame.columns:
                self._check_teams(frame, source)
        level = config.design.randomization.level
        self._check_randomized_groups(frame, source, level, spec.arm, "arm")
        for index in range(len(config.design.manipulations)):
            self._check_manipulation(frame, source, index)

    def _check_manipulation(self, frame: pd.DataFrame, source: TableSource, index: int) -> None:
        """A factor that targets a mechanism: its control value occurs, and whole groups share a value."""
        config = self.config
        assert config is not None
        manipulation = config.design.manipulations[index]
        column = manipulation.column
        if column not in frame.columns:
            return  # reported as a missing column of the recipients table
        values = sorted({str(value) for value in frame[column].dropna()})
        if manipulation.control not in values or len(values) < 2:
            self.error(
                f"design.manipulations: column '{column}' has the values {', '.join(values) or 'none'}; "
                f"its control value '{manipulation.control}' and at least one other value are needed",
                hint=self._choices(manipulation.control, values) if values else None,
                **self.at("design", "manipulations", index, "control"),
            )
        self._check_randomized_groups(frame, source, manipulation.level, column, "assignment")

    def _check_teams(self, frame: pd.DataFrame, source: TableSource) -> None:
        config = self.config
        assert config is not None
        spec = config.tables.recipients
        pairs = frame[[spec.team, spec.cluster]].dropna().drop_duplicates()
        shared = pairs[pairs[spec.team].duplicated(keep=False)]
        for team in pd.unique(shared[spec.team])[:MAX_LISTED]:
            clusters = sorted(shared.loc[shared[spec.team] == team, spec.cluster])
            positions = np.flatnonzero((frame[spec.team] == team).to_numpy())
            self.report(
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
        self, frame: pd.DataFrame, source: TableSource, level: str, column: str | None, what: str
    ) -> None:
        """When whole clusters (or teams) were randomized, all their recipients must share one value of the
        assignment column (the arm, or a factor that targets a mechanism)."""
        config = self.config
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
            self.report(
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

    # ---------------------------------------------------------------------------------- measures and outcomes
    def check_measures(self) -> None:
        """Long-format values: known recipients and waves, one value per cell, ranges, dates in wave order;
        then the instrument measures are scored from their item rows."""
        self._check_long("measures")
        add_source_rows(self)  # item responses from the exports under `sources:` (docs/sources.md)
        self.score_instruments()

    def score_instruments(self) -> None:
        """Score the instrument measures; responses left out are reported by line, as warnings."""
        frame = self.tables.get("measures")
        config = self.config
        assert config is not None
        spec = config.tables.measures
        if frame is None or self.plan is None or not self.plan.uses:
            return
        if any(
            column not in frame.columns for column in (spec.recipient, spec.wave, spec.measure, spec.value)
        ):
            return
        self.scores = score_measures(frame, config, self.plan)
        source = self.sources["measures"]
        for measure, result in self.scores.results.items():
            by_problem: dict[str, list[Any]] = {}
            for issue in result.issues:
                by_problem.setdefault(issue.problem, []).append(issue)
            for problem, issues in by_problem.items():
                instrument = result.instrument
                self.report(
                    row_problem(
                        source,
                        [issue.row for issue in issues],
                        f"item response {problem} of instrument '{instrument.id}' (measure '{measure}'); "
                        "left out of scoring, the other items are still scored",
                        column=spec.value,
                        details=[f"{i.respondent} / {i.wave} / {i.field} = {i.value}" for i in issues],
                        hint=issues[0].hint,
                        severity="warning",
                    )
                )
        disagreements = self.scores.disagreements
        if len(disagreements):
            first = disagreements.iloc[0]
            self.warn(
                f"{len(disagreements)} scale scores written in the data differ from the score of their items "
                f"(first: {first[spec.recipient]} / {first[spec.wave]} / {first[spec.measure]}: given "
                f"{first['given']:g}, items give {first['scored']:g}); the score of the items is used",
                file=source.shown,
                field=spec.measure,
                hint="remove the written scale scores, or check the items and their reverse keys",
            )

    def check_outcomes(self) -> None:
        """Like measures, for units of the outcomes table's level."""
        self._check_long("outcomes")

    def _units(self, level: str) -> pd.Index | None:
        config = self.config
        assert config is not None
        if level == config.design.unit:
            return self.recipient_ids
        if level == config.design.cluster:
            return None if self.cluster_of is None else pd.Index(self.cluster_of.dropna().unique())
        if level == config.design.team:
            return self.team_ids
        return None

    def _check_long(self, name: str) -> None:
        frame = self.prepare(name)
        self.tables[name] = frame
        if frame is None or frame.empty:
            return
        config = self.config
        assert config is not None
        source = self.sources[name]
        spec = getattr(config.tables, name)
        level = config.design.unit if name == "measures" else (spec.level or config.design.cluster)
        unit = spec.recipient if name == "measures" else spec.id
        known = self._units(level)
        if known is not None:
            orphan = (frame[unit].notna() & ~frame[unit].isin(known)).to_numpy()
            if orphan.any():
                positions = np.flatnonzero(orphan)
                recipients = self.sources.get("recipients")
                where = recipients.shown if recipients else config.tables.recipients.path
                self.report(
                    row_problem(
                        source,
                        positions,
                        f"no such {level} in {where}",
                        column=unit,
                        details=quoted(frame[unit].iloc[positions[:MAX_LISTED]].tolist()),
                        hint=f"correct the id, or add the {level} to {where}",
                    )
                )
        keys = [unit, spec.wave, spec.measure]
        complete = frame[keys].notna().all(axis=1).to_numpy()
        duplicated = complete & frame.duplicated(keys, keep="first").to_numpy()
        if duplicated.any():
            positions = np.flatnonzero(duplicated)
            details = []
            for position in positions[:MAX_LISTED]:
                row = frame.iloc[position]
                same = (frame[keys] == row[keys]).all(axis=1).to_numpy()
                details.append(
                    f"{row[unit]} / {row[spec.wave]} / {row[spec.measure]} "
                    f"(also on {source.where(int(np.argmax(same)) + 1)})"
                )
            self.report(
                row_problem(
                    source,
                    positions,
                    f"more than one value for the same {level}, wave and measure",
                    column=spec.measure,
                    details=details,
                    hint="keep one row per combination; if these are items of a scale, score them first",
                )
            )
        self._check_ranges(name, frame, source)
        if spec.date is not None and spec.date in frame.columns:
            self._check_wave_dates(frame, source, unit, spec.wave, spec.date, level)
        self._check_undeclared(frame, source, spec.measure)

    def _check_ranges(self, name: str, frame: pd.DataFrame, source: TableSource) -> None:
        config = self.config
        assert config is not None
        spec = getattr(config.tables, name)
        ranges = {measure: s.range for measure, s in config.measures.items() if s.range is not None}
        if name == "measures" and self.plan is not None:
            ranges = {**self.plan.ranges(), **ranges}
        if not ranges or spec.value not in frame.columns:
            return
        names = frame[spec.measure]
        codes, distinct = pd.factorize(names)
        bounds = np.array([ranges.get(name, (np.nan, np.nan)) for name in distinct] + [(np.nan, np.nan)])
        low, high = bounds[codes, 0], bounds[codes, 1]  # code -1 (no measure name) picks the NaN row
        values = frame[spec.value].astype("float64")
        numbers = values.to_numpy()
        with np.errstate(invalid="ignore"):
            outside = ~np.isnan(numbers) & ((numbers < low) | (numbers > high))
        if not outside.any():
            return
        for measure in pd.unique(names[outside]):
            positions = np.flatnonzero(outside & (names == measure).to_numpy())
            lo, hi = ranges[measure]
            line = self.at("measures", measure, "range")["line"] or self.at("measures", measure)["line"]
            self.report(
                row_problem(
                    source,
                    positions,
                    f"outside the range {_bounds(lo, hi)} declared for measure '{measure}'",
                    column=spec.value,
                    details=[f"{value:g}" for value in values.iloc[positions[:MAX_LISTED]]],
                    hint="correct the value (a typing slip, or a different scale?), or the range under "
                    f"measures.{measure} in moclab.yaml" + (f" (line {line})" if line else ""),
                )
            )

    def _check_wave_dates(
        self, frame: pd.DataFrame, source: TableSource, unit: str, wave: str, date: str, level: str
    ) -> None:
        """Per unit, the dates of a later wave may not fall before those of an earlier wave."""
        dated = frame[[unit, wave, date]].dropna()
        if dated.empty:
            return
        grouped = dated.groupby([unit, wave], observed=True, sort=True)[date]
        firsts = pd.DataFrame({"date": grouped.min(), "position": grouped.idxmin()}).reset_index()
        previous_date = firsts.groupby(unit)["date"].shift()
        previous_wave = firsts.groupby(unit)[wave].shift()
        early = (firsts["date"] < previous_date).to_numpy()
        if not early.any():
            return
        bad = firsts[early].assign(previous_date=previous_date[early], previous_wave=previous_wave[early])
        bad = bad.sort_values("position")
        details = [
            f"{row[unit]}: '{row[wave]}' on {row['date']:%Y-%m-%d} is before '{row['previous_wave']}' on "
            f"{row['previous_date']:%Y-%m-%d}"
            for _, row in bad.head(MAX_LISTED).iterrows()
        ]
        self.report(
            row_problem(
                source,
                bad["position"].to_numpy(),
                f"a later wave is dated before an earlier wave of the same {level}",
                column=date,
                details=details,
                hint="check the date and the wave of these rows; waves are in the order of design.waves",
            )
        )

    def _check_undeclared(self, frame: pd.DataFrame, source: TableSource, column: str) -> None:
        config = self.config
        assert config is not None
        names = frame[column]
        present = pd.unique(names.dropna())
        known = set(config.measures) | self.item_fields
        if self.plan is not None:
            known |= set(self.plan.score_owner)
        undeclared = [name for name in present if name not in known]
        declared = list(config.measures)
        items = sorted(self.item_fields)
        for name in undeclared[:10]:
            close = difflib.get_close_matches(name, [*declared, *items], n=1, cutoff=0.6)
            if close and close[0] in self.item_fields:
                owner, _item = self.plan.field_owner[close[0]]
                message = (
                    f"'{name}' is neither a declared measure nor an item of a declared instrument, so these "
                    f"rows are not scored"
                )
                hint = f"did you mean '{close[0]}' (an item of measure '{owner}')?"
            else:
                message = f"measure '{name}' is not declared in moclab.yaml, so its values are not checked"
                hint = (f"did you mean '{close[0]}'? " if close else "") + (
                    "declare it under measures: in moclab.yaml (label, range, node)"
                )
            self.report(
                row_problem(
                    source,
                    np.flatnonzero((names == name).to_numpy()),
                    message,
                    column=column,
                    hint=hint,
                    severity="warning",
                )
            )
        if len(undeclared) > 10:
            self.warn(
                f"and {len(undeclared) - 10} more undeclared measures: " + ", ".join(undeclared[10:20]),
                file=source.shown,
                field=column,
            )

    # -------------------------------------------------------------------------------------------- activities
    def check_activities(self) -> None:
        """Support contacts: for known clusters and recipients, and a recipient's own cluster."""
        frame = self.prepare("activities")
        self.tables["activities"] = frame
        if frame is None or frame.empty:
            return
        config = self.config
        assert config is not None
        source = self.sources["activities"]
        spec = config.tables.activities
        assert spec is not None
        design = config.design
        recipients = self.sources.get("recipients")
        where = recipients.shown if recipients else config.tables.recipients.path
        cluster = spec.cluster if spec.cluster in frame.columns else None
        recipient = spec.recipient if spec.recipient in frame.columns else None
        checks = [
            (cluster, self._units(design.cluster), design.cluster),
            (recipient, self.recipient_ids, design.unit),
        ]
        for column, known, word in checks:
            if column is None or known is None:
                continue
            orphan = (frame[column].notna() & ~frame[column].isin(known)).to_numpy()
            if orphan.any():
                positions = np.flatnonzero(orphan)
                self.report(
                    row_problem(
                        source,
                        positions,
                        f"no such {word} in {where}",
                        column=column,
                        details=quoted(frame[column].iloc[positions[:MAX_LISTED]].tolist()),
                        hint=f"correct the id, or add the {word} to {where}",
                    )
                )
        self._check_components(frame, source, spec.component)
        if cluster and recipient:
            neither = (frame[cluster].isna() & frame[recipient].isna()).to_numpy()
            if neither.any():
                self.report(
                    row_problem(
                        source,
                        np.flatnonzero(neither),
                        f"neither a {design.cluster} nor a {design.unit} is given",
                        column=cluster,
                        hint="say who the contact was with",
                    )
                )
            if self.cluster_of is not None:
                home = frame[recipient].map(self.cluster_of)
                mismatch = (frame[cluster].notna() & home.notna() & (home != frame[cluster])).to_numpy()
                if mismatch.any():
                    positions = np.flatnonzero(mismatch)
                    details = [
                        f"{frame[recipient].iloc[p]!r} belongs to {home.iloc[p]!r}, "
                        f"not {frame[cluster].iloc[p]!r}"
                        for p in positions[:MAX_LISTED]
                    ]
                    self.report(
                        row_problem(
                            source,
                            positions,
                            f"the {design.unit} is not in this {design.cluster}",
                            column=recipient,
                            details=details,
                            hint=f"correct the {design.cluster} or the {design.unit} id",
                        )
                    )

    def _check_components(self, frame: pd.DataFrame, source: TableSource, column: str) -> None:
        """Components written as catalog references (framework:entry) must name a catalog entry."""
        if column not in frame.columns:
            return
        components = frame[column]
        references = [value for value in pd.unique(components.dropna()) if ":" in value]
        if not references:
            return
        catalog = self.catalog()
        unknown = [reference for reference in references if catalog.resolve(reference) is None]
        for reference in unknown[:MAX_LISTED]:
            try:
                catalog.get(reference)
                hint = None
            except MoclabError as exc:  # the catalog says why: unknown, ambiguous, with "did you mean"
                hint = exc.hint
            self.report(
                row_problem(
                    source,
                    np.flatnonzero((components == reference).to_numpy()),
                    f"'{reference}' looks like a catalog reference but names no single catalog entry",
                    column=column,
                    hint=hint or "see `moclab catalog search TEXT`, or write the component as plain text",
                    severity="warning",
                )
            )

    # ------------------------------------------------------------------------------------------ declarations
    def check_declarations(self) -> None:
        """Declared measures without data, and model nodes that no measure or column stands for."""
        config = self.config
        assert config is not None
        present: set[str] = set()
        have_data, all_read = False, True
        for name in ("measures", "outcomes"):
            frame = self.tables.get(name)
            spec = getattr(config.tables, name)
            if spec is None:
                continue
            if frame is not None and spec.measure in frame.columns:
                present.update(frame[spec.measure].dropna().unique())
                if name == "measures" and self.plan is not None:
                    present.update(self.plan.field_owner[f][0] for f in present & self.item_fields)
                have_data = have_data or not frame.empty
            else:
                all_read = False
        if have_data and all_read:  # a table that could not be read is reported already
            for measure in config.measures:
                if measure not in present:
                    self.warn(
                        f"measure '{measure}' is declared but has no values in the data",
                        hint="check the measure names in the data, or remove the declaration",
                        **self.at("measures", measure),
                    )
        if self.model_nodes is None:
            return
        covered = {config.node_of(measure) for measure in config.measures} | present
        if self.plan is not None:
            covered |= set(self.plan.score_owner)
        for _, table in config.tables.items():
            covered |= {spec.node for spec in table.columns.values() if spec.node}
        uncovered = [node for node in self.model_nodes if node not in covered]
        if uncovered:
            self.warn(
                "model nodes with no measure or column: "
                + ", ".join(uncovered)
                + "; fine for the model, but "
                "the analysis cannot test them",
                hint="declare a measure with `node: <id>` under measures:, or mark a column of the "
                "recipients table with `node: <id>` under columns:",
                **self.at("model"),
            )


class TablesChecker(StudyChecker):
    """The checks of `StudyChecker` on a study held in memory: the config as data, the tables as frames and,
    optionally, the pathway model as an object (`moclab.study.study_from_tables`).

    The frames go through the same column rules, conversions and cross-checks as files do. Columns that no
    rule (role, `columns:` declaration or covariate) types are turned into text, as a text file gives them,
    so the typed tables are those `load_study` builds from the same data written as CSV. Problems name the
    table's path from the config and the row (a frame has no lines).

    Parameters
    ----------
    config
        The content of moclab.yaml as plain data.
    tables
        A frame per table the config declares (recipients, measures, and activities and outcomes when
        declared).
    folder
        The folder relative paths of the config (instruments, frameworks, qualitative project, and the model
        when `model` is None) are resolved against; nothing is written there.
    model
        The pathway model (`moclab.model.PathwayModel`), used instead of reading the config's `model:` file.
    step
        As for `StudyChecker`.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        tables: Mapping[str, pd.DataFrame],
        folder: Path,
        *,
        model: Any = None,
        step: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(Path(folder) / "moclab.yaml", step)
        self.given_config = config
        self.given_tables = dict(tables)
        self.given_model = model

    def read_config(self) -> tuple[StudyConfig | None, Any, list[Problem]]:
        config, data, problems = config_from_data(self.given_config, self.shown_config)
        if config is not None:
            for name in sorted(set(self.given_tables) - {name for name, _ in config.tables.items()}):
                problems.append(
                    Problem(
                        f"a table '{name}' was given but the config declares no tables.{name}",
                        file=self.shown_config,
                        hint="declare it under tables: in the config, or leave it out",
                    )
                )
        return config, data, problems

    def has_model_file(self) -> bool:
        return self.given_model is not None or super().has_model_file()

    def load_model(self) -> None:
        if self.given_model is None:
            super().load_model()
            return
        from moclab.model import validate_model

        self.model = self.given_model
        self.model_nodes = [node.id for node in self.model.nodes]
        try:
            self.problems.extend(validate_model(self.model, catalog=self.catalog()))
        except MoclabError as exc:
            self.error(exc.message, hint=exc.hint)

    def read(self, name: str) -> None:
        config = self.config
        assert config is not None
        spec = getattr(config.tables, name)
        given = self.given_tables.get(name)
        self.tables[name] = None
        if given is None:
            self.error(
                f"tables.{name}: no frame was given for it",
                hint=f"pass the {name} table, or remove tables.{name} from the config",
                **self.at("tables", name),
            )
            return
        typed = {rule.name for rule in self.rules(name)}
        if name == "recipients":
            typed |= set(config.tables.recipients.covariates)
        frame = given.reset_index(drop=True)
        # Categorical columns are read cell by cell, as a file's text is (their `.str` accessor gives
        # object, not text, columns).
        categorical = [
            column for column in frame.columns if isinstance(frame[column].dtype, pd.CategoricalDtype)
        ]
        frame = frame.astype(dict.fromkeys(categorical, object))
        frame = frame.assign(
            **{column: to_text(frame[column]) for column in frame.columns if column not in typed}
        )
        source = TableSource(frame, self.resolve(spec.path), spec.path, "memory", header_line=0)
        self.sources[name] = source
        if frame.empty:
            self.warn("no data rows yet (only the header)", file=source.shown)


def _first_positions(values: pd.Series) -> dict[Any, int]:
    """Each value's first 0-based position."""
    firsts = values.dropna().drop_duplicates(keep="first")
    return dict(zip(firsts.to_numpy(), firsts.index, strict=True))


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g}–{high:g}"
    return f"≥ {low:g}" if low is not None else f"≤ {high:g}"


def _decimal_comma(text: str) -> bool:
    head, _, tail = text.partition(",")
    return bool(head) and bool(tail) and head.lstrip("-").isdigit() and tail.isdigit()
