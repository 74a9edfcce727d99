"""Perspective API's endpoints, so a site moves by changing one URL.

``POST /v1alpha1/comments:analyze`` and ``POST /v1alpha1/comments:suggestscore`` take
Perspective's request bodies and answer in its shapes, errors included (Google's error
envelope). The key may come as ``?key=``, as Perspective clients send it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from moderation.api.context import json_body, principal, require_key, scorer, settings
from moderation.api.errors import field_path
from moderation.errors import ServiceError
from moderation.perspective.errors import PerspectiveError, error_body
from moderation.perspective.schemas import AnalyzeCommentRequest, SuggestCommentScoreRequest
from moderation.services.analyze import analyze_comment, suggest_score

bp = Blueprint("perspective", __name__, url_prefix="/v1alpha1")

COMMENT_ID_HEADER = "X-Moderation-Comment-Id"


def _body(model: type[Any]) -> Any:
    body = json_body()
    if not isinstance(body, dict):
        raise PerspectiveError("Invalid JSON payload received: the body must be an object.",
                               field="body")
    return model.model_validate(body)


@bp.post("/comments:analyze")
@require_key("submit", query_key=True)
def analyze() -> ResponseReturnValue:
    request_body = _body(AnalyzeCommentRequest)
    caller = principal()
    result = analyze_comment(caller.site_id, request_body, scorer(), settings().max_text_chars,
                             actor=f"perspective:{caller.key_prefix}")
    response = jsonify(result.response)
    if result.comment_id:
        response.headers[COMMENT_ID_HEADER] = result.comment_id
    return response


@bp.post("/comments:suggestscore")
@require_key("submit", query_key=True)
def suggestscore() -> ResponseReturnValue:
    request_body = _body(SuggestCommentScoreRequest)
    return jsonify(suggest_score(principal().site_id, request_body, settings().max_text_chars))


def _google(status: int, message: str, error_type: str | None = None, field: str | None = None,
            **detail: Any) -> Response:
    response = jsonify(error_body(status, message, error_type, field, **detail))
    response.status_code = 400 if status == 422 else status
    return response


@bp.errorhandler(PerspectiveError)
def _perspective_error(exc: PerspectiveError) -> Response:
    return _google(exc.status, exc.message, exc.error_type, exc.field, **exc.detail)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    response = _google(exc.status, exc.message, None, exc.field)
    response.headers.update(getattr(exc, "headers", {}))
    return response


@bp.errorhandler(ValidationError)
def _validation_error(exc: ValidationError) -> Response:
    first = exc.errors()[0]
    where = field_path(first["loc"])
    return _google(400, f"Invalid JSON payload received. {where}: {first['msg']}",
                   "INVALID_REQUEST", where)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 413:
        return _google(413, "Comment text too long.", "COMMENT_TOO_LONG", "body")
    return _google(status, exc.description or exc.name)
