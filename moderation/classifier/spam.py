"""The spam rule's own sub-model: hashed word features of the *raw* text plus spam marker tokens.

Why not the shared features: they are built for toxicity. The normaliser case-folds, folds
leetspeak and joins spaced letters, and the shared char n-grams spend most of their weight on
insults; spam lives in other places: digit shapes (an 11-digit number starting 09, a 5-digit
short code), currency amounts, links, shouting, symbols ("T&C", "18+", "<#>"), emoticons and
the ellipses of personal messages. So this model reads a lightly cleaned copy of the text
(HTML entities decoded, markup tags, byte-order marks and zero-width characters dropped: what a
reader sees) and hashes three kinds of token:

* lower-cased word unigrams and bigrams,
* 5-character word prefixes (``ringtones`` and ``ringtone`` share ``ringt``),
* marker tokens for the shapes above (see :func:`_markers`).

Why weights per source: the spam label is known for ~58k rows, but only the SMS and YouTube
rows contain spam, and the ~50k acceptable comments of the other sources would otherwise decide
the fit. SMS rows count :data:`SMS_WEIGHT` times, YouTube rows :data:`YOUTUBE_WEIGHT` times;
the other sources still teach what ordinary comments look like.

Why synthetic comments: the public data teach "link / phone number / price = spam", which a news
site cannot afford; the fit adds :data:`AUGMENT_PER_KIND` acceptable comments of each kind
(spam_augment.py says how they are made), each counting :data:`AUGMENT_WEIGHT` times.

Why rare features are dropped: a hashed n-gram seen in fewer than :data:`MIN_DF` training rows
lets the model memorise single examples; their idf is set to 0, which also generalises better
to an unseen YouTube video.

The fitted object is a plain dict of scikit-learn estimators (``TfidfTransformer``,
``CalibratedClassifierCV`` over ``LogisticRegression``) and numbers, so it serialises with skops
using only types already in ``artefact.TRUSTED_TYPES``. Hashing is stateless (no vocabulary):
the featuriser is code (:func:`build_spam_features`), rebuilt from ``n_features`` at scoring time.

Measured with evaluate's folds (seed 1729; each fold's spam model fitted on that fold's training
rows, score = max(model, spam detectors) as in the scorer; a probe of 3,000 held-out Civil
Comments each with one of nine citizen links, prices or numbers in phrasings the augmentation
does not use; ``python bench/spam_augmentation.py 0 250 500 1000 1500``), comments added
per kind:

=========  =====================  ===========  ==============  ===============
per kind   SMS F1 at P >= 0.99    YouTube F1   probe >= 0.6    probe >= 0.97
=========  =====================  ===========  ==============  ===============
0          0.953                  0.958        24.5 %          4.0 %
250        0.949                  0.959        9.6 %           0.7 %
500        0.949                  0.954        7.1 %           0.3 %
1000       0.946                  0.952        3.9 %           0.2 %
1500       0.944                  0.952        2.6 %           0.07 %
=========  =====================  ===========  ==============  ===============

0.6 and 0.97 are the default policy's spam review and reject thresholds. About 16k comments/s
on one core for ``spam_probabilities``.
"""

from __future__ import annotations

import html
import re
import warnings
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from moderation.classifier.datasets import Example
from moderation.classifier.rules import LEARNED_RULES
from moderation.classifier.spam_augment import PUBLIC_COMMENT_SOURCES, augmented_comments

__all__ = [
    "AUGMENT_PER_KIND",
    "AUGMENT_WEIGHT",
    "C",
    "MIN_DF",
    "N_FEATURES",
    "SMS_WEIGHT",
    "YOUTUBE_WEIGHT",
    "build_spam_features",
    "clean_text",
    "fit_spam_model",
    "spam_counts",
    "spam_hyperparameters",
    "spam_probabilities",
    "spam_tokens",
]

KIND = "spam-hashed-words-v1"
N_FEATURES = 2**20
PREFIX = 5
MIN_DF = 3
C = 16.0
CALIBRATION_FOLDS = 3
# Per-source sample weights for the spam fit (rows of any other source weigh 1).
SMS_WEIGHT = 100.0
YOUTUBE_WEIGHT = 300.0
SOURCE_WEIGHTS: dict[str, float] = {"sms_spam": SMS_WEIGHT, "youtube_spam": YOUTUBE_WEIGHT}
# Acceptable comments with a phone number, price, link or capitals (spam_augment.py): how many
# of each kind, and the weight of each.
AUGMENT_PER_KIND = 1500
AUGMENT_WEIGHT = 3.0

_SPAM = LEARNED_RULES.index("spam")

# --- light normalisation -----------------------------------------------------------------------

_TAG = re.compile(r"</?[A-Za-z][^<>]{0,300}>")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)


def clean_text(text: str) -> str:
    """What a reader sees: HTML entities decoded, tags (``<br />``, ``<a href=..>``) removed,
    byte-order marks, zero-width characters and soft hyphens dropped. Case, digits, currency
    signs and punctuation are kept."""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if not text.isascii():
        text = text.translate(_INVISIBLE)
    return text


# --- tokens ------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_URL = re.compile(
    r"https?://|www\.|\.\s?(?:com|net|org|co\.uk|uk|io|info|biz|tv|ly|me|tk|in|pl|ru|be|us)\b"
)
_DIGITS = re.compile(r"\d+")
_PHONE = re.compile(r"(?<!\d)\+?\d[\d ()-]{8,}\d(?!\d)")
_CURRENCY = re.compile(r"([£$€])\s?(\d+)")
_CURRENCY_NAMES = {"£": "gbp", "$": "usd", "€": "eur"}
_MONEY_WORDS = ("pound", "dollar", "euro", "gbp", "usd", "pence", "quid")
_SYMBOLS = re.compile(r"[^\w\s]{2,}")
_EMOTICON = re.compile(r"[:;=8][-'^o]?[)(\]\[dDpP/\\|*3]|\^_?\^|<3|\bx[dD]\b")
_EMOTICON_HINTS = (":", ";", "=", "^", "<3", "xd", "XD", "xD")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.\w")


def _bucket(n: int, edges: tuple[int, ...]) -> int:
    for edge in edges:
        if n <= edge:
            return edge
    return edges[-1] + 1


_DIGIT_EDGES = (1, 2, 3, 4, 5, 6, 8, 10, 11, 12)
_LENGTH_EDGES = (10, 20, 40, 80, 120, 160, 240, 400)
_CAPS_EDGES = (0, 1, 2, 3, 5, 7)


def _shape(token: str) -> str:
    """``KL341`` -> ``ud``, ``150ppm`` -> ``dl``: the letter/digit pattern of a mixed token."""
    out: list[str] = []
    for ch in token:
        kind = "d" if ch.isdigit() else ("u" if ch.isupper() else "l")
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)


def _markers(text: str, low: str, words: list[str]) -> list[str]:
    """Marker tokens (prefixed ``zz``/``zy``, so never equal to a real word) for the shapes spam
    has and the shared features lose: links, e-mail addresses, phone numbers, money, digit runs
    by length and leading digits, mixed letter-digit codes, shouted words, symbol clusters,
    emoticons and ellipses. ``words`` are the ``\\w+`` tokens of ``text`` (case kept)."""
    out: list[str] = []
    if _URL.search(low):
        out.append("zzurl")
    if "@" in text and _EMAIL.search(text):
        out.append("zzemail")
    mixed = [w for w in words if not w.isalpha()]  # any digit (or underscore) inside
    if mixed:
        n_digits = 0
        money = False
        for w in mixed:
            for run in _DIGITS.findall(w):
                n_digits += len(run)
                out.append(f"zzd{_bucket(len(run), _DIGIT_EDGES)}")
                if len(run) >= 5:
                    out.append("zzdp" + run[:3])
            if not w.isdigit() and any(c.isalpha() for c in w):
                out.append("zzsh" + _shape(w))
                lw = w.lower()
                if lw[0].isdigit() and (lw.endswith("p") or lw.endswith("ppm")):
                    money = True  # "150p", "10ppm"
        if n_digits >= 9 and _PHONE.search(text):
            out.append("zzphone")
        if "£" in text or "$" in text or "€" in text:
            for m in _CURRENCY.finditer(text):
                money = True
                out.append(f"zzcur{_CURRENCY_NAMES[m.group(1)]}{min(len(m.group(2)), 5)}")
        if money or any(m in low for m in _MONEY_WORDS):
            out.append("zzmoney")
    caps = [w for w in words if len(w) > 1 and w.isupper() and w.isalpha()] if text != low else []
    out.extend("zzc" + c.lower() for c in caps)
    out.append(f"zzcr{_bucket(10 * len(caps) // max(len(words), 1), _CAPS_EDGES)}")
    out.append(f"zzlen{_bucket(len(text), _LENGTH_EDGES)}")
    if "!" in text:
        out.append("zzexcl")
    if "&" in text:
        out.append("zzamp")
    for m in _SYMBOLS.findall(text):
        out.append("zy" + "".join(f"{ord(c):x}" for c in m[:6]))
    if any(h in text for h in _EMOTICON_HINTS) and _EMOTICON.search(text):
        out.append("zzemo")
    if ".." in text:
        out.append("zzdots")
    return out


def spam_tokens(raw: str) -> tuple[list[str], list[str]]:
    """(lower-cased words, other tokens) of one comment. The hashed features are the words, the
    bigrams of consecutive words, and the other tokens: 5-character prefixes of longer words
    and the marker tokens of :func:`_markers`."""
    text = clean_text(raw)
    low = text.lower()
    words = _WORD.findall(text)
    lowered = [w.lower() for w in words] if low != text else words
    other = [w[:PREFIX] + "~" for w in lowered if len(w) > PREFIX and not w.isdigit()]
    other += _markers(text, low, words)
    return lowered, other


# Token -> 32-bit hash. Deterministic (CRC-32 of the UTF-8 bytes), so the cache only saves time;
# it is cleared when it grows past _CACHE_LIMIT entries.
_HASHES: dict[str, int] = {}
_CACHE_LIMIT = 500_000
_BIGRAM_MULT = np.uint64(0x9E3779B1)
_BIGRAM_SALT = np.uint64(0x7F4A7C15)


def _hash(token: str) -> int:
    value = _HASHES.get(token)
    if value is None:
        if len(_HASHES) >= _CACHE_LIMIT:
            _HASHES.clear()
        value = _HASHES[token] = zlib.crc32(token.encode("utf-8", "surrogatepass"))
    return value


def build_spam_features(n_features: int = N_FEATURES) -> Callable[[Sequence[str]], sp.csr_matrix]:
    """The stateless featuriser: raw texts -> hashed token counts (``n_features`` columns, a
    power of two). No vocabulary: the same function serves training and scoring."""
    if n_features & (n_features - 1):
        raise ValueError("n_features must be a power of two")
    mask = np.uint64(n_features - 1)

    def transform(raw_texts: Sequence[str]) -> sp.csr_matrix:
        word_hashes: list[int] = []
        word_rows: list[int] = []
        other_hashes: list[int] = []
        other_rows: list[int] = []
        cached = _HASHES.get  # a hit skips the function call (a zero hash is just recomputed)
        for row, raw in enumerate(raw_texts):
            words, other = spam_tokens(raw)
            word_hashes.extend([cached(w) or _hash(w) for w in words])
            word_rows.extend([row] * len(words))
            other_hashes.extend([cached(t) or _hash(t) for t in other])
            other_rows.extend([row] * len(other))
        wh = np.fromiter(word_hashes, dtype=np.uint64, count=len(word_hashes))
        wr = np.fromiter(word_rows, dtype=np.int64, count=len(word_rows))
        same = wr[1:] == wr[:-1]  # consecutive words of the same comment
        bigrams = (wh[:-1][same] * _BIGRAM_MULT + wh[1:][same] + _BIGRAM_SALT) >> np.uint64(7)
        cols = np.concatenate([
            wh & mask,
            bigrams & mask,
            np.fromiter(other_hashes, dtype=np.uint64, count=len(other_hashes)) & mask,
        ]).astype(np.int64)
        rows = np.concatenate([wr, wr[:-1][same], np.asarray(other_rows, dtype=np.int64)])
        counts = sp.csr_matrix(
            (np.ones(cols.size, dtype=np.float32), (rows, cols)),
            shape=(len(raw_texts), n_features),
        )
        counts.sum_duplicates()
        return counts

    return transform


def spam_counts(raw_texts: Sequence[str], n_features: int = N_FEATURES) -> sp.csr_matrix:
    """Hashed token counts of raw texts (stateless; folds and callers may share them)."""
    return build_spam_features(n_features)(raw_texts)


# --- fit and score -----------------------------------------------------------------------------


def spam_hyperparameters() -> dict[str, Any]:
    return {"kind": KIND, "n_features": N_FEATURES, "prefix": PREFIX, "min_df": MIN_DF, "C": C,
            "calibration_folds": CALIBRATION_FOLDS, "source_weights": dict(SOURCE_WEIGHTS),
            "augment_per_kind": AUGMENT_PER_KIND, "augment_weight": AUGMENT_WEIGHT}


def fit_spam_model(
    examples: Sequence[Example], seed: int, counts: sp.csr_matrix | None = None
) -> dict[str, Any]:
    """Fit the spam sub-model on every example whose spam label is known.

    ``counts`` may hold :func:`spam_counts` of ``examples`` (row for row), computed earlier.
    The idf weights are fitted on all of ``examples`` (like the shared pipeline); features seen
    in fewer than :data:`MIN_DF` labelled rows get idf 0.
    """
    if counts is None:
        counts = spam_counts([e.text for e in examples])
    labels = np.array([e.labels[_SPAM] for e in examples], dtype=np.int8)
    known = np.flatnonzero(labels >= 0)
    labelled = [examples[i] for i in known.tolist()]
    public = [e.text for e in labelled
              if e.source in PUBLIC_COMMENT_SOURCES and e.labels[_SPAM] == 0]
    extra = augmented_comments(public, seed, AUGMENT_PER_KIND)
    extra_counts = spam_counts(extra, counts.shape[1])
    y = np.concatenate([labels[known], np.zeros(len(extra), dtype=np.int8)]).astype(int)
    weights = np.concatenate([
        [SOURCE_WEIGHTS.get(e.source, 1.0) * e.weights[_SPAM] for e in labelled],
        np.full(len(extra), AUGMENT_WEIGHT),
    ])

    tfidf = TfidfTransformer(sublinear_tf=True).fit(sp.vstack([counts, extra_counts]))
    train_counts = sp.vstack([counts[known], extra_counts]).tocsr()
    df = np.bincount(train_counts.indices, minlength=counts.shape[1])
    tfidf.idf_ = np.where(df >= MIN_DF, tfidf.idf_, 0.0)
    X = tfidf.transform(train_counts).tocsr()

    base = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True,
                              max_iter=3000, random_state=seed)
    model = CalibratedClassifierCV(
        base, method="sigmoid",
        cv=StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed),
        ensemble=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=weights)
    for calibrated in model.calibrated_classifiers_:
        calibrated.estimator.coef_ = calibrated.estimator.coef_.astype(np.float32)
    return {
        "kind": KIND,
        "n_features": int(counts.shape[1]),
        "tfidf": tfidf,
        "classifier": model,
        "train_examples": int(known.size),
        "train_positives": int(y.sum()),
        "augmented_examples": len(extra),
    }


def _linear_parts(model: dict[str, Any]) -> tuple[np.ndarray, float, float, float]:
    """(coef, intercept, a, b) of the single Platt-calibrated logistic regression. ``coef`` is
    the stored (float32) array itself: widening a million weights to float64 costs about 1.3 ms
    a call, and the caller only reads the few a batch uses."""
    (calibrated,) = model["classifier"].calibrated_classifiers_
    (calibrator,) = calibrated.calibrators
    est = calibrated.estimator
    return (np.asarray(est.coef_)[0], float(np.ravel(est.intercept_)[0]),
            float(calibrator.a_), float(calibrator.b_))


def spam_probabilities(
    model: dict[str, Any], raw_texts: Sequence[str], counts: sp.csr_matrix | None = None
) -> np.ndarray:
    """Calibrated spam probabilities of raw (un-normalised) texts.

    Equal (to float32 rounding, ~1e-7) to ``classifier.predict_proba(tfidf.transform(counts))``
    but computed directly on the sparse arrays: sublinear tf times idf, L2 row norm, one dot
    product with the coefficients and the Platt sigmoid, without scikit-learn's per-call
    validation.
    """
    if model.get("kind") != KIND:
        raise ValueError(f"not a {KIND} model: {model.get('kind')!r}")
    n = len(raw_texts)
    if n == 0:
        return np.zeros(0)
    if counts is None:
        counts = spam_counts(raw_texts, model["n_features"])
    tfidf = model["tfidf"]
    if not (tfidf.sublinear_tf and tfidf.use_idf and tfidf.norm == "l2"):
        raise ValueError("unexpected TF-IDF settings")
    coef, intercept, a, b = _linear_parts(model)
    idx = counts.indices
    values = (1.0 + np.log(counts.data.astype(np.float64))) * tfidf.idf_[idx]
    rows = np.repeat(np.arange(n), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n))
    # float32 weights widen exactly to float64 in the product.
    dots = np.bincount(rows, weights=values * coef[idx].astype(np.float64), minlength=n)
    logits = np.divide(dots, norms, out=np.zeros(n), where=norms > 0) + intercept
    return 1.0 / (1.0 + np.exp(a * logits + b))
