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
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from moderation.classifier.normalise import Normalised

__all__ = ["MAX_SPANS", "word_contributions", "learned_evidence"]

MAX_SPANS = 5
# A word is evidence if it contributes at least this share of the strongest word's contribution.
RELATIVE_CUTOFF = 0.35
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
