"""Working the review queue: list, claim (a lease), decide, escalate, undo.

Why leases: two moderators must never decide the same comment at once. Claiming is one
conditional UPDATE (open, and not leased to someone else unless that lease has run out), so
the database settles a race: of two simultaneous claims exactly one changes the row.
Deciding needs a live lease, so a moderator whose lease ran out and was taken over cannot
overwrite the other's decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from moderation.entities import (
    Assessment,
    Comment,
    CommentStatus,
    Decision,
    ReviewItem,
    ReviewState,
    Site,
    utcnow,
)
from moderation.errors import Conflict, Forbidden, Invalid, NotFound
from moderation.policy import visible_for
from moderation.services import events
from moderation.services.sites import site_policy

__all__ = ["LEASE", "UNDO_WINDOW", "QueueEntry", "QueueFilters", "claim", "decide",
           "escalate", "latest_assessment", "queue_entries", "release", "undo"]

LEASE = timedelta(minutes=5)
UNDO_WINDOW = timedelta(minutes=2)
# Waiting raises priority by this much per hour, up to MAX_WAIT_BONUS: old items surface.
WAIT_BONUS_PER_HOUR = 0.5
MAX_WAIT_BONUS = 2.0
# Items on a moderator's own sections come first.
SECTION_BONUS = 10.0


@dataclass(frozen=True)
class QueueFilters:
    rule: str = ""
    story: str = ""  # article external id
    section: str = ""  # a story tag
    author: str = ""  # author external id or name
    reported_only: bool = False
    search: str = ""
    escalated_only: bool = False


@dataclass
class QueueEntry:
    item_id: int
    comment_id: str
    text: str
    rules: list[str]
    top_score: float
    story_title: str
    story_tags: list[str]
    author: str
    reports: int
    waiting_minutes: int
    priority: float
    escalated: bool
    leased_by: str | None
    scores: dict[str, float] = field(default_factory=dict)


def latest_assessment(session: Session, comment_id: int) -> Assessment | None:
    return session.scalar(select(Assessment).where(Assessment.comment_id == comment_id)
                          .order_by(Assessment.id.desc()).limit(1))


def _lease_holder(item: ReviewItem, now: datetime) -> str | None:
    if item.leased_by and item.lease_expires_at and item.lease_expires_at > now:
        return item.leased_by
    return None


def queue_entries(session: Session, site_id: int, filters: QueueFilters = QueueFilters(),
                  *, sections: tuple[str, ...] = (), now: datetime | None = None,
                  limit: int = 200) -> list[QueueEntry]:
    """Open items of one site, most urgent first (stored priority + waiting time, and the
    moderator's own sections ahead of the rest)."""
    now = now or utcnow()
    query = (select(ReviewItem, Comment)
             .join(Comment, Comment.id == ReviewItem.comment_id)
             .where(ReviewItem.site_id == site_id, ReviewItem.state == ReviewState.OPEN)
             .options(selectinload(Comment.article), selectinload(Comment.author)))
    if filters.reported_only:
        query = query.where(Comment.report_count > 0)
    if filters.escalated_only:
        query = query.where(ReviewItem.escalated.is_(True))
    if filters.search:
        query = query.where(Comment.text.ilike(f"%{_escape_like(filters.search)}%",
                                               escape="\\"))
    rows = session.execute(query.order_by(ReviewItem.priority.desc()).limit(2000)).all()
    entries = []
    for item, comment in rows:
        article, author = comment.article, comment.author
        if filters.story and article.external_id != filters.story:
            continue
        if filters.section and filters.section.lower() not in article.tags:
            continue
        if filters.author and (author is None or filters.author.lower() not in (
                author.external_id.lower(), (author.name or "").lower())):
            continue
        assessment = latest_assessment(session, comment.id)
        flags = list(assessment.flags) if assessment else []
        if filters.rule and filters.rule not in flags and filters.rule not in item.reasons:
            continue
        scores = dict(assessment.scores) if assessment else {}
        waited = (now - item.created_at).total_seconds()
        priority = item.priority + min(MAX_WAIT_BONUS, WAIT_BONUS_PER_HOUR * waited / 3600)
        if sections and set(sections) & set(article.tags):
            priority += SECTION_BONUS
        entries.append(QueueEntry(
            item_id=item.id, comment_id=comment.external_id, text=comment.text, rules=flags,
            top_score=max((scores.get(r, 0.0) for r in flags), default=0.0),
            story_title=article.title, story_tags=list(article.tags),
            author=(author.name or author.external_id) if author else "",
            reports=comment.report_count, waiting_minutes=int(waited // 60),
            priority=round(priority, 3), escalated=item.escalated,
            leased_by=_lease_holder(item, now), scores=scores,
        ))
    entries.sort(key=lambda e: (-e.priority, e.item_id))
    return entries[:limit]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _item(session: Session, item_id: int, site_ids: tuple[int, ...]) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None or item.site_id not in site_ids:
        raise NotFound("no such review item")
    return item


def claim(session: Session, item_id: int, site_ids: tuple[int, ...], actor: str,
          senior: bool = False, now: datetime | None = None) -> datetime:
    """Lease the item to ``actor``; returns when the lease ends. Conflict if someone else
    holds it. Claiming an item you hold renews the lease."""
    now = now or utcnow()
    item = _item(session, item_id, site_ids)
    if item.state != ReviewState.OPEN:
        raise Conflict("this comment has already been decided", field="item")
    if item.escalated and not senior:
        raise Forbidden("this comment was escalated to a senior moderator", field="item")
    expires = now + LEASE
    result = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.state == ReviewState.OPEN,
               or_(ReviewItem.leased_by.is_(None), ReviewItem.leased_by == actor,
                   ReviewItem.lease_expires_at < now))
        .values(leased_by=actor, lease_expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(item)
        raise Conflict(f"{item.leased_by} is working on this comment", field="item")
    session.refresh(item)
    return expires


def release(session: Session, item_id: int, site_ids: tuple[int, ...], actor: str) -> None:
    item = _item(session, item_id, site_ids)
    if item.leased_by == actor:
        item.leased_by, item.lease_expires_at = None, None


def _require_lease(item: ReviewItem, actor: str, now: datetime) -> None:
    if item.state != ReviewState.OPEN:
        raise Conflict("this comment has already been decided", field="item")
    holder = _lease_holder(item, now)
    if holder != actor:
        raise Conflict("claim the comment first" if holder is None
                       else f"{holder} is working on this comment", field="item")


def decide(session: Session, item_id: int, site_ids: tuple[int, ...], actor: str,
           outcome: str, rules: list[str], note: str = "", senior: bool = False,
           now: datetime | None = None) -> Decision:
    """A moderator's approve or reject, with the rules broken and a note."""
    now = now or utcnow()
    if outcome not in ("approve", "reject"):
        raise Invalid("the decision is 'approve' or 'reject'", field="decision")
    item = _item(session, item_id, site_ids)
    if item.escalated and not senior:
        raise Forbidden("this comment was escalated to a senior moderator", field="item")
    _require_lease(item, actor, now)
    comment = session.get_one(Comment, item.comment_id)
    policy = site_policy(session.get_one(Site, item.site_id))
    unknown = sorted(set(rules) - set(policy.rule_ids))
    if unknown:
        raise Invalid(f"not rules of this site: {', '.join(unknown)}", field="rules")
    if outcome == "reject" and not rules:
        raise Invalid("say which rule the comment breaks", field="rules")
    status = CommentStatus.APPROVED if outcome == "approve" else CommentStatus.REJECTED
    previous = comment.status
    comment.status = status
    comment.visible = visible_for(policy, status.value, comment.article.tags)
    comment.decided_by, comment.decided_at = "moderator", now
    item.state, item.closed_at = ReviewState.CLOSED, now
    item.leased_by, item.lease_expires_at = None, None
    decision = Decision(site_id=item.site_id, comment_id=comment.id, outcome=outcome,
                        rules=sorted(set(rules)), note=note.strip()[:2000],
                        decided_by="moderator", actor=actor, created_at=now)
    session.add(decision)
    session.flush()
    events.record(session, site_id=item.site_id, comment_id=comment.id,
                  kind=f"comment.{status.value}", actor=actor, previous=previous.value,
                  status=status.value, visible=comment.visible, rules=decision.rules,
                  note=decision.note, decision_id=decision.id)
    return decision


def escalate(session: Session, item_id: int, site_ids: tuple[int, ...], actor: str,
             note: str = "", now: datetime | None = None) -> None:
    now = now or utcnow()
    item = _item(session, item_id, site_ids)
    _require_lease(item, actor, now)
    item.escalated = True
    item.leased_by, item.lease_expires_at = None, None
    events.record(session, site_id=item.site_id, comment_id=item.comment_id,
                  kind="review.escalated", actor=actor, note=note.strip()[:2000])


def undo(session: Session, decision_id: int, site_ids: tuple[int, ...], actor: str,
         senior: bool = False, now: datetime | None = None) -> ReviewItem:
    """Take a moderator's decision back within :data:`UNDO_WINDOW`: the comment is in review
    again, leased to whoever undid it so they can decide afresh."""
    now = now or utcnow()
    decision = session.get(Decision, decision_id)
    if decision is None or decision.site_id not in site_ids:
        raise NotFound("no such decision")
    if decision.decided_by != "moderator" or decision.undone_at is not None:
        raise Conflict("only a moderator's decision that stands can be undone", field="decision")
    if decision.actor != actor and not senior:
        raise Forbidden("only who decided, or a senior moderator, can undo it", field="decision")
    if now - decision.created_at > UNDO_WINDOW:
        raise Conflict(f"decisions can be undone for {int(UNDO_WINDOW.total_seconds())} s",
                       field="decision")
    comment = session.get_one(Comment, decision.comment_id)
    later = session.scalar(select(Decision.id).where(
        Decision.comment_id == comment.id, Decision.id > decision.id,
        Decision.undone_at.is_(None)))
    if later is not None:
        raise Conflict("a later decision on this comment stands", field="decision")
    policy = site_policy(session.get_one(Site, comment.site_id))
    decision.undone_at = now
    previous = comment.status
    comment.status = CommentStatus.IN_REVIEW
    comment.visible = visible_for(policy, CommentStatus.IN_REVIEW.value, comment.article.tags)
    comment.decided_by, comment.decided_at = None, None
    item = session.scalar(select(ReviewItem).where(ReviewItem.comment_id == comment.id))
    if item is None:
        item = ReviewItem(site_id=comment.site_id, comment_id=comment.id, priority=1.0)
        session.add(item)
    item.state, item.closed_at = ReviewState.OPEN, None
    item.leased_by, item.lease_expires_at = actor, now + LEASE
    session.flush()
    events.record(session, site_id=comment.site_id, comment_id=comment.id,
                  kind="decision.undone", actor=actor, previous=previous.value,
                  status=CommentStatus.IN_REVIEW.value, visible=comment.visible,
                  decision_id=decision.id)
    return item

