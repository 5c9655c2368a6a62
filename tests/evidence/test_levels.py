"""Every verdict states the level it was judged at; a mechanism the model declares above the recipient gets a
note that no criterion analyses it there yet; with --multilevel, the criteria without a multilevel model say
why (issue 17, item 3, as far as it is built)."""

from __future__ import annotations

import pytest

from moclab.evidence import CRITERIA, analyze
from moclab.report import build_report

TRUST = "isp_support__trust__acceptability"  # trust: an individual-level node of the example's model
SAFETY = "isp_support__psych_safety__feasibility"  # psychological safety: a team-level node
QUICK = {"n_boot": 100, "seed": 1, "show_progress": False}


@pytest.fixture(scope="module")
def single(example_study):
    return analyze(example_study, pathways=[TRUST, SAFETY], **QUICK)


@pytest.fixture(scope="module")
def multilevel(example_study):
    return analyze(example_study, {"mediation": "multilevel"}, pathways=[SAFETY], **QUICK)


def test_every_verdict_says_where_it_was_judged(single, example_study):
    assert example_study.model.node("psych_safety").level.value == "team"
    assert example_study.model.node("trust").level.value == "individual"
    for pathway in single.pathways:
        levels = {v.criterion: v.evidence["judged_at"] for v in pathway.verdicts}
        assert set(levels) == {c.id for c in CRITERIA}
        assert levels["strong_association"] == (
            "recipients: the single-level mediation model, errors clustered by site"
        )
        assert levels["consistency"].startswith(f"across {pathway.verdict('consistency').evidence['units']}")
        assert levels["plausibility"].startswith("none:")
        assert not any("not multilevel" in text for text in levels.values())


def test_a_team_level_mechanism_is_not_passed_off_as_team_evidence(single):
    notes = {pathway.id: " ".join(pathway.notes) for pathway in single.pathways}
    assert "the model declares psych_safety at the team level" in notes[SAFETY]
    assert "not about teams" in notes[SAFETY]
    assert "declares" not in notes[TRUST]


def test_with_multilevel_the_other_criteria_say_why_they_are_not(multilevel):
    (pathway,) = multilevel.pathways
    levels = {v.criterion: v.evidence["judged_at"] for v in pathway.verdicts}
    assert levels["strong_association"] == "between sites: the 2-1-1 multilevel mediation model"
    assert levels["experimental_manipulation"] == levels["strong_association"]
    for criterion in ("specificity", "consistency", "timeline", "gradient"):
        assert "(not multilevel: " in levels[criterion], criterion
    assert "not multilevel" not in levels["plausibility"]


def test_the_report_shows_the_level_of_each_verdict(single, example_study):
    report = build_report(single, example_study, show_progress=False)
    assert report.html.count("Judged at: recipients: the single-level mediation model") >= 2
    assert "the model declares psych_safety at the team level" in report.html
