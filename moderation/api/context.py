"""Request helpers shared by the blueprints: settings, the caller, the parsed body."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from celery import Celery
from flask import current_app, g, request
from pydantic import BaseModel

from moderation.config import Settings
from moderation.db import session_scope
from moderation.errors import Forbidden, ServiceError
from moderation.services.keys import Principal, authenticate
from moderation.services.ratelimit import limiter_for

if TYPE_CHECKING:
    from moderation.classifier import Scorer

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    return current_app.extensions["moderation.settings"]


def celery() -> Celery:
    return current_app.extensions["celery"]


def principal() -> Principal:
    return g.principal


_scorer_lock = threading.Lock()


def scorer() -> Scorer:
    """The classifier, loaded once per web process on first use (Perspective-style calls score
    in the request; everything else leaves scoring to the workers)."""
    loaded = current_app.extensions.get("moderation.scorer")
    if loaded is None:
        with _scorer_lock:
            loaded = current_app.extensions.get("moderation.scorer")
            if loaded is None:
                from moderation.classifier import load_scorer

                loaded = load_scorer(settings().model_dir)
                current_app.extensions["moderation.scorer"] = loaded
    return loaded


def _raw_key(query_key: bool) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    key = request.headers.get("X-Api-Key")
    if key is None and query_key:
        # Perspective clients send ``?key=`` (Coral) or Google's ``X-Goog-Api-Key`` header.
        key = request.headers.get("X-Goog-Api-Key") or request.args.get("key")
    return key


def require_key(scope: str, query_key: bool = False) -> Callable[[F], F]:
    """The view needs a valid API key of a site, with ``scope``. ``query_key`` also accepts
    the key where Perspective clients put it; only the Perspective-compatible views allow it,
    since a key in a URL ends up in access logs."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with session_scope() as session:
                caller = authenticate(session, _raw_key(query_key))
            if scope not in caller.scopes:
                raise Forbidden(f"this key lacks the '{scope}' scope", field="Authorization")
            config = settings()
            limiter_for(config.redis_url).hit(f"key:{caller.key_prefix}",
                                              config.rate_limit_per_key, "requests with this key")
            g.principal = caller
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


class BadBody(ServiceError):
    status = 400
    code = "bad_request"


def json_body() -> Any:
    if not request.is_json:
        raise BadBody("send a JSON body with Content-Type: application/json", field="body")
    body = request.get_json(silent=True)
    if body is None:
        raise BadBody("the body is not valid JSON", field="body")
    return body


def parse(model: type[M]) -> M:
    """Validate the JSON body; pydantic errors become a 422 naming the field at fault."""
    body = json_body()
    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object", field="body")
    return model.model_validate(body)


def limit_reporter(site_id: int, reporter_id: str) -> None:
    """Reports a minute per reader of a site: one reader cannot flood the queue."""
    config = settings()
    limiter_for(config.redis_url).hit(f"reporter:{site_id}:{reporter_id}",
                                      config.rate_limit_per_reporter, "reports by this reader",
                                      field="reporter_id")
