"""The simulation spec: effect sizes, design, measurement and missingness of a simulated study.

A spec is a YAML file (documented in docs/simulate.md) or the equivalent Python object, `SimulationSpec`.
This module holds its schema (pydantic models with ``extra="forbid"``, so a misspelt key gets a "did you
mean" at its line) and the readers (`load_spec`, `loads_spec`, `spec_from_dict`). Checks that need the
pathway model (does the edge exist, is the node a mechanism) live in `moclab.simulate.checks`; they are
run when a spec is compiled against a model and are located at their YAML line too, because a spec read
from YAML keeps its loaded data privately (`SimulationSpec.where`).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BeforeValidator, ConfigDict, Field

from moclab.errors import ConfigError, Problem, ValidationError, display_path
from moclab.yamlio import load_yaml, loads_yaml, locate, problems_from_pydantic

SPEC_FORMAT = 1

#: Level names a spec may use, and the level each stands for. A model node's level (individual, team,
#: organization, system) maps the same way: everything above the team is the site in a simulated study.
LEVEL_WORDS = {
    "individual": "individual",
    "recipient": "individual",
    "person": "individual",
    "team": "team",
    "site": "site",
    "cluster": "site",
    "organization": "site",
    "organisation": "site",
    "system": "site",
}


def _level(value: Any) -> Any:
    if isinstance(value, str):
        return LEVEL_WORDS.get(value.strip().lower(), value)
    return value


Level = Annotated[Literal["individual", "team", "site"], BeforeValidator(_level)]
UnitLevel = Annotated[Literal["recipient", "team", "site"], BeforeValidator(lambda v: _unit_level(v))]
Share = Annotated[float, Field(gt=0, lt=1)]
Icc = Annotated[float, Field(ge=0, lt=1)]
Stability = Annotated[float, Field(ge=0, lt=1)]
Rate = Annotated[float, Field(ge=0, lt=1)]


def _unit_level(value: Any) -> Any:
    level = _level(value)
    return "recipient" if level == "individual" else level


class _Strict(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


# -- design ---------------------------------------------------------------------------------------------


class SizeSpec(_Strict):
    """How many units (recipients per site, teams per site): a range, or a mean with a distribution.

    Written in YAML as a number (fixed), ``{range: [30, 70]}`` (uniform whole numbers) or
    ``{mean: 50, distribution: poisson, min: 20}``.
    """

    range: tuple[int, int] | None = None
    mean: float | None = Field(default=None, gt=0)
    distribution: Literal["poisson", "fixed"] = "poisson"
    min: int = Field(default=1, ge=1)

    @pydantic.model_validator(mode="after")
    def _one_form(self) -> SizeSpec:
        if (self.range is None) == (self.mean is None):
            raise ValueError("give either 'range: [low, high]' or 'mean' (with 'distribution'), not both")
        if self.range is not None and not (1 <= self.range[0] <= self.range[1]):
            raise ValueError("'range' must be [low, high] with 1 <= low <= high")
        return self

    @property
    def expected(self) -> float:
        """The mean size (before the minimum is applied to Poisson draws)."""
        if self.range is not None:
            return (self.range[0] + self.range[1]) / 2
        return float(self.mean or 0)


Size = Annotated[int, Field(ge=1)] | SizeSpec


class WaveSpec(_Strict):
    """One measurement occasion: its id in the data, months since the start, a label."""

    id: str
    month: float
    label: str | None = None


class WaveSeries(_Strict):
    """``count`` waves, ``interval_months`` apart, the first at month 0 (ids ``baseline``, ``m6``, ...; a
    single wave is ``post``, a post-test)."""

    count: int = Field(ge=1)
    interval_months: float = Field(default=6.0, gt=0)


class RandomizationSpec(_Strict):
    """Who gets the strategy: randomized at a level, or not randomized (observational)."""

    level: Literal["none", "site", "team", "recipient"] = "site"
    arms: dict[str, str] = {}
    control: str = "control"
    allocation: Share = 0.5
    exposure: Literal["binary", "continuous"] = "binary"
    exposure_level: UnitLevel | None = None

    @pydantic.field_validator("level", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() != "none":
            return _unit_level(value)
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def unit(self) -> str:
        """The level at which exposure varies: the randomized level, or `exposure_level` (site)."""
        if self.level != "none":
            return self.level
        return self.exposure_level or "site"


class DesignSpec(_Strict):
    """Sites, recipients and teams per site, randomization, waves and when the strategy starts."""

    sites: int = Field(ge=1)
    recipients: Size = 30
    teams: Size | None = None
    randomization: RandomizationSpec = RandomizationSpec()
    waves: list[WaveSpec] | WaveSeries = WaveSeries(count=1)
    start_month: float | None = None
    start_date: datetime.date = datetime.date(2024, 1, 15)

    def wave_list(self) -> list[WaveSpec]:
        """The waves, written out (a `WaveSeries` becomes ``baseline``, ``m6``, ``m12``, ...)."""
        if isinstance(self.waves, WaveSeries):
            waves = []
            if self.waves.count == 1:  # one wave is a post-test: the strategy acts before it
                return [WaveSpec(id="post", month=0.0, label="Post-test")]
            for index in range(self.waves.count):
                month = index * self.waves.interval_months
                name = "baseline" if index == 0 else f"m{month:g}".replace(".", "_")
                label = "Baseline" if index == 0 else f"{month:g} months"
                waves.append(WaveSpec(id=name, month=month, label=label))
            return waves
        return list(self.waves)

    @property
    def strategy_start(self) -> float:
        """The month after which the strategy acts: `start_month`, else the first wave's month (baseline
        before the strategy), or just before the only wave of a one-wave (post-test) design."""
        if self.start_month is not None:
            return self.start_month
        waves = self.wave_list()
        return waves[0].month if len(waves) > 1 else waves[0].month - 1.0


# -- effects --------------------------------------------------------------------------------------------


class PathSpec(_Strict):
    """One causal edge: its effect (a standardized path coefficient) and lag in waves (0 or 1)."""

    effect: float
    lag: Literal[0, 1] | None = None


class VariableSpec(_Strict):
    """Settings of one model node: clustering, stability and how it is measured.

    Every field is optional; unset fields come from the spec's `defaults`, then from the built-in defaults
    (see `BUILTIN_DEFAULTS`).
    """

    icc: Icc | None = None
    team_icc: Icc | None = None
    stability: Stability | None = None
    measured: bool | None = None
    measure: str | None = None
    label: str | None = None
    table: Literal["measures", "outcomes"] | None = None
    instrument: str | None = None
    subscale: str | None = None
    alpha: Annotated[float, Field(gt=0, lt=1)] | None = None
    reliability: Annotated[float, Field(gt=0, le=1)] | None = None
    mean: float | None = None
    sd: Annotated[float, Field(gt=0)] | None = None
    range: tuple[float, float] | None = None
    decimals: Annotated[int, Field(ge=0, le=10)] | None = None

    @pydantic.field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError("'range' must be [min, max] with min < max")
        return value


#: What a node gets when neither its `variables` entry nor the spec's `defaults` says otherwise.
BUILTIN_DEFAULTS = VariableSpec(
    icc=0.05,
    team_icc=0.0,
    stability=0.4,
    measured=True,
    alpha=0.85,
    reliability=1.0,
    decimals=4,
)


def _yes_no(value: Any) -> Any:
    """YAML reads unquoted yes/no as booleans; as category labels they were meant as text."""
    if isinstance(value, list | tuple):
        return [("yes" if item else "no") if isinstance(item, bool) else item for item in value]
    return value


Labels = Annotated[tuple[str, str], BeforeValidator(_yes_no)]


class ModeratorSpec(_Strict):
    """A moderator node: its values and level, its interaction with the edges it moderates, its main effect.

    A binary moderator is coded 1 for the first of `values` and 0 for the second and centred at its share,
    so `interaction` is the difference in the moderated path between the two groups and the path itself is
    the average over them. A continuous moderator is standard normal: `interaction` is per SD.
    """

    kind: Literal["binary", "continuous"] = "continuous"
    values: Labels = ("high", "low")
    share: Share = 0.5
    level: Level | None = None
    interaction: float | dict[str, float] = 0.0
    main: float = 0.0
    observed: bool = True


class PreconditionSpec(_Strict):
    """A precondition node: the share of units where it holds. Where it does not, the node that requires it
    does not respond (a strategy has no effect; a mechanism ignores its causes)."""

    share: Annotated[float, Field(gt=0, le=1)] = 1.0
    level: Level | None = None
    values: Labels = ("yes", "no")


class ConfounderSpec(_Strict):
    """A variable outside the model that causes several model nodes (and, in an observational design, who
    is exposed to the strategy): the common cause of a mechanism and an outcome that mediation analysis
    cannot see unless it is observed and adjusted for."""

    level: Level = "individual"
    effects: dict[str, float] = {}
    exposure: float = 0.0
    observed: bool = False
    icc: Icc = 0.0
    stability: Stability = 0.8


class DoseSpec(_Strict):
    """The support log: how much support exposed units receive and how the mechanisms respond to it."""

    level: UnitLevel | None = None
    minutes_per_month: float = Field(default=120.0, gt=0)
    cv: float = Field(default=0.5, ge=0, le=3)
    control_minutes_per_month: float = Field(default=0.0, ge=0)
    contact_minutes: float = Field(default=60.0, gt=0)
    components: list[str] = []
    modes: dict[str, Annotated[float, Field(gt=0)]] = {"virtual": 0.6, "in_person": 0.4}
    slopes: float | dict[str, float] = 0.0


class MissingSpec(_Strict):
    """MCAR missing values (a share per wave) and monotone dropout (a share per wave after the first)."""

    rate: Rate | list[Rate] = 0.0
    dropout: Rate | list[Rate] = 0.0


class SimulationSpec(_Strict):
    """Everything a simulated study needs besides the pathway model and the seed.

    Build one from YAML with `load_spec`/`loads_spec`, from a dict with `spec_from_dict`, or directly::

        SimulationSpec(design={"sites": 20, "recipients": 30}, paths={"training->knowledge": 0.5})

    The format is described in docs/simulate.md.
    """

    format: Literal[1] = SPEC_FORMAT
    title: str | None = None
    description: str | None = None
    scale: Literal["standardized", "unit-residual"] = "standardized"
    seed: int | None = Field(default=None, ge=0)
    instruments: list[str] = []
    design: DesignSpec
    paths: dict[str, float | PathSpec] = {}
    default_path: float = 0.0
    null_mechanisms: list[str] = []
    direct: dict[str, float] = {}
    defaults: VariableSpec = VariableSpec()
    variables: dict[str, VariableSpec] = {}
    moderators: dict[str, ModeratorSpec] = {}
    preconditions: dict[str, PreconditionSpec] = {}
    confounders: dict[str, ConfounderSpec] = {}
    dose: DoseSpec | None = None
    missing: MissingSpec = MissingSpec()
    qualitative: str | None = None  # "simulated", "example" or a .qdpx file: coded interviews of the study
    interviews: int = Field(default=12, ge=2, le=500)  # how many with `qualitative: simulated`

    _source: str | None = pydantic.PrivateAttr(default=None)
    _data: Any = pydantic.PrivateAttr(default=None)

    @pydantic.field_validator("scale", mode="before")
    @classmethod
    def _scale_words(cls, value: Any) -> Any:
        return value.strip().lower().replace("_", "-") if isinstance(value, str) else value

    # -- where things were written -------------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        """The file (or other source name) the spec was read from, if any."""
        return self._source

    def where(self, *loc: str | int) -> dict[str, Any]:
        """Location keywords for a `Problem` about the key at path `loc` (``"paths", "a->b"``)."""
        found: dict[str, Any] = {"file": self._source or "simulation spec"}
        position = locate(self._data, list(loc)) if self._data is not None else None
        if position:
            found["line"], found["column"] = position
        else:
            found["field"] = ".".join(str(step) for step in loc)
        return found

    def located(self, source: str | None, data: Any) -> SimulationSpec:
        """This spec, remembering the file it came from and the loaded YAML (for line numbers)."""
        self._source = source
        self._data = data
        return self

    # -- derived views -------------------------------------------------------------------------------------

    def instrument_paths(self) -> list[Path]:
        """The spec's own instrument files, relative to the spec file's folder (or the working folder)."""
        base = Path(self._source).parent if self._source and Path(self._source).is_file() else Path()
        return [base / name for name in self.instruments]

    def qualitative_project(self) -> Path | None:
        """The coded interviews the simulated study gets (``qual/project.qdpx``), or None.

        ``qualitative: example`` is moclab's bundled synthetic interview project
        (`moclab.qual.example_project_path`); any other value is a ``.qdpx`` file, relative to the spec file's
        folder (or the working folder). These interviews are not generated from the truth: they are the same
        made-up interviews whatever the effects. ``qualitative: simulated`` (interviews generated from the
        truth, `moclab.simulate.interviews`) has no file: None, as without interviews.
        """
        if self.qualitative is None or self.simulated_interviews:
            return None
        if self.qualitative.strip().lower() == "example":
            from moclab.qual import example_project_path  # the interviews live with the qualitative layer

            return example_project_path()
        path = Path(self.qualitative).expanduser()
        if path.is_absolute():
            return path
        base = Path(self._source).parent if self._source and Path(self._source).is_file() else Path()
        return base / path

    @property
    def simulated_interviews(self) -> bool:
        """Whether the study gets coded interviews generated from its truth (``qualitative: simulated``)."""
        return self.qualitative is not None and self.qualitative.strip().lower() == "simulated"

    def variable(self, node: str) -> VariableSpec:
        """The settings of `node`: its own entry over the spec's defaults over the built-in defaults."""
        merged = BUILTIN_DEFAULTS.model_dump()
        for layer in (self.defaults, self.variables.get(node)):
            if layer is not None:
                merged.update({name: getattr(layer, name) for name in layer.model_fields_set})
        return VariableSpec.model_validate(merged)

    def with_design(self, **changes: Any) -> SimulationSpec:
        """A copy with design keys replaced (``sites=20, recipients=30, waves={"count": 3}``), checked again.

        Raises
        ------
        ValidationError
            A replaced value is invalid (for example ``sites=0``).
        """
        data = self.model_dump(mode="python", exclude_unset=True)
        design = dict(data.get("design", {}))
        design.update(changes)
        data["design"] = design
        return spec_from_dict(data, source="design change").located(self._source, None)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The spec as plain data for YAML or JSON (only the keys that were set, so it reads like input)."""
        return self.model_dump(mode="json", exclude_unset=True)


# -- reading --------------------------------------------------------------------------------------------


def spec_from_dict(data: Any, source: str = "simulation spec") -> SimulationSpec:
    """Validate loaded data as a simulation spec; every schema problem is reported at once, located.

    Raises
    ------
    ValidationError
        With a `Problem` per unknown key (with "did you mean"), wrong type or out-of-range value.

    Examples
    --------
    >>> from moclab.simulate import spec_from_dict
    >>> spec = spec_from_dict({"design": {"sites": 10, "recipients": {"mean": 20}}, "paths": {"a->b": 0.5}})
    >>> spec.design.sites, spec.design.recipients.distribution, spec.paths
    (10, 'poisson', {'a->b': 0.5})

    >>> from moclab.errors import ValidationError
    >>> try:
    ...     spec_from_dict({"design": {"sites": 10, "recipents": 20}})
    ... except ValidationError as error:
    ...     print(error.problems[0])
    simulation spec: unknown key 'recipents' (did you mean 'recipients'?)
    """
    if not isinstance(data, dict):
        position = getattr(data, "position", None)
        line, column = position if position else (None, None)
        raise ValidationError(
            source,
            [
                Problem(
                    "a simulation spec must be a mapping of keys (design:, paths:, ...)",
                    file=source,
                    line=line,
                    column=column,
                    hint="see docs/simulate.md for the format",
                )
            ],
        )
    try:
        spec = SimulationSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(source, problems_from_pydantic(exc, data, source, SimulationSpec)) from None
    return spec.located(source, data)


def loads_spec(text: str, source: str = "<spec>") -> SimulationSpec:
    """Read a simulation spec from YAML text (malformed YAML is a `ConfigError` with line and column).

    Examples
    --------
    >>> from moclab.simulate import compile_simulation, loads_spec
    >>> text = '''
    ... design:
    ...   sites: 10
    ...   recipients: 20
    ...   randomization: {level: site}
    ...   waves: {count: 2, interval_months: 6}
    ... paths:
    ...   isp_support->trust: 0.5
    ...   trust->acceptability: 0.3
    ... '''
    >>> spec = loads_spec(text, "small.yaml")
    >>> spec.design.sites, spec.design.waves.count, spec.paths["isp_support->trust"]
    (10, 2, 0.5)
    >>> compile_simulation("recipient-pathway", spec).wide(seed=1).shape  # 10 x 20 recipients, 2 waves
    (400, 19)

    Problems name their line in the text:

    >>> from moclab.errors import ValidationError
    >>> try:
    ...     loads_spec(text.replace("recipients:", "recipents:"), "small.yaml")
    ... except ValidationError as error:
    ...     print(error.problems[0])
    small.yaml:4:3: unknown key 'recipents' (did you mean 'recipients'?)
    """
    data = loads_yaml(text, source)
    if data is None:
        raise ConfigError(f"{source}: the spec is empty")
    return spec_from_dict(data, source)


def load_spec(path: str | Path) -> SimulationSpec:
    """Read a simulation spec from a YAML file.

    Raises
    ------
    ConfigError
        Missing, empty, non-UTF-8 or malformed file.
    ValidationError
        Schema problems, each with its line.

    Examples
    --------
    >>> from moclab.simulate import default_spec_path, load_spec
    >>> spec = load_spec(default_spec_path("recipient-pathway"))
    >>> spec.design.sites, spec.paths["isp_support->trust"], spec.null_mechanisms
    (40, 0.5, ['credibility'])
    """
    return spec_from_dict(load_yaml(path), display_path(path))


def coerce_spec(spec: SimulationSpec | dict | str | Path) -> SimulationSpec:
    """A `SimulationSpec` from a spec, a dict, or the path of a YAML file."""
    if isinstance(spec, SimulationSpec):
        return spec
    if isinstance(spec, dict):
        return spec_from_dict(spec)
    if isinstance(spec, str | Path):
        return load_spec(spec)
    raise TypeError(f"expected a SimulationSpec, a dict or a YAML path, got {type(spec).__name__}")
