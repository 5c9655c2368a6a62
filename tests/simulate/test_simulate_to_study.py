"""`SimulatedStudy.to_study` builds the same checked study in memory as writing and loading the folder."""

from __future__ import annotations

import pandas as pd
import pytest

from moclab.errors import ValidationError
from moclab.evidence import analyze
from moclab.simulate import simulate_study
from moclab.study import load_study, study_from_tables

SPEC = {
    "design": {"sites": 6, "recipients": 12, "randomization": {"level": "site"}, "waves": {"count": 2}},
    "missing": {"rate": 0.05},
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    simulated = simulate_study("recipient-pathway", SPEC, seed=11)
    loaded = load_study(simulated.write(tmp_path_factory.mktemp("sim") / "study"), show_progress=False)
    return simulated, loaded, simulated.to_study()


def test_to_study_equals_the_loaded_folder(pair):
    _, loaded, built = pair
    for name in ("recipients", "measures", "activities", "outcomes"):
        written, memory = getattr(loaded, name), getattr(built, name)
        assert (written is None) == (memory is None)
        if written is not None:
            assert dict(written.dtypes) == dict(memory.dtypes), name
    # The CSV files keep 10 significant digits; the study in memory keeps every digit.
    pd.testing.assert_frame_equal(loaded.wide(), built.wide(), rtol=1e-8)
    assert built.config == loaded.config
    assert [node.id for node in built.model.nodes] == [node.id for node in loaded.model.nodes]


def test_to_study_gives_the_same_evidence_verdicts(pair):
    _, loaded, built = pair
    options = {"n_boot": 100, "seed": 5, "ci": "percentile", "show_progress": False}
    verdicts = []
    for study in (loaded, built):
        card = analyze(study, **options).scorecard
        verdicts.append(card.to_frame())
    assert verdicts[0].shape[1] == 8 and len(verdicts[0]) >= 1  # the conclusion and seven criteria
    pd.testing.assert_frame_equal(*verdicts)


def test_study_from_tables_runs_the_real_checks(pair):
    simulated, _, _ = pair
    measures = simulated.measures.copy()
    measures["value"] = measures["value"].astype(object)
    measures.loc[3, "value"] = "lots"
    tables = {"recipients": simulated.recipients, "measures": measures}
    with pytest.raises(ValidationError) as caught:
        study_from_tables(simulated.config, tables, folder="nowhere", model=simulated.model)
    messages = [problem.message for problem in caught.value.problems]
    assert any("not a number" in message for message in messages)
    located = [str(problem) for problem in caught.value.problems if "not a number" in problem.message]
    assert "row 4" in located[0] and "line" not in located[0]


def test_study_from_tables_refuses_an_undeclared_table(pair):
    simulated, _, _ = pair
    tables = {name: getattr(simulated, name) for name in ("recipients", "measures", "activities", "outcomes")}
    tables = {name: frame for name, frame in tables.items() if frame is not None}
    tables["visits"] = simulated.recipients
    with pytest.raises(ValidationError, match=r"tables\.visits"):
        study_from_tables(simulated.config, tables, folder="nowhere", model=simulated.model)
