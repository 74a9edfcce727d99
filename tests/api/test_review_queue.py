"""The review queue over JSON and its service: order, filters, leases, decisions, undo,
escalation, site isolation, and concurrent claims on a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.db import session_scope
from moderation.entities import (
    Assessment,
    AuditEvent,
    Comment,
    CommentStatus,
    Decision,
    ReviewItem,
    ReviewState,
    utcnow,
)
from moderation.errors import Conflict
from moderation.services import queue
from moderation.services.review import open_review
from tests.api.payloads import comment as contract_comment
from tests.conftest import new_key

QUEUE = "/v1/review-queue"


def put_in_review(client, key: str, comment_id: str, text: str, rule: str = "personal-abuse",
                  score: float = 0.7, priority: float = 1.0, reports: int = 0) -> int:
    """A comment sent through the API, then placed in review as the scorer would."""
    response = client.post("/v1/comments", json=contract_comment(comment_id, text=text),
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 202
    with session_scope() as session:
        stored = session.scalars(select(Comment).where(Comment.external_id == comment_id)).one()
        stored.status = CommentStatus.IN_REVIEW
        stored.report_count = reports
        session.add(Assessment(site_id=stored.site_id, comment_id=stored.id,
                               scores={rule: score}, evidence={rule: [[0, 4]]}, flags=[rule],
                               decision="review", reasons=[], model_version="test",
                               policy_version="test"))
        item = open_review(session, site_id=stored.site_id, comment_id=stored.id,
                           priority=priority, reasons=[f"{rule} score {score}"])
        session.flush()
        return item.id


@pytest.fixture
def key(app) -> str:  # type: ignore[no-untyped-def]
    return new_key("the-courier")


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_queue_is_ordered_by_priority_with_counts_and_filters(client, key):
    put_in_review(client, key, "insult", "You absolute clown", priority=2.1)
    put_in_review(client, key, "threat", "I will hurt you", rule="threats", priority=4.5)
    put_in_review(client, key, "reported", "Meh, idiots all", priority=1.0, reports=3)
    out = client.get(QUEUE, headers=_auth(key)).json
    assert [i["comment_id"] for i in out["items"]] == ["threat", "insult", "reported"]
    assert out["counts_by_rule"] == {"threats": 1, "personal-abuse": 2}
    only_reported = client.get(f"{QUEUE}?reported=1", headers=_auth(key)).json
    assert [i["comment_id"] for i in only_reported["items"]] == ["reported"]
    threats = client.get(f"{QUEUE}?rule=threats", headers=_auth(key)).json
    assert [i["comment_id"] for i in threats["items"]] == ["threat"]
    search = client.get(f"{QUEUE}?q=clown", headers=_auth(key)).json
    assert [i["comment_id"] for i in search["items"]] == ["insult"]
    assert client.get(f"{QUEUE}?limit=x", headers=_auth(key)).json["field"] == "limit"


def test_waiting_time_lifts_an_old_item(client, key):
    put_in_review(client, key, "new", "You clown", priority=2.0)
    old = put_in_review(client, key, "old", "You muppet", priority=1.5)
    with session_scope() as session:
        session.execute(update(ReviewItem).where(ReviewItem.id == old)
                        .values(created_at=utcnow() - timedelta(hours=3)))
    out = client.get(QUEUE, headers=_auth(key)).json
    assert [i["comment_id"] for i in out["items"]] == ["old", "new"]


def test_a_claim_is_a_lease_nobody_else_can_take_until_it_expires(client, key):
    item = put_in_review(client, key, "c1", "You clown")
    first = client.post(f"{QUEUE}/{item}/claim", json={"moderator": "ann"}, headers=_auth(key))
    assert first.status_code == 200
    second = client.post(f"{QUEUE}/{item}/claim", json={"moderator": "bob"}, headers=_auth(key))
    assert second.status_code == 409
    assert "ann" in second.json["message"]
    again = client.post(f"{QUEUE}/{item}/claim", json={"moderator": "ann"}, headers=_auth(key))
    assert again.status_code == 200  # renewing your own lease
    with session_scope() as session:
        session.execute(update(ReviewItem).where(ReviewItem.id == item)
                        .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    late = client.post(f"{QUEUE}/{item}/claim", json={"moderator": "bob"}, headers=_auth(key))
    assert late.status_code == 200
    stale = client.post(f"{QUEUE}/{item}/decision", json={"moderator": "ann",
                                                          "decision": "approve"},
                        headers=_auth(key))
    assert stale.status_code == 409  # ann's lease ran out and bob holds it now


def test_a_decision_needs_the_lease_and_is_recorded_and_visible_to_the_site(client, key):
    item = put_in_review(client, key, "c1", "You clown")
    body = {"moderator": "ann", "decision": "reject", "rules": ["personal-abuse"],
            "note": "name-calling"}
    assert client.post(f"{QUEUE}/{item}/decision", json=body,
                       headers=_auth(key)).status_code == 409
    client.post(f"{QUEUE}/{item}/claim", json={"moderator": "ann"}, headers=_auth(key))
    response = client.post(f"{QUEUE}/{item}/decision", json=body, headers=_auth(key))
    assert response.status_code == 200
    state = client.get("/v1/comments/c1", headers=_auth(key)).json
    assert (state["status"], state["decided_by"], state["visible"]) == (
        "rejected", "moderator", False)
    with session_scope() as session:
        decision = session.scalars(select(Decision)).one()
        assert (decision.rules, decision.note) == (["personal-abuse"], "name-calling")
        assert decision.actor.endswith(":ann")
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.kind == "comment.rejected")).one()
        assert event.data["note"] == "name-calling" and event.actor.endswith(":ann")
        assert session.get_one(ReviewItem, item).state == ReviewState.CLOSED
    assert client.get(QUEUE, headers=_auth(key)).json["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"moderator": "ann", "decision": "reject"}, 422, "rules"),
        ({"moderator": "ann", "decision": "reject", "rules": ["no-such-rule"]}, 422, "rules"),
        ({"moderator": "ann", "decision": "delete"}, 422, "decision"),
        ({"decision": "approve"}, 422, "moderator"),
        ({"moderator": "a b", "decision": "approve"}, 422, "moderator"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(client, key, body, status, field):
    item = put_in_review(client, key, "c1", "You clown")
    client.post(f"{QUEUE}/{item}/claim", json={"moderator": "ann"}, headers=_auth(key))
    response = client.post(f"{QUEUE}/{item}/decision", json=body, headers=_auth(key))
    assert (response.status_code, response.json["field"]) == (status, field)
    with session_scope() as session:
        assert session.get_one(ReviewItem, item).state == ReviewState.OPEN
        assert session.scalars(select(Decision)).all() == []


def test_undo_puts_the_comment_back_in_review_once_and_only_within_the_window(client, key):
    item = put_in_review(client, key, "c1", "You clown")
    client.post(f"{QUEUE}/{item}/claim", json={"moderator": "ann"}, headers=_auth(key))
    decided = client.post(f"{QUEUE}/{item}/decision", json={
        "moderator": "ann", "decision": "approve"}, headers=_auth(key)).json
    url = f"{QUEUE}/decisions/{decided['decision_id']}/undo"
    assert client.post(url, json={"moderator": "bob"}, headers=_auth(key)).status_code == 403
    undone = client.post(url, json={"moderator": "ann"}, headers=_auth(key))
    assert undone.status_code == 200
    assert client.get("/v1/comments/c1", headers=_auth(key)).json["status"] == "in_review"
    assert client.post(url, json={"moderator": "ann"}, headers=_auth(key)).status_code == 409
    # decide again, then let the window pass
    client.post(f"{QUEUE}/{item}/decision", json={"moderator": "ann", "decision": "approve"},
                headers=_auth(key))
    with session_scope() as session:
        session.execute(update(Decision).where(Decision.undone_at.is_(None))
                        .values(created_at=utcnow() - queue.UNDO_WINDOW - timedelta(seconds=1)))
        latest = session.scalars(select(Decision).where(Decision.undone_at.is_(None))).one().id
    late = client.post(f"{QUEUE}/decisions/{latest}/undo", json={"moderator": "ann"},
                       headers=_auth(key))
    assert late.status_code == 409
    with session_scope() as session:
        kinds = [e.kind for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert kinds.count("decision.undone") == 1


def test_an_escalated_item_waits_for_a_senior(client, key):
    item = put_in_review(client, key, "c1", "You clown")
    client.post(f"{QUEUE}/{item}/claim", json={"moderator": "ann"}, headers=_auth(key))
    assert client.post(f"{QUEUE}/{item}/decision", json={
        "moderator": "ann", "decision": "escalate", "note": "legal?"},
        headers=_auth(key)).status_code == 200
    junior = client.post(f"{QUEUE}/{item}/claim", json={"moderator": "bob"}, headers=_auth(key))
    assert junior.status_code == 403
    senior = client.post(f"{QUEUE}/{item}/claim", json={"moderator": "sue", "senior": True},
                         headers=_auth(key))
    assert senior.status_code == 200
    escalated = client.get(f"{QUEUE}?escalated=1", headers=_auth(key)).json["items"]
    assert [i["comment_id"] for i in escalated] == ["c1"]


def test_another_sites_key_sees_and_touches_nothing(client, key):
    item = put_in_review(client, key, "c1", "You clown")
    other = new_key("the-gazette")
    assert client.get(QUEUE, headers=_auth(other)).json["items"] == []
    for path, body in ((f"{QUEUE}/{item}/claim", {"moderator": "eve"}),
                       (f"{QUEUE}/{item}/decision", {"moderator": "eve",
                                                     "decision": "approve"})):
        assert client.post(path, json=body, headers=_auth(other)).status_code == 404
    with session_scope() as session:
        assert session.get_one(ReviewItem, item).leased_by is None


def test_a_key_without_the_moderate_scope_is_refused(client, app):
    from moderation.services.keys import create_key

    with session_scope() as session:
        submit_only = create_key(session, "the-courier", scopes=("submit",))
    assert client.get(QUEUE, headers=_auth(submit_only)).status_code == 403


def test_concurrent_claims_of_one_item_have_exactly_one_winner(client, key):
    item = put_in_review(client, key, "c1", "You clown")
    with session_scope() as session:
        site_ids = (session.get_one(ReviewItem, item).site_id,)
    moderators = [f"m{i}" for i in range(8)]
    start = threading.Barrier(len(moderators))
    won: list[str] = []
    lost: list[str] = []

    def try_claim(name: str) -> None:
        start.wait()
        try:
            with session_scope() as session:
                queue.claim(session, item, site_ids, name)
            won.append(name)
        except Conflict:
            lost.append(name)

    threads = [threading.Thread(target=try_claim, args=(m,)) for m in moderators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 7
    with session_scope() as session:
        assert session.get_one(ReviewItem, item).leased_by == won[0]


def test_two_moderators_working_the_queue_at_once_never_get_the_same_item(client, key):
    items = [put_in_review(client, key, f"c{i}", f"You clown number {i}", priority=float(i))
             for i in range(12)]
    with session_scope() as session:
        site_ids = (session.get_one(ReviewItem, items[0]).site_id,)
    start = threading.Barrier(2)
    claimed: dict[str, list[int]] = {"ann": [], "bob": []}

    def work(name: str) -> None:
        start.wait()
        for _ in range(6):
            with session_scope() as session:
                entries = queue.queue_entries(session, site_ids[0])
            for entry in entries:
                if entry.leased_by is not None:
                    continue
                try:
                    with session_scope() as session:
                        queue.claim(session, entry.item_id, site_ids, name)
                except Conflict:
                    continue
                claimed[name].append(entry.item_id)
                break

    threads = [threading.Thread(target=work, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(claimed["ann"]) & set(claimed["bob"])
    assert sorted(claimed["ann"] + claimed["bob"]) == sorted(items)
