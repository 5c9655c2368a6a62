"""What a study holds, at a glance: `StudySummary`, printed by `moclab validate` on success.

Counts of recipients, clusters (with sizes) and teams, the arms, the waves with how many recipients were
measured at each, every measure with n, mean, sd, range and the share missing per wave, and the support time
per cluster from the activities log, and the participant flow per arm and wave (`moclab.study.flow`).
Missingness is counted against the design: a recipient with no value of a measure at a wave is missing,
whether or not a row was written for it.
"""

from __future__ import annotations

import html
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from moclab.plain import plain
from moclab.study.flow import ParticipantFlow, participant_flow
from moclab.study.study import Study

#: Above this many clusters the terminal summary shows the logged support per arm, not per cluster.
_MAX_CLUSTER_ROWS = 12


@dataclass(frozen=True, repr=False)
class StudySummary:
    """The numbers `moclab validate` prints; every table is a DataFrame.

    Attributes
    ----------
    title, synthetic
        From moclab.yaml.
    unit, cluster, team
        The names of the levels ("recipient", "site", "team").
    n_recipients, n_clusters, n_teams
        Counts (`n_teams` is None when the study has no team level).
    cluster_sizes
        Recipients per cluster: min, median, max.
    randomization
        The randomized level, or "none".
    arms
        One row per arm: recipients and clusters in it.
    waves
        One row per wave: id, label, date, month, recipients measured.
    measures
        One row per measure: label, node, table, n, mean, sd, min, max, missing (share of expected values).
    missingness
        Share missing per measure (rows) and wave (columns).
    activities
        One row per cluster: arm, contacts, minutes; None without an activities table.
    warnings
        The number of warnings found while checking.
    flow
        The participant flow per arm and wave (`moclab.study.flow`): enrolled or randomized, measured at
        each wave, lost by the last wave (with reasons when the recipients table has ``dropout_reason``).
    """

    title: str
    synthetic: bool
    unit: str
    cluster: str
    team: str | None
    n_recipients: int
    n_clusters: int
    n_teams: int | None
    cluster_sizes: dict[str, float]
    randomization: str
    arms: pd.DataFrame
    waves: pd.DataFrame
    measures: pd.DataFrame
    missingness: pd.DataFrame
    activities: pd.DataFrame | None = None
    warnings: int = 0
    notes: tuple[str, ...] = field(default=())
    flow: ParticipantFlow | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tables as lists of records, NaN as None)."""

        def records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            if frame is None:
                return None
            return plain(frame)

        missingness = self.missingness.reset_index().rename(columns={"index": "measure"})
        return {
            "title": self.title,
            "synthetic": self.synthetic,
            "unit": self.unit,
            "cluster": self.cluster,
            "team": self.team,
            "n_recipients": self.n_recipients,
            "n_clusters": self.n_clusters,
            "n_teams": self.n_teams,
            "cluster_sizes": plain(dict(self.cluster_sizes)),
            "randomization": self.randomization,
            "arms": records(self.arms),
            "waves": records(self.waves),
            "measures": records(self.measures),
            "missingness": records(missingness),
            "activities": records(self.activities),
            "warnings": self.warnings,
            "notes": list(self.notes),
            "flow": self.flow.to_dict() if self.flow is not None else None,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per measure: label, node, table, n, mean, sd, min, max, missing."""
        return self.measures.copy()

    def summary(self) -> str:
        """Readable report: the counts, the design, the waves and the measures, as plain text."""
        from rich.console import Console

        console = Console(width=110, record=True, file=io.StringIO(), color_system=None)
        console.print(self)
        return console.export_text().rstrip()

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"StudySummary({self.title!r}, {self.n_recipients} {self.unit}s in {self.n_clusters} "
            f"{self.cluster}s, {len(self.waves)} wave(s), {len(self.measures)} measures, "
            f"{self.warnings} warning(s))"
        )

    def __rich__(self) -> RenderableType:
        parts: list[RenderableType] = []
        heading = Text(self.title, style="bold")
        if self.synthetic:
            heading.append("  [synthetic data, not real people]", style="yellow")
        parts.append(heading)
        parts.append(self._overview())
        parts.append(self._waves_table())
        if self.flow is not None and len(self.waves):
            parts.append(self.flow.rich_table())
            parts.extend(Text(note, style="yellow") for note in self.flow.notes)
        if len(self.measures):
            parts.append(self._measures_table())
        if self.activities is not None and len(self.activities):
            parts.append(self._activities_table())
        parts.extend(Text(note, style="yellow") for note in self.notes)
        return Group(*parts)

    def _overview(self) -> Table:
        table = Table(title="Design", show_header=False, title_justify="left", box=None, padding=(0, 2))
        table.add_column("what")
        table.add_column("value")
        table.add_row(f"{self.unit}s", str(self.n_recipients))
        sizes = self.cluster_sizes
        size_text = (
            f"  ({self.unit}s per {self.cluster}: min {sizes['min']:g}, median {sizes['median']:g}, "
            f"max {sizes['max']:g})"
            if self.n_clusters
            else ""
        )
        table.add_row(f"{self.cluster}s", f"{self.n_clusters}{size_text}")
        if self.team is not None:
            table.add_row(f"{self.team}s", str(self.n_teams))
        randomized = f"by {self.randomization}" if self.randomization != "none" else "none"
        table.add_row("randomization", randomized)
        for row in self.arms.itertuples():
            table.add_row(f"arm {row.arm}", f"{row.clusters} {self.cluster}s, {row.recipients} {self.unit}s")
        table.add_row("waves", str(len(self.waves)))
        empty = int((self.measures["n"] == 0).sum()) if len(self.measures) else 0
        table.add_row("measures", f"{len(self.measures)}" + (f" ({empty} with no data yet)" if empty else ""))
        return table

    def _waves_table(self) -> Table:
        table = Table(title="Waves", title_justify="left")
        for column in ("wave", "label", "date", f"{self.unit}s measured"):
            table.add_column(column, justify="right" if column.endswith("measured") else "left")
        for row in self.waves.itertuples():
            when = (
                row.date
                if isinstance(row.date, str)
                else (f"month {row.month:g}" if _finite(row.month) else "")
            )
            table.add_row(row.wave, row.label or "", when, str(row.measured))
        return table

    def _measures_table(self) -> Table:
        title = "Measures (missing: share of expected values, overall and at each wave)"
        # No vertical rules and no column squeezed below its content: the table fits an 80-column terminal.
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
        longest = max((len(str(name)) for name in self.measures["measure"]), default=7)
        table.add_column("measure", no_wrap=True, min_width=longest)
        for column in ("n", "mean", "sd", "min", "max", "missing", *map(str, self.missingness.columns)):
            table.add_column(column, justify="right", no_wrap=True, min_width=max(len(column), 4))
        for row in self.measures.itertuples():
            cells = [row.measure, str(row.n), _num(row.mean), _num(row.sd), _num(row.min), _num(row.max)]
            cells.append(_pct(row.missing))
            cells += [_pct(self.missingness.loc[row.measure, wave]) for wave in self.missingness.columns]
            table.add_row(*cells)
        return table

    def _activities_table(self) -> Table:
        assert self.activities is not None
        if len(self.activities) > _MAX_CLUSTER_ROWS and "arm" in self.activities.columns:
            return self._activities_by_arm()
        table = Table(title=f"Support activities per {self.cluster}", title_justify="left")
        columns = list(self.activities.columns)
        for column in columns:
            table.add_column(column, justify="left" if column in (self.cluster, "arm") else "right")
        for row in self.activities.itertuples(index=False):
            table.add_row(*(_count(value) if isinstance(value, float) else str(value) for value in row))
        return table

    def _activities_by_arm(self) -> Table:
        """Many clusters: the support per arm (the per-cluster table is `activities`, and in --json)."""
        assert self.activities is not None
        numeric = [c for c in self.activities.columns if c not in (self.cluster, "arm")]
        table = Table(
            title=f"Support activities per arm ({self.cluster}s with any logged support; median and range "
            f"per {self.cluster})",
            title_justify="left",
        )
        table.add_column("arm")
        table.add_column(f"{self.cluster}s", justify="right")
        for column in numeric:
            table.add_column(f"{column} per {self.cluster}", justify="right")
        for arm, rows in self.activities.groupby("arm", observed=True, sort=True):
            cells = [str(arm), str(len(rows))]
            for column in numeric:
                values = rows[column]
                cells.append(f"{_count(values.median())} ({_count(values.min())}–{_count(values.max())})")
            table.add_row(*cells)
        return table

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}{' (synthetic data)' if self.synthetic else ''}</h4>"]
        parts.append(
            f"<p>{self.n_recipients} {self.unit}s in {self.n_clusters} {self.cluster}s; "
            f"{len(self.waves)} waves; {len(self.measures)} measures</p>"
        )
        parts.append(self.measures.to_html(index=False, float_format=lambda x: f"{x:.2f}"))
        return "\n".join(parts)


def summarize(study: Study) -> StudySummary:
    """Compute the summary of a loaded study."""
    config = study.config
    design, tables = config.design, config.tables
    recipients = study.recipients
    spec = tables.recipients
    n_recipients = int(recipients[spec.id].notna().sum())
    sizes = (
        recipients.groupby(spec.cluster, observed=True).size() if len(recipients) else pd.Series(dtype=int)
    )
    cluster_sizes = {
        "min": float(sizes.min()) if len(sizes) else 0.0,
        "median": float(sizes.median()) if len(sizes) else 0.0,
        "max": float(sizes.max()) if len(sizes) else 0.0,
    }
    n_teams = None
    if spec.team is not None and spec.team in recipients.columns:
        n_teams = int(recipients[spec.team].nunique())
    arms = pd.DataFrame(columns=["arm", "recipients", "clusters"])
    if spec.arm is not None and spec.arm in recipients.columns and len(recipients):
        grouped = recipients.groupby(spec.arm, observed=True)
        arms = pd.DataFrame(
            {"recipients": grouped[spec.id].count(), "clusters": grouped[spec.cluster].nunique()}
        ).reset_index(names="arm")
        arms["arm"] = arms["arm"].astype(str)
    units = {
        design.unit: n_recipients,
        design.cluster: int(recipients[spec.cluster].nunique()) if len(recipients) else 0,
    }
    if design.team is not None:
        units[design.team] = n_teams or 0
    measures, missingness, measured = _measures(study, units)
    waves = pd.DataFrame(
        {
            "wave": [wave.id for wave in design.waves],
            "label": [wave.label for wave in design.waves],
            "date": [wave.date.isoformat() if wave.date else None for wave in design.waves],
            "month": [wave.month for wave in design.waves],
            "measured": [int(measured.get(wave.id, 0)) for wave in design.waves],
        }
    )
    notes = []
    if len(study.measures) == 0:
        notes.append(
            "No measures yet: the tables have headers only. Fill them in and run `moclab validate` again."
        )
    return StudySummary(
        title=config.title,
        synthetic=config.synthetic,
        unit=design.unit,
        cluster=design.cluster,
        team=design.team,
        n_recipients=n_recipients,
        n_clusters=units[design.cluster],
        n_teams=n_teams,
        cluster_sizes=cluster_sizes,
        randomization=design.randomization.level,
        arms=arms,
        waves=waves,
        measures=measures,
        missingness=missingness,
        activities=_activities(study),
        flow=participant_flow(study),
        warnings=len(study.warnings),
        notes=tuple(notes),
    )


def _measures(study: Study, units: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Per-measure statistics, missingness per wave, and recipients measured per wave."""
    config = study.config
    wave_ids = study.wave_ids
    rows = []
    missing_rows = {}
    measured: dict[str, int] = {}
    sources = [("measures", study.scored_measures, config.tables.measures, config.design.unit)]
    if study.outcomes is not None and config.tables.outcomes is not None:
        level = config.tables.outcomes.level or config.design.cluster
        sources.append(("outcomes", study.outcomes, config.tables.outcomes, level))
    for table_name, frame, spec, level in sources:
        if frame is None or spec.value not in frame.columns:
            continue
        values = frame[
            [spec.recipient if table_name == "measures" else spec.id, spec.wave, spec.measure, spec.value]
        ]
        unit_column = values.columns[0]
        values = values.dropna(subset=[spec.measure, spec.value])
        if table_name == "measures":
            per_wave = values.groupby(spec.wave, observed=True)[unit_column].nunique()
            measured = {str(wave): int(count) for wave, count in per_wave.items()}
        grouped = values.groupby(spec.measure, sort=False)[spec.value]
        stats = grouped.agg(["count", "mean", "std", "min", "max"])
        counts = values.groupby([spec.measure, spec.wave], observed=True).size()
        expected = units.get(level, 0)
        for name in [m for m in study.measure_names if m in stats.index]:
            declared = config.measures.get(name)
            row = stats.loc[name]
            total_expected = expected * len(wave_ids)
            rows.append(
                {
                    "measure": name,
                    "label": declared.label if declared else None,
                    "node": config.node_of(name),
                    "table": table_name,
                    "level": level,
                    "n": int(row["count"]),
                    "mean": float(row["mean"]),
                    "sd": float(row["std"]) if _finite(row["std"]) else math.nan,
                    "min": float(row["min"]),
                    "max": float(row["max"]),
                    "missing": 1 - row["count"] / total_expected if total_expected else math.nan,
                }
            )
            missing_rows[name] = {
                wave: (1 - counts.get((name, wave), 0) / expected) if expected else math.nan
                for wave in wave_ids
            }
    described = {row["measure"] for row in rows}
    for name in config.measures:  # declared measures with no values yet: listed, with nothing measured
        if name not in described:
            declared = config.measures[name]
            rows.append(
                {
                    "measure": name,
                    "label": declared.label,
                    "node": config.node_of(name),
                    "table": None,
                    "level": declared.level,
                    "n": 0,
                    **dict.fromkeys(["mean", "sd", "min", "max"], math.nan),
                    "missing": 1.0 if units.get(config.design.unit) else math.nan,
                }
            )
            missing_rows[name] = dict.fromkeys(wave_ids, 1.0 if units.get(config.design.unit) else math.nan)
    columns = ["measure", "label", "node", "table", "level", "n", "mean", "sd", "min", "max", "missing"]
    measures = pd.DataFrame(rows, columns=columns)
    missingness = pd.DataFrame.from_dict(missing_rows, orient="index", columns=wave_ids).astype("float64")
    return measures, missingness, measured


def _activities(study: Study) -> pd.DataFrame | None:
    config = study.config
    spec = config.tables.activities
    frame = study.activities
    if spec is None or frame is None:
        return None
    cluster = config.design.cluster
    if spec.cluster is not None and spec.cluster in frame.columns:
        where = frame[spec.cluster]
    elif spec.recipient is not None and spec.recipient in frame.columns:
        recipients = config.tables.recipients
        home = study.recipients.set_index(recipients.id)[recipients.cluster]
        where = frame[spec.recipient].map(home)
    else:
        return None
    minutes = frame[spec.minutes] if spec.minutes in frame.columns else pd.Series(np.nan, index=frame.index)
    table = (
        pd.DataFrame({cluster: where, "minutes": minutes.astype("float64")})
        .groupby(cluster, observed=True)
        .agg(contacts=("minutes", "size"), minutes=("minutes", "sum"))
        .reset_index()
    )
    recipients = config.tables.recipients
    if recipients.arm is not None and recipients.arm in study.recipients.columns:
        arm_of = study.recipients.drop_duplicates(recipients.cluster).set_index(recipients.cluster)[
            recipients.arm
        ]
        table.insert(1, "arm", table[cluster].map(arm_of).astype(str))
    table["contacts"] = table["contacts"].astype(int)
    return table


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _num(value: Any) -> str:
    return f"{float(value):.2f}" if _finite(value) else "-"


def _count(value: Any) -> str:
    return f"{float(value):.0f}" if _finite(value) else "-"


def _pct(value: Any) -> str:
    return f"{100 * float(value):.0f}%" if _finite(value) else "-"
