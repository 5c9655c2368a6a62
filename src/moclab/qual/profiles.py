"""Episode profiles: one summary per interview of what the recipient said at each stage of the pathway.

Metz et al. (2024) built an episode profile for each of 13 interviews (the recipient's experience of
implementation support, stage by stage, with the quotes that show it) and then read the profiles side by side
to find the pathway. `episode_profiles` does the bookkeeping part of that: for every interview (a case, or a
source in no case) it lists, stage by stage (a `StageMap`, by default the recipients' experience pathway), the
codes applied and their quotes in the order they were said, the case's attributes and the memos written on its
sources; `EpisodeProfiles.aggregate` puts the interviews side by side. Both render to a self-contained HTML
page (jinja2, every value escaped) and to Markdown; rendering needs jinja2 (the ``qual`` extra).

Reference: Metz AJ, Jensen TM, Afkinich JL, Disbennett ME, Farley AB (2024). How the experiences of
implementation support recipients contribute to implementation outcomes. Front Health Serv 4:1323807.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from moclab.errors import require
from moclab.plain import plain
from moclab.qual._common import (
    check_choice,
    coded_spans,
    frame_html,
    short_code_names,
    summary_report,
    unit_of_sources,
    unit_order,
)
from moclab.qual.project import Project
from moclab.qual.stages import StageMap, default_stage_map

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True)
class Quote:
    """One coded passage: the code, the words, where they are (source, code points) and who coded them."""

    code: str
    text: str
    source: str
    start: int
    end: int
    coder: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Passage:
    """One coded passage as a reader sees it: the words, where they are, the code, and every coder who coded
    exactly these words with it (two coders who agree make one passage, not two quotes)."""

    code: str
    text: str
    source: str
    start: int
    end: int
    coders: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageEpisode:
    """What one interview holds for one stage: codes with their quotes, in narrative order."""

    stage: str
    label: str
    quotes: tuple[Quote, ...]

    @property
    def mentioned(self) -> bool:
        return bool(self.quotes)

    @property
    def passages(self) -> tuple[Passage, ...]:
        """The quotes with the same code on the same words merged, in narrative order, naming their coders."""
        merged: dict[tuple[str, str, int, int], tuple[Quote, list[str], list[str]]] = {}
        for quote in self.quotes:
            key = (quote.code, quote.source, quote.start, quote.end)
            _, coders, notes = merged.setdefault(key, (quote, [], []))
            if quote.coder is not None and quote.coder not in coders:
                coders.append(quote.coder)
            notes.extend(note for note in quote.notes if note not in notes)
        return tuple(
            Passage(q.code, q.text, q.source, q.start, q.end, tuple(coders), tuple(notes))
            for q, coders, notes in merged.values()
        )

    @property
    def codes(self) -> dict[str, int]:
        """Code path → number of passages (`passages`), in order of first mention."""
        counts: dict[str, int] = {}
        for passage in self.passages:
            counts[passage.code] = counts.get(passage.code, 0) + 1
        return counts


@dataclass(frozen=True)
class EpisodeProfile:
    """The profile of one interview: its attributes, memos, one episode per stage, and other codes."""

    unit: str
    sources: tuple[str, ...]
    attributes: dict[str, object]
    memos: tuple[str, ...]
    episodes: tuple[StageEpisode, ...]
    other_codes: dict[str, int]

    @property
    def stages_mentioned(self) -> list[str]:
        return [episode.stage for episode in self.episodes if episode.mentioned]


@dataclass(frozen=True, repr=False)
class EpisodeProfiles:
    """Episode profiles of every interview of a project, with the stage map they follow."""

    project: str
    profiles: tuple[EpisodeProfile, ...]
    stage_map: StageMap
    info: dict[str, Any] = field(default_factory=dict)

    def profile(self, unit: str) -> EpisodeProfile:
        for profile in self.profiles:
            if profile.unit == unit:
                return profile
        raise KeyError(f"no profile '{unit}'; profiles: {', '.join(p.unit for p in self.profiles)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per quote: unit, stage, stage_label, code, quote, source, start, end, coder."""
        rows = [
            {
                "unit": profile.unit,
                "stage": episode.stage,
                "stage_label": episode.label,
                "code": quote.code,
                "quote": quote.text,
                "source": quote.source,
                "start": quote.start,
                "end": quote.end,
                "coder": quote.coder,
            }
            for profile in self.profiles
            for episode in profile.episodes
            for quote in episode.quotes
        ]
        columns = ["unit", "stage", "stage_label", "code", "quote", "source", "start", "end", "coder"]
        return pd.DataFrame(rows, columns=columns)

    def aggregate(self, attribute: str | None = None) -> pd.DataFrame:
        """The profiles side by side: per stage, how many interviews mention it, which, and its codes.

        Columns: stage, label, interviews (that mention the stage), of (interviews in all), quotes (distinct
        coded passages: words several coders coded alike count once), mentioned_by, codes (each code with
        ``interviews/passages``) and, with `attribute`, ``attribute=level`` (``mentioned/interviews``).

        Parameters
        ----------
        attribute : str, optional
            A case attribute (e.g. ``"engagement"``); adds one column per level with the number of interviews
            of that level that mention the stage, out of the interviews of that level.
        """
        rows = []
        for position, stage in enumerate(self.stage_map.stages):
            episodes = [(p, p.episodes[position]) for p in self.profiles]
            mentioning = [p.unit for p, e in episodes if e.mentioned]
            code_units: dict[str, int] = {}
            code_quotes: dict[str, int] = {}
            for _, episode in episodes:
                for code, count in episode.codes.items():
                    code_units[code] = code_units.get(code, 0) + 1
                    code_quotes[code] = code_quotes.get(code, 0) + count
            row: dict[str, Any] = {
                "stage": stage.id,
                "label": stage.label,
                "interviews": len(mentioning),
                "of": len(self.profiles),
                "quotes": sum(code_quotes.values()),
                "mentioned_by": ", ".join(mentioning),
                "codes": "; ".join(f"{code} ({code_units[code]}/{code_quotes[code]})" for code in code_units),
            }
            if attribute is not None:
                levels = sorted({str(p.attributes.get(attribute)) for p in self.profiles})
                for level in levels:
                    of_level = [p for p in self.profiles if str(p.attributes.get(attribute)) == level]
                    said = sum(1 for p in of_level if p.episodes[position].mentioned)
                    row[f"{attribute}={level}"] = f"{said}/{len(of_level)}"
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "project": self.project,
                "stage_map": self.stage_map.name,
                "stages": [stage.__dict__ for stage in self.stage_map.stages],
                "profiles": [
                    {
                        "unit": p.unit,
                        "sources": list(p.sources),
                        "attributes": {k: str(v) for k, v in p.attributes.items()},
                        "memos": list(p.memos),
                        "other_codes": p.other_codes,
                        "episodes": [
                            {"stage": e.stage, "quotes": [q.__dict__ for q in e.quotes]} for e in p.episodes
                        ],
                    }
                    for p in self.profiles
                ],
            }
        )

    def _heading(self) -> str:
        passages = sum(len(episode.passages) for profile in self.profiles for episode in profile.episodes)
        n, stages = len(self.profiles), len(self.stage_map.stages)
        return (
            f"Episode profiles of {n} interview{'s' if n != 1 else ''} in '{self.project}': {passages:,} "
            f"coded passage{'s' if passages != 1 else ''} over {stages} stage{'s' if stages != 1 else ''}"
        )

    def summary(self) -> str:
        """Readable report: interviews and quotes, then per stage the interviews that mention it and its
        passages (words several coders coded alike count once)."""
        aggregate = self.aggregate()
        table = pd.DataFrame(
            {
                "interviews": [f"{row.interviews} of {row.of}" for row in aggregate.itertuples()],
                "passages": aggregate["quotes"].to_numpy() if len(aggregate) else [],
            },
            index=pd.Index(aggregate["stage"] if len(aggregate) else [], name="stage"),
        )
        return summary_report(self._heading(), table)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        name = self.project if len(self.project) <= 60 else f"{self.project[:59]}…"
        return (
            f"EpisodeProfiles({name!r}, {len(self.profiles)} interviews, {len(self.stage_map.stages)} stages)"
        )

    def _repr_html_(self) -> str:
        return frame_html(f"Episode profiles of {len(self.profiles)} interviews", self.aggregate())

    def to_html(self, attribute: str | None = None) -> str:
        """A self-contained HTML page (inline style, no scripts, every value escaped)."""
        return _template("html").render(**self._context(attribute))

    def to_markdown(self, attribute: str | None = None) -> str:
        """The same content as Markdown (quotes as block quotes, Markdown characters escaped)."""
        return _template("markdown").render(**self._context(attribute))

    def write(self, folder: str | Path, attribute: str | None = None) -> list[Path]:
        """Write ``profiles.html`` and ``profiles.md`` into `folder` (created if missing)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in (
            ("profiles.html", self.to_html(attribute)),
            ("profiles.md", self.to_markdown(attribute)),
        ):
            path = folder / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written

    def _context(self, attribute: str | None) -> dict[str, Any]:
        """What the page templates show: the summary table with readable headers, and the profiles."""
        aggregate = self.aggregate(attribute)
        levels = [column for column in aggregate.columns if attribute and column.startswith(f"{attribute}=")]
        summary = []
        for position, row in enumerate(aggregate.to_dict(orient="records")):
            codes: dict[str, list[int]] = {}
            for profile in self.profiles:
                for code, count in profile.episodes[position].codes.items():
                    units_and_passages = codes.setdefault(code, [0, 0])
                    units_and_passages[0] += 1
                    units_and_passages[1] += count
            summary.append(
                {
                    "label": row["label"],
                    "interviews": row["interviews"],
                    "of": row["of"],
                    "passages": row["quotes"],
                    "levels": [str(row[column]).replace("/", " of ") for column in levels],
                    "codes": [(name, *codes[code]) for code, name in short_code_names(list(codes)).items()],
                    "mentioned_by": row["mentioned_by"],
                }
            )
        return {
            "project": self.project,
            "profiles": self.profiles,
            "stages": self.stage_map.stages,
            "citation": self.stage_map.citation,
            "summary": summary,
            "level_headers": [column.replace("=", ": ", 1) for column in levels],
        }


def _md(value: object) -> str:
    """Escape the characters Markdown would read as markup, and keep line breaks inside a block quote."""
    text = re.sub(r"([\\`*_\[\]<>#|!{}])", r"\\\1", str(value))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _md_quote(value: object) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in _md(value).split("\n"))


_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Episode profiles: {{ project }}</title>
<style>
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 60em;
  line-height: 1.45; color: #222; overflow-wrap: break-word; }
h1 { font-size: 1.5em; } h2 { border-bottom: 2px solid #4a6fa5; padding-bottom: .2em; margin-top: 2em; }
h3 { color: #4a6fa5; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border: 1px solid #ccc; padding: .25em .6em; vertical-align: top; text-align: left; }
thead th, table.attributes th { background: #eef2f8; }
.table-scroll { max-width: 100%; overflow-x: auto; }
table.summary { width: 100%; font-size: .92em; }
table.summary tbody th { font-weight: 600; min-width: 9em; }
table.summary .number { text-align: right; white-space: nowrap; }
table.summary ul { margin: 0; padding: 0; list-style: none; }
table.summary .count, .where { color: #555; font-size: .9em; }
table.summary .units { min-width: 6em; }
table.summary .codes { min-width: 12em; }
table.summary .count { white-space: nowrap; }
@media (max-width: 40em) {
  table.summary thead { display: none; }
  table.summary, table.summary tbody, table.summary tr, table.summary th, table.summary td { display: block; }
  table.summary tr { border: 1px solid #ccc; margin-bottom: .8em; }
  table.summary th, table.summary td, table.summary .number { border: none; text-align: left; min-width: 0; }
  table.summary tbody th { background: #eef2f8; }
  table.summary td::before { content: attr(data-label) ": "; color: #555; }
}
.legend { color: #555; font-size: .9em; }
blockquote { margin: .4em 0 .6em 1em; padding: .3em .8em; border-left: 4px solid #9db4d6;
  background: #f7f9fc; }
blockquote .where { display: block; margin-top: .2em; }
.missing { color: #777; font-style: italic; }
.memo { background: #fffbe6; border: 1px solid #f0e0a0; padding: .5em .8em; white-space: pre-wrap; }
@media print { .table-scroll { overflow: visible; } blockquote { break-inside: avoid; } }
</style>
</head>
<body>
<h1>Episode profiles: {{ project }}</h1>
{% if citation %}<p>Stages follow: {{ citation }}</p>{% endif %}
<h2>All interviews</h2>
<p class="legend">Per stage: the interviews that mention it, the coded passages (words several coders coded
alike count once), and per code the interviews and passages.</p>
<div class="table-scroll">
<table class="summary">
<thead><tr><th scope="col">Stage</th><th scope="col">Interviews</th><th scope="col">Passages</th>{%
  for header in level_headers %}<th scope="col">{{ header }}</th>{% endfor
%}<th scope="col">Codes</th><th scope="col">Mentioned by</th></tr></thead>
<tbody>
{% for row in summary %}<tr><th scope="row">{{ row.label }}</th>
<td class="number" data-label="Interviews">{{ row.interviews }} of {{ row.of }}</td>
<td class="number" data-label="Passages">{{ row.passages }}</td>{% for level in row.levels
  %}<td class="number" data-label="{{ level_headers[loop.index0] }}">{{ level }}</td>{% endfor %}
<td class="codes" data-label="Codes"><ul>{% for name, interviews, passages in row.codes
  %}<li>{{ name }} <span class="count">{{ interviews }}
interview{{ "s" if interviews != 1 }}, {{ passages }} passage{{ "s" if passages != 1 }}</span></li>{%
  endfor %}</ul></td>
<td class="units" data-label="Mentioned by">{{ row.mentioned_by or "none" }}</td></tr>
{% endfor %}</tbody>
</table>
</div>
{% for profile in profiles %}
<h2 id="profile-{{ loop.index }}">{{ profile.unit }}</h2>
<p>Sources: {{ profile.sources | join(", ") }}</p>
{% if profile.attributes %}<table class="attributes">
{% for name, value in profile.attributes.items()
  %}<tr><th scope="row">{{ name }}</th><td>{{ value }}</td></tr>
{% endfor %}</table>{% endif %}
{% for memo in profile.memos %}<div class="memo">{{ memo }}</div>
{% endfor %}
{% for episode in profile.episodes %}
<h3>{{ episode.label }}</h3>
{% if episode.quotes %}{% for passage in episode.passages %}<blockquote>{{ passage.text | trim }}
<span class="where">{{ passage.code }} · {{ passage.source }} {{ passage.start }}–{{ passage.end }}{%
  if passage.coders %} · coded by {{ passage.coders | join(" and ") }}{% endif %}</span>
{% for note in passage.notes %}<span class="where">Note: {{ note }}</span>{% endfor %}</blockquote>
{% endfor %}{% else %}<p class="missing">Not mentioned.</p>{% endif %}
{% endfor %}
{% if profile.other_codes %}<p>Other codes: {% for code, count in profile.other_codes.items()
  %}{{ code }} ({{ count }}){% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
{% endfor %}
</body>
</html>
"""

_MARKDOWN_TEMPLATE = """# Episode profiles: {{ project | md }}
{% if citation %}
Stages follow: {{ citation | md }}
{% endif %}
## All interviews

Per stage: the interviews that mention it, the coded passages (words several coders coded alike count once),
and per code the interviews and passages.

| Stage | Interviews | Passages | {% for header in level_headers %}{{ header | md }} | {% endfor
%}Codes (interviews, passages) | Mentioned by |
| --- | ---: | ---: | {% for header in level_headers %}---: | {% endfor %}--- | --- |
{% for row in summary %}| {{ row.label | md }} | {{ row.interviews }} of {{ row.of }} | {{ row.passages
  }} | {% for level in row.levels %}{{ level }} | {% endfor %}{% for name, interviews, passages in row.codes
  %}{{ name | md }} ({{ interviews }}, {{ passages }}){% if not loop.last %}; {% endif %}{% endfor
  %} | {{ (row.mentioned_by or "none") | md }} |
{% endfor %}
{% for profile in profiles %}
## {{ profile.unit | md }}

Sources: {{ profile.sources | join(", ") | md }}
{% for name, value in profile.attributes.items() %}
- {{ name | md }}: {{ value | md }}{% endfor %}
{% for memo in profile.memos %}
Memo:

{{ memo | mdquote }}
{% endfor %}
{% for episode in profile.episodes %}
### {{ episode.label | md }}
{% if episode.quotes %}{% for passage in episode.passages %}
{{ passage.text | trim | mdquote }}
>
> — {{ passage.code | md }}, {{ passage.source | md }} {{ passage.start }}–{{ passage.end }}{%
  if passage.coders %}, coded by {{ passage.coders | join(" and ") | md }}{% endif %}
{% for note in passage.notes %}>
> Note: {{ note | md }}
{% endfor %}{% endfor %}{% else %}
*Not mentioned.*
{% endif %}{% endfor %}
{% if profile.other_codes %}
Other codes: {% for code, count in profile.other_codes.items() %}{{ code | md }} ({{ count }}){%
  if not loop.last %}, {% endif %}{% endfor %}
{% endif %}{% endfor %}
"""


@functools.cache
def _template(kind: str) -> jinja2.Template:
    """The compiled page template, ``html`` (autoescaped) or ``markdown``."""
    jinja2 = require("jinja2", "qual", "episode profiles")
    environment = jinja2.Environment(
        autoescape=kind == "html", undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    environment.filters["md"] = _md
    environment.filters["mdquote"] = _md_quote
    return environment.from_string(_HTML_TEMPLATE if kind == "html" else _MARKDOWN_TEMPLATE)


def episode_profiles(
    project: Project,
    stages: StageMap | None = None,
    *,
    by: str = "case",
    coders: Sequence[str] | None = None,
) -> EpisodeProfiles:
    """An episode profile for every interview: stage by stage, the codes and quotes, attributes and memos.

    Parameters
    ----------
    project : Project
        The coded interviews.
    stages : StageMap, optional
        Which code belongs to which stage; by default `StageMap.recipient_pathway(project)`.
    by : {"case", "source"}
        One profile per case (a source in no case gets its own) or per source.
    coders : sequence of str, optional
        Use only these coders' codings.

    Returns
    -------
    EpisodeProfiles
        Quotes within a stage are in narrative order (source order within the case, then position).

    References
    ----------
    Metz AJ, et al. (2024). How the experiences of implementation support recipients contribute to
    implementation outcomes. Front Health Serv 4:1323807. doi:10.3389/frhs.2024.1323807
    """
    check_choice(by, ("case", "source"), "unit")
    stage_map = default_stage_map(project, stages)
    spans = coded_spans(project, by=by, coders=coders)
    spans = spans.assign(stage=spans["code"].map(stage_map.codes))
    notes = {note.guid: note.text for note in project.notes}
    selection_notes = {
        selection.guid: tuple(notes[g] for g in selection.note_refs if g in notes)
        for source in project.sources
        for selection in source.selections
    }
    source_units = unit_of_sources(project, by)
    cases = {case.name: case for case in project.cases} if by == "case" else {}
    profiles = []
    for unit in unit_order(project, by):
        sources = [s for s in project.sources if source_units[s.guid] == unit]
        case = cases.get(unit)
        attributes = dict(case.variables) if case is not None else {}
        for source in sources:
            for name, value in source.variables.items():
                attributes.setdefault(name, value)
        memos = tuple(notes[g] for source in sources for g in source.note_refs if g in notes)
        own = spans[spans["unit"] == unit]
        episodes = []
        for stage in stage_map.stages:
            rows = own[own["stage"] == stage.id]
            quotes = tuple(
                Quote(
                    code=row.code,
                    text=project.sources[row.source].text[row.start : row.end],
                    source=row.source_name,
                    start=int(row.start),
                    end=int(row.end),
                    coder=row.coder,
                    notes=selection_notes.get(row.selection, ()),
                )
                for row in rows.itertuples()
            )
            episodes.append(StageEpisode(stage.id, stage.label, quotes))
        other = own[own["stage"].isna()]["code"].value_counts(sort=False)
        profiles.append(
            EpisodeProfile(
                unit=unit,
                sources=tuple(s.name for s in sources),
                attributes=attributes,
                memos=memos,
                episodes=tuple(episodes),
                other_codes={str(k): int(v) for k, v in other.items()},
            )
        )
    return EpisodeProfiles(project.name, tuple(profiles), stage_map, {"unit": by, "coders": coders})
