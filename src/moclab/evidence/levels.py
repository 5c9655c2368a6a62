"""The level each criterion analyses a mechanism at, and the pathway frames cut at that level (issue 17).

A mechanism can live above the recipient: a team's psychological safety, a site's implementation climate.
The pathway model says so with the node's ``level`` (individual, team, organization, system). Recipients
report such a climate one by one, so its measured score mixes two parts: the unit's mean (the climate the
unit shares, the *between* part) and the recipient's deviation from it (the *within* part). Every criterion
of a pathway then analyses the part the level names:

==================================  ===================================================================
the mechanism                       analysed as
==================================  ===================================================================
declared at the team level          its team means (between teams); needs the recipients' team column
declared at the organization level  its site means (between sites)
individual, ``--multilevel``,       its site means (between sites): the strategy is constant within
strategy assigned per site          each site, so only the site means can carry its effect (2-1-1)
individual, ``--multilevel``,       its deviations from the site mean (within sites, 1-1-1)
strategy varying within sites
individual                          the recipients' own scores, as measured
==================================  ===================================================================

The part replaces the mechanism (and its baseline) in the frames of every criterion: the mediation models
of strong association, specificity and manipulation, the subgroup models of consistency, the cross-lagged
panel (each wave's unit means from that wave's values) and the dose-response. Inference stays clustered by
site (the level of randomization or above it). A competing mechanism enters the pathway's models as the
recipients' scores (with ``--multilevel``, as the mechanism's part): it is adjusted for, and its own pathway
judges it at its declared level.

Decisions (docs/decisions/0010): for a unit-level construct, the recipients' deviations from their unit's
mean are their disagreement about the unit, which the 2-2-1 model treats as error in the unit's score, so
the analysed part is the unit mean alone (a manifest aggregation; Lüdtke et al. 2008 describe its bias when
units are small, which the ICC(2) note warns of). With ``--multilevel`` for an individual-level mechanism
the between and within parts are uncorrelated over the rows they were computed from, so either part's
coefficient is the one the decomposed (within-between) model gives it, up to what the other covariates
share with the omitted part (Raudenbush & Bryk 2002, ch. 5). The unit mean is taken over the recipients of
the unit who have a value at that wave and is given to every recipient of the unit (docs/decisions/0011):
the unit's climate is not missing because one member did not rate it, and a mean given only to its raters
carries each analysed rater's own deviation (the within part the outcome also follows) into the between
slope, which the unit's other members offset. The analysed rows of a cut pathway are those with the unit
mean, the strategy and the outcome.
Consistency of a between-unit mechanism is judged across subgroups or studies: a site holds one value of it
(or a few, one per team), too few to estimate its link within the site.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from moclab.analysis.aggregation import icc
from moclab.analysis.multilevel import MIN_CLUSTERS
from moclab.errors import DataError
from moclab.evidence.frames import PathwayData
from moclab.evidence.verdicts import Verdict

__all__ = [
    "PART_WORDS",
    "NodeLevel",
    "PathwayLevel",
    "declared_unit",
    "judged_at",
    "level_data",
    "level_notes",
    "pathway_level",
    "unit_parts",
]

Part = Literal["between", "within"]

#: What each part of a score is called.
PART_WORDS = {"between": "means", "within": "deviations from the mean"}

#: The analysis of each criterion, completed by the level's words.
_ANALYSES = {
    "strong_association": "the mediation model",
    "specificity": "the mechanisms side by side in the mediation model",
    "experimental_manipulation": "the strategy's effects in the mediation model",
    "timeline": "the cross-lagged panel over the waves",
    "gradient": "dose-response of the support received",
    "plausibility": "none: the backing of the links and the coded interviews",
}

#: Why a criterion has no multilevel (random-effects) model when ``--multilevel`` is asked for.
_NO_RANDOM_EFFECTS = {
    "specificity": "the multilevel model takes one mechanism, so the competitors are compared in the "
    "mediation model of the level's part",
    "timeline": "moclab has no multilevel cross-lagged panel; the level's part is analysed with errors "
    "clustered",
    "gradient": "moclab has no multilevel dose-response; the level's part is analysed with errors clustered",
}


def declared_unit(model: Any, name: str) -> Literal["team", "site"] | None:
    """The unit whose means a mechanism is analysed as by the level the model declares for it: ``team`` at
    the team level, ``site`` at the organization (or site) level, None otherwise (individual, system, or
    undeclared). The power engine's fast path cuts its simulated scores by the same rule."""
    return {"team": "team", "organization": "site", "site": "site"}.get(_node_level(model, name) or "")


def _node_level(model: Any, name: str) -> str | None:
    try:
        node = model.node(name)
    except (KeyError, LookupError):
        return None
    level = getattr(node, "level", None)
    return getattr(level, "value", level)


@dataclass(frozen=True)
class NodeLevel:
    """How one node of the pathway is cut: its analysed part and its unit (``team`` or the cluster's
    name)."""

    part: Part
    unit: str


@dataclass(frozen=True)
class PathwayLevel:
    """The level a pathway's mechanism(s) are analysed at and why, with the cut of every node.

    ``reason`` says where the level comes from (the model's declaration, ``--multilevel`` and the design),
    ``declared`` the level the model declares for the (first) mechanism when it is cut by it;
    ``aggregation`` gives ICC(1) and ICC(2) of each between-unit mechanism at its wave (how much the units
    differ, and how reliable their means are); ``notes`` say what could not be honoured.
    """

    part: Part | None
    unit: str | None
    reason: str
    nodes: Mapping[str, NodeLevel]
    aggregation: Mapping[str, tuple[float, float, int]]
    notes: tuple[str, ...] = ()
    declared: str | None = None
    mechanisms: tuple[str, ...] = ()

    @property
    def words(self) -> str:
        """The level in words: "between teams (team means of psych_safety)"."""
        if self.part is None:
            return "recipients"
        names = ", ".join(name for name in self.mechanisms if name in self.nodes)
        if self.part == "between":
            return f"between {self.unit}s ({self.unit} means of {names})"
        return f"within {self.unit}s ({names} as deviations from the {self.unit} mean)"


def unit_parts(values: Any, units: Any) -> tuple[np.ndarray, np.ndarray]:
    """The between part (the unit's mean over its recipients with a value, given to every recipient of the
    unit) and the within part (the value minus that mean, missing where the value is) of a recipient-level
    score, or of each column of several (rows: recipients); both are missing without a unit, and the mean of
    a unit without any value is missing. Integer unit codes are grouped as they are (faster than labels).

    >>> between, within = unit_parts([1.0, 3.0, np.nan, 5.0], ["a", "a", "a", "b"])
    >>> between.tolist(), within.tolist()
    ([2.0, 2.0, 2.0, 5.0], [-1.0, 1.0, nan, 0.0])
    """
    array = np.asarray(values, dtype="float64")
    keys = np.asarray(units)
    labelled = keys.dtype.kind not in "iu"
    if labelled:  # labels, some possibly missing (None, NaN): grouped as objects, the missing ones apart
        keys = keys.astype(object)
    grouped = pd.DataFrame(array.reshape(array.shape[0], -1)).groupby(keys, sort=False, dropna=False)
    means = np.array(grouped.transform("mean"), dtype="float64").reshape(array.shape)  # a writable copy
    if labelled:
        means[pd.isna(keys)] = np.nan
    return means, array - means


def _unit_keys(study: Any, team: bool, ids: Any) -> np.ndarray | None:
    """The unit key of each recipient in `ids`: the site, or the site and team (team names often repeat
    across sites); None when the study lacks the column."""
    spec = study.config.tables.recipients
    recipients = study.recipients.drop_duplicates(spec.id).set_index(spec.id)
    if spec.cluster not in recipients.columns:
        return None
    site = recipients[spec.cluster].astype("string")
    if team:
        if spec.team is None or spec.team not in recipients.columns:
            return None
        site = site + "\x1f" + recipients[spec.team].astype("string")
    return site.reindex(ids).to_numpy()


def pathway_level(study: Any, plan: Any, data: PathwayData, multilevel: bool) -> PathwayLevel:
    """Decide the part and unit every mechanism and competitor of the pathway is analysed at.

    Parameters
    ----------
    study : Study
        The study (its model's node levels and the recipients' site and team columns).
    plan : PathwayPlan
        The pathway: its mechanisms and measured competitors.
    data : PathwayData
        The recipient-level frames of the pathway.
    multilevel : bool
        Whether ``mediation: multilevel`` (``--multilevel``) was asked for.
    """
    model = study.model
    cluster = plan.cluster
    notes: list[str] = []
    declared = {name: _node_level(model, name) for name in (*plan.mechanisms, *plan.alternatives)}
    multilevel_part: Part | None = None
    if multilevel and data.cluster is not None:
        pairs = data.frame[[data.x, data.cluster]].dropna()
        per_site = pairs.groupby(data.cluster, observed=True)[data.x].nunique()
        if len(per_site) < MIN_CLUSTERS:
            notes.append(
                f"--multilevel: {len(per_site)} {cluster}s are too few for a multilevel analysis (at least "
                f"{MIN_CLUSTERS}), so the mechanism is analysed as the recipients' own scores"
            )
        else:
            multilevel_part = "between" if bool((per_site <= 1).all()) else "within"
    nodes: dict[str, NodeLevel] = {}
    for name, level in declared.items():
        competitor = name not in plan.mechanisms  # cut only with --multilevel (decision 0010)
        unit = None if competitor else declared_unit(model, name)
        if unit == "team":
            if _unit_keys(study, True, data.frame[data.recipient_id]) is None:
                notes.append(
                    f"the model declares {name} at the team level, but the recipients table names no team "
                    "column (tables.recipients.team): it is analysed as the recipients' own scores"
                )
                continue
            nodes[name] = NodeLevel("between", "team")
        elif unit == "site":
            if data.cluster is None:
                notes.append(
                    f"the model declares {name} at the {level} level, but the recipients are not nested in "
                    "sites: it is analysed as the recipients' own scores"
                )
                continue
            nodes[name] = NodeLevel("between", cluster)
        elif level == "system" and not competitor:
            notes.append(
                f"the model declares {name} at the system level: a study holds one system, so its effect "
                "cannot be compared across systems; it is analysed as the recipients' own scores"
            )
        elif multilevel_part is not None:  # an individual-level node, or any competitor
            nodes[name] = NodeLevel(multilevel_part, cluster)
    mechanism_cuts = [nodes[name] for name in plan.mechanisms if name in nodes]
    if not mechanism_cuts:
        return PathwayLevel(None, None, "the recipients' own scores", nodes, {}, tuple(notes))
    first = mechanism_cuts[0]
    if any(name not in nodes for name in plan.mechanisms):
        notes.append(
            "the chain's mechanisms live at different levels: each is cut at its own (see the level of each "
            "verdict)"
        )
    declared_here = declared.get(plan.mechanisms[0]) if plan.mechanisms[0] in nodes else None
    if declared_here in ("team", "organization", "site"):
        reason = f"the model declares {plan.mechanisms[0]} at the {declared_here} level"
    elif first.part == "between":
        declared_here = None
        reason = (
            f"--multilevel with the strategy assigned per {cluster} (2-1-1): only the {cluster} means of the "
            "mechanism can carry its effect"
        )
    else:
        declared_here = None
        reason = f"--multilevel with the strategy varying within {cluster}s (1-1-1)"
    aggregation = {}
    frame = data.frame
    for name, cut in nodes.items():
        if cut.part != "between" or name not in plan.mechanisms:
            continue
        keys = _unit_keys(study, cut.unit == "team", frame[data.recipient_id])
        values = frame[name].to_numpy()
        try:
            found = icc(values, keys)
        except DataError:
            continue
        measured = pd.Series(keys[~np.isnan(values)])
        aggregation[name] = (float(found.icc1), float(found.icc2), int(measured.nunique()))
    return PathwayLevel(
        first.part, first.unit, reason, nodes, aggregation, tuple(notes), declared_here, plan.mechanisms
    )


def level_data(study: Any, data: PathwayData, level: PathwayLevel) -> PathwayData:
    """The pathway's frames with every cut node replaced by its part: at the mechanism wave, at baseline and
    at every wave of the panel (each wave's unit means from that wave's values)."""
    if not level.nodes:
        return data
    frame = data.frame.copy()
    ids = frame[data.recipient_id].to_numpy()
    panel = data.panel.copy() if data.panel is not None else None
    for name, cut in level.nodes.items():
        if name not in frame.columns:
            continue
        keys = _unit_keys(study, cut.unit == "team", ids)
        assert keys is not None  # pathway_level cuts only the nodes whose units exist
        columns = [name, *data.baseline_for(name)]
        for column in columns:
            frame[column] = unit_parts(frame[column], keys)[0 if cut.part == "between" else 1]
        if panel is not None and name in panel.columns:
            panel_keys = _unit_keys(study, cut.unit == "team", panel["recipient"].to_numpy())
            waves = panel["wave"].to_numpy()
            values = panel[name].to_numpy(dtype="float64", copy=True)
            for wave in np.unique(waves):
                rows = waves == wave
                values[rows] = unit_parts(values[rows], panel_keys[rows])[0 if cut.part == "between" else 1]
            panel[name] = values
    return dataclasses.replace(data, frame=frame, panel=panel)


def judged_at(
    verdict: Verdict,
    *,
    level: PathwayLevel,
    multilevel: str | None,
    multilevel_requested: bool,
    cluster: str | None,
    dose_level: str | None,
) -> str:
    """The level (and analysis) a verdict was judged at, in words; with ``--multilevel``, why a criterion
    without a random-effects model was judged as it was."""
    criterion = verdict.criterion
    clustered = f", errors clustered by {cluster}" if cluster else ""
    where = level.words
    if criterion == "consistency":
        units = verdict.evidence.get("units") or "sites"
        text = f"across {units}: each one's paths, pooled by meta-analysis"
        if level.part is not None:
            text += f"; the mechanism {where}"
        return text
    if criterion == "plausibility":
        return _ANALYSES[criterion]
    if multilevel is not None and criterion in ("strong_association", "experimental_manipulation"):
        side = "between sites" if multilevel == "2-1-1" else "within sites"
        return f"{side}: the {multilevel} multilevel mediation model"
    if criterion == "gradient" and dose_level == "site":
        text = f"{where}: dose-response of the support each site received{clustered}"
    else:
        text = f"{where}: {_ANALYSES[criterion]}{clustered}"
    if multilevel_requested and criterion in _NO_RANDOM_EFFECTS:
        text += f" (no random-effects model: {_NO_RANDOM_EFFECTS[criterion]})"
    return text


def level_notes(level: PathwayLevel) -> list[str]:
    """The pathway notes of its level: how the mechanism was cut, how well its unit means aggregate, and
    what could not be honoured."""
    notes = list(level.notes)
    if level.part is not None:
        notes.append(
            f"every criterion analyses the mechanism {level.words}, because {level.reason}; the errors stay "
            "clustered by site"
        )
    for name, cut in level.nodes.items():
        if name not in level.mechanisms:
            words = PART_WORDS[cut.part]
            notes.append(f"competing mechanism {name} enters the models as its {cut.unit} {words}")
    for name, (icc1, icc2, units) in level.aggregation.items():
        reliable = "reliable" if icc2 >= 0.7 else "not reliable (ICC(2) below .70)"
        notes.append(
            f"{name}'s {units} unit means: ICC(1) {icc1:.2f}, ICC(2) {icc2:.2f}, {reliable} as unit scores "
            "(Bliese 2000; LeBreton & Senter 2008)"
        )
    return notes
