"""train_model end to end on a tiny synthetic copy of the datasets layout (seconds, not minutes).

The texts are generated here from marker words, so nothing from the real data sets is copied
into the repository; the point is the pipeline: files written, CURRENT switched, checksum and
metrics recorded, the result loadable and reproducible.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from moderation.classifier import ScoringInput, load_scorer
from moderation.classifier.train import train_model

NEUTRAL = (
    "road council park bus school weather river market garden library bridge train street "
    "festival museum budget housing planning meeting harbour village station county hospital "
    "cycle lane summer winter local report mayor clinic teacher farmer"
).split()
MARKERS = {
    "insult": "idiot moron",
    "threat": "kill stab",
    "hate": "vermin subhuman",
    "obscene": "fuck shit",
    "spam": "prize winner txt",
}


class Texts:
    """Unique synthetic comments: a marker plus a random run of neutral words."""

    def __init__(self) -> None:
        self.rng = random.Random(7)
        self.seen: set[str] = set()

    def make(self, marker: str = "") -> str:
        while True:
            words = self.rng.sample(NEUTRAL, 6)
            text = " ".join([marker, *words]).strip()
            if text not in self.seen:
                self.seen.add(text)
                return text


def write_csv(path: Path, header: list[str], rows: list[list[object]], **kw: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, **kw)  # type: ignore[arg-type]
        writer.writerow(header)
        writer.writerows(rows)


def toxic_spans_rows(t: Texts) -> list[list[object]]:
    rows: list[list[object]] = []
    kinds = ["insult", "threat", "hate", "obscene", ""]
    for kind in kinds:
        for _ in range(25):
            flags = {k: int(k == kind) for k in kinds[:4]}
            rows.append(
                [
                    len(rows),
                    t.make(MARKERS.get(kind, "")),
                    3,
                    0.67 if kind else 0.0,
                    0.0,
                    flags["insult"],
                    flags["insult"],
                    flags["threat"],
                    flags["threat"],
                    flags["hate"],
                    flags["hate"],
                    flags["obscene"],
                    flags["obscene"],
                    0.0,
                    0,
                ]
            )
    return rows


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("datasets")
    t = Texts()
    write_csv(
        root / "toxic_spans" / "DERIVED_comment_level_type_labels.csv",
        [
            "comment_id",
            "comment_text",
            "n_annotators",
            "frac_annotators_toxic",
            "Identity based ",
            "frac_Insult",
            "label_Insult",
            "frac_Threat",
            "label_Threat",
            "frac_Identity based Attack",
            "label_Identity based Attack",
            "frac_Profane/Obscene",
            "label_Profane/Obscene",
            "frac_Other Toxicity",
            "label_Other Toxicity",
        ],
        toxic_spans_rows(t),
    )
    write_csv(
        root / "davidson" / "labeled_data.csv",
        ["", "count", "hate_speech", "offensive_language", "neither", "class", "tweet"],
        [
            [i, 3, 0, 0, 3, cls, t.make(m)]
            for i, (cls, m) in enumerate(
                [("0", MARKERS["hate"])] * 15 + [("1", MARKERS["obscene"])] * 15 + [("2", "")] * 15
            )
        ],
    )
    for name in ("t5_df_test.csv", "t5_df_val.csv"):
        write_csv(
            root / "hatexplain_partial" / name,
            ["id", "prefix", "input_text", "target_text"],
            [
                [i, "label", t.make(MARKERS["hate"] if lab == "hate" else ""), lab]
                for i, lab in enumerate(["hate"] * 10 + ["normal"] * 10 + ["offensive"] * 10)
            ],
        )
    (root / "fox_news").mkdir()
    (root / "fox_news" / "fox-news-comments.json").write_text(
        "\n".join(
            json.dumps({"text": t.make(MARKERS["hate"] if lab else ""), "label": lab})
            for lab in [1] * 15 + [0] * 15
        )
    )
    (root / "sms_spam").mkdir()
    (root / "sms_spam" / "SMSSpamCollection").write_text(
        "\n".join(
            f"{lab}\t{t.make(MARKERS['spam'] if lab == 'spam' else '')}"
            for lab in ["spam"] * 20 + ["ham"] * 20
        )
    )
    write_csv(
        root / "youtube_spam" / "01-test.csv",
        ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"],
        [
            [i, "a", "2013", t.make(MARKERS["spam"] if c else ""), c]
            for i, c in enumerate([1] * 15 + [0] * 15)
        ],
    )
    write_csv(
        root / "wiki_context_toxicity" / "gn.csv",
        ["id", "text", "label", "api", "parent"],
        [[i, t.make(), 0, 0.9, ""] for i in range(30)],
    )
    write_csv(
        root / "wiki_context_toxicity" / "gc.csv",
        ["id", "text", "parent", "label", "api"],
        [
            [i, t.make(MARKERS["insult"] if lab else ""), "", lab, 0.1]
            for i, lab in enumerate([0] * 30 + [1] * 10)
        ],
    )
    write_csv(
        root / "wiki_context_toxicity" / "cat_small.csv",
        ["text", "parent_text", "tox_codes_oc", "label_oc", "tox_codes_ic", "label_ic"],
        [
            [t.make(MARKERS["insult"] if lab else ""), "", "[0. 0. 0.]", lab, "[0. 0. 0.]", lab]
            for lab in [0] * 10 + [1] * 4
        ],
    )
    bias = root / "bias_madlibs"
    write_csv(
        bias / "new_madlibber_intersectional_madlibs.csv",
        ["template", "toxicity", "phrase"],
        [["am", "nontoxic", f"I am {w}"] for w in NEUTRAL[:20]],
    )
    write_csv(
        bias / "bias_madlibs_77k.csv",
        ["Text", "Label", "Template"],
        [
            [f"{w} is {adj}", lab, "name_adj"]
            for w in NEUTRAL[:10]
            for adj, lab in (("vermin", "BAD"), ("lovely", "NOT_BAD"))
        ],
    )
    for name in ("toxicity_fuzzed_testset.csv", "toxicity_nonfuzzed_testset.csv"):
        write_csv(
            bias / name,
            ["rev_id", "comment", "toxic"],
            [[i, t.make(MARKERS["insult"] if i % 2 else ""), str(bool(i % 2))] for i in range(20)],
        )
    write_csv(
        root / "surge_toxicity" / "toxicity_en.csv",
        ["text", "is_toxic"],
        [
            [t.make(MARKERS["insult"] if i % 2 else ""), "Toxic" if i % 2 else "Not Toxic"]
            for i in range(20)
        ],
    )
    return root


@pytest.fixture(scope="module")
def trained(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    models = tmp_path_factory.mktemp("models")
    return models, train_model(data_dir, models, seed=3)


def test_training_writes_a_complete_version_and_switches_current(
    trained: tuple[Path, Path],
) -> None:
    models, version_dir = trained
    assert {p.name for p in version_dir.iterdir()} == {
        "model.skops",
        "manifest.json",
        "metrics.json",
        "MODEL_CARD.md",
    }
    assert (models / "CURRENT").read_text().strip() == version_dir.name
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["bytes"] <= 20 * 2**20
    assert set(manifest["data"]) == {
        "personal-abuse", "threats", "hate", "obscene", "spam", "toxicity", "severe_toxicity",
        "story", "span_tagger", "spam_model",
    }
    assert manifest["data"]["story"]["examples"] > 500
    metrics = json.loads((version_dir / "metrics.json").read_text())
    assert "I know where you live and I will kill you" in metrics["sanity_sentences"]
    card = (version_dir / "MODEL_CARD.md").read_text()
    for needle in ("Intended use", "Attribution", "Known limitations", "--seed 3", "CC0 1.0",
                   "moderation evaluate"):
        assert needle in card


def test_trained_model_loads_and_learned_the_markers(trained: tuple[Path, Path]) -> None:
    models, version_dir = trained
    scorer = load_scorer(models)
    assert scorer.version == version_dir.name
    result = scorer.score(ScoringInput("idiot moron road council park"))
    assert result["personal-abuse"].score > result["hate"].score


def test_story_rules_are_scored_under_their_story_only(trained: tuple[Path, Path]) -> None:
    models, _ = trained
    scorer = load_scorer(models)
    text = "Everyone knows it's his stepdaughter, she works at the Co-op on Mill Lane"
    on_story = scorer.score(ScoringInput(text, "Man denies raping girl", ("sexual-offences",)))
    off_story = scorer.score(ScoringInput(text, "New bus timetable for Leeds", ("transport",)))
    untagged = scorer.score(ScoringInput(text, "Man, 41, denies rape of teenager"))
    assert on_story["victim-identification"].score >= 0.5
    assert off_story["victim-identification"].score < on_story["victim-identification"].score
    # The headline alone says it is a sexual-offence story.
    assert untagged["victim-identification"].score == on_story["victim-identification"].score
    assert on_story["victim-identification"].evidence


def test_same_seed_same_scores_and_versions_are_never_overwritten(
    data_dir: Path, trained: tuple[Path, Path]
) -> None:
    models, first = trained
    second = train_model(data_dir, models, seed=3)
    assert second != first and second.parent == first.parent
    texts = [ScoringInput("kill stab road park"), ScoringInput("prize winner txt bus")]
    from moderation.classifier.artefact import load_artefact
    from moderation.classifier.scorer import scorer_from_payload

    a = scorer_from_payload(load_artefact(models, first.name)[0]).score_many(texts)
    b = scorer_from_payload(load_artefact(models, second.name)[0]).score_many(texts)
    assert a == b
    with pytest.raises(FileExistsError):
        train_model(data_dir, models, seed=3, version=first.name)
