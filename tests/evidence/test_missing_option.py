"""`evidence.missing` (`moclab analyze --missing`): the mediation models of strong association and
specificity with the recipients lost imputed or weighted, the method named in the verdict, and the
conclusion's assumption of data missing at random with its tipping point.

The references are the analysis layer's own functions called directly on the pathway's recipients
(`mediate_imputed`, `mediate_weighted`; each is checked against statsmodels and known truths in
tests/analysis/test_missing.py): the scorecard must hand them the same rows and options.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moclab.analysis import mediate, mediate_imputed, mediate_weighted
from moclab.analysis.missing import ImputedMediationResult, WeightedMediationResult
from moclab.cli.main import app
from moclab.evidence import analyze
from moclab.evidence.engine import resolve_settings
from moclab.evidence.frames import pathway_data, study_tables
from moclab.evidence.plan import plan_pathways
from moclab.study import load_study

from .helpers import REAL, lose_low_outcomes_of_one_arm, simulated_study

QUICK = {"n_boot": 200, "seed": 3, "show_progress": False}


@pytest.fixture(scope="module")
def lossy(tmp_path_factory) -> Path:
    folder = simulated_study(tmp_path_factory.mktemp("missing") / "lossy", 4, sites=12, recipients=20)
    lose_low_outcomes_of_one_arm(folder)
    return folder


@pytest.fixture(scope="module")
def analysed(lossy):
    return {
        method: analyze(lossy, {"missing": method}, pathways=[REAL], **QUICK).scorecard.pathway(REAL)
        for method in ("listwise", "imputation", "weights")
    }


def test_each_method_fits_its_model_on_the_same_recipients(analysed):
    listwise = analysed["listwise"].results["mediation"]
    imputed = analysed["imputation"].results["mediation"]
    weighted = analysed["weights"].results["mediation"]
    assert isinstance(imputed, ImputedMediationResult) and isinstance(weighted, WeightedMediationResult)
    # imputation keeps every recipient with an arm; listwise and weights analyse the complete rows
    assert imputed.n == listwise.n + listwise.n_dropped and imputed.n_incomplete > 0
    assert weighted.n == listwise.n
    names = {effect.name for effect in listwise.effects if effect.kind != "proportion_mediated"}
    assert names <= {effect.name for effect in imputed.effects}
    assert names <= {effect.name for effect in weighted.effects}
    for method, text in (
        ("listwise", "listwise deletion"),
        ("imputation", "multiple imputation by chained equations (20 data sets)"),
        ("weights", "inverse-probability-of-retention weights"),
    ):
        verdict = analysed[method].verdict("strong_association")
        assert text in verdict.evidence["missing_data"]
        indirect = analysed[method].results["mediation"].effect("indirect[trust]")
        assert verdict.estimate == indirect.estimate


def test_the_scorecard_hands_the_direct_call_the_same_rows_and_options(lossy, analysed):
    """Called directly on the pathway's frame with the scorecard's options, each function gives the
    scorecard's numbers exactly (same seed, same imputations, same resamples)."""
    study = load_study(lossy, show_progress=False)
    settings = resolve_settings(study.config.evidence, {"n_boot": 200, "seed": 3})
    settings = settings.model_copy(update={"pathways": [settings.pathway_spec(REAL)]})
    (plan,) = plan_pathways(study, settings)
    data = pathway_data(study, plan, settings, study_tables(study))
    competitors = analysed["listwise"].verdict("strong_association").evidence["competitors_in_model"]
    mediators = ["trust", *competitors]
    covariates = [*data.covariates, *data.baseline_for(*mediators, "acceptability")]
    common = {"x": data.x, "m": mediators, "y": "acceptability", "covariates": covariates, "level": 0.95}
    common.update({"seed": 3, "n_boot": 200, "cluster": data.cluster, "x_type": "arm"})
    listwise = mediate(data.frame, **common)
    assert listwise.effect("indirect[trust]").estimate == (
        analysed["listwise"].results["mediation"].effect("indirect[trust]").estimate
    )
    taken = {data.x, data.cluster, *mediators, "acceptability", *covariates}
    auxiliary = [
        name
        for name in dict.fromkeys([*data.mechanisms, *data.alternatives, *data.baselines.values()])
        if name not in taken
    ]
    imputed = mediate_imputed(data.frame, **common, auxiliary=auxiliary)
    retention = [data.x, *data.baseline_for(*mediators, "acceptability")]
    weighted = mediate_weighted(data.frame.dropna(subset=retention), **common, retention=retention)
    for method, direct in (("imputation", imputed), ("weights", weighted)):
        scored = analysed[method].results["mediation"]
        for effect in direct.effects:
            other = scored.effect(effect.name)
            assert (other.estimate, other.ci_low, other.ci_high) == (
                effect.estimate,
                effect.ci_low,
                effect.ci_high,
            ), (method, effect.name)


def test_the_conclusion_names_missing_at_random_and_the_tipping_point(analysed):
    listwise = {a.name: a for a in analysed["listwise"].conclusion.assumptions}
    assert "no_differential_attrition" in listwise and "missing_at_random" not in listwise
    imputed = {a.name: a for a in analysed["imputation"].conclusion.assumptions}
    assumption = imputed["missing_at_random"]
    assert assumption.status == "questioned"  # the arm's dropout was flagged
    assert assumption.note.startswith("the mediation models used multiple imputation")
    assert "differs by arm" in assumption.note
    assert analysed["imputation"].verdict("strong_association").status.value == "met"
    tipping = analysed["imputation"].results["tipping_point"]
    assert tipping.table["delta"].min() == -2.0 and tipping.table["delta"].max() == 2.0
    assert "under MAR" + tipping.verdict_text("indirect[trust]")[len("Under MAR") :] in assumption.note
    weighted = {a.name: a for a in analysed["weights"].conclusion.assumptions}
    assert "retention weights" in weighted["missing_at_random"].note


def test_analyze_missing_option_on_the_command_line(lossy):
    from typer.testing import CliRunner

    runner = CliRunner()
    done = runner.invoke(
        app, ["analyze", str(lossy), "--missing", "weights", "-p", REAL, "--n-boot", "200", "--seed", "1"]
    )
    assert done.exit_code == 0, done.output
    wrong = runner.invoke(app, ["analyze", str(lossy), "--missing", "impute", "-p", REAL])
    assert wrong.exit_code == 2 and "impute" in wrong.output
    assert "listwise" in wrong.output and "imputation" in wrong.output
