"""A study that reads its item responses from exports listed under `sources:` in moclab.yaml."""

from __future__ import annotations

import textwrap

import openpyxl
import pytest
from sources_helpers import dictionary_text, records_text, write

from moclab.errors import ValidationError
from moclab.study import load_study
from moclab.study.scoring import score_study

CONFIG = """\
format: 1
title: Sources test (synthetic)
synthetic: true
design:
  waves:
    - {id: baseline}
    - {id: m6}
tables:
  recipients: {path: data/recipients.csv}
  measures: {path: data/measures.csv}
measures:
  acceptability: {instrument: aim}
  feasibility: {instrument: fim}
  sites_open: {range: [0, 10]}
sources:
  - type: redcap
    records: raw/records.csv
    dictionary: raw/dictionary.csv
    map: {acc_q1: aim_1, acc_q2: aim_2, acc_q3: aim_3, acc_q4: aim_4}
    waves: {baseline_arm_1: baseline, month_6_arm_1: m6}
  - type: excel
    path: raw/feasibility.xlsx
    sheets: {Baseline: baseline}
"""

AGREE = "1, No | 2, Rather not | 3, Unsure | 4, Rather yes | 5, Yes"
FIELDS = [
    ("record_id", "survey", "text", "ID", "", "", "", ""),
    *[(f"acc_q{k}", "survey", "radio", f"Acceptability {k}", AGREE, "", "", "") for k in (1, 2, 3, 4)],
]


def make_study(folder, config=CONFIG, records=None):
    write(folder, "moclab.yaml", config)
    write(folder, "data/recipients.csv", "recipient_id,site\np1,a\np2,a\np3,b\n")
    write(folder, "data/measures.csv", "recipient_id,wave,measure,value\np1,baseline,sites_open,3\n")
    write(folder, "raw/dictionary.csv", dictionary_text(FIELDS))
    header = ["record_id", "redcap_event_name", "acc_q1", "acc_q2", "acc_q3", "acc_q4", "survey_complete"]
    rows = records or [
        ["p1", "baseline_arm_1", "4", "5", "4", "5", "2"],
        ["p1", "month_6_arm_1", "5", "5", "5", "5", "2"],
        ["p2", "baseline_arm_1", "2", "9", "2", "3", "2"],
    ]
    write(folder, "raw/records.csv", records_text(header, rows))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Baseline"
    for row in (
        ["recipient_id", "fim_1", "fim_2", "fim_3", "fim_4"],
        ["p1", 3, 3, 4, 4],
        ["p3", 5, 4, None, None],
    ):
        sheet.append(row)
    book.save(folder / "raw" / "feasibility.xlsx")
    return folder


def test_sources_join_the_measures_and_are_scored(folder):
    study = load_study(make_study(folder), show_progress=False)
    measures = study.measures
    items = measures[measures["measure"].str.startswith(("aim_", "fim_"))]
    assert len(items) == 4 + 4 + 3 + 4 + 2  # p2's 9 is not a choice of acc_q2
    assert measures.query("measure == 'sites_open'")["value"].item() == 3.0
    scores = score_study(study).table.set_index(["recipient_id", "wave", "measure"])["value"]
    assert scores[("p1", "baseline", "acceptability")] == 4.5
    assert scores[("p1", "m6", "acceptability")] == 5.0
    assert scores[("p2", "baseline", "acceptability")] == pytest.approx(7 / 3)  # 2, 2, 3: the 9 left out
    assert scores[("p1", "baseline", "feasibility")] == 3.5
    assert scores[("p3", "baseline", "feasibility")] == 4.5  # 2 of 4 answered: prorated
    warning = next(p for p in study.problems if getattr(p, "kind", None) == "unknown_choice")
    assert warning.severity == "warning"  # in a study a value left out does not stop the study
    assert (warning.record, warning.field, warning.value) == ("p2", "acc_q2", "9")
    wide = study.wide(["acceptability", "feasibility"]).set_index(["recipient_id", "wave"])
    assert wide.loc[("p1", "baseline"), ["acceptability", "feasibility"]].tolist() == [4.5, 3.5]


def test_problems_of_the_sources_section_point_at_moclab_yaml(folder):
    config = CONFIG.replace("month_6_arm_1: m6", "month_6_arm_1: m12").replace(
        "path: raw/feasibility.xlsx", "path: raw/feasibility.xlsx\n    sheet: Baseline"
    )
    make_study(folder, config)
    with pytest.raises(ValidationError) as caught:
        load_study(folder, show_progress=False)
    problems = [p for p in caught.value.problems if p.severity == "error"]
    typo = next(p for p in problems if "unknown key 'sheet'" in p.message)
    assert typo.hint == "did you mean 'sheets'?" and typo.line == len(config.splitlines()) - 1
    wave = next(p for p in problems if "'m12' is not a wave of the study" in p.message)
    assert (
        wave.file == "moclab.yaml"
        and wave.line
        == CONFIG.splitlines().index("    waves: {baseline_arm_1: baseline, month_6_arm_1: m6}") + 1
    )


def test_missing_files_and_unknown_records_are_errors(folder):
    make_study(
        folder,
        records=[
            ["p1", "baseline_arm_1", "4", "4", "4", "4", "2"],
            ["zz", "baseline_arm_1", "1", "1", "1", "1", "2"],
        ],
    )
    (folder / "raw" / "feasibility.xlsx").unlink()
    with pytest.raises(ValidationError) as caught:
        load_study(folder, show_progress=False)
    errors = [p for p in caught.value.problems if p.severity == "error"]
    missing = next(p for p in errors if "workbook not found" in p.message)
    assert missing.file == "moclab.yaml" and missing.line == CONFIG.splitlines().index("  - type: excel") + 1
    orphan = next(p for p in errors if "not in the recipients table" in p.message)
    assert "'zz'" in orphan.message and orphan.file == "raw/records.csv"


def test_a_response_also_in_the_measures_table_keeps_the_tables_value(folder):
    make_study(folder)
    write(folder, "data/measures.csv", "recipient_id,wave,measure,value\np1,baseline,aim_1,1\n")
    study = load_study(folder, show_progress=False)
    assert study.measures.query("recipient_id == 'p1' and wave == 'baseline' and measure == 'aim_1'")[
        "value"
    ].tolist() == [1.0]
    assert any("also in the measures table" in p.message for p in study.problems)


def test_unknown_keys_in_a_source_entry(folder):
    make_study(
        folder,
        CONFIG.replace(
            "    dictionary: raw/dictionary.csv\n", "    dictionary: raw/dictionary.csv\n    wavs: {}\n"
        ),
    )
    with pytest.raises(ValidationError) as caught:
        load_study(folder, show_progress=False)
    problem = next(p for p in caught.value.problems if "wavs" in str(p))
    assert (
        problem.line == textwrap.dedent(CONFIG).splitlines().index("    dictionary: raw/dictionary.csv") + 2
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - {type: excel, path: a.xlsx, records: r.csv}", "'records' is not for an excel source"),
        ("  - {type: qualtrics, wave: m6}", "a qualtrics source needs 'path:'"),
        ("  - {type: redcap, records: r.csv}", "a redcap source needs 'dictionary:'"),
        ("  - {type: spss, path: a.sav}", "'sources.2.type'"),
    ],
)
def test_entries_of_the_wrong_shape(folder, entry, message):
    make_study(folder, CONFIG + entry + "\n")
    with pytest.raises(ValidationError) as caught:
        load_study(folder, show_progress=False)
    problem = next(p for p in caught.value.problems if message in p.message)
    assert problem.line == len(CONFIG.splitlines()) + 1
    # the other entries are still read: p2's unknown choice is reported too
    assert any(getattr(p, "kind", None) == "unknown_choice" for p in caught.value.problems)


def test_events_that_are_not_waves_are_errors(folder):
    make_study(folder, CONFIG.replace("    waves: {baseline_arm_1: baseline, month_6_arm_1: m6}\n", ""))
    with pytest.raises(ValidationError) as caught:
        load_study(folder, show_progress=False)
    errors = [p for p in caught.value.problems if p.severity == "error"]
    assert {p.value for p in errors} == {"baseline_arm_1", "month_6_arm_1"}
    assert all("is not a wave of the study" in p.message and "waves:" in p.hint for p in errors)
