"""Reading untrusted project files safely: zip archives checked before anything is read, XML without entities.

A `.qdpx` file is a zip archive someone else made. `SafeArchive` refuses, before decompressing a byte:
member names that escape the archive (``../``, absolute paths, drive letters), symbolic links, encrypted
members, duplicate names, more than `Limits.max_members` members, a declared total size above
`Limits.max_total_bytes` and members that claim to expand more than `Limits.max_ratio` times (zip bombs).
Members are read into memory straight from the archive (nothing is extracted to disk), and each read is
capped at the declared size, so a member that lies about its size cannot expand further: ``zipfile`` stops
at the declared size and checks the CRC.

XML is parsed with ``defusedxml`` with document type declarations refused altogether: no entity expansion
("billion laughs"), no external entities or DTDs (file and network access). QDA-XML needs none of them.
``defusedxml`` comes with the ``qual`` extra.
"""

from __future__ import annotations

import io
import stat
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from moclab.errors import QualError, display_path, require

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What an archive may hold before moclab refuses it.

    The defaults leave room for a project of a few thousand long transcripts with their Word files (the
    REFI-QDA standard lets a single internal file reach 2 GiB, which moclab does not need for text).
    """

    max_members: int = 20_000
    max_total_bytes: int = 2048 * MIB
    max_member_bytes: int = 1024 * MIB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 * MIB  # small members may compress very well (an empty document)


DEFAULT_LIMITS = Limits()


def _unsafe_name_reason(name: str) -> str | None:
    """Why a member name cannot be accepted, or None when it stays inside the archive's folder."""
    if "\x00" in name:
        return "contains a NUL character"
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        return "is an absolute path"
    if any(part == ".." for part in PurePosixPath(normalised).parts):
        return "climbs out of the archive's folder ('..')"
    return None


class SafeArchive:
    """A zip archive opened for reading after its member list passed the safety checks.

    Member look-up ignores the case of the folder and file names (vendors write ``Sources/`` or
    ``sources/``); use as a context manager or call `close`.
    """

    def __init__(self, path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits
        where = display_path(self.path)
        if not self.path.is_file():
            raise QualError(f"{where}: no such file")
        if not zipfile.is_zipfile(self.path):
            with self.path.open("rb") as handle:
                if handle.read(4) == b"PK\x03\x04":
                    raise QualError(
                        f"{where} is a damaged or truncated zip archive (its table of contents is missing)",
                        hint="copy or download the file again",
                    )
            raise QualError(
                f"{where} is not a zip archive (a .qdpx project is a zip file)",
                hint="export the project again from your QDA software, or give the .qde file itself",
            )
        try:
            self._zip = zipfile.ZipFile(self.path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise QualError(f"{where} is a damaged zip archive: {error}") from None
        try:
            self._members = _checked_members(infos, where, limits)
        except QualError:
            self._zip.close()
            raise

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def names(self) -> list[str]:
        """Member names as written in the archive (files only)."""
        return [info.filename for info in self._members.values()]

    def find(self, name: str) -> str | None:
        """The archive's own spelling of a member, looked up without regard to case, or None."""
        info = self._members.get(name.replace("\\", "/").lower())
        return info.filename if info else None

    def read(self, name: str) -> bytes:
        """The bytes of one member (found case-insensitively), capped at its declared size."""
        info = self._members.get(name.replace("\\", "/").lower())
        where = display_path(self.path)
        if info is None:
            raise QualError(f"{where}: no member '{name}' in the archive")
        try:
            with self._zip.open(info) as handle:
                data = handle.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as error:
            raise QualError(f"{where}: member '{info.filename}' cannot be read: {error}") from None
        if len(data) > info.file_size:  # pragma: no cover - zipfile stops at the declared size itself
            raise QualError(f"{where} refused: member '{info.filename}' is larger than it declares")
        return data


def _checked_members(infos: list[zipfile.ZipInfo], where: str, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """The archive's file members by lower-case name, after every safety check passed."""
    if len(infos) > limits.max_members:
        raise QualError(
            f"{where} refused: it has {len(infos):,} members, more than the limit of {limits.max_members:,}"
        )
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        reason = _unsafe_name_reason(info.filename)
        if reason:
            raise QualError(f"{where} refused: member '{info.filename}' {reason}")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise QualError(f"{where} refused: member '{info.filename}' is a symbolic link")
        if info.flag_bits & 0x1:
            raise QualError(f"{where} refused: member '{info.filename}' is encrypted")
        if info.is_dir():
            continue
        key = info.filename.replace("\\", "/").lower()
        if key in members:
            raise QualError(f"{where} refused: member '{info.filename}' appears twice")
        if info.file_size > limits.max_member_bytes:
            raise QualError(
                f"{where} refused: member '{info.filename}' would expand to {info.file_size:,} bytes, "
                f"more than the limit of {limits.max_member_bytes:,}"
            )
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise QualError(
                f"{where} refused: member '{info.filename}' would expand {info.file_size:,} bytes from "
                f"{info.compress_size:,} (a ratio above {limits.max_ratio:g}: a zip bomb?)"
            )
        total += info.file_size
        members[key] = info
    compressed = sum(info.compress_size for info in members.values())
    if total > limits.ratio_floor_bytes and total > limits.max_ratio * max(compressed, 1):
        raise QualError(
            f"{where} refused: its members would expand {total:,} bytes from {compressed:,} "
            f"(a ratio above {limits.max_ratio:g}: a zip bomb?)"
        )
    if total > limits.max_total_bytes:
        raise QualError(
            f"{where} refused: its members would expand to {total:,} bytes, more than the limit of "
            f"{limits.max_total_bytes:,}"
        )
    return members


def check_nested_zip(data: bytes, what: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Apply the archive checks to a zip held in memory (a .docx inside a .qdpx) before a library opens it."""
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        raise QualError(f"{what} is not a zip-based Word document")
    try:
        with zipfile.ZipFile(buffer) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise QualError(f"{what} is a damaged Word document: {error}") from None
    _checked_members(infos, what, limits)


class _LineRecorder(ET.TreeBuilder):
    """A tree builder that remembers the line and column where each element starts (for problem reports)."""

    def __init__(self) -> None:
        super().__init__()
        self.positions: dict[int, tuple[int, int]] = {}
        self.expat: object = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:  # type: ignore[override]
        element = super().start(tag, attrs)
        expat = self.expat
        self.positions[id(element)] = (expat.CurrentLineNumber, expat.CurrentColumnNumber + 1)  # type: ignore[attr-defined]
        return element


@dataclass
class ParsedXML:
    """An XML document parsed safely: its root and, when asked for, where each element starts."""

    root: ET.Element
    positions: dict[int, tuple[int, int]]

    def where(self, element: ET.Element) -> tuple[int | None, int | None]:
        line, column = self.positions.get(id(element), (None, None))
        return line, column


def parse_xml(data: bytes, what: str, *, with_lines: bool = False) -> ParsedXML:
    """Parse XML bytes with entity declarations and external references refused.

    Raises `QualError` naming `what` and the line for malformed XML and for refused constructs.
    """
    defused = require("defusedxml.ElementTree", "qual", "reading REFI-QDA files")
    from defusedxml import DefusedXmlException

    recorder = _LineRecorder() if with_lines else None
    # the C tree builder when lines are not needed: parsing a large project stays fast
    # QDA-XML has no document type declaration, so any DTD (the carrier of entity expansion and external
    # references) is refused outright.
    parser = defused.DefusedXMLParser(target=recorder or ET.TreeBuilder(), forbid_dtd=True)
    if recorder is not None:
        recorder.expat = parser.parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as error:
        raise QualError(
            f"{what} refused: it declares XML entities or refers to external resources "
            f"({type(error).__name__})",
            hint="QDA-XML never needs a DTD or entities; they are used to attack XML readers",
        ) from None
    except ET.ParseError as error:
        line, column = error.position
        raise QualError(f"{what}:{line}:{column + 1}: not well-formed XML ({error.msg})") from None
    return ParsedXML(root, recorder.positions if recorder is not None else {})


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 text with a leading byte-order mark removed (REFI-QDA requires UTF-8 for plain text)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise QualError(
            f"{what} is not UTF-8 text (byte {error.start}: {data[error.start : error.start + 1]!r})",
            hint="save the file as UTF-8 (in Word: Save As, Plain Text, Unicode (UTF-8))",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text
