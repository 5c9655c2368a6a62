"""Small-cell suppression: which aggregates of recipients a dashboard must hide so that no small group's
value can be worked out from the ones it shows.

A dashboard shows cells: a count of recipients (or of their responses) and a sum or mean of some value over
them, for a site, a team, a wave, the waves so far, the whole organisation. `protect` returns the cells to
hide; `explain` says why each is hidden.

The attacker
------------
The attacker sees, for every shown cell, its member count and the sum (equivalently the mean) of a value over
its members, and knows each cell's membership: a site lead knows who is in their team and who answered which
wave. A group G of units is *disclosed* when its sum follows from the shown sums, that is when the indicator
vector 1_G lies in the row space of the membership matrix of the shown cells (rows: shown cells, columns:
units). The sum over G is then the same linear combination of the shown sums, whatever the values are; this
covers a total minus its other parts, one filter minus another, the waves so far minus the earlier waves, and
any longer chain of such differences, the "tracker" of Denning et al. (1979) and the linear reconstruction
of Dinur and Nissim (2003) in their exact, noise-free form.

The guarantee
-------------
After `protect(cells, k)` no group G with 1 <= |G| < k is disclosed by the cells that stay shown. The
threshold k is at least `MINIMUM_K` (3): with k = 2 either member of a pair learns the other's value by
subtracting their own. Cells without members stay shown (they disclose nothing); cells with 1 to k - 1
members are hidden (primary suppression), and further cells are hidden until no small group can be derived
by difference (complementary, or secondary, suppression, as in Hundepool et al. 2012 for tables). Hiding is
all it does: the shown values are exact, never perturbed.

The algorithm
-------------
1. Units are compressed to *atoms*: units with the same membership in every cell. A row-space vector is
   constant on the units of an atom, so a disclosed G is a union of atoms, and the whole computation runs on
   the small cells-by-atoms matrix instead of one column per unit. When a cell is hidden, atoms that differed
   only in that cell merge.
2. Only atoms smaller than k can be part of a group smaller than k. A group of the small atoms T is
   disclosed when 1_G lies in R_T, the vectors of the shown row space that vanish on every larger atom. With
   B an orthonormal basis of the row space (a column-pivoted QR of A', A the shown cells-by-atoms matrix), a
   unit vector Bc lies on T alone exactly when |B[T] c| = 1, so R_T is spanned by the left singular vectors
   of B[T] with singular value 1.
3. The search splits along the connected components of the column matroid of R_T (the classes of atoms
   that lie on a common circuit, i.e. a minimal dependent set of columns). R_T is the direct sum of its parts
   on the components (its dimension is the sum of theirs), so 1_G is in R_T exactly when each part of G is,
   and a minimal disclosed group lies inside one component. An atom alone in its component is a loop (never
   disclosed) or a coloop (disclosed: its indicator is in R_T). In a larger component the unions of two or
   more of its atoms with fewer than k units are enumerated by cardinality and tested all at once with
   numpy by their squared distance to R_T, |G| - 1_G' P 1_G (P the orthogonal projection onto R_T); a
   component with too many unions to enumerate is decided exactly by a mixed-integer program instead (HiGHS
   through `scipy.optimize.milp`). Finding a low-weight 0-1 vector in a subspace is hard in general, so no
   library does it and the search is written here; on dashboards the components are small.
4. For each disclosed group one more cell is hidden. Preferred is a cell that every derivation of the group
   uses (its coefficient is the same non-zero number in every solution y of y'A = 1_G'), since hiding it
   breaks them all, and among those the one with the fewest members: the cheapest to lose, as cell
   suppression minimises the information hidden. A total thus stays shown while the larger part beside a
   hidden part goes. When no cell is in every derivation, a cell of one derivation is hidden and the next
   round handles the others. One group per component is handled per round, skipping a group that the
   round's earlier choices already break; then atoms and groups are computed again, until no group is
   disclosed. Every round hides at least one cell, so it ends. The result depends only on the cells, ordered
   by key (or as given when the keys cannot be compared), never on the order of the units in a set.

Numerical tolerances err on the side of hiding: a group whose distance to the shown row space is below about
1e-4 counts as disclosed. Greedy complementary suppression is not the fewest hidden cells (that problem is
NP-hard; the optimal methods of Hundepool et al. solve integer programs over the whole table), but it never
hides less than the guarantee needs.

References
----------
Denning, D. E., Denning, P. J., & Schwartz, M. D. (1979). The tracker: A threat to statistical database
security. ACM Transactions on Database Systems, 4(1), 76-96.
Dinur, I., & Nissim, K. (2003). Revealing information while preserving privacy. Proceedings of PODS 2003,
202-210.
Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Nordholt, E. S., Spicer, K., & de Wolf, P.-P.
(2012). Statistical Disclosure Control. Wiley.
Krogdahl, S. (1977). The dependence graph for bases in matroids. Discrete Mathematics, 19(1), 47-59.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, sparse
from scipy.sparse import csgraph

from moclab.errors import DataError, MoclabError, UsageError

__all__ = ["DEFAULT_K", "MINIMUM_K", "Cell", "Suppression", "check_k", "explain", "protect"]

#: The threshold when none is configured: no group of fewer than 5 units can be worked out.
DEFAULT_K = 5
#: The lowest threshold accepted: with 2, a member of a pair learns the other's value from their own.
MINIMUM_K = 3

#: A group counts as disclosed when its squared distance to the shown row space is below this.
_RESIDUAL_TOLERANCE = 1e-8
#: Unions of atoms one component may enumerate; a component with more is decided by an integer program.
_ENUMERATION_BUDGET = 50_000


@dataclass(frozen=True)
class Cell:
    """One aggregate a dashboard may show: its `key` and the units it aggregates.

    `members` are hashable unit ids: recipient ids, or (recipient, wave) ids of responses; any iterable is
    turned into a frozenset.
    """

    key: Hashable
    members: frozenset

    def __post_init__(self) -> None:
        try:
            hash(self.key)
            members = frozenset(self.members)
        except TypeError as error:
            raise DataError(f"cell {self.key!r}: its key and members must be hashable ({error})") from None
        object.__setattr__(self, "members", members)


@dataclass(frozen=True)
class Suppression:
    """Which cells are shown and which hidden, with the reason for each hidden one.

    `reasons` maps each suppressed key, primary ones first in key order, then complementary ones in the
    order they were decided, to ``"primary: fewer than k ..."`` or ``"complementary: would reveal ... by
    difference"``.
    """

    k: int
    shown: frozenset
    suppressed: frozenset
    reasons: Mapping[Hashable, str]

    @property
    def primary(self) -> frozenset:
        """The keys hidden because they have 1 to k - 1 members."""
        return frozenset(key for key, reason in self.reasons.items() if reason.startswith("primary"))

    @property
    def complementary(self) -> frozenset:
        """The keys hidden because a small group could otherwise be worked out by difference."""
        return self.suppressed - self.primary


def check_k(k: int) -> int:
    """The threshold `k` itself, or a `UsageError` when it is not a whole number of at least `MINIMUM_K`.

    Examples
    --------
    >>> check_k(5)
    5
    >>> check_k(2)
    Traceback (most recent call last):
    ...
    moclab.errors.UsageError: the small-cell threshold k is 2, below the floor of 3: ...
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise UsageError(f"the small-cell threshold k must be a whole number, got {k!r}")
    if k < MINIMUM_K:
        raise UsageError(
            f"the small-cell threshold k is {k}, below the floor of {MINIMUM_K}: with fewer, a member of a "
            "pair learns the other's value by subtracting their own",
            hint=f"use k = {DEFAULT_K} (the default) or any whole number from {MINIMUM_K} up",
        )
    return int(k)


def protect(cells: Sequence[Cell], k: int = DEFAULT_K) -> frozenset:
    """The keys of the cells to suppress so that no group of 1 to k - 1 units can be worked out.

    See `explain` for the reasons, and the module's docstring for the attacker and the method.

    Examples
    --------
    >>> total = Cell("total", frozenset(range(12)))
    >>> parts = [Cell("part of 9", frozenset(range(9))), Cell("part of 3", frozenset(range(9, 12)))]
    >>> sorted(protect([total, *parts]))
    ['part of 3', 'part of 9']
    >>> sorted(protect([total, *parts], k=3))
    []
    """
    return explain(cells, k).suppressed


def explain(cells: Sequence[Cell], k: int = DEFAULT_K) -> Suppression:
    """The cells to show and to suppress, with the reason each suppressed cell is hidden.

    Parameters
    ----------
    cells : sequence of Cell
        Every aggregate the page may show, each with a distinct key; overlapping and nested cells (a site
        and its teams, a wave and the waves so far) are what complementary suppression is for.
    k : int
        The threshold: no group of fewer than `k` units may be worked out (at least `MINIMUM_K`).

    Raises
    ------
    UsageError
        When `k` is below `MINIMUM_K` or not a whole number.
    DataError
        When two cells share a key, or an item is not a `Cell`.

    Examples
    --------
    >>> cells = [
    ...     Cell("total", frozenset(range(12))),
    ...     Cell("part of 9", frozenset(range(9))),
    ...     Cell("part of 3", frozenset(range(9, 12))),
    ... ]
    >>> result = explain(cells)
    >>> sorted(result.shown)
    ['total']
    >>> for key, reason in result.reasons.items():
    ...     print(f"{key}: {reason}")
    part of 3: primary: fewer than k = 5 (3 members)
    part of 9: complementary: would reveal 'part of 3' by difference
    """
    k = check_k(k)
    ordered = _in_stable_order(_validated(cells))
    parts = [_explain_part(part, k) for part in _linked_parts(ordered)]
    reasons = {key: reason for part in parts for key, reason in part.reasons.items()}
    return Suppression(
        k=k,
        shown=frozenset(key for part in parts for key in part.shown),
        suppressed=frozenset(reasons),
        reasons=reasons,
    )


def _linked_parts(cells: list[Cell]) -> list[list[Cell]]:
    """The cells split into parts that share no unit (the connected parts of the graph in which two cells
    are linked when they share a unit), each in the given order.

    Exact, not a shortcut: the shown cells of different parts act on disjoint units, so the row space of
    all of them is the direct sum of the parts' row spaces, and a group is disclosed exactly when its units
    in some part form a group disclosed in that part (one of fewer than k units when the group has fewer).
    The split keeps every part's matrix small: a dashboard's waves share no answer, so each wave is a part,
    and the rounds of `_complementary_round` (a QR factorisation each) run on one wave at a time instead of
    on all of them at once. Union-find by hand: scipy's connected_components would need the cells x units
    incidence matrix built first, which costs more than the walk below."""
    parent = list(range(len(cells)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_cell: dict[Hashable, int] = {}
    for index, cell in enumerate(cells):
        for unit in cell.members:
            other = first_cell.setdefault(unit, index)
            if other != index:
                a, b = root(index), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    parts: dict[int, list[Cell]] = {}
    for index, cell in enumerate(cells):
        parts.setdefault(root(index), []).append(cell)
    return list(parts.values())


def _explain_part(ordered: list[Cell], k: int) -> Suppression:
    """`explain` for cells that are linked (`_linked_parts`), in stable order."""
    keys = [cell.key for cell in ordered]
    membership, sizes = _base_atoms(ordered)
    counts = membership.astype(np.int64) @ sizes
    shown = np.ones(len(ordered), dtype=bool)
    reasons: dict[Hashable, str] = {}
    for index in np.flatnonzero((counts >= 1) & (counts < k)):
        shown[index] = False
        members = f"{counts[index]} member{'s' if counts[index] != 1 else ''}"
        reasons[keys[index]] = f"primary: fewer than k = {k} ({members})"
    while decisions := _complementary_round(membership, sizes, counts, shown, k):
        for index, group in decisions:
            reasons[keys[index]] = _complementary_reason(membership, sizes, shown, keys, group)
            shown[index] = False
    return Suppression(
        k=k,
        shown=frozenset(key for key, show in zip(keys, shown, strict=True) if show),
        suppressed=frozenset(reasons),
        reasons=reasons,
    )


def _validated(cells: Iterable[Cell]) -> list[Cell]:
    """The cells as a list, once each is known to be a `Cell` and no key repeats."""
    cells = list(cells)
    seen: set[Hashable] = set()
    for position, cell in enumerate(cells):
        if not isinstance(cell, Cell):
            raise DataError(f"item {position} of the cells is a {type(cell).__name__}, not a Cell")
        if cell.key in seen:
            raise DataError(
                f"two cells have the key {cell.key!r}",
                hint="give every aggregate of the page its own key, e.g. (level, id, wave, measure)",
            )
        seen.add(cell.key)
    return cells


def _in_stable_order(cells: list[Cell]) -> list[Cell]:
    """The cells sorted by key, so that the result does not depend on the order they were given in; in the
    given order when the keys cannot be compared with each other."""
    try:
        return sorted(cells, key=lambda cell: cell.key)
    except TypeError:
        return cells


def _base_atoms(cells: list[Cell]) -> tuple[np.ndarray, np.ndarray]:
    """(membership, sizes): the units grouped by their membership in every cell (hidden or not), as a
    cells-by-atoms boolean matrix and the number of units of each atom.

    The atoms are ordered by their membership pattern, so the order of the units in the sets (which varies
    with Python's hash seed) never reaches the result.
    """
    lengths = np.fromiter((len(cell.members) for cell in cells), dtype=np.intp, count=len(cells))
    total = int(lengths.sum())
    if total == 0:
        return np.zeros((len(cells), 0), dtype=bool), np.zeros(0, dtype=np.int64)
    # the union of sets reuses the hashes the sets store, so each member is hashed once, by the look-up
    position = {
        unit: index for index, unit in enumerate(frozenset().union(*(cell.members for cell in cells)))
    }
    flat = itertools.chain.from_iterable(cell.members for cell in cells)
    units = np.fromiter(map(position.__getitem__, flat), dtype=np.intp, count=total)
    incidence = np.zeros((len(position), len(cells)), dtype=bool)
    incidence[units, np.repeat(np.arange(len(cells)), lengths)] = True
    first, _, sizes = _distinct_rows(incidence)
    return incidence[first].T, sizes


def _distinct_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first, inverse, counts) of the distinct rows of a boolean matrix with at least one column, in the
    lexicographic order of their bits: each distinct row's first occurrence, each row's distinct row and how
    many rows each distinct row has.

    The rows are packed into 64-bit words and sorted with `np.lexsort`; ``np.unique(axis=0)`` gives the
    same answer several times slower, sorting the rows as opaque byte strings.
    """
    packed = np.packbits(bits, axis=1)
    packed = np.ascontiguousarray(np.pad(packed, ((0, 0), (0, -packed.shape[1] % 8))))
    words = packed.view(">u8")  # big-endian, so the words sort as the bytes do
    order = np.lexsort(words.T[::-1])  # stable: the first occurrence leads each run of equal rows
    ordered = words[order]
    starts = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    inverse = np.empty(len(bits), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    counts = np.diff(np.r_[np.flatnonzero(starts), len(bits)])
    return order[starts], inverse, counts.astype(np.int64)


def _merged_atoms(
    shown_membership: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matrix, sizes, atom_of_base): the atoms of the shown cells alone, merging base atoms that differ only
    in hidden cells, without the units in no shown cell (nothing shown tells anything about them).

    `atom_of_base` gives each base atom's atom, -1 for the unseen ones.
    """
    first, inverse, _ = _distinct_rows(shown_membership.T)
    matrix = shown_membership[:, first]
    seen = matrix.any(axis=0)
    renumbered = np.where(seen, np.cumsum(seen) - 1, -1)
    merged_sizes = np.bincount(inverse, weights=sizes, minlength=len(first)).astype(np.int64)
    return matrix[:, seen], merged_sizes[seen], renumbered[inverse]


def _complementary_round(
    membership: np.ndarray, sizes: np.ndarray, counts: np.ndarray, shown: np.ndarray, k: int
) -> list[tuple[int, np.ndarray]]:
    """The cells to hide next, each with the group (a mask of base atoms) it stops revealing; empty when no
    group of fewer than k units can be worked out from the shown cells.

    Every component of the search holding a disclosed group contributes one group; a group that the cells
    already chosen in this round break is skipped.
    """
    rows = np.flatnonzero(shown)
    if rows.size == 0 or sizes.size == 0:
        return []
    matrix, atom_sizes, atom_of_base = _merged_atoms(membership[rows], sizes)
    if not (atom_sizes < k).any():
        return []
    rowspace = _Rowspace(matrix.astype(float))
    chosen: list[int] = []
    decisions = []
    for group in _disclosed_groups(rowspace, atom_sizes, k):
        cell = rowspace.breaking_cell(group, chosen, counts[rows])
        if cell is not None:
            chosen.append(cell)
            decisions.append((int(rows[cell]), np.isin(atom_of_base, group)))
    return decisions


class _Rowspace:
    """The row space of the shown cells-by-atoms matrix A, from one column-pivoted QR of A': an orthonormal
    basis of it, and every way y of writing one of its vectors as y'A (one solution on a set of independent
    cells, plus the left null space of A, in which each other cell minus its combination of independent
    cells is a vector)."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix
        orthonormal, triangle, pivots = linalg.qr(
            matrix.T, mode="economic", pivoting=True, check_finite=False
        )
        diagonal = np.abs(np.diag(triangle))
        # numpy's matrix_rank tolerance: a rank too high adds a direction to the row space, which can only
        # make more groups count as disclosed
        rank = int((diagonal > diagonal.max(initial=0) * max(matrix.shape) * np.finfo(float).eps).sum())
        self.basis = orthonormal[:, :rank]
        self._triangle, self._pivots = triangle, pivots
        self._independent = np.asfortranarray(triangle[:rank, :rank])  # LAPACK's layout, copied once

    @functools.cached_property
    def _free(self) -> np.ndarray:
        """A basis (columns) of the left null space of A: each dependent cell minus its combination of the
        independent ones."""
        cells, rank = self.matrix.shape[0], self.basis.shape[1]
        free = np.zeros((cells, cells - rank))
        free[self._pivots[:rank]] = -linalg.solve_triangular(
            self._independent, self._triangle[:rank, rank:], check_finite=False
        )
        free[self._pivots[rank:], np.arange(cells - rank)] = 1.0
        return free

    @functools.cached_property
    def _free_scale(self) -> float:
        """The largest coefficient of the left null space basis (at least 1), the scale of its zeros."""
        return max(1.0, float(np.abs(self._free).max(initial=0)))

    def vanishing_outside(self, small: np.ndarray) -> np.ndarray:
        """An orthonormal basis (rows) of R_T: the vectors of the row space that vanish on every atom outside
        `small`, restricted to the `small` atoms.

        A unit vector Bc of the row space (B the orthonormal basis) lies on the small atoms alone exactly
        when |B[small] c| = 1, so R_T is spanned by the left singular vectors of B[small] with singular value
        1. The tolerance lets in vectors with up to about 1e-4 of their length outside, erring on the side
        of hiding.
        """
        if self.basis.shape[1] == 0:
            return np.zeros((0, small.size))
        left, singular, _ = np.linalg.svd(self.basis[small], full_matrices=False)
        return left[:, singular > 1 - 1e-9].T

    def breaking_cell(self, group: np.ndarray, chosen: list[int], members: np.ndarray) -> int | None:
        """The shown cell (row) to hide so that `group` can no longer be derived, or None when hiding the
        cells `chosen` already breaks every derivation.

        Preferred are the cells every remaining derivation uses (hiding one breaks them all: its coefficient
        is the same non-zero number in every solution), then the cells of one derivation; among them the one
        with the fewest `members`, then the first in key order.
        """
        rank = self.basis.shape[1]
        particular = np.zeros(self.matrix.shape[0])
        particular[self._pivots[:rank]] = linalg.solve_triangular(
            self._independent, self.basis[group].sum(axis=0), check_finite=False
        )
        derivation, free = particular, self._free
        if chosen:
            constrained = free[chosen]
            if constrained.shape[1]:
                shift = np.linalg.lstsq(constrained, -particular[chosen], rcond=None)[0]
                derivation = particular + free @ shift
                used = linalg.orth(constrained.T, rcond=None)
                free = free - (free @ used) @ used.T  # the freedom that keeps the chosen cells at zero
            if np.abs(derivation[chosen]).max() > 1e-8 * max(1.0, float(np.abs(particular).max())):
                return None
        support = np.abs(derivation) > 1e-8 * max(1.0, float(np.abs(derivation).max()))
        support[chosen] = False
        fixed = np.linalg.norm(free, axis=1) < 1e-8 * self._free_scale
        candidates = np.flatnonzero(support & fixed)
        if candidates.size == 0:
            candidates = np.flatnonzero(support)
        return int(min(candidates, key=lambda row: (members[row], row)))


def _disclosed_groups(rowspace: _Rowspace, sizes: np.ndarray, k: int) -> list[np.ndarray]:
    """Disclosed groups of fewer than k units (arrays of atom indices), at most one per component of the
    search, components in the order of their first atom; empty when none is disclosed."""
    small = np.flatnonzero(sizes < k)
    basis = rowspace.vanishing_outside(small)
    if basis.shape[0] == 0:
        return []
    projection = basis.T @ basis
    labels = _matroid_components(basis)
    order = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0])
    components = sorted(np.split(order, starts[1:]), key=lambda component: component[0])
    groups = []
    for component in components:
        if component.size == 1:
            # alone in its component: disclosed when it is a coloop, its indicator in R_T
            found = component if 1 - projection[component[0], component[0]] < _RESIDUAL_TOLERANCE else None
        else:
            found = _smallest_union(component, projection, sizes[small], k)
            if found is None:
                found = _smallest_union_by_program(rowspace.matrix, small, component, sizes, k)
        if found is not None and found.size:
            groups.append(small[found])
    return groups


def _matroid_components(basis: np.ndarray) -> np.ndarray:
    """The connected component of each column of `basis` (orthonormal rows) in its column matroid.

    A pivoted QR picks a basis of columns; each other column e is written with some basis columns, which
    with e form its fundamental circuit. Joining e to each of them gives the fundamental graph, whose
    connected components are the matroid's (Krogdahl 1977): an edge joins two columns of one circuit, and
    conversely, when a set X of columns has no edge leaving it, the basis columns in X span X and the others
    span the rest, so the ranks add up and X is a union of components. A loose threshold on the coefficients
    can only add edges, merging components, which keeps the search exact.
    """
    rank, width = basis.shape
    factor, pivots = linalg.qr(basis, mode="r", pivoting=True, check_finite=False)
    coefficients = linalg.solve_triangular(factor[:rank, :rank], factor[:rank, rank:], check_finite=False)
    basic, other = np.nonzero(np.abs(coefficients) > 1e-7)
    graph = sparse.coo_matrix(
        (np.ones(basic.size), (pivots[basic], pivots[rank + other])), shape=(width, width)
    )
    _, labels = csgraph.connected_components(graph, directed=False)
    return labels


def _smallest_union(
    component: np.ndarray, projection: np.ndarray, sizes: np.ndarray, k: int
) -> np.ndarray | None:
    """The first disclosed union of two or more atoms of `component` (fewest atoms, then the first in
    order) with fewer than k units; empty when there is none, None when there are too many to enumerate.

    A single atom of a larger component is never disclosed (only coloops are), so unions start at two.
    """
    weights = sizes[component]
    lightest = np.cumsum(np.sort(weights))
    cardinalities = [count for count in range(2, component.size + 1) if lightest[count - 1] < k]
    if sum(math.comb(component.size, count) for count in cardinalities) > _ENUMERATION_BUDGET:
        return None
    block = projection[np.ix_(component, component)]
    for count in cardinalities:
        combos = np.fromiter(
            itertools.chain.from_iterable(itertools.combinations(range(component.size), count)),
            dtype=np.intp,
            count=math.comb(component.size, count) * count,
        ).reshape(-1, count)
        combos = combos[weights[combos].sum(axis=1) < k]
        # |G| - 1_G' P 1_G is the squared distance of 1_G from R_T
        inside = np.zeros(len(combos))
        for first, second in itertools.product(range(count), repeat=2):
            inside += block[combos[:, first], combos[:, second]]
        hits = np.flatnonzero(count - inside < _RESIDUAL_TOLERANCE)
        if hits.size:
            return component[combos[hits[0]]]
    return np.zeros(0, dtype=np.intp)


def _smallest_union_by_program(
    matrix: np.ndarray, small: np.ndarray, component: np.ndarray, sizes: np.ndarray, k: int
) -> np.ndarray:
    """The disclosed union of atoms of `component` with the fewest units below k, found by a mixed-integer
    program (empty when there is none): binary z on the component's atoms and free coefficients y of the
    shown cells, with A'y = z on the component and 0 on every other atom, 1 <= sum z and sum |atom| z < k.
    The membership matrix has integer entries, so the constraints are exact."""
    cells, atoms = matrix.shape
    columns = small[component]
    equalities = np.zeros((atoms, cells + component.size))
    equalities[:, :cells] = matrix.T
    equalities[columns, cells + np.arange(component.size)] = -1.0
    chosen = np.r_[np.zeros(cells), np.ones(component.size)]
    weight = np.r_[np.zeros(cells), sizes[columns].astype(float)]
    result = optimize.milp(
        weight,
        integrality=chosen,
        bounds=optimize.Bounds(
            np.r_[np.full(cells, -np.inf), np.zeros(component.size)],
            np.r_[np.full(cells, np.inf), np.ones(component.size)],
        ),
        constraints=[
            optimize.LinearConstraint(equalities, 0.0, 0.0),
            optimize.LinearConstraint(chosen, 1.0, np.inf),
            optimize.LinearConstraint(weight, -np.inf, k - 1),
        ],
    )
    if result.status == 2:  # infeasible: no small group of this component is disclosed
        return np.zeros(0, dtype=np.intp)
    if result.x is None:
        raise MoclabError(f"small-cell suppression could not decide a group of cells ({result.message})")
    return component[result.x[cells:] > 0.5]


def _complementary_reason(
    membership: np.ndarray, sizes: np.ndarray, shown: np.ndarray, keys: list, group: np.ndarray
) -> str:
    """Why a cell is about to be hidden: the already hidden cell that shares most units with the group it
    would reveal, or the group's size when it lies outside every hidden cell (a difference of two shown
    filters)."""
    overlaps = membership[~shown][:, group].astype(np.int64) @ sizes[group]
    if overlaps.size and overlaps.max() > 0:
        hidden = np.flatnonzero(~shown)[int(np.argmax(overlaps))]
        return f"complementary: would reveal {keys[hidden]!r} by difference"
    units = int(sizes[group].sum())
    return f"complementary: would reveal a group of {units} unit{'s' if units != 1 else ''} by difference"
