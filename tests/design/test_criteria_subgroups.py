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
