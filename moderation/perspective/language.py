"""Which language a comment is in, for Perspective's ``detectedLanguages``.

Why py3langid: a maintained, pure-Python port of langid.py with its model in the wheel (no
download at run time), about 0.1 ms a comment. Short comments are often misread ("Hang him" →
Tagalog), so a language is only reported as detected when the identifier is confident;
otherwise the comment is taken to be English, the only language our models were trained on.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

__all__ = ["SUPPORTED_LANGUAGES", "detect_language", "primary_subtag"]

SUPPORTED_LANGUAGES = frozenset({"en"})
CONFIDENT = 0.95
MIN_LETTERS = 20
_lock = threading.Lock()


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def primary_subtag(code: str) -> str:
    """``en-GB`` → ``en``: Perspective accepts ISO and BCP-47 codes."""
    return code.strip().replace("_", "-").split("-")[0].lower()


def detect_language(text: str) -> tuple[str, bool]:
    """(language code, confident). Unconfident answers are ``("en", False)``."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return "en", False
    with _lock:  # the identifier keeps per-call scratch state
        code, probability = _identifier().classify(text)
    if probability >= CONFIDENT:
        return str(code), True
    return "en", False
