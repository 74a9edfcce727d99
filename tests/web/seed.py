"""Data for the browser tests and the README screenshots, made through the services.

``queued`` stores a comment the way intake does and records the scorer's verdict with
``services.scoring.assess``: with fixed scores (the tests, so the order of the queue is
known) or the real classifier's (the screenshots).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from moderation.db import session_scope
from moderation.entities import Article, Author, Comment, CommentStatus, ReviewItem, utcnow
from moderation.schemas import ReportIn
from moderation.services import events
from moderation.services.moderators import create_moderator
from moderation.services.reports import add_report
from moderation.services.scoring import assess
from moderation.services.sites import get_or_create_site, site_policy

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Score:
    """What the scorer returns per rule (the policy reads .score and .evidence)."""

    score: float
    evidence: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    tags: tuple[str, ...] = ()
    url: str = ""


def moderator(username: str, sites: Sequence[str], role: str = "moderator",
              display_name: str = "") -> None:
    with session_scope() as session:
        create_moderator(session, username, PASSWORD, sites=list(sites), role=role,
                         display_name=display_name or username.title())


def evidence_of(text: str, *words: str) -> tuple[tuple[int, int], ...]:
    """Character spans of ``words`` in ``text`` (the first occurrence of each)."""
    spans = []
    for word in words:
        start = text.index(word)
        spans.append((start, start + len(word)))
    return tuple(spans)


def queued(site: str, comment_id: str, text: str, story: Story,
           scores: Mapping[str, Score] | None = None, *, author: tuple[str, str] = ("u-1", ""),
           parent_id: str | None = None, model_version: str = "test-model",
           received: datetime | None = None) -> int:
    """Store a comment and decide it under the site's policy; returns the comment's id.
    Scores at or above a rule's review threshold queue it for a moderator."""
    with session_scope() as session:
        site_row = get_or_create_site(session, site)
        article = session.scalar(select(Article).where(
            Article.site_id == site_row.id, Article.external_id == story.id))
        if article is None:
            article = Article(site_id=site_row.id, external_id=story.id, title=story.title,
                              url=story.url, tags=sorted(story.tags))
            session.add(article)
        writer = session.scalar(select(Author).where(
            Author.site_id == site_row.id, Author.external_id == author[0]))
        if writer is None:
            writer = Author(site_id=site_row.id, external_id=author[0],
                            name=author[1] or author[0])
            session.add(writer)
        session.flush()
        comment = Comment(site_id=site_row.id, external_id=comment_id, article_id=article.id,
                          author_id=writer.id, parent_external_id=parent_id, text=text,
                          body_hash=hashlib.sha256(text.encode()).hexdigest(),
                          created_at=received, received_at=received or utcnow(),
                          status=CommentStatus.PENDING)
        session.add(comment)
        session.flush()
        events.record(session, site_id=site_row.id, comment_id=comment.id,
                      kind="comment.received", actor="site", status="pending")
        assess(session, comment, scores or {}, model_version, site_policy(site_row))
        if received is not None:
            # Backdate the queue entry too, so waiting times look like a real shift.
            item = session.scalar(select(ReviewItem).where(ReviewItem.comment_id == comment.id))
            if item is not None:
                item.created_at = received + timedelta(seconds=40)
        return comment.id


def report(site: str, comment_id: str, reporter: str, reason: str, note: str = "") -> None:
    with session_scope() as session:
        site_id = get_or_create_site(session, site).id
    add_report(site_id, comment_id, ReportIn(reporter_id=reporter, reason=reason, note=note))


def item_of(comment_external_id: str) -> int:
    with session_scope() as session:
        item_id = session.scalar(select(ReviewItem.id).join(
            Comment, Comment.id == ReviewItem.comment_id).where(
            Comment.external_id == comment_external_id))
    assert item_id is not None, f"{comment_external_id} is not queued"
    return item_id
