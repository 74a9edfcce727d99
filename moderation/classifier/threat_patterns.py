"""Threat phrase patterns: stated intent, incitement and intimidation aimed at a person.

Why a pattern detector next to the learned model: the only public threat labels available
(toxic_spans) hold 121 positive comments, too few for the model alone to be trusted on the
comments that matter most ("I know where you live", "someone should stab him"). These patterns
need a speaker (I/we/someone/they ...), an intent or obligation (will/going to/should/deserves
to be ...), a violent verb and a human target, so figures of speech without a person ("this
will kill the high street", "smoking will kill you" lacks a speaker) and past-tense accounts
("I was attacked") do not match. They run on normalised text (leetspeak and masking folded)
and report spans in the original text.
"""

from __future__ import annotations

import re

from moderation.classifier.normalise import Normalised

__all__ = ["THREAT_PATTERNS", "find_threat_phrases"]

# Only verbs that are violent in themselves: "beat", "destroy", "cut", "bury", "end" are left out
# because "we will beat them at the polls" or "they should cut their taxes" are everyday politics.
_VERB = (
    r"(?:kill|murder|stab|shoot|hang|lynch|behead|decapitate|strangle|batter|punch|bomb|"
    r"blow up|gas|execute|string up|rape|hurt|maim|knife|slit|skin|throttle|poison|torture|"
    r"kneecap|glass|run over|burn|torch|set fire to|smash|drown)"
)
# A person as the object: pronouns and demonstrative phrases, or a possessive followed by a body
# part / relative ("slit your throat", "hurt your kids"), never a bare possessive ("their taxes").
_TARGET = (
    r"(?:(?:you|ya|u|him|her|them|y'all|each of you|all of you|every one of you|"
    r"all (?:the|those|these|of them)\s+\w+|those\s+\w+|these\s+\w+|"
    r"that (?:man|woman|guy|bloke|girl|boy|scum|idiot|bastard|bitch|traitor|pig|thing|kid)|"
    r"this (?:man|woman|guy|bloke|scum|traitor))\b(?!\s+(?:a|an)\s+(?:email|e-mail|message|text|"
    r"line|note|dm|pm)\b)|(?:your|ur|his|her|their)\s+(?:throat|head|face|neck|legs?|arms?|"
    r"knees?|kids?|children|family|wife|husband|mum|mom|dad|son|daughter|house|home|car)\b)"
)
# Up to three words between intent and verb ("I will find you and hurt you"), but never a negation
# ("I would never hurt you").
_FILLER = r"(?:(?!(?:not|never|no|nobody|to|don't|dont|can't|cant)\b)[\w']+\s+){0,3}?"
_INTENT = (
    r"(?:'ll|'d|will|shall|would|am going to|'m going to|are going to|'re going to|am gonna|"
    r"'m gonna|are gonna|'re gonna|gonna|want to|wanna|intend to|plan to|am coming to|'m coming to|"
    r"could easily|can't wait to|cant wait to)"
)
_OBLIGATION = (
    r"(?:should|ought to|oughta|needs? to|must|has to|have to|gotta|got to|deserves? to|"
    r"are going to|is going to|will|'ll)"
)
_PASSIVES = (
    "shot", "hanged", "hung", "lynched", "stabbed", "executed", "strung up", "beheaded", "gassed",
    "burned alive", "burnt alive", "beaten to death", "raped", "tortured", "put against a wall",
    "shot dead", "killed", "murdered", "wiped out", "exterminated",
)
_PASSIVE = "(?:" + "|".join(_PASSIVES) + ")"

# Hoped-for violence: "hope he dies a slow death", "I hope someone gives him a good kicking".
# The wish word alone is everyday kindness ("hope they catch him soon"), so the pattern needs a
# violent outcome in the same clause, and no negation or first person in between ("hope nobody
# gets hurt", "I hope he doesn't die", "I wish I could die" are not threats to anyone).
_WISH = r"(?:hope|hoping|hopefully|wish|pray|praying)"
_WISH_FILLER = (
    r"(?:(?!(?:not|never|no|nobody|noone|none|i|me|myself|we|us|i'm|i'd|i'll)\b)"
    r"(?![\w']*n't\b)[\w']+\s+){0,8}?"
)
_OUTCOME = (
    r"(?:dies|die a|drops dead|gets? (?:killed|stabbed|shot|beaten|battered|knifed|glassed|"
    r"raped|murdered|hanged|lynched|run over|set on fire|burnt|burned|kicked in|his head kicked)|"
    r"(?:is|are|be) (?:killed|stabbed|shot|beaten up|battered|raped|murdered|knifed|hanged|"
    r"lynched|set alight|burned alive|burnt alive)|burns? (?:down|alive|to death)|"
    r"(?:gives?|giving|gets?|getting) (?:\w+ )?(?:a |the )?(?:good |proper |right )?"
    r"(?:kicking|beating|hiding|battering|pasting)|"
    r"(?:slow|painful|horrible|agonising|agonizing|nasty) death|body ?bag|a bullet)"
)

THREAT_PATTERNS: tuple[tuple[str, re.Pattern[str], float], ...] = (
    # "I will kill you", "we're going to find you and hurt you"
    (
        "stated-intent",
        re.compile(rf"\b(?:i|we)\s*{_INTENT}\s+{_FILLER}{_VERB}\w*\s+{_TARGET}"),
        0.85,
    ),
    # "someone should stab him", "people need to string them up"
    (
        "incitement",
        re.compile(
            rf"\b(?:someone|somebody|anyone|anybody|people|they|we|you|u|y'all|he|she|someone)\s+"
            rf"{_OBLIGATION}\s+{_FILLER}{_VERB}\w*\s+{_TARGET}"
        ),
        0.8,
    ),
    # "he deserves to be shot", "traitors should be hanged" (people-words only, so "the bill
    # should be killed off" is left to the learned model)
    (
        "wished-violence",
        re.compile(
            rf"\b(?:he|she|they|you|u|them|people|traitors?|scum|vermin|paedos?|pedos?|"
            r"politicians?|immigrants?|[\w']+ers|all of them|every one of them|every last one)\s+"
            rf"(?:\w+\s+)?(?:should|ought to|needs? to|must|deserves? to)\s+"
            rf"(?:all\s+)?be\s+{_PASSIVE}\b"
        ),
        0.75,
    ),
    # "hope he dies a slow death", "pray someone gives him a good kicking"
    (
        "hoped-violence",
        re.compile(rf"\b{_WISH}\s+{_WISH_FILLER}{_OUTCOME}\b"),
        0.75,
    ),
    # intimidation without a violent verb
    (
        "intimidation",
        re.compile(
            r"\b(?:i|we)\s+know where (?:you|u|ya|he|she|they) (?:live|lives|work|works|sleep)\b"
            r"|\bwatch your back\b|\byour days are numbered\b|\bsleep with one eye open\b"
            r"|\b(?:you're|youre|you are|ur|u r) (?:dead(?! wrong| right| serious| on| set)|"
            r"next(?!\s+\w)|going to die|gonna die)\b"
            r"|\b(?:i|we)\s*(?:'ll|will|am going to|'m going to|are coming to|'m coming to|"
            r"am coming to|'re coming to|'re going to)\s+(?:find|come for|hunt down|track down)\s+"
            r"(?:you|u|ya|him|her|them)\b"
            r"|\bbeat\w* (?:you|u|him|her|them) (?:up|to death|senseless|to a pulp)\b"
            r"|\bburn (?:you|u|him|her|them) alive\b"
        ),
        0.7,
    ),
)


# Text that every match of a pattern contains (the patterns are case-sensitive and run on
# case-folded text): the pattern is tried only when one of its words is present. Only for the
# patterns whose search costs more than this check (the other two fail fast at "i"/"we"/...).
_NEEDS: dict[str, tuple[str, ...]] = {
    "hoped-violence": ("hope", "wish", "pray"),
    "wished-violence": _PASSIVES,
    "intimidation": (
        "know where ", "watch your back", "your days are numbered", "sleep with one eye open",
        "dead", "next", " die", "find", "come for", "hunt down", "track down", "beat", "burn ",
    ),
}


def find_threat_phrases(norm: Normalised) -> list[tuple[str, int, int, float]]:
    """(kind, start, end, score) in source-text offsets for every threat phrase found."""
    found: list[tuple[str, int, int, float]] = []
    text = norm.text
    for kind, pattern, score in THREAT_PATTERNS:
        needs = _NEEDS.get(kind)
        if needs is not None and not any(map(text.__contains__, needs)):
            continue
        for m in pattern.finditer(text):
            start, end = norm.span_to_source(m.start(), m.end())
            found.append((kind, start, end, score))
    # "I know where you live and I will kill you": two independent signals make it near certain.
    if len({k for k, *_ in found}) >= 2:
        found = [(k, s, e, round(min(0.95, sc + 0.1), 2)) for k, s, e, sc in found]
    return found
