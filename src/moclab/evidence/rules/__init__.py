"""The verdict rules: one module per criterion, from estimated effects and design facts to a `Verdict`.

The rules never compute a statistic: they read `moclab.analysis.Effect` records (estimate, interval,
p-value) and plain facts about the design, compare them with the thresholds, and say in words what they
found. Keeping them apart from the orchestration (`moclab.evidence.analyze`) lets each rule be tested on
constructed cases, and lets a reader check each rule against docs/criteria.md, which documents the same rules
with their sources. Each module's docstring states what its criterion claims (associational or causal), the
definition the known-truth validation suite (validation/, docs/validation.md) checks the rule against.
"""

from moclab.evidence.rules._common import POWER_CHANGE, effect_numbers, excludes_zero, not_testable
from moclab.evidence.rules.association import judge_strong_association, rule_strong_association
from moclab.evidence.rules.consistency import judge_consistency, rule_consistency
from moclab.evidence.rules.gradient import judge_gradient, rule_gradient
from moclab.evidence.rules.manipulation import (
    MechanismManipulation,
    judge_experimental_manipulation,
    rule_experimental_manipulation,
)
from moclab.evidence.rules.plausibility import LinkBacking, PathSign, judge_plausibility, rule_plausibility
from moclab.evidence.rules.specificity import judge_specificity, rule_specificity
from moclab.evidence.rules.timeline import TimelineFacts, judge_timeline, rule_timeline

__all__ = [
    "POWER_CHANGE",
    "LinkBacking",
    "MechanismManipulation",
    "PathSign",
    "TimelineFacts",
    "effect_numbers",
    "excludes_zero",
    "judge_consistency",
    "judge_experimental_manipulation",
    "judge_gradient",
    "judge_plausibility",
    "judge_specificity",
    "judge_strong_association",
    "judge_timeline",
    "not_testable",
    "rule_consistency",
    "rule_experimental_manipulation",
    "rule_gradient",
    "rule_plausibility",
    "rule_specificity",
    "rule_strong_association",
    "rule_timeline",
]
