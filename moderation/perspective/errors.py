"""Errors in the shape Google APIs (and so Perspective clients) expect::

    {"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT",
               "details": [{"@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
                            "errorType": "COMMENT_EMPTY"}]}}

The ``errorType`` values are Perspective's documented ones; ``field`` is our addition (the
request field at fault), which Google clients ignore.
"""

from __future__ import annotations

from typing import Any

ERROR_TYPE_URL = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
           404: "NOT_FOUND", 405: "INVALID_ARGUMENT", 413: "INVALID_ARGUMENT",
           415: "INVALID_ARGUMENT", 422: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED",
           500: "INTERNAL", 503: "UNAVAILABLE"}


class PerspectiveError(Exception):
    """A request Perspective would refuse, with its error type."""

    def __init__(self, message: str, error_type: str = "INVALID_REQUEST", field: str | None = None,
                 status: int = 400, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.field = field
        self.status = status
        self.detail = detail


def error_body(status: int, message: str, error_type: str | None = None,
               field: str | None = None, **detail: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": 400 if status == 422 else status, "message": message,
                             "status": _STATUS.get(status, "INVALID_ARGUMENT")}
    if error_type:
        error["details"] = [{"@type": ERROR_TYPE_URL, "errorType": error_type, **detail}]
    if field:
        error["field"] = field
    return {"error": error}
