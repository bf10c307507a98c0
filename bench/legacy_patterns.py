"""The pattern finder LearnLoop shipped before the lexical finder: kept only for comparison.

TF-IDF over words and word pairs (English stop words out, light plural fold), cosine >= 0.4,
star grouping. `bench/pattern_quality.py` runs it side by side with bot/domain/patterns.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

THRESHOLD = 0.4
_WORD = re.compile(r"[a-z][a-z'-]+")
_PLACEHOLDER = re.compile(r"\[[^\]]{1,40}\]")


@lru_cache(maxsize=65536)
def _fold(word: str) -> str:
    word = word.strip("'-")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _tokens(text: str) -> list[str]:
    return [_fold(w) for w in _WORD.findall(_PLACEHOLDER.sub(" ", text.lower()))]


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(_fold(w) for w in ENGLISH_STOP_WORDS)


def _ngrams(words: list[str]) -> list[str]:
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def similar_groups(texts: Sequence[str], threshold: float = THRESHOLD) -> list[list[int]]:
    """Groups of indices of texts that say the same thing, centre first (the old finder)."""
    import numpy
    from sklearn.feature_extraction.text import TfidfVectorizer

    unique: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        norm = " ".join(_tokens(text))
        if norm:
            unique.setdefault(norm, []).append(index)
    docs = list(unique)
    if not docs:
        return []
    count = len(docs)
    rows = [numpy.zeros(0, dtype=numpy.int64)]
    cols = [numpy.zeros(0, dtype=numpy.int64)]
    if count > 1:
        stop = _stop_words()
        vectorizer = TfidfVectorizer(
            analyzer=lambda doc: _ngrams([w for w in doc.split() if w not in stop]),
            sublinear_tf=True,
            dtype=numpy.float32,
        )
        try:
            matrix = vectorizer.fit_transform(docs)
        except ValueError:
            matrix = None
        if matrix is not None:
            transposed = matrix.T.tocsr()
            for first in range(0, count, 512):
                block = (matrix[first : first + 512] @ transposed).tocoo()
                block_rows = block.row.astype(numpy.int64) + first
                keep = (block.data >= threshold) & (block_rows != block.col)
                rows.append(block_rows[keep])
                cols.append(block.col[keep].astype(numpy.int64))
    all_rows, all_cols = numpy.concatenate(rows), numpy.concatenate(cols)
    indices = all_cols[numpy.lexsort((all_cols, all_rows))]
    degree = numpy.bincount(all_rows, minlength=count)
    indptr = numpy.concatenate(([0], numpy.cumsum(degree)))
    order = numpy.argsort(-degree, kind="stable")
    assigned = numpy.zeros(count, dtype=bool)
    groups: list[list[int]] = []
    for centre in order.tolist():
        if assigned[centre]:
            continue
        near = indices[indptr[centre] : indptr[centre + 1]]
        near = near[~assigned[near]]
        assigned[centre] = True
        assigned[near] = True
        members = [centre, *near.tolist()]
        groups.append([index for m in members for index in unique[docs[m]]])
    return groups
