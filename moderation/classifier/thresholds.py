"""Per-rule thresholds chosen from held-out scores, and writing them into the default policy.

Why chosen, not guessed: a threshold is a promise about errors. The review threshold is the
highest score that still sends at least :data:`REVIEW_RECALL` of a rule's violations to a
moderator; the auto-reject threshold is the lowest score at which at least
:data:`REJECT_PRECISION` of the comments held are real violations, and a rule whose held-out
scores never reach that precision gets no automatic rejection at all (the comment waits for a
person instead). ``moderation evaluate`` computes both from out-of-fold scores and
``moderation evaluate --write-policy`` writes them into ``policy/default_rules.toml``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "REJECT_PRECISION",
    "REVIEW_RECALL",
    "Thresholds",
    "choose_thresholds",
    "write_policy_thresholds",
]

REVIEW_RECALL = 0.90
REJECT_PRECISION = 0.97
# Never below this: a review threshold of 0.01 would send every comment to the queue.
MIN_REVIEW = 0.05
# A precision measured on a handful of comments proves nothing: the reject cut must hold at
# least this many held-out comments.
MIN_REJECT_SUPPORT = 20


@dataclass(frozen=True)
class Thresholds:
    review: float
    reject: float | None  # None: never reject automatically
    review_recall: float
    review_precision: float
    reject_recall: float | None
    source: str

    def as_dict(self) -> dict[str, object]:
        return {
            "review": self.review, "reject": self.reject, "review_recall": self.review_recall,
            "review_precision": self.review_precision, "reject_recall": self.reject_recall,
            "source": self.source,
        }


def choose_thresholds(y: ArrayLike, scores: ArrayLike, source: str) -> Thresholds:
    """Review and reject thresholds for one rule from held-out labels and scores."""
    labels = np.asarray(y, dtype=bool)
    p = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-p, kind="mergesort")
    ys, ps = labels[order], p[order]
    tp, fp = np.cumsum(ys), np.cumsum(~ys)
    last_of_tie = np.r_[ps[1:] != ps[:-1], True]
    cuts = np.flatnonzero(last_of_tie)
    total = max(int(labels.sum()), 1)
    recall = tp[cuts] / total
    precision = tp[cuts] / (tp[cuts] + fp[cuts])
    # Review: the first cut (highest score) that reaches the recall aim.
    reach = np.flatnonzero(recall >= REVIEW_RECALL)
    k = int(reach[0]) if reach.size else len(cuts) - 1
    review = max(MIN_REVIEW, float(ps[cuts[k]]))
    # Reject: the deepest cut (lowest score) whose precision still meets the aim.
    held = tp[cuts] + fp[cuts]
    precise = np.flatnonzero((precision >= REJECT_PRECISION) & (held >= MIN_REJECT_SUPPORT))
    reject: float | None = None
    reject_recall: float | None = None
    if precise.size:
        j = int(precise[-1])
        reject, reject_recall = float(ps[cuts[j]]), float(recall[j])
        reject = max(reject, review)
    # Rounded outwards, so the printed threshold keeps the promise the exact one made.
    return Thresholds(
        review=math.floor(review * 1000) / 1000,
        reject=None if reject is None else math.ceil(reject * 1000) / 1000,
        review_recall=float(recall[k]), review_precision=float(precision[k]),
        reject_recall=reject_recall, source=source,
    )


_RULE_BLOCK = re.compile(r"(?ms)^\[\[rules\]\]\s*\nid = \"(?P<id>[^\"]+)\"(?P<body>.*?)(?=^\[|\Z)")


def write_policy_thresholds(path: Path, chosen: dict[str, Thresholds]) -> list[str]:
    """Rewrite the base thresholds of the named rules in a policy TOML file, keeping its
    comments and layout; returns the ids changed. Tag-specific overrides are left alone."""
    text = path.read_text(encoding="utf-8")
    changed: list[str] = []

    def replace(match: re.Match[str]) -> str:
        rule = match.group("id")
        if rule not in chosen:
            return match.group(0)
        t = chosen[rule]
        body = re.sub(r"(?m)^review_threshold = .*$", f"review_threshold = {t.review}",
                      match.group("body"), count=1)
        body = re.sub(r"(?m)^reject_threshold = .*\n", "", body, count=1)
        if t.reject is not None:
            body = re.sub(r"(?m)^(review_threshold = .*)$",
                          rf"\1\nreject_threshold = {t.reject}", body, count=1)
        changed.append(rule)
        return match.group(0).replace(match.group("body"), body)

    text = _RULE_BLOCK.sub(replace, text)
    path.write_text(text, encoding="utf-8")
    return changed
