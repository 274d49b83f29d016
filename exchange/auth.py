"""Bybit V5 request authentication: HMAC-SHA256 signatures of REST calls and of the private
WebSocket `auth` op, with the receive-window rule Bybit applies.

REST: sign = hex(HMAC_SHA256(secret, timestamp + api_key + recv_window + payload)) where
payload is the raw query string of a GET or the raw body of a POST. The request is accepted
when server_time - recv_window <= timestamp < server_time + 1000.
WebSocket: signature = hex(HMAC_SHA256(secret, "GET/realtime" + expires)), expires in ms.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Protocol

from exchange.errors import ApiError

DEFAULT_RECV_WINDOW = 5000
FUTURE_TOLERANCE_MS = 1000


class KeyLookup(Protocol):
    def secret_for(self, api_key: str) -> str | None: ...


def sign(secret: str, message: str) -> str:
    """Hex HMAC-SHA256 of `message` under `secret`."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_rest(
    headers: Mapping[str, str],
    payload: str,
    keys: KeyLookup,
    now_ms: int,
    market_ms: int | None = None,
) -> str:
    """Check a signed REST request; returns its API key or raises ApiError like Bybit.

    The receive window is judged against `now_ms`, the real clock clients sign with; a
    timestamp inside the window of `market_ms` (the exchange's market clock, what
    /v5/market/time answers) is accepted too, for clients that sync their signing clock to
    the server's time as Bybit recommends."""
    api_key = headers.get("x-bapi-api-key", "")
    timestamp = headers.get("x-bapi-timestamp", "")
    signature = headers.get("x-bapi-sign", "")
    recv_window = headers.get("x-bapi-recv-window", "") or str(DEFAULT_RECV_WINDOW)
    if not api_key or not signature or not timestamp:
        raise ApiError(10003, "API key is invalid.")
    secret = keys.secret_for(api_key)
    if secret is None:
        raise ApiError(10003, "API key is invalid.")
    if not timestamp.isdigit() or not recv_window.isdigit():
        raise ApiError(10001, "params error: timestamp and recv_window must be integers")
    ts, window = int(timestamp), int(recv_window)
    clocks = (now_ms,) if market_ms is None else (now_ms, market_ms)
    if not any(now - window <= ts < now + FUTURE_TOLERANCE_MS for now in clocks):
        raise ApiError(
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{ts}],server_timestamp[{now_ms}],recv_window[{window}]",
        )
    origin = f"{timestamp}{api_key}{recv_window}{payload}"
    if not hmac.compare_digest(sign(secret, origin), signature.lower()):
        raise ApiError(10004, f"error sign! origin_string[{origin}]")
    return api_key


MARKET_EXPIRY_AHEAD_MS = 3_600_000


def _unexpired(expires: int, now_ms: int, market_ms: int | None) -> bool:
    """`expires` is after the real clock, or - for a client synced to the market clock - after
    the market clock but not absurdly far ahead of it (so a stale real-clock `expires` is
    still refused while the market clock lags behind the real one)."""
    if expires > now_ms:
        return True
    return market_ms is not None and market_ms < expires <= market_ms + MARKET_EXPIRY_AHEAD_MS


def verify_ws_auth(args: list, keys: KeyLookup, now_ms: int, market_ms: int | None = None) -> str:
    """Check the args of a private WebSocket `auth` op; returns the API key or raises
    ApiError with the message Bybit puts in `ret_msg`. Clocks as in `verify_rest`."""
    if len(args) != 3:
        raise ApiError(10001, "Params Error")
    api_key, expires, signature = str(args[0]), str(args[1]), str(args[2])
    secret = keys.secret_for(api_key)
    if secret is None:
        raise ApiError(10003, "Invalid apikey")
    if not expires.lstrip("-").isdigit() or not _unexpired(int(expires), now_ms, market_ms):
        raise ApiError(10002, "Params Error: request expired")
    if not hmac.compare_digest(sign(secret, f"GET/realtime{expires}"), signature.lower()):
        raise ApiError(10004, "Invalid sign")
    return api_key
