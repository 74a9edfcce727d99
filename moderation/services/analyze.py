"""Perspective-compatible analysis: score one comment now and answer in Perspective's shape.

Unlike ``/v1/comments`` (accept, then score in a worker), a Perspective client waits for the
scores, so the comment is scored in the web process. With ``doNotStore: false`` (Perspective's
default) the comment is also kept: stored, decided under the site's policy and, when a rule may
be broken, queued for review, exactly as a comment sent to ``/v1/comments`` would be. With
``doNotStore: true`` nothing about the comment is written anywhere, logs included.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.db import session_scope
from moderation.entities import Article, Comment, CommentStatus, ScoreSuggestion, Site
from moderation.perspective.attributes import Attribute, resolve
from moderation.perspective.errors import PerspectiveError
from moderation.perspective.language import SUPPORTED_LANGUAGES, detect_language, primary_subtag
from moderation.perspective.schemas import (
    AnalyzeCommentRequest,
    Context,
    SuggestCommentScoreRequest,
)
from moderation.policy import visible_for
from moderation.services import events
from moderation.services.scoring import assess
from moderation.services.sites import site_policy

if TYPE_CHECKING:
    from moderation.classifier import RuleScore, Scorer

__all__ = ["Analysis", "analyze_comment", "suggest_score"]

# The article comments analysed without one of their own are filed under, per site.
DEFAULT_ARTICLE_ID = "perspective-api"
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


@dataclass(frozen=True)
class Analysis:
    response: dict[str, Any]
    comment_id: str | None  # our id of the stored comment; None with doNotStore


def _utf16(text: str, index: int) -> int:
    """Perspective's offsets count UTF-16 code units, as JavaScript strings do."""
    return len(text[:index].encode("utf-16-le")) // 2


def _languages(request_languages: Sequence[str], text: str, attribute: str) -> tuple[
    list[str], list[str]
]:
    """(languages to echo, detected languages); raises Perspective's error when we would be
    scoring a language our models were not trained on."""
    detected, confident = detect_language(text)
    if request_languages:
        asked = [primary_subtag(code) for code in request_languages]
        if not SUPPORTED_LANGUAGES & set(asked):
            raise PerspectiveError(
                f"Attribute {attribute} does not support request languages: "
                f"{', '.join(request_languages)}",
                "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE", field="languages",
                languageNotSupportedByAttributeError={"detectedLanguages": [detected],
                                                      "attribute": attribute},
            )
        return list(request_languages), [detected]
    if confident and detected not in SUPPORTED_LANGUAGES:
        raise PerspectiveError(
            f"Attribute {attribute} does not support request languages: {detected}",
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE", field="comment.text",
            languageNotSupportedByAttributeError={"detectedLanguages": [detected],
                                                  "attribute": attribute},
        )
    return [], [detected]


def _story(context: Context | None) -> tuple[str, str]:
    """(article title, parent comment) from Perspective's context, when given.

    ``articleAndParentComment`` says which is which; plain ``entries`` are read as the
    conversation so far, the last one being the post replied to. Entries holding a JSON object
    are metadata (Coral's feedback sends one), not text.
    """
    if context is None:
        return "", ""
    pair = context.article_and_parent_comment
    if pair is not None and context.entries:
        raise PerspectiveError("Context can have either entries or article_and_parent_comment, "
                               "but both fields were populated.", field="context")
    if pair is not None:
        article = pair.article.text if pair.article else ""
        parent = pair.parent_comment.text if pair.parent_comment else ""
        return article.strip().split("\n", 1)[0][:300], parent
    texts = [e.text for e in context.entries if e.text and not e.text.lstrip().startswith("{")]
    return "", texts[-1] if texts else ""


def _check_text(text: str, max_chars: int) -> None:
    if not text.strip():
        raise PerspectiveError("Comment must be non-empty.", "COMMENT_EMPTY", field="comment.text")
    if len(text) > max_chars:
        raise PerspectiveError(f"Comment text too long. The limit is {max_chars} characters.",
                               "COMMENT_TOO_LONG", field="comment.text")


def _validate(request: AnalyzeCommentRequest, max_chars: int) -> None:
    _check_text(request.comment.text, max_chars)
    if request.comment.type == "HTML":
        raise PerspectiveError("Currently, only 'PLAIN_TEXT' comments are supported",
                               field="comment.type")
    if not request.requested_attributes:
        raise PerspectiveError("Missing requested_attributes", "NO_REQUESTED_ATTRIBUTES",
                               field="requestedAttributes")


def _attributes(request: AnalyzeCommentRequest, site_rules: Sequence[str],
                available: Sequence[str]) -> list[tuple[Attribute, float | None]]:
    chosen = []
    for name, params in request.requested_attributes.items():
        attribute = resolve(name, site_rules)
        if attribute is None or (attribute.source == "auxiliary"
                                 and attribute.key not in available):
            raise PerspectiveError(f"Unknown requested attribute: {name}",
                                   field=f"requestedAttributes.{name}")
        if params.score_type.upper() not in ("PROBABILITY", "SCORE_TYPE_UNSPECIFIED"):
            raise PerspectiveError(
                f"Requested score type {params.score_type} is not supported by attribute {name}",
                field=f"requestedAttributes.{name}.scoreType")
        chosen.append((attribute, params.score_threshold))
    return chosen


def _value(attribute: Attribute, rules: dict[str, RuleScore], aux: dict[str, float]) -> float:
    if attribute.source == "auxiliary":
        return aux[attribute.key]
    return float(rules[attribute.key].score) if attribute.key in rules else 0.0


def _score(value: float) -> dict[str, Any]:
    return {"value": round(float(value), 6), "type": "PROBABILITY"}


def analyze_comment(site_id: int, request: AnalyzeCommentRequest, scorer: Scorer,
                    max_chars: int, actor: str) -> Analysis:
    from moderation.classifier import ScoringInput

    _validate(request, max_chars)
    text = request.comment.text
    with session_scope() as session:
        site = session.get_one(Site, site_id)
        policy = site_policy(site)
    attributes = _attributes(request, policy.rule_ids, scorer.auxiliary_names)
    languages, detected = _languages(request.languages, text, attributes[0][0].name)
    context_title, parent = _story(request.context)
    title = request.article.title if request.article else context_title
    tags = tuple(request.article.tags) if request.article else ()
    item = ScoringInput(text, title, tags)
    sentences = ([(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]
                 if request.span_annotations else [])
    inputs = [item] + [ScoringInput(text[a:b], title, tags) for a, b in sentences]
    rule_results, aux_scores = scorer.score_with_auxiliary(inputs)
    aux = {name: float(values[0]) for name, values in aux_scores.items()}
    if parent and "toxicity" in aux:
        aux["toxicity"] = scorer.toxicity_in_context(text, parent)

    attribute_scores: dict[str, Any] = {}
    for attribute, threshold in attributes:
        value = _value(attribute, rule_results[0], aux)
        if threshold is not None and value < threshold:
            continue  # Perspective omits scores below the caller's threshold
        spans = [{"begin": 0, "end": _utf16(text, len(text)), "score": _score(value)}]
        if sentences:
            spans = []
            for k, (a, b) in enumerate(sentences, start=1):
                aux_k = {name: float(values[k]) for name, values in aux_scores.items()}
                spans.append({"begin": _utf16(text, a), "end": _utf16(text, b),
                              "score": _score(_value(attribute, rule_results[k], aux_k))})
        attribute_scores[attribute.name] = {"spanScores": spans, "summaryScore": _score(value)}
    response: dict[str, Any] = {"attributeScores": attribute_scores, "languages": languages,
                                "detectedLanguages": detected}
    if request.client_token:
        response["clientToken"] = request.client_token
    stored = None
    if not request.do_not_store:
        stored = _store(site_id, request, item, rule_results[0], scorer.version, actor)
    return Analysis(response, stored)


def _store(site_id: int, request: AnalyzeCommentRequest, item: Any,
           rule_scores: dict[str, RuleScore], model_version: str, actor: str) -> str:
    """Keep the comment as if the site had sent it to /v1/comments, already scored."""
    external_id = f"perspective:{uuid.uuid4().hex}"
    with session_scope() as session:
        site = session.get_one(Site, site_id)
        policy = site_policy(site)
        article = _article(session, site_id, request)
        comment = Comment(
            site_id=site_id, external_id=external_id, article=article, text=item.text,
            body_hash=hashlib.sha256(item.text.encode()).hexdigest(),
            status=CommentStatus.PENDING,
            visible=visible_for(policy, CommentStatus.PENDING, article.tags),
        )
        session.add(comment)
        session.flush()
        events.record(session, site_id=site_id, comment_id=comment.id, kind="comment.received",
                      actor=actor, status="pending")
        assess(session, comment, rule_scores, model_version, policy)
    return external_id


def _article(session: Session, site_id: int, request: AnalyzeCommentRequest) -> Article:
    data = request.article
    external_id = data.id if data else DEFAULT_ARTICLE_ID
    article = session.scalar(select(Article).where(Article.site_id == site_id,
                                                   Article.external_id == external_id))
    if article is None:
        article = Article(site_id=site_id, external_id=external_id,
                          title=data.title if data else "Comments analysed through the "
                          "Perspective-compatible API", url=data.url if data else "",
                          tags=sorted(set(data.tags)) if data else [])
        session.add(article)
        session.flush()
    elif data is not None and (article.title, article.url, article.tags) != (
            data.title, data.url, sorted(set(data.tags))):
        article.title, article.url, article.tags = data.title, data.url, sorted(set(data.tags))
    return article


def suggest_score(site_id: int, request: SuggestCommentScoreRequest, max_chars: int) -> dict[
    str, Any
]:
    """Record a human's suggested scores as a label for retraining; Perspective's response."""
    text = request.comment.text
    _check_text(text, max_chars)
    if not request.attribute_scores:
        raise PerspectiveError("attribute_scores must not be empty", field="attributeScores")
    scores: dict[str, float] = {}
    spans: dict[str, list[list[float]]] = {}
    for name, given in request.attribute_scores.items():
        if given.summary_score is None and not given.span_scores:
            raise PerspectiveError(f"attribute {name} has neither a summaryScore nor spanScores",
                                   field=f"attributeScores.{name}")
        if given.summary_score is not None:
            scores[name.upper()] = given.summary_score.value
        for span in given.span_scores:
            if span.end < span.begin:
                raise PerspectiveError("a span score ends before it begins",
                                       field=f"attributeScores.{name}.spanScores")
            spans.setdefault(name.upper(), []).append([span.begin, span.end, span.score.value])
    with session_scope() as session:
        session.add(ScoreSuggestion(
            site_id=site_id, text=text, scores=scores, spans=spans,
            context=[e.text for e in (request.context.entries if request.context else [])],
            languages=list(request.languages), client_token=request.client_token,
            community_id=request.community_id,
        ))
    response: dict[str, Any] = {"detectedLanguages": [detect_language(text)[0]],
                                "requestedLanguages": list(request.languages)}
    if request.client_token:
        response["clientToken"] = request.client_token
    return response
