"""One deployment, many titles: nothing of one site is visible or changeable through another
site's key, on every endpoint of the API (a new endpoint must be added here)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from sqlalchemy import select

from moderation.db import session_scope
from moderation.entities import Comment, ReviewItem, WebhookDelivery
from moderation.services import events, webhooks_out
from moderation.services.coral import set_coral_secret
from moderation.services.webhook_secrets import rotate_webhook_secret
from moderation.signing import sign
from tests.api.payloads import comment
from tests.api.test_review_queue import put_in_review
from tests.conftest import new_key

# Every route of the API and the test below that shows it keeps sites apart. Routes that hold
# no site data are listed with the reason.
COVERED = {
    "/v1/comments": "same external id makes a separate comment",
    "/v1/comments:batch": "same external id makes a separate comment",
    "/v1/comments/<comment_id>": "404 for another site's comment",
    "/v1/comments/<comment_id>/reports": "404 for another site's comment",
    "/v1/rules": "each site reads its own rules",
    "/v1/webhooks/reports": "a site's signed report cannot reach another site's comment",
    "/v1/review-queue": "empty for another site",
    "/v1/review-queue/<int:item_id>/claim": "404",
    "/v1/review-queue/<int:item_id>/decision": "404",
    "/v1/review-queue/decisions/<int:decision_id>/undo": "404",
    "/v1/webhook-deliveries": "empty for another site",
    "/v1/webhook-deliveries/<int:delivery_id>/redeliver": "404",
    "/v1/webhook-deliveries/redeliver-dead": "touches only the caller's site",
    "/v1alpha1/comments:analyze": "stored under the caller's site",
    "/v1alpha1/comments:suggestscore": "stored under the caller's site",
    "/v1/coral/<site_name>/external-moderation": "another site's Coral secret is refused",
    "/v1/openapi.json": "no site data",
}


@pytest.fixture
def two_sites(client, app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    a, b = new_key("the-courier"), new_key("the-gazette")
    item = put_in_review(client, a, "c1", "You clown, courier reader")
    return {"a": {"Authorization": f"Bearer {a}"}, "b": {"Authorization": f"Bearer {b}"},
            "a_key": a, "b_key": b, "item": item}


def test_every_api_route_is_covered_here(app):
    routes = {rule.rule for rule in app.url_map.iter_rules()
              if rule.rule.startswith(("/v1/", "/v1alpha1/"))}
    missing = routes - set(COVERED)
    assert not missing, f"routes without a site-isolation check: {sorted(missing)}"


def test_comments_and_reports_stay_in_their_site(client, two_sites):
    a, b = two_sites["a"], two_sites["b"]
    assert client.get("/v1/comments/c1", headers=b).status_code == 404
    assert client.post("/v1/comments/c1/reports", headers=b,
                       json={"reporter_id": "r", "reason": "other"}).status_code == 404
    assert client.post("/v1/comments", json=comment("c1", text="gazette's own"),
                       headers=b).status_code == 202
    assert client.post("/v1/comments:batch", json={"comments": [comment("c2")]},
                       headers=b).status_code == 202
    with session_scope() as session:
        texts = sorted(c.text for c in session.scalars(select(Comment).where(
            Comment.external_id == "c1")))
    assert texts == ["You clown, courier reader", "gazette's own"]
    assert client.get("/v1/comments/c1", headers=a).json["status"] == "in_review"
    assert client.get("/v1/comments/c2", headers=a).status_code == 404
    assert client.get("/v1/rules", headers=b).status_code == 200


def test_a_sites_signed_report_cannot_reach_another_sites_comment(client, two_sites):
    with session_scope() as session:
        secret = rotate_webhook_secret(session, "the-gazette")
    body = json.dumps({"comment_id": "c1", "reporter_id": "r", "reason": "other"}).encode()
    response = client.post("/v1/webhooks/reports", data=body, content_type="application/json",
                           headers={"X-Moderation-Site": "the-gazette",
                                    "X-Moderation-Signature": sign(secret, body)})
    assert response.status_code == 404


def test_the_review_queue_is_per_site(client, two_sites):
    a, b, item = two_sites["a"], two_sites["b"], two_sites["item"]
    assert client.get("/v1/review-queue", headers=b).json["items"] == []
    for path in (f"/v1/review-queue/{item}/claim", f"/v1/review-queue/{item}/decision"):
        assert client.post(path, headers=b, json={"moderator": "eve", "decision": "approve"}
                           ).status_code == 404
    client.post(f"/v1/review-queue/{item}/claim", headers=a, json={"moderator": "ann"})
    decided = client.post(f"/v1/review-queue/{item}/decision", headers=a,
                          json={"moderator": "ann", "decision": "approve"}).json
    assert client.post(f"/v1/review-queue/decisions/{decided['decision_id']}/undo", headers=b,
                       json={"moderator": "eve"}).status_code == 404
    with session_scope() as session:
        assert session.get_one(ReviewItem, item).leased_by is None


def test_delivery_logs_are_per_site(client, two_sites):
    with session_scope() as session:
        webhooks_out.add_endpoint(session, "the-courier", "http://127.0.0.1:9/hooks")
        stored = session.scalars(select(Comment)).one()
        events.record(session, site_id=stored.site_id, comment_id=stored.id,
                      kind="comment.approved", actor="model")
    with session_scope() as session:
        webhooks_out.fan_out(session)
    with session_scope() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        delivery_id, before = delivery.id, delivery.state
    b = two_sites["b"]
    assert client.get("/v1/webhook-deliveries", headers=b).json["deliveries"] == []
    assert client.post(f"/v1/webhook-deliveries/{delivery_id}/redeliver",
                       headers=b).status_code == 404
    assert client.post("/v1/webhook-deliveries/redeliver-dead",
                       headers=b).json == {"requeued": 0}
    with session_scope() as session:
        assert session.get_one(WebhookDelivery, delivery_id).state == before
    assert len(client.get("/v1/webhook-deliveries",
                          headers=two_sites["a"]).json["deliveries"]) == 1


def test_perspective_calls_store_under_the_callers_site(client, two_sites):
    body = {"comment": {"text": "Thanks for the update"}, "requestedAttributes": {"TOXICITY": {}},
            "doNotStore": False}
    response = client.post(f"/v1alpha1/comments:analyze?key={two_sites['b_key']}", json=body)
    stored_id = response.headers["X-Moderation-Comment-Id"]
    assert client.get(f"/v1/comments/{stored_id}", headers=two_sites["a"]).status_code == 404
    assert client.get(f"/v1/comments/{stored_id}", headers=two_sites["b"]).status_code == 200
    suggest = {"comment": {"text": "x"}, "attributeScores": {"TOXICITY": {"summaryScore": {
        "value": 1}}}}
    assert client.post(f"/v1alpha1/comments:suggestscore?key={two_sites['b_key']}",
                       json=suggest).status_code == 200


def test_one_sites_coral_secret_does_not_open_another_sites_phase(client, two_sites):
    secret_b = "empsec_" + "b" * 64
    with session_scope() as session:
        set_coral_secret(session, "the-courier", "empsec_" + "a" * 64)
        set_coral_secret(session, "the-gazette", secret_b)
    raw = json.dumps({"action": "NEW", "comment": {"body": "hi", "parentID": None},
                      "story": {"id": "s", "url": ""}}, indent=2).encode()
    signature = "sha256=" + hmac.new(secret_b.encode(), raw, hashlib.sha256).hexdigest()
    response = client.post("/v1/coral/the-courier/external-moderation", data=raw,
                           content_type="application/json",
                           headers={"X-Coral-Signature": signature})
    assert response.status_code == 401
