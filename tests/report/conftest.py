"""Studies and reports shared by the report tests: the bundled example and two small simulated studies.

Each evidence analysis runs once per session with few resamples (the report renders numbers, it does not
compute them; the analyses have their own tests).
"""

from __future__ import annotations

import pytest

from moclab.evidence import analyze
from moclab.report import build_report
from moclab.study import example_path, load_study

from .helpers import CREDIBILITY, QUICK, TRUST, simulate


@pytest.fixture(scope="session")
def example_study():
    return load_study(example_path(), show_progress=False)


@pytest.fixture(scope="session")
def example_evidence(example_study):
    return analyze(example_study, pathways=[TRUST, CREDIBILITY], **QUICK)


@pytest.fixture(scope="session")
def example_report(example_evidence, example_study):
    return build_report(example_evidence, example_study, show_progress=False)


@pytest.fixture(scope="session")
def simulated_study(tmp_path_factory):
    """Randomized per recipient in 12 sites, 3 waves, dose logged per recipient: every analysis runs,
    consistency across sites included."""
    folder = simulate(
        tmp_path_factory.mktemp("sim") / "study",
        5,
        randomization="recipient",
        waves=3,
        sites=12,
        recipients=30,
    )
    return load_study(folder, show_progress=False)


@pytest.fixture(scope="session")
def simulated_evidence(simulated_study):
    return analyze(simulated_study, **QUICK)


@pytest.fixture(scope="session")
def simulated_report(simulated_evidence, simulated_study):
    return build_report(simulated_evidence, simulated_study, show_progress=False)


@pytest.fixture(scope="session")
def thin_evidence(tmp_path_factory):
    """Observational, one wave, few sites: much cannot be tested (no panel, no consistency)."""
    folder = simulate(
        tmp_path_factory.mktemp("thin") / "study", 9, randomization="none", waves=1, sites=2, recipients=60
    )
    study = load_study(folder, show_progress=False)
    return study, analyze(study, **QUICK)
