"""Domain errors raised by services; one handler maps them to HTTP (api/errors.py)."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Invalid(ServiceError):
    status = 422
    code = "validation_error"


class Unauthorised(ServiceError):
    status = 401
    code = "unauthorised"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
