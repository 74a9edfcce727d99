"""Evidence spans for learned rules: which words pushed a comment's score up.

Why: moderators act faster on a highlighted phrase than on a bare number, and a highlight that
makes no sense is the quickest way to spot a model error. For a linear model the logit is a sum
over features of ``coef * tfidf``; each feature's contribution is shared among the
whitespace-delimited words that produced it (char_wb n-grams and unigrams belong to one word,
a cross-word bigram half to each), giving a per-word contribution that is mapped back to
offsets in the original text through the normaliser's offset map.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from moderation.classifier.normalise import Normalised

__all__ = ["MAX_SPANS", "batch_evidence", "learned_evidence", "select_spans", "word_contributions"]

MAX_SPANS = 5
# A word is evidence if it contributes at least this share of the strongest word's contribution.
RELATIVE_CUTOFF = 0.5
_CHUNK = re.compile(r"\S+")
_WORDISH = re.compile(r"\w")


class _Transformer(Protocol):
    """The fitted ``counts`` FeatureUnion (anything with ``transform``)."""

    def transform(self, raw: list[str]) -> sp.spmatrix: ...  # pragma: no cover


def word_contributions(
    norm: Normalised,
    doc_counts: sp.csr_matrix,
    doc_tfidf: sp.csr_matrix,
    coef: NDArray[np.floating],
    counts: _Transformer,
) -> tuple[list[tuple[int, int]], NDArray[np.float64]]:
    """Whitespace chunks of the normalised text and each chunk's contribution to the logit."""
    chunks = [(m.start(), m.end()) for m in _CHUNK.finditer(norm.text)]
    if not chunks:
        return [], np.zeros(0)
    texts = [norm.text[s:e] for s, e in chunks]

    n_features = coef.shape[0]
    doc_counts = sp.csr_matrix(doc_counts)
    doc_tfidf = sp.csr_matrix(doc_tfidf)
    totals = np.zeros(n_features, dtype=np.float64)
    totals[doc_counts.indices] = doc_counts.data
    per_unit = np.zeros(n_features, dtype=np.float64)
    idx = doc_tfidf.indices
    nonzero = totals[idx] > 0
    idx = idx[nonzero]
    per_unit[idx] = coef[idx] * doc_tfidf.data[nonzero] / totals[idx]

    own = sp.csr_matrix(counts.transform(texts), dtype=np.float64)
    scores = np.asarray(own @ per_unit).ravel()
    if len(texts) > 1:
        pairs = sp.csr_matrix(
            counts.transform([f"{a} {b}" for a, b in zip(texts, texts[1:], strict=False)]),
            dtype=np.float64,
        )
        # What a pair has beyond its two words alone is the bigram spanning them.
        cross = (pairs - own[:-1] - own[1:]).maximum(0)
        half = 0.5 * np.asarray(cross @ per_unit).ravel()
        scores[:-1] += half
        scores[1:] += half
    return chunks, scores


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Shrink a chunk to its first..last word character ("idiot!!" -> "idiot")."""
    positions = [m.start() for m in _WORDISH.finditer(text, start, end)]
    if not positions:
        return None
    return positions[0], positions[-1] + 1


def learned_evidence(
    norm: Normalised,
    doc_counts: sp.csr_matrix,
    doc_tfidf: sp.csr_matrix,
    coef: NDArray[np.floating],
    counts: _Transformer,
) -> tuple[tuple[int, int], ...]:
    """Up to ``MAX_SPANS`` source-text spans of the words that most raised the rule's logit."""
    chunks, scores = word_contributions(norm, doc_counts, doc_tfidf, coef, counts)
    return select_spans(norm, chunks, scores)


def select_spans(
    norm: Normalised, chunks: list[tuple[int, int]], scores: NDArray[np.float64]
) -> tuple[tuple[int, int], ...]:
    """The chunks with the largest positive contributions, as source-text spans."""
    if len(chunks) == 0 or scores.max() <= 0:
        return ()
    cutoff = RELATIVE_CUTOFF * scores.max()
    chosen = sorted(
        i for i in np.argsort(-scores)[:MAX_SPANS] if scores[i] > 0 and scores[i] >= cutoff
    )
    spans: list[tuple[int, int]] = []
    last_index = -2
    for i in chosen:
        trimmed = _trim(norm.text, *chunks[i])
        if trimmed is None:
            continue
        start, end = norm.span_to_source(*trimmed)
        if spans and i == last_index + 1:
            spans[-1] = (spans[-1][0], end)  # adjacent words read better as one phrase
        else:
            spans.append((start, end))
        last_index = i
    return tuple(spans)


def _word_step(counts: object) -> Any:
    """The word HashingVectorizer when it is the first block of the FeatureUnion, else None."""
    steps = getattr(counts, "transformer_list", None)
    if not steps or steps[0][0] != "word" or getattr(counts, "transformer_weights", None):
        return None
    return steps[0][1]


def batch_evidence(
    norms: list[Normalised],
    doc_counts: sp.csr_matrix,
    doc_tfidf: sp.csr_matrix,
    weights: NDArray[np.floating],
    counts: _Transformer,
    wanted: list[tuple[int, int]],
) -> dict[tuple[int, int], tuple[tuple[int, int], ...]]:
    """Evidence for many (document, rule column of ``weights``) pairs with two transforms.

    Same arithmetic as :func:`word_contributions`, batched: every chunk and adjacent chunk pair
    of every document that needs evidence is vectorised in one call each, and the
    contributions of all rules come from one sparse-dense product.
    """
    if not wanted:
        return {}
    docs = sorted({k for k, _ in wanted})
    chunk_lists: dict[int, list[tuple[int, int]]] = {}
    texts: list[str] = []
    owner: list[int] = []
    pair_texts: list[str] = []
    pair_owner: list[int] = []
    pair_left: list[int] = []
    for k in docs:
        chunks = [(m.start(), m.end()) for m in _CHUNK.finditer(norms[k].text)]
        chunk_lists[k] = chunks
        words = [norms[k].text[a:b] for a, b in chunks]
        base = len(texts)
        texts.extend(words)
        owner.extend([k] * len(words))
        for j in range(len(words) - 1):
            pair_texts.append(f"{words[j]} {words[j + 1]}")
            pair_owner.append(k)
            pair_left.append(base + j)
    if not texts:
        return {}
    doc_counts = sp.csr_matrix(doc_counts, dtype=np.float64)
    ratio = sp.csr_matrix(doc_tfidf, dtype=np.float64).multiply(doc_counts.power(-1)).tocsr()
    own = sp.csr_matrix(counts.transform(texts), dtype=np.float64)
    contrib = np.asarray(own.multiply(ratio[owner]).tocsr() @ weights, dtype=np.float64)
    if pair_texts:
        left = np.asarray(pair_left)
        # Only word bigrams cross a space (char_wb n-grams stay inside a word), so the pairs go
        # through the word vectoriser alone.
        word = _word_step(counts)
        if word is not None:
            n = int(word.n_features)
            pairs = sp.csr_matrix(word.transform(pair_texts), dtype=np.float64)
            own_w = own[:, :n]
            part_w = weights[:n]
            ratio_w = ratio[:, :n]
        else:
            pairs = sp.csr_matrix(counts.transform(pair_texts), dtype=np.float64)
            own_w, part_w, ratio_w = own, weights, ratio
        cross = (pairs - own_w[left] - own_w[left + 1]).maximum(0)
        half = 0.5 * np.asarray(
            sp.csr_matrix(cross).multiply(ratio_w[pair_owner]).tocsr() @ part_w, dtype=np.float64
        )
        np.add.at(contrib, left, half)
        np.add.at(contrib, left + 1, half)
    starts: dict[int, int] = {}
    for i, k in enumerate(owner):
        starts.setdefault(k, i)
    out: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
    for k, r in wanted:
        chunks = chunk_lists[k]
        if not chunks:
            out[(k, r)] = ()
            continue
        s0 = starts[k]
        out[(k, r)] = select_spans(norms[k], chunks, contrib[s0 : s0 + len(chunks), r])
    return out
