"""The queue page, bulk decisions, and picking the next item to work on."""

from __future__ import annotations

from collections import Counter

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from moderation.db import session_scope
from moderation.entities import ReviewItem, Site
from moderation.errors import Invalid, ServiceError
from moderation.services.moderators import ModeratorView
from moderation.services.queue import (
    QueueEntry,
    QueueFilters,
    claim,
    decide,
    latest_assessment,
    queue_entries,
)
from moderation.services.sites import site_policy
from moderation.web.blueprint import bp
from moderation.web.common import chosen_site, filter_args, filters_from
from moderation.web.security import current

# A bulk action touches at most this many items, so one click cannot run for minutes.
MAX_BULK = 100


@bp.get("/")
def home() -> Response:
    return redirect(url_for("moderate.queue"))


@bp.get("/queue")
def queue() -> str:
    me, site = current(), chosen_site()
    filters = filters_from(request.args)
    with session_scope() as session:
        entries = queue_entries(session, site.id, filters, sections=me.sections)
        rules = site_policy(session.get_one(Site, site.id)).rules
    counts = Counter(rule for entry in entries for rule in entry.rules)
    return render_template("moderate/queue.html", site=site, entries=entries, rules=rules,
                           rule_counts=counts.most_common(), filters=filters,
                           args=filter_args(filters))


def workable(entry: QueueEntry, me: ModeratorView) -> bool:
    """Whether ``me`` could claim the entry now (free or theirs, not above their role)."""
    return (entry.leased_by in (None, me.actor)) and (me.senior or not entry.escalated)


def pick_next(me: ModeratorView, site_id: int, filters: QueueFilters,
              skip: tuple[int, ...] = ()) -> int | None:
    """Claim the most urgent item ``me`` can work on and return its id; None when none is
    left. Claiming here (not only when the page opens) means two moderators pressing
    "next" at once are sent to different comments."""
    with session_scope() as session:
        entries = queue_entries(session, site_id, filters, sections=me.sections)
    for entry in entries:
        if entry.item_id in skip or not workable(entry, me):
            continue
        try:
            with session_scope() as session:
                claim(session, entry.item_id, me.site_ids, me.actor, senior=me.senior)
        except ServiceError:
            continue  # taken or decided since the list was read: try the next one
        return entry.item_id
    return None


def next_url(me: ModeratorView, site_id: int, site_name: str, filters: QueueFilters,
             skip: tuple[int, ...] = ()) -> str:
    item_id = pick_next(me, site_id, filters, skip)
    if item_id is None:
        flash("Nothing left in the queue for you. Well done.", "info")
        return url_for("moderate.queue", site=site_name, **filter_args(filters))
    return url_for("moderate.item", item_id=item_id, **filter_args(filters))


def reject_rules(session: Session, item: ReviewItem, rule_ids: list[str]) -> list[str]:
    """The rules a bulk reject cites: those the model flagged, else those readers reported."""
    assessment = latest_assessment(session, item.comment_id)
    flagged = [rule for rule in (assessment.flags if assessment else []) if rule in rule_ids]
    if flagged:
        return flagged
    reported = [reason.removeprefix("reported: ") for reason in item.reasons or []]
    return sorted({rule for rule in reported if rule in rule_ids})


@bp.post("/queue/bulk")
def bulk() -> Response:
    """Approve or reject the selected items, each in its own transaction: one taken by
    someone else meanwhile is reported and skipped, the others are still decided."""
    me, site = current(), chosen_site()
    filters = filters_from(request.form)
    action = request.form.get("action", "")
    if action not in ("approve", "reject"):
        raise Invalid("choose approve or reject", field="action")
    ids = [int(raw) for raw in request.form.getlist("items") if raw.isdigit()][:MAX_BULK]
    if not ids:
        raise Invalid("select comments first (x toggles the selected row)", field="items")
    done, problems = 0, []
    for item_id in ids:
        try:
            with session_scope() as session:
                claim(session, item_id, me.site_ids, me.actor, senior=me.senior)
                item = session.get_one(ReviewItem, item_id)
                rules: list[str] = []
                if action == "reject":
                    policy = site_policy(session.get_one(Site, item.site_id))
                    rules = reject_rules(session, item, policy.rule_ids)
                    if not rules:
                        raise Invalid("no flagged rule to cite; open it to choose one")
                decide(session, item_id, me.site_ids, me.actor, action, rules,
                       note="bulk decision", senior=me.senior)
            done += 1
        except ServiceError as exc:
            problems.append(f"#{item_id}: {exc.message}")
    verb = "Approved" if action == "approve" else "Rejected"
    flash(f"{verb} {done} comment{'s' if done != 1 else ''}.", "info")
    for problem in problems:
        flash(f"Skipped {problem}", "warning")
    return redirect(url_for("moderate.queue", site=site.name, **filter_args(filters)), 303)
