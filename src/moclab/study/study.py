"""The `Study` object: a checked study folder with its config, typed tables and pathway model.

Tables keep the column names of the user's files (`study.config.tables.measures.value` says which column holds
the values); `wide()` gives the one-row-per-recipient-and-wave frame most analyses start from.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from moclab.errors import Problem
from moclab.study.config import StudyConfig, Wave

if TYPE_CHECKING:
    from moclab.study.scoring import StudyScores
    from moclab.study.summary import StudySummary


@dataclass(frozen=True, eq=False)
class Study:
    """A loaded, checked study.

    Attributes
    ----------
    path
        The study folder.
    config
        The parsed `moclab.yaml`.
    recipients, measures
        The typed tables (declared columns converted; other columns as read).
    activities, outcomes
        The optional tables, or None.
    model
        The pathway model (`moclab.model.PathwayModel`), or None when the study names none.
    problems
        Warnings found while checking (errors would have stopped the loading).
    scores
        The scale scores of the measures declared with an `instrument:` (`moclab.study.scoring`), or None
        when the study has none.
    """

    path: Path
    config: StudyConfig
    recipients: pd.DataFrame
    measures: pd.DataFrame
    activities: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    model: Any = None
    problems: tuple[Problem, ...] = ()
    scores: StudyScores | None = None

    @property
    def title(self) -> str:
        return self.config.title

    @property
    def synthetic(self) -> bool:
        return self.config.synthetic

    @property
    def waves(self) -> list[Wave]:
        return list(self.config.design.waves)

    @property
    def wave_ids(self) -> list[str]:
        return self.config.design.wave_ids

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity != "error"]

    @property
    def item_fields(self) -> set[str]:
        """The names in the measure column that are instrument items (scored, not measures themselves)."""
        if self.scores is None:
            return set()
        return {name for result in self.scores.results.values() for name in result.fields.values()}

    @functools.cached_property
    def scored_measures(self) -> pd.DataFrame:
        """The measures table as analyses see it: item rows replaced by the scale scores they give.

        Long, with the measures table's recipient, wave, measure and value columns (waves as text). A scale
        score written in the data next to its items gives way to the score of the items.
        """
        spec = self.config.tables.measures
        columns = [spec.recipient, spec.wave, spec.measure, spec.value]
        if self.scores is None or not self.scores.results:
            return self.measures
        given = self.measures[~self.measures[spec.measure].isin(self.item_fields)]
        given = given.assign(**{spec.wave: given[spec.wave].astype(str)})
        scored = self.scores.table
        if len(scored):
            keys = [spec.recipient, spec.wave, spec.measure]
            overlap = given[keys].merge(scored[keys].drop_duplicates(), how="left", indicator=True)
            given = given[(overlap["_merge"] == "left_only").to_numpy()]
        return pd.concat([given, scored[columns]], ignore_index=True)

    @property
    def measure_names(self) -> list[str]:
        """Declared measures (each followed by its subscale scores), then any others found in the data."""
        names = []
        for name in self.config.measures:
            names.append(name)
            if self.scores is not None and name in self.scores.results:
                names += [score for score in self.scores.results[name].scales if score != name]
        items = self.item_fields
        for table, spec in (
            (self.scored_measures, self.config.tables.measures),
            (self.outcomes, self.config.tables.outcomes),
        ):
            if table is not None and spec is not None:
                names += [
                    name
                    for name in pd.unique(table[spec.measure].dropna())
                    if name not in names and name not in items
                ]
        return names

    def node_variables(self) -> dict[str, str]:
        """Which measure or recipients column holds each model node (only nodes that have one)."""
        mapping: dict[str, str] = {}
        for _, table in self.config.tables.items():
            for column, spec in table.columns.items():
                if spec.node:
                    mapping.setdefault(spec.node, column)
        for name in self.measure_names:
            mapping.setdefault(self.config.node_of(name), name)
        if self.model is not None:
            nodes = {node.id for node in self.model.nodes}
            mapping = {node: variable for node, variable in mapping.items() if node in nodes}
        return mapping

    def wide(self, measures: list[str] | None = None, *, attributes: bool = True) -> pd.DataFrame:
        """One row per recipient and wave (every recipient at every declared wave), one column per measure.

        Parameters
        ----------
        measures
            The measures to include (default: all of the measures table).
        attributes
            Put the recipients table's columns (cluster, team, arm, covariates, ...) first.

        Returns
        -------
        pandas.DataFrame
            Columns: the recipient id, the recipients' columns (when `attributes`), the wave (an ordered
            categorical in the order of design.waves), then the measures. A measure missing at a wave is NaN.

        Examples
        --------
        >>> from moclab.study import example_path, load_study
        >>> study = load_study(example_path(), show_progress=False)
        >>> frame = study.wide(["trust", "knowledge"])
        >>> len(frame) == len(study.recipients) * len(study.waves)
        True
        """
        tables = self.config.tables
        spec = tables.measures
        recipient_id = tables.recipients.id
        wave_ids = self.wave_ids
        table = self.scored_measures
        if measures is None:
            present = set(pd.unique(table[spec.measure].dropna()))
            names = [name for name in self.measure_names if name in present]
        else:
            names = list(measures)
        long = table[[spec.recipient, spec.wave, spec.measure, spec.value]].dropna(
            subset=[spec.recipient, spec.wave, spec.measure]
        )
        long = long[long[spec.measure].isin(names)]
        long = long.assign(**{spec.wave: long[spec.wave].astype(str)})
        table = long.pivot(index=[spec.recipient, spec.wave], columns=spec.measure, values=spec.value)
        grid = pd.MultiIndex.from_product(
            [self.recipients[recipient_id].dropna().unique(), wave_ids], names=[spec.recipient, spec.wave]
        )
        table = table.reindex(index=grid, columns=names)
        table.columns.name = None
        frame = table.reset_index().rename(columns={spec.recipient: recipient_id})
        frame[spec.wave] = pd.Categorical(frame[spec.wave], categories=wave_ids, ordered=True)
        frame[names] = frame[names].astype("float64")
        if attributes:
            people = self.recipients.drop_duplicates(recipient_id)
            frame = people.merge(frame, on=recipient_id, how="right", suffixes=("_recipient", ""))
        return frame.reset_index(drop=True)

    def describe(self) -> StudySummary:
        """Counts, cluster sizes, arms, waves, measures (n, mean, sd, missing per wave), support time."""
        from moclab.study.summary import summarize

        return summarize(self)

    def __repr__(self) -> str:
        synthetic = ", synthetic" if self.synthetic else ""
        return (
            f"Study({self.title!r}{synthetic}: {len(self.recipients)} {self.config.design.unit}s, "
            f"{len(self.waves)} waves, {len(self.measures)} measure rows)"
        )
