"""From a study's pathways to analysis plans: which column and wave stands for each role of each pathway.

`plan_pathways` resolves every pathway to judge (all of the model's, or those listed in ``evidence.pathways``)
into a `PathwayPlan`: the strategy and how it is coded (an arm, 1 for every non-control arm; a numeric dose;
or the support dose from the activities table), the mechanism(s), the outcome, the competing mechanisms and
non-target outcomes, the waves, covariates, subgroups and the expected sign of every link. Everything wrong is
collected and raised in one `ValidationError`: a pathway naming a variable the data lack is reported with the
pathway, the variable and the model's YAML line; a bad reference in the ``evidence:`` section with its line
in moclab.yaml.

The wave rule (docs/criteria.md): with two or more waves the first is the baseline, the mechanism is taken at
the first wave after it and the outcome at the last wave, and the baseline values of the mechanism and the
outcome (when measured for enough recipients) are adjusted for; with one wave everything is taken at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from moclab.errors import ProblemList, StudyError, did_you_mean, display_path
from moclab.model import ResolvedPathway
from moclab.study.config import Manipulation
from moclab.study.evidence_settings import AUTO, EvidenceSettings, PathwaySpec, WaveSpec
from moclab.yamlio import load_yaml, locate

if TYPE_CHECKING:
    from moclab.study import Study

__all__ = ["PathwayPlan", "StrategyCoding", "plan_pathways"]

_LINK_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*->\s*([A-Za-z][A-Za-z0-9_]*)\s*$")


@dataclass(frozen=True)
class StrategyCoding:
    """How the strategy variable X is made: from the arm, a numeric column, or the activities log.

    Attributes
    ----------
    kind : {"arm", "column", "activity_dose"}
        An arm coded 1 for every non-control arm and 0 for the control; a numeric column used as it is (a
        dose); or the dose of support received, summed from the activities table.
    column : str or None
        The recipients column or measure holding the strategy (None for the activity dose).
    control : str or None
        The control arm ("usual"); None when the arm has two values and no control is declared (then the
        later-sorted value is coded 1, as `moclab.analysis.mediate` does).
    randomized : bool
        Whether this coding is the randomized assignment of the design.
    text : str
        How the coding reads in a report.
    """

    kind: str
    column: str | None
    control: str | None = None
    randomized: bool = False
    text: str = ""


@dataclass(frozen=True)
class PathwayPlan:
    """Everything needed to analyse one pathway: variables (columns), waves and options.

    Variables are named by their model node id in the analysis frame (``trust``), or by the measure name for
    non-target outcomes that are not model nodes; ``measures`` maps each of those names to the measure or
    recipients column it is read from.
    """

    pathway: ResolvedPathway
    strategy: str
    coding: StrategyCoding
    mechanisms: tuple[str, ...]
    outcome: str
    alternatives: tuple[str, ...]
    unmeasured_alternatives: tuple[str, ...]
    non_targets: tuple[str, ...]
    measures: dict[str, str]
    baseline_wave: str | None
    mechanism_wave: str
    outcome_wave: str
    covariates: tuple[str, ...]
    subgroups: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    signs: dict[tuple[str, str], int]
    citations: dict[tuple[str, str], tuple[str, ...]]
    cluster: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: A randomized factor that targets one of the pathway's mechanisms (design.manipulations), if any.
    manipulation: Manipulation | None = None

    @property
    def id(self) -> str:
        return self.pathway.id

    @property
    def label(self) -> str:
        return self.pathway.label or self.plan_label()

    def plan_label(self, *, without_strategy: bool = False) -> str:
        """strategy → mechanism(s) → outcome, or mechanism(s) → outcome `without_strategy`."""
        head = () if without_strategy else (self.strategy,)
        return " → ".join((*head, *self.mechanisms, self.outcome))

    def sign_between(self, source: str, target: str) -> int:
        """The expected sign from `source` to `target` along the pathway: the product of the link signs."""
        nodes = [node for pair in self.links for node in pair]
        order = list(dict.fromkeys(nodes))
        start, end = order.index(source), order.index(target)
        sign = 1
        for first, second in zip(order[start:end], order[start + 1 : end + 1], strict=True):
            sign *= self.signs.get((first, second), 1)
        return sign

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "nodes": list(self.pathway.nodes),
            "declared": self.pathway.declared,
            "strategy": self.strategy,
            "strategy_coding": {
                "kind": self.coding.kind,
                "column": self.coding.column,
                "control": self.coding.control,
                "randomized": self.coding.randomized,
                "text": self.coding.text,
            },
            "mechanisms": list(self.mechanisms),
            "outcome": self.outcome,
            "alternatives": list(self.alternatives),
            "unmeasured_alternatives": list(self.unmeasured_alternatives),
            "non_target_outcomes": list(self.non_targets),
            "variables": dict(self.measures),
            "waves": {
                "baseline": self.baseline_wave,
                "mechanism": self.mechanism_wave,
                "outcome": self.outcome_wave,
            },
            "covariates": list(self.covariates),
            "subgroups": list(self.subgroups),
            "links": [
                {"from": s, "to": t, "sign": "positive" if self.signs.get((s, t), 1) > 0 else "negative"}
                for s, t in self.links
            ],
            "cluster": self.cluster,
            "notes": list(self.notes),
            "manipulation": self.manipulation.model_dump() if self.manipulation is not None else None,
        }


# --------------------------------------------------------------------------------------------------------
# Locating problems
# --------------------------------------------------------------------------------------------------------


class _Locator:
    """Where things were written: model nodes and pathways (model YAML), evidence keys (moclab.yaml)."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self._config_data: Any = None
        self.config_file = study.path / "moclab.yaml"

    def config(self, *loc: str | int) -> dict[str, Any]:
        if self._config_data is None:
            try:
                self._config_data = load_yaml(self.config_file)
            except Exception:  # the file was read once already; a vanished file only loses the line
                self._config_data = {}
        where: dict[str, Any] = {}
        section = self._config_data.get("evidence") if isinstance(self._config_data, dict) else None
        # Settings given as options (the CLI, Python) were not written in the file: name no place for them.
        if isinstance(section, dict) and (not loc or loc[0] in section):
            where["file"] = display_path(self.config_file)
            position = locate(self._config_data, ["evidence", *loc])
            if position:
                where["line"], where["column"] = position
        return where

    def control(self) -> dict[str, Any]:
        """Where the control arm is (or would be) declared: design.randomization.control in moclab.yaml."""
        self.config()
        where: dict[str, Any] = {"file": display_path(self.config_file)}
        for loc in (("design", "randomization", "control"), ("design", "randomization"), ("design",)):
            position = locate(self._config_data, list(loc))
            if position:
                where["line"], where["column"] = position
                break
        return where

    def measure(self, name: str, node_id: str) -> dict[str, Any]:
        """Where a measure is declared (measures.<name> in moclab.yaml), else where its model node is."""
        self.config()
        position = locate(self._config_data, ["measures", name])
        if position:
            return {"file": display_path(self.config_file), "line": position[0], "column": position[1]}
        return self.node(node_id)

    def node(self, node_id: str) -> dict[str, Any]:
        model = self.study.model
        ids = model.node_ids
        if node_id in ids:
            return model.where("nodes", ids.index(node_id), "id")
        return {"file": model.source}

    def pathway(self, pathway: ResolvedPathway) -> dict[str, Any]:
        model = self.study.model
        ids = [p.id for p in model.pathways]
        if pathway.id in ids:
            return model.where("pathways", ids.index(pathway.id), "id")
        return {"file": model.source}


# --------------------------------------------------------------------------------------------------------
# The planner
# --------------------------------------------------------------------------------------------------------


class _Planner:
    def __init__(self, study: Study, settings: EvidenceSettings) -> None:
        self.study = study
        self.settings = settings
        self.model = study.model
        self.where = _Locator(study)
        self.problems = ProblemList(f"evidence settings of study {display_path(study.path)}")
        self.variables = study.node_variables()
        tables = study.config.tables
        self.recipient_columns = [str(c) for c in study.recipients.columns]
        measure_column = tables.measures.measure
        scored = study.scored_measures
        self.measures = set(pd.unique(scored[measure_column].dropna()).tolist())
        self.outcome_measures: set[str] = set()
        if study.outcomes is not None and tables.outcomes is not None:
            self.outcome_measures = set(pd.unique(study.outcomes[tables.outcomes.measure].dropna()).tolist())
        self.wave_ids = study.wave_ids
        self.types = {node.id: node.type for node in self.model.nodes}
        self.arm_column = tables.recipients.arm
        self.cluster_column = tables.recipients.cluster
        #: Declared measures that pathways need but the measures table has no rows of.
        self.without_rows: set[str] = set()

    # -- variables -----------------------------------------------------------------------------------------

    def variable_of(self, name: str) -> str | None:
        """The measure or recipients column of a node id or a measure name, or None."""
        if name in self.variables:
            return self.variables[name]
        if name in self.measures or name in self.recipient_columns:
            return name
        return None

    def is_recipient_level(self, variable: str) -> bool:
        return variable in self.measures or variable in self.recipient_columns

    def require(self, pathway: ResolvedPathway, node: str, role: str) -> str | None:
        """The variable of a node the pathway cannot be analysed without; a located problem when missing."""
        variable = self.variable_of(node)
        if variable is None:
            # A declared pathway is located at its own entry, a derived one at the node without data.
            where = self.where.pathway(pathway) if pathway.declared else self.where.node(node)
            self.problems.add(
                f"pathway '{pathway.id}': the {role} '{node}' has no data (no measure or column is mapped to "
                "this model node)",
                hint="name a measure after the node, set `node:` on a measure or column in moclab.yaml, or "
                "list the pathways to judge in evidence.pathways",
                **where,
            )
            return None
        if variable in self.outcome_measures and not self.is_recipient_level(variable):
            self.problems.add(
                f"pathway '{pathway.id}': the {role} '{node}' is measured as '{variable}' in the outcomes "
                "table (per site or team), but the scorecard analyses recipients' values",
                hint="choose a recipient-level outcome for this pathway (evidence.pathways: - {id: "
                f"{pathway.id}, outcome: ...}})",
                **self.where.node(node),
            )
            return None
        if not self.is_recipient_level(variable):
            self.no_values(pathway, node, role, variable)
            return None
        return variable

    def no_values(self, pathway: ResolvedPathway, node: str, role: str, measure: str) -> None:
        """A node mapped to a declared measure that has no rows in the measures table: not collected yet, or
        written under another name in the data (``Trust`` for ``trust``)."""
        self.without_rows.add(measure)
        table = self.study.config.tables.measures.path
        present = sorted(self.measures | self.outcome_measures)
        same_but_case = [name for name in present if name.casefold() == measure.casefold()]
        if same_but_case:
            hint = (
                f"{did_you_mean(measure, same_but_case)} Measure names are case-sensitive: write the same "
                f"name in {table} and under measures: in moclab.yaml"
            )
        else:
            hint = did_you_mean(
                measure,
                present,
                advice=f"collect it (or correct its name in {table}), or leave this pathway out by listing "
                "the pathways to judge under evidence.pathways",
            )
        self.problems.add(
            f"pathway '{pathway.id}': the {role} '{node}' has no data: measure '{measure}' is declared but "
            f"has no rows in {table}",
            hint=hint,
            **self.where.measure(measure, node),
        )

    # -- waves ---------------------------------------------------------------------------------------------

    def waves(self, spec: WaveSpec, loc: tuple[str | int, ...]) -> tuple[str | None, str, str]:
        ids = self.wave_ids
        several = len(ids) >= 2
        for key in ("baseline", "mechanism", "outcome"):
            value = getattr(spec, key)
            if value not in (None, AUTO) and value not in ids:
                self.problems.add(
                    f"evidence waves: '{value}' is not a wave of the study",
                    hint=did_you_mean(str(value), ids) or f"waves: {', '.join(ids)}",
                    **self.where.config(*loc, key),
                )
        baseline = spec.baseline
        if baseline == AUTO:
            baseline = ids[0] if several else None
        mechanism = spec.mechanism if spec.mechanism != AUTO else (ids[1] if several else ids[0])
        outcome = spec.outcome if spec.outcome != AUTO else ids[-1]
        if baseline not in ids:
            baseline = None
        mechanism = mechanism if mechanism in ids else ids[0]
        outcome = outcome if outcome in ids else ids[-1]
        if ids.index(outcome) < ids.index(mechanism):
            self.problems.add(
                f"evidence waves: the outcome wave '{outcome}' comes before the mechanism wave '{mechanism}'",
                hint="a mechanism is measured before (or with) the outcome it explains",
                **self.where.config(*loc),
            )
        if baseline is not None and ids.index(baseline) > ids.index(mechanism):
            baseline = None
        if baseline == mechanism:
            baseline = None
        return baseline, mechanism, outcome

    # -- strategy ------------------------------------------------------------------------------------------

    def strategy(self, pathway: ResolvedPathway, mode: str) -> StrategyCoding | None:
        design = self.study.config.design
        randomization = design.randomization
        if mode == "dose":
            if self.study.activities is None:
                self.problems.add(
                    f"pathway '{pathway.id}': the strategy is the dose of support (evidence.strategy: dose), "
                    "but "
                    "the study has no activities table",
                    hint="add tables.activities (the support log), or use evidence.strategy: auto",
                    **self.where.config("strategy"),
                )
                return None
            measure = self.settings.dose.measure
            return StrategyCoding(
                "activity_dose", None, text=f"support received ({measure}, activities table)"
            )
        variable = self.variable_of(pathway.strategy)
        if variable is None and self.arm_column:
            variable = self.arm_column
        if variable is None:
            self.problems.add(
                f"pathway '{pathway.id}': the strategy '{pathway.strategy}' has no data: no column or "
                "measure is "
                "mapped to it and the recipients table names no arm",
                hint="map the arm column to the strategy (columns: {arm: {node: ...}}), or use "
                "evidence.strategy: dose with an activities table",
                **self.where.node(pathway.strategy),
            )
            return None
        if variable not in self.recipient_columns and variable not in self.measures:
            self.problems.add(
                f"pathway '{pathway.id}': the strategy '{pathway.strategy}' is measured as '{variable}' "
                "outside "
                "the recipients and measures tables",
                hint="map a recipients column (the arm) or a recipient-level measure to the strategy",
                **self.where.node(pathway.strategy),
            )
            return None
        randomized_arm = variable == self.arm_column and randomization.level not in ("none", "")
        if variable in self.recipient_columns:
            values = self.study.recipients[variable]
            numeric = pd.api.types.is_numeric_dtype(values) and not isinstance(
                values.dtype, pd.CategoricalDtype
            )
            levels = [str(v) for v in pd.unique(values.dropna())]
            if not numeric or len(levels) == 2 or variable == self.arm_column:
                if len(levels) < 2:
                    self.problems.add(
                        f"pathway '{pathway.id}': the strategy column '{variable}' has "
                        f"{len(levels)} value(s) ({', '.join(levels) or 'none'}); "
                        "there is nothing to compare",
                        hint="the strategy needs two arms (or a numeric dose) that differ between recipients",
                        **self.where.node(pathway.strategy),
                    )
                    return None
                control = randomization.control if randomization.control in levels else None
                if control is None and not numeric:
                    # Never guess which arm is the comparison: an alphabetical guess silently flips the
                    # sign of every effect when the treated arm sorts first.
                    declared = randomization.control
                    self.problems.add(
                        f"the strategy column '{variable}' has the arms {', '.join(sorted(levels))}, and "
                        + (
                            f"the declared control arm '{declared}' is not one of them"
                            if declared is not None
                            else "no control arm is declared, so moclab cannot tell which is the comparison"
                        ),
                        hint="set design.randomization.control to the comparison arm (also in an "
                        "observational study: it fixes the coding, 1 = the other arm(s), 0 = the control)",
                        **self.where.control(),
                    )
                    return None
                if control is not None:
                    treated = [level for level in levels if level != control]
                    text = f"{variable}: 1 = {' or '.join(treated)}, 0 = {control}"
                else:
                    ordered = sorted(levels, key=float)
                    text = f"{variable}: 1 = {ordered[-1]}, 0 = {ordered[0]} (the higher value)"
                return StrategyCoding("arm", variable, control, randomized_arm, text)
        return StrategyCoding("column", variable, text=f"{variable} (a numeric dose, as measured)")

    # -- links ---------------------------------------------------------------------------------------------

    def link_settings(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], tuple[str, ...]]]:
        signs: dict[tuple[str, str], int] = {}
        citations: dict[tuple[str, str], tuple[str, ...]] = {}
        edges = {(edge.source, edge.target) for edge in self.model.causal_edges()}
        for key, spec in self.settings.links.items():
            match = _LINK_KEY.match(key)
            if match is None:
                self.problems.add(
                    f"evidence links: '{key}' is not a link; write it as \"from->to\" with two node ids",
                    **self.where.config("links", key),
                )
                continue
            pair = (match.group(1), match.group(2))
            if pair not in edges:
                unknown = [node for node in pair if node not in self.types]
                hint = did_you_mean(unknown[0], list(self.types)) if unknown else None
                self.problems.add(
                    f"evidence links: the model has no causal link {pair[0]} -> {pair[1]}",
                    hint=hint or "name a causal edge of the model (acts through, leads to)",
                    **self.where.config("links", key),
                )
                continue
            signs[pair] = 1 if spec.sign == "positive" else -1
            citations[pair] = tuple(spec.citations)
        return signs, citations

    # -- one pathway ---------------------------------------------------------------------------------------

    def plan(
        self,
        pathway: ResolvedPathway,
        spec: PathwaySpec,
        loc: tuple[str | int, ...],
        signs: dict[tuple[str, str], int],
        citations: dict[tuple[str, str], tuple[str, ...]],
    ) -> PathwayPlan | None:
        settings = self.settings
        before = len(self.problems.errors)
        notes: list[str] = []
        measures: dict[str, str] = {}
        mechanisms = pathway.mechanisms
        for node in mechanisms:
            variable = self.require(pathway, node, "mechanism")
            if variable is not None:
                measures[node] = variable
        # The outcome: the first outcome after the last mechanism, unless one is chosen.
        last = max(pathway.nodes.index(node) for node in mechanisms)
        after = [node for node in pathway.nodes[last + 1 :] if self.types[node].is_outcome]
        outcome = spec.outcome or (after[0] if after else pathway.outcome)
        if spec.outcome is not None and spec.outcome not in pathway.nodes[last + 1 :]:
            self.problems.add(
                f"pathway '{pathway.id}': '{spec.outcome}' is not an outcome after the mechanism on this "
                "pathway",
                hint=did_you_mean(spec.outcome, list(pathway.nodes)) or f"on the pathway: {', '.join(after)}",
                **self.where.config(*loc, "outcome"),
            )
            return None
        variable = self.require(pathway, outcome, "outcome")
        if variable is not None:
            measures[outcome] = variable
        coding = self.strategy(pathway, spec.strategy or settings.strategy)
        # Competing mechanisms: those with recipient-level data are analysed, the others reported.
        alternatives = spec.alternatives if spec.alternatives is not None else list(pathway.alternatives)
        used, unmeasured = [], []
        for node in alternatives:
            if node in mechanisms or node == outcome:
                continue
            if spec.alternatives is not None and node not in self.types:
                self.problems.add(
                    f"pathway '{pathway.id}': the alternative '{node}' is not a node of the model",
                    hint=did_you_mean(node, list(self.types)),
                    **self.where.config(*loc, "alternatives"),
                )
                continue
            found = self.variable_of(node)
            if found is not None and self.is_recipient_level(found):
                used.append(node)
                measures[node] = found
            else:
                unmeasured.append(node)
        non_target_names = (
            spec.non_target_outcomes if spec.non_target_outcomes is not None else settings.non_target_outcomes
        )
        key = (
            (*loc, "non_target_outcomes")
            if spec.non_target_outcomes is not None
            else ("non_target_outcomes",)
        )
        non_targets = []
        for name in non_target_names:
            found = self.variable_of(name)
            if found is None or not self.is_recipient_level(found):
                self.problems.add(
                    f"pathway '{pathway.id}': the non-target outcome '{name}' is not a measure or recipients "
                    "column of the study",
                    hint=did_you_mean(name, sorted(self.measures | set(self.types))),
                    **self.where.config(*key),
                )
                continue
            if name in (outcome, *mechanisms) or found in (
                measures.get(outcome),
                *(measures.get(m) for m in mechanisms),
            ):
                continue  # the target outcome of this pathway cannot be its own non-target outcome
            non_targets.append(name)
            measures[name] = found
        baseline, mechanism_wave, outcome_wave = self.waves(
            spec.waves or settings.waves, (*loc, "waves") if spec.waves is not None else ("waves",)
        )
        covariates = spec.covariates if spec.covariates is not None else settings.covariates
        key = (*loc, "covariates") if spec.covariates is not None else ("covariates",)
        for name in covariates:
            if name not in self.recipient_columns and name not in self.measures:
                self.problems.add(
                    f"evidence covariates: '{name}' is not a recipients column or a measure",
                    hint=did_you_mean(name, self.recipient_columns + sorted(self.measures)),
                    **self.where.config(*key),
                )
        subgroups = self.subgroups(pathway, spec, loc)
        links = tuple(
            pair for pair in pathway.edges() if pathway.nodes.index(pair[1]) <= pathway.nodes.index(outcome)
        )
        if len(self.problems.errors) > before or coding is None:
            return None
        manipulation = next(
            (m for m in self.study.config.design.manipulations if m.mechanism in mechanisms), None
        )
        if manipulation is not None and len(mechanisms) > 1:
            notes.append(
                f"the manipulation '{manipulation.column}' targets {manipulation.mechanism}, one mechanism "
                "of a chain: its two-stage test needs a single mechanism and is not run"
            )
            manipulation = None
        cluster = self.cluster_column if self.cluster_column in self.recipient_columns else None
        if cluster is not None and self.study.recipients[cluster].nunique() < 2:
            cluster = None
            notes.append("a single cluster: analysed without clustering")
        return PathwayPlan(
            pathway=pathway,
            strategy=pathway.strategy,
            coding=coding,
            mechanisms=tuple(mechanisms),
            outcome=outcome,
            alternatives=tuple(used),
            unmeasured_alternatives=tuple(unmeasured),
            non_targets=tuple(non_targets),
            measures=measures,
            baseline_wave=baseline,
            mechanism_wave=mechanism_wave,
            outcome_wave=outcome_wave,
            covariates=tuple(covariates),
            subgroups=subgroups,
            links=links,
            signs={pair: signs.get(pair, 1) for pair in links},
            citations={pair: citations.get(pair, ()) for pair in links},
            cluster=cluster,
            notes=tuple(notes),
            manipulation=manipulation,
        )

    def subgroups(
        self, pathway: ResolvedPathway, spec: PathwaySpec, loc: tuple[str | int, ...]
    ) -> tuple[str, ...]:
        names = spec.subgroups if spec.subgroups is not None else self.settings.subgroups
        if names is None:  # default: the pathway's moderators that are categorical recipients columns
            found = []
            for node in pathway.moderators:
                column = self.variables.get(node)
                if column in self.recipient_columns and self._categorical(column):
                    found.append(column)
            return tuple(found)
        key = (*loc, "subgroups") if spec.subgroups is not None else ("subgroups",)
        columns = []
        for name in names:
            column = self.variables.get(name, name)
            if column not in self.recipient_columns:
                self.problems.add(
                    f"evidence subgroups: '{name}' is not a recipients column (or a node mapped to one)",
                    hint=did_you_mean(name, self.recipient_columns),
                    **self.where.config(*key),
                )
                continue
            columns.append(column)
        return tuple(columns)

    def _categorical(self, column: str) -> bool:
        values = self.study.recipients[column]
        return not pd.api.types.is_numeric_dtype(values) or values.nunique() <= 10

    # -- all pathways --------------------------------------------------------------------------------------

    def run(self) -> list[PathwayPlan]:
        resolved = self.model.pathways_resolved()
        by_id = {pathway.id: pathway for pathway in resolved}
        signs, citations = self.link_settings()
        chosen: list[tuple[ResolvedPathway, PathwaySpec, tuple[str | int, ...]]] = []
        if self.settings.pathways is None:
            chosen = [(p, PathwaySpec(id=p.id), ("pathways",)) for p in resolved]
        else:
            for index, spec in enumerate(self.settings.pathways):
                pathway = by_id.get(spec.id)
                if pathway is None:
                    self.problems.add(
                        f"evidence pathways: the model has no pathway '{spec.id}'",
                        hint=did_you_mean(spec.id, list(by_id))
                        or f"pathways: {', '.join(list(by_id)[:8])}" + (", ..." if len(by_id) > 8 else ""),
                        **self.where.config("pathways", index),
                    )
                    continue
                chosen.append((pathway, spec, ("pathways", index)))
        plans = []
        for pathway, spec, loc in chosen:
            plan = self.plan(pathway, spec, loc, signs, citations)
            if plan is not None:
                plans.append(plan)
        # Study-wide settings are checked once per pathway; report each problem once.
        self.problems.problems = list(dict.fromkeys(self.problems.problems))
        if self.without_rows:
            # The study's warnings about these measures explain the errors (an undeclared 'Trust' in the data
            # beside a declared 'trust' without rows): list them after the errors rather than lose them.
            names = {f"'{name.casefold()}'" for name in self.without_rows}
            self.problems.extend(
                warning
                for warning in self.study.warnings
                if any(name in warning.message.casefold() for name in names)
            )
        self.problems.raise_if_any()
        return plans


def plan_pathways(study: Study, settings: EvidenceSettings) -> list[PathwayPlan]:
    """Resolve the pathways to judge into analysis plans, checking every reference at once.

    Parameters
    ----------
    study : Study
        A loaded study with a pathway model.
    settings : EvidenceSettings
        The evidence settings (the study's ``evidence:`` section, possibly overridden).

    Returns
    -------
    list of PathwayPlan
        One per pathway, in the model's order (or the order of ``evidence.pathways``).

    Raises
    ------
    StudyError
        The study names no pathway model, the model has no pathway, or the measures table has no data
        rows yet.
    ValidationError
        Every unresolvable reference at once: a pathway whose strategy, mechanism or outcome has no data
        (naming the pathway, the node and the model's YAML line, or the measure's line in moclab.yaml when
        it is declared but has no rows, with "did you mean" among the measures of the data), unknown
        pathways, waves, covariates, subgroups, non-target outcomes or links in the ``evidence:`` section
        (with their moclab.yaml line). The study's warnings about measures without rows follow the errors.

    Examples
    --------
    >>> from moclab.evidence import EvidenceSettings, plan_pathways
    >>> from moclab.study import example_path, load_study
    >>> study = load_study(example_path(), show_progress=False)
    >>> len(plan_pathways(study, EvidenceSettings()))  # every pathway of the model
    12
    >>> settings = EvidenceSettings(pathways=["isp_support__trust__acceptability"])
    >>> (plan,) = plan_pathways(study, settings)
    >>> plan.coding.text
    'arm: 1 = intensive, 0 = usual'
    >>> plan.mechanisms, plan.outcome, plan.alternatives
    (('trust',), 'acceptability', ('positive_emotion', 'psych_safety', 'credibility'))
    >>> plan.baseline_wave, plan.mechanism_wave, plan.outcome_wave, plan.cluster
    ('baseline', 'm6', 'm12', 'site')
    """
    if study.model is None:
        raise StudyError(
            f"{display_path(study.path)}: the study names no pathway model, so there are no pathways to "
            "judge",
            hint="add `model: model.yaml` to moclab.yaml (see `moclab new` for a template)",
        )
    if study.measures.empty:
        measures = study.config.tables.measures.path
        raise StudyError(
            f"{display_path(study.path)}: {measures} has no data rows yet (only the header), so no pathway "
            "can be judged",
            hint=f"fill in {measures}; `moclab validate` checks the study again once it has data",
        )
    if not study.model.pathways_resolved():
        raise StudyError(
            f"{display_path(study.path)}: the pathway model has no pathway from a strategy through a "
            "mechanism "
            "to an outcome",
            hint="see docs/pathway-models.md: a pathway needs a strategy, a mechanism and an outcome",
        )
    return _Planner(study, settings).run()
