"""Reports of an evidence analysis: a self-contained offline HTML page and report.json with every number.

`write_report(evidence, folder)` (what ``moclab analyze STUDY -o REPORT/`` calls) writes

* ``index.html``: the scorecard (pathway × criterion, each verdict with its number, reason, rule and design
  change), the pathway model coloured by verdict, per pathway the estimates with intervals, the path diagram,
  the forest plot across sites, the dose-response plots and the cross-lagged model, the data summary, every
  exclusion and assumption, and a methods section written from what was run, with its references. Figures
  are inline SVG and the stylesheet is inline; the page runs no script and loads nothing from the network;
* ``report.json``: everything `StudyEvidence.to_dict` holds, under the same keys, plus the data summary,
  exclusions, assumptions, methods and the list of figures.

The folder must be new, empty, or an earlier report (see `moclab.report.folder`); nothing of the user's is
overwritten. `render_page` and the ``base.html.j2`` template give other pages (the power page) the same look.
The pages need jinja2, which comes with the ``report`` extra (``pip install 'moclab[report]'``).

Examples
--------
>>> from moclab.report import format_interval, format_number
>>> format_number(0.21049), format_interval(0.105, 0.3301)
('0.210', '[0.105, 0.330]')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from moclab.report.build import HTML_FILE, JSON_FILE, REPORT_FORMAT, Report, build_report
from moclab.report.folder import MARKER, check_report_folder
from moclab.report.page import environment, format_interval, format_number, format_p, render_page, stylesheet

if TYPE_CHECKING:
    from moclab.evidence import StudyEvidence
    from moclab.study import Study

__all__ = [
    "HTML_FILE",
    "JSON_FILE",
    "MARKER",
    "REPORT_FILES",
    "REPORT_FORMAT",
    "Report",
    "build_report",
    "environment",
    "format_interval",
    "format_number",
    "format_p",
    "render_page",
    "stylesheet",
    "write_report",
]

#: The files a report folder holds besides its marker; only these (and the marker) are ever replaced.
REPORT_FILES = (HTML_FILE, JSON_FILE)


def write_report(
    evidence: StudyEvidence,
    folder: str | Path,
    *,
    study: Study | None = None,
    show_progress: bool = True,
) -> Path:
    """Write the report of an evidence analysis into `folder` and return the path of its page.

    Parameters
    ----------
    evidence : StudyEvidence
        The result of `moclab.evidence.analyze`.
    folder : str or Path
        Created when missing; it must be empty or hold an earlier moclab report.
    study : Study, optional
        The analysed study, when the caller has it loaded (otherwise it is read again from its folder for
        the diagram and the data summary).
    show_progress : bool
        A progress bar on stderr while the report is drawn (shown when that takes over a second).

    Returns
    -------
    Path
        ``folder/index.html``.

    Raises
    ------
    MoclabError
        When the folder is a file, or holds other files and no earlier report; nothing is written then.
    MissingExtraError
        When jinja2, the ``report`` extra, is not installed.
    """
    folder = Path(folder)
    # Refuse before the work, not after: drawing a large report takes a few seconds.
    check_report_folder(folder)
    environment()
    report = build_report(evidence, study, show_progress=show_progress)
    return report.write(folder)
