"""The Perspective-compatible endpoints, replayed in the exact shapes Coral's
``services/perspective/perspective.ts`` sends and ``phases/toxic.ts`` reads, and in the shapes
of Perspective's own documentation (AnalyzeCommentRequest / Response, SuggestCommentScore)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from moderation.db import session_scope
from moderation.entities import Assessment, AuditEvent, Comment, ReviewItem, ScoreSuggestion
from tests.conftest import new_key
from tests.support import count

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
ALL_ATTRIBUTES = ("TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY",
                  "THREAT", "SEXUALLY_EXPLICIT")
ABUSE = "You are a worthless idiot and everyone here hates you, shut up."
KIND = "Thanks for covering the council meeting, it was really useful."


def coral_analyze(text: str, model: str = "TOXICITY", do_not_store: bool = True,
                  language: str = "en") -> dict[str, Any]:
    """perspective.ts formatBody("comments:analyze"), byte for byte in structure."""
    return {"comment": {"text": text}, "doNotStore": do_not_store,
            "requestedAttributes": {model: {}}, "languages": [language]}


def coral_suggest(text: str, status: str = "REJECTED") -> dict[str, Any]:
    """perspective.ts formatBody("comments:suggestscore")."""
    import json

    return {
        "comment": {"text": text},
        "context": {"entries": [{"text": json.dumps({
            "url": "https://news.example/story?commentID=c9",
            "reply_to_id_Coral_comment_id": "c8", "Coral_comment_id": "c9"})}]},
        "attributeScores": {"TOXICITY": {"summaryScore": {
            "value": 0 if status == "APPROVED" else 1}}},
        "languages": ["en"],
        "communityId": "Coral:https://news.example",
        "clientToken": "comment:c9",
    }


@pytest.fixture
def key(app) -> str:  # type: ignore[no-untyped-def]
    return new_key("the-courier")


def _error(response: Any) -> dict[str, Any]:
    body = response.json
    assert set(body) == {"error"}, body
    assert {"code", "message", "status"} <= set(body["error"])
    assert body["error"]["code"] == response.status_code
    return body["error"]


def test_coral_analyze_request_gets_the_score_coral_reads(client, key):
    response = client.post(f"{ANALYZE}?key={key}", json=coral_analyze(ABUSE))
    assert response.status_code == 200
    # toxic.ts: result.data.attributeScores[model].summaryScore.value > threshold (0.8)
    abusive = response.json["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    kind = client.post(f"{ANALYZE}?key={key}", json=coral_analyze(KIND)).json[
        "attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    assert abusive > 0.8 > kind
    assert response.json["languages"] == ["en"]
    assert response.json["detectedLanguages"] == ["en"]


def test_do_not_store_true_writes_nothing(client, key):
    client.post(f"{ANALYZE}?key={key}", json=coral_analyze(ABUSE, do_not_store=True))
    assert count(Comment) == 0
    assert count(AuditEvent) == 0
    assert count(Assessment) == 0


def test_do_not_store_false_keeps_the_comment_in_our_queue(client, key):
    response = client.post(f"{ANALYZE}?key={key}", json=coral_analyze(ABUSE, do_not_store=False))
    assert response.status_code == 200
    comment_id = response.headers["X-Moderation-Comment-Id"]
    with session_scope() as session:
        stored = session.scalars(select(Comment)).one()
        assert stored.external_id == comment_id
        assert stored.text == ABUSE
        assessment = session.scalars(select(Assessment)).one()
        assert "personal-abuse" in assessment.flags
        assert assessment.evidence["personal-abuse"], "the flag carries its evidence"
    assert stored.status.value in ("in_review", "rejected")
    if stored.status.value == "in_review":
        assert count(ReviewItem) == 1
    state = client.get(f"/v1/comments/{comment_id}",
                       headers={"Authorization": f"Bearer {key}"}).json
    assert state["status"] == stored.status.value


def test_perspective_documented_request_with_every_attribute_and_spans(client, key):
    text = "🙂 Great piece. You are a pathetic moron though!"
    body = {
        "comment": {"text": text, "type": "PLAIN_TEXT"},
        "requestedAttributes": {name: {"scoreType": "PROBABILITY"} for name in ALL_ATTRIBUTES},
        "spanAnnotations": True,
        "doNotStore": True,
        "clientToken": "token-42",
        "sessionId": "s-1",
        "communityId": "the-courier",
    }
    response = client.post(ANALYZE, json=body, headers={"X-Goog-Api-Key": key})
    assert response.status_code == 200
    out = response.json
    assert set(out["attributeScores"]) == set(ALL_ATTRIBUTES)
    assert out["clientToken"] == "token-42"
    assert out["languages"] == []  # none requested: Perspective reports detectedLanguages
    assert out["detectedLanguages"] == ["en"]
    utf16_length = len(text.encode("utf-16-le")) // 2
    for name, scores in out["attributeScores"].items():
        summary = scores["summaryScore"]
        assert summary["type"] == "PROBABILITY" and 0.0 <= summary["value"] <= 1.0
        spans = scores["spanScores"]
        assert len(spans) == 2, (name, spans)  # one per sentence
        assert spans[0]["begin"] == 0 and spans[-1]["end"] == utf16_length
        assert all(s["begin"] < s["end"] for s in spans)
    insult_spans = out["attributeScores"]["INSULT"]["spanScores"]
    assert insult_spans[1]["score"]["value"] > insult_spans[0]["score"]["value"]
    # UTF-16 offsets: the emoji counts two units, so the second sentence starts at 17 not 16.
    assert insult_spans[1]["begin"] == text.index(" You") + 1


def test_without_span_annotations_the_span_is_the_whole_comment(client, key):
    out = client.post(f"{ANALYZE}?key={key}", json=coral_analyze(KIND)).json
    (span,) = out["attributeScores"]["TOXICITY"]["spanScores"]
    assert (span["begin"], span["end"]) == (0, len(KIND))
    assert span["score"] == out["attributeScores"]["TOXICITY"]["summaryScore"]


def test_score_threshold_leaves_out_low_scores(client, key):
    body = coral_analyze(KIND)
    body["requestedAttributes"] = {"TOXICITY": {"scoreThreshold": 0.9},
                                   "INSULT": {"scoreThreshold": 0.0}}
    out = client.post(f"{ANALYZE}?key={key}", json=body).json
    assert set(out["attributeScores"]) == {"INSULT"}


def test_severe_toxicity_is_lower_than_toxicity_for_mild_swearing(client, key):
    body = coral_analyze("That was a bloody good match, damn it.")
    body["requestedAttributes"] = {"TOXICITY": {}, "SEVERE_TOXICITY": {}}
    scores = client.post(f"{ANALYZE}?key={key}", json=body).json["attributeScores"]
    assert scores["SEVERE_TOXICITY"]["summaryScore"]["value"] < 0.5
    threat = coral_analyze("I will find where you live and kill you and your family.")
    threat["requestedAttributes"] = {"SEVERE_TOXICITY": {}, "THREAT": {}}
    scores = client.post(f"{ANALYZE}?key={key}", json=threat).json["attributeScores"]
    assert scores["THREAT"]["summaryScore"]["value"] > 0.5


def test_the_sites_own_rules_are_attributes_with_the_story_as_context(client, key):
    text = "Everyone in Elm Street knows it was the Jones girl at number 12 who reported him."
    body = coral_analyze(text)
    body["requestedAttributes"] = {"VICTIM_IDENTIFICATION": {}, "personal-data": {}}
    plain = client.post(f"{ANALYZE}?key={key}", json=body).json["attributeScores"]
    body["article"] = {"id": "a-1", "title": "Man denies rape at festival",
                       "tags": ["sexual-offences", "active-proceedings"]}
    on_story = client.post(f"{ANALYZE}?key={key}", json=body).json["attributeScores"]
    assert set(on_story) == {"VICTIM_IDENTIFICATION", "PERSONAL_DATA"}
    assert on_story["VICTIM_IDENTIFICATION"]["summaryScore"]["value"] >= 0.5
    assert (plain["VICTIM_IDENTIFICATION"]["summaryScore"]["value"]
            <= on_story["VICTIM_IDENTIFICATION"]["summaryScore"]["value"])


def test_a_parent_post_can_only_raise_toxicity(client, key):
    reply = "Same to you, and worse."
    body = coral_analyze(reply)
    alone = client.post(f"{ANALYZE}?key={key}", json=body).json
    body["context"] = {"articleAndParentComment": {
        "parentComment": {"text": "You are scum and I hope you rot, you filthy animal."}}}
    in_context = client.post(f"{ANALYZE}?key={key}", json=body).json
    value = lambda out: out["attributeScores"]["TOXICITY"]["summaryScore"]["value"]  # noqa: E731
    assert value(in_context) >= value(alone)


@pytest.mark.parametrize(
    ("body", "status", "error_type", "message"),
    [
        (coral_analyze(KIND, model="NOT_A_MODEL"), 400, "INVALID_REQUEST",
         "Unknown requested attribute: NOT_A_MODEL"),
        (coral_analyze(KIND, language="fr"), 400, "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
         "Attribute TOXICITY does not support request languages: fr"),
        (coral_analyze("   "), 400, "COMMENT_EMPTY", "Comment must be non-empty."),
        ({"comment": {"text": KIND}, "requestedAttributes": {}}, 400,
         "NO_REQUESTED_ATTRIBUTES", "Missing requested_attributes"),
        ({"comment": {"text": KIND, "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}},
         400, "INVALID_REQUEST", "Currently, only 'PLAIN_TEXT' comments are supported"),
        ({"comment": {"text": KIND},
          "requestedAttributes": {"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}}, 400,
         "INVALID_REQUEST", "Requested score type STD_DEV_SCORE is not supported by attribute "
         "TOXICITY"),
        ({"comment": {"text": KIND}, "requestedAttributes": {"TOXICITY": {}},
          "context": {"entries": [{"text": "a"}],
                      "articleAndParentComment": {"article": {"text": "b"}}}}, 400,
         "INVALID_REQUEST", "Context can have either entries or article_and_parent_comment"),
        ({"requestedAttributes": {"TOXICITY": {}}}, 400, "INVALID_REQUEST",
         "Invalid JSON payload received. comment"),
        ({"comment": {"text": KIND}, "requestedAttributes": {"TOXICITY": {
            "scoreThreshold": 2}}}, 400, "INVALID_REQUEST",
         "Invalid JSON payload received. requestedAttributes.TOXICITY.scoreThreshold"),
    ],
)
def test_bad_requests_get_perspectives_error_shape(client, key, body, status, error_type,
                                                   message):
    response = client.post(f"{ANALYZE}?key={key}", json=body)
    assert response.status_code == status
    error = _error(response)
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith(message), error["message"]
    assert error["details"][0]["errorType"] == error_type
    assert error["details"][0]["@type"].endswith("commentanalyzer.v1alpha1.Error")
    assert error.get("field")


def test_an_unsupported_language_error_names_the_attribute_and_language(client, key):
    error = _error(client.post(f"{ANALYZE}?key={key}", json=coral_analyze(KIND, language="de")))
    detail = error["details"][0]["languageNotSupportedByAttributeError"]
    assert detail["attribute"] == "TOXICITY"


def test_a_confidently_foreign_comment_without_languages_is_refused_like_perspective(client,
                                                                                     key):
    body = {"comment": {"text": "Je pense que le jury doit décider, pas les commentateurs."},
            "requestedAttributes": {"TOXICITY": {}}}
    error = _error(client.post(f"{ANALYZE}?key={key}", json=body))
    assert error["details"][0]["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert error["details"][0]["languageNotSupportedByAttributeError"]["detectedLanguages"] == [
        "fr"]


def test_a_british_language_tag_is_english(client, key):
    response = client.post(f"{ANALYZE}?key={key}", json=coral_analyze(KIND, language="en-GB"))
    assert response.status_code == 200
    assert response.json["languages"] == ["en-GB"]


def test_not_json_is_a_perspective_error(client, key):
    response = client.post(f"{ANALYZE}?key={key}", data="{not json",
                           content_type="application/json")
    assert response.status_code == 400
    assert _error(response)["message"]


@pytest.mark.parametrize("where", ["none", "wrong-query", "wrong-header"])
def test_a_key_is_required_and_checked(client, key, where):
    url = ANALYZE
    headers = {}
    if where == "wrong-query":
        url += "?key=mod_0000_nope"
    elif where == "wrong-header":
        headers["X-Goog-Api-Key"] = key + "x"
    response = client.post(url, json=coral_analyze(KIND), headers=headers)
    assert response.status_code == 401
    assert _error(response)["status"] == "UNAUTHENTICATED"


def test_the_query_key_is_only_accepted_by_the_perspective_endpoints(client, key):
    response = client.get(f"/v1/comments/x?key={key}")
    assert response.status_code == 401


def test_coral_feedback_is_recorded_as_a_human_label(client, key):
    response = client.post(f"{SUGGEST}?key={key}", json=coral_suggest(ABUSE))
    assert response.status_code == 200
    assert response.json == {"clientToken": "comment:c9", "detectedLanguages": ["en"],
                             "requestedLanguages": ["en"]}
    with session_scope() as session:
        label = session.scalars(select(ScoreSuggestion)).one()
        assert label.text == ABUSE
        assert label.scores == {"TOXICITY": 1.0}
        assert label.client_token == "comment:c9"
        assert label.community_id == "Coral:https://news.example"
        assert "Coral_comment_id" in label.context[0]


def test_suggested_span_scores_are_kept(client, key):
    body = {"comment": {"text": KIND}, "attributeScores": {"INSULT": {"spanScores": [
        {"begin": 0, "end": 6, "score": {"value": 0.0}}]}}}
    assert client.post(f"{SUGGEST}?key={key}", json=body).status_code == 200
    with session_scope() as session:
        assert session.scalars(select(ScoreSuggestion)).one().spans == {"INSULT": [[0, 6, 0.0]]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"comment": {"text": KIND}}, "attributeScores"),
        ({"comment": {"text": KIND}, "attributeScores": {}}, "attributeScores"),
        ({"comment": {"text": KIND}, "attributeScores": {"TOXICITY": {}}},
         "attributeScores.TOXICITY"),
        ({"comment": {"text": ""}, "attributeScores": {"TOXICITY": {"summaryScore": {
            "value": 1}}}}, "comment.text"),
        ({"comment": {"text": KIND}, "attributeScores": {"TOXICITY": {"summaryScore": {
            "value": 3}}}}, "attributeScores.TOXICITY.summaryScore.value"),
    ],
)
def test_bad_suggestions_are_refused_and_not_stored(client, key, body, field):
    response = client.post(f"{SUGGEST}?key={key}", json=body)
    assert response.status_code == 400
    assert _error(response)["field"] == field
    assert count(ScoreSuggestion) == 0
