"""Shared pieces of the REFI-QDA tests: where the vendor samples are, small archives built in code, and an
independent count of a project's elements (plain xml.etree, not moclab's reader)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from public_data import QDA_SAMPLES

# The public samples live in shared/ beside the repository (locally and in CI). Some are AGPL or CC-BY-SA:
# tests read them from there and never copy them into the repository.
SAMPLES = QDA_SAMPLES
NS = "{urn:QDA-XML:project:1.0}"


def sample(name: str) -> Path:
    path = SAMPLES / name
    assert path.is_file(), f"missing public sample {path}"
    return path


def qde_bytes(path: Path) -> bytes:
    """The project.qde of a sample (.qdpx) or the file itself (.qde)."""
    if path.suffix == ".qdpx":
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.lower() == "project.qde")
            return archive.read(name)
    return path.read_bytes()


def count_elements(data: bytes) -> dict[str, int]:
    """Counts established independently of moclab: plain ElementTree over the XML (trusted sample files)."""
    root = ET.fromstring(data)
    text_sources = root.findall(f"{NS}Sources/{NS}TextSource")
    selections = [sel for source in text_sources for sel in source.findall(f"{NS}PlainTextSelection")]
    codings = sum(len(sel.findall(f"{NS}Coding")) for sel in selections) + sum(
        len(source.findall(f"{NS}Coding")) for source in text_sources
    )
    return {
        "users": len(root.findall(f"{NS}Users/{NS}User")),
        "codes": len(root.findall(f".//{NS}CodeBook//{NS}Code")),
        "sources": len(text_sources),
        "selections": len(selections),
        "codings": codings,
        "notes": len(root.findall(f"{NS}Notes/{NS}Note")),
        "cases": len(root.findall(f"{NS}Cases/{NS}Case")),
        "variables": len(root.findall(f"{NS}Variables/{NS}Variable")),
        "sets": len(root.findall(f"{NS}Sets/{NS}Set")),
    }


def make_zip(path: Path, members: dict[str, bytes], *, symlinks: tuple[str, ...] = ()) -> Path:
    """A zip archive with the given members (names written as given, even hostile ones)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = 0o120777 << 16
            archive.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    return path


def minimal_qde(text_path: str = "internal://a.txt", selections: str = "", extra: str = "") -> bytes:
    """A small valid project whose one text source is read from `text_path`, with selections given as XML."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="small">
  <Users><User guid="AAAAAAAA-0000-4000-8000-000000000001" name="Ann"/></Users>
  <CodeBook><Codes>
    <Code guid="{{BBBBBBBB-0000-4000-8000-000000000001}}" name="Trust" isCodable="true" color="#FF0000"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="CCCCCCCC-0000-4000-8000-000000000001" name="Interview" plainTextPath="{text_path}">
      {selections}
    </TextSource>
  </Sources>{extra}
</Project>""".encode()


def selection_xml(start: int, end: int, number: int = 1) -> str:
    return (
        f'<PlainTextSelection guid="dddddddd-0000-4000-8000-{number:012d}" startPosition="{start}" '
        f'endPosition="{end}" creatingUser="aaaaaaaa-0000-4000-8000-000000000001">'
        f'<Coding guid="eeeeeeee-0000-4000-8000-{number:012d}">'
        '<CodeRef targetGUID="bbbbbbbb-0000-4000-8000-000000000001"/></Coding></PlainTextSelection>'
    )
