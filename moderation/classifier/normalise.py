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

import functools
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
_STEMS = (
    "fuck", "motherfuck", "shit", "bullshit", "horseshit", "bitch", "cunt", "dick", "cock",
    "prick", "twat", "wank", "bastard", "bollock", "arse", "ass", "asshole", "jackass", "dumbass",
    "whore", "slut", "piss", "crap", "damn", "goddamn", "hell", "nigger", "nigga", "faggot", "fag",
    "retard", "pussy", "pussie", "douche", "douchebag", "skank", "tit", "boob", "penis", "porn",
)
_SUFFIXES = ("", "s", "es", "ed", "er", "ers", "ing", "in", "y", "ty", "tier", "head", "heads",
             "hole", "holes", "face", "off", "wit", "wits")
# Obscene word forms: masked, leet or stretched spellings are folded only onto these, so an
# arbitrary "a*b", "h3llo" or "sooo" is never rewritten into something else.
OBSCENE_FORMS: frozenset[str] = frozenset(
    {stem + suffix for stem in _STEMS for suffix in _SUFFIXES} | set(_MASKABLE_WORDS)
)
_BY_LENGTH: dict[int, tuple[str, ...]] = {}
# The common words first: "f***" is "fuck", not "fags".
for _word in (*_MASKABLE_WORDS, *sorted(OBSCENE_FORMS - set(_MASKABLE_WORDS))):
    _BY_LENGTH[len(_word)] = (*_BY_LENGTH.get(len(_word), ()), _word)
# Look-alike letters from other scripts (one character for one), folded inside Latin words.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "к": "k", "м": "m", "т": "t", "н": "h", "в": "b", "ԁ": "d",
        "α": "a", "ο": "o", "ρ": "p", "ι": "i", "κ": "k", "ν": "v", "τ": "t", "υ": "u",
        "ε": "e", "χ": "x", "ѵ": "v", "ɡ": "g", "ı": "i",
    }
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
_UNIT = r"[a-z0-9@$*!]"
# Letters split by spaces, dots, hyphens or underscores: "f u c k", "f.u.c.k", "s-h-i-t".
_SPACED = re.compile(rf"(?<![\w@$*]){_UNIT}(?P<sep>[ .\-_])(?:{_UNIT}(?P=sep))+{_UNIT}(?![\w@$*])")
_FULL_LEET = {**{"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                 "!": "i", "8": "b", "9": "g"}}


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


# Runs of characters outside ASCII: only these need the per-character NFKC + casefold path.
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# Tokens that token-level folding can change: those holding a mask character, a leet character
# or a non-ASCII character (a possible look-alike). Every other token is left as it is, so
# only these are visited. The look-behind anchors a match at the start of its token.
_FOLDABLE = re.compile(
    r"(?<!\S)\S*?["
    + re.escape("".join(sorted(_MASK_CHARS | set(_FULL_LEET))))
    + r"\x80-\U0010ffff]\S*"
)


@functools.lru_cache(maxsize=4096)
def _fold_piece(piece: str) -> str:
    """NFKC + casefold of one base character with its combining marks, quotes folded."""
    return unicodedata.normalize("NFKC", piece).casefold().translate(_QUOTES)


def _nfkc_lower(text: str) -> tuple[str, list[int] | None]:
    """NFKC + casefold one base character (with its combining marks) at a time, keeping offsets.

    Returns the folded text and, for each of its characters, the index of the source character
    (None when that is the identity, as for all-ASCII text).
    """
    text = text.translate(_QUOTES)  # one character for one: offsets unchanged
    if text.isascii():  # NFKC leaves ASCII alone and its case-fold is lower()
        return text.lower(), None
    parts: list[str] = []
    offsets: list[int] = []
    n = len(text)
    done = 0  # everything before ``done`` is in ``parts``
    for run in _NON_ASCII.finditer(text):
        start, end = run.span()
        # An ASCII character followed by combining marks is one piece with them.
        if start > done and unicodedata.combining(text[start]):
            start -= 1
        parts.append(text[done:start].lower())  # ASCII: one character for one
        offsets.extend(range(done, start))
        i = start
        while i < end:  # pieces never straddle ``end``: text[end] is ASCII, not combining
            j = i + 1
            while j < n and unicodedata.combining(text[j]):
                j += 1
            piece = _fold_piece(text[i:j])
            parts.append(piece)
            offsets.extend([i] * len(piece))
            i = j
        done = end
    parts.append(text[done:].lower())
    offsets.extend(range(done, n))
    return "".join(parts), offsets


@functools.lru_cache(maxsize=4096)
def _unmask(token: str) -> str | None:
    """Resolve a masked word such as ``f***`` or ``b*tch`` to a known word of the same length."""
    if not any(c in _MASK_CHARS for c in token) or not token[0].isalpha():
        return None
    pattern = re.compile("".join("." if c in _MASK_CHARS else re.escape(c) for c in token) + r"\Z")
    for word in _BY_LENGTH.get(len(token), ()):
        if pattern.match(word):
            return word
    return None


def _deleet(token: str) -> str:
    """Replace leet characters in a token that mixes letters with digits/symbols."""
    if not any(c.isalpha() for c in token) or not any(c in _FULL_LEET for c in token):
        return token
    lead = len(token) - len(token.lstrip(_PUNCT))
    core = token.strip(_PUNCT)
    full = "".join(_FULL_LEET.get(c, c) for c in core)
    if core and full in OBSCENE_FORMS:  # "4ssh0le", "5h1t": any leet character, known word
        return token[:lead] + full + token[lead + len(core) :]
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


@functools.lru_cache(maxsize=16384)
def _fold_token(token: str) -> str:
    """Look-alikes, masking and leet folded in one whitespace-delimited token (same length)."""
    if not token.isascii() and any("a" <= c <= "z" for c in token):
        token = token.translate(_CONFUSABLES)
    replacement = _unmask(token.strip(_PUNCT)) if any(c in _MASK_CHARS for c in token) else None
    if replacement is not None:
        lead = len(token) - len(token.lstrip(_PUNCT))
        return token[:lead] + replacement + token[lead + len(replacement) :]
    return _deleet(token)


def _fold_tokens(folded: str) -> str:
    """Token-level substitutions; they keep every token's length, so offsets stay one-to-one."""
    parts: list[str] = []
    last = 0
    for m in _FOLDABLE.finditer(folded):
        token = m.group(0)
        new = _fold_token(token)
        if new != token:
            parts.append(folded[last : m.start()])
            parts.append(new)
            last = m.end()
    if not parts:
        return folded
    parts.append(folded[last:])
    return "".join(parts)


def _join_spaced(text: str, offsets: list[int] | None) -> tuple[str, list[int] | None]:
    """Join letters split by single separators ("f u c k" -> "fuck"), keeping their offsets."""
    parts: list[str] = []
    out_o: list[int] = []
    last = 0
    for m in _SPACED.finditer(text):
        units = m.group(0)[::2]
        if sum(c.isalpha() for c in units) < 2:
            continue
        if offsets is None:
            offsets = list(range(len(text)))
        parts.append(text[last : m.start()])
        out_o.extend(offsets[last : m.start()])
        parts.append(units)
        out_o.extend(offsets[m.start() : m.end() : 2])
        last = m.end()
    if not parts:
        return text, offsets
    assert offsets is not None
    parts.append(text[last:])
    out_o.extend(offsets[last:])
    return "".join(parts), out_o


def _collapse_repeats(folded: str, offsets: list[int] | None) -> tuple[str, list[int] | None]:
    """Runs of 3+ identical letters become 2, or 1 when that spells a known obscene word."""
    parts: list[str] = []
    out_offsets: list[int] = []
    last = 0
    for m in _REPEAT.finditer(folded):
        if m.group(1).isdigit():
            continue
        if offsets is None:
            offsets = list(range(len(folded)))
        parts.append(folded[last : m.start()])
        out_offsets.extend(offsets[last : m.start()])
        tok_start = max(folded.rfind(" ", 0, m.start()) + 1, 0)
        tok_end = folded.find(" ", m.end())
        tok_end = len(folded) if tok_end < 0 else tok_end
        word = _REPEAT.sub(r"\1", folded[tok_start:tok_end]).strip(_PUNCT)
        keep = 1 if word in OBSCENE_FORMS else 2
        parts.append(folded[m.start() : m.start() + keep])
        out_offsets.extend(offsets[m.start() : m.start() + keep])
        last = m.end()
    if not parts:
        return folded, offsets
    assert offsets is not None
    parts.append(folded[last:])
    out_offsets.extend(offsets[last:])
    return "".join(parts), out_offsets


def normalise(text: str) -> Normalised:
    """Return the normalised form of ``text`` with a per-character offset map."""
    folded, offsets = _nfkc_lower(text)
    folded, offsets = _join_spaced(folded, offsets)
    folded = _fold_tokens(folded)
    folded, offsets = _collapse_repeats(folded, offsets)
    return Normalised(
        folded, tuple(range(len(folded))) if offsets is None else tuple(offsets), len(text)
    )


def normalise_text(text: str) -> str:
    """Normalised text only; what the feature extractor sees."""
    return normalise(text).text
