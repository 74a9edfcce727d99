"""Everything a moderator needs to decide one comment, in one read; and author actions.

The decision view shows the comment with its evidence, the scores, the story, the thread
around it, the reports, the author's history and the text of the rules it may break.
Author actions (warn, pre-moderate, suspend, ban, restore) change how the author's next
comments are routed: the policy reads the author's status when it decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.entities import (
    AuditEvent,
    Author,
    AuthorStatus,
    Comment,
    Decision,
    Report,
    ReviewItem,
    Site,
    utcnow,
)
from moderation.errors import Invalid, NotFound
from moderation.services import events
from moderation.services.queue import latest_assessment
from moderation.services.sites import site_policy

__all__ = ["AUTHOR_ACTIONS", "ItemDetail", "author_action", "item_detail", "segments"]

AUTHOR_ACTIONS = ("warn", "premoderate", "suspend", "ban", "restore")


@dataclass
class ItemDetail:
    item: ReviewItem
    comment: Comment
    segments: list[dict[str, Any]]  # the text cut at evidence boundaries, each with its rules
    flags: list[dict[str, Any]]  # rule, score, title, description, guidance
    scores: dict[str, float]
    parent: Comment | None
    replies: list[Comment]
    reports: list[Report]
    author_history: dict[str, Any]
    history: list[AuditEvent]
    decisions: list[Decision]
    site_name: str


def segments(text: str, evidence: dict[str, list[list[int]]]) -> list[dict[str, Any]]:
    """The text in pieces at every evidence boundary; each piece lists the rules whose
    evidence covers it, so the page can highlight and label it without any HTML in data."""
    cuts = {0, len(text)}
    for spans in evidence.values():
        for start, end in spans:
            cuts.update((max(0, min(start, len(text))), max(0, min(end, len(text)))))
    points = sorted(cuts)
    out = []
    for a, b in zip(points, points[1:], strict=False):
        if a == b:
            continue
        rules = sorted(rule for rule, spans in evidence.items()
                       if any(s <= a and b <= e for s, e in spans))
        out.append({"text": text[a:b], "rules": rules})
    return out


def item_detail(session: Session, item_id: int, site_ids: tuple[int, ...]) -> ItemDetail:
    item = session.get(ReviewItem, item_id)
    if item is None or item.site_id not in site_ids:
        raise NotFound("no such review item")
    comment = session.get_one(Comment, item.comment_id)
    site = session.get_one(Site, item.site_id)
    policy = site_policy(site)
    assessment = latest_assessment(session, comment.id)
    scores = dict(assessment.scores) if assessment else {}
    evidence = dict(assessment.evidence) if assessment else {}
    flags = []
    for rule_id in (assessment.flags if assessment else []):
        rule = policy.rule(rule_id)
        flags.append({"rule": rule_id, "score": scores.get(rule_id, 0.0),
                      "title": rule.title if rule else rule_id,
                      "description": rule.description if rule else "",
                      "guidance": rule.guidance if rule else ""})
    parent = None
    if comment.parent_external_id:
        parent = session.scalar(select(Comment).where(
            Comment.site_id == comment.site_id,
            Comment.external_id == comment.parent_external_id))
    replies = list(session.scalars(select(Comment).where(
        Comment.site_id == comment.site_id,
        Comment.parent_external_id == comment.external_id).order_by(Comment.id).limit(20)))
    reports = list(session.scalars(select(Report).where(Report.comment_id == comment.id)
                                   .order_by(Report.id)))
    history = list(session.scalars(select(AuditEvent).where(
        AuditEvent.comment_id == comment.id).order_by(AuditEvent.id)))
    decisions = list(session.scalars(select(Decision).where(
        Decision.comment_id == comment.id).order_by(Decision.id)))
    return ItemDetail(item, comment, segments(comment.text, evidence), flags, scores, parent,
                      replies, reports, _author_history(session, comment), history, decisions,
                      site.name)


def _author_history(session: Session, comment: Comment) -> dict[str, Any]:
    author = comment.author
    if author is None:
        return {}
    by_status = dict(session.execute(
        select(Comment.status, func.count()).where(Comment.author_id == author.id)
        .group_by(Comment.status)).all())
    recent = list(session.scalars(select(Comment).where(
        Comment.author_id == author.id, Comment.id != comment.id)
        .order_by(Comment.id.desc()).limit(5)))
    return {"author": author, "status": author.status.value, "warnings": author.warnings,
            "suspended_until": author.suspended_until,
            "counts": {status.value: n for status, n in by_status.items()},
            "recent": recent}


def author_action(session: Session, site_ids: tuple[int, ...], author_id: int, action: str,
                  actor: str, days: int = 0, note: str = "",
                  now: datetime | None = None) -> Author:
    now = now or utcnow()
    author = session.get(Author, author_id)
    if author is None or author.site_id not in site_ids:
        raise NotFound("no such author")
    if action not in AUTHOR_ACTIONS:
        raise Invalid(f"the action is one of {', '.join(AUTHOR_ACTIONS)}", field="action")
    previous = author.status.value
    if action == "warn":
        author.warnings += 1
    elif action == "premoderate":
        author.status = AuthorStatus.PREMODERATED
    elif action == "suspend":
        if not 1 <= days <= 365:
            raise Invalid("a suspension lasts 1 to 365 days", field="days")
        author.status, author.suspended_until = AuthorStatus.SUSPENDED, now + timedelta(days=days)
    elif action == "ban":
        author.status, author.suspended_until = AuthorStatus.BANNED, None
    else:
        author.status, author.suspended_until = AuthorStatus.ACTIVE, None
    events.record(session, site_id=author.site_id, kind=f"author.{action}", actor=actor,
                  author=author.external_id, previous=previous, status=author.status.value,
                  days=days or None, note=note.strip()[:2000])
    return author
