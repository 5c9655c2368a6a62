"""The experience pathway: the order in which interviewees tell the stages, aggregated over interviews.

Within each interview (a case, or a source in no case) every stage that was coded gets a narrative position:
where its first coded selection begins (``position="first"``, the default) or the median beginning of its
selections (``position="median"``, less sensitive to an early passing mention). Positions count through the
interview's sources in project order, so the second transcript of a case comes after the first. Sorting the
stages by position gives the interview's stage sequence; ties go to the earlier stage of the stage map.

Sequences are aggregated into a directed graph whose edge A → B has weight = the number of interviews in which
stage A precedes stage B. "Precedes" means:

``precedes="immediate"`` (default)
    B is the next stage the interviewee talks about after A (consecutive in the sequence). The graph then
    reads like the pathway figure of Metz et al. (2024): the usual routes from one stage to the next.
``precedes="anywhere"``
    A comes anywhere before B (every ordered pair of the sequence); the weights then say how consistently one
    stage is told before another.

Each interview counts at most once per edge. The graph is drawn left to right in stage order (Graphviz), edge
width by weight and labelled with the count; edges that run against the stage order are dashed.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import networkx as nx
import numpy as np
import pandas as pd

from moclab.errors import QualError
from moclab.plain import plain
from moclab.qual._common import (
    check_choice,
    coded_spans,
    frame_html,
    summary_report,
    unit_of_sources,
    unit_order,
)
from moclab.qual.project import Project
from moclab.qual.stages import StageMap, default_stage_map

PRECEDES = ("immediate", "anywhere")
POSITIONS = ("first", "median")
DRAW_FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


def narrative_sequences(
    project: Project,
    stages: StageMap | None = None,
    *,
    position: str = "first",
    by: str = "case",
    coders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The stages each interview talks about, in narrative order.

    Returns
    -------
    pandas.DataFrame
        One row per interview and stage mentioned: unit, stage, position (code points from the start of the
        interview's first source), step (1 for the stage told first, 2 for the next, ...), selections.
    """
    check_choice(position, POSITIONS, "position")
    stage_map = default_stage_map(project, stages)
    spans = coded_spans(project, by=by, coders=coders)
    spans = spans.assign(stage=spans["code"].map(stage_map.codes)).dropna(subset=["stage"])
    # a position that runs on through the interview's sources: earlier sources' lengths are added
    source_units = unit_of_sources(project, by)
    offset = np.zeros(len(project.sources), dtype=np.int64)
    running: dict[str, int] = {}
    for index, source in enumerate(project.sources):
        unit = source_units[source.guid]
        offset[index] = running.get(unit, 0)
        running[unit] = offset[index] + len(source.text) + 1
    spans = spans.assign(position=spans["start"].to_numpy() + offset[spans["source"].to_numpy()])
    grouped = spans.groupby(["unit", "stage"], sort=False)["position"]
    table = (grouped.min() if position == "first" else grouped.median()).rename("position").to_frame()
    table["selections"] = grouped.size()
    table = table.reset_index()
    table["rank"] = table["stage"].map(stage_map.rank)
    units = {unit: i for i, unit in enumerate(unit_order(project, by))}
    table["unit_order"] = table["unit"].map(units)
    table = table.sort_values(["unit_order", "position", "rank"], kind="stable")
    table["step"] = table.groupby("unit").cumcount() + 1
    return table[["unit", "stage", "position", "step", "selections"]].reset_index(drop=True)


def _pairs(sequences: pd.DataFrame, precedes: str) -> pd.DataFrame:
    """(unit, source stage, target stage) for every precedence relation, each once per interview."""
    if precedes == "immediate":
        following = sequences.groupby("unit", sort=False)["stage"].shift(-1)
        pairs = pd.DataFrame({"unit": sequences["unit"], "source": sequences["stage"], "target": following})
        pairs = pairs.dropna(subset=["target"])
    else:
        merged = sequences.merge(sequences, on="unit", suffixes=("_a", "_b"))
        merged = merged[merged["step_a"] < merged["step_b"]]
        pairs = pd.DataFrame(
            {"unit": merged["unit"], "source": merged["stage_a"], "target": merged["stage_b"]}
        )
    return pairs.drop_duplicates()


@dataclass(frozen=True, repr=False)
class ExperiencePathway:
    """The aggregated experience pathway: stage → stage edges weighted by the number of interviews.

    Attributes
    ----------
    graph : networkx.DiGraph
        Nodes are stage ids (attributes ``label``, ``order``, ``interviews``); edges carry ``weight`` (number
        of interviews), ``interviews`` (their names) and ``direction`` (``forward``, ``backward`` or ``same``
        column in the stage map).
    sequences : pandas.DataFrame
        The per-interview stage sequences (`narrative_sequences`).
    stage_map : StageMap
        The stages, in pathway order.
    precedes : str
        ``"immediate"`` or ``"anywhere"`` (see the module documentation).
    info : dict
        Interviews in all, interviews with at least one stage, the position rule.
    """

    graph: nx.DiGraph
    sequences: pd.DataFrame
    stage_map: StageMap
    precedes: str
    info: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per edge: source, target, weight, direction, interviews (names, comma separated)."""
        rows = [
            {
                "source": a,
                "target": b,
                "weight": data["weight"],
                "direction": data["direction"],
                "interviews": ", ".join(data["interviews"]),
            }
            for a, b, data in self.graph.edges(data=True)
        ]
        frame = pd.DataFrame(rows, columns=["source", "target", "weight", "direction", "interviews"])
        rank = self.stage_map.rank
        frame["_a"], frame["_b"] = frame["source"].map(rank), frame["target"].map(rank)
        return frame.sort_values(["weight", "_a", "_b"], ascending=[False, True, True]).drop(
            columns=["_a", "_b"]
        )

    def sequence_table(self) -> pd.DataFrame:
        """One row per interview: its stages in narrative order, joined by " → "."""
        labels = {stage.id: stage.label for stage in self.stage_map.stages}
        joined = self.sequences.groupby("unit", sort=False)["stage"].agg(
            lambda s: " → ".join(labels[x] for x in s)
        )
        return joined.rename("sequence").reset_index()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "precedes": self.precedes,
                "info": self.info,
                "stages": [{"id": node, **data} for node, data in self.graph.nodes(data=True)],
                "edges": self.to_frame().to_dict(orient="records"),
                "sequences": self.sequence_table().to_dict(orient="records"),
            }
        )

    def _heading(self) -> str:
        edges, stages = self.graph.number_of_edges(), len(self.stage_map.stages)
        told = self.info.get("with_stages")
        total = self.info.get("interviews")
        interviews = f"; {told} of {total} interviews tell at least one stage" if total is not None else ""
        return (
            f"Experience pathway ({self.precedes} precedence): {edges} edge{'s' if edges != 1 else ''} "
            f"among {stages} stage{'s' if stages != 1 else ''}{interviews}"
        )

    def summary(self) -> str:
        """Readable report: edges, stages and interviews, then the edges, heaviest first (weight = number
        of interviews)."""
        frame = self.to_frame().drop(columns="interviews")
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        return summary_report(self._heading(), frame)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"ExperiencePathway({len(self.stage_map.stages)} stages, {self.graph.number_of_edges()} edges, "
            f"{self.info.get('interviews', '?')} interviews, {self.precedes})"
        )

    def _repr_html_(self) -> str:
        return frame_html(f"Experience pathway ({self.precedes} precedence)", self.to_frame())

    def to_graphviz(self, min_weight: int = 1, show_unmentioned: bool = True) -> graphviz.Digraph:
        """The pathway figure: stages left to right by their order, edges as wide as their weight.

        Parameters
        ----------
        min_weight : int
            Leave out edges supported by fewer interviews.
        show_unmentioned : bool
            Draw stages no interview mentions (grey, dashed), so the whole pathway stays visible.
        """
        figure = graphviz.Digraph("experience_pathway")
        figure.attr(rankdir="LR", nodesep="0.3", ranksep="0.9", fontname="Helvetica", newrank="true")
        figure.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="11")
        figure.attr("edge", fontname="Helvetica", fontsize="10", arrowsize="0.7")
        total = int(self.info.get("interviews", 0))
        columns: dict[int, list[str]] = {}
        for stage in self.stage_map.stages:
            count = self.graph.nodes[stage.id]["interviews"]
            if not count and not show_unmentioned:
                continue
            columns.setdefault(stage.order, []).append(stage.id)
            label = (
                f"{textwrap.fill(stage.label, 26)}\n{count} of {total} interview{'s' if total != 1 else ''}"
            )
            if count:
                figure.node(stage.id, label, fillcolor="#dce6f2", color="#4a6fa5")
            else:
                figure.node(
                    stage.id,
                    label,
                    fillcolor="#f4f4f4",
                    color="#aaaaaa",
                    fontcolor="#888888",
                    style="rounded,dashed,filled",
                )
        for members in columns.values():
            with figure.subgraph() as column:
                column.attr(rank="same")
                for member in members:
                    column.node(member)
        ordered_columns = [columns[key] for key in sorted(columns)]
        for left, right in itertools.pairwise(ordered_columns):
            figure.edge(left[0], right[0], style="invis")  # keeps the columns in stage order, edges or not
        heaviest = max((d["weight"] for _, _, d in self.graph.edges(data=True)), default=1)
        for a, b, data in self.graph.edges(data=True):
            weight = data["weight"]
            if weight < min_weight or a not in self.graph or b not in self.graph:
                continue
            if not any(a in m for m in columns.values()) or not any(b in m for m in columns.values()):
                continue
            style = {"forward": "solid", "same": "dotted", "backward": "dashed"}[data["direction"]]
            figure.edge(
                a,
                b,
                label=str(weight),
                penwidth=f"{1 + 5 * weight / heaviest:.2f}",
                style=style,
                color="#33475b" if data["direction"] == "forward" else "#8c8c8c",
                constraint="true" if data["direction"] == "forward" else "false",
            )
        return figure

    def to_dot(self, min_weight: int = 1, show_unmentioned: bool = True) -> str:
        """The figure as DOT text (for Graphviz or any DOT viewer)."""
        return self.to_graphviz(min_weight, show_unmentioned).source

    def draw(self, path: str | Path, min_weight: int = 1, show_unmentioned: bool = True) -> Path:
        """Write the figure to `path`: ``.svg``, ``.png`` or ``.dot``/``.gv`` by suffix.

        An existing file is replaced only if it is a drawing of the same format (never a user's other file).
        """
        from moclab.model.export.files import write_output
        from moclab.model.export.render import pipe_graphviz

        path = Path(path)
        kind = DRAW_FORMATS.get(path.suffix.lower())
        if kind is None:
            raise QualError(
                f"cannot tell the drawing format from '{path.name}'",
                hint=f"end it with {', '.join(DRAW_FORMATS)}",
            )
        figure = self.to_graphviz(min_weight, show_unmentioned)
        if kind == "dot":
            return write_output(path, figure.source, kind)
        content = pipe_graphviz(figure, kind, what="the pathway", error=QualError)
        return write_output(path, content, kind)


def experience_pathway(
    project: Project,
    stages: StageMap | None = None,
    *,
    precedes: str = "immediate",
    position: str = "first",
    by: str = "case",
    coders: Sequence[str] | None = None,
) -> ExperiencePathway:
    """Aggregate the narrative order of stages over interviews into a directed, weighted graph.

    Parameters
    ----------
    project : Project
        The coded interviews.
    stages : StageMap, optional
        Code → stage map; by default the recipients' experience pathway (`StageMap.recipient_pathway`).
    precedes : {"immediate", "anywhere"}
        Edge A → B counts interviews where B directly follows A, or where A comes anywhere before B.
    position : {"first", "median"}
        A stage's place in an interview: its first coded selection, or the median start of its selections.
    by : {"case", "source"}
        What one interview is.
    coders : sequence of str, optional
        Use only these coders' codings.

    Returns
    -------
    ExperiencePathway

    References
    ----------
    Metz AJ, et al. (2024). How the experiences of implementation support recipients contribute to
    implementation outcomes. Front Health Serv 4:1323807 (narrative and episode profile analysis; Figure 1).
    """
    check_choice(precedes, PRECEDES, "precedence")
    stage_map = default_stage_map(project, stages)
    sequences = narrative_sequences(project, stage_map, position=position, by=by, coders=coders)
    pairs = _pairs(sequences, precedes)
    order = {stage.id: stage.order for stage in stage_map.stages}
    graph = nx.DiGraph(precedes=precedes, position=position)
    mentioned = sequences.groupby("stage")["unit"].nunique()
    for stage in stage_map.stages:
        graph.add_node(
            stage.id, label=stage.label, order=stage.order, interviews=int(mentioned.get(stage.id, 0))
        )
    for (a, b), group in pairs.groupby(["source", "target"], sort=False):
        step = order[b] - order[a]
        direction = "forward" if step > 0 else ("same" if step == 0 else "backward")
        graph.add_edge(a, b, weight=len(group), interviews=list(group["unit"]), direction=direction)
    n_interviews = len(unit_order(project, by))
    info = {"interviews": n_interviews, "with_stages": int(sequences["unit"].nunique()), "position": position}
    return ExperiencePathway(graph, sequences, stage_map, precedes, info)
