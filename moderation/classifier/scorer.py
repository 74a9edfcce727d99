"""The scorer the service calls: learned rules and pattern detectors combined per rule.

Why max(learned, detector): each source is a calibrated-ish probability that the rule is
broken; a confident detector hit (a phone number) must not be diluted by a model that has never
seen personal data, and a detector that finds nothing must not lower a confident model.

Scoring is vectorised over a batch (one normalisation pass, one sparse transform, one
``predict_proba`` per learned rule); evidence spans are computed only for rules whose learned
score reaches :data:`EVIDENCE_MIN_SCORE`, because attributing a low score is wasted work and
noise for the moderator.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moderation.classifier.artefact import default_model_dir, load_artefact
from moderation.classifier.detectors import DETECTORS, Detector, run_detectors
from moderation.classifier.evidence import learned_evidence
from moderation.classifier.normalise import normalise
from moderation.classifier.rules import rule_ids
from moderation.classifier.types import (
    ModelIntegrityError,
    RuleScore,
    ScoringInput,
    merge_spans,
)

__all__ = ["EVIDENCE_MIN_SCORE", "Scorer", "load_scorer", "scorer_from_payload"]

EVIDENCE_MIN_SCORE = 0.3


def _coefficients(classifier: Any) -> NDArray[np.float32]:
    """The logistic-regression weights behind a calibrated classifier (mean over folds)."""
    estimators = [c.estimator for c in classifier.calibrated_classifiers_]
    return np.mean([e.coef_[0] for e in estimators], axis=0).astype(np.float32)


class Scorer:
    """Scores comments against every rule; build it with :func:`load_scorer`."""

    def __init__(
        self,
        version: str,
        rules: Sequence[str],
        vectoriser: Any,
        models: dict[str, Any],
        detectors: Sequence[Detector] = DETECTORS,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        self.version = version
        self.rules: tuple[str, ...] = tuple(rules)
        self.manifest: dict[str, Any] = dict(manifest or {})
        self._counts = vectoriser.named_steps["counts"]
        self._tfidf = vectoriser.named_steps["tfidf"]
        self._models = dict(models)
        self._coef = {rule: _coefficients(clf) for rule, clf in self._models.items()}
        self._detectors = tuple(detectors)
        unknown = set(self._models) - set(self.rules)
        if unknown:
            raise ModelIntegrityError(f"models for rules not in the rule list: {sorted(unknown)}")

    def score_many(self, inputs: Sequence[ScoringInput]) -> list[dict[str, RuleScore]]:
        """One ``{rule_id: RuleScore}`` per input, in order, covering every rule id."""
        items = list(inputs)
        if not items:
            return []
        norms = [normalise(item.text) for item in items]
        counts = self._counts.transform([n.text for n in norms]).tocsr()
        features = self._tfidf.transform(counts).tocsr()
        learned = {
            rule: np.asarray(clf.predict_proba(features)[:, 1], dtype=np.float64)
            for rule, clf in self._models.items()
        }
        results: list[dict[str, RuleScore]] = []
        for k, (item, norm) in enumerate(zip(items, norms, strict=True)):
            scored: dict[str, RuleScore] = {}
            for rule in self.rules:
                p = float(learned[rule][k]) if rule in learned else 0.0
                detected = run_detectors(item, rule, self._detectors, norm)
                spans = list(detected.evidence)
                if p >= EVIDENCE_MIN_SCORE and rule in self._coef:
                    spans += learned_evidence(
                        norm, counts[k], features[k], self._coef[rule], self._counts
                    )
                score = min(1.0, max(0.0, p, detected.score))
                scored[rule] = RuleScore(score, merge_spans(spans))
            results.append(scored)
        return results

    def score(self, item: ScoringInput) -> dict[str, RuleScore]:
        return self.score_many([item])[0]

    def learned_scores(self, texts: Sequence[str]) -> dict[str, NDArray[np.float64]]:
        """Model-only probabilities per learned rule (no detectors); used by evaluation."""
        counts = self._counts.transform([normalise(t).text for t in texts])
        features = self._tfidf.transform(counts)
        return {
            rule: np.asarray(clf.predict_proba(features)[:, 1], dtype=np.float64)
            for rule, clf in self._models.items()
        }


def scorer_from_payload(payload: dict[str, Any], manifest: dict[str, Any] | None = None) -> Scorer:
    """Build a scorer from a loaded artefact.

    Rules the code registry knows but the artefact predates (a newer detector-only rule) are
    still scored, by their detectors alone.
    """
    stored = tuple(payload["rules"])
    rules = stored + tuple(r for r in rule_ids() if r not in stored)
    return Scorer(
        version=str(payload["version"]),
        rules=rules,
        vectoriser=payload["vectoriser"],
        models=dict(payload["models"]),
        manifest=manifest,
    )


def load_scorer(model_dir: Path | None = None) -> Scorer:
    """Load the version named in ``<model_dir>/CURRENT`` after checksum and type checks.

    ``model_dir`` defaults to ``$MODERATION_MODEL_DIR``, else the repository's ``models/``.
    """
    payload, manifest = load_artefact(Path(model_dir) if model_dir else default_model_dir())
    return scorer_from_payload(payload, manifest)
