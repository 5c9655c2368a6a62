"""Each criterion's rule on constructed effects: met, partly met, not met and not testable."""

from __future__ import annotations

import json
import math

import pytest

from moclab.analysis.results import Effect
from moclab.evidence.rules import (
    LinkBacking,
    MechanismManipulation,
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


def test_strong_association_is_not_met_against_the_hypothesised_direction():
    negative_a = effect("a[trust]", -0.4, -0.6, -0.2, 0.001)
    negative_indirect = effect("indirect[trust]", -0.12, -0.2, -0.05)
    verdict = judge_strong_association(negative_indirect, [negative_a, B_SIG], level=LEVEL)
    assert verdict.status is Status.NOT_MET
    assert verdict.reason.startswith("against the hypothesised direction")
    assert verdict.evidence["against_hypothesis"] is True
    # hypothesised negative: the same numbers meet it
    met = judge_strong_association(
        negative_indirect, [negative_a, B_SIG], level=LEVEL, sign=-1, path_signs={"a[trust]": -1}
    )
    assert met.status is Status.MET


def test_strong_association_names_the_competitors_the_b_path_was_read_with():
    verdict = judge_strong_association(IND_SIG, [A_SIG, B_SIG], level=LEVEL, competitors=["credibility"])
    assert "b read with credibility in the model" in verdict.reason
    assert verdict.evidence["competitors_in_model"] == ["credibility"]


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


POOLED = effect("pooled", 0.15, 0.08, 0.22, 0.001)


def test_consistency_across_subgroups_reads_the_prediction_interval():
    units = sites((0.05, 0.3), (0.1, 0.4), (0.0, 0.2))
    met = judge_consistency(
        POOLED, units, prediction=(0.02, 0.28), level=LEVEL, evidence={"tau2": 0.001, "i2": 12.0}
    )
    assert met.status is Status.MET
    assert "I² = 12.0%" in met.reason
    partly = judge_consistency(POOLED, units, prediction=(-0.1, 0.4), level=LEVEL)
    assert partly.status is Status.PARTLY_MET
    assert "may differ across sites" in partly.reason and "prediction interval" in partly.reason
    not_met = judge_consistency(
        effect("pooled", 0.05, -0.02, 0.12), units, prediction=(-0.2, 0.3), level=LEVEL
    )
    assert not_met.status is Status.NOT_MET
    # a prediction interval that cannot be computed does not count as excluding 0
    nan = judge_consistency(POOLED, units, prediction=(math.nan, math.nan), level=LEVEL)
    assert nan.status is Status.PARTLY_MET


def test_consistency_across_sites_reads_each_paths_prediction_interval():
    units = sites((0.0, 0.3), (0.1, 0.4), (0.05, 0.2))
    both = {"a": ((0.1, 0.9), 1), "b": ((0.05, 0.6), 1)}
    assert judge_consistency(POOLED, units, path_predictions=both, level=LEVEL).status is Status.MET
    spread_a = {"a": ((-0.2, 1.1), 1), "b": ((0.05, 0.6), 1)}
    verdict = judge_consistency(POOLED, units, path_predictions=spread_a, level=LEVEL)
    assert verdict.status is Status.PARTLY_MET
    assert "a path's prediction interval for a new site [-0.200, 1.100]" in verdict.reason


def test_consistency_of_a_site_level_strategy_reads_the_spread_of_site_means():
    units = sites((0.0, 0.3), (0.1, 0.4), (0.05, 0.2))
    b_only = {"b": ((0.05, 0.6), 1)}
    calm = effect("ratio", 1.1, 0.5, 2.4, 0.4)
    spread = effect("ratio", 3.6, 1.4, 9.1, 0.004)
    limits = "the strategy was assigned per site"
    met = judge_consistency(
        POOLED, units, path_predictions=b_only, heterogeneity=calm, limits=limits, level=LEVEL
    )
    assert met.status is Status.MET and limits in met.reason
    partly = judge_consistency(POOLED, units, path_predictions=b_only, heterogeneity=spread, level=LEVEL)
    assert partly.status is Status.PARTLY_MET
    assert "variance of site means, strategy arm over control arm 3.60 (p = 0.004)" in partly.reason
    # less spread under the strategy is no sign of a varying effect
    narrow = effect("ratio", 0.3, 0.1, 0.7, 0.99)
    assert (
        judge_consistency(POOLED, units, path_predictions=b_only, heterogeneity=narrow, level=LEVEL).status
        is Status.MET
    )


def test_consistency_is_not_met_on_an_effect_against_the_hypothesis():
    negative = effect("pooled", -0.15, -0.22, -0.08)
    verdict = judge_consistency(negative, sites((-0.3, -0.1)) * 3, prediction=(-0.3, -0.01), level=LEVEL)
    assert verdict.status is Status.NOT_MET
    assert "against the hypothesised direction" in verdict.reason
    assert (
        judge_consistency(
            negative, sites((-0.3, -0.1)) * 3, prediction=(-0.3, -0.01), level=LEVEL, sign=-1
        ).status
        is Status.MET
    )


def test_consistency_with_two_units_reads_each_unit():
    pooled = effect("pooled", 0.15, 0.01, 0.3)
    both = sites((0.05, 0.3), (0.1, 0.4))
    assert judge_consistency(pooled, both, level=LEVEL).status is Status.MET
    one = sites((0.05, 0.3), (-0.05, 0.4))
    assert judge_consistency(pooled, one, level=LEVEL).status is Status.PARTLY_MET
    opposite = [effect("study[a]", 0.2, 0.05, 0.35), effect("study[b]", -0.2, -0.35, -0.05)]
    assert judge_consistency(pooled, opposite, level=LEVEL).status is Status.NOT_MET


def test_consistency_not_testable_keeps_the_reason_and_design_change():
    verdict = judge_consistency(
        None,
        [],
        level=LEVEL,
        failure="the strategy is assigned per site",
        design_change="randomize within",
    )
    assert verdict.status is Status.NOT_TESTABLE
    assert verdict.reason == "the strategy is assigned per site"
    assert verdict.design_change == "randomize within"


# -- experimental manipulation ---------------------------------------------------------------------------

TOTAL_SIG = effect("total", 0.15, 0.05, 0.25, 0.004)
TOTAL_NS = effect("total", 0.01, -0.1, 0.12, 0.85)
DIRECT_NS = effect("direct", 0.03, -0.08, 0.14, 0.6)
DIRECT_AGAINST = effect("direct", -0.11, -0.2, -0.02, 0.02)


def manipulation(a, indirect, total=TOTAL_SIG, direct=DIRECT_NS, **options):
    return judge_experimental_manipulation(
        options.pop("level_name", "site"),
        True,
        a,
        indirect,
        total=total,
        direct=direct,
        level=LEVEL,
        **options,
    )


def test_an_observational_design_is_not_met_with_the_design_change():
    verdict = judge_experimental_manipulation("none", False, A_SIG, IND_SIG, level=LEVEL)
    assert verdict.status is Status.NOT_MET
    assert "not randomized" in verdict.reason
    assert "randomize the strategy" in verdict.design_change
    assert "mechanism itself" in verdict.design_change


def test_met_needs_the_mechanism_and_the_outcome_to_move():
    met = manipulation(A_SIG, IND_SIG)
    assert met.status is Status.MET
    assert "stays observational" in met.reason
    assert met.evidence["mechanism_link_experimental"] is False
    assert "design.manipulations" in met.design_change  # what would make the link experimental
    outcome_still = manipulation(A_SIG, IND_SIG, total=TOTAL_NS)
    assert outcome_still.status is Status.PARTLY_MET
    assert "the outcome did not move significantly" in outcome_still.reason
    assert manipulation(A_SIG, IND_NS).status is Status.PARTLY_MET
    assert manipulation(A_NS, IND_SIG).status is Status.NOT_MET
    assert manipulation(A_NS, IND_NS, total=TOTAL_NS).status is Status.NOT_MET
    by_recipient = manipulation(A_SIG, IND_SIG, level_name="recipient")
    assert "recipient level" in by_recipient.reason


def test_the_signature_of_a_confounded_link_is_named():
    verdict = manipulation(A_SIG, IND_SIG, total=TOTAL_NS, direct=DIRECT_AGAINST)
    assert verdict.status is Status.NOT_MET
    assert "signature of a confounded mechanism → outcome link" in verdict.reason
    assert verdict.evidence["confounding_signature"] is True
    assert "negative-control outcome" in verdict.design_change


def test_manipulation_is_not_met_against_the_hypothesised_direction():
    lowered = effect("a[trust]", -0.4, -0.6, -0.2, 0.001)
    verdict = manipulation(
        lowered, effect("indirect", -0.12, -0.2, -0.05), total=effect("total", -0.1, -0.2, -0.01, 0.03)
    )
    assert verdict.status is Status.NOT_MET
    assert verdict.reason.split("; ", 1)[1].startswith("against the hypothesised direction")


FIRST_STAGE = effect("first_stage", 0.5, 0.3, 0.7, 0.001)


def mechanism_factor(iv, f_stat=40.0):
    return MechanismManipulation("trust_module", "site", first_stage=FIRST_STAGE, iv=iv, f_stat=f_stat)


def test_a_manipulated_mechanism_makes_the_link_experimental():
    holds = mechanism_factor(effect("iv", 0.4, 0.2, 0.6, 0.001))
    verdict = manipulation(A_SIG, IND_SIG, manipulation=holds)
    assert verdict.status is Status.MET
    assert verdict.evidence["mechanism_link_experimental"] is True
    assert "link is experimental" in verdict.reason and verdict.design_change is None
    null = mechanism_factor(effect("iv", 0.02, -0.2, 0.24, 0.8))
    partly = manipulation(A_SIG, IND_SIG, manipulation=null)
    assert partly.status is Status.PARTLY_MET
    assert "the outcome did not follow" in partly.reason
    weak = mechanism_factor(effect("iv", 0.9, 0.1, 1.7, 0.03), f_stat=4.0)
    weak_verdict = manipulation(A_SIG, IND_SIG, manipulation=weak)
    assert weak_verdict.status is Status.PARTLY_MET  # the experimental test the design promised was not made
    assert weak_verdict.evidence["mechanism_link_experimental"] is False
    assert "weak instrument" in weak_verdict.reason
    against = mechanism_factor(effect("iv", -0.4, -0.6, -0.2, 0.001))
    assert manipulation(A_SIG, IND_SIG, manipulation=against).status is Status.NOT_MET


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
FORWARD_STD = effect("m_to_y_std", 0.3, 0.2, 0.4)
REVERSE_NS = effect("y_to_m", 0.02, -0.05, 0.09, 0.6)
REVERSE_SIG = effect("y_to_m", 0.25, 0.15, 0.35, 0.001)
REVERSE_SIG_STD = effect("y_to_m_std", 0.24, 0.14, 0.34)
DIFF_NS = effect("difference_std", 0.06, -0.05, 0.17)
DIFF_FORWARD = effect("difference_std", 0.2, 0.1, 0.3)


def timeline(m_to_y, y_to_m, difference, m_std=FORWARD_STD, y_std=None, facts=ORDERED, **options):
    if y_std is None and y_to_m is not None:
        y_std = effect("y_to_m_std", y_to_m.estimate, None, None)
    return judge_timeline(
        facts, m_to_y, y_to_m, difference, level=LEVEL, m_to_y_std=m_std, y_to_m_std=y_std, **options
    )


def test_timeline_met_when_the_mechanism_leads():
    verdict = timeline(FORWARD, REVERSE_NS, DIFF_NS)
    assert verdict.status is Status.MET
    assert verdict.evidence["order_by_design"] and verdict.evidence["forward_holds"]
    # both directions present: reciprocal effects or a common cause driving both; never met (a persistent
    # common cause makes the forward path slightly, even significantly, larger: docs/validation.md)
    both = timeline(FORWARD, REVERSE_SIG, DIFF_FORWARD)
    assert both.status is Status.PARTLY_MET
    assert "larger (significantly): reciprocal effects, or a common cause" in both.reason
    assert timeline(FORWARD, REVERSE_SIG, DIFF_NS).status is Status.PARTLY_MET


def test_timeline_not_met_when_the_reverse_path_is_as_large_or_the_forward_path_absent():
    larger = timeline(
        FORWARD, effect("y_to_m", 0.35, 0.25, 0.45, 0.001), effect("difference_std", -0.05, -0.15, 0.05)
    )
    assert larger.status is Status.NOT_MET
    assert "as large as or larger than the forward one" in larger.reason
    assert larger.evidence["reverse_as_large"] is True
    absent = timeline(effect("m_to_y", 0.02, -0.1, 0.14, 0.7), REVERSE_NS, DIFF_NS)
    assert absent.status is Status.NOT_MET
    assert "does not predict the outcome at the next" in absent.reason
    reverse_only = timeline(effect("m_to_y", 0.02, -0.1, 0.14, 0.7), REVERSE_SIG, None)
    assert reverse_only.status is Status.NOT_MET and "the outcome leads" in reverse_only.reason
    wrong_way = timeline(effect("m_to_y", -0.3, -0.4, -0.2, 0.001), REVERSE_NS, DIFF_NS)
    assert wrong_way.status is Status.NOT_MET


def test_the_order_of_the_waves_is_a_precondition_not_evidence():
    order_only = judge_timeline(ORDERED, None, None, None, level=LEVEL, panel_failure="one wave with both")
    assert order_only.status is Status.NOT_TESTABLE
    assert "precondition, not evidence" in order_only.reason and "one wave with both" in order_only.reason
    same_wave = TimelineFacts(2, "post", "post", 1, 1, 6.0, 6.0, 0.0, "given")
    panel_only = timeline(FORWARD, REVERSE_NS, DIFF_NS, facts=same_wave)
    assert panel_only.status is Status.NOT_MET
    assert "not measured before the outcome" in panel_only.reason
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
    verdict = timeline(FORWARD, REVERSE_NS, DIFF_NS, facts=unknown, competitors=("credibility",))
    assert verdict.status is Status.MET
    assert "unknown" in verdict.reason and "earlier credibility in both equations" in verdict.reason


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


def links(*backed: bool, theory: tuple[str, ...] = ()):
    return [
        LinkBacking(f"n{i}", f"n{i + 1}", 1, ("template 'x'",) if ok else (), theory)
        for i, ok in enumerate(backed)
    ]


NONE = QualitativeEvidence()


def test_plausibility_rules():
    paths = [PathSign("a[trust]", 1, A_SIG), PathSign("b[trust]", 1, B_SIG)]
    assert judge_plausibility(links(True, True), paths, NONE, level=LEVEL).status is Status.MET
    partly = judge_plausibility(links(True, False), paths, NONE, level=LEVEL)
    assert partly.status is Status.PARTLY_MET
    assert "no link-specific source for n1 → n2" in partly.reason
    none = judge_plausibility(links(False, False), paths, NONE, level=LEVEL)
    assert none.status is Status.NOT_MET
    assert "evidence.links" in none.design_change
    against = [PathSign("a[trust]", 1, effect("a[trust]", -0.3, -0.5, -0.1, 0.01)), paths[1]]
    contradicted = judge_plausibility(links(True, True), against, NONE, level=LEVEL)
    assert contradicted.status is Status.NOT_MET
    assert contradicted.reason.startswith("estimated against the hypothesis")
    unestimated = [PathSign("a[trust]", 1, None)]
    assert judge_plausibility(links(True, True), unestimated, NONE, level=LEVEL).status is Status.PARTLY_MET


def test_theory_alone_is_at_most_partly_met():
    paths = [PathSign("a[trust]", 1, A_SIG), PathSign("b[trust]", 1, B_SIG)]
    verdict = judge_plausibility(
        links(False, False, theory=("the model's citation (Metz 2024)",)), paths, NONE, level=LEVEL
    )
    assert verdict.status is Status.PARTLY_MET
    assert "theory only: the model's citation (Metz 2024)" in verdict.reason


def test_a_link_the_data_do_not_show_is_not_met():
    wrong_but_unclear = [
        PathSign("a[trust]", 1, effect("a[trust]", -0.05, -0.2, 0.1, 0.5)),
        PathSign("b[trust]", 1, B_SIG),
    ]
    null_a = [PathSign("a[trust]", 1, A_NS), PathSign("b[trust]", 1, B_SIG)]
    supports = QualitativeEvidence("supports", "13 recipients described trust first")
    for paths in (wrong_but_unclear, null_a):
        verdict = judge_plausibility(links(True, True), paths, supports, level=LEVEL)
        assert verdict.status is Status.PARTLY_MET
        assert verdict.reason.startswith("the data do not show a[trust]")


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
