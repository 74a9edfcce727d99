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
import threading
import weakref
from typing import Any, NamedTuple, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from moderation.classifier.normalise import Normalised

__all__ = [
    "MAX_SPANS", "batch_counts", "batch_evidence", "learned_evidence", "select_spans",
    "word_contributions",
]

MAX_SPANS = 5
# A word is evidence if it contributes at least this share of the strongest word's contribution.
RELATIVE_CUTOFF = 0.5
_CHUNK = re.compile(r"\S+")
_WORDISH = re.compile(r"\w")
_LAST_WORDISH = re.compile(r".*\w", re.DOTALL)  # greedy: ends just after the last one


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
    first = _WORDISH.search(text, start, end)
    if first is None:
        return None
    last = _LAST_WORDISH.match(text, first.start(), end)
    assert last is not None  # the first word character is one
    return first.start(), last.end()


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
    if len(chunks) == 0:
        return ()
    top = scores.max()
    if top <= 0:
        return ()
    cutoff = RELATIVE_CUTOFF * top
    best = np.argsort(-scores)[:MAX_SPANS]
    chosen = sorted(
        i for i, v in zip(best.tolist(), scores[best].tolist(), strict=True)
        if v > 0 and v >= cutoff
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


# --- cached per-chunk features -----------------------------------------------------------------

# Chunks (whitespace-delimited words of normalised text) remembered per ``counts`` transformer.
# Words follow Zipf's law, so after a few batches almost every chunk is a cache hit and the
# n-grams of only the new words are hashed. Bounded (some 40 MB at most): when a limit is
# reached the cache starts again from empty, and the common words are back within a few batches.
MAX_CACHED_CHUNKS = 50_000
MAX_CACHED_FEATURES = 2_000_000  # stored (column, count) entries of those chunks' rows
MAX_CACHED_BIGRAMS = 100_000
# HashingVectorizer settings under which a document's hashed counts are the sum of its chunks'
# counts (plus, for the word block, the bigrams joining adjacent chunks).
_PLAIN_HASHING = {
    "input": "content",
    "binary": False,
    "norm": None,
    "alternate_sign": False,
    "lowercase": False,
    "preprocessor": None,
    "strip_accents": None,
    "stop_words": None,
    "tokenizer": None,
}
_WORD_PARAMS = {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"}


def _plain_hashing(block: Any, **expected: object) -> bool:
    from sklearn.feature_extraction.text import HashingVectorizer

    if type(block) is not HashingVectorizer:
        return False
    params = block.get_params()
    wanted = {**_PLAIN_HASHING, **expected}
    return all(
        (tuple(params.get(key)) if key == "ngram_range" else params.get(key)) == value
        for key, value in wanted.items()
    )


def _row_independent(block: Any) -> bool:
    """True for blocks whose row for a text does not depend on the other texts transformed."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.preprocessing import FunctionTransformer

    if type(block) is HashingVectorizer:
        return True
    if type(block) is FunctionTransformer:
        from moderation.classifier.features import lexicon_features

        return bool(
            block.func is lexicon_features and not block.kw_args and not block.validate
        )
    return False


def _cacheable(counts: object) -> bool:
    """Chunk rows can be cached and adjacent chunks joined by one word bigram: every block is
    row-independent and the first is the plain word 1-2 gram HashingVectorizer."""
    steps = getattr(counts, "transformer_list", None)
    word = _word_step(counts)
    return bool(
        steps
        and word is not None
        and _plain_hashing(word, **_WORD_PARAMS)
        and all(_row_independent(block) for _, block in steps)
    )


def _hashed_blocks(counts: Any) -> int:
    """How many leading blocks of a cacheable union decompose by chunk (the word block, then
    plain char_wb ones), provided no hashed block follows; 0 otherwise."""
    from sklearn.feature_extraction.text import HashingVectorizer

    steps = counts.transformer_list
    n = 1
    while n < len(steps) and _plain_hashing(
        steps[n][1], analyzer="char_wb", dtype=steps[0][1].dtype
    ):
        n += 1
    if any(type(block) is HashingVectorizer for _, block in steps[n:]):
        return 0
    return n


def _word_grams(tokens: list[str]) -> list[str]:
    """Word 1-2 grams, as ``HashingVectorizer(analyzer="word", ngram_range=(1, 2))``."""
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def _char_wb_grams(chunk: str, low: int, high: int) -> list[str]:
    """``analyzer="char_wb"`` n-grams of a text without whitespace (one padded word)."""
    padded = f" {chunk} "
    size = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if size <= n:  # a short word is counted once, whole
            grams.append(padded)
            break
        grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


# --- feature hashing, as FeatureHasher does it ---------------------------------------------------
# FeatureHasher puts a string in column abs(h) % n_features, h being the signed 32-bit
# MurmurHash3 (x86_32, seed 0) of its UTF-8 bytes (abs(-2**31) taken as 2**31). The same
# columns are computed here without building a sparse matrix per call: one string at a time
# with scikit-learn's murmurhash3_32, or for many ASCII n-grams at once with numpy. Both are
# checked against the vectorisers before a cache uses them.

_U32 = np.uint32


def _rotl(x: NDArray[np.uint32], r: int) -> NDArray[np.uint32]:
    return (x << _U32(r)) | (x >> _U32(32 - r))


def _murmur3(keys: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Signed MurmurHash3_x86_32 (seed 0) of each row of a (k, m) byte matrix."""
    k, m = keys.shape
    c1, c2 = _U32(0xCC9E2D51), _U32(0x1B873593)
    h = np.zeros(k, dtype=np.uint32)
    blocks = m // 4
    if blocks:
        words = np.ascontiguousarray(keys[:, : 4 * blocks]).view("<u4")
        for j in range(blocks):
            k1 = _rotl(words[:, j] * c1, 15) * c2
            h ^= k1
            h = _rotl(h, 13) * _U32(5) + _U32(0xE6546B64)
    tail = m & 3
    if tail:
        k1 = keys[:, 4 * blocks].astype(np.uint32)
        if tail >= 2:
            k1 ^= keys[:, 4 * blocks + 1].astype(np.uint32) << _U32(8)
        if tail == 3:
            k1 ^= keys[:, 4 * blocks + 2].astype(np.uint32) << _U32(16)
        h ^= _rotl(k1 * c1, 15) * c2
    h ^= _U32(m)
    h ^= h >> _U32(16)
    h *= _U32(0x85EBCA6B)
    h ^= h >> _U32(13)
    h *= _U32(0xC2B2AE35)
    h ^= h >> _U32(16)
    return h.view(np.int32).astype(np.int64)


def _char_wb_columns(
    words: list[str], low: int, high: int, n_features: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(word index, column) of every char_wb n-gram of ASCII ``words`` (no whitespace)."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 2  # padded
    buffer = np.frombuffer("".join(f" {w} " for w in words).encode("ascii"), dtype=np.uint8)
    starts = np.zeros(len(words), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    index = np.arange(len(words), dtype=np.int64)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    for size in sorted({*range(low, high + 1), *np.unique(lengths[lengths <= high]).tolist()}):
        # Windows of ``size`` inside longer words (sizes low..high); a word that short or
        # shorter is one n-gram, itself.
        count = np.where(lengths > size, lengths - size + 1, 0) if low <= size else 0 * lengths
        count = count + (lengths == size)
        total = int(count.sum())
        if not total:
            continue
        owner = np.repeat(index, count)
        first = np.zeros(len(words), dtype=np.int64)
        np.cumsum(count[:-1], out=first[1:])
        at = starts[owner] + np.arange(total, dtype=np.int64) - np.repeat(first, count)
        keys = buffer[at[:, None] + np.arange(size, dtype=np.int64)]
        rows.append(owner)
        cols.append(np.abs(_murmur3(keys)) % n_features)
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(cols)


# Below this many entries, summing duplicates with numpy beats building a scipy COO matrix.
_SMALL = 4096


def _summed(
    rows: NDArray[np.int64], cols: NDArray[np.int64], data: NDArray[Any], shape: tuple[int, int],
    dtype: Any,
) -> sp.csr_matrix:
    """Canonical CSR of the (row, col, count) entries, duplicates summed (counts are whole
    numbers, so the order of summation does not matter)."""
    if rows.size > _SMALL:
        out = sp.csr_matrix((data, (rows, cols)), shape=shape, dtype=dtype)
        out.sum_duplicates()
        return out
    keys, inverse = np.unique(rows * shape[1] + cols, return_inverse=True)
    values = np.bincount(inverse.ravel(), weights=data, minlength=keys.size).astype(dtype)
    indptr = np.zeros(shape[0] + 1, dtype=np.int32)
    np.cumsum(np.bincount(keys // shape[1], minlength=shape[0]), out=indptr[1:])
    return sp.csr_matrix((values, (keys % shape[1]).astype(np.int32), indptr), shape=shape)


# Below this many n-grams, hashing them one by one costs less than numpy's per-call overhead.
_VECTORISE_FROM = 2000


# Chunks on which the fast n-gram lists are checked against the vectorisers themselves.
_PROBE_CHUNKS = [
    "a", "i", "ok", "the", "idiot!!", "don't", "f**k", "sh1t", "e-mail", "x_y", "__", "--", "...",
    "2019", "10:30", "£12.50", "@user", "http://t.co/x", "naïve", "ﬁ", "东京", "😀", "a-b-c-d-e",
    "supercalifragilisticexpialidocious", "\u0301", "ǅ", "k\u0301", "İ", "«quoted»", "AbC",
    "ab", "abc", "abcd", "abcde", "abcdef", "x" * 40, "#", "$", "'", "\x7f", "\x01",
]


class _Bigrams:
    """Word-block columns of the bigrams joining two chunks, keyed by their token ids.

    One per cache generation (token ids are only meaningful within it); only ever grows, so
    readers need no lock (each dictionary operation is atomic).
    """

    def __init__(self, column: Any, n_word: int) -> None:
        self.tokens: list[str] = []  # token id -> token
        self.columns: dict[int, int] = {}
        self._column = column
        self._n_word = n_word

    def lookup(self, left: NDArray[np.int64], right: NDArray[np.int64]) -> NDArray[np.int64]:
        """Columns of the bigrams "<token left[i]> <token right[i]>"."""
        keys = ((left << 31) | right).tolist()
        columns = self.columns
        found = list(map(columns.get, keys))
        if None in found:
            tokens, column, n_word = self.tokens, self._column, self._n_word
            for i in [i for i, col in enumerate(found) if col is None]:
                key = keys[i]
                col = columns.get(key)
                if col is None:
                    col = column(f"{tokens[key >> 31]} {tokens[key & 0x7FFFFFFF]}", n_word)
                    columns[key] = col
                found[i] = col
        return np.asarray(found, dtype=np.int64)


class _Rows(NamedTuple):
    """Cached rows of some chunks, stacked: a CSR (indptr, indices, data) plus their tokens."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]
    data: NDArray[Any]
    first: NDArray[np.int64]  # id of each chunk's first word token (-1: it has none)
    last: NDArray[np.int64]  # id of its last word token
    bigrams: _Bigrams  # resolves those ids


class _ChunkCache:
    """Rows of ``counts.transform([chunk])`` for every chunk seen, in one pooled CSR store.

    Thread-safe: a reset or growth replaces the arrays and lists rather than changing them,
    and :meth:`rows` reads them under the lock that every writer holds.
    """

    def __init__(self, counts: Any) -> None:
        from sklearn.utils import murmurhash3_32

        self.counts = counts
        word = _word_step(counts)
        self.n_word = int(word.n_features)
        self.dtype = np.dtype(word.dtype)
        # Whole documents' counts: the first ``hashed`` blocks (``n_hashed`` columns) are built
        # from the chunk rows, any later blocks are transformed as usual.
        self.hashed = _hashed_blocks(counts)
        self.tail = [block for _, block in counts.transformer_list[self.hashed :]]
        self.n_hashed = sum(int(b.n_features) for _, b in counts.transformer_list[: self.hashed])
        self._tokenize = word.build_tokenizer()
        self._murmur = murmurhash3_32
        # New chunks' rows are hashed here (see _transform) when that gives exactly the rows
        # of ``counts``, checked on a few awkward chunks along both paths.
        self._direct = False
        self._direct = bool(self.hashed) and all(
            self._same_rows(_PROBE_CHUNKS, vectorise) for vectorise in (False, True)
        )
        self.pool_dtype = self._transform(_PROBE_CHUNKS[:1]).dtype
        self._lock = threading.Lock()
        self._reset()

    def _column(self, text: str, n_features: int) -> int:
        return abs(int(self._murmur(text, 0))) % n_features

    def _transform(self, words: list[str], vectorise: bool | None = None) -> sp.csr_matrix:
        """``counts.transform(words)`` for chunks (texts without whitespace)."""
        if not self._direct and vectorise is None:
            return sp.csr_matrix(self.counts.transform(words))
        steps = self.counts.transformer_list
        offsets = np.cumsum([0] + [int(b.n_features) for _, b in steps[: self.hashed]]).tolist()
        rows: list[int] = []  # (chunk, column) of every n-gram hashed one by one
        cols: list[int] = []
        row_parts: list[NDArray[np.int64]] = []  # the same, for n-grams hashed by numpy
        col_parts: list[NDArray[np.int64]] = []
        # Word 1-2 grams: a few per chunk.
        column, tokenize, n_word = self._column, self._tokenize, self.n_word
        for i, w in enumerate(words):
            grams = _word_grams(tokenize(w))
            rows += [i] * len(grams)
            cols += [column(g, n_word) for g in grams]
        for k in range(1, self.hashed):  # char_wb n-grams
            block = steps[k][1]
            low, high = block.ngram_range
            n = int(block.n_features)
            plain = [i for i, w in enumerate(words) if w.isascii()]
            n_grams = 4 * sum(len(words[i]) for i in plain)
            others: list[int] | range = range(len(words))
            if vectorise or (vectorise is None and n_grams >= _VECTORISE_FROM):
                owner, hashed = _char_wb_columns([words[i] for i in plain], low, high, n)
                row_parts.append(np.asarray(plain, dtype=np.int64)[owner])
                col_parts.append(hashed + offsets[k])
                others = [i for i, w in enumerate(words) if not w.isascii()]
            for i in others:
                grams = _char_wb_grams(words[i], low, high)
                rows += [i] * len(grams)
                cols += [offsets[k] + column(g, n) for g in grams]
        all_rows = np.concatenate([np.asarray(rows, dtype=np.int64), *row_parts])
        all_cols = np.concatenate([np.asarray(cols, dtype=np.int64), *col_parts])
        out = _summed(all_rows, all_cols, np.ones(all_rows.size, dtype=self.dtype),
                      (len(words), self.n_hashed), self.dtype)
        if self.tail:
            out = sp.csr_matrix(
                sp.hstack([out, *(block.transform(words) for block in self.tail)], format="csr")
            )
        return out

    def _same_rows(self, words: list[str], vectorise: bool) -> bool:
        fast = self._transform(words, vectorise)
        slow = sp.csr_matrix(self.counts.transform(words))
        fast.sum_duplicates()
        slow.sum_duplicates()
        return bool(
            fast.shape == slow.shape and fast.dtype == slow.dtype
            and np.array_equal(fast.indptr, slow.indptr)
            and np.array_equal(fast.indices, slow.indices)
            and np.array_equal(fast.data, slow.data)
        )

    def _reset(self) -> None:
        self.ids: dict[str, int] = {}
        self.token_ids: dict[str, int] = {}
        self.bigrams = _Bigrams(self._column, self.n_word)
        self.size = 0  # chunks cached
        self.offsets = np.zeros(1024, dtype=np.int64)
        self.lengths = np.zeros(1024, dtype=np.int64)
        self.first = np.zeros(1024, dtype=np.int64)
        self.last = np.zeros(1024, dtype=np.int64)
        self.pool_indices = np.zeros(65536, dtype=np.int32)
        self.pool_data = np.zeros(65536, dtype=self.pool_dtype)
        self.pool_end = 0

    def rows(self, words: list[str]) -> _Rows:
        """The rows of ``words`` (computing those not seen before in one go)."""
        with self._lock:
            ids = self.ids
            unique = list(dict.fromkeys(words))
            missing = [w for w in unique if w not in ids]
            if missing:
                if (self.size + len(missing) > MAX_CACHED_CHUNKS
                        or self.pool_end > MAX_CACHED_FEATURES
                        or len(self.bigrams.columns) > MAX_CACHED_BIGRAMS):
                    self._reset()
                    ids = self.ids
                    missing = unique
                self._add(missing)
            found = np.fromiter(map(ids.__getitem__, words), dtype=np.int64, count=len(words))
            offsets, lengths = self.offsets, self.lengths
            pool_indices, pool_data = self.pool_indices, self.pool_data
            first, last, bigrams = self.first[found], self.last[found], self.bigrams
        count = lengths[found]
        indptr = np.zeros(found.size + 1, dtype=np.int64)
        np.cumsum(count, out=indptr[1:])
        positions = np.repeat(offsets[found] - indptr[:-1], count)
        positions += np.arange(indptr[-1], dtype=np.int64)
        return _Rows(indptr, pool_indices[positions], pool_data[positions], first, last, bigrams)

    def _add(self, words: list[str]) -> None:
        rows = self._transform(words)
        rows.sum_duplicates()
        n_new, nnz = len(words), int(rows.nnz)
        base = self.size
        if base + n_new > self.offsets.size:
            size = max(min(2 * self.offsets.size, MAX_CACHED_CHUNKS), base + n_new)
            self.offsets = np.resize(self.offsets, size)
            self.lengths = np.resize(self.lengths, size)
            self.first = np.resize(self.first, size)
            self.last = np.resize(self.last, size)
        if self.pool_end + nnz > self.pool_indices.size:
            size = max(min(2 * self.pool_indices.size, MAX_CACHED_FEATURES), self.pool_end + nnz)
            self.pool_indices = np.resize(self.pool_indices, size)
            self.pool_data = np.resize(self.pool_data, size)
        indptr = rows.indptr.astype(np.int64)
        self.offsets[base : base + n_new] = self.pool_end + indptr[:-1]
        self.lengths[base : base + n_new] = np.diff(indptr)
        self.pool_indices[self.pool_end : self.pool_end + nnz] = rows.indices
        self.pool_data[self.pool_end : self.pool_end + nnz] = rows.data
        self.pool_end += nnz
        token_ids, tokens = self.token_ids, self.bigrams.tokens
        first, last = self.first, self.last
        for k, w in enumerate(words):
            found = self._tokenize(w)
            ends = (found[0], found[-1]) if found else ()
            for j, token in enumerate(ends):
                tid = token_ids.get(token)
                if tid is None:
                    tid = token_ids[token] = len(tokens)
                    tokens.append(token)
                (first if j == 0 else last)[base + k] = tid
            if not found:
                first[base + k] = last[base + k] = -1
            self.ids[w] = base + k
        self.size = base + n_new

    def doc_counts(self, texts: list[str]) -> sp.csr_matrix | None:
        """Same matrix as ``counts.transform(texts).tocsr()``, from the cached chunk rows
        (None when this union does not decompose by chunk)."""
        if not self.hashed:
            return None
        words: list[str] = []
        doc_chunks: list[int] = []
        for text in texts:
            split = text.split()
            doc_chunks.append(len(split))
            words.extend(split)
        got = self.rows(words)
        per_chunk = np.repeat(np.arange(len(texts), dtype=np.int64), doc_chunks)
        rows = np.repeat(per_chunk, np.diff(got.indptr))
        indices, data = got.indices, got.data
        if self.tail:  # chunk rows also hold the later blocks' columns: leave them out
            keep = indices < self.n_hashed
            rows, indices, data = rows[keep], indices[keep], data[keep]
        # Word bigrams across chunks: between consecutive chunks that hold a word token.
        holding = np.flatnonzero(got.first >= 0)
        same = per_chunk[holding[1:]] == per_chunk[holding[:-1]]
        left, right = holding[:-1][same], holding[1:][same]
        if left.size:
            rows = np.concatenate([rows, per_chunk[right]])
            columns = got.bigrams.lookup(got.last[left], got.first[right])
            indices = np.concatenate([indices, columns.astype(np.int32)])
            data = np.concatenate([data, np.ones(left.size, dtype=self.dtype)])
        out = _summed(rows, indices.astype(np.int64), data, (len(texts), self.n_hashed),
                      self.dtype)
        if self.tail:
            out = sp.csr_matrix(
                sp.hstack([out, *(block.transform(texts) for block in self.tail)], format="csr")
            )
        return out


_CACHES: weakref.WeakKeyDictionary[Any, _ChunkCache | None] = weakref.WeakKeyDictionary()


def _cache_for(counts: Any) -> _ChunkCache | None:
    """The chunk cache of ``counts``, or None when its output does not decompose by chunk."""
    try:
        return _CACHES[counts]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable: no cache
        return None
    cache = _ChunkCache(counts) if _cacheable(counts) else None
    _CACHES[counts] = cache
    return cache


def batch_counts(counts: _Transformer, texts: list[str]) -> sp.csr_matrix:
    """``counts.transform(texts).tocsr()``, built from cached per-chunk rows when possible."""
    cache = _cache_for(counts)
    out = cache.doc_counts(texts) if cache is not None and texts else None
    return counts.transform(texts).tocsr() if out is None else out


_SCRATCH = threading.local()


def _scratch(size: int) -> NDArray[np.float64]:
    """A zeroed float64 vector of ``size`` for this thread (callers leave it zeroed)."""
    vector: NDArray[np.float64] | None = getattr(_SCRATCH, "vector", None)
    if vector is None or vector.size != size:
        vector = np.zeros(size, dtype=np.float64)
        _SCRATCH.vector = vector
    return vector


def _gather_rows(
    table: tuple[NDArray[Any], NDArray[Any], NDArray[np.float64]], n_cols: int,
    rows: list[int], segments: list[NDArray[Any]],
) -> list[NDArray[np.float64]]:
    """``table[row, cols]`` for each row and its column array (0 where absent); ``table`` is a
    canonical CSR matrix as (indptr, indices, data). One dense row at a time in a scratch."""
    dense = _scratch(n_cols)
    out: list[NDArray[np.float64]] = []
    indptr, indices, data = table
    try:
        for row, cols in zip(rows, segments, strict=True):
            present = indices[indptr[row] : indptr[row + 1]]
            dense[present] = data[indptr[row] : indptr[row + 1]]
            out.append(dense[cols])
            dense[present] = 0.0
    except BaseException:
        dense[:] = 0.0
        raise
    return out


def _ratio(
    doc_counts: Any, doc_tfidf: Any
) -> tuple[NDArray[Any], NDArray[Any], NDArray[np.float64]]:
    """tfidf / count per stored entry, as canonical CSR parts (indptr, indices, data): the
    entries of ``tfidf.multiply(counts.power(-1))`` in float64, computed directly when both
    matrices share one canonical structure (tfidf rescales the counts in place)."""
    counts = sp.csr_matrix(doc_counts)
    tfidf = sp.csr_matrix(doc_tfidf)
    if (
        counts.has_canonical_format
        and np.array_equal(counts.indptr, tfidf.indptr)
        and np.array_equal(counts.indices, tfidf.indices)
    ):
        data = tfidf.data.astype(np.float64) * (counts.data.astype(np.float64) ** -1)
        if data.all():  # the sparse product would drop zeros
            return counts.indptr, counts.indices, data
    ratio = sp.csr_matrix(
        sp.csr_matrix(tfidf, dtype=np.float64).multiply(
            sp.csr_matrix(counts, dtype=np.float64).power(-1)
        )
    )
    ratio.sum_duplicates()
    return ratio.indptr, ratio.indices, ratio.data


def batch_evidence(
    norms: list[Normalised],
    doc_counts: sp.csr_matrix,
    doc_tfidf: sp.csr_matrix,
    weights: NDArray[np.floating],
    counts: _Transformer,
    wanted: list[tuple[int, int]],
) -> dict[tuple[int, int], tuple[tuple[int, int], ...]]:
    """Evidence for many (document, rule column of ``weights``) pairs at once.

    Same arithmetic as :func:`word_contributions`, batched: every chunk of every document that
    needs evidence gets its row of ``counts`` (cached across batches), and the contributions of
    all rules come from one sparse-dense product.
    """
    if not wanted:
        return {}
    cache = _cache_for(counts)
    if cache is None:
        return _batch_evidence_generic(norms, doc_counts, doc_tfidf, weights, counts, wanted)
    docs = sorted({k for k, _ in wanted})
    chunk_lists: dict[int, list[tuple[int, int]]] = {}
    starts: dict[int, int] = {}
    words: list[str] = []
    owner_counts: list[int] = []
    for k in docs:
        text = norms[k].text
        chunks = [m.span() for m in _CHUNK.finditer(text)]
        chunk_lists[k] = chunks
        starts[k] = len(words)
        words.extend([text[a:b] for a, b in chunks])
        owner_counts.append(len(chunks))
    if not words:
        return {}
    got = cache.rows(words)
    n_chunks = len(words)

    # Only word bigrams cross a space: each adjacent pair of chunks holds at most the one bigram
    # joining the last word token of the first to the first word token of the second. Pair p
    # joins chunks p and p + 1 of the stacked chunks, when both are of one document.
    owner = np.repeat(np.arange(len(docs), dtype=np.int64), owner_counts)
    left = np.flatnonzero(owner[1:] == owner[:-1])
    joined = left[(got.last[left] >= 0) & (got.first[left + 1] >= 0)]
    pair_of_bigram = np.searchsorted(left, joined)
    bigram_cols = got.bigrams.lookup(got.last[joined], got.first[joined + 1])
    pair_counts = np.bincount(owner[joined], minlength=len(docs)).tolist()

    ratio = _ratio(doc_counts, doc_tfidf)

    # Each chunk's counts times its document's tfidf/count ratio: ``own.multiply(ratio[owner])``
    # of word_contributions, entry for entry in the same order.
    indptr, indices, data = got.indptr, got.indices, got.data
    entry_ends = indptr[np.cumsum([0, *owner_counts])].tolist()
    bigram_ends = np.cumsum([0, *pair_counts]).tolist()
    segments: list[NDArray[Any]] = []
    for d in range(len(docs)):
        segments.append(indices[entry_ends[d] : entry_ends[d + 1]])
        segments.append(bigram_cols[bigram_ends[d] : bigram_ends[d + 1]])
    gathered = _gather_rows(
        ratio, doc_counts.shape[1], [k for k in docs for _ in (0, 1)], segments
    )
    values = data.astype(np.float64) * np.concatenate(gathered[0::2])
    if not values.all():  # the product drops zeros; keep the same sparsity
        keep = values != 0
        kept_rows = np.repeat(np.arange(n_chunks), np.diff(indptr))[keep]
        indptr = np.zeros_like(indptr)
        np.cumsum(np.bincount(kept_rows, minlength=n_chunks), out=indptr[1:])
        indices, values = indices[keep], values[keep]
    product = sp.csr_matrix((values, indices, indptr), shape=(n_chunks, doc_counts.shape[1]))
    contrib = np.asarray(product @ weights, dtype=np.float64)

    if left.size:
        half = np.zeros((left.size, contrib.shape[1]), dtype=np.float64)
        if joined.size:
            ratio_w = np.concatenate(gathered[1::2])
            half[pair_of_bigram] = 0.5 * (0.0 + ratio_w[:, None] * weights[bigram_cols])
        np.add.at(contrib, left, half)
        np.add.at(contrib, left + 1, half)

    return _selected_spans(wanted, norms, chunk_lists, starts, contrib)


def _batch_evidence_generic(
    norms: list[Normalised],
    doc_counts: sp.csr_matrix,
    doc_tfidf: sp.csr_matrix,
    weights: NDArray[np.floating],
    counts: _Transformer,
    wanted: list[tuple[int, int]],
) -> dict[tuple[int, int], tuple[tuple[int, int], ...]]:
    """:func:`batch_evidence` for any ``counts`` transformer, without the chunk cache."""
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
    return _selected_spans(wanted, norms, chunk_lists, starts, contrib)


def _selected_spans(
    wanted: list[tuple[int, int]],
    norms: list[Normalised],
    chunk_lists: Any,
    starts: Any,
    contrib: NDArray[np.float64],
) -> dict[tuple[int, int], tuple[tuple[int, int], ...]]:
    """Evidence spans of each wanted (document, rule column) from the stacked per-chunk
    contributions; a document's chunks start at row ``starts[k]`` of ``contrib``."""
    out: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
    for k, r in wanted:
        chunks = chunk_lists[k]
        if not chunks:
            out[(k, r)] = ()
            continue
        s0 = starts[k]
        out[(k, r)] = select_spans(norms[k], chunks, contrib[s0 : s0 + len(chunks), r])
    return out
