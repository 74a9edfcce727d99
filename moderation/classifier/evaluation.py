"""Held-out metrics and sanity checks written to ``metrics.json`` and the model card.

Why more than one number per rule: the mixed training data make a single ROC-AUC flattering
(Davidson's profane tweets are easy to tell from Wikipedia talk pages), so each rule also gets
a per-source breakdown, an out-of-domain check (Surge AI comments), an obfuscation check
(Jigsaw's fuzzed test set) and an identity-term check (Jigsaw madlibs), plus the scores of a few
fixed sentences a person can judge at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from moderation.classifier.datasets import (
    Example,
    load_identity_templates,
    load_surge,
    load_toxicity_fuzz,
)
from moderation.classifier.detectors import run_detectors
from moderation.classifier.rules import LEARNED_RULES
from moderation.classifier.scorer import Scorer
from moderation.classifier.types import ScoringInput

__all__ = ["SANITY_SENTENCES", "binary_metrics", "evaluate"]

TOXIC_RULES = ("personal-abuse", "threats", "hate", "obscene")

SANITY_SENTENCES: tuple[str, ...] = (
    "I know where you live and I will kill you",
    "someone should stab him",
    "Thanks for this article, the council should fix the roads",
    "I was raped at 19 and the police never believed me",
    "As a Muslim woman, I think the council got this one right.",
    "I'm gay and I've lived in this town for thirty years.",
    "As a black man I find this article very moving.",
    "You are a pathetic idiot and everyone here knows it",
    "What a load of f***ing sh1t",
    "Earn £500 a day working from home, visit bit.ly/3xYz12",
    "Call me on 07700 900123 or email jo.bloggs@example.com",
)


def _ece(y: NDArray[np.int_], p: NDArray[np.float64], bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(float(p[mask].mean()) - float(y[mask].mean()))
    return total


def binary_metrics(y: NDArray[np.int_], p: NDArray[np.float64]) -> dict[str, Any]:
    """ROC-AUC, average precision, Brier, ECE and precision/recall at 0.5."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    out: dict[str, Any] = {"n": int(y.size), "positives": int(y.sum())}
    if 0 < y.sum() < y.size:
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
        out["average_precision"] = round(float(average_precision_score(y, p)), 4)
    out["brier"] = round(float(brier_score_loss(y, p, labels=[0, 1])), 4)
    out["ece"] = round(_ece(y, p), 4)
    flagged = p >= 0.5
    tp = int((flagged & (y == 1)).sum())
    out["precision_at_0.5"] = round(tp / flagged.sum(), 4) if flagged.any() else None
    out["recall_at_0.5"] = round(tp / y.sum(), 4) if y.sum() else None
    return out


def _heldout(scorer: Scorer, test: Sequence[Example]) -> dict[str, Any]:
    texts = [e.text for e in test]
    learned = scorer.learned_scores(texts)
    labels = np.array([e.labels for e in test], dtype=int)
    sources = np.array([e.source for e in test])
    report: dict[str, Any] = {}
    for j, rule in enumerate(LEARNED_RULES):
        known = labels[:, j] >= 0
        y, p = labels[known, j], learned[rule][known]
        entry: dict[str, Any] = {"learned": binary_metrics(y, p), "by_source": {}}
        for source in sorted(set(sources[known])):
            mask = sources[known] == source
            if 0 < y[mask].sum() < mask.sum():
                entry["by_source"][source] = binary_metrics(y[mask], p[mask])
        items = [ScoringInput(t) for t, k in zip(texts, known, strict=True) if k]
        detector = np.array([run_detectors(i, rule).score for i in items])
        if detector.any():
            entry["learned_or_detector"] = binary_metrics(y, np.maximum(p, detector))
        report[rule] = entry
    return report


def _any_toxic(scorer: Scorer, texts: Sequence[str]) -> NDArray[np.float64]:
    learned = scorer.learned_scores(texts)
    return np.max(np.vstack([learned[r] for r in TOXIC_RULES]), axis=0)


def _external(scorer: Scorer, data_dir: Path, train_texts: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    surge = load_surge(data_dir)
    out["surge_toxicity_any_toxic_rule"] = binary_metrics(
        np.array([y for _, y in surge]), _any_toxic(scorer, [t for t, _ in surge])
    )
    for fuzzed in (False, True):
        rows = load_toxicity_fuzz(data_dir, fuzzed)
        key = "jigsaw_fuzzed_any_toxic_rule" if fuzzed else "jigsaw_nonfuzzed_any_toxic_rule"
        out[key] = binary_metrics(
            np.array([y for _, y in rows]), _any_toxic(scorer, [t for t, _ in rows])
        )
    templates = [t for t in load_identity_templates(data_dir) if t[0].lower() not in train_texts]
    hate = scorer.learned_scores([t for t, _, _ in templates])["hate"]
    y = np.array([bad for _, bad, _ in templates])
    names = np.array([name for _, _, name in templates])
    neutral = hate[y == 0]
    out["identity_templates_hate"] = {
        **binary_metrics(y, hate),
        "non_toxic_mean_hate_score": round(float(neutral.mean()), 4),
        "non_toxic_share_at_or_above_0.5": round(float((neutral >= 0.5).mean()), 4),
        "non_toxic_max_hate_score_by_template": {
            name: round(float(hate[(names == name) & (y == 0)].max()), 4)
            for name in sorted(set(names))
            if ((names == name) & (y == 0)).any()
        },
    }
    return out


def evaluate(
    scorer: Scorer, test: Sequence[Example], data_dir: Path, train_texts: set[str]
) -> dict[str, Any]:
    """Everything that goes into ``metrics.json`` except timing and size."""
    sanity = scorer.score_many([ScoringInput(t) for t in SANITY_SENTENCES])
    return {
        "heldout": _heldout(scorer, test),
        "external": _external(scorer, data_dir, train_texts),
        "sanity_sentences": {
            text: {rule: round(s.score, 4) for rule, s in scores.items()}
            for text, scores in zip(SANITY_SENTENCES, sanity, strict=True)
        },
    }
