"""Speed of `moclab.design.power_analysis` and how it scales with cores and on a Dask cluster.

The single-mediator model of the issue's targets: standard normal X, a = b = .14 with unit residual
variances (MacKinnon et al. 2002), one site, n = 500, 1,000 replications:

* Monte Carlo interval (10,000 draws per replication; joint significance and Sobel as well): target under
  5 s;
* percentile bootstrap (1,000 resamples per replication): target under 60 s.

Each row is one run; the scaling rows repeat the runs with joblib on 2 and all cores, and on a Dask
``LocalCluster`` (one single-threaded worker process per core). Every run of a method uses the same seed,
and the script checks that all of them report the same power (results do not depend on the back end).

    .venv/bin/python benchmarks/bench_power.py            # full run
    .venv/bin/python benchmarks/bench_power.py --quick    # 200 replications, a smoke test
"""

from __future__ import annotations

import argparse
import os
import platform
import time

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


def spec(n: int) -> dict:
    return {
        "scale": "unit-residual",
        "design": {
            "sites": 1,
            "recipients": n,
            "randomization": {"level": "recipient", "exposure": "continuous"},
        },
        "paths": {"x->m": 0.14, "m->y": 0.14},
        "defaults": {"icc": 0.0, "stability": 0.0, "decimals": 10},
    }


def run(method: str, reps: int, n: int, **backend: object) -> tuple[float, float]:
    """Seconds and power of one power analysis (the same seed every time)."""
    started = time.perf_counter()
    result = power_analysis(
        MODEL, spec(n), reps=reps, method=method, criteria="none", n_mc=10_000, n_boot=1000, seed=1, **backend
    )
    elapsed = time.perf_counter() - started
    quantity = "indirect:monte_carlo" if method == "mc" else "indirect:percentile"
    return elapsed, float(result.power(quantity)["power"].iloc[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 replications instead of 1,000")
    parser.add_argument("--n", type=int, default=500, help="recipients per replication (default 500)")
    args = parser.parse_args()
    reps = 200 if args.quick else 1000
    cores = os.cpu_count() or 1
    print(
        f"moclab power benchmark: {reps} replications, n = {args.n}; "
        f"{platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}"
    )
    backends: list[tuple[str, dict]] = [("1 process", {"n_jobs": 1}), ("joblib, 2 workers", {"n_jobs": 2})]
    if cores > 2:
        backends.append((f"joblib, {cores} workers", {"n_jobs": -1}))
    rows = []
    for method, label, target in (
        ("mc", "Monte Carlo 10,000 draws", 5.0),
        ("boot", "percentile bootstrap 1,000", 60.0),
    ):
        powers = []
        for name, options in backends:
            # The first joblib call pays for starting the worker processes; time a warm pool.
            if options["n_jobs"] != 1:
                run(method, 40, args.n, chunk_size=10, **options)
            elapsed, power = run(method, reps, args.n, **options)
            powers.append(power)
            rows.append((label, name, elapsed, power, target))
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=cores, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            run(method, 40, args.n, chunk_size=10, scheduler=client)
            elapsed, power = run(method, reps, args.n, scheduler=client)
        powers.append(power)
        rows.append((label, f"Dask LocalCluster, {cores} workers", elapsed, power, target))
        assert len(set(powers)) == 1, f"back ends disagree: {powers}"
    print(f"{'test':28} {'back end':32} {'seconds':>8} {'power':>7} {'target':>8}")
    for label, name, elapsed, power, target in rows:
        mark = "" if args.quick else ("  ok" if elapsed < target or name != "1 process" else "  SLOW")
        print(
            f"{label:28} {name:32} {elapsed:8.2f} {power:7.3f} {'< ' + format(target, 'g') + ' s':>8}{mark}"
        )


if __name__ == "__main__":
    main()
