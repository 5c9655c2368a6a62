"""The score report of a study: scale scores, reliability and aggregation checks per measure and wave.

`score_report(study, n_boot=..., seed=...)` is what `moclab score` prints: for every measure scored from an
instrument (`moclab.study.scoring`), per scale and wave, a summary of the scores, Cronbach's alpha and
McDonald's omega (`moclab.analysis.reliability`) and, for team- and organization-level measures, whether
aggregation to the team or site is justified (`moclab.analysis.aggregation`: rwg(j), ICC(1), ICC(2)).

Unlike the rest of the study layer this module uses `moclab.analysis`, so `moclab.study` does not import it:
import it as ``from moclab.study.score_report import score_report``.

Examples
--------
>>> from moclab.study import example_path, load_study
>>> report = score_report(load_study(example_path(), show_progress=False), n_boot=0, seed=1)
>>> sorted(set(report.summary["measure"]))
['acceptability', 'appropriateness', 'feasibility', 'psych_safety']
>>> report.seed, report.icc_estimator
(1, 'ICC(1), one-way ANOVA estimator with n0 for unequal clusters')
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moclab.analysis.aggregation import aggregation_check
from moclab.analysis.clustering import ICC_ANOVA_ESTIMATOR
from moclab.analysis.reliability import scale_reliability
from moclab.catalog.instruments import Instrument
from moclab.errors import MoclabError
from moclab.plain import plain
from moclab.study.scoring import StudyScores, score_study

if TYPE_CHECKING:
    from moclab.study.study import Study

__all__ = ["GROUP_LEVELS", "ScoreReport", "score_report"]

#: Levels whose measures are aggregated to a group, and the design level that group is.
GROUP_LEVELS = {"team": "team", "site": "cluster", "organization": "cluster"}
#: Fewest respondents of a wave for an aggregation check.
_MIN_AGGREGATED = 3


@dataclass(frozen=True)
class ScoreReport:
    """Score summaries, reliability and aggregation checks of every instrument measure of a study.

    Attributes
    ----------
    study : str
        The study folder.
    summary : pandas.DataFrame
        Per measure, scale and wave: n, mean, sd, prorated, missing.
    reliability : pandas.DataFrame
        Per scale, wave and coefficient (alpha, omega): estimate, interval, n, k, warnings
        (`moclab.analysis.reliability.ReliabilityTable.to_frame`, ``group`` renamed ``wave``).
    aggregation : pandas.DataFrame
        Per team- or organization-level scale and wave: groups, median rwg(j), ICC(1), ICC(2) (named by
        ``icc_estimator``), F test, justified (`moclab.analysis.aggregation.AggregationCheck.to_frame`), wave
        and ``measure_of``.
    issues : list of dict
        Item responses left out of scoring.
    aggregation_warnings, reliability_warnings : list of str
        Why aggregation is not justified, or a reliability estimate is missing or doubtful
        ("<scale> at <wave>: ...").
    seed : int
        Seed of the bootstrap intervals (drawn when none was given, so a run can be repeated).
    n_boot : int
        Bootstrap resamples for omega's interval.
    scores : StudyScores
        The scores the report summarises.
    icc_estimator : str
        The ICC(1) estimator of the aggregation checks.
    """

    study: str
    summary: pd.DataFrame
    reliability: pd.DataFrame
    aggregation: pd.DataFrame
    issues: list[dict[str, Any]]
    aggregation_warnings: list[str]
    seed: int
    n_boot: int
    scores: StudyScores | None = field(default=None, repr=False)
    reliability_warnings: list[str] = field(default_factory=list)
    icc_estimator: str = ICC_ANOVA_ESTIMATOR

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "study": self.study,
                "seed": self.seed,
                "n_boot": self.n_boot,
                "scores": self.summary,
                "reliability": self.reliability,
                "reliability_warnings": self.reliability_warnings,
                "aggregation": self.aggregation,
                "icc_estimator": self.icc_estimator,
                "aggregation_warnings": self.aggregation_warnings,
                "issues": self.issues,
            }
        )

    def _repr_html_(self) -> str:
        def table(frame: pd.DataFrame) -> str:
            return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="", border=0)

        parts = [f"<div><strong>Scores of {html.escape(self.study)}</strong> (seed {self.seed})"]
        parts.append(table(self.summary))
        if len(self.reliability):
            parts.append(table(self.reliability))
        if len(self.aggregation):
            parts.append(f"<p>{html.escape(self.icc_estimator)}</p>" + table(self.aggregation))
        notes = self.reliability_warnings + self.aggregation_warnings
        if notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
        return "".join(parts) + "</div>"


def _group_column(study: Study, level: str) -> str | None:
    role = GROUP_LEVELS.get(level)
    if role is None:
        return None
    recipients = study.config.tables.recipients
    return recipients.team if role == "team" else recipients.cluster


def _level(study: Study, measure: str, instrument: Instrument) -> str:
    spec = study.config.measures[measure]
    return spec.level if "level" in spec.model_fields_set else instrument.level


def score_report(study: Study, *, n_boot: int = 1000, seed: int | None = None) -> ScoreReport:
    """Scores, reliability (alpha, omega) and aggregation checks of every instrument measure of a study.

    Parameters
    ----------
    study : Study
        A loaded study (`moclab.study.load_study`).
    n_boot : int
        Bootstrap resamples of omega's percentile interval (0 for none).
    seed : int, optional
        Seed of the bootstrap; by default one is drawn and reported as ``ScoreReport.seed``.

    Returns
    -------
    ScoreReport

    Notes
    -----
    Reliability is computed per scale and wave on the keyed items of respondents who answered them all
    (alpha with Feldt's interval, omega with a bootstrap percentile interval). A measure whose level is
    ``team`` is checked for aggregation to the recipients' team column, ``site`` or ``organization`` to
    the cluster column, per wave with at least three grouped respondents; the ICCs are the one-way ANOVA
    ICC(1) with n0 and ICC(2) (`moclab.analysis.aggregation.icc`), the same ICC(1) `moclab.analysis.mediate`
    reports.
    """
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    scores = score_study(study)
    recipients = study.recipients
    recipient_id = study.config.tables.recipients.id
    rng = np.random.default_rng(seed)
    summary_rows, reliability_frames, aggregation_rows = [], [], []
    aggregation_notes: list[str] = []
    for measure, result in scores.results.items():
        detail = result.to_frame()
        wave_column = result.wave
        for (scale, wave), block in detail.groupby(["scale", wave_column], sort=False):
            summary_rows.append(
                {
                    "measure": measure,
                    "scale": scale,
                    "wave": wave,
                    "n": int(block["score"].notna().sum()),
                    "mean": float(block["score"].mean()),
                    "sd": float(block["score"].std()),
                    "prorated": int(block["prorated"].sum()),
                    "missing": int(block["score"].isna().sum()),
                }
            )
        level = _level(study, measure, result.instrument)
        group_column = _group_column(study, level)
        for scale in result.scales:
            items = result.items_of(scale)
            table = scale_reliability(
                items[result.scale_items(scale)], scale=scale, by=items[wave_column], n_boot=n_boot, seed=rng
            ).to_frame()
            reliability_frames.append(table.assign(measure=measure))
            if group_column is None or group_column not in recipients.columns:
                continue
            groups = items[[result.respondent]].merge(
                recipients[[recipient_id, group_column]].drop_duplicates(recipient_id),
                left_on=result.respondent,
                right_on=recipient_id,
                how="left",
            )[group_column]
            scale_scores = result.scores[scale]
            options = result.instrument.scale.maximum - result.instrument.scale.minimum + 1
            for wave in pd.unique(items[wave_column]):
                rows = (items[wave_column] == wave).to_numpy() & groups.notna().to_numpy()
                if rows.sum() < _MIN_AGGREGATED:
                    continue
                try:
                    check = aggregation_check(
                        items.loc[rows, result.scale_items(scale)],
                        groups[rows].to_numpy(),
                        scores=scale_scores[rows].to_numpy(),
                        options=options,
                        measure=scale,
                        group_level=level,
                    )
                except MoclabError as exc:
                    aggregation_notes.append(f"{scale} at {wave}: {exc.message}")
                    continue
                aggregation_rows.append(check.to_frame().assign(wave=wave, measure_of=measure))
                aggregation_notes += [f"{scale} at {wave}: {warning}" for warning in check.warnings]
    reliability = (
        pd.concat(reliability_frames, ignore_index=True).rename(columns={"group": "wave"})
        if reliability_frames
        else pd.DataFrame()
    )
    reliability_notes = (
        [
            f"{row.scale} at {row.wave}: {row.coefficient}: {row.warnings}"
            for row in reliability.itertuples()
            if isinstance(row.warnings, str)
        ]
        if len(reliability)
        else []
    )
    aggregation = pd.concat(aggregation_rows, ignore_index=True) if aggregation_rows else pd.DataFrame()
    issues = [
        {"measure": measure, **issue.to_dict()} for measure, found in scores.issues.items() for issue in found
    ]
    return ScoreReport(
        study=str(study.path),
        summary=pd.DataFrame(summary_rows),
        reliability=reliability,
        aggregation=aggregation,
        issues=issues,
        aggregation_warnings=aggregation_notes,
        seed=seed,
        n_boot=n_boot,
        scores=scores,
        reliability_warnings=reliability_notes,
    )
