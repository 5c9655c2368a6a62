"""Every example in a docstring of moclab runs as written and prints what it shows (doctests).

The modules are found by walking the installed package, so a new module is checked without being listed here;
only modules with at least one example get a test, so a module without examples is not counted as a pass.
(pytest's --doctest-modules would also import the tests' conftest files as modules, whose names collide.)
Every public function of the layers a user calls has an Examples section that these tests run.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re

import matplotlib
import pytest

import moclab

matplotlib.use("Agg")  # before any module of moclab can import pyplot

FINDER = doctest.DocTestFinder()

#: The practice platform's modules (Django models, settings, migrations) import only once Django is set up
#: from the environment; tests/web checks them, so they are not walked here.
NOT_WALKED = ("moclab.web",)

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(moclab.__path__, prefix="moclab.")
    if not info.name.endswith("__main__") and not info.name.startswith(NOT_WALKED)
)


def docstring_tests(name: str) -> list[doctest.DocTest]:
    """The docstrings of module `name` (and of what it defines) that hold at least one example."""
    return [test for test in FINDER.find(importlib.import_module(name)) if test.examples]


MODULES_WITH_EXAMPLES = [name for name in MODULES if docstring_tests(name)]

#: Packages whose public functions (their ``__all__``) must each show an example.
PUBLIC_PACKAGES = (
    "moclab.analysis",
    "moclab.design",
    "moclab.evidence",
    "moclab.model",
    "moclab.qual",
    "moclab.simulate",
    "moclab.study",
)

EXAMPLES_SECTION = re.compile(r"^Examples\n-{8,}$", re.MULTILINE)


def test_the_package_has_docstring_examples():
    examples = sum(len(test.examples) for name in MODULES_WITH_EXAMPLES for test in docstring_tests(name))
    assert examples > 100


def test_every_public_function_has_an_example_that_runs():
    """An Examples section in numpydoc form, with examples the module's doctest (below) runs."""
    missing = []
    for package in PUBLIC_PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            function = getattr(module, name)
            if not inspect.isfunction(function):
                continue  # classes and constants may have examples, but need not
            run = {test.name: test for test in docstring_tests(function.__module__)}
            has_section = EXAMPLES_SECTION.search(inspect.getdoc(function) or "") is not None
            if not has_section or f"{function.__module__}.{function.__name__}" not in run:
                missing.append(f"{package}.{name} ({function.__module__})")
    assert not missing, f"{len(missing)} public functions without a runnable Examples section: " + ", ".join(
        missing
    )


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples_of_the_module_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 0, f"{name} was collected for its examples, but none ran"
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"
