"""The output-folder policy: moclab writes only into a new or empty folder, or one it marked as its own.

Every folder a moclab command writes holds the marker file ``.moclab-output``, naming the command that wrote
it (folders written before that rule hold ``.moclab-report``, ``.moclab-demo`` or ``.moclab-qual-analyze``,
which count as well). A non-empty folder without a marker holds someone else's files and is refused. Even in
a marked folder, only moclab's own files are replaced, each through a temporary file renamed over the old one
so that an interrupted write leaves the earlier output whole; other files the user put there are left alone.

The command line adds the rest of the rules of docs/cli.md (a marked folder is replaced only with
``--force``; see `moclab.cli.conventions`); a program calling `moclab.report.write_report` gets the rules
of this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from moclab.errors import MoclabError, display_path
from moclab.outputs import MARKER, OLDER_MARKERS, mark_folder, marked_by

__all__ = ["MARKER", "OLDER_MARKERS", "check_report_folder", "mark_folder", "marked_by", "write_report_files"]


def check_report_folder(folder: Path) -> None:
    """Refuse a folder moclab must not write a report into (a file, or a folder of someone else's files).

    Raises
    ------
    MoclabError
        When `folder` is a file, or a non-empty folder that no moclab command marked as its own.
    """
    if folder.exists() and not folder.is_dir():
        raise MoclabError(
            f"{display_path(folder)}: exists and is not a folder",
            hint="choose a folder for the report with -o",
        )
    if not folder.is_dir() or marked_by(folder) is not None:
        return
    others = sorted(item.name for item in folder.iterdir())
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise MoclabError(
            f"{display_path(folder)}: the folder holds other files ({shown}) and no earlier moclab report "
            "or other moclab output; "
            "moclab writes only into a new or empty folder, or over its own earlier output",
            hint="choose another folder with -o",
        )


def write_report_files(folder: Path, files: Mapping[str, str]) -> None:
    """Write `files` (name → text) into `folder` after `check_report_folder`, marking the folder first
    (as written by ``analyze`` unless a command marked it already)."""
    check_report_folder(folder)
    if marked_by(folder) is None:
        mark_folder(folder, "analyze")
    try:
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
