"""The fast engine's consistency across subgroups against the scorecard (`moclab.evidence.analyze`).

The recipient-pathway model declares psychological safety at the team level, so `moclab analyze` reads it as
team means and never compares sites for its pathways: consistency turns to the subgroups of engagement length
(a binary team-level moderator), fitting `mediate` within each and pooling the subgroup indirect effects by
`meta_analysis`. The reference is the scorecard itself, run on the same data sets with the same seeds
(``criteria="full"``), with the Monte Carlo interval and the percentile bootstrap, whose random streams the
subgroup models must share with the scorecard's for the standard errors (the SD of the draws) to agree.
"""

from __future__ import annotations

import numpy as np
import pytest

from moclab.design.criteria import STATUSES
from moclab.design.criteria_analyses import SubgroupAnalyses, criteria_context, replication_evidence
from moclab.design.power import ChunkTask, DesignPoint, PowerOptions, replication_seeds, run_chunk, spec_for
from moclab.design.scenario import power_targets
from moclab.evidence import analyze
from moclab.simulate import compile_simulation
from moclab.simulate.generate import draw
from moclab.simulate.spec import coerce_spec

#: A team-level mechanism (consistency across subgroups) and an individual one (across sites).
PATHWAYS = ("isp_support__psych_safety__acceptability", "isp_support__trust__acceptability")
SUBGROUP_PATHWAY = PATHWAYS[0]
ENTROPY = 7
NOT_TESTABLE = STATUSES.index("not testable")


def _design(point: DesignPoint):
    base = compile_simulation("recipient-pathway")
    plan = compile_simulation(base.model, spec_for(coerce_spec(base.spec), point))
    return plan, tuple(power_targets(plan, list(PATHWAYS)))


def _options(ci: str, criteria: str) -> PowerOptions:
    return PowerOptions(methods=("joint", "sobel", ci), interval_method=ci, n_boot=200, criteria=criteria)


@pytest.fixture(scope="module")
def design():
    """Twenty sites of about thirty recipients in two to four teams: each engagement-length subgroup holds
    about three hundred recipients, enough for the scorecard's subgroup models."""
    point = DesignPoint(sites=20, per_site=30)
    return (*_design(point), point)


@pytest.fixture(scope="module")
def runs(design):
    """``runs(ci)``: the consistency codes of the fast engine and of the scorecard on the first replications,
    with the scorecard's evidence of each replication as `analyze` returned it (run once per interval)."""
    plan, targets, point = design
    found: dict[str, tuple] = {}

    def run(ci: str, reps: int = 8):
        if ci not in found:
            evidence = []

            def recorded(*args, **kwargs):
                evidence.append(analyze(*args, **kwargs))
                return evidence[-1]

            codes = {}
            for criteria in ("fast", "full"):
                with pytest.MonkeyPatch.context() as patch:  # `full_statuses` imports analyze when it runs
                    patch.setattr("moclab.evidence.analyze", recorded)
                    output = run_chunk(
                        ChunkTask(0, point, plan, targets, ENTROPY, 0, reps, _options(ci, criteria))
                    )
                codes[criteria] = {t.id: output.outcomes[t.id]["criterion:consistency"] for t in targets}
                if criteria == "fast":
                    assert output.unjudged[SUBGROUP_PATHWAY] == {}
            assert len(evidence) == reps  # the fast engine never calls the scorecard
            found[ci] = (codes["fast"], codes["full"], evidence)
        return found[ci]

    return run


@pytest.mark.parametrize("ci", ["monte_carlo", "percentile"])
def test_consistency_status_equals_the_scorecards_replication_by_replication(runs, ci):
    """Every replication's consistency status of both pathways is the scorecard's; the team-level pathway's
    is judged in every replication (no code -1), and by subgroups: its sites are never compared, so a status
    other than "not testable" can only come from the subgroup meta-analysis."""
    fast, full, evidence = runs(ci)
    for pathway in PATHWAYS:
        np.testing.assert_array_equal(fast[pathway], full[pathway], err_msg=pathway)
    codes = fast[SUBGROUP_PATHWAY]
    assert (codes >= 0).all()
    assert (codes != NOT_TESTABLE).sum() >= len(codes) // 2
    # the subgroups' numbers decide: more than one status among the replications judged by them
    assert len(set(codes.tolist()) - {NOT_TESTABLE}) >= 2
    for scorecard in evidence:
        units = scorecard.scorecard.pathway(SUBGROUP_PATHWAY).verdict("consistency").evidence.get("units")
        assert units in (None, "subgroups of engagement_length")
    assert any(
        scorecard.scorecard.pathway(SUBGROUP_PATHWAY).verdict("consistency").evidence.get("units")
        == "subgroups of engagement_length"
        for scorecard in evidence
    )


@pytest.mark.parametrize("ci", ["monte_carlo", "percentile"])
def test_subgroup_effects_and_meta_analysis_equal_the_scorecards(design, runs, ci):
    """The subgroups' indirect effects with their SEs (the SD of the Monte Carlo draws or bootstrap
    resamples, drawn from the scorecard's seed), the pooled effect and the prediction interval for a new
    subgroup are the scorecard's `results["consistency"]` (its `meta_analysis`) to 1e-8, in its order."""
    plan, targets, point = design
    _, _, evidence = runs(ci)
    compared = 0
    for replication, scorecard in enumerate(evidence):
        data_seed, analysis_seed = replication_seeds(ENTROPY, point.key, replication)
        context = criteria_context(plan, targets, data_seed, 0.95)
        found = replication_evidence(plan, draw(plan, data_seed), targets, context, 0.95)
        subgroups = found[SUBGROUP_PATHWAY].sites.subgroups
        assert isinstance(subgroups, SubgroupAnalyses) and subgroups.columns == ("engagement_length",)
        mine = subgroups.pooled(ci=ci, n_boot=200, seed=analysis_seed, level=0.95)
        theirs = scorecard.scorecard.pathway(SUBGROUP_PATHWAY).results.get("consistency")
        if theirs is None:
            assert "pooled" not in mine and mine["failure"]
            continue
        units = [effect for effect in theirs.effects if effect.kind == "study"]
        assert [unit.name for unit in mine["units"]] == [unit.name for unit in units]
        np.testing.assert_allclose(
            [[unit.estimate, unit.se, unit.ci_low, unit.ci_high] for unit in mine["units"]],
            [[unit.estimate, unit.se, unit.ci_low, unit.ci_high] for unit in units],
            rtol=1e-8,
        )
        pooled = theirs.effect("pooled")
        np.testing.assert_allclose(
            [mine["pooled"].estimate, mine["pooled"].ci_low, mine["pooled"].ci_high, *mine["prediction"]],
            [pooled.estimate, pooled.ci_low, pooled.ci_high, *theirs.prediction],
            rtol=1e-8,
        )
        assert mine["unit_name"] == "subgroups of engagement_length"
        compared += 1
    assert compared >= len(evidence) // 2


def test_an_individual_mechanism_with_comparable_sites_never_runs_the_subgroup_models(design, monkeypatch):
    """The trust pathway's sites are compared (per-site b paths in twenty sites), so its subgroup analyses,
    though declared, are never run: consistency is judged across sites, as the scorecard judges it."""
    plan, targets, point = design
    ran = []
    original = SubgroupAnalyses.pooled

    def counted(self, **options):
        ran.append(self.target.id)
        return original(self, **options)

    monkeypatch.setattr(SubgroupAnalyses, "pooled", counted)
    data_seed, _ = replication_seeds(ENTROPY, point.key, 0)
    declared = criteria_context(plan, targets, data_seed, 0.95).targets[PATHWAYS[1]].plan.subgroups
    assert tuple(declared) == ("engagement_length",)
    output = run_chunk(ChunkTask(0, point, plan, targets, ENTROPY, 0, 3, _options("monte_carlo", "fast")))
    assert ran == [SUBGROUP_PATHWAY] * 3
    assert (output.outcomes[PATHWAYS[1]]["criterion:consistency"] >= 0).all()


def test_subgroups_too_small_leave_consistency_not_testable_with_both_reasons():
    """Four sites of about twelve: neither engagement-length subgroup reaches the 30 recipients with the
    strategy, mechanism and outcome the scorecard needs (``min_subgroup_size``), so no subgroup model is
    fitted and consistency is not testable, as the scorecard finds; the reason names why the sites were not
    compared and why the subgroups could not be."""
    point = DesignPoint(sites=4, per_site=12)
    plan, targets = _design(point)
    codes, reasons = {}, {}
    for criteria in ("fast", "full"):
        options = _options("monte_carlo", criteria)
        output = run_chunk(ChunkTask(0, point, plan, targets[:1], ENTROPY, 0, 4, options))
        codes[criteria] = output.outcomes[SUBGROUP_PATHWAY]["criterion:consistency"]
        reasons[criteria] = output.reasons[SUBGROUP_PATHWAY]["consistency"]
    np.testing.assert_array_equal(codes["fast"], codes["full"])
    assert (codes["fast"] == NOT_TESTABLE).all()
    assert reasons["fast"] == (
        "the mechanism is analysed as unit means; fewer than two subgroups of 'engagement_length' could be "
        "analysed"
    )
    assert reasons["full"].endswith("fewer than two subgroups of 'engagement_length' could be analysed")


# ---------------------------------------------------------------------------------------------------------
# The batched subgroup models against `mediate` itself, subgroup by subgroup
# ---------------------------------------------------------------------------------------------------------


def _mediate_reference(subgroups: SubgroupAnalyses, rows: np.ndarray, ci: str, seed: int):
    """The scorecard's subgroup model written out: `mediate` on these recipients' columns (the mechanism and
    its competitors in parallel, the baselines as covariates, clustered by site), its indirect effect of
    the mechanism with the SE it reports; None where it raises a DataError."""
    from moclab.analysis import mediate
    from moclab.errors import DataError

    target, scores = subgroups.target, subgroups.draw.scores
    mediators = [target.mechanism_measure, *target.alternative_measures]
    frame = {"x": subgroups.x, "y": scores[target.outcome_measure][:, target.outcome_wave]}
    frame |= {f"m{j}": scores[name][:, target.mechanism_wave] for j, name in enumerate(mediators)}
    baselines = [*mediators, target.outcome_measure]
    frame |= {f"c{j}": scores[name][:, target.baseline_wave] for j, name in enumerate(baselines)}
    frame["site"] = subgroups.draw.site_of
    try:
        result = mediate(
            {name: values[rows] for name, values in frame.items()},
            x="x",
            m=[f"m{j}" for j in range(len(mediators))],
            y="y",
            covariates=[f"c{j}" for j in range(len(baselines))],
            cluster="site",
            ci=ci,
            n_boot=200,
            seed=seed,
            x_type="arm",
        )
    except DataError:
        return None
    effect = result.effect("indirect[m0]")
    return effect.estimate, effect.se


@pytest.fixture(scope="module")
def subgroup_case(design):
    """The team-level pathway's subgroup analyses in the first replication, its analysis seed, and subsets
    of recipients: both engagement-length subgroups and everyone (models `mediate` fits), and three it
    refuses: one arm of a subgroup, one site (one cluster and one arm: sites are randomized), and twelve
    recipients of both arms (fewer rows than the outcome model's eleven coefficients plus two)."""
    from moclab.simulate.tables import recipients_table

    plan, targets, point = design
    data_seed, analysis_seed = replication_seeds(ENTROPY, point.key, 0)
    context = criteria_context(plan, targets, data_seed, 0.95)
    subgroups = replication_evidence(plan, draw(plan, data_seed), targets, context, 0.95)[SUBGROUP_PATHWAY]
    subgroups = subgroups.sites.subgroups
    labels = recipients_table(plan, subgroups.draw)["engagement_length"].astype("string")
    groups = [(labels == value).to_numpy(dtype=bool, na_value=False) for value in labels.dropna().unique()]
    assert len(groups) == 2 and all(group.sum() >= 200 for group in groups)
    treated, control = np.flatnonzero(subgroups.x == 1), np.flatnonzero(subgroups.x == 0)
    few = np.zeros(subgroups.x.size, dtype=bool)
    few[treated[:: treated.size // 6][:6]] = True
    few[control[:: control.size // 6][:6]] = True
    assert few.sum() == 12
    subsets = {
        "first subgroup": groups[0],
        "second subgroup": groups[1],
        "everyone": np.ones(subgroups.x.size, dtype=bool),
        "one arm of a subgroup": groups[0] & (subgroups.x == 1),
        "one site": subgroups.draw.site_of == subgroups.draw.site_of[0],
        "twelve recipients": few,
    }
    return subgroups, analysis_seed, subsets


@pytest.mark.parametrize("ci", ["monte_carlo", "percentile", "delta"])
def test_batched_subgroup_effects_equal_mediate_on_the_same_rows_and_seed(subgroup_case, ci):
    """Each subset's indirect effect and SE (the SD of `mediate`'s 20,000 Monte Carlo draws, of its
    usable bootstrap resamples, or the delta-method SE) equal `mediate`'s on the same recipients and seed
    to 1e-8; the subsets `mediate` refuses give None (left out), and only those."""
    subgroups, seed, subsets = subgroup_case
    masks = list(subsets.values())
    mine = subgroups.indirect_effects(masks, ci, 200, seed, 0.95)
    theirs = [_mediate_reference(subgroups, rows, ci, seed) for rows in masks]
    refused = [name for name, effect in zip(subsets, theirs, strict=True) if effect is None]
    assert refused == ["one arm of a subgroup", "one site", "twelve recipients"]
    for name, found, reference in zip(subsets, mine, theirs, strict=True):
        if reference is None:
            assert found is None, name
            continue
        np.testing.assert_allclose(found, reference, rtol=1e-8, err_msg=name)
    # the SEs differ by method: a method's own SE is read, not another's
    if ci != "delta":
        delta = subgroups.indirect_effects(masks[:1], "delta", 200, seed, 0.95)[0]
        assert abs(mine[0][1] / delta[1] - 1) > 1e-3


def _near_copy(subgroups: SubgroupAnalyses, rows: np.ndarray, spread: float) -> SubgroupAnalyses:
    """The same analyses on a draw whose third competing mechanism is, among these recipients, the second
    plus normal noise of SD `spread` (the scores' SD is about 1)."""
    import dataclasses

    target, wave = subgroups.target, subgroups.target.mechanism_wave
    first, second = (subgroups.draw.scores[name] for name in target.alternative_measures[1:3])
    copy = second.copy()
    noise = np.random.default_rng(3).standard_normal(copy.shape[0])
    copy[rows, wave] = first[rows, wave] + spread * noise[rows]
    scores = {**subgroups.draw.scores, target.alternative_measures[2]: copy}
    return dataclasses.replace(subgroups, draw=dataclasses.replace(subgroups.draw, scores=scores))


@pytest.mark.parametrize(
    ("ci", "spread", "by_mediate", "left_out"),
    [
        # mediate's rank check refuses the model: left out without calling mediate
        ("monte_carlo", 1e-7, 0, True),
        ("delta", 1e-7, 0, True),
        # mediate accepts it, analyse_batch's stricter screen for collinear columns does not: mediate's
        ("delta", 1e-6, 1, False),
        # ... and no bootstrap resample of it can be estimated, so mediate refuses it after all
        ("percentile", 1e-6, 1, True),
        # the Monte Carlo SEs are computed from mediate's own fit, which accepts it
        ("monte_carlo", 1e-6, 0, False),
    ],
)
def test_a_nearly_collinear_subgroup_is_left_out_or_fitted_as_mediate_does(
    subgroup_case, ci, spread, by_mediate, left_out, monkeypatch
):
    """A competing mechanism that nearly copies another within the first subgroup: the subgroup is left out
    exactly when `mediate` refuses it (its rank check, or too few usable bootstrap resamples), fitted by
    `mediate` itself where only `analyse_batch` would refuse it, and equals `mediate` otherwise; the
    second subgroup stays batched and equal."""
    subgroups, seed, subsets = subgroup_case
    masks = [subsets["first subgroup"], subsets["second subgroup"]]
    near = _near_copy(subgroups, masks[0], spread)
    fitted = []
    original = SubgroupAnalyses._mediate

    def counted(self, rows, *args):
        fitted.append(rows)
        return original(self, rows, *args)

    monkeypatch.setattr(SubgroupAnalyses, "_mediate", counted)
    mine = near.indirect_effects(masks, ci, 200, seed, 0.95)
    theirs = [_mediate_reference(near, rows, ci, seed) for rows in masks]
    assert len(fitted) == by_mediate and all((rows == masks[0]).all() for rows in fitted)
    assert (mine[0] is None) is (theirs[0] is None) is left_out
    for found, reference in zip(mine, theirs, strict=True):
        if reference is not None:
            np.testing.assert_allclose(found, reference, rtol=1e-8)


def test_analyse_batch_reports_the_sd_of_the_draws_mediate_reports_as_the_se(subgroup_case):
    """`BatchResult`'s ``percentile_sd`` of the indirect effect is `mediate`'s SE with a percentile interval
    on the same rows and seed: the SD (n - 1) of the usable bootstrap resamples, which are `mediate`'s to
    rounding."""
    from moclab.design.engine import analyse_batch

    subgroups, seed, subsets = subgroup_case
    masks = [subsets["first subgroup"], subsets["everyone"]]
    z = subgroups._model_matrix()
    data = [subgroups._complete_rows(z, subgroups.draw.site_of, rows) for rows in masks]
    fit = analyse_batch(data, [seed, seed], methods=["percentile"], n_boot=200)
    for row, rows in enumerate(masks):
        percentile = _mediate_reference(subgroups, rows, "percentile", seed)[1]
        np.testing.assert_allclose(fit.indirect[0]["percentile_sd"][row], percentile, rtol=1e-8)


@pytest.mark.parametrize("ci", ["monte_carlo", "percentile"])
def test_the_pathways_of_a_replication_share_one_batch_and_each_equals_its_own(design, ci, monkeypatch):
    """The three psychological-safety pathways (one per outcome) all go to the engagement-length subgroups:
    the first one's call fits the six subgroup models together (one batch, one set of Monte Carlo normals),
    the others read theirs, and every pathway's pooled effect, subgroups and prediction equal those of its
    analyses run alone (no share), which `mediate` itself was checked against above."""
    import dataclasses

    import moclab.design.criteria_analyses as criteria_analyses

    plan, _, point = design
    outcomes = ("acceptability", "appropriateness", "feasibility")
    targets = tuple(power_targets(plan, [f"isp_support__psych_safety__{outcome}" for outcome in outcomes]))
    data_seed, analysis_seed = replication_seeds(ENTROPY, point.key, 1)
    context = criteria_context(plan, targets, data_seed, 0.95)
    found = replication_evidence(plan, draw(plan, data_seed), targets, context, 0.95)
    analyses = [found[target.id].sites.subgroups for target in targets]
    assert len({id(item.share) for item in analyses}) == 1 and analyses[0].share.members == analyses
    batches = []
    original = criteria_analyses._indirect_effects

    def counted(requests, *args):
        batches.append(len(requests))
        return original(requests, *args)

    monkeypatch.setattr(criteria_analyses, "_indirect_effects", counted)
    options = {"ci": ci, "n_boot": 200, "seed": analysis_seed, "level": 0.95}
    shared = [item.pooled(**options) for item in analyses]
    assert batches == [6]  # two subgroups of each pathway, in one call
    assert analyses[0].share.effects == {}  # each pathway's effects are taken out when read
    alone = [dataclasses.replace(item, share=None).pooled(**options) for item in analyses]
    assert batches == [6, 2, 2, 2]
    for mine, reference in zip(shared, alone, strict=True):
        assert [unit.name for unit in mine["units"]] == [unit.name for unit in reference["units"]]
        np.testing.assert_allclose(
            [[unit.estimate, unit.se] for unit in mine["units"]] + [[mine["pooled"].estimate, 0.0]],
            [[unit.estimate, unit.se] for unit in reference["units"]] + [[reference["pooled"].estimate, 0.0]],
            rtol=1e-12,
        )
    # the three outcomes give three different sets of subgroup effects
    assert len({round(result["pooled"].estimate, 12) for result in shared}) == 3
