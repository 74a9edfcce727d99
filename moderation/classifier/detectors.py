"""Pattern detectors: personal data (phones, e-mails, addresses, registrations) and spam signals.

Why patterns and not a model: no public data set labels personal data in comments, and these
things have a rigid shape that a regular expression finds exactly, with a precise evidence span
for the moderator. Each detector is a plain function from a :class:`ScoringInput` to matches, so a
later detector can also look at the article title or tags (victim identification, contempt of
court) without changing the registry. A rule's detector score is the maximum over its detectors.

False positives matter as much as recall here: years ("2019"), prices ("£12.50"), times
("10:30"), dates and bare numbers must not look like phone numbers, which is why candidates are
validated by digit count and prefix rather than matched loosely.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from moderation.classifier.normalise import Normalised, normalise
from moderation.classifier.threat_patterns import find_threat_phrases
from moderation.classifier.types import ScoringInput, merge_spans

__all__ = [
    "DETECTORS",
    "Detector",
    "DetectorResult",
    "Match",
    "detectors_for",
    "find_addresses",
    "find_emails",
    "find_phone_numbers",
    "find_registrations",
    "find_spam_signals",
    "find_threats",
    "run_detectors",
]


@dataclass(frozen=True)
class Match:
    """One piece of evidence: what was found, where in the original text, and how strongly."""

    kind: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class DetectorResult:
    score: float
    evidence: tuple[tuple[int, int], ...]


DetectorFn = Callable[[ScoringInput, Normalised], list[Match]]


@dataclass(frozen=True)
class Detector:
    """A named pattern detector contributing to one rule.

    ``find`` gets the whole input (so a detector may use the article title or tags) and the
    normalised text with its offset map; it returns matches in original-text offsets.
    """

    name: str
    rule: str
    find: DetectorFn


def _on_text(fn: Callable[[ScoringInput], list[Match]]) -> DetectorFn:
    """Adapt a detector that only needs the raw text to the registry signature."""

    def find(item: ScoringInput, norm: Normalised) -> list[Match]:
        return fn(item)

    return find


# Cheap pre-checks: each detector first asks whether its patterns can match at all (a phone
# number needs a digit, an e-mail address an "@", ...) and skips the regular expressions
# otherwise. A pre-check is only ever a condition every match satisfies, so results are the same.
_DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=256)  # several detectors ask about the same text
def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


@functools.lru_cache(maxsize=256)
def _ascii_lower(text: str) -> str | None:
    """The lower-cased text when it is ASCII (there ``re.IGNORECASE`` is plain lower-casing)."""
    return text.lower() if text.isascii() else None


def _may_contain(text: str, needles: tuple[str, ...]) -> bool:
    """False only when a case-insensitive match needing one of ``needles`` is impossible.

    Decided for ASCII text only; any other text is assumed to possibly match.
    """
    low = _ascii_lower(text)
    return low is None or any(map(low.__contains__, needles))


def find_threats(item: ScoringInput, norm: Normalised) -> list[Match]:
    """Threat phrases (see ``threat_patterns``), found in the normalised text."""
    return [Match(kind, s, e, score) for kind, s, e, score in find_threat_phrases(norm)]


# --- phone numbers -------------------------------------------------------------------------

# Digits with phone-style separators, not glued to a currency sign, word, decimal or time.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w£$€+.,/:-])(?:\+|\()?\d[\d() .-]{6,22}\d(?![\w£$€%]|[.,:/-]\d)"
)
_UK_NON_GEOGRAPHIC = ("080", "084", "087", "03", "0500")


def _phone_kind(candidate: str) -> tuple[str, float] | None:
    """Classify a candidate digit run as a phone number, or reject it."""
    if re.search(r"[ .-]{2}|\(\(|\)\)", candidate) or candidate.count("(") != candidate.count(")"):
        return None
    if "." in candidate and " " not in candidate and "-" not in candidate:
        # "0.5", "12.50", "01.02.2019": dotted numbers are almost never phone numbers in comments.
        if candidate.count(".") < 2 or len(re.sub(r"\D", "", candidate)) < 10:
            return None
    digits = re.sub(r"\D", "", candidate)
    stripped = candidate.lstrip("(")
    if stripped.startswith("+") or candidate.startswith("+") or digits.startswith("00"):
        intl = digits[2:] if digits.startswith("00") else digits
        if intl.startswith("44"):
            national = intl[2:].lstrip("0")
            return ("phone-uk", 0.9) if len(national) in (9, 10) else None
        return ("phone-international", 0.85) if 8 <= len(intl) <= 15 else None
    if digits.startswith("0") and len(digits) in (10, 11) and digits[1] in "1235789":
        if digits.startswith(_UK_NON_GEOGRAPHIC):
            # Freephone / business lines are usually an organisation's, not a person's.
            return ("phone-uk-business", 0.5)
        return ("phone-uk", 0.9)
    return None


def _longest_phone(candidate: str) -> tuple[int, str, float] | None:
    """Longest prefix of ``candidate`` (cut at a separator) that is a phone number.

    The candidate pattern is greedy, so "call 07700 900123 after 2019" style runs of numbers
    can swallow a trailing group; dropping trailing groups recovers the real number.
    """
    cuts = [m.start() for m in re.finditer(r"[ .-]+", candidate)] + [len(candidate)]
    for cut in sorted(set(cuts), reverse=True):
        prefix = candidate[:cut].rstrip(" .-(")
        if len(re.sub(r"\D", "", prefix)) < 8:
            break
        kind = _phone_kind(prefix)
        if kind is not None:
            return (len(prefix), kind[0], kind[1])
    return None


def find_phone_numbers(item: ScoringInput) -> list[Match]:
    """UK national/+44 numbers and international numbers written with + or 00."""
    matches: list[Match] = []
    if not _has_digit(item.text):
        return matches
    for m in _PHONE_CANDIDATE.finditer(item.text):
        found = _longest_phone(m.group(0))
        if found is not None:
            length, kind, score = found
            matches.append(Match(kind, m.start(), m.start() + length, score))
    return matches


# --- e-mail addresses ------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)


def find_emails(item: ScoringInput) -> list[Match]:
    if "@" not in item.text:
        return []
    return [Match("email", m.start(), m.end(), 0.9) for m in _EMAIL.finditer(item.text)]


# --- postal addresses ------------------------------------------------------------------------

# Royal Mail format with the letter restrictions that keep ordinary words out.
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPS-UW\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)
_STREET_SUFFIX = (
    "road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|crescent|cres|gardens|gdns|place|"
    "terrace|court|grove|mews|row|walk|rise|square|sq|parade|hill|boulevard|blvd"
)
_NOT_STREET_WORD = (
    "the|a|an|on|in|of|to|at|and|or|my|his|her|our|their|your|for|by|down|up|across|this|that|"
    "these|those|is|was|are|were|be|it|its|from|with|per|each|every|no|not|more|than|years?|"
    "times?|days?|weeks?|miles?|minutes?|hours?|people|cars?|kids?|houses?|homes?|mph|km"
)
_STREET = re.compile(
    rf"\b\d{{1,4}}[a-z]?,?[ \t]+(?:(?!(?:{_NOT_STREET_WORD})\b)[a-z][a-z'-]+[ \t]+){{1,3}}"
    rf"(?:{_STREET_SUFFIX})\b\.?",
    re.IGNORECASE,
)


def find_addresses(item: ScoringInput) -> list[Match]:
    """House number + street ("12 Acacia Avenue"), UK postcodes, and both together."""
    text = item.text
    if not _has_digit(text):  # a house number and a postcode both hold a digit
        return []
    streets = [m for m in _STREET.finditer(text)]
    postcodes = [m for m in _POSTCODE.finditer(text)]
    matches: list[Match] = []
    used_postcodes: set[int] = set()
    for s in streets:
        joined = None
        for k, p in enumerate(postcodes):
            if 0 <= p.start() - s.end() <= 60 and "\n\n" not in text[s.end() : p.start()]:
                joined = (k, p)
                break
        if joined is not None:
            used_postcodes.add(joined[0])
            matches.append(Match("address-full", s.start(), joined[1].end(), 0.95))
        else:
            matches.append(Match("street-address", s.start(), s.end(), 0.75))
    for k, p in enumerate(postcodes):
        if k not in used_postcodes:
            matches.append(Match("postcode", p.start(), p.end(), 0.6))
    return matches


# --- vehicle registrations -------------------------------------------------------------------

# Current (2001+) format: two-letter memory tag, two-digit age identifier, three random letters.
# I, Q and Z are not issued in the memory tag, I and Q not in the random letters.
_REGISTRATION = re.compile(r"\b([A-HJ-PR-Y]{2})(\d{2}) ?([A-HJ-PR-Z]{3})\b")
_REG_CONTEXT = re.compile(r"\b(?:reg|registration|number ?plate|plates?|car|van|vehicle)\b", re.I)


def _valid_age_identifier(digits: str) -> bool:
    value = int(digits)
    return 2 <= value <= 29 or 51 <= value <= 79


def find_registrations(item: ScoringInput) -> list[Match]:
    """UK number plates; upper case on its own, lower case only next to a word like 'reg'."""
    matches: list[Match] = []
    text = item.text
    if not _has_digit(text):  # upper-casing never makes a digit
        return matches
    for m in _REGISTRATION.finditer(text.upper()):
        if not _valid_age_identifier(m.group(2)):
            continue
        original = text[m.start() : m.end()]
        if original.isupper():
            matches.append(Match("vehicle-registration", m.start(), m.end(), 0.8))
        elif _REG_CONTEXT.search(text[max(0, m.start() - 40) : m.end() + 40]):
            matches.append(Match("vehicle-registration", m.start(), m.end(), 0.7))
    return matches


# --- spam: links, money offers, promotion -----------------------------------------------------

_SHORTENERS = (
    r"bit\.ly|bitly\.com|tinyurl\.com|t\.co|goo\.gl|ow\.ly|is\.gd|v\.gd|buff\.ly|rebrand\.ly|"
    r"cutt\.ly|shorturl\.at|tiny\.cc|rb\.gy|t\.ly|bl\.ink|lnkd\.in|s\.id|shorte\.st|adf\.ly|tr\.im"
)
_SHORT_LINK = re.compile(rf"(?<![\w.@])(?:https?://)?(?:www\.)?(?:{_SHORTENERS})/[\w-]+", re.I)
_URL = re.compile(
    r"(?<![\w@])(?:https?://[^\s<>\"']+|www\.[^\s<>\"']+|"
    r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|co\.uk|uk|io|info|biz|xyz|ru|top|site|online|"
    r"click|link|shop|store|club|me|tk|ly)\b(?:/[^\s<>\"']*)?)",
    re.I,
)
_MONEY = (
    r"(?:[£$€]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|m|bn)\b)?"
    r"|\d[\d,]*\s?(?:pounds|dollars|euros|usd|gbp|quid)\b)"
)
_EARN = r"(?:earn|earning|earned|make|making|made|income|profits?|paid|get paid|getting paid)"
# Money as an *offer*: earnings with a rate ("make £500 a day"), prizes, free goods, schemes.
# A price or a rent ("$975 a month in rent") is ordinary news-comment talk and must not count.
_STRONG_OFFER = re.compile(
    rf"\b{_EARN}\b[^.!?\n]{{0,30}}?{_MONEY}\s*(?:a|an|per|/|every|each)\s*"
    r"(?:day|week|hour|hr|month|night)\b"
    r"|\bwork(?:ing)? from home\b|\bguaranteed (?:income|profit|returns?|payout)\b"
    r"|\bdouble your (?:money|bitcoin|investment)\b|\bfree (?:iphone|ipad|gift ?cards?|vouchers?"
    r"|bitcoin|crypto|followers|subscribers|likes)\b|\bcash prize\b"
    r"|\byou(?:'ve| have)? (?:just )?(?:been selected|won (?:a|an|the|our|£|\$|€|\d))"
    r"|\bclaim your (?:prize|reward|cash|gift)\b"
    r"|\b(?:bitcoin|crypto|forex|btc)\b[^.!?\n]{0,40}\b(?:profits?|invest(?:ment)?|returns)\b",
    re.I,
)
_MONEY_CLAIM = re.compile(
    rf"\b(?:earn|earning|make|making|win|winning|won|claim|receive)\b[^.!?\n]{{0,40}}?{_MONEY}",
    re.I,
)
# Literal text every match of the pattern (or of one branch of it) contains, lower-cased.
_STRONG_OFFER_WORDS = (
    "work", "guaranteed", "double", "free", "cash", "selected", "won ", "claim", "bitcoin",
    "crypto", "forex", "btc",
)  # plus a digit, in the earnings branch
_PROMOTION_WORDS = (
    "check out my", "subscribe to my", "visit my", "follow me on", "sub4sub", "sub 4 sub",
    "dm me", "pm me", "whats", "click ", "text ", "call now", "limited offer", "act now",
    "buy now",
)
_URL_WORDS = ("://", "www.")
# The third branch of _URL ends with one of these domains.
_URL_DOMAIN = re.compile(
    r"\.(?:com|net|org|co\.uk|uk|io|info|biz|xyz|ru|top|site|online|click|link|shop|store|club"
    r"|me|tk|ly)\b",
    re.I,
)
_PROMOTION = re.compile(
    r"\b(?:check out my|subscribe to my|visit my|follow me on|sub4sub|sub 4 sub|dm me|pm me"
    r"|whats ?app me|click (?:here|the link|this link|on the link|my link)|text (?:now|me on)"
    r"|call now|limited offer|act now|buy now)\b",
    re.I,
)


def find_spam_signals(item: ScoringInput) -> list[Match]:
    """Links, shortened links, money offers and self-promotion; strongest when combined."""
    text = item.text
    emails = [(m.start(), m.end()) for m in _EMAIL.finditer(text)] if "@" in text else []
    digit = _has_digit(text)

    def outside_emails(m: re.Match[str]) -> bool:
        return not any(s <= m.start() < e for s, e in emails)

    links = [
        Match("short-link", m.start(), m.end(), 0.4)
        for m in (_SHORT_LINK.finditer(text) if "/" in text else ())
        if outside_emails(m)
    ]
    covered = [(m.start, m.end) for m in links]
    if _may_contain(text, _URL_WORDS) or _URL_DOMAIN.search(text):
        links += [
            Match("link", m.start(), m.end(), 0.3)
            for m in _URL.finditer(text)
            if outside_emails(m) and not any(s <= m.start() < e for s, e in covered)
        ]
    offers = (
        [Match("money-offer", m.start(), m.end(), 0.6) for m in _STRONG_OFFER.finditer(text)]
        if digit or _may_contain(text, _STRONG_OFFER_WORDS)
        else []
    )
    # Weak alone ("the council could make £2m"), decisive next to a link.
    if digit:
        offers += [
            Match("money-claim", m.start(), m.end(), 0.3) for m in _MONEY_CLAIM.finditer(text)
        ]
    promos = (
        [Match("promotion", m.start(), m.end(), 0.35) for m in _PROMOTION.finditer(text)]
        if _may_contain(text, _PROMOTION_WORDS)
        else []
    )

    matches = links + offers + promos
    if links and (offers or promos):
        strongest_offer = max(m.score for m in offers + promos)
        boost = 0.95 if strongest_offer >= 0.6 else (0.9 if offers else 0.75)
        matches.append(Match("link-with-offer", matches[0].start, matches[0].end, boost))
    elif len(offers) + len(promos) >= 2:
        matches.append(Match("repeated-offers", matches[0].start, matches[0].end, 0.7))
    return matches


# --- registry --------------------------------------------------------------------------------

DETECTORS: tuple[Detector, ...] = (
    Detector("phone-number", "personal-data", _on_text(find_phone_numbers)),
    Detector("email-address", "personal-data", _on_text(find_emails)),
    Detector("postal-address", "personal-data", _on_text(find_addresses)),
    Detector("vehicle-registration", "personal-data", _on_text(find_registrations)),
    Detector("links-and-offers", "spam", _on_text(find_spam_signals)),
    Detector("threat-phrases", "threats", find_threats),
)


# (registry, rule) -> that rule's detectors, for immutable (tuple) registries, by identity.
_FOR_RULE: dict[tuple[int, str], tuple[tuple[Detector, ...], tuple[Detector, ...]]] = {}


def detectors_for(rule: str, registry: Sequence[Detector] = DETECTORS) -> tuple[Detector, ...]:
    if type(registry) is not tuple:
        return tuple(d for d in registry if d.rule == rule)
    cached = _FOR_RULE.get((id(registry), rule))
    if cached is not None and cached[0] is registry:
        return cached[1]
    found = tuple(d for d in registry if d.rule == rule)
    if len(_FOR_RULE) > 1024:
        _FOR_RULE.clear()
    _FOR_RULE[(id(registry), rule)] = (registry, found)
    return found


def run_detectors(
    item: ScoringInput,
    rule: str,
    registry: Sequence[Detector] = DETECTORS,
    norm: Normalised | None = None,
) -> DetectorResult:
    """Score ``item`` for ``rule``: the strongest match wins; every match is evidence."""
    detectors = detectors_for(rule, registry)
    if not detectors:
        return DetectorResult(0.0, ())
    norm = norm if norm is not None else normalise(item.text)
    matches = [m for d in detectors for m in d.find(item, norm)]
    if not matches:
        return DetectorResult(0.0, ())
    spans = merge_spans([(m.start, m.end) for m in matches])
    return DetectorResult(max(m.score for m in matches), spans)
