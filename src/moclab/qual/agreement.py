"""Inter-coder agreement: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha and u-alpha.

Two levels of use:

1. Statistics on plain arrays (``units × coders``; missing values as NaN or None), usable on any reliability
   data: `percent_agreement`, `cohens_kappa`, `fleiss_kappa`, `krippendorff_alpha` (nominal, ordinal,
   interval, ratio) and `unitized_alpha` (Krippendorff's u-alpha for coders who each cut a continuum into
   units of categories, e.g. coded stretches of a transcript).
2. `coder_agreement(project)`: the agreement of two or more coders who coded the same sources. For every code,
   each coder either applied it to a unit or not (a binary decision), where the units are

   ``"paragraph"``
       the paragraphs of the sources (see `moclab.qual._common.paragraph_spans`); a coder applied the code
       to a paragraph when one of the coder's selections with that code overlaps it;
   ``"segment"``
       the pieces of text between consecutive selection boundaries of any coder, inside text that at least
       one coder coded with any code; a coder applied the code to a piece when one of the coder's selections
       with that code covers it.

   Per code the table gives percent agreement, Cohen's kappa (two coders), Fleiss' kappa, Krippendorff's
   alpha (nominal) and, independent of the unit choice, the unitized alpha of the code's selections on
   character positions. The overall row pools every (unit, code) decision.

Cohen's and Fleiss' kappa are statsmodels' (`statsmodels.stats.inter_rater`); this module only turns coders'
labels, with missing values, into the category codes and tables they take. Percent agreement (with units
that not every coder rated) has no statsmodels counterpart and is a line of arithmetic here. Krippendorff's
alpha is written here (not taken from the ``krippendorff`` package) because that package is GPL-3.0 licensed
while moclab is MIT; the tests compare both. No maintained Python library computes the unitized alpha, so it
is written here from Krippendorff (2004, pp. 251–256) and checked against the worked examples of
Krippendorff (1995) and (2004).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa
from statsmodels.stats.inter_rater import to_table

from moclab.errors import DataError, QualError
from moclab.plain import plain
from moclab.qual._common import (
    PARAGRAPH_RULES,
    check_choice,
    code_order,
    coded_spans,
    frame_html,
    joined_names,
    number_text,
    project_paragraphs,
    resolve_codes,
    short_code_names,
    spans_to_paragraphs,
    summary_report,
)
from moclab.qual.project import Project

LEVELS = ("nominal", "ordinal", "interval", "ratio")
UNITS = ("paragraph", "segment")
OVERALL = "(all codes)"


# ----- statistics on arrays -----------------------------------------------------------------------


def _reliability_data(data: Any) -> tuple[np.ndarray, np.ndarray]:
    """(codes, values): category codes (units × coders, -1 = missing) and the sorted distinct values."""
    array = np.asarray(data)
    if array.ndim != 2 or array.shape[1] < 2:
        raise DataError("reliability data must be a units × coders table with at least two coders")
    if array.dtype.kind in "biuf":  # numbers: one vectorized pass
        flat = array.ravel().astype(np.float64)
        missing = np.isnan(flat)
        values, inverse = np.unique(flat[~missing], return_inverse=True)
    else:  # labels (or numbers mixed with None): compare as Python objects
        flat = array.astype(object).ravel()
        missing = pd.isna(flat)
        present = flat[~missing].tolist()
        try:
            values = np.array(sorted(set(present)), dtype=object)
        except TypeError:
            values = np.array(sorted(set(present), key=str), dtype=object)
        index = {value: i for i, value in enumerate(values)}
        inverse = np.array([index[value] for value in present], dtype=np.int64)
    codes = np.full(flat.shape, -1, dtype=np.int64)
    codes[~missing] = inverse
    return codes.reshape(array.shape), values


def _value_counts(codes: np.ndarray, n_values: int) -> np.ndarray:
    """units × values matrix of how many coders gave each value to each unit."""
    units = np.repeat(np.arange(codes.shape[0]), codes.shape[1])
    flat = codes.ravel()
    keep = flat >= 0
    counts = np.zeros((codes.shape[0], n_values), dtype=np.float64)
    np.add.at(counts, (units[keep], flat[keep]), 1.0)
    return counts


def percent_agreement(data: Any) -> float:
    """Share of agreeing coder pairs, averaged over the units with at least two values.

    For two coders this is the share of units on which they agree; for more, each unit contributes the share
    of its pairs of coders that agree (Fleiss' P_i), so it equals Fleiss' observed agreement P̄ when nobody is
    missing.
    """
    codes, values = _reliability_data(data)
    counts = _value_counts(codes, len(values))
    m = counts.sum(axis=1)
    usable = m >= 2
    if not usable.any():
        return float("nan")
    agreeing = (counts[usable] * (counts[usable] - 1)).sum(axis=1)
    return float(np.mean(agreeing / (m[usable] * (m[usable] - 1))))


def cohens_kappa(first: Sequence[object], second: Sequence[object]) -> float:
    """Cohen's kappa of two coders over the same units (units missing for either coder are dropped).

    κ = (p_o − p_e) / (1 − p_e) with p_o the observed share of agreement and p_e = Σ_k p_1k p_2k from each
    coder's own category shares (Cohen 1960), computed by ``statsmodels.stats.inter_rater.cohens_kappa``.
    NaN when p_e = 1 (both coders used one and the same category only).

    References
    ----------
    Cohen J (1960). A coefficient of agreement for nominal scales. Educ Psychol Meas 20:37–46.
    """
    codes, _ = _reliability_data(
        np.column_stack([np.asarray(first, dtype=object), np.asarray(second, dtype=object)])
    )
    codes = codes[(codes >= 0).all(axis=1)]
    if len(codes) == 0:
        return float("nan")
    # p_e = 1 exactly when both coders used one category, the only one among the complete units: kappa is
    # 0/0 there (statsmodels would return NaN with a RuntimeWarning), so it is answered here.
    if len(np.unique(codes)) < 2:
        return float("nan")
    # statsmodels' `to_table` has no handling of missing values (and labels mixed with None do not sort), so
    # it gets the category codes of the complete units from `_reliability_data`
    table, _ = to_table(codes)
    return float(sm_cohens_kappa(table, return_results=False))


def fleiss_kappa(counts: Any) -> float:
    """Fleiss' kappa from a units × categories table of how many coders chose each category for each unit.

    Every unit must be rated by the same number of coders m. κ = (P̄ − P̄_e) / (1 − P̄_e) with P̄ the mean over
    units of Σ_j n_ij (n_ij − 1) / (m (m − 1)) and P̄_e = Σ_j p_j² (Fleiss 1971), computed by
    ``statsmodels.stats.inter_rater.fleiss_kappa(method="fleiss")``. NaN when P̄_e = 1 (every rating in one
    category).

    References
    ----------
    Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychol Bull 76:378–382.
    """
    table = np.asarray(counts, dtype=np.float64)
    # checked here: statsmodels only asserts equal numbers of raters, which would surface as a bare
    # AssertionError instead of a message naming the problem
    if table.ndim != 2 or (table < 0).any():
        raise DataError("Fleiss' kappa needs a units × categories table of non-negative counts")
    m = table.sum(axis=1)
    if len(m) == 0 or not np.allclose(m, m[0]) or m[0] < 2:
        raise DataError("Fleiss' kappa needs the same number (two or more) of coders for every unit")
    if np.count_nonzero(table.sum(axis=0)) < 2:  # P̄_e = 1: kappa is 0/0
        return float("nan")
    return float(sm_fleiss_kappa(table, method="fleiss"))


def _delta(level: str, values: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Krippendorff's squared difference function δ²(c, k) between every pair of values."""
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    numeric = values.astype(np.float64)
    if level == "interval":
        return (numeric[:, None] - numeric[None, :]) ** 2
    if level == "ratio":
        total = numeric[:, None] + numeric[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total != 0, ((numeric[:, None] - numeric[None, :]) / total) ** 2, 0.0)
    # ordinal: (sum of n_g from c to k minus half of n_c and n_k)², values in rank order
    cumulative = np.concatenate([[0.0], np.cumsum(totals)])
    low = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
    high = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
    between = cumulative[high + 1] - cumulative[low]
    return (between - (totals[:, None] + totals[None, :]) / 2.0) ** 2


def krippendorff_alpha(data: Any, level: str = "nominal") -> float:
    """Krippendorff's alpha of reliability data (units × coders; NaN or None where a coder gave no value).

    α = 1 − D_o / D_e from the coincidence matrix o_ck = Σ_u (number of c–k pairs of values in unit u) /
    (m_u − 1) over units with m_u ≥ 2 values: D_o = Σ o_ck δ²_ck / n and D_e = Σ n_c n_k δ²_ck / (n (n − 1)),
    with n_c the marginal totals and n their sum (Krippendorff 2011). NaN when D_e = 0 (no variation).

    Parameters
    ----------
    data : array-like
        Reliability data, one row per unit, one column per coder.
    level : {"nominal", "ordinal", "interval", "ratio"}
        The metric δ²; values must be numbers for all but nominal.

    References
    ----------
    Krippendorff K (2011). Computing Krippendorff's alpha-reliability. Annenberg School for Communication,
    University of Pennsylvania, departmental paper 43. Hayes AF, Krippendorff K (2007). Answering the call for
    a standard reliability measure for coding data. Commun Methods Meas 1:77–89.
    """
    check_choice(level, LEVELS, "level of measurement")
    codes, values = _reliability_data(data)
    counts = _value_counts(codes, len(values))
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    if len(values) == 0 or not pairable.any():
        return float("nan")
    weighted = counts / (m - 1.0)[:, None]
    coincidence = counts.T @ weighted - np.diag(weighted.sum(axis=0))
    totals = coincidence.sum(axis=1)
    n = totals.sum()
    if level != "nominal":
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{level} alpha needs numeric values") from None
    delta = _delta(level, values, totals)
    expected = float(totals @ delta @ totals)
    if expected <= 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * float((coincidence * delta).sum()) / expected)


# ----- unitized alpha -----------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class UnitizedAlpha:
    """Krippendorff's unitized alpha: per category the observed and expected disagreement, and overall.

    Attributes
    ----------
    alpha : float
        1 − Σ_c D_o(c) / Σ_c D_e(c) over all categories.
    per_category : pandas.DataFrame
        Index category; columns observed (D_o), expected (D_e), alpha, units (number of units over coders).
    coders : int
    length : int
        Length of the continuum.
    warnings : tuple of str
    """

    alpha: float
    per_category: pd.DataFrame
    coders: int
    length: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per category: category, observed, expected, alpha, units."""
        return self.per_category.reset_index()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "alpha": self.alpha,
                "coders": self.coders,
                "length": self.length,
                "rows": self.to_frame(),
                "warnings": list(self.warnings),
            }
        )

    def _heading(self) -> str:
        n = len(self.per_category)
        return (
            f"Unitized alpha {number_text(self.alpha)} over {self.coders} coders, {n} "
            f"categor{'y' if n == 1 else 'ies'}, continuum length {self.length:,}"
        )

    def summary(self) -> str:
        """Readable report: overall alpha and sizes, then per category D_o, D_e, alpha and units."""
        table = self.per_category.copy()
        table.index = table.index.map(short_code_names(list(table.index)))
        return summary_report(self._heading(), table, self.warnings)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"UnitizedAlpha(alpha={number_text(self.alpha)}, {self.coders} coders, "
            f"{len(self.per_category)} categories, length {self.length})"
        )

    def _repr_html_(self) -> str:
        return frame_html(self._heading(), self.per_category, self.warnings)


def _sections(starts: np.ndarray, ends: np.ndarray, begin: int, end: int) -> tuple[np.ndarray, ...]:
    """A coder's partition of the continuum into units and gaps: (section starts, section ends, is unit).

    Units are given sorted and not overlapping; gaps of length zero (touching units) are not sections.
    """
    bounds = np.concatenate([[begin], np.column_stack([starts, ends]).ravel(), [end]])
    gap_start, gap_end = bounds[0::2], bounds[1::2]
    keep = gap_end > gap_start
    all_start = np.concatenate([starts, gap_start[keep]])
    all_end = np.concatenate([ends, gap_end[keep]])
    is_unit = np.concatenate([np.ones(len(starts), bool), np.zeros(int(keep.sum()), bool)])
    order = np.argsort(all_start, kind="stable")
    return all_start[order], all_end[order], is_unit[order]


def _merge(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, non-overlapping units: overlapping units of one coder and category are joined."""
    if len(starts) == 0:
        return starts, ends
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    new_run = np.concatenate([[True], starts[1:] >= reach[:-1]])
    run = np.cumsum(new_run) - 1
    merged_start = starts[new_run]
    merged_end = np.zeros(len(merged_start), dtype=ends.dtype)
    np.maximum.at(merged_end, run, ends)
    return merged_start, merged_end


def _observed_pair(first: tuple[np.ndarray, ...], second: tuple[np.ndarray, ...]) -> float:
    """Σ δ² over all overlapping pairs of sections of two coders (Krippendorff 2004, p. 252).

    δ² is (b_g − b_h)² + (e_g − e_h)² for two overlapping units, l_g² for a unit g lying inside a gap h of the
    other coder (and l_h² the other way round), 0 otherwise. Both partitions cover the continuum, so the
    overlapping pairs are the pairs met at the pieces between the union of their boundaries.
    """
    s1, e1, u1 = first
    s2, e2, u2 = second
    cuts = np.union1d(s1, s2)
    i = np.searchsorted(s1, cuts, side="right") - 1
    j = np.searchsorted(s2, cuts, side="right") - 1
    pair = np.unique(np.column_stack([i, j]), axis=0)
    i, j = pair[:, 0], pair[:, 1]
    both = u1[i] & u2[j]
    unit_in_gap = u1[i] & ~u2[j] & (s2[j] <= s1[i]) & (e1[i] <= e2[j])
    gap_holds_unit = ~u1[i] & u2[j] & (s1[i] <= s2[j]) & (e2[j] <= e1[i])
    total = ((s1[i] - s2[j]) ** 2 + (e1[i] - e2[j]) ** 2)[both].astype(np.float64).sum()
    total += ((e1[i] - s1[i]) ** 2)[unit_in_gap].astype(np.float64).sum()
    total += ((e2[j] - s2[j]) ** 2)[gap_holds_unit].astype(np.float64).sum()
    return float(total)


def unitized_alpha(
    units: pd.DataFrame | Iterable[tuple[object, object, int, int]],
    length: int,
    *,
    begin: int = 0,
    coders: Sequence[object] | None = None,
) -> UnitizedAlpha:
    """Krippendorff's alpha for unitizing a continuum (u-alpha), per category and overall.

    Each coder cuts the continuum [begin, begin + length) into units of categories (for a transcript: the
    selections coded with a code, on character positions); within one category, a coder's stretches without a
    unit are gaps. For category c, with m coders and L the length of the continuum:

    - observed disagreement D_o(c) = Σ_{i≠j} Σ_{g,h} δ²(g, h) / (m (m − 1) L²), summing over the overlapping
      sections g of coder i and h of coder j (δ² as in `_observed_pair`);
    - expected disagreement D_e(c) = (2/L) Σ_g [ (N_c − 1)(2l_g³ − 3l_g² + l_g)/3 + l_g² Σ_{h: l_h ≥ l_g}
      (l_h − l_g + 1) ] / [ mL(mL − 1) − Σ_g l_g(l_g − 1) ], over the N_c units g of all coders and the gaps h
      of all coders;
    - α(c) = 1 − D_o(c)/D_e(c), and overall α = 1 − Σ_c D_o(c) / Σ_c D_e(c).

    This is the definition of Krippendorff (1995) as printed in Krippendorff (2004, pp. 251–256). For more
    than two coders, Krippendorff, Mathet, Bouvry and Widlöcher (2016) revised it; the result then carries a
    warning.

    Parameters
    ----------
    units : DataFrame with columns coder, category, start, end; or (coder, category, start, end) tuples
        ``end`` exclusive. Overlapping units of one coder and category are merged.
    length : int
        Length of the continuum.
    begin : int
        Where the continuum starts.
    coders : sequence, optional
        All coders (a coder who marked no unit still counts); by default those found in `units`.

    References
    ----------
    Krippendorff K (1995). On the reliability of unitizing continuous data. Sociol Methodol 25:47–76.
    Krippendorff K (2004). Content Analysis: An Introduction to Its Methodology, 2nd ed. Sage, pp. 251–256.
    Krippendorff K, Mathet Y, Bouvry S, Widlöcher A (2016). On the reliability of unitizing textual continua:
    further developments. Qual Quant 50:2347–2364.
    """
    frame = (
        units.copy()
        if isinstance(units, pd.DataFrame)
        else pd.DataFrame(list(units), columns=["coder", "category", "start", "end"])
    )
    missing = {"coder", "category", "start", "end"} - set(frame.columns)
    if missing:
        raise DataError(
            f"units need the columns coder, category, start, end (missing: {', '.join(sorted(missing))})"
        )
    length = int(length)
    stop = begin + length
    if length <= 0:
        raise DataError("the continuum must have a positive length")
    starts = frame["start"].to_numpy(dtype=np.int64)
    ends = frame["end"].to_numpy(dtype=np.int64)
    if ((ends <= starts) | (starts < begin) | (ends > stop)).any():
        raise DataError(
            f"every unit must lie inside the continuum [{begin}, {stop}) and have positive length"
        )
    all_coders = list(coders) if coders is not None else list(dict.fromkeys(frame["coder"]))
    if len(all_coders) < 2:
        raise DataError("unitized alpha needs at least two coders")
    m = len(all_coders)
    rows = []
    for category, group in frame.groupby("category", sort=True):
        partitions, unit_lengths, gap_lengths = [], [], []
        for coder in all_coders:
            own = group[group["coder"] == coder]
            s, e = _merge(own["start"].to_numpy(dtype=np.int64), own["end"].to_numpy(dtype=np.int64))
            sections = _sections(s, e, begin, stop)
            partitions.append(sections)
            lengths = sections[1] - sections[0]
            unit_lengths.append(lengths[sections[2]])
            gap_lengths.append(lengths[~sections[2]])
        observed = sum(
            _observed_pair(partitions[a], partitions[b]) for a in range(m) for b in range(a + 1, m)
        )
        observed = 2.0 * observed / (m * (m - 1) * float(length) ** 2)
        lengths_u = np.concatenate(unit_lengths).astype(np.float64)
        gaps = np.sort(np.concatenate(gap_lengths).astype(np.float64))
        n_units = len(lengths_u)
        # Σ_{h: l_h ≥ l} (l_h − l + 1) for every unit length l, from suffix sums over the sorted gaps
        first_long = np.searchsorted(gaps, lengths_u, side="left")
        suffix = np.concatenate([np.cumsum(gaps[::-1])[::-1], [0.0]])
        long_count = len(gaps) - first_long
        gap_term = suffix[first_long] - (lengths_u - 1.0) * long_count
        numerator = (2.0 / length) * float(
            (
                (n_units - 1) * (2 * lengths_u**3 - 3 * lengths_u**2 + lengths_u) / 3.0
                + lengths_u**2 * gap_term
            ).sum()
        )
        denominator = m * float(length) * (m * float(length) - 1.0) - float(
            (lengths_u * (lengths_u - 1.0)).sum()
        )
        expected = numerator / denominator
        alpha = 1.0 - observed / expected if expected > 0 else float("nan")
        rows.append(
            {
                "category": category,
                "observed": observed,
                "expected": expected,
                "alpha": alpha,
                "units": n_units,
            }
        )
    per_category = pd.DataFrame(
        rows, columns=["category", "observed", "expected", "alpha", "units"]
    ).set_index("category")
    total_expected = per_category["expected"].sum()
    overall = 1.0 - per_category["observed"].sum() / total_expected if total_expected > 0 else float("nan")
    warnings = ()
    if m > 2:
        warnings = (
            "unitized alpha for more than two coders follows Krippendorff (2004); Krippendorff et al. (2016) "
            "revised the definition for several coders",
        )
    return UnitizedAlpha(float(overall), per_category, m, length, warnings)


# ----- agreement of the coders of a project -------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CoderAgreement:
    """Agreement of the coders of a project, per code and overall.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per code and a last row ``"(all codes)"`` pooling every (unit, code) decision; columns units,
        applied (units where at least one coder applied the code), percent_agreement, cohens_kappa (two
        coders only), fleiss_kappa, krippendorff_alpha, unitized_alpha.
    coders : tuple of str
    unit : str
        ``"paragraph"`` or ``"segment"``.
    warnings : tuple of str
    info : dict
        The compared sources, the paragraph rule and whether codings were rolled up.
    """

    table: pd.DataFrame
    coders: tuple[str, ...]
    unit: str
    warnings: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def overall(self) -> pd.Series:
        return self.table.loc[OVERALL]

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "coders": list(self.coders),
                "unit": self.unit,
                "rows": self.to_frame(),
                "warnings": list(self.warnings),
                "info": self.info,
            }
        )

    def _heading(self) -> str:
        """What was compared, and the overall agreement (pooled over every unit and code)."""
        codes = len(self.table) - 1
        units = int(self.table["units"].iloc[0]) if codes else 0
        sources = len(self.info.get("sources", []))
        overall = self.overall
        agreement = overall.get("percent_agreement", float("nan"))
        percent = "NaN" if not np.isfinite(agreement) else f"{100 * agreement:.1f}%"
        return (
            f"Agreement of {joined_names(self.coders)} on {codes} code{'s' if codes != 1 else ''}, "
            f"{units:,} {self.unit}{'s' if units != 1 else ''}"
            + (f" in {sources} source{'s' if sources != 1 else ''}" if sources else "")
            + f": agreement {percent}, "
            f"Krippendorff's alpha {number_text(overall.get('krippendorff_alpha'))}, "
            f"unitized alpha {number_text(overall.get('unitized_alpha'))}"
        )

    def summary(self) -> str:
        """Readable report: coders, units and overall agreement, then per code the units where a coder applied
        it, percent agreement and the chance-corrected statistics."""
        columns = {
            "applied": "applied",
            "percent_agreement": "agree_%",
            "cohens_kappa": "cohen",
            "fleiss_kappa": "fleiss",
            "krippendorff_alpha": "kripp_alpha",
            "unitized_alpha": "u_alpha",
        }
        if len(self.coders) != 2:
            del columns["cohens_kappa"]  # Cohen's kappa is for two coders only: the column is empty
        table = self.table.reindex(columns=list(columns))
        table["percent_agreement"] = (100 * table["percent_agreement"]).round(1)
        table = table.rename(columns=columns)
        table.index = table.index.map(short_code_names(list(table.index)))
        return summary_report(self._heading(), table, self.warnings)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"CoderAgreement({len(self.coders)} coders, {len(self.table) - 1} codes, {self.unit} units, "
            f"alpha={number_text(self.overall.get('krippendorff_alpha'))})"
        )

    def _repr_html_(self) -> str:
        return frame_html(self._heading(), self.table, self.warnings)


def _binary_statistics(decisions: np.ndarray) -> dict[str, float]:
    """Agreement statistics of a units × coders 0/1 matrix (nobody missing)."""
    m = decisions.shape[1]
    yes = decisions.sum(axis=1)
    counts = np.column_stack([m - yes, yes])
    return {
        "percent_agreement": percent_agreement(decisions),
        "cohens_kappa": cohens_kappa(decisions[:, 0], decisions[:, 1]) if m == 2 else float("nan"),
        "fleiss_kappa": fleiss_kappa(counts) if len(counts) else float("nan"),
        "krippendorff_alpha": krippendorff_alpha(decisions),
    }


def _clip_to_texts(spans: pd.DataFrame, lengths: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    """Selections cut at the end of their source's text, and the warning naming them (none: nothing cut).

    A selection that ends past its text (a text edited after coding, or exported without its selections
    being updated) would otherwise reach into the next source when the sources are laid end to end; one that
    starts at or after the end covers no text and is left out.
    """
    text_end = lengths[spans["source"].to_numpy()]
    beyond = spans["end"].to_numpy() > text_end
    if not beyond.any():
        return spans, []
    named = spans.loc[beyond].drop_duplicates("selection")
    shown = "; ".join(
        f"'{row.source_name}' selection {row.selection} [{row.start}, {row.end}) "
        f"(the text has {lengths[row.source]} characters)"
        for row in named.head(3).itertuples()
    )
    more = f"; and {len(named) - 3} more" if len(named) > 3 else ""
    spans = spans.assign(end=np.minimum(spans["end"].to_numpy(), text_end))
    spans = spans[spans["end"] > spans["start"]]
    return spans, [
        f"{len(named)} selection(s) end past the end of their source's text and were cut at it (left out "
        f"when they start there): {shown}{more}; check that the texts are the ones that were coded"
    ]


def coder_agreement(
    project: Project,
    *,
    coders: Sequence[str] | None = None,
    unit: str = "paragraph",
    paragraphs: str = "line",
    codes: Iterable[str] | None = None,
    rollup: bool = False,
    sources: Sequence[str] | None = None,
) -> CoderAgreement:
    """How well two or more coders agree on where each code applies.

    Parameters
    ----------
    project : Project
        A project in which several users coded the same sources (codings keep their creator).
    coders : sequence of str, optional
        The coders to compare (user names); by default every user with codings.
    unit : {"paragraph", "segment"}
        The units each coder's decision is read on (see the module documentation).
    paragraphs : {"line", "blank"}
        The paragraph rule for ``unit="paragraph"``.
    codes : iterable of str, optional
        Codes to compare; by default every codable code (and with `rollup` every code).
    rollup : bool
        A coding counts for its code's parents too.
    sources : sequence of str, optional
        Sources to compare (names or GUIDs); by default those in which at least two of the coders coded.

    Returns
    -------
    CoderAgreement

    References
    ----------
    Cohen (1960); Fleiss (1971); Krippendorff (2011); Krippendorff (2004), see the functions of this module.
    """
    check_choice(unit, UNITS, "agreement unit")
    check_choice(paragraphs, PARAGRAPH_RULES, "paragraph rule")
    spans = coded_spans(project, rollup=rollup, coders=coders)
    chosen = list(coders) if coders is not None else sorted(c for c in spans["coder"].dropna().unique())
    if len(chosen) < 2:
        raise QualError(
            f"agreement needs at least two coders; project '{project.name}' has codings by "
            f"{len(chosen)} ({', '.join(chosen) or 'nobody'})",
            hint="codings must keep their creator (the coder's user) to be compared",
        )
    spans = spans[spans["coder"].isin(chosen)]
    if sources is not None:
        wanted = {project.sources.index(project.source(name)) for name in sources}
    else:
        per_source = spans.groupby("source")["coder"].nunique()
        wanted = set(per_source[per_source >= 2].index)
    if not wanted:
        raise QualError(
            "no source was coded by two or more of the coders", hint=f"coders: {', '.join(chosen)}"
        )
    spans = spans[spans["source"].isin(wanted)]
    lengths = np.array([len(s.text) for s in project.sources], dtype=np.int64)
    spans, clipped = _clip_to_texts(spans, lengths)
    order = (
        code_order(project, spans["code"], rollup) if codes is None else resolve_codes(project, codes) or []
    )
    order = list(dict.fromkeys(order))
    spans = spans[spans["code"].isin(order)]
    code_index = {code: i for i, code in enumerate(order)}
    coder_index = {coder: i for i, coder in enumerate(chosen)}

    if unit == "paragraph":
        table = project_paragraphs(project, paragraphs)
        table = table[table["source"].isin(wanted)].reset_index(drop=True)
        span_row, unit_row = spans_to_paragraphs(
            spans["source"].to_numpy(), spans["start"].to_numpy(), spans["end"].to_numpy(), table, lengths
        )
        n_units = len(table)
    else:
        stride = int(lengths.max(initial=0)) + 1
        start_key = spans["source"].to_numpy() * stride + spans["start"].to_numpy()
        end_key = spans["source"].to_numpy() * stride + spans["end"].to_numpy()
        cuts = np.unique(np.concatenate([start_key, end_key]))
        first = np.searchsorted(cuts, start_key)
        per_span = np.searchsorted(cuts, end_key) - first
        span_row = np.repeat(np.arange(len(spans)), per_span)
        pieces = np.repeat(first, per_span) + (
            np.arange(per_span.sum()) - np.repeat(np.cumsum(per_span) - per_span, per_span)
        )
        used, unit_row = np.unique(pieces, return_inverse=True)  # only pieces inside coded text are units
        n_units = len(used)
    decisions = np.zeros((n_units, len(order), len(chosen)), dtype=np.int8)
    decisions[
        unit_row,
        spans["code"].map(code_index).to_numpy()[span_row],
        spans["coder"].map(coder_index).to_numpy()[span_row],
    ] = 1

    # unitized alpha on character positions: the compared sources laid end to end as one continuum
    offsets = np.zeros(len(project.sources), dtype=np.int64)
    running = 0
    for index in sorted(wanted):
        offsets[index] = running
        running += int(lengths[index])
    shifted = pd.DataFrame(
        {
            "coder": spans["coder"].to_numpy(),
            "category": spans["code"].to_numpy(),
            "start": spans["start"].to_numpy() + offsets[spans["source"].to_numpy()],
            "end": spans["end"].to_numpy() + offsets[spans["source"].to_numpy()],
        }
    )
    u_alpha = unitized_alpha(shifted, running, coders=chosen) if running > 0 else None

    rows = []
    for position, code in enumerate(order):
        code_decisions = decisions[:, position, :]
        row = {"code": code, "units": n_units, "applied": int(code_decisions.any(axis=1).sum())}
        row.update(_binary_statistics(code_decisions))
        if u_alpha is not None and code in u_alpha.per_category.index:
            row["unitized_alpha"] = float(u_alpha.per_category.loc[code, "alpha"])
        else:
            row["unitized_alpha"] = float("nan")
        rows.append(row)
    pooled = decisions.reshape(-1, len(chosen))
    overall = {"code": OVERALL, "units": n_units * len(order), "applied": int(pooled.any(axis=1).sum())}
    overall.update(_binary_statistics(pooled) if len(pooled) else {})
    overall["unitized_alpha"] = u_alpha.alpha if u_alpha is not None else float("nan")
    rows.append(overall)
    result = pd.DataFrame(rows).set_index("code")
    warnings = [*clipped, *(u_alpha.warnings if u_alpha is not None else [])]
    never = [code for code, applied in zip(order, result["applied"], strict=False) if applied == 0]
    if never:
        warnings.append(
            f"{len(never)} code(s) applied by no coder in the compared sources: their statistics are NaN"
        )
    info = {
        "sources": [project.sources[i].name for i in sorted(wanted)],
        "paragraph_rule": paragraphs if unit == "paragraph" else None,
        "rollup": rollup,
    }
    return CoderAgreement(result, tuple(chosen), unit, tuple(warnings), info)
