"""Shared patterns: groups of texts that tell the same learning, however each is worded.

Pure, offline and deterministic. Each text becomes a bag of terms: English stems (Snowball),
concepts from a domain synonym table ("TA" and "temporary accommodation" are one term), and
pairs of neighbouring terms. Boilerplate ("really good week", "a client finally") is cut before
anything is compared, and phrases common across the period's texts count for nothing. Texts are
compared by cosine similarity of TF-IDF weights and must share at least two distinct terms;
groups are stars around the best-connected text, so no chain drags unrelated texts together.
Each group carries its shared terms, from which a short label is written in the words of
whichever members a reader may see.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Protocol

from bot.domain.pattern_terms import BOILERPLATE_PHRASES, GENERIC_WORDS, SYNONYMS

# Cosine similarity above which two texts are taken to tell the same learning, with at least
# MIN_SHARED_TERMS distinct terms in common (one shared rare word is never enough). Chosen on the
# development weeks of tests/domain/pattern_weeks.jsonl; see BENCHMARKS.md.
THRESHOLD = 0.16
MIN_SHARED_TERMS = 2
# A pair of neighbouring terms weighs this much against a single term, so two texts that share
# a phrase ("methadone script") score above two that share the same words far apart.
PAIR_WEIGHT = 0.7
# A concept from the synonym table weighs more than a plain word: matching "TA" with "temporary
# accommodation" is knowledge the words alone do not have.
CONCEPT_WEIGHT = 1.5
# A term in more than this share of the texts, and in at least COMMON_MIN_DOCS of them, is the
# period's own boilerplate (a sign-off, a template line) and counts for nothing. The floor keeps
# a real pattern told by a handful of agencies in a small week from being taken for one.
COMMON_SHARE = 0.05
COMMON_MIN_DOCS = 20
# Dense cosine at which an optional encoder links two texts. Not measured: no model ships with
# LearnLoop. Choose it with bench/pattern_quality.py on the labelled weeks for the model used.
ENCODER_THRESHOLD = 0.8
LABEL_TERMS = 3
LABEL_CHARS = 60
BLOCK_ROWS = 512

_PLACEHOLDER = re.compile(r"\[[^\]]{1,40}\]")
_WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9'’&.-]*[A-Za-z0-9])?")


class TextEncoder(Protocol):
    """An optional dense sentence encoder (e.g. static embeddings read from a local path)."""

    def encode(self, texts: Sequence[str]) -> Any:
        """One unit-length row per text (a 2-D array)."""
        ...


@dataclass(frozen=True)
class SynonymTable:
    """Concepts and the ways they are written; compiled once into one matcher."""

    concepts: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(SYNONYMS))
    boilerplate: tuple[str, ...] = BOILERPLATE_PHRASES
    generic: frozenset[str] = GENERIC_WORDS

    def extended(self, more: Mapping[str, Iterable[str]]) -> SynonymTable:
        """A copy with more concepts, or more variants for existing ones."""
        concepts = {k: tuple(v) for k, v in self.concepts.items()}
        for concept, variants in more.items():
            concepts[concept] = tuple(dict.fromkeys([*concepts.get(concept, ()), *variants]))
        return SynonymTable(concepts, self.boilerplate, self.generic)

    @cached_property
    def _lookup(
        self,
    ) -> tuple[dict[str, str], dict[tuple[str, ...], str], dict[str, tuple[int, ...]]]:
        acronyms: dict[str, str] = {}
        phrases: dict[tuple[str, ...], str] = {}
        for concept, variants in self.concepts.items():
            for variant in variants:
                if _is_acronym(variant):
                    acronyms[variant] = concept
                else:
                    phrases[_words(variant)] = concept
        for phrase in self.boilerplate:
            phrases.setdefault(_words(phrase), "")  # "" marks words to cut
        # Phrase lengths by first word, longest first: most words start no phrase at all.
        lengths: dict[str, set[int]] = {}
        for key in phrases:
            lengths.setdefault(key[0], set()).add(len(key))
        starts = {w: tuple(sorted(n, reverse=True)) for w, n in lengths.items()}
        return acronyms, phrases, starts

    @cached_property
    def _word_terms(self) -> dict[str, str]:
        # word -> its stem, or "" when it says nothing; filled as words are met.
        return {}

    def _word_term(self, norm: str) -> str:
        cache = self._word_terms
        term = cache.get(norm)
        if term is None:
            word = norm.split("'")[0]
            meaningful = (
                len(word) >= 2
                and word.isalpha()
                and word not in _stop_words()
                and word not in self.generic
            )
            term = cache[norm] = _stem(word) if meaningful else ""
        return term

    def tokens(self, text: str) -> list[tuple[str, str, int, int]]:
        """(term, surface words, start, end) for each meaningful word or concept of `text`."""
        acronyms, phrases, starts = self._lookup
        clean = _blank_placeholders(text)
        matches = _WORD.finditer(clean)
        spans = [(m.group(0), m.start(), m.end()) for m in matches]
        norms = [_norm(surface) for surface, _, _ in spans]
        count = len(spans)
        out: list[tuple[str, str, int, int]] = []
        i = 0
        while i < count:
            surface, start, end = spans[i]
            matched, concept = 0, None
            # Longest phrase first, so "home care package" wins over "care".
            for length in starts.get(norms[i], ()):
                if i + length <= count:
                    concept = phrases.get(tuple(norms[i : i + length]))
                    if concept is not None:
                        matched = length
                        break
            if not matched:
                concept = acronyms.get(surface)
                if concept is None and surface.endswith("s"):
                    concept = acronyms.get(surface[:-1])
                matched = 0 if concept is None else 1
            if matched:
                if concept:  # boilerplate is "" and is dropped
                    last = spans[i + matched - 1][2]
                    out.append(("=" + concept, " ".join(clean[start:last].split()), start, last))
                i += matched
                continue
            term = self._word_term(norms[i])
            if term:
                out.append((term, surface, start, end))
            i += 1
        return out


def _blank_placeholders(text: str) -> str:
    # Same length, so offsets into the result are offsets into the text.
    return _PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text)


def _is_acronym(variant: str) -> bool:
    letters = [c for c in variant if c.isalpha()]
    return " " not in variant and sum(c.isupper() for c in letters) >= 2


def _norm(word: str) -> str:
    return word.lower().replace("’", "'")


def _words(phrase: str) -> tuple[str, ...]:
    return tuple(_norm(m.group(0)) for m in _WORD.finditer(phrase))


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # Cached: a week's texts reuse a few thousand words many times over.
    return str(_stemmer().stemWord(word))


@dataclass(frozen=True)
class Term:
    """A term shared by a group's members, with how each member wrote it."""

    key: str
    surfaces: Mapping[int, str]  # member index -> the words as written there


@dataclass(frozen=True)
class TextGroup:
    """Indices of texts that tell the same learning (centre first) and the terms they share."""

    members: tuple[int, ...]
    terms: tuple[Term, ...] = ()

    def label(self, readable: Collection[int]) -> str:
        """A short name ("methadone script · pharmacy") from words of `readable` members only.

        A term counts only when some member the reader may see wrote it, and is written as that
        member wrote it, so the label never carries words from an entry the reader cannot read.
        """
        picked: list[str] = []
        covered: set[str] = set()
        shown: set[str] = set()
        for term in self.terms:
            surface = next(
                (term.surfaces[i] for i in self.members if i in readable and i in term.surfaces),
                None,
            )
            if surface is None:
                continue
            words = set(term.key.split("+"))
            said = {w.lower() for w in surface.split() if len(w) > 2}
            if words & covered or said & shown:
                continue  # "friday discharges" adds little after "friday"
            candidate = [*picked, _readable(surface)]
            if picked and len(" · ".join(candidate)) > LABEL_CHARS:
                break
            picked = candidate
            covered |= words
            shown |= said
            if len(picked) == LABEL_TERMS:
                break
        return " · ".join(picked)


def _readable(surface: str) -> str:
    """Lower case, except words written in capitals (acronyms keep theirs)."""
    return " ".join(w if sum(c.isupper() for c in w) >= 2 else w.lower() for w in surface.split())


@dataclass(frozen=True)
class _Doc:
    terms: tuple[str, ...]
    surfaces: Mapping[str, str]  # term -> its words as written, where fit for a label


def _analyse(text: str, table: SynonymTable) -> _Doc:
    tokens = table.tokens(text)
    terms: list[str] = []
    surfaces: dict[str, str] = {}
    for index, (term, surface, _start, end) in enumerate(tokens):
        terms.append(term)
        surfaces.setdefault(term, surface)
        if index + 1 < len(tokens):
            nxt, _, nxt_start, nxt_end = tokens[index + 1]
            # Neighbours only: at most two small words between them ("package of care").
            gap = text[end:nxt_start]
            if nxt != term and len(gap.split()) <= 2:
                pair = "+".join(sorted((term, nxt)))
                terms.append(pair)
                if not gap.strip():
                    # Only a phrase written as one ("methadone script") is fit for a label.
                    surfaces.setdefault(pair, text[tokens[index][2] : nxt_end])
    return _Doc(tuple(terms), surfaces)


def find_groups(
    texts: Sequence[str],
    *,
    background: Sequence[str] = (),
    table: SynonymTable | None = None,
    threshold: float = THRESHOLD,
    encoder: TextEncoder | None = None,
    encoder_threshold: float = ENCODER_THRESHOLD,
) -> list[TextGroup]:
    """Groups of indices of `texts` that tell the same learning, largest first.

    `background` (e.g. earlier weeks' texts) only informs how common each term is; it is never
    grouped or quoted. With an `encoder`, two texts also link when their dense cosine reaches
    `encoder_threshold` (still with two shared terms). Singletons are returned too, so callers
    can see every text's fate.
    """
    import numpy
    from scipy import sparse

    table = table or SynonymTable()
    docs = [_analyse(t, table) for t in texts]
    # Identical texts (common in short replies) are one row of the vector space.
    unique: dict[tuple[str, ...], list[int]] = {}
    for index, doc in enumerate(docs):
        if len({t for t in doc.terms if "+" not in t}) >= MIN_SHARED_TERMS:
            unique.setdefault(tuple(sorted(doc.terms)), []).append(index)
    keys = list(unique)
    if not keys:
        return []
    background_docs = [_analyse(t, table).terms for t in background]
    vocabulary: dict[str, int] = {}
    for terms in keys:
        for term in terms:
            vocabulary.setdefault(term, len(vocabulary))
    frequency = numpy.zeros(len(vocabulary), dtype=numpy.float64)
    for terms in [*keys, *background_docs]:
        for term in set(terms):
            slot = vocabulary.get(term)
            if slot is not None:
                frequency[slot] += 1
    total = len(keys) + len(background_docs)
    idf = numpy.log((1 + total) / (1 + frequency)) + 1.0
    # The period's own boilerplate: a term in many unrelated texts tells them apart from none.
    idf[(frequency > COMMON_SHARE * total) & (frequency >= COMMON_MIN_DOCS)] = 0.0
    pair = numpy.array(["+" in t for t in vocabulary], dtype=bool)
    concept = numpy.array([t.startswith("=") and "+" not in t for t in vocabulary], dtype=bool)
    weight = idf * numpy.where(pair, PAIR_WEIGHT, 1.0) * numpy.where(concept, CONCEPT_WEIGHT, 1.0)

    weights = weight.tolist()  # Python floats: numpy scalars are slow one at a time
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for row, terms in enumerate(keys):
        for term, n in Counter(terms).items():
            slot = vocabulary[term]
            rows.append(row)
            cols.append(slot)
            vals.append((1.0 + math.log(n)) * weights[slot])
    matrix = sparse.csr_matrix(
        (numpy.array(vals, dtype=numpy.float32), (rows, cols)), shape=(len(keys), len(vocabulary))
    )
    norms = numpy.sqrt(numpy.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix = sparse.diags(1.0 / norms) @ matrix
    # Which terms each text has, for the "at least two shared terms" rule (pairs excluded, so a
    # phrase and its own words are not counted twice).
    single = (matrix[:, numpy.flatnonzero(~pair)] > 0).astype(numpy.float32)
    dense = None
    if encoder is not None:
        dense = numpy.asarray(
            encoder.encode([texts[unique[k][0]] for k in keys]), dtype=numpy.float32
        )

    count = len(keys)
    found_rows = [numpy.zeros(0, dtype=numpy.int64)]
    found_cols = [numpy.zeros(0, dtype=numpy.int64)]
    found_vals = [numpy.zeros(0, dtype=numpy.float32)]
    transposed = matrix.T.tocsr()
    single_t = single.T.tocsr()
    # Row blocks bound memory: the full similarity matrix of a big week is never held.
    for first in range(0, count, BLOCK_ROWS):
        lexical = (matrix[first : first + BLOCK_ROWS] @ transposed).tocsr()
        shared = single[first : first + BLOCK_ROWS] @ single_t
        # Pairs with enough terms in common, and their lexical similarity (elementwise, so no
        # lookups into the block).
        enough = (shared >= MIN_SHARED_TERMS).astype(numpy.float32)
        block = enough.multiply(lexical).tocoo() if dense is None else enough.tocoo()
        block_rows = block.row.astype(numpy.int64)
        score = block.data
        linked = score >= threshold
        if dense is not None:
            lex = numpy.asarray(lexical[block_rows, block.col]).ravel()
            near = (dense[block_rows + first] * dense[block.col]).sum(axis=1)
            linked = (lex >= threshold) | (near >= encoder_threshold)
            score = numpy.where(lex >= threshold, lex, threshold).astype(numpy.float32)
        keep = linked & (block_rows + first != block.col)
        found_rows.append(block_rows[keep] + first)
        found_cols.append(block.col[keep].astype(numpy.int64))
        found_vals.append(score[keep].astype(numpy.float32))
    all_rows = numpy.concatenate(found_rows)
    all_cols = numpy.concatenate(found_cols)
    all_vals = numpy.concatenate(found_vals)
    order = numpy.lexsort((all_cols, all_rows))
    indices, strengths = all_cols[order], all_vals[order]
    degree = numpy.bincount(all_rows, minlength=count)
    indptr = numpy.concatenate(([0], numpy.cumsum(degree)))
    strength = numpy.bincount(all_rows, weights=all_vals, minlength=count)
    # Most neighbours first, then the strongest; ties in input order, so it is deterministic.
    centres = sorted(
        range(count), key=lambda i: (-int(degree[i]), -round(float(strength[i]), 6), i)
    )
    assigned = numpy.zeros(count, dtype=bool)
    groups: list[TextGroup] = []
    for centre in centres:
        if assigned[centre]:
            continue
        near = indices[indptr[centre] : indptr[centre + 1]]
        near_strength = strengths[indptr[centre] : indptr[centre + 1]]
        free = ~assigned[near]
        near, near_strength = near[free], near_strength[free]
        # Strongest neighbours first, so the member quoted beside the centre is the closest.
        near = near[numpy.lexsort((near, -near_strength))]
        assigned[centre] = True
        assigned[near] = True
        rows_in = [centre, *near.tolist()]
        members = tuple(index for r in rows_in for index in unique[keys[r]])
        groups.append(TextGroup(members, _shared_terms(members, docs, weight, vocabulary)))
    grouped = {i for rows_of in unique.values() for i in rows_of}
    # Texts with too few meaningful words to compare stand alone.
    groups += [TextGroup((i,)) for i in range(len(texts)) if i not in grouped]
    return groups


def _shared_terms(
    members: tuple[int, ...], docs: Sequence[_Doc], weight: Any, vocabulary: Mapping[str, int]
) -> tuple[Term, ...]:
    """Terms written by two or more members, the most telling first."""
    if len(members) < 2:
        return ()
    seen: Counter[str] = Counter()
    for index in members:
        seen.update(set(docs[index].terms))
    ranked = sorted(
        (t for t, n in seen.items() if n >= 2 and weight[vocabulary[t]] > 0),
        # Most members first; then a phrase before its words ("methadone script" reads better
        # than "methadone · script"); then the rarest.
        key=lambda t: (-seen[t], "+" not in t, -float(weight[vocabulary[t]]), t),
    )
    return tuple(
        Term(t, {i: docs[i].surfaces[t] for i in members if t in docs[i].surfaces}) for t in ranked
    )
