"""Validation of REFI-QDA files against the published XML schemas, with problems located by element.

The schemas ship with moclab (``moclab/qual/schemas/``, MIT licence, see ``LICENSE-REFI-QDA.txt`` there):
``Project-mrt2019.xsd`` (QDA-XML project 1.0, release of 18 March 2019) and ``Codebook.xsd`` (QDA-XML codebook
1.0, transcribed from section 5.2 of the REFI-QDA 1.5 specification). Validation uses ``xmlschema``; the
document is first parsed with ``defusedxml`` (no entities, no external resources), with the line and column
of every element recorded, so each problem names the line, the element path and what is wrong. Both come with
the ``qual`` extra; reading and writing projects does not validate, so only validation needs ``xmlschema``.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from moclab.errors import Problem, QualError, display_path, require
from moclab.qual.safety import DEFAULT_LIMITS, Limits, SafeArchive, parse_xml

if TYPE_CHECKING:
    import xmlschema

SCHEMA_FOLDER = Path(__file__).with_name("schemas")
PROJECT_SCHEMA = SCHEMA_FOLDER / "Project-mrt2019.xsd"
CODEBOOK_SCHEMA = SCHEMA_FOLDER / "Codebook.xsd"
MAX_PROBLEMS = 200  # a broken export can have thousands; the first ones say what is wrong


@functools.cache
def _schema(kind: str) -> xmlschema.XMLSchema:
    xmlschema = require("xmlschema", "qual", "validating REFI-QDA files")
    # Local files only: the schemas import nothing, so no network access is ever attempted.
    path = PROJECT_SCHEMA if kind == "project" else CODEBOOK_SCHEMA
    return xmlschema.XMLSchema(str(path), allow="local")


def _element_path(path: str | None) -> str:
    """An xmlschema path without namespaces: ``/Project/Sources/TextSource``."""
    if not path:
        return "/"
    return "/".join(part.rsplit("}", 1)[-1] for part in path.split("/"))


def _reason(error: xmlschema.XMLSchemaValidationError) -> str:
    """xmlschema's reason; a failed pattern is named by its type (GUIDType), not its regular expression."""
    reason = str(error.reason or error.message)
    if "doesn't match any pattern" in reason:
        owner = getattr(getattr(error.validator, "parent", None), "name", None)
        if owner:
            reason = reason.split(": value doesn't match", 1)[0] + f": not a valid {owner.rsplit('}', 1)[-1]}"
    return reason


def validate_xml(data: bytes, what: str, *, kind: str | None = None) -> list[Problem]:
    """Validate QDA-XML bytes against the project or codebook schema (chosen by the root element).

    Returns one `Problem` per schema violation (at most `MAX_PROBLEMS`, then one saying how many more), with
    the line and column where the offending element starts and its path in `field`.
    """
    parsed = parse_xml(data, what, with_lines=True)
    root_name = parsed.root.tag.rsplit("}", 1)[-1]
    if kind is None:
        kind = "codebook" if root_name == "CodeBook" else "project"
    schema = _schema(kind)
    problems: list[Problem] = []
    extra = 0
    for error in schema.iter_errors(parsed.root):
        if len(problems) >= MAX_PROBLEMS:
            extra += 1
            continue
        element = error.elem if isinstance(error.elem, ET.Element) else None
        line, column = parsed.where(element) if element is not None else (None, None)
        guid = element.get("guid") if element is not None else None
        path = _element_path(error.path)
        if guid:
            path += f"[guid={guid}]"
        problems.append(Problem(_reason(error), file=what, line=line, column=column, field=path))
    if extra:
        problems.append(Problem(f"... and {extra} more schema violations", file=what))
    return problems


def validate_file(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> list[Problem]:
    """Validate a `.qdpx` (its ``project.qde``), `.qde` or `.qdc` file against the REFI-QDA schemas.

    An empty list means the file is valid. Unsafe or unreadable files raise `QualError`.

    Examples
    --------
    >>> from moclab.qual import example_project_path
    >>> validate_file(example_project_path())
    []
    """
    file = Path(path)
    label = display_path(file)
    if not file.is_file():
        raise QualError(f"{label}: no such file")
    suffix = file.suffix.lower()
    if suffix == ".qdpx":
        with SafeArchive(file, limits) as archive:
            member = archive.find("project.qde")
            if member is None:
                raise QualError(f"{label} holds no project.qde")
            return validate_xml(archive.read(member), f"{label}: {member}", kind="project")
    if suffix in (".qde", ".qdc", ".xml"):
        kind = {".qde": "project", ".qdc": "codebook"}.get(suffix)
        return validate_xml(file.read_bytes(), label, kind=kind)
    raise QualError(f"{label}: cannot validate a '{suffix}' file", hint="give a .qdpx, .qde or .qdc file")
