"""Speed of reading a large REFI-QDA project: `moclab.qual.read_project` on a synthetic `.qdpx`.

The target (issue 7): 1,000 transcripts, about 50 MB of text and 100,000 codings imported in under 10 seconds.
The project is built here (seeded random words, so the archive compresses like real text rather than like a
repeated string; every selection and coding carries its coder and time stamps, as vendor exports do), written
with moclab's own writer into a temporary folder, and read back. Prints a table of wall-clock seconds for:
reading the archive into a `Project`, the codings table (`Project.codings_frame`), for comparison the bare
XML parse of ``project.qde``, and the analyses over the whole project. Every step follows the timing protocol
of `benchmarks/_protocol.py`: the project is built and written before any timing, each step gets one untimed
warm-up call and ``--repeats`` timed rounds, median and minimum seconds.

    .venv/bin/python benchmarks/bench_qual_import.py            # 1,000 transcripts (~50 MB), 100,000 codings
    .venv/bin/python benchmarks/bench_qual_import.py --quick    # 100 transcripts, 10,000 codings
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from _protocol import Contender, environment, measure, print_how_called, print_table, protocol

from moclab.qual import Code, Coding, Project, Selection, TextSource, User, read_project, stable_guid
from moclab.qual.cooccurrence import code_cooccurrence
from moclab.qual.pathway import experience_pathway
from moclab.qual.safety import parse_xml
from moclab.qual.stages import StageMap

CREATED = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)

WORDS = (
    "we",
    "the",
    "support",
    "team",
    "trust",
    "meeting",
    "practice",
    "families",
    "data",
    "change",
    "learn",
    "plan",
    "staff",
    "time",
    "implementation",
    "coach",
    "program",
    "it",
    "was",
    "really",
    "helpful",
    "and",
    "then",
    "they",
    "showed",
    "us",
    "how",
    "to",
    "measure",
    "what",
    "matters",
    "for",
    "children",
)


def build(n_sources: int, chars_per_source: int, codings_per_source: int, seed: int = 7) -> Project:
    """A project of random-word transcripts, each with evenly spread coded selections by two coders."""
    rng = np.random.default_rng(seed)
    words = np.array(WORDS)
    codes = [Code(stable_guid("bench", "code", str(i)), f"code {i}") for i in range(40)]
    users = [User(stable_guid("bench", "user", c), f"coder {c}") for c in "AB"]
    sources = []
    n_words = chars_per_source // 6
    for s in range(n_sources):
        picked = words[rng.integers(0, len(words), n_words)]
        text = " ".join(picked.tolist())
        text = text.replace(" we ", ".\nWe ")  # paragraphs
        starts = np.sort(rng.integers(0, len(text) - 400, codings_per_source))
        lengths = rng.integers(20, 400, codings_per_source)
        code_ids = rng.integers(0, len(codes), codings_per_source)
        selections = []
        for k in range(codings_per_source):
            guid = stable_guid("bench", "selection", str(s), str(k))
            user = users[k % 2].guid
            selections.append(
                Selection(
                    guid,
                    int(starts[k]),
                    int(starts[k] + lengths[k]),
                    creator=user,
                    created=CREATED + timedelta(minutes=k),
                    modifier=user,
                    modified=CREATED + timedelta(minutes=k, seconds=30),
                    codings=[
                        Coding(
                            stable_guid("bench", "coding", guid),
                            codes[code_ids[k]].guid,
                            user,
                            CREATED + timedelta(minutes=k),
                        )
                    ],
                )
            )
        sources.append(
            TextSource(stable_guid("bench", "source", str(s)), f"interview {s:04d}", text, selections)
        )
    return Project("benchmark", users=users, codes=codes, sources=sources)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100 transcripts instead of 1,000")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up")
    args = parser.parse_args()
    n_sources = 100 if args.quick else 1000
    print(environment())
    print(protocol(args.repeats))
    project = build(n_sources, chars_per_source=50_000, codings_per_source=100)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.qdpx"
        from moclab.qual import write_project

        start = time.perf_counter()
        write_project(project, path)
        write_seconds = time.perf_counter() - start
        with zipfile.ZipFile(path) as archive:
            text_bytes = sum(i.file_size for i in archive.infolist() if i.filename.endswith(".txt"))
            qde = archive.read("project.qde")
        loaded = read_project(path)
        counts = loaded.counts()
        # The analyses over the whole project: co-occurrence, and the experience-pathway graph over five
        # stages (codes assigned to stages in turn). Target for both together: under 2 s.
        stages = StageMap.from_mapping(
            loaded, {code.name: f"stage {i % 5 + 1}" for i, code in enumerate(loaded.codes)}
        )
        group = f"{counts['sources']:,} transcripts"
        steps = [
            (
                "read_project(.qdpx)",
                lambda: read_project(path),
                "read_project(path); target < 10 s for 1,000",
            ),
            ("Project.codings_frame()", loaded.codings_frame, "project.codings_frame()"),
            (
                "parse project.qde only",
                lambda: parse_xml(qde, "project.qde"),
                "parse_xml (defusedxml): the floor",
            ),
            (
                "code_cooccurrence(overlap)",
                lambda: code_cooccurrence(loaded, method="overlap"),
                'code_cooccurrence(project, method="overlap")',
            ),
            (
                "code_cooccurrence(paragraph)",
                lambda: code_cooccurrence(loaded, method="paragraph"),
                'code_cooccurrence(project, method="paragraph")',
            ),
            (
                "experience_pathway(5 stages)",
                lambda: experience_pathway(loaded, stages),
                "experience_pathway(project, StageMap of 5 stages)",
            ),
        ]
        contenders = [Contender(name, call, how=how, group=group) for name, call, how in steps]
        timings = measure(contenders, args.repeats)
    print(
        f"project: {counts['sources']:,} transcripts, {text_bytes / 1e6:.1f} MB of text, "
        f"{counts['codings']:,} codings; project.qde {len(qde) / 1e6:.1f} MB; archive "
        f"{path.name} written once in {write_seconds:.1f} s (untimed setup)"
    )
    print_table(timings, title="\nseconds per step")
    median = {t.contender.name: t.median for t in timings}
    together = median["code_cooccurrence(overlap)"] + median["experience_pathway(5 stages)"]
    print(f"\nco-occurrence (overlap) + pathway graph: {together:.2f} s (medians; target < 2 s)")
    print()
    print_how_called(timings)


if __name__ == "__main__":
    main()
