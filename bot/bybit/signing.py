"""Bybit V5 HMAC-SHA256 signatures for REST requests and the private WebSocket `auth` op.

REST: sign ``timestamp + api_key + recv_window + payload`` where payload is the exact query
string of a GET or the exact JSON body of a POST. WebSocket: sign ``"GET/realtime" + expires``.
Secrets never appear in a repr, a log line or an exception message.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

DEFAULT_RECV_WINDOW_MS = 5000


@dataclass(frozen=True)
class Credentials:
    """An API key pair; the secret is hidden from repr so it cannot leak through logging."""

    api_key: str
    api_secret: str = field(repr=False)


def sign(secret: str, timestamp_ms: int, api_key: str, recv_window_ms: int, payload: str) -> str:
    """The lowercase hex HMAC-SHA256 Bybit expects in ``X-BAPI-SIGN``."""
    message = f"{timestamp_ms}{api_key}{recv_window_ms}{payload}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def rest_headers(
    creds: Credentials,
    payload: str,
    timestamp_ms: int,
    recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
) -> dict[str, str]:
    """Authentication headers for one private REST call whose payload is ``payload``."""
    return {
        "X-BAPI-API-KEY": creds.api_key,
        "X-BAPI-TIMESTAMP": str(timestamp_ms),
        "X-BAPI-RECV-WINDOW": str(recv_window_ms),
        "X-BAPI-SIGN": sign(creds.api_secret, timestamp_ms, creds.api_key, recv_window_ms, payload),
    }


def ws_auth_args(creds: Credentials, expires_ms: int) -> list[str | int]:
    """The ``args`` of the private WebSocket ``{"op": "auth"}`` message."""
    signature = hmac.new(
        creds.api_secret.encode(), f"GET/realtime{expires_ms}".encode(), hashlib.sha256
    ).hexdigest()
    return [creds.api_key, expires_ms, signature]
