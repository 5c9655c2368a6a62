"""`StudyChecker`: one run of every check of a study (see `moclab.study.checks`), and what the checks share:
the config with its YAML positions, the table sources and typed tables, the model's nodes, the known ids of
recipients, clusters and teams, and the problems found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from moclab.errors import MoclabError, Problem, ProblemList, ValidationError, display_path
from moclab.study.checks.activities import check_activities
from moclab.study.checks.column_rules import column_rules
from moclab.study.checks.config_checks import check_config, check_node_references, check_qualitative_section
from moclab.study.checks.data_quality import check_data_quality
from moclab.study.checks.declarations import check_declarations
from moclab.study.checks.long_tables import check_measures, check_outcomes
from moclab.study.checks.recipients import check_recipients
from moclab.study.config import StudyConfig, read_config
from moclab.study.measure_items import InstrumentPlan
from moclab.study.scoring import StudyScores
from moclab.study.tables import TableReadError, TableSource, read_source
from moclab.yamlio import locate

#: The check of each table the config may declare; they run in the order of `Tables.items()`, recipients
#: first, so that the others can look up its ids.
TABLE_CHECKS: dict[str, Callable[[StudyChecker], None]] = {
    "recipients": check_recipients,
    "measures": check_measures,
    "activities": check_activities,
    "outcomes": check_outcomes,
}


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
    """Runs every check of a study folder once (see `moclab.study.checks`) and holds what the checks share.

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
            check_config(self)
            self.step("reading the pathway model")
            self.load_model()
            check_node_references(self)
            check_qualitative_section(self)
            for name, spec in self.config.tables.items():
                self.step(f"reading {spec.path}")
                self.read(name)
                self.step(f"checking {spec.path}")
                TABLE_CHECKS[name](self)
            self.step("checking measures and model nodes")
            check_declarations(self)
            self.step("checking values, missingness and variation")
            check_data_quality(self)
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

    @property
    def item_fields(self) -> set[str]:
        """Names in the measure column that are items of an instrument measure."""
        return self.plan.item_fields if self.plan is not None else set()

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
        expected = [rule.name for rule in column_rules(config, name) if rule.role is not None]
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

    def units(self, level: str) -> pd.Index | None:
        """The known ids of a level of the design (recipients, clusters or teams) once its table is read."""
        config = self.config
        assert config is not None
        if level == config.design.unit:
            return self.recipient_ids
        if level == config.design.cluster:
            return None if self.cluster_of is None else pd.Index(self.cluster_of.dropna().unique())
        if level == config.design.team:
            return self.team_ids
        return None
