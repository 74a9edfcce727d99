"""TF-IDF features over normalised text: word 1-2 grams plus char_wb 2-5 grams, hashed.

Why hashing: a vocabulary of a few hundred thousand n-grams would be the bulk of the artefact
and slow to deserialise; hashed features need no vocabulary, so the model is a few float32
arrays and loads in well under a second. Collisions cost a little accuracy at these sizes.

Why both word and character n-grams: words carry meaning ("should stab"), character n-grams
survive misspellings and obfuscation the normaliser does not undo ("phuck", "stooopid").

The pipeline is kept in two named steps so the scorer can reuse the raw counts (``counts``)
to attribute a decision back to words for evidence spans, then apply ``tfidf``.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

__all__ = ["CHAR_FEATURES", "TOKEN_PATTERN", "WORD_FEATURES", "build_vectoriser"]

WORD_FEATURES = 2**17
CHAR_FEATURES = 2**18
# Single-character words are kept: "i will kill u" depends on them.
TOKEN_PATTERN = r"(?u)\b\w+\b"  # noqa: S105 - a regex, not a secret


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
        ]
    )
    return Pipeline([("counts", counts), ("tfidf", TfidfTransformer(sublinear_tf=True))])
