"""Does a cluster-randomized strategy work in some sites and not others? The variance ratio of site means.

When whole sites are randomized, no site has both arms, so the strategy's effect cannot be estimated site by
site. It still leaves a trace: if the effect differs between sites (τ²_a > 0), the site means of the outcome
(here: the mechanism) spread more in the strategy arm than in the control arm, since

    Var(site mean | strategy) = τ²_u + τ²_a + σ²/n,     Var(site mean | control) = τ²_u + σ²/n.

`arm_variance_ratio` compares the two with the F test of a variance ratio, one-sided (more spread under the
strategy), after adjusting every recipient's value for covariates (the baseline) by pooled least squares,
so that stable differences between sites that the baseline captures do not mask a varying effect. The
moment estimate of τ²_a, the difference of the two variances, is reported too (floored at 0). Under random
assignment of sites the site sizes are exchangeable between the arms, so the sampling parts σ²/n cancel in
expectation; with very unequal site sizes the test is approximate.

Why hand-written: the F test itself is `scipy.stats.f`; no library offers the test of arm-specific
between-site variance on residualized site means (a mixed model with arm-specific random intercepts would,
at far greater cost and with boundary problems at τ² = 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from moclab.analysis import _arguments, _columns
from moclab.analysis._least_squares import least_squares
from moclab.analysis.meta import complete_cluster_rows
from moclab.analysis.results import AnalysisResult, Effect
from moclab.errors import DataError

__all__ = ["VarianceRatioResult", "arm_variance_ratio"]


@dataclass(frozen=True, repr=False)
class VarianceRatioResult(AnalysisResult):
    """Result of `arm_variance_ratio`.

    Effects: ``ratio`` (variance of site means in the strategy arm over the control arm, with its
    confidence interval and the one-sided p-value of the F test) and ``tau2_difference`` (the moment
    estimate of the variance of the strategy's effect across sites, no interval).

    Attributes
    ----------
    table : one row per cluster: cluster, arm (0/1), n, mean (the site mean of the adjusted values).
    """

    table: pd.DataFrame | None = None

    title = "Spread of site means by arm (heterogeneity of a site-level strategy's effect)"
    headline = ("ratio", "tau2_difference")


def arm_variance_ratio(
    data: pd.DataFrame,
    *,
    arm: str,
    y: str,
    cluster: str,
    covariates: Sequence[str] = (),
    level: float = 0.95,
) -> VarianceRatioResult:
    """F test of more spread of site means under the strategy than under the control (site-level arms).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per individual.
    arm : str
        The strategy, coded 1 (strategy) and 0 (control), constant within each cluster.
    y : str
        The numeric response whose site means are compared (the mechanism after the strategy began).
    cluster : str
        Column of the cluster (site).
    covariates : sequence of str
        Numeric covariates (the baseline value of `y`) adjusted for by pooled least squares before the site
        means are taken.
    level : float
        Confidence level of the interval of the ratio.

    Returns
    -------
    VarianceRatioResult

    Raises
    ------
    DataError
        Unknown or non-numeric columns, an arm that is not 0/1 or varies within a cluster, fewer than two
        clusters in an arm.

    Notes
    -----
    With k₁ strategy and k₀ control clusters and site means m̄ of the adjusted values, F = s₁² / s₀² has an
    F(k₁ − 1, k₀ − 1) distribution when the between-site variance is the same in both arms; the p-value is
    P(F' ≥ F) and the interval of the ratio of the two variances is [F / F_{1−α/2}, F / F_{α/2}] (Snedecor &
    Cochran 1989, §6.12). The test assumes site means that are roughly normal (averages of many recipients).

    References
    ----------
    Snedecor, G. W., & Cochran, W. G. (1989). *Statistical Methods* (8th ed.). Iowa State University Press.
    Raudenbush, S. W., & Bloom, H. S. (2015). Learning about and from a distribution of program impacts
    using multisite trials. *American Journal of Evaluation*, 36(4), 475–499.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(11)
    >>> site = np.repeat(np.arange(40), 30)
    >>> arm = (site % 2).astype(float)
    >>> works = rng.random(40) < 0.5  # the strategy works in about half the sites
    >>> trust = 0.8 * arm * works[site] + rng.normal(0, 0.2, 40)[site] + rng.normal(size=1200)
    >>> frame = pd.DataFrame({"site": site, "arm": arm, "trust": trust})
    >>> result = arm_variance_ratio(frame, arm="arm", y="trust", cluster="site")
    >>> bool(result.effect("ratio").p < 0.05)
    True
    """
    _arguments.check(level=level)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    frame, notes = complete_cluster_rows(data, {"arm": arm, "response y": y}, covariates, cluster)
    if not set(np.unique(frame[arm])) <= {0.0, 1.0}:
        raise DataError(
            f"the arm '{arm}' must be coded 0 (control) and 1 (strategy)",
            hint=f"recode '{arm}' as 1 = the strategy arm, 0 = the control arm",
        )
    per_cluster = frame.groupby(cluster, observed=True)[arm].nunique()
    if (per_cluster > 1).any():
        raise DataError(
            f"the arm '{arm}' varies within {int((per_cluster > 1).sum())} cluster(s) of '{cluster}'",
            hint="with the strategy assigned within sites, estimate each site's effect instead "
            "(cluster_indirect_effects)",
        )
    response = frame[y].to_numpy(dtype=np.float64)
    if covariates:
        design = np.column_stack([np.ones(len(frame)), frame[covariates].to_numpy(dtype=np.float64)])
        _columns.check_full_rank(design, ["intercept", *covariates], "covariate adjustment")
        response = least_squares(design, response).residuals
    table = (
        pd.DataFrame({"cluster": frame[cluster].astype(str).to_numpy(), "arm": frame[arm], "value": response})
        .groupby("cluster", observed=True, sort=False)
        .agg(arm=("arm", "first"), n=("value", "size"), mean=("value", "mean"))
        .reset_index()
    )
    groups = [table.loc[table["arm"] == code, "mean"].to_numpy() for code in (1.0, 0.0)]
    if min(group.size for group in groups) < 2:
        raise DataError(
            f"each arm needs at least two clusters of '{cluster}' (strategy: {groups[0].size}, control: "
            f"{groups[1].size})"
        )
    var_strategy, var_control = (float(np.var(group, ddof=1)) for group in groups)
    df_strategy, df_control = groups[0].size - 1, groups[1].size - 1
    if var_control <= 0:
        raise DataError("the control arm's site means do not vary, so no variance ratio can be formed")
    ratio = var_strategy / var_control
    p = float(stats.f.sf(ratio, df_strategy, df_control))
    alpha = 1 - level
    low = ratio / stats.f.ppf(1 - alpha / 2, df_strategy, df_control)
    high = ratio / stats.f.ppf(alpha / 2, df_strategy, df_control)
    effects = (
        Effect("ratio", "variance_ratio", ratio, None, float(low), float(high), p, "F"),
        Effect("tau2_difference", "variance", max(var_strategy - var_control, 0.0)),
    )
    info = {
        "method": "F test of the variance ratio of adjusted site means, strategy over control, one-sided",
        "n": len(frame),
        "n_clusters": len(table),
        "clusters_per_arm": {"strategy": groups[0].size, "control": groups[1].size},
        "variances": {"strategy": var_strategy, "control": var_control},
        "df": [df_strategy, df_control],
        "covariates": covariates,
        "level": level,
    }
    return VarianceRatioResult(effects=effects, info=info, warnings=tuple(notes), table=table)
