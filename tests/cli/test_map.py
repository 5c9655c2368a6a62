"""`moclab map` as a user runs it: the summary, the files, the exit codes and the output-folder rules."""

from __future__ import annotations

import json

import pytest

from moclab.mapping import build_map, example_path

from .conftest import run_moclab as moclab


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


def test_map_writes_the_page_its_json_and_the_csv_and_prints_one_screen(capsys, tmp_path):
    out = tmp_path / "map"
    code, printed, err = moclab(capsys, "map", str(example_path()), "-o", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        ".moclab-output",
        "index.html",
        "map.json",
        "records.csv",
    ]
    assert (out / ".moclab-output").read_text(encoding="utf-8").startswith("written by moclab map")
    lines = printed.splitlines()
    assert lines[0].startswith("Evidence map: 19 record(s) of 7 stud(ies) (6 synthetic, 1 illustrative)")
    # one screen; no line wider than the terminal, but a path, which is never broken
    assert len(lines) <= 40 and max(len(line) for line in lines if str(out) not in line) <= 120
    assert any(line.strip().startswith("Trust") and "5/7" in line for line in lines)  # strong association
    # psychological safety, judged at its team level, is consistent across the studies: every criterion was
    # met by some study, and the map says so rather than printing an empty list
    assert "Gaps: criteria no study met: none" in printed
    assert "strategy → mechanism links no record tests: 2" in printed
    assert f"Map (every study, verdict, forest plot and filter): {out / 'index.html'}" in printed
    written = json.loads((out / "map.json").read_text(encoding="utf-8"))
    assert written["matrix"] == build_map([example_path()]).matrix()


def test_json_and_verbose(capsys):
    code, printed, _ = moclab(capsys, "map", str(example_path()), "--json")
    assert code == 0 and json.loads(printed)["counts"]["duplicates"] == 1
    code, printed, _ = moclab(capsys, "map", str(example_path() / "simulated"), "--verbose")
    assert code == 0
    assert "refused Support-dose study E (simulated): the strategy is a dose here" in printed
    assert "prediction interval for a new unit" in printed


def test_records_with_problems_exit_1_with_every_problem_located(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "smith.yaml").write_text(
        "kind: moclab-evidence-record\nformat: 1\nstudy: {id: smith, title: Smith, synthetic: false}\n"
        "pathway: {strategy: {id: a}, mechanisms: [{id: b}], outcome: {id: c}}\n"
        "criteria: {timline: {status: met}}\nprovenance: {source: hand-entered, citation: Smith 2021}\n",
        encoding="utf-8",
    )
    code, printed, err = moclab(capsys, "map", "records", "-o", "out")
    assert code == 1 and printed == ""
    assert "evidence records: 1 problem(s) found" in err
    assert "records/smith.yaml:5:12: unknown key 'timline' in 'criteria' (did you mean 'timeline'?)" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing is written when the records cannot be used
    code, _, err = moclab(capsys, "map", "no-such-folder")
    assert code == 1 and "no-such-folder: no such folder or file" in err


def test_the_output_folder_follows_the_command_conventions(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = str(example_path() / "hand-entered")
    code, _, err = moclab(capsys, "map", source, "-o", "map.html")
    assert (
        code == 2
        and "`moclab map` writes a folder, not a file" in err
        and not (tmp_path / "map.html").exists()
    )
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.docx").write_bytes(b"precious")
    code, _, err = moclab(capsys, "map", source, "-o", "theirs", "--force")
    assert code == 2 and "moclab did not write (thesis.docx)" in err
    assert [p.name for p in theirs.iterdir()] == ["thesis.docx"]
    assert moclab(capsys, "map", source, "-o", "out")[0] == 0
    (tmp_path / "out" / "my-notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = moclab(capsys, "map", source, "-o", "out")
    assert code == 2 and "earlier `moclab map`" in err and "--force" in err
    code, _, err = moclab(capsys, "map", source, "-o", "out", "--force")
    assert code == 0, err
    assert (tmp_path / "out" / "my-notes.txt").read_text(encoding="utf-8") == "mine"
    records = tmp_path / "records"
    records.mkdir()
    (records / "r.yaml").write_bytes(
        (example_path() / "hand-entered" / "illustrative-coaching-record.yaml").read_bytes()
    )
    code, _, err = moclab(capsys, "map", "records", "-o", "records/map")
    assert code == 2 and "inside the input" in err
    code, _, err = moclab(capsys, "map", source, "--level", "1.5")
    assert code == 2 and "Invalid value for '--level'" in err


def test_map_is_listed_with_the_first_line_of_its_help(capsys):
    code, printed, _ = moclab(capsys, "--help")
    assert code == 0 and "map" in printed and "Map the evidence of many studies" in printed
    code, printed, _ = moclab(capsys, "map", "--help")
    assert code == 0 and "--force" in printed and "<bool>" not in printed
