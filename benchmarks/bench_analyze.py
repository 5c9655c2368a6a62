"""Time `moclab analyze` on the demo study: load, judge the pathways, write the report.

The demo study is the recipient-pathway template's default simulation (40 sites, about 2,000 recipients,
3 waves). The issue's target is 4 pathways with 5,000 resamples in under 30 s on a 2-core machine; the table
also shows every pathway of the model (12) and the report. There is no other tool that judges the seven
criteria, so this benchmark times moclab alone.

    python benchmarks/bench_analyze.py [--n-boot 5000] [--seed 2024]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from moclab.evidence import analyze
from moclab.report import write_report
from moclab.simulate import default_spec, simulate_study
from moclab.simulate.plan import coerce_model
from moclab.study import load_study

FOUR_PATHWAYS = [f"isp_support__{m}__acceptability" for m in ("trust", "psych_safety", "credibility")] + [
    "isp_support__positive_emotion__acceptability"
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-boot", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    model = coerce_model("recipient-pathway")
    with tempfile.TemporaryDirectory() as tmp:
        folder = simulate_study(model, default_spec(model), seed=args.seed).write(Path(tmp) / "study")
        rows = []
        start = time.perf_counter()
        study = load_study(folder, show_progress=False)
        load_seconds = time.perf_counter() - start
        n = len(study.recipients)
        sites = study.recipients[study.config.tables.recipients.cluster].nunique()
        for label, chosen in (("4 pathways", FOUR_PATHWAYS), ("all pathways", None)):
            start = time.perf_counter()
            evidence = analyze(
                study, pathways=chosen, n_boot=args.n_boot, seed=args.seed, show_progress=False
            )
            seconds = time.perf_counter() - start
            rows.append((f"analyze, {label} ({len(evidence.pathways)})", seconds))
        start = time.perf_counter()
        write_report(evidence, Path(tmp) / "report", study=study, show_progress=False)
        rows.append(("write the HTML report (all pathways)", time.perf_counter() - start))
    print(
        f"python {platform.python_version()} on {platform.machine()}; {n:,} recipients in {sites} sites, "
        f"{len(study.wave_ids)} waves; {args.n_boot:,} resamples per analysis"
    )
    print(f"{'step':<44} {'seconds':>8}")
    print(f"{'load and check the study':<44} {load_seconds:>8.2f}")
    for name, seconds in rows:
        print(f"{name:<44} {seconds:>8.2f}")
    four = rows[0][1] + load_seconds
    print(f"load + 4 pathways: {four:.1f} s (target < 30 s): {'ok' if four < 30 else 'MISSED'}")


if __name__ == "__main__":
    main()
