"""The public records of the catalog: `Entry` (one construct, strategy, outcome...) and `Framework`.

Both are frozen dataclasses built by the loader from validated framework files; nothing downstream can change
the bundled facts by accident. Every entry carries its framework's citation and an honest verification level,
so a report that names an entry can cite it and say whether the fact was checked against the source.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Verification = Literal["verified", "verified_secondary", "by_elimination", "unverified"]

#: Verification levels, from most to least certain, with the plain-language meaning shown to users.
VERIFICATION_LEVELS: dict[str, str] = {
    "verified": "verified: seen in the primary source or an authoritative page",
    "verified_secondary": (
        "verified from a secondary source (a peer-reviewed table or an official site), not the primary table"
    ),
    "by_elimination": (
        "not verified: follows by elimination from verified lists (consistent with a secondary source); "
        "check the primary source before relying on it"
    ),
    "unverified": "not verified: check the source before relying on it",
}

#: Levels counted as settled facts; `by_elimination` is likely but was never seen in a source, so it is not.
SETTLED_LEVELS = frozenset({"verified", "verified_secondary"})


def slugify(text: str) -> str:
    """The id form of a name: lower case ASCII words joined by hyphens ("Partnerships & Connections" ->
    "partnerships-and-connections"). Lookups compare names, aliases and ids in this form."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower().replace("&", " and ")).strip("-")


@dataclass(frozen=True)
class Entry:
    """One element of a framework: a cluster, strategy, domain, construct, outcome, competency, criterion...

    Attributes
    ----------
    framework : str
        Id of the framework the entry belongs to (``"eric"``).
    id : str
        Stable slug, unique within the framework (``"facilitation"``); see `qualified_id`.
    name : str
        The name as published.
    kind : str
        What the entry is within its framework (``"cluster"``, ``"strategy"``, ``"construct"``...).
    parent : str or None
        Slug of the parent entry in the same framework (a strategy's cluster, a construct's domain).
    number : int or None
        A published number that identifies the entry (ERIC: the Powell et al. 2015 number).
    aliases : tuple of str
        Other spellings or names under which the entry is known.
    description : str or None
        A short description in moclab's own words, not the authors' definition.
    verification : str
        One of `VERIFICATION_LEVELS`.
    source : str or None
        A note on where the fact comes from or what exactly is (not) verified.
    citation : str
        Full reference of the framework.
    defined_in : str
        ``file:line`` where the entry was written (a bundled file or the user's own).
    """

    framework: str
    id: str
    name: str
    kind: str
    parent: str | None = None
    number: int | None = None
    aliases: tuple[str, ...] = ()
    description: str | None = None
    verification: Verification = "unverified"
    source: str | None = None
    citation: str = ""
    defined_in: str = ""

    @property
    def qualified_id(self) -> str:
        """The id that names the entry across the catalog: ``framework:slug`` (``"eric:facilitation"``)."""
        return f"{self.framework}:{self.id}"

    @property
    def parent_id(self) -> str | None:
        """Qualified id of the parent entry, or None for a top-level entry."""
        return f"{self.framework}:{self.parent}" if self.parent else None

    @property
    def verified(self) -> bool:
        """True only when the fact was seen in a source (`verified` or `verified_secondary`)."""
        return self.verification in SETTLED_LEVELS

    @property
    def verification_text(self) -> str:
        """The verification level in plain words, e.g. ``"not verified: follows by elimination ..."``."""
        return VERIFICATION_LEVELS[self.verification]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for JSON output and tables), including `qualified_id` and `verified`."""
        return {
            "qualified_id": self.qualified_id,
            "framework": self.framework,
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "parent": self.parent_id,
            "number": self.number,
            "aliases": list(self.aliases),
            "description": self.description,
            "verified": self.verified,
            "verification": self.verification,
            "source": self.source,
            "citation": self.citation,
            "defined_in": self.defined_in,
        }

    def __str__(self) -> str:
        return f"{self.qualified_id} ({self.name})"


@dataclass(frozen=True)
class Framework:
    """A framework (ERIC, CFIR 2.0, Proctor's outcomes...) with its metadata and entries in published order.

    Attributes
    ----------
    id : str
        Framework id, the prefix of every qualified entry id (``"cfir2"``).
    name, version : str
        Name and published version (``"2022"``).
    citation : str
        Full reference; `short_citation` is the author-year form for tables.
    url, doi, licence, description, notes : str or None
        Where to read it, how its content may be reused, what it is, and what is not verified.
    sources : tuple of str
        Further references the entries draw on (e.g. the paper that grouped the strategies into clusters).
    kinds : tuple of str
        The kinds of entry the framework has, from the top of its hierarchy down.
    counts : mapping of str to int
        The number of entries of each kind the source publishes (checked when the file is loaded).
    verification : str
        Default verification level of the framework's entries.
    entries : tuple of Entry
        All entries, bundled and added by user files, in file order.
    files : tuple of str
        The file that defines the framework, then any files that extend it.
    bundled : bool
        True for frameworks shipped with moclab.
    """

    id: str
    name: str
    citation: str
    version: str | None = None
    short_citation: str | None = None
    url: str | None = None
    doi: str | None = None
    licence: str | None = None
    description: str | None = None
    notes: str | None = None
    sources: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    # read-only and left out of the hash (a mapping is not hashable); frameworks stay usable as dict keys
    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    verification: Verification = "unverified"
    entries: tuple[Entry, ...] = ()
    files: tuple[str, ...] = ()
    bundled: bool = False

    @property
    def qualified_id(self) -> str:
        """The framework id (frameworks are not nested, so it is already qualified)."""
        return self.id

    @property
    def cite_as(self) -> str:
        """A short citation for tables: `short_citation`, or the full citation cut at its first period."""
        if self.short_citation:
            return self.short_citation
        return self.citation.split(". ", 1)[0]

    def count(self, kind: str | None = None) -> int:
        """Number of entries, or of entries of one kind."""
        return sum(1 for entry in self.entries if kind is None or entry.kind == kind)

    def kind_counts(self) -> dict[str, int]:
        """Number of entries of each kind, in the order of `kinds`."""
        return {kind: self.count(kind) for kind in self.kinds}

    @property
    def unverified_count(self) -> int:
        """How many entries are not settled facts (`by_elimination` or `unverified`)."""
        return sum(1 for entry in self.entries if not entry.verified)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form of the metadata (entries as their qualified ids)."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "citation": self.citation,
            "short_citation": self.cite_as,
            "url": self.url,
            "doi": self.doi,
            "licence": self.licence,
            "description": self.description,
            "notes": self.notes,
            "sources": list(self.sources),
            "kinds": list(self.kinds),
            "counts": dict(self.counts),
            "verification": self.verification,
            "entries": [entry.qualified_id for entry in self.entries],
            "files": list(self.files),
            "bundled": self.bundled,
        }

    def __str__(self) -> str:
        return f"{self.id} ({self.name})"
