"""The one exception type that carries a Bybit retCode and retMsg to the REST or WS answer."""

from __future__ import annotations


class ApiError(Exception):
    """A refusal answered with Bybit's `retCode`/`retMsg` (HTTP 200, as Bybit does)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def params_error(detail: str) -> ApiError:
    return ApiError(10001, f"params error: {detail}")
