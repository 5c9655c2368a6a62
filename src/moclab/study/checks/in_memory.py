"""`TablesChecker`: the checks of a study folder run on a study held in memory (the config as data, the
tables as frames, optionally the pathway model as an object), for `moclab.study.study_from_tables`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from moclab.errors import MoclabError, Problem
from moclab.study.checks.checker import StudyChecker
from moclab.study.checks.column_rules import column_rules
from moclab.study.columns import to_text
from moclab.study.config import StudyConfig, config_from_data
from moclab.study.tables import TableSource


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
        typed = {rule.name for rule in column_rules(config, name)}
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
