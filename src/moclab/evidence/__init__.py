"""The mechanism evidence scorecard: seven criteria per pathway, each with its verdict, numbers and rule.

For each pathway of a study's model, `analyze` runs the analyses of `moclab.analysis` (mediation,
competing mechanisms, per-site meta-analysis, cross-lagged panel, dose-response) and judges the criteria of
Kazdin (2007) as tabulated by Lewis et al. (2020): strong association, specificity, consistency,
experimental manipulation, timeline, gradient, plausibility or coherence. Each `Verdict` says met, partly
met, not met or not testable, with the statistic and its interval, the rule applied, the reason and, when a
criterion is not met or cannot be tested, the design change that would help. The rules are documented in
docs/criteria.md; the settings (the ``evidence:`` section of moclab.yaml, `moclab.study.evidence_settings`)
in `EvidenceSettings`. The study's coded interviews (the ``qualitative:`` section, `QualitativeSettings`) join
the plausibility criterion through `moclab.evidence.qualitative`.

>>> from moclab.evidence import CRITERIA
>>> [criterion.name for criterion in CRITERIA][:2]
['Strong association', 'Specificity']
"""

from moclab.evidence.engine import analyze, resolve_settings
from moclab.evidence.plan import PathwayPlan, plan_pathways
from moclab.evidence.qualitative import (
    CodedInterviewSupport,
    joint_display,
    qualitative_support_from_project,
    qualitative_support_from_study,
)
from moclab.evidence.scorecard import EvidenceScorecard, PathwayEvidence, StudyEvidence
from moclab.evidence.verdicts import (
    CRITERIA,
    Criterion,
    QualitativeEvidence,
    QualitativeQuote,
    Status,
    Verdict,
)
from moclab.study.evidence_settings import (
    DoseSpec,
    EvidenceSettings,
    LinkSpec,
    PathwaySpec,
    Thresholds,
    WaveSpec,
)
from moclab.study.qualitative_settings import QualitativeSettings

__all__ = [
    "CRITERIA",
    "CodedInterviewSupport",
    "Criterion",
    "DoseSpec",
    "EvidenceScorecard",
    "EvidenceSettings",
    "LinkSpec",
    "PathwayEvidence",
    "PathwayPlan",
    "PathwaySpec",
    "QualitativeEvidence",
    "QualitativeQuote",
    "QualitativeSettings",
    "Status",
    "StudyEvidence",
    "Thresholds",
    "Verdict",
    "WaveSpec",
    "analyze",
    "joint_display",
    "plan_pathways",
    "qualitative_support_from_project",
    "qualitative_support_from_study",
    "resolve_settings",
]
