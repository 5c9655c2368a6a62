"""Calibration of the evidence scorecard on simulated studies with a known truth.

For each design (randomized by site or observational; one or three waves; with or without a support log)
and many seeds, simulate a study of the test model of tests/evidence (coaching acts through trust, a real
mechanism, and not through credibility, a null mechanism that still predicts the outcome), run
`moclab.evidence.analyze`, and print how often each criterion was judged met, partly met, not met or not
testable, for the real and the null pathway. A "met" for the null pathway on a criterion that needs the
strategy to move the mechanism (strong association, specificity, experimental manipulation, consistency,
gradient) is a false "met"; its rate should stay near the nominal error rate (α = .05, two-sided, so a
one-direction false "met" near .025 or below for the criteria that also check the direction).

Usage::

    python scripts/calibrate_evidence.py                 # 40 seeds per design, 500 resamples
    python scripts/calibrate_evidence.py --seeds 200 --n-boot 1000 --jobs 2

This is a statistical check, not a benchmark: it prints rates, not timings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from evidence.helpers import NULL, REAL, simulated_study

from moclab.evidence import CRITERIA, analyze

DESIGNS = {
    "randomized, 3 waves, dose": {},
    "observational, 3 waves, dose": {"randomization": "none"},
    "randomized, 1 wave, dose": {"waves": 1},
    "randomized, 3 waves, no dose": {"dose": False},
}
#: Criteria whose "met" needs the strategy to move the mechanism.
NEEDS_A_PATH = ("strong_association", "specificity", "consistency", "experimental_manipulation", "gradient")


def one_run(design: str, seed: int, n_boot: int) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as folder:
        study = simulated_study(Path(folder) / "study", seed, sites=24, recipients=40, **DESIGNS[design])
        evidence = analyze(study, n_boot=n_boot, seed=seed, show_progress=False)
    rows = []
    for pathway, truth in ((REAL, "real"), (NULL, "null")):
        for verdict in evidence.scorecard.pathway(pathway).verdicts:
            rows.append(
                {
                    "design": design,
                    "seed": seed,
                    "truth": truth,
                    "criterion": verdict.criterion,
                    "status": verdict.status.value,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--n-boot", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    tasks = [(design, seed) for design in DESIGNS for seed in range(1, args.seeds + 1)]
    results = Parallel(n_jobs=args.jobs)(delayed(one_run)(d, s, args.n_boot) for d, s in tasks)
    frame = pd.DataFrame([row for rows in results for row in rows])
    order = [c.id for c in CRITERIA]
    pd.set_option("display.width", 160)
    for truth in ("real", "null"):
        met = frame[frame["truth"] == truth].assign(met=lambda f: f["status"] == "met")
        rates = met.pivot_table(index="design", columns="criterion", values="met", aggfunc="mean")[order]
        print(f"\nShare of 'met' verdicts, {truth} mechanism ({args.seeds} seeds per design):")
        print(rates.round(3).to_string())
    null = frame[(frame["truth"] == "null") & frame["criterion"].isin(NEEDS_A_PATH)]
    false_met = null.assign(met=null["status"] == "met").groupby("criterion")["met"].mean()
    print("\nFalse 'met' rate for the null mechanism, over all designs:")
    print(false_met.reindex(NEEDS_A_PATH).round(3).to_string())
    print("\nAll statuses:")
    counts = frame.groupby(["truth", "design", "criterion"])["status"].value_counts().unstack(fill_value=0)
    print(counts.to_string())


if __name__ == "__main__":
    main()
