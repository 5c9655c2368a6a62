"""Turning a `Draw` into data: the analysis-ready wide frame, and the tables and `moclab.yaml` of a study
folder in the format of docs/study-format.md.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moclab.simulate.generate import child_seed

if TYPE_CHECKING:
    from moclab.simulate.generate import Draw
    from moclab.simulate.plan import MeasurePlan, SimulationPlan

DAYS_PER_MONTH = 365.25 / 12
#: Survey answers come in over this many days after a wave's planned date (less when waves are closer).
SURVEY_DAYS = 21


def _ids(prefix: str, count: int, width: int) -> np.ndarray:
    width = max(width, len(str(count)))
    return np.array([f"{prefix}{i + 1:0{width}d}" for i in range(count)], dtype=object)


def site_ids(count: int) -> np.ndarray:
    return _ids("S", count, 2)


def recipient_ids(count: int) -> np.ndarray:
    return _ids("R", count, 4)


def team_ids(draw: Draw, sites: np.ndarray) -> np.ndarray | None:
    """Team names ``S01-T1`` for every team (teams are numbered within their site)."""
    if draw.team_of is None:
        return None
    team_site = np.zeros(draw.n_teams, dtype=np.int64)
    team_site[draw.team_of] = draw.site_of
    first = np.full(draw.n_sites, draw.n_teams, dtype=np.int64)
    np.minimum.at(first, team_site, np.arange(draw.n_teams))
    local = np.arange(draw.n_teams) - first[team_site] + 1
    return np.array(
        [f"{sites[s]}-T{number}" for s, number in zip(team_site, local, strict=True)], dtype=object
    )


def wave_dates(plan: SimulationPlan) -> list[datetime.date]:
    """The planned date of each wave: the start date plus its months."""
    start = plan.spec.design.start_date
    return [start + datetime.timedelta(days=round(month * DAYS_PER_MONTH)) for month in plan.months]


def _label_column(codes: np.ndarray, labels: tuple[str, str]) -> pd.Categorical:
    """A two-valued category from 0/1 codes: 1 is the first label."""
    return pd.Categorical(np.where(codes, labels[0], labels[1]), categories=list(labels))


def recipient_columns(
    plan: SimulationPlan, draw: Draw, *, decimals: int | None = 4
) -> dict[str, Callable[[], Any]]:
    """The columns of `recipients_table`, in its order, each as a function that builds it: a caller that
    needs one column (the power engine's subgroups) builds that one only."""

    def rounded(values: np.ndarray) -> np.ndarray:
        return values if decimals is None else np.round(values, decimals)

    @functools.cache
    def sites() -> np.ndarray:  # the site column and the team names read it: built once, when first read
        return site_ids(draw.n_sites)

    columns: dict[str, Callable[[], Any]] = {
        "recipient_id": lambda: recipient_ids(draw.n),
        "site": lambda: sites()[draw.site_of],
    }
    if draw.team_of is not None:
        columns["team"] = lambda: team_ids(draw, sites())[draw.team_of]  # type: ignore[index]
    if plan.exposure.kind == "continuous":
        columns[plan.strategies[0]] = lambda: rounded(draw.exposure[:, 0])
    else:
        labels = [*plan.arm_labels, plan.control_label]
        columns["arm"] = lambda: pd.Categorical(np.array(labels, dtype=object)[draw.arm], categories=labels)
        if len(plan.strategies) > 1:
            for index, strategy in enumerate(plan.strategies):
                columns[strategy] = functools.partial(_arm_indicator, draw.arm, index)
    for i, node in enumerate(plan.nodes):
        if node.role == "moderator":
            entry = plan.spec.moderators.get(node.id)
            if entry is not None and not entry.observed:
                continue
            value = draw.latent[:, 0, i]
            if node.binary_share is not None:
                assert entry is not None
                columns[node.id] = functools.partial(_label_column, value > 0, entry.values)
            else:
                columns[node.id] = functools.partial(rounded, value)
    for j, pre in enumerate(plan.preconditions):
        if pre.share < 1:
            columns[pre.id] = functools.partial(_label_column, draw.holds[:, j], pre.values)
    for i, node in enumerate(plan.nodes):
        if node.role == "confounder" and plan.spec.confounders[node.id].observed:
            columns[node.id] = functools.partial(rounded, draw.latent[:, 0, i])
    return columns


def _arm_indicator(arm: np.ndarray, index: int) -> np.ndarray:
    return (arm == index).astype(np.int64)


def recipients_table(plan: SimulationPlan, draw: Draw, *, decimals: int | None = 4) -> pd.DataFrame:
    """One row per recipient: id, site, team, arm (or exposure), moderators, preconditions, confounders.

    Continuous columns are rounded to `decimals` (None: kept exact, as in the wide frame)."""
    return pd.DataFrame(
        {name: build() for name, build in recipient_columns(plan, draw, decimals=decimals).items()}
    )


def wide_frame(plan: SimulationPlan, draw: Draw, *, items: bool = False) -> pd.DataFrame:
    """One row per recipient and wave (recipient-major, like `Study.wide`), analysis-ready.

    Columns: the recipients table's columns, one 0/1 (or continuous) exposure column per strategy named by
    the strategy's id, ``wave`` (ordered categorical), ``wave_index``, ``month``, the support received
    up to the wave (``support_minutes``, ``support_contacts``) when there is a support log, every measure
    (site outcomes repeated for the site's recipients), and the item responses when `items` is true.
    Values missing by design (dropout, MCAR) are NaN.
    """
    people = recipients_table(plan, draw, decimals=None)
    n, n_waves = draw.n, plan.months.size
    frame = people.loc[np.repeat(np.arange(n), n_waves)].reset_index(drop=True)
    for index, strategy in enumerate(plan.strategies):
        if strategy not in frame:
            frame[strategy] = np.repeat(draw.exposure[:, index], n_waves)
    wave_ids = [wave.id for wave in plan.waves]
    frame["wave"] = pd.Categorical.from_codes(
        np.tile(np.arange(n_waves), n), categories=wave_ids, ordered=True
    )
    frame["wave_index"] = np.tile(np.arange(n_waves), n)
    frame["month"] = np.tile(plan.months, n)
    if draw.dose_minutes is not None:
        frame["support_minutes"] = draw.dose_minutes.reshape(-1)
        frame["support_contacts"] = draw.dose_contacts.reshape(-1)  # type: ignore[union-attr]
    for measure in plan.measures:
        if measure.table == "outcomes":
            frame[measure.name] = draw.site_scores[measure.name][draw.site_of].reshape(-1)
        else:
            frame[measure.name] = draw.scores[measure.name].reshape(-1)
    if items:
        for name, values in draw.items.items():
            frame[name] = values.reshape(-1)
    return frame


def measures_table(plan: SimulationPlan, draw: Draw) -> pd.DataFrame:
    """The long measures table: one row per present recipient, wave and measure (or item).

    Instruments are written as their items (scale scores are computed from them when the study is
    scored); MCAR missing values are rows with an empty value; recipients who dropped out have no rows.
    """
    rng = np.random.default_rng(child_seed(draw.details_seed, 0))
    wave_ids = [wave.id for wave in plan.waves]
    names: list[str] = []
    blocks: list[np.ndarray] = []
    for measure in plan.measures:
        if measure.table != "measures":
            continue
        if measure.kind == "items":
            for field_name in measure.item_fields:
                names.append(field_name)
                blocks.append(draw.items[field_name])
        else:
            names.append(measure.name)
            blocks.append(draw.scores[measure.name])
    n = draw.n
    people, waves = np.nonzero(draw.present)
    dates = _survey_dates(plan, rng, n)
    if not names:
        return pd.DataFrame(columns=["recipient_id", "wave", "measure", "value", "date"])
    values = np.stack(blocks, axis=2)[people, waves, :]  # (present rows, measures)
    count = len(names)
    ids = recipient_ids(n)
    return pd.DataFrame(
        {
            "recipient_id": pd.Categorical.from_codes(np.repeat(people, count), categories=ids),
            "wave": pd.Categorical.from_codes(np.repeat(waves, count), categories=wave_ids, ordered=True),
            "measure": pd.Categorical.from_codes(np.tile(np.arange(count), people.size), categories=names),
            "value": values.reshape(-1),
            "date": np.repeat(dates[people, waves], count),
        }
    )


def _survey_dates(plan: SimulationPlan, rng: np.random.Generator, n: int) -> np.ndarray:
    """The date each recipient answered each wave: the wave's date plus up to three weeks (never reaching
    half-way to the next wave, so later waves are always dated later)."""
    planned = np.array(wave_dates(plan), dtype="datetime64[D]")
    gaps = np.diff(plan.months) * DAYS_PER_MONTH / 2 if plan.months.size > 1 else np.array([SURVEY_DAYS])
    window = max(1, min(SURVEY_DAYS, int(np.floor(gaps.min()))))
    offsets = rng.integers(0, window, size=(n, plan.months.size))
    return planned[None, :] + offsets.astype("timedelta64[D]")


def activities_table(plan: SimulationPlan, draw: Draw) -> pd.DataFrame | None:
    """The support log: one row per contact, with date, site, team, recipient, component, minutes, mode."""
    if plan.dose is None or draw.contacts is None:
        return None
    dose = plan.dose
    rng = np.random.default_rng(child_seed(draw.details_seed, 1))
    log = draw.contacts
    unit = log["unit"]
    sites = site_ids(draw.n_sites)
    unit_site = np.zeros(int(draw.dose_unit_of.max()) + 1, dtype=np.int64)  # type: ignore[union-attr]
    unit_site[draw.dose_unit_of] = draw.site_of
    start = np.datetime64(plan.spec.design.start_date, "D")
    days = np.floor(log["time"] * DAYS_PER_MONTH).astype("timedelta64[D]")
    columns: dict[str, Any] = {"date": start + days, "site": sites[unit_site[unit]]}
    teams = team_ids(draw, sites)
    if teams is not None and dose.level in ("team", "recipient"):
        unit_team = np.zeros(unit_site.size, dtype=np.int64)
        unit_team[draw.dose_unit_of] = draw.team_of
        columns["team"] = teams[unit_team[unit]]
    recipients = recipient_ids(draw.n)
    columns["recipient_id"] = (
        recipients[unit] if dose.level == "recipient" else np.full(unit.size, "", dtype=object)
    )
    components = np.array(dose.components, dtype=object)
    columns["component"] = components[rng.integers(0, components.size, size=unit.size)]
    columns["minutes"] = log["minutes"].astype(np.int64)
    modes = np.array(dose.modes, dtype=object)
    columns["mode"] = modes[rng.choice(modes.size, size=unit.size, p=np.array(dose.mode_weights))]
    frame = pd.DataFrame(columns)
    order = ["date", "site"] + (["team"] if "team" in frame else []) + ["recipient_id"]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)


def outcomes_table(plan: SimulationPlan, draw: Draw) -> pd.DataFrame | None:
    """Site-level outcomes in long format: one row per site, wave and measure."""
    names = [m.name for m in plan.measures if m.table == "outcomes"]
    if not names:
        return None
    sites = site_ids(draw.n_sites)
    wave_ids = [wave.id for wave in plan.waves]
    n_waves = len(wave_ids)
    values = np.stack([draw.site_scores[name] for name in names], axis=2)  # (sites, waves, measures)
    count = len(names)
    return pd.DataFrame(
        {
            "site": np.repeat(sites, n_waves * count),
            "wave": np.tile(np.repeat(wave_ids, count), draw.n_sites),
            "measure": np.tile(names, draw.n_sites * n_waves),
            "value": values.reshape(-1),
        }
    )


def _measure_entry(measure: MeasurePlan) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if measure.label:
        entry["label"] = measure.label
    if measure.name != measure.node:
        entry["node"] = measure.node
    if measure.instrument:
        entry["instrument"] = measure.instrument
        if measure.subscale:
            entry["subscale"] = measure.subscale
        if measure.item_fields != measure.item_ids:
            entry["items"] = dict(zip(measure.item_ids, measure.item_fields, strict=True))
    elif measure.range is not None:
        entry["range"] = [float(measure.range[0]), float(measure.range[1])]
    entry["level"] = "site" if measure.table == "outcomes" else measure.level
    return entry


#: Where a simulated study keeps the coded interviews of the spec's `qualitative` key.
QUALITATIVE_PROJECT = "qual/project.qdpx"


def study_config(plan: SimulationPlan, draw: Draw, *, title: str, description: str) -> dict[str, Any]:
    """The `moclab.yaml` of the simulated study, as plain data."""
    spec = plan.spec
    rand = spec.design.randomization
    model = plan.model
    design: dict[str, Any] = {"unit": "recipient", "cluster": "site"}
    if draw.team_of is not None:
        design["team"] = "team"
    randomization: dict[str, Any] = {"level": rand.level}
    columns: dict[str, Any] = {}
    recipients: dict[str, Any] = {"path": "data/recipients.csv", "id": "recipient_id", "cluster": "site"}
    if draw.team_of is not None:
        recipients["team"] = "team"
    if plan.exposure.kind == "continuous":
        # The study format records randomization of arms only; a randomized continuous exposure is
        # written as a covariate, and its label says how it was assigned.
        strategy = plan.strategies[0]
        randomization = {"level": "none"}
        columns[strategy] = {
            "type": "number",
            "node": strategy,
            "label": f"Exposure to the strategy (continuous, {_assignment(rand.level)})",
        }
    else:
        recipients["arm"] = "arm"
        randomization["arms"] = [*plan.arm_labels, plan.control_label]
        randomization["control"] = plan.control_label
        arm_entry: dict[str, Any] = {"type": "category", "label": f"Arm ({_assignment(rand.level)})"}
        if len(plan.strategies) == 1:
            arm_entry["node"] = plan.strategies[0]
        columns["arm"] = arm_entry
        if len(plan.strategies) > 1:
            for strategy in plan.strategies:
                columns[strategy] = {"type": "integer", "min": 0, "max": 1, "node": strategy}
    design["randomization"] = randomization
    dates = wave_dates(plan)
    design["waves"] = [
        {"id": wave.id, "label": wave.label or wave.id, "date": date.isoformat(), "month": float(wave.month)}
        for wave, date in zip(plan.waves, dates, strict=True)
    ]
    covariates: list[str] = []
    for node in plan.nodes:
        if node.role == "moderator":
            entry = spec.moderators.get(node.id)
            if entry is not None and not entry.observed:
                continue
            if node.binary_share is not None:
                assert entry is not None
                columns[node.id] = {"type": "category", "values": list(entry.values), "node": node.id}
            else:
                columns[node.id] = {"type": "number", "node": node.id}
            label = model.node(node.id).label
            if label:
                columns[node.id]["label"] = label
        elif node.role == "confounder" and spec.confounders[node.id].observed:
            covariates.append(node.id)
            columns[node.id] = {"type": "number", "label": "Confounder (simulated), value at the first wave"}
    for pre in plan.preconditions:
        if pre.share < 1:
            columns[pre.id] = {"type": "category", "values": list(pre.values), "node": pre.id}
            label = model.node(pre.id).label
            if label:
                columns[pre.id]["label"] = label
    if covariates:
        recipients["covariates"] = covariates
    recipients["columns"] = columns
    tables: dict[str, Any] = {
        "recipients": recipients,
        "measures": {
            "path": "data/measures.csv",
            "recipient": "recipient_id",
            "wave": "wave",
            "measure": "measure",
            "value": "value",
            "date": "date",
        },
    }
    if plan.dose is not None:
        activities: dict[str, Any] = {
            "path": "data/activities.csv",
            "date": "date",
            "cluster": "site",
            "component": "component",
            "minutes": "minutes",
            "mode": "mode",
            "columns": {"mode": {"values": list(plan.dose.modes)}},
        }
        if plan.dose.level == "recipient":
            activities["recipient"] = "recipient_id"
        tables["activities"] = activities
    if any(m.table == "outcomes" for m in plan.measures):
        tables["outcomes"] = {
            "path": "data/outcomes.csv",
            "level": "site",
            "id": "site",
            "wave": "wave",
            "measure": "measure",
            "value": "value",
        }
    config: dict[str, Any] = {
        "format": 1,
        "title": title,
        "synthetic": True,
        "description": description,
    }
    if model.citation:
        config["citations"] = [model.citation]
    config["model"] = "model.yaml"
    own = own_instrument_files(plan)
    if own:
        config["instruments"] = [f"instruments/{path.name}" for path in own.values()]
    config["design"] = design
    config["tables"] = tables
    config["measures"] = {m.name: _measure_entry(m) for m in plan.measures}
    if spec.qualitative is not None:
        config["qualitative"] = {"project": QUALITATIVE_PROJECT}
    return config


def own_instrument_files(plan: SimulationPlan) -> dict[str, Path]:
    """The files of the instruments the study uses that are not bundled with moclab (copied into it)."""
    return {
        key: Path(instrument.defined_in)
        for key, instrument in plan.instruments.items()
        if not instrument.bundled and instrument.defined_in
    }


def _assignment(level: str) -> str:
    return "not randomized" if level == "none" else f"randomized by {level}"
