"""Default simulation specs: the bundled one of a template, or one derived from any model.

The recipient-pathway template has a hand-written default spec (a realistic multi-site trial, used by
``make demo``) in ``specs/recipient-pathway.yaml``. Other models get a generic spec: a site-randomized
study with three waves in which every strategy moves its targets by 0.4 SD and the other causal paths are
moderate, scaled down with the number of causes of a node so that no node is over-determined.
"""

from __future__ import annotations

import math
from pathlib import Path

from moclab.errors import ValidationError
from moclab.model import NodeType, PathwayModel
from moclab.simulate.spec import SimulationSpec, load_spec, spec_from_dict

SPEC_DIR = Path(__file__).parent / "specs"


def default_spec_path(model_id: str) -> Path | None:
    """The bundled default spec of a template (``recipient-pathway``), or None when there is none.

    Examples
    --------
    >>> from moclab.simulate import default_spec_path
    >>> default_spec_path("recipient-pathway").name
    'recipient-pathway.yaml'
    >>> print(default_spec_path("mechanism-criteria"))
    None
    """
    path = SPEC_DIR / f"{model_id}.yaml"
    return path if path.is_file() else None


def default_spec(model: PathwayModel) -> SimulationSpec:
    """The bundled spec for the model's id, or a generic spec derived from the model's graph.

    Examples
    --------
    >>> from moclab.model import load_template
    >>> from moclab.simulate import default_spec
    >>> spec = default_spec(load_template("recipient-pathway", catalog=None))
    >>> spec.title, spec.design.sites, spec.null_mechanisms
    ('Recipient pathway trial (simulated)', 40, ['credibility'])

    A model without a bundled spec gets a generic one (`generic_spec`):

    >>> default_spec(load_template("mechanism-criteria", catalog=None)).design.sites
    30
    """
    path = default_spec_path(model.id)
    if path is not None:
        return load_spec(path)
    return generic_spec(model)


def generic_spec(model: PathwayModel, *, strength: float = 0.3) -> SimulationSpec:
    """A moderate, feasible spec for any model: strategies 0.4 SD, other paths `strength`/sqrt(causes).

    The paths are shrunk until no node's causes explain (nearly) all of its variance.

    Examples
    --------
    Fidelity has two causes in this template, so each of its paths is 0.3 / sqrt(2):

    >>> from moclab.model import load_template
    >>> from moclab.simulate import generic_spec
    >>> spec = generic_spec(load_template("mechanism-criteria", catalog=None))
    >>> for edge, effect in list(spec.paths.items())[:4]:
    ...     print(edge, effect)
    training->knowledge_deficit 0.4
    knowledge_deficit->knowledge_acquisition 0.3
    knowledge_acquisition->adoption 0.3
    adoption->fidelity 0.212
    >>> spec.design.sites, spec.design.waves.count, spec.design.randomization.level
    (30, 3, 'site')
    """
    from moclab.simulate.plan import compile_simulation

    model = model.with_inferred_edge_types()
    strategies = {node.id for node in model.nodes_of(NodeType.STRATEGY)}
    causes: dict[str, int] = {}
    for edge in model.causal_edges():
        if edge.source not in strategies:
            causes[edge.target] = causes.get(edge.target, 0) + 1
    scale = 1.0
    for _ in range(12):
        paths = {}
        for edge in model.causal_edges():
            key = f"{edge.source}->{edge.target}"
            if edge.source in strategies:
                paths[key] = 0.4
            else:
                paths[key] = round(scale * strength / math.sqrt(causes[edge.target]), 3)
        spec = spec_from_dict(
            {
                "title": f"Simulated study of {model.title_or_id}",
                "design": {
                    "sites": 30,
                    "recipients": {"mean": 30, "distribution": "poisson", "min": 10},
                    "randomization": {"level": "site"},
                    "waves": {"count": 3, "interval_months": 6},
                },
                "paths": paths,
                "defaults": {"stability": 0.3},
                "dose": {"slopes": 0.1},
                "missing": {"rate": 0.02, "dropout": 0.05},
            },
            source=f"generic spec for {model.id}",
        )
        try:
            compile_simulation(model, spec)
        except ValidationError:
            scale *= 0.8
            continue
        return spec
    return spec
