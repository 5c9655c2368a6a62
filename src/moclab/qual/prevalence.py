"""Prevalence of codes by a case attribute (e.g. high vs limited engagement), with exact tests.

For every code, each interview (case) either mentions it or not. `prevalence_by_attribute` tabulates how many
interviews of each level of an attribute mention the code and tests whether prevalence differs between levels:

- two levels: Fisher's exact test on the 2×2 table (``scipy.stats.fisher_exact``, two-sided), with the sample
  odds ratio;
- more levels: the Freeman–Halton extension of Fisher's test to the 2×k table, exact by enumerating every
  table with the observed margins (Freeman & Halton 1951); when there are too many tables to enumerate, a
  Monte Carlo p-value from tables drawn with the observed margins (``scipy.stats.fisher_exact`` with
  ``MonteCarloMethod``, seeded). The ``method`` column says which was used.

The two-sided p-value sums the probabilities of all tables no more probable than the observed one (with the
relative tolerance 1e-7 R's ``fisher.test`` uses). p-values are adjusted across codes by Holm's method. With
few interviews (any level below 5 or fewer than 20 in all, as in most interview studies) the result carries a
warning: exact tests are valid at any n but have little power, so read the table as description.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.stats.multitest import multipletests

from moclab.errors import QualError
from moclab.plain import plain
from moclab.qual._common import (
    check_choice,
    code_order,
    coded_spans,
    frame_html,
    joined_names,
    resolve_codes,
    short_code_names,
    summary_report,
    unit_order,
)
from moclab.qual.project import Project

#: Below these numbers of interviews (per level, in all) a small-n warning is given.
SMALL_LEVEL, SMALL_TOTAL = 5, 20
_TOLERANCE = 1e-7


def freeman_halton_2xk(
    table: np.ndarray | Sequence[Sequence[int]],
    *,
    max_tables: int = 2_000_000,
    n_resamples: int = 100_000,
    seed: int | np.random.Generator | None = 0,
) -> tuple[float, str]:
    """Two-sided Fisher–Freeman–Halton test of a 2×k table: (p-value, method).

    Exact: every first row x with 0 <= x_j <= c_j and sum r_1 has hypergeometric probability
    ``prod_j C(c_j, x_j) / C(N, r_1)``; the p-value sums those no larger than the observed table's (times
    1 + 1e-7). All tables are enumerated at once as an integer grid, which is possible while their number
    stays below `max_tables`; beyond that the p-value is estimated by Monte Carlo (`n_resamples` tables drawn
    with the observed margins, via ``scipy.stats.fisher_exact(method=MonteCarloMethod)``).

    References
    ----------
    Freeman GH, Halton JH (1951). Note on an exact treatment of contingency, goodness of fit and other
    problems of significance. Biometrika 38:141–149.
    """
    table = np.asarray(table, dtype=np.int64)
    if table.ndim != 2 or table.shape[0] != 2 or (table < 0).any():
        raise QualError("the Freeman–Halton test needs a 2×k table of non-negative counts")
    columns = table.sum(axis=0)
    columns = columns[columns > 0]
    observed = table[:, table.sum(axis=0) > 0]
    row_total = int(observed[0].sum())
    n = int(columns.sum())
    if len(columns) < 2 or row_total in (0, n):
        return 1.0, "exact (one table)"
    count = float(np.prod(columns[:-1] + 1.0))
    if count > max_tables:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        result = stats.fisher_exact(observed, method=stats.MonteCarloMethod(n_resamples=n_resamples, rng=rng))
        return float(result.pvalue), f"Monte Carlo ({n_resamples} tables)"
    grids = np.meshgrid(*[np.arange(c + 1) for c in columns[:-1]], indexing="ij")
    first = np.stack([g.ravel() for g in grids], axis=1)
    last = row_total - first.sum(axis=1)
    keep = (last >= 0) & (last <= columns[-1])
    rows = np.column_stack([first[keep], last[keep]])

    def log_probability(x: np.ndarray) -> np.ndarray:
        """log of prod_j C(c_j, x_j) / C(N, r_1), the hypergeometric probability of first row x."""
        log_choose = special.gammaln(columns + 1) - special.gammaln(x + 1) - special.gammaln(columns - x + 1)
        log_total = (
            special.gammaln(n + 1) - special.gammaln(row_total + 1) - special.gammaln(n - row_total + 1)
        )
        return log_choose.sum(axis=-1) - log_total

    p = np.exp(log_probability(rows))
    threshold = np.exp(log_probability(observed[0])) * (1 + _TOLERANCE)
    return float(min(1.0, p[p <= threshold].sum())), "exact (Freeman–Halton)"


@dataclass(frozen=True, repr=False)
class Prevalence:
    """Prevalence of each code by the levels of a case attribute, with exact tests.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per code: ``n_<level>`` (interviews of the level that mention the code), ``of_<level>``
        (interviews of the level), ``pct_<level>``, ``odds_ratio`` (two levels only), ``p``, ``p_holm``,
        ``method``.
    attribute : str
        The case attribute.
    levels : tuple
        Its levels, in the order of the columns.
    warnings : tuple of str
        Small-n and missing-value notes.
    info : dict
        Number of interviews and codes, rollup, the p-value adjustment.
    """

    table: pd.DataFrame
    attribute: str
    levels: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "attribute": self.attribute,
                "levels": list(self.levels),
                "rows": self.table,
                "warnings": list(self.warnings),
                "info": self.info,
            }
        )

    def _sizes(self) -> dict[str, int]:
        """Interviews of each level (from the ``of_<level>`` columns; 0 without codes)."""
        first = self.table.iloc[0] if len(self.table) else {}
        return {level: int(first.get(f"of_{level}", 0)) for level in self.levels}

    def _heading(self) -> str:
        sizes = joined_names([f"{level} ({n})" for level, n in self._sizes().items()])
        codes = len(self.table)
        methods = sorted(set(self.table["method"])) if codes else []
        tests = f"; {', '.join(methods)}" + (", Holm-adjusted" if "p_holm" in self.table else "")
        return (
            f"Prevalence of {codes} code{'s' if codes != 1 else ''} by {self.attribute}: "
            f"interviews {sizes}" + (tests if methods else "")
        )

    def summary(self) -> str:
        """Readable report: the levels and their interviews, then per code the interviews of each level that
        mention it, the odds ratio (two levels), p and the Holm-adjusted p."""
        table = pd.DataFrame(index=pd.Index(self.table["code"] if len(self.table) else [], name="code"))
        for level in self.levels:
            n, of, pct = (self.table[f"{kind}_{level}"] for kind in ("n", "of", "pct"))
            table[level] = [
                f"{a}/{b} ({c:.0f}%)" if pd.notna(c) else f"{a}/{b}"
                for a, b, c in zip(n, of, pct, strict=True)
            ]
        for column in ("odds_ratio", "p", "p_holm"):
            if column in self.table:
                table[column] = self.table[column].to_numpy()
        if len(self.table) and self.table["method"].nunique() > 1:
            table["method"] = self.table["method"].to_numpy()
        table.index = table.index.map(short_code_names(list(table.index)))
        return summary_report(self._heading(), table, self.warnings)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        levels = ", ".join(self.levels)
        if len(self.levels) > 6 or len(levels) > 120:
            levels = f"{len(self.levels)} levels"
        attribute = self.attribute if len(self.attribute) <= 40 else f"{self.attribute[:39]}…"
        codes = len(self.table)
        return f"Prevalence({codes} code{'s' if codes != 1 else ''} by {attribute!r}: {levels})"

    def _repr_html_(self) -> str:
        return frame_html(f"Prevalence of codes by {self.attribute}", self.table, self.warnings)


def prevalence_by_attribute(
    project: Project,
    attribute: str,
    *,
    levels: Sequence[object] | None = None,
    codes: Iterable[str] | None = None,
    rollup: bool = False,
    coders: Sequence[str] | None = None,
    by: str = "case",
    max_tables: int = 2_000_000,
    n_resamples: int = 100_000,
    seed: int | np.random.Generator | None = 0,
) -> Prevalence:
    """How many interviews of each attribute level mention each code, and whether that differs.

    Parameters
    ----------
    project : Project
        The coded interviews; the attribute is read from the case's variables (for a source in no case, from
        the source's variables).
    attribute : str
        The case attribute, e.g. ``"engagement"``.
    levels : sequence, optional
        The levels to compare, in this order (others are left out); by default every level found, sorted.
    codes : iterable of str, optional
        The codes to tabulate (names, paths or GUIDs); by default every codable code.
    rollup : bool
        A code counts as mentioned when it or any code below it was applied.
    coders : sequence of str, optional
        Use only these coders' codings.
    by : {"case", "source"}
        What one interview is.
    max_tables, n_resamples, seed
        When the exact Freeman–Halton enumeration would exceed `max_tables` tables, a Monte Carlo p-value from
        `n_resamples` tables drawn with generator `seed` is used instead.

    Returns
    -------
    Prevalence

    References
    ----------
    Fisher RA (1935). The logic of inductive inference. J R Stat Soc 98:39–82. Freeman GH, Halton JH (1951).
    Biometrika 38:141–149. Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J
    Stat 6:65–70.
    """
    check_choice(by, ("case", "source"), "unit")
    units = unit_order(project, by)
    values: dict[str, object] = {}
    if by == "case":
        for case in project.cases:
            if attribute in case.variables:
                values.setdefault(case.name, case.variables[attribute])
    for source in project.sources:
        if attribute in source.variables:
            values.setdefault(source.name, source.variables[attribute])
    known = {unit: values[unit] for unit in units if unit in values and values[unit] not in (None, "")}
    if not known:
        raise QualError(
            f"no interview has a value for attribute '{attribute}'",
            hint="attributes are case variables; check the name (it is case sensitive)",
        )
    found = sorted({str(v) for v in known.values()})
    chosen = [str(level) for level in levels] if levels is not None else found
    missing_levels = sorted(set(chosen) - set(found))
    if missing_levels:
        raise QualError(
            f"attribute '{attribute}' has no level {', '.join(missing_levels)}",
            hint=f"levels: {', '.join(found)}",
        )
    if len(chosen) < 2:
        raise QualError(
            f"attribute '{attribute}' has only one level ({', '.join(chosen)}): nothing to compare"
        )
    level_of = {unit: str(value) for unit, value in known.items() if str(value) in chosen}
    warnings = []
    left_out = [unit for unit in units if unit not in level_of]
    if left_out:
        warnings.append(
            f"{len(left_out)} interview(s) without a compared value of '{attribute}' are left out"
        )

    spans = coded_spans(project, by=by, rollup=rollup, coders=coders, codes=codes)
    if codes is None:
        rows_codes = code_order(project, spans["code"], rollup)
    else:
        rows_codes = list(dict.fromkeys(resolve_codes(project, codes) or []))
    mentioned = spans[spans["unit"].isin(list(level_of))][["code", "unit"]].drop_duplicates()
    mentioned = mentioned.assign(level=mentioned["unit"].map(level_of))
    present = (
        mentioned.groupby(["code", "level"]).size().unstack("level").reindex(index=rows_codes, columns=chosen)
    )
    present = present.fillna(0).astype(np.int64)
    sizes = pd.Series(list(level_of.values())).value_counts().reindex(chosen).fillna(0).astype(np.int64)

    records = []
    for code in rows_codes:
        yes = present.loc[code].to_numpy()
        table = np.vstack([yes, sizes.to_numpy() - yes])
        record: dict[str, Any] = {"code": code}
        for level, n_yes, n_all in zip(chosen, yes, sizes, strict=True):
            record[f"n_{level}"] = int(n_yes)
            record[f"of_{level}"] = int(n_all)
            record[f"pct_{level}"] = 100.0 * n_yes / n_all if n_all else np.nan
        if len(chosen) == 2:
            result = stats.fisher_exact(table, alternative="two-sided")
            record["odds_ratio"] = float(result.statistic)
            record["p"] = float(result.pvalue)
            record["method"] = "Fisher exact (2×2)"
        else:
            record["p"], record["method"] = freeman_halton_2xk(
                table, max_tables=max_tables, n_resamples=n_resamples, seed=seed
            )
        records.append(record)
    frame = pd.DataFrame(records)
    if not frame.empty:
        frame["p_holm"] = multipletests(frame["p"].to_numpy(), method="holm")[1]
    total = int(sizes.sum())
    if total < SMALL_TOTAL or (sizes < SMALL_LEVEL).any():
        counts = ", ".join(f"{level}: {int(n)}" for level, n in sizes.items())
        warnings.append(
            f"few interviews ({counts}): exact tests stay valid but have little power to show a difference;"
            " read the prevalences as description, not as evidence of no difference"
        )
    return Prevalence(
        table=frame,
        attribute=attribute,
        levels=tuple(chosen),
        warnings=tuple(warnings),
        info={"interviews": total, "rollup": rollup, "codes": len(rows_codes), "adjustment": "holm"},
    )
