"""Every ```python block in docs/*.md and README.md runs as written.

The blocks of one page run in order in one namespace (a page is read top to bottom, so later examples may
use names from earlier ones), inside a fresh temporary working directory so examples that write files leave
nothing behind. Examples that analyse the public example datasets (jobs.csv, framing.csv, BPG06dat.csv from
the R packages named in the pages) find them in that working directory, as a reader who downloaded them would.
A ```yaml block whose first line is `# file: NAME` is a file the reader is asked to save: it is written to
the working directory before the page's examples run. Shell examples (```console) are not run here; the CLI
tests cover the commands.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import matplotlib
import pytest
from public_data import MEDIATION_DATA

ROOT = Path(__file__).resolve().parents[1]
# The public example data live beside the repository (tests/public_data.py finds them).
PUBLIC_DATA = MEDIATION_DATA
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
SAVED_FILE = re.compile(r"^```ya?ml[ \t]*\n# file: (\S+)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """(line number, code) of every python block of a page."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start()) + 2, match.group(1)) for match in BLOCK.finditer(text)]


PAGES_WITH_CODE = [page for page in PAGES if python_blocks(page)]


def test_the_docs_have_python_examples_to_check():
    assert len(PAGES_WITH_CODE) >= 5


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_python_example_of_the_page_runs(page, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    for name in ("jobs.csv", "framing.csv", "BPG06dat.csv"):
        shutil.copy(PUBLIC_DATA / name, tmp_path / name)
    for match in SAVED_FILE.finditer(page.read_text(encoding="utf-8")):
        (tmp_path / match.group(1)).write_text(
            f"# file: {match.group(1)}\n{match.group(2)}", encoding="utf-8"
        )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for line, code in python_blocks(page):
        compiled = compile(code, f"{page.relative_to(ROOT)}:{line}", "exec")
        try:
            exec(compiled, namespace)
        except Exception as exc:  # name the block, so a failing example is found at once
            raise AssertionError(f"the example at {page.name} line {line} failed: {exc!r}") from exc
    import matplotlib.pyplot as plt

    plt.close("all")
    assert os.getcwd() == str(tmp_path)
