"""Speed of `moclab.analysis.mediate` against the libraries a user would otherwise use, in one process.

One mediator, two covariates, 5,000 bootstrap resamples, n = 500 and n = 5,000. Prints a table of wall-clock
seconds (best of several round-robin runs, so a busy machine slows every contender alike) and ratios
(other / moclab BCa); the floor is a bare NumPy batched-least-squares percentile bootstrap
written here (no validation, no BCa, no result object), which moclab should stay within 1.5x of.

    .venv/bin/python benchmarks/bench_mediation.py                 # full run (several minutes)
    .venv/bin/python benchmarks/bench_mediation.py --quick         # n = 500 only, fewer repeats

Contenders
----------
* moclab ``mediate(ci="bca")`` and ``mediate(ci="percentile")``, 5,000 resamples.
* floor (gather): draw all indices, gather rows ``Z[idx]``, form X'X and X'y with einsum, batched solve.
* floor (counts): the same with resample counts and one matmul ``C @ products`` (moclab's method, bare).
* pingouin ``mediation_analysis(n_boot=5000)``: loops over resamples in Python (bias-corrected interval).
* PyProcessMacro ``Process(model=4, boot=5000)``: Hayes' PROCESS model 4 (percentile interval).
* statsmodels ``Mediation(...).fit(method="parametric")``: simulation, not a bootstrap, with a Python loop
  over draws; timed with ``--sm-reps`` draws (default 20) and scaled linearly to 5,000 (it is linear in
  the number of draws), which the table marks as "scaled".
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from moclab.analysis import mediate

COVARIATES = ["c1", "c2"]


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
    chunk = max(1, 1_000_000 // n)
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        xm, xy = x_m[idx], x_y[idx]
        a = np.linalg.solve(np.einsum("bni,bnj->bij", xm, xm), np.einsum("bni,bn->bi", xm, m[idx])[..., None])
        b = np.linalg.solve(np.einsum("bni,bnj->bij", xy, xy), np.einsum("bni,bn->bi", xy, y[idx])[..., None])
        a, b = a[:, 1, 0], b[:, -1, 0]
        estimates.append(a * b)
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
    chunk = max(1, 1_000_000 // n)
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


def run_pingouin(df: pd.DataFrame, n_boot: int, seed: int) -> object:
    import pingouin

    return pingouin.mediation_analysis(
        data=df, x="x", m="m", y="y", covar=COVARIATES, n_boot=n_boot, seed=seed
    )


def run_processmacro(df: pd.DataFrame, n_boot: int, seed: int) -> object:
    from pyprocessmacro import Process

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


def run_statsmodels(df: pd.DataFrame, n_rep: int, seed: int) -> object:
    import statsmodels.api as sm
    from statsmodels.stats.mediation import Mediation

    np.random.seed(seed)  # statsmodels' Mediation draws from the legacy global generator
    outcome = sm.OLS.from_formula("y ~ x + m + c1 + c2", df)
    mediator = sm.OLS.from_formula("m ~ x + c1 + c2", df)
    return Mediation(outcome, mediator, "x", "m").fit(method="parametric", n_rep=n_rep)


def interleaved_best_times(
    contenders: list[tuple[str, Callable[[], object], int]],
) -> list[tuple[str, float]]:
    """Best time of each contender, running them round-robin so load changes on a shared machine hit all."""
    for _, function, _ in contenders:
        function()  # warm-up
    best = {name: float("inf") for name, _, _ in contenders}
    for round_number in range(max(repeats for _, _, repeats in contenders)):
        for name, function, repeats in contenders:
            if round_number < repeats:
                start = time.perf_counter()
                function()
                best[name] = min(best[name], time.perf_counter() - start)
    return list(best.items())


def once(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--boot", type=int, default=5000)
    parser.add_argument(
        "--repeats", type=int, default=5, help="best of this many runs for the fast contenders"
    )
    parser.add_argument("--sm-reps", type=int, default=20, help="statsmodels draws timed (then scaled)")
    parser.add_argument("--quick", action="store_true", help="n = 500 only, 2 repeats")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="contenders to skip: pingouin processmacro statsmodels"
    )
    args = parser.parse_args()
    if args.quick:
        args.n, args.repeats = [500], 2
    boot = args.boot
    rows = []
    for n in args.n:
        df = simulate(n)

        def moclab_bca(df: pd.DataFrame = df) -> object:
            return mediate(df, x="x", m="m", y="y", covariates=COVARIATES, n_boot=boot, seed=1)

        def moclab_percentile(df: pd.DataFrame = df) -> object:
            return mediate(
                df, x="x", m="m", y="y", covariates=COVARIATES, ci="percentile", n_boot=boot, seed=1
            )

        slow_repeats = 1 if n >= 5000 else 2
        contenders: list[tuple[str, Callable[[], object], int]] = [
            ("moclab mediate, BCa", moclab_bca, args.repeats),
            ("moclab mediate, percentile", moclab_percentile, args.repeats),
            ("floor: NumPy gather rows", lambda df=df: floor_gather(df, boot, 1), args.repeats),
            ("floor: NumPy counts matmul", lambda df=df: floor_counts(df, boot, 1), args.repeats),
        ]
        if "processmacro" not in args.skip:
            contenders.append(
                ("PyProcessMacro model 4", lambda df=df: run_processmacro(df, boot, 1), slow_repeats)
            )
        timings = [(name, seconds, "") for name, seconds in interleaved_best_times(contenders)]
        if "pingouin" not in args.skip:
            timings.append(("pingouin mediation_analysis", once(lambda df=df: run_pingouin(df, boot, 1)), ""))
        if "statsmodels" not in args.skip:
            measured = once(lambda df=df: run_statsmodels(df, args.sm_reps, 1))
            note = f"scaled from {args.sm_reps} draws"
            timings.append(("statsmodels Mediation (parametric)", measured * boot / args.sm_reps, note))
        reference = timings[0][1]
        for name, seconds, note in timings:
            rows.append(
                {
                    "n": n,
                    "contender": name,
                    "seconds": seconds,
                    "x moclab BCa": seconds / reference,
                    "note": note,
                }
            )
    table = pd.DataFrame(rows)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, B = {boot}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for n in args.n:
        part = table[table.n == n].set_index("contender")["seconds"]
        bca = part["moclab mediate, BCa"]
        floor = min(part["floor: NumPy gather rows"], part["floor: NumPy counts matmul"])
        print(f"n = {n}: moclab BCa / best floor = {bca / floor:.2f}", end="")
        for other in ("pingouin mediation_analysis", "PyProcessMacro model 4"):
            if other in part:
                print(f"; {other} / moclab BCa = {part[other] / bca:.1f}", end="")
        print()


if __name__ == "__main__":
    main()
