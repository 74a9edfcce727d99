"""The normaliser folds obfuscation onto one spelling and keeps an exact offset map."""

from __future__ import annotations

import pytest

from moderation.classifier.normalise import normalise, normalise_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SH1T", "shit"),
        ("f***", "fuck"),
        ("F***ing idiot", "fucking idiot"),
        ("b*tch!", "bitch!"),
        ("@ss", "ass"),
        ("a$$", "ass"),
        ("stuuuuupid", "stuupid"),
        ("Ｆｕｃｋ", "fuck"),
        ("I\u2019ll", "i'll"),
        ("ﬁne", "fine"),
    ],
)
def test_obfuscation_is_folded(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    ["In 2019 it cost £12.50", "at 10:30am on the 4th", "call 07700 900123", "great!!!"],
)
def test_numbers_prices_and_times_are_left_alone(text: str) -> None:
    assert normalise_text(text) == text.lower()


def test_email_and_mentions_are_not_de_leeted() -> None:
    assert normalise_text("bob@example.com @johnsmith1") == "bob@example.com @johnsmith1"


def test_offsets_map_every_character_back_to_the_source() -> None:
    raw = "ﬁne, you stuuuupid SH1T"
    norm = normalise(raw)
    assert len(norm.offsets) == len(norm.text)
    assert list(norm.offsets) == sorted(norm.offsets)
    start = norm.text.index("stuupid")
    src = norm.span_to_source(start, start + len("stuupid"))
    assert raw[src[0] : src[1]] == "stuuuupid"
    start = norm.text.index("shit")
    src = norm.span_to_source(start, start + 4)
    assert raw[src[0] : src[1]] == "SH1T"


def test_empty_text() -> None:
    norm = normalise("")
    assert norm.text == "" and norm.offsets == ()
    assert norm.span_to_source(0, 0) == (0, 0)
