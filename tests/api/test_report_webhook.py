"""The signed report webhook: only a valid, fresh signature over the exact body counts."""

from __future__ import annotations

import json
import time

import pytest

from moderation.db import session_scope
from moderation.entities import Report
from moderation.services.webhook_secrets import rotate_webhook_secret
from moderation.signing import sign
from tests.api.payloads import comment
from tests.support import count

SITE = "the-courier"


@pytest.fixture
def secret(api_key: str) -> str:
    with session_scope() as session:
        return rotate_webhook_secret(session, SITE)


@pytest.fixture
def stored_comment(client, auth):  # type: ignore[no-untyped-def]
    assert client.post("/v1/comments", json=comment("c-1"), headers=auth).status_code == 202


def post(client, body: bytes, signature: str | None, site: str | None = SITE):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Moderation-Signature"] = signature
    if site is not None:
        headers["X-Moderation-Site"] = site
    return client.post("/v1/webhooks/reports", data=body, headers=headers)


def report_body(reporter: str = "u-9") -> bytes:
    return json.dumps({"comment_id": "c-1", "reporter_id": reporter, "reason": "threats",
                       "note": "frightening"}).encode()


def test_a_signed_report_is_counted(client, secret, stored_comment):
    body = report_body()
    response = post(client, body, sign(secret, body))
    assert response.status_code == 201
    assert response.json == {"comment_id": "c-1", "reports": 1, "counted": True}


def test_a_replayed_report_is_counted_once(client, secret, stored_comment):
    body = report_body()
    signature = sign(secret, body)
    assert post(client, body, signature).status_code == 201
    again = post(client, body, signature)
    assert again.status_code == 200
    assert again.json["counted"] is False
    assert count(Report) == 1


@pytest.mark.parametrize(
    "make_signature",
    [
        lambda secret, body: None,
        lambda secret, body: "",
        lambda secret, body: "nonsense",
        lambda secret, body: sign("whsec_wrong", body),
        lambda secret, body: sign(secret, body + b" "),
        lambda secret, body: sign(secret, body, timestamp=int(time.time()) - 301),
        lambda secret, body: sign(secret, body, timestamp=int(time.time()) + 301),
        lambda secret, body: sign(secret, body).split(",")[0],
    ],
    ids=["missing", "empty", "malformed", "wrong-secret", "other-body", "stale", "future",
         "no-digest"],
)
def test_a_bad_or_stale_signature_is_refused_and_stores_nothing(
        client, secret, stored_comment, make_signature):
    body = report_body()
    response = post(client, body, make_signature(secret, body))
    assert response.status_code == 401
    assert response.json["field"] == "X-Moderation-Signature"
    assert count(Report) == 0


def test_an_unknown_site_is_refused(client, secret, stored_comment):
    body = report_body()
    for site in (None, "the-gazette"):
        response = post(client, body, sign(secret, body), site=site)
        assert response.status_code == 401
        assert response.json["field"] == "X-Moderation-Site"
    assert count(Report) == 0


def test_during_a_rotation_both_secrets_work_and_then_only_the_new(client, secret,
                                                                   stored_comment):
    with session_scope() as session:
        newer = rotate_webhook_secret(session, SITE)
    old_body, new_body = report_body("u-1"), report_body("u-2")
    assert post(client, old_body, sign(secret, old_body)).status_code == 201
    assert post(client, new_body, sign(newer, new_body)).status_code == 201
    with session_scope() as session:
        rotate_webhook_secret(session, SITE)
    late_body = report_body("u-3")
    assert post(client, late_body, sign(secret, late_body)).status_code == 401


def test_a_signed_but_invalid_report_names_the_field(client, secret, stored_comment):
    body = json.dumps({"reporter_id": "u-9", "reason": "threats"}).encode()
    response = post(client, body, sign(secret, body))
    assert response.status_code == 422
    assert response.json["field"] == "comment_id"
