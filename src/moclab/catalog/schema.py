"""The shape of a framework file, as pydantic models (`FrameworkFile`, `EntrySpec`).

A framework file is YAML: a header (id, name, version, citation, ...) and a list of `entries`. A file that
adds entries to an existing framework says `extends: <framework id>` instead of `id`. The models forbid
unknown keys so a misspelt key is reported with a "did you mean", and they check the form of ids and kinds.
Rules that need more than one entry or more than one file (unique ids, parents that exist, published counts)
live in `moclab.catalog.loader`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from moclab.catalog.entries import Verification

_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_KIND = re.compile(r"^[a-z][a-z0-9]*(?:[ -][a-z0-9]+)*$")


def check_slug(value: str, what: str = "an id") -> str:
    """Ids are slugs: lower-case letters, digits and single hyphens, starting with a letter.

    A leading letter keeps ids apart from published numbers (``eric:33`` looks up ERIC strategy number 33).
    """
    if not _SLUG.match(value):
        raise PydanticCustomError(
            "slug",
            "{what} must be lower-case letters, digits and single hyphens, starting with a letter "
            "(e.g. 'tension-for-change')",
            {"what": what},
        )
    return value


def check_kind(value: str) -> str:
    """Kinds are lower-case words separated by spaces or hyphens ("construct", "proximal outcome")."""
    if not _KIND.match(value):
        raise PydanticCustomError(
            "kind",
            "a kind must be lower-case words (e.g. 'construct', 'core practice component')",
        )
    return value


def _as_text(value: Any) -> Any:
    # YAML reads `version: 2015` as a number; a version is a label, so accept it and keep it as text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


class EntrySpec(BaseModel):
    """One entry as written in a framework file."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(description="stable slug, unique within the framework")
    name: str = Field(min_length=1, description="the name as published")
    kind: str = Field(description="cluster, strategy, domain, construct, outcome, competency, ...")
    parent: str | None = Field(default=None, description="id of the parent entry in the same framework")
    number: int | None = Field(default=None, ge=1, description="published number (ERIC: Powell et al. 2015)")
    aliases: list[str] = Field(default_factory=list, description="other names or spellings")
    description: str | None = Field(default=None, description="short, in your own words")
    verification: Verification | None = Field(default=None, description="default: the framework's")
    verified: bool | None = Field(default=None, description="shorthand: true = verified, false = unverified")
    source: str | None = Field(default=None, description="where the fact comes from, what is not verified")

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        return check_slug(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("kind")
    @classmethod
    def _kind_form(cls, value: str) -> str:
        return check_kind(value)

    @field_validator("parent")
    @classmethod
    def _parent_form(cls, value: str | None) -> str | None:
        # A parent may be written qualified ("cfir2:inner-setting"); the loader checks the prefix.
        if value is None:
            return None
        slug = value.split(":", 1)[1] if ":" in value else value
        check_slug(slug, "a parent id")
        return value

    @field_validator("aliases", mode="before")
    @classmethod
    def _one_alias(cls, value: Any) -> Any:
        # A single alias written as plain text is what a user means, so accept it as a one-item list.
        return [value] if isinstance(value, str) else value


class FrameworkFile(BaseModel):
    """A framework file: either defines a framework (`id`) or adds entries to one (`extends`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str | None = Field(default=None, description="framework id, prefix of every entry id")
    extends: str | None = Field(default=None, description="id of the framework this file adds entries to")
    name: str | None = None
    version: str | None = None
    short_citation: str | None = Field(default=None, description="author-year form for tables")
    citation: str | None = Field(default=None, description="full reference")
    url: str | None = None
    doi: str | None = None
    licence: str | None = Field(default=None, description="how the content may be reused")
    description: str | None = None
    notes: str | None = Field(default=None, description="what is not verified, caveats")
    sources: list[str] = Field(default_factory=list, description="further references")
    kinds: list[str] | None = Field(default=None, description="allowed kinds, top of the hierarchy first")
    counts: dict[str, int] = Field(default_factory=dict, description="published number of entries per kind")
    verification: Verification | None = Field(default=None, description="default level for the entries")
    source: str | None = Field(default=None, description="default source note for the entries")
    entries: list[EntrySpec] = Field(default_factory=list)

    @field_validator("id", "extends")
    @classmethod
    def _framework_slug(cls, value: str | None) -> str | None:
        return None if value is None else check_slug(value, "a framework id")

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return _as_text(value)

    @field_validator("kinds", mode="before")
    @classmethod
    def _kinds_lower(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [item.strip().lower() if isinstance(item, str) else item for item in value]
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds_form(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for kind in value:
                check_kind(kind)
        return value

    @field_validator("counts", mode="before")
    @classmethod
    def _count_keys_lower(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k.strip().lower() if isinstance(k, str) else k: v for k, v in value.items()}
        return value
