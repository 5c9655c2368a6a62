"""The command conventions of docs/cli.md that every `moclab` command checks before it starts any work.

An output folder or file is checked (`check_output_folder`, `check_output_file`) before the simulation or
analysis it would hold is run, and a folder is marked as moclab's own (`mark_output_folder`) when the work
starts writing into it. Sweeps (`10,20,40`, `10:40:10`) and ranges to draw from (`20..50`) are read by
`parse_sweep` and `parse_draw_range`. Every refusal is a `UsageError` (exit status 2) with a hint.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from moclab.errors import UsageError, display_path
from moclab.outputs import mark_folder, marked_by

__all__ = [
    "check_output_file",
    "check_output_folder",
    "mark_output_folder",
    "parse_draw_range",
    "parse_sweep",
    "replacing_file",
    "staged_folder",
]

#: Suffixes that make an output path look like a file: ``-o report.html`` where a folder is expected.
FILE_SUFFIXES = frozenset(
    {".html", ".htm", ".json", ".csv", ".tsv", ".txt", ".md", ".svg", ".png", ".pdf", ".jpg", ".jpeg"}
    | {".xlsx", ".xls", ".yaml", ".yml", ".zip", ".qdpx", ".xml", ".parquet", ".dot", ".gv", ".lav"}
)
#: The page a folder output opens with, for the hint when its folder was given as a file name.
FOLDER_PAGES = {"analyze": "index.html", "demo": "report/index.html", "power": "index.html"}


def _shown(names: Sequence[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


def _refuse_inside_inputs(path: Path, inputs: Sequence[Path], what: str) -> None:
    for given in inputs:
        source = Path(given).expanduser().resolve()
        if path == source or source in path.parents:
            raise UsageError(
                f"{display_path(path)}: the {what} would be written inside the input {display_path(source)}",
                hint="moclab never writes into what it reads; choose an output outside it with -o",
            )


def _refuse_unwritable(path: Path, what: str) -> None:
    """Refuse `path` when the folder it is written in (itself for an existing folder, else its nearest
    existing ancestor) is read-only."""
    existing = path if path.is_dir() else next(parent for parent in path.parents if parent.exists())
    if not existing.is_dir():
        raise UsageError(
            f"{display_path(path)}: the {what} cannot be created, {display_path(existing)} is a file",
            hint="choose another path with -o",
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"{display_path(path)}: the {what} cannot be written, {display_path(existing)} is not writable",
            hint="choose a folder you may write into with -o",
        )


def check_output_folder(path: Path, *, force: bool, command: str, inputs: Sequence[Path] = ()) -> Path:
    """Check that `command` may write its output folder `path`, before any work; create nothing.

    A folder that does not exist or is empty is accepted; a folder an earlier moclab command marked as its
    own only with `force`; a non-empty folder moclab did not write never (it may hold the user's own files).
    A path that looks like a file (``report.html``), lies inside (or is) one of the `inputs`, or whose parent
    is not writable is refused.

    Parameters
    ----------
    path : Path
        The folder given with ``-o``.
    force : bool
        Whether ``--force`` was given: replace the output of an earlier moclab command.
    command : str
        The command that writes the folder (``"analyze"``, ``"qual analyze"``), for the messages.
    inputs : sequence of Path
        The files and folders the command reads; the output may not be written into any of them.

    Returns
    -------
    Path
        `path`, resolved.

    Raises
    ------
    UsageError
        When the rules of docs/cli.md refuse the folder; the hint says what to do.

    Examples
    --------
    >>> import tempfile
    >>> base = Path(tempfile.mkdtemp())
    >>> check_output_folder(base / "report", force=False, command="analyze") == (base / "report").resolve()
    True
    >>> try:
    ...     check_output_folder(base / "report.html", force=False, command="analyze")
    ... except UsageError as error:
    ...     print(error.message.split(": ", 1)[1])
    ...     print(error.hint.startswith("give the folder: -o"))
    `moclab analyze` writes a folder, not a file; the page would be ...report/index.html
    True
    """
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_dir() and not resolved.exists() and resolved.suffix.lower() in FILE_SUFFIXES:
        folder = resolved.with_suffix("")
        page = FOLDER_PAGES.get(command)
        where = f"; the page would be {display_path(folder / page)}" if page else ""
        raise UsageError(
            f"{display_path(resolved)}: `moclab {command}` writes a folder, not a file{where}",
            hint=f"give the folder: -o {display_path(folder)}",
        )
    if resolved.exists() and not resolved.is_dir():
        raise UsageError(
            f"{display_path(resolved)}: exists and is a file; `moclab {command}` writes a folder",
            hint="give a new or empty folder with -o",
        )
    _refuse_inside_inputs(resolved, inputs, "output folder")
    if resolved.is_dir():
        others = sorted(item.name for item in resolved.iterdir())
        writer = marked_by(resolved)
        if others and writer is None:
            raise UsageError(
                f"{display_path(resolved)}: the folder holds files moclab did not write ({_shown(others)}); "
                "refusing to write into it, even with --force",
                hint="give a new or empty folder with -o",
            )
        if others and not force:
            raise UsageError(
                f"{display_path(resolved)}: the folder holds the output of an earlier `moclab {writer}`",
                hint="add --force to replace it (files moclab did not write are kept), or choose another",
            )
    _refuse_unwritable(resolved, "output folder")
    return resolved


def mark_output_folder(path: Path, command: str) -> None:
    """Create the output folder `path` (after `check_output_folder`) and mark it as written by `command`.

    Raises
    ------
    MoclabError
        When the folder cannot be created or written.
    """
    mark_folder(Path(path), command)


@contextmanager
def staged_folder(path: Path, command: str) -> Iterator[Path]:
    """A path of the same name as `path`, in a hidden folder beside it, for a writer that creates its folder
    itself; when the block ends without error, the files written there move into `path` (replacing those of
    the same name), which is then marked as written by `command`. Use it after `check_output_folder`; an
    error leaves `path` as it was.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out"
    >>> with staged_folder(target, "new") as staging:
    ...     staging.mkdir()
    ...     _ = (staging / "a.txt").write_text("a")
    >>> sorted(item.name for item in target.iterdir())
    ['.moclab-output', 'a.txt']
    """
    target = Path(path)
    # The staging folder has the target's name (writers derive titles from it), in a hidden sibling folder.
    holder = target.with_name(f".{target.name}.moclab-partial")
    staging = holder / target.name
    shutil.rmtree(holder, ignore_errors=True)  # left by an interrupted run
    holder.mkdir(parents=True)
    try:
        yield staging
        mark_output_folder(target, command)
        for item in staging.iterdir() if staging.is_dir() else ():
            earlier = target / item.name
            if earlier.is_dir() and not earlier.is_symlink():
                shutil.rmtree(earlier)
            os.replace(item, earlier)
    finally:
        shutil.rmtree(holder, ignore_errors=True)


@contextmanager
def replacing_file(path: Path) -> Iterator[Path]:
    """A temporary path (same folder and suffix) to write instead of `path`; when the block ends without
    error it is renamed over `path`, so an interrupted write leaves an earlier file whole.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "scores.csv"
    >>> with replacing_file(target) as temporary:
    ...     _ = temporary.write_text("a,b")
    >>> target.read_text(), temporary.exists()
    ('a,b', False)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.moclab-partial{target.suffix}")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def check_output_file(path: Path, *, force: bool, inputs: Sequence[Path] = ()) -> Path:
    """Check that an output file may be written, before any work: a new file, or an existing one with `force`.

    Parameters
    ----------
    path : Path
        The file given with ``-o``.
    force : bool
        Whether ``--force`` was given: replace an existing file.
    inputs : sequence of Path
        The files and folders the command reads; the output may be none of them nor inside one.

    Returns
    -------
    Path
        `path`, resolved.

    Raises
    ------
    UsageError
        When the file exists (without `force`), is a folder, is or lies inside an input, or cannot be
        created.
    """
    resolved = Path(path).expanduser().resolve()
    if resolved.is_dir():
        raise UsageError(
            f"{display_path(resolved)}: is a folder; the output is a file",
            hint="give a file name with -o",
        )
    _refuse_inside_inputs(resolved, inputs, "output file")
    if resolved.exists() and not force:
        raise UsageError(
            f"{display_path(resolved)}: the file exists",
            hint="add --force to replace it, or give another file name with -o",
        )
    _refuse_unwritable(resolved, "output file")
    if resolved.exists() and not os.access(resolved, os.W_OK):
        raise UsageError(
            f"{display_path(resolved)}: the file cannot be replaced, it is read-only",
            hint="give another file name with -o",
        )
    return resolved


_SWEEP = re.compile(r"^(\d+):(\d+)(?::(\d+))?$")
_DRAW_RANGE = re.compile(r"^(\d+)\.\.(\d+)$")
_SWEEP_FORMS = "a list 10,20,40 or a sweep START:STOP:STEP such as 10:40:10 (10, 20, 30, 40)"
_RANGE_FORMS = "a range to draw from LOW..HIGH such as 20..50, or one number such as 30"


def _whole(text: str, option: str, minimum: int, forms: str) -> int:
    if not text.isdigit():
        raise UsageError(f"{option} '{text}' is not a whole number", hint=f"write {forms}")
    value = int(text)
    if value < minimum:
        raise UsageError(
            f"{option} {value} is below {minimum}", hint=f"write {forms}, each at least {minimum}"
        )
    return value


def parse_sweep(text: str, option: str, *, minimum: int = 1) -> list[int]:
    """The values of a sweep, each of which is run: ``30``, ``10,20,40`` or ``10:40:10`` (stop included).

    Parameters
    ----------
    text : str
        The value given to the option.
    option : str
        The option's name (``--sites``), for the messages.
    minimum : int
        The least value allowed.

    Returns
    -------
    list of int
        The values, ascending and without repeats.

    Raises
    ------
    UsageError
        When `text` is not of either form (a range to draw from, ``20..50``, included: the message shows
        both forms) or a value is below `minimum`.

    Examples
    --------
    >>> parse_sweep("10:40:10", "--sites")
    [10, 20, 30, 40]
    >>> parse_sweep("40,10,20", "--sites")
    [10, 20, 40]
    >>> parse_sweep("10:14", "--sites")
    [10, 11, 12, 13, 14]
    """
    cleaned = text.replace(" ", "")
    if ".." in cleaned:
        raise UsageError(
            f"{option} '{text}' is a range to draw from (LOW..HIGH), but {option} takes values that are "
            "each run",
            hint=f"write {_SWEEP_FORMS}; LOW..HIGH is for options that draw a value, such as "
            "simulate --per-site 20..50",
        )
    match = _SWEEP.match(cleaned)
    if match:
        start = _whole(match.group(1), option, minimum, _SWEEP_FORMS)
        stop = _whole(match.group(2), option, minimum, _SWEEP_FORMS)
        step = int(match.group(3) or 1)
        if stop < start or step < 1:
            raise UsageError(
                f"{option} '{text}' is not a sweep START:STOP:STEP with START <= STOP and STEP >= 1",
                hint=f"write {_SWEEP_FORMS}",
            )
        return list(range(start, stop + 1, step))
    if ":" in cleaned or not cleaned:
        raise UsageError(f"{option} '{text}' is not a sweep", hint=f"write {_SWEEP_FORMS}")
    return sorted({_whole(part, option, minimum, _SWEEP_FORMS) for part in cleaned.split(",")})


def parse_draw_range(text: str, option: str, *, minimum: int = 1) -> tuple[int, int]:
    """A range to draw one value from per unit: ``20..50`` (both included) or ``30`` (always 30).

    Parameters
    ----------
    text : str
        The value given to the option.
    option : str
        The option's name (``--per-site``), for the messages.
    minimum : int
        The least value allowed.

    Returns
    -------
    tuple of int
        ``(low, high)``; ``(30, 30)`` for ``30``.

    Raises
    ------
    UsageError
        When `text` is not of either form (a sweep with colons included: the message shows both forms),
        when LOW > HIGH, or a value is below `minimum`.

    Examples
    --------
    >>> parse_draw_range("20..50", "--per-site")
    (20, 50)
    >>> parse_draw_range("30", "--per-site")
    (30, 30)
    """
    cleaned = text.replace(" ", "")
    if ":" in cleaned:
        raise UsageError(
            f"{option} '{text}' uses colons, the form of a sweep (START:STOP:STEP, each value run), but "
            f"{option} draws one value at random per unit",
            hint=f"write {_RANGE_FORMS}; START:STOP:STEP is for sweeps such as power --sites 10:40:10",
        )
    match = _DRAW_RANGE.match(cleaned)
    if match:
        low = _whole(match.group(1), option, minimum, _RANGE_FORMS)
        high = _whole(match.group(2), option, minimum, _RANGE_FORMS)
        if low > high:
            raise UsageError(f"{option} '{text}': LOW is above HIGH", hint=f"write {_RANGE_FORMS}")
        return low, high
    value = _whole(cleaned, option, minimum, _RANGE_FORMS)
    return value, value
