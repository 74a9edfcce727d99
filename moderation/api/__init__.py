"""HTTP API blueprints (the integration contract, v1)."""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    from moderation.api import (
        comments,
        coral,
        deliveries,
        errors,
        health,
        perspective,
        reports,
        review,
        rules,
        webhooks,
    )

    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(comments.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(rules.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(perspective.bp)
    app.register_blueprint(coral.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(deliveries.bp)
