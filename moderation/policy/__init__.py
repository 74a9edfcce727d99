"""A site's community rules and how scores become decisions."""

from moderation.policy.decide import (
    Flag,
    Outcome,
    Scored,
    decide,
    visible_for,
)
from moderation.policy.rules import (
    SENSITIVE_TAGS,
    Policy,
    RulePolicy,
    Thresholds,
    default_policy,
    policy_version,
)

__all__ = [
    "SENSITIVE_TAGS",
    "Flag",
    "Outcome",
    "Scored",
    "Policy",
    "RulePolicy",
    "Thresholds",
    "decide",
    "default_policy",
    "policy_version",
    "visible_for",
]
