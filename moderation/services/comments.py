"""Reading a comment's state as the site sees it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.db import session_scope
from moderation.entities import Assessment, Comment
from moderation.errors import NotFound
from moderation.schemas import CommentStateOut, FlagOut


def find_comment(session: Session, site_id: int, external_id: str) -> Comment:
    """A comment of this site only; another site's id is simply not found."""
    comment = session.scalar(
        select(Comment).where(Comment.site_id == site_id, Comment.external_id == external_id)
    )
    if comment is None:
        raise NotFound(f"no comment with id {external_id!r}", field="id")
    return comment


def comment_state(site_id: int, external_id: str) -> CommentStateOut:
    with session_scope() as session:
        comment = find_comment(session, site_id, external_id)
        assessment = session.scalar(
            select(Assessment).where(Assessment.comment_id == comment.id)
            .order_by(Assessment.id.desc()).limit(1)
        )
        flags: list[FlagOut] = []
        scores: dict[str, float] = {}
        if assessment is not None:
            scores = dict(assessment.scores)
            flags = [
                FlagOut(rule=rule, score=scores.get(rule, 0.0),
                        evidence=[tuple(span) for span in assessment.evidence.get(rule, [])])
                for rule in assessment.flags
            ]
        return CommentStateOut(
            id=comment.external_id,
            status=comment.status.value,
            visible=comment.visible,
            flags=flags,
            scores=scores,
            decided_by=comment.decided_by,  # type: ignore[arg-type]
            model_version=assessment.model_version if assessment else None,
            policy_version=assessment.policy_version if assessment else None,
            reports=comment.report_count,
            received_at=comment.received_at,
            scored_at=assessment.created_at if assessment else None,
            decided_at=comment.decided_at,
        )
