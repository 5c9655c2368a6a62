"""Writing a `Project` as REFI-QDA: a ``.qdpx`` archive, a ``.qde`` file or a ``.qdc`` codebook, in schema
order with canonical GUIDs (see `moclab.qual.refi` for what is kept and what is dropped)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from moclab import __version__
from moclab.errors import QualError, display_path
from moclab.qual.project import (
    Code,
    Coding,
    Note,
    Project,
    Selection,
    Set,
    TextSource,
    Variable,
    canonical_guid,
    stable_guid,
)
from moclab.qual.refi.standard import (
    NS_CODEBOOK,
    NS_PROJECT,
    PROJECT_FILE,
    SOURCES_FOLDER,
    format_datetime,
    internal_name,
)
from moclab.qual.safety import parse_xml


def _sub(parent: ET.Element, tag: str, **attributes: str | None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    for key, value in attributes.items():
        if value is not None:
            element.set(key, value)
    return element


def _text_child(parent: ET.Element, tag: str, text: str | None) -> None:
    if text is not None:
        ET.SubElement(parent, tag).text = text


def _g(value: str | None) -> str | None:
    return canonical_guid(value) if value else None


def _when(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def _audit_attributes(item: TextSource | Selection | Note) -> dict[str, str | None]:
    """The REFI attributes recording who created and last changed an item, and when."""
    return {
        "creatingUser": _g(item.creator),
        "creationDateTime": _when(item.created),
        "modifyingUser": _g(item.modifier),
        "modifiedDateTime": _when(item.modified),
    }


def _format_value(kind: str, value: object) -> tuple[str, str]:
    """The REFI element and text for a variable value of a declared type."""
    if kind == "Boolean":
        return "BooleanValue", "true" if value else "false"
    if kind == "Integer":
        return "IntegerValue", str(int(value))  # type: ignore[call-overload]
    if kind == "Float":
        return "FloatValue", format(Decimal(repr(float(value))), "f")  # type: ignore[arg-type]
    if kind == "Date":
        return "DateValue", value.isoformat() if isinstance(value, date) else str(value)
    if kind == "DateTime":
        return "DateTimeValue", format_datetime(value) if isinstance(value, datetime) else str(value)
    return "TextValue", "" if value is None else str(value)


def _infer_type(value: object) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, datetime):
        return "DateTime"
    if isinstance(value, date):
        return "Date"
    return "Text"


class _Writer:
    """Builds QDA-XML from a `Project`: GUIDs canonical, elements in schema order."""

    def __init__(self, project: Project, *, inline_text: bool) -> None:
        self.project = project
        self.inline_text = inline_text
        self.files: dict[str, bytes] = {}
        self.variables = list(project.variables)
        self.variable_by_name = {variable.name: variable for variable in self.variables}
        self.variable_by_guid = {variable.guid: variable for variable in self.variables}

    def declare(self, name: str, value: object) -> Variable:
        """The declared variable of a case or source value (declared here when the project lacks it)."""
        variable = self.variable_by_name.get(name) or self.variable_by_guid.get(name)
        if variable is None:
            variable = Variable(guid=stable_guid("variable", name), name=name, type=_infer_type(value))
            self.variables.append(variable)
            self.variable_by_name[name] = variable
        return variable

    def values(self, parent: ET.Element, values: dict[str, object]) -> None:
        for name, value in values.items():
            if value is None:
                continue
            variable = self.declare(name, value)
            element = _sub(parent, "VariableValue")
            _sub(element, "VariableRef", targetGUID=canonical_guid(variable.guid))
            tag, text = _format_value(variable.type, value)
            ET.SubElement(element, tag).text = text

    def note_refs(self, parent: ET.Element, refs: list[str]) -> None:
        for ref in refs:
            _sub(parent, "NoteRef", targetGUID=canonical_guid(ref))

    def coding(self, parent: ET.Element, coding: Coding) -> None:
        element = _sub(
            parent,
            "Coding",
            guid=canonical_guid(coding.guid),
            creatingUser=_g(coding.creator),
            creationDateTime=_when(coding.created),
        )
        _sub(element, "CodeRef", targetGUID=canonical_guid(coding.code))
        self.note_refs(element, coding.note_refs)

    def build(self) -> ET.Element:
        project = self.project
        root = ET.Element("Project")
        root.set("xmlns", NS_PROJECT)
        for key, value in (
            ("name", project.name),
            ("origin", f"moclab {__version__}"),
            ("creatingUserGUID", _g(project.creator)),
            ("creationDateTime", _when(project.created)),
            ("modifyingUserGUID", _g(project.modifier)),
            ("modifiedDateTime", _when(project.modified)),
            ("basePath", project.base_path),
        ):
            if value is not None:
                root.set(key, value)
        kept: dict[str, list[str]] = project.extras.get("xml", {})  # type: ignore[assignment]
        if project.users:
            users = _sub(root, "Users")
            for user in project.users:
                _sub(users, "User", guid=canonical_guid(user.guid), name=user.name, id=user.id)
        if project.codes:
            codes = _sub(_sub(root, "CodeBook"), "Codes")
            self.code_tree(codes, project.codes, with_notes=True)
        # Cases and sources may declare variables the project lacks, so they are built before <Variables>.
        cases_element = ET.Element("Cases")
        for case in project.cases:
            element = _sub(cases_element, "Case", guid=canonical_guid(case.guid), name=case.name)
            _text_child(element, "Description", case.description)
            for ref in case.code_refs:
                _sub(element, "CodeRef", targetGUID=canonical_guid(ref))
            self.values(element, case.variables)
            for ref in case.sources:
                _sub(element, "SourceRef", targetGUID=canonical_guid(ref))
            for ref in case.selection_refs:
                _sub(element, "SelectionRef", targetGUID=canonical_guid(ref))
        sources_element = ET.Element("Sources")
        names = self.file_names()
        for source in project.sources:
            self.text_source(sources_element, source, names[source.guid])
        for text in kept.get("Sources", []):
            sources_element.append(_restore(text))
        if self.variables:
            variables = _sub(root, "Variables")
            for variable in self.variables:
                element = _sub(
                    variables,
                    "Variable",
                    guid=canonical_guid(variable.guid),
                    name=variable.name,
                    typeOfVariable=variable.type,
                )
                _text_child(element, "Description", variable.description)
        if len(cases_element):
            root.append(cases_element)
        if len(sources_element):
            root.append(sources_element)
        if project.notes:
            notes = _sub(root, "Notes")
            note_children: dict[str, list[str]] = project.extras.get("note_children", {})  # type: ignore[assignment]
            for note in project.notes:
                element = _sub(
                    notes,
                    "Note",
                    guid=canonical_guid(note.guid),
                    name=note.name,
                    **_audit_attributes(note),
                )
                _text_child(element, "Description", note.description)
                _text_child(element, "PlainTextContent", note.text)
                for text in note_children.get(note.guid, []):
                    element.append(_restore(text))
        if kept.get("Links"):
            links = _sub(root, "Links")
            for text in kept["Links"]:
                links.append(_restore(text))
        if project.sets:
            sets = _sub(root, "Sets")
            for item in project.sets:
                element = _sub(sets, "Set", guid=canonical_guid(item.guid), name=item.name)
                _text_child(element, "Description", item.description)
                for ref in item.member_codes:
                    _sub(element, "MemberCode", targetGUID=canonical_guid(ref))
                for ref in item.member_sources:
                    _sub(element, "MemberSource", targetGUID=canonical_guid(ref))
                for ref in item.member_notes:
                    _sub(element, "MemberNote", targetGUID=canonical_guid(ref))
        if kept.get("Graphs"):
            graphs = _sub(root, "Graphs")
            for text in kept["Graphs"]:
                graphs.append(_restore(text))
        _text_child(root, "Description", project.description)
        self.note_refs(root, project.note_refs)
        return root

    def code_tree(self, parent: ET.Element, codes: list[Code], *, with_notes: bool) -> None:
        children: dict[str | None, list[Code]] = {}
        known = {code.guid for code in codes}
        for code in codes:
            children.setdefault(code.parent if code.parent in known else None, []).append(code)
        written: set[str] = set()

        def add(container: ET.Element, code: Code) -> None:
            if code.guid in written:  # a parent cycle; each code is written once
                return
            written.add(code.guid)
            element = _sub(
                container,
                "Code",
                guid=canonical_guid(code.guid),
                name=code.name,
                isCodable="true" if code.codable else "false",
                color=code.color,
            )
            _text_child(element, "Description", code.description)
            if with_notes:
                self.note_refs(element, code.note_refs)
            for child in children.get(code.guid, []):
                add(element, child)

        for code in children.get(None, []):
            add(parent, code)
        for code in codes:  # codes caught in a parent cycle go to the top level
            add(parent, code)

    def file_names(self) -> dict[str, str]:
        """Each text source's file name inside ``sources/``: kept from the import when safe and unique.

        A name already used by a kept file is reused only when that file holds exactly the source's text (a
        media transcript and a text source may share one file, as in the REFI-QDA specification's example).
        """
        kept: dict[str, bytes] = {
            name.lower(): data
            for name, data in self.project.extras.get("files", {}).items()  # type: ignore[union-attr]
        }
        taken: set[str] = set()
        names: dict[str, str] = {}
        for source in self.project.sources:
            name = internal_name(source.path or "") if source.path else None
            unsafe = not name or "/" in name or "\\" in name or name.startswith(".")
            if (
                unsafe
                or not name.lower().endswith(".txt")
                or name.lower() in taken
                or (name.lower() in kept and kept[name.lower()] != source.text.encode("utf-8"))
            ):
                name = f"{canonical_guid(source.guid)}.txt"
            taken.add(name.lower())
            names[source.guid] = name
        return names

    def text_source(self, parent: ET.Element, source: TextSource, file_name: str) -> None:
        element = _sub(
            parent,
            "TextSource",
            guid=canonical_guid(source.guid),
            name=source.name,
            richTextPath=source.rich_path,
            plainTextPath=None if self.inline_text else f"internal://{file_name}",
            **_audit_attributes(source),
        )
        _text_child(element, "Description", source.description)
        if self.inline_text:
            _text_child(element, "PlainTextContent", source.text)
        else:
            self.files[file_name] = source.text.encode("utf-8")
        for selection in source.selections:
            child = _sub(
                element,
                "PlainTextSelection",
                guid=canonical_guid(selection.guid),
                name=selection.name,
                startPosition=str(selection.start),
                endPosition=str(selection.end),
                **_audit_attributes(selection),
            )
            _text_child(child, "Description", selection.description)
            for coding in selection.codings:
                self.coding(child, coding)
            self.note_refs(child, selection.note_refs)
        for coding in source.codings:
            self.coding(element, coding)
        self.note_refs(element, source.note_refs)
        self.values(element, source.variables)


def _restore(text: str) -> ET.Element:
    """A kept element back as an element (parsed safely: `extras` may have been edited)."""
    return parse_xml(text.encode("utf-8"), "a kept element of the project").root


_CR_MARK = "\ue00d"  # a private-use character standing in for CR while serialising


def _serialise(root: ET.Element) -> bytes:
    """XML bytes; carriage returns in text are written as ``&#13;``.

    An XML parser turns every CRLF and CR of the document into LF (XML 1.0, section 2.11), so a text written
    with raw CRs would come back shorter and every position after a line end would drift. ElementTree writes
    CR in attributes as a character reference already, but not in element text.
    """
    ET.indent(root, space=" ")
    marked = False
    for node in root.iter():
        if node.text and "\r" in node.text:
            if _CR_MARK in node.text:
                raise QualError(
                    "a text holds the private-use character U+E00D; moclab cannot write it safely"
                )
            node.text = node.text.replace("\r", _CR_MARK)
            marked = True
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    if marked:
        text = text.replace(_CR_MARK, "&#13;")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + text.encode("utf-8")


def project_xml(project: Project, *, inline_text: bool = True) -> tuple[bytes, dict[str, bytes]]:
    """The ``project.qde`` bytes of a project and the files of its ``sources/`` folder.

    With ``inline_text`` the texts go into the XML (``PlainTextContent``, a self-contained .qde); otherwise
    each text source becomes ``sources/<name>.txt`` (UTF-8 without BOM, line endings as stored).
    """
    writer = _Writer(project, inline_text=inline_text)
    root = writer.build()
    files = dict(project.extras.get("files", {}))  # type: ignore[call-overload]
    files.update(writer.files)
    return _serialise(root), files


def _refuse_overwrite(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise QualError(
            f"{display_path(path)} exists; moclab does not overwrite files", hint="choose a new name"
        )


def write_qdpx(project: Project, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a project as a REFI-QDA archive: ``project.qde`` and ``sources/`` with one .txt per text source.

    Files kept from the import (Word, PDF, picture and media files) are written back under ``sources/``.
    The archive is written to a temporary name and moved into place, so a failure leaves nothing half-written.
    """
    target = Path(path)
    _refuse_overwrite(target, overwrite)
    xml, files = project_xml(project, inline_text=False)
    partial = target.with_name(target.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_member(archive, PROJECT_FILE, xml)
            for name in sorted(files):
                _write_member(archive, f"{SOURCES_FOLDER}/{name}", files[name])
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _write_member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    # A fixed timestamp makes the archive depend only on the project (reproducible files).
    info = zipfile.ZipInfo(name, date_time=(2019, 3, 18, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def write_qde(project: Project, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a project as one `.qde` file with the texts inline (kept files of an import are not written)."""
    target = Path(path)
    _refuse_overwrite(target, overwrite)
    xml, _ = project_xml(project, inline_text=True)
    target.write_bytes(xml)
    return target


def codebook_xml(codes: Iterable[Code], sets: Iterable[Set] = (), *, origin: str | None = None) -> bytes:
    """The bytes of a REFI-QDA codebook (`.qdc`) holding `codes` (flat, with parent links) and code sets."""
    root = ET.Element("CodeBook")
    root.set("xmlns", NS_CODEBOOK)
    root.set("origin", origin or f"moclab {__version__}")
    writer = _Writer(Project(name="codebook"), inline_text=True)
    writer.code_tree(_sub(root, "Codes"), list(codes), with_notes=False)
    code_sets = [item for item in sets if item.member_codes]
    if code_sets:
        sets_element = _sub(root, "Sets")
        for item in code_sets:
            element = _sub(sets_element, "Set", guid=canonical_guid(item.guid), name=item.name)
            _text_child(element, "Description", item.description)
            for ref in item.member_codes:
                _sub(element, "MemberCode", guid=canonical_guid(ref))
    return _serialise(root)


def write_codebook(
    project: Project, path: str | Path, *, overwrite: bool = False, origin: str | None = None
) -> Path:
    """Write the codes (and code sets) of a project as a REFI-QDA codebook (`.qdc`)."""
    target = Path(path)
    _refuse_overwrite(target, overwrite)
    if not project.codes:
        raise QualError("the project has no codes to write as a codebook")
    target.write_bytes(codebook_xml(project.codes, project.sets, origin=origin))
    return target
