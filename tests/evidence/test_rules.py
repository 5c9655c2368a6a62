"""Each criterion's rule on constructed effects: met, partly met, not met and not testable."""

from __future__ import annotations

import json
import math

import pytest

from moclab.analysis.results import Effect
from moclab.evidence.rules import (
    LinkBacking,
    PathSign,
    TimelineFacts,
    excludes_zero,
    judge_consistency,
    judge_experimental_manipulation,
    judge_gradient,
    judge_plausibility,
    judge_specificity,
    judge_strong_association,
    judge_timeline,
)
from moclab.evidence.verdicts import CRITERIA, QualitativeEvidence, Status

LEVEL = 0.95


def effect(
    name: str, estimate: float, low: float | None = None, high: float | None = None, p: float | None = None
):
    return Effect(name, name.split("[")[0], estimate, None, low, high, p)


A_SIG = effect("a[trust]", 0.4, 0.2, 0.6, 0.001)
A_NS = effect("a[trust]", 0.05, -0.1, 0.2, 0.40)
B_SIG = effect("b[trust]", 0.3, 0.1, 0.5, 0.004)
B_NS = effect("b[trust]", 0.02, -0.1, 0.14, 0.70)
IND_SIG = effect("indirect[trust]", 0.12, 0.05, 0.2)
IND_NS = effect("indirect[trust]", 0.01, -0.02, 0.04)


def test_excludes_zero_needs_both_ends_on_one_side():
    assert excludes_zero(IND_SIG)
    assert excludes_zero(effect("x", -0.2, -0.3, -0.1))
    assert not excludes_zero(IND_NS)
    assert not excludes_zero(effect("x", 0.2, 0.0, 0.4))  # touching 0 is not excluding it
    assert not excludes_zero(effect("x", 0.2))
    assert not excludes_zero(effect("x", 0.2, math.nan, 0.4))
    assert not excludes_zero(None)


# -- strong association -------------------------------------------------------------------------------


def test_strong_association_met_when_interval_and_joint_test_agree():
    verdict = judge_strong_association(IND_SIG, [A_SIG, B_SIG], level=LEVEL)
    assert verdict.status is Status.MET
    assert verdict.estimate == 0.12 and verdict.interval == (0.05, 0.2)
    assert verdict.design_change is None
    assert verdict.evidence["joint_significant"] is True
    assert verdict.evidence["joint_p"] == 0.004
    assert "α = 0.05" in verdict.rule


@pytest.mark.parametrize(
    ("indirect", "paths"),
    [
        (IND_NS, [A_SIG, B_NS]),  # one path only
        (IND_NS, [A_NS, B_SIG]),
        (IND_SIG, [A_SIG, B_NS]),  # the interval excludes 0 but the joint test fails
        (IND_NS, [A_SIG, B_SIG]),  # the joint test holds but the interval includes 0
    ],
)
def test_strong_association_partly_met(indirect, paths):
    verdict = judge_strong_association(indirect, paths, level=LEVEL)
    assert verdict.status is Status.PARTLY_MET
    assert verdict.design_change


def test_strong_association_not_met_and_not_testable():
    verdict = judge_strong_association(IND_NS, [A_NS, B_NS], level=LEVEL)
    assert verdict.status is Status.NOT_MET
    assert "no path is significant" in verdict.reason
    assert "more sites" in verdict.design_change
    untestable = judge_strong_association(None, [], level=LEVEL, failure="the strategy is constant")
    assert untestable.status is Status.NOT_TESTABLE
    assert "the strategy is constant" in untestable.reason
    assert "comparison" in untestable.design_change


def test_the_level_sets_alpha_of_the_path_tests():
    a_borderline = effect("a[trust]", 0.3, 0.01, 0.6, 0.03)
    assert judge_strong_association(IND_SIG, [a_borderline, B_SIG], level=0.95).status is Status.MET
    assert judge_strong_association(IND_SIG, [a_borderline, B_SIG], level=0.99).status is Status.PARTLY_MET


# -- specificity ------------------------------------------------------------------------------------------


def test_specificity_met_when_every_comparison_favours_the_mechanism():
    contrasts = [
        ("credibility", effect("contrast", 0.1, 0.02, 0.2)),
        ("safety", effect("contrast", 0.08, 0.01, 0.15)),
    ]
    non_target = [("satisfaction", effect("indirect", 0.01, -0.03, 0.05))]
    verdict = judge_specificity(IND_SIG, contrasts, non_target, level=LEVEL)
    assert verdict.status is Status.MET
    assert set(verdict.evidence["contrasts"]) == {"credibility", "safety"}


def test_specificity_partly_met_and_not_met():
    good = ("credibility", effect("contrast", 0.1, 0.02, 0.2))
    unclear = ("safety", effect("contrast", 0.03, -0.02, 0.08))
    assert judge_specificity(IND_SIG, [good, unclear], [], level=LEVEL).status is Status.PARTLY_MET
    # a non-target outcome that the mechanism also moves counts against specificity
    leaky = ("satisfaction", effect("indirect", 0.09, 0.02, 0.16))
    assert judge_specificity(IND_SIG, [good], [leaky], level=LEVEL).status is Status.PARTLY_MET
    # no comparison favours it
    assert judge_specificity(IND_SIG, [unclear], [leaky], level=LEVEL).status is Status.NOT_MET
    # its own indirect effect vanishes once the competitors are in the model
    verdict = judge_specificity(IND_NS, [good], [], level=LEVEL)
    assert verdict.status is Status.NOT_MET
    assert "does not exclude 0" in verdict.reason


def test_specificity_respects_the_hypothesised_direction():
    negative = effect("indirect[trust]", -0.12, -0.2, -0.05)
    contrast = [("credibility", effect("contrast", -0.1, -0.2, -0.02))]
    assert judge_specificity(negative, contrast, [], level=LEVEL, sign=-1).status is Status.MET
    assert judge_specificity(negative, contrast, [], level=LEVEL, sign=1).status is Status.NOT_MET


def test_specificity_not_testable_without_anything_to_compare():
    verdict = judge_specificity(IND_SIG, [], [], level=LEVEL, unmeasured=["credibility"])
    assert verdict.status is Status.NOT_TESTABLE
    assert "credibility" in verdict.reason
    assert "competing mechanism" in verdict.design_change


# -- consistency ------------------------------------------------------------------------------------------


def sites(*intervals):
    return [effect(f"study[S{i}]", (low + high) / 2, low, high) for i, (low, high) in enumerate(intervals)]


def test_consistency_with_three_or_more_units():
    units = sites((0.05, 0.3), (0.1, 0.4), (0.0, 0.2))
    pooled = effect("pooled", 0.15, 0.08, 0.22, 0.001)
    met = judge_consistency(pooled, units, (0.02, 0.28), level=LEVEL, evidence={"tau2": 0.001, "i2": 12.0})
    assert met.status is Status.MET
    assert "I² = 12.0%" in met.reason
    partly = judge_consistency(pooled, units, (-0.1, 0.4), level=LEVEL)
    assert partly.status is Status.PARTLY_MET
    assert "may differ in other units" in partly.reason and "prediction interval" in partly.reason
    not_met = judge_consistency(effect("pooled", 0.05, -0.02, 0.12), units, (-0.2, 0.3), level=LEVEL)
    assert not_met.status is Status.NOT_MET
    # a prediction interval that cannot be computed does not count as excluding 0
    assert judge_consistency(pooled, units, (math.nan, math.nan), level=LEVEL).status is Status.PARTLY_MET


def test_consistency_with_two_units_reads_each_unit():
    pooled = effect("pooled", 0.15, -0.5, 0.8)  # a t(1) Knapp-Hartung interval is very wide
    both = sites((0.05, 0.3), (0.1, 0.4))
    assert judge_consistency(pooled, both, None, level=LEVEL).status is Status.MET
    one = sites((0.05, 0.3), (-0.05, 0.4))
    assert judge_consistency(pooled, one, None, level=LEVEL).status is Status.PARTLY_MET
    opposite = [effect("study[a]", 0.2, 0.05, 0.35), effect("study[b]", -0.2, -0.35, -0.05)]
    assert judge_consistency(pooled, opposite, None, level=LEVEL).status is Status.NOT_MET


def test_consistency_not_testable_keeps_the_reason_and_design_change():
    verdict = judge_consistency(
        None,
        [],
        None,
        level=LEVEL,
        failure="the strategy is assigned per site",
        design_change="randomize within",
    )
    assert verdict.status is Status.NOT_TESTABLE
    assert verdict.reason == "the strategy is assigned per site"
    assert verdict.design_change == "randomize within"


# -- experimental manipulation ---------------------------------------------------------------------------


def test_an_observational_design_is_not_met_with_the_design_change():
    verdict = judge_experimental_manipulation("none", False, A_SIG, IND_SIG, level=LEVEL)
    assert verdict.status is Status.NOT_MET
    assert "not randomized" in verdict.reason
    assert "randomize the strategy" in verdict.design_change
    assert "mechanism itself" in verdict.design_change


def test_randomized_strategy_rules():
    assert judge_experimental_manipulation("site", True, A_SIG, IND_SIG, level=LEVEL).status is Status.MET
    assert (
        judge_experimental_manipulation("site", True, A_SIG, IND_NS, level=LEVEL).status is Status.PARTLY_MET
    )
    assert (
        judge_experimental_manipulation("site", True, A_NS, IND_SIG, level=LEVEL).status is Status.PARTLY_MET
    )
    assert judge_experimental_manipulation("site", True, A_NS, IND_NS, level=LEVEL).status is Status.NOT_MET
    met = judge_experimental_manipulation("recipient", True, A_SIG, IND_SIG, level=LEVEL)
    assert "recipient level" in met.reason and met.evidence["randomization_level"] == "recipient"


def test_manipulation_not_testable_when_the_strategy_is_not_the_randomized_arm_or_no_model():
    dose = judge_experimental_manipulation(
        "site", False, A_SIG, IND_SIG, level=LEVEL, strategy_text="minutes"
    )
    assert dose.status is Status.NOT_TESTABLE
    assert "minutes" in dose.reason
    failed = judge_experimental_manipulation("site", True, None, None, level=LEVEL, failure="too few rows")
    assert failed.status is Status.NOT_TESTABLE
    assert "too few rows" in failed.reason


# -- timeline ---------------------------------------------------------------------------------------------

ORDERED = TimelineFacts(3, "m6", "m12", 1, 2, 6.0, 12.0, 0.5, "first logged activity")
FORWARD = effect("m_to_y", 0.3, 0.2, 0.4, 0.001)
REVERSE_NS = effect("y_to_m", 0.02, -0.05, 0.09, 0.6)
REVERSE_SIG = effect("y_to_m", 0.25, 0.15, 0.35, 0.001)
DIFF_NS = effect("difference_std", 0.03, -0.05, 0.11)
DIFF_FORWARD = effect("difference_std", 0.2, 0.1, 0.3)


def test_timeline_met_when_order_and_panel_agree():
    verdict = judge_timeline(ORDERED, FORWARD, REVERSE_NS, DIFF_NS, level=LEVEL)
    assert verdict.status is Status.MET
    assert verdict.evidence["order_by_design"] and verdict.evidence["panel_supports"]
    # reciprocal effects: met only when the forward one is clearly the larger
    assert judge_timeline(ORDERED, FORWARD, REVERSE_SIG, DIFF_FORWARD, level=LEVEL).status is Status.MET
    assert judge_timeline(ORDERED, FORWARD, REVERSE_SIG, DIFF_NS, level=LEVEL).status is Status.PARTLY_MET


def test_timeline_partly_met_with_one_piece_of_evidence():
    order_only = judge_timeline(ORDERED, None, None, None, level=LEVEL, panel_failure="one wave with both")
    assert order_only.status is Status.PARTLY_MET
    assert "one wave with both" in order_only.reason
    same_wave = TimelineFacts(2, "post", "post", 1, 1, 6.0, 6.0, 0.0, "given")
    panel_only = judge_timeline(same_wave, FORWARD, REVERSE_NS, DIFF_NS, level=LEVEL)
    assert panel_only.status is Status.PARTLY_MET
    assert "not measured before the outcome" in panel_only.reason


def test_timeline_not_met_and_not_testable():
    reverse = judge_timeline(ORDERED, effect("m_to_y", 0.02, -0.1, 0.14, 0.7), REVERSE_SIG, None, level=LEVEL)
    assert reverse.status is Status.NOT_MET
    assert "only the reverse path" in reverse.reason
    too_early = TimelineFacts(3, "baseline", "m12", 0, 2, 0.0, 12.0, 1.0, "given")
    verdict = judge_timeline(too_early, None, None, None, level=LEVEL, panel_failure="no panel")
    assert verdict.status is Status.NOT_MET
    assert "before the strategy began" in verdict.reason
    single = TimelineFacts(1, "w1", "w1", 0, 0)
    untestable = judge_timeline(single, None, None, None, level=LEVEL)
    assert untestable.status is Status.NOT_TESTABLE
    assert "three waves" in untestable.design_change


def test_timeline_start_unknown_is_said_not_held_against():
    unknown = TimelineFacts(3, "m6", "m12", 1, 2, 6.0, 12.0)
    verdict = judge_timeline(unknown, FORWARD, REVERSE_NS, DIFF_NS, level=LEVEL)
    assert verdict.status is Status.MET
    assert "unknown" in verdict.reason


# -- gradient ---------------------------------------------------------------------------------------------


def test_gradient_rules():
    slope, trend = effect("slope", 0.01, 0.004, 0.016, 0.002), effect("trend", 0.012, 0.003, 0.02, 0.01)
    flat = effect("trend", 0.001, -0.01, 0.012, 0.8)
    assert judge_gradient(slope, trend, slope, trend, level=LEVEL).status is Status.MET
    partly = judge_gradient(None, None, slope, trend, level=LEVEL, dose_failure="no activities table")
    assert partly.status is Status.PARTLY_MET
    assert "no activities table" in partly.reason
    assert "log the support" in partly.design_change
    assert judge_gradient(slope, flat, slope, flat, level=LEVEL).status is Status.NOT_MET
    # a significant trend against the hypothesised direction does not hold
    assert judge_gradient(slope, trend, slope, trend, level=LEVEL, dose_sign=-1).status is Status.PARTLY_MET
    untestable = judge_gradient(None, None, None, None, level=LEVEL, mechanism_failure="constant")
    assert untestable.status is Status.NOT_TESTABLE


# -- plausibility -----------------------------------------------------------------------------------------


def links(*backed: bool):
    return [
        LinkBacking(f"n{i}", f"n{i + 1}", 1, ("template 'x'",) if ok else ()) for i, ok in enumerate(backed)
    ]


NONE = QualitativeEvidence()


def test_plausibility_rules():
    paths = [PathSign("a[trust]", 1, A_SIG), PathSign("b[trust]", 1, B_SIG)]
    assert judge_plausibility(links(True, True), paths, NONE, level=LEVEL).status is Status.MET
    partly = judge_plausibility(links(True, False), paths, NONE, level=LEVEL)
    assert partly.status is Status.PARTLY_MET
    assert "no backing found for n1 → n2" in partly.reason
    none = judge_plausibility(links(False, False), paths, NONE, level=LEVEL)
    assert none.status is Status.NOT_MET
    assert "evidence.links" in none.design_change
    against = [PathSign("a[trust]", 1, effect("a[trust]", -0.3, -0.5, -0.1, 0.01)), paths[1]]
    contradicted = judge_plausibility(links(True, True), against, NONE, level=LEVEL)
    assert contradicted.status is Status.NOT_MET
    assert contradicted.reason.startswith("estimated against the hypothesis")
    wrong_but_unclear = [PathSign("a[trust]", 1, effect("a[trust]", -0.05, -0.2, 0.1, 0.5)), paths[1]]
    assert (
        judge_plausibility(links(True, True), wrong_but_unclear, NONE, level=LEVEL).status
        is Status.PARTLY_MET
    )
    unestimated = [PathSign("a[trust]", 1, None)]
    assert judge_plausibility(links(True, True), unestimated, NONE, level=LEVEL).status is Status.PARTLY_MET


def test_qualitative_evidence_enters_plausibility():
    paths = [PathSign("a[trust]", 1, A_SIG)]
    supports = QualitativeEvidence("supports", "13 recipients described trust first", ("interviews.qdpx",))
    verdict = judge_plausibility(links(False), paths, supports, level=LEVEL)
    assert verdict.status is Status.MET
    assert verdict.evidence["qualitative"]["sources"] == ["interviews.qdpx"]
    contradicts = QualitativeEvidence("contradicts", "recipients describe the reverse order")
    assert judge_plausibility(links(True), paths, contradicts, level=LEVEL).status is Status.NOT_MET
    assert "no qualitative evidence given" in judge_plausibility(links(True), paths, NONE, level=LEVEL).reason
    with pytest.raises(ValueError, match="status"):
        QualitativeEvidence("maybe")


def test_verdicts_serialise_to_strict_json_with_the_criterion_names():
    verdict = judge_strong_association(
        IND_SIG, [A_SIG, B_SIG], level=LEVEL, evidence={"icc": {"trust": math.nan}, "n": 200}
    )
    data = verdict.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["evidence"]["icc"]["trust"] is None
    assert data["name"] == "Strong association" and data["status"] == "met"
    assert [c.ref.split(":")[0] for c in CRITERIA] == ["kazdin-criteria"] * 7
