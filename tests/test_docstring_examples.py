"""Every example in a docstring of moclab runs as written and prints what it shows (doctests).

The modules are found by walking the installed package, so a new module is checked without being listed here.
(pytest's --doctest-modules would also import the tests' conftest files as modules, whose names collide.)
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import matplotlib
import pytest

import moclab

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(moclab.__path__, prefix="moclab.")
    if not info.name.endswith("__main__")
)


def test_the_package_has_docstring_examples():
    finder = doctest.DocTestFinder()
    examples = sum(
        len(test.examples) for name in MODULES for test in finder.find(importlib.import_module(name))
    )
    assert examples > 100


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_of_the_module_run(name, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"
