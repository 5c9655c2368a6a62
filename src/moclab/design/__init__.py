"""Study design: Monte Carlo power of a pathway model, sample-size search, parallel and distributed runs.

How many sites, recipients per site and waves does a study need to establish a mechanism? `power_analysis`
simulates studies from a pathway model and a design (`moclab.simulate`), analyses each one with the tests
the real analysis uses (joint significance, Monte Carlo interval, percentile or cluster bootstrap, Sobel
for comparison; cluster-robust where recipients are nested in sites) and reports power with its Monte Carlo
standard error for the a and b paths, the indirect effect and the probability that each of the seven
criteria for a mechanism is met (a criterion never testable has no power, only the reason).
`power_answers` gives, per pathway and criterion, the smallest simulated design reaching a target power,
with the Monte Carlo uncertainty of its power and never extrapolated; `sample_size_search` fits a curve
through the grid for the smallest size, or the cheapest design, that reaches a target power. Runs use
local cores (joblib) or a Dask cluster with identical results for a seed.

>>> from moclab.design import power_analysis
>>> result = power_analysis(
...     "recipient-pathway", sites=[20, 40], reps=20, pathways=["isp_support__trust__acceptability"],
...     method="joint", criteria="none", seed=1,
... )
>>> sorted(result.table["sites"].unique().tolist())
[20, 40]

The method and its checks are described in docs/power.md.
"""

from moclab.design.criteria import CRITERION_IDS, FAST_CRITERIA, STATUSES
from moclab.design.engine import METHODS, BatchResult, analyse_batch
from moclab.design.power import DesignPoint, design_grid, power_analysis, replication_seeds, spec_for
from moclab.design.results import PowerResult, SampleSizeResult, pathway_label, quantity_label
from moclab.design.scenario import PowerTarget, ReplicationData, power_targets, replication_arrays
from moclab.design.search import design_cost, power_answers, sample_size_search

__all__ = [
    "CRITERION_IDS",
    "FAST_CRITERIA",
    "METHODS",
    "STATUSES",
    "BatchResult",
    "DesignPoint",
    "PowerResult",
    "PowerTarget",
    "ReplicationData",
    "SampleSizeResult",
    "analyse_batch",
    "design_cost",
    "design_grid",
    "pathway_label",
    "power_analysis",
    "power_answers",
    "power_targets",
    "quantity_label",
    "replication_arrays",
    "replication_seeds",
    "sample_size_search",
    "spec_for",
]
