"""The errors a function may raise; each maps to one HTTP status and a stable `code`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the caller is meant to see: status, a stable code, a message, maybe a field."""

    status = 500
    code = "internal"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Contention(Conflict):
    """A mutation that kept losing to concurrent writes: the same call may succeed later."""


class TooManyRequests(ApiError):
    status, code = 429, "rate_limited"


class Unavailable(ApiError):
    """Something outside plutarc (an exchange) could not be reached or answered badly."""

    status, code = 503, "unavailable"


class RequestTimeout(ApiError):
    status, code = 408, "timeout"


class TooLarge(ApiError):
    status, code = 413, "too_large"
