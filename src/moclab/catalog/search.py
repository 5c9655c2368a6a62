"""Typo-tolerant search over catalog entries by name, alias, id and description.

Each entry offers several texts (its name, aliases, id, description). A query is scored against each text in
two ways, and the better one counts:

- whole text: rapidfuzz's normalised Indel similarity (`fuzz.ratio`, 0-100) of the query and the text, both
  folded to lower case without punctuation; this catches typos in a full name ("tension for chnage");
- word by word: each query word is matched to its most similar word of the text (`fuzz.ratio`, or 100 when
  the query word of 3 or more letters begins the text word, so "psych safety" finds "Psychological safety");
  the mean over query words is scaled by how much of the text the query covers (x0.85 when no text word is
  matched, up to x1.0 when all are), so "Facilitation" ranks above "Implementation Facilitators" for
  "facilitaton".

Short function words ("and", "of", "the"...) are ignored in the word-by-word score. A match in a description
counts x0.85, below a match on a name or alias. rapidfuzz gives the similarity of two strings; the word-level
combination is written here because no rapidfuzz scorer rewards abbreviated words or penalises a short text
("Safety") that matches only part of the query ("psych safety").

Ties keep catalog order (bundled frameworks in their listed order, entries in file order), so a search is
deterministic and ERIC's "Facilitation" comes before the ISP competency of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process, utils

from moclab.catalog.entries import Entry

DEFAULT_CUTOFF = 70.0
DESCRIPTION_WEIGHT = 0.85
WORD_MATCHED = 80.0  # a text word counts as covered by the query at this similarity or above
PREFIX_MIN_LETTERS = 3
STOP_WORDS = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"],
)


class SearchHit(NamedTuple):
    """One search result: the entry and its score (0-100, higher is closer)."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class _Text:
    folded: str
    words: tuple[int, ...]  # positions in the index vocabulary
    weight: float


def _content_words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    content = [word for word in words if word not in STOP_WORDS]
    return content or words


class SearchIndex:
    """Prepared search texts for a sequence of entries (built once per catalog)."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._entries = list(entries)
        self._vocabulary: dict[str, int] = {}
        self._texts = [self._prepare(entry) for entry in self._entries]
        self._words = list(self._vocabulary)

    def _prepare(self, entry: Entry) -> list[_Text]:
        sources = [(entry.name, 1.0), (entry.id.replace("-", " "), 1.0)]
        sources += [(alias, 1.0) for alias in entry.aliases]
        if entry.description:
            sources.append((entry.description, DESCRIPTION_WEIGHT))
        texts = []
        for text, weight in sources:
            vocabulary = self._vocabulary
            words = tuple(vocabulary.setdefault(word, len(vocabulary)) for word in _content_words(text))
            texts.append(_Text(utils.default_process(text), words, weight))
        return texts

    def _word_similarity(self, query_words: list[str]) -> np.ndarray:
        """Similarity (0-100) of each query word to each vocabulary word, prefixes counting as 100."""
        similarity = process.cdist(query_words, self._words, scorer=fuzz.ratio, dtype=np.float32)
        for row, query_word in enumerate(query_words):
            if len(query_word) >= PREFIX_MIN_LETTERS:
                for column, word in enumerate(self._words):
                    if word.startswith(query_word):
                        similarity[row, column] = 100.0
        return similarity

    def _score(self, query: str, text: _Text, similarity: np.ndarray) -> float:
        whole = fuzz.ratio(query, text.folded)
        if not text.words:
            return whole * text.weight
        block = similarity[:, list(text.words)]
        per_query_word = block.max(axis=1).mean()
        coverage = float((block.max(axis=0) >= WORD_MATCHED).mean())
        by_words = float(per_query_word) * (0.85 + 0.15 * coverage)
        return max(whole, by_words) * text.weight

    def search(self, text: str, limit: int | None = 10, cutoff: float = DEFAULT_CUTOFF) -> list[SearchHit]:
        """Entries whose name, alias, id or description resemble `text`, best first.

        Parameters
        ----------
        text : str
            What to look for; typos, other word order and abbreviated words are tolerated.
        limit : int or None
            Most hits to return (None: all above the cutoff).
        cutoff : float
            Lowest score (0-100) returned.
        """
        query = utils.default_process(text)
        query_words = _content_words(text)
        if not query or not query_words or not self._words:
            return []
        similarity = self._word_similarity(query_words)
        ranked = []
        for order, (entry, texts) in enumerate(zip(self._entries, self._texts, strict=True)):
            best = round(max(self._score(query, t, similarity) for t in texts), 1)
            if best >= cutoff:
                ranked.append((-best, order, SearchHit(entry, best)))
        ranked.sort(key=lambda item: (item[0], item[1]))
        hits = [hit for _, _, hit in ranked]
        return hits if limit is None else hits[:limit]
