"""One honest conclusion per pathway: how far the seven verdicts establish the mechanism, on what it rests.

Seven verdicts do not add up to a causal claim by themselves. A randomized strategy makes the strategy →
mechanism and strategy → outcome links experimental, but the mechanism → outcome link stays observational:
a common cause of the mechanism and the outcome produces the same data as a mechanism that works (Imai,
Keele & Tingley 2010; Bullock, Green & Ha 2010). `conclude` reads the verdicts of one pathway and grades the
evidence:

``established``
    every criterion is met and the mechanism → outcome link was tested experimentally (a randomized factor
    that targets the mechanism changed the outcome through it; `design.manipulations`).
``supported under stated assumptions``
    strong association and experimental manipulation are met, the timeline does not question the order,
    no competing mechanism takes the effect, and nothing points against the pathway; the causal reading
    rests on the assumptions listed (no unmeasured mechanism–outcome confounding above all), with
    robustness figures saying how strong a violation would have to be.
``suggestive``
    the mechanism goes with the strategy and the outcome as hypothesised, but the design cannot support a
    causal reading (an observational strategy, no panel, an outcome that did not move...).
``not supported``
    the association is not shown, or a verdict points against the pathway: effects in the wrong direction,
    the signature of a confounded link, the outcome leading the mechanism, a manipulated mechanism that
    changed the outcome the wrong way, interviews that contradict it. (A competing mechanism that carries
    more of the effect is not evidence against this one: both can act; it keeps the grade at suggestive.)
``not testable``
    the mediation model could not be estimated.

Every conclusion names the assumptions its causal reading rests on, each with its status (identified by
design, checked by a verdict, assumed, or questioned by the data), the robustness figures of the
mechanism → outcome link (Imai's ρ at which the indirect effect vanishes; the robustness value and partial
R² of Cinelli & Hazlett 2020; an E-value when the outcome is binary), and the design changes that would
identify the link. When recipients were lost between waves, "no differential attrition" is among the
assumptions (questioned when `moclab.study.flow.differential_attrition` flags it), and `note_attrition`
names it in the verdicts it can bias (`ATTRITION_CRITERIA`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moclab.evidence.verdicts import Status, Verdict
from moclab.plain import plain

if TYPE_CHECKING:
    from moclab.study.flow import AttritionTests

__all__ = ["ATTRITION_CRITERIA", "GRADES", "Assumption", "Conclusion", "conclude", "note_attrition"]

#: The grades, strongest first.
GRADES = (
    "established",
    "supported under stated assumptions",
    "suggestive",
    "not supported",
    "not testable",
)

MANIPULATE = (
    "manipulate the mechanism itself: randomize a component that targets it alone (an encouragement design, "
    "declared under design.manipulations), so the mechanism → outcome link is tested experimentally"
)
MEASURE_CONFOUNDERS = (
    "measure the suspected common causes of the mechanism and the outcome (prior attitudes, workload, "
    "leadership, the site's climate) and adjust for them (evidence.covariates)"
)
NEGATIVE_CONTROL = (
    "add a negative-control outcome: a measure the mechanism should not change but that shares its likely "
    "common causes (evidence.non_target_outcomes); an effect on it points to confounding"
)

#: The criteria whose verdicts differential attrition can bias (docs/missing-data.md says why): those read
#: from contrasts between arms or from levels of the mechanism and the outcome among the retained. Specificity
#: and consistency compare effects estimated on the same retained recipients, and plausibility reads
#: theory; attrition shifts their inputs alike, so they are not named.
ATTRITION_CRITERIA = ("strong_association", "experimental_manipulation", "timeline", "gradient")


def note_attrition(verdicts: Sequence[Verdict], attrition: AttritionTests | None) -> tuple[Verdict, ...]:
    """The verdicts with differential attrition named in those it can bias (unchanged when none was found).

    The note is appended to the reason, and the findings are kept in the verdict's evidence under
    ``differential_attrition``; the status is not changed (attrition questions a verdict, it does not
    decide it).
    """
    if attrition is None or not attrition.flagged:
        return tuple(verdicts)
    note = f"; differential attrition may bias this verdict: {'; '.join(attrition.findings)}"
    return tuple(
        dataclasses.replace(
            verdict,
            reason=verdict.reason + note,
            evidence={**verdict.evidence, "differential_attrition": list(attrition.findings)},
        )
        if verdict.criterion in ATTRITION_CRITERIA
        else verdict
        for verdict in verdicts
    )


def _attrition_assumption(
    attrition: AttritionTests | None, missing_data: Mapping[str, str] | None = None
) -> Assumption | None:
    """The assumption about the recipients lost: None when nothing was flagged and the models dropped the
    incomplete rows.

    With listwise deletion only a flag adds "no differential attrition", questioned: the participant flow
    and the tests (`PathwayEvidence.flow`, `.attrition`) show the attrition that was not flagged, and the
    list of assumptions stays that of the causal reading. With imputation or weights (``missing_data``:
    ``method``, and ``tipping``, the tipping-point sentence when one was computed) the models rest on the
    values being missing at random given what was measured: that assumption is listed, questioned when
    the tests flagged differential attrition and assumed otherwise, with how far the missing outcomes
    would have to depart from it to change the verdict.
    """
    flagged = attrition is not None and attrition.flagged
    findings = list(attrition.findings) if attrition is not None and flagged else []
    if missing_data is None:
        if not flagged:
            return None
        return Assumption(
            "no_differential_attrition",
            "no differential attrition: the recipients lost differ from those retained in nothing that "
            "moves the mechanism or the outcome",
            "questioned",
            "; ".join(findings),
        )
    note = [f"the mediation models used {missing_data['method']}", *findings]
    if missing_data.get("tipping"):
        note.append(missing_data["tipping"])
    return Assumption(
        "missing_at_random",
        "the values lost are missing at random: given what was measured, the recipients lost would have "
        "answered as those retained",
        "questioned" if flagged else "assumed",
        "; ".join(note),
    )


@dataclass(frozen=True)
class Assumption:
    """One assumption of the causal reading and where it stands.

    ``status`` is "identified by design" (the design removes the need for it), "checked" (a verdict
    examined it and found nothing against it), "assumed" (nothing in the data can examine it) or
    "questioned" (the data point against it).
    """

    name: str
    statement: str
    status: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "statement": self.statement, "status": self.status, "note": self.note}


@dataclass(frozen=True)
class Conclusion:
    """The overall conclusion about one pathway (see the module docstring for the grades)."""

    grade: str
    statement: str
    assumptions: tuple[Assumption, ...] = ()
    robustness: dict[str, Any] = field(default_factory=dict)
    design_changes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "grade": self.grade,
                "statement": self.statement,
                "assumptions": [item.to_dict() for item in self.assumptions],
                "robustness": self.robustness,
                "design_changes": list(self.design_changes),
                "reasons": list(self.reasons),
            }
        )

    def __str__(self) -> str:
        return f"{self.grade}: {self.statement}"


def _pct(value: Any) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, int | float) and math.isfinite(value) else "NA"


def robustness_text(robustness: Mapping[str, Any], mechanism: str, outcome: str) -> str:
    """The robustness figures of the mechanism → outcome link in one sentence ("" when none were computed)."""
    parts = []
    rv = robustness.get("robustness_value")
    if isinstance(rv, int | float) and math.isfinite(rv):
        text = (
            f"an unmeasured common cause would have to explain {_pct(rv)} of the residual variance of both "
            f"{mechanism} and {outcome} to remove the link (robustness value; "
            f"{_pct(robustness.get('rv_alpha'))} to make it non-significant; partial R² of the link "
            f"{_pct(robustness.get('partial_r2'))}; Cinelli & Hazlett 2020)"
        )
        parts.append(text)
    rho = robustness.get("rho_at_zero")
    if isinstance(rho, int | float) and math.isfinite(rho):
        parts.append(
            f"the indirect effect vanishes at a correlation ρ = {rho:.2f} between the errors of {mechanism} "
            f"and {outcome} (Imai, Keele & Yamamoto 2010)"
        )
    benchmarks = benchmark_text(robustness.get("benchmarks") or [], mechanism, outcome)
    if benchmarks:
        parts.append(benchmarks)
    e_value = robustness.get("e_value")
    if isinstance(e_value, int | float) and math.isfinite(e_value):
        parts.append(
            f"E-value {e_value:.2f} (interval limit {robustness.get('e_value_limit', float('nan')):.2f}): "
            "the risk ratio a confounder would need with both to explain the link away (VanderWeele & Ding "
            "2017)"
        )
    return "; ".join(parts)


_TIMES = {1.0: "as strong as", 2.0: "twice as strong as", 3.0: "three times as strong as"}


def _times(k: float) -> str:
    return _TIMES.get(k, f"{k:g} times as strong as")


def _named(names: Sequence[str], most: int = 3) -> str:
    """At most `most` names, then how many more ("a, b, c or 2 more measured covariates")."""
    if len(names) <= most:
        return " or ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"
    rest = len(names) - most
    return f"{', '.join(names[:most])} or {rest} more measured covariate{'s' if rest > 1 else ''}"


def benchmark_text(benchmarks: Sequence[Mapping[str, Any]], mechanism: str, outcome: str) -> str:
    """The benchmark bounds in words: how strong, in multiples of which measured covariates, an unmeasured
    confounder of mechanism and outcome would have to be to bring the link's interval to zero, and which
    covariates not even at the largest multiple ("" without bounds)."""
    by_k: dict[float, list[str]] = {}
    for row in benchmarks:
        if row.get("k") is not None:
            by_k.setdefault(float(row["k"]), []).append(str(row["benchmark"]))
    would_not = [
        (float(row["largest_k"]), str(row["benchmark"]))
        for row in benchmarks
        if row.get("k") is None and row.get("bounded")
    ]
    parts = [f"{_times(k)} {_named(names)}" for k, names in sorted(by_k.items())]
    text = ""
    if parts:
        text = (
            f"an unmeasured confounder of {mechanism} and {outcome} {'; or '.join(parts)} would bring the "
            "link's interval to zero"
        )
    if would_not:
        largest = max(k for k, _ in would_not)
        names = [name for _, name in would_not]
        text += ("; one " if text else f"an unmeasured confounder of {mechanism} and {outcome} ") + (
            f"{_times(largest)} {_named(names)} would not"
        )
    return text + " (bounds from measured covariates, Cinelli & Hazlett 2020)" if text else ""


def _status(verdicts: Mapping[str, Verdict], criterion: str) -> Status:
    return verdicts[criterion].status


def conclude(
    verdicts: Mapping[str, Verdict],
    *,
    strategy: str,
    mechanism: str,
    outcome: str,
    robustness: Mapping[str, Any] | None = None,
    competitors: tuple[str, ...] = (),
    attrition: AttritionTests | None = None,
    missing_data: Mapping[str, str] | None = None,
) -> Conclusion:
    """Grade the evidence for one pathway from its seven verdicts.

    Parameters
    ----------
    verdicts : mapping of criterion id to Verdict
        The seven verdicts of the pathway.
    strategy, mechanism, outcome : str
        Labels for the statement (a chain of mechanisms as "trust → knowledge").
    robustness : mapping, optional
        Robustness figures of the mechanism → outcome link: ``rho_at_zero``, ``robustness_value``,
        ``rv_alpha``, ``partial_r2``, ``benchmarks`` (per measured covariate, the smallest multiple of its
        strength that would bring the link's interval to zero: `causal_analyses.benchmark_figures`),
        ``e_value`` and ``e_value_limit`` (each optional).
    competitors : tuple of str
        The competing mechanisms that were measured and entered in the models.
    attrition : AttritionTests, optional
        The tests of differential attrition (`moclab.study.flow.differential_attrition`): the conclusion
        lists "no differential attrition" as questioned when they flagged it (and not at all otherwise).
        The grade does not depend on it.
    missing_data : mapping, optional
        How the mediation models treated missing values when they did not drop them: ``method`` (in words)
        and ``tipping`` (`moclab.analysis.tipping_point`'s sentence, when computed). The conclusion then
        lists "missing at random" among the assumptions instead of "no differential attrition".

    Returns
    -------
    Conclusion

    Notes
    -----
    Evidence *against* the pathway (an effect significantly in the wrong direction, the signature of a
    confounded link, the outcome leading the mechanism, interviews that contradict it) gives "not supported"
    whatever else holds. A *lack* of evidence
    (a path or panel effect that is not significant) keeps the grade below "supported" and is named as what
    is lacking.
    """
    figures = dict(robustness or {})
    association = verdicts["strong_association"]
    manipulation = verdicts["experimental_manipulation"]
    timeline = verdicts["timeline"]
    specificity = verdicts["specificity"]
    experimental_link = bool(manipulation.evidence.get("mechanism_link_experimental"))
    randomized = bool(manipulation.evidence.get("strategy_randomized")) and manipulation.evidence.get(
        "randomization_level"
    ) not in ("none", "", None)
    assumptions = _assumptions(
        verdicts, figures, mechanism, outcome, randomized, experimental_link, competitors
    )
    lost = _attrition_assumption(attrition, missing_data)
    if lost is not None:
        assumptions += (lost,)

    def grade(name: str, statement: str, reasons: Sequence[str], changes: Sequence[str] = ()) -> Conclusion:
        return Conclusion(
            grade=name,
            statement=statement,
            assumptions=assumptions,
            robustness=figures,
            design_changes=tuple(dict.fromkeys(change for change in changes if change)),
            reasons=tuple(reasons),
        )

    def advice(*first: str) -> list[str]:
        found = list(first)
        for verdict in verdicts.values():
            if verdict.status is not Status.MET and verdict.design_change:
                found.append(verdict.design_change)
        return found

    if association.status is Status.NOT_TESTABLE:
        return grade(
            "not testable",
            f"Not testable: {association.reason}.",
            [association.reason],
            [association.design_change or ""],
        )
    against = _against(verdicts, mechanism, outcome, randomized)
    if against:
        confounded = (
            [MEASURE_CONFOUNDERS, NEGATIVE_CONTROL]
            if manipulation.evidence.get("confounding_signature")
            else []
        )
        statement = f"Not supported: {against[0]}" + (
            f"; also {'; '.join(against[1:])}" if against[1:] else ""
        )
        return grade("not supported", statement + ".", against, advice(*confounded))
    if association.status is not Status.MET:
        return grade(
            "not supported",
            f"Not supported: the association is not shown ({association.reason}).",
            [f"strong association {association.status.value}"],
            [association.design_change or ""],
        )
    core = (
        manipulation.status is Status.MET
        and timeline.status in (Status.MET, Status.NOT_TESTABLE)
        and specificity.status in (Status.MET, Status.PARTLY_MET, Status.NOT_TESTABLE)
    )
    missing = [v.name.lower() for v in verdicts.values() if v.status is not Status.MET]
    if core and experimental_link and not missing:
        return grade(
            "established",
            f"Established: {strategy} changes {outcome} through {mechanism}. Every criterion is met, and the "
            f"{mechanism} → {outcome} link was tested experimentally: the randomized manipulation of "
            f"{mechanism} changed {outcome} through it.",
            ["all seven criteria met", "the mechanism → outcome link is experimental"],
        )
    if core:
        link = (
            f"the {mechanism} → {outcome} link was tested experimentally"
            if experimental_link
            else (
                f"the {mechanism} → {outcome} link is observational: a common cause of {mechanism} and "
                f"{outcome} would produce the same data, so the reading rests on the assumptions below"
            )
        )
        statement = (
            f"Supported under stated assumptions: the randomized strategy moved {mechanism} and {outcome}, "
            f"and {outcome}'s change goes with {mechanism}'s; {link}"
        )
        robust = robustness_text(figures, mechanism, outcome)
        if robust:
            statement += f" (robustness: {robust})"
        if missing:
            statement += f". Not met: {', '.join(missing)}"
        first = [] if experimental_link else [MANIPULATE, MEASURE_CONFOUNDERS, NEGATIVE_CONTROL]
        return grade(
            "supported under stated assumptions",
            statement + ".",
            [f"{v.name}: {v.status.value}" for v in verdicts.values()],
            advice(*first),
        )
    lacking = []
    if not randomized and not experimental_link:
        lacking.append("the strategy was not randomized, so who received it may explain the association")
    elif manipulation.status is not Status.MET:
        lacking.append(f"experimental manipulation is {manipulation.status.value} ({manipulation.reason})")
    if timeline.status in (Status.PARTLY_MET, Status.NOT_MET):
        lacking.append(f"the timeline does not show {mechanism} leading {outcome} ({timeline.reason})")
    if specificity.status is Status.NOT_MET:
        stronger = _stronger_competitors(specificity)
        lacking.append(
            f"{', '.join(stronger)} carr{'ies' if len(stronger) == 1 else 'y'} significantly more of the "
            f"effect, so {mechanism} may be a path of the strategy but not the one that accounts for its "
            "effect"
            if stronger
            else f"the competing mechanisms are not ruled out ({specificity.reason})"
        )
    return grade(
        "suggestive",
        f"Suggestive: {mechanism} goes with the strategy and with {outcome} as hypothesised, but "
        + "; ".join(lacking or ["the design cannot support a causal reading"])
        + ".",
        lacking,
        advice(MANIPULATE),
    )


def _stronger_competitors(specificity: Verdict) -> list[str]:
    """The competing mechanisms whose indirect effect is significantly larger than this one's."""
    sign = specificity.evidence.get("sign", 1)
    stronger = []
    for name, contrast in (specificity.evidence.get("contrasts") or {}).items():
        low, high = (contrast or {}).get("ci_low"), (contrast or {}).get("ci_high")
        if low is not None and high is not None and (high < 0 if sign > 0 else low > 0):
            stronger.append(name)
    return stronger


def _against(verdicts: Mapping[str, Verdict], mechanism: str, outcome: str, randomized: bool) -> list[str]:
    """What in the verdicts points against the pathway: evidence against it, not a lack of evidence."""
    association = verdicts["strong_association"]
    manipulation = verdicts["experimental_manipulation"]
    timeline = verdicts["timeline"]
    found: list[str] = []
    if association.evidence.get("against_hypothesis"):
        found.append("the indirect effect or one of its paths points against the hypothesis")
    if randomized and manipulation.evidence.get("confounding_signature"):
        found.append(
            f"the strategy moved {mechanism} but not {outcome}, and the direct effect points against the "
            f"indirect one: the signature of a confounded {mechanism} → {outcome} link"
        )
    elif randomized and manipulation.evidence.get("against_hypothesis"):
        found.append("the randomized contrast moved the mechanism or the outcome against the hypothesis")
    if (manipulation.evidence.get("mechanism_manipulation") or {}).get("against_hypothesis"):
        found.append(f"manipulating {mechanism} changed {outcome} against the hypothesis")
    if timeline.status is Status.NOT_MET:
        if timeline.evidence.get("order_by_design") is False:
            found.append(f"{mechanism} was not measured after the strategy began and before {outcome}")
        elif timeline.evidence.get("reverse_as_large") or (
            timeline.evidence.get("reverse_significant") and not timeline.evidence.get("forward_holds")
        ):
            found.append(f"{outcome} leads {mechanism} in time as much as, or more than, the reverse")
    if verdicts["plausibility"].evidence.get("qualitative", {}).get("status") == "contradicts":
        found.append("the coded interviews contradict the pathway")
    return found


def _assumptions(
    verdicts: Mapping[str, Verdict],
    figures: Mapping[str, Any],
    mechanism: str,
    outcome: str,
    randomized: bool,
    experimental_link: bool,
    competitors: tuple[str, ...],
) -> tuple[Assumption, ...]:
    """The assumptions the causal reading of the pathway rests on, each with its status."""
    timeline = verdicts["timeline"]
    specificity = verdicts["specificity"]
    robust = robustness_text(figures, mechanism, outcome)
    items = []
    if randomized:
        items.append(
            Assumption(
                "strategy_unconfounded",
                "no confounding of the strategy's links to the mechanism and the outcome",
                "identified by design",
                "the strategy was randomized",
            )
        )
    else:
        items.append(
            Assumption(
                "strategy_unconfounded",
                "no confounding of the strategy's links to the mechanism and the outcome",
                "assumed",
                "the strategy was not randomized: who received it may differ in ways that move both",
            )
        )
    if experimental_link:
        items.append(
            Assumption(
                "no_mechanism_outcome_confounding",
                f"no unmeasured common cause of {mechanism} and {outcome}",
                "identified by design",
                "the mechanism was manipulated at random; the two-stage estimate assumes instead that the "
                "manipulation reaches the outcome only through the mechanism (exclusion restriction)",
            )
        )
    else:
        items.append(
            Assumption(
                "no_mechanism_outcome_confounding",
                f"no unmeasured common cause of {mechanism} and {outcome}, even under a randomized strategy",
                "questioned"
                if verdicts["experimental_manipulation"].evidence.get("confounding_signature")
                else "assumed",
                robust or "no robustness figures could be computed",
            )
        )
    if timeline.status is Status.MET:
        status, note = "checked", "the cross-lagged panel shows the mechanism leading the outcome"
    elif timeline.status is Status.NOT_TESTABLE:
        status, note = "assumed", timeline.reason
    else:
        status, note = "questioned", timeline.reason
    items.append(Assumption("no_reverse_causation", f"{outcome} does not drive {mechanism}", status, note))
    items.append(
        Assumption(
            "no_post_treatment_confounder",
            f"nothing the strategy changes (besides {mechanism}) affects both {mechanism} and {outcome}",
            "assumed",
            "cannot be examined without measuring such variables; competing mechanisms adjusted for: "
            + (", ".join(competitors) if competitors else "none measured"),
        )
    )
    if specificity.status is Status.MET:
        status, note = "checked", specificity.reason
    elif specificity.status is Status.NOT_TESTABLE:
        status, note = "assumed", specificity.reason
    elif specificity.status is Status.PARTLY_MET:
        status, note = "checked", specificity.reason
    else:
        status, note = "questioned", specificity.reason
    items.append(
        Assumption(
            "no_other_mechanism",
            f"no competing mechanism carries the effect attributed to {mechanism}",
            status,
            note,
        )
    )
    return tuple(items)
