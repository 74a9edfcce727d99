"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from moderation import db
from moderation.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the API: settings, database, Celery wiring, blueprints, error handlers.

    Migrations are not run here: `moderation db upgrade` (or `moderation up`) does that.
    """
    from moderation.api import register_api
    from moderation.web import register_web
    from workers.celery_app import make_celery

    settings = settings or Settings.from_env()
    # No static route: every path the service answers is one of its endpoints.
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.extensions["moderation.settings"] = settings
    app.extensions["celery"] = make_celery(settings)
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db.init_engine(settings.database_url)
    register_api(app)
    register_web(app)
    if settings.preload_model:
        _warm_scorer(app)
    return app


def _warm_scorer(app: Flask) -> None:
    """Load the classifier in the background so the first synchronous score is fast; a
    request arriving meanwhile waits on the same lock rather than loading it twice."""
    import threading

    def load() -> None:
        from moderation.api.context import scorer

        with app.app_context():
            try:
                scorer()
            except Exception:  # the first request will raise it properly
                logging.getLogger(__name__).exception("could not preload the classifier")

    threading.Thread(target=load, name="preload-classifier", daemon=True).start()
