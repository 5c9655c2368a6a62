"""The marker of a folder a moclab command wrote: the bottom of the output-folder policy of docs/cli.md.

Every folder a moclab command writes holds the marker file ``.moclab-output``, whose first line names the
command that wrote it (folders written before that rule hold ``.moclab-report``, ``.moclab-demo`` or
``.moclab-qual-analyze``, which count as well). Every layer that writes a folder (the report, power, the
qualitative analyses, the command line) marks and recognises folders through this module, which imports only
`moclab.errors`.
"""

from __future__ import annotations

from pathlib import Path

from moclab.errors import MoclabError, display_path

__all__ = ["MARKER", "OLDER_MARKERS", "mark_folder", "marked_by"]

#: The file that marks a folder as written by a moclab command; its first line names the command.
MARKER = ".moclab-output"
#: Markers of folders written by earlier versions of moclab, with the command each stands for.
OLDER_MARKERS = {".moclab-report": "analyze", ".moclab-demo": "demo", ".moclab-qual-analyze": "qual analyze"}
_MARKER_PREFIX = "written by moclab "


def marked_by(folder: Path) -> str | None:
    """The command that wrote `folder` (``"analyze"``, ``"qual analyze"``), or None when no moclab
    command marked it (it does not exist, or holds no marker).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> marked_by(folder) is None
    True
    >>> mark_folder(folder, "simulate")
    >>> marked_by(folder)
    'simulate'
    """
    marker = folder / MARKER
    if marker.is_file():
        first = marker.read_text(encoding="utf-8", errors="replace").partition("\n")[0]
        return first.removeprefix(_MARKER_PREFIX).strip() or "an unknown command"
    for name, command in OLDER_MARKERS.items():
        if (folder / name).is_file():
            return command
    return None


def mark_folder(folder: Path, command: str) -> None:
    """Create `folder` (and its parents) when missing and write the marker naming `command` into it.

    Raises
    ------
    MoclabError
        When the folder cannot be created or written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).write_text(
            f"{_MARKER_PREFIX}{command}\n"
            "moclab may replace the files it wrote here (with --force); it leaves other files alone\n",
            encoding="utf-8",
        )
    except OSError as error:
        raise MoclabError(
            f"{display_path(folder)}: the folder could not be written ({error.strerror or error})",
            hint="check that the folder is writable and the disk is not full",
        ) from None
