"""HTTP API blueprints (the integration contract, v1)."""

from __future__ import annotations

from flask import Flask, request

from moderation.errors import Invalid, NotFound
from moderation.schemas import unstorable_reason

# Our ids are the database's INTEGER: a larger one in a path names nothing.
LARGEST_ID = 2**31 - 1


def refuse_unstorable_url() -> None:
    """Path and query values are looked up in the database: one it could not hold is
    refused here (422 naming the parameter, or 404 for an id out of range) rather than
    failing there."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and not 0 <= value <= LARGEST_ID:
            raise NotFound(f"no {name.replace('_', ' ')} {value}", field=name)
    named = [*(request.view_args or {}).items(), *request.args.items(multi=True)]
    for name, value in named:
        reason = isinstance(value, str) and unstorable_reason(value)
        if reason:
            raise Invalid(f"{name} {reason}", field=name)


def register_api(app: Flask) -> None:
    from moderation.api import (
        comments,
        coral,
        deliveries,
        errors,
        health,
        openapi,
        perspective,
        reports,
        review,
        rules,
        webhooks,
    )

    errors.register(app)
    app.before_request(refuse_unstorable_url)
    app.register_blueprint(health.bp)
    app.register_blueprint(comments.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(rules.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(perspective.bp)
    app.register_blueprint(coral.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(deliveries.bp)
