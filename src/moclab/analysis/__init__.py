"""Estimators on plain arrays and DataFrames: mediation, multilevel mediation, sensitivity, meta-analysis,
cross-lagged panels, dose-response, omitted-variable-bias robustness, E-values, instrumental variables.

This layer knows nothing about files, YAML or the catalog: arrays or DataFrames in, result objects out.

The names are imported when first used (PEP 562 ``__getattr__``): ``import moclab.analysis`` and the modules
that need only `moclab.analysis.results` stay light, and statsmodels is imported by the estimators that fit
with it, when they are first asked for.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and editors; at run time `__getattr__` imports each name
    from moclab.analysis.binary import CausalMediationResult, mediate_glm
    from moclab.analysis.clustering import design_effect
    from moclab.analysis.dose_response import DoseResponseResult, dose_response
    from moclab.analysis.evalue import EValueResult, e_value
    from moclab.analysis.heterogeneity import VarianceRatioResult, arm_variance_ratio
    from moclab.analysis.instrumental import InstrumentalResult, instrumental_effect
    from moclab.analysis.interaction import InteractionMediationResult, mediate_interaction
    from moclab.analysis.interventional import InterventionalEffectsResult, interventional_effects
    from moclab.analysis.mediation import MediationResult, mediate
    from moclab.analysis.meta import (
        ClusterEffectsResult,
        ClusterSlopesResult,
        MetaAnalysisResult,
        cluster_indirect_effects,
        cluster_slopes,
        meta_analysis,
    )
    from moclab.analysis.missing import (
        ImputedMediationResult,
        TippingPointResult,
        WeightedMediationResult,
        mediate_imputed,
        mediate_weighted,
        tipping_point,
    )
    from moclab.analysis.moderated import ModeratedMediationResult, moderated_mediation
    from moclab.analysis.multilevel import MultilevelMediationResult, icc, multilevel_mediate
    from moclab.analysis.panel import CrossLaggedResult, cross_lagged
    from moclab.analysis.practice import (
        DoseMediationResult,
        DoseTable,
        DoseTrajectoriesResult,
        SupportModeProfile,
        dose_mediation,
        dose_table,
        dose_trajectories,
        support_mode_profile,
    )
    from moclab.analysis.results import AnalysisResult, Effect
    from moclab.analysis.riclpm import HalfLongitudinalResult, RICLPMResult, half_longitudinal, riclpm
    from moclab.analysis.robustness import RobustnessResult, robustness
    from moclab.analysis.sensitivity import SensitivityResult, sensitivity
    from moclab.analysis.sensitivity_summary import MediationSensitivityResult, mediation_sensitivity

#: The module of this package that defines each public name.
_MODULES: dict[str, tuple[str, ...]] = {
    "binary": ("CausalMediationResult", "mediate_glm"),
    "clustering": ("design_effect",),
    "dose_response": ("DoseResponseResult", "dose_response"),
    "evalue": ("EValueResult", "e_value"),
    "heterogeneity": ("VarianceRatioResult", "arm_variance_ratio"),
    "instrumental": ("InstrumentalResult", "instrumental_effect"),
    "interaction": ("InteractionMediationResult", "mediate_interaction"),
    "interventional": ("InterventionalEffectsResult", "interventional_effects"),
    "mediation": ("MediationResult", "mediate"),
    "meta": (
        "ClusterEffectsResult",
        "ClusterSlopesResult",
        "MetaAnalysisResult",
        "cluster_indirect_effects",
        "cluster_slopes",
        "meta_analysis",
    ),
    "missing": (
        "ImputedMediationResult",
        "TippingPointResult",
        "WeightedMediationResult",
        "mediate_imputed",
        "mediate_weighted",
        "tipping_point",
    ),
    "moderated": ("ModeratedMediationResult", "moderated_mediation"),
    "multilevel": ("MultilevelMediationResult", "icc", "multilevel_mediate"),
    "panel": ("CrossLaggedResult", "cross_lagged"),
    "practice": (
        "DoseMediationResult",
        "DoseTable",
        "DoseTrajectoriesResult",
        "SupportModeProfile",
        "dose_mediation",
        "dose_table",
        "dose_trajectories",
        "support_mode_profile",
    ),
    "results": ("AnalysisResult", "Effect"),
    "riclpm": ("HalfLongitudinalResult", "RICLPMResult", "half_longitudinal", "riclpm"),
    "robustness": ("RobustnessResult", "robustness"),
    "sensitivity": ("SensitivityResult", "sensitivity"),
    "sensitivity_summary": ("MediationSensitivityResult", "mediation_sensitivity"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "AnalysisResult",
    "CausalMediationResult",
    "ClusterEffectsResult",
    "ClusterSlopesResult",
    "CrossLaggedResult",
    "DoseMediationResult",
    "DoseResponseResult",
    "DoseTable",
    "DoseTrajectoriesResult",
    "EValueResult",
    "Effect",
    "HalfLongitudinalResult",
    "ImputedMediationResult",
    "InstrumentalResult",
    "InteractionMediationResult",
    "InterventionalEffectsResult",
    "MediationResult",
    "MediationSensitivityResult",
    "MetaAnalysisResult",
    "ModeratedMediationResult",
    "MultilevelMediationResult",
    "RICLPMResult",
    "RobustnessResult",
    "SensitivityResult",
    "SupportModeProfile",
    "TippingPointResult",
    "VarianceRatioResult",
    "WeightedMediationResult",
    "arm_variance_ratio",
    "cluster_indirect_effects",
    "cluster_slopes",
    "cross_lagged",
    "design_effect",
    "dose_mediation",
    "dose_response",
    "dose_table",
    "dose_trajectories",
    "e_value",
    "half_longitudinal",
    "icc",
    "instrumental_effect",
    "interventional_effects",
    "mediate",
    "mediate_glm",
    "mediate_imputed",
    "mediate_interaction",
    "mediate_weighted",
    "mediation_sensitivity",
    "meta_analysis",
    "moderated_mediation",
    "multilevel_mediate",
    "riclpm",
    "robustness",
    "sensitivity",
    "support_mode_profile",
    "tipping_point",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups find it without calling this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """This package, keeping its functions named like their modules (`robustness`, `sensitivity`,
    `dose_response`) when the import system binds an imported submodule to its package's attribute."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _HOME:
            return  # `moclab.analysis.robustness` stays the function, as `__getattr__` gives it
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
