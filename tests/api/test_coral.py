"""Coral Talk's external moderation phase, replayed as Coral sends it (``phases/external.ts``:
``JSON.stringify(request, null, 2)`` signed by ``generateSignatures``) and checked against the
Joi schema Coral validates our answer with."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from sqlalchemy import select

from moderation.db import session_scope
from moderation.entities import Assessment, Comment, ReviewItem
from moderation.services.coral import set_coral_secret, title_from_url
from tests.api.payloads import comment as contract_comment
from tests.conftest import new_key
from tests.support import count

SECRET = "empsec_" + "ab12" * 16
OLD_SECRET = "empsec_" + "cd34" * 16
URL = "/v1/coral/the-courier/external-moderation"
ABUSE = "You are a worthless idiot and everyone here hates you, shut up."
KIND = "Thanks for covering the council meeting, it was really useful."

# ExternalModerationResponseSchema (external.ts), as data.
REASONS = {"COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"}
STATUSES = {"NONE", "APPROVED", "REJECTED", "PREMOD", "SYSTEM_WITHHELD"}


def coral_request(body: str, story_url: str = "https://news.example/news/council-meets-123",
                  story_id: str = "story-1", parent: str | None = None) -> dict[str, Any]:
    return {
        "action": "NEW",
        "comment": {"body": body, "parentID": parent},
        "author": {"id": "baf4e943-3594-4fcc-b2ba-3e8de7a76352", "role": "COMMENTER"},
        "story": {"id": story_id, "url": story_url},
        "site": {"id": "a4bede88-2d2c-4424-bc18-4322a9e285a6"},
        "tenantID": "19ba5794-7eeb-4d46-a81b-c00c61672501",
        "tenantDomain": "news.example",
    }


def coral_post(client, data: dict[str, Any], secrets: tuple[str, ...] = (SECRET,),
               body: bytes | None = None, url: str = URL):  # type: ignore[no-untyped-def]
    raw = body if body is not None else json.dumps(data, indent=2).encode()
    signature = ",".join(
        "sha256=" + hmac.new(s.encode(), raw, hashlib.sha256).hexdigest() for s in secrets)
    return client.post(url, data=raw, content_type="application/json",
                       headers={"X-Coral-Signature": signature,
                                "User-Agent": "Coral Moderation/9.0.0"})


def assert_coral_accepts(response) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    """What external.ts does with our answer: 204/empty = no opinion, else validate."""
    assert response.status_code in (200, 204)
    if response.status_code == 204 or response.data in (b"", b"{}"):
        return None
    body = response.json
    assert set(body) <= {"actions", "status", "tags"}, body
    for action in body.get("actions", []):
        assert action == {"actionType": "FLAG", "reason": action["reason"]}
        assert action["reason"] in REASONS
    assert body.get("status", "NONE") in STATUSES
    return body


@pytest.fixture
def coral_site(app) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        set_coral_secret(session, "the-courier", SECRET)


def test_an_abusive_comment_is_withheld_and_flagged_and_queued_with_evidence(client,
                                                                             coral_site):
    response = coral_post(client, coral_request(ABUSE))
    body = assert_coral_accepts(response)
    assert body is not None
    assert body["status"] in ("SYSTEM_WITHHELD", "REJECTED")
    assert {"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"} in body["actions"]
    with session_scope() as session:
        stored = session.scalars(select(Comment)).one()
        assert stored.external_id == response.headers["X-Moderation-Comment-Id"]
        assert stored.text == ABUSE
        assessment = session.scalars(select(Assessment)).one()
        assert "personal-abuse" in assessment.flags
        assert assessment.evidence["personal-abuse"]
        in_review = stored.status.value == "in_review"
    assert (body["status"] == "SYSTEM_WITHHELD") == in_review
    assert count(ReviewItem) == (1 if in_review else 0)


def test_an_acceptable_comment_gets_no_opinion_and_is_still_recorded(client, coral_site):
    response = coral_post(client, coral_request(KIND))
    assert response.status_code == 204
    assert assert_coral_accepts(response) is None
    with session_scope() as session:
        assert session.scalars(select(Comment)).one().status.value == "approved"


def test_spam_is_flagged_as_spam(client, coral_site):
    spam = ("Earn £5000 a week from home!!! Click http://bit.ly/cash-now and sign up today, "
            "limited offer, text WIN to 80082")
    body = assert_coral_accepts(coral_post(client, coral_request(spam)))
    assert body is not None
    assert {"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"} in body["actions"]


def test_an_html_body_is_scored_as_the_text_the_reader_sees(client, coral_site):
    coral_post(client, coral_request("<p>Thanks for covering the <b>council</b> meeting</p>"))
    with session_scope() as session:
        assert session.scalars(select(Comment)).one().text == (
            "Thanks for covering the  council  meeting")


def test_a_replayed_request_gets_the_same_answer_and_makes_no_new_record(client, coral_site):
    first = coral_post(client, coral_request(ABUSE))
    second = coral_post(client, coral_request(ABUSE))
    assert first.json == second.json
    assert first.headers["X-Moderation-Comment-Id"] == second.headers["X-Moderation-Comment-Id"]
    assert count(Comment) == 1


def test_the_story_registered_by_the_site_gives_its_tags(client, coral_site):
    key = new_key("the-courier")
    story = contract_comment("seed", tags=["sexual-offences", "active-proceedings"])
    story["article"].update(id="story-9", title="Man denies rape at festival")
    client.post("/v1/comments", json=story, headers={"Authorization": f"Bearer {key}"})
    text = "Everyone in Elm Street knows it was the Jones girl at number 12 who reported him."
    coral_post(client, coral_request(text, story_id="story-9"))
    with session_scope() as session:
        stored = session.scalars(select(Comment).where(
            Comment.external_id.like("coral:%"))).one()
        assessment = session.scalars(select(Assessment).where(
            Assessment.comment_id == stored.id)).one()
        assert "victim-identification" in assessment.flags


def test_a_story_title_is_read_from_the_url_slug():
    assert title_from_url("https://news.example/news/man-denies-rape-at-festival-8812/") == (
        "Man denies rape at festival")
    assert title_from_url("https://news.example/") == ""


def test_a_rotated_secret_still_verifies(client, coral_site):
    with session_scope() as session:
        set_coral_secret(session, "the-courier", OLD_SECRET)  # newest first: OLD is current
    response = coral_post(client, coral_request(KIND), secrets=(SECRET,))
    assert response.status_code == 204
    response = coral_post(client, coral_request(ABUSE), secrets=("empsec_" + "99" * 32, SECRET))
    assert response.status_code == 200


@pytest.mark.parametrize("tamper", ["no-header", "wrong-secret", "reserialised", "bad-format"])
def test_unsigned_or_tampered_requests_are_refused_and_not_stored(client, coral_site, tamper):
    data = coral_request(ABUSE)
    if tamper == "no-header":
        response = client.post(URL, json=data)
    elif tamper == "wrong-secret":
        response = coral_post(client, data, secrets=("empsec_" + "00" * 32,))
    elif tamper == "reserialised":
        # Signed pretty-printed, sent compact: the bytes differ, so the signature does too.
        raw = json.dumps(data, indent=2).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        response = client.post(URL, data=json.dumps(data).encode(),
                               content_type="application/json",
                               headers={"X-Coral-Signature": signature})
    else:
        response = client.post(URL, json=data, headers={"X-Coral-Signature": "v1=abc"})
    assert response.status_code == 401
    assert response.json["field"] == "X-Coral-Signature"
    assert count(Comment) == 0


def test_an_unknown_site_is_refused(client, coral_site):
    response = coral_post(client, coral_request(KIND),
                          url="/v1/coral/nobody/external-moderation")
    assert response.status_code == 401
    assert response.json["field"] == "site"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("comment"), "comment"),
        (lambda d: d["comment"].update(body=""), "comment.body"),
        (lambda d: d.pop("story"), "story"),
        (lambda d: d.update(action="DELETE"), "action"),
    ],
)
def test_a_signed_but_malformed_request_names_the_field(client, coral_site, mutate, field):
    data = coral_request(KIND)
    mutate(data)
    response = coral_post(client, data)
    assert response.status_code == 422
    assert response.json["field"] == field
    assert count(Comment) == 0


def test_a_secret_that_is_not_corals_is_refused(app):  # type: ignore[no-untyped-def]
    from moderation.errors import Invalid

    with pytest.raises(Invalid), session_scope() as session:
        set_coral_secret(session, "the-courier", "whsec_abc")
