"""The policy: thresholds, story tags, author standing and what readers may see."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from moderation.classifier import RuleScore
from moderation.policy import (
    Policy,
    decide,
    default_policy,
    policy_version,
    visible_for,
)


def scores(**values: float) -> dict[str, RuleScore]:
    return {rule.replace("_", "-"): RuleScore(score, ((0, 4),))
            for rule, score in values.items()}


def test_clean_scores_are_approved():
    outcome = decide(default_policy(), scores(threats=0.01, obscene=0.2), tags=[])
    assert outcome.decision == "approve"
    assert outcome.flags == ()


def test_a_score_at_the_review_threshold_is_flagged_for_review():
    policy = default_policy()
    threshold = policy.rule("threats").review_threshold
    outcome = decide(policy, scores(threats=threshold), tags=[])
    assert outcome.decision == "review"
    assert [flag.rule for flag in outcome.flags] == ["threats"]
    assert outcome.flags[0].evidence == ((0, 4),)
    below = decide(policy, scores(threats=threshold - 0.001), tags=[])
    assert below.decision == "approve"


def test_a_score_at_the_reject_threshold_is_held_automatically():
    policy = default_policy()
    outcome = decide(policy, scores(threats=policy.rule("threats").reject_threshold), tags=[])
    assert outcome.decision == "reject"
    assert "reject threshold" in outcome.reasons[0]


def test_flags_are_ordered_by_severity_then_score():
    outcome = decide(default_policy(), scores(obscene=0.9, threats=0.5, spam=0.8), tags=[])
    assert [flag.rule for flag in outcome.flags] == ["threats", "obscene", "spam"]


def test_a_story_tag_makes_a_rule_stricter():
    policy = default_policy()
    rule = policy.rule("victim-blaming")
    stricter = rule.tags["sexual-offences"].review_threshold
    assert stricter < rule.review_threshold
    between = (stricter + rule.review_threshold) / 2
    assert decide(policy, scores(victim_blaming=between), tags=[]).decision == "approve"
    tagged = decide(policy, scores(victim_blaming=between), tags=["sexual-offences"])
    assert tagged.decision == "review"


def test_a_premoderated_story_sends_every_comment_to_review():
    policy = default_policy().model_copy(update={"premoderate_tags": ["inquest"]})
    outcome = decide(policy, scores(threats=0.0), tags=["inquest"])
    assert outcome.decision == "review"
    assert "pre-moderated" in outcome.reasons[0]


@pytest.mark.parametrize(("status", "decision"),
                         [("premoderated", "review"), ("suspended", "reject"),
                          ("banned", "reject"), ("active", "approve")])
def test_the_authors_standing_routes_the_comment(status, decision):
    assert decide(default_policy(), scores(threats=0.0), [], author_status=status).decision \
        == decision


def test_visibility_fails_closed_on_sensitive_stories():
    open_site = default_policy().model_copy(
        update={"visible_while_pending": True, "visible_while_in_review": True})
    assert visible_for(open_site, "pending", []) is True
    assert visible_for(open_site, "in_review", []) is True
    for tag in ("sexual-offences", "active-proceedings"):
        assert visible_for(open_site, "pending", [tag]) is False
        assert visible_for(open_site, "in_review", [tag]) is False
        assert visible_for(open_site, "approved", [tag]) is True
    assert visible_for(default_policy(), "pending", []) is False
    assert visible_for(open_site, "rejected", []) is False


def test_the_policy_version_changes_with_the_policy():
    policy = default_policy()
    stricter = policy.model_copy(deep=True)
    stricter.rules[0].review_threshold = 0.1
    assert policy_version(policy) == policy_version(default_policy())
    assert policy_version(policy) != policy_version(stricter)


def test_a_reject_threshold_below_the_review_threshold_is_refused():
    data = default_policy().model_dump()
    data["rules"][0]["reject_threshold"] = 0.1
    with pytest.raises(ValidationError, match="reject_threshold"):
        Policy.model_validate(data)
