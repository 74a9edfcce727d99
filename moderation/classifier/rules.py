"""The rule registry: which rule ids exist and how each one is scored.

Why a registry: the service, the policy files and the model card all need the same list of rule
ids. A rule may have a learned model, pattern detectors, or both; its score is the maximum of
the two, so adding a detector can only raise recall and never silently replaces the model.

Story rules (victim identification, legal proceedings, victim-blaming) are learned too, but
from the project's own examples and gated by the article's context (``story.py``): the same
words break them on one story and not on another.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LEARNED_RULES", "RULES", "STORY_RULES", "RuleSpec", "rule_ids"]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    description: str
    learned: bool  # has a model trained on the public data sets in the artefact
    story: bool = False  # learned from the project's own examples, gated by the story
    # Detectors are registered in ``detectors.DETECTORS`` against the rule id.


RULES: tuple[RuleSpec, ...] = (
    RuleSpec("personal-abuse", "Insults or abuse aimed at a person (author, commenter).", True),
    RuleSpec("threats", "Threats or incitement of violence against a person or group.", True),
    RuleSpec("hate", "Attacks on people for a protected characteristic (race, religion).", True),
    RuleSpec("obscene", "Profanity, obscene or sexually explicit language.", True),
    RuleSpec("spam", "Advertising, scams, self-promotion and link spam.", True),
    RuleSpec("personal-data", "Phone numbers, e-mail or postal addresses, vehicle plates.", False),
    RuleSpec("victim-identification",
             "Details that could identify the complainant of a sexual offence.", False, True),
    RuleSpec("legal-proceedings",
             "On a story about an active case: asserting guilt, previous convictions, "
             "calls for punishment before a verdict.", False, True),
    RuleSpec("victim-blaming",
             "Blaming victims of sexual violence, or calling such reports generally false.",
             False, True),
)

LEARNED_RULES: tuple[str, ...] = tuple(r.id for r in RULES if r.learned)
STORY_RULES: tuple[str, ...] = tuple(r.id for r in RULES if r.story)


def rule_ids() -> tuple[str, ...]:
    return tuple(r.id for r in RULES)
