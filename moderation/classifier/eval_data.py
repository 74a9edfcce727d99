"""Evaluation sets read from ``shared/datasets``, fold assignment and the obfuscation attack.

Why separate from ``datasets``: training maps every source onto rule labels; evaluation needs
each set in its own terms (Davidson's three classes, YouTube's videos, SemEval's character
offsets, the identity term of a madlibs sentence) and a fixed, seeded fold for every row so the
per-fold models never see the rows they are scored on.
"""

from __future__ import annotations

import ast
import glob
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from moderation.classifier.datasets import read_csv, sms_messages

__all__ = [
    "CIVIL_TYPES",
    "CvSets",
    "EvalRow",
    "assign_folds",
    "identity_terms",
    "load_cv_sets",
    "load_madlibs",
    "load_span_test",
    "obfuscate",
    "term_masks",
]

# (column suffix in the DERIVED file, our rule id, short name for the table)
CIVIL_TYPES: tuple[tuple[str, str, str], ...] = (
    ("Insult", "personal-abuse", "insult"),
    ("Threat", "threats", "threat"),
    ("Identity based Attack", "hate", "identity attack"),
    ("Profane/Obscene", "obscene", "profane"),
)


@dataclass(frozen=True)
class EvalRow:
    text: str
    label: int  # binary label, or Davidson's class 0/1/2, or a type bit mask for Civil Comments
    group: int = 0  # YouTube video index


@dataclass(frozen=True)
class CvSets:
    civil: list[EvalRow]  # label = bit mask over CIVIL_TYPES (majority labels)
    davidson: list[EvalRow]  # label = class (0 hate, 1 offensive, 2 neither)
    sms: list[EvalRow]
    youtube: list[EvalRow]  # group = video index


def load_cv_sets(data_dir: Path) -> CvSets:
    civil = []
    for row in read_csv(data_dir / "toxic_spans" / "DERIVED_comment_level_type_labels.csv"):
        mask = sum(
            1 << k for k, (col, _, _) in enumerate(CIVIL_TYPES) if row[f"label_{col}"] == "1"
        )
        civil.append(EvalRow(row["comment_text"], mask))
    davidson = [
        EvalRow(r["tweet"], int(r["class"]))
        for r in read_csv(data_dir / "davidson" / "labeled_data.csv")
    ]
    sms = [EvalRow(text, int(is_spam)) for is_spam, text in sms_messages(data_dir)]
    youtube = []
    for video, name in enumerate(sorted(glob.glob(str(data_dir / "youtube_spam" / "*.csv")))):
        for r in read_csv(Path(name)):
            youtube.append(EvalRow(r["CONTENT"], int(r["CLASS"].strip() == "1"), video))
    return CvSets(civil, davidson, sms, youtube)


def assign_folds(keys: Sequence[object], n_folds: int, seed: int) -> list[int]:
    """Stratified fold ids: rows of each key are shuffled and dealt round-robin."""
    rng = random.Random(seed)
    by_key: dict[object, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        by_key[k].append(i)
    folds = [0] * len(keys)
    offset = 0
    for k in sorted(by_key, key=str):
        idx = by_key[k]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[i] = (offset + j) % n_folds
        offset += len(idx)
    return folds


def load_span_test(data_dir: Path) -> list[tuple[str, set[int]]]:
    """SemEval-2021 ``tsd_test.csv``: (text, gold toxic character offsets)."""
    out = []
    for r in read_csv(data_dir / "toxic_spans" / "tsd_test.csv"):
        offsets = {int(i) for i in ast.literal_eval(r["spans"])}
        out.append((r["text"], offsets))
    return out


def identity_terms(data_dir: Path) -> list[str]:
    """Neutral identity words of the Jigsaw madlibs word list (``new_madlibber_words.csv``)."""
    rows = read_csv(data_dir / "bias_madlibs" / "new_madlibber_words.csv")
    terms = {r["word"].strip().lower() for r in rows if r["type"] == "identity"
             and r["connotation"] == "neutral"}
    return sorted(terms, key=lambda t: (-len(t), t))


def _term_pattern(terms: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=lambda t: (-len(t), t)))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def term_masks(texts: Sequence[str], terms: Sequence[str]) -> dict[str, list[bool]]:
    """For each term, which texts mention it (whole word, case-insensitive)."""
    pattern = _term_pattern(terms)
    found = [{m.group(0).lower() for m in pattern.finditer(t)} for t in texts]
    return {term: [term in f for f in found] for term in terms}


def load_madlibs(data_dir: Path, terms: Sequence[str]) -> list[tuple[str, int, str]]:
    """``bias_madlibs_77k``: (text, 1 if BAD, identity term or "" when none is present)."""
    pattern = _term_pattern(terms)
    out = []
    for r in read_csv(data_dir / "bias_madlibs" / "bias_madlibs_77k.csv"):
        m = pattern.search(r["Text"])
        out.append((r["Text"], int(r["Label"] == "BAD"), m.group(0).lower() if m else ""))
    return out


# --- obfuscation ---------------------------------------------------------------------------

# Obscenities an evader would disguise. Matched as whole words, inflections included.
_SWEAR = re.compile(
    r"\b(?:(?:mother)?fuck\w*|\w*shit\w*|bitch\w*|ass(?:hole)?s?|(?:jack|dumb|bad|smart)ass|damn\w*|crap\w*|"
    r"dick\w*|cock\w*|puss(?:y|ies)|bastard\w*|piss\w*|slut\w*|whore\w*|cunt\w*|wtf|"
    r"fag\w*|hell|bollocks|bloody|wank\w*|twat\w*|prick\w*)\b",
    re.IGNORECASE,
)
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_STYLES = ("mask", "leet", "spacing", "repeat")


def _obfuscate_word(word: str, style: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    if style == "mask":
        inner = list(range(1, len(word) - 1))
        chosen = set(rng.sample(inner, max(1, min(len(inner), rng.randint(1, 3)))))
        return "".join("*" if i in chosen else c for i, c in enumerate(word))
    if style == "leet":
        positions = [i for i, c in enumerate(word) if c.lower() in _LEET]
        if not positions:
            return word[0] + "*" + word[2:]
        chosen = set(rng.sample(positions, max(1, len(positions) // 2)))
        return "".join(_LEET[c.lower()] if i in chosen else c for i, c in enumerate(word))
    if style == "spacing":
        return rng.choice((" ", ".", "-")).join(word)
    vowels = [i for i, c in enumerate(word) if c.lower() in "aeiouy"] or [len(word) - 1]
    i = rng.choice(vowels)
    return word[: i + 1] + word[i] * rng.randint(2, 5) + word[i + 1 :]


def obfuscate(text: str, seed: int) -> str:
    """Disguise every obscenity in ``text`` with a seeded style: masking (``f**k``), leetspeak
    (``sh1t``), spaced letters (``f u c k``) or repeated letters (``fuuuuck``)."""
    rng = random.Random(seed)
    return _SWEAR.sub(lambda m: _obfuscate_word(m.group(0), rng.choice(_STYLES), rng), text)
