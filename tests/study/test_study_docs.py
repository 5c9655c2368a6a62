"""The study docs and the tool agree: every `evidence:` key is documented with its default, and the
getting-started step that breaks the example gives the errors it promises."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pydantic
from study_helpers import edit_line, find, problems_of

from moclab.study.evidence_settings import EvidenceSettings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _model(annotation: object) -> type[pydantic.BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel) else None


def _accepted_keys(model: type[pydantic.BaseModel], prefix: str = "") -> dict[str, object]:
    """Every key the model accepts, dotted (``dose.level``, ``pathways[].id``, ``links."from->to".sign``),
    with its default (pydantic's sentinel for a required key); a section stands for its keys. An optional
    section (``pathways[].waves``, ``WaveSpec | None``) repeats a study-wide one and is one key."""
    keys: dict[str, object] = {}
    for name, field in model.model_fields.items():
        key = prefix + name
        annotation = field.annotation
        args = typing.get_args(annotation)
        if _model(annotation) is not None:  # a section (dose, thresholds): its keys are documented
            keys.update(_accepted_keys(annotation, f"{key}."))
            continue
        keys[key] = field.default
        if typing.get_origin(annotation) is dict and _model(args[1]) is not None:
            keys.update(_accepted_keys(args[1], f'{key}."from->to".'))
        else:
            listed = [typing.get_args(arg)[0] for arg in args if typing.get_origin(arg) is list]
            if listed and _model(listed[0]) is not None:
                keys.update(_accepted_keys(listed[0], f"{key}[]."))
    return keys


def _documented_keys() -> dict[str, str]:
    text = (DOCS / "study-format.md").read_text(encoding="utf-8")
    section = text.split("### `evidence`", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", section, flags=re.MULTILINE))


def test_the_study_format_documents_exactly_the_accepted_evidence_keys() -> None:
    accepted = _accepted_keys(EvidenceSettings)
    documented = _documented_keys()
    assert sorted(documented) == sorted(accepted)
    for key, default in accepted.items():
        cell = documented[key].strip()
        if isinstance(default, bool):
            assert cell.startswith(f"`{str(default).lower()}`"), key
        elif isinstance(default, str | int | float) or default in ([], {}):
            assert cell.startswith(f"`{default}`"), (key, cell)
        else:  # None, a nested default or required: said in words
            assert cell, key


def test_the_getting_started_site_s99_step_gives_a_site_error_naming_the_row(study_copy: Path) -> None:
    guide = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    assert "change one site code\nto `S99` and one `years_experience` to `-3`" in guide
    recipients = study_copy / "data" / "recipients.csv"
    edit_line(recipients, 2, ",S01,", ",S99,")
    edit_line(recipients, 3, ",15", ",-3")
    problems = problems_of(study_copy)
    site = find(problems, "site not declared")
    assert (site.file, site.line, site.row, site.field) == ("data/recipients.csv", 2, 1, "site")
    assert site.message == "site not declared: line 2 (row 1) 'S99' (did you mean 'S09'?)"
    assert "tables.recipients.columns.site" in site.hint
    years = find(problems, "outside", row=2)
    assert years.field == "years_experience"
