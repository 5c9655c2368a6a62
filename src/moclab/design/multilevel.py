"""Analytic power for mediation in two-level trials, and the cheapest allocation of sites and recipients.

`moclab.design.power_analysis` simulates whole studies; this module answers the same planning question in
milliseconds from closed-form standard errors of the a and b paths, for the designs the multilevel
mediation literature has formulas for:

* **2-1-1**: sites randomized (the strategy is a site-level variable), the mechanism and the outcome
  measured on recipients. The indirect effect runs between sites: a (strategy → site mean of the
  mechanism) times B (site mean of the mechanism → outcome). Standard errors of Kelcey, Dong & Spybrook
  (2017), as in PowerUpR's ``power.med211``.
* **2-2-1**: sites randomized, a site-level mechanism (a team climate score, say), a recipient-level
  outcome. Kelcey, Dong & Spybrook (2017), as PowerUpR's ``power.med221``.
* **1-1-1**: recipients randomized within sites (a multisite trial), mechanism and outcome on recipients;
  the site-specific effect of the strategy on the mechanism may vary between sites (variance ω). Standard
  errors of the odr package's ``power.2m.111`` (Shen & Kelcey). A continuous recipient-level exposure (a
  dose) is not covered by these formulas.

Every effect is standardized: a is the difference between arms in standard deviations of the mechanism's
total (unconditional) variance, b the change in the outcome, in its total SDs, per total SD of the
mechanism; the ICCs are the unconditional between-site shares of variance (they include the variance the
strategy explains between sites). Power of a path is that of a two-sided t test with the formulas'
degrees of freedom (noncentral t); the indirect effect is tested by

* the **Sobel test** (a normal test of a·b with the first-order delta-method SE
  sqrt(a²·SE(b)² + b²·SE(a)²), Sobel 1982);
* the **joint-significance test** (both paths significant; power = power(a) · power(b), the estimates
  being independent);
* the **Monte Carlo interval test** (the indirect effect is significant when the α/2 and 1 − α/2
  quantiles of products of draws from N(â, SE(a)²) and N(b̂, SE(b)²) exclude 0; power is the share of
  simulated (â, b̂) for which it does, Preacher & Selig 2012; vectorized draws).

`optimal_allocation` spends a budget (or reaches a target power at the least cost) with unequal costs per
site and per recipient, as the odr package does (Shen & Kelcey, 2020): for every number of recipients per
site it takes the sites the budget buys (or the fewest sites that reach the target) and keeps the best.

References
----------
Kelcey, B., Dong, N., & Spybrook, J. (2017). Power for mediation effects in two- and three-level
cluster-randomized trials. *Journal of Research on Educational Effectiveness*, 10(2), 343-369.
Bulus, M., Dong, N., Kelcey, B., & Spybrook, J. (2021). PowerUpR: Power analysis tools for multilevel
randomized experiments (R package 1.1.0), functions ``power.med211`` and ``power.med221``.
Shen, Z., & Kelcey, B. (2020). Optimal sample allocation under unequal costs in cluster-randomized trials.
*Journal of Educational and Behavioral Statistics*, 45(4), 446-474. (R package odr, ``power.2m.111``.)
Raudenbush, S. W. (1997). Statistical analysis and optimal design for cluster randomized trials.
*Psychological Methods*, 2(2), 173-185.
Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for indirect effects.
*Communication Methods and Measures*, 6(2), 77-98.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from moclab.analysis.bootstrap import SeedLike, as_generator
from moclab.errors import MoclabError

__all__ = [
    "DESIGNS",
    "TESTS",
    "Allocation",
    "MultilevelMediationDesign",
    "multilevel_power",
    "optimal_allocation",
    "path_power",
    "path_standard_errors",
]

DESIGNS = ("2-1-1", "2-2-1", "1-1-1")
#: Tests of the indirect effect; ``a`` and ``b`` ask for the power of one path alone.
TESTS = ("joint", "sobel", "monte_carlo")
_ALLOCATION_TESTS = ("joint", "sobel", "a", "b")
#: Degrees of freedom of the Sobel test: a normal test (PowerUpR passes 1e8 to its t-based power function).
_NORMAL = math.inf
#: Noncentrality beyond which a NaN from scipy's noncentral t is a tail too deep to compute (`path_power`).
_FAR = 8.0


@dataclass(frozen=True)
class MultilevelMediationDesign:
    """The effects and variance structure of a two-level mediation study (everything but its size).

    Parameters (PowerUpR's / odr's name in brackets)
    -------------------------------------------------
    design : "2-1-1", "2-2-1" or "1-1-1"
        Levels of strategy, mechanism and outcome (see the module docstring).
    a : float
        Effect of the strategy on the mechanism, in total SDs of the mechanism [esa; odr a].
    b : float
        2-1-1: the between-site path B, outcome on the site mean of the mechanism [esB]; 2-2-1: the path
        of the site-level mechanism [esb]; 1-1-1: the within-site path of the mechanism [odr b].
    icc_y : float
        ICC of the outcome, in [0, 1) [rho2; odr icc].
    icc_m : float
        ICC of the mechanism (2-1-1 [rhom2] and 1-1-1 [odr icc.m]); not used by 2-2-1, whose mechanism
        is a site-level variable.
    b_within : float
        2-1-1 only: the within-site slope of the mechanism on the outcome [esb1]; it carries no indirect
        effect of a site-level strategy but takes within-site outcome variance.
    direct : float
        The direct effect c' of the strategy on the outcome, in total SDs of the outcome [escp]; used by
        2-1-1 and 2-2-1.
    r2_m1, r2_m2 : float
        Shares of the mechanism's level-1 (within-site) and level-2 (between-site) variance explained by
        covariates [r2m1, r2m2; odr r12m, r22m].
    r2_y1, r2_y2 : float
        Same for the outcome [r21, r22; odr r12].
    a_variance : float
        1-1-1 only: variance of the site-specific effects of the strategy on the mechanism, in units of
        the mechanism's total variance [odr omega]; 0 for a constant effect.
    p : float
        Share of sites (2-1-1, 2-2-1) or of recipients within each site (1-1-1) given the strategy.
    alpha : float
        Two-sided significance level.
    """

    design: str
    a: float
    b: float
    icc_y: float
    icc_m: float | None = None
    b_within: float = 0.0
    direct: float = 0.0
    r2_m1: float = 0.0
    r2_m2: float = 0.0
    r2_y1: float = 0.0
    r2_y2: float = 0.0
    a_variance: float = 0.0
    p: float = 0.5
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise MoclabError(f"design {self.design!r} is not known", hint=f"choose {', '.join(DESIGNS)}")
        for name in ("a", "b", "b_within", "direct", "a_variance"):
            if not math.isfinite(float(getattr(self, name))):
                raise MoclabError(f"{name} must be a finite number, got {getattr(self, name)!r}")
        if self.a_variance < 0:
            raise MoclabError(f"a_variance is a variance, at least 0; got {self.a_variance}")
        if self.design != "2-2-1" and self.icc_m is None:
            raise MoclabError(f"a {self.design} design needs icc_m, the ICC of the mechanism")
        for name in ("icc_y", "icc_m"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 1:
                raise MoclabError(
                    f"{name} {value}: an ICC lies in [0, 1)", hint="the share of variance between sites"
                )
        for name in ("r2_m1", "r2_m2", "r2_y1", "r2_y2"):
            if not 0 <= getattr(self, name) < 1:
                raise MoclabError(f"{name} {getattr(self, name)}: an R² of covariates lies in [0, 1)")
        if not 0 < self.p < 1:
            raise MoclabError(f"p {self.p}: the treated share lies in (0, 1)", hint="e.g. p=0.5")
        if not 0 < self.alpha < 1:
            raise MoclabError(f"alpha {self.alpha}: a significance level lies in (0, 1)")
        problem = _infeasible(self)
        if problem:
            raise MoclabError(
                f"these effects cannot hold together with these ICCs and R²: {problem}",
                hint="smaller effects, or a larger ICC of the variable they act on",
            )

    @property
    def min_sites(self) -> int:
        """Fewest sites with a positive number of degrees of freedom for every path."""
        return {"2-1-1": 6, "2-2-1": 5, "1-1-1": 2}[self.design]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _variance_parts(d: MultilevelMediationDesign) -> dict[str, float]:
    """The residual variances the standard errors are made of (Kelcey et al., 2017; odr's power.2m.111)."""
    pq = d.p * (1 - d.p)
    if d.design == "2-1-1":
        icc_m = float(d.icc_m or 0.0)
        return {
            # between-site variance of the mechanism given the strategy and covariates
            "tau2_m": icc_m * (1 - d.r2_m2) - pq * d.a**2,
            # within-site variance of the mechanism given covariates
            "sigma2_m": (1 - icc_m) * (1 - d.r2_m1),
            # within-site variance of the outcome given the mechanism's within-site slope and covariates
            "sigma2_y": (1 - d.icc_y) * (1 - d.r2_y1) - (1 - icc_m) * d.b_within**2 * (1 - d.r2_m1),
        }
    if d.design == "2-2-1":
        return {
            "tau2_m": 1 - d.r2_m2 - pq * d.a**2,
            "tau2_y": d.icc_y * (1 - d.r2_y2)
            - pq * (d.a * d.b + d.direct) ** 2
            - d.b**2 * (1 - d.r2_m2 - pq * d.a**2),
            "sigma2_y": (1 - d.icc_y) * (1 - d.r2_y1),
        }
    icc_m = float(d.icc_m or 0.0)
    return {"sigma2_m": (1 - icc_m) * (1 - d.r2_m1), "sigma2_y": (1 - d.icc_y) * (1 - d.r2_y1)}


def _infeasible(d: MultilevelMediationDesign) -> str:
    parts = _variance_parts(d)
    labels = {
        "tau2_m": "the between-site variance of the mechanism left after the strategy",
        "tau2_y": "the between-site variance of the outcome left after the strategy and the mechanism",
        "sigma2_m": "the within-site variance of the mechanism",
        "sigma2_y": "the within-site variance of the outcome left after the mechanism",
    }
    bad = [f"{labels[name]} would be {value:.3g}" for name, value in parts.items() if value <= 0]
    if d.design == "2-1-1" and not bad:
        # B's residual variance also depends on the cluster size; it is smallest for large sites.
        tau2_y = _tau2_y_211(d, parts, np.array([1e9]))[0]
        if tau2_y <= 0:
            bad.append(f"{labels['tau2_y']} would be {tau2_y:.3g}")
    return "; ".join(bad)


def _tau2_y_211(d: MultilevelMediationDesign, parts: dict[str, float], n: np.ndarray) -> np.ndarray:
    """Between-site outcome variance given the strategy and the observed site mean of the mechanism."""
    pq = d.p * (1 - d.p)
    var_mean_m = parts["tau2_m"] + parts["sigma2_m"] / n
    return d.icc_y * (1 - d.r2_y2) - pq * (d.a * d.b + d.direct) ** 2 - d.b**2 * var_mean_m


def _grid(sites: Any, per_site: Any) -> tuple[np.ndarray, np.ndarray]:
    j = np.asarray(sites, dtype=float)
    n = np.asarray(per_site, dtype=float)
    if np.any(~np.isfinite(j)) or np.any(j < 1) or np.any(~np.isfinite(n)) or np.any(n < 1):
        raise MoclabError("the numbers of sites and of recipients per site must be at least 1")
    return np.broadcast_arrays(j, n)  # type: ignore[return-value]


def path_standard_errors(
    design: MultilevelMediationDesign, sites: Any, per_site: Any
) -> dict[str, np.ndarray]:
    """Standard errors and degrees of freedom of the paths for J `sites` of n recipients (arrays broadcast).

    Returns ``{"a": se_a, "b": se_b, "df_a": ..., "df_b": ...}`` (and ``b_within``, ``df_b_within`` for
    2-1-1). The formulas (standardized effects, see `MultilevelMediationDesign`; pq = p(1 − p)):

    * 2-1-1 (Kelcey, Dong & Spybrook 2017; PowerUpR ``power.med211``): with τ²_M = ρ_M(1 − R²_M2) − pq·a²,
      σ²_M = (1 − ρ_M)(1 − R²_M1), σ²_Y = (1 − ρ_Y)(1 − R²_Y1) − (1 − ρ_M)(1 − R²_M1)·b_W² and
      τ²_Y = ρ_Y(1 − R²_Y2) − pq(a·B + c')² − B²(τ²_M + σ²_M/n):
      Var(a) = (τ²_M + σ²_M/n) / (J·pq), df J − 4;
      Var(B) = (τ²_Y + σ²_Y/n) / (J(τ²_M + σ²_M/n)), df J − 5;
      Var(b_W) = σ²_Y / (J(n − 1)σ²_M), df nJ − 3.
    * 2-2-1 (same sources, ``power.med221``): Var(a) = (1 − R²_M2 − pq·a²)/(J·pq);
      Var(b) = (τ²_Y + (1 − ρ_Y)(1 − R²_Y1)/n) / (J(1 − R²_M2 − pq·a²)) with
      τ²_Y = ρ_Y(1 − R²_Y2) − pq(a·b + c')² − b²(1 − R²_M2 − pq·a²); df J − 4 for both.
    * 1-1-1 (odr ``power.2m.111``): Var(a) = (ω(1 − R²_M2)·pq·n + (1 − ρ_M)(1 − R²_M1)) / (pq·n·J),
      df J − 1; Var(b) = (1 − ρ_Y)(1 − R²_Y1) / (J·n(1 − ρ_M)(1 − R²_M1)), df J(n − 1).
    """
    j, n = _grid(sites, per_site)
    d = design
    parts = _variance_parts(d)
    pq = d.p * (1 - d.p)
    out: dict[str, np.ndarray] = {}
    if d.design == "2-1-1":
        var_mean_m = parts["tau2_m"] + parts["sigma2_m"] / n
        var_mean_y = _tau2_y_211(d, parts, n) + parts["sigma2_y"] / n
        out["a"] = np.sqrt(var_mean_m / (j * pq))
        out["b"] = np.sqrt(var_mean_y / (j * var_mean_m))
        with np.errstate(divide="ignore"):
            out["b_within"] = np.sqrt(parts["sigma2_y"] / ((j * n - j) * parts["sigma2_m"]))
        out["df_a"], out["df_b"], out["df_b_within"] = j - 4, j - 5, n * j - 3
    elif d.design == "2-2-1":
        out["a"] = np.sqrt(parts["tau2_m"] / (pq * j))
        out["b"] = np.sqrt((parts["tau2_y"] + parts["sigma2_y"] / n) / (j * parts["tau2_m"]))
        out["df_a"], out["df_b"] = j - 4, j - 4
    else:
        var_a = (d.a_variance * (1 - d.r2_m2) * pq * n + parts["sigma2_m"]) / (pq * n * j)
        out["a"] = np.sqrt(var_a)
        out["b"] = np.sqrt(parts["sigma2_y"] / (j * n * parts["sigma2_m"]))
        out["df_a"], out["df_b"] = j - 1, j * (n - 1)
    return out


def path_power(effect: float, se: Any, df: Any, alpha: float = 0.05) -> np.ndarray:
    """Power of a two-sided t test of `effect` with standard error `se` and `df` degrees of freedom.

    P(|T| > t_{1−α/2, df}) for T noncentral t with noncentrality effect/se (a normal test when df is
    infinite); NaN where df < 1 (too few sites for the path).

    Examples
    --------
    >>> round(float(path_power(0.5, 0.2, float("inf"))), 4)  # normal: Φ(2.5 − 1.96) + Φ(−2.5 − 1.96)
    0.7054
    """
    se_arr, df_arr = np.broadcast_arrays(np.asarray(se, dtype=float), np.asarray(df, dtype=float))
    # The test is two-sided, so the sign of the effect does not matter; |ncp| keeps the tiny
    # wrong-direction tail in the lower term.
    ncp = np.abs(effect / se_arr)
    result = np.full(se_arr.shape, np.nan)
    normal = np.isinf(df_arr)
    if normal.any():
        z = stats.norm.ppf(1 - alpha / 2)
        result[normal] = stats.norm.sf(z - ncp[normal]) + stats.norm.cdf(-z - ncp[normal])
    usable = ~normal & (df_arr >= 1)
    if usable.any():
        t = stats.t.ppf(1 - alpha / 2, df_arr[usable])
        far = ncp[usable] > _FAR
        right = stats.nct.sf(t, df_arr[usable], ncp[usable])
        wrong = stats.nct.cdf(-t, df_arr[usable], ncp[usable])
        # scipy's noncentral t returns NaN deep in a tail (|ncp| of 30 and df in the thousands); there
        # the right tail is 1 and the wrong one 0 to double precision.
        right = np.where(np.isnan(right) & far, 1.0, right)
        wrong = np.where(np.isnan(wrong) & far, 0.0, wrong)
        result[usable] = right + wrong
    return result


def _sobel_power(design: MultilevelMediationDesign, se: dict[str, np.ndarray]) -> np.ndarray:
    a, b = design.a, design.b
    se_ab = np.sqrt(a**2 * se["b"] ** 2 + b**2 * se["a"] ** 2)
    return path_power(a * b, se_ab, _NORMAL, design.alpha)


def monte_carlo_interval_power(
    a: float,
    b: float,
    se_a: float,
    se_b: float,
    *,
    alpha: float = 0.05,
    n_sims: int = 2000,
    n_draws: int = 2000,
    rng: np.random.Generator,
) -> float:
    """Power of the Monte Carlo interval test of a·b for independent normal estimates of a and b.

    `n_sims` studies draw (â, b̂) from N(a, se_a²) and N(b, se_b²); in each, `n_draws` products of draws
    from N(â, se_a²) and N(b̂, se_b²) give the interval, and the study counts when it excludes 0. All
    draws at once (an n_sims × n_draws array); the same standard-normal draws serve every study, which
    changes nothing about each study's interval but halves the random numbers.
    """
    a_hat = a + se_a * rng.standard_normal(n_sims)
    b_hat = b + se_b * rng.standard_normal(n_sims)
    products = (a_hat[:, None] + se_a * rng.standard_normal(n_draws)) * (
        b_hat[:, None] + se_b * rng.standard_normal(n_draws)
    )
    low, high = np.quantile(products, [alpha / 2, 1 - alpha / 2], axis=1)
    return float(np.mean((low > 0) | (high < 0)))


def multilevel_power(
    design: MultilevelMediationDesign,
    sites: Iterable[int] | int,
    per_site: Iterable[int] | int,
    *,
    tests: Sequence[str] = TESTS,
    n_sims: int = 2000,
    n_draws: int = 2000,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Power of the a and b paths and of the indirect effect for every number of sites × recipients per site.

    Parameters
    ----------
    design : MultilevelMediationDesign
        Effects, ICCs, R², treated share and α.
    sites, per_site : int or iterable of int
        Numbers of sites J and of recipients per site n; every combination is computed.
    tests : sequence of str
        Tests of the indirect effect among ``joint``, ``sobel``, ``monte_carlo`` (the last is simulated:
        `n_sims` studies of `n_draws` draws each, with Monte Carlo SE sqrt(p(1 − p)/n_sims)).
    seed : int, Generator or None
        For the Monte Carlo interval test.

    Returns
    -------
    pandas.DataFrame
        One row per design: ``sites``, ``per_site``, ``recipients``, ``se_a``, ``se_b``, ``power_a``,
        ``power_b`` (2-1-1 adds ``se_b_within``, ``power_b_within``), one ``power_<test>`` column per
        test and, with the Monte Carlo test, ``mc_se``. Power is NaN where J is below
        ``design.min_sites`` (no degrees of freedom).

    Examples
    --------
    >>> d = MultilevelMediationDesign("2-2-1", a=0.6596, b=0.1891, direct=0.1, icc_y=0.15,
    ...                               r2_y2=0.52, r2_y1=0.40, r2_m2=0.50)
    >>> table = multilevel_power(d, sites=40, per_site=100, tests=["joint"])
    >>> table[["power_a", "power_b", "power_joint"]].round(3).to_dict("records")
    [{'power_a': 0.901, 'power_b': 0.9, 'power_joint': 0.81}]
    """
    unknown = [t for t in tests if t not in TESTS]
    if unknown:
        raise MoclabError(f"unknown test(s) {', '.join(unknown)}", hint=f"choose from {', '.join(TESTS)}")
    j_values = sorted({int(v) for v in np.atleast_1d(np.asarray(list(_iterable(sites))))})
    n_values = sorted({int(v) for v in np.atleast_1d(np.asarray(list(_iterable(per_site))))})
    j, n = (x.ravel() for x in np.meshgrid(j_values, n_values, indexing="ij"))
    se = path_standard_errors(design, j, n)
    table = pd.DataFrame({"design": design.design, "sites": j, "per_site": n, "recipients": j * n})
    table["se_a"], table["se_b"] = se["a"], se["b"]
    table["power_a"] = path_power(design.a, se["a"], se["df_a"], design.alpha)
    table["power_b"] = path_power(design.b, se["b"], se["df_b"], design.alpha)
    if "b_within" in se:
        table["se_b_within"] = se["b_within"]
        table["power_b_within"] = path_power(design.b_within, se["b_within"], se["df_b_within"], design.alpha)
    feasible = j >= design.min_sites
    if "joint" in tests:
        table["power_joint"] = table["power_a"] * table["power_b"]
    if "sobel" in tests:
        table["power_sobel"] = np.where(feasible, _sobel_power(design, se), np.nan)
    if "monte_carlo" in tests:
        rng = as_generator(seed)
        table["power_monte_carlo"] = [
            monte_carlo_interval_power(
                design.a, design.b, sa, sb, alpha=design.alpha, n_sims=n_sims, n_draws=n_draws, rng=rng
            )
            if ok
            else np.nan
            for sa, sb, ok in zip(se["a"], se["b"], feasible, strict=True)
        ]
        power = table["power_monte_carlo"]
        table["mc_se"] = np.sqrt(power * (1 - power) / n_sims)
    return table


def _iterable(values: Iterable[int] | int) -> Iterable[int]:
    return [values] if isinstance(values, int | np.integer) else values


# --------------------------------------------------------------------------------------------------------
# Budget-optimal allocation
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Allocation:
    """The best allocation found by `optimal_allocation`, with the best design for every site size.

    ``table`` has one row per number of recipients per site considered: ``per_site``, ``sites``,
    ``cost`` and ``power`` (of `test`), best-for-that-size; ``sites`` is NaN where no number of sites
    works (too few for the budget, or the target out of reach within ``max_sites``).
    """

    design: MultilevelMediationDesign
    test: str
    sites: int
    per_site: int
    cost: float
    power: float
    cost_site: float
    cost_recipient: float
    budget: float | None = None
    target: float | None = None
    table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def sentence(self) -> str:
        what = (
            f"the {self.test} test of the indirect effect" if self.test in TESTS else f"the {self.test} path"
        )
        size = f"{self.sites} sites of {self.per_site} recipients"
        if self.budget is not None:
            return (
                f"Within a budget of {self.budget:,.0f}: {size} (cost {self.cost:,.0f}) give {what} the most "
                f"power, {self.power:.3f}."
            )
        return (
            f"Cheapest design reaching power {self.target:.2f} for {what}: {size}, cost {self.cost:,.0f} "
            f"(power {self.power:.3f})."
        )

    def __repr__(self) -> str:
        return (
            f"Allocation({self.design.design}: {self.sites} sites × {self.per_site}, {self.test} power "
            f"{self.power:.3f}, cost {self.cost:,.0f})"
        )

    def neighbours(self, k: int = 3) -> pd.DataFrame:
        """The best design of the `k` usable site sizes on either side of the chosen one: how flat the
        optimum is."""
        frame = self.table.dropna(subset=["power"]).reset_index(drop=True)
        at = int(np.flatnonzero(frame["per_site"].to_numpy() == self.per_site)[0])
        return frame.iloc[max(0, at - k) : at + k + 1]

    def summary(self) -> str:
        """The sentence, then the best design of the site sizes around the chosen one."""
        table = self.neighbours().to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return f"{self.sentence()}\n\n{table}"

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        """The best design of every site size considered (``table``)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        import html

        return f"<div><strong>{html.escape(self.sentence())}</strong></div>"

    def to_dict(self) -> dict[str, Any]:
        rows = self.table.astype(object).where(self.table.notna(), None).to_dict("records")
        return {
            "table": rows,
            "design": self.design.to_dict(),
            "test": self.test,
            "sites": self.sites,
            "per_site": self.per_site,
            "cost": self.cost,
            "power": self.power,
            "cost_site": self.cost_site,
            "cost_recipient": self.cost_recipient,
            "budget": self.budget,
            "target": self.target,
        }


def _power_of(design: MultilevelMediationDesign, test: str, j: np.ndarray, n: np.ndarray) -> np.ndarray:
    se = path_standard_errors(design, j, n)
    if test == "a":
        return path_power(design.a, se["a"], se["df_a"], design.alpha)
    if test == "b":
        return path_power(design.b, se["b"], se["df_b"], design.alpha)
    if test == "sobel":
        return np.where(j >= design.min_sites, _sobel_power(design, se), np.nan)
    return path_power(design.a, se["a"], se["df_a"], design.alpha) * path_power(
        design.b, se["b"], se["df_b"], design.alpha
    )


def optimal_allocation(
    design: MultilevelMediationDesign,
    *,
    cost_site: float,
    cost_recipient: float,
    budget: float | None = None,
    target: float | None = None,
    test: str = "joint",
    per_site: Iterable[int] = range(2, 201),
    max_sites: int = 100_000,
) -> Allocation:
    """The number of recipients per site (and of sites) that makes the most of a budget, or the cheapest
    design that reaches a target power, with unequal costs per site and per recipient.

    A design of J sites of n recipients costs J·(cost_site + n·cost_recipient). With a `budget`, every n
    in `per_site` gets J = floor(budget / (cost_site + n·cost_recipient)) sites and the n with the most
    power wins; with a `target`, every n gets the fewest sites whose power reaches it (power rises with
    J: a bisection, all n at once) and the cheapest wins. Ties go to the cheaper design. The treated share
    is the design's `p`. The search is exhaustive over the whole numbers in `per_site`, as odr's solvers
    are over a continuous range (Shen & Kelcey, 2020); for the main effect of a site-randomized strategy
    it recovers Raudenbush's (1997) n* = sqrt((cost_site/cost_recipient)·(1 − ρ)/ρ).

    Parameters
    ----------
    test : str
        ``joint`` or ``sobel`` (the indirect effect), or ``a`` / ``b`` (one path). The Monte Carlo
        interval test is not offered: its simulated power is too noisy to rank neighbouring designs.

    Raises
    ------
    MoclabError
        Neither or both of budget and target; a cost below 0 or both 0; a budget below the cost of the
        fewest sites the design needs; a target outside (0, 1) or not reached with `max_sites` sites.

    Examples
    --------
    >>> d = MultilevelMediationDesign("2-1-1", a=0.5, b=0.4, icc_m=0.1, icc_y=0.15)
    >>> best = optimal_allocation(d, cost_site=2000, cost_recipient=100, budget=200_000)
    >>> best.per_site, best.sites, round(best.power, 3)
    (3, 86, 0.916)
    """
    if (budget is None) == (target is None):
        raise MoclabError("give either a budget or a target power (one of them)")
    if test not in _ALLOCATION_TESTS:
        raise MoclabError(f"test {test!r} is not offered", hint=f"choose {', '.join(_ALLOCATION_TESTS)}")
    for name, cost in (("cost_site", cost_site), ("cost_recipient", cost_recipient)):
        if not math.isfinite(cost) or cost < 0:
            raise MoclabError(f"{name} {cost}: a cost is a number of at least 0")
    if cost_site + cost_recipient <= 0:
        raise MoclabError("cost_site and cost_recipient are both 0: every design is free")
    sizes = np.array(sorted({int(v) for v in per_site}), dtype=float)
    if sizes.size == 0 or sizes[0] < 2:
        raise MoclabError("per_site: give sizes of at least 2 recipients per site")
    unit = cost_site + sizes * cost_recipient
    smallest = design.min_sites * float(unit.min())
    if budget is not None:
        if not math.isfinite(budget) or budget < smallest:
            raise MoclabError(
                f"a budget of {budget:,.0f} does not pay for the {design.min_sites} sites a {design.design} "
                f"design needs at the least (cost {smallest:,.0f})",
                hint="raise the budget or lower the costs",
            )
        j = np.floor(budget / unit)
        power = _power_of(design, test, np.maximum(j, 1), sizes)
        power = np.where(j >= design.min_sites, power, np.nan)
    else:
        if not 0 < float(target) < 1:  # type: ignore[arg-type]
            raise MoclabError(f"target {target}: a power lies between 0 and 1")
        j, power = _fewest_sites(design, test, sizes, float(target), max_sites)  # type: ignore[arg-type]
    cost = j * unit
    table = pd.DataFrame({"per_site": sizes.astype(int), "sites": j, "cost": cost, "power": power})
    table.loc[table["power"].isna(), ["sites", "cost"]] = np.nan
    usable = table.dropna(subset=["power"])
    if usable.empty:
        raise MoclabError(
            f"power {target} is not reached with up to {max_sites:,} sites for any site size",
            hint="larger effects, or covariates that explain more variance",
        )
    if budget is not None:
        best = usable.sort_values(["power", "cost"], ascending=[False, True], kind="stable").iloc[0]
    else:
        best = usable.sort_values(["cost", "power"], ascending=[True, False], kind="stable").iloc[0]
    return Allocation(
        design=design,
        test=test,
        sites=int(best["sites"]),
        per_site=int(best["per_site"]),
        cost=float(best["cost"]),
        power=float(best["power"]),
        cost_site=float(cost_site),
        cost_recipient=float(cost_recipient),
        budget=None if budget is None else float(budget),
        target=None if target is None else float(target),
        table=table,
    )


def _fewest_sites(
    design: MultilevelMediationDesign, test: str, sizes: np.ndarray, target: float, max_sites: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per site size, the fewest sites whose power reaches `target` (NaN if `max_sites` does not)."""
    low = np.full(sizes.shape, float(design.min_sites))
    high = np.full(sizes.shape, float(max_sites))
    reached_high = _power_of(design, test, high, sizes) >= target
    reached_low = _power_of(design, test, low, sizes) >= target
    # Invariant for the sizes still searched: power(low) < target <= power(high).
    while True:
        open_ = reached_high & ~reached_low & (high - low > 1)
        if not open_.any():
            break
        mid = np.floor((low + high) / 2)
        ok = _power_of(design, test, mid, sizes) >= target
        high = np.where(open_ & ok, mid, high)
        low = np.where(open_ & ~ok, mid, low)
    sites = np.where(reached_low, low, np.where(reached_high, high, np.nan))
    power = np.where(np.isnan(sites), np.nan, _power_of(design, test, np.nan_to_num(sites, nan=1.0), sizes))
    return sites, power
