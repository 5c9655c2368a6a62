"""Every criterion analyses a mechanism at the level the model declares (or, with --multilevel, at the part
the design lets carry the effect), and every verdict says at which level it was judged (issue 17, item 3).

The reference values are computed here from the study's wide table with pandas (team means by groupby) and
statsmodels OLS, independently of `moclab.evidence.levels`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from moclab.evidence import CRITERIA, analyze
from moclab.evidence.levels import unit_parts
from moclab.report import build_report
from moclab.study import load_study

TRUST = "isp_support__trust__acceptability"  # trust: an individual-level node of the example's model
SAFETY = "isp_support__psych_safety__feasibility"  # psychological safety: a team-level node
QUICK = {"n_boot": 100, "seed": 1, "show_progress": False}


@pytest.fixture(scope="module")
def single(example_study):
    return analyze(example_study, pathways=[TRUST, SAFETY], **QUICK)


@pytest.fixture(scope="module")
def multilevel(example_study):
    return analyze(example_study, {"mediation": "multilevel"}, pathways=[TRUST, SAFETY], **QUICK)


def _levels(evidence, pathway_id):
    pathway = next(p for p in evidence.pathways if p.id == pathway_id)
    return pathway, {v.criterion: v.evidence["judged_at"] for v in pathway.verdicts}


def test_unit_parts_are_the_means_of_the_recipients_with_a_value_given_to_the_whole_unit():
    values = [1.0, 3.0, np.nan, 5.0, 2.0, np.nan]
    units = ["a", "a", "a", "b", None, "c"]
    between, within = unit_parts(values, units)
    # a: mean of 1 and 3, also for its member without a value (who has no within part); b alone; no unit,
    # no mean; c has no value, so no mean
    np.testing.assert_array_equal(between, [2.0, 2.0, 2.0, 5.0, np.nan, np.nan])
    np.testing.assert_array_equal(within, [-1.0, 1.0, np.nan, 0.0, np.nan, np.nan])


def test_every_verdict_says_where_it_was_judged(single):
    pathway, levels = _levels(single, TRUST)
    assert set(levels) == {c.id for c in CRITERIA}
    assert levels["strong_association"] == "recipients: the mediation model, errors clustered by site"
    assert levels["timeline"] == "recipients: the cross-lagged panel over the waves, errors clustered by site"
    assert levels["consistency"].startswith(f"across {pathway.verdict('consistency').evidence['units']}")
    assert levels["plausibility"].startswith("none:")
    # trust is individual-level; its competitor psychological safety enters its models as recipients' scores
    assert not any("team means" in note for note in pathway.notes)


def test_a_team_level_mechanism_is_judged_between_teams_by_every_criterion(single):
    pathway, levels = _levels(single, SAFETY)
    words = "between teams (team means of psych_safety)"
    judged = ("strong_association", "specificity", "experimental_manipulation", "timeline", "gradient")
    for criterion in judged:
        assert levels[criterion].startswith(words + ": "), criterion
    assert levels["consistency"].endswith(f"the mechanism {words}")
    # per-site paths cannot be estimated on team means: consistency compares subgroups
    assert pathway.verdict("consistency").evidence["units"] != "sites"
    notes = " ".join(pathway.notes)
    assert "because the model declares psych_safety at the team level" in notes
    assert "psych_safety's 29 unit means: ICC(1)" in notes


def test_the_team_level_paths_equal_ols_on_team_means(single, example_study):
    """The a and b paths of psychological safety in the scorecard's model equal statsmodels OLS on team means
    computed here from the wide table (the competitors stay the recipients' own scores)."""
    pathway, _ = _levels(single, SAFETY)
    mediation = pathway.results["mediation"]
    wide = example_study.wide()
    recipients = example_study.recipients.set_index("recipient_id")
    by_wave = {wave: part.set_index("recipient_id") for wave, part in wide.groupby("wave")}
    frame = pd.DataFrame(index=recipients.index)
    frame["x"] = (recipients["arm"] == "intensive").astype(float)
    unit = recipients["site"].astype(str) + "/" + recipients["team"].astype(str)
    for name, wave in (("psych_safety", "m6"), ("psych_safety", "baseline")):
        values = by_wave[wave]["psych_safety"].reindex(frame.index)
        frame[f"{name}@{wave}"] = values.groupby(unit).transform("mean")  # every member gets the team's
    for name in ("positive_emotion", "trust", "credibility"):
        frame[name] = by_wave["m6"][name].reindex(frame.index)
        frame[f"{name}@baseline"] = by_wave["baseline"][name].reindex(frame.index)
    frame["feasibility"] = by_wave["m12"]["feasibility"].reindex(frame.index)
    frame["feasibility@baseline"] = by_wave["baseline"]["feasibility"].reindex(frame.index)
    frame = frame.dropna()
    assert len(frame) == mediation.n
    baselines = [c for c in frame.columns if c.endswith("@baseline")]
    a_fit = sm.OLS(frame["psych_safety@m6"], sm.add_constant(frame[["x", *baselines]])).fit()
    mediators = ["psych_safety@m6", "positive_emotion", "trust", "credibility"]
    b_fit = sm.OLS(frame["feasibility"], sm.add_constant(frame[["x", *mediators, *baselines]])).fit()
    assert mediation.effect("a[psych_safety]").estimate == pytest.approx(a_fit.params["x"], abs=1e-10)
    assert mediation.effect("b[psych_safety]").estimate == pytest.approx(
        b_fit.params["psych_safety@m6"], abs=1e-10
    )
    assert mediation.effect("b[trust]").estimate == pytest.approx(b_fit.params["trust"], abs=1e-10)


def test_the_panel_takes_each_waves_team_means(single, example_study):
    """The timeline's cross-lagged panel regresses on team means of every wave: its path from psychological
    safety to feasibility equals OLS of feasibility on the previous wave's team means (the lag pairs pooled
    with one intercept each, the rows complete in both equations; `cross_lagged`'s documented model)."""
    pathway, _ = _levels(single, SAFETY)
    panel = pathway.results["panel"]
    wide = example_study.wide()
    recipients = example_study.recipients.set_index("recipient_id")
    unit = recipients["site"].astype(str) + "/" + recipients["team"].astype(str)
    waves = ["baseline", "m6", "m12"]
    tables = {}
    for order, wave in enumerate(waves):
        part = wide.loc[wide["wave"] == wave].set_index("recipient_id").reindex(recipients.index)
        means = part["psych_safety"].groupby(unit).transform("mean")
        tables[order] = pd.DataFrame(
            {
                "m": means,
                "y": part["feasibility"],
                "x": (recipients["arm"] == "intensive").astype(float),
                **{name: part[name] for name in ("positive_emotion", "trust", "credibility")},
            }
        )
    rows = []
    for order in (1, 2):
        earlier, later = tables[order - 1], tables[order]
        lag = pd.DataFrame(
            {
                "y": later["y"],
                "m": later["m"],  # both equations are fitted on the same rows
                "y_lag": earlier["y"],
                "m_lag": earlier["m"],
                "x": earlier["x"],
                **{f"{name}_lag": earlier[name] for name in ("positive_emotion", "trust", "credibility")},
                "wave": order,
            }
        )
        rows.append(lag)
    lagged = pd.concat(rows).dropna()
    design = pd.get_dummies(lagged.drop(columns=["y", "m"]), columns=["wave"], drop_first=True, dtype=float)
    fit = sm.OLS(lagged["y"], sm.add_constant(design)).fit()
    assert panel.effect("m_to_y").estimate == pytest.approx(fit.params["m_lag"], abs=1e-8)


def test_with_multilevel_every_criterion_reads_the_part_the_design_can_move(multilevel):
    pathway, levels = _levels(multilevel, TRUST)
    assert levels["strong_association"] == "between sites: the 2-1-1 multilevel mediation model"
    assert levels["experimental_manipulation"] == levels["strong_association"]
    # the strategy is assigned per site: the other criteria analyse the site means (the 2-1-1 between part)
    for criterion in ("specificity", "timeline", "gradient"):
        assert levels[criterion].startswith("between sites (site means of trust): "), criterion
        assert "(no random-effects model: " in levels[criterion]
    notes = " ".join(pathway.notes)
    assert "--multilevel with the strategy assigned per site (2-1-1)" in notes
    # a team-level mechanism has no random-effects model here (2-2-1): the reason is given, and the
    # criteria still read its team means
    safety, safety_levels = _levels(multilevel, SAFETY)
    assert "not 2-2-1" in " ".join(safety.notes)
    assert safety_levels["strong_association"].startswith("between teams (team means of psych_safety): ")


def test_a_system_level_mechanism_is_named_not_cut(example_copy):
    folder, _ = example_copy()
    model = (folder / "model.yaml").read_text(encoding="utf-8")
    start = model.index("  - id: psych_safety")
    end = model.index("level: team", start)
    (folder / "model.yaml").write_text(model[:end] + "level: system" + model[end + len("level: team") :])
    study = load_study(folder, show_progress=False)
    evidence = analyze(study, pathways=[SAFETY], **QUICK)
    pathway, levels = _levels(evidence, SAFETY)
    assert "the model declares psych_safety at the system level" in " ".join(pathway.notes)
    assert levels["strong_association"] == "recipients: the mediation model, errors clustered by site"


def test_the_report_shows_the_level_of_each_verdict(single, example_study):
    report = build_report(single, example_study, show_progress=False)
    assert report.html.count("Judged at: recipients: the mediation model") >= 1
    assert "Judged at: between teams (team means of psych_safety): the mediation model" in report.html
