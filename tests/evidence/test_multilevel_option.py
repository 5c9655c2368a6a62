"""Strong association on a multilevel mediation model (`evidence.mediation: multilevel`, `--multilevel`).

The reference is `moclab.analysis.multilevel_mediate` itself, run directly on the same rows: the verdict must
carry its indirect effect, interval and between-cluster a and b paths unchanged (2-1-1: the strategy is
assigned per site).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from moclab.analysis import MediationResult, MultilevelMediationResult, multilevel_mediate
from moclab.cli.main import app
from moclab.evidence import analyze
from moclab.evidence import pathway as evidence_pathway
from moclab.evidence.rules import judge_strong_association
from moclab.report.content import pathway_view

from .helpers import REAL, write_study

SEED = 5
SITE_RANDOMIZED = {"level": "site", "arms": ["coached", "usual"], "control": "usual"}


def site_randomized(n_sites: int = 16, per_site: int = 25, seed: int = 3) -> pd.DataFrame:
    """A 2-1-1 study: every second site coached; trust and acceptability per recipient, with site effects."""
    rng = np.random.default_rng(seed)
    site = np.repeat(np.arange(n_sites), per_site)
    arm = (site % 2).astype(float)
    trust = 0.8 * arm + rng.normal(0, 0.4, n_sites)[site] + rng.normal(size=site.size)
    credibility = rng.normal(size=site.size)
    acceptability = (
        0.6 * trust + 0.2 * credibility + rng.normal(0, 0.4, n_sites)[site] + rng.normal(size=site.size)
    )
    return pd.DataFrame(
        {
            "recipient_id": [f"R{i:04d}" for i in range(site.size)],
            "site": [f"S{j:02d}" for j in site],
            "x": arm,
            "trust": trust,
            "credibility": credibility,
            "acceptability": acceptability,
        }
    )


def write(folder: Path, frame: pd.DataFrame, evidence: dict | None = None) -> Path:
    recipients = frame[["recipient_id", "site"]].assign(arm=np.where(frame["x"] == 1, "coached", "usual"))
    measures = pd.concat(
        [
            pd.DataFrame(
                {"recipient_id": frame["recipient_id"], "wave": "w1", "measure": name, "value": frame[name]}
            )
            for name in ("trust", "credibility", "acceptability")
        ],
        ignore_index=True,
    )
    return write_study(
        folder,
        recipients=recipients,
        measures=measures,
        waves=[{"id": "w1"}],
        randomization=SITE_RANDOMIZED,
        evidence=evidence,
    )


def judge(folder: Path, options: dict | None = None):
    evidence = analyze(folder, options, n_boot=200, seed=SEED, pathways=[REAL], show_progress=False)
    return evidence, evidence.scorecard.pathway(REAL)


def test_setting_judges_strong_association_on_the_multilevel_model(tmp_path: Path) -> None:
    frame = site_randomized()
    evidence, pathway = judge(write(tmp_path / "study", frame, {"mediation": "multilevel"}))
    direct = multilevel_mediate(
        frame, x="x", m="trust", y="acceptability", cluster="site", level=0.95, seed=SEED
    )
    assert direct.design == "2-1-1"
    verdict = pathway.verdict("strong_association")
    indirect = direct.effect("indirect")
    assert verdict.estimate == indirect.estimate
    assert verdict.interval == (indirect.ci_low, indirect.ci_high)
    for name in ("a", "b"):
        assert verdict.evidence["paths"][name]["estimate"] == direct.effect(name).estimate
        assert verdict.evidence["paths"][name]["p"] == direct.effect(name).p
    assert verdict.evidence["mediation_model"] == "multilevel 2-1-1"
    assert verdict.evidence["path_level"] == "between"
    assert verdict.evidence["n_clusters"] == 16
    assert "multilevel mediation model (2-1-1 design: between-cluster a and b paths" in verdict.rule
    assert "between-cluster paths of the 2-1-1 multilevel model" in verdict.reason
    # the a path judged by experimental manipulation is the same multilevel a path
    manipulation = pathway.verdict("experimental_manipulation")
    assert manipulation.evidence["a"]["estimate"] == direct.effect("a").estimate
    # the result object reaches the report, with its levels in words
    result = pathway.results["mediation"]
    assert isinstance(result, MultilevelMediationResult)
    table = pathway_view(pathway, "p1", {}, {})["tables"][0]
    assert table["title"] == "Paths and effects (multilevel model, 2-1-1 design)"
    described = {row["name"]: row["description"] for row in table["rows"]}
    assert described["a"] == "a path between sites (site means): strategy → trust"
    assert described["indirect"] == "indirect effect between sites (site means) through trust"
    assert described["b_within"].startswith("b path within sites: trust → acceptability")
    assert any("2-1-1 multilevel mediation" in line for line in pathway.assumptions)
    assert evidence.settings.mediation == "multilevel"


def test_default_stays_single_level(tmp_path: Path) -> None:
    _, pathway = judge(write(tmp_path / "study", site_randomized()))
    verdict = pathway.verdict("strong_association")
    assert isinstance(pathway.results["mediation"], MediationResult)
    assert "multilevel" not in verdict.rule
    assert "mediation_model" not in verdict.evidence


def test_cli_flag_asks_for_the_multilevel_model(tmp_path: Path) -> None:
    frame = site_randomized()
    folder = write(tmp_path / "study", frame)
    runner = CliRunner()
    args = ["analyze", str(folder), "-p", REAL, "--n-boot", "200", "--seed", str(SEED), "--json"]
    result = runner.invoke(app, [*args, "--multilevel", "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    page = next((tmp_path / "report").glob("*.html")).read_text(encoding="utf-8")
    assert "Paths and effects (multilevel model, 2-1-1 design)" in page
    data = json.loads(result.stdout)
    assert data["settings"]["mediation"] == "multilevel"
    pathway = data["scorecard"]["pathways"][0]
    assert pathway["results"]["mediation"]["info"]["design"] == "2-1-1"
    verdict = next(v for v in pathway["verdicts"] if v["criterion"] == "strong_association")
    direct = multilevel_mediate(frame, x="x", m="trust", y="acceptability", cluster="site", seed=SEED)
    assert verdict["estimate"] == direct.effect("indirect").estimate
    without = json.loads(runner.invoke(app, args).stdout)
    assert without["settings"]["mediation"] == "single-level"
    assert "n_clusters" in without["scorecard"]["pathways"][0]["results"]["mediation"]


def test_too_few_clusters_fall_back_to_single_level_with_a_warning(tmp_path: Path) -> None:
    frame = site_randomized(n_sites=4, per_site=60)
    evidence, pathway = judge(write(tmp_path / "study", frame, {"mediation": "multilevel"}))
    verdict = pathway.verdict("strong_association")
    assert isinstance(pathway.results["mediation"], MediationResult)
    assert "multilevel" not in verdict.rule
    assert verdict.evidence["mediation_model"] == "single-level (multilevel requested)"
    assert "clusters" in verdict.evidence["multilevel_fallback"]
    warning = next(w for w in evidence.warnings if "multilevel mediation was requested but not used" in w)
    assert "single-level mediation model instead" in warning
    assert warning in " ".join(f"{REAL} (mediation): {note}" for note in pathway.notes)


def test_a_fit_that_did_not_converge_is_not_judged(tmp_path: Path, monkeypatch) -> None:
    real = evidence_pathway.multilevel_mediate

    def not_converged(*args, **kwargs):
        result = real(*args, **kwargs)
        return dataclasses.replace(result, info={**result.info, "converged": False})

    monkeypatch.setattr(evidence_pathway, "multilevel_mediate", not_converged)
    evidence, pathway = judge(write(tmp_path / "study", site_randomized(), {"mediation": "multilevel"}))
    assert isinstance(pathway.results["mediation"], MediationResult)
    verdict = pathway.verdict("strong_association")
    assert verdict.evidence["multilevel_fallback"] == "the multilevel model did not converge"
    assert any("did not converge" in w for w in evidence.warnings)


def test_within_cluster_wording_for_a_1_1_1_model() -> None:
    from moclab.analysis.results import Effect

    a = Effect("a", "a", 0.5, 0.1, 0.3, 0.7, 0.0001, "wald")
    b = Effect("b", "b", 0.4, 0.1, 0.2, 0.6, 0.0002, "wald")
    indirect = Effect("indirect", "indirect", 0.25, 0.06, 0.14, 0.37, None, "monte_carlo")
    verdict = judge_strong_association(indirect, [a, b], level=0.95, multilevel="1-1-1")
    assert verdict.status.value == "met"
    assert "1-1-1 design: within-cluster a and b paths" in verdict.rule
    assert verdict.reason.startswith("the within-cluster indirect effect 0.250 [0.140, 0.370]")
    assert verdict.evidence["path_level"] == "within"
