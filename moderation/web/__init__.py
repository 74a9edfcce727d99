"""The moderators' web page: log in, work the review queue, decide, undo, see the trends.

Thin views over the service layer (``services.queue``, ``services.review_detail``,
``services.moderators``); HTML is rendered by Jinja with autoescaping and no inline script
or style, so the strict Content-Security-Policy in :mod:`moderation.web.security` holds.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask


def register_web(app: Flask) -> None:
    """Mount the page under /moderate and set the session cookie's flags."""
    # Importing the view modules attaches their routes to the blueprint.
    from moderation.web import admin, auth, dashboard, item_views, queue_views, security  # noqa: F401
    from moderation.web.blueprint import bp

    settings = app.extensions["moderation.settings"]
    app.config.update(
        SESSION_COOKIE_NAME="moderation_session",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: a link from elsewhere still arrives signed in, a cross-site POST does not.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=security.SESSION_MAX_AGE),
    )
    app.register_blueprint(bp)
