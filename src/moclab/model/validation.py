"""Whole-model checks of a pathway model, each problem located at its YAML line.

`validate_model` returns every problem at once (errors and warnings), so a user fixes a model in one pass:

- node ids are unique; every edge joins known nodes (with "did you mean" for misspelt ids);
- each edge type fits the types of the nodes it joins (`EDGE_RULES`); a moderator may point at a causal edge;
- causal edges (targets, acts through, leads to) form no cycle (networkx finds one and the error shows it);
- each declared pathway starts at a strategy, goes through a mechanism, ends at an outcome, and consecutive
  nodes are joined by causal edges; alternatives are mechanisms off the pathway;
- the model has at least one pathway; a strategy that reaches no outcome through a mechanism is a warning;
- catalog references resolve (`moclab.model.refs`).
"""

from __future__ import annotations

from collections.abc import Collection

import networkx as nx

from moclab.errors import Problem, did_you_mean
from moclab.model.pathway_model import Edge, PathwayModel
from moclab.model.pathways import DERIVED_LIMIT, causal_graph, derive_pathways
from moclab.model.refs import DEFAULT_CATALOG, RefResolver, check_refs, resolver_for
from moclab.model.vocabulary import EDGE_TARGET, EdgeType, NodeType, edge_types_for, targets_allowed


def validate_model(model: PathwayModel, catalog: RefResolver | str | None = DEFAULT_CATALOG) -> list[Problem]:
    """Every problem of a model, errors and warnings, in file order within each kind of check.

    Parameters
    ----------
    model : PathwayModel
        A model from `load_model`/`model_from_dict` (problems are then located) or built in Python.
    catalog : RefResolver, "default" or None
        Where catalog references are resolved: the bundled catalog (default, when installed), any object with
        ``resolve(ref)``, or None to check only the form of references.

    Returns
    -------
    list of Problem
        Problems with ``severity="error"`` make the model unusable; ``"warning"`` ones are worth a look.

    Examples
    --------
    A model with errors does not load; one that loads may still have warnings:

    >>> from moclab.model import loads_model, validate_model
    >>> text = '''
    ... model: coaching
    ... nodes:
    ...   - {id: coaching, type: strategy, ref: eric:33}
    ...   - {id: trust, type: mechanism}
    ...   - {id: acceptability, type: proximal outcome}
    ... edges:
    ...   - {from: coaching, to: trust}
    ...   - {from: trust, to: acceptability}
    ... '''
    >>> model = loads_model(text, "coaching.yaml")
    >>> for problem in validate_model(model):
    ...     print(problem.severity, problem)
    warning coaching.yaml:4:36: node 'coaching': 'eric:33' refers to eric:facilitation (write
    'eric:facilitation': catalog ids stay stable when names are corrected)
    >>> validate_model(model, catalog=None)  # only the graph and the form of references
    []
    """
    return _validate(model.with_inferred_edge_types(), resolver_for(catalog))


def _validate(
    model: PathwayModel,
    resolver: RefResolver | None,
    unparsed_ids: Collection[str] = (),
    complete: bool = True,
) -> list[Problem]:
    """Run the checks.

    `unparsed_ids` are ids of nodes whose records failed validation (not reported again as unknown);
    `complete=False` skips the whole-graph checks, which would only repeat those failures.
    """
    checker = _Checker(model, set(unparsed_ids))
    checker.check_nodes()
    checker.check_edges()
    checker.check_cycles()
    checker.check_pathways()
    if complete:
        checker.check_reach()
    checker.problems.extend(check_refs(model, resolver))
    return checker.problems


class _Checker:
    """Holds the model, its lookups and the problems found; one method per family of checks."""

    def __init__(self, model: PathwayModel, unparsed_ids: set[str]) -> None:
        self.model = model
        self.unparsed = unparsed_ids
        self.types = {node.id: node.type for node in model.nodes}
        self.problems: list[Problem] = []

    def error(self, message: str, *loc: str | int, hint: str | None = None) -> None:
        self.problems.append(Problem(message, hint=hint, **self.model.where(*loc)))

    def warn(self, message: str, *loc: str | int, hint: str | None = None) -> None:
        self.problems.append(Problem(message, hint=hint, severity="warning", **self.model.where(*loc)))

    def line_of(self, *loc: str | int) -> int | None:
        return self.model.where(*loc).get("line")

    def known(self, node_id: str) -> bool:
        return node_id in self.types or node_id in self.unparsed

    def unknown_node(self, node_id: str, context: str, *loc: str | int) -> None:
        hint = did_you_mean(node_id, list(self.types)) or f"nodes are: {', '.join(self.types)}"
        self.error(f"{context}: unknown node '{node_id}'", *loc, hint=hint)

    # -- nodes -----------------------------------------------------------------------------------------------

    def check_nodes(self) -> None:
        first_index: dict[str, int] = {}
        for index, node in enumerate(self.model.nodes):
            if node.id in first_index:
                first_line = self.line_of("nodes", first_index[node.id])
                where = f" (first on line {first_line})" if first_line else ""
                self.error(
                    f"node id '{node.id}' is used twice{where}",
                    "nodes",
                    index,
                    "id",
                    hint="each node needs its own id; rename one of them",
                )
            else:
                first_index[node.id] = index

    # -- edges -----------------------------------------------------------------------------------------------

    def check_edges(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        causal_pairs = {(e.source, e.target) for e in self.model.causal_edges() if e.target_edge is None}
        for index, edge in enumerate(self.model.edges):
            name = f"edge {edge.source} -> {edge.target}"
            if edge.key in seen:
                first_line = self.line_of("edges", seen[edge.key])
                where = f" (first on line {first_line})" if first_line else ""
                self.error(f"{name} is written twice{where}", "edges", index, hint="keep one of them")
                continue
            seen[edge.key] = index
            if edge.source == edge.target:
                self.error(
                    f"{name} joins a node to itself", "edges", index, hint="a node cannot cause itself"
                )
                continue
            ends_known = True
            if not self.known(edge.source):
                self.unknown_node(edge.source, name, "edges", index, "from")
                ends_known = False
            pair = edge.target_edge
            if pair is not None:
                for end in pair:
                    if not self.known(end):
                        self.unknown_node(end, name, "edges", index, "to")
                        ends_known = False
                if ends_known and pair not in causal_pairs and not (set(pair) & self.unparsed):
                    self.error(
                        f"{name} points at the edge {pair[0]} -> {pair[1]}, "
                        "which is not a causal edge of the model",
                        "edges",
                        index,
                        "to",
                        hint="a moderator can point at a node or at a targets, acts through or leads to edge",
                    )
            elif not self.known(edge.target):
                extra = "; to point at an edge write 'from->to'" if "->" in edge.target else ""
                hint = (
                    did_you_mean(edge.target, list(self.types)) or f"nodes are: {', '.join(self.types)}"
                ) + extra
                self.error(f"{name}: unknown node '{edge.target}'", "edges", index, "to", hint=hint)
                ends_known = False
            if ends_known and edge.source in self.types and (pair or edge.target in self.types):
                self._check_edge_type(edge, index)

    def _check_edge_type(self, edge: Edge, index: int) -> None:
        source = self.types[edge.source]
        target = EDGE_TARGET if edge.target_edge else self.types[edge.target]
        target_words = "an edge" if target == EDGE_TARGET else f"a {target.words}"  # type: ignore[union-attr]
        fitting = edge_types_for(source, target)
        name = f"edge {edge.source} -> {edge.target}"
        if edge.type in fitting:
            return
        if fitting:
            hint = f"from a {source.words} to {target_words} use type '{fitting[0].value}'"
        elif source is NodeType.STRATEGY and target in (NodeType.PROXIMAL_OUTCOME, NodeType.DISTAL_OUTCOME):
            hint = "a strategy reaches outcomes through a mechanism: add the mechanism between them"
        else:
            hint = self._what_can_follow(source)
        if edge.type is None:
            self.error(
                f"{name}: no edge type can join a {source.words} to {target_words}", "edges", index, hint=hint
            )
            return
        self.error(
            f"{name}: a '{edge.type.value}' edge cannot run from a {source.words} to {target_words}",
            "edges",
            index,
            "type",
            hint=hint,
        )

    @staticmethod
    def _what_can_follow(source: NodeType) -> str:
        options = [
            f"{edge_type.value} → {' or '.join(targets_allowed(edge_type, source))}"
            for edge_type in EdgeType
            if targets_allowed(edge_type, source)
        ]
        if not options:
            return f"nothing may start at a {source.words}; edges end at it"
        return f"from a {source.words}: " + "; ".join(options)

    # -- cycles ----------------------------------------------------------------------------------------------

    def check_cycles(self) -> None:
        """One error per group of nodes caught in a cycle, the same on every run.

        networkx returns the groups as sets, whose order changes with Python's string hashing; the groups,
        their nodes and their edges are put back in the order of the file, so the cycle reported starts at
        its node declared first and the error points at its edge written last (the one that closes it).
        """
        graph = causal_graph(self.model)
        graph.remove_edges_from(
            list(nx.selfloop_edges(graph))
        )  # reported as edges that join a node to itself
        declared = {node: position for position, node in enumerate(graph)}
        groups = [
            sorted(component, key=declared.__getitem__)
            for component in nx.strongly_connected_components(graph)
            if len(component) > 1
        ]
        edge_index: dict[tuple[str, str], int] = {}
        for index, edge in enumerate(self.model.edges):
            if edge.is_causal:
                edge_index.setdefault((edge.source, edge.target), index)
        for nodes in sorted(groups, key=lambda group: declared[group[0]]):
            members = set(nodes)
            ordered = nx.DiGraph()
            ordered.add_nodes_from(nodes)
            ordered.add_edges_from(
                sorted(
                    ((u, v) for u, v in graph.edges if u in members and v in members),
                    key=edge_index.__getitem__,
                )
            )
            cycle = [edge[:2] for edge in nx.find_cycle(ordered, source=nodes[0])]
            start = min(range(len(cycle)), key=lambda i: declared[cycle[i][0]])
            cycle = cycle[start:] + cycle[:start]
            loop = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
            self.error(
                f"causal edges form a cycle: {loop}",
                "edges",
                max(edge_index[edge] for edge in cycle),
                hint="causes must come before effects; remove or reverse one of these edges "
                "(feedback over time belongs in a longitudinal model)",
            )

    # -- declared pathways -----------------------------------------------------------------------------------

    def check_pathways(self) -> None:
        causal_pairs = {(e.source, e.target) for e in self.model.causal_edges()}
        first_index: dict[str, int] = {}
        for index, pathway in enumerate(self.model.pathways):
            name = f"pathway '{pathway.id}'"
            if pathway.id in first_index:
                first_line = self.line_of("pathways", first_index[pathway.id])
                where = f" (first on line {first_line})" if first_line else ""
                self.error(
                    f"{name} is declared twice{where}", "pathways", index, "id", hint="rename one of them"
                )
            first_index.setdefault(pathway.id, index)
            nodes = pathway.nodes
            unknown = False
            for position, node_id in enumerate(nodes):
                if not self.known(node_id):
                    self.unknown_node(node_id, name, "pathways", index, "nodes", position)
                    unknown = True
                elif node_id in self.types and self.types[node_id].is_modifier:
                    self.error(
                        f"{name}: '{node_id}' is a {self.types[node_id].words}; "
                        "it qualifies a pathway but is not a step on it",
                        "pathways",
                        index,
                        "nodes",
                        position,
                        hint="leave it out of the pathway; its moderates/requires edge attaches it",
                    )
            repeated = sorted({n for n in nodes if nodes.count(n) > 1})
            if repeated:
                self.error(f"{name} visits {', '.join(repeated)} more than once", "pathways", index, "nodes")
            self._check_alternatives(index)
            if unknown or any(n in self.unparsed for n in nodes):
                continue  # the shape of a pathway with unknown steps cannot be judged
            if self.types[nodes[0]] is not NodeType.STRATEGY:
                self.error(
                    f"{name} starts at '{nodes[0]}', a {self.types[nodes[0]].words}; "
                    "a pathway starts at a strategy",
                    "pathways",
                    index,
                    "nodes",
                    0,
                )
            if not self.types[nodes[-1]].is_outcome:
                self.error(
                    f"{name} ends at '{nodes[-1]}', a {self.types[nodes[-1]].words}; "
                    "a pathway ends at an outcome",
                    "pathways",
                    index,
                    "nodes",
                    len(nodes) - 1,
                )
            if not any(self.types[n] is NodeType.MECHANISM for n in nodes):
                self.error(
                    f"{name} has no mechanism",
                    "pathways",
                    index,
                    "nodes",
                    hint="a pathway runs strategy → mechanism → outcome; "
                    "add the mechanism through which it acts",
                )
            for position in range(1, len(nodes)):
                before, after = nodes[position - 1], nodes[position]
                if (before, after) not in causal_pairs:
                    hint = "add the edge, or put the missing steps between them"
                    if (after, before) in causal_pairs:
                        hint = f"the edge runs the other way, from {after} to {before}"
                    self.error(
                        f"{name}: no causal edge from {before} to {after}",
                        "pathways",
                        index,
                        "nodes",
                        position,
                        hint=hint,
                    )

    def _check_alternatives(self, index: int) -> None:
        pathway = self.model.pathways[index]
        name = f"pathway '{pathway.id}'"
        for position, node_id in enumerate(pathway.alternatives):
            loc = ("pathways", index, "alternatives", position)
            if not self.known(node_id):
                self.unknown_node(node_id, f"{name} alternatives", *loc)
            elif node_id in pathway.nodes:
                self.error(f"{name}: alternative '{node_id}' is on the pathway itself", *loc)
            elif node_id in self.types and self.types[node_id] is not NodeType.MECHANISM:
                self.error(
                    f"{name}: alternative '{node_id}' is a {self.types[node_id].words}, not a mechanism",
                    *loc,
                    hint="alternatives are competing mechanisms that could explain the same change",
                )

    # -- the graph as a whole --------------------------------------------------------------------------------

    def check_reach(self) -> None:
        # Reachability answers "is there a strategy → mechanism → outcome route" exactly, however many
        # routes there are: in an acyclic graph any path into a node and any path out of it form a route.
        graph = causal_graph(self.model)
        outcomes = {n.id for n in self.model.nodes if n.type.is_outcome}
        reaches_outcome = {n: bool(nx.descendants(graph, n) & outcomes) for n in graph}
        reached_by_strategy = {
            n: any(self.types[a] is NodeType.STRATEGY for a in nx.ancestors(graph, n)) for n in graph
        }

        def through_mechanism(strategy: str) -> bool:
            return any(
                self.types[n] is NodeType.MECHANISM and reaches_outcome[n]
                for n in nx.descendants(graph, strategy)
            )

        connected = {e.source for e in self.model.edges} | {e.target for e in self.model.edges}
        connected |= {end for e in self.model.edges if e.target_edge for end in e.target_edge}
        strategies = [n.id for n in self.model.nodes_of(NodeType.STRATEGY)]
        if not any(through_mechanism(s) for s in strategies) and not self.model.pathways:
            self.error(
                "the model has no pathway: no strategy reaches an outcome through a mechanism",
                hint="a pathway model needs at least strategy → mechanism → outcome joined by edges",
            )
        _, truncated = derive_pathways(self.model)
        if truncated:
            self.warn(
                f"the graph has more than {DERIVED_LIMIT} strategy-to-outcome paths; only the first "
                f"{DERIVED_LIMIT} are derived",
                "nodes",
                hint="declare the pathways you mean to test under 'pathways:'",
            )
        for index, node in enumerate(self.model.nodes):
            if node.id not in connected:
                self.warn(f"node '{node.id}' is not connected to any other node", "nodes", index)
            elif node.type is NodeType.STRATEGY and not through_mechanism(node.id):
                self.warn(
                    f"strategy '{node.id}' reaches no outcome through a mechanism",
                    "nodes",
                    index,
                    hint="add acts_through and leads_to edges from it, or remove it",
                )
            elif node.type is NodeType.MECHANISM and not (
                reached_by_strategy[node.id] and reaches_outcome[node.id]
            ):
                self.warn(
                    f"mechanism '{node.id}' is on no strategy → outcome pathway",
                    "nodes",
                    index,
                    hint="connect it to a strategy (acts_through) and to an outcome (leads_to)",
                )
