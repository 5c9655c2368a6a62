"""Speed of `moclab.design.power_analysis` on each back end and against the loops a user would write.

The single-mediator model of the issue's targets: standard normal X, a = b = .14 with unit residual
variances (MacKinnon et al. 2002), one site, n = 500 per replication:

* Monte Carlo interval (10,000 draws per replication), ``--reps`` replications (default 1,000; target under
  5 s on one process);
* percentile bootstrap (1,000 resamples per replication), ``--reps`` replications (target under 60 s).

Every moclab call tests the indirect effect by that one interval (``methods=[...]``), so it does the same
work as the loops it is compared with. Python has no library for the power of an indirect effect, so the
rivals are the loops a user would write: per replication, simulate the data with NumPy, then

* Monte Carlo: two statsmodels ``OLS`` fits and 10,000 normal draws of a and b (the same replications);
* bootstrap: ``scipy.stats.bootstrap`` (vectorized statistic, percentile interval) or pingouin
  ``mediation_analysis`` (bias-corrected interval), with 1,000 resamples, on ``--rival-reps`` replications
  (default 100; moclab is timed on the same number of replications in that comparison).

All contenders follow `benchmarks/_protocol.py`: imports and worker start-up (the Dask ``LocalCluster``)
outside the timing, one untimed warm-up call of every contender with the same arguments as the timed ones
(it starts the joblib pool), then ``--repeats`` round-robin rounds; the median is reported. Every moclab
back end uses the same seed and the script checks that they report the same power.

    .venv/bin/python benchmarks/bench_power.py            # full run (about 6 minutes)
    .venv/bin/python benchmarks/bench_power.py --quick    # 100 and 10 replications, a smoke test
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import pingouin
import statsmodels.api as sm
from _protocol import Contender, Timing, environment, measure, print_how_called, print_table, protocol
from distributed import Client, LocalCluster
from scipy import stats

from moclab.design import power_analysis
from moclab.model import model_from_dict

MODEL = model_from_dict(
    {
        "model": "single-mediator",
        "nodes": [
            {"id": "x", "type": "strategy"},
            {"id": "m", "type": "mechanism"},
            {"id": "y", "type": "proximal outcome"},
        ],
        "edges": [{"from": "x", "to": "m"}, {"from": "m", "to": "y"}],
    }
)
PATH = 0.14
N_MC, N_BOOT, LEVEL = 10_000, 1000, 0.95
SEED = 1


def spec(n: int) -> dict:
    return {
        "scale": "unit-residual",
        "design": {
            "sites": 1,
            "recipients": n,
            "randomization": {"level": "recipient", "exposure": "continuous"},
        },
        "paths": {"x->m": PATH, "m->y": PATH},
        "defaults": {"icc": 0.0, "stability": 0.0, "decimals": 10},
    }


def moclab_power(method: str, reps: int, n: int, **backend: object) -> float:
    """Power of the indirect effect's interval from one `power_analysis` call (the same seed every time)."""
    result = power_analysis(
        MODEL,
        spec(n),
        reps=reps,
        method=method,
        methods=[method],
        criteria="none",
        n_mc=N_MC,
        n_boot=N_BOOT,
        seed=SEED,
        **backend,
    )
    quantity = "indirect:monte_carlo" if method == "monte_carlo" else "indirect:percentile"
    return float(result.power(quantity)["power"].iloc[0])


def simulate(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.normal(size=n)
    m = PATH * x + rng.normal(size=n)
    y = PATH * m + rng.normal(size=n)
    return x, m, y


def loop_monte_carlo(reps: int, n: int) -> float:
    """Per replication: simulate, fit m ~ x and y ~ x + m (statsmodels OLS), Monte Carlo interval of a*b."""
    rng = np.random.default_rng(SEED)
    rejected = 0
    for _ in range(reps):
        x, m, y = simulate(rng, n)
        fit_m = sm.OLS(m, sm.add_constant(x)).fit()
        fit_y = sm.OLS(y, sm.add_constant(np.column_stack([x, m]))).fit()
        a = rng.normal(fit_m.params[1], fit_m.bse[1], N_MC)
        b = rng.normal(fit_y.params[2], fit_y.bse[2], N_MC)
        low, high = np.quantile(a * b, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        rejected += low > 0 or high < 0
    return rejected / reps


def indirect_effect(x: np.ndarray, m: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """a*b of m ~ 1 + x and y ~ 1 + x + m for every sample stacked along `axis` (scipy vectorized)."""
    columns = [np.moveaxis(np.asarray(v, dtype=float), axis, -1) for v in (x, m, y)]
    z = np.stack([np.ones_like(columns[0]), *columns], axis=-1)  # (..., n, 4)
    cross = np.einsum("...ni,...nj->...ij", z, z)
    a = np.linalg.solve(cross[..., :2, :2], cross[..., :2, 2:3])[..., 1, 0]
    b = np.linalg.solve(cross[..., :3, :3], cross[..., :3, 3:4])[..., 2, 0]
    return a * b


def loop_scipy(reps: int, n: int) -> float:
    """Per replication: simulate, `scipy.stats.bootstrap` percentile interval of a*b."""
    rng = np.random.default_rng(SEED)
    rejected = 0
    for _ in range(reps):
        interval = stats.bootstrap(
            simulate(rng, n),
            indirect_effect,
            paired=True,
            vectorized=True,
            n_resamples=N_BOOT,
            batch=max(1, 1_000_000 // n),
            method="percentile",
            confidence_level=LEVEL,
            rng=rng,
        ).confidence_interval
        rejected += interval.low > 0 or interval.high < 0
    return rejected / reps


def loop_pingouin(reps: int, n: int) -> float:
    """Per replication: simulate, pingouin `mediation_analysis` (bias-corrected interval)."""
    rng = np.random.default_rng(SEED)
    rejected = 0
    for _ in range(reps):
        x, m, y = simulate(rng, n)
        table = pingouin.mediation_analysis(
            data=pd.DataFrame({"x": x, "m": m, "y": y}),
            x="x",
            m="m",
            y="y",
            alpha=1 - LEVEL,
            n_boot=N_BOOT,
            seed=int(rng.integers(2**31)),
        )
        rejected += table.set_index("path").loc["Indirect", "sig"] == "Yes"
    return rejected / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="replications per moclab run (default 1,000)")
    parser.add_argument(
        "--rival-reps", type=int, default=100, help="replications of the bootstrap comparison (default 100)"
    )
    parser.add_argument("--n", type=int, default=500, help="recipients per replication (default 500)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up")
    parser.add_argument("--quick", action="store_true", help="100 and 10 replications, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.rival_reps, args.repeats = 100, 10, 2
    cores = os.cpu_count() or 1
    n, reps, rival_reps = args.n, args.reps, args.rival_reps
    print(environment())
    print(protocol(args.repeats))
    backends: list[tuple[str, dict, str]] = [
        ("1 process", {"n_jobs": 1}, "n_jobs=1"),
        ("joblib, 2 workers", {"n_jobs": 2}, "n_jobs=2"),
    ]
    if cores > 2:
        backends.append((f"joblib, {cores} workers", {"n_jobs": -1}, "n_jobs=-1"))
    powers: dict[tuple[str, str], float] = {}

    def recorded(group: str, name: str, work: Callable[[], float]) -> Callable[[], float]:
        def call() -> float:
            powers[group, name] = work()
            return powers[group, name]

        return call

    how_moclab = (
        "power_analysis(model, spec, reps={reps}, method={method!r}, methods=[{method!r}], criteria='none', "
        f"n_mc={N_MC}, n_boot={N_BOOT}, seed={SEED}, {{backend}})"
    )
    with (
        LocalCluster(n_workers=cores, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        dask = (
            f"Dask LocalCluster, {cores} workers",
            {"scheduler": client},
            "scheduler=Client(LocalCluster)",
        )
        contenders: list[Contender] = []
        for method, group, count, every_backend in (
            ("monte_carlo", f"Monte Carlo {N_MC:,} draws, {reps} reps", reps, True),
            ("percentile", f"percentile bootstrap {N_BOOT:,}, {reps} reps", reps, True),
            ("percentile", f"bootstrap vs loops, {rival_reps} reps", rival_reps, False),
        ):
            chosen = [*backends, dask] if every_backend else backends[:1]
            reference = f"moclab, {chosen[0][0]}"
            for label, options, backend in chosen:
                name = f"moclab, {label}"
                contenders.append(
                    Contender(
                        name,
                        recorded(group, name, partial(moclab_power, method, count, n, **options)),
                        how=how_moclab.format(reps=count, method=method, backend=backend),
                        interval=method.replace("_", " "),
                        reference=reference if name != reference else "",
                        group=group,
                    )
                )
            if method == "monte_carlo":
                contenders.append(
                    Contender(
                        "loop: statsmodels OLS + draws",
                        recorded(group, "loop: statsmodels OLS + draws", lambda: loop_monte_carlo(reps, n)),
                        how=f"{reps} x (simulate with NumPy; sm.OLS(m, [1, x]).fit(); "
                        f"sm.OLS(y, [1, x, m]).fit(); {N_MC} normal draws of a and b; percentile interval)",
                        interval="monte carlo",
                        reference=reference,
                        group=group,
                    )
                )
            elif not every_backend:
                contenders += [
                    Contender(
                        "loop: scipy.stats.bootstrap",
                        recorded(group, "loop: scipy.stats.bootstrap", lambda: loop_scipy(rival_reps, n)),
                        how=f"{rival_reps} x (simulate; scipy.stats.bootstrap((x, m, y), indirect_effect, "
                        f"paired=True, vectorized=True, n_resamples={N_BOOT}, method='percentile'))",
                        interval="percentile",
                        reference=reference,
                        group=group,
                    ),
                    Contender(
                        "loop: pingouin mediation_analysis",
                        recorded(
                            group, "loop: pingouin mediation_analysis", lambda: loop_pingouin(rival_reps, n)
                        ),
                        how=f"{rival_reps} x (simulate; pingouin.mediation_analysis(data, x, m, y, "
                        f"n_boot={N_BOOT}))",
                        interval="bias-corrected",
                        reference=reference,
                        group=group,
                    ),
                ]
        timings: list[Timing] = measure(contenders, args.repeats)
    print_table(
        timings,
        title=f"\nn = {n} per replication; targets on 1 process with 1,000 reps: Monte Carlo < 5 s, "
        "bootstrap < 60 s",
    )
    print()
    print_how_called(timings)
    print("\npower of the indirect effect (moclab back ends agree exactly, loops within Monte Carlo error):")
    for (group, name), power in powers.items():
        print(f"  {group:40} {name:36} {power:.3f}")
    for group in {group for group, _ in powers}:
        moclab = {power for (g, name), power in powers.items() if g == group and name.startswith("moclab")}
        assert len(moclab) == 1, f"moclab back ends disagree in {group}: {moclab}"


if __name__ == "__main__":
    main()
