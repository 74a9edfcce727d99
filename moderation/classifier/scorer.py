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
from moderation.classifier.detectors import DETECTORS, Detector, detectors_for, run_detectors
from moderation.classifier.evidence import batch_counts, batch_evidence
from moderation.classifier.normalise import normalise
from moderation.classifier.rules import rule_ids
from moderation.classifier.story import gate
from moderation.classifier.story_cues import StoryCues, cue_fingerprint
from moderation.classifier.types import (
    ModelIntegrityError,
    RuleScore,
    ScoringInput,
    merge_spans,
)

__all__ = ["EVIDENCE_MIN_SCORE", "Scorer", "load_scorer", "scorer_from_payload"]

EVIDENCE_MIN_SCORE = 0.05
# Rules whose evidence the span tagger gives (it was trained on toxic spans of any kind).
TAGGED_RULES = ("personal-abuse", "threats", "hate", "obscene")


def _fast_linear(classifier: Any) -> tuple[NDArray[np.float64], float, float, float] | None:
    """(coef, intercept, a, b) when ``classifier`` is one Platt-calibrated linear model.

    ``predict_proba`` of such a model is ``expit(-(a * (x @ coef + intercept) + b))``; computing
    that directly skips scikit-learn's per-call input validation (about 1.4 ms per rule for a
    single comment). The scorer checks the shortcut against ``predict_proba`` when it loads.
    """
    try:
        (calibrated,) = classifier.calibrated_classifiers_
        (calibrator,) = calibrated.calibrators
        if getattr(calibrated, "method", "sigmoid") != "sigmoid":
            return None
        estimator = calibrated.estimator
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        if coef.shape[0] != 1 or list(classifier.classes_) != [0, 1]:
            return None
        return (
            coef[0],
            float(np.asarray(estimator.intercept_).ravel()[0]),
            float(calibrator.a_),
            float(calibrator.b_),
        )
    except (AttributeError, ValueError, TypeError):
        return None


def _coefficients(classifier: Any) -> NDArray[np.float32]:
    """The logistic-regression weights behind a calibrated classifier (mean over folds)."""
    estimators = [c.estimator for c in classifier.calibrated_classifiers_]
    return np.mean([e.coef_[0] for e in estimators], axis=0).astype(np.float32)


class _DirectUnion:
    """The fitted ``counts`` FeatureUnion, called block by block.

    Same output as ``FeatureUnion.transform`` (the blocks hstacked into CSR) without its
    joblib dispatch, which costs about a millisecond per call for a single comment.
    """

    def __init__(self, union: Any) -> None:
        self.union = union
        self.transformer_list = union.transformer_list
        self.transformer_weights = union.transformer_weights
        self._direct = not union.transformer_weights and all(
            t not in (None, "drop", "passthrough") for _, t in union.transformer_list
        )

    def transform(self, raw: list[str]) -> Any:
        if not self._direct:
            return self.union.transform(raw)
        import scipy.sparse as sp

        return sp.hstack([t.transform(raw) for _, t in self.transformer_list]).tocsr()


# How much the parent post may lift a reply's TOXICITY (see ``toxicity_in_context``).
CONTEXT_WEIGHT = 1.0


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
        auxiliary: dict[str, Any] | None = None,
        story_models: dict[str, Any] | None = None,
        span_tagger: dict[str, Any] | None = None,
        spam_model: dict[str, Any] | None = None,
    ) -> None:
        self.version = version
        self.rules: tuple[str, ...] = tuple(rules)
        self.manifest: dict[str, Any] = dict(manifest or {})
        counts = vectoriser.named_steps["counts"]
        self._counts = _DirectUnion(counts) if hasattr(counts, "transformer_list") else counts
        self._tfidf = vectoriser.named_steps["tfidf"]
        # Story rules are linear models over the same features, scored in the same pass and
        # then gated by each comment's story (``story.gate``).
        self._story = tuple(story_models or {})
        # Evidence for the toxic rules comes from the span tagger when the artefact has one:
        # trained on human-marked toxic spans, it points at the words a moderator would.
        self._span_tagger = span_tagger
        # The spam rule's own model on the raw text replaces the shared model's spam score.
        self._spam_model = spam_model
        self._models = {**models, **(story_models or {})}
        # Story models may also weigh cue features (``story.StoryCues``): columns after the
        # shared ones, computed per batch from the same counts plus the headline.
        self._n_shared = int(self._tfidf.idf_.shape[0])
        full = {rule: _coefficients(clf) for rule, clf in self._models.items()}
        self._cue_width = {rule: len(c) - self._n_shared for rule, c in full.items()}
        self._story_cues = self._cues_for(vectoriser, story_models or {})
        self._coef = {rule: c[: self._n_shared] for rule, c in full.items()}
        self._coef_rules = list(self._coef)
        self._weights = (
            np.column_stack([self._coef[r] for r in self._coef_rules]).astype(np.float64)
            if self._coef
            else np.zeros((0, 0))
        )
        self._detectors = tuple(detectors)
        self._auxiliary = dict(auxiliary or {})
        unknown = set(self._models) - set(self.rules)
        if unknown:
            raise ModelIntegrityError(f"models for rules not in the rule list: {sorted(unknown)}")
        self._fast = self._build_fast_path()

    def _cues_for(self, vectoriser: Any, story_models: dict[str, Any]) -> StoryCues | None:
        """The cue extractor when any story model was fitted with cues (same definitions)."""
        prints = {getattr(m, "story_cues_", None) for m in story_models.values()} - {None}
        if not prints:
            return None
        if prints != {cue_fingerprint()}:
            raise ModelIntegrityError(
                f"story models were fitted with other cue definitions ({sorted(map(str, prints))}"
                f", this code has {cue_fingerprint()})")
        cues = StoryCues(vectoriser)
        for rule, model in story_models.items():
            width = self._cue_width[rule]
            if width != (cues.n_features if hasattr(model, "story_cues_") else 0):
                raise ModelIntegrityError(f"story model {rule} has {width} cue weights, "
                                          f"expected {cues.n_features}")
        return cues

    def _build_fast_path(self) -> tuple[NDArray[np.float64], NDArray[np.float64] | None,
                                        NDArray[np.float64], NDArray[np.float64],
                                        NDArray[np.float64]] | None:
        """Stacked (weights, cue weights, intercepts, a, b) of every learned rule, or None to
        use sklearn. Cue weights are zero for rules without cue features."""
        if not self._models or self._coef_rules != list(self._models):
            return None
        parts = [_fast_linear(self._models[r]) for r in self._coef_rules]
        if any(p is None for p in parts):
            return None
        n_cues = self._story_cues.n_features if self._story_cues is not None else 0
        cue_weights = np.zeros((n_cues, len(parts)))
        for j, part in enumerate(parts):
            if part is not None and part[0].shape[0] > self._n_shared:
                cue_weights[:, j] = part[0][self._n_shared:]
        fast = (
            np.column_stack([p[0][: self._n_shared] for p in parts if p is not None]),
            cue_weights if n_cues else None,
            np.array([p[1] for p in parts if p is not None]),
            np.array([p[2] for p in parts if p is not None]),
            np.array([p[3] for p in parts if p is not None]),
        )
        # Check the shortcut on random sparse rows (and random cue rows) before trusting it.
        import scipy.sparse as sp

        probe = sp.random(8, self._n_shared, density=0.001, format="csr", random_state=0,
                          dtype=np.float64)
        cues = np.random.default_rng(0).random((8, n_cues)) if n_cues else None
        expected = np.column_stack([
            self._model_proba(rule, probe, cues) for rule in self._coef_rules
        ])
        if not np.allclose(self._apply_fast(fast, probe, cues), expected, atol=1e-9):
            return None
        return fast

    def _model_proba(self, rule: str, features: Any, cues: NDArray[np.float64] | None
                     ) -> NDArray[np.float64]:
        """scikit-learn's probability of one learned rule (cue columns appended if it has
        them)."""
        clf = self._models[rule]
        if self._cue_width[rule] > 0:
            import scipy.sparse as sp

            if cues is None:
                raise ValueError(f"{rule} needs cue features")
            features = sp.hstack([features, sp.csr_matrix(cues)]).tocsr()
        return np.asarray(clf.predict_proba(features)[:, 1], dtype=np.float64)

    @staticmethod
    def _apply_fast(fast: tuple[Any, ...], features: Any,
                    cues: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        weights, cue_weights, intercepts, a, b = fast
        logits = np.asarray(features @ weights, dtype=np.float64) + intercepts
        if cue_weights is not None and cues is not None:
            logits += cues @ cue_weights
        proba = 1.0 / (1.0 + np.exp(a * logits + b))
        proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def _cues(self, counts: Any, normalised: Sequence[str],
              titles: Sequence[str]) -> NDArray[np.float64] | None:
        if self._story_cues is None:
            return None
        return self._story_cues.transform(counts, normalised, titles)

    def _learned(self, features: Any, cues: NDArray[np.float64] | None = None
                 ) -> dict[str, NDArray[np.float64]]:
        if self._fast is not None:
            proba = self._apply_fast(self._fast, features, cues)
            return {rule: proba[:, j] for j, rule in enumerate(self._coef_rules)}
        return {rule: self._model_proba(rule, features, cues) for rule in self._models}

    def score_many(self, inputs: Sequence[ScoringInput]) -> list[dict[str, RuleScore]]:
        """One ``{rule_id: RuleScore}`` per input, in order, covering every rule id."""
        return self.score_with_auxiliary(inputs, auxiliary=False)[0]

    @property
    def auxiliary_names(self) -> tuple[str, ...]:
        return tuple(self._auxiliary)

    def score_with_auxiliary(
        self, inputs: Sequence[ScoringInput], auxiliary: bool = True
    ) -> tuple[list[dict[str, RuleScore]], dict[str, NDArray[np.float64]]]:
        """Rule scores as :meth:`score_many`, plus the auxiliary models' scores (TOXICITY,
        SEVERE_TOXICITY) of the same comments from the same features."""
        items = list(inputs)
        if not items:
            return [], {}
        norms = [normalise(item.text) for item in items]
        counts = batch_counts(self._counts, [n.text for n in norms])
        features = self._tfidf.transform(counts).tocsr()
        extra = ({name: np.asarray(model.predict_proba(features)[:, 1], dtype=np.float64)
                  for name, model in self._auxiliary.items()} if auxiliary else {})
        titles = [item.article_title for item in items]
        cues = self._cues(counts, [n.text for n in norms], titles)
        learned = self._with_spam(self._learned(features, cues), [item.text for item in items])
        if self._story:
            tags = [item.article_tags for item in items]
            for rule in self._story:
                learned[rule] = gate(rule, learned[rule], tags, titles)
        wanted = [
            (k, c)
            for c, rule in enumerate(self._coef_rules)
            for k in np.flatnonzero(learned[rule] >= EVIDENCE_MIN_SCORE).tolist()
        ]
        tagged = self._tagged_spans(items, norms, learned)
        if tagged:
            wanted = [(k, c) for k, c in wanted
                      if not (k in tagged and self._coef_rules[c] in TAGGED_RULES)]
        evidence = batch_evidence(norms, counts, features, self._weights, self._counts, wanted)
        for k, spans in tagged.items():
            for c, rule in enumerate(self._coef_rules):
                if rule in TAGGED_RULES and learned[rule][k] >= EVIDENCE_MIN_SCORE:
                    evidence[(k, c)] = tuple(spans)
        evidence.update(self._identifying_evidence(items, norms, learned))
        results: list[dict[str, RuleScore]] = []
        for k, (item, norm) in enumerate(zip(items, norms, strict=True)):
            scored: dict[str, RuleScore] = {}
            for rule in self.rules:
                p = float(learned[rule][k]) if rule in learned else 0.0
                detected = run_detectors(item, rule, self._detectors, norm)
                spans = list(detected.evidence)
                if rule in self._coef:
                    spans += evidence.get((k, self._coef_rules.index(rule)), ())
                score = min(1.0, max(0.0, p, detected.score))
                scored[rule] = RuleScore(score, merge_spans(spans))
            results.append(scored)
        return results, extra

    def _identifying_evidence(self, items: Sequence[ScoringInput], norms: Sequence[Any],
                              learned: dict[str, NDArray[np.float64]]
                              ) -> dict[tuple[int, int], tuple[tuple[int, int], ...]]:
        """For victim identification, the details that point at a person (names, streets,
        workplaces, relatives) rather than the words that raised its score, where found."""
        rule = "victim-identification"
        if rule not in learned or rule not in self._coef:
            return {}
        from moderation.classifier.story_cues import identifying_spans

        column = self._coef_rules.index(rule)
        found = {}
        for k in np.flatnonzero(learned[rule] >= EVIDENCE_MIN_SCORE).tolist():
            spans = identifying_spans(norms[k], items[k].text, items[k].article_title)
            if spans:
                found[(k, column)] = tuple(spans)
        return found

    def _tagged_spans(self, items: Sequence[ScoringInput], norms: Sequence[Any],
                      learned: dict[str, NDArray[np.float64]]) -> dict[int, list[tuple[int, int]]]:
        """Tagger spans of the comments where a toxic rule reaches the evidence floor."""
        if self._span_tagger is None:
            return {}
        from moderation.classifier.spans import tagger_spans_normalised

        rules = [r for r in TAGGED_RULES if r in learned]
        if not rules:
            return {}
        top = np.max(np.vstack([learned[r] for r in rules]), axis=0)
        chosen = np.flatnonzero(top >= EVIDENCE_MIN_SCORE).tolist()
        if not chosen:
            return {}
        spans = tagger_spans_normalised(self._span_tagger, [norms[k] for k in chosen],
                                        [items[k].text for k in chosen])
        return {k: s for k, s in zip(chosen, spans, strict=True) if s}

    def score(self, item: ScoringInput) -> dict[str, RuleScore]:
        return self.score_many([item])[0]

    def learned_scores(self, texts: Sequence[str]) -> dict[str, NDArray[np.float64]]:
        """Model-only probabilities per learned rule (no detectors); used by evaluation."""
        normalised = [normalise(t).text for t in texts]
        counts = self._counts.transform(normalised)
        cues = self._cues(counts, normalised, [""] * len(normalised))
        return self._with_spam(self._learned(self._tfidf.transform(counts), cues), texts)

    def _with_spam(self, learned: dict[str, NDArray[np.float64]],
                   raw_texts: Sequence[str]) -> dict[str, NDArray[np.float64]]:
        if self._spam_model is not None and "spam" in learned:
            from moderation.classifier.spam import spam_probabilities

            learned["spam"] = spam_probabilities(self._spam_model, raw_texts)
        return learned


    def toxicity_in_context(self, text: str, parent: str) -> float:
        """TOXICITY of a reply read after the post it answers: the reply alone, or the two read
        together at :data:`CONTEXT_WEIGHT`, whichever is higher (``perspective_eval`` measures
        it on the posts whose raters saw the parent)."""
        scores = self.toxicity_scores([text, f"{parent}\n{text}"])
        if scores is None:
            raise ValueError("this model has no TOXICITY model")
        return float(max(scores[0], CONTEXT_WEIGHT * scores[1]))

    def toxicity_scores(self, texts: Sequence[str]) -> NDArray[np.float64] | None:
        """The auxiliary general-toxicity model's probabilities, if the artefact has one."""
        model = self._auxiliary.get("toxicity")
        if model is None:
            return None
        features = self._tfidf.transform(self._counts.transform([normalise(t).text for t in texts]))
        return np.asarray(model.predict_proba(features)[:, 1], dtype=np.float64)

    def rule_scores(self, texts: Sequence[str]) -> dict[str, NDArray[np.float64]]:
        """Final per-rule scores (max of learned and detectors) without evidence; evaluation."""
        learned = self.learned_scores(texts)
        out: dict[str, NDArray[np.float64]] = {}
        items = [ScoringInput(t) for t in texts]
        norms = [normalise(t) for t in texts]
        for rule in self.rules:
            base = learned.get(rule, np.zeros(len(items)))
            if not detectors_for(rule, self._detectors):
                out[rule] = base
                continue
            detected = np.array(
                [run_detectors(i, rule, self._detectors, n).score for i, n in zip(items, norms,
                                                                                   strict=True)],
                dtype=np.float64,
            )
            out[rule] = np.clip(np.maximum(base, detected), 0.0, 1.0)
        return out


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
        auxiliary=dict(payload.get("auxiliary") or {}),
        story_models=dict(payload.get("story_models") or {}),
        span_tagger=payload.get("span_tagger"),
        spam_model=payload.get("spam_model"),
    )


def load_scorer(model_dir: Path | None = None) -> Scorer:
    """Load the version named in ``<model_dir>/CURRENT`` after checksum and type checks.

    ``model_dir`` defaults to ``$MODERATION_MODEL_DIR``, else the repository's ``models/``.
    """
    payload, manifest = load_artefact(Path(model_dir) if model_dir else default_model_dir())
    return scorer_from_payload(payload, manifest)
