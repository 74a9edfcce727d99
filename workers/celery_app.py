"""The Celery application, configured from the same settings as the API.

``celery -A workers.celery_app worker`` finds ``app`` here. Building it reads the
environment but opens no connection and loads no model.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from moderation.config import Settings


def broker_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_url.startswith(("redis://", "rediss://")):
        return {
            # A message a dead worker took is redelivered after this; the sweeper is faster.
            "visibility_timeout": 3600,
            "socket_connect_timeout": settings.broker_publish_timeout_seconds,
            # Without a cap kombu retries a lost connection forever when publishing.
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        }
    return {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def make_celery(settings: Settings) -> Celery:
    celery = Celery("moderation", broker=settings.broker_url, include=["workers.tasks"])
    celery.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        # A worker process that dies mid-task gives its message back to the queue.
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options=broker_options(settings),
        worker_hijack_root_logger=False,
        beat_schedule={
            "sweep-pending": {
                "task": "moderation.sweep_pending",
                "schedule": settings.sweep_interval_seconds,
            },
            "send-webhooks": {
                "task": "moderation.dispatch_webhooks",
                "schedule": settings.webhook_interval_seconds,
            },
        },
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
    )
    celery.conf.moderation_settings = settings
    return celery


def settings_of(celery: Celery) -> Settings:
    settings = celery.conf.get("moderation_settings")
    if settings is None:
        raise RuntimeError("Celery app was not built by make_celery()")
    return settings


app = make_celery(Settings.from_env())

