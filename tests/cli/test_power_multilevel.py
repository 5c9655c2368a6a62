"""`moclab power-multilevel`: the analytic multilevel power table and the cheapest allocation.

The numbers printed are checked against the library (`moclab.design.multilevel`, itself checked against
PowerUpR's documented cross-checks and simulations in tests/design/test_multilevel_power.py) and against
a brute-force search written here; bad options stop the command with exit status 2 before any work.
"""

from __future__ import annotations

import math

import pytest

from moclab.design.multilevel import MultilevelMediationDesign, multilevel_power

from .conftest import run_moclab as moclab


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")


def test_prints_one_row_per_design_with_powerupr_cross_check_values(capsys):
    # PowerUpR's power.med221 example (cra2r2 help page): power .90 for each path at J = 40, n = 100
    code, out, err = moclab(
        capsys,
        "power-multilevel",
        "--design", "2-2-1",
        "--sites", "40",
        "--per-site", "50,100",
        "--a", "0.6596",
        "--b", "0.1891",
        "--direct", "0.1",
        "--icc-y", "0.15",
        "--r2-y2", "0.52",
        "--r2-y1", "0.40",
        "--r2-m2", "0.50",
    )  # fmt: skip
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("40 ")]
    assert [row[1] for row in rows] == ["50", "100"]
    assert rows[1][2:5] == ["0.901", "0.900", "0.810"]  # a path, b path, joint test
    design = MultilevelMediationDesign(
        "2-2-1", a=0.6596, b=0.1891, direct=0.1, icc_y=0.15, r2_y2=0.52, r2_y1=0.40, r2_m2=0.50
    )
    expected = multilevel_power(design, 40, 50, tests=["joint", "sobel"]).iloc[0]
    assert rows[0][2:6] == [
        f"{expected[c]:.3f}" for c in ("power_a", "power_b", "power_joint", "power_sobel")
    ]
    assert "MC interval" not in out


def test_monte_carlo_column_and_too_few_sites(capsys):
    code, out, err = moclab(
        capsys,
        "power-multilevel",
        "--sites", "5,30",
        "--per-site", "10",
        "--icc-m", "0.2",
        "--icc-y", "0.2",
        "--mc",
        "--n-mc", "400",
        "--seed", "4",
    )  # fmt: skip
    assert code == 0, err
    assert "MC interval" in out
    five = next(line.split() for line in out.splitlines() if line.strip().startswith("5 "))
    # a has J - 4 = 1 degree of freedom at 5 sites, B none: no power for B and the indirect effect
    assert five[2] != "—" and five[3:] == ["—"] * 4
    assert "fewer than 6 sites" in out


def test_budget_gives_the_best_allocation_of_a_brute_force_search(capsys):
    code, out, err = moclab(
        capsys,
        "power-multilevel",
        "--design", "2-2-1",
        "--a", "0.8",
        "--b", "0.3",
        "--icc-y", "0.2",
        "--budget", "150000",
        "--cost-site", "3000",
        "--cost-recipient", "40",
    )  # fmt: skip
    assert code == 0, err
    design = MultilevelMediationDesign("2-2-1", a=0.8, b=0.3, icc_y=0.2)
    best = (-1.0, 0, 0)
    for n in range(2, 201):
        j = math.floor(150_000 / (3000 + 40 * n))
        power = float(multilevel_power(design, j, n, tests=["joint"])["power_joint"].iloc[0])
        best = max(best, (power, j, n))
    assert f"{best[1]} sites of {best[2]} recipients" in out
    assert f"{best[0]:.3f}" in out
    assert "←" in out


def test_target_gives_the_cheapest_design(capsys):
    code, out, err = moclab(
        capsys,
        "power-multilevel",
        "--design", "2-2-1",
        "--a", "0.8",
        "--b", "0.3",
        "--icc-y", "0.2",
        "--target", "0.8",
        "--cost-site", "3000",
        "--cost-recipient", "40",
        "--per-site", "2:30",
    )  # fmt: skip
    assert code == 0, err
    design = MultilevelMediationDesign("2-2-1", a=0.8, b=0.3, icc_y=0.2)
    cheapest = None
    for n in range(2, 31):
        table = multilevel_power(design, range(5, 300), n, tests=["joint"])
        j = int(table.loc[table["power_joint"] >= 0.8, "sites"].min())
        cost = j * (3000 + 40 * n)
        cheapest = min(cheapest or (cost, j, n), (cost, j, n))
    assert f"{cheapest[1]} sites of {cheapest[2]} recipients, cost {cheapest[0]:,}" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--icc-y", "1.2"], "--icc-y 1.2: an ICC lies in [0, 1)"),
        (["--icc-m", "-0.1"], "--icc-m -0.1: an ICC lies in [0, 1)"),
        (["--treated", "1"], "--treated 1.0: the treated share lies in (0, 1)"),
        (["--design", "3-1-1"], "--design 3-1-1: unknown design"),
        (["--sites", "10..60"], "range to draw from"),
        (["--a", "2.0"], "cannot hold together"),
        (["--n-mc", "10"], "--n-mc 10: give at least 100"),
    ],
)
def test_bad_options_exit_2_before_any_work(capsys, options, message):
    base = {"--sites": "20", "--per-site": "10", "--icc-m": "0.2", "--icc-y": "0.2"}
    for option, value in zip(options[::2], options[1::2], strict=True):
        base[option] = value
    words = [word for pair in base.items() for word in pair]
    code, out, err = moclab(capsys, "power-multilevel", *words)
    assert code == 2, out + err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--budget", "1000", "--cost-site", "2000", "--cost-recipient", "100"],
            "does not pay for the 6 sites",
        ),
        (
            ["--budget", "1e6", "--target", "0.8", "--cost-site", "1", "--cost-recipient", "1"],
            "give one of them",
        ),
        (["--budget", "1e6"], "need --cost-site and --cost-recipient"),
        (["--target", "1.5", "--cost-site", "1", "--cost-recipient", "1"], "a power lies between 0 and 1"),
        (
            ["--budget", "1e6", "--cost-site", "1", "--cost-recipient", "1", "--sites", "20"],
            "chooses the number",
        ),
        ([], "give --sites and --per-site"),
        (
            ["--budget", "1e6", "--cost-site", "1", "--cost-recipient", "1", "--test", "mc"],
            "--test mc: choose",
        ),
    ],
)
def test_bad_allocation_options_exit_2(capsys, options, message):
    code, out, err = moclab(capsys, "power-multilevel", "--icc-m", "0.1", "--icc-y", "0.15", *options)
    assert code == 2, out + err
    assert message in " ".join(err.split())


def test_a_target_out_of_reach_is_a_problem_of_the_input_exit_1(capsys):
    # 2-1-1 with a tiny a path: power .99 needs more sites than the search allows
    code, out, err = moclab(
        capsys,
        "power-multilevel",
        "--a", "0.002",
        "--icc-m", "0.1",
        "--icc-y", "0.15",
        "--target", "0.99",
        "--cost-site", "1000",
        "--cost-recipient", "10",
    )  # fmt: skip
    assert code == 1, out + err
    assert "is not reached with up to 100,000 sites" in " ".join(err.split())
