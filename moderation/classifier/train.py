"""Train, evaluate and install a model version: ``python -m moderation.classifier.train``.

Why one function does it all: a model version is only useful with its metrics and model card,
and CURRENT must never point at a version whose files are incomplete, so ``train_model``
writes everything into ``models/<version>/`` first and switches CURRENT last.

Per learned rule: ``LogisticRegression(class_weight="balanced")`` on shared TF-IDF features,
wrapped in ``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` so probabilities are
Platt-calibrated on out-of-fold predictions while a single model is stored. A stratified 20%
test split is held out before anything is fitted (including the idf weights) and is what the
reported metrics are computed on; the shipped model is the one trained on the other 80%.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import re
import shlex
import sys
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split

from moderation.classifier.artefact import (
    ARTEFACT_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    load_artefact,
    write_artefact,
)
from moderation.classifier.datasets import Example, default_data_dir, load_training_examples
from moderation.classifier.evaluation import evaluate
from moderation.classifier.features import build_vectoriser
from moderation.classifier.model_card import write_model_card
from moderation.classifier.normalise import normalise_text
from moderation.classifier.rules import LEARNED_RULES, rule_ids
from moderation.classifier.scorer import scorer_from_payload

__all__ = ["main", "train_model"]

log = logging.getLogger(__name__)

TEST_SIZE = 0.2
C = 4.0
CALIBRATION_FOLDS = 3
MAX_ARTEFACT_BYTES = 20 * 1024 * 1024


def next_version(models_dir: Path, today: dt.date | None = None) -> str:
    """``YYYY.MM.N`` with N one past the highest existing version of this month."""
    today = today or dt.datetime.now(dt.UTC).date()
    prefix = f"{today:%Y.%m}."
    taken = [
        int(p.name[len(prefix) :])
        for p in models_dir.glob(prefix + "*")
        if p.is_dir() and re.fullmatch(r"\d+", p.name[len(prefix) :])
    ]
    return f"{prefix}{max(taken, default=0) + 1}"


def _split(examples: Sequence[Example], seed: int) -> tuple[list[int], list[int]]:
    """Stratify on source + label pattern so each rule's rare positives land in both splits."""
    keys = [f"{e.source}|{e.labels}" for e in examples]
    counts = Counter(keys)
    keys = [k if counts[k] >= 10 else "rare" for k in keys]
    train, test = train_test_split(
        np.arange(len(examples)), test_size=TEST_SIZE, random_state=seed, stratify=keys
    )
    return sorted(train.tolist()), sorted(test.tolist())


def _fit_rule(rule: str, X: sp.csr_matrix, y: np.ndarray, seed: int) -> CalibratedClassifierCV:
    base = LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", max_iter=1000, random_state=seed
    )
    model = CalibratedClassifierCV(
        base,
        method="sigmoid",
        cv=StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed),
        ensemble=False,
    )
    with warnings.catch_warnings(record=True) as caught:
        # A fold that stops at max_iter is still a usable model: log it rather than fail
        # (the test suite turns every warning into an error).
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X, y)
    for warning in caught:
        log.warning("%s: %s", rule, warning.message)
    for calibrated in model.calibrated_classifiers_:
        # float32 weights halve the artefact; scores change in the 7th decimal place.
        calibrated.estimator.coef_ = calibrated.estimator.coef_.astype(np.float32)
    return model


def _command(data_dir: Path, models_dir: Path, seed: int) -> str:
    return shlex.join(
        [
            "python",
            "-m",
            "moderation.classifier.train",
            "--data",
            str(data_dir),
            "--out",
            str(models_dir),
            "--seed",
            str(seed),
        ]
    )


def train_model(
    data_dir: Path, models_dir: Path, seed: int = 1729, *, version: str | None = None
) -> Path:
    """Train every learned rule, evaluate, write ``models/<version>/`` and update CURRENT."""
    started = time.perf_counter()
    data_dir, models_dir = Path(data_dir), Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    version = version or next_version(models_dir)
    version_dir = models_dir / version
    if version_dir.exists():
        raise FileExistsError(f"{version_dir} already exists; versions are immutable")

    examples = load_training_examples(data_dir)
    texts = [normalise_text(e.text) for e in examples]
    labels = np.array([e.labels for e in examples], dtype=np.int8)
    train_idx, test_idx = _split(examples, seed)
    log.info("%d examples: %d train, %d test", len(examples), len(train_idx), len(test_idx))

    vectoriser = build_vectoriser()
    X = vectoriser.fit_transform([texts[i] for i in train_idx]).tocsr()
    models: dict[str, CalibratedClassifierCV] = {}
    data_summary: dict[str, Any] = {}
    for j, rule in enumerate(LEARNED_RULES):
        y_all = labels[train_idx, j]
        known = y_all >= 0
        models[rule] = _fit_rule(rule, X[known], y_all[known].astype(int), seed)
        data_summary[rule] = {
            "train_examples": int(known.sum()),
            "train_positives": int(y_all[known].sum()),
            "positives_by_source": dict(
                Counter(examples[i].source for i in train_idx if labels[i, j] == 1)
            ),
        }
        log.info("fitted %s (%d examples, %d positive)", rule, known.sum(), y_all[known].sum())

    payload = {
        "format": FORMAT_VERSION,
        "version": version,
        "rules": list(rule_ids()),
        "learned_rules": list(LEARNED_RULES),
        "vectoriser": vectoriser,
        "models": models,
    }
    scorer = scorer_from_payload(payload)
    train_texts = {examples[i].text.lower() for i in train_idx}
    metrics = evaluate(scorer, [examples[i] for i in test_idx], data_dir, train_texts)
    train_seconds = time.perf_counter() - started

    staging = models_dir / f".{version}.partial"
    sha256, size = write_artefact(payload, staging)
    if size > MAX_ARTEFACT_BYTES:
        raise RuntimeError(f"artefact is {size} bytes, over the {MAX_ARTEFACT_BYTES} limit")
    command = _command(data_dir, models_dir, seed)
    manifest: dict[str, Any] = {
        "version": version,
        "artefact": ARTEFACT_NAME,
        "sha256": sha256,
        "bytes": size,
        "format": FORMAT_VERSION,
        "rules": list(rule_ids()),
        "learned_rules": list(LEARNED_RULES),
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "seed": seed,
        "command": command,
        "train_seconds": round(train_seconds, 1),
        "python": platform.python_version(),
        "libraries": _library_versions(),
        "data": data_summary,
        "examples": {"train": len(train_idx), "test": len(test_idx)},
    }
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    staging.rename(version_dir)

    load_started = time.perf_counter()
    load_artefact(models_dir, version)
    load_seconds = time.perf_counter() - load_started
    metrics = {
        "version": version,
        "command": command,
        "artefact_bytes": size,
        "load_seconds": round(load_seconds, 3),
        "train_seconds": round(train_seconds, 1),
        **metrics,
    }
    (version_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")
    write_model_card(version_dir / "MODEL_CARD.md", manifest, metrics, data_dir)

    current_tmp = models_dir / ".CURRENT.tmp"
    current_tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(current_tmp, models_dir / "CURRENT")
    log.info("installed %s (%d bytes, trained in %.0fs)", version, size, train_seconds)
    return version_dir


def _library_versions() -> dict[str, str]:
    import scipy
    import sklearn
    import skops

    return {
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="datasets directory")
    parser.add_argument("--out", type=Path, default=None, help="models directory")
    parser.add_argument("--seed", type=int, default=1729)
    parser.add_argument("--version", default=None, help="override the YYYY.MM.N version")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from moderation.classifier.artefact import default_model_dir

    data_dir = args.data or default_data_dir()
    out = args.out or default_model_dir()
    version_dir = train_model(data_dir, out, args.seed, version=args.version)
    print(version_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
