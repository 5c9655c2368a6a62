"""What the REFI-QDA standard fixes that the reader and the writer share: the XML namespaces, the layout of
a ``.qdpx`` archive, references to its internal files, and the form of dates and times (``xsd:dateTime``)."""

from __future__ import annotations

import re
from datetime import datetime

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
PROJECT_FILE = "project.qde"
SOURCES_FOLDER = "sources"

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def internal_name(reference: str) -> str | None:
    """The file name inside ``sources/`` a reference points to, or None for an external file."""
    if reference.startswith("internal://"):
        return reference[len("internal://") :].lstrip("/")
    if "://" in reference:
        return None  # relative:// and absolute:// name files outside the project
    return reference  # non-conformant: no scheme (qc 1.3.2); taken as internal


def parse_datetime(value: str | None) -> datetime | None:
    """An ``xsd:dateTime`` as a datetime (``Z`` is UTC; fractions beyond microseconds are cut), or None."""
    if not value:
        return None
    text = _LONG_FRACTION.sub(r"\1", value.strip())
    return datetime.fromisoformat(text)


def format_datetime(value: datetime) -> str:
    """A datetime as ``xsd:dateTime``: UTC written with ``Z``, naive datetimes without a zone."""
    text = value.isoformat()
    if value.tzinfo is not None and value.utcoffset() is not None and not value.utcoffset():
        text = text[: -len("+00:00")] + "Z"
    return text
