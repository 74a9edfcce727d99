"""Audit events: every change, written in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from moderation.entities import AuditEvent


def record(session: Session, *, site_id: int, kind: str, actor: str,
           comment_id: int | None = None, **data: Any) -> AuditEvent:
    event = AuditEvent(site_id=site_id, comment_id=comment_id, kind=kind, actor=actor, data=data)
    session.add(event)
    return event
