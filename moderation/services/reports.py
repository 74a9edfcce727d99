"""Reports from readers: one reader counts once per comment; reports raise review priority."""

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
    session.add(Report(site_id=site_id, comment_id=comment.id,
                       reporter_id=report.reporter_id, reason=report.reason,
                       note=report.note))
    session.flush()
    comment.report_count = session.scalar(
        select(func.count()).select_from(Report)
        .where(Report.comment_id == comment.id)) or 0
    _raise_priority(session, comment, report.reason)
    events.record(session, site_id=site_id, comment_id=comment.id,
                  kind="comment.reported", actor=f"reader:{report.reporter_id}",
                  reason=report.reason, reports=comment.report_count)
    return ReportOut(comment_id=comment.external_id, reports=comment.report_count,
                     counted=True)


def _raise_priority(session: Session, comment: Comment, reason: str) -> None:
    """A reported comment goes (back) into the queue, higher the more readers report it.

    A pending comment is left to the scorer, which reads the report count when it decides;
    a rejected one is already hidden.
    """
    if comment.status in (CommentStatus.PENDING, CommentStatus.REJECTED):
        return
    item = session.scalar(select(ReviewItem).where(ReviewItem.comment_id == comment.id))
    if item is not None and item.state == ReviewState.OPEN:
        item.priority = (item.priority or 0.0) + REPORT_PRIORITY_STEP
        item.reasons = sorted(set(item.reasons or []) | {f"reported: {reason}"})
        return
    open_review(session, site_id=comment.site_id, comment_id=comment.id,
                priority=REPORT_PRIORITY_STEP * comment.report_count,
                reasons=[f"reported: {reason}"])
