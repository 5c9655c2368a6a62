"""The `qualitative:` section of `moclab.yaml`: the study's coded interviews, for the plausibility criterion.

A study may hold a qualitative project (``qual/project.qdpx``: interviews coded in NVivo, ATLAS.ti, MAXQDA,
QualCoder or Taguette and exported as REFI-QDA). `moclab.evidence.analyze` then counts, for each pathway, the
interviews that tell the mechanism before the outcome and lets that evidence join the plausibility criterion
(docs/criteria.md). This module holds the schema (pydantic, ``extra="forbid"``, so a misspelt key gets a "did
you mean" at its line) and `check_qualitative`, the checks the study loader can make without reading the
project: the file exists, is readable and is a project format that carries codings, and every node named in
``codes:`` or ``contradictions:`` is a node of the pathway model. Whether the named codes exist in the
project is checked when a study is analysed (`moclab.evidence.qualitative`), at the same YAML lines.

Example
-------
.. code-block:: yaml

    qualitative:
      project: qual/project.qdpx
      codes:                         # optional; other nodes are matched automatically
        trust: "Affective response to implementation support/Trust"
        acceptability: [Acceptability, "recipient-pathway:acceptability"]
      coders: [Coder A]              # optional; default every coder
      min_interviews: 2
      contradictions:                # optional; default: no code marks a contradiction
        "trust->acceptability": [Trust did not help]
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import ConfigDict, Field

from moclab.errors import Problem, did_you_mean

__all__ = ["PROJECT_SUFFIXES", "QualitativeSettings", "check_qualitative", "parse_link", "project_path"]

#: Project files that carry codings: a REFI-QDA archive (sources inside) or project file (sources beside it).
PROJECT_SUFFIXES = (".qdpx", ".qde")
# Files moclab.qual reads that hold no codings (a codebook, uncoded transcripts): not evidence by themselves.
_UNCODED_SUFFIXES = (".qdc", ".txt", ".docx")
_LINK_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*->\s*([A-Za-z][A-Za-z0-9_]*)\s*$")


def parse_link(key: str) -> tuple[str, str] | None:
    """``"trust -> acceptability"`` as ``("trust", "acceptability")``; None when it is not of that form."""
    match = _LINK_KEY.match(key)
    return (match.group(1), match.group(2)) if match else None


def _as_tuple(value: Any) -> Any:
    """One code may be written as a string; several as a list."""
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, list) else value


def _each_as_tuple(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _as_tuple(item) for key, item in value.items()}
    return value


class QualitativeSettings(pydantic.BaseModel):
    """The whole `qualitative:` section; only `project` is required.

    Attributes
    ----------
    project
        The coded project, relative to the study folder: a REFI-QDA ``.qdpx`` archive (or a ``.qde`` file with
        its ``sources/`` folder beside it).
    codes
        Model node id → the code (or codes) that stand for it: a name, a ``Parent/Child`` path, a GUID, or a
        catalog reference (``recipient-pathway:trust``) written in the codes' descriptions. Codes below a
        named code count for its node.
    auto_match
        Match the codes of the nodes not listed in `codes` automatically: by the catalog reference in the
        code's description that a node of the model also has, else by the code's name (the node's id or
        label, or the name or an alias of a catalog entry the node refers to). The matching is
        `moclab.qual.stages.match_codes`, the one the experience pathway uses.
    coders
        Use only these coders' codings (names as in the project); default every coder's.
    unit
        What one interview is: a ``case`` (an interviewee, possibly several sources) or a ``source``.
    position
        Where a node is told in an interview: at its ``first`` coded passage, or at the ``median`` start of
        its passages (see `moclab.qual.pathway.narrative_sequences`).
    min_interviews
        Fewest interviews telling the mechanism before the outcome for the evidence to "support" the
        pathway (and fewest with a contradiction code to "contradict" it).
    max_quotes
        Quotes kept per pathway (one per supporting interview; 0 keeps none, e.g. before de-identification).
    contradictions
        ``"mechanism->outcome"`` → codes analysts applied where an interviewee says the mechanism did *not*
        lead to the outcome. Without them the evidence never "contradicts" a pathway (telling the outcome
        first is not a contradiction: people do not tell their stories in causal order). A contradiction code
        never counts for a node, even when it is filed under the node's code.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    project: str
    codes: dict[str, tuple[str, ...]] = {}
    auto_match: bool = True
    coders: list[str] | None = None
    unit: Literal["case", "source"] = "case"
    position: Literal["first", "median"] = "first"
    min_interviews: int = Field(default=2, ge=1)
    max_quotes: int = Field(default=3, ge=0, le=10)
    contradictions: dict[str, tuple[str, ...]] = {}

    @pydantic.field_validator("codes", "contradictions", mode="before")
    @classmethod
    def _codes_as_tuples(cls, value: Any) -> Any:
        return _each_as_tuple(value)

    @pydantic.field_validator("codes", "contradictions")
    @classmethod
    def _not_empty(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for key, codes in value.items():
            if not codes or any(not code.strip() for code in codes):
                raise ValueError(f"'{key}' names no code (give a code name, path or catalog reference)")
        return value


Locate = Callable[..., dict[str, Any]]


def check_qualitative(
    settings: QualitativeSettings,
    folder: Path,
    at: Locate,
    model_nodes: Iterable[str] | None = None,
) -> list[Problem]:
    """What the study loader checks in the `qualitative:` section, each problem at its YAML line.

    Parameters
    ----------
    settings : QualitativeSettings
        The section.
    folder : Path
        The study folder (the project path is relative to it).
    at : callable
        ``at(*key_path)`` → the ``file``, ``line`` and ``column`` keywords of a `Problem` for a key of
        moclab.yaml.
    model_nodes : iterable of str, optional
        The node ids of the study's pathway model; the node checks are skipped without it.

    Returns
    -------
    list of Problem
        Empty when the section is fine.
    """
    problems: list[Problem] = []
    path = project_path(settings, folder)
    where = at("qualitative", "project")
    suffix = path.suffix.lower()
    if not path.exists():
        problems.append(
            Problem(
                f"the qualitative project '{settings.project}' was not found",
                hint="export the coded interviews from your QDA software as REFI-QDA (.qdpx) into the study "
                "folder, or remove the `qualitative:` section",
                **where,
            )
        )
    elif suffix in _UNCODED_SUFFIXES or path.is_dir():
        problems.append(
            Problem(
                f"the qualitative project '{settings.project}' holds no coded interviews "
                f"({'a folder' if path.is_dir() else suffix + ' file'})",
                hint="code the transcripts in a QDA program and export the project as REFI-QDA (.qdpx)",
                **where,
            )
        )
    elif suffix not in PROJECT_SUFFIXES:
        problems.append(
            Problem(
                f"the qualitative project '{settings.project}' is not a REFI-QDA project (.qdpx or .qde)",
                hint="export the project from your QDA software in the REFI-QDA exchange format",
                **where,
            )
        )
    else:
        unreadable = _unreadable(path)
        if unreadable:
            problems.append(Problem(f"the qualitative project '{settings.project}' {unreadable}", **where))
    if model_nodes is not None:
        nodes = list(model_nodes)
        for node in settings.codes:
            if node not in nodes:
                problems.append(
                    Problem(
                        f"qualitative codes: '{node}' is not a node of the pathway model",
                        hint=did_you_mean(node, nodes) or "nodes: " + ", ".join(nodes),
                        **at("qualitative", "codes", node),
                    )
                )
        for key in settings.contradictions:
            link = parse_link(key)
            if link is None:
                problems.append(
                    Problem(
                        f"qualitative contradictions: '{key}' is not a link",
                        hint="write it as mechanism->outcome, with the model's node ids",
                        **at("qualitative", "contradictions", key),
                    )
                )
                continue
            for node in link:
                if node not in nodes:
                    problems.append(
                        Problem(
                            f"qualitative contradictions: '{node}' (in '{key}') is not a node of the pathway "
                            "model",
                            hint=did_you_mean(node, nodes) or "nodes: " + ", ".join(nodes),
                            **at("qualitative", "contradictions", key),
                        )
                    )
    return problems


def _unreadable(path: Path) -> str | None:
    """Why a project file cannot be opened, or None. Only opening is checked here; `moclab.qual` parses it
    (with its limits against hostile archives) when the study is analysed."""
    try:
        with path.open("rb") as handle:
            handle.read(4)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if path.suffix.lower() == ".qdpx" and not zipfile.is_zipfile(path):
        return "is not a REFI-QDA archive (a .qdpx file is a zip archive; this one is not)"
    return None


def project_path(settings: QualitativeSettings, folder: Path) -> Path:
    """The project file of the section, resolved against the study folder."""
    path = Path(settings.project).expanduser()
    return path if path.is_absolute() else folder / path
