"""The review queue: which comments wait for a moderator, and in what order."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.entities import ReviewItem, ReviewState
from moderation.policy import SENSITIVE_TAGS, Flag


def review_priority(flags: Iterable[Flag], tags: Iterable[str], report_count: int) -> float:
    """Higher first: the worst flag weighted by its rule's severity, sensitive stories, reports.

    Waiting time is added when the queue is read, since it grows while the item waits.
    """
    worst = max((flag.score * flag.severity for flag in flags), default=0.0)
    sensitive = 1.0 if frozenset(tags) & SENSITIVE_TAGS else 0.0
    reports = min(report_count, 10) * 0.3
    return round(worst + sensitive + reports, 4)


def open_review(session: Session, *, site_id: int, comment_id: int, priority: float,
                reasons: list[str]) -> ReviewItem:
    """Open (or reopen) the comment's review item; one per comment."""
    item = session.scalar(select(ReviewItem).where(ReviewItem.comment_id == comment_id))
    if item is None:
        item = ReviewItem(site_id=site_id, comment_id=comment_id)
        session.add(item)
    item.state = ReviewState.OPEN
    item.closed_at = None
    item.priority = max(priority, item.priority or 0.0)
    item.reasons = sorted(set(item.reasons or []) | set(reasons))
    return item
