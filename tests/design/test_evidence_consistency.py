"""The power analysis tests what `moclab analyze` tests: same variables, waves, baselines and clustering."""

from __future__ import annotations

import pytest

from moclab.design import analyse_batch, power_targets, replication_arrays
from moclab.design.criteria import STATUSES, fast_statuses
from moclab.evidence import analyze
from moclab.simulate import compile_simulation
from moclab.simulate.generate import draw
from moclab.study import load_study


def test_engine_matches_the_scorecard_analysis(tmp_path, two_mechanism_model, clustered_spec):
    plan = compile_simulation(
        two_mechanism_model, clustered_spec(sites=10, per_site=20, waves=3, missing=0.0)
    )
    target = power_targets(plan, ["coaching__trust__acceptability"])[0]
    folder = plan.study(5).write(tmp_path / "study")
    evidence = analyze(
        load_study(folder, show_progress=False),
        {"pathways": [target.id]},
        ci="percentile",
        n_boot=500,
        seed=99,
        show_progress=False,
    )
    pathway = evidence.scorecard.pathway(target.id)
    mediation = pathway.results["mediation"]
    fit = analyse_batch(
        [replication_arrays(draw(plan, 5), target, alternatives=True)],
        [99],
        methods=("joint", "percentile"),
        n_boot=500,
    )
    assert mediation.n == int(fit.n[0]) and mediation.n_clusters == int(fit.n_clusters[0])
    a = mediation.effect("a[trust]")
    b = mediation.effect("b[trust]")
    assert fit.paths["a[0]"][0][0] == pytest.approx(a.estimate, rel=1e-8)
    assert fit.paths["a[0]"][2][0] == pytest.approx(a.p, rel=1e-6)
    assert fit.paths["b[0]"][0][0] == pytest.approx(b.estimate, rel=1e-8)
    indirect = mediation.effect("indirect[trust]")
    low, high = fit.indirect[0]["percentile"]
    assert (low[0], high[0]) == pytest.approx((indirect.ci_low, indirect.ci_high), rel=1e-8)
    total, direct = mediation.effect("total"), mediation.effect("direct")
    assert fit.paths["total"][0][0] == pytest.approx(total.estimate, rel=1e-8)
    assert fit.paths["total"][2][0] == pytest.approx(total.p, rel=1e-6)
    assert fit.paths["direct"][0][0] == pytest.approx(direct.estimate, rel=1e-8)
    assert fit.paths["direct"][2][0] == pytest.approx(direct.p, rel=1e-6)
    codes = fast_statuses(target, fit, "percentile", 0.95).codes
    assert STATUSES[codes["strong_association"][0]] == pathway.verdict("strong_association").status.value
    assert STATUSES[codes["experimental_manipulation"][0]] == (
        pathway.verdict("experimental_manipulation").status.value
    )
