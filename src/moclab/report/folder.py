"""The report folder: created new, or reused only when an earlier moclab report marked it as its own.

moclab writes a report into a folder that does not exist, is empty, or holds the marker file
``.moclab-report`` that an earlier report left there; anything else is refused, so a user's folder is never
written into by mistake. Even in a marked folder, only the report's own files are replaced (each through a
temporary file renamed over the old one, so an interrupted write leaves the earlier report whole); other
files the user put there are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from moclab.errors import MoclabError, display_path

__all__ = ["MARKER", "check_report_folder", "write_report_files"]

#: The file that marks a folder as written by moclab's report writer.
MARKER = ".moclab-report"
_MARKER_TEXT = "written by moclab (moclab.report); moclab may replace the report's files in this folder\n"


def check_report_folder(folder: Path) -> None:
    """Refuse a folder moclab must not write a report into (a file, or a folder of someone else's files).

    Raises
    ------
    MoclabError
        When `folder` is a file, or a non-empty folder without the marker of an earlier report.
    """
    if folder.exists() and not folder.is_dir():
        raise MoclabError(
            f"{display_path(folder)}: exists and is not a folder",
            hint="choose a folder for the report with -o",
        )
    if not folder.is_dir() or (folder / MARKER).is_file():
        return
    others = sorted(item.name for item in folder.iterdir())
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise MoclabError(
            f"{display_path(folder)}: the folder holds other files ({shown}) and no earlier moclab report; "
            "moclab writes a report only into a new or empty folder, or over an earlier report",
            hint="choose another folder with -o",
        )


def write_report_files(folder: Path, files: Mapping[str, str]) -> None:
    """Write `files` (name → text) into `folder` after `check_report_folder`, with the marker first."""
    check_report_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        for name, text in files.items():
            target = folder / name
            temporary = folder / f".{name}.partial"
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, target)
    except OSError as error:
        raise MoclabError(
            f"{display_path(folder)}: the report could not be written ({error.strerror or error})",
            hint="check that the folder is writable and the disk is not full",
        ) from None
