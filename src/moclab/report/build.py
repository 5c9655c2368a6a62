"""`build_report`: the evidence of a study → the HTML page and the JSON document of its report.

The page is rendered from ``templates/report.html.j2`` (which extends the shared ``base.html.j2``) with the
plain data of `moclab.report.content`, the figures of `moclab.report.figures` and the methods of
`moclab.report.methods`. report.json holds everything `StudyEvidence.to_dict` holds (under the same keys),
plus the data summary, the exclusions, the assumptions, the methods and the list of figures.
"""

from __future__ import annotations

import datetime
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from moclab.errors import MoclabError, display_path
from moclab.plain import plain
from moclab.report.content import (
    anchor,
    assumption_groups,
    data_summary_view,
    exclusions,
    flow_view,
    pathway_view,
    scorecard_view,
)
from moclab.report.figures import Figure, FigureMaker, pathway_plots
from moclab.report.folder import write_report_files
from moclab.report.methods import describe_methods
from moclab.report.page import environment, page_context

if TYPE_CHECKING:
    from moclab.evidence import StudyEvidence
    from moclab.study import Study

__all__ = ["REPORT_FORMAT", "Report", "build_report"]

#: The version of report.json's layout (its keys beyond those of `StudyEvidence.to_dict`).
REPORT_FORMAT = "moclab-report/1"
HTML_FILE = "index.html"
JSON_FILE = "report.json"


@dataclass(frozen=True)
class Report:
    """A rendered report: the HTML page, the JSON document and the figures (with any drawing errors)."""

    html: str
    data: dict[str, Any]
    figures: tuple[Figure, ...]

    def json_text(self) -> str:
        """report.json's text: strict JSON (no NaN), indented, UTF-8."""
        return json.dumps(self.data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def write(self, folder: str | Path) -> Path:
        """Write ``index.html`` and ``report.json`` into `folder` (see `moclab.report.folder`).

        Returns the path of the page.
        """
        folder = Path(folder)
        write_report_files(folder, {JSON_FILE: self.json_text(), HTML_FILE: self.html})
        return folder / HTML_FILE


def _load_study(evidence: StudyEvidence, show_progress: bool) -> tuple[Study | None, str | None]:
    """The study of the evidence, loaded again from its folder; or None and why not."""
    from moclab.study import load_study

    path = evidence.study.get("path")
    if not path:
        return (
            None,
            "The analysis does not say which study folder it came from, so the data are not summarised.",
        )
    try:
        return load_study(Path(path), show_progress=show_progress), None
    except MoclabError as error:
        return None, (
            f"The study could not be read again from {display_path(Path(path))} ({error.message}), so its "
            "data are not summarised here."
        )


def _overview(evidence: StudyEvidence, generated: datetime.datetime) -> dict[str, Any]:
    study, settings = evidence.study, evidence.settings
    pathways = evidence.pathways
    statuses = [verdict.status.value for pathway in pathways for verdict in pathway.verdicts]
    counts = ", ".join(
        f"{statuses.count(status)} {status}"
        for status in ("met", "partly met", "not met", "not testable")
        if statuses.count(status)
    )
    waves = study.get("waves") or []
    model = study.get("model") or {}
    clusters = study.get("n_clusters")
    sentence = (
        f"{len(pathways)} pathway(s) judged on the seven criteria for a mechanism, in "
        f"{study.get('n_recipients')} {study.get('unit') or 'recipient'}s"
        + (f" in {clusters} {study.get('cluster') or 'site'}s" if clusters else "")
        + f" over {len(waves)} wave(s): {len(statuses)} verdicts, {counts}."
    )
    randomization = study.get("randomization") or {}
    level = randomization.get("level")
    facts = [
        ("study folder", str(study.get("path") or "")),
        ("pathway model", str(model.get("title") or model.get("id") or "none")),
        (
            "design",
            f"randomized by {level} ({', '.join(randomization.get('arms') or [])}; control "
            f"{randomization.get('control')})"
            if level not in (None, "none")
            else "observational (nothing randomized)",
        ),
        (
            "waves",
            ", ".join(
                f"{wave['id']}" + (f" (month {wave['month']:g})" if wave.get("month") is not None else "")
                for wave in waves
            ),
        ),
        (
            "inference",
            f"{settings.level:.0%} intervals ({settings.ci}), {settings.n_boot:,} resamples, "
            f"seed {settings.seed}",
        ),
        ("analysis time", f"{evidence.elapsed:.1f} s"),
        ("written", generated.strftime("%Y-%m-%d %H:%M")),
    ]
    return {"sentence": sentence, "facts": facts}


def _joint_rows(evidence: StudyEvidence) -> list[dict[str, Any]] | None:
    """The joint display (link × estimate × interviews) when the study brought coded interviews, else None."""
    from moclab.evidence import joint_display

    if not any(p.qualitative.status != "none" or p.qualitative.counts for p in evidence.pathways):
        return None
    return joint_display(evidence).to_dict(orient="records")


def _toc(pathways: list[dict[str, Any]], joint: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": "summary",
            "label": "Summary",
            "children": [
                {"id": "scorecard", "label": "Scorecard"},
                {"id": "conclusions", "label": "Conclusions"},
            ],
        },
        {"id": "model", "label": "Pathway model", "children": []},
        *([{"id": "joint-display", "label": "Interviews and estimates", "children": []}] if joint else []),
        {
            "id": "pathways",
            "label": "Pathways",
            "children": [{"id": p["anchor"], "label": p["label"]} for p in pathways],
        },
        {"id": "data", "label": "The data", "children": []},
        {"id": "flow", "label": "Participant flow", "children": []},
        {
            "id": "exclusions",
            "label": "Exclusions and assumptions",
            "children": [],
        },
        {"id": "methods", "label": "Methods", "children": []},
        {"id": "references", "label": "References", "children": []},
    ]


def build_report(
    evidence: StudyEvidence,
    study: Study | None = None,
    *,
    show_progress: bool = True,
    generated: datetime.datetime | None = None,
) -> Report:
    """Render the report of an evidence analysis (nothing is written; see `Report.write`).

    Parameters
    ----------
    evidence : StudyEvidence
        The result of `moclab.evidence.analyze`.
    study : Study, optional
        The study it analysed, for the pathway diagram and the data summary; loaded again from
        ``evidence.study["path"]`` when not given (when that fails, the report says so and leaves the data
        summary out).
    show_progress : bool
        A progress bar on stderr while the figures are drawn (shown when that takes over a second).
    generated : datetime, optional
        The time the report states it was written (default: now).

    Returns
    -------
    Report
    """
    from moclab.study.progress import DelayedProgress

    generated = generated or datetime.datetime.now().astimezone().replace(microsecond=0)
    maker = FigureMaker()
    plots = [pathway_plots(pathway) for pathway in evidence.pathways]
    total = 3 + sum(len(found) for found in plots)
    data_missing = None
    with DelayedProgress("writing the report", total=total, enabled=show_progress) as progress:
        progress.step("reading the study")
        if study is None:
            study, data_missing = _load_study(evidence, show_progress=False)
        summary = study.describe() if study is not None else None
        model = study.model if study is not None else None
        labels = {node.id: node.display_label for node in model.nodes} if model is not None else {}

        progress.step("drawing the pathway model")
        model_figure = maker.model_diagram(model, evidence) if model is not None else None

        taken: set[str] = set()
        anchors = {pathway.id: anchor("pathway", pathway.id, taken) for pathway in evidence.pathways}
        views, figures = [], [model_figure] if model_figure is not None else []
        for number, pathway in enumerate(evidence.pathways, start=1):
            drawn: dict[str, Figure] = {}
            for kind, name, caption, label in pathway_plots(pathway):
                progress.step(f"pathway {number}/{len(evidence.pathways)}: {kind}")
                drawn[name] = maker.pathway_figure(pathway, kind, name, caption, label)
            figures.extend(drawn.values())
            views.append(pathway_view(pathway, anchors[pathway.id], drawn, labels))

        progress.step("writing the page")
        methods = describe_methods(evidence)
        excluded = exclusions(evidence, study)
        joint = _joint_rows(evidence)
        assumptions = assumption_groups(evidence)
        study_info = evidence.study
        banner = (
            "Synthetic data: this study was simulated or made up as an example; it describes no real people, "
            "sites or engagements."
            if study_info.get("synthetic")
            else None
        )
        context = page_context(
            str(study_info.get("title") or "Study"),
            subtitle="Mechanism evidence report: which of the seven criteria for a mechanism the evidence "
            "meets",
            banner=banner,
            toc=_toc(views, joint is not None),
            generated=generated,
        )
        settings_text = yaml.safe_dump(
            evidence.settings.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
        )
        page = (
            environment()
            .get_template("report.html.j2")
            .render(
                overview=_overview(evidence, generated),
                scorecard=scorecard_view(evidence, anchors),
                model_figure=model_figure,
                pathways=views,
                joint=joint,
                data=data_summary_view(summary) if summary is not None else None,
                data_missing=data_missing,
                flow=flow_view(summary, evidence),
                exclusions=excluded,
                warnings=list(evidence.warnings),
                assumptions=assumptions,
                settings_text=settings_text,
                methods=methods.to_dict(),
                level=f"{evidence.settings.level:.0%}",
                **context,
            )
        )
    # The evidence engine calls the cluster column of its analysis frames "__cluster__", and the method texts
    # of the analyses repeat that name; the page uses the study's own word for its clusters.
    page = page.replace("__cluster__", html.escape(str(evidence.study.get("cluster") or "cluster")))
    data = {
        "format": REPORT_FORMAT,
        "generated": generated.isoformat(),
        **evidence.to_dict(),
        "data_summary": plain(summary.to_dict()) if summary is not None else None,
        "exclusions": plain(excluded),
        "assumptions": plain(assumptions),
        "methods": plain(methods.to_dict()),
        "figures": [figure.to_dict() for figure in figures],
    }
    return Report(page, data, tuple(figures))
