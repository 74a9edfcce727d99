"""The rule registry: which rule ids exist and how each one is scored.

Why a registry: the service, the policy files and the model card all need the same list of rule
ids, and later issues add rules (victim identification, legal proceedings, victim blaming) that
depend on the article's tags. A rule may have a learned model, pattern detectors, or both; its
score is the maximum of the two, so adding a detector can only raise recall and never silently
replaces the model.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LEARNED_RULES", "RULES", "RuleSpec", "rule_ids"]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    description: str
    learned: bool  # has a TF-IDF + logistic-regression model in the artefact
    # Detectors are registered in ``detectors.DETECTORS`` against the rule id.


RULES: tuple[RuleSpec, ...] = (
    RuleSpec("personal-abuse", "Insults or abuse aimed at a person (author, commenter).", True),
    RuleSpec("threats", "Threats or incitement of violence against a person or group.", True),
    RuleSpec("hate", "Attacks on people for a protected characteristic (race, religion).", True),
    RuleSpec("obscene", "Profanity, obscene or sexually explicit language.", True),
    RuleSpec("spam", "Advertising, scams, self-promotion and link spam.", True),
    RuleSpec("personal-data", "Phone numbers, e-mail or postal addresses, vehicle plates.", False),
)

LEARNED_RULES: tuple[str, ...] = tuple(r.id for r in RULES if r.learned)


def rule_ids() -> tuple[str, ...]:
    return tuple(r.id for r in RULES)
