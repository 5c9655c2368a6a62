"""The example evidence map: records of simulated studies (synthetic data) and hand-entered illustrations.

``moclab/mapping/example/`` (`example_path`) holds

* ``simulated/``: the records of six studies simulated with `moclab.simulate` from the recipient-pathway
  template (Metz et al. 2024) and judged by `moclab.evidence.analyze`, three pathways each: three
  randomized trials and two observational cohorts of ISP support, and one study of the support *dose* (a
  continuous exposure), whose effects the map refuses to pool with arm contrasts. They describe no real
  people; their titles and records say so (``synthetic: true``);
* ``hand-entered/``: one record typed in by hand that uses every field of the format, with made-up
  numbers; it describes no real study (``illustrative: true``);
* ``other-team/``: a record another team entered by hand for one of the simulated studies (the map finds
  it to be a duplicate and keeps the analysis's own record).

`build_example(folder)` writes the ``simulated/`` records again (the seeds are fixed, so the numbers are the
same up to the time stamps of the records); the shipped folder was made with ``n_boot=1000``.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["EXAMPLE_PATHWAYS", "EXAMPLE_STUDIES", "build_example", "example_path", "example_records"]

#: The pathways judged in every simulated study: a real mechanism, a null one, a second real one.
EXAMPLE_PATHWAYS = (
    "isp_support__trust__acceptability",
    "isp_support__credibility__acceptability",
    "isp_support__psych_safety__feasibility",
)

#: Paths stronger than the template's default (whose perceptions move by a few hundredths of an SD through
#: each mechanism), so that studies of a few hundred recipients can show them.
EXAMPLE_PATHS = {
    "isp_support->trust": 0.60,
    "isp_support->psych_safety": 0.55,
    "trust->acceptability": 0.45,
    "psych_safety->feasibility": 0.40,
}

#: The simulated studies: title, setting, year, seed, and what differs from the template's default spec
#: (its design; its support log).
EXAMPLE_STUDIES: tuple[dict[str, Any], ...] = (
    {
        "title": "Site-randomized trial A of ISP support (simulated)",
        "setting": "primary care",
        "year": 2024,
        "seed": 101,
        "design": {"sites": 16, "recipients": {"mean": 30, "distribution": "poisson", "min": 15}},
    },
    {
        "title": "Team-randomized trial B of ISP support (simulated)",
        "setting": "child welfare",
        "year": 2025,
        "seed": 202,
        "design": {
            "sites": 10,
            "recipients": {"mean": 36, "distribution": "poisson", "min": 15},
            "randomization": {"level": "team", "arms": {"isp_support": "intensive"}, "control": "usual"},
        },
        "dose": {"level": "team"},
    },
    {
        "title": "Two-wave trial C of ISP support (simulated)",
        "setting": "public health",
        "year": 2023,
        "seed": 303,
        "design": {
            "sites": 14,
            "recipients": {"mean": 28, "distribution": "poisson", "min": 15},
            "waves": [{"id": "baseline", "month": 0}, {"id": "m6", "month": 6}],
        },
    },
    {
        "title": "Observational cohort D of ISP support (simulated)",
        "setting": "primary care",
        "year": 2024,
        "seed": 404,
        "design": {
            "sites": 16,
            "recipients": {"mean": 30, "distribution": "poisson", "min": 15},
            "randomization": {"level": "none", "exposure_level": "site"},
        },
    },
    {
        "title": "Observational cohort F of ISP support (simulated)",
        "setting": "public health",
        "year": 2025,
        "seed": 606,
        "design": {
            "sites": 14,
            "recipients": {"mean": 36, "distribution": "poisson", "min": 15},
            "randomization": {"level": "none", "exposure_level": "site"},
        },
    },
    {
        "title": "Support-dose study E (simulated)",
        "setting": "child welfare",
        "year": 2025,
        "seed": 505,
        "design": {
            "sites": 12,
            "recipients": {"mean": 30, "distribution": "poisson", "min": 15},
            "randomization": {"level": "recipient", "exposure": "continuous"},
        },
    },
)


def example_path() -> Path:
    """The bundled example folder of evidence records (synthetic and illustrative; see the module docstring).

    Examples
    --------
    >>> sorted(item.name for item in example_path().iterdir() if item.is_dir())
    ['hand-entered', 'other-team', 'simulated']
    """
    return Path(str(resources.files("moclab.mapping").joinpath("example")))


def example_records() -> list[Any]:
    """The records of the example folder (validated), in file order."""
    from moclab.mapping.collect import collect_records

    return list(collect_records([example_path()]).records)


def _spec(study: dict[str, Any]) -> dict[str, Any]:
    from moclab.simulate import default_spec_path

    spec = yaml.safe_load(Path(default_spec_path("recipient-pathway")).read_text(encoding="utf-8"))
    spec = copy.deepcopy(spec)
    spec["title"] = study["title"]
    spec["seed"] = study["seed"]
    spec["qualitative"] = "simulated"
    spec["interviews"] = 8
    spec["paths"].update(EXAMPLE_PATHS)
    design = spec["design"]
    for key, value in study["design"].items():
        design[key] = value
    spec["dose"].update(study.get("dose", {}))
    if design["randomization"].get("exposure") == "continuous":
        spec.pop("dose")  # the exposure is the dose itself
    return spec


def build_example(
    folder: str | Path, *, n_boot: int = 1000, studies: Sequence[dict[str, Any]] = EXAMPLE_STUDIES
) -> list[Path]:
    """Simulate the example studies, judge their pathways and write their records into ``FOLDER/simulated``.

    Parameters
    ----------
    folder : path
        Where to write (``simulated/STUDY-ID/PATHWAY.json``).
    n_boot : int
        Bootstrap resamples of each analysis.
    studies : sequence of dict
        The studies (default `EXAMPLE_STUDIES`).

    Returns
    -------
    list of Path
        The record files written.
    """
    from moclab.evidence import analyze
    from moclab.evidence.records import records_from_evidence, write_records
    from moclab.simulate import simulate_study
    from moclab.study import load_study

    written: list[Path] = []
    for study in studies:
        with tempfile.TemporaryDirectory() as work:
            simulated = simulate_study("recipient-pathway", _spec(study), study["seed"])
            loaded = load_study(simulated.write(Path(work) / "study"), show_progress=False)
            evidence = analyze(
                loaded,
                pathways=list(EXAMPLE_PATHWAYS),
                n_boot=n_boot,
                seed=study["seed"],
                show_progress=False,
            )
            records = records_from_evidence(evidence, loaded, setting=study["setting"], year=study["year"])
            written.extend(write_records(records, Path(folder) / "simulated" / records[0].study_id))
    return written
