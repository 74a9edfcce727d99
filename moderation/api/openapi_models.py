"""Response shapes that the views build as plain dicts, described as pydantic models so the
OpenAPI document (``moderation.api.openapi``) can publish their schemas.

They describe what the views send and nothing more: no view uses them, so each must follow its
view. The request models, and the response models the views do use (``AcceptedOut``,
``CommentStateOut``, ``ReportOut``, ``RuleOut``), live in ``moderation.schemas``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from moderation.schemas import AcceptedOut, RuleOut

# The contract's error body ------------------------------------------------------------------


class ErrorDetailOut(BaseModel):
    field: str = Field(description="The field at fault, as a path: `comments[3].article.id`.")
    message: str


class ErrorOut(BaseModel):
    """Every error of the /v1 API (`moderation.api.errors`)."""

    error: str = Field(description="A stable code: `bad_request`, `validation_error`, "
                                   "`unauthorised`, `forbidden`, `not_found`, `conflict`, "
                                   "`request_entity_too_large`, `too_many_requests`.")
    message: str = Field(description="What went wrong, for a person.")
    field: str | None = Field(description="The request field or header at fault, if one is.")
    details: list[ErrorDetailOut] = Field(
        default_factory=list,
        description="Validation errors only (422): every field at fault, the first one first.")


# Comments, rules, health ----------------------------------------------------------------------


class BatchAcceptedOut(BaseModel):
    comments: list[AcceptedOut] = Field(description="One answer per comment, in request order.")


class RulesOut(BaseModel):
    rules: list[RuleOut]
    policy_version: str = Field(description="A hash of the site's policy, recorded with "
                                            "every decision.")
    premoderate_tags: list[str] = Field(description="Story tags whose comments all wait for "
                                                    "a moderator.")


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyChecksOut(BaseModel):
    database: Literal["ok", "down"]
    broker: Literal["ok", "down"]


class ReadyOut(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: ReadyChecksOut


# The review queue -----------------------------------------------------------------------------


class QueueStoryOut(BaseModel):
    title: str
    tags: list[str]


class QueueItemOut(BaseModel):
    item_id: int
    comment_id: str = Field(description="The site's id of the comment.")
    text: str
    rules: list[str] = Field(description="The rules the comment may break.")
    scores: dict[str, float]
    priority: float
    story: QueueStoryOut
    author: str
    reports: int
    waiting_minutes: int
    escalated: bool
    leased_by: str | None = Field(description="Who holds the lease, while one runs.")


class ReviewQueueOut(BaseModel):
    items: list[QueueItemOut] = Field(description="Open items, most urgent first.")
    counts_by_rule: dict[str, int]


class ClaimOut(BaseModel):
    item_id: int
    leased_by: str = Field(description="`api:<key prefix>:<moderator>`.")
    lease_expires_at: datetime


class ReviewDecisionOut(BaseModel):
    item_id: int
    decision: Literal["approve", "reject", "escalate"]
    decision_id: int | None = Field(default=None,
                                    description="Absent for `escalate`; undo takes it.")
    rules: list[str] = Field(default_factory=list, description="Absent for `escalate`.")


class UndoOut(BaseModel):
    decision_id: int
    item_id: int
    status: Literal["in_review"]


# Outbound webhook deliveries ------------------------------------------------------------------


class DeliveryOut(BaseModel):
    id: int
    event_id: str = Field(description="`evt_<n>`, as in the delivered event.")
    endpoint_id: int
    state: Literal["pending", "delivered", "dead"]
    attempts: int
    last_status: int | None = Field(description="The endpoint's last HTTP status, if any.")
    last_error: str
    next_attempt_at: datetime
    delivered_at: datetime | None


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut] = Field(description="The 200 latest, newest first.")


class RedeliveryOut(BaseModel):
    id: int
    state: Literal["pending"]


class RequeuedOut(BaseModel):
    requeued: int = Field(description="How many dead deliveries were queued again.")


# Perspective-compatible answers ---------------------------------------------------------------


class _Camel(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ScoreOut(_Camel):
    value: float = Field(ge=0.0, le=1.0)
    type: Literal["PROBABILITY"]


class SpanScoreOut(_Camel):
    begin: int = Field(ge=0, description="UTF-16 code units, as Perspective counts.")
    end: int = Field(ge=0)
    score: ScoreOut


class AttributeScoresOut(_Camel):
    span_scores: list[SpanScoreOut] = Field(alias="spanScores")
    summary_score: ScoreOut = Field(alias="summaryScore")


class AnalyzeCommentResponse(_Camel):
    attribute_scores: dict[str, AttributeScoresOut] = Field(
        alias="attributeScores",
        description="Per requested attribute; one below its `scoreThreshold` is left out.")
    languages: list[str]
    detected_languages: list[str] = Field(alias="detectedLanguages")
    client_token: str | None = Field(default=None, alias="clientToken",
                                     description="Echoed when the request had one.")


class SuggestCommentScoreResponse(_Camel):
    detected_languages: list[str] = Field(alias="detectedLanguages")
    requested_languages: list[str] = Field(alias="requestedLanguages")
    client_token: str | None = Field(default=None, alias="clientToken")


class GoogleErrorDetailOut(_Camel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type_url: str = Field(alias="@type",
                          examples=["type.googleapis.com/google.commentanalyzer.v1alpha1.Error"])
    error_type: str = Field(alias="errorType",
                            description="Perspective's error type: `COMMENT_EMPTY`, "
                                        "`COMMENT_TOO_LONG`, `INVALID_REQUEST`, "
                                        "`NO_REQUESTED_ATTRIBUTES`, "
                                        "`LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE`...")


class GoogleErrorOut(_Camel):
    code: int = Field(description="The HTTP status.")
    message: str
    status: str = Field(description="Google's canonical code: `INVALID_ARGUMENT`, "
                                    "`UNAUTHENTICATED`, `PERMISSION_DENIED`, "
                                    "`RESOURCE_EXHAUSTED`...")
    details: list[GoogleErrorDetailOut] = Field(default_factory=list)
    field: str | None = Field(default=None, description="Our addition: the request field at "
                                                        "fault. Google clients ignore it.")


class GoogleErrorEnvelope(_Camel):
    """Google's error envelope, which Perspective clients read."""

    error: GoogleErrorOut


# Coral's external moderation phase ------------------------------------------------------------


class CoralActionOut(_Camel):
    action_type: Literal["FLAG"] = Field(alias="actionType")
    reason: Literal["COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"]


class CoralModerationOut(_Camel):
    """Coral's ExternalModerationResponse."""

    actions: list[CoralActionOut]
    status: Literal["REJECTED", "SYSTEM_WITHHELD"]
