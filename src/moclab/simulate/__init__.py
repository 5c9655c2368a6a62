"""Simulated studies with a known truth: pathway model + effect sizes + design → a study folder.

From a pathway model (`moclab.model`) and a simulation spec (effect sizes per edge, null mechanisms,
moderators, confounders; sites, teams, recipients, randomization, waves; the support log and its
dose-response; measurement through instrument items or scale scores; missingness and dropout), moclab
generates a complete study in the format of docs/study-format.md together with `truth.json`, the true
effects the data were generated with. Tests and the power analysis (`moclab.design`) check estimates
against that truth. The spec format is described in docs/simulate.md.

>>> from moclab.simulate import compile_simulation
>>> plan = compile_simulation("recipient-pathway")
>>> frame = plan.wide(seed=1)
>>> frame.shape[0] == frame["recipient_id"].nunique() * 3
True
"""

from moclab.simulate.defaults import default_spec, default_spec_path, generic_spec
from moclab.simulate.generate import Draw, draw
from moclab.simulate.plan import SimulationPlan, compile_simulation
from moclab.simulate.spec import (
    ConfounderSpec,
    DesignSpec,
    DoseSpec,
    MissingSpec,
    ModeratorSpec,
    PathSpec,
    PreconditionSpec,
    RandomizationSpec,
    SimulationSpec,
    SizeSpec,
    VariableSpec,
    WaveSeries,
    WaveSpec,
    load_spec,
    loads_spec,
    spec_from_dict,
)
from moclab.simulate.study import SimulatedStudy, simulate_study, simulate_wide
from moclab.simulate.truth import Truth

__all__ = [
    "ConfounderSpec",
    "DesignSpec",
    "DoseSpec",
    "Draw",
    "MissingSpec",
    "ModeratorSpec",
    "PathSpec",
    "PreconditionSpec",
    "RandomizationSpec",
    "SimulatedStudy",
    "SimulationPlan",
    "SimulationSpec",
    "SizeSpec",
    "Truth",
    "VariableSpec",
    "WaveSeries",
    "WaveSpec",
    "compile_simulation",
    "default_spec",
    "default_spec_path",
    "draw",
    "generic_spec",
    "load_spec",
    "loads_spec",
    "simulate_study",
    "simulate_wide",
    "spec_from_dict",
]
