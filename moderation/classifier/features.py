"""TF-IDF features over normalised text: word 1-2 grams plus char_wb 2-5 grams, hashed.

Why hashing: a vocabulary of a few hundred thousand n-grams would be the bulk of the artefact
and slow to deserialise; hashed features need no vocabulary, so the model is a few float32
arrays and loads in well under a second. Collisions cost a little accuracy at these sizes.

Why both word and character n-grams: words carry meaning ("should stab"), character n-grams
survive misspellings and obfuscation the normaliser does not undo ("phuck", "stooopid").

Why a lexicon feature as well: an obscenity is obscene whichever word it is, but each
n-gram's weight is learned separately, so rare or disguised forms ("motherfuckers",
"sh1tty" once folded) would otherwise carry little weight. Two columns (how many obscene
word forms, and whether there is any) let the model share that evidence across all forms.

The pipeline is kept in two named steps so the scorer can reuse the raw counts (``counts``)
to attribute a decision back to words for evidence spans, then apply ``tfidf``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from moderation.classifier.normalise import OBSCENE_FORMS

__all__ = [
    "CHAR_FEATURES", "LEXICON_FEATURES", "TOKEN_PATTERN", "WORD_FEATURES", "build_vectoriser",
    "lexicon_features",
]

WORD_FEATURES = 2**17
CHAR_FEATURES = 2**18
# Single-character words are kept: "i will kill u" depends on them.
TOKEN_PATTERN = r"(?u)\b\w+\b"  # noqa: S105 - a regex, not a secret
LEXICON_FEATURES = 2
_WORD = re.compile(TOKEN_PATTERN)


def lexicon_features(texts: Iterable[str]) -> sp.csr_matrix:
    """Per normalised text: [log(1 + number of obscene word forms), 1 if any]."""
    rows = []
    for text in texts:
        found = sum(1 for w in _WORD.findall(text) if w in OBSCENE_FORMS)
        rows.append((np.log1p(found), 1.0 if found else 0.0))
    return sp.csr_matrix(np.asarray(rows, dtype=np.float32).reshape(-1, LEXICON_FEATURES))


def build_vectoriser() -> Pipeline:
    """Unfitted feature pipeline; only ``tfidf`` (the idf weights) is learned from data."""
    common = {
        "alternate_sign": False,
        "norm": None,
        "lowercase": False,  # the normaliser already case-folded
        "dtype": np.float32,
    }
    counts = FeatureUnion(
        [
            (
                "word",
                HashingVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    token_pattern=TOKEN_PATTERN,
                    n_features=WORD_FEATURES,
                    **common,
                ),
            ),
            (
                "char",
                HashingVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    n_features=CHAR_FEATURES,
                    **common,
                ),
            ),
            ("lexicon", FunctionTransformer(lexicon_features, accept_sparse=True)),
        ]
    )
    return Pipeline([("counts", counts), ("tfidf", TfidfTransformer(sublinear_tf=True))])
