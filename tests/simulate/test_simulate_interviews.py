"""`qualitative: simulated`: coded interviews generated from the truth of a simulated study."""

from __future__ import annotations

import math

import pytest

from moclab.evidence import analyze
from moclab.evidence.qualitative import qualitative_support_from_project
from moclab.model import load_template
from moclab.qual import read_project
from moclab.simulate import default_spec, simulate_study
from moclab.simulate.interviews import (
    EFFECT_SCALE,
    MAX_TOLD,
    mechanism_told_probability,
    simulate_interviews,
)
from moclab.study import load_study

MECHANISMS = ("trust", "psych_safety", "credibility")
PERCEPTIONS = ("acceptability", "appropriateness", "feasibility")


def small_spec() -> dict:
    """The recipient-pathway default spec (with `qualitative: simulated`) on a small design."""
    data = default_spec(load_template("recipient-pathway")).to_yaml_dict()
    data["design"] = {**data["design"], "sites": 8, "recipients": 12, "teams": 2}
    return data


@pytest.fixture(scope="module")
def simulated():
    return simulate_study("recipient-pathway", small_spec(), seed=7)


def test_the_default_spec_generates_interviews_from_the_truth():
    spec = default_spec(load_template("recipient-pathway"))
    assert spec.simulated_interviews and spec.interviews == 12
    assert spec.qualitative_project() is None  # nothing to copy: the project is generated


def test_told_probability_rises_with_the_effect():
    assert mechanism_told_probability(0.0) == 0.0
    # the closed form at one scale: MAX_TOLD * (1 - 1/e)
    assert mechanism_told_probability(EFFECT_SCALE) == pytest.approx(MAX_TOLD * (1 - math.exp(-1)))
    values = [mechanism_told_probability(e) for e in (0.01, 0.05, 0.1, -0.2, 1.0)]
    assert values[0] < values[1] < values[2] < values[3] < values[4] < MAX_TOLD


def test_same_seed_gives_the_same_project(simulated):
    again = simulate_study("recipient-pathway", small_spec(), seed=7)
    assert simulated.interviews() == again.interviews()
    other = simulate_study("recipient-pathway", small_spec(), seed=8)
    assert [s.text for s in other.interviews().sources] != [s.text for s in simulated.interviews().sources]


def test_true_mechanisms_are_supported_and_the_null_one_is_not(simulated):
    project = simulated.interviews()
    assert len(project.sources) == 12 and [case.name for case in project.cases][:2] == ["R01", "R02"]
    support = qualitative_support_from_project(project, simulated.model)
    assert set(support.node_codes) >= {
        *MECHANISMS,
        *PERCEPTIONS,
        "isp_support",
    }  # auto_match found every code
    assert simulated.truth.null_mechanisms == ["credibility"]
    for outcome in PERCEPTIONS:
        for mechanism in ("trust", "psych_safety"):
            evidence = support.evidence(mechanism, outcome)
            assert evidence.status == "supports", (mechanism, outcome, evidence.summary)
            assert evidence.counts["mechanism_first"] >= 6  # most of the 12 interviews
        null = support.evidence("credibility", outcome)
        assert null.status == "none"
        assert null.counts["mechanism_first"] == 0  # mentioned only after the outcomes


def test_over_seeds_the_null_mechanism_is_never_told_first():
    model = simulate_study("recipient-pathway", small_spec(), seed=1)
    for seed in range(10):
        project = simulate_interviews(model.model, model.truth, seed, interviews=12)
        support = qualitative_support_from_project(project, model.model)
        assert support.evidence("credibility", "acceptability").counts["mechanism_first"] == 0
        assert support.evidence("trust", "acceptability").status == "supports"


def test_the_written_study_validates_and_shows_the_interviews_in_plausibility(simulated, tmp_path):
    folder = simulated.write(tmp_path / "study")
    written = read_project(folder / "qual" / "project.qdpx")
    assert written.counts() == simulated.interviews().counts()
    assert [s.text for s in written.sources] == [s.text for s in simulated.interviews().sources]
    assert "generated from the truth" in (folder / "moclab.yaml").read_text(encoding="utf-8")
    study = load_study(folder, show_progress=False)
    pathways = ["isp_support__trust__acceptability", "isp_support__credibility__acceptability"]
    evidence = analyze(study, {"pathways": pathways}, n_boot=100, seed=1, show_progress=False)
    by_id = {pathway.id: pathway for pathway in evidence.pathways}
    assert by_id[pathways[0]].qualitative.status == "supports"
    assert by_id[pathways[1]].qualitative.status == "none"
    plausibility = by_id[pathways[0]].verdict("plausibility")
    assert "interviews" in plausibility.reason, plausibility.reason


def test_to_study_reads_the_generated_interviews(simulated):
    study = simulated.to_study()
    evidence = analyze(
        study,
        {"pathways": ["isp_support__psych_safety__feasibility"]},
        n_boot=100,
        seed=1,
        show_progress=False,
    )
    assert evidence.pathways[0].qualitative.status == "supports"
