"""The acceptable comments the spam fit adds: deterministic, ordinary numbers and links only."""

from __future__ import annotations

import re

from moderation.classifier.detectors import find_phone_numbers
from moderation.classifier.spam_augment import AUGMENT_KINDS, augmented_comments
from moderation.classifier.types import ScoringInput

TEMPLATES = [
    "The council should have fixed the bridge years ago",
    "Lovely to see the old library reopen after the flood",
    "Nobody asked the residents before the bus route was cut",
    "Well done to the volunteers who cleared the canal path",
]


def test_same_seed_same_comments_and_other_seed_others() -> None:
    first = augmented_comments(TEMPLATES, seed=3, per_kind=4)
    assert first == augmented_comments(TEMPLATES, seed=3, per_kind=4)
    assert first != augmented_comments(TEMPLATES, seed=4, per_kind=4)
    assert len(first) == 4 * len(AUGMENT_KINDS)


def test_each_comment_keeps_its_template_and_adds_one_ordinary_thing() -> None:
    out = augmented_comments(TEMPLATES, seed=11, per_kind=len(TEMPLATES))
    phones, prices, links, caps = (out[k * 4:(k + 1) * 4] for k in range(4))
    for text in out:
        assert any(t.lower() in text.lower() for t in TEMPLATES)
    for text in phones:
        found = find_phone_numbers(ScoringInput(text))
        assert [m.kind for m in found] == ["phone-uk"], text  # personal numbers, not premium
        assert not re.search(r"\b09\d", text)
    for text in prices:
        assert re.search(r"£\d", text)
    for text in links:
        assert re.search(r"\.(gov|nhs|org|ac|police|co)\.uk/", text), text
        assert not re.search(r"youtube|bit\.ly|tinyurl", text)
    for text in caps:
        assert text.upper() == text


def test_nothing_to_copy_gives_nothing() -> None:
    assert augmented_comments([], seed=1, per_kind=10) == []
    assert augmented_comments(TEMPLATES, seed=1, per_kind=0) == []
