"""Render the demo's evidence report to a PNG with headless Chromium, for the README.

With a report folder (or its index.html), that report is photographed. Without one, the demo report is made
first, in a temporary folder: the recipient-pathway template (Metz et al. 2024) simulated with its bundled
spec (about 2,000 recipients in 40 sites, 3 waves), its four pathways to acceptability analysed, the report
written.

Usage::

    python scripts/report_screenshot.py                               # make the demo report, photograph it
    python scripts/report_screenshot.py demo-output/report -o docs/images/report.png
    python scripts/report_screenshot.py REPORT --width 1400 --height 1800

Chromium is installed by ``make setup`` (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from moclab.errors import MoclabError

#: The demo's four pathways: the affective responses of the recipient pathway → acceptability.
DEMO_PATHWAYS = [
    f"isp_support__{mechanism}__acceptability"
    for mechanism in ("trust", "psych_safety", "positive_emotion", "credibility")
]


def make_demo_report(folder: Path, n_boot: int, seed: int) -> Path:
    """Simulate the demo study into `folder`/study, analyse it and write its report to `folder`/report."""
    from moclab.evidence import analyze
    from moclab.report import write_report
    from moclab.simulate import simulate_study
    from moclab.study import load_study

    study_folder = simulate_study("recipient-pathway").write(folder / "study")
    study = load_study(study_folder)
    evidence = analyze(study, pathways=DEMO_PATHWAYS, n_boot=n_boot, seed=seed)
    return write_report(evidence, folder / "report", study=study)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path, help="a report folder or its index.html")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/images/report.png"))
    parser.add_argument("--width", type=int, default=1400, help="viewport width (CSS pixels)")
    parser.add_argument("--height", type=int, default=1800, help="viewport height (CSS pixels)")
    parser.add_argument("--n-boot", type=int, default=5000, help="resamples, when the demo report is made")
    parser.add_argument("--seed", type=int, default=2024, help="seed, when the demo report is made")
    options = parser.parse_args(argv)

    from moclab.report.browser import screenshot

    try:
        with tempfile.TemporaryDirectory(prefix="moclab-demo-report-") as scratch:
            if options.report is None:
                page = make_demo_report(Path(scratch), options.n_boot, options.seed)
            else:
                page = options.report / "index.html" if options.report.is_dir() else options.report
            options.output.parent.mkdir(parents=True, exist_ok=True)
            image = screenshot(page, options.output, width=options.width, height=options.height)
    except MoclabError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
