"""One place that turns errors into JSON: {"error", "message", "field", "details"}."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from moderation.errors import ServiceError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, field: str | None = None,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": code, "message": message, "field": field}
    if details:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_path(loc: tuple[int | str, ...]) -> str:
    """('comments', 3, 'article', 'id') → 'comments[3].article.id'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def register(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="moderation"'} if exc.status == 401 else None
        headers = {**(headers or {}), **getattr(exc, "headers", {})} or None
        return error_response(exc.status, exc.code, exc.message, exc.field, headers=headers)

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError) -> Response:
        details = [{"field": field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        first = details[0]
        return error_response(422, "validation_error", f"{first['field']}: {first['message']}",
                              first["field"], details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        field = "body" if status == 413 else None
        message = exc.description or exc.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"the request body is larger than the limit of {limit} bytes"
        code = exc.name.lower().replace(" ", "_")
        return error_response(status, code, message, field)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred; it is logged")
