"""A pathway model as DAGitty syntax (``dag { ... }``), for dagitty.net or the R package ``dagitty``.

A DAG states which variables cause which, so a user can ask DAGitty for adjustment sets, testable implications
and instruments. Causal edges map one to one. A DAG cannot say that one variable changes the *strength* of
another's effect, so a moderator is drawn as a cause of the moderated edge's target (effect modifiers are
parents of the outcome in a DAG), and a precondition as a cause of what requires it. Strategies at the start
of a pathway are marked ``exposure``, final outcomes of pathways ``outcome``; node positions follow the
diagram's columns.
"""

from __future__ import annotations

from collections.abc import Iterable

from moclab.errors import ModelError
from moclab.model.export.layout import columns, rows
from moclab.model.pathway_model import PathwayModel
from moclab.model.vocabulary import EdgeType


def to_dagitty(
    model: PathwayModel,
    exposures: Iterable[str] | None = None,
    outcomes: Iterable[str] | None = None,
) -> str:
    """DAGitty syntax for the model.

    Parameters
    ----------
    model : PathwayModel
        The model.
    exposures, outcomes : iterable of str, optional
        Node ids to mark; by default the strategies and final outcomes of the model's pathways.

    Returns
    -------
    str
        ``dag { ... }`` text; paste it into dagitty.net or pass it to ``dagitty::dagitty()`` in R.

    Examples
    --------
    >>> from moclab.model import load_template, to_dagitty
    >>> text = to_dagitty(load_template("mechanism-criteria", catalog=None))
    >>> for line in text.splitlines()[:3]:
    ...     print(line)
    dag {
    training [exposure,pos="0.000,0.000"]
    knowledge_deficit [pos="1.000,0.000"]

    The precondition (attendance) becomes a cause of the mechanism that requires it, and the moderator
    (workload) of knowledge acquisition → adoption a cause of adoption:

    >>> [line for line in text.splitlines() if line.startswith(("attendance ->", "workload ->"))]
    ['attendance -> knowledge_acquisition', 'workload -> adoption']
    """
    model = model.with_inferred_edge_types()
    pathways = model.pathways_resolved()
    exposure = list(exposures) if exposures is not None else list(dict.fromkeys(p.strategy for p in pathways))
    outcome = list(outcomes) if outcomes is not None else list(dict.fromkeys(p.outcome for p in pathways))
    for node_id in exposure + outcome:
        if not model.has_node(node_id):
            model.node(node_id)  # raises a ModelError with "did you mean"
    if set(exposure) & set(outcome):
        raise ModelError(
            f"a node cannot be both exposure and outcome: {sorted(set(exposure) & set(outcome))}"
        )
    column = columns(model)
    row = rows(model, column)
    lines = ["dag {"]
    for node in model.nodes:
        marks = ["exposure"] if node.id in exposure else ["outcome"] if node.id in outcome else []
        marks.append(f'pos="{column[node.id]:.3f},{row[node.id]:.3f}"')
        lines.append(f"{node.id} [{','.join(marks)}]")
    arrows: list[tuple[str, str]] = []
    for edge in model.edges:
        if edge.type is None:
            continue
        if edge.is_causal or edge.type is EdgeType.REQUIRES:
            arrows.append((edge.source, edge.target))
        elif edge.type is EdgeType.MODERATES:
            arrows.append((edge.source, edge.target_edge[1] if edge.target_edge else edge.target))
    lines += [f"{source} -> {target}" for source, target in dict.fromkeys(arrows)]
    lines.append("}")
    return "\n".join(lines) + "\n"
