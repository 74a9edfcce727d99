"""The rule set and routing settings of a site, validated with pydantic.

Stored as JSON on the site row; the default comes from ``default_rules.toml``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_RULES_FILE = Path(__file__).with_name("default_rules.toml")

# Stories where a comment must stay hidden until it is scored or reviewed (fail closed):
# complainants of sexual offences have lifelong anonymity, and comments on a case before
# the courts can prejudice the trial.
SENSITIVE_TAGS = frozenset({"sexual-offences", "active-proceedings"})


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_threshold: float = Field(ge=0.0, le=1.0)
    reject_threshold: float | None = Field(default=None, ge=0.0, le=1.0)


class RulePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,49}$")
    title: str
    description: str
    guidance: str = ""
    severity: int = Field(default=3, ge=1, le=5)
    review_threshold: float = Field(ge=0.0, le=1.0)
    reject_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    tags: dict[str, Thresholds] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _reject_above_review(self) -> RulePolicy:
        if self.reject_threshold is not None and self.reject_threshold < self.review_threshold:
            raise ValueError(f"rule {self.id}: reject_threshold is below review_threshold")
        return self

    def thresholds_for(self, tags: frozenset[str]) -> Thresholds:
        """The strictest thresholds among the base ones and those of the story's tags."""
        review, reject = self.review_threshold, self.reject_threshold
        for tag in tags & self.tags.keys():
            stricter = self.tags[tag]
            review = min(review, stricter.review_threshold)
            if stricter.reject_threshold is not None:
                reject = (stricter.reject_threshold if reject is None
                          else min(reject, stricter.reject_threshold))
        return Thresholds(review_threshold=review, reject_threshold=reject)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RulePolicy]
    # Every comment on a story with one of these tags waits for a moderator.
    premoderate_tags: list[str] = Field(default_factory=list)
    # What readers see while a comment waits; sensitive stories always stay hidden.
    visible_while_pending: bool = False
    visible_while_in_review: bool = False
    # Reports from this many readers (weighted by their track record) hide a comment until a
    # moderator decides; None never hides on reports alone.
    hide_after_reports: float | None = Field(default=3.0, gt=0)

    @model_validator(mode="after")
    def _unique_ids(self) -> Policy:
        ids = [rule.id for rule in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        return self

    def rule(self, rule_id: str) -> RulePolicy | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in self.rules]


@cache
def _default_policy_data() -> dict[str, Any]:
    with DEFAULT_RULES_FILE.open("rb") as handle:
        return Policy.model_validate(tomllib.load(handle)).model_dump(mode="json")


def default_policy() -> Policy:
    """A fresh copy of the default rule set for a new site."""
    return Policy.model_validate(_default_policy_data())


def policy_version(policy: Policy) -> str:
    """A short content hash, recorded with every assessment so a decision can be replayed."""
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return "p-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]
