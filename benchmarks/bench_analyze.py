"""Time `moclab analyze` on the demo study: load, judge the pathways, write the report.

The demo study is the recipient-pathway template's default simulation (40 sites, about 2,000 recipients,
3 waves). The issue's target is 4 pathways with 5,000 resamples in under 30 s on a 2-core machine; the table
also shows every pathway of the model (12) and the report. There is no other tool that judges the seven
criteria, so this benchmark times moclab alone. Every step follows the timing protocol of
`benchmarks/_protocol.py`: the study folder is simulated and written before any timing, every step gets one
untimed warm-up call and ``--repeats`` timed rounds (each step once per round), median and minimum seconds.

    python benchmarks/bench_analyze.py [--n-boot 5000] [--seed 2024] [--repeats 3]
    python benchmarks/bench_analyze.py --quick      # 500 resamples, 1 round: a smoke test
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _protocol import Contender, environment, measure, print_how_called, print_table, protocol

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
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up")
    parser.add_argument("--quick", action="store_true", help="500 resamples, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.n_boot, args.repeats = 500, 1
    print(environment())
    print(protocol(args.repeats))
    model = coerce_model("recipient-pathway")
    with tempfile.TemporaryDirectory() as tmp:
        folder = simulate_study(model, default_spec(model), seed=args.seed).write(Path(tmp) / "study")
        study = load_study(folder, show_progress=False)
        evidence = analyze(study, n_boot=args.n_boot, seed=args.seed, show_progress=False)
        n = len(study.recipients)
        sites = study.recipients[study.config.tables.recipients.cluster].nunique()

        def report() -> None:
            with tempfile.TemporaryDirectory() as out:
                write_report(evidence, Path(out) / "report", study=study, show_progress=False)

        group = f"{n:,} recipients, {sites} sites"
        steps = [
            (
                "load and check the study",
                lambda: load_study(folder, show_progress=False),
                "load_study(folder)",
            ),
            (
                f"analyze {len(FOUR_PATHWAYS)} pathways",
                lambda: analyze(
                    study, pathways=FOUR_PATHWAYS, n_boot=args.n_boot, seed=args.seed, show_progress=False
                ),
                f"analyze(study, pathways=<4 pathways>, n_boot={args.n_boot}, seed={args.seed})",
            ),
            (
                f"analyze all {len(evidence.pathways)} pathways",
                lambda: analyze(study, n_boot=args.n_boot, seed=args.seed, show_progress=False),
                f"analyze(study, n_boot={args.n_boot}, seed={args.seed})",
            ),
            (
                "write the HTML report (all pathways)",
                report,
                "write_report(evidence, a fresh temporary folder, study=study)",
            ),
        ]
        timings = measure(
            [Contender(name, call, how=how, group=group) for name, call, how in steps], args.repeats
        )
    print_table(timings, title=f"\n{len(study.wave_ids)} waves; {args.n_boot:,} resamples per analysis")
    print()
    print_how_called(timings)
    four = timings[0].median + timings[1].median
    print(f"load + 4 pathways: {four:.1f} s (median; target < 30 s): {'ok' if four < 30 else 'MISSED'}")


if __name__ == "__main__":
    main()
