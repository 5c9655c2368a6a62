"""The report holds every section; every number it prints is the number of report.json and the scorecard."""

from __future__ import annotations

import json
import math
import re

import pytest

from moclab.evidence import CRITERIA
from moclab.report.page import unsign_zeros

from .helpers import CREDIBILITY, SIM_TRUST, TRUST
from .html_tree import Element, parse

SECTIONS = (
    "summary",
    "scorecard",
    "model",
    "pathways",
    "data",
    "exclusions",
    "assumptions",
    "methods",
    "references",
)


def _reports(request: pytest.FixtureRequest, which: str):
    evidence = request.getfixturevalue(f"{which}_evidence")
    report = request.getfixturevalue(f"{which}_report")
    return evidence, report, parse(report.html)


def _json_round_trip(value):
    return json.loads(json.dumps(value, allow_nan=False))


def _effects(data: dict, pathway_id: str, result: str) -> dict[str, dict]:
    pathway = next(p for p in data["scorecard"]["pathways"] if p["id"] == pathway_id)
    return {effect["name"]: effect for effect in pathway["results"][result]["effects"]}


def _value(cell: Element, attribute: str = "data-value") -> float | None:
    text = cell.attrs.get(attribute)
    return float(text) if text else None


@pytest.mark.parametrize("which", ["example", "simulated"])
def test_the_report_has_every_section_and_a_working_table_of_contents(request, which):
    evidence, _report, page = _reports(request, which)
    ids = {element.attrs["id"] for element in page.iter() if element.attrs.get("id")}
    assert set(SECTIONS) <= ids
    links = [a.attrs["href"] for a in page.find("nav", class_="toc").find_all("a")]
    assert links and all(link.startswith("#") and link[1:] in ids for link in links)
    # every pathway has its entry in the contents and its own section
    pathways = page.find_all("section", class_="pathway")
    assert [s.attrs["data-pathway"] for s in pathways] == [p.id for p in evidence.pathways]
    assert {f"#{s.attrs['id']}" for s in pathways} <= set(links)
    assert page.find("title").text() == evidence.study["title"]
    assert page.find("h1").text() == evidence.study["title"]


@pytest.mark.parametrize("which", ["example", "simulated"])
def test_the_matrix_and_the_verdicts_are_the_scorecards(request, which):
    evidence, _report, page = _reports(request, which)
    matrix = page.find("table", class_="scorecard")
    headers = [th.text() for th in matrix.find("thead").find_all("th")][1:]
    assert headers == ["conclusion", *[criterion.name for criterion in CRITERIA]]
    rows = matrix.find("tbody").find_all("tr")
    assert [row.attrs["data-pathway"] for row in rows] == [p.id for p in evidence.pathways]
    conclusions = page.find("div", class_="conclusions").find_all("article")
    for row, article, pathway in zip(rows, conclusions, evidence.pathways, strict=True):
        # the page leads with each pathway's conclusion: its grade, statement and assumptions
        grade_cell = row.find_all("td")[0]
        assert grade_cell.attrs["data-grade"] == pathway.conclusion.grade
        assert article.attrs["data-grade"] == pathway.conclusion.grade
        assert unsign_zeros(pathway.conclusion.statement) in article.text()
        statuses = [
            tr.attrs["data-status"] for tr in article.find("table", class_="assumptions").find_all("tr")[1:]
        ]
        assert statuses == [item.status for item in pathway.conclusion.assumptions]
        cells = row.find_all("td")[1:]
        assert [c.attrs["data-criterion"] for c in cells] == [c.id for c in CRITERIA]
        for cell, verdict in zip(cells, pathway.verdicts, strict=True):
            assert cell.attrs["data-status"] == verdict.status.value
            # readable without colour: the status in words, the reason and the rule on expanding
            assert verdict.status.value in cell.find("summary").text()
            detail = cell.find("div", class_="cell-detail").text()
            reason = unsign_zeros(verdict.reason)
            assert reason in detail and verdict.rule in detail
            assert cell.attrs["title"] == reason
        section = page.find("section", data_pathway=pathway.id)
        cards = section.find_all("article", class_="verdict")
        assert [(c.attrs["data-criterion"], c.attrs["data-status"]) for c in cards] == [
            (v.criterion, v.status.value) for v in pathway.verdicts
        ]
        for card, verdict in zip(cards, pathway.verdicts, strict=True):
            text = card.text()
            assert unsign_zeros(verdict.reason) in text and verdict.rule in text
            if verdict.design_change and verdict.status.value != "met":
                assert unsign_zeros(verdict.design_change) in text
            if verdict.headline():
                headline = card.find("p", class_="headline")
                assert _value(headline, "data-estimate") == verdict.estimate
                assert _value(headline, "data-low") == verdict.interval[0]
                assert _value(headline, "data-high") == verdict.interval[1]


@pytest.mark.parametrize("which", ["example", "simulated"])
def test_every_number_in_the_estimate_tables_is_the_number_in_report_json(request, which):
    _evidence, report, page = _reports(request, which)
    data = _json_round_trip(report.data)
    checked = 0
    for section in page.find_all("section", class_="pathway"):
        pathway_id = section.attrs["data-pathway"]
        for table in section.find_all("table", class_="effects"):
            effects = _effects(data, pathway_id, table.attrs["data-result"])
            for row in table.find("tbody").find_all("tr"):
                effect = effects[row.attrs["data-effect"]]
                cells = row.find_all("td")
                assert _value(cells[1]) == effect["estimate"]
                assert _value(cells[2]) == effect["se"]
                assert _value(cells[3], "data-low") == effect["ci_low"]
                assert _value(cells[3], "data-high") == effect["ci_high"]
                assert _value(cells[4]) == effect["p"]
                checked += 1
    assert checked > 20


def test_the_printed_numbers_are_the_rounded_values(example_report, example_evidence):
    page = parse(example_report.html)
    section = page.find("section", data_pathway=TRUST)
    row = section.find("table", data_result="mediation").find("tr", data_effect="indirect[trust]")
    effect = example_evidence.scorecard.pathway(TRUST).results["mediation"].effect("indirect[trust]")
    cells = row.find_all("td")
    assert cells[1].text() == f"{effect.estimate:.3f}"
    assert cells[3].text() == f"[{effect.ci_low:.3f}, {effect.ci_high:.3f}]"
    # one formatter everywhere: no signed zero, no float printed with more than its row's decimals
    text = re.sub(r"<svg\b.*?</svg>", "", example_report.html, flags=re.DOTALL)  # matplotlib's own labels
    assert re.search(r"(?<![\w.])-0\.0+(?![\d.])", text) is None
    numbers = [cell.text() for cell in page.find_all("td", class_="num")]
    assert all(len(text.split(".")[-1]) <= 5 for text in numbers if text[:1].isdigit() or text[:1] == "-")


def test_the_figures_are_inline_svg(simulated_report, simulated_evidence):
    page = parse(simulated_report.html)
    model = page.find("figure", class_="pathway-model")
    assert model.find("svg").attrs["role"] == "img"
    for pathway in simulated_evidence.pathways:
        section = page.find("section", data_pathway=pathway.id)
        kinds = {figure.attrs["class"].split()[0] for figure in section.find_all("figure")}
        assert kinds == {"path-diagram", "forest-plot", "dose-response", "cross-lagged"}
        assert len(section.find_all("svg")) == 5  # two dose-response plots
    assert all(figure.svg is not None for figure in simulated_report.figures)
    # ids are unique on the page although every figure numbers its elements the same way
    ids = [element.attrs["id"] for element in page.iter() if element.attrs.get("id")]
    assert len(ids) == len(set(ids))


def test_the_pathway_model_is_coloured_by_verdict(simulated_report, simulated_evidence):
    from moclab.report.figures import STATUS_COLOURS

    svg = parse(simulated_report.html).find("figure", class_="pathway-model").find("svg")
    strokes = {path.attrs.get("stroke") for path in svg.find_all("path")}
    statuses = {p.verdict("strong_association").status for p in simulated_evidence.pathways}
    assert {STATUS_COLOURS[status] for status in statuses} <= strokes
    notes = " ".join(text.text() for text in svg.find_all("text"))
    for pathway in simulated_evidence.pathways:
        met = sum(v.status.value == "met" for v in pathway.verdicts)
        assert f"acceptability {met}/7 met" in notes


def test_consistency_across_sites_shows_the_meta_analysis(simulated_report, simulated_evidence):
    page = parse(simulated_report.html)
    section = page.find("section", data_pathway=SIM_TRUST)
    meta = simulated_evidence.scorecard.pathway(SIM_TRUST).results["consistency"]
    facts = section.find("dl", data_result="consistency")
    values = [_value(dd) for dd in facts.find_all("dd") if dd.attrs.get("data-value")]
    assert values[:4] == [meta.pooled.estimate, meta.tau2, meta.i2, meta.q]
    prediction = facts.find_all("dd")[-1]
    assert (_value(prediction, "data-low"), _value(prediction, "data-high")) == tuple(meta.prediction)
    units = section.find("table", class_="units").find("tbody").find_all("tr")
    assert [row.find("th").text() for row in units] == list(meta.studies["label"].astype(str))
    assert len(units) == meta.k >= 3


def test_the_thin_study_says_what_could_not_be_run(thin_evidence):
    from moclab.report import build_report

    study, evidence = thin_evidence
    report = build_report(evidence, study, show_progress=False)
    page = parse(report.html)
    section = page.find_all("section", class_="pathway")[0]
    text = section.text()
    assert "No cross-lagged panel model could be run" in text
    assert "No analysis of consistency could be run" in text
    statuses = {card.attrs["data-status"] for card in section.find_all("article", class_="verdict")}
    assert "not testable" in statuses
    assert "not testable" in page.find("table", class_="scorecard").text()


def test_the_data_summary_is_the_studys(example_report, example_study):
    summary = example_study.describe()
    page = parse(example_report.html)
    data = page.find("section", id="data")
    facts = [dd.attrs.get("data-value") for dd in data.find("dl").find_all("dd")]
    assert facts[:2] == [str(summary.n_recipients), str(summary.n_clusters)]
    rows = data.find("table", class_="measures").find("tbody").find_all("tr")
    assert [row.attrs["data-measure"] for row in rows] == list(summary.measures["measure"])
    first = summary.measures.iloc[0]
    assert _value(rows[0].find_all("td")[1]) == first["mean"]
    assert example_report.data["data_summary"] == _json_round_trip(summary.to_dict())


def test_every_exclusion_is_listed(example_report, example_evidence):
    page = parse(example_report.html)
    table = page.find("table", class_="exclusions")
    text = table.text()
    for pathway in example_evidence.pathways:
        mediation = pathway.results["mediation"]
        expected = f"{mediation.n_dropped} of {mediation.n + mediation.n_dropped} recipients left out"
        assert expected in text
        for note in pathway.notes:
            assert note in text
    records = [e for e in example_report.data["exclusions"] if e["analysis"].startswith("strong association")]
    assert [r["rows_dropped"] for r in records] == [
        p.results["mediation"].n_dropped for p in example_evidence.pathways
    ]
    shared = page.find("section", id="exclusions").text()
    for pathway in example_evidence.pathways:
        for line in pathway.assumptions:
            assert line in shared


def test_the_methods_say_what_was_run(example_report, example_evidence):
    methods = parse(example_report.html).find("section", id="methods").text()
    settings = example_evidence.settings
    assert f"from {settings.n_boot:,} resamples" in methods and f"seed {settings.seed}" in methods
    assert "percentile bootstrap intervals" in methods and "(Efron & Tibshirani, 1993)" in methods
    assert "(Cinelli & Hazlett, 2020)" in methods  # the robustness value of the mechanism → outcome link
    assert "Preacher & Hayes, 2008" in methods and "Kazdin, 2007" in methods
    assert "Knapp & Hartung, 2003" in methods  # the two subgroups are pooled with the adjustment
    assert "__cluster__" not in example_report.html
    for line in {r.info["method"] for p in example_evidence.pathways for r in [p.results["mediation"]]}:
        assert line.replace("__cluster__", "site") in methods
    assert f"moclab analyze {example_evidence.study['path']} --seed {settings.seed} --n-boot 200" in methods
    references = parse(example_report.html).find("section", id="references").text()
    for author in ("Kazdin, A. E.", "Lewis, C. C.", "Preacher, K. J.", "Efron, B.", "Cinelli, C.", "Metz AJ"):
        assert author in references
    software = example_report.data["methods"]["software"]
    assert {"moclab", "Python", "numpy", "scipy", "statsmodels"} <= set(software)


def test_report_json_round_trips_and_holds_the_scorecard(example_report, example_evidence):
    text = example_report.json_text()

    def no_constants(name: str) -> float:
        raise AssertionError(f"report.json holds {name}")

    data = json.loads(text, parse_constant=no_constants)
    assert data == example_report.data
    assert data["format"] == "moclab-report/1"
    evidence = _json_round_trip(example_evidence.to_dict())
    for key in ("study", "settings", "scorecard", "warnings", "moclab"):
        assert data[key] == evidence[key]
    assert data["scorecard"]["matrix"][TRUST]["strong_association"] == "met"
    assert set(data["scorecard"]["matrix"]) == {TRUST, CREDIBILITY}
    kinds = [figure["kind"] for figure in data["figures"]]
    assert kinds[0] == "pathway-model" and all(figure["drawn"] for figure in data["figures"])


def test_a_figure_that_fails_is_reported_in_its_place(example_evidence, example_study, monkeypatch):
    from moclab.analysis import CrossLaggedResult
    from moclab.report import build_report

    def broken(self, ax=None, digits=2):
        raise ValueError("cannot draw $this$")

    monkeypatch.setattr(CrossLaggedResult, "plot", broken)
    report = build_report(example_evidence, example_study, show_progress=False)
    failed = [figure for figure in report.figures if figure.error]
    assert [figure.kind for figure in failed] == ["cross-lagged", "cross-lagged"]
    assert failed[0].error == "cannot draw $this$"
    page = parse(report.html)
    notes = page.find_all("div", class_="figure-error")
    assert len(notes) == 2 and "cannot draw $this$" in notes[0].text()
    assert next(f for f in report.data["figures"] if not f["drawn"])["error"] == "cannot draw $this$"


def test_without_the_study_folder_the_data_summary_is_left_out(example_evidence):
    from dataclasses import replace

    from moclab.report import build_report

    gone = replace(example_evidence, study={**example_evidence.study, "path": "/nowhere/study"})
    report = build_report(gone, show_progress=False)
    data = parse(report.html).find("section", id="data").text()
    assert "could not be read again" in data
    assert report.data["data_summary"] is None
    assert parse(report.html).find_all("figure", class_="pathway-model") == []
    assert math.isfinite(report.data["scorecard"]["pathways"][0]["verdicts"][0]["estimate"])


def test_sites_left_out_of_the_per_site_models_are_listed(simulated_evidence):
    from dataclasses import replace

    import numpy as np
    import pandas as pd

    from moclab.analysis import cluster_indirect_effects
    from moclab.report.content import exclusions

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"site": np.repeat(["S1", "S2", "S3", "S4"], 40), "x": rng.integers(0, 2, 160)})
    frame.loc[frame["site"] == "S4", "x"] = 1.0  # the strategy does not vary in S4: no model there
    frame["m"] = 0.5 * frame["x"] + rng.normal(size=160)
    frame["y"] = 0.4 * frame["m"] + rng.normal(size=160)
    sites = cluster_indirect_effects(frame, x="x", m="m", y="y", cluster="site")
    assert sites.dropped == ("S4",)
    first = simulated_evidence.pathways[0]
    changed = replace(first, results={**first.results, "site_effects": sites})
    evidence = replace(
        simulated_evidence, scorecard=replace(simulated_evidence.scorecard, pathways=(changed,))
    )
    found = [e for e in exclusions(evidence) if e["sites_dropped"]]
    assert found == [
        {
            "pathway": first.id,
            "analysis": "consistency (per-site models)",
            "rows_dropped": 0,
            "rows_total": 160,
            "sites_dropped": ["S4"],
            "text": "1 site(s) left out: S4",
        }
    ]


def test_the_joint_display_sets_interviews_beside_the_estimates(example_study, simulated_report):
    from moclab.evidence import QualitativeEvidence, QualitativeQuote, analyze, joint_display
    from moclab.report import build_report

    def support(pathway):
        return QualitativeEvidence(
            status="supports",
            summary="3 of 4 interviews tell the mechanism before the outcome",
            counts={"interviews": 4, "mechanism_first": 3},
            quotes=(
                QualitativeQuote("R03", "They listened <first>, so I tried it.", "interview 3", ("Trust",)),
            ),
        )

    # two pathways are enough for a row each (the joint display's numbers come from the analyses, which have
    # tests of their own)
    evidence = analyze(
        example_study,
        pathways=[TRUST, CREDIBILITY],
        qualitative_support=support,
        n_boot=200,
        seed=3,
        show_progress=False,
    )
    page = build_report(evidence, example_study, show_progress=False).html
    start = page.index('<section id="joint-display"')
    section = page[start : page.index("</section>", start)]
    expected = joint_display(evidence)
    rows = section.count("<tr data-pathway=")
    assert rows == len(expected) == len(evidence.pathways)
    assert section.count("<td>3 of 4</td>") == rows
    assert "They listened &lt;first&gt;, so I tried it." in section  # escaped
    first = expected.iloc[0]
    assert f'data-pathway="{first.pathway}"' in section
    assert 'href="#joint-display"' in page  # in the table of contents
    # a study without coded interviews has no joint display
    assert 'id="joint-display"' not in simulated_report.html
