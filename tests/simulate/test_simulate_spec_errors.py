"""Bad specs give located errors (file, line, what to do), all problems at once, never a traceback."""

from __future__ import annotations

import textwrap

import pytest

from moclab.errors import ConfigError, MoclabError, ValidationError
from moclab.simulate import SimulationSpec, compile_simulation, load_spec, loads_spec, spec_from_dict

GOOD = """\
design:
  sites: 10
  recipients: 20
  randomization: {level: recipient}
paths:
  x->m: 0.5
  m->y: 0.4
"""


def _problems(error: ValidationError) -> list[str]:
    return [str(problem) for problem in error.problems if problem.severity == "error"]


def _compile(tiny, text: str):
    return compile_simulation(tiny, loads_spec(textwrap.dedent(text), "spec.yaml"))


def test_a_good_spec_compiles(tiny):
    plan = _compile(tiny, GOOD)
    assert plan.truth.path("x", "m") == 0.5


def test_malformed_yaml_names_the_line(tiny):
    with pytest.raises(ConfigError, match=r"spec.yaml:4:\d+: malformed YAML"):
        loads_spec("design:\n  sites: 10\n  recipients: [20\npaths: {}\n", "spec.yaml")


def test_unknown_keys_get_a_did_you_mean_at_their_line():
    with pytest.raises(ValidationError) as caught:
        loads_spec("desing:\n  sites: 3\n", "spec.yaml")
    messages = _problems(caught.value)
    assert any("spec.yaml:1:1" in m and "unknown key 'desing'" in m and "'design'" in m for m in messages)
    with pytest.raises(ValidationError) as caught:
        loads_spec("design:\n  sites: 3\n  recipeints: 5\n", "spec.yaml")
    assert any("spec.yaml:3" in m and "did you mean 'recipients'" in m for m in _problems(caught.value))


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("design:\n  sites: -2\n", "spec.yaml:2", "greater than or equal to 1"),
        ("design:\n  sites: 3\ndefaults:\n  icc: 1.0\n", "spec.yaml:4", "less than 1"),
        ("design:\n  sites: 3\nvariables:\n  m: {icc: -0.1}\n", "spec.yaml:4", "greater than or equal to 0"),
        ("design:\n  sites: 3\ndefaults:\n  stability: 1\n", "spec.yaml:4", "less than 1"),
        ("design:\n  sites: 3\nmissing:\n  rate: 1.5\n", "spec.yaml:4", "less than 1"),
        ("design:\n  sites: 3\n  recipients: {range: [9, 2]}\n", "spec.yaml:3", "low <= high"),
        ("design:\n  sites: 3\n  randomization: {level: clinic}\n", "spec.yaml:3", "Input should be"),
        ("design:\n  sites: 3\nscale: zscores\n", "spec.yaml:3", "standardized"),
    ],
)
def test_out_of_range_values_are_located(text, where, what):
    with pytest.raises(ValidationError) as caught:
        loads_spec(text, "spec.yaml")
    assert any(where in m and what in m for m in _problems(caught.value)), _problems(caught.value)


def test_a_spec_must_be_a_mapping_and_not_empty(tmp_path):
    with pytest.raises(ValidationError, match="must be a mapping"):
        loads_spec("- design\n- paths\n", "spec.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no YAML content"):
        load_spec(empty)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: Caf\xe9\ndesign: {sites: 2}\n".encode("cp1252"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_spec(latin)
    with pytest.raises(ConfigError, match="file not found"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="duplicate key 'sites'"):
        loads_spec("design:\n  sites: 2\n  sites: 3\n", "spec.yaml")
    with pytest.raises(ConfigError, match="not allowed"):
        loads_spec("design: !!python/object:os.system {}\n", "spec.yaml")


def test_an_unknown_edge_is_located_with_a_suggestion(tiny):
    with pytest.raises(ValidationError) as caught:
        _compile(tiny, GOOD + "  m->z: 0.3\n  x-m: 0.1\n")
    messages = _problems(caught.value)
    assert any("spec.yaml:8" in m and "no causal edge 'm->z'" in m and "'m->y'" in m for m in messages), (
        messages
    )
    assert any("spec.yaml:9" in m and "'x-m' is not an edge" in m for m in messages), messages


def test_model_dependent_problems_are_all_reported_at_once(tiny):
    text = """\
    design:
      sites: 1
      recipients: 20
      randomization: {level: team}
      waves: [{id: a, month: 0}, {id: a, month: 0}]
    paths:
      x->m: {effect: 0.5, lag: 1}
      w->x->m: 0.2
    null_mechanisms: [y]
    direct: {m->y: 0.1}
    variables:
      x: {icc: 0.1}
      mm: {icc: 0.1}
      y: {instrument: aimm}
      n: {team_icc: 0.2}
    moderators:
      ww: {interaction: 0.2}
      w: {interaction: {x->n: 0.2}}
    preconditions:
      m: {share: 0.5}
    confounders:
      m: {effects: {x: 0.2}, exposure: 1.0}
    dose: {level: site, cv: 0, slopes: {m: 0.2, z: 0.1}}
    missing: {rate: [0.1], dropout: [0.1, 0.1]}
    """
    with pytest.raises(ValidationError) as caught:
        _compile(tiny, text)
    messages = "\n".join(_problems(caught.value))
    expected = [
        ("spec.yaml:4", "no teams"),
        ("spec.yaml:5", "used twice"),
        ("spec.yaml:5", "time order"),
        ("spec.yaml:7", "strategy's edges have no lag"),
        ("spec.yaml:8", "is not an edge"),
        ("spec.yaml:9", "'y' is not a mechanism"),
        ("spec.yaml:10", "starts at a strategy"),
        ("spec.yaml:12", "its settings go under 'design.randomization'"),
        ("spec.yaml:13", "no node 'mm'"),
        ("spec.yaml:14", "aimm"),
        ("spec.yaml:15", "'team_icc' needs teams"),
        ("spec.yaml:17", "'ww' is not a moderator"),
        ("spec.yaml:18", "'w' does not moderate 'x->n'"),
        ("spec.yaml:20", "'m' is not a precondition"),
        ("spec.yaml:22", "is a node of the model"),
        ("spec.yaml:22", "'x' is not a determinant, mechanism or outcome"),
        ("spec.yaml:22", "observational designs only"),
        ("spec.yaml:23", "'z' is not acted on by a strategy"),
        ("spec.yaml:23", "needs support that varies"),
        ("spec.yaml:24", "'rate' lists 1 values for 2 waves"),
        ("spec.yaml:24", "'dropout' lists 2 values"),
    ]
    for where, what in expected:
        assert any(where in line and what in line for line in messages.splitlines()), (where, what, messages)


def test_paths_that_explain_all_of_a_nodes_variance_are_refused(tiny):
    text = GOOD.replace("m->y: 0.4", "m->y: 0.8\n  n->y: 0.8") + "defaults: {stability: 0.5}\n"
    with pytest.raises(ValidationError) as caught:
        _compile(tiny, text.replace("x->m: 0.5", "x->m: 0.5\n  x->n: 0.5"))
    assert any("causes of 'y' explain" in m for m in _problems(caught.value))


def test_an_alpha_the_scale_cannot_reach_is_refused(tiny):
    text = GOOD + "variables:\n  y: {instrument: aim, alpha: 0.99, mean: 4.6, sd: 0.4}\n"
    with pytest.raises(ValidationError) as caught:
        _compile(tiny, text)
    assert any("spec.yaml:9" in m and "cannot be reached" in m for m in _problems(caught.value))


def test_an_unknown_instrument_gets_a_suggestion(tiny):
    with pytest.raises(ValidationError) as caught:
        _compile(tiny, GOOD + "variables:\n  y: {instrument: aimm}\n")
    (message,) = _problems(caught.value)
    assert "spec.yaml:9" in message and "'aim'" in message


def test_python_api_validates_the_same_way(tiny):
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        spec_from_dict({"design": {"sites": 0}})
    spec = SimulationSpec(design={"sites": 4, "randomization": {"level": "recipient"}}, paths={"x->q": 0.2})
    with pytest.raises(ValidationError, match="no causal edge 'x->q'"):
        compile_simulation(tiny, spec)
    with pytest.raises(ValidationError, match="sites"):
        spec.with_design(sites=-1)
    with pytest.raises(MoclabError, match="seed"):
        compile_simulation(tiny, spec.model_copy(update={"paths": {}})).wide(seed=-3)


def test_site_randomization_needs_two_sites(tiny):
    with pytest.raises(ValidationError, match="randomizing sites needs at least two sites"):
        compile_simulation(tiny, {"design": {"sites": 1}})


def test_two_variables_may_not_write_the_same_column(tiny):
    text = GOOD + "variables:\n  m: {measure: y}\n  n: {measure: month}\n"
    with pytest.raises(ValidationError) as caught:
        _compile(tiny, text)
    messages = _problems(caught.value)
    assert any("'y' (a column of 'y') is already used by 'm'" in m for m in messages), messages
    assert any("spec.yaml:10" in m and "'month'" in m for m in messages), messages


def test_yes_and_no_written_without_quotes_are_labels():
    spec = loads_spec("design: {sites: 2}\npreconditions:\n  p: {share: 0.5, values: [yes, no]}\n")
    assert spec.preconditions["p"].values == ("yes", "no")
