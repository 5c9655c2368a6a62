"""What a power analysis analyses: the pathways of a simulated design and the arrays each analysis needs.

A `PowerTarget` fixes, for one pathway, the columns and waves that stand for the strategy, the mechanism,
the outcome, its baselines and its competing mechanisms. The choice follows the rule `moclab analyze` uses
(`moclab.evidence`, docs/criteria.md), so the power analysis tests what the real analysis will test:

* the outcome is the first outcome after the mechanism on the pathway;
* with two or more waves the first wave is the baseline, the mechanism is taken at the second wave and the
  outcome at the last, and both are adjusted for their baseline values; with one wave everything is taken at
  that wave without adjustment;
* the strategy is the arm (1 for exposed, 0 for control) or the continuous exposure;
* recipients nested in two or more sites are analysed with the site as cluster (cluster-robust standard
  errors, cluster bootstrap); one site means no clustering;
* competing mechanisms (the pathway's alternatives that are measured per recipient) enter the specificity
  model as parallel mediators.

`replication_arrays` turns one simulated data set (a `moclab.simulate` draw) into the plain arrays the
vectorized engine (`moclab.design.engine`) works on, with listwise deletion as `mediate` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from moclab.errors import MoclabError, UsageError
from moclab.evidence.levels import declared_unit, unit_parts
from moclab.model import NodeType
from moclab.simulate import SimulationPlan

__all__ = [
    "PowerTarget",
    "ReplicationData",
    "at_declared_level",
    "complete_cases",
    "declared_units",
    "model_matrix",
    "power_targets",
    "replication_arrays",
    "strategy_values",
]


@dataclass(frozen=True)
class PowerTarget:
    """One pathway as the power analysis tests it (see the module docstring for the rules).

    Attributes
    ----------
    id : str
        The pathway id of the model (``isp_support__trust__acceptability``).
    strategy, mechanism, outcome : str
        Model node ids.
    alternatives : tuple of str
        Competing mechanisms measured per recipient (specificity).
    mechanism_measure, outcome_measure : str
        Measure names in the simulated data.
    alternative_measures : tuple of str
        Measure names of the alternatives.
    mechanism_wave, outcome_wave : int
        Wave indexes.
    baseline_wave : int or None
        The baseline wave index, or None for a one-wave design.
    strategy_index : int
        Position of the strategy among the plan's strategies.
    randomization : str
        ``design.randomization.level`` of the spec (``none`` for an observational design).
    x_kind : {"arm", "continuous"}
        How the strategy is coded.
    clustered : bool
        Whether recipients are analysed as nested in sites.
    """

    id: str
    strategy: str
    mechanism: str
    outcome: str
    alternatives: tuple[str, ...]
    mechanism_measure: str
    outcome_measure: str
    alternative_measures: tuple[str, ...]
    mechanism_wave: int
    outcome_wave: int
    baseline_wave: int | None
    strategy_index: int
    randomization: str
    x_kind: str
    clustered: bool

    @property
    def label(self) -> str:
        return f"{self.strategy} → {self.mechanism} → {self.outcome}"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "strategy": self.strategy,
            "mechanism": self.mechanism,
            "outcome": self.outcome,
            "alternatives": list(self.alternatives),
            "waves": {
                "baseline": self.baseline_wave,
                "mechanism": self.mechanism_wave,
                "outcome": self.outcome_wave,
            },
            "randomization": self.randomization,
            "x": self.x_kind,
            "clustered": self.clustered,
        }


def _recipient_measures(plan: SimulationPlan) -> dict[str, str]:
    """Node id -> measure name, for nodes measured per recipient (not site-level outcome tables)."""
    return {m.node: m.name for m in plan.measures if m.table == "measures"}


def power_targets(plan: SimulationPlan, pathways: Sequence[str] | None = None) -> list[PowerTarget]:
    """The pathways of the plan's model as the power analysis tests them.

    Parameters
    ----------
    plan : SimulationPlan
        A compiled simulation (`moclab.simulate.compile_simulation`).
    pathways : sequence of str, optional
        Pathway ids to keep (default: every pathway whose mechanism and outcome are measured per recipient).

    Raises
    ------
    MoclabError
        An unknown pathway id (with the available ids), a pathway with a chain of several mechanisms (the
        fast engine tests one mechanism at a time), or a pathway whose mechanism or outcome is not measured
        per recipient.

    Examples
    --------
    >>> from moclab.design import power_targets
    >>> from moclab.simulate import compile_simulation
    >>> plan = compile_simulation("recipient-pathway")
    >>> len(power_targets(plan))
    12
    >>> target = power_targets(plan, ["isp_support__trust__acceptability"])[0]
    >>> target.label
    'isp_support → trust → acceptability'
    >>> target.alternatives  # competing mechanisms, tested in parallel for specificity
    ('positive_emotion', 'psych_safety', 'credibility')
    >>> target.baseline_wave, target.mechanism_wave, target.outcome_wave, target.clustered
    (0, 1, 2, True)
    """
    model = plan.model
    types = {node.id: node.type for node in model.nodes}
    measured = _recipient_measures(plan)
    n_waves = len(plan.waves)
    baseline = 0 if n_waves >= 2 else None
    mechanism_wave = 1 if n_waves >= 2 else 0
    outcome_wave = n_waves - 1
    resolved = list(model.pathways_resolved())
    by_id = {pathway.id: pathway for pathway in resolved}
    if pathways:
        unknown = [name for name in pathways if name not in by_id]
        if unknown:
            raise UsageError(
                f"unknown pathway(s): {', '.join(unknown)}",
                hint="pathways of this model: " + ", ".join(by_id),
            )
        chosen = [by_id[name] for name in pathways]
    else:
        chosen = resolved
    randomization = plan.spec.design.randomization
    clustered = plan.spec.design.sites >= 2
    targets: list[PowerTarget] = []
    skipped: list[str] = []
    for pathway in chosen:
        if len(pathway.mechanisms) != 1:
            message = f"pathway '{pathway.id}' runs through {len(pathway.mechanisms)} mechanisms in a chain"
            if pathways:
                raise MoclabError(
                    message, hint="the power analysis tests one mechanism per pathway; choose another pathway"
                )
            skipped.append(message)
            continue
        mechanism = pathway.mechanisms[0]
        after = pathway.nodes[pathway.nodes.index(mechanism) + 1 :]
        outcome = next((node for node in after if types[node].is_outcome), pathway.outcome)
        missing = [node for node in (mechanism, outcome) if node not in measured]
        if missing:
            names = ", ".join(missing)
            message = f"pathway '{pathway.id}': {names} is not measured per recipient in the simulation"
            if pathways:
                raise MoclabError(message, hint="set 'measured: true' and 'table: measures' in the spec")
            skipped.append(message)
            continue
        alternatives = tuple(
            node
            for node in pathway.alternatives
            if node in measured and types.get(node) is NodeType.MECHANISM and node not in (mechanism, outcome)
        )
        targets.append(
            PowerTarget(
                id=pathway.id,
                strategy=pathway.strategy,
                mechanism=mechanism,
                outcome=outcome,
                alternatives=alternatives,
                mechanism_measure=measured[mechanism],
                outcome_measure=measured[outcome],
                alternative_measures=tuple(measured[node] for node in alternatives),
                mechanism_wave=mechanism_wave,
                outcome_wave=outcome_wave,
                baseline_wave=baseline,
                strategy_index=plan.strategies.index(pathway.strategy),
                randomization=randomization.level,
                x_kind="continuous" if plan.exposure.kind == "continuous" else "arm",
                clustered=clustered,
            )
        )
    if not targets:
        reasons = "; ".join(skipped) or "the model has no pathway"
        raise MoclabError(f"no pathway can be tested: {reasons}")
    return targets


@dataclass(frozen=True, eq=False)
class ReplicationData:
    """The complete cases of one pathway in one simulated data set, as `mediate` would analyse them.

    ``z`` has the columns of `mediate`'s design in its order: intercept, strategy, covariates (baselines),
    mediators (the mechanism first, then the alternatives when asked for), outcome.
    """

    z: np.ndarray
    codes: np.ndarray | None
    n_covariates: int
    n_mediators: int

    @property
    def n(self) -> int:
        return self.z.shape[0]

    @property
    def n_clusters(self) -> int:
        return 0 if self.codes is None else int(self.codes.max()) + 1 if self.codes.size else 0


def replication_arrays(draw: object, target: PowerTarget, *, alternatives: bool = False) -> ReplicationData:
    """The analysis arrays of one pathway in one draw (`moclab.simulate.generate.draw`).

    Parameters
    ----------
    draw : moclab.simulate.generate.Draw
        One simulated data set.
    target : PowerTarget
        The pathway and its waves.
    alternatives : bool
        Add the competing mechanisms as parallel mediators (the specificity model); their baselines join
        the covariates, as in `moclab analyze`.

    Returns
    -------
    ReplicationData

    Examples
    --------
    >>> from moclab.design import power_targets, replication_arrays
    >>> from moclab.simulate import compile_simulation, draw
    >>> plan = compile_simulation("recipient-pathway")
    >>> target = power_targets(plan, ["isp_support__trust__acceptability"])[0]
    >>> data = replication_arrays(draw(plan, 1), target)
    >>> data.n, data.n_clusters, data.n_covariates, data.n_mediators
    (1706, 40, 2, 1)

    A row of ``z``: intercept, arm, the baselines of trust and acceptability, trust at 6 months,
    acceptability at 12 months.

    >>> data.z[0].round(2).tolist()
    [1.0, 1.0, 2.78, 4.75, 3.44, 3.75]
    >>> replication_arrays(draw(plan, 1), target, alternatives=True).n_mediators
    4
    """
    z, n_covariates, n_mediators = model_matrix(draw, target, alternatives=alternatives)
    sites = draw.site_of if target.clustered else None  # type: ignore[attr-defined]
    return complete_cases(z, sites, n_covariates, n_mediators)


def model_matrix(
    draw: Any, target: PowerTarget, *, alternatives: bool = False
) -> tuple[np.ndarray, int, int]:
    """`mediate`'s design over every recipient of the draw (missing values kept): intercept, strategy,
    covariates (the baselines of the mediators and the outcome), mediators (the mechanism, then the
    competing mechanisms with `alternatives`), outcome; with the numbers of covariates and mediators."""
    scores = draw.scores
    x = strategy_values(draw, target)
    mediators = [target.mechanism_measure]
    if alternatives:
        mediators += list(target.alternative_measures)
    m_columns = [scores[name][:, target.mechanism_wave] for name in mediators]
    y = scores[target.outcome_measure][:, target.outcome_wave]
    covariates: list[np.ndarray] = []
    if target.baseline_wave is not None:
        covariates = [scores[name][:, target.baseline_wave] for name in [*mediators, target.outcome_measure]]
    return np.column_stack([np.ones(x.size), x, *covariates, *m_columns, y]), len(covariates), len(mediators)


def complete_cases(
    z: np.ndarray, sites: np.ndarray | None, n_covariates: int, n_mediators: int
) -> ReplicationData:
    """The rows of `model_matrix` without a missing value (`mediate`'s listwise deletion; site labels are
    never missing), with the site codes `mediate` gives them."""
    keep = ~np.isnan(z).any(axis=1)
    z = z[keep] if not keep.all() else z
    codes = None
    if sites is not None:
        # Codes in order of first appearance, as `moclab.analysis.bootstrap.factorize_clusters` numbers them.
        _, first, inverse = np.unique(sites[keep], return_index=True, return_inverse=True)
        order = np.argsort(np.argsort(first))
        codes = order[inverse].astype(np.int64)
    return ReplicationData(z=z, codes=codes, n_covariates=n_covariates, n_mediators=n_mediators)


def strategy_values(draw: Any, target: PowerTarget) -> np.ndarray:
    """The pathway's strategy per recipient as the mediation model and every criterion read it: the
    continuous exposure, or 1 for the recipients of this pathway's strategy and 0 for the others (the
    control arm, and the other strategies' arms of a multi-arm trial), as the scorecard codes its own arm."""
    if target.x_kind == "continuous":
        return draw.exposure[:, target.strategy_index]
    return (draw.arm == target.strategy_index).astype(float)


def declared_units(plan: SimulationPlan, draw: Any, target: PowerTarget) -> np.ndarray | None:
    """The unit codes (teams or sites) whose means `moclab analyze` analyses the pathway's mechanism as, by
    the level the model declares (`moclab.evidence.levels.declared_unit`); None when it reads the recipients'
    scores (an individual-level mechanism, or a team-level one in a design without teams)."""
    unit = declared_unit(plan.model, target.mechanism)
    return {"team": draw.team_of, "site": draw.site_of}.get(unit) if unit is not None else None


def at_declared_level(
    plan: SimulationPlan, draw: Any, target: PowerTarget, cache: dict[str, Any] | None = None
) -> Any:
    """The draw with the pathway's mechanism replaced by its team (or site) means at every wave when the
    model declares it at the team or organization level (`declared_units`), as `moclab analyze` analyses it
    (`moclab.evidence.levels.unit_parts`, here on the draw's integer unit codes): the mean over the unit's
    recipients with a value at that wave, given to every recipient of the unit. Otherwise the draw itself.

    ``cache`` (one per draw) keeps the cut draws by mechanism: the pathways of one mechanism, and the
    mediation models and criteria analyses of one pathway, then share one cut."""
    unit = declared_units(plan, draw, target)
    if unit is None:
        return draw
    if cache is not None and target.mechanism in cache:
        return cache[target.mechanism]
    means = unit_parts(draw.scores[target.mechanism_measure], unit)[0]
    cut = dataclasses.replace(draw, scores={**draw.scores, target.mechanism_measure: means})
    if cache is not None:
        cache[target.mechanism] = cut
    return cut
