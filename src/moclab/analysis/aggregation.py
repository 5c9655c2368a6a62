"""Is aggregation of individual answers to a team or site justified? Within-group agreement and reliability.

Arrays or DataFrames in, result objects out (no files):

* `rwg` — agreement on a single item within each group (James, Demaree & Wolf 1984):
  ``rwg = 1 - s_x^2 / σ_EU^2``, with the variance of the uniform ("no agreement") null distribution of an
  A-option scale ``σ_EU^2 = (A^2 - 1) / 12`` (2.0 for five options).
* `rwg_j` — agreement on a J-item scale: ``rwg(j) = J (1 - s̄^2/σ_EU^2) / (J (1 - s̄^2/σ_EU^2) + s̄^2/σ_EU^2)``
  with s̄^2 the mean of the item variances within the group (James et al. 1984, eq. 7).
  Following James et al. (1984), as the R package multilevel does, a group whose observed variance exceeds
  σ_EU^2 gets 0 (no agreement) instead of a negative or out-of-range value.
* `icc` — ICC(1) and ICC(2) from a one-way ANOVA of the scores on the groups (Bliese 2000):
  ``ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW)`` with n0 the effective group size of unequal groups
  (Snedecor & Cochran 1989), and ``ICC(2) = (MSB - MSW) / MSB`` (the reliability of the group means), with
  the ANOVA F test. The computation is `moclab.analysis.clustering.oneway_anova_icc`, the same that
  `moclab.analysis.mediate` reports, so both give the same ICC(1) on the same data.
* `aggregation_check` — all of these for one measure, and warnings when aggregation is not justified.

Conventions (not laws; every threshold is a parameter): median rwg(j) of at least .70 (James et al. 1984;
LeBreton & Senter 2008 grade .51-.70 as moderate and .71-.90 as strong agreement); ICC(2) of at least .70
for reliable group means (LeBreton & Senter 2008); a significant ANOVA F test (p < .05) as evidence that the
groups differ at all (Bliese 2000). ICC(1) is reported as an effect size: LeBreton & Senter (2008) read .01
as small, .10 as medium and .25 as large.

References
----------
James LR, Demaree RG, Wolf G. Estimating within-group interrater reliability with and without response bias.
Journal of Applied Psychology 1984;69(1):85-98.
Bliese PD. Within-group agreement, non-independence, and reliability: implications for data aggregation and
analysis. In: Klein KJ, Kozlowski SWJ, eds. Multilevel theory, research, and methods in organizations.
San Francisco: Jossey-Bass; 2000:349-381.
LeBreton JM, Senter JL. Answers to 20 questions about interrater reliability and interrater agreement.
Organizational Research Methods 2008;11(4):815-852.
Snedecor GW, Cochran WG. Statistical Methods. 8th ed. Ames: Iowa State University Press; 1989.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from moclab.analysis.clustering import ICC_ANOVA_ESTIMATOR, OnewayAnovaIcc, oneway_anova_icc
from moclab.analysis.results import plain
from moclab.errors import DataError

RWG_THRESHOLD = 0.70
ICC2_THRESHOLD = 0.70
F_TEST_ALPHA = 0.05


def uniform_null_variance(options: int) -> float:
    """Variance of the uniform null distribution over `options` equally spaced answers: (A^2 - 1) / 12."""
    if options < 2:
        raise DataError(f"a response scale needs at least 2 options, got {options}")
    return (options**2 - 1) / 12


def _null_variance(options: int | None, null_variance: float | None) -> float:
    if null_variance is not None:
        if null_variance <= 0:
            raise DataError("null_variance must be positive")
        return float(null_variance)
    if options is None:
        raise DataError(
            "give the number of response options (options=5 for a 1-5 scale) or a null_variance",
            hint="the uniform null variance is (A^2 - 1) / 12 for A options",
        )
    return uniform_null_variance(options)


def _groups(groups: Any, n: int) -> pd.Series:
    labels = pd.Series(np.asarray(groups, dtype=object))
    if len(labels) != n:
        raise DataError(f"{len(labels)} group labels for {n} rows")
    return labels


def _as_items(data: Any) -> pd.DataFrame:
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data, dtype="float64"))
    if frame.ndim != 2 or frame.shape[1] < 1:
        raise DataError("items must be a table: one row per respondent, one column per item")
    try:
        return frame.astype("float64").reset_index(drop=True)
    except (TypeError, ValueError):
        raise DataError("item responses must be numbers") from None


def _agreement(items: pd.DataFrame, labels: pd.Series, sigma2: float) -> pd.DataFrame:
    """Per group: members, mean of item variances, and rwg(j) (rwg when there is one item)."""
    frame = items.assign(_group=labels.to_numpy())
    frame = frame[frame["_group"].notna()]
    grouped = frame.groupby("_group", sort=False)
    variances = grouped[list(items.columns)].var(ddof=1)
    members = grouped[list(items.columns)].apply(lambda block: int(block.notna().any(axis=1).sum()))
    mean_variance = variances.mean(axis=1, skipna=True)
    j = items.shape[1]
    ratio = mean_variance / sigma2
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = j * (1 - ratio) / (j * (1 - ratio) + ratio)
    # James et al. (1984): observed variance beyond the null variance means no agreement, not a negative one
    agreement = agreement.where(ratio <= 1, 0.0)
    agreement = agreement.where(members >= 2)
    result = pd.DataFrame(
        {
            "group": variances.index,
            "n": members.to_numpy(),
            "mean_variance": mean_variance.to_numpy(),
            "rwg": agreement.to_numpy(dtype="float64"),
        }
    )
    return result.reset_index(drop=True)


def rwg(
    values: Any, groups: Any, *, options: int | None = None, null_variance: float | None = None
) -> pd.DataFrame:
    """Within-group agreement on one item, rwg (James, Demaree & Wolf 1984), per group.

    Parameters
    ----------
    values : array-like
        One answer per respondent.
    groups : array-like
        The group (team, site) of each respondent.
    options : int, optional
        Number of response options A; the null variance is (A^2 - 1) / 12.
    null_variance : float, optional
        Another null variance (e.g. of a skewed null distribution, LeBreton & Senter 2008).

    Returns
    -------
    pandas.DataFrame
        group, n, variance, rwg (0 when the variance exceeds the null variance; NaN for groups of one).

    Examples
    --------
    >>> rwg([4, 4, 5, 3, 4, 1, 5], ["a"] * 5 + ["b"] * 2, options=5)["rwg"].round(2).tolist()
    [0.75, 0.0]
    """
    column = pd.DataFrame({"x": np.asarray(values, dtype="float64")})
    result = _agreement(column, _groups(groups, len(column)), _null_variance(options, null_variance))
    return result.rename(columns={"mean_variance": "variance"})


def rwg_j(
    items: Any, groups: Any, *, options: int | None = None, null_variance: float | None = None
) -> pd.DataFrame:
    """Within-group agreement on a J-item scale, rwg(j) (James, Demaree & Wolf 1984), per group.

    Item variances are computed within each group from the answers given (respondents who skipped an item
    count for the other items); s̄^2 is their mean.

    Returns
    -------
    pandas.DataFrame
        group, n, mean_variance, rwg_j.

    Examples
    --------
    >>> rwg_j([[4, 4], [4, 5], [5, 5], [3, 4]], ["a"] * 4, options=5)["rwg_j"].round(3).tolist()
    [0.857]
    """
    frame = _as_items(items)
    result = _agreement(frame, _groups(groups, len(frame)), _null_variance(options, null_variance))
    return result.rename(columns={"rwg": "rwg_j"})


#: ICC(1), ICC(2) and the one-way ANOVA behind them (Bliese 2000), with the estimator's name.
IccResult = OnewayAnovaIcc


def icc(values: Any, groups: Any) -> IccResult:
    """ICC(1) and ICC(2) from a one-way random-effects ANOVA of `values` on `groups` (Bliese 2000).

    Notes
    -----
    ``ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW)`` and ``ICC(2) = (MSB - MSW) / MSB``, where
    ``n0 = (N - Σ n_j² / N) / (J - 1)`` is the effective group size of unequal groups (Snedecor & Cochran
    1989); with equal groups n0 is their size and these are Shrout & Fleiss's (1979) ICC(1,1) and ICC(1,k).
    R's multilevel package uses the mean group size N/J instead, which gives a different ICC(1) for unequal
    groups. Respondents without a value or a group are left out; groups of one count in the ANOVA (they add
    to the between-group sum of squares only). The result names its estimator (`IccResult.estimator`).
    Computed by `moclab.analysis.clustering.oneway_anova_icc`.

    Examples
    --------
    >>> result = icc([1, 2, 3, 4, 5, 6], ["a", "a", "a", "b", "b", "b"])
    >>> round(result.icc1, 3), round(result.icc2, 3)
    (0.806, 0.926)
    """
    frame = pd.DataFrame(
        {"y": np.asarray(values, dtype="float64"), "g": _groups(groups, len(np.asarray(values)))}
    )
    frame = frame.dropna()
    codes, labels = pd.factorize(frame["g"])
    n, n_groups = len(frame), len(labels)
    if n_groups < 2 or n - n_groups < 1:
        raise DataError(
            "ICC needs at least 2 groups and more respondents than groups "
            f"(got {n_groups} groups, {n} values)"
        )
    return oneway_anova_icc(frame["y"].to_numpy(), codes)


@dataclass(frozen=True, repr=False)
class AggregationCheck:
    """Agreement and reliability of one measure within groups, and whether aggregation is justified.

    Attributes
    ----------
    measure, group_level : str
        What was checked, and the level (team, site) it would be aggregated to (the ``level`` column of
        `to_frame`).
    agreement : pandas.DataFrame
        Per group: group, n, mean_variance, rwg (rwg(j) for several items).
    statistic : str
        ``"rwg"`` (one item) or ``"rwg(j)"``.
    median_rwg, mean_rwg : float
        Over the groups with at least two members.
    icc : IccResult
        ICC(1), ICC(2) and the ANOVA of the scale scores; ``icc.estimator`` names the ICC(1) estimator.
    justified : bool
        Every convention met (see the module docstring); `warnings` says which is not.
    """

    measure: str
    group_level: str
    agreement: pd.DataFrame
    statistic: str
    median_rwg: float
    mean_rwg: float
    icc: IccResult
    options: int | None
    null_variance: float
    thresholds: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def justified(self) -> bool:
        return not self.warnings

    def to_frame(self) -> pd.DataFrame:
        """One row: measure, level, groups, median and mean rwg(j), ICC(1), ICC(2), the ICC estimator, F, p,
        justified."""
        return pd.DataFrame(
            [
                {
                    "measure": self.measure,
                    "level": self.group_level,
                    "groups": self.icc.groups,
                    "n": self.icc.n,
                    "statistic": self.statistic,
                    "median_rwg": self.median_rwg,
                    "mean_rwg": self.mean_rwg,
                    "icc1": self.icc.icc1,
                    "icc2": self.icc.icc2,
                    "icc_estimator": self.icc.estimator,
                    "f": self.icc.f,
                    "p": self.icc.p,
                    "justified": self.justified,
                }
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                **self.to_frame().iloc[0].to_dict(),
                "icc": self.icc.to_dict(),
                "options": self.options,
                "null_variance": self.null_variance,
                "thresholds": self.thresholds,
                "agreement": self.agreement,
                "warnings": list(self.warnings),
            }
        )

    def _repr_html_(self) -> str:
        body = self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        head = (
            f"<strong>Aggregation of {html.escape(self.measure)} to {html.escape(self.group_level)}</strong>"
        )
        return f"<div>{head}{body}" + (f"<ul>{notes}</ul>" if notes else "") + "</div>"

    def summary(self) -> str:
        """The statistics in one line, the estimator and the warnings (the same as ``str``)."""
        return str(self)

    def __repr__(self) -> str:
        return (
            f"AggregationCheck({self.measure} -> {self.group_level}: median {self.statistic} = "
            f"{self.median_rwg:.3g}, icc1 = {self.icc.icc1:.3g}, icc2 = {self.icc.icc2:.3g}, "
            f"justified = {self.justified}; n = {self.icc.n})"
        )

    def __str__(self) -> str:
        text = (
            f"{self.measure} -> {self.group_level}: median {self.statistic} = {self.median_rwg:.2f}, "
            f"ICC(1) = {self.icc.icc1:.3f}, ICC(2) = {self.icc.icc2:.3f}, F({self.icc.df_between}, "
            f"{self.icc.df_within}) = {self.icc.f:.2f}, p = {self.icc.p:.3g}\n({self.icc.estimator})"
        )
        return text + "".join(f"\nwarning: {w}" for w in self.warnings)


def aggregation_check(
    items: Any,
    groups: Any,
    *,
    scores: Any = None,
    options: int | None = None,
    null_variance: float | None = None,
    measure: str = "measure",
    group_level: str = "group",
    rwg_threshold: float = RWG_THRESHOLD,
    icc2_threshold: float = ICC2_THRESHOLD,
    f_test_alpha: float = F_TEST_ALPHA,
) -> AggregationCheck:
    """rwg(j), ICC(1) and ICC(2) of one measure, with warnings where aggregation is not justified.

    Parameters
    ----------
    items : array-like or DataFrame
        The item responses (one column per item; one column for a single-item measure).
    groups : array-like
        Group of each respondent.
    scores : array-like, optional
        The scale scores for the ICCs (default: the mean of the answered items).
    options, null_variance
        The null distribution of rwg (see `rwg`).
    measure, group_level : str
        Names used in the result and its warnings: the measure, and the level (team, site) it would be
        aggregated to.
    rwg_threshold, icc2_threshold, f_test_alpha : float
        The conventions (module docstring); ``f_test_alpha`` is the significance level of the F test.
    """
    frame = _as_items(items)
    labels = _groups(groups, len(frame))
    sigma2 = _null_variance(options, null_variance)
    agreement = _agreement(frame, labels, sigma2)
    statistic = "rwg" if frame.shape[1] == 1 else "rwg(j)"
    values = (
        frame.mean(axis=1, skipna=True) if scores is None else pd.Series(np.asarray(scores, dtype="float64"))
    )
    result = icc(values.to_numpy(), labels.to_numpy())
    usable = agreement["rwg"].dropna()
    median_rwg = float(usable.median()) if len(usable) else math.nan
    mean_rwg = float(usable.mean()) if len(usable) else math.nan
    notes = []
    if not median_rwg >= rwg_threshold:
        notes.append(
            f"median {statistic} is {median_rwg:.2f}, below {rwg_threshold:.2f}: members of a {group_level} "
            "do not agree well enough for its mean to stand for the group "
            "(James et al. 1984; LeBreton & Senter 2008)"
        )
    if not result.icc2 >= icc2_threshold:
        notes.append(
            f"ICC(2) is {result.icc2:.2f}, below {icc2_threshold:.2f}: {group_level} means are not reliable "
            "(too few members per group or too little between-group variance; LeBreton & Senter 2008)"
        )
    if not result.p < f_test_alpha:
        notes.append(
            f"the {group_level}s do not differ (ANOVA F = {result.f:.2f}, p = {result.p:.3f}; ICC(1) = "
            f"{result.icc1:.3f}): aggregation adds no group-level information (Bliese 2000)"
        )
    return AggregationCheck(
        measure=measure,
        group_level=group_level,
        agreement=agreement.rename(columns={"rwg": "rwg" if statistic == "rwg" else "rwg_j"}),
        statistic=statistic,
        median_rwg=median_rwg,
        mean_rwg=mean_rwg,
        icc=result,
        options=options,
        null_variance=sigma2,
        thresholds={"rwg": rwg_threshold, "icc2": icc2_threshold, "f_test": f_test_alpha},
        warnings=tuple(notes),
    )


__all__ = [
    "ICC_ANOVA_ESTIMATOR",
    "AggregationCheck",
    "IccResult",
    "aggregation_check",
    "icc",
    "rwg",
    "rwg_j",
    "uniform_null_variance",
]
