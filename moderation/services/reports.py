"""Reports from readers: one reader counts once per comment; reports raise review priority.

Why weights: a group of readers can report a comment they merely disagree with (brigading).
Each report counts by its reader's record: (upheld + 1) / (judged + 2) x 2, where judged are
their earlier reports on comments a moderator decided, and upheld those the moderator
rejected. A new reader counts 1; one always upheld approaches 2; one never upheld, 0. The
weighted sum raises the comment's place in the queue and, past the site's
``hide_after_reports``, hides it until a moderator decides.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.db import in_transaction_retrying_race
from moderation.entities import Comment, CommentStatus, Report, ReviewItem, ReviewState, Site
from moderation.errors import Invalid
from moderation.schemas import ReportIn, ReportOut
from moderation.services import events
from moderation.services.comments import find_comment
from moderation.services.review import open_review
from moderation.services.sites import site_policy

REPORT_PRIORITY_STEP = 0.3


def add_report(site_id: int, comment_external_id: str, report: ReportIn) -> ReportOut:
    """Record a reader's report. Reporting the same comment twice is counted once."""
    return in_transaction_retrying_race(
        lambda session: _add(session, site_id, comment_external_id, report))


def _add(session: Session, site_id: int, comment_external_id: str,
         report: ReportIn) -> ReportOut:
    comment = find_comment(session, site_id, comment_external_id)
    policy = site_policy(session.get_one(Site, site_id))
    if report.reason != "other" and policy.rule(report.reason) is None:
        allowed = ", ".join([*policy.rule_ids, "other"])
        raise Invalid(f"reason must be one of: {allowed}", field="reason")
    already = session.scalar(select(Report.id).where(
        Report.comment_id == comment.id, Report.reporter_id == report.reporter_id))
    if already is not None:
        return ReportOut(comment_id=comment.external_id,
                         reports=comment.report_count, counted=False)
    weight = reporter_weight(session, site_id, report.reporter_id)
    session.add(Report(site_id=site_id, comment_id=comment.id,
                       reporter_id=report.reporter_id, reason=report.reason,
                       note=report.note, weight=weight))
    session.flush()
    comment.report_count = session.scalar(
        select(func.count()).select_from(Report)
        .where(Report.comment_id == comment.id)) or 0
    weighted = session.scalar(select(func.sum(Report.weight))
                              .where(Report.comment_id == comment.id)) or 0.0
    _raise_priority(session, comment, report.reason, weight)
    _hide_if_reported_enough(session, comment, policy.hide_after_reports, weighted)
    events.record(session, site_id=site_id, comment_id=comment.id,
                  kind="comment.reported", actor=f"reader:{report.reporter_id}",
                  reason=report.reason, reports=comment.report_count)
    return ReportOut(comment_id=comment.external_id, reports=comment.report_count,
                     counted=True)


def reporter_weight(session: Session, site_id: int, reporter_id: str) -> float:
    judged = session.execute(
        select(Comment.status, func.count()).join(Report, Report.comment_id == Comment.id)
        .where(Report.site_id == site_id, Report.reporter_id == reporter_id,
               Comment.decided_by == "moderator")
        .group_by(Comment.status)).all()
    counts = {status: n for status, n in judged}
    upheld = counts.get(CommentStatus.REJECTED, 0)
    total = sum(counts.values())
    return round(2.0 * (upheld + 1) / (total + 2), 3)


def _hide_if_reported_enough(session: Session, comment: Comment, threshold: float | None,
                             weighted: float) -> None:
    """Enough (weighted) readers hide a comment until a moderator decides; a moderator's
    approval stands."""
    if threshold is None or weighted < threshold or not comment.visible:
        return
    if comment.decided_by == "moderator":
        return
    comment.visible = False
    events.record(session, site_id=comment.site_id, comment_id=comment.id,
                  kind="comment.hidden", actor="readers", reports=comment.report_count,
                  weighted_reports=round(weighted, 3), status=comment.status.value,
                  visible=False)


def _raise_priority(session: Session, comment: Comment, reason: str, weight: float) -> None:
    """A reported comment goes (back) into the queue, higher the more readers report it.

    A pending comment is left to the scorer, which reads the report count when it decides;
    a rejected one is already hidden.
    """
    if comment.status in (CommentStatus.PENDING, CommentStatus.REJECTED):
        return
    item = session.scalar(select(ReviewItem).where(ReviewItem.comment_id == comment.id))
    if item is not None and item.state == ReviewState.OPEN:
        item.priority = (item.priority or 0.0) + REPORT_PRIORITY_STEP * weight
        item.reasons = sorted(set(item.reasons or []) | {f"reported: {reason}"})
        return
    open_review(session, site_id=comment.site_id, comment_id=comment.id,
                priority=REPORT_PRIORITY_STEP * comment.report_count * weight,
                reasons=[f"reported: {reason}"])
