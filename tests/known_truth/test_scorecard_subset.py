"""A fast subset of the known-truth validation (validation/, docs/validation.md) run with every test suite.

Six replications of six worlds at 200 resamples, with fixed seeds: where a criterion's claim is false in a
world, the scorecard may say "met" at most once in six (the full suite holds it to 5% over 200
replications); under a true mechanism every criterion is met in most replications, and the conclusion is
"supported under stated assumptions" (never "established": the mechanism was not manipulated). The worlds
are drawn by `validation.worlds`, which shares no code with `moclab.simulate`.
"""

from __future__ import annotations

from collections import Counter

import pytest

from moclab.evidence import CRITERIA, analyze
from validation.worlds import PATHWAYS, generate_study

REPLICATIONS = 6
N_BOOT = 200
TRUST, CREDIBILITY = list(PATHWAYS)
SUPPORTED = "supported under stated assumptions"


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory):
    """``verdicts(world)``: per pathway, a Counter of (criterion, status) and one of conclusion grades."""
    cache: dict[str, dict[str, tuple[Counter, Counter]]] = {}

    def run(world: str) -> dict[str, tuple[Counter, Counter]]:
        if world not in cache:
            counts = {pathway: (Counter(), Counter()) for pathway in PATHWAYS}
            for replication in range(REPLICATIONS):
                seed = 5000 + replication
                folder = generate_study(world, tmp_path_factory.mktemp(world) / str(replication), seed)
                evidence = analyze(folder, n_boot=N_BOOT, seed=seed, show_progress=False)
                for pathway in evidence.pathways:
                    statuses, grades = counts[pathway.id]
                    statuses.update((v.criterion, v.status.value) for v in pathway.verdicts)
                    grades[pathway.conclusion.grade] += 1
            cache[world] = counts
        return cache[world]

    return run


def met(counts: Counter, criterion: str) -> int:
    return counts[(criterion, "met")]


def test_a_true_mechanism_meets_every_criterion_and_is_supported(verdicts):
    statuses, grades = verdicts("true")[TRUST]
    for criterion in CRITERIA:
        assert met(statuses, criterion.id) >= REPLICATIONS - 1, (criterion.id, statuses)
    assert grades[SUPPORTED] >= REPLICATIONS - 1 and grades["established"] == 0
    # the competitor is an independent null process: nothing about it is met, and it is never supported
    null_statuses, null_grades = verdicts("true")[CREDIBILITY]
    assert sum(met(null_statuses, c.id) for c in CRITERIA) <= 1
    assert null_grades["not supported"] == REPLICATIONS


def test_a_confounded_link_fails_experimental_manipulation_and_is_not_supported(verdicts):
    statuses, grades = verdicts("confounded")[TRUST]
    # strong association is associational and true here; the randomized strategy does not move the outcome
    assert met(statuses, "strong_association") >= REPLICATIONS - 1
    assert met(statuses, "experimental_manipulation") <= 1
    assert met(statuses, "timeline") <= 1
    assert grades[SUPPORTED] + grades["established"] == 0


def test_reverse_causation_fails_the_timeline(verdicts):
    statuses, grades = verdicts("reverse")[TRUST]
    assert met(statuses, "timeline") == 0
    assert grades[SUPPORTED] + grades["established"] == 0


def test_an_inert_correlate_of_the_real_mechanism_is_not_credited(verdicts):
    statuses, grades = verdicts("inert_competitor")[CREDIBILITY]
    for criterion in (
        "strong_association",
        "specificity",
        "experimental_manipulation",
        "timeline",
        "gradient",
    ):
        assert met(statuses, criterion) <= 1, (criterion, statuses)
    assert met(statuses, "plausibility") <= 1
    assert grades[SUPPORTED] + grades["established"] == 0
    real, _ = verdicts("inert_competitor")[TRUST]
    assert (
        met(real, "strong_association") >= REPLICATIONS - 1 and met(real, "specificity") >= REPLICATIONS - 1
    )


def test_an_effect_against_the_hypothesis_meets_nothing_that_has_a_direction(verdicts):
    statuses, grades = verdicts("opposite")[TRUST]
    for criterion in ("strong_association", "specificity", "consistency", "experimental_manipulation"):
        assert met(statuses, criterion) == 0, (criterion, statuses)
    assert met(statuses, "gradient") == 0 and met(statuses, "plausibility") == 0
    assert grades["not supported"] == REPLICATIONS


def test_a_mechanism_that_does_not_act_on_the_outcome_fails_the_timeline(verdicts):
    statuses, grades = verdicts("null_b")[TRUST]
    for criterion in ("strong_association", "timeline", "plausibility"):
        assert met(statuses, criterion) <= 1, (criterion, statuses)
    assert grades[SUPPORTED] + grades["established"] == 0
