"""Strong association: the strategy goes with the mechanism, and the mechanism with the outcome.

What the criterion claims (associational): in the hypothesised directions, the strategy is associated with
the mechanism (the a path) and the mechanism with the outcome, holding the strategy, the baselines and the
measured competing mechanisms fixed (the b path). The b path is read from the model *with* the competitors,
so that a mechanism that only travels with the real one (an inert correlate) is not credited with its
association.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moclab.analysis.results import Effect
from moclab.evidence.rules._common import (
    POWER_CHANGE,
    against,
    effect_numbers,
    fmt,
    fmt_p,
    interval_against,
    interval_holds,
    judged,
    not_testable,
    sign_word,
    significant,
    with_interval,
)
from moclab.evidence.verdicts import Status, Verdict

__all__ = ["MULTILEVEL_PATHS", "judge_strong_association", "rule_strong_association"]

#: What the a and b paths of a multilevel mediation model are, by design (docs/multilevel.md).
MULTILEVEL_PATHS = {
    "2-1-1": "between-cluster a and b paths (the strategy moves a site's mean mechanism, which moves the "
    "outcome), indirect effect a·b",
    "1-1-1": "within-cluster a and b paths (fixed parts of random slopes), average indirect effect "
    "a·b + σ_ab",
}


def rule_strong_association(level: float, multilevel: str | None = None) -> str:
    """The rule text; `multilevel` is the design ("2-1-1", "1-1-1") when a multilevel model was used."""
    alpha = 1 - level
    rule = (
        f"met when the {level:.0%} interval of the indirect effect excludes 0 in the hypothesised direction "
        f"and every path along it (a, and b; d for serial mechanisms) is significant at α = {alpha:.2g} in "
        "its hypothesised direction (joint significance, MacKinnon et al. 2002), the b path being read with "
        "the measured competing mechanisms in the model; not met when a path or the indirect effect is "
        "significant against the hypothesised direction, or when the interval includes 0 and no path is "
        "significant; partly met otherwise (one path only, or the interval and the joint test disagree)"
    )
    if multilevel is not None:
        rule += (
            f"; judged on a multilevel mediation model ({multilevel} design: {MULTILEVEL_PATHS[multilevel]}; "
            "Wald tests of the paths, Monte Carlo interval of the indirect effect; Bauer, Preacher & Gil "
            "2006; Zhang, Zyphur & Preacher 2009)"
        )
    return rule


def judge_strong_association(
    indirect: Effect | None,
    paths: Sequence[Effect],
    *,
    level: float,
    sign: int = 1,
    path_signs: Mapping[str, int] | None = None,
    competitors: Sequence[str] = (),
    failure: str | None = None,
    evidence: dict[str, Any] | None = None,
    multilevel: str | None = None,
) -> Verdict:
    """Strong association: the a and b paths and the indirect effect (Kazdin 2007; Lewis et al. 2020).

    Parameters
    ----------
    indirect : Effect or None
        The indirect effect through the pathway's mechanism(s), with its interval; None when the mediation
        model could not be estimated (then `failure` says why).
    paths : sequence of Effect
        Every path along the indirect effect (a, d..., b), each with its p-value.
    level : float
        Confidence level; alpha = 1 - level.
    sign : {1, -1}
        The hypothesised direction of the indirect effect (the product of the link signs).
    path_signs : mapping of str to {1, -1}, optional
        The hypothesised direction of each path by name (default +1 for every path).
    competitors : sequence of str
        The competing mechanisms that were in the model (the b path is read holding them fixed).
    failure : str, optional
        Why the mediation model could not be estimated.
    evidence : dict, optional
        Further numbers to keep with the verdict (n, clusters, ICCs).
    multilevel : {"2-1-1", "1-1-1"}, optional
        The design of the multilevel mediation model `indirect` and `paths` come from (the rule and the
        reason then say so, and whether the paths are between or within clusters); None for single-level.
    """
    rule = rule_strong_association(level, multilevel)
    alpha = 1 - level
    extra = dict(evidence or {})
    extra["competitors_in_model"] = list(competitors)
    if indirect is None or not paths:
        return not_testable(
            "strong_association",
            rule,
            f"the mediation model could not be estimated: {failure or 'no data'}",
            "measure the mechanism and the outcome on the same recipients after the strategy has begun, with "
            "a comparison (a control arm, or recipients who receive different doses of the strategy)",
            extra,
        )
    signs = {path.name: (path_signs or {}).get(path.name, 1) for path in paths}
    holding = {path.name: significant(path, alpha) and _points(path, signs[path.name]) for path in paths}
    wrong = [path for path in paths if against(path, alpha, signs[path.name])]
    interval_ok = interval_holds(indirect, sign)
    interval_wrong = interval_against(indirect, sign)
    joint = all(holding.values())
    extra.update(
        {
            "indirect": effect_numbers(indirect),
            "paths": {path.name: effect_numbers(path) for path in paths},
            "expected_signs": {name: sign_word(s) for name, s in signs.items()},
            "joint_significant": joint,
            "joint_p": max((path.p for path in paths if path.p is not None), default=None),
            "against_hypothesis": bool(wrong or interval_wrong),
        }
    )
    path_text = ", ".join(f"{p.name} = {fmt(p.estimate)} ({fmt_p(p.p)})" for p in paths)
    indirect_text = f"indirect effect {with_interval(indirect)}"
    if multilevel is not None:
        where = "between" if multilevel == "2-1-1" else "within"
        extra["mediation_model"] = f"multilevel {multilevel}"
        extra["path_level"] = where
        path_text = f"{where}-cluster paths of the {multilevel} multilevel model: {path_text}"
        indirect_text = f"{where}-cluster {indirect_text} (Monte Carlo interval)"
    competitor_text = f"; b read with {', '.join(competitors)} in the model" if competitors else ""
    if wrong or interval_wrong:
        status, design_change = (
            Status.NOT_MET,
            "revisit the hypothesised direction of the link(s), or the measures",
        )
        names = [p.name for p in wrong] + (["the indirect effect"] if interval_wrong else [])
        reason = (
            f"against the hypothesised direction: {', '.join(names)} significant the other way "
            f"({path_text}; {indirect_text}, expected {sign_word(sign)})"
        )
    elif interval_ok and joint:
        status, design_change = Status.MET, None
        reason = (
            f"the {indirect_text} excludes 0 in the hypothesised ({sign_word(sign)}) direction and every "
            f"path is significant in its hypothesised direction ({path_text})"
        )
    elif not significant(indirect, alpha) and not any(significant(p, alpha) for p in paths):
        status, design_change = Status.NOT_MET, POWER_CHANGE
        reason = f"no path is significant ({path_text}) and the {indirect_text} includes 0"
    else:
        status = Status.PARTLY_MET
        ok = [name for name, good in holding.items() if good]
        missing = [name for name, good in holding.items() if not good]
        parts = [f"the {indirect_text} {'excludes' if interval_ok else 'does not exclude'} 0 as hypothesised"]
        if ok:
            parts.append(f"significant as hypothesised: {', '.join(ok)}")
        if missing:
            parts.append(f"not significant: {', '.join(missing)}")
        reason = "; ".join(parts) + f" ({path_text})"
        design_change = POWER_CHANGE
    return judged(
        "strong_association",
        status,
        rule,
        reason + competitor_text,
        design_change,
        extra,
        indirect,
        "indirect effect",
    )


def _points(effect: Effect, sign: int) -> bool:
    return effect.estimate * sign > 0
