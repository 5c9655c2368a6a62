"""The evidence map as files: an offline HTML page, map.json and the records as CSV.

The page follows moclab's report pages (`moclab.report.page`): it extends ``base.html.j2`` with the shared
stylesheet, runs no script and loads nothing from the network (the Content-Security-Policy forbids both).
The filters (strategy, outcome, setting, level) are radio buttons that CSS reads with ``:has()``, so they
work without a script:

* every element that stands for records (a mechanism's row, its section, a study's row, the marks counted
  in a cell) carries in ``data-f`` one token per combination of filter values its records match, a value
  or ``x`` (any) per filter: a record of strategy 0, outcome 1, setting 2 and level 0 has the tokens
  ``0.1.2.0``, ``x.1.2.0``, ..., ``x.x.x.0``. An element standing for several records holds the tokens of
  all of them, since it is shown when any of them matches;
* while a filter is chosen, every such element is hidden, and one rule per token shows the elements that
  hold the token of the chosen combination (the rules are written only for the combinations some record
  has: a combination no record has shows nothing, as it should);
* a cell of the matrix holds one empty mark per study that met the criterion and one per study that judged
  it; CSS counters count the marks left displayed, so "met in n of m studies" follows the filters exactly,
  with the same numbers `EvidenceMap.matrix(**filters)` gives.

Figures (the forest plots) are drawn by the meta engine's own ``plot`` and inlined as SVG, as in the report.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from moclab.errors import MoclabError, display_path, require
from moclab.evidence.records import records_frame
from moclab.evidence.verdicts import CRITERIA, Status
from moclab.mapping.build import ACROSS, COLUMNS, FILTERS, EvidenceMap, MapEntry
from moclab.mapping.consistency import PathwayConsistency
from moclab.outputs import mark_folder, marked_by
from moclab.plain import plain

__all__ = ["CSV_FILE", "HTML_FILE", "JSON_FILE", "MAP_FILES", "render_map", "write_map"]

HTML_FILE = "index.html"
JSON_FILE = "map.json"
CSV_FILE = "records.csv"
#: The files a map folder holds besides its marker; only these (and the marker) are ever replaced.
MAP_FILES = (HTML_FILE, JSON_FILE, CSV_FILE)

_STATUS_CSS = {
    Status.MET: "met",
    Status.PARTLY_MET: "partly-met",
    Status.NOT_MET: "not-met",
    Status.NOT_TESTABLE: "not-testable",
}
_GRADE_CSS = {
    "established": "grade-established",
    "supported under stated assumptions": "grade-supported",
    "suggestive": "grade-suggestive",
    "not supported": "grade-not-supported",
    "not testable": "grade-not-testable",
}
_FILTER_NAMES = {"strategy": "Strategy", "outcome": "Outcome", "setting": "Setting", "level": "Level"}
_SVG_NAMESPACES = re.compile(r'\s+xmlns(?::xlink)?="http://www\.w3\.org/[^"]*"')


def _environment() -> Any:
    """The report's jinja2 environment, reading this package's templates first (then the report's)."""
    from moclab.report import environment

    jinja2 = require("jinja2", "report", "the evidence map")
    base = environment()
    return base.overlay(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader("moclab.mapping", "templates"), base.loader])
    )


@lru_cache(maxsize=1)
def _map_css() -> str:
    return resources.files("moclab.mapping").joinpath("templates", "map.css").read_text(encoding="utf-8")


def _status_item(status: Status | None) -> dict[str, str]:
    if status is None:
        return {"css": "not-reported", "mark": "–", "status": "not reported"}
    return {"css": _STATUS_CSS[status], "mark": status.symbol, "status": status.value}


# --------------------------------------------------------------------------------------------------------
# Filters: tokens and rules
# --------------------------------------------------------------------------------------------------------


class _Filters:
    """The filter values of a map as indices, each record's tokens, and the CSS rules that read them."""

    def __init__(self, evidence_map: EvidenceMap) -> None:
        self.values = evidence_map.filter_values()
        self.index = {
            dimension: {item["value"]: position for position, item in enumerate(items)}
            for dimension, items in self.values.items()
        }
        self.seen: set[str] = set()

    def tokens(self, entries: Sequence[MapEntry]) -> str:
        found: dict[str, None] = {}
        for entry in entries:
            own = [str(self.index[d][entry.value(d)]) for d in FILTERS]
            for mask in itertools.product((True, False), repeat=len(FILTERS)):
                if not any(mask):
                    continue
                token = ".".join(value if keep else "x" for value, keep in zip(own, mask, strict=True))
                found[token] = None
        self.seen.update(found)
        return " ".join(found)

    def rules(self) -> str:
        """While a filter is chosen: hide everything a filter can hide and say that nothing matches; then, per
        token some record has, show what holds it and take the "nothing matches" back."""
        chosen = "body:has(.map-filters input.filter-value:checked)"
        lines = [f"{chosen} [data-f] {{ display: none; }}", f"{chosen} .no-match {{ display: block; }}"]
        for token in sorted(self.seen):
            parts = token.split(".")
            condition = "".join(
                f":has(#f-{dimension}-{'all' if part == 'x' else part}:checked)"
                for dimension, part in zip(FILTERS, parts, strict=True)
            )
            lines.append(f'body{condition} [data-f~="{token}"] {{ display: revert; }}')
            lines.append(f"body{condition} .no-match {{ display: none; }}")
        return "\n".join(lines)

    def view(self) -> list[dict[str, Any]]:
        return [
            {
                "dimension": dimension,
                "name": _FILTER_NAMES[dimension],
                "options": [
                    {"id": f"f-{dimension}-{position}", "label": item["label"], "records": item["records"]}
                    for position, item in enumerate(self.values[dimension])
                ],
            }
            for dimension in FILTERS
        ]


# --------------------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------------------


def _anchor(prefix: str, text: str, taken: set[str]) -> str:
    from moclab.report.content import anchor

    return anchor(prefix, text, taken)


def _matrix_view(
    evidence_map: EvidenceMap, filters: _Filters, anchors: Mapping[str, str]
) -> list[dict[str, Any]]:
    counts = evidence_map.matrix()
    rows = []
    for mechanism in evidence_map.mechanisms:
        entries = [e for e in evidence_map.entries if any(m.key == mechanism.key for m in e.mechanisms)]
        cells = []
        for column, name in COLUMNS:
            met, judged = [], []
            for study in dict.fromkeys(e.study for e in entries):
                own = [e for e in entries if e.study == study]
                statuses = [(e, evidence_map.status(e, column)) for e in own]
                met_entries = [e for e, s in statuses if s is Status.MET]
                judged_entries = [
                    e for e, s in statuses if s in (Status.MET, Status.PARTLY_MET, Status.NOT_MET)
                ]
                if met_entries:
                    met.append(filters.tokens(met_entries))
                if judged_entries:
                    judged.append(filters.tokens(judged_entries))
            cell = counts[mechanism.key][column]
            cells.append({"column": column, "name": name, "met": met, "judged": judged, "counts": cell})
        rows.append(
            {
                "key": mechanism.key,
                "label": mechanism.label,
                "refs": mechanism.refs,
                "anchor": anchors[mechanism.key],
                "tokens": filters.tokens(entries),
                "studies": len({e.study for e in entries}),
                "study_tokens": [
                    filters.tokens([e for e in entries if e.study == study])
                    for study in dict.fromkeys(e.study for e in entries)
                ],
                "cells": cells,
            }
        )
    return rows


def _design_text(entry: MapEntry) -> str:
    design = entry.record.design
    parts = [design.get("type") or "design not stated"]
    n = design.get("n") or {}
    if n.get("recipients"):
        parts.append(
            f"n = {n['recipients']}" + (f" in {n['clusters']} clusters" if n.get("clusters") else "")
        )
    if design.get("waves"):
        parts.append(f"{design['waves']} wave{'s' if design['waves'] != 1 else ''}")
    return ", ".join(parts)


def _mechanism_views(
    evidence_map: EvidenceMap,
    filters: _Filters,
    anchors: Mapping[str, str],
    pathway_anchors: Mapping[tuple, str],
) -> list[dict[str, Any]]:
    views = []
    for mechanism in evidence_map.mechanisms:
        entries = [e for e in evidence_map.entries if any(m.key == mechanism.key for m in e.mechanisms)]
        rows = []
        for entry in sorted(
            entries, key=lambda e: (e.record.title.casefold(), e.strategy.label, e.outcome.label)
        ):
            record = entry.record
            rows.append(
                {
                    "record": record.id,
                    "title": record.title,
                    "synthetic": record.synthetic,
                    "illustrative": record.illustrative,
                    "origin": record.origin,
                    "strategy": entry.strategy.label,
                    "chain": " → ".join(m.label for m in entry.mechanisms),
                    "outcome": entry.outcome.label,
                    "setting": record.setting or "not stated",
                    "design": _design_text(entry),
                    "statuses": [_status_item(evidence_map.status(entry, column)) for column, _ in COLUMNS],
                    "reasons": [
                        (
                            evidence_map.across(entry).reason
                            if column == ACROSS
                            else (record.verdict(column) or {}).get("reason")
                        )
                        or ""
                        for column, _ in COLUMNS
                    ],
                    "grade": record.grade,
                    "grade_css": _GRADE_CSS.get(record.grade or "", ""),
                    "tokens": filters.tokens([entry]),
                    "pathway_anchor": pathway_anchors[entry.pathway_key],
                }
            )
        views.append(
            {
                "key": mechanism.key,
                "label": mechanism.label,
                "anchor": anchors[mechanism.key],
                "refs": mechanism.refs,
                "ids": mechanism.ids,
                "levels": mechanism.levels,
                "tokens": filters.tokens(entries),
                "strategies": len({e.strategy.key for e in entries}),
                "rows": rows,
            }
        )
    return views


def _consistency_views(
    evidence_map: EvidenceMap, pathway_anchors: Mapping[tuple, str]
) -> list[dict[str, Any]]:
    from moclab.report.figures import FigureMaker
    from moclab.report.svg import axes_svg

    maker = FigureMaker()
    views = []
    for item in evidence_map.consistency:
        figure = None
        if item.meta is not None:
            meta = item.meta
            figure = maker.make(
                "forest-plot",
                f"Forest plot of the {item.scale} indirect effects of {item.label} (squares sized by their "
                "random-effects weight, lines their intervals); the diamond is the pooled estimate with its "
                "interval and the line through it the prediction interval for a new study.",
                f"Forest plot across studies: {item.label}",
                lambda meta=meta: axes_svg(meta.plot),
            )
        views.append(_consistency_view(item, figure, pathway_anchors[item.key]))
    return views


def _consistency_view(item: PathwayConsistency, figure: Any, anchor: str) -> dict[str, Any]:
    meta = item.meta
    numbers = None
    if meta is not None:
        pooled = meta.pooled
        numbers = {
            "k": meta.k,
            "estimate": pooled.estimate,
            "low": pooled.ci_low,
            "high": pooled.ci_high,
            "p": pooled.p,
            "method": meta.info.get("method"),
            "tau2": meta.tau2,
            "tau2_low": meta.tau2_ci[0],
            "tau2_high": meta.tau2_ci[1],
            "i2": meta.i2,
            "q": meta.q,
            "q_df": meta.q_df,
            "q_p": meta.q_p,
            "prediction": meta.prediction,
            "warnings": list(meta.warnings),
        }
    return {
        "anchor": anchor,
        "label": item.label,
        "scale": item.scale,
        "verdict": {**_status_item(item.verdict.status), "reason": item.verdict.reason},
        "effects": [
            {"title": e.record.title, "estimate": e.estimate, "se": e.se, "how": e.how} for e in item.effects
        ],
        "refused": [{"title": record.title, "reason": reason} for record, reason in item.refused],
        "numbers": numbers,
        "figure": figure,
        "moderators": [test.to_dict() for test in item.moderators],
    }


def _gaps_view(evidence_map: EvidenceMap) -> dict[str, Any]:
    gaps = evidence_map.gaps()
    names = dict(COLUMNS)
    labels = {m.key: m.label for m in evidence_map.mechanisms}
    return {
        "never_met": [item["name"] for item in gaps["criteria_never_met"]],
        "never_judged": [item["name"] for item in gaps["criteria_never_judged"]],
        "by_mechanism": [
            (labels[key], [names[column] for column in columns])
            for key, columns in gaps["never_met_by_mechanism"].items()
        ],
        "untested": gaps["untested_links"],
    }


def _records_view(evidence_map: EvidenceMap) -> list[dict[str, Any]]:
    rows = []
    for entry in evidence_map.entries:
        record = entry.record
        provenance = record.provenance
        if record.origin == "hand-entered":
            where = provenance.get("citation") or ""
            if provenance.get("doi"):
                where = (where + "; " if where else "") + f"doi:{provenance['doi']}"
        else:
            data_hash = provenance.get("data_hash")
            where = f"moclab {provenance.get('moclab_version')}" + (
                f", data {data_hash[:19]}…" if data_hash else ""
            )
        rows.append(
            {
                "record": record.id,
                "title": record.title,
                "pathway": record.pathway_id,
                "origin": record.origin,
                "where": where,
                "file": record.source,
            }
        )
    return rows


def _banner(evidence_map: EvidenceMap) -> str | None:
    studies = {entry.study: entry.record for entry in evidence_map.entries}
    synthetic = sum(r.synthetic for r in studies.values())
    illustrative = sum(r.illustrative for r in studies.values())
    if not synthetic and not illustrative:
        return None
    parts = []
    if synthetic:
        parts.append(f"{synthetic} of the {len(studies)} studies are synthetic (simulated or made up)")
    if illustrative:
        verb = "is an illustrative record" if illustrative == 1 else "are illustrative records"
        parts.append(f"{illustrative} {verb}")
    return "Synthetic data: " + " and ".join(parts) + "; they describe no real people, sites or studies."


def render_map(evidence_map: EvidenceMap, *, generated: datetime.datetime | None = None) -> str:
    """The HTML page of an evidence map (self-contained, offline, no script); nothing is written.

    Raises `moclab.errors.MissingExtraError` when jinja2 (the ``report`` extra) is not installed.
    """
    from moclab.report.page import page_context, stylesheet

    generated = generated or datetime.datetime.now().astimezone().replace(microsecond=0)
    env = _environment()
    filters = _Filters(evidence_map)
    taken: set[str] = set()
    anchors = {m.key: _anchor("mechanism", m.label, taken) for m in evidence_map.mechanisms}
    pathway_anchors = {item.key: _anchor("pathway", item.label, taken) for item in evidence_map.consistency}
    matrix = _matrix_view(evidence_map, filters, anchors)
    mechanisms = _mechanism_views(evidence_map, filters, anchors, pathway_anchors)
    consistency = _consistency_views(evidence_map, pathway_anchors)
    summary = evidence_map.counts()
    toc = [
        {"id": "summary", "label": "Summary", "children": []},
        {"id": "matrix", "label": "Mechanisms × criteria", "children": []},
        {
            "id": "mechanisms",
            "label": "Studies by mechanism",
            "children": [{"id": m["anchor"], "label": m["label"]} for m in mechanisms],
        },
        {
            "id": "consistency",
            "label": "Consistency across studies",
            "children": [{"id": c["anchor"], "label": c["label"]} for c in consistency],
        },
        {"id": "gaps", "label": "Gaps", "children": []},
        {"id": "sources", "label": "Records and duplicates", "children": []},
        {"id": "method", "label": "How the map is made", "children": []},
    ]
    context = page_context(
        "Evidence map of implementation mechanisms",
        subtitle=(
            f"{summary['records']} evidence record(s) of {summary['studies']} stud(ies): which of the seven "
            "criteria for a mechanism each mechanism meets, and whether its effects replicate"
        ),
        banner=_banner(evidence_map),
        toc=toc,
        generated=generated,
        footer_note="The filters are CSS: they need a browser that supports :has() (2023 or later).",
    )
    css = (
        stylesheet()
        + "\n"
        + _map_css()
        + "\n/* the filters: one rule per combination of values a record has */\n"
    )
    context["css"] = require("markupsafe", "report", "the evidence map").Markup(css + filters.rules())
    page = env.get_template("map.html.j2").render(
        counts=summary,
        folders=list(evidence_map.folders),
        filters=filters.view(),
        columns=[{"id": column, "name": name} for column, name in COLUMNS],
        criteria=CRITERIA,
        matrix=matrix,
        mechanisms=mechanisms,
        consistency=consistency,
        gaps=_gaps_view(evidence_map),
        duplicates=[d.to_dict() for d in evidence_map.duplicates],
        skipped=[{"file": name, "why": why} for name, why in evidence_map.skipped],
        records=_records_view(evidence_map),
        level=f"{evidence_map.level:.0%}",
        legend=[_status_item(status) for status in Status] + [_status_item(None)],
        **context,
    )
    # Inline SVG needs no namespace declarations in HTML; without them the page names no address at all.
    return _SVG_NAMESPACES.sub("", page)


def write_map(
    evidence_map: EvidenceMap, folder: str | Path, *, generated: datetime.datetime | None = None
) -> Path:
    """Write ``index.html``, ``map.json`` and ``records.csv`` into `folder`; return the page's path.

    The folder must be new, empty or an earlier output of a moclab command (its files of these names are
    replaced through temporary files; other files are left alone). The command line adds the rules of
    docs/cli.md (``--force``).

    Raises
    ------
    MoclabError
        When the folder holds files moclab did not write, or cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from moclab.mapping import build_map, example_path
    >>> page = write_map(build_map([example_path()]), Path(tempfile.mkdtemp()) / "map")
    >>> sorted(path.name for path in page.parent.iterdir())
    ['.moclab-output', 'index.html', 'map.json', 'records.csv']
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise MoclabError(
            f"{display_path(folder)}: exists and is not a folder", hint="choose a folder with -o"
        )
    if folder.is_dir() and marked_by(folder) is None and any(folder.iterdir()):
        raise MoclabError(
            f"{display_path(folder)}: the folder holds files moclab did not write; refusing to write the map "
            "there",
            hint="choose a new or empty folder with -o",
        )
    page = render_map(evidence_map, generated=generated)
    data = json.dumps(plain(evidence_map.to_dict()), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    table = records_frame(evidence_map.records).to_csv(index=False)
    if marked_by(folder) is None:
        mark_folder(folder, "map")
    try:
        for name, text in ((JSON_FILE, data), (CSV_FILE, table), (HTML_FILE, page)):
            temporary = folder / f".{name}.partial"
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(folder / name)
    except OSError as error:
        raise MoclabError(
            f"{display_path(folder)}: the map could not be written ({error.strerror or error})",
            hint="check that the folder is writable and the disk is not full",
        ) from None
    return folder / HTML_FILE
