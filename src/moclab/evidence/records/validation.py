"""Checking evidence records against their JSON Schema, with every problem located.

The schema (``moclab/evidence/schema/evidence-record-1.json``, format 1) is the format's definition: another
team can validate records with any JSON Schema validator. moclab validates with the `jsonschema` library and
turns its errors into `Problem`s a researcher can act on: a record read from YAML is located at its line and
column (`moclab.yamlio.locate`), one read from JSON by the JSON pointer of the offending value; a misspelt key
or value gets a "did you mean". Two checks the schema cannot make follow: every catalog reference must name an
entry of the catalog (the bundled one, plus the user's frameworks when ``MOCLAB_FRAMEWORKS`` names any), and
every interval must have its low end first.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

from moclab.errors import MoclabError, Problem, did_you_mean
from moclab.yamlio import YamlList, YamlMap, locate

__all__ = ["FORMAT", "KIND", "SCHEMA_FILE", "check_record", "record_schema"]

#: The value of every record's ``kind`` key, and the format version this module reads and writes.
KIND = "moclab-evidence-record"
FORMAT = 1
SCHEMA_FILE = "evidence-record-1.json"


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("moclab.evidence").joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8")


def record_schema() -> dict[str, Any]:
    """The JSON Schema of evidence records, format 1 (shipped with moclab; a fresh copy on every call).

    Examples
    --------
    >>> schema = record_schema()
    >>> schema["properties"]["format"]["const"], sorted(schema["$defs"]["criteria"]["properties"])[:2]
    (1, ['consistency', 'experimental_manipulation'])
    """
    return json.loads(_schema_text())


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    return _jsonschema().Draft202012Validator(record_schema())


def _jsonschema() -> Any:
    """The `jsonschema` library, or a readable error when it is missing (it is a dependency of moclab)."""
    try:
        import jsonschema
    except ModuleNotFoundError:
        raise MoclabError(
            "checking evidence records needs the jsonschema library, which is not installed",
            hint="pip install jsonschema (moclab depends on it; reinstall moclab)",
        ) from None
    return jsonschema


def _dotted(path: Sequence[Any]) -> str:
    return ".".join(str(step) for step in path) or "(top level)"


def _pointer(path: Sequence[Any]) -> str:
    """The JSON pointer (RFC 6901) of a path of keys and indices."""
    return "/" + "/".join(str(step).replace("~", "~0").replace("/", "~1") for step in path)


def _where(data: Any, path: Sequence[Any], shown: str) -> dict[str, Any]:
    """Where a problem at `path` is: the YAML line and column when the data remember them, else the JSON
    pointer (as the problem's field)."""
    if isinstance(data, YamlMap | YamlList):
        position = locate(data, list(path))
        if position is not None:
            return {"file": shown, "line": position[0], "column": position[1]}
    return {"file": shown, "field": _pointer(path)}


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_problems(error: Any, data: Any, shown: str) -> Iterator[Problem]:
    """The problems one `jsonschema` error stands for (a missing or unknown key may be several)."""
    path = list(error.absolute_path)
    kind, schema, instance = error.validator, error.schema, error.instance
    if kind == "required":
        for key in error.validator_value:
            if isinstance(instance, dict) and key not in instance:
                yield Problem(
                    f"'{_dotted([*path, key])}' is required but missing", **_where(data, path, shown)
                )
        return
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for key in instance if isinstance(instance, dict) else ():
            if key not in allowed:
                yield Problem(
                    f"unknown key '{key}'" + (f" in '{_dotted(path)}'" if path else ""),
                    hint=did_you_mean(str(key), allowed) or "allowed keys: " + ", ".join(allowed),
                    **_where(data, [*path, key], shown),
                )
        return
    where = _where(data, path, shown)
    if kind == "enum":
        choices = [str(value) for value in error.validator_value if value is not None]
        yield Problem(
            f"'{_dotted(path)}': {_describe(instance)} is not one of {', '.join(choices)}",
            hint=did_you_mean(str(instance), choices),
            **where,
        )
    elif kind == "const":
        yield Problem(f"'{_dotted(path)}' must be {_describe(error.validator_value)}", **where)
    elif kind in ("anyOf", "oneOf") and schema.get("description"):
        # a rule about one part of the record (the provenance) is shown at that part
        at = [*path, schema["x-located-at"]] if schema.get("x-located-at") in (instance or {}) else path
        yield Problem(str(schema["description"]), **_where(data, at, shown))
    elif kind == "minProperties" and path == ["criteria"]:
        yield Problem("'criteria' holds no verdict: give at least one criterion's status", **where)
    elif "title" in schema and kind in ("type", "pattern", "minItems", "maxItems"):
        yield Problem(f"'{_dotted(path)}': expected {schema['title']}, got {_describe(instance)}", **where)
    elif kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        yield Problem(f"'{_dotted(path)}': expected {expected}, got {_describe(instance)}", **where)
    else:
        yield Problem(f"'{_dotted(path)}': {error.message}", **where)


def _reference_paths(record: dict[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """Every catalog reference of a record, with its path: the nodes' ``refs`` and the competencies."""
    pathway = record.get("pathway")
    if not isinstance(pathway, dict):
        return
    nodes: list[list[Any]] = [["pathway", "strategy"], ["pathway", "determinant"], ["pathway", "outcome"]]
    mechanisms = pathway.get("mechanisms")
    if isinstance(mechanisms, list):
        nodes[2:2] = [["pathway", "mechanisms", index] for index in range(len(mechanisms))]
    for node_path in nodes:
        node = _get(record, node_path)
        refs = node.get("refs") if isinstance(node, dict) else None
        for index, ref in enumerate(refs if isinstance(refs, list) else ()):
            if isinstance(ref, str):
                yield [*node_path, "refs", index], ref
    competencies = pathway.get("competencies")
    for index, ref in enumerate(competencies if isinstance(competencies, list) else ()):
        if isinstance(ref, str):
            yield ["pathway", "competencies", index], ref


def _get(data: Any, path: Sequence[Any]) -> Any:
    for step in path:
        found = (isinstance(data, dict) and step in data) or (
            isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data)
        )
        if not found:
            return None
        data = data[step]
    return data


def _reference_problems(data: Any, shown: str, resolver: Any) -> Iterator[Problem]:
    from moclab.model.refs import REF_FORM

    for path, ref in _reference_paths(data):
        if not REF_FORM.match(ref) or resolver.resolve(ref) is not None:
            continue  # a reference of the wrong form is the schema's to report
        try:
            resolver.get(ref)
            hint = None
        except MoclabError as error:
            hint = error.hint
        yield Problem(
            f"'{_dotted(path)}': catalog reference '{ref}' not found",
            hint=hint or "list entries with `moclab catalog search TEXT`",
            **_where(data, path, shown),
        )


def _intervals(value: Any, path: list[Any]) -> Iterator[tuple[list[Any], list[Any]]]:
    """Every interval of a record: the lists under an ``interval`` key."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "interval" and isinstance(item, list):
                yield [*path, key], item
            else:
                yield from _intervals(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _intervals(item, [*path, index])


def _interval_problems(record: Any, shown: str) -> Iterator[Problem]:
    for path, interval in _intervals(record, []):
        if (
            len(interval) == 2
            and all(isinstance(v, int | float) for v in interval)
            and interval[0] > interval[1]
        ):
            yield Problem(
                f"'{_dotted(path)}': the interval [{interval[0]}, {interval[1]}] has its low end last",
                hint="write [low, high]",
                **_where(record, path, shown),
            )


def check_record(data: Any, shown: str, *, resolver: Any = None) -> list[Problem]:
    """Every problem of one record, located: schema errors first, then catalog references and intervals.

    Parameters
    ----------
    data : Any
        The record as read: a `YamlMap` from YAML (problems then name lines), or plain JSON data (problems
        name JSON pointers). Dates must already be ISO text.
    shown : str
        The file, as problems name it.
    resolver : catalog, optional
        What catalog references resolve against (``resolve(ref)`` and ``get(ref)``, as
        `moclab.catalog.Catalog`); default: the bundled catalog plus ``MOCLAB_FRAMEWORKS``.

    Returns
    -------
    list of Problem
        Empty when the record is valid.

    Examples
    --------
    >>> record = {"kind": "moclab-evidence-record", "format": 1, "study": {"id": "a", "title": "A"},
    ...           "pathway": {"strategy": {"id": "coaching"}, "mechanisms": [{"id": "trust"}],
    ...                       "outcome": {"id": "adoption"}},
    ...           "criteria": {"timeline": {"status": "metx"}}, "provenance": {"source": "hand-entered"}}
    >>> for problem in check_record(record, "a.json"):
    ...     print(problem)
    a.json, '/criteria/timeline/status': 'criteria.timeline.status': "metx" is not one of met, partly met,
    not met, not testable (did you mean 'met'?)
    a.json, '/provenance': a hand-entered record cites its study (provenance.citation or provenance.doi), or
    says it describes no real study (study.illustrative: true)
    a.json, '/study': 'study.synthetic' is required but missing
    """
    if not isinstance(data, dict):
        return [
            Problem(
                "expected a mapping of keys (kind:, format:, study:, pathway:, ...), found "
                + type(data).__name__,
                file=shown,
                line=1 if isinstance(data, YamlList) else None,
            )
        ]
    problems = [
        problem
        for error in _validator().iter_errors(data)
        for problem in _schema_problems(error, data, shown)
    ]
    if resolver is None:
        from moclab.model.refs import default_resolver

        resolver = default_resolver()
    if resolver is not None:
        problems.extend(_reference_problems(data, shown, resolver))
    problems.extend(_interval_problems(data, shown))
    # one problem per place and message (jsonschema reports a missing key once per key a rule asks for),
    # in the order of the file
    unique = list({(p.line, p.column, p.field, p.message): p for p in problems}.values())
    return sorted(unique, key=lambda p: (p.line or 0, p.column or 0, p.field or ""))
