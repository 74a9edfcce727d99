"""Liveness and readiness probes.

They answer without a key (load balancers and orchestrators call them) and reveal
nothing but up/down per dependency.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from moderation.api.context import celery
from moderation.db import session_scope

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    body = {"status": "ready" if ready else "unavailable",
            "checks": {name: "ok" if ok else "down" for name, ok in checks.items()}}
    return jsonify(body), 200 if ready else 503


def _database_ok() -> bool:
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: database check failed: %s", exc)
        return False


def _broker_ok() -> bool:
    try:
        with celery().connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception as exc:  # noqa: BLE001
        log.warning("readiness: broker check failed: %s", exc)
        return False
