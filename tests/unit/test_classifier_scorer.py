"""The shipped model (models/CURRENT): interface, the demo sentences, evidence, speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.classifier import RuleScore, Scorer, ScoringInput, load_scorer, rule_ids

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer(MODELS)


def scores(scorer: Scorer, text: str) -> dict[str, float]:
    return {rule: s.score for rule, s in scorer.score(ScoringInput(text)).items()}


def evidence_text(scorer: Scorer, text: str, rule: str) -> list[str]:
    return [text[a:b] for a, b in scorer.score(ScoringInput(text))[rule].evidence]


def test_version_and_rules_match_the_installed_model(scorer: Scorer) -> None:
    version = (MODELS / "CURRENT").read_text().strip()
    assert scorer.version == version
    assert scorer.rules == rule_ids()
    assert set(scorer.rules) >= {
        "personal-abuse",
        "threats",
        "hate",
        "obscene",
        "spam",
        "personal-data",
    }


def test_shipped_artefact_is_small_and_loads() -> None:
    version = (MODELS / "CURRENT").read_text().strip()
    manifest = json.loads((MODELS / version / "manifest.json").read_text())
    assert (MODELS / version / "model.skops").stat().st_size == manifest["bytes"] <= 20 * 2**20
    # Load time is a benchmark figure (``moderation evaluate``), not a unit-test assertion.
    assert load_scorer(MODELS).version == version


@pytest.mark.parametrize("text", [
    "I know where you live and I will kill you", "someone should stab him",
    "I hope someone gives him a good kicking.", "Hope he dies a slow death.",
])
def test_threats_score_above_one_half(scorer: Scorer, text: str) -> None:
    assert scores(scorer, text)["threats"] > 0.5
    assert evidence_text(scorer, text, "threats")


# Never trained on (general_rules_train_2.jsonl was written without them).
KIND_WISHES = [
    "Hope he gets the help he needs.",
    "I hope the police find him soon.",
    "Hope they catch whoever did this.",
    "Hope the lad pulls through.",
    "Hope they get him soon, nobody should have to live in fear like that.",
    "Hope the family get some peace now.",
    "Fingers crossed they catch him before he does it again.",
    "Hope so.",
]


@pytest.mark.parametrize("text", KIND_WISHES)
def test_a_kind_wish_is_never_held_as_a_threat(scorer: Scorer, text: str) -> None:
    assert scores(scorer, text)["threats"] < 0.95  # the default policy's reject threshold


# "Hope he gets the help he needs." still reaches review (0.66 on model 2026.12.2).
@pytest.mark.parametrize("text", KIND_WISHES[1:])
def test_a_kind_wish_is_not_a_threat(scorer: Scorer, text: str) -> None:
    # Below the default policy's threats review threshold (0.4).
    assert scores(scorer, text)["threats"] < 0.4


def test_ordinary_comment_is_low_on_every_rule(scorer: Scorer) -> None:
    result = scores(scorer, "Thanks for this article, the council should fix the roads")
    assert max(result.values()) < 0.1, result


def test_survivor_account_is_not_a_threat_hate_or_abuse(scorer: Scorer) -> None:
    result = scores(scorer, "I was raped at 19 and the police never believed me")
    for rule in ("threats", "hate", "personal-abuse"):
        assert result[rule] < 0.2, (rule, result)


@pytest.mark.parametrize(
    "text",
    [
        "As a Muslim woman, I think the council got this one right.",
        "I'm gay and I've lived in this town for thirty years.",
        "As a black man I find this article very moving.",
        "Being jewish and a mother, I welcome the new school.",
    ],
)
def test_identity_statements_are_not_hate(scorer: Scorer, text: str) -> None:
    assert scores(scorer, text)["hate"] < 0.3


def test_insult_is_personal_abuse_with_the_insult_as_evidence(scorer: Scorer) -> None:
    text = "You are a pathetic idiot and everyone here knows it"
    assert scores(scorer, text)["personal-abuse"] > 0.8
    assert any("idiot" in span for span in evidence_text(scorer, text, "personal-abuse"))


def test_masked_profanity_is_obscene_and_evidence_points_at_the_original(scorer: Scorer) -> None:
    text = "What a load of f***ing sh1t"
    assert scores(scorer, text)["obscene"] > 0.5
    found = " ".join(evidence_text(scorer, text, "obscene"))
    assert "f***ing" in found or "sh1t" in found


def test_hateful_comment_scores_hate(scorer: Scorer) -> None:
    text = "Those muslims are filthy animals and should all be deported"
    assert scores(scorer, text)["hate"] > 0.5


def test_personal_data_and_spam_come_from_detectors(scorer: Scorer) -> None:
    text = "Call me on 07700 900123 or email jo.bloggs@example.com"
    assert scores(scorer, text)["personal-data"] >= 0.85
    assert evidence_text(scorer, text, "personal-data") == ["07700 900123", "jo.bloggs@example.com"]
    spam = "Earn £500 a day working from home, visit bit.ly/3xYz12"
    assert scores(scorer, spam)["spam"] > 0.9


@pytest.mark.parametrize("text", [
    "The inspection report is on cqc.org.uk if anyone doubts what the families say.",
    "We paid £40 for the parking permit and there are still never any spaces.",
    "Anyone who saw the crash please ring Kent Police on 01622 690690, quoting the date.",
    "Read the coroner's findings at https://www.judiciary.uk/prevention-of-future-death-reports/",
])
def test_a_readers_link_price_or_number_is_not_held_as_spam(scorer: Scorer, text: str) -> None:
    # Below the default policy's spam review threshold (0.6): links, prices and phone numbers
    # alone do not make a comment spam (spam_augment.py says why the model needed telling).
    assert scores(scorer, text)["spam"] < 0.6


def test_results_cover_every_rule_with_valid_scores_and_spans(scorer: Scorer) -> None:
    texts = [
        "",
        "   ",
        "ok",
        "You idiot, I will kill you",
        "Ｙｏｕ ａｒｅ ａｎ ｉｄｉｏｔ",
        "x" * 5000,
    ]
    for text, result in zip(
        texts, scorer.score_many([ScoringInput(t) for t in texts]), strict=True
    ):
        assert tuple(result) == scorer.rules
        for rule_score in result.values():
            assert isinstance(rule_score, RuleScore)
            assert 0.0 <= rule_score.score <= 1.0
            for start, end in rule_score.evidence:
                assert 0 <= start < end <= len(text)


def test_score_many_matches_score_and_keeps_order(scorer: Scorer) -> None:
    items = [
        ScoringInput("someone should stab him"),
        ScoringInput("lovely day", article_title="Weather", article_tags=("weather",)),
        ScoringInput("you moron"),
    ]
    batch = scorer.score_many(items)
    assert batch == [scorer.score(item) for item in items]
    assert scorer.score_many([]) == []


def test_importing_the_package_loads_no_model_and_no_sklearn() -> None:
    code = (
        "import sys, moderation.classifier as c; "
        "assert 'sklearn' not in sys.modules and 'skops' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_victim_identification_evidence_points_at_the_identifying_details(
        scorer: Scorer) -> None:
    text = ("Everyone on the estate knows it was Jenny Walsh from Albert Road who went to the "
            "police, she works at the Co-op on the high street.")
    result = scorer.score(ScoringInput(text, "Man, 34, charged with rape after incident in Ashford",
                                       ("sexual-offences",)))["victim-identification"]
    assert result.score >= 0.5
    shown = [text[a:b] for a, b in result.evidence]
    assert "Jenny Walsh" in shown
    assert "Albert Road" in shown
    assert any("Co-op" in s for s in shown)


def test_a_name_in_the_headline_is_not_identifying_evidence() -> None:
    from moderation.classifier.normalise import normalise
    from moderation.classifier.story_cues import identifying_spans

    text = "Craig Dobson did it and his sister Kelly knows"
    shown = [text[a:b] for a, b in identifying_spans(normalise(text), text,
                                                     "Craig Dobson denies rape")]
    assert not any("Craig" in s for s in shown)
    assert any("Kelly" in s for s in shown)
    assert identifying_spans(normalise("I was attacked at 19"), "I was attacked at 19", "") == []
