"""Evidence records from moclab's own analyses: a `StudyEvidence` (what `moclab analyze -o` writes) or the
report.json of a report folder.

Each pathway of the scorecard becomes one record. The pathway's nodes carry their labels, levels and catalog
references from the study's model; the estimates are those of the strong-association model (the a and b
paths, the indirect effect with its bootstrap SE and interval, the total and direct effects, the partially
and completely standardized indirect effects and the SDs they were computed with); each criterion's verdict
keeps its statistic, estimate, interval, reason, rule and design change; the conclusion keeps its grade,
statement and assumptions. The provenance names the moclab version and, for an analysis of a study folder,
the SHA-256 of the study's files (`study_data_hash`), so anyone holding the same files can tell that the
record was made from them.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moclab.errors import MoclabError, display_path
from moclab.evidence.records.files import record_from_data
from moclab.evidence.records.record import EvidenceRecord
from moclab.evidence.records.validation import FORMAT, KIND
from moclab.plain import plain

if TYPE_CHECKING:
    from moclab.evidence import StudyEvidence
    from moclab.study import Study

__all__ = ["RECORDS_FOLDER", "records_from_evidence", "records_from_report", "study_data_hash", "study_files"]

#: The folder of a report (``moclab analyze -o REPORT/``) that holds its evidence records.
RECORDS_FOLDER = "records"
#: The report.json layouts this module reads.
REPORT_FORMATS = ("moclab-report/1",)
_CI_METHODS = {
    "percentile": "percentile bootstrap",
    "bca": "BCa bootstrap",
    "monte_carlo": "Monte Carlo",
    "delta": "delta method",
    "wald": "Wald",
}


# --------------------------------------------------------------------------------------------------------
# The study's identity
# --------------------------------------------------------------------------------------------------------


def study_files(study: Study) -> list[Path]:
    """The files a study's analysis reads: moclab.yaml, the model, the data tables, the coded interviews."""
    from moclab.model import find_model
    from moclab.study.config import CONFIG_NAME

    folder = Path(study.path)
    config = study.config
    files = [folder / CONFIG_NAME]
    if config.model:
        with contextlib.suppress(MoclabError):  # a model that cannot be found is the loader's to report
            files.append(find_model(folder))
    tables = config.tables
    for table in (tables.recipients, tables.measures, tables.activities, tables.outcomes):
        if table is not None:
            files.append(folder / table.path)
    if config.qualitative is not None:
        files.append(folder / config.qualitative.project)
    return sorted({path.resolve() for path in files if path.is_file()})


def study_data_hash(study: Study) -> str:
    """``sha256:`` and the SHA-256 of the study's files (`study_files`), each as its path relative to the
    study folder, its length and its bytes, in path order: the same files give the same hash wherever the
    folder lies.

    Examples
    --------
    >>> from moclab.study import example_path, load_study
    >>> study = load_study(example_path(), show_progress=False)
    >>> study_data_hash(study).startswith("sha256:"), len(study_data_hash(study))
    (True, 71)
    """
    digest = hashlib.sha256()
    folder = Path(study.path).resolve()
    for path in study_files(study):
        try:
            name = path.relative_to(folder).as_posix()
        except ValueError:  # a model or project outside the folder: named by its file name
            name = path.name
        content = path.read_bytes()
        for part in (name.encode("utf-8"), content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return "sha256:" + digest.hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "study"


# --------------------------------------------------------------------------------------------------------
# One pathway → one record
# --------------------------------------------------------------------------------------------------------


def _node(node_id: str, nodes: Mapping[str, Any]) -> dict[str, Any]:
    node = nodes.get(node_id)
    if node is None:
        return {"id": node_id}
    found: dict[str, Any] = {"id": node_id, "label": node.display_label}
    if node.all_refs:
        found["refs"] = list(node.all_refs)
    if node.level is not None:
        found["level"] = str(node.level.value)
    return found


def _effect(effect: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not effect or effect.get("estimate") is None:
        return None
    low, high = effect.get("ci_low"), effect.get("ci_high")
    found: dict[str, Any] = {"estimate": effect["estimate"]}
    if effect.get("se"):
        found["se"] = effect["se"]
    if low is not None and high is not None:
        found["interval"] = [low, high]
    if effect.get("p") is not None:
        found["p"] = effect["p"]
    if effect.get("ci_method"):
        found["method"] = _CI_METHODS.get(effect["ci_method"], effect["ci_method"])
    return found


def _estimates(pathway: Mapping[str, Any], level: float, outcome_scale: str | None) -> dict[str, Any] | None:
    """The estimates of the strong-association model (single-level or multilevel)."""
    mediation = pathway["results"].get("mediation")
    if not mediation:
        return None
    plan = pathway["plan"]
    mechanisms = plan["mechanisms"]
    chain = "->".join(mechanisms)
    effects = {effect["name"]: effect for effect in mediation.get("effects", [])}
    standardized = {effect["name"]: effect for effect in mediation.get("standardized") or []}
    indirect = effects.get(f"indirect[{chain}]") or effects.get("indirect")
    if indirect is None:
        return None
    coding = plan["strategy_coding"]
    found: dict[str, Any] = {"strategy_coding": "arm" if coding["kind"] == "arm" else "dose"}
    if coding.get("text"):
        found["contrast"] = coding["text"]
    found["level"] = level
    paths = {
        "a": effects.get(f"a[{mechanisms[0]}]") or effects.get("a"),
        "b": effects.get(f"b[{mechanisms[-1]}]") or effects.get("b"),
        "direct": effects.get("direct"),
        "total": effects.get("total"),
    }
    found.update({name: value for name, effect in paths.items() if (value := _effect(effect)) is not None})
    found["indirect"] = {**(_effect(indirect) or {}), "scale": "raw"}
    for suffix, key in (
        ("ps", "indirect_partially_standardized"),
        ("cs", "indirect_completely_standardized"),
    ):
        value = _effect(standardized.get(f"indirect_{suffix}[{chain}]"))
        if value is not None:
            found[key] = value
    sds = (mediation.get("info") or {}).get("sd") or {}
    sd = {
        role: sds[name]
        for role, name in (
            ("strategy", plan["strategy"]),
            ("mechanism", mechanisms[0]),
            ("outcome", plan["outcome"]),
        )
        if isinstance(sds.get(name), int | float) and sds[name] > 0
    }
    if sd:
        found["sd"] = sd
    if outcome_scale:
        found["outcome_scale"] = outcome_scale
    return found


def _design(study: Mapping[str, Any], n_analysed: int | None) -> dict[str, Any]:
    randomization = study.get("randomization") or {}
    level = randomization.get("level") or "none"
    waves = study.get("waves") or []
    unit, cluster = study.get("unit") or "recipient", study.get("cluster") or "site"
    if level == "none":
        kind = "observational cohort" if len(waves) > 1 else "cross-sectional"
    elif level == unit:
        kind = "individually randomized trial"
    else:
        kind = "cluster-randomized trial"
    design: dict[str, Any] = {
        "type": kind,
        "randomization": {
            "level": level,
            "arms": list(randomization.get("arms") or []),
            "control": randomization.get("control"),
        },
        "levels": [unit, cluster] if study.get("n_clusters") else [unit],
        "waves": len(waves) or None,
        "wave_ids": [str(wave["id"]) for wave in waves],
        "n": {
            "recipients": study.get("n_recipients"),
            "clusters": study.get("n_clusters"),
            "analysed": n_analysed,
        },
    }
    return design


def _direction(plan: Mapping[str, Any]) -> str:
    sign = 1
    for link in plan.get("links") or []:
        sign *= -1 if link.get("sign") == "negative" else 1
    return "negative" if sign < 0 else "positive"


def _verdict(verdict: Mapping[str, Any]) -> dict[str, Any]:
    found = {
        key: verdict.get(key)
        for key in ("status", "statistic", "estimate", "interval", "reason", "rule", "design_change")
        if verdict.get(key) is not None
    }
    found["judged_by"] = "moclab"
    return found


def _conclusion(conclusion: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not conclusion:
        return None
    return {
        "grade": conclusion["grade"],
        "statement": conclusion.get("statement"),
        "assumptions": [
            {key: item.get(key) for key in ("name", "statement", "status", "note")}
            for item in conclusion.get("assumptions") or []
        ],
        "robustness": dict(conclusion.get("robustness") or {}),
        "design_changes": list(conclusion.get("design_changes") or []),
        "judged_by": "moclab",
    }


def _pathway_record(
    analysis: Mapping[str, Any],
    pathway: Mapping[str, Any],
    *,
    study_id: str,
    nodes: Mapping[str, Any],
    study_meta: Mapping[str, Any],
    provenance: Mapping[str, Any],
    outcome_scales: Mapping[str, str],
) -> dict[str, Any]:
    info = analysis["study"]
    plan = pathway["plan"]
    settings = analysis.get("settings") or {}
    determinants = [
        node_id
        for node_id in plan.get("nodes", [])
        if getattr(nodes.get(node_id), "type", None) == "determinant"
    ]
    mechanism_nodes = [_node(m, nodes) for m in plan["mechanisms"]]
    record_pathway: dict[str, Any] = {
        "id": plan["id"],
        "label": pathway.get("label"),
        "strategy": _node(plan["strategy"], nodes),
        "mechanisms": mechanism_nodes,
        "outcome": _node(plan["outcome"], nodes),
        "direction": _direction(plan),
        "level": mechanism_nodes[0].get("level"),
    }
    if determinants:
        record_pathway["determinant"] = _node(determinants[0], nodes)
    study: dict[str, Any] = {
        "id": study_id,
        "title": info.get("title") or study_id,
        "synthetic": bool(info.get("synthetic")),
        **{key: value for key, value in study_meta.items() if value is not None},
    }
    record: dict[str, Any] = {
        "kind": KIND,
        "format": FORMAT,
        "id": f"{study_id}/{plan['id']}",
        "study": study,
        "pathway": record_pathway,
        "design": _design(info, pathway.get("n")),
        "criteria": {verdict["criterion"]: _verdict(verdict) for verdict in pathway["verdicts"]},
        "provenance": dict(provenance),
    }
    estimates = _estimates(pathway, float(settings.get("level", 0.95)), outcome_scales.get(plan["outcome"]))
    if estimates is not None:
        record["estimates"] = estimates
    conclusion = _conclusion(pathway.get("conclusion"))
    if conclusion is not None:
        record["conclusion"] = conclusion
    if pathway.get("notes"):
        record["notes"] = list(pathway["notes"])
    return plain(record)


def _outcome_scales(config: Any) -> dict[str, str]:
    """What one unit of each measured node is, from the study's measures (instrument or score range)."""
    if config is None:
        return {}
    scales = {}
    for name, spec in config.measures.items():
        node = config.node_of(name)
        if spec.instrument:
            scales[node] = f"{spec.label or name}: scale score of the instrument {spec.instrument}"
        elif spec.range is not None:
            scales[node] = f"{spec.label or name}: score from {spec.range[0]:g} to {spec.range[1]:g}"
    return scales


def _settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: settings.get(key) for key in ("seed", "n_boot", "ci", "level", "mediation") if key in settings
    }


def _now() -> str:
    return datetime.datetime.now().astimezone().replace(microsecond=0).isoformat()


def records_from_evidence(
    evidence: StudyEvidence,
    study: Study | None = None,
    *,
    setting: str | None = None,
    country: str | None = None,
    year: int | None = None,
    created: str | None = None,
) -> list[EvidenceRecord]:
    """One evidence record per pathway of an analysis (what ``moclab analyze -o REPORT/`` writes).

    Parameters
    ----------
    evidence : StudyEvidence
        The result of `moclab.evidence.analyze`.
    study : Study, optional
        The analysed study (its model gives the nodes' labels, levels and catalog references; its files give
        the data hash); loaded again from ``evidence.study["path"]`` when not given.
    setting, country, year : optional
        What moclab cannot know about the study (where and when it took place), for the map's filters.
    created : str, optional
        The time the records say they were written (ISO 8601; default: now).

    Returns
    -------
    list of EvidenceRecord
        Validated against the schema, in the order of the scorecard.

    Raises
    ------
    MoclabError
        When the study cannot be read again from its folder (its data hash needs its files).

    Examples
    --------
    >>> from moclab.evidence import analyze
    >>> from moclab.study import example_path, load_study
    >>> study = load_study(example_path(), show_progress=False)
    >>> evidence = analyze(study, pathways=["isp_support__trust__acceptability"], n_boot=100, seed=1,
    ...                    show_progress=False)
    >>> record = records_from_evidence(evidence, study)[0]
    >>> record.pathway_id, record.mechanisms[0]["refs"], record.estimates["indirect"]["scale"]
    ('isp_support__trust__acceptability', ['recipient-pathway:trust'], 'raw')
    """
    if study is None:
        from moclab.study import load_study

        path = evidence.study.get("path")
        if not path:
            raise MoclabError(
                "the analysis does not say which study folder it came from, so its data hash cannot be "
                "computed",
                hint="pass the study: records_from_evidence(evidence, study)",
            )
        study = load_study(Path(path), show_progress=False)
    from moclab import __version__

    data_hash = study_data_hash(study)
    analysis = evidence.to_dict()
    nodes = {node.id: node for node in study.model.nodes} if study.model is not None else {}
    study_id = f"{_slug(str(analysis['study'].get('title') or 'study'))}-{data_hash[7:15]}"
    provenance = {
        "source": "moclab analyze",
        "moclab_version": __version__,
        "data_hash": data_hash,
        "created": created or _now(),
        "settings": _settings(analysis.get("settings") or {}),
    }
    citations = analysis["study"].get("citations") or []
    if citations and not analysis["study"].get("synthetic"):
        provenance["citation"] = "; ".join(citations)
    meta = {"setting": setting, "country": country, "year": year}
    return [
        record_from_data(
            _pathway_record(
                analysis,
                pathway,
                study_id=study_id,
                nodes=nodes,
                study_meta=meta,
                provenance=provenance,
                outcome_scales=_outcome_scales(study.config),
            ),
            f"record of {pathway['id']}",
        )
        for pathway in analysis["scorecard"]["pathways"]
    ]


def _report_study(study_path: str | None) -> tuple[dict[str, Any], Any]:
    """The model nodes and the config of a report's study, when its folder can still be read (else none:
    the nodes get their ids only, the outcomes no scale)."""
    if not study_path:
        return {}, None
    from moclab.model import find_model, load_model
    from moclab.study import load_config

    try:
        model = load_model(find_model(Path(study_path)), catalog=None)
        config = load_config(Path(study_path))
    except MoclabError:
        return {}, None
    return {node.id: node for node in model.nodes}, config


def records_from_report(path: str | Path) -> list[EvidenceRecord]:
    """The evidence records of a report folder (``moclab analyze -o``), read from its report.json.

    The records say ``source: moclab report`` and carry no data hash (the report does not record one, and
    the study's files may have changed since). The nodes get their labels, levels and catalog references
    (and the outcome its scale) from the study's model and moclab.yaml when its folder can still be read,
    else their ids only.

    Raises
    ------
    MoclabError
        When report.json cannot be read or is not a moclab report.
    """
    path = Path(path)
    report = path / "report.json" if path.is_dir() else path
    shown = display_path(report)
    try:
        analysis = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MoclabError(f"{shown}: the report cannot be read ({error})") from None
    if not isinstance(analysis, dict) or analysis.get("format") not in REPORT_FORMATS:
        raise MoclabError(
            f"{shown}: not the report.json of a moclab report (format {REPORT_FORMATS[0]})",
            hint="give a folder written by `moclab analyze -o`",
        )
    info = analysis["study"]
    identity = json.dumps({k: v for k, v in info.items() if k != "path"}, sort_keys=True, default=str)
    study_id = (
        f"{_slug(str(info.get('title') or 'study'))}-{hashlib.sha256(identity.encode()).hexdigest()[:8]}"
    )
    provenance = {
        "source": "moclab report",
        "moclab_version": analysis.get("moclab"),
        "created": analysis.get("generated"),
        "report": display_path(report.parent),
        "settings": _settings(analysis.get("settings") or {}),
    }
    nodes, config = _report_study(info.get("path"))
    return [
        record_from_data(
            _pathway_record(
                analysis,
                pathway,
                study_id=study_id,
                nodes=nodes,
                study_meta={},
                provenance=provenance,
                outcome_scales=_outcome_scales(config),
            ),
            f"{shown} (pathway {pathway['id']})",
            source=shown,
        )
        for pathway in analysis["scorecard"]["pathways"]
    ]
