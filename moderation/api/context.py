"""Request helpers shared by the blueprints: settings, the caller, the parsed body."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from celery import Celery
from flask import current_app, g, request
from pydantic import BaseModel

from moderation.config import Settings
from moderation.db import session_scope
from moderation.errors import Forbidden, ServiceError
from moderation.services.keys import Principal, authenticate

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    return current_app.extensions["moderation.settings"]


def celery() -> Celery:
    return current_app.extensions["celery"]


def principal() -> Principal:
    return g.principal


def _raw_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-Api-Key")


def require_key(scope: str) -> Callable[[F], F]:
    """The view needs a valid API key of a site, with ``scope``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with session_scope() as session:
                caller = authenticate(session, _raw_key())
            if scope not in caller.scopes:
                raise Forbidden(f"this key lacks the '{scope}' scope", field="Authorization")
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
