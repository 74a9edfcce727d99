"""From per-rule scores to a decision under a site's policy. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from moderation.policy.rules import SENSITIVE_TAGS, Policy

Decision = Literal["approve", "review", "reject"]


@dataclass(frozen=True)
class Flag:
    rule: str
    score: float
    evidence: tuple[tuple[int, int], ...]
    severity: int
    auto_reject: bool


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    flags: tuple[Flag, ...]
    reasons: tuple[str, ...] = field(default=())

    @property
    def status(self) -> str:
        return {"approve": "approved", "review": "in_review", "reject": "rejected"}[self.decision]


class Scored(Protocol):
    """What the policy needs of a rule's score (the classifier's RuleScore is one)."""

    @property
    def score(self) -> float: ...

    @property
    def evidence(self) -> tuple[tuple[int, int], ...]: ...


def decide(
    policy: Policy,
    scores: Mapping[str, Scored],
    tags: Iterable[str],
    author_status: str = "active",
) -> Outcome:
    """Apply the site's thresholds, the story's tags and the author's standing."""
    tag_set = frozenset(tags)
    flags: list[Flag] = []
    for rule in policy.rules:
        result = scores.get(rule.id)
        if result is None:
            continue
        limits = rule.thresholds_for(tag_set)
        if result.score >= limits.review_threshold:
            auto = limits.reject_threshold is not None and result.score >= limits.reject_threshold
            flags.append(Flag(rule.id, result.score, result.evidence, rule.severity, auto))
    flags.sort(key=lambda f: (-f.severity, -f.score))

    reasons: list[str] = []
    if author_status in ("banned", "suspended"):
        return Outcome("reject", tuple(flags), (f"author {author_status}",))
    if any(flag.auto_reject for flag in flags):
        reasons = [f"{f.rule} score {f.score:.2f} at or above the reject threshold"
                   for f in flags if f.auto_reject]
        return Outcome("reject", tuple(flags), tuple(reasons))
    if flags:
        reasons = [f"{f.rule} score {f.score:.2f} at or above the review threshold" for f in flags]
    premod_tags = sorted(tag_set & set(policy.premoderate_tags))
    if premod_tags:
        reasons.append("story is pre-moderated: " + ", ".join(premod_tags))
    if author_status == "premoderated":
        reasons.append("author is pre-moderated")
    if flags or premod_tags or author_status == "premoderated":
        return Outcome("review", tuple(flags), tuple(reasons))
    return Outcome("approve", (), ())


def visible_for(policy: Policy, status: str, tags: Iterable[str]) -> bool:
    """What readers may see for a comment in ``status`` on a story with ``tags``."""
    if status == "approved":
        return True
    if status == "rejected":
        return False
    tag_set = frozenset(tags)
    if tag_set & SENSITIVE_TAGS:
        return False
    if status == "in_review":
        return policy.visible_while_in_review
    if tag_set & set(policy.premoderate_tags):
        return False
    return policy.visible_while_pending
