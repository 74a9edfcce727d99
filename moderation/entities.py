"""The data model: typed SQLAlchemy 2.x entities. Every row belongs to a site.

Business rules live in ``services``; these classes only describe storage.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite forgets the zone; PostgreSQL keeps it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType}


class CommentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    IN_REVIEW = "in_review"
    REJECTED = "rejected"


class AuthorStatus(enum.StrEnum):
    ACTIVE = "active"
    PREMODERATED = "premoderated"
    SUSPENDED = "suspended"
    BANNED = "banned"


class ReviewState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native PG enum) so adding a value is not a migration.
    return Enum(cls, name=name, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e])


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The site's rule set and routing settings; validated by schemas.Policy on load.
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # HMAC secrets for the signed report webhook, newest first; two during a rotation.
    # Kept in clear because verifying an HMAC needs the secret itself.
    webhook_secrets: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    # The signing secrets of the site's Coral external moderation phase (``empsec_...``, made
    # by Coral and pasted in by the site), newest first; Coral signs with each active one.
    coral_secrets: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # The public part of the key, used to find the row; the secret is only stored hashed.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), default="")
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("site_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(default=list)


class Author(Base):
    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("site_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AuthorStatus] = mapped_column(
        _enum(AuthorStatus, "author_status"), default=AuthorStatus.ACTIVE
    )
    # A suspension ends by itself: after this the author counts as active again.
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warnings: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id"),
        # The sweeper's query: pending comments by age.
        Index("ix_comments_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    parent_external_id: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    # sha256 of the canonical request body: same id + same body is a replay, else 409.
    body_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "comment_status"), default=CommentStatus.PENDING
    )
    visible: Mapped[bool] = mapped_column(default=False)
    decided_by: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Last time the sweeper re-published it (None: only the API's own publish, if any).
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enqueue_attempts: Mapped[int] = mapped_column(Integer, default=0)
    report_count: Mapped[int] = mapped_column(Integer, default=0)

    article: Mapped[Article] = relationship()
    author: Mapped[Author | None] = relationship()


class Assessment(Base):
    """What the scorer said about a comment and what the policy made of it."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    scores: Mapped[dict[str, Any]] = mapped_column()
    # {rule: [[start, end], ...]} offsets into the comment text.
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    decision: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    model_version: Mapped[str] = mapped_column(String(50))
    policy_version: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    __tablename__ = "reports"
    # One reader counts once per comment.
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reporter_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(50))
    note: Mapped[str] = mapped_column(Text, default="")
    # How much this reader's reports count, from how often moderators upheld their earlier
    # ones (1 for a reader with no track record); see services/reports.py.
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewItem(Base):
    """A comment waiting for a moderator; one per comment, reopened when needed."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_queue", "site_id", "state", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[ReviewState] = mapped_column(
        _enum(ReviewState, "review_state"), default=ReviewState.OPEN
    )
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sent up to a senior moderator: only seniors and admins can decide it.
    escalated: Mapped[bool] = mapped_column(default=False, server_default="0")


class Decision(Base):
    """A decision on a comment, by the model or a moderator, with its explanation."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(20))
    rules: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the decision was taken back (undo); the comment is then in review again.
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Every change of state, written in the same transaction as the change.

    It doubles as the outbox for outbound webhooks: ``delivered_at`` stays empty until
    the site has acknowledged the event.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_site_created", "site_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScoreSuggestion(Base):
    """A human label sent through Perspective's ``comments:suggestscore``: what a site's
    moderator said a comment's score should be. Kept as training data for retraining."""

    __tablename__ = "score_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # {"TOXICITY": 1.0, ...}: the suggested summary score per attribute.
    scores: Mapped[dict[str, Any]] = mapped_column()
    # The span scores suggested, if any: {"TOXICITY": [[begin, end, value], ...]}.
    spans: Mapped[dict[str, Any]] = mapped_column(default=dict)
    context: Mapped[list[Any]] = mapped_column(default=list)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    client_token: Mapped[str] = mapped_column(String(500), default="")
    community_id: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModeratorRole(enum.StrEnum):
    MODERATOR = "moderator"
    SENIOR = "senior"
    ADMIN = "admin"


class Moderator(Base):
    """A person who works the review queue, of one or more sites."""

    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # Argon2id (argon2-cffi): the parameters travel inside the hash string.
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[ModeratorRole] = mapped_column(
        _enum(ModeratorRole, "moderator_role"), default=ModeratorRole.MODERATOR
    )
    # Sections or story tags this moderator is assigned to; their items come first.
    sections: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sites: Mapped[list[Site]] = relationship(secondary="moderator_sites")


class ModeratorSite(Base):
    __tablename__ = "moderator_sites"

    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)


class WebhookEndpoint(Base):
    """Where a site wants to hear about decisions: a URL and the secret we sign with."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    # Kept in clear: signing needs the secret itself (the site holds the same one).
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the last retry; redeliver on request


class WebhookDelivery(Base):
    """One event to one endpoint: the delivery log, with its retries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id", ondelete="CASCADE"))
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState, "delivery_state"), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
