"""The conclusion's grades on constructed verdicts: what raises, caps and refuses each grade."""

from __future__ import annotations

import dataclasses

import pytest

from moclab.evidence.conclusion import GRADES, benchmark_text, conclude, robustness_text
from moclab.evidence.verdicts import CRITERIA, Status, Verdict

ROBUSTNESS = {"rho_at_zero": 0.31, "robustness_value": 0.19, "rv_alpha": 0.12, "partial_r2": 0.04}


def verdicts(**changes: tuple[Status, dict]) -> dict[str, Verdict]:
    """Seven met verdicts of a randomized study, some replaced: ``timeline=(Status.PARTLY_MET, {...})``."""
    base = {
        criterion.id: Verdict(criterion.id, Status.MET, "rule", f"{criterion.id} reason", evidence={})
        for criterion in CRITERIA
    }
    manipulation = base["experimental_manipulation"]
    base["experimental_manipulation"] = dataclasses.replace(
        manipulation, evidence={"strategy_randomized": True, "randomization_level": "site"}
    )
    for criterion, (status, evidence) in changes.items():
        old = base[criterion]
        base[criterion] = dataclasses.replace(
            old, status=status, evidence={**old.evidence, **evidence}, design_change=f"change {criterion}"
        )
    return base


def grade(found: dict[str, Verdict]) -> str:
    return conclude(
        found, strategy="coaching", mechanism="trust", outcome="acceptability", robustness=ROBUSTNESS
    ).grade


def test_seven_met_verdicts_of_a_randomized_strategy_are_supported_not_established():
    conclusion = conclude(
        verdicts(), strategy="coaching", mechanism="trust", outcome="acceptability", robustness=ROBUSTNESS
    )
    assert conclusion.grade == "supported under stated assumptions"
    assert "the trust → acceptability link is observational" in conclusion.statement
    assert "19.0% of the residual variance of both trust and acceptability" in conclusion.statement
    assert "ρ = 0.31" in conclusion.statement
    statuses = {item.name: item.status for item in conclusion.assumptions}
    assert statuses == {
        "strategy_unconfounded": "identified by design",
        "no_mechanism_outcome_confounding": "assumed",
        "no_reverse_causation": "checked",
        "no_post_treatment_confounder": "assumed",
        "no_other_mechanism": "checked",
    }
    assert any("design.manipulations" in change for change in conclusion.design_changes)
    assert conclusion.to_dict()["grade"] in GRADES


def test_established_needs_an_experimental_mechanism_outcome_link():
    linked = verdicts(experimental_manipulation=(Status.MET, {"mechanism_link_experimental": True}))
    conclusion = conclude(linked, strategy="coaching", mechanism="trust", outcome="acceptability")
    assert conclusion.grade == "established"
    assert conclusion.assumptions[1].status == "identified by design"
    # one criterion short of all seven: supported, the link experimental
    partly = {**linked, "gradient": dataclasses.replace(linked["gradient"], status=Status.PARTLY_MET)}
    assert grade(partly) == "supported under stated assumptions"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"experimental_manipulation": (Status.NOT_MET, {"confounding_signature": True})}, "signature"),
        ({"strong_association": (Status.NOT_MET, {"against_hypothesis": True})}, "against the hypothesis"),
        ({"timeline": (Status.NOT_MET, {"reverse_as_large": True})}, "leads trust in time"),
        ({"timeline": (Status.NOT_MET, {"order_by_design": False})}, "was not measured after"),
        (
            {"plausibility": (Status.NOT_MET, {"qualitative": {"status": "contradicts"}})},
            "interviews contradict",
        ),
        (
            {
                "experimental_manipulation": (
                    Status.NOT_MET,
                    {"mechanism_manipulation": {"against_hypothesis": True}},
                )
            },
            "manipulating trust changed acceptability against",
        ),
    ],
)
def test_evidence_against_the_pathway_is_not_supported_whatever_else_holds(changes, reason):
    conclusion = conclude(
        verdicts(**changes), strategy="coaching", mechanism="trust", outcome="acceptability"
    )
    assert conclusion.grade == "not supported"
    assert reason in conclusion.statement


def test_a_lack_of_evidence_is_suggestive_not_a_refutation():
    # the outcome did not move significantly
    assert grade(verdicts(experimental_manipulation=(Status.PARTLY_MET, {}))) == "suggestive"
    # the panel cannot show the order (forward path not significant, nothing points the other way)
    assert grade(verdicts(timeline=(Status.NOT_MET, {"forward_holds": False}))) == "suggestive"
    # both panel paths present: a common cause and reciprocal effects look alike
    both = verdicts(timeline=(Status.PARTLY_MET, {"reverse_significant": True}))
    conclusion = conclude(both, strategy="coaching", mechanism="trust", outcome="acceptability")
    assert conclusion.grade == "suggestive" and "timeline does not show trust leading" in conclusion.statement
    assert conclusion.assumptions[2].status == "questioned"
    # an observational strategy
    observational = verdicts(
        experimental_manipulation=(
            Status.NOT_MET,
            {"strategy_randomized": False, "randomization_level": "none"},
        )
    )
    conclusion = conclude(observational, strategy="coaching", mechanism="trust", outcome="acceptability")
    assert conclusion.grade == "suggestive" and "not randomized" in conclusion.statement
    assert conclusion.assumptions[0].status == "assumed"


def test_a_stronger_competitor_caps_the_grade_but_does_not_refute_the_mechanism():
    contrasts = {"psych_safety": {"estimate": -0.1, "ci_low": -0.2, "ci_high": -0.03}}
    found = verdicts(specificity=(Status.NOT_MET, {"contrasts": contrasts, "sign": 1}))
    conclusion = conclude(found, strategy="coaching", mechanism="trust", outcome="acceptability")
    assert conclusion.grade == "suggestive"
    assert "psych_safety carries significantly more of the effect" in conclusion.statement
    assert conclusion.assumptions[4].status == "questioned"


def test_no_association_is_not_supported_and_an_unestimable_model_not_testable():
    assert grade(verdicts(strong_association=(Status.PARTLY_MET, {}))) == "not supported"
    untestable = conclude(
        verdicts(strong_association=(Status.NOT_TESTABLE, {})),
        strategy="coaching",
        mechanism="trust",
        outcome="acceptability",
    )
    assert untestable.grade == "not testable" and untestable.statement.startswith("Not testable:")


def test_robustness_text_names_what_was_computed_only():
    assert robustness_text({}, "trust", "acceptability") == ""
    text = robustness_text(
        {"rho_at_zero": 0.2, "e_value": 2.5, "e_value_limit": 1.4}, "trust", "acceptability"
    )
    assert "ρ = 0.20" in text and "E-value 2.50 (interval limit 1.40)" in text
    assert "robustness value" not in text


def test_benchmark_text_groups_the_covariates_by_the_multiple_that_reaches_zero():
    rows = [
        {"benchmark": "credibility", "k": 2.0, "largest_k": 3.0, "bounded": True},
        {"benchmark": "readiness", "k": 1.0, "largest_k": 3.0, "bounded": True},
        {"benchmark": "climate", "k": 2.0, "largest_k": 3.0, "bounded": True},
        {"benchmark": "trust@baseline", "k": None, "largest_k": 3.0, "bounded": True},
        {"benchmark": "huge", "k": None, "bounded": False},  # no bound at any multiple: not named
    ]
    assert benchmark_text(rows, "trust", "acceptability") == (
        "an unmeasured confounder of trust and acceptability as strong as readiness; or twice as strong as "
        "credibility or climate would bring the link's interval to zero; one three times as strong as "
        "trust@baseline would not (bounds from measured covariates, Cinelli & Hazlett 2020)"
    )
    only_not = benchmark_text(rows[3:], "trust", "acceptability")
    assert only_not.startswith("an unmeasured confounder of trust and acceptability three times as strong as")
    assert benchmark_text(rows[4:], "trust", "acceptability") == ""
    many = [{"benchmark": f"c{i}", "k": 1.0, "bounded": True} for i in range(5)]
    assert "as strong as c0, c1, c2 or 2 more measured covariates would" in benchmark_text(many, "m", "y")
    # the benchmark sentence joins the other figures
    assert "as strong as readiness" in robustness_text({**ROBUSTNESS, "benchmarks": rows}, "trust", "y")
