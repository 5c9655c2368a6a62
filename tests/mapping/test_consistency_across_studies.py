"""Consistency across studies: the map's meta-analysis is moclab's meta engine (and metafor's numbers),
effects are put on one scale by hand-checkable conversions or refused with a reason, and moderators are
tested by subgroups against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from statsmodels.stats.meta_analysis import combine_effects

from moclab.analysis import meta_analysis
from moclab.evidence.records import record_from_data
from moclab.evidence.rules import judge_consistency
from moclab.evidence.verdicts import Status
from moclab.mapping import consistency_across_studies, map_records, standardized_effect

# BCG vaccine trials (Colditz et al. 1994), as tabulated in metafor's dat.bcg, with their log risk ratios: the
# reference data of tests/analysis/test_meta.py.
BCG = pd.DataFrame(
    {
        "tpos": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
        "tneg": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
        "cpos": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
        "cneg": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
        "ablat": [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33],
        "alloc": ["random", "random", "random", "random", "alternate", "alternate", "random", "random",
                  "random", "systematic", "systematic", "systematic", "systematic"],
    }
)  # fmt: skip
BCG["log_rr"] = np.log(BCG.tpos / (BCG.tpos + BCG.tneg)) - np.log(BCG.cpos / (BCG.cpos + BCG.cneg))
BCG["se"] = np.sqrt(1 / BCG.tpos - 1 / (BCG.tpos + BCG.tneg) + 1 / BCG.cpos - 1 / (BCG.cpos + BCG.cneg))


def record(study: str, estimates: dict | None, *, setting=None, design=None, direction="positive", **extra):
    """A hand-entered record of coaching → trust → adoption in `study` (illustrative numbers)."""
    data = {
        "kind": "moclab-evidence-record",
        "format": 1,
        "study": {"id": study, "title": f"Study {study}", "synthetic": True, "setting": setting},
        "pathway": {
            "strategy": {"id": "coaching"},
            "mechanisms": [{"id": "trust"}],
            "outcome": {"id": "adoption"},
            "direction": direction,
        },
        "criteria": {"strong_association": {"status": "met"}},
        "provenance": {"source": "hand-entered", "citation": "test record, not a real study"},
        **extra,
    }
    if design:
        data["design"] = {"type": design}
    if estimates is not None:
        data["estimates"] = estimates
    return record_from_data(data)


def standardized(estimate: float, se: float) -> dict:
    return {"strategy_coding": "arm", "indirect_partially_standardized": {"estimate": estimate, "se": se}}


def test_the_pooled_effect_is_the_meta_engines_on_the_same_effects():
    estimates = [0.21, 0.35, 0.10, 0.28, 0.42, 0.05]
    ses = [0.08, 0.12, 0.09, 0.10, 0.15, 0.11]
    records = [
        record(f"s{i}", standardized(y, s)) for i, (y, s) in enumerate(zip(estimates, ses, strict=True))
    ]
    result = consistency_across_studies(records)
    direct = meta_analysis(
        estimate=estimates,
        se=ses,
        label=[f"Study s{i}" for i in range(6)],
        knapp_hartung=True,
        effect_label="partially standardized indirect effect",
    )
    assert result.meta.to_dict() == direct.to_dict()
    assert result.scale == "partially standardized" and not result.refused
    # the verdict is the consistency rule across studies, read from that meta-analysis
    expected = judge_consistency(
        direct.pooled,
        [e for e in direct.effects if e.kind == "study"],
        level=0.95,
        unit_name="studies",
        prediction=tuple(direct.prediction),
        evidence={"tau2": direct.tau2, "i2": direct.i2, "q": direct.q, "q_p": direct.q_p,
                  "scale": "partially standardized", "k": 6},
    )  # fmt: skip
    assert result.verdict == expected


def test_the_bcg_trials_give_metafors_random_effects_model():
    """metafor README: rma(yi, vi, data = dat, test = "knha") on dat.bcg: tau^2 = 0.3132, estimate -0.7145,
    se 0.1808, CI [-1.1084, -0.3206], p = 0.0019 (the values tests/analysis/test_meta.py checks)."""
    records = [
        record(f"trial-{i + 1}", {"strategy_coding": "arm",
                                  "indirect": {"estimate": y, "se": s, "scale": "partially standardized"}})
        for i, (y, s) in enumerate(zip(BCG.log_rr, BCG.se, strict=True))
    ]  # fmt: skip
    result = consistency_across_studies(records)
    pooled = result.meta.pooled
    assert result.meta.k == 13 and result.meta.knapp_hartung  # 13 studies: fewer than 20
    assert result.meta.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert pooled.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert pooled.se == pytest.approx(0.1808, abs=5e-5)
    assert (pooled.ci_low, pooled.ci_high) == pytest.approx((-1.1084, -0.3206), abs=5e-5)
    assert pooled.p == pytest.approx(0.0019, abs=5e-5)
    # a benefit (negative log risk ratio) was hypothesised: then the pooled effect holds, the prediction
    # interval (-2.01, 0.58) does not
    negative = [record(r.study_id, r.estimates, direction="negative") for r in records]
    verdict = consistency_across_studies(negative).verdict
    assert verdict.status is Status.PARTLY_MET and "prediction interval" in verdict.reason
    assert (
        consistency_across_studies(records).verdict.status is Status.NOT_MET
    )  # against a positive hypothesis


def test_raw_effects_are_standardized_with_the_sds_the_record_gives():
    sd = {"strategy": 0.5, "outcome": 1.6}
    raw = {"strategy_coding": "arm", "indirect": {"estimate": 0.32, "se": 0.08, "scale": "raw"}, "sd": sd}
    effect, refusal = standardized_effect(record("a", raw), "arm")
    assert refusal is None and (effect.estimate, effect.se) == pytest.approx((0.32 / 1.6, 0.08 / 1.6))
    dose = {**raw, "strategy_coding": "dose"}
    effect, _ = standardized_effect(record("b", dose), "dose")  # completely standardized: times SD(X)/SD(Y)
    assert (effect.estimate, effect.se) == pytest.approx((0.32 * 0.5 / 1.6, 0.08 * 0.5 / 1.6))
    complete = {"strategy_coding": "arm", "indirect_completely_standardized": {"estimate": 0.1, "se": 0.04},
                "sd": {"strategy": 0.5}}  # fmt: skip
    effect, _ = standardized_effect(record("c", complete), "arm")  # partially = completely / SD(X)
    assert (effect.estimate, effect.se) == pytest.approx((0.2, 0.08))
    # an interval without an SE gives the SE of a normal interval of that width
    interval = {"strategy_coding": "arm", "indirect": {"estimate": 0.2, "interval": [0.05, 0.35],
                                                       "scale": "partially standardized"}}  # fmt: skip
    effect, _ = standardized_effect(record("d", interval), "arm")
    assert effect.se == pytest.approx(0.3 / (2 * stats.norm.ppf(0.975)))
    assert "SE from the width of the 95% interval" in effect.how
    # the converted effects are what the meta engine pools
    records = [record("a", raw), record("c", complete), record("d", interval)]
    result = consistency_across_studies(records)
    direct = meta_analysis(
        estimate=[0.2, 0.2, 0.2], se=[0.05, 0.08, 0.3 / (2 * float(special.ndtri(0.975)))],
        label=["Study a", "Study c", "Study d"], effect_label="partially standardized indirect effect",
    )  # fmt: skip
    assert result.meta.pooled.estimate == pytest.approx(direct.pooled.estimate)
    assert result.meta.pooled.se == pytest.approx(direct.pooled.se)


@pytest.mark.parametrize(
    ("estimates", "reason"),
    [
        (
            {"strategy_coding": "arm", "indirect": {"estimate": 0.3, "se": 0.1, "scale": "raw"}},
            "the indirect effect is in raw units (the outcome's units) and the record gives no SD of the "
            "outcome",
        ),
        (
            {
                "strategy_coding": "dose",
                "indirect": {"estimate": 0.3, "se": 0.1, "scale": "raw"},
                "sd": {"outcome": 2.0},
            },
            "the strategy is a dose here but an arm contrast in most studies of this pathway",
        ),
        (
            {"strategy_coding": "arm", "indirect": {"estimate": 0.4, "se": 0.2, "scale": "log odds"}},
            "the indirect effect is on the log-odds scale of a binary outcome",
        ),
        (
            {"strategy_coding": "arm", "indirect": {"estimate": 0.4, "scale": "partially standardized"}},
            "the indirect effect comes with no standard error or interval, so it cannot be weighted",
        ),
        (
            {"indirect": {"estimate": 0.4, "se": 0.1, "scale": "partially standardized"}},
            "the record does not say whether the strategy is an arm contrast or a dose",
        ),
        (None, "the record reports no indirect effect"),
        (
            {"strategy_coding": "arm", "indirect": {"estimate": 0.4, "se": 0.1, "scale": "other"}},
            "the indirect effect is on a scale the record does not name",
        ),
    ],
)
def test_effects_that_cannot_be_put_on_the_scale_are_refused_with_the_reason(estimates, reason):
    others = [record(name, standardized(0.2, 0.05)) for name in ("x", "y")]
    result = consistency_across_studies([*others, record("z", estimates)])
    assert [(r.study_id, text[: len(reason)]) for r, text in result.refused] == [("z", reason)]
    assert result.meta.k == 2


def test_a_single_study_is_not_testable_across_studies():
    result = consistency_across_studies([record("a", standardized(0.3, 0.1))])
    assert result.meta is None and result.verdict.status is Status.NOT_TESTABLE
    assert "1 study has an indirect effect on the partially standardized scale" in result.verdict.reason


def test_moderators_are_tested_by_subgroups_as_statsmodels_pools_them():
    """Subgroups by design: each pooled on its own (DerSimonian-Laird here, statsmodels' `chi2`), the test of
    their difference Cochran's Q across the subgroup estimates with their inverse-variance SEs (Borenstein
    et al. 2009, ch. 19)."""
    designs = ["cluster-randomized trial"] * 5 + ["observational cohort"] * 5 + ["cross-sectional"]
    settings = ["primary care"] * 11
    y = [0.10, 0.22, 0.15, 0.31, 0.05, 0.40, 0.52, 0.33, 0.47, 0.61, 0.2]
    s = [0.06, 0.08, 0.05, 0.09, 0.07, 0.10, 0.12, 0.08, 0.09, 0.11, 0.1]
    records = [
        record(f"s{i}", standardized(y[i], s[i]), design=designs[i], setting=settings[i]) for i in range(11)
    ]
    result = consistency_across_studies(records, method="dl")
    by_design = {test.moderator: test for test in result.moderators}["design"]
    assert [value for value, _ in by_design.subgroups] == ["cluster-randomized trial", "observational cohort"]
    assert by_design.note == "left out (one study each): cross-sectional"
    means, wald_ses = [], []
    for (_, meta), rows in zip(by_design.subgroups, (range(5), range(5, 10)), strict=True):
        reference = combine_effects(np.array(y)[list(rows)], np.array(s)[list(rows)] ** 2, method_re="chi2",
                                    use_t=True)  # fmt: skip
        assert meta.tau2 == pytest.approx(reference.tau2)
        assert meta.pooled.estimate == pytest.approx(reference.mean_effect_re)
        assert meta.pooled.se == pytest.approx(reference.sd_eff_w_re_hksj)  # 5 studies: Knapp-Hartung
        means.append(reference.mean_effect_re)
        wald_ses.append(reference.sd_eff_w_re)
    w = 1 / np.array(wald_ses) ** 2
    grand = float(w @ np.array(means) / w.sum())
    q_between = float(w @ (np.array(means) - grand) ** 2)
    assert by_design.q == pytest.approx(q_between) and by_design.df == 1
    assert by_design.p == pytest.approx(stats.chi2.sf(q_between, 1))
    by_setting = {test.moderator: test for test in result.moderators}["setting"]
    assert by_setting.q is None and by_setting.note == "every study shares one setting (primary care)"


def test_the_map_feeds_each_studys_verdict_from_its_pathways_meta_analysis():
    records = [record(f"s{i}", standardized(0.3 + 0.01 * i, 0.05)) for i in range(4)]
    evidence_map = map_records(records)
    (item,) = evidence_map.consistency
    assert item.verdict.status is Status.MET  # homogeneous effects clear of 0: the prediction interval too
    assert all(evidence_map.across(entry) == item.verdict for entry in evidence_map.entries)
    cell = evidence_map.matrix()["id:trust"]["consistency_across_studies"]
    assert cell == {"met": 4, "partly_met": 0, "not_met": 0, "not_testable": 0, "not_reported": 0,
                    "judged": 4, "studies": 4}  # fmt: skip
