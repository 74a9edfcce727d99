"""Acceptable comments that carry a phone number, a price, a link or capitals, for the spam fit.

Why: in the public data a phone number, a price or a link almost only appears in spam (370 of
642 SMS spam carry a phone number, 2 of 4,517 SMS ham do; most YouTube spam is a link), so a
spam model learns "link = spam". On a news site that is wrong: readers cite the council's page
or the judgment, say what a ticket cost, or ask people who saw their lost cat to ring them. So
the spam fit adds copies of ordinary public comments (Civil Comments, Wikipedia talk, the
project's own examples) with one of these added, all labelled acceptable. Premium-rate numbers,
short codes and "text WIN to 87121" are never added: those remain spam signals. Links point at
public-service and local domains made from the comment's own words, never at video or
shortening sites.

Deterministic in the seed. The carrier phrases here are for training only: the probe that
measured the effect (``bench/spam_augmentation.py``; figures in spam.py) and the scorer's tests
use other phrasings and domains.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = ["AUGMENT_KINDS", "PUBLIC_COMMENT_SOURCES", "augmented_comments"]

# Sources whose rows are public comments in a news or discussion register (not text messages,
# tweets or YouTube): the templates for augmented comments.
PUBLIC_COMMENT_SOURCES = frozenset({"toxic_spans", "wiki_context", "wiki_talk",
                                    "project_examples"})
AUGMENT_KINDS = ("phone", "price", "link", "caps")

_PHONE_PHRASES = (
    "Ring {} if you can help.", "Call me on {}.", "My number is {}.", "Phone {} for details.",
    "Their number is {}.", "(tel {})", "Contact the office on {}.", "You can reach them on {}.",
    "Text me on {} please.", "The number to ring is {}.", "{}", "Please call {}.",
)
_PRICE_PHRASES = (
    "It cost £{}.", "Tickets are £{} on the door.", "That's £{} a month.", "They charged me £{}.",
    "Entry £{}.", "£{} for that?", "It used to be £{}.", "About £{} each.",
)
_LINK_PHRASES = ("See {}", "Details at {}", "More here: {}", "{}", "Source: {}",
                 "It's on {} if you want to read it.")
_DOMAINS = ("gov.uk", "nhs.uk", "org.uk", "ac.uk", "police.uk", "co.uk")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _uk_phone(rng: random.Random) -> str:
    """A UK mobile (half), local (a third) or London number, mostly written in groups."""
    r = rng.random()
    if r < 0.5:
        d = "07" + rng.choice("1234589") + _digits(rng, 8)
        return d if rng.random() < 0.25 else f"{d[:5]} {d[5:]}"
    if r < 0.85:
        d = "01" + _digits(rng, 9)
        if rng.random() < 0.25:
            return d
        return rng.choice((f"{d[:5]} {d[5:]}", f"{d[:4]} {d[4:7]} {d[7:]}", f"({d[:5]}) {d[5:]}"))
    d = "020" + _digits(rng, 8)
    return f"{d[:3]} {d[3:7]} {d[7:]}"


def _price(rng: random.Random) -> str:
    n = rng.choice((rng.randint(1, 20), rng.randint(5, 500), rng.randint(100, 5000)))
    if rng.random() < 0.3:
        return f"{n}.{rng.choice(('50', '99', '20', '75', '05'))}"
    return f"{n:,}" if n >= 1000 and rng.random() < 0.5 else str(n)


def _link(rng: random.Random, words: list[str]) -> str:
    """An address on a public-service or local site, made from the comment's own words."""
    pool = [w.lower() for w in words if w.isalpha() and len(w) > 3] or ["council"]
    host = rng.choice(pool) + rng.choice(("", "shire", "council", "city", "-news"))
    path = "/".join(rng.sample(pool, min(len(pool), rng.randint(1, 2))))
    scheme = rng.choice(("https://www.", "www.", "http://", "https://"))
    return f"{scheme}{host}.{rng.choice(_DOMAINS)}/{path}"


def augmented_comments(texts: Sequence[str], seed: int, per_kind: int) -> list[str]:
    """``per_kind`` acceptable comments of each kind in :data:`AUGMENT_KINDS`, made from
    ``texts``: a phone number, price or link added in a short phrase (after the comment, or
    three times in ten before it), or the whole comment in capitals."""
    rng = random.Random(seed)
    out: list[str] = []
    if not texts or per_kind <= 0:
        return out
    pool = range(len(texts))
    for kind in AUGMENT_KINDS:
        for i in rng.sample(pool, min(per_kind, len(texts))):
            text = texts[i].strip()
            if kind == "caps":
                out.append(text.upper() + rng.choice(("", "!", "!!!")))
                continue
            if kind == "phone":
                extra = rng.choice(_PHONE_PHRASES).format(_uk_phone(rng))
            elif kind == "price":
                extra = rng.choice(_PRICE_PHRASES).format(_price(rng))
            else:
                extra = rng.choice(_LINK_PHRASES).format(_link(rng, text.split()))
            out.append(f"{extra} {text}" if rng.random() < 0.3 else f"{text} {extra}")
    return out
