"""The real flow: API → PostgreSQL → Redis → a Celery worker process → decision."""

from __future__ import annotations

from sqlalchemy import func, select

from moderation.db import session_scope
from moderation.entities import Assessment, AuditEvent, ReviewItem
from tests.api.payloads import comment
from tests.support import count, wait_for

DECIDED_WITHIN = 60


def decided(client, auth, comment_id: str) -> dict:  # type: ignore[no-untyped-def]
    def state() -> dict | None:
        body = client.get(f"/v1/comments/{comment_id}", headers=auth).json
        return body if body["status"] != "pending" else None

    return wait_for(state, DECIDED_WITHIN, message=f"comment {comment_id} to be decided")


def test_a_threat_is_flagged_with_evidence(client, auth, worker):
    text = "I know where you live and I will kill you"
    client.post("/v1/comments", json=comment("t-1", text=text), headers=auth)
    state = decided(client, auth, "t-1")
    assert state["status"] in ("in_review", "rejected")
    assert state["visible"] is False
    flags = {flag["rule"]: flag for flag in state["flags"]}
    assert "threats" in flags
    assert flags["threats"]["score"] == state["scores"]["threats"] >= 0.4
    for start, end in flags["threats"]["evidence"]:
        assert 0 <= start < end <= len(text)
    assert state["model_version"]
    assert state["policy_version"].startswith("p-")


def test_an_ordinary_comment_is_published(client, auth, worker):
    text = "Thanks for this article, the council should fix the roads before winter."
    client.post("/v1/comments", json=comment("ok-1", text=text), headers=auth)
    state = decided(client, auth, "ok-1")
    assert state["status"] == "approved"
    assert state["visible"] is True
    assert state["decided_by"] == "model"
    assert state["flags"] == []


def test_a_flagged_comment_on_a_sensitive_story_stays_hidden_in_review(client, auth, worker):
    body = comment("so-1", text="Call her on 07700 900123 and tell her what you think",
                   tags=["sexual-offences"])
    client.post("/v1/comments", json=body, headers=auth)
    state = decided(client, auth, "so-1")
    assert state["status"] in ("in_review", "rejected")
    assert "personal-data" in {flag["rule"] for flag in state["flags"]}
    assert state["visible"] is False


def test_a_batch_is_scored_once_each_and_every_change_is_an_event(client, auth, worker):
    texts = ["Great piece.", "You are a pathetic idiot", "Buy cheap watches at bit.ly/x9",
             "I disagree with the council", "someone should stab him"] * 20
    body = {"comments": [comment(f"b-{i}", text=t) for i, t in enumerate(texts)]}
    assert client.post("/v1/comments:batch", json=body, headers=auth).status_code == 202
    for i in range(len(texts)):
        decided(client, auth, f"b-{i}")
    with session_scope() as session:
        per_comment = session.execute(
            select(Assessment.comment_id, func.count()).group_by(Assessment.comment_id)
        ).all()
    assert len(per_comment) == len(texts)
    assert {n for _, n in per_comment} == {1}
    assert count(AuditEvent, kind="comment.received") == len(texts)
    status_events = sum(count(AuditEvent, kind=f"comment.{s}")
                        for s in ("approved", "in_review", "rejected"))
    assert status_events == len(texts)


def test_a_redelivered_task_does_no_harm(client, auth, worker, app):
    client.post("/v1/comments", json=comment("r-1", text="You are an idiot"), headers=auth)
    first = decided(client, auth, "r-1")
    with session_scope() as session:
        comment_id = session.scalar(select(Assessment.comment_id))
    app.extensions["celery"].send_task("moderation.score_comments", args=[[comment_id]])
    app.extensions["celery"].send_task("moderation.sweep_pending")
    wait_for(lambda: "succeeded" in worker.log().split("sweep_pending")[-1], 30,
             message="the worker to run the repeated tasks")
    assert count(Assessment) == 1
    assert client.get("/v1/comments/r-1", headers=auth).json == first


def test_a_report_puts_a_published_comment_in_the_queue(client, auth, worker):
    client.post("/v1/comments", json=comment("p-1", text="The bins were late again"),
                headers=auth)
    assert decided(client, auth, "p-1")["status"] == "approved"
    client.post("/v1/comments/p-1/reports", json={"reporter_id": "u-1", "reason": "other"},
                headers=auth)
    with session_scope() as session:
        item = session.scalars(select(ReviewItem)).one()
    client.post("/v1/comments/p-1/reports", json={"reporter_id": "u-2", "reason": "threats"},
                headers=auth)
    with session_scope() as session:
        again = session.scalars(select(ReviewItem)).one()
    assert again.priority > item.priority > 0
    assert "reported: threats" in again.reasons
