"""``moderation evaluate``: measure the shipped model and pipeline against fixed targets.

Two kinds of figures, both on rows the evaluated model never trained on:

* **cross-validated** (Civil Comments types, clean and obfuscated; Davidson; SMS spam; YouTube
  spam): every row of those four sets gets a fold (stratified; YouTube by video), and for each
  fold the *whole* training pipeline (:func:`~moderation.classifier.pipeline.fit_payload`, same
  hyper-parameters) is refitted on all training data minus that fold's rows of all four sets.
  The out-of-fold scores are pooled. Folds run two at a time (this is a 2-core machine).
* **shipped model** (Wikipedia toxicity, Jigsaw bias score, madlibs, SemEval spans, speed,
  artefact): the installed version, whose training excluded every text of those files.

Writes ``models/<version>/metrics.json`` (adding an ``evaluation`` entry), regenerates
``MODEL_CARD.md`` and returns non-zero when any figure misses its target.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moderation.classifier.artefact import load_artefact, read_current_version
from moderation.classifier.datasets import (
    Example,
    evaluation_only_keys,
    load_toxicity_fuzz,
    load_training_examples,
    text_key,
)
from moderation.classifier.eval_data import (
    CIVIL_TYPES,
    CvSets,
    assign_folds,
    identity_terms,
    load_cv_sets,
    load_madlibs,
    load_span_test,
    obfuscate,
    term_masks,
)
from moderation.classifier.eval_report import format_table
from moderation.classifier.eval_targets import FPR_THRESHOLD, MIN_SUBGROUP, NOTES, measures
from moderation.classifier.evaluation import (
    auc,
    f1_at_precision,
    f1_score,
    jigsaw_bias_score,
    offsets_from_spans,
    power_mean,
    sanity_scores,
    span_f1,
)
from moderation.classifier.scorer import Scorer, scorer_from_payload
from moderation.classifier.thresholds import Thresholds, choose_thresholds
from moderation.classifier.types import ScoringInput

__all__ = ["N_FOLDS", "TOXIC_RULES", "fold_split", "run_evaluation", "toxicity"]

log = logging.getLogger(__name__)

N_FOLDS = 5
QUICK_FOLDS = (0, 1)
TOXIC_RULES = ("personal-abuse", "threats", "hate", "obscene")
SPAN_RULES = TOXIC_RULES


def toxicity(scorer: Scorer, texts: Sequence[str]) -> NDArray[np.float64]:
    """The toxicity score used for the Wikipedia / bias sets: the artefact's auxiliary toxicity
    model when it has one, else the max of the four toxic rules' final scores."""
    aux = scorer.toxicity_scores(texts)
    if aux is not None:
        return aux
    scores = scorer.rule_scores(texts)
    return np.max(np.vstack([scores[r] for r in TOXIC_RULES]), axis=0)


# --- cross-validation ------------------------------------------------------------------------

# Filled by run_evaluation before the fold pool forks; read by the fold workers.
_STATE: dict[str, Any] = {}


def _fold_plan(sets: CvSets, seed: int) -> dict[str, list[int]]:
    return {
        "civil": assign_folds([r.label for r in sets.civil], N_FOLDS, seed),
        "davidson": assign_folds([r.label for r in sets.davidson], N_FOLDS, seed + 1),
        "sms": assign_folds([r.label for r in sets.sms], N_FOLDS, seed + 2),
        "youtube": [r.group % N_FOLDS for r in sets.youtube],
    }


def fold_split(sets: CvSets, plan: dict[str, list[int]], keys: Sequence[str], fold: int
               ) -> tuple[dict[str, list[int]], list[int]]:
    """(held-out rows of each evaluation set, training rows) of one fold: ``keys`` are the
    training examples' :func:`text_key`; an example whose text is held out in any set is left
    out of training."""
    held = {name: [i for i, f in enumerate(plan[name]) if f == fold] for name in plan}
    held_keys = {
        text_key(getattr(sets, name)[i].text) for name, idx in held.items() for i in idx
    }
    return held, [i for i, k in enumerate(keys) if k not in held_keys]


def _run_fold(fold: int) -> dict[str, Any]:
    sets: CvSets = _STATE["sets"]
    examples: list[Example] = _STATE["examples"]
    seed: int = _STATE["seed"]
    held, rows = fold_split(sets, _STATE["plan"], _STATE["keys"], fold)
    train = [examples[i] for i in rows]
    started = time.perf_counter()
    from moderation.classifier.pipeline import fit_payload

    payload, _ = fit_payload(train, seed, f"cv-{fold}", counts=_STATE["counts"][rows],
                             spam_counts=_STATE["spam_counts"][rows])
    scorer = scorer_from_payload(payload)
    log.info("fold %d: trained on %d rows in %.0f s", fold, len(train),
             time.perf_counter() - started)
    out: dict[str, Any] = {"fold": fold, "held": held, "train_rows": len(train)}
    civil_texts = [sets.civil[i].text for i in held["civil"]]
    out["civil"] = scorer.rule_scores(civil_texts)
    out["civil_obf"] = scorer.rule_scores(
        [obfuscate(t, seed * 100003 + i) for t, i in zip(civil_texts, held["civil"], strict=True)]
    )
    for name in ("davidson", "sms", "youtube"):
        out[name] = scorer.rule_scores([getattr(sets, name)[i].text for i in held[name]])
    tweets = [sets.davidson[i].text for i in held["davidson"]]
    out["davidson"]["toxicity"] = toxicity(scorer, tweets)
    return out


def _pool(name: str, folds: list[dict[str, Any]], n_rows: int) -> tuple[
    NDArray[np.int_], dict[str, NDArray[np.float64]]
]:
    """Gather out-of-fold scores of one set: (row indices scored, scores per rule)."""
    idx = np.concatenate([np.asarray(f["held"][name if name != "civil_obf" else "civil"],
                                     dtype=int) for f in folds])
    rules = folds[0][name].keys()
    scores = {r: np.concatenate([f[name][r] for f in folds]) for r in rules}
    assert idx.size <= n_rows
    return idx, scores


def _cross_validated(sets: CvSets, folds: list[dict[str, Any]]) -> dict[str, Any]:
    res: dict[str, Any] = {"folds": [f["fold"] for f in folds],
                           "train_rows": [f["train_rows"] for f in folds]}
    idx, clean = _pool("civil", folds, len(sets.civil))
    _, obf = _pool("civil_obf", folds, len(sets.civil))
    masks = np.array([sets.civil[i].label for i in idx])
    fold_of = np.concatenate([np.full(len(f["held"]["civil"]), f["fold"]) for f in folds])
    res["civil"], res["civil_obfuscated"] = {}, {}
    for k, (_, rule, short) in enumerate(CIVIL_TYPES):
        y = (masks >> k) & 1
        for key, scores in (("civil", clean), ("civil_obfuscated", obf)):
            per_fold = [auc(y[fold_of == f], scores[rule][fold_of == f]) for f in res["folds"]]
            defined = [a for a in per_fold if a is not None]
            res[key][short] = {
                "rule": rule, "n": int(y.size), "positives": int(y.sum()),
                # The headline: mean of the per-fold AUCs (each fold's model ranks its own
                # held-out comments), as cross_val_score reports it.
                "roc_auc": float(np.mean(defined)) if defined else None,
                "roc_auc_by_fold": per_fold,
                # All out-of-fold scores ranked together: also penalises fold models whose
                # calibrated scales differ.
                "roc_auc_pooled": auc(y, scores[rule]),
            }
    changed = sum(
        obfuscate(sets.civil[i].text, 0) != sets.civil[i].text for i in idx[: min(2000, idx.size)]
    )
    res["civil_obfuscated"]["share_of_comments_changed"] = round(changed / min(2000, idx.size), 3)

    idx, s = _pool("davidson", folds, len(sets.davidson))
    y3 = np.array([sets.davidson[i].label for i in idx])
    # Davidson's "offensive" is offensive language of any kind: the general toxicity score.
    pred = np.where(s["hate"] >= 0.5, 0, np.where(s["toxicity"] >= 0.5, 1, 2))
    f1s = [f1_score(y3 == c, pred == c) for c in (0, 1, 2)]
    res["davidson"] = {"n": int(y3.size), "macro_f1": float(np.mean(f1s)), "hate_f1": f1s[0],
                       "offensive_f1": f1s[1], "neither_f1": f1s[2]}

    thresholds: dict[str, Any] = {}
    for k, (_, rule, short) in enumerate(CIVIL_TYPES):
        thresholds[rule] = choose_thresholds(
            (masks >> k) & 1, clean[rule], f"Civil Comments {short}, out-of-fold").as_dict()
    res["thresholds"] = thresholds

    idx, s = _pool("sms", folds, len(sets.sms))
    y = np.array([sets.sms[i].label for i in idx])
    spam_y, spam_p = [y], [s["spam"]]
    res["sms"] = {"n": int(y.size), "positives": int(y.sum()), "roc_auc": auc(y, s["spam"]),
                  **f1_at_precision(y, s["spam"], 0.99)}

    idx, s = _pool("youtube", folds, len(sets.youtube))
    y = np.array([sets.youtube[i].label for i in idx])
    videos = np.array([sets.youtube[i].group for i in idx])
    spam_y.append(y)
    spam_p.append(s["spam"])
    thresholds["spam"] = choose_thresholds(
        np.concatenate(spam_y), np.concatenate(spam_p), "SMS + YouTube spam, out-of-fold"
    ).as_dict()
    flagged = s["spam"] >= 0.5
    res["youtube"] = {
        "n": int(y.size), "positives": int(y.sum()), "f1": f1_score(y, flagged),
        "roc_auc": auc(y, s["spam"]),
        "f1_by_video": {int(v): f1_score(y[videos == v], flagged[videos == v])
                        for v in sorted(set(videos.tolist()))},
    }
    return res


# --- shipped model ---------------------------------------------------------------------------


def _shipped(scorer: Scorer, data_dir: Path, quick: bool) -> dict[str, Any]:
    res: dict[str, Any] = {
        "toxicity_score": "auxiliary toxicity model"
        if scorer.toxicity_scores(["x"]) is not None
        else "max of the four toxic rules",
    }
    wiki = load_toxicity_fuzz(data_dir, fuzzed=False)
    tox = toxicity(scorer, [t for t, _ in wiki])
    res["wikipedia"] = {"n": len(wiki), "positives": sum(y for _, y in wiki),
                        "roc_auc": auc([y for _, y in wiki], tox)}

    terms = identity_terms(data_dir)
    fuzzed = load_toxicity_fuzz(data_dir, fuzzed=True)
    texts = [t for t, _ in fuzzed]
    y = np.array([lab for _, lab in fuzzed])
    tox = toxicity(scorer, texts)
    groups = {t: np.array(m) for t, m in term_masks(texts, terms).items()
              if sum(m) >= MIN_SUBGROUP}
    bias = jigsaw_bias_score(y, tox, groups)
    res["fuzzed_bias"] = {"n": len(fuzzed), "positives": int(y.sum()), **bias}

    madlibs = load_madlibs(data_dir, terms)
    if quick:
        rng = np.random.default_rng(0)
        keep = sorted(rng.choice(len(madlibs), size=len(madlibs) // 4, replace=False).tolist())
        madlibs = [madlibs[i] for i in keep]
    tox = toxicity(scorer, [t for t, _, _ in madlibs])
    y = np.array([lab for _, lab, _ in madlibs])
    term_of = np.array([term for _, _, term in madlibs])
    per_term: dict[str, dict[str, Any]] = {}
    for term in sorted(set(term_of.tolist()) - {""}):
        g = term_of == term
        bpsn = (g & (y == 0)) | (~g & (y == 1))
        acceptable = g & (y == 0)
        per_term[term] = {
            "n": int(g.sum()),
            "bpsn_auc": auc(y[bpsn], tox[bpsn]),
            "fpr": float((tox[acceptable] >= FPR_THRESHOLD).mean()) if acceptable.any() else None,
            "acceptable": int(acceptable.sum()),
        }
    bpsn_values = [float(v["bpsn_auc"]) for v in per_term.values() if v["bpsn_auc"] is not None]
    fprs = {t: v["fpr"] for t, v in per_term.items() if v["fpr"] is not None}
    floor = 1.0 / max(1, int(np.median([v["acceptable"] for v in per_term.values()])))
    median_fpr = float(np.median(list(fprs.values())))
    worst = max(fprs, key=lambda t: fprs[t])
    res["madlibs"] = {
        "n": len(madlibs), "terms": len(per_term), "overall_auc": auc(y, tox),
        "bpsn_power_mean": power_mean(bpsn_values, -5.0),
        "median_term_fpr": median_fpr, "worst_term": worst, "worst_term_fpr": fprs[worst],
        "fpr_ratio": fprs[worst] / max(median_fpr, floor), "fpr_floor": floor,
        "per_term": per_term,
    }

    res["story_rules"] = _story_rules(scorer)

    spans = load_span_test(data_dir)
    scored = scorer.score_many([ScoringInput(t) for t, _ in spans])
    predicted = [
        offsets_from_spans(sp for rule in SPAN_RULES for sp in s[rule].evidence) for s in scored
    ]
    res["spans"] = {"n": len(spans), "f1": span_f1([g for _, g in spans], predicted)}
    return res


def _story_rules(scorer: Scorer) -> dict[str, Any]:
    """The project's own evaluation file, scored with each comment's story (title and tags)."""
    from moderation.classifier.story import (
        EVAL_FILE,
        STORY_RULES,
        load_examples,
        precision_at_recall,
    )

    rows = load_examples(EVAL_FILE)
    scored = scorer.score_many([ScoringInput(r.text, r.title, r.tags) for r in rows])
    out: dict[str, Any] = {"n": len(rows)}
    for rule in STORY_RULES:
        y = np.array([r.labels[rule] for r in rows], dtype=np.int8)
        p = np.array([s[rule].score for s in scored])
        precision, threshold = precision_at_recall(y, p, 0.9)
        out[rule] = {"positives": int(y.sum()), "roc_auc": auc(y, p),
                     "precision_at_recall_0.9": precision, "threshold": threshold,
                     "thresholds": choose_thresholds(
                         y, p, "project evaluation file (no other held-out data)").as_dict()}
    return out


def _speed(scorer: Scorer, texts: Sequence[str], batch: int = 64) -> dict[str, Any]:
    items = [ScoringInput(t) for t in texts]
    scorer.score_many(items[:batch])  # warm caches
    started = time.perf_counter()
    for k in range(0, len(items), batch):
        scorer.score_many(items[k : k + batch])
    batched = len(items) / (time.perf_counter() - started)
    singles = []
    for item in items[:500]:
        t0 = time.perf_counter()
        scorer.score(item)
        singles.append(time.perf_counter() - t0)
    return {"comments": len(items), "batch": batch, "batched_per_second": batched,
            "single_p50_ms": float(np.percentile(singles, 50) * 1000),
            "single_p99_ms": float(np.percentile(singles, 99) * 1000)}


def _artefact(models_dir: Path, version: str) -> dict[str, Any]:
    manifest = json.loads((models_dir / version / "manifest.json").read_text("utf-8"))
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        load_artefact(models_dir, version)
        loads.append(time.perf_counter() - t0)
    return {"bytes": manifest["bytes"], "megabytes": manifest["bytes"] / 2**20,
            "load_seconds": min(loads), "train_seconds": manifest.get("train_seconds")}


def run_evaluation(
    data_dir: Path, models_dir: Path, *, quick: bool = False, seed: int = 1729,
    workers: int | None = None,
) -> tuple[dict[str, Any], bool]:
    """Measure everything, write metrics.json and MODEL_CARD.md; return (evaluation, all_ok)."""
    started = time.perf_counter()
    data_dir, models_dir = Path(data_dir), Path(models_dir)
    version = read_current_version(models_dir)
    payload, manifest = load_artefact(models_dir, version)
    scorer = scorer_from_payload(payload, manifest)

    sets = load_cv_sets(data_dir)
    examples = load_training_examples(data_dir, evaluation_only_keys(data_dir))
    from moderation.classifier.pipeline import normalised_counts
    from moderation.classifier.spam import spam_counts

    _STATE.update(sets=sets, plan=_fold_plan(sets, seed), examples=examples,
                  keys=[text_key(e.text) for e in examples], seed=seed,
                  counts=normalised_counts(examples),
                  spam_counts=spam_counts([e.text for e in examples]))
    folds_to_run = list(QUICK_FOLDS if quick else range(N_FOLDS))
    workers = workers or min(2, os.cpu_count() or 1)
    if workers > 1 and len(folds_to_run) > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            folds = pool.map(_run_fold, folds_to_run, chunksize=1)
    else:
        folds = [_run_fold(f) for f in folds_to_run]
    _STATE.clear()
    cv = _cross_validated(sets, folds)
    log.info("cross-validation done at %.0f s", time.perf_counter() - started)
    shipped = _shipped(scorer, data_dir, quick)
    speed_texts = [r.text for r in sets.civil[:2000]]
    speed = _speed(scorer, speed_texts)
    art = _artefact(models_dir, version)
    results = measures(cv, shipped, speed, art)
    cmd = "moderation evaluate" + (" --quick" if quick else "")
    notes = list(NOTES)
    if quick:
        notes.append("Quick mode: only folds 0 and 1 of 5 are trained (2/5 of each cross-"
                     "validated set is scored, YouTube videos 1-2 only) and a quarter of the "
                     "madlibs sentences; everything else is identical.")
    thresholds = dict(cv["thresholds"])
    for rule in ("victim-identification", "legal-proceedings", "victim-blaming"):
        thresholds[rule] = shipped["story_rules"][rule]["thresholds"]
    evaluation = {
        "thresholds": thresholds,
        "command": cmd, "mode": "quick" if quick else "full",
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "seconds": time.perf_counter() - started, "seed": seed,
        "measures": results, "notes": notes,
        "cross_validated": cv, "shipped": shipped, "speed": speed, "artefact": art,
    }
    _write(models_dir, version, manifest, evaluation, scorer, data_dir)
    return evaluation, all(m["passed"] for m in results)


def _write(models_dir: Path, version: str, manifest: dict[str, Any],
           evaluation: dict[str, Any], scorer: Scorer, data_dir: Path) -> None:
    from moderation.classifier.model_card import write_model_card

    version_dir = models_dir / version
    path = version_dir / "metrics.json"
    metrics: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    metrics.update(
        version=version,
        artefact_bytes=evaluation["artefact"]["bytes"],
        load_seconds=round(evaluation["artefact"]["load_seconds"], 3),
        train_seconds=manifest.get("train_seconds"),
        sanity_sentences=sanity_scores(scorer),
        evaluation=_rounded(evaluation),
    )
    metrics.setdefault("command", manifest.get("command", ""))
    path.write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")
    write_model_card(version_dir / "MODEL_CARD.md", manifest, metrics, data_dir)


def _rounded(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def policy_thresholds(evaluation: dict[str, Any]) -> dict[str, Thresholds]:
    return {rule: Thresholds(**t) for rule, t in evaluation["thresholds"].items()}


def main(data_dir: Path, models_dir: Path, quick: bool = False,
         write_policy: Path | None = None) -> int:
    evaluation, ok = run_evaluation(data_dir, models_dir, quick=quick)
    print(format_table(_rounded(evaluation)))
    if write_policy is not None:
        from moderation.classifier.thresholds import write_policy_thresholds

        changed = write_policy_thresholds(write_policy, policy_thresholds(evaluation))
        print(f"wrote thresholds of {', '.join(changed)} into {write_policy}")
    return 0 if ok else 1


def perspective_main(data_dir: Path, models_dir: Path) -> int:
    """``--perspective``: the cross-fitted comparison, recorded in the current version's
    metrics.json and model card."""
    from moderation.classifier.perspective_eval import format_report, run_perspective_comparison

    report = run_perspective_comparison(data_dir)
    print(format_report(report))
    record(models_dir, data_dir, "perspective_comparison", report)
    return 0 if report["gn"]["passed"] and report["gc"]["passed"] else 1


def record(models_dir: Path, data_dir: Path, key: str, report: dict[str, Any]) -> None:
    """Keep ``report`` under ``key`` in the current version's metrics.json and rewrite its
    model card."""
    from moderation.classifier.model_card import write_model_card

    version_dir = models_dir / read_current_version(models_dir)
    manifest = json.loads((version_dir / "manifest.json").read_text("utf-8"))
    path = version_dir / "metrics.json"
    metrics: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    metrics[key] = _rounded(report)
    path.write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")
    write_model_card(version_dir / "MODEL_CARD.md", manifest, metrics, data_dir)


def ceilings_main(data_dir: Path, models_dir: Path, with_embeddings: bool) -> int:
    """``--ceilings``: what the data allow for the targets the model misses (ceilings.py)."""
    from moderation.classifier.ceilings import format_ceilings, run_ceilings

    report = run_ceilings(data_dir, with_embeddings=with_embeddings)
    print(format_ceilings(report))
    record(models_dir, data_dir, "ceilings", report)
    return 0
