"""The study configuration file, `moclab.yaml`: its schema and how it is read.

The schema is a set of pydantic models with `extra="forbid"`, so a misspelt key is reported with a "did you
mean" at its line. They check shape and types only; rules that relate several values (waves in time order, a
control arm that is one of the arms, a measure that points at a model node) live in `moclab.study.checks`,
which reports them at their YAML line together with the problems found in the data.

`read_config` is forgiving on purpose: after reporting the schema errors it drops the offending keys and
tries again, so `moclab validate` can still check the data tables and list every problem of a broken study
in one run.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import ConfigDict, Field

from moclab.errors import Problem, StudyError, ValidationError, display_path
from moclab.study.evidence_settings import EvidenceSettings
from moclab.study.qualitative_settings import QualitativeSettings
from moclab.study.sources.spec import SourceSpec
from moclab.yamlio import YamlList, YamlMap, load_yaml, problems_from_pydantic

CONFIG_NAME = "moclab.yaml"
FORMAT_VERSION = 1

#: Cell texts read as "no value" unless a table lists its own `missing` values.
DEFAULT_MISSING: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", "null", "NULL")

ColumnType = Literal["string", "integer", "number", "category", "date", "boolean"]
MeasureLevel = Literal["individual", "team", "site", "organization", "system"]


class _Strict(pydantic.BaseModel):
    # Numbers are accepted where text is expected (a sheet called 2024, a wave id 1) because YAML turns such
    # unquoted values into numbers and the user meant the text.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Wave(_Strict):
    """One planned measurement occasion; waves are listed in time order."""

    id: str
    label: str | None = None
    date: datetime.date | None = None
    month: float | None = Field(default=None, description="planned months since the start of the study")

    @property
    def title(self) -> str:
        """The label, or the id when there is no label."""
        return self.label or self.id


class Randomization(_Strict):
    """Which level was randomized and to which arms; `level` is `none`, the unit, cluster or team name."""

    level: str = "none"
    arms: list[str] = []
    control: str | None = None


class Manipulation(_Strict):
    """A factor randomized to change a mechanism directly (an encouragement design; Imai, Tingley & Yamamoto
    2013): the recipients-table `column` holding each recipient's assignment, the model node `mechanism` it
    targets, the `level` it was randomized at, and the `control` value (those who did not get it)."""

    column: str
    mechanism: str
    level: str = "none"
    control: str


class Design(_Strict):
    """The shape of the study: level names, randomization, factors that target mechanisms, and waves."""

    unit: str = "recipient"
    cluster: str = "site"
    team: str | None = None
    randomization: Randomization = Randomization()
    manipulations: list[Manipulation] = []
    waves: list[Wave] = Field(min_length=1)

    @property
    def wave_ids(self) -> list[str]:
        return [wave.id for wave in self.waves]


class ColumnSpec(_Strict):
    """What one column of a table holds: its type, allowed values or range, and the model node it measures."""

    type: ColumnType = "string"
    label: str | None = None
    values: list[Any] | None = None
    min: float | None = None
    max: float | None = None
    required: bool = True
    missing: bool = True
    date_format: str | None = None
    node: str | None = None


class _Table(_Strict):
    """What every table entry has: where the file is and how to read it."""

    path: str
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    missing: list[str] = list(DEFAULT_MISSING)
    columns: dict[str, ColumnSpec] = {}


class RecipientsTable(_Table):
    """One row per recipient: id, cluster, optional team and arm, covariates and attributes."""

    id: str = "recipient_id"
    cluster: str = "site"
    team: str | None = None
    arm: str | None = None
    covariates: list[str] = []


class MeasuresTable(_Table):
    """Long format: one row per recipient, wave and measure."""

    recipient: str = "recipient_id"
    wave: str = "wave"
    measure: str = "measure"
    value: str = "value"
    date: str | None = None


class ActivitiesTable(_Table):
    """The support log: one row per contact, for a cluster (site) or a recipient."""

    date: str = "date"
    cluster: str | None = None
    recipient: str | None = None
    component: str = "component"
    minutes: str = "minutes"
    mode: str | None = None


class OutcomesTable(_Table):
    """Long format like measures, for units at another level (`level`: a site, team or recipient)."""

    level: str | None = None
    id: str = "site"
    wave: str = "wave"
    measure: str = "measure"
    value: str = "value"
    date: str | None = None


class Tables(_Strict):
    """The data tables of the study; recipients and measures are required."""

    recipients: RecipientsTable
    measures: MeasuresTable
    activities: ActivitiesTable | None = None
    outcomes: OutcomesTable | None = None

    def items(self) -> list[tuple[str, _Table]]:
        """(name, table) for each declared table, in the order they are checked."""
        names = ("recipients", "measures", "activities", "outcomes")
        return [(name, getattr(self, name)) for name in names if getattr(self, name) is not None]


class MeasureSpec(_Strict):
    """A declared measure (variable): what it measures and the range its values must lie in.

    With `instrument`, the measure is scored from the instrument's item rows (see docs/measures.md):
    `subscale` scores one subscale only, `items` maps item ids to the names the data uses for them.
    """

    label: str | None = None
    node: str | None = None
    range: tuple[float, float] | None = None
    level: MeasureLevel = "individual"
    instrument: str | None = None
    subscale: str | None = None
    items: dict[str, str] | None = None


class StudyConfig(_Strict):
    """The whole `moclab.yaml`."""

    format: Literal[1] = FORMAT_VERSION
    title: str
    synthetic: bool = False
    description: str | None = None
    citations: list[str] = []
    model: str | None = None
    frameworks: list[str] = []
    instruments: list[str] = []
    design: Design
    tables: Tables
    measures: dict[str, MeasureSpec] = {}
    sources: list[SourceSpec] = []  # exports item responses are read from (docs/sources.md)
    evidence: EvidenceSettings = EvidenceSettings()  # how the scorecard judges pathways (docs/criteria.md)
    qualitative: QualitativeSettings | None = None  # coded interviews for plausibility (docs/criteria.md)

    def node_of(self, measure: str) -> str:
        """The model node a measure stands for: its `node`, or the node with the measure's name."""
        spec = self.measures.get(measure)
        return spec.node if spec is not None and spec.node else measure


def find_config(path: str | Path) -> Path:
    """The `moclab.yaml` of a study given its folder (or the file itself)."""
    path = Path(path)
    if path.is_dir():
        config = path / CONFIG_NAME
        if not config.exists():
            raise StudyError(
                f"{display_path(path)}: no {CONFIG_NAME} in this folder, so it is not a moclab study",
                hint="start one with `moclab new FOLDER`, or try `moclab example FOLDER`",
            )
        return config
    if path.exists():
        return path
    raise StudyError(f"{display_path(path)}: no such study folder or file")


def read_config(path: str | Path) -> tuple[StudyConfig | None, Any, list[Problem]]:
    """Read `moclab.yaml` and validate its schema, keeping going after errors where that is safe.

    Parameters
    ----------
    path
        The config file.

    Returns
    -------
    config, data, problems
        `config` is the validated configuration, built without the offending keys when there were schema
        errors, or None when a required part is missing; `data` is the loaded YAML (with line positions);
        `problems` lists every schema error at its line.

    Raises
    ------
    ConfigError
        When the file cannot be read as YAML at all (malformed, a Python tag, not UTF-8, empty).
    """
    path = Path(path)
    data = load_yaml(path)
    return config_from_data(data, display_path(path))


def config_from_data(data: Any, shown: str) -> tuple[StudyConfig | None, Any, list[Problem]]:
    """Validate the schema of a config given as data (what `read_config` does after reading the file).

    `shown` names the config in problems; `data` may carry line positions (`moclab.yaml.load_yaml`) or be a
    plain dict (then problems name no line).
    """
    if not isinstance(data, dict):
        problem = Problem(
            f"expected a mapping of keys (title:, design:, tables:, ...), found {type(data).__name__}",
            file=shown,
            line=1,
            hint="see docs/study-format.md for the layout of moclab.yaml",
        )
        return None, data, [problem]
    try:
        return StudyConfig.model_validate(data), data, []
    except pydantic.ValidationError as exc:
        problems = problems_from_pydantic(exc, data, shown, StudyConfig)
    return _salvage(data), data, problems


def load_config(path: str | Path) -> StudyConfig:
    """Read and validate `moclab.yaml` (schema only), raising one ValidationError listing every problem.

    Examples
    --------
    >>> from moclab.study import example_path, load_config
    >>> config = load_config(example_path())
    >>> config.design.randomization.level, [wave.id for wave in config.design.waves]
    ('site', ['baseline', 'm6', 'm12'])
    >>> config.model, config.tables.measures.path
    ('model.yaml', 'data/measures.csv')

    A misspelt key is reported at its line, with a suggestion:

    >>> from moclab.errors import ValidationError
    >>> from moclab.study import copy_example
    >>> config_file = copy_example("trial") / "moclab.yaml"
    >>> text = config_file.read_text(encoding="utf-8")
    >>> _ = config_file.write_text(text.replace("  cluster: site", "  clustre: site", 1), encoding="utf-8")
    >>> try:
    ...     load_config("trial")
    ... except ValidationError as error:
    ...     print(error.problems[0])
    trial/moclab.yaml:27:3: unknown key 'clustre' (did you mean 'cluster'?)
    """
    config, _, problems = read_config(find_config(path))
    if problems or config is None:
        raise ValidationError(display_path(path), problems)
    return config


def _salvage(data: Any) -> StudyConfig | None:
    """The config without the keys pydantic rejected, or None when a required part cannot be recovered.

    Each pass removes what the errors point at (an unknown key, a value of the wrong type, which then takes
    its default) or, for a missing required key, the list item or mapping entry that lacks it. The loop ends
    when the config validates or when nothing more can be removed.
    """
    plain = _plain(data)
    for _ in range(50):
        try:
            return StudyConfig.model_validate(plain)
        except pydantic.ValidationError as exc:
            locations = {tuple(error["loc"]) for error in exc.errors()}
        removed = False
        for loc in sorted(locations, key=_loc_order, reverse=True):
            removed |= _remove(plain, loc)
        if not removed:
            return None
    return None


def _loc_order(loc: tuple[Any, ...]) -> list[tuple[int, Any]]:
    # Later list items are removed first so the indices of earlier ones stay valid.
    return [(0, step) if isinstance(step, int) else (1, str(step)) for step in loc]


def _remove(plain: Any, loc: tuple[Any, ...]) -> bool:
    """Delete the element at `loc`; when it does not exist (a missing key), delete its container instead."""
    for cut in (len(loc), len(loc) - 1):
        if cut < 1:  # a missing top-level section (`tables`, `design`) cannot be recovered
            return False
        parent = plain
        for step in loc[: cut - 1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        last = loc[cut - 1]
        if isinstance(parent, dict) and last in parent:
            del parent[last]
            return True
        if isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
            del parent[last]
            return True
    return False


def _plain(data: Any) -> Any:
    """A position-free deep copy of loaded YAML (plain dicts and lists), safe to edit."""
    if isinstance(data, YamlMap | dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, YamlList | list):
        return [_plain(item) for item in data]
    return data
