"""Train and install a model version: ``python -m moderation.classifier.train``.

Why one function does it all: a model version is only useful with its metrics and model card,
and CURRENT must never point at a version whose files are incomplete, so ``train_model``
writes everything into ``models/<version>/`` first and switches CURRENT last.

The shipped model is fitted on every training row except those any evaluation reads
(:func:`~moderation.classifier.datasets.evaluation_only_keys`); its held-out and cross-validated
figures come from ``moderation evaluate``, which retrains the same pipeline per fold and
rewrites ``metrics.json`` and ``MODEL_CARD.md``. Training itself records only the training
summary and the sanity sentences.
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moderation.classifier.artefact import (
    ARTEFACT_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    load_artefact,
    write_artefact,
)
from moderation.classifier.datasets import (
    default_data_dir,
    evaluation_only_keys,
    load_training_examples,
)
from moderation.classifier.evaluation import sanity_scores
from moderation.classifier.model_card import write_model_card
from moderation.classifier.pipeline import fit_payload, hyperparameters
from moderation.classifier.rules import LEARNED_RULES, rule_ids
from moderation.classifier.scorer import scorer_from_payload

__all__ = ["MAX_ARTEFACT_BYTES", "main", "train_model"]

log = logging.getLogger(__name__)

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
    """Train every learned rule, write ``models/<version>/`` and update CURRENT."""
    started = time.perf_counter()
    data_dir, models_dir = Path(data_dir), Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    version = version or next_version(models_dir)
    version_dir = models_dir / version
    if version_dir.exists():
        raise FileExistsError(f"{version_dir} already exists; versions are immutable")

    excluded = evaluation_only_keys(data_dir)
    examples = load_training_examples(data_dir, excluded)
    log.info("%d training examples (%d evaluation-only texts excluded)", len(examples),
             len(excluded))
    payload, data_summary = fit_payload(examples, seed, version)
    payload["span_tagger"], data_summary["span_tagger"] = _fit_span_tagger(data_dir, seed)
    scorer = scorer_from_payload(payload)
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
        "hyperparameters": hyperparameters(),
        "data": data_summary,
        "examples": {"train": len(examples), "evaluation_only_excluded": len(excluded)},
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
        "sanity_sentences": sanity_scores(scorer),
    }
    (version_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")
    write_model_card(version_dir / "MODEL_CARD.md", manifest, metrics, data_dir)

    current_tmp = models_dir / ".CURRENT.tmp"
    current_tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(current_tmp, models_dir / "CURRENT")
    log.info("installed %s (%d bytes, trained in %.0fs)", version, size, train_seconds)
    return version_dir


def _fit_span_tagger(data_dir: Path, seed: int) -> tuple[Any, dict[str, Any]]:
    """The evidence-span tagger (``spans.py``), trained on the SemEval train and trial sets
    and the ACL-2022 comments in no SemEval file; the span test set is never read here.
    Only the shipped model has one: cross-validation folds measure the rules, not spans."""
    from moderation.classifier.spans import (
        fit_span_tagger,
        load_extra_span_rows,
        load_span_rows,
    )

    base = data_dir / "toxic_spans"
    if not all((base / name).is_file() for name in ("tsd_train.csv", "tsd_test.csv")):
        log.warning("no SemEval span files: evidence comes from the rule models only")
        return None, {"rows": 0}
    files = tuple(n for n in ("tsd_train.csv", "tsd_trial.csv") if (base / n).is_file())
    rows = load_span_rows(data_dir, files=files)
    extra = load_extra_span_rows(data_dir) if (base / "data_comments.csv").is_file() else []
    tagger = fit_span_tagger(rows, seed=seed, extra_rows=extra)
    return tagger, {"rows": len(rows), "extra_rows": len(extra),
                    "cross_validated_f1": round(float(tagger["cv"]["f1"]), 4)}


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
