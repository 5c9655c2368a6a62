"""Speed of `moclab.simulate`: the fast wide-frame path and the full study, by number of recipients.

The recipient-pathway template with its default spec (12 latent variables, 3 waves, site randomization,
teams, a support log, item-level AIM/IAM/FIM and psychological safety, missingness and dropout), with the
number of sites changed so that there are about 1,000, 10,000 and 100,000 recipients. Prints a table of
wall-clock seconds (best of several runs):

* compile: checking the spec against the model and compiling it (once per design);
* wide (latent): `plan.wide(seed, measurement="latent")`, the latent variables only;
* wide (observed): `plan.wide(seed)`, item responses drawn and scored, scale scores with error;
* study: `plan.study(seed)`, the long tables (every item as a row), the support log and the truth;
* write: writing the folder (CSV), smaller sizes only unless ``--write-all``.

    .venv/bin/python benchmarks/bench_simulate.py            # 1k, 10k, 100k recipients
    .venv/bin/python benchmarks/bench_simulate.py --quick    # 1k and 10k, fewer repeats
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from moclab.simulate import compile_simulation

PER_SITE = 50  # the default spec's mean recipients per site


def best_of(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1k and 10k recipients, fewer repeats")
    parser.add_argument("--write-all", action="store_true", help="also time writing the 100k study")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    repeats = 2 if args.quick else 3
    base = compile_simulation("recipient-pathway")
    base.study(seed=0)  # warm up: the truth's ICCs import moclab.analysis (statsmodels) on first use
    rows = []
    for target in sizes:
        spec = base.spec.with_design(sites=max(2, round(target / PER_SITE)))
        compile_time = best_of(lambda spec=spec: compile_simulation("recipient-pathway", spec), repeats)
        plan = compile_simulation("recipient-pathway", spec)
        n = plan.wide(seed=1, measurement="latent")["recipient_id"].nunique()
        row = {
            "recipients": n,
            "rows (x3 waves)": 3 * n,
            "compile": compile_time,
            "wide (latent)": best_of(lambda plan=plan: plan.wide(seed=1, measurement="latent"), repeats),
            "wide (observed)": best_of(lambda plan=plan: plan.wide(seed=1), repeats),
            "study": best_of(lambda plan=plan: plan.study(seed=1), max(1, repeats - 1)),
        }
        if target <= 10_000 or args.write_all:
            study = plan.study(seed=1)
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                study.write(Path(folder) / "study")
                row["write"] = time.perf_counter() - start
        else:
            row["write"] = np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}; seconds (best)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-"))


if __name__ == "__main__":
    main()
