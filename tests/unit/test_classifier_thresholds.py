"""Thresholds chosen from held-out scores, and written into a policy file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

from moderation.classifier.thresholds import choose_thresholds, write_policy_thresholds
from moderation.policy.rules import DEFAULT_RULES_FILE


def test_review_threshold_keeps_recall_and_reject_threshold_keeps_precision() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(100), np.zeros(900)].astype(int)
    scores = np.r_[rng.uniform(0.3, 1.0, 100), rng.uniform(0.0, 0.6, 900)]
    t = choose_thresholds(y, scores, "synthetic")
    flagged = scores >= t.review
    assert (flagged & (y == 1)).sum() / 100 >= 0.9
    assert t.reject is not None and t.reject >= t.review
    held = scores >= t.reject
    assert (held & (y == 1)).sum() / held.sum() >= 0.97
    # Anything below the reject threshold would fall under the precision aim.
    assert t.reject > 0.5


def test_no_automatic_rejection_when_precision_is_never_reached() -> None:
    y = np.array([1, 0] * 50)
    scores = np.linspace(1, 0, 100)
    t = choose_thresholds(y, scores, "coin flips")
    assert t.reject is None and t.review > 0


def test_policy_file_keeps_its_comments_and_gets_the_new_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES_FILE.read_text())
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(100), np.zeros(900)].astype(int)
    separable = np.r_[rng.uniform(0.3, 1.0, 100), rng.uniform(0.0, 0.6, 900)]
    chosen = {
        "threats": choose_thresholds(y, separable, "x"),
        "hate": choose_thresholds(np.array([1, 0] * 50), np.linspace(1, 0, 100), "x"),
    }
    assert chosen["threats"].reject is not None and chosen["hate"].reject is None
    assert sorted(write_policy_thresholds(path, chosen)) == ["hate", "threats"]
    text = path.read_text()
    assert text.startswith("# The default community rules")
    rules = {r["id"]: r for r in tomllib.loads(text)["rules"]}
    assert rules["threats"]["review_threshold"] == chosen["threats"].review
    assert rules["threats"]["reject_threshold"] == chosen["threats"].reject
    assert rules["hate"]["review_threshold"] == chosen["hate"].review
    assert "reject_threshold" not in rules["hate"]
    # Untouched rules and tag overrides stay as they were.
    before = {r["id"]: r for r in tomllib.loads(DEFAULT_RULES_FILE.read_text())["rules"]}
    assert rules["spam"] == before["spam"]
    assert rules["victim-blaming"]["tags"] == before["victim-blaming"]["tags"]
