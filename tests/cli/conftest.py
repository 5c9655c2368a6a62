"""What the command-line tests share: running `moclab` in this process as the installed command does."""

from __future__ import annotations

import sys

import pytest

from moclab.cli.main import run


def run_moclab(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `moclab ARGS` in this process: the exit status, stdout and stderr."""
    saved = sys.argv
    sys.argv = ["moclab", *args]
    try:
        run()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = saved
    out, err = capsys.readouterr()
    return code, out, err
