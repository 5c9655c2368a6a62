"""One front door for qualitative projects: read any supported file, write `.qdpx`, `.qde` or `.qdc`.

=========================  =========================================================================
file                       read as
=========================  =========================================================================
``.qdpx``                  REFI-QDA project archive (`moclab.qual.refi.reader.read_qdpx`)
``.qde``                   REFI-QDA project file; sources from a ``sources/`` folder beside it
``.qdc``                   REFI-QDA codebook: a project with codes only
``.txt``, ``.docx``        one transcript, with an optional codebook: a project without codings
a folder                   its ``.txt`` and ``.docx`` transcripts, with an optional codebook
=========================  =========================================================================
"""

from __future__ import annotations

from pathlib import Path

from moclab.errors import QualError, display_path
from moclab.qual.codebooks import read_codebook
from moclab.qual.project import Project
from moclab.qual.refi.reader import Newlines, Positions, read_codebook_xml, read_qde, read_qdpx
from moclab.qual.refi.writer import write_codebook, write_qde, write_qdpx
from moclab.qual.safety import DEFAULT_LIMITS, Limits
from moclab.qual.transcripts import TRANSCRIPT_SUFFIXES, project_from_transcripts

EXAMPLE_FOLDER = Path(__file__).with_name("example")


def example_project_path() -> Path:
    """The bundled SYNTHETIC example project: 12 made-up interviews with recipients of implementation
    support, coded by two coders with the recipient-pathway codebook (see ``example/README.md``).

    Examples
    --------
    >>> from moclab.qual import example_project_path, read_project
    >>> example_project_path().name
    'recipient-interviews.qdpx'
    >>> project = read_project(example_project_path())
    >>> project.counts()["sources"], sorted(project.user_names().values())
    (12, ['Coder A', 'Coder B'])
    """
    return EXAMPLE_FOLDER / "recipient-interviews.qdpx"


def read_project(
    path: str | Path,
    *,
    codebook: str | Path | Project | None = None,
    positions: Positions = "codepoints",
    newlines: Newlines = "keep",
    limits: Limits = DEFAULT_LIMITS,
) -> Project:
    """Read a qualitative project from any supported file (see the module table).

    Parameters
    ----------
    path : str or Path
        A `.qdpx`, `.qde`, `.qdc`, `.txt` or `.docx` file, or a folder of transcripts.
    codebook : path or Project, optional
        For transcripts: a codebook file (`.qdc`, `.yaml`, `.csv`, a project file) or a `Project`.
    positions, newlines, limits
        As in `moclab.qual.refi.reader.read_qdpx` (project files only).

    Examples
    --------
    >>> project = read_project(example_project_path())
    >>> project.counts()["sources"]
    12
    """
    file = Path(path)
    label = display_path(file)
    if not file.exists():
        raise QualError(f"{label}: no such file or folder")
    suffix = file.suffix.lower()
    if codebook is not None and (file.is_dir() or suffix in TRANSCRIPT_SUFFIXES):
        book = codebook if isinstance(codebook, Project) else read_codebook(codebook)
    else:
        book = None
        if codebook is not None:
            raise QualError("a codebook is only combined with transcripts (.txt, .docx or a folder)")
    if file.is_dir() or suffix in TRANSCRIPT_SUFFIXES:
        name = file.name if file.is_dir() else file.stem
        return project_from_transcripts([file], codebook=book, name=name)
    if suffix == ".qdpx":
        return read_qdpx(file, positions=positions, newlines=newlines, limits=limits)
    if suffix == ".qde":
        return read_qde(file, positions=positions, newlines=newlines, limits=limits)
    if suffix == ".qdc":
        return read_codebook_xml(file)
    raise QualError(
        f"{label}: moclab reads .qdpx, .qde, .qdc, .txt and .docx files, not '{suffix}'",
        hint="export the project from your QDA software in the REFI-QDA format (.qdpx)",
    )


def write_project(project: Project, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a project as `.qdpx` (archive with sources), `.qde` (texts inline) or `.qdc` (codebook only).

    Existing files are never replaced unless ``overwrite=True``.

    Examples
    --------
    The pathway codebook as a REFI-QDA codebook to import into a QDA program, and the example project
    written again:

    >>> from moclab.qual import example_project_path, read_project, recipient_pathway_codebook, write_project
    >>> write_project(recipient_pathway_codebook(), "pathway.qdc").name
    'pathway.qdc'
    >>> project = read_project(example_project_path())
    >>> copy = write_project(project, "interviews.qdpx")
    >>> read_project(copy).counts() == project.counts()
    True
    >>> from moclab.errors import QualError
    >>> try:
    ...     write_project(project, "interviews.qdpx")
    ... except QualError as error:
    ...     print(error)
    interviews.qdpx exists; moclab does not overwrite files (choose a new name)
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix == ".qdpx":
        return write_qdpx(project, file, overwrite=overwrite)
    if suffix == ".qde":
        return write_qde(project, file, overwrite=overwrite)
    if suffix == ".qdc":
        return write_codebook(project, file, overwrite=overwrite)
    raise QualError(f"{display_path(file)}: moclab writes .qdpx, .qde and .qdc files, not '{suffix}'")
