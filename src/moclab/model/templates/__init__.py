"""Pathway-model templates for the five seed systems moclab ships, each with its citation.

A template is an ordinary model YAML file in this folder; a user copies one (``moclab model export NAME --to
...`` or by reading `template_path`) and adapts it. Each file opens with a comment that explains what the
model says, what comes from the cited paper and what is moclab's own reading of it.
"""

from __future__ import annotations

from pathlib import Path

from moclab.errors import ModelError, did_you_mean
from moclab.model.loading import load_model
from moclab.model.pathway_model import PathwayModel
from moclab.model.refs import DEFAULT_CATALOG, RefResolver

TEMPLATE_DIR = Path(__file__).parent

#: The templates in the order of DESIGN.md's seed systems.
TEMPLATES = ("mechanism-criteria", "isp-mechanisms", "eis", "support-modes", "recipient-pathway")


def list_templates() -> list[str]:
    """Names of the bundled templates, seed systems first in their documented order.

    Examples
    --------
    >>> from moclab.model import list_templates
    >>> list_templates()
    ['mechanism-criteria', 'isp-mechanisms', 'eis', 'support-modes', 'recipient-pathway']
    """
    present = {path.stem for path in TEMPLATE_DIR.glob("*.yaml")}
    return [name for name in TEMPLATES if name in present] + sorted(present - set(TEMPLATES))


def template_path(name: str) -> Path:
    """The YAML file of template `name` (``"recipient-pathway"``; a trailing ``.yaml`` is accepted).

    Raises
    ------
    ModelError
        No such template; the message suggests the closest name.

    Examples
    --------
    >>> from moclab.model import template_path
    >>> template_path("recipient-pathway").name
    'recipient-pathway.yaml'
    >>> template_path("Recipient_Pathway.yaml").name  # case, underscores and the suffix are forgiven
    'recipient-pathway.yaml'
    >>> from moclab.errors import ModelError
    >>> try:
    ...     template_path("recipient-pathwya")
    ... except ModelError as error:
    ...     print(error)
    no pathway-model template named 'recipient-pathwya' (did you mean 'recipient-pathway'?)
    """
    key = name.strip().lower().removesuffix(".yaml").replace("_", "-")
    names = list_templates()
    if key not in names:
        hint = did_you_mean(key, names) or f"templates: {', '.join(names)}"
        raise ModelError(f"no pathway-model template named '{name}'", hint=hint)
    return TEMPLATE_DIR / f"{key}.yaml"


def load_template(name: str, catalog: RefResolver | str | None = DEFAULT_CATALOG) -> PathwayModel:
    """Load and validate a bundled template (see `load_model` for `catalog`).

    Examples
    --------
    >>> from moclab.model import load_template
    >>> model = load_template("recipient-pathway", catalog=None)
    >>> model.node("trust").type.value
    'mechanism'
    """
    model = load_model(template_path(name), catalog=catalog)
    if not model.citation:
        raise ModelError(
            f"template '{name}' has no citation", hint="every bundled template must cite its source"
        )
    return model


__all__ = ["TEMPLATES", "TEMPLATE_DIR", "list_templates", "load_template", "template_path"]
