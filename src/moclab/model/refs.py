"""Checking a model's catalog references (``eric:facilitation``) against a catalog.

The model layer sits above the catalog, but it only needs one thing from it: can this reference be resolved?
`RefResolver` is that one-method protocol, so validation works with the bundled catalog, a user's own
catalog, or a small fake in tests. When a resolver also offers ``get(ref)`` that raises a `MoclabError` with
a hint (the catalog's "did you mean"), the hint is passed on to the user.
"""

from __future__ import annotations

import os
import re
from typing import Any, Protocol, runtime_checkable

from moclab.errors import MoclabError, Problem
from moclab.model.pathway_model import PathwayModel

#: ``framework:entry``, e.g. ``eric:facilitation``, ``cfir2:tension-for-change`` (the catalog also accepts
#: ``cfir2:Tension for Change`` and ``eric:33``; a model must at least name the framework).
REF_FORM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*:\s*\S.*$")

#: Passed as `catalog` to mean "the catalog bundled with moclab, if it is installed".
DEFAULT_CATALOG = "default"


@runtime_checkable
class RefResolver(Protocol):
    """Anything that can look up a catalog reference; `moclab.catalog.Catalog` is one."""

    def resolve(self, ref: str) -> Any | None:
        """The entry named by `ref`, or None when there is none."""
        ...


def default_resolver() -> RefResolver | None:
    """The catalog that references resolve against by default.

    The bundled frameworks, plus the user's framework files when ``MOCLAB_FRAMEWORKS`` names any (as for the
    ``moclab catalog`` commands), so that a model can refer to entries of the user's own frameworks.
    """
    from moclab.catalog import ENV_VAR, Catalog, default_catalog

    # default_catalog() is cached; a catalog with the user's files is loaded afresh so edits to them count
    return Catalog.load() if os.environ.get(ENV_VAR) else default_catalog()


def resolver_for(catalog: RefResolver | str | None) -> RefResolver | None:
    """Turn the `catalog` argument of the public functions into a resolver (or None: do not resolve)."""
    if catalog is None:
        return None
    if isinstance(catalog, str):
        if catalog != DEFAULT_CATALOG:
            raise ValueError(f"catalog must be a resolver, None or {DEFAULT_CATALOG!r}, not {catalog!r}")
        return default_resolver()
    return catalog


def _suggestion(resolver: RefResolver, ref: str) -> str | None:
    """The resolver's own "did you mean", when it has one."""
    get = getattr(resolver, "get", None)
    if get is None:
        return None
    try:
        get(ref)
    except MoclabError as exc:
        return exc.hint
    return None


def check_refs(model: PathwayModel, resolver: RefResolver | None) -> list[Problem]:
    """Problems with the nodes' catalog references: malformed ones, and unresolved ones given a resolver.

    Parameters
    ----------
    model : PathwayModel
        The model whose `Node.ref`/`Node.refs` are checked.
    resolver : RefResolver or None
        The catalog; None checks only the ``framework:entry`` form.

    Returns
    -------
    list of Problem
        One error per bad reference, located at its YAML line; a warning for a reference that resolves but is
        not written as the entry's id (``eric:33`` for ``eric:facilitation``).

    Examples
    --------
    A model loaded without a catalog, then checked against the bundled one:

    >>> from moclab.catalog import default_catalog
    >>> from moclab.model import check_refs, loads_model
    >>> text = '''
    ... model: coaching
    ... nodes:
    ...   - {id: coaching, type: strategy, ref: eric:facilitaton}
    ...   - {id: trust, type: mechanism}
    ...   - {id: acceptability, type: proximal outcome, ref: proctor:acceptability}
    ... edges:
    ...   - {from: coaching, to: trust}
    ...   - {from: trust, to: acceptability}
    ... '''
    >>> model = loads_model(text, "coaching.yaml", catalog=None)
    >>> check_refs(model, None)  # without a catalog only the framework:entry form is checked
    []
    >>> for problem in check_refs(model, default_catalog()):
    ...     print(problem)
    coaching.yaml:4:36: node 'coaching': catalog reference 'eric:facilitaton' not found (did you mean
    'eric:facilitation'?)
    """
    problems = []
    for index, node in enumerate(model.nodes):
        written = ([(node.ref, ("nodes", index, "ref"))] if node.ref else []) + [
            (ref, ("nodes", index, "refs", position)) for position, ref in enumerate(node.refs)
        ]
        for ref, loc in written:
            where = model.where(*loc)
            if not REF_FORM.match(ref):
                problems.append(
                    Problem(
                        f"node '{node.id}': '{ref}' is not a catalog reference",
                        hint="write framework:entry, for example eric:facilitation or proctor:acceptability",
                        **where,
                    )
                )
                continue
            if resolver is None:
                continue
            entry = resolver.resolve(ref)
            if entry is None:
                problems.append(
                    Problem(
                        f"node '{node.id}': catalog reference '{ref}' not found",
                        hint=_suggestion(resolver, ref) or "see `moclab catalog` for the available entries",
                        **where,
                    )
                )
                continue
            # A number, alias or spelt-out name resolves too, but only the id stays stable across versions.
            canonical = getattr(entry, "qualified_id", None)
            if isinstance(canonical, str) and canonical != ref:
                problems.append(
                    Problem(
                        f"node '{node.id}': '{ref}' refers to {canonical}",
                        hint=f"write '{canonical}': catalog ids stay stable when names are corrected",
                        severity="warning",
                        **where,
                    )
                )
    return problems
