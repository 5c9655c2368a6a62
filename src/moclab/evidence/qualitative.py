"""Coded interviews as evidence for the plausibility criterion: does the narrative tell mechanism → outcome?

Metz et al. (2024) found the recipients' experience pathway by reading, interview by interview, the order in
which recipients told their experience: trust and positive emotion first, then acceptability, then knowledge.
This module applies that reading to one pathway at a time. For a pathway strategy → mechanism → outcome it
counts the interviews in which

1. the codes of the mechanism and of the outcome both occur, and
2. the mechanism is told before the outcome: its narrative position
   (`moclab.qual.pathway.narrative_sequences`: where its first coded passage begins, or the median start of
   its passages, counted through the interview's sources in project order) comes first; a passage coded
   with both counts as the mechanism told first, the tie rule of the experience pathway.

With a chain of mechanisms every node of the chain must be told, in order. The verdict on the pathway:

``"supports"``
    at least ``min_interviews`` (default 2) interviews tell the mechanism before the outcome, and more of them
    than interviews marked as contradicting it;
``"contradicts"``
    only when the study names **contradiction codes** for a link of the pathway
    (``qualitative.contradictions``: codes analysts applied where an interviewee says the mechanism did not
    lead to the outcome) and at least ``min_interviews`` interviews carry one, as many as or more than tell
    the link. Telling the outcome before the mechanism is *not* a contradiction: people do not tell their
    stories in causal order, so without such codes the evidence never contradicts;
``"none"``
    otherwise, with the counts in the summary (too few interviews, or no code for a node).

Up to ``max_quotes`` (default 3) quotes are kept, one per supporting interview in interview order: the
mechanism passage told last before the outcome's first passage after the mechanism, and that outcome passage,
each shortened, joined by " […] ".

Which codes stand for which node: the nodes named in ``qualitative.codes`` get those codes (names, paths,
GUIDs or catalog references written in the codes' descriptions); the other nodes are matched by
`moclab.qual.stages.match_codes`, the matching of the experience pathway: a catalog reference in the
code's description that the node also has (``recipient-pathway:trust``), else the code's name equal to the
node's id or label, or to the name or an alias of a catalog entry the node refers to (compared in slug
form). Codes below a matched code count for its node.

References
----------
Metz AJ, Jensen TM, Afkinich JL, Disbennett ME, Farley AB (2024). How the experiences of implementation
support recipients contribute to implementation outcomes. Front Health Serv 4:1323807.

Fetters MD, Curry LA, Creswell JW (2013). Achieving integration in mixed methods designs: principles and
practices. Health Serv Res 48(6 Pt 2):2134-2156 (the joint display of `joint_display`).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from moclab.errors import MoclabError, Problem, QualError, ValidationError, did_you_mean, display_path
from moclab.evidence.verdicts import QualitativeEvidence, QualitativeQuote
from moclab.model import PathwayModel, ResolvedPathway
from moclab.study.qualitative_settings import QualitativeSettings, parse_link, project_path
from moclab.yamlio import load_yaml, locate, parse_model

if TYPE_CHECKING:
    from moclab.evidence.scorecard import StudyEvidence
    from moclab.qual import Project
    from moclab.study import Study

__all__ = [
    "CodedInterviewSupport",
    "joint_display",
    "qualitative_support_from_project",
    "qualitative_support_from_study",
]

#: Longest passage (characters) of a quote before it is shortened at a word boundary.
QUOTE_CHARACTERS = 150
_WHITESPACE = re.compile(r"\s+")

Where = Callable[..., dict[str, Any]]


@dataclass(frozen=True, eq=False)
class CodedInterviewSupport:
    """The qualitative evidence of a coded project about the pathways of a model; call it with a pathway.

    ``support(pathway)`` takes a `moclab.model.ResolvedPathway` (its outcome is then the first outcome after
    its mechanisms, as the scorecard analyses it) or a `moclab.evidence.PathwayPlan` (its analysed outcome)
    and returns a `QualitativeEvidence`; `evidence` takes the nodes directly.

    Attributes
    ----------
    source : str
        The project as reports name it (its file).
    settings : QualitativeSettings
        Thresholds and options (coders, unit, position).
    node_codes : Mapping[str, tuple[str, ...]]
        Model node → the code paths that stand for it (with the codes below them).
    steps : pandas.DataFrame
        Interview × node: the step at which the node is told (1 = first), NaN when it is not told.
    interviews : tuple of str
        Every interview of the project, in project order.
    """

    source: str
    settings: QualitativeSettings
    node_codes: Mapping[str, tuple[str, ...]]
    steps: pd.DataFrame
    interviews: tuple[str, ...]
    _spans: pd.DataFrame
    _texts: tuple[str, ...]
    _contradicting: Mapping[tuple[str, str], frozenset[str]]

    def __call__(self, pathway: Any) -> QualitativeEvidence:
        mechanisms, outcome = _chain_of(pathway)
        return self.evidence(mechanisms, outcome)

    def evidence(self, mechanisms: str | Sequence[str], outcome: str) -> QualitativeEvidence:
        """The qualitative evidence on mechanism(s) → outcome (see the module documentation for the rule).

        Parameters
        ----------
        mechanisms : str or sequence of str
            The mechanism node, or a chain of them in causal order.
        outcome : str
            The outcome node.
        """
        mechanisms = (mechanisms,) if isinstance(mechanisms, str) else tuple(mechanisms)
        chain = (*mechanisms, outcome)
        needed = self.settings.min_interviews
        told_in = " before ".join(chain)
        uncoded = [node for node in chain if node not in self.node_codes]
        steps = self.steps.reindex(columns=list(chain))
        told = steps.notna()
        both = told.all(axis=1)
        in_order = both & (np.diff(steps.to_numpy(dtype=float), axis=1) > 0).all(axis=1)
        in_order_units = set(steps.index[in_order])
        supporting = [unit for unit in self.interviews if unit in in_order_units]
        contradiction_codes = [pair for pair in self._contradicting if _within(pair, chain)]
        marked = set().union(*(self._contradicting[pair] for pair in contradiction_codes))
        contradicting = [unit for unit in self.interviews if unit in marked]
        counts = {
            "interviews": len(self.interviews),
            "mechanism": int(told[list(mechanisms)].all(axis=1).sum()),
            "outcome": int(told[outcome].sum()),
            "both": int(both.sum()),
            "mechanism_first": len(supporting),
            "other_order": int(both.sum()) - len(supporting),
            "contradicting": len(contradicting),
            "min_interviews": needed,
        }
        base = {"sources": (self.source,), "counts": counts}
        if uncoded:
            return QualitativeEvidence(
                "none",
                f"no code of {self.source} stands for {', '.join(uncoded)}, so the interviews cannot be read "
                "for this pathway (name its codes under qualitative.codes in moclab.yaml)",
                **base,
            )
        tally = (
            f"{len(supporting)} of {len(self.interviews)} interviews tell {told_in} "
            f"({'both' if len(chain) == 2 else 'all'} told in {counts['both']}, in another order in "
            f"{counts['other_order']}"
        )
        if contradiction_codes:
            tally += f"; {len(contradicting)} marked as contradicting it"
        tally += f"; {needed} needed)"
        if contradiction_codes and len(contradicting) >= needed and len(contradicting) >= len(supporting):
            return QualitativeEvidence(
                "contradicts",
                f"{len(contradicting)} of {len(self.interviews)} interviews say the link did not hold "
                f"({', '.join(contradicting)}), against {len(supporting)} telling {told_in}",
                interviews=tuple(contradicting),
                **base,
            )
        if len(supporting) >= needed and len(supporting) > len(contradicting):
            quotes = [self._quote(unit, mechanisms, outcome) for unit in supporting]
            kept = tuple(quote for quote in quotes if quote is not None)[: self.settings.max_quotes]
            return QualitativeEvidence("supports", tally, quotes=kept, interviews=tuple(supporting), **base)
        return QualitativeEvidence("none", "too few: " + tally, interviews=tuple(supporting), **base)

    def _quote(self, unit: str, mechanisms: tuple[str, ...], outcome: str) -> QualitativeQuote | None:
        """The passage telling the mechanism and the later passage telling the outcome, in one interview."""
        own = self._spans[self._spans["unit"] == unit]
        first = own[own["node"] == mechanisms[0]].iloc[0]
        outcomes = own[own["node"] == outcome]
        after = outcomes[_at_or_after(outcomes, first["source"], first["start"])]
        if after.empty:  # with median positions the outcome's passages may all come first
            return None
        told = after.iloc[0]
        candidates = own[own["node"].isin(mechanisms)]
        mechanism = candidates[~_at_or_after(candidates, told["source"], told["start"] + 1)].iloc[-1]
        text = self._texts[told["source"]]
        if mechanism["source"] == told["source"] and mechanism["end"] > told["start"]:
            quote = _shorten(
                text[min(mechanism["start"], told["start"]) : max(mechanism["end"], told["end"])]
            )
        else:
            earlier = self._texts[mechanism["source"]][mechanism["start"] : mechanism["end"]]
            quote = f"{_shorten(earlier)} […] {_shorten(text[told['start'] : told['end']])}"
        codes = tuple(dict.fromkeys((mechanism["code"], told["code"])))
        return QualitativeQuote(unit, quote, told["source_name"], codes)

    def to_frame(self) -> pd.DataFrame:
        """One row per node with codes: node, codes (paths, "; "-joined), interviews telling it."""
        told = self.steps.notna().sum()
        return pd.DataFrame(
            [
                {"node": node, "codes": "; ".join(codes), "interviews": int(told.get(node, 0))}
                for node, codes in self.node_codes.items()
            ],
            columns=["node", "codes", "interviews"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The project, the settings, the codes of each node and the interviews, JSON-ready."""
        return {
            "source": self.source,
            "settings": self.settings.model_dump(mode="json"),
            "nodes": self.to_frame().to_dict(orient="records"),
            "interviews": list(self.interviews),
        }

    def _repr_html_(self) -> str:
        title = html.escape(f"Coded interviews of {self.source}: {len(self.interviews)} interviews")
        return f"<div><strong>{title}</strong>{self.to_frame().to_html(index=False, border=0)}</div>"

    def __repr__(self) -> str:
        return (
            f"CodedInterviewSupport({self.source!r}: {len(self.interviews)} interviews, "
            f"{len(self.node_codes)} nodes with codes)"
        )


def _chain_of(pathway: Any) -> tuple[tuple[str, ...], str]:
    """The mechanisms and the analysed outcome of a pathway plan or of a resolved pathway."""
    if isinstance(pathway, ResolvedPathway):
        last = max(pathway.nodes.index(node) for node in pathway.mechanisms)
        after = [node for node in pathway.nodes[last + 1 :] if node in pathway.outcomes]
        return tuple(pathway.mechanisms), after[0] if after else pathway.outcome
    return tuple(pathway.mechanisms), pathway.outcome  # a PathwayPlan


def _within(pair: tuple[str, str], chain: tuple[str, ...]) -> bool:
    """Whether link a → b runs forward along the chain (a told about before b)."""
    return pair[0] in chain and pair[1] in chain and chain.index(pair[0]) < chain.index(pair[1])


def _at_or_after(spans: pd.DataFrame, source: int, start: int) -> pd.Series:
    """Spans that begin at or after position `start` of source `source` (sources in project order)."""
    return (spans["source"] > source) | ((spans["source"] == source) & (spans["start"] >= start))


def _shorten(text: str, limit: int = QUOTE_CHARACTERS) -> str:
    """One line of at most `limit` characters, cut at a word boundary with an ellipsis."""
    flat = _WHITESPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + " …"


# --------------------------------------------------------------------------------------------------------
# Building the support from a project
# --------------------------------------------------------------------------------------------------------


def _model_names(model: PathwayModel, catalog: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Catalog reference → node and name slug → node, for `moclab.qual.stages.match_codes`.

    A node's own id and label come first, then the names and aliases of the catalog entries it refers to, so
    that a catalog alias never takes a name away from the node that carries it.
    """
    from moclab.catalog import slugify

    refs: dict[str, str] = {}
    names: dict[str, str] = {}
    for node in model.nodes:
        for text in (node.id, node.display_label):
            names.setdefault(slugify(text), node.id)
    for node in model.nodes:
        for ref in node.all_refs:
            refs.setdefault(ref.lower(), node.id)
            entry = catalog.resolve(ref) if catalog is not None else None
            if entry is not None:
                refs.setdefault(entry.qualified_id, node.id)
                for text in (entry.name, *entry.aliases):
                    names.setdefault(slugify(text), node.id)
    return refs, names


def _codes_named(project: Project, text: str) -> list[str]:
    """GUIDs of the code named by a name, path or GUID, or of the codes carrying a catalog reference."""
    from moclab.qual.stages import catalog_refs, match_codes

    try:
        return [project.code(text).guid]
    except QualError:
        reference = text.strip().lower()
        if catalog_refs(reference) == [reference]:
            found = list(match_codes(project, {reference: reference}, {}))
            if found:
                return found
        raise


def _node_order(model: PathwayModel) -> list[str]:
    """The model's nodes in causal order (a topological order, ties in file order); file order for a cycle."""
    index = {node_id: i for i, node_id in enumerate(model.node_ids)}
    graph = model.with_inferred_edge_types().graph(causal_only=True)
    try:
        return list(nx.lexicographical_topological_sort(graph, key=index.__getitem__))
    except nx.NetworkXUnfeasible:
        return list(model.node_ids)


def _build(
    project: Project,
    model: PathwayModel,
    settings: QualitativeSettings,
    source: str,
    where: Where,
    catalog: Any,
) -> CodedInterviewSupport:
    from moclab.qual._common import code_ancestors, code_labels, coded_spans, unit_order
    from moclab.qual.pathway import narrative_sequences
    from moclab.qual.stages import Stage, StageMap, match_codes

    problems: list[Problem] = []
    if settings.coders is not None:
        known = [user.name for user in project.users]
        for coder in settings.coders:
            if coder not in known:
                problems.append(
                    Problem(
                        f"qualitative coders: no coder '{coder}' in {source}",
                        hint=f"coders: {', '.join(known) or 'none'}",
                        **where("coders"),
                    )
                )
    direct: dict[str, str] = {}  # code GUID -> node
    if settings.auto_match:
        refs, names = _model_names(model, catalog)
        direct = {
            guid: node
            for guid, node in match_codes(project, refs, names).items()
            if node not in settings.codes  # a node named in `codes:` gets exactly the codes named there
        }
    claimed: dict[str, str] = {}
    for node, texts in settings.codes.items():
        for text in texts:
            try:
                guids = _codes_named(project, text)
            except QualError as exc:
                problems.append(
                    Problem(
                        f"qualitative codes: {exc.message} (for node '{node}')",
                        hint=exc.hint or _close_codes(project, text),
                        **where("codes", node),
                    )
                )
                continue
            for guid in guids:
                if claimed.get(guid, node) != node:
                    problems.append(
                        Problem(
                            f"qualitative codes: the code '{project.code_path(guid)}' is named for both "
                            f"'{claimed[guid]}' and '{node}'",
                            hint="a code stands for one node; name a sub-code for the other",
                            **where("codes", node),
                        )
                    )
                claimed[guid] = node
                direct[guid] = node
    contradiction_codes: dict[tuple[str, str], list[str]] = {}
    for key, texts in settings.contradictions.items():
        link = parse_link(key)
        if link is None or not all(model.has_node(n) for n in link):
            continue  # reported by the study loader at its line
        for text in texts:
            try:
                contradiction_codes.setdefault(link, []).extend(_codes_named(project, text))
            except QualError as exc:
                problems.append(
                    Problem(
                        f"qualitative contradictions: {exc.message} (for '{key}')",
                        hint=exc.hint or _close_codes(project, text),
                        **where("contradictions", key),
                    )
                )
    if problems:
        raise ValidationError("qualitative evidence", problems)

    labels = code_labels(project)
    chains = code_ancestors(project)
    marking: dict[tuple[str, str], set[str]] = {}  # link -> paths of its contradiction codes
    for link, guids in contradiction_codes.items():
        # a code below a contradiction code counts too, as codes below a node's code count for the node
        marking[link] = {labels[code.guid] for code in project.codes if set(chains[code.guid]) & set(guids)}
    marks = set().union(*marking.values())

    by = settings.unit
    coded_nodes = set(direct.values())
    order = [node for node in _node_order(model) if node in coded_nodes]
    stages = [Stage(node, model.node(node).display_label, i + 1) for i, node in enumerate(order)]
    interviews = tuple(unit_order(project, by))
    all_spans = coded_spans(project, by=by, coders=settings.coders)
    node_of_code: dict[str, str] = {}
    steps = pd.DataFrame(index=pd.Index([], name="unit"))  # no code stands for a node: every pathway "none"
    if stages:
        inherited = StageMap.from_mapping(project, direct, stages)
        # a contradiction code filed under a node's code ("Trust/Did not help") does not tell the node
        node_of_code = {code: node for code, node in inherited.codes.items() if code not in marks}
        if node_of_code:
            stage_map = StageMap(inherited.stages, node_of_code)
            sequences = narrative_sequences(
                project, stage_map, position=settings.position, by=by, coders=settings.coders
            )
            steps = sequences.pivot(index="unit", columns="stage", values="step")
    node_codes: dict[str, list[str]] = {}
    for code, node in node_of_code.items():
        node_codes.setdefault(node, []).append(code)
    spans = all_spans.assign(node=all_spans["code"].map(node_of_code)).dropna(subset=["node"])
    contradicting = {
        link: frozenset(all_spans.loc[all_spans["code"].isin(paths), "unit"])
        for link, paths in marking.items()
    }
    return CodedInterviewSupport(
        source=source,
        settings=settings,
        node_codes={node: tuple(codes) for node, codes in node_codes.items()},
        steps=steps,
        interviews=interviews,
        _spans=spans.reset_index(drop=True),
        _texts=tuple(s.text for s in project.sources),
        _contradicting=contradicting,
    )


def _close_codes(project: Project, text: str) -> str | None:
    choices = [project.code_path(code.guid) for code in project.codes] + [code.name for code in project.codes]
    return did_you_mean(text, choices)


def qualitative_support_from_project(
    project: Project | str | Path,
    model: PathwayModel,
    settings: QualitativeSettings | Mapping[str, Any] | None = None,
    *,
    catalog: Any = None,
) -> CodedInterviewSupport:
    """The qualitative evidence a coded project gives about the pathways of a model.

    Parameters
    ----------
    project : Project, str or Path
        The coded interviews: a `moclab.qual.Project` or a file `moclab.qual.read_project` reads (a REFI-QDA
        ``.qdpx``).
    model : PathwayModel
        The pathway model whose nodes the codes stand for.
    settings : QualitativeSettings or mapping, optional
        The ``qualitative:`` options (``codes``, ``coders``, ``unit``, ``position``, ``min_interviews``,
        ``max_quotes``, ``contradictions``); ``project`` may be left out.
    catalog : Catalog, optional
        Resolves the model's catalog references for name matching (default: the bundled catalog).

    Returns
    -------
    CodedInterviewSupport
        Call it with a pathway (``analyze(study, qualitative_support=support)``) to get its
        `QualitativeEvidence`.

    Raises
    ------
    ValidationError
        Codes or coders named in the settings that the project does not have (each problem named by its key).
    QualError
        The project file cannot be read.

    Notes
    -----
    The counting rule and the code matching are described in the module documentation and in
    docs/criteria.md (plausibility or coherence).

    References
    ----------
    Metz AJ, et al. (2024). How the experiences of implementation support recipients contribute to
    implementation outcomes. Front Health Serv 4:1323807.

    Examples
    --------
    >>> from moclab.model import load_template
    >>> from moclab.qual import example_project_path
    >>> support = qualitative_support_from_project(example_project_path(), load_template("recipient-pathway"))
    >>> evidence = support.evidence("trust", "acceptability")
    >>> evidence.status, evidence.counts["mechanism_first"], evidence.counts["interviews"]
    ('supports', 6, 12)
    """
    from moclab.catalog import default_catalog
    from moclab.qual import read_project

    if isinstance(project, str | Path):
        source = display_path(project)
        project = read_project(project)
    else:
        source = project.name
    if not isinstance(settings, QualitativeSettings):
        given = {"project": source, **dict(settings or {})}
        settings = parse_model(QualitativeSettings, given, "qualitative settings")

    def where(*loc: str) -> dict[str, Any]:
        return {"field": ".".join(("qualitative", *loc))}

    return _build(project, model, settings, source, where, catalog or default_catalog())


def qualitative_support_from_study(study: Study) -> CodedInterviewSupport | None:
    """The qualitative evidence of a study's ``qualitative:`` section, or None when it has none.

    Problems (a project that cannot be read, codes or coders it does not have) are raised together in one
    `ValidationError`, each at its line of moclab.yaml.

    Examples
    --------
    The example study with the bundled coded interviews added to its folder and to its moclab.yaml:

    >>> import shutil
    >>> from moclab.qual import example_project_path
    >>> from moclab.study import copy_example, load_study
    >>> folder = copy_example("trial")
    >>> _ = shutil.copyfile(example_project_path(), folder / "interviews.qdpx")
    >>> section = '''
    ... qualitative:
    ...   project: interviews.qdpx
    ... '''
    >>> with (folder / "moclab.yaml").open("a", encoding="utf-8") as config:
    ...     _ = config.write(section)
    >>> support = qualitative_support_from_study(load_study(folder, show_progress=False))
    >>> evidence = support.evidence("trust", "acceptability")
    >>> evidence.status, evidence.counts["mechanism_first"], evidence.counts["interviews"]
    ('supports', 6, 12)

    A study without a ``qualitative:`` section has none:

    >>> from moclab.study import example_path
    >>> print(qualitative_support_from_study(load_study(example_path(), show_progress=False)))
    None
    """
    from moclab.catalog import Catalog, default_catalog
    from moclab.qual import read_project

    settings = study.config.qualitative
    if settings is None or study.model is None:
        return None
    config_file = study.path / "moclab.yaml"

    @functools.cache
    def config_data() -> Any:
        """moclab.yaml again, only when a problem needs its line (the loader keeps no positions)."""
        try:
            return load_yaml(config_file)
        except (MoclabError, OSError):  # a file vanished since the loader read it only loses the lines
            return {}

    def where(*loc: str) -> dict[str, Any]:
        found: dict[str, Any] = {"file": display_path(config_file)}
        position = locate(config_data(), ["qualitative", *loc])
        if position:
            found["line"], found["column"] = position
        return found

    path = project_path(settings, study.path)
    try:
        project = read_project(path)
    except QualError as exc:
        raise ValidationError(
            "qualitative evidence",
            [
                Problem(
                    f"the qualitative project cannot be read: {exc.message}",
                    hint=exc.hint,
                    **where("project"),
                )
            ],
        ) from None
    frameworks = [study.path / name for name in study.config.frameworks if (study.path / name).exists()]
    catalog = Catalog.load(frameworks) if frameworks else default_catalog()
    return _build(project, study.model, settings, settings.project, where, catalog)


# --------------------------------------------------------------------------------------------------------
# The joint display
# --------------------------------------------------------------------------------------------------------


def joint_display(evidence: StudyEvidence) -> pd.DataFrame:
    """The mixed-methods joint display: pathway link × quantitative estimate × qualitative support.

    One row per pathway: the link (mechanism(s) → outcome), the indirect effect with its interval and the
    strong-association verdict, the interviews telling the mechanism before the outcome, the qualitative
    status, the plausibility verdict and the first quote (Fetters, Curry & Creswell 2013).

    Examples
    --------
    >>> from moclab.evidence import analyze, qualitative_support_from_project
    >>> from moclab.qual import example_project_path
    >>> from moclab.study import example_path, load_study
    >>> study = load_study(example_path(), show_progress=False)
    >>> evidence = analyze(
    ...     study,
    ...     pathways=["isp_support__trust__acceptability"],
    ...     n_boot=200,
    ...     seed=1,
    ...     qualitative_support=qualitative_support_from_project(example_project_path(), study.model),
    ...     show_progress=False,
    ... )
    >>> row = joint_display(evidence).iloc[0]
    >>> row["link"], round(float(row["indirect"]), 2), row["association"]
    ('trust → acceptability', 0.15, 'met')
    >>> row["interviews"], row["qualitative"], row["plausibility"]
    ('6 of 12', 'supports', 'met')
    >>> print(row["quote"][:60])
    They remembered what we had said the month before and came b
    """
    rows = []
    for pathway in evidence.pathways:
        plan = pathway.plan
        association = pathway.verdict("strong_association")
        qualitative = pathway.qualitative
        counts = qualitative.counts
        low, high = association.interval if association.interval is not None else (None, None)
        told = str(counts.get("mechanism_first", ""))
        if told and "interviews" in counts:  # counts given by hand may lack the total
            told += f" of {counts['interviews']}"
        rows.append(
            {
                "pathway": pathway.id,
                "link": " → ".join((*plan.mechanisms, plan.outcome)),
                "indirect": association.estimate,
                "ci_low": low,
                "ci_high": high,
                "association": association.status.value,
                "interviews": told,
                "qualitative": qualitative.status,
                "plausibility": pathway.verdict("plausibility").status.value,
                "quote": qualitative.quotes[0].text if qualitative.quotes else "",
            }
        )
    columns = [
        "pathway",
        "link",
        "indirect",
        "ci_low",
        "ci_high",
        "association",
        "interviews",
        "qualitative",
        "plausibility",
        "quote",
    ]
    return pd.DataFrame(rows, columns=columns)
