"""Estimators on plain arrays and DataFrames: mediation, multilevel mediation, sensitivity.

This layer knows nothing about files, YAML or the catalog: arrays or DataFrames in, result objects out.
"""

from moclab.analysis.binary import CausalMediationResult, mediate_glm
from moclab.analysis.clustering import design_effect
from moclab.analysis.mediation import MediationResult, mediate
from moclab.analysis.multilevel import MultilevelMediationResult, icc, multilevel_mediate
from moclab.analysis.results import AnalysisResult, Effect
from moclab.analysis.sensitivity import SensitivityResult, sensitivity

__all__ = [
    "AnalysisResult",
    "CausalMediationResult",
    "Effect",
    "MediationResult",
    "MultilevelMediationResult",
    "SensitivityResult",
    "design_effect",
    "icc",
    "mediate",
    "mediate_glm",
    "multilevel_mediate",
    "sensitivity",
]
