"""The catalog terms an activity records: core practice components, ISP competencies and ERIC strategies.

An activity stores them as lists of catalog ids (``isp-competencies:facilitation``), validated against the
catalog the platform runs with: the bundled frameworks plus the files of the ``MOCLAB_WEB_FRAMEWORKS``
setting. The bundled ``eis`` framework (Aldridge et al. 2023) lists no core practice components, because
their names were not verified; a team supplies them in its own ``extends: eis`` file (docs/catalog.md), and
until then the activity form says so instead of offering invented names.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from moclab.catalog import Catalog, Entry


@dataclass(frozen=True)
class TermSet:
    """One list of catalog terms an activity can record: which framework, which kind of entry."""

    field: str
    label: str
    framework: str
    kind: str


TERM_SETS: dict[str, TermSet] = {
    term.field: term
    for term in (
        TermSet("core_components", "Core practice components", "eis", "core practice component"),
        TermSet("competencies", "ISP competencies", "isp-competencies", "competency"),
        TermSet("strategies", "ERIC strategies", "eric", "strategy"),
    )
}

#: The mark shown beside a term, by how certain the catalog is of it (`moclab.catalog.VERIFICATION_LEVELS`).
VERIFICATION_MARKS = {
    "verified": "",
    "verified_secondary": "",
    "by_elimination": "not verified",
    "unverified": "not verified",
}


@functools.lru_cache(maxsize=4)
def _load(files: tuple[str, ...]) -> Catalog:
    return Catalog.load(files, environment=False)


def platform_catalog() -> Catalog:
    """The catalog of the running platform: the bundled frameworks and the configured framework files."""
    return _load(tuple(settings.MOCLAB_FRAMEWORK_FILES))


def entries(field: str) -> list[Entry]:
    """The catalog entries an activity may record in `field` (``core_components``, ``competencies``,
    ``strategies``), in catalog order."""
    term = TERM_SETS[field]
    catalog = platform_catalog()
    if term.framework not in catalog.frameworks:
        return []
    return catalog.entries(term.framework, kind=term.kind)


def label(entry: Entry) -> str:
    """The name shown for a term, with its verification mark when the catalog has not verified it."""
    mark = VERIFICATION_MARKS[entry.verification]
    return f"{entry.name} ({mark})" if mark else entry.name


def grouped_choices(field: str) -> list[tuple[str, list[tuple[str, str]]]] | list[tuple[str, str]]:
    """Choices for a form field: grouped under their parent entry (an ERIC cluster, a competency domain)
    when the entries have parents, else a flat list."""
    found = entries(field)
    catalog = platform_catalog()
    if not any(entry.parent for entry in found):
        return [(entry.qualified_id, label(entry)) for entry in found]
    groups: dict[str, list[tuple[str, str]]] = {}
    for entry in found:
        parent = catalog.resolve(entry.parent_id) if entry.parent_id else None
        groups.setdefault(parent.name if parent else "Other", []).append((entry.qualified_id, label(entry)))
    return list(groups.items())


def names(field: str, ids: Iterable[str]) -> list[str]:
    """The names of stored ids, for display; an id the catalog no longer has is shown as it was stored."""
    known = {entry.qualified_id: entry for entry in entries(field)}
    return [label(known[i]) if i in known else i for i in ids]


@deconstructible
class CatalogIdsValidator:
    """Validates a stored list of catalog ids: a list of distinct ids of `field`'s framework and kind."""

    def __init__(self, field: str) -> None:
        if field not in TERM_SETS:
            raise ValueError(f"unknown term set {field!r}")
        self.field = field

    def __call__(self, value: object) -> None:
        term = TERM_SETS[self.field]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError("%(label)s must be a list of catalog ids", params={"label": term.label})
        if len(set(value)) != len(value):
            raise ValidationError("%(label)s lists an id twice", params={"label": term.label})
        known = {entry.qualified_id for entry in entries(self.field)}
        unknown = [item for item in value if item not in known]
        if unknown:
            raise ValidationError(
                "%(ids)s: not among the %(label)s of the catalog (%(framework)s, kind %(kind)s)",
                params={
                    "ids": ", ".join(unknown),
                    "label": term.label.lower(),
                    "framework": term.framework,
                    "kind": term.kind,
                },
                code="unknown_term",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CatalogIdsValidator) and other.field == self.field

    def __hash__(self) -> int:
        return hash(self.field)
