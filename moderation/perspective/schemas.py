"""Perspective's request shapes (AnalyzeCommentRequest, SuggestCommentScoreRequest).

Field names are Perspective's (camelCase). Unknown fields are ignored, as a drop-in must accept
whatever a Perspective client sends. ``article`` is our extension: the story a comment is
under (id, title, url, tags), which the story-dependent rules need and Perspective never had.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from moderation.schemas import ArticleIn, StorableText


class _In(StorableText):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TextEntry(_In):
    text: str = ""
    type: Literal["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"] = "PLAIN_TEXT"


class ArticleAndParent(_In):
    article: TextEntry | None = None
    parent_comment: TextEntry | None = Field(default=None, alias="parentComment")


class Context(_In):
    entries: list[TextEntry] = Field(default_factory=list)
    article_and_parent_comment: ArticleAndParent | None = Field(
        default=None, alias="articleAndParentComment")


class AttributeParameters(_In):
    score_type: str = Field(default="PROBABILITY", alias="scoreType")
    score_threshold: float | None = Field(default=None, alias="scoreThreshold", ge=0.0, le=1.0)


class AnalyzeCommentRequest(_In):
    comment: TextEntry
    requested_attributes: dict[str, AttributeParameters] = Field(
        default_factory=dict, alias="requestedAttributes")
    context: Context | None = None
    languages: list[str] = Field(default_factory=list)
    do_not_store: bool = Field(default=False, alias="doNotStore")
    client_token: str = Field(default="", alias="clientToken", max_length=500)
    session_id: str = Field(default="", alias="sessionId", max_length=500)
    community_id: str = Field(default="", alias="communityId", max_length=500)
    span_annotations: bool = Field(default=False, alias="spanAnnotations")
    article: ArticleIn | None = None


class Score(_In):
    value: float = Field(ge=0.0, le=1.0)
    type: str = "PROBABILITY"


class SpanScore(_In):
    begin: int = Field(ge=0)
    end: int = Field(ge=0)
    score: Score


class AttributeScores(_In):
    summary_score: Score | None = Field(default=None, alias="summaryScore")
    span_scores: list[SpanScore] = Field(default_factory=list, alias="spanScores")


class SuggestCommentScoreRequest(_In):
    comment: TextEntry
    attribute_scores: dict[str, AttributeScores] = Field(alias="attributeScores")
    context: Context | None = None
    languages: list[str] = Field(default_factory=list)
    client_token: str = Field(default="", alias="clientToken", max_length=500)
    session_id: str = Field(default="", alias="sessionId", max_length=500)
    community_id: str = Field(default="", alias="communityId", max_length=500)
