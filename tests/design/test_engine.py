"""The vectorized engine reproduces `mediate` replication by replication (estimates, p-values, intervals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from moclab.analysis import mediate
from moclab.design import analyse_batch, power_targets, replication_arrays
from moclab.simulate import compile_simulation
from moclab.simulate.generate import draw


def _frame(data) -> tuple[pd.DataFrame, dict]:
    c, k = data.n_covariates, data.n_mediators
    names = ["x", *[f"c{j}" for j in range(c)], *[f"m{j}" for j in range(k)], "y"]
    frame = pd.DataFrame(data.z[:, 1:], columns=names)
    options = {
        "x": "x",
        "m": [f"m{j}" for j in range(k)],
        "y": "y",
        "covariates": [f"c{j}" for j in range(c)],
    }
    if data.codes is not None:
        frame["site"] = data.codes
        options["cluster"] = "site"
    return frame, options


def _check_against_mediate(plan, target, alternatives: bool, seeds: list[int]) -> None:
    data = [
        replication_arrays(draw(plan, 100 + i), target, alternatives=alternatives) for i in range(len(seeds))
    ]
    fit = analyse_batch(
        data, seeds, methods=("joint", "sobel", "monte_carlo", "percentile"), n_mc=2000, n_boot=400
    )
    for row, item in enumerate(data):
        frame, options = _frame(item)
        mc = mediate(frame, ci="monte_carlo", n_mc=2000, seed=seeds[row], **options)
        boot = mediate(frame, ci="percentile", n_boot=400, seed=seeds[row], **options)
        for j in range(item.n_mediators):
            for path in ("a", "b"):
                effect = mc.effect(f"{path}[m{j}]")
                estimate, se, p = (values[row] for values in fit.paths[f"{path}[{j}]"])
                assert estimate == pytest.approx(effect.estimate, rel=1e-9, abs=1e-12)
                assert se == pytest.approx(effect.se, rel=1e-8)
                assert p == pytest.approx(effect.p, rel=1e-7, abs=1e-14)
            indirect = mc.effect(f"indirect[m{j}]")
            assert fit.indirect[j]["estimate"][row] == pytest.approx(indirect.estimate, rel=1e-9, abs=1e-12)
            assert fit.indirect[j]["p"][row] == pytest.approx(indirect.extra["delta_p"], rel=1e-7, abs=1e-14)
            low, high = fit.indirect[j]["monte_carlo"]
            # Eigenvectors of close eigenvalues amplify 1e-16 differences in the covariance: equal to 1e-7.
            assert (low[row], high[row]) == pytest.approx((indirect.ci_low, indirect.ci_high), abs=1e-7)
            boot_effect = boot.effect(f"indirect[m{j}]")
            low, high = fit.indirect[j]["percentile"]
            assert (low[row], high[row]) == pytest.approx((boot_effect.ci_low, boot_effect.ci_high), rel=1e-9)
        for j in range(1, item.n_mediators):
            contrast = mc.effect(f"contrast[m0-m{j}]")
            low, high = fit.contrasts[j]["monte_carlo"]
            assert (low[row], high[row]) == pytest.approx((contrast.ci_low, contrast.ci_high), abs=1e-7)
            low, high = fit.contrasts[j]["percentile"]
            boot_contrast = boot.effect(f"contrast[m0-m{j}]")
            assert (low[row], high[row]) == pytest.approx(
                (boot_contrast.ci_low, boot_contrast.ci_high), rel=1e-9
            )


def test_single_level_equals_mediate(mediator_model, mackinnon_spec):
    plan = compile_simulation(mediator_model, mackinnon_spec(0.39, 0.39, 80))
    (target,) = power_targets(plan)
    assert not target.clustered and target.baseline_wave is None
    _check_against_mediate(plan, target, alternatives=False, seeds=[7, 8, 9])


@pytest.mark.parametrize("alternatives", [False, True])
def test_clustered_with_baselines_equals_mediate(two_mechanism_model, clustered_spec, alternatives):
    plan = compile_simulation(two_mechanism_model, clustered_spec())
    target = power_targets(plan, ["coaching__trust__acceptability"])[0]
    assert target.clustered and target.baseline_wave == 0 and target.alternatives == ("knowledge",)
    _check_against_mediate(plan, target, alternatives=alternatives, seeds=[21, 22])


def test_four_correlated_mechanisms_on_a_1_to_5_scale_are_estimated_like_mediate():
    """The recipient pathway: trust with its three competitors and their baselines (scores near 3, so
    uncentred columns are nearly collinear with the intercept): no replication may be flagged singular
    (an earlier rank check did, and specificity power read 0 everywhere)."""
    from moclab.simulate import default_spec
    from moclab.simulate.plan import coerce_model

    model = coerce_model("recipient-pathway")
    plan = compile_simulation(model, default_spec(model).with_design(sites=12))
    target = power_targets(plan, ["isp_support__trust__acceptability"])[0]
    assert len(target.alternatives) == 3
    _check_against_mediate(plan, target, alternatives=True, seeds=[31])


def test_failed_replication_is_flagged(mediator_model, mackinnon_spec):
    plan = compile_simulation(mediator_model, mackinnon_spec(0.39, 0.39, 50))
    (target,) = power_targets(plan)
    good = replication_arrays(draw(plan, 1), target)
    constant = type(good)(z=good.z.copy(), codes=None, n_covariates=0, n_mediators=1)
    constant.z[:, 1] = 1.0  # the strategy does not vary: the model cannot be estimated
    fit = analyse_batch([good, constant], [1, 2], methods=("joint", "monte_carlo"), n_mc=500)
    assert fit.failed.tolist() == [False, True]
    assert np.isnan(fit.paths["a[0]"][2][1]) and np.isnan(fit.indirect[0]["monte_carlo"][0][1])
    assert np.isfinite(fit.indirect[0]["monte_carlo"][0][0])


def test_unknown_method_is_refused(mediator_model, mackinnon_spec):
    plan = compile_simulation(mediator_model, mackinnon_spec(0.39, 0.39, 50))
    (target,) = power_targets(plan)
    with pytest.raises(ValueError, match="unknown method"):
        analyse_batch([replication_arrays(draw(plan, 1), target)], [1], methods=("bca",))
