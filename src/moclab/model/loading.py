"""Reading pathway models from YAML files, text or plain data, with every problem reported at once.

Loading runs in two stages that both report into one `ProblemList`: pydantic checks the shape of each record
(unknown keys with "did you mean", unknown node types, invalid ids), then `moclab.model.validation` checks the
graph. When some records fail the first stage the second still runs on the records that passed, so one pass
shows a misspelt node type *and* a cycle elsewhere; references to the failed records are not reported a
second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic

from moclab.errors import ConfigError, ProblemList, display_path
from moclab.model.pathway_model import Edge, Node, Pathway, PathwayModel
from moclab.model.refs import DEFAULT_CATALOG, RefResolver, resolver_for
from moclab.model.validation import _validate
from moclab.yamlio import load_yaml, loads_yaml, problems_from_pydantic


def load_model(path: str | Path, catalog: RefResolver | str | None = DEFAULT_CATALOG) -> PathwayModel:
    """Read and validate a pathway model YAML file.

    Parameters
    ----------
    path : str or Path
        The model file (format: docs/pathway-models.md).
    catalog : RefResolver, "default" or None
        Where catalog references are resolved; "default" is the bundled catalog, None skips resolution.

    Returns
    -------
    PathwayModel
        The validated model, edge types inferred, remembering its file for located messages.

    Raises
    ------
    ConfigError
        The file is missing, not UTF-8, or not valid YAML (with line and column).
    ValidationError
        The model has errors; all of them are listed with their lines. Warnings do not raise; get them from
        `validate_model`.

    Examples
    --------
    >>> from moclab.model import load_model, template_path
    >>> model = load_model(template_path("mechanism-criteria"), catalog=None)
    >>> model.id, len(model.nodes), len(model.edges)
    ('mechanism-criteria', 10, 9)
    >>> [pathway.id for pathway in model.pathways_resolved()]
    ['knowledge', 'leadership']
    """
    return model_from_dict(load_yaml(path), display_path(path), catalog=catalog)


def loads_model(
    text: str, source: str = "<text>", catalog: RefResolver | str | None = DEFAULT_CATALOG
) -> PathwayModel:
    """Read and validate a pathway model from YAML text (see `load_model`).

    Examples
    --------
    Edge types left out are inferred from the node types, and pathways are derived from the graph:

    >>> from moclab.model import loads_model
    >>> text = '''
    ... model: coaching
    ... nodes:
    ...   - {id: coaching, type: strategy}
    ...   - {id: trust, type: mechanism}
    ...   - {id: acceptability, type: proximal outcome}
    ... edges:
    ...   - {from: coaching, to: trust}
    ...   - {from: trust, to: acceptability}
    ... '''
    >>> model = loads_model(text, "coaching.yaml", catalog=None)
    >>> [(edge.source, edge.target, edge.type.value) for edge in model.edges]
    [('coaching', 'trust', 'acts_through'), ('trust', 'acceptability', 'leads_to')]
    >>> [pathway.id for pathway in model.pathways_resolved()]
    ['coaching__trust__acceptability']

    A problem is reported at its line and column, with a suggestion:

    >>> from moclab.errors import ValidationError
    >>> try:
    ...     loads_model(text.replace("to: acceptability", "to: acceptabilty"), "coaching.yaml", catalog=None)
    ... except ValidationError as error:
    ...     print(error.problems[0])
    coaching.yaml:9:19: edge trust -> acceptabilty: unknown node 'acceptabilty'
    (did you mean 'acceptability'?)
    """
    return model_from_dict(loads_yaml(text, source), source, catalog=catalog)


def model_from_dict(
    data: Any, source: str = "<data>", catalog: RefResolver | str | None = DEFAULT_CATALOG
) -> PathwayModel:
    """Validate loaded YAML (or a plain dict) as a pathway model; see `load_model`.

    Data from `moclab.yamlio` carries positions, so problems name the line; a plain dict gives problems
    without lines.

    Examples
    --------
    >>> from moclab.model import model_from_dict
    >>> data = {
    ...     "model": "coaching",
    ...     "nodes": [
    ...         {"id": "coaching", "type": "strategy"},
    ...         {"id": "trust", "type": "mechanism"},
    ...         {"id": "acceptability", "type": "proximal outcome"},
    ...     ],
    ...     "edges": [{"from": "coaching", "to": "trust"}, {"from": "trust", "to": "acceptability"}],
    ... }
    >>> model = model_from_dict(data, catalog=None)
    >>> model.node("acceptability").type.value
    'proximal_outcome'
    >>> [pathway.nodes for pathway in model.pathways_resolved()]
    [('coaching', 'trust', 'acceptability')]
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: a pathway model must be a mapping with the keys 'model', 'nodes' and 'edges', "
            f"not {type(data).__name__}",
            hint="see docs/pathway-models.md for the format",
        )
    problems = ProblemList(f"pathway model {source}")
    try:
        model = PathwayModel.model_validate(data).located(source, data)
        unparsed: set[str] = set()
        complete = True
    except pydantic.ValidationError as exc:
        problems.extend(problems_from_pydantic(exc, data, source, PathwayModel))
        if not isinstance(data.get("nodes"), list):
            problems.raise_if_any()  # without a node list every graph check would only repeat this problem
        model, unparsed, complete = _partial_model(data, source)
    model = model.with_inferred_edge_types()
    problems.extend(_validate(model, resolver_for(catalog), unparsed, complete))
    problems.raise_if_any()
    return model


def _valid_records(
    record: type[pydantic.BaseModel], items: Any
) -> tuple[list[Any], tuple[int, ...], set[str]]:
    """The records that pass validation on their own, their positions in the file, the ids of the others."""
    kept, positions, failed_ids = [], [], set()
    for position, item in enumerate(items if isinstance(items, list) else []):
        try:
            kept.append(record.model_validate(item))
            positions.append(position)
        except pydantic.ValidationError:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                failed_ids.add(item["id"])
    return kept, tuple(positions), failed_ids


def _partial_model(data: dict[str, Any], source: str) -> tuple[PathwayModel, set[str], bool]:
    """A model of the records that passed validation, for the graph checks after a shape error.

    Returns the model, the ids of nodes that failed, and whether the node list is complete (when it is not,
    the checks on the graph as a whole are skipped: they would only echo the failed nodes).
    """
    nodes, node_index, failed = _valid_records(Node, data.get("nodes"))
    edges, edge_index, _ = _valid_records(Edge, data.get("edges"))
    pathways, pathway_index, _ = _valid_records(Pathway, data.get("pathways"))
    raw_nodes = data.get("nodes")
    complete = isinstance(raw_nodes, list) and len(nodes) == len(raw_nodes) and bool(nodes)
    model_id = data.get("model")
    model = PathwayModel.model_construct(
        id=model_id if isinstance(model_id, str) else "unnamed",
        nodes=tuple(nodes),
        edges=tuple(edges),
        pathways=tuple(pathways),
    )
    index = {"nodes": node_index, "edges": edge_index, "pathways": pathway_index}
    return model.located(source, data, index), failed, complete
