"""Qualitative evidence: coded interviews, codebooks, REFI-QDA exchange and the analyses built on them.

Reading and writing (see docs/qualitative.md): `read_project` takes a REFI-QDA `.qdpx`/`.qde` project, a
`.qdc` codebook or plain `.txt`/`.docx` transcripts; `write_project` writes `.qdpx`, `.qde` or `.qdc`;
`validate_file` checks a file against the REFI-QDA schemas; `framework_codebook` builds a deductive codebook
from the catalog; `example_project_path` is a small synthetic coded project to try things on.
"""

from moclab.qual.codebooks import framework_codebook, read_codebook, recipient_pathway_codebook
from moclab.qual.io import example_project_path, read_project, write_project
from moclab.qual.project import (
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
    new_guid,
    stable_guid,
)
from moclab.qual.schema import validate_file

__all__ = [
    "Case",
    "Code",
    "Coding",
    "Note",
    "Project",
    "Selection",
    "Set",
    "TextSource",
    "User",
    "Variable",
    "canonical_guid",
    "example_project_path",
    "framework_codebook",
    "new_guid",
    "read_codebook",
    "read_project",
    "recipient_pathway_codebook",
    "stable_guid",
    "validate_file",
    "write_project",
]
