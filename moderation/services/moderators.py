"""Moderator accounts: Argon2id password hashes, roles, the sites each one works for.

Why argon2-cffi: Argon2id is the password hash OWASP recommends first; the library is the
maintained binding of the reference implementation, and its hash strings carry their own
parameters, so they can be raised later and old hashes re-hashed on the next login.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.entities import Moderator, ModeratorRole
from moderation.errors import Conflict, Invalid, Unauthorised
from moderation.services.sites import get_or_create_site

__all__ = ["MIN_PASSWORD", "ModeratorView", "authenticate_moderator", "create_moderator",
           "moderator_view"]

MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Checked when the username is unknown, so both cases cost one Argon2 verification.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class ModeratorView:
    """What a request knows about the signed-in moderator."""

    id: int
    username: str
    display_name: str
    role: str
    site_ids: tuple[int, ...]
    sections: tuple[str, ...]

    @property
    def senior(self) -> bool:
        return self.role in (ModeratorRole.SENIOR.value, ModeratorRole.ADMIN.value)

    @property
    def admin(self) -> bool:
        return self.role == ModeratorRole.ADMIN.value

    @property
    def actor(self) -> str:
        return f"moderator:{self.username}"


def moderator_view(moderator: Moderator) -> ModeratorView:
    return ModeratorView(moderator.id, moderator.username,
                         moderator.display_name or moderator.username, moderator.role.value,
                         tuple(sorted(s.id for s in moderator.sites)),
                         tuple(moderator.sections or ()))


def create_moderator(session: Session, username: str, password: str, sites: Sequence[str],
                     role: str = "moderator", display_name: str = "",
                     sections: Sequence[str] = ()) -> Moderator:
    username = username.strip().lower()
    if not username:
        raise Invalid("a username is required", field="username")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    if role not in {r.value for r in ModeratorRole}:
        raise Invalid(f"role must be one of {', '.join(r.value for r in ModeratorRole)}",
                      field="role")
    if not sites:
        raise Invalid("a moderator works for at least one site", field="sites")
    if session.scalar(select(Moderator).where(Moderator.username == username)) is not None:
        raise Conflict(f"the username {username!r} is taken", field="username")
    moderator = Moderator(username=username, display_name=display_name or username,
                          password_hash=_hasher.hash(password), role=ModeratorRole(role),
                          sections=[s.strip().lower() for s in sections if s.strip()])
    moderator.sites = [get_or_create_site(session, name) for name in sites]
    session.add(moderator)
    session.flush()
    return moderator


def authenticate_moderator(session: Session, username: str, password: str) -> ModeratorView:
    """The moderator for these credentials, or Unauthorised (the same for either mistake)."""
    moderator = session.scalar(select(Moderator).where(
        Moderator.username == username.strip().lower()))
    stored = moderator.password_hash if moderator is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
        ok = moderator is not None and moderator.disabled_at is None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or moderator is None:
        raise Unauthorised("wrong username or password", field="password")
    if _hasher.check_needs_rehash(moderator.password_hash):
        moderator.password_hash = _hasher.hash(password)
    return moderator_view(moderator)
