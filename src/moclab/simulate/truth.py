"""The known truth of a simulated study: what every estimate of the study should recover.

Metrics. Path coefficients are in the **latent standardized metric**: with ``scale: standardized`` every
latent variable has variance 1 in the population without the strategy, a path from one latent variable
to another is a standardized regression coefficient, and a path from a strategy is a standardized mean
difference (per unit of a continuous exposure). With ``scale: unit-residual`` the metric is that of
residual variances of 1 instead. The coefficients are effects per wave given the previous wave (the model
is autoregressive); with stability 0 and one wave they are the ordinary coefficients of a cross-sectional
mediation model.

Indirect effects are given three ways for each pathway (strategy → ... → outcome):

- ``structural``: the product of the path coefficients along the pathway (where its preconditions hold),
  the ``a·b`` of mediation analysis: what a single-wave analysis, or one of lagged waves adjusting for the
  previous wave, estimates;
- ``by_wave``: the effect of the strategy on the pathway's outcome at each wave that travels along this
  route, counting the lags, the stability that carries effects from wave to wave, and the share of units
  where preconditions hold;
- ``observed``: ``structural`` and ``by_wave`` in the units of the outcome's observed score, where that is
  a linear function of the latent variable (a continuous scale score: times sd·sqrt(reliability)). For
  Likert items the mapping is not linear and no observed-metric value is given.

`analytic_truth` computes everything that follows from the plan; `realised_truth` adds what one draw
realised (sample sizes, arms, ICCs, alphas, missingness).
"""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moclab import __version__
from moclab.model import NodeType

if TYPE_CHECKING:
    from moclab.simulate.generate import Draw
    from moclab.simulate.plan import SimulationPlan

_NOTE_METRIC = (
    "Effects are in the latent standardized metric (variance 1 without the strategy) unless named "
    "'observed'; path coefficients are per wave, given the previous wave."
)


@dataclass(frozen=True)
class Truth:
    """The true values behind a simulated study (see the module docstring for the metrics).

    Attributes
    ----------
    model, scale, seed
        The model id, the metric (standardized or unit-residual) and the seed of the draw.
    paths
        One dict per path: ``from``, ``to``, ``kind`` (a, d, m, b, o, direct, moderator, confounder),
        ``effect``, ``lag``, ``null``, ``interactions`` (moderator → interaction).
    pathways
        One dict per pathway of the model: ``id``, ``nodes``, ``strategy``, ``mechanisms``, ``outcome``,
        ``structural``, ``by_wave`` (wave id → effect), ``observed``, ``null``, and ``by_outcome``: the
        same up to each outcome along the pathway (the first one is the ``a·b`` of a one-mediator model).
    mechanisms
        Per mechanism: its ``a`` path per strategy, ``null``, and ``through`` (outcome → wave → effect
        transmitted through it).
    total_effects
        Strategy → node → wave → the expected difference between exposed and unexposed.
    dose
        The support rate and, per node, the dose-response slope (per SD of the support rate, per minute a
        month, per cumulative hour at each wave).
    icc
        Per node: the specified residual ICCs and the population ICCs without the strategy (and, after a
        draw, the realised ones per wave).
    measurement
        Per measure: instrument, loading, target and expected alpha (and realised alphas), observed factor.
    realised
        Counts of the draw: recipients, sites, teams, per arm; missingness and dropout.
    spec
        The full spec, every default written out.
    """

    model: str
    scale: str
    seed: int | None
    waves: tuple[str, ...]
    paths: tuple[dict[str, Any], ...]
    pathways: tuple[dict[str, Any], ...]
    mechanisms: dict[str, Any]
    total_effects: dict[str, Any]
    dose: dict[str, Any] | None
    icc: dict[str, Any]
    measurement: dict[str, Any]
    spec: dict[str, Any]
    realised: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = (_NOTE_METRIC,)

    @property
    def null_mechanisms(self) -> list[str]:
        """Mechanisms through which no strategy affects any outcome."""
        return [name for name, entry in self.mechanisms.items() if entry["null"]]

    def path(self, source: str, target: str) -> float:
        """The true coefficient of the path `source` → `target` (KeyError when there is none)."""
        for entry in self.paths:
            if entry["from"] == source and entry["to"] == target:
                return float(entry["effect"])
        raise KeyError(f"no path {source}->{target} in the truth")

    def pathway(self, pathway_id: str) -> dict[str, Any]:
        """The truth of one pathway (KeyError listing the ids when there is none)."""
        for entry in self.pathways:
            if entry["id"] == pathway_id:
                return entry
        raise KeyError(f"no pathway '{pathway_id}'; pathways: {', '.join(p['id'] for p in self.pathways)}")

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data (the content of truth.json)."""
        # imported here (as in `_icc`): moclab.analysis pulls in statsmodels, which simulating does not need
        from moclab.plain import plain

        return plain(
            {
                "moclab_version": __version__,
                "model": self.model,
                "scale": self.scale,
                "seed": self.seed,
                "notes": list(self.notes),
                "waves": list(self.waves),
                "null_mechanisms": self.null_mechanisms,
                "paths": list(self.paths),
                "pathways": list(self.pathways),
                "mechanisms": self.mechanisms,
                "total_effects": self.total_effects,
                "dose": self.dose,
                "icc": self.icc,
                "measurement": self.measurement,
                "realised": self.realised,
                "spec": self.spec,
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The paths and the pathways' indirect effects as one table (index: the effect's name)."""
        rows = [
            {
                "name": f"{p['from']}->{p['to']}",
                "kind": p["kind"],
                "effect": p["effect"],
                "lag": p.get("lag"),
                "null": p.get("null", p["effect"] == 0),
            }
            for p in self.paths
        ]
        last = self.waves[-1]
        rows += [
            {
                "name": f"indirect:{p['id']}",
                "kind": "indirect",
                "effect": p["structural"],
                "lag": p["lag"],
                "null": p["null"],
                f"at_{last}": p["by_wave"].get(last),
                "observed": p["observed"]["structural"] if p["observed"] else None,
            }
            for p in self.pathways
        ]
        return pd.DataFrame(rows).set_index("name")

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        body = frame.to_html(float_format=lambda v: f"{v:.4g}", na_rep="", border=0)
        nulls = ", ".join(self.null_mechanisms) or "none"
        head = (
            f"<strong>Truth of a simulated study</strong> of {html.escape(self.model)} "
            f"(seed {self.seed}, {html.escape(self.scale)} metric); null mechanisms: {html.escape(nulls)}"
        )
        return f"<div>{head}{body}</div>"

    def __str__(self) -> str:
        frame = self.to_frame()
        return f"Truth of a simulated study of {self.model} (seed {self.seed})\n{frame.to_string()}"


# -- analytic truth -------------------------------------------------------------------------------------


class _Propagator:
    """Expected effects of exposure, propagated through the linear no-noise system wave by wave, averaged
    over the combinations of preconditions (which switch inputs off); moderators are centred and
    independent of exposure, so their interactions add nothing on average."""

    def __init__(self, plan: SimulationPlan) -> None:
        self.plan = plan
        self.k = len(plan.nodes)
        uncertain = [j for j, pre in enumerate(plan.preconditions) if pre.share < 1]
        self.combos: list[tuple[np.ndarray, float]] = []
        for states in itertools.product((True, False), repeat=len(uncertain)):
            holds = np.ones(len(plan.preconditions), dtype=bool)
            probability = 1.0
            for j, state in zip(uncertain, states, strict=True):
                holds[j] = state
                share = plan.preconditions[j].share
                probability *= share if state else 1 - share
            self.combos.append((holds, probability))

    def effects(
        self,
        strategy: int,
        *,
        inputs: set[int] | None = None,
        edges: set[tuple[int, int]] | None = None,
        cut: int | None = None,
    ) -> np.ndarray:
        """(waves, nodes) expected effect of exposure to `strategy`.

        `inputs` limits the nodes the strategy acts on; `edges` (target, source) limits the paths;
        `cut` removes the strategy's input into a node and every path into it.
        """
        plan = self.plan
        stability = plan.stability
        total = np.zeros((plan.months.size, self.k))
        for holds, probability in self.combos:
            lag0 = np.zeros((self.k, self.k))
            lag1 = np.zeros((self.k, self.k))
            push = np.zeros(self.k)
            for v, node in enumerate(plan.nodes):
                if v == cut:
                    continue
                for term in node.terms:
                    if edges is not None and (v, term.source) not in edges:
                        continue
                    weight = term.coefficient * float(np.all(holds[list(term.gates)]))
                    (lag1 if term.lag else lag0)[v, term.source] += weight
                if inputs is not None and v not in inputs:
                    continue
                for term in node.strategy_terms:
                    if term.strategy == strategy:
                        push[v] += term.coefficient * float(np.all(holds[list(term.gates)]))
            inverse = np.linalg.inv(np.eye(self.k) - lag0)
            carry = np.diag(stability) + lag1
            previous = np.zeros(self.k)
            for t in range(plan.months.size):
                current = inverse @ (carry @ previous + push * float(plan.active[t]))
                total[t] += probability * current
                previous = current
        return total


def analytic_truth(plan: SimulationPlan) -> Truth:
    """Everything true by construction of `plan` (no draw needed)."""
    model = plan.model
    index = {name: i for i, name in enumerate(plan.node_ids)}
    wave_ids = tuple(wave.id for wave in plan.waves)
    propagate = _Propagator(plan)
    measures = {m.node: m for m in plan.measures}

    def by_wave(values: np.ndarray) -> dict[str, float]:
        return {wave: float(value) for wave, value in zip(wave_ids, values, strict=True)}

    coefficient = {(p["from"], p["to"]): p["effect"] for p in plan.paths}
    lags = {(p["from"], p["to"]): p["lag"] for p in plan.paths}
    totals: dict[str, Any] = {}
    full: dict[int, np.ndarray] = {}
    for s, strategy in enumerate(plan.strategies):
        full[s] = propagate.effects(s)
        totals[strategy] = {
            name: by_wave(full[s][:, i])
            for i, name in enumerate(plan.node_ids)
            if plan.nodes[i].role not in ("moderator", "confounder")
        }

    outcomes = [n.id for n in model.nodes if n.type.is_outcome]
    mechanisms: dict[str, Any] = {}
    for node in model.nodes_of(NodeType.MECHANISM):
        i = index[node.id]
        a_paths = {
            s: coefficient.get((s, node.id), 0.0) for s in plan.strategies if (s, node.id) in coefficient
        }
        through: dict[str, Any] = {}
        transmits = False
        for s, strategy in enumerate(plan.strategies):
            without = propagate.effects(s, cut=i)
            difference = full[s] - without
            entry = {o: by_wave(difference[:, index[o]]) for o in outcomes}
            through[strategy] = entry
            transmits |= bool(np.any(np.abs(difference[:, [index[o] for o in outcomes]]) > 1e-12))
        mechanisms[node.id] = {"a": a_paths, "null": not transmits, "through": through}

    pathways = []
    for pathway in model.pathways_resolved():
        steps = list(zip(pathway.nodes[:-1], pathway.nodes[1:], strict=True))
        structural = float(np.prod([coefficient.get(step, 0.0) for step in steps]))
        lag = int(sum(lags.get(step, 0) for step in steps))
        s = plan.strategies.index(pathway.strategy)
        routes = propagate.effects(
            s,
            inputs={index[pathway.nodes[1]]},
            edges={(index[b], index[a]) for a, b in steps[1:]},
        )
        route = routes[:, index[pathway.outcome]]
        measure = measures.get(pathway.outcome)
        factor = measure.observed_factor if measure is not None else None
        by_outcome = {}
        for position, node in enumerate(pathway.nodes):
            if node not in pathway.outcomes:
                continue
            partial = steps[:position]
            by_outcome[node] = {
                "structural": float(np.prod([coefficient.get(step, 0.0) for step in partial])),
                "lag": int(sum(lags.get(step, 0) for step in partial)),
                "by_wave": by_wave(routes[:, index[node]]),
            }
        pathways.append(
            {
                "id": pathway.id,
                "nodes": list(pathway.nodes),
                "strategy": pathway.strategy,
                "mechanisms": list(pathway.mechanisms),
                "outcome": pathway.outcome,
                "alternatives": list(pathway.alternatives),
                "structural": structural,
                "lag": lag,
                "by_wave": by_wave(route),
                "observed": (
                    {
                        "structural": structural * factor,
                        "by_wave": by_wave(route * factor),
                        "measure": measure.name,  # type: ignore[union-attr]
                        "factor": factor,
                    }
                    if factor is not None
                    else None
                ),
                "null": structural == 0,
                "by_outcome": by_outcome,
            }
        )

    covariance = plan.covariance
    total_var = np.diag(covariance)
    site_part = np.diag(plan.intercept_map @ np.diag(plan.site_variance) @ plan.intercept_map.T)
    team_part = np.diag(plan.intercept_map @ np.diag(plan.team_variance) @ plan.intercept_map.T)
    icc: dict[str, Any] = {}
    for i, node in enumerate(plan.nodes):
        if node.role in ("moderator",):
            continue
        if node.role == "confounder":
            specified_site = plan.spec.confounders[node.id].icc if node.level == "individual" else None
            specified_team = None
        else:
            settings = plan.spec.variable(node.id)
            specified_site = settings.icc
            specified_team = settings.team_icc if plan.has_teams else None
        icc[node.id] = {
            "site": specified_site,
            "team": specified_team,
            "population": {
                "variance": float(total_var[i]),
                "site": float(site_part[i] / total_var[i]) if total_var[i] > 0 else None,
                "team": float(team_part[i] / total_var[i]) if plan.has_teams and total_var[i] > 0 else None,
            },
        }

    measurement = {
        m.name: {
            "node": m.node,
            "table": m.table,
            "kind": m.kind,
            "instrument": m.instrument,
            "subscale": m.subscale,
            "items": list(m.item_fields),
            "reverse": [f for f, r in zip(m.item_fields, m.reverse, strict=True) if r],
            "loading": m.loading if m.kind == "items" else None,
            "alpha_target": m.alpha_target,
            "alpha_expected": m.alpha_expected,
            "mean": m.mean,
            "sd": m.sd,
            "reliability": m.reliability if m.kind == "continuous" else None,
            "observed_factor": m.observed_factor,
        }
        for m in plan.measures
    }

    dose = None
    if plan.dose is not None:
        elapsed = np.maximum(plan.months - plan.start_month, 0.0)
        rate_sd = plan.dose.rate_sd
        slopes = {}
        for node, slope in plan.dose.slopes.items():
            per_minute = slope / rate_sd if rate_sd > 0 else None
            slopes[node] = {
                "per_sd_of_rate": slope,
                "per_minute_per_month": per_minute,
                "per_cumulative_hour": {
                    wave: (60 * per_minute / months if per_minute is not None and months > 0 else None)
                    for wave, months in zip(wave_ids, elapsed, strict=True)
                },
            }
        dose = {
            "level": plan.dose.level,
            "minutes_per_month": plan.dose.minutes_per_month,
            "rate_sd": rate_sd,
            "control_minutes_per_month": plan.dose.control_minutes_per_month,
            "slopes": slopes,
            "note": (
                "A node's response to the strategy is a + slope·z, z the exposed unit's realised support "
                "rate (minutes a month since the start) standardized by the rate's mean and SD; the control "
                "arm's support is logged but has no effect."
            ),
        }

    return Truth(
        model=model.id,
        scale=plan.spec.scale,
        seed=None,
        waves=wave_ids,
        paths=tuple(plan.paths),
        pathways=tuple(pathways),
        mechanisms=mechanisms,
        total_effects=totals,
        dose=dose,
        icc=icc,
        measurement=measurement,
        spec=plan.spec.model_dump(mode="json"),
    )


# -- realised values ------------------------------------------------------------------------------------


def _icc(values: np.ndarray, codes: np.ndarray) -> float | None:
    # imported here: moclab.analysis pulls in statsmodels, which the fast path does not need
    from moclab.analysis.clustering import icc_oneway

    keep = ~np.isnan(values)
    if keep.sum() < 3:
        return None
    value = icc_oneway(values[keep], np.unique(codes[keep], return_inverse=True)[1])
    return None if not np.isfinite(value) else value


def realised_truth(plan: SimulationPlan, draw: Draw) -> Truth:
    """The analytic truth plus what this draw realised: counts, ICCs, alphas, missingness."""
    from moclab.analysis.reliability import cronbach_alpha  # imported here, as in `_icc`

    truth = analytic_truth(plan)
    wave_ids = truth.waves
    icc = {name: dict(entry) for name, entry in truth.icc.items()}
    measures_by_node = {m.node: m for m in plan.measures if m.table == "measures"}
    for i, node in enumerate(plan.nodes):
        if node.id not in icc:
            continue
        icc[node.id]["realised_latent"] = {
            wave: _icc(draw.latent[:, t, i], draw.site_of) for t, wave in enumerate(wave_ids)
        }
        measure = measures_by_node.get(node.id)
        if measure is not None:
            icc[node.id]["realised_observed"] = {
                wave: _icc(draw.scores[measure.name][:, t], draw.site_of) for t, wave in enumerate(wave_ids)
            }
    measurement = {name: dict(entry) for name, entry in truth.measurement.items()}
    for m in plan.measures:
        if m.kind == "items" and draw.items:
            reverse = np.array(m.reverse)
            alphas = {}
            for t, wave in enumerate(wave_ids):
                responses = np.stack([draw.items[f][:, t] for f in m.item_fields], axis=1)
                keyed = np.where(reverse, m.minimum + m.maximum - responses, responses)
                alphas[wave] = cronbach_alpha(keyed).estimate if len(m.reverse) > 1 else float("nan")
            measurement[m.name]["alpha_realised"] = alphas
    n = draw.n
    arms: dict[str, Any] = {}
    if plan.exposure.kind == "binary":
        labels = [*plan.arm_labels, plan.control_label]
        for code, label in zip([*range(len(plan.strategies)), -1], labels, strict=True):
            members = draw.arm == code
            arms[label] = {
                "recipients": int(members.sum()),
                "sites": int(np.unique(draw.site_of[members]).size),
            }
            if draw.dose_minutes is not None:
                arms[label]["mean_support_minutes"] = {
                    wave: float(draw.dose_minutes[members, t].mean()) if members.any() else None
                    for t, wave in enumerate(wave_ids)
                }
    scored = [draw.scores[m.name] for m in plan.measures if m.table == "measures" and m.kind == "continuous"]
    missing = {}
    for t, wave in enumerate(wave_ids):
        present = draw.present[:, t]
        shares = [float(np.isnan(values[present, t]).mean()) for values in scored if present.any()]
        missing[wave] = float(np.mean(shares)) if shares else None
    sizes = np.bincount(draw.site_of, minlength=draw.n_sites)
    realised = {
        "recipients": n,
        "sites": draw.n_sites,
        "teams": draw.n_teams or None,
        "recipients_per_site": {
            "min": int(sizes.min()),
            "mean": float(sizes.mean()),
            "max": int(sizes.max()),
        },
        "arms": arms,
        "present": {wave: int(draw.present[:, t].sum()) for t, wave in enumerate(wave_ids)},
        "missing_share_of_scale_scores": missing,
        "preconditions_hold": {
            pre.id: float(draw.holds[:, j].mean()) for j, pre in enumerate(plan.preconditions)
        },
    }
    return replace(truth, seed=draw.seed, icc=icc, measurement=measurement, realised=realised)
