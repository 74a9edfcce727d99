"""The dashboard's figures: queue size over time, time to decision, decisions by rule and
by who (model or moderator). Read-only queries over review_items and decisions.

Computed in Python from two bounded queries rather than with date_trunc, so the same
code runs on SQLite (the embedded mode) and PostgreSQL.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from moderation.entities import Decision, ReviewItem, utcnow


@dataclass
class DashboardStats:
    hours: int
    bucket_starts: list[datetime]
    opened: list[int]  # items that entered the queue in each hour
    closed: list[int]  # items decided in each hour
    queue_size: list[int]  # items open at the end of each hour
    open_now: int
    decided: int  # review items closed in the window
    median_minutes: float | None  # review item created → closed
    per_rule: list[tuple[str, int, int]] = field(default_factory=list)  # rule, moderator, model
    by_decider: dict[str, Counter[str]] = field(default_factory=dict)  # decider → outcome → n


def dashboard_stats(session: Session, site_id: int, hours: int = 48,
                    now: datetime | None = None) -> DashboardStats:
    now = now or utcnow()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    since = end - timedelta(hours=hours)
    # Every item still open plus those closed in the window: older closed items add one
    # to "created before t" and one to "closed before t", so leaving them out is exact.
    items = session.execute(
        select(ReviewItem.created_at, ReviewItem.closed_at)
        .where(ReviewItem.site_id == site_id,
               or_(ReviewItem.closed_at.is_(None), ReviewItem.closed_at >= since))).all()
    created = sorted(row.created_at for row in items)
    closed = sorted(row.closed_at for row in items if row.closed_at is not None)
    starts = [since + timedelta(hours=h) for h in range(hours)]

    def between(times: list[datetime], a: datetime, b: datetime) -> int:
        return bisect_left(times, b) - bisect_left(times, a)

    hour = timedelta(hours=1)
    opened_per_hour = [between(created, s, s + hour) for s in starts]
    closed_per_hour = [between(closed, s, s + hour) for s in starts]
    size = [bisect_left(created, s + hour) - bisect_left(closed, s + hour) for s in starts]
    durations = [(row.closed_at - row.created_at).total_seconds() / 60 for row in items
                 if row.closed_at is not None and row.closed_at >= since]

    decisions = session.execute(
        select(Decision.rules, Decision.decided_by, Decision.outcome)
        .where(Decision.site_id == site_id, Decision.created_at >= since,
               Decision.undone_at.is_(None))).all()
    by_rule: dict[str, Counter[str]] = {}
    by_decider: dict[str, Counter[str]] = {"model": Counter(), "moderator": Counter()}
    for rules, decided_by, outcome in decisions:
        by_decider.setdefault(decided_by, Counter())[outcome] += 1
        for rule in rules or []:
            by_rule.setdefault(str(rule), Counter())[decided_by] += 1
    per_rule = sorted(((rule, c["moderator"], c["model"]) for rule, c in by_rule.items()),
                      key=lambda row: (-(row[1] + row[2]), row[0]))
    return DashboardStats(
        hours=hours, bucket_starts=starts, opened=opened_per_hour, closed=closed_per_hour,
        queue_size=size, open_now=sum(1 for row in items if row.closed_at is None),
        decided=len(durations),
        median_minutes=round(statistics.median(durations), 1) if durations else None,
        per_rule=per_rule, by_decider=by_decider)
