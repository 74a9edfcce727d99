"""Text normalisation applied before feature extraction, with an offset map back to the input.

Why: commenters dodge filters with look-alike Unicode, shouting, stretched letters ("stuuuupid")
and masked or leet spellings ("f***", "sh1t", "@ss"). Folding those onto one spelling lets the
learned rules share evidence between variants. Every normalised character remembers which
character of the original text produced it, so evidence found in the normalised text can be
reported as ``[start, end)`` offsets into the text the commenter actually wrote.

Kept deliberately simple for now (a later issue brings better normalisation); the offset map is
the part that must stay correct, and every step below preserves it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Normalised", "normalise", "normalise_text"]

# Digits and symbols commonly substituted for letters. Applied only inside tokens that also
# contain a real letter, so "2019", "10:30" and "£12.50" are never touched.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_MASK_CHARS = frozenset("*#%")
# Masked spellings are resolved only against this short list (same length, same visible letters),
# so "f***" -> "fuck" but an arbitrary "a*b" stays as it is.
_MASKABLE_WORDS = (
    "fuck",
    "fucker",
    "fucking",
    "fucked",
    "shit",
    "shitty",
    "bitch",
    "bitches",
    "cunt",
    "cunts",
    "dick",
    "dickhead",
    "prick",
    "twat",
    "wanker",
    "bastard",
    "bollocks",
    "arse",
    "arsehole",
    "ass",
    "asshole",
    "whore",
    "slut",
    "piss",
    "pissed",
    "crap",
    "damn",
    "hell",
    "nigger",
    "faggot",
    "retard",
    "kill",
    "rape",
)
_PUNCT = ".,;:?!\"'()[]"
# Typographic quotes and dashes folded to ASCII (one character for one, so offsets are kept):
# "I’ll" and "I'll" must be the same token.
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u02bc": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201f": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)
_TOKEN = re.compile(r"[^\s]+")
_REPEAT = re.compile(r"(\w)\1{2,}")


@dataclass(frozen=True)
class Normalised:
    """Normalised text plus, for each of its characters, the index of the source character."""

    text: str
    offsets: tuple[int, ...]
    source_length: int

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` span of the normalised text to the original text."""
        if end <= start or not self.offsets:
            return (0, 0)
        src_start = self.offsets[start]
        src_end = self.offsets[end - 1] + 1
        # A source character that expanded into several normalised ones (e.g. a ligature) is
        # reported whole.
        return (src_start, max(src_end, src_start + 1))


def _nfkc_lower(text: str) -> tuple[list[str], list[int]]:
    """NFKC + casefold one base character (with its combining marks) at a time, keeping offsets."""
    chars: list[str] = []
    offsets: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j]).casefold().translate(_QUOTES)
        for ch in piece:
            chars.append(ch)
            offsets.append(i)
        i = j
    return chars, offsets


def _unmask(token: str) -> str | None:
    """Resolve a masked word such as ``f***`` or ``b*tch`` to a known word of the same length."""
    if not any(c in _MASK_CHARS for c in token) or not token[0].isalpha():
        return None
    pattern = re.compile("".join("." if c in _MASK_CHARS else re.escape(c) for c in token) + r"\Z")
    for word in _MASKABLE_WORDS:
        if len(word) == len(token) and pattern.match(word):
            return word
    return None


def _deleet(token: str) -> str:
    """Replace leet characters in a token that mixes letters with digits/symbols."""
    if not any(c.isalpha() for c in token) or not any(c in _LEET for c in token):
        return token
    core = token.strip(_PUNCT)
    if not core or ("@" in core[1:] and "." in core):  # looks like an e-mail address: leave it
        return token
    if core.startswith("@") and len(core) > 6:  # an @mention, not "@ss"
        return token
    out = list(token)
    for k, c in enumerate(token):
        if c not in _LEET:
            continue
        prev_alpha = k > 0 and token[k - 1].isalpha()
        next_alpha = k + 1 < len(token) and token[k + 1].isalpha()
        # Digits and "!" count only inside a word ("sh1t", "sh!t"), so "4th", "10:30am" and
        # "great!" are left alone; "@"/"$" may also start or end one ("@ss", "a$$").
        after_dollar = k > 0 and token[k - 1] == "$"
        symbol_edge = c in "@$" and (prev_alpha or next_alpha or after_dollar)
        if (prev_alpha and next_alpha) or symbol_edge:
            out[k] = _LEET[c]
    return "".join(out)


def normalise(text: str) -> Normalised:
    """Return the normalised form of ``text`` with a per-character offset map."""
    chars, offsets = _nfkc_lower(text)
    folded = "".join(chars)

    # Token-level substitutions keep token length, so offsets stay one-to-one.
    pieces = list(folded)
    for m in _TOKEN.finditer(folded):
        token = m.group(0)
        replacement = _unmask(token.strip(_PUNCT)) if any(c in _MASK_CHARS for c in token) else None
        if replacement is not None:
            lead = len(token) - len(token.lstrip(_PUNCT))
            start = m.start() + lead
            pieces[start : start + len(replacement)] = list(replacement)
            continue
        new = _deleet(token)
        if new != token:
            pieces[m.start() : m.end()] = list(new)
    folded = "".join(pieces)

    # Collapse runs of 3+ identical word characters to 2, dropping the extra offsets.
    out_chars: list[str] = []
    out_offsets: list[int] = []
    last = 0
    for m in _REPEAT.finditer(folded):
        if m.group(1).isdigit():
            continue
        out_chars.extend(folded[last : m.start() + 2])
        out_offsets.extend(offsets[last : m.start() + 2])
        last = m.end()
    out_chars.extend(folded[last:])
    out_offsets.extend(offsets[last:])
    return Normalised("".join(out_chars), tuple(out_offsets), len(text))


def normalise_text(text: str) -> str:
    """Normalised text only; what the feature extractor sees."""
    return normalise(text).text
