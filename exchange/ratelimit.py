"""Per-UID, per-endpoint rolling one-second rate limits at Bybit's published V5 rates, and
the values of the X-Bapi-Limit* headers.

State invariant: `_hits[(uid, path)]` holds only the real-time stamps (ms) of accepted calls
inside the last window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW_MS = 1000

# Requests per second per UID: Bybit V5 "Rate Limit Rules", API rate limit table, linear
# category (https://bybit-exchange.github.io/docs/v5/rate-limit).
LIMITS: dict[str, int] = {
    "/v5/order/create": 10,
    "/v5/order/amend": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 10,
    "/v5/order/realtime": 50,
    "/v5/order/history": 50,
    "/v5/execution/list": 50,
    "/v5/position/list": 50,
    "/v5/position/set-leverage": 10,
    "/v5/position/trading-stop": 10,
    "/v5/account/wallet-balance": 50,
    "/v5/account/fee-rate": 5,
    "/v5/position/closed-pnl": 50,
    "/v5/position/switch-mode": 10,
    "/v5/account/info": 50,
    "/v5/account/set-margin-mode": 5,
    "/v5/user/query-api": 10,
    "/v5/asset/coin/query-info": 5,
}
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> dict[str, str]:
        return {
            "X-Bapi-Limit": str(self.limit),
            "X-Bapi-Limit-Status": str(self.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(self.reset_ms),
        }


class RateLimiter:
    """Rolling-window counter keyed by (uid, endpoint path)."""

    def __init__(self) -> None:
        self._hits: dict[tuple[int, str], deque[int]] = {}

    def hit(self, uid: int, path: str, now_ms: int) -> Verdict:
        limit = LIMITS.get(path, DEFAULT_LIMIT)
        hits = self._hits.setdefault((uid, path), deque())
        while hits and hits[0] <= now_ms - WINDOW_MS:
            hits.popleft()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now_ms)
        reset = hits[0] + WINDOW_MS if hits else now_ms + WINDOW_MS
        return Verdict(allowed, limit, max(0, limit - len(hits)), reset)

    def clear(self) -> None:
        self._hits.clear()
