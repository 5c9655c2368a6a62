"""Differential attrition in the scorecard: named in the verdicts it can bias and questioned in the
conclusion when recipients of one arm with low baseline outcomes are lost; absent when nobody was lost
selectively; the participant flow's "analysed" is the strong-association model's n; the report shows the flow.
"""

from __future__ import annotations

import re

import pytest

from moclab.evidence import analyze
from moclab.evidence.conclusion import ATTRITION_CRITERIA
from moclab.report import build_report
from moclab.study import example_path, load_study

from .helpers import REAL, lose_low_outcomes_of_one_arm, simulated_study

QUICK = {"n_boot": 100, "seed": 1, "show_progress": False}
NOTE = "differential attrition may bias this verdict"


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    base = tmp_path_factory.mktemp("attrition")
    clean = simulated_study(base / "clean", 4, sites=12, recipients=20)
    lossy = simulated_study(base / "lossy", 4, sites=12, recipients=20)
    dropped = lose_low_outcomes_of_one_arm(lossy)
    return {
        "clean": analyze(clean, pathways=[REAL], **QUICK).scorecard.pathway(REAL),
        "lossy": analyze(lossy, pathways=[REAL], **QUICK).scorecard.pathway(REAL),
        "dropped": dropped,
        "lossy_study": load_study(lossy, show_progress=False),
    }


def test_differential_dropout_is_named_in_the_verdicts_it_can_bias(studies):
    pathway = studies["lossy"]
    tests = pathway.attrition
    assert tests.flagged and tests.n_lost >= len(studies["dropped"])
    assert any("differs by arm" in finding for finding in tests.findings)
    # nobody of the usual arm was lost: the baseline values are tested within the coached arm, where those
    # with a low baseline acceptability were lost
    assert "arm usual lost nobody" in " ".join(tests.notes)
    assert any("baseline acceptability were more likely" in finding for finding in tests.findings)
    for verdict in pathway.verdicts:
        named = NOTE in verdict.reason
        assert named == (verdict.criterion in ATTRITION_CRITERIA), verdict.criterion
        assert ("differential_attrition" in verdict.evidence) == named
    assumption = next(a for a in pathway.conclusion.assumptions if a.name == "no_differential_attrition")
    assert assumption.status == "questioned" and "differs by arm" in assumption.note
    # the conclusion's statement is written from the verdicts before the note: it does not repeat it
    assert NOTE not in pathway.conclusion.statement


def test_flow_counts_the_lost_and_the_analysed_as_the_models_do(studies):
    pathway = studies["lossy"]
    flow = pathway.flow
    study = studies["lossy_study"]
    arms = study.recipients[study.config.tables.recipients.arm].astype(str).value_counts()
    start = flow.counts.set_index("label").loc["randomized"]
    assert {arm: int(start[arm]) for arm in flow.groups} == arms.to_dict()
    last = flow.counts[flow.counts["stage"] == "lost"].iloc[0]
    assert int(last["total"]) == pathway.attrition.n_lost
    analysed = flow.counts.set_index("stage").loc["analysed"]
    assert int(analysed["total"]) == pathway.results["mediation"].n
    assert pathway.to_dict()["flow"]["counts"][0]["stage"] == "randomized"


def test_a_study_without_selective_dropout_gets_neither(studies):
    pathway = studies["clean"]
    assert pathway.attrition is not None and not pathway.attrition.flagged
    assert not any(NOTE in verdict.reason for verdict in pathway.verdicts)
    assert "no_differential_attrition" not in [a.name for a in pathway.conclusion.assumptions]
    analysed = pathway.flow.counts.set_index("stage").loc["analysed"]
    assert int(analysed["total"]) == pathway.results["mediation"].n


def test_the_example_report_shows_the_participant_flow():
    study = load_study(example_path(), show_progress=False)
    evidence = analyze(study, pathways=["isp_support__trust__acceptability"], **QUICK)
    report = build_report(evidence, study, show_progress=False)
    section = re.search(r'<section id="flow".*?</section>', report.html, flags=re.S)
    assert section is not None and "Participant flow" in section.group(0)
    assert '<a href="#flow"' in report.html
    flow = study.describe().flow
    first = re.search(r'<tr data-stage="randomized">(.*?)</tr>', section.group(0), flags=re.S).group(1)
    cells = [int(value) for value in re.findall(r'data-value="(\d+)"', first)]
    assert cells == [flow.enrolled[name] for name in (*flow.groups, "total")]
    assert report.data["data_summary"]["flow"]["groups"] == list(flow.groups)
    pathway = report.data["scorecard"]["pathways"][0]
    assert pathway["flow"]["counts"][-1]["stage"] in ("lost", "reason")
