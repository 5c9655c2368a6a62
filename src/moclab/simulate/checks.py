"""Checks of a simulation spec against its pathway model, each reported at the spec's YAML line.

The schema (`moclab.simulate.spec`) checks shapes, types and ranges; what needs the model is checked here:
every edge named in `paths` is a causal edge of the model, every node named anywhere exists and has the
right type, the design can carry what is asked of it (team randomization needs teams), instruments exist
in the registry. All problems are collected and reported together, like every moclab validator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from moclab.errors import CatalogError, Problem, did_you_mean
from moclab.model import NodeType, PathwayModel
from moclab.simulate.spec import SimulationSpec

_EDGE_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*->\s*([A-Za-z][A-Za-z0-9_]*)\s*$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

#: Node types that are simulated as latent variables changing over waves.
DYNAMIC_TYPES = (
    NodeType.DETERMINANT,
    NodeType.MECHANISM,
    NodeType.PROXIMAL_OUTCOME,
    NodeType.DISTAL_OUTCOME,
)
OUTCOME_TYPES = (NodeType.PROXIMAL_OUTCOME, NodeType.DISTAL_OUTCOME)
#: Columns the wide frame always has besides the recipients' columns and the measures.
WIDE_COLUMNS = ("wave", "wave_index", "month", "support_minutes", "support_contacts")
_RANK = {"recipient": 0, "individual": 0, "team": 1, "site": 2}


def parse_edge_key(key: str) -> tuple[str, str] | None:
    """``"trust -> acceptability"`` as ``("trust", "acceptability")``; None when it is not of that form."""
    match = _EDGE_KEY.match(key)
    return (match.group(1), match.group(2)) if match else None


def level_rank(level: str) -> int:
    """recipient/individual 0, team 1, site 2: how coarse a level is."""
    return _RANK[level]


class _Checker:
    def __init__(self, model: PathwayModel, spec: SimulationSpec, registry: Any) -> None:
        self.model = model
        self.spec = spec
        self.registry = registry
        self.problems: list[Problem] = []
        self.types = {node.id: node.type for node in model.nodes}
        self.causal = {(edge.source, edge.target) for edge in model.causal_edges()}
        self.causal_keys = [f"{source}->{target}" for source, target in self.causal]
        self.strategies = [node.id for node in model.nodes_of(NodeType.STRATEGY)]
        self.waves = spec.design.wave_list()
        self.has_teams = spec.design.teams is not None

    def add(self, message: str, *loc: str | int, hint: str | None = None) -> None:
        self.problems.append(Problem(message, hint=hint, **self.spec.where(*loc)))

    def not_in_model(self, name: str, kind: str, ids: list[str], *loc: str | int) -> None:
        """Report a name that is not a node of the wanted kind, suggesting close ids or listing them all."""
        plural = "strategies" if kind == "strategy" else f"{kind}s"
        everything = f"{plural}: {', '.join(ids) or 'none'}"
        self.add(f"'{name}' is not a {kind} of the model", *loc, hint=did_you_mean(name, ids) or everything)

    def node_hint(self, name: str, wanted: Iterable[NodeType] | None = None) -> str | None:
        ids = [n for n, t in self.types.items() if wanted is None or t in tuple(wanted)]
        return did_you_mean(name, ids)

    # -- design ------------------------------------------------------------------------------------------

    def design(self) -> None:
        design = self.spec.design
        rand = design.randomization
        if not self.strategies:
            self.add("the model has no strategy node, so there is nothing to randomize or expose", "design")
        if rand.level == "site" and design.sites < 2:
            self.add(
                "randomizing sites needs at least two sites",
                "design",
                "sites",
                hint="raise 'sites', or randomize recipients",
            )
        if rand.unit == "team" and not self.has_teams:
            where = ("design", "randomization", "level" if rand.level == "team" else "exposure_level")
            self.add("exposure varies by team but the design has no teams", *where, hint="add 'teams:'")
        if rand.exposure_level is not None and rand.level != "none":
            self.add(
                "'exposure_level' applies to observational designs only (randomization level: none)",
                "design",
                "randomization",
                "exposure_level",
                hint=f"the exposure varies at the randomized level, '{rand.level}'",
            )
        for strategy in rand.arms:
            if strategy not in self.strategies:
                self.not_in_model(
                    strategy, "strategy", self.strategies, "design", "randomization", "arms", strategy
                )
        labels = [rand.arms.get(s, s) for s in self.strategies]
        if rand.control in labels or len(set(labels)) != len(labels):
            self.add(
                "arm labels must differ from each other and from the control arm's label",
                "design",
                "randomization",
                "arms" if rand.arms else "control",
            )
        if rand.exposure == "continuous" and len(self.strategies) > 1:
            self.add(
                "a continuous exposure needs a model with one strategy",
                "design",
                "randomization",
                "exposure",
                hint="use binary exposure: each strategy becomes an arm",
            )
        ids = [wave.id for wave in self.waves]
        for index, wave in enumerate(self.waves):
            if not wave.id.strip():
                self.add("a wave id may not be empty", "design", "waves", index, "id")
            if ids.count(wave.id) > 1 and ids.index(wave.id) != index:
                self.add(f"wave id '{wave.id}' is used twice", "design", "waves", index, "id")
            if index and wave.month <= self.waves[index - 1].month:
                self.add(
                    "waves must be listed in time order: each 'month' later than the one before",
                    "design",
                    "waves",
                    index,
                    "month",
                )
        if self.waves and design.strategy_start >= self.waves[-1].month:
            self.add(
                f"the strategy starts after month {design.strategy_start:g}, after the last wave, so no wave "
                "would show its effect",
                "design",
                "start_month",
                hint="start it before the last wave",
            )

    # -- effects -----------------------------------------------------------------------------------------

    def edge(self, key: str, *loc: str | int) -> tuple[str, str] | None:
        pair = parse_edge_key(key)
        if pair is None:
            self.add(f"'{key}' is not an edge: write 'from->to' with node ids", *loc)
            return None
        return pair

    def paths(self) -> None:
        for key, value in self.spec.paths.items():
            pair = self.edge(key, "paths", key)
            if pair is None:
                continue
            if pair not in self.causal:
                other = next((e for e in self.model.edges if (e.source, e.target) == pair), None)
                if other is not None:
                    self.add(
                        f"'{key}' is a '{other.type.words if other.type else 'non-causal'}' edge, "
                        "not a causal one",
                        "paths",
                        key,
                        hint="moderators and preconditions are set under 'moderators:' and 'preconditions:'",
                    )
                else:
                    self.add(
                        f"the model has no causal edge '{key}'",
                        "paths",
                        key,
                        hint=did_you_mean(f"{pair[0]}->{pair[1]}", self.causal_keys),
                    )
                continue
            lag = getattr(value, "lag", None)
            if lag == 1 and self.types.get(pair[0]) is NodeType.STRATEGY:
                self.add(
                    "a strategy's edges have no lag: its effect appears at every wave after it starts",
                    "paths",
                    key,
                    "lag",
                )
            elif lag == 1 and len(self.waves) < 2:
                self.add("a lag of one wave needs at least two waves", "paths", key, "lag")
        mechanisms = [n.id for n in self.model.nodes_of(NodeType.MECHANISM)]
        for index, name in enumerate(self.spec.null_mechanisms):
            if name not in mechanisms:
                self.not_in_model(name, "mechanism", mechanisms, "null_mechanisms", index)
                continue
            for key, value in self.spec.paths.items():
                pair = parse_edge_key(key)
                effect = value if isinstance(value, int | float) else value.effect
                if pair and pair[1] == name and effect != 0:
                    self.add(
                        f"'{key}' gives a null mechanism an effect ({effect:g})",
                        "paths",
                        key,
                        hint=f"remove it, or take '{name}' out of null_mechanisms",
                    )
        for key in self.spec.direct:
            pair = self.edge(key, "direct", key)
            if pair is None:
                continue
            source, target = pair
            if self.types.get(source) is not NodeType.STRATEGY:
                self.add(
                    f"a direct effect starts at a strategy; '{source}' is not one",
                    "direct",
                    key,
                    hint=did_you_mean(source, self.strategies),
                )
            if self.types.get(target) not in OUTCOME_TYPES:
                self.add(
                    f"a direct effect ends at an outcome; '{target}' is not one",
                    "direct",
                    key,
                    hint=self.node_hint(target, OUTCOME_TYPES),
                )

    # -- variables -----------------------------------------------------------------------------------------

    def variables(self) -> None:
        defaults = self.spec.defaults
        for name in ("instrument", "subscale", "measure", "label"):
            if name in defaults.model_fields_set:
                self.add(f"'{name}' belongs to one variable, not to 'defaults'", "defaults", name)
        if not self.has_teams and (defaults.team_icc or 0) > 0:
            self.add("'team_icc' needs teams in the design", "defaults", "team_icc", hint="add 'teams:'")
        taken = {"recipient_id", "site", "team", "arm", *self.strategies, *WIDE_COLUMNS}
        taken |= {n.id for n in self.model.nodes_of(NodeType.MODERATOR, NodeType.PRECONDITION)}
        taken |= set(self.spec.confounders)
        for node in self.spec.variables:
            node_type = self.types.get(node)
            if node_type is None:
                self.add(f"the model has no node '{node}'", "variables", node, hint=self.node_hint(node))
                continue
            if node_type not in DYNAMIC_TYPES:
                section = {
                    NodeType.STRATEGY: "design.randomization",
                    NodeType.MODERATOR: "moderators",
                    NodeType.PRECONDITION: "preconditions",
                }[node_type]
                self.add(
                    f"'{node}' is a {node_type.words}; its settings go under '{section}'",
                    "variables",
                    node,
                )
                continue
            settings = self.spec.variable(node)
            if not self.has_teams and (settings.team_icc or 0) > 0:
                self.add("'team_icc' needs teams in the design", "variables", node, "team_icc")
            if (settings.icc or 0) + (settings.team_icc or 0) >= 1:
                self.add(
                    f"icc + team_icc of '{node}' is {(settings.icc or 0) + (settings.team_icc or 0):g}; "
                    "they must add up to less than 1",
                    "variables",
                    node,
                )
            if settings.instrument is not None:
                self.instrument(node, settings.instrument, settings.subscale)
                if settings.table == "outcomes":
                    self.add(
                        "an instrument's items are answered by recipients; it cannot be a site outcome",
                        "variables",
                        node,
                        "table",
                    )
            elif settings.subscale is not None:
                self.add("'subscale' needs an 'instrument'", "variables", node, "subscale")
        self.names(taken)

    def names(self, taken: set[str]) -> None:
        """Every column the data will have (measures, item fields) is named once."""
        nodes = [n.id for n in self.model.nodes if n.type in DYNAMIC_TYPES]
        settings = {node: self.spec.variable(node) for node in nodes}
        uses: dict[str, int] = {}
        for entry in settings.values():
            if entry.measured and entry.instrument:
                uses[entry.instrument] = uses.get(entry.instrument, 0) + 1
        owners: dict[str, str] = dict.fromkeys(taken, "the recipients table")
        for node in nodes:
            entry = settings[node]
            if not entry.measured:
                continue
            name = entry.measure or node
            fields = [name]
            if entry.instrument and entry.instrument in self.registry:
                items = self.registry.get(entry.instrument).items_of(
                    entry.subscale
                    if entry.subscale in self.registry.get(entry.instrument).subscales
                    else None
                )
                shared = uses[entry.instrument] > 1
                fields += [f"{name}_{item.number}" if shared else item.id for item in items]
            for field_name in fields:
                if field_name in owners:
                    where = ("variables", node) if node in self.spec.variables else ("variables",)
                    self.add(
                        f"'{field_name}' (a column of '{node}') is already used by {owners[field_name]}",
                        *where,
                        hint="give the variable another 'measure' name",
                    )
                owners.setdefault(field_name, f"'{node}'")

    def instrument(self, node: str, instrument_id: str, subscale: str | None) -> None:
        try:
            instrument = self.registry.get(instrument_id)
        except CatalogError as error:
            self.add(error.message, "variables", node, "instrument", hint=error.hint)
            return
        if subscale is not None and subscale not in instrument.subscales:
            names = list(instrument.subscales)
            self.add(
                f"instrument '{instrument_id}' has no subscale '{subscale}'",
                "variables",
                node,
                "subscale",
                hint=did_you_mean(subscale, names)
                or (f"subscales: {', '.join(names)}" if names else "it has none"),
            )

    # -- moderators, preconditions, confounders ------------------------------------------------------------

    def moderators(self) -> None:
        moderators = [n.id for n in self.model.nodes_of(NodeType.MODERATOR)]
        for name, entry in self.spec.moderators.items():
            if name not in moderators:
                self.not_in_model(name, "moderator", moderators, "moderators", name)
                continue
            if entry.level == "team" and not self.has_teams:
                self.add("a team-level moderator needs teams in the design", "moderators", name, "level")
            if isinstance(entry.interaction, dict):
                edges = moderated_edges(self.model, name)
                keys = [f"{s}->{t}" for s, t in edges]
                for key in entry.interaction:
                    pair = self.edge(key, "moderators", name, "interaction", key)
                    if pair is not None and pair not in edges:
                        self.add(
                            f"'{name}' does not moderate '{key}'",
                            "moderators",
                            name,
                            "interaction",
                            key,
                            hint=did_you_mean(key, keys) or f"it moderates: {', '.join(keys) or 'nothing'}",
                        )

    def preconditions(self) -> None:
        preconditions = [n.id for n in self.model.nodes_of(NodeType.PRECONDITION)]
        for name, entry in self.spec.preconditions.items():
            if name not in preconditions:
                self.not_in_model(name, "precondition", preconditions, "preconditions", name)
            elif entry.level == "team" and not self.has_teams:
                self.add(
                    "a team-level precondition needs teams in the design", "preconditions", name, "level"
                )

    def confounders(self) -> None:
        rand = self.spec.design.randomization
        dynamic = [n for n, t in self.types.items() if t in DYNAMIC_TYPES]
        loadings = 0.0
        for name, entry in self.spec.confounders.items():
            if not _IDENTIFIER.match(name):
                self.add(
                    f"'{name}' is not a valid confounder name: a letter, then letters, digits or underscores",
                    "confounders",
                    name,
                )
            if name in self.types:
                self.add(
                    f"'{name}' is a node of the model; a confounder is a variable outside it",
                    "confounders",
                    name,
                )
            if entry.level == "team" and not self.has_teams:
                self.add("a team-level confounder needs teams in the design", "confounders", name, "level")
            for target in entry.effects:
                if target not in dynamic:
                    self.add(
                        f"'{target}' is not a determinant, mechanism or outcome of the model",
                        "confounders",
                        name,
                        "effects",
                        target,
                        hint=did_you_mean(target, dynamic),
                    )
            if entry.exposure != 0 and rand.level != "none":
                self.add(
                    "'exposure' (who gets the strategy) applies to observational designs only",
                    "confounders",
                    name,
                    "exposure",
                    hint="set design.randomization.level: none, or remove 'exposure'",
                )
            loadings += entry.exposure**2
        if rand.exposure == "continuous" and rand.level == "none" and loadings >= 1:
            self.add(
                "with a continuous exposure, the squared 'exposure' loadings of the confounders must add up "
                f"to less than 1 (they are {loadings:g})",
                "confounders",
            )

    # -- dose and missingness ----------------------------------------------------------------------------

    def dose(self) -> None:
        dose = self.spec.dose
        if dose is None:
            return
        rand = self.spec.design.randomization
        if rand.exposure == "continuous":
            self.add("a support log needs a binary exposure (who is supported)", "dose")
        if dose.level is not None:
            if level_rank(dose.level) > level_rank(rand.unit):
                self.add(
                    f"support is logged per {dose.level} but exposure varies per {rand.unit}, so one "
                    f"{dose.level}'s support would reach exposed and unexposed recipients",
                    "dose",
                    "level",
                    hint=f"log support per {rand.unit} or finer",
                )
            if dose.level == "team" and not self.has_teams:
                self.add("support logged per team needs teams in the design", "dose", "level")
        targets = strategy_targets(self.model)
        slopes = dose.slopes if isinstance(dose.slopes, dict) else {}
        for node in slopes:
            if node not in targets:
                self.add(
                    f"'{node}' is not acted on by a strategy, so support cannot drive it",
                    "dose",
                    "slopes",
                    node,
                    hint=did_you_mean(node, targets) or f"strategy targets: {', '.join(targets)}",
                )
            elif node in self.spec.null_mechanisms and slopes[node] != 0:
                self.add(f"'{node}' is a null mechanism; its dose slope must be 0", "dose", "slopes", node)
        values = slopes.values() if slopes else [dose.slopes]
        if dose.cv == 0 and any(v != 0 for v in values):
            self.add(
                "a dose slope needs support that varies between units",
                "dose",
                "cv",
                hint="set cv above 0 (0.5 is a common spread)",
            )

    def qualitative(self) -> None:
        path = self.spec.qualitative_project()
        if path is None:
            return
        if not path.is_file():
            self.add(
                f"the qualitative project '{self.spec.qualitative}' was not found",
                "qualitative",
                hint="write `simulated` (interviews from the truth), `example` (moclab's bundled ones) "
                "or the path of a .qdpx file (relative to the spec file)",
            )
        elif path.suffix.lower() != ".qdpx":
            self.add(
                f"the qualitative project '{self.spec.qualitative}' is not a REFI-QDA archive (.qdpx)",
                "qualitative",
                hint="export the coded interviews from your QDA software as .qdpx",
            )

    def missing(self) -> None:
        missing = self.spec.missing
        count = len(self.waves)
        if isinstance(missing.rate, list) and len(missing.rate) != count:
            self.add(f"'rate' lists {len(missing.rate)} values for {count} waves", "missing", "rate")
        if isinstance(missing.dropout, list) and len(missing.dropout) != count - 1:
            self.add(
                f"'dropout' lists {len(missing.dropout)} values; give one per wave after the first "
                f"({count - 1})",
                "missing",
                "dropout",
            )


def moderated_edges(model: PathwayModel, moderator: str) -> list[tuple[str, str]]:
    """The causal edges `moderator` moderates: edges it points at, and every causal edge into a node it
    points at."""
    return [
        (edge.source, edge.target)
        for edge in model.causal_edges()
        if moderator in model.moderators_of(edge.source, edge.target)
    ]


def strategy_targets(model: PathwayModel) -> list[str]:
    """Nodes a strategy acts on directly (its `targets` and `acts through` edges), in file order."""
    strategies = {n.id for n in model.nodes_of(NodeType.STRATEGY)}
    found = [edge.target for edge in model.causal_edges() if edge.source in strategies]
    return list(dict.fromkeys(found))


def check_spec(model: PathwayModel, spec: SimulationSpec, registry: Any) -> list[Problem]:
    """Every problem of `spec` as a description of a study of `model` (empty when there is none).

    `model` should have its edge types inferred (`PathwayModel.with_inferred_edge_types`); `registry` is
    the instrument registry used to resolve `instrument:` names.
    """
    checker = _Checker(model, spec, registry)
    checker.design()
    checker.paths()
    checker.variables()
    checker.moderators()
    checker.preconditions()
    checker.confounders()
    checker.dose()
    checker.missing()
    checker.qualitative()
    return checker.problems
