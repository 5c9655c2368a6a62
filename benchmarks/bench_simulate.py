"""Speed of `moclab.simulate`: the fast wide-frame path and the full study, by number of recipients.

The recipient-pathway template with its default spec (12 latent variables, 3 waves, site randomization,
teams, a support log, item-level AIM/IAM/FIM and psychological safety, missingness and dropout), with the
number of sites changed so that there are about 1,000, 10,000 and 100,000 recipients. Every step follows the
timing protocol of `benchmarks/_protocol.py` (one untimed warm-up call, then ``--repeats`` round-robin
rounds, median and minimum wall-clock seconds):

* compile: checking the spec against the model and compiling it (once per design);
* wide (latent): `plan.wide(seed, measurement="latent")`, the latent variables only;
* wide (observed): `plan.wide(seed)`, item responses drawn and scored, scale scores with error;
* study: `plan.study(seed)`, the long tables (every item as a row), the support log and the truth;
* write: writing the study folder (CSV) into a fresh temporary folder, smaller sizes only unless
  ``--write-all``.

There is no other simulator of implementation studies to compare with, so moclab is timed alone.

    .venv/bin/python benchmarks/bench_simulate.py            # 1k, 10k, 100k recipients
    .venv/bin/python benchmarks/bench_simulate.py --quick    # 1k and 10k, 2 rounds
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _protocol import Contender, environment, measure, print_how_called, print_table, protocol

from moclab.simulate import compile_simulation

PER_SITE = 50  # the default spec's mean recipients per site


def write_once(study: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        study.write(Path(folder) / "study")  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1k and 10k recipients, 2 rounds")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up")
    parser.add_argument("--write-all", action="store_true", help="also time writing the 100k study")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    repeats = 2 if args.quick else args.repeats
    print(environment())
    print(protocol(repeats))
    base = compile_simulation("recipient-pathway")
    contenders = []
    for target in sizes:
        spec = base.spec.with_design(sites=max(2, round(target / PER_SITE)))
        plan = compile_simulation("recipient-pathway", spec)
        n = plan.wide(seed=1, measurement="latent")["recipient_id"].nunique()
        group = f"{n:,} recipients x 3 waves"
        steps = [
            (
                "compile",
                lambda spec=spec: compile_simulation("recipient-pathway", spec),
                "compile_simulation('recipient-pathway', spec)",
            ),
            (
                "wide (latent)",
                lambda plan=plan: plan.wide(seed=1, measurement="latent"),
                "plan.wide(seed=1, measurement='latent')",
            ),
            ("wide (observed)", lambda plan=plan: plan.wide(seed=1), "plan.wide(seed=1)"),
            ("study", lambda plan=plan: plan.study(seed=1), "plan.study(seed=1)"),
        ]
        if target <= 10_000 or args.write_all:
            study = plan.study(seed=1)
            steps.append(
                ("write", lambda study=study: write_once(study), "study.write(a fresh temporary folder)")
            )
        contenders += [Contender(name, call, how=how, group=group) for name, call, how in steps]
    timings = measure(contenders, repeats)
    print_table(timings, title="\nseconds per step")
    print()
    print_how_called(timings)


if __name__ == "__main__":
    main()
