"""The decision view: one comment with everything needed to decide it, and the decisions."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask import session as web_session
from werkzeug.wrappers import Response

from moderation.db import session_scope
from moderation.entities import Decision, ReviewItem, ReviewState, Site, utcnow
from moderation.errors import Conflict, Forbidden, Invalid
from moderation.services.moderators import ModeratorView
from moderation.services.queue import (
    LEASE,
    UNDO_WINDOW,
    claim,
    decide,
    escalate,
    queue_entries,
    release,
    undo,
)
from moderation.services.review_detail import AUTHOR_ACTIONS, author_action, item_detail
from moderation.services.sites import site_policy
from moderation.web.blueprint import bp
from moderation.web.common import filter_args, filters_from
from moderation.web.queue_views import next_url, reject_rules
from moderation.web.security import SiteChoice, current

OUTCOME_LABELS = {"approve": "Approved", "reject": "Rejected"}


def undoable(decisions: list[Decision], me: ModeratorView, now: datetime) -> set[int]:
    """Ids of the decisions ``me`` may still take back: the latest standing moderator
    decision, within the window, theirs (or anyone's for a senior)."""
    standing = [d for d in decisions if d.undone_at is None]
    if not standing:
        return set()
    last = standing[-1]
    if (last.decided_by == "moderator" and now - last.created_at <= UNDO_WINDOW
            and (last.actor == me.actor or me.senior)):
        return {last.id}
    return set()


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> str:
    """Open an item: claim it (so nobody else decides it meanwhile) and show it. If it is
    someone else's, escalated above the moderator's role, or decided, show it read-only."""
    me = current()
    filters = filters_from(request.args)
    notice, lease_until = "", None
    try:
        with session_scope() as session:
            lease_until = claim(session, item_id, me.site_ids, me.actor, senior=me.senior)
    except (Conflict, Forbidden) as exc:
        notice = exc.message  # NotFound (another site's item) goes to the 404 page
    now = utcnow()
    with session_scope() as session:
        detail = item_detail(session, item_id, me.site_ids)
        policy = site_policy(session.get_one(Site, detail.item.site_id))
        suggested = set(reject_rules(session, detail.item, policy.rule_ids))
        entries = queue_entries(session, detail.item.site_id, filters, sections=me.sections)
        ids = [entry.item_id for entry in entries]
        position = ids.index(item_id) if item_id in ids else None
        if position is None:
            previous_id, next_id = None, (ids[0] if ids else None)
        else:
            previous_id = ids[position - 1] if position > 0 else None
            next_id = ids[position + 1] if position + 1 < len(ids) else None
        # Rendered inside the session: the template follows relationships (authors, story).
        return render_template(
            "moderate/item.html", d=detail, comment=detail.comment, rules=policy.rules,
            site=SiteChoice(detail.item.site_id, detail.site_name),
            suggested=suggested, can_decide=not notice and detail.item.state == ReviewState.OPEN,
            notice=notice, lease_until=lease_until, lease_minutes=int(LEASE.total_seconds() // 60),
            undoable=undoable(detail.decisions, me, now), previous_id=previous_id,
            next_id=next_id, position=position, queue_size=len(ids), args=filter_args(filters),
            author_actions=AUTHOR_ACTIONS)


@bp.post("/items/<int:item_id>/decision")
def decision(item_id: int) -> Response:
    """Approve, reject (with the rules broken) or escalate; then on to the next item."""
    me = current()
    filters = filters_from(request.form)
    action = request.form.get("decision", "")
    note = request.form.get("note", "")
    with session_scope() as session:
        if action == "escalate":
            escalate(session, item_id, me.site_ids, me.actor, note=note)
            made = None
        elif action in OUTCOME_LABELS:
            rules = request.form.getlist("rules") if action == "reject" else []
            made = decide(session, item_id, me.site_ids, me.actor, action, rules, note=note,
                          senior=me.senior)
        else:
            raise Invalid("the decision is approve, reject or escalate", field="decision")
        site = session.get_one(Site, session.get_one(ReviewItem, item_id).site_id)
        site_id, site_name = site.id, site.name
    if made is None:
        flash("Escalated to a senior moderator.", "info")
    else:
        # Offered on the next page only, with its own form: "press u to undo".
        web_session["undo"] = {"id": made.id, "label": OUTCOME_LABELS[action]}
    return redirect(next_url(me, site_id, site_name, filters, skip=(item_id,)), 303)


@bp.post("/items/<int:item_id>/release")
def release_item(item_id: int) -> Response:
    """Let go of the item (others may take it) and move on: to another item or the queue.
    Used by next/previous/back so merely looking at comments does not lock them."""
    me = current()
    filters = filters_from(request.form)
    with session_scope() as session:
        release(session, item_id, me.site_ids, me.actor)
        site_name = session.get_one(Site, session.get_one(ReviewItem, item_id).site_id).name
    target = request.form.get("to", "")
    if target.isdigit():
        return redirect(url_for("moderate.item", item_id=int(target), **filter_args(filters)),
                        303)
    return redirect(url_for("moderate.queue", site=site_name, **filter_args(filters)), 303)


@bp.post("/items/<int:item_id>/renew")
def renew(item_id: int) -> tuple[str, int]:
    """The open page's heartbeat (sent by queue.js with the CSRF header): keep the lease
    while the moderator is still reading, so a long thread does not lose it."""
    me = current()
    with session_scope() as session:
        claim(session, item_id, me.site_ids, me.actor, senior=me.senior)
    return "", 204


@bp.post("/decisions/<int:decision_id>/undo")
def undo_decision(decision_id: int) -> Response:
    me = current()
    filters = filters_from(request.form)
    with session_scope() as session:
        reopened = undo(session, decision_id, me.site_ids, me.actor, senior=me.senior)
        item_id = reopened.id
        moving_from = request.form.get("release", "")
        if moving_from.isdigit() and int(moving_from) != item_id:
            # Undone from the next comment's page: let that one go, she is going back.
            release(session, int(moving_from), me.site_ids, me.actor)
    web_session.pop("undo", None)
    flash("Undone: the comment is back in review, and held for you.", "info")
    return redirect(url_for("moderate.item", item_id=item_id, **filter_args(filters)), 303)


@bp.post("/authors/<int:author_id>/action")
def author(author_id: int) -> Response:
    me = current()
    action = request.form.get("action", "")
    raw_days = request.form.get("days", "0").strip() or "0"
    if not raw_days.isdigit():
        raise Invalid("the number of days is a whole number", field="days")
    days = int(raw_days) if action == "suspend" else 0
    with session_scope() as session:
        changed = author_action(session, me.site_ids, author_id, action, me.actor, days=days,
                                note=request.form.get("note", ""))
        name = changed.name or changed.external_id
    done = {"warn": "warned", "premoderate": "pre-moderated", "suspend": f"suspended for {days} "
            "days", "ban": "banned", "restore": "restored"}
    flash(f"{name} {done[action]}.", "info")
    back = request.form.get("item", "")
    if back.isdigit():
        return redirect(url_for("moderate.item", item_id=int(back)), 303)
    return redirect(url_for("moderate.queue"), 303)
