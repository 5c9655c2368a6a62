"""`analyze` end to end: the example study, thin studies that must give "not testable" rather than crash,
replications, the qualitative hook, and the shapes of the output (frame, JSON, HTML, rich)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from moclab.analysis import meta_analysis
from moclab.evidence import CRITERIA, QualitativeEvidence, Status, StudyEvidence, analyze
from moclab.evidence.conclusion import GRADES

from .helpers import cross_sectional, write_study

TRUST = "isp_support__trust__acceptability"
CREDIBILITY = "isp_support__credibility__feasibility"


@pytest.fixture(scope="module")
def example_evidence(example_study) -> StudyEvidence:
    return analyze(example_study, pathways=[TRUST, CREDIBILITY], n_boot=300, seed=11, show_progress=False)


def test_the_example_study_gets_a_full_matrix(example_evidence):
    frame = example_evidence.to_frame()
    assert list(frame.index) == [TRUST, CREDIBILITY]
    assert list(frame.columns) == ["Conclusion", *[c.name for c in CRITERIA]]
    assert set(frame.drop(columns="Conclusion").to_numpy().ravel()) <= {s.value for s in Status}
    assert set(frame["Conclusion"]) <= set(GRADES)
    pathway = example_evidence.scorecard.pathway(TRUST)
    assert len(pathway.verdicts) == 7 and [v.criterion for v in pathway.verdicts] == [c.id for c in CRITERIA]
    # one model for strong association and specificity: the mechanism with its competitors in parallel
    assert {"mediation", "panel", "dose_mechanism", "mechanism_outcome", "sensitivity"} <= set(
        pathway.results
    )
    assert "specificity" not in pathway.results
    assert "contrast[trust-credibility]" in [e.name for e in pathway.results["mediation"].effects]
    assert pathway.n > 100 and example_evidence.settings.seed == 11


def test_the_conclusion_reads_the_one_sensitivity_result(example_evidence):
    """ρ, the robustness values and the benchmark bounds come from one `mediation_sensitivity` result; each
    benchmark's multiple is the smallest whose adjusted interval of the b path reaches zero, recomputed here
    from the result's bounds table."""
    pathway = example_evidence.scorecard.pathway(CREDIBILITY)
    result = pathway.results["sensitivity"]
    figures = pathway.conclusion.robustness
    assert figures["rho_at_zero"] == result.rho_at_zero and figures["robustness_value"] == result.rv_q
    assert figures["rv_alpha"] == result.rv_qa > 0 and figures["partial_r2"] == result.partial_r2
    bounds = result.bounds
    assert set(bounds["k"]) == {1.0, 2.0, 3.0} and result.ovb.estimate > 0
    rows = {row["benchmark"]: row for row in figures["benchmarks"]}
    assert set(rows) == set(bounds["benchmark"])
    for name, own in bounds.groupby("benchmark"):
        reaching = own.loc[own["adjusted_ci_low"] <= 0, "k"]
        assert rows[name]["k"] == (reaching.min() if len(reaching) else None)
    assumptions = {a.name: a for a in pathway.conclusion.assumptions}
    note = assumptions["no_mechanism_outcome_confounding"].note
    assert "(bounds from measured covariates, Cinelli & Hazlett 2020)" in note


def test_example_verdicts_follow_its_design(example_evidence):
    """The example is a site-randomized trial with three waves in which support works through trust."""
    card = example_evidence.scorecard
    association = card.verdict(TRUST, "strong_association")
    assert association.status is Status.MET
    mediation = card.pathway(TRUST).results["mediation"]
    assert association.estimate == mediation.effect("indirect[trust]").estimate
    assert association.evidence["n_clusters"] == 12 and "trust" in association.evidence["icc"]
    manipulation = card.verdict(TRUST, "experimental_manipulation")
    assert manipulation.status is Status.MET and "site level" in manipulation.reason
    assert manipulation.evidence["outcome_moved"] and not manipulation.evidence["mechanism_link_experimental"]
    robustness = manipulation.evidence["robustness"]
    assert 0 < robustness["rho_at_zero"] < 1 and 0 < robustness["robustness_value"] < 1
    timeline = card.verdict(TRUST, "timeline")
    assert timeline.evidence["order_by_design"] is True
    assert timeline.evidence["competitors_in_model"] == ["positive_emotion", "psych_safety", "credibility"]
    # twelve sites with three competitors in the panel: the forward path is positive but not clear
    assert timeline.status is Status.NOT_MET and timeline.evidence["m_to_y"]["estimate"] > 0
    assert not timeline.evidence["reverse_as_large"]
    consistency = card.verdict(TRUST, "consistency")
    # per-site b paths need more recipients per site than the example has: subgroups instead
    assert consistency.evidence["units"] == "subgroups of engagement"
    assert (
        card.verdict(TRUST, "plausibility").status is Status.MET
    )  # a template and the catalog back both links
    conclusion = card.pathway(TRUST).conclusion
    # a thin study: not evidence against the pathway, but not enough for a causal reading either
    assert conclusion.grade == "suggestive"
    assert "timeline does not show trust leading acceptability" in conclusion.statement
    names = [item.name for item in conclusion.assumptions]
    assert names == [
        "strategy_unconfounded",
        "no_mechanism_outcome_confounding",
        "no_reverse_causation",
        "no_post_treatment_confounder",
        "no_other_mechanism",
    ]
    assert conclusion.assumptions[0].status == "identified by design"
    assert conclusion.assumptions[1].status == "assumed"
    assert "robustness value" in conclusion.assumptions[1].note


def test_the_same_seed_gives_the_same_numbers(example_study, example_evidence):
    again = analyze(example_study, pathways=[TRUST, CREDIBILITY], n_boot=300, seed=11, show_progress=False)
    first, second = example_evidence.to_dict(), again.to_dict()
    first.pop("elapsed_seconds"), second.pop("elapsed_seconds")
    assert first == second


def test_output_shapes(example_evidence):
    data = example_evidence.to_dict()
    text = json.dumps(data, allow_nan=False)  # strict JSON: NaN became null
    assert json.loads(text)["scorecard"]["matrix"][TRUST]["strong_association"] == "met"
    pathway = data["scorecard"]["pathways"][0]
    assert pathway["results"]["mediation"]["type"] == "MediationResult"
    assert pathway["plan"]["strategy_coding"]["control"] == "usual"
    assert data["settings"]["seed"] == 11 and data["study"]["randomization"]["level"] == "site"
    html = example_evidence._repr_html_()
    assert "<table" in html and "Strong association" in html
    assert "<table" in example_evidence.scorecard.pathway(TRUST)._repr_html_()
    console = Console(width=200, record=True)
    console.print(example_evidence.scorecard.rich_table())
    console.print(example_evidence.scorecard.details())
    printed = console.export_text()
    assert "isp_support → trust → acceptability" in printed and "✓ met" in printed
    counts = example_evidence.scorecard.counts()
    assert counts.to_numpy().sum() == 14 and list(counts.columns) == [s.value for s in Status]


def test_replications_pool_the_indirect_effect_across_studies(example_study, example_evidence):
    pooled = analyze(
        example_study,
        pathways=[TRUST],
        n_boot=300,
        seed=11,
        replications=[example_evidence, example_evidence],
        show_progress=False,
    )
    verdict = pooled.scorecard.verdict(TRUST, "consistency")
    assert verdict.evidence["units"] == "studies" and verdict.evidence["k"] == 3
    own = example_evidence.scorecard.pathway(TRUST).results["mediation"].effect("indirect[trust]")
    reference = meta_analysis(estimate=[own.estimate] * 3, se=[own.se] * 3, knapp_hartung=True)
    assert verdict.estimate == pytest.approx(reference.pooled.estimate)
    assert verdict.interval == pytest.approx((reference.pooled.ci_low, reference.pooled.ci_high))
    assert verdict.evidence["prediction"] == pytest.approx(list(reference.prediction))
    # three identical studies: with the Knapp-Hartung t(2) interval the pooled effect is less certain than the
    # example's own, and includes 0
    assert verdict.interval[0] < 0 < verdict.interval[1]
    assert verdict.status is Status.NOT_MET


def test_the_qualitative_hook_reaches_plausibility(example_study):
    seen = []

    def support(pathway):
        seen.append(pathway.id)
        return QualitativeEvidence(
            "contradicts", "recipients describe acceptability before trust", ("qual.qdpx",)
        )

    evidence = analyze(
        example_study, pathways=[TRUST], n_boot=200, seed=1, qualitative_support=support, show_progress=False
    )
    assert seen == [TRUST]
    verdict = evidence.scorecard.verdict(TRUST, "plausibility")
    assert verdict.status is Status.NOT_MET
    assert evidence.scorecard.pathway(TRUST).qualitative.sources == ("qual.qdpx",)


def test_a_thin_observational_cross_sectional_study_gives_not_testable_not_a_crash(tmp_path):
    recipients, long = cross_sectional(n_sites=1, per_site=150, seed=3)
    folder = write_study(tmp_path / "thin", recipients=recipients, measures=long, waves=[{"id": "w1"}])
    evidence = analyze(folder, n_boot=200, seed=2, show_progress=False)
    card = evidence.scorecard
    for pathway in card.pathways:
        statuses = pathway.statuses
        assert statuses["timeline"] is Status.NOT_TESTABLE
        assert statuses["experimental_manipulation"] is Status.NOT_MET  # observational
        assert statuses["consistency"] is Status.NOT_TESTABLE  # one site, no subgroups
    trust = card.pathway("coaching__trust__acceptability")
    assert trust.statuses["strong_association"] is Status.MET
    assert trust.statuses["specificity"] in (Status.MET, Status.PARTLY_MET)  # credibility is measured
    gradient = trust.verdict("gradient")
    assert gradient.status is Status.PARTLY_MET  # the mechanism → outcome link holds; no activities log
    assert "no activities table" in gradient.reason and "log the support" in gradient.design_change
    assert "randomize the strategy" in trust.verdict("experimental_manipulation").design_change
    assert "three waves" in trust.verdict("timeline").design_change
    json.dumps(evidence.to_dict(), allow_nan=False)


def test_a_strategy_without_variation_makes_the_data_criteria_not_testable(tmp_path):
    recipients, long = cross_sectional(n_sites=1, per_site=80, seed=4)
    long.loc[long["measure"] == "coaching", "value"] = 2.0  # everyone got the same dose
    folder = write_study(tmp_path / "flat", recipients=recipients, measures=long, waves=[{"id": "w1"}])
    evidence = analyze(folder, n_boot=200, seed=2, show_progress=False)
    pathway = evidence.scorecard.pathway("coaching__trust__acceptability")
    association = pathway.verdict("strong_association")
    assert association.status is Status.NOT_TESTABLE
    assert "constant" in association.reason
    assert pathway.verdict("specificity").status is Status.NOT_TESTABLE
    assert pathway.verdict("plausibility").status is not Status.NOT_TESTABLE  # judged on the backing alone


def test_recipient_randomization_within_sites_gives_per_site_consistency(tmp_path):
    rng = np.random.default_rng(8)
    sites, per_site = 8, 40
    n = sites * per_site
    ids = [f"R{i:04d}" for i in range(n)]
    site = np.repeat([f"S{j}" for j in range(sites)], per_site)
    arm = rng.permutation(np.tile(["coached", "usual"], n // 2))
    x = (arm == "coached").astype(float)
    rows = []
    for wave in ("w0", "w1"):
        trust = 0.6 * x * (wave == "w1") + rng.normal(size=n)
        credibility = rng.normal(size=n)
        acceptability = 0.5 * trust + rng.normal(size=n)
        for name, values in (
            ("trust", trust),
            ("credibility", credibility),
            ("acceptability", acceptability),
        ):
            rows.append(pd.DataFrame({"recipient_id": ids, "wave": wave, "measure": name, "value": values}))
    folder = write_study(
        tmp_path / "rct",
        recipients=pd.DataFrame({"recipient_id": ids, "site": site, "arm": arm}),
        measures=pd.concat(rows, ignore_index=True),
        waves=[{"id": "w0", "month": 0}, {"id": "w1", "month": 6}],
        randomization={"level": "recipient", "arms": ["coached", "usual"], "control": "usual"},
    )
    evidence = analyze(
        folder, pathways=["coaching__trust__acceptability"], n_boot=200, seed=5, show_progress=False
    )
    pathway = evidence.pathways[0]
    consistency = pathway.verdict("consistency")
    assert consistency.evidence["units"] == "sites" and consistency.evidence["k"] == sites
    assert "site_effects" in pathway.results and consistency.evidence["knapp_hartung"] is True
    manipulation = pathway.verdict("experimental_manipulation")
    # eight sites (CR1 with 7 df): the total effect is not clear although the indirect effect is
    assert manipulation.status is Status.PARTLY_MET
    assert "the outcome did not move significantly" in manipulation.reason
    timeline = pathway.verdict("timeline")
    assert not timeline.evidence["order_by_design"]  # mechanism and outcome both at the second wave
    assert any("recipient level" in line or "recipient" in line for line in pathway.assumptions)


def test_a_constant_or_unmeasured_competitor_is_left_out_not_allowed_to_sink_the_pathway(example_copy):
    """One competing mechanism without variation must not make every pathway that names it untestable."""
    folder, _ = example_copy()
    measures = pd.read_csv(folder / "data" / "measures.csv")
    measures.loc[measures["measure"] == "credibility", "value"] = 3.0
    measures.to_csv(folder / "data" / "measures.csv", index=False)
    evidence = analyze(folder, pathways=[TRUST], n_boot=200, seed=3, show_progress=False)
    pathway = evidence.pathways[0]
    assert pathway.verdict("strong_association").status is not Status.NOT_TESTABLE
    assert pathway.verdict("strong_association").evidence["competitors_in_model"] == [
        "positive_emotion",
        "psych_safety",
    ]
    left_out = "it is constant (3 for every analysed recipient) at wave m6"
    assert f"competing mechanism 'credibility' left out of the models: {left_out}" in pathway.notes
    # Specificity names the constant competitor rather than reading it as one never measured.
    specificity = pathway.verdict("specificity")
    assert f"the competing mechanism credibility is left out: {left_out}" in specificity.reason
    assert "no competing mechanism was measured" not in specificity.reason
    assert specificity.evidence["left_out_alternatives"] == {"credibility": left_out}


def test_a_bug_in_an_analysis_surfaces_as_an_exception_not_as_a_verdict(example_study, monkeypatch):
    """Only a MoclabError (data that cannot answer) becomes "not testable"; a bug in an estimator, such as a
    shape error, must stop the analysis with its traceback instead of advising a design change."""
    from moclab.evidence import analysis_base

    def broken(*args, **kwargs):
        raise ValueError("operands could not be broadcast together with shapes (151,) (150,)")

    monkeypatch.setattr(analysis_base, "mediate", broken)
    with pytest.raises(ValueError, match="could not be broadcast"):
        analyze(example_study, pathways=[TRUST], n_boot=100, seed=1, show_progress=False)
