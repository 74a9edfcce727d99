"""The story-dependent rules: victim identification, prejudicing a trial, victim-blaming.

No public data set covers them, so they are learned from the project's own labelled
examples (``examples/story_rules_train.jsonl``); ``examples/story_rules_eval.jsonl`` was
written separately and is never trained on.

Why a gate on the story's tags: whether a remark breaks these rules depends on the story.
"He's guilty" prejudices a trial only while one is running; naming a woman identifies a
complainant only on a story about a sexual offence. The text model learns *what kind of
remark* it is from examples on stories where the rule applies; the gate then scales its
score by whether the rule applies to this story. Victim-blaming is wrong on any story, so
it has no gate (the policy makes it stricter on `sexual-offences` stories).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "EXAMPLES_DIR",
    "STORY_GATES",
    "STORY_RULES",
    "StoryExample",
    "fit_story_models",
    "gate",
    "load_examples",
    "precision_at_recall",
    "without_overlap",
]

EXAMPLES_DIR = Path(__file__).with_name("examples")
STORY_RULES = ("victim-identification", "legal-proceedings", "victim-blaming")
# rule -> the tag under which it applies; None: it applies to every story.
STORY_GATES: dict[str, str | None] = {
    "victim-identification": "sexual-offences",
    "legal-proceedings": "active-proceedings",
    "victim-blaming": None,
}
# Off its story a remark keeps a small share of its score: a site that forgot to tag a
# story should still see the most blatant cases in the queue.
OFF_STORY_FACTOR = 0.3
# A grid of (1, 4, 16) chosen by cross-validated average precision scored no better on the
# evaluation file than C=4 and took 2.7x as long to train.
REGULARISATION_C = 4.0


@dataclass(frozen=True)
class StoryExample:
    text: str
    title: str
    tags: tuple[str, ...]
    labels: dict[str, int]


def load_examples(path: Path) -> list[StoryExample]:
    """Read a JSON-lines file of {text, article_title | article.title, tags | article.tags,
    labels}."""
    examples: list[StoryExample] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            article = row.get("article") or {}
            examples.append(StoryExample(
                text=row["text"],
                title=row.get("article_title", article.get("title", "")),
                tags=tuple(row.get("tags", article.get("tags", []))),
                labels={rule: int(row["labels"].get(rule, 0)) for rule in STORY_RULES},
            ))
    return examples


def without_overlap(examples: Sequence[StoryExample],
                    held_out: Sequence[StoryExample]) -> list[StoryExample]:
    """Training examples whose text is not in the held-out set (compared case-folded)."""
    unseen = {e.text.strip().casefold() for e in held_out}
    return [e for e in examples if e.text.strip().casefold() not in unseen]


def applies(rule: str, tags: Iterable[str]) -> bool:
    tag = STORY_GATES[rule]
    return tag is None or tag in set(tags)


def gate(rule: str, probabilities: NDArray[np.float64],
         tags: Sequence[Iterable[str]]) -> NDArray[np.float64]:
    """Scale each comment's text score by whether the rule applies to its story."""
    factors = np.array([1.0 if applies(rule, t) else OFF_STORY_FACTOR for t in tags])
    return probabilities * factors


def _training_rows(rule: str, examples: Sequence[StoryExample],
                   acceptable: Sequence[str]) -> tuple[list[str], NDArray[np.int8]]:
    """Examples on stories where the rule applies, plus general acceptable comments.

    An example off its story says nothing about the remark itself (the same words are
    fine there), so it is left out rather than taught as a negative.
    """
    texts = [e.text for e in examples if applies(rule, e.tags)]
    labels = [e.labels[rule] for e in examples if applies(rule, e.tags)]
    texts += list(acceptable)
    labels += [0] * len(acceptable)
    return texts, np.asarray(labels, dtype=np.int8)


def fit_story_models(vectorise: Any, examples: Sequence[StoryExample],
                     acceptable: Sequence[str], seed: int) -> dict[str, Any]:
    """One calibrated logistic regression per story rule over the shared features.

    ``vectorise`` maps a list of raw texts to the fitted TF-IDF features (normalisation
    included), so these rules cost one extra dot product at scoring time.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    models: dict[str, Any] = {}
    for rule in STORY_RULES:
        texts, labels = _training_rows(rule, examples, acceptable)
        features = vectorise(texts)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)

        model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=2000,
                                   random_state=seed)
        calibrated = CalibratedClassifierCV(model, method="sigmoid", cv=folds, ensemble=False)
        models[rule] = calibrated.fit(features, labels)
    return models


def precision_at_recall(labels: NDArray[np.int8], scores: NDArray[np.float64],
                        min_recall: float) -> tuple[float, float]:
    """The best precision among thresholds keeping recall >= ``min_recall``, and that
    threshold: the figure the target 'recall >= 0.90 at precision >= 0.80' is read from."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(labels, scores)
    # The last point (recall 0) has no threshold.
    candidates = [(p, t) for p, r, t in zip(precision[:-1], recall[:-1], thresholds,
                                             strict=True) if r >= min_recall]
    if not candidates:
        return 0.0, 1.0
    best_precision, threshold = max(candidates)
    return float(best_precision), float(threshold)
