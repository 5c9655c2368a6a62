"""Where the public reference data (../shared/data: mediation examples, REFI-QDA samples) are.

They live beside the repository, not in it (their licences differ from moclab's). A checkout finds them when
it sits next to them, or when it was cloned from a working copy that does (a clean clone in /tmp).
MOCLAB_SHARED_DATA overrides both. A missing folder fails loudly: the tests that need these data must not
pass or skip without them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _candidates() -> list[Path]:
    found = []
    if os.environ.get("MOCLAB_SHARED_DATA"):
        found.append(Path(os.environ["MOCLAB_SHARED_DATA"]))
    found.append(ROOT.parent / "shared" / "data")
    origin = subprocess.run(
        ["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"], capture_output=True, text=True
    ).stdout.strip()
    if origin and Path(origin).is_dir():  # cloned from a local working copy
        found.append(Path(origin).resolve().parent / "shared" / "data")
    return found


def shared_data() -> Path:
    """The shared data folder; an AssertionError saying where it was looked for when it is nowhere."""
    candidates = _candidates()
    for folder in candidates:
        if (folder / "mediation").is_dir():
            return folder
    raise AssertionError(
        "the public reference data (shared/data) were not found; looked in "
        + ", ".join(str(c) for c in candidates)
        + "; set MOCLAB_SHARED_DATA to the folder"
    )


SHARED_DATA = shared_data()
MEDIATION_DATA = SHARED_DATA / "mediation"
QDA_SAMPLES = SHARED_DATA / "qda" / "samples"
