"""Run the scorecard on many replications of every world and tabulate its verdicts against the truth.

Each replication r of a world draws a study with ``numpy.random.default_rng(seed + r)``
(`validation.worlds.generate_study`), writes it to a temporary folder, analyses it with
``moclab.evidence.analyze(folder, n_boot=N, seed=seed + r, show_progress=False)`` and records, per pathway
and criterion, the verdict's status and the pathway's overall conclusion
(``PathwayEvidence.conclusion.grade``). A `moclab.errors.MoclabError` is recorded as status "error" with its
message; any other exception propagates (a bug must surface). The summary gives, per world × pathway ×
criterion, the truth of the criterion's claim (`validation.truth`), the share of each status with its Monte
Carlo standard error sqrt(p (1 - p) / R), and flags the targets missed: "met" in at most 5% of replications
where the claim is false, in at least 80% in the `true` world's trust pathway; for the overall conclusion,
"established" or "supported under stated assumptions" in at most 5% where the mechanism is not real, at
least 80% in the true worlds.

Usage::

    python -m validation.run --reps 200 --n-boot 500 --jobs 2 --out validation-results/
    python -m validation.run --reps 20 --worlds true confounded --write-docs docs/validation.md
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from moclab.errors import MoclabError
from moclab.evidence import CRITERIA, analyze
from validation.truth import BIG, BIG_TEAMS, population_table, truth_table
from validation.worlds import PATHWAYS, WORLDS, generate_study

__all__ = ["main", "run_replication", "summarise"]

DOCS_START = "<!-- validation-table:start -->"
DOCS_END = "<!-- validation-table:end -->"
#: Overall conclusions that claim the mechanism (a grade is compared in lower case).
POSITIVE_GRADES = ("established", "supported under stated assumptions")
STATUSES = ("met", "partly met", "not met", "not testable", "error")
DEFAULT_SEED = 20240115

console = Console(stderr=True)


def _short(pathway: str) -> str:
    return PATHWAYS[pathway][0]


def run_replication(world: str, replication: int, seed: int, n_boot: int) -> list[dict[str, Any]]:
    """Draw, write and analyse one replication of `world`; one row per pathway and criterion."""
    started = time.perf_counter()
    evidence, message = None, None
    folder = Path(tempfile.mkdtemp(prefix=f"moclab-validation-{world}-"))
    try:
        generate_study(world, folder / "study", seed)
        try:
            evidence = analyze(folder / "study", n_boot=n_boot, seed=seed, show_progress=False)
        except MoclabError as error:
            # one line, so that results.csv stays one row per line
            message = f"{type(error).__name__}: {error}".replace("\n", " | ")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seconds = time.perf_counter() - started
    base = {"world": world, "replication": replication, "seed": seed, "seconds": round(seconds, 3)}
    rows = []
    for pathway in PATHWAYS:
        if evidence is None:
            rows += [
                {
                    **base,
                    "pathway": pathway,
                    "criterion": criterion.id,
                    "status": "error",
                    "conclusion": None,
                    "message": message,
                }
                for criterion in CRITERIA
            ]
            continue
        pathway_evidence = evidence.scorecard.pathway(pathway)
        grade = pathway_evidence.conclusion.grade
        rows += [
            {
                **base,
                "pathway": pathway,
                "criterion": verdict.criterion,
                "status": verdict.status.value,
                "conclusion": grade,
                "message": None,
            }
            for verdict in pathway_evidence.verdicts
        ]
    return rows


def _in_order(results: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of `WORLDS`, replications, `PATHWAYS` (hypothesised mechanism first), `CRITERIA`."""
    keys = {
        "world": {name: rank for rank, name in enumerate(WORLDS)},
        "pathway": {name: rank for rank, name in enumerate(PATHWAYS)},
        "criterion": {criterion.id: rank for rank, criterion in enumerate(CRITERIA)},
    }
    return results.sort_values(
        ["world", "replication", "pathway", "criterion"],
        key=lambda column: column.map(keys[column.name]) if column.name in keys else column,
        kind="stable",
    ).reset_index(drop=True)


def _share(count: int, total: int) -> tuple[float, float]:
    p = count / total if total else math.nan
    return p, math.sqrt(p * (1 - p) / total) if total else math.nan


def _missed(target: str, p: float) -> bool:
    if not target or math.isnan(p):
        return False
    bound = float(target.split()[1].rstrip("%")) / 100
    return p > bound if target.startswith("<=") else p < bound


def summarise(results: pd.DataFrame, truth: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per world × pathway × criterion: the claim, the share of every status (with the Monte Carlo SE of the
    share met), the target and whether it was missed; and per world × pathway the overall conclusion."""
    claims = truth.set_index(["world", "pathway", "criterion"])
    rows = []
    for (world, pathway, criterion), group in results.groupby(["world", "pathway", "criterion"], sort=False):
        total = len(group)
        counts = group["status"].value_counts()
        met, se = _share(int(counts.get("met", 0)), total)
        truth_row = claims.loc[(world, pathway, criterion)]
        row = {
            "world": world,
            "pathway": _short(pathway),
            "criterion": criterion,
            "claim": truth_row["claim"],
            "replications": total,
            "met": met,
            "met_se": se,
        }
        for status in STATUSES[1:]:
            row[status] = _share(int(counts.get(status, 0)), total)[0]
        row["target"] = truth_row["target"]
        row["missed"] = _missed(truth_row["target"], met)
        rows.append(row)
    criteria = pd.DataFrame(rows)

    conclusions = []
    per_pathway = results.drop_duplicates(["world", "replication", "pathway"])
    for (world, pathway), group in per_pathway.groupby(["world", "pathway"], sort=False):
        total = len(group)
        grades = group["conclusion"]
        truth_row = claims.loc[(world, pathway, "mechanism")]
        available = grades.notna() & (group["status"] != "error")
        positive = grades.fillna("").str.lower().isin(POSITIVE_GRADES)
        share, se = _share(int(positive.sum()), total)
        known = bool(available.any())
        conclusions.append(
            {
                "world": world,
                "pathway": _short(pathway),
                "mechanism": truth_row["claim"],
                "replications": total,
                "positive": share if known else math.nan,
                "positive_se": se if known else math.nan,
                "grades": ", ".join(f"{grade} {count}" for grade, count in grades.value_counts().items())
                or "n/a",
                "errors": int((group["status"] == "error").sum()),
                "target": truth_row["target"],
                "missed": _missed(truth_row["target"], share) if known else False,
            }
        )
    return criteria, pd.DataFrame(conclusions)


def _percent(p: float) -> str:
    return "n/a" if math.isnan(p) else f"{100 * p:.0f}%"


def _flag(target: str, missed: bool, available: bool = True) -> str:
    if not target:
        return ""
    if not available:
        return f"{target}: n/a"
    return f"**MISSED** ({target})" if missed else f"ok ({target})"


def markdown_tables(criteria: pd.DataFrame, conclusions: pd.DataFrame, population: pd.DataFrame) -> str:
    """The summary as markdown: verdicts per criterion, overall conclusions, population values."""
    lines = [
        "| world | pathway | criterion | claim | met ± MC SE | partly | not met | not testable | error "
        "| target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in criteria.to_dict("records"):
        met = f"{100 * row['met']:.0f}% ± {100 * row['met_se']:.1f}"
        others = " | ".join(_percent(row[status]) for status in STATUSES[1:])
        lines.append(
            f"| {row['world']} | {row['pathway']} | {row['criterion']} | {row['claim']} | {met} | {others} | "
            f"{_flag(row['target'], row['missed'])} |"
        )
    lines += [
        "",
        "Overall conclusion: share of replications concluding *established* or *supported under stated "
        "assumptions*.",
        "",
        "| world | pathway | mechanism real | established or supported ± MC SE | grades | errors | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in conclusions.itertuples(index=False):
        available = not math.isnan(row.positive)
        share = f"{100 * row.positive:.0f}% ± {100 * row.positive_se:.1f}" if available else "n/a"
        lines.append(
            f"| {row.world} | {row.pathway} | {row.mechanism} | {share} | {row.grades} | {row.errors} | "
            f"{_flag(row.target, row.missed, available)} |"
        )
    lines += [
        "",
        f"Population values (one draw of {BIG.sites} sites × {BIG.recipients[0]} recipients per world, "
        f"{BIG_TEAMS.sites} sites in the worlds whose claims read team means; see validation/truth.py).",
        "",
        "| world | pathway | a | b | a_C | b_C | total | causal a | causal b | reverse | dose slope | "
        "sites with effect |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in population.itertuples(index=False):
        lines.append(
            f"| {row.world} | {_short(row.pathway)} | {row.a:.2f} | {row.b:.2f} | {row.a_C:.2f} | "
            f"{row.b_C:.2f} | {row.total:.2f} | {row.causal_a:.2f} | {row.causal_b:.2f} | "
            f"{row.reverse:.2f} | {row.dose_slope:.2f} | {100 * row.site_share:.0f}% |"
        )
    return "\n".join(lines) + "\n"


def _check_docs(path: Path) -> str | None:
    """The docs file's text when it has both markers in order, else None (after printing why)."""
    if not path.is_file():
        console.print(
            f"[red]error:[/] {path} does not exist; create it with the markers {DOCS_START} and {DOCS_END}"
        )
        return None
    text = path.read_text(encoding="utf-8")
    start, end = text.find(DOCS_START), text.find(DOCS_END)
    if start < 0 or end < start:
        console.print(
            f"[red]error:[/] {path} lacks the markers {DOCS_START} ... {DOCS_END} (in this order); "
            "add them where the validation table belongs"
        )
        return None
    return text


def _write_docs(path: Path, text: str, table: str) -> None:
    pattern = re.compile(re.escape(DOCS_START) + r".*?" + re.escape(DOCS_END), re.DOTALL)
    replaced = pattern.sub(lambda _: f"{DOCS_START}\n{table}{DOCS_END}", text, count=1)
    path.write_text(replaced, encoding="utf-8")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m validation.run", description=__doc__.split("\n\n")[0], allow_abbrev=False
    )
    parser.add_argument("--reps", type=int, default=200, help="replications per world (default 200)")
    parser.add_argument(
        "--n-boot", type=int, default=500, help="bootstrap resamples per analysis (default 500)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="parallel worker processes (default 2)")
    parser.add_argument("--out", type=Path, default=Path("validation-results"), help="folder for the results")
    parser.add_argument("--worlds", nargs="+", choices=list(WORLDS), metavar="WORLD", help="worlds to run")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"base seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--write-docs", type=Path, metavar="PATH", help="replace the marked table in this file"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    if args.reps < 1 or args.jobs < 1:
        console.print("[red]error:[/] --reps and --jobs must be at least 1")
        return 2
    worlds = args.worlds or list(WORLDS)
    docs_text = None
    if args.write_docs is not None:
        docs_text = _check_docs(args.write_docs)
        if docs_text is None:
            return 2

    console.print(f"Truth of {len(worlds)} worlds from their population draws ...")
    truth = truth_table(worlds)
    population = population_table(worlds)

    # One replication of each world, timed (and kept as replication 0), for an estimate of the whole run.
    rows: list[dict[str, Any]] = []
    timings = {}
    for world in worlds:
        tick = time.perf_counter()
        rows += run_replication(world, 0, args.seed, args.n_boot)
        timings[world] = time.perf_counter() - tick
        console.print(f"  {world}: {timings[world]:.1f} s per replication")
    remaining = sum(timings.values()) * (args.reps - 1) / args.jobs
    console.print(
        f"Estimate for {args.reps} replications × {len(worlds)} worlds on {args.jobs} jobs: "
        f"{remaining / 60:.1f} more minutes"
    )

    tasks = [
        (world, replication, args.seed + replication)
        for replication in range(1, args.reps)
        for world in worlds
    ]
    if tasks:
        columns = (
            TextColumn("replications"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task("replications", total=len(tasks))
            parallel = Parallel(n_jobs=args.jobs, backend="loky", return_as="generator_unordered")
            for result in parallel(delayed(run_replication)(*task, args.n_boot) for task in tasks):
                rows += result
                progress.advance(bar)

    results = _in_order(pd.DataFrame(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "results.csv", index=False)
    criteria, conclusions = summarise(results, truth)
    table = markdown_tables(criteria, conclusions, population)
    per_replication = results.drop_duplicates(["world", "replication"]).groupby("world", sort=False)[
        "seconds"
    ]
    errors = int((results.drop_duplicates(["world", "replication"])["status"] == "error").sum())
    missed = int(criteria["missed"].sum() + conclusions["missed"].sum())
    header = (
        f"{args.reps} replications per world, {args.n_boot} bootstrap resamples, base seed {args.seed}; "
        f"{errors} replications ended in an error; {missed} targets missed. Seconds per replication: "
        + ", ".join(f"{world} {seconds:.1f}" for world, seconds in per_replication.mean().items())
        + ".\n\n"
    )
    (args.out / "summary.md").write_text(
        "# Validation of the evidence scorecard against known truths\n\n" + header + table, encoding="utf-8"
    )
    print(header + table)
    if docs_text is not None:
        _write_docs(args.write_docs, docs_text, header + table)
        console.print(f"Wrote the table into {args.write_docs}")
    console.print(f"Results in {args.out}/results.csv and {args.out}/summary.md")
    console.print(f"Total time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
