"""Compiling a pathway model and a simulation spec into a `SimulationPlan`: everything the generator needs,
as numbers and index arrays, so each simulated data set is a handful of vectorized numpy operations.

The latent model
----------------
Every determinant, mechanism and outcome of the model (and every confounder of the spec) is a latent
variable V measured at each wave t. In wave order, and within a wave in causal order::

    V_t = φ·V_{t-1} + (1 - φ)·(u_site + u_team) + Σ β·P_{t-lag} + Σ γ·W·P_{t-lag} + e_t
          + exposed·active_t·(a + g·z_dose + Σ γ·W)

with stability (autoregression) φ, site and team random intercepts u, causal parents P with standardized
path coefficients β and lags of 0 or 1 wave, moderators W (centred) with interactions γ, independent
innovations e, and the strategy's effect a, which starts after the strategy begins (``active_t``) and
grows with the support received (g per SD of the support rate). Preconditions switch a node's inputs
off where they do not hold. Moderators and site-level confounders are constants (φ = 0, no innovation).

This is a cross-lagged panel model with random intercepts (Hamaker, Kuiper & Grasman, 2015) written for
causal chains: the intercepts are scaled by (1 - φ) so that u is the long-run level they add.

Standardization
---------------
Without the strategy, the model is a stationary vector autoregression ``V_t = A·V_{t-1} + C·(L·u + e_t)``
with ``C = (I - B0)^-1`` for the lag-0 paths B0 and ``A = C·(Φ + B1)`` for the stability and lag-1 paths.
Its covariance is ``Σ = G·T·G' + Σ_W``: the constants' part through ``G = (I - A)^-1·C·(I - Φ)`` and the
innovations' part, the solution of the discrete Lyapunov equation ``Σ_W = A·Σ_W·A' + C·D·C'``. With
``scale: standardized`` (the default) each node's own variance (its intercepts T and innovations D) is
set, in causal order, to what its causes leave of a total variance of 1, so every path coefficient is a
standardized coefficient in the population without the strategy, and ``a`` is a standardized mean
difference. The node's ICC splits that residual variance between sites, teams and the individual
(the ICC among recipients of the same arm). With ``scale: unit-residual`` the residual variance is 1
instead, the metric of MacKinnon et al. (2002) and Fritz & MacKinnon (2007).

References
----------
Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the cross-lagged panel model.
*Psychological Methods*, 20(1), 102-116.
Lütkepohl, H. (2005). *New Introduction to Multiple Time Series Analysis*, sec. 2.1.4 (the covariance of a
stable VAR from the Lyapunov equation). Springer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from scipy import linalg

from moclab.analysis.intervals import covariance_root
from moclab.errors import ModelError, Problem, ValidationError
from moclab.model import NodeType, PathwayModel, find_model, load_model
from moclab.model.export.lavaan import path_prefix
from moclab.simulate.checks import (
    DYNAMIC_TYPES,
    check_spec,
    moderated_edges,
    parse_edge_key,
)
from moclab.simulate.measurement import loading_for_alpha
from moclab.simulate.spec import LEVEL_WORDS, SimulationSpec, WaveSpec, coerce_spec

if TYPE_CHECKING:
    import pandas as pd

    from moclab.simulate.study import SimulatedStudy
    from moclab.simulate.truth import Truth

#: Below this share of its variance left to its own causes a node is considered over-determined.
_MIN_RESIDUAL = 0.02


@dataclass(frozen=True)
class Term:
    """One causal input into a latent node: ``coefficient · parent`` (plus moderator interactions)."""

    source: int
    coefficient: float
    lag: int
    moderators: tuple[tuple[int, float], ...] = ()
    gates: tuple[int, ...] = ()


@dataclass(frozen=True)
class StrategyTerm:
    """The effect of exposure to one strategy on a latent node, once the strategy is active."""

    strategy: int
    coefficient: float
    slope: float = 0.0
    moderators: tuple[tuple[int, float], ...] = ()
    gates: tuple[int, ...] = ()


@dataclass(frozen=True)
class LatentNode:
    """A latent variable of the simulation, with what drives it and how much of it is its own."""

    id: str
    role: str  # a model node type ("mechanism"), "moderator" or "confounder"
    level: str  # individual, team or site: where a constant node varies
    stability: float
    noise_sd: float
    site_sd: float
    team_sd: float
    person_sd: float
    binary_share: float | None = None
    terms: tuple[Term, ...] = ()
    strategy_terms: tuple[StrategyTerm, ...] = ()


@dataclass(frozen=True)
class PreconditionPlan:
    id: str
    level: str
    share: float
    values: tuple[str, str]
    requires: tuple[str, ...]


@dataclass(frozen=True)
class MeasurePlan:
    """How one latent node becomes data: a scale score (continuous) or the items of an instrument."""

    node: str
    index: int
    name: str
    table: str  # "measures" or "outcomes" (a site-level value: the site mean)
    label: str | None
    level: str  # the construct's level for moclab.yaml
    kind: str  # "continuous" or "items"
    mean: float
    sd: float
    reliability: float = 1.0
    range: tuple[float, float] | None = None
    decimals: int = 4
    instrument: str | None = None
    subscale: str | None = None
    item_ids: tuple[str, ...] = ()
    item_fields: tuple[str, ...] = ()
    reverse: tuple[bool, ...] = ()
    minimum: int = 0
    maximum: int = 0
    scoring: str = "mean"
    min_items: int = 1
    loading: float = 1.0
    alpha_target: float | None = None
    alpha_expected: float | None = None

    @property
    def observed_factor(self) -> float | None:
        """Observed-score units per latent SD (continuous scores only; None for Likert items)."""
        return self.sd * math.sqrt(self.reliability) if self.kind == "continuous" else None


@dataclass(frozen=True)
class DosePlan:
    level: str  # recipient, team or site
    minutes_per_month: float
    cv: float
    control_minutes_per_month: float
    contact_minutes: float
    components: tuple[str, ...]
    modes: tuple[str, ...]
    mode_weights: tuple[float, ...]
    slopes: dict[str, float]

    @property
    def rate_sd(self) -> float:
        """SD of the support rate (minutes per month) between exposed units."""
        return self.minutes_per_month * self.cv


@dataclass(frozen=True)
class ExposurePlan:
    randomized: bool
    unit: str  # recipient, team or site
    kind: str  # binary or continuous
    allocation: float
    confounders: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True, eq=False)
class SimulationPlan:
    """A compiled simulation: the model and spec turned into arrays; call `wide` or `study` to draw data.

    Build with `compile_simulation`. A plan is immutable and can be reused for any number of seeds (the
    power analysis compiles a design once and draws thousands of data sets from it).
    """

    model: PathwayModel
    spec: SimulationSpec
    strategies: tuple[str, ...]
    arm_labels: tuple[str, ...]
    control_label: str
    nodes: tuple[LatentNode, ...]
    preconditions: tuple[PreconditionPlan, ...]
    waves: tuple[WaveSpec, ...]
    months: np.ndarray
    active: np.ndarray
    start_month: float
    measures: tuple[MeasurePlan, ...]
    exposure: ExposurePlan
    dose: DosePlan | None
    has_teams: bool
    # The stationary no-strategy system (see the module docstring).
    lag0: np.ndarray
    lag1: np.ndarray
    stability: np.ndarray
    intercept_map: np.ndarray
    innovation_factor: np.ndarray
    site_variance: np.ndarray
    team_variance: np.ndarray
    person_variance: np.ndarray
    innovation_variance: np.ndarray
    paths: tuple[dict[str, Any], ...] = field(default=())
    instruments: dict[str, Any] = field(default_factory=dict)

    @property
    def node_ids(self) -> list[str]:
        return [node.id for node in self.nodes]

    def index(self, node: str) -> int:
        return self.node_ids.index(node)

    @cached_property
    def covariance(self) -> np.ndarray:
        """Covariance of the latent nodes in the stationary population without the strategy."""
        constants = self.site_variance + self.team_variance + self.person_variance
        between = self.intercept_map @ np.diag(constants) @ self.intercept_map.T
        return between + self.innovation_factor @ self.innovation_factor.T

    @cached_property
    def truth(self) -> Truth:
        """What is true by construction: paths, indirect effects per pathway, nulls, ICCs (no realised
        values; `simulate_study` adds those)."""
        from moclab.simulate.truth import analytic_truth

        return analytic_truth(self)

    def wide(
        self,
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        *,
        measurement: str = "observed",
        items: bool = False,
    ) -> pd.DataFrame:
        """One simulated data set as the analysis-ready wide frame (no files; see `simulate_wide`).

        `seed` None takes the spec's `seed`, or fresh entropy when the spec has none.
        """
        from moclab.simulate.generate import draw
        from moclab.simulate.tables import wide_frame

        drawn = draw(self, self._seed(seed), measurement=measurement, items=items)
        return wide_frame(self, drawn, items=items)

    def study(self, seed: int | np.random.SeedSequence | np.random.Generator | None = None) -> SimulatedStudy:
        """One simulated study with its tables and truth (see `simulate_study`); `seed` as in `wide`."""
        from moclab.simulate.study import study_from_plan

        return study_from_plan(self, self._seed(seed))

    def _seed(self, seed: int | np.random.SeedSequence | np.random.Generator | None) -> Any:
        return self.spec.seed if seed is None and self.spec.seed is not None else seed


# -- building -------------------------------------------------------------------------------------------


def coerce_model(model: PathwayModel | str | Path) -> PathwayModel:
    """A pathway model from a model object, a model file, a study folder or a template name."""
    if isinstance(model, PathwayModel):
        return model
    if isinstance(model, str | Path):
        return load_model(find_model(model))
    raise ModelError(f"expected a pathway model, a model file or a template name, got {type(model).__name__}")


def _node_level(model: PathwayModel, node: str, has_teams: bool) -> str:
    level = model.node(node).level
    mapped = LEVEL_WORDS.get(level.value if level is not None else "individual", "individual")
    return "site" if mapped == "team" and not has_teams else mapped


def _default_lag(source_type: NodeType, target_type: NodeType, n_waves: int) -> int:
    """Mechanism → outcome edges act with a lag of one wave when there are several waves (the mechanism at
    t drives the outcome at t+1, which makes the cross-lagged timeline testable); other edges within a
    wave."""
    if n_waves > 1 and source_type is NodeType.MECHANISM and target_type.is_outcome:
        return 1
    return 0


class _Builder:
    def __init__(self, model: PathwayModel, spec: SimulationSpec, registry: Any) -> None:
        self.model = model
        self.spec = spec
        self.registry = registry
        self.types = {node.id: node.type for node in model.nodes}
        self.has_teams = spec.design.teams is not None
        self.waves = spec.design.wave_list()
        self.strategies = [node.id for node in model.nodes_of(NodeType.STRATEGY)]
        self.preconditions = [node.id for node in model.nodes_of(NodeType.PRECONDITION)]
        self.problems: list[Problem] = []

    # -- latent nodes and their order --------------------------------------------------------------------

    def order(self) -> list[str]:
        graph = nx.DiGraph()
        position: dict[str, int] = {}
        for node in self.model.nodes:
            if node.type in DYNAMIC_TYPES or node.type is NodeType.MODERATOR:
                graph.add_node(node.id)
                position[node.id] = len(position)
        for name in self.spec.confounders:
            graph.add_node(name)
            position[name] = len(position)
        for edge in self.model.causal_edges():
            if graph.has_node(edge.source) and graph.has_node(edge.target):
                graph.add_edge(edge.source, edge.target)
        for moderator in (n.id for n in self.model.nodes_of(NodeType.MODERATOR)):
            for _, target in moderated_edges(self.model, moderator):
                if graph.has_node(target):
                    graph.add_edge(moderator, target)
        for name, entry in self.spec.confounders.items():
            for target in entry.effects:
                graph.add_edge(name, target)
        return list(nx.lexicographical_topological_sort(graph, key=lambda n: position[n]))

    def path_value(self, source: str, target: str) -> tuple[float, int]:
        """The coefficient and lag of a causal edge, from `paths` or the defaults."""
        value = self.spec.paths.get(f"{source}->{target}")
        if value is None:
            value = next(
                (v for k, v in self.spec.paths.items() if parse_edge_key(k) == (source, target)), None
            )
        default_lag = _default_lag(self.types[source], self.types[target], len(self.waves))
        if target in self.spec.null_mechanisms:
            return 0.0, default_lag
        if value is None:
            return float(self.spec.default_path), default_lag
        if isinstance(value, int | float):
            return float(value), default_lag
        return float(value.effect), default_lag if value.lag is None else int(value.lag)

    def interaction(self, moderator: str, source: str, target: str) -> float:
        entry = self.spec.moderators.get(moderator)
        if entry is None:
            return 0.0
        if isinstance(entry.interaction, dict):
            for key, value in entry.interaction.items():
                if parse_edge_key(key) == (source, target):
                    return float(value)
            return 0.0
        return float(entry.interaction)

    def gates_of(self, node: str) -> list[int]:
        required = self.model.preconditions_of(node)
        return [index for index, pre in enumerate(self.preconditions) if pre in required]

    def slopes(self) -> dict[str, float]:
        dose = self.spec.dose
        if dose is None:
            return {}
        from moclab.simulate.checks import strategy_targets

        targets = [t for t in strategy_targets(self.model) if t not in self.spec.null_mechanisms]
        if isinstance(dose.slopes, dict):
            return {node: float(v) for node, v in dose.slopes.items() if node in targets}
        return {node: float(dose.slopes) for node in targets}

    def build(self) -> SimulationPlan:
        order = self.order()
        index = {name: i for i, name in enumerate(order)}
        k = len(order)
        lag0 = np.zeros((k, k))
        lag1 = np.zeros((k, k))
        terms: dict[str, list[Term]] = {name: [] for name in order}
        strategy_terms: dict[str, list[StrategyTerm]] = {name: [] for name in order}
        slopes = self.slopes()
        paths: list[dict[str, Any]] = []
        for edge in self.model.causal_edges():
            source, target = edge.source, edge.target
            coefficient, lag = self.path_value(source, target)
            mods = tuple(
                (index[w], self.interaction(w, source, target))
                for w in self.model.moderators_of(source, target)
                if self.interaction(w, source, target) != 0
            )
            gates = tuple(self.gates_of(target))
            kind = path_prefix(self.types[source], self.types[target])
            paths.append(
                {
                    "from": source,
                    "to": target,
                    "kind": kind,
                    "effect": coefficient,
                    "lag": 0 if kind == "a" else lag,
                    "null": coefficient == 0,
                    "interactions": {order[w]: g for w, g in mods},
                }
            )
            if self.types[source] is NodeType.STRATEGY:
                strategy_gates = tuple(sorted(set(gates) | set(self.gates_of(source))))
                strategy_terms[target].append(
                    StrategyTerm(
                        self.strategies.index(source),
                        coefficient,
                        slopes.get(target, 0.0),
                        mods,
                        strategy_gates,
                    )
                )
                continue
            if coefficient != 0 or mods:
                terms[target].append(Term(index[source], coefficient, lag, mods, gates))
            (lag1 if lag else lag0)[index[target], index[source]] += coefficient
        for key, value in self.spec.direct.items():
            pair = parse_edge_key(key)
            assert pair is not None  # checked
            source, target = pair
            strategy_terms[target].append(
                StrategyTerm(
                    self.strategies.index(source), float(value), 0.0, (), tuple(self.gates_of(source))
                )
            )
            paths.append({"from": source, "to": target, "kind": "direct", "effect": float(value), "lag": 0})
        for moderator in (n.id for n in self.model.nodes_of(NodeType.MODERATOR)):
            entry = self.spec.moderators.get(moderator)
            main = entry.main if entry is not None else 0.0
            targets = dict.fromkeys(t for _, t in moderated_edges(self.model, moderator) if t in index)
            for target in targets:
                if main != 0:
                    terms[target].append(Term(index[moderator], main, 0))
                    lag0[index[target], index[moderator]] += main
                paths.append({"from": moderator, "to": target, "kind": "moderator", "effect": main, "lag": 0})
        for name, entry in self.spec.confounders.items():
            for target, value in entry.effects.items():
                terms[target].append(Term(index[name], float(value), 0))
                lag0[index[target], index[name]] += value
                paths.append({"from": name, "to": target, "kind": "confounder", "effect": value, "lag": 0})

        nodes, variances = self.standardize(order, lag0, lag1, terms, strategy_terms)
        if self.problems:
            raise ValidationError(self.spec.source or "simulation spec", self.problems)
        stability = np.array([node.stability for node in nodes])
        system = _System(lag0, lag1, stability)
        innovation_cov = linalg.solve_discrete_lyapunov(
            system.transition, system.inverse @ np.diag(variances["innovation"]) @ system.inverse.T
        )
        measures = self.measures(order)
        if self.problems:
            raise ValidationError(self.spec.source or "simulation spec", self.problems)
        design = self.spec.design
        rand = design.randomization
        months = np.array([wave.month for wave in self.waves], dtype=float)
        return SimulationPlan(
            model=self.model,
            spec=self.spec,
            strategies=tuple(self.strategies),
            arm_labels=tuple(rand.arms.get(s, s) for s in self.strategies),
            control_label=rand.control,
            nodes=tuple(nodes),
            preconditions=tuple(self.precondition_plans()),
            waves=tuple(self.waves),
            months=months,
            active=months > design.strategy_start,
            start_month=design.strategy_start,
            measures=tuple(measures),
            exposure=ExposurePlan(
                randomized=rand.level != "none",
                unit=rand.unit,
                kind=rand.exposure,
                allocation=rand.allocation,
                confounders=tuple(
                    (index[name], entry.exposure)
                    for name, entry in self.spec.confounders.items()
                    if entry.exposure != 0
                ),
            ),
            dose=self.dose_plan(slopes),
            has_teams=self.has_teams,
            lag0=lag0,
            lag1=lag1,
            stability=stability,
            intercept_map=system.intercept_map,
            innovation_factor=covariance_root(innovation_cov),  # constant nodes make it singular
            site_variance=variances["site"],
            team_variance=variances["team"],
            person_variance=variances["person"],
            innovation_variance=variances["innovation"],
            paths=tuple(paths),
            instruments={m.instrument: self.registry.get(m.instrument) for m in measures if m.instrument},
        )

    # -- variances -------------------------------------------------------------------------------------

    def standardize(
        self,
        order: list[str],
        lag0: np.ndarray,
        lag1: np.ndarray,
        terms: dict[str, list[Term]],
        strategy_terms: dict[str, list[StrategyTerm]],
    ) -> tuple[list[LatentNode], dict[str, np.ndarray]]:
        k = len(order)
        stability = np.zeros(k)
        roles: list[str] = []
        levels: list[str] = []
        shares: list[float | None] = []
        for i, name in enumerate(order):
            if name in self.spec.confounders:
                entry = self.spec.confounders[name]
                roles.append("confounder")
                level = "site" if entry.level == "team" and not self.has_teams else entry.level
                levels.append(level)
                stability[i] = entry.stability if level == "individual" else 0.0
                shares.append(None)
            elif self.types[name] is NodeType.MODERATOR:
                entry_m = self.spec.moderators.get(name)
                roles.append("moderator")
                level = (entry_m.level if entry_m and entry_m.level else None) or _node_level(
                    self.model, name, self.has_teams
                )
                levels.append("site" if level == "team" and not self.has_teams else level)
                shares.append(entry_m.share if entry_m and entry_m.kind == "binary" else None)
            else:
                roles.append(self.types[name].words)
                levels.append(_node_level(self.model, name, self.has_teams))
                stability[i] = self.spec.variable(name).stability or 0.0
                shares.append(None)
        system = _System(lag0, lag1, stability)
        variances = {key: np.zeros(k) for key in ("site", "team", "person", "innovation")}
        unit_residual = self.spec.scale == "unit-residual"
        for i, name in enumerate(order):
            role, level = roles[i], levels[i]
            constant = role == "moderator" or (role == "confounder" and level != "individual")
            if constant:
                share = shares[i]
                variance = share * (1 - share) if share is not None else 1.0
                variances["person" if level == "individual" else level][i] = variance
                continue
            explained = float(system.covariance(variances)[i, i])
            residual = 1.0 if unit_residual else 1.0 - explained
            if residual < _MIN_RESIDUAL:
                self.problems.append(
                    Problem(
                        f"the causes of '{name}' explain {explained:.2f} of its variance (counting what "
                        "stability accumulates over waves), leaving too little for its own variation",
                        hint="make the paths into it, or the stabilities, smaller",
                        **self.spec.where(
                            *(("variables", name) if name in self.spec.variables else ("paths",))
                        ),
                    )
                )
                residual = _MIN_RESIDUAL
            if role == "confounder":
                icc_site, icc_team = self.spec.confounders[name].icc, 0.0
            else:
                settings = self.spec.variable(name)
                icc_site, icc_team = (
                    settings.icc or 0.0,
                    (settings.team_icc or 0.0) if self.has_teams else 0.0,
                )
            variances["site"][i] = icc_site * residual
            variances["team"][i] = icc_team * residual
            variances["innovation"][i] = (1 - icc_site - icc_team) * (1 - stability[i] ** 2) * residual
        nodes = [
            LatentNode(
                id=name,
                role=roles[i],
                level=levels[i],
                stability=float(stability[i]),
                noise_sd=math.sqrt(variances["innovation"][i]),
                site_sd=math.sqrt(variances["site"][i]),
                team_sd=math.sqrt(variances["team"][i]),
                person_sd=math.sqrt(variances["person"][i]),
                binary_share=shares[i],
                terms=tuple(terms.get(name, ())),
                strategy_terms=tuple(strategy_terms.get(name, ())),
            )
            for i, name in enumerate(order)
        ]
        return nodes, variances

    # -- measurement, preconditions, dose --------------------------------------------------------------

    def measures(self, order: list[str]) -> list[MeasurePlan]:
        plans: list[MeasurePlan] = []
        used: dict[str, int] = {}
        for node in self.model.nodes:
            if node.type not in DYNAMIC_TYPES:
                continue
            settings = self.spec.variable(node.id)
            if settings.instrument and settings.measured:
                used[settings.instrument] = used.get(settings.instrument, 0) + 1
        for node in self.model.nodes:
            if node.type not in DYNAMIC_TYPES:
                continue
            settings = self.spec.variable(node.id)
            if not settings.measured:
                continue
            name = settings.measure or node.id
            level = node.level.value if node.level is not None else "individual"
            table = settings.table or ("outcomes" if level == "system" else "measures")
            common = {
                "node": node.id,
                "index": order.index(node.id),
                "name": name,
                "table": table,
                "label": settings.label or node.label,
                "level": level,
            }
            if settings.instrument:
                plans.append(self.item_plan(common, settings, used[settings.instrument] > 1))
                continue
            low_high = settings.range
            mean = settings.mean if settings.mean is not None else (sum(low_high) / 2 if low_high else 0.0)
            sd = (
                settings.sd
                if settings.sd is not None
                else ((low_high[1] - low_high[0]) / 5 if low_high else 1.0)
            )
            plans.append(
                MeasurePlan(
                    **common,
                    kind="continuous",
                    mean=float(mean),
                    sd=float(sd),
                    reliability=float(settings.reliability or 1.0),
                    range=low_high,
                    decimals=int(settings.decimals if settings.decimals is not None else 4),
                )
            )
        return plans

    def item_plan(self, common: dict[str, Any], settings: Any, shared: bool) -> MeasurePlan:
        instrument = self.registry.get(settings.instrument)
        items = instrument.items_of(settings.subscale)
        low, high = instrument.scale.minimum, instrument.scale.maximum
        mean = settings.mean if settings.mean is not None else (low + high) / 2
        sd = settings.sd if settings.sd is not None else (high - low) / 4
        target = float(settings.alpha or 0.85)
        loading, expected = loading_for_alpha(target, len(items), mean, sd, low, high)
        if len(items) > 1 and expected < target - 0.01:
            self.problems.append(
                Problem(
                    f"alpha {target:g} cannot be reached with {len(items)} items on a {low}-{high} scale at "
                    f"mean {mean:g} and sd {sd:g} (at most {expected:.2f})",
                    hint="lower 'alpha', or widen 'sd' or move 'mean' toward the middle of the scale",
                    **self.spec.where("variables", common["node"], "alpha"),
                )
            )
        ids = tuple(item.id for item in items)
        fields = tuple(f"{common['name']}_{item.number}" for item in items) if shared else ids
        return MeasurePlan(
            **common,
            kind="items",
            mean=float(mean),
            sd=float(sd),
            instrument=instrument.id,
            subscale=settings.subscale,
            item_ids=ids,
            item_fields=fields,
            reverse=tuple(item.reverse for item in items),
            minimum=low,
            maximum=high,
            scoring=instrument.scoring,
            min_items=instrument.min_items_of(settings.subscale),
            loading=loading,
            alpha_target=target,
            alpha_expected=expected,
        )

    def precondition_plans(self) -> list[PreconditionPlan]:
        plans = []
        for name in self.preconditions:
            entry = self.spec.preconditions.get(name)
            level = (entry.level if entry and entry.level else None) or _node_level(
                self.model, name, self.has_teams
            )
            plans.append(
                PreconditionPlan(
                    id=name,
                    level="site" if level == "team" and not self.has_teams else level,
                    share=entry.share if entry else 1.0,
                    values=entry.values if entry else ("yes", "no"),
                    requires=tuple(
                        e.target for e in self.model.edges if e.source == name and e.type is not None
                    ),
                )
            )
        return plans

    def dose_plan(self, slopes: dict[str, float]) -> DosePlan | None:
        dose = self.spec.dose
        if dose is None:
            return None
        components = list(dose.components)
        if not components:
            refs = [ref for s in self.strategies for ref in self.model.node(s).all_refs]
            components = refs or ["support"]
        total = sum(dose.modes.values())
        return DosePlan(
            level=dose.level or self.spec.design.randomization.unit,
            minutes_per_month=dose.minutes_per_month,
            cv=dose.cv,
            control_minutes_per_month=dose.control_minutes_per_month,
            contact_minutes=dose.contact_minutes,
            components=tuple(components),
            modes=tuple(dose.modes),
            mode_weights=tuple(w / total for w in dose.modes.values()),
            slopes=slopes,
        )


class _System:
    """The no-strategy vector autoregression of the latent nodes (see the module docstring)."""

    def __init__(self, lag0: np.ndarray, lag1: np.ndarray, stability: np.ndarray) -> None:
        k = stability.size
        identity = np.eye(k)
        self.inverse = np.linalg.inv(identity - lag0)
        self.transition = self.inverse @ (np.diag(stability) + lag1)
        self.intercept_map = np.linalg.solve(
            identity - self.transition, self.inverse @ np.diag(1 - stability)
        )

    def covariance(self, variances: dict[str, np.ndarray]) -> np.ndarray:
        constants = variances["site"] + variances["team"] + variances["person"]
        between = self.intercept_map @ np.diag(constants) @ self.intercept_map.T
        innovations = self.inverse @ np.diag(variances["innovation"]) @ self.inverse.T
        return between + linalg.solve_discrete_lyapunov(self.transition, innovations)


def compile_simulation(
    model: PathwayModel | str | Path,
    spec: SimulationSpec | dict | str | Path | None = None,
    *,
    instruments: Any = None,
) -> SimulationPlan:
    """Check a spec against a pathway model and compile both into a reusable `SimulationPlan`.

    Parameters
    ----------
    model : PathwayModel, path or template name
        The pathway model (``"recipient-pathway"``, a model YAML file, a study folder).
    spec : SimulationSpec, dict, path or None
        The simulation spec; None takes `default_spec` for the model.
    instruments : InstrumentRegistry, optional
        Where ``instrument:`` names are looked up (default: the bundled instruments).

    Raises
    ------
    ValidationError
        Every problem of the spec at once, each at its YAML line: unknown edges or nodes, a design that
        cannot carry what is asked (team randomization without teams), unknown instruments, paths so
        strong that a node's causes explain all its variance, an alpha the response scale cannot reach.

    Examples
    --------
    >>> from moclab.simulate import compile_simulation
    >>> plan = compile_simulation("recipient-pathway")  # the template's bundled spec
    >>> plan.spec.design.sites, [wave.id for wave in plan.waves], plan.strategies
    (40, ['baseline', 'm6', 'm12'], ('isp_support',))
    >>> plan.truth.mechanisms["trust"]["a"], plan.truth.mechanisms["credibility"]["null"]
    ({'isp_support': 0.5}, True)
    >>> plan.wide(seed=1).shape
    (6186, 23)

    A spec is checked against the model, every problem at once:

    >>> from moclab.errors import ValidationError
    >>> spec = {"design": {"sites": 10}, "paths": {"isp_support->trsut": 0.5}}
    >>> try:
    ...     compile_simulation("recipient-pathway", spec)
    ... except ValidationError as error:
    ...     print(error.problems[0].message)
    the model has no causal edge 'isp_support->trsut'
    """
    from moclab.simulate.defaults import default_spec

    model = coerce_model(model).with_inferred_edge_types()
    spec = default_spec(model) if spec is None else coerce_spec(spec)
    if instruments is None:
        from moclab.catalog.instruments import InstrumentRegistry, default_instruments

        paths = spec.instrument_paths()
        instruments = InstrumentRegistry.load(paths) if paths else default_instruments()
    problems = check_spec(model, spec, instruments)
    if any(problem.severity == "error" for problem in problems):
        raise ValidationError(spec.source or "simulation spec", problems)
    return _Builder(model, spec, instruments).build()
