"""`moclab serve export-study`: the demo organisation's portfolio written as a study folder (or one zip) from
a SQLite platform database, checked by `moclab validate`, recorded in the audit log, and the command's rules:
an existing output only with --force, bad options exit 2 before any work, unknown names exit 1 listing the
known ones."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEMO = "demo-implementation-support-team-synthetic"
SITES = [f"Site S0{i}" for i in range(1, 7)]

#: A platform database holding the demo organisation (without its evidence run), made in a process of its
#: own.
PREPARE = """
import datetime, sys
from pathlib import Path
from moclab.web import server
server.configure(server.sqlite_url(Path(sys.argv[1])), demo=True)
server.migrate()
from moclab.web.demo import build_demo
build_demo(today=datetime.date(2026, 12, 7), evidence=False)
"""


def moclab(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from moclab.cli.main import run; run()", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "COLUMNS": "200"},
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("platform")
    path = folder / "platform.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", PREPARE, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return path


def export_study(database: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return moclab(
        "serve",
        "export-study",
        "--organisation",
        DEMO,
        "--database",
        f"sqlite:///{database}",
        *args,
        home=home,
    )


def audit_entries(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT user_id, model, object_id FROM audit_auditentry WHERE action = 'export' ORDER BY id"
        ).fetchall()


def test_a_study_folder_that_validate_accepts_and_a_zip_of_the_same_files(database: Path, tmp_path: Path):
    before = len(audit_entries(database))
    folder = tmp_path / "demo-study"
    done = export_study(database, "-o", str(folder), home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "exported Demo implementation support team (synthetic): 274 recipients in 6 sites, 2 waves of "
        "'Pulse: how is the support going?' (526 responses), 92 activities; model recipient-pathway, 12 "
        "pathways to judge",
        "pseudonymised: recipients by pseudonym only; no names, notes or contact details",
        f"written to {folder}/ (recorded in the audit log)",
        f"next: moclab validate {folder}, then moclab analyze {folder} -o report/",
    ]
    assert (folder / ".moclab-output").read_text().startswith("written by moclab serve export-study")
    checked = moclab("validate", str(folder), home=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "12 pathways ready for `moclab analyze`" in checked.stdout
    # the same files as one zip
    archive = tmp_path / "demo-study.zip"
    done = export_study(database, "-o", str(archive), home=tmp_path)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as opened:
        zipped = {name: opened.read(name) for name in opened.namelist()}
    written = {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and path.name != ".moclab-output"
    }
    assert zipped == written
    with sqlite3.connect(database) as connection:
        (organisation,) = connection.execute("SELECT id FROM practice_organisation").fetchone()
    assert audit_entries(database)[before:] == [(None, "practice.organisation", f"{organisation}/study")] * 2
    # an earlier export is replaced only with --force (exit 2 before any work)
    again = export_study(database, "-o", str(folder), home=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert export_study(database, "-o", str(folder), "--force", home=tmp_path).returncode == 0


def test_arms_declared_on_the_command_line(database: Path, tmp_path: Path):
    arms = [f"--arm={site}={'intensive' if site in ('Site S01', 'Site S02', 'Site S06') else 'usual'}"
            for site in SITES]  # fmt: skip
    folder = tmp_path / "randomized"
    done = export_study(database, "-o", str(folder), *arms, "--control", "usual", home=tmp_path)
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((folder / "moclab.yaml").read_text())
    assert config["design"]["randomization"] == {
        "level": "site",
        "arms": ["intensive", "usual"],
        "control": "usual",
    }
    checked = moclab("validate", str(folder), home=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--template", "recipient-pathwya"], 2, "did you mean 'recipient-pathway'"),
        (["--arm", "Site S01"], 2, "not of the form SITE=ARM"),
        (["--arm", "Site S01=a", "--arm", "Site S01=b", "--control", "a"], 2, "is given twice"),
        (["--control", "usual"], 2, "--control needs the sites' arms"),
        (["--arm", "Site S01=a", "--arm", "Site S02=b"], 2, "--arm needs --control"),
        (
            ["--survey", "Nope"],
            1,
            "has no survey titled 'Nope' (its surveys: Pulse: how is the support going?)",
        ),
        (
            ["--arm", "Site S01=a", "--arm", "Site S02=b", "--control", "b"],
            1,
            "no arm for the site(s) Site S03",
        ),
        (["--template", "eis"], 1, "measures no pathway of the template 'eis'"),
        (["--workers", "2"], 2, "No such option"),
    ],
)
def test_export_study_errors(database: Path, tmp_path: Path, args: list[str], code: int, message: str):
    target = tmp_path / "out"
    done = export_study(database, "-o", str(target), *args, home=tmp_path)
    assert done.returncode == code, done.stderr
    assert message in " ".join(done.stderr.split()) and "Traceback" not in done.stderr
    assert not target.exists()


def test_an_unknown_organisation_lists_the_known_ones(database: Path, tmp_path: Path):
    done = moclab(
        "serve", "export-study", "--organisation", "acme", "-o", str(tmp_path / "out"), "--database",
        f"sqlite:///{database}", home=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "no organisation 'acme'" in done.stderr and f"(the organisations: {DEMO})" in done.stderr
