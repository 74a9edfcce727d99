"""Request and response schemas at the HTTP edge (pydantic v2).

Field names follow the integration contract (shared/design/api-contract.md). The text
length limit is a setting, so it is checked by ``check_text_length`` rather than here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                       min_length=1, max_length=100)]


def unstorable_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored as it is, or None.

    PostgreSQL text cannot hold a NUL character and UTF-8 cannot encode a lone surrogate
    (JSON's ``"\\ud800"``); both are refused at the edge with the field named, rather than
    failing in the database after the request was accepted.
    """
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate, which is not a character"
    return None


def check_storable(value: Any) -> Any:
    """A field validator's body: refuse strings (or strings in lists and dict keys) that
    cannot be stored."""
    texts: list[str] = []
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list):
        texts = [item for item in value if isinstance(item, str)]
    elif isinstance(value, dict):
        texts = [key for key in value if isinstance(key, str)]
    for text in texts:
        reason = unstorable_reason(text)
        if reason:
            raise ValueError(reason)
    return value


class StorableText(BaseModel):
    """Base of every request model: each string field must be storable."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return check_storable(value)


class _In(StorableText):
    # Unknown fields are ignored so a site can send what its own system has.
    model_config = ConfigDict(extra="ignore", str_max_length=20_000)


class ArticleIn(_In):
    id: ExternalId
    title: str = Field(default="", max_length=1000)
    url: str = Field(default="", max_length=2000)
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class AuthorIn(_In):
    id: ExternalId
    name: str = Field(default="", max_length=200)


class CommentIn(_In):
    id: ExternalId
    article: ArticleIn
    author: AuthorIn | None = None
    # No max_length here: the limit is configurable and gets its own clear message.
    text: Annotated[str, StringConstraints(min_length=1)]
    parent_id: ExternalId | None = None
    created_at: datetime | None = None


class CommentBatchIn(_In):
    comments: list[CommentIn] = Field(min_length=1)


class ReportIn(_In):
    reporter_id: ExternalId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    note: str = Field(default="", max_length=2000)


class ReportWebhookIn(ReportIn):
    comment_id: ExternalId


class AcceptedOut(BaseModel):
    id: str
    status: str


class FlagOut(BaseModel):
    rule: str
    score: float
    evidence: list[tuple[int, int]]


class CommentStateOut(BaseModel):
    id: str
    status: Literal["pending", "approved", "in_review", "rejected"]
    visible: bool
    flags: list[FlagOut]
    scores: dict[str, float]
    decided_by: Literal["model", "moderator"] | None
    model_version: str | None
    policy_version: str | None
    reports: int
    received_at: datetime
    # When the model finished with it (approved, rejected or sent to review).
    scored_at: datetime | None
    # When it was finally decided, by the model or a moderator; None while in review.
    decided_at: datetime | None


class ReportOut(BaseModel):
    comment_id: str
    reports: int
    counted: bool


class RuleOut(BaseModel):
    id: str
    title: str
    description: str
    guidance: str
    severity: int
    review_threshold: float
    reject_threshold: float | None
    tags: dict[str, dict[str, Any]]


class _CoralIn(StorableText):
    # Coral's ExternalModerationRequest; later Coral versions may add fields.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CoralCommentIn(_CoralIn):
    body: Annotated[str, StringConstraints(min_length=1)]
    # Stored as "coral:<parentID>" in a 200-character column.
    parent_id: str | None = Field(default=None, alias="parentID", max_length=194)


class CoralAuthorIn(_CoralIn):
    id: ExternalId
    role: str = ""


class CoralStoryIn(_CoralIn):
    id: ExternalId
    url: str = Field(default="", max_length=2000)


class CoralSiteIn(_CoralIn):
    id: str = ""


class CoralModerationIn(_CoralIn):
    action: Literal["NEW", "EDIT"] = "NEW"
    comment: CoralCommentIn
    author: CoralAuthorIn | None = None
    story: CoralStoryIn
    site: CoralSiteIn | None = None
    tenant_id: str = Field(default="", alias="tenantID")
    tenant_domain: str = Field(default="", alias="tenantDomain")


ModeratorName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                 max_length=100, pattern=r"^[\w.@+-]+$")]


class ClaimIn(_In):
    moderator: ModeratorName
    # The site vouches for its own senior moderators (escalated items need one).
    senior: bool = False


class ReviewDecisionIn(ClaimIn):
    decision: Literal["approve", "reject", "escalate"]
    rules: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=20)
    note: str = Field(default="", max_length=2000)


class UndoIn(ClaimIn):
    pass
