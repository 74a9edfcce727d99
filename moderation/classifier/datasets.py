"""Readers for the public data sets in ``shared/datasets`` and their mapping onto our rule ids.

Why a per-rule label with "unknown": no set labels every rule. Davidson says a tweet is hateful
but not whether it threatens; HateXplain's "offensive" says nothing about spam. Each example
therefore carries, per learned rule, 1 (violates), 0 (does not) or -1 (not known), and a rule is
trained and evaluated only on examples whose label for it is known.

Why so many sources of *acceptable* comments: every toxic_spans comment was already judged
toxic by someone, so on its own it would teach "any news comment is abusive". Acceptable text
comes from Wikipedia talk pages (label 0), Davidson "neither", HateXplain "normal", SMS/YouTube
ham and the toxic_spans comments no annotator found toxic.

The data are read where they lie and never copied into the repository.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from moderation.classifier.rules import LEARNED_RULES

__all__ = [
    "EVAL_ONLY_SOURCES",
    "Example",
    "LOADERS",
    "default_data_dir",
    "load_identity_templates",
    "load_surge",
    "load_toxicity_fuzz",
    "load_training_examples",
]

POS, NEG, UNK = 1, 0, -1
# Long Wikipedia threads would dominate feature extraction time without adding signal.
MAX_TRAIN_CHARS = 2000
EVAL_ONLY_SOURCES = ("surge_toxicity", "bias_madlibs")


@dataclass(frozen=True)
class Example:
    text: str
    source: str
    labels: tuple[int, ...]  # aligned with LEARNED_RULES; 1, 0 or -1 (unknown)


def default_data_dir() -> Path:
    """``$MODERATION_DATASETS_DIR``, else ``<repo>/../shared/datasets``."""
    env = os.environ.get("MODERATION_DATASETS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def _labels(**by_rule: int) -> tuple[int, ...]:
    """Labels for LEARNED_RULES from keyword arguments (``personal_abuse=1``); rest unknown."""
    known = {k.replace("_", "-"): v for k, v in by_rule.items()}
    unknown = set(known) - set(LEARNED_RULES)
    if unknown:
        raise ValueError(f"unknown rule ids {sorted(unknown)}")
    return tuple(known.get(rule, UNK) for rule in LEARNED_RULES)


ALL_NEGATIVE = _labels(personal_abuse=0, threats=0, hate=0, obscene=0, spam=0)


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    csv.field_size_limit(10**8)
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        yield from csv.DictReader(handle)


def _clip(text: str) -> str:
    return text.strip()[:MAX_TRAIN_CHARS]


def _type_label(row: dict[str, str], name: str) -> int:
    """Majority label = positive; nobody chose the type = negative; a minority = unknown.

    The minority case is left out because a comment one annotator in three called a threat is
    neither a clean positive nor a clean negative example.
    """
    if row[f"label_{name}"] == "1":
        return POS
    return NEG if float(row[f"frac_{name}"] or 0) == 0.0 else UNK


def load_toxic_spans(data_dir: Path) -> list[Example]:
    """SemEval-2021 toxic spans (Civil Comments): per-comment type labels."""
    out = []
    for row in _read_csv(data_dir / "toxic_spans" / "DERIVED_comment_level_type_labels.csv"):
        out.append(
            Example(
                _clip(row["comment_text"]),
                "toxic_spans",
                _labels(
                    personal_abuse=_type_label(row, "Insult"),
                    threats=_type_label(row, "Threat"),
                    hate=_type_label(row, "Identity based Attack"),
                    obscene=_type_label(row, "Profane/Obscene"),
                    spam=NEG,
                ),
            )
        )
    return out


def load_davidson(data_dir: Path, offensive_limit: int = 5000, seed: int = 1729) -> list[Example]:
    """Davidson 2017 tweets: 0 hate speech, 1 offensive (profane), 2 neither.

    The 19k "offensive" tweets are subsampled: at full size they would make up 97% of the
    obscene positives and teach that rule Twitter slang rather than obscenity.
    """
    mapping = {
        "0": _labels(hate=1, spam=0),
        "1": _labels(hate=0, obscene=1, spam=0),
        "2": ALL_NEGATIVE,
    }
    rows = list(_read_csv(data_dir / "davidson" / "labeled_data.csv"))
    offensive = [r for r in rows if r["class"] == "1"]
    random.Random(seed).shuffle(offensive)
    keep = [r for r in rows if r["class"] != "1"] + offensive[:offensive_limit]
    return [Example(_clip(r["tweet"]), "davidson", mapping[r["class"]]) for r in keep]


def load_hatexplain(data_dir: Path) -> list[Example]:
    """HateXplain test/validation majority labels: hate / offensive / normal."""
    mapping = {
        "hate": _labels(hate=1, spam=0),
        "offensive": _labels(hate=0, spam=0),
        "normal": ALL_NEGATIVE,
    }
    out = []
    for name in ("t5_df_test.csv", "t5_df_val.csv"):
        for row in _read_csv(data_dir / "hatexplain_partial" / name):
            label = row["target_text"].strip()
            if row["prefix"] == "label" and label in mapping:
                out.append(Example(_clip(row["input_text"]), "hatexplain", mapping[label]))
    return out


def load_fox_news(data_dir: Path) -> list[Example]:
    """Fox News comments, hateful 1/0. Non-hateful ones may still insult, so only hate is known."""
    out = []
    with (data_dir / "fox_news" / "fox-news-comments.json").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                labels = _labels(hate=int(item["label"]), spam=0)
                out.append(Example(_clip(item["text"]), "fox_news", labels))
    return out


def load_sms_spam(data_dir: Path) -> list[Example]:
    out = []
    path = data_dir / "sms_spam" / "SMSSpamCollection"
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            if label in ("ham", "spam") and text:
                labels = _labels(personal_abuse=0, threats=0, hate=0, spam=1)
                chosen = labels if label == "spam" else ALL_NEGATIVE
                out.append(Example(_clip(text), "sms_spam", chosen))
    return out


def load_youtube_spam(data_dir: Path) -> list[Example]:
    out = []
    for name in sorted(glob.glob(str(data_dir / "youtube_spam" / "*.csv"))):
        for row in _read_csv(Path(name)):
            spam = row["CLASS"].strip() == "1"
            labels = _labels(personal_abuse=0, threats=0, hate=0, spam=1) if spam else ALL_NEGATIVE
            out.append(Example(_clip(row["CONTENT"]), "youtube_spam", labels))
    return out


def load_wiki_context(data_dir: Path) -> list[Example]:
    """Talk-page comments. Label 0 = acceptable; label 1 is only "toxic", so its types are unknown.

    The ``api`` column is Perspective's score, not a human label, and is never read.
    """
    out = []
    for name in ("gn.csv", "gc.csv"):
        for row in _read_csv(data_dir / "wiki_context_toxicity" / name):
            labels = ALL_NEGATIVE if row["label"].strip() == "0" else _labels(spam=0)
            out.append(Example(_clip(row["text"]), "wiki_context", labels))
    return out


def load_identity_statements(data_dir: Path, limit: int = 1500, seed: int = 1729) -> list[Example]:
    """Non-toxic identity statements ("Being muslim and gay is great") as negatives.

    Why: the hate sources pair identity words with attacks, so without these a bare mention of
    an identity would score as hate. Sampled from the intersectional madlibs; the separate
    ``bias_madlibs_77k`` set is kept for evaluation.
    """
    path = data_dir / "bias_madlibs" / "new_madlibber_intersectional_madlibs.csv"
    rows = [r["phrase"] for r in _read_csv(path) if r["toxicity"] == "nontoxic"]
    random.Random(seed).shuffle(rows)
    return [Example(text, "identity_statements", ALL_NEGATIVE) for text in rows[:limit]]


LOADERS: dict[str, Callable[[Path], list[Example]]] = {
    "toxic_spans": load_toxic_spans,
    "davidson": load_davidson,
    "hatexplain": load_hatexplain,
    "fox_news": load_fox_news,
    "sms_spam": load_sms_spam,
    "youtube_spam": load_youtube_spam,
    "wiki_context": load_wiki_context,
    "identity_statements": load_identity_statements,
}


def load_training_examples(data_dir: Path) -> list[Example]:
    """All training sources, de-duplicated on exact text (labels merged: any 1 wins, then 0)."""
    merged: dict[str, Example] = {}
    for loader in LOADERS.values():
        for ex in loader(data_dir):
            if not ex.text:
                continue
            key = " ".join(ex.text.lower().split())
            seen = merged.get(key)
            if seen is None:
                merged[key] = ex
                continue
            labels = tuple(max(a, b) for a, b in zip(seen.labels, ex.labels, strict=True))
            merged[key] = Example(seen.text, seen.source, labels)
    return list(merged.values())


# --- evaluation-only sets ------------------------------------------------------------------


def load_surge(data_dir: Path) -> list[tuple[str, int]]:
    """Surge AI toxicity sample (social media, 500/500): an out-of-domain toxicity check."""
    path = data_dir / "surge_toxicity" / "toxicity_en.csv"
    return [(row["text"], int(row["is_toxic"] == "Toxic")) for row in _read_csv(path)]


def load_identity_templates(data_dir: Path) -> list[tuple[str, int, str]]:
    """Jigsaw ``bias_madlibs_77k`` templates: (text, 1 if BAD, template name)."""
    path = data_dir / "bias_madlibs" / "bias_madlibs_77k.csv"
    return [(r["Text"], int(r["Label"] == "BAD"), r["Template"]) for r in _read_csv(path)]


def load_toxicity_fuzz(data_dir: Path, fuzzed: bool) -> list[tuple[str, int]]:
    """Jigsaw obfuscation test set (same comments with and without character fuzzing)."""
    name = "toxicity_fuzzed_testset.csv" if fuzzed else "toxicity_nonfuzzed_testset.csv"
    path = data_dir / "bias_madlibs" / name
    return [(r["comment"], int(r["toxic"] == "True")) for r in _read_csv(path)]
