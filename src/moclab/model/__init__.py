"""Causal pathway models: typed nodes and edges, pathways; validation, templates, diagrams, exports.

A pathway model says how an implementation strategy is expected to work: the strategy targets a determinant
and acts through a mechanism that leads to proximal and distal outcomes, under preconditions and moderators
(Lewis et al. 2018, Front Public Health 6:136). The file format is described in docs/pathway-models.md.

>>> from moclab.model import load_template, validate_model
>>> model = load_template("recipient-pathway", catalog=None)
>>> len(model.pathways_resolved())
12
"""

from moclab.model.export import render, to_dagitty, to_dot, to_lavaan, to_mermaid
from moclab.model.loading import load_model, loads_model, model_from_dict
from moclab.model.pathway_model import Edge, Node, Pathway, PathwayModel, ResolvedPathway
from moclab.model.refs import DEFAULT_CATALOG, RefResolver, check_refs
from moclab.model.sources import find_model
from moclab.model.templates import list_templates, load_template, template_path
from moclab.model.validation import validate_model
from moclab.model.vocabulary import EDGE_RULES, EdgeType, Level, NodeType

__all__ = [
    "DEFAULT_CATALOG",
    "EDGE_RULES",
    "Edge",
    "EdgeType",
    "Level",
    "Node",
    "NodeType",
    "Pathway",
    "PathwayModel",
    "RefResolver",
    "ResolvedPathway",
    "check_refs",
    "find_model",
    "list_templates",
    "load_model",
    "load_template",
    "loads_model",
    "model_from_dict",
    "render",
    "template_path",
    "to_dagitty",
    "to_dot",
    "to_lavaan",
    "to_mermaid",
    "validate_model",
]
