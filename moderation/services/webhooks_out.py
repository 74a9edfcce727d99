"""Outbound webhooks: decisions and author actions, signed, delivered at least once.

How nothing is lost: every change writes an audit event in its own transaction (the outbox).
:func:`fan_out` turns each new event of a kind the site hears about into one delivery row per
endpoint of that site and marks the event as fanned out, in one transaction. A delivery is
sent by :func:`deliver`, which holds the row's lock while it posts; a 2xx answer marks it
delivered, anything else schedules the next attempt with exponential backoff, and after
``max_attempts`` (:data:`MAX_ATTEMPTS` by default) it is dead until someone asks for a
redelivery. A worker that dies mid-post leaves the row pending, so the event is sent again:
at least once, never dropped.
The site de-duplicates on the event id (``X-Moderation-Event-Id``, also ``id`` in the body).

The body is signed like the inbound report webhook (``moderation.signing``):
``X-Moderation-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>." + body>``.
"""

from __future__ import annotations

import json
import random
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.entities import (
    AuditEvent,
    Comment,
    DeliveryState,
    Site,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from moderation.errors import Invalid, NotFound
from moderation.services.sites import get_or_create_site
from moderation.signing import SIGNATURE_HEADER, sign

__all__ = ["EVENT_TYPES", "MAX_ATTEMPTS", "HttpResult", "add_endpoint", "deliver",
           "fan_out", "redeliver", "take_due"]

# Audit event kinds a site hears about, and the type it receives.
EVENT_TYPES = {
    "comment.approved": "comment.approved",
    "comment.rejected": "comment.rejected",
    "comment.in_review": "comment.held",  # waiting for a moderator (hidden unless allowed)
    "comment.hidden": "comment.hidden",  # hidden by readers' reports until decided
    "decision.undone": "comment.restored",  # a moderator took a decision back
    "author.warn": "author.warned",
    "author.premoderate": "author.premoderated",
    "author.suspend": "author.suspended",
    "author.ban": "author.banned",
    "author.restore": "author.restored",
}
MAX_ATTEMPTS = 8
FAN_OUT_BATCH = 500
TIMEOUT_SECONDS = 10.0
ENQUEUED_GRACE = timedelta(seconds=60)
EVENT_ID_HEADER = "X-Moderation-Event-Id"


@dataclass(frozen=True)
class HttpResult:
    status: int | None  # None: no answer (refused, timed out)
    error: str = ""


Poster = Callable[[str, bytes, dict[str, str]], HttpResult]


def add_endpoint(session: Session, site_name: str, url: str) -> tuple[WebhookEndpoint, str]:
    """Register a URL for the site's events; returns (endpoint, signing secret)."""
    if not url.startswith(("https://", "http://")):
        raise Invalid("the webhook URL must be http(s)://", field="url")
    site = get_or_create_site(session, site_name)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(site_id=site.id, url=url, secret=secret)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def fan_out(session: Session, now: datetime | None = None) -> int:
    """Deliveries for new events (oldest first); returns how many were created."""
    now = now or utcnow()
    events = list(session.scalars(
        select(AuditEvent).where(AuditEvent.delivered_at.is_(None))
        .order_by(AuditEvent.id).limit(FAN_OUT_BATCH).with_for_update(skip_locked=True)))
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    created = 0
    for event in events:
        event.delivered_at = now  # fanned out (or nothing to send)
        if event.kind not in EVENT_TYPES:
            continue
        if event.site_id not in endpoints:
            endpoints[event.site_id] = list(session.scalars(select(WebhookEndpoint).where(
                WebhookEndpoint.site_id == event.site_id,
                WebhookEndpoint.disabled_at.is_(None))))
        for endpoint in endpoints[event.site_id]:
            session.add(WebhookDelivery(site_id=event.site_id, endpoint_id=endpoint.id,
                                        event_id=event.id, next_attempt_at=now))
            created += 1
    return created


def take_due(session: Session, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Due deliveries, each pushed :data:`ENQUEUED_GRACE` into the future so the next sweep
    does not enqueue it again while its task waits; a lost task is picked up after that."""
    now = now or utcnow()
    rows = list(session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.state == DeliveryState.PENDING,
                                      WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)
        .with_for_update(skip_locked=True)))
    for delivery in rows:
        delivery.next_attempt_at = now + ENQUEUED_GRACE
    return [d.id for d in rows]


def payload(session: Session, event: AuditEvent) -> dict[str, Any]:
    site = session.get_one(Site, event.site_id)
    body: dict[str, Any] = {
        "id": f"evt_{event.id}", "type": EVENT_TYPES[event.kind], "site": site.name,
        "created_at": event.created_at.isoformat(), "actor": event.actor,
        "data": dict(event.data or {}),
    }
    if event.comment_id is not None:
        comment = session.get_one(Comment, event.comment_id)
        body["comment"] = {"id": comment.external_id, "status": comment.status.value,
                           "visible": comment.visible}
    return body


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Exponential, with jitter so endpoints that fail together do not retry together."""
    return timedelta(seconds=base_seconds * (2 ** (attempts - 1)) * random.uniform(0.8, 1.2))


def deliver(session: Session, delivery_id: int, base_backoff_seconds: float,
            max_attempts: int = MAX_ATTEMPTS, post: Poster | None = None,
            now: datetime | None = None) -> str | None:
    """Send one pending delivery (unless another worker is sending it); its new state."""
    now = now or utcnow()
    delivery = session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.state == DeliveryState.PENDING,
    ).with_for_update(skip_locked=True))
    if delivery is None:
        return None
    endpoint = session.get_one(WebhookEndpoint, delivery.endpoint_id)
    event = session.get_one(AuditEvent, delivery.event_id)
    body = json.dumps(payload(session, event), separators=(",", ":")).encode()
    delivery.attempts += 1
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(endpoint.secret, body),
               EVENT_ID_HEADER: f"evt_{event.id}",
               "X-Moderation-Event-Type": EVENT_TYPES[event.kind],
               "X-Moderation-Delivery-Attempt": str(delivery.attempts)}
    result = (post or http_post)(endpoint.url, body, headers)
    delivery.last_status, delivery.last_error = result.status, result.error[:1000]
    if result.status is not None and 200 <= result.status < 300:
        delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, utcnow()
    elif delivery.attempts >= max_attempts:
        delivery.state = DeliveryState.DEAD
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts, base_backoff_seconds)
    return delivery.state.value


def http_post(url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
    # Only http(s) URLs are ever registered (add_endpoint checks), so urlopen's other
    # schemes (file:, ftp:) cannot be reached.
    request = urllib.request.Request(url, data=body, headers=headers,  # noqa: S310
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return HttpResult(response.status)
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        return HttpResult(None, str(exc))


def redeliver(session: Session, site_id: int | None, delivery_id: int | None = None,
              dead_only: bool = True) -> int:
    """Put deliveries back in the queue: one by id, or every dead one of a site."""
    query = select(WebhookDelivery)
    if delivery_id is not None:
        query = query.where(WebhookDelivery.id == delivery_id)
    elif dead_only:
        query = query.where(WebhookDelivery.state == DeliveryState.DEAD)
    if site_id is not None:
        query = query.where(WebhookDelivery.site_id == site_id)
    rows = list(session.scalars(query))
    if delivery_id is not None and not rows:
        raise NotFound("no such delivery")
    for delivery in rows:
        delivery.state, delivery.attempts = DeliveryState.PENDING, 0
        delivery.next_attempt_at = utcnow()
    return len(rows)
