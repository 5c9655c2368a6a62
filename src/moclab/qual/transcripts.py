"""Plain transcripts (`.txt`, `.docx`) and a codebook as a project without codings, ready to code.

Line endings: a `.txt` transcript is read as UTF-8 (a byte-order mark is dropped) and every CRLF or lone CR
becomes LF. There are no codings yet, so nothing moves; positions of codings made later count code points of
this LF-only text, which is also what moclab writes into ``sources/`` on export. A Word transcript becomes its
paragraphs joined by LF, with the rows of a table as lines whose cells are separated by tabs, in document
order.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from moclab.errors import QualError, display_path, require
from moclab.qual.project import Code, Project, TextSource, stable_guid
from moclab.qual.safety import DEFAULT_LIMITS, Limits, check_nested_zip, decode_text

TRANSCRIPT_SUFFIXES = (".txt", ".docx")


def normalise_line_endings(text: str) -> str:
    """CRLF and lone CR turned into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def docx_plain_text(data: bytes, what: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """The text of a Word document in document order: paragraphs, and table rows as tab-separated lines."""
    docx = require("docx", "qual", "reading .docx transcripts")  # python-docx
    from docx.oxml.ns import qn

    check_nested_zip(data, what, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises several kinds for a damaged file
        raise QualError(f"{what} cannot be read as a Word document: {error}") from None
    lines: list[str] = []
    paragraph_tag, table_tag = qn("w:p"), qn("w:tbl")
    for block in document.element.body.iterchildren():
        if block.tag == paragraph_tag:
            lines.append("".join(node.text or "" for node in block.iter(qn("w:t"))))
        elif block.tag == table_tag:
            for row in block.iter(qn("w:tr")):
                cells = [
                    " ".join(
                        "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in cell.iter(paragraph_tag)
                    )
                    for cell in row.iter(qn("w:tc"))
                ]
                lines.append("\t".join(cells))
    return normalise_line_endings("\n".join(lines))


def read_transcript(path: str | Path, *, name: str | None = None) -> TextSource:
    """One transcript file as a text source (GUID derived from its name, so re-reading gives the same GUID).

    Raises `QualError` for a missing file, an unsupported type, text that is not UTF-8 or a damaged .docx.
    """
    file = Path(path)
    label = display_path(file)
    if not file.is_file():
        raise QualError(f"{label}: no such file")
    suffix = file.suffix.lower()
    if suffix == ".txt":
        text = normalise_line_endings(decode_text(file.read_bytes(), label))
    elif suffix == ".docx":
        text = docx_plain_text(file.read_bytes(), label)
    else:
        raise QualError(f"{label}: a transcript must be a .txt or .docx file, not '{suffix}'")
    source_name = name or file.stem
    return TextSource(guid=stable_guid("transcript", source_name), name=source_name, text=text)


def project_from_transcripts(
    paths: Iterable[str | Path],
    *,
    codebook: Project | None = None,
    name: str = "transcripts",
) -> Project:
    """A project of transcripts (files, or folders whose .txt and .docx files are taken) and a codebook.

    Parameters
    ----------
    paths : iterable of str or Path
        Transcript files or folders of them (sorted by name within a folder).
    codebook : Project, optional
        A codebook read with `moclab.qual.read_codebook` (its codes and code sets are copied).
    name : str
        The project's name.
    """
    files: list[Path] = []
    for path in paths:
        item = Path(path)
        if item.is_dir():
            files.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in TRANSCRIPT_SUFFIXES))
        else:
            files.append(item)
    if not files:
        raise QualError("no transcripts given", hint="give .txt or .docx files, or a folder holding them")
    seen: dict[str, Path] = {}
    for file in files:
        if file.stem in seen:
            raise QualError(
                f"two transcripts are both named '{file.stem}': {display_path(seen[file.stem])} and "
                f"{display_path(file)}",
                hint="rename one of them",
            )
        seen[file.stem] = file
    sources = [read_transcript(file) for file in files]
    codes: list[Code] = list(codebook.codes) if codebook else []
    return Project(
        name=name,
        sources=sources,
        codes=codes,
        sets=list(codebook.sets) if codebook else [],
    )
