"""Code co-occurrence: which codes are applied together, by overlapping selections or in the same paragraph.

Two ways to say that codes A and B occur together:

``method="overlap"``
    A selection coded A and a selection coded B share at least one code point of the same source (one
    selection coded with both counts too). ``counts[A, B]`` is the number of such pairs of selections (the
    co-occurrence frequency ATLAS.ti reports); the diagonal ``counts[A, A]`` is the number of selections coded
    A.
    Jaccard and the conditional probability are measured on the text itself: ``shared[A, B]`` is the number of
    code points coded both A and B, ``jaccard = shared_AB / (chars_A + chars_B - shared_AB)`` and
    ``P(B|A) = shared_AB / chars_A``, the share of the text coded A that is also coded B (chars_A counts the
    union of A's selections, so overlapping selections of one code are not counted twice).
``method="paragraph"``
    A and B occur together when both are applied in one paragraph (a selection belongs to every paragraph it
    overlaps by at least one code point; paragraphs follow `moclab.qual._common.paragraph_spans`: by default
    one per line, or separated by blank lines with ``paragraphs="blank"``). ``counts[A, B]`` is the number of
    paragraphs holding both, the diagonal the number of paragraphs holding A, ``jaccard = n_AB / (n_A + n_B -
    n_AB)`` and ``P(B|A) = n_AB / n_A``.

Everything is computed with sparse incidence matrices (scipy.sparse), so 100,000 codings take well under a
second: with X the units × codes incidence matrix, the co-occurrence counts are XᵀX (paragraphs) or
SᵀS + SᵀPS + (SᵀPS)ᵀ with S the selections × codes incidence and P the upper-triangular matrix of overlapping
selection pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from moclab.plain import plain
from moclab.qual._common import (
    PARAGRAPH_RULES,
    check_choice,
    code_order,
    coded_spans,
    frame_html,
    project_paragraphs,
    resolve_codes,
    short_code_names,
    spans_to_paragraphs,
    summary_report,
)
from moclab.qual.project import Project

METHODS = ("overlap", "paragraph")


@dataclass(frozen=True, repr=False)
class Cooccurrence:
    """Co-occurrence of codes, with counts, Jaccard similarity and conditional probabilities.

    Attributes
    ----------
    codes : tuple of str
        Code paths, the order of the rows and columns.
    method : str
        ``"overlap"`` or ``"paragraph"`` (see the module documentation).
    count_matrix : scipy.sparse.csr_array
        ``counts[A, B]``: pairs of overlapping selections, or paragraphs holding both codes.
    shared_matrix : scipy.sparse.csr_array
        What Jaccard and P(B|A) are computed from: code points coded with both (overlap) or paragraphs
        holding both (paragraph); its diagonal is the amount of A alone.
    info : dict
        Settings and sizes (units, selections, paragraph rule).
    """

    codes: tuple[str, ...]
    method: str
    count_matrix: sp.csr_array
    shared_matrix: sp.csr_array
    info: dict[str, Any] = field(default_factory=dict)

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        index = pd.Index(self.codes, name="code_a")
        return pd.DataFrame(values, index=index, columns=pd.Index(self.codes, name="code_b"))

    @property
    def counts(self) -> pd.DataFrame:
        """Co-occurrence counts as a code × code table (symmetric)."""
        return self._frame(self.count_matrix.toarray())

    @property
    def shared(self) -> pd.DataFrame:
        """Code points (overlap) or paragraphs (paragraph) with both codes; the diagonal: each code alone."""
        return self._frame(self.shared_matrix.toarray())

    @property
    def jaccard(self) -> pd.DataFrame:
        """|A ∩ B| / |A ∪ B| on the shared measure (NaN where neither code occurs)."""
        shared = self.shared_matrix.toarray().astype(float)
        alone = np.diag(shared)
        union = alone[:, None] + alone[None, :] - shared
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._frame(np.where(union > 0, shared / union, np.nan))

    @property
    def conditional(self) -> pd.DataFrame:
        """P(B | A): row A, column B, the share of A's text (overlap) or paragraphs (paragraph) that has B."""
        shared = self.shared_matrix.toarray().astype(float)
        alone = np.diag(shared)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._frame(np.where(alone[:, None] > 0, shared / alone[:, None], np.nan))

    def to_frame(self) -> pd.DataFrame:
        """One row per pair of different codes that co-occur: code_a, code_b, count, shared, jaccard,
        p_b_given_a, p_a_given_b (code_a before code_b in codebook order)."""
        upper = sp.triu(self.count_matrix, k=1).tocoo()
        rows, cols = upper.row, upper.col
        shared = self.shared_matrix.toarray().astype(float)
        alone = np.diag(shared)
        both = shared[rows, cols]
        with np.errstate(divide="ignore", invalid="ignore"):
            frame = pd.DataFrame(
                {
                    "code_a": np.asarray(self.codes, dtype=object)[rows],
                    "code_b": np.asarray(self.codes, dtype=object)[cols],
                    "count": upper.data.astype(np.int64),
                    "shared": both,
                    "jaccard": both / (alone[rows] + alone[cols] - both),
                    "p_b_given_a": both / alone[rows],
                    "p_a_given_b": both / alone[cols],
                }
            )
        return frame.sort_values(["count", "code_a", "code_b"], ascending=[False, True, True]).reset_index(
            drop=True
        )

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "type": type(self).__name__,
                "method": self.method,
                "codes": list(self.codes),
                "info": self.info,
                "pairs": self.to_frame().to_dict(orient="records"),
            }
        )

    def _pair_count(self) -> int:
        """Number of pairs of different codes that co-occur (the rows of `to_frame`)."""
        return int(sp.triu(self.count_matrix, k=1).nnz)

    def _heading(self) -> str:
        how = "overlapping selections" if self.method == "overlap" else "same paragraph"
        scope = (
            f"{self.info['selections']:,} selections"
            if "selections" in self.info
            else f"{self.info['paragraphs']:,} paragraphs"
            if "paragraphs" in self.info
            else ""
        )
        pairs = self._pair_count()
        return (
            f"Code co-occurrence ({how}): {pairs} co-occurring pair{'s' if pairs != 1 else ''} among "
            f"{len(self.codes)} code{'s' if len(self.codes) != 1 else ''}" + (f", {scope}" if scope else "")
        )

    def summary(self) -> str:
        """Readable report: what co-occurrence means here and how many pairs, then the pairs, most frequent
        first."""
        frame = self.to_frame()
        names = short_code_names(list(self.codes))
        frame["code_a"] = frame["code_a"].map(names)
        frame["code_b"] = frame["code_b"].map(names)
        if self.method == "paragraph":
            frame = frame.drop(columns="shared")  # the same paragraphs as count
        else:
            frame["shared"] = frame["shared"].astype(np.int64)  # code points coded with both
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        return summary_report(self._heading(), frame)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"Cooccurrence({len(self.codes)} codes, {self.method}, {self._pair_count()} co-occurring pairs)"
        )

    def _repr_html_(self) -> str:
        return frame_html(f"Code co-occurrence ({self.method})", self.to_frame())


def _incidence(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_array:
    """A 0/1 sparse matrix with ones at (rows, cols); repeated positions stay 1."""
    matrix = sp.csr_array((np.ones(len(rows), dtype=np.int64), (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


def _overlapping_pairs(keys_start: np.ndarray, keys_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs i < j of spans (sorted by start key) that overlap: span j starts before span i ends.

    Since starts are sorted, the spans after i that start before i's end are exactly those that overlap it;
    `searchsorted` counts them for every i at once and `repeat` lists them.
    """
    reach = np.searchsorted(keys_start, keys_end, side="left")
    counts = np.clip(reach - np.arange(len(keys_start)) - 1, 0, None)
    first = np.repeat(np.arange(len(keys_start)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return first, first + 1 + offsets


def code_cooccurrence(
    project: Project,
    *,
    method: str = "overlap",
    paragraphs: str = "line",
    rollup: bool = False,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
) -> Cooccurrence:
    """Which codes occur together, how often, and how strongly (Jaccard, P(B|A)).

    Parameters
    ----------
    project : Project
        The qualitative project.
    method : {"overlap", "paragraph"}
        Overlapping selections, or the same paragraph (see the module documentation for the exact counts).
    paragraphs : {"line", "blank"}
        How text is split into paragraphs for ``method="paragraph"``: at every line break, or at blank lines.
    rollup : bool
        Apply a coding also to all parent codes of its code.
    coders : sequence of str, optional
        Use only the codings of these coders (co-occurrence is usually read within one coder's work).
    codes : iterable of str, optional
        Restrict to these codes (names, paths or GUIDs).

    Returns
    -------
    Cooccurrence
        Rows and columns are code paths in codebook order.

    References
    ----------
    Jaccard P. (1901). Étude comparative de la distribution florale dans une portion des Alpes et du Jura.
    Bulletin de la Société Vaudoise des Sciences Naturelles 37:547–579 (the similarity |A∩B|/|A∪B|).
    """
    check_choice(method, METHODS, "co-occurrence method")
    check_choice(paragraphs, PARAGRAPH_RULES, "paragraph rule")
    spans = coded_spans(project, rollup=rollup, coders=coders, codes=codes)
    order = (
        code_order(project, spans["code"], rollup) if codes is None else resolve_codes(project, codes) or []
    )
    order = list(dict.fromkeys(order))
    code_index = {code: i for i, code in enumerate(order)}
    n_codes = len(order)
    code_col = spans["code"].map(code_index).to_numpy(dtype=np.int64)
    lengths = np.array([len(source.text) for source in project.sources], dtype=np.int64)
    stride = int(lengths.max(initial=0)) + 1
    info: dict[str, Any] = {"method": method, "rollup": rollup, "coders": list(coders) if coders else None}

    if method == "paragraph":
        table = project_paragraphs(project, paragraphs)
        span_index, paragraph_row = spans_to_paragraphs(
            spans["source"].to_numpy(), spans["start"].to_numpy(), spans["end"].to_numpy(), table, lengths
        )
        incidence = _incidence(paragraph_row, code_col[span_index], (len(table), n_codes))
        together = (incidence.T @ incidence).tocsr()
        info.update(paragraphs=len(table), paragraph_rule=paragraphs)
        return Cooccurrence(tuple(order), method, together, together, info)

    # selections (a selection with several codes is one row of S)
    selection_id, selections = pd.factorize(spans["selection"])
    first_row = pd.Series(np.arange(len(spans))).groupby(selection_id).first().to_numpy()
    start_key = spans["source"].to_numpy()[first_row] * stride + spans["start"].to_numpy()[first_row]
    end_key = spans["source"].to_numpy()[first_row] * stride + spans["end"].to_numpy()[first_row]
    by_id = _incidence(selection_id, code_col, (len(selections), n_codes))
    by_start = np.argsort(start_key, kind="stable")
    incidence = by_id[by_start]  # rows in order of start position, as the pair search needs
    first, second = _overlapping_pairs(start_key[by_start], end_key[by_start])
    pairs = sp.csr_array(
        (np.ones(len(first), dtype=np.int64), (first, second)), shape=(len(selections), len(selections))
    )
    within = (incidence.T @ incidence).tocsr()
    across = (incidence.T @ pairs @ incidence).tocsr()
    counts = (within + across + across.T).tolil()
    counts.setdiag(within.diagonal())
    # code points: cut the text at every selection boundary; each piece is covered by a set of codes
    cuts = np.unique(np.concatenate([start_key, end_key]))
    first_piece = np.searchsorted(cuts, start_key)
    per_selection = np.searchsorted(cuts, end_key) - first_piece
    piece = np.repeat(first_piece, per_selection) + (
        np.arange(per_selection.sum()) - np.repeat(np.cumsum(per_selection) - per_selection, per_selection)
    )
    n_pieces = max(len(cuts) - 1, 0)
    covers = _incidence(
        piece, np.repeat(np.arange(len(selections)), per_selection), (n_pieces, len(selections))
    )
    piece_codes = (covers @ by_id).tocsr()
    piece_codes.data[:] = 1
    weights = sp.diags_array(np.diff(cuts), dtype=np.int64) if n_pieces else sp.csr_array((0, 0))
    shared = (piece_codes.T @ weights @ piece_codes).tocsr()
    info.update(selections=len(selections), overlapping_pairs=len(first))
    return Cooccurrence(tuple(order), method, sp.csr_array(counts), shared, info)
