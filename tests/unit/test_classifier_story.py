"""Story rules: the cue features, the cue-aware story models and how the scorer uses them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from moderation.classifier.features import build_vectoriser
from moderation.classifier.normalise import normalise_text
from moderation.classifier.scorer import Scorer
from moderation.classifier.story import STORY_RULES, StoryExample, fit_story_models
from moderation.classifier.story_cues import (
    CUE_RULES,
    StoryCues,
    _expand,
    cue_fingerprint,
    cue_names,
)
from moderation.classifier.types import ModelIntegrityError, ScoringInput

SEXUAL_TRIAL = ("sexual-offences", "active-proceedings")
TITLE = "Man denies raping woman in Leeds"


@pytest.fixture(scope="module")
def vectoriser() -> Any:
    vec = build_vectoriser()
    counts = vec.named_steps["counts"]
    counts.fit([""])
    vec.named_steps["tfidf"].fit(counts.transform(
        [normalise_text(t) for t in ("the bus was late", "lock him up", "she works at the shop")]))
    return vec


@pytest.fixture(scope="module")
def cues(vectoriser: Any) -> StoryCues:
    return StoryCues(vectoriser)


def on(cues: StoryCues, text: str, title: str = "") -> set[str]:
    row = cues.features([text], [title])[0]
    return {name for name, value in zip(cues.names, row, strict=True) if value > 0}


def test_cue_grammar_expands_alternatives_and_optional_words() -> None:
    assert _expand("lock (him|her) up") == ["lock him up", "lock her up"]
    assert _expand("if (found|) guilty") == ["if found guilty", "if guilty"]
    assert _expand("(a|) b") == ["a b", "b"]


def test_cues_find_phrases_and_nothing_that_is_not_there(cues: StoryCues) -> None:
    found = on(cues, "Lock him up and throw away the key", TITLE)
    assert {"lp_punish", "pron_he"} <= found
    assert not found & {"vb_false", "vi_social", "lp_previous", "initials", "question"}
    assert "lp_cond" in on(cues, "If he's found guilty, fine. Let the jury decide")
    assert {"vi_rel_her", "vi_work"} <= on(cues, "Her dad works at the garage on Mill Lane")
    assert "vb_false" in on(cues, "Half these women cry rape for money")
    assert on(cues, "The bus was late again today") <= {"length", "lp_previous"}


def test_every_phrase_is_confirmed_on_the_text(cues: StoryCues) -> None:
    # Hashed columns collide; whatever the counts say, a cue needs its words in the comment.
    texts = [f"comment {k} about the council budget and the new car park" for k in range(300)]
    rows = cues.features(texts, [""] * len(texts))
    lexical = rows[:, : len(cues.names) - 6]
    assert lexical[:, cues.names.index("vi_rel_his")].sum() == 0
    assert lexical[:, cues.names.index("lp_punish")].sum() == 0


def test_a_name_in_the_headline_is_the_defendant_not_a_new_name(cues: StoryCues) -> None:
    title = "Craig Mottram denies grooming pupil at Bolton school"
    assert "name_in_title" in on(cues, "I went to school with Craig, wait for the jury", title)
    assert "name_new" not in on(cues, "I went to school with Craig, wait for the jury", title)
    assert "name_new" in on(cues, "It's Kayleigh from the chip shop", title)
    assert "initials" in on(cues, "Initials k.w. from the dance school")


def test_cue_fingerprint_follows_the_definitions() -> None:
    assert len(cue_fingerprint()) == 16
    assert len(cue_names()) == len(set(cue_names()))


def _examples() -> list[StoryExample]:
    rows = []
    for k in range(12):
        rows += [
            StoryExample(f"It's Kayleigh {k} from the chip shop on Mill Lane", TITLE,
                         SEXUAL_TRIAL, {"victim-identification": 1, "legal-proceedings": 0,
                                        "victim-blaming": 0}),
            StoryExample(f"Guilty {k}, lock him up and throw away the key", TITLE, SEXUAL_TRIAL,
                         {"victim-identification": 0, "legal-proceedings": 1,
                          "victim-blaming": 0}),
            StoryExample(f"She was drunk {k}, what did she expect", TITLE, SEXUAL_TRIAL,
                         {"victim-identification": 0, "legal-proceedings": 0,
                          "victim-blaming": 1}),
            StoryExample(f"Let the jury decide {k}, thinking of everyone", TITLE, SEXUAL_TRIAL,
                         {r: 0 for r in STORY_RULES}),
        ]
    return rows


@pytest.fixture(scope="module")
def fitted(vectoriser: Any, cues: StoryCues) -> dict[str, Any]:
    def vectorise(texts: list[str]) -> sp.csr_matrix:
        counts = vectoriser.named_steps["counts"].transform([normalise_text(t) for t in texts])
        return vectoriser.named_steps["tfidf"].transform(counts)

    general = [f"the bus to town {k} was late again" for k in range(30)]
    return fit_story_models(vectorise, _examples(), vectorise(general), seed=1, cues=cues,
                            acceptable_cues=cues.features(general, [""] * len(general)))


def _scorer(vectoriser: Any, story_models: dict[str, Any]) -> Scorer:
    return Scorer("test", STORY_RULES, vectoriser, {}, detectors=(), story_models=story_models)


def test_cue_models_are_scored_on_the_fast_path_as_sklearn_would(
    vectoriser: Any, cues: StoryCues, fitted: dict[str, Any]
) -> None:
    scorer = _scorer(vectoriser, fitted)
    assert scorer._fast is not None
    texts = ["It's Kayleigh from the chip shop", "lock him up", "what did she expect",
             "the bus was late"]
    items = [ScoringInput(t, TITLE, SEXUAL_TRIAL) for t in texts]
    scored = scorer.score_many(items)
    counts = vectoriser.named_steps["counts"].transform([normalise_text(t) for t in texts])
    shared = vectoriser.named_steps["tfidf"].transform(counts)
    with_cues = sp.hstack([shared, sp.csr_matrix(cues.features(texts, [TITLE] * len(texts)))])
    for rule in STORY_RULES:
        # Only the rules in CUE_RULES weigh the cues; the others keep the shared features.
        assert hasattr(fitted[rule], "story_cues_") == (rule in CUE_RULES)
        features = with_cues.tocsr() if rule in CUE_RULES else shared
        expected = fitted[rule].predict_proba(features)[:, 1]
        assert np.allclose([s[rule].score for s in scored], expected, atol=1e-6)
    assert scored[0]["victim-identification"].score > scored[3]["victim-identification"].score
    assert scored[1]["legal-proceedings"].score > scored[3]["legal-proceedings"].score
    # Off its story a rule keeps only a share of its score (the gate is unchanged).
    off = scorer.score(ScoringInput("lock him up", "New bus timetable", ("transport",)))
    assert off["legal-proceedings"].score < scored[1]["legal-proceedings"].score


def test_models_fitted_with_other_cue_definitions_are_refused(
    vectoriser: Any, fitted: dict[str, Any]
) -> None:
    import copy

    stale = {rule: copy.deepcopy(model) for rule, model in fitted.items()}
    for model in stale.values():
        model.story_cues_ = "0000000000000000"
    with pytest.raises(ModelIntegrityError):
        _scorer(vectoriser, stale)
