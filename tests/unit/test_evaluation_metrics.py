"""The metric formulas behind `moderation evaluate`, checked on toy numbers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from moderation.classifier.eval_data import assign_folds, obfuscate, term_masks
from moderation.classifier.evaluation import (
    auc,
    bias_aucs,
    f1_at_precision,
    jigsaw_bias_score,
    power_mean,
    span_f1,
)
from moderation.classifier.normalise import normalise_text


def test_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300), 1)  # many ties
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert auc([1, 1], [0.2, 0.3]) is None


def test_power_mean_is_pulled_towards_the_worst_value() -> None:
    assert power_mean([0.9, 0.9]) == pytest.approx(0.9)
    assert power_mean([0.5, 1.0], -5) < 0.6


def test_bias_aucs_expose_a_subgroup_scored_too_high() -> None:
    # Subgroup negatives score like background positives: BPSN collapses, BNSP does not.
    y = np.array([1, 1, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.1, 0.2, 0.95, 0.85])
    g = np.array([0, 0, 0, 0, 1, 1], dtype=bool)
    res = bias_aucs(y, p, g)
    assert res["subgroup_auc"] == 1.0
    assert res["bnsp_auc"] == 1.0
    assert res["bpsn_auc"] is not None and res["bpsn_auc"] <= 0.5


def test_jigsaw_score_of_a_perfect_model_is_one() -> None:
    y = np.array([0, 1] * 10)
    p = y * 0.5 + 0.25
    groups = {"a": np.arange(20) < 10, "b": np.arange(20) >= 10}
    assert jigsaw_bias_score(y, p, groups)["score"] == pytest.approx(1.0)


def test_f1_at_precision_picks_the_best_threshold_meeting_the_floor() -> None:
    y = np.array([1, 1, 1, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    best = f1_at_precision(y, p, 0.99)
    assert best["precision"] == 1.0 and best["recall"] == 0.75
    assert best["f1"] == pytest.approx(2 * 0.75 / 1.75)


def test_span_f1_follows_semeval() -> None:
    assert span_f1([set(), {1, 2}], [set(), {2, 3}]) == pytest.approx((1.0 + 0.5) / 2)
    assert span_f1([{1}], [set()]) == 0.0


def test_folds_are_stratified_and_seeded() -> None:
    keys = [0] * 50 + [1] * 10
    folds = assign_folds(keys, 5, 3)
    assert folds == assign_folds(keys, 5, 3)
    for f in range(5):
        assert sum(1 for k, g in zip(keys, folds, strict=True) if g == f and k == 1) == 2


def test_obfuscation_disguises_obscenities_only_and_the_normaliser_undoes_most() -> None:
    text = "what the fuck is this shit, said the assistant"
    seen = {obfuscate(text, seed) for seed in range(40)}
    assert all("assistant" in s for s in seen)
    assert all("fuck" not in s or "shit" not in s for s in seen)
    undone = sum(normalise_text(s).count("fuck") + normalise_text(s).count("shit") for s in seen)
    assert undone >= 0.9 * 2 * len(seen)


def test_identity_terms_match_whole_words() -> None:
    masks = term_masks(["A gay man", "gaylord", "african american food"], ["gay", "african",
                                                                        "african american"])
    assert masks["gay"] == [True, False, False]
    assert masks["african american"] == [False, False, True]
    assert masks["african"] == [False, False, False]
