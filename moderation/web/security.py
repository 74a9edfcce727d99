"""Who is signed in, CSRF, and the response headers of every page of the blueprint.

Why a signed cookie holding only the moderator's id: the moderator is loaded afresh on
every request, so a disabled or deleted account, or a site taken away, takes effect on the
next click rather than when a cookie carrying stale rights runs out. The cookie cannot be
revoked server-side, so it also carries when it was issued and is refused after
:data:`SESSION_MAX_AGE`.

Why a per-session CSRF token on top of SameSite=Lax: Lax still lets a same-site page
(another app on a sibling subdomain, an old browser) post a form; the token, compared in
constant time, is what proves the form came from our page.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from flask import Response, abort, g, redirect, request, url_for
from flask import session as web_session
from sqlalchemy.orm import selectinload

from moderation.db import session_scope
from moderation.entities import Moderator
from moderation.services.moderators import ModeratorView, moderator_view
from moderation.web.blueprint import bp

SESSION_MAX_AGE = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Endpoints a signed-out visitor may reach.
PUBLIC_ENDPOINTS = {"moderate.login", "moderate.static"}

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class SiteChoice:
    id: int
    name: str


def csrf_token() -> str:
    """This session's token, made on first use (the login form makes the first one)."""
    token = web_session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        web_session["csrf"] = token
    return str(token)


def start_session(moderator: ModeratorView) -> None:
    """Sign in: a fresh cookie with a new CSRF token, so nothing from before the login
    (a token a third party may have planted or read) carries over."""
    web_session.clear()
    web_session["moderator"] = moderator.id
    web_session["issued"] = int(time.time())
    web_session["csrf"] = secrets.token_urlsafe(32)


def end_session() -> None:
    web_session.clear()


def current() -> ModeratorView:
    """The signed-in moderator (every non-public view runs after :func:`_load_moderator`)."""
    return g.moderator


def my_sites() -> list[SiteChoice]:
    return g.moderator_sites


@bp.before_request
def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = str(web_session.get("csrf", ""))
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form had expired or did not come from this page. "
                               "Reload the page and try again.")


@bp.before_request
def _load_moderator() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    moderator_id = web_session.get("moderator")
    issued = int(web_session.get("issued", 0))
    found: tuple[ModeratorView, list[SiteChoice]] | None = None
    if moderator_id is not None and time.time() - issued < SESSION_MAX_AGE:
        with session_scope() as session:
            moderator = session.get(Moderator, moderator_id,
                                    options=[selectinload(Moderator.sites)])
            if moderator is not None and moderator.disabled_at is None:
                sites = [SiteChoice(s.id, s.name)
                         for s in sorted(moderator.sites, key=lambda s: s.name)]
                found = (moderator_view(moderator), sites)
    if found is None:
        end_session()
        if request.endpoint == "moderate.renew":  # the page's heartbeat, not a person
            abort(401)
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("moderate.login", next=target), 303)  # type: ignore[return-value]
    g.moderator, g.moderator_sites = found
    return None


@bp.after_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if request.endpoint != "moderate.static":
        # Pages show who holds what and may carry comment text: never from a cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of this page, never another host."""
    if target and target.startswith("/moderate/") and not target.startswith("//") \
            and "\\" not in target and "/moderate/login" not in target:
        return target
    return url_for("moderate.queue")
