"""`moclab redcap dictionary`, `moclab redcap check` and `moclab import redcap` from the command line: the
REDCap round trip as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from sources_helpers import records_text, write
from typer.testing import CliRunner

from moclab.cli.main import app
from moclab.study import load_study
from moclab.study.scoring import score_study

runner = CliRunner()


def moclab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command as the installed `moclab` runs it (errors printed without a traceback)."""
    return subprocess.run(
        [sys.executable, "-c", "from moclab.cli.main import run; run()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        check=False,
    )


def fill(dictionary: Path, folder: Path) -> Path:
    """Records as REDCap exports them from a project built on the dictionary: two events, survey fields."""
    fields = pd.read_csv(dictionary, dtype=str)["Variable / Field Name"].tolist()[1:]
    header = ["record_id", "redcap_event_name", *fields, "aim_complete", "fim_complete"]
    answers = {
        ("s1", "pre_arm_1"): "4545" + "3344",
        ("s2", "pre_arm_1"): "2231" + "1111",
        ("s1", "post_arm_1"): "5555" + "4444",
        ("s2", "post_arm_1"): "x444" + "2233",  # 'x' is not a choice
    }
    rows = [[record, event, *cells, "2", "2"] for (record, event), cells in answers.items()]
    return write(folder, "records.csv", records_text(header, rows))


def test_round_trip_from_the_command_line(folder):
    made = runner.invoke(
        app, ["redcap", "dictionary", "aim", "fim", "-o", "dictionary.csv", "--subject", "coaching"]
    )
    assert made.exit_code == 0, made.output
    assert "Wrote the REDCap data dictionary dictionary.csv (aim, fim)" in made.output
    assert "Coaching meets my approval." in (folder / "dictionary.csv").read_text(encoding="utf-8")
    records = fill(folder / "dictionary.csv", folder)
    imported = runner.invoke(app, ["import", "redcap", str(records), "dictionary.csv", "-o", "study"])
    assert imported.exit_code == 0, imported.output
    assert "2 recipients, 2 wave(s) (pre, post), 31 item responses of aim, fim" in imported.output
    assert "1 unknown choice" in imported.output and "record 's2'" in imported.output
    validated = runner.invoke(app, ["validate", "study"])
    assert validated.exit_code == 0, validated.output
    scores = score_study(load_study(folder / "study", show_progress=False)).table
    got = scores.set_index(["recipient_id", "wave", "measure"])["value"]
    assert got[("s1", "pre", "aim")] == 4.5 and got[("s1", "pre", "fim")] == 3.5
    assert got[("s2", "post", "aim")] == 4.0 and got[("s2", "post", "fim")] == 2.5
    assert got[("s2", "pre", "fim")] == 1.0


def test_nothing_is_overwritten(folder):
    write(folder, "dictionary.csv", "keep me")
    done = moclab("redcap", "dictionary", "aim", "-o", "dictionary.csv", cwd=folder)
    assert done.returncode == 2 and "the file exists" in done.stderr and "Traceback" not in done.stderr
    assert (folder / "dictionary.csv").read_text() == "keep me"
    forced = runner.invoke(app, ["redcap", "dictionary", "aim", "fim", "-o", "dictionary.csv", "--force"])
    assert forced.exit_code == 0
    records = fill(folder / "dictionary.csv", folder)
    write(folder, "study/notes.txt", "mine")
    for force in ([], ["--force"]):  # a folder moclab did not write is refused even with --force
        done = runner.invoke(app, ["import", "redcap", str(records), "dictionary.csv", "-o", "study", *force])
        assert done.exit_code == 2 and "moclab did not write (notes.txt)" in done.output
        assert sorted(p.name for p in (folder / "study").iterdir()) == ["notes.txt"]
    imported = runner.invoke(app, ["import", "redcap", str(records), "dictionary.csv", "-o", "again"])
    assert imported.exit_code == 0, imported.output
    (folder / "again" / "notes.txt").write_text("mine", encoding="utf-8")
    refused = runner.invoke(app, ["import", "redcap", str(records), "dictionary.csv", "-o", "again"])
    assert refused.exit_code == 2 and "earlier `moclab import`" in refused.output
    forced = runner.invoke(
        app, ["import", "redcap", str(records), "dictionary.csv", "-o", "again", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert (folder / "again" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert load_study(folder / "again", show_progress=False).title == "Again"


def test_unknown_instrument_and_unrecognised_export(folder):
    done = runner.invoke(app, ["redcap", "dictionary", "aimm", "-o", "d.csv"])
    assert done.exit_code == 1 and "did you mean 'aim'" in done.output
    assert not (folder / "d.csv").exists()
    runner.invoke(app, ["redcap", "dictionary", "aim", "-o", "dictionary.csv"])
    header = ["record_id", "q1", "q2"]
    write(
        folder,
        "dictionary2.csv",
        (folder / "dictionary.csv").read_text().replace("aim_1,", "q1,").replace("aim_2,", "q2,"),
    )
    records = write(folder, "records.csv", records_text(header, [["1", "4", "4"]]))
    done = runner.invoke(app, ["import", "redcap", str(records), "dictionary2.csv", "-o", "study"])
    assert done.exit_code == 1 and "no field of the export is an item" in done.output
    assert not (folder / "study").exists()


def test_a_map_file(folder):
    runner.invoke(app, ["redcap", "dictionary", "aim", "-o", "dictionary.csv"])
    text = (folder / "dictionary.csv").read_text()
    for k in (1, 2, 3, 4):
        text = text.replace(f"aim_{k},", f"acc_{k},")
    write(folder, "own.csv", text)
    header = ["record_id", "redcap_event_name", "acc_1", "acc_2", "acc_3", "acc_4", "aim_complete"]
    rows = [["1", "t1_arm_1", "4", "4", "5", "5", "2"], ["1", "t2_arm_1", "1", "2", "1", "2", "2"]]
    records = write(folder, "records.csv", records_text(header, rows))
    write(folder, "plain.yaml", "acc_1: aim_1\nacc_2: aim_2\nacc_3: aim_3\nacc_4: aim_4\n")
    plain = runner.invoke(
        app, ["import", "redcap", str(records), "own.csv", "-o", "one", "--map", "plain.yaml"]
    )
    assert plain.exit_code == 0, plain.output
    assert "(t1, t2)" in plain.output
    structured = "map: {acc_1: aim_1, acc_2: aim_2, acc_3: aim_3, acc_4: aim_4}\n"
    structured += "waves: {t1_arm_1: baseline, t2_arm_1: m6}\n"
    write(folder, "map.yaml", structured)
    done = runner.invoke(app, ["import", "redcap", str(records), "own.csv", "-o", "two", "--map", "map.yaml"])
    assert done.exit_code == 0, done.output
    scores = score_study(load_study(folder / "two", show_progress=False)).table
    assert scores.set_index(["wave"])["value"].to_dict() == {"baseline": 4.5, "m6": 1.5}
    write(folder, "bad.yaml", "map: {acc_1: aim_1}\nwavs: {}\n")
    bad = runner.invoke(
        app, ["import", "redcap", str(records), "own.csv", "-o", "three", "--map", "bad.yaml"]
    )
    assert bad.exit_code == 1
    assert "unknown key 'wavs'" in bad.output and "did you mean 'waves'" in bad.output
    write(folder, "list.yaml", "- acc_1\n")
    listed = runner.invoke(
        app, ["import", "redcap", str(records), "own.csv", "-o", "four", "--map", "list.yaml"]
    )
    assert listed.exit_code == 1 and "a map file is a mapping" in listed.output
    assert not [name for name in ("three", "four") if (folder / name).exists()]


def test_check_prints_and_writes_the_report(folder):
    runner.invoke(app, ["redcap", "dictionary", "aim", "fim", "-o", "dictionary.csv"])
    records = fill(folder / "dictionary.csv", folder)
    done = runner.invoke(app, ["redcap", "check", str(records), "dictionary.csv", "--report", "report.csv"])
    assert done.exit_code == 1, done.output  # it found an error: a value that cannot be imported
    assert "2 records, 31 values imported; problems: 1 unknown choice" in done.output
    report = pd.read_csv(folder / "report.csv", dtype=str)
    assert report.loc[0, ["kind", "record", "event", "field", "value"]].tolist() == [
        "unknown_choice", "s2", "post_arm_1", "aim_1", "x",
    ]  # fmt: skip
    as_json = runner.invoke(app, ["redcap", "check", str(records), "dictionary.csv", "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.output)["problem_counts"] == {"unknown_choice": 1}
    again = runner.invoke(app, ["redcap", "check", str(records), "dictionary.csv", "--report", "report.csv"])
    assert again.exit_code == 2 and "the file exists" in again.output
    forced = ["redcap", "check", str(records), "dictionary.csv", "--report", "report.csv", "--force"]
    assert runner.invoke(app, forced).exit_code == 1


def test_check_exits_zero_on_a_clean_export(folder):
    runner.invoke(app, ["redcap", "dictionary", "aim", "-o", "dictionary.csv"])
    header = ["record_id", "aim_1", "aim_2", "aim_3", "aim_4", "aim_complete"]
    records = write(folder, "records.csv", records_text(header, [["1", "4", "4", "5", "5", "2"]]))
    done = runner.invoke(app, ["redcap", "check", str(records), "dictionary.csv"])
    assert done.exit_code == 0, done.output
    assert "no problems found" in done.output
