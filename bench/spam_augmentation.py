"""The spam model with N augmented acceptable comments per kind, on evaluate's folds.

    python bench/spam_augmentation.py 0 1500      # compare no augmentation with the shipped 1500

For each value and each of evaluate's five folds it fits the spam sub-model on that fold's
training rows (as ``moderation evaluate`` does) and scores, with the spam detectors as the
scorer does: the held-out SMS messages (F1 at precision >= 0.99), the held-out YouTube videos
(F1 at 0.5), and a probe of 600 held-out Civil Comments per fold, each with one of nine
readers' links, prices or phone numbers added in phrasings spam_augment.py does not use (share
scored at or above the default policy's spam review and reject thresholds, 0.6 and 0.97).
Every value sees the same folds and the same probe. About 20 s per fit on this machine.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from moderation.classifier import spam
from moderation.classifier.datasets import evaluation_only_keys, load_training_examples, text_key
from moderation.classifier.detectors import run_detectors
from moderation.classifier.eval_data import load_cv_sets
from moderation.classifier.evaluate import N_FOLDS, _fold_plan, fold_split
from moderation.classifier.evaluation import f1_at_precision, f1_score
from moderation.classifier.types import ScoringInput

PROBE = (
    "If anyone saw anything call Crimestoppers anonymously on 0800 555 111.",
    "My mobile is 07911 123456 if the family want to get in touch.",
    "Full report here https://www.bbc.co.uk/news/uk-england-12345678",
    "The sentencing remarks are at https://www.judiciary.uk/judgments/r-v-smith/",
    "Tickets £12.50 from the box office.",
    "I got a £100 fine for the same thing.",
    "The petition is on petition.parliament.uk/petitions/123456",
    "Ring the surgery on 01632 960123 and ask for the practice manager.",
    "THIS IS AN OUTRAGE.",
)


def _detector_scores(texts: list[str]) -> np.ndarray:
    return np.array([run_detectors(ScoringInput(t), "spam").score for t in texts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("per_kind", type=int, nargs="+")
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--seed", type=int, default=1729)
    args = parser.parse_args()

    sets = load_cv_sets(args.data)
    examples = load_training_examples(args.data, evaluation_only_keys(args.data))
    keys = [text_key(e.text) for e in examples]
    counts = spam.spam_counts([e.text for e in examples])
    plan = _fold_plan(sets, args.seed)
    rng = random.Random(7)
    got = {k: {"sms": ([], []), "youtube": ([], []), "probe": []} for k in args.per_kind}
    for fold in range(N_FOLDS):
        held, rows = fold_split(sets, plan, keys, fold)
        train = [examples[i] for i in rows]
        sms = [sets.sms[i] for i in held["sms"]]
        youtube = [sets.youtube[i] for i in held["youtube"]]
        civil = [sets.civil[i].text for i in held["civil"]]
        probe = [f"{c.strip()} {rng.choice(PROBE)}" for c in rng.sample(civil, 600)]
        texts = {"sms": [r.text for r in sms], "youtube": [r.text for r in youtube],
                 "probe": probe}
        detected = {name: _detector_scores(t) for name, t in texts.items()}
        for per_kind in args.per_kind:
            spam.AUGMENT_PER_KIND = per_kind
            started = time.perf_counter()
            model = spam.fit_spam_model(train, args.seed, counts[rows])
            scored = {name: np.maximum(spam.spam_probabilities(model, t), detected[name])
                      for name, t in texts.items()}
            for name, held_rows in (("sms", sms), ("youtube", youtube)):
                got[per_kind][name][0].extend(r.label for r in held_rows)
                got[per_kind][name][1].extend(scored[name])
            got[per_kind]["probe"].extend(scored["probe"])
            print(f"fold {fold}, {per_kind} per kind: fitted in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
    print("per kind | SMS F1 at P>=0.99 | YouTube F1 | probe >= 0.6 | probe >= 0.97")
    for per_kind, g in got.items():
        y, s = (np.array(v) for v in g["sms"])
        yy, ys = (np.array(v) for v in g["youtube"])
        probe_scores = np.array(g["probe"])
        print(f"{per_kind} | {f1_at_precision(y, s, 0.99)['f1']:.3f} | "
              f"{f1_score(yy, ys >= 0.5):.3f} | {np.mean(probe_scores >= 0.6):.1%} | "
              f"{np.mean(probe_scores >= 0.97):.2%}")


if __name__ == "__main__":
    main()
