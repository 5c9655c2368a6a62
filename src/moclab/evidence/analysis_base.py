"""What every analysis of a pathway shares: its data, settings and seed, and how an analysis is attempted.

`moclab.evidence.pathway.PathwayAnalysis` runs the analyses of one pathway; it is split by responsibility
into this base and three mixins (`moclab.evidence.consistency_analyses`, `moclab.evidence.panel_analyses`,
`moclab.evidence.causal_analyses`), each holding the analyses of one or two criteria.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from moclab.analysis import mediate, mediate_imputed, mediate_weighted
from moclab.analysis.results import AnalysisResult
from moclab.errors import MoclabError
from moclab.evidence.frames import PathwayData, StudyTables
from moclab.evidence.levels import level_data, pathway_level
from moclab.evidence.plan import PathwayPlan
from moclab.evidence.scorecard import StudyEvidence
from moclab.study.evidence_settings import EvidenceSettings

__all__ = ["PathwayAnalysisBase"]


def numeric_covariates(frame: Any, covariates: Sequence[str]) -> tuple[Any, list[str]]:
    """The frame with categorical covariates as 0/1 columns (first level as reference), for models that take
    numeric predictors only (`multilevel_mediate`), and the names of the covariate columns to use."""
    import pandas as pd

    names: list[str] = []
    extra: dict[str, Any] = {}
    for name in covariates:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype):
            names.append(name)
            continue
        dummies = pd.get_dummies(column, prefix=name, prefix_sep="=", drop_first=True, dtype=float)
        dummies[column.isna()] = np.nan
        extra.update({key: dummies[key] for key in dummies.columns})
        names.extend(dummies.columns)
    if not extra:
        return frame, names
    return frame.assign(**extra), names


def failure_text(error: MoclabError) -> str:
    """A data problem's message with its hint, for a "not testable" reason."""
    hint = getattr(error, "hint", None)
    return error.message + (f" ({hint})" if hint else "")


class PathwayAnalysisBase:
    """The data, settings and helpers every analysis of one pathway uses."""

    def __init__(
        self,
        study: Any,
        plan: PathwayPlan,
        data: PathwayData,
        settings: EvidenceSettings,
        seed: int,
        replications: Sequence[StudyEvidence],
        step: Callable[[str], None],
        tables: StudyTables,
    ) -> None:
        self.study = study
        self.tables = tables
        self.plan = plan
        #: The recipients' own scores, for the random-effects model, which separates the levels itself.
        self.recipient_data = data
        #: The level the mechanism is analysed at (`moclab.evidence.levels`), and the frames cut at it.
        self.levelling = pathway_level(study, plan, data, settings.mediation == "multilevel")
        self.data = level_data(study, data, self.levelling)
        self.settings = settings
        self.seed = seed
        self.replications = replications
        self.step = step
        self.level = settings.level
        self.alpha = settings.alpha
        self.results: dict[str, AnalysisResult] = {}
        self.notes: list[str] = list(data.notes)
        self.chain = "->".join(plan.mechanisms)
        #: The competing mechanisms entered in the strong-association model (read by every verdict).
        self.competitors: tuple[str, ...] = ()
        #: The multilevel design ("2-1-1", "1-1-1") when strong association was judged on a multilevel model.
        self.multilevel: str | None = None
        #: Why the requested multilevel model was not used (the single-level model was, instead).
        self.multilevel_fallback: str | None = None
        #: Warnings of the analysis itself (not of a result object), for the study's list of warnings.
        self.warnings: list[str] = []
        #: Measured competing mechanisms left out of the models, with why (constant, sparse).
        self.left_out_competitors: dict[str, str] = {}

    # -- helpers -------------------------------------------------------------------------------------------

    def attempt(
        self, name: str, run: Callable[[], AnalysisResult]
    ) -> tuple[AnalysisResult | None, str | None]:
        """Run one analysis; keep its result, or return why the data could not answer it.

        Only a `MoclabError` (the analysis layer's `DataError` for data that cannot answer) is caught: any
        other exception is a bug and propagates, so it cannot turn into a verdict.
        """
        try:
            result = run()
        except MoclabError as error:
            return None, self.no_comparison_left or failure_text(error)
        self.results[name] = result
        return result, None

    @functools.cached_property
    def no_comparison_left(self) -> str | None:
        """Why every model of the pathway fails when the rows with missing values leave a single strategy
        value (one arm): the true cause, with the missing values per variable, rather than a model's
        complaint about a constant strategy. None when a comparison is left."""
        data, plan = self.data, self.plan
        roles = [*plan.mechanisms, plan.outcome, *self.covariates_for(*plan.mechanisms, plan.outcome)]
        frame = data.frame[list(dict.fromkeys(c for c in [data.x, *roles] if c in data.frame.columns))]
        left = set(frame.dropna()[data.x].unique())
        if len(left) >= 2 or frame[data.x].nunique() < 2:
            return None
        missing = frame.drop(columns=data.x).isna().sum()
        counts = ", ".join(
            f"{name} for {count} of {len(frame)}"
            for name, count in missing[missing > 0].sort_values(ascending=False).items()
        )
        coding = plan.coding
        if data.x_type == "arm" and coding.control is not None and coding.column is not None:
            arms = [str(arm) for arm in self.study.recipients[coding.column].dropna().unique()]
            kept = [coding.control] if left == {0.0} else sorted(set(arms) - {coding.control})
            what = f"only arm {' and '.join(kept)} {'is' if len(kept) == 1 else 'are'} left"
        else:
            what = "a single strategy value is left" if left else "no row is left"
        return (
            f"{what} after leaving out the recipients with missing values, so there is nothing to compare "
            f"(missing: {counts})"
        )

    def mediation_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "ci": self.settings.ci,
            "n_boot": self.settings.n_boot,
            "level": self.level,
            "seed": self.seed,
            "x_type": "arm" if self.data.x_type == "arm" else "dose",
        }
        if self.data.cluster is not None:
            options["cluster"] = self.data.cluster
        return options

    def fit_mediation(
        self, mediators: Sequence[str], outcome: str, model: str = "parallel"
    ) -> AnalysisResult:
        """The mediation model of strong association and specificity, with the recipients who miss values
        treated as the setting `missing` says: dropped (`mediate`), imputed (`mediate_imputed`, the
        pathway's other measured variables helping the imputation) or retained ones weighted by their
        inverse probability of retention (`mediate_weighted`, retention predicted by the strategy and the
        baselines). Percentile intervals are the only ones the weighted model gives: it uses them whatever
        the setting `ci`."""
        data = self.data
        covariates = self.covariates_for(*mediators, outcome)
        options = self.mediation_options()
        common = {"x": data.x, "m": list(mediators), "y": outcome, "covariates": covariates, "model": model}
        method = self.settings.missing
        if method == "listwise":
            return mediate(data.frame, **common, **options)
        if method == "imputation":
            return mediate_imputed(
                data.frame,
                **common,
                auxiliary=self.auxiliary_for(*mediators, outcome, *covariates),
                n_imputations=self.settings.imputations,
                **options,
            )
        options.pop("ci")
        # The retention model needs its predictors for everyone: a recipient without a baseline value is
        # left out of it, as the analysis model (which adjusts for the baselines) leaves them out anyway.
        retention = [data.x, *data.baseline_for(*mediators, outcome)]
        return mediate_weighted(data.frame.dropna(subset=retention), **common, retention=retention, **options)

    def auxiliary_for(self, *used: str) -> list[str]:
        """The pathway's measured variables outside a model that help impute its missing values: the other
        mechanisms, the competing mechanisms and non-target outcomes, and every baseline."""
        data = self.data
        taken = {data.x, data.cluster, *used}
        candidates = [*data.mechanisms, *data.alternatives, *data.non_targets, *data.baselines.values()]
        return [name for name in dict.fromkeys(candidates) if name not in taken and name in data.frame]

    @property
    def missing_data_text(self) -> str:
        """How the mediation models treated missing values, for the verdicts' evidence and the report."""
        method = self.settings.missing
        if method == "imputation":
            return f"multiple imputation by chained equations ({self.settings.imputations} data sets)"
        if method == "weights":
            return "inverse-probability-of-retention weights (retained recipients)"
        return "listwise deletion (complete rows)"

    def covariates_for(self, *names: str) -> list[str]:
        return [*self.data.covariates, *self.data.baseline_for(*names)]

    def numeric_covariates_for(self, *names: str) -> list[str]:
        """Numeric covariates and baselines of `names` (per-site models and trend tests take only those)."""
        return [
            c
            for c in self.covariates_for(*names)
            if c in self.data.numeric_covariates or c in self.data.baselines.values()
        ]

    def knapp_hartung(self, k: int) -> bool:
        setting = self.settings.knapp_hartung
        if setting == "auto":
            return k < self.settings.thresholds.knapp_hartung_below
        return bool(setting)

    @property
    def indirect_name(self) -> str:
        return f"indirect[{self.chain}]"

    def usable_competitors(self) -> tuple[str, ...]:
        """The measured competing mechanisms that can enter the models: not constant, and measured for at
        least `baseline_coverage` of the recipients who have the strategy, mechanism and outcome (a competitor
        missing for most of them would drop those rows from every model). The others are named in a note."""
        data, plan = self.data, self.plan
        rows = data.frame.dropna(subset=[data.x, *plan.mechanisms, plan.outcome])
        threshold = self.settings.thresholds.baseline_coverage
        usable = []
        self.left_out_competitors = {}
        for name in plan.alternatives:
            values = rows[name]
            coverage = float(values.notna().mean()) if len(rows) else 0.0
            distinct = values.dropna().unique()
            if len(distinct) == 1:
                why = f"it is constant ({distinct[0]:g} for every analysed recipient)"
            elif len(distinct) == 0:
                why = "it has no value for the analysed recipients"
            elif coverage < threshold:
                why = f"it is measured for {coverage:.0%} of the analysed recipients"
                why += f" (threshold {threshold:.0%}, thresholds.baseline_coverage)"
            else:
                usable.append(name)
                continue
            why += f" at wave {plan.mechanism_wave}"
            self.left_out_competitors[name] = why
            note = f"competing mechanism '{name}' left out of the models: {why}"
            if note not in self.notes:
                self.notes.append(note)
        return tuple(usable)
