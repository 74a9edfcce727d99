"""Toxic-span tagger: which characters of a flagged comment make it toxic.

Why a dedicated tagger: the learned rules' per-word contributions answer "which words moved
this rule's score", which is not the question moderators (and SemEval-2021 Task 5) ask: "which
words would a person highlight". This module learns the second question from the SemEval
toxic-spans annotations and reports half-open ``[start, end)`` spans of the ORIGINAL text.

Model. Text is normalised (:func:`moderation.classifier.normalise.normalise`; its offset map
takes spans back to what the commenter wrote) and split into ``\\w+`` tokens. A logistic
regression scores "this token overlaps a gold span" from hashed features:

* the token's own *type* features: the word, its character 2-5-grams (so "idiots", "idiotic"
  and "idiotz" share evidence) and membership of
  :data:`~moderation.classifier.normalise.OBSCENE_FORMS`;
* light type features (word, 3-letter prefix and suffix, lexicon flag) of the tokens at
  offsets -2, -1, +1 and +2, each offset with its own weights;
* hashed word bigrams (previous, this) and (this, next);
* three per-comment numbers (token count, lexicon words in the comment).

Every block depends on one word type or a pair of types, so a token's logit is a sum of
per-type scalars and table look-ups: inference is numpy gathers over all tokens of a batch,
with per-type scores cached across calls (no per-token model call).

A second, six-weight logistic regression (the "context stage") rescores each token from the
first-stage logits of itself, its neighbours and its comment's best token; it is trained on
out-of-fold first-stage logits, so it sees the same kind of logits it gets at inference.

Decoding: a token is toxic when its probability is at least ``threshold`` and at least
``relative`` times the best probability in its comment (annotators mark the most salient words:
next to a clear "idiot", a borderline word is usually left unmarked); consecutive toxic tokens
are one span including what lies between them (gold spans almost always include the space or
punctuation between two toxic words, and almost never a trailing "!"); a comment with no toxic
token gets its best token when that reaches ``fallback``, else no span. The three numbers are
tuned together on out-of-fold predictions over the training rows (never on test).

Training data: SemEval ``tsd_train.csv`` + ``tsd_trial.csv`` (:func:`load_span_rows`) plus the
ACL-2022 comments that are not in the SemEval files, with majority-vote labels
(:func:`load_extra_span_rows`); any row whose text equals a ``tsd_test.csv`` text
(case-folded, whitespace-collapsed) is dropped.
"""

from __future__ import annotations

import ast
import csv
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from moderation.classifier.normalise import OBSCENE_FORMS, Normalised, normalise

__all__ = [
    "DEFAULT_CONFIG",
    "TAGGER_FORMAT",
    "fit_span_tagger",
    "load_extra_span_rows",
    "load_span_rows",
    "span_text_key",
    "tagger_spans",
    "tagger_spans_normalised",
    "tagger_token_probabilities",
    "tune_decoding",
]

TAGGER_FORMAT = 1
_SPLIT = re.compile(r"(\w+)")
_WORD_CHAR = re.compile(r"\w")
_BOS = "\x02"  # neighbour of a comment's first token (never a \w+ token itself)
_EOS = "\x03"  # neighbour of a comment's last token
_CONTEXT_OFFSETS = (-2, -1, 1, 2)
_PAIR_MULT = np.uint64(0x9E3779B1)
_PAIR_SALT = np.uint64(0x7F4A7C15)
_N_DENSE = 3

Row = tuple[str, set[int]]

DEFAULT_CONFIG: dict[str, Any] = {
    "own_bits": 18,  # hashed dimensions of the token's own type features
    "ctx_bits": 16,  # ... of each neighbour's light type features
    "pair_bits": 18,  # ... of each bigram block
    "ngram_min": 2,
    "ngram_max": 5,
    "max_word": 24,  # character n-grams of at most this many leading characters
    "vocab_size": 40_000,  # frequent words whose scores ship precomputed (fast cold start)
    "C": 0.04,  # inverse L2 strength of the token model (chosen by cross-validation)
    "extra_weight": 1.0,  # sample weight of ``extra_rows`` tokens
    "context_stage": True,
    "folds": 4,  # out-of-fold logits for the context stage and the decoding thresholds
    "threshold": None,  # decoding; None: tuned on out-of-fold predictions
    "relative": None,
    "fallback": None,
}


# --- training data ---------------------------------------------------------------------------


def span_text_key(text: str) -> str:
    """Case-folded, whitespace-collapsed text: how training rows are matched to test texts."""
    return " ".join(text.casefold().split())


def _read_span_csv(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            (r["text"], {int(i) for i in ast.literal_eval(r["spans"])})
            for r in csv.DictReader(handle)
        ]


def load_span_rows(
    data_dir: Path,
    files: Sequence[str] = ("tsd_train.csv", "tsd_trial.csv"),
    exclude: Sequence[str] = ("tsd_test.csv",),
) -> list[Row]:
    """(text, gold character offsets) rows of ``toxic_spans/<files>``, minus any row whose
    text (case-folded, whitespace-collapsed) is also a text of an ``exclude`` file."""
    base = Path(data_dir) / "toxic_spans"
    banned = {span_text_key(t) for name in exclude for t, _ in _read_span_csv(base / name)}
    return [
        row
        for name in files
        for row in _read_span_csv(base / name)
        if span_text_key(row[0]) not in banned
    ]


def load_extra_span_rows(
    data_dir: Path,
    exclude: Sequence[str] = ("tsd_train.csv", "tsd_trial.csv", "tsd_test.csv"),
) -> list[Row]:
    """Comments of the ACL-2022 release (``data_comments/annotations/spans.csv``) that are not
    in the SemEval files, labelled by majority: a character is toxic when more than half of
    the annotators who did not mark the comment "not toxic" included it in a span.

    These labels follow SemEval gold only moderately (mean F1 about 0.77 on the comments both
    releases share), so they only ever join the training side of the cross-validation and are
    never used to pick thresholds; they still add about 0.004 cross-validated F1.
    """
    base = Path(data_dir) / "toxic_spans"
    banned = {span_text_key(t) for name in exclude for t, _ in _read_span_csv(base / name)}
    with (base / "data_comments.csv").open(encoding="utf-8", newline="") as handle:
        comments = {r["comment_id"]: r["comment_text"] for r in csv.DictReader(handle)}
    marked: dict[str, list[tuple[int, int]]] = defaultdict(list)
    with (base / "data_spans.csv").open(encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            marked[r["annotation"]].append((int(r["start"]), int(r["end"])))
    votes: dict[str, list[set[int]]] = defaultdict(list)
    with (base / "data_annotations.csv").open(encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            if r["not toxic"] == "True":
                continue
            chars: set[int] = set()
            for start, end in marked.get(r["annotation"], []):
                chars.update(range(start, end))
            votes[r["comment_id"]].append(chars)
    rows: list[Row] = []
    for cid, text in comments.items():
        if span_text_key(text) in banned:
            continue
        raters = votes.get(cid, [])
        counts: dict[int, int] = defaultdict(int)
        for chars in raters:
            for c in chars:
                counts[c] += 1
        rows.append((text, {c for c, n in counts.items() if 2 * n > len(raters) and c < len(text)}))
    return rows


# --- tokens ----------------------------------------------------------------------------------


@dataclass
class _Tokens:
    """All ``\\w+`` tokens of a batch of normalised texts, in document order."""

    words: list[str]
    start: NDArray[np.int64]  # in the normalised text of the token's document
    end: NDArray[np.int64]
    doc: NDArray[np.int64]
    n_docs: int


def _tokenise(norms: Sequence[Normalised]) -> _Tokens:
    # One regex split of the batch joined by spaces (\w+ never crosses a space): the pieces
    # alternate gap, token, gap, ..., and their lengths give every offset without a per-token
    # Python step.
    texts = [n.text for n in norms]
    parts = _SPLIT.split(" ".join(texts))
    words = parts[1::2]
    ends = np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))
    end = ends[1::2]
    start = end - np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
    doc_start = np.cumsum(lengths) - lengths
    doc = np.searchsorted(doc_start, start, side="right") - 1
    offset = doc_start[doc]
    return _Tokens(words, start - offset, end - offset, doc, len(texts))


def _to_source(norm: Normalised, start: int, end: int, text: str | None) -> tuple[int, int]:
    """Normalised ``[start, end)`` in the original text; with the original ``text``, the end
    also covers word characters normalisation folded away ("stuuuupid" -> "stuupid")."""
    src_start, src_end = norm.span_to_source(start, end)
    if text is not None:
        while src_end < len(text) and _WORD_CHAR.match(text, src_end):
            src_end += 1
    return src_start, src_end


def _source_spans(
    norms: Sequence[Normalised], tokens: _Tokens, texts: Sequence[str] | None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    starts = np.empty(len(tokens.words), dtype=np.int64)
    ends = np.empty(len(tokens.words), dtype=np.int64)
    for i, (k, a, b) in enumerate(
        zip(tokens.doc.tolist(), tokens.start.tolist(), tokens.end.tolist(), strict=True)
    ):
        starts[i], ends[i] = _to_source(norms[k], a, b, texts[k] if texts else None)
    return starts, ends


# --- features --------------------------------------------------------------------------------


def _own_features(word: str, cfg: dict[str, Any]) -> list[str]:
    feats = ["w=" + word]
    if word in OBSCENE_FORMS:
        feats.append("lex")
    padded = "<" + word[: cfg["max_word"]] + ">"
    for n in range(cfg["ngram_min"], cfg["ngram_max"] + 1):
        feats.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return feats


def _ctx_features(word: str) -> list[str]:
    feats = ["w=" + word, "p=" + word[:3], "s=" + word[-3:]]
    if word in OBSCENE_FORMS:
        feats.append("lex")
    return feats


def _hasher(bits: int) -> Any:
    from sklearn.feature_extraction import FeatureHasher

    return FeatureHasher(n_features=1 << bits, input_type="string", alternate_sign=False)


def _type_matrices(
    words: Sequence[str], cfg: dict[str, Any]
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hashed own and context features of word types, one row per type."""
    own = _hasher(cfg["own_bits"]).transform(_own_features(w, cfg) for w in words)
    ctx = _hasher(cfg["ctx_bits"]).transform(_ctx_features(w) for w in words)
    return sp.csr_matrix(own, dtype=np.float64), sp.csr_matrix(ctx, dtype=np.float64)


def _type_hashes(words: Iterable[str]) -> NDArray[np.uint64]:
    from sklearn.utils import murmurhash3_32

    return np.array([murmurhash3_32(w, seed=7, positive=True) for w in words], dtype=np.uint64)


def _pair_index(
    left: NDArray[np.uint64], right: NDArray[np.uint64], bits: int
) -> NDArray[np.int64]:
    mixed = (left * _PAIR_MULT) ^ (right + _PAIR_SALT)
    return (mixed % np.uint64(1 << bits)).astype(np.int64)


@dataclass
class _Layout:
    """Where each feature block starts in the token design matrix."""

    ctx: dict[int, int]
    pair_left: int
    pair_right: int
    dense: int
    total: int


def _layout(cfg: dict[str, Any]) -> _Layout:
    pos = 1 << cfg["own_bits"]  # the own block comes first
    ctx = {}
    for k in _CONTEXT_OFFSETS:
        ctx[k] = pos
        pos += 1 << cfg["ctx_bits"]
    pair_left = pos
    pair_right = pos + (1 << cfg["pair_bits"])
    dense = pair_right + (1 << cfg["pair_bits"])
    return _Layout(ctx, pair_left, pair_right, dense, dense + _N_DENSE)


@dataclass
class _Positions:
    """Type ids of each token's neighbours, and per-comment numbers for each token."""

    neighbour: dict[int, NDArray[np.int64]]
    dense: NDArray[np.float64]


def _shift(values: NDArray[Any], doc: NDArray[np.int64], k: int, fill: Any) -> NDArray[Any]:
    """``values`` of the token ``k`` places away in the same comment, else ``fill``."""
    n = len(values)
    out = np.full(n, fill, dtype=values.dtype)
    if abs(k) >= n:
        return out
    if k > 0:
        same = doc[k:] == doc[:-k]
        out[:-k] = np.where(same, values[k:], fill)
    else:
        same = doc[:k] == doc[-k:]
        out[-k:] = np.where(same, values[:k], fill)
    return out


def _positions(
    tokens: _Tokens, ids: NDArray[np.int64], is_lex: NDArray[np.bool_], bos: int, eos: int
) -> _Positions:
    doc = tokens.doc
    neighbour = {k: _shift(ids, doc, k, bos if k < 0 else eos) for k in _CONTEXT_OFFSETS}
    n_tok = np.bincount(doc, minlength=tokens.n_docs).astype(np.float64)
    n_lex = np.bincount(doc, weights=is_lex[ids], minlength=tokens.n_docs)
    dense = np.empty((len(ids), _N_DENSE))
    dense[:, 0] = (np.log1p(n_tok) / 4.0)[doc]
    dense[:, 1] = np.log1p(n_lex)[doc]
    dense[:, 2] = (n_lex > 0)[doc]
    return _Positions(neighbour, dense)


def _design(
    ids: NDArray[np.int64],
    pos: _Positions,
    own: sp.csr_matrix,
    ctx: sp.csr_matrix,
    hashes: NDArray[np.uint64],
    cfg: dict[str, Any],
) -> sp.csr_matrix:
    """Sparse token design matrix (training only; inference sums per-type scores instead)."""
    n = len(ids)
    blocks = [own[ids]]
    blocks.extend(ctx[pos.neighbour[k]] for k in _CONTEXT_OFFSETS)
    pair_n = 1 << cfg["pair_bits"]
    for left, right in ((pos.neighbour[-1], ids), (ids, pos.neighbour[1])):
        col = _pair_index(hashes[left], hashes[right], cfg["pair_bits"])
        blocks.append(sp.csr_matrix((np.ones(n), (np.arange(n), col)), shape=(n, pair_n)))
    blocks.append(sp.csr_matrix(pos.dense))
    out = sp.csr_matrix(sp.hstack(blocks, format="csr"))
    if out.shape[1] != _layout(cfg).total:
        raise AssertionError("design matrix does not match its layout")
    return out


def _doc_max(values: NDArray[np.float64], doc: NDArray[np.int64], n_docs: int) -> NDArray[Any]:
    out = np.full(n_docs, -np.inf)
    np.maximum.at(out, doc, values)
    return out


def _context_features(z: NDArray[np.float64], tokens: _Tokens) -> NDArray[np.float64]:
    """Second-stage inputs from first-stage logits ``z`` (one per token, document order)."""
    doc = tokens.doc
    before = _shift(z, doc, -1, -6.0)
    after = _shift(z, doc, 1, -6.0)
    best = _doc_max(z, doc, tokens.n_docs)[doc]
    return np.column_stack([z, before, after, best, z - best, np.maximum(before, after)])


# --- fitting ---------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """Rows tokenised, labelled, and turned into a design matrix."""

    gold: list[set[int]]
    tokens: _Tokens
    labels: NDArray[np.int64]
    src_start: NDArray[np.int64]
    src_end: NDArray[np.int64]
    x: sp.csr_matrix


def _prepare(rows: Sequence[Row], cfg: dict[str, Any]) -> _Prepared:
    texts = [t for t, _ in rows]
    norms = [normalise(t) for t in texts]
    gold = [set(g) for _, g in rows]
    tokens = _tokenise(norms)
    vocab: dict[str, int] = {_BOS: 0, _EOS: 1}
    ids = np.fromiter(
        (vocab.setdefault(w, len(vocab)) for w in tokens.words),
        dtype=np.int64,
        count=len(tokens.words),
    )
    types = list(vocab)
    own, ctx = _type_matrices(types, cfg)
    is_lex = np.array([w in OBSCENE_FORMS for w in types], dtype=bool)
    pos = _positions(tokens, ids, is_lex, 0, 1)
    x = _design(ids, pos, own, ctx, _type_hashes(types), cfg)
    src_start, src_end = _source_spans(norms, tokens, texts)
    labels = np.zeros(len(ids), dtype=np.int64)
    for i, (k, a, b) in enumerate(
        zip(tokens.doc.tolist(), src_start.tolist(), src_end.tolist(), strict=True)
    ):
        g = gold[k]
        if g and not g.isdisjoint(range(a, b)):
            labels[i] = 1
    return _Prepared(gold, tokens, labels, src_start, src_end, x)


def _fit_token_model(
    x: sp.csr_matrix,
    y: NDArray[np.int64],
    w: NDArray[np.float64] | None,
    cfg: dict[str, Any],
    seed: int,
) -> Any:
    from sklearn.linear_model import LogisticRegression

    # The dual liblinear solver is ~5x faster than the primal one here (far more hashed
    # columns than tokens) and reaches the same optimum.
    model = LogisticRegression(
        C=cfg["C"], solver="liblinear", dual=True, max_iter=300, random_state=seed
    )
    model.fit(x, y, sample_weight=w)
    return model


def fit_span_tagger(
    train_rows: Sequence[tuple[str, Iterable[int]]],
    seed: int = 0,
    config: dict[str, Any] | None = None,
    extra_rows: Sequence[tuple[str, Iterable[int]]] = (),
) -> dict[str, Any]:
    """Train the tagger on ``(text, gold character offsets)`` rows; returns a dict of plain
    values, numpy arrays and scikit-learn ``LogisticRegression`` models (skops-safe).

    ``extra_rows`` (e.g. :func:`load_extra_span_rows`) join every training fold at weight
    ``extra_weight`` but are never used to pick thresholds. Thresholds and the context stage
    come from ``folds``-fold cross-validation over ``train_rows``; its mean span F1 is kept in
    ``tagger["cv"]``.
    """
    from sklearn.linear_model import LogisticRegression

    cfg = {**DEFAULT_CONFIG, **(config or {})}
    rows = [(t, set(g)) for t, g in train_rows]
    prep = _prepare(rows, cfg)
    x, y = prep.x, prep.labels
    extra = [(t, set(g)) for t, g in extra_rows]
    x_extra = y_extra = w_extra = None
    if extra:
        prep_extra = _prepare(extra, cfg)
        x_extra, y_extra = prep_extra.x, prep_extra.labels
        w_extra = np.full(len(y_extra), float(cfg["extra_weight"]))

    def fit(mask: NDArray[np.bool_]) -> Any:
        if x_extra is None:
            return _fit_token_model(x[mask], y[mask], None, cfg, seed)
        return _fit_token_model(
            sp.csr_matrix(sp.vstack([x[mask], x_extra])),
            np.concatenate([y[mask], y_extra]),
            np.concatenate([np.ones(int(mask.sum())), w_extra]),
            cfg,
            seed,
        )

    context = None
    tuned: dict[str, float] = {}
    if cfg["context_stage"] or any(cfg[k] is None for k in ("threshold", "relative", "fallback")):
        rng = np.random.default_rng(seed)
        fold = (rng.permutation(prep.tokens.n_docs) % cfg["folds"])[prep.tokens.doc]
        z = np.zeros(len(y))
        for f in range(cfg["folds"]):
            held = fold == f
            z[held] = fit(~held).decision_function(x[held])
        if cfg["context_stage"]:
            feats = _context_features(z, prep.tokens)
            context = LogisticRegression(C=1.0, max_iter=500, random_state=seed)
            context.fit(feats, y)
            p = context.predict_proba(feats)[:, 1]
        else:
            p = 1.0 / (1.0 + np.exp(-z))
        tuned = tune_decoding(p, prep.tokens, prep.src_start, prep.src_end, prep.gold)
    model = fit(np.ones(len(y), dtype=bool))
    # float32 weights halve the artefact (about 2 MB compressed) and change no decision.
    model.coef_ = np.asarray(model.coef_, dtype=np.float32)
    decoding = {
        k: float(cfg[k]) if cfg[k] is not None else tuned[k]
        for k in ("threshold", "relative", "fallback")
    }
    tagger = {
        "kind": "span-tagger",
        "format": TAGGER_FORMAT,
        "config": {k: v for k, v in cfg.items() if k not in decoding},
        "token_model": model,
        "context_model": context,
        **decoding,
        "cv": {k: float(v) for k, v in tuned.items()},
        "seed": int(seed),
        "n_rows": len(rows),
        "n_extra_rows": len(extra),
    }
    words = prep.tokens.words + (prep_extra.tokens.words if extra else [])
    tagger["vocab"] = _vocab_tables(tagger, words, int(cfg["vocab_size"]))
    return tagger


def _vocab_tables(tagger: dict[str, Any], words: list[str], size: int) -> dict[str, Any]:
    """Per-type scores of the ``size`` most frequent training words (seen at least twice)."""
    counts: dict[str, int] = defaultdict(int)
    for w in words:
        counts[w] += 1
    frequent = sorted((w for w, c in counts.items() if c >= 2), key=lambda w: (-counts[w], w))
    frequent = frequent[:size]
    cache = _TypeCache({**tagger, "vocab": None})
    base = len(cache.index)
    cache._add(frequent)
    return {
        "words": frequent,
        "own": cache.own[base:].astype(np.float32),
        "ctx": cache.ctx[base:].astype(np.float32),
        "hashes": cache.hashes[base:].astype(np.uint32),
    }


# --- decoding ---------------------------------------------------------------------------------


def _decode_mask(
    p: NDArray[np.float64],
    doc: NDArray[np.int64],
    n_docs: int,
    threshold: float,
    relative: float,
    fallback: float,
) -> NDArray[np.bool_]:
    """Toxic tokens: at least ``threshold`` and at least ``relative`` times the comment's best
    probability; a comment with none gets its best token if that reaches ``fallback``."""
    if len(p) == 0:
        return p >= threshold
    best = _doc_max(p, doc, n_docs)
    sel = (p >= threshold) & (p >= relative * best[doc])
    if fallback > 1.0:
        return sel
    has = np.bincount(doc, weights=sel, minlength=n_docs) > 0
    cand = np.flatnonzero((p == best[doc]) & ~has[doc] & (p >= fallback))
    if len(cand):
        # the first best token of each such comment
        first = np.r_[True, doc[cand][1:] != doc[cand][:-1]]
        sel[cand[first]] = True
    return sel


def _fast_f1(
    sel: NDArray[np.bool_],
    doc: NDArray[np.int64],
    n_docs: int,
    counts: tuple[NDArray[np.float64], ...],
) -> float:
    """Mean per-comment character F1 of a token selection, gaps between toxic tokens filled."""
    tok_len, tok_gold, gap_len, gap_gold, gap_ok, gold_size = counts
    pred = np.bincount(doc, weights=sel * tok_len, minlength=n_docs)
    inter = np.bincount(doc, weights=sel * tok_gold, minlength=n_docs)
    if len(sel) > 1:
        gap_sel = sel[:-1] & sel[1:] & (gap_ok > 0)
        pred += np.bincount(doc[:-1], weights=gap_sel * gap_len, minlength=n_docs)
        inter += np.bincount(doc[:-1], weights=gap_sel * gap_gold, minlength=n_docs)
    denom = pred + gold_size
    f1 = np.where(denom > 0, 2 * inter / np.maximum(denom, 1), 1.0)  # both empty: 1
    return float(f1.mean()) if n_docs else float("nan")


def tune_decoding(
    p: NDArray[np.float64],
    tokens: _Tokens,
    src_start: NDArray[np.int64],
    src_end: NDArray[np.int64],
    gold: Sequence[set[int]],
) -> dict[str, float]:
    """Grid-search ``threshold``, ``relative`` and ``fallback`` for the best mean span F1."""
    doc = tokens.doc
    n = len(p)

    def gold_in(k: int, a: int, b: int) -> int:
        return sum(1 for c in range(a, b) if c in gold[k])

    tok_len = (src_end - src_start).astype(np.float64)
    tok_gold = np.array(
        [
            gold_in(k, a, b)
            for k, a, b in zip(doc.tolist(), src_start.tolist(), src_end.tolist(), strict=True)
        ],
        dtype=np.float64,
    )
    gap_ok = (doc[:-1] == doc[1:]).astype(np.float64) if n > 1 else np.zeros(0)
    gap_start, gap_end = src_end[:-1], src_start[1:]
    gap_len = (gap_ok * np.maximum(gap_end - gap_start, 0)).astype(np.float64)
    gap_gold = np.array(
        [
            gold_in(k, a, b) if ok else 0
            for k, a, b, ok in zip(
                doc[:-1].tolist(),
                gap_start.tolist(),
                gap_end.tolist(),
                gap_ok.tolist(),
                strict=True,
            )
        ],
        dtype=np.float64,
    )
    gold_size = np.array([len(g) for g in gold], dtype=np.float64)
    counts = (tok_len, tok_gold, gap_len, gap_gold, gap_ok, gold_size)
    best = {"f1": -1.0, "threshold": 0.5, "relative": 0.0, "fallback": 1.01}
    for threshold in np.round(np.arange(0.10, 0.71, 0.02), 2):
        for relative in (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            for fallback in (0.0, 0.1, 0.2, 0.3, 1.01):
                if fallback >= threshold and fallback <= 1.0:
                    continue
                sel = _decode_mask(p, doc, tokens.n_docs, float(threshold), relative, fallback)
                f1 = _fast_f1(sel, doc, tokens.n_docs, counts)
                if f1 > best["f1"] + 1e-9:
                    best = {
                        "f1": f1,
                        "threshold": float(threshold),
                        "relative": relative,
                        "fallback": fallback,
                    }
    return best


# --- inference --------------------------------------------------------------------------------


class _TypeCache:
    """Per-type score tables of one tagger, grown as new words are seen."""

    LIMIT = 300_000

    def __init__(self, tagger: dict[str, Any]) -> None:
        self.vocab: dict[str, Any] | None = tagger.get("vocab")
        cfg = tagger["config"]
        self.cfg = cfg
        lay = _layout(cfg)
        coef = np.asarray(tagger["token_model"].coef_, dtype=np.float64).ravel()
        self.intercept = float(np.asarray(tagger["token_model"].intercept_).ravel()[0])
        self.w_own = coef[: 1 << cfg["own_bits"]]
        n_ctx = 1 << cfg["ctx_bits"]
        self.w_ctx = np.column_stack(
            [coef[lay.ctx[k] : lay.ctx[k] + n_ctx] for k in _CONTEXT_OFFSETS]
        )
        n_pair = 1 << cfg["pair_bits"]
        self.w_left = coef[lay.pair_left : lay.pair_left + n_pair]
        self.w_right = coef[lay.pair_right : lay.pair_right + n_pair]
        self.w_dense = coef[lay.dense : lay.total]
        context = tagger.get("context_model")
        self.context: tuple[NDArray[np.float64], float] | None = None
        if context is not None:
            self.context = (
                np.asarray(context.coef_, dtype=np.float64).ravel(),
                float(np.asarray(context.intercept_).ravel()[0]),
            )
        self.reset()

    def reset(self) -> None:
        self.index: dict[str, int] = {}
        self.own = np.zeros(0)
        self.ctx = np.zeros((0, len(_CONTEXT_OFFSETS)))
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.is_lex = np.zeros(0, dtype=bool)
        self._add([_BOS, _EOS])
        if self.vocab:
            # Tables of the frequent training words, precomputed at fit time: a fresh process
            # scores as fast as a warm one.
            words = list(self.vocab["words"])
            self.index.update(
                zip(words, range(len(self.index), len(self.index) + len(words)), strict=True)
            )
            self.own = np.concatenate([self.own, np.asarray(self.vocab["own"], np.float64)])
            self.ctx = np.concatenate([self.ctx, np.asarray(self.vocab["ctx"], np.float64)])
            self.hashes = np.concatenate([self.hashes, np.asarray(self.vocab["hashes"], np.uint64)])
            self.is_lex = np.concatenate([self.is_lex, [w in OBSCENE_FORMS for w in words]])

    def _add(self, words: list[str]) -> None:
        own, ctx = _type_matrices(words, self.cfg)
        for w in words:
            self.index[w] = len(self.index)
        self.own = np.concatenate([self.own, own @ self.w_own])
        self.ctx = np.concatenate([self.ctx, ctx @ self.w_ctx])
        self.hashes = np.concatenate([self.hashes, _type_hashes(words)])
        self.is_lex = np.concatenate([self.is_lex, [w in OBSCENE_FORMS for w in words]])

    def ids(self, words: list[str]) -> NDArray[np.int64]:
        n = len(words)
        ids = np.fromiter(map(self.index.get, words, repeat(-1, n)), dtype=np.int64, count=n)
        if (ids < 0).any():
            new = sorted({w for w, i in zip(words, ids.tolist(), strict=True) if i < 0})
            if len(self.index) + len(new) > self.LIMIT:
                self.reset()
                new = sorted(set(words))
            self._add(new)
            ids = np.fromiter(map(self.index.get, words, repeat(-1, n)), dtype=np.int64, count=n)
        return ids


_CACHES: list[tuple[dict[str, Any], _TypeCache]] = []


def _cache_for(tagger: dict[str, Any]) -> _TypeCache:
    for owner, cache in _CACHES:
        if owner is tagger:
            return cache
    cache = _TypeCache(tagger)
    _CACHES.append((tagger, cache))
    del _CACHES[:-4]
    return cache


def _token_logits(tagger: dict[str, Any], tokens: _Tokens) -> NDArray[np.float64]:
    """First-stage logits, vectorised: per-type scores gathered by position."""
    cache = _cache_for(tagger)
    ids = cache.ids(tokens.words)
    pos = _positions(tokens, ids, cache.is_lex, 0, 1)
    z = cache.intercept + cache.own[ids]
    for j, k in enumerate(_CONTEXT_OFFSETS):
        z += cache.ctx[pos.neighbour[k], j]
    bits = cache.cfg["pair_bits"]
    z += cache.w_left[_pair_index(cache.hashes[pos.neighbour[-1]], cache.hashes[ids], bits)]
    z += cache.w_right[_pair_index(cache.hashes[ids], cache.hashes[pos.neighbour[1]], bits)]
    z += pos.dense @ cache.w_dense
    return z


def _probabilities(tagger: dict[str, Any], tokens: _Tokens) -> NDArray[np.float64]:
    z = _token_logits(tagger, tokens)
    context = _cache_for(tagger).context
    if context is None:
        return 1.0 / (1.0 + np.exp(-z))
    w, b = context
    return 1.0 / (1.0 + np.exp(-(_context_features(z, tokens) @ w + b)))


def tagger_token_probabilities(
    tagger: dict[str, Any], texts: Sequence[str], norms: Sequence[Normalised] | None = None
) -> list[list[tuple[int, int, float]]]:
    """Per comment, each token's ``[start, end)`` in the original text and its probability."""
    norms = [normalise(t) for t in texts] if norms is None else norms
    tokens = _tokenise(norms)
    out: list[list[tuple[int, int, float]]] = [[] for _ in norms]
    if not tokens.words:
        return out
    p = _probabilities(tagger, tokens)
    for k, a, b, q in zip(
        tokens.doc.tolist(), tokens.start.tolist(), tokens.end.tolist(), p.tolist(), strict=True
    ):
        out[k].append((*_to_source(norms[k], a, b, texts[k]), q))
    return out


def tagger_spans_normalised(
    tagger: dict[str, Any],
    norms: Sequence[Normalised],
    texts: Sequence[str] | None = None,
) -> list[list[tuple[int, int]]]:
    """Toxic spans, half-open ``[start, end)`` in the original texts, of already normalised
    comments (what the scorer has at hand). Pass the original ``texts`` too so a span ends
    where the written word ends ("stuuuupid" whole, not "stuu")."""
    out: list[list[tuple[int, int]]] = [[] for _ in norms]
    tokens = _tokenise(norms)
    if not tokens.words:
        return out
    p = _probabilities(tagger, tokens)
    sel = _decode_mask(
        p, tokens.doc, tokens.n_docs, tagger["threshold"], tagger["relative"], tagger["fallback"]
    )
    chosen = np.flatnonzero(sel).tolist()
    docs = tokens.doc[chosen].tolist()
    starts = tokens.start[chosen].tolist()
    ends = tokens.end[chosen].tolist()
    run_start, prev_k, prev_i = 0, -1, -2
    for i, k, a, b in zip(chosen, docs, starts, ends, strict=True):
        text = texts[k] if texts is not None else None
        if k == prev_k and i == prev_i + 1:
            # Consecutive toxic tokens: one span, with what lies between them.
            out[k][-1] = _to_source(norms[k], run_start, b, text)
        else:
            run_start = a
            out[k].append(_to_source(norms[k], a, b, text))
        prev_k, prev_i = k, i
    return out


def tagger_spans(tagger: dict[str, Any], texts: Sequence[str]) -> list[list[tuple[int, int]]]:
    """Toxic spans, half-open ``[start, end)`` in each original text."""
    return tagger_spans_normalised(tagger, [normalise(t) for t in texts], texts)
