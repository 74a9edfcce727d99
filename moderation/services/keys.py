"""API keys: created once and shown once, stored as a SHA-256 hash, checked in constant time.

A key reads ``mod_<prefix>_<secret>``. The prefix finds the row without revealing anything;
the secret is 256 random bits, so a fast hash is enough (no KDF needed, unlike passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.entities import ApiKey
from moderation.errors import Unauthorised
from moderation.services.sites import get_or_create_site

ALL_SCOPES = ("submit", "read", "moderate", "admin")
_PREFIX_BYTES = 6


@dataclass(frozen=True)
class Principal:
    """Who is calling: a site's key."""

    site_id: int
    key_prefix: str
    scopes: tuple[str, ...]


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_key(session: Session, site_name: str, name: str = "",
               scopes: tuple[str, ...] = ALL_SCOPES) -> str:
    """Create a key for ``site_name`` (creating the site if needed); returns the raw key."""
    site = get_or_create_site(session, site_name)
    prefix = secrets.token_hex(_PREFIX_BYTES)
    raw = f"mod_{prefix}_{secrets.token_urlsafe(32)}"
    session.add(ApiKey(site_id=site.id, prefix=prefix, secret_hash=_hash(raw), name=name,
                       scopes=list(scopes)))
    session.flush()
    return raw


def authenticate(session: Session, raw_key: str | None) -> Principal:
    """The principal for a raw key, or Unauthorised. Same work for unknown and wrong keys."""
    if not raw_key:
        raise Unauthorised("an API key is required: send 'Authorization: Bearer <key>'",
                           field="Authorization")
    parts = raw_key.strip().split("_", 2)
    prefix = parts[1] if len(parts) == 3 and parts[0] == "mod" else ""
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
    expected = key.secret_hash if key is not None else _hash("no-such-key")
    matches = hmac.compare_digest(expected, _hash(raw_key.strip()))
    if key is None or not matches or key.revoked_at is not None:
        raise Unauthorised("the API key is not valid", field="Authorization")
    return Principal(site_id=key.site_id, key_prefix=key.prefix, scopes=tuple(key.scopes))


def list_keys(session: Session, site_name: str) -> list[ApiKey]:
    from moderation.entities import Site

    site = session.scalar(select(Site).where(Site.name == site_name))
    if site is None:
        return []
    return list(session.scalars(select(ApiKey).where(ApiKey.site_id == site.id)
                                .order_by(ApiKey.id)))


def revoke_key(session: Session, prefix: str) -> ApiKey:
    """Revoke a key by its public prefix (``mod_<prefix>_...``); it stops working at once."""
    from moderation.entities import utcnow
    from moderation.errors import NotFound

    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"no key with prefix {prefix!r}", field="prefix")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
