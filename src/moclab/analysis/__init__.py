"""Estimators on plain arrays and DataFrames: mediation, multilevel mediation, sensitivity, meta-analysis,
cross-lagged panels, dose-response, omitted-variable-bias robustness, E-values, instrumental variables.

This layer knows nothing about files, YAML or the catalog: arrays or DataFrames in, result objects out.
"""

from moclab.analysis.binary import CausalMediationResult, mediate_glm
from moclab.analysis.clustering import design_effect
from moclab.analysis.dose_response import DoseResponseResult, dose_response
from moclab.analysis.evalue import EValueResult, e_value
from moclab.analysis.heterogeneity import VarianceRatioResult, arm_variance_ratio
from moclab.analysis.instrumental import InstrumentalResult, instrumental_effect
from moclab.analysis.mediation import MediationResult, mediate
from moclab.analysis.meta import (
    ClusterEffectsResult,
    ClusterSlopesResult,
    MetaAnalysisResult,
    cluster_indirect_effects,
    cluster_slopes,
    meta_analysis,
)
from moclab.analysis.multilevel import MultilevelMediationResult, icc, multilevel_mediate
from moclab.analysis.panel import CrossLaggedResult, cross_lagged
from moclab.analysis.results import AnalysisResult, Effect
from moclab.analysis.robustness import RobustnessResult, robustness
from moclab.analysis.sensitivity import SensitivityResult, sensitivity

__all__ = [
    "AnalysisResult",
    "CausalMediationResult",
    "ClusterEffectsResult",
    "ClusterSlopesResult",
    "CrossLaggedResult",
    "DoseResponseResult",
    "EValueResult",
    "Effect",
    "InstrumentalResult",
    "MediationResult",
    "MetaAnalysisResult",
    "MultilevelMediationResult",
    "RobustnessResult",
    "SensitivityResult",
    "VarianceRatioResult",
    "arm_variance_ratio",
    "cluster_indirect_effects",
    "cluster_slopes",
    "cross_lagged",
    "design_effect",
    "dose_response",
    "e_value",
    "icc",
    "instrumental_effect",
    "mediate",
    "mediate_glm",
    "meta_analysis",
    "multilevel_mediate",
    "robustness",
    "sensitivity",
]
