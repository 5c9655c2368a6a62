"""The `evidence:` section of `moclab.yaml`: which pathways to judge, how, and by which thresholds.

Every rule of the scorecard reads its thresholds from here, so a study can state (and a reader can see) the
rules its verdicts were reached by. The defaults are documented with their sources in docs/criteria.md.

This module holds only the schema (pydantic models with ``extra="forbid"``, so a misspelt key is reported
with a "did you mean" at its YAML line by the study loader) and imports nothing of moclab above `yamlio`:
`moclab.study.config` imports it to validate the section together with the rest of the file. Checks that
need the model or the data (does this pathway exist, is that a measure) are made by
`moclab.evidence.plan` when a study is analysed, located at their YAML line as well.

Example
-------
.. code-block:: yaml

    evidence:
      n_boot: 5000
      seed: 2024
      pathways:
        - isp_support__trust__acceptability
        - id: isp_support__credibility__feasibility
          non_target_outcomes: [knowledge]
      waves: {baseline: baseline, mechanism: m6, outcome: m12}
      dose: {measure: minutes, level: recipient}
      links:
        "isp_support->trust": {citations: ["Albers et al. 2022"]}
      thresholds: {min_units: 3}
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

import pydantic
from pydantic import ConfigDict, Field

__all__ = [
    "AUTO",
    "DoseSpec",
    "EvidenceSettings",
    "LinkSpec",
    "PathwaySpec",
    "Thresholds",
    "WaveSpec",
]

#: The value that asks moclab to choose (a wave, a level) by the documented default rule.
AUTO = "auto"


class _Strict(pydantic.BaseModel):
    # Wave ids written as bare numbers in YAML (`mechanism: 6`) are meant as text, as in the study config.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class WaveSpec(_Strict):
    """Which waves a pathway's variables are taken from.

    ``auto`` (the default) applies the rule of docs/criteria.md: with two or more waves the first wave is the
    baseline, the mechanism is taken at the first wave after it and the outcome at the last wave; with one
    wave everything is taken at that wave and nothing is adjusted for. ``baseline: null`` switches the
    baseline adjustment off.
    """

    baseline: str | None = AUTO
    mechanism: str = AUTO
    outcome: str = AUTO


class DoseSpec(_Strict):
    """How the support received (the dose of the strategy) is read from the activities table.

    Attributes
    ----------
    measure
        ``minutes`` (sum of the minutes column) or ``contacts`` (number of logged activities).
    level
        ``recipient`` (activities logged for a recipient), ``site`` (all activities of the recipient's
        cluster, divided by its number of recipients) or ``auto``: recipient when at least half of the logged
        activities name a recipient, site otherwise.
    components
        Count only activities of these components (all when empty).
    window
        ``before_mechanism``: only activities dated up to the wave at which the mechanism is measured (the
        dose that could have moved it); ``all``: the whole log.
    within_arm
        In a randomized study, estimate the gradient among recipients of the non-control arm(s) only, so that
        it is not the arm contrast again (strong association already tests that).
    """

    measure: Literal["minutes", "contacts"] = "minutes"
    level: Literal["auto", "recipient", "site"] = AUTO
    components: list[str] = []
    window: Literal["before_mechanism", "all"] = "before_mechanism"
    within_arm: bool = True


class LinkSpec(_Strict):
    """What the study's authors say about one link ``"from->to"`` of the model: its expected sign and the
    publications that back it (plausibility and coherence)."""

    sign: Literal["positive", "negative"] = "positive"
    citations: list[str] = []


class Thresholds(_Strict):
    """Numbers the verdict rules use besides the confidence level (see docs/criteria.md for the sources).

    Attributes
    ----------
    min_units
        Fewest sites, subgroups or studies for a consistency meta-analysis (a prediction interval needs 3).
    knapp_hartung_below
        Use the Knapp-Hartung adjustment of the pooled interval when fewer units than this are pooled
        (IntHout et al. 2014); with ``knapp_hartung: true`` it is always used.
    min_site_size
        Per-site regressions on fewer recipients than this get a warning (skewed a·b; MacKinnon et al. 2004).
    min_subgroup_size
        Subgroups with fewer analysed recipients than this are left out of the consistency analysis.
    baseline_coverage
        Adjust for a baseline value only when at least this share of the analysed recipients has one
        (adjusting for a sparse baseline would drop most rows by listwise deletion).
    min_dose_levels
        Fewest distinct dose values for a dose-response analysis.
    """

    min_units: int = Field(default=3, ge=2)
    knapp_hartung_below: int = Field(default=20, ge=2)
    min_site_size: int = Field(default=20, ge=2)
    min_subgroup_size: int = Field(default=30, ge=5)
    baseline_coverage: float = Field(default=0.5, gt=0, le=1)
    min_dose_levels: int = Field(default=3, ge=2)


def _ids_as_specs(value: Any) -> Any:
    """A pathway may be named by its id alone; turn such items into ``{id: ...}``."""
    if isinstance(value, list):
        return [{"id": item} if isinstance(item, str) else item for item in value]
    return value


class PathwaySpec(_Strict):
    """One pathway to judge, with what differs from the study-wide settings.

    Attributes
    ----------
    id
        The pathway id (declared in the model, or derived: ``strategy__mechanism__outcome``).
    outcome
        The model node analysed as the outcome; default the first outcome after the pathway's mechanisms.
    waves, covariates, non_target_outcomes, subgroups, strategy
        As the study-wide settings of the same names, for this pathway only.
    alternatives
        Competing mechanisms for the specificity contrasts instead of the model's.
    """

    id: str
    outcome: str | None = None
    waves: WaveSpec | None = None
    covariates: list[str] | None = None
    non_target_outcomes: list[str] | None = None
    alternatives: list[str] | None = None
    subgroups: list[str] | None = None
    strategy: Literal["auto", "dose"] | None = None


class EvidenceSettings(_Strict):
    """The whole `evidence:` section; every key is optional.

    Attributes
    ----------
    level
        Confidence level of every interval; 1 - level is the significance level of every test.
    ci, n_boot, seed
        Interval method of the indirect effects (see `moclab.analysis.mediate`), bootstrap resamples and the
        seed that makes every number reproducible (a fresh one is drawn and reported when not given).
    mediation
        The strong-association model of clustered designs: ``single-level`` (`moclab.analysis.mediate`
        with the cluster bootstrap and CR1 standard errors) or ``multilevel``
        (`moclab.analysis.multilevel_mediate`: 2-1-1 when the strategy is constant within sites, 1-1-1
        otherwise; Monte Carlo interval of the indirect effect). Pathways it cannot serve (no clusters,
        serial mechanisms) or fits that fail fall back to single-level, with a warning.
    missing
        How the mediation models of strong association and specificity treat recipients with missing
        values: ``listwise`` (drop them), ``imputation`` (multiple imputation by chained equations with
        Rubin's rules, `moclab.analysis.mediate_imputed`, ``imputations`` data sets) or ``weights``
        (inverse-probability-of-retention weights, `moclab.analysis.mediate_weighted`). The other criteria's
        analyses use the complete rows either way; docs/missing-data.md says why.
    imputations
        Number of imputed data sets with ``missing: imputation``.
    pathways
        The pathways to judge (ids, or mappings with per-pathway settings); all of the model's by default.
    waves
        Which waves the variables are taken from (see `WaveSpec`).
    covariates
        Columns of the recipients table (or measures at baseline) adjusted for in every model.
    non_target_outcomes
        Model nodes or measures the mechanism should *not* change (specificity).
    subgroups
        Recipients-table columns (or moderator nodes) across whose levels consistency is examined when the
        strategy does not vary within sites; default: the pathway's categorical moderators.
    strategy
        ``auto``: the strategy node's column (an arm, coded 1 for every non-control arm, or a numeric dose),
        else the randomized arm; ``dose``: the support dose from the activities table (see `dose`).
    strategy_start
        When the strategy began (a date, or months since the study start as in ``design.waves``); default the
        first logged activity.
    knapp_hartung
        ``auto`` (below `Thresholds.knapp_hartung_below` units), true or false.
    dose
        How the dose of support is read from the activities table (see `DoseSpec`).
    links
        Expected sign and citations per model link, keyed ``"from->to"``.
    thresholds
        See `Thresholds`.
    """

    level: float = Field(default=0.95, ge=0.5, lt=1.0)
    ci: Literal["bca", "percentile", "monte_carlo", "delta"] = "percentile"
    n_boot: int = Field(default=5000, ge=100)
    seed: int | None = Field(default=None, ge=0)
    mediation: Literal["single-level", "multilevel"] = "single-level"
    missing: Literal["listwise", "imputation", "weights"] = "listwise"
    imputations: int = Field(default=20, ge=2, le=500)
    pathways: list[PathwaySpec] | None = None
    waves: WaveSpec = WaveSpec()
    covariates: list[str] = []
    non_target_outcomes: list[str] = []
    subgroups: list[str] | None = None
    strategy: Literal["auto", "dose"] = AUTO
    strategy_start: datetime.date | float | None = None
    knapp_hartung: Literal["auto"] | bool = AUTO
    dose: DoseSpec = DoseSpec()
    links: dict[str, LinkSpec] = {}
    thresholds: Thresholds = Thresholds()

    @pydantic.field_validator("pathways", mode="before")
    @classmethod
    def _pathway_ids(cls, value: Any) -> Any:
        return _ids_as_specs(value)

    @property
    def alpha(self) -> float:
        """The significance level of every test, 1 - level."""
        return 1.0 - self.level

    def pathway_spec(self, pathway_id: str) -> PathwaySpec:
        """The settings given for one pathway (an empty spec when the pathway is not listed)."""
        for spec in self.pathways or ():
            if spec.id == pathway_id:
                return spec
        return PathwaySpec(id=pathway_id)
