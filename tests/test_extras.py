"""moclab without its extras: the core (the analysis, the study) works, a feature whose extra is missing says
which ``pip install 'moclab[...]'`` to run, and the command starts without importing the heavy libraries.

The extras are blocked in a fresh interpreter (a meta-path finder that refuses to import them), so these
tests run in the development environment, where every extra is installed; one test installs moclab without
extras into a new virtual environment, as a user's ``pip install moclab`` would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

from moclab.qual import example_project_path

REPOSITORY = Path(__file__).resolve().parents[1]

#: The top-level modules of the extras `qual`, `deidentify` and `dask` that the core must never need.
BLOCKED = ("spacy", "presidio_analyzer", "presidio_anonymizer", "dask", "distributed", "xmlschema", "docx")

BLOCKER = f"""
import sys

BLOCKED = {BLOCKED!r}


class BlockExtras:
    \"\"\"Refuses the modules of the extras, as if they were not installed.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, BlockExtras())
"""


def run_python(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with the extras blocked (``import block_extras`` comes first)."""
    (tmp_path / "block_extras.py").write_text(BLOCKER, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-c", "import block_extras\n" + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            "PYTHONPATH": str(tmp_path),
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
            "COLUMNS": "200",
        },
        timeout=300,
        check=False,
    )


def test_the_analysis_and_the_study_work_without_the_extras(tmp_path):
    done = run_python(
        """
        import json
        import sys

        import numpy as np
        import pandas as pd

        from moclab.analysis import mediate
        from moclab.study import example_path, load_study

        rng = np.random.default_rng(1)
        x = rng.normal(size=300)
        m = 0.5 * x + rng.normal(size=300)
        y = 0.4 * m + 0.1 * x + rng.normal(size=300)
        result = mediate(pd.DataFrame({"x": x, "m": m, "y": y}), x="x", m="m", y="y", n_boot=500, seed=1)
        estimates = result.to_frame()["estimate"]

        study = load_study(example_path(), show_progress=False)
        print(json.dumps({
            "a": estimates["a[m]"],
            "b": estimates["b[m]"],
            "indirect": estimates["indirect[m]"],
            "recipients": len(study.recipients),
            "imported": sorted(name for name in block_extras.BLOCKED if name in sys.modules),
        }))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert abs(found["indirect"] - found["a"] * found["b"]) < 1e-12
    assert 0.35 < found["a"] < 0.65 and 0.25 < found["b"] < 0.55
    assert found["recipients"] > 100
    assert found["imported"] == []


def test_each_feature_of_an_extra_names_the_pip_install_to_run(tmp_path):
    (tmp_path / "interview.docx").write_bytes(b"PK\x03\x04 not read: the extra is missing first")
    done = run_python(
        """
        import json

        from moclab.errors import MissingExtraError
        from moclab.qual import example_project_path, read_project, validate_file
        from moclab.qual.deidentify import Deidentifier
        from moclab.qual.transcripts import read_transcript
        from moclab.design import power_analysis

        # Reading a REFI-QDA project needs only defusedxml, which is not blocked here.
        project = read_project(example_project_path())
        found = {"sources": len(project.sources)}
        attempts = {
            "deidentify": lambda: Deidentifier(),
            "validate": lambda: validate_file(example_project_path()),
            "docx": lambda: read_transcript("interview.docx"),
            "dask": lambda: power_analysis(
                "recipient-pathway", sites=[6], reps=2, method="joint", criteria="none", seed=1,
                scheduler="tcp://127.0.0.1:9", show_progress=False,
            ),
        }
        for name, attempt in attempts.items():
            try:
                attempt()
            except MissingExtraError as error:
                found[name] = {"extra": error.extra, "message": str(error)}
            else:
                found[name] = None
        print(json.dumps(found))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["sources"] > 0
    expected = {"deidentify": "deidentify", "validate": "qual", "docx": "qual", "dask": "dask"}
    for name, extra in expected.items():
        assert found[name] is not None, f"{name} ran without its extra"
        assert found[name]["extra"] == extra
        assert f"pip install 'moclab[{extra}]'" in found[name]["message"]
        assert "\n" not in found[name]["message"]


def test_the_command_says_in_one_line_which_extra_to_install(tmp_path):
    project = str(example_project_path())
    done = run_python(
        "from moclab.cli.main import run\nrun()",
        tmp_path,
        "qual",
        "deidentify",
        project,
        "-o",
        str(tmp_path / "out.qdpx"),
        "--mapping",
        str(tmp_path / "mapping.json"),
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: de-identification needs the 'deidentify' extra, which is not installed "
        "(pip install 'moclab[deidentify]')"
    ]
    assert not (tmp_path / "out.qdpx").exists()


def test_the_command_starts_without_importing_the_heavy_libraries(tmp_path):
    """`moclab --help` lists every command without importing a command's module (the times are in the
    report of issue 11; a test asserts the structure that makes them, not a speed)."""
    done = run_python(
        """
        import sys
        from contextlib import redirect_stdout
        from io import StringIO

        from moclab.cli.main import app
        import typer.main

        command = typer.main.get_command(app)
        with redirect_stdout(StringIO()) as page:
            command.main(["--help"], prog_name="moclab", standalone_mode=False)
        print(all(name in page.getvalue() for name in ("demo", "validate", "qual", "instruments")))
        heavy = ("statsmodels", "scipy", "pandas", "numpy", "matplotlib", "networkx", "pydantic", "jinja2")
        print(sorted({name.split(".")[0] for name in sys.modules} & set(heavy)))
        print(sorted(name for name in sys.modules if name.startswith("moclab.cli.") and name not in (
            "moclab.cli.main", "moclab.cli.output")))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == ["True", "[]", "[]"]


def test_validate_does_not_import_statsmodels_or_the_extras(tmp_path):
    done = run_python(
        """
        import sys

        from moclab.cli.main import run
        from moclab.study import example_path

        sys.argv = ["moclab", "validate", str(example_path())]
        try:
            run()
        except SystemExit as exit:
            assert not exit.code, exit.code
        heavy = ("statsmodels", "scipy.stats", "matplotlib", "jinja2", "spacy", "presidio_analyzer", "dask")
        print(sorted(name for name in heavy if name in sys.modules))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "has no errors" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_analysis_package_imports_its_estimators_on_first_use(tmp_path):
    done = run_python(
        """
        import sys

        import moclab.analysis
        from moclab.analysis.results import Effect

        before = "statsmodels" in sys.modules
        from moclab.analysis import robustness, sensitivity
        import moclab.analysis.instrumental  # binds its submodules to the package

        print(before, callable(robustness), moclab.analysis.robustness is robustness,
              moclab.analysis.sensitivity is sensitivity, "statsmodels" in sys.modules)
        missing = [name for name in moclab.analysis.__all__ if getattr(moclab.analysis, name, None) is None]
        print(missing, sorted(moclab.analysis.__all__) == sorted(moclab.analysis._HOME))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == ["False True True True True", "[] True"]


def test_a_fresh_install_without_extras_runs_mediate(tmp_path):
    """``pip install moclab`` (here: a copy of this repository) into a new virtual environment, no extras:
    spaCy, Presidio and Dask are not installed, and `mediate` runs."""
    source = tmp_path / "moclab-source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPOSITORY / name, source / name)
    shutil.copytree(
        REPOSITORY / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = str(environment / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-compile", str(source)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    check = subprocess.run(
        [
            python,
            "-c",
            textwrap.dedent(
                """
                import importlib.util

                absent = ["spacy", "presidio_analyzer", "presidio_anonymizer", "dask", "distributed"]
                print([name for name in absent if importlib.util.find_spec(name) is not None])

                import numpy as np
                import pandas as pd
                from moclab.analysis import mediate

                rng = np.random.default_rng(2)
                x = rng.normal(size=200)
                m = 0.6 * x + rng.normal(size=200)
                y = 0.5 * m + rng.normal(size=200)
                data = pd.DataFrame({"x": x, "m": m, "y": y})
                result = mediate(data, x="x", m="m", y="y", n_boot=300, seed=2)
                print(result.to_frame().loc["indirect[m]", "estimate"] > 0.1)
                """
            ),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip().splitlines() == ["[]", "True"]
