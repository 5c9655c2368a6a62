"""Power analysis: seeding, identical results on any number of workers and on Dask, grids and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from dask import distributed

from moclab.design import design_grid, power_analysis, replication_seeds, spec_for
from moclab.design.criteria import CRITERION_IDS
from moclab.errors import MoclabError, ValidationError
from moclab.simulate import SimulationSpec, spec_from_dict

COLUMNS = ["sites", "pathway", "quantity", "power", "successes", "reps", "n", "mean_estimate"]


def _run(model, spec, **options):
    defaults = {"sites": [6, 10], "reps": 24, "method": "mc", "n_mc": 500, "seed": 11}
    defaults.update(options)
    return power_analysis(model, spec, **defaults)


@pytest.fixture(scope="module")
def small_trial(clustered_spec):
    return clustered_spec(sites=6, per_site=12, waves=2)


@pytest.fixture(scope="module")
def sequential(two_mechanism_model, small_trial):
    return _run(two_mechanism_model, small_trial, chunk_size=24)


def test_same_seed_same_result_whatever_the_chunks_and_workers(two_mechanism_model, small_trial, sequential):
    chunked = _run(two_mechanism_model, small_trial, chunk_size=5)
    parallel = _run(two_mechanism_model, small_trial, chunk_size=7, n_jobs=2)
    for other in (chunked, parallel):
        pd.testing.assert_frame_equal(sequential.table[COLUMNS], other.table[COLUMNS])


def test_dask_cluster_gives_the_local_result(two_mechanism_model, small_trial, sequential):
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = _run(two_mechanism_model, small_trial, chunk_size=6, scheduler=client)
        by_address = _run(
            two_mechanism_model, small_trial, chunk_size=12, scheduler=cluster.scheduler_address
        )
    pd.testing.assert_frame_equal(sequential.table[COLUMNS], on_dask.table[COLUMNS])
    pd.testing.assert_frame_equal(sequential.table[COLUMNS], by_address.table[COLUMNS])


def test_other_seed_other_result(two_mechanism_model, small_trial, sequential):
    other = _run(two_mechanism_model, small_trial, seed=12)
    assert not np.array_equal(
        sequential.table["mean_estimate"].dropna(), other.table["mean_estimate"].dropna()
    )


def test_table_holds_paths_tests_and_criteria(sequential):
    table = sequential.table
    assert set(sequential.pathway_ids) == {
        "coaching__trust__acceptability",
        "coaching__knowledge__acceptability",
    }
    quantities = set(table["quantity"])
    assert {"a", "b", "indirect:joint", "indirect:sobel", "indirect:monte_carlo"} <= quantities
    assert {f"criterion:{name}" for name in ("strong_association", "specificity", "timeline")} <= quantities
    # The fast engine judges all seven criteria in every replication of this design (no subgroups).
    criteria = table[table["quantity"].str.startswith("criterion:")]
    assert len(criteria) == 7 * 2 * 2 and criteria["estimated"].all()
    shares = criteria[["power", "partly_met", "not_met", "not_testable"]].fillna(0).sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    # The joint test rejects exactly when both paths are significant; power has its binomial SE.
    for _, row in table.iterrows():
        if row["estimated"]:
            assert row["mc_se"] == pytest.approx(np.sqrt(row["power"] * (1 - row["power"]) / row["reps"]))
    assert (table["reps"] == 24).all()
    assert table.loc[table["sites"] == 10, "n"].mean() > table.loc[table["sites"] == 6, "n"].mean()


def test_association_met_requires_joint_and_interval(sequential):
    rows = sequential.table.set_index(["pathway", "sites", "quantity"])["power"]
    for pathway in sequential.pathway_ids:
        for sites in (6, 10):
            met = rows[(pathway, sites, "criterion:strong_association")]
            assert met <= min(
                rows[(pathway, sites, "indirect:joint")], rows[(pathway, sites, "indirect:monte_carlo")]
            )


def test_replication_seeds_depend_on_design_and_number():
    data, analysis = replication_seeds(1, (10, 20, 0), 3)
    again = replication_seeds(1, (10, 20, 0), 3)
    assert analysis == again[1] and data.spawn_key == again[0].spawn_key
    assert replication_seeds(1, (10, 20, 0), 4)[1] != analysis
    assert replication_seeds(1, (12, 20, 0), 3)[1] != analysis


def test_design_grid_and_spec_changes(small_trial):
    spec = spec_from_dict(
        {
            **small_trial,
            "design": {
                **small_trial["design"],
                "recipients": {"mean": 30, "distribution": "poisson", "min": 10},
            },
        }
    )
    grid = design_grid([20, 10], [15, 40], [1, 3], spec=spec)
    assert [(p.sites, p.per_site, p.waves) for p in grid][:3] == [(10, 15, 1), (10, 15, 3), (10, 40, 1)]
    changed = spec_for(spec, grid[1])
    assert changed.design.sites == 10
    assert changed.design.recipients.mean == 15 and changed.design.recipients.min == 10
    assert changed.design.waves.count == 3 and changed.design.waves.interval_months == 6
    ranged = spec.with_design(recipients={"range": [20, 40]})
    assert spec_for(ranged, grid[0]).design.recipients.range == (10, 20)
    listed = spec.with_design(waves=[{"id": "pre", "month": 0}, {"id": "post", "month": 4}])
    extended = spec_for(listed, design_grid(8, None, 3)[0]).design.wave_list()
    assert [w.month for w in extended] == [0, 4, 8]
    assert spec_for(spec, design_grid(8, 25)[0]).design.recipients.mean == 25
    assert isinstance(spec, SimulationSpec)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reps": 0}, "reps"),
        ({"method": "bca"}, "unknown method"),
        ({"criteria": "some"}, "criteria"),
        ({"level": 1.5}, "level"),
        ({"n_mc": 10}, "n_mc"),
        ({"sites": [0, 10]}, "sites"),
        ({"per_site": ["ten"]}, "per_site"),
        ({"pathways": ["nope"]}, "unknown pathway"),
        ({"seed": -1}, "seed"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_options_are_clear_errors(two_mechanism_model, small_trial, options, message):
    with pytest.raises(MoclabError, match=message):
        _run(two_mechanism_model, small_trial, **options)


def test_design_the_spec_cannot_carry_is_a_validation_error(two_mechanism_model, small_trial):
    with pytest.raises(ValidationError):
        _run(two_mechanism_model, small_trial, sites=[1])  # a site-randomized trial needs two sites


def test_unreachable_scheduler_is_a_clear_error(two_mechanism_model, small_trial, monkeypatch):
    monkeypatch.setattr("moclab.design.parallel.CONNECT_TIMEOUT", 1)
    with pytest.raises(MoclabError, match="cannot reach the Dask scheduler"):
        _run(two_mechanism_model, small_trial, sites=[6], reps=2, scheduler="tcp://127.0.0.1:9")


def test_full_criteria_score_every_criterion_like_the_fast_engine(two_mechanism_model, clustered_spec):
    """criteria='full' runs `moclab.evidence.analyze` per replication; the fast engine judges every criterion
    of this design too, and the shares agree (same data, same seed, same interval; per replication in
    tests/design/test_criteria_fast.py)."""
    spec = clustered_spec(sites=8, per_site=15, waves=3)
    options = {
        "sites": [8],
        "reps": 3,
        "method": "boot",
        "n_boot": 200,
        "pathways": ["coaching__trust__acceptability"],
    }
    full = _run(two_mechanism_model, spec, criteria="full", **options)
    fast = _run(two_mechanism_model, spec, criteria="fast", **options)
    rows = full.table[full.table["quantity"].str.startswith("criterion:")]
    assert len(rows) == 7 and rows["estimated"].all()
    shares = rows[["power", "partly_met", "not_met", "not_testable"]].fillna(0).sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    # A criterion not testable in any replication has no power (NaN) and the scorecard's reason, never 0.
    never = rows[rows["not_testable"] == 1]
    assert never["power"].isna().all() and (~never["testable"]).all()
    assert (never["reason"].str.startswith("not testable in any replication: ")).all()
    assert rows.loc[rows["not_testable"] < 1, "power"].notna().all()
    for name in CRITERION_IDS:
        quantity = f"criterion:{name}"
        pair = [
            r.table.loc[r.table["quantity"] == quantity, ["power", "partly_met", "not_met"]].to_numpy()
            for r in (full, fast)
        ]
        np.testing.assert_allclose(pair[0], pair[1])


def test_a_criterion_never_testable_has_no_power_and_says_why(mediator_model, mackinnon_spec):
    """One mechanism and nothing to compare it with: specificity cannot be tested in any replication."""
    result = power_analysis(
        mediator_model, mackinnon_spec(0.39, 0.39, 60), sites=1, reps=6, method="joint", seed=2
    )
    rows = result.table.set_index("quantity")
    specificity = rows.loc["criterion:specificity"]
    assert math.isnan(specificity["power"]) and math.isnan(specificity["mc_se"])
    assert specificity["not_testable"] == 1.0 and not specificity["testable"]
    assert "no competing mechanism was measured" in specificity["reason"]
    association = rows.loc["criterion:strong_association"]
    assert association["testable"] and association["reason"] == ""
    assert association["power"] == association["successes"] / 6
    timeline = rows.loc["criterion:timeline"]
    assert timeline["estimated"] and not timeline["testable"] and math.isnan(timeline["power"])
    assert (
        timeline["reason"] == "not testable in any replication: the study has a single wave, so the "
        "mechanism and the outcome were measured at the same time"
    )
    assert result.table_of().loc["1 sites", "criterion met: Specificity"] == "not testable"


def test_specificity_is_testable_for_the_recipient_pathway_template():
    """Each recipient-pathway mechanism has measured competitors, so the parallel-mediator model is judged
    (the rank check once made every multi-mediator model singular and specificity never testable)."""
    result = power_analysis(
        "recipient-pathway",
        sites=[8],
        reps=6,
        pathways=["isp_support__trust__acceptability", "isp_support__credibility__feasibility"],
        method="mc",
        n_mc=500,
        seed=4,
    )
    specificity = result.table[result.table["quantity"] == "criterion:specificity"]
    assert len(specificity) == 2
    assert (specificity["not_testable"] == 0).all() and specificity["testable"].all()
    assert specificity["power"].notna().all() and (specificity["failed"] == 0).all()
    np.testing.assert_allclose(specificity[["power", "partly_met", "not_met"]].sum(axis=1), 1.0)
