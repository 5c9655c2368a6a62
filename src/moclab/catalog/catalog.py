"""`Catalog`: every loaded framework, with lookup by id, number or alias, hierarchy and fuzzy search.

References to entries are written ``framework:key``. The key is matched, in this order, against:

1. the entry's id (``eric:facilitation``; case and spacing do not matter: ``ERIC:Facilitation``);
2. a published number when the key is all digits (``eric:33``, Powell et al. 2015 numbering);
3. the entry's name or one of its aliases in id form (``eric:Purposefully reexamine the implementation``).

A reference without a framework prefix (``trust``) is looked up in every framework. A reference that matches
several entries (``tension-for-change`` is in CFIR 2.0 and CFIR 2009) names none: `Catalog.resolve` returns
None and `Catalog.get` raises an error that lists the candidates.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from moclab.catalog.entries import Entry, Framework, slugify
from moclab.catalog.loader import load_frameworks
from moclab.catalog.search import DEFAULT_CUTOFF, SearchHit, SearchIndex
from moclab.errors import CatalogError, close_matches, did_you_mean, suggestion_hint

if TYPE_CHECKING:
    import pandas as pd


class Catalog:
    """Frameworks and their entries, read from framework files.

    Build one with `Catalog.load` (bundled files plus the user's own) or use `default_catalog` for the bundled
    frameworks alone.

    Examples
    --------
    >>> from moclab.catalog import default_catalog
    >>> catalog = default_catalog()
    >>> catalog.get("eric:33").name
    'Facilitation'
    >>> [entry.qualified_id for entry, score in catalog.search("facilitaton", limit=2)]
    ['eric:facilitation', 'isp-competencies:facilitation']
    """

    def __init__(self, frameworks: Iterable[Framework]) -> None:
        self._frameworks: dict[str, Framework] = {}
        for framework in frameworks:
            if framework.id in self._frameworks:
                raise CatalogError(f"framework '{framework.id}' given twice")
            self._frameworks[framework.id] = framework
        self._by_id: dict[str, Entry] = {}
        self._by_number: dict[tuple[str, int], Entry] = {}
        self._by_name: dict[tuple[str, str], list[Entry]] = {}
        self._children: dict[str, list[Entry]] = {fid: [] for fid in self._frameworks}
        for framework in self._frameworks.values():
            for entry in framework.entries:
                self._by_id[entry.qualified_id] = entry
                self._children.setdefault(entry.qualified_id, [])
                if entry.number is not None:
                    self._by_number[(framework.id, entry.number)] = entry
                for text in (entry.name, *entry.aliases):
                    matches = self._by_name.setdefault((framework.id, slugify(text)), [])
                    if entry not in matches:
                        matches.append(entry)
        for entry in self._by_id.values():
            self._children[entry.parent_id or entry.framework].append(entry)
        self._index = SearchIndex(list(self._by_id.values()))

    @classmethod
    def load(
        cls, extra_paths: Iterable[str | Path] = (), *, bundled: bool = True, environment: bool = True
    ) -> Catalog:
        """Load the bundled frameworks, the given files or folders, and those named in ``MOCLAB_FRAMEWORKS``.

        Parameters
        ----------
        extra_paths : iterable of str or Path
            Framework files, or folders whose ``*.yaml``/``*.yml`` files are framework files.
        bundled : bool
            Include the frameworks shipped with moclab (default True).
        environment : bool
            Include files and folders named in the ``MOCLAB_FRAMEWORKS`` environment variable (default True).

        Raises
        ------
        moclab.catalog.FrameworkFileError
            Listing every problem in every file, located by file, line and column.
        """
        return cls(load_frameworks(extra_paths, bundled=bundled, environment=environment))

    # -- frameworks ------------------------------------------------------------------------------------------

    @property
    def frameworks(self) -> Mapping[str, Framework]:
        """Framework id -> `Framework`, in catalog order (read-only)."""
        return MappingProxyType(self._frameworks)

    def framework(self, framework_id: str) -> Framework:
        """The framework with this id (case-insensitive); unknown ids raise CatalogError with suggestions."""
        key = framework_id.strip().lower()
        if key in self._frameworks:
            return self._frameworks[key]
        raise CatalogError(
            f"unknown framework '{framework_id}'",
            hint=did_you_mean(key, self._frameworks) or "known frameworks: " + ", ".join(self._frameworks),
        )

    # -- entries ---------------------------------------------------------------------------------------------

    def matches(self, ref: str) -> list[Entry]:
        """Every entry `ref` could name (normally one; none or several when it is unknown or ambiguous).

        Parameters
        ----------
        ref : str
            ``framework:id``, ``framework:number``, ``framework:name-or-alias``, or any of these without the
            framework prefix.
        """
        text = ref.strip()
        if ":" in text:
            prefix, key = (part.strip() for part in text.split(":", 1))
            framework_id = prefix.lower()
            if framework_id not in self._frameworks:
                return []
            exact = self._exact_in(framework_id, key)
            return [exact] if exact is not None else self._named_in(framework_id, key)
        found = [entry for fid in self._frameworks if (entry := self._exact_in(fid, text)) is not None]
        return found or [entry for fid in self._frameworks for entry in self._named_in(fid, text)]

    def resolve(self, ref: str) -> Entry | None:
        """The entry `ref` names, or None when it names no single entry (unknown or ambiguous).

        `get` says which of the two it is, with suggestions or the candidates.

        Parameters
        ----------
        ref : str
            ``framework:id``, ``framework:number``, ``framework:name-or-alias``, or any of these without the
            framework prefix when that matches a single entry in the catalog.
        """
        found = self.matches(ref)
        return found[0] if len(found) == 1 else None

    def get(self, ref: str) -> Entry:
        """The entry `ref` names (see `resolve`).

        Raises
        ------
        CatalogError
            When nothing matches (with the closest ids as "did you mean"), or when `ref` matches several
            entries (a bare id used by two frameworks, a name shared by two entries), listing them.
        """
        found = self.matches(ref)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise CatalogError(
                f"'{ref}' is ambiguous: it matches " + ", ".join(e.qualified_id for e in found),
                hint="write the full id, e.g. " + found[0].qualified_id,
            )
        text = ref.strip()
        framework_id = None
        if ":" in text:
            prefix, key = (part.strip() for part in text.split(":", 1))
            framework_id = prefix.lower()
            if framework_id not in self._frameworks:
                raise CatalogError(
                    f"unknown framework '{prefix}' in '{ref}'",
                    hint=did_you_mean(framework_id, self._frameworks)
                    or "known frameworks: " + ", ".join(self._frameworks),
                )
            text = key
        # The search ranks typos and abbreviations well; plain id similarity covers mistyped slugs it misses.
        hits = self.search(text.replace("-", " "), framework_id, limit=3)
        # only the near-best hits: a clear winner should not come with a tail of weak alternatives
        close = [hit.entry.qualified_id for hit in hits if hit.score >= hits[0].score - 10]
        if not close:
            pool = self.entries(framework_id)
            slugs = close_matches(slugify(text), [e.id for e in pool])
            close = [e.qualified_id for slug in slugs for e in pool if e.id == slug][:3]
        hint = suggestion_hint(close) or "try: moclab catalog search TEXT"
        raise CatalogError(f"no catalog entry '{ref}'", hint=hint)

    def __getitem__(self, ref: str) -> Entry:
        return self.get(ref)

    def __contains__(self, ref: object) -> bool:
        if not isinstance(ref, str):
            return False
        return self.resolve(ref) is not None

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def entries(self, framework: str | None = None, kind: str | None = None) -> list[Entry]:
        """Entries in catalog order, optionally of one framework and/or one kind (e.g. ``"strategy"``)."""
        pool = self.framework(framework).entries if framework is not None else self._by_id.values()
        wanted = kind.strip().lower() if kind is not None else None
        return [entry for entry in pool if wanted is None or entry.kind == wanted]

    def children(self, ref: str) -> list[Entry]:
        """The entries directly under an entry, or the top-level entries of a framework given by its id."""
        if ref.strip().lower() in self._frameworks:
            return list(self._children[ref.strip().lower()])
        return list(self._children[self.get(ref).qualified_id])

    def descendants(self, ref: str) -> list[Entry]:
        """All entries below an entry (or a framework), depth first in file order."""
        found = []
        for child in self.children(ref):
            found.append(child)
            found.extend(self.descendants(child.qualified_id))
        return found

    def parent(self, ref: str) -> Entry | None:
        """The parent entry, or None for a top-level entry."""
        entry = self.get(ref)
        return self._by_id[entry.parent_id] if entry.parent_id else None

    def ancestors(self, ref: str) -> list[Entry]:
        """The parent chain from the top of the framework down to (not including) the entry."""
        chain = []
        entry = self.get(ref)
        while entry.parent_id:
            entry = self._by_id[entry.parent_id]
            chain.append(entry)
        return chain[::-1]

    def search(
        self,
        text: str,
        framework: str | None = None,
        limit: int | None = 10,
        *,
        kind: str | None = None,
        cutoff: float = DEFAULT_CUTOFF,
    ) -> list[SearchHit]:
        """Entries whose name, alias, id or description resemble `text`, best first, as (entry, score) pairs.

        Typos ("facilitaton"), abbreviated words ("psych safety") and other word orders are tolerated; see
        `moclab.catalog.search` for the scoring.

        Parameters
        ----------
        text : str
            What to look for.
        framework : str, optional
            Only search this framework.
        limit : int or None
            Most hits to return (default 10; None for all above the cutoff).
        kind : str, optional
            Only entries of this kind.
        cutoff : float
            Lowest score (0-100) returned.
        """
        if framework is None and kind is None:
            return self._index.search(text, limit=limit, cutoff=cutoff)
        index = SearchIndex(self.entries(framework, kind))
        return index.search(text, limit=limit, cutoff=cutoff)

    def to_frame(self, framework: str | None = None) -> pd.DataFrame:
        """The entries as a DataFrame, one row per entry (columns as in `Entry.to_dict`)."""
        import pandas as pd  # imported here: the catalog is used by the CLI, which should start fast

        return pd.DataFrame([entry.to_dict() for entry in self.entries(framework)])

    # -- helpers ---------------------------------------------------------------------------------------------

    def _exact_in(self, framework_id: str, key: str) -> Entry | None:
        slug = slugify(key)
        entry = self._by_id.get(f"{framework_id}:{slug}")
        if entry is None and key.isdigit():
            entry = self._by_number.get((framework_id, int(key)))
        return entry

    def _named_in(self, framework_id: str, key: str) -> list[Entry]:
        return list(self._by_name.get((framework_id, slugify(key)), []))

    def __repr__(self) -> str:
        return f"Catalog({len(self._frameworks)} frameworks, {len(self)} entries)"


@functools.cache
def default_catalog() -> Catalog:
    """The bundled frameworks only (no user files, no ``MOCLAB_FRAMEWORKS``), loaded once and cached."""
    return Catalog.load(environment=False)
