"""The threats model with the project's kind wishes weighted K times, on fold 0 of evaluate's plan.

    python bench/threat_wish_weight.py 1 10 20 30 100

For each K it fits the threats rule alone (shared features, the shipped C and calibration) on
fold 0's training rows with the rows of kind "neg-wish" (examples/general_rules_train_2.jsonl)
counting K times for threats, and prints: Civil Comments threat ROC-AUC on fold 0's held-out
comments; the learned scores of 20 kind or ordinary comments never trained on, and how many
reach the default policy's threats review threshold (0.4); and the final scores (learned or
threat detector, the higher) of 8 threats. About 12 s per fit on this machine.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from moderation.classifier.datasets import evaluation_only_keys, load_training_examples, text_key
from moderation.classifier.detectors import run_detectors
from moderation.classifier.eval_data import load_cv_sets
from moderation.classifier.evaluate import _fold_plan, fold_split
from moderation.classifier.evaluation import auc
from moderation.classifier.normalise import normalise_text
from moderation.classifier.pipeline import _fit_rule, build_vectoriser, normalised_counts
from moderation.classifier.rules import LEARNED_RULES
from moderation.classifier.story import EXAMPLES_DIR
from moderation.classifier.types import ScoringInput

KIND = [
    "Hope he gets the help he needs.", "I hope the police find him soon.",
    "Hope they catch whoever did this.",
    "Really hope she recovers quickly, thinking of her family.",
    "Hope the lad pulls through.", "I hope he is found safe and well soon.",
    "Hope they get him soon, nobody should have to live in fear like that.",
    "Hope you are all ok, what a shock for the village.", "Hope the family get some peace now.",
    "Fingers crossed they catch him before he does it again.", "Hope so.", "hope",
    "Hope the council fix the roads.", "The council should fix the roads.",
    "I hope it stays sunny for the fete.", "Hope they throw the book at him.", "Well said.",
    "Good luck to them.", "Get well soon!", "He should resign.",
]
THREATS = [
    "I hope someone gives him a good kicking.", "Hope he dies a slow death.",
    "someone should stab him", "I know where you live and I will kill you",
    "Hope his house burns down with him in it.", "Somebody needs to put a bullet in him.",
    "I will find you and hurt you", "Give me five minutes alone with him and a hammer",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", type=float, nargs="+")
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    args = parser.parse_args()

    sets = load_cv_sets(args.data)
    examples = load_training_examples(args.data, evaluation_only_keys(args.data))
    keys = [text_key(e.text) for e in examples]
    plan = _fold_plan(sets, 1729)
    held, fold_rows = fold_split(sets, plan, keys, 0)
    rows = np.array(fold_rows)
    with (EXAMPLES_DIR / "general_rules_train_2.jsonl").open(encoding="utf-8") as handle:
        wishes = {text_key(r["text"]) for r in map(json.loads, handle) if r["kind"] == "neg-wish"}

    j = LEARNED_RULES.index("threats")
    vectoriser = build_vectoriser()
    vectoriser.named_steps["counts"].fit([""])
    tfidf = vectoriser.named_steps["tfidf"]
    X = tfidf.fit_transform(normalised_counts([examples[i] for i in rows])).tocsr()
    y = np.array([examples[i].labels[j] for i in rows])
    known = y >= 0
    # Every row as the data loader weighs it, but with the kind wishes back at 1.
    base = np.array([1.0 if keys[i] in wishes else examples[i].weights[j] for i in rows])
    is_wish = np.array([keys[i] in wishes for i in rows]) & (y == 0)

    def features(texts: list[str]) -> np.ndarray:
        return tfidf.transform(vectoriser.named_steps["counts"].transform(
            [normalise_text(t) for t in texts]))

    civil_y = np.array([(sets.civil[i].label >> 1) & 1 for i in held["civil"]])
    civil_x = features([sets.civil[i].text for i in held["civil"]])
    kind_x, threat_x = features(KIND), features(THREATS)
    detected = np.array([run_detectors(ScoringInput(t), "threats").score for t in THREATS])
    for weight in args.weights:
        w = np.where(is_wish, weight, 1.0) * base
        model = _fit_rule("threats", X[known], y[known].astype(int), w[known], 1729)
        kind = model.predict_proba(kind_x)[:, 1]
        threat = np.maximum(model.predict_proba(threat_x)[:, 1], detected)
        civil_auc = auc(civil_y, model.predict_proba(civil_x)[:, 1])
        print(f"K={weight:g}: Civil threat ROC-AUC {civil_auc:.4f}; "
              f"kind comments >= 0.4: {(kind >= 0.4).sum()}/{len(kind)} (max {kind.max():.2f}); "
              f"threats mean {threat.mean():.2f}, min {threat.min():.2f}")
        print("  kind:   ", " ".join(f"{s:.2f}" for s in kind))
        print("  threats:", " ".join(f"{s:.2f}" for s in threat))


if __name__ == "__main__":
    main()
