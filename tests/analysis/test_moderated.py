"""`moderated_mediation` against PyProcessMacro, statsmodels and closed forms.

Each reference says where its numbers come from:

* "PyProcessMacro": PyProcessMacro 2.2 (a Python port of Hayes' PROCESS, test-only) run here on the same
  data, models 7, 14, 58 and 59, continuous and categorical (``mcw``/``mcv``) moderators;
* "same resamples": PyProcessMacro draws its resamples as ``RandomState(seed).randint(n, size=n)``, one
  resample after the other; the test feeds moclab those same resamples (as counts, through
  `bootstrap_counts`), so the bootstrap intervals are compared exactly, not to Monte Carlo tolerance;
* "statsmodels": the two regressions fitted with statsmodels' formula OLS in the test and the closed forms
  a(w) b(w), a3 b1, a1 b3 of Hayes (2015) evaluated on their coefficients;
* "by hand": the BCa interval of Efron (1987) written out in the test from the draws and a leave-one-out
  refit of both models with numpy.
"""

from __future__ import annotations

import importlib
import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

import moclab.analysis.moderated as moderated
from moclab.analysis import ModeratedMediationResult, moderated_mediation
from moclab.errors import DataError

matplotlib.use("Agg")
# the reference (dev extra; make test installs it), imported after the Agg backend is chosen
pyprocessmacro = importlib.import_module("pyprocessmacro")

# PyProcessMacro 2.2 renames columns with pandas' deprecated inplace keyword: its warning, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")

N = 300
N_BOOT = 400
PPM_SEED = 7


@pytest.fixture(scope="module")
def continuous() -> pd.DataFrame:
    """X, M, Y with W on both the a and the b path, and one covariate."""
    rng = np.random.default_rng(1)
    x, w, c = rng.normal(size=N), rng.normal(1.0, 2.0, size=N), rng.normal(size=N)
    m = 0.3 + 0.5 * x + 0.2 * w + 0.3 * x * w + 0.2 * c + rng.normal(size=N)
    y = 0.1 + 0.2 * x + 0.4 * m + 0.1 * w + 0.2 * m * w + 0.1 * c + rng.normal(size=N)
    return pd.DataFrame({"x": x, "w": w, "c": c, "m": m, "y": y})


@pytest.fixture(scope="module")
def categorical() -> pd.DataFrame:
    """The support mode as a three-group moderator of both paths; a binary strategy."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, N).astype(float)
    mode = rng.choice(["push", "push_pull", "co_creation"], size=N)
    c = rng.normal(size=N)
    pull, co = (mode == "push_pull").astype(float), (mode == "co_creation").astype(float)
    m = 0.3 + 0.5 * x + 0.2 * pull + 0.5 * x * co + 0.2 * c + rng.normal(size=N)
    y = 0.1 + 0.2 * x + 0.4 * m + 0.1 * pull + 0.3 * m * co + 0.1 * c + rng.normal(size=N)
    return pd.DataFrame({"x": x, "mode": mode, "c": c, "m": m, "y": y})


def _process(data: pd.DataFrame, model: int, w: str, categorical: bool = False, **options):
    """PyProcessMacro on the same data; its 2.16 numbering calls the moderator of model 14 'v'."""
    symbol = "v" if model == 14 else "w"
    coding = {f"mc{symbol}": 1} if categorical else {}
    return pyprocessmacro.Process(
        data=data, model=model, x="x", m="m", y="y", controls=["c"], boot=N_BOOT, seed=PPM_SEED,
        percent=True, suppr_init=True, **{symbol: w}, **coding, **options,
    )  # fmt: skip


@pytest.fixture()
def process_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    """moclab's bootstrap draws PyProcessMacro's resamples: RandomState(PPM_SEED).randint(n, size=n), one
    resample after the other, turned into counts."""
    state = np.random.RandomState(PPM_SEED)

    def counts(n: int, n_boot: int, seed: object = None) -> np.ndarray:
        rows = [np.bincount(state.randint(n, size=n), minlength=n) for _ in range(n_boot)]
        return np.array(rows, dtype=np.float64)

    monkeypatch.setattr(moderated, "bootstrap_counts", counts)


def _ours(data: pd.DataFrame, model: int, w: str, **options) -> ModeratedMediationResult:
    return moderated_mediation(
        data, x="x", m="m", y="y", w=w, model=model, covariates=["c"], n_boot=N_BOOT, seed=1, **options
    )


def _indirect(result: ModeratedMediationResult) -> pd.DataFrame:
    frame = result.to_frame()
    return frame[frame["kind"] == "indirect"]


# ---------------------------------------------------------------------------------------------------------
# PyProcessMacro
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [7, 14, 58, 59])
@pytest.mark.parametrize("rule", ["moments", "percentiles"])
def test_continuous_moderator_equals_pyprocessmacro(continuous, process_resamples, model, rule) -> None:
    """PyProcessMacro, same resamples: probe values, conditional indirect effects and the index to 1e-8;
    bootstrap SEs and percentile intervals to 1e-10 (identical resamples); direct effects (t intervals)."""
    reference = _process(continuous, model, "w", spotlight=rule)
    ours = _ours(continuous, model, "w", w_values="mean_sd" if rule == "moments" else "percentiles")
    tidy = reference.tidy()
    expected = tidy[tidy["component"] == "indirect"]
    indirect = _indirect(ours)
    assert indirect["w"].to_numpy(float) == pytest.approx(expected["w"].to_numpy(float), abs=1e-12)
    assert indirect["estimate"].to_numpy() == pytest.approx(expected["estimate"].to_numpy(), abs=1e-8)
    assert indirect["se"].to_numpy() == pytest.approx(expected["std_error"].to_numpy(), abs=1e-10)
    assert indirect["ci_low"].to_numpy() == pytest.approx(expected["conf_low"].to_numpy(), abs=1e-10)
    assert indirect["ci_high"].to_numpy() == pytest.approx(expected["conf_high"].to_numpy(), abs=1e-10)

    index = tidy[tidy["component"] == "index_mm"]
    if model in (7, 14):
        ours_index = ours.effect("index")
        assert ours_index.estimate == pytest.approx(float(index["estimate"].iloc[0]), abs=1e-8)
        assert ours_index.se == pytest.approx(float(index["std_error"].iloc[0]), abs=1e-10)
        assert ours_index.ci_low == pytest.approx(float(index["conf_low"].iloc[0]), abs=1e-10)
        assert ours_index.ci_high == pytest.approx(float(index["conf_high"].iloc[0]), abs=1e-10)
    else:  # no index where the indirect effect is quadratic in W: PROCESS prints none either
        assert index.empty and "index" not in ours.to_frame().index

    direct = tidy[tidy["component"] == "direct"]
    ours_direct = ours.to_frame().query("kind == 'direct'")
    assert len(ours_direct) == len(direct) == (3 if model == 59 else 1)
    for column, theirs in (("estimate", "estimate"), ("se", "std_error"), ("p", "p_value")):
        assert ours_direct[column].to_numpy() == pytest.approx(direct[theirs].to_numpy(), abs=1e-8)
    assert ours_direct["ci_low"].to_numpy() == pytest.approx(direct["conf_low"].to_numpy(), abs=1e-8)


@pytest.mark.parametrize("model", [7, 14, 58])
def test_categorical_moderator_equals_pyprocessmacro(categorical, process_resamples, model) -> None:
    """PyProcessMacro with a multicategorical moderator (indicator coding against the first group, sorted):
    the conditional indirect effect in every group to 1e-8 and its interval (same resamples) to 1e-10; in
    models 7 and 14 PROCESS's index per indicator equals our contrast of that group with the reference."""
    reference = _process(categorical, model, "mode", categorical=True)
    ours = _ours(categorical, model, "mode")
    tidy = reference.tidy()
    expected = tidy[tidy["component"] == "indirect"]
    indirect = _indirect(ours)
    assert ours.info["w_reference"] == "co_creation"  # the first group, as PROCESS's indicator coding
    groups = expected["mode"].tolist()
    indirect = indirect.set_index("w").loc[groups]
    assert indirect["estimate"].to_numpy() == pytest.approx(expected["estimate"].to_numpy(), abs=1e-8)
    assert indirect["ci_low"].to_numpy() == pytest.approx(expected["conf_low"].to_numpy(), abs=1e-10)
    assert indirect["ci_high"].to_numpy() == pytest.approx(expected["conf_high"].to_numpy(), abs=1e-10)
    index = tidy[tidy["component"] == "index_mm"]
    contrasts = ours.to_frame().query("kind in ('index', 'contrast')")
    assert set(contrasts["kind"]) == {"index" if model in (7, 14) else "contrast"}
    if model in (7, 14):  # codes 1 and 2 are 'push' and 'push_pull' against 'co_creation'
        for code, group in ((0, "push"), (1, "push_pull")):
            effect = ours.effect(f"contrast[{group} - co_creation]")
            assert effect.estimate == pytest.approx(float(index["estimate"].iloc[code]), abs=1e-8)
            assert effect.ci_low == pytest.approx(float(index["conf_low"].iloc[code]), abs=1e-10)
            assert effect.ci_high == pytest.approx(float(index["conf_high"].iloc[code]), abs=1e-10)


# ---------------------------------------------------------------------------------------------------------
# statsmodels and closed forms
# ---------------------------------------------------------------------------------------------------------


def test_point_estimates_equal_the_closed_forms_from_statsmodels(categorical) -> None:
    """statsmodels: model 59 with the support mode (reference 'push') and a text covariate; a(g) b(g) from
    the OLS coefficients, the pairwise contrasts, and the conditional direct effects c1 + c3_g with their SE
    from statsmodels' t_test, to 1e-10."""
    data = categorical.assign(site=np.where(np.arange(N) % 3 == 0, "north", "south"))
    result = moderated_mediation(
        data, x="x", m="m", y="y", w="mode", model=59, covariates=["c", "site"], w_reference="push",
        n_boot=200, seed=4,
    )  # fmt: skip
    mediator = smf.ols("m ~ x * C(mode, Treatment('push')) + c + site", data).fit()
    outcome = smf.ols(
        "y ~ x * C(mode, Treatment('push')) + m:C(mode, Treatment('push')) + m + c + site", data
    ).fit()
    term = "C(mode, Treatment('push'))[T.{}]"
    values = {}
    for group in ("push", "co_creation", "push_pull"):
        a = mediator.params["x"] + (0.0 if group == "push" else mediator.params[f"x:{term.format(group)}"])
        b = outcome.params["m"] + (0.0 if group == "push" else outcome.params[f"m:{term.format(group)}"])
        values[group] = a * b
        assert result.effect(f"indirect[mode={group}]").estimate == pytest.approx(a * b, abs=1e-10)
        direct = result.effect(f"direct[mode={group}]")
        vector = (outcome.params.index == "x").astype(float)
        if group != "push":
            vector += (outcome.params.index == f"x:{term.format(group)}").astype(float)
        test = outcome.t_test(vector)
        assert direct.estimate == pytest.approx(float(test.effect[0]), abs=1e-10)
        assert direct.se == pytest.approx(float(test.sd[0, 0]), abs=1e-10)
    assert result.effect("contrast[push_pull - co_creation]").estimate == pytest.approx(
        values["push_pull"] - values["co_creation"], abs=1e-10
    )
    assert result.effect("contrast[co_creation - push]").kind == "contrast"
    assert result.outcome_model.loc["m", "estimate"] == pytest.approx(outcome.params["m"], abs=1e-10)


@pytest.mark.parametrize("model", [7, 14])
def test_index_is_the_slope_of_the_conditional_indirect_effect(continuous, model) -> None:
    """statsmodels and closed form: the index a3 b1 (model 7) or a1 b3 (model 14) and the conditional
    indirect effect a(w) b(w) at w = 0.5 from OLS coefficients; any two conditional indirect effects differ
    by the index times the distance in W (Hayes 2015)."""
    result = _ours(continuous, model, "w", w_values=[-2.0, 0.5, 4.0])
    if model == 7:
        a = smf.ols("m ~ x * w + c", continuous).fit().params
        b = smf.ols("y ~ x + m + c", continuous).fit().params
        index, at_half = a["x:w"] * b["m"], (a["x"] + 0.5 * a["x:w"]) * b["m"]
    else:
        a = smf.ols("m ~ x + c", continuous).fit().params
        b = smf.ols("y ~ x + m * w + c", continuous).fit().params
        index, at_half = a["x"] * b["m:w"], a["x"] * (b["m"] + 0.5 * b["m:w"])
    assert result.effect("index").estimate == pytest.approx(index, abs=1e-10)
    assert result.effect("indirect[w=0.5]").estimate == pytest.approx(at_half, abs=1e-10)
    low, high = (result.effect(f"indirect[w={v:g}]").estimate for v in (-2.0, 4.0))
    assert high - low == pytest.approx(6.0 * index, abs=1e-10)


def test_bca_interval_equals_a_hand_computation(continuous) -> None:
    """By hand (Efron 1987): z0 from the share of draws below the estimate, the acceleration from
    leave-one-out refits of both models (numpy lstsq on the rows left), and the adjusted quantiles of the
    draws, for every effect of model 58 on 80 rows, to 1e-10."""
    data = continuous.iloc[:80].reset_index(drop=True)
    result = moderated_mediation(
        data, x="x", m="m", y="y", w="w", model=58, covariates=["c"], ci="bca", n_boot=500, seed=5
    )
    probes = result.probes["w"].to_numpy(float)
    design_m = np.column_stack([np.ones(80), data.x, data.w, data.x * data.w, data.c])
    design_y = np.column_stack([np.ones(80), data.x, data.m, data.w, data.m * data.w, data.c])

    def effects(rows: np.ndarray) -> np.ndarray:
        a = np.linalg.lstsq(design_m[rows], data.m.to_numpy()[rows], rcond=None)[0]
        b = np.linalg.lstsq(design_y[rows], data.y.to_numpy()[rows], rcond=None)[0]
        indirect = (a[1] + a[3] * probes) * (b[2] + b[4] * probes)
        pairs = [(1, 0), (2, 0), (2, 1)]
        return np.concatenate([indirect, [indirect[i] - indirect[j] for i, j in pairs]])

    estimate = effects(np.arange(80))
    jackknife = np.array([effects(np.delete(np.arange(80), i)) for i in range(80)])
    frame = result.to_frame().query("kind != 'direct'")
    assert frame["estimate"].to_numpy() == pytest.approx(estimate, abs=1e-10)
    draws = result.draws[frame.index].to_numpy()
    z0 = stats.norm.ppf((draws < estimate).mean(axis=0) + 0.5 * (draws == estimate).mean(axis=0))
    deviation = jackknife.mean(axis=0) - jackknife
    acceleration = (deviation**3).sum(axis=0) / (6 * ((deviation**2).sum(axis=0)) ** 1.5)
    for j, name in enumerate(frame.index):
        ends = []
        for z in stats.norm.ppf([0.025, 0.975]):
            shifted = z0[j] + z
            ends.append(
                np.quantile(draws[:, j], stats.norm.cdf(z0[j] + shifted / (1 - acceleration[j] * shifted)))
            )
        assert [frame.loc[name, "ci_low"], frame.loc[name, "ci_high"]] == pytest.approx(ends, abs=1e-10), name


def test_two_valued_moderator_is_probed_at_its_values(continuous) -> None:
    """A 0/1 moderator is probed at 0 and 1 (as PROCESS does), not at the mean +- 1 SD."""
    data = continuous.assign(w=(continuous["w"] > 1).astype(float))
    result = _ours(data, 7, "w")
    assert result.probes["w"].tolist() == [0.0, 1.0]
    assert any("two values" in note for note in result.warnings)


# ---------------------------------------------------------------------------------------------------------
# Output, failures and bad input
# ---------------------------------------------------------------------------------------------------------


def test_result_renders_serializes_and_plots(categorical) -> None:
    result = moderated_mediation(
        categorical, x="x", m="m", y="y", w="mode", model=14, w_reference="push", n_boot=200, seed=3
    )
    text = result.summary()
    assert "PROCESS model 14" in text and "indirect[mode=push_pull]" in text and "'push'" in text
    assert repr(result).startswith("ModeratedMediationResult(")
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["model"] == 14 and len(payload["probes"]) == 3
    assert "<table" in result._repr_html_()
    assert result.plot().get_xlabel() == "group of mode"
    continuous = moderated_mediation(
        categorical.assign(w=np.linspace(-1, 1, N)), x="x", m="m", y="y", w="w", model=58, n_boot=200, seed=3
    )
    assert continuous.plot().get_xlabel() == "moderator w"


def test_resamples_without_a_group_member_are_left_out_with_a_note(categorical) -> None:
    """A group of 10 rows of which only one has the strategy: resamples without that row cannot estimate
    the group's a path; they are dropped and counted, and the draws hold the rest."""
    data = categorical.copy()
    data.loc[:9, "mode"] = "rare"
    data.loc[:9, "x"] = 0.0
    data.loc[0, "x"] = 1.0
    result = moderated_mediation(data, x="x", m="m", y="y", w="mode", model=7, n_boot=300, seed=2)
    failed = result.info["n_failed_resamples"]
    assert 0 < failed < 300 and len(result.draws) == 300 - failed
    assert any("could not be refitted" in note for note in result.warnings)


def test_missing_values_are_dropped_with_a_note_or_refused(continuous) -> None:
    data = continuous.copy()
    data.loc[[3, 8], "w"] = np.nan
    result = moderated_mediation(data, x="x", m="m", y="y", w="w", n_boot=200, seed=1)
    assert result.n == N - 2 and result.n_dropped == 2
    assert any("2 of 300 rows had missing values" in note for note in result.warnings)
    with pytest.raises(DataError, match="missing values"):
        moderated_mediation(data, x="x", m="m", y="y", w="w", missing="raise", n_boot=200)


@pytest.mark.parametrize(
    ("change", "options", "message"),
    [
        (None, {"model": 8}, "model must be one of 7, 14, 58, 59"),
        (None, {"model": "7"}, "model must be one of"),
        ({"w": 2.0}, {}, "moderator 'w' is constant"),
        (None, {"w_values": "quartiles"}, "w_values must be one of"),
        (None, {"w_values": [0.0, 0.0]}, "repeats a value"),
        (None, {"w_reference": 1.0}, "w_reference names the reference group"),
        (None, {"ci": "monte_carlo"}, "ci must be one of"),
        (None, {"w_type": "ordinal"}, "w_type must be one of"),
        ({"x": "arm"}, {}, "strategy 'x' is not numeric"),
        (None, {"w": "ww"}, "moderator w column 'ww' is not in the data"),
    ],
)
def test_bad_input_raises_data_error(continuous, change, options, message) -> None:
    data = continuous.assign(**change) if change else continuous
    arguments = {"x": "x", "m": "m", "y": "y", "w": "w", "n_boot": 200, **options}
    with pytest.raises(DataError, match=message):
        moderated_mediation(data, **arguments)


def test_categorical_moderator_errors(categorical) -> None:
    small = categorical.copy()
    small.loc[:3, "mode"] = "hybrid"
    with pytest.raises(DataError, match=r"fewer than 10 rows: 'hybrid' \(4 rows\)"):
        moderated_mediation(small, x="x", m="m", y="y", w="mode", n_boot=200)
    with pytest.raises(DataError, match="w_reference 'pull' is not a group") as error:
        moderated_mediation(categorical, x="x", m="m", y="y", w="mode", w_reference="pull", n_boot=200)
    assert "push" in str(error.value)
    with pytest.raises(DataError, match="probed in every group"):
        moderated_mediation(categorical, x="x", m="m", y="y", w="mode", w_values=[0, 1], n_boot=200)
