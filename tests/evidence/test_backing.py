"""What backs a link (templates, catalog stages, citations), expected signs, and non-target outcomes."""

from __future__ import annotations

from moclab.evidence import EvidenceSettings, Status, analyze, plan_pathways
from moclab.evidence.backing import link_backing
from moclab.evidence.rules import judge_specificity
from moclab.model import model_from_dict
from moclab.study import load_study

from .helpers import MODEL

TRUST = "isp_support__trust__acceptability"


def test_example_links_are_backed_by_templates_the_catalog_and_the_model_citation(example_study):
    settings = EvidenceSettings.model_validate(
        {"pathways": [TRUST], "links": {"isp_support->trust": {"citations": ["Albers B, et al. 2022."]}}}
    )
    plan = plan_pathways(example_study, settings)[0]
    first, second = link_backing(example_study.model, plan)
    assert (first.source, first.target) == ("isp_support", "trust")
    assert first.sources[0] == "citation in moclab.yaml: Albers B, et al. 2022."
    assert any(s.startswith("template 'recipient-pathway'") for s in first.sources)
    assert any(s.startswith("template 'isp-mechanisms'") for s in first.sources)  # matched by node id
    assert "catalog framework 'recipient-pathway' (Metz et al. 2024): stage 1 → stage 2" in second.sources
    # the model's own citation is theory, not a source specific to the link (docs/criteria.md)
    assert not any(s.startswith("the model's citation") for s in second.sources)
    assert second.theory[0].startswith("the model's citation (Metz AJ")


def test_a_model_without_citation_or_template_edge_is_unbacked():
    model = model_from_dict(
        {
            "model": "own",
            "nodes": [
                {"id": "newsletter", "type": "strategy"},
                {"id": "curiosity", "type": "mechanism"},
                {"id": "uptake", "type": "proximal outcome"},
            ],
            "edges": [{"from": "newsletter", "to": "curiosity"}, {"from": "curiosity", "to": "uptake"}],
        },
        catalog=None,
    )

    from types import SimpleNamespace

    plan = SimpleNamespace(
        links=(("newsletter", "curiosity"), ("curiosity", "uptake")), signs={}, citations={}
    )
    assert [link.sources for link in link_backing(model, plan)] == [(), ()]


def test_a_negative_link_flips_the_expected_signs(example_copy):
    folder, _ = example_copy('evidence:\n  links:\n    "trust->acceptability": {sign: negative}\n')
    study = load_study(folder, show_progress=False)
    plan = plan_pathways(study, study.config.evidence.model_copy(update={"pathways": None}))
    trust = next(p for p in plan if p.id == TRUST)
    assert trust.sign_between("isp_support", "trust") == 1
    assert trust.sign_between("trust", "acceptability") == -1
    assert trust.sign_between("isp_support", "acceptability") == -1
    evidence = analyze(study, pathways=[TRUST], n_boot=200, seed=2, show_progress=False)
    plausibility = evidence.scorecard.verdict(TRUST, "plausibility")
    # the b path is clearly positive: the declared negative link is contradicted
    assert plausibility.status is Status.NOT_MET
    assert plausibility.evidence["paths"]["b[trust]"]["expected"] == "negative"


def test_non_target_outcomes_enter_specificity(example_study):
    evidence = analyze(
        example_study,
        {"pathways": [{"id": TRUST, "non_target_outcomes": ["sustained_capacity"]}]},
        n_boot=200,
        seed=3,
        show_progress=False,
    )
    pathway = evidence.scorecard.pathway(TRUST)
    verdict = pathway.verdict("specificity")
    assert "non_target[sustained_capacity]" in pathway.results
    expected = pathway.results["non_target[sustained_capacity]"].effect("indirect[trust]")
    assert verdict.evidence["non_target_indirect"]["sustained_capacity"]["estimate"] == expected.estimate
    assert "non-target sustained_capacity" in verdict.reason


def test_specificity_without_an_estimate_says_so():
    verdict = judge_specificity(None, [], [], level=0.95, failures=["the model failed: constant"])
    assert verdict.status is Status.NOT_TESTABLE
    assert verdict.reason.startswith("the mechanism's indirect effect could not be estimated")
    assert "constant" in verdict.reason


def test_the_test_model_is_valid():
    assert model_from_dict(MODEL, catalog=None).pathways_resolved()
