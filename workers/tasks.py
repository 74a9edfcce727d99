"""Celery tasks: thin shells around services, each opening its own session.

Retried with exponential backoff; idempotent, so a redelivered or duplicated task is
harmless. The classifier is loaded once per worker process, on first use.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from moderation.db import ensure_engine
from moderation.services import dispatch, scoring
from workers.celery_app import app, settings_of

if TYPE_CHECKING:
    from moderation.classifier import Scorer

log = logging.getLogger(__name__)


@cache
def scorer() -> Scorer:
    from moderation.classifier import load_scorer

    settings = settings_of(app)
    loaded = load_scorer(settings.model_dir)
    log.info("loaded model %s", loaded.version)
    return loaded


@app.task(
    name=dispatch.SCORE_TASK,
    autoretry_for=(DatabaseUnavailable, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=20,
)
def score_comments(comment_ids: list[int]) -> int:
    """Score these pending comments (and others, when the queue is deep)."""
    settings = settings_of(app)
    ensure_engine(settings.database_url)
    return len(scoring.score_pending(comment_ids, scorer(), settings.score_batch_size))


@app.task(name="moderation.sweep_pending", acks_late=False)
def sweep_pending() -> int:
    """Periodic: re-enqueue comments left pending too long (lost message, broker outage)."""
    settings = settings_of(app)
    ensure_engine(settings.database_url)
    return dispatch.sweep(app, settings.pending_grace_seconds, settings.score_batch_size)


@app.task(name="moderation.dispatch_webhooks", acks_late=False)
def dispatch_webhooks() -> int:
    """Periodic: new events become deliveries; due deliveries are handed to workers."""
    from moderation.db import session_scope
    from moderation.services import webhooks_out

    settings = settings_of(app)
    ensure_engine(settings.database_url)
    with session_scope() as session:
        webhooks_out.fan_out(session)
    with session_scope() as session:
        due = webhooks_out.take_due(session)
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)


@app.task(name="moderation.deliver_webhook", autoretry_for=(DatabaseUnavailable,),
          retry_backoff=2, max_retries=5)
def deliver_webhook(delivery_id: int) -> str | None:
    """Post one event to one endpoint; failures are rescheduled in the delivery log itself."""
    from moderation.db import session_scope
    from moderation.services import webhooks_out

    settings = settings_of(app)
    ensure_engine(settings.database_url)
    with session_scope() as session:
        return webhooks_out.deliver(session, delivery_id, settings.webhook_backoff_seconds,
                                    settings.webhook_max_attempts)
