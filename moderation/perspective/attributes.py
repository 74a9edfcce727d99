"""Perspective attribute names and where their scores come from.

Perspective's production attributes are answered by our models: TOXICITY and SEVERE_TOXICITY
by the auxiliary models of the share of raters (as Perspective's are), the four others by the
rule they correspond to. A site's own rules are attributes too, named as Perspective would name
them (``victim-identification`` → ``VICTIM_IDENTIFICATION``), so an integration that can ask
for TOXICITY can ask for them without new code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PERSPECTIVE_ATTRIBUTES", "Attribute", "attribute_name", "resolve"]


@dataclass(frozen=True)
class Attribute:
    name: str  # as the caller wrote it, upper case
    source: str  # "auxiliary" (a model that is not a rule) or "rule"
    key: str  # the auxiliary model's name or the rule id


# Perspective name → (source, our key). SEXUALLY_EXPLICIT is read from the obscene rule, which
# covers "swears or is sexually explicit"; there is no separate model for it.
PERSPECTIVE_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "TOXICITY": ("auxiliary", "toxicity"),
    "SEVERE_TOXICITY": ("auxiliary", "severe_toxicity"),
    "IDENTITY_ATTACK": ("rule", "hate"),
    "INSULT": ("rule", "personal-abuse"),
    "PROFANITY": ("rule", "obscene"),
    "THREAT": ("rule", "threats"),
    "SEXUALLY_EXPLICIT": ("rule", "obscene"),
}


def attribute_name(rule_id: str) -> str:
    return rule_id.upper().replace("-", "_")


def resolve(name: str, site_rules: Iterable[str]) -> Attribute | None:
    """The attribute a request names, or None when neither Perspective nor the site has it.

    Names are matched case-insensitively; a site rule may also be named by its id.
    """
    upper = name.strip().upper()
    if upper in PERSPECTIVE_ATTRIBUTES:
        source, key = PERSPECTIVE_ATTRIBUTES[upper]
        return Attribute(upper, source, key)
    for rule in site_rules:
        if upper in (attribute_name(rule), rule.upper()):
            return Attribute(attribute_name(rule), "rule", rule)
    return None
