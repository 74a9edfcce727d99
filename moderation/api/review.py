"""The review queue over JSON, for sites that build their own moderation tools.

The same queue, leases and decisions as the moderators' page, with a site's API key of the
``moderate`` scope. The person deciding is named in the body (``moderator``) and recorded as
``api:<key prefix>:<moderator>``, so the audit trail says who it was.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from moderation.api.context import parse, principal, require_key
from moderation.db import session_scope
from moderation.errors import Invalid
from moderation.schemas import ClaimIn, ReviewDecisionIn, UndoIn
from moderation.services import queue

bp = Blueprint("review", __name__, url_prefix="/v1/review-queue")


def _actor(moderator: str) -> str:
    return f"api:{principal().key_prefix}:{moderator}"


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def _entry(entry: queue.QueueEntry) -> dict[str, Any]:
    return {
        "item_id": entry.item_id, "comment_id": entry.comment_id, "text": entry.text,
        "rules": entry.rules, "scores": entry.scores, "priority": entry.priority,
        "story": {"title": entry.story_title, "tags": entry.story_tags},
        "author": entry.author, "reports": entry.reports,
        "waiting_minutes": entry.waiting_minutes, "escalated": entry.escalated,
        "leased_by": entry.leased_by,
    }


@bp.get("")
@require_key("moderate")
def list_queue() -> ResponseReturnValue:
    args = request.args
    try:
        limit = min(500, max(1, int(args.get("limit", "100"))))
    except ValueError as exc:
        raise Invalid("limit must be a whole number", field="limit") from exc
    filters = queue.QueueFilters(
        rule=args.get("rule", ""), story=args.get("story", ""),
        section=args.get("section", ""), author=args.get("author", ""),
        reported_only=_flag(args.get("reported")), search=args.get("q", ""),
        escalated_only=_flag(args.get("escalated")))
    with session_scope() as session:
        entries = queue.queue_entries(session, principal().site_id, filters, limit=limit)
    counts: dict[str, int] = {}
    for entry in entries:
        for rule in entry.rules:
            counts[rule] = counts.get(rule, 0) + 1
    return jsonify({"items": [_entry(e) for e in entries], "counts_by_rule": counts})


@bp.post("/<int:item_id>/claim")
@require_key("moderate")
def claim_item(item_id: int) -> ResponseReturnValue:
    body = parse(ClaimIn)
    with session_scope() as session:
        expires = queue.claim(session, item_id, (principal().site_id,), _actor(body.moderator),
                              senior=body.senior)
    return jsonify({"item_id": item_id, "leased_by": _actor(body.moderator),
                    "lease_expires_at": expires.isoformat()})


@bp.post("/<int:item_id>/decision")
@require_key("moderate")
def decide_item(item_id: int) -> ResponseReturnValue:
    body = parse(ReviewDecisionIn)
    site_ids = (principal().site_id,)
    actor = _actor(body.moderator)
    with session_scope() as session:
        if body.decision == "escalate":
            queue.escalate(session, item_id, site_ids, actor, body.note)
            return jsonify({"item_id": item_id, "decision": "escalate"})
        decision = queue.decide(session, item_id, site_ids, actor, body.decision, body.rules,
                                body.note, senior=body.senior)
        return jsonify({"item_id": item_id, "decision": body.decision,
                        "decision_id": decision.id, "rules": decision.rules})


@bp.post("/decisions/<int:decision_id>/undo")
@require_key("moderate")
def undo_decision(decision_id: int) -> ResponseReturnValue:
    body = parse(UndoIn)
    with session_scope() as session:
        item = queue.undo(session, decision_id, (principal().site_id,), _actor(body.moderator),
                          senior=body.senior)
        return jsonify({"decision_id": decision_id, "item_id": item.id, "status": "in_review"})
