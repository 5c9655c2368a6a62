"""Speed of the estimators of issue 15 against the nearest Python peer, in one process.

Issue 15 asks for each new estimator at n = 5,000 with 5,000 resamples, timed against the nearest Python
peer in the same run, and for its cost as n and the number of mediators grow; the four-way decomposition
with bootstrap should take under 2 s at n = 5,000. Every contender follows the timing protocol of
`benchmarks/_protocol.py` (imports outside the timing, one untimed warm-up call, then ``--repeats``
round-robin rounds, median seconds); within a group every contender gets the same data, the same n, the
same number of resamples (or draws, or imputations) and the same seed value, and each ratio divides by the
median of the moclab call of its group, as measured.

    .venv/bin/python benchmarks/bench_methods.py                        # issue sizes (about an hour)
    .venv/bin/python benchmarks/bench_methods.py --sections moderated   # one part only
    .venv/bin/python benchmarks/bench_methods.py --quick                # tiny sizes: a smoke test

Where a peer runs one resample at a time in Python and cannot do 5,000 resamples in reasonable time, its
group uses a smaller common number of resamples, ``--peer-boot`` (200), for moclab and the peer alike, and
the group's label says so; moclab at the issue's 5,000 is then a group of its own. Nothing in the tables
is scaled; the one extrapolation, the Monte Carlo `interventional_effects` group's time per resample times
5,000, is printed on its own line marked "extrapolated (not measured)".

Contenders and where they differ (how each is called is printed under the tables)
---------------------------------------------------------------------------------
* `mediate_interaction` (linear outcome with X x M, two covariates, percentile bootstrap, which gives the
  natural effects and the four-way decomposition in one call) against
  - a bare NumPy floor written here: resample counts, one matrix product for all cross products, a batched
    solve of both regressions and the closed forms of Valeri & VanderWeele (2013) and VanderWeele (2014);
  - a bare NumPy loop written here: one resample at a time, rows gathered, ``numpy.linalg.lstsq``;
  - statsmodels ``Mediation`` with formula models (the only way it recomputes the X x M column),
    ``fit(method="bootstrap")``: it resamples the two models' rows independently of each other and
    *simulates* a mediator value per unit for every resample, averaging predicted potential outcomes
    (Imai, Keele & Tingley 2010), so it carries Monte Carlo error and gives no four-way decomposition; it
    rebuilds the design matrices from the formulas six times per resample, hence ``--peer-boot``.
* `moderated_mediation`, PROCESS models 7 and 58, one covariate, percentile intervals, against
  PyProcessMacro's ``Process`` (Hayes' PROCESS ported to Python) with the same model and probe values
  (mean and one SD either side), its conditional indirect effects (and the index for model 7) read out.
* `riclpm` (3 variables, 4 waves) against semopy fitting the same RI-CLPM from lavaan-style syntax:
  semopy's default SLSQP, then L-BFGS-B with tight tolerances from there (SLSQP alone stops about 1e-3
  short of the optimum; tests/analysis/test_riclpm.py; at small n semopy may log that L-BFGS-B did not
  meet these tolerances), then ``inspect()`` for the standard errors. moclab does more: it also fits the
  model with lag-specific effects for its test of equal lags. semopy has no bootstrap; moclab's bootstrap
  of persons (one refit per resample) is timed alone.
  `half_longitudinal` (waves 1 and 2, 5,000 resamples of persons) against a loop of statsmodels OLS written
  here (the two regressions of Cole & Maxwell per resample).
* `interventional_effects`, two mediators and X x M terms: no Python library estimates interventional
  effects, so the peers are g-computation loops written here with statsmodels, one resample at a time;
  their point estimates equal moclab's (the script checks and prints the largest difference).
  - linear outcome, where moclab uses the closed form (exact expectations, no draws): against a
    closed-form loop (statsmodels OLS of each mediator and the outcome, the outcome model at the
    mediators' means), both at the issue's 5,000 resamples;
  - 0/1 outcome with a logit model, where moclab needs Monte Carlo integration (100 draws per row):
    against a Monte Carlo loop (statsmodels OLS and Logit, the same standard normal draws as moclab), both
    at ``--peer-boot`` resamples, with both extrapolated to 5,000 on a line of their own (several minutes
    for the group with its warm-up and three rounds).
* `mediate_imputed` (20 imputations by chained equations with predictive mean matching, then `mediate`
  with a 5,000-resample percentile bootstrap on each, pooled by Rubin's rules) against statsmodels
  ``MICEData`` (the same algorithm and schedule: 10 burn-in cycles, 4 cycles per imputation) feeding
  moclab's `mediate` in a loop, pooled here; and statsmodels ``MICE`` with OLS run twice (the a path and
  the b path), which pools the two regressions' coefficients but gives no interval for a·b (less work).
* `mediate_weighted` (retention weights from a logistic model refitted in every resample, weighted paths)
  against a loop of statsmodels ``Logit`` and ``WLS`` written here, the same 5,000 resamples.
* `mediation_sensitivity`: PySensemakr computes the Cinelli & Hazlett robustness values of the b path
  (its benchmark bounds fail on pandas 3, tests/analysis/test_sensitivity_summary.py), so it is timed
  against moclab's `robustness` of the same regression (same work); `mediation_sensitivity`, which adds
  Imai's rho curve and the benchmark bounds, is shown without a ratio. No Python package computes Imai's
  rho sensitivity for mediation (statsmodels ``Mediation`` has none).
* Growth (moclab alone): `mediate_interaction` (5,000 resamples) and `interventional_effects` (two
  mediators, linear outcome, so the closed form: no draws; ``--growth-boot`` resamples, 200 by default) at
  n = 1,000, 5,000 and 20,000, and `interventional_effects` with 1, 2 and 4 mediators at n = 5,000; ratios
  to the smallest size.
"""

from __future__ import annotations

import argparse
import inspect
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from _protocol import Contender, Timing, environment, measure, print_how_called, print_table, protocol
from scipy import special
from statsmodels.imputation.mice import MICE, MICEData
from statsmodels.stats.mediation import Mediation

from moclab.analysis import (
    half_longitudinal,
    interventional_effects,
    mediate,
    mediate_imputed,
    mediate_interaction,
    mediate_weighted,
    mediation_sensitivity,
    moderated_mediation,
    riclpm,
    robustness,
)

try:  # PySensemakr and semopy come with the dev extra (the tests' references)
    import sensemakr
except ImportError:
    sensemakr = None
try:
    import semopy
except ImportError:
    semopy = None
try:
    from pyprocessmacro import Process
except ImportError:  # the bench extra is not installed
    Process = None

SECTIONS = ("interaction", "moderated", "riclpm", "interventional", "missing", "sensitivity", "growth")
COVARIATES = ["c1", "c2"]
CHUNK_VALUES = 1_000_000  # resample counts per batch of the NumPy floor (memory stays ~10 MB)
SEED = 1
#: The 14 effects of the linear-outcome four-way decomposition, in the order `interaction_effects` returns.
INTERACTION_EFFECTS = (
    "cde",
    "nde",
    "nie",
    "total",
    "prop_mediated",
    "int_ref",
    "int_med",
    "pie",
    "prop_cde",
    "prop_int_ref",
    "prop_int_med",
    "prop_pie",
    "prop_eliminated",
    "prop_interaction",
)


@dataclass(frozen=True)
class Sizes:
    """The sizes of one run (the issue's by default, tiny ones with ``--quick``)."""

    n: int
    boot: int
    peer_boot: int
    growth_boot: int
    draws: int
    imputations: int
    growth_n: tuple[int, ...]
    growth_k: tuple[int, ...]


# ------------------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------------------


def simulate_interaction(n: int, seed: int = 0) -> pd.DataFrame:
    """Binary strategy, two covariates, a continuous mechanism and outcome with an X x M effect."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n).astype(float)
    c1, c2 = rng.normal(size=n), rng.normal(size=n)
    m = 0.4 * x + 0.2 * c1 + rng.normal(size=n)
    y = 0.2 * x + 0.4 * m + 0.3 * x * m + 0.1 * c2 + rng.normal(size=n)
    return pd.DataFrame({"x": x, "c1": c1, "c2": c2, "m": m, "y": y})


def simulate_moderated(n: int, seed: int = 0) -> pd.DataFrame:
    """W on the a path and the b path (models 7 and 58 both apply), one covariate."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n).astype(float)
    w, c = rng.normal(size=n), rng.normal(size=n)
    m = 0.4 * x + 0.2 * w + 0.3 * x * w + 0.2 * c + rng.normal(size=n)
    y = 0.2 * x + 0.4 * m + 0.1 * w + 0.2 * m * w + 0.1 * c + rng.normal(size=n)
    return pd.DataFrame({"x": x, "w": w, "c": c, "m": m, "y": y})


def simulate_panel(n: int, waves: int = 4, seed: int = 0) -> pd.DataFrame:
    """Long data from an RI-CLPM of X, M, Y: correlated person means plus a VAR(1) of the deviations."""
    rng = np.random.default_rng(seed)
    between = np.array([[1.0, 0.3, 0.2], [0.3, 0.6, 0.3], [0.2, 0.3, 0.7]])
    lagged = np.array([[0.4, 0.1, 0.0], [0.3, 0.35, 0.0], [0.05, 0.25, 0.45]])
    person = rng.multivariate_normal(np.zeros(3), between, size=n)
    deviation = rng.normal(size=(n, 3))
    frames = []
    for t in range(1, waves + 1):
        if t > 1:
            deviation = deviation @ lagged.T + rng.normal(scale=0.9, size=(n, 3))
        score = person + deviation
        frame = pd.DataFrame(score, columns=["x", "m", "y"])
        frames.append(frame.assign(id=np.arange(n), wave=t))
    return pd.concat(frames, ignore_index=True)


def simulate_mediators(n: int, k: int, seed: int = 0) -> pd.DataFrame:
    """k continuous mediators (each later one also driven by the one before), X x M_1 in the outcome."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n).astype(float)
    frame = pd.DataFrame({"x": x, "c1": rng.normal(size=n), "c2": rng.normal(size=n)})
    y = 0.2 * x + 0.1 * frame.c2
    previous = np.zeros(n)
    for j in range(1, k + 1):
        mediator = 0.4 * x + 0.2 * frame.c1 + 0.3 * previous + rng.normal(size=n)
        frame[f"m{j}"] = mediator
        y = y + 0.3 * mediator
        previous = mediator
    frame["y"] = y + 0.2 * x * frame.m1 + rng.normal(size=n)
    return frame


def simulate_missing(n: int, seed: int = 0) -> pd.DataFrame:
    """Mechanism and outcome missing at random given the arm and a baseline score (about 25 % of rows)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n).astype(float)
    frame = pd.DataFrame({"x": x, "c1": rng.normal(size=n), "c2": rng.normal(size=n)})
    frame["baseline"] = rng.normal(size=n)
    frame["m"] = 0.4 * x + 0.4 * frame.baseline + 0.2 * frame.c1 + rng.normal(size=n)
    frame["y"] = 0.4 * frame.m + 0.1 * x + 0.3 * frame.baseline + 0.1 * frame.c2 + rng.normal(size=n)
    lost = rng.random(n) < special.expit(-1.3 + 0.8 * frame.baseline - 0.4 * x)
    frame.loc[lost, "y"] = np.nan
    frame.loc[lost & (rng.random(n) < 0.5), "m"] = np.nan
    return frame


# ------------------------------------------------------------------------------------------------------------
# mediate_interaction: floors and statsmodels
# ------------------------------------------------------------------------------------------------------------


def interaction_effects(beta: np.ndarray, theta: np.ndarray, c: np.ndarray, m_star: float) -> np.ndarray:
    """The 14 effects of `INTERACTION_EFFECTS` for a = 1 vs a* = 0 at C = c, one row per parameter vector.

    beta (B, 4): M on [1, X, C1, C2]; theta (B, 6): Y on [1, X, C1, C2, M, X M]. Valeri & VanderWeele
    (2013) and VanderWeele (2014, Appendix), with d = a - a* = 1.
    """
    mean_control = beta[:, 0] + beta[:, 2:4] @ c  # E[M | a*, c]
    t1, t2, t3, b1 = theta[:, 1], theta[:, 4], theta[:, 5], beta[:, 1]
    cde = t1 + t3 * m_star
    nde = t1 + t3 * mean_control
    nie = b1 * (t2 + t3)
    total = nde + nie
    int_ref = t3 * (mean_control - m_star)
    int_med = t3 * b1
    pie = b1 * t2
    shares = [part / total for part in (nie, cde, int_ref, int_med, pie)]
    return np.column_stack(
        [
            cde,
            nde,
            nie,
            total,
            shares[0],
            int_ref,
            int_med,
            pie,
            *shares[1:],
            (int_ref + int_med + pie) / total,
            (int_ref + int_med) / total,
        ]
    )


def _interaction_arrays(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """[1, X, C1, C2, M, X M, Y] as one matrix, the covariate means c and m* (the mean of M), as moclab."""
    z = np.column_stack([np.ones(len(df)), df.x, df.c1, df.c2, df.m, df.x * df.m, df.y])
    return z, df[COVARIATES].mean().to_numpy(), float(df.m.mean())


def interaction_point(df: pd.DataFrame) -> np.ndarray:
    z, c, m_star = _interaction_arrays(df)
    beta = np.linalg.lstsq(z[:, :4], z[:, 4], rcond=None)[0]
    theta = np.linalg.lstsq(z[:, :6], z[:, 6], rcond=None)[0]
    return interaction_effects(beta[None], theta[None], c, m_star)[0]


def interaction_floor(df: pd.DataFrame, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bare NumPy: resample counts, one matmul for every cross product, batched solves, percentiles."""
    z, c, m_star = _interaction_arrays(df)
    n, v = z.shape
    upper = np.triu_indices(v)
    products = z[:, upper[0]] * z[:, upper[1]]
    rng = np.random.default_rng(seed)
    parts = []
    chunk = max(1, CHUNK_VALUES // n)
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        counts = np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(float)
        packed = counts @ products
        cross = np.empty((size, v, v))
        cross[:, upper[0], upper[1]] = packed
        cross[:, upper[1], upper[0]] = packed
        beta = np.linalg.solve(cross[:, :4, :4], cross[:, :4, 4:5])[..., 0]
        theta = np.linalg.solve(cross[:, :6, :6], cross[:, :6, 6:7])[..., 0]
        parts.append(interaction_effects(beta, theta, c, m_star))
    return interaction_point(df), np.quantile(np.concatenate(parts), [0.025, 0.975], axis=0)


def interaction_loop(df: pd.DataFrame, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bare NumPy, one resample at a time: gather the rows, `lstsq` both regressions, percentiles."""
    z, c, m_star = _interaction_arrays(df)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, len(INTERACTION_EFFECTS)))
    for b in range(n_boot):
        rows = z[rng.integers(0, len(z), len(z))]
        beta = np.linalg.lstsq(rows[:, :4], rows[:, 4], rcond=None)[0]
        theta = np.linalg.lstsq(rows[:, :6], rows[:, 6], rcond=None)[0]
        draws[b] = interaction_effects(beta[None], theta[None], c, m_star)[0]
    return interaction_point(df), np.quantile(draws, [0.025, 0.975], axis=0)


def fit_mediation(analysis: Mediation, method: str, n_rep: int, seed: int) -> pd.DataFrame:
    """`Mediation.fit(...).summary()`, seeded through `rng` where statsmodels has it (0.15 and later)."""
    if "rng" in inspect.signature(analysis.fit).parameters:
        return analysis.fit(method=method, n_rep=n_rep, rng=seed).summary()
    np.random.seed(seed)  # statsmodels < 0.15 draws from the legacy global generator
    return analysis.fit(method=method, n_rep=n_rep).summary()


def interaction_statsmodels(df: pd.DataFrame, n_rep: int, seed: int) -> pd.DataFrame:
    outcome = sm.OLS.from_formula("y ~ x + m + x:m + c1 + c2", df)
    mediator = sm.OLS.from_formula("m ~ x + c1 + c2", df)
    return fit_mediation(Mediation(outcome, mediator, "x", "m"), "bootstrap", n_rep, seed)


def run_interaction(df: pd.DataFrame, n_boot: int) -> object:
    return mediate_interaction(
        df, x="x", m="m", y="y", covariates=COVARIATES, ci="percentile", n_boot=n_boot, seed=SEED
    )


HOW_INTERACTION = (
    'mediate_interaction(df, x="x", m="m", y="y", covariates=["c1", "c2"], ci="percentile", n_boot={})'
)


def interaction_contenders(df: pd.DataFrame, sizes: Sizes) -> list[Contender]:
    n, boot, peer = len(df), sizes.boot, sizes.peer_boot
    reference = "moclab mediate_interaction"
    group = f"n = {n:,}, B = {boot:,}"
    peer_group = f"n = {n:,}, B = {peer:,} (statsmodels: --peer-boot)"
    return [
        Contender(
            reference,
            lambda: run_interaction(df, boot),
            HOW_INTERACTION.format(boot),
            "percentile",
            group=group,
        ),
        Contender(
            "floor: NumPy counts matmul",
            lambda: interaction_floor(df, boot, SEED),
            f"bare NumPy written here: {boot} resample counts, one matmul for all cross products, batched "
            "solve of both regressions, closed forms, percentiles",
            "percentile",
            reference,
            group,
        ),
        Contender(
            "NumPy loop, one resample at a time",
            lambda: interaction_loop(df, boot, SEED),
            f"bare NumPy written here: {boot} times rows z[idx], numpy.linalg.lstsq of both regressions, "
            "closed forms; percentiles",
            "percentile",
            reference,
            group,
        ),
        Contender(
            reference,
            lambda: run_interaction(df, peer),
            HOW_INTERACTION.format(peer),
            "percentile",
            group=peer_group,
        ),
        Contender(
            "statsmodels Mediation",
            lambda: interaction_statsmodels(df, peer, SEED),
            'Mediation(OLS.from_formula("y ~ x + m + x:m + c1 + c2", df), OLS.from_formula("m ~ x + c1 '
            f'+ c2", df), "x", "m").fit(method="bootstrap", n_rep={peer}).summary()',
            "percentile (simulated)",
            reference,
            peer_group,
        ),
    ]


def check_interaction(df: pd.DataFrame) -> str:
    ours = run_interaction(df, 100).to_frame()["estimate"]
    difference = np.abs(ours[list(INTERACTION_EFFECTS)].to_numpy() - interaction_point(df)).max()
    return (
        f"check: NumPy floors' point estimates vs mediate_interaction's, max |difference| = {difference:.1e}"
    )


# ------------------------------------------------------------------------------------------------------------
# moderated_mediation and PyProcessMacro
# ------------------------------------------------------------------------------------------------------------


def run_process(df: pd.DataFrame, model: int, n_boot: int) -> list[pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyProcessMacro's own pandas deprecation warnings
        process = Process(
            data=df,
            model=model,
            x="x",
            m="m",
            y="y",
            w="w",
            controls=["c"],
            boot=n_boot,
            seed=SEED,
            percent=True,
            suppr_init=True,
        )
        tables = [process.indirect_model.coeff_summary()]
        if model == 7:
            tables.append(process.indirect_model.MM_index_summary())
    return tables


def moderated_contenders(df: pd.DataFrame, sizes: Sizes) -> list[Contender]:
    contenders = []
    boot = sizes.boot
    for model in (7, 58):
        group = f"model {model}, n = {len(df):,}, B = {boot:,}"
        reference = "moclab moderated_mediation"
        contenders.append(
            Contender(
                reference,
                lambda model=model: moderated_mediation(
                    df, x="x", m="m", y="y", w="w", model=model, covariates=["c"], n_boot=boot, seed=SEED
                ),
                f'moderated_mediation(df, x="x", m="m", y="y", w="w", model={model}, covariates=["c"], '
                f"n_boot={boot})",
                "percentile",
                group=group,
            )
        )
        if Process is not None:
            index = " + MM_index_summary()" if model == 7 else ""
            contenders.append(
                Contender(
                    "PyProcessMacro Process",
                    lambda model=model: run_process(df, model, boot),
                    f'Process(data=df, model={model}, x="x", m="m", y="y", w="w", controls=["c"], '
                    f"boot={boot}, percent=True, suppr_init=True); indirect_model.coeff_summary()"
                    f"{index}",
                    "percentile",
                    reference,
                    group,
                )
            )
    return contenders


# ------------------------------------------------------------------------------------------------------------
# riclpm and semopy; half_longitudinal and statsmodels
# ------------------------------------------------------------------------------------------------------------


def semopy_syntax(names: Sequence[str], waves: int) -> str:
    """The RI-CLPM in semopy's syntax (Hamaker, Kuiper & Grasman 2015), equal lagged effects (labels)."""
    lines = []
    for v in names:
        lines.append(f"RI{v} =~ " + " + ".join(f"1*{v}{t}" for t in range(1, waves + 1)))
        lines += [f"w{v}{t} =~ 1*{v}{t}" for t in range(1, waves + 1)]
        lines += [f"{v}{t} ~~ 0*{v}{t}" for t in range(1, waves + 1)]
        lines += [f"RI{v} ~~ 0*w{u}1" for u in names]
    for t in range(2, waves + 1):
        for target in names:
            lines.append(f"w{target}{t} ~ " + " + ".join(f"b{target}{s}*w{s}{t - 1}" for s in names))
    for t in range(1, waves + 1):
        lines += [f"w{a}{t} ~~ " + " + ".join(f"w{b}{t}" for b in names[i:]) for i, a in enumerate(names)]
    lines += [f"RI{a} ~~ " + " + ".join(f"RI{b}" for b in names[i:]) for i, a in enumerate(names)]
    return "\n".join(lines)


def run_semopy(data: pd.DataFrame, waves: int) -> pd.DataFrame:
    names = ("x", "m", "y")
    wide = data.pivot(index="id", columns="wave", values=list(names))
    wide.columns = [f"{v}{t}" for v, t in wide.columns]
    model = semopy.Model(semopy_syntax(names, waves))
    model.fit(wide)
    model.fit(wide, solver="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20_000})
    return model.inspect()


def half_longitudinal_statsmodels(data: pd.DataFrame, n_boot: int, seed: int) -> tuple[float, np.ndarray]:
    """Cole & Maxwell's two regressions with statsmodels OLS, persons resampled one resample at a time."""
    wide = data[data.wave <= 2].pivot(index="id", columns="wave", values=["x", "m", "y"])
    x1, m1, y1, m2, y2 = (
        wide[v, t].to_numpy() for v, t in (("x", 1), ("m", 1), ("y", 1), ("m", 2), ("y", 2))
    )
    design_a = sm.add_constant(np.column_stack([x1, m1]))
    design_b = sm.add_constant(np.column_stack([m1, y1, x1]))

    def product(rows: np.ndarray | slice) -> float:
        a = sm.OLS(m2[rows], design_a[rows]).fit().params[1]
        b = sm.OLS(y2[rows], design_b[rows]).fit().params[1]
        return float(a * b)

    rng = np.random.default_rng(seed)
    n = len(x1)
    draws = np.array([product(rng.integers(0, n, n)) for _ in range(n_boot)])
    return product(slice(None)), np.quantile(draws, [0.025, 0.975])


def riclpm_contenders(data: pd.DataFrame, sizes: Sizes) -> list[Contender]:
    n = data.id.nunique()
    waves = int(data.wave.max())
    boot = sizes.boot
    one_fit = f"RI-CLPM, {n:,} persons x {waves} waves, one fit"
    booted = f"RI-CLPM, {n:,} persons, B = {boot:,} (semopy has no bootstrap)"
    half = f"half-longitudinal, {n:,} persons, B = {boot:,}"
    contenders = [
        Contender(
            "moclab riclpm",
            lambda: riclpm(data, "x", "m", "y", unit="id", wave="wave"),
            'riclpm(data, "x", "m", "y", unit="id", wave="wave"): ML, expected-information SEs, '
            "delta-method indirect effect; also fits the lag-specific model for its equal-lags test",
            "delta",
            group=one_fit,
        ),
        Contender(
            "moclab riclpm",
            lambda: riclpm(data, "x", "m", "y", unit="id", wave="wave", n_boot=boot, seed=SEED),
            f'riclpm(data, "x", "m", "y", unit="id", wave="wave", n_boot={boot})',
            "percentile",
            group=booted,
        ),
        Contender(
            "moclab half_longitudinal",
            lambda: half_longitudinal(
                data, "x", "m", "y", unit="id", wave="wave", waves=(1, 2), n_boot=boot, seed=SEED
            ),
            f'half_longitudinal(data, "x", "m", "y", unit="id", wave="wave", waves=(1, 2), n_boot={boot})',
            "percentile",
            group=half,
        ),
        Contender(
            "statsmodels OLS loop",
            lambda: half_longitudinal_statsmodels(data, boot, SEED),
            f"written here: {boot} times persons resampled, sm.OLS(m2, [1, x1, m1]) and sm.OLS(y2, [1, m1, "
            "y1, x1]), a*b; percentiles",
            "percentile",
            "moclab half_longitudinal",
            half,
        ),
    ]
    if semopy is not None:
        contenders.insert(
            1,
            Contender(
                "semopy",
                lambda: run_semopy(data, waves),
                "data.pivot to wide; semopy.Model(RI-CLPM syntax).fit(wide) (SLSQP), then .fit(wide, "
                'solver="L-BFGS-B", ftol=1e-15, gtol=1e-12); .inspect()',
                "Wald",
                "moclab riclpm",
                one_fit,
            ),
        )
    return contenders


def check_half_longitudinal(data: pd.DataFrame) -> str:
    ours = half_longitudinal(data, "x", "m", "y", unit="id", wave="wave", waves=(1, 2), n_boot=0)
    difference = abs(ours.effect("indirect").estimate - half_longitudinal_statsmodels(data, 1, SEED)[0])
    return f"check: statsmodels OLS loop's a*b vs half_longitudinal's, |difference| {difference:.1e}"


def check_riclpm(data: pd.DataFrame) -> str:
    """The nine lagged effects of moclab and of semopy (the same model: they should agree to ~1e-4)."""
    ours = riclpm(data, "x", "m", "y", unit="id", wave="wave").parameters
    theirs = run_semopy(data, int(data.wave.max()))
    lagged = {(row.lval, row.rval): row.Estimate for row in theirs[theirs.op == "~"].itertuples()}
    differences = [
        abs(row.estimate - lagged[f"w{row.lhs.split('_')[1]}2", f"w{row.rhs.split('_')[1]}1"])
        for row in ours[ours.block == "lagged"].itertuples()
    ]
    return f"check: semopy's lagged effects vs riclpm's, max |difference| {max(differences):.1e}"


# ------------------------------------------------------------------------------------------------------------
# interventional_effects and hand-written statsmodels g-computations
# ------------------------------------------------------------------------------------------------------------


def simulate_mediators_binary(n: int, seed: int = 0) -> pd.DataFrame:
    """`simulate_mediators` with two mediators and a 0/1 outcome y (logistic in the continuous one)."""
    frame = simulate_mediators(n, 2, seed)
    rng = np.random.default_rng(seed + 1)
    probability = special.expit(frame.y - frame.y.mean())
    return frame.assign(y=(rng.random(n) < probability).astype(float))


def _interventional_fits(
    df: pd.DataFrame, mediators: Sequence[str], rows: np.ndarray | slice, outcome: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """statsmodels fits on the rows `rows`: mediator coefficients (4, k) and residuals (n, k) on X and C, and
    the outcome model's coefficients on [1, X, M, X*M, C] (OLS, or Logit for a 0/1 outcome); with the rows'
    covariates (n, q) and exposure (n,)."""
    x, y = df.x.to_numpy()[rows], df.y.to_numpy()[rows]
    covariates = df[COVARIATES].to_numpy()[rows]
    observed = df[list(mediators)].to_numpy()[rows]
    design_m = sm.add_constant(np.column_stack([x, covariates]), has_constant="add")
    fits = [sm.OLS(observed[:, j], design_m).fit() for j in range(len(mediators))]
    beta = np.column_stack([fit.params for fit in fits])
    residuals = np.column_stack([fit.resid for fit in fits])
    design_y = np.column_stack([np.ones(len(x)), x, observed, x[:, None] * observed, covariates])
    model = sm.Logit(y, design_y).fit(disp=0) if outcome == "logit" else sm.OLS(y, design_y).fit()
    return beta, residuals, model.params, covariates, x


def _effects_from_potential_outcomes(joint: Sequence[float], independent: Sequence[float]) -> np.ndarray:
    """Total, direct, indirect, each mediator's indirect and the dependence from the three joint means
    E{Y(a, G_M|a)}, E{Y(a, G_M|a*)}, E{Y(a*, G_M|a*)} and the k + 1 independent ones (Vansteelandt & Daniel
    2017)."""
    own = np.diff(independent)
    indirect = joint[0] - joint[1]
    return np.array([joint[0] - joint[2], joint[1] - joint[2], indirect, *own, indirect - own.sum()])


def interventional_point(
    df: pd.DataFrame,
    mediators: Sequence[str],
    z: np.ndarray,
    rows: np.ndarray | slice,
    outcome: str = "linear",
) -> np.ndarray:
    """The effects (total, direct, indirect, each mediator's indirect, dependence) by Monte Carlo
    g-computation on the rows `rows`, with statsmodels fits (a linear or logit outcome model).

    z (k + 1, n, D, k) are the standard normal draws of the original rows: copy 0 for the joint draws of all
    mediators, copy 1 + j for mediator j's independent draw (copy 0 when there is one mediator), the layout
    moclab draws them in, so that with the same seed the point estimates agree.
    """
    k = len(mediators)
    beta, residuals, theta, covariates, x = _interventional_fits(df, mediators, rows, outcome)
    cholesky = np.linalg.cholesky(residuals.T @ residuals / (len(x) - beta.shape[0]))
    z = z[:, rows]

    def mediator_draws(copy: int, level: float) -> np.ndarray:
        mean = beta[0] + level * beta[1] + covariates @ beta[2:]  # (n, k)
        return mean[:, None, :] + z[copy] @ cholesky.T

    def outcome_mean(level: float, drawn: np.ndarray) -> float:
        slope = theta[2 : 2 + k] + level * theta[2 + k : 2 + 2 * k]
        base = theta[0] + level * theta[1] + covariates @ theta[2 + 2 * k :]
        eta = base[:, None] + drawn @ slope
        return float((special.expit(eta) if outcome == "logit" else eta).mean(axis=1).mean())

    sources = [0] if k == 1 else list(range(1, k + 1))
    draws = {(c, a): mediator_draws(c, a) for c in {0, *sources} for a in (0.0, 1.0)}
    joint = [
        outcome_mean(1.0, draws[0, 1.0]),
        outcome_mean(1.0, draws[0, 0.0]),
        outcome_mean(0.0, draws[0, 0.0]),
    ]
    independent = [
        outcome_mean(
            1.0, np.stack([draws[sources[j], 1.0 if j < t else 0.0][..., j] for j in range(k)], axis=-1)
        )
        for t in range(k + 1)
    ]
    return _effects_from_potential_outcomes(joint, independent)


def interventional_closed_point(
    df: pd.DataFrame, mediators: Sequence[str], rows: np.ndarray | slice
) -> np.ndarray:
    """The same effects in closed form on the rows `rows` (linear outcome with X x M terms, statsmodels OLS):
    E{Y(a, G)} is the outcome model at the mediators' means under the levels G draws them at, averaged over
    the rows, so no draws are needed and the dependence term is 0."""
    k = len(mediators)
    beta, _, theta, covariates, _ = _interventional_fits(df, mediators, rows, "linear")
    mean_c = covariates.mean(axis=0)
    mediator_mean = {a: beta[0] + a * beta[1] + mean_c @ beta[2:] for a in (0.0, 1.0)}

    def outcome_mean(level: float, levels: Sequence[float]) -> float:
        slope = theta[2 : 2 + k] + level * theta[2 + k : 2 + 2 * k]
        means = np.array([mediator_mean[a][j] for j, a in enumerate(levels)])
        return float(theta[0] + level * theta[1] + mean_c @ theta[2 + 2 * k :] + slope @ means)

    joint = [outcome_mean(1.0, [1.0] * k), outcome_mean(1.0, [0.0] * k), outcome_mean(0.0, [0.0] * k)]
    independent = [outcome_mean(1.0, [1.0] * t + [0.0] * (k - t)) for t in range(k + 1)]
    return _effects_from_potential_outcomes(joint, independent)


def interventional_statsmodels(
    df: pd.DataFrame, mediators: Sequence[str], n_boot: int, n_draws: int, seed: int, outcome: str = "linear"
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo g-computation, one resample at a time (the draws drawn as moclab draws them)."""
    rng = np.random.default_rng(seed)
    n, k = len(df), len(mediators)
    z = rng.standard_normal((k + 1, n, n_draws, k))
    draws = np.array(
        [interventional_point(df, mediators, z, rng.integers(0, n, n), outcome) for _ in range(n_boot)]
    )
    point = interventional_point(df, mediators, z, slice(None), outcome)
    return point, np.quantile(draws, [0.025, 0.975], axis=0)


def interventional_closed_statsmodels(
    df: pd.DataFrame, mediators: Sequence[str], n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form g-computation, one resample at a time."""
    rng = np.random.default_rng(seed)
    n = len(df)
    draws = np.array(
        [interventional_closed_point(df, mediators, rng.integers(0, n, n)) for _ in range(n_boot)]
    )
    return interventional_closed_point(df, mediators, slice(None)), np.quantile(draws, [0.025, 0.975], axis=0)


def run_interventional(
    df: pd.DataFrame, mediators: Sequence[str], n_boot: int, n_draws: int, outcome: str = "linear"
) -> object:
    return interventional_effects(
        df,
        x="x",
        mediators=list(mediators),
        y="y",
        covariates=COVARIATES,
        outcome=outcome,
        n_boot=n_boot,
        n_draws=n_draws,
        seed=SEED,
    )


def how_interventional(k: int, n_boot: int, n_draws: int, outcome: str = "linear") -> str:
    names = ", ".join(f'"m{j}"' for j in range(1, k + 1))
    integration = "closed form" if outcome == "linear" else f"Monte Carlo, {n_draws} draws per row"
    return (
        f'interventional_effects(df, x="x", mediators=[{names}], y="y", covariates=["c1", "c2"], '
        f'outcome="{outcome}", n_boot={n_boot}, n_draws={n_draws}) ({integration})'
    )


HOW_CLOSED_PEER = (
    "written here: {0} times rows resampled, sm.OLS of each mediator and of the outcome (X x M terms), the "
    "outcome model at the mediators' means under each exposure level (jointly and independently), averaged "
    "over the rows; percentiles"
)
HOW_MONTE_CARLO_PEER = (
    "written here: the same standard normal draws; {0} times rows resampled, sm.OLS of each mediator and "
    "sm.Logit of the outcome (X x M terms), residual Cholesky factor, mediators drawn under each exposure "
    "level (jointly and independently), predicted probabilities averaged; percentiles"
)


def interventional_groups(n: int, sizes: Sizes) -> tuple[str, str]:
    """Labels of the closed-form group and of the Monte Carlo (logit outcome) group."""
    return (
        f"closed form: 2 mediators, linear outcome, n = {n:,}, B = {sizes.boot:,}",
        f"Monte Carlo: 2 mediators, logit outcome, n = {n:,}, {sizes.draws} draws, "
        f"B = {sizes.peer_boot:,} (--peer-boot)",
    )


def interventional_contenders(df: pd.DataFrame, binary: pd.DataFrame, sizes: Sizes) -> list[Contender]:
    mediators = ["m1", "m2"]
    boot, peer, draws = sizes.boot, sizes.peer_boot, sizes.draws
    reference = "moclab interventional_effects"
    closed_group, monte_carlo_group = interventional_groups(len(df), sizes)
    return [
        Contender(
            reference,
            lambda: run_interventional(df, mediators, boot, draws),
            how_interventional(2, boot, draws),
            "percentile",
            group=closed_group,
        ),
        Contender(
            "statsmodels closed-form loop (hand-written)",
            lambda: interventional_closed_statsmodels(df, mediators, boot, SEED),
            HOW_CLOSED_PEER.format(boot),
            "percentile",
            reference,
            closed_group,
        ),
        Contender(
            reference,
            lambda: run_interventional(binary, mediators, peer, draws, "logit"),
            how_interventional(2, peer, draws, "logit"),
            "percentile",
            group=monte_carlo_group,
        ),
        Contender(
            "statsmodels g-computation loop (hand-written)",
            lambda: interventional_statsmodels(binary, mediators, peer, draws, SEED, "logit"),
            HOW_MONTE_CARLO_PEER.format(peer),
            "percentile",
            reference,
            monte_carlo_group,
        ),
    ]


def check_interventional(df: pd.DataFrame, binary: pd.DataFrame, n_draws: int) -> str:
    """Point estimates of the peers against moclab's: the closed form, and the Monte Carlo path on the same
    draws."""
    mediators = ["m1", "m2"]
    closed = run_interventional(df, mediators, 0, n_draws).to_frame()["estimate"].to_numpy()
    closed_gap = np.abs(closed - interventional_closed_point(df, mediators, slice(None))).max()
    monte_carlo = run_interventional(binary, mediators, 0, n_draws, "logit").to_frame()["estimate"].to_numpy()
    z = np.random.default_rng(SEED).standard_normal((3, len(binary), n_draws, 2))
    monte_carlo_gap = np.abs(
        monte_carlo - interventional_point(binary, mediators, z, slice(None), "logit")
    ).max()
    return (
        "check: hand-written g-computations' point estimates vs moclab's, max |difference| "
        f"{closed_gap:.1e} (closed form), {monte_carlo_gap:.1e} (Monte Carlo, logit outcome)"
    )


def interventional_extrapolation(timings: Sequence[Timing], sizes: Sizes) -> str:
    """The Monte Carlo group's medians scaled to the issue's B (extrapolated: per resample x B, not run)."""
    _, group = interventional_groups(sizes.n, sizes)
    lines = []
    for timing in timings:
        if timing.contender.group == group:
            per_resample = timing.median / sizes.peer_boot
            lines.append(
                f"extrapolated (not measured): {timing.contender.name}, Monte Carlo with a logit outcome, at "
                f"B = {sizes.boot:,}: {per_resample * sizes.boot:.1f} s ({per_resample:.3f} s per resample, "
                f"measured on B = {sizes.peer_boot:,}, fitting included)"
            )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------
# mediate_imputed and mediate_weighted against statsmodels
# mediate_imputed and mediate_weighted against statsmodels
# ------------------------------------------------------------------------------------------------------------

MISSING_COLUMNS = ["x", "c1", "c2", "baseline", "m", "y"]


def imputed_with_micedata(
    df: pd.DataFrame, n_imputations: int, n_boot: int, seed: int
) -> tuple[float, float]:
    """statsmodels MICEData chains (10 burn-in cycles, 4 per imputation, as statsmodels' MICE), moclab's
    `mediate` on each completed data set, the indirect effect pooled by Rubin's rules (T = W + (1 + 1/m) B).
    """
    chain = MICEData(df[MISSING_COLUMNS].copy(), rng=seed)
    chain.update_all(10)
    estimates, variances = [], []
    for i in range(n_imputations):
        chain.update_all(4)
        effect = mediate(
            chain.data, x="x", m="m", y="y", covariates=COVARIATES, ci="percentile", n_boot=n_boot, seed=i
        ).effect("indirect[m]")
        estimates.append(effect.estimate)
        variances.append(effect.se**2)
    pooled = float(np.mean(estimates))
    total = np.mean(variances) + (1 + 1 / n_imputations) * np.var(estimates, ddof=1)
    return pooled, float(np.sqrt(total))


def imputed_with_mice(df: pd.DataFrame, n_imputations: int, seed: int) -> tuple[object, object]:
    """statsmodels MICE with OLS, once per path: pooled a and b coefficients, no interval for a*b."""
    paths = []
    for formula in ("m ~ x + c1 + c2", "y ~ m + x + c1 + c2"):
        data = MICEData(df[MISSING_COLUMNS].copy(), rng=seed)
        paths.append(MICE(formula, sm.OLS, data).fit(n_burnin=10, n_imputations=n_imputations).summary())
    return paths[0], paths[1]


def weighted_statsmodels(df: pd.DataFrame, n_boot: int, seed: int) -> tuple[float, np.ndarray]:
    """Retention model (statsmodels Logit on X and the baseline), stabilized weights, WLS paths; the whole
    chain refitted on every resample of rows."""
    retained = df[["m", "y"]].notna().all(axis=1).to_numpy().astype(float)
    design_r = sm.add_constant(df[["x", "baseline"]].to_numpy())
    design_m = sm.add_constant(df[["x", *COVARIATES]].to_numpy())
    design_y = sm.add_constant(df[["x", "m", *COVARIATES]].to_numpy())
    m, y = df.m.to_numpy(), df.y.to_numpy()

    def product(rows: np.ndarray) -> float:
        stay = retained[rows]
        probability = sm.Logit(stay, design_r[rows]).fit(disp=0).predict()
        kept = rows[stay == 1]
        weights = stay.mean() / probability[stay == 1]
        a = sm.WLS(m[kept], design_m[kept], weights=weights).fit().params[1]
        b = sm.WLS(y[kept], design_y[kept], weights=weights).fit().params[2]
        return float(a * b)

    rng = np.random.default_rng(seed)
    n = len(df)
    draws = np.array([product(rng.integers(0, n, n)) for _ in range(n_boot)])
    return product(np.arange(n)), np.quantile(draws, [0.025, 0.975])


def missing_contenders(df: pd.DataFrame, sizes: Sizes) -> list[Contender]:
    n, boot, imputations = len(df), sizes.boot, sizes.imputations
    imputed = f"mediate_imputed, n = {n:,}, {imputations} imputations, B = {boot:,} each"
    weighted = f"mediate_weighted, n = {n:,}, B = {boot:,}"
    return [
        Contender(
            "moclab mediate_imputed",
            lambda: mediate_imputed(
                df,
                x="x",
                m="m",
                y="y",
                covariates=COVARIATES,
                auxiliary="baseline",
                n_imputations=imputations,
                ci="percentile",
                n_boot=boot,
                seed=SEED,
            ),
            'mediate_imputed(df, x="x", m="m", y="y", covariates=["c1", "c2"], auxiliary="baseline", '
            f'n_imputations={imputations}, ci="percentile", n_boot={boot})',
            "pooled (Rubin)",
            group=imputed,
        ),
        Contender(
            "statsmodels MICEData + moclab mediate",
            lambda: imputed_with_micedata(df, imputations, boot, SEED),
            "written here: MICEData(df).update_all(10), then per imputation update_all(4) and "
            f'mediate(data, ..., ci="percentile", n_boot={boot}); Rubin\'s rules on the indirect effect',
            "pooled (Rubin)",
            "moclab mediate_imputed",
            imputed,
        ),
        Contender(
            "statsmodels MICE x 2 (paths only)",
            lambda: imputed_with_mice(df, imputations, SEED),
            'MICE("m ~ x + c1 + c2", OLS, MICEData(df)) and MICE("y ~ m + x + c1 + c2", OLS, '
            f"MICEData(df)), each .fit(n_burnin=10, n_imputations={imputations}).summary(): pooled "
            "coefficients, no interval for a*b (less work)",
            "pooled (Rubin)",
            "moclab mediate_imputed",
            imputed,
        ),
        Contender(
            "moclab mediate_weighted",
            lambda: mediate_weighted(
                df,
                x="x",
                m="m",
                y="y",
                covariates=COVARIATES,
                retention=["x", "baseline"],
                n_boot=boot,
                seed=SEED,
            ),
            'mediate_weighted(df, x="x", m="m", y="y", covariates=["c1", "c2"], retention=["x", '
            f'"baseline"], n_boot={boot})',
            "percentile",
            group=weighted,
        ),
        Contender(
            "statsmodels Logit + WLS loop",
            lambda: weighted_statsmodels(df, boot, SEED),
            f"written here: {boot} times rows resampled, sm.Logit(retained, [1, x, baseline]), weights "
            "P/p, sm.WLS of both paths, a*b; percentiles",
            "percentile",
            "moclab mediate_weighted",
            weighted,
        ),
    ]


def check_missing(df: pd.DataFrame) -> str:
    ours = (
        mediate_weighted(
            df, x="x", m="m", y="y", covariates=COVARIATES, retention=["x", "baseline"], n_boot=100, seed=SEED
        )
        .effect("indirect[m]")
        .estimate
    )
    theirs, _ = weighted_statsmodels(df, 1, SEED)
    difference = abs(ours - theirs)
    return f"check: Logit + WLS loop's indirect effect vs mediate_weighted's, |difference| {difference:.1e}"


# ------------------------------------------------------------------------------------------------------------
# mediation_sensitivity and PySensemakr
# ------------------------------------------------------------------------------------------------------------


def run_sensemakr(df: pd.DataFrame) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.ols("y ~ m + x + c1 + c2", df).fit()
        return sensemakr.Sensemakr(model=fit, treatment="m", q=1.0, alpha=0.05).sensitivity_stats


def sensitivity_contenders(df: pd.DataFrame) -> list[Contender]:
    group = f"n = {len(df):,}"
    reference = "moclab robustness (b path)"
    contenders = [
        Contender(
            "moclab mediation_sensitivity",
            lambda: mediation_sensitivity(df, x="x", m="m", y="y", covariates=COVARIATES, benchmark="c1"),
            'mediation_sensitivity(df, x="x", m="m", y="y", covariates=["c1", "c2"], benchmark="c1"): '
            "rho curve (181 values), robustness values, bounds at 1, 2, 3 x c1",
            group=group,
        ),
        Contender(
            reference,
            lambda: robustness(df, y="y", treatment="m", covariates=["x", *COVARIATES]),
            'robustness(df, y="y", treatment="m", covariates=["x", "c1", "c2"]): robustness values',
            group=group,
        ),
    ]
    if sensemakr is not None:
        contenders.append(
            Contender(
                "PySensemakr Sensemakr",
                lambda: run_sensemakr(df),
                'smf.ols("y ~ m + x + c1 + c2", df).fit(); Sensemakr(model=fit, treatment="m", q=1.0, '
                "alpha=0.05).sensitivity_stats",
                reference=reference,
                group=group,
            )
        )
    return contenders


# ------------------------------------------------------------------------------------------------------------
# Growth with n and with the number of mediators
# ------------------------------------------------------------------------------------------------------------


def growth_contenders(sizes: Sizes) -> list[Contender]:
    contenders = []
    boot, growth_boot, draws = sizes.boot, sizes.growth_boot, sizes.draws
    first = f"n = {sizes.growth_n[0]:,}"
    group = f"mediate_interaction, B = {boot:,}"
    for n in sizes.growth_n:
        df = simulate_interaction(n)
        contenders.append(
            Contender(
                f"n = {n:,}",
                lambda df=df: run_interaction(df, boot),
                HOW_INTERACTION.format(boot),
                "percentile",
                first,
                group,
            )
        )
    group = f"interventional_effects (closed form), 2 mediators, B = {growth_boot:,}"
    for n in sizes.growth_n:
        df = simulate_mediators(n, 2)
        contenders.append(
            Contender(
                f"n = {n:,}",
                lambda df=df: run_interventional(df, ["m1", "m2"], growth_boot, draws),
                how_interventional(2, growth_boot, draws),
                "percentile",
                first,
                group,
            )
        )
    group = f"interventional_effects (closed form), n = {sizes.n:,}, B = {growth_boot:,}"
    fewest = f"{sizes.growth_k[0]} mediator(s)"
    for k in sizes.growth_k:
        df = simulate_mediators(sizes.n, k)
        mediators = [f"m{j}" for j in range(1, k + 1)]
        contenders.append(
            Contender(
                f"{k} mediator(s)",
                lambda df=df, mediators=mediators: run_interventional(df, mediators, growth_boot, draws),
                how_interventional(k, growth_boot, draws),
                "percentile",
                fewest,
                group,
            )
        )
    return contenders


# ------------------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------------------


def report(
    title: str, contenders: list[Contender], repeats: int, checks: Sequence[Callable[[], str]] = ()
) -> list[Timing]:
    for check in checks:
        print(check())
    timings = measure(contenders, repeats)
    print_table(timings, title=f"\n{title}")
    print()
    print_how_called(timings)
    print()
    return timings


def four_way_verdict(timings: Sequence[Timing], n: int, boot: int) -> str:
    median = next(
        t.median
        for t in timings
        if t.contender.name == "moclab mediate_interaction"
        and t.contender.group == f"n = {n:,}, B = {boot:,}"
    )
    verdict = "under" if median < 2.0 else "NOT under"
    return (
        f"four-way decomposition with a {boot:,}-resample bootstrap at n = {n:,}: median {median:.3f} s, "
        f"{verdict} the 2 s target of issue 15"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000, help="rows (persons for the panels)")
    parser.add_argument(
        "--boot", type=int, default=5000, help="resamples, the same for every contender of a group"
    )
    parser.add_argument(
        "--peer-boot",
        type=int,
        default=200,
        help="common resamples of the groups with a one-resample-at-a-time peer",
    )
    parser.add_argument(
        "--growth-boot",
        type=int,
        default=200,
        help="resamples of interventional_effects in the growth tables",
    )
    parser.add_argument("--draws", type=int, default=100, help="Monte Carlo draws per row (interventional)")
    parser.add_argument("--imputations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="smoke test: n = 300, 200 resamples, 1 round")
    args = parser.parse_args()
    sizes = Sizes(
        args.n,
        args.boot,
        args.peer_boot,
        args.growth_boot,
        args.draws,
        args.imputations,
        (1000, 5000, 20_000),
        (1, 2, 4),
    )
    if args.quick:
        sizes = Sizes(300, 200, 100, 100, 20, 3, (200, 400), (1, 2))
        args.repeats = 1
    print(environment())
    print(protocol(args.repeats))
    peers = ((Process, "PyProcessMacro"), (sensemakr, "PySensemakr"), (semopy, "semopy"))
    for missing_peer, name in peers:
        if missing_peer is None:
            print(f"{name} is not installed (pip install -e '.[dev,bench]'): left out")
    n = sizes.n
    if "interaction" in args.sections:
        df = simulate_interaction(n)
        timings = report(
            "mediate_interaction (natural effects and four-way decomposition)",
            interaction_contenders(df, sizes),
            args.repeats,
            [lambda: check_interaction(df)],
        )
        print(four_way_verdict(timings, n, sizes.boot) + "\n")
    if "moderated" in args.sections:
        report(
            "moderated_mediation (PROCESS models 7 and 58)",
            moderated_contenders(simulate_moderated(n), sizes),
            args.repeats,
        )
    if "riclpm" in args.sections:
        panel = simulate_panel(n)
        checks = [lambda: check_half_longitudinal(panel)]
        checks += [lambda: check_riclpm(panel)] if semopy is not None else []
        report("riclpm and half_longitudinal", riclpm_contenders(panel, sizes), args.repeats, checks)
    if "interventional" in args.sections:
        df, binary = simulate_mediators(n, 2), simulate_mediators_binary(n)
        timings = report(
            "interventional_effects",
            interventional_contenders(df, binary, sizes),
            args.repeats,
            [lambda: check_interventional(df, binary, sizes.draws)],
        )
        print(interventional_extrapolation(timings, sizes) + "\n")
    if "missing" in args.sections:
        df = simulate_missing(n)
        report(
            "mediate_imputed and mediate_weighted",
            missing_contenders(df, sizes),
            args.repeats,
            [lambda: check_missing(df)],
        )
    if "sensitivity" in args.sections:
        report("mediation_sensitivity", sensitivity_contenders(simulate_interaction(n)), args.repeats)
    if "growth" in args.sections:
        report("growth (moclab alone; ratio to the smallest size)", growth_contenders(sizes), args.repeats)


if __name__ == "__main__":
    main()
