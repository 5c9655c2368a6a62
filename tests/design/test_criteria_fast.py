"""The fast engine's timeline, gradient and plausibility against the scorecard (`moclab.evidence.analyze`).

The reference is the scorecard itself: each replication is built as a study (`SimulatedStudy.to_study`) and
judged by `analyze`, as ``criteria="full"`` does. Both read the delta-method interval of the indirect effect
(``ci="delta"``), so the comparison does not depend on aligning Monte Carlo or bootstrap draws. The scorecard
runs are the expensive part: each design's runs are made once per module (`scorecard_runs`), and the tests of
numbers read the scorecards of the same runs whose statuses the agreement test compares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from moclab.analysis.bootstrap import factorize_clusters
from moclab.analysis.meta import _per_cluster_ols
from moclab.design import power_analysis
from moclab.design.criteria import CRITERION_IDS, FAST_CRITERIA, STATUSES
from moclab.design.criteria_analyses import (
    _CrossProducts,
    _dose_groups_and_scores,
    _least_squares,
    _shared_site_design,
    _site_codes,
    criteria_context,
    interview_support,
    replication_evidence,
)
from moclab.design.engine import (
    BatchResult,
    NormalStreams,
    _order_statistics,
    _tail_percentile,
    analyse_batch,
)
from moclab.design.power import ChunkTask, DesignPoint, PowerOptions, replication_seeds, run_chunk, spec_for
from moclab.design.scenario import power_targets, replication_arrays
from moclab.errors import MoclabError
from moclab.evidence import analyze
from moclab.simulate import compile_simulation
from moclab.simulate.generate import draw
from moclab.simulate.spec import coerce_spec

RECIPIENT_PATHWAYS = (
    "isp_support__trust__acceptability",
    "isp_support__credibility__feasibility",
    "isp_support__positive_emotion__appropriateness",
)


def _design(model, spec, point: DesignPoint, pathways):
    base = compile_simulation(model, spec)
    plan = compile_simulation(base.model, spec_for(coerce_spec(base.spec), point))
    return plan, tuple(power_targets(plan, list(pathways)))


#: The seed of the replications the tests draw (`replication_seeds(ENTROPY, point.key, r)`).
ENTROPY = 7


def _codes(plan, targets, point, reps: int, criteria: str):
    options = PowerOptions(methods=("joint", "sobel"), interval_method="delta", n_boot=100, criteria=criteria)
    output = run_chunk(ChunkTask(0, point, plan, targets, ENTROPY, 0, reps, options))
    return {
        target.id: {name: output.outcomes[target.id][f"criterion:{name}"] for name in CRITERION_IDS}
        for target in targets
    }


@pytest.fixture(scope="module")
def recipient_design():
    point = DesignPoint(sites=10, per_site=20)
    return (*_design("recipient-pathway", None, point, RECIPIENT_PATHWAYS), point)


@pytest.fixture(scope="module")
def two_mechanism_design(two_mechanism_model, clustered_spec):
    point = DesignPoint(sites=8, per_site=15)
    spec = clustered_spec(sites=8, per_site=15, waves=3)
    pathways = ("coaching__trust__acceptability", "coaching__knowledge__acceptability")
    return (*_design(two_mechanism_model, spec, point, pathways), point)


@pytest.fixture(scope="module")
def interviews_design(two_mechanism_model, clustered_spec):
    """Links without a link-specific source and simulated coded interviews: the interviews' support can stand
    in for the sources, so plausibility reads them."""
    point = DesignPoint(sites=8, per_site=15)
    spec = {**clustered_spec(sites=8, per_site=15, waves=3), "qualitative": "simulated", "interviews": 12}
    pathways = ("coaching__trust__acceptability", "coaching__knowledge__acceptability")
    return (*_design(two_mechanism_model, spec, point, pathways), point)


@pytest.fixture(scope="module")
def within_site_design(two_mechanism_model, clustered_spec):
    """Recipients randomized within sites, two waves, support logged per recipient: per-site a and b
    paths, one lag pair, each recipient's own support as the dose."""
    point = DesignPoint(sites=6, per_site=30)
    spec = clustered_spec(sites=6, per_site=30, waves=2)
    spec["design"]["randomization"] = {"level": "recipient"}
    spec["dose"] = {"level": "recipient", "minutes_per_month": 90, "cv": 0.6, "slopes": {"trust": 0.15}}
    return (*_design(two_mechanism_model, spec, point, ["coaching__trust__acceptability"]), point)


@pytest.fixture(scope="module")
def one_site_design(mediator_model, mackinnon_spec):
    """One site, one wave, a continuous exposure: no panel, no sites, no support log."""
    point = DesignPoint(sites=1)
    return (*_design(mediator_model, mackinnon_spec(0.3, 0.3, 80), point, ["x__m__y"]), point)


@pytest.fixture(scope="module")
def support_modes_design():
    """Three strategies (support modes) against one control: each pathway's strategy is its own arm, the
    other arms counted with the control, as the scorecard codes it."""
    point = DesignPoint(sites=12, per_site=20)
    every = power_targets(compile_simulation("support-modes"))
    strategies = {target.strategy_index for target in every}
    chosen = [next(t.id for t in every if t.strategy_index == index) for index in sorted(strategies)]
    assert len(chosen) > 1
    return (*_design("support-modes", None, point, chosen), point)


#: Replications of each design the fast engine and the scorecard both judge.
REPLICATIONS = {
    "support_modes_design": 8,
    "recipient_design": 12,
    "two_mechanism_design": 20,
    "interviews_design": 12,
    "within_site_design": 15,
    "one_site_design": 15,
}


@dataclass(frozen=True)
class ScorecardRuns:
    """One design's first replications judged by the fast engine and by the scorecard (``criteria="full"``):
    the status codes of both, and the scorecard's evidence of each replication as `analyze` returned it."""

    fast: dict
    full: dict
    evidence: list


@pytest.fixture(scope="module")
def scorecard_runs(request):
    """``scorecard_runs(design)``: the `ScorecardRuns` of a design fixture, run once for the module."""
    runs: dict[str, ScorecardRuns] = {}

    def run(design: str) -> ScorecardRuns:
        if design not in runs:
            plan, targets, point = request.getfixturevalue(design)
            reps = REPLICATIONS[design]
            evidence = []

            def recorded(*args, **kwargs):
                evidence.append(analyze(*args, **kwargs))
                return evidence[-1]

            with pytest.MonkeyPatch.context() as patch:  # `full_statuses` imports analyze when it runs
                patch.setattr("moclab.evidence.analyze", recorded)
                full = _codes(plan, targets, point, reps, "full")
            assert len(evidence) == reps  # one scorecard per replication, in order
            runs[design] = ScorecardRuns(_codes(plan, targets, point, reps, "fast"), full, evidence)
        return runs[design]

    return run


@pytest.mark.parametrize(("design", "reps"), list(REPLICATIONS.items()))
def test_every_fast_status_equals_the_scorecards(design, reps, scorecard_runs, request):
    """Replication by replication, pathway by pathway and criterion by criterion, the fast engine's status
    is the scorecard's on the same data set (none of these designs declares subgroups, so consistency is
    judged in every replication)."""
    _, targets, _ = request.getfixturevalue(design)
    runs = scorecard_runs(design)
    fast, full = runs.fast, runs.full
    compared = 0
    for target in targets:
        for name in FAST_CRITERIA:
            np.testing.assert_array_equal(
                fast[target.id][name], full[target.id][name], err_msg=f"{target.id}: {name}"
            )
            compared += reps
    assert compared == reps * len(targets) * 7


def _scorecard_and_fast(design, runs: ScorecardRuns, replication):
    """Per pathway of a replication of `runs`: the fast engine's evidence, the scorecard's pathway evidence,
    and the scorecard's reading of the interviews as the fast engine gets it (None without interviews)."""
    plan, targets, point = design
    data_seed, _ = replication_seeds(ENTROPY, point.key, replication)
    context = criteria_context(plan, targets, data_seed, 0.95)
    drawn = draw(plan, data_seed)
    found = replication_evidence(plan, drawn, targets, context, 0.95)
    support = interview_support(plan, drawn, context)
    evidence = runs.evidence[replication]
    return [
        (
            found[t.id],
            evidence.scorecard.pathway(t.id),
            None if support is None else support(context.targets[t.id].plan),
        )
        for t in targets
    ]


def _close(mine, theirs, what):
    np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("replication", [0, 1])
def test_panel_dose_site_and_interview_numbers_equal_the_scorecards(
    recipient_design, scorecard_runs, replication
):
    """The cross-lagged paths, the dose-response slopes and trends, the per-site b paths' prediction interval,
    the variance ratio of site means and the reading of the interviews are the scorecard's own results
    (`cross_lagged`, `dose_response`, `cluster_slopes(...).pool()`, `arm_variance_ratio`,
    `moclab.evidence.qualitative`) to 1e-8."""
    runs = scorecard_runs("recipient_design")
    for own, pathway, interviews in _scorecard_and_fast(recipient_design, runs, replication):
        what = pathway.id
        panel = pathway.results["panel"]
        for name in ("m_to_y", "y_to_m", "m_to_y_std", "y_to_m_std", "difference_std"):
            mine, theirs = own.panel.effects[name], panel.effect(name)
            _close(
                [mine.estimate, mine.se, mine.ci_low, mine.ci_high, mine.p],
                [theirs.estimate, theirs.se, theirs.ci_low, theirs.ci_high, theirs.p],
                f"{what}: {name}",
            )
        for result, prefix in (("dose_mechanism", "dose"), ("mechanism_outcome", "mechanism")):
            for kind in ("slope", "trend"):
                mine, theirs = own.gradient[f"{prefix}_{kind}"], pathway.results[result].effect(kind)
                _close(
                    [mine.estimate, mine.se, mine.p],
                    [theirs.estimate, theirs.se, theirs.p],
                    f"{what}: {kind}",
                )
        meta = pathway.results["consistency"]
        _close(own.sites.path_predictions["b"][0], meta.prediction, f"{what}: b prediction")
        assert len(own.sites.units) == meta.k
        mine, theirs = own.sites.heterogeneity, pathway.results["arm_variance"].effect("ratio")
        _close(
            [mine.estimate, mine.ci_low, mine.ci_high, mine.p],
            [theirs.estimate, theirs.ci_low, theirs.ci_high, theirs.p],
            what,
        )
        assert interviews.status == pathway.qualitative.status
        assert interviews.counts == pathway.qualitative.counts
        assert own.facts.to_dict() == pathway.verdict("timeline").evidence["timeline"]


def test_interviews_are_read_where_they_can_change_plausibility(
    recipient_design, interviews_design, scorecard_runs
):
    """Every link of the recipient pathway has a template as its source and no contradiction codes are
    declared, so the interviews cannot change its plausibility status and are not read; the two-mechanism
    model's links have no source, so the interviews' support is read, as the scorecard reads it."""
    for own, pathway, _ in _scorecard_and_fast(recipient_design, scorecard_runs("recipient_design"), 0):
        assert own.qualitative.status == "none" and pathway.qualitative.counts["interviews"] == 12
    for own, pathway, _ in _scorecard_and_fast(interviews_design, scorecard_runs("interviews_design"), 0):
        assert own.qualitative.status == pathway.qualitative.status
        assert own.qualitative.counts == pathway.qualitative.counts
        assert own.qualitative.counts["interviews"] == 12


def test_per_site_a_and_b_paths_equal_the_scorecards(within_site_design, scorecard_runs):
    """Randomized within sites: the prediction intervals of the per-site a paths
    (`cluster_indirect_effects(...).pool("a")`) and b paths, and the dose-response of trust on each
    recipient's logged support, equal the scorecard's."""
    for own, pathway, _ in _scorecard_and_fast(within_site_design, scorecard_runs("within_site_design"), 0):
        _close(own.sites.path_predictions["a"][0], pathway.results["consistency_a"].prediction, "a")
        _close(own.sites.path_predictions["b"][0], pathway.results["consistency"].prediction, "b")
        assert own.sites.heterogeneity is None
        # The support each recipient received (a log naming recipients) → trust, among the coached.
        for kind in ("slope", "trend"):
            mine, theirs = own.gradient[f"dose_{kind}"], pathway.results["dose_mechanism"].effect(kind)
            _close([mine.estimate, mine.se, mine.p], [theirs.estimate, theirs.se, theirs.p], kind)


def test_consistency_turns_to_subgroups_where_the_scorecard_does():
    """Two sites are too few to compare (per-site b paths in fewer than three sites), and the recipient
    pathway has subgroups (engagement length, high or limited) large enough to analyse: the fast engine
    meta-analyses the subgroup mediation models as the scorecard does, so both power tables give the same
    consistency row (tests/design/test_criteria_subgroups.py compares them replication by replication)."""
    options = {
        "sites": 2,
        "per_site": 120,
        "reps": 3,
        "pathways": ["isp_support__trust__acceptability"],
        "method": "joint",
        "seed": 5,
    }
    rows = {
        criteria: power_analysis("recipient-pathway", criteria=criteria, **options)
        .table.set_index("quantity")
        .loc["criterion:consistency"]
        for criteria in ("fast", "full")
    }
    assert rows["fast"]["estimated"] and rows["fast"]["power"] == rows["full"]["power"]
    assert rows["fast"]["reason"] == rows["full"]["reason"]
    assert "subgroups" in rows["fast"]["reason"]


def test_consistency_is_not_testable_where_the_subgroups_are_too_small():
    """Two sites of 20: no site comparison, and neither engagement-length subgroup reaches the 30 recipients
    the scorecard needs, so its subgroup analyses surely fail: consistency is not testable, as the scorecard
    finds replication by replication."""
    point = DesignPoint(sites=2, per_site=20)
    plan, targets = _design("recipient-pathway", None, point, RECIPIENT_PATHWAYS[:1])
    fast = _codes(plan, targets, point, 6, "fast")[targets[0].id]["consistency"]
    full = _codes(plan, targets, point, 6, "full")[targets[0].id]["consistency"]
    np.testing.assert_array_equal(fast, full)
    assert (fast == STATUSES.index("not testable")).all()


def test_cluster_robust_least_squares_equal_statsmodels():
    """The cross-product solver gives statsmodels' OLS with CR1 cluster-robust covariance (and the
    classical covariance without clusters), estimate by estimate."""
    rng = np.random.default_rng(11)
    n, sites = 300, 15
    design = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    response = design @ [1.0, 0.5, -0.2, 0.0] + rng.normal(size=n)
    labels = rng.integers(0, sites, size=n)
    fit = _least_squares(design, response[:, None], labels)
    reference = sm.OLS(response, design).fit(cov_type="cluster", cov_kwds={"groups": labels})
    np.testing.assert_allclose(fit.coef[:, 0], reference.params, rtol=1e-10)
    np.testing.assert_allclose(fit.covariance, reference.cov_params(), rtol=1e-8)
    assert fit.df == sites - 1
    classical = _least_squares(design, response[:, None], None)
    np.testing.assert_allclose(classical.covariance, sm.OLS(response, design).fit().cov_params(), rtol=1e-8)
    collinear = np.column_stack([design, design[:, 1]])
    assert _least_squares(collinear, response[:, None], labels) is None


def test_dose_groups_are_those_of_pandas_qcut():
    """Four quantile groups as `pandas.qcut(..., duplicates="drop")` forms them, with site-level doses
    repeated across recipients (ties on the edges, duplicate edges), and all distinct doses when few."""
    rng = np.random.default_rng(4)
    site_doses = np.round(rng.gamma(2.0, 60.0, size=12), 1)
    doses = np.repeat(site_doses, rng.integers(5, 30, size=12))
    for values in (doses, np.r_[np.zeros(40), doses], rng.normal(size=101)):
        expected = pd.qcut(values, q=4, duplicates="drop", labels=False)
        np.testing.assert_array_equal(_dose_groups_and_scores(values)[0], expected)
    few = np.array([2.0, 1.0, 2.0, 3.0, 1.0])
    np.testing.assert_array_equal(_dose_groups_and_scores(few)[0], [1, 0, 1, 2, 0])


def test_pathways_sharing_monte_carlo_normals_get_the_intervals_drawn_alone(recipient_design):
    """`mediate` draws the same standard normals for the same seed and number of parameters, so the
    pathways of a replication share them (`analyse_batch(normals=...)`); every interval is the one drawn
    without sharing, exactly."""
    plan, targets, point = recipient_design
    seeds = [replication_seeds(3, point.key, r) for r in range(3)]
    draws = [draw(plan, data_seed) for data_seed, _ in seeds]
    shared = NormalStreams()
    for target in targets:
        data = [replication_arrays(item, target, alternatives=True) for item in draws]
        options = {"methods": ["monte_carlo"], "n_mc": 2000}
        alone = analyse_batch(data, [s for _, s in seeds], **options)
        together = analyse_batch(data, [s for _, s in seeds], normals=shared, **options)
        for j in together.indirect:
            np.testing.assert_array_equal(
                together.indirect[j]["monte_carlo"], alone.indirect[j]["monte_carlo"]
            )
    assert len(shared) == 3  # one stream per replication, drawn once for the three pathways
    merged = BatchResult.concatenate([alone, alone])
    np.testing.assert_array_equal(
        merged.indirect[0]["monte_carlo"][0], np.tile(alone.indirect[0]["monte_carlo"][0], 2)
    )


def test_a_normal_stream_extended_gives_the_rows_one_draw_gives():
    """`mediate` draws ``default_rng(seed).standard_normal((n_mc, p))``: the first rows of a longer draw
    (the subgroup models' 20,000) are a shorter draw's (the power analysis's 10,000), in either order."""
    expected = np.random.default_rng(11).standard_normal((500, 7))
    longer_first, shorter_first = NormalStreams(), NormalStreams()
    np.testing.assert_array_equal(longer_first.rows(11, 500, 7), expected)
    np.testing.assert_array_equal(longer_first.rows(11, 200, 7), expected[:200])
    np.testing.assert_array_equal(shorter_first.rows(11, 200, 7), expected[:200])
    np.testing.assert_array_equal(shorter_first.rows(11, 500, 7), expected)
    np.testing.assert_array_equal(
        shorter_first.rows(11, 30, 4), np.random.default_rng(11).standard_normal((30, 4))
    )  # another number of parameters is another stream
    assert len(shorter_first) == 2


def test_a_study_that_cannot_be_built_leaves_the_four_criteria_unjudged(monkeypatch):
    """The fast criteria beyond the mediation model read the scorecard's plan from one simulated study; if
    that study cannot be built, the mediation criteria are still judged and the others say why not."""

    def refuse(*args, **kwargs):
        raise MoclabError("a check refused the study")

    monkeypatch.setattr("moclab.design.criteria_analyses.criteria_context", refuse)
    result = power_analysis(
        "recipient-pathway",
        sites=6,
        per_site=10,
        reps=2,
        pathways=["isp_support__trust__acceptability"],
        method="joint",
        seed=2,
    )
    rows = result.table.set_index("quantity")
    assert rows.loc["criterion:strong_association", "estimated"]
    for name in ("consistency", "timeline", "gradient", "plausibility"):
        row = rows.loc[f"criterion:{name}"]
        assert not row["estimated"] and np.isnan(row["power"])
        assert row["reason"] == (
            "not judged by the fast engine: the simulated study could not be built to read its plan "
            "(a check refused the study)"
        )


def test_monte_carlo_bounds_from_tail_order_statistics_equal_numpy_quantile():
    """The Monte Carlo interval's bounds read from the order statistics of its tails alone are, bit for bit,
    `numpy.quantile`'s linear interpolation (the engine's `_percentile`): skewed, heavy-tailed, tied and
    sorted draws (sorted, the first draws bracket no tail rank, so whole rows are partitioned), several
    levels and sizes."""
    rng = np.random.default_rng(8)
    normal = rng.standard_normal((7, 10_000))
    samples = {
        "product of normals": normal * rng.standard_normal((7, 10_000)) + 0.05,
        "cauchy": rng.standard_cauchy((3, 12_345)),
        "ties": np.round(rng.standard_normal((4, 10_000)), 1),
        "sorted rows": np.sort(normal, axis=1),
        "few draws": rng.standard_normal((2, 999)),
    }
    for name, draws in samples.items():
        for level in (0.95, 0.9, 0.99, 0.5):
            low, high = _tail_percentile(draws, level)
            expected = np.quantile(draws, [(1 - level) / 2, 1 - (1 - level) / 2], axis=1)
            np.testing.assert_array_equal(low, expected[0], err_msg=f"{name}, {level}")
            np.testing.assert_array_equal(high, expected[1], err_msg=f"{name}, {level}")
    ranks = np.array([0, 249, 250, 5000, 9749, 9999])
    np.testing.assert_array_equal(_order_statistics(normal, ranks), np.sort(normal, axis=1)[:, ranks])


def test_dose_group_scores_are_the_groups_numpy_medians():
    """The trend's scores read off one sort of the doses are `numpy.median` of each group's doses, with
    even and odd group sizes, ties across group edges and at most four distinct doses."""
    rng = np.random.default_rng(5)
    site_doses = np.round(rng.gamma(2.0, 60.0, size=15), 1)
    for dose in (
        np.repeat(site_doses, rng.integers(3, 25, size=15)),
        rng.normal(size=202),
        rng.normal(size=201),
        rng.integers(0, 3, size=50).astype(float),
    ):
        groups, scores = _dose_groups_and_scores(dose)
        distinct = np.unique(dose)
        expected = (
            np.searchsorted(distinct, dose)
            if distinct.size <= 4
            else pd.qcut(dose, q=4, duplicates="drop", labels=False)
        )
        np.testing.assert_array_equal(groups, expected)
        np.testing.assert_array_equal(scores, [np.median(dose[groups == j]) for j in range(groups.max() + 1)])


def test_fits_sharing_cross_products_equal_statsmodels():
    """The dose-response slope and cell-means models read one set of per-site cross products of all their
    columns; each, and its CR1 covariance, is statsmodels' OLS on its own columns (with and without sites)."""
    rng = np.random.default_rng(12)
    n = 240
    labels = np.repeat(np.arange(12), 20)
    dose, covariate = rng.gamma(2.0, 1.0, size=n), rng.normal(size=n)
    cells = (dose[:, None] > np.quantile(dose, [0.25, 0.5, 0.75])).sum(axis=1)
    indicators = (cells[:, None] == np.arange(4)).astype(float)
    response = 0.3 * dose + 0.5 * covariate + rng.normal(size=n) + rng.normal(size=12)[labels]
    z = np.column_stack([np.ones(n), dose, covariate, indicators, response])
    for clusters in (labels, None):
        products = _CrossProducts.of(z, clusters)
        for predictors in ([0, 1, 2], [3, 4, 5, 6, 2]):
            fit = products.least_squares(predictors, [7])
            model = sm.OLS(response, z[:, predictors])
            clustered = {"cov_type": "cluster", "cov_kwds": {"groups": labels}}
            reference = model.fit(**clustered) if clusters is not None else model.fit()
            np.testing.assert_allclose(fit.coef[:, 0], reference.params, rtol=1e-10)
            np.testing.assert_allclose(fit.covariance, reference.cov_params(), rtol=1e-8, atol=1e-14)
    assert _CrossProducts.of(z, labels).least_squares([0, 3, 4, 5, 6], [7]) is None  # the indicators sum to 1


def test_per_site_paths_from_shared_site_cross_products_equal_statsmodels():
    """Pathways of one outcome read per-site b paths off one set of per-site cross products, each in its own
    column order: every site's slope and SE are statsmodels' OLS within that site; rows with a missing
    value in any column are dropped for all, and sites unsorted or labelled by strings are coded in order
    of first appearance, as `factorize_clusters` codes them."""
    rng = np.random.default_rng(21)
    n, sites = 180, 6
    labels = np.repeat(np.arange(sites), n // sites)
    m1, m2, baseline = rng.normal(size=(3, n))
    outcome = 0.4 * m1 + 0.2 * m2 + 0.3 * baseline + rng.normal(size=n)
    m2[[3, 50]] = np.nan
    keep = np.isfinite(m2)
    cache: dict = {}
    for first, second in ((m1, m2), (m2, m1)):
        names = ("m1", "0") if first is m1 else ("m2", "0"), ("m2", "0") if first is m1 else ("m1", "0")
        columns = [(names[0], first), (("y", "1"), outcome), (names[1], second), (("y", "0"), baseline)]
        z, codes, cross, sizes = _shared_site_design(columns, labels, cache)
        coef, ses, singular = _per_cluster_ols(z, codes, cross, sizes, 2, [0, 1, 3, 4])
        assert not singular.any()
        for site in range(sites):
            rows = keep & (labels == site)
            design = sm.add_constant(np.column_stack([first[rows], second[rows], baseline[rows]]))
            reference = sm.OLS(outcome[rows], design).fit()
            np.testing.assert_allclose(coef[site, 1], reference.params[1], rtol=1e-9)
            np.testing.assert_allclose(ses[site, 1], reference.bse[1], rtol=1e-9)
    assert len([key for key in cache if key[0] == "site_design"]) == 1  # one set of columns, built once
    shuffled = np.array(["b", "b", "a", "c", "a", "b"])
    for values in (shuffled, np.sort(shuffled), np.array([3, 3, 1, 2, 1])):
        codes, g = _site_codes(values)
        expected, levels = factorize_clusters(values)
        np.testing.assert_array_equal(codes, expected)
        assert g == levels.size


def test_a_team_level_mechanism_is_read_as_its_team_means_in_every_wave():
    """`at_declared_level` gives every recipient the mean of its team's values at that wave (pandas groupby
    here), as `moclab analyze` reads a team-level mechanism; others pass unchanged."""
    from moclab.design.scenario import at_declared_level
    from moclab.simulate import compile_simulation, draw

    plan = compile_simulation("recipient-pathway")
    targets = {t.mechanism: t for t in power_targets(plan)}
    data = draw(plan, 4)
    cut = at_declared_level(plan, data, targets["psych_safety"])
    values = data.scores[targets["psych_safety"].mechanism_measure]
    for wave in range(values.shape[1]):
        frame = pd.DataFrame({"value": values[:, wave], "team": data.team_of})
        expected = frame.groupby("team")["value"].transform("mean")
        np.testing.assert_allclose(
            cut.scores[targets["psych_safety"].mechanism_measure][:, wave], expected, rtol=1e-12
        )
    # the draw has missing values; their recipients get their team's mean too
    assert np.isnan(values).any()
    assert np.isfinite(cut.scores[targets["psych_safety"].mechanism_measure][np.isnan(values)]).any()
    assert at_declared_level(plan, data, targets["trust"]) is data  # an individual-level mechanism
