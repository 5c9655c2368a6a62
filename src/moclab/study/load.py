"""Loading and validating a study folder: `load_study`, `validate_study` and the `StudyReport` they give.

Both run the same checks (`moclab.study.checks`) once. Errors are raised together in one `ValidationError`
that lists every problem (errors first, then warnings) with file, line or row, and column; warnings alone do
not stop the loading and are kept on the study and the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from moclab.errors import Problem, ValidationError, display_path
from moclab.study.checks.checker import CheckedStudy, StudyChecker
from moclab.study.checks.in_memory import TablesChecker
from moclab.study.config import find_config
from moclab.study.progress import DelayedProgress
from moclab.study.study import Study
from moclab.study.summary import StudySummary


@dataclass(frozen=True)
class StudyReport:
    """The outcome of `validate_study` on a valid study: the study, its warnings and its summary."""

    study: Study
    summary: StudySummary

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.study.problems

    @property
    def warnings(self) -> list[Problem]:
        return self.study.warnings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "study": str(self.study.path),
            "problems": [problem.to_dict() for problem in self.problems],
            "summary": self.summary.to_dict(),
        }


def load_study(path: str | Path, *, show_progress: bool = True) -> Study:
    """Load a study folder, checking everything.

    Parameters
    ----------
    path
        The study folder (or its moclab.yaml).
    show_progress
        Show a progress bar on stderr when loading takes more than a second.

    Returns
    -------
    Study
        Config, typed tables, pathway model and the warnings found.

    Raises
    ------
    ValidationError
        Listing every error (and warning) found, each with file, line or row, and column.
    ConfigError
        When moclab.yaml cannot be read as YAML at all.
    StudyError
        When the folder has no moclab.yaml.

    Examples
    --------
    >>> from moclab.study import example_path
    >>> study = load_study(example_path(), show_progress=False)
    >>> study.synthetic, study.wave_ids
    (True, ['baseline', 'm6', 'm12'])
    """
    config_path = find_config(path)
    steps = 4 + 2 * 4  # config, model, read and check each of up to four tables, cross-checks, values
    with DelayedProgress("checking study", total=steps, enabled=show_progress) as progress:
        checked = StudyChecker(config_path, step=progress.step).run()
    return _study(checked)


def study_from_tables(
    config: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    *,
    folder: str | Path,
    model: Any = None,
) -> Study:
    """Build a checked study from a config and tables held in memory, without reading or writing files.

    The same checks as `load_study` run on the frames (`moclab.study.checks.in_memory.TablesChecker`), and the
    typed tables are those `load_study` gives for the same data written as a folder (columns no declaration
    types are text, as read from a CSV file).

    Parameters
    ----------
    config
        The content of moclab.yaml as plain data (the ``path:`` of each table only names it in messages).
    tables
        ``{"recipients": frame, "measures": frame, ...}``: a frame per table the config declares.
    folder
        The study's folder: relative paths in the config (instruments, frameworks, qualitative project, and
        the model when `model` is None) are resolved against it, and it is the returned study's `path`.
        It need not exist.
    model
        The pathway model; None reads the config's ``model:`` file from `folder`.

    Returns
    -------
    Study

    Raises
    ------
    ValidationError
        Listing every error (and warning) found, as `load_study` does.

    Examples
    --------
    >>> from moclab.study import example_path, load_study
    >>> example = load_study(example_path(), show_progress=False)
    >>> config = example.config.model_dump(mode="json", exclude_none=True)
    >>> names = ("recipients", "measures", "activities", "outcomes")
    >>> tables = {name: getattr(example, name) for name in names}
    >>> study = study_from_tables(config, tables, folder=example_path())
    >>> study.wide().equals(example.wide())
    True
    """
    checked = TablesChecker(config, tables, Path(folder), model=model).run()
    return _study(checked)


def _study(checked: CheckedStudy) -> Study:
    """The `Study` of a check run, or the `ValidationError` listing its problems."""
    problems = checked.problems
    ordered = problems.errors + problems.warnings
    if problems.errors or checked.config is None:
        raise ValidationError(f"study {display_path(checked.folder)}", ordered)
    tables = checked.tables
    return Study(
        path=checked.folder,
        config=checked.config,
        recipients=_table(tables.get("recipients")),
        measures=_table(tables.get("measures")),
        activities=tables.get("activities"),
        outcomes=tables.get("outcomes"),
        model=checked.model,
        problems=tuple(ordered),
        scores=checked.scores,
    )


def validate_study(path: str | Path, *, show_progress: bool = True) -> StudyReport:
    """Check a study folder and summarise it.

    Returns a `StudyReport` (study, warnings, summary) when there is no error; raises `ValidationError`
    listing every problem otherwise (see `load_study`).

    Examples
    --------
    >>> from moclab.study import example_path, validate_study
    >>> report = validate_study(example_path(), show_progress=False)
    >>> report.warnings
    []
    >>> summary = report.summary
    >>> summary.n_recipients, summary.n_clusters, summary.n_teams, summary.randomization
    (151, 12, 29, 'site')
    >>> summary.arms
             arm  recipients  clusters
    0  intensive          73         6
    1      usual          78         6
    """
    study = load_study(path, show_progress=show_progress)
    return StudyReport(study=study, summary=study.describe())


def _table(frame: pd.DataFrame | None) -> pd.DataFrame:
    # Only reached without errors, when every required table was read; the fallback keeps types honest.
    return frame if frame is not None else pd.DataFrame()
