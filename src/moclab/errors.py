"""The one exception family of moclab, and the `Problem` record every validator reports.

A researcher reads these messages, so each one says where (file, line or row, column) and what to do.
Validators collect every problem they find and raise them together in one `ValidationError`, so a user fixes
a broken study in one pass instead of one error per run. A misspelt name (a key, a column, a node, an id) gets
its hint from `did_you_mean`, the one way moclab suggests the name that was meant.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import overload

from rapidfuzz import fuzz, process, utils


@dataclass(frozen=True)
class Problem:
    """One thing wrong with something the user gave, located as precisely as the source allows.

    `line` and `column` are 1-based positions in a text file (YAML); `row` is the 1-based data row of a table
    (the header is row 0, the first data row is row 1, which is line 2 of a CSV file); `field` is a column
    name or a dotted key path.
    """

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    row: int | None = None
    field: str | None = None
    hint: str | None = None
    severity: str = "error"

    @property
    def where(self) -> str:
        parts: list[str] = []
        if self.file:
            location = self.file
            if self.line is not None:
                location += f":{self.line}"
                if self.column is not None:
                    location += f":{self.column}"
            parts.append(location)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"column '{self.field}'" if self.row is not None else f"'{self.field}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict[str, object]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


class MoclabError(Exception):
    """Base of every error moclab raises on purpose; the CLI prints these without a traceback."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")


class ValidationError(MoclabError):
    """Several problems found at once (a study, a pathway model, a framework file)."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.what = what
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        summary = f"{what}: {len(errors)} problem{'s' if len(errors) != 1 else ''} found"
        details = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{summary}\n{details}")


class UsageError(MoclabError):
    """A command was asked something it cannot do as given: a value of the wrong form, a refused output.

    The CLI exits with status 2 for it (1 for the other moclab errors, which are problems in the input).
    """


class ConfigError(MoclabError):
    """A YAML file could not be read or does not have the expected shape."""


class CatalogError(MoclabError):
    """A framework entry is missing or a framework file is malformed."""


class ModelError(MoclabError):
    """A pathway model is invalid."""


class StudyError(MoclabError):
    """A study folder or one of its tables is invalid."""


class DataError(MoclabError):
    """Data handed to an analysis cannot be analysed as asked (constant, collinear, missing, too few rows)."""


class QualError(MoclabError):
    """A qualitative project, transcript or codebook cannot be read or written as asked."""


@dataclass
class ProblemList:
    """Collects problems during validation and raises them together."""

    what: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, **where: object) -> None:
        self.problems.append(Problem(message, **where))  # type: ignore[arg-type]

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.what, self.problems)

    def __bool__(self) -> bool:
        return bool(self.errors)


def display_path(path: str | Path) -> str:
    """A path as the user would recognise it: relative to the working directory when it is inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


class MissingExtraError(MoclabError):
    """A feature needs an optional part of moclab (an extra of the package) that is not installed.

    The message names the feature and the extra, the hint the command that installs it, so the CLI prints
    one line: ``de-identification needs the 'deidentify' extra, which is not installed (pip install
    'moclab[deidentify]')``. `missing` is the module that could not be imported.
    """

    def __init__(self, feature: str, extra: str, *, missing: str | None = None) -> None:
        self.feature = feature
        self.extra = extra
        self.missing = missing
        extras = extra.split(",")
        named = " and ".join(f"'{name}'" for name in extras)
        what = f"{named} extras, which are" if len(extras) > 1 else f"{named} extra, which is"
        super().__init__(f"{feature} needs the {what} not installed", hint=f"pip install 'moclab[{extra}]'")


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import and return an optional dependency, or raise `MissingExtraError` naming the extra to install.

    Call it inside the function that needs the module, so that importing moclab never needs an extra.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"xmlschema"`` or ``"presidio_analyzer.nlp_engine"``.
    extra : str
        The extra of moclab that installs it (``qual``, ``deidentify``, ``dask``, ``report``).
    feature : str
        What needs it, as the subject of a sentence: ``"de-identification"``.

    Examples
    --------
    >>> require("json", "report", "writing JSON").dumps([1])
    '[1]'
    >>> require("no_such_module", "deidentify", "de-identification")
    Traceback (most recent call last):
    ...
    moclab.errors.MissingExtraError: de-identification needs the 'deidentify' extra, which is not ...
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        # The module, or a package it imports (a half-installed extra), is missing; --debug shows which.
        raise MissingExtraError(feature, extra, missing=error.name or module) from error


#: Least similarity (rapidfuzz `fuzz.ratio` of the lower-cased words, 0-100) of a "did you mean" suggestion:
#: the 0.6 that difflib's `get_close_matches` uses by default, on the same kind of edit similarity.
SUGGESTION_CUTOFF = 60
#: How far (in the same points) a suggestion may score below the best one: a clear winner comes alone.
SUGGESTION_MARGIN = 10


def close_matches(word: str, choices: Iterable[str], *, limit: int = 3) -> list[str]:
    """The choices closest to a misspelt `word`, best first; empty when none is close.

    Similarity is rapidfuzz's normalised Indel similarity (`fuzz.ratio`, the edit similarity of difflib's
    ratio) of the two texts lower-cased with punctuation as spaces (`utils.default_process`), so that case,
    ``_`` and ``-`` cost nothing: ``'trsut'`` is 80 from ``'trust'``, ``'Recipient_Pathway'`` 100 from
    ``'recipient-pathway'``. A choice must score at least `SUGGESTION_CUTOFF` and at most
    `SUGGESTION_MARGIN` below the best choice; WRatio's partial matching is not used because it rates
    unrelated short ids as close.

    Examples
    --------
    >>> close_matches("descripton", ["title", "description", "notes"])
    ['description']
    >>> close_matches("aim5", ["aim_1", "aim_2", "aim_3", "trust"])
    ['aim_1', 'aim_2', 'aim_3']
    >>> close_matches("xyz", ["trust"])
    []
    """
    pool = list(dict.fromkeys(str(choice) for choice in choices))
    found = process.extract(
        word,
        pool,
        scorer=fuzz.ratio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=SUGGESTION_CUTOFF,
    )
    if not found:
        return []
    best = found[0][1]
    return [choice for choice, score, _index in found if score >= best - SUGGESTION_MARGIN]


def suggestion_hint(suggestions: Sequence[str]) -> str | None:
    """The "did you mean" hint naming `suggestions` (best first), or None when there are none.

    Examples
    --------
    >>> suggestion_hint(["trust"])
    "did you mean 'trust'?"
    >>> suggestion_hint(["a", "b", "c"])
    "did you mean 'a', 'b' or 'c'?"
    >>> suggestion_hint([]) is None
    True
    """
    quoted = [f"'{name}'" for name in suggestions]
    if not quoted:
        return None
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return f"did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"


@overload
def did_you_mean(word: str, choices: Iterable[str], *, limit: int = 3, advice: None = None) -> str | None: ...


@overload
def did_you_mean(word: str, choices: Iterable[str], *, limit: int = 3, advice: str) -> str: ...


def did_you_mean(
    word: str, choices: Iterable[str], *, limit: int = 3, advice: str | None = None
) -> str | None:
    """The hint for a misspelt `word`: "did you mean 'trust'?", or None when no choice is close.

    The one way moclab suggests a known name for an unknown one (a key, a column, a node, a wave, an
    instrument): at most `limit` matches of `close_matches`, worded by `suggestion_hint`. `advice`, when
    given, follows the suggestion and stands alone when nothing is close. To list the choices only when none
    is close, write ``did_you_mean(name, columns) or "columns: " + ", ".join(columns)``.

    Examples
    --------
    >>> did_you_mean("trsut", ["trust", "acceptability"])
    "did you mean 'trust'?"
    >>> did_you_mean("job_sek", ["job_seek", "job_keep", "age"])
    "did you mean 'job_seek'?"
    >>> did_you_mean("zzz", ["trust"]) is None
    True
    >>> did_you_mean("sit", ["site", "team"], advice="use a level of the design")
    "did you mean 'site'? use a level of the design"
    >>> did_you_mean("zzz", ["site", "team"], advice="use a level of the design")
    'use a level of the design'
    """
    hint = suggestion_hint(close_matches(word, choices, limit=limit))
    if advice is None:
        return hint
    return f"{hint} {advice}" if hint else advice
