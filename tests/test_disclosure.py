"""Small-cell suppression (`moclab.disclosure`) against an attacker written here, independently of the module.

The attacker knows every shown cell's members and the sum of a value over them. For every group of 1 to
k - 1 units of a small world it asks numpy's least squares whether the group's indicator is a linear
combination of the shown cells' indicators; when it is, the same combination of the shown sums is the
group's sum, whatever the values. Protected worlds must leave no such group; the same worlds unprotected, or
with only the small cells hidden, must leave some (so the attacker is not blind).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Collection, Hashable, Sequence

import numpy as np
import pytest

import moclab.disclosure as disclosure
from moclab.disclosure import DEFAULT_K, MINIMUM_K, Cell, Suppression, check_k, explain, protect
from moclab.errors import DataError, UsageError

# ---------------------------------------------------------------------------------------------------------
# The attacker


def membership_matrix(cells: Sequence[Cell], shown: Collection[Hashable], units: list) -> np.ndarray:
    """Rows: the shown cells (in the given order); columns: the units; 1 where the unit is a member."""
    rows = [cell for cell in cells if cell.key in shown]
    return np.array([[unit in cell.members for unit in units] for cell in rows], dtype=float).reshape(
        len(rows), len(units)
    )


def disclosed_groups(cells: Sequence[Cell], shown: Collection[Hashable], k: int) -> list[tuple]:
    """Every group of 1 to k - 1 units whose indicator is a linear combination of the shown cells'."""
    units = sorted(set().union(*(cell.members for cell in cells)))
    matrix = membership_matrix(cells, shown, units)
    if matrix.size == 0:
        return []
    found = []
    for size in range(1, k):
        groups = np.array(list(itertools.combinations(range(len(units)), size)), dtype=int).reshape(-1, size)
        indicators = np.zeros((len(units), len(groups)))
        indicators[groups, np.arange(len(groups))[:, None]] = 1.0
        coefficients = np.linalg.lstsq(matrix.T, indicators, rcond=None)[0]
        residual = np.abs(matrix.T @ coefficients - indicators).max(axis=0)
        found += [tuple(units[index] for index in groups[row]) for row in np.flatnonzero(residual < 1e-6)]
    return found


def recovered_sum(
    cells: Sequence[Cell], shown: Collection[Hashable], group: Collection, values: dict
) -> float:
    """The sum of `values` over `group` as the attacker computes it from the shown cells' sums alone."""
    units = sorted(set().union(*(cell.members for cell in cells)))
    matrix = membership_matrix(cells, shown, units)
    indicator = np.array([unit in group for unit in units], dtype=float)
    coefficients = np.linalg.lstsq(matrix.T, indicator, rcond=None)[0]
    shown_sums = np.array([sum(values[unit] for unit in cell.members) for cell in cells if cell.key in shown])
    return float(coefficients @ shown_sums)


def only_small_cells_hidden(cells: Sequence[Cell], k: int) -> set:
    """The keys a dashboard with primary suppression alone would show: cells with no members or at least k."""
    return {cell.key for cell in cells if len(cell.members) == 0 or len(cell.members) >= k}


# ---------------------------------------------------------------------------------------------------------
# Worlds a dashboard shows

TEAM_SIZES = {(0, 0): 1, (0, 1): 6, (1, 0): 2, (1, 1): 5, (2, 0): 4, (2, 1): 6}


def recipients_world(seed: int) -> list[Cell]:
    """3 sites of 2 teams (1 and 6, 2 and 5, 4 and 6 recipients), 4 waves each recipient answered or not;
    units are recipients. Cells for the whole organisation, each site and each team: its recipients, who
    answered wave w, and who had answered by wave w (the waves so far)."""
    rng = np.random.default_rng(seed)
    recipients = []
    for (site, team), size in TEAM_SIZES.items():
        for _ in range(size):
            answered = {wave for wave in range(1, 5) if rng.random() < 0.75}
            recipients.append((len(recipients), site, team, answered))
    scopes = {("all",): lambda site, team: True}
    for site in range(3):
        scopes[("site", site)] = lambda s, t, site=site: s == site
    for site, team in TEAM_SIZES:
        scopes[("team", site, team)] = lambda s, t, site=site, team=team: (s, t) == (site, team)
    cells = []
    for scope, inside in scopes.items():
        members = [(unit, waves) for unit, site, team, waves in recipients if inside(site, team)]
        cells.append(Cell((*scope, "recipients"), frozenset(unit for unit, _ in members)))
        for wave in range(1, 5):
            cells.append(Cell((*scope, "wave", wave), frozenset(u for u, waves in members if wave in waves)))
            cells.append(
                Cell(
                    (*scope, "waves to", wave),
                    frozenset(u for u, waves in members if min(waves, default=9) <= wave),
                )
            )
    return cells


def responses_world(seed: int) -> list[Cell]:
    """2 sites of 2 teams (1, 2, 4 and 5 recipients), 3 waves; units are responses (recipient, wave). Cells
    for the organisation, each site and each team: the responses of wave w, and of the waves up to w."""
    rng = np.random.default_rng(seed)
    responses = []
    recipient = 0
    for (site, team), size in zip([(0, 0), (0, 1), (1, 0), (1, 1)], [1, 2, 4, 5], strict=True):
        for _ in range(size):
            responses += [(recipient, wave, site, team) for wave in range(1, 4) if rng.random() < 0.8]
            recipient += 1
    scopes = {("all",): lambda site, team: True}
    for site in range(2):
        scopes[("site", site)] = lambda s, t, site=site: s == site
        for team in range(2):
            scopes[("team", site, team)] = lambda s, t, site=site, team=team: (s, t) == (site, team)
    cells = []
    for scope, inside in scopes.items():
        for wave in range(1, 4):
            cells.append(
                Cell(
                    (*scope, "wave", wave),
                    frozenset((r, w) for r, w, s, t in responses if inside(s, t) and w == wave),
                )
            )
            cells.append(
                Cell(
                    (*scope, "waves to", wave),
                    frozenset((r, w) for r, w, s, t in responses if inside(s, t) and w <= wave),
                )
            )
    return cells


WORLDS = [(recipients_world, seed) for seed in range(3)] + [(responses_world, seed) for seed in range(3)]


def random_world(rng: np.random.Generator) -> tuple[list[Cell], int]:
    """A world of 6 to 15 units and 1 to 8 cells of every shape (random subsets, nested chains, the parts
    of a partition with their total, empty cells), and a threshold from 3 to 5."""
    units = int(rng.integers(6, 16))
    k = int(rng.integers(MINIMUM_K, 6))
    cells: list[Cell] = []
    wanted = int(rng.integers(1, 9))
    while len(cells) < wanted:
        shape = rng.integers(4)
        if shape == 0:
            new = [np.flatnonzero(rng.random(units) < rng.uniform(0.1, 0.9))]
        elif shape == 1:
            chain = rng.permutation(units)
            new = [chain[:end] for end in np.sort(rng.choice(units + 1, size=2, replace=False))]
        elif shape == 2:
            labels = rng.integers(0, int(rng.integers(2, 4)), size=units)
            new = [np.arange(units)] + [np.flatnonzero(labels == label) for label in np.unique(labels)]
        else:
            new = [np.zeros(0, dtype=int)]
        cells += [
            Cell(("cell", len(cells) + i), frozenset(members.tolist())) for i, members in enumerate(new)
        ]
    return cells, k


# ---------------------------------------------------------------------------------------------------------
# The attacker works


@pytest.mark.parametrize(("world", "seed"), WORLDS)
def test_the_worlds_disclose_without_protection(world, seed):
    cells = world(seed)
    assert disclosed_groups(cells, {cell.key for cell in cells}, DEFAULT_K)
    # hiding the small cells alone is not enough: differences give groups away
    assert disclosed_groups(cells, only_small_cells_hidden(cells, DEFAULT_K), DEFAULT_K)


def test_the_attacker_recovers_a_hidden_team_from_its_site_minus_the_other_team():
    cells = recipients_world(0)
    shown = only_small_cells_hidden(cells, DEFAULT_K)
    lonely = next(cell for cell in cells if cell.key == ("team", 0, 0, "recipients"))
    assert lonely.key not in shown and len(lonely.members) == 1
    assert tuple(lonely.members) in disclosed_groups(cells, shown, DEFAULT_K)
    values = {unit: float(3 + 7 * unit % 11) for unit in range(24)}
    (unit,) = lonely.members
    assert recovered_sum(cells, shown, lonely.members, values) == pytest.approx(values[unit])


# ---------------------------------------------------------------------------------------------------------
# After protection nothing can be worked out


@pytest.mark.parametrize("k", [3, 4, 5])
@pytest.mark.parametrize(("world", "seed"), WORLDS)
def test_protected_worlds_disclose_no_small_group(world, seed, k):
    cells = world(seed)
    result = explain(cells, k)
    assert disclosed_groups(cells, result.shown, k) == []
    assert result.primary == {cell.key for cell in cells if 1 <= len(cell.members) < k}
    assert result.shown | result.suppressed == {cell.key for cell in cells}
    assert not result.shown & result.suppressed


def test_the_organisation_total_stays_shown_in_the_hierarchy():
    for seed in range(3):
        assert ("all", "recipients") in explain(recipients_world(seed)).shown


def test_random_worlds_disclose_nothing_after_protection():
    rng = np.random.default_rng(20240614)
    disclosing = 0
    for _ in range(200):
        cells, k = random_world(rng)
        disclosing += bool(disclosed_groups(cells, {cell.key for cell in cells}, k))
        result = explain(cells, k)
        assert disclosed_groups(cells, result.shown, k) == [], cells
        assert result.primary == {cell.key for cell in cells if 1 <= len(cell.members) < k}
        assert {cell.key for cell in cells if not cell.members} <= result.shown
        assert set(result.reasons) == result.suppressed
        assert result.shown | result.suppressed == {cell.key for cell in cells}
        shuffled = [cells[index] for index in rng.permutation(len(cells))]
        assert explain(shuffled, k) == result
    assert disclosing > 100  # the worlds are not trivially safe


def test_worlds_that_share_no_unit_are_decided_each_on_its_own():
    """Two worlds side by side (their units renamed apart, as a dashboard's waves share no answer): the
    decision is the union of each world's own, and the brute-force attacker finds nothing in the whole."""
    first = recipients_world(1)
    second = [
        Cell(("second", cell.key), frozenset(1000 + unit for unit in cell.members))
        for cell in recipients_world(2)
    ]
    alone = explain(first).suppressed | explain(second).suppressed
    together = explain([*first, *second])
    assert together.suppressed == alone
    assert disclosed_groups([*first, *second], together.shown, DEFAULT_K) == []


def test_the_integer_program_decides_as_the_enumeration_does(monkeypatch):
    """With no unions allowed to be enumerated, every component of two or more atoms goes to the MILP."""
    calls = []
    milp = disclosure.optimize.milp

    def counted(*args, **kwargs):
        calls.append(1)
        return milp(*args, **kwargs)

    monkeypatch.setattr(disclosure, "_ENUMERATION_BUDGET", 0)
    monkeypatch.setattr(disclosure.optimize, "milp", counted)
    rng = np.random.default_rng(7)
    for _ in range(60):
        cells, k = random_world(rng)
        assert disclosed_groups(cells, explain(cells, k).shown, k) == []
    for world, seed in WORLDS:
        cells = world(seed)
        assert disclosed_groups(cells, explain(cells).shown, DEFAULT_K) == []
    assert len(calls) > 20


# ---------------------------------------------------------------------------------------------------------
# Cases checked by hand


def twelve(parts: Sequence[int]) -> list[Cell]:
    """A total of 12 units and its parts of the given sizes, keyed "part of 9" ("part of 6 #2" when two
    parts have the same size)."""
    cells, start = [Cell("total", frozenset(range(12)))], 0
    for number, size in enumerate(parts, start=1):
        key = f"part of {size}" if parts.count(size) == 1 else f"part of {size} #{number}"
        cells.append(Cell(key, frozenset(range(start, start + size))))
        start += size
    return cells


def test_a_part_of_3_hides_the_other_part_too_and_the_total_stays():
    result = explain(twelve([9, 3]))
    assert result.suppressed == {"part of 3", "part of 9"}
    assert result.shown == {"total"}
    assert result.reasons == {
        "part of 3": "primary: fewer than k = 5 (3 members)",
        "part of 9": "complementary: would reveal 'part of 3' by difference",
    }
    assert result.primary == {"part of 3"} and result.complementary == {"part of 9"}


def test_the_threshold_decides_what_is_small():
    assert protect(twelve([9, 3]), k=3) == frozenset()
    assert protect(twelve([9, 3]), k=4) == {"part of 3", "part of 9"}
    assert protect(twelve([8, 4]), k=4) == frozenset()
    assert protect(twelve([8, 4]), k=5) == {"part of 4", "part of 8"}


def test_two_parts_of_6_hide_nothing():
    assert protect(twelve([6, 6])) == frozenset()


def test_cells_of_at_least_k_that_do_not_overlap_hide_nothing():
    cells = [Cell(("team", team), frozenset(range(10 * team, 10 * team + 5 + team))) for team in range(6)]
    assert protect(cells) == frozenset()
    # nor with their total and a wave that splits every team into two parts of at least 5
    teams = [Cell(("team", team), frozenset(range(10 * team, 10 * team + 10))) for team in range(4)]
    total = Cell(("total",), frozenset(range(40)))
    waves = [Cell(("team", team, "wave", 1), frozenset(range(10 * team, 10 * team + 5))) for team in range(4)]
    assert protect([*teams, total, *waves]) == frozenset()


def test_two_filters_that_differ_by_2_units_cannot_both_show():
    narrow, wide = Cell("filter A", frozenset(range(10))), Cell("filter A or B", frozenset(range(12)))
    result = explain([narrow, wide])
    assert result.suppressed == {"filter A"}  # the smaller of the two
    assert result.reasons["filter A"] == "complementary: would reveal a group of 2 units by difference"
    assert protect([narrow, wide], k=3) == {"filter A"}
    three_apart = [narrow, Cell("filter A or C", frozenset(range(13)))]
    assert protect(three_apart, k=3) == frozenset()
    assert protect(three_apart, k=4) == {"filter A"}


def test_the_waves_so_far_cannot_reveal_the_newcomers_of_a_wave():
    by_wave_1 = Cell(("waves to", 1), frozenset(range(6)))
    by_wave_2 = Cell(("waves to", 2), frozenset(range(8)))
    by_wave_3 = Cell(("waves to", 3), frozenset(range(14)))
    result = explain([by_wave_1, by_wave_2, by_wave_3])
    # wave 2 brought 2 newcomers (hidden with the first cell), wave 3 brought 6 (fine once wave 1 is hidden)
    assert result.suppressed == {("waves to", 1)}
    assert disclosed_groups([by_wave_1, by_wave_2, by_wave_3], result.shown, DEFAULT_K) == []


def test_two_small_atoms_revealed_together_are_protected():
    """X - Y gives the sum of units 0 and 1 together; neither alone is given by anything shown."""
    x = Cell("X", frozenset({0, 1, *range(2, 8)}))
    y = Cell("Y", frozenset(range(2, 8)))
    z = Cell("Z", frozenset({0, *range(8, 14)}))
    assert disclosed_groups([x, y, z], {"X", "Y", "Z"}, DEFAULT_K) == [(0, 1)]
    assert protect([x, y, z]) == {"Y"}


def test_a_cell_without_members_is_shown():
    nobody = Cell(("team", 9, "wave", 1), frozenset())
    result = explain([*twelve([6, 6]), nobody])
    assert nobody.key in result.shown and result.suppressed == frozenset()
    assert explain([nobody]).shown == {nobody.key}


def test_no_cells_hide_nothing():
    assert protect([]) == frozenset()
    assert explain([]) == Suppression(k=DEFAULT_K, shown=frozenset(), suppressed=frozenset(), reasons={})


def test_members_may_be_any_iterable():
    assert Cell("team", [1, 2, 2, 3]).members == frozenset({1, 2, 3})


def test_the_result_does_not_depend_on_the_hash_seed():
    """Units that are strings iterate in an order that changes with PYTHONHASHSEED; the result must not."""
    script = (
        "from moclab.disclosure import Cell, explain\n"
        "units = [f'recipient-{i}' for i in range(40)]\n"
        "cells = [Cell(('all',), frozenset(units))]\n"
        "cells += [Cell(('team', t), frozenset(units[s:e])) for t, (s, e) in "
        "enumerate([(0, 3), (3, 9), (9, 15), (15, 21), (21, 40)])]\n"
        "cells += [Cell(('wave', w), frozenset(units[w::3])) for w in range(3)]\n"
        "print(sorted(explain(cells).reasons.items()))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert "complementary" in outputs.pop()


# ---------------------------------------------------------------------------------------------------------
# Bad input


def test_k_below_3_is_refused_with_the_reason():
    assert check_k(MINIMUM_K) == 3
    assert check_k(np.int64(7)) == 7
    with pytest.raises(UsageError, match=r"k is 2, below the floor of 3: .*subtracting their own"):
        check_k(2)
    with pytest.raises(UsageError, match="below the floor of 3"):
        protect(twelve([6, 6]), k=2)
    with pytest.raises(UsageError, match="below the floor of 3"):
        explain([], k=0)


@pytest.mark.parametrize("k", [4.0, True, "5", None])
def test_k_must_be_a_whole_number(k):
    with pytest.raises(UsageError, match="must be a whole number"):
        check_k(k)


def test_duplicate_keys_are_refused():
    cells = [Cell(("site", 1), frozenset(range(6))), Cell(("site", 1), frozenset(range(6, 12)))]
    with pytest.raises(DataError, match=r"two cells have the key \('site', 1\)"):
        protect(cells)


def test_items_that_are_not_cells_are_refused():
    with pytest.raises(DataError, match="item 1 of the cells is a dict, not a Cell"):
        protect([Cell("total", frozenset(range(6))), {"key": "team", "members": {1, 2}}])


def test_unhashable_keys_and_members_are_refused():
    with pytest.raises(DataError, match="must be hashable"):
        Cell(["site", 1], frozenset({1}))
    with pytest.raises(DataError, match="must be hashable"):
        Cell("site", [[1, 2]])
