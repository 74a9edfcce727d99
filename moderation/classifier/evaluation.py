"""Metric functions used by ``moderation evaluate`` (and the sanity sentences used by training).

Kept free of data loading and model fitting so each formula can be unit-tested on toy arrays:
ROC-AUC, the Jigsaw 2019 unintended-bias score (subgroup / BPSN / BNSP AUCs and their
generalised power mean), the SemEval-2021 character F1 for toxic spans, and F1 at a precision
floor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from moderation.classifier.types import RuleScore, ScoringInput

__all__ = [
    "SANITY_SENTENCES",
    "auc",
    "bias_aucs",
    "f1_at_precision",
    "f1_score",
    "jigsaw_bias_score",
    "offsets_from_spans",
    "power_mean",
    "sanity_scores",
    "span_f1",
]

SANITY_SENTENCES: tuple[str, ...] = (
    "I know where you live and I will kill you",
    "someone should stab him",
    "Thanks for this article, the council should fix the roads",
    "I was raped at 19 and the police never believed me",
    "As a Muslim woman, I think the council got this one right.",
    "I'm gay and I've lived in this town for thirty years.",
    "As a black man I find this article very moving.",
    "You are a pathetic idiot and everyone here knows it",
    "What a load of f***ing sh1t",
    "What a load of f u c k i n g bullsh*t",
    "Earn £500 a day working from home, visit bit.ly/3xYz12",
    "Call me on 07700 900123 or email jo.bloggs@example.com",
)


class _ScoresMany(Protocol):
    def score_many(self, inputs: Sequence[ScoringInput]) -> list[dict[str, RuleScore]]: ...


def sanity_scores(scorer: _ScoresMany) -> dict[str, dict[str, float]]:
    """Final scores (learned or detector) of a few sentences a person can judge at a glance."""
    scored = scorer.score_many([ScoringInput(t) for t in SANITY_SENTENCES])
    return {
        text: {rule: round(s.score, 4) for rule, s in scores.items()}
        for text, scores in zip(SANITY_SENTENCES, scored, strict=True)
    }


def auc(y: ArrayLike, p: ArrayLike) -> float | None:
    """ROC-AUC (Mann-Whitney, ties count half); ``None`` when only one class is present."""
    y_arr = np.asarray(y, dtype=bool)
    p_arr = np.asarray(p, dtype=np.float64)
    n_pos = int(y_arr.sum())
    n_neg = int(y_arr.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(p_arr, kind="mergesort")
    ranks = np.empty(p_arr.size, dtype=np.float64)
    sorted_p = p_arr[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y_arr].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def power_mean(values: Iterable[float], p: float = -5.0) -> float:
    """Generalised power mean ``(mean(v**p))**(1/p)``; low values dominate for negative p."""
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.size == 0:
        return float("nan")
    return float(np.mean(np.power(arr, p)) ** (1.0 / p))


def bias_aucs(
    y: ArrayLike, p: ArrayLike, in_group: ArrayLike
) -> dict[str, float | int | None]:
    """Subgroup AUC, BPSN and BNSP AUC for one identity subgroup (Borkan et al. 2019).

    BPSN: background positives with subgroup negatives (false positives on the subgroup);
    BNSP: background negatives with subgroup positives (false negatives on the subgroup).
    """
    y_arr = np.asarray(y, dtype=bool)
    p_arr = np.asarray(p, dtype=np.float64)
    g = np.asarray(in_group, dtype=bool)
    bpsn = (g & ~y_arr) | (~g & y_arr)
    bnsp = (g & y_arr) | (~g & ~y_arr)
    return {
        "n": int(g.sum()),
        "positives": int((g & y_arr).sum()),
        "subgroup_auc": auc(y_arr[g], p_arr[g]),
        "bpsn_auc": auc(y_arr[bpsn], p_arr[bpsn]),
        "bnsp_auc": auc(y_arr[bnsp], p_arr[bnsp]),
    }


def jigsaw_bias_score(
    y: ArrayLike, p: ArrayLike, groups: Mapping[str, ArrayLike], p_mean: float = -5.0,
    overall_weight: float = 0.25,
) -> dict[str, Any]:
    """The Jigsaw Unintended Bias in Toxicity Classification (2019) final metric.

    ``0.25 * overall AUC + 0.75 * mean over (subgroup, BPSN, BNSP) of the power mean (p=-5)
    of that AUC across subgroups``. Subgroups whose AUCs are undefined (one class only) are
    skipped for that AUC and reported.
    """
    y_arr = np.asarray(y, dtype=bool)
    p_arr = np.asarray(p, dtype=np.float64)
    per_group = {name: bias_aucs(y_arr, p_arr, mask) for name, mask in groups.items()}
    means: dict[str, float] = {}
    for key in ("subgroup_auc", "bpsn_auc", "bnsp_auc"):
        vals = [float(v[key]) for v in per_group.values() if v[key] is not None]  # type: ignore[arg-type]
        means[key] = power_mean(vals, p_mean)
    overall = auc(y_arr, p_arr)
    score = overall_weight * float(overall or 0.0) + (1 - overall_weight) * float(
        np.mean(list(means.values()))
    )
    return {
        "score": score,
        "overall_auc": overall,
        "power_means": means,
        "subgroups": per_group,
    }


def f1_score(y: ArrayLike, predicted: ArrayLike) -> float:
    y_arr = np.asarray(y, dtype=bool)
    pred = np.asarray(predicted, dtype=bool)
    tp = int((y_arr & pred).sum())
    fp = int((~y_arr & pred).sum())
    fn = int((y_arr & ~pred).sum())
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def f1_at_precision(y: ArrayLike, p: ArrayLike, min_precision: float) -> dict[str, float]:
    """Best F1 over thresholds whose precision is at least ``min_precision``."""
    y_arr = np.asarray(y, dtype=bool)
    p_arr = np.asarray(p, dtype=np.float64)
    order = np.argsort(-p_arr, kind="mergesort")
    ys, ps = y_arr[order], p_arr[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(~ys)
    # Only cut between distinct scores.
    last_of_tie = np.r_[ps[1:] != ps[:-1], True]
    best = {"f1": 0.0, "threshold": 1.0, "precision": 1.0, "recall": 0.0}
    total = max(int(y_arr.sum()), 1)
    for i in np.flatnonzero(last_of_tie):
        precision = tp[i] / (tp[i] + fp[i])
        recall = tp[i] / total
        if precision >= min_precision and precision + recall > 0:
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best["f1"]:
                best = {
                    "f1": float(f1),
                    "threshold": float(ps[i]),
                    "precision": float(precision),
                    "recall": float(recall),
                }
    return best


def span_f1(gold: Sequence[set[int]], predicted: Sequence[set[int]]) -> float:
    """SemEval-2021 Task 5 character F1: per-comment F1 averaged; both empty counts 1."""
    scores: list[float] = []
    for g, p in zip(gold, predicted, strict=True):
        if not g and not p:
            scores.append(1.0)
        elif not g or not p:
            scores.append(0.0)
        else:
            inter = len(g & p)
            scores.append(2 * inter / (len(g) + len(p)))
    return float(np.mean(scores)) if scores else float("nan")


def offsets_from_spans(spans: Iterable[tuple[int, int]]) -> set[int]:
    out: set[int] = set()
    for start, end in spans:
        out.update(range(start, end))
    return out

