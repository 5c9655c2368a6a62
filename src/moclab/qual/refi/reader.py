"""Reading REFI-QDA projects (`.qdpx` archives, `.qde` files) and codebooks (`.qdc`) into a `Project`,
handling what real exports do differently as `moclab.qual.refi` describes; problems are collected by
element."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Literal

import numpy as np

from moclab.errors import Problem, ProblemList, QualError, display_path
from moclab.qual.project import (
    VARIABLE_TYPES,
    Case,
    Code,
    Coding,
    Note,
    Project,
    Selection,
    Set,
    TextSource,
    User,
    Variable,
    canonical_guid,
)
from moclab.qual.refi.standard import NS_PROJECT, PROJECT_FILE, SOURCES_FOLDER, internal_name, parse_datetime
from moclab.qual.safety import DEFAULT_LIMITS, Limits, SafeArchive, decode_text, parse_xml
from moclab.qual.transcripts import docx_plain_text

Positions = Literal["codepoints", "utf16"]
Newlines = Literal["keep", "lf"]

# Attributes whose values are GUIDs (schema type GUIDType): normalised in kept elements too.
GUID_ATTRIBUTES = frozenset(
    {
        "guid",
        "targetGUID",
        "creatingUser",
        "modifyingUser",
        "creatingUserGUID",
        "modifyingUserGUID",
        "representedGUID",
        "sourceVertex",
        "targetVertex",
        "originGUID",
        "fromSyncPoint",
        "toSyncPoint",
    }
)
# Attributes of kept elements that name files (internal://...).
PATH_ATTRIBUTES = ("path", "plainTextPath", "richTextPath")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _strip_namespaces(root: ET.Element) -> None:
    """Element names without their namespace, once for the whole tree (so look-ups compare plain names)."""
    for node in root.iter():
        if node.tag[0] == "{":
            node.tag = node.tag.rpartition("}")[2]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if child.tag == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if child.tag == name:
            return child
    return None


def _child_text(element: ET.Element, name: str) -> str | None:
    child = _child(element, name)
    if child is None:
        return None
    return child.text or ""


# ===== positions ==================================================================================


def utf16_to_codepoints(text: str, positions: np.ndarray) -> np.ndarray:
    """Positions counted in UTF-16 code units (as .NET and Java count) turned into code-point positions.

    A character outside the Basic Multilingual Plane takes two UTF-16 units and one code point; a position
    inside such a pair is moved to the start of the character.
    """
    if not _ASTRAL.search(text):
        return positions
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    units_before = np.concatenate(([0], np.cumsum(1 + (points > 0xFFFF))))
    return np.searchsorted(units_before, positions, side="right") - 1


def normalise_newlines(text: str, positions: np.ndarray) -> tuple[str, np.ndarray]:
    """Text with CRLF and lone CR turned into LF, and positions moved to point at the same characters.

    Each CRLF before a position shortens the text by one code point, so the position moves back by the
    number of CRLF pairs that start before it.
    """
    if "\r" not in text:
        return text, positions
    pairs = np.array([match.start() for match in re.finditer("\r\n", text)], dtype=np.int64)
    moved = positions - np.searchsorted(pairs, positions, side="left")
    return text.replace("\r\n", "\n").replace("\r", "\n"), moved


# ===== reading ====================================================================================


class _Files:
    """Where the files a project refers to are read from: a .qdpx archive or the folder of a .qde file."""

    def __init__(self, archive: SafeArchive | None = None, folder: Path | None = None) -> None:
        self.archive = archive
        self.folder = folder

    def read(self, reference: str) -> tuple[bytes, str] | None:
        """The bytes of a referenced file and its name inside ``sources/``, or None when not available."""
        name = internal_name(reference)
        if name is None or not name:
            return None
        if self.archive is not None:
            for candidate in (f"{SOURCES_FOLDER}/{name}", name):
                if self.archive.find(candidate) is not None:
                    return self.archive.read(candidate), name
            return None
        if self.folder is not None:
            base = self.folder.resolve()
            for folder in ("sources", "Sources", "SOURCES", "."):
                path = (base / folder / name).resolve()
                if path.is_relative_to(base) and path.is_file():
                    return path.read_bytes(), name
        return None


class _Reader:
    """Turns a parsed QDA-XML project into a `Project`, collecting problems by element."""

    def __init__(
        self,
        label: str,
        files: _Files,
        *,
        positions: Positions,
        newlines: Newlines,
        limits: Limits,
    ) -> None:
        self.label = label
        self.files = files
        self.positions = positions
        self.newlines = newlines
        self.limits = limits
        self.problems = ProblemList(f"project {label}")
        self.guids: dict[str, str] = {}
        self.variables_by_guid: dict[str, Variable] = {}
        self.kept_files: dict[str, bytes] = {}  # files of sources/ that an export writes back
        # GUIDs and time stamps repeat (coders, codes, batch imports): each distinct text is parsed once
        self.guid_cache: dict[str, str] = {}
        self.time_cache: dict[str, datetime | None] = {}

    # --- helpers ---
    def warn(self, message: str, element: str, hint: str | None = None) -> None:
        self.problems.problems.append(
            Problem(message, file=self.label, field=element, hint=hint, severity="warning")
        )

    def error(self, message: str, element: str, hint: str | None = None) -> None:
        self.problems.problems.append(Problem(message, file=self.label, field=element, hint=hint))

    def guid(self, element: ET.Element, attribute: str, where: str, *, required: bool = True) -> str | None:
        value = element.get(attribute)
        if value is None:
            if required:
                self.error(f"attribute '{attribute}' is missing", where)
            return None
        known = self.guid_cache.get(value)
        if known is not None:
            return known
        try:
            self.guid_cache[value] = canonical_guid(value)
            return self.guid_cache[value]
        except QualError:
            self.error(f"{attribute}='{value}' is not a GUID", where, hint="8-4-4-4-12 hexadecimal digits")
            return None

    def register(self, guid: str | None, kind: str, where: str) -> None:
        if guid is None:
            return
        if guid in self.guids:
            self.warn(f"GUID {guid} is used again (first by a {self.guids[guid]})", where)
        else:
            self.guids[guid] = kind

    def when(self, element: ET.Element, attribute: str, where: str) -> datetime | None:
        value = element.get(attribute)
        if value is None:
            return None
        if value in self.time_cache:
            return self.time_cache[value]
        try:
            parsed = parse_datetime(value)
        except ValueError:
            self.warn(f"{attribute}='{value}' is not a date and time; ignored", where)
            parsed = None
        self.time_cache[value] = parsed
        return parsed

    def audit(self, element: ET.Element, where: str) -> dict[str, str | datetime | None]:
        """Who created and last changed an element, and when (the REFI audit attributes)."""
        return {
            "creator": self.guid(element, "creatingUser", where, required=False),
            "created": self.when(element, "creationDateTime", where),
            "modifier": self.guid(element, "modifyingUser", where, required=False),
            "modified": self.when(element, "modifiedDateTime", where),
        }

    def note_refs(self, element: ET.Element, where: str) -> list[str]:
        refs = [self.guid(ref, "targetGUID", f"{where}/NoteRef") for ref in _children(element, "NoteRef")]
        return [ref for ref in refs if ref]

    def refs(self, element: ET.Element, name: str, where: str, attribute: str = "targetGUID") -> list[str]:
        found = [self.guid(ref, attribute, f"{where}/{name}") for ref in _children(element, name)]
        return [ref for ref in found if ref]

    # --- sections ---
    def read(self, root: ET.Element) -> Project:
        if _local(root.tag) != "Project":
            raise QualError(
                f"{self.label}: the root element is <{_local(root.tag)}>, not <Project>",
                hint="a .qdc codebook is read with read_codebook",
            )
        if not root.tag.startswith("{" + NS_PROJECT + "}"):
            self.warn(f"the root element is not in the namespace {NS_PROJECT}", "Project")
        _strip_namespaces(root)
        project = Project(
            name=root.get("name") or Path(self.label).stem,
            origin=root.get("origin"),
            created=self.when(root, "creationDateTime", "Project"),
            modified=self.when(root, "modifiedDateTime", "Project"),
            creator=self.guid(root, "creatingUserGUID", "Project", required=False),
            modifier=self.guid(root, "modifyingUserGUID", "Project", required=False),
            base_path=root.get("basePath"),
        )
        if root.get("name") is None:
            self.warn("the project has no name; the file name is used", "Project")
        kept: dict[str, list[str]] = {}
        for section in root:
            name = section.tag
            if name == "Users":
                project.users = [self.user(element) for element in _children(section, "User")]
            elif name == "CodeBook":
                codes_element = _child(section, "Codes")
                if codes_element is not None:
                    for element in _children(codes_element, "Code"):
                        self.code(element, None, project.codes, "CodeBook")
            elif name == "Variables":
                project.variables = [self.variable(element) for element in _children(section, "Variable")]
                self.variables_by_guid = {variable.guid: variable for variable in project.variables}
            elif name == "Cases":
                project.cases = [self.case(element) for element in _children(section, "Case")]
            elif name == "Sources":
                for element in section:
                    if element.tag == "TextSource":
                        project.sources.append(self.text_source(element, project))
                    else:
                        kept.setdefault("Sources", []).append(self.keep(element))
            elif name == "Notes":
                for element in _children(section, "Note"):
                    project.notes.append(self.note(element, project))
            elif name == "Sets":
                project.sets = [self.set(element) for element in _children(section, "Set")]
            elif name in ("Links", "Graphs"):
                kept.setdefault(name, []).extend(self.keep(element) for element in section)
            elif name == "Description":
                project.description = section.text or ""
            elif name == "NoteRef":
                ref = self.guid(section, "targetGUID", "Project/NoteRef")
                if ref:
                    project.note_refs.append(ref)
            else:
                self.warn(f"unknown element <{name}> ignored", f"Project/{name}")
        if kept:
            project.extras["xml"] = kept
        if self.kept_files:
            project.extras["files"] = self.kept_files
        self.check_references(project)
        project.warnings = self.problems.warnings
        self.problems.raise_if_any()
        return project

    def user(self, element: ET.Element) -> User:
        guid = self.guid(element, "guid", "Users/User") or ""
        self.register(guid, "user", f"User[{guid}]")
        return User(guid=guid, name=element.get("name") or element.get("id") or guid, id=element.get("id"))

    def code(self, element: ET.Element, parent: str | None, codes: list[Code], where: str) -> None:
        guid = self.guid(element, "guid", f"{where}/Code[name={element.get('name')!r}]") or ""
        here = f"Code[{guid}]"
        self.register(guid, "code", here)
        codable = element.get("isCodable")
        if codable is None:
            self.warn("attribute 'isCodable' is missing; taken as true", here)
        codes.append(
            Code(
                guid=guid,
                name=element.get("name") or "",
                color=element.get("color"),
                description=_child_text(element, "Description"),
                parent=parent,
                codable=(codable or "true").strip().lower() in ("true", "1"),
                note_refs=self.note_refs(element, here),
            )
        )
        for child in _children(element, "Code"):
            self.code(child, guid, codes, here)

    def variable(self, element: ET.Element) -> Variable:
        guid = self.guid(element, "guid", "Variables/Variable") or ""
        self.register(guid, "variable", f"Variable[{guid}]")
        kind = element.get("typeOfVariable") or "Text"
        if kind not in VARIABLE_TYPES:
            self.warn(
                f"typeOfVariable='{kind}' is not one of {', '.join(VARIABLE_TYPES)}; taken as Text",
                f"Variable[{guid}]",
            )
            kind = "Text"
        return Variable(
            guid=guid,
            name=element.get("name") or guid,
            type=kind,
            description=_child_text(element, "Description"),
        )

    def variable_values(self, element: ET.Element, where: str) -> dict[str, object]:
        values: dict[str, object] = {}
        for value_element in _children(element, "VariableValue"):
            ref = _child(value_element, "VariableRef")
            target = self.guid(ref, "targetGUID", f"{where}/VariableValue") if ref is not None else None
            if target is None:
                self.error("VariableValue without a VariableRef", where)
                continue
            variable = self.variables_by_guid.get(target)
            if variable is None:
                self.warn(f"VariableValue refers to an unknown variable {target}", where)
                key = target
            else:
                key = variable.name
            values[key] = self.value(value_element, where)
        return values

    def value(self, element: ET.Element, where: str) -> object:
        for child in element:
            kind = child.tag
            text = (child.text or "").strip()
            try:
                if kind == "TextValue":
                    return child.text or ""
                if kind == "BooleanValue":
                    return text.lower() in ("true", "1")
                if kind == "IntegerValue":
                    return int(text)
                if kind == "FloatValue":
                    return float(Decimal(text))
                if kind == "DateValue":
                    return date.fromisoformat(text)
                if kind == "DateTimeValue":
                    return parse_datetime(text)
            except (ValueError, InvalidOperation):
                self.warn(f"<{kind}>{text}</{kind}> cannot be read; kept as text", where)
                return text
        return None

    def case(self, element: ET.Element) -> Case:
        guid = self.guid(element, "guid", "Cases/Case") or ""
        here = f"Case[{guid}]"
        self.register(guid, "case", here)
        return Case(
            guid=guid,
            name=element.get("name") or "",
            description=_child_text(element, "Description"),
            sources=self.refs(element, "SourceRef", here),
            variables=self.variable_values(element, here),
            code_refs=self.refs(element, "CodeRef", here),
            selection_refs=self.refs(element, "SelectionRef", here),
        )

    def set(self, element: ET.Element) -> Set:
        guid = self.guid(element, "guid", "Sets/Set") or ""
        here = f"Set[{guid}]"
        self.register(guid, "set", here)
        return Set(
            guid=guid,
            name=element.get("name") or "",
            description=_child_text(element, "Description"),
            member_codes=self.refs(element, "MemberCode", here),
            member_sources=self.refs(element, "MemberSource", here),
            member_notes=self.refs(element, "MemberNote", here),
        )

    def coding(self, element: ET.Element, where: str) -> Coding | None:
        guid = self.guid(element, "guid", f"{where}/Coding")
        here = f"{where}/Coding[{guid}]"
        self.register(guid, "coding", here)
        code: str | None = None
        has_ref = False
        note_refs: list[str] = []
        for child in element:
            if child.tag == "CodeRef" and not has_ref:
                has_ref = True
                code = self.guid(child, "targetGUID", f"{here}/CodeRef")
            elif child.tag == "NoteRef":
                ref = self.guid(child, "targetGUID", f"{here}/NoteRef")
                if ref:
                    note_refs.append(ref)
        if code is None:
            if not has_ref:
                self.error("Coding without a CodeRef", here)
            return None
        return Coding(
            guid=guid or "",
            code=code,
            creator=self.guid(element, "creatingUser", here, required=False),
            created=self.when(element, "creationDateTime", here),
            note_refs=note_refs,
        )

    def keep_file(self, reference: str | None) -> tuple[bytes, str] | None:
        """Read a referenced internal file and keep it for export; None when it is not in the project."""
        if not reference:
            return None
        found = self.files.read(reference)
        if found is not None and reference.startswith("internal://"):
            self.kept_files[found[1]] = found[0]
        return found

    def load_text(self, element: ET.Element, where: str) -> tuple[str, str | None, bool]:
        """The text of a text source or note, the plainTextPath it came from, and whether it was found."""
        inline = _child_text(element, "PlainTextContent")
        path = element.get("plainTextPath")
        if inline is not None:
            return (inline[1:] if inline.startswith("\ufeff") else inline), path, True
        plain = self.files.read(path) if path else None
        if plain is not None:
            return decode_text(plain[0], f"{self.label}: {SOURCES_FOLDER}/{plain[1]}"), path, True
        rich = self.keep_file(element.get("richTextPath"))
        if rich is not None:
            text = docx_plain_text(rich[0], f"{self.label}: {SOURCES_FOLDER}/{rich[1]}", self.limits)
            return text, path, True
        reference = path or element.get("richTextPath")
        if reference:
            self.warn(
                f"the text file {reference} is not in the project; the text is left empty",
                where,
                hint="quotes of this source will be empty; export the project with its sources",
            )
        else:
            self.warn("neither PlainTextContent nor plainTextPath; the text is empty", where)
        return "", path, False

    def text_source(self, element: ET.Element, project: Project) -> TextSource:
        guid = self.guid(element, "guid", "Sources/TextSource") or ""
        here = f"TextSource[{guid}]"
        self.register(guid, "source", here)
        text, path, loaded = self.load_text(element, here)
        rich = element.get("richTextPath")
        if rich and internal_name(rich) not in self.kept_files:
            self.keep_file(rich)
        name = element.get("name")
        if not name:
            name = PurePosixPath((path or rich or guid).split("://")[-1]).name or guid
        selections: list[Selection] = []
        starts: list[int] = []
        ends: list[int] = []
        for selection_element in _children(element, "PlainTextSelection"):
            selection = self.selection(selection_element, here)
            if selection is not None:
                selections.append(selection)
                starts.append(selection.start)
                ends.append(selection.end)
        text = self.adjust_positions(text, selections, starts, ends, project, here)
        if loaded:
            length = len(text)
            outside = [s for s in selections if not 0 <= s.start <= s.end <= length]
            if outside:
                first = outside[0]
                self.warn(
                    f"{len(outside)} selection(s) reach outside the text of {length:,} code points "
                    f"(first: {first.guid}, {first.start}-{first.end})",
                    here,
                    hint="the positions may count another version of the text",
                )
        return TextSource(
            guid=guid,
            name=name,
            text=text,
            selections=selections,
            description=_child_text(element, "Description"),
            path=path,
            note_refs=self.note_refs(element, here),
            variables=self.variable_values(element, here),
            rich_path=rich,
            codings=[c for c in (self.coding(e, here) for e in _children(element, "Coding")) if c],
            **self.audit(element, here),
        )

    def adjust_positions(
        self,
        text: str,
        selections: list[Selection],
        starts: list[int],
        ends: list[int],
        project: Project,
        where: str,
    ) -> str:
        """Apply the requested position and line-ending conventions to one source's text and selections."""
        if not selections:
            return text if self.newlines == "keep" else normalise_newlines(text, np.empty(0, np.int64))[0]
        start_array = np.asarray(starts, dtype=np.int64)
        end_array = np.asarray(ends, dtype=np.int64)
        if self.positions == "utf16":
            start_array = utf16_to_codepoints(text, start_array)
            end_array = utf16_to_codepoints(text, end_array)
        elif (project.origin or "").lower().startswith("nvivo") and _ASTRAL.search(text):
            self.warn(
                "NVivo counts positions in UTF-16 units and this text has characters outside the Basic "
                "Multilingual Plane (emoji): selections after them drift",
                where,
                hint="read the project with positions='utf16' (moclab qual import --positions utf16)",
            )
        if self.newlines == "lf":
            text, both = normalise_newlines(text, np.concatenate([start_array, end_array]))
            start_array, end_array = both[: len(starts)], both[len(starts) :]
        for selection, start, end in zip(selections, start_array.tolist(), end_array.tolist(), strict=True):
            selection.start, selection.end = start, end
        return text

    def selection(self, element: ET.Element, where: str) -> Selection | None:
        guid = self.guid(element, "guid", f"{where}/PlainTextSelection")
        here = f"{where}/PlainTextSelection[{guid}]"
        self.register(guid, "selection", here)
        try:
            start = int(element.get("startPosition", ""))
            end = int(element.get("endPosition", ""))
        except ValueError:
            self.error(
                f"startPosition='{element.get('startPosition')}' and "
                f"endPosition='{element.get('endPosition')}' must be whole numbers",
                here,
            )
            return None
        if end < start:
            self.warn(f"endPosition {end} is before startPosition {start}; the two are swapped", here)
            start, end = end, start
        codings: list[Coding] = []
        note_refs: list[str] = []
        description = None
        for child in element:  # one pass over the children: this runs once per selection
            if child.tag == "Coding":
                coding = self.coding(child, here)
                if coding is not None:
                    codings.append(coding)
            elif child.tag == "NoteRef":
                ref = self.guid(child, "targetGUID", f"{here}/NoteRef")
                if ref:
                    note_refs.append(ref)
            elif child.tag == "Description":
                description = child.text or ""
        return Selection(
            guid=guid or "",
            start=start,
            end=end,
            name=element.get("name"),
            codings=codings,
            note_refs=note_refs,
            description=description,
            **self.audit(element, here),
        )

    def note(self, element: ET.Element, project: Project) -> Note:
        guid = self.guid(element, "guid", "Notes/Note") or ""
        here = f"Note[{guid}]"
        self.register(guid, "note", here)
        text, path, _ = self.load_text(element, here)
        unmodelled = [
            self.keep(child) for child in element if child.tag not in ("Description", "PlainTextContent")
        ]
        if unmodelled:
            project.extras.setdefault("note_children", {})[guid] = unmodelled  # type: ignore[index]
        return Note(
            guid=guid,
            name=element.get("name"),
            text=text,
            description=_child_text(element, "Description"),
            path=path,
            **self.audit(element, here),
        )

    def keep(self, element: ET.Element) -> str:
        """An element moclab does not model, as XML text without namespaces and with canonical GUIDs.

        The internal files it refers to are kept so that an export can write them back.
        """
        element.tail = None
        for node in element.iter():
            if len(node) and node.text is not None and not node.text.strip():
                node.text = None  # indentation only: the export indents again
            if node is not element and node.tail is not None and not node.tail.strip():
                node.tail = None
            for attribute, value in list(node.attrib.items()):
                if attribute in GUID_ATTRIBUTES:
                    try:
                        node.set(attribute, canonical_guid(value))
                    except QualError:
                        self.warn(f"{attribute}='{value}' is not a GUID", f"{node.tag}")
                elif attribute in PATH_ATTRIBUTES and value.startswith("internal://"):
                    self.keep_file(value)
        return ET.tostring(element, encoding="unicode")

    def check_references(self, project: Project) -> None:
        codes = {code.guid for code in project.codes}
        unknown: dict[str, int] = {}
        for source in project.sources:
            for selection in source.selections:
                for coding in selection.codings:
                    if coding.code not in codes:
                        unknown[coding.code] = unknown.get(coding.code, 0) + 1
            for coding in source.codings:
                if coding.code not in codes:
                    unknown[coding.code] = unknown.get(coding.code, 0) + 1
        for guid, count in unknown.items():
            self.warn(
                f"{count} coding(s) refer to code {guid}, which is not in the codebook", "Coding/CodeRef"
            )
        notes = {note.guid for note in project.notes}
        dangling = sum(1 for ref in _all_note_refs(project) if ref not in notes)
        if dangling:
            self.warn(f"{dangling} NoteRef(s) point to notes that are not in the project", "NoteRef")


def _all_note_refs(project: Project) -> Iterable[str]:
    yield from project.note_refs
    for code in project.codes:
        yield from code.note_refs
    for source in project.sources:
        yield from source.note_refs
        for coding in source.codings:
            yield from coding.note_refs
        for selection in source.selections:
            yield from selection.note_refs
            for coding in selection.codings:
                yield from coding.note_refs


def _read_options(positions: str, newlines: str) -> tuple[Positions, Newlines]:
    if positions not in ("codepoints", "utf16"):
        raise QualError(f"positions='{positions}' is not known", hint="use 'codepoints' or 'utf16'")
    if newlines not in ("keep", "lf"):
        raise QualError(f"newlines='{newlines}' is not known", hint="use 'keep' or 'lf'")
    return positions, newlines  # type: ignore[return-value]


def read_qdpx(
    path: str | Path,
    *,
    positions: Positions = "codepoints",
    newlines: Newlines = "keep",
    limits: Limits = DEFAULT_LIMITS,
) -> Project:
    """Read a REFI-QDA project archive (`.qdpx`).

    Parameters
    ----------
    path : str or Path
        The archive.
    positions : {"codepoints", "utf16"}
        How the file counts selection positions: Unicode code points, as the standard says, or UTF-16 code
        units (NVivo for Windows); moclab always stores code points.
    newlines : {"keep", "lf"}
        Keep line endings as stored (positions count a CRLF as two), or turn them into LF and move positions.
    limits : Limits
        What the archive may hold (members, sizes, compression ratio) before it is refused.

    Returns
    -------
    Project
        With ``project.warnings`` listing what was noticed but handled (missing files, drifting offsets).

    Raises
    ------
    QualError
        The file is not a safe, readable zip archive or has no ``project.qde``.
    ValidationError
        The project has errors (invalid GUIDs, positions that are not numbers), listed by element.
    """
    positions, newlines = _read_options(positions, newlines)
    label = display_path(path)
    with SafeArchive(path, limits) as archive:
        member = archive.find(PROJECT_FILE)
        if member is None:
            candidates = [name for name in archive.names() if name.lower().endswith(".qde")]
            if len(candidates) != 1:
                raise QualError(f"{label} holds no project.qde", hint="is it a REFI-QDA project export?")
            member = candidates[0]
        parsed = parse_xml(archive.read(member), f"{label}: {member}")
        reader = _Reader(
            label, _Files(archive=archive), positions=positions, newlines=newlines, limits=limits
        )
        return reader.read(parsed.root)


def read_qde(
    path: str | Path,
    *,
    positions: Positions = "codepoints",
    newlines: Newlines = "keep",
    limits: Limits = DEFAULT_LIMITS,
) -> Project:
    """Read a `.qde` project file; source files are looked for in a ``sources/`` folder beside it.

    Parameters are those of `read_qdpx`. Files outside the .qde's folder are never read.
    """
    positions, newlines = _read_options(positions, newlines)
    file = Path(path)
    label = display_path(file)
    if not file.is_file():
        raise QualError(f"{label}: no such file")
    parsed = parse_xml(file.read_bytes(), label)
    reader = _Reader(label, _Files(folder=file.parent), positions=positions, newlines=newlines, limits=limits)
    return reader.read(parsed.root)


def read_codebook_xml(path: str | Path) -> Project:
    """Read a REFI-QDA codebook (`.qdc`) as a project with codes and code sets only."""
    file = Path(path)
    label = display_path(file)
    if not file.is_file():
        raise QualError(f"{label}: no such file")
    root = parse_xml(file.read_bytes(), label).root
    if _local(root.tag) != "CodeBook":
        raise QualError(f"{label}: the root element is <{_local(root.tag)}>, not <CodeBook>")
    _strip_namespaces(root)
    reader = _Reader(label, _Files(), positions="codepoints", newlines="keep", limits=DEFAULT_LIMITS)
    project = Project(name=file.stem, origin=root.get("origin"))
    codes_element = _child(root, "Codes")
    if codes_element is None:
        reader.error("the codebook has no <Codes>", "CodeBook")
    else:
        for element in _children(codes_element, "Code"):
            reader.code(element, None, project.codes, "CodeBook")
    sets_element = _child(root, "Sets")
    if sets_element is not None:
        for element in _children(sets_element, "Set"):
            guid = reader.guid(element, "guid", "Sets/Set") or ""
            project.sets.append(
                Set(
                    guid=guid,
                    name=element.get("name") or "",
                    description=_child_text(element, "Description"),
                    member_codes=reader.refs(element, "MemberCode", f"Set[{guid}]", attribute="guid"),
                )
            )
    project.warnings = reader.problems.warnings
    reader.problems.raise_if_any()
    return project
