"""What the report shows, as plain data: the scorecard matrix, each pathway's verdicts and estimates, the data
summary, every exclusion and assumption.

The functions here turn a `StudyEvidence` (and, when given, the `Study` it came from) into dictionaries and
lists the templates render; they compute no statistic. Each number keeps its exact value next to its
formatted text (the templates write it to a ``data-value`` attribute), so the HTML can be checked against
report.json.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from moclab.evidence.verdicts import CRITERIA, Status
from moclab.plain import plain
from moclab.report.page import decimals_for, format_interval, format_number, unsign_zeros

if TYPE_CHECKING:
    from moclab.analysis import AnalysisResult, Effect
    from moclab.evidence import PathwayEvidence, StudyEvidence, Verdict
    from moclab.study import Study, StudySummary

__all__ = [
    "STATUS_CLASS",
    "anchor",
    "assumption_groups",
    "data_summary_view",
    "effect_rows",
    "exclusions",
    "flow_view",
    "pathway_view",
    "scorecard_view",
]

#: CSS class of each status (``met``, ``partly-met``, ``not-met``, ``not-testable``).
STATUS_CLASS = {status: status.value.replace(" ", "-") for status in Status}


def anchor(prefix: str, text: str, taken: set[str]) -> str:
    """A unique, valid HTML id for `text` (letters, digits, hyphens), recorded in `taken`."""
    base = f"{prefix}-" + (re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x")
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    taken.add(candidate)
    return candidate


# --------------------------------------------------------------------------------------------------------
# Verdicts and the matrix
# --------------------------------------------------------------------------------------------------------


def headline(verdict: Verdict) -> str:
    """The verdict's statistic, estimate and interval in the report's number format ("" when it has none).

    The estimate and its interval share their decimals (`decimals_for`), as in the tables.
    """
    low, high = verdict.interval if verdict.interval is not None else (None, None)
    if not isinstance(verdict.estimate, int | float) or not math.isfinite(verdict.estimate):
        return ""
    places = decimals_for(verdict.estimate, low, high)
    span = format_interval(low, high, places)
    return f"{verdict.statistic or 'estimate'} {format_number(verdict.estimate, places)}" + (
        f" {span}" if span != "—" else ""
    )


def verdict_view(verdict: Verdict) -> dict[str, Any]:
    """One verdict with the texts the report prints (signed zeros in the evidence's texts unsigned)."""
    low, high = verdict.interval if verdict.interval is not None else (None, None)
    criterion = next(c for c in CRITERIA if c.id == verdict.criterion)
    return {
        "criterion": verdict.criterion,
        "name": verdict.name,
        "question": criterion.question,
        "status": verdict.status.value,
        "css": STATUS_CLASS[verdict.status],
        "mark": verdict.status.symbol,
        "statistic": verdict.statistic,
        "estimate": verdict.estimate,
        "ci_low": low,
        "ci_high": high,
        "headline": headline(verdict),
        "rule": verdict.rule,
        "reason": unsign_zeros(verdict.reason),
        "design_change": unsign_zeros(verdict.design_change or ""),
        "judged_at": verdict.evidence.get("judged_at", ""),
        # a design change is advice for what is missing; for a met criterion it is left out
        "show_change": bool(verdict.design_change) and verdict.status is not Status.MET,
    }


#: CSS class of each grade of the overall conclusion.
GRADE_CLASS = {
    "established": "grade-established",
    "supported under stated assumptions": "grade-supported",
    "suggestive": "grade-suggestive",
    "not supported": "grade-not-supported",
    "not testable": "grade-not-testable",
}


def conclusion_view(pathway: PathwayEvidence) -> dict[str, Any] | None:
    """The pathway's overall conclusion: grade, statement, assumptions with their status, robustness."""
    conclusion = pathway.conclusion
    if conclusion is None:
        return None
    figures = conclusion.robustness
    robustness = [
        (label, figures.get(key), kind)
        for key, label, kind in (
            ("rho_at_zero", "ρ at which the indirect effect vanishes (Imai et al. 2010)", "number"),
            ("robustness_value", "robustness value RV (Cinelli & Hazlett 2020)", "share"),
            ("rv_alpha", "robustness value for significance, RV_α", "share"),
            ("partial_r2", "partial R² of the mechanism with the outcome", "share"),
            ("e_value", "E-value (VanderWeele & Ding 2017)", "number"),
        )
        if isinstance(figures.get(key), int | float) and math.isfinite(figures[key])
    ]
    return {
        "grade": conclusion.grade,
        "css": GRADE_CLASS.get(conclusion.grade, ""),
        "statement": unsign_zeros(conclusion.statement),
        "assumptions": [
            {**item.to_dict(), "note": unsign_zeros(item.note or "")} for item in conclusion.assumptions
        ],
        "robustness": robustness,
        "design_changes": list(conclusion.design_changes),
    }


def scorecard_view(evidence: StudyEvidence, anchors: dict[str, str]) -> dict[str, Any]:
    """The pathway × criterion matrix led by each pathway's conclusion, with per-criterion counts."""
    rows = []
    for pathway in evidence.pathways:
        rows.append(
            {
                "id": pathway.id,
                "label": pathway.label,
                "anchor": anchors[pathway.id],
                "n": pathway.n,
                "conclusion": conclusion_view(pathway),
                "cells": [verdict_view(pathway.verdict(c.id)) for c in CRITERIA],
            }
        )
    counts = {
        c.id: {
            status.value: sum(p.verdict(c.id).status is status for p in evidence.pathways)
            for status in Status
        }
        for c in CRITERIA
    }
    criteria = [{"id": c.id, "name": c.name, "short": c.short, "question": c.question} for c in CRITERIA]
    legend = [{"status": s.value, "css": STATUS_CLASS[s], "mark": s.symbol} for s in Status]
    return {"criteria": criteria, "rows": rows, "counts": counts, "legend": legend}


# --------------------------------------------------------------------------------------------------------
# Effects tables
# --------------------------------------------------------------------------------------------------------


def _inside(name: str) -> str:
    start = name.find("[")
    return name[start + 1 : name.rfind("]")] if start >= 0 else ""


def _arrows(text: str) -> str:
    return text.replace("->", " → ")


def describe_effect(effect: Effect, result: AnalysisResult) -> str:
    """What an effect of a result is, in words (the tables' second column)."""
    kind, name, inner = effect.kind, effect.name, _inside(effect.name)
    y = getattr(result, "y", "") or getattr(result, "response", "")
    dose = getattr(result, "dose", "")
    m, suffix = getattr(result, "m", ""), ""
    if type(result).__name__ == "CrossLaggedResult" and inner:
        suffix = f" ({_arrows(inner)})"
    words = {
        "a": f"a path: strategy → {inner}",
        "b": f"b path: {inner} → {y}, adjusted for the strategy",
        "d": f"serial path {_arrows(inner)}",
        "indirect": f"indirect effect through {_arrows(inner)}" if inner else "indirect effect",
        "total_indirect": "total indirect effect (all mechanisms)",
        "direct": "direct effect c′ (strategy → outcome, adjusted for the mechanisms)",
        "total": "total effect c (strategy → outcome)",
        "proportion_mediated": "proportion mediated (indirect / total)" + (f", {inner}" if inner else ""),
        "pooled": "pooled estimate (random effects)",
        "pooled_fixed": "pooled estimate (common effect)",
        "tau2": "between-unit variance τ²",
        "study": inner,
    }
    if type(result).__name__ == "MultilevelMediationResult":
        return _describe_multilevel(effect, result)
    if kind == "contrast" and name.startswith("contrast["):
        first, _, second = inner.partition("-")
        return f"difference of indirect effects: {_arrows(first)} − {_arrows(second)}"
    by_name = {
        "m_to_y": f"{m} (t) → {y} (t+1), cross-lagged",
        "y_to_m": f"{y} (t) → {m} (t+1), reverse cross-lagged",
        "m_autoregressive": f"stability of {m}",
        "y_autoregressive": f"stability of {y}",
        "difference": "cross-lagged difference γ_MY − γ_YM (raw units)",
        "m_to_y_std": f"{m} → {y}, standardized",
        "y_to_m_std": f"{y} → {m}, standardized",
        "difference_std": "standardized difference γ_MY − γ_YM",
        "slope": f"slope: change in {y} per unit of {dose}",
        "slope_std": f"slope per SD of {dose}, in SDs of {y}",
        "trend": "linear trend across dose groups (trend test)",
        "quadratic": "curvature (quadratic term of the centred dose)",
        "acme": "indirect effect (ACME) at ρ = 0",
        "rho_at_zero": "ρ (mediator–outcome error correlation) at which the indirect effect is 0",
        "r2_star_product": "R²*M · R²*Y at which the indirect effect is 0 (share of unexplained variance)",
        "r2_tilde_product": "R̃²M · R̃²Y at which the indirect effect is 0 (share of total variance)",
    }
    base = name.split("[")[0]
    if base in by_name:
        return by_name[base] + suffix
    return words.get(kind, _arrows(name))


def _describe_multilevel(effect: Effect, result: AnalysisResult) -> str:
    """The effects of a multilevel mediation model, with the level each one is estimated at."""
    variables = result.info.get("variables", {})
    m, y = variables.get("m", "mechanism"), variables.get("y", "outcome")
    where = str(effect.extra.get("effect_level", ""))
    at = {"between": " between sites (site means)", "within": " within sites", "pooled": ""}.get(where, "")
    words = {
        "a": f"a path{at}: strategy → {m}",
        "b": f"b path{at}: {m} → {y}, adjusted for the strategy",
        "direct": f"direct effect c′{at} (strategy → {y}, adjusted for {m})",
        "indirect": f"indirect effect{at} through {m}",
        "total": f"total effect{at} (strategy → {y})",
        "random_covariance": "σ_ab: covariance of the sites' random a and b slopes",
    }
    text = words.get(effect.kind, _arrows(effect.name))
    if effect.kind == "indirect" and effect.name == "indirect" and result.info.get("design") == "1-1-1":
        text += " (a·b + σ_ab)"
    if effect.name == "b_within":
        text += " (not part of the indirect effect in a 2-1-1 design)"
    return text


def effect_rows(result: AnalysisResult, kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The effects of a result as table rows (optionally only these kinds), with their descriptions."""
    wanted = set(kinds) if kinds is not None else None
    rows = []
    for effect in result.effects:
        if wanted is not None and effect.kind not in wanted:
            continue
        rows.append(
            {
                "name": effect.name,
                "kind": effect.kind,
                "description": describe_effect(effect, result),
                "estimate": effect.estimate,
                "se": effect.se,
                "ci_low": effect.ci_low,
                "ci_high": effect.ci_high,
                "p": effect.p,
                "method": effect.ci_method or "",
            }
        )
    return rows


def _table(result_name: str, title: str, result: AnalysisResult, kinds: Iterable[str] | None = None) -> dict:
    return {
        "result": result_name,
        "title": title,
        "method": str(result.info.get("method") or ""),
        "n": result.info.get("n", getattr(result, "n", None)),
        "rows": effect_rows(result, kinds),
        "warnings": list(result.warnings),
    }


# --------------------------------------------------------------------------------------------------------
# One pathway
# --------------------------------------------------------------------------------------------------------


def _consistency(pathway: PathwayEvidence) -> dict[str, Any] | None:
    meta = pathway.results.get("consistency")
    if meta is None:
        return None
    units = []
    studies = getattr(meta, "studies", None)
    if studies is not None:
        for row in studies.to_dict(orient="records"):
            units.append(
                {
                    "label": str(row.get("label")),
                    "estimate": row.get("estimate"),
                    "se": row.get("se"),
                    "ci_low": row.get("ci_low"),
                    "ci_high": row.get("ci_high"),
                    "weight": row.get("weight"),
                }
            )
    pooled = meta.effect("pooled")
    prediction = tuple(getattr(meta, "prediction", (math.nan, math.nan)))
    return {
        "title": str(getattr(meta, "effect_label", "effect")),
        "method": str(meta.info.get("method") or ""),
        "k": getattr(meta, "k", len(units)),
        "pooled": {
            "estimate": pooled.estimate,
            "ci_low": pooled.ci_low,
            "ci_high": pooled.ci_high,
            "p": pooled.p,
        },
        "tau2": getattr(meta, "tau2", None),
        "tau2_ci": list(getattr(meta, "tau2_ci", (None, None))),
        "i2": getattr(meta, "i2", None),
        "q": getattr(meta, "q", None),
        "q_df": getattr(meta, "q_df", None),
        "q_p": getattr(meta, "q_p", None),
        "prediction": list(prediction),
        "prediction_available": all(isinstance(v, float) and math.isfinite(v) for v in prediction),
        "units": units,
        "warnings": list(meta.warnings),
    }


def _dose(pathway: PathwayEvidence, name: str, title: str) -> dict[str, Any] | None:
    result = pathway.results.get(name)
    if result is None:
        return None
    table = _table(name, title, result)
    table["nonlinearity"] = getattr(result, "nonlinearity", None)
    table["turning_point"] = getattr(result, "turning_point", None)
    groups = getattr(result, "groups", None)
    table["groups"] = [] if groups is None else plain(groups.to_dict(orient="records"))
    return table


def pathway_view(
    pathway: PathwayEvidence, anchor_id: str, figures: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    """Everything the report prints about one pathway."""
    plan = pathway.plan
    results = pathway.results
    tables = []
    if "mediation" in results:
        mediation = results["mediation"]
        design = (
            mediation.info.get("design") if type(mediation).__name__ == "MultilevelMediationResult" else None
        )
        title = f"Paths and effects (multilevel model, {design} design)" if design else "Paths and effects"
        tables.append(_table("mediation", title, mediation))
    if "specificity" in results:
        tables.append(
            _table(
                "specificity",
                "With the competing mechanisms in parallel",
                results["specificity"],
                kinds=("indirect", "total_indirect", "contrast"),
            )
        )
    for name, result in results.items():
        if name.startswith("non_target["):
            tables.append(
                _table(name, f"Non-target outcome {_inside(name)}", result, kinds=("a", "b", "indirect"))
            )
    subgroup_tables = [
        _table(name, f"Subgroup {_inside(name)}", result, kinds=("indirect",))
        for name, result in results.items()
        if name.startswith("subgroup[")
    ]
    panel = _table("panel", "Cross-lagged panel model", results["panel"]) if "panel" in results else None
    sensitivity = [
        _table(name, title, results[name])
        for name, title in (
            (
                "sensitivity",
                "Sensitivity to mechanism–outcome confounding (Imai's ρ; Cinelli & Hazlett's robustness "
                "values and bounds)",
            ),
            ("manipulation", "The manipulated mechanism: two-stage least squares"),
        )
        if name in results
    ]
    facts = [
        ("strategy", plan.coding.text),
        ("mechanism" + ("s" if len(plan.mechanisms) > 1 else ""), " → ".join(plan.mechanisms)),
        ("outcome", plan.outcome),
        (
            "waves",
            f"mechanism at {plan.mechanism_wave}, outcome at {plan.outcome_wave}"
            + (f", baseline {plan.baseline_wave}" if plan.baseline_wave else ""),
        ),
    ]
    if plan.alternatives:
        facts.append(("competing mechanisms", ", ".join(plan.alternatives)))
    if plan.unmeasured_alternatives:
        facts.append(("competing mechanisms not measured", ", ".join(plan.unmeasured_alternatives)))
    if plan.non_targets:
        facts.append(("non-target outcomes", ", ".join(plan.non_targets)))
    if plan.covariates:
        facts.append(("covariates", ", ".join(plan.covariates)))
    if plan.cluster:
        facts.append(("clustered by", plan.cluster))
    facts.append(("recipients analysed", str(pathway.n)))
    return {
        "id": pathway.id,
        "anchor": anchor_id,
        "label": pathway.label,
        "nodes": [labels.get(node, node) for node in plan.pathway.nodes],
        "n": pathway.n,
        "facts": facts,
        "conclusion": conclusion_view(pathway),
        "verdicts": [verdict_view(v) for v in pathway.verdicts],
        "tables": tables,
        "subgroups": subgroup_tables,
        "consistency": _consistency(pathway),
        "panel": panel,
        "dose": [
            d
            for d in (
                _dose(pathway, "dose_mechanism", f"Support received → {plan.mechanisms[0]}"),
                _dose(pathway, "mechanism_outcome", f"{plan.mechanisms[-1]} → {plan.outcome}"),
            )
            if d is not None
        ],
        "sensitivity": sensitivity,
        "figures": figures,
        "assumptions": list(pathway.assumptions),
        "notes": list(pathway.notes),
        "qualitative": pathway.qualitative.to_dict(),
    }


# --------------------------------------------------------------------------------------------------------
# Exclusions, assumptions, the data
# --------------------------------------------------------------------------------------------------------

_ANALYSIS_NAMES = {
    "mediation": "strong association (mediation model)",
    "specificity": "specificity (competing mechanisms)",
    "site_effects": "consistency (per-site models)",
    "consistency": "consistency (meta-analysis)",
    "panel": "timeline (cross-lagged panel)",
    "dose_mechanism": "gradient (support → mechanism)",
    "mechanism_outcome": "gradient (mechanism → outcome)",
    "sensitivity": "sensitivity analysis",
}


def analysis_name(name: str) -> str:
    """A result's key in words ("strong association (mediation model)")."""
    if name in _ANALYSIS_NAMES:
        return _ANALYSIS_NAMES[name]
    if name.startswith("subgroup["):
        return f"consistency (subgroup {_inside(name)})"
    if name.startswith("non_target["):
        return f"specificity (non-target outcome {_inside(name)})"
    return name


def exclusions(evidence: StudyEvidence, study: Study | None = None) -> list[dict[str, Any]]:
    """Every exclusion: rows dropped for missing values, sites left out, subgroups left out, failed models.

    One entry per pathway and analysis: ``{"pathway", "analysis", "rows_dropped", "rows_total",
    "sites_dropped", "text"}`` (the counts None where they do not apply); study-level entries (warnings found
    while loading the study) have pathway None.
    """
    found: list[dict[str, Any]] = []
    if study is not None:
        for problem in study.warnings:
            found.append(
                {
                    "pathway": None,
                    "analysis": "loading the study",
                    "rows_dropped": None,
                    "rows_total": None,
                    "sites_dropped": [],
                    "text": str(problem),
                }
            )
    for pathway in evidence.pathways:
        for name, result in pathway.results.items():
            dropped = getattr(result, "n_dropped", None)
            if dropped is None:
                dropped = result.info.get("n_dropped")
            sites = list(getattr(result, "dropped", ()) or ())
            if not dropped and not sites:
                continue
            analysed = getattr(result, "n", None) or result.info.get("n") or 0
            parts = []
            if dropped:
                parts.append(
                    f"{dropped} of {analysed + dropped} recipients left out for missing values "
                    "(listwise deletion)"
                )
            if sites:
                parts.append(f"{len(sites)} site(s) left out: {', '.join(map(str, sites))}")
            found.append(
                {
                    "pathway": pathway.id,
                    "analysis": analysis_name(name),
                    "rows_dropped": int(dropped) if dropped else 0,
                    "rows_total": int(analysed + (dropped or 0)),
                    "sites_dropped": [str(site) for site in sites],
                    "text": "; ".join(parts),
                }
            )
        for note in pathway.notes:
            found.append(
                {
                    "pathway": pathway.id,
                    "analysis": "note",
                    "rows_dropped": None,
                    "rows_total": None,
                    "sites_dropped": [],
                    "text": note,
                }
            )
    return found


def assumption_groups(evidence: StudyEvidence) -> dict[str, Any]:
    """The pathways' assumptions: the lines every pathway shares, then each pathway's own lines."""
    lines = [list(pathway.assumptions) for pathway in evidence.pathways]
    shared = [line for line in lines[0] if all(line in other for other in lines)] if lines else []
    own = []
    for pathway, pathway_lines in zip(evidence.pathways, lines, strict=True):
        specific = [line for line in pathway_lines if line not in shared]
        if specific:
            own.append({"pathway": pathway.id, "label": pathway.label, "lines": specific})
    return {"shared": shared, "by_pathway": own}


def _records(frame: Any) -> list[dict[str, Any]]:
    if frame is None:
        return []
    return plain(frame.to_dict(orient="records"))


def data_summary_view(summary: StudySummary) -> dict[str, Any]:
    """The study's data at a glance (design, arms, waves, measures with missingness, support per site)."""
    measures = _records(summary.measures)
    waves = [str(wave) for wave in summary.missingness.columns]
    for row in measures:
        name = row.get("measure")
        row["by_wave"] = [
            plain(summary.missingness.loc[name, wave]) if name in summary.missingness.index else None
            for wave in summary.missingness.columns
        ]
    activities = summary.activities
    return {
        "unit": summary.unit,
        "cluster": summary.cluster,
        "team": summary.team,
        "n_recipients": summary.n_recipients,
        "n_clusters": summary.n_clusters,
        "n_teams": summary.n_teams,
        "cluster_sizes": plain(summary.cluster_sizes),
        "randomization": summary.randomization,
        "arms": _records(summary.arms),
        "waves": _records(summary.waves),
        "measures": measures,
        "missing_waves": waves,
        "activities": _records(activities),
        "activity_columns": [] if activities is None else [str(c) for c in activities.columns],
        "notes": list(summary.notes),
    }


def _flow_table(flow: Any) -> dict[str, Any]:
    """A participant flow as rows of counts with their share of the group's start (CONSORT item 13)."""
    columns = [*flow.groups, "total"] if len(flow.groups) > 1 else ["total"]
    start = flow.enrolled
    rows = []
    for number, row in enumerate(flow.counts.to_dict("records")):
        cells = []
        for name in columns:
            count = int(row[name])
            share = count / start[name] if number and start[name] else None
            cells.append({"n": count, "share": share})
        rows.append(
            {"stage": row["stage"], "wave": row["wave"], "label": str(row["label"]).strip(), "cells": cells}
        )
    return {"columns": columns, "rows": rows, "notes": list(flow.notes)}


def flow_view(summary: StudySummary | None, evidence: StudyEvidence) -> dict[str, Any] | None:
    """The participant flow of the study and, per pathway, the recipients analysed and the attrition tests.

    None when neither the data summary nor any pathway has a flow.
    """
    study_flow = summary.flow if summary is not None else None
    pathways = []
    for pathway in evidence.pathways:
        if pathway.flow is None:
            continue
        tests = pathway.attrition
        pathways.append(
            {
                "pathway": pathway.id,
                "label": pathway.label,
                "table": _flow_table(pathway.flow),
                "flagged": bool(tests is not None and tests.flagged),
                "tests": [] if tests is None else tests.summary().split("\n"),
            }
        )
    if study_flow is None and not pathways:
        return None
    return {
        "unit": evidence.study.get("unit") or "recipient",
        "table": _flow_table(study_flow) if study_flow is not None else None,
        "pathways": pathways,
        "flagged": [p["pathway"] for p in pathways if p["flagged"]],
    }
