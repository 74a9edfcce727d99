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

Cue features (``story_cues.py``) add hand-written lexicons of what each rule looks like to
the shared n-grams for the rules in ``CUE_RULES``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moderation.classifier.rules import STORY_RULES
from moderation.classifier.story_cues import CUE_RULES, StoryCues, cue_fingerprint

__all__ = [
    "EVAL_FILE",
    "EXAMPLES_DIR",
    "STORY_GATES",
    "STORY_RULES",
    "StoryExample",
    "fit_story_models",
    "gate",
    "load_examples",
    "load_training_examples",
    "precision_at_recall",
    "story_tags",
    "without_overlap",
]

EXAMPLES_DIR = Path(__file__).with_name("examples")
EVAL_FILE = EXAMPLES_DIR / "story_rules_eval.jsonl"
# Every training file; the evaluation file is never among them.
TRAIN_GLOB = "story_rules_train*.jsonl"

# When a site sends no tags (or forgets one), the headline still says what the story is
# about. Inferred tags only widen the gate for the story rules; the policy's premoderation
# and stricter thresholds still follow the tags the site sent.
_TITLE_TAGS: dict[str, re.Pattern[str]] = {
    "sexual-offences": re.compile(
        r"\b(?:rap(?:e|ed|es|ing|ist)|sex(?:ual)? (?:assault|attack|offen[cs]e)s?|indecent|"
        r"groom(?:ing|ed)|upskirt|voyeur\w*|sexually|molest\w*)\b", re.IGNORECASE),
    "active-proceedings": re.compile(
        r"\b(?:trial|jury|juror|accused|denies|deny|charged|appears? in court|court hears|"
        r"pleads? not guilty|in the dock|remanded|prosecution|defence)\b", re.IGNORECASE),
}
# After a verdict the case is no longer active: "jailed", "convicted", "sentenced".
_CONCLUDED = re.compile(
    r"\b(?:jailed|convicted|sentenced|found guilty|cleared|acquitted|locked up|imprisoned)\b",
    re.IGNORECASE)
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


def load_training_examples(directory: Path = EXAMPLES_DIR) -> list[StoryExample]:
    """Every training file, minus any text that also appears in the evaluation file."""
    rows: list[StoryExample] = []
    for path in sorted(directory.glob(TRAIN_GLOB)):
        rows += load_examples(path)
    held_out = load_examples(directory / EVAL_FILE.name) if (
        directory / EVAL_FILE.name).is_file() else []
    return without_overlap(rows, held_out)


def without_overlap(examples: Sequence[StoryExample],
                    held_out: Sequence[StoryExample]) -> list[StoryExample]:
    """Training examples whose text is not in the held-out set (compared case-folded)."""
    unseen = {e.text.strip().casefold() for e in held_out}
    return [e for e in examples if e.text.strip().casefold() not in unseen]


def story_tags(tags: Iterable[str], title: str = "") -> frozenset[str]:
    """The site's tags plus those the headline implies (see ``_TITLE_TAGS``)."""
    found = set(tags)
    if title:
        for tag, pattern in _TITLE_TAGS.items():
            if pattern.search(title):
                found.add(tag)
        if "active-proceedings" in found - set(tags) and _CONCLUDED.search(title):
            found.discard("active-proceedings")
    return frozenset(found)


def applies(rule: str, tags: Iterable[str], title: str = "") -> bool:
    tag = STORY_GATES[rule]
    return tag is None or tag in story_tags(tags, title)


def gate(rule: str, probabilities: NDArray[np.float64], tags: Sequence[Iterable[str]],
         titles: Sequence[str] | None = None) -> NDArray[np.float64]:
    """Scale each comment's text score by whether the rule applies to its story."""
    titles = titles if titles is not None else [""] * len(tags)
    factors = np.array([1.0 if applies(rule, t, h) else OFF_STORY_FACTOR
                        for t, h in zip(tags, titles, strict=True)])
    return probabilities * factors


def _training_rows(rule: str, examples: Sequence[StoryExample]) -> list[int]:
    """Indices of the examples on stories where the rule applies.

    An example off its story says nothing about the remark itself (the same words are
    fine there), so it is left out rather than taught as a negative. The writer's tags
    define what a label means; the headline is not consulted here.
    """
    return [i for i, e in enumerate(examples) if applies(rule, e.tags)]


def fit_story_models(vectorise: Any, examples: Sequence[StoryExample], acceptable: Any,
                     seed: int, cues: StoryCues | None = None,
                     acceptable_cues: NDArray[np.float64] | None = None) -> dict[str, Any]:
    """One calibrated logistic regression per story rule over the shared features, plus the
    cue features for the rules in ``CUE_RULES`` when ``cues`` is given.

    ``vectorise`` maps a list of raw texts to the fitted TF-IDF features (normalisation
    included), so these rules cost one extra dot product at scoring time; ``acceptable`` is
    the feature matrix of general comments that break no rule, negatives for every rule
    (``acceptable_cues`` their cue rows, headline-less). A model fitted with cues carries
    ``story_cues_`` (the cue fingerprint) so the scorer can refuse a mismatch.
    """
    import scipy.sparse as sp
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    shared = vectorise([e.text for e in examples]).tocsr()
    own_cues = (cues.features([e.text for e in examples], [e.title for e in examples])
                if cues is not None else None)
    if cues is not None and acceptable_cues is None:
        raise ValueError("acceptable_cues is required with cues")
    # Columns no training row uses get a zero weight anyway; leaving them out of the fit
    # makes it about three times faster (L-BFGS works on the full weight vector).
    used = np.flatnonzero(np.asarray(abs(shared).sum(axis=0)).ravel()
                          + np.asarray(abs(acceptable).sum(axis=0)).ravel())
    models: dict[str, Any] = {}
    for rule in STORY_RULES:
        rows = _training_rows(rule, examples)
        blocks = [sp.vstack([shared[rows], acceptable]).tocsr()[:, used]]
        with_cues = own_cues is not None and rule in CUE_RULES
        if with_cues and own_cues is not None and acceptable_cues is not None:
            blocks.append(sp.csr_matrix(np.vstack([own_cues[rows], acceptable_cues])))
        features = sp.hstack(blocks).tocsr()
        labels = np.asarray([examples[i].labels[rule] for i in rows] + [0] * acceptable.shape[0],
                            dtype=np.int8)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
        model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=2000,
                                   random_state=seed)
        calibrated = CalibratedClassifierCV(model, method="sigmoid", cv=folds, ensemble=False)
        calibrated.fit(features, labels)
        _expand_columns(calibrated, used, shared.shape[1])
        if with_cues:
            calibrated.story_cues_ = cue_fingerprint()
        models[rule] = calibrated
    return models


def _expand_columns(model: Any, used: NDArray[np.int64], n_shared: int) -> None:
    """Put a model fitted on the ``used`` shared columns (then any cue columns) back on the
    full shared space: unused columns get weight 0."""
    for calibrated in model.calibrated_classifiers_:
        estimator = calibrated.estimator
        coef = np.asarray(estimator.coef_)
        n_extra = coef.shape[1] - used.size
        full = np.zeros((coef.shape[0], n_shared + n_extra), dtype=coef.dtype)
        full[:, used] = coef[:, : used.size]
        full[:, n_shared:] = coef[:, used.size:]
        estimator.coef_ = full
        estimator.n_features_in_ = full.shape[1]
        model.n_features_in_ = full.shape[1]


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
