"""Comment classifier: rule scores with evidence for the moderation service.

Public interface (what the service calls)::

    scorer = load_scorer()                     # models/CURRENT, checksum + type allow-list
    scorer.score(ScoringInput("..."))          # {rule_id: RuleScore(score, evidence)}
    scorer.score_many([...])                   # vectorised
    train_model(data_dir, models_dir, seed)    # writes models/<version>/, updates CURRENT

Importing this package does no work: no model is read and scikit-learn is only imported when
a scorer is loaded or a model trained, so the web process starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from moderation.classifier.artefact import default_model_dir
from moderation.classifier.datasets import default_data_dir
from moderation.classifier.rules import RULES, RuleSpec, rule_ids
from moderation.classifier.types import ModelIntegrityError, RuleScore, ScoringInput

if TYPE_CHECKING:
    from moderation.classifier.scorer import Scorer

__all__ = [
    "RULES",
    "ModelIntegrityError",
    "RuleScore",
    "RuleSpec",
    "Scorer",
    "ScoringInput",
    "default_data_dir",
    "default_model_dir",
    "default_models_dir",
    "load_scorer",
    "rule_ids",
    "train_model",
]


# The CLI's spelling; same function.
default_models_dir = default_model_dir


def load_scorer(model_dir: Path | None = None) -> Scorer:
    """Load the installed model; see :func:`moderation.classifier.scorer.load_scorer`."""
    from moderation.classifier.scorer import load_scorer as _load

    return _load(model_dir)


def train_model(data_dir: Path, models_dir: Path, seed: int = 1729) -> Path:
    """Train and install a new version; see :func:`moderation.classifier.train.train_model`."""
    from moderation.classifier.train import train_model as _train

    return _train(data_dir, models_dir, seed)


def __getattr__(name: str) -> object:
    # ``Scorer`` lives with scikit-learn-dependent code; import it only when asked for.
    if name == "Scorer":
        from moderation.classifier.scorer import Scorer

        return Scorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
