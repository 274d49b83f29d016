"""Typed failures of a Bybit call, and the retCodes the bot acts on.

Every failure says whether the request may have reached the exchange (`ambiguous`): only an
ambiguous failure of an order creation needs a lookup before anything else is tried.
"""

from __future__ import annotations

from bot.venue import VenueError

TIMESTAMP_OUT_OF_WINDOW = 10002
BAD_SIGNATURE = 10004
TOO_MANY_VISITS = 10006
SERVER_ERROR = 10016
ORDER_NOT_FOUND = 110001
DUPLICATE_ORDER_LINK_ID = 110072
PARAMETER_ERROR = 10001  # among others: a TP/SL on the wrong side of the last price
REDUCE_ONLY_NO_POSITION = 110017
LEVERAGE_NOT_MODIFIED = 110043
TPSL_NOT_MODIFIED = 34040


class BybitError(VenueError):
    """Base of every failure raised by the Bybit client (a `bot.venue.VenueError`)."""

    ambiguous = False


class ApiError(BybitError):
    """The exchange answered with a non-zero retCode."""

    def __init__(self, path: str, ret_code: int, ret_msg: str) -> None:
        super().__init__(f"{path}: retCode {ret_code} {ret_msg!r}")
        self.path = path
        self.ret_code = ret_code
        self.ret_msg = ret_msg
        # 10016 is "server error": the exchange may or may not have acted on the request.
        self.ambiguous = ret_code == SERVER_ERROR


class HttpStatusError(BybitError):
    """A non-2xx HTTP answer without a usable Bybit envelope; 5xx may hide an executed call."""

    def __init__(self, path: str, status: int) -> None:
        super().__init__(f"{path}: HTTP {status}")
        self.path = path
        self.status = status
        self.ambiguous = status >= 500


class TransportError(BybitError):
    """The connection failed or timed out; `ambiguous` when the request may have been sent."""

    def __init__(self, path: str, cause: Exception, *, ambiguous: bool) -> None:
        super().__init__(f"{path}: {type(cause).__name__}")
        self.path = path
        self.ambiguous = ambiguous
