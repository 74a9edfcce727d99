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
