"""Reading framework files: the bundled ones, the user's own, and checking them together.

Where framework files come from, in this order:

1. the bundled files in ``moclab/catalog/data/`` (listed in ``index.yaml``, which fixes their order);
2. files and folders given by the caller (``--path`` on the command line, or a path in a study config);
3. files and folders named in the environment variable ``MOCLAB_FRAMEWORKS`` (separated by ``os.pathsep``).

A folder stands for every ``*.yaml`` / ``*.yml`` file directly inside it. A file either defines a new
framework (``id: ...``) or adds entries to an existing one (``extends: ...``); redefining a framework id that
is already defined is an error, so a user file can never silently replace bundled facts.

Every problem in every file is collected and raised together as one `FrameworkFileError`, each located by
file, line and column, so a user fixes a broken file in one pass.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from moclab.catalog.entries import SETTLED_LEVELS, Entry, Framework, Verification
from moclab.catalog.schema import EntrySpec, FrameworkFile
from moclab.errors import (
    CatalogError,
    MoclabError,
    Problem,
    ProblemList,
    ValidationError,
    did_you_mean,
    display_path,
)
from moclab.yamlio import YamlMap, load_yaml, locate, parse_model

#: Environment variable naming extra framework files or folders, separated like PATH.
ENV_VAR = "MOCLAB_FRAMEWORKS"

DATA_DIR = Path(__file__).parent / "data"
INDEX_FILE = "index.yaml"
FRAMEWORK_SUFFIXES = (".yaml", ".yml")

# Header keys that belong to the framework's defining file; an extension may not restate or change them.
_DEFINITION_ONLY_KEYS = (
    "name",
    "version",
    "short_citation",
    "citation",
    "url",
    "doi",
    "licence",
    "description",
    "notes",
    "sources",
    "kinds",
    "counts",
)


class FrameworkFileError(ValidationError, CatalogError):
    """One or more framework files are malformed; `problems` lists each with its file and line."""


@dataclass(frozen=True)
class _ParsedFile:
    """A validated framework file with the YAML data it came from (for line numbers)."""

    spec: FrameworkFile
    data: YamlMap
    label: str
    bundled: bool


def bundled_files() -> list[Path]:
    """The bundled framework files in catalog order (as listed in ``data/index.yaml``).

    Raises
    ------
    CatalogError
        When the index names a file that is missing or a framework file is missing from the index
        (a packaging mistake, caught by the test suite).
    """
    index = load_yaml(DATA_DIR / INDEX_FILE)
    names = list(index.get("frameworks", [])) if isinstance(index, dict) else []
    present = sorted(
        p.name for p in DATA_DIR.iterdir() if p.suffix in FRAMEWORK_SUFFIXES and p.name != INDEX_FILE
    )
    missing = [name for name in names if name not in present]
    unlisted = [name for name in present if name not in names]
    if missing or unlisted:
        raise CatalogError(
            f"bundled catalog index {INDEX_FILE} does not match the data folder "
            f"(listed but missing: {missing or 'none'}; present but not listed: {unlisted or 'none'})",
            hint="this is a packaging error in moclab; please report it",
        )
    return [DATA_DIR / name for name in names]


def expand_paths(paths: Iterable[str | Path], origin: str, problems: ProblemList) -> list[Path]:
    """Files named by `paths`, with each folder replaced by the framework files directly inside it.

    Missing paths and folders without framework files are reported to `problems` (naming `origin`, e.g.
    ``--path`` or ``MOCLAB_FRAMEWORKS``) instead of being skipped, because the user expected them to count.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        shown = display_path(path)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in FRAMEWORK_SUFFIXES)
            if not found:
                problems.add(
                    "folder has no framework files (*.yaml, *.yml)",
                    file=shown,
                    hint=f"given in {origin}; put framework files in it or remove it",
                )
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.add("file or folder not found", file=shown, hint=f"given in {origin}; check the path")
    return files


def environment_paths() -> list[str]:
    """The entries of ``MOCLAB_FRAMEWORKS`` (empty parts ignored)."""
    value = os.environ.get(ENV_VAR, "")
    return [part for part in value.split(os.pathsep) if part.strip()]


def yaml_position(data: Any, *loc: Any) -> dict[str, int | None]:
    """The line and column of `loc` in YAML read by `moclab.yamlio`, as keywords for `ProblemList.add`."""
    position = locate(data, loc)
    line, column = position if position else (None, None)
    return {"line": line, "column": column}


def _read_file(path: Path, label: str, bundled: bool, problems: ProblemList) -> _ParsedFile | None:
    """Load and validate one file; problems go to `problems` and None is returned if it cannot be used."""
    try:
        data = load_yaml(path)
        if not isinstance(data, YamlMap):
            found = "a list" if isinstance(data, list) else f"a single value ({data!r})"
            problems.add(
                f"a framework file is a mapping (keys such as id, name, citation, entries), not {found}",
                file=label,
                **yaml_position(data),
                hint="see docs/catalog.md for a complete example",
            )
            return None
        spec = parse_model(FrameworkFile, data, label)
    except ValidationError as exc:
        problems.extend(exc.problems)
        return None
    except MoclabError as exc:  # missing, empty, not UTF-8, bad YAML, refused tag: message names the place
        problems.add(exc.message, hint=exc.hint)
        return None
    parsed = _ParsedFile(spec, data, label, bundled)
    _check_file(parsed, problems)
    return parsed


@functools.lru_cache(maxsize=64)
def _read_bundled(path: Path, stamp: tuple[int, int]) -> tuple[_ParsedFile | None, tuple[Problem, ...]]:
    """A bundled file read once per process and content (`stamp` = modification time, size).

    Parsing YAML with positions is the slow part of loading; notebooks, tests and a web app load the catalog
    many times, and the bundled files do not change between loads.
    """
    problems = ProblemList("bundled")
    parsed = _read_file(path, f"moclab/catalog/data/{path.name}", True, problems)
    return parsed, tuple(problems.problems)


def _check_file(parsed: _ParsedFile, problems: ProblemList) -> None:
    """Rules within one file: header shape, unique ids and numbers, consistent verification, known kinds."""
    spec, data, label = parsed.spec, parsed.data, parsed.label
    if spec.id is None and spec.extends is None:
        problems.add(
            "the file needs 'id' (to define a new framework) or 'extends' (to add entries to one)",
            file=label,
            **yaml_position(data),
            hint="e.g. 'id: acme-competencies' or 'extends: eis'",
        )
    elif spec.id is not None and spec.extends is not None:
        problems.add(
            "give either 'id' or 'extends', not both",
            file=label,
            **yaml_position(data, "extends"),
            hint="'id' defines a new framework; 'extends' adds entries to an existing one",
        )
    elif spec.id is not None:
        for key in ("name", "citation"):
            if getattr(spec, key) is None:
                problems.add(
                    f"a framework needs '{key}'",
                    file=label,
                    **yaml_position(data),
                    hint="a citation is the full reference readers should cite",
                )
    else:
        for key in _DEFINITION_ONLY_KEYS:
            if key in data:
                problems.add(
                    f"'{key}' cannot be set in a file that extends '{spec.extends}'",
                    file=label,
                    **yaml_position(data, key),
                    hint="the framework's own file sets it; say where your entries come from in 'source'",
                )

    first_id: dict[str, int] = {}
    first_number: dict[int, int] = {}
    for index, entry in enumerate(spec.entries):
        where_id = yaml_position(data, "entries", index, "id")
        if entry.id in first_id:
            problems.add(
                f"duplicate id '{entry.id}' (first written on line {first_id[entry.id]})",
                file=label,
                **where_id,
                hint="ids must be unique within a framework; qualify repeated names with the parent",
            )
        else:
            first_id[entry.id] = where_id["line"] or 0
        if entry.number is not None:
            where_number = yaml_position(data, "entries", index, "number")
            if entry.number in first_number:
                problems.add(
                    f"duplicate number {entry.number} (first written on line {first_number[entry.number]})",
                    file=label,
                    **where_number,
                    hint="numbers identify entries (e.g. eric:33) and must be unique within a framework",
                )
            else:
                first_number[entry.number] = where_number["line"] or 0
        settled = entry.verification in SETTLED_LEVELS
        if entry.verified is not None and entry.verification is not None and entry.verified != settled:
            problems.add(
                f"'verified: {str(entry.verified).lower()}' contradicts 'verification: {entry.verification}'",
                file=label,
                **yaml_position(data, "entries", index, "verified"),
                hint="give only 'verification': verified, verified_secondary, by_elimination or unverified",
            )
        if spec.kinds is not None and entry.kind not in spec.kinds:
            hint = did_you_mean(entry.kind, spec.kinds) or "this framework's kinds: " + ", ".join(spec.kinds)
            problems.add(
                f"kind '{entry.kind}' is not one of this framework's kinds",
                file=label,
                **yaml_position(data, "entries", index, "kind"),
                hint=hint,
            )
    known_kinds = spec.kinds if spec.kinds is not None else [e.kind for e in spec.entries]
    for kind, number in spec.counts.items():
        if kind not in known_kinds:
            problems.add(
                f"'counts' names kind '{kind}', which is not a kind of this framework",
                file=label,
                **yaml_position(data, "counts"),
                hint=did_you_mean(kind, known_kinds),
            )
        if number < 0:
            problems.add(f"count of '{kind}' must be 0 or more", file=label, **yaml_position(data, "counts"))


def _verification(entry: EntrySpec, file: FrameworkFile) -> Verification:
    """An entry's level: its own, else its `verified` flag, else its file's default, else unverified."""
    if entry.verification is not None:
        return entry.verification
    if entry.verified is not None:
        return "verified" if entry.verified else "unverified"
    return file.verification or "unverified"


@dataclass
class _Written:
    """An entry spec with the file and position it was written at."""

    spec: EntrySpec
    file: _ParsedFile
    index: int

    def where(self, *key: str) -> dict[str, Any]:
        return {"file": self.file.label, **yaml_position(self.file.data, "entries", self.index, *key)}

    @property
    def defined_in(self) -> str:
        line = self.where()["line"]
        return f"{self.file.label}:{line}" if line else self.file.label


def _merge(parsed_files: Sequence[_ParsedFile], problems: ProblemList, complete: bool) -> list[Framework]:
    """Rules across files: framework ids, extensions, parents, cycles and published counts.

    `complete` is False when some file could not be read; an extension of an unknown framework is then not
    reported, since the unreadable file may be the one that defines it.
    """
    definitions: dict[str, _ParsedFile] = {}
    for parsed in parsed_files:
        framework_id = parsed.spec.id
        if framework_id is None:
            continue
        if framework_id in definitions:
            first = definitions[framework_id]
            origin = "bundled with moclab" if first.bundled else f"defined in {first.label}"
            problems.add(
                f"framework '{framework_id}' is already {origin}",
                file=parsed.label,
                **yaml_position(parsed.data, "id"),
                hint=f"to add entries to it write 'extends: {framework_id}' instead of 'id'; "
                "to define your own framework choose a new id",
            )
            continue
        definitions[framework_id] = parsed

    written: dict[str, list[_Written]] = {
        fid: [_Written(spec, parsed, i) for i, spec in enumerate(parsed.spec.entries)]
        for fid, parsed in definitions.items()
    }
    extended_by: dict[str, list[str]] = {fid: [] for fid in definitions}
    for parsed in parsed_files:
        target = parsed.spec.extends
        if target is None or parsed.spec.id is not None:
            continue
        if target not in definitions:
            if not complete:
                continue
            problems.add(
                f"'extends: {target}' names no known framework",
                file=parsed.label,
                **yaml_position(parsed.data, "extends"),
                hint=did_you_mean(target, definitions) or "known frameworks: " + ", ".join(definitions),
            )
            continue
        base = definitions[target]
        base_kinds = base.spec.kinds
        for index, spec in enumerate(parsed.spec.entries):
            item = _Written(spec, parsed, index)
            if base_kinds is not None and spec.kind not in base_kinds:
                problems.add(
                    f"kind '{spec.kind}' is not one of the kinds of framework '{target}'",
                    **item.where("kind"),
                    hint=did_you_mean(spec.kind, base_kinds) or "kinds: " + ", ".join(base_kinds),
                )
            written[target].append(item)
        extended_by[target].append(parsed.label)

    frameworks = []
    for framework_id, base in definitions.items():
        items = written[framework_id]
        _check_across(framework_id, base, items, problems)
        frameworks.append(_build(framework_id, base, items, extended_by[framework_id]))
    return frameworks


def _check_across(framework_id: str, base: _ParsedFile, items: list[_Written], problems: ProblemList) -> None:
    """Ids and numbers unique across the defining file and its extensions; parents exist; no cycles."""
    by_id: dict[str, _Written] = {}
    by_number: dict[int, _Written] = {}
    for item in items:
        spec = item.spec
        first = by_id.get(spec.id)
        if first is None:
            by_id[spec.id] = item
        elif first.file is not item.file:  # duplicates inside one file were reported by _check_file
            problems.add(
                f"id '{spec.id}' already exists in framework '{framework_id}' (at {first.defined_in})",
                **item.where("id"),
                hint="choose another id for the added entry",
            )
        if spec.number is not None:
            first = by_number.get(spec.number)
            if first is None:
                by_number[spec.number] = item
            elif first.file is not item.file:
                problems.add(
                    f"number {spec.number} is already used in framework '{framework_id}' "
                    f"(at {first.defined_in})",
                    **item.where("number"),
                )

    parents: dict[str, str] = {}
    for item in items:
        parent = item.spec.parent
        if parent is None:
            continue
        if ":" in parent:
            prefix, slug = parent.split(":", 1)
            if prefix != framework_id:
                problems.add(
                    f"parent '{parent}' belongs to another framework; a parent must be in '{framework_id}'",
                    **item.where("parent"),
                    hint=f"write the parent's id without a prefix, e.g. 'parent: {slug}'",
                )
                continue
            parent = slug
        if parent not in by_id:
            problems.add(
                f"parent '{parent}' is not an entry of framework '{framework_id}'",
                **item.where("parent"),
                hint=did_you_mean(parent, by_id),
            )
        elif parent == item.spec.id:
            problems.add(f"entry '{parent}' names itself as its parent", **item.where("parent"))
        else:
            parents[item.spec.id] = parent

    reported: set[str] = set()
    for start in parents:
        chain = [start]
        while chain[-1] in parents and parents[chain[-1]] not in chain:
            chain.append(parents[chain[-1]])
        if chain[-1] in parents and not reported.intersection(chain):
            loop = [*chain[chain.index(parents[chain[-1]]) :], parents[chain[-1]]]
            reported.update(loop)
            problems.add(
                "parents form a loop: " + " -> ".join(loop),
                **by_id[loop[0]].where("parent"),
                hint="every chain of parents must end at a top-level entry",
            )

    for kind, published in base.spec.counts.items():
        of_kind = [item for item in items if item.spec.kind == kind]
        in_base = [item for item in of_kind if item.file is base]
        # The defining file must list all entries of a counted kind, or none (a stub such as EIS, whose names
        # are not verified); in the second case the extension files that supply names must supply them all.
        if in_base and len(in_base) != published:
            problems.add(
                f"'counts' says {published} entries of kind '{kind}' are published, "
                f"but {len(in_base)} are listed",
                file=base.label,
                **yaml_position(base.data, "counts"),
                hint="list every entry of that kind, or correct 'counts'",
            )
        elif not in_base and of_kind and len(of_kind) != published:
            files = ", ".join(dict.fromkeys(item.file.label for item in of_kind))
            problems.add(
                f"framework '{framework_id}' has {published} published entries of kind '{kind}', "
                f"but {len(of_kind)} are given (in {files})",
                **of_kind[0].where("kind"),
                hint=f"list all {published}, or define your own framework with 'id' instead of 'extends'",
            )


def _build(framework_id: str, base: _ParsedFile, items: list[_Written], extensions: list[str]) -> Framework:
    spec = base.spec
    citation = spec.citation or ""
    entries = []
    for item in items:
        parent = item.spec.parent
        if parent is not None and ":" in parent:
            parent = parent.split(":", 1)[1]
        entries.append(
            Entry(
                framework=framework_id,
                id=item.spec.id,
                name=item.spec.name,
                kind=item.spec.kind,
                parent=parent,
                number=item.spec.number,
                aliases=tuple(item.spec.aliases),
                description=item.spec.description,
                verification=_verification(item.spec, item.file.spec),
                source=item.spec.source or item.file.spec.source,
                citation=citation,
                defined_in=item.defined_in,
            )
        )
    kinds = spec.kinds if spec.kinds is not None else list(dict.fromkeys(e.kind for e in entries))
    return Framework(
        id=framework_id,
        name=spec.name or framework_id,
        citation=citation,
        version=spec.version,
        short_citation=spec.short_citation,
        url=spec.url,
        doi=spec.doi,
        licence=spec.licence,
        description=spec.description,
        notes=spec.notes,
        sources=tuple(spec.sources),
        kinds=tuple(kinds),
        counts=MappingProxyType(dict(spec.counts)),
        verification=spec.verification or "unverified",
        entries=tuple(entries),
        files=(base.label, *extensions),
        bundled=base.bundled,
    )


def load_frameworks(
    extra_paths: Iterable[str | Path] = (), *, bundled: bool = True, environment: bool = True
) -> list[Framework]:
    """Read and check all framework files; return the frameworks in catalog order.

    Parameters
    ----------
    extra_paths : iterable of str or Path
        Framework files or folders of them, in addition to the bundled ones.
    bundled : bool
        Include the frameworks shipped with moclab.
    environment : bool
        Include files and folders named in ``MOCLAB_FRAMEWORKS``.

    Returns
    -------
    list of Framework
        Bundled frameworks first (in the order of ``data/index.yaml``), then user frameworks in the order
        their files were given. Entries added by ``extends`` files are part of the framework they extend.

    Raises
    ------
    FrameworkFileError
        Listing every problem in every file, each with its file, line and column.
    """
    problems = ProblemList("framework files")
    sources: list[tuple[Path, bool]] = []
    if bundled:
        sources.extend((path, True) for path in bundled_files())
    sources.extend((path, False) for path in expand_paths(extra_paths, "--path", problems))
    if environment:
        sources.extend((path, False) for path in expand_paths(environment_paths(), ENV_VAR, problems))

    parsed_files = []
    unreadable = 0
    seen: set[Path] = set()
    for path, is_bundled in sources:
        resolved = path.resolve()
        if resolved in seen:  # the same file named twice (e.g. --path and MOCLAB_FRAMEWORKS) is read once
            continue
        seen.add(resolved)
        if is_bundled:
            stat = path.stat()
            parsed, found = _read_bundled(path, (stat.st_mtime_ns, stat.st_size))
            problems.extend(found)
        else:
            parsed = _read_file(path, display_path(path), is_bundled, problems)
        if parsed is None:
            unreadable += 1
        else:
            parsed_files.append(parsed)
    frameworks = _merge(parsed_files, problems, complete=unreadable == 0)
    if problems:
        raise FrameworkFileError(problems.what, problems.problems)
    return frameworks


def check_files(paths: Iterable[str | Path]) -> list[Framework]:
    """Check framework files on their own against the bundled catalog (for ``moclab catalog check``).

    Returns the frameworks the files define or extend.
    """
    paths = list(paths)
    frameworks = load_frameworks(paths, environment=False)
    labels = {display_path(path) for path in expand_paths(paths, "check", ProblemList("check"))}
    return [fw for fw in frameworks if labels.intersection(fw.files)]
