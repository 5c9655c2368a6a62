"""Every aggregate of recipients the dashboards can show, for a whole organisation, behind small-cell
suppression (`moclab.disclosure`).

The dashboards show three kinds of aggregates of recipients:

- survey invitations and answers: how many recipients were invited and how many answered, per group and
  period (the response rates), and the mean score of each stage of the recipients' pathway (Metz et al.
  2024);
- the minutes of support each recipient received ("who received how much"): the number of recipients of a
  group, their mean minutes and how many received minutes in each band.

A *group* is the organisation ``("org",)``, a site ``("site", id)``, a team ``("team", id)``, an engagement's
recipients ``("engagement", id)``, an ISP's portfolio (the recipients of their engagements, ``("isp", id)``)
and, for answers only, the answers given after an ISP's sessions (``("after", id)``). A *period* is a survey
wave, an after-activity survey's month, or all of a survey's periods together (``("all",)``).

Each cell is a set of members and a total, as `moclab.disclosure` sees it. A count's members are the people
it counts (the invited, those who answered, the recipients in a band), so that no count of fewer than k
people, in any category, can be shown or worked out: neither a team's two answers nor the one invitation
left unanswered among a site's fifty. A sum's members are those whose values it adds (a stage's mean over
the answers that rated it; a group's minutes over its recipients, those who received none included).

Suppression holds across every filter and every dashboard because it is decided once for the organisation:
`protect_cells` is given the cell of every group, period and quantity any dashboard can show to any role (the
whole organisation's, so two members pooling their views learn nothing more), and the pages show a subset of
the result. Cells on different units (a survey's invitations, each stage's answers, recipients) never share
a unit, so each such space is protected in its own call with all its cells.

A stage score is the mean of the recipient's answers to the measures of that stage, each put on a 0-100
scale as the percent of the maximum possible (POMP; Cohen, Cohen, Aiken & West 1999, Multivariate Behavioral
Research 34:315-346), so that a 1-7 instrument and a 1-5 rating average on one scale.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

from moclab.catalog.instruments import default_instruments
from moclab.disclosure import DEFAULT_K, Cell, check_k, protect
from moclab.study.scoring import score_items
from moclab.web.dashboards.queries import OrganisationData, latest, memoised, organisation_data
from moclab.web.surveys.items import pathway_entries, pathway_key

#: The stages of the recipients' pathway (Metz et al. 2024), in order: catalog id and the label shown.
STAGES: tuple[tuple[str, str], ...] = (
    ("affective-response", "Affective response"),
    ("acceptability-appropriateness-and-feasibility", "Acceptability, appropriateness, feasibility"),
    ("knowledge-and-application", "Knowledge and application"),
    ("sustained-capacity-and-outcomes", "Sustained capacity"),
)
#: Instruments whose score belongs to a stage: AIM, IAM and FIM measure acceptability, appropriateness and
#: feasibility (Weiner et al. 2017); team psychological safety is part of the affective response.
INSTRUMENT_STAGE = {
    "aim": "acceptability-appropriateness-and-feasibility",
    "iam": "acceptability-appropriateness-and-feasibility",
    "fim": "acceptability-appropriateness-and-feasibility",
    "team-psychological-safety": "affective-response",
}
#: Bands of minutes received, for "who received how much": (label, lowest, highest) in minutes.
DOSE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("none", 0, 0),
    ("under 1 hour", 1, 59),
    ("1 to 3 hours", 60, 179),
    ("3 to 10 hours", 180, 599),
    ("10 hours or more", 600, float("inf")),
)


def suppression_k() -> int:
    """The threshold k of the settings (``MOCLAB_SUPPRESSION_K``, default 5), checked: never below 3."""
    return check_k(getattr(settings, "MOCLAB_SUPPRESSION_K", DEFAULT_K))


@dataclass(frozen=True)
class Measure:
    """One measure of a stage: a pathway rating (an item field) or an instrument's score."""

    key: str
    label: str
    stage: str
    low: float
    high: float


def measures() -> list[Measure]:
    """Every measure the pathway dashboards score, stage by stage: the pathway ratings of each stage and of
    its components, and the instruments of `INSTRUMENT_STAGE`."""
    found = []
    for entry in pathway_entries():
        stage = entry.id if entry.kind == "stage" else (entry.parent_id or "").split(":")[-1]
        found.append(Measure(pathway_key(entry), entry.name, stage, 1.0, 5.0))
    registry = default_instruments()
    for instrument_id, stage in INSTRUMENT_STAGE.items():
        instrument = registry.get(instrument_id)
        low, high = instrument.score_range()
        found.append(Measure(instrument_id, instrument.short_name or instrument.name, stage, low, high))
    return found


def stage_scores(answers: pd.DataFrame) -> pd.DataFrame:
    """Each answered invitation's stage scores (0-100, POMP), NaN where it answered no measure of a stage:
    index as `answers`, one column per stage id."""
    answered = answers[answers["answered"]]
    registry = default_instruments()
    pomp: dict[str, list[pd.Series]] = {stage: [] for stage, _ in STAGES}
    for measure in measures():
        if measure.key in INSTRUMENT_STAGE:
            instrument = registry.get(measure.key)
            fields = [item.id for item in instrument.items if item.id in answered.columns]
            if not fields:
                continue
            wide = answered[["invitation", *fields]].rename(columns={"invitation": "respondent"})
            scored = score_items(wide, instrument, wave=None).scores.set_index("respondent")[instrument.id]
            # the scores name respondents as text: match them as text
            values = answered["invitation"].astype(str).map(scored.rename(index=str))
        elif measure.key in answered.columns:
            values = answered[measure.key].where(answered[measure.key].between(measure.low, measure.high))
        else:
            continue
        pomp[measure.stage].append((values.astype(float) - measure.low) / (measure.high - measure.low) * 100)
    return pd.DataFrame(
        {
            stage: pd.concat(series, axis=1).mean(axis=1) if series else np.nan
            for stage, series in pomp.items()
        },
        index=answered.index,
    ).reindex(answers.index)


@dataclass(frozen=True)
class Figure:
    """One aggregate: how many units it covers, their total, and whether it is suppressed."""

    size: int
    total: float
    suppressed: bool

    @property
    def mean(self) -> float | None:
        return self.total / self.size if self.size else None


EMPTY = Figure(0, 0.0, False)


class Protected:
    """An organisation's aggregates of recipients with the suppression decided for them (`protect_cells`).

    `figure(key)` is one cell. A key that was not built is a group without members when the cells were
    built (a team without recipients, or one made since): it shows as empty, which tells nothing."""

    def __init__(self, figures: dict[Hashable, Figure], k: int) -> None:
        self.figures = figures
        self.k = k

    def figure(self, key: Hashable) -> Figure:
        return self.figures.get(key, EMPTY)


def group_recipients(data: OrganisationData) -> dict[tuple[Any, ...], frozenset[int]]:
    """The recipients of every group: the organisation, each site, team, engagement and ISP portfolio."""
    recipients = data.recipients
    groups: dict[tuple[Any, ...], frozenset[int]] = {("org",): frozenset(int(i) for i in recipients.index)}
    for site, ids in recipients.groupby("site").groups.items():
        groups[("site", int(site))] = frozenset(int(i) for i in ids)
    for team, ids in recipients.dropna(subset=["team"]).groupby("team").groups.items():
        groups[("team", int(team))] = frozenset(int(i) for i in ids)
    for engagement, ids in data.engagement_recipients.items():
        groups[("engagement", engagement)] = ids
    for isp, engagements in data.isp_engagements.items():
        groups[("isp", isp)] = frozenset().union(*(data.engagement_recipients[e] for e in engagements))
    return groups


@dataclass
class Cells:
    """The cells of one organisation before protection, by space: one set of units (``("invitations",
    survey)``: invited and answered; ``("stage", id, survey)``: a stage's scores over the answers;
    ``("dose",)``: minutes received; ``("recipients",)``: counts of recipients, in all and per band). Cells
    of different spaces share no unit, so each space is protected on its own: the guarantee is the same as
    for one call over all of them, and `protect`'s work grows faster than linearly with the cells it is
    given."""

    spaces: dict[tuple[Any, ...], list[tuple[Hashable, frozenset[int], float]]]

    def add(self, key: Hashable, space: tuple[Any, ...], members: frozenset[int], total: float) -> None:
        self.spaces.setdefault(space, []).append((key, members, total))

    def __len__(self) -> int:
        return sum(len(entries) for entries in self.spaces.values())


def build_cells(data: OrganisationData) -> Cells:
    """Every cell any dashboard can show for the organisation (see the module's docstring)."""
    cells = Cells({})
    groups = group_recipients(data)
    interned: dict[frozenset[int], frozenset[int]] = {}

    def members(ids: Iterable[int]) -> frozenset[int]:
        found = frozenset(ids)
        return interned.setdefault(found, found)

    _survey_cells(cells, data, groups, members)
    _dose_cells(cells, data, groups, members)
    return cells


def _survey_cells(
    cells: Cells, data: OrganisationData, groups: dict[Any, frozenset[int]], members: Any
) -> None:
    answers = data.answers
    if answers.empty:
        return
    scores = stage_scores(answers)
    invitation = answers["invitation"].to_numpy()
    answered = answers["answered"].to_numpy(dtype=bool)
    recipient = answers["recipient"].to_numpy()
    score_of = {stage: scores[stage].to_numpy(dtype=float) for stage, _ in STAGES}
    positions: dict[tuple[int, tuple[Any, ...]], np.ndarray] = {}
    for (survey, period), index in answers.groupby(["survey", "period"], sort=False).indices.items():
        positions[(int(survey), period)] = index
    selections: list[tuple[tuple[Any, ...], np.ndarray | None, bool]] = [
        (group, np.isin(recipient, np.fromiter(ids, dtype=np.int64, count=len(ids))), True)
        for group, ids in groups.items()
    ]
    invitation_set = pd.Index(invitation)
    for isp in data.isp_engagements:
        chosen = data.after.get(isp, frozenset())
        selections.append((("after", isp), invitation_set.isin(list(chosen)), False))
    for group, in_group, with_invited in selections:
        for (survey, period), index in positions.items():
            chosen_rows = index[in_group[index]]
            done = chosen_rows[answered[chosen_rows]]
            # a count is of the people counted: the invited, the answers (so that neither the answers nor
            # the invitations left unanswered of fewer than k people can be worked out)
            if with_invited:
                invited = members(invitation[chosen_rows].tolist())
                cells.add(
                    ("invited", group, survey, period), ("invitations", survey), invited, float(len(invited))
                )
            answers_given = members(invitation[done].tolist())
            cells.add(
                ("answered", group, survey, period), ("invitations", survey), answers_given, float(len(done))
            )
            for stage, values in score_of.items():
                scored = done[~np.isnan(values[done])]
                cells.add(
                    ("stage", stage, group, survey, period),
                    ("stage", stage, survey),
                    members(invitation[scored].tolist()),
                    float(values[scored].sum()),
                )


def _dose_cells(
    cells: Cells, data: OrganisationData, groups: dict[Any, frozenset[int]], members: Any
) -> None:
    """Per group: the minutes its recipients received (the sum of a value over them), how many recipients it
    has and how many received minutes in each band (counts of the recipients counted)."""
    dose = data.dose
    for group, ids in groups.items():
        if not ids:
            continue
        received = dose.reindex(sorted(ids), fill_value=0)
        everyone = members(ids)
        cells.add(("dose", group), ("dose",), everyone, float(received.sum()))
        cells.add(("recipients", group), ("recipients",), everyone, float(len(ids)))
        for number, (_, low, high) in enumerate(DOSE_BANDS):
            band = received[(received >= low) & (received <= high)]
            cells.add(
                ("band", number, group),
                ("recipients",),
                members(int(i) for i in band.index),
                float(len(band)),
            )


def protect_cells(cells: Cells, k: int) -> Protected:
    """Suppress with `moclab.disclosure.protect`, one call per space holding every cell of that space (so
    that the guarantee holds across every filter, wave and dashboard). Cells of a space with the same
    members are one cell to `protect` (equal sums: shown or hidden together), and a space whose cells have
    the same members, in the same order, as an earlier space's (a stage answered by everyone who answered)
    takes that space's decision."""
    figures: dict[Hashable, Figure] = {}
    decided: dict[tuple[int, ...], list[bool]] = {}
    for entries in cells.spaces.values():
        shape = tuple(id(members) for _, members, _ in entries)
        if shape not in decided:
            first: dict[int, Hashable] = {}
            unique = []
            for key, members, _ in entries:
                if id(members) not in first:
                    first[id(members)] = key
                    unique.append(Cell(key=key, members=members))
            hidden = protect(unique, k=k)
            decided[shape] = [first[id(members)] in hidden for _, members, _ in entries]
        for (key, members, total), suppressed in zip(entries, decided[shape], strict=True):
            figures[key] = Figure(len(members), total, suppressed)
    return Protected(figures, k)


def protected(organisation_id: int) -> tuple[OrganisationData, Protected]:
    """The organisation's data and its protected cells, of one data state (computed once per state and k;
    after new data, the previous state's until the new one is ready: `queries.latest`)."""
    k = suppression_k()

    def build() -> tuple[tuple[Any, ...], tuple[OrganisationData, Protected]]:
        data = organisation_data(organisation_id)
        result = memoised(
            ("protected", organisation_id, data.state, k), lambda: protect_cells(build_cells(data), k)
        )
        return data.state, (data, result)

    return latest(("protected", organisation_id, k), organisation_id, build)
