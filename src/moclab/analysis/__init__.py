"""Estimators on plain arrays and DataFrames: mediation, multilevel mediation, sensitivity, meta-analysis,
cross-lagged panels, dose-response.

This layer knows nothing about files, YAML or the catalog: arrays or DataFrames in, result objects out.
"""

from moclab.analysis.binary import CausalMediationResult, mediate_glm
from moclab.analysis.clustering import design_effect
from moclab.analysis.dose_response import DoseResponseResult, dose_response
from moclab.analysis.mediation import MediationResult, mediate
from moclab.analysis.meta import (
    ClusterEffectsResult,
    MetaAnalysisResult,
    cluster_indirect_effects,
    meta_analysis,
)
from moclab.analysis.multilevel import MultilevelMediationResult, icc, multilevel_mediate
from moclab.analysis.panel import CrossLaggedResult, cross_lagged
from moclab.analysis.results import AnalysisResult, Effect
from moclab.analysis.sensitivity import SensitivityResult, sensitivity

__all__ = [
    "AnalysisResult",
    "CausalMediationResult",
    "ClusterEffectsResult",
    "CrossLaggedResult",
    "DoseResponseResult",
    "Effect",
    "MediationResult",
    "MetaAnalysisResult",
    "MultilevelMediationResult",
    "SensitivityResult",
    "cluster_indirect_effects",
    "cross_lagged",
    "design_effect",
    "dose_response",
    "icc",
    "mediate",
    "mediate_glm",
    "meta_analysis",
    "multilevel_mediate",
    "sensitivity",
]
