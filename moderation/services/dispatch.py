"""Publishing scoring work to the broker, after the comments are safely committed.

Publishing never fails a request: if the broker is down the comment simply stays pending,
and the sweeper publishes it once the broker answers again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from celery import Celery
from sqlalchemy import or_, select, update

from moderation.db import session_scope
from moderation.entities import Comment, CommentStatus

log = logging.getLogger(__name__)

SCORE_TASK = "moderation.score_comments"


def _chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]


def enqueue_scoring(celery: Celery, comment_ids: Sequence[int], batch_size: int) -> list[int]:
    """Publish scoring tasks in batches; returns the ids handed to the broker.

    Nothing is written here: the sweeper measures a comment's wait from ``received_at``
    until it has re-published it itself, so the request path costs no extra write.
    """
    published: list[int] = []
    for chunk in _chunks(comment_ids, batch_size):
        try:
            celery.send_task(SCORE_TASK, args=[chunk], retry=False)
        except Exception as exc:  # noqa: BLE001 - any broker failure: leave it to the sweeper
            log.warning("broker unavailable, %d comment(s) left for the sweeper: %s",
                        len(comment_ids) - len(published), exc)
            break
        published.extend(chunk)
    return published


def stale_pending_ids(grace_seconds: float, limit: int = 5000) -> list[int]:
    """Pending comments waiting longer than the grace period since arrival or re-publishing."""
    cutoff = datetime.now(UTC) - timedelta(seconds=grace_seconds)
    with session_scope() as session:
        return list(session.scalars(
            select(Comment.id)
            .where(Comment.status == CommentStatus.PENDING)
            .where(or_(Comment.enqueued_at < cutoff,
                       Comment.enqueued_at.is_(None) & (Comment.received_at < cutoff)))
            .order_by(Comment.received_at)
            .limit(limit)
        ))


def sweep(celery: Celery, grace_seconds: float, batch_size: int) -> int:
    """Re-publish every stale pending comment: an accepted comment is never left behind."""
    ids = stale_pending_ids(grace_seconds)
    if not ids:
        return 0
    published = enqueue_scoring(celery, ids, batch_size)
    if published:
        with session_scope() as session:
            session.execute(
                update(Comment)
                .where(Comment.id.in_(published))
                .values(enqueued_at=datetime.now(UTC),
                        enqueue_attempts=Comment.enqueue_attempts + 1)
            )
    log.info("sweeper re-enqueued %d of %d stale pending comment(s)", len(published), len(ids))
    return len(published)
