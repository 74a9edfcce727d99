"""Value types shared by the scorer, the detectors and the service.

Kept free of heavy imports so the web process can import them (and the whole
``moderation.classifier`` package) without paying for scikit-learn until a model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ModelIntegrityError", "RuleScore", "ScoringInput"]


@dataclass(frozen=True)
class ScoringInput:
    """One comment to score, with the article it was posted under (used by context rules)."""

    text: str
    article_title: str = ""
    article_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleScore:
    """A rule's calibrated probability and the ``[start, end)`` spans of ``text`` behind it."""

    score: float
    evidence: tuple[tuple[int, int], ...] = ()


class ModelIntegrityError(RuntimeError):
    """The model artefact is missing, altered, or contains types we do not trust; refuse it."""


def merge_spans(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, with overlapping or touching spans joined: evidence reads as whole phrases."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)
