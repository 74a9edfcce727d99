"""Pattern detectors: what they must find, where, and what they must leave alone."""

from __future__ import annotations

import pytest

from moderation.classifier.detectors import (
    DETECTORS,
    find_addresses,
    find_emails,
    find_phone_numbers,
    find_registrations,
    run_detectors,
)
from moderation.classifier.rules import rule_ids
from moderation.classifier.types import ScoringInput


def spans(text: str, rule: str) -> list[str]:
    result = run_detectors(ScoringInput(text), rule)
    return [text[a:b] for a, b in result.evidence]


def score(text: str, rule: str) -> float:
    return run_detectors(ScoringInput(text), rule).score


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Call me on 07700 900123 tonight", "07700 900123"),
        ("ring 020 7946 0018", "020 7946 0018"),
        ("(0161) 496 0000 after six", "(0161) 496 0000"),
        ("my number is +44 7700 900123.", "+44 7700 900123"),
        ("+44 (0)20 7946 0018", "+44 (0)20 7946 0018"),
        ("in the US: +1 (555) 123-4567", "+1 (555) 123-4567"),
        ("0033 1 23 45 67 89", "0033 1 23 45 67 89"),
        ("call 07700900123 after 2019", "07700900123"),
    ],
)
def test_phone_numbers_are_found(text: str, number: str) -> None:
    assert spans(text, "personal-data") == [number]
    assert score(text, "personal-data") >= 0.85


@pytest.mark.parametrize(
    "text",
    [
        "In 2019 the budget was £12.50 per head",
        "the meeting is at 10:30 on 01/02/2019",
        "dated 01.02.2019, 1,000,000 people, 12345678901 views",
        "it went from 2015-2019 and 1990 to 2000",
        "he scored 3.14159265 on the test",
        "the bus costs $2.75 and the fine is £1,250",
    ],
)
def test_numbers_that_are_not_phone_numbers(text: str) -> None:
    assert find_phone_numbers(ScoringInput(text)) == []
    assert score(text, "personal-data") == 0.0


def test_business_numbers_score_lower_than_personal_ones() -> None:
    assert score("call 0800 123 4567", "personal-data") == pytest.approx(0.5)


def test_emails() -> None:
    text = "write to jo.bloggs+news@example.co.uk."
    matches = find_emails(ScoringInput(text))
    assert [text[m.start : m.end] for m in matches] == ["jo.bloggs+news@example.co.uk"]
    assert find_emails(ScoringInput("@ the station, a @ b")) == []


def test_street_address_with_postcode_is_one_strong_span() -> None:
    text = "He lives at 12 Acacia Avenue, London SW1A 1AA, go see him"
    assert spans(text, "personal-data") == ["12 Acacia Avenue, London SW1A 1AA"]
    assert score(text, "personal-data") >= 0.9


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("she moved to 27 Old Kent Road last year", "27 Old Kent Road"),
        ("postcode M1 1AE", "M1 1AE"),
        ("it's ec1a 1bb", "ec1a 1bb"),
    ],
)
def test_partial_addresses(text: str, found: str) -> None:
    matches = find_addresses(ScoringInput(text))
    assert [text[m.start : m.end] for m in matches] == [found]
    assert 0.5 <= max(m.score for m in matches) < 0.9


@pytest.mark.parametrize(
    "text",
    ["I have 3 kids on the road", "for 20 years the street was quiet", "in 2019 ab"],
)
def test_not_addresses(text: str) -> None:
    assert find_addresses(ScoringInput(text)) == []


def test_registrations() -> None:
    assert spans("his car is AB12 CDE and it's always parked", "personal-data") == ["AB12 CDE"]
    assert spans("reg ab12cde", "personal-data") == ["ab12cde"]
    # lower case without context, impossible age identifiers, non-plates
    for text in ["ab12 cde", "AB99 CDE", "COVID19 ABC", "MP3 ABC"]:
        assert find_registrations(ScoringInput(text)) == [], text


def test_plain_link_is_weak_spam_signal_but_link_with_offer_is_strong() -> None:
    assert 0 < score("see www.bbc.co.uk/news for details", "spam") < 0.5
    assert 0 < score("more at bit.ly/3abcd", "spam") < 0.5
    assert score("Earn £500 a day from home bit.ly/3abcd", "spam") >= 0.9
    text = "Check out my channel http://youtube.com/xyz"
    assert score(text, "spam") >= 0.7
    assert "http://youtube.com/xyz" in spans(text, "spam")


@pytest.mark.parametrize(
    "text",
    [
        "I paid £12.50 for lunch and $975 a month in rent",
        "The council could make £2m from parking",
        "you won't believe the traffic",
        "this is free money for the banks",
    ],
)
def test_money_talk_is_not_spam(text: str) -> None:
    assert score(text, "spam") < 0.5


def test_emails_are_not_counted_as_links() -> None:
    assert score("mail jo@example.com", "spam") == 0.0


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("I know where you live and I will kill you", "I will kill you"),
        ("someone should stab him", "someone should stab him"),
        ("he deserves to be shot", "he deserves to be shot"),
        ("i'll k1ll u", "i'll k1ll u"),
        ("I\u2019m going to slit your throat", "I\u2019m going to slit your throat"),
        ("Hope he dies a slow death.", "Hope he dies"),
        ("I hope someone gives him a good kicking", "hope someone gives him a good kicking"),
        ("Pray for the family. And pray he gets stabbed in there", "pray he gets stabbed"),
    ],
)
def test_threat_phrases(text: str, phrase: str) -> None:
    assert phrase in spans(text, "threats")
    assert score(text, "threats") >= 0.75


@pytest.mark.parametrize(
    "text",
    [
        "I was raped at 19 and the police never believed me",
        "Smoking will kill you",
        "this will kill the high street",
        "we will beat them at the polls",
        "they should cut their taxes",
        "I'll shoot you an email",
        "I would never hurt you",
        "you're dead wrong about this",
        "The gunman shot him twice",
        "The bill should be killed off",
        "I hope nobody gets hurt on that junction",
        "I hope he doesn't die",
        "I wish I could die some days",
        "Hope the lad who was stabbed pulls through",
        "Hope she recovers from the beating she took",
        "Hope they catch the man who shot him",
    ],
)
def test_not_threat_phrases(text: str) -> None:
    assert score(text, "threats") == 0.0


def test_every_detector_belongs_to_a_known_rule() -> None:
    assert {d.rule for d in DETECTORS} <= set(rule_ids())
    assert len({d.name for d in DETECTORS}) == len(DETECTORS)


def test_rule_without_detectors_scores_zero() -> None:
    assert run_detectors(ScoringInput("07700 900123"), "hate").score == 0.0
