"""`moderation evaluate` end to end on the synthetic datasets of test_classifier_training.

Checks the plumbing, not the figures: a quick run retrains per fold, writes metrics.json and
the model card, prints a table with every target and exits 1 because a toy model misses some.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from moderation.classifier.evaluate import run_evaluation
from moderation.classifier.train import train_model
from tests.unit.test_classifier_training import MARKERS, Texts, data_dir, write_csv

__all__ = ["data_dir"]  # the fixture, re-exported for pytest


@pytest.fixture(scope="module")
def eval_data_dir(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evaldata") / "datasets"
    shutil.copytree(data_dir, root)
    t = Texts()
    t.rng.seed(11)
    rows = []
    for i in range(20):
        text = t.make(MARKERS["insult"] if i % 2 else "")
        start = text.find("idiot")
        rows.append([json.dumps(list(range(start, start + 5)) if start >= 0 else []), text])
    write_csv(root / "toxic_spans" / "tsd_test.csv", ["spans", "text"], rows)
    train_rows = []
    for i in range(60):
        text = t.make(MARKERS["insult"] if i % 2 else "")
        start = text.find("idiot")
        train_rows.append([json.dumps(list(range(start, start + 5)) if start >= 0 else []),
                           text])
    write_csv(root / "toxic_spans" / "tsd_train.csv", ["spans", "text"], train_rows)
    write_csv(
        root / "bias_madlibs" / "new_madlibber_words.csv",
        ["type", "subtype", "connotation", "word"],
        [["identity", "x", "neutral", w] for w in ("road", "council", "park", "bus")],
    )
    for video in range(2, 6):
        write_csv(
            root / "youtube_spam" / f"0{video}-test.csv",
            ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"],
            [[i, "a", "2013", t.make(MARKERS["spam"] if c else ""), c]
             for i, c in enumerate([1] * 6 + [0] * 6)],
        )
    return root


@pytest.fixture(scope="module")
def models_dir(eval_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("evalmodels")
    train_model(eval_data_dir, models, seed=5)
    return models


def test_quick_evaluation_writes_metrics_and_card(eval_data_dir: Path, models_dir: Path) -> None:
    evaluation, ok = run_evaluation(eval_data_dir, models_dir, quick=True, workers=1)
    version = (models_dir / "CURRENT").read_text().strip()
    metrics = json.loads((models_dir / version / "metrics.json").read_text())
    assert metrics["evaluation"]["mode"] == "quick"
    labels = [m["label"] for m in metrics["evaluation"]["measures"]]
    assert len(labels) == 25 and "SemEval toxic spans char F1" in labels
    assert "own evaluation file: victim-blaming precision at recall 0.9" in labels
    assert ok == all(m["passed"] for m in evaluation["measures"])
    card = (models_dir / version / "MODEL_CARD.md").read_text()
    assert "moderation evaluate --quick" in card and "Jigsaw 2019 bias score" in card
    assert evaluation["cross_validated"]["folds"] == [0, 1]


def test_cli_prints_the_table_and_fails_on_a_missed_target(
    eval_data_dir: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moderation import cli
    from moderation.classifier import evaluate

    monkeypatch.setattr(evaluate, "QUICK_FOLDS", (0,))
    result = CliRunner().invoke(
        cli.main, ["evaluate", "--data", str(eval_data_dir), "--models", str(models_dir),
                   "--quick"],
    )
    assert "Wikipedia toxicity ROC-AUC" in result.output, result.output
    assert "targets met" in result.output
    assert result.exit_code == 1  # a 300-comment toy model misses the targets


def test_training_never_sees_evaluation_only_texts(eval_data_dir: Path) -> None:
    from moderation.classifier.datasets import (
        evaluation_only_keys,
        load_training_examples,
        text_key,
    )

    excluded = evaluation_only_keys(eval_data_dir)
    with (eval_data_dir / "toxic_spans" / "tsd_test.csv").open() as handle:
        span_texts = {text_key(r["text"]) for r in csv.DictReader(handle)}
    assert span_texts <= excluded
    keys = {text_key(e.text) for e in load_training_examples(eval_data_dir, excluded)}
    assert not keys & excluded


def test_the_span_tagger_gives_the_evidence_of_toxic_rules(models_dir: Path) -> None:
    from moderation.classifier import ScoringInput, load_scorer

    scorer = load_scorer(models_dir)
    text = f"{MARKERS['insult']} road council park"
    result = scorer.score(ScoringInput(text))
    flagged = result["personal-abuse"]
    assert flagged.score >= 0.05 and flagged.evidence
    marked = "".join(text[a:b] for a, b in flagged.evidence)
    assert "idiot" in marked and "council" not in marked
