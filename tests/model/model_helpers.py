"""Helpers for the pathway-model tests: a small valid model, fake catalogs, and problem finders."""

from __future__ import annotations

import pytest

from moclab.errors import CatalogError, Problem, ValidationError, suggestion_hint
from moclab.model import loads_model

#: A small model that uses every node and edge type; tests change one line of it to break one thing.
VALID = """\
model: coaching-trust
title: Coaching builds trust
nodes:
  - {id: coaching, type: strategy, level: team, ref: eric:facilitation}
  - {id: readiness, type: determinant, level: organization}
  - {id: trust, type: mechanism, level: individual}
  - {id: knowledge, type: mechanism, level: individual}
  - {id: acceptability, type: proximal outcome, level: individual, ref: proctor:acceptability}
  - {id: capacity, type: distal outcome, level: organization}
  - {id: leadership, type: precondition}
  - {id: engagement, type: moderator, level: team}
edges:
  - {from: coaching, to: readiness, type: targets}
  - {from: readiness, to: trust, type: acts through}
  - {from: coaching, to: trust, type: acts_through}
  - {from: coaching, to: knowledge}
  - {from: trust, to: acceptability, type: leads to}
  - {from: knowledge, to: acceptability, type: leads to}
  - {from: acceptability, to: capacity, type: leads to}
  - {from: leadership, to: trust, type: requires}
  - {from: engagement, to: coaching->trust, type: moderates}
"""


class FakeCatalog:
    """A catalog that knows a few references and, like the real one, suggests a close one from `get`."""

    known = frozenset({"eric:facilitation", "proctor:acceptability", "albers-mechanisms:trust"})

    def resolve(self, ref: str) -> str | None:
        return ref if ref in self.known else None

    def get(self, ref: str) -> str:
        if ref in self.known:
            return ref
        close = [k for k in self.known if k.split(":")[0] == ref.split(":")[0]]
        raise CatalogError(f"no catalog entry '{ref}'", hint=suggestion_hint(close[:1]))


class ResolveOnly:
    """The minimal resolver: only `resolve`, no suggestions."""

    def resolve(self, ref: str) -> None:
        return None


def problems_of(text: str, catalog: object = None) -> list[Problem]:
    """The problems loading `text` reports (the test fails if it loads without errors)."""
    with pytest.raises(ValidationError) as info:
        loads_model(text, "m.yaml", catalog=catalog)  # type: ignore[arg-type]
    return info.value.problems


def only_error(text: str, catalog: object = None) -> Problem:
    """The single error of `text` (warnings ignored)."""
    errors = [p for p in problems_of(text, catalog) if p.severity == "error"]
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


def line_of(text: str, fragment: str) -> int:
    """1-based number of the first line of `text` that contains `fragment`."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)
