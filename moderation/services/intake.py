"""Comments in: validate against the site's limits, store durably, idempotently.

The caller enqueues scoring only after this commits (see dispatch.py): a comment that is
stored but never reaches the broker is picked up by the sweeper.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.db import in_transaction_retrying_race
from moderation.entities import Article, Author, Comment, CommentStatus, Site
from moderation.errors import Conflict, Invalid, NotFound
from moderation.policy import visible_for
from moderation.schemas import CommentIn
from moderation.services import events
from moderation.services.sites import site_policy


@dataclass(frozen=True)
class Accepted:
    comment_id: int
    external_id: str
    status: str
    created: bool


def body_hash(item: CommentIn) -> str:
    """Hash of the parsed body, so whitespace or key order in the JSON do not matter."""
    canonical = json.dumps(item.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_text_length(items: Sequence[CommentIn], max_chars: int, field_prefix: str = "") -> None:
    for index, item in enumerate(items):
        if len(item.text) > max_chars:
            where = f"{field_prefix}[{index}].text" if field_prefix else "text"
            raise Invalid(f"text is {len(item.text)} characters long; the limit is {max_chars}",
                          field=where)


def accept_comments(site_id: int, items: Sequence[CommentIn], actor: str,
                    field_prefix: str = "") -> list[Accepted]:
    """Store new comments (or recognise replays) in one transaction; all or nothing.

    A concurrent insert of the same id makes the unique constraint fail; the second
    attempt then sees the row and treats the request as the replay it is.
    """
    return in_transaction_retrying_race(
        lambda session: _accept(session, site_id, items, actor, field_prefix))


def _accept(session: Session, site_id: int, items: Sequence[CommentIn], actor: str,
            field_prefix: str) -> list[Accepted]:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("site not found")
    policy = site_policy(site)
    articles: dict[str, Article] = {}
    authors: dict[str, Author] = {}
    seen: dict[str, tuple[str, Accepted]] = {}
    results: list[Accepted] = []
    for index, item in enumerate(items):
        digest = body_hash(item)
        where = f"{field_prefix}[{index}].id" if field_prefix else "id"
        if item.id in seen:
            earlier_digest, earlier = seen[item.id]
            if earlier_digest != digest:
                raise Conflict(f"comment {item.id!r} appears twice with different bodies",
                               field=where)
            results.append(earlier)
            continue
        existing = session.scalar(
            select(Comment).where(Comment.site_id == site_id, Comment.external_id == item.id)
        )
        if existing is not None:
            if existing.body_hash != digest:
                raise Conflict(f"comment {item.id!r} was already received with a different body",
                               field=where)
            accepted = Accepted(existing.id, item.id, existing.status.value, created=False)
        else:
            article = _upsert_article(session, site_id, item, articles)
            author = _upsert_author(session, site_id, item, authors)
            comment = Comment(
                site_id=site_id, external_id=item.id, article_id=article.id,
                author_id=author.id if author else None, parent_external_id=item.parent_id,
                text=item.text, body_hash=digest, created_at=item.created_at,
                status=CommentStatus.PENDING,
                visible=visible_for(policy, CommentStatus.PENDING, article.tags),
            )
            session.add(comment)
            session.flush()
            events.record(session, site_id=site_id, comment_id=comment.id,
                          kind="comment.received", actor=actor, status="pending")
            accepted = Accepted(comment.id, item.id, "pending", created=True)
        seen[item.id] = (digest, accepted)
        results.append(accepted)
    return results


def _upsert_article(session: Session, site_id: int, item: CommentIn,
                    cache: dict[str, Article]) -> Article:
    """The story as last described by the site: title and tags may change as it develops."""
    data = item.article
    article = cache.get(data.id) or session.scalar(
        select(Article).where(Article.site_id == site_id, Article.external_id == data.id)
    )
    tags = sorted(set(data.tags))
    if article is None:
        article = Article(site_id=site_id, external_id=data.id, title=data.title, url=data.url,
                          tags=tags)
        session.add(article)
        session.flush()
    elif (article.title, article.url, article.tags) != (data.title, data.url, tags):
        article.title, article.url, article.tags = data.title, data.url, tags
    cache[data.id] = article
    return article


def _upsert_author(session: Session, site_id: int, item: CommentIn,
                   cache: dict[str, Author]) -> Author | None:
    if item.author is None:
        return None
    data = item.author
    author = cache.get(data.id) or session.scalar(
        select(Author).where(Author.site_id == site_id, Author.external_id == data.id)
    )
    if author is None:
        author = Author(site_id=site_id, external_id=data.id, name=data.name)
        session.add(author)
        session.flush()
    elif data.name and author.name != data.name:
        author.name = data.name
    cache[data.id] = author
    return author
