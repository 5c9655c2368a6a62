"""Speed of judging all seven criteria in a power analysis: the fast engine against the scorecard itself.

The bundled recipient-pathway model (12 pathways, 40 sites of about 50 recipients, three waves, a support
log and simulated coded interviews) at its default design, analysed as `moclab analyze` would (Monte Carlo
interval of the indirect effect, 10,000 draws; the percentile bootstrap would cost the same in both
contenders' mediation models and dominate both):

* ``criteria="fast"``: every criterion judged per replication by the scorecard's rules on numbers computed
  from the simulated arrays (`moclab.design.criteria_analyses`), ``--reps`` replications (default 1,000; the
  issue's target is under 60 s on 2 cores);
* ``criteria="none"``: the same mediation analyses and tests without any criterion, the floor the criteria
  add to;
* ``criteria="full"``: every replication built as a study and scored by `moclab.evidence.analyze`, on
  ``--full-reps`` replications (default 3: about ten seconds each), its time per replication multiplied by
  ``--reps`` in a separate line marked as extrapolated (the protocol's table itself scales nothing).

All contenders follow `benchmarks/_protocol.py` (imports and worker start-up outside the timing, one untimed
warm-up, ``--repeats`` round-robin rounds, medians). The fast and full contenders give the same statuses
replication by replication (tests/design/test_criteria_fast.py); this script checks that their shares agree
on the replications both ran.

    .venv/bin/python benchmarks/bench_power_criteria.py            # full run (several minutes)
    .venv/bin/python benchmarks/bench_power_criteria.py --quick    # 20 and 1 replications, a smoke test
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _protocol import Contender, environment, measure, print_how_called, print_table, protocol

from moclab.design import power_analysis

MODEL = "recipient-pathway"
N_MC = 10_000
SEED = 1


def run(reps: int, criteria: str, n_jobs: int) -> object:
    return power_analysis(
        MODEL, reps=reps, method="mc", criteria=criteria, n_mc=N_MC, seed=SEED, n_jobs=n_jobs
    )


def shares(result: object) -> np.ndarray:
    table = result.table  # type: ignore[attr-defined]
    rows = table[table["quantity"].str.startswith("criterion:")]
    return rows[["power", "partly_met", "not_met", "not_testable"]].fillna(-1).to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps", type=int, default=1000, help="replications of the fast runs (default 1,000)"
    )
    parser.add_argument("--full-reps", type=int, default=3, help="replications of the full run (default 3)")
    parser.add_argument("--jobs", type=int, default=2, help="joblib workers of every run (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up (default 3)")
    parser.add_argument("--quick", action="store_true", help="20 and 1 replications, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.full_reps, args.repeats = 20, 1, 1
    print(environment())
    print(protocol(args.repeats))
    jobs = args.jobs
    group = f"{MODEL}, 12 pathways, {jobs} worker(s)"
    floor = f"no criteria, {args.reps} reps"
    runs = [
        (f"fast, all 7 criteria, {args.reps} reps", "fast", args.reps, floor),
        (floor, "none", args.reps, ""),
        (f"full scorecard, {args.full_reps} reps", "full", args.full_reps, ""),
    ]
    contenders = [
        Contender(
            name,
            lambda criteria=criteria, reps=reps: run(reps, criteria, jobs),
            how=f"power_analysis({MODEL!r}, reps={reps}, method='mc', criteria={criteria!r}, n_mc={N_MC}, "
            f"seed={SEED}, n_jobs={jobs})",
            group=group,
            reference=reference,
        )
        for name, criteria, reps, reference in runs
    ]
    timings = measure(contenders, args.repeats)
    print_table(timings)
    print_how_called(timings)
    full = next(t for t in timings if t.contender.name.startswith("full"))
    fast = next(t for t in timings if t.contender.name.startswith("fast"))
    per_replication = full.median / args.full_reps
    print(
        f"full scorecard extrapolated to {args.reps} reps: {per_replication * args.reps:.0f} s "
        f"({per_replication:.1f} s per replication, measured on {args.full_reps}); fast engine "
        f"{fast.median:.1f} s measured, {per_replication * args.reps / fast.median:.0f} times faster"
    )
    same = np.allclose(
        shares(run(args.full_reps, "fast", 1)), shares(run(args.full_reps, "full", 1)), equal_nan=True
    )
    print(f"fast and full give the same criterion shares on the {args.full_reps} replication(s): {same}")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
