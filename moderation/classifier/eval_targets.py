"""The targets ``moderation evaluate`` checks, and how each figure is computed (for the card).

One list so the console table, metrics.json and the model card always agree on which figure
has which target; the baselines are the plain TF-IDF + logistic-regression figures measured
before this pipeline.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CIVIL_TARGETS", "FPR_THRESHOLD", "MIN_SUBGROUP", "NOTES", "measures"]

# Civil Comments type -> (target ROC-AUC, plain baseline).
CIVIL_TARGETS: dict[str, tuple[float, float]] = {
    "insult": (0.75, 0.714), "threat": (0.90, 0.872),
    "identity attack": (0.85, 0.803), "profane": (0.89, 0.850)}
FPR_THRESHOLD = 0.5
MIN_SUBGROUP = 10  # fuzzed-set identity subgroups smaller than this are too noisy to score


def measures(cv: dict[str, Any], shipped: dict[str, Any], speed: dict[str, Any],
             art: dict[str, Any]) -> list[dict[str, Any]]:
    def m(label: str, value: Any, op: str, target: float, baseline: Any = None,
          unit: str = "") -> dict[str, Any]:
        ok = value is not None and (value >= target if op == ">=" else value <= target)
        return {"label": label, "value": value, "op": op, "target": target,
                "baseline": baseline, "passed": bool(ok), "unit": unit}

    out = []
    for short, (target, base) in CIVIL_TARGETS.items():
        out.append(m(f"Civil Comments {short} ROC-AUC (5-fold)", cv["civil"][short]["roc_auc"],
                     ">=", target, base))
    out.append(m("obfuscated: profane ROC-AUC", cv["civil_obfuscated"]["profane"]["roc_auc"],
                 ">=", 0.85, 0.735))
    for short in ("insult", "threat", "identity attack"):
        clean = cv["civil"][short]["roc_auc"] or 0.0
        obf = cv["civil_obfuscated"][short]["roc_auc"] or 0.0
        out.append(m(f"obfuscated: {short} AUC drop", clean - obf, "<=", 0.03))
    out.append(m("Wikipedia toxicity ROC-AUC", shipped["wikipedia"]["roc_auc"], ">=", 0.92,
                 0.897))
    out.append(m("Jigsaw 2019 bias score (fuzzed)", shipped["fuzzed_bias"]["score"], ">=", 0.88,
                 0.856))
    out.append(m("madlibs power-mean BPSN AUC", shipped["madlibs"]["bpsn_power_mean"], ">=",
                 0.90, 0.783))
    out.append(m("madlibs worst/median term FPR", shipped["madlibs"]["fpr_ratio"], "<=", 3.0,
                 19.0, "x"))
    out.append(m("Davidson macro-F1 (5-fold)", cv["davidson"]["macro_f1"], ">=", 0.76, 0.745))
    out.append(m("Davidson hate F1 (5-fold)", cv["davidson"]["hate_f1"], ">=", 0.48, 0.435))
    out.append(m("SMS spam F1 at precision>=0.99", cv["sms"]["f1"], ">=", 0.975, 0.971))
    out.append(m("YouTube spam F1 (video held out)", cv["youtube"]["f1"], ">=", 0.95, 0.947))
    out.append(m("SemEval toxic spans char F1", shipped["spans"]["f1"], ">=", 0.66, 0.64))
    for rule in ("victim-identification", "legal-proceedings", "victim-blaming"):
        story = shipped["story_rules"][rule]
        out.append(m(f"own evaluation file: {rule} precision at recall 0.9",
                     story["precision_at_recall_0.9"], ">=", 0.80))
    out.append(m("scorer batched comments/s", speed["batched_per_second"], ">=", 2000.0))
    out.append(m("scorer p99 one comment", speed["single_p99_ms"], "<=", 10.0, unit=" ms"))
    out.append(m("artefact size", art["megabytes"], "<=", 20.0, unit=" MB"))
    out.append(m("artefact load time", art["load_seconds"], "<=", 1.0, unit=" s"))
    out.append(m("training time", art["train_seconds"], "<=", 300.0, unit=" s"))
    return out


NOTES = (
    "Civil Comments: `toxic_spans/DERIVED_comment_level_type_labels.csv`, majority labels "
    "(`label_*`); insult→personal-abuse, threat→threats, identity attack→hate, "
    "profane→obscene final rule scores (learned or detector); 5 stratified folds; the figure "
    "is the mean of the five per-fold ROC-AUCs (metrics.json also has each fold's and the "
    "pooled out-of-fold AUC, which can be lower when fold models' calibrated scales differ).",
    "Obfuscated: the same held-out comments with every obscenity disguised (seeded per "
    "comment) by one of masking inner letters (`f**k`), leetspeak (`sh1t`), letters split by "
    "spaces, dots or hyphens (`f u c k`) or repeated letters (`fuuuck`), scored by the same "
    "fold models. 'AUC drop' = clean minus obfuscated.",
    "Toxicity (Wikipedia, fuzzed, madlibs) = the artefact's auxiliary toxicity model (same "
    "features, calibrated logistic regression on Civil Comments rated toxic by at least half "
    "the raters, Wikipedia talk comments labelled toxic, Davidson hate/offensive, HateXplain "
    "hate/offensive, Fox News hateful; acceptable = the rest of those plus SMS/YouTube and "
    "identity statements). It is not a rule and is not served; an artefact without it falls "
    "back to the max of the four toxic rules' final scores.",
    "Wikipedia: all comments of `bias_madlibs/toxicity_nonfuzzed_testset.csv`.",
    "Jigsaw 2019 bias score on `toxicity_fuzzed_testset.csv`: 0.25 × overall AUC + 0.75 × "
    "mean of the power means (p = -5) of subgroup, BPSN and BNSP AUCs; subgroups are the "
    "neutral identity words of `new_madlibber_words.csv` found in the comment (whole word), "
    f"kept when at least {MIN_SUBGROUP} comments mention them; an AUC undefined for a subgroup "
    "(one class only) is left out of that power mean.",
    "Madlibs `bias_madlibs_77k.csv`: a sentence's subgroup is the identity word it contains; "
    "BPSN AUC per term, power mean p = -5. FPR = share of the term's NOT_BAD sentences with "
    f"toxicity ≥ {FPR_THRESHOLD}; ratio = worst term / median term (median floored at one "
    "sentence of a typical term).",
    "Davidson: 5 stratified folds over all 24.8k tweets (training samples 5k offensive ones). "
    "Predicted class: hate if the hate rule ≥ 0.5, else offensive if the general toxicity "
    "score ≥ 0.5, else neither; macro-F1 over the three classes.",
    "SMS spam: 5 stratified folds; best F1 over thresholds on the pooled out-of-fold spam "
    "scores among thresholds with precision ≥ 0.99 (an operating point, chosen on those "
    "scores).",
    "YouTube spam: fold k holds out video k entirely (5 videos); F1 of spam ≥ 0.5 pooled over "
    "videos.",
    "SemEval-2021 spans: `tsd_test.csv` (2,000 comments, never trained on), predicted "
    "characters = evidence spans of the four toxic rules from the whole scorer, official "
    "per-comment character F1 (both empty = 1).",
    "Story rules: `moderation/classifier/examples/story_rules_eval.jsonl` (written separately "
    "from the training files and never trained on), each comment scored by the whole scorer "
    "with its article's title and tags; the best precision among thresholds that keep recall "
    "at or above 0.90 (target: precision >= 0.80 there).",
    "Speed: whole scorer (normalise, detectors, every rule, evidence) in batches of 64 over "
    "Civil Comments texts, one process; p99 over 500 single-comment calls.",
    "Artefact: bytes of `model.skops`; load = checksum + type allow-list + deserialisation, "
    "best of 3, scikit-learn already imported; training time from the manifest.",
)
