"""The README's first Python example prints what the README shows, and a text arm takes the sign asked for."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moclab.analysis import mediate
from moclab.errors import DataError

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE = re.compile(
    r"^```python\n(from moclab.analysis import mediate\n.*?)^```\n\n```text\n(.*?)^```", re.S | re.M
)


def test_the_readme_mediate_example_prints_the_output_the_readme_shows():
    match = EXAMPLE.search(README.read_text(encoding="utf-8"))
    assert match is not None, "the README's mediate example is followed by its output in a ```text block"
    code, shown = match.groups()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    # compared line by line without trailing blanks (pandas pads the index name; editors strip it)
    assert [line.rstrip() for line in printed.getvalue().splitlines()] == shown.splitlines()
    assert shown.splitlines()[0] == "0 = usual (control), 1 = intensive"


@pytest.fixture
def two_arms() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 200
    treated = rng.integers(0, 2, n)
    trust = 0.6 * treated + rng.normal(size=n)
    frame = pd.DataFrame({"arm": np.where(treated == 1, "intensive", "usual"), "trust": trust})
    frame["adoption"] = 0.5 * trust + rng.normal(size=n)
    frame["treated"] = treated
    return frame


def test_a_text_arm_is_coded_with_the_control_the_user_names(two_arms):
    numeric = mediate(two_arms, x="treated", m="trust", y="adoption", ci="delta")
    usual = mediate(two_arms, x="arm", control="usual", m="trust", y="adoption", ci="delta")
    intensive = mediate(two_arms, x="arm", control="intensive", m="trust", y="adoption", ci="delta")
    a_path = numeric.effect("a[trust]").estimate
    assert a_path > 0.4
    assert usual.effect("a[trust]").estimate == pytest.approx(a_path, rel=1e-12)
    assert intensive.effect("a[trust]").estimate == pytest.approx(-a_path, rel=1e-12)
    assert usual.info["x_coding"] == "0 = usual (control), 1 = intensive"
    assert intensive.info["x_coding"] == "0 = intensive (control), 1 = usual"
    assert "strategy (X): arm (binary arm; 0 = usual (control), 1 = intensive)" in usual.summary()


def test_a_text_arm_without_its_control_is_refused_with_both_choices(two_arms):
    with pytest.raises(DataError) as caught:
        mediate(two_arms, x="arm", m="trust", y="adoption", ci="delta")
    message = str(caught.value)
    assert "text arm with the values 'intensive' and 'usual'" in message
    assert "control='usual'" in message and "control='intensive'" in message


def test_a_control_that_is_not_an_arm_or_given_for_a_dose_is_refused(two_arms):
    with pytest.raises(DataError, match=r"control='usul' is not a value .*did you mean 'usual'"):
        mediate(two_arms, x="arm", control="usul", m="trust", y="adoption", ci="delta")
    with pytest.raises(DataError, match="names the control arm of a binary strategy, but 'trust' is a dose"):
        mediate(two_arms, x="trust", control=0, m="adoption", y="treated", ci="delta")


def test_a_numeric_arm_keeps_its_larger_value_as_1_unless_control_says_otherwise(two_arms):
    two_arms["code"] = np.where(two_arms["treated"] == 1, 2, 1)
    default = mediate(two_arms, x="code", m="trust", y="adoption", ci="delta")
    reversed_ = mediate(two_arms, x="code", control=2, m="trust", y="adoption", ci="delta")
    assert default.info["x_coding"] == "0 = 1, 1 = 2"
    assert reversed_.info["x_coding"] == "0 = 2 (control), 1 = 1"
    assert reversed_.effect("a[trust]").estimate == pytest.approx(-default.effect("a[trust]").estimate)
