"""Safe YAML reading that remembers where every key and item came from.

Every moclab file a user writes (study config, pathway model, framework, instrument) is YAML. Errors must name
the line, so the loader returns `YamlMap`/`YamlList` containers (plain dict/list subclasses) that carry the
line and column of each key and item. Only the YAML safe schema is accepted: a tag that would construct a
Python object is refused with its line, never executed. Duplicate keys, which PyYAML silently overwrites, are
reported, so nothing the user wrote is dropped without a word.

`parse_model` validates loaded data against a pydantic model and turns pydantic's errors into `Problem`s
located at the offending YAML line, with a "did you mean" for misspelt keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from moclab.errors import ConfigError, Problem, ValidationError, did_you_mean, display_path

T = TypeVar("T", bound=pydantic.BaseModel)

Position = tuple[int, int]  # 1-based line, column


class YamlMap(dict):
    """A mapping read from YAML; `positions[key]` is where the key was written, `position` where the map
    starts."""

    position: Position = (0, 0)
    positions: dict[Any, Position]
    value_positions: dict[Any, Position]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.positions = {}
        self.value_positions = {}


class YamlList(list):
    """A sequence read from YAML; `positions[i]` is where item i was written."""

    position: Position = (0, 0)
    positions: list[Position]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.positions = []


def _mark(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _TrackingLoader(yaml.SafeLoader):
    """SafeLoader that builds YamlMap/YamlList and refuses duplicate keys."""


def _construct_map(loader: _TrackingLoader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    result = YamlMap()
    result.position = _mark(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value, not a list or mapping", key_node.start_mark
            ) from exc
        if key in result:
            first_line = result.positions[key][0]
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key '{key}' (first written on line {first_line}); keep one of them",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.positions[key] = _mark(key_node)
        result.value_positions[key] = _mark(value_node)
    return result


def _construct_list(loader: _TrackingLoader, node: yaml.SequenceNode) -> YamlList:
    result = YamlList(loader.construct_object(child, deep=True) for child in node.value)
    result.position = _mark(node)
    result.positions = [_mark(child) for child in node.value]
    return result


def _construct_timestamp(loader: _TrackingLoader, node: yaml.ScalarNode) -> Any:
    # A date-shaped value that is no real date (2024-13-45) makes PyYAML raise a bare ValueError with no line;
    # keeping it as text lets the schema report it as an invalid date at its line, with the other problems.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_TrackingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_TrackingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)
_TrackingLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def loads_yaml(text: str, source: str = "<text>") -> Any:
    """Parse YAML text with position tracking; errors become ConfigError naming source, line and column."""
    try:
        return yaml.load(text, Loader=_TrackingLoader)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = str(exc.problem or exc)
        if "could not determine a constructor" in problem:
            tag = problem.split("tag", 1)[-1].strip().strip("'")
            raise ConfigError(
                f"{where}: the YAML tag {tag} is not allowed",
                hint="moclab reads plain YAML only (mappings, lists, text, numbers); remove the tag",
            ) from None
        raise ConfigError(f"{where}: {problem}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        what = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"{where}: malformed YAML: {what}",
            hint="check indentation, colons and quotes on that line or the line before",
        ) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) and the like
        raise ConfigError(f"{source}: malformed YAML: {exc}") from None


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file safely; missing, empty, binary or non-UTF-8 files give a ConfigError."""
    path = Path(path)
    shown = display_path(path)
    if not path.exists():
        raise ConfigError(f"{shown}: file not found")
    if path.is_dir():
        raise ConfigError(f"{shown}: is a folder, expected a YAML file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown}: not UTF-8 text (byte {exc.start} cannot be decoded)",
            hint="save the file as UTF-8 in your editor",
        ) from None
    if not text.strip():
        raise ConfigError(f"{shown}: the file is empty")
    data = loads_yaml(text, shown)
    if data is None:
        raise ConfigError(f"{shown}: the file holds no YAML content (only comments?)")
    return data


def locate(data: Any, loc: Sequence[Any]) -> Position | None:
    """The line and column of the deepest element of `loc` (a key path) that can be found in `data`."""
    found: Position | None = getattr(data, "position", None)
    node = data
    for step in loc:
        if isinstance(node, YamlMap) and step in node:
            found = node.positions.get(step, found)
            node = node[step]
        elif isinstance(node, YamlList) and isinstance(step, int) and 0 <= step < len(node):
            found = node.positions[step]
            node = node[step]
        else:
            break
    return found


def _allowed_keys(model: type[pydantic.BaseModel], loc: Sequence[Any]) -> list[str]:
    """Field names (with aliases) of the pydantic model that owns the key at `loc`, for 'did you mean'."""
    current: Any = model
    for step in loc[:-1]:
        if isinstance(step, int) or current is None:
            continue
        fields = getattr(current, "model_fields", {})
        info = fields.get(step)
        if info is None:
            info = next((f for f in fields.values() if f.alias == step), None)
        current = _inner_model(info.annotation) if info is not None else None
    if current is None or not hasattr(current, "model_fields"):
        return []
    names = []
    for name, info in current.model_fields.items():
        names.append(info.alias or name)
    return names


def _inner_model(annotation: Any) -> type[pydantic.BaseModel] | None:
    """The pydantic model inside an annotation such as `list[Node]`, `dict[str, Table] | None`."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None


def problems_from_pydantic(
    exc: pydantic.ValidationError, data: Any, source: str, model: type[pydantic.BaseModel]
) -> list[Problem]:
    """Turn pydantic's errors into located, readable problems."""
    problems = []
    for error in exc.errors():
        loc = [step for step in error["loc"] if not (isinstance(step, str) and step.startswith("function-"))]
        path = ".".join(str(step) for step in loc) or "(top level)"
        position = locate(data, loc)
        line, column = position if position else (None, None)
        kind = error["type"]
        hint = None
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(model, loc)
            message = f"unknown key '{key}'"
            hint = did_you_mean(key, allowed) or (
                "allowed keys: " + ", ".join(sorted(allowed)) if allowed else None
            )
        elif kind == "missing":
            message = f"'{path}' is required but missing"
        else:
            message = f"'{path}': {error['msg']}"
            if "input" in error and not isinstance(error["input"], dict | list):
                message += f" (got {error['input']!r})"
        problems.append(Problem(message, file=source, line=line, column=column, hint=hint))
    return problems


def parse_model(model: type[T], data: Any, source: str, what: str | None = None) -> T:
    """Validate YAML data against a pydantic model; every problem is reported at once with its line."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(what or source, problems_from_pydantic(exc, data, source, model)) from None
