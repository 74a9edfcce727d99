"""Reports from distinct readers hide a comment; readers count by their record (brigading)."""

from __future__ import annotations

from sqlalchemy import select

from moderation.db import session_scope
from moderation.entities import AuditEvent, Comment, CommentStatus, Report, ReviewItem
from tests.api.payloads import comment


def published(client, auth, comment_id: str, decided_by: str = "model",
              status: CommentStatus = CommentStatus.APPROVED) -> None:
    """A comment the scorer (or a moderator) has already approved and shown."""
    assert client.post("/v1/comments", json=comment(comment_id, text="A view some dislike"),
                       headers=auth).status_code == 202
    with session_scope() as session:
        stored = session.scalars(select(Comment).where(Comment.external_id == comment_id)).one()
        stored.status, stored.visible, stored.decided_by = status, status == (
            CommentStatus.APPROVED), decided_by


def report(client, auth, comment_id: str, reader: str):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/comments/{comment_id}/reports",
                       json={"reporter_id": reader, "reason": "personal-abuse"}, headers=auth)


def test_three_readers_hide_a_comment_until_a_moderator_decides(client, auth):
    published(client, auth, "c1")
    for reader in ("r1", "r2"):
        report(client, auth, "c1", reader)
    assert client.get("/v1/comments/c1", headers=auth).json["visible"] is True
    report(client, auth, "c1", "r1")  # the same reader again counts once
    assert client.get("/v1/comments/c1", headers=auth).json["visible"] is True
    report(client, auth, "c1", "r3")
    state = client.get("/v1/comments/c1", headers=auth).json
    assert (state["visible"], state["reports"]) == (False, 3)
    with session_scope() as session:
        hidden = session.scalars(select(AuditEvent).where(
            AuditEvent.kind == "comment.hidden")).one()
        assert hidden.data["reports"] == 3


def test_a_moderators_approval_is_not_undone_by_reports(client, auth):
    published(client, auth, "c1", decided_by="moderator")
    for reader in ("r1", "r2", "r3", "r4"):
        report(client, auth, "c1", reader)
    assert client.get("/v1/comments/c1", headers=auth).json["visible"] is True


def _history(client, auth, reader: str, upheld: bool, n: int, prefix: str) -> None:
    """``n`` earlier reports by ``reader`` on comments a moderator then decided."""
    status = CommentStatus.REJECTED if upheld else CommentStatus.APPROVED
    for i in range(n):
        published(client, auth, f"{prefix}{i}", decided_by="moderator", status=status)
        report(client, auth, f"{prefix}{i}", reader)


def test_readers_whose_reports_are_upheld_weigh_more_and_brigades_less(client, auth):
    _history(client, auth, "trusted", upheld=True, n=2, prefix="t")
    for brigader in ("b1", "b2", "b3", "b4"):
        _history(client, auth, brigader, upheld=False, n=2, prefix=f"{brigader}-")
    published(client, auth, "target")
    for brigader in ("b1", "b2", "b3", "b4"):
        report(client, auth, "target", brigader)
    # four readers, but each has had every report rejected: 4 x 0.5 < 3
    assert client.get("/v1/comments/target", headers=auth).json["visible"] is True
    with session_scope() as session:
        weights = {r.reporter_id: r.weight for r in session.scalars(
            select(Report).join(Comment).where(Comment.external_id == "target"))}
        assert weights == {"b1": 0.5, "b2": 0.5, "b3": 0.5, "b4": 0.5}
        target = session.scalars(select(Comment).where(Comment.external_id == "target")).one()
        brigade_priority = session.scalars(select(ReviewItem).where(
            ReviewItem.comment_id == target.id)).one().priority
    published(client, auth, "other")
    report(client, auth, "other", "trusted")
    with session_scope() as session:
        other = session.scalars(select(Comment).where(Comment.external_id == "other")).one()
        trusted_weight = session.scalars(select(Report.weight).where(
            Report.comment_id == other.id)).one()
        trusted_priority = session.scalars(select(ReviewItem).where(
            ReviewItem.comment_id == other.id)).one().priority
    assert trusted_weight == 1.5
    # one trusted reader moves a comment up as far as three brigaders
    assert trusted_priority >= brigade_priority * 3 / 4 - 1e-9
