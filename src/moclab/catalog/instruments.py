"""Validated questionnaires as versioned, cited data: items, response scale, keys, subscales, scoring rule.

An instrument is a YAML file: the bundled ones live in ``moclab/catalog/instruments/`` (AIM, IAM, FIM, ORIC,
the Implementation Climate and Implementation Leadership Scales, team psychological safety), and a user or a
study adds its own files. `InstrumentRegistry.load` reads them all, checks each file and the files together,
and reports every problem at once with its file and line (`InstrumentFileError`).

Item wording is stored only where it is freely published (``text``); otherwise an item has a short ``label``
and ``text`` is None. Every instrument says which of its facts were checked against the source
(``verification``; the levels are those of the framework catalog), so a report never presents an unchecked
scoring rule or anchor as settled.

The scoring itself (reverse keys, prorating, scale scores) lives in `moclab.study.scoring`; this module only
describes instruments.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from moclab.catalog.entries import SETTLED_LEVELS, VERIFICATION_LEVELS, Verification
from moclab.catalog.loader import expand_paths, yaml_position
from moclab.catalog.schema import check_slug
from moclab.errors import CatalogError, MoclabError, ProblemList, ValidationError, did_you_mean, display_path
from moclab.yamlio import YamlMap, load_yaml, parse_model

#: Folder of the instrument files shipped with moclab.
DATA_DIR = Path(__file__).parent / "instruments"
SUFFIXES = (".yaml", ".yml")

Level = Literal["individual", "team", "organization"]
Scoring = Literal["mean", "sum"]

#: The facts of an instrument whose verification is recorded, with what each covers.
FACTS: dict[str, str] = {
    "citation": "the bibliographic reference",
    "items": "item wording (or, where only labels are shipped, item count and order)",
    "scale": "response scale range and anchor labels",
    "scoring": "scoring rule (mean or sum, which items)",
    "reverse_keys": "which items are reverse keyed",
    "subscales": "subscale names and item membership",
    "level": "the level the construct is meant for (individual, team, organization)",
}

# Item and subscale ids become column names in data files and REDCap fields: lower-case letters, digits and
# underscores, starting with a letter (REDCap's rule for variable names).
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def half_rule(number_of_items: int) -> int:
    """Fewest answered items for a prorated score when a file sets none: at least half, rounded up.

    The "half rule" of the EORTC QLQ-C30 Scoring Manual (Fayers et al. 2001): if at least half of a scale's
    items are answered, score the answered items as if they were the whole scale.
    """
    return max(1, math.ceil(number_of_items / 2))


def _check_field_name(value: str, what: str) -> str:
    if not _FIELD_NAME.match(value):
        raise PydanticCustomError(
            "field_name",
            "{what} must be lower-case letters, digits and underscores, starting with a letter "
            "(e.g. 'aim_1'); it becomes a column name and a REDCap field name",
            {"what": what},
        )
    return value


# --------------------------------------------------------------------------------------------------------
# The public records
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseScale:
    """The response options of an instrument's items: integers from `minimum` to `maximum`.

    `labels` maps option values to their anchor text; it may be partial (only the end points).
    """

    minimum: int
    maximum: int
    labels: Mapping[int, str] = field(default_factory=dict)

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(range(self.minimum, self.maximum + 1))

    def reverse(self, value: float) -> float:
        """A reverse-keyed response on the same scale: minimum + maximum - value."""
        return self.minimum + self.maximum - value

    def __str__(self) -> str:
        labels = ", ".join(f"{value} = {text}" for value, text in sorted(self.labels.items()))
        return f"{self.minimum}-{self.maximum}" + (f" ({labels})" if labels else "")


@dataclass(frozen=True)
class Item:
    """One item of an instrument.

    Attributes
    ----------
    id : str
        Field name, unique within the instrument, lower-case (``"aim_1"``); the column or REDCap field name.
    number : int
        1-based position in the instrument as shipped.
    label : str
        Short label, always present.
    text : str or None
        Full wording where it is freely published or licensed, else None.
    reverse : bool
        Reverse keyed (scored as minimum + maximum - response).
    subscale : str or None
        Id of the subscale the item belongs to.
    """

    id: str
    number: int
    label: str
    text: str | None
    reverse: bool
    subscale: str | None


@dataclass(frozen=True)
class Instrument:
    """A validated questionnaire: items, response scale, keys, subscales, scoring rule and its sources.

    Attributes beyond the shared contract: `short_name` (``"AIM"``), `url`, `doi`, `construct` (what it
    measures, e.g. ``"proctor:acceptability"``), `placeholder` (the text users replace in item wording, e.g.
    ``"[X]"``), `subscale_names`, `subscale_min_items`, `verification` (fact -> level), `verification_note`,
    `notes`, `defined_in` (file) and `bundled`.
    """

    id: str
    name: str
    items: tuple[Item, ...]
    scale: ResponseScale
    subscales: Mapping[str, tuple[str, ...]]
    scoring: str
    min_items: int
    level: str
    citation: str
    licence: str
    verified: bool
    short_name: str | None = None
    url: str | None = None
    doi: str | None = None
    construct: str | None = None
    placeholder: str | None = None
    subscale_names: Mapping[str, str] = field(default_factory=dict)
    subscale_min_items: Mapping[str, int] = field(default_factory=dict)
    verification: Mapping[str, Verification] = field(default_factory=dict)
    verification_note: str | None = None
    notes: str | None = None
    defined_in: str = ""
    bundled: bool = False

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def reverse_items(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items if item.reverse)

    @property
    def unverified_facts(self) -> tuple[str, ...]:
        """Facts whose verification level is not settled (by elimination or unverified)."""
        return tuple(fact for fact, level in self.verification.items() if level not in SETTLED_LEVELS)

    @property
    def has_wording(self) -> bool:
        return any(item.text for item in self.items)

    def item(self, item_id: str) -> Item:
        """The item with this id; CatalogError with "did you mean" when there is none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise CatalogError(
            f"instrument '{self.id}' has no item '{item_id}'",
            hint=did_you_mean(item_id, self.item_ids) or "its items: " + ", ".join(self.item_ids),
        )

    def items_of(self, subscale: str | None = None) -> tuple[Item, ...]:
        """The items scored for the whole instrument (None) or for one subscale."""
        if subscale is None:
            return self.items
        if subscale not in self.subscales:
            known = ", ".join(self.subscales) or "none (the instrument is unidimensional)"
            raise CatalogError(
                f"instrument '{self.id}' has no subscale '{subscale}'",
                hint=did_you_mean(subscale, self.subscales) or f"its subscales: {known}",
            )
        members = set(self.subscales[subscale])
        return tuple(item for item in self.items if item.id in members)

    def min_items_of(self, subscale: str | None = None) -> int:
        """Fewest answered items for a (prorated) score of the whole instrument or of one subscale."""
        if subscale is None:
            return self.min_items
        self.items_of(subscale)  # unknown subscale -> CatalogError
        return self.subscale_min_items[subscale]

    def score_range(self, subscale: str | None = None) -> tuple[float, float]:
        """Lowest and highest possible score under the instrument's scoring rule."""
        count = len(self.items_of(subscale))
        if self.scoring == "sum":
            return float(self.scale.minimum * count), float(self.scale.maximum * count)
        return float(self.scale.minimum), float(self.scale.maximum)

    def wording(self, item: Item | str, subject: str | None = None) -> str:
        """An item's wording (its label where no wording is shipped), with `placeholder` replaced by
        `subject` when both are given (``"[X] meets my approval."`` -> ``"Coaching meets my approval."``)."""
        if isinstance(item, str):
            item = self.item(item)
        text = item.text or item.label
        if subject and self.placeholder and self.placeholder in text:
            start = text.index(self.placeholder)
            replacement = subject[:1].upper() + subject[1:] if start == 0 else subject
            text = text.replace(self.placeholder, replacement, 1).replace(self.placeholder, subject)
        return text

    def cite_as(self) -> str:
        return self.citation

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready) describing the instrument."""
        return {
            "id": self.id,
            "name": self.name,
            "short_name": self.short_name,
            "level": self.level,
            "construct": self.construct,
            "scale": {
                "minimum": self.scale.minimum,
                "maximum": self.scale.maximum,
                "labels": {str(k): v for k, v in sorted(self.scale.labels.items())},
            },
            "scoring": self.scoring,
            "min_items": self.min_items,
            "items": [
                {
                    "id": item.id,
                    "number": item.number,
                    "label": item.label,
                    "text": item.text,
                    "reverse": item.reverse,
                    "subscale": item.subscale,
                }
                for item in self.items
            ],
            "subscales": {
                sid: {
                    "name": self.subscale_names.get(sid, sid),
                    "items": list(members),
                    "min_items": self.subscale_min_items.get(sid),
                }
                for sid, members in self.subscales.items()
            },
            "citation": self.citation,
            "url": self.url,
            "doi": self.doi,
            "licence": self.licence,
            "verified": self.verified,
            "verification": dict(self.verification),
            "verification_note": self.verification_note,
            "notes": self.notes,
            "defined_in": self.defined_in,
            "bundled": self.bundled,
        }

    def __str__(self) -> str:
        short = f" ({self.short_name})" if self.short_name else ""
        return f"{self.id}: {self.name}{short}, {len(self.items)} items, {self.scoring} of {self.scale}"


# --------------------------------------------------------------------------------------------------------
# The file format
# --------------------------------------------------------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ScaleSpec(_Spec):
    """``scale:`` of an instrument file."""

    minimum: int
    maximum: int
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _range(self) -> ScaleSpec:
        if self.maximum <= self.minimum:
            raise PydanticCustomError(
                "scale_range", "'maximum' must be larger than 'minimum' (e.g. minimum: 1, maximum: 5)"
            )
        outside = [value for value in self.labels if not self.minimum <= value <= self.maximum]
        if outside:
            raise PydanticCustomError(
                "scale_labels",
                "labels {outside} lie outside the scale {minimum}-{maximum}",
                {"outside": outside, "minimum": self.minimum, "maximum": self.maximum},
            )
        return self


class ItemSpec(_Spec):
    """One entry of ``items:``."""

    id: str
    label: str = Field(min_length=1)
    text: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check_field_name(value, "an item id")


class SubscaleSpec(_Spec):
    """One entry of ``subscales:``."""

    name: str = Field(min_length=1)
    items: list[str] = Field(min_length=1)
    min_items: int | None = Field(default=None, ge=1)


class InstrumentFile(_Spec):
    """The shape of an instrument file (see docs/measures.md)."""

    id: str
    name: str = Field(min_length=1)
    short_name: str | None = None
    version: str | None = None
    citation: str = Field(min_length=1)
    url: str | None = None
    doi: str | None = None
    licence: str = Field(min_length=1)
    level: Level = "individual"
    # "construct" is also a (deprecated) BaseModel method, so the field takes another name in Python
    construct_ref: str | None = Field(default=None, alias="construct")
    placeholder: str | None = None
    scale: ScaleSpec
    scoring: Scoring = "mean"
    min_items: int | None = Field(default=None, ge=1)
    items: list[ItemSpec] = Field(min_length=1)
    reverse: list[str] = Field(default_factory=list)
    subscales: dict[str, SubscaleSpec] = Field(default_factory=dict)
    verification: dict[Literal[tuple(FACTS)], Verification] = Field(default_factory=dict)  # type: ignore[valid-type]
    verification_note: str | None = None
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_slug(value, "an instrument id")

    @field_validator("subscales")
    @classmethod
    def _subscale_ids(cls, value: dict[str, SubscaleSpec]) -> dict[str, SubscaleSpec]:
        for key in value:
            _check_field_name(key, "a subscale id")
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class InstrumentFileError(ValidationError, CatalogError):
    """One or more instrument files are malformed; `problems` lists each with its file and line."""


# --------------------------------------------------------------------------------------------------------
# Reading and checking files
# --------------------------------------------------------------------------------------------------------


def _check(spec: InstrumentFile, data: YamlMap, label: str, problems: ProblemList) -> bool:
    """Rules across the entries of one file; returns False when the file cannot be built."""
    before = len(problems.errors)
    first_line: dict[str, int] = {}
    for index, item in enumerate(spec.items):
        where = yaml_position(data, "items", index, "id")
        if item.id in first_line:
            problems.add(
                f"duplicate item id '{item.id}' (first written on line {first_line[item.id]})",
                file=label,
                **where,
                hint="item ids are column names and must be unique within an instrument",
            )
        else:
            first_line[item.id] = where["line"] or 0
    ids = list(first_line)

    seen_reverse: set[str] = set()
    for index, item_id in enumerate(spec.reverse):
        where = yaml_position(data, "reverse", index)
        if item_id not in first_line:
            problems.add(
                f"reverse key names '{item_id}', which is not an item of this instrument",
                file=label,
                **where,
                hint=did_you_mean(item_id, ids) or "name items by their id: " + ", ".join(ids),
            )
        elif item_id in seen_reverse:
            problems.add(f"item '{item_id}' is listed twice under 'reverse'", file=label, **where)
        seen_reverse.add(item_id)

    owner: dict[str, str] = {}
    for subscale_id, subscale in spec.subscales.items():
        for index, item_id in enumerate(subscale.items):
            where = yaml_position(data, "subscales", subscale_id, "items", index)
            if item_id not in first_line:
                problems.add(
                    f"subscale '{subscale_id}' names '{item_id}', which is not an item of this instrument",
                    file=label,
                    **where,
                    hint=did_you_mean(item_id, ids) or "name items by their id: " + ", ".join(ids),
                )
            elif item_id in owner:
                problems.add(
                    f"item '{item_id}' is in subscale '{owner[item_id]}' and in '{subscale_id}'",
                    file=label,
                    **where,
                    hint="an item belongs to at most one subscale",
                )
            else:
                owner[item_id] = subscale_id
        if subscale.min_items is not None and subscale.min_items > len(subscale.items):
            problems.add(
                f"subscale '{subscale_id}' asks for {subscale.min_items} answered items but has "
                f"{len(subscale.items)}",
                file=label,
                **yaml_position(data, "subscales", subscale_id, "min_items"),
            )
    if spec.min_items is not None and spec.min_items > len(spec.items):
        problems.add(
            f"'min_items' is {spec.min_items} but the instrument has {len(spec.items)} items",
            file=label,
            **yaml_position(data, "min_items"),
            hint="min_items is the fewest answered items for a (prorated) scale score",
        )
    if spec.placeholder and not any(item.text and spec.placeholder in item.text for item in spec.items):
        problems.add(
            f"placeholder '{spec.placeholder}' appears in no item text",
            file=label,
            **yaml_position(data, "placeholder"),
            hint="remove 'placeholder' or use it in the wording",
        )
    return len(problems.errors) == before


def _build(spec: InstrumentFile, label: str, bundled: bool) -> Instrument:
    reverse = set(spec.reverse)
    owner = {item_id: sid for sid, sub in spec.subscales.items() for item_id in sub.items}
    items = tuple(
        Item(
            id=item.id,
            number=number,
            label=item.label,
            text=item.text,
            reverse=item.id in reverse,
            subscale=owner.get(item.id),
        )
        for number, item in enumerate(spec.items, start=1)
    )
    # a fact the file does not mention is unverified: silence is no evidence
    applicable = ["citation", "items", "scale", "scoring", "level"]
    if spec.reverse:
        applicable.append("reverse_keys")
    if spec.subscales:
        applicable.append("subscales")
    verification: dict[str, Verification] = {
        fact: spec.verification.get(fact, "unverified") for fact in FACTS
    }
    verification = {
        fact: verification[fact] for fact in FACTS if fact in applicable or fact in spec.verification
    }
    return Instrument(
        id=spec.id,
        name=spec.name,
        items=items,
        scale=ResponseScale(
            spec.scale.minimum, spec.scale.maximum, MappingProxyType(dict(spec.scale.labels))
        ),
        subscales=MappingProxyType({sid: tuple(sub.items) for sid, sub in spec.subscales.items()}),
        scoring=spec.scoring,
        min_items=spec.min_items if spec.min_items is not None else half_rule(len(items)),
        level=spec.level,
        citation=spec.citation,
        licence=spec.licence,
        verified=all(level in SETTLED_LEVELS for level in verification.values()),
        short_name=spec.short_name,
        url=spec.url,
        doi=spec.doi,
        construct=spec.construct_ref,
        placeholder=spec.placeholder,
        subscale_names=MappingProxyType({sid: sub.name for sid, sub in spec.subscales.items()}),
        subscale_min_items=MappingProxyType(
            {
                sid: sub.min_items if sub.min_items is not None else half_rule(len(sub.items))
                for sid, sub in spec.subscales.items()
            }
        ),
        verification=MappingProxyType(verification),
        verification_note=spec.verification_note,
        notes=spec.notes,
        defined_in=label,
        bundled=bundled,
    )


def read_instrument_file(
    path: str | Path, problems: ProblemList, *, bundled: bool = False
) -> Instrument | None:
    """Read and check one instrument file; problems go to `problems`, None when it cannot be used."""
    path = Path(path)
    label = f"moclab/catalog/instruments/{path.name}" if bundled else display_path(path)
    try:
        data = load_yaml(path)
        if not isinstance(data, YamlMap):
            found = "a list" if isinstance(data, list) else f"a single value ({data!r})"
            problems.add(
                "an instrument file is a mapping (keys such as id, name, citation, scale, items), "
                f"not {found}",
                file=label,
                **yaml_position(data),
                hint="see docs/measures.md for a complete example",
            )
            return None
        spec = parse_model(InstrumentFile, data, label)
    except ValidationError as exc:
        problems.extend(exc.problems)
        return None
    except MoclabError as exc:  # missing, empty, not UTF-8, malformed YAML: the message names the place
        problems.add(exc.message, hint=exc.hint)
        return None
    if not _check(spec, data, label, problems):
        return None
    return _build(spec, label, bundled)


@functools.lru_cache(maxsize=32)
def _read_bundled(path: Path, stamp: tuple[int, int]) -> tuple[Instrument | None, tuple[Any, ...]]:
    """A bundled file read once per process and content (`stamp` = modification time, size)."""
    problems = ProblemList("bundled instruments")
    instrument = read_instrument_file(path, problems, bundled=True)
    return instrument, tuple(problems.problems)


def bundled_files() -> list[Path]:
    """The instrument files shipped with moclab, in file-name order."""
    return sorted(p for p in DATA_DIR.iterdir() if p.is_file() and p.suffix in SUFFIXES)


# --------------------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------------------


class InstrumentRegistry:
    """The instruments available to a session: bundled ones and the user's own files.

    Look instruments up by id (``"aim"``) or short name (``"AIM"``, case-insensitive).

    Examples
    --------
    >>> registry = InstrumentRegistry.load()
    >>> registry.get("aim").scale.maximum
    5
    """

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._instruments: dict[str, Instrument] = {}
        for instrument in instruments:
            if instrument.id in self._instruments:
                raise CatalogError(f"instrument '{instrument.id}' is defined twice")
            self._instruments[instrument.id] = instrument
        self._aliases = {
            instrument.short_name.lower(): instrument.id
            for instrument in self._instruments.values()
            if instrument.short_name and instrument.short_name.lower() not in self._instruments
        }

    @classmethod
    def load(cls, paths: Iterable[str | Path] = (), *, bundled: bool = True) -> InstrumentRegistry:
        """Bundled instruments plus those in `paths` (files, or folders of ``*.yaml`` files).

        Raises
        ------
        InstrumentFileError
            Listing every problem in every file with its file and line; a user file may not reuse the id of
            a bundled instrument or of another file (choose a new id for an adapted version).
        """
        problems = ProblemList("instrument files")
        found: list[Instrument] = []
        if bundled:
            for path in bundled_files():
                stat = path.stat()
                instrument, bundled_problems = _read_bundled(path, (stat.st_mtime_ns, stat.st_size))
                problems.extend(bundled_problems)
                if instrument is not None:
                    found.append(instrument)
        seen: set[Path] = set()
        for path in expand_paths(paths, "the instrument paths", problems):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            instrument = read_instrument_file(path, problems)
            if instrument is not None:
                found.append(instrument)
        by_id: dict[str, Instrument] = {}
        for instrument in found:
            first = by_id.get(instrument.id)
            if first is None:
                by_id[instrument.id] = instrument
                continue
            origin = "bundled with moclab" if first.bundled else f"defined in {first.defined_in}"
            problems.add(
                f"instrument '{instrument.id}' is already {origin}",
                file=instrument.defined_in,
                hint="choose a new id for your own or adapted instrument (e.g. 'aim-adapted')",
            )
        if problems:
            raise InstrumentFileError(problems.what, problems.problems)
        return cls(by_id.values())

    def get(self, instrument_id: str) -> Instrument:
        """The instrument with this id or short name; CatalogError with "did you mean" when unknown."""
        key = instrument_id.strip()
        if key in self._instruments:
            return self._instruments[key]
        lowered = key.lower()
        if lowered in self._instruments:
            return self._instruments[lowered]
        if lowered in self._aliases:
            return self._instruments[self._aliases[lowered]]
        hint = did_you_mean(lowered, [*self._instruments, *self._aliases])
        raise CatalogError(
            f"unknown instrument '{instrument_id}'",
            hint=hint or "known instruments: " + ", ".join(self._instruments),
        )

    def __contains__(self, instrument_id: object) -> bool:
        if not isinstance(instrument_id, str):
            return False
        try:
            self.get(instrument_id)
        except CatalogError:
            return False
        return True

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._instruments.values())

    def __len__(self) -> int:
        return len(self._instruments)

    def ids(self) -> list[str]:
        return list(self._instruments)

    def __repr__(self) -> str:
        return f"InstrumentRegistry({', '.join(self._instruments)})"


@functools.lru_cache(maxsize=1)
def default_instruments() -> InstrumentRegistry:
    """The bundled instruments (read once per process)."""
    return InstrumentRegistry.load()


__all__ = [
    "FACTS",
    "VERIFICATION_LEVELS",
    "Instrument",
    "InstrumentFileError",
    "InstrumentRegistry",
    "Item",
    "ResponseScale",
    "default_instruments",
    "half_rule",
    "read_instrument_file",
]
