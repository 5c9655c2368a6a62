"""What a survey asks: the items of catalog instruments (AIM, IAM, FIM, team psychological safety, ...) and
single-item ratings of the recipient-pathway stages and their components (Metz et al. 2024).

A survey stores two validated lists: instrument ids (``aim``) and recipient-pathway entry ids
(``recipient-pathway:trust``). `survey_items` turns them into the `SurveyItem` records the form shows and
the answers are checked against. An instrument item keeps its field name (``aim_1``); a pathway item's
field name is its entry id in field form (``trust``, ``positive_emotion``), so answers line up with the
columns of a study (and of `moclab simulate recipient-pathway`).

A pathway rating is moclab's own single item (how the recipient rates the stage in the support they
receive, 1 = very low to 5 = very high), not a validated instrument: the form and the docs say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from moclab.catalog import default_catalog
from moclab.catalog.entries import Entry
from moclab.catalog.instruments import default_instruments

#: The framework whose stages and components a survey may rate.
PATHWAY = "recipient-pathway"
#: The response scale of a pathway rating (moclab's own wording, not a validated instrument).
PATHWAY_SCALE: Mapping[int, str] = {1: "Very low", 2: "Low", 3: "Moderate", 4: "High", 5: "Very high"}


@dataclass(frozen=True)
class SurveyItem:
    """One question of a survey: its field name, wording, the values it accepts and their labels."""

    key: str
    source: str
    question: str
    values: tuple[int, ...]
    labels: Mapping[int, str] = field(default_factory=dict)
    hint: str = ""

    def options(self) -> list[tuple[int, str]]:
        """(value, text) for each response option: ``"4 – Agree"``, or the number alone."""
        return [
            (value, f"{value} – {self.labels[value]}" if value in self.labels else str(value))
            for value in self.values
        ]


def pathway_key(entry: Entry) -> str:
    """The field name of a pathway entry's answers: its id in field form (``positive-emotion`` ->
    ``positive_emotion``)."""
    return entry.id.replace("-", "_")


def pathway_entries() -> list[Entry]:
    """The recipient-pathway stages, each followed by its components, in the catalog's order."""
    return default_catalog().entries(PATHWAY)


def instrument_choices() -> list[tuple[str, str]]:
    """(id, label) of every bundled instrument, for the survey form."""
    return [
        (
            instrument.id,
            f"{instrument.short_name} – {instrument.name}" if instrument.short_name else instrument.name,
        )
        for instrument in default_instruments()
    ]


def pathway_choices() -> list[tuple[str, str]]:
    """(qualified id, label) of the pathway stages and components; components indented under their stage."""
    return [
        (entry.qualified_id, entry.name if entry.kind == "stage" else f"– {entry.name}")
        for entry in pathway_entries()
    ]


def survey_items(instruments: Iterable[str], pathway: Iterable[str], subject: str = "") -> list[SurveyItem]:
    """The items of a survey, instruments first (each in its published order), then the pathway ratings."""
    registry = default_instruments()
    found: list[SurveyItem] = []
    for instrument_id in instruments:
        instrument = registry.get(instrument_id)
        source = instrument.short_name or instrument.name
        for item in instrument.items:
            found.append(
                SurveyItem(
                    key=item.id,
                    source=source,
                    question=instrument.wording(item, subject or None),
                    values=instrument.scale.values,
                    labels=dict(instrument.scale.labels),
                )
            )
    catalog = default_catalog()
    for qualified_id in pathway:
        entry = catalog.get(qualified_id)
        found.append(
            SurveyItem(
                key=pathway_key(entry),
                source="Recipient pathway",
                question=entry.name,
                values=tuple(PATHWAY_SCALE),
                labels=PATHWAY_SCALE,
                hint=entry.description or "",
            )
        )
    return found


@deconstructible
class InstrumentIdsValidator:
    """A stored list of distinct ids of bundled instruments."""

    def __call__(self, value: object) -> None:
        _check_list(value, "instruments", {instrument.id for instrument in default_instruments()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InstrumentIdsValidator)

    def __hash__(self) -> int:
        return hash(type(self))


@deconstructible
class PathwayIdsValidator:
    """A stored list of distinct recipient-pathway entry ids (``recipient-pathway:trust``)."""

    def __call__(self, value: object) -> None:
        _check_list(value, "recipient-pathway items", {entry.qualified_id for entry in pathway_entries()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PathwayIdsValidator)

    def __hash__(self) -> int:
        return hash(type(self))


def _check_list(value: object, what: str, known: set[str]) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("%(what)s must be a list of ids", params={"what": what}, code="not_a_list")
    if len(set(value)) != len(value):
        raise ValidationError("%(what)s list an id twice", params={"what": what}, code="duplicate")
    unknown = [item for item in value if item not in known]
    if unknown:
        raise ValidationError(
            "%(ids)s: not among the %(what)s of the catalog (known: %(known)s)",
            params={"ids": ", ".join(unknown), "what": what, "known": ", ".join(sorted(known))},
            code="unknown",
        )
