"""The qualitative project model: users, codes, text sources with coded selections, notes, cases, sets.

It mirrors the REFI-QDA project exchange standard (QDA-XML 1.0, ``urn:QDA-XML:project:1.0``) closely
enough that a `.qdpx` file read by `moclab.qual.refi` and written back loses nothing moclab models, while
staying a set of plain dataclasses that the analyses use directly.

Conventions
-----------
- GUIDs are stored canonical: lower-case, without braces (``canonical_guid``); readers normalise what vendors
  write (upper case, ``{braced}``).
- Selection positions count Unicode code points of `TextSource.text` (a Python ``str`` index), ``end``
  exclusive, as the REFI-QDA standard defines ``startPosition``/``endPosition``.
- The code hierarchy is flat with ``parent`` links; `Project.code_path` gives ``"Parent/Child"``.
- What moclab does not model (pictures, PDF, audio and video sources, links, graphs) is kept in ``extras``
  so an export can write it back.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from moclab.errors import Problem, QualError

CODINGS_COLUMNS = (
    "source",
    "source_name",
    "case",
    "selection",
    "start",
    "end",
    "code",
    "code_name",
    "code_path",
    "coder",
    "text",
)
_CANONICAL_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")


def canonical_guid(value: str) -> str:
    """A GUID in the form moclab stores: lower-case hexadecimal with hyphens, no braces.

    Raises `QualError` when `value` is not a GUID (``8-4-4-4-12`` hexadecimal digits, optionally braced).

    Examples
    --------
    >>> from moclab.qual import canonical_guid
    >>> canonical_guid("{8D1F7C3A-2B4E-4F6A-9C0D-1E2F3A4B5C6D}")  # as some QDA programs write it
    '8d1f7c3a-2b4e-4f6a-9c0d-1e2f3a4b5c6d'
    >>> from moclab.errors import QualError
    >>> try:
    ...     canonical_guid("8d1f7c3a")
    ... except QualError as error:
    ...     print(error)
    '8d1f7c3a' is not a GUID (expected 8-4-4-4-12 hexadecimal digits)
    """
    if _CANONICAL_GUID.fullmatch(value):
        return value
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if _CANONICAL_GUID.fullmatch(text.lower()):
        return text.lower()
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        raise QualError(f"'{value}' is not a GUID", hint="expected 8-4-4-4-12 hexadecimal digits") from None
    if len(text) != 36:
        raise QualError(f"'{value}' is not a GUID", hint="expected 8-4-4-4-12 hexadecimal digits")
    return str(parsed)


def new_guid() -> str:
    """A fresh random GUID in canonical form.

    Examples
    --------
    >>> from moclab.qual import canonical_guid, new_guid
    >>> guid = new_guid()
    >>> len(guid), guid.count("-"), canonical_guid(guid) == guid
    (36, 4, True)
    >>> new_guid() == guid  # random (uuid4): a new one every time; see `stable_guid` for repeatable ones
    False
    """
    return str(uuid.uuid4())


# A namespace of moclab's own for GUIDs derived from names (uuid5), so regenerated files keep their GUIDs.
MOCLAB_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://moclab.org/qual")


def stable_guid(*parts: str) -> str:
    """A GUID derived from names (uuid5 in moclab's namespace): the same names always give the same GUID.

    Examples
    --------
    >>> from moclab.qual import stable_guid
    >>> stable_guid("code", "Trust")
    'fa6bde45-6a24-52da-b887-8c17c84c9154'
    >>> stable_guid("code", "Trust") == stable_guid("code", "Trust")
    True

    The codes of a deductive codebook are the stable GUIDs of their catalog ids:

    >>> from moclab.qual import recipient_pathway_codebook
    >>> recipient_pathway_codebook().code("Trust").guid == stable_guid("recipient-pathway:trust")
    True
    """
    return str(uuid.uuid5(MOCLAB_NAMESPACE, ":".join(parts)))


def _paths_of(codes: list[Code], by_guid: dict[str, Code]) -> dict[str, str]:
    """Code GUID -> ``Parent/Child`` path, each code visited once (memoised; a parent cycle is cut)."""
    paths: dict[str, str] = {}
    for code in codes:
        chain: list[str] = []
        current: Code | None = code
        seen: set[str] = set()
        while current is not None and current.guid not in seen:
            if current.guid in paths:
                chain.append(paths[current.guid])
                break
            seen.add(current.guid)
            chain.append(current.name)
            current = by_guid.get(current.parent) if current.parent else None
        paths[code.guid] = "/".join(reversed(chain))
    return paths


@dataclass
class User:
    """A person who created or changed something in the project (a coder)."""

    guid: str
    name: str
    id: str | None = None


@dataclass
class Code:
    """A code of the codebook; ``parent`` is the GUID of the parent code (None at the top level).

    ``codable`` is False for folders that only group other codes (REFI ``isCodable="false"``).
    """

    guid: str
    name: str
    color: str | None = None
    description: str | None = None
    parent: str | None = None
    codable: bool = True
    note_refs: list[str] = field(default_factory=list)


@dataclass
class Coding:
    """One application of a code to a selection (or to a whole source)."""

    guid: str
    code: str
    creator: str | None = None
    created: datetime | None = None
    note_refs: list[str] = field(default_factory=list)


@dataclass
class Selection:
    """A stretch of a text source, ``start``..``end`` in Unicode code points (``end`` exclusive)."""

    guid: str
    start: int
    end: int
    name: str | None = None
    creator: str | None = None
    created: datetime | None = None
    codings: list[Coding] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)
    description: str | None = None
    modifier: str | None = None
    modified: datetime | None = None


@dataclass
class TextSource:
    """A text document (an interview transcript) with its coded selections.

    ``path`` is the ``plainTextPath`` as found in the file (None when the text was inline); ``rich_path`` the
    ``richTextPath`` (.docx) when there was one. ``codings`` are codings of the whole source (rare).
    """

    guid: str
    name: str
    text: str
    selections: list[Selection] = field(default_factory=list)
    description: str | None = None
    path: str | None = None
    note_refs: list[str] = field(default_factory=list)
    variables: dict[str, object] = field(default_factory=dict)
    rich_path: str | None = None
    codings: list[Coding] = field(default_factory=list)
    creator: str | None = None
    created: datetime | None = None
    modifier: str | None = None
    modified: datetime | None = None

    def quote(self, selection: Selection) -> str:
        """The text a selection covers."""
        return self.text[selection.start : selection.end]


@dataclass
class Note:
    """A note or memo; it is attached where a ``note_refs`` list names its GUID."""

    guid: str
    name: str | None
    text: str
    creator: str | None = None
    created: datetime | None = None
    description: str | None = None
    path: str | None = None
    modifier: str | None = None
    modified: datetime | None = None


@dataclass
class Variable:
    """A case or source attribute; ``type`` is one of Text, Boolean, Integer, Float, Date, DateTime."""

    guid: str
    name: str
    type: str = "Text"
    description: str | None = None


@dataclass
class Case:
    """A unit of analysis (an interviewee) grouping sources, with attribute values by variable name."""

    guid: str
    name: str
    description: str | None = None
    sources: list[str] = field(default_factory=list)
    variables: dict[str, object] = field(default_factory=dict)
    code_refs: list[str] = field(default_factory=list)
    selection_refs: list[str] = field(default_factory=list)


@dataclass
class Set:
    """A named group of codes, sources and notes (REFI ``Set``; ATLAS.ti exports document groups as sets)."""

    guid: str
    name: str
    description: str | None = None
    member_codes: list[str] = field(default_factory=list)
    member_sources: list[str] = field(default_factory=list)
    member_notes: list[str] = field(default_factory=list)


@dataclass
class Project:
    """A qualitative project: what a REFI-QDA ``.qdpx`` holds, as far as moclab models it.

    ``extras`` keeps what moclab does not model so that an export can write it back: ``extras["xml"]`` maps a
    section name (``"Sources"``, ``"Links"``, ``"Graphs"``) to serialized QDA-XML elements, and
    ``extras["files"]`` maps an archive path (``"sources/picture.jpg"``) to its bytes.
    """

    name: str
    origin: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    users: list[User] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    sources: list[TextSource] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    sets: list[Set] = field(default_factory=list)
    extras: dict[str, object] = field(default_factory=dict)
    description: str | None = None
    creator: str | None = None
    modifier: str | None = None
    base_path: str | None = None
    note_refs: list[str] = field(default_factory=list)
    # what a reader noticed but could handle (missing source files, drifting positions); not part of equality
    warnings: list[Problem] = field(default_factory=list, compare=False, repr=False)

    # ----- look-ups -----------------------------------------------------------------------------------------
    # Indexes are cached and rebuilt when the list of codes is replaced or changes length; call `invalidate()`
    # after renaming or re-parenting codes in place.

    def _code_index(self) -> tuple[dict[str, Code], dict[str, list[Code]]]:
        signature = (id(self.codes), len(self.codes))
        cached = self.__dict__.get("_code_index_cache")
        if cached is None or cached[0] != signature:
            by_guid = {code.guid: code for code in self.codes}
            by_name: dict[str, list[Code]] = {}
            for code in self.codes:
                by_name.setdefault(code.name, []).append(code)
            cached = (signature, by_guid, by_name, _paths_of(self.codes, by_guid))
            self.__dict__["_code_index_cache"] = cached
        return cached[1], cached[2]

    def invalidate(self) -> None:
        """Forget cached look-up indexes (after codes were renamed or re-parented in place)."""
        self.__dict__.pop("_code_index_cache", None)

    def code(self, guid_or_name: str) -> Code:
        """The code with this GUID (any case, braces allowed), name or ``Parent/Child`` path.

        Raises `QualError` when no code matches or when a name is shared by several codes (use the path).
        """
        codes, by_name = self._code_index()
        try:
            guid = canonical_guid(guid_or_name)
        except QualError:
            guid = None
        if guid is not None and guid in codes:
            return codes[guid]
        matches = by_name.get(guid_or_name, [])
        if not matches and "/" in guid_or_name:
            matches = [code for code in self.codes if self.code_path(code.guid) == guid_or_name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            paths = ", ".join(sorted(self.code_path(code.guid) for code in matches))
            raise QualError(f"code name '{guid_or_name}' is ambiguous", hint=f"use a path: {paths}")
        raise QualError(f"no code '{guid_or_name}' in project '{self.name}'")

    def code_path(self, guid: str) -> str:
        """The code's path from the top of the hierarchy, names joined by ``/`` (``"Parent/Child"``)."""
        paths = self._code_paths()
        key = guid if guid in paths else canonical_guid(guid)
        if key not in paths:
            raise QualError(f"no code with GUID '{guid}' in project '{self.name}'")
        return paths[key]

    def _code_paths(self) -> dict[str, str]:
        self._code_index()
        return self.__dict__["_code_index_cache"][3]

    def user_names(self) -> dict[str, str]:
        """User GUID -> user name."""
        return {user.guid: user.name for user in self.users}

    def source(self, guid_or_name: str) -> TextSource:
        """The text source with this GUID or name."""
        for source in self.sources:
            if guid_or_name in (source.guid, source.name):
                return source
        raise QualError(f"no text source '{guid_or_name}' in project '{self.name}'")

    def note(self, guid: str) -> Note:
        """The note with this GUID."""
        for note in self.notes:
            if note.guid == guid:
                return note
        raise QualError(f"no note '{guid}' in project '{self.name}'")

    def case_of_source(self) -> dict[str, str]:
        """Source GUID -> name of the first case containing the source."""
        cases: dict[str, str] = {}
        for case in self.cases:
            for source_guid in case.sources:
                cases.setdefault(source_guid, case.name)
        return cases

    def codings_frame(self) -> pd.DataFrame:
        """One row per coding of a text selection.

        Columns: source (GUID), source_name, case (name of the first case containing the source, or None),
        selection (GUID), start, end (code points, end exclusive), code (GUID), code_name, code_path, coder
        (user name or None: the coding's creator, else the selection's), text (the quote).
        """
        codes = self._code_index()[0]
        paths = self._code_paths()
        users = self.user_names()
        cases = self.case_of_source()
        rows: list[tuple[object, ...]] = []
        for source in self.sources:
            case = cases.get(source.guid)
            for selection in source.selections:
                quote = source.text[selection.start : selection.end]
                for coding in selection.codings:
                    code = codes.get(coding.code)
                    creator = coding.creator or selection.creator
                    rows.append(
                        (
                            source.guid,
                            source.name,
                            case,
                            selection.guid,
                            selection.start,
                            selection.end,
                            coding.code,
                            code.name if code else None,
                            paths.get(coding.code),
                            users.get(creator, None) if creator else None,
                            quote,
                        )
                    )
        frame = pd.DataFrame.from_records(rows, columns=list(CODINGS_COLUMNS))
        frame["start"] = frame["start"].astype("int64")
        frame["end"] = frame["end"].astype("int64")
        return frame

    def counts(self) -> dict[str, int]:
        """How many of each thing the project holds (for summaries and tests)."""
        return {
            "users": len(self.users),
            "codes": len(self.codes),
            "sources": len(self.sources),
            "selections": sum(len(source.selections) for source in self.sources),
            "codings": sum(len(sel.codings) for source in self.sources for sel in source.selections)
            + sum(len(source.codings) for source in self.sources),
            "notes": len(self.notes),
            "cases": len(self.cases),
            "variables": len(self.variables),
            "sets": len(self.sets),
        }
