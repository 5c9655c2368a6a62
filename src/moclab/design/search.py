"""The smallest (or cheapest) design that reaches a target power, from a power grid and a smooth fit.

Simulated power at a handful of sizes is noisy (each value has a Monte Carlo SE of sqrt(p(1-p)/R)). Rather
than reading off the first grid size that happens to cross the target, the search fits a logistic
regression of the replications' successes on log(size), a binomial GLM with counts (statsmodels), which
pools every replication of every grid point:

    logit P(success | size) = β0 + β1 · log(size)

and solves it for the target power, ``size* = exp((logit(target) - β0) / β1)``, with a delta-method interval.
This is the approach of Schoemann, Miller, Pornprasermanit & Wu (2014) and of the mediation power app of
Schoemann, Boulton & Short (2017), who fit power against sample size by logistic regression over
replications with varying N. The grid evidence (observed power ± SE at each size, and which sizes reached
the target) is reported beside the fit.

With costs per site and per recipient and a grid over both sites and recipients per site, the fit has
both logs as predictors and the cheapest combination (within the grid's ranges) whose fitted power reaches
the target is reported, with the cheapest grid design that reached it.

References
----------
Schoemann, A. M., Boulton, A. J., & Short, S. D. (2017). Determining power and sample size for simple and
complex mediation models. *Social Psychological and Personality Science*, 8(4), 379-386.
Schoemann, A. M., Miller, P., Pornprasermanit, S., & Wu, W. (2014). Using Monte Carlo simulations to
determine power and sample size for planned missing designs. *International Journal of Behavioral
Development*, 38(5), 471-479.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from moclab.design.results import PowerResult, SampleSizeResult, design_text
from moclab.errors import MoclabError

__all__ = ["answer_quantities", "design_cost", "next_sweep", "power_answers", "sample_size_search"]

DIMENSIONS = ("sites", "per_site", "waves")
#: The unit of each design dimension, in sentences.
UNITS = {"sites": "sites", "per_site": "recipients per site", "waves": "waves"}


def design_cost(
    sites: float, per_site: float, cost_site: float | None, cost_recipient: float | None
) -> float:
    """Cost of a design: ``sites · cost_site + sites · per_site · cost_recipient``.

    A cost left out (None) counts as 0.

    Examples
    --------
    >>> from moclab.design import design_cost
    >>> design_cost(20, 30, cost_site=5000, cost_recipient=100)
    160000.0
    >>> design_cost(20, 30, cost_site=None, cost_recipient=100)
    60000.0
    """
    return float(sites) * float(cost_site or 0.0) + float(sites) * float(per_site) * float(
        cost_recipient or 0.0
    )


SEPARATION_NOTE = (
    "the observed power is 0 or 1 at every grid size on one side of the target, so the logistic fit is not "
    "identified (perfect separation): read the grid evidence, or add sizes where power lies between 0 and 1"
)


def _fit(
    successes: np.ndarray, reps: np.ndarray, predictors: np.ndarray, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Binomial GLM (logit link) of successes out of reps on the predictors (with an intercept).

    Returns the coefficients, their covariance, and whether the fit is identified (no perfect separation).
    """
    import warnings

    # The modules themselves, not statsmodels.api (which imports all of statsmodels: a second more).
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning
    from statsmodels.tools.tools import add_constant

    endog = np.column_stack([successes, reps - successes])
    exog = add_constant(predictors, has_constant="add")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PerfectSeparationWarning)
        fit = GLM(endog, exog, family=Binomial()).fit()
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    if separated:
        notes.append(SEPARATION_NOTE)
    return np.asarray(fit.params), np.asarray(fit.cov_params()), not separated


def _varying(rows: pd.DataFrame) -> list[str]:
    return [name for name in DIMENSIONS if rows[name].dropna().nunique() > 1]


def sample_size_search(
    result: PowerResult,
    *,
    target: float = 0.8,
    quantity: str | None = None,
    pathway: str | None = None,
    dimension: str | None = None,
    cost_site: float | None = None,
    cost_recipient: float | None = None,
) -> SampleSizeResult:
    """The smallest size (or cheapest design) reaching `target` power, from a power grid.

    Parameters
    ----------
    result : PowerResult
        A power analysis over a grid (`moclab.design.power_analysis` with several sizes).
    target : float
        The power to reach (e.g. 0.8).
    quantity : str, optional
        Which power: ``indirect:monte_carlo`` (the headline test by default), ``a``, ``b``,
        ``criterion:strong_association``, ...
    pathway : str, optional
        Pathway id (default: the first).
    dimension : {"sites", "per_site", "waves"}, optional
        What to size; default: the one dimension that varies in the grid.
    cost_site, cost_recipient : float, optional
        Costs per site and per recipient: report the cheapest design reaching the target.

    Returns
    -------
    SampleSizeResult

    Raises
    ------
    MoclabError
        A target outside (0, 1), a grid with fewer than two sizes, or several varying dimensions and
        neither a dimension nor costs to choose between them.

    Examples
    --------
    How many sites does the joint-significance test of the indirect effect through trust need for power
    0.8? Power at 4, 8 and 16 sites (20 replications each, to run fast), then the logistic fit:

    >>> from moclab.design import power_analysis, sample_size_search
    >>> result = power_analysis(
    ...     "recipient-pathway",
    ...     sites=[4, 8, 16],
    ...     reps=20,
    ...     pathways=["isp_support__trust__acceptability"],
    ...     method="joint",
    ...     criteria="none",
    ...     seed=1,
    ... )
    >>> search = sample_size_search(result, target=0.8)
    >>> print(search.sentence())
    About 11 sites reach power 0.80 for the indirect effect, joint significance of isp_support → trust →
    acceptability (fitted 10.5, 95% interval 6.5 to 16.7); on the grid, 16 sites did.
    >>> search.grid[["sites", "power", "fitted_power", "reached"]].round(3)
       sites  power  fitted_power  reached
    0      4   0.50         0.441    False
    1      8   0.60         0.718    False
    2     16   0.95         0.891     True

    With costs, the cheapest design that reaches the target:

    >>> costed = sample_size_search(result, target=0.8, cost_site=5000, cost_recipient=100)
    >>> costed.cheapest["fitted"]
    {'sites': 11, 'per_site': 50, 'power': 0.8, 'cost': 110000.0}
    """
    if not 0 < target < 1:
        raise MoclabError(f"the target power must lie between 0 and 1, got {target!r}")
    rows = result.power(quantity, pathway)
    quantity = str(rows["quantity"].iloc[0])
    pathway = str(rows["pathway"].iloc[0])
    varying = _varying(rows)
    has_costs = cost_site is not None or cost_recipient is not None
    if not varying:
        raise MoclabError(
            "the power grid has a single design: give several sizes to search over",
            hint="e.g. --sites 10:60:10 (sites from 10 to 60 in steps of 10)",
        )
    notes: list[str] = []
    if dimension is None:
        if has_costs and {"sites", "per_site"} <= set(varying):
            dimension = "sites+per_site"
        elif len(varying) == 1:
            dimension = varying[0]
        else:
            raise MoclabError(
                f"the grid varies {' and '.join(varying)}: say which to size (dimension=...), or give costs "
                "per site and per recipient to find the cheapest design"
            )
    rows = rows.copy()
    rows["cost"] = (
        [
            design_cost(s, n, cost_site, cost_recipient)
            for s, n in zip(rows["sites"], rows["per_site_expected"], strict=True)
        ]
        if has_costs
        else np.nan
    )
    rows["reached"] = rows["power"] >= target
    if dimension == "sites+per_site":
        return _cost_search(rows, target, quantity, pathway, cost_site, cost_recipient, notes)
    if dimension not in DIMENSIONS:
        raise MoclabError(f"dimension must be one of {', '.join(DIMENSIONS)}, got {dimension!r}")
    others = [name for name in varying if name != dimension]
    if others:
        raise MoclabError(
            f"the grid also varies {', '.join(others)}: run the search on a grid that varies {dimension} only"
        )
    sizes = rows[dimension].to_numpy(dtype=float)
    if np.unique(sizes).size < 2:
        raise MoclabError(f"the grid has a single value of {dimension}: give several to search over")
    coef, cov, identified = _fit(
        rows["successes"].to_numpy(float), rows["reps"].to_numpy(float), np.log(sizes)[:, None], notes
    )
    rows["fitted_power"] = special.expit(coef[0] + coef[1] * np.log(sizes))
    coefficients = {
        "intercept": float(coef[0]),
        "log_size": float(coef[1]),
        "se_intercept": float(math.sqrt(cov[0, 0])),
        "se_log_size": float(math.sqrt(cov[1, 1])),
    }
    fitted = interval = required = None
    log_size = (special.logit(target) - coef[0]) / coef[1] if coef[1] > 0 else math.inf
    if coef[1] <= 0:
        notes.append("power does not rise with size on this grid (the fitted slope is not positive)")
    elif log_size > math.log(100 * sizes.max()):
        notes.append(
            f"by the fitted curve the target needs more than 100 times the largest size of the grid "
            f"({sizes.max():g}): the design cannot reach it by size alone (check the effects, the waves "
            "and what the analysis adjusts for)"
        )
    else:
        gradient = np.array([-1.0 / coef[1], -log_size / coef[1]])
        se = float(math.sqrt(max(gradient @ cov @ gradient, 0.0)))
        fitted = float(math.exp(log_size))
        if identified:
            interval = (float(math.exp(log_size - 1.959964 * se)), float(math.exp(log_size + 1.959964 * se)))
        unit = UNITS[dimension]
        if fitted > sizes.max():
            notes.append(
                f"power {target:.2f} was not reached within the sizes simulated ({sizes.min():g} to "
                f"{sizes.max():g} {unit}); the fitted curve crosses it near {fitted:.0f}, an extrapolation: "
                f"simulate larger sizes (e.g. {next_sweep(sizes)}) before relying on it"
            )
        elif fitted < sizes.min():
            notes.append(
                f"the fitted curve reaches power {target:.2f} below the smallest size simulated "
                f"({sizes.min():g} {unit}), an extrapolation: simulate smaller sizes to find the least"
            )
        else:
            required = math.ceil(fitted - 1e-9)
    reached = rows.loc[rows["reached"], dimension]
    smallest = int(reached.min()) if not reached.empty else None
    cheapest = None
    if has_costs and required is not None:
        example = rows.iloc[0]
        sites = required if dimension == "sites" else float(example["sites"])
        per_site = required if dimension == "per_site" else float(example["per_site_expected"])
        cheapest = {
            "fitted": {
                "sites": int(sites),
                "per_site": round(per_site),
                "power": float(target),
                "cost": design_cost(sites, per_site, cost_site, cost_recipient),
            },
            "grid": _cheapest_grid(rows),
        }
    columns = ["sites", "per_site", "waves", "n", "power", "mc_se", "fitted_power", "reached", "reps"]
    if has_costs:
        columns.append("cost")
    return SampleSizeResult(
        dimension=dimension,
        pathway=pathway,
        quantity=quantity,
        target=float(target),
        grid=rows[columns].reset_index(drop=True),
        fitted_size=fitted,
        fitted_interval=interval,
        required=required,
        smallest_reaching=smallest,
        coefficients=coefficients,
        cheapest=cheapest,
        notes=tuple(notes),
    )


def _cheapest_grid(rows: pd.DataFrame) -> dict[str, Any] | None:
    reached = rows[rows["reached"]]
    if reached.empty:
        return None
    best = reached.sort_values(["cost", "power"], ascending=[True, False]).iloc[0]
    return {
        "sites": int(best["sites"]),
        "per_site": round(best["per_site_expected"]),
        "power": float(best["power"]),
        "mc_se": float(best["mc_se"]),
        "cost": float(best["cost"]),
    }


def _cost_search(
    rows: pd.DataFrame,
    target: float,
    quantity: str,
    pathway: str,
    cost_site: float | None,
    cost_recipient: float | None,
    notes: list[str],
) -> SampleSizeResult:
    """Cheapest (sites, recipients per site) whose fitted power reaches the target, within the grid."""
    sites = rows["sites"].to_numpy(float)
    per_site = rows["per_site_expected"].to_numpy(float)
    predictors = np.column_stack([np.log(sites), np.log(per_site)])
    coef, cov, _ = _fit(rows["successes"].to_numpy(float), rows["reps"].to_numpy(float), predictors, notes)
    rows["fitted_power"] = special.expit(coef[0] + predictors @ coef[1:])
    site_range = np.arange(int(sites.min()), int(sites.max()) + 1)
    size_range = np.arange(int(per_site.min()), int(per_site.max()) + 1)
    s_grid, n_grid = np.meshgrid(site_range, size_range, indexing="ij")
    fitted = special.expit(coef[0] + coef[1] * np.log(s_grid) + coef[2] * np.log(n_grid))
    cost = s_grid * float(cost_site or 0.0) + s_grid * n_grid * float(cost_recipient or 0.0)
    ok = fitted >= target
    best = None
    if ok.any():
        flat = np.where(ok, cost, np.inf)
        i, j = np.unravel_index(int(np.argmin(flat)), flat.shape)
        best = {
            "sites": int(s_grid[i, j]),
            "per_site": int(n_grid[i, j]),
            "power": float(fitted[i, j]),
            "cost": float(cost[i, j]),
        }
    else:
        notes.append(
            "no design within the grid's ranges reaches the target by the fitted curve: extend the grid"
        )
    coefficients = {
        "intercept": float(coef[0]),
        "log_sites": float(coef[1]),
        "log_per_site": float(coef[2]),
        "se_intercept": float(math.sqrt(cov[0, 0])),
        "se_log_sites": float(math.sqrt(cov[1, 1])),
        "se_log_per_site": float(math.sqrt(cov[2, 2])),
    }
    reached = rows.loc[rows["reached"], "sites"]
    columns = ["sites", "per_site", "waves", "n", "power", "mc_se", "fitted_power", "reached", "reps", "cost"]
    return SampleSizeResult(
        dimension="sites+per_site",
        pathway=pathway,
        quantity=quantity,
        target=float(target),
        grid=rows[columns].sort_values("cost", kind="stable").reset_index(drop=True),
        fitted_size=None,
        fitted_interval=None,
        required=None,
        smallest_reaching=int(reached.min()) if not reached.empty else None,
        coefficients=coefficients,
        cheapest={"fitted": best, "grid": _cheapest_grid(rows)},
        notes=tuple(notes),
    )


def answer_quantities(result: PowerResult) -> list[str]:
    """The quantities the answer is given for: the headline test of the indirect effect, then every
    criterion the analysis judged (estimated in some replication), in scorecard order."""
    table = result.table
    judged = table.loc[table["quantity"].str.startswith("criterion:") & table["estimated"], "quantity"]
    return [result.headline, *dict.fromkeys(judged)]


def next_sweep(sizes: Sequence[float]) -> str:
    """A sweep ``START:STOP:STEP`` that continues the simulated sizes upward, at their last step, to twice
    the largest.

    Examples
    --------
    >>> from moclab.design.search import next_sweep
    >>> next_sweep([10, 20, 30, 40, 50, 60])
    '70:120:10'
    >>> next_sweep([4, 8, 16])
    '24:32:8'
    """
    values = sorted({int(size) for size in sizes})
    largest = values[-1]
    step = values[-1] - values[-2] if len(values) > 1 else max(1, largest // 4)
    return f"{largest + step}:{max(2 * largest, largest + step)}:{step}"


def _wilson(successes: int, reps: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927): the Monte Carlo uncertainty of a power
    estimated from `reps` replications; it stays inside [0, 1] and is not degenerate at 0 or `reps`."""
    from scipy.stats import binomtest

    interval = binomtest(int(successes), int(reps)).proportion_ci(confidence_level=level, method="wilson")
    return float(interval.low), float(interval.high)


def power_answers(
    result: PowerResult,
    *,
    target: float = 0.8,
    quantities: Sequence[str] | None = None,
    cost_site: float | None = None,
    cost_recipient: float | None = None,
) -> pd.DataFrame:
    """Per pathway and quantity, the smallest simulated design whose power reached `target`, read from the
    grid only (never extrapolated), with the Monte Carlo uncertainty of the power there.

    The designs are ordered by the one dimension that varies (sites, recipients per site or waves), by cost
    when costs are given, else by the mean number of recipients analysed. The first design whose observed
    power reaches the target is the answer; its power carries a 95% Wilson interval over the replications
    (the Monte Carlo uncertainty: with R replications, a design whose true power is just below the target can
    reach it by chance). When no simulated design reaches the target, the answer says so, with the power of
    the largest design simulated; a criterion that was never testable has no answer, only the scorecard's
    reason.

    Parameters
    ----------
    result : PowerResult
    target : float
        The power to reach, in (0, 1).
    quantities : sequence of str, optional
        Default: the headline test of the indirect effect and every criterion judged (`answer_quantities`).
    cost_site, cost_recipient : float, optional
        Costs: order the designs by cost (the cheapest design reaching the target).

    Returns
    -------
    pandas.DataFrame
        One row per pathway and quantity: ``pathway``, ``quantity``, ``status`` (``reached``, ``not
        reached``, ``not testable`` or ``not judged``), ``dimension`` (what varies, or ``design``), ``size``
        (the value of the varying dimension at the answer; None otherwise), ``design`` (in words), ``power``,
        ``low`` and ``high`` (the 95% Wilson interval) and ``reps`` at the answer (for ``not reached``: at the
        largest design simulated), ``largest`` (the largest design simulated, in words), ``next_sweep`` (for
        ``not reached``: larger sizes to simulate) and ``reason`` (why not testable).

    Examples
    --------
    >>> from moclab.design import power_analysis, power_answers
    >>> result = power_analysis(
    ...     "recipient-pathway", sites=[4, 8, 16], reps=20, pathways=["isp_support__trust__acceptability"],
    ...     method="joint", criteria="none", seed=1,
    ... )
    >>> power_answers(result)[["status", "size", "power", "low", "high"]].round(2)
        status  size  power   low  high
    0  reached    16   0.95  0.76  0.99
    """
    if not 0 < target < 1:
        raise MoclabError(f"the target power must lie between 0 and 1, got {target!r}")
    table = result.table
    varying = _varying(table)
    has_costs = cost_site is not None or cost_recipient is not None
    dimension = varying[0] if len(varying) == 1 else "design"
    rows = []
    for pathway in result.pathway_ids:
        for quantity in quantities or answer_quantities(result):
            grid = result.power(quantity, pathway).copy()
            if has_costs:
                grid["_order"] = [
                    design_cost(s, n, cost_site, cost_recipient)
                    for s, n in zip(grid["sites"], grid["per_site_expected"], strict=True)
                ]
            else:
                grid["_order"] = grid[dimension] if dimension in DIMENSIONS else grid["n"]
            grid = grid.sort_values(["_order", "n"], kind="stable").reset_index(drop=True)
            largest = grid.iloc[-1]
            testable = bool(grid.get("testable", pd.Series(True, index=grid.index)).fillna(True).any())
            estimated = bool(grid["estimated"].any())
            reason = ""
            if "reason" in grid.columns:
                reason = next((str(r) for r in grid["reason"] if isinstance(r, str) and r), "")
            row: dict[str, Any] = {
                "pathway": pathway,
                "quantity": quantity,
                "dimension": dimension,
                "target": float(target),
                "largest": design_text(largest),
                "size": None,
                "design": None,
                "power": math.nan,
                "low": math.nan,
                "high": math.nan,
                "reps": int(largest["reps"]),
                "next_sweep": None,
                "reason": reason,
            }
            if not estimated or not testable:
                row["status"] = "not judged" if not estimated else "not testable"
                rows.append(row)
                continue
            reached = grid[grid["power"] >= target]
            chosen = reached.iloc[0] if not reached.empty else largest
            low, high = _wilson(int(chosen["successes"]), int(chosen["reps"]))
            row.update(
                {
                    "status": "reached" if not reached.empty else "not reached",
                    "power": float(chosen["power"]),
                    "low": low,
                    "high": high,
                    "reps": int(chosen["reps"]),
                }
            )
            if not reached.empty:
                row["design"] = design_text(chosen)
                if dimension in DIMENSIONS:
                    row["size"] = int(chosen[dimension])
            elif dimension in DIMENSIONS:
                row["next_sweep"] = next_sweep(grid[dimension].to_numpy(float))
            rows.append(row)
    columns = [
        "pathway",
        "quantity",
        "status",
        "dimension",
        "size",
        "design",
        "power",
        "low",
        "high",
        "reps",
        "target",
        "largest",
        "next_sweep",
        "reason",
    ]
    return pd.DataFrame(rows, columns=columns)
