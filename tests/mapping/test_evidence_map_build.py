"""The evidence map on a hand-made folder: exact counts, filters, merging across teams, duplicates, gaps, and
the files it writes (offline HTML, map.json, records.csv)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from moclab.errors import MoclabError, ValidationError
from moclab.evidence import analyze
from moclab.evidence.records import RECORDS_FOLDER, records_from_evidence, write_records
from moclab.mapping import build_map, collect_records, example_path, write_map
from moclab.report import write_report

#: A record as its reader types it: study, pathway nodes, verdicts (no estimates: not needed for counts).
TEMPLATE = """\
kind: moclab-evidence-record
format: 1
study: {{id: {study}, title: "{title}", synthetic: true{setting}}}
pathway:
  strategy: {strategy}
  mechanisms: [{mechanism}]
  outcome: {outcome}
criteria:
{criteria}
provenance: {{source: hand-entered, citation: "a test record, not a real study"{doi}}}
"""
COACHING = "{id: coaching, label: Coaching, refs: [eric:provide-ongoing-consultation]}"
TRAINING = "{id: training, label: Training, refs: [eric:conduct-educational-meetings]}"
TRUST = "{id: trust, label: Trust, refs: [recipient-pathway:trust], level: individual}"
ADOPTION = "{id: adoption, label: Adoption, refs: [proctor:adoption]}"
FIDELITY = "{id: fidelity, label: Fidelity, refs: [proctor:fidelity]}"


def write(folder: Path, name: str, *, study, strategy, mechanism, outcome, criteria, setting=None, doi=None,
          title=None) -> Path:  # fmt: skip
    lines = "\n".join(f"  {criterion}: {{status: {status}}}" for criterion, status in criteria.items())
    text = TEMPLATE.format(
        study=study,
        title=title or f"Study {study}",
        setting=f", setting: {setting}" if setting else "",
        strategy=strategy,
        mechanism=mechanism,
        outcome=outcome,
        criteria=lines,
        doi=f", doi: {doi}" if doi else "",
    )
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three studies of two teams, a copy of one file, a second entry of one study, and a model file."""
    ours, theirs = tmp_path / "records" / "ours", tmp_path / "records" / "theirs"
    write(
        ours,
        "s1-adoption.yaml",
        study="s1",
        strategy=COACHING,
        mechanism=TRUST,
        outcome=ADOPTION,
        setting="primary care",
        doi="10.1234/s1.test",
        criteria={"strong_association": "met", "timeline": "partly met", "gradient": "not testable"},
    )
    write(
        ours,
        "s1-fidelity.yaml",
        study="s1",
        strategy=COACHING,
        mechanism=TRUST,
        outcome=FIDELITY,
        setting="primary care",
        doi="10.1234/s1.test",
        criteria={"strong_association": "partly met", "timeline": "met", "specificity": "not met"},
    )
    # another team calls trust and coaching by other ids, with the same catalog entries
    write(
        theirs,
        "s2.yaml",
        study="s2",
        setting="child welfare",
        strategy="{id: facilitator_coaching, refs: [eric:provide-ongoing-consultation]}",
        mechanism="{id: trust_in_coach, label: Trust in the coach, refs: [recipient-pathway:trust]}",
        outcome="{id: uptake, refs: [proctor:adoption]}",
        criteria={"strong_association": "not met", "timeline": "not met"},
    )
    write(
        theirs,
        "s3.yaml",
        study="s3",
        strategy=TRAINING,
        mechanism="{id: knowledge, level: individual}",
        outcome=ADOPTION,
        criteria={"strong_association": "met", "plausibility": "met"},
    )
    # the same study as s1 (its DOI, in capitals), entered again by the other team with another verdict
    write(
        theirs,
        "smith-2021.yaml",
        study="smith-2021",
        strategy=COACHING,
        mechanism=TRUST,
        outcome=ADOPTION,
        doi="10.1234/S1.TEST",
        criteria={"strong_association": "not met"},
    )
    shutil.copy(theirs / "s2.yaml", theirs / "zz-copy-of-s2.yaml")
    (ours / "model.yaml").write_text("model: not-a-record\nnodes: []\n", encoding="utf-8")
    return tmp_path / "records"  # fmt: skip


def test_the_matrix_counts_studies_exactly(folder):
    evidence_map = build_map([folder])
    assert [m.key for m in evidence_map.mechanisms] == ["id:knowledge", "ref:recipient-pathway:trust"]
    assert len(evidence_map.entries) == 4 and len(evidence_map.studies) == 3
    trust = evidence_map.matrix()["ref:recipient-pathway:trust"]

    def counts(met=0, partly=0, not_met=0, untestable=0, unreported=0):
        return {"met": met, "partly_met": partly, "not_met": not_met, "not_testable": untestable,
                "not_reported": unreported, "judged": met + partly + not_met,
                "studies": met + partly + not_met + untestable + unreported}  # fmt: skip

    # s1 counts once, with the best verdict of its two pathways through trust; s2 merged in by references
    assert trust["strong_association"] == counts(met=1, not_met=1)
    assert trust["timeline"] == counts(met=1, not_met=1)
    assert trust["specificity"] == counts(not_met=1, unreported=1)
    assert trust["gradient"] == counts(untestable=1, unreported=1)
    assert trust["plausibility"] == counts(unreported=2)
    # no record has estimates: every pathway's consistency across studies is not testable
    assert trust["consistency_across_studies"] == counts(untestable=2)
    knowledge = evidence_map.matrix()["id:knowledge"]
    assert knowledge["strong_association"] == counts(met=1) and knowledge["plausibility"] == counts(met=1)
    assert evidence_map.to_frame().loc["Trust", "Strong association"] == "1/2"
    # map.json holds the same numbers
    data = json.loads(json.dumps(evidence_map.to_dict()))
    assert data["matrix"] == evidence_map.matrix()
    assert data["counts"] == {"records": 4, "studies": 3, "synthetic_studies": 3, "illustrative_studies": 0,
                              "mechanisms": 2, "pathways": 3, "duplicates": 2, "skipped": 1}  # fmt: skip


def test_filters_count_only_the_matching_records(folder):
    evidence_map = build_map([folder])
    trust = "ref:recipient-pathway:trust"
    adoption = evidence_map.matrix(outcome="ref:proctor:adoption")[trust]
    assert adoption["timeline"]["met"] == 0 and adoption["timeline"]["partly_met"] == 1  # s1 through adoption
    assert adoption["specificity"]["not_reported"] == 2
    primary = evidence_map.matrix(setting="primary care")
    assert (
        primary[trust]["strong_association"]["studies"] == 1
        and primary["id:knowledge"]["timeline"]["studies"] == 0
    )
    both = evidence_map.select(strategy="ref:eric:provide-ongoing-consultation", setting="child welfare")
    assert [entry.record.study_id for entry in both] == ["s2"]
    assert evidence_map.select(level="not stated")[0].record.study_id == "s2"
    values = evidence_map.filter_values()
    assert [item["label"] for item in values["strategy"]] == ["Coaching", "Training"]
    assert [item["value"] for item in values["setting"]] == ["child welfare", "primary care", "not stated"]
    with pytest.raises(KeyError, match="no filter country"):
        evidence_map.select(country="x")


def test_records_of_other_teams_merge_and_duplicates_are_left_out_once(folder):
    evidence_map = build_map([folder])
    trust = next(m for m in evidence_map.mechanisms if m.key == "ref:recipient-pathway:trust")
    assert trust.ids == ("trust", "trust_in_coach") and trust.label == "Trust"
    duplicates = {Path(d.dropped.source).name: d for d in evidence_map.duplicates}
    assert sorted(duplicates) == ["smith-2021.yaml", "zz-copy-of-s2.yaml"]
    copy = duplicates["zz-copy-of-s2.yaml"]  # the first file in path order is kept
    assert copy.identical and Path(copy.kept.source).name == "s2.yaml"
    entered_again = duplicates["smith-2021.yaml"]
    assert Path(entered_again.kept.source).name == "s1-adoption.yaml"
    assert "DOI 10.1234/s1.test" in entered_again.why
    assert entered_again.differences == (
        "strong association: met vs not met",
        "timeline: partly met vs not reported",
        "gradient: not testable vs not reported",
    )
    assert [Path(name).name for name, _ in evidence_map.skipped] == ["model.yaml"]


def test_the_gaps_are_the_criteria_never_met_and_the_links_never_tested(folder):
    gaps = build_map([folder]).gaps()
    assert [item["id"] for item in gaps["criteria_never_met"]] == [
        "specificity", "consistency", "experimental_manipulation", "gradient", "consistency_across_studies",
    ]  # fmt: skip
    assert [(link["strategy_label"], link["mechanism_label"]) for link in gaps["untested_links"]] == [
        ("Coaching", "knowledge"),
        ("Training", "Trust"),
    ]
    assert "gradient" in [item["id"] for item in gaps["criteria_never_judged"]]


def test_a_broken_record_stops_the_map_with_every_problem(folder, monkeypatch):
    monkeypatch.chdir(folder)
    (folder / "ours" / "broken.yaml").write_text(
        "kind: moclab-evidence-record\nformat: 2\nstudy: {id: x, title: X, synthetic: true}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as raised:
        build_map([folder])
    assert [str(p) for p in raised.value.problems] == [
        "ours/broken.yaml:1:1: 'pathway' is required but missing",
        "ours/broken.yaml:1:1: 'criteria' is required but missing",
        "ours/broken.yaml:1:1: 'provenance' is required but missing",
        "ours/broken.yaml:2:1: 'format' must be 1",
    ]
    with pytest.raises(MoclabError, match="no such folder"):
        build_map([folder / "missing"])


def test_report_folders_are_read_from_their_records_or_their_report(example_study, tmp_path):
    evidence = analyze(example_study, pathways=["isp_support__trust__acceptability"], n_boot=100, seed=4,
                       show_progress=False)  # fmt: skip
    with_records = tmp_path / "reports" / "with-records"
    write_report(evidence, with_records, study=example_study, show_progress=False)
    write_records(records_from_evidence(evidence, example_study), with_records / RECORDS_FOLDER)
    only_report = tmp_path / "reports" / "only-report"
    write_report(evidence, only_report, study=example_study, show_progress=False)
    collected = collect_records([tmp_path / "reports"])
    assert sorted(r.origin for r in collected.records) == ["moclab analyze", "moclab report"]
    assert [why for _, why in collected.skipped] == [
        f"its evidence records in {with_records / RECORDS_FOLDER} are read"
    ]
    # the report's record and the analysis's describe the same pathway; the study ids differ (only one has
    # the data hash), so both are kept, each once
    evidence_map = build_map([tmp_path / "reports"])
    assert len(evidence_map.entries) == 2 and not evidence_map.duplicates


def test_the_written_map_is_offline_and_holds_its_json_and_csv(folder, tmp_path):
    evidence_map = build_map([folder])
    page = write_map(evidence_map, tmp_path / "map")
    html = page.read_text(encoding="utf-8")
    assert not re.findall(r"https?://", html)  # no address at all: nothing to load, nothing to leak
    assert "<script" not in html and "default-src 'none'" in html
    assert html.count('class="mark mark-met"') == sum(
        cells[column]["met"] for cells in evidence_map.matrix().values() for column in cells
    )
    data = json.loads((tmp_path / "map" / "map.json").read_text(encoding="utf-8"))
    assert data["format"] == "moclab-evidence-map/1" and data["counts"]["records"] == 4
    assert [r["id"] for r in data["records"]] == [e.record.id for e in evidence_map.entries]
    table = pd.read_csv(tmp_path / "map" / "records.csv")
    assert list(table["record"]) == [e.record.id for e in evidence_map.entries]
    # written again over its own output; refused over someone else's files
    write_map(evidence_map, tmp_path / "map")
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(MoclabError, match="holds files moclab did not write"):
        write_map(evidence_map, tmp_path / "theirs")


def test_the_example_map_is_what_its_readme_says():
    evidence_map = build_map([example_path()])
    studies = {entry.study: entry.record for entry in evidence_map.entries}
    assert len(studies) == 7 and sum(r.synthetic for r in studies.values()) == 6
    assert sum(r.illustrative for r in studies.values()) == 1
    assert [Path(d.dropped.source).parent.name for d in evidence_map.duplicates] == ["other-team"]
    pooled = {item.label: item for item in evidence_map.consistency}
    trust = pooled["Implementation support from ISPs → Trust → Acceptability of implementation science"]
    assert trust.meta.k == 5 and [r.title for r, _ in trust.refused] == ["Support-dose study E (simulated)"]
    credibility = pooled[
        "Implementation support from ISPs → Credibility of the ISPs → Acceptability of implementation science"
    ]
    assert credibility.verdict.status.value == "not met"  # the null mechanism of the simulation


def test_the_shipped_simulated_records_are_what_the_simulator_and_analyze_make(tmp_path):
    """The example's records are made, not typed: simulating and judging one study again (its seed fixed)
    gives the shipped records, up to the time they were written."""
    from moclab.mapping.examples import EXAMPLE_STUDIES, build_example

    study = next(s for s in EXAMPLE_STUDIES if s["title"].startswith("Two-wave trial C"))
    written = build_example(tmp_path, studies=[study])
    for path in written:
        shipped = example_path() / path.relative_to(tmp_path)
        made, kept = (json.loads(p.read_text(encoding="utf-8")) for p in (path, shipped))
        for record in (made, kept):
            del record["provenance"]["created"]
        assert made == kept, path.name
