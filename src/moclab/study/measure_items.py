"""Which measures of a study are scored from instrument items, and which rows of the data are their items.

A measure in moclab.yaml may name an instrument (contract section 2)::

    instruments: [instruments/team-climate.yaml]      # the study's own instrument files (optional)
    measures:
      acceptability: {instrument: aim}                  # items aim_1..aim_4 in the measures table
      readiness: {instrument: oric, subscale: change_commitment}
      acceptability_of_isp:                             # the same instrument twice: map its items
        instrument: aim
        items: {aim_1: acc_isp_1, aim_2: acc_isp_2, aim_3: acc_isp_3, aim_4: acc_isp_4}

`InstrumentPlan` resolves these declarations against the instrument registry (bundled plus the study's own
files) and checks them: unknown instruments and subscales (with "did you mean"), item maps that name no item,
two measures reading the same field, score names that clash with declared measures. Each problem points at
its line in moclab.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moclab.catalog.instruments import Instrument, InstrumentRegistry, default_instruments
from moclab.errors import MoclabError, Problem, ValidationError, did_you_mean, display_path
from moclab.study.scoring import scale_names

Locator = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class InstrumentUse:
    """One measure scored from an instrument: which subscale, and the field that holds each item."""

    measure: str
    instrument: Instrument
    subscale: str | None
    fields: Mapping[str, str]  # item id -> field name in the measures table

    @property
    def score_names(self) -> dict[str, str | None]:
        return scale_names(self.instrument, self.measure, self.subscale)

    @property
    def score_range(self) -> tuple[float, float]:
        return self.instrument.score_range(self.subscale)


@dataclass
class InstrumentPlan:
    """The instrument measures of a study (see the module docstring).

    Attributes
    ----------
    registry : InstrumentRegistry
        Bundled instruments plus the study's own files.
    uses : dict
        Measure name -> `InstrumentUse`, for the measures whose declaration could be resolved.
    field_owner : dict
        Field name (the text in the measure column) -> (measure, item id).
    problems : list of Problem
        What is wrong with the declarations, each at its line in moclab.yaml.
    """

    registry: InstrumentRegistry
    uses: dict[str, InstrumentUse] = field(default_factory=dict)
    field_owner: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def item_fields(self) -> set[str]:
        return set(self.field_owner)

    @property
    def score_owner(self) -> dict[str, str]:
        """Score name -> the measure that gives it (a measure's own name and its subscale scores)."""
        return {score: measure for measure, use in self.uses.items() for score in use.score_names}

    def ranges(self) -> dict[str, tuple[float, float]]:
        """The range of every score, from its instrument's scale and scoring rule."""
        result = {}
        for use in self.uses.values():
            for score, subscale in use.score_names.items():
                result[score] = use.instrument.score_range(subscale)
        return result

    @classmethod
    def build(cls, config: Any, folder: Path, at: Locator | None = None) -> InstrumentPlan:
        """Resolve and check the instrument declarations of a config; problems are collected, not raised.

        `at(*keys)` gives the file, line and column of a key of moclab.yaml (the study checker's locator).
        """
        locate = at or (lambda *_keys: {})
        problems: list[Problem] = []
        registry = _registry(config, folder, locate, problems)
        plan = cls(registry=registry, problems=problems)
        declared = set(config.measures)
        for measure, spec in config.measures.items():
            if spec.instrument is None:
                for key in ("subscale", "items"):
                    if getattr(spec, key) is not None:
                        problems.append(
                            Problem(
                                f"measure '{measure}': '{key}' needs an 'instrument'",
                                hint="name the instrument the items belong to, e.g. 'instrument: aim'",
                                **locate("measures", measure, key),
                            )
                        )
                continue
            use = plan._resolve(measure, spec, locate)
            if use is None:
                continue
            plan._claim(use, locate)
            for score in use.score_names:
                if score != measure and score in declared:
                    problems.append(
                        Problem(
                            f"measure '{measure}' gives the subscale score '{score}', which is also declared "
                            "as a measure of its own",
                            hint=f"rename the measure '{score}', or score one subscale with 'subscale:'",
                            **locate("measures", score),
                        )
                    )
            plan.uses[measure] = use
        return plan

    @classmethod
    def for_study(cls, config: Any, folder: Path) -> InstrumentPlan:
        """The plan of a study whose config is known to be valid; ValidationError if it is not."""
        plan = cls.build(config, folder)
        errors = [problem for problem in plan.problems if problem.severity == "error"]
        if errors:
            raise ValidationError(f"study {display_path(folder)}", errors)
        return plan

    def _resolve(self, measure: str, spec: Any, locate: Locator) -> InstrumentUse | None:
        try:
            instrument = self.registry.get(spec.instrument)
        except MoclabError as exc:
            self.problems.append(
                Problem(
                    f"measure '{measure}': {exc.message}",
                    hint=(exc.hint or "")
                    + "; see `moclab instruments list`, or declare your own file under `instruments:`",
                    **locate("measures", measure, "instrument"),
                )
            )
            return None
        subscale = spec.subscale
        if subscale is not None:
            try:
                instrument.items_of(subscale)
            except MoclabError as exc:
                self.problems.append(
                    Problem(
                        f"measure '{measure}': {exc.message}",
                        hint=exc.hint,
                        **locate("measures", measure, "subscale"),
                    )
                )
                return None
        scored = [item.id for item in instrument.items_of(subscale)]
        fields = {item_id: item_id for item_id in scored}
        for item_id, field_name in (spec.items or {}).items():
            if item_id not in instrument.item_ids:
                self.problems.append(
                    Problem(
                        f"measure '{measure}': '{item_id}' is not an item of instrument '{instrument.id}'",
                        hint=did_you_mean(item_id, instrument.item_ids)
                        or "its items: " + ", ".join(instrument.item_ids),
                        **locate("measures", measure, "items", item_id),
                    )
                )
            elif item_id not in fields:
                self.problems.append(
                    Problem(
                        f"measure '{measure}': item '{item_id}' is not in subscale '{subscale}'",
                        hint="map only the items of the subscale the measure scores",
                        **locate("measures", measure, "items", item_id),
                    )
                )
            elif not str(field_name).strip():
                self.problems.append(
                    Problem(
                        f"measure '{measure}': item '{item_id}' is mapped to an empty name",
                        **locate("measures", measure, "items", item_id),
                    )
                )
            else:
                fields[item_id] = str(field_name).strip()
        return InstrumentUse(measure=measure, instrument=instrument, subscale=subscale, fields=fields)

    def _claim(self, use: InstrumentUse, locate: Locator) -> None:
        """Record which fields the measure reads; a field read by two measures, or named like a declared
        measure, is an error (its rows could not be told apart)."""
        for item_id, field_name in use.fields.items():
            owner = self.field_owner.get(field_name)
            where = (
                locate("measures", use.measure, "items", item_id)
                if item_id != field_name
                else locate("measures", use.measure, "instrument")
            )
            if owner is not None:
                self.problems.append(
                    Problem(
                        f"measures '{owner[0]}' and '{use.measure}' both read the item rows named "
                        f"'{field_name}'",
                        hint="give one of them its own field names with `items: {"
                        + f"{item_id}: <name>"
                        + ", ...}` and use those names in the data",
                        **where,
                    )
                )
                continue
            self.field_owner[field_name] = (use.measure, item_id)


def _registry(config: Any, folder: Path, locate: Locator, problems: list[Problem]) -> InstrumentRegistry:
    """Bundled instruments plus the study's `instruments:` files (missing or broken files are problems)."""
    paths = []
    for index, name in enumerate(config.instruments):
        path = Path(name).expanduser()
        path = path if path.is_absolute() else folder / path
        if not path.exists():
            problems.append(
                Problem(
                    f"instrument file '{name}' was not found",
                    hint="the path is relative to the study folder",
                    **locate("instruments", index),
                )
            )
        else:
            paths.append(path)
    if not paths:
        return default_instruments()
    try:
        return InstrumentRegistry.load(paths)
    except ValidationError as exc:
        problems.extend(exc.problems)
        return default_instruments()
