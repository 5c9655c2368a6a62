"""What backs each link of a pathway, for the plausibility criterion: templates, the catalog, citations.

A link ``source -> target`` is backed when

* a bundled pathway-model template (each with its citation) has a causal edge between the same nodes, matched
  by node id or by a shared catalog reference;
* a catalog framework that describes a sequence of stages (entries with a stage number, such as the
  recipient-pathway of Metz et al. 2024) holds both nodes' references, with the target's stage after the
  source's;
* the study gives citations for the link (``evidence.links`` in moclab.yaml).

The pathway model's own citation (the model is a published one, or the study's own theory paper) is kept as
*theory*: it says the model was proposed, not that a source predicts this particular link, so on its own it
gives plausibility at most "partly met" (docs/criteria.md).

Only the existence of a source is checked here; whether the source says what the link claims is for the
reader, which is why every source is named in the verdict.
"""

from __future__ import annotations

import functools

from moclab.errors import MoclabError
from moclab.evidence.plan import PathwayPlan
from moclab.evidence.rules import LinkBacking
from moclab.model import PathwayModel, list_templates, load_template

__all__ = ["link_backing"]


@functools.lru_cache(maxsize=1)
def _templates() -> tuple[PathwayModel, ...]:
    """The bundled templates with their edge types inferred (loaded once per process)."""
    models = []
    for name in list_templates():
        try:
            models.append(load_template(name, catalog=None).with_inferred_edge_types())
        except MoclabError:  # a broken template must not stop an analysis; its tests catch it
            continue
    return tuple(models)


@functools.lru_cache(maxsize=1)
def _catalog() -> object | None:
    try:
        from moclab.catalog import default_catalog

        return default_catalog()
    except MoclabError:
        return None


def _refs(model: PathwayModel, node_id: str) -> set[str]:
    return set(model.node(node_id).all_refs) if model.has_node(node_id) else set()


def _matches(model: PathwayModel, node_id: str, refs: set[str], other: PathwayModel, other_id: str) -> bool:
    return node_id == other_id or bool(refs & _refs(other, other_id))


def _template_sources(model: PathwayModel, source: str, target: str) -> list[str]:
    found = []
    source_refs, target_refs = _refs(model, source), _refs(model, target)
    for template in _templates():
        for edge in template.causal_edges():
            if edge.target_edge is not None:
                continue
            if _matches(model, source, source_refs, template, edge.source) and _matches(
                model, target, target_refs, template, edge.target
            ):
                found.append(f"template '{template.id}' ({template.title_or_id})")
                break
    return found


def _stage(catalog: object, ref: str) -> tuple[str, int, str] | None:
    """(framework, stage number, framework name) of a catalog reference, through its parent if needed."""
    resolve = getattr(catalog, "resolve", None)
    if resolve is None:
        return None
    entry = resolve(ref)
    if entry is None:
        return None
    number = entry.number if entry.kind == "stage" else None
    if number is None and entry.parent:
        parent = resolve(f"{entry.framework}:{entry.parent}")
        if parent is not None and parent.kind == "stage":
            number = parent.number
    if number is None:
        return None
    framework = catalog.framework(entry.framework)  # type: ignore[attr-defined]
    return entry.framework, int(number), str(getattr(framework, "short_citation", None) or framework.name)


def _catalog_sources(model: PathwayModel, source: str, target: str) -> list[str]:
    catalog = _catalog()
    if catalog is None:
        return []
    found = []
    source_stages = [s for s in (_stage(catalog, ref) for ref in _refs(model, source)) if s]
    target_stages = [s for s in (_stage(catalog, ref) for ref in _refs(model, target)) if s]
    for framework, first, name in source_stages:
        for other, second, _ in target_stages:
            if framework == other and first < second:
                found.append(f"catalog framework '{framework}' ({name}): stage {first} → stage {second}")
    return list(dict.fromkeys(found))


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def link_backing(model: PathwayModel, plan: PathwayPlan) -> list[LinkBacking]:
    """Every link of the analysed part of the pathway with the sources that back it."""
    links = []
    for source, target in plan.links:
        sources: list[str] = [
            f"citation in moclab.yaml: {_short(c)}" for c in plan.citations.get((source, target), ())
        ]
        sources += _template_sources(model, source, target)
        sources += _catalog_sources(model, source, target)
        theory = (f"the model's citation ({_short(model.citation, 40)})",) if model.citation else ()
        links.append(LinkBacking(source, target, plan.signs.get((source, target), 1), tuple(sources), theory))
    return links
