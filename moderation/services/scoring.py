"""Scoring pending comments: classifier → policy → new state, assessment, review item, event.

Idempotent: only comments still ``pending`` are touched, and their rows are locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL) so two workers never score the same comment.
A redelivered task therefore does no harm. When the queue is deep a task tops its batch
up with other pending comments, so the model is called on many texts at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from moderation.db import session_scope
from moderation.entities import Assessment, Comment, CommentStatus, Decision, Site
from moderation.policy import Outcome, Policy, decide, policy_version, visible_for
from moderation.services import events
from moderation.services.review import open_review, review_priority
from moderation.services.sites import site_policy

if TYPE_CHECKING:
    from moderation.classifier import Scorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scored:
    comment_id: int
    status: str


def _lock_pending(session: Session, ids: Sequence[int], batch_size: int) -> list[Comment]:
    base = (
        select(Comment)
        .where(Comment.status == CommentStatus.PENDING)
        .options(selectinload(Comment.article), selectinload(Comment.author))
        .with_for_update(skip_locked=True, of=Comment)
    )
    comments = list(session.scalars(base.where(Comment.id.in_(ids)))) if ids else []
    room = batch_size - len(comments)
    if room > 0:
        # Deep queue: take the oldest other pending comments too (their own tasks, when
        # they arrive, will find nothing left to do).
        taken = [c.id for c in comments]
        extra = base.order_by(Comment.received_at).limit(room)
        if taken:
            extra = extra.where(Comment.id.not_in(taken))
        comments.extend(session.scalars(extra))
    return comments


def score_pending(comment_ids: Sequence[int], scorer: Scorer, batch_size: int) -> list[Scored]:
    """Score the given comments (and more, if the queue is deep) in one transaction."""
    from moderation.classifier import ScoringInput

    with session_scope() as session:
        comments = _lock_pending(session, comment_ids, batch_size)
        if not comments:
            return []
        inputs = [
            ScoringInput(text=c.text, article_title=c.article.title,
                         article_tags=tuple(c.article.tags))
            for c in comments
        ]
        results = scorer.score_many(inputs)
        policies: dict[int, Policy] = {}
        scored: list[Scored] = []
        for comment, rule_scores in zip(comments, results, strict=True):
            if comment.site_id not in policies:
                policies[comment.site_id] = site_policy(session.get_one(Site, comment.site_id))
            outcome = assess(session, comment, rule_scores, scorer.version,
                             policies[comment.site_id])
            scored.append(Scored(comment.id, outcome.status))
        log.info("scored %d comment(s) (%d requested)", len(scored), len(comment_ids))
        return scored


def author_status_now(comment: Comment) -> str:
    """The author's standing as the policy should see it: a suspension ends by itself."""
    author = comment.author
    if author is None:
        return "active"
    if (author.status.value == "suspended" and author.suspended_until is not None
            and author.suspended_until <= datetime.now(UTC)):
        return "active"
    return author.status.value


def assess(session: Session, comment: Comment, rule_scores: Mapping[str, Any],
           model_version: str, policy: Policy) -> Outcome:
    """Decide a scored comment under its site's policy and record everything that follows:
    the assessment, the new state, a review item or a decision, the event."""
    author_status = author_status_now(comment)
    outcome = decide(policy, rule_scores, comment.article.tags, author_status)
    _apply(session, comment, outcome, dict(rule_scores), model_version, policy_version(policy),
           policy)
    return outcome


def _apply(session: Session, comment: Comment, outcome: Outcome, rule_scores: dict,
           model_version: str, policy_ver: str, policy: Policy) -> None:
    now = datetime.now(UTC)
    scores = {rule: round(float(result.score), 4) for rule, result in rule_scores.items()}
    evidence = {flag.rule: [list(span) for span in flag.evidence] for flag in outcome.flags}
    session.add(Assessment(
        site_id=comment.site_id, comment_id=comment.id, scores=scores, evidence=evidence,
        flags=[flag.rule for flag in outcome.flags], decision=outcome.decision,
        reasons=list(outcome.reasons), model_version=model_version, policy_version=policy_ver,
    ))
    previous = comment.status
    comment.status = CommentStatus(outcome.status)
    comment.visible = visible_for(policy, outcome.status, comment.article.tags)
    if outcome.decision == "review":
        open_review(session, site_id=comment.site_id, comment_id=comment.id,
                    priority=review_priority(outcome.flags, comment.article.tags,
                                             comment.report_count),
                    reasons=list(outcome.reasons))
    else:
        comment.decided_by, comment.decided_at = "model", now
        session.add(Decision(site_id=comment.site_id, comment_id=comment.id,
                             outcome=outcome.decision, rules=[f.rule for f in outcome.flags],
                             note="; ".join(outcome.reasons), decided_by="model",
                             actor=model_version))
    events.record(
        session, site_id=comment.site_id, comment_id=comment.id,
        kind=f"comment.{outcome.status}", actor="model",
        previous=previous.value, status=outcome.status, visible=comment.visible,
        flags=[{"rule": f.rule, "score": round(f.score, 4)} for f in outcome.flags],
        model_version=model_version, policy_version=policy_ver,
    )
