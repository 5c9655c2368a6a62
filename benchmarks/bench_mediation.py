"""Speed of `moclab.analysis.mediate` against the libraries a user would otherwise use, in one process.

One mediator, two covariates, a binary strategy; every contender gets the same simulated data, the same
seed and the same number of bootstrap resamples or simulation draws (``--boot``, default 5,000), and the
timing protocol of `benchmarks/_protocol.py`: imports outside the timing, one untimed warm-up call of every
contender, then ``--repeats`` round-robin rounds, median wall-clock seconds. Each ratio divides a
contender's median by the median of the moclab call with the same interval method (named in the table), as
measured.

    .venv/bin/python benchmarks/bench_mediation.py                   # n = 500 and 5,000 (about 10 minutes)
    .venv/bin/python benchmarks/bench_mediation.py --quick           # a smoke test: n = 300, 500 resamples

Contenders (how each is called is printed under the table)
-----------------------------------------------------------
* moclab ``mediate(ci="percentile")`` and ``mediate(ci="bca")``;
* moclab ``mediate_glm(ci="monte_carlo", n_mc=B)``: the quasi-Bayesian simulation statsmodels does;
* floors: bare NumPy percentile bootstraps written here (no validation, no BCa, no result object), by
  gathering resampled rows and by resample counts and one matrix product (moclab's method, bare);
* ``scipy.stats.bootstrap`` with a vectorized indirect-effect statistic (batched normal equations),
  ``paired=True``, ``method="percentile"`` and ``method="BCa"``;
* pingouin ``mediation_analysis(n_boot=B)``: a Python loop over resamples, bias-corrected interval;
* PyProcessMacro ``Process(model=4, boot=B)`` (when installed): Hayes' PROCESS model 4, percentile interval;
* statsmodels ``Mediation`` through its array API (``OLS`` models built from arrays), ``fit(method=
  "bootstrap", n_rep=B)`` (percentile) and ``fit(method="parametric", n_rep=B)`` (quasi-Bayesian
  simulation of the coefficients and of the mediator), each followed by ``summary()`` for the intervals.
"""

from __future__ import annotations

import argparse
import inspect
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pingouin
import statsmodels.api as sm
from _protocol import Contender, environment, measure, print_how_called, print_table, protocol
from scipy import stats
from statsmodels.stats.mediation import Mediation

from moclab.analysis import mediate, mediate_glm

try:
    from pyprocessmacro import Process
except ImportError:  # the `bench` extra is not installed
    Process = None

COVARIATES = ["c1", "c2"]
CHUNK_VALUES = 1_000_000  # resampled values per batch for the floors and scipy (memory stays ~50 MB)


def simulate(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.integers(0, 2, n).astype(float), "c1": rng.normal(size=n)})
    df["c2"] = rng.normal(size=n)
    df["m"] = 0.3 * df.x + 0.2 * df.c1 + rng.normal(size=n)
    df["y"] = 0.3 * df.m + 0.1 * df.x + 0.1 * df.c2 + rng.normal(size=n)
    return df


def floor_gather(df: pd.DataFrame, n_boot: int, seed: int) -> tuple[float, float]:
    """Bare NumPy: gather resampled rows, batched normal equations, percentile interval of a*b."""
    n = len(df)
    x_m = np.column_stack([np.ones(n), df.x, df[COVARIATES]])
    x_y = np.column_stack([x_m, df.m])
    m, y = df.m.to_numpy(), df.y.to_numpy()
    rng = np.random.default_rng(seed)
    estimates = []
    chunk = max(1, CHUNK_VALUES // n)
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        xm, xy = x_m[idx], x_y[idx]
        a = np.linalg.solve(np.einsum("bni,bnj->bij", xm, xm), np.einsum("bni,bn->bi", xm, m[idx])[..., None])
        b = np.linalg.solve(np.einsum("bni,bnj->bij", xy, xy), np.einsum("bni,bn->bi", xy, y[idx])[..., None])
        estimates.append(a[:, 1, 0] * b[:, -1, 0])
    low, high = np.quantile(np.concatenate(estimates), [0.025, 0.975])
    return float(low), float(high)


def floor_counts(df: pd.DataFrame, n_boot: int, seed: int) -> tuple[float, float]:
    """Bare NumPy: resample counts, one matmul for all cross products, batched solve, percentile."""
    n = len(df)
    z = np.column_stack([np.ones(n), df.x, df[COVARIATES], df.m, df.y])
    z[:, 1:] -= z[:, 1:].mean(axis=0)
    upper = np.triu_indices(z.shape[1])
    products = z[:, upper[0]] * z[:, upper[1]]
    rng = np.random.default_rng(seed)
    estimates = []
    chunk = max(1, CHUNK_VALUES // n)
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(size, n), dtype=np.int32) + (np.arange(size) * n)[:, None]
        counts = np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(float)
        packed = counts @ products
        cross = np.empty((size, z.shape[1], z.shape[1]))
        cross[:, upper[0], upper[1]] = packed
        cross[:, upper[1], upper[0]] = packed
        a = np.linalg.solve(cross[:, :4, :4], cross[:, :4, 4:5])[:, 1, 0]
        b = np.linalg.solve(cross[:, :5, :5], cross[:, :5, 5:6])[:, 4, 0]
        estimates.append(a * b)
    low, high = np.quantile(np.concatenate(estimates), [0.025, 0.975])
    return float(low), float(high)


def indirect_effect(
    x: np.ndarray, c1: np.ndarray, c2: np.ndarray, m: np.ndarray, y: np.ndarray, axis: int = -1
) -> np.ndarray:
    """a*b of M ~ 1 + X + C and Y ~ 1 + X + C + M for every sample stacked along `axis` (scipy vectorized)."""
    columns = [np.moveaxis(np.asarray(v, dtype=float), axis, -1) for v in (x, c1, c2, m, y)]
    z = np.stack([np.ones_like(columns[0]), *columns], axis=-1)  # (..., n, 6)
    cross = np.einsum("...ni,...nj->...ij", z, z)
    a = np.linalg.solve(cross[..., :4, :4], cross[..., :4, 4:5])[..., 1, 0]
    b = np.linalg.solve(cross[..., :5, :5], cross[..., :5, 5:6])[..., 4, 0]
    return a * b


def run_scipy(df: pd.DataFrame, n_boot: int, seed: int, method: str) -> object:
    data = tuple(df[name].to_numpy() for name in ("x", "c1", "c2", "m", "y"))
    seeding = (
        {"rng": seed} if "rng" in inspect.signature(stats.bootstrap).parameters else {"random_state": seed}
    )
    return stats.bootstrap(
        data,
        indirect_effect,
        paired=True,
        vectorized=True,
        n_resamples=n_boot,
        batch=max(1, CHUNK_VALUES // len(df)),
        method=method,
        **seeding,
    ).confidence_interval


def run_pingouin(df: pd.DataFrame, n_boot: int, seed: int) -> object:
    return pingouin.mediation_analysis(
        data=df, x="x", m="m", y="y", covar=COVARIATES, n_boot=n_boot, seed=seed
    )


def run_processmacro(df: pd.DataFrame, n_boot: int, seed: int) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Process(
            data=df,
            model=4,
            x="x",
            y="y",
            m="m",
            controls=COVARIATES,
            boot=n_boot,
            seed=seed,
            suppr_init=True,
        )


def run_statsmodels(df: pd.DataFrame, n_rep: int, seed: int, method: str) -> object:
    """`Mediation` with OLS models built from arrays (no formulas); exposure column 1, mediator column 2."""
    n = len(df)
    mediator_exog = np.column_stack([np.ones(n), df.x, df.c1, df.c2])
    outcome_exog = np.column_stack([np.ones(n), df.x, df.m, df.c1, df.c2])
    outcome = sm.OLS(df.y.to_numpy(), outcome_exog)
    mediator = sm.OLS(df.m.to_numpy(), mediator_exog)
    analysis = Mediation(outcome, mediator, exposure=(1, 1), mediator=2)
    if "rng" in inspect.signature(analysis.fit).parameters:
        fitted = analysis.fit(method=method, n_rep=n_rep, rng=seed)
    else:  # statsmodels < 0.15 draws from the legacy global generator
        np.random.seed(seed)
        fitted = analysis.fit(method=method, n_rep=n_rep)
    return fitted.summary()


def contenders_for(df: pd.DataFrame, boot: int, skip: set[str]) -> list[Contender]:
    n = len(df)
    group = f"n = {n}"
    pct, bca, qb = "moclab mediate, percentile", "moclab mediate, BCa", "moclab mediate_glm, quasi-Bayes"
    seed = 1
    rows: list[tuple[str, Callable[[], object], str, str, str]] = [
        (
            pct,
            lambda: mediate(
                df, x="x", m="m", y="y", covariates=COVARIATES, ci="percentile", n_boot=boot, seed=seed
            ),
            f'mediate(df, x="x", m="m", y="y", covariates=["c1", "c2"], ci="percentile", n_boot={boot})',
            "percentile",
            "",
        ),
        (
            bca,
            lambda: mediate(df, x="x", m="m", y="y", covariates=COVARIATES, ci="bca", n_boot=boot, seed=seed),
            f'mediate(df, x="x", m="m", y="y", covariates=["c1", "c2"], ci="bca", n_boot={boot})',
            "BCa",
            pct,
        ),
        (
            qb,
            lambda: mediate_glm(df, x="x", m="m", y="y", covariates=COVARIATES, n_mc=boot, seed=seed),
            f'mediate_glm(df, x="x", m="m", y="y", covariates=["c1", "c2"], ci="monte_carlo", n_mc={boot})',
            "quasi-Bayesian",
            pct,
        ),
        (
            "floor: NumPy gather rows",
            lambda: floor_gather(df, boot, seed),
            f"bare NumPy written here: {boot} resamples of rows Z[idx], einsum normal equations, solve",
            "percentile",
            pct,
        ),
        (
            "floor: NumPy counts matmul",
            lambda: floor_counts(df, boot, seed),
            f"bare NumPy written here: {boot} resample counts, one matmul for all cross products, solve",
            "percentile",
            pct,
        ),
    ]
    how_scipy = (
        "scipy.stats.bootstrap((x, c1, c2, m, y), indirect_effect, paired=True, vectorized=True, "
        f"n_resamples={boot}, batch=1,000,000 // n, method={{}}); indirect_effect: batched "
        "normal equations (einsum + solve)"
    )
    if "scipy" not in skip:
        rows += [
            (
                "scipy bootstrap, percentile",
                lambda: run_scipy(df, boot, seed, "percentile"),
                how_scipy.format('"percentile"'),
                "percentile",
                pct,
            ),
            (
                "scipy bootstrap, BCa",
                lambda: run_scipy(df, boot, seed, "BCa"),
                how_scipy.format('"BCa"'),
                "BCa",
                bca,
            ),
        ]
    if "processmacro" not in skip and Process is not None:
        rows.append(
            (
                "PyProcessMacro model 4",
                lambda: run_processmacro(df, boot, seed),
                f'Process(data=df, model=4, x="x", m="m", y="y", controls=["c1", "c2"], boot={boot}, '
                "suppr_init=True)",
                "percentile",
                pct,
            )
        )
    if "pingouin" not in skip:
        rows.append(
            (
                "pingouin mediation_analysis",
                lambda: run_pingouin(df, boot, seed),
                f'pingouin.mediation_analysis(data=df, x="x", m="m", y="y", covar=["c1", "c2"], '
                f"n_boot={boot})",
                "bias-corrected",
                bca,
            )
        )
    if "statsmodels" not in skip:
        how_sm = (
            "Mediation(OLS(y, [1, x, m, c1, c2]), OLS(m, [1, x, c1, c2]), exposure=(1, 1), mediator=2)"
            f'.fit(method="{{}}", n_rep={boot}).summary()'
        )
        rows += [
            (
                "statsmodels Mediation, bootstrap",
                lambda: run_statsmodels(df, boot, seed, "bootstrap"),
                how_sm.format("bootstrap"),
                "percentile",
                pct,
            ),
            (
                "statsmodels Mediation, parametric",
                lambda: run_statsmodels(df, boot, seed, "parametric"),
                how_sm.format("parametric"),
                "quasi-Bayesian",
                qb,
            ),
        ]
    return [
        Contender(name, call, how=how, interval=interval, reference=reference, group=group)
        for name, call, how, interval, reference in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=[500, 5000], help="sample sizes")
    parser.add_argument(
        "--boot", type=int, default=5000, help="resamples or draws, the same for every contender"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds after the warm-up")
    parser.add_argument("--quick", action="store_true", help="smoke test: n = 300, 500 resamples, 2 rounds")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="contenders to skip: scipy pingouin processmacro statsmodels"
    )
    args = parser.parse_args()
    if args.quick:
        args.n, args.boot, args.repeats = [300], 500, 2
    print(environment())
    print(protocol(args.repeats))
    if Process is None:
        print("PyProcessMacro is not installed (make bench installs it): left out")
    timings = []
    for n in args.n:
        timings += measure(contenders_for(simulate(n), args.boot, set(args.skip)), args.repeats)
    print_table(
        timings, title=f"\nB = {args.boot} resamples or draws for every contender, same data and seed"
    )
    print()
    print_how_called(timings)
    for n in args.n:
        part = {t.contender.name: t.median for t in timings if t.contender.group == f"n = {n}"}
        floor = min(part["floor: NumPy gather rows"], part["floor: NumPy counts matmul"])
        print(
            f"n = {n}: moclab percentile / faster floor = {part['moclab mediate, percentile'] / floor:.2f}, "
            f"moclab BCa / faster floor = {part['moclab mediate, BCa'] / floor:.2f}"
        )


if __name__ == "__main__":
    main()
