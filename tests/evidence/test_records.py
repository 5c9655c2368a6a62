"""Evidence records: the schema, located errors, analyze → record → file → record round trips, provenance."""

from __future__ import annotations

import copy
import json
import shutil

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.errors import MoclabError, ValidationError
from moclab.evidence import analyze
from moclab.evidence.records import (
    RECORDS_FOLDER,
    check_record,
    read_record,
    read_records,
    record_from_data,
    record_schema,
    records_frame,
    records_from_evidence,
    records_from_report,
    study_data_hash,
    write_records,
)
from moclab.mapping import example_path
from moclab.report import write_report
from moclab.study import example_path as example_study_path
from moclab.study import load_study

TRUST = "isp_support__trust__acceptability"
CREDIBILITY = "isp_support__credibility__acceptability"


@pytest.fixture(scope="module")
def analysed(example_study):
    """Two pathways of the example study, judged once for the module (small resamples: the record, not the
    statistics, is under test)."""
    return analyze(example_study, pathways=[TRUST, CREDIBILITY], n_boot=100, seed=5, show_progress=False)


def _minimal(**changes) -> dict:
    record = {
        "kind": "moclab-evidence-record",
        "format": 1,
        "study": {
            "id": "demo",
            "title": "Illustration, not a real study",
            "synthetic": False,
            "illustrative": True,
        },
        "pathway": {
            "strategy": {"id": "coaching", "refs": ["eric:33"]},
            "mechanisms": [{"id": "trust", "refs": ["recipient-pathway:trust"]}],
            "outcome": {"id": "adoption", "refs": ["proctor:adoption"]},
        },
        "criteria": {"timeline": {"status": "met"}},
        "provenance": {"source": "hand-entered"},
    }
    record.update(changes)
    return record


# -- the schema -------------------------------------------------------------------------------------------


def test_the_schema_is_a_valid_versioned_json_schema():
    schema = record_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["format"] == {"const": 1, "description": "The version of this format."}
    assert schema["properties"]["kind"]["const"] == "moclab-evidence-record"
    # every criterion of the scorecard has its place, and nothing else does
    from moclab.evidence import CRITERIA

    assert set(schema["$defs"]["criteria"]["properties"]) == {c.id for c in CRITERIA}
    # other teams validate with any JSON Schema library: the shipped example records pass plain jsonschema
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((example_path() / "simulated").rglob("*.json")):
        assert not list(validator.iter_errors(json.loads(path.read_text(encoding="utf-8")))), path


def test_a_minimal_hand_entered_record_is_filled_in_and_its_references_resolved():
    record = record_from_data(_minimal())
    assert record.id == "demo/coaching__trust__adoption"
    assert record.strategy["refs"] == ["eric:facilitation"]  # eric:33 is Facilitation (Powell et al. 2015)
    assert record.pathway["direction"] == "positive"
    assert record.verdict("timeline") == {"status": "met", "judged_by": "reader"}
    assert record.status("gradient") is None  # not reported


# -- located errors ---------------------------------------------------------------------------------------

BROKEN_YAML = """\
kind: moclab-evidence-record
format: 1
study:
  id: smith 2021
  title: Smith and colleagues
pathway:
  strategy: {id: coaching, refs: [eric:facilitaton]}
  mechanisms: [{id: trust}]
  outcome: {id: adoption, levle: team}
estimates:
  indirect: {estimate: 0.2, interval: [0.3, 0.1], scale: raw}
criteria:
  timline: {status: met}
  gradient: {status: mett}
provenance:
  source: hand-entered
"""


def test_a_broken_yaml_record_gets_every_problem_at_its_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "smith.yaml").write_text(BROKEN_YAML, encoding="utf-8")
    with pytest.raises(ValidationError) as raised:
        read_record(tmp_path / "smith.yaml")
    shown = [str(problem) for problem in raised.value.problems]
    assert shown == [
        "smith.yaml:3:1: 'study.synthetic' is required but missing",
        "smith.yaml:4:3: 'study.id': expected an id of letters, digits, '-', '_' and '.' (starting with a "
        'letter or digit), got "smith 2021"',
        "smith.yaml:7:35: 'pathway.strategy.refs.0': catalog reference 'eric:facilitaton' not found (did you "
        "mean 'eric:facilitation'?)",
        "smith.yaml:9:27: unknown key 'levle' in 'pathway.outcome' (did you mean 'level'?)",
        "smith.yaml:11:29: 'estimates.indirect.interval': the interval [0.3, 0.1] has its low end last "
        "(write [low, high])",
        "smith.yaml:13:3: unknown key 'timline' in 'criteria' (did you mean 'timeline'?)",
        "smith.yaml:14:14: 'criteria.gradient.status': \"mett\" is not one of met, partly met, not met, not "
        "testable (did you mean 'met'?)",
        "smith.yaml:15:1: a hand-entered record cites its study (provenance.citation or provenance.doi), or "
        "says it describes no real study (study.illustrative: true)",
    ]


def test_a_broken_json_record_is_located_by_json_pointer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    record = _minimal(provenance={"source": "moclab analyze", "data_hash": "md5:abc"})
    record["study"]["synthetic"] = "no"
    record["pathway"]["mechanisms"][0]["refs"] = ["not a reference"]
    record["criteria"]["timeline"]["interval"] = [0.1]
    (tmp_path / "r.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ValidationError) as raised:
        read_record(tmp_path / "r.json")
    shown = [str(problem) for problem in raised.value.problems]
    assert shown == [
        "r.json, '/criteria/timeline/interval': 'criteria.timeline.interval': expected an interval: two "
        "numbers [low, high], got [0.1]",
        "r.json, '/pathway/mechanisms/0/refs/0': 'pathway.mechanisms.0.refs.0': expected a catalog reference "
        'framework:entry, got "not a reference"',
        "r.json, '/provenance': 'provenance.moclab_version' is required but missing",
        "r.json, '/provenance/data_hash': 'provenance.data_hash': expected sha256: and 64 hexadecimal "
        'digits, got "md5:abc"',
        "r.json, '/study/synthetic': 'study.synthetic': expected boolean, got \"no\"",
    ]


def test_a_file_that_is_no_json_or_yaml_says_where(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cut.json").write_text(
        '{"kind": "moclab-evidence-record",\n "format": 1,,}', encoding="utf-8"
    )
    (tmp_path / "tabs.yaml").write_text("kind: x\n\tformat: 1\n", encoding="utf-8")
    with pytest.raises(ValidationError) as raised:
        read_records([tmp_path / "cut.json", tmp_path / "tabs.yaml"])
    shown = [str(problem) for problem in raised.value.problems]
    assert shown[0].startswith("cut.json:2:14: malformed JSON: Expecting property name")
    assert shown[1].startswith("tabs.yaml:2:1: malformed YAML")


def test_a_hand_entered_record_needs_a_citation_a_doi_or_to_say_it_is_illustrative():
    for provenance in ({"citation": "Smith J, et al. 2021."}, {"doi": "10.1186/s13012-015-0209-1"}):
        record = _minimal(provenance={"source": "hand-entered", **provenance})
        record["study"].pop("illustrative")
        assert check_record(record, "r.json") == []
    record = _minimal()
    record["study"].pop("illustrative")
    assert [p.message for p in check_record(record, "r.json")] == [
        "a hand-entered record cites its study (provenance.citation or provenance.doi), or says it describes "
        "no real study (study.illustrative: true)"
    ]
    assert check_record(_minimal(provenance={"source": "hand-entered", "doi": "doi:10.1/x"}), "r.json")[
        0
    ].field == ("/provenance/doi")


def test_yaml_dates_are_read_as_iso_text():
    record = read_record(example_path() / "hand-entered" / "illustrative-coaching-record.yaml")
    assert record.provenance["entered_on"] == "2025-06-01"
    assert record.illustrative and not record.synthetic
    # the record uses every field of the format: every key the schema names for the record and its parts
    schema = record_schema()
    assert set(record.data) == set(schema["properties"])
    for part in ("study", "pathway", "design", "estimates", "conclusion", "provenance"):
        assert set(record.data[part]) == set(schema["$defs"][part]["properties"]), part
    assert set(record.data["criteria"]) == set(schema["$defs"]["criteria"]["properties"])


# -- records of an analysis -------------------------------------------------------------------------------


def test_analyze_records_carry_the_numbers_of_the_analysis(analysed, example_study):
    records = records_from_evidence(analysed, example_study, setting="primary care")
    assert [r.pathway_id for r in records] == [TRUST, CREDIBILITY]
    record, pathway = records[0], analysed.scorecard.pathway(TRUST)
    mediation = pathway.results["mediation"]
    indirect = mediation.effect("indirect[trust]")
    assert record.estimates["indirect"] == {
        "estimate": indirect.estimate,
        "se": indirect.se,
        "interval": [indirect.ci_low, indirect.ci_high],
        "method": "percentile bootstrap",
        "scale": "raw",
    }
    standardized = {effect.name: effect for effect in mediation.standardized}["indirect_ps[trust]"]
    assert record.estimates["indirect_partially_standardized"]["estimate"] == standardized.estimate
    # the partially standardized effect is the raw one over the outcome's SD (as `mediate` computes it)
    assert standardized.estimate == pytest.approx(indirect.estimate / record.estimates["sd"]["outcome"])
    assert record.estimates["a"]["estimate"] == mediation.effect("a[trust]").estimate
    for verdict in pathway.verdicts:
        assert record.verdict(verdict.criterion)["status"] == verdict.status.value
        assert record.verdict(verdict.criterion)["reason"] == verdict.reason
    assert record.grade == pathway.conclusion.grade
    assert [a["status"] for a in record.data["conclusion"]["assumptions"]] == [
        a.status for a in pathway.conclusion.assumptions
    ]
    assert record.mechanisms == [
        {"id": "trust", "label": "Trust", "refs": ["recipient-pathway:trust"], "level": "individual"}
    ]
    assert record.outcome["refs"] == ["proctor:acceptability", "recipient-pathway:acceptability"]
    assert record.design["type"] == "cluster-randomized trial" and record.design["n"]["clusters"] == 12
    assert record.setting == "primary care" and record.synthetic
    provenance = record.provenance
    assert provenance["source"] == "moclab analyze" and provenance["data_hash"] == study_data_hash(
        example_study
    )
    assert provenance["settings"] == {"seed": 5, "n_boot": 100, "ci": "percentile", "level": 0.95,
                                      "mediation": "single-level"}  # fmt: skip
    assert record.study_id.endswith("-" + provenance["data_hash"][7:15])


def test_a_record_round_trips_through_its_file(analysed, example_study, tmp_path):
    records = records_from_evidence(analysed, example_study)
    files = write_records(records, tmp_path / "records")
    assert [f.name for f in files] == [f"{TRUST}.json", f"{CREDIBILITY}.json"]
    again = read_records(files)
    assert [r.data for r in again] == [r.data for r in records]
    assert [r.to_dict() for r in again] == [json.loads(f.read_text(encoding="utf-8")) for f in files]


def test_the_data_hash_follows_the_files_not_the_folder(example_study, tmp_path):
    copy_folder = tmp_path / "elsewhere"
    shutil.copytree(example_study_path(), copy_folder)
    moved = load_study(copy_folder, show_progress=False)
    assert study_data_hash(moved) == study_data_hash(example_study)
    with (copy_folder / "model.yaml").open("a", encoding="utf-8") as model:
        model.write("# one more comment\n")
    assert study_data_hash(load_study(copy_folder, show_progress=False)) != study_data_hash(example_study)


def test_writing_records_again_replaces_moclabs_own_and_keeps_the_users(analysed, example_study, tmp_path):
    folder = tmp_path / "records"
    write_records(records_from_evidence(analysed, example_study), folder)
    (folder / "my-notes.json").write_text('{"mine": true}', encoding="utf-8")
    hand = folder / "hand.json"
    hand.write_text(json.dumps(_minimal()), encoding="utf-8")
    write_records(records_from_evidence(analysed, example_study)[:1], folder)
    assert sorted(p.name for p in folder.iterdir()) == ["hand.json", f"{TRUST}.json", "my-notes.json"]


def test_a_report_folder_gives_the_same_evidence(analysed, example_study, tmp_path):
    report = tmp_path / "report"
    write_report(analysed, report, study=example_study, show_progress=False)
    from_report = records_from_report(report)
    from_evidence = records_from_evidence(analysed, example_study)
    for first, second in zip(from_report, from_evidence, strict=True):
        assert first.origin == "moclab report" and "data_hash" not in first.provenance
        assert first.data["criteria"] == second.data["criteria"]
        assert first.data["estimates"] == second.data["estimates"]
        assert first.data["pathway"] == second.data["pathway"]  # the model read again from the study folder
    with pytest.raises(MoclabError, match=r"not the report\.json of a moclab report"):
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "report.json").write_text("{}", encoding="utf-8")
        records_from_report(tmp_path / "other")


def test_moclab_analyze_writes_one_record_per_pathway_next_to_its_report(tmp_path):
    report = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "analyze",
            str(example_study_path()),
            "-p",
            TRUST,
            "--n-boot",
            "100",
            "--seed",
            "2",
            "-o",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    record = read_record(report / RECORDS_FOLDER / f"{TRUST}.json")
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert (
        record.status("strong_association").value == data["scorecard"]["matrix"][TRUST]["strong_association"]
    )
    assert record.provenance["settings"]["seed"] == 2


def test_records_export_to_one_csv_row_each(analysed, example_study, tmp_path):
    records = [*records_from_evidence(analysed, example_study), record_from_data(_minimal())]
    frame = records_frame(records)
    frame.to_csv(tmp_path / "records.csv", index=False)
    again = pd.read_csv(tmp_path / "records.csv")
    assert len(again) == 3 and list(again["pathway"]) == [TRUST, CREDIBILITY, "coaching__trust__adoption"]
    assert again.loc[2, "strategy_refs"] == "eric:facilitation" and again.loc[2, "timeline"] == "met"
    assert pd.isna(again.loc[2, "gradient"])  # not reported
    assert again.loc[0, "indirect"] == pytest.approx(records[0].estimates["indirect"]["estimate"])
    assert again.loc[0, "outcome_refs"] == "proctor:acceptability; recipient-pathway:acceptability"
    assert list(again.loc[:1, "strong_association"]) == [
        r.status("strong_association").value for r in records[:2]
    ]


def test_a_record_is_never_changed_by_reading_it():
    data = _minimal()
    before = copy.deepcopy(data)
    record_from_data(data)
    assert data == before
