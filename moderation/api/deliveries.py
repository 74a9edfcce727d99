"""The outbound webhook delivery log, and redelivery on request (``admin`` keys)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from moderation.api.context import principal, require_key
from moderation.db import session_scope
from moderation.entities import DeliveryState, WebhookDelivery
from moderation.errors import Invalid
from moderation.services import webhooks_out

bp = Blueprint("deliveries", __name__, url_prefix="/v1/webhook-deliveries")


@bp.get("")
@require_key("admin")
def list_deliveries() -> ResponseReturnValue:
    state = request.args.get("state", "")
    if state and state not in {s.value for s in DeliveryState}:
        raise Invalid("state is pending, delivered or dead", field="state")
    query = (select(WebhookDelivery).where(WebhookDelivery.site_id == principal().site_id)
             .order_by(WebhookDelivery.id.desc()).limit(200))
    if state:
        query = query.where(WebhookDelivery.state == DeliveryState(state))
    with session_scope() as session:
        rows = [{"id": d.id, "event_id": f"evt_{d.event_id}", "endpoint_id": d.endpoint_id,
                 "state": d.state.value, "attempts": d.attempts, "last_status": d.last_status,
                 "last_error": d.last_error, "next_attempt_at": d.next_attempt_at.isoformat(),
                 "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None}
                for d in session.scalars(query)]
    return jsonify({"deliveries": rows})


@bp.post("/<int:delivery_id>/redeliver")
@require_key("admin")
def redeliver(delivery_id: int) -> ResponseReturnValue:
    with session_scope() as session:
        webhooks_out.redeliver(session, principal().site_id, delivery_id)
    return jsonify({"id": delivery_id, "state": "pending"}), 202


@bp.post("/redeliver-dead")
@require_key("admin")
def redeliver_dead() -> ResponseReturnValue:
    with session_scope() as session:
        count = webhooks_out.redeliver(session, principal().site_id)
    return jsonify({"requeued": count}), 202
