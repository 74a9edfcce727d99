"""Comments in, idempotency, state, and every validation error of the contract API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.db import session_scope
from moderation.entities import AuditEvent, Comment
from tests.api.payloads import comment
from tests.conftest import new_key
from tests.support import count


def test_a_comment_is_stored_and_answered_202_pending(client, auth):
    response = client.post("/v1/comments", json=comment(), headers=auth)
    assert response.status_code == 202
    assert response.json == {"id": "c-1", "status": "pending"}
    state = client.get("/v1/comments/c-1", headers=auth).json
    assert state["status"] == "pending"
    assert state["reports"] == 0
    with session_scope() as session:
        stored = session.scalars(select(Comment)).one()
        assert stored.text == "Good reporting, thanks."
        kinds = [e.kind for e in session.scalars(select(AuditEvent))]
        assert kinds == ["comment.received"]


def test_the_same_body_twice_is_one_comment(client, auth):
    first = client.post("/v1/comments", json=comment(), headers=auth)
    second = client.post("/v1/comments", json=comment(), headers=auth)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count(Comment) == 1


def test_the_same_id_with_another_body_is_a_conflict(client, auth):
    client.post("/v1/comments", json=comment(), headers=auth)
    response = client.post("/v1/comments", json=comment(text="edited"), headers=auth)
    assert response.status_code == 409
    assert response.json["field"] == "id"
    with session_scope() as session:
        assert session.scalars(select(Comment)).one().text == "Good reporting, thanks."


def test_comments_on_sensitive_stories_stay_hidden_until_scored(client, auth):
    client.post("/v1/comments", json=comment("a", tags=["sexual-offences"]), headers=auth)
    client.post("/v1/comments", json=comment("b", tags=["Active-Proceedings"]), headers=auth)
    for comment_id in ("a", "b"):
        assert client.get(f"/v1/comments/{comment_id}", headers=auth).json["visible"] is False


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("id"), "id"),
        (lambda b: b.update(id=""), "id"),
        (lambda b: b.update(id="x" * 201), "id"),
        (lambda b: b.pop("text"), "text"),
        (lambda b: b.update(text=""), "text"),
        (lambda b: b.update(text=42), "text"),
        (lambda b: b.pop("article"), "article"),
        (lambda b: b["article"].pop("id"), "article.id"),
        (lambda b: b["article"].update(tags="sexual-offences"), "article.tags"),
        (lambda b: b["article"].update(tags=["x"] * 51), "article.tags"),
        (lambda b: b["article"].update(title="t" * 1001), "article.title"),
        (lambda b: b.update(author={"name": "no id"}), "author.id"),
        (lambda b: b.update(created_at="yesterday"), "created_at"),
        (lambda b: b.update(parent_id=""), "parent_id"),
        # PostgreSQL text cannot hold NUL; UTF-8 cannot encode a lone surrogate.
        (lambda b: b.update(text="nul \x00 inside"), "text"),
        (lambda b: b["article"].update(id="a\x00"), "article.id"),
        (lambda b: b["article"].update(tags=["ok", "bad\x00"]), "article.tags"),
        (lambda b: b.update(text="half a pair \ud800"), "text"),
    ],
)
def test_each_invalid_field_is_named_in_a_422(client, auth, mutate, field):
    body = comment()
    mutate(body)
    response = client.post("/v1/comments", json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "validation_error"
    assert response.json["field"] == field
    assert response.json["message"]
    assert count(Comment) == 0


def test_text_over_the_limit_is_refused_with_the_limit_in_the_message(client, auth, settings):
    limit = settings.max_text_chars
    response = client.post("/v1/comments", json=comment(text="a" * (limit + 1)), headers=auth)
    assert response.status_code == 422
    assert response.json["field"] == "text"
    assert str(limit) in response.json["message"]
    ok = client.post("/v1/comments", json=comment(text="a" * limit), headers=auth)
    assert ok.status_code == 202


def test_a_body_over_the_size_limit_is_413(client, auth, settings):
    huge = comment(text="a" * (settings.max_body_bytes + 10))
    response = client.post("/v1/comments", json=huge, headers=auth)
    assert response.status_code == 413
    assert response.json["field"] == "body"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("not json", "application/json"), ("[1, 2]", "application/json"),
     ('{"id": "c"}', "text/plain")],
)
def test_a_body_that_is_not_a_json_object_is_400(client, auth, data, content_type):
    response = client.post("/v1/comments", data=data, content_type=content_type, headers=auth)
    assert response.status_code == 400
    assert response.json["field"] == "body"


def test_every_endpoint_needs_a_valid_key(client, api_key):
    attempts = [
        ("post", "/v1/comments", comment()),
        ("post", "/v1/comments:batch", {"comments": [comment()]}),
        ("get", "/v1/comments/c-1", None),
        ("post", "/v1/comments/c-1/reports", {"reporter_id": "r", "reason": "other"}),
        ("get", "/v1/rules", None),
    ]
    bad_headers = [{}, {"Authorization": "Bearer nonsense"},
                   {"Authorization": f"Bearer {api_key}x"},
                   {"Authorization": "Bearer " + api_key.replace("_", "-")}]
    for method, path, body in attempts:
        for headers in bad_headers:
            response = getattr(client, method)(path, json=body, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.json["field"] == "Authorization"
            assert "WWW-Authenticate" in response.headers


def test_the_key_may_also_come_in_x_api_key(client, api_key):
    response = client.post("/v1/comments", json=comment(), headers={"X-Api-Key": api_key})
    assert response.status_code == 202


def test_one_site_cannot_see_another_sites_comments(client, auth):
    client.post("/v1/comments", json=comment("shared-id"), headers=auth)
    other = {"Authorization": f"Bearer {new_key('the-gazette')}"}
    assert client.get("/v1/comments/shared-id", headers=other).status_code == 404
    # The same external id is a different comment on another site.
    assert client.post("/v1/comments", json=comment("shared-id", text="x"),
                       headers=other).status_code == 202
    assert client.post("/v1/comments/shared-id/reports", headers=other,
                       json={"reporter_id": "r", "reason": "other"}).json["reports"] == 1
    assert client.get("/v1/comments/shared-id", headers=auth).json["reports"] == 0


def test_a_batch_is_accepted_whole(client, auth):
    body = {"comments": [comment(f"b-{i}", text=f"comment {i}") for i in range(5)]}
    response = client.post("/v1/comments:batch", json=body, headers=auth)
    assert response.status_code == 202
    assert [c["id"] for c in response.json["comments"]] == [f"b-{i}" for i in range(5)]
    assert {c["status"] for c in response.json["comments"]} == {"pending"}


def test_a_batch_with_one_bad_comment_stores_nothing_and_names_it(client, auth):
    body = {"comments": [comment("ok-1"), comment("bad", text=""), comment("ok-2")]}
    response = client.post("/v1/comments:batch", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json["field"] == "comments[1].text"
    assert count(Comment) == 0


def test_a_batch_conflicting_with_a_stored_comment_stores_nothing(client, auth):
    client.post("/v1/comments", json=comment("c-1"), headers=auth)
    body = {"comments": [comment("new-1"), comment("c-1", text="changed")]}
    response = client.post("/v1/comments:batch", json=body, headers=auth)
    assert response.status_code == 409
    assert response.json["field"] == "comments[1].id"
    assert count(Comment) == 1


def test_a_batch_over_the_limit_is_refused(client, auth, settings):
    body = {"comments": [comment(f"b-{i}") for i in range(settings.max_batch + 1)]}
    response = client.post("/v1/comments:batch", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json["field"] == "comments"


def test_an_empty_batch_is_refused(client, auth):
    response = client.post("/v1/comments:batch", json={"comments": []}, headers=auth)
    assert response.status_code == 422
    assert response.json["field"] == "comments"


def test_unstorable_path_values_are_refused_not_looked_up(client, auth):
    response = client.get("/v1/comments/c%00-1", headers=auth)
    assert response.status_code == 422
    assert response.json["field"] == "comment_id"
    too_large = client.post("/v1/review-queue/99999999999/claim", headers=auth,
                            json={"moderator": "sam"})
    assert too_large.status_code == 404


def test_unknown_comment_is_404(client, auth):
    response = client.get("/v1/comments/nope", headers=auth)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
